//! The domain rules of LANGUAGE.md §6–§7 that are not about quotas: names, pools, storage
//! classes, workloads, images and `moved` blocks.

use std::collections::BTreeMap;

use cairn_lang::{Diagnostic, Span};

use super::{image_tag_problem, CephMode, Checker, Facts};
use crate::access::{int_of, name_of, qty_of, str_of};
use crate::eval::{AttrValue, BlockValue, BodyValue, Resource};
use crate::schema::Kind;
use crate::value::Value;
use cairn_core::names;

pub(super) fn check_rules(cx: &mut Checker<'_>, facts: &Facts) {
    let resources = cx.resources;
    for (i, res) in resources.iter().enumerate() {
        check_names(cx, res);
        if res.is_existing() {
            continue; // its attributes are the live object's, checked at plan time
        }
        match res.addr.kind {
            Kind::Pool => check_pool(cx, res),
            Kind::StorageClass => check_storage_class(cx, res, facts, i),
            Kind::Workload => check_workload(cx, res),
            Kind::Moved => check_moved(cx, res, facts),
            _ => {}
        }
    }
    check_moves_together(cx);
}

fn attr_span(body: &BodyValue, name: &str, fallback: Span) -> Span {
    body.attr(name).map_or(fallback, |a| a.span)
}

fn name_error(cx: &mut Checker<'_>, res: &Resource, span: Span, what: &str, name: &str, why: String, rule: &str) {
    cx.report(res, Diagnostic::error("E0305", span, format!("invalid {what} `{name}`: {why}")).with_help(rule.to_string()));
}

/// A name check from [`names`].
type NameRule = fn(&str) -> Result<(), String>;

const DNS1035: &str = "use a DNS-1035 label: lowercase letters, digits and `-`, starting with a letter, at most 63 characters";
const DNS1123: &str = "use a DNS-1123 subdomain: lowercase letters, digits, `-` and `.`, at most 253 characters";

fn check_names(cx: &mut Checker<'_>, res: &Resource) {
    let name = res.addr.name.as_str();
    let (rule, help): (NameRule, &str) = match res.addr.kind {
        Kind::Namespace => (names::dns1035_label, DNS1035),
        Kind::Workload => (names::dns1035_label, DNS1035),
        Kind::Config | Kind::Secret | Kind::StorageClass | Kind::Route | Kind::ServiceAccount => (names::dns1123_subdomain, DNS1123),
        // Rook's object names, and a bucket's S3 name prefix: DNS-1123 labels.
        Kind::Filesystem | Kind::ObjectStore | Kind::Bucket => (
            names::dns1123_label,
            "use a DNS-1123 label: up to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit",
        ),
        Kind::Pool => (names::pool_name, "a pool name is non-empty, has no `/` and does not start with `.`"),
        _ => return,
    };
    if let Err(why) = rule(name) {
        name_error(cx, res, res.label_span, &format!("{} name", res.addr.kind.as_str()), name, why, help);
    }
    for map in ["labels", "annotations", "selector", "pod_annotations"] {
        let Some(a) = res.body.attr(map) else { continue };
        let Value::Map(m) = a.value.unwrap_sensitive().0 else { continue };
        for (k, v) in m.iter() {
            if let Err(why) = names::label_key(k) {
                name_error(
                    cx,
                    res,
                    a.key_span(k),
                    &format!("{} key", map.trim_end_matches('s')),
                    k,
                    why,
                    "keys are an optional DNS prefix and `/`, then up to 63 letters, digits, `-`, `_` and `.`",
                );
            } else if k == "app.kubernetes.io/managed-by" || k == "cairn.dev/stack" || k == "cairn.dev/address" {
                cx.report(
                    res,
                    Diagnostic::error("E0305", a.key_span(k), format!("`{k}` is set by cairn"))
                        .with_help(format!("remove `{k}` from `{map}`")),
                );
            }
            if map == "labels" || map == "selector" {
                if let Some(s) = v.as_str() {
                    if let Err(why) = names::label_value(s) {
                        name_error(
                            cx,
                            res,
                            a.entry_value_span(k),
                            "label value",
                            s,
                            why,
                            "label values are up to 63 letters, digits, `-`, `_` and `.`",
                        );
                    }
                }
            }
        }
    }
    if matches!(res.addr.kind, Kind::Config | Kind::Secret) {
        if let Some(a) = res.body.attr("data") {
            if let Value::Map(m) = a.value.unwrap_sensitive().0 {
                for k in m.keys() {
                    if let Err(why) = names::data_key(k) {
                        name_error(cx, res, a.key_span(k), "data key", k, why, "keys are letters, digits, `-`, `_` and `.`");
                    }
                }
            }
        }
    }
}

