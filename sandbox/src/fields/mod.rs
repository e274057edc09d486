//! Managed fields and server-side apply, as kube-apiserver 1.33 does them with
//! structured-merge-diff.
//!
//! - [`FieldSet`]: sets of field paths and their `fieldsV1` encoding.
//! - [`read_managed`] / [`write_managed`]: `metadata.managedFields`.
//! - [`fields_of`]: the fields an object (or applied config) sets.
//! - [`apply`]: server-side apply with conflicts, shared ownership and removal of fields
//!   a manager stops applying.
//! - [`record_update`]: ownership changes of create, update and non-apply patch requests.

mod apply;
mod managed;
mod merge;
mod set;
mod update;
mod walk;

pub use apply::{apply, Applied, ApplyError, ApplyRequest, Conflict, BEFORE_FIRST_APPLY};
pub use managed::{read_managed, sort_managed, write_managed, ManagedFieldsEntry, Operation};
pub use set::{FieldSet, PathElement};
pub use update::record_update;
pub use walk::{fields_of, Scope};

/// Malformed `metadata.managedFields` or `fieldsV1`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldsError {
    /// A `fieldsV1` key that is not `.` or an `f:`, `k:`, `v:` or `i:` element.
    #[error("invalid fieldsV1 key {0:?}: expected \".\" or an f:, k:, v: or i: element")]
    BadKey(String),
    /// A `k:` or `v:` key whose JSON does not parse (or a `k:` that is not an object).
    #[error("invalid fieldsV1 key {0:?}: {1}")]
    BadKeyJson(String, String),
    /// A `fieldsV1` value that is not a JSON object.
    #[error("invalid fieldsV1 at {0:?}: expected a JSON object")]
    NotAnObject(String),
    /// A managed-fields entry of the wrong form.
    #[error("invalid metadata.managedFields[{index}]: {reason}")]
    BadEntry { index: usize, reason: String },
}

#[cfg(test)]
mod tests;
