//! The rules of a workload's pod shape (LANGUAGE.md §10): what each kind accepts (`schedule`,
//! `retries`, `replicas`, `expose`, `update`), the containers of one pod (names, ports, sidecar
//! mounts, probes), and the Pod Security level its namespace enforces.

use cairn_lang::{Diagnostic, Span};

use super::rules::workload_kind;
use super::Checker;
use crate::access::{bool_of, name_of, str_of};
use crate::eval::{BlockValue, BodyValue, Resource};
use crate::schema::Kind;
use crate::value::Value;

mod cron;
mod security;

/// A workload's pod rules, stage by stage.
pub(super) fn check_pod(cx: &mut Checker<'_>, res: &Resource) {
    let kind = workload_kind(&res.body);
    check_kind_attributes(cx, res, kind);
    check_containers(cx, res);
    security::check_pod_security(cx, res);
}

/// One container of a pod: its name, where the name is written, and its body (the workload's
/// own body for the main container).
pub(super) struct PodContainer<'a> {
    pub name: &'a str,
    pub span: Span,
    pub body: &'a BodyValue,
    /// An init container.
    pub init: bool,
    /// The `container`/`init` block; `None` for the main container.
    pub block: Option<&'a BlockValue>,
}

/// The main container, the sidecars and the init containers of workload `res`, in pod order.
pub(super) fn containers(res: &Resource) -> Vec<PodContainer<'_>> {
    let (name, span) = match res.body.attr("container_name") {
        Some(a) => (a.value.as_str().unwrap_or(&res.addr.name), a.span),
        None => (res.addr.name.as_str(), res.label_span),
    };
    let mut all = vec![PodContainer { name, span, body: &res.body, init: false, block: None }];
    for (kind, init) in [("container", false), ("init", true)] {
        for b in res.body.blocks_of(kind) {
            if let Some((name, span)) = &b.label {
                all.push(PodContainer { name, span: *span, body: &b.body, init, block: Some(b) });
            }
        }
    }
    all
}

/// E0418 (`schedule`) and E0419 (attributes that mean nothing for the kind).
fn check_kind_attributes(cx: &mut Checker<'_>, res: &Resource, kind: &str) {
    let body = &res.body;
    let batch = matches!(kind, "job" | "cronjob");
    match (kind, body.attr("schedule")) {
        ("cronjob", None) => {
            let at = body.attr("kind").map_or(res.label_span, |a| a.span);
            cx.report(
                res,
                Diagnostic::error("E0418", at, format!("cronjob `{}` has no `schedule`", res.addr.name))
                    .with_help("add `schedule = \"0 3 * * *\"` (minute hour day-of-month month day-of-week)"),
            );
        }
        ("cronjob", Some(a)) => {
            if let Some(Err(why)) = a.value.as_str().map(cron::check) {
                cx.report(
                    res,
                    Diagnostic::error("E0418", a.span, format!("`schedule` is not a cron schedule: {why}")).with_help(
                        "write 5 fields, minute hour day-of-month month day-of-week (`\"*/15 * * * *\"`), or a macro such as `@daily`",
                    ),
                );
            }
        }
        (_, Some(a)) => {
            cx.report(
                res,
                Diagnostic::error("E0418", a.name_span, format!("`schedule` applies to cronjobs only; `{}` is a {kind}", res.addr.name))
                    .with_help("set `kind = \"cronjob\"` or remove `schedule`"),
            );
        }
        (_, None) => {}
    }
    let refuse = |attr: &str| -> Option<&'static str> {
        match attr {
            "replicas" if batch => Some("a job runs its pods to completion; it has no replica count"),
            "replicas" if kind == "daemonset" => Some("a daemonset runs one pod per node"),
            "expose" if batch => Some("a job's pods are not a service to route to"),
            "update" if batch => Some("a job is not rolled out; a changed job is replaced"),
            "retries" if !batch => Some("only jobs and cronjobs retry failed pods (backoffLimit)"),
            "autoscale" if batch => Some("a job runs its pods to completion; there is no replica count to scale"),
            "autoscale" if kind == "daemonset" => Some("a daemonset runs one pod per node; its size follows the nodes"),
            "disruption" if batch => Some("a job's pods are not a service that evictions could take down"),
            _ => None,
        }
    };
    let attrs = body.attrs.iter().map(|a| (a.name.as_str(), a.name_span));
    let blocks = body.blocks.iter().map(|b| (b.kind.as_str(), b.kind_span));
    for (name, span) in attrs.chain(blocks) {
        if let Some(why) = refuse(name) {
            cx.report(
                res,
                Diagnostic::error("E0419", span, format!("`{name}` does not apply to a {kind}"))
                    .with_help(format!("{why}: remove `{name}`")),
            );
        }
    }
}

