//! Requests per second of the sandbox over loopback HTTP: LIST of 10,000 ConfigMaps (one
//! request returns them all, as kubectl without paging would ask), LIST in pages of 500, and
//! server-side apply patches (each changes one value, so every one is a real write).
//!
//! `cargo bench -p cairn-sandbox --bench api`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use cairn_sandbox::{Options, Sandbox};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;

/// A keep-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(sb: &Sandbox) -> Conn {
        let stream = TcpStream::connect(sb.addr()).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream }
    }

    /// Sends a request and reads the whole response; returns status and body length.
    fn send(&mut self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, usize) {
        write!(
            self.writer,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        self.writer.write_all(body).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut buf = vec![0; length];
        self.reader.read_exact(&mut buf).unwrap();
        (status, length)
    }
}

fn populated() -> Sandbox {
    let sb = Sandbox::start(Options::default()).unwrap();
    for i in 0..10_000 {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i:05}"), "labels": {"app": "bench", "shard": (i % 10).to_string()}}, "data": {"key": "value", "index": i.to_string()}});
        let (code, _) = sb.call("POST", "/api/v1/namespaces/default/configmaps", Some("application/json"), Some(&cm));
        assert_eq!(code, 201);
    }
    sb
}

fn bench(c: &mut Criterion) {
    let sb = populated();
    let mut conn = Conn::open(&sb);
    let mut group = c.benchmark_group("sandbox");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    group.bench_function("list 10k configmaps", |b| {
        b.iter(|| {
            let (status, len) = conn.send("GET", "/api/v1/namespaces/default/configmaps", "application/json", b"");
            assert_eq!(status, 200);
            assert!(len > 1_000_000);
        })
    });
    group.bench_function("list 10k configmaps in pages of 500 (selector)", |b| {
        b.iter(|| {
            let (status, _) =
                conn.send("GET", "/api/v1/namespaces/default/configmaps?labelSelector=app%3Dbench&limit=500", "application/json", b"");
            assert_eq!(status, 200);
        })
    });
    group.sample_size(50);
    let mut n = 0u64;
    group.bench_function("server-side apply patch", |b| {
        b.iter(|| {
            n += 1;
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-00042"}, "data": {"key": format!("v{n}"), "index": "42"}}).to_string();
            let (status, _) = conn.send("PATCH", "/api/v1/namespaces/default/configmaps/cm-00042?fieldManager=bench&force=true", "application/apply-patch+yaml", body.as_bytes());
            assert_eq!(status, 200);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
