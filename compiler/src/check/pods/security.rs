//! E0421: a workload whose pods the namespace's Pod Security level would refuse at admission
//! (LANGUAGE.md §10). On a cluster the workload object is admitted and its controller's pod
//! creates fail with only a `FailedCreate` event; here the error points at the attribute.

use cairn_lang::{Diagnostic, Span};

use super::{container_security, containers, enforced_level, security_bool, Checker};
use crate::access::str_of;
use crate::eval::Resource;
use crate::lower::capabilities;

/// The capabilities the baseline profile allows a container to add.
const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The `security` block the restricted profile admits, as the help shows it.
const RESTRICTED_BLOCK: &str = "security { non_root = true, seccomp = \"RuntimeDefault\", escalation = false, drop = [\"ALL\"] }";

/// One way the pod breaks the profile: what, and where (the offending attribute, or the block
/// or container that lacks it).
struct Violation {
    what: String,
    at: Span,
}

pub(super) fn check_pod_security(cx: &mut Checker<'_>, res: &Resource) {
    let Some((level, level_span)) = enforced_level(cx, res) else { return };
    let restricted = level == "restricted";
    if !restricted && level != "baseline" {
        return;
    }
    let pod = res.body.block("security");
    let pod_span = pod.map_or(res.label_span, |b| b.kind_span);
    let attr_span = |name: &str| pod.and_then(|b| b.body.attr(name)).map_or(pod_span, |a| a.span);
    let mut found: Vec<Violation> = Vec::new();

    let seccomp = pod.and_then(|b| str_of(&b.body, "seccomp"));
    if restricted {
        if security_bool(pod, "non_root") != Some(true) {
            found.push(Violation { what: "`non_root` is not true (runAsNonRoot)".into(), at: attr_span("non_root") });
        }
        if !matches!(seccomp.as_deref(), Some("RuntimeDefault" | "Localhost")) {
            found.push(Violation {
                what: "`seccomp` is not \"RuntimeDefault\" or \"Localhost\" (seccompProfile.type)".into(),
                at: attr_span("seccomp"),
            });
        }
    } else if seccomp.as_deref() == Some("Unconfined") {
        found.push(Violation { what: "`seccomp` is \"Unconfined\"".into(), at: attr_span("seccomp") });
    }

    for c in containers(res) {
        let block = container_security(res, &c);
        let span_of = |name: &str| block.and_then(|b| b.body.attr(name)).map_or_else(|| block.map_or(c.span, |b| b.kind_span), |a| a.span);
        let who = format!("container `{}`", c.name);
        if security_bool(block, "privileged") == Some(true) {
            found.push(Violation { what: format!("{who} is privileged"), at: span_of("privileged") });
        }
        let add = block.map(|b| capabilities(&b.body, "add")).unwrap_or_default();
        let allowed: &[&str] = if restricted { &["NET_BIND_SERVICE"] } else { &BASELINE_CAPABILITIES };
        let extra: Vec<&str> = add.iter().map(String::as_str).filter(|a| !allowed.contains(a)).collect();
        if !extra.is_empty() {
            found.push(Violation { what: format!("{who} adds the capabilities {}", extra.join(", ")), at: span_of("add") });
        }
        if restricted {
            if security_bool(block, "escalation") != Some(false) {
                found.push(Violation {
                    what: format!("{who}: `escalation` is not false (allowPrivilegeEscalation)"),
                    at: span_of("escalation"),
                });
            }
            let drop = block.map(|b| capabilities(&b.body, "drop")).unwrap_or_default();
            if !drop.iter().any(|d| d == "ALL") {
                found.push(Violation { what: format!("{who}: `drop` does not contain \"ALL\""), at: span_of("drop") });
            }
        }
    }
    let Some(first) = found.first() else { return };
    let namespace = crate::access::name_of(&res.body, "namespace").unwrap_or_default();
    let whats: Vec<&str> = found.iter().map(|v| v.what.as_str()).collect();
    let mut d = Diagnostic::error(
        "E0421",
        first.at,
        format!("the pods of `{}` violate the {level} Pod Security level of namespace `{namespace}`: {}", res.addr.name, whats.join("; ")),
    )
    .with_label(level_span, format!("`{level}` is enforced here"));
    for v in found.iter().skip(1).filter(|v| v.at != first.at) {
        d = d.with_label(v.at, v.what.clone());
    }
    let help = if restricted {
        format!("the API server refuses these pods and the rollout hangs (FailedCreate); a block that passes: `{RESTRICTED_BLOCK}`")
    } else {
        format!(
            "the API server refuses these pods and the rollout hangs (FailedCreate); baseline forbids `privileged = true`, \
             `seccomp = \"Unconfined\"` and adding capabilities beyond {}",
            BASELINE_CAPABILITIES.join(", ")
        )
    };
    cx.report(res, d.with_help(help));
}
