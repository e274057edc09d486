//! Finding and reaching the cluster: timeouts against a server that never answers, a wrong
//! scheme, kubeconfig lists and contexts, the running sandbox from anywhere, and relative paths
//! in `cluster` blocks.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::*;

/// A port that accepts connections and never answers: every socket is held open, unread.
fn silent_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            if held.len() > 16 {
                return;
            }
        }
    });
    (url, handle)
}

#[test]
fn plan_against_a_server_that_never_answers_fails_within_the_request_timeout() {
    let env = env();
    let (url, _server) = silent_server();
    let kc = env.dir.path().join("silent");
    std::fs::write(&kc, kubeconfig_text(&url)).unwrap();
    let shop = env.stack("shop");
    let started = Instant::now();
    let run = run_of(env.command_with(Some(&kc), &["plan", shop.to_str().unwrap(), "--request-timeout", "2s"]).output().unwrap()).code(1);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "plan took {took:?} against a silent server");
    let all = run.all();
    assert!(all.contains(&url), "the message names the server: {all}");
    assert!(all.contains("did not answer within 2s"), "says what happened: {all}");
    assert!(all.contains("server address and port"), "says what to check: {all}");
}

#[test]
fn an_https_address_of_a_plain_http_server_is_named_as_a_scheme_mismatch() {
    let env = env();
    let kc = env.dir.path().join("https");
    std::fs::write(&kc, kubeconfig_text(&env.sb.url().replace("http://", "https://"))).unwrap();
    let shop = env.stack("shop");
    let started = Instant::now();
    let run = run_of(env.command_with(Some(&kc), &["plan", shop.to_str().unwrap()]).output().unwrap()).code(1);
    // A failed TLS handshake is not retried: the answer comes at once.
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let all = run.all();
    assert!(all.contains("plain HTTP, not HTTPS") && all.contains("write http://"), "{all}");
}
