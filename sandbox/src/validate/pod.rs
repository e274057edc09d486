//! Pod spec validation (`ValidatePodSpec`, `validateContainers`, `ValidateVolumes`, ...), the
//! part every workload shares.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::meta::{validate_annotations, validate_labels};
use super::FieldError;
use crate::selector::go_quote;
use cairn_core::names::dns1123_label_errors;
use cairn_core::Quantity;

use crate::defaults::VOLUME_SOURCES;

const STANDARD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
    "requests.storage",
];

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// `ValidatePodTemplateSpec` for the template at `path` (`spec.template`).
pub(super) fn validate_pod_template(template: Option<&Value>, path: &str, extra_volumes: &[String], errs: &mut Vec<FieldError>) {
    let Some(template) = template.filter(|t| t.is_object()) else {
        errs.push(FieldError::required(path, ""));
        return;
    };
    let meta = template.get("metadata");
    validate_labels(meta.and_then(|m| m.get("labels")), &format!("{path}.labels"), errs);
    validate_annotations(meta.and_then(|m| m.get("annotations")), &format!("{path}.annotations"), errs);
    validate_pod_spec(template.get("spec").unwrap_or(&Value::Null), &format!("{path}.spec"), extra_volumes, errs);
}

/// `ValidatePodSpec` for the spec at `path`; `extra_volumes` are names mounts may also use
/// (a StatefulSet's claim templates).
pub(super) fn validate_pod_spec(spec: &Value, path: &str, extra_volumes: &[String], errs: &mut Vec<FieldError>) {
    let mut volumes: BTreeSet<String> = extra_volumes.iter().cloned().collect();
    let mut seen_volumes = BTreeSet::new();
    for (i, volume) in list(spec, "volumes").iter().enumerate() {
        let vpath = format!("{path}.volumes[{i}]");
        let sources: Vec<&str> = VOLUME_SOURCES.iter().copied().filter(|s| volume.get(*s).is_some_and(|v| !v.is_null())).collect();
        match sources.as_slice() {
            [] => errs.push(FieldError::required(vpath.clone(), "must specify a volume type")),
            [_, rest @ ..] => {
                for extra in rest {
                    errs.push(FieldError::forbidden(format!("{vpath}.{extra}"), "may not specify more than 1 volume type"));
                }
            }
        }
        for (source, field) in [("secret", "secretName"), ("configMap", "name"), ("persistentVolumeClaim", "claimName")] {
            if let Some(s) = volume.get(source).filter(|s| s.is_object()) {
                if str_at(s, field).is_empty() {
                    errs.push(FieldError::required(format!("{vpath}.{source}.{field}"), ""));
                }
            }
        }
        let name = str_at(volume, "name");
        if name.is_empty() {
            errs.push(FieldError::required(format!("{vpath}.name"), ""));
        } else {
            for msg in dns1123_label_errors(name) {
                errs.push(FieldError::invalid(format!("{vpath}.name"), go_quote(name), msg));
            }
        }
        if !seen_volumes.insert(name.to_owned()) {
            errs.push(FieldError::duplicate(format!("{vpath}.name"), go_quote(name)));
        }
        volumes.insert(name.to_owned());
    }

    let mut names = BTreeSet::new();
    let containers = list(spec, "containers");
    if containers.is_empty() {
        errs.push(FieldError::required(format!("{path}.containers"), ""));
    }
    for (i, c) in containers.iter().enumerate() {
        let cpath = format!("{path}.containers[{i}]");
        validate_container(c, &cpath, &volumes, errs);
        let name = str_at(c, "name");
        if !names.insert(name.to_owned()) {
            errs.push(FieldError::duplicate(format!("{cpath}.name"), go_quote(name)));
        }
    }
    for (i, c) in list(spec, "initContainers").iter().enumerate() {
        let cpath = format!("{path}.initContainers[{i}]");
        validate_container(c, &cpath, &volumes, errs);
        let name = str_at(c, "name");
        if !names.insert(name.to_owned()) {
            errs.push(FieldError::duplicate(format!("{cpath}.name"), go_quote(name)));
        }
    }

    match spec.get("restartPolicy").and_then(Value::as_str) {
        None | Some("Always" | "OnFailure" | "Never") => {}
        Some("") => errs.push(FieldError::required(format!("{path}.restartPolicy"), "")),
        Some(other) => {
            errs.push(FieldError::not_supported(format!("{path}.restartPolicy"), go_quote(other), &["Always", "OnFailure", "Never"]))
        }
    }
    match spec.get("dnsPolicy").and_then(Value::as_str) {
        None | Some("ClusterFirst" | "ClusterFirstWithHostNet" | "Default" | "None") => {}
        Some(other) => errs.push(FieldError::not_supported(
            format!("{path}.dnsPolicy"),
            go_quote(other),
            &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"],
        )),
    }
}

