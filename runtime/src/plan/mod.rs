//! The planner (DESIGN.md §2 step 8). PURE: (desired, live snapshot, options) → [`Plan`]; no
//! I/O, no clock, no randomness.
//!
//! [`plan`] compares each declared object (as [`crate::hash::applied_body`] would write it)
//! with the live one: only declared fields and fields cairn applied before count
//! ([`compare`], [`managed`]); immutable fields make a replace ([`immutable`]); undeclared owned
//! objects become deletes, ordered in reverse ([`order`]); an autoscaled workload's replicas
//! are the autoscaler's ([`autoscaled`]). Deletes and replaces of claims are
//! protected, a claim never shrinks (a refusal), and a namespace delete is protected when the
//! namespace holds data ([`namespace`]). Objects the stack uses as `existing` must be live and
//! fit their uses ([`existing`]); they are never written, not even deleted once owned.

mod autoscaled;
mod compare;
pub mod existing;
mod fingerprint;
mod immutable;
mod managed;
mod merge;
mod namespace;
mod order;
mod path;
mod quantity_paths;
mod types;

#[cfg(test)]
mod tests;

use std::collections::HashSet;

use serde_json::Value as Json;

/// How list items are matched (by merge key), for the rollback that prunes a template to the
/// declared shape.
pub(crate) use compare::{find_item, item_key, merge_key};
pub use fingerprint::fingerprint;
pub use merge::merge;
pub use order::{unknown_targets, UnknownTarget};
pub use types::{Action, Class, FieldChange, FieldOp, HoldReason, Holding, KeptField, Options, Plan, Refusal, Step};

use crate::hash::{applied_body, applied_hash};
use crate::model::{Desired, DesiredObject, ObjectKey, Snapshot, APPLIED_HASH, PROTECT, STACK_LABEL};
use compare::Diff;
use path::{leading_keys, render};

/// What a secret value shows as.
const SENSITIVE: &str = "(sensitive)";
/// The annotation with the address an object was declared at.
const ADDRESS: &str = "cairn.dev/address";

/// Plans `desired` against `live`: one step per declared object (in `desired` order, `after`
/// the keys of its dependencies), then one delete per owned object no longer declared (or
/// every owned object with [`Options::destroy`]), plus refusals for objects cairn may not take.
/// `key` is the stack's key for secret HMACs. Deterministic: same inputs, same plan.
pub fn plan(desired: &Desired, live: &Snapshot, key: &[u8], opts: &Options) -> Plan {
    let mut plan = Plan { stack: desired.stack.clone(), ..Plan::default() };
    if !opts.destroy {
        let autoscaled = autoscaled::targets(desired);
        for obj in &desired.objects {
            if live.unserved.contains(&obj.key.group_kind()) {
                plan.refusals.push(unserved(obj));
                continue;
            }
            let scaled = autoscaled::is_target(&autoscaled, &obj.key);
            match declared_step(&desired.stack, obj, live, key, opts, scaled) {
                Ok(mut step) => {
                    let mut after = obj.deps.clone();
                    after.sort_unstable();
                    after.dedup();
                    step.after = after;
                    plan.steps.push(step);
                }
                Err(refusal) => plan.refusals.push(*refusal),
            }
        }
        plan.refusals.extend(existing::check(&desired.existing, &live.existing, &live.unserved));
    }

    let declared = desired.by_key();
    let used: HashSet<&ObjectKey> = desired.existing.iter().map(|e| &e.key).collect();
    let mut deletes: Vec<Step> = live
        .owned
        .iter()
        .filter(|(k, _)| !used.contains(k))
        .filter(|(k, _)| opts.destroy || !declared.contains_key(k))
        .filter(|(_, body)| !has_owner(body) && !terminating(body))
        .map(|(k, body)| delete_step(k, body, declared.get(k).copied()))
        .collect();
    guard_namespaces(&mut deletes, &desired.stack, live);
    order::order_deletes(&mut deletes);
    plan.steps.extend(deletes);

    if !opts.targets.is_empty() {
        let closure = order::target_closure(desired, &opts.targets);
        plan.refusals.retain(|r| closure.contains(&r.key) || used.contains(&r.key));
        plan.steps = order::select_targets(std::mem::take(&mut plan.steps), &closure, &opts.targets);
    }
    plan
}

/// The refusal of an object whose kind the cluster does not serve: what is likely missing.
fn unserved(obj: &DesiredObject) -> Refusal {
    let gk = obj.key.group_kind();
    let help = if gk.group == "ceph.rook.io" || gk.group == "objectbucket.io" {
        format!(
            "{} is Rook's: install Rook (its CRDs and operator) in the cluster first, or point cairn at a cluster that runs it",
            gk.kind
        )
    } else {
        format!(
            "install the CRD or operator that provides {gk} (or declare its CustomResourceDefinition in the stack), or fix the apiVersion"
        )
    };
    Refusal {
        key: obj.key.clone(),
        address: Some(obj.address.clone()),
        message: format!("{} ({}): the cluster does not serve {} ({})", obj.key.id(), obj.address, gk.kind, obj.key.api_version),
        help,
        at: None,
    }
}

