//! The pool planner (DESIGN.md §2 step 8 for direct-mode pools). PURE: (declared pools,
//! `moved` blocks, live [`CephState`], options) → [`Step`]s and [`Refusal`]s of the same types
//! as the Kubernetes plan, so plan output, saved plans and the executor treat a pool like any
//! object (key `cairn.dev/v1alpha1 CephPool/<name>`).

use serde::Serialize;
use serde_json::{json, Value as Json};

use super::spec::{pool_key, DesiredPool, Layout, PoolSpec};
use super::state::{
    CephState, LivePool, POOL_ADDRESS_KEY, POOL_APPLIED_HASH_KEY, POOL_PROTECT_KEY, POOL_STACK_KEY, POOL_TYPE_ERASURE, POOL_TYPE_REPLICATED,
};
use crate::hash::sha256_hex;
use crate::plan::{Action, Class, FieldChange, FieldOp, Refusal, Step};

// Pool changes are named as the pool block and Ceph name them (`size`, `quota.max_bytes`,
// `application`), not as Kubernetes objects are: a pool has no `metadata.annotations`.

/// The path of a rename's change (`before`: the old name, `after`: the new one).
pub const PATH_NAME: &str = "name";
/// The path of the address marker (application metadata `cairn.dev/address`).
pub const PATH_ADDRESS: &str = "application_metadata.cairn.dev/address";
/// The path of the protect marker (application metadata `cairn.dev/protect`, `"true"` or `"false"`).
pub const PATH_PROTECT: &str = "application_metadata.cairn.dev/protect";
/// The path of the ownership marker (application metadata `cairn.dev/stack`), which only an
/// adoption changes.
pub const PATH_STACK: &str = "application_metadata.cairn.dev/stack";

/// What the pool planner reads.
#[derive(Clone, Copy, Debug)]
pub struct PoolPlanInput<'a> {
    pub stack: &'a str,
    /// The declared pools, in the order their steps should appear.
    pub pools: &'a [DesiredPool],
    /// `moved` blocks as (old name, new name).
    pub moves: &'a [(String, String)],
    pub live: &'a CephState,
    /// Take over same-named pools that carry no stack's marker (`--adopt`).
    pub adopt: bool,
    /// Plan the delete of every pool this stack owns (`destroy`).
    pub destroy: bool,
}

/// The pools' part of a plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolPlan {
    /// One step per declared pool (input order), then the deletes (newest pool first).
    pub steps: Vec<Step>,
    pub refusals: Vec<Refusal>,
}

/// Plans the pools: create when absent, no-op when equal, update (one [`FieldChange`] per
/// differing field) or replace (type or erasure-code profile changed), `osd pool rename` for a
/// `moved` pool, and a delete for each pool carrying this stack's marker that is no longer
/// declared (every such pool under `destroy`). A same-named pool without the marker is refused
/// unless `adopt`; one with another stack's marker always is. Pools have no dependencies among
/// themselves, so `after` stays empty: the caller merges these steps into the Kubernetes plan —
/// pool creates and updates before the storage classes that use them, pool deletes after —
/// and sets `after` and the indexes. Pools hold no secrets. Deterministic.
pub fn plan_pools(input: &PoolPlanInput) -> PoolPlan {
    let mut plan = PoolPlan::default();
    if !input.destroy {
        for pool in input.pools {
            match declared_step(input, pool) {
                Ok(step) => plan.steps.push(step),
                Err(refusal) => plan.refusals.push(*refusal),
            }
        }
    }
    // Pools a `moved` block renames (or refuses to) are not deleted.
    let moved_away =
        |name: &str| !input.destroy && input.moves.iter().any(|(from, to)| from == name && input.pools.iter().any(|p| &p.name == to));
    let mut owned: Vec<&LivePool> = input
        .live
        .pools
        .iter()
        .filter(|p| p.owner() == Some(input.stack))
        .filter(|p| input.destroy || !input.pools.iter().any(|d| d.name == p.pool_name))
        .filter(|p| !moved_away(&p.pool_name))
        .collect();
    owned.sort_by(|a, b| b.pool_id.cmp(&a.pool_id).then_with(|| a.pool_name.cmp(&b.pool_name)));
    for live in owned {
        let declared = input.pools.iter().find(|d| d.name == live.pool_name);
        plan.steps.push(delete_step(live, declared, input.live));
    }
    plan
}

