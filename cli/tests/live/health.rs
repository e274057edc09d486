//! Success is health: apply fails while a workload it manages is unhealthy — also when it has
//! nothing to write — and waits for one that is only slow; plan and drift note unhealthy
//! workloads without counting them as changes; the health pass lists per namespace, never per
//! workload; a write whose read-back fails is reported as written, not verified.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_sandbox::{Action, Fault};

use crate::common::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn one_workload(env: &Env, image: &str) -> std::path::PathBuf {
    env.write_stack(
        "hl",
        &format!(
            r#"namespace "hl" {{}}

workload "web" {{
  namespace = namespace.hl
  image     = "{image}"
}}
"#
        ),
    )
}

/// A broken rollout keeps failing apply (the re-run has nothing to write), plan and drift note
/// it with their usual exit codes, and fixing the image makes apply succeed.
#[test]
fn an_unhealthy_workload_fails_every_apply_until_fixed_and_plan_and_drift_note_it() {
    let env = env();
    let dir = one_workload(&env, "registry.example/doesnotexist:1");
    let first = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    assert!(first.all().contains("ImagePullBackOff"), "{}", first.all());

    // The re-run writes nothing, and still fails, naming the workload and the cause.
    let again = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    let all = again.all();
    assert!(again.stdout.contains("No changes"), "{all}");
    assert!(all.contains("Deployment/hl/web") && all.contains("workload.web") && all.contains("ImagePullBackOff"), "{all}");
    assert!(again.stderr.contains("help:"), "{all}");
    assert!(!again.stdout.contains("Apply complete"), "{all}");

    // plan: a note, not a change.
    let plan = env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.all());
    assert!(
        plan.stdout.contains("Note:") && plan.stdout.contains("Deployment/hl/web") && plan.stdout.contains("ImagePullBackOff"),
        "{}",
        plan.all()
    );
    let json = env.cairn(&["plan", s(&dir), "--json", "--detailed-exitcode"]).code(0).json();
    assert_eq!(json["format_version"], "1.2", "{json:#}");
    assert_eq!(json["resource_changes"], json!([]), "{json:#}");
    let unhealthy = json["unhealthy"].as_array().unwrap();
    assert_eq!(unhealthy.len(), 1, "{json:#}");
    assert_eq!(unhealthy[0]["address"], "workload.web");
    assert_eq!(unhealthy[0]["object"], json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "hl", "name": "web"}));
    assert_eq!(unhealthy[0]["state"], "failed");
    assert!(unhealthy[0]["message"].as_str().unwrap().contains("ImagePullBackOff"), "{json:#}");

    // drift: in sync (exit 0), with the note in every format.
    let drift = env.cairn(&["drift", s(&dir)]).code(0);
    assert!(drift.stdout.contains("Note:") && drift.stdout.contains("ImagePullBackOff"), "{}", drift.all());
    let md = env.cairn(&["drift", s(&dir), "--format", "markdown"]).code(0);
    assert!(md.stdout.contains("In sync") && md.stdout.contains("**Note**") && md.stdout.contains("ImagePullBackOff"), "{}", md.stdout);
    let dj = env.cairn(&["drift", s(&dir), "--format", "json"]).code(0).json();
    assert_eq!(dj["unhealthy"][0]["state"], "failed", "{dj:#}");

    // Fixed: apply rolls it out and succeeds; the note is gone.
    std::fs::write(
        dir.join("main.cairn"),
        std::fs::read_to_string(dir.join("main.cairn")).unwrap().replace("registry.example/doesnotexist:1", "nginx:1.27"),
    )
    .unwrap();
    let fixed = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    assert!(fixed.stdout.contains("Apply complete"), "{}", fixed.all());
    let plan = env.cairn(&["plan", s(&dir), "--json", "--detailed-exitcode"]).code(0).json();
    assert_eq!(plan["unhealthy"], json!([]), "{plan:#}");
    let again = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    assert!(!again.all().contains("unhealthy"), "{}", again.all());
}

/// The pod of `hl/web`, read from the sandbox.
fn web_pod(env: &Env) -> String {
    let (code, pods) = env.sb.call("GET", "/api/v1/namespaces/hl/pods", None, None);
    assert_eq!(code, 200, "{pods}");
    let names: Vec<&str> = pods["items"].as_array().unwrap().iter().filter_map(|p| p["metadata"]["name"].as_str()).collect();
    assert_eq!(names.len(), 1, "{pods}");
    names[0].to_owned()
}

