//! Workloads: a Deployment, StatefulSet, DaemonSet, Job or CronJob around the pod template of
//! `pod.rs`, a headless Service for a StatefulSet, a PersistentVolumeClaim per volume of the
//! others, a Service for `expose`, a HorizontalPodAutoscaler for `autoscale` and a
//! PodDisruptionBudget for `disruption`.

use serde_json::{json, Map, Value as Json};

use super::{namespace_of, pod, str_or, string_map, Lowering};
use crate::access::{int_of, name_of, qty_of, str_of};
use crate::check::workload_kind;
use crate::eval::{BodyValue, Resource};
use crate::value::Value;

const NAME_LABEL: &str = "app.kubernetes.io/name";

pub(super) fn workload(cx: &mut Lowering, res: &Resource) {
    let body = &res.body;
    let name = res.addr.name.clone();
    let ns = namespace_of(res);
    let kind = workload_kind(body);
    let stateful = kind == "statefulset";
    let batch = matches!(kind, "job" | "cronjob");
    let ports = pod::ports(body);

    let pod::PodSpec { spec: pod_spec, sensitive } = pod::pod_spec(res, !stateful, batch.then_some("OnFailure"));

    // With a `selector`, the pods carry it and the workload's labels, nothing of cairn's (so an
    // imported workload keeps its pods' labels); else cairn's name and instance labels.
    let selector = selector(body, &name);
    let mut pod_labels = selector.clone();
    if body.get("selector").is_none() {
        pod_labels.insert("app.kubernetes.io/instance".into(), json!(cx.stack));
    }
    for (k, v) in string_map(body.get("labels")) {
        if !pod_labels.contains_key(&k) {
            pod_labels.insert(k, json!(v));
        }
    }
    // The workload's annotations go on the pod template too (docs/language.md, "Reserved
    // labels"); cairn's own address annotation stays on the objects cairn owns.
    let mut pod_meta = Map::new();
    pod_meta.insert("labels".into(), Json::Object(pod_labels));
    let mut pod_annotations = string_map(body.get("annotations"));
    for (k, v) in string_map(body.get("pod_annotations")) {
        if !pod_annotations.iter().any(|(x, _)| *x == k) {
            pod_annotations.push((k, v));
        }
    }
    if !pod_annotations.is_empty() {
        pod_meta.insert("annotations".into(), Json::Object(pod_annotations.into_iter().map(|(k, v)| (k, json!(v))).collect()));
    }
    let template = object([("metadata", Json::Object(pod_meta)), ("spec", Json::Object(pod_spec))]);

    let (spec, template_at) = match kind {
        "job" => (job_spec(body, template), "/spec/template/spec"),
        "cronjob" => {
            let mut spec = Map::new();
            if let Some(schedule) = str_of(body, "schedule") {
                spec.insert("schedule".into(), json!(schedule));
            }
            spec.insert("jobTemplate".into(), object([("spec", Json::Object(job_spec(body, template)))]));
            (spec, "/spec/jobTemplate/spec/template/spec")
        }
        _ => (rollout_spec(body, &selector, kind, template, &name), "/spec/template/spec"),
    };
    let sensitive: Vec<String> = sensitive.into_iter().map(|p| format!("{template_at}{p}")).collect();

    let ns_ref = ns.as_deref();
    if stateful {
        let hl_ports: Vec<Json> = ports
            .iter()
            .map(|(n, p)| match n {
                Some(n) => json!({ "name": n, "port": p, "targetPort": n }),
                None => json!({ "name": format!("port-{p}"), "port": p, "targetPort": p }),
            })
            .collect();
        let hl = json!({ "clusterIP": "None", "selector": Json::Object(selector.clone()), "ports": hl_ports });
        cx.kube(res, "v1", "Service", ns_ref, &format!("{name}-hl"), vec![("spec", hl)], vec![]);
    } else {
        for v in body.blocks_of("volume") {
            let Some((vname, _)) = &v.label else { continue };
            let Json::Object(claim) = claim_template(vname, &v.body) else { continue };
            let claim_spec = claim.get("spec").cloned().unwrap_or(Json::Null);
            cx.kube(res, "v1", "PersistentVolumeClaim", ns_ref, &format!("{name}-{vname}"), vec![("spec", claim_spec)], vec![]);
        }
    }
    let (api_version, object_kind) = match kind {
        "statefulset" => ("apps/v1", "StatefulSet"),
        "daemonset" => ("apps/v1", "DaemonSet"),
        "job" => ("batch/v1", "Job"),
        "cronjob" => ("batch/v1", "CronJob"),
        _ => ("apps/v1", "Deployment"),
    };
    cx.kube(res, api_version, object_kind, ns_ref, &name, vec![("spec", Json::Object(spec))], sensitive);
    if let Some(a) = body.block("autoscale") {
        let spec = autoscaler_spec(&a.body, &name, api_version, object_kind);
        cx.kube(res, "autoscaling/v2", "HorizontalPodAutoscaler", ns_ref, &name, vec![("spec", spec)], vec![]);
    }
    if let Some(d) = body.block("disruption") {
        let mut spec = Map::new();
        for (attr, key) in [("max_unavailable", "maxUnavailable"), ("min_available", "minAvailable")] {
            if let Some(v) = int_or_percent(&d.body, attr) {
                spec.insert(key.into(), v);
            }
        }
        spec.insert("selector".into(), json!({ "matchLabels": Json::Object(selector.clone()) }));
        cx.kube(res, "policy/v1", "PodDisruptionBudget", ns_ref, &name, vec![("spec", Json::Object(spec))], vec![]);
    }
    if let Some(e) = body.block("expose") {
        let port = int_of(&e.body, "port").unwrap_or(80);
        let target = match e.body.get("target").map(|v| v.unwrap_sensitive().0) {
            Some(Value::Str(s)) => json!(s.as_ref()),
            Some(Value::Int(i)) => json!(i),
            _ => json!(port),
        };
        let port_name = str_of(&e.body, "name").unwrap_or_else(|| port_name(&target, port));
        let svc = json!({
            "type": str_or(&e.body, "type", "ClusterIP"),
            "selector": Json::Object(selector.clone()),
            "ports": [{ "name": port_name, "port": port, "targetPort": target }],
        });
        cx.kube(res, "v1", "Service", ns_ref, &name, vec![("spec", svc)], vec![]);
    }
}

