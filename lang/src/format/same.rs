//! Whether two parsed files mean the same: the formatter's check on its own output. Spans are
//! ignored; statements, values and comments (in order) must match.

use super::{clean_comment, NEW_STACK, RED_ZONE};
use crate::ast::{Expr, ExprKind, File, Ident, Label, MapKey, Stmt, StrPart};

/// Whether two parsed files mean the same: the same statements and values with spans ignored,
/// and the same comments in the same order (trailing whitespace aside).
pub(crate) fn same_tree(a: &File, b: &File) -> bool {
    same_stmts(&a.stmts, &b.stmts)
        && a.comments.len() == b.comments.len()
        && a.comments.iter().zip(&b.comments).all(|(x, y)| clean_comment(&x.text) == clean_comment(&y.text))
}

fn all<T>(a: &[T], b: &[T], same: impl Fn(&T, &T) -> bool) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
}

fn same_opt<T>(a: &Option<T>, b: &Option<T>, same: impl Fn(&T, &T) -> bool) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => same(x, y),
        (None, None) => true,
        _ => false,
    }
}

fn same_name(a: &Ident, b: &Ident) -> bool {
    a.name == b.name
}

fn same_stmts(a: &[Stmt], b: &[Stmt]) -> bool {
    all(a, b, same_stmt)
}

fn same_stmt(a: &Stmt, b: &Stmt) -> bool {
    stacker::maybe_grow(RED_ZONE, NEW_STACK, || match (a, b) {
        (Stmt::Import(x), Stmt::Import(y)) => x.path == y.path && same_opt(&x.alias, &y.alias, same_name),
        (Stmt::Let(x), Stmt::Let(y)) => same_name(&x.name, &y.name) && same_expr(&x.value, &y.value),
        (Stmt::Template(x), Stmt::Template(y)) => {
            same_name(&x.name, &y.name)
                && all(&x.params, &y.params, |p, q| same_name(&p.name, &q.name) && same_opt(&p.default, &q.default, same_expr))
                && same_stmts(&x.body, &y.body)
        }
        (Stmt::Block(x), Stmt::Block(y)) => {
            all(&x.kind, &y.kind, same_name)
                && same_opt(&x.label, &y.label, |l, m| match (l, m) {
                    (Label::Str(e), Label::Str(f)) => same_expr(e, f),
                    (Label::Ident(i), Label::Ident(j)) => same_name(i, j),
                    _ => false,
                })
                && same_stmts(&x.body, &y.body)
        }
        (Stmt::Attr(x), Stmt::Attr(y)) => same_name(&x.name, &y.name) && same_expr(&x.value, &y.value),
        (Stmt::For(x), Stmt::For(y)) => {
            same_opt(&x.key, &y.key, same_name)
                && same_name(&x.value, &y.value)
                && same_expr(&x.collection, &y.collection)
                && same_stmts(&x.body, &y.body)
        }
        (Stmt::If(x), Stmt::If(y)) => {
            same_expr(&x.cond, &y.cond) && same_stmts(&x.then, &y.then) && same_opt(&x.otherwise, &y.otherwise, |p, q| same_stmts(p, q))
        }
        _ => false,
    })
}

fn same_parts(a: &[StrPart], b: &[StrPart]) -> bool {
    all(a, b, |p, q| match (p, q) {
        (StrPart::Lit(x), StrPart::Lit(y)) => x == y,
        (StrPart::Interp(x), StrPart::Interp(y)) => same_expr(x, y),
        _ => false,
    })
}

fn same_expr(a: &Expr, b: &Expr) -> bool {
    stacker::maybe_grow(RED_ZONE, NEW_STACK, || same_expr_inner(a, b))
}

fn same_expr_inner(a: &Expr, b: &Expr) -> bool {
    use ExprKind as K;
    match (&a.kind, &b.kind) {
        (K::Null, K::Null) | (K::Error, K::Error) => true,
        (K::Bool(x), K::Bool(y)) => x == y,
        (K::Int(x), K::Int(y)) => x == y,
        (K::Float(x), K::Float(y)) => x.to_bits() == y.to_bits(),
        (K::Quantity { number, suffix }, K::Quantity { number: n2, suffix: s2 }) => number == n2 && suffix == s2,
        (K::Str(x), K::Str(y)) => same_parts(x, y),
        (K::Heredoc { marker, indent, parts }, K::Heredoc { marker: m2, indent: i2, parts: p2 }) => {
            marker == m2 && indent == i2 && same_parts(parts, p2)
        }
        (K::Name(x), K::Name(y)) => same_name(x, y),
        (K::List(x), K::List(y)) => all(x, y, same_expr),
        (K::Map(x), K::Map(y)) => all(x, y, |p, q| {
            let keys = match (&p.key, &q.key) {
                (MapKey::Ident(i), MapKey::Ident(j)) => same_name(i, j),
                (MapKey::Str(e), MapKey::Str(f)) | (MapKey::Expr(e), MapKey::Expr(f)) => same_expr(e, f),
                _ => false,
            };
            keys && same_expr(&p.value, &q.value)
        }),
        (K::Unary(o, x), K::Unary(p, y)) => o == p && same_expr(x, y),
        (K::Binary(o, l, r), K::Binary(p, m, s)) => o == p && same_expr(l, m) && same_expr(r, s),
        (K::Cond(c, x, y), K::Cond(d, u, v)) => same_expr(c, d) && same_expr(x, u) && same_expr(y, v),
        (K::Field(x, f), K::Field(y, g)) => same_name(f, g) && same_expr(x, y),
        (K::Index(x, i), K::Index(y, j)) => same_expr(x, y) && same_expr(i, j),
        (K::Call(f, x), K::Call(g, y)) => same_name(f, g) && all(x, y, same_expr),
        (K::ListComp { key, value, collection, body, cond }, K::ListComp { key: k2, value: v2, collection: c2, body: b2, cond: d2 }) => {
            same_opt(key, k2, same_name)
                && same_name(value, v2)
                && same_expr(collection, c2)
                && same_expr(body, b2)
                && same_opt(cond, d2, |x, y| same_expr(x, y))
        }
        (
            K::MapComp { key, value, collection, key_expr, value_expr, cond },
            K::MapComp { key: k2, value: v2, collection: c2, key_expr: ke2, value_expr: ve2, cond: d2 },
        ) => {
            same_opt(key, k2, same_name)
                && same_name(value, v2)
                && same_expr(collection, c2)
                && same_expr(key_expr, ke2)
                && same_expr(value_expr, ve2)
                && same_opt(cond, d2, |x, y| same_expr(x, y))
        }
        (K::Paren(x), K::Paren(y)) => same_expr(x, y),
        _ => false,
    }
}
