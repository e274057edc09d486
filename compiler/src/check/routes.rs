//! Route rules (LANGUAGE.md §10): a route's host and paths are valid Ingress values, each path
//! goes to an exposed workload of its own namespace on a port its Service serves, the TLS secret
//! is a `kubernetes.io/tls` secret, and no two routes claim one host and path.

use std::collections::HashMap;

use cairn_lang::{Diagnostic, Span};

use super::Checker;
use crate::access::{int_of, name_of, str_of};
use crate::eval::Resource;
use crate::schema::Kind;
use cairn_core::names;

/// E0304 (no `path`), E0305 (host, path), E0430 (a path to an unexposed workload or another
/// namespace), E0431 (a port the Service does not serve), E0432 (a `tls` secret of another
/// type) and E0433 (two routes claiming one host and path).
pub(super) fn check_routes(cx: &mut Checker<'_>) {
    let routes: Vec<&Resource> = cx.of_kind(Kind::Route).map(|(_, r)| r).collect();
    let mut claimed: HashMap<(String, String), Span> = HashMap::new();
    for res in routes {
        let host = str_of(&res.body, "host");
        if let (Some(h), Some(a)) = (&host, res.body.attr("host")) {
            if let Err(why) = host_rule(h) {
                cx.report(
                    res,
                    Diagnostic::error("E0305", a.span, format!("invalid host `{h}`: {why}"))
                        .with_help("write a DNS name such as `shop.example.com` (a leading `*.` matches one label)"),
                );
            }
        }
        check_tls(cx, res);
        if res.body.blocks_of("path").next().is_none() {
            cx.report(
                res,
                Diagnostic::error("E0304", res.label_span, format!("route `{}` has no `path` block", res.addr.name))
                    .with_help("add `path \"/\" { to = workload.NAME }`"),
            );
        }
        let ns = name_of(&res.body, "namespace");
        for p in res.body.blocks_of("path") {
            let Some((path, span)) = &p.label else { continue };
            if !path.starts_with('/') {
                cx.report(
                    res,
                    Diagnostic::error("E0305", *span, format!("invalid path `{path}`: it must start with `/`"))
                        .with_help(format!("write `\"/{path}\"`")),
                );
            }
            if let Some(h) = &host {
                match claimed.get(&(h.clone(), path.clone())) {
                    Some(first) => cx.report(
                        res,
                        Diagnostic::error("E0433", *span, format!("`{h}{path}` is routed twice"))
                            .with_label(*first, "first routed here")
                            .with_help("an ingress controller picks one of them unpredictably: keep one path, or change a host"),
                    ),
                    None => {
                        claimed.insert((h.clone(), path.clone()), *span);
                    }
                }
            }
            check_backend(cx, res, ns.as_deref(), &p.body);
        }
    }
}

/// An Ingress rule's host: a DNS-1123 subdomain, optionally `*.` first; not an IP address.
fn host_rule(host: &str) -> Result<(), String> {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Err("an Ingress host cannot be an IP address".into());
    }
    names::dns1123_subdomain(host.strip_prefix("*.").unwrap_or(host))
}

/// E0432: `tls` names a secret that is not of type `kubernetes.io/tls`.
fn check_tls(cx: &mut Checker<'_>, res: &Resource) {
    let Some(a) = res.body.attr("tls") else { return };
    let Some(secret) = name_of(&res.body, "tls").and_then(|s| cx.find(Kind::Secret, &s)) else { return };
    if secret.is_existing() {
        return; // the live secret's type is checked at plan time
    }
    let ty = str_of(&secret.body, "type").unwrap_or_else(|| "Opaque".into());
    if ty != "kubernetes.io/tls" {
        let mut d = Diagnostic::error(
            "E0432",
            a.span,
            format!("`tls` names secret `{}` of type `{ty}`, not `kubernetes.io/tls`", secret.addr.name),
        )
        .with_help(
            "ingress controllers read `tls.crt` and `tls.key` from a `kubernetes.io/tls` secret: set `type = \"kubernetes.io/tls\"` on it",
        );
        if let Some(t) = secret.body.attr("type") {
            d = d.with_label(t.span, "its type is set here");
        }
        cx.report(res, d);
    }
}

/// E0430 and E0431 for one path's `to` and `port`.
fn check_backend(cx: &mut Checker<'_>, res: &Resource, ns: Option<&str>, path: &crate::eval::BodyValue) {
    let Some(to) = path.attr("to") else { return };
    let Some(w) = name_of(path, "to").and_then(|n| cx.find(Kind::Workload, &n)) else { return };
    let their_ns = name_of(&w.body, "namespace");
    if let (Some(mine), Some(theirs)) = (ns, their_ns.as_deref()) {
        if mine != theirs {
            cx.report(
                res,
                Diagnostic::error(
                    "E0430",
                    to.span,
                    format!("route `{}` is in namespace `{mine}` but workload `{}` runs in `{theirs}`", res.addr.name, w.addr.name),
                )
                .with_help("an Ingress reaches Services of its own namespace only: declare the route in the workload's namespace"),
            );
            return;
        }
    }
    let Some(expose) = w.body.block("expose") else {
        cx.report(
            res,
            Diagnostic::error("E0430", to.span, format!("workload `{}` has no `expose` block, so no Service to route to", w.addr.name))
                .with_label(w.label_span, "the workload is declared here")
                .with_help("add `expose { port = … }` to the workload"),
        );
        return;
    };
    let served = int_of(&expose.body, "port");
    if let (Some(p), Some(port)) = (path.attr("port"), int_of(path, "port")) {
        if served.is_some_and(|s| s != port) {
            let mut d = Diagnostic::error("E0431", p.span, format!("the Service of `{}` does not serve port {port}", w.addr.name))
                .with_help(format!(
                    "its Service serves port {}: write `port = {}` or leave `port` out",
                    served.unwrap_or_default(),
                    served.unwrap_or_default()
                ));
            if let Some(e) = expose.body.attr("port") {
                d = d.with_label(e.span, "the Service port is set here");
            }
            cx.report(res, d);
        }
    }
}
