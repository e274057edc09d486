//! The WebAssembly policy host: components built here from WAT core modules (the canonical ABI
//! by hand) and the WIT of `stdlib/wit/policy.wit`, well-behaved and hostile.

use std::path::{Path, PathBuf};

use cairn_runtime::policy::wasm::{cache_file, cache_sidecar, CacheUse, WasmPolicy};
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

/// The cache loads only what it wrote for this component, wasmtime and cairn, in files only
/// this user can touch: an entry of another component or version, a loosened file or a
/// symlink is recompiled and overwritten, never loaded. Directory 0700, files 0600.
#[test]
fn a_tampered_or_foreign_cache_entry_is_recompiled_never_loaded() {
    use std::os::unix::fs::PermissionsExt;
    let hex = |b: &[u8]| Sha256::digest(b).iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    let (bytes, other) = (good(), component(&module("(i32.const $ERR)", ""), WIT));
    let (_dir, path) = write("cached", &bytes);
    let (_other_dir, other_path) = write("other", &other);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cairn/policies");
    let (file, other_file) = (cache_file(&cache, &hex(&bytes)), cache_file(&cache, &hex(&other)));
    let load = || {
        let (p, used) = WasmPolicy::load_with_cache(&path, None, Some(&cache)).unwrap();
        assert_eq!(p.evaluate(&input()).unwrap().len(), 1, "the component itself ran");
        used
    };
    assert_eq!(load(), CacheUse::Compiled);
    assert_eq!((mode(&cache), mode(&file), mode(&cache_sidecar(&file))), (0o700, 0o600, 0o600));
    assert_eq!(load(), CacheUse::Cached);
    WasmPolicy::load_with_cache(&other_path, None, Some(&cache)).unwrap();

    type Tamper<'a> = Box<dyn Fn() + 'a>;
    let swap_in_other: Tamper = Box::new(|| {
        std::fs::copy(&other_file, &file).unwrap();
        std::fs::copy(cache_sidecar(&other_file), cache_sidecar(&file)).unwrap();
    });
    let sidecar_line = |from: &'static str, to: String| -> Tamper {
        let sidecar = cache_sidecar(&file);
        Box::new(move || {
            let text = std::fs::read_to_string(&sidecar).unwrap();
            let line = text.lines().find(|l| l.starts_with(from)).unwrap().to_string();
            std::fs::write(&sidecar, text.replace(&line, &to)).unwrap();
        })
    };
    let cases: Vec<(&str, Tamper)> = vec![
        ("another component's entry under this one's name", swap_in_other),
        ("an entry of another cairn", sidecar_line("cairn ", "cairn 0.0.1".into())),
        ("an entry of another wasmtime", sidecar_line("wasmtime ", "wasmtime 1.0.0".into())),
        (
            "a cwasm whose hash is not the recorded one",
            Box::new(|| {
                let mut data = std::fs::read(&file).unwrap();
                let mid = data.len() / 2;
                data[mid] ^= 0xff;
                std::fs::write(&file, &data).unwrap();
            }),
        ),
        ("a cwasm others can write", Box::new(|| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap())),
        (
            "a sidecar others can write",
            Box::new(|| std::fs::set_permissions(cache_sidecar(&file), std::fs::Permissions::from_mode(0o622)).unwrap()),
        ),
        (
            "a symlink in place of the cwasm",
            Box::new(|| {
                let elsewhere = tmp.path().join("elsewhere.cwasm");
                std::fs::copy(&file, &elsewhere).unwrap();
                std::fs::remove_file(&file).unwrap();
                std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
            }),
        ),
        ("a missing sidecar", Box::new(|| std::fs::remove_file(cache_sidecar(&file)).unwrap())),
    ];
    for (what, tamper) in cases {
        tamper();
        assert_eq!(load(), CacheUse::Recompiled, "{what}");
        assert_eq!((mode(&file), mode(&cache_sidecar(&file))), (0o600, 0o600), "{what}: rewritten private");
        assert_eq!(load(), CacheUse::Cached, "{what}: the rewritten entry is used");
    }
    // A loosened cache directory of this user's is tightened.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(load(), CacheUse::Cached);
    assert_eq!(mode(&cache), 0o700);
}

