//! The planner never deletes data unguarded and sees drift only where there is some (issue 14
//! items 2, 3, 9): a namespace delete that would take other stacks', hand-made, protected objects
//! or claims with it is protected; a claim delete or replace is protected and a shrink refused;
//! strings compare as quantities only at quantity fields.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The planned change of `Kind/ns/name`.
#[track_caller]
fn change<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            let o = &c["object"];
            let ns = o["namespace"].as_str().map(|n| format!("{n}/")).unwrap_or_default();
            format!("{}/{ns}{}", o["kind"].as_str().unwrap(), o["name"].as_str().unwrap()) == id
        })
        .unwrap_or_else(|| panic!("no change for {id} in the plan:\n{plan:#}"))
}

/// Client writes of stack objects (the lock's Lease and `cairn-system` left out).
fn stack_writes(env: &Env) -> Vec<(String, String)> {
    env.client_writes()
        .into_iter()
        .filter(|(_, id)| !id.starts_with("Lease/") && !id.contains("/cairn-system/") && id != "Namespace/cairn-system")
        .collect()
}

/// Replaces `from` by `to` in a file, asserting `from` is there.
#[track_caller]
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} has no `{from}`:\n{text}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// `(id, reason)` of what a namespace delete holds.
fn holds(c: &Value) -> Vec<(String, String)> {
    c["holds"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    let o = &h["object"];
                    (
                        format!("{}/{}/{}", o["kind"].as_str().unwrap(), o["namespace"].as_str().unwrap(), o["name"].as_str().unwrap()),
                        h["reason"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Item 2: a namespace delete

const OWNER: &str = r#"namespace "keep" {}

namespace "store" {}

config "app" {
  namespace = namespace.store
  data      = { k = "v" }
}

workload "web" {
  namespace = namespace.store
  image     = "nginx:1.27"
  replicas  = 1
}
"#;

const NEIGHBOUR: &str = r#"stack "neighbour" {}

config "theirs" {
  namespace = "store"
  data      = { k = "v" }
}
"#;

/// A namespace the stack no longer declares, holding another stack's object, a hand-made
/// ConfigMap, a hand-made claim and a protected object, plans a protected delete listing them
/// (this stack's own objects deleted alongside and what Kubernetes made are not listed); apply
/// refuses without `--allow-data-loss`, writing nothing; with it the namespace goes. The read is
/// O(kinds): no per-object GET, each kind listed a few times at most.
#[test]
fn deleting_a_namespace_that_holds_data_needs_allow_data_loss() {
    let env = env();
    let dir = env.write_stack("owner", OWNER);
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let neighbour = env.write_stack("neighbour", NEIGHBOUR);
    env.cairn(&["apply", s(&neighbour), "--auto-approve"]).code(0);
    env.call(
        "POST",
        "/api/v1/namespaces/store/configmaps?fieldManager=kubectl-create",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "by-hand"}, "data": {"k": "v"}}),
    );
    env.call(
        "POST",
        "/api/v1/namespaces/store/persistentvolumeclaims?fieldManager=kubectl-create",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "scratch"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    );
    env.call(
        "POST",
        "/api/v1/namespaces/store/secrets?fieldManager=kubectl-create",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "guarded", "annotations": {"cairn.dev/protect": "true"}}}),
    );

    // The stack drops the namespace and everything in it.
    let main = dir.join("main.cairn");
    std::fs::write(&main, "namespace \"keep\" {}\n").unwrap();
    env.sb.reset_requests();
    let plan = env.cairn(&["plan", s(&dir), "--json"]).code(0).json();
    let requests = env.sb.requests();
    let ns = change(&plan, "Namespace/store");
    assert_eq!((ns["action"].as_str(), ns["protected"].as_bool()), (Some("delete"), Some(true)), "{plan:#}");
    assert_eq!(
        holds(ns),
        vec![
            ("ConfigMap/store/by-hand".to_owned(), "foreign".to_owned()),
            ("ConfigMap/store/theirs".to_owned(), "foreign".to_owned()),
            ("PersistentVolumeClaim/store/scratch".to_owned(), "claim".to_owned()),
            ("Secret/store/guarded".to_owned(), "protected".to_owned()),
        ],
        "{ns:#}"
    );
    assert_eq!(change(&plan, "ConfigMap/store/app")["protected"], false, "{plan:#}");
    let gets: BTreeMap<&String, &u64> =
        requests.iter().filter(|(k, _)| k.starts_with("get ") && !k.starts_with("get /") && *k != "get secrets").collect();
    assert!(gets.is_empty(), "per-object GETs: {gets:?} (all: {requests:?})");
    let lists: BTreeMap<&String, &u64> = requests.iter().filter(|(k, _)| k.starts_with("list ")).collect();
    assert!(lists.values().all(|n| **n <= 3), "a kind listed more than three times: {lists:?}");

    let text = env.cairn(&["plan", s(&dir)]).code(0);
    assert!(
        text.stdout.contains("data loss: deleting it deletes ConfigMap/store/by-hand (not this stack's)")
            && text.stdout.contains("PersistentVolumeClaim/store/scratch (claim)")
            && text.stdout.contains("protected: destroys data"),
        "{}",
        text.stdout
    );

    let before = stack_writes(&env);
    let apply = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    assert!(apply.all().contains("Namespace/store") && apply.all().contains("--allow-data-loss"), "{}", apply.all());
    assert_eq!(stack_writes(&env), before, "a refused apply wrote");
    assert!(env.get("", "configmaps", "store", "theirs").is_some(), "the neighbour's object is gone");

    env.cairn(&["apply", s(&dir), "--auto-approve", "--allow-data-loss"]).code(0);
    let gone = env.get("", "namespaces", "", "store");
    assert!(gone.is_none() || !gone.unwrap()["metadata"]["deletionTimestamp"].is_null(), "the namespace is still there");
}

