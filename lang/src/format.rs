//! The canonical formatter: parses a file and prints it back in its one canonical layout, keeping
//! every comment and the file's meaning. Broken files are refused, never rewritten.
//!
//! The layout: two-space indentation, one statement per line, `=` aligned in runs of attributes
//! (and of map entries and template parameters), at most one blank line in a row and none after
//! `{` or before `}`, canonical spacing inside expressions. Lists, maps, calls and parameter lists
//! stay on one line or one entry per line as the source had them; a block keeps a one-line body
//! only when the source wrote it so and it holds nothing but attributes. Literals (strings,
//! heredocs, numbers, quantities) are copied from the source, so their meaning cannot drift.
//!
//! Comments are placed by source position: a comment between statements (or between the entries
//! of a one-per-line list, map, call or parameter list) keeps its own line or stays at the end of
//! the line it ended; one between a block's header and its `{` moves just inside the `{`. A
//! comment the layout has no place for (inside an expression) makes the formatter copy the
//! smallest enclosing statement or entry verbatim, so no comment is ever lost or reordered.

use crate::ast::{Block, Comment, Expr, ExprKind, For, If, Label, MapKey, Stmt, Template};
use crate::diagnostic::Diagnostic;
use crate::lexer::{lex, TokenKind};
use crate::parser::parse;
use crate::span::{FileId, Span};
use same::same_tree;

mod same;

/// Stack kept free before recursing, and the size of each new stack segment.
const RED_ZONE: usize = 64 * 1024;
const NEW_STACK: usize = 1024 * 1024;

/// Formats `text` canonically.
///
/// Returns the parser's errors when `text` does not parse cleanly: broken code is never
/// rewritten. The result parses to the same tree (spans aside) with the same comments in the same
/// order, and formatting it again changes nothing. Both are checked on every call: should the
/// formatter ever break that promise it returns an `E0111` error instead of the text.
pub fn format(text: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = parse(text, FileId(0));
    let errors: Vec<Diagnostic> = parsed.diagnostics.into_iter().filter(Diagnostic::is_error).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let out = Printer::new(text, &parsed.file.comments).file(&parsed.file.stmts);
    // A last guard against a formatter bug: never hand back text that means something else.
    let again = parse(&out, FileId(0));
    if again.diagnostics.iter().any(Diagnostic::is_error) || !same_tree(&parsed.file, &again.file) {
        return Err(vec![Diagnostic::error(
            "E0111",
            Span::new(FileId(0), 0, 0),
            "the formatter could not keep this file's meaning, so it left the file unchanged",
        )
        .with_help("this is a bug in cairn's formatter; please report it with the file")]);
    }
    Ok(out)
}

// ---- layout pieces ----------------------------------------------------------------------------

/// Text being built for one expression or statement. Its first line carries no indentation (the
/// caller places it); later lines carry their full indentation.
struct W {
    s: String,
    /// The text ends with a heredoc's closing marker, which must stay alone on its line.
    heredoc_end: bool,
    /// Indentation level of the line the text starts on.
    indent: usize,
}

impl W {
    fn new(indent: usize) -> W {
        W { s: String::new(), heredoc_end: false, indent }
    }

    /// Appends `t`; after a heredoc, anything else on the line moves to a new line (all places a
    /// heredoc can be followed by more text ignore or expect that newline).
    fn put(&mut self, t: &str) {
        if self.heredoc_end {
            if t.starts_with('\n') {
                self.heredoc_end = false;
                self.s.push_str(t);
                return;
            }
            let t = t.trim_start_matches(' ');
            if t.is_empty() {
                return;
            }
            self.heredoc_end = false;
            self.s.push('\n');
            push_indent(&mut self.s, self.indent.saturating_add(1));
            self.s.push_str(t);
            return;
        }
        self.s.push_str(t);
    }
}

fn push_indent(s: &mut String, level: usize) {
    for _ in 0..level {
        s.push_str("  ");
    }
}

