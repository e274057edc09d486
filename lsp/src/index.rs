//! Where the stack's own files name things: resources (`KIND.NAME`, `KIND["NAME"]` and the
//! labels that declare them), `let`s, local templates, import aliases and `alias.template`
//! block kinds. Built from the syntax trees of a compilation's root module (the stack's
//! directory), which the parser recovers even in broken files, so navigation keeps working
//! after an unclosed block.

use std::collections::BTreeSet;

use cairn_compiler::schema::Kind;
use cairn_compiler::value::ModuleId;
use cairn_compiler::Compilation;
use cairn_lang::ast::{Block, Expr, ExprKind, Label, MapKey, Stmt, StrPart};
use cairn_lang::{FileId, Span};

/// A named thing of the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sym {
    /// A resource, `KIND.NAME`.
    Resource(Kind, String),
    /// A `let` of the stack's directory.
    Let(String),
    /// A template declared in the stack's directory.
    Template(String),
    /// An import alias.
    Alias(String),
    /// `alias.name` as a block kind: a template of an imported module.
    Member(String, String),
}

/// One place a symbol is written.
#[derive(Clone, Debug)]
pub struct Occ {
    pub sym: Sym,
    /// The name as written (inside the quotes for a string label or index).
    pub span: Span,
    /// Whether this is the declaration (a resource's label, a `let`'s or template's name, an
    /// `import` statement).
    pub decl: bool,
    /// For `secret.x.key` and `config.x.key`: the data key read.
    pub key: Option<String>,
}

/// Every occurrence in the stack's own files, plus the names bound locally anywhere (template
/// parameters, `for` and comprehension variables).
#[derive(Debug, Default)]
pub struct Index {
    pub occs: Vec<Occ>,
    pub locals: BTreeSet<String>,
}

/// A name used as a variable, resolved once every declaration is known.
struct Use {
    name: String,
    span: Span,
}

struct Walker<'a> {
    text: &'a str,
    occs: Vec<Occ>,
    uses: Vec<Use>,
    locals: BTreeSet<String>,
}

impl Index {
    /// Indexes the files of the compilation's root module.
    pub fn build(c: &Compilation) -> Index {
        let mut occs = Vec::new();
        let mut uses = Vec::new();
        let mut locals = BTreeSet::new();
        for fid in root_files(c) {
            let (Some(file), Some(src)) = (c.program.file(fid), c.program.sources.get(fid)) else { continue };
            let mut w = Walker { text: &src.text, occs: Vec::new(), uses: Vec::new(), locals: BTreeSet::new() };
            w.stmts(&file.stmts, &[], true);
            occs.append(&mut w.occs);
            uses.append(&mut w.uses);
            locals.append(&mut w.locals);
        }
        let lets: BTreeSet<String> =
            occs.iter().filter_map(|o| if let (Sym::Let(n), true) = (&o.sym, o.decl) { Some(n.clone()) } else { None }).collect();
        let aliases: BTreeSet<String> =
            occs.iter().filter_map(|o| if let (Sym::Alias(n), true) = (&o.sym, o.decl) { Some(n.clone()) } else { None }).collect();
        for u in uses {
            let sym = if lets.contains(&u.name) {
                Sym::Let(u.name)
            } else if aliases.contains(&u.name) {
                Sym::Alias(u.name)
            } else {
                continue;
            };
            occs.push(Occ { sym, span: u.span, decl: false, key: None });
        }
        Index { occs, locals }
    }

    /// The occurrence at `offset` of `file`, the narrowest when several hold it.
    pub fn at(&self, file: FileId, offset: u32) -> Option<&Occ> {
        self.occs.iter().filter(|o| o.span.file == file && o.span.contains(offset)).min_by_key(|o| o.span.len())
    }

    /// Every occurrence of `sym`.
    pub fn of<'a, 's>(&'a self, sym: &'s Sym) -> impl Iterator<Item = &'a Occ> + use<'a, 's> {
        self.occs.iter().filter(move |o| &o.sym == sym)
    }

    /// The declaration of `sym` in the stack's files.
    pub fn decl(&self, sym: &Sym) -> Option<&Occ> {
        self.occs.iter().find(|o| o.decl && &o.sym == sym)
    }
}

/// The files of the stack's own directory (module 0).
pub fn root_files(c: &Compilation) -> Vec<FileId> {
    c.program.module(ModuleId(0)).map(|m| m.files.clone()).unwrap_or_default()
}

