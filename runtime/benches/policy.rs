//! Policy evaluation cost (issue 6's benchmark): a WAT component that denies `:latest` images
//! over 10,000 resources — the first load (compile), a cached load (deserialize) and one
//! evaluation — and, when `CAIRN_BENCH_PYTHON_PLUGIN` names a built Python example plugin
//! (`cli/tests/policy_plugins.rs` builds one), the same for it over 1,000 resources.
//!
//! `cargo bench -p cairn-runtime --bench policy`

use std::path::Path;
use std::time::Duration;

use cairn_runtime::policy::wasm::WasmPolicy;
use cairn_stdlib::policy::{Input, Policy, Resource, WIT};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// A bump allocator, `describe`, and an `evaluate` that scans the input JSON for `:latest"` and
/// returns one deny per match.
const SCANNER: &str = r#"(module
  (import "$root" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (block $done
      (loop $grow
        (br_if $done (i32.le_u (global.get $heap) (i32.shl (memory.size) (i32.const 16))))
        (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $p))
  (func (export "describe") (result i32) (i32.const 1024))
  (func (export "evaluate") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $end i32) (local $n i32) (local $list i32) (local $v i32)
    (local.set $list (call $alloc (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0)))
    (local.set $i (local.get $ptr))
    (local.set $end (i32.sub (i32.add (local.get $ptr) (local.get $len)) (i32.const 8)))
    (block $out
      (loop $scan
        (br_if $out (i32.gt_s (local.get $i) (local.get $end)))
        (if (i64.eq (i64.load (local.get $i)) (i64.const 0x2274736574616c3a))
          (then
            (local.set $v (call $alloc (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 32)))
            (i32.store (local.get $v) (i32.const 1152))
            (i32.store offset=4 (local.get $v) (i32.const 8))
            (i32.store offset=8 (local.get $v) (i32.const 1120))
            (i32.store offset=12 (local.get $v) (i32.const 26))
            (i32.store8 offset=16 (local.get $v) (i32.const 0))
            (i32.store8 offset=20 (local.get $v) (i32.const 0))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.store (i32.const 1200) (i32.const 0))
    (i32.store (i32.const 1204) (local.get $list))
    (i32.store (i32.const 1208) (local.get $n))
    (i32.const 1200))
  (data (i32.const 1024) "\40\04\00\00\0c\00\00\00\50\04\00\00\05\00\00\00\60\04\00\00\1a\00\00\00")
  (data (i32.const 1088) "bench-latest")
  (data (i32.const 1104) "1.0.0")
  (data (i32.const 1120) "an image is tagged :latest")
  (data (i32.const 1152) "workload")
)"#;

fn scanner() -> Vec<u8> {
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("policy.wit", WIT).expect("the policy WIT parses");
    let world = resolve.select_world(&[pkg], Some("policy")).expect("the policy world");
    let mut module = wat::parse_str(SCANNER).expect("the scanner's WAT parses");
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8, false)
        .expect("component metadata");
    wit_component::ComponentEncoder::default().module(&module).and_then(|e| e.validate(true).encode()).expect("a component")
}

/// `n` Deployments like the compiler's, one in a hundred with a `:latest` image.
fn input(n: usize) -> Input {
    let resources = (0..n)
        .map(|i| Resource {
            address: format!("workload.w{i}"),
            kind: "Deployment".into(),
            object: serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": format!("w{i}"), "namespace": "team", "labels": {"app.kubernetes.io/name": format!("w{i}")}},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": format!("w{i}")}},
                    "template": {"metadata": {"labels": {"app.kubernetes.io/name": format!("w{i}")}},
                        "spec": {"containers": [{"name": format!("w{i}"),
                            "image": if i % 100 == 0 { format!("ghcr.io/acme/w{i}:latest") } else { format!("ghcr.io/acme/w{i}:1.{i}") },
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}}]}}},
            }),
        })
        .collect();
    Input { phase: "plan".into(), stack: "bench".into(), config: serde_json::Value::Null, resources, changes: vec![] }
}

fn bench_component(c: &mut Criterion, name: &str, path: &Path, n: usize, expected: usize) {
    let mut group = c.benchmark_group(format!("policy_{name}"));
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    group.bench_function("first_load_compile", |b| {
        b.iter(|| WasmPolicy::load_with_cache(path, None, None).expect("loads"));
    });
    let cache = tempfile::tempdir().expect("a temporary directory");
    WasmPolicy::load_with_cache(path, None, Some(cache.path())).expect("loads and caches");
    group.bench_function("cached_load_deserialize", |b| {
        b.iter(|| WasmPolicy::load_with_cache(path, None, Some(cache.path())).expect("loads from the cache"));
    });
    let (policy, _) = WasmPolicy::load_with_cache(path, None, Some(cache.path())).expect("loads");
    let input = input(n);
    let found = policy.evaluate(&input).expect("evaluates").len();
    assert_eq!(found, expected, "{name} found {found} violations over {n} resources");
    group.bench_with_input(BenchmarkId::new("evaluate", n), &input, |b, input| {
        b.iter(|| policy.evaluate(input).expect("evaluates"));
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let wat = dir.path().join("scanner.wasm");
    std::fs::write(&wat, scanner()).expect("the component is written");
    bench_component(c, "wat", &wat, 10_000, 100);
    if let Some(python) = std::env::var_os("CAIRN_BENCH_PYTHON_PLUGIN") {
        // The example denies `:latest` (one in a hundred) and warns on no pools here.
        bench_component(c, "python", Path::new(&python), 1_000, 10);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
