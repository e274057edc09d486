//! The Deployment controller: one ReplicaSet per pod template, rolled out as kube-controller-manager
//! does it — `RollingUpdate` within `maxSurge`/`maxUnavailable` (old pods go only as new ones
//! become available, so a template whose pods never become ready stalls with the old pods
//! serving), `Recreate` old pods first; revision numbers, history trimmed to
//! `revisionHistoryLimit`, and the `Available`/`Progressing` conditions with the progress deadline.

use serde_json::{json, Value};

use super::workloads::{alive, hash, owned_by, owner_ref};
use super::{events, objects, rtype, set_status, MANAGER};
use crate::api::write::{commit, delete_object, Ownership, Propagation, WriteCtx};
use crate::registry::ResourceType;
use crate::store::{self, State};

const COMPONENT: &str = "deployment-controller";
const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX: &str = "deployment.kubernetes.io/max-replicas";
/// Deployment annotations the controller does not copy to its ReplicaSets.
const NOT_COPIED: [&str; 5] = [REVISION, REVISION_HISTORY, DESIRED, MAX, "kubectl.kubernetes.io/last-applied-configuration"];

fn replicas(obj: &Value) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

fn status_of(obj: &Value, field: &str) -> i64 {
    obj["status"][field].as_i64().unwrap_or(0)
}

fn revision(rs: &Value) -> i64 {
    rs["metadata"]["annotations"][REVISION].as_str().and_then(|r| r.parse().ok()).unwrap_or(0)
}

fn name_of(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

/// An `IntOrString` of a rolling update against `total`: a percentage rounds up or down.
fn resolve(value: &Value, total: i64, round_up: bool) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) if round_up => (p * total + 99) / 100,
            Some(p) => p * total / 100,
            None => 0,
        },
        _ => 0,
    }
}

