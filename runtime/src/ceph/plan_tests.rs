//! Pool planner and command tests, with pools as the compiler lowers them and as the monitor
//! reports them (`osd pool ls detail`, `osd crush rule dump`, `osd erasure-code-profile get`).

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use super::commands::commands;
use super::plan::{plan_pools, pool_fingerprint, PoolPlan, PoolPlanInput, PATH_ADDRESS, PATH_NAME, PATH_STACK};
use super::spec::{pool_key, DesiredPool, Layout, PoolSpec};
use super::state::{CephState, CrushRule, CrushStep, LivePool, POOL_APPLIED_HASH_KEY, POOL_PROTECT_KEY};
use crate::plan::{Action, Class, FieldOp, Step};

const STACK: &str = "analytics";

fn spec(body: Json) -> PoolSpec {
    PoolSpec::from_body(&json!({ "spec": body })).unwrap()
}

/// `pool "fast" {}` lowered: the defaults.
fn replicated() -> PoolSpec {
    spec(json!({"type": "replicated", "size": 3, "min_size": 2, "autoscale": "on", "failure_domain": "host", "application": "rbd"}))
}

/// `pool "archive" { type = "erasure", erasure { k = 2, m = 1 }, failure_domain = "osd" }`.
fn erasure() -> PoolSpec {
    spec(json!({"type": "erasure", "erasure": {"k": 2, "m": 1}, "autoscale": "on", "failure_domain": "osd", "application": "rbd"}))
}

fn declared(name: &str, spec: PoolSpec) -> DesiredPool {
    DesiredPool { name: name.into(), address: format!("pool.{name}"), protect: true, spec }
}

/// The CRUSH rule `osd crush rule create-replicated` / `create-erasure` makes, as dumped.
fn rule(id: i64, name: &str, erasure: bool, failure_domain: &str, class: Option<&str>) -> CrushRule {
    let take = match class {
        Some(c) => format!("default~{c}"),
        None => "default".into(),
    };
    let step = |op: &str, item: Option<String>, ty: Option<&str>| CrushStep {
        op: op.into(),
        item_name: item,
        bucket_type: ty.map(str::to_string),
    };
    let mut steps = Vec::new();
    if erasure {
        steps.push(step("set_chooseleaf_tries", None, None));
        steps.push(step("set_choose_tries", None, None));
    }
    steps.push(step("take", Some(take), None));
    steps.push(step(if erasure { "chooseleaf_indep" } else { "chooseleaf_firstn" }, None, Some(failure_domain)));
    steps.push(step("emit", None, None));
    CrushRule { rule_id: id, rule_name: name.into(), rule_type: if erasure { 3 } else { 1 }, steps }
}

