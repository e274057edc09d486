//! `apply --rollback-on-failure` (DESIGN.md §8.2) on the sandbox: a failed rollout of a
//! Deployment, a StatefulSet or a DaemonSet goes back to the previous revision from Kubernetes'
//! own history, apply exits 1 naming the cause and the rollback, and the next plan shows the
//! stack's change as pending again; a workload this apply created is left as it is.

use std::path::{Path, PathBuf};

use crate::common::{env, json, Env, Value};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stack(env: &Env, kind: &str, image: &str) -> PathBuf {
    let volume = if kind == "statefulset" {
        "\n  volume \"data\" {\n    storage_class = storage_class.fast\n    size          = 1Gi\n    mount         = \"/data\"\n  }"
    } else {
        ""
    };
    env.write_stack(
        "rb",
        &format!(
            r#"namespace "rb" {{}}

pool "fast" {{}}

storage_class "fast" {{ pool = pool.fast }}

workload "app" {{
  namespace = namespace.rb
  kind      = "{kind}"
  image     = "{image}"
  resources {{ memory = 64Mi }}{volume}
}}
"#
        ),
    )
}

fn images(obj: &Value) -> Vec<String> {
    obj["spec"]["template"]["spec"]["containers"].as_array().unwrap().iter().map(|c| c["image"].as_str().unwrap().to_owned()).collect()
}

/// The change of the plan's step for `kind`: its class and the paths it changes.
fn planned(env: &Env, dir: &Path, kind: &str) -> (String, Vec<String>) {
    let plan = env.cairn(&["plan", s(dir), "--format", "json"]).code(0).json();
    let c = plan["resource_changes"].as_array().unwrap().iter().find(|c| c["object"]["kind"] == kind).cloned().expect("a step");
    let paths = c["changes"].as_array().unwrap().iter().map(|ch| ch["path"].as_str().unwrap().to_owned()).collect();
    (c["class"].as_str().unwrap_or_default().to_owned(), paths)
}

