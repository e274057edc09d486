//! `cairn lsp` over real stdio: framed JSON-RPC in, framed JSON-RPC out, exit code 0 after
//! `shutdown` and `exit`. (The features are tested in `lsp/tests/protocol.rs`.)

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdout, Command, Stdio};

use serde_json::{json, Value};

fn send(stdin: &mut impl Write, msg: &Value) {
    let body = msg.to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to the server");
    stdin.flush().expect("flush");
}

fn recv(stdout: &mut BufReader<ChildStdout>) -> Value {
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).expect("read a header") > 0, "the server closed stdout");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            len = n.parse().expect("a length");
        }
    }
    let mut body = vec![0; len];
    stdout.read_exact(&mut body).expect("read the body");
    serde_json::from_slice(&body).expect("JSON")
}

#[test]
fn cairn_lsp_speaks_json_rpc_on_stdio_and_exits_cleanly() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("stack");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let uri = format!("file://{}", dir.join("main.cairn").display());

    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cairn lsp");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));

    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }));
    let init = recv(&mut stdout);
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["capabilities"]["hoverProvider"], true);
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));

    let text = "pool \"p\" {\n  sise = 3\n}\n";
    send(
        &mut stdin,
        &json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen",
                 "params": { "textDocument": { "uri": uri, "languageId": "cairn", "version": 1, "text": text } } }),
    );
    let published = recv(&mut stdout);
    assert_eq!(published["method"], "textDocument/publishDiagnostics");
    assert_eq!(published["params"]["uri"], uri.as_str());
    let diags = published["params"]["diagnostics"].as_array().expect("a list");
    assert!(diags.iter().any(|d| d["code"] == "E0303"), "unknown attribute `sise`: {diags:?}");

    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }));
    let down = recv(&mut stdout);
    assert_eq!(down["id"], 2);
    assert_eq!(down["result"], Value::Null);
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "exit" }));
    drop(stdin);
    let status = child.wait().expect("wait");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    assert!(status.success(), "{status:?}: {stderr}");
    assert_eq!(stderr, "", "nothing on stderr");
}

fn send_raw(stdin: &mut impl Write, bytes: &[u8]) {
    stdin.write_all(bytes).expect("write to the server");
    stdin.flush().expect("flush");
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut f = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    f.extend_from_slice(body);
    f
}

#[test]
fn malformed_frames_get_error_responses_and_the_server_keeps_serving() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("stack");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let uri = format!("file://{}", dir.join("main.cairn").display());

    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cairn lsp");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));

    // Before the handshake too: garbage never reaches the server.
    send_raw(&mut stdin, &framed(b"{this is not json"));
    let e = recv(&mut stdout);
    assert_eq!((&e["id"], &e["error"]["code"]), (&Value::Null, &json!(-32700)), "{e}");

    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }));
    assert_eq!(recv(&mut stdout)["id"], 1);
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));

    // Not UTF-8.
    send_raw(&mut stdin, &framed(b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\xfe\"}"));
    let e = recv(&mut stdout);
    assert_eq!((&e["id"], &e["error"]["code"]), (&Value::Null, &json!(-32700)), "{e}");
    // JSON, but not a message: Invalid Request, with the id when there is one.
    send_raw(&mut stdin, &framed(b"[1, 2, 3]"));
    let e = recv(&mut stdout);
    assert_eq!((&e["id"], &e["error"]["code"]), (&Value::Null, &json!(-32600)), "{e}");
    send_raw(&mut stdin, &framed(br#"{"jsonrpc":"2.0","id":41,"method":42}"#));
    let e = recv(&mut stdout);
    assert_eq!((&e["id"], &e["error"]["code"]), (&json!(41), &json!(-32600)), "{e}");
    // A header block without Content-Length, then a bad one: each is reported, and the reader
    // finds the next frame (here, right after a body with no newline).
    send_raw(&mut stdin, b"Content-Type: application/vscode-jsonrpc\r\n\r\n{}");
    let e = recv(&mut stdout);
    assert_eq!((&e["id"], &e["error"]["code"]), (&Value::Null, &json!(-32700)), "the block without Content-Length: {e}");
    send_raw(&mut stdin, b"Content-Length: lots\r\n\r\n{\"jsonrpc\":\"2.0\"}\r\n");
    let e = recv(&mut stdout);
    assert_eq!((&e["id"], &e["error"]["code"]), (&Value::Null, &json!(-32700)), "{e}");

    let text = "pool \"p\" {\n  size = 3\n}\n";
    send(
        &mut stdin,
        &json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen",
                 "params": { "textDocument": { "uri": uri, "languageId": "cairn", "version": 1, "text": text } } }),
    );
    let published = recv(&mut stdout);
    assert_eq!(published["method"], "textDocument/publishDiagnostics", "{published}");
    assert_eq!(published["params"]["diagnostics"], json!([]));

    send(
        &mut stdin,
        &json!({ "jsonrpc": "2.0", "id": 2, "method": "textDocument/hover",
                 "params": { "textDocument": { "uri": uri }, "position": { "line": 1, "character": 3 } } }),
    );
    let hover = recv(&mut stdout);
    assert_eq!(hover["id"], 2);
    assert!(hover["result"]["contents"].to_string().contains("size"), "{hover}");

    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 3, "method": "shutdown" }));
    let down = recv(&mut stdout);
    assert_eq!((&down["id"], &down["result"]), (&json!(3), &Value::Null));
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "exit" }));
    drop(stdin);
    let status = child.wait().expect("wait");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    assert!(status.success(), "{status:?}: {stderr}");
    assert_eq!(stderr, "", "nothing on stderr");
}

