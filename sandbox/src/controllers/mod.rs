//! The sandbox's controllers: what kube-controller-manager, the kubelet, a CSI provisioner and
//! Rook's operator would do, simulated in one pass over the state after every write and on a
//! short tick. Their writes go through the same [`commit`](crate::api::write::commit) as a
//! client's and are logged with `controller: true`.

mod autoscalers;
mod buckets;
mod daemonsets;
mod deployments;
pub mod disruption;
pub mod events;
pub mod gc;
mod ingresses;
mod jobs;
mod namespaces;
mod quota;
mod revisions;
mod rook;
mod statefulsets;
mod volumes;
mod workloads;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::api::write::{commit, Ownership, WriteCtx};
use crate::cluster::Cluster;
use crate::registry::{ResourceType, TypeKey};
use crate::store::State;

/// The manager name controllers write under.
pub const MANAGER: &str = "kube-controller-manager";

/// Runs the controllers until the server stops.
pub async fn run(cluster: Arc<Cluster>) {
    let mut seen = u64::MAX;
    loop {
        tokio::select! {
            _ = cluster.wake_controllers.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        // Controllers only react to changes: a quiet cluster costs nothing.
        seen = cluster.with(|state| {
            if state.resource_version != seen || namespaces::terminating(state) || autoscalers::due(state) || deployments::due(state) {
                reconcile(state);
            }
            state.resource_version
        });
    }
}

/// One full reconciliation, repeated until nothing changes. Rollouts take a round per step
/// (a paced Deployment, a StatefulSet pod by pod), so the bound is generous; a quiet cluster
/// stops after one round.
pub fn reconcile(state: &mut State) {
    for _ in 0..64 {
        let before = state.resource_version;
        gc::collect(state);
        namespaces::finalize(state);
        workloads::reconcile(state);
        autoscalers::reconcile(state);
        disruption::reconcile(state);
        ingresses::reconcile(state);
        volumes::bind(state);
        volumes::protect_and_reclaim(state);
        quota::update(state);
        rook::reconcile(state);
        buckets::provision(state);
        buckets::release(state);
        crds(state);
        if state.resource_version == before {
            break;
        }
    }
}

/// The served type of a group and plural (`None` only for types the sandbox does not serve).
pub fn rtype(state: &State, group: &str, plural: &str) -> Option<ResourceType> {
    state.registry.find_key(&TypeKey { group: group.into(), plural: plural.into() }).cloned()
}

/// Objects of a type (cloned, so the state can be written while iterating).
pub fn objects(state: &State, group: &str, plural: &str, namespace: Option<&str>) -> Vec<Value> {
    state.list(&TypeKey { group: group.into(), plural: plural.into() }, namespace).cloned().collect()
}

/// Writes a new status for `obj` if it differs from the current one.
pub fn set_status(state: &mut State, rtype: &ResourceType, obj: &Value, status: Value) {
    if obj["status"] == status {
        return;
    }
    let mut next = obj.clone();
    next["status"] = status;
    let ctx = WriteCtx::controller("status", MANAGER, Some("status"));
    let _ = commit(state, rtype, Some(obj), next, &ctx, Ownership::Update);
}

/// `obj` without one finalizer (what a controller writes when its cleanup is done).
pub fn without_finalizer(obj: &Value, finalizer: &str) -> Value {
    let mut next = obj.clone();
    let rest: Vec<Value> = obj["metadata"]["finalizers"].as_array().into_iter().flatten().filter(|f| *f != finalizer).cloned().collect();
    next["metadata"]["finalizers"] = serde_json::json!(rest);
    next
}

fn crds(state: &mut State) {
    let Some(t) = rtype(state, "apiextensions.k8s.io", "customresourcedefinitions") else { return };
    let pending: Vec<Value> = state.list(&t.key(), None).filter(|crd| !crd["status"]["conditions"].is_array()).cloned().collect();
    for crd in pending {
        let mut next = crd.clone();
        crate::crds::set_established(&mut next, &crate::store::now());
        set_status(state, &t, &crd, next["status"].clone());
    }
}
