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

/// `KUBECONFIG=a:missing:b` is merged as kubectl merges it: the first file naming a context or
/// cluster wins it, `current-context` comes from the first file that sets one, missing files are
/// skipped.
#[test]
fn a_kubeconfig_list_is_merged_as_kubectl_merges_it() {
    let env = env();
    let first = env.dir.path().join("first");
    let second = env.dir.path().join("second");
    std::fs::write(
        &first,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sb\n  cluster:\n    server: {}\ncontexts:\n- name: work\n  context:\n    cluster: sb\n    user: me\nusers:\n- name: me\n  user: {{}}\n",
            env.sb.url()
        ),
    )
    .unwrap();
    std::fs::write(
        &second,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sb\n  cluster:\n    server: http://127.0.0.1:1\n- name: bad\n  cluster:\n    server: http://127.0.0.1:1\ncontexts:\n- name: work\n  context:\n    cluster: bad\n    user: me\n- name: other\n  context:\n    cluster: bad\n    user: me\ncurrent-context: work\nusers:\n- name: me\n  user: {}\n",
    )
    .unwrap();
    let list = std::env::join_paths([first.clone(), env.dir.path().join("missing"), second.clone()]).unwrap();
    let shop = env.stack("shop");
    let mut c = env.command_with(None, &["plan", shop.to_str().unwrap(), "-v"]);
    c.env("KUBECONFIG", &list);
    let run = run_of(c.output().unwrap()).code(0);
    assert!(run.stdout.contains(&env.sb.url()), "the first file's context and cluster win: {}", run.all());

    // An unknown context lists those the merged kubeconfig has.
    let mut c = env.command_with(None, &["plan", shop.to_str().unwrap(), "--context", "nope"]);
    c.env("KUBECONFIG", &list);
    let all = run_of(c.output().unwrap()).code(1).all();
    assert!(all.contains("no context `nope`") && all.contains("it has: work, other"), "{all}");
    assert!(all.contains("--context NAME"), "{all}");
}
