//! Owner references: who owns an object and whether an object has dependents. Shared by the
//! delete path (`api::write`: orphan and foreground propagation) and the garbage collector.

use serde_json::Value;

use crate::store::State;

/// The uids an object's `ownerReferences` name.
pub(crate) fn owner_uids(obj: &Value) -> Vec<&str> {
    obj["metadata"]["ownerReferences"].as_array().into_iter().flatten().filter_map(|r| r["uid"].as_str()).collect()
}

/// Whether any object names `uid` as an owner.
pub(crate) fn has_dependents(state: &State, uid: &str) -> bool {
    state.objects.values().flat_map(|m| m.values()).any(|o| owner_uids(o).contains(&uid))
}
