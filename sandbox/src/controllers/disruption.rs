//! The disruption controller: a PodDisruptionBudget's status as kube-controller-manager 1.33
//! writes it — `expectedPods`, `currentHealthy` (ready pods the selector matches, less those
//! an eviction has just disrupted), `desiredHealthy` (from `minAvailable`, or expected pods
//! less `maxUnavailable`; percentages of the controllers' scale, rounded up),
//! `disruptionsAllowed`, `disruptedPods`, `observedGeneration` and the `DisruptionAllowed`
//! condition. The eviction subresource (`api::eviction`) reads and decrements what it writes.

use serde_json::{json, Map, Value};

use super::workloads::pod_ready;
use super::{events, objects, rtype, set_status};
use crate::selector::LabelSelector;
use crate::store::{self, State};

const COMPONENT: &str = "controllermanager";
/// How long an eviction's entry in `disruptedPods` holds before the pod is counted again.
const DELETION_TIMEOUT_SECONDS: i64 = 120;

/// The pods of `namespace` a budget's selector matches; a missing or empty selector matches
/// none (as the controller and the eviction subresource treat it).
pub fn pods_of(state: &State, pdb: &Value) -> Vec<Value> {
    let ns = pdb["metadata"]["namespace"].as_str().unwrap_or_default();
    let selector = &pdb["spec"]["selector"];
    let Ok(parsed) = LabelSelector::from_json(selector) else { return Vec::new() };
    if selector.is_null() || parsed.is_empty() {
        return Vec::new();
    }
    let empty = Map::new();
    objects(state, "", "pods", Some(ns))
        .into_iter()
        .filter(|p| parsed.matches(p["metadata"]["labels"].as_object().unwrap_or(&empty)))
        .collect()
}

/// Whether a pod is ready (counts as healthy).
pub fn ready(pod: &Value) -> bool {
    pod_ready(pod)
}

/// `intstr.GetScaledValueFromIntOrPercent(value, total, roundUp)`.
pub fn scaled(value: &Value, total: i64, round_up: bool) -> Result<i64, String> {
    match value {
        Value::Number(n) => Ok(n.as_i64().unwrap_or(0)),
        Value::String(s) => {
            let percent = s
                .strip_suffix('%')
                .and_then(|p| p.parse::<i64>().ok())
                .ok_or_else(|| format!("invalid value for IntOrString: invalid value {s:?}"))?;
            let product = percent * total;
            Ok(if round_up { (product + 99) / 100 } else { product / 100 })
        }
        _ => Ok(0),
    }
}

