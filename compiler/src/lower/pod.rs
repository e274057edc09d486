//! A workload's pod template (LANGUAGE.md §6 and §10): the main container (the workload's own
//! attributes, named after it), its sidecars (`container` blocks) and init containers (`init`
//! blocks), the pod volumes they mount, probes, and the security contexts.

use serde_json::{json, Map, Value as Json};

use super::string_map;
use crate::access::{bool_of, int_of, name_of, qty_of, scalar_string, str_of};
use crate::eval::{BodyValue, Resource};
use crate::schema::Kind;
use crate::value::Value;

/// The container-level `security` attributes and the `securityContext` keys they set.
const CONTAINER_SECURITY: [(&str, &str); 3] =
    [("read_only", "readOnlyRootFilesystem"), ("escalation", "allowPrivilegeEscalation"), ("privileged", "privileged")];

/// A pod template's `spec`, and the JSON pointers (relative to it) of sensitive values.
pub(super) struct PodSpec {
    pub spec: Map<String, Json>,
    pub sensitive: Vec<String>,
}

/// The pod spec of workload `res`. `claims` says whether `volume` blocks are pod volumes backed
/// by the claims `<name>-<volume>` (everything but a StatefulSet, whose claim templates are
/// volumes of their own); `restart` is the pod's restart policy when not Kubernetes' default.
pub(super) fn pod_spec(res: &Resource, claims: bool, restart: Option<&str>) -> PodSpec {
    let body = &res.body;
    let name = &res.addr.name;
    let mut sensitive = Vec::new();
    let mut spec = Map::new();

    if let Some(sa) = name_of(body, "service_account") {
        spec.insert("serviceAccountName".into(), json!(sa));
    }
    if let Some(g) = int_of(body, "grace_period") {
        spec.insert("terminationGracePeriodSeconds".into(), json!(g));
    }
    let selector = string_map(body.get("node_selector"));
    if !selector.is_empty() {
        spec.insert("nodeSelector".into(), Json::Object(selector.into_iter().map(|(k, v)| (k, json!(v))).collect()));
    }
    if let Some(r) = restart {
        spec.insert("restartPolicy".into(), json!(r));
    }
    let pod_security = pod_security_context(body);
    if !pod_security.is_empty() {
        spec.insert("securityContext".into(), Json::Object(pod_security));
    }

    let workload_security = body.block("security").map(|b| &b.body);
    let mut containers = Vec::new();
    let main_name = str_of(body, "container_name").unwrap_or_else(|| name.clone());
    let (main, main_sensitive) = container(&main_name, body, Role::Main, workload_security);
    sensitive.extend(main_sensitive.into_iter().map(|p| format!("/containers/0{p}")));
    containers.push(main);
    for c in body.blocks_of("container") {
        let Some((cname, _)) = &c.label else { continue };
        let (json, secret) = container(cname, &c.body, Role::Sidecar(body), workload_security);
        sensitive.extend(secret.into_iter().map(|p| format!("/containers/{}{p}", containers.len())));
        containers.push(json);
    }
    let mut inits = Vec::new();
    for c in body.blocks_of("init") {
        let Some((cname, _)) = &c.label else { continue };
        let (json, secret) = container(cname, &c.body, Role::Init(body), workload_security);
        sensitive.extend(secret.into_iter().map(|p| format!("/initContainers/{}{p}", inits.len())));
        inits.push(json);
    }
    if !inits.is_empty() {
        spec.insert("initContainers".into(), Json::Array(inits));
    }
    spec.insert("containers".into(), Json::Array(containers));
    let volumes = pod_volumes(res, claims);
    if !volumes.is_empty() {
        spec.insert("volumes".into(), Json::Array(volumes));
    }
    PodSpec { spec, sensitive }
}

