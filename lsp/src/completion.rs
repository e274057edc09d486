//! Completion: block kinds and keywords at top level; inside a block, the attributes and nested
//! blocks of its schema that are not set yet; after `attr = "`, the attribute's enum values; after
//! `namespace.` (any addressable kind and a dot), the names declared of that kind in the stack
//! (template instances' resources included); after `alias.` of an import, the module's templates
//! and lets; inside `import "`, the `std/` modules. Works on the buffer's own syntax tree (the parser recovers from broken code), so an unclosed
//! block elsewhere in the file does not stop it.

use std::collections::BTreeSet;

use cairn_compiler::schema::{BlockSchema, Kind, Ty};
use cairn_lang::ast::{Block, Label, Stmt};
use cairn_lang::FileId;
use lsp_types::{CompletionItem, CompletionItemKind, Documentation};

/// Statements that may only appear at the top level of a file, beside the block kinds.
const KEYWORDS: [(&str, &str); 3] = [
    ("let", "`let name = expr`: a named value for the rest of the stack."),
    ("import", "`import \"path\" as name`: the templates and lets of another directory (or `std/…`)."),
    ("template", "`template name(params) { … }`: blocks to instantiate with arguments."),
];

/// What completion needs to know beyond the buffer.
pub trait Context {
    /// The names declared of `kind` in the document's stack.
    fn declared(&self, kind: Kind) -> BTreeSet<String>;
    /// The source texts of the module an import path names (`std/apps`, `../shared`).
    fn module_texts(&self, import_path: &str) -> Vec<String>;
}

/// The completions at `offset` of `text`.
pub fn complete(text: &str, offset: u32, cx: &dyn Context) -> Vec<CompletionItem> {
    let at = clamp(text, offset);
    let before = text.get(..at).unwrap_or("");
    let line = before.rsplit('\n').next().unwrap_or("");
    // The word being typed and what comes just before it.
    let word_start = line.trim_end_matches(is_ident_char).len();
    let head = line.get(..word_start).unwrap_or("");

    if let Some(path_head) = line.trim_start().strip_prefix("import \"") {
        return import_paths(path_head);
    }

    if let Some(rest) = head.strip_suffix('.') {
        let kind_word = rest.get(rest.trim_end_matches(is_ident_char).len()..).unwrap_or("");
        let preceded = rest.get(..rest.len().saturating_sub(kind_word.len())).unwrap_or("");
        if preceded.ends_with('.') {
            return Vec::new();
        }
        return match Kind::from_name(kind_word) {
            Some(kind) if kind.addressable() => cx
                .declared(kind)
                .into_iter()
                .map(|name| CompletionItem {
                    label: name,
                    kind: Some(CompletionItemKind::REFERENCE),
                    detail: Some(format!("{} declared in the stack", kind.as_str())),
                    ..CompletionItem::default()
                })
                .collect(),
            _ => match import_path_of(text, kind_word) {
                Some(path) => module_members(&cx.module_texts(&path), &path),
                None => Vec::new(),
            },
        };
    }

    let parsed = cairn_lang::parse(text, FileId(0));
    let mut blocks = Vec::new();
    enclosing(text, &parsed.file.stmts, offset_u32(at), &mut blocks);

    // A value: `attr = "…` or `attr = …`.
    let (quoted, value_head) = match head.strip_suffix('"') {
        Some(h) => (true, h),
        None => (false, head),
    };
    if let Some(name) = value_head.trim_end().strip_suffix('=').map(str::trim_end) {
        let name = name.get(name.trim_end_matches(is_ident_char).len()..).unwrap_or("");
        let Some(Ty::Enum(values)) = schema_of(&blocks).and_then(|s| s.attr(name)).map(|a| a.ty) else { return Vec::new() };
        return values
            .iter()
            .map(|v| CompletionItem {
                label: (*v).to_string(),
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                detail: Some(format!("{name} value")),
                insert_text: (!quoted).then(|| format!("\"{v}\"")),
                ..CompletionItem::default()
            })
            .collect();
    }
    // Only names are completed here; after a quote or any other punctuation there is nothing.
    if !head.trim().is_empty() {
        return Vec::new();
    }

    let Some(innermost) = blocks.last() else { return top_level(text) };
    let Some(schema) = schema_of(&blocks) else { return Vec::new() };
    body_items(schema, innermost, offset_u32(at))
}

