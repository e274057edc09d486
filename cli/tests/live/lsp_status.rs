//! `cairn lsp`'s `cairn.status` command against the sandbox (DESIGN.md §5, §8.2): the findings
//! of `cairn status` published as diagnostics on the lines that caused them, dropped when the
//! file changes; an unreachable cluster is an error response, and the server keeps serving
//! while it waits.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::common::{env, json, kubeconfig_text, Env, Value};

const STACK: &str = r#"namespace "ops" {}

workload "cache" {
  namespace   = namespace.ops
  image       = "redis:7.4"
  annotations = { "sandbox.cairn.dev/oom" = "true" }
  resources {
    memory = 128Mi
  }
}

workload "ok" {
  namespace = namespace.ops
  image     = "nginx:1.27"
  resources { memory = 64Mi }
}
"#;

/// The 0-based line of `STACK` that holds `needle`.
fn line_of(needle: &str) -> u64 {
    STACK.lines().position(|l| l.contains(needle)).unwrap() as u64
}

/// `cairn lsp` with a reader thread: every message it sends arrives on `messages`.
struct Lsp {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
}

impl Lsp {
    fn start(env: &Env, kubeconfig: &std::path::Path) -> Lsp {
        let mut child = env.command_with(Some(kubeconfig), &["lsp"]).stdin(Stdio::piped()).spawn().expect("cairn lsp runs");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || loop {
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    len = n.parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            if stdout.read_exact(&mut body).is_err() || tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        let mut lsp = Lsp { child, stdin, messages };
        lsp.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }));
        let init = lsp.until(10, |m| m["id"] == 1);
        assert_eq!(init["result"]["capabilities"]["executeCommandProvider"]["commands"], json!(["cairn.status"]), "{init}");
        lsp.send(json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
        lsp
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The messages up to and including the first that `want` accepts, within `secs` seconds.
    fn until_all(&mut self, secs: u64, want: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(m) => {
                    let done = want(&m);
                    seen.push(m);
                    if done {
                        return seen;
                    }
                }
                Err(_) => panic!("no such message within {secs}s; got:\n{seen:#?}"),
            }
        }
    }

    fn until(&mut self, secs: u64, want: impl Fn(&Value) -> bool) -> Value {
        self.until_all(secs, want).pop().unwrap()
    }

    fn stop(mut self) {
        self.send(json!({ "jsonrpc": "2.0", "id": 999, "method": "shutdown" }));
        self.until(10, |m| m["id"] == 999);
        self.send(json!({ "jsonrpc": "2.0", "method": "exit" }));
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        assert!(status.success(), "{status:?}: {stderr}");
    }
}

/// The diagnostics of the last `publishDiagnostics` for `uri` among `messages`.
fn published(messages: &[Value], uri: &str) -> Vec<Value> {
    let last = messages.iter().rev().find(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri);
    last.map(|m| m["params"]["diagnostics"].as_array().unwrap().clone()).unwrap_or_default()
}

fn from_status(diags: &[Value]) -> Vec<Value> {
    diags.iter().filter(|d| d["source"] == "cairn status").cloned().collect()
}