#[test]
fn policy_blocks_with_components_run_next_to_builtins_and_failures_are_findings() {
    std::env::set_var("XDG_CACHE_HOME", Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-cache"));
    let stack = tempfile::tempdir().unwrap();
    std::fs::create_dir(stack.path().join("policies")).unwrap();
    std::fs::write(stack.path().join("policies/good.wasm"), good()).unwrap();
    let logs_then_traps = module("(call $log (i32.const $LOG_PTR) (i32.const $LOG_LEN)) unreachable", "");
    std::fs::write(stack.path().join("policies/trap.wasm"), component(&logs_then_traps, WIT)).unwrap();
    let load = |name: &str, source: &str, enforce| policy::load(name, source, None, enforce, Json::Null, stack.path()).unwrap();
    let policies = vec![
        load("trap", "./policies/trap.wasm", Enforce::Deny),
        load("good", "./policies/good.wasm", Enforce::Warn),
        load("tags", "std:no-latest-tag", Enforce::Deny),
    ];
    let findings = policy::run(&policies, "check", "shop", &[]);
    assert!(
        matches!(&findings[..], [Finding::Failure { policy, message, log, .. }, Finding::Violation { policy: good, violation, .. }]
            if policy == "trap" && message.contains("trapped:") && log == &["hello from wat"]
                && good == "good" && violation.severity == Severity::Warn),
        "{findings:#?}"
    );
    assert!(cache_file(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-cache/cairn/policies"), &{
        let b = good();
        Sha256::digest(&b).iter().map(|b| format!("{b:02x}")).collect::<String>()
    })
    .is_file());
}

/// Encodes a core module as a component of `world` in `wit`, with the WIT packages `deps`
/// (each one package, in dependency order) that `wit` imports from.
fn component_with(wat: &str, wit: &str, deps: &[&str]) -> Vec<u8> {
    let mut resolve = wit_parser::Resolve::default();
    for (i, dep) in deps.iter().enumerate() {
        resolve.push_str(format!("dep{i}.wit"), dep).unwrap();
    }
    let pkg = resolve.push_str("policy.wit", wit).unwrap();
    let world = resolve.select_world(&[pkg], Some("policy")).unwrap();
    let mut module = wat::parse_str(wat).unwrap();
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8, false).unwrap();
    wit_component::ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap()
}

/// The policy world importing `imports` (fully qualified interface names) besides `log`.
fn world_importing(imports: &[&str]) -> String {
    let extra: String = imports.iter().map(|i| format!("\n  import {i};")).collect();
    WIT.replace("import log: func(message: string);", &format!("import log: func(message: string);{extra}"))
}

/// The subset of WASI 0.2's filesystem that a file read starts from (names and types as WASI's).
const WASI_FILESYSTEM: &str = r#"package wasi:filesystem@0.2.0;
interface types { resource descriptor; }
interface preopens {
  use types.{descriptor};
  get-directories: func() -> list<tuple<descriptor, string>>;
}"#;

/// The subset of WASI 0.2's sockets that opening a TCP socket needs.
const WASI_SOCKETS: &str = r#"package wasi:sockets@0.2.0;
interface network {
  enum error-code {
    unknown, access-denied, not-supported, invalid-argument, out-of-memory, timeout, concurrency-conflict,
    not-in-progress, would-block, invalid-state, new-socket-limit, address-not-bindable, address-in-use,
    remote-unreachable, connection-refused, connection-reset, connection-aborted, datagram-too-large,
    name-unresolvable, temporary-resolver-failure, permanent-resolver-failure,
  }
  enum ip-address-family { ipv4, ipv6 }
}
interface tcp { resource tcp-socket; }
interface tcp-create-socket {
  use network.{error-code, ip-address-family};
  use tcp.{tcp-socket};
  create-tcp-socket: func(address-family: ip-address-family) -> result<tcp-socket, error-code>;
}"#;

/// The pollable of WASI 0.2, to wait on a future.
const WASI_IO: &str = r#"package wasi:io@0.2.0;
interface poll { resource pollable { block: func(); } }"#;

