//! The `cairn.status` command (`workspace/executeCommand`): `cairn status`'s findings as
//! diagnostics on the lines that caused them. The stack is compiled from a snapshot of the
//! buffers and the cluster read on a worker thread with its own tokio runtime, so the message
//! loop keeps answering meanwhile; the result comes back over a channel the loop also waits on.
//! This is the only place the language server does network I/O.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_compiler::{compile, Environment, Mode};
use cairn_runtime::engine::{Connect, Stack};
use crossbeam_channel::Sender;
use lsp_server::RequestId;
use serde_json::Value;

use crate::documents::{Documents, OverlayLoader};

/// The command's name.
pub const COMMAND: &str = "cairn.status";

/// Where the live systems are, asked at each run (a sandbox started after the editor is found):
/// `cairn lsp` gives the same rules as the live commands (flags, the stack's `cluster` block,
/// `KUBECONFIG`, a running sandbox, `~/.kube/config`).
pub type Connector = Arc<dyn Fn() -> Connect + Send + Sync>;

/// A run to make.
pub struct Job {
    /// The request to answer; `None` for a run on save.
    pub id: Option<RequestId>,
    /// The stack directory.
    pub dir: PathBuf,
    /// The buffers as they were when the run was asked for.
    pub docs: Documents,
    pub env: Arc<dyn Environment + Send + Sync>,
    pub connect: Connect,
}

/// What a run found.
pub struct Found {
    /// The findings as LSP diagnostics, by file (only files that have some).
    pub by_file: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>,
    pub healthy: usize,
    pub unhealthy: usize,
}

/// A finished run.
pub struct Done {
    pub id: Option<RequestId>,
    pub dir: PathBuf,
    /// The versions of the open buffers the run compiled, by path: the findings of a file
    /// changed since are dropped (they point into older text).
    pub versions: BTreeMap<PathBuf, i32>,
    /// The findings, or why there are none (a clear message, never a secret value).
    pub result: Result<Found, String>,
}

/// The command's response: how many of the stack's workloads are healthy and unhealthy.
pub fn summary(found: &Found) -> Value {
    serde_json::json!({ "healthy": found.healthy, "unhealthy": found.unhealthy })
}

/// The stack the command's argument names: a `file:` URI or a path, of a stack directory or a
/// `.cairn` file in one (then its directory); `None` when there is no argument. Looks at no
/// disk.
pub fn argument_dir(args: &[Value]) -> Result<Option<PathBuf>, String> {
    let Some(arg) = args.first() else { return Ok(None) };
    let text = match arg {
        Value::String(s) => s.as_str(),
        Value::Object(o) => o.get("uri").and_then(Value::as_str).ok_or("cairn.status: the argument has no `uri`")?,
        Value::Null => return Ok(None),
        _ => return Err("cairn.status: the argument must be a document URI or a stack directory".into()),
    };
    let path = if text.contains("://") {
        let uri: lsp_types::Uri = text.parse().map_err(|_| format!("cairn.status: `{text}` is not a URI"))?;
        crate::convert::uri_to_path(&uri).ok_or_else(|| format!("cairn.status: `{text}` is not a file: URI"))?
    } else {
        PathBuf::from(text)
    };
    let file = path.extension().is_some_and(|x| x == "cairn");
    Ok(Some(if file { path.parent().map_or(path.clone(), Path::to_path_buf) } else { path }))
}

/// Runs `job` on a thread of its own; its [`Done`] is sent to `done`.
pub fn spawn(job: Job, done: Sender<Done>) -> std::io::Result<()> {
    std::thread::Builder::new().name("cairn.status".into()).spawn(move || {
        let versions = job.docs.versions();
        // A panic must not leave the request unanswered.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&job)))
            .unwrap_or_else(|_| Err("cairn.status: internal error (see the server's log)".into()));
        // The loop has ended when nobody receives: nothing to tell.
        let _ = done.send(Done { id: job.id, dir: job.dir, versions, result });
    })?;
    Ok(())
}

/// Compiles the stack as the live commands do (`Mode::Render`) and runs `cairn status`'s check.
fn run(job: &Job) -> Result<Found, String> {
    let loader = OverlayLoader { docs: &job.docs };
    let c = compile(&loader, job.env.as_ref(), &job.dir, Mode::Render).map_err(|e| format!("cairn.status: {e}"))?;
    if c.has_errors() {
        return Err(format!("cairn.status: the stack in {} has errors: fix them first", job.dir.display()));
    }
    let stack = Stack::new(c);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cairn.status: cannot start the async runtime: {e}"))?;
    let status = rt.block_on(cairn_runtime::status::check(&stack, &job.connect, &mut |_| {})).map_err(|e| {
        let help = miette::Diagnostic::help(&e).map(|h| format!(" (help: {h})")).unwrap_or_default();
        format!("cairn.status: {e}{help}")
    })?;
    let diags: Vec<cairn_lang::Diagnostic> = status.findings.iter().map(|f| f.diagnostic.clone()).collect();
    let by_file = crate::diagnostics::of_findings(&stack.compilation, &diags);
    Ok(Found { by_file, healthy: status.healthy(), unhealthy: status.findings.len() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_argument_names_a_stack_by_uri_or_path_of_the_directory_or_a_file_in_it() {
        let dir = |args: Value| argument_dir(args.as_array().map(Vec::as_slice).unwrap_or_default());
        assert_eq!(dir(json!([])), Ok(None));
        assert_eq!(dir(json!([null])), Ok(None));
        assert_eq!(dir(json!(["file:///s/shop/main.cairn"])), Ok(Some(PathBuf::from("/s/shop"))));
        assert_eq!(dir(json!([{ "uri": "file:///s/shop/main.cairn" }])), Ok(Some(PathBuf::from("/s/shop"))));
        assert_eq!(dir(json!(["/s/shop"])), Ok(Some(PathBuf::from("/s/shop"))));
        assert_eq!(dir(json!(["/s/shop/apps.cairn"])), Ok(Some(PathBuf::from("/s/shop"))));
        assert!(dir(json!([3])).is_err());
        assert!(dir(json!(["untitled://x"])).is_err());
    }
}
