//! The WebAssembly policy host: components built here from WAT core modules (the canonical ABI
//! by hand) and the WIT of `stdlib/wit/policy.wit`, well-behaved and hostile.

use std::path::{Path, PathBuf};

use cairn_runtime::policy::wasm::{cache_file, CacheUse, WasmPolicy};
use cairn_runtime::policy::{self, Enforce, Finding};
use cairn_stdlib::policy::{Info, Input, Policy, Resource, Severity, Violation, WIT};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

/// Static data for a module: strings and records laid out from `BASE`, little-endian.
struct Data {
    bytes: Vec<u8>,
}

const BASE: u32 = 1024;

impl Data {
    fn new() -> Data {
        Data { bytes: Vec::new() }
    }
    fn at(&self) -> u32 {
        BASE + self.bytes.len() as u32
    }
    fn align(&mut self) {
        self.bytes.resize(self.bytes.len().next_multiple_of(8), 0);
    }
    /// A string; its (pointer, length).
    fn str(&mut self, s: &str) -> (u32, u32) {
        let at = self.at();
        self.bytes.extend_from_slice(s.as_bytes());
        self.align();
        (at, s.len() as u32)
    }
    /// 32-bit words; their address.
    fn words(&mut self, ws: &[u32]) -> u32 {
        self.align();
        let at = self.at();
        for w in ws {
            self.bytes.extend_from_slice(&w.to_le_bytes());
        }
        at
    }
    fn segment(&self) -> String {
        let escaped: String = self.bytes.iter().map(|b| format!("\\{b:02x}")).collect();
        format!("(data (i32.const {BASE}) \"{escaped}\")")
    }
}

/// Addresses of the well-behaved module's static data.
struct Layout {
    data: Data,
    info: u32,
    ok: u32,
    err: u32,
    violation: u32,
    log: (u32, u32),
}

fn layout() -> Layout {
    let mut data = Data::new();
    let name = data.str("wat-policy");
    let version = data.str("1.2.3");
    let description = data.str("a policy written in WAT");
    let address = data.str("workload.web");
    let path = data.str("spec.replicas");
    let no = data.str("no");
    let log = data.str("hello from wat");
    let info = data.words(&[name.0, name.1, version.0, version.1, description.0, description.1]);
    // violation: address, message (filled in with the input), severity deny (0), path some(..)
    let violation = data.words(&[address.0, address.1, 0, 0, 0, 1, path.0, path.1]);
    let ok = data.words(&[0, violation, 1]);
    let err = data.words(&[1, no.0, no.1]);
    Layout { data, info, ok, err, violation, log }
}

/// A core module exporting `describe` and `evaluate` with the given body (params: input
/// pointer and length; result: the return area's address).
fn module(evaluate: &str, extra: &str) -> String {
    let l = layout();
    let body = evaluate
        .replace("$OK", &l.ok.to_string())
        .replace("$ERR", &l.err.to_string())
        .replace("$MSG_PTR", &(l.violation + 8).to_string())
        .replace("$MSG_LEN", &(l.violation + 12).to_string())
        .replace("$LOG_PTR", &l.log.0.to_string())
        .replace("$LOG_LEN", &l.log.1.to_string());
    format!(
        r#"(module
  (import "$root" "log" (func $log (param i32 i32)))
  {extra}
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
  (func (export "evaluate") (param i32 i32) (result i32) {body})
  {data}
)"#,
        info = l.info,
        data = l.data.segment(),
    )
}

/// Encodes a core module (WAT) as a component of `world` in the WIT package `wit`.
fn component(wat: &str, wit: &str) -> Vec<u8> {
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("policy.wit", wit).unwrap();
    let world = resolve.select_world(&[pkg], Some("policy")).unwrap();
    let mut module = wat::parse_str(wat).unwrap();
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8, false).unwrap();
    wit_component::ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap()
}