/// The spec of a Deployment, StatefulSet or DaemonSet: replicas (not for a DaemonSet), the
/// selector, the update strategy, the template and a StatefulSet's claim templates.
fn rollout_spec(body: &BodyValue, selector: &Map<String, Json>, kind: &str, template: Json, name: &str) -> Map<String, Json> {
    let stateful = kind == "statefulset";
    let mut spec = Map::new();
    // An autoscaled workload leaves replicas to its autoscaler (LANGUAGE.md §10).
    if kind != "daemonset" && body.block("autoscale").is_none() {
        if let Some(r) = int_of(body, "replicas") {
            spec.insert("replicas".into(), json!(r));
        }
    }
    spec.insert("selector".into(), json!({ "matchLabels": Json::Object(selector.clone()) }));
    if stateful {
        spec.insert("serviceName".into(), json!(format!("{name}-hl")));
    }
    if let Some(u) = body.block("update") {
        let mut ru = Map::new();
        for (attr, key) in [("max_unavailable", "maxUnavailable"), ("max_surge", "maxSurge")] {
            if let Some(v) = int_or_percent(&u.body, attr) {
                ru.insert(key.into(), v);
            }
        }
        let key = if kind == "deployment" { "strategy" } else { "updateStrategy" };
        spec.insert(key.into(), object([("type", json!("RollingUpdate")), ("rollingUpdate", Json::Object(ru))]));
    }
    spec.insert("template".into(), template);
    if stateful {
        let claims: Vec<Json> =
            body.blocks_of("volume").filter_map(|v| v.label.as_ref().map(|(l, _)| claim_template(l, &v.body))).collect();
        if !claims.is_empty() {
            spec.insert("volumeClaimTemplates".into(), Json::Array(claims));
        }
    }
    spec
}

