//! What a direct-mode file system should be: [`FsSpec`], read from the `spec` of the
//! `cairn.dev/v1alpha1 CephFs` the compiler lowers (LANGUAGE.md §10 `filesystem`). Its pools are
//! separate `CephPool` objects (`<fs>-metadata`, `<fs>-<data name>`), planned as pools; the file
//! system names them.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::spec::POOL_API_VERSION;
use crate::hash::sha256_hex;
use crate::model::ObjectKey;

/// `kind` of a direct-mode file system's object (its `apiVersion` is a pool's).
pub const FS_KIND: &str = cairn_compiler::lower::DIRECT_FS_KIND;

/// The key of the file system named `name` in plans (`cairn.dev/v1alpha1 CephFs`, no namespace).
pub fn fs_key(name: &str) -> ObjectKey {
    ObjectKey { api_version: POOL_API_VERSION.into(), kind: FS_KIND.into(), namespace: None, name: name.into() }
}

/// Whether `key` names a direct-mode file system.
pub fn is_fs(key: &ObjectKey) -> bool {
    key.api_version == POOL_API_VERSION && key.kind == FS_KIND
}

/// The name of the metadata pool of file system `fs`.
pub fn metadata_pool_name(fs: &str) -> String {
    format!("{fs}-metadata")
}

/// The address of file system `fs` (`filesystem.shared`): what its pools' `cairn.dev/address`
/// holds, and so what marks the file system made on them as cairn's.
pub fn fs_address(fs: &str) -> String {
    format!("filesystem.{fs}")
}

/// A file system's declared properties. Its pools' own properties are their `CephPool`s'.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsSpec {
    /// `<fs>-metadata`.
    pub metadata_pool: String,
    /// `<fs>-<data name>` in declaration order; the first is the default data pool.
    pub data_pools: Vec<String>,
    /// Active MDS daemons (`max_mds`).
    pub active: u32,
    /// A standby MDS wanted (`standby_count_wanted` 1, else 0).
    pub standby: bool,
}

impl FsSpec {
    /// Reads the spec of file system `name` from a `CephFs` body (`{"spec": {"metadata": {…},
    /// "data": [{"name": "default", …}], "active": 1, "standby": true}}`).
    pub fn from_body(name: &str, body: &Json) -> Result<FsSpec, String> {
        let spec = body.get("spec").ok_or("the CephFs has no spec")?;
        let data = spec.get("data").and_then(Json::as_array).ok_or("spec.data must be a list of data pools")?;
        let mut data_pools = Vec::with_capacity(data.len());
        for (i, d) in data.iter().enumerate() {
            let label = d.get("name").and_then(Json::as_str).ok_or_else(|| format!("spec.data[{i}].name is missing"))?;
            data_pools.push(format!("{name}-{label}"));
        }
        if data_pools.is_empty() {
            return Err("a file system needs at least one data pool (spec.data is empty)".into());
        }
        let active = match spec.get("active") {
            None | Some(Json::Null) => 1,
            Some(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| n >= 1)
                .ok_or_else(|| format!("spec.active must be a whole number ≥ 1, not {n}"))?,
        };
        let standby = match spec.get("standby") {
            None | Some(Json::Null) => true,
            Some(Json::Bool(b)) => *b,
            Some(other) => return Err(format!("spec.standby must be true or false, not {other}")),
        };
        Ok(FsSpec { metadata_pool: metadata_pool_name(name), data_pools, active, standby })
    }

    /// `standby_count_wanted` as Ceph spells `standby`.
    pub fn standby_count_wanted(&self) -> u32 {
        u32::from(self.standby)
    }

    /// The default data pool.
    pub fn default_data_pool(&self) -> &str {
        self.data_pools.first().map_or("", String::as_str)
    }

    /// Whether `pool` is one of the file system's pools (metadata or data).
    pub fn uses(&self, pool: &str) -> bool {
        self.metadata_pool == pool || self.data_pools.iter().any(|d| d == pool)
    }

