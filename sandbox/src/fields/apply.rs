//! Server-side apply: merge, prune, conflicts and the applier's managed-fields entry.

use std::collections::BTreeMap;

use serde_json::Value;

use super::managed::{identifier, read_managed, sort_managed, without_managed, write_managed, ManagedFieldsEntry, Operation};
use super::set::FieldSet;
use super::update::update_set;
use super::walk::{applied_fields, compare, restrict, scoped_config, strip_nulls, values_equal, Scope, Walker};
use super::FieldsError;
use crate::shape::Shape;

/// The manager kube-apiserver records for fields of an object that had no managed fields
/// before its first apply.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// One server-side apply request.
pub struct ApplyRequest<'a> {
    /// The stored object, or `None` when the apply creates it.
    pub live: Option<&'a Value>,
    /// The applied config.
    pub applied: &'a Value,
    pub manager: &'a str,
    pub force: bool,
    pub shape: &'a dyn Shape,
    pub scope: Scope,
    /// RFC 3339 time to record.
    pub now: &'a str,
    /// The API version of the request (`apps/v1`).
    pub api_version: &'a str,
    pub subresource: Option<&'a str>,
}

/// The result of an apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The object to store, with its managed fields.
    pub object: Value,
    /// False when the object and its managed fields are exactly the live ones.
    pub changed: bool,
}

/// A field the applier would take from another manager.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    pub subresource: Option<String>,
    /// The field, as `.spec.replicas`.
    pub path: String,
}

impl Conflict {
    /// The manager as kube-apiserver names it: `"kubectl"` for an applier,
    /// `"kubectl" using apps/v1` for an updater, with ` with subresource "status"` when set.
    pub fn manager_display(&self) -> String {
        let mut s = quote(&self.manager);
        if let Some(sub) = &self.subresource {
            s = format!("{s} with subresource {}", quote(sub));
        }
        if self.operation == Operation::Update {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }

    fn identifier(&self) -> String {
        identifier(&self.manager, self.operation, &self.api_version, self.subresource.as_deref())
    }
}

fn quote(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// Why an apply failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Fields other managers own with other values; kube-apiserver answers 409.
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The applied config cannot be merged (a keyed list item without its key, a repeated key).
    #[error("{0}")]
    Invalid(String),
    /// The live object's managed fields cannot be read.
    #[error("failed to decode managed fields: {0}")]
    ManagedFields(#[from] FieldsError),
}

/// kube-apiserver's conflict message: one line for one conflict, else a block per manager in
/// identifier order.
fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!("Apply failed with 1 conflict: conflict with {}: {}", c.manager_display(), c.path);
    }
    let mut groups: BTreeMap<String, (String, Vec<&str>)> = BTreeMap::new();
    for c in conflicts {
        groups.entry(c.identifier()).or_insert_with(|| (c.manager_display(), Vec::new())).1.push(&c.path);
    }
    let mut lines = Vec::new();
    for (display, paths) in groups.values() {
        lines.push(format!("conflicts with {display}:"));
        lines.extend(paths.iter().map(|p| format!("- {p}")));
    }
    format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
}

