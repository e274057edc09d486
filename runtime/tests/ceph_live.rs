//! The direct-mode Ceph provider against a real cluster: one monitor, one manager and three
//! memstore OSDs started by `tests/ceph/cluster.sh` once for this test binary and shared by its
//! tests (each uses its own pool, profile and stack names). The cluster is stopped when the
//! binary exits (`atexit`), and by the script's watchdog if the binary is killed instead.
//! Without the Debian packages every test prints one line and passes, except under `CI=true`,
//! where it fails.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use cairn_runtime::apply::Stop;
use cairn_runtime::ceph::commands::commands;
use cairn_runtime::ceph::error::errno;
use cairn_runtime::ceph::fs_commands::fs_commands;
use cairn_runtime::ceph::fs_plan::{combine, plan_filesystems, FsPlanInput};
use cairn_runtime::ceph::fs_spec::{is_fs, DesiredFs};
use cairn_runtime::ceph::lock::{self, LockRecord};
use cairn_runtime::ceph::plan::{plan_pools, PoolPlanInput};
use cairn_runtime::ceph::spec::DesiredPool;
use cairn_runtime::ceph::state::{POOL_STACK_KEY, POOL_TYPE_ERASURE, POOL_TYPE_REPLICATED};
use cairn_runtime::ceph::{ensure_absent_or_owned, read, read_state, run_commands, CephError, Client, Settings};
use cairn_runtime::fence::Timing;
use cairn_runtime::plan::{Action, Step};
use serde_json::{json, Value as Json};

/// A running test cluster.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    keyring: PathBuf,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ceph/cluster.sh")
}

#[path = "../../cli/tests/support/ci.rs"]
mod ci;
use ci::missing;

fn packages_installed() -> bool {
    let installed = ["ceph-mon", "ceph-osd", "ceph-mds"].iter().all(|b| Path::new("/usr/bin").join(b).exists());
    if !installed {
        missing("Ceph (ceph-mon, ceph-osd, ceph-mds)", "tests/ceph/install.sh installs Debian's packages");
    }
    installed
}

/// The shared cluster, started on first use; `None` (after printing why) without the packages.
fn cluster() -> Option<&'static Cluster> {
    if !packages_installed() {
        return None;
    }
    match CLUSTER.get_or_init(start) {
        Ok(c) => Some(c),
        Err(e) => panic!("the test cluster did not start: {e}"),
    }
}

fn start() -> Result<Cluster, String> {
    let out = std::process::Command::new("bash")
        .arg(script())
        .args(["start", "--timeout", "120", "--watch", &std::process::id().to_string()])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let var = |name: &str| stdout.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).map(PathBuf::from);
    // Registered before checking the status: a half-started cluster is stopped too.
    if let Some(dir) = var("CEPH_CLUSTER_DIR") {
        let _ = STARTED_DIR.set(dir);
        // SAFETY: registering a plain `extern "C" fn` with no captured state.
        unsafe { atexit(stop_at_exit) };
    }
    if !out.status.success() {
        return Err(format!("cluster.sh start failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    match (var("CEPH_CLUSTER_DIR"), var("CEPH_CONF"), var("CEPH_KEYRING")) {
        (Some(dir), Some(conf), Some(keyring)) => Ok(Cluster { dir, conf, keyring }),
        _ => Err(format!("cluster.sh printed no CEPH_CONF/CEPH_KEYRING/CEPH_CLUSTER_DIR:\n{stdout}")),
    }
}

static STARTED_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" {
    /// C's `atexit`: libtest's `main` returns (or calls `exit`) when the tests are done.
    fn atexit(f: extern "C" fn()) -> std::ffi::c_int;
}

extern "C" fn stop_at_exit() {
    if let Some(dir) = STARTED_DIR.get() {
        let _ = std::process::Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(dir);
    }
}

impl Cluster {
    fn settings(&self) -> Settings {
        Settings { conf: Some(self.conf.clone()), keyring: Some(self.keyring.clone()), ..Settings::default() }
    }

