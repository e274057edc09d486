//! Evaluation: turns the parsed program into resource instances with evaluated bodies.
//!
//! Two phases. *Expansion* walks top-level items, runs `for`/`if`, instantiates templates and
//! names every resource; references to resources are refused there (labels and collections
//! are evaluated before resources exist). *Evaluation* computes each resource's body on demand
//! (memoized), so `pool.fast.size` can read another resource. Every reference evaluated while
//! computing a resource, a `let` or a template argument is recorded as a dependency with its
//! span; lets and arguments carry their dependencies to where they are used.

mod body;
mod budget;
mod expand;
mod expr;
mod functions;
pub use functions::FUNCTIONS;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::rc::Rc;

use cairn_lang::ast::{Block, Expr, ExprKind, Let, Stmt, Template};
use cairn_lang::{Diagnostic, FileId, Span};

use crate::loader::{Environment, SourceLoader};
use crate::program::Program;
use crate::schema::Kind;
use crate::value::{Address, ModuleId, Value};

pub use body::{AttrValue, BlockValue, BodyValue};
pub use functions::is_sensitive_env_name;

/// How unset `env()` variables are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `cairn check`: an unset variable is an unknown value and a warning.
    Check,
    /// `render`, `plan`, `apply`: an unset variable is an error.
    Render,
}

/// A dependency edge made by a reference: the target and where the reference is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dep {
    pub target: Address,
    pub span: Span,
}

/// A template instantiation step, for diagnostics inside template bodies.
#[derive(Clone, Debug)]
pub struct Via {
    pub span: Span,
    pub template: String,
}

/// One declared resource.
#[derive(Debug)]
pub struct Instance<'p> {
    pub addr: Address,
    pub label_span: Span,
    pub block: &'p Block,
    /// The template instances this resource was made by, innermost last.
    pub via: Rc<Vec<Via>>,
    scope: Scope<'p>,
}

/// An evaluated resource.
#[derive(Debug, Clone)]
pub struct Resource {
    pub addr: Address,
    pub label_span: Span,
    pub block_span: Span,
    pub kind_span: Span,
    pub body: Rc<BodyValue>,
    pub deps: Vec<Dep>,
    pub via: Rc<Vec<Via>>,
}

impl Resource {
    /// Whether the block says `existing = true`: the stack uses the live resource and never
    /// writes it (LANGUAGE.md §10).
    pub fn is_existing(&self) -> bool {
        self.addr.kind.may_exist() && crate::access::bool_of(&self.body, "existing") == Some(true)
    }
}

/// The result of evaluation.
#[derive(Debug, Default)]
pub struct Evaluated {
    pub resources: Vec<Resource>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A variable's value and the references that produced it.
#[derive(Clone, Debug)]
struct Var {
    value: Value,
    deps: Rc<Vec<Dep>>,
}

/// A lazily evaluated template argument or default.
#[derive(Debug)]
struct Thunk<'p> {
    expr: &'p Expr,
    scope: Scope<'p>,
    via: Rc<Vec<Via>>,
    cell: RefCell<Option<Var>>,
    busy: Cell<bool>,
}

#[derive(Clone, Debug)]
enum Binding<'p> {
    Ready(Var),
    Lazy(Rc<Thunk<'p>>),
}

#[derive(Debug)]
struct Frame<'p> {
    name: String,
    binding: Binding<'p>,
    parent: Option<Rc<Frame<'p>>>,
}

/// Variables in scope: a module's declarations plus a chain of bound names.
#[derive(Clone, Debug)]
struct Scope<'p> {
    module: ModuleId,
    file: FileId,
    frames: Option<Rc<Frame<'p>>>,
}

impl<'p> Scope<'p> {
    fn with(&self, name: &str, binding: Binding<'p>) -> Scope<'p> {
        Scope {
            module: self.module,
            file: self.file,
            frames: Some(Rc::new(Frame { name: name.to_string(), binding, parent: self.frames.clone() })),
        }
    }

    fn lookup(&self, name: &str) -> Option<Binding<'p>> {
        let mut f = self.frames.as_ref();
        while let Some(frame) = f {
            if frame.name == name {
                return Some(frame.binding.clone());
            }
            f = frame.parent.as_ref();
        }
        None
    }
}

#[derive(Debug)]
enum SlotState {
    New,
    Busy,
    Done(Var),
}

#[derive(Debug)]
struct LetSlot<'p> {
    decl: &'p Let,
    file: FileId,
    state: SlotState,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Expanding,
    Evaluating,
}

#[derive(Debug)]
enum ResState {
    New,
    Busy,
    Done(Rc<BodyValue>, Vec<Dep>),
}

