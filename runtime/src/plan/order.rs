//! Step order: deletes in reverse apply order (each after the deletes of what would depend on
//! it), and `--target` selection.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use cairn_core::kinds::kind_rank;

use super::types::{Action, Step};
use crate::model::Desired;

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
/// StorageClass after PVCs). `base` is the index of the first delete in the plan.
pub(crate) fn order_deletes(deletes: &mut [Step], base: usize) {
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
            let before: Vec<usize> = preds.iter().filter_map(|p| groups.get(*p)).flat_map(|g| g.members.iter().map(|m| m + base)).collect();
            wait_for(deletes, &group.members, before, base);
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

/// Makes every member of a group wait for `before` (plan indexes), directly or through the
/// group's first member when that would be too many entries.
fn wait_for(deletes: &mut [Step], members: &[usize], mut before: Vec<usize>, base: usize) {
    if before.is_empty() {
        return;
    }
    before.sort_unstable();
    before.dedup();
    let direct = members.len().saturating_mul(before.len()) <= DIRECT_LIMIT;
    let Some(&first) = members.first() else { return };
    for (n, m) in members.iter().enumerate() {
        if let Some(step) = deletes.get_mut(*m) {
            if direct || n == 0 {
                step.after.extend(before.iter().copied());
            } else {
                step.after.push(first + base);
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
pub(crate) fn target_closure(desired: &Desired, targets: &[String]) -> Vec<bool> {
    let mut keep = vec![false; desired.objects.len()];
    let mut stack: Vec<usize> = desired
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| targets.iter().any(|t| *t == o.address || *t == o.key.id()))
        .map(|(i, _)| i)
        .collect();
    while let Some(i) = stack.pop() {
        match keep.get_mut(i) {
            Some(k) if !*k => *k = true,
            _ => continue,
        }
        if let Some(o) = desired.objects.get(i) {
            stack.extend(o.deps.iter().copied());
        }
    }
    keep
}

/// Keeps the steps of the declared objects in `keep_desired` (see [`target_closure`]) and the
/// deletes `targets` name. `after` is renumbered; a kept step that waited on a dropped one
/// waits on what that one waited on instead.
pub(crate) fn select_targets(steps: Vec<Step>, keep_desired: &[bool], targets: &[String]) -> Vec<Step> {
    let kept: Vec<bool> = steps
        .iter()
        .map(|s| match (s.action, s.desired) {
            (Action::Delete, _) => named(s, targets),
            (_, Some(d)) => keep_desired.get(d).copied().unwrap_or(false),
            (_, None) => false,
        })
        .collect();
    let mut new_index: HashMap<usize, usize> = HashMap::new();
    for (old, _) in kept.iter().enumerate().filter(|(_, k)| **k) {
        new_index.insert(old, new_index.len());
    }
    // The kept steps each step waits on, looking through dropped ones (`after` only points back).
    let mut through: Vec<BTreeSet<usize>> = Vec::with_capacity(steps.len());
    let mut out = Vec::with_capacity(new_index.len());
    for (i, mut step) in steps.into_iter().enumerate() {
        let mut waits = BTreeSet::new();
        for a in &step.after {
            if let Some(t) = through.get(*a) {
                waits.extend(t.iter().copied());
            }
        }
        if new_index.contains_key(&i) {
            step.after = waits.into_iter().filter_map(|a| new_index.get(&a).copied()).collect();
            out.push(step);
            through.push(BTreeSet::from([i]));
        } else {
            through.push(waits);
        }
    }
    out
}
