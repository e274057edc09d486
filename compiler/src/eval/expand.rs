//! Expansion: top-level items → resource instances. Runs item-level `for`/`if`, evaluates
//! labels, instantiates templates (arguments stay lazy until a body needs them) and reports
//! duplicate addresses.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use cairn_lang::ast::{Block, Label, Stmt, Template};
use cairn_lang::{Diagnostic, FileId, Span};

use super::budget::{Exceeded, RESOURCE_WORK};
use super::{did_you_mean, Binding, Evaluator, Instance, Phase, ResState, Scope, Thunk, Var, Via};
use crate::schema::{Kind, LabelRule};
use crate::value::{Address, ModuleId, Value};

impl<'p> Evaluator<'p> {
    pub(super) fn expand_all(&mut self) {
        self.phase = Phase::Expanding;
        let prog = self.prog;
        for (mi, module) in prog.modules.iter().enumerate() {
            for fid in &module.files {
                let Some(file) = prog.file(*fid) else { continue };
                let scope = self.module_scope(ModuleId(mi), *fid);
                self.expand(&file.stmts, &scope);
            }
        }
    }

    fn expand(&mut self, stmts: &'p [Stmt], scope: &Scope<'p>) {
        for stmt in stmts {
            match stmt {
                Stmt::Block(b) => self.expand_block(b, scope),
                Stmt::For(f) => {
                    let coll = self.eval(&f.collection, scope);
                    let items = self.iteration(&coll, f.collection.span);
                    for (k, v) in items {
                        if !self.budget.charge(1) {
                            self.over_budget(Exceeded::Work, f.collection.span);
                            break;
                        }
                        let mut inner = scope.clone();
                        if let Some(key) = &f.key {
                            inner = inner.with(&key.name, ready(k));
                        }
                        inner = inner.with(&f.value.name, ready(v));
                        self.expand(&f.body, &inner);
                    }
                }
                Stmt::If(i) => {
                    let cond = self.eval(&i.cond, scope);
                    match self.condition(&cond, i.cond.span) {
                        Some(true) => self.expand(&i.then, scope),
                        Some(false) => {
                            if let Some(o) = &i.otherwise {
                                self.expand(o, scope);
                            }
                        }
                        None => {}
                    }
                }
                Stmt::Import(_) | Stmt::Let(_) | Stmt::Template(_) | Stmt::Attr(_) => {}
            }
        }
    }

    fn expand_block(&mut self, b: &'p Block, scope: &Scope<'p>) {
        let kind_name = b.kind_name();
        let Some(first) = b.kind.first() else { return };
        if b.kind.len() == 1 {
            if let Some(kind) = Kind::from_name(&first.name) {
                self.declare_instance(kind, b, scope);
                return;
            }
            if let Some((tpl, file)) = self.templates.get(scope.module.0).and_then(|t| t.get(&first.name)).copied() {
                self.instantiate(tpl, scope.module, file, b, scope);
                return;
            }
        } else if let (2, Some(second)) = (b.kind.len(), b.kind.get(1)) {
            let alias = self.prog.module(scope.module).and_then(|m| m.imports.get(&first.name)).map(|(m, _)| *m);
            match alias {
                Some(m) => {
                    if let Some((tpl, file)) = self.templates.get(m.0).and_then(|t| t.get(&second.name)).copied() {
                        self.instantiate(tpl, m, file, b, scope);
                    } else {
                        let names: Vec<&str> = self.templates.get(m.0).map(|t| t.keys().map(String::as_str).collect()).unwrap_or_default();
                        let help = match did_you_mean(&second.name, names.iter().copied()) {
                            Some(s) => format!("did you mean `{}.{s}`?", first.name),
                            None if names.is_empty() => format!("`{}` has no templates", first.name),
                            None => format!("`{}` has the templates {}", first.name, names.join(", ")),
                        };
                        self.report(
                            Diagnostic::error("E0205", second.span, format!("module `{}` has no template `{}`", first.name, second.name))
                                .with_help(help),
                        );
                    }
                }
                None => {
                    self.report(
                        Diagnostic::error("E0205", first.span, format!("unknown module `{}` in `{kind_name}`", first.name))
                            .with_help(format!("import it first, e.g. `import \"std/{}\"`", first.name)),
                    );
                }
            }
            return;
        }
        let mut candidates: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        let local: Vec<String> = self.templates.get(scope.module.0).map(|t| t.keys().cloned().collect()).unwrap_or_default();
        candidates.extend(local.iter().map(String::as_str));
        let help = match did_you_mean(&kind_name, candidates.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "block kinds are stack, cluster, pool, storage_class, namespace, workload, config, secret, manifest, policy, moved, or a template".to_string(),
        };
        let span = b.kind_span();
        self.report(Diagnostic::error("E0205", span, format!("unknown block kind `{kind_name}`")).with_help(help));
    }

