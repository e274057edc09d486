//! Find references, rename and hover on values, over a compilation of the document's stack
//! (its syntax trees for where names are written, its evaluation for what they are).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use cairn_compiler::schema::Kind;
use cairn_compiler::value::{Address, ModuleId, Value};
use cairn_compiler::Compilation;
use cairn_core::names;
use cairn_lang::ast::Stmt;
use cairn_lang::{FileId, Span};
use lsp_types::{Hover, HoverContents, Location, MarkupContent, MarkupKind, Range, TextEdit, Uri, WorkspaceEdit};

use crate::convert::range;
use crate::definition::{declared_at, evaluated_reference, std_files};
use crate::diagnostics::location;
use crate::index::{file_of, is_identifier, root_files, Index, Occ, Sym};

/// The symbol at `offset` of `path` and where it is written there.
fn symbol_at(c: &Compilation, index: &Index, path: &Path, offset: u32) -> Option<(Sym, Span, Option<String>)> {
    let file = file_of(c, path)?;
    if let Some(o) = index.at(file, offset) {
        return Some((o.sym.clone(), o.span, o.key.clone()));
    }
    let dep = evaluated_reference(c, path, offset)?;
    Some((Sym::Resource(dep.target.kind, dep.target.name.clone()), dep.span, None))
}

fn overlaps(a: Span, b: Span) -> bool {
    a.file == b.file && a.start < b.end && b.start < a.end
}

/// Every place the symbol at `offset` is written in the stack's files (with its declaration when
/// `include_declaration`); `None` when the cursor is on no symbol.
pub fn references(c: &Compilation, path: &Path, offset: u32, include_declaration: bool) -> Option<Vec<Location>> {
    let index = Index::build(c);
    let (sym, _, _) = symbol_at(c, &index, path, offset)?;
    let mut spans: Vec<Span> = index.of(&sym).filter(|o| include_declaration || !o.decl).map(|o| o.span).collect();
    let mut extra = Vec::new();
    if let Sym::Resource(kind, name) = &sym {
        let addr = Address { kind: *kind, name: name.clone() };
        // References the compiler evaluated that are not written literally (`pool[p]`).
        let user: BTreeSet<FileId> = root_files(c).into_iter().collect();
        for d in c.resources.iter().flat_map(|r| r.deps.iter()) {
            if d.target == addr && user.contains(&d.span.file) && !spans.iter().any(|s| overlaps(*s, d.span)) {
                spans.push(d.span);
            }
        }
        if include_declaration && index.decl(&sym).is_none() {
            extra.extend(declared_at(c, &addr));
        }
    }
    spans.sort_by_key(|s| (s.file.0, s.start));
    spans.dedup();
    let mut out: Vec<Location> = spans.into_iter().filter_map(|s| location(&c.program.sources, s)).collect();
    out.extend(extra);
    Some(out)
}

/// Why the symbol cannot be renamed, or `Ok` with its declaration.
fn renamable<'i>(c: &Compilation, index: &'i Index, sym: &Sym) -> Result<&'i Occ, String> {
    if let Some(d) = index.decl(sym) {
        return match sym {
            Sym::Resource(..) | Sym::Let(_) => Ok(d),
            _ => Err("only resources and lets can be renamed".to_string()),
        };
    }
    match sym {
        Sym::Resource(kind, name) => {
            let addr = Address { kind: *kind, name: name.clone() };
            let Some(r) = c.resources.iter().find(|r| r.addr == addr) else {
                return Err(format!("`{addr}` is not declared in the stack"));
            };
            if std_files(c).contains(&r.label_span.file) {
                let by = r.via.first().map(|v| format!(" by an instance of template `{}`", v.template)).unwrap_or_default();
                return Err(format!("`{addr}` is declared in std/{by}, not in the stack's files; rename the instance's label instead"));
            }
            Err(format!("`{addr}` has a computed name (a template parameter, a variable or an interpolation), or is declared outside the stack's directory; rename it where its name is made"))
        }
        Sym::Let(n) => Err(format!("`{n}` is not a `let` of the stack's directory")),
        _ => Err("only resources and lets can be renamed".to_string()),
    }
}

/// For `prepareRename`: the range of the name at `offset` and its text, or why it cannot be
/// renamed. `Ok(None)` when the cursor is on no symbol.
pub fn prepare_rename(c: &Compilation, path: &Path, offset: u32) -> Result<Option<(Range, String)>, String> {
    let index = Index::build(c);
    let Some((sym, span, _)) = symbol_at(c, &index, path, offset) else { return Ok(None) };
    renamable(c, &index, &sym)?;
    let Some(file) = c.program.sources.get(span.file) else { return Ok(None) };
    let name = match &sym {
        Sym::Resource(_, n) | Sym::Let(n) => n.clone(),
        _ => return Ok(None),
    };
    // A reference the compiler evaluated but that is not written literally (`pool[p]`).
    if index.at(span.file, offset).is_none() {
        return Err(format!("`{}` is not written literally here; rename it at its declaration", file.text.get(span.range()).unwrap_or("")));
    }
    Ok(Some((range(&file.text, span.start, span.end), name)))
}