/// The `std/` modules, inside `import "…` (`typed` is what is typed after the quote).
fn import_paths(typed: &str) -> Vec<CompletionItem> {
    if typed.contains('"') {
        return Vec::new();
    }
    cairn_stdlib::module_names()
        .map(|m| CompletionItem {
            label: format!("std/{m}"),
            kind: Some(CompletionItemKind::MODULE),
            detail: Some("standard library module".into()),
            documentation: cairn_stdlib::module(m).map(|(_, src)| Documentation::String(leading_comment(src))),
            ..CompletionItem::default()
        })
        .collect()
}

/// The first comment lines of a source (a module's or a template's description).
fn leading_comment(src: &str) -> String {
    src.lines().take_while(|l| l.starts_with('#')).map(|l| l.trim_start_matches('#').trim()).collect::<Vec<_>>().join("\n")
}

/// The import path of `alias` in `text` (`import "std/apps" as apps`, or the path's last segment
/// without an `as`).
fn import_path_of(text: &str, alias: &str) -> Option<String> {
    let parsed = cairn_lang::parse(text, FileId(0));
    parsed.file.stmts.iter().find_map(|s| match s {
        Stmt::Import(i) => {
            let name = match &i.alias {
                Some(a) => a.name.clone(),
                None => i.path.trim_end_matches('/').rsplit('/').next().unwrap_or("").trim_end_matches(".cairn").to_string(),
            };
            (name == alias).then(|| i.path.clone())
        }
        _ => None,
    })
}

/// The templates (with their parameters) and lets of a module, after `alias.`.
fn module_members(texts: &[String], path: &str) -> Vec<CompletionItem> {
    let mut items = Vec::new();
    for text in texts {
        let parsed = cairn_lang::parse(text, FileId(0));
        for s in &parsed.file.stmts {
            match s {
                Stmt::Template(t) => {
                    let params: Vec<String> = t
                        .params
                        .iter()
                        .map(|p| if p.default.is_some() { format!("{}?", p.name.name) } else { p.name.name.clone() })
                        .collect();
                    let doc = comment_above(text, t.span.start as usize);
                    items.push(CompletionItem {
                        label: t.name.name.clone(),
                        kind: Some(CompletionItemKind::CLASS),
                        detail: Some(format!("template from {path}({})", params.join(", "))),
                        documentation: (!doc.is_empty()).then_some(Documentation::String(doc)),
                        ..CompletionItem::default()
                    });
                }
                Stmt::Let(l) => items.push(CompletionItem {
                    label: l.name.name.clone(),
                    kind: Some(CompletionItemKind::VARIABLE),
                    detail: Some(format!("let from {path}")),
                    ..CompletionItem::default()
                }),
                _ => {}
            }
        }
    }
    items.sort_by(|a, b| a.label.cmp(&b.label));
    items.dedup_by(|a, b| a.label == b.label);
    items
}

/// The comment lines just above byte `start` of `text`.
fn comment_above(text: &str, start: usize) -> String {
    let before = text.get(..start).unwrap_or("");
    let mut lines: Vec<&str> =
        before.lines().rev().skip_while(|l| l.trim().is_empty()).take_while(|l| l.trim_start().starts_with('#')).collect();
    lines.reverse();
    lines.iter().map(|l| l.trim_start().trim_start_matches('#').trim()).collect::<Vec<_>>().join("\n")
}

/// Block kinds, keywords and the templates the file imports (`apps.web_app`), for the top level
/// of a file.
fn top_level(text: &str) -> Vec<CompletionItem> {
    let parsed = cairn_lang::parse(text, FileId(0));
    let templates: Vec<CompletionItem> = parsed
        .file
        .stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Import(i) if i.path.starts_with("std/") => {
                let alias = i.alias.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| i.path.trim_start_matches("std/").to_string());
                let (_, src) = cairn_stdlib::module(i.path.trim_start_matches("std/"))?;
                Some(module_members(&[src.to_string()], &i.path).into_iter().filter(|m| m.kind == Some(CompletionItemKind::CLASS)).map(
                    move |mut m| {
                        m.label = format!("{alias}.{}", m.label);
                        m
                    },
                ))
            }
            _ => None,
        })
        .flatten()
        .collect();
    let kinds = Kind::ALL.into_iter().map(|k| CompletionItem {
        label: k.as_str().to_string(),
        kind: Some(CompletionItemKind::STRUCT),
        detail: Some(format!("{} block", k.as_str())),
        documentation: Some(Documentation::String(k.schema().doc.to_string())),
        ..CompletionItem::default()
    });
    let keywords = KEYWORDS.into_iter().map(|(k, doc)| CompletionItem {
        label: k.to_string(),
        kind: Some(CompletionItemKind::KEYWORD),
        documentation: Some(Documentation::String(doc.to_string())),
        ..CompletionItem::default()
    });
    kinds.chain(keywords).chain(templates).collect()
}

