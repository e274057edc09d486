//! TEMPORARY STUB.
use serde_json::Value;
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: String,
    pub detail: String,
}
impl FieldError {
    pub fn required(field: &str, detail: &str) -> FieldError {
        FieldError { field: field.into(), detail: detail.into() }
    }
    pub fn reason(&self) -> &'static str {
        "FieldValueRequired"
    }
}
impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: Required value: {}", self.field, self.detail)
    }
}
pub fn invalid_message(kind: &str, _group: &str, name: &str, errors: &[FieldError]) -> String {
    format!("{kind} \"{name}\" is invalid: {}", errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", "))
}
pub fn validate_name(_kind: &str, _name: &str) -> Vec<FieldError> {
    Vec::new()
}
pub fn validate_create(_a: &str, _k: &str, _o: &Value) -> Vec<FieldError> {
    Vec::new()
}
pub fn validate_update(_a: &str, _k: &str, _o: &Value, _n: &Value) -> Vec<FieldError> {
    Vec::new()
}
