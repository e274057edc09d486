//! What a direct-mode pool should be: [`PoolSpec`], read from the `spec` of the
//! `cairn.dev/v1alpha1 CephPool` the compiler lowers (LANGUAGE.md §8), and the names cairn gives
//! the CRUSH rules and erasure-code profiles its pools use.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::hash::sha256_hex;
use crate::model::ObjectKey;

/// `apiVersion` of a direct-mode pool's object.
pub const POOL_API_VERSION: &str = cairn_compiler::lower::DIRECT_API_VERSION;
/// `kind` of a direct-mode pool's object.
pub const POOL_KIND: &str = cairn_compiler::lower::DIRECT_POOL_KIND;

/// The key of the pool named `name` in plans (`cairn.dev/v1alpha1 CephPool`, no namespace).
pub fn pool_key(name: &str) -> ObjectKey {
    ObjectKey { api_version: POOL_API_VERSION.into(), kind: POOL_KIND.into(), namespace: None, name: name.into() }
}

/// How a pool keeps its data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Layout {
    /// `size` copies; writes go on while `min_size` are up.
    Replicated { size: u32, min_size: u32 },
    /// `k` data and `m` coding chunks; writes go on while `min_size` chunks are up —
    /// `None` for the default `k + 1` ([`Layout::min_size`]), left out of the serialized spec
    /// so the applied hash of a pool that keeps the default does not change.
    Erasure {
        k: u32,
        m: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_size: Option<u32>,
    },
}

impl Layout {
    /// The `min_size` the pool should have: declared, or for an erasure pool `k + 1` (one
    /// chunk more than the data needs, so a write is never acknowledged with no redundancy).
    pub fn min_size(&self) -> u32 {
        match *self {
            Layout::Replicated { min_size, .. } => min_size,
            Layout::Erasure { k, min_size, .. } => min_size.unwrap_or(k.saturating_add(1)),
        }
    }
}

/// A pool's declared properties, as the `spec` of its `CephPool` body holds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSpec {
    pub layout: Layout,
    /// `None`: the autoscaler decides.
    pub pg_num: Option<u32>,
    /// `"on"`, `"warn"` or `"off"`.
    pub autoscale: String,
    /// The CRUSH bucket type replicas or chunks are spread over (`host`, `osd`, `rack`).
    pub failure_domain: String,
    /// The device class placement is limited to (`ssd`), if any.
    pub device_class: Option<String>,
    /// `rbd`, `cephfs` or `rgw`.
    pub application: String,
    /// 0: unlimited.
    pub quota_max_bytes: u64,
    /// 0: unlimited.
    pub quota_max_objects: u64,
}

impl PoolSpec {
    /// Reads the spec from a `CephPool` body (`{"spec": {"type": "replicated", "size": 3, …}}`).
    /// Absent attributes take the language's defaults (LANGUAGE.md "pool").
    pub fn from_body(body: &Json) -> Result<PoolSpec, String> {
        let spec = body.get("spec").ok_or("the CephPool has no spec")?;
        let layout = match text(spec, "type")?.as_deref().unwrap_or("replicated") {
            "replicated" => {
                let size = int(spec, "size")?.unwrap_or(3);
                let min_size = int(spec, "min_size")?.unwrap_or(size - size / 2);
                Layout::Replicated { size, min_size }
            }
            "erasure" => {
                let ec = spec.get("erasure").ok_or("spec.erasure is required for an erasure-coded pool")?;
                let k = int(ec, "k")?.ok_or("spec.erasure.k is missing")?;
                let m = int(ec, "m")?.ok_or("spec.erasure.m is missing")?;
                let min_size = int(spec, "min_size")?.filter(|&v| v != k.saturating_add(1));
                Layout::Erasure { k, m, min_size }
            }
            other => return Err(format!("spec.type must be \"replicated\" or \"erasure\", not {other:?}")),
        };
        let autoscale = text(spec, "autoscale")?.unwrap_or_else(|| "on".into());
        if !matches!(autoscale.as_str(), "on" | "warn" | "off") {
            return Err(format!("spec.autoscale must be \"on\", \"warn\" or \"off\", not {autoscale:?}"));
        }
        let quota = spec.get("quota");
        Ok(PoolSpec {
            layout,
            pg_num: int(spec, "pg_num")?,
            autoscale,
            failure_domain: text(spec, "failure_domain")?.unwrap_or_else(|| "host".into()),
            device_class: text(spec, "device_class")?,
            application: text(spec, "application")?.unwrap_or_else(|| "rbd".into()),
            quota_max_bytes: quota.map(|q| count(q, "max_bytes")).transpose()?.flatten().unwrap_or(0),
            quota_max_objects: quota.map(|q| count(q, "max_objects")).transpose()?.flatten().unwrap_or(0),
        })
    }