/// Adds `pool` to `state` as the monitor reports it after cairn's create sequence for `stack`
/// (with the rule and profile it made); returns the live pool for tweaking.
pub(super) fn made<'a>(state: &'a mut CephState, pool: &DesiredPool, stack: &str, id: i64) -> &'a mut LivePool {
    let spec = &pool.spec;
    let rule_name = spec.rule_name();
    let rule_id = match state.crush_rules.iter().find(|r| r.rule_name == rule_name) {
        Some(r) => r.rule_id,
        None => {
            let rule_id = i64::try_from(state.crush_rules.len()).unwrap();
            state.crush_rules.push(rule(rule_id, &rule_name, spec.is_erasure(), &spec.failure_domain, spec.device_class.as_deref()));
            rule_id
        }
    };
    let (pool_type, size, min_size) = match spec.layout {
        Layout::Replicated { size, min_size } => (1, size, min_size),
        Layout::Erasure { k, m, .. } => {
            let profile: BTreeMap<String, String> = [
                ("k", k.to_string()),
                ("m", m.to_string()),
                ("plugin", "jerasure".into()),
                ("technique", "reed_sol_van".into()),
                ("crush-failure-domain", spec.failure_domain.clone()),
                ("crush-root", "default".into()),
                ("crush-device-class", spec.device_class.clone().unwrap_or_default()),
                ("w", "8".into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            state.ec_profiles.insert(rule_name.clone(), profile);
            (3, k + m, spec.layout.min_size())
        }
    };
    // The autoscaler has grown an undeclared pg_num since.
    let pg = spec.pg_num.unwrap_or(32);
    let meta: BTreeMap<String, String> = [
        ("cairn.dev/stack", stack.to_string()),
        ("cairn.dev/address", pool.address.clone()),
        ("cairn.dev/protect", pool.protect.to_string()),
        ("cairn.dev/applied-hash", spec.hash()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    state.pools.push(LivePool {
        pool_id: id,
        pool_name: pool.name.clone(),
        pool_type,
        size,
        min_size,
        crush_rule: rule_id,
        pg_num: pg,
        pg_num_target: pg,
        pg_autoscale_mode: spec.autoscale.clone(),
        quota_max_bytes: spec.quota_max_bytes,
        quota_max_objects: spec.quota_max_objects,
        erasure_code_profile: spec.ec_profile().unwrap_or_default(),
        application_metadata: BTreeMap::from([(spec.application.clone(), meta)]),
        flags_names: if spec.needs_ec_overwrites() { "hashpspool,ec_overwrites".into() } else { "hashpspool".into() },
    });
    state.pools.last_mut().unwrap()
}

/// A pool made by hand (`ceph osd pool create NAME; ceph osd pool application enable NAME rbd`).
fn by_hand(state: &mut CephState, name: &str, id: i64, meta: &[(&str, &str)]) {
    let d = declared(name, replicated());
    let live = made(state, &d, STACK, id);
    live.application_metadata = BTreeMap::from([("rbd".to_string(), meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())]);
}

struct Run<'a> {
    pools: &'a [DesiredPool],
    moves: &'a [(String, String)],
    live: &'a CephState,
    adopt: bool,
    destroy: bool,
}

impl Run<'_> {
    fn plan(&self) -> PoolPlan {
        plan_pools(&PoolPlanInput {
            stack: STACK,
            pools: self.pools,
            moves: self.moves,
            live: self.live,
            adopt: self.adopt,
            destroy: self.destroy,
        })
    }
}

fn plan(pools: &[DesiredPool], live: &CephState) -> PoolPlan {
    Run { pools, moves: &[], live, adopt: false, destroy: false }.plan()
}

/// The only step of a plan without refusals.
fn only(plan: &PoolPlan) -> &Step {
    assert!(plan.refusals.is_empty(), "{:#?}", plan.refusals);
    assert_eq!(plan.steps.len(), 1, "{:#?}", plan.steps);
    &plan.steps[0]
}

fn paths(step: &Step) -> Vec<&str> {
    step.changes.iter().map(|c| c.path.as_str()).collect()
}

fn cmds(step: &Step, pool: Option<&DesiredPool>, live: &CephState) -> Vec<Json> {
    commands(step, pool, STACK, live)
}

fn hash_cmd(name: &str, app: &str, pool: &DesiredPool) -> Json {
    json!({"prefix": "osd pool application set", "pool": name, "app": app, "key": "cairn.dev/applied-hash", "value": pool.spec.hash()})
}

#[test]
fn an_absent_replicated_pool_is_created_with_the_applied_hash_last() {
    let fast = declared("fast", replicated());
    let live = CephState::default();
    let p = plan(std::slice::from_ref(&fast), &live);
    let s = only(&p);
    assert_eq!((s.action, s.class, s.declared, s.protected), (Action::Create, Some(Class::Pending), true, false));
    assert_eq!(s.key, pool_key("fast"));
    assert_eq!(s.key.api_version, "cairn.dev/v1alpha1");
    assert_eq!(s.live_fingerprint, None);
    assert!(s.after.is_empty());
    // A create lists what the pool is made with, by the pool block's names.
    assert_eq!(paths(s), ["type", "size", "min_size", "autoscale", "failure_domain", "application"]);
    assert!(s.changes.iter().all(|c| c.before.is_none()));
    let set = |k: &str, v: &str| json!({"prefix": "osd pool application set", "pool": "fast", "app": "rbd", "key": k, "value": v});
    assert_eq!(
        cmds(s, Some(&fast), &live),
        vec![
            json!({"prefix": "osd crush rule create-replicated", "name": "cairn-host", "root": "default", "type": "host"}),
            json!({"prefix": "osd pool create", "pool": "fast", "pg_num": 8, "pgp_num": 8, "pool_type": "replicated",
                   "rule": "cairn-host", "size": 3, "autoscale_mode": "on"}),
            json!({"prefix": "osd pool application enable", "pool": "fast", "app": "rbd", "yes_i_really_mean_it": true}),
            set("cairn.dev/stack", STACK),
            set("cairn.dev/address", "pool.fast"),
            set("cairn.dev/protect", "true"),
            json!({"prefix": "osd pool set", "pool": "fast", "var": "min_size", "val": "2"}),
            hash_cmd("fast", "rbd", &fast),
        ]
    );
}

#[test]
fn an_absent_erasure_pool_gets_its_profile_rule_overwrites_and_quota() {
    let mut archive = declared(
        "archive",
        spec(json!({"type": "erasure", "erasure": {"k": 4, "m": 2}, "pg_num": 64, "autoscale": "off", "failure_domain": "host",
            "device_class": "hdd", "application": "cephfs", "quota": {"max_objects": 1000}})),
    );
    archive.protect = false;
    let live = CephState::default();
    let p = plan(std::slice::from_ref(&archive), &live);
    let set = |k: &str, v: &str| json!({"prefix": "osd pool application set", "pool": "archive", "app": "cephfs", "key": k, "value": v});
    assert_eq!(
        cmds(only(&p), Some(&archive), &live),
        vec![
            json!({"prefix": "osd erasure-code-profile set", "name": "cairn-ec-k4-m2-host-hdd",
                   "profile": ["k=4", "m=2", "crush-failure-domain=host", "crush-device-class=hdd"]}),
            json!({"prefix": "osd crush rule create-erasure", "name": "cairn-ec-k4-m2-host-hdd", "profile": "cairn-ec-k4-m2-host-hdd"}),
            json!({"prefix": "osd pool create", "pool": "archive", "pg_num": 64, "pgp_num": 64, "pool_type": "erasure",
                   "erasure_code_profile": "cairn-ec-k4-m2-host-hdd", "rule": "cairn-ec-k4-m2-host-hdd", "autoscale_mode": "off"}),
            json!({"prefix": "osd pool set", "pool": "archive", "var": "allow_ec_overwrites", "val": "true"}),
            json!({"prefix": "osd pool application enable", "pool": "archive", "app": "cephfs", "yes_i_really_mean_it": true}),
            set("cairn.dev/stack", STACK),
            set("cairn.dev/address", "pool.archive"),
            set("cairn.dev/protect", "false"),
            // min_size k + 1, as the language promises (Ceph's own default agrees since Octopus).
            json!({"prefix": "osd pool set", "pool": "archive", "var": "min_size", "val": "5"}),
            json!({"prefix": "osd pool set-quota", "pool": "archive", "field": "max_objects", "val": "1000"}),
            hash_cmd("archive", "cephfs", &archive),
        ]
    );
}

#[test]
fn an_undeclared_pg_num_with_autoscale_off_starts_at_cephs_default() {
    let p = declared("p", spec(json!({"autoscale": "warn"})));
    let live = CephState::default();
    let c = cmds(only(&plan(std::slice::from_ref(&p), &live)), Some(&p), &live);
    assert_eq!(c[1]["pg_num"], json!(32));
    assert_eq!(c[1]["autoscale_mode"], json!("warn"));
}

#[test]
fn pools_as_cairn_made_them_are_no_ops() {
    let pools = vec![
        declared("fast", replicated()),
        declared("archive", erasure()),
        declared(
            "tuned",
            spec(json!({"type": "replicated", "size": 2, "min_size": 1, "pg_num": 128, "autoscale": "off", "failure_domain": "osd",
                "device_class": "ssd", "application": "rgw", "quota": {"max_bytes": 1073741824u64, "max_objects": 10}})),
        ),
    ];
    let mut live = CephState::default();
    for (i, p) in pools.iter().enumerate() {
        made(&mut live, p, STACK, i64::try_from(i).unwrap() + 1);
    }
    let p = plan(&pools, &live);
    assert!(p.refusals.is_empty());
    assert_eq!(p.steps.len(), 3);
    for s in &p.steps {
        assert_eq!((s.action, s.class), (Action::Noop, None), "{s:#?}");
        assert!(s.changes.is_empty());
        assert!(s.live_fingerprint.is_some());
        assert!(cmds(s, pools.iter().find(|d| d.name == s.key.name), &live).is_empty());
    }
}

#[test]
fn a_size_changed_behind_cairns_back_is_drift() {
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &fast, STACK, 1).size = 2;
    let p = plan(std::slice::from_ref(&fast), &live);
    let s = only(&p);
    assert_eq!((s.action, s.class, s.force), (Action::Update, Some(Class::Drift), false));
    assert_eq!(paths(s), ["size"]);
    assert_eq!((s.changes[0].before.clone(), s.changes[0].after.clone()), (Some(json!(2)), Some(json!(3))));
    assert_eq!(
        cmds(s, Some(&fast), &live),
        vec![
            json!({"prefix": "osd pool set", "pool": "fast", "var": "size", "val": "3"}),
            json!({"prefix": "osd pool set", "pool": "fast", "var": "min_size", "val": "2"}),
            hash_cmd("fast", "rbd", &fast),
        ]
    );
}

