//! `std:quota-fit`: in each namespace with a ResourceQuota, the workloads' requests (per pod ×
//! replicas, plus one surge pod per Deployment for its rollout) fit the quota's `requests.cpu`,
//! `requests.memory` and `pods`.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::workloads::{containers, pod_spec, replicas};
use super::{info, Info, Input, Policy, Severity, Violation};

pub struct QuotaFit;

/// A Kubernetes quantity as a number (cpu in cores, memory in bytes). Only what quota
/// arithmetic needs: decimal and binary suffixes, `m`.
fn quantity(v: &Json) -> Option<f64> {
    let s = match v {
        Json::Number(n) => return n.as_f64(),
        Json::String(s) => s.trim(),
        _ => return None,
    };
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(n * factor)
}

#[derive(Default)]
struct Use {
    cpu: f64,
    memory: f64,
    pods: f64,
    addresses: Vec<String>,
}

impl Policy for QuotaFit {
    fn describe(&self) -> Info {
        info("quota-fit", "Workload requests (× replicas, plus a surge pod per Deployment) fit their namespace's ResourceQuota.")
    }

    fn evaluate(&self, input: &Input) -> Result<Vec<Violation>, String> {
        let mut used: BTreeMap<String, Use> = BTreeMap::new();
        for r in &input.resources {
            let (Some(spec), Some(n)) = (pod_spec(r), replicas(r)) else { continue };
            let ns = r.object.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or("default").to_string();
            let pods = n as f64 + if r.kind == "Deployment" { 1.0 } else { 0.0 };
            let (mut cpu, mut memory) = (0.0, 0.0);
            for (list, c) in containers(spec) {
                if list == "containers" {
                    cpu += c.pointer("/resources/requests/cpu").and_then(quantity).unwrap_or(0.0);
                    memory += c.pointer("/resources/requests/memory").and_then(quantity).unwrap_or(0.0);
                }
            }
            let u = used.entry(ns).or_default();
            u.cpu += cpu * pods;
            u.memory += memory * pods;
            u.pods += pods;
            u.addresses.push(r.address.clone());
        }
        let mut out = Vec::new();
        for q in input.resources.iter().filter(|r| r.kind == "ResourceQuota") {
            let ns = q.object.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or("default");
            let Some(u) = used.get(ns) else { continue };
            let hard = q.object.pointer("/spec/hard");
            for (key, need, unit) in
                [("requests.cpu", u.cpu, "cores"), ("requests.memory", u.memory / (1024.0 * 1024.0), "MiB"), ("pods", u.pods, "pods")]
            {
                let Some(limit) = hard.and_then(|h| h.get(key)).and_then(quantity) else { continue };
                let limit = if key == "requests.memory" { limit / (1024.0 * 1024.0) } else { limit };
                if need > limit + 1e-9 {
                    out.push(Violation {
                        address: q.address.clone(),
                        message: format!(
                            "namespace `{ns}`: the workloads ({}) need {need:.3} {unit} of {key} with one surge pod per Deployment; the quota allows {limit:.3}",
                            u.addresses.join(", ")
                        ),
                        severity: Severity::Deny,
                        path: Some(format!("spec.hard.{key}")),
                    });
                }
            }
        }
        Ok(out)
    }
}