    async fn client(&self) -> Client {
        match Client::connect(&self.settings()).await {
            Ok(c) => c,
            Err(e) => panic!("cannot connect to the test cluster in {}: {e}", self.dir.display()),
        }
    }
}

fn create_pool(name: &str) -> Json {
    json!({"prefix": "osd pool create", "pool": name, "pg_num": 8, "pgp_num": 8, "pool_type": "replicated", "autoscale_mode": "off"})
}

fn delete_pool(name: &str) -> Json {
    json!({"prefix": "osd pool delete", "pool": name, "pool2": name, "yes_i_really_really_mean_it": true})
}

fn help(e: &CephError) -> String {
    miette::Diagnostic::help(e).map(|h| h.to_string()).unwrap_or_default()
}

/// A keyring for `client.admin` with a well-formed but random key.
fn random_keyring(path: &Path) {
    let mut secret = [0u8; 16];
    getrandom::getrandom(&mut secret).unwrap();
    // CryptoKey encoding: type 1 (AES), creation time (8 bytes), length 16, the secret.
    let mut raw = vec![1u8, 0];
    raw.extend_from_slice(&[0u8; 8]);
    raw.extend_from_slice(&[16, 0]);
    raw.extend_from_slice(&secret);
    let key = base64::engine::general_purpose::STANDARD.encode(raw);
    std::fs::write(path, format!("[client.admin]\n\tkey = {key}\n")).unwrap();
}

#[tokio::test]
async fn connects_and_reads_the_state_of_a_new_cluster() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let state = read_state(&client).await.unwrap();
    // The manager's own pool is there from the start (named `.mgr` from Ceph 17 on).
    assert!(state.pool("device_health_metrics").or(state.pool(".mgr")).is_some(), "{:?}", state.pools);
    let default = &state.ec_profiles["default"];
    assert_eq!(default.get("k").map(String::as_str), Some("2"));
    assert_eq!(default.get("plugin").map(String::as_str), Some("jerasure"));
    let rule = state.crush_rules.iter().find(|r| r.rule_name == "replicated_rule").unwrap();
    assert_eq!(rule.rule_type, POOL_TYPE_REPLICATED);
    // osd_crush_chooseleaf_type = 0: one host, replicas spread over OSDs.
    assert_eq!(rule.failure_domain(), Some("osd"));
    // Four commands plus one per EC profile, however many pools and file systems there are.
    assert_eq!(client.commands_issued(), 4 + state.ec_profiles.len() as u64);

    let conf = std::fs::read_to_string(&cluster.conf).unwrap();
    let fsid = read::fsid(&client).await.unwrap();
    assert!(conf.contains(&format!("fsid = {fsid}")), "fsid {fsid} not in the conf");
    assert!(client.describe().starts_with("client.admin@"), "{}", client.describe());
}

