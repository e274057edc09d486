//! The sandbox's own endpoints under `/sandbox.cairn.dev/`: request counter, write log, faults,
//! shutdown. They are not counted and never faulted.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{Request, Response};
use crate::cluster::Cluster;
use crate::faults::Faults;
use crate::status::ApiError;

/// Answers a control request.
pub fn handle(cluster: &Arc<Cluster>, req: &Request, what: &str) -> Result<Response, ApiError> {
    match (req.method.as_str(), what) {
        ("GET", "requests") => {
            let counter = cluster.counter.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let total: u64 = counter.values().sum();
            Ok(Response::ok(json!({"total": total, "byVerbAndResource": counter})))
        }
        ("DELETE", "requests") => {
            cluster.counter.lock().unwrap_or_else(|p| p.into_inner()).clear();
            Ok(Response::ok(json!({})))
        }
        ("GET", "writes") => {
            let since = req.param("since").and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            let writes: Vec<Value> = cluster
                .lock()
                .writes
                .iter()
                .filter(|w| w.seq > since)
                .filter(|w| req.param("controllers") == Some("true") || !w.controller)
                .map(|w| serde_json::to_value(w).unwrap_or(Value::Null))
                .collect();
            Ok(Response::ok(json!({"writes": writes})))
        }
        ("GET", "faults") => {
            let faults = cluster.faults.lock().unwrap_or_else(|p| p.into_inner()).clone();
            Ok(Response::ok(serde_json::to_value(faults).unwrap_or(Value::Null)))
        }
        ("PUT", "faults") => {
            let faults: Faults = serde_json::from_slice(&req.body).map_err(|e| ApiError::bad_request(format!("not a fault list: {e}")))?;
            *cluster.faults.lock().unwrap_or_else(|p| p.into_inner()) = faults.clone();
            Ok(Response::ok(serde_json::to_value(faults).unwrap_or(Value::Null)))
        }
        ("DELETE", "faults") => {
            *cluster.faults.lock().unwrap_or_else(|p| p.into_inner()) = Faults::default();
            Ok(Response::ok(json!({})))
        }
        ("GET", "info") => Ok(Response::ok(
            json!({"pid": std::process::id(), "address": cluster.address, "resourceVersion": cluster.lock().resource_version.to_string()}),
        )),
        _ => Err(ApiError::no_route(&req.path)),
    }
}
