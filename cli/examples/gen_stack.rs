//! Writes a generated benchmark stack (see `benches/support/stackgen.rs`) into a directory:
//!
//!   cargo run --release -p cairn-cli --example gen_stack -- DIR [N]
//!
//! N workloads (default 10,000) over N/50 namespaces. Used by `scripts/bench-render.sh`.

#[path = "../benches/support/stackgen.rs"]
mod stackgen;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().filter(|a| !a.starts_with('-')).map(PathBuf::from) else {
        eprintln!("usage: gen_stack DIR [N]");
        return ExitCode::FAILURE;
    };
    let n = match args.next().map(|s| s.replace('_', "").parse::<usize>()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("gen_stack: N must be a number: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = stackgen::write(&dir, n) {
        eprintln!("gen_stack: cannot write {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