fn check_pool(cx: &mut Checker<'_>, res: &Resource) {
    let body = &res.body;
    let erasure = str_of(body, "type").as_deref() == Some("erasure");
    let ec = body.block("erasure");
    let size = int_of(body, "size").unwrap_or(3);
    if erasure {
        let Some(ec) = ec else {
            let at = attr_span(body, "type", res.label_span);
            cx.report(
                res,
                Diagnostic::error("E0411", at, format!("erasure pool `{}` has no `erasure` block", res.addr.name))
                    .with_help("add `erasure { k = 4, m = 2 }`"),
            );
            return;
        };
        if let Some(a) = body.attr("size") {
            cx.report(
                res,
                Diagnostic::error("E0411", a.name_span, "`size` applies to replicated pools only")
                    .with_help("an erasure-coded pool stores k + m chunks; remove `size`"),
            );
        }
        let k = int_of(&ec.body, "k");
        let m = int_of(&ec.body, "m");
        if let Some(k) = k.filter(|k| *k < 2) {
            let at = attr_span(&ec.body, "k", ec.kind_span);
            cx.report(
                res,
                Diagnostic::error("E0402", at, format!("erasure `k` is {k}; it must be at least 2"))
                    .with_help("k data chunks: use 2 or more (with k = 1 use a replicated pool)"),
            );
        }
        if let Some(m) = m.filter(|m| *m < 1) {
            let at = attr_span(&ec.body, "m", ec.kind_span);
            cx.report(
                res,
                Diagnostic::error("E0402", at, format!("erasure `m` is {m}; it must be at least 1"))
                    .with_help("m coding chunks: use 1 or more"),
            );
        }
        if let (Some(k), Some(m), Some(min)) = (k, m, body.attr("min_size")) {
            if let Value::Int(ms) = min.value {
                if ms > k.saturating_add(m) || ms < k {
                    cx.report(
                        res,
                        Diagnostic::error("E0401", min.span, format!("`min_size` is {ms}, outside k..k+m ({k}..{})", k.saturating_add(m)))
                            .with_help("an erasure pool needs at least k chunks to serve I/O; the default is k + 1"),
                    );
                }
            }
        }
    } else {
        if let Some(ec) = ec {
            cx.report(
                res,
                Diagnostic::error("E0411", ec.kind_span, format!("pool `{}` has an `erasure` block but is replicated", res.addr.name))
                    .with_help("set `type = \"erasure\"` or remove the `erasure` block"),
            );
        }
        if let Some(min) = body.attr("min_size") {
            if let Value::Int(ms) = min.value {
                if ms > size {
                    let mut d = Diagnostic::error("E0401", min.span, format!("`min_size` ({ms}) is greater than `size` ({size})"))
                        .with_help("min_size is how many replicas must be up to serve I/O; it cannot exceed size");
                    if let Some(s) = body.attr("size") {
                        d = d.with_label(s.span, "size is set here");
                    }
                    cx.report(res, d);
                }
            }
        }
        if let Some(s) = body.attr("size").filter(|_| size == 1) {
            cx.report(
                res,
                Diagnostic::warning("W0402", s.span, format!("pool `{}` keeps a single copy of its data", res.addr.name))
                    .with_help("size 1 loses data with any disk and needs `mon_allow_pool_size_one` on the cluster; use 2 or more"),
            );
        }
    }
    if let Some(pg) = body.attr("pg_num") {
        if let Value::Int(n) = pg.value {
            let autoscale = str_of(body, "autoscale").unwrap_or_else(|| "on".into());
            if autoscale == "on" {
                let mut d =
                    Diagnostic::error("E0403", pg.span, format!("`pg_num` is set while the autoscaler is on for pool `{}`", res.addr.name))
                        .with_help(
                            "the autoscaler would fight a fixed pg_num: set `autoscale = \"warn\"` or `\"off\"`, or remove `pg_num`",
                        );
                if let Some(a) = body.attr("autoscale") {
                    d = d.with_label(a.span, "autoscale is on here");
                }
                cx.report(res, d);
            } else if n > 0 && !n.unsigned_abs().is_power_of_two() {
                let lower = 1i64.checked_shl(63u32.saturating_sub(n.leading_zeros())).unwrap_or(1);
                cx.report(
                    res,
                    Diagnostic::warning("W0401", pg.span, format!("`pg_num` {n} is not a power of two"))
                        .with_help(format!("placement groups split unevenly otherwise; use {lower} or {}", lower.saturating_mul(2))),
                );
            }
        }
    }
}

