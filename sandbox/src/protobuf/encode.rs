//! An object as JSON to the protobuf message of its kind, by the fields [`super::reflect`]
//! found: JSON names matched to prost's (`volumeID` ↔ `volume_id`), base64 to bytes, and
//! Kubernetes' special types from their JSON form (`Quantity`, `Time`, `MicroTime`,
//! `IntOrString`, `RawExtension`, `FieldsV1`, `JSON`, `Duration`, the `JSONSchemaPropsOr…`
//! unions). JSON fields the message does not have are left out, as Go's protobuf encoder has no
//! place for them; `null` is an absent field, but for a time, where it is Go's zero time.

use base64::Engine;
use prost::encoding::{encode_key, encode_varint, WireType};
use serde_json::Value;

use super::reflect::{Field, Label, MessageType, Schema, Ty};
use super::{join, normalized};

/// What could not be encoded, naming the field.
pub type Error = String;

/// Nesting deeper than this is refused (stored objects were read with the same bound).
const MAX_DEPTH: usize = 256;

/// Encodes `value` as message `index` of `schema` (the message's bytes, without a length).
pub fn message(schema: &Schema, index: usize, value: &Value, path: &str) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    Encoder { schema }.message(index, value, path, 0, &mut out)?;
    Ok(out)
}

struct Encoder<'a> {
    schema: &'a Schema,
}

pub fn len_delimited(tag: u32, bytes: &[u8], out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn varint(tag: u32, value: u64, out: &mut Vec<u8>) {
    encode_key(tag, WireType::Varint, out);
    encode_varint(value, out);
}

/// A field of a message by its normalized name.
fn field<'m>(message: &'m MessageType, name: &str) -> Option<&'m Field> {
    message.fields.iter().find(|f| normalized(&f.name) == name)
}