#[test]
fn a_changed_declaration_is_pending() {
    let before = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &before, STACK, 1);
    let after = declared("fast", spec(json!({"size": 4, "min_size": 3})));
    let p = plan(std::slice::from_ref(&after), &live);
    let s = only(&p);
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Pending)));
    assert_eq!(paths(s), ["size", "min_size"]);
}

#[test]
fn a_stale_applied_hash_alone_is_a_pending_update() {
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &fast, STACK, 1).application_metadata.get_mut("rbd").unwrap().remove(POOL_APPLIED_HASH_KEY);
    let p = plan(std::slice::from_ref(&fast), &live);
    let s = only(&p);
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Pending)));
    assert!(s.changes.is_empty());
    assert_eq!(cmds(s, Some(&fast), &live), vec![hash_cmd("fast", "rbd", &fast)]);
}

#[test]
fn a_quota_edit_only_sets_the_quota() {
    let before = declared("fast", spec(json!({"quota": {"max_bytes": 1073741824u64}})));
    let mut live = CephState::default();
    made(&mut live, &before, STACK, 1);
    let after = declared("fast", spec(json!({"quota": {"max_bytes": 2147483648u64}})));
    let p = plan(std::slice::from_ref(&after), &live);
    let s = only(&p);
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Pending)));
    assert_eq!(paths(s), ["quota.max_bytes"]);
    assert_eq!(
        cmds(s, Some(&after), &live),
        vec![
            json!({"prefix": "osd pool set-quota", "pool": "fast", "field": "max_bytes", "val": "2147483648"}),
            hash_cmd("fast", "rbd", &after),
        ]
    );

    // Removing a quota sets it to 0 (unlimited).
    let unlimited = declared("fast", replicated());
    let p = plan(std::slice::from_ref(&unlimited), &live);
    let s = only(&p);
    assert_eq!((s.changes[0].op, s.changes[0].after.clone()), (FieldOp::Remove, None));
    assert_eq!(
        cmds(s, Some(&unlimited), &live)[0],
        json!({"prefix": "osd pool set-quota", "pool": "fast", "field": "max_bytes", "val": "0"})
    );
}