fn check_storage_class(cx: &mut Checker<'_>, res: &Resource, facts: &Facts, index: usize) {
    check_class_pool(cx, res);
    check_class_fsid(cx, res, facts, index);
}

/// E0408: an RBD storage class on a pool whose application is not `rbd`.
fn check_class_pool(cx: &mut Checker<'_>, res: &Resource) {
    let Some(pool_attr) = res.body.attr("pool") else { return };
    let Some(pool_name) = name_of(&res.body, "pool") else { return };
    let Some(pool) = cx.find(Kind::Pool, &pool_name) else { return };
    let app = str_of(&pool.body, "application").unwrap_or_else(|| "rbd".into());
    if app != "rbd" {
        let mut d = Diagnostic::error(
            "E0408",
            pool_attr.span,
            format!("storage class `{}` uses pool `{pool_name}`, whose application is `{app}`", res.addr.name),
        )
        .with_help("RBD volumes need a pool with `application = \"rbd\"`");
        if let Some(a) = pool.body.attr("application") {
            d = d.with_label(a.span, "the pool's application is set here");
        }
        cx.report(res, d);
    }
}

/// E0414: a storage class in direct mode names its Ceph cluster by fsid.
fn check_class_fsid(cx: &mut Checker<'_>, res: &Resource, facts: &Facts, index: usize) {
    if let Some(Some(cluster)) = facts.cluster_of.get(index) {
        if cluster.mode == CephMode::Direct && cluster.fsid.is_none() {
            let mut d = Diagnostic::error(
                "E0414",
                res.label_span,
                format!("storage class `{}` needs the fsid of cluster `{}`", res.addr.name, cluster.name),
            )
            .with_help(format!(
                "in direct mode the CSI driver names the Ceph cluster by fsid: set `fsid` in `cluster.{}`'s `ceph` block",
                cluster.name
            ));
            if let Some(c) = cx.find(Kind::Cluster, &cluster.name) {
                let at = c.body.block("ceph").map_or(c.label_span, |b| b.body.attr("mode").map_or(b.kind_span, |a| a.span));
                d = d.with_label(at, "the cluster is in direct mode, without `fsid`");
            }
            cx.report(res, d);
        }
    }
}

/// The workload's kind: as declared, else statefulset when it has a volume.
pub fn workload_kind(body: &BodyValue) -> &'static str {
    match str_of(body, "kind").as_deref() {
        Some("statefulset") => "statefulset",
        Some("deployment") => "deployment",
        Some("daemonset") => "daemonset",
        Some("job") => "job",
        Some("cronjob") => "cronjob",
        _ if body.block("volume").is_some() => "statefulset",
        _ => "deployment",
    }
}

/// A workload's rules, stage by stage: its name and volumes, its resources, its image, its ports
/// and the blocks that must go together, then the namespaces its `env` references.
fn check_workload(cx: &mut Checker<'_>, res: &Resource) {
    let kind = workload_kind(&res.body);
    check_workload_volumes(cx, res, kind);
    check_workload_resources(cx, res);
    check_workload_image(cx, res);
    check_workload_ports_and_blocks(cx, res, kind);
    check_env_namespaces(cx, res);
    super::pods::check_pod(cx, res);
    super::scaling::check_scaling(cx, res);
}