/// SHA-256 (hex) of what a plan compares on a live pool — its id, type, size, `min_size`,
/// CRUSH rule (and the rule's failure domain and device class), `pg_num_target`, autoscale
/// mode, quotas, erasure-code profile and application metadata — so a saved plan can tell
/// that the pool changed since. Usage and flags (`full_quota`) do not count.
pub fn pool_fingerprint(pool: &LivePool, state: &CephState) -> String {
    #[derive(Serialize)]
    struct Compared<'a> {
        pool_id: i64,
        pool_type: u8,
        size: u32,
        min_size: u32,
        crush_rule: i64,
        rule_failure_domain: Option<&'a str>,
        rule_device_class: Option<&'a str>,
        pg_num_target: u32,
        pg_autoscale_mode: &'a str,
        quota_max_bytes: u64,
        quota_max_objects: u64,
        erasure_code_profile: &'a str,
        profile: Option<&'a std::collections::BTreeMap<String, String>>,
        application_metadata: &'a std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    }
    let rule = state.rule(pool.crush_rule);
    let compared = Compared {
        pool_id: pool.pool_id,
        pool_type: pool.pool_type,
        size: pool.size,
        min_size: pool.min_size,
        crush_rule: pool.crush_rule,
        rule_failure_domain: rule.and_then(|r| r.failure_domain()),
        rule_device_class: rule.and_then(|r| r.device_class()),
        pg_num_target: target_pg_num(pool),
        pg_autoscale_mode: &pool.pg_autoscale_mode,
        quota_max_bytes: pool.quota_max_bytes,
        quota_max_objects: pool.quota_max_objects,
        erasure_code_profile: &pool.erasure_code_profile,
        profile: state.ec_profiles.get(&pool.erasure_code_profile),
        application_metadata: &pool.application_metadata,
    };
    sha256_hex(serde_json::to_string(&compared).unwrap_or_default().as_bytes())
}

/// The step of one declared pool, or why it may not be touched.
fn declared_step(input: &PoolPlanInput, pool: &DesiredPool) -> Result<Step, Box<Refusal>> {
    let mut step = Step::create(pool_key(&pool.name), pool.address.clone());
    let mut changes = Vec::new();
    let (live, adopt) = match input.live.pool(&pool.name) {
        Some(live) => {
            if let Some((from, _)) = input.moves.iter().find(|(from, to)| to == &pool.name && input.live.pool(from).is_some()) {
                return Err(refusal(
                    pool,
                    format!("pool {from} cannot be renamed to {} ({}): a pool named {} exists too", pool.name, pool.address, pool.name),
                    format!(
                        "delete one of the two pools, or remove the `moved` block if {} is the pool to keep (then {from} is planned like any pool the stack no longer declares)",
                        pool.name
                    ),
                ));
            }
            (live, owned(input, pool, live, None)?)
        }
        None => match moved_from(input, pool)? {
            Some((from, adopt)) => {
                changes.push(set(PATH_NAME, Some(json!(from.pool_name)), Some(json!(pool.name))));
                (from, adopt)
            }
            None => {
                step.changes = create_changes(&pool.spec);
                return Ok(step);
            }
        },
    };
    let (diffs, reason) = compare(&pool.spec, live, input.live);
    let spec_differs = !diffs.is_empty();
    changes.extend(diffs);
    changes.extend(metadata_changes(input.stack, pool, live, adopt));
    let hash_matches = live.meta(POOL_APPLIED_HASH_KEY) == Some(pool.spec.hash().as_str());
    step.action = if reason.is_some() {
        Action::Replace
    } else if changes.is_empty() && hash_matches && !adopt {
        Action::Noop
    } else {
        Action::Update
    };
    step.class = match step.action {
        Action::Noop => None,
        _ if hash_matches && spec_differs => Some(Class::Drift),
        _ => Some(Class::Pending),
    };
    step.protected = step.action == Action::Replace && pool.protect;
    step.reason = reason;
    step.adopt = adopt;
    step.changes = changes;
    step.live_fingerprint = Some(pool_fingerprint(live, input.live));
    Ok(step)
}

/// Whether cairn may write `live` for `pool` (`Ok(true)`: by adopting it). `from`: the old
/// name, when `live` is the source of a `moved` block.
fn owned(input: &PoolPlanInput, pool: &DesiredPool, live: &LivePool, from: Option<&str>) -> Result<bool, Box<Refusal>> {
    let stack = input.stack;
    let what = match from {
        Some(from) => format!("pool {from}, moved to {} ({}),", pool.name, pool.address),
        None => format!("pool {} ({})", pool.name, pool.address),
    };
    match live.owner() {
        Some(owner) if owner == stack => Ok(false),
        Some(other) if !other.is_empty() => Err(refusal(
            pool,
            format!("{what} is managed by stack {other}, not by stack {stack}"),
            format!("a pool can belong to one stack only: remove it from one of the stacks ({other} or {stack})"),
        )),
        _ if input.adopt => Ok(true),
        _ => Err(refusal(
            pool,
            format!("{what} exists and was not created by stack {stack}"),
            format!(
                "rename {} so it does not collide, remove it from the stack, or re-run with --adopt to take the pool over",
                pool.address
            ),
        )),
    }
}

