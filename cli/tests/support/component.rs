//! A policy component for tests through the binary: `evaluate` denies once, with the input it
//! was given as the message, so a test reads what the policy saw. Built from WAT (the canonical
//! ABI by hand) and `stdlib/wit/policy.wit`.

#![allow(dead_code)]

use std::path::Path;

/// A policy component (WAT, the canonical ABI by hand) whose `evaluate` denies once, with the
/// input it was given as the message.
pub fn echo_component() -> Vec<u8> {
    // Static data from 1024: the strings, then `info` (3 strings), then the violation record
    // (address, message, severity deny, path none) and the `ok([violation])` return area.
    fn string(s: &str, data: &mut Vec<u8>) -> (u32, u32) {
        let at = 1024 + data.len() as u32;
        data.extend_from_slice(s.as_bytes());
        data.resize(data.len().next_multiple_of(8), 0);
        (at, s.len() as u32)
    }
    fn words(ws: &[u32], data: &mut Vec<u8>) -> u32 {
        let at = 1024 + data.len() as u32;
        ws.iter().for_each(|w| data.extend_from_slice(&w.to_le_bytes()));
        at
    }
    let mut data: Vec<u8> = Vec::new();
    let name = string("echo", &mut data);
    let version = string("1.0.0", &mut data);
    let address = string("stack", &mut data);
    let info = words(&[name.0, name.1, version.0, version.1, name.0, name.1], &mut data);
    let violation = words(&[address.0, address.1, 0, 0, 0, 0, 0, 0], &mut data);
    let ok = words(&[0, violation, 1], &mut data);
    let bytes: String = data.iter().map(|b| format!("\\{b:02x}")).collect();
    let wat = format!(
        r#"(module
  (import "$root" "log" (func (param i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 16384))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (block $done
      (loop $grow
        (br_if $done (i32.le_u (global.get $heap) (i32.shl (memory.size) (i32.const 16))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $p))
  (func (export "describe") (result i32) (i32.const {info}))
  (func (export "evaluate") (param i32 i32) (result i32)
    (i32.store (i32.const {msg_ptr}) (local.get 0))
    (i32.store (i32.const {msg_len}) (local.get 1))
    (i32.const {ok}))
  (data (i32.const 1024) "{bytes}"))"#,
        msg_ptr = violation + 8,
        msg_len = violation + 12,
    );
    let mut resolve = wit_parser::Resolve::default();
    let wit = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib/wit/policy.wit")).unwrap();
    let pkg = resolve.push_str("policy.wit", &wit).unwrap();
    let world = resolve.select_world(&[pkg], Some("policy")).unwrap();
    let mut module = wat::parse_str(wat).unwrap();
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8, false).unwrap();
    wit_component::ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap()
}
