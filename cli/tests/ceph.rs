//! Direct-mode pools through the real binary against a real Ceph cluster (tests/ceph/cluster.sh:
//! one monitor, one manager, three memstore OSDs on 127.0.0.1). Every check reads the cluster
//! back with the `ceph` and `rados` CLIs, independently of cairn. Where Debian's Ceph packages
//! are missing, each test prints one `skipping:` line (tests/ceph/install.sh installs them), and
//! fails instead under `CI=true` (`support/ci.rs`).
//!
//! One cluster serves the whole binary; each test has its own stack and pool names.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

#[path = "support/ci.rs"]
mod ci;

struct Cluster {
    conf: PathBuf,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

fn cluster() -> Option<&'static Cluster> {
    if !["ceph-mon", "ceph-osd", "ceph-mds"].iter().all(|b| Path::new("/usr/bin").join(b).exists()) {
        ci::missing("Ceph (ceph-mon, ceph-osd, ceph-mds)", "tests/ceph/install.sh installs Debian's packages");
        return None;
    }
    match CLUSTER.get_or_init(start) {
        Ok(c) => Some(c),
        Err(e) => panic!("the test cluster did not start: {e}"),
    }
}

fn start() -> Result<Cluster, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ceph/cluster.sh");
    // `--watch` stops the cluster once this test binary is gone.
    let out = Command::new("bash")
        .arg(&script)
        .args(["start", "--timeout", "120", "--watch", &std::process::id().to_string()])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("cluster.sh start failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    let conf = stdout.lines().find_map(|l| l.strip_prefix("CEPH_CONF=")).map(PathBuf::from);
    conf.map(|conf| Cluster { conf }).ok_or_else(|| format!("cluster.sh printed no CEPH_CONF:\n{stdout}"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn code(self, want: i32) -> Run {
        assert_eq!(self.code, want, "exit {} (wanted {want})\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr);
        self
    }
}

fn run(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A temp dir holding one stack directory.
struct Stack {
    tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Stack {
    fn new(name: &str, text: &str) -> Stack {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let s = Stack { tmp, dir };
        s.write(text);
        s
    }

    fn write(&self, text: &str) {
        std::fs::write(self.dir.join("main.cairn"), format!("{CLUSTER_BLOCK}\n{text}")).expect("write the stack");
    }

    /// `cairn ARGS DIR --ceph-conf CONF`, with no Kubernetes anywhere (no kubeconfig, no sandbox).
    fn cairn(&self, c: &Cluster, args: &[&str]) -> Run {
        run(Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--color", "never", "--ceph-conf"])
            .arg(&c.conf)
            .args(args)
            .arg(&self.dir)
            .env("HOME", self.tmp.path())
            .env("XDG_CACHE_HOME", self.tmp.path().join("cache"))
            .env("XDG_STATE_HOME", self.tmp.path().join("state"))
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run cairn"))
    }
}

/// A kubeconfig in the stack's temp dir that points at `sb`.
fn kubeconfig_for(sb: &cairn_sandbox::Sandbox, stack: &Stack) -> PathBuf {
    let path = stack.tmp.path().join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sb\n  cluster:\n    server: {}\ncontexts:\n- name: sb\n  context:\n    cluster: sb\n    user: me\nusers:\n- name: me\n  user: {{}}\ncurrent-context: sb\n",
            sb.url()
        ),
    )
    .expect("write the kubeconfig");
    path
}

const CLUSTER_BLOCK: &str = "cluster \"lab\" {\n  ceph {\n    mode = \"direct\"\n  }\n}\n";

/// The `ceph` CLI against the test cluster (Debian's Python, not a pyenv shim).
fn ceph(c: &Cluster, args: &[&str]) -> Run {
    run(Command::new("/usr/bin/ceph").arg("-c").arg(&c.conf).args(args).stdin(Stdio::null()).output().expect("run ceph"))
}

fn ceph_json(c: &Cluster, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-f", "json"]);
    let r = ceph(c, &all).code(0);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

/// `ceph ARGS -f json`, or `None` when it fails (a new pool has no stats until the manager's
/// next report, and `get-quota` needs them).
fn ceph_try_json(c: &Cluster, args: &[&str]) -> Option<Value> {
    let mut all = args.to_vec();
    all.extend(["-f", "json"]);
    let r = ceph(c, &all);
    if r.code != 0 {
        return None;
    }
    serde_json::from_str(&r.stdout).ok()
}

/// Retries `f` for up to 20 s.
#[track_caller]
fn eventually(f: impl Fn() -> Option<Value>) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "no answer within 20 s");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

fn pool_names(c: &Cluster) -> Vec<String> {
    ceph_json(c, &["osd", "pool", "ls"]).as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

fn rados(c: &Cluster, args: &[&str]) -> Run {
    run(Command::new("/usr/bin/rados").arg("-c").arg(&c.conf).args(args).stdin(Stdio::null()).output().expect("run rados"))
}

#[test]
fn apply_creates_pools_with_exactly_the_declared_properties_and_a_plan_after_is_empty() {
    let Some(c) = cluster() else { return };
    let stack = Stack::new(
        "props",
        r#"
pool "props-rep" {
  size           = 3
  min_size       = 2
  pg_num         = 8
  autoscale      = "off"
  failure_domain = "osd"
  application    = "rbd"
  quota { max_bytes = 1Gi, max_objects = 1000 }
}

pool "props-ec" {
  type           = "erasure"
  erasure { k = 2, m = 1 }
  pg_num         = 8
  autoscale      = "warn"
  failure_domain = "osd"
  application    = "rgw"
}
"#,
    );
    let first = stack.cairn(c, &["apply", "--auto-approve"]).code(0);
    assert!(first.stdout.contains("props-rep") && first.stdout.contains("props-ec"), "{}", first.stdout);
    // One short progress line per pool, not every monitor reply (with hashes) on one line.
    let progress: Vec<&str> = first.stderr.lines().filter(|l| l.contains("CephPool/props-")).collect();
    assert!(progress.iter().any(|l| l.contains("created (")), "{}", first.stderr);
    assert!(progress.iter().all(|l| l.len() < 120 && !l.contains("applied-hash")), "{}", first.stderr);

    let rep = ceph_json(c, &["osd", "pool", "get", "props-rep", "all"]);
    assert_eq!((rep["size"].as_u64(), rep["min_size"].as_u64(), rep["pg_num"].as_u64()), (Some(3), Some(2), Some(8)), "{rep}");
    assert_eq!(rep["pg_autoscale_mode"], "off", "{rep}");
    let quota = eventually(|| ceph_try_json(c, &["osd", "pool", "get-quota", "props-rep"]));
    assert_eq!((quota["quota_max_bytes"].as_u64(), quota["quota_max_objects"].as_u64()), (Some(1 << 30), Some(1000)), "{quota}");
    let apps = ceph_json(c, &["osd", "pool", "application", "get", "props-rep"]);
    assert_eq!(apps["rbd"]["cairn.dev/stack"], "props", "the ownership marker: {apps}");
    let rule = rep["crush_rule"].as_str().unwrap_or_default().to_string();
    let rule = ceph_json(c, &["osd", "crush", "rule", "dump", &rule]);
    let chooses: Vec<&Value> =
        rule["steps"].as_array().into_iter().flatten().filter(|s| s["op"].as_str().unwrap_or("").starts_with("choose")).collect();
    assert_eq!(chooses.first().map(|s| &s["type"]), Some(&Value::from("osd")), "failure domain osd: {rule}");

    let ec = ceph_json(c, &["osd", "pool", "get", "props-ec", "all"]);
    assert_eq!(ec["pg_autoscale_mode"], "warn", "{ec}");
    let profile = ceph_json(c, &["osd", "pool", "get", "props-ec", "erasure_code_profile"]);
    let profile = ceph_json(c, &["osd", "erasure-code-profile", "get", profile["erasure_code_profile"].as_str().unwrap_or_default()]);
    assert_eq!((profile["k"].as_str(), profile["m"].as_str()), (Some("2"), Some("1")), "{profile}");
    assert_eq!(profile["crush-failure-domain"], "osd", "{profile}");
    let apps = ceph_json(c, &["osd", "pool", "application", "get", "props-ec"]);
    assert!(apps.get("rgw").is_some(), "{apps}");

    stack.cairn(c, &["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn drift_is_named_a_quota_edit_is_in_place_and_a_removed_pool_is_deleted_only_with_allow_data_loss() {
    let Some(c) = cluster() else { return };
    let pool = |max_objects: u32| {
        format!(
            "pool \"drift-a\" {{\n  size = 3\n  pg_num = 8\n  autoscale = \"off\"\n  failure_domain = \"osd\"\n  quota {{ max_objects = {max_objects} }}\n}}\n"
        )
    };
    let keep = "pool \"drift-b\" {\n  size = 3\n  pg_num = 8\n  autoscale = \"off\"\n  failure_domain = \"osd\"\n}\n";
    let stack = Stack::new("drift", &format!("{}{keep}", pool(100)));
    stack.cairn(c, &["apply", "--auto-approve"]).code(0);

    ceph(c, &["osd", "pool", "set", "drift-a", "size", "2"]).code(0);
    let d = stack.cairn(c, &["drift", "--format", "json"]).code(2);
    let json: Value = serde_json::from_str(&d.stdout).unwrap_or_else(|e| panic!("{e}: {}", d.stdout));
    let text = json.to_string();
    assert!(text.contains("\"size\"") && text.contains("\"drift\""), "size named, classed drift: {json:#}");
    stack.cairn(c, &["apply", "--auto-approve"]).code(0);
    assert_eq!(ceph_json(c, &["osd", "pool", "get", "drift-a", "size"])["size"], 3, "drift taken back");

    let id_before = ceph_json(c, &["osd", "pool", "get", "drift-a", "all"])["pool_id"].clone();
    stack.write(&format!("{}{keep}", pool(200)));
    let p = stack.cairn(c, &["plan"]).code(0);
    assert!(p.stdout.contains("max_objects") && !p.stdout.contains("-/+"), "an in-place update: {}", p.stdout);
    stack.cairn(c, &["apply", "--auto-approve"]).code(0);
    assert_eq!(eventually(|| ceph_try_json(c, &["osd", "pool", "get-quota", "drift-a"]))["quota_max_objects"], 200);
    assert_eq!(ceph_json(c, &["osd", "pool", "get", "drift-a", "all"])["pool_id"], id_before, "the same pool");

    stack.write(&pool(200));
    let p = stack.cairn(c, &["plan"]).code(0);
    assert!(p.stdout.contains("drift-b") && p.stdout.to_lowercase().contains("protect"), "delete shown as protected: {}", p.stdout);
    let refused = stack.cairn(c, &["apply", "--auto-approve"]).code(1);
    assert!(refused.stderr.contains("--allow-data-loss"), "{}", refused.stderr);
    assert!(pool_names(c).contains(&"drift-b".to_string()), "nothing deleted while protected");
    stack.cairn(c, &["apply", "--auto-approve", "--allow-data-loss"]).code(0);
    assert!(!pool_names(c).contains(&"drift-b".to_string()), "deleted with --allow-data-loss");
    stack.cairn(c, &["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn moved_renames_a_pool_and_its_data_survives_and_an_ec_profile_change_is_a_guarded_replace() {
    let Some(c) = cluster() else { return };
    let stack =
        Stack::new("moves", "pool \"moves-old\" {\n  size = 3\n  pg_num = 8\n  autoscale = \"off\"\n  failure_domain = \"osd\"\n}\n");
    stack.cairn(c, &["apply", "--auto-approve"]).code(0);
    let data = stack.tmp.path().join("object.bin");
    std::fs::write(&data, b"cairn was here").expect("write the object");
    rados(c, &["-p", "moves-old", "put", "greeting", data.to_str().unwrap_or_default()]).code(0);

    stack.write(
        "pool \"moves-new\" {\n  size = 3\n  pg_num = 8\n  autoscale = \"off\"\n  failure_domain = \"osd\"\n}\n\nmoved {\n  from = \"pool.moves-old\"\n  to   = pool.moves-new\n}\n",
    );
    let p = stack.cairn(c, &["plan"]).code(0);
    assert!(p.stdout.contains("moves-old") && p.stdout.contains("moves-new") && !p.stdout.contains("-/+"), "a rename: {}", p.stdout);
    stack.cairn(c, &["apply", "--auto-approve"]).code(0);
    let names = pool_names(c);
    assert!(names.contains(&"moves-new".to_string()) && !names.contains(&"moves-old".to_string()), "{names:?}");
    let back = stack.tmp.path().join("back.bin");
    rados(c, &["-p", "moves-new", "get", "greeting", back.to_str().unwrap_or_default()]).code(0);
    assert_eq!(std::fs::read(&back).expect("read back"), b"cairn was here");
    stack.cairn(c, &["plan", "--detailed-exitcode"]).code(0);

    let ec = |k: u32| {
        format!(
            "pool \"moves-new\" {{\n  size = 3\n  pg_num = 8\n  autoscale = \"off\"\n  failure_domain = \"osd\"\n}}\n\npool \"moves-ec\" {{\n  type = \"erasure\"\n  erasure {{ k = {k}, m = 1 }}\n  pg_num = 8\n  autoscale = \"off\"\n  failure_domain = \"osd\"\n}}\n"
        )
    };
    stack.write(&ec(2));
    stack.cairn(c, &["apply", "--auto-approve"]).code(0);
    stack.write(&ec(3));
    let p = stack.cairn(c, &["plan"]).code(0);
    assert!(p.stdout.contains("-/+") && p.stdout.contains("moves-ec"), "a replace: {}", p.stdout);
    let refused = stack.cairn(c, &["apply", "--auto-approve"]).code(1);
    assert!(refused.stderr.contains("--allow-data-loss"), "{}", refused.stderr);
    let profile = ceph_json(c, &["osd", "pool", "get", "moves-ec", "erasure_code_profile"]);
    let profile = ceph_json(c, &["osd", "erasure-code-profile", "get", profile["erasure_code_profile"].as_str().unwrap_or_default()]);
    assert_eq!(profile["k"], "2", "unchanged while protected: {profile}");
}

#[test]
fn a_pool_made_by_hand_without_the_marker_is_left_alone_by_plan_apply_and_destroy() {
    let Some(c) = cluster() else { return };
    ceph(c, &["osd", "pool", "create", "handmade", "8", "8"]).code(0);
    let before = ceph_json(c, &["osd", "pool", "get", "handmade", "all"]);
    let stack =
        Stack::new("hands", "pool \"handmade\" {\n  size = 2\n  pg_num = 8\n  autoscale = \"off\"\n  failure_domain = \"osd\"\n}\n");
    let p = stack.cairn(c, &["plan"]).code(1);
    assert!(p.stdout.contains("handmade") || p.stderr.contains("handmade"), "the refusal names the pool: {}{}", p.stdout, p.stderr);
    stack.cairn(c, &["apply", "--auto-approve"]).code(1);
    stack.write("");
    stack.cairn(c, &["destroy", "--auto-approve", "--allow-data-loss"]).code(0);
    assert!(pool_names(c).contains(&"handmade".to_string()), "never deleted");
    assert_eq!(ceph_json(c, &["osd", "pool", "get", "handmade", "all"]), before, "never changed");
}

#[test]
fn an_unreachable_monitor_is_a_clear_error_within_the_connect_timeout() {
    let Some(c) = cluster() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    // The test cluster's conf and keyring, pointed at a port nobody listens on.
    let conf = std::fs::read_to_string(&c.conf).expect("read ceph.conf");
    let dead: String = conf
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("mon host") || l.trim_start().starts_with("mon_host") {
                "mon host = v2:127.0.0.1:9".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dead_conf = tmp.path().join("dead.conf");
    std::fs::write(&dead_conf, dead).expect("write the conf");
    let stack = Stack::new("unreach", "pool \"unreach-a\" {\n  size = 3\n  failure_domain = \"osd\"\n}\n");
    let started = std::time::Instant::now();
    let r = run(Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["--color", "never", "--ceph-conf"])
        .arg(&dead_conf)
        .args(["apply", "--auto-approve"])
        .arg(&stack.dir)
        .env("HOME", stack.tmp.path())
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run cairn"));
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(took < std::time::Duration::from_secs(20), "failed within the connect timeout (10 s): {took:?}");
    assert!(r.stderr.contains("127.0.0.1:9") || r.stderr.contains("dead.conf"), "names where it tried: {}", r.stderr);
    assert!(!pool_names(c).contains(&"unreach-a".to_string()), "nothing applied");
}

#[test]
fn the_analytics_example_applies_and_then_plans_no_changes() {
    let Some(c) = cluster() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("analytics");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/analytics");
    for e in std::fs::read_dir(&example).expect("the example").flatten() {
        std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy");
    }
    let cairn = |args: &[&str]| {
        run(Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--color", "never", "--ceph-conf"])
            .arg(&c.conf)
            .args(args)
            .arg(&dir)
            .env("HOME", tmp.path())
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run cairn"))
    };
    cairn(&["apply", "--auto-approve"]).code(0);
    let names = pool_names(c);
    assert!(names.contains(&"lake-data".to_string()) && names.contains(&"lake-index".to_string()), "{names:?}");
    let plan = cairn(&["plan", "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
}

/// A saved plan covers the pools it was made with: applying it after an `env()` value changed
/// what a pool lowers to is refused, naming the pool and the field, and nothing is created.
/// Before, a plan reviewed with a 10 GiB quota was applied with a 1 KiB one.
#[test]
fn a_saved_plan_is_refused_when_a_pool_evaluates_differently_now() {
    let Some(c) = cluster() else { return };
    let stack = Stack::new(
        "saved",
        "pool \"saved-a\" {\n  pg_num = 8\n  autoscale = \"off\"\n  failure_domain = \"osd\"\n  quota { max_bytes = quantity(env(\"POOL_QUOTA\")) }\n}\n",
    );
    let file = stack.tmp.path().join("plan.json");
    let cairn = |args: &[&std::ffi::OsStr], quota: &str| {
        run(Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--color", "never", "--ceph-conf"])
            .arg(&c.conf)
            .args(args)
            .env("HOME", stack.tmp.path())
            .env("POOL_QUOTA", quota)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run cairn"))
    };
    cairn(&["plan".as_ref(), stack.dir.as_os_str(), "-o".as_ref(), file.as_os_str()], "10Gi").code(0);
    let refused = cairn(&["apply".as_ref(), file.as_os_str()], "1Ki").code(1);
    let all = format!("{}{}", refused.stdout, refused.stderr);
    assert!(all.contains("stale") && all.contains("pool saved-a") && all.contains("quota"), "{all}");
    assert!(!pool_names(c).contains(&"saved-a".to_string()), "the refused plan created the pool");
    // The same values as reviewed: applied.
    cairn(&["apply".as_ref(), file.as_os_str()], "10Gi").code(0);
    let quota = eventually(|| ceph_try_json(c, &["osd", "pool", "get-quota", "saved-a"]));
    assert_eq!(quota["quota_max_bytes"].as_u64(), Some(10 << 30), "{quota}");
    cairn(&["destroy".as_ref(), "--auto-approve".as_ref(), "--allow-data-loss".as_ref(), stack.dir.as_os_str()], "10Gi").code(0);
}

/// The seconds in a `-v` line `read … in 0.83s` that starts with `prefix`.
fn read_seconds(stderr: &str, prefix: &str) -> f64 {
    stderr
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit_once(" in "))
        .and_then(|(_, s)| s.trim_end_matches('s').parse().ok())
        .unwrap_or_else(|| panic!("no `{prefix}… in Ns` line in:\n{stderr}"))
}

/// A stack with Kubernetes objects and direct-mode pools reads both systems at once: with
/// latency on both (the sandbox's injected latency; Ceph's own `ms_inject_delay` on the
/// client's monitor messages), the read takes about the slower of the two, not their sum.
#[test]
fn kubernetes_and_ceph_are_read_concurrently() {
    let Some(c) = cluster() else { return };
    let sb = cairn_sandbox::Sandbox::start(cairn_sandbox::Options::default()).expect("sandbox starts");
    let stack = Stack::new(
        "both",
        r#"
pool "both-rep" {
  size = 3
  pg_num = 8
  autoscale = "off"
  failure_domain = "osd"
}

namespace "both" {}

config "app" {
  namespace = namespace.both
  data = { LOG_LEVEL = "info" }
}
"#,
    );
    let kubeconfig = kubeconfig_for(&sb, &stack);
    // Every monitor message to the client waits up to 1 s (up to 0.5 s made the read too fast to
    // measure when this test ran alone, with one erasure-code profile); every API request 400 ms.
    let slow = stack.tmp.path().join("slow-ceph.conf");
    let conf = std::fs::read_to_string(&c.conf).expect("read ceph.conf");
    std::fs::write(
        &slow,
        format!("{conf}\n[client]\nms_inject_delay_type = mon\nms_inject_delay_max = 1.0\nms_inject_delay_probability = 1\n"),
    )
    .expect("write the slow conf");
    let latency =
        cairn_sandbox::Fault { action: cairn_sandbox::Action::Latency { ms: 400 }, verb: None, resource: None, rate: 1.0, times: None };
    let (code, v) = sb.call(
        "PUT",
        "/sandbox.cairn.dev/faults",
        Some("application/json"),
        Some(&serde_json::json!(cairn_sandbox::Faults { rules: vec![latency], seed: 1 })),
    );
    assert_eq!(code, 200, "{v}");
    let r = run(Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["--color", "never", "-v", "--ceph-conf"])
        .arg(&slow)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("plan")
        .arg(&stack.dir)
        .env("HOME", stack.tmp.path())
        .env("XDG_CACHE_HOME", stack.tmp.path().join("cache"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run cairn"))
    .code(0);
    let line_with = |what: &str| r.stderr.lines().filter(|l| l.contains(what)).collect::<Vec<_>>().join("\n");
    let kube = read_seconds(&line_with("LIST requests"), "read ");
    let ceph = read_seconds(&line_with("monitor commands"), "read ");
    let all = read_seconds(&r.stderr, "read 2 live systems concurrently");
    assert!(
        kube >= 0.8 && ceph >= 0.5,
        "both reads must be slow for the test to mean anything: kubernetes {kube}s, ceph {ceph}s\n{}",
        r.stderr
    );
    assert!(all < kube + ceph - 0.3, "read {all}s, not about max({kube}, {ceph}) but nearer their sum\n{}", r.stderr);
    assert!(all + 0.05 >= kube.max(ceph), "the whole read ({all}s) cannot be shorter than its slower part\n{}", r.stderr);
    eprintln!("read: kubernetes {kube}s, ceph {ceph}s, both at once {all}s");
    assert!(r.stdout.contains("both-rep") && r.stdout.contains("ConfigMap/both/app"), "{}", r.stdout);
}

/// A ceph.conf that is not there: the help names the file cairn used, where it came from, and
/// the order in which the sources win. A relative `conf` in the cluster block is the stack
/// directory's. Needs no cluster (the conf is checked before librados is loaded).
#[test]
fn a_missing_conf_names_the_file_used_its_source_and_the_order() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("confless");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("main.cairn"),
        "cluster \"lab\" {\n  ceph {\n    mode = \"direct\"\n    conf = \"lab/ceph.conf\"\n  }\n}\n\npool \"p\" {\n  size = 3\n}\n",
    )
    .expect("write the stack");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let cairn = |extra: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
        c.current_dir(&elsewhere).args(["--color", "never"]).args(extra).arg("plan").arg(&dir);
        c.env("HOME", tmp.path()).env_remove("KUBECONFIG").env_remove("CEPH_CONF").stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        run(c.output().expect("run cairn"))
    };
    let r = cairn(&[], &[("CEPH_CONF", "/nowhere/env.conf")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let block_conf = dir.join("lab/ceph.conf").display().to_string();
    assert!(r.stderr.contains(&format!("cannot read the Ceph configuration {block_conf}")), "the stack directory's: {}", r.stderr);
    assert!(r.stderr.contains("from the cluster block's `conf`"), "{}", r.stderr);
    assert!(r.stderr.contains("--ceph-conf FILE, the cluster block's `conf`"), "the order: {}", r.stderr);
    assert!(r.stderr.contains("CEPH_CONF"), "{}", r.stderr);

    let r = cairn(&["--ceph-conf", "flag.conf"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("flag.conf, from --ceph-conf"), "{}", r.stderr);
}

/// The test cluster's file systems as `fs dump -f json` lists them.
fn fs_dump(c: &Cluster) -> Vec<Value> {
    ceph_json(c, &["fs", "dump"])["filesystems"].as_array().cloned().unwrap_or_default()
}

/// Issue 18's direct-mode file system end to end: apply one with two data pools (one erasure
/// coded), `ceph fs ls` shows it on the right pools and the MDS makes it active, a second plan
/// is empty, `ceph fs set … max_mds 2` behind cairn's back shows as drift, and destroy is
/// refused without `--allow-data-loss` and removes the file system and its pools with it.
#[test]
fn a_file_system_applies_on_its_pools_drifts_and_is_destroyed_only_with_allow_data_loss() {
    let Some(c) = cluster() else { return };
    let stack = Stack::new(
        "fsdone",
        r#"
filesystem "fsdone" {
  metadata {
    size           = 3
    failure_domain = "osd"
  }
  data "default" {
    size           = 3
    pg_num         = 8
    autoscale      = "off"
    failure_domain = "osd"
  }
  data "cold" {
    type           = "erasure"
    pg_num         = 8
    autoscale      = "off"
    failure_domain = "osd"

    erasure { k = 2, m = 1 }
  }
  active  = 1
  standby = false
}
"#,
    );
    let first = stack.cairn(c, &["apply", "--auto-approve"]).code(0);
    assert!(first.stderr.lines().any(|l| l.contains("CephFs/fsdone") && l.contains("created (")), "{}", first.stderr);

    let all = ceph_json(c, &["fs", "ls"]);
    let fs = all.as_array().into_iter().flatten().find(|f| f["name"] == "fsdone").unwrap_or_else(|| panic!("no fsdone in {all}"));
    assert_eq!(fs["metadata_pool"], "fsdone-metadata", "{fs}");
    assert_eq!(fs["data_pools"], serde_json::json!(["fsdone-default", "fsdone-cold"]), "the default data pool first: {fs}");
    let ec = ceph_json(c, &["osd", "pool", "get", "fsdone-cold", "allow_ec_overwrites"]);
    assert_eq!(ec["allow_ec_overwrites"], true, "{ec}");
    let apps = ceph_json(c, &["osd", "pool", "application", "get", "fsdone-metadata"]);
    assert_eq!(apps["cephfs"]["cairn.dev/stack"], "fsdone", "the ownership marker: {apps}");
    assert_eq!(apps["cephfs"]["cairn.dev/address"], "filesystem.fsdone", "{apps}");
    assert!(apps["cephfs"]["cairn.dev/fs-applied-hash"].is_string(), "{apps}");
    let mdsmap = |c: &Cluster| fs_dump(c).into_iter().find(|f| f["mdsmap"]["fs_name"] == "fsdone").map(|f| f["mdsmap"].clone());
    // The cluster's one MDS may be busy with another test's file system for a while.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let active = loop {
        let m = mdsmap(c).unwrap_or_default();
        if m["info"].as_object().into_iter().flatten().any(|(_, d)| d["state"] == "up:active" && d["rank"] == 0) {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "fsdone not active within 90 s: {m}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert_eq!((active["max_mds"].as_u64(), active["standby_count_wanted"].as_u64()), (Some(1), Some(0)), "{active}");

    let again = stack.cairn(c, &["plan", "--detailed-exitcode"]).code(0);
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);

    // A second file system would find no MDS daemon free: the plan says so.
    let text = std::fs::read_to_string(stack.dir.join("main.cairn")).expect("read the stack");
    stack.write(&format!(
        "{}\nfilesystem \"fsdone-two\" {{\n  metadata {{ failure_domain = \"osd\" }}\n  data \"default\" {{ failure_domain = \"osd\" }}\n}}\n",
        text.trim_start_matches(CLUSTER_BLOCK)
    ));
    let two = stack.cairn(c, &["plan"]).code(0);
    let line = two.stdout.lines().find(|l| l.contains("CephFs/fsdone-two")).unwrap_or_default();
    assert!(line.contains("MDS daemon") && line.contains("cairn does not start MDS daemons"), "{}", two.stdout);
    std::fs::write(stack.dir.join("main.cairn"), text).expect("restore the stack");

    ceph(c, &["fs", "set", "fsdone", "max_mds", "2"]).code(0);
    let d = stack.cairn(c, &["drift", "--format", "json"]).code(2);
    let json: Value = serde_json::from_str(&d.stdout).unwrap_or_else(|e| panic!("{e}: {}", d.stdout));
    let text = json.to_string();
    assert!(text.contains("CephFs") && text.contains("\"active\"") && text.contains("\"drift\""), "active named, classed drift: {json:#}");
    stack.cairn(c, &["apply", "--auto-approve"]).code(0);
    assert_eq!(mdsmap(c).map(|m| m["max_mds"].clone()), Some(Value::from(1)), "drift taken back");

    let refused = stack.cairn(c, &["destroy", "--auto-approve"]).code(1);
    assert!(refused.stderr.contains("--allow-data-loss"), "{}", refused.stderr);
    assert!(mdsmap(c).is_some(), "nothing deleted while protected");
    stack.cairn(c, &["destroy", "--auto-approve", "--allow-data-loss"]).code(0);
    assert!(mdsmap(c).is_none(), "the file system is gone");
    let names = pool_names(c);
    assert!(!names.iter().any(|n| n.starts_with("fsdone-")), "its pools are gone: {names:?}");
}

/// A file system made by hand is never written: a stack declaring one of its name is refused
/// (plan and apply exit 1, naming it), and a destroy leaves it and its pools alone.
#[test]
fn a_file_system_made_by_hand_is_refused_and_left_alone() {
    let Some(c) = cluster() else { return };
    for pool in ["handfs-metadata", "handfs-default"] {
        ceph(c, &["osd", "pool", "create", pool, "8", "8"]).code(0);
    }
    ceph(c, &["fs", "new", "handfs", "handfs-metadata", "handfs-default"]).code(0);
    // Down at once, so the test cluster's one MDS stays free for the other tests.
    ceph(c, &["fs", "fail", "handfs"]).code(0);
    let before = ceph_json(c, &["fs", "get", "handfs"])["mdsmap"]["max_mds"].clone();
    let stack = Stack::new(
        "handfs",
        "filesystem \"handfs\" {\n  metadata { failure_domain = \"osd\" }\n  data \"default\" { failure_domain = \"osd\" }\n  active = 2\n}\n",
    );
    let p = stack.cairn(c, &["plan"]).code(1);
    let all = format!("{}{}", p.stdout, p.stderr);
    assert!(all.contains("file system handfs") && all.contains("was not created by stack handfs"), "{all}");
    stack.cairn(c, &["apply", "--auto-approve"]).code(1);
    stack.write("");
    stack.cairn(c, &["destroy", "--auto-approve", "--allow-data-loss"]).code(0);
    assert_eq!(ceph_json(c, &["fs", "get", "handfs"])["mdsmap"]["max_mds"], before, "never changed");
    let names = pool_names(c);
    assert!(names.contains(&"handfs-metadata".to_string()) && names.contains(&"handfs-default".to_string()), "{names:?}");
    ceph(c, &["fs", "rm", "handfs", "--yes-i-really-mean-it"]).code(0);
    for pool in ["handfs-metadata", "handfs-default"] {
        ceph(c, &["osd", "pool", "rm", pool, pool, "--yes-i-really-really-mean-it"]).code(0);
    }
}

/// `examples/lab-fs` applies on the test cluster and then plans no changes.
#[test]
fn the_lab_fs_example_applies_and_then_plans_no_changes() {
    let Some(c) = cluster() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("lab-fs");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/lab-fs");
    for e in std::fs::read_dir(&example).expect("the example").flatten() {
        std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy");
    }
    let cairn = |args: &[&str]| {
        run(Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--color", "never", "--ceph-conf"])
            .arg(&c.conf)
            .args(args)
            .arg(&dir)
            .env("HOME", tmp.path())
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run cairn"))
    };
    cairn(&["apply", "--auto-approve"]).code(0);
    let fs = ceph_json(c, &["fs", "get", "lab-files"]);
    assert_eq!(fs["mdsmap"]["fs_name"], "lab-files", "{fs}");
    let plan = cairn(&["plan", "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    cairn(&["destroy", "--auto-approve", "--allow-data-loss"]).code(0);
    assert!(fs_dump(c).iter().all(|f| f["mdsmap"]["fs_name"] != "lab-files"));
}

/// `existing = true` on a direct-mode pool (LANGUAGE.md §10): a storage class on a pool the
/// storage team made plans and applies, the pool is never changed or deleted (not by
/// `destroy --allow-data-loss`), and an existing pool that is not there is refused at plan time
/// naming it and the command that shows it.
#[test]
fn a_storage_class_on_an_existing_pool_applies_and_a_missing_existing_pool_is_refused() {
    let Some(c) = cluster() else { return };
    ceph(c, &["osd", "pool", "create", "team-rbd", "8", "8"]).code(0);
    ceph(c, &["osd", "pool", "application", "enable", "team-rbd", "rbd"]).code(0);
    let before = ceph_json(c, &["osd", "pool", "get", "team-rbd", "all"]);
    let fsid = ceph_json(c, &["fsid"])["fsid"].as_str().unwrap_or_default().to_string();
    let sb = cairn_sandbox::Sandbox::start(cairn_sandbox::Options::default()).expect("sandbox starts");
    let stack = Stack::new("team", "");
    let kubeconfig = kubeconfig_for(&sb, &stack);
    let write = |pool: &str| {
        let text = format!(
            "cluster \"lab\" {{\n  ceph {{\n    mode = \"direct\"\n    fsid = \"{fsid}\"\n  }}\n}}\n\npool \"{pool}\" {{ existing = true }}\n\nstorage_class \"team\" {{ pool = pool.{pool} }}\n"
        );
        std::fs::write(stack.dir.join("main.cairn"), text).expect("write the stack");
    };
    let cairn = |args: &[&str]| {
        run(Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--color", "never", "--ceph-conf"])
            .arg(&c.conf)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(args)
            .arg(&stack.dir)
            .env("HOME", stack.tmp.path())
            .env("XDG_CACHE_HOME", stack.tmp.path().join("cache"))
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run cairn"))
    };

    write("team-rbd");
    let plan = cairn(&["plan"]).code(0);
    assert!(plan.stdout.contains("+ StorageClass/team") && !plan.stdout.contains("CephPool"), "{}", plan.stdout);
    cairn(&["apply", "--auto-approve"]).code(0);
    let class = sb.object("storage.k8s.io", "storageclasses", "", "team").expect("the class");
    assert_eq!(class["parameters"]["pool"], "team-rbd", "{class:#}");
    assert_eq!(class["parameters"]["clusterID"], fsid.as_str(), "{class:#}");
    cairn(&["plan", "--detailed-exitcode"]).code(0);
    cairn(&["destroy", "--auto-approve", "--allow-data-loss"]).code(0);
    assert!(pool_names(c).contains(&"team-rbd".to_string()), "never deleted");
    assert_eq!(ceph_json(c, &["osd", "pool", "get", "team-rbd", "all"]), before, "never changed");

    write("team-missing");
    let refused = cairn(&["plan"]).code(1);
    let out = format!("{}{}", refused.stdout, refused.stderr);
    assert!(out.contains("pool.team-missing is `existing`, but Ceph pool `team-missing` does not exist"), "{out}");
    assert!(out.contains("storage_class.team uses it") && out.contains("ceph osd pool ls"), "{out}");
    cairn(&["apply", "--auto-approve"]).code(1);
    assert!(sb.object("storage.k8s.io", "storageclasses", "", "team").is_none(), "a refused plan applies nothing");
}
