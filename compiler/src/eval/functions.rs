//! Built-in functions (LANGUAGE.md §4). Pure except `env` and `file`, which go through the
//! compiler's `Environment` and `SourceLoader`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use cairn_lang::ast::{Expr, Ident};
use cairn_lang::{Diagnostic, Span};
use sha2::Digest as _;

use super::budget::MAX_STRING_BYTES;
use super::expr::MAX_COLLECTION;
use super::{Evaluator, Mode, Scope};
use crate::convert::{json_to_value, value_to_json};
use crate::loader::{normalize, LoadError};
use crate::value::Value;
use cairn_core::quantity::Quantity;

/// Names of every built-in function, for "did you mean" and completion.
pub const FUNCTIONS: [&str; 26] = [
    "env",
    "file",
    "lower",
    "upper",
    "trim",
    "split",
    "join",
    "replace",
    "length",
    "contains",
    "keys",
    "values",
    "range",
    "merge",
    "concat",
    "min",
    "max",
    "sha256",
    "base64encode",
    "base64decode",
    "to_json",
    "from_json",
    "to_yaml",
    "from_yaml",
    "quantity",
    "sensitive",
];

/// Names of environment variables whose values are sensitive.
const SENSITIVE_SUFFIXES: [&str; 4] = ["PASSWORD", "TOKEN", "SECRET", "KEY"];

/// Whether `env(name)` gives a sensitive value (LANGUAGE.md §4).
pub fn is_sensitive_env_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SENSITIVE_SUFFIXES.iter().any(|s| upper.ends_with(s))
}

/// What a family of functions returns for a call it knows: `Ok` the result (made sensitive by
/// the caller when an argument was), `Err` a value to return as it is (an error already reported,
/// or unknown).
type Outcome = Result<Value, Value>;

impl<'p> Evaluator<'p> {
    /// A call of a built-in function: the name is checked, the arguments evaluated, then the
    /// function of that name runs (`env`, `file` and `sensitive` here, the others by family).
    pub(super) fn call(&mut self, name: &Ident, args: &'p [Expr], scope: &Scope<'p>, span: Span) -> Value {
        let f = name.name.as_str();
        if !FUNCTIONS.contains(&f) {
            let help = match super::did_you_mean(f, FUNCTIONS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "see the list of built-in functions in docs/language.md".to_string(),
            };
            return self.error("E0207", name.span, format!("unknown function `{f}`"), help);
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            let v = self.eval(a, scope);
            vals.push(self.plain(v));
        }
        if vals.iter().any(|v| matches!(v.unwrap_sensitive().0, Value::Unknown)) && f != "env" {
            return Value::Unknown;
        }
        let sensitive = vals.iter().any(Value::contains_sensitive);
        match (f, vals.as_slice()) {
            ("env", [n]) => return self.env_var(n, None, args, span),
            ("env", [n, d]) => return self.env_var(n, Some(d), args, span),
            ("env", _) => return self.arity(f, vals.len(), "1 or 2", span),
            ("file", [p]) => return self.file(p, scope, span),
            ("sensitive", [v]) => return Value::sensitive_if(v.clone(), true),
            _ => {}
        }
        let outcome = match self.text_function(f, &vals, span) {
            Some(o) => Some(o),
            None => match self.collection_function(f, &vals, span) {
                Some(o) => Some(o),
                None => self.conversion_function(f, &vals, sensitive, span),
            },
        };
        match outcome {
            Some(Ok(out)) => Value::sensitive_if(out, sensitive),
            Some(Err(v)) => v,
            None => self.arity(f, vals.len(), "a different number of arguments", span),
        }
    }

    /// E0307 for a call with the wrong number of arguments.
    fn arity(&mut self, f: &str, got: usize, want: &str, span: Span) -> Value {
        self.error(
            "E0307",
            span,
            format!("`{f}` takes {want}, got {got} argument(s)"),
            format!("call it as shown in docs/language.md: {f}(…)"),
        )
    }

