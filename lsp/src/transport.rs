//! The stdio transport: JSON-RPC frames (`Content-Length` headers, then the body) read from
//! stdin by our own reader thread and written to stdout by a writer thread.
//!
//! lsp-server's own stdio reader stops at the first frame that is not valid JSON, which ends the
//! server. This one answers such a frame with a JSON-RPC error response and goes on: a body that
//! is not JSON (or not UTF-8) gets `-32700 Parse error`, JSON that is not a message gets
//! `-32600 Invalid Request` (with the request's id when it has a usable one, else `null`), and a
//! header block without a valid `Content-Length` gets `-32700` too, after which the reader skips
//! to the next `Content-Length` header. Only the end of the input (or `exit`) stops the reader.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use lsp_server::{Connection, Message};
use serde_json::{json, Value};

/// JSON-RPC's "Parse error".
pub const PARSE_ERROR: i32 = -32700;
/// JSON-RPC's "Invalid Request".
pub const INVALID_REQUEST: i32 = -32600;
/// The largest body the reader accepts (a larger `Content-Length` is a bad frame).
pub const MAX_BODY: usize = 64 << 20;

/// The reader and writer threads of a [`connect`]ed transport.
pub struct IoThreads {
    reader: JoinHandle<()>,
    writer: JoinHandle<io::Result<()>>,
}

impl IoThreads {
    /// Waits for both threads: the writer ends once the server's side of the connection is
    /// dropped, the reader at the end of the input or after forwarding `exit`.
    pub fn join(self) -> io::Result<()> {
        let writer = self.writer.join().map_err(|_| io::Error::other("the LSP writer thread panicked"))?;
        self.reader.join().map_err(|_| io::Error::other("the LSP reader thread panicked"))?;
        writer
    }
}

/// A connection over stdin and stdout.
pub fn stdio() -> (Connection, IoThreads) {
    connect(io::stdin(), io::stdout())
}

/// A connection reading frames from `input` and writing frames to `output`: what the server
/// sends goes out through a writer thread; what comes in is read by a reader thread that
/// answers bad frames itself (see the module docs).
pub fn connect<R, W>(input: R, output: W) -> (Connection, IoThreads)
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let (server, ours) = Connection::memory();
    let out = Arc::new(Mutex::new(output));
    let reader = {
        let out = Arc::clone(&out);
        let sender = ours.sender;
        std::thread::spawn(move || {
            let mut frames = FrameReader::new(BufReader::new(input));
            loop {
                let answer = match frames.next_frame() {
                    Ok(Frame::Eof) | Err(_) => return,
                    Ok(Frame::Bad(why)) => error_response(Value::Null, PARSE_ERROR, &format!("Parse error: {why}")),
                    Ok(Frame::Body(body)) => match decode(&body) {
                        Ok(msg) => {
                            let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                            if sender.send(msg).is_err() || exit {
                                return;
                            }
                            continue;
                        }
                        Err(answer) => answer,
                    },
                };
                if write_raw(&out, &answer).is_err() {
                    return;
                }
            }
        })
    };
    let writer = {
        let receiver = ours.receiver;
        std::thread::spawn(move || {
            for msg in receiver {
                let mut w = out.lock().map_err(|_| io::Error::other("the LSP output lock is poisoned"))?;
                msg.write(&mut *w)?;
            }
            Ok(())
        })
    };
    (server, IoThreads { reader, writer })
}

/// A frame's body as a message, or the error response it gets.
pub fn decode(body: &[u8]) -> Result<Message, Value> {
    let value: Value = serde_json::from_slice(body).map_err(|e| error_response(Value::Null, PARSE_ERROR, &format!("Parse error: {e}")))?;
    let id = value.get("id").filter(|id| id.is_string() || id.is_i64() || id.is_u64()).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|e| error_response(id, INVALID_REQUEST, &format!("Invalid Request: {e}")))
}