/// An annotation of a live object.
fn annotation<'a>(body: &'a Json, name: &str) -> Option<&'a str> {
    body.get("metadata")?.get("annotations")?.get(name)?.as_str()
}

/// Whether the object is being deleted (`metadata.deletionTimestamp` is set).
fn terminating(body: &Json) -> bool {
    body.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null())
}

/// Whether the object has a non-empty `metadata.ownerReferences` (then something else owns it).
fn has_owner(body: &Json) -> bool {
    body.pointer("/metadata/ownerReferences").and_then(Json::as_array).is_some_and(|a| !a.is_empty())
}

/// Marks each namespace delete that would take data with it protected, with what it holds.
fn guard_namespaces(deletes: &mut [Step], stack: &str, live: &Snapshot) {
    let deleted: HashSet<&ObjectKey> = deletes.iter().map(|s| &s.key).collect();
    let held: Vec<(usize, Vec<Holding>)> = deletes
        .iter()
        .enumerate()
        .filter(|(_, s)| namespace::is_namespace(&s.key))
        .map(|(i, s)| (i, namespace::holdings(&s.key, stack, live, &deleted)))
        .filter(|(_, h)| !h.is_empty())
        .collect();
    for (i, holds) in held {
        if let Some(step) = deletes.get_mut(i) {
            step.protected = true;
            step.holds = holds;
        }
    }
}

/// The delete of an owned object (`declared`: its declaration, under `destroy`).
fn delete_step(key: &ObjectKey, body: &Json, declared: Option<&DesiredObject>) -> Step {
    Step::delete(
        key.clone(),
        declared.map(|o| o.address.clone()).or_else(|| annotation(body, ADDRESS).map(str::to_string)),
        annotation(body, PROTECT) == Some("true") || declared.is_some_and(|o| o.protect) || namespace::is_claim(key),
        declared.is_some(),
        fingerprint(body, None),
    )
}

/// The live object to compare against, and whether it is being adopted; or the refusal.
fn live_for<'a>(stack: &str, obj: &DesiredObject, live: &'a Snapshot, opts: &Options) -> Result<Option<(&'a Json, bool)>, Box<Refusal>> {
    if let Some(l) = live.owned.get(&obj.key) {
        return Ok(Some((l, false)));
    }
    let Some(f) = live.foreign.get(&obj.key) else { return Ok(None) };
    let id = obj.key.id();
    match f.get("metadata").and_then(|m| m.get("labels")).and_then(|l| l.get(STACK_LABEL)).and_then(Json::as_str) {
        Some(s) if s == stack => Ok(Some((f, false))),
        Some(other) if !other.is_empty() => Err(Box::new(Refusal {
            key: obj.key.clone(),
            address: Some(obj.address.clone()),
            message: format!("{id} ({}) is managed by stack {other}, not by stack {stack}", obj.address),
            help: format!("an object can belong to one stack only: remove it from one of the stacks ({other} or {stack})"),
            at: None,
        })),
        _ if opts.adopt => Ok(Some((f, true))),
        _ => Err(Box::new(Refusal {
            key: obj.key.clone(),
            address: Some(obj.address.clone()),
            message: format!("{id} ({}) exists and is not managed by stack {stack}", obj.address),
            help: format!("re-run with --adopt to take it over, or rename {} so it does not collide", obj.address),
            at: None,
        })),
    }
}