/// A namespace holding only this stack's objects (deleted by the same plan) and what Kubernetes
/// made there (ReplicaSets, Pods, Events) is deleted without `--allow-data-loss`.
#[test]
fn a_namespace_holding_only_this_stacks_deleted_objects_goes_unguarded() {
    let env = env();
    let dir = env.write_stack("owner", OWNER);
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    std::fs::write(dir.join("main.cairn"), "namespace \"keep\" {}\n").unwrap();
    let plan = env.cairn(&["plan", s(&dir), "--json"]).code(0).json();
    let ns = change(&plan, "Namespace/store");
    assert_eq!((ns["protected"].as_bool(), holds(ns)), (Some(false), vec![]), "{ns:#}");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
}

/// `destroy` guards a namespace the same way: a hand-made object in it blocks without
/// `--allow-data-loss`.
#[test]
fn destroy_refuses_a_namespace_with_a_hand_made_object_without_allow_data_loss() {
    let env = env();
    let dir = env.write_stack("owner", OWNER);
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    env.call(
        "POST",
        "/api/v1/namespaces/store/configmaps?fieldManager=kubectl-create",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "by-hand"}, "data": {"k": "v"}}),
    );
    let destroy = env.cairn(&["destroy", s(&dir), "--auto-approve"]).code(1);
    assert!(destroy.all().contains("Namespace/store") && destroy.all().contains("ConfigMap/store/by-hand"), "{}", destroy.all());
    assert!(env.get("", "configmaps", "store", "by-hand").is_some());
    assert!(env.get("", "configmaps", "store", "app").is_some(), "a refused destroy deleted");
    env.cairn(&["destroy", s(&dir), "--auto-approve", "--allow-data-loss"]).code(0);
}

// ---------------------------------------------------------------------------------------------
// Item 3: claims

const VOLUME: &str = r#"pool "data" {}

storage_class "blk" {
  pool    = pool.data
  reclaim = "Delete"
}

namespace "app" {}

workload "web" {
  kind      = "deployment"
  namespace = namespace.app
  image     = "nginx:1.27"
  replicas  = 1
  volume "data" {
    storage_class = storage_class.blk
    size          = 20Gi
    mount         = "/data"
  }
}
"#;

