//! Defaulting and normalization per kind, as kube-apiserver 1.33 does.
//!
//! [`apply_defaults`] is what a new object goes through between the request body and storage:
//! the `SetDefaults_*` functions of `pkg/apis/*/v1/defaults.go` (and the declarative defaults
//! generated beside them), the v1 conversions with visible effects (`stringData` folded into
//! `data`, `serviceAccount` mirroring `serviceAccountName`), the create-time preparation of the
//! registry strategies (fresh `status`, Namespace finalizers, Job selectors, `generation: 1`),
//! the admission plugins enabled by default that only fill fields (ServiceAccount,
//! DefaultTolerationSeconds, Priority, DefaultStorageClass, StorageObjectInUseProtection), and
//! Service IP and node-port allocation. Quantities in resource lists become canonical strings.
//!
//! [`apply_update_defaults`] is only the decode-time part, for updates and patches: no status
//! reset, no allocation, no admission.

mod pod;
mod quantities;
mod service;
mod workloads;

pub(crate) use pod::VOLUME_SOURCES;

use base64::Engine as _;
use serde_json::{json, Map, Value};

pub(crate) use quantities::for_each_quantity;

/// What defaulting needs from the cluster around the object.
pub trait DefaultsContext {
    /// A free IPv4 address from the service CIDR, for a Service's `spec.clusterIP`.
    fn allocate_cluster_ip(&mut self) -> String;
    /// The name of the StorageClass annotated `storageclass.kubernetes.io/is-default-class`.
    fn default_storage_class(&self) -> Option<String>;
    /// A free port from the node-port range (30000-32767) for NodePort and LoadBalancer
    /// Services; `None` (the default) leaves `nodePort` unset.
    fn allocate_node_port(&mut self) -> Option<i64> {
        None
    }
}

/// Defaults a new object of `api_version`/`kind` in place, as kube-apiserver does on create
/// (see the module documentation). Unknown kinds and non-object values are left untouched.
pub fn apply_defaults(api_version: &str, kind: &str, obj: &mut Value, ctx: &mut dyn DefaultsContext) {
    run(api_version, kind, obj, Some(ctx));
}

/// Defaults an updated object: the decode-time defaults of [`apply_defaults`] only.
pub fn apply_update_defaults(api_version: &str, kind: &str, obj: &mut Value) {
    run(api_version, kind, obj, None);
}

pub(crate) type Obj = Map<String, Value>;

/// The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

fn run(api_version: &str, kind: &str, obj: &mut Value, ctx: Option<&mut dyn DefaultsContext>) {
    let group = group_of(api_version);
    let create = ctx.is_some();
    let Some(map) = obj.as_object_mut() else { return };
    match (group, kind) {
        ("", "Namespace") => namespace(map, create),
        ("", "Secret") => secret(map),
        ("", "Service") => service::service(map, ctx),
        ("", "PersistentVolumeClaim") => pvc(map, ctx),
        ("", "PersistentVolume") => pv(map, create),
        ("", "Pod") => pod::pod(map, create),
        ("", "PodTemplate") => pod::template(map, "template"),
        ("", "ReplicationController") => workloads::replication_controller(map, create),
        ("", "Endpoints") => endpoints(map),
        ("", "LimitRange") => limit_range(map),
        ("", "ResourceQuota") if create => {
            map.insert("status".into(), json!({}));
        }
        ("apps", "Deployment") => workloads::deployment(map, create),
        ("apps", "ReplicaSet") => workloads::replica_set(map, create),
        ("apps", "StatefulSet") => workloads::stateful_set(map, create),
        ("apps", "DaemonSet") => workloads::daemon_set(map, create),
        ("batch", "Job") => workloads::job(map, create),
        ("autoscaling", "HorizontalPodAutoscaler") => autoscaler(map),
        ("batch", "CronJob") => workloads::cron_job(map, create),
        ("storage.k8s.io", "StorageClass") => storage_class(map),
        ("networking.k8s.io", "NetworkPolicy") => network_policy(map, create),
        _ => {}
    }
    for_each_quantity(group, kind, obj, &mut |slot, resource_list| {
        if let Ok(q) = cairn_core::Quantity::from_json(slot) {
            let q = if resource_list { q.round_up_milli() } else { q };
            *slot = Value::String(q.canonical());
        }
    });
}

