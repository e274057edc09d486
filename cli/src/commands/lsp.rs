//! `cairn lsp`: the language server on stdin/stdout. The protocol owns stdout, so the only thing
//! this command ever prints is why the server stopped, on stderr.

use super::live::ClusterFlags;
use crate::output::Output;

/// Runs the server until the editor says `exit`; false when it stopped otherwise. `flags` (the
/// cluster options given before `lsp`) are where `cairn.status` reads, found as the live
/// commands find the cluster.
pub fn run(out: &Output, flags: &ClusterFlags) -> bool {
    // Policies run on save, in phase `check` as `cairn check` runs them.
    let policies: cairn_lsp::PolicyCheck = Box::new(|c| cairn_runtime::policy::stack::diagnostics(c, "check"));
    let flags = flags.clone();
    let cluster: cairn_lsp::Connector = std::sync::Arc::new(move || flags.connect());
    match cairn_lsp::run_stdio(Some(policies), Some(cluster)) {
        Ok(()) => true,
        Err(e) => {
            out.error(&format!("language server: {e}"));
            false
        }
    }
}
