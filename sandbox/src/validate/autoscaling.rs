//! `ValidateHorizontalPodAutoscaler` (autoscaling/v2): replica bounds, the scale target
//! reference, metric sources and targets, and scaling behavior, with kube-apiserver 1.33's
//! paths and messages. The checks of the target, metrics and behavior run in that order and
//! stop at the first that fails, as the apiserver's do.

use serde_json::Value;

use super::FieldError;
use crate::selector::go_quote;
use cairn_core::names::path_segment_errors;
use cairn_core::Quantity;

const MAX_PERIOD_SECONDS: i64 = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS: i64 = 3600;

/// The rules of an HPA's `spec`.
pub(super) fn validate_hpa(spec: &Value, errs: &mut Vec<FieldError>) {
    let min = spec.get("minReplicas").and_then(Value::as_i64);
    let max = spec.get("maxReplicas").and_then(Value::as_i64).unwrap_or(0);
    // 1 unless the HPAScaleToZero alpha gate is on (the sandbox runs without alpha gates).
    if let Some(min) = min.filter(|m| *m < 1) {
        errs.push(FieldError::invalid("spec.minReplicas", min.to_string(), "must be greater than or equal to 1"));
    }
    if max < 1 {
        errs.push(FieldError::invalid("spec.maxReplicas", max.to_string(), "must be greater than 0"));
    }
    if min.is_some_and(|m| max < m) {
        errs.push(FieldError::invalid("spec.maxReplicas", max.to_string(), "must be greater than or equal to `minReplicas`"));
    }
    let before = errs.len();
    validate_reference(spec.get("scaleTargetRef").unwrap_or(&Value::Null), "spec.scaleTargetRef", errs);
    if errs.len() > before {
        return;
    }
    for (i, metric) in spec.get("metrics").and_then(Value::as_array).into_iter().flatten().enumerate() {
        validate_metric(metric, &format!("spec.metrics[{i}]"), errs);
    }
    if errs.len() > before {
        return;
    }
    if let Some(behavior) = spec.get("behavior").filter(|b| b.is_object()) {
        for direction in ["scaleUp", "scaleDown"] {
            if let Some(rules) = behavior.get(direction).filter(|r| r.is_object()) {
                validate_rules(rules, &format!("spec.behavior.{direction}"), errs);
            }
        }
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// `ValidateCrossVersionObjectReference`.
fn validate_reference(reference: &Value, path: &str, errs: &mut Vec<FieldError>) {
    for field in ["kind", "name"] {
        let value = str_of(reference, field);
        if value.is_empty() {
            errs.push(FieldError::required(format!("{path}.{field}"), ""));
        } else {
            for msg in path_segment_errors(value) {
                errs.push(FieldError::invalid(format!("{path}.{field}"), go_quote(value), msg));
            }
        }
    }
}

/// A quantity that is not positive, as Go prints it (`Quantity.String()`, unquoted).
fn not_positive(q: &Value) -> Option<String> {
    Quantity::from_json(q).ok().filter(|q| q.is_negative() || q.is_zero()).map(|q| q.canonical())
}

/// `validateMetricTarget`.
fn validate_target(target: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let kind = str_of(target, "type");
    if kind.is_empty() {
        errs.push(FieldError::required(format!("{path}.type"), "must specify a metric target type"));
    }
    if !matches!(kind, "Utilization" | "Value" | "AverageValue") {
        errs.push(FieldError::invalid(format!("{path}.type"), go_quote(kind), "must be either Utilization, Value, or AverageValue"));
    }
    for field in ["value", "averageValue"] {
        if let Some(q) = target.get(field).filter(|q| !q.is_null()) {
            if let Some(shown) = not_positive(q) {
                errs.push(FieldError::invalid(format!("{path}.{field}"), shown, "must be positive"));
            }
        }
    }
    if let Some(n) = target.get("averageUtilization").and_then(Value::as_i64).filter(|n| *n < 1) {
        errs.push(FieldError::invalid(format!("{path}.averageUtilization"), n.to_string(), "must be greater than 0"));
    }
}

/// A Resource or ContainerResource source's name and target.
fn validate_resource(source: &Value, path: &str, container: bool, errs: &mut Vec<FieldError>) {
    if str_of(source, "name").is_empty() {
        errs.push(FieldError::required(format!("{path}.name"), "must specify a resource name"));
    }
    if container && str_of(source, "container").is_empty() {
        errs.push(FieldError::required(format!("{path}.container"), "must specify a container"));
    }
    let target = source.get("target").unwrap_or(&Value::Null);
    validate_target(target, &format!("{path}.target"), errs);
    let has = |f: &str| target.get(f).is_some_and(|v| !v.is_null());
    if !has("averageUtilization") && !has("averageValue") {
        errs.push(FieldError::required(
            format!("{path}.target.averageUtilization"),
            "must set either a target raw value or a target utilization",
        ));
    }
    if has("averageUtilization") && has("averageValue") {
        errs.push(FieldError::forbidden(
            format!("{path}.target.averageValue"),
            "may not set both a target raw value and a target utilization",
        ));
    }
}

/// A Pods, Object or External source: a metric name and a target of the allowed shape.
fn validate_named(source: &Value, path: &str, kind: &str, errs: &mut Vec<FieldError>) {
    if kind == "Object" {
        validate_reference(source.get("describedObject").unwrap_or(&Value::Null), &format!("{path}.describedObject"), errs);
    }
    if str_of(source.get("metric").unwrap_or(&Value::Null), "name").is_empty() {
        errs.push(FieldError::required(format!("{path}.metric.name"), "must specify a metric name"));
    }
    let target = source.get("target").unwrap_or(&Value::Null);
    validate_target(target, &format!("{path}.target"), errs);
    let has = |f: &str| target.get(f).is_some_and(|v| !v.is_null());
    match kind {
        "Pods" if !has("averageValue") => {
            errs.push(FieldError::required(format!("{path}.target.averageValue"), "must specify a positive target averageValue"))
        }
        "Object" | "External" if !has("value") && !has("averageValue") => {
            errs.push(FieldError::required(format!("{path}.target.value"), "must set either a target value or averageValue"))
        }
        _ => {}
    }
}

const SOURCES: &[(&str, &str)] = &[
    ("Object", "object"),
    ("Pods", "pods"),
    ("Resource", "resource"),
    ("ContainerResource", "containerResource"),
    ("External", "external"),
];

/// `validateMetricSpec`.
fn validate_metric(metric: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let kind = str_of(metric, "type");
    if kind.is_empty() {
        errs.push(FieldError::required(format!("{path}.type"), "must specify a metric source type"));
    }
    let Some((_, expected)) = SOURCES.iter().find(|(k, _)| *k == kind) else {
        errs.push(FieldError::not_supported(
            format!("{path}.type"),
            go_quote(kind),
            &["ContainerResource", "External", "Object", "Pods", "Resource"],
        ));
        return;
    };
    let present: Vec<&(&str, &str)> = SOURCES.iter().filter(|(_, field)| metric.get(*field).is_some_and(|v| !v.is_null())).collect();
    if let Some((k, field)) = present.first() {
        let source = &metric[*field];
        let spath = format!("{path}.{field}");
        match *k {
            "Resource" => validate_resource(source, &spath, false, errs),
            "ContainerResource" => validate_resource(source, &spath, true, errs),
            other => validate_named(source, &spath, other, errs),
        }
    }
    if !present.iter().any(|(_, f)| f == expected) {
        errs.push(FieldError::required(format!("{path}.{expected}"), "must populate information for the given metric source"));
    }
    for (_, field) in present.iter().filter(|(_, f)| f != expected) {
        errs.push(FieldError::forbidden(format!("{path}.{field}"), "must populate the given metric source only"));
    }
}

/// `validateScalingRules`.
fn validate_rules(rules: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if let Some(window) = rules.get("stabilizationWindowSeconds").and_then(Value::as_i64) {
        if window < 0 {
            errs.push(FieldError::invalid(
                format!("{path}.stabilizationWindowSeconds"),
                window.to_string(),
                "must be greater than or equal to zero",
            ));
        }
        if window > MAX_STABILIZATION_WINDOW_SECONDS {
            errs.push(FieldError::invalid(
                format!("{path}.stabilizationWindowSeconds"),
                window.to_string(),
                format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            ));
        }
    }
    if let Some(select) = rules.get("selectPolicy").and_then(Value::as_str) {
        if !matches!(select, "Max" | "Min" | "Disabled") {
            errs.push(FieldError::not_supported(format!("{path}.selectPolicy"), go_quote(select), &["Disabled", "Max", "Min"]));
        }
    }
    let policies = rules.get("policies").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    if policies.is_empty() {
        errs.push(FieldError::required(format!("{path}.policies"), "must specify at least one Policy"));
    }
    for (i, policy) in policies.iter().enumerate() {
        let ppath = format!("{path}.policies[{i}]");
        let kind = str_of(policy, "type");
        if !matches!(kind, "Pods" | "Percent") {
            errs.push(FieldError::not_supported(format!("{ppath}.type"), go_quote(kind), &["Percent", "Pods"]));
        }
        let value = policy.get("value").and_then(Value::as_i64).unwrap_or(0);
        if value <= 0 {
            errs.push(FieldError::invalid(format!("{ppath}.value"), value.to_string(), "must be greater than zero"));
        }
        let period = policy.get("periodSeconds").and_then(Value::as_i64).unwrap_or(0);
        if period <= 0 {
            errs.push(FieldError::invalid(format!("{ppath}.periodSeconds"), period.to_string(), "must be greater than zero"));
        }
        if period > MAX_PERIOD_SECONDS {
            errs.push(FieldError::invalid(
                format!("{ppath}.periodSeconds"),
                period.to_string(),
                format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            ));
        }
    }
}