/// Applies `req.applied` as kube-apiserver's server-side apply does.
pub fn apply(req: ApplyRequest<'_>) -> Result<Applied, ApplyError> {
    let config = without_managed(&strip_nulls(req.applied));
    let new_set = applied_fields(&config, req.shape, req.scope).map_err(ApplyError::Invalid)?;
    let mut walker = Walker::new(req.shape);
    let applier_entry = |fields: FieldSet, time: Option<String>| ManagedFieldsEntry {
        manager: req.manager.to_owned(),
        operation: Operation::Apply,
        api_version: req.api_version.to_owned(),
        time,
        subresource: req.subresource.map(str::to_owned),
        fields,
    };

    let Some(live) = req.live else {
        let mut object = walker.merge(None, &config).map_err(ApplyError::Invalid)?;
        write_managed(&mut object, &[applier_entry(new_set, Some(req.now.to_owned()))]);
        return Ok(Applied { object, changed: true });
    };

    let old_entries = read_managed(live)?;
    let live_plain = without_managed(live);
    let mut entries = old_entries.clone();
    if entries.is_empty() {
        // Whatever the object holds belongs to someone before the first apply.
        entries.push(ManagedFieldsEntry {
            manager: BEFORE_FIRST_APPLY.to_owned(),
            operation: Operation::Update,
            api_version: req.api_version.to_owned(),
            time: Some(req.now.to_owned()),
            subresource: req.subresource.map(str::to_owned),
            fields: update_set(None, &live_plain, req.shape, req.scope),
        });
    }
    let applier = entries.iter().position(|e| e.is(req.manager, Operation::Apply, req.api_version, req.subresource));
    let is_other = |i: usize| Some(i) != applier;

    let mut merged = walker.merge(Some(&live_plain), &scoped_config(&config, req.scope)).map_err(ApplyError::Invalid)?;

    // Remove what this manager applied last time, applies no more, and no one else owns.
    if let Some(last) = applier.map(|i| &entries[i].fields).filter(|s| !s.is_empty()) {
        let owned = entries.iter().enumerate().filter(|(i, _)| is_other(*i)).fold(new_set.clone(), |acc, (_, e)| acc.union(&e.fields));
        let remove = restrict(&last.with_named_members().difference(&owned.with_named_members()), req.scope);
        walker.remove(&mut merged, &remove, Some(&owned));
    }

    let diff = compare(Some(&live_plain), &merged, req.shape, req.scope);
    let taken = diff.modified.union(&diff.added);
    let mut conflicts: Vec<Conflict> = Vec::new();
    for (_, e) in entries.iter().enumerate().filter(|(i, _)| is_other(*i)) {
        for path in e.fields.intersection(&taken).paths() {
            conflicts.push(Conflict {
                manager: e.manager.clone(),
                operation: e.operation,
                api_version: e.api_version.clone(),
                subresource: e.subresource.clone(),
                path,
            });
        }
    }
    if !conflicts.is_empty() && !req.force {
        conflicts.sort_by_cached_key(Conflict::identifier);
        return Err(ApplyError::Conflicts(conflicts));
    }

    let object_changed = !values_equal(&live_plain, &merged);
    let mut next: Vec<ManagedFieldsEntry> = Vec::with_capacity(entries.len() + 1);
    for (_, e) in entries.iter().enumerate().filter(|(i, _)| is_other(*i)) {
        let mut e = e.clone();
        e.fields = e.fields.difference(&taken).difference(&diff.removed);
        next.push(e);
    }
    // kube-apiserver stamps the applier's time only when the object changed.
    let time = if object_changed { Some(req.now.to_owned()) } else { applier.and_then(|i| entries[i].time.clone()) };
    next.push(applier_entry(new_set, time));
    next.retain(|e| !e.fields.is_empty());

    if !object_changed && same_entries(&old_entries, &next) {
        return Ok(Applied { object: live.clone(), changed: false });
    }
    sort_managed(&mut next);
    let mut object = if object_changed { merged } else { live_plain };
    write_managed(&mut object, &next);
    Ok(Applied { object, changed: true })
}

/// Whether two entry lists hold the same non-empty entries, in any order.
fn same_entries(a: &[ManagedFieldsEntry], b: &[ManagedFieldsEntry]) -> bool {
    sorted_entries(a) == sorted_entries(b)
}

fn sorted_entries(list: &[ManagedFieldsEntry]) -> Vec<&ManagedFieldsEntry> {
    let mut v: Vec<&ManagedFieldsEntry> = list.iter().filter(|e| !e.fields.is_empty()).collect();
    v.sort_by_cached_key(|e| e.identifier());
    v
}