/// The next `publishDiagnostics` for `uri`, skipping other messages.
fn diagnostics_for(stdout: &mut BufReader<ChildStdout>, uri: &str) -> Vec<Value> {
    loop {
        let msg = recv(stdout);
        if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
            return msg["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
        }
    }
}

#[test]
fn policies_run_on_save_and_their_findings_go_at_the_next_change() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("stack");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("main.cairn");
    let text = "namespace \"team\" {}\n\nworkload \"edge\" {\n  namespace = namespace.team\n  image     = \"ghcr.io/acme/edge:latest\"\n  replicas  = 1\n  resources { memory = 128Mi }\n}\n\npolicy \"tags\" {\n  source = \"std:no-latest-tag\"\n}\n";
    std::fs::write(&path, text).expect("write the stack");
    let uri = format!("file://{}", path.display());

    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run cairn lsp");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }));
    let _ = recv(&mut stdout);
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));

    let p0001 = |diags: &[Value]| diags.iter().filter(|d| d["code"] == "P0001").cloned().collect::<Vec<_>>();
    send(
        &mut stdin,
        &json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen",
                 "params": { "textDocument": { "uri": uri, "languageId": "cairn", "version": 1, "text": text } } }),
    );
    let opened = diagnostics_for(&mut stdout, &uri);
    assert!(p0001(&opened).is_empty(), "policies wait for a save: {opened:?}");

    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "textDocument/didSave", "params": { "textDocument": { "uri": uri } } }));
    let saved = diagnostics_for(&mut stdout, &uri);
    let found = p0001(&saved);
    assert_eq!(found.len(), 1, "one violation, at the workload: {saved:?}");
    assert_eq!(found[0]["severity"], 1, "deny is an error");
    assert_eq!(found[0]["range"]["start"]["line"], 2, "at `workload \"edge\"`: {found:?}");
    assert!(found[0]["message"].as_str().unwrap_or_default().contains("latest"), "{found:?}");

    let edited = text.replace("replicas  = 1", "replicas  = 2");
    send(
        &mut stdin,
        &json!({ "jsonrpc": "2.0", "method": "textDocument/didChange",
                 "params": { "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": edited }] } }),
    );
    let changed = diagnostics_for(&mut stdout, &uri);
    assert!(p0001(&changed).is_empty(), "a change drops the findings of the last save: {changed:?}");

    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }));
    let _ = recv(&mut stdout);
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "exit" }));
    drop(stdin);
    assert!(child.wait().expect("wait").success());
}
