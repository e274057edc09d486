//! GET of one object and LIST with label and field selectors, `limit` and `continue`.

use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Value};

use super::{served, table, Body, Request, Response};
use crate::cluster::Cluster;
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::selector::{supported_field_selectors, FieldSelector, LabelSelector};
use crate::status::ApiError;

/// GET of one object.
pub fn get(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let name = path.name.as_deref().unwrap_or_default();
    let namespace = path.namespace.as_deref().unwrap_or_default();
    let obj =
        cluster.lock().get(&rtype.key(), namespace, name).cloned().ok_or_else(|| ApiError::not_found(&rtype.group, &rtype.plural, name))?;
    let obj = served(obj, rtype);
    if table::wanted(req) {
        return Ok(Response::ok(table::table(rtype, &[obj], "", None)));
    }
    Ok(Response::ok(obj))
}

/// Where a continued LIST resumes.
#[derive(serde::Serialize, serde::Deserialize)]
struct Continue {
    /// `resourceVersion` of the first page.
    rv: u64,
    /// The last `(namespace, name)` served.
    after: (String, String),
}

/// The selectors of a LIST or watch.
pub struct Filter {
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
    supported: &'static [&'static str],
}

impl Filter {
    /// The selectors in the request.
    pub fn of(req: &Request, rtype: &ResourceType) -> Result<Filter, ApiError> {
        let labels = match req.param("labelSelector").filter(|s| !s.is_empty()) {
            Some(s) => Some(LabelSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?),
            None => None,
        };
        let fields = match req.param("fieldSelector").filter(|s| !s.is_empty()) {
            Some(s) => Some(FieldSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?),
            None => None,
        };
        let filter = Filter { labels, fields, supported: supported_field_selectors(&rtype.group, &rtype.kind) };
        // Unsupported field labels are an error even when nothing would match.
        if let Some(f) = &filter.fields {
            f.matches(&json!({}), filter.supported).map_err(|e| ApiError::bad_request(e.to_string()))?;
        }
        Ok(filter)
    }

    /// Whether the object passes.
    pub fn matches(&self, obj: &Value) -> bool {
        let empty = serde_json::Map::new();
        let labels = obj["metadata"]["labels"].as_object().unwrap_or(&empty);
        self.labels.as_ref().is_none_or(|s| s.matches(labels))
            && self.fields.as_ref().is_none_or(|f| f.matches(obj, self.supported).unwrap_or(false))
    }
}

/// LIST of a collection.
pub fn list(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let filter = Filter::of(req, rtype)?;
    let limit = match req.param("limit") {
        Some(l) => l.parse::<usize>().map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?,
        None => 0,
    };
    let start = match req.param("continue").filter(|c| !c.is_empty()) {
        Some(token) => Some(decode_continue(token)?),
        None => None,
    };
    let state = cluster.lock();
    let rv = start.as_ref().map_or(state.resource_version, |c| c.rv);
    let namespace = path.namespace.as_deref();
    let mut selected: Vec<&Value> = Vec::new();
    let mut remaining = 0u64;
    let mut last = None;
    let objects = state.objects.get(&rtype.key());
    for ((ns, name), obj) in objects.into_iter().flatten() {
        if namespace.is_some_and(|want| want != ns) {
            continue;
        }
        if start.as_ref().is_some_and(|c| (ns, name) <= (&c.after.0, &c.after.1)) {
            continue;
        }
        if !filter.matches(obj) {
            continue;
        }
        if limit > 0 && selected.len() >= limit {
            remaining += 1;
            continue;
        }
        last = Some((ns.clone(), name.clone()));
        selected.push(obj);
    }
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if remaining > 0 {
        if let Some(after) = last {
            let token = serde_json::to_vec(&Continue { rv, after }).unwrap_or_default();
            metadata["continue"] = json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token));
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    if table::wanted(req) {
        let items: Vec<Value> = selected.into_iter().map(|o| served(o.clone(), rtype)).collect();
        drop(state);
        return Ok(Response::ok(table::table(rtype, &items, &rv.to_string(), metadata.get("continue").and_then(Value::as_str))));
    }
    if metadata_only(req) {
        let items: Vec<Value> = selected
            .iter()
            .map(|o| json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": o["metadata"]}))
            .collect();
        return Ok(Response::ok(
            json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList", "metadata": metadata, "items": items}),
        ));
    }
    // Written straight from the store, under the lock: no copy of the objects.
    Ok(Response { status: 200, headers: Vec::new(), body: Body::Raw(list_bytes(rtype, &metadata, &selected)) })
}

/// Whether the client asked for metadata only (`as=PartialObjectMetadataList`, what
/// `kubectl get -o name` and kube-rs' `list_metadata` send).
fn metadata_only(req: &Request) -> bool {
    req.accept.as_deref().is_some_and(|a| a.contains("as=PartialObjectMetadataList"))
}

/// The JSON of a `<Kind>List`, each item as served at `rtype`'s version.
fn list_bytes(rtype: &ResourceType, metadata: &Value, items: &[&Value]) -> Vec<u8> {
    let api_version = rtype.api_version();
    let mut out = Vec::with_capacity(64 + items.len() * 512);
    out.extend_from_slice(b"{\"apiVersion\":");
    let _ = serde_json::to_writer(&mut out, &api_version);
    out.extend_from_slice(b",\"kind\":");
    let _ = serde_json::to_writer(&mut out, &format!("{}List", rtype.kind));
    out.extend_from_slice(b",\"metadata\":");
    let _ = serde_json::to_writer(&mut out, metadata);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let as_served = item["apiVersion"].as_str() == Some(api_version.as_str()) && item["kind"].as_str() == Some(rtype.kind.as_str());
        if as_served {
            let _ = serde_json::to_writer(&mut out, item);
        } else {
            let _ = serde_json::to_writer(&mut out, &served((*item).clone(), rtype));
        }
    }
    out.extend_from_slice(b"]}");
    out
}

fn decode_continue(token: &str) -> Result<Continue, ApiError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| ApiError::bad_request("continue key is not valid: illegal base64 data"))?;
    serde_json::from_slice(&bytes).map_err(|_| ApiError::bad_request("continue key is not valid: not a continue token of this server"))
}
