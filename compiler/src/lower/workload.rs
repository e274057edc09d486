//! Workloads: a Deployment or StatefulSet with one container, a headless Service for a
//! StatefulSet, a PersistentVolumeClaim per volume of a Deployment, and a Service for `expose`.

use serde_json::{json, Map, Value as Json};

use super::{namespace_of, str_or, string_map, Lowering};
use crate::access::{int_of, name_of, qty_of, scalar_string, str_of};
use crate::check::workload_kind;
use crate::eval::{BodyValue, Resource};
use crate::schema::Kind;
use crate::value::Value;

const NAME_LABEL: &str = "app.kubernetes.io/name";

pub(super) fn workload(cx: &mut Lowering, res: &Resource) {
    let body = &res.body;
    let name = res.addr.name.clone();
    let ns = namespace_of(res);
    let stateful = workload_kind(body) == "statefulset";
    let ports = ports(body);

    let (container, sensitive) = container(res, &ports, stateful);
    let mut volumes: Vec<Json> = Vec::new();
    if !stateful {
        for v in body.blocks_of("volume") {
            let Some((vname, _)) = &v.label else { continue };
            volumes.push(json!({ "name": vname, "persistentVolumeClaim": { "claimName": format!("{name}-{vname}") } }));
        }
    }
    for m in body.blocks_of("mount") {
        let Some((mname, _)) = &m.label else { continue };
        if let Some(c) = name_of(&m.body, "config") {
            volumes.push(json!({ "name": mname, "configMap": { "name": c } }));
        } else if let Some(s) = name_of(&m.body, "secret") {
            volumes.push(json!({ "name": mname, "secret": { "secretName": s } }));
        }
    }

    let mut pod_labels = Map::new();
    pod_labels.insert(NAME_LABEL.into(), json!(name));
    pod_labels.insert("app.kubernetes.io/instance".into(), json!(cx.stack));
    for (k, v) in string_map(body.get("labels")) {
        if !pod_labels.contains_key(&k) {
            pod_labels.insert(k, json!(v));
        }
    }
    let mut pod_spec = Map::new();
    if let Some(sa) = str_of(body, "service_account") {
        pod_spec.insert("serviceAccountName".into(), json!(sa));
    }
    let selector = string_map(body.get("node_selector"));
    if !selector.is_empty() {
        pod_spec.insert("nodeSelector".into(), Json::Object(selector.into_iter().map(|(k, v)| (k, json!(v))).collect()));
    }
    pod_spec.insert("containers".into(), Json::Array(vec![container]));
    if !volumes.is_empty() {
        pod_spec.insert("volumes".into(), Json::Array(volumes));
    }

    let mut spec = Map::new();
    if let Some(r) = int_of(body, "replicas") {
        spec.insert("replicas".into(), json!(r));
    }
    spec.insert("selector".into(), json!({ "matchLabels": { NAME_LABEL: name } }));
    if stateful {
        spec.insert("serviceName".into(), json!(format!("{name}-hl")));
    }
    if let Some(u) = body.block("update") {
        let mut ru = Map::new();
        for (attr, key) in [("max_unavailable", "maxUnavailable"), ("max_surge", "maxSurge")] {
            match u.body.get(attr).map(|v| v.unwrap_sensitive().0) {
                Some(Value::Int(i)) => {
                    ru.insert(key.into(), json!(i));
                }
                Some(Value::Str(s)) => {
                    ru.insert(key.into(), json!(s.as_ref()));
                }
                _ => {}
            }
        }
        let key = if stateful { "updateStrategy" } else { "strategy" };
        spec.insert(key.into(), object([("type", json!("RollingUpdate")), ("rollingUpdate", Json::Object(ru))]));
    }
    // The workload's annotations go on the pod template too (docs/language.md, "Reserved
    // labels"); cairn's own address annotation stays on the objects cairn owns.
    let mut pod_meta = Map::new();
    pod_meta.insert("labels".into(), Json::Object(pod_labels));
    let pod_annotations = string_map(body.get("annotations"));
    if !pod_annotations.is_empty() {
        pod_meta.insert("annotations".into(), Json::Object(pod_annotations.into_iter().map(|(k, v)| (k, json!(v))).collect()));
    }
    spec.insert("template".into(), object([("metadata", Json::Object(pod_meta)), ("spec", Json::Object(pod_spec))]));
    if stateful {
        let claims: Vec<Json> =
            body.blocks_of("volume").filter_map(|v| v.label.as_ref().map(|(l, _)| claim_template(l, &v.body))).collect();
        if !claims.is_empty() {
            spec.insert("volumeClaimTemplates".into(), Json::Array(claims));
        }
    }

    let sensitive: Vec<String> = sensitive.into_iter().map(|p| format!("/spec/template/spec/containers/0{p}")).collect();
    let ns_ref = ns.as_deref();
    if stateful {
        let hl_ports: Vec<Json> = ports.iter().map(|(n, p)| json!({ "name": n, "port": p, "targetPort": n })).collect();
        let hl = json!({ "clusterIP": "None", "selector": { NAME_LABEL: name }, "ports": hl_ports });
        cx.kube(res, "v1", "Service", ns_ref, &format!("{name}-hl"), vec![("spec", hl)], vec![]);
    } else {
        for v in body.blocks_of("volume") {
            let Some((vname, _)) = &v.label else { continue };
            let Json::Object(claim) = claim_template(vname, &v.body) else { continue };
            let claim_spec = claim.get("spec").cloned().unwrap_or(Json::Null);
            cx.kube(res, "v1", "PersistentVolumeClaim", ns_ref, &format!("{name}-{vname}"), vec![("spec", claim_spec)], vec![]);
        }
    }
    let kind = if stateful { "StatefulSet" } else { "Deployment" };
    cx.kube(res, "apps/v1", kind, ns_ref, &name, vec![("spec", Json::Object(spec))], sensitive);
    if let Some(e) = body.block("expose") {
        let port = int_of(&e.body, "port").unwrap_or(80);
        let target = match e.body.get("target").map(|v| v.unwrap_sensitive().0) {
            Some(Value::Str(s)) => json!(s.as_ref()),
            Some(Value::Int(i)) => json!(i),
            _ => json!(port),
        };
        let svc = json!({
            "type": str_or(&e.body, "type", "ClusterIP"),
            "selector": { NAME_LABEL: name },
            "ports": [{ "name": port_name(&target, port), "port": port, "targetPort": target }],
        });
        cx.kube(res, "v1", "Service", ns_ref, &name, vec![("spec", svc)], vec![]);
    }
}

