//! The monitor commands that carry out a pool step: JSON as `rados_mon_command` takes it
//! (without `format`), with the prefixes and argument names of Ceph 16 (pacific)
//! `src/mon/MonCommands.h`. Values of `osd pool set`, `set-quota` and `application set` are
//! strings (librados refuses integers there); `pg_num`, `pgp_num` and `size` of
//! `osd pool create` are integers.

use serde_json::{json, Value as Json};

use super::plan::{PATH_ADDRESS, PATH_NAME, PATH_PROTECT, PATH_STACK};
use super::spec::{DesiredPool, Layout};
use super::state::{CephState, LivePool, POOL_ADDRESS_KEY, POOL_APPLIED_HASH_KEY, POOL_PROTECT_KEY, POOL_STACK_KEY};
use crate::plan::{Action, Step};

/// `pg_num` of a new pool that declares none while the autoscaler is on: small, so that many
/// pools fit a small cluster; the autoscaler grows it as data arrives.
pub const AUTOSCALED_INITIAL_PG_NUM: u32 = 8;
/// `pg_num` of a new pool that declares none with the autoscaler `off` or `warn`: Ceph's own
/// default (`osd_pool_default_pg_num`).
pub const DEFAULT_PG_NUM: u32 = 32;

/// The monitor commands for `step`, in order. `pool` is the declaration (needed by creates,
/// updates and replaces; without it those yield nothing), `live` the state the step was
/// planned against (an update reads the applications it moves away from).
///
/// - create: the CRUSH rule (replicated) or erasure-code profile and its rule (erasure; both
///   idempotent), `osd pool create` (with size and autoscale mode), `allow_ec_overwrites` for
///   RBD/CephFS on erasure coding, the application, the ownership metadata (stack, address,
///   protect), then `min_size` and quotas, and the applied hash LAST: a pool whose creation
///   stopped half-way is this stack's (so the next plan finishes or destroys it, with no
///   `--adopt`) and visibly unfinished (no applied hash, so never a no-op).
/// - update: a rename first (`moved`), then only the changed settings, then the applied hash.
///   A changed application is enabled, given cairn's metadata, and the old one disabled.
/// - replace: `osd pool rm` of the live pool, then the create sequence.
/// - delete: `osd pool rm` (the monitor needs `mon_allow_pool_delete = true`).
pub fn commands(step: &Step, pool: Option<&DesiredPool>, stack: &str, live: &CephState) -> Vec<Json> {
    let name = step.key.name.as_str();
    // A rename's change names the live pool the step starts from.
    let source = step.changes.iter().find(|c| c.path == PATH_NAME).and_then(|c| c.before.as_ref()).and_then(Json::as_str).unwrap_or(name);
    match (step.action, pool) {
        (Action::Noop, _) => Vec::new(),
        (Action::Delete, _) => vec![remove(name)],
        (Action::Create, Some(pool)) => create(name, pool, stack),
        (Action::Replace, Some(pool)) => {
            let mut out = vec![remove(source)];
            out.extend(create(name, pool, stack));
            out
        }
        (Action::Update, Some(pool)) => update(step, name, source, pool, stack, live.pool(source)),
        (Action::Create | Action::Replace | Action::Update, None) => Vec::new(),
    }
}

/// `osd pool rm NAME NAME --yes-i-really-really-mean-it`.
pub(super) fn remove(name: &str) -> Json {
    json!({"prefix": "osd pool rm", "pool": name, "pool2": name, "yes_i_really_really_mean_it": true})
}

/// `osd pool set NAME VAR VAL`.
pub(super) fn pool_set(name: &str, var: &str, val: impl ToString) -> Json {
    json!({"prefix": "osd pool set", "pool": name, "var": var, "val": val.to_string()})
}

/// `osd pool set-quota NAME FIELD VAL` (0: unlimited).
fn set_quota(name: &str, field: &str, val: u64) -> Json {
    json!({"prefix": "osd pool set-quota", "pool": name, "field": field, "val": val.to_string()})
}

/// `osd pool application enable NAME APP --yes-i-really-mean-it` (needed when the pool already
/// has another application).
fn app_enable(name: &str, app: &str) -> Json {
    json!({"prefix": "osd pool application enable", "pool": name, "app": app, "yes_i_really_mean_it": true})
}

/// `osd pool application set NAME APP KEY VALUE`.
pub(super) fn app_set(name: &str, app: &str, key: &str, value: &str) -> Json {
    json!({"prefix": "osd pool application set", "pool": name, "app": app, "key": key, "value": value})
}

/// The CRUSH rule (replicated) or erasure-code profile and rule (erasure) `pool` uses; the
/// monitor answers 0 when they already exist as asked.
fn placement(pool: &DesiredPool) -> Vec<Json> {
    let spec = &pool.spec;
    let rule = spec.rule_name();
    match spec.layout {
        Layout::Replicated { .. } => {
            let mut cmd =
                json!({"prefix": "osd crush rule create-replicated", "name": rule, "root": "default", "type": spec.failure_domain});
            if let Some(class) = &spec.device_class {
                cmd["class"] = json!(class);
            }
            vec![cmd]
        }
        Layout::Erasure { k, m, .. } => {
            let mut profile = vec![format!("k={k}"), format!("m={m}"), format!("crush-failure-domain={}", spec.failure_domain)];
            if let Some(class) = &spec.device_class {
                profile.push(format!("crush-device-class={class}"));
            }
            vec![
                json!({"prefix": "osd erasure-code-profile set", "name": rule, "profile": profile}),
                json!({"prefix": "osd crush rule create-erasure", "name": rule, "profile": rule}),
            ]
        }
    }
}

