//! Diagnostics for people (miette's graphical report) and for machines (docs/language.md §9 JSON).

use std::fmt;

use cairn_compiler::source::SourceMap;
use cairn_lang::{Diagnostic, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

/// One diagnostic in miette's terms. Labels in other files become related reports, since a
/// miette report shows one source.
#[derive(Debug)]
struct Report {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.as_ref().map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
    }
}

/// A file's text for a report, with the spans in `mask` (secrets written in the source)
/// blanked out.
fn named_source(sources: &SourceMap, file: cairn_lang::FileId, mask: &[cairn_lang::Span]) -> NamedSource<String> {
    let text = sources.get(file).map(|f| cairn_compiler::secrets::mask(&f.text, file, mask)).unwrap_or_default();
    NamedSource::new(sources.display(file), text)
}

fn span(s: cairn_lang::Span) -> SourceSpan {
    let len = s.end.saturating_sub(s.start);
    SourceSpan::new((s.start as usize).into(), len as usize)
}

fn to_report(sources: &SourceMap, d: &Diagnostic, mask: &[cairn_lang::Span]) -> Report {
    let mut labels = vec![LabeledSpan::new_primary_with_span(d.primary_label.clone(), span(d.span))];
    let mut related = Vec::new();
    for l in &d.labels {
        if l.span.file == d.span.file {
            labels.push(LabeledSpan::new_with_span(Some(l.message.clone()), span(l.span)));
        } else {
            related.push(Report {
                message: l.message.clone(),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                source: named_source(sources, l.span.file, mask),
                labels: vec![LabeledSpan::new_primary_with_span(None, span(l.span))],
                related: Vec::new(),
            });
        }
    }
    Report {
        message: d.message.clone(),
        code: Some(d.code.to_string()),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        },
        help: d.help.clone(),
        source: named_source(sources, d.span.file, mask),
        labels,
        related,
    }
}

/// Source lines longer than this (in bytes) are not drawn: miette panics when it underlines a
/// column past 65,535, and a snippet that wide helps nobody. The report gives the position.
const MAX_SNIPPET_LINE: usize = 2_000;

/// Whether a line a report would draw (those a span touches, and one of context on each
/// side) is longer than [`MAX_SNIPPET_LINE`].
fn too_wide_to_draw(sources: &SourceMap, d: &Diagnostic) -> bool {
    std::iter::once(d.span).chain(d.labels.iter().map(|l| l.span)).any(|s| {
        let Some(f) = sources.get(s.file) else { return false };
        let bytes = f.text.as_bytes();
        let start = (s.start as usize).min(bytes.len());
        let end = (s.end as usize).clamp(start, bytes.len());
        let line_start = |at: usize| bytes.get(..at).and_then(|b| b.iter().rposition(|&c| c == b'\n')).map_or(0, |i| i.saturating_add(1));
        let line_end =
            |at: usize| bytes.get(at..).and_then(|b| b.iter().position(|&c| c == b'\n')).map_or(bytes.len(), |i| i.saturating_add(at));
        let from = line_start(line_start(start).saturating_sub(1));
        let to = line_end(line_end(end).saturating_add(1).min(bytes.len()));
        bytes.get(from..to).is_some_and(|b| b.split(|&c| c == b'\n').any(|l| l.len() > MAX_SNIPPET_LINE))
    })
}

/// At most this many diagnostics are drawn (each one copies and scans its file, so thousands
/// of them on a big file would take minutes); errors go first, the rest are counted.
const MAX_DRAWN: usize = 200;

/// The diagnostics to draw, in their order: all of them, or MAX_DRAWN with errors first.
fn to_draw(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
    if diags.len() <= MAX_DRAWN {
        return diags.iter().collect();
    }
    let errors = diags.iter().filter(|d| d.is_error()).count().min(MAX_DRAWN);
    let (mut errors_left, mut others_left) = (errors, MAX_DRAWN.saturating_sub(errors));
    diags
        .iter()
        .filter(|d| {
            let left = if d.is_error() { &mut errors_left } else { &mut others_left };
            let take = *left > 0;
            *left = left.saturating_sub(1);
            take
        })
        .collect()
}

/// Renders diagnostics as miette graphical reports; source text under `mask` is blanked.
pub fn text(sources: &SourceMap, diags: &[Diagnostic], mask: &[cairn_lang::Span], color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    let drawn = to_draw(diags);
    let hidden = diags.len().saturating_sub(drawn.len());
    for d in drawn {
        let mut report = to_report(sources, d, mask);
        let too_wide = too_wide_to_draw(sources, d);
        if too_wide {
            report.labels.clear();
            report.related.clear();
        }
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{}: {} [{}]\n", d.severity.as_str(), d.message, d.code));
        }
        if too_wide {
            let (line, column) = sources.line_col(d.span);
            out.push_str(&format!("  at {}:{line}:{column} (the line is too long to show)\n", sources.display(d.span.file)));
        }
        out.push('\n');
    }
    if hidden > 0 {
        out.push_str(&format!("… and {hidden} more not shown (at most {MAX_DRAWN} are drawn, errors first)\n\n"));
    }
    out
}

/// A one-line summary: "2 errors, 1 warning".
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diags.iter().filter(|d| d.severity == Severity::Warning).count();
    let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    help: Option<&'a str>,
    /// Always listed for the compiler's diagnostics; for `status` findings only when they
    /// have any.
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<JsonLabel<'a>>>,
    /// A `status` finding's object (`Deployment/shop/web`).
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
    /// A `status` finding's evidence: what Kubernetes says.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// Renders diagnostics as docs/language.md §9 JSON, sorted by file, line and column.
pub fn json(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    render_json(diags.iter().map(|d| json_diagnostic(sources, d, None)).collect())
}

/// A `cairn status` finding, for [`json_found`].
pub struct Found<'a> {
    pub diagnostic: &'a Diagnostic,
    /// `Deployment/shop/web`.
    pub object: &'a str,
    /// What Kubernetes says.
    pub evidence: &'a str,
}

/// [`json`] for `status` findings: each diagnostic with its `object` and `evidence`.
pub fn json_found(sources: &SourceMap, found: &[Found<'_>]) -> String {
    render_json(found.iter().map(|f| json_diagnostic(sources, f.diagnostic, Some(f))).collect())
}

fn json_diagnostic<'a>(sources: &'a SourceMap, d: &'a Diagnostic, found: Option<&Found<'a>>) -> JsonDiagnostic<'a> {
    let (line, column) = sources.line_col(d.span);
    let labels: Vec<JsonLabel<'a>> = d
        .labels
        .iter()
        .map(|l| {
            let (line, column) = sources.line_col(l.span);
            JsonLabel { file: sources.display(l.span.file), line, column, message: &l.message }
        })
        .collect();
    JsonDiagnostic {
        severity: d.severity.as_str(),
        code: d.code,
        message: &d.message,
        file: sources.display(d.span.file),
        line,
        column,
        help: d.help.as_deref(),
        labels: if found.is_some() && labels.is_empty() { None } else { Some(labels) },
        object: found.map(|f| f.object),
        evidence: found.map(|f| f.evidence),
    }
}

fn render_json(mut list: Vec<JsonDiagnostic<'_>>) -> String {
    list.sort_by(|a, b| (a.file, a.line, a.column).cmp(&(b.file, b.line, b.column)));
    let report = JsonReport { diagnostics: list };
    let mut s = serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{\"diagnostics\": []}".to_string());
    s.push('\n');
    s
}