/// Which container of the pod is being lowered; sidecars and init containers see the
/// workload's body for the volumes they may share.
#[derive(Clone, Copy)]
enum Role<'a> {
    Main,
    Sidecar(&'a BodyValue),
    Init(&'a BodyValue),
}

/// The pod's volumes: the workload's claims (unless they are claim templates), its config and
/// secret mounts, then those the sidecars and init containers declare of their own.
fn pod_volumes(res: &Resource, claims: bool) -> Vec<Json> {
    let body = &res.body;
    let mut volumes: Vec<Json> = Vec::new();
    if claims {
        for v in body.blocks_of("volume") {
            let Some((vname, _)) = &v.label else { continue };
            let claim = format!("{}-{vname}", res.addr.name);
            volumes.push(json!({ "name": vname, "persistentVolumeClaim": { "claimName": claim } }));
        }
    }
    let own_mounts = body.blocks_of("mount");
    let other_mounts = body.blocks.iter().filter(|b| b.kind == "container" || b.kind == "init").flat_map(|c| c.body.blocks_of("mount"));
    for m in own_mounts.chain(other_mounts) {
        let Some((mname, _)) = &m.label else { continue };
        if let Some(c) = name_of(&m.body, "config") {
            volumes.push(json!({ "name": mname, "configMap": { "name": c } }));
        } else if let Some(s) = name_of(&m.body, "secret") {
            volumes.push(json!({ "name": mname, "secret": { "secretName": s } }));
        }
    }
    volumes
}

/// One container, and the JSON pointers (relative to it) of its sensitive values.
fn container(name: &str, body: &BodyValue, role: Role<'_>, workload_security: Option<&BodyValue>) -> (Json, Vec<String>) {
    let mut c = Map::new();
    c.insert("name".into(), json!(name));
    c.insert("image".into(), json!(str_of(body, "image").unwrap_or_default()));
    for key in ["command", "args"] {
        if let Some(Value::List(items)) = body.get(key).map(|v| v.unwrap_sensitive().0) {
            let list: Vec<Json> = items.iter().filter_map(|i| i.as_str().map(|s| json!(s))).collect();
            c.insert(key.into(), Json::Array(list));
        }
    }
    let ports = ports(body);
    if !ports.is_empty() {
        let list: Vec<Json> = ports
            .iter()
            .map(|(n, p)| match n {
                Some(n) => json!({ "name": n, "containerPort": p }),
                None => json!({ "containerPort": p }),
            })
            .collect();
        c.insert("ports".into(), Json::Array(list));
    }
    let sensitive = env(body, &mut c);
    if let Some(r) = body.block("resources") {
        c.insert("resources".into(), resources(&r.body));
    }
    let mounts = volume_mounts(body, role);
    if !mounts.is_empty() {
        c.insert("volumeMounts".into(), Json::Array(mounts));
    }
    for (block, key) in [("liveness", "livenessProbe"), ("probe", "readinessProbe"), ("startup", "startupProbe")] {
        if let Some(p) = body.block(block) {
            c.insert(key.into(), probe(&p.body, &ports));
        }
    }
    let own_security = body.block("security").map(|b| &b.body);
    let security = match role {
        Role::Main => workload_security,
        Role::Sidecar(_) | Role::Init(_) => own_security.or(workload_security),
    };
    if let Some(ctx) = security.map(container_security_context).filter(|m| !m.is_empty()) {
        c.insert("securityContext".into(), Json::Object(ctx));
    }
    (Json::Object(c), sensitive)
}

/// `env` as a container's `env` list; key references become `valueFrom`. Returns the pointers
/// of sensitive values.
fn env(body: &BodyValue, c: &mut Map<String, Json>) -> Vec<String> {
    let mut sensitive = Vec::new();
    let Some((Value::Map(m), all_secret)) = body.get("env").map(Value::unwrap_sensitive) else { return sensitive };
    let mut env = Vec::new();
    for (k, v) in m.iter() {
        let (inner, secret) = v.unwrap_sensitive();
        match inner {
            Value::Ref(r) if r.key.is_some() => {
                let key = r.key.clone().unwrap_or_default();
                let from = match r.kind {
                    Kind::Secret => json!({ "secretKeyRef": { "name": r.name, "key": key } }),
                    Kind::Bucket => match crate::schema::BUCKET_KEYS.iter().find(|(f, _, _)| *f == key) {
                        Some((_, rook_key, true)) => json!({ "secretKeyRef": { "name": r.name, "key": rook_key } }),
                        Some((_, rook_key, false)) => json!({ "configMapKeyRef": { "name": r.name, "key": rook_key } }),
                        None => continue,
                    },
                    _ => json!({ "configMapKeyRef": { "name": r.name, "key": key } }),
                };
                env.push(json!({ "name": k, "valueFrom": from }));
            }
            other => {
                let Some(s) = scalar_string(other) else { continue };
                if secret || all_secret {
                    sensitive.push(format!("/env/{}/value", env.len()));
                }
                env.push(json!({ "name": k, "value": s }));
            }
        }
    }
    if !env.is_empty() {
        c.insert("env".into(), Json::Array(env));
    }
    sensitive
}

/// A `resources` block as requests and limits; the memory limit defaults to the request.
fn resources(r: &BodyValue) -> Json {
    let mut resources = Map::new();
    let mut requests = Map::new();
    let mut limits = Map::new();
    for key in ["cpu", "memory"] {
        if let Some(q) = qty_of(r, key) {
            requests.insert(key.into(), json!(q.canonical()));
        }
    }
    if let Some(q) = qty_of(r, "cpu_limit") {
        limits.insert("cpu".into(), json!(q.canonical()));
    }
    if let Some(q) = qty_of(r, "memory_limit").or_else(|| qty_of(r, "memory")) {
        limits.insert("memory".into(), json!(q.canonical()));
    }
    if !requests.is_empty() {
        resources.insert("requests".into(), Json::Object(requests));
    }
    if !limits.is_empty() {
        resources.insert("limits".into(), Json::Object(limits));
    }
    Json::Object(resources)
}

/// A container's mounts. The main container mounts the workload's volumes and config/secret
/// mounts; a sidecar or init container mounts its own `mount` blocks: a config or secret of its
/// own, or (with neither) the workload's volume or mount of the same name, at its own path.
fn volume_mounts(body: &BodyValue, role: Role<'_>) -> Vec<Json> {
    let mut mounts = Vec::new();
    match role {
        Role::Main => {
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
        }
        Role::Sidecar(workload) | Role::Init(workload) => {
            for m in body.blocks_of("mount") {
                let (Some((mname, _)), Some(path)) = (&m.label, str_of(&m.body, "path")) else { continue };
                let own = m.body.attr("config").is_some() || m.body.attr("secret").is_some();
                let shares_volume = workload.blocks_of("volume").any(|v| v.label.as_ref().is_some_and(|(l, _)| l == mname));
                if own || !shares_volume {
                    mounts.push(json!({ "name": mname, "mountPath": path, "readOnly": true }));
                } else {
                    mounts.push(json!({ "name": mname, "mountPath": path }));
                }
            }
        }
    }
    mounts
}

/// A probe block (`probe`, `liveness`, `startup`); the port defaults to the container's first.
fn probe(p: &BodyValue, ports: &[(Option<String>, i64)]) -> Json {
    let port = match p.get("port").map(|v| v.unwrap_sensitive().0) {
        Some(Value::Str(s)) => json!(s.as_ref()),
        Some(Value::Int(i)) => json!(i),
        _ => ports.first().map_or(Json::Null, |(n, p)| n.as_ref().map_or_else(|| json!(p), |n| json!(n))),
    };
    let mut probe = Map::new();
    if bool_of(p, "grpc") == Some(true) {
        // gRPC probes take a number: a port name is resolved to the container's port.
        let number = match &port {
            Json::String(name) => ports.iter().find(|(n, _)| n.as_deref() == Some(name.as_str())).map_or(Json::Null, |(_, p)| json!(p)),
            other => other.clone(),
        };
        probe.insert("grpc".into(), json!({ "port": number }));
    } else if let Some(path) = str_of(p, "http") {
        probe.insert("httpGet".into(), json!({ "path": path, "port": port }));
    } else if let Some(Value::List(cmd)) = p.get("exec").map(|v| v.unwrap_sensitive().0) {
        let cmd: Vec<Json> = cmd.iter().filter_map(|i| i.as_str().map(|s| json!(s))).collect();
        probe.insert("exec".into(), json!({ "command": cmd }));
    } else {
        probe.insert("tcpSocket".into(), json!({ "port": port }));
    }
    for (attr, key) in [
        ("initial_delay", "initialDelaySeconds"),
        ("period", "periodSeconds"),
        ("timeout", "timeoutSeconds"),
        ("failures", "failureThreshold"),
        ("successes", "successThreshold"),
    ] {
        if let Some(d) = int_of(p, attr) {
            probe.insert(key.into(), json!(d));
        }
    }
    Json::Object(probe)
}

/// Declared ports: by name (a map), or unnamed (a list).
pub(super) fn ports(body: &BodyValue) -> Vec<(Option<String>, i64)> {
    match body.get("ports").map(|v| v.unwrap_sensitive().0) {
        Some(Value::Map(m)) => m
            .iter()
            .filter_map(|(k, v)| if let Value::Int(p) = v.unwrap_sensitive().0 { Some((Some(k.clone()), *p)) } else { None })
            .collect(),
        Some(Value::List(items)) => {
            items.iter().filter_map(|v| if let Value::Int(p) = v.unwrap_sensitive().0 { Some((None, *p)) } else { None }).collect()
        }
        _ => Vec::new(),
    }
}

/// The pod-level `security` attributes as a pod `securityContext`.
fn pod_security_context(body: &BodyValue) -> Map<String, Json> {
    let mut ctx = Map::new();
    let Some(s) = body.block("security").map(|b| &b.body) else { return ctx };
    for (attr, key) in [("user", "runAsUser"), ("group", "runAsGroup")] {
        if let Some(i) = int_of(s, attr) {
            ctx.insert(key.into(), json!(i));
        }
    }
    if let Some(b) = bool_of(s, "non_root") {
        ctx.insert("runAsNonRoot".into(), json!(b));
    }
    if let Some(i) = int_of(s, "fs_group") {
        ctx.insert("fsGroup".into(), json!(i));
    }
    if let Some(t) = str_of(s, "seccomp") {
        ctx.insert("seccompProfile".into(), json!({ "type": t }));
    }
    ctx
}

/// The container-level `security` attributes as a container `securityContext`. Empty
/// capability lists render nothing (the API server drops them, so they would read as drift).
fn container_security_context(s: &BodyValue) -> Map<String, Json> {
    let mut ctx = Map::new();
    for (attr, key) in CONTAINER_SECURITY {
        if let Some(b) = bool_of(s, attr) {
            ctx.insert(key.into(), json!(b));
        }
    }
    let mut caps = Map::new();
    for key in ["add", "drop"] {
        let list = capabilities(s, key);
        if !list.is_empty() {
            caps.insert(key.into(), Json::Array(list.into_iter().map(Json::String).collect()));
        }
    }
    if !caps.is_empty() {
        ctx.insert("capabilities".into(), Json::Object(caps));
    }
    ctx
}

/// A capability list attribute (`drop`, `add`), as written.
pub(crate) fn capabilities(s: &BodyValue, attr: &str) -> Vec<String> {
    match s.get(attr).map(|v| v.unwrap_sensitive().0) {
        Some(Value::List(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}
