//! Helpers shared by the conformance tests: a started sandbox, a tiny HTTP/1.1 client over a
//! plain `TcpStream` (chunked bodies and watch streams included), and in-process setup calls.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use cairn_sandbox::{Action, Fault, Options, Sandbox};
use serde_json::Value;

/// The content type of server-side apply.
pub const APPLY: Option<&str> = Some("application/apply-patch+yaml");
/// The content type of a JSON merge patch.
pub const MERGE: Option<&str> = Some("application/merge-patch+json");

/// A fresh sandbox on a random port.
pub fn sandbox() -> Sandbox {
    Sandbox::start(Options::default()).expect("the sandbox starts")
}

/// One HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn request_bytes(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Vec<u8> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: cairn-conformance/0\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends one request on a new connection and returns everything the server sent before it closed
/// the connection (empty when it closed without a response). An error only for a failed connect
/// or write.
pub fn raw_exchange(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(&request_bytes(addr, method, path, &[], None))?;
    let mut out = Vec::new();
    // A reset after nothing was sent counts as "closed without a response" too.
    match stream.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(out),
        Err(e) => Err(e),
    }
}

/// Sends one request (`Connection: close`) and reads the whole response.
pub fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(&request_bytes(addr, method, path, headers, body)).expect("write request");
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader).unwrap_or_else(|e| panic!("{method} {path}: no response head: {e}"));
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    let length = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.trim().parse::<usize>().ok());
    let mut body = Vec::new();
    if chunked {
        while let Some(chunk) = read_chunk(&mut reader).expect("read chunk") {
            body.extend_from_slice(&chunk);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        reader.read_exact(&mut body).expect("read body");
    } else {
        reader.read_to_end(&mut body).expect("read body");
    }
    HttpResponse { status, headers, body }
}

/// GET with `Accept: application/json`.
pub fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    http(addr, "GET", path, &[("Accept", "application/json")], None)
}

/// A request with a JSON body of the given content type.
pub fn send_json(addr: SocketAddr, method: &str, path: &str, content_type: &str, body: &Value) -> HttpResponse {
    let bytes = serde_json::to_vec(body).unwrap();
    http(addr, method, path, &[("Content-Type", content_type), ("Accept", "application/json")], Some(&bytes))
}

fn read_head(reader: &mut impl BufRead) -> std::io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed before a status line"));
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok((status, headers))
}

/// One chunk of a chunked body; `None` at the last (empty) chunk.
fn read_chunk(reader: &mut impl BufRead) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad chunk size {line:?}")))?;
    if size == 0 {
        return Ok(None);
    }
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk)?;
    chunk.truncate(size);
    Ok(Some(chunk))
}

/// An open watch: events one JSON document per line.
pub struct Watch {
    reader: BufReader<TcpStream>,
    buffer: Vec<u8>,
    /// HTTP status of the watch response.
    pub status: u16,
}

impl Watch {
    /// Opens `GET path` (which should carry `watch=true`).
    pub fn open(addr: SocketAddr, path: &str) -> Watch {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(&request_bytes(addr, "GET", path, &[("Accept", "application/json")], None)).expect("write");
        let mut reader = BufReader::new(stream);
        reader.get_ref().set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let (status, _) = read_head(&mut reader).expect("watch response head");
        Watch { reader, buffer: Vec::new(), status }
    }

    /// The next event, waiting at most `timeout`; `None` on timeout or end of stream.
    pub fn next(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=pos).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(serde_json::from_slice(&line).expect("a watch event is JSON"));
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            self.reader.get_ref().set_read_timeout(Some(left.max(Duration::from_millis(1)))).ok()?;
            match read_chunk(&mut self.reader) {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

/// Applies `obj` in-process (server-side apply, manager `setup`), asserting success.
pub fn setup_apply(sb: &Sandbox, path: &str, obj: &Value) -> Value {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (code, body) = sb.call("PATCH", &format!("{path}{sep}fieldManager=setup"), APPLY, Some(obj));
    assert!(code == 200 || code == 201, "setup apply {path}: {code} {body}");
    body
}

/// Creates a namespace in-process.
pub fn setup_namespace(sb: &Sandbox, name: &str) {
    setup_apply(
        sb,
        &format!("/api/v1/namespaces/{name}"),
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    );
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `managedFields` entry of a manager and operation, if any.
pub fn managed_entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"].as_array()?.iter().find(|e| e["manager"] == manager && e["operation"] == operation)
}

/// Whether `fieldsV1` of an entry owns the path of keys (`["f:spec", "f:replicas"]`).
pub fn owns(entry: &Value, path: &[&str]) -> bool {
    let mut node = &entry["fieldsV1"];
    for key in path {
        node = &node[*key];
        if node.is_null() {
            return false;
        }
    }
    true
}
