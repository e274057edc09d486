//! Fields cairn applied before and no longer declares, read from `metadata.managedFields`
//! (structured-merge-diff `fieldsV1`: `f:<field>`, `k:<key json>`, `v:<value json>`, `i:<index>`,
//! `.` for the node itself).

use serde_json::{Map, Value as Json};

use super::compare::{values_eq, Diff};
use super::path::Seg;
use super::types::FieldOp;
use crate::model::FIELD_MANAGER;

/// Parses one `fieldsV1` key into a path step.
fn parse_key(key: &str) -> Option<Seg> {
    let (kind, rest) = key.split_once(':')?;
    match kind {
        "f" => Some(Seg::Key(rest.to_string())),
        "k" => match serde_json::from_str::<Json>(rest).ok()? {
            Json::Object(m) => Some(Seg::Item(m.into_iter().collect())),
            _ => None,
        },
        "v" => serde_json::from_str(rest).ok().map(Seg::Value),
        "i" => rest.parse().ok().map(Seg::Index),
        _ => None,
    }
}

/// The value at one path step. A key field the item leaves out matches when it is `protocol`
/// and the key says `TCP` (the API server's default, which `managedFields` keys record).
pub(crate) fn resolve<'a>(value: &'a Json, seg: &Seg) -> Option<&'a Json> {
    match seg {
        Seg::Key(k) => value.as_object()?.get(k),
        Seg::Item(pairs) => value.as_array()?.iter().find(|item| {
            pairs.iter().all(|(k, v)| match item.get(k) {
                Some(x) => values_eq(x, v),
                None => k == "protocol" && v.as_str() == Some("TCP"),
            })
        }),
        Seg::Index(i) => value.as_array()?.get(*i),
        Seg::Value(v) => value.as_array()?.iter().find(|x| values_eq(x, v)),
    }
}

/// Whether a path step matches a parsed `fieldsV1` key.
fn seg_matches(seg: &Seg, key: &Seg) -> bool {
    match (seg, key) {
        (Seg::Key(a), Seg::Key(b)) => a == b,
        (Seg::Index(a), Seg::Index(b)) => a == b,
        (Seg::Value(a), Seg::Value(b)) => values_eq(a, b),
        // A declared item key may leave out `protocol`, which the server records as TCP.
        (Seg::Item(a), Seg::Item(b)) => {
            a.iter().all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && values_eq(v, v2)))
                && b.iter().all(|(k, v)| a.iter().any(|(k2, _)| k == k2) || (k == "protocol" && v.as_str() == Some("TCP")))
        }
        _ => false,
    }
}

/// Whether a `fieldsV1` tree holds the path (or something below it).
fn tree_holds(tree: &Json, segs: &[Seg]) -> bool {
    let Some((first, rest)) = segs.split_first() else { return true };
    let Some(map) = tree.as_object() else { return false };
    map.iter().any(|(k, child)| parse_key(k).is_some_and(|key| seg_matches(first, &key)) && tree_holds(child, rest))
}

