//! File-system planner and command tests: file systems as the compiler lowers them (a
//! `CephFs` and its `CephPool`s) and as `fs dump` reports them, planned together with their
//! pools through [`combine`].

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use super::fs_commands::fs_commands;
use super::fs_plan::{combine, fs_fingerprint, plan_filesystems, FsPlanInput, PATH_ACTIVE, PATH_DATA_POOLS, PATH_STANDBY};
use super::fs_spec::{fs_key, DesiredFs, FsSpec};
use super::plan::{plan_pools, PoolPlanInput};
use super::plan_tests::made;
use super::spec::{pool_key, DesiredPool, PoolSpec};
use super::state::{CephState, LiveFs, MdsDaemon, MdsMap, FS_APPLIED_HASH_KEY};
use crate::model::ObjectKey;
use crate::plan::{Action, Class, Refusal, Step};

const STACK: &str = "lab";

/// `filesystem "NAME" { metadata { … } data "default" { … } data "cold" { erasure } }` lowered:
/// the file system and its pools (failure domain `osd`, as on the test cluster).
fn filesystem(name: &str, data: &[(&str, bool)], active: u32, standby: bool) -> (DesiredFs, Vec<DesiredPool>) {
    let replicated =
        json!({"type": "replicated", "size": 3, "min_size": 2, "autoscale": "on", "failure_domain": "osd", "application": "cephfs"});
    let erasure = json!({"type": "erasure", "erasure": {"k": 2, "m": 1}, "min_size": 3, "autoscale": "on", "failure_domain": "osd",
        "application": "cephfs", "ec_overwrites": true});
    let pool = |pool: String, spec: &Json| DesiredPool {
        name: pool,
        address: format!("filesystem.{name}"),
        protect: true,
        spec: PoolSpec::from_body(&json!({ "spec": spec })).unwrap(),
    };
    let mut pools = vec![pool(format!("{name}-metadata"), &replicated)];
    let mut entries = Vec::new();
    for (label, ec) in data {
        let spec = if *ec { &erasure } else { &replicated };
        pools.push(pool(format!("{name}-{label}"), spec));
        let mut entry = spec.clone();
        entry["name"] = json!(label);
        entries.push(entry);
    }
    let body = json!({"apiVersion": "cairn.dev/v1alpha1", "kind": "CephFs", "metadata": {"name": name},
        "spec": {"metadata": replicated, "data": entries, "active": active, "standby": standby}});
    (DesiredFs::from_lowered(name, &format!("filesystem.{name}"), true, &body).unwrap(), pools)
}

/// `shared`: a replicated default data pool and an erasure-coded `cold` one, one active MDS
/// with a standby.
fn shared() -> (DesiredFs, Vec<DesiredPool>) {
    filesystem("shared", &[("default", false), ("cold", true)], 1, true)
}

fn daemon(gid: u64, rank: i64, state: &str) -> MdsDaemon {
    MdsDaemon { gid, name: format!("mds{gid}"), rank, state: state.into() }
}

/// Adds `fs` and its pools to `state` as cairn's create sequences leave them (pool ids from
/// `first_id`), with daemon `serving` active on rank 0 if given.
fn made_fs(state: &mut CephState, fs: &DesiredFs, pools: &[DesiredPool], first_id: i64, serving: Option<u64>) {
    let mut ids = BTreeMap::new();
    for (i, p) in pools.iter().enumerate() {
        let id = first_id + i64::try_from(i).unwrap();
        let live = made(state, p, STACK, id);
        let role = if p.name == fs.spec.metadata_pool { "metadata" } else { "data" };
        let meta = live.application_metadata.entry("cephfs".into()).or_default();
        meta.insert(role.into(), fs.name.clone());
        if role == "metadata" {
            meta.insert(FS_APPLIED_HASH_KEY.into(), fs.spec.hash());
        }
        ids.insert(p.name.clone(), id);
    }
    let info = serving.map(|gid| (format!("gid_{gid}"), daemon(gid, 0, "up:active"))).into_iter().collect();
    state.fs_map.filesystems.push(LiveFs {
        id: i64::try_from(state.fs_map.filesystems.len()).unwrap() + 1,
        mdsmap: MdsMap {
            fs_name: fs.name.clone(),
            max_mds: fs.spec.active,
            standby_count_wanted: fs.spec.standby_count_wanted(),
            metadata_pool: ids[&fs.spec.metadata_pool],
            data_pools: fs.spec.data_pools.iter().map(|d| ids[d]).collect(),
            info,
        },
    });
}

