//! The `eviction` subresource of Pods (`kubectl drain`): a `policy/v1` (or `v1beta1`)
//! `Eviction` deletes the pod when no PodDisruptionBudget covers it, or when the one that does
//! allows a disruption (which it then records: `disruptionsAllowed` less one, the pod in
//! `disruptedPods`); otherwise it is refused with kube-apiserver 1.33's 429 and its cause.

use std::sync::Arc;

use serde_json::{json, Value};

use super::write::{delete_object, Propagation, WriteCtx};
use super::{media, Request, Response};
use crate::cluster::Cluster;
use crate::controllers::{self, disruption};
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::status::ApiError;
use crate::store::{self, State};

/// The refusal's message.
pub const REFUSED: &str = "Cannot evict pod as it would violate the pod's disruption budget.";
/// What more than one budget covering the pod answers (a 500, as kube-apiserver).
pub const MANY_BUDGETS: &str = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";

fn too_many_requests(cause: String, retry_after: u64) -> ApiError {
    let mut details = json!({"causes": [{"reason": "DisruptionBudget", "message": cause}]});
    if retry_after > 0 {
        details["retryAfterSeconds"] = json!(retry_after);
    }
    ApiError {
        code: 429,
        reason: "TooManyRequests",
        message: REFUSED.to_owned(),
        details: Some(Box::new(details)),
        retry_after: (retry_after > 0).then_some(retry_after),
    }
}

/// The `Eviction` of the request body (JSON, YAML or protobuf).
fn eviction_body(req: &Request, pods: &ResourceType) -> Result<Value, ApiError> {
    if req.body.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    if media::content_type(req) == media::PROTOBUF {
        let mut rtype = pods.clone();
        rtype.group = "policy".into();
        rtype.version = "v1".into();
        rtype.kind = "Eviction".into();
        return crate::protobuf::decode(&req.body, &rtype);
    }
    let text = std::str::from_utf8(&req.body).map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
    serde_json::from_str::<Value>(text)
        .or_else(|_| serde_yaml::from_str::<Value>(text))
        .map_err(|e| ApiError::bad_request(format!("the request body is not an Eviction: {e}")))
}

/// POST of `…/pods/<name>/eviction`.
pub fn handle(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, pods: &ResourceType) -> Result<Response, ApiError> {
    if req.method != "POST" {
        return Err(ApiError::method_not_allowed());
    }
    let name = path.name.clone().unwrap_or_default();
    let namespace = path.namespace.clone().unwrap_or_default();
    let eviction = eviction_body(req, pods)?;
    match eviction["apiVersion"].as_str() {
        None | Some("policy/v1" | "policy/v1beta1") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({other}) does not match the expected API version (policy/v1)"
            )))
        }
    }
    if eviction["metadata"]["name"].as_str() != Some(name.as_str()) {
        return Err(ApiError::bad_request("name in URL does not match name in Eviction object"));
    }
    let options = eviction["deleteOptions"].clone();
    let dry_run = req.dry_run() || options["dryRun"].as_array().is_some_and(|d| d.iter().any(|v| v == "All"));
    let propagation = match options["propagationPolicy"].as_str() {
        Some("Orphan") => Propagation::Orphan,
        Some("Foreground") => Propagation::Foreground,
        _ if options["orphanDependents"] == true => Propagation::Orphan,
        _ => Propagation::Background,
    };
    let result = cluster.with(|state| evict(state, pods, &namespace, &name, &options, propagation, dry_run))?;
    cluster.wake_controllers.notify_one();
    Ok(result)
}

fn evict(
    state: &mut State,
    pods: &ResourceType,
    namespace: &str,
    name: &str,
    options: &Value,
    propagation: Propagation,
    dry_run: bool,
) -> Result<Response, ApiError> {
    let pod = state.get(&pods.key(), namespace, name).cloned().ok_or_else(|| ApiError::not_found("", "pods", name))?;
    for (field, actual) in [("uid", &pod["metadata"]["uid"]), ("resourceVersion", &pod["metadata"]["resourceVersion"])] {
        if let Some(wanted) = options["preconditions"][field].as_str() {
            if actual.as_str() != Some(wanted) {
                return Err(ApiError::stale("", "pods", name));
            }
        }
    }
    let phase = pod["status"]["phase"].as_str().unwrap_or("Pending");
    // A pod that is not running (or already going) disrupts nothing: it is simply deleted.
    let ignores_budgets = matches!(phase, "Succeeded" | "Failed" | "Pending") || !pod["metadata"]["deletionTimestamp"].is_null();
    if !ignores_budgets {
        let budgets: Vec<Value> = controllers::objects(state, "policy", "poddisruptionbudgets", Some(namespace))
            .into_iter()
            .filter(|pdb| disruption::pods_of(state, pdb).iter().any(|p| p["metadata"]["uid"] == pod["metadata"]["uid"]))
            .collect();
        if budgets.len() > 1 {
            let status =
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": MANY_BUDGETS, "code": 500});
            return Ok(Response::json(500, status));
        }
        if let Some(pdb) = budgets.first() {
            let current = pdb["status"]["currentHealthy"].as_i64().unwrap_or(0);
            let desired = pdb["status"]["desiredHealthy"].as_i64().unwrap_or(0);
            // An unready pod does not count as healthy: evicting it takes nothing from the budget.
            let unready_and_covered = !disruption::ready(&pod) && current >= desired && desired > 0;
            if !unready_and_covered {
                decrement(state, pdb, name, dry_run)?;
            }
        }
    }
    delete_object(state, pods, namespace, name, propagation, dry_run, false)?;
    Ok(Response::json(201, json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})))
}

/// `checkAndDecrement`: refuses with 429 when the budget allows no disruption (or has not seen
/// its latest spec yet), else records the disruption in its status.
fn decrement(state: &mut State, pdb: &Value, pod: &str, dry_run: bool) -> Result<(), ApiError> {
    let name = pdb["metadata"]["name"].as_str().unwrap_or_default();
    let status = &pdb["status"];
    if status["observedGeneration"].as_i64().unwrap_or(0) < pdb["metadata"]["generation"].as_i64().unwrap_or(0) {
        return Err(too_many_requests(format!("The disruption budget {name} is still being processed by the server."), 10));
    }
    let allowed = status["disruptionsAllowed"].as_i64().unwrap_or(0);
    if allowed < 0 {
        return Err(ApiError::forbidden(format!(
            "poddisruptionbudget.policy \"{name}\" is forbidden: pdb disruptions allowed is negative"
        )));
    }
    if allowed == 0 {
        let cause = format!(
            "The disruption budget {name} needs {} healthy pods and has {} currently",
            status["desiredHealthy"].as_i64().unwrap_or(0),
            status["currentHealthy"].as_i64().unwrap_or(0)
        );
        return Err(too_many_requests(cause, 0));
    }
    if dry_run {
        return Ok(());
    }
    let mut next = status.clone();
    next["disruptionsAllowed"] = json!(allowed - 1);
    if allowed - 1 == 0 {
        disruption::set_allowed_condition(&mut next, None);
    }
    next["disruptedPods"][pod] = json!(store::now());
    let Some(pdb_type) = controllers::rtype(state, "policy", "poddisruptionbudgets") else { return Ok(()) };
    let mut updated = pdb.clone();
    updated["status"] = next;
    let ctx = WriteCtx::controller("status", "kube-apiserver", Some("status"));
    super::write::commit(state, &pdb_type, Some(pdb), updated, &ctx, super::write::Ownership::Update)?;
    Ok(())
}
