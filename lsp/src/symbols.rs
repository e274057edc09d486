//! The document outline: blocks (with their nested blocks), lets, templates and imports, from the
//! buffer's own syntax tree. Blocks inside top-level `for`/`if` are listed as if at top level.

use cairn_lang::ast::{Block, ExprKind, Label, Stmt, StrPart};
use cairn_lang::{FileId, Span};
use lsp_types::{DocumentSymbol, SymbolKind};

use crate::convert::range;

/// The outline of `text`.
pub fn document_symbols(text: &str) -> Vec<DocumentSymbol> {
    let parsed = cairn_lang::parse(text, FileId(0));
    let mut out = Vec::new();
    collect(text, &parsed.file.stmts, &mut out);
    out
}

fn collect(text: &str, stmts: &[Stmt], out: &mut Vec<DocumentSymbol>) {
    for s in stmts {
        match s {
            Stmt::Block(b) => out.push(block(text, b)),
            Stmt::Let(l) => out.push(symbol(text, l.name.name.clone(), SymbolKind::VARIABLE, l.span, l.name.span, None)),
            Stmt::Template(t) => {
                let mut children = Vec::new();
                collect(text, &t.body, &mut children);
                out.push(symbol(text, format!("template {}", t.name.name), SymbolKind::FUNCTION, t.span, t.name.span, Some(children)));
            }
            Stmt::Import(i) => {
                let name = match &i.alias {
                    Some(a) => format!("import \"{}\" as {}", i.path, a.name),
                    None => format!("import \"{}\"", i.path),
                };
                out.push(symbol(text, name, SymbolKind::MODULE, i.span, i.path_span, None));
            }
            Stmt::For(f) => collect(text, &f.body, out),
            Stmt::If(i) => {
                collect(text, &i.then, out);
                if let Some(o) = &i.otherwise {
                    collect(text, o, out);
                }
            }
            Stmt::Attr(_) => {}
        }
    }
}

/// A block as `kind "label"` with its nested blocks as children.
fn block(text: &str, b: &Block) -> DocumentSymbol {
    let kind = b.kind_name();
    let (name, selection) = match &b.label {
        Some(l) => (format!("{kind} \"{}\"", label_text(text, l)), l.span()),
        None => (kind, b.kind_span()),
    };
    let children: Vec<DocumentSymbol> =
        b.body.iter().filter_map(|s| if let Stmt::Block(inner) = s { Some(block(text, inner)) } else { None }).collect();
    symbol(text, name, SymbolKind::OBJECT, b.span, selection, Some(children).filter(|c| !c.is_empty()))
}

/// A label's text: the string when it is a plain literal, else the source as written.
fn label_text(text: &str, l: &Label) -> String {
    match l {
        Label::Ident(i) => i.name.clone(),
        Label::Str(e) => match &e.kind {
            ExprKind::Str(parts) if parts.iter().all(|p| matches!(p, StrPart::Lit(_))) => {
                parts.iter().map(|p| if let StrPart::Lit(s) = p { s.as_str() } else { "" }).collect()
            }
            _ => text.get(e.span.range()).unwrap_or("").to_string(),
        },
    }
}

#[allow(deprecated)] // `deprecated` is a required field of the struct, deprecated in favour of `tags`.
fn symbol(
    text: &str,
    name: String,
    kind: SymbolKind,
    span: Span,
    selection: Span,
    children: Option<Vec<DocumentSymbol>>,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail: None,
        kind,
        tags: None,
        deprecated: None,
        range: range(text, span.start, span.end),
        selection_range: range(text, selection.start, selection.end),
        children,
    }
}
