//! The simulated provisioner: a PVC whose StorageClass exists gets a PersistentVolume and is
//! bound (at once for `Immediate`, once a pod uses it for `WaitForFirstConsumer`).

use serde_json::json;

use super::{events, objects, rtype, set_status, without_finalizer, MANAGER};
use crate::api::write::{commit, Ownership, WriteCtx};
use crate::registry::TypeKey;
use crate::store::State;

/// One pass over pending claims.
pub fn bind(state: &mut State) {
    let (Some(pvc_type), Some(pv_type)) = (rtype(state, "", "persistentvolumeclaims"), rtype(state, "", "persistentvolumes")) else {
        return;
    };
    for pvc in objects(state, "", "persistentvolumeclaims", None) {
        if pvc["status"]["phase"] == "Bound" || !pvc["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        let ns = pvc["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
        let name = pvc["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let Some(sc_name) = pvc["spec"]["storageClassName"].as_str().map(str::to_owned) else { continue };
        let sc = state.get(&TypeKey { group: "storage.k8s.io".into(), plural: "storageclasses".into() }, "", &sc_name).cloned();
        let Some(sc) = sc else {
            events::record(
                state,
                &pvc,
                "Warning",
                "ProvisioningFailed",
                &format!("storageclass.storage.k8s.io \"{sc_name}\" not found"),
                "persistentvolume-controller",
            );
            continue;
        };
        if sc["volumeBindingMode"] == "WaitForFirstConsumer" {
            let used = state.list(&TypeKey { group: String::new(), plural: "pods".into() }, Some(&ns)).any(|p| {
                p["spec"]["volumes"].as_array().into_iter().flatten().any(|v| v["persistentVolumeClaim"]["claimName"] == name.as_str())
            });
            if !used {
                events::record(
                    state,
                    &pvc,
                    "Normal",
                    "WaitForFirstConsumer",
                    "waiting for first consumer to be created before binding",
                    "persistentvolume-controller",
                );
                continue;
            }
        }
        let uid = pvc["metadata"]["uid"].as_str().unwrap_or_default();
        let pv_name = format!("pvc-{uid}");
        let storage = pvc["spec"]["resources"]["requests"]["storage"].clone();
        let access = pvc["spec"]["accessModes"].clone();
        let provisioner = sc["provisioner"].as_str().unwrap_or("sandbox.cairn.dev/provisioner").to_owned();
        if state.get(&pv_type.key(), "", &pv_name).is_none() {
            let pv = json!({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": provisioner}, "finalizers": ["kubernetes.io/pv-protection"]},
                "spec": {
                    "capacity": {"storage": storage}, "accessModes": access,
                    "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns, "name": name, "uid": uid, "resourceVersion": pvc["metadata"]["resourceVersion"]},
                    "persistentVolumeReclaimPolicy": sc["reclaimPolicy"].as_str().unwrap_or("Delete"),
                    "storageClassName": sc_name, "volumeMode": pvc["spec"]["volumeMode"].as_str().unwrap_or("Filesystem"),
                    "csi": {"driver": provisioner, "volumeHandle": format!("sandbox-{uid}")}
                }
            });
            let ctx = WriteCtx::controller("create", "csi-provisioner", None);
            if commit(state, &pv_type, None, pv, &ctx, Ownership::Update).is_err() {
                continue;
            }
            events::record(
                state,
                &pvc,
                "Normal",
                "ProvisioningSucceeded",
                &format!("Successfully provisioned volume {pv_name}"),
                &provisioner,
            );
        }
        if let Some(pv) = state.get(&pv_type.key(), "", &pv_name).cloned() {
            set_status(state, &pv_type, &pv, json!({"phase": "Bound"}));
        }
        // Bind: the claim names its volume, then reports Bound.
        let mut next = pvc.clone();
        next["spec"]["volumeName"] = json!(pv_name);
        next["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] = json!("yes");
        next["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] = json!("yes");
        next["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-provisioner"] = json!(provisioner);
        next["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"] = json!(provisioner);
        let ctx = WriteCtx::controller("update", MANAGER, None);
        let Ok((bound, _)) = commit(state, &pvc_type, Some(&pvc), next, &ctx, Ownership::Update) else { continue };
        set_status(state, &pvc_type, &bound, json!({"phase": "Bound", "accessModes": access, "capacity": {"storage": storage}}));
    }
}

/// Storage object protection and reclaim: a deleted claim goes once no pod uses it; its volume
/// is then deleted (`Delete`) or released (`Retain`); a deleted volume goes once unbound.
pub fn protect_and_reclaim(state: &mut State) {
    let (Some(pvc_type), Some(pv_type)) = (rtype(state, "", "persistentvolumeclaims"), rtype(state, "", "persistentvolumes")) else {
        return;
    };
    for pvc in objects(state, "", "persistentvolumeclaims", None) {
        if pvc["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        let ns = pvc["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
        let name = pvc["metadata"]["name"].as_str().unwrap_or_default();
        let in_use = state.list(&TypeKey { group: String::new(), plural: "pods".into() }, Some(&ns)).any(|p| {
            p["metadata"]["deletionTimestamp"].is_null()
                && p["spec"]["volumes"].as_array().into_iter().flatten().any(|v| v["persistentVolumeClaim"]["claimName"] == name)
        });
        if !in_use {
            let ctx = WriteCtx::controller("update", "pvc-protection-controller", None);
            let _ = commit(state, &pvc_type, Some(&pvc), without_finalizer(&pvc, "kubernetes.io/pvc-protection"), &ctx, Ownership::Update);
        }
    }
    for pv in objects(state, "", "persistentvolumes", None) {
        let claim = &pv["spec"]["claimRef"];
        let claim_gone = claim.is_object()
            && state
                .get(&pvc_type.key(), claim["namespace"].as_str().unwrap_or_default(), claim["name"].as_str().unwrap_or_default())
                .is_none_or(|c| c["metadata"]["uid"] != claim["uid"]);
        let name = pv["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        if !pv["metadata"]["deletionTimestamp"].is_null() {
            if claim_gone || !claim.is_object() {
                let ctx = WriteCtx::controller("update", "pv-protection-controller", None);
                let _ = commit(state, &pv_type, Some(&pv), without_finalizer(&pv, "kubernetes.io/pv-protection"), &ctx, Ownership::Update);
            }
            continue;
        }
        if claim_gone && pv["status"]["phase"] != "Released" {
            if pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete" {
                let _ =
                    crate::api::write::delete_object(state, &pv_type, "", &name, crate::api::write::Propagation::Background, false, true);
            } else {
                set_status(state, &pv_type, &pv, json!({"phase": "Released"}));
            }
        }
    }
}