/// The scale of the controller of `pod` (a Deployment through its ReplicaSet, a ReplicaSet, a
/// StatefulSet), keyed by that controller's uid.
fn controller_scale(state: &State, pod: &Value) -> Result<Option<(String, i64)>, String> {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let Some(reference) = pod["metadata"]["ownerReferences"].as_array().into_iter().flatten().find(|r| r["controller"] == true) else {
        return Ok(None);
    };
    let name = reference["name"].as_str().unwrap_or_default();
    let get = |plural: &str, name: &str| rtype(state, "apps", plural).and_then(|t| state.get(&t.key(), ns, name).cloned());
    let uid_and_scale =
        |o: &Value| (o["metadata"]["uid"].as_str().unwrap_or_default().to_owned(), o["spec"]["replicas"].as_i64().unwrap_or(1));
    let found = match reference["kind"].as_str().unwrap_or_default() {
        "ReplicaSet" => get("replicasets", name).map(|rs| {
            let owner = rs["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["controller"] == true && r["kind"] == "Deployment");
            match owner.and_then(|d| get("deployments", d["name"].as_str().unwrap_or_default())) {
                Some(deployment) => uid_and_scale(&deployment),
                None => uid_and_scale(&rs),
            }
        }),
        "StatefulSet" => get("statefulsets", name).map(|s| uid_and_scale(&s)),
        _ => None,
    };
    match found {
        Some(found) => Ok(Some(found)),
        None => Err(format!("found no controllers for pod {:?}", pod["metadata"]["name"].as_str().unwrap_or_default())),
    }
}

/// `(expectedPods, desiredHealthy, unmanaged pods)` as `getExpectedPodCount` computes them.
fn expected(state: &State, pdb: &Value, pods: &[Value]) -> Result<(i64, i64, Vec<String>), String> {
    let spec = &pdb["spec"];
    let scale = || -> Result<(i64, Vec<String>), String> {
        let mut controllers: Vec<(String, i64)> = Vec::new();
        let mut unmanaged = Vec::new();
        for pod in pods {
            match controller_scale(state, pod)? {
                None => unmanaged.push(pod["metadata"]["name"].as_str().unwrap_or_default().to_owned()),
                Some((uid, n)) if !controllers.iter().any(|(u, _)| *u == uid) => controllers.push((uid, n)),
                Some(_) => {}
            }
        }
        Ok((controllers.iter().map(|(_, n)| n).sum(), unmanaged))
    };
    if !spec["maxUnavailable"].is_null() {
        let (expected, unmanaged) = scale()?;
        let max_unavailable = scaled(&spec["maxUnavailable"], expected, true)?;
        return Ok((expected, (expected - max_unavailable).max(0), unmanaged));
    }
    match &spec["minAvailable"] {
        Value::Number(n) => Ok((pods.len() as i64, n.as_i64().unwrap_or(0), Vec::new())),
        Value::String(_) => {
            let (expected, unmanaged) = scale()?;
            Ok((expected, scaled(&spec["minAvailable"], expected, true)?, unmanaged))
        }
        _ => Ok((0, 0, Vec::new())),
    }
}

/// Sets the `DisruptionAllowed` condition as `UpdateDisruptionAllowedCondition` (and
/// `meta.SetStatusCondition`: the transition time moves with the status only).
pub fn set_allowed_condition(status: &mut Value, reason_override: Option<(&str, &str)>) {
    let allowed = status["disruptionsAllowed"].as_i64().unwrap_or(0) > 0;
    let (state, reason, message) = match reason_override {
        Some((reason, message)) => ("False", reason, message),
        None if allowed => ("True", "SufficientPods", ""),
        None => ("False", "InsufficientPods", ""),
    };
    let mut conditions: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    let index = match conditions.iter().position(|c| c["type"] == "DisruptionAllowed") {
        Some(i) => i,
        None => {
            conditions.push(json!({"type": "DisruptionAllowed"}));
            conditions.len() - 1
        }
    };
    if let Some(c) = conditions.get_mut(index) {
        if c["status"] != state {
            c["lastTransitionTime"] = json!(store::now());
        }
        c["status"] = json!(state);
        c["reason"] = json!(reason);
        c["message"] = json!(message);
        c["observedGeneration"] = status["observedGeneration"].clone();
    }
    status["conditions"] = json!(conditions);
}

fn seconds(t: &str) -> Option<i64> {
    t.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// One pass over all PodDisruptionBudgets.
pub fn reconcile(state: &mut State) {
    let Some(pdb_type) = rtype(state, "policy", "poddisruptionbudgets") else { return };
    for pdb in objects(state, "policy", "poddisruptionbudgets", None) {
        if !pdb["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        let pods = pods_of(state, &pdb);
        if pods.is_empty() {
            events::record(state, &pdb, "Normal", "NoPods", "No matching pods found", COMPONENT);
        }
        let mut status = if pdb["status"].is_object() { pdb["status"].clone() } else { json!({}) };
        let (expected, desired, unmanaged) = match expected(state, &pdb, &pods) {
            Ok(found) => found,
            Err(err) => {
                let message = format!("Failed to calculate the number of expected pods: {err}");
                events::record(state, &pdb, "Warning", "CalculateExpectedPodCountFailed", &message, COMPONENT);
                // The controller's fail-safe: no disruption allowed while it cannot tell.
                status["disruptionsAllowed"] = json!(0);
                set_allowed_condition(&mut status, Some(("SyncFailed", &err)));
                set_status(state, &pdb_type, &pdb, status);
                continue;
            }
        };
        if !unmanaged.is_empty() {
            let message = format!(
                "Pods selected by this PodDisruptionBudget (selector: {}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.",
                crate::validate::go_label_selector(Some(&pdb["spec"]["selector"]))
            );
            events::record(state, &pdb, "Warning", "UnmanagedPods", &message, COMPONENT);
        }
        let now = jiff::Timestamp::now().as_second();
        let mut disrupted = Map::new();
        for pod in pods.iter().filter(|p| p["metadata"]["deletionTimestamp"].is_null()) {
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            if let Some(at) = pdb["status"]["disruptedPods"][name].as_str() {
                if seconds(at).is_some_and(|t| t + DELETION_TIMEOUT_SECONDS > now) {
                    disrupted.insert(name.to_owned(), json!(at));
                }
            }
        }
        let healthy = pods
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .filter(|p| !disrupted.contains_key(p["metadata"]["name"].as_str().unwrap_or_default()))
            .filter(|p| pod_ready(p))
            .count() as i64;
        let allowed = if expected <= 0 { 0 } else { (healthy - desired).max(0) };
        status["currentHealthy"] = json!(healthy);
        status["desiredHealthy"] = json!(desired);
        status["expectedPods"] = json!(expected);
        status["disruptionsAllowed"] = json!(allowed);
        status["observedGeneration"] = pdb["metadata"]["generation"].clone();
        if disrupted.is_empty() {
            if let Some(map) = status.as_object_mut() {
                map.remove("disruptedPods");
            }
        } else {
            status["disruptedPods"] = Value::Object(disrupted);
        }
        set_allowed_condition(&mut status, None);
        set_status(state, &pdb_type, &pdb, status);
    }
}