#[tokio::test]
async fn a_pool_made_with_raw_commands_reads_back_with_its_settings_and_marker() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let pool = "t-repl";
    let cmds = [
        create_pool(pool),
        json!({"prefix": "osd pool set", "pool": pool, "var": "size", "val": "2"}),
        json!({"prefix": "osd pool set", "pool": pool, "var": "min_size", "val": "1"}),
        json!({"prefix": "osd pool application enable", "pool": pool, "app": "rbd"}),
        json!({"prefix": "osd pool application set", "pool": pool, "app": "rbd", "key": POOL_STACK_KEY, "value": "shop"}),
        json!({"prefix": "osd pool set-quota", "pool": pool, "field": "max_bytes", "val": "1073741824"}),
    ];
    let said = run_commands(&client, &cmds, None).await.unwrap();
    assert!(said.contains(&format!("pool '{pool}' created")), "{said}");

    let state = read_state(&client).await.unwrap();
    let live = state.pool(pool).unwrap();
    assert_eq!(live.pool_type, POOL_TYPE_REPLICATED);
    assert_eq!((live.size, live.min_size), (2, 1));
    assert_eq!(live.pg_num_target, 8);
    assert_eq!(live.pg_autoscale_mode, "off");
    assert_eq!(live.quota_max_bytes, 1 << 30);
    assert_eq!(live.quota_max_objects, 0);
    assert_eq!(live.owner(), Some("shop"));
    assert!(live.application_metadata.contains_key("rbd"));
    assert_eq!(state.rule(live.crush_rule).map(|r| r.rule_name.as_str()), Some("replicated_rule"));

    // The ownership check before a create.
    ensure_absent_or_owned(&client, pool, "shop").await.unwrap();
    ensure_absent_or_owned(&client, "t-repl-absent", "shop").await.unwrap();
    let e = ensure_absent_or_owned(&client, pool, "other").await.unwrap_err();
    assert!(matches!(&e, CephError::NotOwned { owner: Some(o), .. } if o == "shop"), "{e:?}");
    assert!(e.to_string().contains("belongs to stack `shop`"), "{e}");

    run_commands(&client, &[delete_pool(pool)], None).await.unwrap();
    assert!(read_state(&client).await.unwrap().pool(pool).is_none());
}

#[tokio::test]
async fn a_pool_without_a_marker_is_not_owned() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let pool = "t-foreign";
    run_commands(&client, &[create_pool(pool)], None).await.unwrap();
    let e = ensure_absent_or_owned(&client, pool, "shop").await.unwrap_err();
    assert!(matches!(&e, CephError::NotOwned { owner: None, .. }), "{e:?}");
    assert!(help(&e).contains("never writes a pool it does not own"), "{}", help(&e));
    run_commands(&client, &[delete_pool(pool)], None).await.unwrap();
}

#[tokio::test]
async fn erasure_code_profiles_and_crush_rules_read_back() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let cmds = [
        json!({"prefix": "osd erasure-code-profile set", "name": "t-k2m1", "profile": ["k=2", "m=1", "crush-failure-domain=osd"]}),
        json!({"prefix": "osd pool create", "pool": "t-ec", "pg_num": 8, "pgp_num": 8, "pool_type": "erasure",
               "erasure_code_profile": "t-k2m1", "autoscale_mode": "off"}),
        json!({"prefix": "osd pool set", "pool": "t-ec", "var": "allow_ec_overwrites", "val": "true"}),
        json!({"prefix": "osd crush rule create-replicated", "name": "t-osd-rule", "root": "default", "type": "osd"}),
    ];
    run_commands(&client, &cmds, None).await.unwrap();

    let state = read_state(&client).await.unwrap();
    let profile = &state.ec_profiles["t-k2m1"];
    assert_eq!(profile.get("k").map(String::as_str), Some("2"));
    assert_eq!(profile.get("m").map(String::as_str), Some("1"));
    assert_eq!(profile.get("crush-failure-domain").map(String::as_str), Some("osd"));
    let pool = state.pool("t-ec").unwrap();
    assert_eq!(pool.pool_type, POOL_TYPE_ERASURE);
    assert_eq!(pool.erasure_code_profile, "t-k2m1");
    assert_eq!(pool.size, 3);
    assert!(pool.flags_names.contains("ec_overwrites"), "{}", pool.flags_names);
    // Creating an EC pool adds a rule named after the pool.
    let rule = state.rule(pool.crush_rule).unwrap();
    assert_eq!((rule.rule_name.as_str(), rule.rule_type), ("t-ec", POOL_TYPE_ERASURE));
    let rule = state.crush_rules.iter().find(|r| r.rule_name == "t-osd-rule").unwrap();
    assert_eq!(rule.failure_domain(), Some("osd"));
    assert_eq!(rule.device_class(), None);

    // Removing a profile still in use is refused with EBUSY.
    let e = run_commands(&client, &[json!({"prefix": "osd erasure-code-profile rm", "name": "t-k2m1"})], None).await.unwrap_err();
    assert_eq!(e.errno(), Some(errno::EBUSY), "{e}");

    run_commands(
        &client,
        &[
            delete_pool("t-ec"),
            json!({"prefix": "osd crush rule rm", "name": "t-ec"}),
            json!({"prefix": "osd crush rule rm", "name": "t-osd-rule"}),
            json!({"prefix": "osd erasure-code-profile rm", "name": "t-k2m1"}),
        ],
        None,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn monitor_errors_carry_errno_message_and_help() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;

    let e = client.mon_command(json!({"prefix": "osd pool set", "pool": "t-missing", "var": "size", "val": "3"})).await.unwrap_err();
    assert_eq!(e.errno(), Some(errno::ENOENT));
    assert_eq!(e.to_string(), "ceph `osd pool set` failed with ENOENT: unrecognized pool 't-missing'");
    assert!(help(&e).contains("does not exist"), "{}", help(&e));

    let e = client
        .mon_command(json!({"prefix": "osd pool create", "pool": "t-huge", "pg_num": 4096, "pool_type": "replicated"}))
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(errno::ERANGE), "{e}");
    assert!(e.to_string().contains("exceeds max"), "{e}");
    assert!(help(&e).contains("mon_max_pg_per_osd"), "{}", help(&e));

    // run_commands stops at the first failure: the pool after it is never created.
    let cmds = [json!({"prefix": "osd pool set", "pool": "t-missing", "var": "size", "val": "3"}), create_pool("t-never")];
    let e = run_commands(&client, &cmds, None).await.unwrap_err();
    assert_eq!(e.errno(), Some(errno::ENOENT));
    assert!(read_state(&client).await.unwrap().pool("t-never").is_none());
}

