//! The StatefulSet controller: pods `<name>-<ordinal>` with claims from the claim templates,
//! created in ordinal order (`OrderedReady` waits for each to be running and ready; `Parallel`
//! does not), removed from the highest ordinal down, and replaced by `RollingUpdate` from the
//! highest ordinal down, one at a time, each waiting for the one before to be ready — so a
//! template whose pod never becomes ready stops the rollout there, the lower ordinals keeping
//! the old revision. As in Kubernetes, an `OrderedReady` set then waits for that broken pod
//! even after its template is reverted, until someone deletes the pod.

use serde_json::{json, Value};

use super::workloads::{adopt_orphans, alive, create_pod, hash, owned_by, pod_ready};
use super::{events, objects, rtype, set_status, MANAGER};
use crate::api::write::{commit, delete_object, Ownership, Propagation, WriteCtx};
use crate::registry::ResourceType;
use crate::store::State;

const COMPONENT: &str = "statefulset-controller";
const REVISION_LABEL: &str = "controller-revision-hash";

fn ordinal(pod: &Value) -> Option<i64> {
    pod["metadata"]["name"].as_str().and_then(|n| n.rsplit('-').next()).and_then(|o| o.parse::<i64>().ok())
}

fn revision_of(pod: &Value) -> &str {
    pod["metadata"]["labels"][REVISION_LABEL].as_str().unwrap_or_default()
}

fn finished(pod: &Value) -> bool {
    matches!(pod["status"]["phase"].as_str(), Some("Failed" | "Succeeded"))
}

/// The pod template a ControllerRevision holds (`data.spec.template` without `$patch`).
fn revision_template(state: &State, ns: &str, name: &str) -> Option<Value> {
    let revisions = objects(state, "apps", "controllerrevisions", Some(ns));
    let rev = revisions.iter().find(|r| r["metadata"]["name"].as_str() == Some(name))?;
    let mut template = rev["data"]["spec"]["template"].clone();
    template.as_object_mut()?.remove("$patch");
    Some(template)
}

/// What one pass works with: the set, its revisions and the types it writes.
struct Set<'a> {
    sts: &'a Value,
    ns: String,
    name: String,
    current_revision: String,
    update_revision: String,
    pod_type: &'a ResourceType,
    pvc_type: &'a ResourceType,
}

