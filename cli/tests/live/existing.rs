//! `existing = true` on the sandbox (LANGUAGE.md §10): a missing existing class fails `plan`
//! naming it and the command that shows it; once `kubectl apply` made it, `apply` works and
//! `destroy --allow-data-loss` leaves it; uses the live object does not fit (a ReadWriteMany
//! volume on an RBD class, a key the live secret lacks) are refused at plan time at their line;
//! an object this stack once made and now uses as existing is never deleted.

use std::path::Path;

use crate::common::{assert_no_secret, env, Env};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const STACK: &str = r#"stack "tools" {}

namespace "tools" {}

storage_class "standard" { existing = true }

workload "cache" {
  namespace = namespace.tools
  image     = "redis:7.4"
  resources { memory = 64Mi }
  volume "data" {
    size          = 1Gi
    mount         = "/data"
    storage_class = storage_class.standard
  }
}
"#;

const CLASS: &str = "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
provisioner: rook-ceph.rbd.csi.ceph.com
";

/// Applies `yaml` with the real kubectl (a failure under `CI=true` when it is missing);
/// false when kubectl is not installed.
fn kubectl_apply(env: &Env, name: &str, yaml: &str) -> bool {
    let file = env.dir.path().join(name);
    std::fs::write(&file, yaml).unwrap();
    match env.kubectl(&["apply", "-f", s(&file)]) {
        Some(run) => {
            run.code(0);
            true
        }
        None => false,
    }
}

/// The 1-based line of the first line of `text` containing `part`.
fn line(text: &str, part: &str) -> usize {
    text.lines().position(|l| l.contains(part)).map(|i| i + 1).unwrap_or_else(|| panic!("no `{part}` in the stack"))
}

#[test]
fn a_missing_existing_class_fails_plan_until_kubectl_makes_it_and_destroy_leaves_it() {
    let env = env();
    let dir = env.write_stack("tools", STACK);
    let plan = env.cairn(&["plan", s(&dir)]).code(1);
    let out = plan.all();
    assert!(out.contains("storage_class.standard is `existing`, but StorageClass `standard` does not exist"), "{out}");
    assert!(out.contains("--> main.cairn:5:15"), "the declaring line: {out}");
    assert!(out.contains("kubectl get storageclass standard"), "{out}");
    let apply = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    assert!(env.get("", "namespaces", "", "tools").is_none(), "a refused plan applies nothing: {}", apply.all());

    if !kubectl_apply(&env, "class.yaml", CLASS) {
        return;
    }
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let sts = env.get("apps", "statefulsets", "tools", "cache").expect("the StatefulSet");
    assert_eq!(sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"], "standard", "{sts:#}");
    let plan = env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("0 to create, 0 to update, 0 to replace, 0 to delete"), "{}", plan.stdout);
    let class = env.get("storage.k8s.io", "storageclasses", "", "standard").expect("the class");
    assert!(class["metadata"]["labels"]["cairn.dev/stack"].is_null(), "never labelled as the stack's: {class:#}");

    let destroy = env.cairn(&["destroy", s(&dir), "--allow-data-loss", "--auto-approve"]).code(0);
    assert!(!destroy.stdout.contains("StorageClass"), "{}", destroy.stdout);
    assert!(destroy.stdout.contains("StatefulSet/tools/cache"), "{}", destroy.stdout);
    assert!(env.get("storage.k8s.io", "storageclasses", "", "standard").is_some(), "destroy left the existing class");
    let writes = env.client_writes();
    assert!(!writes.iter().any(|(verb, obj)| obj.starts_with("StorageClass/") && verb != "create"), "{writes:?}");
}

#[test]
fn uses_the_live_object_does_not_fit_are_refused_at_their_line_without_values() {
    let env = env();
    env.call(
        "POST",
        "/api/v1/namespaces",
        "application/json",
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}),
    );
    env.call(
        "POST",
        "/apis/storage.k8s.io/v1/storageclasses",
        "application/json",
        &serde_json::json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "ceph-block"}, "provisioner": "rook-ceph.rbd.csi.ceph.com"}),
    );
    env.call(
        "POST",
        "/api/v1/namespaces/ops/secrets",
        "application/json",
        &serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "registry"}, "stringData": {"user": "alice", "pass": "hunter2-very-secret"}}),
    );
    let text = r#"stack "ops" {}

