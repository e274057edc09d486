//! Pods and pod templates: `SetDefaults_Pod`, `SetDefaults_PodSpec`, `SetDefaults_Container`,
//! probes, volumes, plus what the ServiceAccount, Priority and DefaultTolerationSeconds
//! admission plugins and the Pod strategy add on create.

use std::collections::BTreeMap;

use cairn_core::Quantity as Exact;
use serde_json::{json, Value};

use super::{child, default_int, default_ptr, default_str, existing, items, pvc_spec, str_of, unset, Obj};

/// Every field of `VolumeSource`; a volume naming none of them becomes an `emptyDir`.
pub(crate) const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// A pod template at `parent[key]` (`PodTemplateSpec`): its metadata object and its spec.
pub(super) fn template(parent: &mut Obj, key: &str) {
    let Some(template) = child(parent, key) else { return };
    default_ptr(template, "metadata", json!({}));
    if let Some(spec) = child(template, "spec") {
        pod_spec(spec);
    }
}

/// `SetDefaults_PodSpec` and everything nested in a pod spec, plus the v1 conversion's
/// `serviceAccount` mirror of `serviceAccountName`.
pub(super) fn pod_spec(spec: &mut Obj) {
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_str(spec, "restartPolicy", "Always");
    default_ptr(spec, "securityContext", json!({}));
    default_ptr(spec, "terminationGracePeriodSeconds", json!(30));
    default_str(spec, "schedulerName", "default-scheduler");
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for container in items(spec, list) {
            self::container(container);
        }
    }
    for volume in items(spec, "volumes") {
        self::volume(volume);
    }
    mirror_service_account(spec);
}

fn mirror_service_account(spec: &mut Obj) {
    let name = match str_of(spec, "serviceAccountName") {
        "" => str_of(spec, "serviceAccount").to_owned(),
        name => name.to_owned(),
    };
    if !name.is_empty() {
        spec.insert("serviceAccountName".into(), Value::String(name.clone()));
        spec.insert("serviceAccount".into(), Value::String(name));
    }
}

/// `SetDefaults_Container` and the defaults of its ports, env, probes and lifecycle hooks.
fn container(c: &mut Obj) {
    if c.get("imagePullPolicy").is_none_or(|v| v.is_null() || v.as_str() == Some("")) {
        let policy = if image_tag(str_of(c, "image")).as_deref() == Some("latest") { "Always" } else { "IfNotPresent" };
        c.insert("imagePullPolicy".into(), json!(policy));
    }
    default_str(c, "terminationMessagePath", "/dev/termination-log");
    default_str(c, "terminationMessagePolicy", "File");
    for port in items(c, "ports") {
        default_str(port, "protocol", "TCP");
    }
    for env in items(c, "env") {
        if let Some(field_ref) = existing(env, "valueFrom").and_then(|vf| existing(vf, "fieldRef")) {
            default_str(field_ref, "apiVersion", "v1");
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = existing(c, probe) {
            default_int(probe, "timeoutSeconds", 1);
            default_int(probe, "periodSeconds", 10);
            default_int(probe, "successThreshold", 1);
            default_int(probe, "failureThreshold", 3);
            handler(probe);
        }
    }
    if let Some(lifecycle) = existing(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(hook) = existing(lifecycle, hook) {
                handler(hook);
            }
        }
    }
    // `resources` is a struct, not a pointer: Kubernetes always writes it out.
    default_ptr(c, "resources", json!({}));
}

/// `SetDefaults_HTTPGetAction` and the GRPC service default.
fn handler(h: &mut Obj) {
    if let Some(get) = existing(h, "httpGet") {
        default_str(get, "path", "/");
        default_str(get, "scheme", "HTTP");
    }
    if let Some(grpc) = existing(h, "grpc") {
        default_ptr(grpc, "service", json!(""));
    }
}

/// The tag `parsers.ParseImageName` finds: `latest` when there is neither tag nor digest, none
/// when there is only a digest or the reference does not parse.
fn image_tag(image: &str) -> Option<String> {
    if image.is_empty() || image.chars().any(char::is_whitespace) {
        return None;
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    if digest.is_some_and(|d| !d.contains(':')) {
        return None;
    }
    let (remainder, tag) = match name.rfind('/') {
        Some(slash) => {
            let (head, tail) = name.split_at(slash + 1);
            match tail.rsplit_once(':') {
                Some((repo, tag)) => (format!("{head}{repo}"), Some(tag)),
                None => (name.to_owned(), None),
            }
        }
        None => match name.rsplit_once(':') {
            Some((repo, tag)) => (repo.to_owned(), Some(tag)),
            None => (name.to_owned(), None),
        },
    };
    // The first component is a registry host when it has a `.` or `:`, is `localhost`, or has
    // capitals; the repository path must be lower case.
    let path = match remainder.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase()) => rest,
        _ => remainder.as_str(),
    };
    let path_ok = !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
    if !path_ok {
        return None;
    }
    match tag {
        Some(tag) => {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && tag.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            valid.then(|| tag.to_owned())
        }
        None if digest.is_some() => None,
        None => Some("latest".to_owned()),
    }
}

