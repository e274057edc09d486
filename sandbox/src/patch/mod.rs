//! TEMPORARY STUB.
use crate::shape::Shape;
use serde_json::Value;
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(String);
pub fn merge_patch(t: &mut Value, p: &Value) {
    json_patch::merge(t, p)
}
pub fn json_patch(t: &mut Value, p: &Value) -> Result<(), PatchError> {
    let p: json_patch::Patch = serde_json::from_value(p.clone()).map_err(|e| PatchError(e.to_string()))?;
    json_patch::patch(t, &p).map_err(|e| PatchError(e.to_string()))
}
pub fn strategic_merge_patch(t: &Value, p: &Value, _s: &dyn Shape) -> Result<Value, PatchError> {
    let mut t = t.clone();
    json_patch::merge(&mut t, p);
    Ok(t)
}