    /// Evaluates a label to a string (literal string or a variable holding one).
    fn label_value(&mut self, label: &'p Label, scope: &Scope<'p>) -> Option<String> {
        match label {
            Label::Str(e) => {
                let v = self.eval(e, scope);
                self.label_string(v, e.span)
            }
            Label::Ident(id) => match scope.lookup(&id.name) {
                Some(_) => {
                    let v = self.variable(&id.name, scope, id.span).unwrap_or(Value::Unknown);
                    self.label_string(v, id.span)
                }
                None => {
                    let v = self
                        .prog
                        .module(scope.module)
                        .is_some_and(|_| self.lets.get(scope.module.0).is_some_and(|l| l.contains_key(&id.name)));
                    if v {
                        let v = self.let_value(scope.module, &id.name, id.span).unwrap_or(Value::Unknown);
                        return self.label_string(v, id.span);
                    }
                    self.report(Diagnostic::error("E0201", id.span, format!("label `{}` names no variable", id.name)).with_help(format!(
                        "a bare label is a variable holding the name; to name the resource `{0}` write \"{0}\"",
                        id.name
                    )));
                    None
                }
            },
        }
    }

    fn label_string(&mut self, v: Value, span: Span) -> Option<String> {
        match v {
            Value::Str(s) => Some(s.to_string()),
            Value::Unknown => None,
            Value::Sensitive(_) => {
                self.report(
                    Diagnostic::error("E0306", span, "a sensitive value cannot be used as a name")
                        .with_help("names are printed in plans and logs; use a non-secret value"),
                );
                None
            }
            other => {
                self.report(
                    Diagnostic::error("E0301", span, format!("a label must be a string, found {}", other.type_name()))
                        .with_help("write the name as a string, e.g. \"${…}\" to interpolate"),
                );
                None
            }
        }
    }

    fn declare_instance(&mut self, kind: Kind, b: &'p Block, scope: &Scope<'p>) {
        if !self.budget.charge(RESOURCE_WORK) {
            self.over_budget(Exceeded::Work, b.kind_span());
            return;
        }
        let schema = kind.schema();
        let name = match (&b.label, schema.label) {
            (Some(l), LabelRule::None) => {
                self.report(
                    Diagnostic::error("E0301", l.span(), format!("a `{}` block takes no label", kind.as_str()))
                        .with_help("remove the label"),
                );
                return;
            }
            (Some(l), _) => match self.label_value(l, scope) {
                Some(n) => n,
                None => return,
            },
            (None, LabelRule::Required) => {
                self.report(
                    Diagnostic::error("E0302", b.kind_span(), format!("a `{}` block needs a name", kind.as_str()))
                        .with_help(format!("write `{} \"name\" {{ … }}`", kind.as_str())),
                );
                return;
            }
            (None, _) => format!("#{}", self.instances.len()),
        };
        let label_span = b.label.as_ref().map_or(b.kind_span(), Label::span);
        let addr = Address { kind, name };
        if let Some(first) = self.index.get(&addr).and_then(|i| self.instances.get(*i)) {
            let first_span = first.label_span;
            // When the first declaration came from a template instance, point at that instance
            // too: the template body alone does not say which instance got there first.
            let first_via =
                first.via.first().filter(|v| self.via.first().map(|w| w.span) != Some(v.span)).map(|v| (v.span, v.template.clone()));
            let help = if says_existing(first.block) != says_existing(b) {
                "a resource is either managed or `existing`, not both: remove the managed block to use the live one as it is, or remove the `existing` one to manage it"
            } else {
                "resource names are unique per kind; rename or remove one"
            };
            let mut d = Diagnostic::error("E0203", label_span, format!("`{addr}` is declared twice")).with_help(help);
            if first_span != label_span {
                d = d.with_label(first_span, "first declared here");
            }
            if let Some((span, template)) = first_via {
                d = d.with_label(span, format!("first declared by this instance of template `{template}`"));
            }
            self.report(d);
            return;
        }
        self.index.insert(addr.clone(), self.instances.len());
        self.instances.push(Instance { addr, label_span, block: b, via: self.via.clone(), scope: scope.clone() });
        self.states.push(ResState::New);
    }

