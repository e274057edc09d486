//! Walking objects by their shape: the fields a config owns, and what changed between two
//! versions of an object.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::set::{FieldSet, PathElement};
use crate::shape::{ListType, Shape};

/// Which part of an object a request manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The main resource: everything but top-level `status`.
    Main,
    /// The `status` subresource: only `status`.
    Status,
}

/// Metadata fields the apiserver never records as owned.
pub(crate) const UNTRACKED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// The key field Kubernetes defaults when a list-map item leaves it out.
const DEFAULTED_KEY: (&str, &str) = ("protocol", "TCP");

/// The fields of `obj` a manager owns when it sets all of them: leaves are scalars, atomic
/// lists and maps, and empty maps; list-map and set items are members with their fields below.
pub fn fields_of(obj: &Value, shape: &dyn Shape, scope: Scope) -> FieldSet {
    let mut out = FieldSet::new();
    // Lenient walks never fail: unkeyable items are skipped.
    let _ = Walker::new(shape).collect(obj, &mut out, false);
    restrict(&out, scope)
}

/// [`fields_of`] for an applied config, rejecting list items without their key fields and
/// duplicate keys, as structured-merge-diff does.
pub(crate) fn applied_fields(config: &Value, shape: &dyn Shape, scope: Scope) -> Result<FieldSet, String> {
    let mut out = FieldSet::new();
    Walker::new(shape).collect(config, &mut out, true)?;
    Ok(restrict(&out, scope))
}

/// `set` without the fields the apiserver does not track, limited to `scope`.
pub(crate) fn restrict(set: &FieldSet, scope: Scope) -> FieldSet {
    let mut out = set.clone();
    out.children.remove("f:apiVersion");
    out.children.remove("f:kind");
    if let Some(meta) = out.children.get_mut("f:metadata") {
        meta.member = false;
        for field in UNTRACKED_METADATA {
            meta.set.children.remove(&format!("f:{field}"));
        }
    }
    match scope {
        Scope::Main => {
            out.children.remove("f:status");
        }
        Scope::Status => out.children.retain(|k, _| k == "f:status"),
    }
    out.prune_empty();
    out
}

/// The part of an applied config that merges into a live object under `scope`: no
/// `apiVersion`, `kind` or untracked metadata, and only (or no) `status`.
pub(crate) fn scoped_config(config: &Value, scope: Scope) -> Value {
    let Value::Object(fields) = config else { return config.clone() };
    let mut out = Map::new();
    for (key, value) in fields {
        match (scope, key.as_str()) {
            (_, "apiVersion" | "kind") | (Scope::Main, "status") => {}
            (Scope::Status, "status") => {
                out.insert(key.clone(), value.clone());
            }
            (Scope::Status, _) => {}
            (Scope::Main, "metadata") => {
                if let Value::Object(meta) = value {
                    let kept = meta.iter().filter(|(k, _)| !UNTRACKED_METADATA.contains(&k.as_str()));
                    out.insert(key.clone(), Value::Object(kept.map(|(k, v)| (k.clone(), v.clone())).collect()));
                }
            }
            (Scope::Main, _) => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

/// What changed from one version of an object to the next, as structured-merge-diff's
/// `Compare`: new maps, lists and list items are listed in `added` along with their fields.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    pub(crate) modified: FieldSet,
    pub(crate) added: FieldSet,
    pub(crate) removed: FieldSet,
}

pub(crate) fn compare(old: Option<&Value>, new: &Value, shape: &dyn Shape, scope: Scope) -> Comparison {
    let mut c = Comparison::default();
    Walker::new(shape).compare(old, Some(new), false, &mut c);
    Comparison { modified: restrict(&c.modified, scope), added: restrict(&c.added, scope), removed: restrict(&c.removed, scope) }
}

/// Equality as structured-merge-diff sees it: numbers by value, map keys in any order.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w))),
        _ => a == b,
    }
}

/// `v` without null map values, at any depth.
pub(crate) fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), strip_nulls(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(strip_nulls).collect()),
        _ => v.clone(),
    }
}

