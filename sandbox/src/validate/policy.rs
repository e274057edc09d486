//! `ValidatePodDisruptionBudget` (policy/v1): `minAvailable` and `maxUnavailable` as
//! non-negative integers or percentages of at most 100 %, not both; the label selector; the
//! unhealthy pod eviction policy.

use serde_json::Value;

use super::kinds::validate_label_selector;
use super::FieldError;
use crate::selector::go_quote;
use cairn_core::names::regex_error;

/// How Go prints an `intstr.IntOrString` value in a field error.
fn go_int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => format!("intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}", go_quote(s)),
        other => format!("intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}", other.as_i64().unwrap_or(0)),
    }
}

/// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent`.
fn validate_int_or_percent(value: &Value, path: &str, errs: &mut Vec<FieldError>) {
    match value {
        Value::String(s) => {
            let digits = s.strip_suffix('%').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            match digits {
                None => errs.push(FieldError::invalid(
                    path,
                    go_int_or_string(value),
                    regex_error("a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%", &["1%", "93%"]),
                )),
                Some(d) if d.parse::<u64>().map_or(true, |p| p > 100) => {
                    errs.push(FieldError::invalid(path, go_int_or_string(value), "must not be greater than 100%"))
                }
                Some(_) => {}
            }
        }
        Value::Number(n) => {
            if let Some(n) = n.as_i64().filter(|n| *n < 0) {
                errs.push(FieldError::invalid(path, n.to_string(), "must be greater than or equal to 0"));
            }
        }
        _ => errs.push(FieldError::invalid(path, super::go_value(value), "must be an integer or percentage (e.g '5%')")),
    }
}

/// The rules of a PDB's `spec`.
pub(super) fn validate_pdb(spec: &Value, errs: &mut Vec<FieldError>) {
    let min = spec.get("minAvailable").filter(|v| !v.is_null());
    let max = spec.get("maxUnavailable").filter(|v| !v.is_null());
    if min.is_some() && max.is_some() {
        errs.push(FieldError::invalid("spec", super::go_value(spec), "minAvailable and maxUnavailable cannot be both set"));
    }
    if let Some(min) = min {
        validate_int_or_percent(min, "spec.minAvailable", errs);
    }
    if let Some(max) = max {
        validate_int_or_percent(max, "spec.maxUnavailable", errs);
    }
    if let Some(selector) = spec.get("selector").filter(|s| !s.is_null()) {
        validate_label_selector(selector, "spec.selector", errs);
    }
    if let Some(policy) = spec.get("unhealthyPodEvictionPolicy").and_then(Value::as_str) {
        if !matches!(policy, "AlwaysAllow" | "IfHealthyBudget") {
            errs.push(FieldError::not_supported("spec.unhealthyPodEvictionPolicy", go_quote(policy), &["AlwaysAllow", "IfHealthyBudget"]));
        }
    }
}