    fn instantiate(&mut self, tpl: &'p Template, tpl_module: ModuleId, tpl_file: FileId, b: &'p Block, scope: &Scope<'p>) {
        let key = (tpl_module, tpl.name.name.clone());
        if self.template_stack.contains(&key) {
            self.report(
                Diagnostic::error("E0704", b.kind_span(), format!("template `{}` instantiates itself", tpl.name.name))
                    .with_label(tpl.name.span, "template declared here")
                    .with_help("templates may not be recursive"),
            );
            return;
        }
        let Some(label) = &b.label else {
            self.report(
                Diagnostic::error("E0705", b.kind_span(), format!("an instance of template `{}` needs a name", tpl.name.name))
                    .with_help(format!("write `{} \"name\" {{ … }}`", b.kind_name())),
            );
            return;
        };
        let Some(name) = self.label_value(label, scope) else { return };
        // Arguments: the label binds the first parameter, attributes bind the others.
        let mut args: Vec<(String, Span, &'p cairn_lang::ast::Expr)> = Vec::new();
        for stmt in &b.body {
            match stmt {
                Stmt::Attr(a) => {
                    if let Some((_, first, _)) = args.iter().find(|(n, _, _)| *n == a.name.name) {
                        let first = *first;
                        self.report(
                            Diagnostic::error("E0204", a.name.span, format!("argument `{}` is set twice", a.name.name))
                                .with_label(first, "first set here")
                                .with_help("remove one of them"),
                        );
                        continue;
                    }
                    let is_param = tpl.params.iter().skip(1).any(|p| p.name.name == a.name.name);
                    if !is_param {
                        let names: Vec<&str> = tpl.params.iter().skip(1).map(|p| p.name.name.as_str()).collect();
                        let help = match did_you_mean(&a.name.name, names.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("template `{}` takes {}", tpl.name.name, names.join(", ")),
                        };
                        self.report(
                            Diagnostic::error(
                                "E0206",
                                a.name.span,
                                format!("template `{}` has no parameter `{}`", tpl.name.name, a.name.name),
                            )
                            .with_label(tpl.name.span, "template declared here")
                            .with_help(help),
                        );
                        continue;
                    }
                    args.push((a.name.name.clone(), a.name.span, &a.value));
                }
                other => {
                    self.report(
                        Diagnostic::error(
                            "E0705",
                            other.span(),
                            format!("an instance of template `{}` accepts only its parameters as attributes", tpl.name.name),
                        )
                        .with_help(
                            "set the template's parameters with `name = value`; blocks, `for` and `if` belong in the template itself",
                        ),
                    );
                }
            }
        }
        let via_entry = Via { span: b.kind_span().to(label.span()), template: tpl.name.name.clone() };
        let mut via_chain: Vec<Via> = self.via.as_ref().clone();
        via_chain.push(via_entry);
        let via = Rc::new(via_chain);
        let mut tscope = self.module_scope(tpl_module, tpl_file);
        let mut missing = Vec::new();
        for (i, param) in tpl.params.iter().enumerate() {
            let binding = if i == 0 {
                ready(Value::str(&name))
            } else if let Some((_, _, expr)) = args.iter().find(|(n, _, _)| *n == param.name.name) {
                lazy(expr, scope.clone(), self.via.clone())
            } else if let Some(default) = &param.default {
                lazy(default, tscope.clone(), via.clone())
            } else {
                missing.push(param.name.name.clone());
                ready(Value::Unknown)
            };
            tscope = tscope.with(&param.name.name, binding);
        }
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
            self.report(
                Diagnostic::error(
                    "E0302",
                    b.kind_span(),
                    format!(
                        "missing {} for template `{}`: {}",
                        if missing.len() == 1 { "argument" } else { "arguments" },
                        tpl.name.name,
                        list.join(", ")
                    ),
                )
                .with_label(tpl.name.span, "template declared here")
                .with_help(format!("set {} in the block", list.join(", "))),
            );
        }
        let outer = std::mem::replace(&mut self.via, via);
        self.template_stack.push(key);
        self.expand(&tpl.body, &tscope);
        self.template_stack.pop();
        self.via = outer;
    }
}

fn ready<'p>(v: Value) -> Binding<'p> {
    Binding::Ready(Var { value: v, deps: Rc::new(Vec::new()) })
}

fn lazy<'p>(expr: &'p cairn_lang::ast::Expr, scope: Scope<'p>, via: Rc<Vec<Via>>) -> Binding<'p> {
    Binding::Lazy(Rc::new(Thunk { expr, scope, via, cell: RefCell::new(None), busy: Cell::new(false) }))
}

pub(super) fn bind_ready<'p>(v: Value) -> Binding<'p> {
    ready(v)
}

/// Whether a block literally says `existing = true`.
fn says_existing(b: &Block) -> bool {
    b.body
        .iter()
        .any(|s| matches!(s, Stmt::Attr(a) if a.name.name == "existing" && matches!(a.value.kind, cairn_lang::ast::ExprKind::Bool(true))))
}