/// The subset of `wasi:http@0.2.0` an outgoing request needs (componentize-js imports it all).
const WASI_HTTP: &str = r#"package wasi:http@0.2.0;
interface types {
  use wasi:io/poll@0.2.0.{pollable};
  record DNS-error-payload { rcode: option<string>, info-code: option<u16> }
  record TLS-alert-received-payload { alert-id: option<u8>, alert-message: option<string> }
  record field-size-payload { field-name: option<string>, field-size: option<u32> }
  variant error-code {
    DNS-timeout, DNS-error(DNS-error-payload), destination-not-found, destination-unavailable,
    destination-IP-prohibited, destination-IP-unroutable, connection-refused, connection-terminated,
    connection-timeout, connection-read-timeout, connection-write-timeout, connection-limit-reached,
    TLS-protocol-error, TLS-certificate-error, TLS-alert-received(TLS-alert-received-payload),
    HTTP-request-denied, HTTP-request-length-required, HTTP-request-body-size(option<u64>),
    HTTP-request-method-invalid, HTTP-request-URI-invalid, HTTP-request-URI-too-long,
    HTTP-request-header-section-size(option<u32>), HTTP-request-header-size(option<field-size-payload>),
    HTTP-request-trailer-section-size(option<u32>), HTTP-request-trailer-size(field-size-payload),
    HTTP-response-incomplete, HTTP-response-header-section-size(option<u32>),
    HTTP-response-header-size(field-size-payload), HTTP-response-body-size(option<u64>),
    HTTP-response-trailer-section-size(option<u32>), HTTP-response-trailer-size(field-size-payload),
    HTTP-response-transfer-coding(option<string>), HTTP-response-content-coding(option<string>),
    HTTP-response-timeout, HTTP-upgrade-failed, HTTP-protocol-error, loop-detected, configuration-error,
    internal-error(option<string>),
  }
  resource fields { constructor(); }
  type headers = fields;
  resource outgoing-request {
    constructor(headers: headers);
    set-path-with-query: func(path-with-query: option<string>) -> result;
    set-authority: func(authority: option<string>) -> result;
  }
  resource request-options;
  resource incoming-response;
  resource future-incoming-response {
    subscribe: func() -> pollable;
    get: func() -> option<result<result<incoming-response, error-code>>>;
  }
}
interface outgoing-handler {
  use types.{outgoing-request, request-options, future-incoming-response, error-code};
  handle: func(request: outgoing-request, options: option<request-options>) -> result<future-incoming-response, error-code>;
}"#;

/// Where the hostile bodies below keep their scratch data: a return area and a message.
const RET: u32 = 8192;
const MSG: u32 = 8448;

/// A body that answers one violation whose message is the `n` bytes at [`MSG`].
fn answer(n: u32) -> String {
    format!("(i32.store (i32.const $MSG_PTR) (i32.const {MSG})) (i32.store (i32.const $MSG_LEN) (i32.const {n})) (i32.const $OK)")
}

/// Stores the ASCII digit of the byte at `from` (0–9) at `to`.
fn digit(from: u32, to: u32) -> String {
    format!("(i32.store8 (i32.const {to}) (i32.add (i32.const 48) (i32.load8_u (i32.const {from}))))")
}

fn message_of(p: &WasmPolicy) -> String {
    match &p.evaluate(&input()).unwrap()[..] {
        [v] => v.message.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn giant_output_is_refused_before_the_host_allocates_it() {
    // 20,000 violations, each pointing at the same 1 MiB message: 20 GiB once copied out.
    let body = r#"(local $i i32)
    (drop (memory.grow (i32.const 63)))
    (loop $fill
      (i32.store (i32.add (i32.const 0x200000) (i32.mul (local.get $i) (i32.const 32))) (i32.load (i32.const $ADDR)))
      (i32.store (i32.add (i32.const 0x200004) (i32.mul (local.get $i) (i32.const 32))) (i32.load (i32.const $ADDR_LEN)))
      (i32.store (i32.add (i32.const 0x200008) (i32.mul (local.get $i) (i32.const 32))) (i32.const 0x100000))
      (i32.store (i32.add (i32.const 0x20000c) (i32.mul (local.get $i) (i32.const 32))) (i32.const 0x100000))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 20000))))
    (i32.store (i32.const 0x380000) (i32.const 0))
    (i32.store (i32.const 0x380004) (i32.const 0x200000))
    (i32.store (i32.const 0x380008) (i32.const 20000))
    (i32.const 0x380000)"#;
    let violation = layout().violation;
    let body = body.replace("$ADDR_LEN", &(violation + 4).to_string()).replace("$ADDR", &violation.to_string());
    let p = load(&component(&module(&body, ""), WIT)).unwrap();
    let e = p.evaluate(&input()).unwrap_err();
    assert!(e.contains("handed the host more than 32 MiB in one call"), "{e}");
    still_runs();
}

