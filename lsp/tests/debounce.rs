//! Debouncing: a burst of changes gives one compilation and one publish, for the last version;
//! requests during the burst see the latest text.

use std::path::Path;
use std::time::{Duration, Instant};

use cairn_lsp::{Server, DEBOUNCE};
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{json, Value};

fn notify(c: &Connection, method: &str, params: Value) {
    c.sender.send(Notification::new(method.to_string(), params).into()).unwrap();
}

fn recv(c: &Connection) -> Message {
    c.receiver.recv_timeout(Duration::from_secs(60)).expect("the server answers within a minute")
}

fn uri(path: &Path) -> String {
    cairn_lsp::path_to_uri(path).unwrap().as_str().to_string()
}

fn pool(name: &str, attr: &str) -> String {
    format!("pool \"{name}\" {{\n  {attr} = 3\n}}\n")
}

#[test]
fn quick_changes_publish_once_for_the_last_version_and_requests_see_the_latest_text() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    std::fs::create_dir(&dir).unwrap();
    let (server_side, c) = Connection::memory();
    let server = std::thread::spawn(move || Server::new(server_side).run());
    c.sender.send(Request::new(RequestId::from(1), "initialize".to_string(), json!({ "capabilities": {} })).into()).unwrap();
    assert!(matches!(recv(&c), Message::Response(_)));
    notify(&c, "initialized", json!({}));

    let main = uri(&dir.join("main.cairn"));
    notify(
        &c,
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": main, "languageId": "cairn", "version": 1, "text": pool("p1", "size") } }),
    );
    let Message::Notification(first) = recv(&c) else { panic!("publish on open") };
    assert_eq!((first.params["uri"].as_str(), &first.params["version"]), (Some(main.as_str()), &json!(1)));

    // A burst of changes; the last one has an unknown attribute.
    for v in 2..=6 {
        let attr = if v == 6 { "sise" } else { "size" };
        notify(
            &c,
            "textDocument/didChange",
            json!({ "textDocument": { "uri": main, "version": v }, "contentChanges": [{ "text": pool(&format!("p{v}"), attr) }] }),
        );
    }
    let last_change = Instant::now();
    // Asked during the debounce: answered from the latest text, before any publish.
    c.sender
        .send(
            Request::new(RequestId::from(2), "textDocument/documentSymbol".to_string(), json!({ "textDocument": { "uri": main } })).into(),
        )
        .unwrap();
    match recv(&c) {
        Message::Response(r) => {
            let symbols = r.response_result.unwrap();
            assert_eq!(symbols[0]["name"], "pool \"p6\"", "{symbols}");
        }
        other => panic!("the symbols come before the diagnostics: {other:?}"),
    }

    let mut published = Vec::new();
    while let Ok(msg) = c.receiver.recv_timeout(DEBOUNCE * 6) {
        match msg {
            Message::Notification(n) if n.method == "textDocument/publishDiagnostics" => published.push((n.params, last_change.elapsed())),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(published.len(), 1, "one publish for the burst: {published:?}");
    let (params, after) = &published[0];
    assert_eq!(params["version"], 6);
    assert_eq!(params["diagnostics"][0]["code"], "E0303", "{params}");
    assert!(*after >= DEBOUNCE, "published {after:?} after the last change, before the debounce ended");

    c.sender.send(Request::new(RequestId::from(3), "shutdown".to_string(), Value::Null).into()).unwrap();
    assert!(matches!(recv(&c), Message::Response(_)));
    notify(&c, "exit", Value::Null);
    assert!(server.join().unwrap().is_ok());
}

#[test]
fn saving_ends_the_debounce_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    std::fs::create_dir(&dir).unwrap();
    let (server_side, c) = Connection::memory();
    let server = std::thread::spawn(move || Server::new(server_side).run());
    c.sender.send(Request::new(RequestId::from(1), "initialize".to_string(), json!({ "capabilities": {} })).into()).unwrap();
    assert!(matches!(recv(&c), Message::Response(_)));
    notify(&c, "initialized", json!({}));
    let main = uri(&dir.join("main.cairn"));
    notify(
        &c,
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": main, "languageId": "cairn", "version": 1, "text": pool("p", "size") } }),
    );
    let _ = recv(&c);
    notify(
        &c,
        "textDocument/didChange",
        json!({ "textDocument": { "uri": main, "version": 2 }, "contentChanges": [{ "text": pool("p", "sise") }] }),
    );
    notify(&c, "textDocument/didSave", json!({ "textDocument": { "uri": main } }));
    let Message::Notification(n) = recv(&c) else { panic!("a publish") };
    assert_eq!((n.params["version"].clone(), n.params["diagnostics"][0]["code"].clone()), (json!(2), json!("E0303")));
    // The save published the change: nothing more is published for it.
    assert!(c.receiver.recv_timeout(DEBOUNCE * 4).is_err());
    c.sender.send(Request::new(RequestId::from(3), "shutdown".to_string(), Value::Null).into()).unwrap();
    assert!(matches!(recv(&c), Message::Response(_)));
    notify(&c, "exit", Value::Null);
    assert!(server.join().unwrap().is_ok());
}
