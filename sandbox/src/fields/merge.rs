//! Merging an applied config into a live object, and removing fields no one applies any more.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::set::{FieldSet, PathElement};
use super::walk::Walker;
use crate::shape::ListType;

impl Walker<'_> {
    /// Merges `rhs` (an applied config, nulls removed) over `lhs`: maps key by key (atomic maps
    /// replaced), list-maps by key and sets by value in structured-merge-diff's order, atomic
    /// lists and scalars replaced. Errors name list items an applied config cannot hold.
    pub(crate) fn merge(&mut self, lhs: Option<&Value>, rhs: &Value) -> Result<Value, String> {
        self.merge_value(lhs, rhs, false)
    }

    fn merge_value(&mut self, lhs: Option<&Value>, rhs: &Value, item: bool) -> Result<Value, String> {
        let lhs = lhs.filter(|v| !v.is_null());
        match rhs {
            Value::Object(r) => {
                if !item && self.map_is_atomic() {
                    return Ok(rhs.clone());
                }
                let mut out = match lhs {
                    Some(Value::Object(l)) => l.clone(),
                    _ => Map::new(),
                };
                for (name, rv) in r {
                    if rv.is_null() {
                        continue;
                    }
                    self.push_field(name);
                    let merged = self.merge_value(out.get(name), rv, false);
                    self.pop_field();
                    out.insert(name.clone(), merged?);
                }
                Ok(Value::Object(out))
            }
            Value::Array(r) => {
                let list = self.list_type();
                if list == ListType::Atomic {
                    return Ok(rhs.clone());
                }
                let l = match lhs {
                    Some(Value::Array(l)) => l.as_slice(),
                    _ => &[],
                };
                self.merge_list(l, r, &list).map(Value::Array)
            }
            _ => Ok(rhs.clone()),
        }
    }

    /// structured-merge-diff's list merge: shared items in the applied order, live-only items
    /// where they were, applied-only items where the applied list puts them.
    fn merge_list(&mut self, l: &[Value], r: &[Value], list: &ListType) -> Result<Vec<Value>, String> {
        let mut rhs_order: Vec<String> = Vec::with_capacity(r.len());
        let mut rhs_items: HashMap<String, &Value> = HashMap::with_capacity(r.len());
        for (i, item) in r.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            let Some(key) = self.item_key(item, list, i, true)? else { continue };
            if rhs_items.insert(key.clone(), item).is_some() {
                let shown = PathElement::decode(&key).map_or_else(|_| key.clone(), |pe| pe.to_string());
                return Err(format!("{}: duplicate entries for key {shown}", self.location()));
            }
            rhs_order.push(key);
        }
        // Live items: unkeyable ones and repeated keys are kept in place, never matched.
        let mut lhs_order: Vec<(Option<String>, &Value)> = Vec::with_capacity(l.len());
        let mut lhs_items: HashMap<String, &Value> = HashMap::with_capacity(l.len());
        for (i, item) in l.iter().enumerate() {
            let key = self.item_key(item, list, i, false).ok().flatten().filter(|k| !lhs_items.contains_key(k));
            if let Some(k) = &key {
                lhs_items.insert(k.clone(), item);
            }
            lhs_order.push((key, item));
        }
        let mut shared = rhs_order.iter().filter(|k| lhs_items.contains_key(*k));
        let mut next_shared = shared.next();

        let mut out = Vec::with_capacity(l.len().max(r.len()));
        let (mut li, mut ri) = (0, 0);
        while li < lhs_order.len() || ri < rhs_order.len() {
            if li < lhs_order.len() && ri < rhs_order.len() {
                let (lk, litem) = &lhs_order[li];
                let rk = &rhs_order[ri];
                if lk.as_ref() == Some(rk) {
                    out.push(self.merge_item(Some(litem), rhs_items[rk], rk, list)?);
                    li += 1;
                    ri += 1;
                    next_shared = shared.next();
                    continue;
                }
                if let Some(lk) = lk {
                    if rhs_items.contains_key(lk) && next_shared.is_some_and(|n| n != lk) {
                        // A shared item, but not the next one in applied order.
                        li += 1;
                        continue;
                    }
                }
            }
            if li < lhs_order.len() {
                let (lk, litem) = &lhs_order[li];
                if !lk.as_ref().is_some_and(|k| rhs_items.contains_key(k)) {
                    out.push((*litem).clone());
                    li += 1;
                    continue;
                }
            }
            if ri < rhs_order.len() {
                let rk = &rhs_order[ri];
                out.push(self.merge_item(lhs_items.get(rk).copied(), rhs_items[rk], rk, list)?);
                ri += 1;
                if next_shared == Some(rk) {
                    next_shared = shared.next();
                }
                continue;
            }
            // Only already-merged shared items remain on the live side.
            li += 1;
        }
        Ok(out)
    }

    fn merge_item(&mut self, lhs: Option<&Value>, rhs: &Value, key: &str, list: &ListType) -> Result<Value, String> {
        let ListType::Map(keys) = list else { return Ok(rhs.clone()) };
        self.set_path.push(key.to_owned());
        let merged = self.merge_value(lhs, rhs, true);
        self.set_path.pop();
        let mut merged = merged?;
        if let Value::Object(fields) = &mut merged {
            // Write the defaulted key field the applied item left out.
            if keys.iter().any(|k| k == "protocol") && fields.get("protocol").is_none_or(Value::is_null) {
                fields.insert("protocol".to_owned(), Value::String("TCP".to_owned()));
            }
        }
        Ok(merged)
    }

    /// Removes from `v` every member of `remove` (a member goes with everything below it).
    /// A map or list emptied by the removal goes too unless `owned` holds it as a member.
    pub(crate) fn remove(&mut self, v: &mut Value, remove: &FieldSet, owned: Option<&FieldSet>) {
        match v {
            Value::Object(fields) => {
                let names: Vec<String> = fields.keys().cloned().collect();
                for name in names {
                    let key = format!("f:{name}");
                    if remove.has_member(&key) {
                        fields.shift_remove(&name);
                        continue;
                    }
                    let Some(below) = remove.child(&key).filter(|s| !s.is_empty()) else { continue };
                    let Some(child) = fields.get_mut(&name) else { continue };
                    let was_empty = is_empty_container(child);
                    self.push_field(&name);
                    self.remove(child, below, owned.and_then(|o| o.child(&key)));
                    self.pop_field();
                    if !was_empty && is_empty_container(child) && !owned.is_some_and(|o| o.has_member(&key)) {
                        fields.shift_remove(&name);
                    }
                }
            }
            Value::Array(items) => {
                let list = self.list_type();
                if list == ListType::Atomic {
                    return;
                }
                let mut kept = Vec::with_capacity(items.len());
                for (i, mut item) in std::mem::take(items).into_iter().enumerate() {
                    if let Ok(Some(key)) = self.item_key(&item, &list, i, false) {
                        if remove.has_member(&key) {
                            continue;
                        }
                        if let Some(below) = remove.child(&key).filter(|s| !s.is_empty()) {
                            self.set_path.push(key.clone());
                            self.remove(&mut item, below, owned.and_then(|o| o.child(&key)));
                            self.set_path.pop();
                        }
                    }
                    kept.push(item);
                }
                *items = kept;
            }
            _ => {}
        }
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::BuiltinShape;
    use serde_json::json;

    fn merge(lhs: &Value, rhs: &Value) -> Value {
        Walker::new(&BuiltinShape).merge(Some(lhs), rhs).unwrap()
    }

    fn names(v: &Value) -> Vec<&str> {
        v["spec"]["containers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect()
    }

    #[test]
    fn maps_merge_and_atomic_maps_are_replaced() {
        let live = json!({"spec": {"selector": {"a": "1", "b": "2"}, "nodeSelector": {"a": "1"}, "replicas": 1}});
        let applied = json!({"spec": {"selector": {"c": "3"}, "nodeSelector": {"b": "2"}}});
        let out = merge(&live, &applied);
        assert_eq!(out, json!({"spec": {"selector": {"c": "3"}, "nodeSelector": {"a": "1", "b": "2"}, "replicas": 1}}));
    }

    #[test]
    fn list_maps_merge_by_key_keeping_live_only_items_in_place() {
        let live = json!({"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}, {"name": "c", "image": "1"}]}});
        let applied = json!({"spec": {"containers": [{"name": "c", "image": "2"}, {"name": "x"}, {"name": "a"}]}});
        let out = merge(&live, &applied);
        assert_eq!(names(&out), ["b", "c", "x", "a"]);
        assert_eq!(out["spec"]["containers"][1]["image"], "2");
        assert_eq!(out["spec"]["containers"][3]["image"], "1");
    }

    #[test]
    fn new_items_are_appended_in_applied_order() {
        let live = json!({"spec": {"containers": [{"name": "a"}]}});
        let out = merge(&live, &json!({"spec": {"containers": [{"name": "a"}, {"name": "z"}, {"name": "y"}]}}));
        assert_eq!(names(&out), ["a", "z", "y"]);
    }

    #[test]
    fn missing_protocol_matches_tcp_and_is_written() {
        let live = json!({"spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}, {"port": 53, "protocol": "UDP"}]}});
        let applied = json!({"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443}]}});
        let out = merge(&live, &applied);
        assert_eq!(
            out["spec"]["ports"],
            json!([
                {"port": 80, "protocol": "TCP", "targetPort": 8080, "name": "http"},
                {"port": 53, "protocol": "UDP"},
                {"port": 443, "protocol": "TCP"}
            ])
        );
    }

    #[test]
    fn sets_union_and_atomic_lists_replace() {
        let live = json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"args": ["1", "2"]}});
        let out = merge(&live, &json!({"metadata": {"finalizers": ["c", "a"]}, "spec": {"args": ["3"]}}));
        // Applied-only items go where the applied list puts them relative to shared ones.
        assert_eq!(out, json!({"metadata": {"finalizers": ["c", "a", "b"]}, "spec": {"args": ["3"]}}));
    }

    #[test]
    fn duplicate_applied_keys_are_errors() {
        let err = Walker::new(&BuiltinShape).merge(None, &json!({"spec": {"containers": [{"name": "a"}, {"name": "a"}]}})).unwrap_err();
        assert_eq!(err, ".spec.containers: duplicate entries for key [name=\"a\"]");
    }

    #[test]
    fn removal_drops_members_and_emptied_unowned_maps() {
        let mut v = json!({"metadata": {"labels": {"a": "1"}, "annotations": {"b": "2"}}, "spec": {"containers": [{"name": "x", "image": "i"}, {"name": "y"}]}});
        let remove = FieldSet::from_fields_v1(&json!({
            "f:metadata": {"f:labels": {"f:a": {}}, "f:annotations": {"f:b": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"x\"}": {}, "k:{\"name\":\"y\"}": {"f:name": {}}}}
        }))
        .unwrap();
        let owned = FieldSet::from_fields_v1(&json!({"f:metadata": {"f:annotations": {}}})).unwrap();
        Walker::new(&BuiltinShape).remove(&mut v, &remove, Some(&owned));
        assert_eq!(v, json!({"metadata": {"annotations": {}}, "spec": {"containers": [{}]}}));
    }
}
