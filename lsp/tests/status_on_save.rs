//! The `statusOnSave` setting: with it, a save runs `cairn.status` (here without a cluster, so
//! the run's error is logged, not answered); without it, a save reads nothing live.

use std::time::Duration;

use cairn_lsp::Server;
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{json, Value};

fn notify(c: &Connection, method: &str, params: Value) {
    c.sender.send(Notification::new(method.to_string(), params).into()).unwrap();
}

/// The messages the server sends after a save of a stack's file, with `initializationOptions`:
/// up to the first log line, or until `wait` passes without a message.
fn after_save(options: Value, wait: Duration) -> Vec<Message> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    std::fs::create_dir(&dir).unwrap();
    let (server_side, c) = Connection::memory();
    let server = std::thread::spawn(move || Server::new(server_side).run());
    let init = json!({ "capabilities": {}, "initializationOptions": options });
    c.sender.send(Request::new(RequestId::from(1), "initialize".to_string(), init).into()).unwrap();
    assert!(matches!(c.receiver.recv_timeout(Duration::from_secs(60)), Ok(Message::Response(_))));
    notify(&c, "initialized", json!({}));
    let main = cairn_lsp::path_to_uri(&dir.join("main.cairn")).unwrap().as_str().to_string();
    let text = "namespace \"shop\" {}\n";
    notify(&c, "textDocument/didOpen", json!({ "textDocument": { "uri": main, "languageId": "cairn", "version": 1, "text": text } }));
    notify(&c, "textDocument/didSave", json!({ "textDocument": { "uri": main } }));
    let mut seen = Vec::new();
    // Until `wait` passes without a message, or the first log line.
    while let Ok(m) = c.receiver.recv_timeout(wait) {
        let log = matches!(&m, Message::Notification(n) if n.method == "window/logMessage");
        seen.push(m);
        if log {
            break;
        }
    }
    c.sender.send(Request::new(RequestId::from(2), "shutdown".to_string(), Value::Null).into()).unwrap();
    while !matches!(c.receiver.recv_timeout(Duration::from_secs(60)), Ok(Message::Response(_)) | Err(_)) {}
    notify(&c, "exit", Value::Null);
    server.join().unwrap().unwrap();
    seen
}

fn logged(seen: &[Message]) -> Vec<String> {
    seen.iter()
        .filter_map(|m| match m {
            Message::Notification(n) if n.method == "window/logMessage" => n.params["message"].as_str().map(str::to_owned),
            _ => None,
        })
        .collect()
}

#[test]
fn with_status_on_save_a_save_runs_cairn_status() {
    for options in [json!({ "statusOnSave": true }), json!({ "cairn": { "statusOnSave": true } })] {
        let seen = after_save(options.clone(), Duration::from_secs(30));
        let logs = logged(&seen);
        assert!(logs.iter().any(|l| l.starts_with("cairn.status: ") && l.contains("no cluster to talk to")), "{options}: {seen:#?}");
    }
}

#[test]
fn without_the_setting_a_save_reads_nothing_live() {
    let seen = after_save(json!(null), Duration::from_millis(500));
    assert!(logged(&seen).is_empty(), "{seen:#?}");
    assert!(seen.iter().all(|m| matches!(m, Message::Notification(n) if n.method == "textDocument/publishDiagnostics")), "{seen:#?}");
}