/// E0420: two containers of one pod with the same name, port name or port number, or two pod
/// volumes of one name; E0415: a sidecar's mount that shares nothing, and each container's
/// port names, probes and mounts.
fn check_containers(cx: &mut Checker<'_>, res: &Resource) {
    let all = containers(res);
    let mut names: Vec<(&str, Span)> = Vec::new();
    let mut port_names: Vec<(String, Span)> = Vec::new();
    let mut port_numbers: Vec<(i64, Span)> = Vec::new();
    for c in &all {
        if let Some((_, first)) = names.iter().find(|(n, _)| *n == c.name) {
            cx.report(
                res,
                Diagnostic::error("E0420", c.span, format!("two containers of `{}` are named `{}`", res.addr.name, c.name))
                    .with_label(*first, "first named here")
                    .with_help("container names are unique in a pod (the main container is named after the workload): rename one"),
            );
        } else {
            names.push((c.name, c.span));
        }
        if let Some(a) = c.body.attr("ports") {
            // Unnamed ports (a list) still take their number.
            if let Value::List(items) = a.value.unwrap_sensitive().0 {
                for v in items.iter() {
                    let Value::Int(n) = v.unwrap_sensitive().0 else { continue };
                    if let Some((_, first)) = port_numbers.iter().find(|(p, _)| p == n) {
                        cx.report(
                            res,
                            Diagnostic::error("E0420", a.span, format!("two containers of `{}` listen on port {n}", res.addr.name))
                                .with_label(*first, "first declared here")
                                .with_help("containers of a pod share its network: only one of them can bind a port"),
                        );
                    } else {
                        port_numbers.push((*n, a.span));
                    }
                }
            }
            if let Value::Map(m) = a.value.unwrap_sensitive().0 {
                for (k, v) in m.iter() {
                    let span = a.key_span(k);
                    if let Some((_, first)) = port_names.iter().find(|(n, _)| n == k) {
                        cx.report(
                            res,
                            Diagnostic::error("E0420", span, format!("two containers of `{}` name a port `{k}`", res.addr.name))
                                .with_label(*first, "first named here")
                                .with_help("port names are unique in a pod: rename one"),
                        );
                    } else {
                        port_names.push((k.clone(), span));
                    }
                    let Value::Int(n) = v.unwrap_sensitive().0 else { continue };
                    if let Some((_, first)) = port_numbers.iter().find(|(p, _)| p == n) {
                        cx.report(
                            res,
                            Diagnostic::error("E0420", span, format!("two containers of `{}` listen on port {n}", res.addr.name))
                                .with_label(*first, "first declared here")
                                .with_help("containers of a pod share its network: only one of them can bind a port"),
                        );
                    } else {
                        port_numbers.push((*n, span));
                    }
                }
            }
        }
        if c.block.is_some() {
            super::rules::check_port_names(cx, res, c.body);
            check_probes(cx, res, c.body, c.name);
            check_sidecar_mounts(cx, res, c.body);
        }
    }
    check_volume_names(cx, res);
}