/// The live pool a `moved` block renames to `pool` (which does not exist), and whether it is
/// adopted; `None` when there is none to rename.
fn moved_from<'a>(input: &PoolPlanInput<'a>, pool: &DesiredPool) -> Result<Option<(&'a LivePool, bool)>, Box<Refusal>> {
    for (from, to) in input.moves {
        if to != &pool.name {
            continue;
        }
        if let Some(live) = input.live.pool(from) {
            let adopt = owned(input, pool, live, Some(from.as_str()))?;
            return Ok(Some((live, adopt)));
        }
    }
    Ok(None)
}

/// The refusal of a declared pool.
fn refusal(pool: &DesiredPool, message: String, help: String) -> Box<Refusal> {
    Box::new(Refusal { key: pool_key(&pool.name), address: Some(pool.address.clone()), message, help, at: None })
}

/// The delete of a pool this stack owns (`declared`: its declaration, under `destroy`).
fn delete_step(live: &LivePool, declared: Option<&DesiredPool>, state: &CephState) -> Step {
    Step::delete(
        pool_key(&live.pool_name),
        declared.map(|d| d.address.clone()).or_else(|| live.meta(POOL_ADDRESS_KEY).map(str::to_string)),
        // A pool is protected unless its declaration or its metadata says otherwise.
        declared.map_or_else(|| live.meta(POOL_PROTECT_KEY) != Some("false"), |d| d.protect),
        declared.is_some(),
        pool_fingerprint(live, state),
    )
}

/// A [`FieldOp::Set`] change, or [`FieldOp::Remove`] when the declared value is absent.
/// A create's fields, by the pool block's names, as a Kubernetes create lists its object's
/// fields: what the pool will be made with (defaults included: `min_size`, `autoscale`, …).
fn create_changes(spec: &PoolSpec) -> Vec<FieldChange> {
    let mut out = vec![set("type", None, Some(json!(spec.type_name())))];
    match spec.layout {
        Layout::Replicated { size, .. } => out.push(set("size", None, Some(json!(size)))),
        Layout::Erasure { k, m, .. } => {
            out.push(set("erasure.k", None, Some(json!(k))));
            out.push(set("erasure.m", None, Some(json!(m))));
        }
    }
    out.push(set("min_size", None, Some(json!(spec.layout.min_size()))));
    if let Some(pg) = spec.pg_num {
        out.push(set("pg_num", None, Some(json!(pg))));
    }
    out.push(set("autoscale", None, Some(json!(spec.autoscale))));
    out.push(set("failure_domain", None, Some(json!(spec.failure_domain))));
    if let Some(class) = &spec.device_class {
        out.push(set("device_class", None, Some(json!(class))));
    }
    out.push(set("application", None, Some(json!(spec.application))));
    for (path, n) in [("quota.max_bytes", spec.quota_max_bytes), ("quota.max_objects", spec.quota_max_objects)] {
        if let Some(v) = limit(n) {
            out.push(set(path, None, Some(v)));
        }
    }
    out
}

/// A change of one field (`after: None` removes it).
pub(super) fn set(path: &str, before: Option<Json>, after: Option<Json>) -> FieldChange {
    let op = if after.is_some() { FieldOp::Set } else { FieldOp::Remove };
    FieldChange { path: path.into(), op, before, after, sensitive: false, managers: Vec::new() }
}

/// Appends a change when `before` and `after` differ.
fn diff(out: &mut Vec<FieldChange>, path: &str, before: Option<Json>, after: Option<Json>) {
    if before != after {
        out.push(set(path, before, after));
    }
}

/// Where `pg_num` is heading (`pg_num_target`; `pg_num` when the monitor does not report it).
fn target_pg_num(pool: &LivePool) -> u32 {
    if pool.pg_num_target == 0 {
        pool.pg_num
    } else {
        pool.pg_num_target
    }
}

/// A count where 0 means unlimited, as an optional value.
fn limit(n: u64) -> Option<Json> {
    (n != 0).then(|| json!(n))
}

/// The live pool's application(s): the name, several joined with `,`, or `None`.
fn live_application(live: &LivePool) -> Option<Json> {
    let apps: Vec<&str> = live.application_metadata.keys().map(String::as_str).collect();
    (!apps.is_empty()).then(|| json!(apps.join(",")))
}

/// The placement of a live erasure-coded pool: (k, m, failure domain, device class), each
/// `None` when unknown.
type EcPlacement = (Option<u32>, Option<u32>, Option<String>, Option<String>);

