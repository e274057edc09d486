//! Strategic merge patch, ported from the apply side of apimachinery's `strategicpatch`
//! (`mergeMap`, `mergeSlice`, `mergePatchIntoOriginal`, `normalizeElementOrder`, ...).
//!
//! Kubernetes' list ordering is kept, including that items a patch adds to a keyed list come
//! *before* the items only the object had (`[a, b]` patched with `[c]` is `[c, a, b]`), and that
//! `$setElementOrder/<field>` puts the named items in its order and interleaves the others by
//! their old positions. Values copied from the patch without merging (new keys, replaced lists)
//! are cleaned of directives and `null`s, which decoding into Go structs drops as well.

use serde_json::{Map, Value};

use super::gofmt::{go_type, go_v};
use super::{json_type_name, PatchError};
use crate::shape::Shape;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// Applies a strategic merge patch to `target` as kube-apiserver does for
/// `application/strategic-merge-patch+json`: maps merge recursively and `null` deletes a key;
/// lists with a merge key (from `shape`) merge item by item, other lists are replaced, and
/// `metadata.finalizers` is a set union; `$patch: replace|delete`, `$retainKeys`,
/// `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` are honoured and never
/// appear in the result. A `null` patch changes nothing; any other non-object patch is an error.
pub fn strategic_merge_patch(target: &Value, patch: &Value, shape: &dyn Shape) -> Result<Value, PatchError> {
    let patch = match patch {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        other => return Err(PatchError::WrongType { found: json_type_name(other), expected: "map[string]interface {}" }),
    };
    let original = target.as_object().cloned().unwrap_or_default();
    let merger = Merger { shape };
    let mut path = Vec::new();
    merger.merge_map(original, patch, &mut path).map(Value::Object)
}

/// How a list merges.
enum Strategy {
    /// The patch list replaces the old one (no `patchStrategy`).
    Replace,
    /// `patchStrategy: merge`, by this key for lists of objects, by value for scalars.
    Merge(Option<String>),
}

/// The JSON kind of a list's items, as `reflect.TypeOf` tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    String,
    Array,
    Object,
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.is_i64() || n.is_u64() => Kind::Int,
        Value::Number(_) => Kind::Float,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}

fn bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::Invalid(format!("expected a {expected}, but received a {}", go_type(actual)))
}

fn no_merge_key(item: &Value, key: &str) -> PatchError {
    PatchError::MissingMergeKey { item: go_v(item), key: key.to_owned() }
}

/// Drops directives and `null`s from a value taken over from the patch unmerged.
fn sanitize(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(k, v)| !k.starts_with('$') && !v.is_null()).map(|(k, v)| (k, sanitize(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sanitize).collect()),
        other => other,
    }
}

/// `extractKey`: the list field a `$deleteFromPrimitiveList/…` or `$setElementOrder/…` key names.
fn extract_key(key: &str, prefix: &str) -> Result<String, PatchError> {
    match key.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest.to_owned()),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST => Err(PatchError::BadFormat("primitive list")),
        _ => Err(PatchError::BadFormat("setElementOrder list")),
    }
}

/// `sliceElementType`: every item of every list must be of one kind, and not a list.
fn slice_element_type(lists: &[&[Value]]) -> Result<Kind, PatchError> {
    let mut prev: Option<Kind> = None;
    for item in lists.iter().flat_map(|l| l.iter()) {
        let current = kind_of(item);
        match prev {
            None => {
                if current == Kind::Array {
                    return Err(PatchError::ListOfLists);
                }
                prev = Some(current);
            }
            Some(p) if p != current => {
                let rendered = Value::Array(lists.iter().map(|l| Value::Array(l.to_vec())).collect());
                return Err(PatchError::Invalid(format!("list element types are not identical: {}", go_v(&rendered))));
            }
            Some(_) => {}
        }
    }
    prev.ok_or_else(|| PatchError::Invalid("no elements in any of the given slices".to_owned()))
}

