//! Conversions between language values and JSON (`to_json`, `from_yaml`, manifest objects).

use std::collections::BTreeMap;

use crate::value::{format_float, Value};

/// A value as JSON; references become their names. `None` for unknown values and modules.
/// Sensitivity is dropped: callers decide what may be revealed.
pub fn value_to_json(v: &Value) -> Option<serde_json::Value> {
    Some(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(|| serde_json::Value::String(format_float(*f)), serde_json::Value::Number)
        }
        Value::Quantity(q) => serde_json::Value::String(q.canonical()),
        Value::Str(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => serde_json::Value::Array(l.iter().map(value_to_json).collect::<Option<Vec<_>>>()?),
        Value::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.iter() {
                out.insert(k.clone(), value_to_json(v)?);
            }
            serde_json::Value::Object(out)
        }
        Value::Ref(r) => serde_json::Value::String(r.name.clone()),
        Value::Sensitive(inner) => value_to_json(inner)?,
        Value::Module(_) | Value::Unknown => return None,
    })
}

/// JSON as a language value; integral numbers become ints.
pub fn json_to_value(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::list(a.iter().map(json_to_value).collect()),
        serde_json::Value::Object(o) => {
            let m: BTreeMap<String, Value> = o.iter().map(|(k, v)| (k.clone(), json_to_value(v))).collect();
            Value::map(m)
        }
    }
}
