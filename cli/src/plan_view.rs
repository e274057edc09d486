//! Plans as people and programs read them: Terraform-style text with unified diffs of changed
//! fields, the versioned JSON of `docs/plan-format.md`, and markdown for CI summaries. Values
//! come from the plan, which holds `(sensitive)` in place of every secret value.

use cairn_runtime::kube::rollouts::Unhealthy;
use cairn_runtime::plan::{Action, Class, FieldChange, FieldOp, Holding, Plan, Step};
use cairn_runtime::policy::Finding;
use cairn_stdlib::policy::Severity;
use serde_json::{json, Value as Json};

/// The JSON format's version: minor versions only add fields.
pub const FORMAT_VERSION: &str = "1.2";

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn action(&self, a: Action, text: &str) -> String {
        let code = match a {
            Action::Create => "32",
            Action::Update => "33",
            Action::Replace => "35",
            Action::Delete => "31",
            Action::Noop => "0",
        };
        self.wrap(code, text)
    }
}

/// A value as one or more YAML lines.
fn yaml_lines(v: &Json) -> String {
    match v {
        Json::String(s) if !s.contains('\n') => format!("{v}\n"),
        Json::Null | Json::Bool(_) | Json::Number(_) => format!("{v}\n"),
        other => serde_yaml::to_string(other).unwrap_or_else(|_| format!("{other}\n")),
    }
}

/// A unified diff of a field's old and new value (`similar`), indented.
fn field_diff(c: &FieldChange, paint: &Paint, indent: &str) -> String {
    if c.sensitive {
        let what = match (c.op, &c.before) {
            (FieldOp::Set, None) => "+ (sensitive value)",
            (FieldOp::Set, Some(_)) => "~ (sensitive value changed)",
            _ => "- (sensitive value)",
        };
        return format!("{indent}{}\n", paint.wrap("33", what));
    }
    let before = c.before.as_ref().map(yaml_lines).unwrap_or_default();
    let after = match c.op {
        FieldOp::Release => before.clone(),
        _ => c.after.as_ref().map(yaml_lines).unwrap_or_default(),
    };
    let mut out = String::new();
    let diff = similar::TextDiff::from_lines(&before, &after);
    for change in diff.iter_all_changes() {
        let line = change.value().trim_end_matches('\n');
        match change.tag() {
            similar::ChangeTag::Delete => out.push_str(&format!("{indent}{}\n", paint.wrap("31", &format!("- {line}")))),
            similar::ChangeTag::Insert => out.push_str(&format!("{indent}{}\n", paint.wrap("32", &format!("+ {line}")))),
            similar::ChangeTag::Equal => out.push_str(&format!("{indent}  {line}\n")),
        }
    }
    out
}

fn op_note(c: &FieldChange) -> String {
    let op = match c.op {
        FieldOp::Set if c.before.is_none() => " (added)",
        FieldOp::Set => "",
        FieldOp::Remove => " (removed: no longer declared)",
        FieldOp::Release => " (released: no longer declared, another manager keeps it)",
    };
    if c.managers.is_empty() || c.op == FieldOp::Release {
        op.to_string()
    } else {
        format!("{op} (live value set by {})", c.managers.join(", "))
    }
}

/// How many of a namespace's holdings the text names before `and N more`.
const HOLDINGS_SHOWN: usize = 10;

/// `data loss: deleting it deletes PersistentVolumeClaim/db/data (claim), … and 3 more`.
fn holdings_line(holds: &[Holding]) -> String {
    let names: Vec<String> = holds.iter().take(HOLDINGS_SHOWN).map(|h| format!("{} ({})", h.key, h.reason.as_str())).collect();
    let mut line = format!("data loss: deleting it deletes {}", names.join(", "));
    let more = holds.len().saturating_sub(HOLDINGS_SHOWN);
    if more > 0 {
        line.push_str(&format!(" and {more} more"));
    }
    line
}

/// One step's header and diffs.
fn step_text(s: &Step, paint: &Paint, out: &mut String) {
    let sign = format!("{:>3}", s.action.sign());
    let mut line = format!("  {} {}", paint.action(s.action, &sign), s.key);
    if let Some(a) = &s.address {
        line.push_str(&format!("  ({a})"));
    }
    let mut notes = Vec::new();
    if s.action == Action::Replace {
        notes.push(format!("replace: {}", s.reason.as_deref().unwrap_or("an immutable field changed")));
    } else if let Some(reason) = &s.reason {
        notes.push(reason.clone());
    }
    if let Some(class) = s.class {
        if s.action != Action::Create && s.action != Action::Delete {
            notes.push(class.as_str().to_string());
        }
    }
    if s.adopt {
        notes.push("adopt".into());
    }
    if s.protected {
        notes.push(paint.wrap("1;31", "protected: destroys data, needs --allow-data-loss"));
    }
    if !notes.is_empty() {
        line.push_str(&format!("  [{}]", notes.join("; ")));
    }
    out.push_str(&line);
    out.push('\n');
    if !s.holds.is_empty() {
        out.push_str(&format!("        {}\n", paint.wrap("1;31", &holdings_line(&s.holds))));
    }
    if s.action == Action::Create {
        for c in &s.changes {
            out.push_str(&create_field(c, paint, "        "));
        }
        return;
    }
    for c in &s.changes {
        out.push_str(&format!("        {}{}\n", c.path, op_note(c)));
        out.push_str(&field_diff(c, paint, "          "));
    }
}