/// The live pool's erasure-code profile as cairn compares it. A profile missing from the state
/// is taken to be the declared one when its name is the one cairn gives those parameters
/// (cairn's names spell every compared parameter), else unknown.
fn live_ec(live: &LivePool, state: &CephState, spec: &PoolSpec) -> EcPlacement {
    let Some(profile) = state.ec_profiles.get(&live.erasure_code_profile) else {
        return match spec.layout {
            Layout::Erasure { k, m, .. } if spec.ec_profile().as_deref() == Some(live.erasure_code_profile.as_str()) => {
                (Some(k), Some(m), Some(spec.failure_domain.clone()), spec.device_class.clone())
            }
            _ => (None, None, None, None),
        };
    };
    let num = |key: &str| profile.get(key).and_then(|v| v.parse::<u32>().ok());
    let fd = profile.get("crush-failure-domain").cloned().unwrap_or_else(|| "host".into());
    let class = profile.get("crush-device-class").filter(|c| !c.is_empty()).cloned();
    (num("k"), num("m"), Some(fd), class)
}

/// The differing spec fields of `live` against `spec` (before = live, after = declared), and
/// the reason it must be replaced, if it must.
fn compare(spec: &PoolSpec, live: &LivePool, state: &CephState) -> (Vec<FieldChange>, Option<String>) {
    let mut out = Vec::new();
    let live_type = match live.pool_type {
        POOL_TYPE_REPLICATED => "replicated".to_string(),
        POOL_TYPE_ERASURE => "erasure".to_string(),
        other => format!("type {other}"),
    };
    if live_type != spec.type_name() {
        diff(&mut out, "type", Some(json!(live_type)), Some(json!(spec.type_name())));
        return (out, Some("a pool's type cannot change".into()));
    }
    let mut reason = None;
    match spec.layout {
        Layout::Replicated { size, min_size } => {
            diff(&mut out, "size", Some(json!(live.size)), Some(json!(size)));
            diff(&mut out, "min_size", Some(json!(live.min_size)), Some(json!(min_size)));
        }
        Layout::Erasure { k, m, .. } => {
            let (lk, lm, _, _) = live_ec(live, state, spec);
            diff(&mut out, "erasure.k", lk.map(|v| json!(v)), Some(json!(k)));
            diff(&mut out, "erasure.m", lm.map(|v| json!(v)), Some(json!(m)));
            diff(&mut out, "min_size", Some(json!(live.min_size)), Some(json!(spec.layout.min_size())));
        }
    }
    if let Some(pg) = spec.pg_num {
        diff(&mut out, "pg_num", Some(json!(target_pg_num(live))), Some(json!(pg)));
    }
    diff(&mut out, "autoscale", Some(json!(live.pg_autoscale_mode)), Some(json!(spec.autoscale)));
    let (fd, class) = match spec.layout {
        Layout::Replicated { .. } => {
            let rule = state.rule(live.crush_rule);
            (rule.and_then(|r| r.failure_domain()).map(str::to_string), rule.and_then(|r| r.device_class()).map(str::to_string))
        }
        Layout::Erasure { .. } => {
            let (_, _, fd, class) = live_ec(live, state, spec);
            (fd, class)
        }
    };
    diff(&mut out, "failure_domain", fd.map(|v| json!(v)), Some(json!(spec.failure_domain)));
    diff(&mut out, "device_class", class.map(|v| json!(v)), spec.device_class.as_ref().map(|v| json!(v)));
    if spec.is_erasure() && out.iter().any(|c| matches!(c.path.as_str(), "erasure.k" | "erasure.m" | "failure_domain" | "device_class")) {
        let profile = spec.ec_profile().unwrap_or_default();
        reason = Some(format!(
            "an erasure-coded pool's profile (k, m, failure domain, device class) cannot change: the pool is recreated with profile {profile}"
        ));
    }
    diff(&mut out, "application", live_application(live), Some(json!(spec.application)));
    diff(&mut out, "quota.max_bytes", limit(live.quota_max_bytes), limit(spec.quota_max_bytes));
    diff(&mut out, "quota.max_objects", limit(live.quota_max_objects), limit(spec.quota_max_objects));
    (out, reason)
}

/// cairn's metadata on the live pool against the declaration: the address, `protect`, and the
/// ownership marker when adopting.
fn metadata_changes(stack: &str, pool: &DesiredPool, live: &LivePool, adopt: bool) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let meta = |key: &str| live.meta(key).map(|v| json!(v));
    diff(&mut out, PATH_ADDRESS, meta(POOL_ADDRESS_KEY), Some(json!(pool.address)));
    diff(&mut out, PATH_PROTECT, meta(POOL_PROTECT_KEY), Some(json!(pool.protect.to_string())));
    if adopt {
        out.push(set(PATH_STACK, meta(POOL_STACK_KEY), Some(json!(stack))));
    }
    out
}
