//! The file-system planner (DESIGN.md §2 step 8 for direct-mode CephFS). PURE: (declared file
//! systems, live [`CephState`], options) → [`Step`]s and [`Refusal`]s keyed
//! `cairn.dev/v1alpha1 CephFs/<name>`, and [`combine`], which orders them with the pool steps:
//! a file system after its pools, its delete before theirs.
//!
//! Ceph keeps no metadata of its own on a file system, so cairn's markers live on its metadata
//! pool: a file system is stack S's when its metadata pool carries S's `cairn.dev/stack` and the
//! address `filesystem.<name>` (both written when cairn creates the pool, before `fs new`), and
//! `cairn.dev/fs-applied-hash` there is the hash of the file-system spec last applied.

use serde::Serialize;
use serde_json::{json, Value as Json};

use super::fs_spec::{fs_address, fs_key, DesiredFs, FsSpec};
use super::plan::{set, PoolPlan};
use super::spec::pool_key;
use super::state::{CephState, LiveFs, FS_APPLIED_HASH_KEY, POOL_ADDRESS_KEY, POOL_PROTECT_KEY};
use crate::hash::sha256_hex;
use crate::plan::{Action, Class, FieldChange, Refusal, Step};

/// The path of a file system's data pools (`before`: live, default first; `after`: declared).
pub const PATH_DATA_POOLS: &str = "data_pools";
/// The path of the metadata pool's name.
pub const PATH_METADATA_POOL: &str = "metadata_pool";
/// The path of `active` (`max_mds`).
pub const PATH_ACTIVE: &str = "active";
/// The path of `standby` (`standby_count_wanted`: 0 false, 1 true, another count as itself).
pub const PATH_STANDBY: &str = "standby";

/// What the file-system planner reads.
#[derive(Clone, Copy, Debug)]
pub struct FsPlanInput<'a> {
    pub stack: &'a str,
    /// The declared file systems, in the order their steps should appear.
    pub filesystems: &'a [DesiredFs],
    pub live: &'a CephState,
    /// Take over same-named file systems that carry no stack's marker (`--adopt`).
    pub adopt: bool,
    /// Plan the delete of every file system this stack owns (`destroy`).
    pub destroy: bool,
}

/// The file systems' part of a plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FsPlan {
    /// One step per declared file system (input order), then the deletes.
    pub steps: Vec<Step>,
    pub refusals: Vec<Refusal>,
}

/// The stack whose file system `fs` is: its metadata pool's `cairn.dev/stack`, when that pool's
/// `cairn.dev/address` is the file system's (`filesystem.<name>`). `None`: not made by cairn
/// (made by hand, or on a plain pool of some stack).
pub fn fs_owner<'a>(live: &'a CephState, fs: &LiveFs) -> Option<&'a str> {
    let meta = live.fs_metadata_pool(fs)?;
    (meta.meta(POOL_ADDRESS_KEY) == Some(fs_address(&fs.mdsmap.fs_name).as_str())).then(|| meta.owner()).flatten()
}

/// Plans the file systems: create when absent, no-op when equal, update (`active`, `standby`,
/// data pools added or removed) or replace (the default data pool changed: Ceph cannot change
/// it), and a delete for each file system this stack owns that is no longer declared (every
/// one under `destroy`). A same-named file system without the marker is refused unless
/// `adopt`; one with another stack's marker always is. Each step that leaves a file system
/// without an MDS daemon says so in its `reason`. `after` stays empty: [`combine`] sets it.
pub fn plan_filesystems(input: &FsPlanInput) -> FsPlan {
    let mut plan = FsPlan::default();
    if !input.destroy {
        for fs in input.filesystems {
            match declared_step(input, fs) {
                Ok(step) => plan.steps.push(step),
                Err(refusal) => plan.refusals.push(*refusal),
            }
        }
        note_missing_mds(input.live, &mut plan.steps);
    }
    let mut owned: Vec<&LiveFs> = input
        .live
        .fs_map
        .filesystems
        .iter()
        .filter(|f| fs_owner(input.live, f) == Some(input.stack))
        .filter(|f| input.destroy || !input.filesystems.iter().any(|d| d.name == f.mdsmap.fs_name))
        .collect();
    owned.sort_by(|a, b| b.id.cmp(&a.id).then_with(|| a.mdsmap.fs_name.cmp(&b.mdsmap.fs_name)));
    for live in owned {
        let name = &live.mdsmap.fs_name;
        let declared = input.filesystems.iter().find(|d| &d.name == name);
        let meta = input.live.fs_metadata_pool(live);
        let protected = declared.map_or_else(|| meta.and_then(|m| m.meta(POOL_PROTECT_KEY)) != Some("false"), |d| d.protect);
        let address = declared.map_or_else(|| fs_address(name), |d| d.address.clone());
        plan.steps.push(Step::delete(fs_key(name), Some(address), protected, declared.is_some(), fs_fingerprint(live, input.live)));
    }
    plan
}

