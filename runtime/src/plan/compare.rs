//! Compares a declared body with the live object, field by field, the way the API server
//! normalizes values (DESIGN.md §2 step 8): only declared fields count. Strings compare as
//! written, except at quantity fields ([`super::quantity_paths`]), which compare by value.

use cairn_core::Quantity;
use serde_json::{Number, Value as Json};

use super::path::{push_pointer, Seg};
use super::quantity_paths;
use super::types::FieldOp;
use crate::model::APPLIED_HASH;

/// One differing field, with raw values (redacted only when it becomes a
/// [`super::FieldChange`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Diff {
    pub segs: Vec<Seg>,
    /// JSON pointer into the declared body (empty for removals).
    pub pointer: String,
    pub op: FieldOp,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

/// The keys that identify list items of kinds `cairn-core`'s table does not know (custom
/// resources), in order of preference.
const MERGE_KEYS: [&str; 7] = ["name", "mountPath", "devicePath", "containerPort", "port", "ip", "type"];

/// The merge key of the declared list at `path` (field names from the root, list items left
/// out) in an object of `api_version`/`kind`: for built-in kinds, the key Kubernetes merges the
/// list by ([`cairn_core::merge_keys`]); for other kinds, a guess, the first of [`MERGE_KEYS`]
/// every item has. `None` when the list is empty, holds anything but maps, is atomic, or an
/// item lacks the key (then items are matched by position).
pub(crate) fn merge_key(api_version: &str, kind: &str, path: &[&str], items: &[Json]) -> Option<&'static str> {
    if items.is_empty() || !items.iter().all(Json::is_object) {
        return None;
    }
    if cairn_core::merge_keys::knows_kind(api_version, kind) {
        let key = cairn_core::merge_keys::merge_key(api_version, kind, &path.join("."))?;
        return items.iter().all(|i| i.get(key).is_some()).then_some(key);
    }
    MERGE_KEYS.into_iter().find(|k| items.iter().all(|i| i.get(k).is_some()))
}

/// The key fields of a declared item under merge key `mk` (ports add `protocol` when declared).
pub(crate) fn item_key(item: &Json, mk: &str) -> Vec<(String, Json)> {
    let mut pairs = Vec::with_capacity(2);
    if let Some(v) = item.get(mk) {
        pairs.push((mk.to_string(), v.clone()));
    }
    if mk == "containerPort" || mk == "port" {
        if let Some(p) = item.get("protocol") {
            pairs.push(("protocol".to_string(), p.clone()));
        }
    }
    pairs
}

/// The live item whose key fields equal `pairs`.
pub(crate) fn find_item<'a>(live: &'a [Json], pairs: &[(String, Json)]) -> Option<&'a Json> {
    live.iter().find(|l| pairs.iter().all(|(k, v)| l.get(k).is_some_and(|lv| values_eq(v, lv))))
}

/// Numbers by value: `1 == 1.0`.
fn numbers_eq(a: &Number, b: &Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y).is_eq(),
        _ => false,
    }
}

/// Scalars normalized: numbers numerically (`1 == 1.0`), anything else exactly (strings as
/// written: `"0.5"` is not `"500m"` outside a quantity field).
pub(crate) fn scalars_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => numbers_eq(x, y),
        _ => a == b,
    }
}

/// A scalar read as a quantity: a string (`"500m"`) or a number (`2`).
fn quantity_of(v: &Json) -> Option<Quantity> {
    match v {
        Json::String(s) => Quantity::parse(s).ok(),
        Json::Number(n) => Quantity::parse(&n.to_string()).ok(),
        _ => None,
    }
}

/// Scalars at a quantity field: by value (`1000m == 1`, `0.5 == 500m`), else as [`scalars_eq`].
pub(crate) fn quantities_eq(a: &Json, b: &Json) -> bool {
    scalars_eq(a, b)
        || match (quantity_of(a), quantity_of(b)) {
            (Some(p), Some(q)) => p == q,
            _ => false,
        }
}

