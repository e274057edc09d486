//! Compile and render benchmarks on generated stacks (see `support/stackgen.rs`). Run by hand,
//! never in CI:
//!
//!   cargo bench -p cairn-cli --bench render
//!
//! `compile/N` is `cairn_compiler::compile` of a stack of N workloads held in memory;
//! `compile_render/N` adds rendering the objects as YAML (what `cairn render` does, minus
//! reading the files and writing stdout). `scripts/bench-render.sh` measures the real binary,
//! wall time and peak memory included.

#[path = "support/stackgen.rs"]
mod stackgen;

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use cairn_compiler::{compile, MapEnv, MemoryLoader, Mode};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const ROOT: &str = "/bench";

fn loader(n: usize) -> MemoryLoader {
    let mut loader = MemoryLoader::new();
    for (name, text) in stackgen::generate(n) {
        loader.insert(Path::new(ROOT).join(name), text);
    }
    loader
}

fn bench(c: &mut Criterion) {
    let env = MapEnv::default();
    let mut group = c.benchmark_group("render");
    group.sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(15));
    for n in [1_000usize, 10_000] {
        let loader = loader(n);
        // A stack that does not compile cleanly would measure the error path.
        let c = compile(&loader, &env, Path::new(ROOT), Mode::Render).expect("the generated stack loads");
        assert!(!c.has_errors(), "the generated stack of {n} workloads has errors: {:?}", c.diagnostics.iter().find(|d| d.is_error()));
        drop(c);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("compile", n), &n, |b, _| {
            b.iter(|| compile(&loader, &env, Path::new(ROOT), Mode::Render).expect("compiles"));
        });
        group.bench_with_input(BenchmarkId::new("compile_render", n), &n, |b, _| {
            b.iter(|| {
                let c = compile(&loader, &env, Path::new(ROOT), Mode::Render).expect("compiles");
                black_box(c.render(false).len())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
