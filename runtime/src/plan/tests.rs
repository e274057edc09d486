//! Planner tests with objects as the compiler renders them and as the API server returns them.

use serde_json::{json, Value as Json};

use super::*;
use crate::hash;
use crate::model::{Desired, DesiredObject, GroupKind, ObjectKey, Snapshot};

const KEY: &[u8] = b"stack-key";

/// A declared object depending on the objects at positions `deps` ([`desired`] turns them
/// into keys).
fn obj(address: &str, body: Json, deps: Vec<usize>) -> DesiredObject {
    DesiredObject {
        key: ObjectKey::of(&body).unwrap(),
        address: address.into(),
        body,
        sensitive: vec![],
        protect: false,
        wait: false,
        deps: deps.iter().map(|i| ObjectKey { api_version: "v1".into(), kind: "#".into(), namespace: None, name: i.to_string() }).collect(),
    }
}

fn desired(mut objects: Vec<DesiredObject>) -> Desired {
    let keys: Vec<ObjectKey> = objects.iter().map(|o| o.key.clone()).collect();
    for o in &mut objects {
        for d in &mut o.deps {
            if let Some(k) = d.name.parse::<usize>().ok().and_then(|i| keys.get(i)) {
                *d = k.clone();
            }
        }
    }
    Desired { stack: "shop".into(), objects, existing: vec![] }
}

/// The positions in `p` of the steps step `i` waits on, ascending (keys of no step left out).
fn after(p: &Plan, i: usize) -> Vec<usize> {
    let mut at: Vec<usize> = p.steps[i].after.iter().filter_map(|k| p.steps.iter().position(|s| s.key == *k)).collect();
    at.sort_unstable();
    at
}

/// Merges `extra` into `base` (maps recursively; anything else replaces).
fn merge(base: &mut Json, extra: Json) {
    match (base, extra) {
        (Json::Object(b), Json::Object(e)) => {
            for (k, v) in e {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, e) => *b = e,
    }
}

fn meta(kind: &str, api: &str, ns: Option<&str>, name: &str, address: &str) -> Json {
    let mut m = json!({"apiVersion": api, "kind": kind, "metadata": {"name": name,
        "labels": {"app.kubernetes.io/managed-by": "cairn", "cairn.dev/stack": "shop"},
        "annotations": {"cairn.dev/address": address}}});
    if let Some(ns) = ns {
        m["metadata"]["namespace"] = json!(ns);
    }
    m
}

/// The Deployment as `cairn render examples/shop` lowers it (trimmed), optionally without replicas.
fn web(image: &str, replicas: Option<i64>) -> Json {
    let mut b = meta("Deployment", "apps/v1", Some("shop"), "web", "workload.web");
    b["spec"] = json!({
        "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "shop"}},
            "spec": {"containers": [{
                "name": "web",
                "image": image,
                "ports": [{"name": "http", "containerPort": 8080}],
                "env": [{"name": "DB_HOST", "value": "db.shop.svc"}],
                "resources": {"requests": {"cpu": "1000m", "memory": "256Mi"}, "limits": {"cpu": "0.5", "memory": "256Mi"}},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": true}]
            }],
            "volumes": [{"name": "config", "configMap": {"name": "app"}}]}
        }
    });
    if let Some(r) = replicas {
        b["spec"]["replicas"] = json!(r);
    }
    b
}

/// cairn's `fieldsV1` for [`web`].
fn cairn_fields(replicas: bool) -> Json {
    let mut f = json!({
        "f:metadata": {"f:annotations": {"f:cairn.dev/address": {}, "f:cairn.dev/applied-hash": {}},
                       "f:labels": {"f:app.kubernetes.io/managed-by": {}, "f:cairn.dev/stack": {}}},
        "f:spec": {"f:selector": {}, "f:template": {
            "f:metadata": {"f:labels": {"f:app.kubernetes.io/instance": {}, "f:app.kubernetes.io/name": {}}},
            "f:spec": {
                "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:env": {"k:{\"name\":\"DB_HOST\"}": {".": {}, "f:name": {}, "f:value": {}}},
                    "f:image": {}, "f:name": {},
                    "f:ports": {"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}}},
                    "f:resources": {"f:limits": {"f:cpu": {}, "f:memory": {}}, "f:requests": {"f:cpu": {}, "f:memory": {}}},
                    "f:volumeMounts": {"k:{\"mountPath\":\"/etc/web\"}": {".": {}, "f:mountPath": {}, "f:name": {}, "f:readOnly": {}}}}},
                "f:volumes": {"k:{\"name\":\"config\"}": {".": {}, "f:configMap": {"f:name": {}}, "f:name": {}}}}}}
    });
    if replicas {
        f["f:spec"]["f:replicas"] = json!({});
    }
    f
}

