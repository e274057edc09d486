//! `std:pdb-for-replicated`: a workload with two or more replicas — or an autoscaler whose
//! `minReplicas` is two or more — has a PodDisruptionBudget selecting its pods, so a node drain
//! cannot take them all at once (a warning).

use serde_json::Value as Json;

use super::no_latest_tag::object_name;
use super::workloads::replicas;
use super::{info, Info, Input, Policy, Severity, Violation};

pub struct PdbForReplicated;

/// Whether a PDB's `matchLabels` all hold on `labels`.
fn selects(pdb: &Json, labels: &serde_json::Map<String, Json>) -> bool {
    let Some(want) = pdb.pointer("/spec/selector/matchLabels").and_then(Json::as_object) else { return false };
    !want.is_empty() && want.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The `minReplicas` (default 1) of an autoscaler in `r`'s namespace that scales `r`.
fn autoscaled_min(resources: &[super::Resource], r: &super::Resource) -> Option<i64> {
    let ns = r.object.pointer("/metadata/namespace");
    let name = r.object.pointer("/metadata/name").and_then(Json::as_str);
    resources
        .iter()
        .filter(|h| h.kind == "HorizontalPodAutoscaler" && h.object.pointer("/metadata/namespace") == ns)
        .find(|h| {
            let target = h.object.pointer("/spec/scaleTargetRef");
            target.and_then(|t| t.get("kind")).and_then(Json::as_str) == Some(r.kind.as_str())
                && name.is_some()
                && target.and_then(|t| t.get("name")).and_then(Json::as_str) == name
        })
        .map(|h| h.object.pointer("/spec/minReplicas").and_then(Json::as_i64).unwrap_or(1))
}

impl Policy for PdbForReplicated {
    fn describe(&self) -> Info {
        info("pdb-for-replicated", "Workloads with 2 or more replicas have a PodDisruptionBudget.")
    }

    fn evaluate(&self, input: &Input) -> Result<Vec<Violation>, String> {
        let pdbs: Vec<&super::Resource> = input.resources.iter().filter(|r| r.kind == "PodDisruptionBudget").collect();
        let mut out = Vec::new();
        for r in &input.resources {
            let min = autoscaled_min(&input.resources, r);
            let Some(n) = replicas(r).map(|n| min.unwrap_or(n)).filter(|n| *n >= 2) else { continue };
            let ns = r.object.pointer("/metadata/namespace");
            let empty = serde_json::Map::new();
            let labels = r.object.pointer("/spec/template/metadata/labels").and_then(Json::as_object).unwrap_or(&empty);
            let covered = pdbs.iter().any(|p| p.object.pointer("/metadata/namespace") == ns && selects(&p.object, labels));
            if !covered {
                out.push(Violation {
                    address: r.address.clone(),
                    message: format!(
                        "{} {} runs {}{n} replicas and no PodDisruptionBudget selects its pods",
                        r.kind,
                        object_name(r),
                        if min.is_some() { "at least " } else { "" }
                    ),
                    severity: Severity::Warn,
                    path: None,
                });
            }
        }
        Ok(out)
    }
}
