//! Turns text into tokens with nom recognizers. Never fails: a bad character or an unterminated
//! literal becomes an `Error` token (or a truncated one) plus a diagnostic, and lexing goes on.
//! Comments are collected beside the tokens for the formatter.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, satisfy};
use nom::combinator::{opt, recognize};
use nom::sequence::pair;
use nom::{IResult, Parser};

use crate::ast::Comment;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};

/// Token kinds. Keywords are `Ident`s; the parser decides where a keyword is reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Ident,
    Int,
    Float,
    Quantity,
    Str,
    Heredoc,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Assign,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    AndAnd,
    OrOr,
    Question,
    Colon,
    FatArrow,
    Newline,
    Error,
    Eof,
}

/// A token: its kind and absolute byte range in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: u32,
    pub end: u32,
}

/// The result of lexing: tokens (ending with `Eof`), comments and diagnostics.
#[derive(Debug, Default)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Deepest `${…}` nesting inside strings before lexing gives up on a string.
const MAX_STRING_DEPTH: u32 = 64;

/// Lexes `text`, which starts at byte `base` of `file`.
pub fn lex(text: &str, file: FileId, base: u32) -> Lexed {
    let mut lx = Lexer { text, file, base, pos: 0, out: Lexed::default() };
    lx.run();
    lx.out
}

struct Lexer<'a> {
    text: &'a str,
    file: FileId,
    base: u32,
    pos: usize,
    out: Lexed,
}