/// `findMapInSliceBasedOnKeyValue`: the index of the item whose `key` equals `value`.
fn find_by_key(list: &[Value], key: &str, value: &Value) -> Result<Option<usize>, PatchError> {
    for (i, item) in list.iter().enumerate() {
        let Some(map) = item.as_object() else {
            return Err(PatchError::Invalid(format!("value for key {i} is not a map.")));
        };
        if map.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// `index`: where `item` sits in `list`, by merge key for objects and by value otherwise.
fn index_of(list: &[Value], item: &Value, key: &str, kind: Kind) -> Option<usize> {
    if kind == Kind::Object {
        let wanted = item.as_object().and_then(|m| m.get(key));
        list.iter().position(|v| v.as_object().and_then(|m| m.get(key)) == wanted)
    } else {
        list.iter().position(|v| v == item)
    }
}

/// `extractToDeleteItems`: splits off the items carrying `$patch: delete`.
fn extract_to_delete_items(list: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut keep = Vec::new();
    let mut delete = Vec::new();
    for item in list {
        let Some(map) = item.as_object() else { return Err(bad_arg_type("map[string]interface {}", &item)) };
        if map.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
            delete.push(item);
        } else {
            keep.push(item);
        }
    }
    Ok((keep, delete))
}

fn validate_merge_key_in_lists(key: &str, lists: &[&[Value]]) -> Result<(), PatchError> {
    for item in lists.iter().flat_map(|l| l.iter()) {
        let Some(map) = item.as_object() else { return Err(bad_arg_type("map[string]interface {}", item)) };
        if !map.contains_key(key) {
            return Err(no_merge_key(item, key));
        }
    }
    Ok(())
}

/// `normalizeSliceOrder`: sorts `to_sort` by position in `order` (stable), deletions last.
fn normalize_slice_order(to_sort: Vec<Value>, order: &[Value], key: &str, kind: Kind) -> Result<Vec<Value>, PatchError> {
    let (mut to_sort, to_delete) = if kind == Kind::Object {
        validate_merge_key_in_lists(key, &[&to_sort, order])?;
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    to_sort.sort_by_key(|item| index_of(order, item, key, kind).map_or(-1, |i| i64::try_from(i).unwrap_or(i64::MAX)));
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// `mergeSortedSlice`: interleaves server-only items (`left`) with patch items (`right`),
/// taking a server item first only when both sit in `server_order` and it comes earlier.
fn merge_sorted_slice(left: Vec<Value>, right: Vec<Value>, server_order: &[Value], key: &str, kind: Kind) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => return out,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                matches!((index_of(server_order, l, key, kind), index_of(server_order, r, key, kind)), (Some(li), Some(ri)) if li < ri)
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
}

/// `normalizeElementOrder`.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: &str,
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let patch = normalize_slice_order(patch, patch_order, key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, key, kind)?;
    Ok(merge_sorted_slice(server_only, patch, server_order, key, kind))
}

/// Splits `merged` into the items present in `by` and the others.
fn partition(merged: Vec<Value>, by: &[Value], key: Option<&str>) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut present = Vec::new();
    let mut others = Vec::new();
    for item in merged {
        let found = match key {
            None => by.contains(&item),
            Some(key) => {
                let Some(map) = item.as_object() else { return Err(bad_arg_type("map[string]interface {}", &item)) };
                let Some(value) = map.get(key) else { return Err(no_merge_key(&item, key)) };
                find_by_key(by, key, value)?.is_some()
            }
        };
        if found {
            present.push(item);
        } else {
            others.push(item);
        }
    }
    Ok((present, others))
}