fn live_fs<'a>(state: &'a mut CephState, name: &str) -> &'a mut LiveFs {
    state.fs_map.filesystems.iter_mut().find(|f| f.mdsmap.fs_name == name).unwrap()
}

/// The whole Ceph plan of `filesystems` and `pools` against `live`: steps and refusals.
fn plan_with(filesystems: &[DesiredFs], pools: &[DesiredPool], live: &CephState, adopt: bool, destroy: bool) -> (Vec<Step>, Vec<Refusal>) {
    let p = plan_pools(&PoolPlanInput { stack: STACK, pools, moves: &[], live, adopt, destroy });
    let f = plan_filesystems(&FsPlanInput { stack: STACK, filesystems, live, adopt, destroy });
    combine(p, f, filesystems, live)
}

fn plan(filesystems: &[DesiredFs], pools: &[DesiredPool], live: &CephState) -> Vec<Step> {
    let (steps, refusals) = plan_with(filesystems, pools, live, false, false);
    assert!(refusals.is_empty(), "{refusals:#?}");
    steps
}

fn step<'a>(steps: &'a [Step], key: &ObjectKey) -> &'a Step {
    steps.iter().find(|s| &s.key == key).unwrap_or_else(|| panic!("no step for {key}: {steps:#?}"))
}

fn ids(steps: &[Step]) -> Vec<String> {
    steps.iter().filter(|s| s.action != Action::Noop).map(|s| format!("{} {}", s.action.as_str(), s.key.id())).collect()
}

fn cmds(step: &Step, fs: &DesiredFs, pools: &[DesiredPool], live: &CephState) -> Vec<Json> {
    fs_commands(step, Some(fs), pools, STACK, live)
}

fn prefixes(cmds: &[Json]) -> Vec<String> {
    cmds.iter()
        .map(|c| {
            let p = c["prefix"].as_str().unwrap_or_default();
            match (c.get("var"), c.get("pool")) {
                (Some(var), _) => format!("{p} {}", var.as_str().unwrap_or_default()),
                (None, Some(pool)) if p.starts_with("fs ") => format!("{p} {}", pool.as_str().unwrap_or_default()),
                _ => p.to_string(),
            }
        })
        .collect()
}

fn fs_set(var: &str, val: &str) -> Json {
    json!({"prefix": "fs set", "fs_name": "shared", "var": var, "val": val})
}

fn hash_cmd(fs: &DesiredFs) -> Json {
    json!({"prefix": "osd pool application set", "pool": "shared-metadata", "app": "cephfs", "key": FS_APPLIED_HASH_KEY, "value": fs.spec.hash()})
}

/// A live state with one standby MDS daemon.
fn with_standby() -> CephState {
    let mut live = CephState::default();
    live.fs_map.standbys.push(daemon(4100, -1, "up:standby"));
    live
}

#[test]
fn a_new_file_system_is_made_after_its_pools_with_the_applied_hash_last() {
    let (fs, pools) = shared();
    let live = with_standby();
    let steps = plan(std::slice::from_ref(&fs), &pools, &live);
    assert_eq!(
        ids(&steps),
        ["create CephPool/shared-metadata", "create CephPool/shared-default", "create CephPool/shared-cold", "create CephFs/shared"]
    );
    let s = step(&steps, &fs_key("shared"));
    assert_eq!((s.class, s.protected, s.declared, s.reason.as_deref()), (Some(Class::Pending), false, true, None));
    assert_eq!(s.after, [pool_key("shared-metadata"), pool_key("shared-default"), pool_key("shared-cold")]);
    let fields: Vec<(&str, &Json)> = s.changes.iter().map(|c| (c.path.as_str(), c.after.as_ref().unwrap())).collect();
    assert_eq!(
        fields,
        [
            ("metadata_pool", &json!("shared-metadata")),
            ("data_pools", &json!(["shared-default", "shared-cold"])),
            ("active", &json!(1)),
            ("standby", &json!(true)),
        ]
    );
    // The new EC pool gets `allow_ec_overwrites` from its own create (application cephfs).
    let cold = pools.iter().find(|p| p.name == "shared-cold").unwrap();
    assert!(cold.spec.needs_ec_overwrites());
    assert_eq!(
        cmds(s, &fs, &pools, &live),
        vec![
            json!({"prefix": "fs new", "fs_name": "shared", "metadata": "shared-metadata", "data": "shared-default"}),
            json!({"prefix": "fs add_data_pool", "fs_name": "shared", "pool": "shared-cold"}),
            fs_set("max_mds", "1"),
            fs_set("standby_count_wanted", "1"),
            hash_cmd(&fs),
        ]
    );
}