/// The evaluator's state for one compilation.
pub(crate) struct Evaluator<'p> {
    prog: &'p Program,
    loader: &'p dyn SourceLoader,
    env: &'p dyn Environment,
    mode: Mode,
    diags: Vec<Diagnostic>,
    lets: Vec<BTreeMap<String, LetSlot<'p>>>,
    templates: Vec<BTreeMap<String, (&'p Template, FileId)>>,
    instances: Vec<Instance<'p>>,
    index: HashMap<Address, usize>,
    states: Vec<ResState>,
    phase: Phase,
    /// Dependency collectors, innermost last.
    collectors: Vec<Vec<Dep>>,
    /// Template instantiation context of what is being evaluated.
    via: Rc<Vec<Via>>,
    /// Templates being expanded, for recursion detection.
    template_stack: Vec<(ModuleId, String)>,
    /// Lets being evaluated, for cycle reports.
    let_stack: Vec<(ModuleId, String)>,
    /// Errors reported that make a cached result unreliable (phase errors).
    phase_errors: usize,
    depth: u32,
    /// Work, value size and value depth limits (see `budget`).
    budget: budget::Budget,
}

/// Evaluates a loaded program.
pub fn evaluate(prog: &Program, loader: &dyn SourceLoader, env: &dyn Environment, mode: Mode) -> Evaluated {
    let mut ev = Evaluator::new(prog, loader, env, mode);
    ev.declare();
    ev.expand_all();
    ev.phase = Phase::Evaluating;
    let mut resources = Vec::new();
    for i in 0..ev.instances.len() {
        let (body, deps) = ev.resource_body(i);
        if let Some(inst) = ev.instances.get(i) {
            resources.push(Resource {
                addr: inst.addr.clone(),
                label_span: inst.label_span,
                block_span: inst.block.span,
                kind_span: inst.block.kind_span(),
                body,
                deps,
                via: inst.via.clone(),
            });
        }
    }
    // Lets that nothing uses are checked too: an unknown name or a cycle there is still an error.
    let unused: Vec<(ModuleId, String, Span)> = ev
        .lets
        .iter()
        .enumerate()
        .filter(|(m, _)| prog.module(ModuleId(*m)).is_some_and(|md| !md.is_std))
        .flat_map(|(m, lets)| {
            lets.iter().filter(|(_, s)| matches!(s.state, SlotState::New)).map(move |(n, s)| (ModuleId(m), n.clone(), s.decl.name.span))
        })
        .collect();
    for (m, name, span) in unused {
        ev.let_value(m, &name, span);
    }
    Evaluated { resources, diagnostics: ev.diags }
}

/// The value of every `let` of the stack's own modules (not `std/`), evaluated as [`evaluate`]
/// evaluates them: `(module, name, value)`. For editors' hovers: a value may be sensitive, so
/// print it only with [`Value::display`].
pub fn let_values(prog: &Program, loader: &dyn SourceLoader, env: &dyn Environment, mode: Mode) -> Vec<(ModuleId, String, Value)> {
    let mut ev = Evaluator::new(prog, loader, env, mode);
    ev.declare();
    ev.expand_all();
    ev.phase = Phase::Evaluating;
    let names: Vec<(ModuleId, String, Span)> = ev
        .lets
        .iter()
        .enumerate()
        .filter(|(m, _)| prog.module(ModuleId(*m)).is_some_and(|md| !md.is_std))
        .flat_map(|(m, lets)| lets.iter().map(move |(n, s)| (ModuleId(m), n.clone(), s.decl.name.span)))
        .collect();
    names.into_iter().filter_map(|(m, n, span)| ev.let_value(m, &n, span).map(|v| (m, n, v))).collect()
}

