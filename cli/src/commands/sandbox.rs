//! `cairn sandbox up|down|status`: a local simulated Kubernetes API (cairn-sandbox) in the
//! background, its state in `.cairn/sandbox/state.json`, its kubeconfig beside it.
//!
//! Files in the sandbox directory: `state.json` (the cluster), `sandbox.pid` (`<pid> <port>`
//! of the running server), `kubeconfig`, `sandbox.log` (the server's stderr).
//!
//! `up` also records the directory in a per-user state file ([`record_file`]), so the running
//! sandbox is found from any directory; `CAIRN_SANDBOX` names a sandbox directory explicitly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cairn_sandbox::server::{self, Options, Server};

use crate::output::Output;

/// The sandbox directory under the current directory.
pub fn default_dir() -> PathBuf {
    PathBuf::from(".cairn").join("sandbox")
}

/// The file where `up` records the directory of the sandbox it started:
/// `$XDG_STATE_HOME/cairn/sandbox`, else `~/.local/state/cairn/sandbox`.
pub fn record_file() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    let state = state.or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state")))?;
    Some(state.join("cairn").join("sandbox"))
}

/// The directory the record names, if any.
fn recorded() -> Option<PathBuf> {
    let text = std::fs::read_to_string(record_file()?).ok()?;
    let dir = PathBuf::from(text.trim_end_matches('\n'));
    dir.is_absolute().then_some(dir)
}

/// Records `dir` as the running sandbox's (a failure only costs finding it from elsewhere).
fn record(out: &Output, dir: &Path) {
    let Some(file) = record_file() else { return };
    let written = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&file, format!("{}\n", absolute(dir).display())));
    if let Err(e) = written {
        out.info(&format!("note: cannot record the sandbox in {} ({e}); other directories will not find it", file.display()));
    }
}

/// Removes the record when it names `dir`.
fn forget(dir: &Path) {
    if let (Some(file), Some(recorded)) = (record_file(), recorded()) {
        if recorded == absolute(dir) {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// The sandbox directories to look in, in order: `CAIRN_SANDBOX` alone when it is set; else
/// `.cairn/sandbox` here, then the one `up` recorded.
fn candidates() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("CAIRN_SANDBOX").filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(dir)];
    }
    let mut all = vec![default_dir()];
    all.extend(recorded());
    all
}

/// The directory `up` starts a sandbox in without `--dir`: `CAIRN_SANDBOX`, else `.cairn/sandbox`.
pub fn up_dir() -> PathBuf {
    std::env::var_os("CAIRN_SANDBOX").filter(|v| !v.is_empty()).map_or_else(default_dir, PathBuf::from)
}

/// The directory `status` and `down` act on without `--dir`: the first candidate whose sandbox
/// runs, else the first with a pid file, else `.cairn/sandbox` here.
pub fn find_dir() -> PathBuf {
    let all = candidates();
    let running = all.iter().find(|d| read_pid_file(d).is_some_and(|r| process_alive(r.pid)));
    let known = running.or_else(|| all.iter().find(|d| read_pid_file(d).is_some()));
    known.cloned().unwrap_or_else(up_dir)
}

/// The directory of a known sandbox (here, `CAIRN_SANDBOX`, the record) running on `port`.
fn running_on(port: u16) -> Option<PathBuf> {
    let mut all = candidates();
    all.extend(recorded());
    all.into_iter().find(|d| read_pid_file(d).is_some_and(|r| r.port == port && process_alive(r.pid)))
}

/// The kubeconfig of the running sandbox, found from any directory ([`candidates`]).
pub fn running() -> Option<PathBuf> {
    candidates().iter().find_map(|d| running_kubeconfig(d))
}

/// Default port (kube-apiserver's own).
pub const DEFAULT_PORT: u16 = 6443;

struct Running {
    pid: u32,
    port: u16,
}

