//! The DaemonSet controller: one pod per Ready node the pod template's `nodeSelector` allows,
//! bound to its node (node affinity on `metadata.name`, the controller's tolerations), labelled
//! `controller-revision-hash` and `pod-template-generation`; a ControllerRevision per template;
//! `RollingUpdate` replaces old pods node by node within `maxUnavailable`, so a template whose
//! pods never become ready stalls with the old pods still serving.

use serde_json::{json, Value};

use super::workloads::{alive, create_pod, hash, owned_by, pod_ready};
use super::{events, objects, rtype, set_status};
use crate::api::write::{delete_object, Propagation};
use crate::nodes;
use crate::store::State;

const COMPONENT: &str = "daemonset-controller";

/// The tolerations the DaemonSet controller adds to every daemon pod.
fn tolerations(template: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = template["spec"]["tolerations"].as_array().cloned().unwrap_or_default();
    let mut wanted = vec![
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if template["spec"]["hostNetwork"] == true {
        wanted.push(("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    for (key, effect) in wanted {
        if !out.iter().any(|t| t["key"] == key && t["effect"] == effect) {
            out.push(json!({"key": key, "operator": "Exists", "effect": effect}));
        }
    }
    out
}

/// The pod template for one node: required node affinity on the node's name, tolerations.
fn template_for(template: &Value, node: &str) -> Value {
    let mut t = template.clone();
    t["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] =
        json!({"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]});
    t["spec"]["tolerations"] = json!(tolerations(template));
    t
}

/// `maxUnavailable` of a rolling update against `desired` pods (a percentage rounds up), at
/// least 1 as the controller allows when `maxSurge` is 0.
fn max_unavailable(ds: &Value, desired: i64) -> i64 {
    let value = &ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"];
    let n = match value {
        Value::Number(n) => n.as_i64().unwrap_or(1),
        Value::String(s) => s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()).map_or(1, |p| (p * desired + 99) / 100),
        _ => 1,
    };
    n.max(1)
}

/// One pass over all DaemonSets.
pub fn reconcile(state: &mut State) {
    let (Some(ds_type), Some(pod_type)) = (rtype(state, "apps", "daemonsets"), rtype(state, "", "pods")) else { return };
    for ds in objects(state, "apps", "daemonsets", None) {
        if !alive(&ds) {
            continue;
        }
        let ns = ds["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
        let name = ds["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let template = ds["spec"]["template"].clone();
        let template_hash = hash(&template);
        super::revisions::record(state, &ds, &format!("{name}-{template_hash}"), &template_hash);
        let eligible: Vec<String> = nodes::ready(state)
            .iter()
            .filter(|n| nodes::selects(&template["spec"], n))
            .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_owned))
            .collect();
        let desired = eligible.len() as i64;
        let pods_of = |state: &State| -> Vec<Value> {
            let all = objects(state, "", "pods", Some(&ns));
            owned_by(&all, &ds).filter(|p| alive(p)).cloned().collect()
        };
        let node_of = |p: &Value| p["spec"]["nodeName"].as_str().unwrap_or_default().to_owned();
        let current = |p: &Value| p["metadata"]["labels"]["controller-revision-hash"].as_str() == Some(template_hash.as_str());
        // Pods on nodes the DaemonSet no longer selects go.
        for pod in pods_of(state).iter().filter(|p| !eligible.contains(&node_of(p))) {
            let pname = pod["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            let _ = delete_object(state, &pod_type, &ns, &pname, Propagation::Background, false, true);
        }
        // Old pods go one node at a time while the unavailable ones stay within budget.
        if ds["spec"]["updateStrategy"]["type"].as_str().unwrap_or("RollingUpdate") == "RollingUpdate" {
            let pods = pods_of(state);
            let mut unavailable = eligible.iter().filter(|n| !pods.iter().any(|p| &node_of(p) == *n && pod_ready(p))).count() as i64;
            let budget = max_unavailable(&ds, desired);
            for pod in pods.iter().filter(|p| !current(p)) {
                let ready = pod_ready(pod);
                if ready && unavailable >= budget {
                    break;
                }
                let pname = pod["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                if delete_object(state, &pod_type, &ns, &pname, Propagation::Background, false, true).is_ok() {
                    events::record(state, &ds, "Normal", "SuccessfulDelete", &format!("Deleted pod: {pname}"), COMPONENT);
                    if ready {
                        unavailable += 1;
                    }
                }
            }
        }
        // A pod on every eligible node that has none.
        let pods = pods_of(state);
        let generation = ds["metadata"]["generation"].as_i64().unwrap_or(1).to_string();
        for node in &eligible {
            if pods.iter().any(|p| &node_of(p) == node) {
                continue;
            }
            let labels = json!({"controller-revision-hash": template_hash, "pod-template-generation": generation});
            match create_pod(state, &ds, &template_for(&template, node), None, labels, Some(node.as_str())) {
                Ok(pname) => events::record(state, &ds, "Normal", "SuccessfulCreate", &format!("Created pod: {pname}"), COMPONENT),
                Err(message) => {
                    events::record(state, &ds, "Warning", "FailedCreate", &format!("Error creating: {message}"), COMPONENT);
                    break;
                }
            }
        }
        let pods = pods_of(state);
        let scheduled = eligible.iter().filter(|n| pods.iter().any(|p| &node_of(p) == *n)).count();
        let ready = pods.iter().filter(|p| pod_ready(p)).count() as i64;
        let updated = pods.iter().filter(|p| current(p)).count();
        let mut status = json!({
            "currentNumberScheduled": scheduled, "numberMisscheduled": 0, "desiredNumberScheduled": desired,
            "numberReady": ready, "observedGeneration": ds["metadata"]["generation"], "updatedNumberScheduled": updated,
            "numberAvailable": ready
        });
        if desired - ready > 0 {
            status["numberUnavailable"] = json!(desired - ready);
        }
        for zero in ["numberAvailable", "updatedNumberScheduled"] {
            if status[zero] == 0 {
                if let Some(m) = status.as_object_mut() {
                    m.remove(zero);
                }
            }
        }
        set_status(state, &ds_type, &ds, status);
    }
}
