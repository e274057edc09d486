//! Managed fields for create, update and non-apply patch requests.

use serde_json::Value;

use super::managed::{is_reset, read_managed, sort_managed, without_managed, write_managed, ManagedFieldsEntry, Operation};
use super::set::FieldSet;
use super::walk::{compare, Scope};
use crate::shape::Shape;

/// The fields an update from `old` (`None`: a create) to `new` sets: changed and added
/// fields, new maps, lists and list items as members.
pub(crate) fn update_set(old: Option<&Value>, new: &Value, shape: &dyn Shape, scope: Scope) -> FieldSet {
    let diff = compare(old, new, shape, scope);
    diff.modified.union(&diff.added)
}

/// Where the managed fields an update starts from come from.
enum Base {
    /// The stored object's (the request sent none, or sent unreadable ones, or is for a subresource).
    Old,
    /// The request's own, which replace the stored ones.
    New,
    /// The request asked for a reset (`[]` or `[{}]`), or the stored ones are unreadable.
    Empty,
}

/// Records a non-apply write of `new` over `old` (`None` for a create) in `new`'s managed
/// fields: what `manager` changed or added becomes its `Update` entry's (merged into an
/// existing one for the same API version and subresource) and leaves every other entry;
/// removed fields leave every entry. When nothing changed, managed fields stay as they were.
#[allow(clippy::too_many_arguments)]
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    subresource: Option<&str>,
    shape: &dyn Shape,
    scope: Scope,
    now: &str,
) {
    let stored = || match old.map(read_managed) {
        None => (Base::Old, Vec::new()),
        Some(Ok(entries)) => (Base::Old, entries),
        Some(Err(_)) => (Base::Empty, Vec::new()),
    };
    let (base_kind, base) = if subresource.is_some() {
        // Subresource writes cannot set managed fields.
        stored()
    } else if is_reset(new) {
        (Base::Empty, Vec::new())
    } else {
        match read_managed(new) {
            Ok(entries) if !entries.is_empty() => (Base::New, entries),
            _ => stored(),
        }
    };

    let old_plain = old.map(without_managed);
    let diff = compare(old_plain.as_ref(), &without_managed(new), shape, scope);
    let taken = diff.modified.union(&diff.added);
    let mut entries: Vec<ManagedFieldsEntry> = base
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.fields = e.fields.difference(&taken).difference(&diff.removed);
            e
        })
        .collect();
    if !taken.is_empty() {
        match entries.iter_mut().find(|e| e.is(manager, Operation::Update, api_version, subresource)) {
            Some(e) => {
                e.fields = e.fields.union(&taken);
                e.time = Some(now.to_owned());
            }
            None => entries.push(ManagedFieldsEntry {
                manager: manager.to_owned(),
                operation: Operation::Update,
                api_version: api_version.to_owned(),
                time: Some(now.to_owned()),
                subresource: subresource.map(str::to_owned),
                fields: taken,
            }),
        }
    }
    entries.retain(|e| !e.fields.is_empty());

    if entries == base {
        match base_kind {
            Base::New => {}
            Base::Old => {
                let raw = old.and_then(|o| o.get("metadata")).and_then(|m| m.get("managedFields")).cloned();
                set_raw(new, raw);
            }
            Base::Empty => set_raw(new, None),
        }
        return;
    }
    sort_managed(&mut entries);
    write_managed(new, &entries);
}

/// Puts `raw` as `metadata.managedFields` of `obj`, or removes the field.
fn set_raw(obj: &mut Value, raw: Option<Value>) {
    match raw {
        Some(raw) => {
            if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
                meta.insert("managedFields".to_owned(), raw);
            }
        }
        None => write_managed(obj, &[]),
    }
}
