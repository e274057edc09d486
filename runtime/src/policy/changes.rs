//! The plan-phase input's `changes` (DESIGN.md §4): one entry per step that changes something.

use cairn_stdlib::policy::Change;
use serde_json::{json, Map, Value as Json};

use crate::model::Desired;
use crate::plan::{Action, Plan};

/// The plan's changes as policies see them: a create's `after` is the declared object, a
/// delete's `before` names the live object (`apiVersion`, `kind`, `metadata`), and an update's
/// or replace's `before`/`after` map each changed field's path to its live and declared value.
/// Sensitive values are `"(sensitive)"`, as everywhere in the input.
pub fn of_plan(plan: &Plan, desired: &Desired) -> Vec<Change> {
    let by_key = desired.by_key();
    plan.changes()
        .map(|step| {
            let declared = by_key.get(&step.key).filter(|_| step.declared);
            let (before, after) = match step.action {
                Action::Create => (None, declared.map(|o| o.redacted())),
                Action::Delete => {
                    let mut meta = Map::new();
                    meta.insert("name".into(), json!(step.key.name));
                    if let Some(ns) = &step.key.namespace {
                        meta.insert("namespace".into(), json!(ns));
                    }
                    (Some(json!({ "apiVersion": step.key.api_version, "kind": step.key.kind, "metadata": meta })), None)
                }
                Action::Update | Action::Replace | Action::Noop => {
                    let mut before = Map::new();
                    let mut after = Map::new();
                    for c in &step.changes {
                        before.insert(c.path.clone(), c.before.clone().unwrap_or(Json::Null));
                        after.insert(c.path.clone(), c.after.clone().unwrap_or(Json::Null));
                    }
                    (Some(Json::Object(before)), Some(Json::Object(after)))
                }
            };
            Change {
                address: step.address.clone().unwrap_or_else(|| step.key.id()),
                action: step.action.as_str().to_string(),
                before,
                after,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DesiredObject, ObjectKey};
    use crate::plan::{FieldChange, FieldOp, Step};

    fn key(kind: &str, name: &str) -> ObjectKey {
        ObjectKey { api_version: "v1".into(), kind: kind.into(), namespace: Some("shop".into()), name: name.into() }
    }

    fn step(key: ObjectKey, action: Action, declared: bool, changes: Vec<FieldChange>) -> Step {
        Step { address: None, action, changes, declared, ..Step::create(key, String::new()) }
    }

    #[test]
    fn creates_deletes_and_updates_become_changes_without_secret_values() {
        let secret = DesiredObject {
            key: key("Secret", "db"),
            address: "secret.db".into(),
            body: json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "hunter2"}}),
            sensitive: vec!["/stringData/password".into()],
            protect: false,
            wait: false,
            deps: vec![],
        };
        let desired = Desired { stack: "shop".into(), objects: vec![secret], existing: vec![] };
        let change = FieldChange {
            path: "data.mode".into(),
            op: FieldOp::Set,
            before: Some(json!("a")),
            after: Some(json!("b")),
            sensitive: false,
            managers: vec![],
        };
        let plan = Plan {
            stack: "shop".into(),
            steps: vec![
                step(key("Secret", "db"), Action::Create, true, vec![]),
                step(key("ConfigMap", "app"), Action::Update, false, vec![change]),
                step(key("ConfigMap", "old"), Action::Delete, false, vec![]),
                step(key("ConfigMap", "same"), Action::Noop, false, vec![]),
            ],
            refusals: vec![],
        };
        let changes = of_plan(&plan, &desired);
        let text = serde_json::to_string(&changes).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(changes.len(), 3, "no-ops are not changes");
        assert_eq!(changes[0].action, "create");
        assert_eq!(changes[0].after.as_ref().unwrap()["stringData"]["password"], "(sensitive)");
        assert_eq!(
            (changes[1].before.clone().unwrap(), changes[1].after.clone().unwrap()),
            (json!({"data.mode": "a"}), json!({"data.mode": "b"}))
        );
        assert_eq!(changes[2].address, "ConfigMap/shop/old");
        assert_eq!(changes[2].before.as_ref().unwrap()["metadata"], json!({"name": "old", "namespace": "shop"}));
        assert!(changes[2].after.is_none());
    }
}
