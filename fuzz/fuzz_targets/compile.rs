//! Bytes in, a stack out: parse and compile must never panic, overflow the stack, run away or
//! exhaust memory, whatever the input.
//!
//! The input is read as UTF-8 (lossily) and split at NUL bytes into up to three files: the
//! stack's `main.cairn` and `more.cairn`, and `lib/lib.cairn` (reachable as `import "./lib"`).
//! Each is parsed on its own, then the stack is compiled in both modes and rendered.

#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use cairn_compiler::{compile, MapEnv, MemoryLoader, Mode};
use cairn_lang::FileId;
use libfuzzer_sys::fuzz_target;

const FILES: [&str; 3] = ["/stack/main.cairn", "/stack/more.cairn", "/stack/lib/lib.cairn"];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut loader = MemoryLoader::new();
    for (path, part) in FILES.iter().zip(text.splitn(FILES.len(), '\0')) {
        let _ = cairn_lang::parse(part, FileId(0));
        loader.insert(path, part);
    }
    let mut vars = BTreeMap::new();
    vars.insert("HOME".to_string(), "/home/fuzz".to_string());
    vars.insert("DB_PASSWORD".to_string(), "hunter2".to_string());
    let env = MapEnv(vars);
    for mode in [Mode::Check, Mode::Render] {
        if let Ok(c) = compile(&loader, &env, Path::new("/stack"), mode) {
            if !c.has_errors() {
                let _ = c.render(false);
                let _ = c.render(true);
            }
        }
    }
});
