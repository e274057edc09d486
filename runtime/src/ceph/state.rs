//! Live Ceph state as the monitor reports it: `osd pool ls detail`, the erasure-code profiles,
//! the CRUSH rules and the file systems (`fs dump`), each read once per plan. Field names follow
//! the monitor's JSON (`../shared/research/ceph-facts.md`); fields cairn does not use are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The application-metadata key that marks a pool as a stack's (its value is the stack name).
pub const POOL_STACK_KEY: &str = "cairn.dev/stack";
/// The application-metadata key holding the hash of the pool spec cairn last applied.
pub const POOL_APPLIED_HASH_KEY: &str = "cairn.dev/applied-hash";
/// The application-metadata key holding the resource address (`pool.fast`).
pub const POOL_ADDRESS_KEY: &str = "cairn.dev/address";
/// The application-metadata key carrying `protect`, so a pool removed from the stack stays guarded.
pub const POOL_PROTECT_KEY: &str = "cairn.dev/protect";

/// The application-metadata key, on a file system's metadata pool, holding the hash of the file
/// system's spec cairn last applied (the pool's own hash is [`POOL_APPLIED_HASH_KEY`]).
pub const FS_APPLIED_HASH_KEY: &str = "cairn.dev/fs-applied-hash";

/// `type` of a replicated pool in `osd pool ls detail`.
pub const POOL_TYPE_REPLICATED: u8 = 1;
/// `type` of an erasure-coded pool in `osd pool ls detail`.
pub const POOL_TYPE_ERASURE: u8 = 3;

/// Everything a pool plan reads from the cluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CephState {
    /// `osd pool ls detail`.
    pub pools: Vec<LivePool>,
    /// Erasure-code profiles by name (`osd erasure-code-profile get NAME`; all values strings).
    pub ec_profiles: BTreeMap<String, BTreeMap<String, String>>,
    /// `osd crush rule dump`.
    pub crush_rules: Vec<CrushRule>,
    /// `fs dump`: the file systems and the MDS daemons.
    #[serde(default)]
    pub fs_map: FsMap,
}

impl CephState {
    /// The pool named `name`.
    pub fn pool(&self, name: &str) -> Option<&LivePool> {
        self.pools.iter().find(|p| p.pool_name == name)
    }

    /// The CRUSH rule with id `id`.
    pub fn rule(&self, id: i64) -> Option<&CrushRule> {
        self.crush_rules.iter().find(|r| r.rule_id == id)
    }

    /// The pool with id `id`.
    pub fn pool_by_id(&self, id: i64) -> Option<&LivePool> {
        self.pools.iter().find(|p| p.pool_id == id)
    }

    /// The file system named `name`.
    pub fn fs(&self, name: &str) -> Option<&LiveFs> {
        self.fs_map.filesystems.iter().find(|f| f.mdsmap.fs_name == name)
    }

    /// The metadata pool of `fs`, when it is among the pools read.
    pub fn fs_metadata_pool(&self, fs: &LiveFs) -> Option<&LivePool> {
        self.pool_by_id(fs.mdsmap.metadata_pool)
    }

    /// The names of the data pools of `fs`, the default first (`#<id>` for a pool not read).
    pub fn fs_data_pools(&self, fs: &LiveFs) -> Vec<String> {
        fs.mdsmap.data_pools.iter().map(|&id| self.pool_by_id(id).map_or_else(|| format!("#{id}"), |p| p.pool_name.clone())).collect()
    }

    /// The names of every pool of `fs`: the metadata pool, then the data pools.
    pub fn fs_pool_names(&self, fs: &LiveFs) -> Vec<String> {
        let mut all: Vec<String> = self.fs_metadata_pool(fs).map(|p| p.pool_name.clone()).into_iter().collect();
        all.extend(self.fs_data_pools(fs));
        all
    }

    /// The file system whose metadata or data pool `pool` is, if any.
    pub fn fs_using(&self, pool: &LivePool) -> Option<&LiveFs> {
        self.fs_map.filesystems.iter().find(|f| f.mdsmap.metadata_pool == pool.pool_id || f.mdsmap.data_pools.contains(&pool.pool_id))
    }
}

