//! One plan from the providers' plans, joined by key (never by position).

use super::types::{Action, Plan};
use crate::model::ObjectKey;

/// Merges the providers' plans, given lowest tier first (the Ceph pools, then Kubernetes):
/// every step that is not a delete, in tier order, then the deletes in reverse tier order, each
/// tier's deletes `after` every delete of the tiers above it (a storage class goes before the
/// pool it names). Creates and updates keep their `after` keys, which may name another
/// provider's steps (a storage class waits for its pool). Refusals are joined in tier order.
pub fn merge(stack: &str, parts: Vec<Plan>) -> Plan {
    let mut merged = Plan { stack: stack.to_string(), ..Plan::default() };
    let mut deletes_by_tier = Vec::with_capacity(parts.len());
    for part in parts {
        let (deletes, rest): (Vec<_>, Vec<_>) = part.steps.into_iter().partition(|s| s.action == Action::Delete);
        merged.steps.extend(rest);
        merged.refusals.extend(part.refusals);
        deletes_by_tier.push(deletes);
    }
    let mut above: Vec<ObjectKey> = Vec::new();
    for deletes in deletes_by_tier.into_iter().rev() {
        let keys: Vec<ObjectKey> = deletes.iter().map(|s| s.key.clone()).collect();
        for mut s in deletes {
            s.after.extend(above.iter().cloned());
            merged.steps.push(s);
        }
        above.extend(keys);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Step;

    fn key(kind: &str, name: &str) -> ObjectKey {
        ObjectKey { api_version: "v1".into(), kind: kind.into(), namespace: None, name: name.into() }
    }

    fn step(kind: &str, name: &str, action: Action, after: &[ObjectKey]) -> Step {
        Step { action, after: after.to_vec(), ..Step::create(key(kind, name), format!("{kind}.{name}")) }
    }

    #[test]
    fn lower_tiers_create_first_and_delete_last() {
        let pools = Plan {
            stack: "s".into(),
            steps: vec![step("CephPool", "fast", Action::Create, &[]), step("CephPool", "old", Action::Delete, &[])],
            refusals: vec![],
        };
        let kube = Plan {
            stack: "s".into(),
            steps: vec![
                step("StorageClass", "fast", Action::Create, &[key("CephPool", "fast")]),
                step("StorageClass", "old", Action::Delete, &[]),
                step("PersistentVolumeClaim", "old", Action::Delete, &[]),
            ],
            refusals: vec![],
        };
        let p = merge("s", vec![pools, kube]);
        let ids: Vec<String> = p.steps.iter().map(|s| s.key.id()).collect();
        assert_eq!(ids, ["CephPool/fast", "StorageClass/fast", "StorageClass/old", "PersistentVolumeClaim/old", "CephPool/old"]);
        assert_eq!(p.steps[1].after, [key("CephPool", "fast")]);
        assert_eq!(p.steps[4].after, [key("StorageClass", "old"), key("PersistentVolumeClaim", "old")]);
        assert!(p.steps[2].after.is_empty());
    }
}