/// `deduplicateScalars`, including the order it leaves behind.
fn dedupe_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut i = 0;
    while i + 1 < s.len() {
        let mut j = i + 1;
        while j < s.len() {
            if s.get(i) == s.get(j) {
                s.swap_remove(j);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

struct Merger<'a> {
    shape: &'a dyn Shape,
}

impl Merger<'_> {
    fn strategy(&self, path: &[String]) -> Strategy {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        if let Some(key) = self.shape.merge_key(&p) {
            return Strategy::Merge(Some(key));
        }
        if p == ["metadata", "finalizers"] {
            return Strategy::Merge(None);
        }
        Strategy::Replace
    }

    /// `mergeMap`.
    fn merge_map(
        &self,
        original: Map<String, Value>,
        patch: Map<String, Value>,
        path: &mut Vec<String>,
    ) -> Result<Map<String, Value>, PatchError> {
        let mut patch = patch;
        if let Some(directive) = patch.get(DIRECTIVE) {
            return match directive.as_str() {
                Some("replace") => {
                    patch.shift_remove(DIRECTIVE);
                    match sanitize(Value::Object(patch)) {
                        Value::Object(map) => Ok(map),
                        _ => Ok(Map::new()),
                    }
                }
                Some("delete") => Ok(Map::new()),
                _ => Err(PatchError::UnknownDirective { directive: go_v(directive), item: go_v(&Value::Object(patch.clone())) }),
            };
        }
        let mut original = original;
        apply_retain_keys(&mut original, &mut patch)?;
        self.merge_set_element_order(&mut original, &mut patch, path)?;

        for (k, patch_value) in patch {
            let (key, is_delete_list) = if k.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
                (extract_key(&k, DELETE_FROM_PRIMITIVE_LIST)?, true)
            } else if k.starts_with('$') {
                continue;
            } else {
                (k, false)
            };
            if patch_value.is_null() {
                original.shift_remove(&key);
                continue;
            }
            let Some(slot) = original.get_mut(&key) else {
                original.insert(key, sanitize(patch_value));
                continue;
            };
            let old = std::mem::take(slot);
            path.push(key);
            let merged = match (old, patch_value) {
                (Value::Object(o), Value::Object(p)) => self.merge_map(o, p, path).map(Value::Object),
                (Value::Array(o), Value::Array(p)) => self.merge_slice_handler(o, p, path, is_delete_list).map(Value::Array),
                (_, p) => Ok(sanitize(p)),
            };
            path.pop();
            *slot = merged?;
        }
        Ok(original)
    }

    /// `mergePatchIntoOriginal`: the `$setElementOrder/<list>` directives of one map.
    fn merge_set_element_order(
        &self,
        original: &mut Map<String, Value>,
        patch: &mut Map<String, Value>,
        path: &mut Vec<String>,
    ) -> Result<(), PatchError> {
        let keys: Vec<String> = patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER)).cloned().collect();
        for directive_key in keys {
            let order = patch.shift_remove(&directive_key).unwrap_or(Value::Null);
            let Value::Array(order) = order else { return Err(bad_arg_type("[]interface {}", &order)) };
            let list_key = extract_key(&directive_key, SET_ELEMENT_ORDER)?;
            let original_list = match original.get(&list_key) {
                None => None,
                Some(Value::Array(items)) => Some(items.clone()),
                Some(other) => return Err(bad_arg_type("[]interface {}", other)),
            };
            let patch_list = match patch.get(&list_key) {
                None => None,
                Some(Value::Array(items)) => Some(items.clone()),
                Some(other) => return Err(bad_arg_type("[]interface {}", other)),
            };
            path.push(list_key.clone());
            let result = self.ordered_list(original_list, patch_list, &order, path);
            path.pop();
            if let Some(list) = result? {
                original.insert(list_key.clone(), Value::Array(list));
                patch.shift_remove(&list_key);
            }
        }
        Ok(())
    }

    /// The list one `$setElementOrder` directive yields, or `None` when neither side has it.
    fn ordered_list(
        &self,
        original_list: Option<Vec<Value>>,
        patch_list: Option<Vec<Value>>,
        order: &[Value],
        path: &[String],
    ) -> Result<Option<Vec<Value>>, PatchError> {
        let key = match self.strategy(path) {
            Strategy::Merge(Some(key)) => Some(key),
            _ => None,
        };
        let original_items = original_list.clone().unwrap_or_default();
        let patch_items = patch_list.clone().unwrap_or_default();
        validate_patch_with_set_order_list(&patch_items, order, key.as_deref())?;
        let merged = match (original_list, patch_list) {
            (Some(o), None) => o,
            (None, Some(p)) => p.into_iter().map(sanitize).collect(),
            (Some(o), Some(p)) => self.merge_slice_handler(o, p, path, false)?,
            (None, None) => return Ok(None),
        };
        let (in_order, others) = partition(merged, order, key.as_deref())?;
        let kind = slice_element_type(&[&original_items, &patch_items])?;
        normalize_element_order(in_order, others, order, &original_items, key.as_deref().unwrap_or(""), kind).map(Some)
    }

    /// `mergeSliceHandler`.
    fn merge_slice_handler(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        path: &[String],
        is_delete_list: bool,
    ) -> Result<Vec<Value>, PatchError> {
        match self.strategy(path) {
            Strategy::Replace => Ok(patch.into_iter().map(sanitize).collect()),
            Strategy::Merge(key) => self.merge_slice(original, patch, key.as_deref(), path, is_delete_list),
        }
    }

    /// `mergeSlice`.
    fn merge_slice(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        key: Option<&str>,
        path: &[String],
        is_delete_list: bool,
    ) -> Result<Vec<Value>, PatchError> {
        if original.is_empty() && patch.is_empty() {
            return Ok(original);
        }
        let kind = slice_element_type(&[&original, &patch])?;
        let (merged, patch_order, server_order) = if kind != Kind::Object {
            if is_delete_list {
                return Ok(original.into_iter().filter(|v| !patch.contains(v)).collect());
            }
            let mut both = original.clone();
            both.extend(patch.iter().cloned());
            (dedupe_scalars(both), patch, original)
        } else {
            let Some(key) = key else {
                return Err(PatchError::Invalid("cannot merge lists without merge key for type string".to_owned()));
            };
            let (server, patch) = merge_slice_with_special_elements(original, patch, key)?;
            let merged = self.merge_slice_without_special_elements(server.clone(), &patch, key, path)?;
            (merged, patch, server)
        };
        let (patch_items, server_only) = partition(merged, &patch_order, key)?;
        normalize_element_order(patch_items, server_only, &patch_order, &server_order, key.unwrap_or(""), kind)
    }

    /// `mergeSliceWithoutSpecialElements`: merges items with the same key, collects new ones.
    fn merge_slice_without_special_elements(
        &self,
        mut original: Vec<Value>,
        patch: &[Value],
        key: &str,
        path: &[String],
    ) -> Result<Vec<Value>, PatchError> {
        for item in patch {
            let Some(map) = item.as_object() else { return Err(bad_arg_type("map[string]interface {}", item)) };
            let Some(value) = map.get(key) else { return Err(no_merge_key(item, key)) };
            match find_by_key(&original, key, value)? {
                Some(i) => {
                    let Some(slot) = original.get_mut(i) else { continue };
                    let old = match std::mem::take(slot) {
                        Value::Object(o) => o,
                        _ => Map::new(),
                    };
                    let mut item_path = path.to_vec();
                    *slot = Value::Object(self.merge_map(old, map.clone(), &mut item_path)?);
                }
                None => original.push(sanitize(item.clone())),
            }
        }
        Ok(original)
    }
}

