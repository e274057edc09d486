//! Why a workload's volume claim stays Pending, from the live objects (DESIGN.md §8.2): its
//! storage class missing, the Rook pool or file system behind the class missing or not Ready,
//! or no volume provisioned yet. Read only when a workload waits on a claim: one LIST of the
//! claims per namespace, one of the storage classes, and one per Rook kind the classes need.
//! The verdict is pure ([`cause`]); [`explain`] adds it to the workloads' health messages.

use std::collections::{BTreeMap, BTreeSet};

use kube::api::{DynamicObject, ListParams};
use serde_json::Value as Json;

use super::health::Health;
use super::rollouts::Unhealthy;
use super::{retry, Kube};
use crate::model::DesiredObject;

/// The part of a health message that says pods wait on claims (the scheduler's words).
const WAITING: &str = "unbound immediate PersistentVolumeClaims";

/// What stands behind a storage class in Rook mode: the kind and the name of the object.
fn rook_backing(class: &Json) -> Option<(&'static str, &str, &str)> {
    let provisioner = class.get("provisioner")?.as_str()?;
    let namespace = class.pointer("/parameters/clusterID")?.as_str()?;
    if provisioner.ends_with(".rbd.csi.ceph.com") {
        Some(("CephBlockPool", namespace, class.pointer("/parameters/pool")?.as_str()?))
    } else if provisioner.ends_with(".cephfs.csi.ceph.com") {
        Some(("CephFilesystem", namespace, class.pointer("/parameters/fsName")?.as_str()?))
    } else {
        None
    }
}

/// Why `claim` is Pending, judged from the storage classes by name and the Rook objects by
/// (kind, namespace, name); `None` when it is not Pending. `rook_served`: whether the cluster
/// serves Rook's kinds at all.
pub fn cause(
    claim: &Json,
    classes: &BTreeMap<String, Json>,
    rook: &BTreeMap<(String, String, String), Json>,
    rook_served: bool,
) -> Option<String> {
    let phase = claim.pointer("/status/phase").and_then(Json::as_str).unwrap_or("Pending");
    if phase != "Pending" {
        return None;
    }
    let name = claim.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("?");
    let Some(class_name) = claim.pointer("/spec/storageClassName").and_then(Json::as_str) else {
        return Some(format!("claim {name} is Pending: it names no storage class and the cluster has no default"));
    };
    let Some(class) = classes.get(class_name) else {
        return Some(format!("claim {name} is Pending: its storage class `{class_name}` does not exist"));
    };
    let provisioner = class.get("provisioner").and_then(Json::as_str).unwrap_or("?");
    if let Some((kind, namespace, object)) = rook_backing(class) {
        if !rook_served {
            return Some(format!(
                "claim {name} is Pending: storage class `{class_name}` needs Rook's {kind} `{object}`, but the cluster does not serve {kind}"
            ));
        }
        let Some(backing) = rook.get(&(kind.to_string(), namespace.to_string(), object.to_string())) else {
            return Some(format!(
                "claim {name} is Pending: storage class `{class_name}` provisions from {kind} `{namespace}/{object}`, which does not exist"
            ));
        };
        let ready = backing.pointer("/status/phase").and_then(Json::as_str).unwrap_or("unknown");
        if ready != "Ready" {
            return Some(format!(
                "claim {name} is Pending: {kind} `{namespace}/{object}` behind storage class `{class_name}` is not Ready (phase {ready})"
            ));
        }
    }
    Some(format!("claim {name} is Pending: no volume was provisioned yet by `{provisioner}` (storage class `{class_name}`); is its provisioner running?"))
}

/// Whether `claim` (a name) is one of `workload`'s: named in its pod template, or made from one
/// of a StatefulSet's claim templates (`<template>-<statefulset>-<ordinal>`).
fn belongs(claim: &str, workload: &DesiredObject) -> bool {
    let template = workload.body.pointer("/spec/template/spec/volumes").and_then(Json::as_array);
    let named = template.into_iter().flatten().any(|v| v.pointer("/persistentVolumeClaim/claimName").and_then(Json::as_str) == Some(claim));
    let templates = workload.body.pointer("/spec/volumeClaimTemplates").and_then(Json::as_array);
    let made = templates.into_iter().flatten().filter_map(|t| t.pointer("/metadata/name").and_then(Json::as_str)).any(|t| {
        claim
            .strip_prefix(&format!("{t}-{}-", workload.key.name))
            .is_some_and(|ordinal| !ordinal.is_empty() && ordinal.bytes().all(|b| b.is_ascii_digit()))
    });
    named || made
}