#[test]
fn pg_num_is_compared_with_where_it_is_heading() {
    let fast = declared("fast", spec(json!({"pg_num": 64, "autoscale": "off"})));
    let mut live = CephState::default();
    let l = made(&mut live, &fast, STACK, 1);
    // `osd pool set fast pg_num 64` was just sent: pg_num still reads 32.
    l.pg_num = 32;
    assert_eq!(only(&plan(std::slice::from_ref(&fast), &live)).action, Action::Noop);

    let smaller = declared("fast", spec(json!({"pg_num": 32, "autoscale": "off"})));
    let p = plan(std::slice::from_ref(&smaller), &live);
    let s = only(&p);
    assert_eq!(paths(s), ["pg_num"]);
    assert_eq!((s.changes[0].before.clone(), s.changes[0].after.clone()), (Some(json!(64)), Some(json!(32))));
    assert_eq!(cmds(s, Some(&smaller), &live)[0], json!({"prefix": "osd pool set", "pool": "fast", "var": "pg_num", "val": "32"}));

    // Undeclared, pg_num is the autoscaler's: only the applied hash is stale.
    let auto = declared("fast", spec(json!({"autoscale": "off"})));
    assert!(only(&plan(std::slice::from_ref(&auto), &live)).changes.is_empty());
}

