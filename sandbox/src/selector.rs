//! TEMPORARY STUB.
use serde_json::{Map, Value};
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(String);
pub struct LabelSelector(Vec<(String, String)>);
impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, SelectorError> {
        s.split(',')
            .map(|p| {
                p.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).ok_or_else(|| SelectorError(format!("bad {p}")))
            })
            .collect::<Result<_, _>>()
            .map(LabelSelector)
    }
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        self.0.iter().all(|(k, v)| labels.get(k).and_then(Value::as_str) == Some(v))
    }
}
pub struct FieldSelector(Vec<(String, String)>);
impl FieldSelector {
    pub fn parse(s: &str) -> Result<FieldSelector, SelectorError> {
        s.split(',')
            .map(|p| {
                p.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).ok_or_else(|| SelectorError(format!("bad {p}")))
            })
            .collect::<Result<_, _>>()
            .map(FieldSelector)
    }
    pub fn matches(&self, obj: &Value, _supported: &[&str]) -> Result<bool, SelectorError> {
        Ok(self.0.iter().all(|(k, v)| k.split('.').fold(obj, |o, f| &o[f]).as_str().unwrap_or("") == v))
    }
}
pub fn supported_field_selectors(_g: &str, _k: &str) -> &'static [&'static str] {
    &["metadata.name", "metadata.namespace"]
}
