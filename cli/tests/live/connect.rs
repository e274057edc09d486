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

/// Stops a sandbox started by a test, whatever happens.
struct Down(std::process::Command);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = self.0.output();
    }
}

/// `cairn sandbox up` records where it runs, so plan, status and down find it from any
/// directory; `CAIRN_SANDBOX` names it explicitly.
#[test]
fn the_running_sandbox_is_found_from_any_directory() {
    let env = env();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let started_in = env.dir.path().join("lab");
    std::fs::create_dir_all(&started_in).unwrap();
    let in_dir = |cwd: &std::path::Path, args: &[&str]| {
        let mut c = env.command_with(None, args);
        c.current_dir(cwd);
        c
    };
    let up = run_of(in_dir(&started_in, &["sandbox", "up", "--port", &port]).output().unwrap()).code(0);
    let _down = Down(in_dir(&started_in, &["sandbox", "down"]));
    assert!(up.stdout.starts_with("export KUBECONFIG="), "eval \"$(cairn sandbox up)\" still works: {}", up.stdout);

    // A second `up` from elsewhere on the same port names the running one.
    let again = run_of(in_dir(env.dir.path(), &["sandbox", "up", "--port", &port]).output().unwrap()).code(1);
    assert!(again.stderr.contains("a cairn sandbox already runs on port") && again.stderr.contains("lab"), "{}", again.all());

    let shop = env.stack("shop");
    let elsewhere = shop.parent().unwrap().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let plan = run_of(in_dir(&elsewhere, &["plan", shop.to_str().unwrap()]).output().unwrap()).code(0);
    assert!(plan.stderr.contains("using the running sandbox"), "{}", plan.all());
    assert!(plan.stdout.contains(&format!("127.0.0.1:{port}")), "{}", plan.stdout);
    let status = run_of(in_dir(&elsewhere, &["sandbox", "status"]).output().unwrap()).code(0);
    assert!(status.stdout.contains(&format!("running: http://127.0.0.1:{port}")), "{}", status.all());

    // CAIRN_SANDBOX alone finds it, with no record to go by.
    let mut c = in_dir(&elsewhere, &["plan", shop.to_str().unwrap()]);
    c.env("XDG_STATE_HOME", env.dir.path().join("empty-state")).env("CAIRN_SANDBOX", started_in.join(".cairn/sandbox"));
    let plan = run_of(c.output().unwrap()).code(0);
    assert!(plan.stdout.contains(&format!("127.0.0.1:{port}")), "{}", plan.all());

    run_of(in_dir(&elsewhere, &["sandbox", "down"]).output().unwrap()).code(0);
    let status = run_of(in_dir(&started_in, &["sandbox", "status"]).output().unwrap()).code(1);
    assert!(status.stdout.contains("not running"), "{}", status.all());
}

/// A relative `kubeconfig` in a `cluster` block is the stack directory's, whatever the
/// current directory is (as `file()` resolves).
#[test]
fn a_relative_kubeconfig_in_a_cluster_block_is_the_stack_directorys() {
    let env = env();
    let dir = env.write_stack("rel", "cluster \"lab\" {\n  kube {\n    kubeconfig = \"../kubeconfig\"\n  }\n}\n\nnamespace \"rel\" {}\n");
    let elsewhere = env.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let mut c = env.command_with(None, &["plan", "-v", dir.to_str().unwrap()]);
    c.current_dir(&elsewhere);
    let run = run_of(c.output().unwrap()).code(0);
    assert!(run.stderr.contains(&format!("{}", dir.join("../kubeconfig").display())), "{}", run.all());
    assert!(run.stdout.contains(&env.sb.url()), "{}", run.all());
}
