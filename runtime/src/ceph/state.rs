//! Live Ceph state as the monitor reports it: `osd pool ls detail`, the erasure-code profiles
//! and the CRUSH rules, each read once per plan. Field names follow the monitor's JSON
//! (`../shared/research/ceph-facts.md`); fields cairn does not use are ignored.

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
}
