//! Runtime values of the language. Sensitivity is a wrapper around a leaf so that it survives
//! every operation; `Unknown` stands for a value `check` cannot know (an unset `env()`) or one
//! that already failed with a diagnostic, and silences everything computed from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::schema::Kind;
use cairn_core::quantity::Quantity;

/// A module of the compilation (index into the program's module table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub usize);

/// A reference to a declared resource, `KIND.NAME`, optionally to one of its data keys
/// (`secret.db.password`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    pub kind: Kind,
    pub name: String,
    pub key: Option<String>,
}

impl Ref {
    /// The resource address, `pool.fast`.
    pub fn address(&self) -> Address {
        Address { kind: self.kind, name: self.name.clone() }
    }
}

/// A resource address: `KIND.NAME`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub kind: Kind,
    pub name: String,
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.kind.as_str(), self.name)
    }
}

/// A value.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Quantity(Quantity),
    Str(Rc<str>),
    List(Rc<Vec<Value>>),
    Map(Rc<BTreeMap<String, Value>>),
    Ref(Rc<Ref>),
    /// An import alias used as a value (`apps.some_let`).
    Module(ModuleId),
    /// A value that must never be printed.
    Sensitive(Box<Value>),
    /// Not known (unset `env()` during `check`) or already reported as an error.
    Unknown,
}

impl Value {
    /// A string value.
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::Str(Rc::from(s.as_ref()))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// A map value.
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(entries))
    }

    /// Wraps `v` as sensitive when `yes` (never double-wraps).
    pub fn sensitive_if(v: Value, yes: bool) -> Value {
        match v {
            Value::Sensitive(_) | Value::Unknown => v,
            v if yes => Value::Sensitive(Box::new(v)),
            v => v,
        }
    }

    /// The value without its sensitivity wrapper, and whether it had one.
    pub fn unwrap_sensitive(&self) -> (&Value, bool) {
        match self {
            Value::Sensitive(inner) => (inner.as_ref(), true),
            v => (v, false),
        }
    }

    /// True if this value or anything inside it is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(l) => l.iter().any(Value::contains_sensitive),
            Value::Map(m) => m.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    /// True if this value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::Sensitive(v) => v.contains_unknown(),
            Value::List(l) => l.iter().any(Value::contains_unknown),
            Value::Map(m) => m.values().any(Value::contains_unknown),
            _ => false,
        }
    }

    /// The type's name for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Quantity(_) => "quantity",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Ref(r) if r.key.is_some() => "data key reference",
            Value::Ref(_) => "reference",
            Value::Module(_) => "module",
            Value::Sensitive(v) => v.type_name(),
            Value::Unknown => "unknown",
        }
    }

    /// The string inside, if this is a (non-sensitive) string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Structural equality as `==` sees it: numbers and quantities by value, references by
    /// address. `None` when either side is unknown.
    pub fn equals(&self, other: &Value) -> Option<bool> {
        let (a, _) = self.unwrap_sensitive();
        let (b, _) = other.unwrap_sensitive();
        Some(match (a, b) {
            (Value::Unknown, _) | (_, Value::Unknown) => return None,
            (Value::Null, Value::Null) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
            (Value::Float(x), Value::Float(y)) => x == y,
            (Value::Quantity(x), Value::Quantity(y)) => x == y,
            (Value::Quantity(q), Value::Int(i)) | (Value::Int(i), Value::Quantity(q)) => Quantity::from_int(*i).is_ok_and(|v| v == *q),
            (Value::Str(x), Value::Str(y)) => x == y,
            (Value::List(x), Value::List(y)) => {
                if x.len() != y.len() {
                    return Some(false);
                }
                for (p, q) in x.iter().zip(y.iter()) {
                    if !p.equals(q)? {
                        return Some(false);
                    }
                }
                true
            }
            (Value::Map(x), Value::Map(y)) => {
                if x.len() != y.len() {
                    return Some(false);
                }
                for ((k1, v1), (k2, v2)) in x.iter().zip(y.iter()) {
                    if k1 != k2 || !v1.equals(v2)? {
                        return Some(false);
                    }
                }
                true
            }
            (Value::Ref(x), Value::Ref(y)) => x == y,
            (Value::Module(x), Value::Module(y)) => x == y,
            _ => false,
        })
    }

    /// A short rendering for hovers and messages; sensitive values show as `(sensitive)`.
    pub fn display(&self) -> String {
        let mut s = String::new();
        self.write_display(&mut s, 0);
        s
    }

    fn write_display(&self, out: &mut String, depth: usize) {
        if depth > 8 {
            out.push('…');
            return;
        }
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&format_float(*f)),
            Value::Quantity(q) => out.push_str(&q.canonical()),
            Value::Str(s) => {
                let _ = write!(out, "{s:?}");
            }
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_display(out, depth.saturating_add(1));
                }
                out.push(']');
            }
            Value::Map(m) => {
                if m.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push_str("{ ");
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{k} = ");
                    v.write_display(out, depth.saturating_add(1));
                }
                out.push_str(" }");
            }
            Value::Ref(r) => {
                let _ = write!(out, "{}", r.address());
                if let Some(k) = &r.key {
                    let _ = write!(out, ".{k}");
                }
            }
            Value::Module(_) => out.push_str("<module>"),
            Value::Sensitive(_) => out.push_str("(sensitive)"),
            Value::Unknown => out.push_str("(known after apply)"),
        }
    }
}

/// Floats print with a decimal point (`1.0`, `0.25`).
pub fn format_float(f: f64) -> String {
    let s = format!("{f}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}