fn ident(i: &str) -> IResult<&str, &str> {
    recognize(pair(
        satisfy(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
    ))
    .parse(i)
}

fn digits(i: &str) -> IResult<&str, &str> {
    recognize(pair(satisfy(|c: char| c.is_ascii_digit()), take_while(|c: char| c.is_ascii_digit() || c == '_'))).parse(i)
}

fn number(i: &str) -> IResult<&str, (&str, bool)> {
    let (rest, int_part) = digits(i)?;
    let frac: IResult<&str, &str> = recognize(pair(char('.'), digits)).parse(rest);
    match frac {
        Ok((rest2, _)) => Ok((rest2, (i.get(..i.len().saturating_sub(rest2.len())).unwrap_or(int_part), true))),
        Err(_) => Ok((rest, (int_part, false))),
    }
}

fn punct(i: &str) -> IResult<&str, TokenKind> {
    let two = alt((
        tag("==").map(|_| TokenKind::EqEq),
        tag("!=").map(|_| TokenKind::NotEq),
        tag("<=").map(|_| TokenKind::Le),
        tag(">=").map(|_| TokenKind::Ge),
        tag("&&").map(|_| TokenKind::AndAnd),
        tag("||").map(|_| TokenKind::OrOr),
        tag("=>").map(|_| TokenKind::FatArrow),
    ));
    let one = alt((
        alt((
            char('{').map(|_| TokenKind::LBrace),
            char('}').map(|_| TokenKind::RBrace),
            char('(').map(|_| TokenKind::LParen),
            char(')').map(|_| TokenKind::RParen),
            char('[').map(|_| TokenKind::LBracket),
            char(']').map(|_| TokenKind::RBracket),
            char(',').map(|_| TokenKind::Comma),
            char('.').map(|_| TokenKind::Dot),
            char('=').map(|_| TokenKind::Assign),
        )),
        alt((
            char('<').map(|_| TokenKind::Lt),
            char('>').map(|_| TokenKind::Gt),
            char('+').map(|_| TokenKind::Plus),
            char('-').map(|_| TokenKind::Minus),
            char('*').map(|_| TokenKind::Star),
            char('/').map(|_| TokenKind::Slash),
            char('%').map(|_| TokenKind::Percent),
            char('!').map(|_| TokenKind::Bang),
            char('?').map(|_| TokenKind::Question),
            char(':').map(|_| TokenKind::Colon),
        )),
    ));
    alt((two, one)).parse(i)
}

fn heredoc_header(i: &str) -> IResult<&str, (bool, &str)> {
    let (i, _) = tag("<<")(i)?;
    let (i, dash) = opt(char('-')).parse(i)?;
    let (i, marker) = take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_')(i)?;
    Ok((i, (dash.is_some(), marker)))
}

impl<'a> Lexer<'a> {
    fn abs(&self, local: usize) -> u32 {
        self.base.saturating_add(u32::try_from(local).unwrap_or(u32::MAX))
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.abs(start), self.abs(end))
    }

    fn push(&mut self, kind: TokenKind, start: usize, end: usize) {
        let (s, e) = (self.abs(start), self.abs(end));
        self.out.tokens.push(Token { kind, start: s, end: e });
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn run(&mut self) {
        while self.pos < self.text.len() {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else { break };
            let start = self.pos;
            match c {
                ' ' | '\t' | '\r' => self.pos = self.pos.saturating_add(1),
                // A UTF-8 byte order mark at the start of a file is not text (`fmt` drops it).
                '\u{feff}' if start == 0 && self.base == 0 => self.pos = self.pos.saturating_add(c.len_utf8()),
                '\n' => {
                    self.push(TokenKind::Newline, start, start.saturating_add(1));
                    self.pos = self.pos.saturating_add(1);
                }
                '#' => self.line_comment(),
                '/' if rest.starts_with("//") => self.line_comment(),
                '/' if rest.starts_with("/*") => self.block_comment(),
                '"' => {
                    let end = self.scan_string(start, 0);
                    self.push(TokenKind::Str, start, end);
                    self.pos = end;
                }
                '<' if rest.starts_with("<<") && heredoc_header(rest).is_ok() => self.heredoc(),
                '0'..='9' => self.number(),
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let len = match ident(rest) {
                        Ok((r, _)) => rest.len().saturating_sub(r.len()),
                        Err(_) => 1,
                    };
                    // An identifier may not end with '-': give the hyphens back.
                    let word = rest.get(..len).unwrap_or("");
                    let trimmed = word.trim_end_matches('-').len();
                    self.push(TokenKind::Ident, start, start.saturating_add(trimmed));
                    self.pos = start.saturating_add(trimmed);
                }
                _ => match punct(rest) {
                    Ok((r, kind)) => {
                        let len = rest.len().saturating_sub(r.len());
                        self.push(kind, start, start.saturating_add(len));
                        self.pos = self.pos.saturating_add(len);
                    }
                    Err(_) => {
                        let len = c.len_utf8();
                        // A run of unexpected characters is one token and one error (a file of
                        // binary data would otherwise make an error per byte).
                        let (s, e) = (self.abs(start), self.abs(start.saturating_add(len)));
                        if let (Some(t), Some(d)) = (self.out.tokens.last_mut(), self.out.diagnostics.last_mut()) {
                            if t.kind == TokenKind::Error && t.end == s && d.code == "E0109" && d.span.end == s {
                                t.end = e;
                                d.span.end = e;
                                self.pos = self.pos.saturating_add(len);
                                continue;
                            }
                        }
                        self.push(TokenKind::Error, start, start.saturating_add(len));
                        self.out.diagnostics.push(
                            Diagnostic::error(
                                "E0109",
                                self.span(start, start.saturating_add(len)),
                                format!("unexpected character `{}`", c.escape_debug()),
                            )
                            .with_help("remove it; strings go between double quotes"),
                        );
                        self.pos = self.pos.saturating_add(len);
                    }
                },
            }
        }
        let end = self.text.len();
        self.push(TokenKind::Eof, end, end);
    }

    fn line_comment(&mut self) {
        let start = self.pos;
        let len = self.rest().find('\n').unwrap_or(self.rest().len());
        let end = start.saturating_add(len);
        let text = self.text.get(start..end).unwrap_or("").trim_end().to_string();
        self.out.comments.push(Comment { span: self.span(start, start.saturating_add(text.len())), text, block: false });
        self.pos = end;
    }

    fn block_comment(&mut self) {
        let start = self.pos;
        let body = self.rest().get(2..).unwrap_or("");
        let end = match body.find("*/") {
            Some(i) => start.saturating_add(2).saturating_add(i).saturating_add(2),
            None => {
                let end = self.text.len();
                self.out.diagnostics.push(
                    Diagnostic::error("E0108", self.span(start, start.saturating_add(2)), "unterminated comment: `/*` has no closing `*/`")
                        .with_help("close the comment with `*/`"),
                );
                end
            }
        };
        let text = self.text.get(start..end).unwrap_or("").to_string();
        self.out.comments.push(Comment { span: self.span(start, end), text, block: true });
        self.pos = end;
    }

    fn number(&mut self) {
        let start = self.pos;
        let rest = self.rest();
        let Ok((after, (_num, is_float))) = number(rest) else {
            self.pos = self.pos.saturating_add(1);
            return;
        };
        let mut end = start.saturating_add(rest.len().saturating_sub(after.len()));
        let mut kind = if is_float { TokenKind::Float } else { TokenKind::Int };
        // The suffixes quantities may be written with, longest first (`Mi` before `M`).
        if let Some(sfx) = cairn_core::quantity::LITERAL_SUFFIXES.iter().find(|s| after.starts_with(**s)) {
            let next = after.get(sfx.len()..).and_then(|s| s.chars().next());
            if !next.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                end = end.saturating_add(sfx.len());
                kind = TokenKind::Quantity;
            }
        }
        // A number glued to letters (`5min`, `3x`) is one bad token, reported once.
        let tail = self.text.get(end..).unwrap_or("");
        let glued = tail.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(tail.len());
        if glued > 0 {
            let word_end = end.saturating_add(glued);
            let word = self.text.get(start..word_end).unwrap_or("");
            self.out.diagnostics.push(
                Diagnostic::error("E0103", self.span(start, word_end), format!("invalid number or quantity `{word}`"))
                    .with_help("quantity suffixes are m k M G T P E Ki Mi Gi Ti Pi Ei; write durations as strings (\"5m\")"),
            );
            self.push(TokenKind::Error, start, word_end);
            self.pos = word_end;
            return;
        }
        self.push(kind, start, end);
        self.pos = end;
    }

    /// Scans a string starting at the `"` at `start`; returns the end offset (after the closing
    /// quote, or at the end of the line when it is unterminated, with a diagnostic).
    fn scan_string(&mut self, start: usize, depth: u32) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = start.saturating_add(1);
        while let Some(&b) = bytes.get(i) {
            match b {
                b'"' => return i.saturating_add(1),
                b'\\' => i = i.saturating_add(2),
                b'\n' => break,
                b'$' if bytes.get(i.saturating_add(1)) == Some(&b'{') => {
                    if depth >= MAX_STRING_DEPTH {
                        self.out.diagnostics.push(
                            Diagnostic::error("E0106", self.span(i, i.saturating_add(2)), "interpolation nested too deeply")
                                .with_help("interpolations may nest at most 64 deep; use a `let`"),
                        );
                        let end = self.text.get(i..).and_then(|s| s.find('\n')).map_or(self.text.len(), |n| i.saturating_add(n));
                        return end;
                    }
                    i = self.scan_interpolation(i.saturating_add(2), depth.saturating_add(1));
                }
                _ => i = i.saturating_add(1),
            }
        }
        let end = i.min(self.text.len());
        self.out.diagnostics.push(
            Diagnostic::error("E0102", self.span(start, start.saturating_add(1)), "unterminated string")
                .with_primary("this string has no closing `\"`")
                .with_help("close the string with `\"` on the same line, or use a heredoc (`<<EOT`) for several lines"),
        );
        end
    }

    /// Skips an interpolation body starting after `${`; returns the offset after its `}`.
    fn scan_interpolation(&mut self, mut i: usize, depth: u32) -> usize {
        let mut braces = 0u32;
        while let Some(&b) = self.text.as_bytes().get(i) {
            match b {
                b'"' => i = self.scan_string(i, depth),
                b'{' => {
                    braces = braces.saturating_add(1);
                    i = i.saturating_add(1);
                }
                b'}' if braces == 0 => return i.saturating_add(1),
                b'}' => {
                    braces = braces.saturating_sub(1);
                    i = i.saturating_add(1);
                }
                b'\n' => return i,
                _ => i = i.saturating_add(1),
            }
        }
        i
    }

    fn heredoc(&mut self) {
        let start = self.pos;
        let rest = self.rest();
        let Ok((after, (indent, marker))) = heredoc_header(rest) else {
            return;
        };
        let header_end = start.saturating_add(rest.len().saturating_sub(after.len()));
        let line_rest = after.find('\n').map_or(after, |n| after.get(..n).unwrap_or(""));
        if !line_rest.trim().is_empty() {
            self.out.diagnostics.push(
                Diagnostic::error("E0101", self.span(start, header_end), format!("the heredoc marker `{marker}` must end its line"))
                    .with_help("start the heredoc's text on the next line"),
            );
        }
        let Some(nl) = after.find('\n') else {
            self.unterminated_heredoc(start, header_end, marker);
            return;
        };
        let mut line_start = header_end.saturating_add(nl).saturating_add(1);
        while let Some(line_text) = self.text.get(line_start..) {
            if line_text.is_empty() {
                break;
            }
            let line_len = line_text.find('\n').unwrap_or(line_text.len());
            let line = line_text.get(..line_len).unwrap_or("");
            let closing = if indent { line.trim() == marker } else { line.trim_end() == marker };
            if closing {
                let end = line_start.saturating_add(line.trim_end().len());
                self.push(TokenKind::Heredoc, start, end);
                self.pos = line_start.saturating_add(line_len);
                return;
            }
            line_start = line_start.saturating_add(line_len).saturating_add(1);
        }
        self.unterminated_heredoc(start, header_end, marker);
    }

    fn unterminated_heredoc(&mut self, start: usize, header_end: usize, marker: &str) {
        self.out.diagnostics.push(
            Diagnostic::error("E0108", self.span(start, header_end), format!("unterminated heredoc: no line `{marker}` closes it"))
                .with_help(format!("end the text with a line holding only `{marker}`")),
        );
        let end = self.text.len();
        self.push(TokenKind::Heredoc, start, end);
        self.pos = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        lex(src, FileId(0), 0).tokens.iter().map(|t| t.kind).collect()
    }

    #[test]
    fn hyphenated_identifiers_and_subtraction() {
        use TokenKind::*;
        assert_eq!(kinds("team-a"), vec![Ident, Eof]);
        assert_eq!(kinds("a - b"), vec![Ident, Minus, Ident, Eof]);
        assert_eq!(kinds("a-"), vec![Ident, Minus, Eof]);
    }

    #[test]
    fn quantities_take_the_longest_suffix() {
        use TokenKind::*;
        assert_eq!(kinds("20Gi"), vec![Quantity, Eof]);
        assert_eq!(kinds("500m"), vec![Quantity, Eof]);
        assert_eq!(kinds("1Gi-512Mi"), vec![Quantity, Minus, Quantity, Eof]);
        assert_eq!(kinds("5 -3"), vec![Int, Minus, Int, Eof]);
        assert_eq!(kinds("1.5"), vec![Float, Eof]);
    }

    #[test]
    fn glued_letters_are_one_error() {
        let l = lex("5min", FileId(0), 0);
        assert_eq!(l.tokens.first().map(|t| t.kind), Some(TokenKind::Error));
        assert_eq!(l.diagnostics.len(), 1);
    }

    #[test]
    fn strings_with_nested_interpolation() {
        use TokenKind::*;
        assert_eq!(kinds(r#""a ${ "}" } b" x"#), vec![Str, Ident, Eof]);
        let l = lex("\"open\nx", FileId(0), 0);
        assert_eq!(l.diagnostics.len(), 1);
    }

    #[test]
    fn heredoc_is_one_token() {
        use TokenKind::*;
        assert_eq!(kinds("x = <<EOT\nhello\nEOT\ny"), vec![Ident, Assign, Heredoc, Newline, Ident, Eof]);
        assert_eq!(kinds("x = <<-EOT\n  hi\n  EOT\n"), vec![Ident, Assign, Heredoc, Newline, Eof]);
    }

    #[test]
    fn comments_are_collected() {
        let l = lex("a # one\n// two\n/* three */ b", FileId(0), 0);
        assert_eq!(l.comments.len(), 3);
        assert!(l.diagnostics.is_empty());
    }
}
