//! `cairn sandbox up|down|status` through the real binary: a background server whose state
//! survives down/up, a kubeconfig kubectl can use, and a clear message for starting twice, a
//! busy port, a stale pid file and an unreadable state file.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

fn cairn(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .current_dir(cwd)
        .arg("--color")
        .arg("never")
        .args(args)
        .env_remove("CAIRN_SANDBOX")
        .env("XDG_STATE_HOME", cwd.join(".state"))
        .output()
        .expect("cairn runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http(port: u16, method: &str, path: &str, content_type: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

/// Stops the sandbox of a test even when it fails half-way.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = cairn(self.0, &["sandbox", "down"]);
    }
}

#[test]
fn up_status_down_and_state_that_survives() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let port = free_port();
    let _down = Down(cwd);
    let up = cairn(cwd, &["sandbox", "up", "--port", &port.to_string()]);
    assert!(up.status.success(), "{}", text(&up));
    let kubeconfig = cwd.join(".cairn/sandbox/kubeconfig");
    assert_eq!(String::from_utf8_lossy(&up.stdout).trim(), format!("export KUBECONFIG={}", kubeconfig.display()));
    let config = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(config.contains(&format!("server: http://127.0.0.1:{port}")), "{config}");
    assert!(config.contains("current-context: cairn-sandbox"));

    let status = cairn(cwd, &["sandbox", "status"]);
    assert!(status.status.success(), "{}", text(&status));
    assert!(text(&status).contains(&format!("running: http://127.0.0.1:{port}")), "{}", text(&status));

    // Starting twice is refused, naming the running one.
    let again = cairn(cwd, &["sandbox", "up", "--port", &port.to_string()]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already running here"), "{}", text(&again));

    // Write something, stop, start again: it is still there.
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"},"data":{"k":"v"}}"#;
    let (code, body) = http(port, "POST", "/api/v1/namespaces/default/configmaps", "application/json", cm);
    assert_eq!(code, 201, "{body}");
    let down = cairn(cwd, &["sandbox", "down"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(text(&down).contains("stopped the sandbox"));
    let status = cairn(cwd, &["sandbox", "status"]);
    assert!(!status.status.success());
    assert!(text(&status).contains("not running"));
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the port is free after down");

    let up = cairn(cwd, &["sandbox", "up", "--port", &port.to_string()]);
    assert!(up.status.success(), "{}", text(&up));
    let (code, body) = http(port, "GET", "/api/v1/namespaces/default/configmaps/kept", "application/json", "");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"k\":\"v\""), "{body}");

    // `down --reset` forgets the state, and does not first say it kept it.
    let down = cairn(cwd, &["sandbox", "down", "--reset"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(!cwd.join(".cairn/sandbox/state.json").exists());
    assert!(!text(&down).contains("kept") && text(&down).contains("removed the saved state"), "{}", text(&down));
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let up = cairn(dir.path(), &["sandbox", "up", "--port", &port.to_string()]);
    assert!(!up.status.success());
    assert!(text(&up).contains(&format!("port {port} on 127.0.0.1 is already in use")), "{}", text(&up));
    assert!(text(&up).contains("--port"), "says what to do: {}", text(&up));
}

#[test]
fn a_stale_pid_file_is_replaced_and_a_bad_state_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let sandbox_dir = cwd.join(".cairn/sandbox");
    std::fs::create_dir_all(&sandbox_dir).unwrap();
    // A pid that cannot be running (beyond pid_max).
    std::fs::write(sandbox_dir.join("sandbox.pid"), "4999999 6443\n").unwrap();
    let status = cairn(cwd, &["sandbox", "status"]);
    assert!(text(&status).contains("stale pid file"), "{}", text(&status));

    std::fs::write(sandbox_dir.join("state.json"), "{ not json").unwrap();
    let up = cairn(cwd, &["sandbox", "up", "--port", &free_port().to_string()]);
    assert!(!up.status.success());
    let out = text(&up);
    assert!(out.contains("no longer running"), "{out}");
    assert!(out.contains("state.json cannot be used"), "{out}");
    assert!(out.contains("--reset"), "says what to do: {out}");

    std::fs::remove_file(sandbox_dir.join("state.json")).unwrap();
    let port = free_port();
    let _down = Down(cwd);
    let up = cairn(cwd, &["sandbox", "up", "--port", &port.to_string()]);
    assert!(up.status.success(), "{}", text(&up));
}

#[test]
fn kubectl_uses_the_written_kubeconfig() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("skipped: kubectl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let port = free_port();
    let _down = Down(cwd);
    assert!(cairn(cwd, &["sandbox", "up", "--port", &port.to_string()]).status.success());
    let out = Command::new("kubectl")
        .env("KUBECONFIG", cwd.join(".cairn/sandbox/kubeconfig"))
        .args(["get", "namespaces", "-o", "name", "--cache-dir"])
        .arg(cwd.join("kube-cache"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "namespace/default\nnamespace/kube-system\nnamespace/rook-ceph\n");
}