#[test]
fn an_existing_erasure_pool_without_overwrites_gets_them_before_it_is_added() {
    let (fs, pools) = shared();
    let mut live = with_standby();
    for (i, p) in pools.iter().enumerate() {
        made(&mut live, p, STACK, 10 + i64::try_from(i).unwrap());
    }
    live.pools.iter_mut().find(|p| p.pool_name == "shared-cold").unwrap().flags_names = "hashpspool".into();
    let steps = plan(std::slice::from_ref(&fs), &pools, &live);
    let s = step(&steps, &fs_key("shared"));
    assert_eq!(
        prefixes(&cmds(s, &fs, &pools, &live)),
        [
            "fs new",
            "osd pool set allow_ec_overwrites",
            "fs add_data_pool shared-cold",
            "fs set max_mds",
            "fs set standby_count_wanted",
            "osd pool application set"
        ]
    );
}

#[test]
fn a_file_system_as_cairn_made_it_is_a_no_op() {
    let (fs, pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, Some(4100));
    let steps = plan(std::slice::from_ref(&fs), &pools, &live);
    assert!(ids(&steps).is_empty(), "{steps:#?}");
    let s = step(&steps, &fs_key("shared"));
    assert_eq!((s.action, s.reason.as_deref()), (Action::Noop, None), "served by its MDS: no note");
    assert_eq!(s.live_fingerprint.as_deref(), Some(fs_fingerprint(&live.fs_map.filesystems[0], &live).as_str()));
    assert!(cmds(s, &fs, &pools, &live).is_empty());
}

#[test]
fn max_mds_changed_behind_cairns_back_is_drift_and_set_back() {
    let (fs, pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, Some(4100));
    live_fs(&mut live, "shared").mdsmap.max_mds = 2;
    let steps = plan(std::slice::from_ref(&fs), &pools, &live);
    assert_eq!(ids(&steps), ["update CephFs/shared"]);
    let s = step(&steps, &fs_key("shared"));
    assert_eq!((s.class, s.protected), (Some(Class::Drift), false));
    assert_eq!(s.changes.len(), 1);
    assert_eq!((s.changes[0].path.as_str(), &s.changes[0].before, &s.changes[0].after), (PATH_ACTIVE, &Some(json!(2)), &Some(json!(1))));
    assert_eq!(cmds(s, &fs, &pools, &live), vec![fs_set("max_mds", "1"), hash_cmd(&fs)]);
}

#[test]
fn a_changed_declaration_is_pending_and_sets_only_what_changed() {
    let (old, pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &old, &pools, 1, Some(4100));
    let (fs, _) = filesystem("shared", &[("default", false), ("cold", true)], 2, false);
    let steps = plan(std::slice::from_ref(&fs), &pools, &live);
    let s = step(&steps, &fs_key("shared"));
    assert_eq!((s.action, s.class), (Action::Update, Some(Class::Pending)));
    let standby = s.changes.iter().find(|c| c.path == PATH_STANDBY).unwrap();
    assert_eq!((&standby.before, &standby.after), (&Some(json!(true)), &Some(json!(false))));
    assert_eq!(cmds(s, &fs, &pools, &live), vec![fs_set("max_mds", "2"), fs_set("standby_count_wanted", "0"), hash_cmd(&fs)]);
}

#[test]
fn an_odd_standby_count_is_shown_as_the_count() {
    let (fs, pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, Some(4100));
    live_fs(&mut live, "shared").mdsmap.standby_count_wanted = 3;
    let steps = plan(std::slice::from_ref(&fs), &pools, &live);
    let c = &step(&steps, &fs_key("shared")).changes[0];
    assert_eq!((c.path.as_str(), &c.before, &c.after), (PATH_STANDBY, &Some(json!(3)), &Some(json!(true))));
}

