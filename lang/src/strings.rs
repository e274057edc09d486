//! Decodes string and heredoc tokens into literal parts and interpolations: escapes,
//! `${…}` ranges and heredoc indentation stripping. Expressions inside `${…}` are parsed by the
//! caller's closure, so this module only knows the string syntax.

use crate::ast::{Expr, StrPart};
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};

/// Decodes the text of a quoted string token `src[start..end]` (quotes included).
pub fn decode_string(
    src: &str,
    file: FileId,
    start: usize,
    end: usize,
    diags: &mut Vec<Diagnostic>,
    parse_interp: &mut dyn FnMut(usize, usize) -> Expr,
) -> Vec<StrPart> {
    let inner_end =
        if end > start.saturating_add(1) && src.as_bytes().get(end.saturating_sub(1)) == Some(&b'"') { end.saturating_sub(1) } else { end };
    decode_range(src, file, start.saturating_add(1), inner_end, true, diags, parse_interp)
}

/// Decodes a heredoc token `src[start..end]` (from `<<` to the closing marker).
pub fn decode_heredoc(
    src: &str,
    file: FileId,
    start: usize,
    end: usize,
    diags: &mut Vec<Diagnostic>,
    parse_interp: &mut dyn FnMut(usize, usize) -> Expr,
) -> (String, bool, Vec<StrPart>) {
    let token = src.get(start..end).unwrap_or("");
    let header_len = token.find('\n').unwrap_or(token.len());
    let header = token.get(..header_len).unwrap_or("");
    let indent = header.starts_with("<<-");
    let marker = header.trim_start_matches("<<").trim_start_matches('-').trim().to_string();
    let body_start = start.saturating_add(header_len).saturating_add(1).min(end);
    // The body is every line between the header and the closing marker line.
    let body = src.get(body_start..end).unwrap_or("");
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut offset = body_start;
    for line in body.split('\n') {
        lines.push((offset, line));
        offset = offset.saturating_add(line.len()).saturating_add(1);
    }
    // Drop the closing marker line (if present).
    if lines.last().is_some_and(|(_, l)| l.trim() == marker) {
        lines.pop();
    }
    let strip = if indent {
        lines
            .iter()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(_, l)| l.len().saturating_sub(l.trim_start_matches([' ', '\t']).len()))
            .min()
            .unwrap_or(0)
    } else {
        0
    };
    let mut parts: Vec<StrPart> = Vec::new();
    for (line_start, line) in lines {
        let cut = strip.min(line.len());
        let from = line_start.saturating_add(cut);
        let to = line_start.saturating_add(line.len());
        let line_parts = decode_range(src, file, from, to, false, diags, parse_interp);
        for part in line_parts {
            match part {
                StrPart::Lit(text) => push_lit(&mut parts, &text),
                interp => parts.push(interp),
            }
        }
        push_lit(&mut parts, "\n");
    }
    (marker, indent, parts)
}

fn push_lit(parts: &mut Vec<StrPart>, s: &str) {
    if let Some(StrPart::Lit(last)) = parts.last_mut() {
        last.push_str(s);
    } else {
        parts.push(StrPart::Lit(s.to_string()));
    }
}

fn decode_range(
    src: &str,
    file: FileId,
    start: usize,
    end: usize,
    escapes: bool,
    diags: &mut Vec<Diagnostic>,
    parse_interp: &mut dyn FnMut(usize, usize) -> Expr,
) -> Vec<StrPart> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let text = src.get(start..end).unwrap_or("");
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let rest = text.get(i..).unwrap_or("");
        if escapes && rest.starts_with('\\') {
            let next = rest.get(1..).and_then(|s| s.chars().next());
            let decoded = match next {
                Some('n') => Some('\n'),
                Some('t') => Some('\t'),
                Some('r') => Some('\r'),
                Some('"') => Some('"'),
                Some('\\') => Some('\\'),
                Some('$') => Some('$'),
                _ => None,
            };
            match decoded {
                Some(c) => lit.push(c),
                None => {
                    let len = next.map_or(0, char::len_utf8).saturating_add(1);
                    let at = u32::try_from(start.saturating_add(i)).unwrap_or(u32::MAX);
                    let shown = rest.get(..len).unwrap_or("\\");
                    diags.push(
                        Diagnostic::error("E0105", Span::new(file, at, at.saturating_add(len as u32)), format!("invalid escape `{shown}`"))
                            .with_help("valid escapes are \\n \\t \\r \\\" \\\\ and \\$"),
                    );
                }
            }
            i = i.saturating_add(1).saturating_add(next.map_or(0, char::len_utf8));
            continue;
        }
        if rest.starts_with("$${") {
            lit.push_str("${");
            i = i.saturating_add(3);
            continue;
        }
        if rest.starts_with("${") {
            let body_start = i.saturating_add(2);
            let close = matching_brace(bytes, body_start);
            if !lit.is_empty() {
                parts.push(StrPart::Lit(std::mem::take(&mut lit)));
            }
            let body_end = close.unwrap_or(text.len());
            let expr = parse_interp(start.saturating_add(body_start), start.saturating_add(body_end));
            if close.is_none() {
                let at = u32::try_from(start.saturating_add(i)).unwrap_or(u32::MAX);
                diags.push(
                    Diagnostic::error(
                        "E0104",
                        Span::new(file, at, at.saturating_add(2)),
                        "unclosed interpolation: `${` has no matching `}`",
                    )
                    .with_help("close the interpolation with `}`"),
                );
            }
            parts.push(StrPart::Interp(expr));
            i = body_end.saturating_add(1);
            continue;
        }
        let c = rest.chars().next().unwrap_or('\0');
        lit.push(c);
        i = i.saturating_add(c.len_utf8().max(1));
    }
    if !lit.is_empty() {
        parts.push(StrPart::Lit(lit));
    }
    parts
}

/// Offset of the `}` closing an interpolation whose body starts at `from`, skipping nested
/// strings and braces.
fn matching_brace(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0u32;
    let mut in_str = false;
    let mut i = from;
    while let Some(&b) = bytes.get(i) {
        if in_str {
            match b {
                b'\\' => i = i.saturating_add(1),
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_str = true,
                b'{' => depth = depth.saturating_add(1),
                b'}' if depth == 0 => return Some(i),
                b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i = i.saturating_add(1);
    }
    None
}
