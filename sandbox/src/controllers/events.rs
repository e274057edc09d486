//! Events (`v1/Event`) about objects, as controllers and the kubelet record them.

use serde_json::{json, Value};

use crate::api::write::{commit, Ownership, WriteCtx};
use crate::store::{self, State};

/// Records an event about `involved` (`Normal` or `Warning`), once per object and reason.
pub fn record(state: &mut State, involved: &Value, kind: &str, reason: &str, message: &str, component: &str) {
    write(state, involved, kind, reason, message, component, false);
}

/// Records an event about `involved` once per object, reason and message: for controllers whose
/// messages say what changed (`New size: 2; …`), where each change is news.
pub fn record_each(state: &mut State, involved: &Value, kind: &str, reason: &str, message: &str, component: &str) {
    write(state, involved, kind, reason, message, component, true);
}

fn write(state: &mut State, involved: &Value, kind: &str, reason: &str, message: &str, component: &str, by_message: bool) {
    let Some(rtype) = super::rtype(state, "", "events") else { return };
    let namespace = involved["metadata"]["namespace"].as_str().unwrap_or("default").to_owned();
    let uid = involved["metadata"]["uid"].as_str().unwrap_or_default();
    let exists = state.list(&rtype.key(), Some(&namespace)).any(|e| {
        e["involvedObject"]["uid"].as_str() == Some(uid)
            && e["reason"].as_str() == Some(reason)
            && (!by_message || e["message"].as_str() == Some(message))
    });
    if exists {
        return;
    }
    let name = format!("{}.{:x}", involved["metadata"]["name"].as_str().unwrap_or("object"), state.resource_version + 1);
    let now = store::now();
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": {
            "apiVersion": involved["apiVersion"], "kind": involved["kind"], "name": involved["metadata"]["name"],
            "namespace": namespace, "uid": uid, "resourceVersion": involved["metadata"]["resourceVersion"]
        },
        "reason": reason,
        "message": message,
        "type": kind,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "sandbox",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1
    });
    let ctx = WriteCtx::controller("create", component, None);
    let _ = commit(state, &rtype, None, event, &ctx, Ownership::Update);
}
