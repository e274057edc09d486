//! Per-kind rules: `ValidateDeployment`, `ValidateStatefulSet`, `ValidateService`,
//! `ValidatePersistentVolumeClaim`, `ValidateSecret`, ... and their `...Update` counterparts.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::meta::validate_labels;
use super::pod::{validate_pod_spec, validate_pod_template, PORT_RANGE};
use super::render::{go_label_selector, go_string_map, go_value, service_port_key};
use super::FieldError;
use crate::selector::{go_quote, LabelSelector};
use cairn_core::names::{dns1123_label_errors, dns1123_subdomain_errors, label_value_errors, qualified_name_errors, regex_error};
use cairn_core::Quantity;

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |node, key| node.get(key)).filter(|v| !v.is_null())
}

/// A copy without `null` members, for comparing what two objects say.
fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), strip_nulls(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    strip_nulls(a.unwrap_or(&Value::Null)) == strip_nulls(b.unwrap_or(&Value::Null))
}

/// `ValidateLabelSelector`.
pub(super) fn validate_label_selector(selector: &Value, path: &str, errs: &mut Vec<FieldError>) {
    validate_labels(selector.get("matchLabels"), &format!("{path}.matchLabels"), errs);
    for (i, expr) in list(selector, "matchExpressions").iter().enumerate() {
        let epath = format!("{path}.matchExpressions[{i}]");
        let values = list(expr, "values");
        match str_at(expr, "operator") {
            "In" | "NotIn" if values.is_empty() => {
                errs.push(FieldError::required(format!("{epath}.values"), "must be specified when `operator` is 'In' or 'NotIn'"))
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                format!("{epath}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::invalid(format!("{epath}.operator"), go_quote(other), "not a valid selector operator")),
        }
        let key = str_at(expr, "key");
        for msg in qualified_name_errors(key) {
            errs.push(FieldError::invalid(format!("{epath}.key"), go_quote(key), msg));
        }
        for (j, value) in values.iter().enumerate() {
            let value = value.as_str().unwrap_or_default();
            for msg in label_value_errors(value) {
                errs.push(FieldError::invalid(format!("{epath}.values[{j}]"), go_quote(value), msg));
            }
        }
    }
}

fn non_negative(spec: &Value, field: &str, path: &str, errs: &mut Vec<FieldError>) {
    if let Some(n) = spec.get(field).and_then(Value::as_i64) {
        if n < 0 {
            errs.push(FieldError::invalid(format!("{path}.{field}"), n.to_string(), "must be greater than or equal to 0"));
        }
    }
}

/// The selector and template rules shared by Deployment, ReplicaSet, StatefulSet and
/// DaemonSet (`ValidatePodTemplateSpecForReplicaSet` and friends).
fn validate_controller(spec: &Value, word: &str, template_word: &str, extra_volumes: &[String], errs: &mut Vec<FieldError>) {
    let selector = spec.get("selector").filter(|s| !s.is_null());
    match selector {
        None => errs.push(FieldError::required("spec.selector", "")),
        Some(selector) => {
            validate_label_selector(selector, "spec.selector", errs);
            if list(selector, "matchExpressions").is_empty()
                && selector.get("matchLabels").and_then(Value::as_object).is_none_or(Map::is_empty)
            {
                errs.push(FieldError::invalid(
                    "spec.selector",
                    go_label_selector(Some(selector)),
                    format!("empty selector is invalid for {word}"),
                ));
            }
        }
    }
    let template = spec.get("template");
    match LabelSelector::from_json(selector.unwrap_or(&Value::Null)) {
        Err(_) => errs.push(FieldError::invalid("spec.selector", go_label_selector(selector), "invalid label selector")),
        Ok(parsed) => {
            if let Some(template) = template.filter(|t| t.is_object()) {
                let labels = lookup(template, "metadata.labels");
                let empty = Map::new();
                if !parsed.is_empty() && !parsed.matches(labels.and_then(Value::as_object).unwrap_or(&empty)) {
                    errs.push(FieldError::invalid(
                        "spec.template.metadata.labels",
                        go_string_map(labels),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            validate_pod_template(template, "spec.template", extra_volumes, errs);
            if let Some(template_spec) = template.and_then(|t| t.get("spec")) {
                let policy = str_at(template_spec, "restartPolicy");
                if !policy.is_empty() && policy != "Always" {
                    errs.push(FieldError::not_supported("spec.template.spec.restartPolicy", go_quote(policy), &["Always"]));
                }
                if let Some(deadline) = template_spec.get("activeDeadlineSeconds").filter(|d| !d.is_null()) {
                    errs.push(FieldError::invalid(
                        "spec.template.spec.activeDeadlineSeconds",
                        go_value(deadline),
                        format!("activeDeadlineSeconds in {template_word} is not Supported"),
                    ));
                }
            }
        }
    }
}

/// The create rules of one kind.
pub(super) fn validate_kind(group: &str, kind: &str, obj: &Value, errs: &mut Vec<FieldError>) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    match (group, kind) {
        ("", "Pod") => validate_pod_spec(spec, "spec", &[], errs),
        ("apps", "Deployment") => {
            non_negative(spec, "replicas", "spec", errs);
            validate_controller(spec, "deployment", "ReplicaSet", &[], errs);
            let strategy = spec.get("strategy").unwrap_or(&Value::Null);
            match str_at(strategy, "type") {
                "" | "RollingUpdate" => {}
                "Recreate" => {
                    if strategy.get("rollingUpdate").is_some_and(|r| !r.is_null()) {
                        errs.push(FieldError::forbidden(
                            "spec.strategy.rollingUpdate",
                            "may not be specified when strategy `type` is 'Recreate'",
                        ));
                    }
                }
                other => errs.push(FieldError::not_supported("spec.strategy.type", go_quote(other), &["Recreate", "RollingUpdate"])),
            }
            non_negative(spec, "revisionHistoryLimit", "spec", errs);
            if let (Some(deadline), min_ready) = (
                spec.get("progressDeadlineSeconds").and_then(Value::as_i64),
                spec.get("minReadySeconds").and_then(Value::as_i64).unwrap_or(0),
            ) {
                if deadline <= min_ready {
                    errs.push(FieldError::invalid(
                        "spec.progressDeadlineSeconds",
                        deadline.to_string(),
                        "must be greater than minReadySeconds",
                    ));
                }
            }
        }
        ("apps", "ReplicaSet") => {
            non_negative(spec, "replicas", "spec", errs);
            validate_controller(spec, "deployment", "ReplicaSet", &[], errs);
        }
        ("apps", "DaemonSet") => validate_controller(spec, "daemonset", "DaemonSet", &[], errs),
        ("apps", "StatefulSet") => {
            match spec.get("podManagementPolicy").and_then(Value::as_str) {
                None | Some("OrderedReady" | "Parallel") => {}
                Some(other) => {
                    errs.push(FieldError::invalid("spec.podManagementPolicy", go_quote(other), "must be 'OrderedReady' or 'Parallel'"))
                }
            }
            let service_name = str_at(spec, "serviceName");
            if !service_name.is_empty() {
                for msg in dns1123_label_errors(service_name) {
                    errs.push(FieldError::invalid("spec.serviceName", go_quote(service_name), msg));
                }
            }
            non_negative(spec, "replicas", "spec", errs);
            let claims: Vec<String> = list(spec, "volumeClaimTemplates")
                .iter()
                .filter_map(|c| lookup(c, "metadata.name"))
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            validate_controller(spec, "statefulset", "StatefulSet", &claims, errs);
        }
        ("batch", "Job") => validate_job_spec(spec, "spec", errs),
        ("batch", "CronJob") => {
            let schedule = str_at(spec, "schedule");
            if schedule.is_empty() {
                errs.push(FieldError::required("spec.schedule", ""));
            } else {
                for message in super::cron::schedule_errors(schedule) {
                    errs.push(FieldError::invalid("spec.schedule", go_quote(schedule), message));
                }
            }
            match spec.get("concurrencyPolicy").and_then(Value::as_str) {
                None | Some("Allow" | "Forbid" | "Replace") => {}
                Some(other) => {
                    errs.push(FieldError::not_supported("spec.concurrencyPolicy", go_quote(other), &["Allow", "Forbid", "Replace"]))
                }
            }
            let job_spec = lookup(spec, "jobTemplate.spec").unwrap_or(&Value::Null);
            validate_job_spec(job_spec, "spec.jobTemplate.spec", errs);
        }
        ("", "Service") => validate_service(spec, errs),
        ("autoscaling", "HorizontalPodAutoscaler") => super::autoscaling::validate_hpa(spec, errs),
        ("policy", "PodDisruptionBudget") => super::policy::validate_pdb(spec, errs),
        ("networking.k8s.io", "Ingress") => super::networking::validate_ingress(spec, errs),
        ("networking.k8s.io", "IngressClass") => super::networking::validate_ingress_class(spec, errs),
        ("", "PersistentVolumeClaim") => validate_pvc_spec(spec, "spec", errs),
        ("", "Secret") => validate_secret(obj, errs),
        ("", "ConfigMap") => validate_config_map(obj, errs),
        ("storage.k8s.io", "StorageClass") => {
            if str_at(obj, "provisioner").is_empty() {
                errs.push(FieldError::required("provisioner", ""));
            }
            match obj.get("reclaimPolicy").and_then(Value::as_str) {
                None | Some("Delete" | "Retain") => {}
                Some(other) => errs.push(FieldError::not_supported("reclaimPolicy", go_quote(other), &["Delete", "Retain"])),
            }
            match obj.get("volumeBindingMode").and_then(Value::as_str) {
                None | Some("Immediate" | "WaitForFirstConsumer") => {}
                Some(other) => {
                    errs.push(FieldError::not_supported("volumeBindingMode", go_quote(other), &["Immediate", "WaitForFirstConsumer"]))
                }
            }
        }
        ("", "ResourceQuota") => {
            for (name, q) in lookup(spec, "hard").and_then(Value::as_object).into_iter().flatten() {
                if let Ok(q) = Quantity::from_json(q) {
                    if q.is_negative() {
                        errs.push(FieldError::invalid(
                            format!("spec.hard[{name}]"),
                            go_quote(&q.canonical()),
                            "must be greater than or equal to 0",
                        ));
                    }
                }
            }
        }
        _ => {}
    }
}

/// `ValidateJobSpec` (also for a CronJob's job template, with its path).
fn validate_job_spec(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    for field in ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit"] {
        non_negative(spec, field, path, errs);
    }
    let selector = spec.get("selector").filter(|s| !s.is_null());
    let manual = spec.get("manualSelector").and_then(Value::as_bool) == Some(true);
    match selector {
        None if manual => errs.push(FieldError::required(format!("{path}.selector"), "")),
        None => {}
        Some(selector) => {
            validate_label_selector(selector, &format!("{path}.selector"), errs);
            if let Ok(parsed) = LabelSelector::from_json(selector) {
                let labels = spec.get("template").and_then(|t| lookup(t, "metadata.labels"));
                let empty = Map::new();
                if !parsed.matches(labels.and_then(Value::as_object).unwrap_or(&empty)) {
                    errs.push(FieldError::invalid(
                        format!("{path}.template.metadata.labels"),
                        go_string_map(labels),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
        }
    }
    let template = spec.get("template");
    validate_pod_template(template, &format!("{path}.template"), &[], errs);
    let policy = template.and_then(|t| t.get("spec")).map(|s| str_at(s, "restartPolicy")).unwrap_or_default();
    if policy != "OnFailure" && policy != "Never" {
        errs.push(FieldError::not_supported(format!("{path}.template.spec.restartPolicy"), go_quote(policy), &["OnFailure", "Never"]));
    }
}

/// `ValidateService` (the parts that do not depend on the cluster) and the IP-family checks of
/// a single-stack IPv4 cluster.
fn validate_service(spec: &Value, errs: &mut Vec<FieldError>) {
    let service_type = str_at(spec, "type");
    let headless = str_at(spec, "clusterIP") == "None";
    let ports = list(spec, "ports");
    if ports.is_empty() && !headless && service_type != "ExternalName" {
        errs.push(FieldError::required("spec.ports", ""));
    }
    let require_name = ports.len() > 1;
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let ppath = format!("spec.ports[{i}]");
        let name = str_at(port, "name");
        if require_name && name.is_empty() {
            errs.push(FieldError::required(format!("{ppath}.name"), ""));
        } else if !name.is_empty() {
            for msg in dns1123_label_errors(name) {
                errs.push(FieldError::invalid(format!("{ppath}.name"), go_quote(name), msg));
            }
            if !names.insert(name.to_owned()) {
                errs.push(FieldError::duplicate(format!("{ppath}.name"), go_quote(name)));
            }
        }
        let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
        if !(1..=65535).contains(&number) {
            errs.push(FieldError::invalid(format!("{ppath}.port"), number.to_string(), PORT_RANGE));
        }
        match port.get("protocol").and_then(Value::as_str) {
            None | Some("TCP" | "UDP" | "SCTP") => {}
            Some(other) => errs.push(FieldError::not_supported(format!("{ppath}.protocol"), go_quote(other), &["SCTP", "TCP", "UDP"])),
        }
        match port.get("targetPort") {
            Some(Value::Number(n)) => {
                let n = n.as_i64().unwrap_or(0);
                if !(1..=65535).contains(&n) {
                    errs.push(FieldError::invalid(format!("{ppath}.targetPort"), n.to_string(), PORT_RANGE));
                }
            }
            Some(Value::String(s)) if !s.is_empty() => {
                let valid = s.len() <= 15
                    && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && s.bytes().any(|b| b.is_ascii_lowercase())
                    && !s.contains("--")
                    && !s.starts_with('-')
                    && !s.ends_with('-');
                if !valid {
                    errs.push(FieldError::invalid(
                        format!("{ppath}.targetPort"),
                        go_quote(s),
                        "must contain at least one letter or number (a-z, 0-9)",
                    ));
                }
            }
            _ => {}
        }
    }
    validate_labels(spec.get("selector"), "spec.selector", errs);
    match spec.get("sessionAffinity").and_then(Value::as_str) {
        None | Some("None" | "ClientIP") => {}
        Some(other) => errs.push(FieldError::not_supported("spec.sessionAffinity", go_quote(other), &["ClientIP", "None"])),
    }
    match service_type {
        "" | "ClusterIP" | "ExternalName" | "LoadBalancer" | "NodePort" => {}
        other => {
            errs.push(FieldError::not_supported("spec.type", go_quote(other), &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]))
        }
    }
    if service_type == "ExternalName" {
        if !str_at(spec, "clusterIP").is_empty() {
            errs.push(FieldError::forbidden("spec.clusterIP", "may not be set for ExternalName services"));
        }
        let external = str_at(spec, "externalName");
        if external.is_empty() {
            errs.push(FieldError::required("spec.externalName", ""));
        } else {
            let trimmed = external.strip_suffix('.').unwrap_or(external);
            for msg in dns1123_subdomain_errors(trimmed) {
                errs.push(FieldError::invalid("spec.externalName", go_quote(external), msg));
            }
        }
    }
    if service_type == "ClusterIP" {
        for (i, port) in ports.iter().enumerate() {
            if port.get("nodePort").and_then(Value::as_i64).is_some_and(|p| p != 0) {
                errs.push(FieldError::forbidden(format!("spec.ports[{i}].nodePort"), "may not be used when `type` is 'ClusterIP'"));
            }
        }
    }
    let mut keys = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
        let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
        if !keys.insert((protocol.to_owned(), number)) {
            errs.push(FieldError::duplicate(format!("spec.ports[{i}]"), service_port_key(protocol, number)));
        }
    }
    if service_type != "ExternalName" {
        let selectorless = spec.get("selector").and_then(Value::as_object).is_none_or(Map::is_empty);
        if !(headless && selectorless) {
            if str_at(spec, "ipFamilyPolicy") == "RequireDualStack" {
                errs.push(FieldError::invalid(
                    "spec.ipFamilyPolicy",
                    go_quote("RequireDualStack"),
                    "this cluster is not configured for dual-stack services",
                ));
            }
            for (i, family) in list(spec, "ipFamilies").iter().enumerate() {
                let family = family.as_str().unwrap_or_default();
                if family != "IPv4" {
                    errs.push(FieldError::invalid(format!("spec.ipFamilies[{i}]"), go_quote(family), "not configured on this cluster"));
                }
            }
        }
    }
}

/// `ValidatePersistentVolumeClaimSpec`.
fn validate_pvc_spec(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let modes = list(spec, "accessModes");
    if modes.is_empty() {
        errs.push(FieldError::required(format!("{path}.accessModes"), "at least 1 access mode is required"));
    }
    for mode in modes {
        let mode = mode.as_str().unwrap_or_default();
        if !matches!(mode, "ReadOnlyMany" | "ReadWriteMany" | "ReadWriteOnce" | "ReadWriteOncePod") {
            errs.push(FieldError::not_supported(
                format!("{path}.accessModes"),
                go_quote(mode),
                &["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"],
            ));
        }
    }
    let storage_path = format!("{path}.resources[storage]");
    match lookup(spec, "resources.requests").and_then(|r| r.get("storage")) {
        None => errs.push(FieldError::required(storage_path, "")),
        Some(storage) => {
            if let Ok(q) = Quantity::from_json(storage) {
                if q.is_zero() || q.is_negative() {
                    errs.push(FieldError::invalid(storage_path, go_quote(&q.canonical()), "must be greater than zero"));
                }
            }
        }
    }
    match spec.get("volumeMode").and_then(Value::as_str) {
        None | Some("Block" | "Filesystem") => {}
        Some(other) => errs.push(FieldError::not_supported(format!("{path}.volumeMode"), go_quote(other), &["Block", "Filesystem"])),
    }
}

/// `validation.IsConfigMapKey`.
fn config_key_errors(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if key.len() > 253 {
        errs.push("must be no more than 253 characters".to_owned());
    }
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
        errs.push(regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            "[-._a-zA-Z0-9]+",
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if key == "." {
        errs.push("must not be '.'".to_owned());
    } else if key == ".." {
        errs.push("must not be '..'".to_owned());
    } else if key.starts_with("..") {
        errs.push("must not start with '..'".to_owned());
    }
    errs
}

/// The decoded length of a base64 value (for size limits).
fn decoded_len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.len() / 4 * 3)
}

const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// `ValidateSecret`: keys, size, and the keys each built-in type needs.
fn validate_secret(obj: &Value, errs: &mut Vec<FieldError>) {
    let empty = Map::new();
    let data = obj.get("data").and_then(Value::as_object).unwrap_or(&empty);
    let mut total = 0usize;
    for (key, value) in data {
        for msg in config_key_errors(key) {
            errs.push(FieldError::invalid(format!("data[{key}]"), go_quote(key), msg));
        }
        total = total.saturating_add(decoded_len(value));
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("data", MAX_SECRET_SIZE));
    }
    let require = |key: &str, errs: &mut Vec<FieldError>| {
        if !data.contains_key(key) {
            errs.push(FieldError::required(format!("data[{key}]"), ""));
        }
    };
    match str_at(obj, "type") {
        "kubernetes.io/service-account-token"
            if lookup(obj, "metadata.annotations").and_then(|a| a.get("kubernetes.io/service-account.name")).is_none() =>
        {
            errs.push(FieldError::required("metadata.annotations[kubernetes.io/service-account.name]", ""));
        }
        "kubernetes.io/dockercfg" => require(".dockercfg", errs),
        "kubernetes.io/dockerconfigjson" => require(".dockerconfigjson", errs),
        "kubernetes.io/basic-auth" if !data.contains_key("username") && !data.contains_key("password") => {
            require("username", errs);
            require("password", errs);
        }
        "kubernetes.io/ssh-auth" => require("ssh-privatekey", errs),
        "kubernetes.io/tls" => {
            require("tls.crt", errs);
            require("tls.key", errs);
        }
        _ => {}
    }
}

/// `ValidateConfigMap`: keys, keys in both `data` and `binaryData`, size.
fn validate_config_map(obj: &Value, errs: &mut Vec<FieldError>) {
    let empty = Map::new();
    let data = obj.get("data").and_then(Value::as_object).unwrap_or(&empty);
    let binary = obj.get("binaryData").and_then(Value::as_object).unwrap_or(&empty);
    let mut total = 0usize;
    for (key, value) in data {
        for msg in config_key_errors(key) {
            errs.push(FieldError::invalid(format!("data[{key}]"), go_quote(key), msg));
        }
        if binary.contains_key(key) {
            errs.push(FieldError::invalid(format!("data[{key}]"), go_quote(key), "duplicate of key present in binaryData"));
        }
        total = total.saturating_add(value.as_str().map_or(0, str::len));
    }
    for (key, value) in binary {
        for msg in config_key_errors(key) {
            errs.push(FieldError::invalid(format!("binaryData[{key}]"), go_quote(key), msg));
        }
        total = total.saturating_add(decoded_len(value));
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("", MAX_SECRET_SIZE));
    }
}

const STATEFULSET_MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
    "revisionHistoryLimit",
];

const STATEFULSET_FORBIDDEN: &str =
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', \
     'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

const IMMUTABLE_WHEN_SET: &str = "field is immutable when `immutable` is set";

fn without(spec: Option<&Value>, fields: &[&str]) -> Value {
    let mut map = spec.and_then(Value::as_object).cloned().unwrap_or_default();
    for field in fields {
        map.shift_remove(*field);
    }
    strip_nulls(&Value::Object(map))
}

/// The update rules of one kind.
pub(super) fn validate_kind_update(group: &str, kind: &str, old: &Value, new: &Value, errs: &mut Vec<FieldError>) {
    let old_spec = old.get("spec");
    let new_spec = new.get("spec");
    let spec_field = |spec: Option<&Value>, field: &str| spec.and_then(|s| s.get(field)).filter(|v| !v.is_null()).cloned();
    match (group, kind) {
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") => {
            let (o, n) = (spec_field(old_spec, "selector"), spec_field(new_spec, "selector"));
            if !same(o.as_ref(), n.as_ref()) {
                errs.push(FieldError::immutable("spec.selector", go_label_selector(n.as_ref())));
            }
        }
        ("apps", "StatefulSet") if without(old_spec, STATEFULSET_MUTABLE) != without(new_spec, STATEFULSET_MUTABLE) => {
            errs.push(FieldError::forbidden("spec", STATEFULSET_FORBIDDEN));
        }
        ("", "Service") => validate_service_update(old_spec.unwrap_or(&Value::Null), new_spec.unwrap_or(&Value::Null), errs),
        ("", "PersistentVolumeClaim") => validate_pvc_update(old, new, errs),
        ("storage.k8s.io", "StorageClass") => {
            if !same(old.get("parameters"), new.get("parameters")) {
                errs.push(FieldError::forbidden("parameters", "updates to parameters are forbidden."));
            }
            if str_at(old, "provisioner") != str_at(new, "provisioner") {
                errs.push(FieldError::forbidden("provisioner", "updates to provisioner are forbidden."));
            }
            if str_at(old, "reclaimPolicy") != str_at(new, "reclaimPolicy") {
                errs.push(FieldError::forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
            }
            if !same(old.get("volumeBindingMode"), new.get("volumeBindingMode")) {
                errs.push(FieldError::immutable("volumeBindingMode", go_value(new.get("volumeBindingMode").unwrap_or(&Value::Null))));
            }
        }
        ("", "ConfigMap" | "Secret") => {
            if kind == "Secret" && str_at(old, "type") != str_at(new, "type") {
                errs.push(FieldError::immutable("type", go_quote(str_at(new, "type"))));
            }
            if old.get("immutable").and_then(Value::as_bool) == Some(true) {
                if new.get("immutable").and_then(Value::as_bool) != Some(true) {
                    errs.push(FieldError::forbidden("immutable", IMMUTABLE_WHEN_SET));
                }
                let fields: &[&str] = if kind == "Secret" { &["data"] } else { &["data", "binaryData"] };
                for field in fields {
                    if !same(old.get(*field), new.get(*field)) {
                        errs.push(FieldError::forbidden(*field, IMMUTABLE_WHEN_SET));
                    }
                }
            }
        }
        ("batch", "Job") => {
            for field in ["completions", "selector", "template", "completionMode"] {
                let (o, n) = (spec_field(old_spec, field), spec_field(new_spec, field));
                if !same(o.as_ref(), n.as_ref()) {
                    let rendered = match field {
                        "selector" => go_label_selector(n.as_ref()),
                        _ => n.as_ref().map_or_else(|| "null".to_owned(), go_value),
                    };
                    errs.push(FieldError::immutable(format!("spec.{field}"), rendered));
                }
            }
        }
        _ => {}
    }
}

fn cluster_ips(spec: &Value) -> Vec<String> {
    let ips: Vec<String> = list(spec, "clusterIPs").iter().map(|ip| ip.as_str().unwrap_or_default().to_owned()).collect();
    if ips.is_empty() && !str_at(spec, "clusterIP").is_empty() {
        return vec![str_at(spec, "clusterIP").to_owned()];
    }
    ips
}

fn go_strings(items: &[String]) -> String {
    if items.is_empty() {
        return "[]string(nil)".to_owned();
    }
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// `validateUpgradeDowngradeClusterIPs`: the primary cluster IP may not change or go away.
fn validate_service_update(old: &Value, new: &Value, errs: &mut Vec<FieldError>) {
    if str_at(old, "type") == "ExternalName" || str_at(new, "type") == "ExternalName" {
        return;
    }
    let (old_ips, new_ips) = (cluster_ips(old), cluster_ips(new));
    let headless = |ips: &[String]| ips.first().map(String::as_str) == Some("None");
    if headless(&old_ips) && headless(&new_ips) {
        return;
    }
    let rendered = go_strings(&new_ips);
    if old_ips.len() == new_ips.len() {
        for (i, (o, n)) in old_ips.iter().zip(&new_ips).enumerate() {
            if o != n {
                errs.push(FieldError::invalid(format!("spec.clusterIPs[{i}]"), rendered.clone(), "may not change once set"));
            }
        }
    } else if old_ips.len() > new_ips.len() {
        if new_ips.is_empty() {
            errs.push(FieldError::invalid("spec.clusterIPs[0]", rendered.clone(), "primary clusterIP can not be unset"));
        } else if old_ips.first() != new_ips.first() {
            errs.push(FieldError::invalid("spec.clusterIPs[0]", rendered, "may not change once set"));
        }
    } else if !old_ips.is_empty() && old_ips.first() != new_ips.first() {
        errs.push(FieldError::invalid("spec.clusterIPs[0]", rendered, "may not change once set"));
    }
}

/// `ValidatePersistentVolumeClaimUpdate`: the spec is frozen except `resources.requests` of a
/// bound claim, `volumeAttributesClassName`, a first `volumeName` and a first class; storage
/// may not drop to `status.capacity` or below.
fn validate_pvc_update(old: &Value, new: &Value, errs: &mut Vec<FieldError>) {
    let mut old_spec = old.get("spec").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut new_spec = new.get("spec").and_then(Value::as_object).cloned().unwrap_or_default();
    if old_spec.get("volumeName").and_then(Value::as_str).unwrap_or_default().is_empty() {
        match new_spec.get("volumeName") {
            Some(v) => old_spec.insert("volumeName".into(), v.clone()),
            None => old_spec.shift_remove("volumeName"),
        };
    }
    if old_spec.get("storageClassName").is_none_or(Value::is_null) {
        new_spec.shift_remove("storageClassName");
        old_spec.shift_remove("storageClassName");
    }
    match new_spec.get("volumeAttributesClassName") {
        Some(v) => old_spec.insert("volumeAttributesClassName".into(), v.clone()),
        None => old_spec.shift_remove("volumeAttributesClassName"),
    };
    let phase = new.get("status").and_then(|s| s.get("phase")).or_else(|| old.get("status").and_then(|s| s.get("phase")));
    let storage_of =
        |spec: &Map<String, Value>| spec.get("resources").and_then(|r| r.get("requests")).and_then(|r| r.get("storage")).cloned();
    let old_storage = storage_of(&old_spec);
    let new_storage = storage_of(&new_spec);
    if phase.and_then(Value::as_str) == Some("Bound") {
        if let Some(requests) = new_spec.get_mut("resources").and_then(|r| r.get_mut("requests")).and_then(Value::as_object_mut) {
            match &old_storage {
                Some(s) => requests.insert("storage".into(), s.clone()),
                None => requests.shift_remove("storage"),
            };
        }
    }
    if strip_nulls(&Value::Object(old_spec.clone())) != strip_nulls(&Value::Object(new_spec)) {
        errs.push(FieldError::forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ));
    }
    let parse = |v: Option<&Value>| v.and_then(|v| Quantity::from_json(v).ok());
    if let (Some(o), Some(n)) = (parse(old_storage.as_ref()), parse(new_storage.as_ref())) {
        let capacity = parse(old.get("status").and_then(|s| s.get("capacity")).and_then(|c| c.get("storage")));
        let zero = Quantity::parse("0").ok();
        if n < o && capacity.or(zero).is_some_and(|c| n <= c) {
            errs.push(FieldError::forbidden("spec.resources.requests.storage", "field can not be less than status.capacity"));
        }
    }
    let (old_mode, new_mode) = (old.get("spec").and_then(|s| s.get("volumeMode")), new.get("spec").and_then(|s| s.get("volumeMode")));
    if !same(old_mode, new_mode) {
        errs.push(FieldError::immutable("volumeMode", go_value(new_mode.unwrap_or(&Value::Null))));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{invalid_message, validate_create, validate_update};
    use crate::defaults::apply_defaults;
    use crate::defaults::tests::TestContext;
    use serde_json::{json, Value};

    fn defaulted(api_version: &str, kind: &str, mut obj: Value) -> Value {
        apply_defaults(api_version, kind, &mut obj, &mut TestContext::default());
        obj
    }

    fn create_errors(api_version: &str, kind: &str, obj: Value) -> Vec<String> {
        let obj = defaulted(api_version, kind, obj);
        validate_create(api_version, kind, &obj).iter().map(ToString::to_string).collect()
    }

    fn update_errors(api_version: &str, kind: &str, old: &Value, new: &Value) -> Vec<String> {
        validate_update(api_version, kind, old, new).iter().map(ToString::to_string).collect()
    }

    fn deployment(selector: Value, labels: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"selector": selector, "template": {"metadata": {"labels": labels},
                   "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
    }

    #[test]
    fn valid_defaulted_objects_pass() {
        assert_eq!(
            create_errors("apps/v1", "Deployment", deployment(json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}))),
            Vec::<String>::new()
        );
        let svc = json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
        assert_eq!(create_errors("v1", "Service", svc), Vec::<String>::new());
        let pvc = json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        assert_eq!(create_errors("v1", "PersistentVolumeClaim", pvc), Vec::<String>::new());
        let job = json!({"metadata": {"name": "pi", "uid": "u"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}}});
        assert_eq!(create_errors("batch/v1", "Job", job), Vec::<String>::new());
    }

    #[test]
    fn workload_selectors_must_match_their_templates() {
        let obj = defaulted("apps/v1", "Deployment", deployment(json!({"matchLabels": {"app": "api"}}), json!({"app": "web"})));
        let errs = validate_create("apps/v1", "Deployment", &obj);
        assert_eq!(
            invalid_message("Deployment", "apps", "web", &errs),
            "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"
        );
        let mut missing = deployment(Value::Null, json!({"app": "web"}));
        if let Some(spec) = missing.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("selector");
        }
        assert_eq!(
            create_errors("apps/v1", "Deployment", missing),
            vec![
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
            ]
        );
        assert_eq!(
            create_errors("apps/v1", "ReplicaSet", deployment(json!({}), json!({"app": "web"}))),
            vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]
        );
        let mut sts = deployment(json!({"matchLabels": {"app": "db"}}), json!({"app": "db"}));
        if let Some(spec) = sts.pointer_mut("/spec/template/spec").and_then(Value::as_object_mut) {
            spec.insert("restartPolicy".into(), json!("Never"));
            if let Some(c) = spec.get_mut("containers").and_then(|c| c.get_mut(0)).and_then(Value::as_object_mut) {
                c.remove("image");
                c.insert("volumeMounts".into(), json!([{"name": "data", "mountPath": "/data"}]));
            }
        }
        if let Some(spec) = sts.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("volumeClaimTemplates".into(), json!([{"metadata": {"name": "data"}}]));
        }
        assert_eq!(
            create_errors("apps/v1", "StatefulSet", sts),
            vec![
                "spec.template.spec.containers[0].image: Required value",
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            ]
        );
    }

    #[test]
    fn selectors_are_immutable() {
        let old = defaulted("apps/v1", "Deployment", deployment(json!({"matchLabels": {"app": "web"}}), json!({"app": "web", "v": "2"})));
        let mut new = old.clone();
        if let Some(sel) = new.pointer_mut("/spec/selector") {
            *sel = json!({"matchLabels": {"app": "web", "v": "2"}});
        }
        let errs = validate_update("apps/v1", "Deployment", &old, &new);
        assert_eq!(
            invalid_message("Deployment", "apps", "web", &errs),
            "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        );
        let mut scaled = old.clone();
        if let Some(r) = scaled.pointer_mut("/spec/replicas") {
            *r = json!(5);
        }
        assert_eq!(update_errors("apps/v1", "Deployment", &old, &scaled), Vec::<String>::new());
    }

    #[test]
    fn stateful_set_spec_is_mostly_frozen() {
        let sts = json!({"metadata": {"name": "db"}, "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres:16"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}});
        let old = defaulted("apps/v1", "StatefulSet", sts);
        let mut new = old.clone();
        for (path, value) in [
            ("/spec/replicas", json!(3)),
            ("/spec/template/spec/containers/0/image", json!("postgres:17")),
            ("/spec/revisionHistoryLimit", json!(2)),
        ] {
            if let Some(slot) = new.pointer_mut(path) {
                *slot = value;
            }
        }
        assert_eq!(update_errors("apps/v1", "StatefulSet", &old, &new), Vec::<String>::new());
        if let Some(slot) = new.pointer_mut("/spec/volumeClaimTemplates/0/spec/resources/requests/storage") {
            *slot = json!("2Gi");
        }
        let errs = validate_update("apps/v1", "StatefulSet", &old, &new);
        assert_eq!(
            invalid_message("StatefulSet", "apps", "db", &errs),
            "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        );
    }

    #[test]
    fn service_ports_and_cluster_ip() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "name": "http"}, {"port": 0, "name": "http"}, {"port": 80, "name": "b"}]}});
        assert_eq!(
            create_errors("v1", "Service", svc),
            vec![
                "spec.ports[1].name: Duplicate value: \"http\"",
                "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[2]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
            ]
        );
        assert_eq!(create_errors("v1", "Service", json!({"metadata": {"name": "x"}, "spec": {}})), vec!["spec.ports: Required value"]);
        assert_eq!(
            create_errors(
                "v1",
                "Service",
                json!({"metadata": {"name": "x"}, "spec": {"ipFamilyPolicy": "RequireDualStack", "ports": [{"port": 1}]}})
            ),
            vec!["spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"]
        );
        let old = defaulted("v1", "Service", json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}));
        let mut new = old.clone();
        if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("clusterIP".into(), json!("10.96.0.99"));
            spec.insert("clusterIPs".into(), json!(["10.96.0.99"]));
        }
        let errs = validate_update("v1", "Service", &old, &new);
        assert_eq!(
            invalid_message("Service", "", "web", &errs),
            "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.99\"}: may not change once set"
        );
    }

    #[test]
    fn pvc_rules() {
        assert_eq!(
            create_errors("v1", "PersistentVolumeClaim", json!({"metadata": {"name": "d"}, "spec": {}})),
            vec!["spec.accessModes: Required value: at least 1 access mode is required", "spec.resources[storage]: Required value"]
        );
        let old = defaulted(
            "v1",
            "PersistentVolumeClaim",
            json!({"metadata": {"name": "d"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        );
        let resize = |claim: &Value, size: &str| {
            let mut claim = claim.clone();
            if let Some(slot) = claim.pointer_mut("/spec/resources/requests/storage") {
                *slot = json!(size);
            }
            claim
        };
        let frozen =
            "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims";
        assert_eq!(update_errors("v1", "PersistentVolumeClaim", &old, &resize(&old, "2Gi")), vec![frozen]);
        let mut bound = old.clone();
        if let Some(status) = bound.get_mut("status") {
            *status = json!({"phase": "Bound", "capacity": {"storage": "1Gi"}});
        }
        assert_eq!(update_errors("v1", "PersistentVolumeClaim", &bound, &resize(&bound, "2Gi")), Vec::<String>::new());
        assert_eq!(
            update_errors("v1", "PersistentVolumeClaim", &resize(&bound, "2Gi"), &resize(&bound, "1Gi")),
            vec!["spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"]
        );
        let mut block = bound.clone();
        if let Some(mode) = block.pointer_mut("/spec/volumeMode") {
            *mode = json!("Block");
        }
        assert_eq!(
            update_errors("v1", "PersistentVolumeClaim", &bound, &block),
            vec![frozen, "volumeMode: Invalid value: \"Block\": field is immutable"]
        );
    }

    #[test]
    fn storage_class_updates() {
        let old = defaulted(
            "storage.k8s.io/v1",
            "StorageClass",
            json!({"metadata": {"name": "fast"}, "provisioner": "a", "parameters": {"type": "ssd"}}),
        );
        let new = json!({"metadata": {"name": "fast"}, "provisioner": "b", "parameters": {"type": "hdd"}, "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"});
        assert_eq!(
            update_errors("storage.k8s.io/v1", "StorageClass", &old, &new),
            vec![
                "parameters: Forbidden: updates to parameters are forbidden.",
                "provisioner: Forbidden: updates to provisioner are forbidden.",
                "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
                "volumeBindingMode: Invalid value: \"WaitForFirstConsumer\": field is immutable",
            ]
        );
    }

    #[test]
    fn config_map_and_secret_rules() {
        let old = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "1"}});
        let new = json!({"metadata": {"name": "c"}, "data": {"a": "2"}});
        assert_eq!(
            update_errors("v1", "ConfigMap", &old, &new),
            vec![
                "immutable: Forbidden: field is immutable when `immutable` is set",
                "data: Forbidden: field is immutable when `immutable` is set"
            ]
        );
        let old = defaulted("v1", "Secret", json!({"metadata": {"name": "s"}, "data": {"a": "YQ=="}}));
        let new = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"a": "YQ=="}});
        assert_eq!(
            update_errors("v1", "Secret", &old, &new),
            vec![
                "type: Invalid value: \"kubernetes.io/tls\": field is immutable",
                "data[tls.crt]: Required value",
                "data[tls.key]: Required value",
            ]
        );
        assert_eq!(
            create_errors("v1", "Secret", json!({"metadata": {"name": "s"}, "data": {"bad key": "YQ=="}})),
            vec!["data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"]
        );
    }

    #[test]
    fn jobs_and_cron_jobs() {
        let job = json!({"metadata": {"name": "pi", "uid": "u"}, "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}}});
        assert_eq!(
            create_errors("batch/v1", "Job", job.clone()),
            vec!["spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""]
        );
        let mut old = job;
        if let Some(spec) = old.pointer_mut("/spec/template/spec").and_then(Value::as_object_mut) {
            spec.insert("restartPolicy".into(), json!("Never"));
        }
        let old = defaulted("batch/v1", "Job", old);
        let mut new = old.clone();
        if let Some(image) = new.pointer_mut("/spec/template/spec/containers/0/image") {
            *image = json!("perl:5");
        }
        let errs = update_errors("batch/v1", "Job", &old, &new);
        assert_eq!(errs.len(), 1);
        assert!(errs.iter().all(|e| e.starts_with("spec.template: Invalid value: {") && e.ends_with("}: field is immutable")), "{errs:?}");
        let cron = json!({"metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "a", "image": "b"}]}}}}}});
        assert_eq!(create_errors("batch/v1", "CronJob", cron), vec!["spec.schedule: Required value"]);
    }

    #[test]
    fn metadata_labels_and_renames() {
        let cm = json!({"metadata": {"name": "c", "labels": {"bad key": "ok", "app": "-x"}}});
        assert_eq!(
            create_errors("v1", "ConfigMap", cm.clone()),
            vec![
                "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "metadata.labels: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ]
        );
        let old = json!({"metadata": {"name": "a", "namespace": "x"}});
        let new = json!({"metadata": {"name": "b", "namespace": "x"}});
        assert_eq!(update_errors("v1", "ConfigMap", &old, &new), vec!["metadata.name: Invalid value: \"b\": field is immutable"]);
    }
}
