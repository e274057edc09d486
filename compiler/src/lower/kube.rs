//! Namespaces (with their ResourceQuota and LimitRange), ConfigMaps, Secrets and
//! StorageClasses.

use base64::Engine;
use serde_json::{json, Map, Value as Json};

use super::{namespace_of, str_or, string_map, Lowering};
use crate::access::{bool_of, qty_of, scalar_string, str_of};
use crate::check::{CephMode, ClusterInfo};
use crate::eval::{BodyValue, Resource};
use crate::value::Value;

/// The Pod Security admission label that sets a namespace's enforced level.
pub(crate) const POD_SECURITY_ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// A map of canonical quantities from `(attribute, key)` pairs that are set.
fn quantities(body: &BodyValue, pairs: &[(&str, &str)]) -> Map<String, Json> {
    let mut m = Map::new();
    for (attr, key) in pairs {
        if let Some(q) = qty_of(body, attr) {
            m.insert((*key).to_string(), json!(q.canonical()));
        }
    }
    m
}

pub(super) fn namespace(cx: &mut Lowering, res: &Resource) {
    let name = res.addr.name.clone();
    cx.kube(res, "v1", "Namespace", None, &name, vec![], vec![]);
    if let Some(level) = str_of(&res.body, "pod_security") {
        // Pod Security admission's labels (LANGUAGE.md §10): enforce the level, at the
        // cluster's latest version of it.
        if let Some(Json::Object(labels)) = cx.objects.last_mut().and_then(|o| o.body.pointer_mut("/metadata/labels")) {
            labels.insert(POD_SECURITY_ENFORCE.into(), json!(level));
            labels.insert(format!("{POD_SECURITY_ENFORCE}-version"), json!("latest"));
        }
    }
    if let Some(q) = res.body.block("quota") {
        let hard = quantities(
            &q.body,
            &[
                ("cpu", "requests.cpu"),
                ("memory", "requests.memory"),
                ("limits_cpu", "limits.cpu"),
                ("limits_memory", "limits.memory"),
                ("pods", "pods"),
                ("storage", "requests.storage"),
                ("pvcs", "persistentvolumeclaims"),
            ],
        );
        cx.kube(res, "v1", "ResourceQuota", Some(&name), &format!("{name}-quota"), vec![("spec", json!({ "hard": hard }))], vec![]);
    }
    if let Some(l) = res.body.block("limits") {
        let mut item = Map::new();
        item.insert("type".into(), json!("Container"));
        for (key, cpu, memory) in [
            ("default", "default_cpu", "default_memory"),
            ("defaultRequest", "default_request_cpu", "default_request_memory"),
            ("max", "max_cpu", "max_memory"),
        ] {
            let m = quantities(&l.body, &[(cpu, "cpu"), (memory, "memory")]);
            if !m.is_empty() {
                item.insert(key.into(), Json::Object(m));
            }
        }
        cx.kube(res, "v1", "LimitRange", Some(&name), &format!("{name}-limits"), vec![("spec", json!({ "limits": [item] }))], vec![]);
    }
}

pub(super) fn config(cx: &mut Lowering, res: &Resource) {
    let ns = namespace_of(res);
    let mut data = Map::new();
    for (k, v) in string_map(res.body.get("data")) {
        data.insert(k, json!(v));
    }
    let name = res.addr.name.clone();
    cx.kube(res, "v1", "ConfigMap", ns.as_deref(), &name, vec![("data", Json::Object(data))], vec![]);
}

pub(super) fn service_account(cx: &mut Lowering, res: &Resource) {
    let ns = namespace_of(res);
    let name = res.addr.name.clone();
    cx.kube(res, "v1", "ServiceAccount", ns.as_deref(), &name, vec![], vec![]);
}

pub(super) fn secret(cx: &mut Lowering, res: &Resource) {
    let ns = namespace_of(res);
    let mut data = Map::new();
    let mut sensitive = Vec::new();
    if let Some(Value::Map(m)) = res.body.get("data").map(|v| v.unwrap_sensitive().0) {
        for (k, v) in m.iter() {
            let Some(s) = scalar_string(v) else { continue };
            data.insert(k.clone(), json!(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())));
            sensitive.push(format!("/data/{}", pointer_escape(k)));
        }
    }
    let name = res.addr.name.clone();
    let ty = str_or(&res.body, "type", "Opaque");
    cx.kube(res, "v1", "Secret", ns.as_deref(), &name, vec![("type", json!(ty)), ("data", Json::Object(data))], sensitive);
}