/// E0415 for a sidecar's probes: exactly one of `http`, `tcp`, `exec`, and a port to use.
fn check_probes(cx: &mut Checker<'_>, res: &Resource, body: &BodyValue, name: &str) {
    let ports = super::rules::port_names(body);
    for kind in super::rules::PROBES {
        let Some(p) = body.block(kind) else { continue };
        super::rules::check_probe(cx, res, p, &ports, super::rules::has_ports(body), &format!("container `{name}`"));
    }
}

/// E0415: a sidecar or init container's `mount` needs at most one of `config` and `secret`,
/// and with neither it shares the workload's volume or mount of its name.
fn check_sidecar_mounts(cx: &mut Checker<'_>, res: &Resource, body: &BodyValue) {
    for m in body.blocks_of("mount") {
        let Some((mname, span)) = &m.label else { continue };
        let n = ["config", "secret"].iter().filter(|k| m.body.attr(k).is_some()).count();
        if n > 1 {
            cx.report(
                res,
                Diagnostic::error("E0415", m.kind_span, "a mount takes at most one of `config` and `secret`")
                    .with_help("mount the other under another name"),
            );
        } else if n == 0 {
            let shared = res
                .body
                .blocks
                .iter()
                .any(|b| (b.kind == "volume" || b.kind == "mount") && b.label.as_ref().is_some_and(|(l, _)| l == mname));
            if !shared {
                cx.report(
                    res,
                    Diagnostic::error("E0415", *span, format!("mount `{mname}` names no `volume` or `mount` of `{}`", res.addr.name))
                        .with_help("name one of the workload's volumes or mounts to share it, or set `config` or `secret`"),
                );
            }
        }
    }
}

/// E0420: the pod volumes — the workload's volumes and mounts, and the sidecars' own config or
/// secret mounts — have unique names.
fn check_volume_names(cx: &mut Checker<'_>, res: &Resource) {
    let mut seen: Vec<(&str, Span)> = Vec::new();
    let own = res.body.blocks.iter().filter(|b| b.kind == "volume" || b.kind == "mount");
    let sidecars = res
        .body
        .blocks
        .iter()
        .filter(|b| b.kind == "container" || b.kind == "init")
        .flat_map(|c| c.body.blocks_of("mount"))
        .filter(|m| m.body.attr("config").is_some() || m.body.attr("secret").is_some());
    for b in own.chain(sidecars) {
        let Some((name, span)) = &b.label else { continue };
        if let Some((_, first)) = seen.iter().find(|(n, _)| n == name) {
            cx.report(
                res,
                Diagnostic::error("E0420", *span, format!("two volumes of `{}`'s pod are named `{name}`", res.addr.name))
                    .with_label(*first, "first named here")
                    .with_help(
                        "pod volume names are unique: rename one (a sidecar shares a volume by naming it without `config` or `secret`)",
                    ),
            );
        } else {
            seen.push((name, *span));
        }
    }
}

/// The `security` block that applies to container `c`'s container-level attributes: its own,
/// else the workload's.
pub(super) fn container_security<'a>(res: &'a Resource, c: &PodContainer<'a>) -> Option<&'a BlockValue> {
    match c.block {
        Some(_) => c.body.block("security").or_else(|| res.body.block("security")),
        None => res.body.block("security"),
    }
}

/// The namespace's `pod_security` level and where it is set, when the workload's namespace is
/// declared in the stack.
pub(super) fn enforced_level<'a>(cx: &Checker<'a>, res: &Resource) -> Option<(String, Span)> {
    let ns = cx.find(Kind::Namespace, &name_of(&res.body, "namespace")?)?;
    let level = str_of(&ns.body, "pod_security")?;
    Some((level, ns.body.attr("pod_security")?.span))
}

/// A boolean `security` attribute of `block`.
pub(super) fn security_bool(block: Option<&BlockValue>, attr: &str) -> Option<bool> {
    block.and_then(|b| bool_of(&b.body, attr))
}