/// A StatefulSet's name length (its headless Service), volume names, and E0404: a ReadWriteOnce
/// volume shared by a Deployment's replicas.
fn check_workload_volumes(cx: &mut Checker<'_>, res: &Resource, kind: &str) {
    let body = &res.body;
    let replicas = int_of(body, "replicas");
    if kind == "statefulset" && res.addr.name.len() > 60 {
        name_error(
            cx,
            res,
            res.label_span,
            "workload name",
            &res.addr.name,
            "its headless Service `<name>-hl` would exceed 63 characters".into(),
            DNS1035,
        );
    }
    for v in body.blocks_of("volume") {
        if let Some((label, span)) = &v.label {
            if let Err(why) = names::dns1123_label(label) {
                name_error(cx, res, *span, "volume name", label, why, "use a DNS-1123 label: lowercase letters, digits and `-`");
            }
        }
        let access = str_of(&v.body, "access").unwrap_or_else(|| "ReadWriteOnce".into());
        if kind == "deployment" && access == "ReadWriteOnce" {
            if let (Some(n), Some(r)) = (replicas.filter(|n| *n > 1), body.attr("replicas")) {
                let at = v.body.attr("access").map_or_else(|| v.label.as_ref().map_or(v.kind_span, |(_, s)| *s), |a| a.span);
                cx.report(
                    res,
                    Diagnostic::error(
                        "E0404",
                        r.span,
                        format!("deployment `{}` has {n} replicas sharing a ReadWriteOnce volume", res.addr.name),
                    )
                    .with_label(at, "this volume can be mounted by one node at a time")
                    .with_help("use `kind = \"statefulset\"` (a volume per replica), one replica, or `access = \"ReadWriteMany\"`"),
                );
            }
        }
    }
}

/// E0405 (a limit below its request) and W0403 (no memory request, no namespace default).
fn check_workload_resources(cx: &mut Checker<'_>, res: &Resource) {
    let body = &res.body;
    if let Some(res_block) = body.block("resources") {
        let rb = &res_block.body;
        for (req, lim) in [("cpu", "cpu_limit"), ("memory", "memory_limit")] {
            if let (Some(rq), Some(lq), Some(la)) = (qty_of(rb, req), qty_of(rb, lim), rb.attr(lim)) {
                if lq < rq {
                    let mut d = Diagnostic::error(
                        "E0405",
                        la.span,
                        format!("`{lim}` ({}) is below the `{req}` request ({})", lq.canonical(), rq.canonical()),
                    )
                    .with_help(format!("Kubernetes refuses a limit below the request: raise `{lim}` or lower `{req}`"));
                    if let Some(ra) = rb.attr(req) {
                        d = d.with_label(ra.span, "the request is set here");
                    }
                    cx.report(res, d);
                }
            }
        }
    }
    let has_memory = body.block("resources").is_some_and(|r| r.body.attr("memory").is_some());
    let ns_default = name_of(body, "namespace")
        .and_then(|ns| cx.find(Kind::Namespace, &ns))
        .and_then(|ns| ns.body.block("limits"))
        .is_some_and(|l| l.body.attr("default_request_memory").is_some() || l.body.attr("default_memory").is_some());
    if !has_memory && !ns_default {
        cx.report(
            res,
            Diagnostic::warning("W0403", res.label_span, format!("workload `{}` requests no memory", res.addr.name))
                .with_help("without a memory request the scheduler may overcommit the node and the pod risks being OOM-killed: add `resources { memory = 256Mi }`"),
        );
    }
}

/// W0406: an image without a tag or with `latest`.
fn check_workload_image(cx: &mut Checker<'_>, res: &Resource) {
    let body = &res.body;
    if let Some(img) = body.attr("image") {
        if let Some(image) = img.value.as_str() {
            if let Some(problem) = image_tag_problem(image) {
                cx.report(
                    res,
                    Diagnostic::warning("W0406", img.span, format!("image `{image}` {problem}"))
                        .with_help("pin a version tag (`postgres:16.4`) or a digest so every node runs the same image"),
                );
            }
        }
    }
}

