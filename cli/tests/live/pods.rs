//! The pod shapes of LANGUAGE.md §10 on the sandbox: sidecars, security contexts and a CronJob
//! from `examples/shop`; a job waited for until `Complete`; a job that cannot pull its image
//! failing apply at once; a daemonset rolled out on every node; a changed job replaced.

use std::path::Path;

use crate::common::{env, Env};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn job_stack(env: &Env, image: &str) -> std::path::PathBuf {
    env.write_stack(
        "batch",
        &format!(
            r#"namespace "batch" {{}}

workload "migrate" {{
  namespace = namespace.batch
  kind      = "job"
  image     = "{image}"
  retries   = 1
  command   = ["migrate", "up"]
  resources {{ memory = 64Mi }}
}}
"#
        ),
    )
}

fn condition<'a>(obj: &'a serde_json::Value, kind: &str) -> Option<&'a serde_json::Value> {
    obj["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == kind)
}

/// `examples/shop` creates the metrics sidecar, the restricted security contexts and the
/// nightly CronJob (which apply does not wait for), and a second plan is empty.
#[test]
fn the_shop_runs_with_its_sidecar_security_contexts_and_cronjob() {
    let env = env();
    let shop = env.stack("shop");
    env.cairn(&["apply", s(&shop), "--auto-approve"]).code(0);

    let web = env.get("apps", "deployments", "shop", "web").expect("web");
    let spec = &web["spec"]["template"]["spec"];
    let names: Vec<&str> = spec["containers"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["web", "metrics"], "{spec:#}");
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{spec:#}");
    assert_eq!(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", "{spec:#}");
    for c in spec["containers"].as_array().unwrap() {
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false, "{c:#}");
        assert_eq!(c["securityContext"]["capabilities"]["drop"], serde_json::json!(["ALL"]), "{c:#}");
    }
    let ns = env.get("", "namespaces", "", "shop").expect("namespace");
    assert_eq!(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted", "{ns:#}");

    let report = env.get("batch", "cronjobs", "shop", "report").expect("the CronJob");
    assert_eq!(report["spec"]["schedule"], "0 3 * * *");
    assert_eq!(report["spec"]["jobTemplate"]["spec"]["backoffLimit"], 2);

    env.cairn(&["plan", s(&shop), "--detailed-exitcode"]).code(0);
}

/// A `kind = "job"` workload: apply waits until the Job is `Complete`; a second plan is empty.
#[test]
fn a_job_is_waited_for_until_complete() {
    let env = env();
    let dir = job_stack(&env, "migrate:3.1");
    let out = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    assert!(out.stdout.contains("Apply complete"), "{}", out.all());
    let job = env.get("batch", "jobs", "batch", "migrate").expect("the Job");
    assert_eq!(condition(&job, "Complete").map(|c| c["status"].clone()), Some("True".into()), "{job:#}");
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
}

/// A Job whose image cannot be pulled fails apply at once, naming the cause; changing its
/// image plans a replace (a Job's pod template is immutable) and the new Job completes.
#[test]
fn a_job_that_cannot_pull_its_image_fails_apply_fast_and_a_change_replaces_it() {
    let env = env();
    let dir = job_stack(&env, "registry.example/doesnotexist:1");
    let started = std::time::Instant::now();
    let out = env.cairn(&["apply", s(&dir), "--auto-approve", "--timeout", "120s"]).code(1);
    let all = out.all();
    assert!(all.contains("Job/batch/migrate") && all.contains("ImagePullBackOff"), "{all}");
    assert!(all.contains("registry.example/doesnotexist:1"), "{all}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "it waited for the timeout: {all}");

    let main = dir.join("main.cairn");
    std::fs::write(&main, std::fs::read_to_string(&main).unwrap().replace("registry.example/doesnotexist:1", "migrate:3.2")).unwrap();
    let plan = env.cairn(&["plan", s(&dir), "--json"]).code(0).json();
    let change = plan["resource_changes"].as_array().unwrap().iter().find(|c| c["object"]["kind"] == "Job").cloned();
    let change = change.unwrap_or_else(|| panic!("no change of the Job: {plan:#}"));
    assert_eq!(change["action"], "replace", "{change:#}");
    assert!(change.to_string().contains("Job spec.template is immutable"), "{change:#}");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let job = env.get("batch", "jobs", "batch", "migrate").expect("the new Job");
    assert_eq!(job["spec"]["template"]["spec"]["containers"][0]["image"], "migrate:3.2");
}

/// A daemonset is rolled out on every node of the cluster before apply succeeds.
#[test]
fn a_daemonset_is_waited_for_on_every_node() {
    let env = env();
    let dir = env.write_stack(
        "agents",
        r#"namespace "agents" {}

workload "agent" {
  namespace = namespace.agents
  kind      = "daemonset"
  image     = "agent:0.9"
  resources { memory = 64Mi }
}
"#,
    );
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let ds = env.get("apps", "daemonsets", "agents", "agent").expect("the DaemonSet");
    let want = ds["status"]["desiredNumberScheduled"].as_i64().unwrap_or(0);
    assert!(want > 0, "no node runs it: {ds:#}");
    assert_eq!(ds["status"]["numberAvailable"].as_i64(), Some(want), "{ds:#}");
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
}