/// The field managers other than cairn's apply that own a path of the live object (who
/// changed it, for plans: `kubectl-set`, `horizontal-pod-autoscaler`).
pub(crate) fn owners(live: &Json, segs: &[Seg]) -> Vec<String> {
    let Some(entries) = live.pointer("/metadata/managedFields").and_then(Json::as_array) else { return Vec::new() };
    let mut out: Vec<String> = entries
        .iter()
        .filter(|e| !is_cairn_apply(e))
        .filter(|e| e.get("fieldsV1").is_some_and(|t| tree_holds(t, segs)))
        .filter_map(|e| e.get("manager").and_then(Json::as_str).map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether an entry is cairn's own server-side apply of the main resource.
fn is_cairn_apply(entry: &Json) -> bool {
    entry.get("manager").and_then(Json::as_str) == Some(FIELD_MANAGER)
        && entry.get("operation").and_then(Json::as_str) == Some("Apply")
        && entry.get("subresource").and_then(Json::as_str).is_none_or(str::is_empty)
}

/// Whether a `fieldsV1` tree holds the node at `raw` (raw `fieldsV1` keys).
fn tree_has(tree: &Json, raw: &[&str]) -> bool {
    let mut node = tree;
    for k in raw {
        match node.get(*k) {
            Some(n) => node = n,
            None => return false,
        }
    }
    true
}

/// The removal walk over cairn's `fieldsV1`.
struct Walk<'a, 'o> {
    /// The other managers' `fieldsV1` trees.
    others: Vec<&'a Json>,
    segs: Vec<Seg>,
    raw: Vec<&'a str>,
    out: &'o mut Vec<Diff>,
}

impl<'a> Walk<'a, '_> {
    fn node(&mut self, node: &'a Map<String, Json>, declared: Option<&Json>, live: Option<&Json>) {
        for (k, child) in node {
            if k == "." {
                continue;
            }
            let Some(seg) = parse_key(k) else { continue };
            let lv = live.and_then(|l| resolve(l, &seg));
            let dv = declared.and_then(|d| resolve(d, &seg));
            self.raw.push(k);
            self.segs.push(seg);
            match (dv, lv) {
                (Some(dv), _) => {
                    if let Some(children) = child.as_object() {
                        self.node(children, Some(dv), lv);
                    }
                }
                (None, Some(lv)) => {
                    let shared = self.others.iter().any(|t| tree_has(t, &self.raw));
                    self.out.push(Diff {
                        segs: self.segs.clone(),
                        pointer: String::new(),
                        op: if shared { FieldOp::Release } else { FieldOp::Remove },
                        before: Some(lv.clone()),
                        after: None,
                    });
                }
                // Already gone from the live object: nothing to remove.
                (None, None) => {}
            }
            self.segs.pop();
            self.raw.pop();
        }
    }
}

/// Appends a [`FieldOp::Remove`] (or [`FieldOp::Release`], when another manager owns it too)
/// for every field cairn's last apply set that `applied` no longer declares: one diff at the
/// topmost path that no longer resolves.
pub(crate) fn removals(applied: &Json, live: &Json, out: &mut Vec<Diff>) {
    let Some(entries) = live.pointer("/metadata/managedFields").and_then(Json::as_array) else { return };
    let Some(mine) = entries.iter().find(|e| is_cairn_apply(e)) else { return };
    let Some(tree) = mine.get("fieldsV1").and_then(Json::as_object) else { return };
    let others = entries.iter().filter(|e| !std::ptr::eq(*e, mine)).filter_map(|e| e.get("fieldsV1")).collect();
    Walk { others, segs: Vec::new(), raw: Vec::new(), out }.node(tree, Some(applied), Some(live));
}

#[cfg(test)]
mod tests {
    use super::super::path::render;
    use super::*;
    use serde_json::json;

    fn run(applied: Json, live: Json) -> Vec<(String, FieldOp)> {
        let mut out = Vec::new();
        removals(&applied, &live, &mut out);
        out.iter().map(|d| (render(&d.segs), d.op)).collect()
    }

    fn live_with(fields: Json, other: Json) -> Json {
        json!({
            "metadata": {"name": "x", "labels": {"a": "1", "b": "2"}, "managedFields": [
                {"manager": "cairn", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1": fields},
                {"manager": "hpa", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1": other},
            ]},
            "spec": {"replicas": 4, "template": {"spec": {"containers": [
                {"name": "web", "image": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                {"name": "side", "image": "s"}]}}}
        })
    }

    #[test]
    fn reports_the_topmost_missing_path() {
        let fields = json!({"f:metadata": {"f:labels": {"f:a": {}, "f:b": {}}}, "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}},
            "k:{\"name\":\"side\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}});
        let applied = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "b", "ports": [{"containerPort": 80}]}]}}}});
        let got = run(applied.clone(), live_with(fields.clone(), json!({})));
        assert_eq!(
            got,
            vec![
                ("metadata.labels.b".to_string(), FieldOp::Remove),
                ("spec.replicas".to_string(), FieldOp::Remove),
                ("spec.template.spec.containers[name=side]".to_string(), FieldOp::Remove),
            ]
        );
        let got = run(applied, live_with(fields, json!({"f:spec": {"f:replicas": {}}})));
        assert_eq!(got.get(1), Some(&("spec.replicas".to_string(), FieldOp::Release)));
    }
}