/// The object at `key`, created empty when absent or `null`; `None` when the field holds
/// something else (the request is malformed and decoding will reject it).
pub(crate) fn child<'a>(map: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    let slot = map.entry(key.to_owned()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

/// The object at `key` if there is one.
pub(crate) fn existing<'a>(map: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// The object items of the list at `key`.
pub(crate) fn items<'a>(map: &'a mut Obj, key: &str) -> impl Iterator<Item = &'a mut Obj> {
    map.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten().filter_map(Value::as_object_mut)
}

/// Whether `key` is absent or `null` (an unset pointer).
pub(crate) fn unset(map: &Obj, key: &str) -> bool {
    map.get(key).is_none_or(Value::is_null)
}

/// Sets a pointer field that is unset.
pub(crate) fn default_ptr(map: &mut Obj, key: &str, value: Value) {
    if unset(map, key) {
        map.insert(key.to_owned(), value);
    }
}

/// Sets a string field that is unset or empty.
pub(crate) fn default_str(map: &mut Obj, key: &str, value: &str) {
    if map.get(key).is_none_or(|v| v.is_null() || v.as_str() == Some("")) {
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

/// Sets an integer field that is unset or zero.
pub(crate) fn default_int(map: &mut Obj, key: &str, value: i64) {
    if map.get(key).is_none_or(|v| v.is_null() || v.as_i64() == Some(0)) {
        map.insert(key.to_owned(), json!(value));
    }
}

/// The string at `key`, or `""`.
pub(crate) fn str_of<'a>(map: &'a Obj, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Appends `value` to the string list at `key` unless it is there.
fn add_to_list(map: &mut Obj, key: &str, value: &str) {
    let slot = map.entry(key.to_owned()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    if let Some(list) = slot.as_array_mut() {
        if !list.iter().any(|v| v.as_str() == Some(value)) {
            list.push(Value::String(value.to_owned()));
        }
    }
}

/// Namespace: `SetDefaults_Namespace` (the `kubernetes.io/metadata.name` label),
/// `SetDefaults_NamespaceStatus` (phase Active) and, on create, the strategy's fresh status and
/// the `kubernetes` finalizer.
fn namespace(obj: &mut Obj, create: bool) {
    let name = obj.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or_default().to_owned();
    if !name.is_empty() {
        if let Some(labels) = child(obj, "metadata").and_then(|m| child(m, "labels")) {
            labels.insert("kubernetes.io/metadata.name".into(), Value::String(name));
        }
    }
    if create {
        obj.insert("status".into(), json!({"phase": "Active"}));
        if let Some(spec) = child(obj, "spec") {
            add_to_list(spec, "finalizers", "kubernetes");
        }
    } else if let Some(status) = child(obj, "status") {
        default_str(status, "phase", "Active");
    }
}

/// Secret: type Opaque; `stringData` is folded into `data` (base64) and dropped, as the v1
/// conversion does.
fn secret(obj: &mut Obj) {
    default_str(obj, "type", "Opaque");
    let Some(string_data) = obj.shift_remove("stringData") else { return };
    let Value::Object(string_data) = string_data else { return };
    if string_data.is_empty() {
        return;
    }
    if let Some(data) = child(obj, "data") {
        for (k, v) in string_data {
            let text = v.as_str().unwrap_or_default();
            data.insert(k, Value::String(base64::engine::general_purpose::STANDARD.encode(text.as_bytes())));
        }
    }
}

/// `SetDefaults_PersistentVolumeClaimSpec`.
pub(crate) fn pvc_spec(spec: &mut Obj) {
    default_ptr(spec, "volumeMode", json!("Filesystem"));
}

/// PersistentVolumeClaim: volumeMode Filesystem, phase Pending; on create the
/// DefaultStorageClass and StorageObjectInUseProtection admission plugins.
fn pvc(obj: &mut Obj, ctx: Option<&mut dyn DefaultsContext>) {
    let has_beta_class =
        obj.get("metadata").and_then(|m| m.get("annotations")).and_then(|a| a.get("volume.beta.kubernetes.io/storage-class")).is_some();
    if let Some(spec) = child(obj, "spec") {
        pvc_spec(spec);
        if let Some(ctx) = &ctx {
            if unset(spec, "storageClassName") && !has_beta_class {
                if let Some(class) = ctx.default_storage_class() {
                    spec.insert("storageClassName".into(), Value::String(class));
                }
            }
        }
    }
    if ctx.is_some() {
        obj.insert("status".into(), json!({"phase": "Pending"}));
        if let Some(meta) = child(obj, "metadata") {
            add_to_list(meta, "finalizers", "kubernetes.io/pvc-protection");
        }
    } else if let Some(status) = child(obj, "status") {
        default_str(status, "phase", "Pending");
    }
}

/// PersistentVolume: reclaim policy Retain, volumeMode Filesystem, phase Pending; on create the
/// `kubernetes.io/pv-protection` finalizer.
fn pv(obj: &mut Obj, create: bool) {
    if let Some(spec) = child(obj, "spec") {
        default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
        default_ptr(spec, "volumeMode", json!("Filesystem"));
        if let Some(host_path) = existing(spec, "hostPath") {
            default_ptr(host_path, "type", json!(""));
        }
    }
    if create {
        obj.insert("status".into(), json!({"phase": "Pending"}));
        if let Some(meta) = child(obj, "metadata") {
            add_to_list(meta, "finalizers", "kubernetes.io/pv-protection");
        }
    } else if let Some(status) = child(obj, "status") {
        default_str(status, "phase", "Pending");
    }
}

/// Endpoints: port protocol TCP.
fn endpoints(obj: &mut Obj) {
    for subset in items(obj, "subsets") {
        for port in items(subset, "ports") {
            default_str(port, "protocol", "TCP");
        }
    }
}

/// LimitRange: `SetDefaults_LimitRangeItem` for `Container` items — `default` from `max`,
/// then `defaultRequest` from `default`, then from `min`.
fn limit_range(obj: &mut Obj) {
    let Some(spec) = existing(obj, "spec") else { return };
    for item in items(spec, "limits") {
        if str_of(item, "type") != "Container" {
            continue;
        }
        let max = item.get("max").and_then(Value::as_object).cloned().unwrap_or_default();
        let min = item.get("min").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut default = item.get("default").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut default_request = item.get("defaultRequest").and_then(Value::as_object).cloned().unwrap_or_default();
        for (k, v) in max {
            default.entry(k).or_insert(v);
        }
        for (k, v) in &default {
            default_request.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in min {
            default_request.entry(k).or_insert(v);
        }
        if !default.is_empty() {
            item.insert("default".into(), Value::Object(default));
        }
        if !default_request.is_empty() {
            item.insert("defaultRequest".into(), Value::Object(default_request));
        }
    }
}

/// StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate.
fn storage_class(obj: &mut Obj) {
    default_ptr(obj, "reclaimPolicy", json!("Delete"));
    default_ptr(obj, "volumeBindingMode", json!("Immediate"));
}

/// NetworkPolicy: port protocol TCP; policyTypes `[Ingress]`, plus `Egress` when egress rules
/// are given.
fn network_policy(obj: &mut Obj, create: bool) {
    if create {
        if let Some(meta) = child(obj, "metadata") {
            meta.insert("generation".into(), json!(1));
        }
    }
    let Some(spec) = child(obj, "spec") else { return };
    for direction in ["ingress", "egress"] {
        for rule in items(spec, direction) {
            for port in items(rule, "ports") {
                default_ptr(port, "protocol", json!("TCP"));
            }
        }
    }
    if spec.get("policyTypes").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        let has_egress = spec.get("egress").and_then(Value::as_array).is_some_and(|e| !e.is_empty());
        let types = if has_egress { json!(["Ingress", "Egress"]) } else { json!(["Ingress"]) };
        spec.insert("policyTypes".into(), types);
    }
}

/// HorizontalPodAutoscaler (`SetDefaults_HorizontalPodAutoscaler`): `minReplicas: 1`, CPU at
/// 80 % utilization when no metric is given, and a given `behavior` completed with the default
/// scaling rules (the scale-down window stays unset: the controller uses its own, 300 s).
fn autoscaler(map: &mut Obj) {
    let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if spec.get("minReplicas").is_none_or(Value::is_null) {
        spec.insert("minReplicas".into(), json!(1));
    }
    if spec.get("metrics").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    let Some(behavior) = spec.get_mut("behavior").and_then(Value::as_object_mut) else { return };
    let rules = [
        (
            "scaleUp",
            Some(0),
            json!([{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]),
        ),
        ("scaleDown", None, json!([{"type": "Percent", "value": 100, "periodSeconds": 15}])),
    ];
    for (direction, window, policies) in rules {
        let entry = behavior.entry(direction).or_insert_with(|| json!({}));
        if entry.is_null() {
            *entry = json!({});
        }
        let Some(r) = entry.as_object_mut() else { continue };
        if let Some(window) = window {
            r.entry("stabilizationWindowSeconds").or_insert(json!(window));
        }
        r.entry("selectPolicy").or_insert(json!("Max"));
        if r.get("policies").is_none_or(Value::is_null) {
            r.insert("policies".into(), policies);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A context handing out 10.96.0.10, 10.96.0.11, ... and node ports from 30000.
    pub(crate) struct TestContext {
        pub next_ip: u8,
        pub next_port: i64,
        pub storage_class: Option<String>,
    }

    impl Default for TestContext {
        fn default() -> Self {
            TestContext { next_ip: 10, next_port: 30000, storage_class: Some("standard".into()) }
        }
    }

    impl DefaultsContext for TestContext {
        fn allocate_cluster_ip(&mut self) -> String {
            let ip = format!("10.96.0.{}", self.next_ip);
            self.next_ip = self.next_ip.saturating_add(1);
            ip
        }
        fn default_storage_class(&self) -> Option<String> {
            self.storage_class.clone()
        }
        fn allocate_node_port(&mut self) -> Option<i64> {
            let port = self.next_port;
            self.next_port += 1;
            Some(port)
        }
    }

    pub(crate) fn defaulted(api_version: &str, kind: &str, mut obj: Value) -> Value {
        apply_defaults(api_version, kind, &mut obj, &mut TestContext::default());
        obj
    }

    #[test]
    fn namespace_gets_label_finalizer_and_phase() {
        let ns = defaulted("v1", "Namespace", json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}));
        assert_eq!(
            ns,
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
                   "status": {"phase": "Active"}, "spec": {"finalizers": ["kubernetes"]}})
        );
        // A client-chosen finalizer list keeps its items and gains `kubernetes`.
        let ns = defaulted("v1", "Namespace", json!({"metadata": {"name": "b"}, "spec": {"finalizers": ["example.com/x"]}}));
        assert_eq!(ns.pointer("/spec/finalizers"), Some(&json!(["example.com/x", "kubernetes"])));
        // The label always follows the name, even when a client sets something else.
        let mut ns = json!({"metadata": {"name": "c", "labels": {"kubernetes.io/metadata.name": "other"}}});
        apply_update_defaults("v1", "Namespace", &mut ns);
        assert_eq!(ns.pointer("/metadata/labels/kubernetes.io~1metadata.name"), Some(&json!("c")));
        assert_eq!(ns.pointer("/spec"), None);
    }

    #[test]
    fn secret_gets_type_and_folds_string_data() {
        let s =
            defaulted("v1", "Secret", json!({"metadata": {"name": "s"}, "data": {"a": "YQ=="}, "stringData": {"b": "hello", "a": "z"}}));
        assert_eq!(s, json!({"metadata": {"name": "s"}, "data": {"a": "eg==", "b": "aGVsbG8="}, "type": "Opaque"}));
        let tls = defaulted("v1", "Secret", json!({"type": "kubernetes.io/tls"}));
        assert_eq!(tls, json!({"type": "kubernetes.io/tls"}));
    }

    #[test]
    fn config_map_and_lease_are_left_alone() {
        let cm = json!({"metadata": {"name": "c"}, "data": {"k": "v"}});
        assert_eq!(defaulted("v1", "ConfigMap", cm.clone()), cm);
        let lease = json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "x"}});
        assert_eq!(defaulted("coordination.k8s.io/v1", "Lease", lease.clone()), lease);
        let custom = json!({"spec": {"cpu": 1}});
        assert_eq!(defaulted("example.com/v1", "Widget", custom.clone()), custom);
    }

    #[test]
    fn pvc_gets_volume_mode_class_phase_and_protection() {
        let pvc = defaulted(
            "v1",
            "PersistentVolumeClaim",
            json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}}),
        );
        assert_eq!(
            pvc,
            json!({"metadata": {"name": "data", "finalizers": ["kubernetes.io/pvc-protection"]},
                   "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                            "volumeMode": "Filesystem", "storageClassName": "standard"},
                   "status": {"phase": "Pending"}})
        );
        // An explicit empty class means "no class" and stays.
        let pvc = defaulted("v1", "PersistentVolumeClaim", json!({"spec": {"storageClassName": ""}}));
        assert_eq!(pvc.pointer("/spec/storageClassName"), Some(&json!("")));
        let mut ctx = TestContext { storage_class: None, ..TestContext::default() };
        let mut pvc = json!({"spec": {}});
        apply_defaults("v1", "PersistentVolumeClaim", &mut pvc, &mut ctx);
        assert_eq!(pvc.pointer("/spec/storageClassName"), None);
    }

    #[test]
    fn storage_class_defaults() {
        let sc = defaulted("storage.k8s.io/v1", "StorageClass", json!({"provisioner": "x"}));
        assert_eq!(sc, json!({"provisioner": "x", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}));
        let sc = defaulted("storage.k8s.io/v1", "StorageClass", json!({"provisioner": "x", "reclaimPolicy": "Retain"}));
        assert_eq!(sc.get("reclaimPolicy"), Some(&json!("Retain")));
    }

    #[test]
    fn resource_quota_and_limit_range_quantities() {
        let rq = defaulted(
            "v1",
            "ResourceQuota",
            json!({"spec": {"hard": {"requests.cpu": 2, "requests.memory": "2048Mi", "pods": "10", "limits.cpu": "0.5"}}}),
        );
        assert_eq!(
            rq.pointer("/spec/hard"),
            Some(&json!({"requests.cpu": "2", "requests.memory": "2Gi", "pods": "10", "limits.cpu": "500m"}))
        );
        let lr = defaulted(
            "v1",
            "LimitRange",
            json!({"spec": {"limits": [
                {"type": "Container", "max": {"cpu": "2", "memory": "1Gi"}, "min": {"cpu": "100m", "memory": "64Mi"}, "default": {"memory": "512Mi"}},
                {"type": "Pod", "max": {"cpu": "4"}}]}}),
        );
        assert_eq!(
            lr.pointer("/spec/limits/0"),
            Some(&json!({"type": "Container", "max": {"cpu": "2", "memory": "1Gi"}, "min": {"cpu": "100m", "memory": "64Mi"},
                         "default": {"memory": "512Mi", "cpu": "2"}, "defaultRequest": {"memory": "512Mi", "cpu": "2"}}))
        );
        assert_eq!(lr.pointer("/spec/limits/1"), Some(&json!({"type": "Pod", "max": {"cpu": "4"}})));
        let lr = defaulted("v1", "LimitRange", json!({"spec": {"limits": [{"type": "Container", "min": {"cpu": "100m"}}]}}));
        assert_eq!(lr.pointer("/spec/limits/0/defaultRequest"), Some(&json!({"cpu": "100m"})));
        assert_eq!(lr.pointer("/spec/limits/0/default"), None);
    }

    #[test]
    fn network_policy_types() {
        let np = defaulted("networking.k8s.io/v1", "NetworkPolicy", json!({"spec": {"egress": [{"ports": [{"port": 53}]}]}}));
        assert_eq!(np.pointer("/spec/policyTypes"), Some(&json!(["Ingress", "Egress"])));
        assert_eq!(np.pointer("/spec/egress/0/ports/0/protocol"), Some(&json!("TCP")));
        let np = defaulted("networking.k8s.io/v1", "NetworkPolicy", json!({"spec": {"podSelector": {}}}));
        assert_eq!(np.pointer("/spec/policyTypes"), Some(&json!(["Ingress"])));
    }

    #[test]
    fn malformed_objects_do_not_panic() {
        for kind in ["Pod", "Service", "Namespace", "Secret", "PersistentVolumeClaim", "LimitRange", "ResourceQuota"] {
            for body in [
                json!(null),
                json!([]),
                json!({"spec": 5, "metadata": "x", "status": []}),
                json!({"spec": {"containers": "x", "ports": [1, null]}}),
            ] {
                let mut obj = body;
                apply_defaults("v1", kind, &mut obj, &mut TestContext::default());
            }
        }
        for kind in ["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"] {
            let mut obj = json!({"spec": {"template": {"spec": {"containers": [{"resources": {"limits": {"cpu": "x"}}}]}}, "volumeClaimTemplates": 1}});
            apply_defaults("apps/v1", kind, &mut obj, &mut TestContext::default());
        }
    }
}