/// `fs dump -f json`: every file system and the MDS daemons not assigned to one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FsMap {
    /// The FSMap's epoch.
    pub epoch: u64,
    /// MDS daemons waiting for a rank of any file system (`up:standby`).
    pub standbys: Vec<MdsDaemon>,
    pub filesystems: Vec<LiveFs>,
}

/// One element of `filesystems` in `fs dump`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveFs {
    /// The file system's id (fscid).
    pub id: i64,
    pub mdsmap: MdsMap,
}

/// A file system's MDS map: its settings, pools and daemons.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MdsMap {
    pub fs_name: String,
    /// Active MDS daemons wanted (`fs set NAME max_mds`).
    pub max_mds: u32,
    /// Standby daemons wanted before the cluster warns (`fs set NAME standby_count_wanted`).
    pub standby_count_wanted: u32,
    /// The metadata pool's id.
    pub metadata_pool: i64,
    /// The data pools' ids; the first is the default data pool.
    pub data_pools: Vec<i64>,
    /// The daemons holding or following a rank of this file system, by `gid_<n>`.
    pub info: BTreeMap<String, MdsDaemon>,
}

impl LiveFs {
    /// Whether an MDS daemon holds rank 0 and is `up:active`: clients can mount it.
    pub fn is_active(&self) -> bool {
        self.mdsmap.info.values().any(|d| d.rank == 0 && d.state == "up:active")
    }
}

/// An MDS daemon in `fs dump` (`standbys`, or a file system's `info`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MdsDaemon {
    pub gid: u64,
    pub name: String,
    /// -1 for a standby.
    pub rank: i64,
    /// `up:standby`, `up:active`, `up:replay`, `up:standby-replay`, …
    pub state: String,
}

/// One element of `osd pool ls detail -f json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LivePool {
    pub pool_id: i64,
    pub pool_name: String,
    /// [`POOL_TYPE_REPLICATED`] or [`POOL_TYPE_ERASURE`].
    #[serde(rename = "type")]
    pub pool_type: u8,
    pub size: u32,
    pub min_size: u32,
    /// The CRUSH rule's id (see [`CephState::rule`]).
    pub crush_rule: i64,
    pub pg_num: u32,
    /// Where `pg_num` is heading: changes are gradual, so plans compare this.
    pub pg_num_target: u32,
    /// `"on"`, `"off"` or `"warn"`.
    pub pg_autoscale_mode: String,
    /// 0 when unlimited.
    pub quota_max_bytes: u64,
    /// 0 when unlimited.
    pub quota_max_objects: u64,
    /// `""` for replicated pools.
    pub erasure_code_profile: String,
    /// Application name → metadata (`{"rbd": {"cairn.dev/stack": "analytics"}}`).
    pub application_metadata: BTreeMap<String, BTreeMap<String, String>>,
    /// `"hashpspool,ec_overwrites"`.
    pub flags_names: String,
}

impl LivePool {
    /// The stack whose marker the pool carries, in any application's metadata.
    pub fn owner(&self) -> Option<&str> {
        self.meta(POOL_STACK_KEY)
    }

    /// A value of cairn's metadata, from whichever application holds it.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.application_metadata.values().find_map(|m| m.get(key)).map(String::as_str)
    }
}

/// One element of `osd crush rule dump -f json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CrushRule {
    pub rule_id: i64,
    pub rule_name: String,
    /// 1 replicated, 3 erasure.
    #[serde(rename = "type")]
    pub rule_type: u8,
    pub steps: Vec<CrushStep>,
}

/// One step of a CRUSH rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CrushStep {
    /// `take`, `choose_firstn`, `chooseleaf_firstn`, `chooseleaf_indep`, `emit`, …
    pub op: String,
    /// For `take`: the root, `default` or `default~ssd` (a device class's shadow tree).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// For `choose*`: the failure domain (`host`, `osd`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub bucket_type: Option<String>,
}