#[test]
fn log_in_a_tight_loop_ends_at_the_deadline_with_a_capped_log() {
    let body = "(loop $l (call $log (i32.const $LOG_PTR) (i32.const $LOG_LEN)) (br $l)) (i32.const $OK)";
    let p = load(&component(&module(body, ""), WIT)).unwrap();
    let e = p.evaluate(&input()).unwrap_err();
    assert!(e.contains("timed out after 2 s") || e.contains("ran out of fuel"), "{e}");
    let log = p.log();
    assert_eq!(log.len(), policy::wasm::LOG_LINES + 1, "{:?}", &log[..3]);
    assert_eq!(log.last().map(String::as_str), Some("… (further lines dropped)"));
    still_runs();
}

#[test]
fn wasi_gives_no_directory_to_read_and_a_forged_descriptor_traps() {
    let wit = world_importing(&["wasi:filesystem/preopens@0.2.0", "wasi:filesystem/types@0.2.0"]);
    let imports = r#"(import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $dirs (param i32)))
  (import "wasi:filesystem/types@0.2.0" "[resource-drop]descriptor" (func $drop (param i32)))"#;
    // The preopened directories: their count as the message.
    let body = format!("(call $dirs (i32.const {RET})) {} {}", digit(RET + 4, MSG), answer(1));
    let p = load(&component_with(&module(&body, imports), &wit, &[WASI_FILESYSTEM])).unwrap();
    assert_eq!(message_of(&p), "0", "a policy sees no preopened directory");
    // A descriptor the host never handed out.
    let p = load(&component_with(&module("(call $drop (i32.const 7)) (i32.const $OK)", imports), &wit, &[WASI_FILESYSTEM])).unwrap();
    let e = p.evaluate(&input()).unwrap_err();
    assert!(e.contains("failed") || e.contains("trapped"), "{e}");
    still_runs();
}

#[test]
fn wasi_refuses_to_open_a_socket() {
    let wit = world_importing(&["wasi:sockets/tcp-create-socket@0.2.0"]);
    let imports = r#"(import "wasi:sockets/tcp-create-socket@0.2.0" "create-tcp-socket" (func $tcp (param i32 i32)))"#;
    // result<tcp-socket, error-code>: the case at RET, the error code at RET + 4.
    let body = format!("(call $tcp (i32.const 0) (i32.const {RET})) {} {} {}", digit(RET, MSG), digit(RET + 4, MSG + 1), answer(2));
    let p = load(&component_with(&module(&body, imports), &wit, &[WASI_SOCKETS])).unwrap();
    assert_eq!(message_of(&p), "11", "create-tcp-socket answers err(access-denied)");
    still_runs();
}