/// `mergeSliceWithSpecialElements`: applies `$patch: delete` and `$patch: replace` items and
/// returns the server list and the patch items left to merge.
fn merge_slice_with_special_elements(original: Vec<Value>, patch: Vec<Value>, key: &str) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut original = original;
    let mut plain = Vec::new();
    let mut replace = false;
    for item in patch {
        let directive = item.as_object().and_then(|m| m.get(DIRECTIVE)).cloned();
        let Some(directive) = directive else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let Some(value) = item.get(key) else { return Err(no_merge_key(&item, key)) };
                while let Some(i) = find_by_key(&original, key, value)? {
                    original.remove(i);
                }
            }
            Some("replace") => replace = true,
            Some("merge") => return Err(PatchError::Invalid("merging lists cannot yet be specified in the patch".to_owned())),
            _ => return Err(PatchError::UnknownDirective { directive: go_v(&directive), item: go_v(&item) }),
        }
    }
    if replace {
        Ok((plain.into_iter().map(sanitize).collect(), Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// `applyRetainKeysDirective`: drops the keys of `original` the directive does not list.
fn apply_retain_keys(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS) else { return Ok(()) };
    let Value::Array(retain) = retain else { return Err(PatchError::BadFormat("retainKeys")) };
    let listed = |k: &str| retain.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null() || k.starts_with(DELETE_FROM_PRIMITIVE_LIST) || k.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        if !listed(k) {
            return Err(PatchError::BadFormat("retainKeys"));
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch items must appear in the directive, in its order.
fn validate_patch_with_set_order_list(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<(), PatchError> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let non_delete = match key {
        Some(_) => extract_to_delete_items(patch.to_vec())?.0,
        None => patch.to_vec(),
    };
    let (mut pi, mut si) = (0, 0);
    while let (Some(p), Some(o)) = (non_delete.get(pi), order.get(si)) {
        if p.as_object().is_some_and(|m| m.contains_key(DIRECTIVE)) {
            pi += 1;
            continue;
        }
        let equal = match key {
            None => p == o,
            Some(key) => {
                let Some(pm) = p.as_object() else { return Err(bad_arg_type("map[string]interface {}", p)) };
                let Some(om) = o.as_object() else { return Err(bad_arg_type("map[string]interface {}", o)) };
                let Some(pv) = pm.get(key) else { return Err(no_merge_key(p, key)) };
                let Some(ov) = om.get(key) else { return Err(no_merge_key(o, key)) };
                pv == ov
            }
        };
        if equal {
            pi += 1;
        }
        si += 1;
    }
    if pi < non_delete.len() && si >= order.len() {
        return Err(PatchError::Invalid(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            go_v(&Value::Array(patch.to_vec())),
            go_v(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::BuiltinShape;
    use serde_json::json;

    fn smp(target: Value, patch: Value) -> Result<Value, PatchError> {
        strategic_merge_patch(&target, &patch, &BuiltinShape)
    }

    fn deployment(containers: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}})
    }

    fn containers(v: &Value) -> Value {
        v.pointer("/spec/template/spec/containers").cloned().unwrap_or(Value::Null)
    }

    #[test]
    fn kubectl_set_image_body() {
        // What `kubectl set image deployment/web web=nginx:1.27` sends.
        let target = deployment(
            json!([{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}, {"name": "sidecar", "image": "busybox"}]),
        );
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
            "containers": [{"image": "nginx:1.27", "name": "web"}]}}}});
        let out = smp(target, patch);
        assert_eq!(
            out.as_ref().map(containers),
            Ok(json!([{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}, {"name": "sidecar", "image": "busybox"}]))
        );
        assert_eq!(out.ok().and_then(|v| v.pointer("/spec/replicas").cloned()), Some(json!(2)));
    }

    #[test]
    fn kubectl_patch_adds_a_container_in_front_like_kubernetes() {
        // kubectl patch deployment patch-demo --patch-file patch-file-containers.yaml
        let target = deployment(json!([{"name": "patch-demo-ctr", "image": "nginx"}]));
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}}});
        assert_eq!(
            smp(target, patch).as_ref().map(containers),
            Ok(json!([{"name": "patch-demo-ctr-2", "image": "redis"}, {"name": "patch-demo-ctr", "image": "nginx"}]))
        );
    }

    #[test]
    fn lists_without_merge_key_are_replaced() {
        let mut target = deployment(json!([{"name": "a", "image": "x", "args": ["1", "2"]}]));
        if let Some(spec) = target.pointer_mut("/spec/template/spec").and_then(Value::as_object_mut) {
            spec.insert("tolerations".into(), json!([{"key": "dedicated", "value": "test-team", "effect": "NoSchedule"}]));
        }
        let patch = json!({"spec": {"template": {"spec": {"tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}],
            "containers": [{"name": "a", "args": ["3"]}]}}}});
        let out = smp(target, patch);
        assert_eq!(
            out.as_ref().ok().and_then(|v| v.pointer("/spec/template/spec/tolerations").cloned()),
            Some(json!([{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]))
        );
        assert_eq!(out.as_ref().map(containers), Ok(json!([{"name": "a", "image": "x", "args": ["3"]}])));
    }

    #[test]
    fn set_element_order_reorders_and_keeps_unnamed_items_after() {
        let target = deployment(json!([{"name": "a", "image": "1"}, {"name": "b", "image": "2"}, {"name": "c", "image": "3"}]));
        // Named items take the directive's order; `b` is interleaved by its old position (it
        // was before `c`), which is where Kubernetes' mergeSortedSlice puts it.
        let patch = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}]}}}});
        assert_eq!(
            smp(target.clone(), patch).as_ref().map(containers),
            Ok(json!([{"name": "b", "image": "2"}, {"name": "c", "image": "3"}, {"name": "a", "image": "1"}]))
        );
        let patch = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}}});
        assert_eq!(
            smp(target.clone(), patch).as_ref().map(containers),
            Ok(json!([{"name": "b", "image": "2"}, {"name": "a", "image": "1"}, {"name": "c", "image": "3"}]))
        );
        // Order and content together; `b` is not named and keeps its place relative to `a`.
        let patch = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "d"}, {"name": "a"}, {"name": "c"}],
            "containers": [{"name": "d", "image": "4"}, {"name": "c", "image": "33"}]}}}});
        assert_eq!(
            smp(target.clone(), patch).as_ref().map(containers),
            Ok(
                json!([{"name": "d", "image": "4"}, {"name": "a", "image": "1"}, {"name": "b", "image": "2"}, {"name": "c", "image": "33"}])
            )
        );
        // A patch item the directive does not list is an error, as in Kubernetes.
        let patch = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "b", "image": "9"}]}}}});
        assert!(
            matches!(smp(target, patch), Err(PatchError::Invalid(m)) if m.starts_with("The order in patch list:\n[map[image:9 name:b]]"))
        );
    }

    #[test]
    fn patch_delete_removes_a_container() {
        let target = deployment(json!([{"name": "web", "image": "nginx"}, {"name": "sidecar", "image": "busybox"}]));
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}});
        assert_eq!(smp(target, patch).as_ref().map(containers), Ok(json!([{"name": "web", "image": "nginx"}])));
    }

    #[test]
    fn patch_replace_on_a_list_and_on_a_map() {
        let target = deployment(json!([{"name": "web", "image": "nginx", "env": [{"name": "A", "value": "1"}]}]));
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}}}});
        assert_eq!(smp(target.clone(), patch).as_ref().map(containers), Ok(json!([{"name": "only", "image": "x"}])));

        let patch = json!({"metadata": {"labels": {"$patch": "replace", "tier": "front"}}});
        assert_eq!(smp(target.clone(), patch).ok().and_then(|v| v.pointer("/metadata/labels").cloned()), Some(json!({"tier": "front"})));

        let patch = json!({"metadata": {"labels": {"$patch": "delete"}}});
        assert_eq!(smp(target, patch).ok().and_then(|v| v.pointer("/metadata/labels").cloned()), Some(json!({})));
    }

    #[test]
    fn null_deletes_and_nested_lists_merge_by_their_keys() {
        let target =
            deployment(json!([{"name": "web", "image": "nginx", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "ports": [{"containerPort": 80, "name": "http"}]}]));
        let patch = json!({"metadata": {"labels": {"app": null, "new": "x"}},
            "spec": {"replicas": null, "template": {"spec": {"containers": [{"name": "web",
                "env": [{"name": "B", "value": "22"}, {"name": "A", "$patch": "delete"}],
                "ports": [{"containerPort": 80, "name": null, "protocol": "TCP"}]}]}}}});
        let out = smp(target, patch);
        let out = out.as_ref();
        assert_eq!(out.ok().and_then(|v| v.pointer("/metadata/labels").cloned()), Some(json!({"new": "x"})));
        assert_eq!(out.ok().and_then(|v| v.pointer("/spec/replicas").cloned()), None);
        assert_eq!(
            out.map(containers),
            Ok(
                json!([{"name": "web", "image": "nginx", "env": [{"name": "B", "value": "22"}], "ports": [{"containerPort": 80, "protocol": "TCP"}]}])
            )
        );
    }

    #[test]
    fn finalizers_union_and_delete_from_primitive_list() {
        let target = json!({"metadata": {"name": "x", "finalizers": ["a", "b"]}});
        let out = smp(target.clone(), json!({"metadata": {"finalizers": ["c", "a"]}}));
        assert_eq!(out.ok().and_then(|v| v.pointer("/metadata/finalizers").cloned()), Some(json!(["c", "a", "b"])));
        let out = smp(target.clone(), json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}));
        assert_eq!(out.ok().and_then(|v| v.pointer("/metadata/finalizers").cloned()), Some(json!(["b"])));
        let out = smp(target, json!({"metadata": {"$setElementOrder/finalizers": ["b", "a"]}}));
        assert_eq!(out.ok().and_then(|v| v.pointer("/metadata/finalizers").cloned()), Some(json!(["b", "a"])));
    }

    #[test]
    fn retain_keys_clears_unlisted_fields() {
        let target = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}}});
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
        assert_eq!(smp(target.clone(), patch).ok().and_then(|v| v.pointer("/spec/strategy").cloned()), Some(json!({"type": "Recreate"})));
        let bad = json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}});
        assert_eq!(smp(target, bad).map_err(|e| (e.code(), e.to_string())), Err((400, "invalid patch format of retainKeys".to_owned())));
    }

    #[test]
    fn services_merge_ports_by_port() {
        let target =
            json!({"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}], "selector": {"app": "a"}}});
        let patch = json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443, "targetPort": 8443}]}});
        assert_eq!(
            smp(target, patch).ok().and_then(|v| v.pointer("/spec/ports").cloned()),
            Some(json!([{"port": 80, "targetPort": 9090, "protocol": "TCP"}, {"port": 443, "targetPort": 8443}]))
        );
    }

    #[test]
    fn errors_match_kubernetes_messages() {
        let target = deployment(json!([{"name": "web", "image": "nginx"}]));
        let no_key = json!({"spec": {"template": {"spec": {"containers": [{"image": "nginx:2"}]}}}});
        assert_eq!(
            smp(target.clone(), no_key).map_err(|e| (e.code(), e.to_string())),
            Err((500, "map: map[image:nginx:2] does not contain declared merge key: name".to_owned()))
        );
        let unknown = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "$patch": "frobnicate"}]}}}});
        assert_eq!(
            smp(target.clone(), unknown).map_err(|e| e.to_string()),
            Err("unknown patch type: frobnicate in map: map[$patch:frobnicate name:web]".to_owned())
        );
        let unknown_map = json!({"metadata": {"$patch": "merge"}});
        assert!(matches!(smp(target.clone(), unknown_map), Err(PatchError::UnknownDirective { .. })));
        assert_eq!(
            smp(target.clone(), json!([1])).map_err(|e| (e.code(), e.to_string())),
            Err((400, "json: cannot unmarshal array into Go value of type map[string]interface {}".to_owned()))
        );
        assert_eq!(smp(target.clone(), Value::Null), Ok(target.clone()));
        let bad_order = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": "web"}}}});
        assert_eq!(
            smp(target.clone(), bad_order).map_err(|e| e.to_string()),
            Err("expected a []interface {}, but received a string".to_owned())
        );
        let lol = json!({"metadata": {"finalizers": [["a"]]}});
        assert_eq!(smp(json!({"metadata": {"finalizers": []}}), lol.clone()).map_err(|e| e.code()), Err(422));
        assert_eq!(
            smp(json!({"metadata": {"finalizers": ["x"]}}), lol).map_err(|e| e.to_string()),
            Err("list element types are not identical: [[x] [[a]]]".to_owned())
        );
        let bad_prefix = json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}});
        assert_eq!(smp(target, bad_prefix).map_err(|e| e.to_string()), Err("invalid patch format of primitive list".to_owned()));
    }

    #[test]
    fn values_copied_from_the_patch_carry_no_directives() {
        let target = json!({"spec": {"template": {"spec": {}}}});
        let patch = json!({"spec": {"template": {"spec": {"$setElementOrder/volumes": [{"name": "v"}],
            "volumes": [{"name": "v", "emptyDir": {"$patch": "replace", "medium": null}}]}}}});
        assert_eq!(
            smp(target, patch).ok().and_then(|v| v.pointer("/spec/template/spec/volumes").cloned()),
            Some(json!([{"name": "v", "emptyDir": {}}]))
        );
    }
}
