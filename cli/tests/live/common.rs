//! A sandbox per test, the real `cairn` binary pointed at it with `--kubeconfig`, and copies
//! of stacks the test may edit.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use cairn_sandbox::{Options, Sandbox};
pub use serde_json::{json, Value};

/// The secret planted in every stack's environment: it must never be printed.
pub const PLANTED: &str = "planted-Secret-9f3e7c";

pub struct Env {
    pub sb: Sandbox,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn code(self, want: i32) -> Run {
        assert_eq!(self.code, want, "exit {} (wanted {want})\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr);
        self
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// A kubeconfig for one server at `url`, with context `sandbox`.
pub fn kubeconfig_text(url: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sandbox\n  cluster:\n    server: {url}\ncontexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: me\nusers:\n- name: me\n  user: {{}}\ncurrent-context: sandbox\n"
    )
}

/// A fresh sandbox and a kubeconfig for it.
pub fn env() -> Env {
    let sb = Sandbox::start(Options::default()).expect("sandbox starts");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sandbox\n  cluster:\n    server: {}\ncontexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: me\nusers:\n- name: me\n  user: {{}}\ncurrent-context: sandbox\n",
            sb.url()
        ),
    )
    .unwrap();
    Env { sb, dir, kubeconfig }
}

impl Env {
    /// Runs `cairn ARGS --kubeconfig K` with the planted secret in the environment.
    pub fn cairn(&self, args: &[&str]) -> Run {
        self.cairn_in(self.dir.path(), args)
    }

    pub fn cairn_in(&self, cwd: &Path, args: &[&str]) -> Run {
        run_of(self.command(args).current_dir(cwd).output().expect("cairn runs"))
    }

    /// Copies `examples/NAME` (or any directory) into the test's directory; returns its path.
    pub fn stack(&self, example: &str) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("examples").join(example);
        let dst = self.dir.path().join(example);
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            if e.path().is_file() {
                std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
            }
        }
        dst
    }

    /// Writes a stack of one file.
    pub fn write_stack(&self, name: &str, text: &str) -> PathBuf {
        let dst = self.dir.path().join(name);
        std::fs::create_dir_all(&dst).unwrap();
        std::fs::write(dst.join("main.cairn"), text).unwrap();
        dst
    }

    /// An object from the sandbox.
    pub fn get(&self, group: &str, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        self.sb.object(group, plural, namespace, name)
    }

    /// A request to the sandbox as another client; panics unless 2xx.
    #[track_caller]
    pub fn call(&self, method: &str, path: &str, content_type: &str, body: &Value) -> Value {
        let (code, v) = self.sb.call_bytes(method, path, Some(content_type), body.to_string().as_bytes());
        assert!((200..300).contains(&code), "{method} {path}: {code} {v}");
        v
    }

    /// Runs the real kubectl against the sandbox; `None` when kubectl is not installed (a
    /// failure under `CI=true`: [`crate::ci::missing`]).
    pub fn kubectl(&self, args: &[&str]) -> Option<Run> {
        let installed = std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join("kubectl").is_file()));
        if !installed {
            crate::ci::missing("kubectl", "install kubectl to run this test's kubectl part");
            return None;
        }
        let o = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("kubectl-cache"))
            .args(args)
            .output()
            .expect("kubectl runs");
        Some(Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
        })
    }

    /// Client writes (not the sandbox's controllers') as `verb Kind/ns/name`.
    pub fn client_writes(&self) -> Vec<(String, String)> {
        self.sb
            .writes()
            .into_iter()
            .filter(|w| !w.controller)
            .map(|w| {
                let id = if w.namespace.is_empty() {
                    format!("{}/{}", w.kind, w.name)
                } else {
                    format!("{}/{}/{}", w.kind, w.namespace, w.name)
                };
                (w.verb, id)
            })
            .collect()
    }
}

/// Asserts a text holds no trace of the planted secret (plain or base64).
#[track_caller]
pub fn assert_no_secret(what: &str, text: &str) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(PLANTED);
    assert!(!text.contains(PLANTED), "{what} shows the secret value:\n{text}");
    assert!(!text.contains(&b64), "{what} shows the secret value in base64:\n{text}");
}

impl Env {
    /// The command line of [`Env::cairn`] with piped output, to spawn, signal or run several at once.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_with(Some(&self.kubeconfig), args)
    }

    /// [`Env::command`] with another `--kubeconfig`, or none: then the cluster is found as a
    /// user's would be.
    pub fn command_with(&self, kubeconfig: Option<&Path>, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
        c.current_dir(self.dir.path()).args(["--color", "never"]);
        if let Some(k) = kubeconfig {
            c.arg("--kubeconfig").arg(k);
        }
        c.args(args)
            .env_remove("KUBECONFIG")
            .env_remove("CAIRN_SANDBOX")
            .env_remove("CEPH_CONF")
            .env("HOME", self.dir.path())
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .env("SHOP_DB_PASSWORD", PLANTED)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// [`Env::cairn`] with extra environment variables.
    pub fn cairn_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut c = self.command(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        run_of(c.output().expect("cairn runs"))
    }

    /// Sets the sandbox's fault rules.
    pub fn faults(&self, rules: Vec<cairn_sandbox::Fault>) {
        let (code, v) = self.sb.call(
            "PUT",
            "/sandbox.cairn.dev/faults",
            Some("application/json"),
            Some(&json!(cairn_sandbox::Faults { rules, seed: 1 })),
        );
        assert_eq!(code, 200, "{v}");
    }
}

/// What a spawned run did.
pub fn run_of(o: std::process::Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into(),
        stderr: String::from_utf8_lossy(&o.stderr).into(),
    }
}

/// Sends `signal` (`STOP`, `CONT`, `INT`, `TERM`) to a process with the system's `kill`.
pub fn signal(child: &std::process::Child, signal: &str) {
    let ok = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status().expect("kill runs").success();
    assert!(ok, "kill -{signal} {} failed", child.id());
}

/// Polls `cond` every 50 ms for up to `secs` seconds; panics with `what` when it never holds.
#[track_caller]
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out after {secs}s waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
