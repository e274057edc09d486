//! File and object storage (LANGUAGE.md §10): a `filesystem` as Rook's `CephFilesystem` or, in
//! direct mode, its pools as `CephPool`s plus a `cairn.dev/v1alpha1 CephFs`; an `object_store`
//! as Rook's `CephObjectStore` with a bucket StorageClass per reclaim policy its buckets use; a
//! `bucket` as an `ObjectBucketClaim`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use super::{namespace_of, str_or, Lowering, Target, BUCKET_PROVISIONER};
use crate::access::{bool_of, int_of, name_of, str_of};
use crate::check::{CephMode, ClusterInfo};
use crate::eval::{BodyValue, Resource};
use crate::schema::Kind;

/// The bucket StorageClasses of each object store: store name → reclaim policies in the order
/// its buckets first use them. The first policy's class is `<store>-buckets`, the others'
/// `<store>-buckets-<policy, lowercase>`.
#[derive(Default)]
pub(super) struct BucketClasses(BTreeMap<String, Vec<String>>);

impl BucketClasses {
    /// Collects the policies every bucket of `resources` uses.
    pub(super) fn of(resources: &[Resource]) -> BucketClasses {
        let mut classes = BucketClasses::default();
        for b in resources.iter().filter(|r| r.addr.kind == Kind::Bucket) {
            let Some(store) = name_of(&b.body, "store") else { continue };
            let reclaim = str_or(&b.body, "reclaim", "Delete");
            let policies = classes.0.entry(store).or_default();
            if !policies.contains(&reclaim) {
                policies.push(reclaim);
            }
        }
        classes
    }

    /// The class a bucket of `store` with `reclaim` is provisioned by.
    pub(super) fn name(&self, store: &str, reclaim: &str) -> String {
        match self.0.get(store).and_then(|p| p.first()) {
            Some(first) if first != reclaim => format!("{store}-buckets-{}", reclaim.to_lowercase()),
            _ => format!("{store}-buckets"),
        }
    }
}

/// Each file system's first data pool block's label (the default of its storage classes).
pub(super) fn first_data_pools(resources: &[Resource]) -> BTreeMap<String, String> {
    resources
        .iter()
        .filter(|r| r.addr.kind == Kind::Filesystem)
        .filter_map(|r| Some((r.addr.name.clone(), r.body.block("data")?.label.as_ref()?.0.clone())))
        .collect()
}

/// A replicated or erasure-coded pool block in Rook's form (`replicated.size` or
/// `erasureCoded`, `failureDomain`, `deviceClass`), with `name` first when given.
fn rook_pool(body: &BodyValue, name: Option<&str>) -> Json {
    let mut pool = Map::new();
    if let Some(n) = name {
        pool.insert("name".into(), json!(n));
    }
    match super::pool::erasure_of(body) {
        Some((k, m)) => {
            pool.insert("erasureCoded".into(), json!({ "dataChunks": k, "codingChunks": m }));
        }
        None => {
            pool.insert("replicated".into(), json!({ "size": int_of(body, "size").unwrap_or(3) }));
        }
    }
    pool.insert("failureDomain".into(), json!(str_or(body, "failure_domain", "host")));
    if let Some(dc) = str_of(body, "device_class") {
        pool.insert("deviceClass".into(), json!(dc));
    }
    Json::Object(pool)
}

/// Whether the resource is protected: `protect`, true by default for storage.
fn protected(res: &Resource) -> bool {
    bool_of(&res.body, "protect").unwrap_or(true)
}

pub(super) fn filesystem(cx: &mut Lowering, res: &Resource, cluster: &ClusterInfo) {
    match cluster.mode {
        CephMode::Rook => filesystem_rook(cx, res, cluster),
        CephMode::Direct => filesystem_direct(cx, res),
    }
}

fn filesystem_rook(cx: &mut Lowering, res: &Resource, cluster: &ClusterInfo) {
    let body = &res.body;
    let name = res.addr.name.clone();
    let empty = BodyValue::default();
    let metadata = body.block("metadata").map_or(&empty, |b| &b.body);
    // Rook names a data pool `<fs>-<name>` itself, so `name` is the block's label.
    let data: Vec<Json> = body.blocks_of("data").filter_map(|d| d.label.as_ref().map(|(l, _)| rook_pool(&d.body, Some(l)))).collect();
    let spec = json!({
        "metadataPool": rook_pool(metadata, None),
        "dataPools": data,
        "metadataServer": {
            "activeCount": int_of(body, "active").unwrap_or(1),
            "activeStandby": bool_of(body, "standby").unwrap_or(true),
        },
        "preserveFilesystemOnDelete": protected(res),
    });
    let ns = cluster.rook_namespace.clone();
    cx.kube(res, "ceph.rook.io/v1", "CephFilesystem", Some(&ns), &name, vec![("spec", spec)], vec![]);
}

