//! The monitor commands that carry out a file-system step, with the prefixes and argument names
//! of Ceph 16 (pacific) `src/mon/MonCommands.h`: `fs new fs_name metadata data`,
//! `fs add_data_pool fs_name pool`, `fs rm_data_pool fs_name pool`, `fs set fs_name var val`
//! (`val` a string), `fs fail fs_name`, `fs rm fs_name yes_i_really_mean_it`.

use serde_json::{json, Value as Json};

use super::commands::{app_set, create as create_pool, pool_set, remove as remove_pool};
use super::fs_plan::{PATH_ACTIVE, PATH_DATA_POOLS, PATH_STANDBY};
use super::fs_spec::DesiredFs;
use super::spec::DesiredPool;
use super::state::{CephState, FS_APPLIED_HASH_KEY};
use crate::plan::{Action, Step};

/// The application of a file system's pools, which holds cairn's metadata on them.
const CEPHFS: &str = "cephfs";

/// The monitor commands for file-system `step`, in order. `fs` is the declaration (creates,
/// updates and replaces yield nothing without it), `pools` the declared pools (a replace makes
/// the file system's pools again), `live` the state the step was planned against.
///
/// - create: `allow_ec_overwrites` on an existing erasure-coded data pool that lacks it (a pool
///   cairn creates for CephFS has it already), `fs new` on the metadata and default data pool,
///   `fs add_data_pool` for each other, `fs set max_mds` and `standby_count_wanted`, then the
///   applied hash on the metadata pool LAST, so a creation cut short is visibly unfinished.
/// - update: the data pools added (`fs add_data_pool`) and removed (`fs rm_data_pool`), the
///   changed settings, the applied hash.
/// - replace: `fs fail` and `fs rm`, the metadata pool and each data pool the file system keeps
///   deleted and made again (a new file system needs an empty metadata pool, and the old files'
///   objects would be left behind in the data pools), then the create sequence.
/// - delete: `fs fail` (every rank down: `fs rm` refuses a file system with an MDS in it), then
///   `fs rm … --yes-i-really-mean-it`. The pools are their own steps, after this one.
pub fn fs_commands(step: &Step, fs: Option<&DesiredFs>, pools: &[DesiredPool], stack: &str, live: &CephState) -> Vec<Json> {
    let name = step.key.name.as_str();
    match (step.action, fs) {
        (Action::Noop, _) => Vec::new(),
        (Action::Delete, _) => remove(name),
        (Action::Create, Some(fs)) => create(fs, pools, live),
        (Action::Update, Some(fs)) => update(step, fs, pools, live),
        (Action::Replace, Some(fs)) => {
            let mut out = remove(name);
            let kept = live.fs(name).map(|l| live.fs_pool_names(l)).unwrap_or_default();
            for pool in pools.iter().filter(|p| fs.spec.uses(&p.name) && kept.contains(&p.name)) {
                out.push(remove_pool(&pool.name));
                out.extend(create_pool(&pool.name, pool, stack));
            }
            // The pools are new: none lacks `allow_ec_overwrites` any more.
            out.extend(create(fs, pools, &CephState::default()));
            out
        }
        (Action::Create | Action::Replace | Action::Update, None) => Vec::new(),
    }
}

/// `fs fail NAME`, `fs rm NAME --yes-i-really-mean-it`.
fn remove(name: &str) -> Vec<Json> {
    vec![json!({"prefix": "fs fail", "fs_name": name}), json!({"prefix": "fs rm", "fs_name": name, "yes_i_really_mean_it": true})]
}

/// `fs set NAME VAR VAL`.
fn fs_set(name: &str, var: &str, val: u32) -> Json {
    json!({"prefix": "fs set", "fs_name": name, "var": var, "val": val.to_string()})
}

/// `allow_ec_overwrites` before `fs add_data_pool` of an erasure-coded pool that lacks it (Ceph
/// refuses an EC data pool without overwrites), then the add.
fn add_data_pool(fs: &str, pool: &str, pools: &[DesiredPool], live: &CephState) -> Vec<Json> {
    let mut out = Vec::new();
    let erasure = pools.iter().find(|p| p.name == pool).is_some_and(|p| p.spec.is_erasure());
    let lacks = live.pool(pool).is_some_and(|p| !p.flags_names.split(',').any(|f| f == "ec_overwrites"));
    if erasure && lacks {
        out.push(pool_set(pool, "allow_ec_overwrites", "true"));
    }
    out.push(json!({"prefix": "fs add_data_pool", "fs_name": fs, "pool": pool}));
    out
}

/// The applied hash on the metadata pool: written last, it marks the file system finished.
fn applied_hash(fs: &DesiredFs) -> Json {
    app_set(&fs.spec.metadata_pool, CEPHFS, FS_APPLIED_HASH_KEY, &fs.spec.hash())
}

/// The create sequence of `fs` (its pools exist).
fn create(fs: &DesiredFs, pools: &[DesiredPool], live: &CephState) -> Vec<Json> {
    let spec = &fs.spec;
    let mut out = vec![json!({"prefix": "fs new", "fs_name": fs.name, "metadata": spec.metadata_pool, "data": spec.default_data_pool()})];
    for pool in spec.data_pools.iter().skip(1) {
        out.extend(add_data_pool(&fs.name, pool, pools, live));
    }
    out.push(fs_set(&fs.name, "max_mds", spec.active));
    out.push(fs_set(&fs.name, "standby_count_wanted", spec.standby_count_wanted()));
    out.push(applied_hash(fs));
    out
}

/// The update sequence: data pools added, then removed, then the changed settings and the hash.
fn update(step: &Step, fs: &DesiredFs, pools: &[DesiredPool], live: &CephState) -> Vec<Json> {
    let spec = &fs.spec;
    let changed = |path: &str| step.changes.iter().any(|c| c.path == path);
    let mut out = Vec::new();
    if changed(PATH_DATA_POOLS) {
        let current = live.fs(&fs.name).map(|l| live.fs_data_pools(l)).unwrap_or_default();
        for pool in spec.data_pools.iter().filter(|p| !current.contains(p)) {
            out.extend(add_data_pool(&fs.name, pool, pools, live));
        }
        for pool in current.iter().filter(|p| !spec.data_pools.contains(p)) {
            out.push(json!({"prefix": "fs rm_data_pool", "fs_name": fs.name, "pool": pool}));
        }
    }
    if changed(PATH_ACTIVE) {
        out.push(fs_set(&fs.name, "max_mds", spec.active));
    }
    if changed(PATH_STANDBY) {
        out.push(fs_set(&fs.name, "standby_count_wanted", spec.standby_count_wanted()));
    }
    out.push(applied_hash(fs));
    out
}
