//! Fields the API server will not change in place: a change to one makes the step a replace,
//! with the reason Kubernetes would give.

use cairn_core::Quantity;
use serde_json::Value as Json;

use super::compare::Diff;
use super::path::touches;
use super::types::FieldOp;
use crate::model::ObjectKey;

/// Fields that can only be set at creation, per group and kind.
struct Rule {
    group: &'static str,
    kinds: &'static [&'static str],
    path: &'static [&'static str],
    reason: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        group: "apps",
        kinds: &["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"],
        path: &["spec", "selector"],
        reason: "spec.selector is immutable",
    },
    Rule {
        group: "apps",
        kinds: &["StatefulSet"],
        path: &["spec", "volumeClaimTemplates"],
        reason: "StatefulSet spec.volumeClaimTemplates is immutable",
    },
    Rule { group: "apps", kinds: &["StatefulSet"], path: &["spec", "serviceName"], reason: "StatefulSet spec.serviceName is immutable" },
    Rule {
        group: "apps",
        kinds: &["StatefulSet"],
        path: &["spec", "podManagementPolicy"],
        reason: "StatefulSet spec.podManagementPolicy is immutable",
    },
    Rule { group: "batch", kinds: &["Job"], path: &["spec", "selector"], reason: "spec.selector is immutable" },
    Rule { group: "batch", kinds: &["Job"], path: &["spec", "template"], reason: "Job spec.template is immutable" },
    Rule { group: "storage.k8s.io", kinds: &["StorageClass"], path: &["parameters"], reason: "StorageClass parameters are immutable" },
    Rule { group: "storage.k8s.io", kinds: &["StorageClass"], path: &["provisioner"], reason: "StorageClass provisioner is immutable" },
    Rule { group: "storage.k8s.io", kinds: &["StorageClass"], path: &["reclaimPolicy"], reason: "StorageClass reclaimPolicy is immutable" },
    Rule {
        group: "storage.k8s.io",
        kinds: &["StorageClass"],
        path: &["volumeBindingMode"],
        reason: "StorageClass volumeBindingMode is immutable",
    },
    Rule {
        group: "rbac.authorization.k8s.io",
        kinds: &["RoleBinding", "ClusterRoleBinding"],
        path: &["roleRef"],
        reason: "roleRef is immutable: cannot change roleRef",
    },
];

/// Why changing a pool this way needs a new one.
const POOL_REASON: &str = "a pool's type and erasure profile cannot change: a new pool is needed, and the old pool's data is lost";

/// Diffs that write the object (a release leaves the value alone).
fn writes(diffs: &[Diff]) -> impl Iterator<Item = &Diff> {
    diffs.iter().filter(|d| matches!(d.op, FieldOp::Set | FieldOp::Remove))
}

/// A PVC's requested storage.
fn storage(body: &Json) -> Option<Quantity> {
    body.pointer("/spec/resources/requests/storage").and_then(Json::as_str).and_then(|s| Quantity::parse(s).ok())
}

/// A claim asked to shrink: the declared and the live storage request, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shrink {
    pub desired: String,
    pub live: String,
}

/// Whether `applied` asks a live PersistentVolumeClaim for less storage than it requests now
/// (Kubernetes cannot shrink a claim: that is a refusal, never a replace that loses the data).
pub(crate) fn shrink(key: &ObjectKey, applied: &Json, live: &Json) -> Option<Shrink> {
    if !(key.group().is_empty() && key.kind == "PersistentVolumeClaim") {
        return None;
    }
    let text = |b: &Json| b.pointer("/spec/resources/requests/storage").and_then(Json::as_str).map(str::to_string);
    match (storage(applied), storage(live)) {
        (Some(want), Some(have)) if want < have => Some(Shrink { desired: text(applied)?, live: text(live)? }),
        _ => None,
    }
}

/// Whether a CephBlockPool body describes an erasure-coded pool.
fn erasure_coded(body: &Json) -> bool {
    body.pointer("/spec/erasureCoded/dataChunks").and_then(Json::as_i64).is_some_and(|n| n > 0)
}