#[test]
fn a_data_pool_added_is_made_then_added_and_one_removed_is_let_go_before_its_delete() {
    let (old, old_pools) = filesystem("shared", &[("default", false), ("warm", false)], 1, true);
    let mut live = CephState::default();
    made_fs(&mut live, &old, &old_pools, 1, Some(4100));
    let (fs, pools) = shared();
    let (steps, refusals) = plan_with(std::slice::from_ref(&fs), &pools, &live, false, false);
    assert!(refusals.is_empty(), "{refusals:#?}");
    assert_eq!(ids(&steps), ["create CephPool/shared-cold", "update CephFs/shared", "delete CephPool/shared-warm"]);
    let s = step(&steps, &fs_key("shared"));
    assert_eq!((s.action, s.protected, s.reason.as_deref()), (Action::Update, false, None));
    assert!(s.after.contains(&pool_key("shared-cold")), "{:?}", s.after);
    let c = s.changes.iter().find(|c| c.path == PATH_DATA_POOLS).unwrap();
    assert_eq!((&c.before, &c.after), (&Some(json!(["shared-default", "shared-warm"])), &Some(json!(["shared-default", "shared-cold"]))));
    assert_eq!(
        cmds(s, &fs, &pools, &live),
        vec![
            json!({"prefix": "fs add_data_pool", "fs_name": "shared", "pool": "shared-cold"}),
            json!({"prefix": "fs rm_data_pool", "fs_name": "shared", "pool": "shared-warm"}),
            hash_cmd(&fs),
        ]
    );
    // The pool goes after the file system let go of it; its data makes the delete protected.
    let warm = step(&steps, &pool_key("shared-warm"));
    assert_eq!((warm.after.as_slice(), warm.protected), (&[fs_key("shared")][..], true));
}

#[test]
fn a_new_default_data_pool_replaces_the_protected_file_system_on_fresh_pools() {
    let (old, old_pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &old, &old_pools, 1, Some(4100));
    let (fs, pools) = filesystem("shared", &[("fast", false), ("cold", true)], 1, true);
    let steps = plan(std::slice::from_ref(&fs), &pools, &live);
    assert_eq!(ids(&steps), ["create CephPool/shared-fast", "replace CephFs/shared", "delete CephPool/shared-default"]);
    let s = step(&steps, &fs_key("shared"));
    assert!(s.protected, "a replace loses every file");
    assert!(s.reason.as_deref().unwrap_or_default().contains("default (first) data pool cannot change"), "{:?}", s.reason);
    assert_eq!(step(&steps, &pool_key("shared-default")).after, [fs_key("shared")]);
    // The old file system goes, its kept pools are made again empty, then the new one is made.
    assert_eq!(
        prefixes(&cmds(s, &fs, &pools, &live))
            .into_iter()
            .filter(|p| !p.starts_with("osd pool application") && !p.starts_with("osd erasure") && !p.starts_with("osd crush"))
            .collect::<Vec<_>>(),
        [
            "fs fail",
            "fs rm",
            "osd pool rm",
            "osd pool create",
            "osd pool set min_size",
            "osd pool rm",
            "osd pool create",
            "osd pool set allow_ec_overwrites",
            "osd pool set min_size",
            "fs new",
            "fs add_data_pool shared-cold",
            "fs set max_mds",
            "fs set standby_count_wanted",
        ]
    );
}

#[test]
fn an_undeclared_file_system_is_deleted_before_its_pools_and_only_with_data_loss_allowed() {
    let (fs, pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, Some(4100));
    let steps = plan(&[], &[], &live);
    assert_eq!(
        ids(&steps),
        ["delete CephFs/shared", "delete CephPool/shared-cold", "delete CephPool/shared-default", "delete CephPool/shared-metadata"]
    );
    let s = step(&steps, &fs_key("shared"));
    assert_eq!((s.protected, s.declared, s.address.as_deref()), (true, false, Some("filesystem.shared")));
    assert!(steps.iter().filter(|s| s.key.kind == "CephPool").all(|p| p.after == [fs_key("shared")] && p.protected));
    assert_eq!(
        fs_commands(s, None, &[], STACK, &live),
        vec![
            json!({"prefix": "fs fail", "fs_name": "shared"}),
            json!({"prefix": "fs rm", "fs_name": "shared", "yes_i_really_mean_it": true}),
        ]
    );
    // `protect = false` was recorded on the metadata pool when it was made.
    let meta = live.pools.iter_mut().find(|p| p.pool_name == "shared-metadata").unwrap();
    meta.application_metadata.get_mut("cephfs").unwrap().insert("cairn.dev/protect".into(), "false".into());
    assert!(!step(&plan(&[], &[], &live), &fs_key("shared")).protected);
}