/// Deep equality with scalars normalized (for atomic lists and key fields).
pub(crate) fn values_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_eq(p, q)),
        (Json::Object(x), Json::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_eq(v, w))),
        _ => scalars_eq(a, b),
    }
}

/// An empty list or map.
fn is_empty_container(v: &Json) -> bool {
    v.as_array().is_some_and(Vec::is_empty) || v.as_object().is_some_and(serde_json::Map::is_empty)
}

/// A v1 Secret body as the API server stores it: `stringData` entries moved into `data`,
/// base64-encoded (the server never returns `stringData`). Other bodies are returned unchanged.
pub(crate) fn as_stored(body: &Json) -> std::borrow::Cow<'_, Json> {
    use base64::Engine as _;
    let is_secret =
        body.get("apiVersion").and_then(Json::as_str) == Some("v1") && body.get("kind").and_then(Json::as_str) == Some("Secret");
    let Some(Json::Object(plain)) = body.get("stringData").filter(|_| is_secret) else { return std::borrow::Cow::Borrowed(body) };
    let mut stored = body.clone();
    if let Some(m) = stored.as_object_mut() {
        let mut data = match m.remove("data") {
            Some(Json::Object(d)) => d,
            _ => serde_json::Map::new(),
        };
        for (k, v) in plain {
            if let Some(text) = v.as_str() {
                data.insert(k.clone(), Json::String(base64::engine::general_purpose::STANDARD.encode(text)));
            }
        }
        m.remove("stringData");
        m.insert("data".into(), Json::Object(data));
    }
    std::borrow::Cow::Owned(stored)
}

/// The walk's position: the path so far and the JSON pointer into the declared body, and the
/// object's group and kind (which say where quantities are).
struct Walk<'o> {
    api_version: String,
    group: String,
    kind: String,
    segs: Vec<Seg>,
    pointer: String,
    out: &'o mut Vec<Diff>,
}

impl Walk<'_> {
    fn set(&mut self, before: Option<&Json>, after: &Json) {
        self.out.push(Diff {
            segs: self.segs.clone(),
            pointer: self.pointer.clone(),
            op: FieldOp::Set,
            before: before.cloned(),
            after: Some(after.clone()),
        });
    }

    /// Whether the walk is at `metadata.annotations` (where the applied hash is skipped).
    fn at_annotations(&self) -> bool {
        matches!(self.segs.as_slice(), [Seg::Key(a), Seg::Key(b)] if a == "metadata" && b == "annotations")
    }

    fn value(&mut self, declared: &Json, live: &Json) {
        match (declared, live) {
            (Json::Object(d), Json::Object(l)) => {
                let skip_hash = self.at_annotations();
                for (k, dv) in d {
                    // `null` asks for nothing (server-side apply drops it).
                    if dv.is_null() || (skip_hash && k == APPLIED_HASH) {
                        continue;
                    }
                    let len = self.pointer.len();
                    push_pointer(&mut self.pointer, k);
                    self.segs.push(Seg::Key(k.clone()));
                    match l.get(k) {
                        Some(lv) => self.value(dv, lv),
                        // Annotations go key by key, so the applied hash is never listed.
                        None if dv.is_object() && self.at_annotations() => self.value(dv, &Json::Object(serde_json::Map::new())),
                        // The API server omits empty lists and maps: absent is the same.
                        None if is_empty_container(dv) => {}
                        None => self.set(None, dv),
                    }
                    self.segs.pop();
                    self.pointer.truncate(len);
                }
            }
            (Json::Array(d), Json::Array(l)) => self.list(d, l, declared, live),
            (Json::Object(_) | Json::Array(_), _) => self.set(Some(live), declared),
            _ => {
                let same = if quantity_paths::is_quantity(&self.group, &self.kind, &self.segs) {
                    quantities_eq(declared, live)
                } else {
                    scalars_eq(declared, live)
                };
                if !same {
                    self.set(Some(live), declared);
                }
            }
        }
    }

    fn list(&mut self, d: &[Json], l: &[Json], declared: &Json, live: &Json) {
        if !d.iter().all(Json::is_object) {
            // Scalars (or a mix): the list is atomic.
            if !values_eq(declared, live) {
                self.set(Some(live), declared);
            }
            return;
        }
        let mk = {
            let path: Vec<&str> = self.segs.iter().filter_map(|s| if let Seg::Key(k) = s { Some(k.as_str()) } else { None }).collect();
            merge_key(&self.api_version, &self.kind, &path, d)
        };
        if let Some(mk) = mk {
            for (i, item) in d.iter().enumerate() {
                let pairs = item_key(item, mk);
                let len = self.pointer.len();
                self.pointer.push_str(&format!("/{i}"));
                let found = find_item(l, &pairs);
                self.segs.push(Seg::Item(pairs));
                match found {
                    Some(li) => self.value(item, li),
                    None => self.set(None, item),
                }
                self.segs.pop();
                self.pointer.truncate(len);
            }
        } else if d.len() != l.len() {
            self.set(Some(live), declared);
        } else {
            for (i, (di, li)) in d.iter().zip(l).enumerate() {
                let len = self.pointer.len();
                self.pointer.push_str(&format!("/{i}"));
                self.segs.push(Seg::Index(i));
                self.value(di, li);
                self.segs.pop();
                self.pointer.truncate(len);
            }
        }
    }
}

