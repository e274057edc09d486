//! Quota fit (LANGUAGE.md §7, §10): in a namespace with a `quota`, the workloads' requests and
//! limits times replicas (an autoscaler's `min`), their pods, volumes and claims must fit; an
//! autoscaler's `max` and rolling updates' surge should; pool quotas should hold the volumes
//! provisioned from the pool.

use std::collections::HashMap;

use cairn_lang::{Diagnostic, Span};

use super::pods;
use super::rules::workload_kind;
use super::Checker;
use crate::access::{int_of, name_of, qty_of};
use crate::eval::{BodyValue, Resource};
use crate::schema::Kind;
use cairn_core::quantity::Quantity;

/// One quota dimension: the quota attribute, the Kubernetes key, and what a workload
/// contributes per pod.
struct Dimension {
    attr: &'static str,
    key: &'static str,
    what: &'static str,
}

const DIMENSIONS: [Dimension; 5] = [
    Dimension { attr: "cpu", key: "requests.cpu", what: "CPU requests" },
    Dimension { attr: "memory", key: "requests.memory", what: "memory requests" },
    Dimension { attr: "limits_cpu", key: "limits.cpu", what: "CPU limits" },
    Dimension { attr: "limits_memory", key: "limits.memory", what: "memory limits" },
    Dimension { attr: "pods", key: "pods", what: "pods" },
];

pub(super) fn check_quotas(cx: &mut Checker<'_>) {
    let namespaces: Vec<&Resource> = cx.of_kind(Kind::Namespace).map(|(_, r)| r).collect();
    // Workloads by namespace, in declaration order: one pass, not one per namespace.
    let mut by_namespace: HashMap<String, Vec<&Resource>> = HashMap::new();
    if namespaces.iter().any(|ns| ns.body.block("quota").is_some()) {
        for (_, w) in cx.of_kind(Kind::Workload) {
            if let Some(ns) = name_of(&w.body, "namespace") {
                by_namespace.entry(ns).or_default().push(w);
            }
        }
    }
    for ns in namespaces {
        let Some(quota) = ns.body.block("quota") else { continue };
        let limits = ns.body.block("limits").map(|b| &b.body);
        let workloads: Vec<&Resource> = by_namespace.get(ns.addr.name.as_str()).cloned().unwrap_or_default();
        for dim in &DIMENSIONS {
            let Some(hard) = qty_of(&quota.body, dim.attr) else { continue };
            let span = quota.body.attr(dim.attr).map_or(quota.kind_span, |a| a.span);
            fit(cx, ns, &workloads, limits, dim, hard, span);
        }
        storage_fit(cx, ns, &workloads, &quota.body, quota.kind_span);
    }
    pool_fit(cx);
}

/// What one pod of `w` counts against `dim`, after LimitRange defaults, by the scheduler's
/// rule: the larger of the sum over its containers and its largest init container. `Err`
/// names the first container that sets nothing for it (the API server refuses the pod);
/// `Ok(None)` is a sum past the largest quantity, above every quota.
fn per_pod<'w>(w: &'w Resource, limits: Option<&BodyValue>, dim: &Dimension) -> Result<Option<Quantity>, &'w str> {
    if dim.attr == "pods" {
        return Ok(Quantity::from_int(1).ok());
    }
    let mut sum = Quantity::from_int(0).ok();
    let mut largest_init: Option<Quantity> = None;
    for c in pods::containers(w) {
        let each = per_container(c.body, limits, dim).ok_or(c.name)?;
        if c.init {
            largest_init = Some(largest_init.map_or(each, |l| l.max(each)));
        } else {
            sum = sum.and_then(|s| s.checked_add(each).ok());
        }
    }
    Ok(match (sum, largest_init) {
        (Some(s), Some(i)) => Some(s.max(i)),
        (sum, _) => sum,
    })
}

/// The `cpu` or `memory` request one container's pods get (its own, its limit, or the
/// namespace's LimitRange default), as the autoscaler divides usage by; `None` when unset.
pub(super) fn request(body: &BodyValue, limits: Option<&BodyValue>, resource: &str) -> Option<Quantity> {
    let dim = DIMENSIONS.iter().find(|d| d.attr == resource)?;
    per_container(body, limits, dim)
}

