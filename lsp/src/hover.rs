//! Hover: the schema doc and type of the attribute under the cursor, or the doc of the block
//! kind under it. Works on the buffer's own syntax tree, so a broken file elsewhere does not stop
//! it.

use cairn_compiler::schema::{BlockSchema, Kind};
use cairn_lang::ast::{Attr, Block, Stmt};
use cairn_lang::FileId;
use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use crate::convert::range;

/// What the cursor is on.
enum Target<'a> {
    Attr(&'a Attr),
    Kind,
}

/// The hover at `offset` of `text`, if the cursor is on an attribute name or a block kind that
/// the schemas know.
pub fn hover(text: &str, offset: u32) -> Option<Hover> {
    let parsed = cairn_lang::parse(text, FileId(0));
    let mut blocks = Vec::new();
    let target = find(&parsed.file.stmts, offset, &mut blocks)?;
    let schema = schema_of(&blocks)?;
    let (value, span) = match target {
        Target::Attr(a) => {
            let s = schema.attr(&a.name.name)?;
            let mut v = format!("```cairn\n{}: {}\n```\n{}", s.name, s.ty.describe(), s.doc);
            if s.required {
                v.push_str("\n\nRequired.");
            }
            if let Some(d) = s.default {
                v.push_str(&format!("\n\nDefault: `{d}`."));
            }
            (v, a.name.span)
        }
        Target::Kind => {
            let b = blocks.last()?;
            (format!("```cairn\n{} block\n```\n{}", schema.name, schema.doc), b.kind_span())
        }
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value }),
        range: Some(range(text, span.start, span.end)),
    })
}

/// Finds the attribute name or block kind at `offset`, pushing the blocks around it.
fn find<'a>(stmts: &'a [Stmt], offset: u32, blocks: &mut Vec<&'a Block>) -> Option<Target<'a>> {
    for s in stmts {
        if !s.span().contains(offset) {
            continue;
        }
        let found = match s {
            Stmt::Block(b) => {
                blocks.push(b);
                if b.kind_span().contains(offset) {
                    return Some(Target::Kind);
                }
                let found = find(&b.body, offset, blocks);
                if found.is_none() {
                    blocks.pop();
                }
                found
            }
            Stmt::Attr(a) if a.name.span.contains(offset) => Some(Target::Attr(a)),
            Stmt::For(f) => find(&f.body, offset, blocks),
            Stmt::If(i) => find(&i.then, offset, blocks).or_else(|| i.otherwise.as_deref().and_then(|o| find(o, offset, blocks))),
            Stmt::Template(t) => find(&t.body, offset, blocks),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The schema of the innermost block, following nested block names from a resource kind.
fn schema_of(blocks: &[&Block]) -> Option<&'static BlockSchema> {
    let (first, rest) = blocks.split_first()?;
    let mut schema = Kind::from_name(&first.kind_name())?.schema();
    for b in rest {
        schema = schema.block(&b.kind_name())?;
    }
    Some(schema)
}