impl CrushRule {
    /// The failure domain the rule spreads replicas over (the type of its first `choose*` step).
    pub fn failure_domain(&self) -> Option<&str> {
        self.steps.iter().find(|s| s.op.starts_with("choose")).and_then(|s| s.bucket_type.as_deref())
    }

    /// The device class the rule takes from (`default~ssd` → `ssd`), if any.
    pub fn device_class(&self) -> Option<&str> {
        let take = self.steps.iter().find(|s| s.op == "take")?.item_name.as_deref()?;
        take.split_once('~').map(|(_, class)| class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_monitors_json() {
        let pools: Vec<LivePool> = serde_json::from_str(
            r#"[{"pool_id":3,"pool_name":"fast","type":1,"size":3,"min_size":2,"crush_rule":1,
                "pg_num":32,"pg_placement_num":32,"pg_num_target":64,"pg_autoscale_mode":"off",
                "quota_max_bytes":1073741824,"quota_max_objects":0,"erasure_code_profile":"",
                "application_metadata":{"rbd":{"cairn.dev/stack":"analytics"}},
                "flags_names":"hashpspool","last_change":"41"}]"#,
        )
        .unwrap();
        assert_eq!(pools[0].pg_num_target, 64);
        assert_eq!(pools[0].owner(), Some("analytics"));
        let rule: CrushRule = serde_json::from_str(
            r#"{"rule_id":1,"rule_name":"cairn-osd-ssd","type":1,"min_size":1,"max_size":10,
                "steps":[{"op":"take","item":-2,"item_name":"default~ssd"},
                         {"op":"chooseleaf_firstn","num":0,"type":"osd"},{"op":"emit"}]}"#,
        )
        .unwrap();
        assert_eq!(rule.failure_domain(), Some("osd"));
        assert_eq!(rule.device_class(), Some("ssd"));
    }

    #[test]
    fn reads_the_fs_dump() {
        // Trimmed from Ceph 16's `fs dump -f json` with one file system served by daemon `a`.
        let map: FsMap = serde_json::from_str(
            r#"{"epoch":7,"default_fscid":1,"feature_flags":{"enable_multiple":true},
                "standbys":[{"gid":4141,"name":"b","rank":-1,"incarnation":0,"state":"up:standby","epoch":6}],
                "filesystems":[{"mdsmap":{"epoch":7,"flags":18,"max_mds":1,"in":[0],"up":{"mds_0":4140},
                  "info":{"gid_4140":{"gid":4140,"name":"a","rank":0,"incarnation":3,"state":"up:active"}},
                  "data_pools":[3,4],"metadata_pool":2,"enabled":true,"fs_name":"tfs","balancer":"",
                  "standby_count_wanted":0},"id":1}]}"#,
        )
        .unwrap();
        assert_eq!(map.standbys.len(), 1);
        let fs = &map.filesystems[0];
        assert_eq!((fs.id, fs.mdsmap.fs_name.as_str(), fs.mdsmap.max_mds, fs.mdsmap.standby_count_wanted), (1, "tfs", 1, 0));
        assert_eq!((fs.mdsmap.metadata_pool, fs.mdsmap.data_pools.as_slice()), (2, &[3, 4][..]));
        assert!(fs.is_active());
        let state = CephState {
            pools: ["x", "tfs-metadata", "tfs-data", "tfs-ec"]
                .iter()
                .zip(1..)
                .map(|(n, id)| LivePool { pool_id: id, pool_name: n.to_string(), ..LivePool::default() })
                .collect(),
            fs_map: map,
            ..CephState::default()
        };
        let fs = state.fs("tfs").unwrap();
        assert_eq!(state.fs_pool_names(fs), ["tfs-metadata", "tfs-data", "tfs-ec"]);
        assert_eq!(state.fs_using(&state.pools[3]).map(|f| f.id), Some(1));
        assert!(state.fs_using(&state.pools[0]).is_none());
    }
}