/// Direct mode: the pools (application `cephfs`) as direct-mode pools, then the file system
/// that `fs new`/`fs add_data_pool`/`fs set` make from them.
fn filesystem_direct(cx: &mut Lowering, res: &Resource) {
    let body = &res.body;
    let name = res.addr.name.clone();
    let empty = BodyValue::default();
    let metadata = body.block("metadata").map_or(&empty, |b| &b.body);
    let mut pools: Vec<(String, Map<String, Json>)> = vec![(format!("{name}-metadata"), super::pool::direct_spec(metadata, "cephfs"))];
    let mut data = Vec::new();
    for d in body.blocks_of("data") {
        let Some((label, _)) = &d.label else { continue };
        let mut spec = super::pool::direct_spec(&d.body, "cephfs");
        if super::pool::erasure_of(&d.body).is_some() {
            // CephFS writes into erasure-coded pools in place.
            spec.insert("ec_overwrites".into(), json!(true));
        }
        let mut entry = Map::new();
        entry.insert("name".into(), json!(label));
        entry.extend(spec.clone());
        data.push(Json::Object(entry));
        pools.push((format!("{name}-{label}"), spec));
    }
    for (pool, spec) in pools {
        let mut obj = Map::new();
        obj.insert("apiVersion".into(), json!(super::DIRECT_API_VERSION));
        obj.insert("kind".into(), json!(super::DIRECT_POOL_KIND));
        obj.insert("metadata".into(), cx.metadata(res, &pool, None));
        obj.insert("spec".into(), Json::Object(spec));
        cx.push(res, Target::Ceph, super::DIRECT_API_VERSION, super::DIRECT_POOL_KIND, None, &pool, Json::Object(obj), vec![]);
    }
    let spec = json!({
        "metadata": super::pool::direct_spec(metadata, "cephfs"),
        "data": data,
        "active": int_of(body, "active").unwrap_or(1),
        "standby": bool_of(body, "standby").unwrap_or(true),
    });
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(super::DIRECT_API_VERSION));
    obj.insert("kind".into(), json!(super::DIRECT_FS_KIND));
    obj.insert("metadata".into(), cx.metadata(res, &name, None));
    obj.insert("spec".into(), spec);
    cx.push(res, Target::Ceph, super::DIRECT_API_VERSION, super::DIRECT_FS_KIND, None, &name, Json::Object(obj), vec![]);
}

/// Rook mode only (the checker refuses it in direct mode): the `CephObjectStore` and, for the
/// buckets that use it, a bucket StorageClass per reclaim policy.
pub(super) fn object_store(cx: &mut Lowering, res: &Resource, cluster: &ClusterInfo) {
    if cluster.mode != CephMode::Rook {
        return;
    }
    let body = &res.body;
    let name = res.addr.name.clone();
    let empty = BodyValue::default();
    let metadata = body.block("metadata").map_or(&empty, |b| &b.body);
    let data = body.block("data").map_or(&empty, |b| &b.body);
    let gateway = body.block("gateway").map_or(&empty, |b| &b.body);
    let spec = json!({
        "metadataPool": rook_pool(metadata, None),
        "dataPool": rook_pool(data, None),
        "gateway": { "port": int_of(gateway, "port").unwrap_or(80), "instances": int_of(gateway, "instances").unwrap_or(1) },
        "preservePoolsOnDelete": protected(res),
    });
    let ns = cluster.rook_namespace.clone();
    cx.kube(res, "ceph.rook.io/v1", "CephObjectStore", Some(&ns), &name, vec![("spec", spec)], vec![]);
    let policies = cx.bucket_classes.0.get(&name).cloned().unwrap_or_default();
    for reclaim in policies {
        let class = cx.bucket_classes.name(&name, &reclaim);
        let rest = vec![
            ("provisioner", json!(BUCKET_PROVISIONER)),
            ("parameters", json!({ "objectStoreName": name, "objectStoreNamespace": ns })),
            ("reclaimPolicy", json!(reclaim)),
        ];
        cx.kube(res, "storage.k8s.io/v1", "StorageClass", None, &class, rest, vec![]);
    }
}

pub(super) fn bucket(cx: &mut Lowering, res: &Resource) {
    let body = &res.body;
    let name = res.addr.name.clone();
    let ns = namespace_of(res);
    let store = name_of(body, "store").unwrap_or_default();
    let class = cx.bucket_classes.name(&store, &str_or(body, "reclaim", "Delete"));
    let spec = json!({ "generateBucketName": name, "storageClassName": class });
    cx.kube(res, "objectbucket.io/v1alpha1", "ObjectBucketClaim", ns.as_deref(), &name, vec![("spec", spec)], vec![]);
}
