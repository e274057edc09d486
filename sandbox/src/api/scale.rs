//! The `scale` subresource of Deployments, StatefulSets and ReplicaSets (`kubectl scale`,
//! autoscalers): an `autoscaling/v1 Scale` view of `spec.replicas`. A write is an `Update` of
//! `spec.replicas` recorded in `managedFields` with `subresource: scale`, whoever makes it: a
//! client here, the HorizontalPodAutoscaler controller through [`set_replicas`].

use std::sync::Arc;

use serde_json::{json, Value};

use super::write::{commit, Ownership, Validation, WriteCtx};
use super::{served, Request, Response};
use crate::cluster::Cluster;
use crate::patch;
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::status::ApiError;
use crate::store::State;

/// Whether the type has a `scale` subresource.
pub fn has_scale(rtype: &ResourceType) -> bool {
    rtype.group == "apps" && matches!(rtype.plural.as_str(), "deployments" | "statefulsets" | "replicasets")
}

fn scale_of(obj: &Value) -> Value {
    let mut labels: Vec<String> = obj["spec"]["selector"]["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    labels.sort();
    let meta = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"], "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": obj["spec"]["replicas"]},
        "status": {"replicas": obj["status"]["replicas"].as_i64().unwrap_or(0), "selector": labels.join(",")}
    })
}

/// Writes `spec.replicas` of `old` through the scale subresource: an `Update` by `ctx`'s
/// manager, recorded with `subresource: scale` (a controller passes its own [`WriteCtx`]).
pub fn set_replicas(state: &mut State, rtype: &ResourceType, old: &Value, replicas: i64, ctx: &WriteCtx) -> Result<Value, ApiError> {
    let mut next = served(old.clone(), rtype);
    next["spec"]["replicas"] = json!(replicas);
    let ctx = WriteCtx { subresource: Some("scale".to_owned()), ..ctx.clone() };
    commit(state, rtype, Some(old), next, &ctx, Ownership::Update).map(|(stored, _)| stored)
}

/// GET, PUT or PATCH of `…/<name>/scale`.
pub fn handle(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let name = path.name.clone().unwrap_or_default();
    let namespace = path.namespace.clone().unwrap_or_default();
    let doc = if req.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice::<Value>(&req.body).map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?
    };
    let result = cluster.with(|state| {
        let old = state
            .get(&rtype.key(), &namespace, &name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rtype.group, &format!("{}/scale", rtype.plural), &name))?;
        let scale = scale_of(&old);
        let wanted = match req.method.as_str() {
            "GET" => return Ok(scale),
            "PUT" => doc.clone(),
            "PATCH" => {
                let content_type = req.content_type.as_deref().unwrap_or_default();
                let mut next = scale.clone();
                if content_type.starts_with("application/json-patch+json") {
                    patch::json_patch(&mut next, &doc).map_err(|e| ApiError::bad_request(e.to_string()))?;
                } else {
                    patch::merge_patch(&mut next, &doc);
                }
                next
            }
            _ => return Err(ApiError::method_not_allowed()),
        };
        if let Some(rv) = wanted["metadata"]["resourceVersion"].as_str().filter(|rv| !rv.is_empty()) {
            if Some(rv) != old["metadata"]["resourceVersion"].as_str() {
                return Err(ApiError::stale(&rtype.group, &rtype.plural, &name));
            }
        }
        let Some(replicas) = wanted["spec"]["replicas"].as_i64().filter(|r| *r >= 0) else {
            return Err(ApiError::invalid(
                "Scale",
                "autoscaling",
                &name,
                format!(
                    "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {}: must be greater than or equal to 0",
                    wanted["spec"]["replicas"]
                ),
                Vec::new(),
            ));
        };
        let ctx = WriteCtx { validation: Validation::Ignore, ..WriteCtx::of(req, "update", path) };
        let stored = set_replicas(state, rtype, &old, replicas, &ctx)?;
        Ok(scale_of(&stored))
    })?;
    cluster.wake_controllers.notify_one();
    Ok(Response::ok(result))
}