    /// SHA-256 (hex) of the spec's canonical JSON: the metadata pool's `cairn.dev/fs-applied-hash`.
    pub fn hash(&self) -> String {
        let canonical = serde_json::to_string(self).unwrap_or_default();
        sha256_hex(canonical.as_bytes())
    }
}

/// A file system the stack declares.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredFs {
    pub name: String,
    /// `filesystem.shared`.
    pub address: String,
    /// Delete and replace need `--allow-data-loss`.
    pub protect: bool,
    pub spec: FsSpec,
}

impl DesiredFs {
    /// The file system a lowered `CephFs` object declares.
    pub fn from_lowered(name: &str, address: &str, protect: bool, body: &Json) -> Result<DesiredFs, String> {
        let kind = (body.get("apiVersion").and_then(Json::as_str), body.get("kind").and_then(Json::as_str));
        if kind != (Some(POOL_API_VERSION), Some(FS_KIND)) {
            return Err(format!("{address} is not a {POOL_API_VERSION} {FS_KIND}"));
        }
        let spec = FsSpec::from_body(name, body).map_err(|e| format!("{FS_KIND}/{name} ({address}): {e}"))?;
        Ok(DesiredFs { name: name.to_string(), address: address.to_string(), protect, spec })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(spec: Json) -> Json {
        json!({"apiVersion": "cairn.dev/v1alpha1", "kind": "CephFs", "metadata": {"name": "shared"}, "spec": spec})
    }

    #[test]
    fn reads_the_lowered_body() {
        let fs = DesiredFs::from_lowered(
            "shared",
            "filesystem.shared",
            true,
            &body(json!({"metadata": {"type": "replicated", "size": 3},
                "data": [{"name": "default", "type": "replicated", "size": 3},
                         {"name": "cold", "type": "erasure", "erasure": {"k": 2, "m": 1}, "ec_overwrites": true}],
                "active": 2, "standby": false})),
        )
        .unwrap();
        assert_eq!(fs.spec.metadata_pool, "shared-metadata");
        assert_eq!(fs.spec.data_pools, ["shared-default", "shared-cold"]);
        assert_eq!(fs.spec.default_data_pool(), "shared-default");
        assert_eq!((fs.spec.active, fs.spec.standby, fs.spec.standby_count_wanted()), (2, false, 0));
        assert!(fs.spec.uses("shared-metadata") && fs.spec.uses("shared-cold") && !fs.spec.uses("shared"));
    }

    #[test]
    fn defaults_and_refusals() {
        let s = FsSpec::from_body("a", &body(json!({"data": [{"name": "d"}]}))).unwrap();
        assert_eq!((s.active, s.standby), (1, true));
        let err = |spec: Json| FsSpec::from_body("a", &body(spec)).unwrap_err();
        assert!(err(json!({"data": []})).contains("at least one data pool"));
        assert!(err(json!({})).contains("spec.data"));
        assert!(err(json!({"data": [{}]})).contains("spec.data[0].name"));
        assert!(err(json!({"data": [{"name": "d"}], "active": 0})).contains("spec.active"));
        assert!(err(json!({"data": [{"name": "d"}], "standby": "yes"})).contains("spec.standby"));
        assert!(DesiredFs::from_lowered("a", "filesystem.a", true, &json!({"kind": "CephPool"})).is_err());
    }

    #[test]
    fn the_hash_follows_every_field() {
        let a = FsSpec::from_body("a", &body(json!({"data": [{"name": "d"}]}))).unwrap();
        assert_eq!(a.hash(), a.clone().hash());
        for change in [|s: &mut FsSpec| s.active = 2, |s: &mut FsSpec| s.standby = false, |s: &mut FsSpec| s.data_pools.push("a-e".into())]
        {
            let mut b = a.clone();
            change(&mut b);
            assert_ne!(a.hash(), b.hash());
        }
    }
}