impl Encoder<'_> {
    fn message(&self, index: usize, value: &Value, path: &str, depth: usize, out: &mut Vec<u8>) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(format!("{path}: the object nests too deeply"));
        }
        let message = self.schema.get(index).ok_or_else(|| format!("{path}: no message {index}"))?;
        let special = |name: &str| field(message, name).ok_or_else(|| format!("{path}: {} has no field {name}", message.name));
        match (message.name.as_str(), value) {
            ("Quantity", Value::String(_) | Value::Number(_)) => {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                len_delimited(special("string")?.tag, text.as_bytes(), out);
                return Ok(());
            }
            ("Time" | "MicroTime", Value::String(text)) => {
                let ts: jiff::Timestamp = text.parse().map_err(|e| format!("{path}: {text:?} is not a time ({e})"))?;
                varint(special("seconds")?.tag, ts.as_second() as u64, out);
                let nanos = ts.subsec_nanosecond();
                if nanos != 0 {
                    varint(special("nanos")?.tag, i64::from(nanos) as u64, out);
                }
                return Ok(());
            }
            ("IntOrString", Value::Number(n)) => {
                let n = n.as_i64().ok_or_else(|| format!("{path}: {n} is not an integer"))?;
                varint(special("type")?.tag, 0, out);
                varint(special("intval")?.tag, n as u64, out);
                return Ok(());
            }
            ("IntOrString", Value::String(s)) => {
                varint(special("type")?.tag, 1, out);
                len_delimited(special("strval")?.tag, s.as_bytes(), out);
                return Ok(());
            }
            ("RawExtension" | "FieldsV1" | "Json", _) => {
                let raw = serde_json::to_vec(value).map_err(|e| format!("{path}: {e}"))?;
                len_delimited(special("raw")?.tag, &raw, out);
                return Ok(());
            }
            ("Duration", Value::String(text)) => {
                let nanos = duration_nanos(text).ok_or_else(|| format!("{path}: {text:?} is not a duration"))?;
                varint(special("duration")?.tag, nanos as u64, out);
                return Ok(());
            }
            ("JsonSchemaPropsOrBool", Value::Bool(b)) => {
                varint(special("allows")?.tag, u64::from(*b), out);
                return Ok(());
            }
            ("JsonSchemaPropsOrBool", Value::Object(_)) => {
                varint(special("allows")?.tag, 1, out);
                return self.field(special("schema")?, value, path, depth, out);
            }
            ("JsonSchemaPropsOrArray" | "JsonSchemaPropsOrStringArray", Value::Object(_)) => {
                return self.field(special("schema")?, value, path, depth, out);
            }
            ("JsonSchemaPropsOrArray", Value::Array(_)) => return self.field(special("jsonschemas")?, value, path, depth, out),
            ("JsonSchemaPropsOrStringArray", Value::Array(_)) => return self.field(special("property")?, value, path, depth, out),
            _ => {}
        }
        let Value::Object(map) = value else {
            return Err(format!("{path}: expected an object for {}, got {value}", message.name));
        };
        for (key, child) in map {
            let Some(f) = field(message, &normalized(key)) else { continue };
            self.field(f, child, &join(path, key), depth, out)?;
        }
        Ok(())
    }

    /// One field with its value(s).
    fn field(&self, f: &Field, value: &Value, path: &str, depth: usize, out: &mut Vec<u8>) -> Result<(), Error> {
        if value.is_null() && f.label != Label::Single {
            return Ok(());
        }
        match f.label {
            Label::Single => self.one(f.tag, f.ty, value, path, depth, out),
            Label::Repeated => {
                let Value::Array(items) = value else { return Err(format!("{path}: expected a list, got {value}")) };
                for (i, item) in items.iter().enumerate() {
                    self.one(f.tag, f.ty, item, &format!("{path}[{i}]"), depth, out)?;
                }
                Ok(())
            }
            Label::Map => {
                let Value::Object(map) = value else { return Err(format!("{path}: expected a map, got {value}")) };
                for (k, v) in map {
                    let mut entry = Vec::new();
                    len_delimited(1, k.as_bytes(), &mut entry);
                    if !v.is_null() {
                        self.one(2, f.ty, v, &join(path, k), depth, &mut entry)?;
                    }
                    len_delimited(f.tag, &entry, out);
                }
                Ok(())
            }
        }
    }

    /// One value of type `ty` as field `tag`.
    fn one(&self, tag: u32, ty: Ty, value: &Value, path: &str, depth: usize, out: &mut Vec<u8>) -> Result<(), Error> {
        match (ty, value) {
            (Ty::Message(index), Value::Null) => {
                // Go's zero time is `null` in JSON and an empty `Time` in protobuf (a template's
                // `creationTimestamp`); any other `null` is an absent field.
                if self.schema.get(index).is_some_and(|m| m.name == "Time" || m.name == "MicroTime") {
                    len_delimited(tag, &[], out);
                }
            }
            (_, Value::Null) => {}
            (Ty::Varint, Value::Bool(b)) => varint(tag, u64::from(*b), out),
            (Ty::Varint, Value::Number(n)) => {
                let n = n.as_i64().or_else(|| n.as_u64().map(|u| u as i64)).ok_or_else(|| format!("{path}: {n} is not an integer"))?;
                varint(tag, n as u64, out);
            }
            (Ty::Double, Value::Number(n)) => {
                encode_key(tag, WireType::SixtyFourBit, out);
                out.extend_from_slice(&n.as_f64().unwrap_or_default().to_le_bytes());
            }
            (Ty::Str, Value::String(s)) => len_delimited(tag, s.as_bytes(), out),
            (Ty::Str, Value::Number(_) | Value::Bool(_)) => len_delimited(tag, value.to_string().as_bytes(), out),
            (Ty::Bytes, Value::String(s)) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(s).map_err(|_| format!("{path}: not base64"))?;
                len_delimited(tag, &bytes, out);
            }
            (Ty::Message(index), _) => {
                let mut inner = Vec::new();
                self.message(index, value, path, depth + 1, &mut inner)?;
                len_delimited(tag, &inner, out);
            }
            _ => return Err(format!("{path}: {value} does not fit a protobuf {ty:?}")),
        }
        Ok(())
    }
}

/// Go's `time.Duration` text (`1h2m3.5s`, `300ms`, `-1.5h`) in nanoseconds.
pub fn duration_nanos(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest.get(..number_end)?.parse().ok()?;
        rest = rest.get(number_end..)?;
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match rest.get(..unit_end)? {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = rest.get(unit_end..)?;
        total += number * scale;
    }
    let total = if negative { -total } else { total };
    (total.abs() < 9.2e18).then_some(total.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_go_durations() {
        for (text, nanos) in [
            ("0", Some(0)),
            ("1h2m3.5s", Some(3_723_500_000_000)),
            ("300ms", Some(300_000_000)),
            ("-1.5h", Some(-5_400_000_000_000)),
            ("", None),
            ("5x", None),
            ("h", None),
        ] {
            assert_eq!(duration_nanos(text), nanos, "{text}");
        }
    }
}
