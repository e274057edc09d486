//! Existing objects (`existing = true`, LANGUAGE.md §10) at plan time: each must be live, and
//! the uses that need its live attributes must fit them — a `ReadWriteMany` volume needs a class
//! that does not provision RBD images, a data key read by `env` must be in the secret or
//! config, a route's TLS secret must be of type `kubernetes.io/tls`. Every failure is a
//! refusal naming the object and the source line; no value of a secret is ever named. Pure.

use std::collections::{BTreeMap, BTreeSet};

use cairn_compiler::existing::UseKind;
use serde_json::Value as Json;

use super::Refusal;
use crate::ceph::fs_spec::FS_KIND;
use crate::ceph::spec::POOL_KIND;
use crate::model::{ExistingObject, GroupKind, ObjectKey};

/// The refusals for `existing` against the live objects found (`live`); `unserved` are the
/// kinds the cluster does not serve (Rook not installed).
pub fn check(existing: &[ExistingObject], live: &BTreeMap<ObjectKey, Json>, unserved: &BTreeSet<GroupKind>) -> Vec<Refusal> {
    let mut out = Vec::new();
    for e in existing {
        match live.get(&e.key) {
            None => out.push(missing(e, unserved.contains(&e.key.group_kind()))),
            Some(obj) => out.extend(e.uses.iter().filter_map(|u| misfit(e, u, obj))),
        }
    }
    out
}

/// The command that shows the object, as a user would type it.
pub fn show_command(key: &ObjectKey) -> String {
    match (key.kind.as_str(), &key.namespace) {
        (POOL_KIND, None) => format!("ceph osd pool ls | grep -x {}", key.name),
        (FS_KIND, None) => format!("ceph fs get {}", key.name),
        (kind, Some(ns)) => format!("kubectl get {} {} -n {ns}", kind.to_lowercase(), key.name),
        (kind, None) => format!("kubectl get {} {}", kind.to_lowercase(), key.name),
    }
}

/// What an object is called in messages: `StorageClass standard`, `Secret shop/registry`, `pool fast`.
fn what(key: &ObjectKey) -> String {
    match (key.kind.as_str(), &key.namespace) {
        (POOL_KIND, None) => format!("Ceph pool `{}`", key.name),
        (FS_KIND, None) => format!("Ceph file system `{}`", key.name),
        (kind, Some(ns)) => format!("{kind} `{ns}/{}`", key.name),
        (kind, None) => format!("{kind} `{}`", key.name),
    }
}

fn missing(e: &ExistingObject, unserved: bool) -> Refusal {
    let mut users: Vec<&str> = e.uses.iter().map(|u| u.by.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    let used = match users.as_slice() {
        [] => String::new(),
        some => format!("; {} uses it", some.join(", ")),
    };
    let (message, help) = if unserved {
        (
            format!("{} is `existing`, but the cluster does not serve {} ({}){used}", e.address, e.key.kind, e.key.api_version),
            format!("{} is Rook's: install Rook in the cluster, or point cairn at the cluster that has it", e.key.kind),
        )
    } else {
        (
            format!("{} is `existing`, but {} does not exist{used}", e.address, what(&e.key)),
            format!(
                "cairn uses it and never creates it: create it (or fix the name), then plan again; `{}` shows it. To have cairn manage it, remove `existing = true` and declare it",
                show_command(&e.key)
            ),
        )
    };
    Refusal { key: e.key.clone(), address: Some(e.address.clone()), message, help, at: Some(e.at.clone()) }
}

/// The refusal of one use that the live object does not allow.
fn misfit(e: &ExistingObject, u: &crate::model::ExistingUse, obj: &Json) -> Option<Refusal> {
    let (message, help) = match &u.what {
        UseKind::SharedVolume => {
            let provisioner = obj.get("provisioner").and_then(Json::as_str).unwrap_or_default();
            if !provisioner.ends_with("rbd.csi.ceph.com") {
                return None;
            }
            (
                format!(
                    "{} has a ReadWriteMany volume on existing storage class `{}`, whose provisioner `{provisioner}` makes RBD block volumes",
                    u.by, e.key.name
                ),
                "an RBD image is mounted by one node at a time: use a CephFS class (a `storage_class` with `filesystem`, or an existing one with a cephfs.csi.ceph.com provisioner), or ReadWriteOnce".to_string(),
            )
        }
        UseKind::Key(key) => {
            let keys = data_keys(obj);
            if keys.contains(key.as_str()) {
                return None;
            }
            let have = if keys.is_empty() {
                "it has no keys".to_string()
            } else {
                format!("its keys are {}", keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))
            };
            (
                format!("{} reads key `{key}` of existing {}, which has no such key", u.by, what(&e.key)),
                format!("{have}: read one of them, or add `{key}` to it (`{}`)", show_command(&e.key)),
            )
        }
        UseKind::TlsSecret => {
            let ty = obj.get("type").and_then(Json::as_str).unwrap_or("Opaque");
            if ty == "kubernetes.io/tls" {
                return None;
            }
            (
                format!("{} uses existing {} for TLS, but its type is `{ty}`, not `kubernetes.io/tls`", u.by, what(&e.key)),
                "ingress controllers read `tls.crt` and `tls.key` from a `kubernetes.io/tls` secret: point `tls` at one".to_string(),
            )
        }
        UseKind::Reference => return None,
    };
    Some(Refusal { key: e.key.clone(), address: Some(u.by.clone()), message, help, at: Some(u.at.clone()) })
}