/// Volume defaults: an empty source becomes `emptyDir: {}`; file modes 0644 (420); projected
/// service-account tokens expire after an hour; `hostPath.type` is `""`.
fn volume(v: &mut Obj) {
    if !VOLUME_SOURCES.iter().any(|source| !unset(v, source)) {
        v.insert("emptyDir".into(), json!({}));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = existing(v, source) {
            default_ptr(s, "defaultMode", json!(420));
        }
    }
    if let Some(downward) = existing(v, "downwardAPI") {
        downward_items(downward);
    }
    if let Some(projected) = existing(v, "projected") {
        for source in items(projected, "sources") {
            if let Some(token) = existing(source, "serviceAccountToken") {
                default_ptr(token, "expirationSeconds", json!(3600));
            }
            if let Some(downward) = existing(source, "downwardAPI") {
                downward_items(downward);
            }
        }
    }
    if let Some(host_path) = existing(v, "hostPath") {
        default_ptr(host_path, "type", json!(""));
    }
    if let Some(spec) = existing(v, "ephemeral").and_then(|e| existing(e, "volumeClaimTemplate")).and_then(|t| existing(t, "spec")) {
        pvc_spec(spec);
    }
    if let Some(iscsi) = existing(v, "iscsi") {
        default_str(iscsi, "iscsiInterface", "default");
    }
    if let Some(rbd) = existing(v, "rbd") {
        default_str(rbd, "pool", "rbd");
        default_str(rbd, "user", "admin");
        default_str(rbd, "keyring", "/etc/ceph/keyring");
    }
    if let Some(disk) = existing(v, "azureDisk") {
        default_ptr(disk, "cachingMode", json!("ReadWrite"));
        default_ptr(disk, "kind", json!("Shared"));
        default_ptr(disk, "fsType", json!("ext4"));
        default_ptr(disk, "readOnly", json!(false));
    }
    if let Some(scale_io) = existing(v, "scaleIO") {
        default_str(scale_io, "storageMode", "ThinProvisioned");
        default_str(scale_io, "fsType", "xfs");
    }
}

fn downward_items(downward: &mut Obj) {
    for item in items(downward, "items") {
        if let Some(field_ref) = existing(item, "fieldRef") {
            default_str(field_ref, "apiVersion", "v1");
        }
    }
}

