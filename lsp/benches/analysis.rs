//! The language server on a large stack: a generated file of about 5,000 lines (namespaces,
//! quotas, configs, secrets, workloads; the generator is `cli/benches/support/stackgen.rs`'s, its
//! namespace files concatenated) beside a small `main.cairn` and `storage.cairn`. Run with
//! `cargo bench -p cairn-lsp --bench analysis`.
//!
//! - `analysis/change`: one change to the big file, then the compilation the server runs for it
//!   (parse cache warm: only the changed file is parsed again);
//! - `analysis/cold`: the same compilation without a cache (what every change cost before);
//! - `server/change_to_diagnostics`: `didChange` → `publishDiagnostics` of that version, over an
//!   in-memory connection, including the debounce;
//! - `server/hover`, `server/completion`: request → response in the big file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

#[path = "../../cli/benches/support/stackgen.rs"]
mod stackgen;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_compiler::{compile, compile_with, MapEnv, MemoryLoader, Mode, ParseCache};
use cairn_lsp::Server;
use criterion::{criterion_group, criterion_main, Criterion};
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{json, Value};

const LINES: usize = 5_000;

/// (main.cairn, storage.cairn, the big file) for a stack of about `LINES` lines in the big file.
fn stack() -> Vec<(String, String)> {
    let mut n = 10;
    loop {
        let files = stackgen::generate(n);
        let (small, teams) = files.split_at(2);
        let big: String = teams.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("\n");
        if big.lines().count() >= LINES {
            let mut out = small.to_vec();
            out.push(("teams.cairn".to_string(), big));
            return out;
        }
        n += 10;
    }
}

fn uri(path: &Path) -> String {
    cairn_lsp::path_to_uri(path).unwrap().as_str().to_string()
}

/// A line and column of `needle` in `text` (UTF-16 = bytes here: the text is ASCII).
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    (line, col)
}

fn analysis(c: &mut Criterion) {
    let files = stack();
    let dir = PathBuf::from("/bench/stack");
    let big = files[2].1.clone();
    eprintln!("the big file: {} lines, {} bytes", big.lines().count(), big.len());
    let mut loader = MemoryLoader::new();
    for (name, text) in &files {
        loader.insert(dir.join(name), text.clone());
    }
    let env = MapEnv::default();
    let first = compile(&loader, &env, &dir, Mode::Check).unwrap();
    assert!(!first.has_errors(), "{:?}", first.diagnostics.iter().find(|d| d.is_error()));

    let mut g = c.benchmark_group("analysis");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    let mut cache = ParseCache::new();
    let mut edit = 0u64;
    g.bench_function("change", |b| {
        b.iter(|| {
            edit += 1;
            loader.insert(dir.join("teams.cairn"), format!("{big}\n# edit {edit}\n"));
            compile_with(&loader, &env, &dir, Mode::Check, &mut cache).unwrap()
        })
    });
    g.bench_function("cold", |b| b.iter(|| compile(&loader, &env, &dir, Mode::Check).unwrap()));
    g.finish();
}

/// The client's side of a running server.
struct Client {
    conn: Connection,
    next: i32,
}

impl Client {
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = RequestId::from(self.next);
        self.conn.sender.send(Request::new(id.clone(), method.to_string(), params).into()).unwrap();
        loop {
            match self.conn.receiver.recv().unwrap() {
                Message::Response(r) if r.id == id => return r.response_result.unwrap(),
                _ => {}
            }
        }
    }

    fn notify(&self, method: &str, params: Value) {
        self.conn.sender.send(Notification::new(method.to_string(), params).into()).unwrap();
    }

    fn published(&self, version: i32) {
        loop {
            if let Message::Notification(n) = self.conn.receiver.recv().unwrap() {
                if n.method == "textDocument/publishDiagnostics" && n.params["version"] == version {
                    return;
                }
            }
        }
    }
}

fn server(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bench");
    std::fs::create_dir(&dir).unwrap();
    let files = stack();
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let big = files[2].1.clone();
    let (server_side, conn) = Connection::memory();
    let thread = std::thread::spawn(move || Server::new(server_side).run());
    let mut client = Client { conn, next: 0 };
    client.request("initialize", json!({ "capabilities": {} }));
    client.notify("initialized", json!({}));
    let teams = uri(&dir.join("teams.cairn"));
    client.notify("textDocument/didOpen", json!({ "textDocument": { "uri": teams, "languageId": "cairn", "version": 1, "text": big } }));
    client.published(1);

    let mut g = c.benchmark_group("server");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    let mut version = 1;
    g.bench_function("change_to_diagnostics", |b| {
        b.iter(|| {
            version += 1;
            client.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": teams, "version": version }, "contentChanges": [{ "text": format!("{big}\n# edit {version}\n") }] }),
            );
            client.published(version);
        })
    });
    // Hover on the last workload's `image`, completion in its body.
    let text = format!("{big}\n# edit {version}\n");
    let last = text.rfind("workload \"").unwrap();
    let (line, col) = position(&text[last..], "image");
    let (base, _) = position(&text, &text[last..last + 20]);
    let hover = json!({ "textDocument": { "uri": teams }, "position": { "line": base + line, "character": col + 1 } });
    let complete = json!({ "textDocument": { "uri": teams }, "position": { "line": base + line, "character": 2 } });
    assert!(client.request("textDocument/hover", hover.clone())["contents"].to_string().contains("image"));
    assert!(!client.request("textDocument/completion", complete.clone()).as_array().unwrap().is_empty());
    g.bench_function("hover", |b| b.iter(|| client.request("textDocument/hover", hover.clone())));
    g.bench_function("completion", |b| b.iter(|| client.request("textDocument/completion", complete.clone())));
    g.finish();

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    thread.join().unwrap().unwrap();
}

criterion_group!(benches, analysis, server);
criterion_main!(benches);