/// One field of a create, as Terraform shows it: `+ path: value`, a map, list or multi-line
/// string below it as YAML, a secret as `(sensitive)`.
fn create_field(c: &FieldChange, paint: &Paint, indent: &str) -> String {
    let plus = |line: &str| format!("{indent}{}\n", paint.wrap("32", &format!("+ {line}")));
    if c.sensitive {
        return plus(&format!("{}: (sensitive)", c.path));
    }
    let value = c.after.as_ref().unwrap_or(&Json::Null);
    let yaml = serde_yaml::to_string(value).unwrap_or_else(|_| format!("{value}\n"));
    let nested = matches!(value, Json::Object(m) if !m.is_empty()) || matches!(value, Json::Array(a) if !a.is_empty());
    if !nested && yaml.trim_end().lines().count() <= 1 {
        return plus(&format!("{}: {}", c.path, yaml.trim_end()));
    }
    let mut out = plus(&format!("{}:", c.path));
    for line in yaml.lines() {
        out.push_str(&plus(&format!("  {line}")));
    }
    out
}

/// `(denied, warnings, infos, failures)` among policy findings.
fn policy_counts(findings: &[Finding]) -> (usize, usize, usize, usize) {
    let sev =
        |s: Severity| findings.iter().filter(|f| matches!(f, Finding::Violation { violation, .. } if violation.severity == s)).count();
    let failed = findings.iter().filter(|f| matches!(f, Finding::Failure { .. })).count();
    (sev(Severity::Deny), sev(Severity::Warn), sev(Severity::Info), failed)
}

/// `Policies: 0 denied, 1 warning.` (nothing when the stack has no findings).
fn policy_line(findings: &[Finding]) -> Option<String> {
    if findings.is_empty() {
        return None;
    }
    let (deny, warn, info, failed) = policy_counts(findings);
    let mut line = format!("Policies: {deny} denied, {warn} warning{}", if warn == 1 { "" } else { "s" });
    if info > 0 {
        line.push_str(&format!(", {info} info"));
    }
    if failed > 0 {
        line.push_str(&format!(", {failed} failed to run"));
    }
    line.push('.');
    Some(line)
}

/// The findings as JSON.
fn policies_json(findings: &[Finding]) -> Json {
    Json::Array(
        findings
            .iter()
            .map(|f| match f {
                Finding::Violation { policy, source, violation } => json!({
                    "policy": policy, "source": source, "result": "violation",
                    "severity": violation.severity, "address": violation.address, "message": violation.message, "path": violation.path,
                }),
                Finding::Failure { policy, source, message, log } => json!({
                    "policy": policy, "source": source, "result": "failure", "message": message, "log": log,
                }),
            })
            .collect(),
    )
}

/// The plan as text, with the policy results' count on the last line.
pub fn text(plan: &Plan, server: &str, color: bool, findings: &[Finding]) -> String {
    text_of(plan, server, color, findings, false)
}

/// A destroy's plan as text: its deletes are what was asked for, so its summary counts them as
/// deletions, not as drift or pending.
pub fn destroy_text(plan: &Plan, server: &str, color: bool, findings: &[Finding]) -> String {
    text_of(plan, server, color, findings, true)
}

fn text_of(plan: &Plan, server: &str, color: bool, findings: &[Finding], destroy: bool) -> String {
    let paint = Paint { on: color };
    let mut out = String::new();
    for r in &plan.refusals {
        out.push_str(&format!("{}: {}\n", paint.wrap("1;31", "refused"), r.message));
        if let Some(at) = &r.at {
            out.push_str(&format!("  --> {at}\n"));
        }
        out.push_str(&format!("  help: {}\n", r.help));
    }
    let changes: Vec<&Step> = plan.changes().collect();
    if changes.is_empty() && !plan.refusals.is_empty() {
        // Refused objects were not compared: saying the stack matches would be false.
        out.push_str(&format!("Stack `{}` on {server}: no changes besides the refused objects above.\n", plan.stack));
    } else if changes.is_empty() {
        out.push_str(&format!("No changes: stack `{}` matches {server}.\n", plan.stack));
    } else {
        out.push_str(&format!("Stack `{}` on {server}: cairn will\n\n", plan.stack));
        for s in changes {
            step_text(s, &paint, &mut out);
        }
        out.push('\n');
    }
    out.push_str(&if destroy { destroy_summary_line(plan) } else { summary_line(plan) });
    if let Some(line) = policy_line(findings) {
        out.push(' ');
        out.push_str(&line);
    }
    out.push('\n');
    out
}