/// The edits that rename the symbol at `offset` to `new_name` in every file of the stack, or why
/// they cannot be made.
pub fn rename(c: &Compilation, path: &Path, offset: u32, new_name: &str) -> Result<Option<WorkspaceEdit>, String> {
    let index = Index::build(c);
    let Some((sym, _, _)) = symbol_at(c, &index, path, offset) else { return Ok(None) };
    renamable(c, &index, &sym)?;
    match &sym {
        Sym::Let(old) => {
            if old == new_name {
                return Ok(Some(WorkspaceEdit::default()));
            }
            check_let_name(&index, new_name)?;
        }
        Sym::Resource(kind, old) => {
            if old == new_name {
                return Ok(Some(WorkspaceEdit::default()));
            }
            check_resource_name(*kind, new_name)?;
            let addr = Address { kind: *kind, name: new_name.to_string() };
            if c.resources.iter().any(|r| r.addr == addr) || index.decl(&Sym::Resource(*kind, new_name.to_string())).is_some() {
                return Err(format!("`{addr}` already exists in the stack"));
            }
            let dotted = index.of(&sym).filter(|o| !o.decl).any(|o| !quoted(c, o.span));
            if dotted && !is_identifier(new_name) {
                return Err(format!(
                    "`{}.{new_name}` is not a valid reference: the name is not an identifier (write such names as `{}[\"{new_name}\"]`)",
                    kind.as_str(),
                    kind.as_str()
                ));
            }
        }
        _ => return Err("only resources and lets can be renamed".to_string()),
    }
    // `WorkspaceEdit::changes` is keyed by `Uri`, whose hash does not change once built.
    #[allow(clippy::mutable_key_type)]
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for o in index.of(&sym) {
        let Some(loc) = location(&c.program.sources, o.span) else { continue };
        changes.entry(loc.uri).or_default().push(TextEdit::new(loc.range, new_name.to_string()));
    }
    Ok(Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() }))
}

/// Whether the name at `span` is written inside quotes (`"shop"`, `namespace["shop"]`).
fn quoted(c: &Compilation, span: Span) -> bool {
    c.program.sources.get(span.file).and_then(|f| f.text.get(..span.start as usize)).is_some_and(|t| t.ends_with('"'))
}

fn check_let_name(index: &Index, name: &str) -> Result<(), String> {
    if !is_identifier(name) {
        return Err(format!(
            "`{name}` is not an identifier: letters, digits, `_` and `-`, starting with a letter or `_`, not ending with `-`"
        ));
    }
    if cairn_lang::KEYWORDS.contains(&name) {
        return Err(format!("`{name}` is a keyword"));
    }
    if Kind::from_name(name).is_some() {
        return Err(format!("`{name}` is a block kind: a let of that name would hide `{name}.NAME` references"));
    }
    let taken = index.occs.iter().any(|o| {
        o.decl
            && match &o.sym {
                Sym::Let(n) | Sym::Template(n) | Sym::Alias(n) => n == name,
                _ => false,
            }
    });
    if taken {
        return Err(format!("`{name}` is already declared in the stack (a let, a template or an import alias)"));
    }
    if index.locals.contains(name) {
        return Err(format!("`{name}` is already used as a template parameter or loop variable in the stack"));
    }
    Ok(())
}

/// The compiler's name rule for `kind` (LANGUAGE.md §6).
fn check_resource_name(kind: Kind, name: &str) -> Result<(), String> {
    let rule: fn(&str) -> Result<(), String> = match kind {
        Kind::Namespace | Kind::Workload => names::dns1035_label,
        Kind::Config | Kind::Secret | Kind::StorageClass => names::dns1123_subdomain,
        Kind::Pool => names::pool_name,
        _ => |s: &str| {
            if s.is_empty() || s.chars().any(|c| c == '"' || c == '\\' || c == '$' || c.is_control()) {
                Err("a name must be non-empty, without quotes, backslashes, `$` or control characters".to_string())
            } else {
                Ok(())
            }
        },
    };
    rule(name).map_err(|why| format!("invalid {} name `{name}`: {why}", kind.as_str()))
}

/// Whether `s` looks like it names a secret, by the compiler's own list (`cairn-core`).
fn secret_word(s: &str) -> bool {
    cairn_core::secrets::looks_secret(s)
}