/// The attributes and nested blocks of `schema` that `block` does not set yet (the statement the
/// cursor is on does not count as set).
fn body_items(schema: &'static BlockSchema, block: &Block, at: u32) -> Vec<CompletionItem> {
    let mut set = BTreeSet::new();
    for s in &block.body {
        match s {
            Stmt::Attr(a) if !a.name.span.contains(at) => {
                set.insert(a.name.name.clone());
            }
            Stmt::Block(b) if !b.kind_span().contains(at) && schema.block(&b.kind_name()).is_some_and(|n| !n.repeated) => {
                set.insert(b.kind_name());
            }
            _ => {}
        }
    }
    let attrs = schema.attrs.iter().chain(schema.common().iter()).filter(|a| !set.contains(a.name)).map(|a| {
        let mut doc = a.doc.to_string();
        if a.required {
            doc.push_str("\n\nRequired.");
        }
        if let Some(d) = a.default {
            doc.push_str(&format!("\n\nDefault: `{d}`."));
        }
        CompletionItem {
            label: a.name.to_string(),
            kind: Some(CompletionItemKind::FIELD),
            detail: Some(a.ty.describe()),
            documentation: Some(Documentation::String(doc)),
            ..CompletionItem::default()
        }
    });
    let blocks = schema.blocks.iter().filter(|b| !set.contains(b.name)).map(|b| CompletionItem {
        label: b.name.to_string(),
        kind: Some(CompletionItemKind::STRUCT),
        detail: Some(format!("{} block", b.name)),
        documentation: Some(Documentation::String(b.doc.to_string())),
        ..CompletionItem::default()
    });
    attrs.chain(blocks).collect()
}

/// Pushes the blocks whose body holds `at`, outermost first.
fn enclosing<'a>(text: &str, stmts: &'a [Stmt], at: u32, blocks: &mut Vec<&'a Block>) {
    for s in stmts {
        match s {
            Stmt::Block(b) if inside_body(text, b, at) => {
                blocks.push(b);
                enclosing(text, &b.body, at, blocks);
                return;
            }
            Stmt::For(f) if f.span.contains(at) => enclosing(text, &f.body, at, blocks),
            Stmt::If(i) if i.span.contains(at) => {
                enclosing(text, &i.then, at, blocks);
                if let Some(o) = i.otherwise.as_deref() {
                    enclosing(text, o, at, blocks);
                }
            }
            Stmt::Template(t) if t.span.contains(at) => enclosing(text, &t.body, at, blocks),
            _ => {}
        }
    }
}

/// Whether `at` is between a block's braces (after `{`, before `}`; up to the end of an unclosed
/// body).
fn inside_body(text: &str, b: &Block, at: u32) -> bool {
    let span = b.body_span;
    let closed = span.end > span.start && text.get(..span.end as usize).is_some_and(|t| t.ends_with('}'));
    span.start < at && (at < span.end || (!closed && at == span.end))
}

/// The text of a block's label: a string's contents or an identifier.
pub fn label_text(text: &str, b: &Block) -> Option<String> {
    match b.label.as_ref()? {
        Label::Ident(i) => Some(i.name.clone()),
        l @ Label::Str(_) => {
            let s = l.span();
            let raw = text.get(s.start as usize..s.end as usize)?;
            let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
            (!inner.contains("${")).then(|| inner.to_string())
        }
    }
}

/// The labels of the top-level blocks of `kind` in `text`.
pub fn declared_in(text: &str, kind: Kind, names: &mut BTreeSet<String>) {
    let parsed = cairn_lang::parse(text, FileId(0));
    for s in &parsed.file.stmts {
        if let Stmt::Block(b) = s {
            if b.kind_name() == kind.as_str() {
                names.extend(label_text(text, b));
            }
        }
    }
}

/// The schema of the innermost block. A resource kind nested where its parent's schema has no
/// such block starts a new path: that is how an unclosed block earlier in the file swallows the
/// blocks after it, and the one being typed is the resource.
fn schema_of(blocks: &[&Block]) -> Option<&'static BlockSchema> {
    let mut schema: Option<&'static BlockSchema> = None;
    for b in blocks {
        let name = b.kind_name();
        schema = match schema.and_then(|s| s.block(&name)) {
            Some(nested) => Some(nested),
            None => Kind::from_name(&name).map(Kind::schema),
        };
    }
    schema
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// `offset` as an index into `text`, clamped and floored to a character boundary.
fn clamp(text: &str, offset: u32) -> usize {
    let mut at = (offset as usize).min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at = at.saturating_sub(1);
    }
    at
}

fn offset_u32(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}