/// `Plan: 1 to create, 2 to update, 0 to replace, 0 to delete (1 drift, 2 pending).`
pub fn summary_line(plan: &Plan) -> String {
    let drift = plan.changes().filter(|s| s.class == Some(Class::Drift)).count();
    let pending = plan.changes().filter(|s| s.class == Some(Class::Pending)).count();
    let mut line = format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete ({drift} drift, {pending} pending).",
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.count(Action::Replace),
        plan.count(Action::Delete),
    );
    line.push_str(&protected_and_refused(plan));
    line
}

/// `Plan: 5 to delete.` for a destroy.
fn destroy_summary_line(plan: &Plan) -> String {
    format!("Plan: {} to delete.{}", plan.count(Action::Delete), protected_and_refused(plan))
}

fn protected_and_refused(plan: &Plan) -> String {
    let mut line = String::new();
    let protected = plan.protected().count();
    if protected > 0 {
        line.push_str(&format!(" {protected} protected."));
    }
    if !plan.refusals.is_empty() {
        line.push_str(&format!(" {} refused.", plan.refusals.len()));
    }
    line
}

fn step_json(s: &Step) -> Json {
    json!({
        "address": s.address,
        "object": {"apiVersion": s.key.api_version, "kind": s.key.kind, "namespace": s.key.namespace, "name": s.key.name},
        "action": s.action.as_str(),
        "class": s.class.map(Class::as_str),
        "reason": s.reason,
        "protected": s.protected,
        "holds": s.holds.iter().map(|h| json!({
            "object": {"apiVersion": h.key.api_version, "kind": h.key.kind, "namespace": h.key.namespace, "name": h.key.name},
            "reason": h.reason,
        })).collect::<Vec<Json>>(),
        "adopt": s.adopt,
        "changes": s.changes,
    })
}

/// The workloads that are not healthy, as a note after the plan (they are not changes):
/// nothing when all are.
pub fn health_text(unhealthy: &[Unhealthy]) -> String {
    if unhealthy.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nNote: not healthy (not a change; apply fails until it is fixed or rolled out):\n");
    for u in unhealthy {
        let state = if u.state() == "failed" { "failed" } else { "rolling out" };
        out.push_str(&format!("  {} ({}) {state}: {}\n", u.key, u.address, u.cause()));
    }
    out
}

/// The unhealthy workloads as plan JSON's `unhealthy` entries.
fn unhealthy_json(unhealthy: &[Unhealthy]) -> Json {
    Json::Array(
        unhealthy
            .iter()
            .map(|u| {
                json!({
                    "address": u.address,
                    "object": {"apiVersion": u.key.api_version, "kind": u.key.kind, "namespace": u.key.namespace, "name": u.key.name},
                    "state": u.state(),
                    "message": u.cause(),
                })
            })
            .collect(),
    )
}

/// The plan as versioned JSON (`docs/plan-format.md`), with the workloads not healthy.
/// `server` is the prose `cluster` of 1.0 (kept for consumers that read it), `clusters` the
/// live systems as data.
pub fn json(plan: &Plan, server: &str, clusters: &Json, command: &str, findings: &[Finding], unhealthy: &[Unhealthy]) -> Json {
    let drift: Vec<Json> = plan.changes().filter(|s| s.class == Some(Class::Drift)).map(step_json).collect();
    let changes: Vec<Json> = plan.changes().map(step_json).collect();
    json!({
        "format_version": FORMAT_VERSION,
        "command": command,
        "stack": plan.stack,
        "cluster": server,
        "clusters": clusters,
        "resource_drift": drift,
        "resource_changes": changes,
        "refusals": plan.refusals.iter().map(|r| json!({
            "object": {"apiVersion": r.key.api_version, "kind": r.key.kind, "namespace": r.key.namespace, "name": r.key.name},
            "address": r.address,
            "message": r.message,
            "help": r.help,
            "at": r.at,
        })).collect::<Vec<Json>>(),
        "summary": {
            "create": plan.count(Action::Create),
            "update": plan.count(Action::Update),
            "replace": plan.count(Action::Replace),
            "delete": plan.count(Action::Delete),
            "unchanged": plan.count(Action::Noop),
            "drift": plan.changes().filter(|s| s.class == Some(Class::Drift)).count(),
            "pending": plan.changes().filter(|s| s.class == Some(Class::Pending)).count(),
            "protected": plan.protected().count(),
            "refused": plan.refusals.len(),
        },
        "policies": policies_json(findings),
        "unhealthy": unhealthy_json(unhealthy),
        "applyable": plan.refusals.is_empty() && policy_counts(findings).0 == 0 && policy_counts(findings).3 == 0,
    })
}

