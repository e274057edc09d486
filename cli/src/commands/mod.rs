//! One module per command.

pub mod apply;
pub mod check;
pub mod fmt;
pub mod graph;
pub mod import;
pub mod live;
pub mod lsp;
pub mod plan;
pub mod render;
pub mod sandbox;
pub mod status;

use std::path::Path;

use cairn_compiler::{compile, Compilation, DiskLoader, Mode, ProcessEnv};

use crate::output::Output;

/// Compiles the stack in `dir` from disk and the process environment; `None` (after saying
/// why) when the directory cannot be used at all.
pub fn compile_dir(out: &Output, dir: &Path, mode: Mode) -> Option<Compilation> {
    let abs = match std::fs::canonicalize(dir) {
        Ok(p) => p,
        Err(e) => {
            out.error(&format!("cannot read the stack directory `{}`: {e}", dir.display()));
            return None;
        }
    };
    match compile(&DiskLoader, &ProcessEnv, &abs, mode) {
        Ok(c) => Some(c),
        Err(e) => {
            out.error(&format!("{e}"));
            None
        }
    }
}