/// SHA-256 (hex) of what a plan compares on a live file system — its id, name, pools, `max_mds`,
/// `standby_count_wanted` and cairn's applied hash — so a saved plan can tell that it changed
/// since. Which daemons serve it does not count.
pub fn fs_fingerprint(fs: &LiveFs, state: &CephState) -> String {
    #[derive(Serialize)]
    struct Compared<'a> {
        id: i64,
        fs_name: &'a str,
        metadata_pool: i64,
        data_pools: &'a [i64],
        max_mds: u32,
        standby_count_wanted: u32,
        applied_hash: Option<&'a str>,
    }
    let m = &fs.mdsmap;
    let compared = Compared {
        id: fs.id,
        fs_name: &m.fs_name,
        metadata_pool: m.metadata_pool,
        data_pools: &m.data_pools,
        max_mds: m.max_mds,
        standby_count_wanted: m.standby_count_wanted,
        applied_hash: state.fs_metadata_pool(fs).and_then(|p| p.meta(FS_APPLIED_HASH_KEY)),
    };
    sha256_hex(serde_json::to_string(&compared).unwrap_or_default().as_bytes())
}

/// The step of one declared file system, or why it may not be touched.
fn declared_step(input: &FsPlanInput, fs: &DesiredFs) -> Result<Step, Box<Refusal>> {
    let mut step = Step::create(fs_key(&fs.name), fs.address.clone());
    let Some(live) = input.live.fs(&fs.name) else {
        step.changes = create_changes(&fs.spec);
        return Ok(step);
    };
    let adopt = owned(input, fs, live)?;
    let (changes, reason) = compare(&fs.spec, live, input.live);
    let hash_matches = input.live.fs_metadata_pool(live).and_then(|p| p.meta(FS_APPLIED_HASH_KEY)) == Some(fs.spec.hash().as_str());
    step.action = if reason.is_some() {
        Action::Replace
    } else if changes.is_empty() && hash_matches && !adopt {
        Action::Noop
    } else {
        Action::Update
    };
    step.class = match step.action {
        Action::Noop => None,
        _ if hash_matches && !changes.is_empty() => Some(Class::Drift),
        _ => Some(Class::Pending),
    };
    step.protected = step.action == Action::Replace && fs.protect;
    step.reason = reason;
    step.adopt = adopt;
    step.changes = changes;
    step.live_fingerprint = Some(fs_fingerprint(live, input.live));
    Ok(step)
}

/// Whether cairn may write `live` for `fs` (`Ok(true)`: by adopting it).
fn owned(input: &FsPlanInput, fs: &DesiredFs, live: &LiveFs) -> Result<bool, Box<Refusal>> {
    let stack = input.stack;
    let what = format!("file system {} ({})", fs.name, fs.address);
    let meta = input.live.fs_metadata_pool(live);
    match (fs_owner(input.live, live), meta.and_then(|m| m.owner())) {
        (Some(owner), _) if owner == stack => Ok(false),
        (Some(other), _) | (None, Some(other)) if other != stack && !other.is_empty() => Err(refusal(
            fs,
            format!("{what} is managed by stack {other}, not by stack {stack}"),
            format!("a file system can belong to one stack only: remove it from one of the stacks ({other} or {stack})"),
        )),
        _ if input.adopt => {
            let meta_name = meta.map_or_else(|| format!("#{}", live.mdsmap.metadata_pool), |m| m.pool_name.clone());
            if meta_name != fs.spec.metadata_pool {
                return Err(refusal(
                    fs,
                    format!("{what} cannot be adopted: its metadata pool is {meta_name}, not {}", fs.spec.metadata_pool),
                    "cairn names a file system's pools after it (`<fs>-metadata`, `<fs>-<data name>`); rename the file system in the stack so it does not collide, or leave this one unmanaged".into(),
                ));
            }
            Ok(true)
        }
        _ => Err(refusal(
            fs,
            format!("{what} exists and was not created by stack {stack}"),
            format!(
                "rename {} so it does not collide, remove it from the stack, or re-run with --adopt to take the file system and its pools over",
                fs.address
            ),
        )),
    }
}

