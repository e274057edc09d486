//! The apply lock is fenced and signals stop a run in order (DESIGN.md §2 step 11): an apply that
//! cannot renew its Lease, or was paused past it while another apply took over, writes nothing
//! more and fails naming what was and was not written; Ctrl-C and SIGTERM start nothing more,
//! give the lock back, print the summary and exit 130.

use std::time::{Duration, Instant};

use cairn_sandbox::{Action, Fault};

use crate::common::*;

/// The lease length the tests run with: long enough that a loaded CI machine renews in time,
/// short enough not to wait 30 s.
const LEASE: &str = "6";

/// `n` ConfigMaps in namespace `locks`, each holding `env("VALUE")`.
fn configmaps(env: &Env, n: usize) -> std::path::PathBuf {
    env.write_stack(
        "locks",
        &format!(
            r#"stack "locks" {{}}

namespace "locks" {{}}

for i in range({n}) {{
  config "c-${{i}}" {{
    namespace = namespace.locks
    data      = {{ value = env("VALUE") }}
  }}
}}
"#
        ),
    )
}

/// Slows every ConfigMap write, so an apply of many takes a while.
fn slow_configmaps(ms: u64) -> Fault {
    Fault { action: Action::Latency { ms }, verb: Some("patch".into()), resource: Some("configmaps".into()), rate: 1.0, times: None }
}

/// The ConfigMaps' `value`s, by name.
fn values(env: &Env, n: usize) -> Vec<Option<String>> {
    (0..n)
        .map(|i| {
            env.get("", "configmaps", "locks", &format!("c-{i}"))
                .and_then(|c| c.pointer("/data/value").and_then(Value::as_str).map(str::to_string))
        })
        .collect()
}

/// Client writes of the stack's ConfigMaps, with their place in the write log.
fn configmap_writes(env: &Env) -> Vec<u64> {
    env.sb.writes().into_iter().filter(|w| !w.controller && w.kind == "ConfigMap" && w.namespace == "locks").map(|w| w.seq).collect()
}

/// The Lease's holder, if any.
fn lease_holder(env: &Env) -> Option<String> {
    env.get("coordination.k8s.io", "leases", "cairn-system", "cairn-locks")
        .and_then(|l| l.pointer("/spec/holderIdentity").and_then(Value::as_str).map(str::to_string))
}

/// An apply paused (SIGSTOP) past its lease while a second apply takes the stack over writes
/// nothing after it resumes: it fails naming the lost lock, and every object holds the second
/// apply's value. Before fencing, the resumed apply went on overwriting the second one's writes
/// and both exited 0.
#[test]
fn a_paused_apply_writes_nothing_after_another_took_its_lock() {
    let env = env();
    let n = 40;
    let dir = configmaps(&env, n);
    env.faults(vec![slow_configmaps(150)]);
    let args = ["apply", dir.to_str().unwrap(), "--auto-approve", "--parallelism", "1"];
    let first = env.command(&args).env("VALUE", "first").env("CAIRN_LOCK_LEASE_SECONDS", LEASE).spawn().unwrap();
    wait_until(30, "the first apply to write some ConfigMaps", || configmap_writes(&env).len() >= 3);
    signal(&first, "STOP");
    let paused_at = configmap_writes(&env).len();

    // The second apply watches the unrenewed lease for a whole lease (6 s), then takes it over.
    env.faults(vec![slow_configmaps(10)]);
    let started = Instant::now();
    let mut waiting = args.to_vec();
    waiting.extend(["--lock-timeout", "20s"]);
    let second = env.command(&waiting).env("VALUE", "second").env("CAIRN_LOCK_LEASE_SECONDS", LEASE).output().unwrap();
    let second = run_of(second).code(0);
    assert!(started.elapsed() >= Duration::from_secs(6), "took the lock over after {:?}", started.elapsed());
    assert!(second.stderr.contains("is locked by"), "does not say why it waits:\n{}", second.all());
    let second_done = env.sb.writes().last().map_or(0, |w| w.seq);
    assert!(values(&env, n).iter().all(|v| v.as_deref() == Some("second")), "{:?}", values(&env, n));

    signal(&first, "CONT");
    let first = run_of(first.wait_with_output().unwrap());
    assert_eq!(first.code, 1, "the paused apply must fail:\n{}", first.all());
    assert!(first.all().contains("lock on stack `locks` was lost"), "does not name the lost lock:\n{}", first.all());
    assert!(first.stdout.contains("Apply stopped"), "{}", first.stdout);
    assert!(first.stdout.contains("Not done"), "does not say what was not written:\n{}", first.stdout);
    let late: Vec<u64> = configmap_writes(&env).into_iter().filter(|&seq| seq > second_done).collect();
    assert!(late.is_empty(), "the paused apply wrote {} ConfigMaps after losing its lock (paused after {paused_at})", late.len());
    assert!(values(&env, n).iter().all(|v| v.as_deref() == Some("second")), "{:?}", values(&env, n));
    assert_eq!(lease_holder(&env), None, "the second apply released the Lease and the first did not take it back");
}

