//! Typed reads of evaluated bodies, shared by the checker and lowering. Each returns `None`
//! when the attribute is unset or of another type (the checker reports wrong types once), or
//! sensitive: a sensitive value outside the few attributes that keep it hidden is an error
//! (E0306), and no rule may echo it in a diagnostic or an object.

use crate::eval::BodyValue;
use crate::value::Value;
use cairn_core::quantity::Quantity;

/// An attribute's value unless it is sensitive.
fn plain<'b>(body: &'b BodyValue, name: &str) -> Option<&'b Value> {
    body.get(name).filter(|v| !matches!(v, Value::Sensitive(_)))
}

/// A string attribute.
pub fn str_of(body: &BodyValue, name: &str) -> Option<String> {
    match plain(body, name)? {
        Value::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

/// An integer attribute.
pub fn int_of(body: &BodyValue, name: &str) -> Option<i64> {
    match plain(body, name)? {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

/// A boolean attribute.
pub fn bool_of(body: &BodyValue, name: &str) -> Option<bool> {
    match plain(body, name)? {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

/// A quantity attribute: a quantity, a number, or a quantity string.
pub fn qty_of(body: &BodyValue, name: &str) -> Option<Quantity> {
    as_quantity(plain(body, name)?)
}

/// A value as a quantity, if it is one or can be read as one.
pub fn as_quantity(v: &Value) -> Option<Quantity> {
    match v.unwrap_sensitive().0 {
        Value::Quantity(q) => Some(*q),
        Value::Int(i) => Quantity::from_int(*i).ok(),
        Value::Float(f) => Quantity::from_f64(*f).ok(),
        Value::Str(s) => Quantity::parse(s).ok(),
        _ => None,
    }
}

/// The name a reference-or-string attribute names (`namespace = namespace.shop` or `"shop"`).
pub fn name_of(body: &BodyValue, name: &str) -> Option<String> {
    match plain(body, name)? {
        Value::Ref(r) if r.key.is_none() => Some(r.name.clone()),
        Value::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

/// A scalar as the string Kubernetes would hold (`8080` → `"8080"`); `None` for collections,
/// references and unknown values.
pub fn scalar_string(v: &Value) -> Option<String> {
    match v.unwrap_sensitive().0 {
        Value::Str(s) => Some(s.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(crate::value::format_float(*f)),
        Value::Bool(b) => Some(b.to_string()),
        Value::Quantity(q) => Some(q.canonical()),
        _ => None,
    }
}