fn refusal(fs: &DesiredFs, message: String, help: String) -> Box<Refusal> {
    Box::new(Refusal { key: fs_key(&fs.name), address: Some(fs.address.clone()), message, help, at: None })
}

/// A create's fields: the pools it is made on and its MDS settings.
fn create_changes(spec: &FsSpec) -> Vec<FieldChange> {
    vec![
        set(PATH_METADATA_POOL, None, Some(json!(spec.metadata_pool))),
        set(PATH_DATA_POOLS, None, Some(json!(spec.data_pools))),
        set(PATH_ACTIVE, None, Some(json!(spec.active))),
        set(PATH_STANDBY, None, Some(json!(spec.standby))),
    ]
}

/// `standby_count_wanted` as the plan shows it against `standby`.
fn live_standby(count: u32) -> Json {
    match count {
        0 => json!(false),
        1 => json!(true),
        n => json!(n),
    }
}

/// The differing fields of `live` against `spec` (before = live, after = declared), and the
/// reason it must be replaced, if it must.
fn compare(spec: &FsSpec, live: &LiveFs, state: &CephState) -> (Vec<FieldChange>, Option<String>) {
    let mut out = Vec::new();
    let mut reason = None;
    let meta = state.fs_metadata_pool(live).map_or_else(|| format!("#{}", live.mdsmap.metadata_pool), |p| p.pool_name.clone());
    if meta != spec.metadata_pool {
        out.push(set(PATH_METADATA_POOL, Some(json!(meta)), Some(json!(spec.metadata_pool))));
        reason = Some(format!(
            "a file system's metadata pool cannot change: the file system is made again on {} and its files are lost",
            spec.metadata_pool
        ));
    }
    let data = state.fs_data_pools(live);
    let same_set = data.len() == spec.data_pools.len() && data.iter().all(|d| spec.data_pools.contains(d));
    if !same_set || data.first().map(String::as_str) != Some(spec.default_data_pool()) {
        if reason.is_none() && data.first().map(String::as_str) != Some(spec.default_data_pool()) {
            reason = Some(format!(
                "a file system's default (first) data pool cannot change: the file system is made again with {} first and its files are lost",
                spec.default_data_pool()
            ));
        }
        out.push(set(PATH_DATA_POOLS, Some(json!(data)), Some(json!(spec.data_pools))));
    }
    if live.mdsmap.max_mds != spec.active {
        out.push(set(PATH_ACTIVE, Some(json!(live.mdsmap.max_mds)), Some(json!(spec.active))));
    }
    let standby = live_standby(live.mdsmap.standby_count_wanted);
    if standby != json!(spec.standby) {
        out.push(set(PATH_STANDBY, Some(standby), Some(json!(spec.standby))));
    }
    (out, reason)
}