#[test]
fn turning_the_autoscaler_off_comes_before_setting_pg_num() {
    let before = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &before, STACK, 1);
    let after = declared("fast", spec(json!({"pg_num": 128, "autoscale": "off"})));
    let p = plan(std::slice::from_ref(&after), &live);
    let s = only(&p);
    assert_eq!(paths(s), ["pg_num", "autoscale"]);
    let c = cmds(s, Some(&after), &live);
    assert_eq!(c[0], json!({"prefix": "osd pool set", "pool": "fast", "var": "pg_autoscale_mode", "val": "off"}));
    assert_eq!(c[1], json!({"prefix": "osd pool set", "pool": "fast", "var": "pg_num", "val": "128"}));
}

#[test]
fn a_new_failure_domain_moves_a_replicated_pool_to_another_rule() {
    let before = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &before, STACK, 1);
    let after = declared("fast", spec(json!({"failure_domain": "rack", "device_class": "ssd"})));
    let p = plan(std::slice::from_ref(&after), &live);
    let s = only(&p);
    assert_eq!(s.action, Action::Update);
    assert_eq!(paths(s), ["failure_domain", "device_class"]);
    assert_eq!(s.changes[1].before, None);
    assert_eq!(
        cmds(s, Some(&after), &live),
        vec![
            json!({"prefix": "osd crush rule create-replicated", "name": "cairn-rack-ssd", "root": "default", "type": "rack", "class": "ssd"}),
            json!({"prefix": "osd pool set", "pool": "fast", "var": "crush_rule", "val": "cairn-rack-ssd"}),
            hash_cmd("fast", "rbd", &after),
        ]
    );
}

#[test]
fn an_unknown_crush_rule_is_planned_as_a_change() {
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &fast, STACK, 1).crush_rule = 42;
    let p = plan(std::slice::from_ref(&fast), &live);
    let s = only(&p);
    assert_eq!(paths(s), ["failure_domain"]);
    assert_eq!((s.changes[0].before.clone(), s.changes[0].after.clone()), (None, Some(json!("host"))));
    assert_eq!(s.class, Some(Class::Drift));
}

#[test]
fn an_erasure_k_change_replaces_the_protected_pool() {
    let before = declared("archive", erasure());
    let mut live = CephState::default();
    made(&mut live, &before, STACK, 7);
    let after = declared("archive", spec(json!({"type": "erasure", "erasure": {"k": 3, "m": 1}, "failure_domain": "osd"})));
    let p = plan(std::slice::from_ref(&after), &live);
    let s = only(&p);
    assert_eq!((s.action, s.protected, s.class), (Action::Replace, true, Some(Class::Pending)));
    assert!(s.reason.as_deref().unwrap().starts_with("an erasure-coded pool's profile (k, m, failure domain, device class) cannot change"));
    assert_eq!(paths(s), ["erasure.k", "min_size"]);
    let c = cmds(s, Some(&after), &live);
    assert_eq!(c[0], json!({"prefix": "osd pool rm", "pool": "archive", "pool2": "archive", "yes_i_really_really_mean_it": true}));
    assert_eq!(
        c[1],
        json!({"prefix": "osd erasure-code-profile set", "name": "cairn-ec-k3-m1-osd", "profile": ["k=3", "m=1", "crush-failure-domain=osd"]})
    );
    assert_eq!(c[3]["prefix"], json!("osd pool create"));
    assert_eq!(c.last(), Some(&hash_cmd("archive", "rbd", &after)));

    let mut unprotected = after.clone();
    unprotected.protect = false;
    assert!(!only(&plan(std::slice::from_ref(&unprotected), &live)).protected);
}

#[test]
fn a_missing_profile_named_like_cairns_counts_as_cairns() {
    let archive = declared("archive", erasure());
    let mut live = CephState::default();
    made(&mut live, &archive, STACK, 7);
    live.ec_profiles.clear();
    assert_eq!(only(&plan(std::slice::from_ref(&archive), &live)).action, Action::Noop);
    live.pools[0].erasure_code_profile = "default".into();
    assert_eq!(only(&plan(std::slice::from_ref(&archive), &live)).action, Action::Replace);
}

#[test]
fn a_type_change_replaces_the_pool() {
    let before = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &before, STACK, 1);
    let after = declared("fast", erasure());
    let p = plan(std::slice::from_ref(&after), &live);
    let s = only(&p);
    assert_eq!((s.action, s.protected), (Action::Replace, true));
    assert_eq!(s.reason.as_deref(), Some("a pool's type cannot change"));
    assert_eq!(paths(s), ["type"]);
}