/// The labels that select the workload's pods: `selector`, else `app.kubernetes.io/name`.
fn selector(body: &BodyValue, name: &str) -> Map<String, Json> {
    if body.get("selector").is_some() {
        return string_map(body.get("selector")).into_iter().map(|(k, v)| (k, json!(v))).collect();
    }
    let mut m = Map::new();
    m.insert(NAME_LABEL.into(), json!(name));
    m
}

/// The spec of a Job (or of a CronJob's job template): `backoffLimit` from `retries`, then the
/// template. The API server generates the selector.
fn job_spec(body: &BodyValue, template: Json) -> Map<String, Json> {
    let mut spec = Map::new();
    if let Some(r) = int_of(body, "retries") {
        spec.insert("backoffLimit".into(), json!(r));
    }
    spec.insert("template".into(), template);
    spec
}

/// An int-or-percent attribute (`2`, `"50%"`) as the JSON Kubernetes takes.
fn int_or_percent(body: &BodyValue, attr: &str) -> Option<Json> {
    match body.get(attr).map(|v| v.unwrap_sensitive().0) {
        Some(Value::Int(i)) => Some(json!(i)),
        Some(Value::Str(s)) => Some(json!(s.as_ref())),
        _ => None,
    }
}

/// A HorizontalPodAutoscaler's spec (autoscaling/v2): the workload as its scale target,
/// `minReplicas` (default 1), `maxReplicas`, and a `Resource` utilization metric per target.
fn autoscaler_spec(a: &BodyValue, name: &str, api_version: &str, kind: &str) -> Json {
    let mut metrics = Vec::new();
    for resource in ["cpu", "memory"] {
        if let Some(target) = int_of(a, resource) {
            metrics.push(json!({
                "type": "Resource",
                "resource": { "name": resource, "target": { "type": "Utilization", "averageUtilization": target } },
            }));
        }
    }
    let mut spec = Map::new();
    spec.insert("scaleTargetRef".into(), json!({ "apiVersion": api_version, "kind": kind, "name": name }));
    spec.insert("minReplicas".into(), json!(int_of(a, "min").unwrap_or(1)));
    if let Some(max) = int_of(a, "max") {
        spec.insert("maxReplicas".into(), json!(max));
    }
    if !metrics.is_empty() {
        spec.insert("metrics".into(), Json::Array(metrics));
    }
    Json::Object(spec)
}

/// The Service port's name: the target port's name, else `port-N`.
fn port_name(target: &Json, port: i64) -> String {
    match target {
        Json::String(s) => s.clone(),
        _ => format!("port-{port}"),
    }
}

fn claim_template(name: &str, v: &BodyValue) -> Json {
    let mut spec = Map::new();
    spec.insert("accessModes".into(), json!([str_or(v, "access", "ReadWriteOnce")]));
    if let Some(sc) = name_of(v, "storage_class") {
        spec.insert("storageClassName".into(), json!(sc));
    }
    if let Some(size) = qty_of(v, "size") {
        spec.insert("resources".into(), json!({ "requests": { "storage": size.canonical() } }));
    }
    object([("metadata", json!({ "name": name })), ("spec", Json::Object(spec))])
}

/// A JSON object of `entries`, in order. Unlike `json!`, which copies a `Json` it is given
/// through serde (a deep copy of the whole pod template, per workload), this moves them.
fn object<const N: usize>(entries: [(&str, Json); N]) -> Json {
    Json::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}
