//! Rook's operator, simulated: Ceph custom resources reach `status.phase: Ready` for their
//! current generation.

use serde_json::{json, Value};

use super::{objects, rtype, set_status};
use crate::store::State;

/// One pass over Rook's kinds.
pub fn reconcile(state: &mut State) {
    for plural in ["cephblockpools", "cephclusters", "cephfilesystems", "cephobjectstores"] {
        let Some(t) = rtype(state, "ceph.rook.io", plural) else { continue };
        for obj in objects(state, "ceph.rook.io", plural, None) {
            if !obj["metadata"]["deletionTimestamp"].is_null() {
                continue;
            }
            let status = status_of(plural, &obj);
            set_status(state, &t, &obj, status);
        }
    }
}

fn status_of(plural: &str, obj: &Value) -> Value {
    let generation = obj["metadata"]["generation"].clone();
    match plural {
        "cephblockpools" => {
            let spec = &obj["spec"];
            let kind = if spec["erasureCoded"]["dataChunks"].as_i64().unwrap_or(0) > 0 { "Erasure Coded" } else { "Replicated" };
            json!({
                "phase": "Ready",
                "observedGeneration": generation,
                "info": {"type": kind, "failureDomain": spec["failureDomain"].as_str().unwrap_or("host")}
            })
        }
        "cephclusters" => json!({
            "phase": "Ready", "state": "Created", "message": "Cluster created successfully",
            "observedGeneration": generation, "ceph": {"health": "HEALTH_OK"}
        }),
        "cephobjectstores" => {
            let name = obj["metadata"]["name"].as_str().unwrap_or_default();
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
            let port = obj["spec"]["gateway"]["port"].as_i64().unwrap_or(80);
            let endpoint = format!("http://rook-ceph-rgw-{name}.{ns}.svc:{port}");
            json!({
                "phase": "Ready", "observedGeneration": generation,
                "info": {"endpoint": endpoint}, "endpoints": {"insecure": [endpoint]}
            })
        }
        _ => json!({"phase": "Ready", "observedGeneration": generation}),
    }
}