    /// `lower`, `upper`, `trim`, `split`, `join`, `replace`.
    fn text_function(&mut self, f: &str, vals: &[Value], span: Span) -> Option<Outcome> {
        let out = match (f, vals) {
            ("lower", [v]) => self.str_fn(v, span, |s| s.to_lowercase()),
            ("upper", [v]) => self.str_fn(v, span, |s| s.to_uppercase()),
            ("trim", [v]) => self.str_fn(v, span, |s| s.trim().to_string()),
            ("split", [s, sep]) => match (strip(s), strip(sep)) {
                (Value::Str(s), Value::Str(sep)) if !sep.is_empty() => Value::list(s.split(sep.as_ref()).map(Value::str).collect()),
                _ => self.bad_args(f, "a string and a non-empty separator", span),
            },
            ("join", [l, sep]) => match (strip(l), strip(sep)) {
                (Value::List(items), Value::Str(sep)) => {
                    let mut parts = Vec::new();
                    for item in items.iter() {
                        match self.interp_text(item.clone(), span) {
                            Some((s, _)) => parts.push(s),
                            None => return Some(Err(Value::Unknown)),
                        }
                    }
                    Value::str(parts.join(sep))
                }
                _ => self.bad_args(f, "a list and a separator string", span),
            },
            ("replace", [s, from, to]) => match (strip(s), strip(from), strip(to)) {
                (Value::Str(s), Value::Str(a), Value::Str(b)) if !a.is_empty() => Value::str(s.replace(a.as_ref(), b)),
                _ => self.bad_args(f, "three strings (the second non-empty)", span),
            },
            _ => return None,
        };
        Some(Ok(out))
    }

