//! Reading workloads out of a policy input: pod templates and their containers.

use serde_json::Value as Json;

use super::Resource;

/// The pod spec of a workload object (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job: at
/// `spec.template.spec`; CronJob: `spec.jobTemplate.spec.template.spec`; Pod: `spec`).
pub fn pod_spec(r: &Resource) -> Option<&Json> {
    match r.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => r.object.pointer("/spec/template/spec"),
        "CronJob" => r.object.pointer("/spec/jobTemplate/spec/template/spec"),
        "Pod" => r.object.get("spec"),
        _ => None,
    }
}

/// The path prefix of the pod spec, for violation paths.
pub fn pod_spec_path(kind: &str) -> &'static str {
    match kind {
        "CronJob" => "spec.jobTemplate.spec.template.spec",
        "Pod" => "spec",
        _ => "spec.template.spec",
    }
}

/// `(list name, container)` of every container and init container.
pub fn containers(spec: &Json) -> impl Iterator<Item = (&'static str, &Json)> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(move |list| spec.get(list).and_then(Json::as_array).into_iter().flatten().map(move |c| (list, c)))
}

/// A workload's replicas (`spec.replicas`, default 1) when it has them.
pub fn replicas(r: &Resource) -> Option<i64> {
    matches!(r.kind.as_str(), "Deployment" | "StatefulSet" | "ReplicaSet")
        .then(|| r.object.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1))
}