#[test]
fn destroy_deletes_a_declared_file_system_before_its_pools() {
    let (fs, pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, Some(4100));
    let (steps, refusals) = plan_with(std::slice::from_ref(&fs), &pools, &live, false, true);
    assert!(refusals.is_empty(), "{refusals:#?}");
    assert_eq!(ids(&steps)[0], "delete CephFs/shared");
    let s = step(&steps, &fs_key("shared"));
    assert_eq!((s.declared, s.protected), (true, true));
    assert_eq!(steps.iter().filter(|s| s.action == Action::Delete).count(), 4);
}

#[test]
fn a_file_system_made_by_hand_is_refused_unless_adopted() {
    let (fs, pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, Some(4100));
    for p in &mut live.pools {
        p.application_metadata = BTreeMap::from([("cephfs".to_string(), BTreeMap::new())]);
    }
    let (steps, refusals) = plan_with(std::slice::from_ref(&fs), &pools, &live, false, false);
    let fs_refusal = refusals.iter().find(|r| r.key == fs_key("shared")).expect("the file system is refused");
    assert!(fs_refusal.message.contains("exists and was not created by stack lab"), "{}", fs_refusal.message);
    assert!(fs_refusal.help.contains("--adopt"), "{}", fs_refusal.help);
    assert!(steps.iter().all(|s| s.key != fs_key("shared")));
    // Nothing of it is deleted by a stack that does not declare it.
    assert!(plan(&[], &[], &live).is_empty());

    let (steps, refusals) = plan_with(std::slice::from_ref(&fs), &pools, &live, true, false);
    assert!(refusals.is_empty(), "{refusals:#?}");
    let s = step(&steps, &fs_key("shared"));
    assert_eq!((s.action, s.adopt), (Action::Update, true));
    assert_eq!(cmds(s, &fs, &pools, &live), vec![hash_cmd(&fs)]);
    assert!(s.after.contains(&pool_key("shared-metadata")), "the pools are adopted (marked) first: {:?}", s.after);
}

#[test]
fn a_file_system_on_other_pools_cannot_be_adopted_and_another_stacks_is_always_refused() {
    let (fs, pools) = shared();
    let (other, other_pools) = filesystem("elsewhere", &[("default", false)], 1, true);
    let mut live = CephState::default();
    made_fs(&mut live, &other, &other_pools, 1, None);
    live_fs(&mut live, "elsewhere").mdsmap.fs_name = "shared".into();
    for p in &mut live.pools {
        p.application_metadata = BTreeMap::new();
    }
    let (_, refusals) = plan_with(std::slice::from_ref(&fs), &pools, &live, true, false);
    let r = refusals.iter().find(|r| r.key == fs_key("shared")).expect("refused");
    assert!(r.message.contains("metadata pool is elsewhere-metadata, not shared-metadata"), "{}", r.message);

    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, None);
    for p in &mut live.pools {
        for meta in p.application_metadata.values_mut() {
            meta.insert("cairn.dev/stack".into(), "ops".into());
        }
    }
    let (steps, refusals) = plan_with(std::slice::from_ref(&fs), &pools, &live, true, false);
    let r = refusals.iter().find(|r| r.key == fs_key("shared")).expect("refused");
    assert!(r.message.contains("managed by stack ops"), "{}", r.message);
    assert!(steps.iter().all(|s| s.action == Action::Noop || s.key.kind == "CephPool"), "{steps:#?}");
    assert!(plan_with(&[], &[], &live, false, true).0.is_empty(), "destroy leaves another stack's alone");
}