/// The Service port's name: the target port's name, else `port-N`.
fn port_name(target: &Json, port: i64) -> String {
    match target {
        Json::String(s) => s.clone(),
        _ => format!("port-{port}"),
    }
}

/// Declared ports, by name.
fn ports(body: &BodyValue) -> Vec<(String, i64)> {
    match body.get("ports").map(|v| v.unwrap_sensitive().0) {
        Some(Value::Map(m)) => {
            m.iter().filter_map(|(k, v)| if let Value::Int(p) = v.unwrap_sensitive().0 { Some((k.clone(), *p)) } else { None }).collect()
        }
        _ => Vec::new(),
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

/// The container, and the JSON pointers (relative to it) of sensitive values.
fn container(res: &Resource, ports: &[(String, i64)], _stateful: bool) -> (Json, Vec<String>) {
    let body = &res.body;
    let mut c = Map::new();
    let mut sensitive = Vec::new();
    c.insert("name".into(), json!(res.addr.name));
    c.insert("image".into(), json!(str_of(body, "image").unwrap_or_default()));
    for (attr, key) in [("command", "command"), ("args", "args")] {
        if let Some(Value::List(items)) = body.get(attr).map(|v| v.unwrap_sensitive().0) {
            let list: Vec<Json> = items.iter().filter_map(|i| i.as_str().map(|s| json!(s))).collect();
            c.insert(key.into(), Json::Array(list));
        }
    }
    if !ports.is_empty() {
        let list: Vec<Json> = ports.iter().map(|(n, p)| json!({ "name": n, "containerPort": p })).collect();
        c.insert("ports".into(), Json::Array(list));
    }
    if let Some((Value::Map(m), all_secret)) = body.get("env").map(Value::unwrap_sensitive) {
        let mut env = Vec::new();
        for (k, v) in m.iter() {
            let (inner, secret) = v.unwrap_sensitive();
            let secret = secret || all_secret;
            match inner {
                Value::Ref(r) if r.key.is_some() => {
                    let key = r.key.clone().unwrap_or_default();
                    let from = match r.kind {
                        Kind::Secret => json!({ "secretKeyRef": { "name": r.name, "key": key } }),
                        _ => json!({ "configMapKeyRef": { "name": r.name, "key": key } }),
                    };
                    env.push(json!({ "name": k, "valueFrom": from }));
                }
                other => {
                    let Some(s) = scalar_string(other) else { continue };
                    if secret {
                        sensitive.push(format!("/env/{}/value", env.len()));
                    }
                    env.push(json!({ "name": k, "value": s }));
                }
            }
        }
        if !env.is_empty() {
            c.insert("env".into(), Json::Array(env));
        }
    }
    if let Some(r) = body.block("resources") {
        let mut resources = Map::new();
        let mut requests = Map::new();
        let mut limits = Map::new();
        for (attr, key) in [("cpu", "cpu"), ("memory", "memory")] {
            if let Some(q) = qty_of(&r.body, attr) {
                requests.insert(key.into(), json!(q.canonical()));
            }
        }
        if let Some(q) = qty_of(&r.body, "cpu_limit") {
            limits.insert("cpu".into(), json!(q.canonical()));
        }
        if let Some(q) = qty_of(&r.body, "memory_limit").or_else(|| qty_of(&r.body, "memory")) {
            limits.insert("memory".into(), json!(q.canonical()));
        }
        if !requests.is_empty() {
            resources.insert("requests".into(), Json::Object(requests));
        }
        if !limits.is_empty() {
            resources.insert("limits".into(), Json::Object(limits));
        }
        c.insert("resources".into(), Json::Object(resources));
    }
    let mut mounts = Vec::new();
    for v in body.blocks_of("volume") {
        if let (Some((vname, _)), Some(path)) = (&v.label, str_of(&v.body, "mount")) {
            mounts.push(json!({ "name": vname, "mountPath": path }));
        }
    }
    for m in body.blocks_of("mount") {
        if let (Some((mname, _)), Some(path)) = (&m.label, str_of(&m.body, "path")) {
            mounts.push(json!({ "name": mname, "mountPath": path, "readOnly": true }));
        }
    }
    if !mounts.is_empty() {
        c.insert("volumeMounts".into(), Json::Array(mounts));
    }
    if let Some(p) = body.block("probe") {
        let port = match p.body.get("port").map(|v| v.unwrap_sensitive().0) {
            Some(Value::Str(s)) => json!(s.as_ref()),
            Some(Value::Int(i)) => json!(i),
            _ => ports.first().map_or(Json::Null, |(n, _)| json!(n)),
        };
        let mut probe = Map::new();
        if let Some(path) = str_of(&p.body, "http") {
            probe.insert("httpGet".into(), json!({ "path": path, "port": port }));
        } else if let Some(Value::List(cmd)) = p.body.get("exec").map(|v| v.unwrap_sensitive().0) {
            let cmd: Vec<Json> = cmd.iter().filter_map(|i| i.as_str().map(|s| json!(s))).collect();
            probe.insert("exec".into(), json!({ "command": cmd }));
        } else {
            probe.insert("tcpSocket".into(), json!({ "port": port }));
        }
        if let Some(d) = int_of(&p.body, "initial_delay") {
            probe.insert("initialDelaySeconds".into(), json!(d));
        }
        c.insert("readinessProbe".into(), Json::Object(probe));
    }
    (Json::Object(c), sensitive)
}
