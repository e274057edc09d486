//! TEMPORARY STUB (replaced by the real module).
use crate::shape::Shape;
use serde_json::Value;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Main,
    Status,
}
pub struct ApplyRequest<'a> {
    pub live: Option<&'a Value>,
    pub applied: &'a Value,
    pub manager: &'a str,
    pub force: bool,
    pub shape: &'a dyn Shape,
    pub scope: Scope,
    pub now: &'a str,
    pub api_version: &'a str,
    pub subresource: Option<&'a str>,
}
pub struct Applied {
    pub object: Value,
    pub changed: bool,
}
#[derive(Debug, Clone)]
pub struct Conflict {
    pub manager: String,
    pub api_version: String,
    pub path: String,
}
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("Apply failed with {} conflicts", .0.len())]
    Conflicts(Vec<Conflict>),
    #[error("{0}")]
    Invalid(String),
}
pub fn apply(req: ApplyRequest) -> Result<Applied, ApplyError> {
    let mut obj = req.live.cloned().unwrap_or(Value::Null);
    json_patch::merge(&mut obj, req.applied);
    Ok(Applied { changed: Some(&obj) != req.live, object: obj })
}
#[allow(clippy::too_many_arguments)]
pub fn record_update(
    _old: Option<&Value>,
    _new: &mut Value,
    _manager: &str,
    _api_version: &str,
    _sub: Option<&str>,
    _shape: &dyn Shape,
    _scope: Scope,
    _now: &str,
) {
}
