//! The editor's side of an in-memory connection to the language server, shared by the protocol
//! and navigation tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use cairn_compiler::MapEnv;
use cairn_lsp::Server;
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{json, Value};

/// The editor's side of the connection.
pub struct Client {
    pub conn: Connection,
    next_id: i32,
    pub server: Option<JoinHandle<Result<(), cairn_lsp::Error>>>,
    /// Notifications received while waiting for a response.
    pub pending: Vec<Notification>,
    pub capabilities: Value,
}

impl Client {
    /// Starts a server and runs the initialize handshake.
    pub fn start() -> Client {
        Client::start_with(Server::new)
    }

    /// Starts a server whose `env()` reads only `vars`, and runs the initialize handshake.
    pub fn start_with_env(vars: &[(&str, &str)]) -> Client {
        let env = MapEnv(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        Client::start_with(move |conn| Server::new(conn).with_environment(Box::new(env)))
    }

    /// Starts the server `make` builds on the connection, and runs the initialize handshake.
    fn start_with(make: impl FnOnce(Connection) -> Server + Send + 'static) -> Client {
        let (server_side, client_side) = Connection::memory();
        let server = std::thread::spawn(move || make(server_side).run());
        let mut c = Client { conn: client_side, next_id: 0, server: Some(server), pending: Vec::new(), capabilities: Value::Null };
        let init = c.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
        c.capabilities = ok(init);
        c.notify("initialized", json!({}));
        c
    }

    pub fn recv(&self) -> Message {
        self.conn.receiver.recv_timeout(Duration::from_secs(60)).expect("the server answers within a minute")
    }

    pub fn request(&mut self, method: &str, params: Value) -> Response {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.conn.sender.send(Request::new(id.clone(), method.to_string(), params).into()).unwrap();
        loop {
            match self.recv() {
                Message::Response(r) if r.id == id => return r,
                Message::Notification(n) => self.pending.push(n),
                other => panic!("unexpected message {other:?}"),
            }
        }
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.conn.sender.send(Notification::new(method.to_string(), params).into()).unwrap();
    }

    /// The next `publishDiagnostics` for `uri`, in the order the server sent them.
    pub fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let found = self.pending.iter().position(|n| n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri);
            if let Some(i) = found {
                let n = self.pending.remove(i);
                return n.params["diagnostics"].as_array().cloned().unwrap_or_default();
            }
            match self.recv() {
                Message::Notification(n) => self.pending.push(n),
                other => panic!("unexpected message {other:?}"),
            }
        }
    }

    pub fn open(&self, path: &Path, text: &str) -> String {
        let uri = uri(path);
        self.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "cairn", "version": 1, "text": text } }));
        uri
    }

    pub fn change(&self, uri: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    pub fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Response {
        self.request(method, json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } }))
    }

    /// `shutdown` then `exit`; the server must stop cleanly.
    pub fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(ok(r), Value::Null);
        self.notify("exit", Value::Null);
        let result = self.server.take().unwrap().join().expect("the server thread does not panic");
        assert!(result.is_ok(), "{result:?}");
    }
}

pub fn ok(r: Response) -> Value {
    match r.response_result {
        Ok(v) => v,
        Err(e) => panic!("expected a result, got {e:?}"),
    }
}

pub fn uri(path: &Path) -> String {
    cairn_lsp::path_to_uri(path).unwrap().as_str().to_string()
}

pub fn examples(stack: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("examples").join(stack).canonicalize().unwrap()
}

/// An empty stack directory named `demo` (a temporary directory's own name is not a valid stack
/// name).
pub fn stack_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    std::fs::create_dir(&dir).unwrap();
    (tmp, dir)
}