#[test]
fn an_undeclared_owned_pool_is_deleted_and_others_are_left_alone() {
    let mut live = CephState::default();
    by_hand(&mut live, "old", 3, &[("cairn.dev/stack", STACK), ("cairn.dev/address", "pool.old")]);
    by_hand(&mut live, "older", 2, &[("cairn.dev/stack", STACK), ("cairn.dev/protect", "false")]);
    by_hand(&mut live, "theirs", 4, &[("cairn.dev/stack", "billing")]);
    by_hand(&mut live, "nobodys", 5, &[]);
    let p = plan(&[], &live);
    assert!(p.refusals.is_empty());
    let names: Vec<&str> = p.steps.iter().map(|s| s.key.name.as_str()).collect();
    assert_eq!(names, ["old", "older"], "newest first");
    let old = &p.steps[0];
    assert_eq!((old.action, old.class, old.declared), (Action::Delete, Some(Class::Pending), false));
    assert_eq!(old.address.as_deref(), Some("pool.old"));
    assert!(old.protected, "no protect metadata: protected");
    assert!(!p.steps[1].protected, "protect=false on the pool");
    assert!(old.live_fingerprint.is_some());
    assert_eq!(
        cmds(old, None, &live),
        vec![json!({"prefix": "osd pool rm", "pool": "old", "pool2": "old", "yes_i_really_really_mean_it": true})]
    );
}

#[test]
fn a_pool_without_the_marker_is_refused_unless_adopted() {
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    by_hand(&mut live, "fast", 1, &[]);
    let p = plan(std::slice::from_ref(&fast), &live);
    assert!(p.steps.is_empty());
    assert_eq!(p.refusals.len(), 1);
    let r = &p.refusals[0];
    assert_eq!((r.key.clone(), r.address.as_deref()), (pool_key("fast"), Some("pool.fast")));
    assert!(r.message.contains("pool fast (pool.fast)") && r.message.contains("not created by stack analytics"), "{}", r.message);
    assert!(r.help.contains("--adopt") && r.help.contains("remove it from the stack"), "{}", r.help);

    let p = Run { pools: std::slice::from_ref(&fast), moves: &[], live: &live, adopt: true, destroy: false }.plan();
    let s = only(&p);
    assert_eq!((s.action, s.adopt, s.class), (Action::Update, true, Some(Class::Pending)));
    assert_eq!(paths(s), [PATH_ADDRESS, super::plan::PATH_PROTECT, PATH_STACK]);
    let set = |k: &str, v: &str| json!({"prefix": "osd pool application set", "pool": "fast", "app": "rbd", "key": k, "value": v});
    assert_eq!(
        cmds(s, Some(&fast), &live),
        vec![
            set("cairn.dev/stack", STACK),
            set("cairn.dev/address", "pool.fast"),
            set("cairn.dev/protect", "true"),
            hash_cmd("fast", "rbd", &fast)
        ]
    );
}

#[test]
fn another_stacks_pool_is_always_refused_and_never_deleted() {
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &fast, "billing", 1);
    for adopt in [false, true] {
        let p = Run { pools: std::slice::from_ref(&fast), moves: &[], live: &live, adopt, destroy: false }.plan();
        assert!(p.steps.is_empty());
        assert!(p.refusals[0].message.contains("managed by stack billing, not by stack analytics"), "{}", p.refusals[0].message);
    }
    let p = Run { pools: &[], moves: &[], live: &live, adopt: false, destroy: true }.plan();
    assert!(p.steps.is_empty() && p.refusals.is_empty());
}

#[test]
fn a_moved_pool_is_renamed_not_deleted() {
    let old = declared("old", replicated());
    let mut live = CephState::default();
    made(&mut live, &old, STACK, 1);
    let fast = declared("fast", spec(json!({"size": 2, "min_size": 1})));
    let moves = vec![("old".to_string(), "fast".to_string())];
    let p = Run { pools: std::slice::from_ref(&fast), moves: &moves, live: &live, adopt: false, destroy: false }.plan();
    let s = only(&p);
    assert_eq!((s.action, s.key.clone(), s.adopt), (Action::Update, pool_key("fast"), false));
    assert_eq!(paths(s), [PATH_NAME, "size", "min_size", PATH_ADDRESS]);
    assert_eq!((s.changes[0].before.clone(), s.changes[0].after.clone()), (Some(json!("old")), Some(json!("fast"))));
    assert_eq!(s.live_fingerprint, Some(pool_fingerprint(&live.pools[0], &live)));
    assert_eq!(
        cmds(s, Some(&fast), &live),
        vec![
            json!({"prefix": "osd pool rename", "srcpool": "old", "destpool": "fast"}),
            json!({"prefix": "osd pool application set", "pool": "fast", "app": "rbd", "key": "cairn.dev/address", "value": "pool.fast"}),
            json!({"prefix": "osd pool set", "pool": "fast", "var": "size", "val": "2"}),
            json!({"prefix": "osd pool set", "pool": "fast", "var": "min_size", "val": "1"}),
            hash_cmd("fast", "rbd", &fast),
        ]
    );
}

