//! The sandbox's nodes: a small fixed set, present from the start and Ready, as a kubelet
//! registers them; and the scheduler's choice of node for a new pod.

use serde_json::{json, Value};

use crate::registry::TypeKey;
use crate::store::State;

/// The simulated nodes' names, in order.
pub const NAMES: [&str; 3] = ["sandbox-node-1", "sandbox-node-2", "sandbox-node-3"];

/// The type key of nodes.
pub fn key() -> TypeKey {
    TypeKey { group: String::new(), plural: "nodes".into() }
}

/// The InternalIP of the `index`th node (kind-style addresses).
fn address(index: usize) -> String {
    format!("172.18.0.{}", index + 2)
}

/// The node objects as their kubelets register them (uid and resourceVersion are the store's).
pub fn objects(now: &str) -> Vec<Value> {
    NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let condition = |kind: &str, status: &str, reason: &str, message: &str| {
                json!({"type": kind, "status": status, "lastHeartbeatTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
            };
            let capacity = json!({"cpu": "4", "ephemeral-storage": "104857600Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "16777216Ki", "pods": "110"});
            let allocatable = json!({"cpu": "4", "ephemeral-storage": "104857600Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "16674816Ki", "pods": "110"});
            json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {
                    "name": name, "creationTimestamp": now,
                    "labels": {
                        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"
                    },
                    "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
                },
                "spec": {"podCIDR": format!("10.244.{}.0/24", i + 1), "podCIDRs": [format!("10.244.{}.0/24", i + 1)], "providerID": format!("sandbox://{name}")},
                "status": {
                    "addresses": [{"type": "InternalIP", "address": address(i)}, {"type": "Hostname", "address": name}],
                    "capacity": capacity, "allocatable": allocatable,
                    "conditions": [
                        condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                        condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "nodeInfo": {
                        "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://2.0.3",
                        "kernelVersion": "6.8.0-sandbox", "kubeProxyVersion": "", "kubeletVersion": "v1.33.0",
                        "machineID": "", "operatingSystem": "linux", "osImage": "cairn sandbox", "systemUUID": ""
                    }
                }
            })
        })
        .collect()
}

/// The stored nodes that are Ready, in name order.
pub fn ready(state: &State) -> Vec<Value> {
    state
        .list(&key(), None)
        .filter(|n| n["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True"))
        .filter(|n| n["spec"]["unschedulable"] != true)
        .cloned()
        .collect()
}

/// Whether a pod spec's `nodeSelector` (labels) lets it run on `node`.
pub fn selects(pod_spec: &Value, node: &Value) -> bool {
    pod_spec["nodeSelector"].as_object().into_iter().flatten().all(|(k, v)| &node["metadata"]["labels"][k] == v)
}

/// The node the scheduler binds a new pod to: one its `nodeSelector` allows, with the fewest
/// pods (ties by name); `None` when no Ready node fits.
pub fn schedule(state: &State, pod_spec: &Value) -> Option<String> {
    let pods = TypeKey { group: String::new(), plural: "pods".into() };
    ready(state)
        .iter()
        .filter(|n| selects(pod_spec, n))
        .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_owned))
        .min_by_key(|name| (state.list(&pods, None).filter(|p| p["spec"]["nodeName"].as_str() == Some(name)).count(), name.clone()))
}

/// The InternalIP of a node, if it exists.
pub fn host_ip(state: &State, name: &str) -> Option<String> {
    let node = state.get(&key(), "", name)?;
    node["status"]["addresses"].as_array()?.iter().find(|a| a["type"] == "InternalIP")?["address"].as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_cluster_has_three_ready_nodes_and_pods_spread_over_them() {
        let state = State::new("2026-01-01T00:00:00Z");
        let nodes = ready(&state);
        let names: Vec<&str> = nodes.iter().filter_map(|n| n["metadata"]["name"].as_str()).collect();
        assert_eq!(names, NAMES);
        assert_eq!(nodes[0]["metadata"]["labels"]["kubernetes.io/hostname"], "sandbox-node-1");
        assert_eq!(host_ip(&state, "sandbox-node-2").as_deref(), Some("172.18.0.3"));
        assert_eq!(schedule(&state, &json!({})).as_deref(), Some("sandbox-node-1"));
        let only_two = json!({"nodeSelector": {"kubernetes.io/hostname": "sandbox-node-2"}});
        assert_eq!(schedule(&state, &only_two).as_deref(), Some("sandbox-node-2"));
        assert_eq!(schedule(&state, &json!({"nodeSelector": {"disk": "ssd"}})), None);
    }
}