#[tokio::test]
async fn the_lock_names_its_holder_is_released_and_taken_over_when_expired() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let stack = "t-lock";
    let mut quiet = |_: &str| {};
    let timing = Timing::with_lease(Duration::from_secs(2));
    let stop = Stop::new();

    let first = lock::acquire(&client, stack, "alice@host pid 1", Duration::ZERO, &timing, &stop, &mut quiet).await.unwrap();
    assert_eq!(lock::current(&client, stack).await.unwrap().map(|r| r.holder).as_deref(), Some("alice@host pid 1"));
    first.renew().await.unwrap();

    let e = lock::acquire(&client, stack, "bob@host pid 2", Duration::ZERO, &timing, &stop, &mut quiet).await.err().unwrap();
    assert!(matches!(&e, CephError::Locked { holder, .. } if holder == "alice@host pid 1"), "{e:?}");
    assert!(e.to_string().contains("locked by alice@host pid 1 (config-key cairn/lock/t-lock"), "{e}");

    // A waiting taker gets it once the holder releases.
    let releaser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        first.release().await
    });
    let mut waited_for = Vec::new();
    let second =
        lock::acquire(&client, stack, "bob@host pid 2", Duration::from_secs(10), &timing, &stop, &mut |h| waited_for.push(h.to_string()))
            .await
            .unwrap();
    releaser.await.unwrap().unwrap();
    assert_eq!(waited_for.len(), 1, "{waited_for:?}");
    assert!(waited_for[0].contains("locked by alice@host pid 1"), "{waited_for:?}");
    second.release().await.unwrap();
    assert_eq!(lock::current(&client, stack).await.unwrap(), None);

    // A holder that died leaves a record nobody renews, which the next taker takes over once it
    // has seen it unchanged for a whole lease on its own clock — not at once.
    let dead =
        LockRecord { holder: "carol@host pid 3".into(), acquired: "2020-01-01T00:00:00Z".into(), expires: "2020-01-01T00:00:30Z".into() };
    let val = serde_json::to_string(&dead).unwrap();
    client.mon_command(json!({"prefix": "config-key set", "key": lock::lock_key(stack), "val": val})).await.unwrap();
    let t = std::time::Instant::now();
    let third = lock::acquire(&client, stack, "dave@host pid 4", Duration::ZERO, &timing, &stop, &mut quiet).await.unwrap();
    assert!(t.elapsed() >= timing.lease, "took over after {:?}", t.elapsed());
    assert_eq!(lock::current(&client, stack).await.unwrap().map(|r| r.holder).as_deref(), Some("dave@host pid 4"));
    third.release().await.unwrap();
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_eacces() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let keyring = dir.path().join("wrong.keyring");
    random_keyring(&keyring);
    let settings = Settings { keyring: Some(keyring), connect_timeout: Duration::from_secs(5), ..cluster.settings() };
    let e = Client::connect(&settings).await.unwrap_err();
    assert_eq!(e.errno(), Some(errno::EACCES), "{e}");
    assert!(help(&e).contains("keyring"), "{}", help(&e));
}

