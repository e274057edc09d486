//! Recursive-descent parser over the lexer's tokens, with a Pratt loop for operators.
//! It never fails: errors become diagnostics and `Error` nodes, and recovery skips to the end of
//! the attribute (the next newline or `,` at the same bracket depth) or the closing `}` of the
//! block, so one typo gives one diagnostic.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{lex, Token, TokenKind as T};
use crate::span::{FileId, Span};
use crate::strings::{decode_heredoc, decode_string};
use crate::MAX_DEPTH;

/// The most operators and suffixes one path through an expression may chain
/// (`1 + 1 + …`, `a.b.c…`): far more than any real expression, and a tree this deep is still
/// safe to walk and drop on a 2 MiB stack.
pub const MAX_CHAIN: u32 = 10_000;

/// A parsed file and the diagnostics found on the way.
#[derive(Debug, Default)]
pub struct Parsed {
    pub file: File,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole file. Never fails; see [`Parsed::diagnostics`].
pub fn parse(text: &str, file: FileId) -> Parsed {
    let lexed = lex(text, file, 0);
    let mut p = Parser::new(text, file, lexed.tokens);
    p.diags = lexed.diagnostics;
    let stmts = p.stmts(Ctx::Top);
    let mut diagnostics = p.diags;
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    Parsed { file: File { stmts, comments: lexed.comments }, diagnostics }
}

/// Parses one expression (used for tests and for the editor).
pub fn parse_expr(text: &str, file: FileId) -> (Expr, Vec<Diagnostic>) {
    let lexed = lex(text, file, 0);
    let mut p = Parser::new(text, file, lexed.tokens);
    p.diags = lexed.diagnostics;
    p.nl.push(true);
    let e = p.expr();
    if p.peek() != T::Eof {
        let t = p.tok();
        p.error_at("E0101", p.span_of(t), format!("unexpected {} after the expression", p.describe(t)), None);
    }
    (e, p.diags)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ctx {
    /// A file's top level.
    Top,
    /// A block body.
    Body,
    /// A template body (items, no attributes).
    Template,
}

/// The context of a `for`/`if` body: items stay items (no `let` inside), bodies stay bodies.
fn nested(ctx: Ctx) -> Ctx {
    match ctx {
        Ctx::Body => Ctx::Body,
        Ctx::Top | Ctx::Template => Ctx::Template,
    }
}

struct Parser<'a> {
    src: &'a str,
    file: FileId,
    tokens: Vec<Token>,
    pos: usize,
    diags: Vec<Diagnostic>,
    /// Whether newlines are insignificant, per open bracket (innermost last).
    nl: Vec<bool>,
    depth: u32,
    /// Operators and suffixes of the chains (`a + b + c`, `a.b[c]`) being parsed: each nests
    /// the tree one level deeper. Limited by MAX_CHAIN (see `enter_chain`).
    chain: u32,
    /// Set once an unclosed-brace error at end of input was reported.
    eof_reported: bool,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, file: FileId, tokens: Vec<Token>) -> Parser<'a> {
        Parser { src, file, tokens, pos: 0, diags: Vec::new(), nl: vec![false], depth: 0, chain: 0, eof_reported: false }
    }

    // ---- token access -------------------------------------------------------------------

    fn raw(&self, at: usize) -> Token {
        let last = self.tokens.last().copied().unwrap_or(Token { kind: T::Eof, start: 0, end: 0 });
        self.tokens.get(at).copied().unwrap_or(last)
    }

    fn skips_newlines(&self) -> bool {
        self.nl.last().copied().unwrap_or(false)
    }

    /// The current token, skipping newlines where they are insignificant.
    fn tok(&mut self) -> Token {
        if self.skips_newlines() {
            while self.raw(self.pos).kind == T::Newline {
                self.pos = self.pos.saturating_add(1);
            }
        }
        self.raw(self.pos)
    }

    fn peek(&mut self) -> T {
        self.tok().kind
    }

    /// The kind of the `n`th significant token after the current one.
    fn peek_nth(&mut self, n: usize) -> T {
        self.tok();
        let skip = self.skips_newlines();
        let mut at = self.pos;
        let mut left = n;
        loop {
            let k = self.raw(at).kind;
            if k == T::Eof {
                return k;
            }
            if skip && k == T::Newline {
                at = at.saturating_add(1);
                continue;
            }
            if left == 0 {
                return k;
            }
            left = left.saturating_sub(1);
            at = at.saturating_add(1);
        }
    }

    fn bump(&mut self) -> Token {
        let t = self.tok();
        if t.kind != T::Eof {
            self.pos = self.pos.saturating_add(1);
        }
        t
    }

    fn eat(&mut self, kind: T) -> Option<Token> {
        (self.peek() == kind).then(|| self.bump())
    }

    fn skip_newlines(&mut self) {
        while self.raw(self.pos).kind == T::Newline {
            self.pos = self.pos.saturating_add(1);
        }
    }

    fn text(&self, t: Token) -> &'a str {
        self.src.get(t.start as usize..t.end as usize).unwrap_or("")
    }

    fn span_of(&self, t: Token) -> Span {
        Span::new(self.file, t.start, t.end)
    }

    fn is_keyword(&self, t: Token, kw: &str) -> bool {
        t.kind == T::Ident && self.text(t) == kw
    }

    fn at_keyword(&mut self, kw: &str) -> bool {
        let t = self.tok();
        self.is_keyword(t, kw)
    }

    fn describe(&self, t: Token) -> String {
        match t.kind {
            T::Eof => "end of file".to_string(),
            T::Newline => "end of line".to_string(),
            T::Str => "a string".to_string(),
            T::Heredoc => "a heredoc".to_string(),
            T::Int | T::Float | T::Quantity => format!("number `{}`", self.text(t)),
            T::Ident => format!("`{}`", self.text(t)),
            _ => format!("`{}`", self.text(t)),
        }
    }

    fn error_at(&mut self, code: &'static str, span: Span, msg: String, help: Option<&str>) {
        let mut d = Diagnostic::error(code, span, msg);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.diags.push(d);
    }

    /// Reports an unexpected token (once per position) and returns its span.
    fn unexpected(&mut self, expected: &str, help: Option<&str>) -> Span {
        let t = self.tok();
        let span = self.span_of(t);
        if t.kind == T::Eof && self.eof_reported {
            return span;
        }
        let msg = format!("expected {expected}, found {}", self.describe(t));
        self.error_at("E0101", span, msg, help);
        span
    }

    /// Skips to the end of the current statement: the next newline or `,` at this bracket
    /// depth, or (without consuming it) a `}` that closes the enclosing body.
    fn recover(&mut self) {
        let mut depth = 0u32;
        loop {
            let t = self.raw(self.pos);
            match t.kind {
                T::Eof => return,
                T::Newline | T::Comma if depth == 0 => return,
                T::LBrace | T::LParen | T::LBracket => depth = depth.saturating_add(1),
                T::RBrace | T::RParen | T::RBracket => {
                    if depth == 0 {
                        return;
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
            self.pos = self.pos.saturating_add(1);
        }
    }

    fn enter(&mut self, span: Span) -> bool {
        self.depth = self.depth.saturating_add(1);
        if self.depth > MAX_DEPTH {
            if self.depth == MAX_DEPTH + 1 {
                self.error_at(
                    "E0106",
                    span,
                    format!("nesting deeper than {MAX_DEPTH} levels"),
                    Some("split the expression with `let`s or flatten the blocks"),
                );
            }
            return false;
        }
        true
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// One more operator or suffix in a chain. Chains may be far longer than MAX_DEPTH
    /// (`1 + 1 + …` is fine), but the tree they make is as deep as they are long, and a tree
    /// deeper than the stack overflows every pass that walks it, `Drop` included: beyond
    /// MAX_CHAIN levels on one path it is an error.
    fn enter_chain(&mut self, span: Span) -> bool {
        self.chain = self.chain.saturating_add(1);
        if self.chain > MAX_CHAIN {
            if self.chain == MAX_CHAIN + 1 {
                self.error_at(
                    "E0106",
                    span,
                    format!("more than {MAX_CHAIN} operators or suffixes in a chain"),
                    Some("split the expression with `let`s"),
                );
            }
            return false;
        }
        true
    }

    /// Leaves `n` levels of `enter_chain`.
    fn leave_chain(&mut self, n: u32) {
        self.chain = self.chain.saturating_sub(n);
    }

    // ---- statements ---------------------------------------------------------------------

    /// Statements until `}` (not consumed) or end of input.
    fn stmts(&mut self, ctx: Ctx) -> Vec<Stmt> {
        let mut out = Vec::new();
        loop {
            self.skip_newlines();
            while self.eat(T::Comma).is_some() {
                self.skip_newlines();
            }
            match self.peek() {
                T::Eof => return out,
                T::RBrace => {
                    if ctx == Ctx::Top {
                        let t = self.bump();
                        self.error_at(
                            "E0101",
                            self.span_of(t),
                            "unexpected `}` with no block to close".into(),
                            Some("remove it, or open the block it was meant to close"),
                        );
                        continue;
                    }
                    return out;
                }
                _ => {}
            }
            let before = self.pos;
            let reported = self.diags.len();
            if let Some(s) = self.stmt(ctx) {
                out.push(s);
            }
            // A statement must end at a newline, a comma or the closing brace.
            if !matches!(self.raw(self.pos).kind, T::Newline | T::Comma | T::Eof | T::RBrace) {
                if self.diags.len() == reported {
                    self.unexpected("a newline or `,` after the statement", None);
                }
                self.recover();
                if self.pos == before {
                    self.pos = self.pos.saturating_add(1);
                }
            }
        }
    }

    fn stmt(&mut self, ctx: Ctx) -> Option<Stmt> {
        let t = self.tok();
        if t.kind != T::Ident {
            self.unexpected(
                if ctx == Ctx::Body {
                    "an attribute (`name = value`) or a block"
                } else {
                    "a block, `let`, `import`, `template`, `for` or `if`"
                },
                None,
            );
            self.recover();
            return None;
        }
        let next = self.peek_nth(1);
        // A keyword followed by `=` is an attribute name.
        if next == T::Assign {
            let attr = self.attr();
            if ctx != Ctx::Body {
                self.error_at(
                    "E0107",
                    attr.name.span,
                    format!("attribute `{}` outside a block", attr.name.name),
                    Some("attributes go inside a block; use `let` to name a value"),
                );
            }
            return Some(Stmt::Attr(attr));
        }
        let word = self.text(t);
        match word {
            "let" => {
                let s = self.let_stmt();
                if ctx != Ctx::Top {
                    self.error_at(
                        "E0107",
                        s.span,
                        "`let` is allowed only at a file's top level".into(),
                        Some("move the `let` to the top level of the file"),
                    );
                }
                Some(Stmt::Let(s))
            }
            "import" => {
                let s = self.import()?;
                if ctx != Ctx::Top {
                    self.error_at(
                        "E0107",
                        s.span,
                        "`import` is allowed only at a file's top level".into(),
                        Some("move the import to the top of the file"),
                    );
                }
                Some(Stmt::Import(s))
            }
            "template" if next == T::Ident => {
                let s = self.template()?;
                if ctx != Ctx::Top {
                    self.error_at(
                        "E0107",
                        s.span,
                        "`template` is allowed only at a file's top level".into(),
                        Some("move the template to the top level of the file"),
                    );
                }
                Some(Stmt::Template(s))
            }
            "for" => self.for_stmt(ctx).map(Stmt::For),
            "if" => self.if_stmt(ctx).map(Stmt::If),
            _ => self.block().map(Stmt::Block),
        }
    }

    fn ident(&mut self, what: &str) -> Option<Ident> {
        let t = self.tok();
        if t.kind == T::Ident {
            self.bump();
            Some(Ident { name: self.text(t).to_string(), span: self.span_of(t) })
        } else {
            self.unexpected(what, None);
            None
        }
    }

    fn attr(&mut self) -> Attr {
        let name_tok = self.bump();
        let name = Ident { name: self.text(name_tok).to_string(), span: self.span_of(name_tok) };
        self.bump(); // `=`
        self.skip_newlines();
        if self.tok().kind == T::RBrace {
            // `size =` at the end of a block: say which attribute lacks a value.
            let t = self.tok();
            let at = self.span_of(t);
            let d = Diagnostic::error("E0101", at, format!("expected a value for `{}`, found `}}`", name.name))
                .with_label(name.span, "this attribute has no value")
                .with_help(format!("write `{} = …` with a value, or remove the line", name.name));
            self.diags.push(d);
            let span = name.span.to(at);
            return Attr { name, value: Expr { kind: ExprKind::Error, span: at }, span };
        }
        let value = self.expr();
        let span = name.span.to(value.span);
        Attr { name, value, span }
    }

    fn let_stmt(&mut self) -> Let {
        let kw = self.bump();
        let name = self.ident("a name after `let`").unwrap_or(Ident { name: String::new(), span: self.span_of(kw) });
        let value = if self.eat(T::Assign).is_some() {
            self.skip_newlines();
            self.expr()
        } else {
            let span = self.unexpected("`=` after the let's name", Some("write `let name = value`"));
            self.recover();
            Expr { kind: ExprKind::Error, span }
        };
        let span = self.span_of(kw).to(value.span);
        Let { name, value, span }
    }

    fn import(&mut self) -> Option<Import> {
        let kw = self.bump();
        let t = self.tok();
        if t.kind != T::Str {
            self.unexpected("a path string after `import`", Some("write `import \"std/apps\"` or `import \"./lib\" as lib`"));
            self.recover();
            return None;
        }
        self.bump();
        let raw = self.text(t);
        let path = raw.trim_start_matches('"').trim_end_matches('"').to_string();
        if path.contains("${") {
            self.error_at("E0101", self.span_of(t), "an import path cannot interpolate".into(), Some("write the path literally"));
        }
        let mut span = self.span_of(kw).to(self.span_of(t));
        let mut alias = None;
        if self.at_keyword("as") {
            self.bump();
            if let Some(a) = self.ident("a name after `as`") {
                span = span.to(a.span);
                alias = Some(a);
            }
        }
        Some(Import { path, path_span: self.span_of(t), alias, span })
    }

    fn template(&mut self) -> Option<Template> {
        let kw = self.bump();
        let name = self.ident("the template's name")?;
        let mut params = Vec::new();
        if self.eat(T::LParen).is_none() {
            self.unexpected("`(` and the template's parameters", Some("write `template name(p1, p2 = default) { … }`"));
            self.recover();
            return None;
        }
        self.nl.push(true);
        loop {
            match self.peek() {
                T::RParen => break,
                T::Eof => break,
                _ => {}
            }
            let Some(pname) = self.ident("a parameter name") else {
                self.recover_in_brackets(T::RParen);
                break;
            };
            let default = if self.eat(T::Assign).is_some() { Some(self.expr()) } else { None };
            params.push(Param { name: pname, default });
            if self.eat(T::Comma).is_none() {
                break;
            }
        }
        self.nl.pop();
        if self.eat(T::RParen).is_none() {
            self.unexpected("`)` to close the parameters", None);
            self.recover_in_brackets(T::RParen);
            self.eat(T::RParen);
        }
        let (body, body_span) = self.braced(Ctx::Template, "the template's body")?;
        Some(Template { name, params, body, span: self.span_of(kw).to(body_span) })
    }

    /// Skips inside `( … )`/`[ … ]` up to (not past) the closing bracket.
    fn recover_in_brackets(&mut self, close: T) {
        let mut depth = 0u32;
        loop {
            let k = self.raw(self.pos).kind;
            match k {
                T::Eof => return,
                T::LParen | T::LBracket | T::LBrace => depth = depth.saturating_add(1),
                T::RParen | T::RBracket | T::RBrace => {
                    if depth == 0 {
                        if k == close {
                            return;
                        }
                        if k == T::RBrace {
                            return;
                        }
                    } else {
                        depth = depth.saturating_sub(1);
                    }
                }
                _ => {}
            }
            self.pos = self.pos.saturating_add(1);
        }
    }

    /// `{ stmts }`; returns the statements and the span of the braces.
    fn braced(&mut self, ctx: Ctx, what: &str) -> Option<(Vec<Stmt>, Span)> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.braced_inner(ctx, what))
    }

    fn braced_inner(&mut self, ctx: Ctx, what: &str) -> Option<(Vec<Stmt>, Span)> {
        let Some(open) = self.eat(T::LBrace) else {
            self.unexpected(&format!("`{{` to open {what}"), None);
            self.recover();
            return None;
        };
        let open_span = self.span_of(open);
        if !self.enter(open_span) {
            self.skip_to_matching_brace();
            self.leave();
            return Some((Vec::new(), open_span));
        }
        self.nl.push(false);
        let body = self.stmts(ctx);
        self.nl.pop();
        self.leave();
        let end = match self.eat(T::RBrace) {
            Some(close) => self.span_of(close),
            None => {
                if !self.eof_reported {
                    self.eof_reported = true;
                    self.diags.push(
                        Diagnostic::error("E0104", open_span, format!("unclosed `{{`: {what} is never closed"))
                            .with_primary("this `{` has no matching `}`")
                            .with_help("add the missing `}`"),
                    );
                }
                let t = self.tok();
                self.span_of(t)
            }
        };
        Some((body, open_span.to(end)))
    }

    fn skip_to_matching_brace(&mut self) {
        let mut depth = 0u32;
        loop {
            let k = self.raw(self.pos).kind;
            self.pos = self.pos.saturating_add(1);
            match k {
                T::Eof => return,
                T::LBrace => depth = depth.saturating_add(1),
                T::RBrace => {
                    if depth == 0 {
                        return;
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
        }
    }

    fn block(&mut self) -> Option<Block> {
        let first = self.bump();
        let mut kind = vec![Ident { name: self.text(first).to_string(), span: self.span_of(first) }];
        while self.peek() == T::Dot {
            self.bump();
            kind.push(self.ident("a name after `.`")?);
        }
        let label = match self.peek() {
            T::Str => {
                let t = self.bump();
                Some(Label::Str(self.string_expr(t)))
            }
            T::Ident if self.peek_nth(1) == T::LBrace => {
                let t = self.bump();
                Some(Label::Ident(Ident { name: self.text(t).to_string(), span: self.span_of(t) }))
            }
            _ => None,
        };
        if self.peek() != T::LBrace {
            let kind_text: Vec<&str> = kind.iter().map(|k| k.name.as_str()).collect();
            let kind_text = kind_text.join(".");
            let help = if label.is_some() {
                format!("to set an attribute write `{kind_text} = …`; to declare a block add `{{ … }}`")
            } else {
                format!("write `{kind_text} = value` for an attribute or `{kind_text} \"name\" {{ … }}` for a block")
            };
            self.unexpected("`=` or `{`", Some(&help));
            self.recover();
            return None;
        }
        let (body, body_span) = self.braced(Ctx::Body, "the block")?;
        let span = self.span_of(first).to(body_span);
        Some(Block { kind, label, body, body_span, span })
    }

    fn for_stmt(&mut self, ctx: Ctx) -> Option<For> {
        let kw = self.bump();
        let (key, value, collection) = self.for_head()?;
        let (body, body_span) = self.braced(nested(ctx), "the `for` body")?;
        Some(For { key, value, collection, body, span: self.span_of(kw).to(body_span) })
    }

    /// `k, v in expr` after `for`.
    fn for_head(&mut self) -> Option<(Option<Ident>, Ident, Expr)> {
        let first = self.ident("a variable name after `for`")?;
        let (key, value) = if self.eat(T::Comma).is_some() {
            let second = self.ident("a second variable name")?;
            (Some(first), second)
        } else {
            (None, first)
        };
        if !self.at_keyword("in") {
            self.unexpected("`in`", Some("write `for x in list { … }`"));
            self.recover();
            return None;
        }
        self.bump();
        let coll = self.expr();
        Some((key, value, coll))
    }

    fn if_stmt(&mut self, ctx: Ctx) -> Option<If> {
        let kw = self.bump();
        let cond = self.expr();
        let (then, then_span) = self.braced(nested(ctx), "the `if` body")?;
        let mut span = self.span_of(kw).to(then_span);
        // `else` may start the next line.
        let save = self.pos;
        self.skip_newlines();
        let otherwise = if self.at_keyword("else") {
            self.bump();
            if self.at_keyword("if") {
                // An `else if` chain nests: it counts towards MAX_DEPTH like braces do.
                let entered = self.enter(self.span_of(self.raw(self.pos)));
                let nested = if entered {
                    stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.if_stmt(ctx))
                } else {
                    self.recover();
                    None
                };
                self.leave();
                let nested = nested?;
                span = span.to(nested.span);
                Some(vec![Stmt::If(nested)])
            } else {
                let (els, els_span) = self.braced(nested(ctx), "the `else` body")?;
                span = span.to(els_span);
                Some(els)
            }
        } else {
            self.pos = save;
            None
        };
        Some(If { cond, then, otherwise, span })
    }

    // ---- expressions --------------------------------------------------------------------

    fn expr(&mut self) -> Expr {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner())
    }

    fn expr_inner(&mut self) -> Expr {
        let t = self.tok();
        if !self.enter(self.span_of(t)) {
            self.recover_expr();
            self.leave();
            return Expr { kind: ExprKind::Error, span: self.span_of(t) };
        }
        let e = self.cond_expr();
        self.leave();
        e
    }

    /// After a depth error: skip the rest of this expression.
    fn recover_expr(&mut self) {
        let mut depth = 0i64;
        loop {
            let k = self.raw(self.pos).kind;
            match k {
                T::Eof => return,
                T::LParen | T::LBracket | T::LBrace => depth = depth.saturating_add(1),
                T::RParen | T::RBracket | T::RBrace => {
                    if depth <= 0 {
                        return;
                    }
                    depth = depth.saturating_sub(1);
                }
                T::Newline | T::Comma if depth <= 0 && !self.skips_newlines() => return,
                _ => {}
            }
            self.pos = self.pos.saturating_add(1);
        }
    }

    fn cond_expr(&mut self) -> Expr {
        let cond = self.binary(1);
        if self.peek() != T::Question {
            return cond;
        }
        self.bump();
        self.skip_newlines();
        let then = self.expr();
        if self.peek() == T::Newline {
            let save = self.pos;
            self.skip_newlines();
            if self.peek() != T::Colon {
                self.pos = save;
            }
        }
        if self.eat(T::Colon).is_none() {
            let span = self.unexpected("`:` in the conditional `c ? a : b`", None);
            return Expr { kind: ExprKind::Error, span: cond.span.to(span) };
        }
        self.skip_newlines();
        let otherwise = self.expr();
        let span = cond.span.to(otherwise.span);
        Expr { kind: ExprKind::Cond(Box::new(cond), Box::new(then), Box::new(otherwise)), span }
    }

    fn binop(&mut self) -> Option<BinOp> {
        Some(match self.peek() {
            T::OrOr => BinOp::Or,
            T::AndAnd => BinOp::And,
            T::EqEq => BinOp::Eq,
            T::NotEq => BinOp::Ne,
            T::Lt => BinOp::Lt,
            T::Le => BinOp::Le,
            T::Gt => BinOp::Gt,
            T::Ge => BinOp::Ge,
            T::Plus => BinOp::Add,
            T::Minus => BinOp::Sub,
            T::Star => BinOp::Mul,
            T::Slash => BinOp::Div,
            T::Percent => BinOp::Rem,
            _ => return None,
        })
    }

    fn binary(&mut self, min_prec: u8) -> Expr {
        let mut lhs = self.unary();
        let mut chained_comparison = false;
        // Each operator of a chain nests the tree one level deeper: `a + b + c` is
        // `(a + b) + c` (see `enter_chain`).
        let mut levels = 0u32;
        while let Some(op) = self.binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            let op_tok = self.bump();
            levels = levels.saturating_add(1);
            if !self.enter_chain(self.span_of(op_tok)) {
                self.recover_expr();
                self.leave_chain(levels);
                return Expr { kind: ExprKind::Error, span: lhs.span.to(self.span_of(op_tok)) };
            }
            if prec == 4 {
                if chained_comparison {
                    self.error_at(
                        "E0101",
                        self.span_of(op_tok),
                        "comparisons do not chain".into(),
                        Some("combine them with `&&`: `a < b && b < c`"),
                    );
                }
                chained_comparison = true;
            }
            self.skip_newlines();
            let rhs = self.binary(prec.saturating_add(1));
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span };
        }
        self.leave_chain(levels);
        lhs
    }

    fn unary(&mut self) -> Expr {
        let op = match self.peek() {
            T::Minus => UnOp::Neg,
            T::Bang => UnOp::Not,
            _ => return self.postfix(),
        };
        let t = self.bump();
        if !self.enter(self.span_of(t)) {
            self.recover_expr();
            self.leave();
            return Expr { kind: ExprKind::Error, span: self.span_of(t) };
        }
        let inner = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.unary());
        self.leave();
        let span = self.span_of(t).to(inner.span);
        Expr { kind: ExprKind::Unary(op, Box::new(inner)), span }
    }

    fn postfix(&mut self) -> Expr {
        let mut levels = 0u32;
        let e = self.postfix_chain(&mut levels);
        self.leave_chain(levels);
        e
    }

    /// `primary` and its `.field` / `[index]` / `(call)` suffixes; each suffix nests the
    /// tree one level deeper (see `enter_chain`).
    fn postfix_chain(&mut self, levels: &mut u32) -> Expr {
        let mut e = self.primary();
        loop {
            let t = self.raw(self.pos);
            if matches!(t.kind, T::Dot | T::LBracket) {
                *levels = levels.saturating_add(1);
                if !self.enter_chain(self.span_of(t)) {
                    self.recover_expr();
                    return Expr { kind: ExprKind::Error, span: e.span.to(self.span_of(t)) };
                }
            }
            match self.raw(self.pos).kind {
                T::Dot => {
                    self.bump();
                    let t = self.tok();
                    if t.kind == T::Ident {
                        self.bump();
                        let field = Ident { name: self.text(t).to_string(), span: self.span_of(t) };
                        let span = e.span.to(field.span);
                        e = Expr { kind: ExprKind::Field(Box::new(e), field), span };
                    } else {
                        let span = self.unexpected("a name after `.`", None);
                        return Expr { kind: ExprKind::Error, span: e.span.to(span) };
                    }
                }
                T::LBracket => {
                    self.bump();
                    self.nl.push(true);
                    let idx = self.expr();
                    let close = self.expect_close(T::RBracket, "`]`");
                    self.nl.pop();
                    let span = e.span.to(close.unwrap_or(idx.span));
                    e = Expr { kind: ExprKind::Index(Box::new(e), Box::new(idx)), span };
                }
                T::LParen => {
                    let ExprKind::Name(name) = &e.kind else {
                        return e;
                    };
                    let name = name.clone();
                    self.bump();
                    self.nl.push(true);
                    let mut args = Vec::new();
                    while !matches!(self.peek(), T::RParen | T::Eof | T::RBrace) {
                        args.push(self.expr());
                        if self.eat(T::Comma).is_none() {
                            break;
                        }
                    }
                    let close = self.expect_close(T::RParen, "`)` to close the call");
                    self.nl.pop();
                    let span = e.span.to(close.unwrap_or(e.span));
                    e = Expr { kind: ExprKind::Call(name, args), span };
                }
                _ => return e,
            }
        }
    }

    /// Expects a closing bracket; on anything else reports and skips to it.
    fn expect_close(&mut self, kind: T, what: &str) -> Option<Span> {
        if let Some(t) = self.eat(kind) {
            return Some(self.span_of(t));
        }
        self.unexpected(what, None);
        self.recover_in_brackets(kind);
        self.eat(kind).map(|t| self.span_of(t))
    }

    fn primary(&mut self) -> Expr {
        let t = self.tok();
        let span = self.span_of(t);
        let kind = match t.kind {
            T::Int => {
                self.bump();
                let digits: String = self.text(t).chars().filter(|c| *c != '_').collect();
                match digits.parse::<i64>() {
                    Ok(v) => ExprKind::Int(v),
                    Err(_) => {
                        self.error_at(
                            "E0110",
                            span,
                            format!("integer `{}` does not fit in 64 bits", self.text(t)),
                            Some("integers range from -9223372036854775808 to 9223372036854775807"),
                        );
                        ExprKind::Error
                    }
                }
            }
            T::Float => {
                self.bump();
                let digits: String = self.text(t).chars().filter(|c| *c != '_').collect();
                ExprKind::Float(digits.parse::<f64>().unwrap_or(0.0))
            }
            T::Quantity => {
                self.bump();
                let text = self.text(t);
                let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
                let number: String = text.get(..split).unwrap_or("").chars().filter(|c| *c != '_').collect();
                ExprKind::Quantity { number, suffix: text.get(split..).unwrap_or("").to_string() }
            }
            T::Str => {
                self.bump();
                return self.string_expr(t);
            }
            T::Heredoc => {
                self.bump();
                let mut diags = Vec::new();
                let (src, file) = (self.src, self.file);
                let (marker, indent, parts) =
                    decode_heredoc(src, file, t.start as usize, t.end as usize, &mut diags, &mut |a, b| self.sub_expr(a, b));
                self.diags.extend(diags);
                ExprKind::Heredoc { marker, indent, parts }
            }
            T::Ident => {
                self.bump();
                match self.text(t) {
                    "true" => ExprKind::Bool(true),
                    "false" => ExprKind::Bool(false),
                    "null" => ExprKind::Null,
                    kw @ ("for" | "if" | "else" | "in" | "let" | "import" | "template" | "as") => {
                        self.error_at(
                            "E0101",
                            span,
                            format!("expected an expression, found keyword `{kw}`"),
                            Some("keywords cannot be used as values; a `for` expression goes inside `[ ]` or `{ }`"),
                        );
                        ExprKind::Error
                    }
                    name => ExprKind::Name(Ident { name: name.to_string(), span }),
                }
            }
            T::LParen => {
                self.bump();
                self.nl.push(true);
                let inner = self.expr();
                let close = self.expect_close(T::RParen, "`)`");
                self.nl.pop();
                return Expr { kind: ExprKind::Paren(Box::new(inner)), span: span.to(close.unwrap_or(span)) };
            }
            T::LBracket => return self.list(),
            T::LBrace => return self.map(),
            _ => {
                let span = self.unexpected("an expression", None);
                if !matches!(t.kind, T::Newline | T::Eof | T::RBrace | T::RParen | T::RBracket | T::Comma) {
                    self.bump();
                }
                return Expr { kind: ExprKind::Error, span };
            }
        };
        Expr { kind, span }
    }

    fn string_expr(&mut self, t: Token) -> Expr {
        let mut diags = Vec::new();
        let (src, file) = (self.src, self.file);
        let parts = decode_string(src, file, t.start as usize, t.end as usize, &mut diags, &mut |a, b| self.sub_expr(a, b));
        self.diags.extend(diags);
        Expr { kind: ExprKind::Str(parts), span: self.span_of(t) }
    }

    /// Parses the expression inside `${…}` at `src[start..end]`.
    fn sub_expr(&mut self, start: usize, end: usize) -> Expr {
        let text = self.src.get(start..end).unwrap_or("");
        let base = u32::try_from(start).unwrap_or(u32::MAX);
        let lexed = lex(text, self.file, base);
        let mut sub = Parser::new(self.src, self.file, lexed.tokens);
        sub.depth = self.depth;
        sub.chain = self.chain;
        sub.nl.push(true);
        let e = if text.trim().is_empty() {
            let span = Span::new(self.file, base, base.saturating_add(text.len() as u32));
            sub.error_at("E0101", span, "empty interpolation `${}`".into(), Some("put an expression inside `${…}`"));
            Expr { kind: ExprKind::Error, span }
        } else {
            let e = sub.expr();
            if sub.peek() != T::Eof {
                let t = sub.tok();
                let msg = format!("unexpected {} in the interpolation", sub.describe(t));
                sub.error_at("E0101", sub.span_of(t), msg, None);
            }
            e
        };
        self.diags.extend(lexed.diagnostics);
        self.diags.extend(sub.diags);
        e
    }

    fn list(&mut self) -> Expr {
        let open = self.bump();
        let open_span = self.span_of(open);
        self.nl.push(true);
        if self.at_keyword("for") {
            self.bump();
            let e = self.list_comp(open_span);
            self.nl.pop();
            return e;
        }
        let mut items = Vec::new();
        while !matches!(self.peek(), T::RBracket | T::Eof | T::RBrace) {
            let before = self.pos;
            items.push(self.expr());
            if self.eat(T::Comma).is_none() {
                if !matches!(self.peek(), T::RBracket) && self.pos == before {
                    self.bump();
                }
                break;
            }
        }
        let close = self.expect_close(T::RBracket, "`,` or `]` in the list");
        self.nl.pop();
        Expr { kind: ExprKind::List(items), span: open_span.to(close.unwrap_or(open_span)) }
    }

    fn list_comp(&mut self, open_span: Span) -> Expr {
        let Some((key, value, collection)) = self.for_head() else {
            self.recover_in_brackets(T::RBracket);
            self.eat(T::RBracket);
            return Expr { kind: ExprKind::Error, span: open_span };
        };
        if self.eat(T::Colon).is_none() {
            self.unexpected("`:` after the `for` clause", Some("write `[for x in xs : f(x)]`"));
            self.recover_in_brackets(T::RBracket);
            let close = self.eat(T::RBracket).map(|t| self.span_of(t));
            return Expr { kind: ExprKind::Error, span: open_span.to(close.unwrap_or(open_span)) };
        }
        let body = self.expr();
        let cond = if self.at_keyword("if") {
            self.bump();
            Some(Box::new(self.expr()))
        } else {
            None
        };
        let close = self.expect_close(T::RBracket, "`]` to close the `for` expression");
        Expr {
            kind: ExprKind::ListComp { key, value, collection: Box::new(collection), body: Box::new(body), cond },
            span: open_span.to(close.unwrap_or(open_span)),
        }
    }

    fn map(&mut self) -> Expr {
        let open = self.bump();
        let open_span = self.span_of(open);
        if !self.enter(open_span) {
            self.skip_to_matching_brace();
            self.leave();
            return Expr { kind: ExprKind::Error, span: open_span };
        }
        self.nl.push(false);
        self.skip_newlines();
        if self.at_keyword("for") {
            self.bump();
            self.nl.pop();
            self.nl.push(true);
            let e = self.map_comp(open_span);
            self.nl.pop();
            self.leave();
            return e;
        }
        let mut entries = Vec::new();
        loop {
            self.skip_newlines();
            while self.eat(T::Comma).is_some() {
                self.skip_newlines();
            }
            if matches!(self.peek(), T::RBrace | T::Eof) {
                break;
            }
            let before = self.pos;
            if let Some(entry) = self.map_entry() {
                entries.push(entry);
            }
            match self.raw(self.pos).kind {
                T::Newline | T::Comma | T::RBrace | T::Eof => {}
                _ => {
                    self.unexpected("a newline, `,` or `}` after the map entry", None);
                    self.recover();
                    if self.pos == before {
                        self.pos = self.pos.saturating_add(1);
                    }
                }
            }
        }
        self.nl.pop();
        let close = match self.eat(T::RBrace) {
            Some(t) => Some(self.span_of(t)),
            None => {
                if !self.eof_reported {
                    self.eof_reported = true;
                    self.diags.push(
                        Diagnostic::error("E0104", open_span, "unclosed `{`: the map is never closed")
                            .with_primary("this `{` has no matching `}`")
                            .with_help("add the missing `}`"),
                    );
                }
                None
            }
        };
        self.leave();
        Expr { kind: ExprKind::Map(entries), span: open_span.to(close.unwrap_or(open_span)) }
    }

    fn map_entry(&mut self) -> Option<MapEntry> {
        let t = self.tok();
        let key = match t.kind {
            T::Ident => {
                self.bump();
                MapKey::Ident(Ident { name: self.text(t).to_string(), span: self.span_of(t) })
            }
            T::Str => {
                self.bump();
                MapKey::Str(self.string_expr(t))
            }
            T::LParen => {
                self.bump();
                self.nl.push(true);
                let e = self.expr();
                let close = self.expect_close(T::RParen, "`)`");
                self.nl.pop();
                let span = self.span_of(t).to(close.unwrap_or(e.span));
                MapKey::Expr(Expr { kind: ExprKind::Paren(Box::new(e)), span })
            }
            _ => {
                self.unexpected("a map key (a name, a string or `(expr)`)", None);
                self.recover();
                return None;
            }
        };
        if self.eat(T::Assign).is_none() {
            let help = if self.peek() == T::Colon { Some("map entries use `=`: `{ key = value }`") } else { None };
            self.unexpected("`=` after the map key", help);
            self.recover();
            return None;
        }
        self.skip_newlines();
        let value = self.expr();
        Some(MapEntry { key, value })
    }

    fn map_comp(&mut self, open_span: Span) -> Expr {
        let fail = |p: &mut Self| {
            p.recover_in_brackets(T::RBrace);
            let close = p.eat(T::RBrace).map(|t| p.span_of(t));
            Expr { kind: ExprKind::Error, span: open_span.to(close.unwrap_or(open_span)) }
        };
        let Some((key, value, collection)) = self.for_head() else {
            return fail(self);
        };
        if self.eat(T::Colon).is_none() {
            self.unexpected("`:` after the `for` clause", Some("write `{for k, v in m : k => v}`"));
            return fail(self);
        }
        let key_expr = self.expr();
        if self.eat(T::FatArrow).is_none() {
            self.unexpected("`=>` between key and value", Some("write `{for k, v in m : k => v}`"));
            return fail(self);
        }
        let value_expr = self.expr();
        let cond = if self.at_keyword("if") {
            self.bump();
            Some(Box::new(self.expr()))
        } else {
            None
        };
        let close = self.expect_close(T::RBrace, "`}` to close the `for` expression");
        Expr {
            kind: ExprKind::MapComp {
                key,
                value,
                collection: Box::new(collection),
                key_expr: Box::new(key_expr),
                value_expr: Box::new(value_expr),
                cond,
            },
            span: open_span.to(close.unwrap_or(open_span)),
        }
    }
}

#[cfg(test)]
mod tests;