/// `(maxSurge, maxUnavailable)` as `ResolveFenceposts` computes them: both zero means one may
/// be unavailable. `Recreate` has neither.
fn fenceposts(dep: &Value) -> (i64, i64) {
    if dep["spec"]["strategy"]["type"].as_str().unwrap_or("RollingUpdate") != "RollingUpdate" {
        return (0, 0);
    }
    let rolling = &dep["spec"]["strategy"]["rollingUpdate"];
    let want = replicas(dep);
    let surge = resolve(&rolling["maxSurge"], want, true);
    let unavailable = resolve(&rolling["maxUnavailable"], want, false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// `MaxUnavailable` of the Available condition: never more than the replicas.
fn max_unavailable(dep: &Value) -> i64 {
    let want = replicas(dep);
    if want == 0 || dep["spec"]["strategy"]["type"].as_str().unwrap_or("RollingUpdate") != "RollingUpdate" {
        return 0;
    }
    fenceposts(dep).1.min(want)
}

/// The progress deadline, `None` when it is unset (or `MaxInt32`, which means none).
fn deadline(dep: &Value) -> Option<i64> {
    dep["spec"]["progressDeadlineSeconds"].as_i64().filter(|d| *d != i64::from(i32::MAX))
}

/// The pod template with its keys sorted and without `null`s and empty maps and lists, which
/// the controller's semantic comparison does not tell from absent fields: a template kubectl
/// sends back from a ReplicaSet (`rollout undo` marshals Go structs in field order, with
/// `creationTimestamp: null`) is then the template it came from.
fn normalized(value: &Value) -> Value {
    let empty = |v: &Value| v.is_null() || v.as_object().is_some_and(|m| m.is_empty()) || v.as_array().is_some_and(|a| a.is_empty());
    match value {
        Value::Object(map) => {
            // Keys in order: a patch may reorder them (Go writes struct fields in its own order).
            let mut fields: Vec<(String, Value)> = map.iter().map(|(k, v)| (k.clone(), normalized(v))).filter(|(_, v)| !empty(v)).collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(fields.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

/// The `pod-template-hash` of a Deployment's template.
fn template_hash(template: &Value) -> String {
    hash(&normalized(template))
}

/// Whether the Deployment's rollout is complete by the status just computed.
fn complete(dep: &Value, status: &Value) -> bool {
    let want = replicas(dep);
    let count = |field: &str| status[field].as_i64().unwrap_or(0);
    count("updatedReplicas") == want
        && count("replicas") == want
        && count("availableReplicas") == want
        && status["observedGeneration"].as_i64() >= dep["metadata"]["generation"].as_i64()
}

/// Whether some Deployment's progress deadline has passed since its last progress (the
/// controller requeues such a Deployment; here the tick asks).
pub fn due(state: &State) -> bool {
    let now = jiff::Timestamp::now().as_second();
    let key = crate::registry::TypeKey { group: "apps".into(), plural: "deployments".into() };
    state.list(&key, None).any(|dep| {
        let Some(seconds) = deadline(dep) else { return false };
        condition(dep, "Progressing").is_some_and(|c| {
            c["status"] == "True"
                && c["reason"] != "NewReplicaSetAvailable"
                && c["lastUpdateTime"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|t| t.as_second() + seconds < now)
        })
    })
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == kind)
}

/// `SetDeploymentCondition`: nothing changes when status and reason are the same; the
/// transition time stays while the status does; the condition moves to the end.
fn set_condition(conditions: &mut Vec<Value>, mut next: Value) {
    if let Some(current) = conditions.iter().find(|c| c["type"] == next["type"]) {
        if current["status"] == next["status"] && current["reason"] == next["reason"] {
            return;
        }
        if current["status"] == next["status"] {
            next["lastTransitionTime"] = current["lastTransitionTime"].clone();
        }
    }
    conditions.retain(|c| c["type"] != next["type"]);
    conditions.push(next);
}

fn new_condition(kind: &str, status: bool, reason: &str, message: String) -> Value {
    let now = store::now();
    json!({"type": kind, "status": if status { "True" } else { "False" }, "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
}

/// One pass over all Deployments.
pub fn reconcile(state: &mut State) {
    let (Some(rs_type), Some(dep_type)) = (rtype(state, "apps", "replicasets"), rtype(state, "apps", "deployments")) else { return };
    for dep in objects(state, "apps", "deployments", None) {
        if alive(&dep) {
            sync(state, &rs_type, &dep_type, dep);
        }
    }
}

/// The ReplicaSets a Deployment controls, alive ones only.
fn owned_replica_sets(state: &State, dep: &Value) -> Vec<Value> {
    let ns = dep["metadata"]["namespace"].as_str().unwrap_or_default();
    let all = objects(state, "apps", "replicasets", Some(ns));
    owned_by(&all, dep).filter(|rs| alive(rs)).cloned().collect()
}

fn sync(state: &mut State, rs_type: &ResourceType, dep_type: &ResourceType, mut dep: Value) {
    let hash = template_hash(&dep["spec"]["template"]);
    let is_new = |rs: &Value| rs["metadata"]["labels"]["pod-template-hash"].as_str() == Some(hash.as_str());
    let owned = owned_replica_sets(state, &dep);
    let max_old_revision = owned.iter().filter(|rs| !is_new(rs)).map(revision).max().unwrap_or(0);
    let new_revision = max_old_revision + 1;
    let mut conditions: Vec<Value> = dep["status"]["conditions"].as_array().cloned().unwrap_or_default();
    let recreate = dep["spec"]["strategy"]["type"] == "Recreate";
    let paused = dep["spec"]["paused"] == true;
    let mut new_rs = owned.iter().find(|rs| is_new(rs)).cloned();
    // A template equal to an old ReplicaSet's reuses it, with the next revision.
    if let Some(rs) = &new_rs {
        if revision(rs) < new_revision && !paused {
            new_rs = Some(take_revision(state, rs_type, &dep, rs, new_revision));
        }
    }
    let old: Vec<Value> = owned.iter().filter(|rs| !is_new(rs)).cloned().collect();
    if !paused {
        if recreate {
            new_rs = rollout_recreate(state, rs_type, &dep, &hash, new_rs, &old, new_revision, &mut conditions);
        } else {
            new_rs = rollout_rolling(state, rs_type, &dep, &hash, new_rs, &old, new_revision, &mut conditions);
        }
    }
    // The Deployment's revision annotation follows its new ReplicaSet's.
    if let Some(rs) = &new_rs {
        let rev = revision(rs).to_string();
        if dep["metadata"]["annotations"][REVISION].as_str() != Some(rev.as_str()) {
            let mut next = dep.clone();
            if !next["metadata"]["annotations"].is_object() {
                next["metadata"]["annotations"] = json!({});
            }
            next["metadata"]["annotations"][REVISION] = json!(rev);
            let ctx = WriteCtx::controller("update", MANAGER, None);
            if let Ok((written, _)) = commit(state, dep_type, Some(&dep), next, &ctx, Ownership::Update) {
                dep = written;
            }
        }
    }
    let status = status(state, &dep, &hash, conditions);
    if complete(&dep, &status) && !paused {
        cleanup(state, rs_type, &dep, &hash);
    }
    set_status(state, dep_type, &dep, status);
}

/// Gives an existing ReplicaSet (the template of an earlier revision) the newest revision,
/// keeping its earlier ones in `revision-history`, and the Deployment's annotations.
fn take_revision(state: &mut State, rs_type: &ResourceType, dep: &Value, rs: &Value, new_revision: i64) -> Value {
    let mut next = rs.clone();
    if !next["metadata"]["annotations"].is_object() {
        next["metadata"]["annotations"] = json!({});
    }
    let old_revision = revision(rs);
    if old_revision > 0 {
        let history = rs["metadata"]["annotations"][REVISION_HISTORY].as_str().unwrap_or_default();
        let history = if history.is_empty() { old_revision.to_string() } else { format!("{history},{old_revision}") };
        next["metadata"]["annotations"][REVISION_HISTORY] = json!(history);
    }
    next["metadata"]["annotations"][REVISION] = json!(new_revision.to_string());
    copy_annotations(dep, &mut next);
    let ctx = WriteCtx::controller("update", MANAGER, None);
    commit(state, rs_type, Some(rs), next, &ctx, Ownership::Update).map_or_else(|_| rs.clone(), |(written, _)| written)
}

fn copy_annotations(dep: &Value, rs: &mut Value) {
    for (k, v) in dep["metadata"]["annotations"].as_object().into_iter().flatten() {
        if !NOT_COPIED.contains(&k.as_str()) {
            rs["metadata"]["annotations"][k] = v.clone();
        }
    }
}

/// Creates the ReplicaSet of the Deployment's template with `count` replicas.
#[allow(clippy::too_many_arguments)]
fn create_replica_set(
    state: &mut State,
    rs_type: &ResourceType,
    dep: &Value,
    hash: &str,
    count: i64,
    new_revision: i64,
    conditions: &mut Vec<Value>,
) -> Option<Value> {
    let ns = dep["metadata"]["namespace"].as_str().unwrap_or_default();
    let template = &dep["spec"]["template"];
    let mut labels = template["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!(hash);
    let mut selector = dep["spec"]["selector"].clone();
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut pod_template = template.clone();
    pod_template["metadata"]["labels"] = labels.clone();
    let name = format!("{}-{hash}", name_of(dep));
    let mut rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": name, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref(dep)],
            "annotations": {
                DESIRED: replicas(dep).to_string(), MAX: (replicas(dep) + fenceposts(dep).0).to_string(),
                REVISION: new_revision.to_string()
            }
        },
        "spec": {"replicas": count, "selector": selector, "template": pod_template}
    });
    if let Some(seconds) = dep["spec"]["minReadySeconds"].as_i64().filter(|s| *s > 0) {
        rs["spec"]["minReadySeconds"] = json!(seconds);
    }
    copy_annotations(dep, &mut rs);
    let ctx = WriteCtx::controller("create", MANAGER, None);
    let (created, _) = commit(state, rs_type, None, rs, &ctx, Ownership::Update).ok()?;
    if count > 0 {
        events::record_each(
            state,
            dep,
            "Normal",
            "ScalingReplicaSet",
            &format!("Scaled up replica set {name} from 0 to {count}"),
            COMPONENT,
        );
    }
    if deadline(dep).is_some() {
        set_condition(
            conditions,
            new_condition("Progressing", true, "NewReplicaSetCreated", format!("Created new replica set \"{name}\"")),
        );
    }
    Some(created)
}

/// Scales a ReplicaSet, with the Deployment's replica annotations and the event.
fn scale(state: &mut State, rs_type: &ResourceType, dep: &Value, rs: &Value, to: i64) -> Value {
    let from = rs["spec"]["replicas"].as_i64().unwrap_or(1);
    let mut next = rs.clone();
    next["spec"]["replicas"] = json!(to);
    if !next["metadata"]["annotations"].is_object() {
        next["metadata"]["annotations"] = json!({});
    }
    next["metadata"]["annotations"][DESIRED] = json!(replicas(dep).to_string());
    next["metadata"]["annotations"][MAX] = json!((replicas(dep) + fenceposts(dep).0).to_string());
    let ctx = WriteCtx::controller("update", MANAGER, None);
    let Ok((written, _)) = commit(state, rs_type, Some(rs), next, &ctx, Ownership::Update) else { return rs.clone() };
    if from != to {
        let direction = if to > from { "up" } else { "down" };
        let message = format!("Scaled {direction} replica set {} from {from} to {to}", name_of(rs));
        events::record_each(state, dep, "Normal", "ScalingReplicaSet", &message, COMPONENT);
    }
    written
}

fn spec_replicas(rs: &Value) -> i64 {
    rs["spec"]["replicas"].as_i64().unwrap_or(0)
}

/// `NewRSNewReplicas` of a rolling update: as many as the surge allows, never more than wanted.
fn new_rs_replicas(dep: &Value, new_rs: Option<&Value>, old: &[Value]) -> i64 {
    let want = replicas(dep);
    let current_new = new_rs.map_or(0, spec_replicas);
    let total: i64 = old.iter().map(spec_replicas).sum::<i64>() + current_new;
    let max_total = want + fenceposts(dep).0;
    if total >= max_total {
        return current_new;
    }
    current_new + (max_total - total).min(want - current_new).max(0)
}

#[allow(clippy::too_many_arguments)]
fn rollout_rolling(
    state: &mut State,
    rs_type: &ResourceType,
    dep: &Value,
    hash: &str,
    new_rs: Option<Value>,
    old: &[Value],
    new_revision: i64,
    conditions: &mut Vec<Value>,
) -> Option<Value> {
    let want = replicas(dep);
    // The new ReplicaSet first: up within the surge (or down to the replicas wanted).
    let Some(mut new_rs) = new_rs else {
        let count = new_rs_replicas(dep, None, old);
        return create_replica_set(state, rs_type, dep, hash, count, new_revision, conditions);
    };
    let current = spec_replicas(&new_rs);
    let target = if current > want { want } else { new_rs_replicas(dep, Some(&new_rs), old) };
    if target != current {
        new_rs = scale(state, rs_type, dep, &new_rs, target);
        if target > current {
            return Some(new_rs);
        }
    }
    // Then the old ones, only as far as availability allows.
    let old_pods: i64 = old.iter().map(spec_replicas).sum();
    if old_pods == 0 {
        return Some(new_rs);
    }
    let all_pods = old_pods + spec_replicas(&new_rs);
    let min_available = want - fenceposts(dep).1;
    let new_unavailable = spec_replicas(&new_rs) - status_of(&new_rs, "availableReplicas");
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Some(new_rs);
    }
    let mut old: Vec<Value> = old.to_vec();
    old.sort_by(|a, b| a["metadata"]["creationTimestamp"].as_str().cmp(&b["metadata"]["creationTimestamp"].as_str()));
    // Unhealthy old pods go first: they serve no one.
    let mut cleaned = 0;
    for rs in old.iter_mut() {
        if cleaned >= max_scaled_down || spec_replicas(rs) == 0 {
            continue;
        }
        let unhealthy = spec_replicas(rs) - status_of(rs, "availableReplicas");
        let down = unhealthy.min(max_scaled_down - cleaned);
        if down > 0 {
            let to = spec_replicas(rs) - down;
            *rs = scale(state, rs_type, dep, rs, to);
            cleaned += down;
        }
    }
    // Then available ones, down to the minimum available.
    let available: i64 = old.iter().chain(std::iter::once(&new_rs)).map(|rs| status_of(rs, "availableReplicas")).sum();
    if available <= min_available {
        return Some(new_rs);
    }
    let mut budget = available - min_available;
    for rs in &old {
        if budget <= 0 {
            break;
        }
        let down = spec_replicas(rs).min(budget);
        if down > 0 {
            scale(state, rs_type, dep, rs, spec_replicas(rs) - down);
            budget -= down;
        }
    }
    Some(new_rs)
}

#[allow(clippy::too_many_arguments)]
fn rollout_recreate(
    state: &mut State,
    rs_type: &ResourceType,
    dep: &Value,
    hash: &str,
    new_rs: Option<Value>,
    old: &[Value],
    new_revision: i64,
    conditions: &mut Vec<Value>,
) -> Option<Value> {
    // Old pods go first…
    let mut scaled = false;
    for rs in old.iter().filter(|rs| spec_replicas(rs) > 0) {
        scale(state, rs_type, dep, rs, 0);
        scaled = true;
    }
    let ns = dep["metadata"]["namespace"].as_str().unwrap_or_default();
    let pods = objects(state, "", "pods", Some(ns));
    let old_running = old
        .iter()
        .any(|rs| owned_by(&pods, rs).any(|p| alive(p) && !matches!(p["status"]["phase"].as_str(), Some("Failed" | "Succeeded"))));
    if scaled || old_running {
        return new_rs;
    }
    // …then the new ones, all at once.
    match new_rs {
        None => create_replica_set(state, rs_type, dep, hash, replicas(dep), new_revision, conditions),
        Some(rs) if spec_replicas(&rs) != replicas(dep) => Some(scale(state, rs_type, dep, &rs, replicas(dep))),
        Some(rs) => Some(rs),
    }
}

/// Deletes old ReplicaSets beyond `revisionHistoryLimit`, lowest revision first, but only those
/// with no replicas left.
fn cleanup(state: &mut State, rs_type: &ResourceType, dep: &Value, hash: &str) {
    let Some(limit) = dep["spec"]["revisionHistoryLimit"].as_i64() else { return };
    let mut old: Vec<Value> = owned_replica_sets(state, dep)
        .into_iter()
        .filter(|rs| rs["metadata"]["labels"]["pod-template-hash"].as_str() != Some(hash))
        .collect();
    let excess = old.len() as i64 - limit;
    if excess <= 0 {
        return;
    }
    old.sort_by(|a, b| {
        revision(a).cmp(&revision(b)).then(a["metadata"]["creationTimestamp"].as_str().cmp(&b["metadata"]["creationTimestamp"].as_str()))
    });
    let ns = dep["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
    for rs in old.iter().take(excess as usize) {
        let settled = rs["status"]["observedGeneration"].as_i64() >= rs["metadata"]["generation"].as_i64();
        if status_of(rs, "replicas") != 0 || spec_replicas(rs) != 0 || !settled {
            continue;
        }
        let _ = delete_object(state, rs_type, &ns, name_of(rs), Propagation::Background, false, true);
    }
}

/// `calculateStatus` and `syncRolloutStatus`: counts from the ReplicaSets, `Available` against
/// `maxUnavailable`, `Progressing` against the progress deadline.
fn status(state: &State, dep: &Value, hash: &str, mut conditions: Vec<Value>) -> Value {
    let owned = owned_replica_sets(state, dep);
    let sum = |field: &str| -> i64 { owned.iter().map(|rs| status_of(rs, field)).sum() };
    let new_rs = owned.iter().find(|rs| rs["metadata"]["labels"]["pod-template-hash"].as_str() == Some(hash));
    let updated = new_rs.map_or(0, |rs| status_of(rs, "replicas"));
    let (total, ready, available) = (sum("replicas"), sum("readyReplicas"), sum("availableReplicas"));
    let desired_total: i64 = owned.iter().map(spec_replicas).sum();
    let want = replicas(dep);
    let mut status = json!({
        "observedGeneration": dep["metadata"]["generation"],
        "replicas": total, "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
    });
    if desired_total - available > 0 {
        status["unavailableReplicas"] = json!(desired_total - available);
    }
    if available >= want - max_unavailable(dep) {
        set_condition(
            &mut conditions,
            new_condition("Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability.".into()),
        );
    } else {
        set_condition(
            &mut conditions,
            new_condition("Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.".into()),
        );
    }
    match owned
        .iter()
        .flat_map(|rs| rs["status"]["conditions"].as_array().cloned().unwrap_or_default())
        .find(|c| c["type"] == "ReplicaFailure")
    {
        Some(failure) => set_condition(&mut conditions, failure),
        None => conditions.retain(|c| c["type"] != "ReplicaFailure"),
    }
    let rs_name = new_rs.map(|rs| name_of(rs).to_owned());
    let what = |verb: &str| match &rs_name {
        Some(n) => format!("ReplicaSet \"{n}\" {verb}"),
        None => format!("Deployment \"{}\" {verb}", name_of(dep)),
    };
    let current = conditions.iter().find(|c| c["type"] == "Progressing").cloned();
    let settled = total == updated && current.as_ref().is_some_and(|c| c["reason"] == "NewReplicaSetAvailable");
    if let Some(seconds) = deadline(dep).filter(|_| !settled && dep["spec"]["paused"] != true) {
        let old = &dep["status"];
        let progressing = updated > status_of(dep, "updatedReplicas")
            || total - updated < old["replicas"].as_i64().unwrap_or(0) - old["updatedReplicas"].as_i64().unwrap_or(0)
            || ready > status_of(dep, "readyReplicas")
            || available > status_of(dep, "availableReplicas");
        if complete(dep, &status) {
            set_condition(
                &mut conditions,
                new_condition("Progressing", true, "NewReplicaSetAvailable", what("has successfully progressed.")),
            );
        } else if progressing {
            // Progress renews `lastUpdateTime` even when the reason stays.
            let mut next = new_condition("Progressing", true, "ReplicaSetUpdated", what("is progressing."));
            if let Some(c) = current.as_ref().filter(|c| c["status"] == "True") {
                next["lastTransitionTime"] = c["lastTransitionTime"].clone();
            }
            conditions.retain(|c| c["type"] != "Progressing");
            set_condition(&mut conditions, next);
        } else if timed_out(current.as_ref(), seconds) {
            set_condition(
                &mut conditions,
                new_condition("Progressing", false, "ProgressDeadlineExceeded", what("has timed out progressing.")),
            );
        }
    }
    status["conditions"] = json!(conditions);
    for zero in ["readyReplicas", "availableReplicas", "updatedReplicas", "replicas"] {
        if status[zero] == 0 {
            if let Some(m) = status.as_object_mut() {
                m.remove(zero);
            }
        }
    }
    status
}

/// `DeploymentTimedOut`: the deadline counts from the Progressing condition's last update.
fn timed_out(current: Option<&Value>, seconds: i64) -> bool {
    let Some(c) = current else { return false };
    if c["reason"] == "NewReplicaSetAvailable" {
        return false;
    }
    if c["reason"] == "ProgressDeadlineExceeded" {
        return true;
    }
    let now = jiff::Timestamp::now().as_second();
    c["lastUpdateTime"].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()).is_some_and(|t| t.as_second() + seconds < now)
}
