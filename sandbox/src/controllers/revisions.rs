//! ControllerRevisions, as the DaemonSet and StatefulSet controllers keep them: one per pod
//! template (`<owner>-<hash>`), owned by the workload, labelled with the template's labels and
//! `controller-revision-hash`, holding the template as a replace patch, and numbered so that
//! the current template has the highest `revision`.

use serde_json::{json, Value};

use super::workloads::owned_by;
use super::{objects, rtype, MANAGER};
use crate::api::write::{commit, Ownership, WriteCtx};
use crate::store::State;

/// The revision data of a template: `{"spec":{"template":{…,"$patch":"replace"}}}`.
fn data(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(map) = template.as_object_mut() {
        map.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": template}})
}

/// Makes sure `owner` has the revision `name` for its current template, numbered above every
/// other revision it owns; `hash` is the value of its `controller-revision-hash` label.
pub fn record(state: &mut State, owner: &Value, name: &str, hash: &str) {
    let Some(rev_type) = rtype(state, "apps", "controllerrevisions") else { return };
    let ns = owner["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
    let all = objects(state, "apps", "controllerrevisions", Some(&ns));
    let owned: Vec<&Value> = owned_by(&all, owner).collect();
    let current = owned.iter().find(|r| r["metadata"]["name"].as_str() == Some(name));
    let highest_other =
        owned.iter().filter(|r| r["metadata"]["name"].as_str() != Some(name)).filter_map(|r| r["revision"].as_i64()).max().unwrap_or(0);
    let ctx = WriteCtx::controller("create", MANAGER, None);
    match current {
        Some(rev) if rev["revision"].as_i64().unwrap_or(0) > highest_other => {}
        Some(rev) => {
            // Back to an earlier template: its revision becomes the newest.
            let mut next = (*rev).clone();
            next["revision"] = json!(highest_other + 1);
            let ctx = WriteCtx::controller("update", MANAGER, None);
            let _ = commit(state, &rev_type, Some(*rev), next, &ctx, Ownership::Update);
        }
        None => {
            let template = &owner["spec"]["template"];
            let mut labels = template["metadata"]["labels"].clone();
            if !labels.is_object() {
                labels = json!({});
            }
            labels["controller-revision-hash"] = json!(hash);
            let rev = json!({
                "apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": [super::workloads::owner_ref(owner)]},
                "data": data(template),
                "revision": highest_other + 1
            });
            let _ = commit(state, &rev_type, None, rev, &ctx, Ownership::Update);
        }
    }
}
