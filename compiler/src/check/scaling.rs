//! Scaling and disruption rules of a workload (LANGUAGE.md §10): `autoscale` owns the replica
//! count and computes utilization from requests; `disruption` names one bound and should allow
//! an eviction. Where each applies by kind is `pods.rs`'s (E0419); quota fit at `min` and `max`
//! is `quota.rs`'s.

use cairn_lang::Diagnostic;

use super::quota;
use super::rules::workload_kind;
use super::{pods, Checker};
use crate::access::{int_of, name_of};
use crate::eval::{BodyValue, Resource};
use crate::schema::Kind;
use crate::value::Value;

/// E0427 (`autoscale` with `replicas`, `min` > `max`), E0428 (a utilization target without
/// requests), E0429 (a budget with both or neither bound) and W0408 (a budget that allows no
/// eviction).
pub(super) fn check_scaling(cx: &mut Checker<'_>, res: &Resource) {
    let kind = workload_kind(&res.body);
    if let Some(a) = res.body.block("autoscale") {
        if matches!(kind, "deployment" | "statefulset") {
            check_autoscale(cx, res, &a.body, a.kind_span);
        }
    }
    if let Some(d) = res.body.block("disruption") {
        if !matches!(kind, "job" | "cronjob") {
            check_disruption(cx, res, &d.body, d.kind_span);
        }
    }
}

fn check_autoscale(cx: &mut Checker<'_>, res: &Resource, a: &BodyValue, block_span: cairn_lang::Span) {
    if let Some(r) = res.body.attr("replicas") {
        cx.report(
            res,
            Diagnostic::error("E0427", r.name_span, format!("`{}` sets `replicas` and has an autoscaler", res.addr.name))
                .with_label(block_span, "the autoscaler owns the replica count")
                .with_help("remove `replicas`: apply would fight the autoscaler over it (use `autoscale { min }` for the floor)"),
        );
    }
    if let (Some(min), Some(max)) = (int_of(a, "min"), int_of(a, "max")) {
        if min > max {
            let at = a.attr("min").map_or(block_span, |m| m.span);
            let mut d = Diagnostic::error("E0427", at, format!("autoscale `min` ({min}) is above `max` ({max})"))
                .with_help("the API server refuses the autoscaler: lower `min` or raise `max`");
            if let Some(m) = a.attr("max") {
                d = d.with_label(m.span, "`max` is set here");
            }
            cx.report(res, d);
        }
    }
    // Neither target: the API server defaults to 80 % CPU utilization, which needs CPU requests too.
    let mut targets: Vec<(&str, cairn_lang::Span, bool)> = Vec::new();
    for resource in ["cpu", "memory"] {
        if let Some(t) = a.attr(resource) {
            targets.push((resource, t.name_span, true));
        }
    }
    if targets.is_empty() {
        targets.push(("cpu", block_span, false));
    }
    let limits = name_of(&res.body, "namespace")
        .and_then(|ns| cx.find(Kind::Namespace, &ns))
        .and_then(|ns| ns.body.block("limits"))
        .map(|l| &l.body);
    for (resource, span, written) in targets {
        let missing: Vec<&str> = pods::containers(res)
            .into_iter()
            .filter(|c| !c.init && quota::request(c.body, limits, resource).is_none())
            .map(|c| c.name)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let target = if written {
            format!("has a {resource} utilization target")
        } else {
            "targets 80 % CPU utilization (the API server's default when no target is set)".to_string()
        };
        cx.report(
            res,
            Diagnostic::error(
                "E0428",
                span,
                format!(
                    "the autoscaler of `{}` {target} but container{} {} request{} no {resource}",
                    res.addr.name,
                    if missing.len() == 1 { "" } else { "s" },
                    missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
                    if missing.len() == 1 { "s" } else { "" },
                ),
            )
            .with_help(format!(
                "utilization is usage over requests, so the autoscaler never scales: add `resources {{ {resource} = … }}` to every container (or a default in the namespace's `limits`)"
            )),
        );
    }
}

/// An int-or-percent attribute: `Ok(n)` for a count, `Err(p)` for a percentage.
fn count_or_percent(v: &Value) -> Option<Result<i64, i64>> {
    match v.unwrap_sensitive().0 {
        Value::Int(i) => Some(Ok(*i)),
        Value::Str(s) => s.strip_suffix('%').and_then(|p| p.trim().parse::<i64>().ok()).map(Err),
        _ => None,
    }
}

fn check_disruption(cx: &mut Checker<'_>, res: &Resource, d: &BodyValue, block_span: cairn_lang::Span) {
    let max_unavailable = d.attr("max_unavailable");
    let min_available = d.attr("min_available");
    match (max_unavailable, min_available) {
        (Some(a), Some(b)) => {
            cx.report(
                res,
                Diagnostic::error("E0429", b.name_span, "a disruption budget takes `max_unavailable` or `min_available`, not both")
                    .with_label(a.name_span, "`max_unavailable` is set here")
                    .with_help("keep one: `max_unavailable` follows the replica count as it changes, so it is usually the one to keep"),
            );
            return;
        }
        (None, None) => {
            cx.report(
                res,
                Diagnostic::error("E0429", block_span, "a disruption budget needs `max_unavailable` or `min_available`")
                    .with_help("set `max_unavailable = 1` (one pod at a time) or `min_available = \"50%\"`"),
            );
            return;
        }
        _ => {}
    }
    let replicas = match (workload_kind(&res.body), res.body.block("autoscale")) {
        ("daemonset", _) => None,
        (_, Some(a)) => Some(int_of(&a.body, "min").unwrap_or(1)),
        _ => Some(int_of(&res.body, "replicas").unwrap_or(1)),
    };
    let blocks = match (max_unavailable, min_available) {
        (Some(a), _) => matches!(count_or_percent(&a.value), Some(Ok(0) | Err(0))).then_some(a),
        (_, Some(b)) => match (count_or_percent(&b.value), replicas) {
            (Some(Err(p)), _) if p >= 100 => Some(b),
            (Some(Ok(n)), Some(r)) if n >= r => Some(b),
            _ => None,
        },
        _ => None,
    };
    if let Some(a) = blocks {
        let pods = replicas.map_or_else(String::new, |r| format!(" of its {r}"));
        cx.report(
            res,
            Diagnostic::warning("W0408", a.span, format!("the disruption budget of `{}` allows no pod{pods} to be evicted", res.addr.name))
                .with_help("node drains would hang on these pods: allow one, e.g. `max_unavailable = 1`"),
        );
    }
}
