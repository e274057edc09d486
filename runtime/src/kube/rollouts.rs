//! The health of a stack's workloads as a whole: after apply's steps ran (or when there was
//! nothing to do), and as a note in `plan` and `drift`. Success is health — an apply that wrote
//! nothing is still not done while a workload it manages cannot start.
//!
//! The workloads are judged from the objects the snapshot already holds (its LISTs return
//! status), plus the ReplicaSets and pods of their namespaces: one LIST per kind per namespace,
//! never a request per workload. Those still rolling out are looked at again with the same
//! economy per round (one labelled LIST per workload kind, then the namespaces' ReplicaSets and
//! pods; Deployments, StatefulSets, DaemonSets and Jobs — a CronJob runs on its schedule) until ready, failed, or the timeout. The verdicts come from the pure [`health`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::stream::{self, StreamExt, TryStreamExt};
use kube::api::{ApiResource, DynamicObject, ListParams};
use serde_json::Value as Json;

use super::health::{self, Health};
use super::{retry, Kube, KubeError};
use crate::model::{Desired, DesiredObject, ObjectKey, Snapshot, STACK_LABEL};

/// The kinds judged, by group. A CronJob is never waited for: it runs on its schedule.
const KINDS: &[(&str, &str)] = &[("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("batch", "Job")];
/// How often a rollout is looked at again.
const POLL: Duration = Duration::from_millis(500);
/// LISTs in flight at once.
const CONCURRENT: usize = 8;

/// A workload that is not healthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unhealthy {
    pub key: ObjectKey,
    /// The resource that declares it (`workload.web`).
    pub address: String,
    /// [`Health::Failed`] (a rollout that timed out included) or [`Health::Progressing`].
    pub health: Health,
}

impl Unhealthy {
    /// What is wrong or still awaited, naming the pod or replica set.
    pub fn cause(&self) -> &str {
        match &self.health {
            Health::Failed(m) | Health::Progressing(m) => m,
            Health::Ready => "ready",
        }
    }

    /// `failed` or `progressing`, as plan JSON says it.
    pub fn state(&self) -> &'static str {
        match self.health {
            Health::Failed(_) => "failed",
            Health::Progressing(_) => "progressing",
            Health::Ready => "ready",
        }
    }
}

/// What a health pass found and what it cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The workloads not healthy, in the order given.
    pub unhealthy: Vec<Unhealthy>,
    /// LIST requests made.
    pub requests: usize,
}

/// Whether an object is a workload the pass judges.
pub fn is_workload(key: &ObjectKey) -> bool {
    KINDS.contains(&(key.group(), key.kind.as_str())) && key.namespace.is_some()
}

/// The objects of `desired` at `indexes` that are workloads apply waits for (`wait = true`).
pub fn waited_workloads<'a, 'k>(desired: &'a Desired, keys: impl IntoIterator<Item = &'k ObjectKey>) -> Vec<&'a DesiredObject> {
    let by_key = desired.by_key();
    keys.into_iter().filter_map(|k| by_key.get(k).copied()).filter(|o| o.wait && is_workload(&o.key)).collect()
}

/// One look, no waiting (`plan`, `drift`): failed and still-progressing workloads among
/// `workloads`, judged from their objects in `snapshot`. Workloads not in the cluster are left
/// out (the plan creates them).
pub async fn look(kube: &Kube, workloads: &[&DesiredObject], snapshot: &Snapshot) -> Result<Verdict, KubeError> {
    let mut verdict = Verdict::default();
    let live = in_snapshot(workloads, snapshot);
    for (w, h) in judge(kube, &live, &mut verdict.requests).await? {
        if h != Health::Ready {
            verdict.unhealthy.push(Unhealthy { key: w.key.clone(), address: w.address.clone(), health: h });
        }
    }
    verdict.requests += super::claims::explain(kube, workloads, &mut verdict.unhealthy).await;
    Ok(verdict)
}