namespace "ops" { existing = true }

storage_class "ceph-block" { existing = true }

secret "registry" {
  existing  = true
  namespace = namespace.ops
}

workload "agent" {
  namespace = namespace.ops
  image     = "registry.example/agent:1.4"
  env       = { USER = secret.registry.user, TOKEN = secret.registry.token }
  resources { memory = 64Mi }
  volume "shared" {
    size          = 1Gi
    mount         = "/shared"
    access        = "ReadWriteMany"
    storage_class = storage_class.ceph-block
  }
}
"#;
    let dir = env.write_stack("ops", text);
    let plan = env.cairn(&["plan", s(&dir)]).code(1);
    let out = plan.all();
    assert!(out.contains("workload.agent has a ReadWriteMany volume on existing storage class `ceph-block`"), "{out}");
    assert!(out.contains(&format!("--> main.cairn:{}:", line(text, "access        = \"ReadWriteMany\""))), "at the volume's access: {out}");
    assert!(out.contains("workload.agent reads key `token` of existing Secret `ops/registry`, which has no such key"), "{out}");
    assert!(out.contains(&format!("--> main.cairn:{}:", line(text, "TOKEN = secret.registry.token"))), "at the env entry: {out}");
    assert!(out.contains("`pass`, `user`"), "the key names: {out}");
    assert!(!out.contains("reads key `user`"), "a key the secret has is fine: {out}");
    assert_no_secret("plan", &out);
    assert!(!out.contains("hunter2") && !out.contains("alice"), "no secret value: {out}");
    let json = env.cairn(&["plan", s(&dir), "--format", "json"]).code(1).json();
    let refusals = json["refusals"].as_array().unwrap();
    assert_eq!(refusals.len(), 2, "{refusals:#?}");
    assert!(refusals.iter().all(|r| r["at"].as_str().is_some_and(|a| a.starts_with("main.cairn:"))), "{refusals:#?}");
    assert!(!json.to_string().contains("hunter2"), "{json}");

    // Fixed: a CephFS-less RWO volume and a key the secret has.
    let fixed = text
        .replace("    access        = \"ReadWriteMany\"\n", "")
        .replace("TOKEN = secret.registry.token", "TOKEN = secret.registry.pass");
    let dir = env.write_stack("ops", &fixed);
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let sts = env.get("apps", "statefulsets", "ops", "agent").expect("the workload");
    let envs = &sts["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(envs[0]["valueFrom"]["secretKeyRef"], serde_json::json!({"name": "registry", "key": "pass"}), "{envs:#}");
    // The namespace, class and secret were never written.
    let writes = env.client_writes();
    for object in ["Namespace/ops", "StorageClass/ceph-block", "Secret/ops/registry"] {
        assert_eq!(writes.iter().filter(|(_, o)| o == object).count(), 1, "only the test's own create of {object}: {writes:?}");
    }
}

#[test]
fn an_object_the_stack_made_and_now_uses_as_existing_is_never_deleted() {
    let env = env();
    let managed = r#"stack "team" {}

namespace "team" {}

config "settings" {
  namespace = namespace.team
  data      = { mode = "fast" }
}
"#;
    let dir = env.write_stack("team", managed);
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let existing = managed.replace("namespace \"team\" {}", "namespace \"team\" { existing = true }");
    let dir = env.write_stack("team", &existing);
    let plan = env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
    assert!(!plan.stdout.contains("Namespace/team"), "{}", plan.stdout);
    let destroy = env.cairn(&["destroy", s(&dir), "--allow-data-loss", "--auto-approve"]).code(0);
    assert!(destroy.stdout.contains("ConfigMap/team/settings"), "{}", destroy.stdout);
    assert!(!destroy.stdout.contains("Namespace/team"), "{}", destroy.stdout);
    assert!(env.get("", "namespaces", "", "team").is_some(), "the existing namespace stays");
    assert!(env.get("", "configmaps", "team", "settings").is_none(), "the managed config went");
}