/// What one container (`body`: its block, or the workload's for the main container) counts
/// against `dim`, after LimitRange defaults; `None` when unset.
fn per_container(body: &BodyValue, limits: Option<&BodyValue>, dim: &Dimension) -> Option<Quantity> {
    let r = body.block("resources").map(|b| &b.body);
    let own = |name: &str| r.and_then(|r| qty_of(r, name));
    let default = |name: &str| limits.and_then(|l| qty_of(l, name));
    match dim.attr {
        "cpu" => own("cpu").or_else(|| own("cpu_limit")).or_else(|| default("default_request_cpu")).or_else(|| default("default_cpu")),
        "memory" => own("memory")
            .or_else(|| own("memory_limit"))
            .or_else(|| default("default_request_memory"))
            .or_else(|| default("default_memory")),
        "limits_cpu" => own("cpu_limit").or_else(|| default("default_cpu")),
        "limits_memory" => own("memory_limit").or_else(|| own("memory")).or_else(|| default("default_memory")),
        _ => None,
    }
}

/// The pods a workload runs at once: its replicas (Kubernetes' default 1), or its autoscaler's
/// `min`; one for a job or cronjob run (parallelism 1) and for a daemonset (one per node; the
/// node count is not known at compile time, so at least one).
fn replicas(w: &BodyValue) -> i64 {
    match (workload_kind(w), w.block("autoscale")) {
        ("deployment" | "statefulset", Some(a)) => int_of(&a.body, "min").unwrap_or(1).max(0),
        ("deployment" | "statefulset", None) => int_of(w, "replicas").unwrap_or(1).max(0),
        _ => 1,
    }
}

/// The most pods an autoscaled workload runs: its autoscaler's `max` and where it is written.
fn autoscaled_max(w: &BodyValue) -> Option<(i64, Span)> {
    if !matches!(workload_kind(w), "deployment" | "statefulset") {
        return None;
    }
    let a = w.block("autoscale")?;
    let max = int_of(&a.body, "max")?.max(0);
    Some((max, a.body.attr("max").map_or(a.kind_span, |m| m.span)))
}

/// Extra pods a rolling update of `w` starts: `max_surge` (default 25%, rounded up).
fn surge(w: &BodyValue) -> i64 {
    if workload_kind(w) != "deployment" {
        return 0;
    }
    let n = replicas(w);
    let setting = w.block("update").and_then(|u| u.body.get("max_surge")).cloned();
    match setting.as_ref().map(|v| v.unwrap_sensitive().0.clone()) {
        Some(crate::value::Value::Int(i)) => i.max(0),
        Some(crate::value::Value::Str(s)) => match s.strip_suffix('%').and_then(|p| p.trim().parse::<i64>().ok()) {
            Some(p) => percent_ceil(n, p),
            None => 0,
        },
        _ => percent_ceil(n, 25),
    }
}

fn percent_ceil(n: i64, p: i64) -> i64 {
    let prod = n.saturating_mul(p.max(0));
    prod.div_euclid(100).saturating_add(i64::from(prod.rem_euclid(100) != 0))
}