#[test]
fn a_move_onto_an_existing_pool_is_refused() {
    let old = declared("old", replicated());
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &old, STACK, 1);
    made(&mut live, &fast, STACK, 2);
    let moves = vec![("old".to_string(), "fast".to_string())];
    let p = Run { pools: std::slice::from_ref(&fast), moves: &moves, live: &live, adopt: false, destroy: false }.plan();
    assert!(p.steps.is_empty(), "no rename, no delete of old: {:#?}", p.steps);
    assert_eq!(p.refusals.len(), 1);
    assert!(p.refusals[0].message.contains("pool old cannot be renamed to fast"), "{}", p.refusals[0].message);
    assert!(p.refusals[0].help.contains("`moved` block"));
}

#[test]
fn a_move_that_already_happened_is_a_plain_comparison() {
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &fast, STACK, 1);
    let moves = vec![("old".to_string(), "fast".to_string())];
    let p = Run { pools: std::slice::from_ref(&fast), moves: &moves, live: &live, adopt: false, destroy: false }.plan();
    assert_eq!(only(&p).action, Action::Noop);
}

#[test]
fn a_move_from_a_pool_cairn_does_not_own_needs_adopt() {
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    by_hand(&mut live, "old", 1, &[]);
    let moves = vec![("old".to_string(), "fast".to_string())];
    let p = Run { pools: std::slice::from_ref(&fast), moves: &moves, live: &live, adopt: false, destroy: false }.plan();
    assert!(p.steps.is_empty());
    assert!(p.refusals[0].message.contains("pool old, moved to fast (pool.fast), exists and was not created"), "{}", p.refusals[0].message);
    let p = Run { pools: std::slice::from_ref(&fast), moves: &moves, live: &live, adopt: true, destroy: false }.plan();
    let s = only(&p);
    assert!(s.adopt);
    assert_eq!(paths(s)[0], PATH_NAME);
}

#[test]
fn destroy_deletes_every_owned_pool_with_its_declared_protect() {
    let mut fast = declared("fast", replicated());
    fast.protect = false;
    let archive = declared("archive", erasure());
    let mut live = CephState::default();
    made(&mut live, &fast, STACK, 1);
    made(&mut live, &archive, STACK, 2);
    by_hand(&mut live, "gone", 3, &[("cairn.dev/stack", STACK)]);
    by_hand(&mut live, "nobodys", 4, &[]);
    let pools = vec![fast, archive];
    let p = Run { pools: &pools, moves: &[], live: &live, adopt: false, destroy: true }.plan();
    assert!(p.refusals.is_empty());
    let got: Vec<(&str, Action, bool)> = p.steps.iter().map(|s| (s.key.name.as_str(), s.action, s.protected)).collect();
    assert_eq!(got, [("gone", Action::Delete, true), ("archive", Action::Delete, true), ("fast", Action::Delete, false)]);
    assert_eq!(p.steps[2].address.as_deref(), Some("pool.fast"));
    assert!(p.steps[2].declared);
}

#[test]
fn a_new_application_takes_cairns_metadata_before_the_old_one_goes() {
    let before = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &before, STACK, 1);
    let after = declared("fast", spec(json!({"application": "cephfs"})));
    let p = plan(std::slice::from_ref(&after), &live);
    let s = only(&p);
    assert_eq!(paths(s), ["application"]);
    let set = |k: &str, v: &str| json!({"prefix": "osd pool application set", "pool": "fast", "app": "cephfs", "key": k, "value": v});
    assert_eq!(
        cmds(s, Some(&after), &live),
        vec![
            json!({"prefix": "osd pool application enable", "pool": "fast", "app": "cephfs", "yes_i_really_mean_it": true}),
            set("cairn.dev/stack", STACK),
            set("cairn.dev/address", "pool.fast"),
            set("cairn.dev/protect", "true"),
            json!({"prefix": "osd pool application disable", "pool": "fast", "app": "rbd", "yes_i_really_mean_it": true}),
            hash_cmd("fast", "cephfs", &after),
        ]
    );
}

