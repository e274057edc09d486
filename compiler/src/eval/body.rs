//! Evaluation of block bodies: attributes, nested blocks, and body-level `for`/`if`.

use cairn_lang::ast::{Expr, ExprKind, Label, MapKey, Stmt, StrPart};
use cairn_lang::{Diagnostic, Span};

use super::expand::bind_ready;
use super::{Evaluator, Scope};
use crate::value::Value;

/// An evaluated attribute.
#[derive(Debug, Clone)]
pub struct AttrValue {
    pub name: String,
    pub name_span: Span,
    pub value: Value,
    /// The span of the value's expression.
    pub span: Span,
    /// For a map literal: each literal key with the spans of the key and of its value, for
    /// diagnostics about one entry.
    pub key_spans: Vec<(String, Span, Span)>,
    /// When the expression only names a template parameter (`replicas = replicas` in a
    /// template body): where its value was written — the instance's argument, followed through
    /// templates that pass it on — so a diagnostic about the value points at the user's line.
    pub origin: Option<Span>,
}

impl AttrValue {
    /// The span of key `key` when the value is a map literal that writes it, else the value's.
    pub fn key_span(&self, key: &str) -> Span {
        self.key_spans.iter().find(|(k, _, _)| k == key).map_or(self.span, |(_, s, _)| *s)
    }

    /// The span of the value at `key` when the value is a map literal that writes it, else the
    /// whole value's.
    pub fn entry_value_span(&self, key: &str) -> Span {
        self.key_spans.iter().find(|(k, _, _)| k == key).map_or(self.span, |(_, _, s)| *s)
    }
}

/// The literal keys of a map expression with the spans of each key and value.
fn literal_keys(e: &Expr) -> Vec<(String, Span, Span)> {
    let ExprKind::Map(entries) = &e.kind else { return Vec::new() };
    entries
        .iter()
        .filter_map(|entry| match &entry.key {
            MapKey::Ident(id) => Some((id.name.clone(), id.span, entry.value.span)),
            MapKey::Str(s) => match &s.kind {
                ExprKind::Str(parts) => match parts.as_slice() {
                    [] => Some((String::new(), s.span, entry.value.span)),
                    [StrPart::Lit(t)] => Some((t.clone(), s.span, entry.value.span)),
                    _ => None,
                },
                _ => None,
            },
            MapKey::Expr(_) => None,
        })
        .collect()
}

/// An evaluated nested block (`resources { … }`, `volume "data" { … }`).
#[derive(Debug, Clone)]
pub struct BlockValue {
    pub kind: String,
    pub kind_span: Span,
    pub label: Option<(String, Span)>,
    pub body: BodyValue,
    pub span: Span,
}

/// An evaluated body. Attributes set to `null` are left out (unset), as in HCL.
#[derive(Debug, Clone, Default)]
pub struct BodyValue {
    pub attrs: Vec<AttrValue>,
    pub blocks: Vec<BlockValue>,
}

impl BodyValue {
    /// The attribute called `name`.
    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// The attribute's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attr(name).map(|a| &a.value)
    }

    /// The first nested block of this kind.
    pub fn block(&self, kind: &str) -> Option<&BlockValue> {
        self.blocks.iter().find(|b| b.kind == kind)
    }

    /// Every nested block of this kind.
    pub fn blocks_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a BlockValue> + 'a {
        self.blocks.iter().filter(move |b| b.kind == kind)
    }
}

impl<'p> Evaluator<'p> {
    pub(super) fn eval_body(&mut self, stmts: &'p [Stmt], scope: &Scope<'p>) -> BodyValue {
        let mut body = BodyValue::default();
        let mut seen: Vec<(String, Span)> = Vec::new();
        self.eval_into(stmts, scope, &mut body, &mut seen);
        body
    }

    fn eval_into(&mut self, stmts: &'p [Stmt], scope: &Scope<'p>, body: &mut BodyValue, seen: &mut Vec<(String, Span)>) {
        for stmt in stmts {
            match stmt {
                Stmt::Attr(a) => {
                    let value = self.eval(&a.value, scope);
                    if let Some((_, first)) = seen.iter().find(|(n, _)| *n == a.name.name) {
                        let first = *first;
                        self.report(
                            Diagnostic::error("E0204", a.name.span, format!("attribute `{}` is set more than once", a.name.name))
                                .with_label(first, "first set here")
                                .with_help("an attribute may be set once per block (a `for` that sets it repeats it)"),
                        );
                        continue;
                    }
                    seen.push((a.name.name.clone(), a.name.span));
                    if matches!(value, Value::Null) {
                        continue;
                    }
                    body.attrs.push(AttrValue {
                        name: a.name.name.clone(),
                        name_span: a.name.span,
                        value,
                        span: a.value.span,
                        key_spans: literal_keys(&a.value),
                        origin: self.origin_of(&a.value, scope),
                    });
                }
                Stmt::Block(b) => {
                    let label = match &b.label {
                        Some(Label::Str(e)) => {
                            let v = self.eval(e, scope);
                            self.block_label(v, e.span).map(|s| (s, e.span))
                        }
                        Some(Label::Ident(id)) => {
                            let v = self.variable(&id.name, scope, id.span);
                            match v {
                                Some(v) => self.block_label(v, id.span).map(|s| (s, id.span)),
                                None => {
                                    self.report(
                                        Diagnostic::error("E0201", id.span, format!("label `{}` names no variable", id.name))
                                            .with_help(format!("to name the block `{0}` write \"{0}\"", id.name)),
                                    );
                                    None
                                }
                            }
                        }
                        None => None,
                    };
                    let inner = self.eval_body(&b.body, scope);
                    body.blocks.push(BlockValue { kind: b.kind_name(), kind_span: b.kind_span(), label, body: inner, span: b.span });
                }
                Stmt::For(f) => {
                    let coll = self.eval(&f.collection, scope);
                    for (k, v) in self.iteration(&coll, f.collection.span) {
                        let mut inner = scope.clone();
                        if let Some(key) = &f.key {
                            inner = inner.with(&key.name, bind_ready(k));
                        }
                        inner = inner.with(&f.value.name, bind_ready(v));
                        self.eval_into(&f.body, &inner, body, seen);
                    }
                }
                Stmt::If(i) => {
                    let cond = self.eval(&i.cond, scope);
                    match self.condition(&cond, i.cond.span) {
                        Some(true) => self.eval_into(&i.then, scope, body, seen),
                        Some(false) => {
                            if let Some(o) = &i.otherwise {
                                self.eval_into(o, scope, body, seen);
                            }
                        }
                        None => {}
                    }
                }
                // Misplaced statements were reported by the parser.
                Stmt::Import(_) | Stmt::Let(_) | Stmt::Template(_) => {}
            }
        }
    }

    fn block_label(&mut self, v: Value, span: Span) -> Option<String> {
        match v {
            Value::Str(s) => Some(s.to_string()),
            Value::Unknown => None,
            Value::Sensitive(_) => {
                self.report(
                    Diagnostic::error("E0306", span, "a sensitive value cannot be used as a name").with_help("use a non-secret value"),
                );
                None
            }
            other => {
                self.report(
                    Diagnostic::error("E0301", span, format!("a label must be a string, found {}", other.type_name()))
                        .with_help("write the label as a string"),
                );
                None
            }
        }
    }
}