/// A Pod: `SetDefaults_Pod` (requests from limits, `enableServiceLinks`, host ports under host
/// networking) and the pod spec; on create the admission plugins and the strategy's status.
pub(super) fn pod(obj: &mut Obj, create: bool) {
    let Some(spec) = child(obj, "spec") else { return };
    for list in ["containers", "initContainers"] {
        for c in items(spec, list) {
            let Some(resources) = existing(c, "resources") else { continue };
            let limits = resources.get("limits").and_then(Value::as_object).cloned().unwrap_or_default();
            if limits.is_empty() {
                continue;
            }
            if let Some(requests) = child(resources, "requests") {
                for (k, v) in limits {
                    requests.entry(k).or_insert(v);
                }
            }
        }
    }
    default_ptr(spec, "enableServiceLinks", json!(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for list in ["containers", "initContainers"] {
            for c in items(spec, list) {
                for port in items(c, "ports") {
                    if port.get("hostPort").is_none_or(|p| p.is_null() || p.as_i64() == Some(0)) {
                        if let Some(container_port) = port.get("containerPort").cloned() {
                            port.insert("hostPort".into(), container_port);
                        }
                    }
                }
            }
        }
    }
    if create {
        // ServiceAccount admission.
        if str_of(spec, "serviceAccountName").is_empty() && str_of(spec, "serviceAccount").is_empty() {
            spec.insert("serviceAccountName".into(), json!("default"));
        }
        // Priority admission, with no PriorityClass marked global default.
        if unset(spec, "priority") {
            let priority = match str_of(spec, "priorityClassName") {
                "" => Some(0),
                "system-cluster-critical" => Some(2_000_000_000),
                "system-node-critical" => Some(2_000_001_000),
                _ => None,
            };
            if let Some(priority) = priority {
                spec.insert("priority".into(), json!(priority));
            }
        }
        default_ptr(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
        default_tolerations(spec);
    }
    pod_spec(spec);
    if create {
        let qos = qos_class(spec);
        obj.insert("status".into(), json!({"phase": "Pending", "qosClass": qos}));
    }
}

/// The DefaultTolerationSeconds admission plugin: tolerate `not-ready` and `unreachable` nodes
/// for 300 seconds unless the pod already says something about them.
fn default_tolerations(spec: &mut Obj) {
    let existing_tolerations: Vec<(String, String)> = spec
        .get("tolerations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| {
            let key = t.get("key").and_then(Value::as_str).unwrap_or_default().to_owned();
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or_default().to_owned();
            (key, effect)
        })
        .collect();
    let tolerated =
        |taint: &str| existing_tolerations.iter().any(|(k, e)| (k == taint || k.is_empty()) && (e == "NoExecute" || e.is_empty()));
    let mut added = Vec::new();
    for taint in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        if !tolerated(taint) {
            added.push(json!({"key": taint, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
    if added.is_empty() {
        return;
    }
    let slot = spec.entry("tolerations".to_owned()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    if let Some(list) = slot.as_array_mut() {
        list.extend(added);
    }
}

/// `qos.GetPodQOS`: `Guaranteed` when every container limits cpu and memory and requests equal
/// limits, `BestEffort` when nothing is requested or limited, `Burstable` otherwise.
pub(super) fn qos_class(spec: &Obj) -> &'static str {
    let zero = Exact::from_int(0).ok();
    let mut requests: BTreeMap<String, Exact> = BTreeMap::new();
    let mut limits: BTreeMap<String, Exact> = BTreeMap::new();
    let mut guaranteed = true;
    let containers = ["containers", "initContainers"].into_iter().flat_map(|k| spec.get(k).and_then(Value::as_array).into_iter().flatten());
    for c in containers {
        let resources = c.get("resources");
        let list = |key: &str| resources.and_then(|r| r.get(key)).and_then(Value::as_object).cloned().unwrap_or_default();
        for (name, q) in list("requests") {
            add_qos_quantity(&mut requests, &name, &q, zero);
        }
        let mut found = Vec::new();
        for (name, q) in list("limits") {
            if add_qos_quantity(&mut limits, &name, &q, zero) {
                found.push(name);
            }
        }
        if !(found.iter().any(|n| n == "cpu") && found.iter().any(|n| n == "memory")) {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed && requests.iter().all(|(name, req)| limits.get(name) == Some(req)) && requests.len() == limits.len() {
        return "Guaranteed";
    }
    "Burstable"
}

/// Adds a positive cpu or memory quantity to `sums`; whether it counted.
fn add_qos_quantity(sums: &mut BTreeMap<String, Exact>, name: &str, q: &Value, zero: Option<Exact>) -> bool {
    if name != "cpu" && name != "memory" {
        return false;
    }
    let Ok(q) = Exact::from_json(q) else { return false };
    if Some(q) <= zero {
        return false;
    }
    let total = match sums.get(name) {
        Some(prev) => prev.checked_add(q).unwrap_or(q),
        None => q,
    };
    sums.insert(name.to_owned(), total);
    true
}

#[cfg(test)]
mod tests {
    use super::super::tests::defaulted;
    use super::*;

    #[test]
    fn pod_defaults_like_the_api_reference() {
        let pod = defaulted(
            "v1",
            "Pod",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                   "spec": {"containers": [{"name": "web", "image": "nginx",
                        "ports": [{"containerPort": 80}],
                        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                        "livenessProbe": {"httpGet": {"port": 80}},
                        "resources": {"limits": {"cpu": "0.5", "memory": "128Mi"}}}],
                        "volumes": [{"name": "cfg", "configMap": {"name": "c"}}, {"name": "scratch"}, {"name": "s", "secret": {"secretName": "x"}}]}}),
        );
        assert_eq!(
            pod,
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                "spec": {
                    "containers": [{"name": "web", "image": "nginx", "imagePullPolicy": "Always",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName", "apiVersion": "v1"}}}],
                        "livenessProbe": {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
                        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "500m", "memory": "128Mi"}},
                        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
                    "volumes": [{"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}}, {"name": "scratch", "emptyDir": {}},
                        {"name": "s", "secret": {"secretName": "x", "defaultMode": 420}}],
                    "enableServiceLinks": true,
                    "serviceAccountName": "default", "serviceAccount": "default",
                    "priority": 0, "preemptionPolicy": "PreemptLowerPriority",
                    "tolerations": [
                        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
                    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {},
                    "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler"},
                "status": {"phase": "Pending", "qosClass": "Guaranteed"}})
        );
    }

    #[test]
    fn image_pull_policy_follows_the_tag() {
        let policy = |image: &str| {
            let pod = defaulted("v1", "Pod", json!({"spec": {"containers": [{"name": "a", "image": image}]}}));
            pod.pointer("/spec/containers/0/imagePullPolicy").cloned()
        };
        assert_eq!(policy("nginx"), Some(json!("Always")));
        assert_eq!(policy("nginx:latest"), Some(json!("Always")));
        assert_eq!(policy("nginx:1.27"), Some(json!("IfNotPresent")));
        assert_eq!(policy("registry.local:5000/team/app"), Some(json!("Always")));
        assert_eq!(policy("registry.local:5000/team/app:v2"), Some(json!("IfNotPresent")));
        assert_eq!(policy("nginx@sha256:0123456789abcdef"), Some(json!("IfNotPresent")));
        assert_eq!(policy("nginx:latest@sha256:0123456789abcdef"), Some(json!("Always")));
        assert_eq!(policy("Nginx"), Some(json!("IfNotPresent")));
        assert_eq!(policy(""), Some(json!("IfNotPresent")));
        let pod = defaulted("v1", "Pod", json!({"spec": {"containers": [{"name": "a", "image": "nginx", "imagePullPolicy": "Never"}]}}));
        assert_eq!(pod.pointer("/spec/containers/0/imagePullPolicy"), Some(&json!("Never")));
    }

    #[test]
    fn qos_classes() {
        let qos = |resources: Value| {
            let pod = defaulted("v1", "Pod", json!({"spec": {"containers": [{"name": "a", "image": "x", "resources": resources}]}}));
            pod.pointer("/status/qosClass").cloned()
        };
        assert_eq!(qos(json!({})), Some(json!("BestEffort")));
        assert_eq!(qos(json!({"requests": {"cpu": "100m"}})), Some(json!("Burstable")));
        assert_eq!(qos(json!({"limits": {"cpu": "1", "memory": "1Gi"}})), Some(json!("Guaranteed")));
        assert_eq!(qos(json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}})), Some(json!("Burstable")));
        assert_eq!(
            qos(json!({"limits": {"cpu": "1000m", "memory": "1024Mi"}, "requests": {"cpu": 1, "memory": "1Gi"}})),
            Some(json!("Guaranteed"))
        );
    }

    #[test]
    fn pod_admission_keeps_what_the_client_chose() {
        let pod = defaulted(
            "v1",
            "Pod",
            json!({"spec": {"serviceAccountName": "builder", "priorityClassName": "system-node-critical",
                "tolerations": [{"operator": "Exists"}], "hostNetwork": true,
                "containers": [{"name": "a", "image": "x:1", "ports": [{"containerPort": 8080}]}]}}),
        );
        assert_eq!(pod.pointer("/spec/serviceAccount"), Some(&json!("builder")));
        assert_eq!(pod.pointer("/spec/priority"), Some(&json!(2_000_001_000)));
        assert_eq!(pod.pointer("/spec/tolerations"), Some(&json!([{"operator": "Exists"}])));
        assert_eq!(pod.pointer("/spec/containers/0/ports/0/hostPort"), Some(&json!(8080)));
        // A deprecated `serviceAccount` alone names the account too.
        let pod = defaulted("v1", "Pod", json!({"spec": {"serviceAccount": "legacy", "containers": []}}));
        assert_eq!(pod.pointer("/spec/serviceAccountName"), Some(&json!("legacy")));
    }

    #[test]
    fn volume_and_probe_variants() {
        let pod = defaulted(
            "v1",
            "Pod",
            json!({"spec": {"containers": [{"name": "a", "image": "x:1",
                    "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 5},
                    "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/quit"}}}}],
                "volumes": [
                    {"name": "h", "hostPath": {"path": "/data"}},
                    {"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}},
                        {"downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}}]}},
                    {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "1024Mi"}}}}}},
                    {"name": "t", "emptyDir": {"sizeLimit": "1024Mi"}}]}}),
        );
        assert_eq!(
            pod.pointer("/spec/containers/0/readinessProbe"),
            Some(
                &json!({"grpc": {"port": 9000, "service": ""}, "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3})
            )
        );
        assert_eq!(
            pod.pointer("/spec/containers/0/lifecycle/preStop/httpGet"),
            Some(&json!({"port": 80, "path": "/quit", "scheme": "HTTP"}))
        );
        assert_eq!(pod.pointer("/spec/volumes/0/hostPath"), Some(&json!({"path": "/data", "type": ""})));
        assert_eq!(
            pod.pointer("/spec/volumes/1/projected"),
            Some(&json!({"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                {"downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v1"}}]}}], "defaultMode": 420}))
        );
        assert_eq!(
            pod.pointer("/spec/volumes/2/ephemeral/volumeClaimTemplate/spec"),
            Some(&json!({"resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"}))
        );
        assert_eq!(pod.pointer("/spec/volumes/3/emptyDir/sizeLimit"), Some(&json!("1Gi")));
    }
}