/// Adds the cause of each Pending claim to the message of the unhealthy workloads whose pods
/// wait on claims. Best effort: when the extra reads fail, the messages stay as they were.
/// Returns the LIST requests made.
pub async fn explain(kube: &Kube, workloads: &[&DesiredObject], unhealthy: &mut [Unhealthy]) -> usize {
    let waiting: Vec<usize> = unhealthy.iter().enumerate().filter(|(_, u)| u.cause().contains(WAITING)).map(|(i, _)| i).collect();
    if waiting.is_empty() {
        return 0;
    }
    let mut requests = 0;
    let namespaces: BTreeSet<String> = waiting.iter().filter_map(|&i| unhealthy.get(i)?.key.namespace.clone()).collect();
    let mut claims: Vec<Json> = Vec::new();
    for ns in &namespaces {
        requests += 1;
        claims.extend(list(kube, "v1", "PersistentVolumeClaim", Some(ns)).await.unwrap_or_default());
    }
    requests += 1;
    let classes: BTreeMap<String, Json> = list(kube, "storage.k8s.io/v1", "StorageClass", None)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| Some((c.pointer("/metadata/name")?.as_str()?.to_string(), c)))
        .collect();
    let mut rook = BTreeMap::new();
    let mut rook_served = true;
    let kinds: BTreeSet<&str> = classes.values().filter_map(rook_backing).map(|(k, _, _)| k).collect();
    for kind in kinds {
        requests += 1;
        match list(kube, "ceph.rook.io/v1", kind, None).await {
            Some(items) => {
                for item in items {
                    let ns = item.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or_default().to_string();
                    let name = item.pointer("/metadata/name").and_then(Json::as_str).unwrap_or_default().to_string();
                    rook.insert((kind.to_string(), ns, name), item);
                }
            }
            None => rook_served = false,
        }
    }
    for i in waiting {
        let Some(u) = unhealthy.get_mut(i) else { continue };
        let Some(w) = workloads.iter().find(|w| w.key == u.key) else { continue };
        let ns = u.key.namespace.as_deref();
        let causes: Vec<String> = claims
            .iter()
            .filter(|c| c.pointer("/metadata/namespace").and_then(Json::as_str) == ns)
            .filter(|c| c.pointer("/metadata/name").and_then(Json::as_str).is_some_and(|n| belongs(n, w)))
            .filter_map(|c| cause(c, &classes, &rook, rook_served))
            .collect();
        if causes.is_empty() {
            continue;
        }
        let more = causes.join("; ");
        u.health = match &u.health {
            Health::Failed(m) => Health::Failed(format!("{}; {more}", m.trim_end_matches('.'))),
            Health::Progressing(m) => Health::Progressing(format!("{}; {more}", m.trim_end_matches('.'))),
            Health::Ready => continue,
        };
    }
    requests
}

/// The items of one LIST (all namespaces unless `namespace`), as JSON; `None` when the kind is
/// not served or the LIST fails.
async fn list(kube: &Kube, api_version: &str, kind: &str, namespace: Option<&str>) -> Option<Vec<Json>> {
    let r = kube.resolve(api_version, kind).await.ok()??;
    let api: kube::Api<DynamicObject> = match namespace {
        Some(ns) => kube::Api::namespaced_with(kube.client().clone(), ns, &r.resource),
        None => kube::Api::all_with(kube.client().clone(), &r.resource),
    };
    let lp = ListParams::default();
    let items = retry(|| api.list(&lp)).await.ok()?;
    Some(items.items.iter().map(|o| super::to_json(o, &r.resource)).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claim(phase: &str, class: Option<&str>) -> Json {
        let mut c = json!({"metadata": {"name": "data-db-1", "namespace": "shop"}, "spec": {}, "status": {"phase": phase}});
        if let Some(class) = class {
            c["spec"]["storageClassName"] = json!(class);
        }
        c
    }

    fn rbd_class() -> BTreeMap<String, Json> {
        BTreeMap::from([(
            "fast".to_string(),
            json!({"provisioner": "rook-ceph.rbd.csi.ceph.com", "parameters": {"clusterID": "rook-ceph", "pool": "fast"}}),
        )])
    }

    #[test]
    fn a_bound_claim_has_no_cause() {
        assert_eq!(cause(&claim("Bound", Some("fast")), &rbd_class(), &BTreeMap::new(), true), None);
    }

    #[test]
    fn a_missing_class_is_named() {
        let got = cause(&claim("Pending", Some("standard")), &rbd_class(), &BTreeMap::new(), true);
        assert_eq!(got.as_deref(), Some("claim data-db-1 is Pending: its storage class `standard` does not exist"));
    }

    #[test]
    fn the_rook_pool_behind_the_class_is_judged() {
        let c = claim("Pending", Some("fast"));
        let missing = cause(&c, &rbd_class(), &BTreeMap::new(), true).unwrap();
        assert!(missing.contains("CephBlockPool `rook-ceph/fast`, which does not exist"), "{missing}");
        let key = ("CephBlockPool".to_string(), "rook-ceph".to_string(), "fast".to_string());
        let progressing = BTreeMap::from([(key.clone(), json!({"status": {"phase": "Progressing"}}))]);
        let not_ready = cause(&c, &rbd_class(), &progressing, true).unwrap();
        assert!(not_ready.contains("is not Ready (phase Progressing)"), "{not_ready}");
        let ready = BTreeMap::from([(key, json!({"status": {"phase": "Ready"}}))]);
        assert!(cause(&c, &rbd_class(), &ready, true).unwrap().contains("is its provisioner running?"));
        assert!(cause(&c, &rbd_class(), &BTreeMap::new(), false).unwrap().contains("does not serve CephBlockPool"));
    }

    #[test]
    fn claims_belong_to_their_statefulset_by_template_and_ordinal() {
        let w = DesiredObject {
            key: crate::model::ObjectKey {
                api_version: "apps/v1".into(),
                kind: "StatefulSet".into(),
                namespace: Some("shop".into()),
                name: "db".into(),
            },
            address: "workload.db".into(),
            body: json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}),
            sensitive: vec![],
            protect: false,
            wait: true,
            deps: vec![],
        };
        assert!(belongs("data-db-0", &w) && belongs("data-db-12", &w));
        assert!(!belongs("data-dbx-0", &w) && !belongs("data-db-", &w) && !belongs("logs-db-0", &w));
    }
}