    /// SHA-256 (hex) of the spec's canonical JSON: the pool's `cairn.dev/applied-hash`.
    pub fn hash(&self) -> String {
        // Serialized from the struct, so the field order is fixed whatever the map type.
        let canonical = serde_json::to_string(self).unwrap_or_default();
        sha256_hex(canonical.as_bytes())
    }

    /// Whether the pool is erasure-coded.
    pub fn is_erasure(&self) -> bool {
        matches!(self.layout, Layout::Erasure { .. })
    }

    /// `"replicated"` or `"erasure"`, as `spec.type` and `osd pool create` spell it.
    pub fn type_name(&self) -> &'static str {
        match self.layout {
            Layout::Replicated { .. } => "replicated",
            Layout::Erasure { .. } => "erasure",
        }
    }

    /// The CRUSH rule the pool uses: for a replicated pool [`replicated_rule_name`], for an
    /// erasure-coded one its profile's name ([`ec_profile_name`]; the rule is made from it).
    pub fn rule_name(&self) -> String {
        match self.layout {
            Layout::Replicated { .. } => replicated_rule_name(&self.failure_domain, self.device_class.as_deref()),
            Layout::Erasure { k, m, .. } => ec_profile_name(k, m, &self.failure_domain, self.device_class.as_deref()),
        }
    }

    /// The erasure-code profile of an erasure-coded pool, `None` for a replicated one.
    pub fn ec_profile(&self) -> Option<String> {
        match self.layout {
            Layout::Replicated { .. } => None,
            Layout::Erasure { k, m, .. } => Some(ec_profile_name(k, m, &self.failure_domain, self.device_class.as_deref())),
        }
    }

    /// Whether an erasure-coded pool must allow overwrites: RBD and CephFS write in place.
    pub fn needs_ec_overwrites(&self) -> bool {
        self.is_erasure() && matches!(self.application.as_str(), "rbd" | "cephfs")
    }
}

/// The CRUSH rule cairn creates for replicated pools: `cairn-<failure_domain>` or
/// `cairn-<failure_domain>-<device_class>`, under root `default`. Shared by every pool (of any
/// stack) with the same placement; cairn never deletes rules.
pub fn replicated_rule_name(failure_domain: &str, device_class: Option<&str>) -> String {
    match device_class {
        Some(class) => format!("cairn-{failure_domain}-{class}"),
        None => format!("cairn-{failure_domain}"),
    }
}

/// The erasure-code profile (and CRUSH rule) cairn creates for erasure-coded pools:
/// `cairn-ec-k<k>-m<m>-<failure_domain>[-<device_class>]`. Named after the parameters, not the
/// pool, so a renamed pool keeps a fitting name, pools with equal parameters share it, and
/// setting it again is a no-op; cairn never deletes profiles or rules.
pub fn ec_profile_name(k: u32, m: u32, failure_domain: &str, device_class: Option<&str>) -> String {
    match device_class {
        Some(class) => format!("cairn-ec-k{k}-m{m}-{failure_domain}-{class}"),
        None => format!("cairn-ec-k{k}-m{m}-{failure_domain}"),
    }
}

/// A pool the stack declares, as the pool planner and the executor take it.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredPool {
    pub name: String,
    /// `pool.fast`.
    pub address: String,
    /// Delete and replace need `--allow-data-loss`.
    pub protect: bool,
    pub spec: PoolSpec,
}

