//! Bad values as kube-apiserver's messages print them (Go's `%q`, `%v` and `%#v`).

use serde_json::{Map, Value};

use crate::selector::go_quote;

/// A JSON value as `field.Error` prints it: strings quoted (`"x"`), numbers and booleans bare,
/// `null` as `null`, string maps as `map[string]string{"a":"b"}`, string lists as
/// `[]string{"a", "b"}`, anything else as compact JSON.
pub fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => go_quote(s),
        Value::Array(items) if items.iter().all(Value::is_string) => go_string_slice(Some(v)),
        Value::Object(map) if map.values().all(Value::is_string) => go_string_map(Some(v)),
        other => other.to_string(),
    }
}

/// Go's `%#v` of a `map[string]string` (keys sorted; `null` or absent is the nil map).
pub fn go_string_map(v: Option<&Value>) -> String {
    let Some(map) = v.and_then(Value::as_object) else { return "map[string]string(nil)".to_owned() };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let entries: Vec<String> =
        keys.iter().map(|k| format!("{}:{}", go_quote(k), go_quote(map.get(*k).and_then(Value::as_str).unwrap_or_default()))).collect();
    format!("map[string]string{{{}}}", entries.join(", "))
}

/// Go's `%#v` of a `[]string` (`null` or absent is the nil slice).
pub(crate) fn go_string_slice(v: Option<&Value>) -> String {
    let Some(items) = v.and_then(Value::as_array) else { return "[]string(nil)".to_owned() };
    let quoted: Vec<String> = items.iter().map(|i| go_quote(i.as_str().unwrap_or_default())).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// A label selector as immutability errors print it:
/// `v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`.
pub fn go_label_selector(v: Option<&Value>) -> String {
    let Some(selector) = v.and_then(Value::as_object) else { return "null".to_owned() };
    let expressions = match selector.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_owned(),
        Some(exprs) => {
            let rendered: Vec<String> = exprs.iter().map(|e| go_requirement(e.as_object())).collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", rendered.join(", "))
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}", go_string_map(selector.get("matchLabels")), expressions)
}

fn go_requirement(e: Option<&Map<String, Value>>) -> String {
    let field = |k: &str| e.and_then(|e| e.get(k)).and_then(Value::as_str).unwrap_or_default();
    format!(
        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
        go_quote(field("key")),
        go_quote(field("operator")),
        go_string_slice(e.and_then(|e| e.get("values")))
    )
}

/// The `core.ServicePort` key a duplicate Service port is reported with.
pub(crate) fn service_port_key(protocol: &str, port: i64) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        go_quote(protocol)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_go_syntax() {
        assert_eq!(go_value(&json!("a\"b")), "\"a\\\"b\"");
        assert_eq!(go_value(&json!(80)), "80");
        assert_eq!(go_value(&json!({"b": "2", "a": "1"})), "map[string]string{\"a\":\"1\", \"b\":\"2\"}");
        assert_eq!(go_value(&json!(["x", "y"])), "[]string{\"x\", \"y\"}");
        assert_eq!(go_string_map(None), "map[string]string(nil)");
        assert_eq!(
            go_label_selector(Some(&json!({"matchLabels": {"app": "web"}}))),
            "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
        assert_eq!(
            go_label_selector(Some(&json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]}))),
            "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"tier\", Operator:\"In\", Values:[]string{\"a\"}}}}"
        );
    }
}
