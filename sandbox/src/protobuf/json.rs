//! A decoded message (as [`Node`]s) to the JSON the API serves, guided by the kind's OpenAPI
//! schema: field names as JSON spells them (`volumeID`, `$ref`, `x-kubernetes-…`), byte fields in
//! base64, and Kubernetes' special types in their JSON form (`Quantity`, `Time`, `MicroTime`,
//! `IntOrString`, `RawExtension`, `FieldsV1`, `JSON`, the `JSONSchemaPropsOr…` unions). A
//! field the 1.33 schema does not know (`k8s-pb` follows later releases) is skipped, as a 1.33
//! server's protobuf decoder skips unknown fields.
//!
//! Generated Go marshalers write every non-pointer field, so a body carries `""`, `0` and
//! `false` where the Go object held nothing; Go's JSON leaves those out (`omitempty`). The same is
//! done here: empty strings are left out but for pointer fields where `""` means something, and
//! zero numbers and `false` are kept but for the non-pointer fields clients always send.

use base64::Engine;
use serde_json::{Map, Value};

use super::debug::Node;
use super::{join, normalized};

/// Pointer string fields whose `""` is a value, not an absence (`storageClassName: ""` asks for
/// no class).
const EMPTY_STRING_KEPT: &[(&str, &str)] =
    &[("PersistentVolumeClaimSpec", "storageClassName"), ("PersistentVolumeSpec", "storageClassName")];

/// Non-pointer `omitempty` numbers and booleans that generated marshalers always write: a zero
/// there is an absence. Every other zero is kept (`replicas: 0`, `runAsUser: 0`, `optional: false`).
const ZERO_OMITTED: &[(&str, &str)] = &[
    ("ObjectMeta", "generation"),
    ("Container", "stdin"),
    ("Container", "stdinOnce"),
    ("Container", "tty"),
    ("EphemeralContainer", "stdin"),
    ("EphemeralContainer", "stdinOnce"),
    ("EphemeralContainer", "tty"),
    ("PodSpec", "hostNetwork"),
    ("PodSpec", "hostPID"),
    ("PodSpec", "hostIPC"),
    ("ContainerPort", "hostPort"),
    ("ServicePort", "nodePort"),
    ("ServiceSpec", "publishNotReadyAddresses"),
    ("ServiceSpec", "healthCheckNodePort"),
    ("Probe", "initialDelaySeconds"),
    ("Probe", "timeoutSeconds"),
    ("Probe", "periodSeconds"),
    ("Probe", "successThreshold"),
    ("Probe", "failureThreshold"),
    ("DeploymentSpec", "minReadySeconds"),
    ("DeploymentSpec", "paused"),
    ("StatefulSetSpec", "minReadySeconds"),
    ("DaemonSetSpec", "minReadySeconds"),
    ("ReplicaSetSpec", "minReadySeconds"),
    ("VolumeMount", "readOnly"),
    ("ServiceAccountTokenProjection", "expirationSeconds"),
];

/// The schema of a value the schema says nothing about.
static NULL: Value = Value::Null;

/// What went wrong converting: a message for a 400, naming the field.
pub type Error = String;

/// Converts the root message of a kind whose schema document is `root`.
pub fn object(node: &Node, root: &Value) -> Result<Value, Error> {
    let conv = Converter { root };
    Ok(conv.value(node, root, "", 0)?.unwrap_or(Value::Object(Map::new())))
}

struct Converter<'a> {
    root: &'a Value,
}