/// Says, in the `reason` of each declared file system's step, when no MDS daemon will serve it:
/// one that has none now takes a standby daemon, in plan order, while there are any.
fn note_missing_mds(live: &CephState, steps: &mut [Step]) {
    let mut free = live.fs_map.standbys.len();
    let daemons = free + live.fs_map.filesystems.iter().map(|f| f.mdsmap.info.len()).sum::<usize>();
    for step in steps.iter_mut().filter(|s| s.action != Action::Delete) {
        let served = step.action != Action::Replace && live.fs(&step.key.name).is_some_and(|f| !f.mdsmap.info.is_empty());
        if served {
            continue;
        }
        if free > 0 {
            free -= 1;
            continue;
        }
        let note = if daemons == 0 {
            "the cluster has no MDS daemon: the file system stays offline until one runs (cairn does not start MDS daemons)"
        } else {
            "no MDS daemon is free to serve it: the file system stays offline until one more runs (cairn does not start MDS daemons)"
        };
        step.reason = Some(match step.reason.take() {
            Some(r) => format!("{r}; {note}"),
            None => note.to_string(),
        });
    }
}

/// The pool and file-system steps in one order — pool creates and updates, file-system creates,
/// updates and replaces (each after its pools' steps), file-system deletes, pool deletes (each
/// after the step that makes its file system let go of it) — and the refusals of both, plus one
/// for each pool the plan would delete or recreate while a file system still uses it (the
/// monitor would refuse with EBUSY half-way through the apply).
pub fn combine(pools: PoolPlan, fs: FsPlan, filesystems: &[DesiredFs], live: &CephState) -> (Vec<Step>, Vec<Refusal>) {
    let mut refusals = pools.refusals;
    refusals.extend(fs.refusals);
    let (pool_deletes, mut pool_rest): (Vec<Step>, Vec<Step>) = pools.steps.into_iter().partition(|s| s.action == Action::Delete);
    let (fs_deletes, mut fs_rest): (Vec<Step>, Vec<Step>) = fs.steps.into_iter().partition(|s| s.action == Action::Delete);

    for step in &mut fs_rest {
        if let Some(d) = filesystems.iter().find(|d| d.name == step.key.name) {
            step.after.extend(pool_rest.iter().filter(|p| d.spec.uses(&p.key.name)).map(|p| p.key.clone()));
        }
    }
    // The step that makes each live file system let go of `pool`: its delete, or the update or
    // replace of a declaration that no longer names the pool.
    let fs_steps: Vec<&Step> = fs_rest.iter().chain(&fs_deletes).collect();
    let releaser = |pool: &str| -> Result<Option<&Step>, String> {
        let Some(user) = live.pool(pool).and_then(|p| live.fs_using(p)) else { return Ok(None) };
        let name = &user.mdsmap.fs_name;
        let step = fs_steps.iter().copied().find(|s| &s.key.name == name && s.action != Action::Noop);
        let declared = filesystems.iter().find(|d| &d.name == name);
        match step {
            Some(s) if s.action == Action::Delete || !declared.is_some_and(|d| d.spec.uses(pool)) => Ok(Some(s)),
            _ => Err(name.clone()),
        }
    };
    let mut deletes = Vec::with_capacity(pool_deletes.len());
    for mut step in pool_deletes {
        match releaser(&step.key.name) {
            Ok(Some(fs_step)) => step.after.push(fs_step.key.clone()),
            Ok(None) => {}
            Err(fs) => refusals.push(in_use(&step, &fs, "deleted")),
        }
        deletes.push(step);
    }
    for step in pool_rest.iter().filter(|s| s.action == Action::Replace) {
        if let Some(user) = live.pool(&step.key.name).and_then(|p| live.fs_using(p)) {
            refusals.push(in_use(step, &user.mdsmap.fs_name, "recreated"));
        }
    }
    let mut steps = std::mem::take(&mut pool_rest);
    steps.extend(fs_rest);
    steps.extend(fs_deletes);
    steps.extend(deletes);
    (steps, refusals)
}

/// The refusal of a pool step that the monitor would refuse because file system `fs` uses it.
fn in_use(step: &Step, fs: &str, what: &str) -> Refusal {
    let help = if what == "recreated" {
        format!(
            "a file system's pool cannot be recreated under it: give the data block a new name (a new pool is made and added, the old one removed and deleted), or rename file system {fs}"
        )
    } else {
        format!("remove file system {fs} first (or keep the pool in its declaration)")
    };
    Refusal {
        key: pool_key(&step.key.name),
        address: step.address.clone(),
        message: format!("pool {} would be {what} while file system {fs} uses it", step.key.name),
        help,
        at: None,
    }
}