impl DesiredPool {
    /// The pool a lowered `CephPool` object declares: its name, address, `protect` and body.
    pub fn from_lowered(name: &str, address: &str, protect: bool, body: &Json) -> Result<DesiredPool, String> {
        let kind = (body.get("apiVersion").and_then(Json::as_str), body.get("kind").and_then(Json::as_str));
        if kind != (Some(POOL_API_VERSION), Some(POOL_KIND)) {
            return Err(format!("{address} is not a {POOL_API_VERSION} {POOL_KIND}"));
        }
        let spec = PoolSpec::from_body(body).map_err(|e| format!("{POOL_KIND}/{name} ({address}): {e}"))?;
        Ok(DesiredPool { name: name.to_string(), address: address.to_string(), protect, spec })
    }
}

/// A string attribute.
fn text(v: &Json, key: &str) -> Result<Option<String>, String> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{key} must be a string, not {other}")),
    }
}

/// A whole-number attribute that fits a `u32`.
fn int(v: &Json, key: &str) -> Result<Option<u32>, String> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some).ok_or_else(|| format!("{key} must be a whole number, not {n}")),
    }
}

/// A whole-number attribute that fits a `u64`.
fn count(v: &Json, key: &str) -> Result<Option<u64>, String> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(n) => n.as_u64().map(Some).ok_or_else(|| format!("quota.{key} must be a whole number below 2^64, not {n}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_lowered_body_with_defaults() {
        let s = PoolSpec::from_body(&json!({"spec": {"type": "replicated", "size": 3, "min_size": 2, "autoscale": "on",
            "failure_domain": "host", "application": "rbd"}}))
        .unwrap();
        assert_eq!(s.layout, Layout::Replicated { size: 3, min_size: 2 });
        assert_eq!((s.pg_num, s.quota_max_bytes, s.quota_max_objects), (None, 0, 0));
        assert_eq!(s, PoolSpec::from_body(&json!({"spec": {}})).unwrap());
        assert_eq!(s.rule_name(), "cairn-host");
        assert_eq!(s.ec_profile(), None);
    }

    #[test]
    fn reads_an_erasure_pool() {
        let s = PoolSpec::from_body(&json!({"spec": {"type": "erasure", "erasure": {"k": 4, "m": 2}, "pg_num": 32,
            "autoscale": "off", "failure_domain": "osd", "device_class": "ssd", "application": "rgw",
            "quota": {"max_bytes": 107374182400u64, "max_objects": 1000}}}))
        .unwrap();
        assert_eq!(s.layout, Layout::Erasure { k: 4, m: 2, min_size: None });
        assert_eq!(s.layout.min_size(), 5, "the default is k + 1");
        assert_eq!((s.pg_num, s.quota_max_bytes, s.quota_max_objects), (Some(32), 107374182400, 1000));
        assert_eq!(s.ec_profile().as_deref(), Some("cairn-ec-k4-m2-osd-ssd"));
        assert_eq!(s.rule_name(), "cairn-ec-k4-m2-osd-ssd");
        assert!(!s.needs_ec_overwrites());
    }

    #[test]
    fn rejects_what_it_cannot_apply() {
        let err = |spec: Json| PoolSpec::from_body(&json!({ "spec": spec })).unwrap_err();
        assert!(err(json!({"type": "erasure"})).contains("spec.erasure"));
        assert!(err(json!({"type": "mirrored"})).contains("\"mirrored\""));
        assert!(err(json!({"size": -1})).contains("size"));
        assert!(err(json!({"autoscale": "maybe"})).contains("autoscale"));
        assert!(err(json!({"quota": {"max_bytes": "36893488147419103232"}})).contains("max_bytes"));
        assert!(PoolSpec::from_body(&json!({})).is_err());
    }

    #[test]
    fn hash_is_stable_and_follows_every_field() {
        let a = PoolSpec::from_body(&json!({"spec": {"size": 3}})).unwrap();
        assert_eq!(a.hash(), a.clone().hash());
        assert_eq!(a.hash().len(), 64);
        let mut b = a.clone();
        b.quota_max_objects = 10;
        assert_ne!(a.hash(), b.hash());
        let mut c = a.clone();
        c.device_class = Some("ssd".into());
        assert_ne!(a.hash(), c.hash());
    }
}