/// Tracks where a walk is: the shape path (field names) and the field-set path.
pub(crate) struct Walker<'a> {
    shape: &'a dyn Shape,
    shape_path: Vec<String>,
    pub(super) set_path: Vec<String>,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(shape: &'a dyn Shape) -> Walker<'a> {
        Walker { shape, shape_path: Vec::new(), set_path: Vec::new() }
    }

    pub(super) fn push_field(&mut self, name: &str) {
        self.shape_path.push(name.to_owned());
        self.set_path.push(format!("f:{name}"));
    }

    pub(super) fn pop_field(&mut self) {
        self.shape_path.pop();
        self.set_path.pop();
    }

    fn shape_path(&self) -> Vec<&str> {
        self.shape_path.iter().map(String::as_str).collect()
    }

    /// The list type here; a keyed list without keys is atomic.
    pub(super) fn list_type(&self) -> ListType {
        match self.shape.list_type(&self.shape_path()) {
            ListType::Map(keys) if keys.is_empty() => ListType::Atomic,
            other => other,
        }
    }

    pub(super) fn map_is_atomic(&self) -> bool {
        !self.shape_path.is_empty() && self.shape.map_is_atomic(&self.shape_path())
    }

    /// The current path as structured-merge-diff prints it, for error messages.
    pub(super) fn location(&self) -> String {
        self.set_path.iter().map(|k| PathElement::decode(k).map_or_else(|_| k.clone(), |pe| pe.to_string())).collect()
    }

    /// The encoded path element of list item `index`. Strict walks (applied configs) reject
    /// items without their key fields; lenient ones skip them (`None`). A missing `protocol`
    /// key is `"TCP"`, as Kubernetes defaults it.
    pub(super) fn item_key(&self, item: &Value, list: &ListType, index: usize, strict: bool) -> Result<Option<String>, String> {
        match list {
            ListType::Atomic => Ok(None),
            ListType::Set => Ok(Some(PathElement::Value(item.clone()).encode())),
            ListType::Map(keys) => {
                let Value::Object(fields) = item else {
                    if strict {
                        return Err(format!("{}: element {index}: expected an object in a keyed list", self.location()));
                    }
                    return Ok(None);
                };
                let mut key = Vec::with_capacity(keys.len());
                for name in keys {
                    match fields.get(name).filter(|v| !v.is_null()) {
                        Some(v) => key.push((name.clone(), v.clone())),
                        None if name == DEFAULTED_KEY.0 => key.push((name.clone(), Value::String(DEFAULTED_KEY.1.to_owned()))),
                        None if strict => {
                            return Err(format!(
                                "{}: element {index}: associative list with keys has an element that omits key field {:?} (and doesn't have default value)",
                                self.location(),
                                name
                            ));
                        }
                        None => {}
                    }
                }
                key.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Some(PathElement::Key(key).encode()))
            }
        }
    }

    /// Adds the fields of `v` at the current path to `out`.
    fn collect(&mut self, v: &Value, out: &mut FieldSet, strict: bool) -> Result<(), String> {
        match v {
            Value::Null => Ok(()),
            Value::Object(fields) => {
                if !self.set_path.is_empty() && (fields.is_empty() || self.map_is_atomic()) {
                    out.insert_encoded(&self.set_path);
                    return Ok(());
                }
                self.collect_fields(fields, out, strict)
            }
            Value::Array(items) => {
                let list = self.list_type();
                if list == ListType::Atomic {
                    out.insert_encoded(&self.set_path);
                    return Ok(());
                }
                let mut seen = HashSet::new();
                for (i, item) in items.iter().enumerate() {
                    if item.is_null() {
                        continue;
                    }
                    let Some(key) = self.item_key(item, &list, i, strict)? else { continue };
                    if !seen.insert(key.clone()) && strict {
                        let shown = PathElement::decode(&key).map_or_else(|_| key.clone(), |pe| pe.to_string());
                        return Err(format!("{}: duplicate entries for key {shown}", self.location()));
                    }
                    self.set_path.push(key);
                    out.insert_encoded(&self.set_path);
                    let r = match item {
                        Value::Object(fields) if matches!(list, ListType::Map(_)) => self.collect_fields(fields, out, strict),
                        _ => Ok(()),
                    };
                    self.set_path.pop();
                    r?;
                }
                Ok(())
            }
            _ => {
                if !self.set_path.is_empty() {
                    out.insert_encoded(&self.set_path);
                }
                Ok(())
            }
        }
    }

    fn collect_fields(&mut self, fields: &Map<String, Value>, out: &mut FieldSet, strict: bool) -> Result<(), String> {
        for (name, child) in fields {
            if child.is_null() {
                continue;
            }
            self.push_field(name);
            let r = self.collect(child, out, strict);
            self.pop_field();
            r?;
        }
        Ok(())
    }

    /// Records the differences between `lhs` and `rhs` at the current path. `item` marks a
    /// list-map item (never atomic).
    fn compare(&mut self, lhs: Option<&Value>, rhs: Option<&Value>, item: bool, c: &mut Comparison) {
        let lhs = lhs.filter(|v| !v.is_null());
        let rhs = rhs.filter(|v| !v.is_null());
        if lhs.is_none() && rhs.is_none() {
            return;
        }
        let all = |pred: fn(&Value) -> bool| lhs.is_none_or(pred) && rhs.is_none_or(pred);
        if all(Value::is_object) {
            self.compare_maps(lhs, rhs, item, c);
        } else if all(Value::is_array) {
            self.compare_lists(lhs, rhs, c);
        } else if all(|v| !v.is_object() && !v.is_array()) {
            self.leaf(lhs, rhs, c);
        } else {
            // The kind changed: the old value went, the new one came.
            self.compare(lhs, None, item, c);
            self.compare(None, rhs, item, c);
        }
    }

    fn compare_maps(&mut self, lhs: Option<&Value>, rhs: Option<&Value>, item: bool, c: &mut Comparison) {
        let l = lhs.and_then(Value::as_object);
        let r = rhs.and_then(Value::as_object);
        let root = self.set_path.is_empty();
        let both_empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
        if !root && ((!item && self.map_is_atomic()) || both_empty) {
            self.leaf(lhs, rhs, c);
            return;
        }
        if let Some(l) = l {
            for (name, lv) in l {
                self.push_field(name);
                self.compare(Some(lv), r.and_then(|r| r.get(name)), false, c);
                self.pop_field();
            }
        }
        if let Some(r) = r {
            for (name, rv) in r {
                if l.is_some_and(|l| l.contains_key(name)) {
                    continue;
                }
                self.push_field(name);
                self.compare(None, Some(rv), false, c);
                self.pop_field();
            }
        }
        self.interior(l.is_some(), r.is_some(), c);
    }

    fn compare_lists(&mut self, lhs: Option<&Value>, rhs: Option<&Value>, c: &mut Comparison) {
        let l = lhs.and_then(Value::as_array);
        let r = rhs.and_then(Value::as_array);
        let list = self.list_type();
        let both_empty = l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty);
        if list == ListType::Atomic || both_empty {
            self.leaf(lhs, rhs, c);
            return;
        }
        let lhs_items = self.index(l.map_or(&[][..], Vec::as_slice), &list);
        let rhs_items = self.index(r.map_or(&[][..], Vec::as_slice), &list);
        let rhs_by_key: HashMap<&str, &Value> = rhs_items.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let lhs_keys: HashSet<&str> = lhs_items.iter().map(|(k, _)| k.as_str()).collect();
        for (key, lv) in &lhs_items {
            self.set_path.push(key.clone());
            self.compare(Some(lv), rhs_by_key.get(key.as_str()).copied(), true, c);
            self.set_path.pop();
        }
        for (key, rv) in &rhs_items {
            if lhs_keys.contains(key.as_str()) {
                continue;
            }
            self.set_path.push(key.clone());
            self.compare(None, Some(rv), true, c);
            self.set_path.pop();
        }
        self.interior(l.is_some(), r.is_some(), c);
    }

    /// Items by key, first occurrence of each key, unkeyable items left out.
    fn index<'v>(&self, items: &'v [Value], list: &ListType) -> Vec<(String, &'v Value)> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            if let Ok(Some(key)) = self.item_key(item, list, i, false) {
                if seen.insert(key.clone()) {
                    out.push((key, item));
                }
            }
        }
        out
    }

    /// A map, list or item that appeared or went is itself added or removed.
    fn interior(&mut self, had: bool, has: bool, c: &mut Comparison) {
        if self.set_path.is_empty() {
            return;
        }
        if !had {
            c.added.insert_encoded(&self.set_path);
        }
        if !has {
            c.removed.insert_encoded(&self.set_path);
        }
    }

    fn leaf(&mut self, lhs: Option<&Value>, rhs: Option<&Value>, c: &mut Comparison) {
        if self.set_path.is_empty() {
            return;
        }
        match (lhs, rhs) {
            (None, Some(_)) => c.added.insert_encoded(&self.set_path),
            (Some(_), None) => c.removed.insert_encoded(&self.set_path),
            (Some(a), Some(b)) if !values_equal(a, b) => c.modified.insert_encoded(&self.set_path),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::BuiltinShape;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}, "resourceVersion": "7", "uid": "u"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}], "args": ["a", "b"]}]}
                }
            },
            "status": {"replicas": 2}
        })
    }

    #[test]
    fn fields_of_a_deployment_match_what_kubectl_apply_records() {
        let set = fields_of(&deployment(), &BuiltinShape, Scope::Main);
        let expected = json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                        ".": {},
                        "f:args": {},
                        "f:image": {},
                        "f:name": {},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
                    }}}
                }
            }
        });
        assert_eq!(set.to_fields_v1(), expected);
    }

    #[test]
    fn status_scope_holds_only_status() {
        let set = fields_of(&deployment(), &BuiltinShape, Scope::Status);
        assert_eq!(set.to_fields_v1(), json!({"f:status": {"f:replicas": {}}}));
    }

    #[test]
    fn empty_maps_are_leaves_and_nulls_are_not_fields() {
        let obj =
            json!({"metadata": {"annotations": {}, "labels": null}, "data": {"a": null, "b": "x"}, "spec": {"finalizers": ["x", "y"]}});
        let set = fields_of(&obj, &BuiltinShape, Scope::Main);
        assert_eq!(set.paths(), vec![".data.b", ".metadata.annotations", ".spec.finalizers[=\"x\"]", ".spec.finalizers[=\"y\"]"]);
    }

    #[test]
    fn applied_configs_need_key_fields_and_unique_keys() {
        let missing = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        let err = applied_fields(&missing, &BuiltinShape, Scope::Main).unwrap_err();
        assert_eq!(
            err,
            ".spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)"
        );
        let dup = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}}});
        let err = applied_fields(&dup, &BuiltinShape, Scope::Main).unwrap_err();
        assert_eq!(err, ".spec.template.spec.containers: duplicate entries for key [name=\"a\"]");
    }

    #[test]
    fn compare_marks_new_maps_and_items_as_added_members() {
        let old = json!({"metadata": {"name": "x"}, "spec": {"replicas": 1}});
        let new = json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c"}]}}}});
        let c = compare(Some(&old), &new, &BuiltinShape, Scope::Main);
        assert_eq!(c.modified.paths(), vec![".spec.replicas"]);
        assert_eq!(
            c.added.to_fields_v1(),
            json!({
                "f:metadata": {"f:labels": {".": {}, "f:a": {}}},
                "f:spec": {"f:template": {".": {}, "f:spec": {".": {}, "f:containers": {".": {}, "k:{\"name\":\"c\"}": {".": {}, "f:name": {}}}}}}
            })
        );
        assert!(c.removed.is_empty());
        let back = compare(Some(&new), &old, &BuiltinShape, Scope::Main);
        assert!(back.removed.contains(&[PathElement::Field("metadata".into()), PathElement::Field("labels".into())]));
        assert!(back.removed.paths().contains(&".spec.template.spec.containers[name=\"c\"].name".to_owned()));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(values_equal(&json!({"a": 1, "b": [1.0]}), &json!({"b": [1], "a": 1.0})));
        assert!(!values_equal(&json!(1), &json!("1")));
    }
}
