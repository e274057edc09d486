//! Where output goes: results to stdout, diagnostics and progress to stderr, colored when the
//! terminal and `--color`/`NO_COLOR` allow.

use std::io::{IsTerminal, Write};

use cairn_compiler::source::SourceMap;
use cairn_lang::{Diagnostic, Span};

use crate::report;
use crate::ColorChoice;

/// The process's output streams and color setting.
#[derive(Clone, Debug)]
pub struct Output {
    color: bool,
}

impl Output {
    /// Decides color once: `always`, `never`, or in `auto` a terminal without `NO_COLOR`.
    pub fn new(choice: ColorChoice) -> Output {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stderr().is_terminal(),
        };
        Output { color }
    }

    /// Writes a result to stdout.
    pub fn stdout(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Writes a message line to stderr.
    pub fn info(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    /// Writes an error message (not tied to a source span) to stderr.
    pub fn error(&self, line: &str) {
        let prefix = if self.color { "\x1b[1;31merror\x1b[0m" } else { "error" };
        let _ = writeln!(std::io::stderr().lock(), "{prefix}: {line}");
    }

    /// Writes an error value with its help line, if any.
    pub fn report(&self, e: &dyn miette::Diagnostic) {
        self.error(&e.to_string());
        if let Some(help) = e.help() {
            self.info(&format!("  help: {help}"));
        }
    }

    /// Whether output may be colored.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Writes diagnostics as graphical reports to stderr, with a summary line; source text
    /// under `mask` (secrets written in the sources) is blanked.
    pub fn diagnostics(&self, sources: &SourceMap, diags: &[Diagnostic], mask: &[Span]) {
        if diags.is_empty() {
            return;
        }
        let text = report::text(sources, diags, mask, self.color);
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = writeln!(err, "{}", report::summary(diags));
    }
}