    /// `length`, `contains`, `keys`, `values`, `range`, `merge`, `concat`, `min`, `max`.
    fn collection_function(&mut self, f: &str, vals: &[Value], span: Span) -> Option<Outcome> {
        let out = match (f, vals) {
            ("length", [v]) => match strip(v) {
                Value::Str(s) => Value::Int(i64::try_from(s.chars().count()).unwrap_or(i64::MAX)),
                Value::List(l) => Value::Int(i64::try_from(l.len()).unwrap_or(i64::MAX)),
                Value::Map(m) => Value::Int(i64::try_from(m.len()).unwrap_or(i64::MAX)),
                _ => self.bad_args(f, "a string, list or map", span),
            },
            ("contains", [c, x]) => match strip(c) {
                Value::List(l) => Value::Bool(l.iter().any(|v| v.equals(x) == Some(true))),
                Value::Map(m) => match strip(x) {
                    Value::Str(k) => Value::Bool(m.contains_key(k.as_ref())),
                    _ => self.bad_args(f, "a map and a string key", span),
                },
                Value::Str(s) => match strip(x) {
                    Value::Str(sub) => Value::Bool(s.contains(sub.as_ref())),
                    _ => self.bad_args(f, "a string and a substring", span),
                },
                _ => self.bad_args(f, "a list, map or string first", span),
            },
            ("keys", [m]) => match strip(m) {
                Value::Map(m) => Value::list(m.keys().map(Value::str).collect()),
                _ => self.bad_args(f, "a map", span),
            },
            ("values", [m]) => match strip(m) {
                Value::Map(m) => Value::list(m.values().cloned().collect()),
                _ => self.bad_args(f, "a map", span),
            },
            ("range", [n]) => self.range(0, n, span),
            ("range", [a, b]) => match strip(a) {
                Value::Int(a) => self.range(*a, b, span),
                _ => self.bad_args(f, "integers", span),
            },
            ("merge", maps) => {
                let mut out = BTreeMap::new();
                for m in maps {
                    match strip(m) {
                        Value::Map(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
                        Value::Null => {}
                        _ => return Some(Err(self.bad_args(f, "maps", span))),
                    }
                }
                Value::map(out)
            }
            ("concat", lists) => {
                let mut out = Vec::new();
                for l in lists {
                    match strip(l) {
                        Value::List(l) => {
                            if out.len().saturating_add(l.len()) > MAX_COLLECTION {
                                return Some(Err(self.too_large(span)));
                            }
                            out.extend(l.iter().cloned());
                        }
                        _ => return Some(Err(self.bad_args(f, "lists", span))),
                    }
                }
                Value::list(out)
            }
            ("min" | "max", xs) if !xs.is_empty() => self.min_max(f == "max", xs, span),
            _ => return None,
        };
        Some(Ok(out))
    }

    /// `sha256`, `base64encode`/`base64decode`, `to_json`/`to_yaml`, `from_json`/`from_yaml`, `quantity`; `sensitive`: whether an argument is (error messages then hide the input).
    fn conversion_function(&mut self, f: &str, vals: &[Value], sensitive: bool, span: Span) -> Option<Outcome> {
        let out = match (f, vals) {
            ("sha256", [v]) => match strip(v) {
                Value::Str(s) => Value::str(hex(&sha2::Sha256::digest(s.as_bytes()))),
                _ => self.bad_args(f, "a string", span),
            },
            ("base64encode", [v]) => match strip(v) {
                Value::Str(s) => Value::str(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
                _ => self.bad_args(f, "a string", span),
            },
            ("base64decode", [v]) => match strip(v) {
                Value::Str(s) => {
                    match base64::engine::general_purpose::STANDARD.decode(s.as_bytes()).ok().and_then(|b| String::from_utf8(b).ok()) {
                        Some(d) => Value::str(d),
                        None => {
                            return Some(Err(self.error("E0708", span, "base64decode: not valid base64 of UTF-8 text", "check the input")))
                        }
                    }
                }
                _ => self.bad_args(f, "a string", span),
            },
            ("to_json", [v]) => match value_to_json(v) {
                Some(j) => Value::str(j.to_string()),
                // An unknown part (an unset `env()` in `check`, an error already reported).
                None if v.contains_unknown() => Value::Unknown,
                None => self.bad_args(f, "a value made of strings, numbers, bools, lists and maps", span),
            },
            ("to_yaml", [v]) => match value_to_json(v) {
                Some(j) => {
                    let mut out = String::new();
                    crate::yaml::write_document(&mut out, &j);
                    Value::str(out)
                }
                // An unknown part (an unset `env()` in `check`, an error already reported).
                None if v.contains_unknown() => Value::Unknown,
                None => self.bad_args(f, "a value made of strings, numbers, bools, lists and maps", span),
            },
            ("from_json", [v]) => match strip(v) {
                Value::Str(s) => match serde_json::from_str::<serde_json::Value>(s) {
                    Ok(j) => json_to_value(&j),
                    Err(e) => {
                        return Some(Err(self.error(
                            "E0708",
                            span,
                            format!("from_json: {}", shown(&e.to_string(), sensitive)),
                            "pass valid JSON text",
                        )))
                    }
                },
                _ => self.bad_args(f, "a string", span),
            },
            ("from_yaml", [v]) => match strip(v) {
                Value::Str(s) => match serde_yaml::from_str::<serde_json::Value>(s) {
                    Ok(j) => json_to_value(&j),
                    Err(e) => {
                        return Some(Err(self.error(
                            "E0708",
                            span,
                            format!("from_yaml: {}", shown(&e.to_string(), sensitive)),
                            "pass one valid YAML document",
                        )))
                    }
                },
                _ => self.bad_args(f, "a string", span),
            },
            ("quantity", [v]) => match strip(v) {
                Value::Str(s) => match Quantity::parse(s) {
                    Ok(q) => Value::Quantity(q),
                    Err(e) => {
                        let e = if sensitive { "the sensitive value is not a valid quantity".to_string() } else { e.to_string() };
                        return Some(Err(self.error(
                            "E0708",
                            span,
                            format!("quantity: {e}"),
                            "write a Kubernetes quantity such as \"500m\" or \"1Gi\"",
                        )));
                    }
                },
                Value::Int(i) => Quantity::from_int(*i).map_or(Value::Unknown, Value::Quantity),
                Value::Float(x) => Quantity::from_f64(*x).map_or(Value::Unknown, Value::Quantity),
                Value::Quantity(q) => Value::Quantity(*q),
                _ => self.bad_args(f, "a string or number", span),
            },
            _ => return None,
        };
        Some(Ok(out))
    }

    fn bad_args(&mut self, f: &str, want: &str, span: Span) -> Value {
        self.error("E0307", span, format!("`{f}` expects {want}"), "check the arguments' types")
    }

    fn str_fn(&mut self, v: &Value, span: Span, op: impl Fn(&str) -> String) -> Value {
        match strip(v) {
            Value::Str(s) => Value::str(op(s)),
            _ => self.bad_args("this function", "a string", span),
        }
    }

    fn range(&mut self, from: i64, to: &Value, span: Span) -> Value {
        let Value::Int(to) = strip(to) else { return self.bad_args("range", "integers", span) };
        let count = to.saturating_sub(from).max(0);
        if count > MAX_COLLECTION as i64 {
            return self.too_large(span);
        }
        Value::list((from..*to).map(Value::Int).collect())
    }

    fn min_max(&mut self, max: bool, xs: &[Value], span: Span) -> Value {
        let mut best: Option<Value> = None;
        for x in xs {
            let x = strip(x).clone();
            if !matches!(x, Value::Int(_) | Value::Float(_) | Value::Quantity(_)) {
                return self.bad_args(if max { "max" } else { "min" }, "numbers or quantities", span);
            }
            best = Some(match best {
                None => x,
                Some(b) => {
                    let greater = match (&x, &b) {
                        (Value::Int(a), Value::Int(c)) => a > c,
                        (Value::Quantity(a), Value::Quantity(c)) => a > c,
                        (a, c) => num_f64(a) > num_f64(c),
                    };
                    if greater == max {
                        x
                    } else {
                        b
                    }
                }
            });
        }
        best.unwrap_or(Value::Unknown)
    }

    fn env_var(&mut self, name: &Value, default: Option<&Value>, args: &[Expr], span: Span) -> Value {
        let (name, secret_name) = name.unwrap_sensitive();
        let Value::Str(n) = name else { return self.bad_args("env", "a variable name string", span) };
        let n = n.to_string();
        let sensitive = secret_name || is_sensitive_env_name(&n);
        let shown = shown(&n, secret_name);
        let value = match self.env.var(&n) {
            Some(v) => Value::str(v),
            None => match default {
                Some(d) => d.clone(),
                None => {
                    let at = args.first().map_or(span, |a| a.span);
                    return match self.mode {
                        Mode::Check => {
                            self.report(
                                Diagnostic::warning("W0701", at, format!("environment variable `{shown}` is not set"))
                                    .with_help(format!("its value is unknown to `check`; `render`, `plan` and `apply` need it: export {shown}=… or give a default, env(\"{shown}\", …)")),
                            );
                            Value::Unknown
                        }
                        Mode::Render => self.error(
                            "E0703",
                            at,
                            format!("environment variable `{shown}` is not set"),
                            format!("export {shown}=… before running, or give a default: env(\"{shown}\", …)"),
                        ),
                    };
                }
            },
        };
        Value::sensitive_if(value, sensitive)
    }

    fn file(&mut self, path: &Value, scope: &Scope<'p>, span: Span) -> Value {
        let (path, secret) = path.unwrap_sensitive();
        let Value::Str(p) = path else { return self.bad_args("file", "a path string", span) };
        let shown = shown(p, secret);
        let full = normalize(&self.file_dir(scope.file).join(p.as_ref()));
        let roots = self.file_roots();
        if !roots.iter().any(|r| full.starts_with(r)) {
            return self.error(
                "E0604",
                span,
                format!("`{shown}` is outside the stack's directory"),
                "file() reads files inside the stack's directory or an imported module's own directory; copy the file into the stack",
            );
        }
        match self.loader.read_data(&full, &roots, MAX_STRING_BYTES) {
            Ok(text) => Value::sensitive_if(Value::str(text), secret),
            Err(e) => {
                let help = match e {
                    LoadError::Outside => "file() does not follow symlinks out of the stack; copy the file into the stack",
                    LoadError::NotRegular(_) => "file() reads regular files only; name a file, not a directory, pipe or device",
                    LoadError::TooLarge(_) => "file() reads files up to the value-size limit; keep large data out of the stack",
                    LoadError::NotUtf8 => "file() reads UTF-8 text; encode binary data (e.g. base64) first",
                    _ => "the path is relative to the file that calls file()",
                };
                self.error("E0604", span, format!("cannot read `{shown}`: {e}"), help)
            }
        }
    }

    /// The directories `file()` may read from: the stack's directory, each imported directory
    /// module's own directory, and the directory of each imported file module.
    fn file_roots(&self) -> Vec<PathBuf> {
        let mut roots = vec![self.prog.root_dir.clone()];
        for m in self.prog.modules.iter().filter(|m| !m.is_std) {
            let dir = if m.path.extension().is_some_and(|x| x == "cairn") { m.path.parent().unwrap_or(&m.path) } else { &m.path };
            if !roots.iter().any(|r| r.as_path() == dir) {
                roots.push(dir.to_path_buf());
            }
        }
        roots
    }
}

/// How a message quotes a value's text: `(sensitive)` for a sensitive one, so no secret
/// reaches a diagnostic.
pub(crate) fn shown(text: &str, sensitive: bool) -> &str {
    if sensitive {
        "(sensitive)"
    } else {
        text
    }
}

fn strip(v: &Value) -> &Value {
    v.unwrap_sensitive().0
}

fn num_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Quantity(q) => q.to_f64(),
        _ => 0.0,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
