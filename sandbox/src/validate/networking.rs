//! `ValidateIngress` and `ValidateIngressClass` (networking.k8s.io/v1): rules, hosts (DNS
//! names, not IPs; wildcards), paths and `pathType`, backends (a service with a port name or
//! number, or a resource), TLS hosts and secret names, the class name; an IngressClass's
//! domain-prefixed `controller`.

use serde_json::Value;

use super::pod::{port_name_errors, PORT_RANGE};
use super::FieldError;
use crate::selector::go_quote;
use cairn_core::names::{dns1035_label_errors, dns1123_subdomain_errors, regex_error};

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// `IsWildcardDNS1123Subdomain`.
fn wildcard_errors(host: &str) -> Vec<String> {
    let valid = host.strip_prefix("*.").is_some_and(|rest| dns1123_subdomain_errors(rest).is_empty());
    if valid && host.len() <= 253 {
        return Vec::new();
    }
    vec![regex_error(
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
        "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
        &["*.example.com"],
    )]
}

/// A host of a rule or a TLS entry: a DNS subdomain, or a wildcard one.
fn host_errors(host: &str) -> Vec<String> {
    if host.contains('*') {
        wildcard_errors(host)
    } else {
        dns1123_subdomain_errors(host)
    }
}

/// `validateIngressBackend`.
fn validate_backend(backend: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let resource = backend.get("resource").filter(|v| !v.is_null());
    let service = backend.get("service").filter(|v| !v.is_null());
    match (resource, service) {
        (Some(_), Some(_)) => errs.push(FieldError::invalid(path, "\"\"", "cannot set both resource and service backends")),
        (Some(resource), None) => {
            for field in ["kind", "name"] {
                if str_of(resource, field).is_empty() {
                    errs.push(FieldError::required(format!("{path}.resource.{field}"), ""));
                }
            }
        }
        (None, Some(service)) => {
            let name = str_of(service, "name");
            if name.is_empty() {
                errs.push(FieldError::required(format!("{path}.service.name"), ""));
            } else {
                for msg in dns1035_label_errors(name) {
                    errs.push(FieldError::invalid(format!("{path}.service.name"), go_quote(name), msg));
                }
            }
            let port = service.get("port").unwrap_or(&Value::Null);
            let port_name = str_of(port, "name");
            let number = port.get("number").and_then(Value::as_i64).unwrap_or(0);
            match (port_name.is_empty(), number == 0) {
                (false, false) => errs.push(FieldError::invalid(path, "\"\"", "cannot set both port name & port number")),
                (false, true) => {
                    for msg in port_name_errors(port_name) {
                        errs.push(FieldError::invalid(format!("{path}.service.port.name"), go_quote(port_name), msg));
                    }
                }
                (true, false) => {
                    if !(1..=65535).contains(&number) {
                        errs.push(FieldError::invalid(format!("{path}.service.port.number"), number.to_string(), PORT_RANGE));
                    }
                }
                (true, true) => errs.push(FieldError::required(path, "port name or number is required")),
            }
        }
        (None, None) => errs.push(FieldError::invalid(path, "\"\"", "resource or service backend is required")),
    }
}

/// `validateHTTPIngressPath`.
fn validate_path(p: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let value = str_of(p, "path");
    match p.get("pathType").and_then(Value::as_str) {
        None => {
            errs.push(FieldError::required(format!("{path}.pathType"), "pathType must be specified"));
            return;
        }
        Some("Exact" | "Prefix") => {
            if !value.starts_with('/') {
                errs.push(FieldError::invalid(format!("{path}.path"), go_quote(value), "must be an absolute path"));
            }
            for bad in ["//", "/./", "/../", "%2f", "%2F"] {
                if value.contains(bad) {
                    errs.push(FieldError::invalid(format!("{path}.path"), go_quote(value), format!("must not contain '{bad}'")));
                }
            }
            for bad in ["/..", "/."] {
                if value.ends_with(bad) {
                    errs.push(FieldError::invalid(format!("{path}.path"), go_quote(value), format!("cannot end with '{bad}'")));
                }
            }
        }
        Some("ImplementationSpecific") => {
            if !value.is_empty() && !value.starts_with('/') {
                errs.push(FieldError::invalid(format!("{path}.path"), go_quote(value), "must be an absolute path"));
            }
        }
        Some(other) => {
            errs.push(FieldError::not_supported(
                format!("{path}.pathType"),
                go_quote(other),
                &["Exact", "ImplementationSpecific", "Prefix"],
            ));
        }
    }
    validate_backend(p.get("backend").unwrap_or(&Value::Null), &format!("{path}.backend"), errs);
}