#[test]
fn lsp_status_shows_an_oom_kill_on_the_memory_line_until_the_file_changes() {
    let env = env();
    let dir = env.write_stack("ops", STACK);
    env.cairn(&["apply", dir.to_str().unwrap(), "--auto-approve", "--timeout", "5s"]).code(1);

    let mut lsp = Lsp::start(&env, &env.kubeconfig);
    let uri = format!("file://{}", dir.join("main.cairn").display());
    lsp.send(json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": { "textDocument": { "uri": uri, "languageId": "cairn", "version": 1, "text": STACK } } }));
    let opened = lsp.until(10, |m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str());
    assert_eq!(opened["params"]["diagnostics"], json!([]), "the stack compiles cleanly: {opened}");

    lsp.send(json!({ "jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand",
        "params": { "command": "cairn.status", "arguments": [uri] } }));
    let seen = lsp.until_all(60, |m| m["id"] == 2);
    let answer = seen.last().unwrap();
    assert_eq!(answer["result"], json!({ "healthy": 1, "unhealthy": 1 }), "{answer}");
    let diags = published(&seen, &uri);
    let found = from_status(&diags);
    assert_eq!(found.len(), 1, "one finding, none for the healthy workload: {diags:#?}");
    let oom = &found[0];
    assert_eq!(oom["code"], "E0802", "{oom:#}");
    assert_eq!(oom["severity"], 1, "an error: {oom:#}");
    assert_eq!(oom["range"]["start"]["line"], line_of("memory = 128Mi"), "on the memory line: {oom:#}");
    assert_eq!(oom["range"]["end"]["line"], line_of("memory = 128Mi"), "{oom:#}");
    let message = oom["message"].as_str().unwrap();
    assert!(message.contains("OOMKilled") && message.contains("help: raise its memory"), "{message}");
    // The compiler's diagnostics are still there beside it (none here).
    assert_eq!(diags.len(), 1, "{diags:#?}");

    // The file changes: the finding described the text it was made from, so it goes.
    let edited = STACK.replace("memory = 128Mi", "memory = 256Mi");
    lsp.send(json!({ "jsonrpc": "2.0", "method": "textDocument/didChange",
        "params": { "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": edited }] } }));
    let republished = lsp.until(10, |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str() && m["params"]["version"] == 2
    });
    assert_eq!(republished["params"]["diagnostics"], json!([]), "the finding is dropped: {republished}");
    lsp.stop();
}

#[test]
fn lsp_status_against_an_unreachable_cluster_is_an_error_and_the_server_keeps_serving() {
    let env = env();
    let dir = env.write_stack("ops", STACK);
    let unreachable = env.dir.path().join("unreachable");
    std::fs::write(&unreachable, kubeconfig_text("http://127.0.0.1:1")).unwrap();

    let mut lsp = Lsp::start(&env, &unreachable);
    let uri = format!("file://{}", dir.join("main.cairn").display());
    lsp.send(json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": { "textDocument": { "uri": uri, "languageId": "cairn", "version": 1, "text": STACK } } }));
    lsp.until(10, |m| m["method"] == "textDocument/publishDiagnostics");

    let started = Instant::now();
    // No argument: the stack of the last active document.
    lsp.send(json!({ "jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": { "command": "cairn.status" } }));
    // While it tries the cluster, a hover is answered at once.
    let hover = json!({ "jsonrpc": "2.0", "id": 3, "method": "textDocument/hover",
        "params": { "textDocument": { "uri": uri }, "position": { "line": line_of("workload \"cache\""), "character": 2 } } });
    lsp.send(hover.clone());
    let seen = lsp.until_all(5, |m| m["id"] == 3);
    assert!(seen.last().unwrap()["result"]["contents"].is_object(), "{seen:#?}");
    assert!(!seen.iter().any(|m| m["id"] == 2), "the hover was answered after the command: {seen:#?}");

    let answer = lsp.until(60, |m| m["id"] == 2);
    let message = answer["error"]["message"].as_str().unwrap_or_else(|| panic!("an error response: {answer}"));
    assert_eq!(answer["error"]["code"], -32803, "RequestFailed: {answer}");
    assert!(message.contains("cannot reach the Kubernetes API at http://127.0.0.1:1"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(45), "answered within the engine's timeouts: {:?}", started.elapsed());

    // And it still serves.
    lsp.send(json!({ "jsonrpc": "2.0", "id": 4, "method": "textDocument/hover",
        "params": { "textDocument": { "uri": uri }, "position": { "line": line_of("workload \"cache\""), "character": 2 } } }));
    let again = lsp.until(10, |m| m["id"] == 4);
    assert!(again["result"]["contents"].is_object(), "{again}");
    lsp.stop();
}