/// The hover on a value at `offset` of `path`: a `let` (declaration or use) shows its evaluated
/// value; a resource reference shows the resource's address and kind (a data key of a `secret`
/// is `(sensitive)`). Sensitive values, and values written where secrets go, show as
/// `(sensitive)`.
/// `lets` evaluates the stack's lets; it runs only when the cursor is on one.
pub fn value_hover(c: &Compilation, lets: impl FnOnce() -> Vec<(ModuleId, String, Value)>, path: &Path, offset: u32) -> Option<Hover> {
    let index = Index::build(c);
    let (sym, span, key) = symbol_at(c, &index, path, offset)?;
    let value = match &sym {
        Sym::Let(name) => {
            let lets = lets();
            let v = lets.iter().find(|(m, n, _)| *m == ModuleId(0) && n == name).map(|(_, _, v)| v)?;
            let shown = if let_is_secret(c, &index, name) { "(sensitive)".to_string() } else { show(v) };
            format!("```cairn\nlet {name} = {shown}\n```")
        }
        Sym::Resource(kind, name) => resource_hover(c, *kind, name, key.as_deref()),
        Sym::Alias(name) => {
            let (m, _) = c.program.module(ModuleId(0))?.imports.get(name)?;
            let path = c.program.module(*m)?.path.display().to_string();
            format!("```cairn\nimport \"{path}\" as {name}\n```")
        }
        Sym::Template(_) | Sym::Member(..) => return None,
    };
    let file = c.program.sources.get(span.file)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value }),
        range: Some(range(&file.text, span.start, span.end)),
    })
}

/// A value for a hover: [`Value::display`] prints every sensitive part as `(sensitive)`.
fn show(v: &Value) -> String {
    if matches!(v, Value::Unknown) {
        return "(not known: an unset `env()` variable or an error)".to_string();
    }
    let s = v.display();
    match s.char_indices().nth(500) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or("")),
        None => s,
    }
}

/// Whether a let holds or feeds a secret: its name says so, its value holds a literal the
/// compiler masks, or it is used in a `secret` block or after a secret-named key.
fn let_is_secret(c: &Compilation, index: &Index, name: &str) -> bool {
    if secret_word(name) {
        return true;
    }
    let decl_value = root_files(c).into_iter().find_map(|f| {
        c.program.file(f)?.stmts.iter().find_map(|s| match s {
            Stmt::Let(l) if l.name.name == name => Some(l.value.span),
            _ => None,
        })
    });
    if decl_value.is_some_and(|v| c.secret_spans.iter().any(|s| overlaps(*s, v))) {
        return true;
    }
    let secret_blocks: Vec<Span> = c.resources.iter().filter(|r| r.addr.kind == Kind::Secret).map(|r| r.block_span).collect();
    index.of(&Sym::Let(name.to_string())).filter(|o| !o.decl).any(|o| {
        let inside = secret_blocks.iter().any(|b| b.file == o.span.file && b.start <= o.span.start && o.span.end <= b.end);
        let line = c
            .program
            .sources
            .get(o.span.file)
            .and_then(|f| f.text.get(..o.span.start as usize))
            .map(|t| t.rsplit('\n').next().unwrap_or(""))
            .unwrap_or("");
        inside || secret_word(line)
    })
}

fn resource_hover(c: &Compilation, kind: Kind, name: &str, key: Option<&str>) -> String {
    let addr = Address { kind, name: name.to_string() };
    let Some(r) = c.resources.iter().find(|r| r.addr == addr) else {
        return format!("```cairn\n{addr}\n```\nNo `{}` called `{name}` is declared in the stack.", kind.as_str());
    };
    let mut out = format!("```cairn\n{addr}\n```\nA `{}` resource", kind.as_str());
    if let Some(v) = r.via.first() {
        out.push_str(&format!(", made by an instance of template `{}`", v.template));
    }
    if let Some(file) = c.program.sources.get(r.label_span.file) {
        let (line, _) = c.program.sources.line_col(r.label_span);
        let shown = file.path.file_name().map_or_else(|| file.display.clone(), |f| f.to_string_lossy().to_string());
        if !std_files(c).contains(&r.label_span.file) {
            out.push_str(&format!(", declared in `{shown}` line {line}"));
        }
    }
    out.push('.');
    let Some(key) = key else { return out };
    let secret_spans = &c.secret_spans;
    let value = match kind {
        Kind::Secret => "(sensitive)".to_string(),
        Kind::Config => match r.body.get("data").map(|d| d.unwrap_sensitive()) {
            Some((Value::Map(m), false)) => m.get(key).map_or_else(|| "(no such key)".to_string(), show),
            Some((_, true)) => "(sensitive)".to_string(),
            _ => "(not known)".to_string(),
        },
        _ => match r.body.attr(key) {
            Some(a) if secret_word(key) || secret_spans.iter().any(|s| overlaps(*s, a.span)) => "(sensitive)".to_string(),
            Some(a) => show(&a.value),
            None => "(not set)".to_string(),
        },
    };
    let what = if matches!(kind, Kind::Secret | Kind::Config) { "data key" } else { "attribute" };
    out.push_str(&format!("\n\n{what} `{key}` = {value}"));
    out
}
