//! `metadata.managedFields` entries: reading, writing and the apiserver's ordering.

use serde_json::{Map, Value};

use super::set::FieldSet;
use super::FieldsError;

/// The operation that produced a managed-fields entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update or a non-apply patch.
    Update,
}

impl Operation {
    /// `"Apply"` or `"Update"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One entry of `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedFieldsEntry {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    /// RFC 3339 time of the manager's last change.
    pub time: Option<String>,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl ManagedFieldsEntry {
    /// The apiserver's manager identifier: one entry per identifier. Apply entries leave the
    /// API version out; Update entries keep it.
    pub fn identifier(&self) -> String {
        identifier(&self.manager, self.operation, &self.api_version, self.subresource.as_deref())
    }

    pub(crate) fn is(&self, manager: &str, operation: Operation, api_version: &str, subresource: Option<&str>) -> bool {
        self.identifier() == identifier(manager, operation, api_version, subresource)
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), Value::String(self.manager.clone()));
        m.insert("operation".into(), Value::String(self.operation.as_str().into()));
        m.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        if let Some(time) = &self.time {
            m.insert("time".into(), Value::String(time.clone()));
        }
        m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
        m.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if let Some(sub) = &self.subresource {
            m.insert("subresource".into(), Value::String(sub.clone()));
        }
        Value::Object(m)
    }
}

/// JSON of the identifying fields, in `ManagedFieldsEntry` field order (Go `omitempty`).
pub(crate) fn identifier(manager: &str, operation: Operation, api_version: &str, subresource: Option<&str>) -> String {
    let mut m = Map::new();
    if !manager.is_empty() {
        m.insert("manager".into(), Value::String(manager.into()));
    }
    m.insert("operation".into(), Value::String(operation.as_str().into()));
    if operation == Operation::Update && !api_version.is_empty() {
        m.insert("apiVersion".into(), Value::String(api_version.into()));
    }
    if let Some(sub) = subresource.filter(|s| !s.is_empty()) {
        m.insert("subresource".into(), Value::String(sub.into()));
    }
    Value::Object(m).to_string()
}

/// Reads `metadata.managedFields` (absent or null: no entries).
pub fn read_managed(obj: &Value) -> Result<Vec<ManagedFieldsEntry>, FieldsError> {
    match obj.get("metadata").and_then(|m| m.get("managedFields")) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().enumerate().map(|(i, item)| read_entry(i, item)).collect(),
        Some(_) => Err(FieldsError::BadEntry { index: 0, reason: "metadata.managedFields must be a list".into() }),
    }
}

fn read_entry(index: usize, item: &Value) -> Result<ManagedFieldsEntry, FieldsError> {
    let bad = |reason: String| FieldsError::BadEntry { index, reason };
    let Value::Object(m) = item else { return Err(bad("expected an object".into())) };
    let string = |key: &str| -> Result<Option<String>, FieldsError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(format!("{key} must be a string"))),
        }
    };
    let operation = match string("operation")?.as_deref() {
        Some("Apply") => Operation::Apply,
        Some("Update") | Some("") | None => Operation::Update,
        Some(other) => return Err(bad(format!("operation must be `Apply` or `Update`, not {other:?}"))),
    };
    match string("fieldsType")?.as_deref() {
        Some("FieldsV1") | Some("") | None => {}
        Some(other) => return Err(bad(format!("fieldsType must be `FieldsV1`, not {other:?}"))),
    }
    let fields = match m.get("fieldsV1") {
        None | Some(Value::Null) => FieldSet::new(),
        Some(v) => FieldSet::from_fields_v1(v)?,
    };
    Ok(ManagedFieldsEntry {
        manager: string("manager")?.unwrap_or_default(),
        operation,
        api_version: string("apiVersion")?.unwrap_or_default(),
        time: string("time")?,
        subresource: string("subresource")?.filter(|s| !s.is_empty()),
        fields,
    })
}

/// Writes `metadata.managedFields` from `entries` in the given order, leaving out entries with
/// empty sets; removes the field when none remain.
pub fn write_managed(obj: &mut Value, entries: &[ManagedFieldsEntry]) {
    let items: Vec<Value> = entries.iter().filter(|e| !e.fields.is_empty()).map(ManagedFieldsEntry::to_json).collect();
    let Some(root) = obj.as_object_mut() else { return };
    if items.is_empty() {
        if let Some(Value::Object(meta)) = root.get_mut("metadata") {
            meta.shift_remove("managedFields");
        }
        return;
    }
    let meta = root.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Value::Object(meta) = meta {
        meta.insert("managedFields".into(), Value::Array(items));
    }
}

/// Sorts entries as the apiserver encodes them: Apply before Update, then by time (whole
/// seconds, none first), manager, API version and subresource.
pub fn sort_managed(entries: &mut [ManagedFieldsEntry]) {
    entries.sort_by(|p, q| {
        p.operation
            .as_str()
            .cmp(q.operation.as_str())
            .then_with(|| seconds(p.time.as_deref()).cmp(&seconds(q.time.as_deref())))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.as_deref().unwrap_or("").cmp(q.subresource.as_deref().unwrap_or("")))
    });
}

fn seconds(time: Option<&str>) -> i64 {
    time.and_then(|t| t.parse::<jiff::Timestamp>().ok()).map_or(0, |t| t.as_second())
}