/// Drift as markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`, with a note on the
/// workloads not healthy.
pub fn markdown(plan: &Plan, server: &str, findings: &[Finding], unhealthy: &[Unhealthy]) -> String {
    let mut out = drift_markdown(plan, server);
    if !unhealthy.is_empty() {
        out.push_str("\n> **Note**: not healthy (not a difference; apply fails until it is fixed or rolled out):\n");
        for u in unhealthy {
            out.push_str(&format!("> - `{}` (`{}`) {}: {}\n", u.key, u.address, u.state(), u.cause()));
        }
    }
    if let Some(line) = policy_line(findings) {
        out.push_str(&format!("\n**{line}**\n\n"));
        for f in findings {
            match f {
                Finding::Violation { policy, violation, .. } => {
                    let sev = match violation.severity {
                        Severity::Deny => "deny",
                        Severity::Warn => "warn",
                        Severity::Info => "info",
                    };
                    out.push_str(&format!("- {sev} `{policy}` on `{}`: {}\n", violation.address, violation.message));
                }
                Finding::Failure { policy, message, .. } => out.push_str(&format!("- failed `{policy}`: {message}\n")),
            }
        }
    }
    out
}

fn drift_markdown(plan: &Plan, server: &str) -> String {
    let changes: Vec<&Step> = plan.changes().collect();
    let mut out = format!("### cairn drift: stack `{}`\n\n", plan.stack);
    if changes.is_empty() && plan.refusals.is_empty() {
        out.push_str(&format!("✅ In sync with `{server}`: no differences.\n"));
        return out;
    }
    let drift = changes.iter().filter(|s| s.class == Some(Class::Drift)).count();
    let pending = changes.len().saturating_sub(drift);
    out.push_str(&format!(
        "**{} difference{}** with `{server}`: {drift} drift (changed outside cairn), {pending} pending (declared, not applied yet).\n\n",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    ));
    if !changes.is_empty() {
        out.push_str("| | object | address | class | fields |\n|---|---|---|---|---|\n");
        for s in &changes {
            let fields: Vec<String> = s.changes.iter().filter(|_| s.action != Action::Create).map(|c| format!("`{}`", c.path)).collect();
            out.push_str(&format!(
                "| `{}` | `{}` | {} | {} | {} |\n",
                s.action.sign(),
                s.key,
                s.address.as_deref().map(|a| format!("`{a}`")).unwrap_or_default(),
                s.class.map_or("", Class::as_str),
                if fields.is_empty() { s.action.as_str().to_string() } else { fields.join(", ") }
            ));
        }
        let paint = Paint { on: false };
        for s in changes.iter().filter(|s| !s.changes.is_empty() && s.action != Action::Create) {
            out.push_str(&format!("\n<details><summary><code>{}</code></summary>\n\n```diff\n", s.key));
            for c in &s.changes {
                out.push_str(&format!("# {}{}\n", c.path, op_note(c)));
                out.push_str(&field_diff(c, &paint, ""));
            }
            out.push_str("```\n\n</details>\n");
        }
    }
    for r in &plan.refusals {
        let at = r.at.as_ref().map(|a| format!(" (`{a}`)")).unwrap_or_default();
        out.push_str(&format!("\n> **refused**: {}{at} — {}\n", r.message, r.help));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_runtime::model::ObjectKey;
    use cairn_runtime::plan::HoldReason;

    #[test]
    fn a_namespace_names_ten_holdings_then_counts_the_rest() {
        let key = |i: usize| ObjectKey {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("db".into()),
            name: format!("c{i:02}"),
        };
        let holds: Vec<Holding> = (0..13).map(|i| Holding { key: key(i), reason: HoldReason::Foreign }).collect();
        let line = holdings_line(&holds);
        assert!(line.starts_with("data loss: deleting it deletes ConfigMap/db/c00 (not this stack's), "), "{line}");
        assert!(line.contains("ConfigMap/db/c09") && !line.contains("ConfigMap/db/c10"), "{line}");
        assert!(line.ends_with(" and 3 more"), "{line}");
        assert!(!holdings_line(holds.get(..2).unwrap_or_default()).contains("more"));
    }
}