/// The ownership metadata on `app`: stack, address and protect (the applied hash comes last).
fn ownership(name: &str, app: &str, pool: &DesiredPool, stack: &str) -> Vec<Json> {
    vec![
        app_set(name, app, POOL_STACK_KEY, stack),
        app_set(name, app, POOL_ADDRESS_KEY, &pool.address),
        app_set(name, app, POOL_PROTECT_KEY, &pool.protect.to_string()),
    ]
}

/// The applied hash on the pool's application: written last, it marks the pool finished.
fn applied_hash(name: &str, pool: &DesiredPool) -> Json {
    app_set(name, &pool.spec.application, POOL_APPLIED_HASH_KEY, &pool.spec.hash())
}

/// The create sequence of `pool` under `name`.
pub(super) fn create(name: &str, pool: &DesiredPool, stack: &str) -> Vec<Json> {
    let spec = &pool.spec;
    let app = spec.application.as_str();
    let pg_num = spec.pg_num.unwrap_or(if spec.autoscale == "on" { AUTOSCALED_INITIAL_PG_NUM } else { DEFAULT_PG_NUM });
    let mut out = placement(pool);
    let mut create = json!({"prefix": "osd pool create", "pool": name, "pg_num": pg_num, "pgp_num": pg_num,
        "pool_type": spec.type_name()});
    match spec.layout {
        Layout::Replicated { size, .. } => {
            create["rule"] = json!(spec.rule_name());
            create["size"] = json!(size);
        }
        Layout::Erasure { .. } => {
            create["erasure_code_profile"] = json!(spec.rule_name());
            create["rule"] = json!(spec.rule_name());
        }
    }
    create["autoscale_mode"] = json!(spec.autoscale);
    out.push(create);
    if spec.needs_ec_overwrites() {
        out.push(pool_set(name, "allow_ec_overwrites", "true"));
    }
    out.push(app_enable(name, app));
    out.extend(ownership(name, app, pool, stack));
    // Erasure pools too: Ceph's own default (k + 1 since Octopus) is what the language
    // promises, but the declaration is what counts.
    out.push(pool_set(name, "min_size", spec.layout.min_size()));
    if spec.quota_max_bytes != 0 {
        out.push(set_quota(name, "max_bytes", spec.quota_max_bytes));
    }
    if spec.quota_max_objects != 0 {
        out.push(set_quota(name, "max_objects", spec.quota_max_objects));
    }
    out.push(applied_hash(name, pool));
    out
}

/// The update sequence: the rename, the application and metadata, the changed settings, the
/// applied hash. `live` is the pool as planned, under its old name when renamed.
fn update(step: &Step, name: &str, source: &str, pool: &DesiredPool, stack: &str, live: Option<&LivePool>) -> Vec<Json> {
    let spec = &pool.spec;
    let app = spec.application.as_str();
    let changed = |path: &str| step.changes.iter().any(|c| c.path == path);
    let mut out = Vec::new();
    if source != name {
        out.push(json!({"prefix": "osd pool rename", "srcpool": source, "destpool": name}));
    }
    let old_apps: Vec<&str> =
        live.map(|l| l.application_metadata.keys().map(String::as_str).filter(|a| *a != app).collect()).unwrap_or_default();
    if changed("application") {
        if spec.needs_ec_overwrites() && !live.is_some_and(|l| l.flags_names.split(',').any(|f| f == "ec_overwrites")) {
            out.push(pool_set(name, "allow_ec_overwrites", "true"));
        }
        out.push(app_enable(name, app));
        // The marker moves before the old application (and its metadata) goes.
        out.extend(ownership(name, app, pool, stack));
        for old in old_apps {
            out.push(json!({"prefix": "osd pool application disable", "pool": name, "app": old, "yes_i_really_mean_it": true}));
        }
    } else {
        if changed(PATH_STACK) {
            out.push(app_set(name, app, POOL_STACK_KEY, stack));
        }
        if changed(PATH_ADDRESS) {
            out.push(app_set(name, app, POOL_ADDRESS_KEY, &pool.address));
        }
        if changed(PATH_PROTECT) {
            out.push(app_set(name, app, POOL_PROTECT_KEY, &pool.protect.to_string()));
        }
    }
    if let Layout::Replicated { size, min_size } = spec.layout {
        // Size first: the monitor refuses a min_size above the current size, and lowers
        // min_size itself when size drops below it.
        if changed("size") {
            out.push(pool_set(name, "size", size));
        }
        if changed("size") || changed("min_size") {
            out.push(pool_set(name, "min_size", min_size));
        }
    } else if changed("min_size") {
        out.push(pool_set(name, "min_size", spec.layout.min_size()));
    }
    // The autoscale mode before pg_num, so the autoscaler does not undo a declared pg_num.
    if changed("autoscale") {
        out.push(pool_set(name, "pg_autoscale_mode", &spec.autoscale));
    }
    if let (true, Some(pg)) = (changed("pg_num"), spec.pg_num) {
        out.push(pool_set(name, "pg_num", pg));
    }
    if !spec.is_erasure() && (changed("failure_domain") || changed("device_class")) {
        out.extend(placement(pool));
        out.push(pool_set(name, "crush_rule", spec.rule_name()));
    }
    if changed("quota.max_bytes") {
        out.push(set_quota(name, "max_bytes", spec.quota_max_bytes));
    }
    if changed("quota.max_objects") {
        out.push(set_quota(name, "max_objects", spec.quota_max_objects));
    }
    out.push(applied_hash(name, pool));
    out
}
