//! `std:min-replication`: replicated pools keep at least `size` copies (config `size`, default 3)
//! and `min_size` copies for I/O (config `min_size`, default 2). Rook's CephBlockPool
//! (`spec.replicated.size`, `spec.parameters.min_size`) and direct-mode CephPool (`spec.size`,
//! `spec.min_size`).

use serde_json::Value as Json;

use super::{config_int, info, Info, Input, Policy, Severity, Violation};

pub struct MinReplication;

/// An integer that may be written as a string (Rook's `parameters` are strings).
fn int(v: Option<&Json>) -> Option<i64> {
    match v? {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Policy for MinReplication {
    fn describe(&self) -> Info {
        info("min-replication", "Replicated pools keep size ≥ config.size (3) and min_size ≥ config.min_size (2).")
    }

    fn evaluate(&self, input: &Input) -> Result<Vec<Violation>, String> {
        let want_size = config_int(&input.config, "size", 3)?;
        let want_min = config_int(&input.config, "min_size", 2)?;
        let mut out = Vec::new();
        for r in &input.resources {
            let (size, min_size, size_path, min_path) = match r.kind.as_str() {
                "CephBlockPool" if r.object.pointer("/spec/replicated").is_some() => (
                    int(r.object.pointer("/spec/replicated/size")),
                    int(r.object.pointer("/spec/parameters/min_size")),
                    "spec.replicated.size",
                    "spec.parameters.min_size",
                ),
                "CephPool" if r.object.pointer("/spec/type").and_then(Json::as_str) != Some("erasure") => {
                    (int(r.object.pointer("/spec/size")), int(r.object.pointer("/spec/min_size")), "spec.size", "spec.min_size")
                }
                _ => continue,
            };
            let name = r.object.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("?");
            if let Some(size) = size.filter(|s| *s < want_size) {
                out.push(Violation {
                    address: r.address.clone(),
                    message: format!("pool `{name}` keeps {size} copies; at least {want_size} are required"),
                    severity: Severity::Deny,
                    path: Some(size_path.into()),
                });
            }
            // Ceph's default min_size is size - size/2.
            let effective_min = min_size.or_else(|| size.map(|s| s - s / 2));
            if let Some(min) = effective_min.filter(|m| *m < want_min) {
                out.push(Violation {
                    address: r.address.clone(),
                    message: format!("pool `{name}` accepts writes with {min} copy(ies) (min_size); at least {want_min} are required"),
                    severity: Severity::Deny,
                    path: Some(min_path.into()),
                });
            }
        }
        Ok(out)
    }
}