/// The reason the step must be a replace, if any diff touches an immutable field. `applied` is
/// the body cairn would apply, `live` the object as read.
pub(crate) fn replace_reason(key: &ObjectKey, applied: &Json, live: &Json, diffs: &[Diff]) -> Option<String> {
    let (group, kind) = (key.group(), key.kind.as_str());
    for rule in RULES.iter().filter(|r| r.group == group && r.kinds.contains(&kind)) {
        if writes(diffs).any(|d| touches(&d.segs, rule.path)) {
            return Some(rule.reason.to_string());
        }
    }
    match (group, kind) {
        ("", "PersistentVolumeClaim") => writes(diffs)
            .filter(|d| touches(&d.segs, &["spec"]))
            .any(|d| !(touches(&d.segs, &["spec", "resources", "requests"]) && d.segs.len() >= 3))
            .then(|| "PersistentVolumeClaim spec is immutable after creation except resources.requests".into()),
        ("", "ConfigMap" | "Secret") if live.get("immutable").and_then(Json::as_bool) == Some(true) => {
            let fields: [&[&str]; 4] = [&["data"], &["binaryData"], &["stringData"], &["immutable"]];
            writes(diffs)
                .any(|d| fields.iter().any(|f| touches(&d.segs, f)))
                .then(|| format!("{kind} data is immutable: the live object is marked immutable"))
        }
        ("ceph.rook.io", "CephBlockPool") => {
            let switched = erasure_coded(applied) != erasure_coded(live);
            let profile = writes(diffs).any(|d| touches(&d.segs, &["spec", "erasureCoded"]));
            (switched || profile).then(|| POOL_REASON.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::compare::diff;
    use super::*;
    use serde_json::json;

    fn reason(declared: Json, live: Json) -> Option<String> {
        let key = ObjectKey::of(&declared).unwrap();
        let mut diffs = Vec::new();
        diff(&declared, &live, &mut diffs);
        replace_reason(&key, &declared, &live, &diffs)
    }

    fn with(api: &str, kind: &str, extra: Json) -> Json {
        let mut b = json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "shop"}});
        if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        b
    }

    #[test]
    fn the_table_names_the_field() {
        let sts = |svc: &str, replicas: i64| with("apps/v1", "StatefulSet", json!({"spec": {"serviceName": svc, "replicas": replicas}}));
        assert_eq!(reason(sts("db", 1), sts("db-old", 1)).as_deref(), Some("StatefulSet spec.serviceName is immutable"));
        assert_eq!(reason(sts("db", 2), sts("db", 1)), None);
        let job =
            |image: &str| with("batch/v1", "Job", json!({"spec": {"template": {"spec": {"containers": [{"name": "m", "image": image}]}}}}));
        assert_eq!(reason(job("a:2"), job("a:1")).as_deref(), Some("Job spec.template is immutable"));
        let rb = |role: &str| with("rbac.authorization.k8s.io/v1", "RoleBinding", json!({"roleRef": {"kind": "Role", "name": role}}));
        assert!(reason(rb("edit"), rb("view")).unwrap().contains("roleRef"));
        // Same kind name, other group: no rule.
        let other = |sel: &str| with("example.com/v1", "Deployment", json!({"spec": {"selector": sel}}));
        assert_eq!(reason(other("a"), other("b")), None);
    }

    #[test]
    fn immutable_config_maps_cannot_change_their_data() {
        let cm = |v: &str, immutable: bool| with("v1", "ConfigMap", json!({"immutable": immutable, "data": {"k": v}}));
        assert_eq!(
            reason(cm("new", true), cm("old", true)).as_deref(),
            Some("ConfigMap data is immutable: the live object is marked immutable")
        );
        assert_eq!(reason(cm("new", false), cm("old", false)), None);
    }

    #[test]
    fn a_pool_keeps_its_erasure_profile() {
        let ec = |k: i64| with("ceph.rook.io/v1", "CephBlockPool", json!({"spec": {"erasureCoded": {"dataChunks": k, "codingChunks": 1}}}));
        assert!(reason(ec(4), ec(2)).unwrap().contains("erasure profile"));
        let rep = |size: i64| with("ceph.rook.io/v1", "CephBlockPool", json!({"spec": {"replicated": {"size": size}}}));
        assert_eq!(reason(rep(2), rep(3)), None);
        assert!(reason(ec(2), rep(3)).is_some());
    }
}
