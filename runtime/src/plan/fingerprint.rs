//! The fingerprint of a live object: what apply checks to tell that the object has not changed
//! since it was planned (status and `resourceVersion` bumps do not count).

use serde_json::{Map, Value as Json};

use super::compare::{as_stored, find_item, item_key, merge_key};
use crate::hash::sha256_hex;

/// Stands in for a Secret's values, which no fingerprint may hash unkeyed.
const HIDDEN: &str = "(sensitive)";

/// Which object a projection walks (its `apiVersion` and `kind`) and where it is (field names
/// from the root), for the lists' merge keys.
struct At<'a> {
    api_version: &'a str,
    kind: &'a str,
    path: Vec<&'a str>,
}

/// The live values at the declared paths, shaped like the declaration (the comparison's walk).
fn project<'a>(at: &mut At<'a>, declared: &'a Json, live: &Json) -> Json {
    match (declared, live) {
        (Json::Object(d), Json::Object(l)) => Json::Object(
            d.iter()
                .map(|(k, dv)| {
                    at.path.push(k);
                    let projected = l.get(k).map_or(Json::Null, |lv| project(at, dv, lv));
                    at.path.pop();
                    (k.clone(), projected)
                })
                .collect(),
        ),
        (Json::Array(d), Json::Array(l)) if d.iter().all(Json::is_object) => match merge_key(at.api_version, at.kind, &at.path, d) {
            Some(mk) => {
                Json::Array(d.iter().map(|di| find_item(l, &item_key(di, mk)).map_or(Json::Null, |li| project(at, di, li))).collect())
            }
            None if d.len() == l.len() => Json::Array(d.iter().zip(l).map(|(di, li)| project(at, di, li)).collect()),
            None => live.clone(),
        },
        _ => live.clone(),
    }
}

/// Keys sorted at every level, so the hash does not depend on the order the server sent.
fn canonical(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Json::Object(keys.into_iter().filter_map(|k| m.get(k).map(|x| (k.clone(), canonical(x)))).collect())
        }
        Json::Array(a) => Json::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Replaces every value under a v1 Secret's `data`/`stringData`/`binaryData` (and its
/// `last-applied-configuration` annotation, when projected) with a marker; the keys still count.
fn hide_secret_values(live: &Json, projected: &mut Json) {
    let is_secret =
        live.get("apiVersion").and_then(Json::as_str) == Some("v1") && live.get("kind").and_then(Json::as_str) == Some("Secret");
    if !is_secret {
        return;
    }
    // `kubectl apply` copies the whole Secret, values included, into this annotation.
    if let Some(Json::Object(a)) = projected.get_mut("annotations") {
        if let Some(v) = a.get_mut("kubectl.kubernetes.io/last-applied-configuration") {
            *v = Json::String(HIDDEN.into());
        }
    }
    for field in ["data", "stringData", "binaryData"] {
        if let Some(Json::Object(m)) = projected.get_mut(field) {
            for v in m.values_mut() {
                if !v.is_null() {
                    *v = Json::String(HIDDEN.into());
                }
            }
        }
    }
}

/// SHA-256 (hex) of `metadata.generation` and the live values at the declared paths (the
/// comparison's walk over `declared`, e.g. [`crate::hash::applied_body`]); with no declaration, of the labels, annotations, `spec`,
/// `data` and `binaryData`. `resourceVersion` and `status` do not count, so a status update
/// leaves it unchanged while an out-of-band edit of a declared field changes it. A Secret's
/// values are left out (only its keys count): an unkeyed hash of them would leak them.
pub fn fingerprint(live: &Json, declared: Option<&Json>) -> String {
    let mut projected = match declared {
        Some(d) => {
            let stored = as_stored(d);
            let api_version = stored.get("apiVersion").and_then(Json::as_str).unwrap_or_default();
            let kind = stored.get("kind").and_then(Json::as_str).unwrap_or_default();
            project(&mut At { api_version, kind, path: Vec::new() }, &stored, live)
        }
        None => {
            let mut m = Map::new();
            for (name, pointer) in [
                ("labels", "/metadata/labels"),
                ("annotations", "/metadata/annotations"),
                ("spec", "/spec"),
                ("data", "/data"),
                ("binaryData", "/binaryData"),
            ] {
                if let Some(v) = live.pointer(pointer) {
                    m.insert(name.to_string(), v.clone());
                }
            }
            Json::Object(m)
        }
    };
    hide_secret_values(live, &mut projected);
    let generation = live.pointer("/metadata/generation").cloned().unwrap_or(Json::Null);
    let mut doc = Map::new();
    doc.insert("generation".into(), generation);
    doc.insert("values".into(), canonical(&projected));
    sha256_hex(Json::Object(doc).to_string().as_bytes())
}
