//! cairn-lang: the language front end. Text in, a syntax tree with spans plus diagnostics out
//! ([`parse`]), and the canonical formatter ([`format()`]). It knows nothing of Kubernetes, Ceph,
//! files on disk or editors: it works on strings.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects))]

pub mod ast;
pub mod diagnostic;
pub mod format;
pub mod lexer;
pub mod parser;
pub mod span;
pub mod strings;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use format::format;
pub use parser::{parse, parse_expr, Parsed};
pub use span::{FileId, LineIndex, Span};

/// Words reserved where an item or expression starts.
pub const KEYWORDS: [&str; 11] = ["let", "import", "as", "template", "for", "in", "if", "else", "true", "false", "null"];

/// Nesting (expressions or blocks) deeper than this is an error, not a crash.
pub const MAX_DEPTH: u32 = 256;
