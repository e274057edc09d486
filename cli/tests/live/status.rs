//! `cairn status` on the sandbox (DESIGN.md §8.2): a stack with an image that cannot be
//! pulled, an OOM-killed container, a failed job and a healthy workload exits 2 with exactly
//! three diagnostics, each at the line that declared the cause, in text and JSON.

use std::path::Path;

use crate::common::{env, Env};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const STACK: &str = r#"namespace "ops" {}

workload "web" {
  namespace = namespace.ops
  image     = "registry.example/doesnotexist:1"
  resources { memory = 64Mi }
}

workload "cache" {
  namespace   = namespace.ops
  image       = "redis:7.4"
  annotations = { "sandbox.cairn.dev/oom" = "true" }
  resources {
    memory = 128Mi
  }
}

workload "nightly" {
  namespace   = namespace.ops
  kind        = "job"
  image       = "busybox:1.36"
  retries     = 1
  annotations = { "sandbox.cairn.dev/crash" = "true" }
  resources { memory = 32Mi }
}

workload "ok" {
  namespace = namespace.ops
  image     = "nginx:1.27"
  resources { memory = 64Mi }
}
"#;

/// Pod, ReplicaSet and temporary names vary from run to run: each `NAME-<suffix>` of a
/// workload becomes `NAME-…`.
fn stable(text: &str, env: &Env) -> String {
    let mut out = text.replace(env.dir.path().to_str().unwrap(), "[TMP]");
    for name in ["web", "cache", "nightly"] {
        let mut rebuilt = String::new();
        let mut rest = out.as_str();
        let prefix = format!("{name}-");
        while let Some(at) = rest.find(&prefix) {
            rebuilt.push_str(&rest[..at + prefix.len()]);
            let tail = &rest[at + prefix.len()..];
            let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(tail.len());
            rebuilt.push('…');
            rest = &tail[end..];
        }
        rebuilt.push_str(rest);
        out = rebuilt;
    }
    out
}

/// Each diagnostic of `status --format json` as (code, line, object).
fn found(json: &serde_json::Value) -> Vec<(String, u64, String)> {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_owned(), d["line"].as_u64().unwrap(), d["object"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn status_explains_each_unhealthy_workload_at_its_source_line() {
    let env = env();
    let dir = env.write_stack("ops", STACK);
    env.cairn(&["apply", s(&dir), "--auto-approve", "--timeout", "5s"]).code(1);

    let json = env.cairn(&["status", s(&dir), "--format", "json"]).code(2).json();
    let found = found(&json);
    assert_eq!(
        found,
        [
            ("E0801".to_owned(), 5, "Deployment/ops/web".to_owned()),
            ("E0802".to_owned(), 14, "Deployment/ops/cache".to_owned()),
            ("E0806".to_owned(), 22, "Job/ops/nightly".to_owned()),
        ],
        "{json:#}"
    );
    insta::assert_snapshot!("status_json", stable(&serde_json::to_string_pretty(&json).unwrap(), &env));
    let text = env.cairn(&["status", s(&dir)]).code(2);
    insta::assert_snapshot!("status_text", stable(&text.stderr, &env));
    assert!(text.stdout.is_empty(), "{}", text.stdout);

    // Fixed, the stack is healthy: exit 0.
    let fixed = STACK
        .replace("registry.example/doesnotexist:1", "nginx:1.27")
        .replace("  annotations = { \"sandbox.cairn.dev/oom\" = \"true\" }\n", "")
        .replace("  annotations = { \"sandbox.cairn.dev/crash\" = \"true\" }\n", "");
    let dir = env.write_stack("ops", &fixed);
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    env.cairn(&["status", s(&dir)]).code(0);
}

/// The issue's set: an image that cannot be pulled, an OOM kill, a claim on a storage class
/// that is gone, and a healthy workload — exactly three diagnostics, the claim's explained from
/// the live objects (its class does not exist) at the volume that declared it.
const CLAIM_STACK: &str = r#"namespace "ops" {}

storage_class "standard" { existing = true }

workload "web" {
  namespace = namespace.ops
  image     = "registry.example/doesnotexist:1"
  resources { memory = 64Mi }
}

workload "cache" {
  namespace   = namespace.ops
  image       = "redis:7.4"
  annotations = { "sandbox.cairn.dev/oom" = "true" }
  resources { memory = 128Mi }
}

workload "db" {
  namespace = namespace.ops
  image     = "postgres:16.4"
  resources { memory = 128Mi }
  volume "data" {
    size          = 1Gi
    mount         = "/var/lib/postgresql/data"
    storage_class = storage_class.standard
  }
}

workload "ok" {
  namespace = namespace.ops
  image     = "nginx:1.27"
  resources { memory = 64Mi }
}
"#;

#[test]
fn status_explains_a_claim_whose_storage_class_is_gone() {
    let env = env();
    let class = serde_json::json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "standard"}, "provisioner": "rancher.io/local-path"});
    env.call("POST", "/apis/storage.k8s.io/v1/storageclasses", "application/json", &class);
    let dir = env.write_stack("ops", CLAIM_STACK);
    env.cairn(&["apply", s(&dir), "--auto-approve", "--timeout", "5s"]).code(1);
    // The class goes away, then the database gets a second replica, whose claim cannot bind.
    let (code, v) = env.sb.call("DELETE", "/apis/storage.k8s.io/v1/storageclasses/standard", None, None);
    assert_eq!(code, 200, "{v}");
    let scale = serde_json::json!({"spec": {"replicas": 2}});
    env.call("PATCH", "/apis/apps/v1/namespaces/ops/statefulsets/db", "application/merge-patch+json", &scale);
    env.sb.settle();

    let json = env.cairn(&["status", s(&dir), "--format", "json"]).code(2).json();
    let found = found(&json);
    assert_eq!(
        found,
        [
            ("E0801".to_owned(), 7, "Deployment/ops/web".to_owned()),
            ("E0802".to_owned(), 15, "Deployment/ops/cache".to_owned()),
            ("E0805".to_owned(), 22, "StatefulSet/ops/db".to_owned()),
        ],
        "{json:#}"
    );
    let claim = &json["diagnostics"][2]["evidence"];
    assert!(claim.as_str().unwrap().contains("claim data-db-1 is Pending: its storage class `standard` does not exist"), "{claim}");
    insta::assert_snapshot!("status_claim_json", stable(&serde_json::to_string_pretty(&json).unwrap(), &env));
    let text = env.cairn(&["status", s(&dir)]).code(2);
    insta::assert_snapshot!("status_claim_text", stable(&text.stderr, &env));
}
