//! The server's parse caches, seen from inside: a change to one file re-parses that file only.

use std::path::Path;

use lsp_server::{Connection, Notification};
use serde_json::json;

use super::Server;

fn notify(s: &mut Server, method: &str, params: serde_json::Value) {
    s.on_notification(Notification::new(method.to_string(), params)).unwrap();
}

fn uri(path: &Path) -> String {
    crate::path_to_uri(path).unwrap().as_str().to_string()
}

/// (files parsed, parses reused) of the stack in `dir` so far.
fn counts(s: &Server, dir: &Path) -> (usize, usize) {
    let parses = s.parses.borrow();
    let c = parses.get(dir).expect("the stack was compiled");
    (c.parsed(), c.reused())
}

#[test]
fn a_change_to_one_file_reparses_that_file_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.cairn"), "namespace \"shop\" {}\n").unwrap();
    std::fs::write(dir.join("c.cairn"), "import \"std/apps\"\n\nnamespace \"other\" {}\n").unwrap();
    let b = dir.join("b.cairn");
    let (server_side, _client) = Connection::memory();
    let mut s = Server::new(server_side);

    let text = |n: u32| format!("pool \"p\" {{\n  size = {n}\n}}\n");
    notify(
        &mut s,
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(&b), "languageId": "cairn", "version": 1, "text": text(1) } }),
    );
    // a, b, c and std/apps, parsed once each.
    let (parsed, _) = counts(&s, &dir);
    assert_eq!(parsed, 4);

    for v in 2..5 {
        notify(
            &mut s,
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(&b), "version": v }, "contentChanges": [{ "text": text(v as u32) }] }),
        );
    }
    // Debounced: nothing compiled yet.
    assert_eq!(counts(&s, &dir), (4, 0));
    s.flush().unwrap();
    assert_eq!(counts(&s, &dir), (5, 3), "only b.cairn is parsed again; a, c and std/apps are reused");
    assert_eq!(s.parses.borrow().get(&dir).map(|c| c.len()), Some(4), "the cache holds the last compilation's parses");
}
