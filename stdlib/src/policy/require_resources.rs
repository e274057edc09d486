//! `std:require-resources`: every container requests cpu and memory and limits memory, so the
//! scheduler can place it and a leak cannot starve its neighbours.

use super::no_latest_tag::object_name;
use super::workloads::{containers, pod_spec, pod_spec_path};
use super::{info, Info, Input, Policy, Severity, Violation};

pub struct RequireResources;

impl Policy for RequireResources {
    fn describe(&self) -> Info {
        info("require-resources", "Every container sets requests.cpu, requests.memory and limits.memory.")
    }

    fn evaluate(&self, input: &Input) -> Result<Vec<Violation>, String> {
        let mut out = Vec::new();
        for r in &input.resources {
            let Some(spec) = pod_spec(r) else { continue };
            for (list, c) in containers(spec) {
                let name = c.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                let missing: Vec<&str> = ["requests/cpu", "requests/memory", "limits/memory"]
                    .into_iter()
                    .filter(|p| c.pointer(&format!("/resources/{p}")).is_none_or(|v| v.is_null()))
                    .collect();
                if !missing.is_empty() {
                    let names: Vec<String> = missing.iter().map(|m| m.replace('/', ".")).collect();
                    out.push(Violation {
                        address: r.address.clone(),
                        message: format!("{} {}: container `{name}` sets no {}", r.kind, object_name(r), names.join(", ")),
                        severity: Severity::Deny,
                        path: Some(format!("{}.{list}[name={name}].resources", pod_spec_path(&r.kind))),
                    });
                }
            }
        }
        Ok(out)
    }
}