/// `validateContainerCommon`: name, image, termination message policy, ports, env, volume
/// mounts, pull policy and resources.
fn validate_container(c: &Value, path: &str, volumes: &BTreeSet<String>, errs: &mut Vec<FieldError>) {
    let name = str_at(c, "name");
    if name.is_empty() {
        errs.push(FieldError::required(format!("{path}.name"), ""));
    } else {
        for msg in dns1123_label_errors(name) {
            errs.push(FieldError::invalid(format!("{path}.name"), go_quote(name), msg));
        }
    }
    if str_at(c, "image").is_empty() {
        errs.push(FieldError::required(format!("{path}.image"), ""));
    }
    match c.get("terminationMessagePolicy").and_then(Value::as_str) {
        None | Some("File" | "FallbackToLogsOnError") => {}
        Some(other) => errs.push(FieldError::not_supported(
            format!("{path}.terminationMessagePolicy"),
            go_quote(other),
            &["File", "FallbackToLogsOnError"],
        )),
    }
    validate_ports(list(c, "ports"), &format!("{path}.ports"), errs);
    for (i, env) in list(c, "env").iter().enumerate() {
        let env_name = str_at(env, "name");
        let epath = format!("{path}.env[{i}].name");
        if env_name.is_empty() {
            errs.push(FieldError::required(epath, ""));
        } else if !env_name.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'=') {
            errs.push(FieldError::invalid(
                epath,
                go_quote(env_name),
                "a valid environment variable name must consist only of printable ASCII characters other than '='",
            ));
        }
    }
    let mut mount_paths = BTreeSet::new();
    for (i, mount) in list(c, "volumeMounts").iter().enumerate() {
        let mpath = format!("{path}.volumeMounts[{i}]");
        let mount_name = str_at(mount, "name");
        if mount_name.is_empty() {
            errs.push(FieldError::required(format!("{mpath}.name"), ""));
        }
        if !volumes.contains(mount_name) {
            errs.push(FieldError::not_found(format!("{mpath}.name"), go_quote(mount_name)));
        }
        let mount_path = str_at(mount, "mountPath");
        if mount_path.is_empty() {
            errs.push(FieldError::required(format!("{mpath}.mountPath"), ""));
        }
        if !mount_paths.insert(mount_path.to_owned()) {
            errs.push(FieldError::invalid(format!("{mpath}.mountPath"), go_quote(mount_path), "must be unique"));
        }
    }
    match c.get("imagePullPolicy").and_then(Value::as_str) {
        None | Some("Always" | "IfNotPresent" | "Never") => {}
        Some(other) => {
            errs.push(FieldError::not_supported(format!("{path}.imagePullPolicy"), go_quote(other), &["Always", "IfNotPresent", "Never"]))
        }
    }
    if let Some(resources) = c.get("resources") {
        validate_resources(resources, &format!("{path}.resources"), errs);
    }
}

/// `validation.IsValidPortName` (an IANA service name).
pub(super) fn port_name_errors(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 15 {
        errs.push("must be no more than 15 characters".to_owned());
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned());
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_owned());
    }
    if name.contains("--") {
        errs.push("must not contain consecutive hyphens".to_owned());
    }
    if name.starts_with('-') || name.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_owned());
    }
    errs
}

pub(super) const PORT_RANGE: &str = "must be between 1 and 65535, inclusive";

fn validate_ports(ports: &[Value], path: &str, errs: &mut Vec<FieldError>) {
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let ppath = format!("{path}[{i}]");
        let name = str_at(port, "name");
        if !name.is_empty() {
            let msgs = port_name_errors(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    errs.push(FieldError::invalid(format!("{ppath}.name"), go_quote(name), msg));
                }
            } else if !names.insert(name.to_owned()) {
                errs.push(FieldError::duplicate(format!("{ppath}.name"), go_quote(name)));
            }
        }
        match port.get("containerPort").and_then(Value::as_i64).unwrap_or(0) {
            0 => errs.push(FieldError::required(format!("{ppath}.containerPort"), "")),
            n if !(1..=65535).contains(&n) => errs.push(FieldError::invalid(format!("{ppath}.containerPort"), n.to_string(), PORT_RANGE)),
            _ => {}
        }
        match port.get("hostPort").and_then(Value::as_i64).unwrap_or(0) {
            0 => {}
            n if !(1..=65535).contains(&n) => errs.push(FieldError::invalid(format!("{ppath}.hostPort"), n.to_string(), PORT_RANGE)),
            _ => {}
        }
        match port.get("protocol").and_then(Value::as_str) {
            None | Some("TCP" | "UDP" | "SCTP") => {}
            Some(other) => errs.push(FieldError::not_supported(format!("{ppath}.protocol"), go_quote(other), &["SCTP", "TCP", "UDP"])),
        }
    }
}

fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// `validateContainerResourceName`.
fn resource_name_errors(name: &str) -> Vec<String> {
    let mut errs: Vec<String> = cairn_core::names::qualified_name_errors(name);
    if !name.contains('/') {
        let standard = STANDARD_RESOURCES.contains(&name) || is_hugepages(name) || name.starts_with("requests.hugepages-");
        if !standard {
            errs.push("must be a standard resource type or fully qualified".to_owned());
        }
        if !(matches!(name, "cpu" | "memory" | "ephemeral-storage") || is_hugepages(name)) {
            errs.push("must be a standard resource for containers".to_owned());
        }
    }
    errs
}