/// The live Deployment as the API server returns it after cairn applied `declared`: defaults,
/// canonical quantities, status, and `managedFields` for cairn (Apply) and `other` (Update).
fn served(declared: &DesiredObject, cairn: Json, other: (&str, Json)) -> Json {
    let mut live = hash::applied_body(declared, KEY);
    merge(
        &mut live,
        json!({
            "metadata": {
                "uid": "0f6c7c1e-4a5e-4f7e-9a53-3d1a1f9b2c11", "resourceVersion": "48213", "generation": 1,
                "creationTimestamp": "2026-11-20T10:00:00Z",
                "annotations": {"deployment.kubernetes.io/revision": "1"},
                "labels": {"team": "payments"},
                "managedFields": [
                    {"manager": "cairn", "operation": "Apply", "apiVersion": "apps/v1", "time": "2026-11-20T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": cairn},
                    {"manager": other.0, "operation": "Update", "apiVersion": "apps/v1", "time": "2026-11-21T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": other.1},
                    {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1", "subresource": "status", "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:status": {"f:replicas": {}}}}
                ]
            },
            "spec": {
                "progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {"metadata": {"creationTimestamp": null}, "spec": {
                    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                    "securityContext": {}, "terminationGracePeriodSeconds": 30,
                    "volumes": [{"name": "config", "configMap": {"name": "app", "defaultMode": 420}}]}}
            },
            "status": {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 3}
        }),
    );
    let c = &mut live["spec"]["template"]["spec"]["containers"][0];
    merge(
        c,
        json!({
            "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "1", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
        }),
    );
    live
}

fn owned(objects: Vec<Json>) -> Snapshot {
    Snapshot { owned: objects.into_iter().map(|o| (ObjectKey::of(&o).unwrap(), o)).collect(), ..Snapshot::default() }
}

fn kubectl_set() -> (&'static str, Json) {
    ("kubectl-set", json!({"f:metadata": {"f:labels": {"f:team": {}}}}))
}

fn only_step(p: &Plan) -> &Step {
    assert_eq!(p.steps.len(), 1, "{p:#?}");
    &p.steps[0]
}

#[test]
fn a_freshly_applied_deployment_is_a_noop() {
    let d = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let live = owned(vec![served(&d, cairn_fields(true), kubectl_set())]);
    let p = plan(&desired(vec![d]), &live, KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!(s.action, Action::Noop, "{:#?}", s.changes);
    assert_eq!((s.class, s.force), (None, false));
    assert!(s.live_fingerprint.is_some());
    assert!(p.is_empty());
}

#[test]
fn an_image_changed_out_of_band_is_drift() {
    let d = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    // `kubectl set image` records its Update of the container's image.
    let set_image =
        ("kubectl-set", json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {"f:image": {}}}}}}}));
    let mut l = served(&d, cairn_fields(true), set_image);
    l["spec"]["template"]["spec"]["containers"][0]["image"] = json!("ghcr.io/acme/shop-web:2.3.0-hotfix");
    let p = plan(&desired(vec![d]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!((s.action, s.class, s.force), (Action::Update, Some(Class::Drift), true));
    assert_eq!(
        s.changes,
        vec![FieldChange {
            path: "spec.template.spec.containers[name=web].image".into(),
            op: FieldOp::Set,
            before: Some(json!("ghcr.io/acme/shop-web:2.3.0-hotfix")),
            after: Some(json!("ghcr.io/acme/shop-web:2.3.1")),
            sensitive: false,
            managers: vec!["kubectl-set".into()],
        }]
    );
}

#[test]
fn a_declared_label_changed_by_someone_is_drift() {
    let d = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let mut l = served(&d, cairn_fields(true), kubectl_set());
    l["metadata"]["labels"]["app.kubernetes.io/managed-by"] = json!("helm");
    let p = plan(&desired(vec![d]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Drift)));
    assert_eq!(s.changes.len(), 1);
    assert_eq!(s.changes[0].path, "metadata.labels.app.kubernetes.io/managed-by");
}

#[test]
fn an_edited_stack_is_pending() {
    let before = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let l = served(&before, cairn_fields(true), kubectl_set());
    let after = obj("workload.web", web("ghcr.io/acme/shop-web:2.4.0", Some(3)), vec![]);
    let p = plan(&desired(vec![after]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!((s.action, s.class, s.force), (Action::Update, Some(Class::Pending), false));
    assert_eq!(s.changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), vec!["spec.template.spec.containers[name=web].image"]);
}

#[test]
fn a_changed_hash_alone_is_an_update_without_changes() {
    let d = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let mut l = served(&d, cairn_fields(true), kubectl_set());
    l["metadata"]["annotations"]["cairn.dev/applied-hash"] = json!("0000");
    let p = plan(&desired(vec![d]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Pending)));
    assert!(s.changes.is_empty());
}

#[test]
fn replicas_set_by_an_hpa_are_not_drift() {
    let d = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", None), vec![]);
    let mut l = served(&d, cairn_fields(false), ("horizontal-pod-autoscaler", json!({"f:spec": {"f:replicas": {}}})));
    l["spec"]["replicas"] = json!(7);
    let p = plan(&desired(vec![d]), &owned(vec![l]), KEY, &Options::default());
    assert_eq!(only_step(&p).action, Action::Noop);
}