/// A JSON-RPC error response (built by hand: lsp-server's `Response` cannot carry a `null` id).
fn error_response(id: Value, code: i32, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

fn write_raw<W: Write>(out: &Mutex<W>, msg: &Value) -> io::Result<()> {
    let body = msg.to_string();
    let mut w = out.lock().map_err(|_| io::Error::other("the LSP output lock is poisoned"))?;
    write!(w, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    w.flush()
}

/// What the reader found next in the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A body, as framed by a valid `Content-Length`.
    Body(Vec<u8>),
    /// A header block that cannot be framed, and why; the next read first skips to the next
    /// `Content-Length` header.
    Bad(String),
    /// The end of the input.
    Eof,
}

/// Splits a byte stream into frames, resynchronizing after bad headers.
pub struct FrameReader<R> {
    input: R,
    /// A header line found while resynchronizing: the first line of the next header block.
    pending: Option<Vec<u8>>,
    /// The last frame was bad: skip to the next `Content-Length` header before reading on
    /// (done lazily, so the bad frame's error response goes out before the reader waits for
    /// more input), starting with the line that broke it, if any.
    resync: Option<Option<Vec<u8>>>,
}

const CONTENT_LENGTH: &[u8] = b"content-length";

impl<R: BufRead> FrameReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> FrameReader<R> {
        FrameReader { input, pending: None, resync: None }
    }

    fn line(&mut self) -> io::Result<Option<Vec<u8>>> {
        if let Some(l) = self.pending.take() {
            return Ok(Some(l));
        }
        let mut l = Vec::new();
        Ok(if self.input.read_until(b'\n', &mut l)? == 0 { None } else { Some(l) })
    }

    /// The next frame.
    pub fn next_frame(&mut self) -> io::Result<Frame> {
        if let Some(broken) = self.resync.take() {
            self.skip_to_header(broken)?;
        }
        let mut len: Option<usize> = None;
        let mut bad: Option<String> = None;
        let mut seen = false;
        loop {
            let Some(line) = self.line()? else { return Ok(Frame::Eof) };
            let text = trim_eol(&line);
            if text.is_empty() {
                if seen {
                    break;
                }
                // Blank lines between frames are skipped.
                continue;
            }
            seen = true;
            let header = text.iter().position(|b| *b == b':').and_then(|at| {
                let (name, value) = text.split_at(at);
                let token = !name.is_empty() && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-');
                token.then(|| (name, value.get(1..).unwrap_or_default()))
            });
            match header {
                Some((name, value)) if name.eq_ignore_ascii_case(CONTENT_LENGTH) => {
                    let value = String::from_utf8_lossy(value);
                    match value.trim().parse::<usize>() {
                        Ok(n) if n <= MAX_BODY => len = Some(n),
                        Ok(n) => bad = Some(format!("Content-Length {n} is over the limit of {MAX_BODY} bytes")),
                        Err(_) => bad = Some(format!("invalid Content-Length `{}`", value.trim())),
                    }
                }
                Some(_) => {}
                None => {
                    // Not a header: the block is broken here; skip to the next one.
                    self.resync = Some(Some(line));
                    return Ok(Frame::Bad("expected a `Name: value` header line".to_string()));
                }
            }
        }
        match (bad, len) {
            (None, Some(n)) => {
                let mut body = vec![0; n];
                match self.input.read_exact(&mut body) {
                    Ok(()) => Ok(Frame::Body(body)),
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Frame::Eof),
                    Err(e) => Err(e),
                }
            }
            (bad, _) => {
                self.resync = Some(None);
                Ok(Frame::Bad(bad.unwrap_or_else(|| "no Content-Length header".to_string())))
            }
        }
    }

    /// Skips input up to the next `Content-Length` header (looked for anywhere in a line, so a
    /// body without a final newline does not hide the header after it), which becomes the first
    /// line of the next block. `broken` is the line that broke the current block: a header that
    /// starts later in it counts.
    fn skip_to_header(&mut self, broken: Option<Vec<u8>>) -> io::Result<()> {
        if let Some(line) = broken {
            if let Some(at) = find_content_length(&line).filter(|at| *at > 0) {
                self.pending = line.get(at..).map(<[u8]>::to_vec);
                return Ok(());
            }
        }
        loop {
            let mut l = Vec::new();
            if self.input.read_until(b'\n', &mut l)? == 0 {
                return Ok(());
            }
            if let Some(at) = find_content_length(&l) {
                self.pending = l.get(at..).map(<[u8]>::to_vec);
                return Ok(());
            }
        }
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn find_content_length(line: &[u8]) -> Option<usize> {
    line.windows(CONTENT_LENGTH.len().saturating_add(1))
        .position(|w| w.split_last().is_some_and(|(colon, name)| *colon == b':' && name.eq_ignore_ascii_case(CONTENT_LENGTH)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = FrameReader::new(input);
        let mut out = Vec::new();
        loop {
            let f = r.next_frame().unwrap();
            if f == Frame::Eof {
                return out;
            }
            out.push(f);
        }
    }

    fn framed(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn frames_are_split_by_content_length_and_other_headers_are_ignored() {
        let input = format!("{}Content-Type: application/vscode-jsonrpc\r\ncontent-length: 2\r\n\r\n{{}}", framed("[1]"));
        assert_eq!(frames(input.as_bytes()), vec![Frame::Body(b"[1]".to_vec()), Frame::Body(b"{}".to_vec())]);
    }

    #[test]
    fn a_bad_or_missing_content_length_is_reported_and_the_reader_resynchronizes() {
        let input = format!(
            "Content-Length: abc\r\n\r\n{{\"x\":1}}\r\n{}Content-Type: x\r\n\r\nbody without length{}garbage line\r\n{}Content-Length: 99999999999\r\n\r\n{}",
            framed("1"),
            framed("2"),
            framed("3"),
            framed("4")
        );
        let got = frames(input.as_bytes());
        assert_eq!(
            got.iter().map(|f| matches!(f, Frame::Bad(_))).collect::<Vec<_>>(),
            vec![true, false, true, false, true, false, true, false],
            "{got:?}"
        );
        let bodies: Vec<&Frame> = got.iter().filter(|f| matches!(f, Frame::Body(_))).collect();
        assert_eq!(
            bodies,
            vec![&Frame::Body(b"1".to_vec()), &Frame::Body(b"2".to_vec()), &Frame::Body(b"3".to_vec()), &Frame::Body(b"4".to_vec())]
        );
    }

    #[test]
    fn a_truncated_body_is_the_end() {
        assert_eq!(frames(b"Content-Length: 10\r\n\r\n{}"), vec![]);
    }

    #[test]
    fn bodies_decode_to_messages_or_error_responses() {
        assert!(matches!(decode(br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#), Ok(Message::Notification(_))));
        let e = decode(b"{not json").unwrap_err();
        assert_eq!((e["id"].clone(), e["error"]["code"].clone()), (Value::Null, json!(PARSE_ERROR)));
        let e = decode(b"\xff\xfe\"").unwrap_err();
        assert_eq!(e["error"]["code"], PARSE_ERROR);
        let e = decode(br#"{"jsonrpc":"2.0","id":7,"method":12}"#).unwrap_err();
        assert_eq!((e["id"].clone(), e["error"]["code"].clone()), (json!(7), json!(INVALID_REQUEST)));
        let e = decode(b"[1,2]").unwrap_err();
        assert_eq!((e["id"].clone(), e["error"]["code"].clone()), (Value::Null, json!(INVALID_REQUEST)));
    }
}