/// The rules of an Ingress's `spec`.
pub(super) fn validate_ingress(spec: &Value, errs: &mut Vec<FieldError>) {
    let rules = items(spec, "rules");
    let default_backend = spec.get("defaultBackend").filter(|b| !b.is_null());
    match default_backend {
        Some(backend) => validate_backend(backend, "spec.defaultBackend", errs),
        None if rules.is_empty() => errs.push(FieldError::invalid(
            "spec.rules",
            "[]networking.IngressRule(nil)",
            "either `defaultBackend` or `rules` must be specified",
        )),
        None => {}
    }
    for (i, rule) in rules.iter().enumerate() {
        let host = str_of(rule, "host");
        if !host.is_empty() {
            if host.parse::<std::net::IpAddr>().is_ok() {
                errs.push(FieldError::invalid(format!("spec.rules[{i}].host"), go_quote(host), "must be a DNS name, not an IP address"));
            }
            for msg in host_errors(host) {
                errs.push(FieldError::invalid(format!("spec.rules[{i}].host"), go_quote(host), msg));
            }
        }
        let Some(http) = rule.get("http").filter(|h| !h.is_null()) else { continue };
        let paths = items(http, "paths");
        if paths.is_empty() {
            errs.push(FieldError::required(format!("spec.rules[{i}].http.paths"), ""));
        }
        for (j, p) in paths.iter().enumerate() {
            validate_path(p, &format!("spec.rules[{i}].http.paths[{j}]"), errs);
        }
    }
    for (i, tls) in items(spec, "tls").iter().enumerate() {
        for (j, host) in items(tls, "hosts").iter().enumerate() {
            let host = host.as_str().unwrap_or_default();
            for msg in host_errors(host) {
                errs.push(FieldError::invalid(format!("spec.tls[{i}].hosts[{j}]"), go_quote(host), msg));
            }
        }
        let secret = str_of(tls, "secretName");
        if !secret.is_empty() {
            for msg in dns1123_subdomain_errors(secret) {
                errs.push(FieldError::invalid(format!("spec.tls[{i}].secretName"), go_quote(secret), msg));
            }
        }
    }
    if let Some(class) = spec.get("ingressClassName").and_then(Value::as_str) {
        for msg in dns1123_subdomain_errors(class) {
            errs.push(FieldError::invalid("spec.ingressClassName", go_quote(class), msg));
        }
    }
}

/// The rules of an IngressClass's `spec`: a domain-prefixed `controller` of at most 250
/// characters.
pub(super) fn validate_ingress_class(spec: &Value, errs: &mut Vec<FieldError>) {
    let controller = str_of(spec, "controller");
    if controller.len() > 250 {
        errs.push(FieldError::too_long("spec.controller", 250));
    }
    if controller.is_empty() {
        errs.push(FieldError::required("spec.controller", ""));
        return;
    }
    let domain_ok =
        controller.split_once('/').is_some_and(|(domain, rest)| !rest.is_empty() && dns1123_subdomain_errors(domain).is_empty());
    if !domain_ok {
        errs.push(FieldError::invalid("spec.controller", go_quote(controller), "must be a domain-prefixed path (such as \"acme.io/foo\")"));
    }
}
