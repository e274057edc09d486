//! Field sets: a trie of field paths with the `fieldsV1` wire encoding.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::FieldsError;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    /// A struct or map field (`f:name`).
    Field(String),
    /// A list-map item, by its key fields sorted by name (`k:{"name":"web"}`).
    Key(Vec<(String, Value)>),
    /// A set item (`v:"x"`).
    Value(Value),
    /// A list index (`i:0`); only read, never produced.
    Index(usize),
}

impl PathElement {
    /// The `fieldsV1` key of this element.
    pub fn encode(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut sorted: Vec<&(String, Value)> = fields.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                let map: Map<String, Value> = sorted.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                format!("k:{}", Value::Object(map))
            }
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses one `fieldsV1` key (not `.`).
    pub fn decode(key: &str) -> Result<PathElement, FieldsError> {
        let bad = || FieldsError::BadKey(key.to_owned());
        let (kind, rest) = key.split_once(':').ok_or_else(bad)?;
        match kind {
            "f" => Ok(PathElement::Field(rest.to_owned())),
            "k" => {
                let parsed: Value = serde_json::from_str(rest).map_err(|e| FieldsError::BadKeyJson(key.to_owned(), e.to_string()))?;
                let Value::Object(map) = parsed else {
                    return Err(FieldsError::BadKeyJson(key.to_owned(), "expected a JSON object".to_owned()));
                };
                let mut fields: Vec<(String, Value)> = map.into_iter().collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(PathElement::Key(fields))
            }
            "v" => serde_json::from_str(rest).map(PathElement::Value).map_err(|e| FieldsError::BadKeyJson(key.to_owned(), e.to_string())),
            "i" => rest.parse::<usize>().map(PathElement::Index).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

/// Renders as structured-merge-diff does: `.name`, `[name="web"]`, `[="x"]`, `[0]`.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", render_value(v))).collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", render_value(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// structured-merge-diff's `value.ToString`: strings quoted, maps as `{k=v}`.
fn render_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::String(_) | Value::Number(_) | Value::Bool(_) => v.to_string(),
        Value::Array(items) => format!("[{}]", items.iter().map(render_value).collect::<Vec<_>>().join(",")),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.into_iter().map(|k| format!("{k}={}", render_value(&map[k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
    }
}

/// A set of field paths. A node may be a member itself (`.` in `fieldsV1`) and hold
/// members below it; the root is never a member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Children by encoded path element (`f:x`, `k:{…}`, `v:…`, `i:n`).
    pub(crate) children: BTreeMap<String, Node>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) member: bool,
    pub(crate) set: FieldSet,
}

impl Node {
    fn is_empty(&self) -> bool {
        !self.member && self.set.is_empty()
    }
}

impl FieldSet {
    /// An empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// Whether the set has no member at any depth.
    pub fn is_empty(&self) -> bool {
        self.children.values().all(Node::is_empty)
    }

    /// Reads a `fieldsV1` object.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, FieldsError> {
        decode_node(v, "").map(|(set, _)| set)
    }

    /// The `fieldsV1` object of this set, keys sorted, `.` first.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.encode())
    }

    fn encode(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, node) in &self.children {
            if node.is_empty() {
                continue;
            }
            let mut inner = Map::new();
            if !node.set.is_empty() {
                if node.member {
                    inner.insert(".".to_owned(), Value::Object(Map::new()));
                }
                inner.extend(node.set.encode());
            }
            out.insert(key.clone(), Value::Object(inner));
        }
        out
    }

    /// Adds `path` as a member (its parents are not made members).
    pub fn insert(&mut self, path: &[PathElement]) {
        let encoded: Vec<String> = path.iter().map(PathElement::encode).collect();
        self.insert_encoded(&encoded);
    }