/// Judges `workloads` as [`look`] does, then looks again at those still rolling out until each
/// is ready or failed; at `timeout` the rest fail as timed out. `on_wait` hears once which
/// are being waited for. What it returns is all [`Health::Failed`].
pub async fn settle(
    kube: &Kube,
    stack: &str,
    workloads: &[&DesiredObject],
    snapshot: &Snapshot,
    timeout: Duration,
    on_wait: &mut dyn FnMut(&[Unhealthy]),
) -> Result<Verdict, KubeError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut verdict = Verdict::default();
    let mut live = in_snapshot(workloads, snapshot);
    let mut told = false;
    loop {
        let mut progressing = Vec::new();
        for (w, h) in judge(kube, &live, &mut verdict.requests).await? {
            match h {
                Health::Ready => {}
                Health::Failed(_) => verdict.unhealthy.push(Unhealthy { key: w.key.clone(), address: w.address.clone(), health: h }),
                Health::Progressing(_) => progressing.push(Unhealthy { key: w.key.clone(), address: w.address.clone(), health: h }),
            }
        }
        if progressing.is_empty() {
            verdict.requests += super::claims::explain(kube, workloads, &mut verdict.unhealthy).await;
            return Ok(verdict);
        }
        if tokio::time::Instant::now() >= deadline {
            for mut p in progressing {
                p.health = Health::Failed(format!("timed out after {}s: {}", timeout.as_secs(), p.cause()));
                verdict.unhealthy.push(p);
            }
            verdict.requests += super::claims::explain(kube, workloads, &mut verdict.unhealthy).await;
            return Ok(verdict);
        }
        if !told {
            on_wait(&progressing);
            told = true;
        }
        tokio::time::sleep(POLL).await;
        let again: Vec<&DesiredObject> = workloads.iter().copied().filter(|w| progressing.iter().any(|p| p.key == w.key)).collect();
        let fresh = relist(kube, stack, &again, &mut verdict.requests).await?;
        live = Vec::new();
        for w in again {
            match fresh.get(&w.key) {
                Some(obj) => live.push((w, obj.clone())),
                None => verdict.unhealthy.push(Unhealthy {
                    key: w.key.clone(),
                    address: w.address.clone(),
                    health: Health::Failed(format!("{} disappeared while cairn waited for it", w.key)),
                }),
            }
        }
    }
}

/// The workloads the snapshot holds, with their live objects.
fn in_snapshot<'a>(workloads: &[&'a DesiredObject], snapshot: &Snapshot) -> Vec<(&'a DesiredObject, Json)> {
    workloads.iter().filter_map(|w| snapshot.owned.get(&w.key).map(|obj| (*w, obj.clone()))).collect()
}

/// The health of each workload, from its object and the ReplicaSets and pods of its namespace
/// that its selector matches.
async fn judge<'a>(
    kube: &Kube,
    live: &[(&'a DesiredObject, Json)],
    requests: &mut usize,
) -> Result<Vec<(&'a DesiredObject, Health)>, KubeError> {
    // Namespace → whether it holds a Deployment (only those need ReplicaSets).
    let mut namespaces: BTreeMap<String, bool> = BTreeMap::new();
    for (w, _) in live {
        if let Some(ns) = &w.key.namespace {
            *namespaces.entry(ns.clone()).or_default() |= w.key.kind == "Deployment";
        }
    }
    let pod = ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&());
    let replica_set = ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&());
    let mut calls: Vec<(String, ApiResource)> = Vec::new();
    for (ns, deployments) in &namespaces {
        calls.push((ns.clone(), pod.clone()));
        if *deployments {
            calls.push((ns.clone(), replica_set.clone()));
        }
    }
    *requests += calls.len();
    let lists: Vec<(String, String, Vec<Json>)> = stream::iter(calls.into_iter().map(|(ns, ar)| async move {
        let api: kube::Api<DynamicObject> = kube::Api::namespaced_with(kube.client().clone(), &ns, &ar);
        let lp = ListParams::default();
        let list = retry(|| api.list(&lp)).await.map_err(|e| KubeError::of(format!("list {} in namespace {ns}", ar.plural), e))?;
        let items = list.items.iter().map(|o| super::to_json(o, &ar)).collect();
        Ok::<_, KubeError>((ns, ar.kind, items))
    }))
    .buffered(CONCURRENT)
    .try_collect()
    .await?;
    let mut by_ns: BTreeMap<(&str, &str), &[Json]> = BTreeMap::new();
    for (ns, kind, items) in &lists {
        by_ns.insert((ns.as_str(), kind.as_str()), items.as_slice());
    }
    Ok(live
        .iter()
        .map(|(w, obj)| {
            let ns = w.key.namespace.as_deref().unwrap_or_default();
            let selector = obj.pointer("/spec/selector").cloned().unwrap_or(Json::Null);
            let matching = |kind: &str| -> Vec<Json> {
                by_ns.get(&(ns, kind)).map_or(&[][..], |v| *v).iter().filter(|o| selects(&selector, o)).cloned().collect()
            };
            (*w, health::workload(obj, &matching("ReplicaSet"), &matching("Pod")))
        })
        .collect())
}