/// `volume_id` → `volumeId`: the JSON name when the schema names no field (free-form objects).
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl<'a> Converter<'a> {
    /// Follows `$ref`s (bounded) to the node that says what a value is.
    fn resolve(&self, mut node: &'a Value) -> &'a Value {
        for _ in 0..16 {
            let Some(name) = node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) else { return node };
            match self.root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => node = target,
                None => return node,
            }
        }
        node
    }

    /// The schema of a `$defs` entry by the end of its name (for the recursive CRD schema).
    fn def(&self, suffix: &str) -> &'a Value {
        self.root
            .get("$defs")
            .and_then(Value::as_object)
            .and_then(|defs| defs.iter().find(|(k, _)| k.ends_with(suffix)).map(|(_, v)| v))
            .unwrap_or(&NULL)
    }

    /// A value; `None` when it is absent in JSON.
    fn value(&self, node: &Node, schema: &'a Value, path: &str, depth: usize) -> Result<Option<Value>, Error> {
        if depth > 256 {
            return Err(format!("{path}: the object nests too deeply"));
        }
        let schema = self.resolve(schema);
        Ok(match node {
            Node::Opt(None) => None,
            Node::Opt(Some(inner)) => self.value(inner, schema, path, depth + 1)?,
            Node::Str(s) => Some(Value::String(s.clone())),
            Node::Bool(b) => Some(Value::Bool(*b)),
            Node::Num(n) => Some(number(n).ok_or_else(|| format!("{path}: {n} is not a JSON number"))?),
            Node::List(items) if schema.get("format").and_then(Value::as_str) == Some("byte") => {
                let bytes = byte_list(items).ok_or_else(|| format!("{path}: a byte field holds something other than bytes"))?;
                (!bytes.is_empty()).then(|| Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)))
            }
            Node::List(items) => {
                let item_schema = schema.get("items").unwrap_or(&NULL);
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.value(item, item_schema, &format!("{path}[{i}]"), depth + 1)?.unwrap_or(Value::Null));
                }
                (!out.is_empty()).then_some(Value::Array(out))
            }
            Node::Map(entries) => {
                let value_schema = schema.get("additionalProperties").unwrap_or(&NULL);
                let mut out = Map::new();
                for (k, v) in entries {
                    let Node::Str(key) = k else { return Err(format!("{path}: a map key is not a string")) };
                    let value = self.value(v, value_schema, &join(path, key), depth + 1)?;
                    out.insert(key.clone(), value.unwrap_or(Value::Null));
                }
                (!out.is_empty()).then_some(Value::Object(out))
            }
            Node::Message(name, fields) => self.message(name, fields, schema, path, depth)?,
        })
    }

    fn message(&self, name: &str, fields: &[(String, Node)], schema: &'a Value, path: &str, depth: usize) -> Result<Option<Value>, Error> {
        let field = |wanted: &str| fields.iter().find(|(n, _)| n == wanted).map(|(_, v)| v);
        let scalar = |wanted: &str| match field(wanted) {
            Some(Node::Opt(Some(inner))) => Some(&**inner),
            _ => None,
        };
        match name {
            "Quantity" => {
                return Ok(match scalar("string") {
                    Some(Node::Str(s)) => Some(Value::String(s.clone())),
                    _ => None,
                })
            }
            "Time" | "MicroTime" => {
                let int = |n: Option<&Node>| match n {
                    Some(Node::Num(n)) => n.parse::<i64>().ok(),
                    _ => Some(0),
                };
                let (Some(seconds), Some(nanos)) = (int(scalar("seconds")), int(scalar("nanos"))) else {
                    return Err(format!("{path}: the time is not whole seconds and nanoseconds"));
                };
                if seconds == 0 && nanos == 0 {
                    return Ok(Some(Value::Null)); // Go's zero time is `null` in JSON
                }
                let nanos = i32::try_from(nanos).map_err(|_| format!("{path}: nanoseconds out of range"))?;
                let ts = jiff::Timestamp::new(seconds, if name == "Time" { 0 } else { nanos / 1000 * 1000 })
                    .map_err(|e| format!("{path}: the time is out of range ({e})"))?;
                let text = if name == "Time" { format!("{ts:.0}") } else { format!("{ts:.6}") };
                return Ok(Some(Value::String(text)));
            }
            "IntOrString" => {
                return Ok(Some(match scalar("type") {
                    Some(Node::Num(t)) if t == "1" => Value::String(match scalar("str_val") {
                        Some(Node::Str(s)) => s.clone(),
                        _ => String::new(),
                    }),
                    _ => match scalar("int_val") {
                        Some(Node::Num(n)) => number(n).ok_or_else(|| format!("{path}: {n} is not a number"))?,
                        _ => Value::from(0),
                    },
                }))
            }
            "RawExtension" | "FieldsV1" | "Json" => {
                return match scalar("raw") {
                    Some(Node::List(items)) if !items.is_empty() => {
                        let bytes = byte_list(items).ok_or_else(|| format!("{path}: raw data is not bytes"))?;
                        serde_json::from_slice::<Value>(&bytes).map(Some).map_err(|e| {
                            format!("{path}: embedded data is not JSON ({e}); the sandbox reads embedded objects in JSON only")
                        })
                    }
                    _ => Ok(None),
                };
            }
            "JsonSchemaPropsOrBool" => {
                return match scalar("schema") {
                    Some(s) => self.value(s, self.def("JSONSchemaProps"), path, depth + 1),
                    None => Ok(Some(Value::Bool(matches!(scalar("allows"), Some(Node::Bool(true)))))),
                };
            }
            "JsonSchemaPropsOrArray" | "JsonSchemaPropsOrStringArray" => {
                if let Some(s) = scalar("schema") {
                    return self.value(s, self.def("JSONSchemaProps"), path, depth + 1);
                }
                let items: &[Node] = match field("j_son_schemas").or_else(|| field("property")) {
                    Some(Node::List(items)) => items,
                    _ => &[],
                };
                let item_schema = if name == "JsonSchemaPropsOrArray" { self.def("JSONSchemaProps") } else { &NULL };
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.value(item, item_schema, &format!("{path}[{i}]"), depth + 1)?.unwrap_or(Value::Null));
                }
                return Ok(Some(Value::Array(out)));
            }
            "Duration" => {
                return match scalar("duration") {
                    Some(Node::Num(n)) => {
                        let nanos = n.parse::<i64>().map_err(|_| format!("{path}: {n} is not a duration"))?;
                        Ok(Some(Value::String(go_duration(nanos))))
                    }
                    _ => Ok(Some(Value::String("0s".into()))),
                };
            }
            _ => {}
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let mut out = Map::new();
        for (field_name, node) in fields {
            let (json_name, child) = match properties.and_then(|p| p.iter().find(|(k, _)| normalized(k) == normalized(field_name))) {
                Some((k, child)) => (k.clone(), child),
                None if properties.is_none() => (camel(field_name), &NULL),
                // A field newer than Kubernetes 1.33 (k8s-pb follows later releases): a 1.33
                // server's decoder skips fields it does not know.
                None => continue,
            };
            if let Node::Opt(Some(inner)) = node {
                let zero = match &**inner {
                    Node::Str(s) => s.is_empty() && !EMPTY_STRING_KEPT.contains(&(name, json_name.as_str())),
                    Node::Num(n) => n == "0" && ZERO_OMITTED.contains(&(name, json_name.as_str())),
                    Node::Bool(b) => !b && ZERO_OMITTED.contains(&(name, json_name.as_str())),
                    _ => false,
                };
                if zero {
                    continue;
                }
            }
            let child_path = join(path, &json_name);
            if let Some(v) = self.value(node, child, &child_path, depth + 1)? {
                out.insert(json_name, v);
            }
        }
        Ok(Some(Value::Object(out)))
    }
}