pub(super) fn storage_class(cx: &mut Lowering, res: &Resource, cluster: &ClusterInfo) {
    let body = &res.body;
    let filesystem = crate::access::name_of(body, "filesystem");
    let cephfs = filesystem.is_some();
    let rook = cluster.mode == CephMode::Rook;
    let cluster_id = if rook { cluster.rook_namespace.clone() } else { cluster.fsid.clone().unwrap_or_default() };
    let (provisioner, prov_secret, node_secret, secret_ns) = match (cephfs, rook) {
        (false, true) => ("rook-ceph.rbd.csi.ceph.com", "rook-csi-rbd-provisioner", "rook-csi-rbd-node", cluster.rook_namespace.clone()),
        (false, false) => ("rbd.csi.ceph.com", "csi-rbd-secret", "csi-rbd-secret", "ceph-csi-rbd".to_string()),
        (true, true) => {
            ("rook-ceph.cephfs.csi.ceph.com", "rook-csi-cephfs-provisioner", "rook-csi-cephfs-node", cluster.rook_namespace.clone())
        }
        (true, false) => ("cephfs.csi.ceph.com", "csi-cephfs-secret", "csi-cephfs-secret", "ceph-csi-cephfs".to_string()),
    };
    let prov_secret = str_of(body, "csi_secret").unwrap_or_else(|| prov_secret.to_string());
    let node_secret = str_of(body, "csi_secret").unwrap_or_else(|| node_secret.to_string());
    let secret_ns = str_of(body, "csi_secret_namespace").unwrap_or(secret_ns);
    let mut params = Map::new();
    params.insert("clusterID".into(), json!(cluster_id));
    match &filesystem {
        Some(fs) => {
            let data = str_of(body, "data").or_else(|| first_data_pool(cx, fs)).unwrap_or_default();
            params.insert("fsName".into(), json!(fs));
            params.insert("pool".into(), json!(format!("{fs}-{data}")));
        }
        None => {
            params.insert("pool".into(), json!(crate::access::name_of(body, "pool").unwrap_or_default()));
            params.insert("imageFormat".into(), json!("2"));
            params.insert("imageFeatures".into(), json!("layering"));
        }
    }
    for (key, value) in [
        ("csi.storage.k8s.io/provisioner-secret-name", &prov_secret),
        ("csi.storage.k8s.io/provisioner-secret-namespace", &secret_ns),
        ("csi.storage.k8s.io/controller-expand-secret-name", &prov_secret),
        ("csi.storage.k8s.io/controller-expand-secret-namespace", &secret_ns),
        ("csi.storage.k8s.io/node-stage-secret-name", &node_secret),
        ("csi.storage.k8s.io/node-stage-secret-namespace", &secret_ns),
    ] {
        params.insert(key.into(), json!(value));
    }
    if !cephfs {
        params.insert("csi.storage.k8s.io/fstype".into(), json!(str_or(body, "fs_type", "ext4")));
    }
    let mut rest = vec![
        ("provisioner", json!(provisioner)),
        ("parameters", Json::Object(params)),
        ("reclaimPolicy", json!(str_or(body, "reclaim", "Delete"))),
        ("allowVolumeExpansion", json!(bool_of(body, "expansion").unwrap_or(true))),
    ];
    if let Some(b) = str_of(body, "binding") {
        rest.push(("volumeBindingMode", json!(b)));
    }
    let name = res.addr.name.clone();
    cx.kube(res, "storage.k8s.io/v1", "StorageClass", None, &name, rest, vec![]);
    if bool_of(body, "default") == Some(true) {
        if let Some(Json::Object(ann)) = cx.objects.last_mut().and_then(|o| o.body.pointer_mut("/metadata/annotations")) {
            ann.insert("storageclass.kubernetes.io/is-default-class".into(), json!("true"));
        }
    }
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub(crate) fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The name of file system `fs`'s first data pool block, as declared.
fn first_data_pool(cx: &Lowering, fs: &str) -> Option<String> {
    cx.filesystems.get(fs).cloned()
}
