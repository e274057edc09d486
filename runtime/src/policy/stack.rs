//! A compiled stack's `policy` blocks run over its objects; their findings become diagnostics (P0001 a
//! violation — deny an error, warn a warning, info an info — and P0002 a policy that could not
//! run), placed at the resource they name, with a label at the policy block.

use super::{Compiling, Enforce, Finding, Loaded, PlanPhase};
use cairn_compiler::lower::Object;
use cairn_compiler::schema::Kind;
use cairn_compiler::Compilation;
use cairn_lang::{Diagnostic, Span};
use cairn_stdlib::policy::{Change, Severity};
use serde_json::Value as Json;

/// Runs the policies of `c` in `phase`; the findings as diagnostics.
pub fn diagnostics(c: &Compilation, phase: &str) -> Vec<Diagnostic> {
    evaluate(c, phase).1
}

/// [`diagnostics`], calling `on_compile` before a policy component is compiled (its first run).
pub fn diagnostics_reporting(c: &Compilation, phase: &str, on_compile: &mut dyn FnMut(&Compiling)) -> Vec<Diagnostic> {
    evaluate_objects(c, phase, &c.objects, &[], on_compile).1
}

/// Runs the policies of `c` in `phase`: the findings (for plan output) and the same as
/// diagnostics (load errors included).
pub fn evaluate(c: &Compilation, phase: &str) -> (Vec<Finding>, Vec<Diagnostic>) {
    evaluate_objects(c, phase, &c.objects, &[], &mut |_| {})
}

/// [`evaluate`] on a plan, with its changes in the input ([`super::changes::of_plan`]): in phase
/// `plan` the resources are the declared objects; in phase `destroy` there are none (nothing is
/// declared any more) and the changes are the deletes. `on_compile` is called before a policy
/// component is compiled (its first run).
pub fn evaluate_plan(
    c: &Compilation,
    phase: PlanPhase,
    changes: &[Change],
    on_compile: &mut dyn FnMut(&Compiling),
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let objects = match phase {
        PlanPhase::Plan => c.objects.as_slice(),
        PlanPhase::Destroy => &[],
    };
    evaluate_objects(c, phase.as_str(), objects, changes, on_compile)
}

fn evaluate_objects(
    c: &Compilation,
    phase: &str,
    objects: &[Object],
    changes: &[Change],
    on_compile: &mut dyn FnMut(&Compiling),
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let stack = c.facts.stack.clone().unwrap_or_else(|| "stack".into());
    let mut out = Vec::new();
    let mut loaded: Vec<(Loaded, Span)> = Vec::new();
    for r in c.resources.iter().filter(|r| r.addr.kind == Kind::Policy) {
        let source = cairn_compiler::access::str_of(&r.body, "source").unwrap_or_default();
        let sha256 = cairn_compiler::access::str_of(&r.body, "sha256");
        let enforce = match cairn_compiler::access::str_of(&r.body, "enforce").as_deref() {
            Some("warn") => Enforce::Warn,
            _ => Enforce::Deny,
        };
        let config = r.body.get("config").and_then(cairn_compiler::convert::value_to_json).unwrap_or(Json::Null);
        match super::load_reporting(&r.addr.name, &source, sha256.as_deref(), enforce, config, &c.program.root_dir, on_compile) {
            Ok(p) => loaded.push((p, r.label_span)),
            Err(message) => out.push(
                Diagnostic::error("P0002", r.label_span, format!("policy `{}` cannot run: {message}", r.addr.name))
                    .with_help("fix the policy's `source`, or remove the policy block"),
            ),
        }
    }
    if loaded.is_empty() {
        return (Vec::new(), out);
    }
    let spans: Vec<Span> = loaded.iter().map(|(_, s)| *s).collect();
    let policies: Vec<Loaded> = loaded.into_iter().map(|(p, _)| p).collect();
    let span_of_policy = |name: &str| policies.iter().position(|p| p.name == name).and_then(|i| spans.get(i).copied()).unwrap_or_default();
    let findings = super::run_with_changes(&policies, phase, &stack, objects, changes);
    for f in findings.iter().cloned() {
        match f {
            Finding::Violation { policy, source, violation } => {
                let at = c
                    .resources
                    .iter()
                    .find(|r| r.addr.to_string() == violation.address)
                    .map_or_else(|| span_of_policy(&policy), |r| r.label_span);
                let message = format!("policy `{policy}` ({source}): {}", violation.message);
                let d = match violation.severity {
                    Severity::Deny => Diagnostic::error("P0001", at, message),
                    Severity::Warn => Diagnostic::warning("P0001", at, message),
                    Severity::Info => Diagnostic::info("P0001", at, message),
                };
                let d = d.with_label(span_of_policy(&policy), "the policy");
                out.push(match violation.path {
                    Some(p) => d.with_help(format!("at `{p}` of {}", violation.address)),
                    None => d,
                });
            }
            Finding::Failure { policy, source, message, log } => {
                let help = "fix the policy or its `config`; a policy that cannot judge the stack fails the check";
                let help = if log.is_empty() {
                    help.to_string()
                } else {
                    format!("{help}\nthe end of its log:\n{}", log.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"))
                };
                out.push(
                    Diagnostic::error("P0002", span_of_policy(&policy), format!("policy `{policy}` ({source}) failed: {message}"))
                        .with_help(help),
                )
            }
        }
    }
    (findings, out)
}