/// Writes a component to a fresh file; its directory lives as long as the returned guard.
fn write(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

const GOOD: &str = r#"(call $log (i32.const $LOG_PTR) (i32.const $LOG_LEN))
    (i32.store (i32.const $MSG_PTR) (local.get 0))
    (i32.store (i32.const $MSG_LEN) (local.get 1))
    (i32.const $OK)"#;

fn good() -> Vec<u8> {
    component(&module(GOOD, ""), WIT)
}

fn load(bytes: &[u8]) -> Result<WasmPolicy, String> {
    let (_dir, path) = write("p", bytes);
    WasmPolicy::load_with_cache(&path, None, None).map(|(p, _)| p)
}

fn input() -> Input {
    Input {
        phase: "check".into(),
        stack: "shop".into(),
        config: json!({"size": 3}),
        resources: vec![Resource { address: "workload.web".into(), kind: "Deployment".into(), object: json!({"kind": "Deployment"}) }],
        changes: vec![],
    }
}

/// The well-behaved component still answers: a failed policy leaves the host usable.
fn still_runs() {
    let p = load(&good()).unwrap();
    assert_eq!(p.evaluate(&input()).unwrap().len(), 1);
}

#[test]
fn a_component_describes_itself_and_its_violations_map_to_the_stdlib_type() {
    let p = load(&good()).unwrap();
    assert_eq!(p.describe(), Info { name: "wat-policy".into(), version: "1.2.3".into(), description: "a policy written in WAT".into() });
    let input = input();
    let vs = p.evaluate(&input).unwrap();
    // The component echoes its input as the message: the JSON went in as `Input` serializes.
    assert_eq!(
        vs,
        vec![Violation {
            address: "workload.web".into(),
            message: serde_json::to_string(&input).unwrap(),
            severity: Severity::Deny,
            path: Some("spec.replicas".into()),
        }]
    );
    let back: Input = serde_json::from_str(&vs[0].message).unwrap();
    assert_eq!(back, input);
    assert_eq!(p.log(), vec!["hello from wat".to_string()]);
}

#[test]
fn err_from_the_component_is_a_failure_with_its_reason() {
    let p = load(&component(&module("(i32.const $ERR)", ""), WIT)).unwrap();
    let e = p.evaluate(&input()).unwrap_err();
    assert!(e.ends_with("returned an error: no"), "{e}");
}

#[test]
fn an_infinite_loop_times_out() {
    let p = load(&component(&module("(loop $l (br $l)) (i32.const $OK)", ""), WIT)).unwrap();
    let started = std::time::Instant::now();
    let e = p.evaluate(&input()).unwrap_err();
    assert!(e.contains("timed out after 2 s") || e.contains("ran out of fuel"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    still_runs();
}

#[test]
fn an_infinite_loop_runs_out_of_fuel_on_a_small_budget() {
    let p = load(&component(&module("(loop $l (br $l)) (i32.const $OK)", ""), WIT)).unwrap().with_fuel(1_000_000);
    let e = p.evaluate(&input()).unwrap_err();
    assert!(e.contains("ran out of fuel (1000000 units)"), "{e}");
    still_runs();
}

#[test]
fn growing_memory_without_end_hits_the_memory_limit() {
    let p = load(&component(&module("(loop $l (drop (memory.grow (i32.const 16))) (br $l)) (i32.const $OK)", ""), WIT)).unwrap();
    let e = p.evaluate(&input()).unwrap_err();
    assert!(e.contains("exceeded the memory limit of 256 MiB"), "{e}");
    still_runs();
}

#[test]
fn a_trap_is_a_failure_saying_so() {
    let p = load(&component(&module("unreachable", ""), WIT)).unwrap();
    let e = p.evaluate(&input()).unwrap_err();
    assert!(e.contains("trapped:") && e.contains("unreachable"), "{e}");
    still_runs();
}

#[test]
fn a_component_with_the_wrong_signature_or_no_evaluate_does_not_load() {
    let wrong = WIT
        .replace("export evaluate: func(input: string) -> result<list<violation>, string>;", "export evaluate: func(input: u32) -> u32;");
    assert_ne!(wrong, WIT);
    let bytes = component(
        &module("(i32.const $OK)", "").replace("(param i32 i32) (result i32) (i32.const", "(param i32) (result i32) (i32.const"),
        &wrong,
    );
    let e = load(&bytes).err().unwrap();
    assert!(e.contains("does not implement cairn:policy@0.1.0"), "{e}");

    let missing = WIT.replace("export evaluate: func(input: string) -> result<list<violation>, string>;", "");
    let wat = module("(i32.const $OK)", "").replace(r#"(func (export "evaluate")"#, r#"(func $evaluate"#);
    let e = load(&component(&wat, &missing)).err().unwrap();
    assert!(e.contains("does not implement cairn:policy@0.1.0"), "{e}");
    still_runs();
}

#[test]
fn an_import_the_host_does_not_offer_is_refused() {
    let wit = WIT.replace("import log: func(message: string);", "import log: func(message: string);\n  import launch: func();");
    let bytes = component(&module("(call $launch) (i32.const $OK)", r#"(import "$root" "launch" (func $launch))"#), &wit);
    let e = load(&bytes).err().unwrap();
    assert!(e.contains("needs an import this host does not offer") && e.contains("launch"), "{e}");
    still_runs();
}

#[test]
fn a_sha256_pin_must_match() {
    let bytes = good();
    let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let (_dir, path) = write("pinned", &bytes);
    let (p, _) = WasmPolicy::load_with_cache(&path, Some(&digest), None).unwrap();
    assert_eq!(p.sha256(), digest);
    WasmPolicy::load_with_cache(&path, Some(&format!("sha256:{}", digest.to_uppercase())), None).unwrap();
    let wrong = "0".repeat(64);
    let e = WasmPolicy::load_with_cache(&path, Some(&wrong), None).err().unwrap();
    assert!(e.contains(&digest) && e.contains(&wrong) && e.contains("refusing"), "{e}");
}

#[test]
fn compiled_components_are_cached_and_a_corrupt_cache_file_is_recompiled() {
    let bytes = good();
    let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let (_dir, path) = write("cached", &bytes);
    let cache = tempfile::tempdir().unwrap();
    let file = cache_file(cache.path(), &digest);

    let (_, used) = WasmPolicy::load_with_cache(&path, None, Some(cache.path())).unwrap();
    assert_eq!(used, CacheUse::Compiled);
    assert!(file.is_file(), "{}", file.display());
    let (p, used) = WasmPolicy::load_with_cache(&path, None, Some(cache.path())).unwrap();
    assert_eq!(used, CacheUse::Cached);
    assert_eq!(p.evaluate(&input()).unwrap().len(), 1);

    std::fs::write(&file, b"garbage, not a compiled component").unwrap();
    let (p, used) = WasmPolicy::load_with_cache(&path, None, Some(cache.path())).unwrap();
    assert_eq!(used, CacheUse::Recompiled);
    assert_eq!(p.evaluate(&input()).unwrap().len(), 1);
    let (_, used) = WasmPolicy::load_with_cache(&path, None, Some(cache.path())).unwrap();
    assert_eq!(used, CacheUse::Cached);

    // A flipped byte in a cached entry fails its checksum: recompiled, not trusted.
    let mut data = std::fs::read(&file).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    std::fs::write(&file, &data).unwrap();
    let (_, used) = WasmPolicy::load_with_cache(&path, None, Some(cache.path())).unwrap();
    assert_eq!(used, CacheUse::Recompiled);

    // A cache directory that cannot be created: compiled in memory, still runs.
    let blocked = cache.path().join("blocked");
    std::fs::write(&blocked, b"a file").unwrap();
    let (p, used) = WasmPolicy::load_with_cache(&path, None, Some(&blocked.join("sub"))).unwrap();
    assert_eq!(used, CacheUse::Uncached);
    assert_eq!(p.evaluate(&input()).unwrap().len(), 1);
}

#[test]
fn policy_blocks_with_components_run_next_to_builtins_and_failures_are_findings() {
    std::env::set_var("XDG_CACHE_HOME", Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-cache"));
    let stack = tempfile::tempdir().unwrap();
    std::fs::create_dir(stack.path().join("policies")).unwrap();
    std::fs::write(stack.path().join("policies/good.wasm"), good()).unwrap();
    std::fs::write(stack.path().join("policies/trap.wasm"), component(&module("unreachable", ""), WIT)).unwrap();
    let load = |name: &str, source: &str, enforce| policy::load(name, source, None, enforce, Json::Null, stack.path()).unwrap();
    let policies = vec![
        load("trap", "./policies/trap.wasm", Enforce::Deny),
        load("good", "./policies/good.wasm", Enforce::Warn),
        load("tags", "std:no-latest-tag", Enforce::Deny),
    ];
    let findings = policy::run(&policies, "check", "shop", &[]);
    assert!(
        matches!(&findings[..], [Finding::Failure { policy, message, .. }, Finding::Violation { policy: good, violation, .. }]
            if policy == "trap" && message.contains("trapped:") && good == "good" && violation.severity == Severity::Warn),
        "{findings:#?}"
    );
    assert!(cache_file(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-cache/cairn/policies"), &{
        let b = good();
        Sha256::digest(&b).iter().map(|b| format!("{b:02x}")).collect::<String>()
    })
    .is_file());
}