/// The probe blocks a container takes.
pub(super) const PROBES: [&str; 3] = ["probe", "liveness", "startup"];

/// Port names, and E0415: ports that `expose` and the probes name, the probes' and mounts'
/// one-of rules, `max_surge` on a StatefulSet.
fn check_workload_ports_and_blocks(cx: &mut Checker<'_>, res: &Resource, kind: &str) {
    let body = &res.body;
    let ports = check_port_names(cx, res, body);
    if let Some(a) = body.block("expose").and_then(|b| b.body.attr("target")) {
        check_port_named(cx, res, "expose.target", a, &ports, "the workload");
    }
    for probe in PROBES {
        if let Some(p) = body.block(probe) {
            check_probe(cx, res, p, &ports, has_ports(body), "the workload");
        }
    }
    check_workload_names(cx, res);
    for m in body.blocks_of("mount") {
        let n = ["config", "secret"].iter().filter(|k| m.body.attr(k).is_some()).count();
        if n != 1 {
            cx.report(
                res,
                Diagnostic::error("E0415", m.kind_span, "a mount needs exactly one of `config` and `secret`")
                    .with_help("for example `mount \"conf\" { config = config.app, path = \"/etc/app\" }`"),
            );
        }
    }
    if kind == "statefulset" {
        if let Some(a) = body.block("update").and_then(|u| u.body.attr("max_surge")) {
            cx.report(
                res,
                Diagnostic::error("E0415", a.name_span, "`max_surge` applies to deployments only")
                    .with_help("a StatefulSet replaces its pods one at a time; remove `max_surge`"),
            );
        }
    }
}