fn fit(
    cx: &mut Checker<'_>,
    ns: &Resource,
    workloads: &[&Resource],
    limits: Option<&BodyValue>,
    dim: &Dimension,
    hard: Quantity,
    span: Span,
) {
    let quota_name = format!("{}-quota", ns.addr.name);
    // `None` once a sum passed the largest quantity (`i64::MAX` units): above every quota.
    let mut total = Quantity::from_int(0).ok();
    let mut surge_total = total;
    // The total with every autoscaler at its `max` (a warning when only that is above the quota).
    let mut max_total = total;
    let mut max_parts: Vec<(Span, String)> = Vec::new();
    let mut parts: Vec<(Span, String)> = Vec::new();
    for w in workloads {
        let n = replicas(&w.body);
        let each = match per_pod(w, limits, dim) {
            Ok(each) => each,
            Err(container) => {
                let whose = if container == w.addr.name {
                    format!("workload `{}`", w.addr.name)
                } else {
                    format!("container `{container}` of workload `{}`", w.addr.name)
                };
                let d = Diagnostic::error(
                    "E0407",
                    w.label_span,
                    format!("{whose} sets no {}, but quota `{quota_name}` limits `{}`", dim.what.trim_end_matches('s'), dim.key),
                )
                .with_label(span, "the quota is set here")
                .with_help(format!(
                    "the API server refuses its pods: add `resources {{ {} = … }}` or a default in namespace `{}`'s `limits` block",
                    own_attr(dim),
                    ns.addr.name
                ));
                cx.report(w, d);
                continue;
            }
        };
        total = total.and_then(|t| each.and_then(|e| e.checked_mul_int(n).and_then(|sum| t.checked_add(sum)).ok()));
        let (top, top_span) = autoscaled_max(&w.body).unwrap_or((n, w.label_span));
        max_total = max_total.and_then(|t| each.and_then(|e| e.checked_mul_int(top).and_then(|sum| t.checked_add(sum)).ok()));
        if top != n {
            let shown_each = each.map_or_else(|| "more than 9223372036854775807".to_string(), Quantity::canonical);
            let what = if dim.attr == "pods" { format!("{top} pods") } else { format!("{top} × {shown_each}") };
            max_parts.push((top_span, format!("`{}` at its autoscaler's max: {what}", w.addr.name)));
        }
        surge_total =
            surge_total.and_then(|t| each.and_then(|e| e.checked_mul_int(surge(&w.body)).and_then(|extra| t.checked_add(extra)).ok()));
        let shown_each = each.map_or_else(|| "more than 9223372036854775807".to_string(), Quantity::canonical);
        let part = if dim.attr == "pods" { format!("{n} pod{}", if n == 1 { "" } else { "s" }) } else { format!("{n} × {shown_each}") };
        parts.push((w.label_span, part));
    }
    let shown = |q: Option<Quantity>| q.map_or_else(|| "more than 9223372036854775807".to_string(), Quantity::canonical);
    if total.is_none_or(|t| t > hard) {
        let mut d = Diagnostic::error(
            "E0406",
            span,
            format!(
                "workloads in namespace `{}` need {} {}, above quota `{quota_name}` ({} = {})",
                ns.addr.name,
                shown(total),
                dim.what,
                dim.key,
                hard.canonical()
            ),
        )
        .with_help(if dim.attr == "pods" {
            "pods beyond the quota are refused admission: raise `pods` or lower replicas".to_string()
        } else {
            format!("pods beyond the quota are refused admission: raise `{}` or lower replicas or {}", dim.attr, dim.what)
        });
        for (s, m) in parts {
            d = d.with_label(s, m);
        }
        cx.report(ns, d);
    } else if !max_parts.is_empty() && max_total.is_none_or(|t| t > hard) {
        let mut d = Diagnostic::warning(
            "W0407",
            span,
            format!(
                "at their autoscalers' max, workloads in namespace `{}` need {} {}, above quota `{quota_name}` ({} = {})",
                ns.addr.name,
                shown(max_total),
                dim.what,
                dim.key,
                hard.canonical()
            ),
        )
        .with_help(format!(
            "the quota stops the autoscalers short of their max (pods beyond it are refused): raise `{}` or lower `autoscale {{ max }}`",
            dim.attr
        ));
        for (s, m) in max_parts {
            d = d.with_label(s, m);
        }
        cx.report(ns, d);
    } else {
        let peak = total.zip(surge_total).and_then(|(t, s)| t.checked_add(s).ok());
        if peak.is_none_or(|p| p > hard) && !surge_total.is_some_and(Quantity::is_zero) {
            cx.report(
                ns,
                Diagnostic::warning(
                    "W0404",
                    span,
                    format!(
                        "a rolling update in namespace `{}` needs {} {} with its surge pods, above quota `{quota_name}` ({} = {})",
                        ns.addr.name,
                        shown(peak),
                        dim.what,
                        dim.key,
                        hard.canonical()
                    ),
                )
                .with_help(format!(
                    "updates would stall waiting for room: raise `{}` or set `update {{ max_surge = 0 }}` on the workloads",
                    dim.attr
                )),
            );
        }
    }
}