#[tokio::test]
async fn connecting_to_a_dead_monitor_fails_within_the_timeout() {
    if !packages_installed() {
        return;
    }
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ceph.conf");
    let keyring = dir.path().join("keyring");
    random_keyring(&keyring);
    std::fs::write(&conf, format!("[global]\nmon_host = v2:127.0.0.1:{port}\nms_bind_msgr1 = false\n")).unwrap();
    let timeout = Duration::from_secs(3);
    let settings = Settings { conf: Some(conf.clone()), keyring: Some(keyring), connect_timeout: timeout, ..Settings::default() };
    let started = Instant::now();
    let e = Client::connect(&settings).await.unwrap_err();
    let took = started.elapsed();
    assert!(took < timeout + Duration::from_secs(2), "took {took:?}");
    let text = e.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains(&conf.display().to_string()), "{text}");
    assert!(help(&e).contains("cluster is up"), "{}", help(&e));
}

#[tokio::test]
async fn a_missing_conf_is_named() {
    if !packages_installed() {
        return;
    }
    let settings = Settings { conf: Some("/nonexistent/ceph.conf".into()), ..Settings::default() };
    let e = Client::connect(&settings).await.unwrap_err();
    assert!(matches!(&e, CephError::Conf { path, .. } if path == "/nonexistent/ceph.conf"), "{e:?}");
    assert!(help(&e).contains("CEPH_CONF"), "{}", help(&e));
}

/// `filesystem "rt" { metadata {…} data "default" {…} data "cold" { erasure } active = 1
/// standby = false }` as the compiler lowers it: the file system and its three pools.
fn lowered_fs() -> (DesiredFs, Vec<DesiredPool>) {
    let replicated = json!({"type": "replicated", "size": 3, "min_size": 2, "pg_num": 8, "autoscale": "off",
        "failure_domain": "osd", "application": "cephfs"});
    let erasure = json!({"type": "erasure", "erasure": {"k": 2, "m": 1}, "min_size": 3, "pg_num": 8, "autoscale": "off",
        "failure_domain": "osd", "application": "cephfs", "ec_overwrites": true});
    let pool = |name: &str, spec: &Json| {
        let body = json!({"apiVersion": "cairn.dev/v1alpha1", "kind": "CephPool", "metadata": {"name": name}, "spec": spec});
        DesiredPool::from_lowered(name, "filesystem.rt", true, &body).unwrap()
    };
    let pools = vec![pool("rt-metadata", &replicated), pool("rt-default", &replicated), pool("rt-cold", &erasure)];
    let mut default = replicated.clone();
    default["name"] = json!("default");
    let mut cold = erasure.clone();
    cold["name"] = json!("cold");
    let body = json!({"apiVersion": "cairn.dev/v1alpha1", "kind": "CephFs", "metadata": {"name": "rt"},
        "spec": {"metadata": replicated, "data": [default, cold], "active": 1, "standby": false}});
    (DesiredFs::from_lowered("rt", "filesystem.rt", true, &body).unwrap(), pools)
}