/// The data keys of a live Secret or ConfigMap (`data`, `stringData`, `binaryData`).
fn data_keys(obj: &Json) -> BTreeSet<&str> {
    ["data", "stringData", "binaryData"]
        .iter()
        .filter_map(|f| obj.get(*f).and_then(Json::as_object))
        .flat_map(|m| m.keys().map(String::as_str))
        .collect()
}

/// A Secret with every value blanked: what the snapshot keeps of an existing secret.
pub fn blank_values(mut secret: Json) -> Json {
    for field in ["data", "stringData"] {
        if let Some(m) = secret.get_mut(field).and_then(Json::as_object_mut) {
            for v in m.values_mut() {
                *v = Json::String(String::new());
            }
        }
    }
    if let Some(meta) = secret.get_mut("metadata").and_then(Json::as_object_mut) {
        // `kubectl apply` keeps the whole object, values included, in this annotation.
        if let Some(a) = meta.get_mut("annotations").and_then(Json::as_object_mut) {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
        meta.remove("managedFields");
    }
    secret
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::ExistingUse;

    fn key(kind: &str, ns: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey { api_version: "v1".into(), kind: kind.into(), namespace: ns.map(str::to_string), name: name.into() }
    }

    fn existing(key: ObjectKey, uses: Vec<(&str, UseKind)>) -> ExistingObject {
        ExistingObject {
            key,
            address: "secret.registry".into(),
            at: "main.cairn:3:8".into(),
            uses: uses.into_iter().map(|(at, what)| ExistingUse { by: "workload.web".into(), at: at.into(), what }).collect(),
        }
    }

    #[test]
    fn a_missing_object_is_refused_with_the_command_that_shows_it() {
        let e = existing(key("Secret", Some("shop"), "registry"), vec![("main.cairn:9:3", UseKind::Key("token".into()))]);
        let r = check(&[e], &BTreeMap::new(), &BTreeSet::new());
        assert_eq!(r.len(), 1);
        assert!(r[0].message.contains("Secret `shop/registry` does not exist; workload.web uses it"), "{}", r[0].message);
        assert!(r[0].help.contains("kubectl get secret registry -n shop"), "{}", r[0].help);
        assert_eq!(r[0].at.as_deref(), Some("main.cairn:3:8"));
    }

    #[test]
    fn a_missing_key_names_the_keys_and_never_a_value() {
        let k = key("Secret", Some("shop"), "registry");
        let e =
            existing(k.clone(), vec![("main.cairn:9:3", UseKind::Key("token".into())), ("main.cairn:10:3", UseKind::Key("user".into()))]);
        let live = BTreeMap::from([(k, blank_values(json!({"data": {"user": "c2VjcmV0", "pass": "aHVudGVyMg=="}})))]);
        let r = check(&[e], &live, &BTreeSet::new());
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].message.contains("reads key `token`"), "{}", r[0].message);
        assert!(r[0].help.contains("`pass`, `user`"), "{}", r[0].help);
        assert_eq!(r[0].at.as_deref(), Some("main.cairn:9:3"));
        let all = format!("{r:?}");
        assert!(!all.contains("c2VjcmV0") && !all.contains("aHVudGVyMg=="), "{all}");
    }

    #[test]
    fn a_shared_volume_on_an_rbd_class_is_refused_and_on_cephfs_allowed() {
        let k =
            ObjectKey { api_version: "storage.k8s.io/v1".into(), kind: "StorageClass".into(), namespace: None, name: "ceph-block".into() };
        let e = existing(k.clone(), vec![("main.cairn:20:14", UseKind::SharedVolume)]);
        let rbd = BTreeMap::from([(k.clone(), json!({"provisioner": "rook-ceph.rbd.csi.ceph.com"}))]);
        let r = check(std::slice::from_ref(&e), &rbd, &BTreeSet::new());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].at.as_deref(), Some("main.cairn:20:14"));
        let fs = BTreeMap::from([(k, json!({"provisioner": "rook-ceph.cephfs.csi.ceph.com"}))]);
        assert!(check(&[e], &fs, &BTreeSet::new()).is_empty());
    }

    #[test]
    fn an_unserved_kind_says_what_to_install() {
        let k = ObjectKey {
            api_version: "ceph.rook.io/v1".into(),
            kind: "CephBlockPool".into(),
            namespace: Some("rook-ceph".into()),
            name: "fast".into(),
        };
        let unserved = BTreeSet::from([k.group_kind()]);
        let r = check(&[existing(k, vec![])], &BTreeMap::new(), &unserved);
        assert!(r[0].message.contains("does not serve CephBlockPool"), "{}", r[0].message);
    }

    #[test]
    fn a_tls_secret_must_have_the_tls_type() {
        let k = key("Secret", Some("shop"), "tls");
        let e = existing(k.clone(), vec![("main.cairn:30:15", UseKind::TlsSecret)]);
        let opaque = BTreeMap::from([(k.clone(), json!({"type": "Opaque"}))]);
        assert_eq!(check(std::slice::from_ref(&e), &opaque, &BTreeSet::new()).len(), 1);
        let tls = BTreeMap::from([(k, json!({"type": "kubernetes.io/tls"}))]);
        assert!(check(&[e], &tls, &BTreeSet::new()).is_empty());
    }
}