impl<'p> Evaluator<'p> {
    fn new(prog: &'p Program, loader: &'p dyn SourceLoader, env: &'p dyn Environment, mode: Mode) -> Evaluator<'p> {
        Evaluator {
            prog,
            loader,
            env,
            mode,
            diags: Vec::new(),
            lets: Vec::new(),
            templates: Vec::new(),
            instances: Vec::new(),
            index: HashMap::new(),
            states: Vec::new(),
            phase: Phase::Expanding,
            collectors: Vec::new(),
            via: Rc::new(Vec::new()),
            template_stack: Vec::new(),
            let_stack: Vec::new(),
            phase_errors: 0,
            depth: 0,
            budget: budget::Budget::default(),
        }
    }

    /// Reports a diagnostic, adding the template instantiation labels of the current context.
    fn report(&mut self, d: Diagnostic) {
        self.diags.push(with_instance_labels(d, &self.via));
    }

    fn error(&mut self, code: &'static str, span: Span, msg: impl Into<String>, help: impl Into<String>) -> Value {
        self.report(Diagnostic::error(code, span, msg).with_help(help));
        Value::Unknown
    }

    /// Collects every module's lets and templates; duplicates are errors.
    fn declare(&mut self) {
        for (mi, module) in self.prog.modules.iter().enumerate() {
            let mut lets: BTreeMap<String, LetSlot<'p>> = BTreeMap::new();
            let mut templates: BTreeMap<String, (&'p Template, FileId)> = BTreeMap::new();
            let mut spans: BTreeMap<String, Span> = BTreeMap::new();
            for fid in &module.files {
                let Some(file) = self.prog.file(*fid) else { continue };
                for stmt in &file.stmts {
                    let (name, span) = match stmt {
                        Stmt::Let(l) => (&l.name, l.name.span),
                        Stmt::Template(t) => (&t.name, t.name.span),
                        _ => continue,
                    };
                    if name.name.is_empty() {
                        continue;
                    }
                    if let Some(first) = spans.get(&name.name) {
                        let first = *first;
                        self.diags.push(
                            Diagnostic::error("E0204", span, format!("`{}` is declared twice in this module", name.name))
                                .with_label(first, "first declared here")
                                .with_help("rename or remove one of them; lets and templates share one namespace per module"),
                        );
                        continue;
                    }
                    spans.insert(name.name.clone(), span);
                    match stmt {
                        Stmt::Let(l) => {
                            lets.insert(l.name.name.clone(), LetSlot { decl: l, file: *fid, state: SlotState::New });
                        }
                        Stmt::Template(t) => {
                            if Kind::from_name(&t.name.name).is_some() {
                                self.diags.push(
                                    Diagnostic::error(
                                        "E0204",
                                        t.name.span,
                                        format!("template `{}` has the name of a built-in block kind", t.name.name),
                                    )
                                    .with_help("choose another name for the template"),
                                );
                            }
                            templates.insert(t.name.name.clone(), (t, *fid));
                        }
                        _ => {}
                    }
                }
            }
            let _ = mi;
            self.lets.push(lets);
            self.templates.push(templates);
        }
    }

    fn module_scope(&self, module: ModuleId, file: FileId) -> Scope<'p> {
        Scope { module, file, frames: None }
    }

    fn push_collector(&mut self) {
        self.collectors.push(Vec::new());
    }

    fn pop_collector(&mut self) -> Vec<Dep> {
        self.collectors.pop().unwrap_or_default()
    }

    fn record(&mut self, deps: &[Dep]) {
        if let Some(c) = self.collectors.last_mut() {
            for d in deps {
                if !c.contains(d) {
                    c.push(d.clone());
                }
            }
        }
    }

    /// Evaluates a `let` of `module` (memoized), recording its dependencies in the caller.
    fn let_value(&mut self, module: ModuleId, name: &str, use_span: Span) -> Option<Value> {
        let slot = self.lets.get_mut(module.0)?.get_mut(name)?;
        match &slot.state {
            SlotState::Done(var) => {
                let var = var.clone();
                self.record(&var.deps);
                return Some(var.value);
            }
            SlotState::Busy => {
                let from = self.let_stack.iter().position(|(m, n)| *m == module && n == name).unwrap_or(0);
                let mut names: Vec<String> = self.let_stack.iter().skip(from).map(|(_, n)| n.clone()).collect();
                names.push(name.to_string());
                let d = Diagnostic::error("E0208", use_span, format!("cycle between lets: {}", names.join(" → ")))
                    .with_help("a let cannot depend on itself, directly or through other lets");
                self.report(d);
                return Some(Value::Unknown);
            }
            SlotState::New => {}
        }
        slot.state = SlotState::Busy;
        let decl = slot.decl;
        let file = slot.file;
        let scope = self.module_scope(module, file);
        self.let_stack.push((module, name.to_string()));
        let errors_before = self.phase_errors;
        let outer_via = std::mem::replace(&mut self.via, Rc::new(Vec::new()));
        self.push_collector();
        let value = self.eval(&decl.value, &scope);
        let deps = self.pop_collector();
        self.via = outer_via;
        self.let_stack.pop();
        let var = Var { value: value.clone(), deps: Rc::new(deps) };
        if let Some(slot) = self.lets.get_mut(module.0).and_then(|m| m.get_mut(name)) {
            slot.state = if self.phase_errors == errors_before { SlotState::Done(var.clone()) } else { SlotState::New };
        }
        self.record(&var.deps);
        Some(value)
    }

    /// Where the value of `expr` was written when `expr` only names a template parameter: the
    /// argument's (or default's) expression, followed through parameters passed on by nested
    /// templates. `None` for any other expression.
    fn origin_of(&self, expr: &'p Expr, scope: &Scope<'p>) -> Option<Span> {
        let (mut expr, mut scope) = (expr, scope.clone());
        let mut origin = None;
        // Bounded: a chain of templates is short, and a cycle is reported elsewhere (E0208).
        for _ in 0..32 {
            let ExprKind::Name(id) = &expr.kind else { break };
            let Some(Binding::Lazy(thunk)) = scope.lookup(&id.name) else { break };
            origin = Some(thunk.expr.span);
            expr = thunk.expr;
            scope = thunk.scope.clone();
        }
        origin
    }

    /// Forces a lazy binding.
    fn force(&mut self, thunk: &Rc<Thunk<'p>>, use_span: Span) -> Value {
        if let Some(var) = thunk.cell.borrow().as_ref() {
            let var = var.clone();
            self.record(&var.deps);
            return var.value;
        }
        if thunk.busy.get() {
            return self.error(
                "E0208",
                use_span,
                "this template parameter depends on itself",
                "a parameter's default cannot use the parameter itself",
            );
        }
        thunk.busy.set(true);
        let errors_before = self.phase_errors;
        let outer_via = std::mem::replace(&mut self.via, thunk.via.clone());
        self.push_collector();
        let value = self.eval(thunk.expr, &thunk.scope);
        let deps = self.pop_collector();
        self.via = outer_via;
        thunk.busy.set(false);
        let var = Var { value: value.clone(), deps: Rc::new(deps) };
        if self.phase_errors == errors_before {
            *thunk.cell.borrow_mut() = Some(var.clone());
        }
        self.record(&var.deps);
        value
    }

    /// The evaluated body of instance `i` (memoized) and its dependencies.
    fn resource_body(&mut self, i: usize) -> (Rc<BodyValue>, Vec<Dep>) {
        match self.states.get(i) {
            Some(ResState::Done(b, d)) => return (b.clone(), d.clone()),
            Some(ResState::Busy) => {
                let span = self.instances.get(i).map(|x| x.label_span).unwrap_or_default();
                let name = self.instances.get(i).map(|x| x.addr.to_string()).unwrap_or_default();
                self.report(
                    Diagnostic::error("E0208", span, format!("`{name}` reads its own attributes through other resources"))
                        .with_help("break the cycle: one of the attribute reads must be a literal value"),
                );
                return (Rc::new(BodyValue::default()), Vec::new());
            }
            _ => {}
        }
        if let Some(s) = self.states.get_mut(i) {
            *s = ResState::Busy;
        }
        let Some(inst) = self.instances.get(i) else { return (Rc::new(BodyValue::default()), Vec::new()) };
        let block = inst.block;
        let scope = inst.scope.clone();
        let via = inst.via.clone();
        let outer_via = std::mem::replace(&mut self.via, via);
        self.push_collector();
        let body = self.eval_body(&block.body, &scope);
        let deps = self.pop_collector();
        self.via = outer_via;
        let body = Rc::new(body);
        if let Some(s) = self.states.get_mut(i) {
            *s = ResState::Done(body.clone(), deps.clone());
        }
        (body, deps)
    }

    /// The directory of a file, for `file()` paths.
    fn file_dir(&self, file: FileId) -> &Path {
        self.prog.sources.get(file).and_then(|f| f.path.parent()).unwrap_or(Path::new("."))
    }
}

/// Adds a label on each template instance (innermost last in `via`) that made the code a
/// diagnostic points at, so it names both the template body and the instantiating block.
pub fn with_instance_labels(mut d: Diagnostic, via: &[Via]) -> Diagnostic {
    for v in via.iter().rev() {
        d = d.with_label(v.span, format!("in this instance of template `{}`", v.template));
    }
    d
}

/// Suggests the closest of `candidates` to `name`, if any is close enough.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().filter(|c| *c != name).collect();
    let similar = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c);
    // Jaro-Winkler misses swapped letters in short names (`wbe` for `web`): fall back to a
    // small edit distance that counts a transposition as one edit.
    similar.or_else(|| {
        let len = name.chars().count();
        if len < 3 {
            return None;
        }
        let limit = len / 3;
        candidates.iter().map(|c| (strsim::osa_distance(name, c), *c)).filter(|(d, _)| *d <= limit).min_by_key(|(d, _)| *d).map(|(_, c)| c)
    })
}