    /// Whether `path` is a member.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        let encoded: Vec<String> = path.iter().map(PathElement::encode).collect();
        self.contains_encoded(&encoded)
    }

    pub(crate) fn insert_encoded(&mut self, path: &[String]) {
        let Some((last, parents)) = path.split_last() else { return };
        let mut set = self;
        for key in parents {
            set = &mut set.children.entry(key.clone()).or_default().set;
        }
        set.children.entry(last.clone()).or_default().member = true;
    }

    pub(crate) fn contains_encoded(&self, path: &[String]) -> bool {
        let Some((last, parents)) = path.split_last() else { return false };
        let mut set = self;
        for key in parents {
            match set.children.get(key) {
                Some(node) => set = &node.set,
                None => return false,
            }
        }
        set.children.get(last).is_some_and(|n| n.member)
    }

    /// Members of either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        for (key, node) in &other.children {
            let mine = out.children.entry(key.clone()).or_default();
            mine.member |= node.member;
            mine.set = mine.set.union(&node.set);
        }
        out.prune_empty();
        out
    }

    /// Members of both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        for (key, node) in &self.children {
            if let Some(theirs) = other.children.get(key) {
                let both = Node { member: node.member && theirs.member, set: node.set.intersection(&theirs.set) };
                if !both.is_empty() {
                    out.children.insert(key.clone(), both);
                }
            }
        }
        out
    }

    /// Members of `self` not in `other`; removing a parent does not remove its children.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        for (key, node) in &self.children {
            let rest = match other.children.get(key) {
                Some(theirs) => Node { member: node.member && !theirs.member, set: node.set.difference(&theirs.set) },
                None => node.clone(),
            };
            if !rest.is_empty() {
                out.children.insert(key.clone(), rest);
            }
        }
        out
    }

    /// Every member rendered as structured-merge-diff prints paths, in its iteration order
    /// (at each level members first, then deeper paths).
    pub fn paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_paths(&mut String::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut String, out: &mut Vec<String>) {
        let mut nodes: Vec<(String, &Node, Option<PathElement>)> =
            self.children.iter().map(|(k, n)| (k.clone(), n, PathElement::decode(k).ok())).collect();
        nodes.sort_by(|a, b| match (&a.2, &b.2) {
            (Some(x), Some(y)) => element_cmp(x, y),
            _ => a.0.cmp(&b.0),
        });
        let render = |key: &str, pe: &Option<PathElement>| pe.as_ref().map_or_else(|| key.to_owned(), ToString::to_string);
        for (key, node, pe) in &nodes {
            if node.member {
                out.push(format!("{prefix}{}", render(key, pe)));
            }
        }
        for (key, node, pe) in &nodes {
            if !node.set.is_empty() {
                let len = prefix.len();
                prefix.push_str(&render(key, pe));
                node.set.collect_paths(prefix, out);
                prefix.truncate(len);
            }
        }
    }

    /// The set with every struct field that has members below it made a member too
    /// (structured-merge-diff's `EnsureNamedFieldsAreMembers`, treating every field as named).
    pub(crate) fn with_named_members(&self) -> FieldSet {
        let mut out = FieldSet::new();
        for (key, node) in &self.children {
            let set = node.set.with_named_members();
            let member = node.member || (key.starts_with("f:") && !set.is_empty());
            out.children.insert(key.clone(), Node { member, set });
        }
        out.prune_empty();
        out
    }

    /// The subset below `key`.
    pub(crate) fn child(&self, key: &str) -> Option<&FieldSet> {
        self.children.get(key).map(|n| &n.set)
    }

    /// Whether `key` at this level is a member.
    pub(crate) fn has_member(&self, key: &str) -> bool {
        self.children.get(key).is_some_and(|n| n.member)
    }

    pub(crate) fn prune_empty(&mut self) {
        self.children.retain(|_, node| {
            node.set.prune_empty();
            !node.is_empty()
        });
    }
}

/// Decodes one node; returns its children and whether the node itself is a member.
fn decode_node(v: &Value, at: &str) -> Result<(FieldSet, bool), FieldsError> {
    let Value::Object(map) = v else {
        return Err(FieldsError::NotAnObject(if at.is_empty() { "fieldsV1".to_owned() } else { at.to_owned() }));
    };
    let mut set = FieldSet::new();
    let mut member = false;
    for (key, child) in map {
        if key == "." {
            member = true;
            continue;
        }
        let canonical = PathElement::decode(key)?.encode();
        let (grand, child_member) = decode_node(child, key)?;
        let node = set.children.entry(canonical).or_default();
        node.member |= child_member;
        node.set = node.set.union(&grand);
    }
    if set.is_empty() {
        member = true;
    }
    Ok((set, member))
}