/// One pass over all StatefulSets.
pub fn reconcile(state: &mut State) {
    let (Some(sts_type), Some(pvc_type), Some(pod_type)) =
        (rtype(state, "apps", "statefulsets"), rtype(state, "", "persistentvolumeclaims"), rtype(state, "", "pods"))
    else {
        return;
    };
    for sts in objects(state, "apps", "statefulsets", None) {
        if !alive(&sts) {
            continue;
        }
        let ns = sts["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
        let name = sts["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let template_hash = hash(&sts["spec"]["template"]);
        let update_revision = format!("{name}-{template_hash}");
        super::revisions::record(state, &sts, &update_revision, &template_hash);
        let current_revision = sts["status"]["currentRevision"]
            .as_str()
            .filter(|r| revision_template(state, &ns, r).is_some())
            .map_or_else(|| update_revision.clone(), str::to_owned);
        adopt_orphans(state, &pod_type, &sts, &ns);
        let set = Set { sts: &sts, ns, name, current_revision, update_revision, pod_type: &pod_type, pvc_type: &pvc_type };
        sync(state, &set);
        let status = status(state, &set);
        set_status(state, &sts_type, &sts, status);
    }
}

fn pods_of(state: &State, set: &Set) -> Vec<Value> {
    let pods = objects(state, "", "pods", Some(&set.ns));
    owned_by(&pods, set.sts).filter(|p| alive(p)).cloned().collect()
}

fn delete_pod(state: &mut State, set: &Set, pod_name: &str) {
    if delete_object(state, set.pod_type, &set.ns, pod_name, Propagation::Background, false, true).is_ok() {
        let message = format!("delete Pod {pod_name} in StatefulSet {} successful", set.name);
        events::record_each(state, set.sts, "Normal", "SuccessfulDelete", &message, COMPONENT);
    }
}

/// `updateStatefulSet`: replicas in ordinal order, then the condemned, then the rolling update.
fn sync(state: &mut State, set: &Set) {
    let sts = set.sts;
    let want = sts["spec"]["replicas"].as_i64().unwrap_or(1);
    let monotonic = sts["spec"]["podManagementPolicy"] != "Parallel";
    let rolling = sts["spec"]["updateStrategy"]["type"].as_str().unwrap_or("RollingUpdate") == "RollingUpdate";
    let partition = sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"].as_i64().unwrap_or(0);
    let pods = pods_of(state, set);
    let at = |i: i64| pods.iter().find(|p| ordinal(p) == Some(i));
    // Each replica in turn: a finished pod is replaced, a missing one created; in order, each
    // waits for the one before it to be running and ready.
    for i in 0..want {
        match at(i) {
            Some(pod) if finished(pod) => {
                delete_pod(state, set, pod["metadata"]["name"].as_str().unwrap_or_default());
                if monotonic {
                    return;
                }
            }
            Some(pod) if !pod_ready(pod) && monotonic => return,
            Some(_) => {}
            None => {
                let revision = if rolling && i < partition { &set.current_revision } else { &set.update_revision };
                let created = create(state, set, i, revision);
                if monotonic || !created {
                    return;
                }
            }
        }
    }
    // Pods beyond the replicas go, highest ordinal first (one at a time in order).
    let mut condemned: Vec<&Value> = pods.iter().filter(|p| ordinal(p).is_some_and(|o| o >= want)).collect();
    condemned.sort_by_key(|p| std::cmp::Reverse(ordinal(p)));
    for pod in condemned {
        delete_pod(state, set, pod["metadata"]["name"].as_str().unwrap_or_default());
        if monotonic {
            return;
        }
    }
    if !rolling {
        return;
    }
    // The rolling update: the highest ordinal not at the update revision goes; an unready
    // updated pod stops the rollout.
    for i in (partition.max(0)..want).rev() {
        let Some(pod) = at(i) else { return };
        if revision_of(pod) != set.update_revision {
            delete_pod(state, set, pod["metadata"]["name"].as_str().unwrap_or_default());
            return;
        }
        if !pod_ready(pod) {
            return;
        }
    }
}

/// Creates pod `i` at `revision`, its claims first; whether the pod was created.
fn create(state: &mut State, set: &Set, i: i64, revision: &str) -> bool {
    let sts = set.sts;
    let name = &set.name;
    let pod_name = format!("{name}-{i}");
    let template = if revision == set.update_revision {
        sts["spec"]["template"].clone()
    } else {
        revision_template(state, &set.ns, revision).unwrap_or_else(|| sts["spec"]["template"].clone())
    };
    // Claims first; they carry no owner references under the default `Retain` policy.
    let mut volumes: Vec<Value> = template["spec"]["volumes"].as_array().cloned().unwrap_or_default();
    for t in sts["spec"]["volumeClaimTemplates"].as_array().into_iter().flatten() {
        let tname = t["metadata"]["name"].as_str().unwrap_or_default();
        let claim = format!("{tname}-{pod_name}");
        if state.get(&set.pvc_type.key(), &set.ns, &claim).is_none() {
            let mut labels = sts["spec"]["selector"]["matchLabels"].clone();
            for (k, v) in t["metadata"]["labels"].as_object().into_iter().flatten() {
                labels[k] = v.clone();
            }
            let pvc = json!({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim, "namespace": set.ns, "labels": labels},
                "spec": t["spec"]
            });
            let ctx = WriteCtx::controller("create", MANAGER, None);
            if let Err(e) = commit(state, set.pvc_type, None, pvc, &ctx, Ownership::Update) {
                let message = format!("create Claim {claim} for Pod {pod_name} in StatefulSet {name} failed error: {}", e.message);
                events::record(state, sts, "Warning", "FailedCreate", &message, COMPONENT);
            }
        }
        volumes.retain(|v| v["name"].as_str() != Some(tname));
        volumes.push(json!({"name": tname, "persistentVolumeClaim": {"claimName": claim}}));
    }
    let mut template = template;
    if !volumes.is_empty() {
        template["spec"]["volumes"] = json!(volumes);
    }
    let labels =
        json!({"statefulset.kubernetes.io/pod-name": pod_name, REVISION_LABEL: revision, "apps.kubernetes.io/pod-index": i.to_string()});
    match create_pod(state, sts, &template, Some(pod_name.clone()), labels, None) {
        Ok(_) => {
            let message = format!("create Pod {pod_name} in StatefulSet {name} successful");
            events::record_each(state, sts, "Normal", "SuccessfulCreate", &message, COMPONENT);
            true
        }
        Err(message) => {
            let message = format!("create Pod {pod_name} in StatefulSet {name} failed error: {message}");
            events::record(state, sts, "Warning", "FailedCreate", &message, COMPONENT);
            false
        }
    }
}

/// `updateStatus` and `completeRollingUpdate`: counts by revision; the current revision becomes
/// the update revision once every pod is updated and ready.
fn status(state: &State, set: &Set) -> Value {
    let pods = pods_of(state, set);
    let count = |f: &dyn Fn(&Value) -> bool| pods.iter().filter(|p| f(p)).count() as i64;
    let replicas = pods.len() as i64;
    let ready = count(&|p| pod_ready(p));
    let mut current = count(&|p| revision_of(p) == set.current_revision);
    let updated = count(&|p| revision_of(p) == set.update_revision);
    let mut current_revision = set.current_revision.clone();
    let rolling = set.sts["spec"]["updateStrategy"]["type"].as_str().unwrap_or("RollingUpdate") == "RollingUpdate";
    if rolling && updated == replicas && ready == replicas {
        current = updated;
        current_revision = set.update_revision.clone();
    }
    let mut status = json!({
        "observedGeneration": set.sts["metadata"]["generation"],
        "replicas": replicas, "readyReplicas": ready, "currentReplicas": current, "updatedReplicas": updated, "availableReplicas": ready,
        "currentRevision": current_revision, "updateRevision": set.update_revision, "collisionCount": 0
    });
    for zero in ["readyReplicas", "availableReplicas", "currentReplicas", "updatedReplicas"] {
        if status[zero] == 0 {
            if let Some(m) = status.as_object_mut() {
                m.remove(zero);
            }
        }
    }
    status
}