fn read_pid_file(dir: &Path) -> Option<Running> {
    let text = std::fs::read_to_string(dir.join("sandbox.pid")).ok()?;
    let mut parts = text.split_whitespace();
    let pid = parts.next()?.parse().ok()?;
    let port = parts.next()?.parse().ok()?;
    Some(Running { pid, port })
}

/// The kubeconfig of a sandbox running from `dir`, if one runs.
pub fn running_kubeconfig(dir: &Path) -> Option<PathBuf> {
    let running = read_pid_file(dir)?;
    let path = dir.join("kubeconfig");
    (process_alive(running.pid) && path.exists()).then(|| absolute(&path))
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

/// One HTTP/1.1 request to the sandbox; the status code and body.
fn http(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let code = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((code, body))
}

fn is_sandbox(port: u16) -> bool {
    http(port, "GET", "/sandbox.cairn.dev/info").is_some_and(|(code, _)| code == 200)
}

fn kubeconfig(port: u16) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: cairn-sandbox\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: cairn-sandbox\n  context:\n    cluster: cairn-sandbox\n    user: cairn-sandbox\n    namespace: default\ncurrent-context: cairn-sandbox\nusers:\n- name: cairn-sandbox\n  user: {{}}\n"
    )
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// `cairn sandbox up`.
pub fn up(out: &Output, dir: &Path, port: u16) -> bool {
    if let Some(running) = read_pid_file(dir) {
        if process_alive(running.pid) {
            out.error(&format!(
                "a sandbox is already running here (pid {}, http://127.0.0.1:{}); `cairn sandbox down` stops it, `cairn sandbox status` shows it",
                running.pid, running.port
            ));
            return false;
        }
        out.info(&format!("note: removing the pid file of a sandbox that is no longer running (pid {}); its state is kept", running.pid));
        let _ = std::fs::remove_file(dir.join("sandbox.pid"));
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        out.error(&format!("cannot create {}: {e}", dir.display()));
        return false;
    }
    let state = dir.join("state.json");
    if let Err(e) = server::load_state(Some(&state)) {
        out.error(&e.to_string());
        return false;
    }
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(listener) => drop(listener),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && running_on(port).is_some() => {
            let from = running_on(port).map(|d| absolute(&d).display().to_string()).unwrap_or_default();
            out.error(&format!(
                "a cairn sandbox already runs on port {port} (started in {from}); `cairn sandbox status` shows it, `cairn sandbox down` stops it, `--port` starts another"
            ));
            return false;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            out.error(&format!(
                "port {port} on 127.0.0.1 is already in use by another program; choose another with `cairn sandbox up --port <PORT>`"
            ));
            return false;
        }
        Err(e) => {
            out.error(&format!("cannot listen on 127.0.0.1:{port}: {e}"));
            return false;
        }
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            out.error(&format!("cannot find the cairn executable to start the sandbox: {e}"));
            return false;
        }
    };
    let log = match std::fs::File::create(dir.join("sandbox.log")) {
        Ok(log) => log,
        Err(e) => {
            out.error(&format!("cannot write {}: {e}", dir.join("sandbox.log").display()));
            return false;
        }
    };
    let mut command = std::process::Command::new(exe);
    command
        .args(["sandbox", "serve", "--port", &port.to_string(), "--dir"])
        .arg(absolute(dir))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log);
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            out.error(&format!("cannot start the sandbox: {e}"));
            return false;
        }
    };
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.join("sandbox.log")).unwrap_or_default();
            out.error(&format!("the sandbox stopped at start ({status}): {}", log.trim()));
            return false;
        }
        if is_sandbox(port) && read_pid_file(dir).is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            out.error(&format!("the sandbox did not answer within 20 s; see {}", dir.join("sandbox.log").display()));
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let config = dir.join("kubeconfig");
    if let Err(e) = std::fs::write(&config, kubeconfig(port)) {
        out.error(&format!("cannot write {}: {e}", config.display()));
        return false;
    }
    record(out, dir);
    out.info(&format!("cairn-sandbox is running at http://127.0.0.1:{port} (pid {}), state in {}", child.id(), state.display()));
    out.info("it is a simulated API server, not a cluster: see docs/sandbox.md for what it does and does not do");
    out.info("to point kubectl at it:");
    out.stdout(&format!("export KUBECONFIG={}\n", absolute(&config).display()));
    true
}