/// structured-merge-diff's order of path elements: fields, then keys, values, indexes.
fn element_cmp(a: &PathElement, b: &PathElement) -> Ordering {
    fn rank(e: &PathElement) -> u8 {
        match e {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }
    match (a, b) {
        (PathElement::Field(x), PathElement::Field(y)) => x.cmp(y),
        (PathElement::Key(x), PathElement::Key(y)) => {
            for ((xn, xv), (yn, yv)) in x.iter().zip(y) {
                let c = xn.cmp(yn).then_with(|| value_cmp(xv, yv));
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (PathElement::Value(x), PathElement::Value(y)) => value_cmp(x, y),
        (PathElement::Index(x), PathElement::Index(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// structured-merge-diff's `value.Compare`: numbers, strings, bools, lists, maps, null.
fn value_cmp(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x.as_f64().unwrap_or(0.0).total_cmp(&y.as_f64().unwrap_or(0.0)),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (xi, yi) in x.iter().zip(y) {
                let c = value_cmp(xi, yi);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<(&String, &Value)> = x.iter().collect();
            let mut ys: Vec<(&String, &Value)> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for ((xk, xv), (yk, yv)) in xs.iter().zip(&ys) {
                let c = xk.cmp(yk).then_with(|| value_cmp(xv, yv));
                if c != Ordering::Equal {
                    return c;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(v: Value) -> FieldSet {
        FieldSet::from_fields_v1(&v).unwrap()
    }

    #[test]
    fn keys_are_canonical_and_sorted_with_dot_first() {
        // Input in SMD wire order ("." last, key JSON with spaces and unsorted fields).
        let input = json!({
            "f:spec": {"f:ports": {"k:{\"protocol\": \"TCP\", \"port\": 80}": {"f:port": {}, ".": {}}}},
            "f:metadata": {"f:labels": {"f:b": {}, ".": {}, "f:a": {}}}
        });
        let out = serde_json::to_string(&set(input).to_fields_v1()).unwrap();
        assert_eq!(
            out,
            r#"{"f:metadata":{"f:labels":{".":{},"f:a":{},"f:b":{}}},"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}}}}"#
        );
    }

    #[test]
    fn a_node_with_only_a_dot_is_a_member_leaf() {
        let s = set(json!({"f:a": {".": {}}}));
        assert!(s.contains(&[PathElement::Field("a".into())]));
        assert_eq!(s.to_fields_v1(), json!({"f:a": {}}));
    }

    #[test]
    fn set_operations_are_exact_not_recursive() {
        let a = set(json!({"f:x": {".": {}, "f:y": {}}, "f:z": {}}));
        let b = set(json!({"f:x": {}}));
        assert_eq!(a.difference(&b).to_fields_v1(), json!({"f:x": {"f:y": {}}, "f:z": {}}));
        assert_eq!(b.difference(&a), FieldSet::new());
        assert_eq!(a.intersection(&b).to_fields_v1(), json!({"f:x": {}}));
        assert_eq!(b.union(&set(json!({"f:x": {"f:w": {}}}))).to_fields_v1(), json!({"f:x": {".": {}, "f:w": {}}}));
        assert!(a.intersection(&set(json!({"f:q": {}}))).is_empty());
        assert!(!a.is_empty());
    }

    #[test]
    fn paths_render_like_structured_merge_diff() {
        let s = set(json!({
            "f:metadata": {"f:finalizers": {"v:\"x\"": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}},
                "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {"f:image": {}}}}}
            }
        }));
        assert_eq!(
            s.paths(),
            vec![
                ".metadata.finalizers[=\"x\"]",
                ".spec.replicas",
                ".spec.ports[port=80,protocol=\"TCP\"]",
                ".spec.ports[port=80,protocol=\"TCP\"].port",
                ".spec.template.spec.containers[name=\"web\"].image",
            ]
        );
    }

    #[test]
    fn paths_order_numeric_keys_numerically() {
        let s = set(json!({"f:p": {"k:{\"port\":10}": {}, "k:{\"port\":9}": {}}, "f:a": {}}));
        assert_eq!(s.paths(), vec![".a", ".p[port=9]", ".p[port=10]"]);
    }

    #[test]
    fn index_keys_decode_and_round_trip() {
        let s = set(json!({"f:args": {"i:0": {}, "i:1": {}}}));
        assert!(s.contains(&[PathElement::Field("args".into()), PathElement::Index(1)]));
        assert_eq!(s.paths(), vec![".args[0]", ".args[1]"]);
    }

    #[test]
    fn malformed_keys_are_errors() {
        let bad = [
            json!({"nocolon": {}}),
            json!({"x:foo": {}}),
            json!({"k:{not json": {}}),
            json!({"k:[1,2]": {}}),
            json!({"v:{": {}}),
            json!({"i:-1": {}}),
            json!({"f:a": "leaf"}),
            json!(["f:a"]),
            json!({"f:a": {"f:b": {"k:{\"name\":": {}}}}),
        ];
        for v in bad {
            assert!(FieldSet::from_fields_v1(&v).is_err(), "{v} should not decode");
        }
    }

    #[test]
    fn insert_marks_only_the_leaf() {
        let mut s = FieldSet::new();
        s.insert(&[PathElement::Field("a".into()), PathElement::Field("b".into())]);
        assert!(s.contains(&[PathElement::Field("a".into()), PathElement::Field("b".into())]));
        assert!(!s.contains(&[PathElement::Field("a".into())]));
        assert_eq!(s.with_named_members().to_fields_v1(), json!({"f:a": {".": {}, "f:b": {}}}));
    }
}
