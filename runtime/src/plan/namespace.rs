//! What deleting a namespace takes with it. Kubernetes deletes everything in a namespace with
//! it, so a namespace delete is protected (needs `--allow-data-loss`) when the namespace holds
//! claims, protected objects, objects this stack does not own, or objects it keeps; what
//! Kubernetes made there itself and this stack's objects deleted in the same plan do not count.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::types::{HoldReason, Holding};
use crate::model::{ObjectKey, Snapshot, PROTECT, STACK_LABEL};

/// The annotation of a service account token Secret (the token controller makes them).
const SERVICE_ACCOUNT_NAME: &str = "kubernetes.io/service-account.name";

/// Whether an object is a v1 Namespace.
pub(crate) fn is_namespace(key: &ObjectKey) -> bool {
    key.api_version == "v1" && key.kind == "Namespace"
}

/// Whether an object is a PersistentVolumeClaim: its volume's data can go with it.
pub(crate) fn is_claim(key: &ObjectKey) -> bool {
    key.api_version == "v1" && key.kind == "PersistentVolumeClaim"
}

/// A metadata field of a live object.
fn meta<'a>(body: &'a Json, field: &str, name: &str) -> Option<&'a str> {
    body.get("metadata")?.get(field)?.get(name)?.as_str()
}

/// Whether Kubernetes made the object itself (it comes back if deleted, or goes with its owner):
/// anything with `ownerReferences` (Pods of ReplicaSets, EndpointSlices), Events, Endpoints, the
/// `default` ServiceAccount, the `kube-root-ca.crt` ConfigMap, service account token Secrets.
fn made_by_kubernetes(key: &ObjectKey, body: &Json) -> bool {
    let owned = body.pointer("/metadata/ownerReferences").and_then(Json::as_array).is_some_and(|a| !a.is_empty());
    owned
        || key.kind == "Event"
        || (key.group().is_empty()
            && match key.kind.as_str() {
                "Endpoints" => true,
                "ServiceAccount" => key.name == "default",
                "ConfigMap" => key.name == "kube-root-ca.crt",
                "Secret" => meta(body, "annotations", SERVICE_ACCOUNT_NAME).is_some(),
                _ => false,
            })
}

/// What in namespace `ns` makes deleting it lose data, sorted; `deleted` are the objects this
/// plan deletes itself. A namespace whose contents were not read holds [`HoldReason::Unknown`].
pub(crate) fn holdings(ns: &ObjectKey, stack: &str, live: &Snapshot, deleted: &HashSet<&ObjectKey>) -> Vec<Holding> {
    let Some(contents) = live.namespace_contents.get(&ns.name) else {
        return vec![Holding { key: ns.clone(), reason: HoldReason::Unknown }];
    };
    let mut held: Vec<Holding> = contents
        .iter()
        .filter_map(|body| {
            let key = ObjectKey::of(body)?;
            if made_by_kubernetes(&key, body) {
                return None;
            }
            let ours = meta(body, "labels", STACK_LABEL) == Some(stack);
            let reason = if is_claim(&key) {
                HoldReason::Claim
            } else if meta(body, "annotations", PROTECT) == Some("true") {
                HoldReason::Protected
            } else if !ours {
                HoldReason::Foreign
            } else if deleted.contains(&key) {
                return None;
            } else {
                HoldReason::Kept
            };
            Some(Holding { key, reason })
        })
        .collect();
    held.sort();
    held.dedup();
    held
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(api: &str, kind: &str, name: &str, metadata: Json) -> Json {
        let mut m = json!({"name": name, "namespace": "db"});
        if let (Some(m), Some(extra)) = (m.as_object_mut(), metadata.as_object()) {
            m.extend(extra.clone());
        }
        json!({"apiVersion": api, "kind": kind, "metadata": m})
    }

    fn ns() -> ObjectKey {
        ObjectKey { api_version: "v1".into(), kind: "Namespace".into(), namespace: None, name: "db".into() }
    }

    fn reasons(contents: Vec<Json>, deleted: &[&Json]) -> Vec<(String, HoldReason)> {
        let live = Snapshot { namespace_contents: [("db".to_string(), contents)].into_iter().collect(), ..Snapshot::default() };
        let keys: Vec<ObjectKey> = deleted.iter().filter_map(|b| ObjectKey::of(b)).collect();
        let deleted: HashSet<&ObjectKey> = keys.iter().collect();
        holdings(&ns(), "shop", &live, &deleted).into_iter().map(|h| (h.key.id(), h.reason)).collect()
    }

    #[test]
    fn what_kubernetes_makes_does_not_count() {
        let made = vec![
            obj("v1", "Pod", "web-1", json!({"ownerReferences": [{"kind": "ReplicaSet", "name": "web"}]})),
            obj("discovery.k8s.io/v1", "EndpointSlice", "web-x", json!({"ownerReferences": [{"kind": "Service", "name": "web"}]})),
            obj("v1", "Event", "web.1", json!({})),
            obj("events.k8s.io/v1", "Event", "web.2", json!({})),
            obj("v1", "Endpoints", "web", json!({})),
            obj("v1", "ServiceAccount", "default", json!({})),
            obj("v1", "ConfigMap", "kube-root-ca.crt", json!({})),
            obj("v1", "Secret", "default-token-x", json!({"annotations": {SERVICE_ACCOUNT_NAME: "default"}})),
        ];
        assert_eq!(reasons(made, &[]), vec![]);
    }

    #[test]
    fn claims_protected_foreign_and_kept_objects_count() {
        let ours = |kind: &str, name: &str, extra: Json| {
            let mut m = json!({"labels": {STACK_LABEL: "shop"}});
            if let (Some(m), Some(e)) = (m.as_object_mut(), extra.as_object()) {
                m.extend(e.clone());
            }
            obj("v1", kind, name, m)
        };
        let gone = ours("ConfigMap", "gone", json!({}));
        let claim = ours("PersistentVolumeClaim", "data", json!({}));
        let guarded = ours("Secret", "guarded", json!({"annotations": {PROTECT: "true"}}));
        let contents = vec![
            gone.clone(),
            claim.clone(),
            guarded.clone(),
            ours("ConfigMap", "kept", json!({})),
            obj("v1", "ConfigMap", "by-hand", json!({})),
            obj("v1", "ConfigMap", "theirs", json!({"labels": {STACK_LABEL: "other"}})),
            obj("ceph.rook.io/v1", "CephBlockPool", "pool", json!({"annotations": {PROTECT: "true"}, "labels": {STACK_LABEL: "other"}})),
        ];
        assert_eq!(
            reasons(contents, &[&gone, &claim, &guarded]),
            vec![
                ("CephBlockPool/db/pool".into(), HoldReason::Protected),
                ("ConfigMap/db/by-hand".into(), HoldReason::Foreign),
                ("ConfigMap/db/kept".into(), HoldReason::Kept),
                ("ConfigMap/db/theirs".into(), HoldReason::Foreign),
                ("PersistentVolumeClaim/db/data".into(), HoldReason::Claim),
                ("Secret/db/guarded".into(), HoldReason::Protected),
            ]
        );
    }

    #[test]
    fn unread_contents_are_unknown_and_an_empty_namespace_holds_nothing() {
        let live = Snapshot::default();
        assert_eq!(holdings(&ns(), "shop", &live, &HashSet::new()), vec![Holding { key: ns(), reason: HoldReason::Unknown }]);
        assert_eq!(reasons(vec![], &[]), vec![]);
    }
}
