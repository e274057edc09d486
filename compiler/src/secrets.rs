//! Where secrets are written in the sources. Values are redacted wherever they are printed,
//! but a text diagnostic also quotes source lines, so printers mask these spans too: string
//! literals in a `secret` block's `data`, in `sensitive(…)`, as the default of a sensitive
//! `env(…)`, and as the value of an attribute, map entry or argument whose name says it holds
//! a secret (`password`, `token`, `secret`).

use cairn_lang::ast::{Expr, ExprKind, File, Label, MapKey, Stmt, StrPart};
use cairn_lang::Span;

/// Spans of string literals that hold secrets, in every file.
pub fn literal_secret_spans(files: &[File]) -> Vec<Span> {
    let mut out = Vec::new();
    for f in files {
        stmts(&f.stmts, false, &mut out);
    }
    out
}

/// Whether a name marks what is written under it as a secret (one list, in `cairn-core`).
fn secret_name(name: &str) -> bool {
    cairn_core::secrets::looks_secret(name)
}

fn stmts(list: &[Stmt], in_secret: bool, out: &mut Vec<Span>) {
    for s in list {
        match s {
            Stmt::Block(b) => {
                let secret = b.kind.last().is_some_and(|k| k.name == "secret");
                if let Some(Label::Str(e)) = &b.label {
                    expr(e, false, out);
                }
                for inner in &b.body {
                    match inner {
                        Stmt::Attr(a) if secret && a.name.name == "data" => expr(&a.value, true, out),
                        other => stmts(std::slice::from_ref(other), in_secret, out),
                    }
                }
            }
            Stmt::Attr(a) => expr(&a.value, in_secret || secret_name(&a.name.name), out),
            Stmt::Let(l) => expr(&l.value, secret_name(&l.name.name), out),
            Stmt::Template(t) => {
                for p in &t.params {
                    if let Some(d) = &p.default {
                        expr(d, secret_name(&p.name.name), out);
                    }
                }
                stmts(&t.body, in_secret, out);
            }
            Stmt::For(f) => {
                expr(&f.collection, false, out);
                stmts(&f.body, in_secret, out);
            }
            Stmt::If(i) => {
                expr(&i.cond, false, out);
                stmts(&i.then, in_secret, out);
                if let Some(o) = &i.otherwise {
                    stmts(o, in_secret, out);
                }
            }
            Stmt::Import(_) => {}
        }
    }
}

fn parts(ps: &[StrPart], out: &mut Vec<Span>) {
    for p in ps {
        if let StrPart::Interp(e) = p {
            expr(e, false, out);
        }
    }
}

/// Walks an expression; `secret` says string literals here are secrets.
fn expr(e: &Expr, secret: bool, out: &mut Vec<Span>) {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || match &e.kind {
        ExprKind::Str(ps) | ExprKind::Heredoc { parts: ps, .. } => {
            if secret {
                out.push(e.span);
            } else {
                parts(ps, out);
            }
        }
        ExprKind::List(items) => items.iter().for_each(|i| expr(i, secret, out)),
        ExprKind::Map(entries) => {
            for m in entries {
                let key_secret = match &m.key {
                    MapKey::Ident(i) => secret_name(&i.name),
                    MapKey::Str(k) => {
                        matches!(&k.kind, ExprKind::Str(p) if p.iter().any(|x| matches!(x, StrPart::Lit(s) if secret_name(s))))
                    }
                    MapKey::Expr(_) => false,
                };
                expr(&m.value, secret || key_secret, out);
            }
        }
        ExprKind::Call(f, args) => {
            let sensitive_env = f.name == "env"
                && args.first().is_some_and(|a| {
                    matches!(&a.kind, ExprKind::Str(p) if p.iter().any(|x| matches!(x, StrPart::Lit(s) if crate::eval::is_sensitive_env_name(s))))
                });
            for (i, a) in args.iter().enumerate() {
                // The name of a variable (`env("DB_PASSWORD")`) or file is not the secret: only
                // what it yields is, and a diagnostic that quotes the line should still say which.
                let names_it = i == 0 && (f.name == "env" || f.name == "file");
                let here = !names_it && (secret || f.name == "sensitive" || (sensitive_env && i == 1));
                expr(a, here, out);
            }
        }
        ExprKind::Unary(_, a) | ExprKind::Paren(a) | ExprKind::Field(a, _) => expr(a, secret, out),
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
            expr(a, secret, out);
            expr(b, secret, out);
        }
        ExprKind::Cond(c, a, b) => {
            expr(c, false, out);
            expr(a, secret, out);
            expr(b, secret, out);
        }
        ExprKind::ListComp { collection, body, cond, .. } => {
            expr(collection, false, out);
            expr(body, secret, out);
            if let Some(c) = cond {
                expr(c, false, out);
            }
        }
        ExprKind::MapComp { collection, key_expr, value_expr, cond, .. } => {
            expr(collection, false, out);
            expr(key_expr, false, out);
            expr(value_expr, secret, out);
            if let Some(c) = cond {
                expr(c, false, out);
            }
        }
        ExprKind::Null
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Quantity { .. }
        | ExprKind::Name(_)
        | ExprKind::Error => {}
    })
}

/// `text` with the bytes of every span in `file` replaced by `*` (line breaks kept), so
/// offsets and line numbers stay valid.
pub fn mask(text: &str, file: cairn_lang::FileId, spans: &[Span]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for s in spans.iter().filter(|s| s.file == file) {
        let (start, end) = (s.start as usize, s.end as usize);
        for b in bytes.iter_mut().take(end).skip(start) {
            if *b != b'\n' && *b != b'\r' {
                *b = b'*';
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_lang::{parse, FileId};

    fn masked(src: &str) -> String {
        let parsed = parse(src, FileId(0));
        let spans = literal_secret_spans(std::slice::from_ref(&parsed.file));
        mask(src, FileId(0), &spans)
    }

    #[test]
    fn masks_secret_data_sensitive_calls_env_defaults_and_secret_names() {
        let src = r#"secret "db" {
  namespace = "x"
  data      = { password = "hunter2", user = "appuser" }
}
let a = sensitive("s3cr3t")
let b = env("DB_PASSWORD", "devpass")
let c = env("LOG_LEVEL", "info")
apps.database "db" { password = "p4ss" }
let d = { DB_PASSWORD = env("SHOP_DB_PASSWORD", "fallb4ck") }
"#;
        let out = masked(src);
        for hidden in ["hunter2", "appuser", "s3cr3t", "devpass", "p4ss", "fallb4ck"] {
            assert!(!out.contains(hidden), "{hidden} visible in:\n{out}");
        }
        // The variable's name is not the secret, even where its value is one.
        for shown in ["\"x\"", "DB_PASSWORD", "\"info\"", "LOG_LEVEL", "\"db\"", "\"SHOP_DB_PASSWORD\""] {
            assert!(out.contains(shown), "{shown} masked in:\n{out}");
        }
        assert_eq!(out.len(), src.len());
        assert_eq!(out.lines().count(), src.lines().count());
    }
}