/// The step of one declared object; `autoscaled`: an autoscaler owns its replica count.
fn declared_step(
    stack: &str,
    obj: &DesiredObject,
    live: &Snapshot,
    key: &[u8],
    opts: &Options,
    autoscaled: bool,
) -> Result<Step, Box<Refusal>> {
    let mut step = Step::create(obj.key.clone(), obj.address.clone());
    step.changes = create_changes(obj);
    let Some((live_obj, adopt)) = live_for(stack, obj, live, opts)? else { return Ok(step) };
    if terminating(live_obj) {
        // Still going away (a namespace empties first): apply waits until it is gone, then creates it.
        step.reason = Some(format!("{} is being deleted: apply waits until it is gone, then creates it", obj.key));
        step.waits_for_deletion = true;
        step.live_fingerprint = Some(fingerprint(live_obj, None));
        return Ok(step);
    }
    let applied_raw = applied_body(obj, key);
    let applied = compare::as_stored(&applied_raw);
    let applied = applied.as_ref();
    if let Some(shrink) = immutable::shrink(&obj.key, applied, live_obj) {
        let id = obj.key.id();
        return Err(Box::new(Refusal {
            key: obj.key.clone(),
            address: Some(obj.address.clone()),
            message: format!(
                "{id} ({}) asks for {} of storage, but the live claim has {}: Kubernetes cannot shrink a claim",
                obj.address, shrink.desired, shrink.live
            ),
            help: format!(
                "set the volume's size back to at least {} (a typo?); to really use less, declare a new volume, copy the data over, then remove this one",
                shrink.live
            ),
            at: None,
        }));
    }
    let mut diffs = Vec::new();
    compare::diff(applied, live_obj, &mut diffs);
    managed::removals(applied, live_obj, &mut diffs);
    if autoscaled {
        step.keep = autoscaled::leave_replicas(&mut diffs, live_obj);
    }
    // `applied_body` carries `applied_hash(obj, key)`; read it back rather than hash twice.
    let hash = annotation(applied, APPLIED_HASH).map_or_else(|| applied_hash(obj, key), str::to_string);
    let hash_matches = annotation(live_obj, APPLIED_HASH) == Some(hash.as_str());
    step.reason = immutable::replace_reason(&obj.key, applied, live_obj, &diffs);
    step.adopt = adopt;
    step.live_fingerprint = Some(fingerprint(live_obj, Some(applied)));
    step.action = if diffs.is_empty() && hash_matches && !adopt {
        Action::Noop
    } else if step.reason.is_some() {
        Action::Replace
    } else {
        Action::Update
    };
    step.class = match step.action {
        Action::Noop => None,
        _ if hash_matches => Some(Class::Drift),
        _ => Some(Class::Pending),
    };
    step.force = step.class == Some(Class::Drift);
    step.protected =
        step.action == Action::Replace && (obj.protect || annotation(live_obj, PROTECT) == Some("true") || namespace::is_claim(&obj.key));
    step.changes = diffs
        .into_iter()
        .map(|d| {
            let managers = if d.before.is_some() { managed::owners(live_obj, &d.segs) } else { Vec::new() };
            FieldChange { managers, ..field_change(obj, d) }
        })
        .collect();
    // Adopting an object whose every field already agrees (an import): taking the fields over
    // from whoever applied them — kubectl's client-side apply owns a StatefulSet's atomic claim
    // templates, say — changes no value, so it is forced rather than refused as a conflict.
    if adopt && step.changes.iter().all(ownership_only) {
        step.force = true;
    }
    Ok(step)
}

/// A create's fields, as Terraform shows every attribute of a create: one change per top-level
/// field of the object (`metadata`, `spec`, `data`, …; `apiVersion` and `kind` are in the step's
/// key), from `null` to the declared value. Built from [`DesiredObject::redacted`], so secret
/// values inside are `"(sensitive)"`; a field that is a secret as a whole is marked sensitive.
fn create_changes(obj: &DesiredObject) -> Vec<FieldChange> {
    let Json::Object(fields) = obj.redacted() else { return Vec::new() };
    fields
        .into_iter()
        .filter(|(k, _)| k != "apiVersion" && k != "kind")
        .map(|(k, v)| {
            let pointer = format!("/{}", k.replace('~', "~0").replace('/', "~1"));
            let sensitive = obj.sensitive.contains(&pointer);
            FieldChange { path: k, op: FieldOp::Set, before: None, after: Some(v), sensitive, managers: Vec::new() }
        })
        .collect()
}

/// Whether a path is a v1 Secret's value (`data`, `stringData`, `binaryData`).
fn is_secret_value(key: &ObjectKey, d: &Diff) -> bool {
    key.api_version == "v1"
        && key.kind == "Secret"
        && leading_keys(&d.segs).first().is_some_and(|k| matches!(*k, "data" | "stringData" | "binaryData"))
}

/// A diff as the plan shows it, secret values replaced by `(sensitive)`.
fn field_change(obj: &DesiredObject, d: Diff) -> FieldChange {
    let sensitive = is_secret_value(&obj.key, &d) || (!d.pointer.is_empty() && obj.is_sensitive(&d.pointer));
    let hide = |v: Option<Json>| if sensitive { v.map(|_| Json::String(SENSITIVE.into())) } else { v };
    FieldChange { path: render(&d.segs), op: d.op, before: hide(d.before), after: hide(d.after), sensitive, managers: Vec::new() }
}

/// Whether a change only writes cairn's ownership marks (`app.kubernetes.io/managed-by`,
/// `cairn.dev/…` labels and annotations), or adds a labels or annotations map holding only them.
fn ownership_only(c: &FieldChange) -> bool {
    let own = |key: &str| key == "app.kubernetes.io/managed-by" || key.starts_with("cairn.dev/");
    if let Some(key) = c.path.strip_prefix("metadata.labels.").or_else(|| c.path.strip_prefix("metadata.annotations.")) {
        return own(key);
    }
    if c.path == "metadata.labels" || c.path == "metadata.annotations" {
        return c.before.is_none() && c.after.as_ref().and_then(Json::as_object).is_some_and(|m| m.keys().all(|k| own(k)));
    }
    false
}
