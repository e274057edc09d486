//! TEMPORARY STUB.
use serde_json::Value;
pub trait DefaultsContext {
    fn allocate_cluster_ip(&mut self) -> String;
    fn default_storage_class(&self) -> Option<String>;
}
pub fn apply_defaults(_api_version: &str, _kind: &str, _obj: &mut Value, _ctx: &mut dyn DefaultsContext) {}
