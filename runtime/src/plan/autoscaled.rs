//! Workloads whose replica count an autoscaler owns (LANGUAGE.md §10): a declared
//! HorizontalPodAutoscaler's `scaleTargetRef`. The planner never plans their `spec.replicas` —
//! not the autoscaler's writes, not a `kubectl scale` — and while cairn's apply still owns the
//! field alone (the workload had `replicas` before), apply carries the live count over so the
//! server-side apply that drops it does not reset it to Kubernetes' default of 1.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::compare::Diff;
use super::path::Seg;
use super::types::{FieldOp, KeptField};
use crate::model::{Desired, ObjectKey};

/// The pointer of the field an autoscaler owns.
const REPLICAS: &str = "/spec/replicas";

/// The (namespace, kind, name) of every workload a declared autoscaler scales.
pub(crate) fn targets(desired: &Desired) -> HashSet<(Option<String>, String, String)> {
    desired
        .objects
        .iter()
        .filter(|o| o.key.kind == "HorizontalPodAutoscaler")
        .filter_map(|o| {
            let target = o.body.pointer("/spec/scaleTargetRef")?;
            let kind = target.get("kind")?.as_str()?.to_string();
            let name = target.get("name")?.as_str()?.to_string();
            Some((o.key.namespace.clone(), kind, name))
        })
        .collect()
}

/// Whether `key` is in `targets`.
pub(crate) fn is_target(targets: &HashSet<(Option<String>, String, String)>, key: &ObjectKey) -> bool {
    !targets.is_empty() && targets.contains(&(key.namespace.clone(), key.kind.clone(), key.name.clone()))
}

/// Drops the diffs at `spec.replicas` of an autoscaled workload; returns the live count to keep
/// when cairn's apply owned it alone (a removal), so apply does not reset it.
pub(crate) fn leave_replicas(diffs: &mut Vec<Diff>, live: &Json) -> Vec<KeptField> {
    let at_replicas = |d: &Diff| matches!(d.segs.as_slice(), [Seg::Key(a), Seg::Key(b)] if a == "spec" && b == "replicas");
    let removed = diffs.iter().any(|d| at_replicas(d) && d.op == FieldOp::Remove);
    diffs.retain(|d| !at_replicas(d));
    match live.pointer(REPLICAS) {
        Some(v) if removed => vec![KeptField { pointer: REPLICAS.to_string(), value: v.clone() }],
        _ => Vec::new(),
    }
}