/// An apply whose Lease renewals fail (the API answers 503) stops before its next write once
/// the renew deadline passes, and fails loudly; a re-run converges.
#[test]
fn an_apply_that_cannot_renew_its_lease_stops_writing() {
    let env = env();
    let n = 60;
    let dir = configmaps(&env, n);
    env.faults(vec![
        slow_configmaps(150),
        Fault {
            action: Action::Error { status: 503 },
            verb: Some("update".into()),
            resource: Some("leases".into()),
            rate: 1.0,
            times: None,
        },
    ]);
    let args = ["apply", dir.to_str().unwrap(), "--auto-approve", "--parallelism", "1"];
    let run = run_of(env.command(&args).env("VALUE", "v").env("CAIRN_LOCK_LEASE_SECONDS", LEASE).output().unwrap());
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("not renewed"), "does not say the lease could not be renewed:\n{}", run.all());
    let written = configmap_writes(&env).len();
    assert!(written < n, "all {n} ConfigMaps were written without a renewed lease");
    // Four seconds (the renew deadline of a 6 s lease) at 150 ms a write: at most about 27.
    assert!(written <= 35, "{written} ConfigMaps written: writes went on past the renew deadline");

    env.faults(vec![]);
    // The stale holder is this machine's own dead run: taken over after a lease of watching.
    env.command(&args).env("VALUE", "v").env("CAIRN_LOCK_LEASE_SECONDS", LEASE).output().map(run_of).unwrap().code(0);
    assert!(values(&env, n).iter().all(|v| v.as_deref() == Some("v")));
}

/// A lease another apply holds and renews is never taken over, whatever its `renewTime` says:
/// expiry is judged by watching the lease change, not by comparing clocks.
#[test]
fn a_renewed_lease_with_an_old_renew_time_is_not_taken_over() {
    let env = env();
    let dir = configmaps(&env, 2);
    // A holder whose clock runs 10 minutes slow: its renewTime always looks expired here.
    let slow = |rv: Option<String>| {
        let t = jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_secs(600)).unwrap();
        let mut lease = json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "cairn-locks", "namespace": "cairn-system"},
            "spec": {"holderIdentity": "skewed@elsewhere pid 7", "leaseDurationSeconds": 2,
                     "renewTime": t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()}
        });
        if let Some(rv) = rv {
            lease["metadata"]["resourceVersion"] = json!(rv);
        }
        lease
    };
    env.call(
        "POST",
        "/api/v1/namespaces?fieldManager=someone",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cairn-system"}}),
    );
    env.call("POST", "/apis/coordination.k8s.io/v1/namespaces/cairn-system/leases?fieldManager=someone", "application/json", &slow(None));
    let stop = std::sync::atomic::AtomicBool::new(false);
    let run = std::thread::scope(|scope| {
        scope.spawn(|| {
            // Renew every 500 ms, as a live holder does.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(500));
                let rv = env
                    .get("coordination.k8s.io", "leases", "cairn-system", "cairn-locks")
                    .and_then(|l| l.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(str::to_string));
                let _ = env.sb.call(
                    "PUT",
                    "/apis/coordination.k8s.io/v1/namespaces/cairn-system/leases/cairn-locks?fieldManager=someone",
                    Some("application/json"),
                    Some(&slow(rv)),
                );
            }
        });
        let run = env.cairn_env(&["apply", dir.to_str().unwrap(), "--auto-approve"], &[("VALUE", "v")]);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        run
    });
    let run = run.code(1);
    assert!(run.all().contains("locked by skewed@elsewhere"), "{}", run.all());
    assert!(configmap_writes(&env).is_empty(), "wrote under another holder's lease");
}

/// Ctrl-C (SIGINT) or SIGTERM during an apply: nothing more starts, the running step finishes,
/// the lock is given back at once, the summary says what was and was not written, and the exit
/// code is 130. A re-run converges.
#[test]
fn a_signal_stops_the_apply_releases_the_lock_and_prints_the_summary() {
    for sig in ["INT", "TERM"] {
        let env = env();
        let n = 30;
        let dir = configmaps(&env, n);
        env.faults(vec![slow_configmaps(200)]);
        let args = ["apply", dir.to_str().unwrap(), "--auto-approve", "--parallelism", "1"];
        let child = env.command(&args).env("VALUE", "v").spawn().unwrap();
        wait_until(30, "the apply to write some ConfigMaps", || configmap_writes(&env).len() >= 3);
        let sent = Instant::now();
        signal(&child, sig);
        let run = run_of(child.wait_with_output().unwrap());
        assert!(sent.elapsed() < Duration::from_secs(10), "SIG{sig}: took {:?} to stop", sent.elapsed());
        assert_eq!(run.code, 130, "SIG{sig}:\n{}", run.all());
        assert!(run.stdout.contains("Apply stopped"), "SIG{sig}: no summary:\n{}", run.stdout);
        assert!(run.all().contains(&format!("interrupted by SIG{sig}")), "SIG{sig}:\n{}", run.all());
        assert!(run.stdout.contains("Not done (re-run apply to converge)"), "SIG{sig}:\n{}", run.stdout);
        let written = configmap_writes(&env).len();
        assert!(written < n, "SIG{sig}: every ConfigMap was still written");
        assert_eq!(lease_holder(&env), None, "SIG{sig}: the Lease is still held");
        // Nothing is written after the run ended.
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(configmap_writes(&env).len(), written);

        env.faults(vec![]);
        env.cairn_env(&["apply", dir.to_str().unwrap(), "--auto-approve"], &[("VALUE", "v")]).code(0);
        assert!(values(&env, n).iter().all(|v| v.as_deref() == Some("v")));
    }
}
