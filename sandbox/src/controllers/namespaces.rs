//! Namespace finalization: a terminating namespace has its content deleted, then its
//! `kubernetes` finalizer removed, then it goes.

use serde_json::json;

use crate::api::write::{delete_object, Propagation};
use crate::store::State;

/// Whether a namespace is terminating (work that waits on the clock, not on a write).
pub fn terminating(state: &State) -> bool {
    state
        .list(&crate::registry::TypeKey { group: String::new(), plural: "namespaces".into() }, None)
        .any(|ns| !ns["metadata"]["deletionTimestamp"].is_null())
}

/// One pass over terminating namespaces.
pub fn finalize(state: &mut State) {
    let Some(ns_type) = super::rtype(state, "", "namespaces") else { return };
    for ns in super::objects(state, "", "namespaces", None) {
        if ns["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        // The namespace controller starts no sooner than the second after the delete, as a real
        // one takes its time: `Terminating` is seen, and clients deleting the namespace's
        // objects right after the namespace (`kubectl delete -f`) still find them.
        let since = ns["metadata"]["deletionTimestamp"].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok());
        if since.is_some_and(|t| jiff::Timestamp::now().as_second() < t.as_second() + 1) {
            continue;
        }
        let name = ns["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let types: Vec<_> = state.registry.types().iter().filter(|t| t.namespaced).cloned().collect();
        let mut remaining = 0usize;
        let mut seen = std::collections::HashSet::new();
        for t in types {
            if !seen.insert(t.key()) {
                continue;
            }
            let names: Vec<String> =
                state.list(&t.key(), Some(&name)).filter_map(|o| o["metadata"]["name"].as_str().map(str::to_owned)).collect();
            for obj_name in names {
                remaining += 1;
                let _ = delete_object(state, &t, &name, &obj_name, Propagation::Background, false, true);
            }
        }
        if remaining > 0 {
            let mut next = ns.clone();
            next["status"]["conditions"] = json!([{"type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain", "message": format!("Some resources are remaining: {remaining} objects")}]);
            if next != ns {
                state.put(&ns_type, "status", true, next);
            }
            continue;
        }
        // Empty: drop the `kubernetes` finalizer and the namespace with it.
        let _ = state.remove(&ns_type, true, "", &name);
    }
}