/// Whether a client's `managedFields` asks for a reset: `[]` or `[{}]`.
pub(crate) fn is_reset(obj: &Value) -> bool {
    match obj.get("metadata").and_then(|m| m.get("managedFields")) {
        Some(Value::Array(items)) => match items.as_slice() {
            [] => true,
            [Value::Object(m)] => m.is_empty(),
            _ => false,
        },
        _ => false,
    }
}

/// `obj` without `metadata.managedFields`.
pub(crate) fn without_managed(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(Value::Object(meta)) = out.get_mut("metadata") {
        meta.shift_remove("managedFields");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What `kubectl apply --server-side` leaves on a Deployment.
    fn kubectl_deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "managedFields": [
                    {
                        "manager": "kubectl",
                        "operation": "Apply",
                        "apiVersion": "apps/v1",
                        "time": "2025-01-02T03:04:05Z",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {
                            "f:metadata": {"f:labels": {"f:app": {}}},
                            "f:spec": {
                                "f:replicas": {},
                                "f:selector": {},
                                "f:template": {
                                    "f:metadata": {"f:labels": {"f:app": {}}},
                                    "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                                        ".": {},
                                        "f:image": {},
                                        "f:name": {},
                                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
                                    }}}
                                }
                            }
                        }
                    },
                    {
                        "manager": "kube-controller-manager",
                        "operation": "Update",
                        "apiVersion": "apps/v1",
                        "time": "2025-01-02T03:04:06Z",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:deployment.kubernetes.io/revision": {}}}},
                        "subresource": "status"
                    }
                ]
            }
        })
    }

    #[test]
    fn managed_fields_round_trip_byte_for_byte() {
        let obj = kubectl_deployment();
        let entries = read_managed(&obj).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].operation, Operation::Apply);
        assert_eq!(entries[1].subresource.as_deref(), Some("status"));
        assert!(entries[0]
            .fields
            .paths()
            .contains(&".spec.template.spec.containers[name=\"web\"].ports[containerPort=80,protocol=\"TCP\"]".to_owned()));
        let mut out = obj.clone();
        write_managed(&mut out, &entries);
        assert_eq!(serde_json::to_string(&out).unwrap(), serde_json::to_string(&obj).unwrap());
    }

    #[test]
    fn empty_entries_are_dropped_and_the_field_removed_when_none_remain() {
        let mut obj = kubectl_deployment();
        let mut entries = read_managed(&obj).unwrap();
        entries[1].fields = FieldSet::new();
        write_managed(&mut obj, &entries);
        assert_eq!(read_managed(&obj).unwrap().len(), 1);
        entries[0].fields = FieldSet::new();
        write_managed(&mut obj, &entries);
        assert!(obj["metadata"].get("managedFields").is_none());
        assert_eq!(obj["metadata"]["name"], "web");
    }

    #[test]
    fn malformed_managed_fields_are_errors_not_panics() {
        let cases = [
            json!({"metadata": {"managedFields": {"manager": "x"}}}),
            json!({"metadata": {"managedFields": ["x"]}}),
            json!({"metadata": {"managedFields": [{"manager": "x", "operation": "Replace"}]}}),
            json!({"metadata": {"managedFields": [{"manager": "x", "fieldsType": "FieldsV2"}]}}),
            json!({"metadata": {"managedFields": [{"manager": 3}]}}),
            json!({"metadata": {"managedFields": [{"manager": "x", "fieldsV1": {"f:spec": {"q:x": {}}}}]}}),
            json!({"metadata": {"managedFields": [{"manager": "x", "fieldsV1": {"k:{\"a\":": {}}}]}}),
        ];
        for c in cases {
            assert!(read_managed(&c).is_err(), "{c} should be rejected");
        }
    }

    #[test]
    fn identifiers_leave_the_version_out_of_apply_entries() {
        assert_eq!(identifier("a", Operation::Apply, "v1", None), r#"{"manager":"a","operation":"Apply"}"#);
        assert_eq!(
            identifier("a", Operation::Update, "apps/v1", Some("status")),
            r#"{"manager":"a","operation":"Update","apiVersion":"apps/v1","subresource":"status"}"#
        );
    }

    #[test]
    fn entries_sort_apply_first_then_by_time_then_name() {
        let e = |m: &str, op, t: Option<&str>| ManagedFieldsEntry {
            manager: m.into(),
            operation: op,
            api_version: "v1".into(),
            time: t.map(str::to_owned),
            subresource: None,
            fields: FieldSet::new(),
        };
        let mut entries = vec![
            e("z", Operation::Update, Some("2025-01-01T00:00:00Z")),
            e("b", Operation::Apply, Some("2025-01-01T00:00:09Z")),
            e("a", Operation::Update, Some("2025-01-01T00:00:00Z")),
            e("c", Operation::Apply, Some("2025-01-01T00:00:01Z")),
            e("y", Operation::Update, None),
        ];
        sort_managed(&mut entries);
        let names: Vec<&str> = entries.iter().map(|e| e.manager.as_str()).collect();
        assert_eq!(names, ["c", "b", "y", "a", "z"]);
    }

    #[test]
    fn reset_requests_are_recognised() {
        assert!(is_reset(&json!({"metadata": {"managedFields": []}})));
        assert!(is_reset(&json!({"metadata": {"managedFields": [{}]}})));
        assert!(!is_reset(&json!({"metadata": {}})));
        assert!(!is_reset(&json!({"metadata": {"managedFields": [{"manager": "a"}]}})));
    }
}