/// The root-module file at `path`.
pub fn file_of(c: &Compilation, path: &std::path::Path) -> Option<FileId> {
    root_files(c).into_iter().find(|id| c.program.sources.get(*id).is_some_and(|f| f.path == path))
}

/// Whether `name` is written as an identifier (LANGUAGE.md §2), so `KIND.name` and a bare `let`
/// name can hold it.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else { return false };
    (first.is_ascii_alphabetic() || first == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.ends_with('-')
}

impl Walker<'_> {
    fn occ(&mut self, sym: Sym, span: Span, decl: bool) {
        self.occs.push(Occ { sym, span, decl, key: None });
    }

    fn is_local(scope: &[String], name: &str) -> bool {
        scope.iter().any(|s| s == name)
    }

    /// Walks statements; `top` is true for a file's top level (imports, lets and templates).
    fn stmts(&mut self, stmts: &[Stmt], scope: &[String], top: bool) {
        for s in stmts {
            match s {
                Stmt::Import(i) if top => {
                    let alias = match &i.alias {
                        Some(a) => a.name.clone(),
                        None => {
                            let last = i.path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
                            last.strip_suffix(".cairn").unwrap_or(last).to_string()
                        }
                    };
                    if !alias.is_empty() {
                        self.occ(Sym::Alias(alias), i.span, true);
                    }
                }
                Stmt::Import(_) => {}
                Stmt::Let(l) => {
                    if top && !l.name.name.is_empty() {
                        self.occ(Sym::Let(l.name.name.clone()), l.name.span, true);
                    }
                    self.expr(&l.value, scope);
                }
                Stmt::Template(t) => {
                    if top && !t.name.name.is_empty() {
                        self.occ(Sym::Template(t.name.name.clone()), t.name.span, true);
                    }
                    let mut inner = scope.to_vec();
                    for p in &t.params {
                        if let Some(d) = &p.default {
                            self.expr(d, &inner);
                        }
                        self.locals.insert(p.name.name.clone());
                        inner.push(p.name.name.clone());
                    }
                    self.stmts(&t.body, &inner, false);
                }
                Stmt::Block(b) => self.block(b, scope),
                Stmt::Attr(a) => self.expr(&a.value, scope),
                Stmt::For(f) => {
                    self.expr(&f.collection, scope);
                    let mut inner = scope.to_vec();
                    for v in f.key.iter().chain(std::iter::once(&f.value)) {
                        self.locals.insert(v.name.clone());
                        inner.push(v.name.clone());
                    }
                    self.stmts(&f.body, &inner, false);
                }
                Stmt::If(i) => {
                    self.expr(&i.cond, scope);
                    self.stmts(&i.then, scope, false);
                    if let Some(o) = &i.otherwise {
                        self.stmts(o, scope, false);
                    }
                }
            }
        }
    }

    fn block(&mut self, b: &Block, scope: &[String]) {
        match b.kind.as_slice() {
            [k] => match Kind::from_name(&k.name) {
                // A resource kind with a label declares a resource, at any depth: an unclosed
                // block earlier in a file nests the ones after it, and no nested block of a
                // schema is named like a resource kind.
                Some(kind) if !Self::is_local(scope, &k.name) => {
                    if let Some((name, span)) = b.label.as_ref().and_then(|l| self.literal_label(l)) {
                        self.occ(Sym::Resource(kind, name), span, true);
                    }
                }
                _ if b.label.is_some() && !Self::is_local(scope, &k.name) => {
                    self.occ(Sym::Template(k.name.clone()), k.span, false);
                }
                _ => {}
            },
            [alias, member] => {
                self.uses.push(Use { name: alias.name.clone(), span: alias.span });
                self.occ(Sym::Member(alias.name.clone(), member.name.clone()), member.span, false);
            }
            _ => {}
        }
        match &b.label {
            Some(Label::Ident(i)) => self.uses.push(Use { name: i.name.clone(), span: i.span }),
            Some(Label::Str(e)) => self.expr(e, scope),
            None => {}
        }
        self.stmts(&b.body, scope, false);
    }

    /// A literal string label or index and the span of its text inside the quotes.
    fn literal_label(&self, l: &Label) -> Option<(String, Span)> {
        match l {
            Label::Str(e) => self.literal(e),
            Label::Ident(_) => None,
        }
    }

    fn literal(&self, e: &Expr) -> Option<(String, Span)> {
        let ExprKind::Str(parts) = &e.kind else { return None };
        let text = match parts.as_slice() {
            [] => String::new(),
            [StrPart::Lit(s)] => s.clone(),
            _ => return None,
        };
        // Only a string written as is (no escapes) can be renamed in place.
        let raw = self.text.get(e.span.range())?;
        if raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) != Some(text.as_str()) || text.is_empty() {
            return None;
        }
        Some((text, Span::new(e.span.file, e.span.start.saturating_add(1), e.span.end.saturating_sub(1))))
    }

    /// A resource reference `KIND.NAME` or `KIND["NAME"]` written in `e`, if `e` is one.
    fn reference(&self, e: &Expr, scope: &[String]) -> Option<(Kind, String, Span)> {
        let (base, name, span) = match &e.kind {
            ExprKind::Field(base, name) => (base, name.name.clone(), name.span),
            ExprKind::Index(base, index) => {
                let (n, s) = self.literal(index)?;
                (base, n, s)
            }
            _ => return None,
        };
        let ExprKind::Name(k) = &base.kind else { return None };
        let kind = Kind::from_name(&k.name).filter(|k| k.addressable())?;
        if Self::is_local(scope, &k.name) {
            return None;
        }
        Some((kind, name, span))
    }

    fn expr(&mut self, e: &Expr, scope: &[String]) {
        walk(self, e, scope, 0);
    }
}