/// A volume's size lowered (20Gi → 2Gi) is refused by plan and apply, naming the claim and both
/// sizes; growth is an update; an access change is a protected replace that apply refuses without
/// `--allow-data-loss`; a removed volume is a protected delete.
#[test]
fn a_claim_never_shrinks_and_its_replace_or_delete_is_protected() {
    let env = env();
    let dir = env.write_stack("vol", VOLUME);
    let file = dir.join("main.cairn");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let uid = env.get("", "persistentvolumeclaims", "app", "web-data").expect("the claim exists")["metadata"]["uid"].clone();

    // A shrink: a refusal, not a replace.
    edit(&file, "size          = 20Gi", "size          = 2Gi");
    let plan = env.cairn(&["plan", s(&dir), "--json"]).code(1).json();
    let refusal = &plan["refusals"][0];
    let message = refusal["message"].as_str().unwrap_or_default();
    assert!(message.contains("PersistentVolumeClaim/app/web-data") && message.contains("2Gi") && message.contains("20Gi"), "{plan:#}");
    assert!(refusal["help"].as_str().unwrap_or_default().contains("at least 20Gi"), "{plan:#}");
    let before = stack_writes(&env);
    let apply = env.cairn(&["apply", s(&dir), "--auto-approve", "--allow-data-loss"]).code(1);
    assert!(apply.all().contains("cannot shrink"), "{}", apply.all());
    assert_eq!(stack_writes(&env), before, "a refused apply wrote");

    // Growth: an update in place.
    edit(&file, "size          = 2Gi", "size          = 40Gi");
    let plan = env.cairn(&["plan", s(&dir), "--json"]).code(0).json();
    let c = change(&plan, "PersistentVolumeClaim/app/web-data");
    assert_eq!((c["action"].as_str(), c["protected"].as_bool()), (Some("update"), Some(false)), "{plan:#}");
    edit(&file, "size          = 40Gi", "size          = 20Gi");

    // Another access mode: a protected replace.
    edit(&file, "mount         = \"/data\"", "mount         = \"/data\"\n    access        = \"ReadOnlyMany\"");
    let plan = env.cairn(&["plan", s(&dir), "--json"]).code(0).json();
    let c = change(&plan, "PersistentVolumeClaim/app/web-data");
    assert_eq!((c["action"].as_str(), c["protected"].as_bool()), (Some("replace"), Some(true)), "{plan:#}");
    let text = env.cairn(&["plan", s(&dir)]).code(0);
    assert!(text.stdout.contains("protected: destroys data"), "{}", text.stdout);
    let apply = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    assert!(apply.all().contains("PersistentVolumeClaim/app/web-data") && apply.all().contains("--allow-data-loss"), "{}", apply.all());
    assert_eq!(stack_writes(&env), before, "a refused apply wrote");
    let pvc = env.get("", "persistentvolumeclaims", "app", "web-data").expect("the claim survived");
    assert_eq!(pvc["metadata"]["uid"], uid);

    // The volume removed: a protected delete.
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text.find("  volume \"data\"").unwrap();
    let end = start + text[start..].find("  }\n").unwrap() + 4;
    std::fs::write(&file, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let plan = env.cairn(&["plan", s(&dir), "--json"]).code(0).json();
    let c = change(&plan, "PersistentVolumeClaim/app/web-data");
    assert_eq!((c["action"].as_str(), c["protected"].as_bool()), (Some("delete"), Some(true)), "{plan:#}");
}

// ---------------------------------------------------------------------------------------------
// Item 9: quantities only at quantity fields

const STRINGS: &str = r#"namespace "q" {}

config "versions" {
  namespace = namespace.q
  data      = { version = "1.10" }
}

manifest "ratio" {
  namespace = namespace.q
  object = {
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = { name = "ratio" }
    spec = {
      selector = { matchLabels = { app = "ratio" } }
      template = {
        metadata = { labels = { app = "ratio" } }
        spec = {
          containers = [{
            name      = "c"
            image     = "nginx:1.27"
            env       = [{ name = "RATIO", value = "0.5" }]
            resources = { requests = { cpu = "0.5", memory = "0.5Gi" } }
          }]
        }
      }
    }
  }
}
"#;

/// A ConfigMap value "1.10" changed out of band to "1.1" is drift (drift exits 2, naming the
/// field); an env value "0.5" changed to "500m" is drift too; a CPU "0.5" the server stores as
/// "500m" (and memory "0.5Gi" as "512Mi") is no change.
#[test]
fn strings_are_not_quantities_outside_quantity_fields() {
    let env = env();
    let dir = env.write_stack("strings", STRINGS);
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    // The server's canonical quantities are not a difference.
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
    env.cairn(&["drift", s(&dir)]).code(0);

    match env.kubectl(&["patch", "configmap", "versions", "-n", "q", "--type", "merge", "-p", r#"{"data":{"version":"1.1"}}"#]) {
        Some(r) => {
            r.code(0);
        }
        None => {
            env.call(
                "PATCH",
                "/api/v1/namespaces/q/configmaps/versions?fieldManager=kubectl-patch",
                "application/merge-patch+json",
                &json!({"data": {"version": "1.1"}}),
            );
        }
    }
    let drift = env.cairn(&["drift", s(&dir), "--format", "json"]).code(2).json();
    let c = change(&drift, "ConfigMap/q/versions");
    assert_eq!(c["class"], "drift", "{drift:#}");
    assert_eq!((c["changes"][0]["path"].as_str(), c["changes"][0]["before"].as_str()), (Some("data.version"), Some("1.1")), "{drift:#}");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    assert_eq!(env.get("", "configmaps", "q", "versions").unwrap()["data"]["version"], "1.10");

    env.call(
        "PATCH",
        "/apis/apps/v1/namespaces/q/deployments/ratio?fieldManager=kubectl-set",
        "application/strategic-merge-patch+json",
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "env": [{"name": "RATIO", "value": "500m"}]}]}}}}),
    );
    let plan = env.cairn(&["plan", s(&dir), "--json"]).code(0).json();
    let c = change(&plan, "Deployment/q/ratio");
    let paths: Vec<&str> = c["changes"].as_array().unwrap().iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(paths, ["spec.template.spec.containers[name=c].env[name=RATIO].value"], "{plan:#}");
    let live = env.get("apps", "deployments", "q", "ratio").unwrap();
    assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"], "500m", "{live:#}");
}