fn number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    if let Ok(u) = text.parse::<u64>() {
        return Some(Value::from(u));
    }
    let f = text.parse::<f64>().ok()?;
    // A whole double is written as Go's JSON writes it: `1`, not `1.0`.
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Some(Value::from(f as i64));
    }
    serde_json::Number::from_f64(f).map(Value::Number)
}

fn byte_list(items: &[Node]) -> Option<Vec<u8>> {
    items
        .iter()
        .map(|n| match n {
            Node::Num(n) => n.parse::<u8>().ok(),
            _ => None,
        })
        .collect()
}

/// A duration as Go's `time.Duration.String` writes it (`1h0m0s`, `1m30s`, `1.5s`, `300ms`).
pub fn go_duration(nanos: i64) -> String {
    fn fraction(value: u64, scale: u64) -> String {
        let (whole, rest) = (value / scale, value % scale);
        if rest == 0 {
            return whole.to_string();
        }
        let width = scale.to_string().len() - 1;
        let digits = format!("{rest:0width$}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }
    if nanos == 0 {
        return "0s".to_owned();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let u = nanos.unsigned_abs();
    let body = if u < 1_000 {
        format!("{u}ns")
    } else if u < 1_000_000 {
        format!("{}µs", fraction(u, 1_000))
    } else if u < 1_000_000_000 {
        format!("{}ms", fraction(u, 1_000_000))
    } else {
        let seconds = u / 1_000_000_000;
        let (h, m) = (seconds / 3600, (seconds / 60) % 60);
        let s = format!("{}s", fraction(u % 60_000_000_000, 1_000_000_000));
        if h > 0 {
            format!("{h}h{m}m{s}")
        } else if m > 0 {
            format!("{m}m{s}")
        } else {
            s
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_durations_as_go_does() {
        for (nanos, text) in [
            (0, "0s"),
            (1500, "1.5µs"),
            (300_000_000, "300ms"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (-5_400_000_000_000, "-1h30m0s"),
        ] {
            assert_eq!(go_duration(nanos), text);
            assert_eq!(super::super::encode::duration_nanos(text), Some(nanos), "{text}");
        }
    }
}