#[test]
fn a_guest_importing_wasi_http_runs_and_its_outgoing_request_is_refused() {
    let wit = world_importing(&["wasi:http/outgoing-handler@0.2.0", "wasi:http/types@0.2.0"]);
    let imports = r#"(import "wasi:http/types@0.2.0" "[constructor]fields" (func $fields (result i32)))
  (import "wasi:http/types@0.2.0" "[constructor]outgoing-request" (func $request (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-request.set-authority" (func $authority (param i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-request.set-path-with-query" (func $path (param i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]future-incoming-response.get" (func $get (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]future-incoming-response.subscribe" (func $subscribe (param i32) (result i32)))
  (import "wasi:io/poll@0.2.0" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:http/outgoing-handler@0.2.0" "handle" (func $handle (param i32 i32 i32 i32)))"#;
    let host = "127.0.0.1:9";
    let at = MSG + 64;
    let data = format!("(data (i32.const {at}) \"{host}/\")");
    // handle → result<future, error-code> (case at RET, future or code at RET + 8); then wait on
    // the future and get it: option at RET2, result at +8, inner result at +16, code at +24.
    let ret2 = RET + 64;
    let body = format!(
        r#"(local $req i32) (local $future i32)
    (local.set $req (call $request (call $fields)))
    (drop (call $authority (local.get $req) (i32.const 1) (i32.const {at}) (i32.const {len})))
    (drop (call $path (local.get $req) (i32.const 1) (i32.const {slash}) (i32.const 1)))
    (call $handle (local.get $req) (i32.const 0) (i32.const 0) (i32.const {RET}))
    (if (i32.load8_u (i32.const {RET}))
      (then (i32.store8 (i32.const {MSG}) (i32.const 69)) (i32.store8 (i32.const {msg1}) (i32.const 69)) {code_now})
      (else
        (local.set $future (i32.load (i32.const {future})))
        (call $block (call $subscribe (local.get $future)))
        (call $get (local.get $future) (i32.const {ret2}))
        {outer} {inner} {code_later}))
    {answer}"#,
        len = host.len(),
        slash = at + host.len() as u32,
        msg1 = MSG + 1,
        future = RET + 8,
        code_now = two_digits(RET + 8, MSG + 2),
        outer = digit(ret2 + 8, MSG),
        inner = digit(ret2 + 16, MSG + 1),
        code_later = two_digits(ret2 + 24, MSG + 2),
        answer = answer(4),
    );
    let p = load(&component_with(&module(&body, &format!("{imports}\n  {data}")), &wit, &[WASI_IO, WASI_HTTP])).unwrap();
    // ok(err(HTTP-request-denied)): the request was made and the host refused it.
    assert_eq!(message_of(&p), "0115", "the future resolves to err(HTTP-request-denied), case 15");
    still_runs();
}

/// Stores the byte at `from` (0–99) as two ASCII digits at `to`.
fn two_digits(from: u32, to: u32) -> String {
    format!(
        "(i32.store8 (i32.const {to}) (i32.add (i32.const 48) (i32.div_u (i32.load8_u (i32.const {from})) (i32.const 10)))) \
         (i32.store8 (i32.const {}) (i32.add (i32.const 48) (i32.rem_u (i32.load8_u (i32.const {from})) (i32.const 10))))",
        to + 1
    )
}

#[test]
fn sensitive_values_never_reach_a_component() {
    use cairn_compiler::{compile, MapEnv, MemoryLoader, Mode};
    let stack = r#"
namespace "shop" {}
secret "db" { namespace = namespace.shop, data = { password = env("DB_PASSWORD") }, type = "Opaque" }
secret "api" { namespace = namespace.shop, data = { token = sensitive("planted-config-token"), key = env("API_TOKEN") } }
workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  env       = { DB_PASSWORD = secret.db.password, API_TOKEN = secret.api.token }
  resources { cpu = 100m, memory = 128Mi }
}
"#;
    let loader = MemoryLoader::new().with("/s/main.cairn", stack);
    let env = MapEnv(
        [("DB_PASSWORD", "planted-db-password"), ("API_TOKEN", "planted-api-token")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let c = compile(&loader, &env, Path::new("/s"), Mode::Render).unwrap();
    assert!(!c.diagnostics.iter().any(|d| d.is_error()), "{:?}", c.diagnostics);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("echo.wasm"), good()).unwrap();
    let echo = policy::load("echo", "./echo.wasm", None, Enforce::Deny, json!({"note": "config reaches it"}), dir.path()).unwrap();
    let findings = policy::run(&[echo], "check", "shop", &c.objects);
    let [Finding::Violation { violation, .. }] = &findings[..] else { panic!("{findings:#?}") };
    // The component got the whole input (it echoes it) …
    let echoed: Input = serde_json::from_str(&violation.message).unwrap();
    assert_eq!(echoed.resources.len(), c.objects.len());
    assert!(violation.message.contains("config reaches it") && violation.message.contains("(sensitive)"), "{}", violation.message);
    // … and no secret, plain or base64.
    use base64::Engine as _;
    for planted in ["planted-db-password", "planted-config-token", "planted-api-token"] {
        let b64 = base64::engine::general_purpose::STANDARD.encode(planted);
        assert!(!violation.message.contains(planted) && !violation.message.contains(&b64), "{planted} reached the plugin");
    }
}

#[test]
fn control_characters_from_a_guest_are_escaped_before_anything_prints_them() {
    // ESC [ 2 J (clear the screen) as a violation message and as a log line.
    let body = format!("(i32.store (i32.const {MSG}) (i32.const 0x4a325b1b)) (call $log (i32.const {MSG}) (i32.const 4)) {}", answer(4));
    let p = load(&component(&module(&body, ""), WIT)).unwrap();
    assert_eq!(message_of(&p), "\\u{1b}[2J");
    assert_eq!(p.log(), vec!["\\u{1b}[2J".to_string()]);
}
