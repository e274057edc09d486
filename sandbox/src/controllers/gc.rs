//! The garbage collector: dependents of deleted owners go (background propagation), owners
//! waiting in foreground deletion go once their dependents are gone, orphaning removes owner
//! references.

use serde_json::{json, Value};

use crate::api::write::{commit, delete_object, Ownership, Propagation, WriteCtx};
use crate::owners::owner_uids;
use crate::store::State;

/// Whether the owner a reference names exists (same uid), looked up by kind and name in the
/// dependent's namespace or, for cluster-scoped owners, cluster-wide.
fn owner_exists(state: &State, dependent: &Value, reference: &Value) -> bool {
    let (Some(api_version), Some(kind), Some(name), Some(uid)) =
        (reference["apiVersion"].as_str(), reference["kind"].as_str(), reference["name"].as_str(), reference["uid"].as_str())
    else {
        return false;
    };
    let Some(rtype) = state.registry.find_kind(api_version, kind) else { return false };
    let namespace = if rtype.namespaced { dependent["metadata"]["namespace"].as_str().unwrap_or_default() } else { "" };
    state.get(&rtype.key(), namespace, name).is_some_and(|owner| owner["metadata"]["uid"].as_str() == Some(uid))
}

/// One garbage-collection pass.
pub fn collect(state: &mut State) {
    let mut doomed = Vec::new();
    let mut waiting = Vec::new();
    for (key, ns, name) in &state.dependents {
        let Some(obj) = state.get(key, ns, name) else { continue };
        let refs = obj["metadata"]["ownerReferences"].as_array().map(Vec::as_slice).unwrap_or_default();
        if !refs.is_empty() && refs.iter().all(|r| !owner_exists(state, obj, r)) && obj["metadata"]["deletionTimestamp"].is_null() {
            doomed.push((key.clone(), obj.clone()));
        }
        let foreground = obj["metadata"]["finalizers"].as_array().is_some_and(|f| f.iter().any(|x| x == "foregroundDeletion"));
        if foreground && !obj["metadata"]["deletionTimestamp"].is_null() {
            waiting.push((key.clone(), obj.clone()));
        }
    }
    for (key, obj) in doomed {
        let Some(rtype) = state.registry.find_key(&key).cloned() else { continue };
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let _ = delete_object(state, &rtype, &ns, &name, Propagation::Background, false, true);
    }
    for (key, obj) in waiting {
        let uid = obj["metadata"]["uid"].as_str().unwrap_or_default().to_owned();
        let dependents: Vec<(crate::registry::TypeKey, Value)> = state
            .objects
            .iter()
            .flat_map(|(k, m)| m.values().map(move |o| (k.clone(), o)))
            .filter(|(_, o)| owner_uids(o).contains(&uid.as_str()))
            .map(|(k, o)| (k, o.clone()))
            .collect();
        if dependents.is_empty() {
            let Some(rtype) = state.registry.find_key(&key).cloned() else { continue };
            let mut next = obj.clone();
            let rest: Vec<Value> =
                obj["metadata"]["finalizers"].as_array().into_iter().flatten().filter(|f| *f != "foregroundDeletion").cloned().collect();
            next["metadata"]["finalizers"] = json!(rest);
            let ctx = WriteCtx::controller("update", "generic-garbage-collector", None);
            let _ = commit(state, &rtype, Some(&obj), next, &ctx, Ownership::Update);
        } else {
            for (dkey, dep) in dependents {
                let Some(rtype) = state.registry.find_key(&dkey).cloned() else { continue };
                let ns = dep["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
                let name = dep["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                let _ = delete_object(state, &rtype, &ns, &name, Propagation::Foreground, false, true);
            }
        }
    }
}
