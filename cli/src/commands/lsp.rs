//! `cairn lsp`: the language server on stdin/stdout. The protocol owns stdout, so the only thing
//! this command ever prints is why the server stopped, on stderr.

use crate::output::Output;

/// Runs the server until the editor says `exit`; false when it stopped otherwise.
pub fn run(out: &Output) -> bool {
    // Policies run on save, in phase `check` as `cairn check` runs them.
    let policies: cairn_lsp::PolicyCheck = Box::new(|c| cairn_runtime::policy::stack::diagnostics(c, "check"));
    match cairn_lsp::run_stdio(Some(policies)) {
        Ok(()) => true,
        Err(e) => {
            out.error(&format!("language server: {e}"));
            false
        }
    }
}