/// The shop's web app gets an image that cannot be pulled: apply fails, names the cause and
/// the rollback, the Deployment runs the old image again with its pods ready, and the image
/// change is pending in the next plan.
#[test]
fn a_failed_deployment_rollout_is_rolled_back_and_the_change_stays_pending() {
    let env = env();
    let shop = env.stack("shop");
    env.cairn(&["apply", s(&shop), "--auto-approve"]).code(0);
    let apps = shop.join("apps.cairn");
    let text = std::fs::read_to_string(&apps).unwrap();
    std::fs::write(&apps, text.replace("let web_version = \"2.3.1\"", "let web_version = \"doesnotexist\"")).unwrap();

    let out = env.cairn(&["apply", s(&shop), "--auto-approve", "--rollback-on-failure"]).code(1);
    let all = out.all();
    assert!(all.contains("Deployment/shop/web") && all.contains("ImagePullBackOff"), "{all}");
    assert!(
        all.contains("rolled back to revision 1 (ghcr.io/acme/shop-web:2.3.1, nginx/nginx-prometheus-exporter:1.3.0), 3 ready"),
        "{all}"
    );
    let web = env.get("apps", "deployments", "shop", "web").unwrap();
    assert_eq!(images(&web)[0], "ghcr.io/acme/shop-web:2.3.1", "{web:#}");
    assert_eq!(web["status"]["readyReplicas"], 3, "{web:#}");
    // The next plan shows the stack's real change and nothing else: no field Kubernetes
    // defaulted in the restored template (imagePullPolicy, terminationMessagePath, protocol,
    // dnsPolicy, …) shows up as a removal.
    let plan = env.cairn(&["plan", s(&shop), "--format", "json"]).code(0).json();
    let changes = plan["resource_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "only the web Deployment changes: {plan:#}");
    assert_eq!((&changes[0]["object"]["kind"], &changes[0]["object"]["name"]), (&json!("Deployment"), &json!("web")), "{plan:#}");
    assert_eq!(changes[0]["class"], "pending", "{plan:#}");
    let paths: Vec<&str> = changes[0]["changes"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["spec.template.spec.containers[name=web].image"], "{plan:#}");
    assert_eq!(changes[0]["changes"][0]["after"], "ghcr.io/acme/shop-web:doesnotexist", "{plan:#}");
}

/// Without the flag, a failed rollout is left as it is (the old behaviour).
#[test]
fn without_the_flag_a_failed_rollout_is_left_alone() {
    let env = env();
    let dir = stack(&env, "deployment", "nginx:1.27");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let dir = stack(&env, "deployment", "registry.example/doesnotexist:2");
    let out = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    assert!(!out.all().contains("rolled back"), "{}", out.all());
    assert_eq!(images(&env.get("apps", "deployments", "rb", "app").unwrap()), ["registry.example/doesnotexist:2"]);
}

/// A StatefulSet goes back to its previous ControllerRevision, its volume still bound; a
/// DaemonSet too.
#[test]
fn a_failed_stateful_set_or_daemon_set_rollout_goes_back_to_its_previous_controller_revision() {
    for (kind, plural) in [("statefulset", "statefulsets"), ("daemonset", "daemonsets")] {
        let env = env();
        let dir = stack(&env, kind, "nginx:1.27");
        env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
        let dir = stack(&env, kind, "registry.example/doesnotexist:2");
        let out = env.cairn(&["apply", s(&dir), "--auto-approve", "--rollback-on-failure"]).code(1);
        assert!(out.all().contains("rolled back to revision 1 (nginx:1.27)"), "{kind}: {}", out.all());
        let live = env.get("apps", plural, "rb", "app").unwrap();
        assert_eq!(images(&live), ["nginx:1.27"], "{kind}: {live:#}");
        // Only the image is pending: no defaulted field of the restored template.
        let (class, paths) = planned(&env, &dir, live["kind"].as_str().unwrap());
        assert_eq!((class.as_str(), paths), ("pending", vec!["spec.template.spec.containers[name=app].image".to_owned()]), "{kind}");
        env.cairn(&["apply", s(&stack(&env, kind, "nginx:1.27")), "--auto-approve"]).code(0);
        if kind == "statefulset" {
            let claim = env.get("", "persistentvolumeclaims", "rb", "data-app-0").expect("the claim");
            assert_eq!(claim["status"]["phase"], "Bound", "{claim:#}");
        }
    }
}

/// A workload this apply created has no previous revision: it is left as it is, and the
/// report says so.
#[test]
fn a_workload_created_by_the_failed_apply_is_left_as_it_is() {
    let env = env();
    let dir = stack(&env, "deployment", "registry.example/doesnotexist:1");
    let out = env.cairn(&["apply", s(&dir), "--auto-approve", "--rollback-on-failure"]).code(1);
    assert!(
        out.all().contains("not rolled back: Deployment/rb/app was created by this apply and has no previous revision"),
        "{}",
        out.all()
    );
    assert!(env.get("apps", "deployments", "rb", "app").is_some());
}

/// The rollback's reads are retried through API faults (it completes), and it happens under the
/// stack's lock: the Lease is released only after the rollback's write.
#[test]
fn a_rollback_is_retried_through_faults_and_made_under_the_lock() {
    use cairn_sandbox::{Action, Fault};
    let env = env();
    let dir = stack(&env, "deployment", "nginx:1.27");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let writes_before = env.client_writes().len();
    env.faults(vec![Fault {
        action: Action::Error { status: 503 },
        verb: Some("list".into()),
        resource: Some("replicasets".into()),
        rate: 1.0,
        times: Some(3),
    }]);
    let dir = stack(&env, "deployment", "registry.example/doesnotexist:2");
    let out = env.cairn(&["apply", s(&dir), "--auto-approve", "--rollback-on-failure"]).code(1);
    assert!(out.all().contains("rolled back to revision 1 (nginx:1.27)"), "{}", out.all());
    assert_eq!(images(&env.get("apps", "deployments", "rb", "app").unwrap()), ["nginx:1.27"]);
    let writes: Vec<(String, String)> = env.client_writes().split_off(writes_before);
    let applies: Vec<usize> =
        writes.iter().enumerate().filter(|(_, (v, id))| v == "apply" && id == "Deployment/rb/app").map(|(i, _)| i).collect();
    assert_eq!(applies.len(), 2, "the update and the rollback: {writes:?}");
    let lease = writes.iter().rposition(|(_, id)| id.contains("Lease/cairn-system")).expect("the lock's writes");
    assert!(applies[1] < lease, "the rollback was written after the lock was let go: {writes:?}");
}

/// The previous revision may be someone else's: a `kubectl set image` after cairn's apply is
/// what the rollback restores.
#[test]
fn a_rollback_restores_a_previous_revision_another_manager_made() {
    let env = env();
    let dir = stack(&env, "deployment", "nginx:1.27");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let Some(set) = env.kubectl(&["set", "image", "deployment/app", "-n", "rb", "app=nginx:1.28"]) else { return };
    assert_eq!(set.code, 0, "{}", set.stderr);
    // kubectl-set owns the image now: taking it back needs --force-conflicts.
    let dir = stack(&env, "deployment", "registry.example/doesnotexist:2");
    let out = env.cairn(&["apply", s(&dir), "--auto-approve", "--force-conflicts", "--rollback-on-failure"]).code(1);
    assert!(out.all().contains("rolled back to revision 2 (nginx:1.28)"), "{}", out.all());
    assert_eq!(images(&env.get("apps", "deployments", "rb", "app").unwrap()), ["nginx:1.28"]);
}