/// One rendered statement or entry: `key = body` when it has a key (which alignment pads), else
/// `body`.
struct Rendered {
    key: Option<String>,
    body: String,
    heredoc_end: bool,
}

impl Rendered {
    fn plain(w: W) -> Rendered {
        Rendered { key: None, body: w.s, heredoc_end: w.heredoc_end }
    }
}

/// A line-level element of a one-per-line sequence.
enum Entry {
    Blank,
    Comment(String),
    /// An item and the comments that end its last line.
    Item(Rendered, Vec<String>),
}

/// A laid-out sequence: comments for the opening line, then the indented lines.
struct Seq {
    head: Vec<String>,
    lines: Vec<String>,
}

/// A comment found in a gap between items.
struct GapComment {
    text: String,
    /// It starts on the line where the previous item (or comment, or the opening bracket) ended.
    trailing: bool,
    /// A blank line separates it from what came before.
    blank_before: bool,
}

/// The items of a sequence by their spans, and where its gaps begin and end: after the opening
/// bracket or header, and at the closing bracket.
struct Items<'s> {
    spans: &'s [(u32, u32)],
    start: u32,
    close: u32,
}

/// Renders item `i` of a sequence at an indentation level; `None` asks for the verbatim copy.
type RenderFn<'r, 'a> = dyn FnMut(&mut Printer<'a>, usize, usize) -> Option<Rendered> + 'r;

/// `open`, then the sequence's lines, then `close` on its own line at `indent`; `{}` when empty.
fn wrap(open: &str, seq: Seq, close: &str, indent: usize) -> String {
    let mut s = String::from(open);
    for h in &seq.head {
        s.push(' ');
        s.push_str(h);
    }
    if seq.head.is_empty() && seq.lines.is_empty() {
        s.push_str(close);
        return s;
    }
    for line in &seq.lines {
        s.push('\n');
        s.push_str(line);
    }
    s.push('\n');
    push_indent(&mut s, indent);
    s.push_str(close);
    s
}

/// Pads keys in runs of keyed items: consecutive, with no blank line or own-line comment between;
/// an item whose value spans lines ends its run (as `terraform fmt` does).
fn align(entries: &[Entry]) -> Vec<Option<usize>> {
    let mut widths = vec![None; entries.len()];
    let mut i = 0;
    while i < entries.len() {
        let mut j = i;
        let mut max = 0;
        while let Some(Entry::Item(r, _)) = entries.get(j) {
            let Some(key) = &r.key else { break };
            max = max.max(key.chars().count());
            j = j.saturating_add(1);
            if r.body.contains('\n') {
                break;
            }
        }
        if j == i {
            i = i.saturating_add(1);
            continue;
        }
        for w in widths.iter_mut().take(j).skip(i) {
            *w = Some(max);
        }
        i = j;
    }
    widths
}

/// Turns entries into indented lines; item `n` gets a trailing `,` when `comma(n)`.
fn lay_out(entries: Vec<Entry>, indent: usize, comma: &dyn Fn(usize) -> bool) -> Vec<String> {
    let widths = align(&entries);
    let last_item = entries.iter().rposition(|e| matches!(e, Entry::Item(..)));
    let mut lines = Vec::with_capacity(entries.len());
    let mut item = 0usize;
    for (i, entry) in entries.into_iter().enumerate() {
        let mut s = String::new();
        match entry {
            Entry::Blank => {}
            Entry::Comment(text) => {
                push_indent(&mut s, indent);
                s.push_str(&text);
            }
            Entry::Item(r, trailing) => {
                push_indent(&mut s, indent);
                if let Some(key) = &r.key {
                    s.push_str(key);
                    let width = widths.get(i).copied().flatten().unwrap_or(0);
                    for _ in key.chars().count()..width {
                        s.push(' ');
                    }
                    s.push_str(" = ");
                }
                s.push_str(&r.body);
                let mut heredoc_end = r.heredoc_end;
                item = item.saturating_add(1);
                if comma(item.saturating_sub(1)) {
                    if !heredoc_end {
                        s.push(',');
                    } else if Some(i) != last_item {
                        s.push('\n');
                        push_indent(&mut s, indent);
                        s.push(',');
                        heredoc_end = false;
                    }
                }
                if !trailing.is_empty() {
                    if heredoc_end {
                        s.push('\n');
                        push_indent(&mut s, indent);
                    } else {
                        s.push(' ');
                    }
                    s.push_str(&trailing.join(" "));
                }
            }
        }
        lines.push(s);
    }
    lines
}

fn push_blank(entries: &mut Vec<Entry>) {
    if !matches!(entries.last(), None | Some(Entry::Blank)) {
        entries.push(Entry::Blank);
    }
}

/// A comment's text without trailing whitespace on any of its lines.
fn clean_comment(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').map(str::trim_end).collect();
    lines.join("\n")
}

/// Appends `piece`, dropping trailing whitespace before each of its newlines.
fn push_stripped(out: &mut String, piece: &str) {
    let mut lines = piece.split('\n').peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_some() {
            out.push_str(line.trim_end_matches([' ', '\t', '\r']));
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
}

// ---- the printer --------------------------------------------------------------------------------

struct Printer<'a> {
    src: &'a str,
    /// The file's comments, by position.
    comments: Vec<&'a Comment>,
    /// Which comments are already placed in the output.
    placed: Vec<bool>,
}

impl<'a> Printer<'a> {
    fn new(src: &'a str, comments: &'a [Comment]) -> Printer<'a> {
        let mut comments: Vec<&Comment> = comments.iter().collect();
        comments.sort_by_key(|c| c.span.start);
        Printer { src, placed: vec![false; comments.len()], comments }
    }

    // ---- source queries -------------------------------------------------------------------------

    fn slice(&self, start: u32, end: u32) -> &'a str {
        self.src.get(start as usize..end as usize).unwrap_or("")
    }

    fn text(&self, span: Span) -> &'a str {
        self.slice(span.start, span.end)
    }

    fn newlines(&self, start: u32, end: u32) -> usize {
        if start >= end {
            return 0;
        }
        self.slice(start, end).bytes().filter(|b| *b == b'\n').count()
    }

    /// Whether an empty line lies in `start..end` (a line holding only a `,` is not empty).
    fn blank_line(&self, start: u32, end: u32) -> bool {
        if start >= end {
            return false;
        }
        let mut newline_seen = false;
        let mut only_space = false;
        for b in self.slice(start, end).bytes() {
            match b {
                b'\n' => {
                    if newline_seen && only_space {
                        return true;
                    }
                    newline_seen = true;
                    only_space = true;
                }
                b' ' | b'\t' | b'\r' => {}
                _ => only_space = false,
            }
        }
        false
    }

    /// Indexes of the comments starting in `start..end`.
    fn comments_in(&self, start: u32, end: u32) -> std::ops::Range<usize> {
        let from = self.comments.partition_point(|c| c.span.start < start);
        let to = self.comments.partition_point(|c| c.span.start < end);
        from..to.max(from)
    }

    fn comment_at(&self, pos: u32) -> Option<&'a Comment> {
        let i = self.comments.partition_point(|c| c.span.start < pos);
        self.comments.get(i).copied().filter(|c| c.span.start == pos)
    }

    /// The first position at or after `pos` that is not whitespace, a comma or a comment.
    fn skip_trivia(&self, mut pos: u32) -> u32 {
        let bytes = self.src.as_bytes();
        loop {
            // `checked_add`: at `u32::MAX` stop rather than loop without progress.
            if let Some(c) = self.comment_at(pos) {
                let Some(next) = pos.checked_add(1) else { return pos };
                pos = c.span.end.max(next);
                continue;
            }
            match bytes.get(pos as usize) {
                Some(b' ' | b'\t' | b'\r' | b'\n' | b',') => match pos.checked_add(1) {
                    Some(next) => pos = next,
                    None => return pos,
                },
                _ => return pos,
            }
        }
    }

    fn is_at(&self, pos: u32, text: &str) -> Option<()> {
        self.src.get(pos as usize..).is_some_and(|s| s.starts_with(text)).then_some(())
    }

    /// Whether a sequence must be laid out one entry per line: the source has a newline or a
    /// comment in a gap (after the opening bracket, between items, before the closing one).
    fn breaks(&self, items: &Items) -> bool {
        let mut prev = items.start;
        for &(start, end) in items.spans.iter().chain(std::iter::once(&(items.close, items.close))) {
            if self.newlines(prev, start) > 0 || !self.comments_in(prev, start).is_empty() {
                return true;
            }
            prev = end;
        }
        false
    }

    // ---- comments -------------------------------------------------------------------------------

    /// Takes the unplaced comments starting in `start..end`; returns them and the end of the last
    /// one (or `start`).
    fn take_gap(&mut self, start: u32, end: u32) -> (Vec<GapComment>, u32) {
        let mut out = Vec::new();
        let mut prev = start;
        for i in self.comments_in(start, end) {
            let (Some(c), Some(placed)) = (self.comments.get(i).copied(), self.placed.get_mut(i)) else {
                continue;
            };
            if *placed {
                continue;
            }
            *placed = true;
            out.push(GapComment {
                text: clean_comment(&c.text),
                trailing: self.newlines(prev, c.span.start) == 0,
                blank_before: self.blank_line(prev, c.span.start),
            });
            prev = prev.max(c.span.end);
        }
        (out, prev)
    }

    /// Renders one statement or entry spanning `start..end`. When that fails, or leaves a comment
    /// inside the span unplaced, the source text is copied instead: comments are never lost.
    fn unit(&mut self, start: u32, end: u32, render: impl FnOnce(&mut Self) -> Option<Rendered>) -> Rendered {
        let rendered = stacker::maybe_grow(RED_ZONE, NEW_STACK, || render(self));
        let range = self.comments_in(start, end);
        let all_placed = self.placed.get(range.clone()).is_some_and(|p| p.iter().all(|x| *x));
        if let (Some(r), true) = (rendered, all_placed) {
            return r;
        }
        for p in self.placed.get_mut(range).into_iter().flatten() {
            *p = true;
        }
        self.verbatim(start, end)
    }

    /// The source of `start..end` as written, minus trailing whitespace outside heredocs.
    fn verbatim(&self, start: u32, end: u32) -> Rendered {
        let lexed = lex(self.slice(start, end), FileId(0), start);
        let mut body = String::new();
        let mut pos = start;
        let mut heredoc_end = false;
        for t in &lexed.tokens {
            match t.kind {
                TokenKind::Heredoc => {
                    push_stripped(&mut body, self.slice(pos, t.start));
                    body.push_str(self.slice(t.start, t.end));
                    pos = t.end;
                    heredoc_end = true;
                }
                TokenKind::Newline | TokenKind::Eof => {}
                _ => heredoc_end = false,
            }
        }
        push_stripped(&mut body, self.slice(pos, end));
        Rendered { key: None, body, heredoc_end }
    }

    // ---- sequences ------------------------------------------------------------------------------

    /// Lays out items one per line at `indent`, with the comments in the gaps around them.
    /// `has_head` says whether a comment may end the opening line; item `n` ends with a `,` when
    /// `comma(n)`.
    fn seq(&mut self, items: &Items, indent: usize, has_head: bool, comma: &dyn Fn(usize) -> bool, render: &mut RenderFn<'_, 'a>) -> Seq {
        let mut entries: Vec<Entry> = Vec::new();
        let mut head: Vec<String> = Vec::new();
        let (spans, close) = (items.spans, items.close);
        let mut prev = items.start;
        for i in 0..=spans.len() {
            let (start, end) = spans.get(i).copied().unwrap_or((close, close));
            let (comments, last) = self.take_gap(prev, start);
            for c in comments {
                if c.trailing {
                    match entries.last_mut() {
                        Some(Entry::Item(_, trailing)) => {
                            trailing.push(c.text);
                            continue;
                        }
                        Some(Entry::Comment(text)) => {
                            text.push(' ');
                            text.push_str(&c.text);
                            continue;
                        }
                        None if has_head => {
                            head.push(c.text);
                            continue;
                        }
                        _ => {}
                    }
                }
                if c.blank_before {
                    push_blank(&mut entries);
                }
                entries.push(Entry::Comment(c.text));
            }
            if i == spans.len() {
                break;
            }
            if self.blank_line(last, start) {
                push_blank(&mut entries);
            }
            let r = self.unit(start, end, |p| render(p, i, indent));
            entries.push(Entry::Item(r, Vec::new()));
            prev = end;
        }
        Seq { head, lines: lay_out(entries, indent, comma) }
    }

    /// A bracketed sequence (list, map, call arguments, parameters): on one line when the source
    /// had it so, else one item per line.
    fn container(
        &mut self,
        w: &mut W,
        (open, close_tok): (&str, &str),
        pad: bool,
        items: &Items,
        comma: bool,
        render: &mut RenderFn<'_, 'a>,
    ) {
        if self.breaks(items) {
            let seq = self.seq(items, w.indent.saturating_add(1), true, &|_| comma, render);
            w.put(&wrap(open, seq, close_tok, w.indent));
            return;
        }
        w.put(open);
        let spans = items.spans;
        if spans.is_empty() {
            w.put(close_tok);
            return;
        }
        if pad {
            w.put(" ");
        }
        for (i, &(start, end)) in spans.iter().enumerate() {
            if i > 0 {
                w.put(", ");
            }
            let indent = w.indent;
            let r = self.unit(start, end, |p| render(p, i, indent));
            if let Some(key) = &r.key {
                w.put(key);
                w.put(" = ");
            }
            w.put(&r.body);
            w.heredoc_end = r.heredoc_end;
        }
        if pad {
            w.put(" ");
        }
        w.put(close_tok);
    }

    // ---- statements -----------------------------------------------------------------------------

    fn file(&mut self, stmts: &[Stmt]) -> String {
        let spans = stmt_spans(stmts);
        let end = u32::try_from(self.src.len()).unwrap_or(u32::MAX);
        let comma = |i: usize| else_follows(stmts, i);
        let seq =
            self.seq(&Items { spans: &spans, start: 0, close: end }, 0, false, &comma, &mut |p, i, indent| p.stmt(stmts.get(i)?, indent));
        let mut out = seq.lines.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }

    /// `{ … }` holding `stmts`, one per line; comments from `gap_start` on are placed inside.
    fn body(&mut self, w: &mut W, stmts: &[Stmt], gap_start: u32, close: u32) {
        let spans = stmt_spans(stmts);
        let indent = w.indent;
        let comma = |i: usize| else_follows(stmts, i);
        let seq =
            self.seq(&Items { spans: &spans, start: gap_start, close }, indent.saturating_add(1), true, &comma, &mut |p, i, indent| {
                p.stmt(stmts.get(i)?, indent)
            });
        w.put(&wrap("{", seq, "}", indent));
    }

    fn stmt(&mut self, s: &Stmt, indent: usize) -> Option<Rendered> {
        let mut w = W::new(indent);
        match s {
            Stmt::Attr(a) => {
                self.expr(&a.value, &mut w);
                return Some(Rendered { key: Some(a.name.name.clone()), body: w.s, heredoc_end: w.heredoc_end });
            }
            Stmt::Let(l) => {
                w.put("let ");
                w.put(&l.name.name);
                w.put(" = ");
                self.expr(&l.value, &mut w);
            }
            Stmt::Import(i) => {
                w.put("import ");
                w.put(self.text(i.path_span));
                if let Some(alias) = &i.alias {
                    w.put(" as ");
                    w.put(&alias.name);
                }
            }
            Stmt::Block(b) => self.block(b, &mut w)?,
            Stmt::For(f) => self.for_stmt(f, &mut w)?,
            Stmt::If(i) => self.if_stmt(i, &mut w)?,
            Stmt::Template(t) => self.template(t, &mut w)?,
        }
        Some(Rendered::plain(w))
    }

    fn block(&mut self, b: &Block, w: &mut W) -> Option<()> {
        w.put(&b.kind_name());
        let mut header_end = b.kind_span().end;
        if let Some(label) = &b.label {
            w.put(" ");
            match label {
                Label::Str(e) => w.put(self.text(e.span)),
                Label::Ident(i) => w.put(&i.name),
            }
            header_end = label.span().end;
        }
        w.put(" ");
        let close = b.body_span.end.checked_sub(1)?;
        self.is_at(b.body_span.start, "{")?;
        self.is_at(close, "}")?;
        if let Some(inline) = self.inline_body(b, w.indent) {
            w.put(&inline);
            return Some(());
        }
        self.body(w, &b.body, header_end, close);
        Some(())
    }

    /// `{ a = 1, b = 2 }`, for a body the source wrote on one line holding only attributes.
    fn inline_body(&mut self, b: &Block, indent: usize) -> Option<String> {
        let span = b.body_span;
        if b.body.is_empty() || self.newlines(span.start, span.end) > 0 || !self.comments_in(span.start, span.end).is_empty() {
            return None;
        }
        let mut parts = Vec::with_capacity(b.body.len());
        for s in &b.body {
            let Stmt::Attr(a) = s else { return None };
            let mut w = W::new(indent);
            self.expr(&a.value, &mut w);
            if w.heredoc_end || w.s.contains('\n') {
                return None;
            }
            parts.push(format!("{} = {}", a.name.name, w.s));
        }
        Some(format!("{{ {} }}", parts.join(", ")))
    }

    fn for_stmt(&mut self, f: &For, w: &mut W) -> Option<()> {
        w.put("for ");
        if let Some(key) = &f.key {
            w.put(&key.name);
            w.put(", ");
        }
        w.put(&f.value.name);
        w.put(" in ");
        self.expr(&f.collection, w);
        w.put(" ");
        let close = f.span.end.checked_sub(1)?;
        self.is_at(self.skip_trivia(f.collection.span.end), "{")?;
        self.is_at(close, "}")?;
        self.body(w, &f.body, f.collection.span.end, close);
        Some(())
    }

    fn if_stmt(&mut self, i: &If, w: &mut W) -> Option<()> {
        stacker::maybe_grow(RED_ZONE, NEW_STACK, || self.if_inner(i, w))
    }

    fn if_inner(&mut self, i: &If, w: &mut W) -> Option<()> {
        w.put("if ");
        self.expr(&i.cond, w);
        w.put(" ");
        let open = self.skip_trivia(i.cond.span.end);
        self.is_at(open, "{")?;
        let then_end = i.then.last().map_or(open.saturating_add(1), |s| s.span().end);
        let then_close = self.skip_trivia(then_end);
        self.is_at(then_close, "}")?;
        self.body(w, &i.then, i.cond.span.end, then_close);
        let Some(otherwise) = &i.otherwise else {
            return Some(());
        };
        let else_at = self.skip_trivia(then_close.saturating_add(1));
        self.is_at(else_at, "else")?;
        let after = self.skip_trivia(else_at.saturating_add(4));
        w.put(" else ");
        // `else if` and `else { if … }` give the same tree; keep the form that was written.
        if let [Stmt::If(nested)] = otherwise.as_slice() {
            if nested.span.start == after {
                return self.if_stmt(nested, w);
            }
        }
        let close = i.span.end.checked_sub(1)?;
        self.is_at(after, "{")?;
        self.is_at(close, "}")?;
        self.body(w, otherwise, then_close.saturating_add(1), close);
        Some(())
    }

    fn template(&mut self, t: &Template, w: &mut W) -> Option<()> {
        w.put("template ");
        w.put(&t.name.name);
        let open = self.skip_trivia(t.name.span.end);
        self.is_at(open, "(")?;
        let spans: Vec<(u32, u32)> = t
            .params
            .iter()
            .map(|p| {
                let end = p.default.as_ref().map_or(p.name.span.end, |d| d.span.end);
                (p.name.span.start, end)
            })
            .collect();
        let last = spans.last().map_or(open.saturating_add(1), |s| s.1);
        let close_paren = self.skip_trivia(last);
        self.is_at(close_paren, ")")?;
        let params = &t.params;
        self.container(
            w,
            ("(", ")"),
            false,
            &Items { spans: &spans, start: open.saturating_add(1), close: close_paren },
            true,
            &mut |p, i, indent| {
                let param = params.get(i)?;
                let Some(default) = &param.default else {
                    return Some(Rendered { key: None, body: param.name.name.clone(), heredoc_end: false });
                };
                let mut w = W::new(indent);
                p.expr(default, &mut w);
                Some(Rendered { key: Some(param.name.name.clone()), body: w.s, heredoc_end: w.heredoc_end })
            },
        );
        w.put(" ");
        let close = t.span.end.checked_sub(1)?;
        self.is_at(self.skip_trivia(close_paren.saturating_add(1)), "{")?;
        self.is_at(close, "}")?;
        self.body(w, &t.body, close_paren.saturating_add(1), close);
        Some(())
    }

    // ---- expressions ----------------------------------------------------------------------------

    fn expr(&mut self, e: &Expr, w: &mut W) {
        stacker::maybe_grow(RED_ZONE, NEW_STACK, || self.expr_inner(e, w));
    }

    fn expr_inner(&mut self, e: &Expr, w: &mut W) {
        match &e.kind {
            ExprKind::Null => w.put("null"),
            ExprKind::Bool(b) => w.put(if *b { "true" } else { "false" }),
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Quantity { .. } | ExprKind::Str(_) | ExprKind::Error => {
                w.put(self.text(e.span))
            }
            ExprKind::Heredoc { .. } => {
                w.put(self.text(e.span));
                w.heredoc_end = true;
            }
            ExprKind::Name(n) => w.put(&n.name),
            ExprKind::List(items) => {
                let spans: Vec<(u32, u32)> = items.iter().map(|x| (x.span.start, x.span.end)).collect();
                self.container(w, ("[", "]"), false, &inside(e.span, &spans), true, &mut |p, i, indent| {
                    let mut w = W::new(indent);
                    p.expr(items.get(i)?, &mut w);
                    Some(Rendered::plain(w))
                });
            }
            ExprKind::Map(entries) => {
                let spans: Vec<(u32, u32)> = entries.iter().map(|x| (x.key.span().start, x.value.span.end)).collect();
                self.container(w, ("{", "}"), true, &inside(e.span, &spans), false, &mut |p, i, indent| {
                    let entry = entries.get(i)?;
                    let mut key = W::new(indent);
                    match &entry.key {
                        MapKey::Ident(name) => key.put(&name.name),
                        MapKey::Str(s) => key.put(p.text(s.span)),
                        MapKey::Expr(x) => p.expr(x, &mut key),
                    }
                    if key.heredoc_end {
                        return None;
                    }
                    let mut w = W::new(indent);
                    p.expr(&entry.value, &mut w);
                    Some(Rendered { key: Some(key.s), body: w.s, heredoc_end: w.heredoc_end })
                });
            }
            ExprKind::Unary(op, x) => {
                w.put(match op {
                    crate::ast::UnOp::Neg => "-",
                    crate::ast::UnOp::Not => "!",
                });
                self.expr(x, w);
            }
            ExprKind::Binary(op, l, r) => {
                self.expr(l, w);
                w.put(" ");
                w.put(op.as_str());
                w.put(" ");
                self.expr(r, w);
            }
            ExprKind::Cond(c, a, b) => {
                self.expr(c, w);
                w.put(" ? ");
                self.expr(a, w);
                w.put(" : ");
                self.expr(b, w);
            }
            ExprKind::Field(x, name) => {
                self.expr(x, w);
                w.put(".");
                w.put(&name.name);
            }
            ExprKind::Index(x, i) => {
                self.expr(x, w);
                w.put("[");
                self.expr(i, w);
                w.put("]");
            }
            ExprKind::Call(name, args) => {
                w.put(&name.name);
                let open = self.skip_trivia(name.span.end);
                let spans: Vec<(u32, u32)> = args.iter().map(|x| (x.span.start, x.span.end)).collect();
                self.container(
                    w,
                    ("(", ")"),
                    false,
                    &Items { spans: &spans, start: open.saturating_add(1), close: e.span.end.saturating_sub(1) },
                    true,
                    &mut |p, i, indent| {
                        let mut w = W::new(indent);
                        p.expr(args.get(i)?, &mut w);
                        Some(Rendered::plain(w))
                    },
                );
            }
            ExprKind::ListComp { key, value, collection, body, cond } => {
                w.put("[for ");
                self.comp_head(key.as_ref().map(|k| k.name.as_str()), &value.name, collection, w);
                self.expr(body, w);
                self.comp_cond(cond.as_deref(), w);
                w.put("]");
            }
            ExprKind::MapComp { key, value, collection, key_expr, value_expr, cond } => {
                w.put("{for ");
                self.comp_head(key.as_ref().map(|k| k.name.as_str()), &value.name, collection, w);
                self.expr(key_expr, w);
                w.put(" => ");
                self.expr(value_expr, w);
                self.comp_cond(cond.as_deref(), w);
                w.put("}");
            }
            ExprKind::Paren(x) => {
                w.put("(");
                self.expr(x, w);
                w.put(")");
            }
        }
    }

    /// `k, v in coll : ` of a comprehension.
    fn comp_head(&mut self, key: Option<&str>, value: &str, collection: &Expr, w: &mut W) {
        if let Some(key) = key {
            w.put(key);
            w.put(", ");
        }
        w.put(value);
        w.put(" in ");
        self.expr(collection, w);
        w.put(" : ");
    }

    fn comp_cond(&mut self, cond: Option<&Expr>, w: &mut W) {
        if let Some(cond) = cond {
            w.put(" if ");
            self.expr(cond, w);
        }
    }
}

/// Whether statement `i` is an `if` followed by a statement named `else` (an attribute or block
/// kind). Only a comma keeps such a statement apart: after a newline it would read as the `if`'s
/// `else`.
fn else_follows(stmts: &[Stmt], i: usize) -> bool {
    let named_else = match stmts.get(i.saturating_add(1)) {
        Some(Stmt::Attr(a)) => a.name.name == "else",
        Some(Stmt::Block(b)) => b.kind.first().is_some_and(|k| k.name == "else"),
        _ => false,
    };
    named_else && matches!(stmts.get(i), Some(Stmt::If(_)))
}

/// The items of a bracketed expression spanning `span`, brackets included.
fn inside<'s>(span: Span, spans: &'s [(u32, u32)]) -> Items<'s> {
    Items { spans, start: span.start.saturating_add(1), close: span.end.saturating_sub(1) }
}

fn stmt_spans(stmts: &[Stmt]) -> Vec<(u32, u32)> {
    stmts
        .iter()
        .map(|s| {
            let span = s.span();
            (span.start, span.end)
        })
        .collect()
}

#[cfg(test)]
mod tests;
