//! Patches: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.
//!
//! [`strategic_merge_patch`] is a port of the apply side of apimachinery's
//! `strategicpatch.StrategicMergeMapPatch` (the path kube-apiserver takes for
//! `application/strategic-merge-patch+json`), with the merge keys and strategies taken from a
//! [`Shape`]. Error messages and the HTTP codes kube-apiserver answers them with are kept
//! ([`PatchError::code`]).

mod gofmt;
mod strategic;

use serde_json::Value;

pub use strategic::strategic_merge_patch;

/// Why a patch could not be applied. `Display` is Kubernetes' message for the same failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch body is not of the JSON type the patch kind needs (a JSON object for merge
    /// patches, an array for JSON patch).
    #[error("json: cannot unmarshal {found} into Go value of type {expected}")]
    WrongType {
        /// The JSON type found (`array`, `string`, `number`, `bool`, `object`).
        found: &'static str,
        /// The Go type Kubernetes decodes into.
        expected: &'static str,
    },
    /// A JSON patch operation is malformed.
    #[error("{0}")]
    InvalidJsonPatch(String),
    /// A JSON patch operation does not apply to the object.
    #[error("{0}")]
    JsonPatchFailed(String),
    /// An item of a keyed list has no value for the list's merge key.
    #[error("map: {item} does not contain declared merge key: {key}")]
    MissingMergeKey {
        /// The item, as Go prints a map (`map[image:nginx]`).
        item: String,
        /// The merge key (`name`).
        key: String,
    },
    /// A `$patch` directive other than `replace` or `delete` (or `merge` on a map).
    #[error("unknown patch type: {directive} in map: {item}")]
    UnknownDirective {
        /// The directive value.
        directive: String,
        /// The map holding it, as Go prints a map.
        item: String,
    },
    /// A `$deleteFromPrimitiveList`, `$setElementOrder` or `$retainKeys` directive is malformed
    /// (Kubernetes' `ErrBadPatchFormatFor*`).
    #[error("invalid patch format of {0}")]
    BadFormat(&'static str),
    /// A list holds lists.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// Anything else the merge rejects (mismatched element types, `$setElementOrder` that does
    /// not match the patch list, ...).
    #[error("{0}")]
    Invalid(String),
}

impl PatchError {
    /// The HTTP status kube-apiserver answers with: 400 for undecodable patches and malformed
    /// directives, 422 for JSON patch operations that do not apply and lists of lists, 500 for
    /// the merge errors it does not classify (a missing merge key, an unknown `$patch`).
    pub fn code(&self) -> u16 {
        match self {
            PatchError::WrongType { .. } | PatchError::InvalidJsonPatch(_) | PatchError::BadFormat(_) => 400,
            PatchError::JsonPatchFailed(_) | PatchError::ListOfLists => 422,
            PatchError::MissingMergeKey { .. } | PatchError::UnknownDirective { .. } | PatchError::Invalid(_) => 500,
        }
    }
}

pub(crate) fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Applies a JSON merge patch (RFC 7386): objects merge recursively, `null` deletes, anything
/// else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// Applies a JSON patch (RFC 6902). On error `target` is left unchanged.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    if !patch.is_array() {
        return Err(PatchError::WrongType { found: json_type_name(patch), expected: "jsonpatch.Patch" });
    }
    let ops: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| PatchError::InvalidJsonPatch(e.to_string()))?;
    let mut working = target.clone();
    json_patch::patch_unsafe(&mut working, &ops).map_err(|e| {
        let op = ops.0.get(e.operation);
        PatchError::JsonPatchFailed(json_patch_message(op, &e))
    })?;
    *target = working;
    Ok(())
}

/// The messages of evanphx/json-patch, which kube-apiserver uses.
fn json_patch_message(op: Option<&json_patch::PatchOperation>, e: &json_patch::PatchError) -> String {
    use json_patch::PatchOperation as Op;
    let path = e.path.to_string();
    match op {
        Some(Op::Add(_)) => format!("add operation does not apply: doc is missing path: \"{path}\": missing value"),
        Some(Op::Remove(_)) => format!("remove operation does not apply: doc is missing path: \"{path}\": missing value"),
        Some(Op::Replace(_)) => format!("replace operation does not apply: doc is missing key: {path}: missing value"),
        Some(Op::Move(m)) => format!("move operation does not apply: doc is missing from path: {}: missing value", m.from),
        Some(Op::Copy(c)) => format!("copy operation does not apply: doc is missing from path: {}: missing value", c.from),
        Some(Op::Test(_)) => format!("testing value {path} failed: test failed"),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_merges_and_deletes() {
        let mut doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 1, "ports": [1, 2]}});
        merge_patch(&mut doc, &json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"ports": [3]}}));
        assert_eq!(doc, json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"replicas": 1, "ports": [3]}}));
    }

    #[test]
    fn json_patch_applies_atomically() {
        let mut doc = json!({"spec": {"replicas": 1}, "metadata": {"labels": {"a": "1"}}});
        let ok =
            json!([{"op": "replace", "path": "/spec/replicas", "value": 3}, {"op": "add", "path": "/metadata/labels/b", "value": "2"}]);
        assert_eq!(json_patch(&mut doc, &ok), Ok(()));
        assert_eq!(doc, json!({"spec": {"replicas": 3}, "metadata": {"labels": {"a": "1", "b": "2"}}}));

        let before = doc.clone();
        let failing =
            json!([{"op": "add", "path": "/metadata/labels/c", "value": "3"}, {"op": "remove", "path": "/metadata/annotations/x"}]);
        let err = json_patch(&mut doc, &failing);
        assert_eq!(err.as_ref().map_err(PatchError::code), Err(422));
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("remove operation does not apply: doc is missing path: \"/metadata/annotations/x\": missing value".to_owned())
        );
        assert_eq!(doc, before);

        let test_op = json!([{"op": "test", "path": "/spec/replicas", "value": 9}]);
        assert_eq!(
            json_patch(&mut doc, &test_op).map_err(|e| e.to_string()),
            Err("testing value /spec/replicas failed: test failed".to_owned())
        );
    }

    #[test]
    fn json_patch_rejects_malformed_bodies() {
        let mut doc = json!({});
        let err = json_patch(&mut doc, &json!({"op": "add"}));
        assert_eq!(
            err.clone().map_err(|e| e.to_string()),
            Err("json: cannot unmarshal object into Go value of type jsonpatch.Patch".to_owned())
        );
        assert_eq!(err.map_err(|e| e.code()), Err(400));
        assert!(matches!(json_patch(&mut doc, &json!([{"op": "frobnicate", "path": "/a"}])), Err(PatchError::InvalidJsonPatch(_))));
    }
}
