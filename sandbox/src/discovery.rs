//! Discovery documents: `/version`, `/api`, `/apis`, `/apis/<group>` and group-version resource
//! lists, as kubectl and kube-rs ask for them (plain, not aggregated, discovery).

use serde_json::{json, Value};

use crate::registry::Registry;

/// The Kubernetes version the sandbox reports. kubectl's dispatcher picks its bundled client
/// by this `gitVersion`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "gitVersion": "v1.33.0",
        "gitCommit": "cairn-sandbox",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`.
pub fn core_versions(server: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}]})
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

/// The resource metrics group `kubectl top` looks for. It is listed so `kubectl top` gets as far
/// as asking, and is then told the sandbox runs no containers (see [`crate::api`]).
pub const METRICS_GROUP: &str = "metrics.k8s.io";

/// The version of [`METRICS_GROUP`] listed.
const METRICS_VERSION: &str = "v1beta1";

/// `/apis`.
pub fn groups(registry: &Registry) -> Value {
    let mut groups: Vec<Value> = registry.groups().iter().map(|(g, v)| group_entry(g, v)).collect();
    groups.push(group_entry(METRICS_GROUP, &[METRICS_VERSION.to_owned()]));
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`, if the group is served.
pub fn group(registry: &Registry, name: &str) -> Option<Value> {
    let groups = registry.groups();
    let metrics = [METRICS_VERSION.to_owned()];
    let versions = if name == METRICS_GROUP { &metrics[..] } else { groups.get(name)? };
    let mut entry = group_entry(name, versions);
    if let Some(map) = entry.as_object_mut() {
        map.insert("kind".into(), json!("APIGroup"));
        map.insert("apiVersion".into(), json!("v1"));
    }
    Some(entry)
}

/// `/api/v1` or `/apis/<group>/<version>`, if served.
pub fn resources(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    if (group, version) == (METRICS_GROUP, METRICS_VERSION) {
        let resources = [("nodes", "NodeMetrics", false), ("pods", "PodMetrics", true)]
            .map(|(name, kind, namespaced)| json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": ["get", "list"]}));
        return Some(
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{group}/{version}"), "resources": resources}),
        );
    }
    let types: Vec<_> = registry.types().iter().filter(|t| t.group == group && t.version == version).collect();
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for t in types {
        resources.push(t.discovery_entry());
        if t.has_status {
            resources.push(json!({"name": format!("{}/status", t.plural), "singularName": "", "namespaced": t.namespaced, "kind": t.kind, "verbs": ["get", "patch", "update"]}));
        }
        if t.group == "apps" && matches!(t.plural.as_str(), "deployments" | "statefulsets" | "replicasets") {
            resources.push(json!({"name": format!("{}/scale", t.plural), "singularName": "", "namespaced": true, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
        }
        if t.group.is_empty() && t.plural == "pods" {
            // `kubectl drain` looks for this entry to decide that evictions are served.
            resources.push(json!({"name": "pods/eviction", "singularName": "", "namespaced": true, "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]}));
        }
        if t.plural == "namespaces" {
            resources.push(
                json!({"name": "namespaces/finalize", "singularName": "", "namespaced": false, "kind": "Namespace", "verbs": ["update"]}),
            );
        }
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}