#[test]
fn an_erasure_pool_turning_to_rbd_allows_overwrites_first() {
    let before =
        declared("archive", spec(json!({"type": "erasure", "erasure": {"k": 2, "m": 1}, "failure_domain": "osd", "application": "rgw"})));
    let mut live = CephState::default();
    made(&mut live, &before, STACK, 1);
    let after = declared("archive", erasure());
    let c = cmds(only(&plan(std::slice::from_ref(&after), &live)), Some(&after), &live);
    assert_eq!(c[0], json!({"prefix": "osd pool set", "pool": "archive", "var": "allow_ec_overwrites", "val": "true"}));
    assert_eq!(c[1]["prefix"], json!("osd pool application enable"));
}

#[test]
fn a_protect_change_is_a_pending_metadata_update() {
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &fast, STACK, 1);
    let mut unprotected = fast.clone();
    unprotected.protect = false;
    let p = plan(std::slice::from_ref(&unprotected), &live);
    let s = only(&p);
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Pending)));
    assert_eq!(paths(s), [super::plan::PATH_PROTECT]);
    assert_eq!(
        cmds(s, Some(&unprotected), &live)[0],
        json!({"prefix": "osd pool application set", "pool": "fast", "app": "rbd", "key": POOL_PROTECT_KEY, "value": "false"})
    );
}

#[test]
fn the_fingerprint_follows_compared_fields_not_flags() {
    let fast = declared("fast", replicated());
    let mut live = CephState::default();
    made(&mut live, &fast, STACK, 1);
    let fp = pool_fingerprint(&live.pools[0], &live);
    let mut full = live.pools[0].clone();
    full.flags_names = "hashpspool,full,full_quota".into();
    full.pg_num = 16;
    assert_eq!(fp, pool_fingerprint(&full, &live));
    let mut heading = live.pools[0].clone();
    heading.pg_num_target = 64;
    assert_ne!(fp, pool_fingerprint(&heading, &live));
}

#[test]
fn steps_carry_no_ordering_of_their_own() {
    let pools = vec![declared("a", replicated()), declared("b", erasure())];
    let live = CephState::default();
    let p = plan(&pools, &live);
    assert!(p.steps.iter().all(|s| s.after.is_empty() && !s.force));
    assert_eq!(p.steps.iter().map(|s| s.key.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
}

/// An erasure pool's `min_size` defaults to `k + 1` (docs/language.md, pool) and is compared:
/// a live pool below it is drift taken back with one `osd pool set`.
#[test]
fn an_erasure_pools_min_size_defaults_to_k_plus_one_and_is_compared() {
    let spec = PoolSpec::from_body(&json!({"spec": {"type": "erasure", "erasure": {"k": 2, "m": 1}}})).unwrap();
    assert_eq!(spec.layout.min_size(), 3);
    let explicit = PoolSpec::from_body(&json!({"spec": {"type": "erasure", "erasure": {"k": 2, "m": 1}, "min_size": 3}})).unwrap();
    assert_eq!(explicit.hash(), spec.hash(), "declaring the default changes nothing");
    let other = PoolSpec::from_body(&json!({"spec": {"type": "erasure", "erasure": {"k": 2, "m": 1}, "min_size": 2}})).unwrap();
    assert_eq!(other.layout.min_size(), 2);
    assert_ne!(other.hash(), spec.hash());

    let lake = declared("lake", spec);
    let mut live = CephState::default();
    made(&mut live, &lake, STACK, 1).min_size = 2;
    let p = plan(std::slice::from_ref(&lake), &live);
    let s = only(&p);
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Drift)));
    assert_eq!(paths(s), ["min_size"]);
    assert_eq!(
        cmds(s, Some(&lake), &live),
        vec![json!({"prefix": "osd pool set", "pool": "lake", "var": "min_size", "val": "3"}), hash_cmd("lake", "rbd", &lake)]
    );
}