/// `validateResourceRequirements` for a container.
fn validate_resources(resources: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let empty = Map::new();
    let limits = resources.get("limits").and_then(Value::as_object).unwrap_or(&empty);
    let requests = resources.get("requests").and_then(Value::as_object).unwrap_or(&empty);
    let check = |kind: &str, name: &str, value: &Value, errs: &mut Vec<FieldError>| {
        let qpath = format!("{path}.{kind}[{name}]");
        for msg in resource_name_errors(name) {
            errs.push(FieldError::invalid(qpath.clone(), go_quote(name), msg));
        }
        if let Ok(q) = Quantity::from_json(value) {
            if q.is_negative() {
                errs.push(FieldError::invalid(qpath, go_quote(&q.canonical()), "must be greater than or equal to 0"));
            }
        }
    };
    for (name, value) in limits {
        check("limits", name, value, errs);
    }
    for (name, value) in requests {
        check("requests", name, value, errs);
        let overcommit = is_native(name) && !is_hugepages(name);
        match limits.get(name) {
            Some(limit) => {
                let (Ok(req), Ok(lim)) = (Quantity::from_json(value), Quantity::from_json(limit)) else { continue };
                if req != lim && !overcommit {
                    errs.push(FieldError::invalid(
                        format!("{path}.requests"),
                        go_quote(&req.canonical()),
                        format!("must be equal to {name} limit of {}", lim.canonical()),
                    ));
                } else if req > lim {
                    errs.push(FieldError::invalid(
                        format!("{path}.requests"),
                        go_quote(&req.canonical()),
                        format!("must be less than or equal to {name} limit of {}", lim.canonical()),
                    ));
                }
            }
            None if !overcommit => {
                errs.push(FieldError::required(format!("{path}.limits"), "Limit must be set for non overcommitable resources"))
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(spec: Value) -> Vec<String> {
        let mut errs = Vec::new();
        validate_pod_spec(&spec, "spec", &[], &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn containers_need_names_images_and_unique_names() {
        assert_eq!(errors(json!({"containers": []})), vec!["spec.containers: Required value"]);
        assert_eq!(
            errors(json!({"containers": [{"image": "x"}, {"name": "Web"}], "initContainers": [{"name": "init", "image": "y"}, {"name": "x", "image": "z"}]})),
            vec![
                "spec.containers[0].name: Required value",
                "spec.containers[1].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.containers[1].image: Required value",
            ]
        );
        assert_eq!(
            errors(
                json!({"containers": [{"name": "web", "image": "a"}, {"name": "web", "image": "b"}], "initContainers": [{"name": "web", "image": "c"}]})
            ),
            vec!["spec.containers[1].name: Duplicate value: \"web\"", "spec.initContainers[0].name: Duplicate value: \"web\""]
        );
    }

    #[test]
    fn ports_mounts_and_policies() {
        let spec = json!({"restartPolicy": "Sometimes", "dnsPolicy": "Google",
            "volumes": [{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}, "secret": {"secretName": "s"}}],
            "containers": [{"name": "a", "image": "x", "imagePullPolicy": "Maybe",
                "ports": [{"containerPort": 70000, "protocol": "TCP", "name": "http"}, {"containerPort": 81, "name": "http", "protocol": "ICMP"}, {"name": "Bad_Name"}],
                "volumeMounts": [{"name": "logs", "mountPath": "/logs"}, {"name": "data", "mountPath": "/logs"}]}]});
        assert_eq!(
            errors(spec),
            vec![
                "spec.volumes[1].secret: Forbidden: may not specify more than 1 volume type",
                "spec.volumes[1].name: Duplicate value: \"data\"",
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
                "spec.containers[0].ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.containers[0].ports[2].name: Invalid value: \"Bad_Name\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.containers[0].ports[2].containerPort: Required value",
                "spec.containers[0].volumeMounts[0].name: Not found: \"logs\"",
                "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/logs\": must be unique",
                "spec.containers[0].imagePullPolicy: Unsupported value: \"Maybe\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                "spec.dnsPolicy: Unsupported value: \"Google\": supported values: \"ClusterFirst\", \"ClusterFirstWithHostNet\", \"Default\", \"None\"",
            ]
        );
    }

    #[test]
    fn resources_requests_may_not_exceed_limits() {
        let spec = json!({"containers": [{"name": "a", "image": "x", "resources": {
            "limits": {"cpu": "1", "example.com/gpu": "1", "foo": "1"},
            "requests": {"cpu": "2", "memory": "-1", "example.com/gpu": "2"}}}]});
        assert_eq!(
            errors(spec),
            vec![
                "spec.containers[0].resources.limits[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
                "spec.containers[0].resources.limits[foo]: Invalid value: \"foo\": must be a standard resource for containers",
                "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                "spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.containers[0].resources.requests: Invalid value: \"2\": must be equal to example.com/gpu limit of 1",
            ]
        );
    }
}
