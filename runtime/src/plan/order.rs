//! Step order: deletes in reverse apply order (each after the deletes of what would depend on
//! it), and `--target` selection.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cairn_core::kinds::kind_rank;

use super::types::{Action, Plan, Step};
use crate::model::{Desired, ObjectKey};

/// Above this many `after` entries for one group, its first delete waits for the group's
/// predecessors and the rest wait for that first one: O(n) entries instead of O(n²).
const DIRECT_LIMIT: usize = 4096;

/// A run of deletes of one rank in one scope (a namespace, or `None`: cluster-scoped).
struct Group {
    scope: Option<String>,
    rank: u8,
    members: Vec<usize>,
}

/// Sorts deletes (descending `kind_rank`, then namespace, name, kind, apiVersion) and sets
/// their `after`: a delete waits for every delete of strictly higher rank in its namespace and
/// among cluster-scoped objects; a cluster-scoped delete waits for every delete of higher rank
/// anywhere (so a Namespace goes after its objects, a CRD after its custom objects, a
/// StorageClass after PVCs).
pub(crate) fn order_deletes(deletes: &mut [Step]) {
    deletes.sort_by(|a, b| {
        let ka = (Reverse(kind_rank(&a.key.kind)), &a.key.namespace, &a.key.name, &a.key.kind, &a.key.api_version);
        let kb = (Reverse(kind_rank(&b.key.kind)), &b.key.namespace, &b.key.name, &b.key.kind, &b.key.api_version);
        ka.cmp(&kb)
    });
    let mut groups: Vec<Group> = Vec::new();
    for (i, step) in deletes.iter().enumerate() {
        let rank = kind_rank(&step.key.kind);
        match groups.last_mut() {
            Some(g) if g.rank == rank && g.scope == step.key.namespace => g.members.push(i),
            _ => groups.push(Group { scope: step.key.namespace.clone(), rank, members: vec![i] }),
        }
    }
    // The lowest-ranked group seen so far above the current rank, per namespace and cluster-wide.
    let mut latest_ns: BTreeMap<String, usize> = BTreeMap::new();
    let mut latest_cluster: Option<usize> = None;
    let mut band_start = 0;
    while band_start < groups.len() {
        let rank = groups.get(band_start).map_or(0, |g| g.rank);
        let band_end = groups.iter().skip(band_start).position(|g| g.rank != rank).map_or(groups.len(), |p| p + band_start);
        for gi in band_start..band_end {
            let Some(group) = groups.get(gi) else { continue };
            let mut preds: Vec<usize> = latest_cluster.into_iter().collect();
            match &group.scope {
                Some(ns) => preds.extend(latest_ns.get(ns).copied()),
                None => preds.extend(latest_ns.values().copied()),
            }
            let before: Vec<usize> = preds.iter().filter_map(|p| groups.get(*p)).flat_map(|g| g.members.iter().copied()).collect();
            wait_for(deletes, &group.members, before);
        }
        for gi in band_start..band_end {
            if let Some(group) = groups.get(gi) {
                match &group.scope {
                    Some(ns) => {
                        latest_ns.insert(ns.clone(), gi);
                    }
                    None => latest_cluster = Some(gi),
                }
            }
        }
        band_start = band_end;
    }
}

/// Makes every member of a group wait for the deletes `before` (indexes into `deletes`),
/// directly or through the group's first member when that would be too many entries.
fn wait_for(deletes: &mut [Step], members: &[usize], mut before: Vec<usize>) {
    if before.is_empty() {
        return;
    }
    before.sort_unstable();
    before.dedup();
    let keys: Vec<ObjectKey> = before.iter().filter_map(|b| deletes.get(*b)).map(|s| s.key.clone()).collect();
    let direct = members.len().saturating_mul(keys.len()) <= DIRECT_LIMIT;
    let Some(first) = members.first().and_then(|f| deletes.get(*f)).map(|s| s.key.clone()) else { return };
    for (n, m) in members.iter().enumerate() {
        if let Some(step) = deletes.get_mut(*m) {
            if direct || n == 0 {
                step.after.extend(keys.iter().cloned());
            } else {
                step.after.push(first.clone());
            }
        }
    }
}

/// Whether a target names this step (its address or its object id).
fn named(step: &Step, targets: &[String]) -> bool {
    targets.iter().any(|t| step.address.as_deref() == Some(t.as_str()) || *t == step.key.id())
}

/// Which declared objects `--target` keeps: the targeted ones (by address or object id) and,
/// transitively, what they depend on.
pub(crate) fn target_closure(desired: &Desired, targets: &[String]) -> HashSet<ObjectKey> {
    let by_key = desired.by_key();
    let mut keep = HashSet::new();
    let mut stack: Vec<&ObjectKey> =
        desired.objects.iter().filter(|o| targets.iter().any(|t| *t == o.address || *t == o.key.id())).map(|o| &o.key).collect();
    while let Some(k) = stack.pop() {
        if !keep.insert(k.clone()) {
            continue;
        }
        if let Some(o) = by_key.get(k) {
            stack.extend(o.deps.iter());
        }
    }
    keep
}

/// Keeps the steps of the declared objects in `keep` (see [`target_closure`]) and the deletes
/// `targets` name. A kept step that waited on a dropped one waits on what that one waited on
/// instead; keys of no step here (another provider's) are kept.
pub(crate) fn select_targets(steps: Vec<Step>, keep: &HashSet<ObjectKey>, targets: &[String]) -> Vec<Step> {
    let kept = |s: &Step| match s.action {
        Action::Delete => named(s, targets),
        _ => s.declared && keep.contains(&s.key),
    };
    // The kept steps each step waits on, looking through dropped ones (`after` only points back).
    let mut through: HashMap<ObjectKey, BTreeSet<ObjectKey>> = HashMap::new();
    let mut out = Vec::new();
    for mut step in steps {
        let mut waits = BTreeSet::new();
        for a in &step.after {
            match through.get(a) {
                Some(t) => waits.extend(t.iter().cloned()),
                // Another provider's step (a pool): the merged plan orders it.
                None => {
                    waits.insert(a.clone());
                }
            }
        }
        if kept(&step) {
            step.after = waits.into_iter().collect();
            through.insert(step.key.clone(), BTreeSet::from([step.key.clone()]));
            out.push(step);
        } else {
            through.insert(step.key.clone(), waits);
        }
    }
    out
}

/// A `--target` that names no declared object and no live object of the stack, with the
/// addresses and object ids closest to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTarget {
    /// What was given.
    pub target: String,
    /// Up to three near matches, closest first.
    pub near: Vec<String>,
}

/// The `targets` that name no step or refusal of `full`, a plan made without targets (so it
/// holds every declared object and every owned live one).
pub fn unknown_targets(full: &Plan, targets: &[String]) -> Vec<UnknownTarget> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |address: Option<&String>, key: &ObjectKey| {
        names.extend(address.cloned());
        names.push(key.id());
    };
    for s in &full.steps {
        add(s.address.as_ref(), &s.key);
    }
    for r in &full.refusals {
        add(r.address.as_ref(), &r.key);
    }
    names.sort_unstable();
    names.dedup();
    targets
        .iter()
        .filter(|t| !names.iter().any(|n| n == *t))
        .map(|t| {
            let mut left: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut near = Vec::new();
            while near.len() < 3 {
                let Some(best) = cairn_compiler::eval::did_you_mean(t, left.iter().copied()) else { break };
                near.push(best.to_string());
                left.retain(|n| *n != best);
            }
            UnknownTarget { target: t.clone(), near }
        })
        .collect()
}