/// Appends a [`FieldOp::Set`] diff for every declared field that differs from live. Fields only
/// live has are not compared; the `cairn.dev/applied-hash` annotation is skipped.
pub(crate) fn diff(declared: &Json, live: &Json, out: &mut Vec<Diff>) {
    let api_version = declared.get("apiVersion").and_then(Json::as_str).unwrap_or_default();
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g).to_string();
    let kind = declared.get("kind").and_then(Json::as_str).unwrap_or_default().to_string();
    Walk { api_version: api_version.to_string(), group, kind, segs: Vec::new(), pointer: String::new(), out }.value(declared, live);
}

#[cfg(test)]
mod tests {
    use super::super::path::render;
    use super::*;
    use serde_json::json;

    fn paths(declared: Json, live: Json) -> Vec<String> {
        let mut out = Vec::new();
        diff(&declared, &live, &mut out);
        out.iter().map(|d| render(&d.segs)).collect()
    }

    #[test]
    fn built_in_lists_match_items_by_kubernetes_merge_key_and_custom_ones_by_a_guess() {
        let mounts = |name: &str| json!([{"name": name, "mountPath": "/data"}]);
        let deployment = |m: Json| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "spec": {"template": {"spec": {"containers": [{"name": "web", "volumeMounts": m}]}}}})
        };
        // Kubernetes keys volume mounts by `mountPath`: a renamed volume is one field.
        assert_eq!(
            paths(deployment(mounts("data")), deployment(mounts("cache"))),
            ["spec.template.spec.containers[name=web].volumeMounts[mountPath=/data].name"]
        );
        // A custom resource's list: the first key every item has, `name` here.
        let widget = |m: Json| json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"mounts": m}});
        assert_eq!(paths(widget(mounts("data")), widget(mounts("cache"))), ["spec.mounts[name=data]"]);
    }

    #[test]
    fn quantities_compare_by_value_only_at_quantity_fields() {
        assert!(quantities_eq(&json!("1000m"), &json!("1")));
        assert!(quantities_eq(&json!("0.5"), &json!("500m")));
        assert!(quantities_eq(&json!("1Gi"), &json!("1024Mi")));
        assert!(quantities_eq(&json!(2), &json!("2")));
        assert!(!quantities_eq(&json!("1"), &json!("2")));
        assert!(!scalars_eq(&json!("0.5"), &json!("500m")));
        assert!(!scalars_eq(&json!("1.10"), &json!("1.1")));
        assert!(scalars_eq(&json!(1), &json!(1.0)));
        assert!(!scalars_eq(&json!("web"), &json!("Web")));
        assert!(!scalars_eq(&json!(1), &json!("1")));
    }

    #[test]
    fn strings_outside_quantity_fields_compare_as_written() {
        let cm = |v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"version": v}});
        assert_eq!(paths(cm("1.10"), cm("1.1")), vec!["data.version"]);
        let deploy = |env: &str, cpu: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"labels": {"v": env}},
                "spec": {"template": {"spec": {"containers": [{"name": "web",
                "env": [{"name": "RATIO", "value": env}], "args": [env],
                "resources": {"requests": {"cpu": cpu}, "limits": {"memory": "1Gi"}}}]}}}})
        };
        assert_eq!(
            paths(deploy("0.5", "0.5"), deploy("500m", "500m")),
            vec![
                "metadata.labels.v",
                "spec.template.spec.containers[name=web].env[name=RATIO].value",
                "spec.template.spec.containers[name=web].args"
            ]
        );
        let mut live = deploy("0.5", "500m");
        live["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("1024Mi");
        assert!(paths(deploy("0.5", "0.5"), live).is_empty());
    }

    #[test]
    fn only_declared_fields_count() {
        let d = json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "a:1"}]}}}});
        let l = json!({"spec": {"replicas": 2, "progressDeadlineSeconds": 600, "template": {"spec": {"containers": [
            {"name": "side", "image": "s:1"},
            {"name": "web", "image": "a:2", "imagePullPolicy": "IfNotPresent"}]}}}});
        assert_eq!(paths(d, l), vec!["spec.template.spec.containers[name=web].image"]);
    }

    #[test]
    fn missing_items_and_keys_are_set() {
        let d = json!({"ports": [{"containerPort": 80, "protocol": "UDP"}], "extra": {"a": 1}});
        let l = json!({"ports": [{"containerPort": 80, "protocol": "TCP"}]});
        assert_eq!(paths(d, l), vec!["ports[containerPort=80,protocol=UDP]", "extra"]);
    }

    #[test]
    fn lists_without_keys_go_by_position() {
        assert_eq!(paths(json!({"x": [{"a": 1}, {"a": 2}]}), json!({"x": [{"a": 1}, {"a": 3, "b": 0}]})), vec!["x[1].a"]);
        assert_eq!(paths(json!({"x": [{"a": 1}]}), json!({"x": [{"a": 1}, {"a": 3}]})), vec!["x"]);
        assert_eq!(paths(json!({"args": ["a", "b"]}), json!({"args": ["a"]})), vec!["args"]);
        assert!(paths(json!({"args": ["a", 1]}), json!({"args": ["a", 1.0]})).is_empty());
    }

    #[test]
    fn nulls_and_empty_containers_match_absent_fields() {
        assert!(paths(json!({"a": null, "args": [], "labels": {}, "b": 1}), json!({"b": 1})).is_empty());
        assert_eq!(paths(json!({"emptyDir": {}}), json!({"emptyDir": {"medium": ""}})), Vec::<String>::new());
    }

    #[test]
    fn secret_string_data_compares_as_stored_data() {
        let body = json!({"apiVersion": "v1", "kind": "Secret", "data": {"a": "eA=="}, "stringData": {"b": "hi"}});
        let stored = as_stored(&body);
        assert_eq!(stored.get("data"), Some(&json!({"a": "eA==", "b": "aGk="})));
        assert!(stored.get("stringData").is_none());
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "stringData": {"b": "hi"}});
        assert_eq!(*as_stored(&cm), cm);
    }

    #[test]
    fn the_applied_hash_is_skipped() {
        let d = json!({"metadata": {"annotations": {APPLIED_HASH: "new", "x": "1"}}});
        let l = json!({"metadata": {"annotations": {APPLIED_HASH: "old", "x": "1"}}});
        assert!(paths(d, l).is_empty());
    }
}