/// The names of the ports a container declares (none for unnamed ports, `ports = [8080]`).
pub(super) fn port_names(body: &BodyValue) -> Vec<String> {
    match body.get("ports").map(|v| v.unwrap_sensitive().0) {
        Some(Value::Map(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Whether a container declares any port, named or not.
pub(super) fn has_ports(body: &BodyValue) -> bool {
    match body.get("ports").map(|v| v.unwrap_sensitive().0) {
        Some(Value::Map(m)) => !m.is_empty(),
        Some(Value::List(items)) => !items.is_empty(),
        _ => false,
    }
}

/// E0305 for the port names a container (`body`) declares; returns them.
pub(super) fn check_port_names(cx: &mut Checker<'_>, res: &Resource, body: &BodyValue) -> Vec<String> {
    let ports = port_names(body);
    if let (Some(a), Some(Value::Map(_))) = (body.attr("ports"), body.get("ports").map(|v| v.unwrap_sensitive().0)) {
        for p in &ports {
            if let Err(why) = names::port_name(p) {
                name_error(
                    cx,
                    res,
                    a.key_span(p),
                    "port name",
                    p,
                    why,
                    "port names are up to 15 lowercase letters, digits and `-`, with at least one letter",
                );
            }
        }
    }
    ports
}

/// E0415: a port name (`what` = `expose.target`, `probe.port`) the container (`owner`: "the
/// workload", "container `metrics`") does not declare.
fn check_port_named(cx: &mut Checker<'_>, res: &Resource, what: &str, a: &AttrValue, ports: &[String], owner: &str) {
    let Some(name) = a.value.as_str() else { return };
    if ports.iter().any(|p| p == name) {
        return;
    }
    let help = match crate::eval::did_you_mean(name, ports.iter().map(String::as_str)) {
        Some(p) => format!("did you mean `{p}`?"),
        None if ports.is_empty() => "declare it in `ports = { … }`".to_string(),
        None => format!("the ports of {owner} are: {}", ports.join(", ")),
    };
    cx.report(
        res,
        Diagnostic::error("E0415", a.span, format!("`{what}` names the port `{name}`, which {owner} does not declare")).with_help(help),
    );
}

/// E0415: a probe block (`probe`, `liveness`, `startup`) needs exactly one of `http`, `tcp`
/// and `exec`, and a port it can use.
pub(super) fn check_probe(cx: &mut Checker<'_>, res: &Resource, p: &BlockValue, ports: &[String], any_port: bool, owner: &str) {
    if let Some(a) = p.body.attr("port") {
        check_port_named(cx, res, &format!("{}.port", p.kind), a, ports, owner);
    }
    let what = if p.kind == "probe" { "probe".to_string() } else { format!("`{}` probe", p.kind) };
    let grpc = p.body.attr("grpc").is_some_and(|a| matches!(a.value.unwrap_sensitive().0, Value::Bool(true)));
    let n = ["http", "tcp", "exec"].iter().filter(|k| p.body.attr(k).is_some()).count().saturating_add(usize::from(grpc));
    if n != 1 {
        cx.report(
            res,
            Diagnostic::error("E0415", p.kind_span, format!("a {what} needs exactly one of `http`, `tcp`, `grpc` and `exec`"))
                .with_help(format!("for example `{} {{ http = \"/healthz\" }}`", p.kind)),
        );
    } else if p.body.attr("exec").is_none() && p.body.attr("port").is_none() && !any_port {
        cx.report(
            res,
            Diagnostic::error("E0415", p.kind_span, format!("the {what} has no port to use"))
                .with_help("set `port` in the probe or declare `ports`"),
        );
    }
}

/// E0305 for the names a workload gives its parts (`container_name`, `expose.name`), and
/// E0415 for an empty `selector` (it would select every pod of the namespace).
fn check_workload_names(cx: &mut Checker<'_>, res: &Resource) {
    let body = &res.body;
    if let Some(a) = body.attr("container_name") {
        if let Some(Err(why)) = a.value.as_str().map(names::dns1123_label) {
            let name = a.value.as_str().unwrap_or_default().to_string();
            name_error(cx, res, a.span, "container name", &name, why, "use a DNS-1123 label: up to 63 lowercase letters, digits and `-`");
        }
    }
    if let Some(a) = body.block("expose").and_then(|e| e.body.attr("name")) {
        if let Some(Err(why)) = a.value.as_str().map(names::port_name) {
            let name = a.value.as_str().unwrap_or_default().to_string();
            name_error(
                cx,
                res,
                a.span,
                "port name",
                &name,
                why,
                "port names are up to 15 lowercase letters, digits and `-`, with at least one letter",
            );
        }
    }
    if let Some(a) = body.attr("selector") {
        if matches!(a.value.unwrap_sensitive().0, Value::Map(m) if m.is_empty()) {
            cx.report(
                res,
                Diagnostic::error(
                    "E0415",
                    a.span,
                    format!("`{}` has an empty `selector`, which would select every pod of its namespace", res.addr.name),
                )
                .with_help("name the labels its pods carry (`selector = { app = \"web\" }`), or remove `selector` for cairn's"),
            );
        }
    }
}

/// `secretKeyRef`/`configMapKeyRef` only reach objects in the pod's own namespace, for every
/// container's `env`.
fn check_env_namespaces(cx: &mut Checker<'_>, res: &Resource) {
    let Some(ns) = name_of(&res.body, "namespace") else { return };
    let sidecars = res.body.blocks.iter().filter(|b| b.kind == "container" || b.kind == "init").map(|b| &b.body);
    for body in std::iter::once(&*res.body).chain(sidecars) {
        let Some(env) = body.attr("env") else { continue };
        let Value::Map(m) = env.value.unwrap_sensitive().0 else { continue };
        for (k, v) in m.iter() {
            let Value::Ref(r) = v.unwrap_sensitive().0 else { continue };
            if r.kind == Kind::Bucket {
                continue; // E0426, with the bucket's own wording
            }
            let Some(target) = cx.find(r.kind, &r.name) else { continue };
            let Some(tns) = name_of(&target.body, "namespace") else { continue };
            if tns != ns {
                cx.report(
                    res,
                    Diagnostic::error(
                        "E0415",
                        env.span,
                        format!("env `{k}` reads `{}.{}` in namespace `{tns}`, but the workload runs in `{ns}`", r.kind.as_str(), r.name),
                    )
                    .with_label(target.label_span, "declared here")
                    .with_help("Kubernetes resolves key references in the pod's namespace: move one of them"),
                );
            }
        }
    }
}

/// `moved` blocks taken together: two renames of one pool (the same `from`), two renames into
/// one pool (the same `to`) and a rename to itself would each apply half a rename (E0416, E0417).
fn check_moves_together(cx: &mut Checker<'_>) {
    let resources = cx.resources;
    let mut froms: BTreeMap<String, Span> = BTreeMap::new();
    let mut tos: BTreeMap<String, Span> = BTreeMap::new();
    for res in resources.iter().filter(|r| r.addr.kind == Kind::Moved) {
        let from = res.body.attr("from").and_then(|a| a.value.as_str().map(|s| (s.to_string(), a.span)));
        let to = res.body.attr("to").and_then(|a| match a.value.unwrap_sensitive().0 {
            Value::Ref(r) if r.key.is_none() => Some((format!("{}.{}", r.kind.as_str(), r.name), a.span)),
            _ => None,
        });
        if let (Some((f, _)), Some((t, t_span))) = (&from, &to) {
            if f == t {
                cx.report(
                    res,
                    Diagnostic::error("E0417", *t_span, format!("`moved` renames `{f}` to itself")).with_help(
                        "`from` is the old address and `to` the new one; remove this block, or set `from` to the pool's old address",
                    ),
                );
                continue;
            }
        }
        if let Some((f, f_span)) = from {
            match froms.get(&f) {
                Some(first) => cx.report(
                    res,
                    Diagnostic::error("E0416", f_span, format!("`{f}` is moved twice"))
                        .with_label(*first, "first moved here")
                        .with_help("a pool can be renamed once per apply: keep one `moved` block for it"),
                ),
                None => {
                    froms.insert(f, f_span);
                }
            }
        }
        if let Some((t, t_span)) = to {
            match tos.get(&t) {
                Some(first) => cx.report(
                    res,
                    Diagnostic::error("E0416", t_span, format!("two `moved` blocks rename into `{t}`"))
                        .with_label(*first, "first renamed here")
                        .with_help("one pool can take only one old pool's data: keep one `moved` block for it"),
                ),
                None => {
                    tos.insert(t, t_span);
                }
            }
        }
    }
}

fn check_moved(cx: &mut Checker<'_>, res: &Resource, facts: &Facts) {
    let body = &res.body;
    if let Some(from) = body.attr("from") {
        if let Some(s) = from.value.as_str() {
            match s.split_once('.') {
                Some(("pool", name)) if names::pool_name(name).is_ok() => {}
                Some((kind, _)) if Kind::from_name(kind).is_some() => {
                    cx.report(
                        res,
                        Diagnostic::error("E0409", from.span, format!("`moved` cannot rename a {kind}"))
                            .with_help("Kubernetes object names are immutable; only direct-mode pools can be renamed (`osd pool rename`)"),
                    );
                }
                _ => {
                    cx.report(
                        res,
                        Diagnostic::error("E0409", from.span, format!("`from` must be an address such as \"pool.old\", found \"{s}\""))
                            .with_help("write the pool's old address as a string"),
                    );
                }
            }
        }
    }
    let Some(to) = body.attr("to") else { return };
    let Value::Ref(r) = to.value.unwrap_sensitive().0 else { return };
    if r.kind != Kind::Pool {
        return;
    }
    let Some(idx) = cx.resources.iter().position(|x| x.addr.kind == Kind::Pool && x.addr.name == r.name) else { return };
    if let Some(Some(cluster)) = facts.cluster_of.get(idx) {
        if cluster.mode != CephMode::Direct {
            cx.report(
                res,
                Diagnostic::error("E0409", to.span, format!("pool `{}` is managed by Rook, which cannot rename a pool", r.name))
                    .with_help("`moved` works for direct-mode pools only; in Rook mode create the new pool and migrate the data"),
            );
        }
    }
}