#[test]
fn a_file_system_on_a_plain_pool_of_the_stack_is_not_the_stacks() {
    // `pool "scratch" { application = "cephfs" }` in the stack, and by hand:
    // `ceph fs new handmade scratch scratch-data`.
    let (fs, pools) = filesystem("handmade", &[("data", false)], 1, true);
    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, None);
    let meta = live.pools.iter_mut().find(|p| p.pool_name == "handmade-metadata").unwrap();
    for m in meta.application_metadata.values_mut() {
        m.insert("cairn.dev/address".into(), "pool.handmade-metadata".into());
    }
    let (steps, refusals) = plan_with(&[], &[], &live, false, false);
    assert!(steps.iter().all(|s| s.key.kind == "CephPool"), "the file system is not deleted: {steps:#?}");
    // Its pools would be, but the monitor refuses to delete a pool in use: the plan says so first.
    assert_eq!(refusals.len(), 2, "{refusals:#?}");
    assert!(refusals.iter().all(|r| r.message.contains("while file system handmade uses it")), "{refusals:#?}");
}

#[test]
fn recreating_a_pool_in_use_by_a_file_system_is_refused() {
    let (fs, pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, Some(4100));
    let (changed, mut new_pools) = shared();
    let cold = new_pools.iter_mut().find(|p| p.name == "shared-cold").unwrap();
    cold.spec = PoolSpec::from_body(
        &json!({"spec": {"type": "erasure", "erasure": {"k": 3, "m": 1}, "failure_domain": "osd", "application": "cephfs"}}),
    )
    .unwrap();
    let (steps, refusals) = plan_with(std::slice::from_ref(&changed), &new_pools, &live, false, false);
    assert_eq!(step(&steps, &pool_key("shared-cold")).action, Action::Replace);
    assert_eq!(refusals.len(), 1, "{refusals:#?}");
    assert_eq!(refusals[0].key, pool_key("shared-cold"));
    assert!(refusals[0].help.contains("new name"), "{}", refusals[0].help);
}

#[test]
fn a_plan_says_when_no_mds_daemon_will_serve_a_file_system() {
    let (a, a_pools) = filesystem("a", &[("d", false)], 1, true);
    let (b, b_pools) = filesystem("b", &[("d", false)], 1, true);
    let all_pools: Vec<DesiredPool> = a_pools.iter().chain(&b_pools).cloned().collect();
    let both = [a.clone(), b.clone()];

    let steps = plan(&both, &all_pools, &CephState::default());
    let note = |steps: &[Step], name: &str| step(steps, &fs_key(name)).reason.clone().unwrap_or_default();
    assert!(note(&steps, "a").contains("the cluster has no MDS daemon"), "{steps:#?}");
    assert!(note(&steps, "b").contains("cairn does not start MDS daemons"));

    // One standby: the first new file system takes it, the second has none.
    let steps = plan(&both, &all_pools, &with_standby());
    assert_eq!(note(&steps, "a"), "");
    assert!(note(&steps, "b").contains("no MDS daemon is free"), "{steps:#?}");

    // A file system served by its own daemon needs no standby, and is noted on a no-op too.
    let mut live = CephState::default();
    made_fs(&mut live, &a, &a_pools, 1, Some(4100));
    made_fs(&mut live, &b, &b_pools, 10, None);
    let steps = plan(&both, &all_pools, &live);
    assert_eq!(note(&steps, "a"), "");
    assert_eq!(step(&steps, &fs_key("b")).action, Action::Noop);
    assert!(note(&steps, "b").contains("no MDS daemon is free"), "{steps:#?}");
}

#[test]
fn the_fingerprint_follows_settings_not_daemons() {
    let (fs, pools) = shared();
    let mut live = CephState::default();
    made_fs(&mut live, &fs, &pools, 1, Some(4100));
    let before = fs_fingerprint(&live.fs_map.filesystems[0], &live);
    live_fs(&mut live, "shared").mdsmap.info.clear();
    live.fs_map.standbys.push(daemon(4100, -1, "up:standby"));
    assert_eq!(fs_fingerprint(&live.fs_map.filesystems[0], &live), before);
    live_fs(&mut live, "shared").mdsmap.max_mds = 2;
    assert_ne!(fs_fingerprint(&live.fs_map.filesystems[0], &live), before);
}

#[test]
fn the_spec_names_pools_after_the_file_system() {
    let (fs, _) = shared();
    assert_eq!(
        fs.spec,
        FsSpec {
            metadata_pool: "shared-metadata".into(),
            data_pools: vec!["shared-default".into(), "shared-cold".into()],
            active: 1,
            standby: true
        }
    );
}