fn own_attr(dim: &Dimension) -> &'static str {
    match dim.attr {
        "limits_cpu" => "cpu_limit",
        "limits_memory" => "memory_limit",
        other => other,
    }
}

/// `requests.storage` and `persistentvolumeclaims`: the claims the workloads make.
fn storage_fit(cx: &mut Checker<'_>, ns: &Resource, workloads: &[&Resource], quota: &BodyValue, quota_span: Span) {
    let mut bytes = Quantity::from_int(0).ok();
    let mut claims: i64 = 0;
    for w in workloads {
        let copies = if workload_kind(&w.body) == "statefulset" { replicas(&w.body) } else { 1 };
        for v in w.body.blocks_of("volume") {
            claims = claims.saturating_add(copies);
            if let (Some(size), Some(acc)) = (qty_of(&v.body, "size"), bytes) {
                bytes = size.checked_mul_int(copies).ok().and_then(|s| acc.checked_add(s).ok());
            }
        }
    }
    let checks = [("storage", "requests.storage", bytes), ("pvcs", "persistentvolumeclaims", Quantity::from_int(claims).ok())];
    for (attr, key, used) in checks {
        let (Some(hard), Some(used)) = (qty_of(quota, attr), used) else { continue };
        if used > hard {
            let span = quota.attr(attr).map_or(quota_span, |a| a.span);
            cx.report(
                ns,
                Diagnostic::error(
                    "E0406",
                    span,
                    format!(
                        "volumes in namespace `{}` need {} of `{key}`, above quota `{}-quota` ({})",
                        ns.addr.name,
                        used.canonical(),
                        ns.addr.name,
                        hard.canonical()
                    ),
                )
                .with_help(format!("claims beyond the quota are refused: raise `{attr}` or shrink the volumes")),
            );
        }
    }
}

/// The volumes provisioned from a pool against the pool's `max_bytes` (a warning).
fn pool_fit(cx: &mut Checker<'_>) {
    let pools: Vec<&Resource> = cx.of_kind(Kind::Pool).map(|(_, r)| r).collect();
    for pool in pools {
        let Some(q) = pool.body.block("quota") else { continue };
        let Some(max) = qty_of(&q.body, "max_bytes") else { continue };
        let classes: Vec<String> = cx
            .of_kind(Kind::StorageClass)
            .filter(|(_, sc)| name_of(&sc.body, "pool").as_deref() == Some(pool.addr.name.as_str()))
            .map(|(_, sc)| sc.addr.name.clone())
            .collect();
        let mut total = Quantity::from_int(0).ok();
        let mut parts: Vec<(Span, String)> = Vec::new();
        for (_, w) in cx.of_kind(Kind::Workload) {
            let copies = if workload_kind(&w.body) == "statefulset" { replicas(&w.body) } else { 1 };
            for v in w.body.blocks_of("volume") {
                let Some(sc) = name_of(&v.body, "storage_class") else { continue };
                if !classes.contains(&sc) {
                    continue;
                }
                if let (Some(size), Some(acc)) = (qty_of(&v.body, "size"), total) {
                    total = size.checked_mul_int(copies).ok().and_then(|s| acc.checked_add(s).ok());
                    let at = v.body.attr("size").map_or(v.kind_span, |a| a.span);
                    parts.push((at, format!("{copies} × {} for workload `{}`", size.canonical(), w.addr.name)));
                }
            }
        }
        let Some(total) = total else { continue };
        if total > max {
            let span = q.body.attr("max_bytes").map_or(q.kind_span, |a| a.span);
            let mut d = Diagnostic::warning(
                "W0405",
                span,
                format!(
                    "volumes on pool `{}` may hold {}, above its quota max_bytes ({})",
                    pool.addr.name,
                    total.canonical(),
                    max.canonical()
                ),
            )
            .with_help("writes fail once the pool is full: raise `max_bytes` or shrink the volumes");
            for (s, m) in parts {
                d = d.with_label(s, m);
            }
            cx.report(pool, d);
        }
    }
}