/// The stack's objects of the workloads' kinds again: one labelled LIST per kind.
async fn relist(
    kube: &Kube,
    stack: &str,
    workloads: &[&DesiredObject],
    requests: &mut usize,
) -> Result<BTreeMap<ObjectKey, Json>, KubeError> {
    let kinds: BTreeSet<(&str, &str)> = workloads.iter().map(|w| (w.key.api_version.as_str(), w.key.kind.as_str())).collect();
    let lp = ListParams::default().labels(&format!("{STACK_LABEL}={stack}"));
    let mut found = BTreeMap::new();
    for (api_version, kind) in kinds {
        let Some(r) = kube.resolve(api_version, kind).await? else { continue };
        let api: kube::Api<DynamicObject> = kube::Api::all_with(kube.client().clone(), &r.resource);
        *requests += 1;
        let list = retry(|| api.list(&lp)).await.map_err(|e| KubeError::of(format!("list {}", r.resource.plural), e))?;
        for o in &list.items {
            let obj = super::to_json(o, &r.resource);
            if let Some(key) = ObjectKey::of(&obj) {
                found.insert(key, obj);
            }
        }
    }
    Ok(found)
}

/// Whether a label selector (`matchLabels`, `matchExpressions`) selects `obj`. An empty or
/// missing selector selects nothing (as for workloads).
fn selects(selector: &Json, obj: &Json) -> bool {
    let labels = obj.pointer("/metadata/labels").and_then(Json::as_object);
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Json::as_str);
    let match_labels = selector.get("matchLabels").and_then(Json::as_object);
    let expressions = selector.get("matchExpressions").and_then(Json::as_array);
    if match_labels.is_none_or(|m| m.is_empty()) && expressions.is_none_or(|e| e.is_empty()) {
        return false;
    }
    let labels_ok = match_labels.is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    let expressions_ok = expressions.is_none_or(|es| {
        es.iter().all(|e| {
            let key = e.get("key").and_then(Json::as_str).unwrap_or_default();
            let values: Vec<&str> =
                e.get("values").and_then(Json::as_array).map(|v| v.iter().filter_map(Json::as_str).collect()).unwrap_or_default();
            match e.get("operator").and_then(Json::as_str) {
                Some("In") => label(key).is_some_and(|l| values.contains(&l)),
                Some("NotIn") => label(key).is_none_or(|l| !values.contains(&l)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => false,
            }
        })
    });
    labels_ok && expressions_ok
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn selectors_match_labels_and_expressions() {
        let pod = json!({ "metadata": { "labels": { "app": "web", "tier": "front" } } });
        assert!(selects(&json!({ "matchLabels": { "app": "web" } }), &pod));
        assert!(!selects(&json!({ "matchLabels": { "app": "api" } }), &pod));
        assert!(selects(&json!({ "matchExpressions": [{ "key": "tier", "operator": "In", "values": ["front", "back"] }] }), &pod));
        assert!(!selects(
            &json!({ "matchLabels": { "app": "web" }, "matchExpressions": [{ "key": "tier", "operator": "DoesNotExist" }] }),
            &pod
        ));
        assert!(selects(&json!({ "matchExpressions": [{ "key": "zone", "operator": "NotIn", "values": ["a"] }] }), &pod));
        // An empty selector selects nothing here (a workload's never is).
        assert!(!selects(&json!({}), &pod));
        assert!(!selects(&Json::Null, &pod));
    }

    #[test]
    fn only_waited_apps_workloads_are_judged() {
        let object = |api_version: &str, kind: &str, name: &str, wait: bool| DesiredObject {
            key: ObjectKey { api_version: api_version.into(), kind: kind.into(), namespace: Some("shop".into()), name: name.into() },
            address: format!("{kind}.{name}"),
            body: Json::Null,
            sensitive: Vec::new(),
            protect: false,
            wait,
            deps: Vec::new(),
        };
        let desired = Desired {
            stack: "shop".into(),
            objects: vec![
                object("apps/v1", "Deployment", "a", true),
                object("apps/v1", "StatefulSet", "b", true),
                object("apps/v1", "Deployment", "c", false),
                object("v1", "ConfigMap", "d", true),
                object("example.com/v1", "Deployment", "e", true),
                object("apps/v1", "DaemonSet", "f", true),
                object("batch/v1", "Job", "g", true),
                object("batch/v1", "CronJob", "h", true),
            ],
            existing: vec![],
        };
        let kinds: Vec<&str> =
            waited_workloads(&desired, desired.objects.iter().map(|o| &o.key)).iter().map(|o| o.key.kind.as_str()).collect();
        assert_eq!(kinds, ["Deployment", "StatefulSet", "DaemonSet", "Job"]);
        let unknown = ObjectKey { name: "nope".into(), ..desired.objects[0].key.clone() };
        assert_eq!(waited_workloads(&desired, [&desired.objects[1].key, &unknown]).len(), 1);
    }
}