/// Sets the pod's readiness as a kubelet would (status subresource).
fn set_ready(env: &Env, pod: &str, ready: bool) {
    let state =
        if ready { json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}) } else { json!({"waiting": {"reason": "ContainerCreating"}}) };
    let status = if ready { "True" } else { "False" };
    let (code, v) = env.sb.call(
        "PATCH",
        &format!("/api/v1/namespaces/hl/pods/{pod}/status"),
        Some("application/merge-patch+json"),
        Some(&json!({"status": {
            "conditions": [{"type": "Ready", "status": status}, {"type": "ContainersReady", "status": status}, {"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": "web", "image": "nginx:1.27", "imageID": "", "ready": ready, "started": ready, "restartCount": 0, "state": state}],
        }})),
    );
    assert!((200..300).contains(&code), "{code} {v}");
    env.sb.settle();
}

/// A rollout that is only slow (a pod not ready yet, nothing failing) is waited for: apply with
/// nothing to write returns once the pod is ready, and succeeds.
#[test]
fn a_slow_rollout_is_waited_for() {
    let env = env();
    let dir = one_workload(&env, "nginx:1.27");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let pod = web_pod(&env);
    set_ready(&env, &pod, false);
    let web = env.get("apps", "deployments", "hl", "web").unwrap();
    assert_eq!(web["status"]["availableReplicas"].as_i64().unwrap_or(0), 0, "the pod is not ready: {web}");

    let ready = Arc::new(AtomicBool::new(false));
    let env = Arc::new(env);
    let helper = {
        let (env, ready, pod) = (Arc::clone(&env), Arc::clone(&ready), pod.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(3));
            set_ready(&env, &pod, true);
            ready.store(true, Ordering::SeqCst);
        })
    };
    let t = Instant::now();
    let run = env.cairn(&["apply", s(&dir), "--auto-approve", "--timeout", "60s"]);
    let was_ready = ready.load(Ordering::SeqCst);
    helper.join().unwrap();
    let run = run.code(0);
    assert!(was_ready, "apply returned after {:?} before the pod was ready:\n{}", t.elapsed(), run.all());
    assert!(run.stderr.contains("waiting up to 60s for 1 workload to roll out: Deployment/hl/web"), "{}", run.all());

    // And one that stays slow fails at the timeout, naming what it waited for.
    set_ready(&env, &pod, false);
    let run = env.cairn(&["apply", s(&dir), "--auto-approve", "--timeout", "2s"]).code(1);
    assert!(run.all().contains("timed out after 2s") && run.all().contains("raise --timeout"), "{}", run.all());
}

/// The health pass costs one LIST of pods and of ReplicaSets per namespace — not a request per
/// workload — in apply and in plan.
#[test]
fn the_health_pass_lists_per_namespace_not_per_workload() {
    let env = env();
    let mut text = String::new();
    for n in 0..2 {
        text.push_str(&format!("namespace \"n{n}\" {{}}\n"));
        for w in 0..4 {
            text.push_str(&format!("workload \"w{n}-{w}\" {{\n  namespace = namespace.n{n}\n  image     = \"nginx:1.27\"\n}}\n"));
        }
    }
    let dir = env.write_stack("many", &text);
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    for args in [&["apply", s(&dir), "--auto-approve"][..], &["plan", s(&dir), "--detailed-exitcode"][..]] {
        env.sb.reset_requests();
        let run = env.cairn(args).code(0);
        let requests = env.sb.requests();
        println!("{args:?}: {requests:?}");
        assert!(run.stdout.contains("No changes"), "{}", run.all());
        let n = |k: &str| requests.get(k).copied().unwrap_or(0);
        assert_eq!(n("list pods"), 2, "one LIST of pods per namespace: {requests:?}");
        assert_eq!(n("list replicasets.apps"), 2, "one LIST of ReplicaSets per namespace: {requests:?}");
        assert_eq!(n("get deployments.apps") + n("get pods") + n("get replicasets.apps"), 0, "per-object GETs: {requests:?}");
    }
}

/// A write that went through while reading it back kept failing (503 on every GET of
/// Deployments) is "written, not verified": exit 1, counted, and not under "Not done".
#[test]
fn a_write_whose_read_back_fails_is_written_not_verified() {
    let env = env();
    let dir = one_workload(&env, "nginx:1.27");
    env.sb.set_faults(vec![Fault {
        action: Action::Error { status: 503 },
        verb: Some("get".into()),
        resource: Some("deployments".into()),
        rate: 1.0,
        times: None,
    }]);
    let run = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    let all = run.all();
    assert!(run.stderr.contains("Deployment/hl/web: written, not verified:") && all.contains("503"), "{all}");
    assert!(run.stdout.contains("Apply incomplete: 1 done, 0 failed, 0 skipped, 1 not verified"), "{all}");
    assert!(run.stdout.contains("Written, not verified (re-run apply to check them): Deployment/hl/web"), "{all}");
    assert!(!run.stdout.contains("Not done"), "{all}");
    assert!(env.get("apps", "deployments", "hl", "web").is_some(), "the write happened");

    // Once the API answers, a re-run has nothing to write and checks the workload: healthy.
    env.sb.set_faults(vec![]);
    let again = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    assert!(again.stdout.contains("No changes"), "{}", again.all());
}
