//! `cairn import` from the sandbox (DESIGN.md §8.3): the shop's objects, applied by the real
//! kubectl from rendered YAML without cairn's labels (a cluster cairn never touched), import
//! into blocks; `plan --adopt` of the result changes nothing but the ownership labels, and
//! after `apply --adopt` a plan is empty. No secret value reaches the source, the report or any
//! output.

use std::path::Path;

use base64::Engine;
use serde_json::Value;

use crate::common::{assert_no_secret, env, Env, PLANTED};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The shop rendered with its secret values, without cairn's ownership labels and annotation,
/// applied by kubectl: false when kubectl is not installed (a failure under `CI=true`).
fn kubectl_applies_the_shop(env: &Env) -> bool {
    let shop = env.stack("shop");
    let render = env.cairn(&["render", s(&shop), "--reveal-secrets"]).code(0);
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&render.stdout) {
        let mut v: Value = serde::Deserialize::deserialize(doc).unwrap();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            if let Some(l) = meta.get_mut("labels").and_then(Value::as_object_mut) {
                l.remove("app.kubernetes.io/managed-by");
                l.remove("cairn.dev/stack");
            }
            if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                a.remove("cairn.dev/address");
            }
        }
        docs.push(serde_yaml::to_string(&v).unwrap());
    }
    let file = env.dir.path().join("shop.yaml");
    std::fs::write(&file, docs.join("---\n")).unwrap();
    match env.kubectl(&["apply", "-f", s(&file)]) {
        Some(run) => {
            run.code(0);
            true
        }
        None => false,
    }
}

/// Every variable the import asks for, with its value read from the cluster (as the report's
/// kubectl hint does).
fn variables(env: &Env, report: &Value) -> Vec<(String, String)> {
    report["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let secret = env.get("", "secrets", v["namespace"].as_str().unwrap(), v["secret"].as_str().unwrap()).unwrap();
            let b64 = secret["data"][v["key"].as_str().unwrap()].as_str().unwrap_or_default();
            let value = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
            (v["name"].as_str().unwrap().to_string(), value)
        })
        .collect()
}

#[test]
fn an_imported_namespace_adopts_with_no_change_but_ownership() {
    let env = env();
    if !kubectl_applies_the_shop(&env) {
        return;
    }
    env.sb.settle();
    let out = env.dir.path().join("imported");
    let import = env.cairn(&["import", "--namespace", "shop", "-o", s(&out), "--format", "json"]).code(0);
    let report = import.json();
    assert_no_secret("the import's output", &import.all());
    let mut sources = String::new();
    for e in std::fs::read_dir(&out).unwrap() {
        sources.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    assert_no_secret("the imported source", &sources);

    // Every shop object is in a first-class block; what Rook and kubectl made is left out.
    let objects = report["objects"].as_array().unwrap();
    let manifests: Vec<&Value> = objects.iter().filter(|o| !o["manifest_reason"].is_null()).collect();
    assert!(manifests.is_empty(), "objects that became manifests: {manifests:#?}");
    let block = |id: &str| objects.iter().find(|o| o["object"] == id).map(|o| o["block"].as_str().unwrap().to_string());
    assert_eq!(block("Deployment/shop/web").as_deref(), Some("workload.web"), "{report:#}");
    assert_eq!(block("HorizontalPodAutoscaler/shop/web").as_deref(), Some("workload.web"), "{report:#}");
    assert_eq!(block("Service/shop/db-hl").as_deref(), Some("workload.db"), "{report:#}");
    assert_eq!(block("ResourceQuota/shop/shop-quota").as_deref(), Some("namespace.shop"), "{report:#}");
    assert_eq!(block("Ingress/shop/shop").as_deref(), Some("route.shop"), "{report:#}");
    assert_eq!(block("ObjectBucketClaim/shop/media").as_deref(), Some("bucket.media"), "{report:#}");
    let skipped = report["skipped"].to_string();
    assert!(skipped.contains("ConfigMap/shop/media") && skipped.contains("made by its controller"), "Rook's bucket ConfigMap: {skipped}");
    assert!(skipped.contains("PersistentVolumeClaim/shop/data-db-0") && skipped.contains("claim template"), "{skipped}");
    let existing = report["existing"].to_string();
    assert!(existing.contains("storage_class.shop-files") && existing.contains("object_store.shop-media"), "{existing}");
    assert!(sources.contains("env(\"DB_CREDENTIALS_PASSWORD\")"), "{sources}");

    // The round trip: adoption only, then nothing.
    let vars = variables(&env, &report);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert!(vars.iter().any(|(_, v)| *v == PLANTED), "the planted password is one of the variables' values");
    let plan = env.cairn_env(&["plan", s(&out), "--adopt", "--detailed-exitcode", "--format", "json"], &vars).code(2);
    let json = plan.json();
    let changes = json["resource_changes"].as_array().unwrap();
    assert_eq!(changes.len(), objects.len(), "every imported object is adopted: {json:#}");
    for c in changes {
        assert_eq!((c["action"].as_str(), c["adopt"].as_bool()), (Some("update"), Some(true)), "{c:#}");
        for f in c["changes"].as_array().unwrap() {
            let path = f["path"].as_str().unwrap();
            let ownership = [
                "metadata.labels.app.kubernetes.io/managed-by",
                "metadata.labels.cairn.dev/stack",
                "metadata.annotations.cairn.dev/address",
                "metadata.annotations.cairn.dev/protect",
            ];
            assert!(
                ownership.iter().any(|o| path.starts_with(o) || path == "metadata.labels" || path == "metadata.annotations"),
                "a field change: {c:#}"
            );
        }
    }
    assert_no_secret("plan --adopt", &plan.all());
    // kubectl's client-side apply owns the StatefulSet's claim templates (an atomic list whose
    // live form carries server-filled fields); an adoption that changes no value takes them over
    // without --force-conflicts.
    let apply = env.cairn_env(&["apply", s(&out), "--adopt", "--auto-approve"], &vars).code(0);
    assert_no_secret("apply --adopt", &apply.all());
    env.cairn_env(&["plan", s(&out), "--detailed-exitcode"], &vars).code(0);
    let web = env.get("apps", "deployments", "shop", "web").unwrap();
    assert_eq!(web["metadata"]["labels"]["cairn.dev/stack"], "shop", "{web:#}");
}
