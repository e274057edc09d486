//! The "did you mean" quick fix. The compiler's unknown-attribute, unknown-name and
//! unknown-reference diagnostics end their help with ``did you mean `X`?`` (an enum value's
//! message with `(did you mean "X"?)`); the published diagnostic carries the suggestion as
//! `data.suggestion`, and the code action replaces the diagnostic's range with it.

use std::collections::HashMap;

use lsp_types::{CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, TextEdit, Uri, WorkspaceEdit};

use crate::convert::offset;

/// The suggestion in a help line or message: `X` of ``did you mean `X`?``, or `"X"` (with its
/// quotes) of `did you mean "X"?`.
pub fn suggestion(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("did you mean ")?;
    if let Some(r) = rest.strip_prefix('`') {
        let (s, _) = r.split_once('`')?;
        return (!s.is_empty()).then(|| s.to_string());
    }
    let r = rest.strip_prefix('"')?;
    let (s, _) = r.split_once('"')?;
    (!s.is_empty()).then(|| format!("\"{s}\""))
}

/// What replaces `written` (the diagnostic's range) to apply `suggested`: the whole suggestion,
/// or as many of its last dotted segments as `written` has (`web_ap` in `apps.web_ap` becomes
/// `web_app` of `apps.web_app`).
fn replacement(written: &str, suggested: &str) -> Option<String> {
    if written.is_empty() {
        return None;
    }
    if suggested.starts_with('"') {
        return written.starts_with('"').then(|| suggested.to_string());
    }
    if written.contains('[') {
        return suggested.contains('.').then(|| suggested.to_string());
    }
    let have = written.split('.').count();
    let parts: Vec<&str> = suggested.split('.').collect();
    let keep = parts.len().saturating_sub(have);
    Some(parts.get(keep..).unwrap_or(&[]).join("."))
}

/// The quick fixes for `diagnostics` of the document `uri` with text `text`.
pub fn code_actions(uri: &Uri, text: &str, diagnostics: &[Diagnostic]) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in diagnostics {
        if d.source.as_deref().is_some_and(|s| s != "cairn") {
            continue;
        }
        let from_data = d.data.as_ref().and_then(|v| v.get("suggestion")).and_then(|v| v.as_str()).map(str::to_string);
        let Some(s) = from_data.or_else(|| suggestion(&d.message)) else { continue };
        let (start, end) = (offset(text, d.range.start), offset(text, d.range.end));
        let Some(written) = text.get(start as usize..end as usize) else { continue };
        let Some(new_text) = replacement(written, &s).filter(|r| r != written && !r.is_empty()) else { continue };
        let edit = TextEdit::new(d.range, new_text.clone());
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Replace with `{new_text}`"),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![d.clone()]),
            edit: Some(WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), vec![edit])])), ..WorkspaceEdit::default() }),
            is_preferred: Some(true),
            ..CodeAction::default()
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_read_from_help_and_messages() {
        assert_eq!(suggestion("did you mean `replicas`?").as_deref(), Some("replicas"));
        assert_eq!(suggestion("unknown\nhelp: did you mean `namespace.shop`?").as_deref(), Some("namespace.shop"));
        assert_eq!(suggestion("must be one of …, found \"deploymnt\" (did you mean \"deployment\"?)").as_deref(), Some("\"deployment\""));
        assert_eq!(suggestion("declared: pool.a, pool.b"), None);
        assert_eq!(suggestion("did you mean ``?"), None);
    }

    #[test]
    fn replacements_keep_what_the_range_covers() {
        assert_eq!(replacement("replcas", "replicas").as_deref(), Some("replicas"));
        assert_eq!(replacement("web_ap", "apps.web_app").as_deref(), Some("web_app"));
        assert_eq!(replacement("namespace.shpo", "namespace.shop").as_deref(), Some("namespace.shop"));
        assert_eq!(replacement("namespace[\"shpo\"]", "namespace.shop").as_deref(), Some("namespace.shop"));
        assert_eq!(replacement("\"deploymnt\"", "\"deployment\"").as_deref(), Some("\"deployment\""));
        assert_eq!(replacement("kind_var", "\"deployment\""), None);
    }
}
