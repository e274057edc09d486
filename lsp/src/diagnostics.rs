//! The compiler's diagnostics as LSP diagnostics, grouped by the file they belong to.
//!
//! Only the stack's own files get diagnostics: a problem whose primary place is in the embedded
//! `std/` library is shown at its first label in the user's files (the template instance), or
//! not at all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use cairn_compiler::source::SourceMap;
use cairn_compiler::Compilation;
use cairn_lang::{Diagnostic, FileId, Severity, Span};
use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString};

use crate::convert::{path_to_uri, range};

/// Every user file of the compilation (with an empty list when it has no problems) and its
/// diagnostics.
pub fn of_compilation(c: &Compilation) -> BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> {
    of_diagnostics(c, &c.diagnostics)
}

/// [`of_compilation`] for `diagnostics` of the compilation `c` (its own, and more: a policy's).
pub fn of_diagnostics(c: &Compilation, diagnostics: &[cairn_lang::Diagnostic]) -> BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> {
    let sources = &c.program.sources;
    let std_files: BTreeSet<FileId> = c.program.modules.iter().filter(|m| m.is_std).flat_map(|m| m.files.iter().copied()).collect();
    let user = |id: FileId| !std_files.contains(&id);
    let mut out: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> =
        sources.iter().filter(|(id, _)| user(*id)).map(|(_, f)| (f.path.clone(), Vec::new())).collect();
    for d in diagnostics {
        let span = if user(d.span.file) {
            d.span
        } else if let Some(l) = d.labels.iter().find(|l| user(l.span.file)) {
            l.span
        } else {
            continue;
        };
        let Some(file) = sources.get(span.file) else { continue };
        let related: Vec<DiagnosticRelatedInformation> = d
            .labels
            .iter()
            .filter(|l| user(l.span.file) && l.span != span)
            .filter_map(|l| Some(DiagnosticRelatedInformation { location: location(sources, l.span)?, message: l.message.clone() }))
            .collect();
        out.entry(file.path.clone()).or_default().push(to_lsp(d, &file.text, span, related));
    }
    out
}

/// `cairn status`'s findings on the compilation `c` as LSP diagnostics (source `cairn status`),
/// for the files that have some.
pub fn of_findings(c: &Compilation, findings: &[cairn_lang::Diagnostic]) -> BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> {
    let mut out = of_diagnostics(c, findings);
    out.retain(|_, diags| !diags.is_empty());
    for d in out.values_mut().flatten() {
        d.source = Some(STATUS_SOURCE.to_string());
        // No "did you mean" here: the finding is about the cluster, not a name.
        d.data = None;
    }
    out
}

/// The `source` of `cairn status` findings.
pub const STATUS_SOURCE: &str = "cairn status";

/// The syntax diagnostics of one buffer on its own (for buffers outside any stack).
pub fn of_text(text: &str) -> Vec<lsp_types::Diagnostic> {
    cairn_lang::parse(text, FileId(0)).diagnostics.iter().map(|d| to_lsp(d, text, d.span, Vec::new())).collect()
}

/// A span of a compilation as an LSP location.
pub fn location(sources: &SourceMap, span: Span) -> Option<Location> {
    let file = sources.get(span.file)?;
    Some(Location::new(path_to_uri(&file.path)?, range(&file.text, span.start, span.end)))
}

fn to_lsp(d: &Diagnostic, text: &str, span: Span, related: Vec<DiagnosticRelatedInformation>) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(p) = &d.primary_label {
        message.push_str(&format!("\n{p}"));
    }
    if let Some(h) = &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    lsp_types::Diagnostic {
        range: range(text, span.start, span.end),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("cairn".to_string()),
        message,
        related_information: if related.is_empty() { None } else { Some(related) },
        // The "did you mean" suggestion, for the quick fix.
        data: d
            .help
            .as_deref()
            .and_then(crate::quickfix::suggestion)
            .or_else(|| crate::quickfix::suggestion(&d.message))
            .map(|s| serde_json::json!({ "suggestion": s })),
        ..lsp_types::Diagnostic::default()
    }
}