/// Expressions nest at most `cairn_lang::MAX_DEPTH` deep (the parser refuses more), so plain
/// recursion with a depth guard is enough.
fn walk(w: &mut Walker<'_>, e: &Expr, scope: &[String], depth: u32) {
    if depth > cairn_lang::MAX_DEPTH.saturating_add(8) {
        return;
    }
    let d = depth.saturating_add(1);
    let go = |w: &mut Walker<'_>, x: &Expr| walk(w, x, scope, d);
    match &e.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Quantity { .. } | ExprKind::Error => {}
        ExprKind::Str(parts) | ExprKind::Heredoc { parts, .. } => {
            for p in parts {
                if let StrPart::Interp(x) = p {
                    go(w, x);
                }
            }
        }
        ExprKind::Name(i) => {
            if !Walker::is_local(scope, &i.name) {
                w.uses.push(Use { name: i.name.clone(), span: i.span });
            }
        }
        ExprKind::List(items) => items.iter().for_each(|x| go(w, x)),
        ExprKind::Map(entries) => {
            for en in entries {
                match &en.key {
                    MapKey::Ident(_) => {}
                    MapKey::Str(k) | MapKey::Expr(k) => go(w, k),
                }
                go(w, &en.value);
            }
        }
        ExprKind::Unary(_, x) | ExprKind::Paren(x) => go(w, x),
        ExprKind::Binary(_, a, b) => {
            go(w, a);
            go(w, b);
        }
        ExprKind::Cond(a, b, c) => {
            go(w, a);
            go(w, b);
            go(w, c);
        }
        ExprKind::Field(base, field) => {
            if let Some((kind, name, span)) = w.reference(base, scope) {
                // `secret.db.password`: a data key of a referenced resource.
                w.occs.push(Occ { sym: Sym::Resource(kind, name), span, decl: false, key: Some(field.name.clone()) });
            } else if let Some((kind, name, span)) = w.reference(e, scope) {
                w.occ(Sym::Resource(kind, name), span, false);
            } else {
                go(w, base);
            }
        }
        ExprKind::Index(base, index) => {
            if let Some((kind, name, span)) = w.reference(e, scope) {
                w.occ(Sym::Resource(kind, name), span, false);
            } else {
                go(w, base);
                go(w, index);
            }
        }
        ExprKind::Call(_, args) => args.iter().for_each(|x| go(w, x)),
        ExprKind::ListComp { key, value, collection, body, cond } => {
            go(w, collection);
            let inner = bind(w, scope, key.as_ref(), value);
            for x in std::iter::once(body.as_ref()).chain(cond.as_deref()) {
                walk(w, x, &inner, d);
            }
        }
        ExprKind::MapComp { key, value, collection, key_expr, value_expr, cond } => {
            go(w, collection);
            let inner = bind(w, scope, key.as_ref(), value);
            for x in [key_expr.as_ref(), value_expr.as_ref()].into_iter().chain(cond.as_deref()) {
                walk(w, x, &inner, d);
            }
        }
    }
}

fn bind(w: &mut Walker<'_>, scope: &[String], key: Option<&cairn_lang::ast::Ident>, value: &cairn_lang::ast::Ident) -> Vec<String> {
    let mut inner = scope.to_vec();
    for v in key.into_iter().chain(std::iter::once(value)) {
        w.locals.insert(v.name.clone());
        inner.push(v.name.clone());
    }
    inner
}
