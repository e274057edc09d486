//! Pools: a Rook `CephBlockPool` in rook mode, a `cairn.dev/v1alpha1 CephPool` (applied with
//! monitor commands) in direct mode.

use serde_json::{json, Map, Value as Json};

use super::{str_or, Lowering, Target};
use crate::access::{int_of, qty_of, str_of};
use crate::check::{CephMode, ClusterInfo};
use crate::eval::{BodyValue, Resource};

pub(super) fn pool(cx: &mut Lowering, res: &Resource, cluster: &ClusterInfo) {
    match cluster.mode {
        CephMode::Rook => rook(cx, res, cluster),
        CephMode::Direct => direct(cx, res),
    }
}

fn erasure(res: &Resource) -> Option<(i64, i64)> {
    erasure_of(&res.body)
}

/// `(k, m)` of an erasure-coded pool body.
pub(super) fn erasure_of(body: &BodyValue) -> Option<(i64, i64)> {
    if str_of(body, "type").as_deref() != Some("erasure") {
        return None;
    }
    let ec = body.block("erasure")?;
    Some((int_of(&ec.body, "k")?, int_of(&ec.body, "m")?))
}

/// `max_bytes` as a whole byte count, `max_objects` as is.
fn quota(res: &Resource, bytes_key: &str, objects_key: &str) -> Map<String, Json> {
    let mut m = Map::new();
    if let Some(q) = res.body.block("quota") {
        if let Some(b) = qty_of(&q.body, "max_bytes") {
            let n = b.whole_units_ceil();
            m.insert(bytes_key.into(), u64::try_from(n).map_or_else(|_| json!(n.to_string()), |n| json!(n)));
        }
        if let Some(o) = int_of(&q.body, "max_objects") {
            m.insert(objects_key.into(), json!(o));
        }
    }
    m
}

fn rook(cx: &mut Lowering, res: &Resource, cluster: &ClusterInfo) {
    let body = &res.body;
    let mut spec = Map::new();
    spec.insert("failureDomain".into(), json!(str_or(body, "failure_domain", "host")));
    match erasure(res) {
        Some((k, m)) => {
            spec.insert("erasureCoded".into(), json!({ "dataChunks": k, "codingChunks": m }));
        }
        None => {
            spec.insert("replicated".into(), json!({ "size": int_of(body, "size").unwrap_or(3) }));
        }
    }
    if let Some(dc) = str_of(body, "device_class") {
        spec.insert("deviceClass".into(), json!(dc));
    }
    spec.insert("application".into(), json!(str_or(body, "application", "rbd")));
    let quotas = quota(res, "maxBytes", "maxObjects");
    if !quotas.is_empty() {
        spec.insert("quotas".into(), Json::Object(quotas));
    }
    let mut params = Map::new();
    if let Some(v) = int_of(body, "min_size") {
        params.insert("min_size".into(), json!(v.to_string()));
    }
    if let Some(v) = int_of(body, "pg_num") {
        params.insert("pg_num".into(), json!(v.to_string()));
    }
    if let Some(v) = str_of(body, "autoscale") {
        params.insert("pg_autoscale_mode".into(), json!(v));
    }
    if !params.is_empty() {
        spec.insert("parameters".into(), Json::Object(params));
    }
    let name = res.addr.name.clone();
    let ns = cluster.rook_namespace.clone();
    cx.kube(res, "ceph.rook.io/v1", "CephBlockPool", Some(&ns), &name, vec![("spec", Json::Object(spec))], vec![]);
}

fn direct(cx: &mut Lowering, res: &Resource) {
    let mut spec = direct_spec(&res.body, "rbd");
    let quotas = quota(res, "max_bytes", "max_objects");
    if !quotas.is_empty() {
        spec.insert("quota".into(), Json::Object(quotas));
    }
    let name = res.addr.name.clone();
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(super::DIRECT_API_VERSION));
    obj.insert("kind".into(), json!(super::DIRECT_POOL_KIND));
    obj.insert("metadata".into(), cx.metadata(res, &name, None));
    obj.insert("spec".into(), Json::Object(spec));
    cx.push(res, Target::Ceph, super::DIRECT_API_VERSION, super::DIRECT_POOL_KIND, None, &name, Json::Object(obj), vec![]);
}

/// A direct-mode pool's spec from a pool body (a `pool`, or a file system's `metadata`/`data`
/// block), without quotas; `application` defaults to `default_application`.
pub(super) fn direct_spec(body: &BodyValue, default_application: &str) -> Map<String, Json> {
    let mut spec = Map::new();
    match erasure_of(body) {
        Some((k, m)) => {
            spec.insert("type".into(), json!("erasure"));
            spec.insert("min_size".into(), json!(int_of(body, "min_size").unwrap_or(k.saturating_add(1))));
            spec.insert("erasure".into(), json!({ "k": k, "m": m }));
        }
        None => {
            let size = int_of(body, "size").unwrap_or(3);
            spec.insert("type".into(), json!("replicated"));
            spec.insert("size".into(), json!(size));
            spec.insert("min_size".into(), json!(int_of(body, "min_size").unwrap_or(size.saturating_sub(size / 2))));
        }
    }
    if let Some(pg) = int_of(body, "pg_num") {
        spec.insert("pg_num".into(), json!(pg));
    }
    spec.insert("autoscale".into(), json!(str_or(body, "autoscale", "on")));
    spec.insert("failure_domain".into(), json!(str_or(body, "failure_domain", "host")));
    if let Some(dc) = str_of(body, "device_class") {
        spec.insert("device_class".into(), json!(dc));
    }
    spec.insert("application".into(), json!(str_or(body, "application", default_application)));
    spec
}
