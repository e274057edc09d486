//! Expressions: names, references, operators, strings, collections and comprehensions.

use std::collections::BTreeMap;
use std::rc::Rc;

use cairn_lang::ast::{BinOp, Expr, ExprKind, Ident, MapKey, StrPart, UnOp};
use cairn_lang::{Diagnostic, Span, MAX_DEPTH};

use super::budget::{Exceeded, MAX_SIZE, MAX_VALUE_DEPTH, MAX_WORK};
use super::expand::bind_ready;
use super::functions::shown;
use super::{did_you_mean, Binding, Evaluator, Phase, Scope};
use crate::schema::Kind;
use crate::value::{format_float, Address, Ref, Value};
use cairn_core::quantity::Quantity;

/// The largest list or map an expression may build.
pub const MAX_COLLECTION: usize = 1_000_000;

enum Num {
    I(i64),
    F(f64),
    Q(Quantity),
}

impl<'p> Evaluator<'p> {
    /// Evaluates an expression. Errors are reported and yield `Value::Unknown`.
    pub(super) fn eval(&mut self, e: &'p Expr, scope: &Scope<'p>) -> Value {
        self.depth = self.depth.saturating_add(1);
        let v = if self.depth > MAX_DEPTH.saturating_mul(4) {
            self.error("E0106", e.span, "expression nested too deeply", "split it with `let`s")
        } else if self.budget.is_spent() {
            Value::Unknown
        } else if !self.budget.charge(1) {
            self.over_budget(Exceeded::Work, e.span)
        } else {
            let v = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.eval_inner(e, scope));
            match self.budget.check(&v) {
                Ok(()) => v,
                Err(x) => self.over_budget(x, e.span),
            }
        };
        self.depth = self.depth.saturating_sub(1);
        v
    }

    /// Reports a limit of `budget` passed at `span` (work: once per compilation).
    pub(super) fn over_budget(&mut self, x: Exceeded, span: Span) -> Value {
        match x {
            Exceeded::Work if !self.budget.first_report() => Value::Unknown,
            Exceeded::Work => self.error(
                "E0702",
                span,
                format!("evaluation takes more than {MAX_WORK} steps"),
                "the stack computes too much: generate fewer or smaller values",
            ),
            Exceeded::Size => self.error(
                "E0702",
                span,
                format!("value of more than {MAX_SIZE} elements (counting repeated parts and long strings)"),
                "build smaller values; a value that contains another twice counts it twice",
            ),
            Exceeded::Depth => {
                self.error("E0702", span, format!("value nested more than {MAX_VALUE_DEPTH} levels deep"), "flatten the value")
            }
        }
    }

    fn eval_inner(&mut self, e: &'p Expr, scope: &Scope<'p>) -> Value {
        match &e.kind {
            ExprKind::Null => Value::Null,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Quantity { number, suffix } => match Quantity::from_parts(number, suffix) {
                Ok(q) => Value::Quantity(q),
                Err(err) => self.error("E0701", e.span, format!("invalid quantity: {err}"), "quantities range up to about 9 exa-units"),
            },
            ExprKind::Str(parts) | ExprKind::Heredoc { parts, .. } => self.string(parts, scope),
            ExprKind::Name(id) => match self.variable(&id.name, scope, id.span) {
                Some(v) => v,
                None => self.unknown_name(&id.name, scope, id.span),
            },
            ExprKind::Paren(inner) => self.eval(inner, scope),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i, scope));
                }
                Value::list(out)
            }
            ExprKind::Map(entries) => {
                let mut out = BTreeMap::new();
                let mut spans: BTreeMap<String, Span> = BTreeMap::new();
                for entry in entries {
                    let Some(key) = self.map_key(&entry.key, scope) else {
                        let _ = self.eval(&entry.value, scope);
                        continue;
                    };
                    let v = self.eval(&entry.value, scope);
                    if let Some(first) = spans.get(&key) {
                        let first = *first;
                        self.report(
                            Diagnostic::error("E0204", entry.key.span(), format!("key `{key}` appears twice in the map"))
                                .with_label(first, "first here")
                                .with_help("remove one of the entries"),
                        );
                        continue;
                    }
                    spans.insert(key.clone(), entry.key.span());
                    out.insert(key, v);
                }
                Value::map(out)
            }
            ExprKind::Unary(op, inner) => {
                let v = self.eval(inner, scope);
                self.unary(*op, v, e.span)
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, scope, e.span),
            ExprKind::Cond(c, a, b) => {
                let cv = self.eval(c, scope);
                match self.condition(&cv, c.span) {
                    Some(true) => self.eval(a, scope),
                    Some(false) => self.eval(b, scope),
                    None => Value::Unknown,
                }
            }
            ExprKind::Field(base, field) => {
                if let Some(kind) = self.kind_name(base, scope) {
                    return self.reference(kind, &field.name, e.span);
                }
                let v = self.eval(base, scope);
                self.field(v, &field.name, field.span)
            }
            ExprKind::Index(base, idx) => {
                if let Some(kind) = self.kind_name(base, scope) {
                    let iv = self.eval(idx, scope);
                    let iv = self.plain(iv);
                    return match iv.unwrap_sensitive() {
                        (Value::Str(s), false) => {
                            let s = s.to_string();
                            self.reference(kind, &s, e.span)
                        }
                        (_, true) => self.error("E0306", idx.span, "a sensitive value cannot name a resource", "use a non-secret value"),
                        (Value::Unknown, _) => Value::Unknown,
                        (other, _) => {
                            let t = other.type_name();
                            self.error(
                                "E0301",
                                idx.span,
                                format!("`{}[…]` needs a string name, found {t}", kind.as_str()),
                                "write the name as a string",
                            )
                        }
                    };
                }
                let bv = self.eval(base, scope);
                let iv = self.eval(idx, scope);
                self.index(bv, iv, idx.span)
            }
            ExprKind::Call(name, args) => self.call(name, args, scope, e.span),
            ExprKind::ListComp { key, value, collection, body, cond } => {
                let coll = self.eval(collection, scope);
                let mut out = Vec::new();
                for (k, v) in self.iteration(&coll, collection.span) {
                    let inner = match self.comprehension_scope(scope, key.as_ref(), value, k, v, cond.as_deref()) {
                        Some(Some(inner)) => inner,
                        Some(None) => continue,
                        None => return Value::Unknown,
                    };
                    out.push(self.eval(body, &inner));
                }
                Value::list(out)
            }
            ExprKind::MapComp { key, value, collection, key_expr, value_expr, cond } => {
                let coll = self.eval(collection, scope);
                let mut out = BTreeMap::new();
                for (k, v) in self.iteration(&coll, collection.span) {
                    let inner = match self.comprehension_scope(scope, key.as_ref(), value, k, v, cond.as_deref()) {
                        Some(Some(inner)) => inner,
                        Some(None) => continue,
                        None => return Value::Unknown,
                    };
                    let kv = self.eval(key_expr, &inner);
                    let Some(ks) = self.key_string(kv, key_expr.span) else { return Value::Unknown };
                    let vv = self.eval(value_expr, &inner);
                    if out.contains_key(&ks) {
                        return self.error(
                            "E0204",
                            key_expr.span,
                            format!("the `for` expression makes the key `{ks}` twice"),
                            "make the keys unique, or filter with `if`",
                        );
                    }
                    out.insert(ks, vv);
                }
                Value::map(out)
            }
            ExprKind::Error => Value::Unknown,
        }
    }

    /// Looks up a variable: bound names, then the module's lets, then import aliases.
    pub(super) fn variable(&mut self, name: &str, scope: &Scope<'p>, span: Span) -> Option<Value> {
        if let Some(b) = scope.lookup(name) {
            return Some(match b {
                Binding::Ready(var) => {
                    self.record(&var.deps);
                    var.value
                }
                Binding::Lazy(thunk) => self.force(&thunk, span),
            });
        }
        if self.lets.get(scope.module.0).is_some_and(|l| l.contains_key(name)) {
            return self.let_value(scope.module, name, span);
        }
        if let Some((m, _)) = self.prog.module(scope.module).and_then(|m| m.imports.get(name)) {
            return Some(Value::Module(*m));
        }
        None
    }

    fn is_variable(&self, name: &str, scope: &Scope<'p>) -> bool {
        scope.lookup(name).is_some()
            || self.lets.get(scope.module.0).is_some_and(|l| l.contains_key(name))
            || self.prog.module(scope.module).is_some_and(|m| m.imports.contains_key(name))
    }

    /// If `base` is a bare block kind (not shadowed by a variable), that kind.
    fn kind_name(&mut self, base: &Expr, scope: &Scope<'p>) -> Option<Kind> {
        let ExprKind::Name(id) = &base.kind else { return None };
        if self.is_variable(&id.name, scope) {
            return None;
        }
        Kind::from_name(&id.name)
    }

    fn unknown_name(&mut self, name: &str, scope: &Scope<'p>, span: Span) -> Value {
        if Kind::from_name(name).is_some() {
            return self.error(
                "E0201",
                span,
                format!("`{name}` is a block kind, not a value"),
                format!("reference a resource as `{name}.NAME` or `{name}[\"name\"]`"),
            );
        }
        if self.templates.get(scope.module.0).is_some_and(|t| t.contains_key(name)) {
            return self.error(
                "E0201",
                span,
                format!("`{name}` is a template, not a value"),
                format!("instantiate it as a block: `{name} \"name\" {{ … }}`"),
            );
        }
        let plain = "declare it with `let`, or check the spelling".to_string();
        if !self.budget.suggest(self.lets.get(scope.module.0).map_or(0, BTreeMap::len)) {
            return self.error("E0201", span, format!("unknown name `{name}`"), plain);
        }
        let mut candidates: Vec<String> = Vec::new();
        let mut f = scope.frames.as_ref();
        while let Some(frame) = f {
            candidates.push(frame.name.clone());
            f = frame.parent.as_ref();
        }
        if let Some(l) = self.lets.get(scope.module.0) {
            candidates.extend(l.keys().cloned());
        }
        if let Some(m) = self.prog.module(scope.module) {
            candidates.extend(m.imports.keys().cloned());
        }
        let help = match did_you_mean(name, candidates.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => plain,
        };
        self.error("E0201", span, format!("unknown name `{name}`"), help)
    }

    /// The scope of one comprehension element: `Some(Some(scope))` to include it,
    /// `Some(None)` when its condition is false, `None` when the condition is unknown.
    fn comprehension_scope(
        &mut self,
        scope: &Scope<'p>,
        key: Option<&'p Ident>,
        value: &'p Ident,
        k: Value,
        v: Value,
        cond: Option<&'p Expr>,
    ) -> Option<Option<Scope<'p>>> {
        let mut inner = scope.clone();
        if let Some(key) = key {
            inner = inner.with(&key.name, bind_ready(k));
        }
        inner = inner.with(&value.name, bind_ready(v));
        if let Some(c) = cond {
            let cv = self.eval(c, &inner);
            return match self.condition(&cv, c.span) {
                Some(true) => Some(Some(inner)),
                Some(false) => Some(None),
                None => None,
            };
        }
        Some(Some(inner))
    }

    /// A reference `KIND.NAME`: checked, recorded as a dependency.
    fn reference(&mut self, kind: Kind, name: &str, span: Span) -> Value {
        if self.phase == Phase::Expanding {
            self.phase_errors = self.phase_errors.saturating_add(1);
            return self.error(
                "E0209",
                span,
                format!("the reference `{}.{name}` cannot be used here", kind.as_str()),
                "labels, `for` collections and top-level `if` conditions are evaluated before resources exist; use lets and parameters there",
            );
        }
        if !kind.addressable() {
            return self.error(
                "E0202",
                span,
                format!("`{}` blocks cannot be referenced", kind.as_str()),
                "reference a resource such as `pool.NAME`",
            );
        }
        let addr = Address { kind, name: name.to_string() };
        if !self.index.contains_key(&addr) && !self.budget.suggest(self.instances.len()) {
            return self.error(
                "E0202",
                span,
                format!("unknown resource `{addr}`"),
                format!("check the name; resources are referenced as `{}.NAME`", kind.as_str()),
            );
        }
        if !self.index.contains_key(&addr) {
            let names: Vec<&str> = self.instances.iter().filter(|i| i.addr.kind == kind).map(|i| i.addr.name.as_str()).collect();
            let help = match did_you_mean(name, names.iter().copied()) {
                Some(s) => format!("did you mean `{}.{s}`?", kind.as_str()),
                None if names.is_empty() => {
                    format!("the stack declares no {} yet; declare `{} \"{name}\" {{ … }}`", kind.as_str(), kind.as_str())
                }
                None => format!("declared: {}", names.iter().map(|n| format!("{}.{n}", kind.as_str())).collect::<Vec<_>>().join(", ")),
            };
            return self.error("E0202", span, format!("unknown resource `{addr}`"), help);
        }
        self.record(&[super::Dep { target: addr, span }]);
        Value::Ref(Rc::new(Ref { kind, name: name.to_string(), key: None }))
    }

    /// `value.field`.
    fn field(&mut self, v: Value, field: &str, field_span: Span) -> Value {
        match v {
            Value::Unknown => Value::Unknown,
            Value::Sensitive(inner) => match *inner {
                // Neither the keys of a sensitive map nor a suggestion from them are shown.
                Value::Map(m) if !m.contains_key(field) => self.error(
                    "E0206",
                    field_span,
                    format!("the map has no key `{field}`"),
                    "check the key (the map is sensitive, so its keys are not listed)",
                ),
                inner => {
                    let r = self.field(inner, field, field_span);
                    Value::sensitive_if(r, true)
                }
            },
            Value::Map(m) => match m.get(field) {
                Some(v) => v.clone(),
                None if !self.budget.suggest(m.len()) => {
                    self.error("E0206", field_span, format!("the map has no key `{field}`"), "check the key")
                }
                None => {
                    let help = match did_you_mean(field, m.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("the map's keys are {}", m.keys().cloned().collect::<Vec<_>>().join(", ")),
                    };
                    self.error("E0206", field_span, format!("the map has no key `{field}`"), help)
                }
            },
            Value::Module(m) => {
                if self.lets.get(m.0).is_some_and(|l| l.contains_key(field)) {
                    return self.let_value(m, field, field_span).unwrap_or(Value::Unknown);
                }
                if self.templates.get(m.0).is_some_and(|t| t.contains_key(field)) {
                    return self.error(
                        "E0201",
                        field_span,
                        format!("`{field}` is a template, not a value"),
                        "instantiate it as a block: `alias.template \"name\" { … }`",
                    );
                }
                self.error(
                    "E0201",
                    field_span,
                    format!("the module has no let `{field}`"),
                    "check the name; an imported module's lets and templates are reachable as `alias.name`",
                )
            }
            Value::Ref(r) if r.key.is_none() => self.resource_field(&r, field, field_span),
            other => {
                let t = other.type_name();
                self.error(
                    "E0301",
                    field_span,
                    format!("`.{field}` on a value of type {t}"),
                    "only maps, references and modules have fields",
                )
            }
        }
    }

    fn resource_field(&mut self, r: &Ref, field: &str, span: Span) -> Value {
        let addr = r.address();
        let Some(&i) = self.index.get(&addr) else { return Value::Unknown };
        if r.kind == Kind::Bucket {
            // What Rook writes once the bucket exists: a key reference, read by the pod.
            if crate::schema::BUCKET_KEYS.iter().any(|(f, _, _)| *f == field) {
                return Value::Ref(Rc::new(Ref { kind: r.kind, name: r.name.clone(), key: Some(field.to_string()) }));
            }
        }
        if matches!(r.kind, Kind::Secret | Kind::Config) {
            let (body, _) = self.resource_body(i);
            if field != "name" && matches!(body.get("existing"), Some(Value::Bool(true))) {
                // The live object's keys are known at plan time, which checks this one.
                return Value::Ref(Rc::new(Ref { kind: r.kind, name: r.name.clone(), key: Some(field.to_string()) }));
            }
            if let Some(data) = body.get("data") {
                let (data, _) = data.unwrap_sensitive();
                match data {
                    Value::Map(m) if m.contains_key(field) => {
                        return Value::Ref(Rc::new(Ref { kind: r.kind, name: r.name.clone(), key: Some(field.to_string()) }));
                    }
                    Value::Unknown => return Value::Unknown,
                    Value::Map(m) if field != "name" && !self.budget.suggest(m.len()) => {
                        return self.error("E0206", span, format!("`{addr}` has no data key `{field}`"), "check the key");
                    }
                    Value::Map(m) if field != "name" => {
                        let help = match did_you_mean(field, m.keys().map(String::as_str)) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("its keys are {}", m.keys().cloned().collect::<Vec<_>>().join(", ")),
                        };
                        return self.error("E0206", span, format!("`{addr}` has no data key `{field}`"), help);
                    }
                    _ => {}
                }
            }
        }
        if field == "name" {
            return Value::str(&r.name);
        }
        let schema = r.kind.schema();
        let Some(attr_schema) = schema.attr(field) else {
            let help = match did_you_mean(field, schema.attr_names()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("`{}` has the attributes {}", r.kind.as_str(), schema.attr_names().collect::<Vec<_>>().join(", ")),
            };
            return self.error("E0206", span, format!("`{}` has no attribute `{field}`", r.kind.as_str()), help);
        };
        let (body, _) = self.resource_body(i);
        match body.get(field) {
            Some(v) => v.clone(),
            None => attr_schema.default.map_or(Value::Null, default_value),
        }
    }

    /// The value behind a data-key reference (`config.app.LOG_LEVEL`), else `v` itself.
    pub(super) fn plain(&mut self, v: Value) -> Value {
        let Value::Ref(r) = &v else { return v };
        let Some(key) = &r.key else { return v };
        if r.kind == Kind::Bucket {
            return Value::Unknown; // known once the bucket exists, not at compile time
        }
        let Some(&i) = self.index.get(&r.address()) else { return Value::Unknown };
        let (body, _) = self.resource_body(i);
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        let (data, sens) = data.unwrap_sensitive();
        let value = match data {
            Value::Map(m) => m.get(key).cloned().unwrap_or(Value::Unknown),
            _ => Value::Unknown,
        };
        Value::sensitive_if(value, sens || r.kind == Kind::Secret)
    }

    fn index(&mut self, base: Value, idx: Value, span: Span) -> Value {
        let idx = self.plain(idx);
        let (b, bs) = base.unwrap_sensitive();
        let (i, is) = idx.unwrap_sensitive();
        let out = match (b, i) {
            (Value::Unknown, _) | (_, Value::Unknown) => Value::Unknown,
            (Value::List(l), Value::Int(n)) => match usize::try_from(*n).ok().and_then(|n| l.get(n)) {
                Some(v) => v.clone(),
                None => {
                    return self.error(
                        "E0701",
                        span,
                        format!("index {} is out of range for a list of {} elements", shown(&n.to_string(), is), l.len()),
                        "indexes start at 0",
                    )
                }
            },
            (Value::Map(m), Value::Str(k)) => match m.get(k.as_ref()) {
                Some(v) => v.clone(),
                None => {
                    return self.error(
                        "E0206",
                        span,
                        format!("the map has no key `{}`", shown(k, is)),
                        "check the key, or use `contains(keys(m), k)` first",
                    )
                }
            },
            (b, i) => {
                let (bt, it) = (b.type_name(), i.type_name());
                return self.error("E0301", span, format!("cannot index a {bt} with a {it}"), "lists take int indexes, maps string keys");
            }
        };
        Value::sensitive_if(out, bs || is)
    }

    /// Elements to iterate: (index or key, value).
    pub(super) fn iteration(&mut self, coll: &Value, span: Span) -> Vec<(Value, Value)> {
        let (c, sens) = coll.unwrap_sensitive();
        if sens {
            self.error("E0306", span, "a sensitive value cannot drive a `for`", "iterate over non-secret values");
            return Vec::new();
        }
        match c {
            Value::List(l) => l.iter().enumerate().map(|(i, v)| (Value::Int(i64::try_from(i).unwrap_or(i64::MAX)), v.clone())).collect(),
            Value::Map(m) => m.iter().map(|(k, v)| (Value::str(k), v.clone())).collect(),
            Value::Unknown => Vec::new(),
            other => {
                let t = other.type_name();
                self.error("E0301", span, format!("`for` needs a list or a map, found {t}"), "iterate over a list, a map, or `range(n)`");
                Vec::new()
            }
        }
    }

    /// A condition's truth; `None` when unknown or an error was reported.
    pub(super) fn condition(&mut self, v: &Value, span: Span) -> Option<bool> {
        let v = self.plain(v.clone());
        match v {
            Value::Bool(b) => Some(b),
            Value::Unknown => None,
            Value::Sensitive(_) => {
                self.error(
                    "E0306",
                    span,
                    "a sensitive value cannot be used in a condition",
                    "the outcome would reveal the secret; test a non-secret value",
                );
                None
            }
            other => {
                let t = other.type_name();
                self.error("E0301", span, format!("a condition must be a bool, found {t}"), "compare explicitly, e.g. `x != null`");
                None
            }
        }
    }

    fn map_key(&mut self, key: &'p MapKey, scope: &Scope<'p>) -> Option<String> {
        match key {
            MapKey::Ident(id) => Some(id.name.clone()),
            MapKey::Str(e) | MapKey::Expr(e) => {
                let v = self.eval(e, scope);
                self.key_string(v, e.span)
            }
        }
    }

    fn key_string(&mut self, v: Value, span: Span) -> Option<String> {
        let v = self.plain(v);
        match v {
            Value::Str(s) => Some(s.to_string()),
            Value::Unknown => None,
            Value::Sensitive(_) => {
                self.error("E0306", span, "a sensitive value cannot be used as a key", "keys are printed in plans; use a non-secret value");
                None
            }
            Value::Int(i) => Some(i.to_string()),
            other => {
                let t = other.type_name();
                self.error("E0301", span, format!("a map key must be a string, found {t}"), "write the key as a string");
                None
            }
        }
    }

    /// A string with interpolations. Sensitive if any part is.
    fn string(&mut self, parts: &'p [StrPart], scope: &Scope<'p>) -> Value {
        let mut out = String::new();
        let mut sensitive = false;
        let mut unknown = false;
        for part in parts {
            match part {
                StrPart::Lit(s) => out.push_str(s),
                StrPart::Interp(e) => {
                    let v = self.eval(e, scope);
                    match self.interp_text(v, e.span) {
                        Some((s, sens)) => {
                            sensitive |= sens;
                            out.push_str(&s);
                        }
                        None => unknown = true,
                    }
                }
            }
        }
        if unknown {
            return Value::Unknown;
        }
        Value::sensitive_if(Value::str(out), sensitive)
    }

    /// The text a value interpolates as, and whether it is sensitive; `None` if unknown/error.
    pub(super) fn interp_text(&mut self, v: Value, span: Span) -> Option<(String, bool)> {
        let v = self.plain(v);
        let (v, sens) = v.unwrap_sensitive();
        let s = match v {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_float(*f),
            Value::Quantity(q) => q.canonical(),
            Value::Bool(b) => b.to_string(),
            Value::Ref(r) => r.name.clone(),
            Value::Unknown => return None,
            Value::Null => {
                self.error("E0301", span, "`null` cannot be interpolated", "give the value a default, e.g. `x != null ? x : \"\"`");
                return None;
            }
            other => {
                let t = other.type_name();
                self.error(
                    "E0301",
                    span,
                    format!("a {t} cannot be interpolated"),
                    "interpolate a string, number, quantity or bool; use join() or to_json() for collections",
                );
                return None;
            }
        };
        Some((s, sens))
    }

    fn unary(&mut self, op: UnOp, v: Value, span: Span) -> Value {
        let v = self.plain(v);
        let (inner, sens) = v.unwrap_sensitive();
        let out = match (op, inner) {
            (_, Value::Unknown) => Value::Unknown,
            (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
            (UnOp::Neg, Value::Int(i)) => match i.checked_neg() {
                Some(n) => Value::Int(n),
                None => return self.error("E0701", span, "integer overflow", "the result does not fit in 64 bits"),
            },
            (UnOp::Neg, Value::Float(f)) => Value::Float(-f),
            (UnOp::Neg, Value::Quantity(q)) => match Quantity::from_int(0).and_then(|z| z.checked_sub(*q)) {
                Ok(n) => Value::Quantity(n),
                Err(e) => return self.error("E0701", span, format!("quantity error: {e}"), "keep quantities in range"),
            },
            (op, other) => {
                let t = other.type_name();
                let (sym, want) = if op == UnOp::Not { ("!", "a bool") } else { ("-", "a number or quantity") };
                return self.error("E0301", span, format!("`{sym}` needs {want}, found {t}"), "check the operand's type");
            }
        };
        Value::sensitive_if(out, sens)
    }

    fn binary(&mut self, op: BinOp, l: &'p Expr, r: &'p Expr, scope: &Scope<'p>, span: Span) -> Value {
        // `&&` and `||` short-circuit.
        if matches!(op, BinOp::And | BinOp::Or) {
            let lv = self.eval(l, scope);
            let Some(lb) = self.bool_operand(lv, op, l.span) else {
                let _ = self.eval(r, scope);
                return Value::Unknown;
            };
            if (op == BinOp::And && !lb) || (op == BinOp::Or && lb) {
                return Value::Bool(lb);
            }
            let rv = self.eval(r, scope);
            return match self.bool_operand(rv, op, r.span) {
                Some(b) => Value::Bool(b),
                None => Value::Unknown,
            };
        }
        let lv = self.eval(l, scope);
        let rv = self.eval(r, scope);
        let lv = self.plain(lv);
        let rv = self.plain(rv);
        let (a, sa) = lv.unwrap_sensitive();
        let (b, sb) = rv.unwrap_sensitive();
        let sens = sa || sb;
        if matches!(a, Value::Unknown) || matches!(b, Value::Unknown) {
            return Value::Unknown;
        }
        let out = match op {
            BinOp::Eq | BinOp::Ne => match a.equals(b) {
                Some(eq) => Value::Bool(if op == BinOp::Eq { eq } else { !eq }),
                None => Value::Unknown,
            },
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => self.compare(op, a, b, span),
            BinOp::Add => self.add(a, b, span),
            BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => self.arith(op, a, b, span),
            BinOp::And | BinOp::Or => Value::Unknown,
        };
        Value::sensitive_if(out, sens)
    }

    fn bool_operand(&mut self, v: Value, op: BinOp, span: Span) -> Option<bool> {
        let v = self.plain(v);
        match v.unwrap_sensitive() {
            (Value::Bool(b), _) => Some(*b),
            (Value::Unknown, _) => None,
            (other, _) => {
                let t = other.type_name();
                self.error("E0301", span, format!("`{}` needs bools, found {t}", op.as_str()), "compare explicitly to get a bool");
                None
            }
        }
    }

    fn num(v: &Value) -> Option<Num> {
        match v {
            Value::Int(i) => Some(Num::I(*i)),
            Value::Float(f) => Some(Num::F(*f)),
            Value::Quantity(q) => Some(Num::Q(*q)),
            _ => None,
        }
    }

    fn compare(&mut self, op: BinOp, a: &Value, b: &Value, span: Span) -> Value {
        let ord = match (a, b) {
            (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
            _ => match (Self::num(a), Self::num(b)) {
                (Some(Num::I(x)), Some(Num::I(y))) => Some(x.cmp(&y)),
                (Some(Num::Q(x)), Some(Num::Q(y))) => Some(x.cmp(&y)),
                (Some(Num::Q(x)), Some(Num::I(y))) => Quantity::from_int(y).ok().map(|y| x.cmp(&y)),
                (Some(Num::I(x)), Some(Num::Q(y))) => Quantity::from_int(x).ok().map(|x| x.cmp(&y)),
                (Some(x), Some(y)) => to_f64(&x).partial_cmp(&to_f64(&y)),
                _ => None,
            },
        };
        match ord {
            Some(o) => Value::Bool(match op {
                BinOp::Lt => o.is_lt(),
                BinOp::Le => o.is_le(),
                BinOp::Gt => o.is_gt(),
                _ => o.is_ge(),
            }),
            None => {
                let (ta, tb) = (a.type_name(), b.type_name());
                self.error(
                    "E0301",
                    span,
                    format!("cannot compare {ta} with {tb}"),
                    "compare numbers, quantities or strings of the same kind",
                )
            }
        }
    }

    fn add(&mut self, a: &Value, b: &Value, span: Span) -> Value {
        match (a, b) {
            (Value::Str(x), Value::Str(y)) => Value::str(format!("{x}{y}")),
            (Value::List(x), Value::List(y)) => {
                if x.len().saturating_add(y.len()) > MAX_COLLECTION {
                    return self.too_large(span);
                }
                let mut out = x.as_ref().clone();
                out.extend(y.iter().cloned());
                Value::list(out)
            }
            (Value::Map(x), Value::Map(y)) => {
                let mut out = x.as_ref().clone();
                for (k, v) in y.iter() {
                    out.insert(k.clone(), v.clone());
                }
                Value::map(out)
            }
            (Value::Str(_), _) | (_, Value::Str(_)) => {
                let (ta, tb) = (a.type_name(), b.type_name());
                self.error("E0301", span, format!("`+` between a {ta} and a {tb}"), "interpolate instead: \"${a}${b}\"")
            }
            _ => self.arith(BinOp::Add, a, b, span),
        }
    }

    fn arith(&mut self, op: BinOp, a: &Value, b: &Value, span: Span) -> Value {
        let (Some(x), Some(y)) = (Self::num(a), Self::num(b)) else {
            let (ta, tb) = (a.type_name(), b.type_name());
            return self.error(
                "E0301",
                span,
                format!("`{}` between a {ta} and a {tb}", op.as_str()),
                "arithmetic works on numbers and quantities",
            );
        };
        let overflow = |s: &mut Self| s.error("E0701", span, "arithmetic overflow", "the result does not fit in 64 bits");
        let div_zero = |s: &mut Self| s.error("E0701", span, "division by zero", "check the divisor");
        let qerr = |s: &mut Self, e: cairn_core::quantity::QuantityError| {
            s.error("E0701", span, format!("quantity arithmetic: {e}"), "keep quantities in range")
        };
        match (x, y) {
            (Num::I(x), Num::I(y)) => {
                let r = match op {
                    BinOp::Add => x.checked_add(y),
                    BinOp::Sub => x.checked_sub(y),
                    BinOp::Mul => x.checked_mul(y),
                    BinOp::Div | BinOp::Rem if y == 0 => return div_zero(self),
                    BinOp::Div => x.checked_div(y),
                    _ => x.checked_rem(y),
                };
                r.map_or_else(|| overflow(self), Value::Int)
            }
            (Num::Q(q), other) | (other, Num::Q(q)) if !matches!(other, Num::Q(_)) && matches!(op, BinOp::Mul) => {
                let r = match other {
                    Num::I(i) => q.checked_mul_int(i),
                    Num::F(f) => q.checked_mul_f64(f),
                    Num::Q(_) => return Value::Unknown,
                };
                r.map_or_else(|e| qerr(self, e), Value::Quantity)
            }
            (Num::Q(q), Num::I(i)) if op == BinOp::Div => {
                if i == 0 {
                    return div_zero(self);
                }
                q.checked_div_int(i).map_or_else(|e| qerr(self, e), Value::Quantity)
            }
            (Num::Q(q), Num::Q(r)) if op == BinOp::Div => match q.ratio(r) {
                Ok(f) => Value::Float(f),
                Err(e) => qerr(self, e),
            },
            (x @ (Num::Q(_) | Num::I(_)), y @ (Num::Q(_) | Num::I(_))) if matches!(op, BinOp::Add | BinOp::Sub) => {
                let (Some(qx), Some(qy)) = (as_quantity(&x), as_quantity(&y)) else { return overflow(self) };
                let r = if op == BinOp::Add { qx.checked_add(qy) } else { qx.checked_sub(qy) };
                r.map_or_else(|e| qerr(self, e), Value::Quantity)
            }
            (Num::Q(_), _) | (_, Num::Q(_)) => {
                let (ta, tb) = (a.type_name(), b.type_name());
                self.error(
                    "E0301",
                    span,
                    format!("`{}` between a {ta} and a {tb}", op.as_str()),
                    "quantities add and subtract, and scale by a number",
                )
            }
            (x, y) => {
                let (x, y) = (to_f64(&x), to_f64(&y));
                let r = match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    BinOp::Div if y == 0.0 => return div_zero(self),
                    BinOp::Div => x / y,
                    _ if y == 0.0 => return div_zero(self),
                    _ => x % y,
                };
                if r.is_finite() {
                    Value::Float(r)
                } else {
                    overflow(self)
                }
            }
        }
    }

    pub(super) fn too_large(&mut self, span: Span) -> Value {
        self.error("E0702", span, format!("collection of more than {MAX_COLLECTION} elements"), "generate fewer elements")
    }
}

fn to_f64(n: &Num) -> f64 {
    match n {
        Num::I(i) => *i as f64,
        Num::F(f) => *f,
        Num::Q(q) => q.to_f64(),
    }
}

fn as_quantity(n: &Num) -> Option<Quantity> {
    match n {
        Num::I(i) => Quantity::from_int(*i).ok(),
        Num::Q(q) => Some(*q),
        Num::F(f) => Quantity::from_f64(*f).ok(),
    }
}

/// A schema default (as shown to users) as a value: `"x"`, numbers, bools.
pub fn default_value(text: &str) -> Value {
    if let Some(s) = text.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Value::str(s);
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => text.parse::<i64>().map_or(Value::Null, Value::Int),
    }
}