#[test]
fn replicas_dropped_from_the_declaration_are_removed_or_released() {
    let before = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let after = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", None), vec![]);
    let l = served(&before, cairn_fields(true), kubectl_set());
    let p = plan(&desired(vec![after.clone()]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Pending)));
    assert_eq!(
        s.changes,
        vec![FieldChange {
            path: "spec.replicas".into(),
            op: FieldOp::Remove,
            before: Some(json!(3)),
            after: None,
            sensitive: false,
            managers: vec![]
        }]
    );

    let l = served(&before, cairn_fields(true), ("horizontal-pod-autoscaler", json!({"f:spec": {"f:replicas": {}}})));
    let p = plan(&desired(vec![after]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!(s.changes.len(), 1);
    assert_eq!((s.changes[0].path.as_str(), s.changes[0].op), ("spec.replicas", FieldOp::Release));
}

/// The autoscaler `autoscale { min = 2, max = 10 }` lowers to for [`web`].
fn web_hpa() -> DesiredObject {
    let mut b = meta("HorizontalPodAutoscaler", "autoscaling/v2", Some("shop"), "web", "workload.web");
    b["spec"] =
        json!({"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 10});
    obj("workload.web", b, vec![])
}

#[test]
fn an_autoscaled_workload_hands_its_replicas_over_without_a_reset() {
    // The stack had `replicas = 3`, now `autoscale`: cairn's apply owns spec.replicas alone.
    let before = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let after = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", None), vec![]);
    let mut l = served(&before, cairn_fields(true), kubectl_set());
    l["spec"]["replicas"] = json!(3);
    let p = plan(&desired(vec![after, web_hpa()]), &owned(vec![l]), KEY, &Options::default());
    let s = &p.steps[0];
    assert_eq!(s.key.kind, "Deployment");
    assert_eq!(s.action, Action::Update, "the applied hash changed");
    assert!(s.changes.is_empty(), "replicas are not planned: {:#?}", s.changes);
    assert_eq!(s.keep, vec![KeptField { pointer: "/spec/replicas".into(), value: json!(3) }], "apply keeps the live count");
}

#[test]
fn an_autoscaled_workloads_replicas_written_by_others_are_not_planned() {
    let d = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", None), vec![]);
    for manager in ["kube-controller-manager", "kubectl"] {
        // The autoscaler's write through the scale subresource, or a `kubectl scale`.
        let mut l = served(&d, cairn_fields(false), (manager, json!({"f:spec": {"f:replicas": {}}})));
        l["spec"]["replicas"] = json!(7);
        let p = plan(&desired(vec![d.clone(), web_hpa()]), &owned(vec![l]), KEY, &Options::default());
        assert_eq!(p.steps[0].action, Action::Noop, "{manager}: {:#?}", p.steps[0]);
        assert!(p.steps[0].keep.is_empty());
    }
    // Owned by cairn and the autoscaler together: released, not planned, nothing to keep.
    let before = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let l = served(&before, cairn_fields(true), ("kube-controller-manager", json!({"f:spec": {"f:replicas": {}}})));
    let p = plan(&desired(vec![d, web_hpa()]), &owned(vec![l]), KEY, &Options::default());
    assert!(p.steps[0].changes.is_empty(), "{:#?}", p.steps[0].changes);
    assert!(p.steps[0].keep.is_empty());
}

#[test]
fn a_removed_container_is_one_removal() {
    let before = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let mut l = served(&before, cairn_fields(true), kubectl_set());
    l["spec"]["template"]["spec"]["containers"].as_array_mut().unwrap().push(json!({"name": "proxy", "image": "envoy:1"}));
    l["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"proxy\"}"] =
        json!({".": {}, "f:image": {}, "f:name": {}});
    let p = plan(&desired(vec![before]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!(s.changes.len(), 1, "{:#?}", s.changes);
    assert_eq!((s.changes[0].path.as_str(), s.changes[0].op), ("spec.template.spec.containers[name=proxy]", FieldOp::Remove));
    assert_eq!(s.class, Some(Class::Drift));
}

#[test]
fn quantities_compare_by_value() {
    let mut cm = meta("LimitRange", "v1", Some("shop"), "limits", "quota.shop");
    cm["spec"] = json!({"limits": [{"type": "Container", "default": {"cpu": "1000m", "memory": "1Gi"}, "defaultRequest": {"cpu": "0.5"}}]});
    let d = obj("quota.shop", cm, vec![]);
    let mut l = hash::applied_body(&d, KEY);
    l["spec"] = json!({"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "1024Mi"}, "defaultRequest": {"cpu": "500m"}}]});
    let p = plan(&desired(vec![d]), &owned(vec![l]), KEY, &Options::default());
    assert_eq!(only_step(&p).action, Action::Noop);
}

#[test]
fn a_selector_change_is_a_replace() {
    let before = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let l = served(&before, cairn_fields(true), kubectl_set());
    let mut body = web("ghcr.io/acme/shop-web:2.3.1", Some(3));
    body["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = json!("storefront");
    let p = plan(&desired(vec![obj("workload.web", body, vec![])]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!(s.action, Action::Replace);
    assert_eq!(s.reason.as_deref(), Some("spec.selector is immutable"));
    assert!(!s.protected);
}

fn storage_class(pool: &str) -> Json {
    let mut sc = meta("StorageClass", "storage.k8s.io/v1", None, "shop-block", "storage_class.block");
    merge(
        &mut sc,
        json!({"provisioner": "rook-ceph.rbd.csi.ceph.com", "reclaimPolicy": "Delete", "allowVolumeExpansion": true,
               "parameters": {"clusterID": "rook-ceph", "pool": pool, "csi.storage.k8s.io/fstype": "ext4"}}),
    );
    sc
}

#[test]
fn a_storage_class_parameter_change_is_a_replace() {
    let before = obj("storage_class.block", storage_class("shop"), vec![]);
    let l = hash::applied_body(&before, KEY);
    let after = obj("storage_class.block", storage_class("shop-ssd"), vec![]);
    let p = plan(&desired(vec![after]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!((s.action, s.reason.as_deref()), (Action::Replace, Some("StorageClass parameters are immutable")));
    assert_eq!(s.changes[0].path, "parameters.pool");
}

fn pvc(size: &str) -> Json {
    let mut c = meta("PersistentVolumeClaim", "v1", Some("shop"), "data", "volume.data");
    c["spec"] = json!({"accessModes": ["ReadWriteOnce"], "storageClassName": "shop-block", "resources": {"requests": {"storage": size}}});
    c
}

#[test]
fn a_claim_may_grow_but_not_shrink() {
    let before = obj("volume.data", pvc("20Gi"), vec![]);
    let l = hash::applied_body(&before, KEY);
    let grow = plan(&desired(vec![obj("volume.data", pvc("40Gi"), vec![])]), &owned(vec![l.clone()]), KEY, &Options::default());
    let s = only_step(&grow);
    assert_eq!((s.action, s.protected), (Action::Update, false));
    // A shrink (a 20Gi → 2Gi typo) is a refusal naming the claim and both sizes, not a replace.
    let shrink = plan(&desired(vec![obj("volume.data", pvc("2Gi"), vec![])]), &owned(vec![l.clone()]), KEY, &Options::default());
    assert!(shrink.steps.is_empty(), "{shrink:#?}");
    let r = &shrink.refusals[0];
    assert_eq!(r.key.id(), "PersistentVolumeClaim/shop/data");
    assert!(r.message.contains("2Gi") && r.message.contains("20Gi") && r.message.contains("cannot shrink"), "{}", r.message);
    assert!(r.help.contains("at least 20Gi"), "{}", r.help);
    // Same size written another way is no shrink.
    let same = plan(&desired(vec![obj("volume.data", pvc("20480Mi"), vec![])]), &owned(vec![l.clone()]), KEY, &Options::default());
    assert!(same.refusals.is_empty() && only_step(&same).changes.is_empty(), "{same:#?}");
}

#[test]
fn a_claim_replace_or_delete_is_protected() {
    let before = obj("volume.data", pvc("20Gi"), vec![]);
    let l = hash::applied_body(&before, KEY);
    for (field, value) in [("storageClassName", json!("fast")), ("accessModes", json!(["ReadWriteMany"]))] {
        let mut other = pvc("20Gi");
        other["spec"][field] = value;
        let p = plan(&desired(vec![obj("volume.data", other, vec![])]), &owned(vec![l.clone()]), KEY, &Options::default());
        let s = only_step(&p);
        assert_eq!((s.action, s.protected), (Action::Replace, true), "{field}: {s:#?}");
        assert_eq!(p.protected().count(), 1);
    }
    let gone = plan(&desired(vec![]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&gone);
    assert_eq!((s.action, s.protected), (Action::Delete, true), "{s:#?}");
}

fn pool(ec: bool) -> Json {
    let mut p = meta("CephBlockPool", "ceph.rook.io/v1", Some("rook-ceph"), "shop", "pool.shop");
    p["spec"] = if ec {
        json!({"failureDomain": "host", "erasureCoded": {"dataChunks": 2, "codingChunks": 1}})
    } else {
        json!({"failureDomain": "host", "replicated": {"size": 3}})
    };
    p
}

#[test]
fn a_pool_switching_to_erasure_coding_is_a_protected_replace() {
    let mut before = obj("pool.shop", pool(false), vec![]);
    before.protect = true;
    let l = hash::applied_body(&before, KEY);
    let mut after = obj("pool.shop", pool(true), vec![]);
    after.protect = true;
    let p = plan(&desired(vec![after]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!(s.action, Action::Replace);
    assert!(s.reason.as_deref().unwrap().contains("a new pool is needed"));
    assert!(s.protected);
}

#[test]
fn a_protected_pool_dropped_from_the_stack_is_a_protected_delete() {
    let mut d = obj("pool.shop", pool(false), vec![]);
    d.protect = true;
    let l = hash::applied_body(&d, KEY);
    let p = plan(&desired(vec![]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!((s.action, s.class, s.protected), (Action::Delete, Some(Class::Pending), true));
    assert_eq!(s.address.as_deref(), Some("pool.shop"));
    assert!(s.live_fingerprint.is_some());
    assert_eq!(p.protected().count(), 1);
}

#[test]
fn objects_with_owner_references_are_never_deleted() {
    let mut rs = meta("ReplicaSet", "apps/v1", Some("shop"), "web-5d8f7", "workload.web");
    rs["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "0f6c", "controller": true}]);
    let orphan = meta("ConfigMap", "v1", Some("shop"), "old", "config.old");
    let live = owned(vec![rs, orphan]);
    let p = plan(&desired(vec![]), &live, KEY, &Options::default());
    assert_eq!(p.steps.iter().map(|s| s.key.id()).collect::<Vec<_>>(), vec!["ConfigMap/shop/old"]);
    let p = plan(&desired(vec![]), &live, KEY, &Options { destroy: true, ..Options::default() });
    assert_eq!(p.steps.len(), 1);
}

/// An object the stack once made and now uses as `existing` is never deleted — not by a plan,
/// not by `destroy` — and a missing one is refused.
#[test]
fn existing_objects_are_never_deleted_and_must_be_live() {
    let ns = meta("Namespace", "v1", None, "shop", "namespace.shop");
    let live = owned(vec![ns.clone()]);
    let mut d = desired(vec![]);
    d.existing.push(crate::model::ExistingObject {
        key: ObjectKey::of(&ns).unwrap(),
        address: "namespace.shop".into(),
        at: "main.cairn:1:11".into(),
        uses: vec![],
    });
    for destroy in [false, true] {
        let p = plan(&d, &live, KEY, &Options { destroy, ..Options::default() });
        assert!(p.steps.is_empty(), "destroy={destroy}: {:?}", p.steps);
    }
    let p = plan(&d, &live, KEY, &Options::default());
    assert_eq!(p.refusals.len(), 1, "not in Snapshot::existing: missing");
    let mut found = live.clone();
    found.existing.insert(ObjectKey::of(&ns).unwrap(), ns);
    assert!(plan(&d, &found, KEY, &Options::default()).is_empty());
    assert!(plan(&desired(vec![]), &live, KEY, &Options::default()).steps.len() == 1, "without `existing` it is deleted");
}

fn config(name: &str) -> Json {
    let mut c = meta("ConfigMap", "v1", Some("shop"), name, &format!("config.{name}"));
    c["data"] = json!({"LOG_LEVEL": "info"});
    c
}

#[test]
fn an_unlabelled_object_is_refused_unless_adopted() {
    let d = obj("config.app", config("app"), vec![]);
    let dep = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![0]);
    let foreign = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "shop", "labels": {"owner": "ops"}}, "data": {"LOG_LEVEL": "info"}});
    let live = Snapshot { foreign: [(d.key.clone(), foreign)].into_iter().collect(), ..Snapshot::default() };
    let ds = desired(vec![d, dep]);
    let p = plan(&ds, &live, KEY, &Options::default());
    assert_eq!(p.refusals.len(), 1);
    assert!(p.refusals[0].message.contains("ConfigMap/shop/app") && p.refusals[0].message.contains("not managed by stack shop"));
    assert!(p.refusals[0].help.contains("--adopt"));
    // The dependent still gets its step (the executor fails it).
    assert_eq!(only_step(&p).key.kind, "Deployment");
    assert!(after(&p, 0).is_empty());

    let p = plan(&ds, &live, KEY, &Options { adopt: true, ..Options::default() });
    assert!(p.refusals.is_empty());
    let s = &p.steps[0];
    assert_eq!((s.action, s.adopt, s.class), (Action::Update, true, Some(Class::Pending)));
    assert!(s.changes.iter().any(|c| c.path == "metadata.labels.cairn.dev/stack"));
    assert!(!s.changes.iter().any(|c| c.path.contains("applied-hash")), "{:#?}", s.changes);
    assert!(s.force, "an adoption that changes no value takes the fields over: {:#?}", s.changes);
    assert_eq!(after(&p, 1), vec![0]);

    // An adoption that also changes a value is not forced: a conflict there is reported.
    let d = obj("config.app", config("app"), vec![]);
    let other =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "shop"}, "data": {"LOG_LEVEL": "debug"}});
    let live = Snapshot { foreign: [(d.key.clone(), other)].into_iter().collect(), ..Snapshot::default() };
    let p = plan(&desired(vec![d]), &live, KEY, &Options { adopt: true, ..Options::default() });
    let s = &p.steps[0];
    assert!(s.adopt && !s.force, "{s:#?}");
}

#[test]
fn another_stacks_object_is_refused_even_with_adopt() {
    let d = obj("config.app", config("app"), vec![]);
    let foreign = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "shop", "labels": {"cairn.dev/stack": "billing"}}});
    let live = Snapshot { foreign: [(d.key.clone(), foreign)].into_iter().collect(), ..Snapshot::default() };
    let p = plan(&desired(vec![d]), &live, KEY, &Options { adopt: true, ..Options::default() });
    assert!(p.steps.is_empty());
    assert_eq!(p.refusals.len(), 1);
    assert!(p.refusals[0].message.contains("billing") && p.refusals[0].message.contains("ConfigMap/shop/app"));
    assert!(p.refusals[0].help.contains("one of the stacks"));
}

#[test]
fn secret_values_never_reach_the_plan() {
    let secret = |v: &str| {
        let mut s = meta("Secret", "v1", Some("shop"), "db-credentials", "secret.db");
        s["type"] = json!("Opaque");
        s["data"] = json!({"password": v, "user": "cG9zdGdyZXM="});
        let mut d = obj("secret.db", s, vec![]);
        d.sensitive = vec!["/data/password".into()];
        d
    };
    // "hunter2" and "correct-horse", base64.
    let before = secret("aHVudGVyMg==");
    let mut l = hash::applied_body(&before, KEY);
    l["metadata"]["managedFields"] = json!([{"manager": "cairn", "operation": "Apply", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:password": {}, "f:user": {}, "f:old": {}}, "f:type": {}}}]);
    l["data"]["old"] = json!("c2VjcmV0LW9sZA==");
    let after = secret("Y29ycmVjdC1ob3JzZQ==");
    let p = plan(&desired(vec![after]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!(s.changes.len(), 2, "{:#?}", s.changes);
    for c in &s.changes {
        assert!(c.sensitive);
        assert!([Some(json!("(sensitive)")), None].contains(&c.before) && [Some(json!("(sensitive)")), None].contains(&c.after));
    }
    let text = serde_json::to_string(&p).unwrap();
    for leaked in ["aHVudGVyMg==", "hunter2", "Y29ycmVjdC1ob3JzZQ==", "correct-horse", "c2VjcmV0LW9sZA==", "secret-old"] {
        assert!(!text.contains(leaked), "{leaked} leaked");
    }
}

fn namespace(name: &str) -> Json {
    meta("Namespace", "v1", None, name, &format!("namespace.{name}"))
}

#[test]
fn destroy_deletes_in_reverse_order() {
    let web = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let live = owned(vec![
        namespace("shop"),
        hash::applied_body(&web, KEY),
        config("app"),
        storage_class("shop"),
        pvc("20Gi"),
        pool(false),
        namespace("rook-ceph"),
    ]);
    let p = plan(&desired(vec![web]), &live, KEY, &Options { destroy: true, ..Options::default() });
    assert!(p.steps.iter().all(|s| s.action == Action::Delete));
    let ids: Vec<String> = p.steps.iter().map(|s| s.key.id()).collect();
    let pos = |id: &str| ids.iter().position(|x| x == id).unwrap();
    assert!(pos("Deployment/shop/web") < pos("Namespace/shop"));
    assert!(pos("ConfigMap/shop/app") < pos("Namespace/shop"));
    assert!(pos("PersistentVolumeClaim/shop/data") < pos("StorageClass/shop-block"));
    assert!(pos("StorageClass/shop-block") < pos("CephBlockPool/rook-ceph/shop"));
    // `after` reaches every higher-ranked delete in scope, directly or transitively.
    let reaches = |from: usize, to: usize| {
        let mut stack = vec![from];
        let mut seen = vec![false; p.steps.len()];
        while let Some(i) = stack.pop() {
            if i == to {
                return true;
            }
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(after(&p, i));
            }
        }
        false
    };
    assert!(reaches(pos("Namespace/shop"), pos("Deployment/shop/web")));
    assert!(reaches(pos("Namespace/shop"), pos("ConfigMap/shop/app")));
    assert!(reaches(pos("ConfigMap/shop/app"), pos("Deployment/shop/web")));
    assert!(reaches(pos("StorageClass/shop-block"), pos("PersistentVolumeClaim/shop/data")));
    assert!(reaches(pos("CephBlockPool/rook-ceph/shop"), pos("StorageClass/shop-block")));
    assert!(!reaches(pos("Deployment/shop/web"), pos("Namespace/shop")));
    assert_eq!(p.steps[pos("Deployment/shop/web")].address.as_deref(), Some("workload.web"));
}

/// A live object in a namespace, read metadata-only for the namespace's contents.
fn held(kind: &str, ns: &str, name: &str, metadata: Json) -> Json {
    let mut m = json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns}});
    merge(&mut m["metadata"], metadata);
    m
}

#[test]
fn a_namespace_delete_is_protected_when_it_holds_data() {
    let ours = json!({"labels": {"cairn.dev/stack": "shop"}});
    let live_with = |contents: Vec<Json>| {
        let mut live = owned(vec![namespace("shop"), config("app")]);
        live.namespace_contents.insert("shop".into(), contents);
        live
    };
    let removed = desired(vec![]);
    // Only this stack's objects deleted in the same plan, and what Kubernetes made: unprotected.
    let plain = live_with(vec![
        held("ConfigMap", "shop", "app", ours.clone()),
        held("ServiceAccount", "shop", "default", json!({})),
        held("ConfigMap", "shop", "kube-root-ca.crt", json!({})),
        held("Pod", "shop", "web-1", json!({"ownerReferences": [{"kind": "ReplicaSet", "name": "web-1"}]})),
    ]);
    let p = plan(&removed, &plain, KEY, &Options::default());
    let ns = p.steps.iter().find(|s| s.key.kind == "Namespace").unwrap();
    assert!(!ns.protected && ns.holds.is_empty(), "{ns:#?}");
    // A hand-made object and a claim: protected, listing them.
    let mut contents = vec![held("ConfigMap", "shop", "by-hand", json!({})), held("PersistentVolumeClaim", "shop", "data", ours.clone())];
    contents.push(held("ConfigMap", "shop", "app", ours));
    let p = plan(&removed, &live_with(contents), KEY, &Options::default());
    let ns = p.steps.iter().find(|s| s.key.kind == "Namespace").unwrap();
    assert!(ns.protected, "{ns:#?}");
    let holds: Vec<(String, HoldReason)> = ns.holds.iter().map(|h| (h.key.id(), h.reason)).collect();
    assert_eq!(
        holds,
        vec![("ConfigMap/shop/by-hand".into(), HoldReason::Foreign), ("PersistentVolumeClaim/shop/data".into(), HoldReason::Claim)]
    );
    assert!(p.protected().any(|s| s.key.id() == "Namespace/shop"));
    // Contents not read: protected too (never an unguarded cascade).
    let p = plan(&removed, &owned(vec![namespace("shop")]), KEY, &Options::default());
    assert!(only_step(&p).protected);
    // destroy: the same guard.
    let p = plan(
        &removed,
        &live_with(vec![held("ConfigMap", "shop", "by-hand", json!({}))]),
        KEY,
        &Options { destroy: true, ..Options::default() },
    );
    assert!(p.steps.iter().any(|s| s.key.id() == "Namespace/shop" && s.protected));
}

#[test]
fn steps_follow_dependencies_and_targets_keep_the_closure() {
    let ds = desired(vec![
        obj("namespace.shop", namespace("shop"), vec![]),
        obj("config.app", config("app"), vec![0]),
        obj("config.other", config("other"), vec![0]),
        obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![0, 1]),
    ]);
    let live = owned(vec![config("gone"), config("stale")]);
    let p = plan(&ds, &live, KEY, &Options::default());
    assert_eq!(p.count(Action::Create), 4);
    assert_eq!(p.count(Action::Delete), 2);
    assert_eq!(after(&p, 3), vec![0, 1]);
    assert!(p.steps[0].live_fingerprint.is_none());

    let opts = Options { targets: vec!["workload.web".into(), "ConfigMap/shop/gone".into()], ..Options::default() };
    let p = plan(&ds, &live, KEY, &opts);
    let ids: Vec<String> = p.steps.iter().map(|s| s.key.id()).collect();
    assert_eq!(ids, vec!["Namespace/shop", "ConfigMap/shop/app", "Deployment/shop/web", "ConfigMap/shop/gone"]);
    assert_eq!(after(&p, 2), vec![0, 1]);
    assert_eq!(after(&p, 1), vec![0]);
}

#[test]
fn the_fingerprint_ignores_status_but_not_declared_fields() {
    let d = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let applied = hash::applied_body(&d, KEY);
    let live = served(&d, cairn_fields(true), kubectl_set());
    let fp = fingerprint(&live, Some(&applied));
    assert_eq!(fp.len(), 64);
    let mut status = live.clone();
    status["status"]["readyReplicas"] = json!(2);
    status["metadata"]["resourceVersion"] = json!("48999");
    status["metadata"]["labels"]["team"] = json!("other");
    assert_eq!(fingerprint(&status, Some(&applied)), fp);
    assert_eq!(fingerprint(&status, None), {
        let mut s = live.clone();
        s["metadata"]["labels"]["team"] = json!("other");
        fingerprint(&s, None)
    });
    let mut spec = live.clone();
    spec["spec"]["template"]["spec"]["containers"][0]["image"] = json!("evil:latest");
    spec["metadata"]["generation"] = json!(2);
    assert_ne!(fingerprint(&spec, Some(&applied)), fp);
    assert_ne!(fingerprint(&spec, None), fingerprint(&live, None));
}

#[test]
fn ten_thousand_objects_plan() {
    let n = 10_000;
    let mut objects = vec![obj("namespace.big", namespace("big"), vec![])];
    let mut live = Vec::with_capacity(n);
    for i in 0..n {
        let mut c = meta("ConfigMap", "v1", Some("big"), &format!("c{i}"), &format!("config.c{i}"));
        c["data"] = json!({"k": format!("v{i}"), "cpu": "1000m"});
        let d = obj(&format!("config.c{i}"), c, vec![0]);
        let mut l = hash::applied_body(&d, KEY);
        if i % 10 == 0 {
            l["data"]["k"] = json!("changed");
        }
        if i % 3 != 0 {
            live.push(l);
        }
        objects.push(d);
    }
    for i in 0..n / 2 {
        live.push(config(&format!("orphan{i}")));
    }
    let ds = desired(objects);
    let live = owned(live);
    let started = std::time::Instant::now();
    let p = plan(&ds, &live, KEY, &Options::default());
    eprintln!("planned {} steps in {:?}", p.steps.len(), started.elapsed());
    assert_eq!(p.steps.len(), 1 + n + n / 2);
    assert_eq!(p.count(Action::Update), (0..n).filter(|i| i % 3 != 0 && i % 10 == 0).count());
    let started = std::time::Instant::now();
    let p = plan(&ds, &live, KEY, &Options { destroy: true, ..Options::default() });
    eprintln!("planned destroy of {} in {:?}", p.steps.len(), started.elapsed());
    assert_eq!(p.steps.len(), live.owned.len());
    assert!(p.steps.iter().map(|s| s.after.len()).sum::<usize>() < 4 * p.steps.len());
}

#[test]
fn secret_string_data_matches_the_stored_data() {
    let mut s = meta("Secret", "v1", Some("shop"), "api", "manifest.api");
    s["stringData"] = json!({"token": "s3cr3t"});
    let mut d = obj("manifest.api", s, vec![]);
    d.sensitive = vec!["/stringData/token".into()];
    let mut l = hash::applied_body(&d, KEY);
    l.as_object_mut().unwrap().remove("stringData");
    l["data"] = json!({"token": "czNjcjN0"});
    let p = plan(&desired(vec![d.clone()]), &owned(vec![l.clone()]), KEY, &Options::default());
    assert_eq!(only_step(&p).action, Action::Noop);
    l["data"]["token"] = json!("b3RoZXI=");
    let p = plan(&desired(vec![d]), &owned(vec![l]), KEY, &Options::default());
    let s = only_step(&p);
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Drift)));
    assert_eq!((s.changes[0].path.as_str(), s.changes[0].sensitive), ("data.token", true));
    let text = serde_json::to_string(&p).unwrap();
    assert!(!text.contains("s3cr3t") && !text.contains("czNjcjN0") && !text.contains("b3RoZXI="));
}

#[test]
fn an_object_still_being_deleted_is_created_again_not_left_alone() {
    let d = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let mut l = served(&d, cairn_fields(true), kubectl_set());
    l["metadata"]["deletionTimestamp"] = json!("2026-11-23T10:00:00Z");
    let orphan = {
        let mut o = l.clone();
        o["metadata"]["name"] = json!("old");
        o
    };
    let p = plan(&desired(vec![d]), &owned(vec![l, orphan]), KEY, &Options::default());
    // The terminating declared object is a create that waits; the terminating undeclared one is
    // not deleted twice.
    let s = only_step(&p);
    assert_eq!(s.action, Action::Create);
    assert!(s.reason.as_deref().is_some_and(|r| r.contains("being deleted")), "{s:?}");
    assert!(s.waits_for_deletion && s.live_fingerprint.is_some(), "{s:?}");
}

#[test]
fn a_create_lists_the_objects_fields_with_secret_values_hidden() {
    let mut s = meta("Secret", "v1", Some("shop"), "api", "secret.api");
    s["stringData"] = json!({"token": "s3cr3t"});
    let mut d = obj("secret.api", s, vec![]);
    d.sensitive = vec!["/stringData/token".into()];
    let w = obj("workload.web", web("ghcr.io/acme/shop-web:2.3.1", Some(3)), vec![]);
    let p = plan(&desired(vec![d, w]), &Snapshot::default(), KEY, &Options::default());
    let secret = &p.steps[0];
    assert_eq!(secret.action, Action::Create);
    let paths: Vec<&str> = secret.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["metadata", "stringData"]);
    assert!(secret.changes.iter().all(|c| c.before.is_none() && c.op == FieldOp::Set));
    assert_eq!(secret.changes[1].after, Some(json!({"token": "(sensitive)"})));
    let deployment = &p.steps[1];
    let spec = deployment.changes.iter().find(|c| c.path == "spec").unwrap();
    assert_eq!(spec.after.as_ref().unwrap()["template"]["spec"]["containers"][0]["image"], json!("ghcr.io/acme/shop-web:2.3.1"));
    assert!(!serde_json::to_string(&p).unwrap().contains("s3cr3t"));
}

#[test]
fn objects_of_an_unserved_kind_are_refused_naming_rook_for_its_kinds() {
    let mut pool = meta("CephBlockPool", "ceph.rook.io/v1", Some("rook-ceph"), "shop-block", "storage.block_pool.shop-block");
    pool["spec"] = json!({"replicated": {"size": 3}});
    let mut widget = meta("Widget", "example.com/v1", Some("shop"), "w", "manifest.w");
    widget["spec"] = json!({});
    let d = desired(vec![obj("storage.block_pool.shop-block", pool, vec![]), obj("manifest.w", widget, vec![])]);
    let mut live = Snapshot::default();
    live.unserved.insert(GroupKind { group: "ceph.rook.io".into(), kind: "CephBlockPool".into() });
    live.unserved.insert(GroupKind { group: "example.com".into(), kind: "Widget".into() });
    let p = plan(&d, &live, KEY, &Options::default());
    assert!(p.steps.is_empty(), "{:?}", p.steps);
    let [rook, other] = p.refusals.as_slice() else { panic!("{:?}", p.refusals) };
    assert!(rook.message.contains("does not serve CephBlockPool (ceph.rook.io/v1)"), "{}", rook.message);
    assert!(rook.help.contains("install Rook"), "{}", rook.help);
    assert!(other.help.contains("install the CRD or operator that provides Widget.example.com"), "{}", other.help);
}

#[test]
fn unknown_targets_are_listed_with_near_matches() {
    let d = desired(vec![obj("workload.web", web("web:1", Some(3)), vec![])]);
    let full = plan(&d, &Snapshot::default(), KEY, &Options::default());
    let targets = vec!["workload.wbe".to_string(), "Deployment/shop/web".to_string(), "zzz".to_string()];
    let unknown = unknown_targets(&full, &targets);
    assert_eq!(
        unknown,
        vec![
            UnknownTarget { target: "workload.wbe".into(), near: vec!["workload.web".into()] },
            UnknownTarget { target: "zzz".into(), near: vec![] },
        ]
    );
}
