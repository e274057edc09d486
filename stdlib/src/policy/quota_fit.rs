//! `std:quota-fit`: in each namespace with a ResourceQuota, the workloads' requests (per pod ×
//! replicas, plus one surge pod per Deployment for its rollout) fit the quota's `requests.cpu`,
//! `requests.memory` and `pods`. Quantities are `cairn-core`'s, exact like the compiler's
//! quota check, so the two agree on every quantity Kubernetes accepts.

use std::collections::BTreeMap;

use cairn_core::Quantity;
use serde_json::Value as Json;

use super::workloads::{containers, pod_spec, replicas};
use super::{info, Info, Input, Policy, Severity, Violation};

pub struct QuotaFit;

/// A sum of quantities; `None` once it passed the largest quantity there is (`i64::MAX`
/// units), which no quota can hold.
type Sum = Option<Quantity>;

fn add(sum: Sum, q: Sum) -> Sum {
    sum?.checked_add(q?).ok()
}

fn times(q: Quantity, n: i64) -> Sum {
    q.checked_mul_int(n).ok()
}

#[derive(Default)]
struct Use {
    cpu: Sum,
    memory: Sum,
    pods: Sum,
    addresses: Vec<String>,
}

/// `q ÷ unit` with three decimals, rounded up (`up`) or down: what the message shows.
fn decimals(q: Quantity, unit: i128, up: bool) -> String {
    // Thousandths of `unit` in `q`: nanos ÷ (unit × 10⁶), exactly.
    let per = unit.saturating_mul(1_000_000).max(1);
    let floor = q.nanos().div_euclid(per);
    let thousandths = if up && q.nanos().rem_euclid(per) != 0 { floor.saturating_add(1) } else { floor };
    let sign = if thousandths < 0 { "-" } else { "" };
    let magnitude = thousandths.unsigned_abs();
    format!("{sign}{}.{:03}", magnitude / 1000, magnitude % 1000)
}

impl Policy for QuotaFit {
    fn describe(&self) -> Info {
        info("quota-fit", "Workload requests (× replicas, plus a surge pod per Deployment) fit their namespace's ResourceQuota.")
    }

    fn evaluate(&self, input: &Input) -> Result<Vec<Violation>, String> {
        let zero = Quantity::from_int(0).ok();
        let mut used: BTreeMap<String, Use> = BTreeMap::new();
        for r in &input.resources {
            let (Some(spec), Some(n)) = (pod_spec(r), replicas(r)) else { continue };
            let ns = r.object.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or("default").to_string();
            let pods = n.saturating_add(i64::from(r.kind == "Deployment"));
            let (mut cpu, mut memory) = (zero, zero);
            for (list, c) in containers(spec) {
                if list == "containers" {
                    // A request that is not a quantity is the API server's to refuse; it adds nothing here.
                    let request = |name: &str| c.pointer(&format!("/resources/requests/{name}")).and_then(|v| Quantity::from_json(v).ok());
                    cpu = add(cpu, request("cpu").or(zero));
                    memory = add(memory, request("memory").or(zero));
                }
            }
            let u = used.entry(ns).or_insert_with(|| Use { cpu: zero, memory: zero, pods: zero, ..Use::default() });
            u.cpu = add(u.cpu, cpu.and_then(|c| times(c, pods)));
            u.memory = add(u.memory, memory.and_then(|m| times(m, pods)));
            u.pods = add(u.pods, Quantity::from_int(pods).ok());
            u.addresses.push(r.address.clone());
        }
        let mut out = Vec::new();
        for q in input.resources.iter().filter(|r| r.kind == "ResourceQuota") {
            let ns = q.object.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or("default");
            let Some(u) = used.get(ns) else { continue };
            let hard = q.object.pointer("/spec/hard");
            for (key, need, unit, per) in
                [("requests.cpu", u.cpu, "cores", 1), ("requests.memory", u.memory, "MiB", 1024 * 1024), ("pods", u.pods, "pods", 1)]
            {
                let Some(limit) = hard.and_then(|h| h.get(key)).and_then(|v| Quantity::from_json(v).ok()) else { continue };
                if need.is_some_and(|need| need <= limit) {
                    continue;
                }
                let need = need.map_or_else(|| "more than 9223372036854775807".to_string(), |n| decimals(n, per, true));
                out.push(Violation {
                    address: q.address.clone(),
                    message: format!(
                        "namespace `{ns}`: the workloads ({}) need {need} {unit} of {key} with one surge pod per Deployment; the quota allows {}",
                        u.addresses.join(", "),
                        decimals(limit, per, false)
                    ),
                    severity: Severity::Deny,
                    path: Some(format!("spec.hard.{key}")),
                });
            }
        }
        Ok(out)
    }
}