/// `cairn sandbox down`.
pub fn down(out: &Output, dir: &Path, reset: bool) -> bool {
    let ok = match read_pid_file(dir) {
        None => {
            out.info("no sandbox is running here");
            true
        }
        Some(running) if !process_alive(running.pid) => {
            out.info(&format!("the sandbox (pid {}) was no longer running; removed its pid file", running.pid));
            let _ = std::fs::remove_file(dir.join("sandbox.pid"));
            true
        }
        Some(running) => {
            let _ = http(running.port, "POST", "/sandbox.cairn.dev/shutdown");
            let asked = Instant::now();
            while process_alive(running.pid) && asked.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if process_alive(running.pid) {
                out.error(&format!("the sandbox (pid {}) did not stop within 10 s; stop it with `kill {}`", running.pid, running.pid));
                false
            } else {
                let _ = std::fs::remove_file(dir.join("sandbox.pid"));
                forget(dir);
                if reset {
                    out.info(&format!("stopped the sandbox (pid {})", running.pid));
                } else {
                    out.info(&format!(
                        "stopped the sandbox (pid {}); its state is kept in {}",
                        running.pid,
                        dir.join("state.json").display()
                    ));
                }
                true
            }
        }
    };
    if ok && reset {
        let _ = std::fs::remove_file(dir.join("state.json"));
        out.info("removed the saved state: the next `cairn sandbox up` starts a fresh cluster");
    }
    ok
}

/// `cairn sandbox status`; false when no sandbox runs.
pub fn status(out: &Output, dir: &Path) -> bool {
    match read_pid_file(dir) {
        Some(running) if process_alive(running.pid) && is_sandbox(running.port) => {
            let info = http(running.port, "GET", "/sandbox.cairn.dev/info").map(|(_, b)| b).unwrap_or_default();
            let rv = serde_json::from_str::<serde_json::Value>(&info)
                .ok()
                .and_then(|v| v.get("resourceVersion").and_then(|rv| rv.as_str()).map(str::to_owned))
                .unwrap_or_default();
            out.stdout(&format!(
                "running: http://127.0.0.1:{} (pid {}), resourceVersion {rv}\nstate: {}\nkubeconfig: {}\n",
                running.port,
                running.pid,
                absolute(&dir.join("state.json")).display(),
                absolute(&dir.join("kubeconfig")).display()
            ));
            true
        }
        Some(running) => {
            out.stdout(&format!("not running (a stale pid file names pid {}; `cairn sandbox up` replaces it)\n", running.pid));
            false
        }
        None => {
            out.stdout("not running\n");
            false
        }
    }
}

/// `cairn sandbox serve` (internal): the server process `up` starts.
pub fn serve(out: &Output, dir: &Path, port: u16) -> bool {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&format!("cannot start the async runtime: {e}"));
            return false;
        }
    };
    runtime.block_on(async {
        let options = Options { port, state_file: Some(dir.join("state.json")) };
        let server = match Server::start(options).await {
            Ok(server) => server,
            Err(e) => {
                out.error(&e.to_string());
                return false;
            }
        };
        let pid_file = dir.join("sandbox.pid");
        if let Err(e) = std::fs::write(&pid_file, format!("{} {}\n", std::process::id(), server.addr.port())) {
            out.error(&format!("cannot write {}: {e}", pid_file.display()));
            return false;
        }
        out.info(&format!("cairn-sandbox listening on http://{}", server.addr));
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                out.error(&format!("cannot watch for SIGTERM: {e}"));
                return false;
            }
        };
        tokio::select! {
            _ = server.shutdown.notified() => {}
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        server.save();
        let _ = std::fs::remove_file(&pid_file);
        out.info("cairn-sandbox stopped; state saved");
        true
    })
}