/// The Ceph plan of `fs` (or its destroy) against the cluster as it is now.
async fn plan_fs(client: &Client, fs: &[DesiredFs], pools: &[DesiredPool], destroy: bool) -> (Vec<Step>, cairn_runtime::ceph::CephState) {
    let live = read_state(client).await.unwrap();
    let p = plan_pools(&PoolPlanInput { stack: "rt", pools, moves: &[], live: &live, adopt: false, destroy });
    let f = plan_filesystems(&FsPlanInput { stack: "rt", filesystems: fs, live: &live, adopt: false, destroy });
    let (steps, refusals) = combine(p, f, fs, &live);
    assert!(refusals.is_empty(), "{refusals:#?}");
    (steps, live)
}

/// Runs the steps in plan order (each after the ones it names, which come earlier).
async fn run_steps(client: &Client, steps: &[Step], fs: &[DesiredFs], pools: &[DesiredPool], live: &cairn_runtime::ceph::CephState) {
    for step in steps {
        let cmds = if is_fs(&step.key) {
            fs_commands(step, fs.iter().find(|f| f.name == step.key.name), pools, "rt", live)
        } else {
            commands(step, pools.iter().find(|p| p.name == step.key.name), "rt", live)
        };
        if let Err(e) = run_commands(client, &cmds, None).await {
            panic!("{} {}: {e}\n{cmds:#?}", step.action.as_str(), step.key);
        }
    }
}

/// The file-system planner's commands through librados: the file system is made on its pools
/// (the EC one with overwrites), reads back from `fs dump`, is taken by the cluster's MDS, plans
/// as no-ops, and its destroy removes it before its pools.
#[tokio::test]
async fn a_planned_file_system_is_made_read_back_served_and_destroyed() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let (fs, pools) = lowered_fs();
    let fs = [fs];
    let (steps, live) = plan_fs(&client, &fs, &pools, false).await;
    let ids: Vec<String> = steps.iter().map(|s| format!("{} {}", s.action.as_str(), s.key.id())).collect();
    assert_eq!(ids, ["create CephPool/rt-metadata", "create CephPool/rt-default", "create CephPool/rt-cold", "create CephFs/rt"]);
    run_steps(&client, &steps, &fs, &pools, &live).await;

    let state = read_state(&client).await.unwrap();
    let live_fs = state.fs("rt").expect("the file system");
    assert_eq!(state.fs_pool_names(live_fs), ["rt-metadata", "rt-default", "rt-cold"]);
    assert_eq!((live_fs.mdsmap.max_mds, live_fs.mdsmap.standby_count_wanted), (1, 0));
    assert!(state.pool("rt-cold").unwrap().flags_names.contains("ec_overwrites"));
    let meta = state.pool("rt-metadata").unwrap();
    assert_eq!(meta.application_metadata["cephfs"].get("metadata").map(String::as_str), Some("rt"), "fs new's own key");
    assert_eq!(meta.owner(), Some("rt"), "cairn's marker survives `fs new`");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !read_state(&client).await.unwrap().fs("rt").is_some_and(|f| f.is_active()) {
        assert!(Instant::now() < deadline, "no MDS took file system rt within 60 s");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let (steps, _) = plan_fs(&client, &fs, &pools, false).await;
    assert!(steps.iter().all(|s| s.action == Action::Noop && s.reason.is_none()), "{steps:#?}");

    let (steps, live) = plan_fs(&client, &fs, &pools, true).await;
    assert_eq!(steps.first().map(|s| s.key.id()), Some("CephFs/rt".to_string()));
    assert!(steps.iter().all(|s| s.action == Action::Delete && s.protected), "{steps:#?}");
    run_steps(&client, &steps, &fs, &pools, &live).await;
    let state = read_state(&client).await.unwrap();
    assert!(state.fs("rt").is_none() && state.pools.iter().all(|p| !p.pool_name.starts_with("rt-")), "{state:?}");
}
