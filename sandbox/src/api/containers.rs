//! What the sandbox answers where a real cluster would reach a running container: `kubectl
//! logs`, `exec`, `attach` and `port-forward` (the pod subresources `log`, `exec`, `attach`,
//! `portforward`) and `kubectl top` (`metrics.k8s.io`). The sandbox runs no containers, so each
//! gets a Status saying so.

use std::sync::Arc;

use crate::cluster::Cluster;
use crate::registry::TypeKey;
use crate::route::ResourcePath;
use crate::status::ApiError;

/// The pod subresources that need a running container.
pub const SUBRESOURCES: &[&str] = &["log", "exec", "attach", "portforward"];

/// The error for a request to one of [`SUBRESOURCES`]: 404 when the pod does not exist (as
/// kube-apiserver), else 400 naming what the sandbox cannot do and where it is documented.
pub fn refuse(cluster: &Arc<Cluster>, path: &ResourcePath, sub: &str) -> ApiError {
    let name = path.name.as_deref().unwrap_or_default();
    let namespace = path.namespace.as_deref().unwrap_or_default();
    let key = TypeKey { group: String::new(), plural: "pods".into() };
    if cluster.lock().get(&key, namespace, name).is_none() {
        return ApiError::not_found("", "pods", name);
    }
    ApiError::bad_request(no_containers(&format!("pod \"{name}\" {}", what(sub))))
}

/// The answer to every `metrics.k8s.io` request: 503, as from a metrics server with nothing to
/// report.
pub fn no_metrics() -> ApiError {
    ApiError::service_unavailable(no_containers("it has no CPU or memory usage to show"))
}

/// `the cairn sandbox runs no containers, so …; see docs/sandbox.md`.
pub fn no_containers(consequence: &str) -> String {
    format!("the cairn sandbox runs no containers, so {consequence}; docs/sandbox.md says what it simulates")
}

fn what(sub: &str) -> &'static str {
    match sub {
        "log" => "has no logs to show",
        "exec" => "has no container to run a command in",
        "attach" => "has no container to attach to",
        _ => "has no port to forward to",
    }
}
