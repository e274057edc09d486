//! Validation of built-in kinds, with kube-apiserver's field errors and messages.
//!
//! [`FieldError`] renders like apimachinery's `field.Error` (`spec.replicas: Invalid value: -1:
//! must be greater than or equal to 0`), and [`invalid_message`] like the `Status` message of
//! `errors.NewInvalid` (`Deployment.apps "web" is invalid: ...`). Bad values are rendered as Go
//! prints them in those messages (`"x"`, `80`, `map[string]string{"app":"web"}`,
//! `v1.LabelSelector{...}`); values Go would dump as internal structs are rendered as JSON.
//!
//! [`validate_create`] and [`validate_update`] expect an object already passed through
//! [`crate::defaults`], as kube-apiserver validates after defaulting: fields defaulting always
//! fills are not reported as missing. [`decode_error`] reports what kube-apiserver rejects
//! with 400 before validation (bad quantities, bad base64).

mod autoscaling;
mod cron;
mod kinds;
mod meta;
mod networking;
mod pod;
mod policy;
mod render;

use std::fmt;

use serde_json::Value;

use crate::defaults::group_of;
use crate::selector::go_quote;
use cairn_core::names::{dns1035_label_errors, dns1123_label_errors, dns1123_subdomain_errors, path_segment_errors};

pub use render::{go_label_selector, go_string_map, go_value};

/// What is wrong with a field; the payloads are bad values already rendered for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// `Required value`
    Required,
    /// `Invalid value: <value>`
    Invalid(String),
    /// `Invalid value: <value>: field is immutable` (an `Invalid` error in Kubernetes).
    Immutable(String),
    /// `Forbidden`
    Forbidden,
    /// `Duplicate value: <value>`
    Duplicate(String),
    /// `Unsupported value: <value>: supported values: "a", "b"`
    NotSupported {
        /// The value given, rendered.
        value: String,
        /// The values accepted, in Kubernetes' order.
        allowed: Vec<String>,
    },
    /// `Not found: <value>`
    NotFound(String),
    /// `Too long`
    TooLong,
}

/// One field-level validation error, as `field.Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field path, `spec.template.spec.containers[0].image`.
    pub field: String,
    /// What is wrong.
    pub kind: FieldErrorKind,
    /// The explanation after the value, possibly empty.
    pub detail: String,
}

impl FieldError {
    /// `field: Required value[: detail]`
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), kind: FieldErrorKind::Required, detail: detail.into() }
    }

    /// `field: Invalid value: <value>: detail`, `value` already rendered.
    pub fn invalid(field: impl Into<String>, value: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), kind: FieldErrorKind::Invalid(value.into()), detail: detail.into() }
    }

    /// `field: Invalid value: <value>: field is immutable`, `value` (the new one) rendered.
    pub fn immutable(field: impl Into<String>, value: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), kind: FieldErrorKind::Immutable(value.into()), detail: String::new() }
    }

    /// `field: Forbidden: detail`
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), kind: FieldErrorKind::Forbidden, detail: detail.into() }
    }

    /// `field: Duplicate value: <value>`
    pub fn duplicate(field: impl Into<String>, value: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), kind: FieldErrorKind::Duplicate(value.into()), detail: String::new() }
    }

    /// `field: Unsupported value: <value>: supported values: ...`
    pub fn not_supported(field: impl Into<String>, value: impl Into<String>, allowed: &[&str]) -> FieldError {
        let allowed = allowed.iter().map(|a| (*a).to_owned()).collect();
        FieldError { field: field.into(), kind: FieldErrorKind::NotSupported { value: value.into(), allowed }, detail: String::new() }
    }

    /// `field: Not found: <value>`
    pub fn not_found(field: impl Into<String>, value: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), kind: FieldErrorKind::NotFound(value.into()), detail: String::new() }
    }

    /// `field: Too long: may not be more than <max> bytes`
    pub fn too_long(field: impl Into<String>, max: usize) -> FieldError {
        FieldError { field: field.into(), kind: FieldErrorKind::TooLong, detail: format!("may not be more than {max} bytes") }
    }

    /// The message without the field (`ErrorBody`), as a `Status` cause's `message`.
    pub fn body(&self) -> String {
        let mut out = match &self.kind {
            FieldErrorKind::Required => "Required value".to_owned(),
            FieldErrorKind::Invalid(v) => format!("Invalid value: {v}"),
            FieldErrorKind::Immutable(v) => format!("Invalid value: {v}: field is immutable"),
            FieldErrorKind::Forbidden => "Forbidden".to_owned(),
            FieldErrorKind::Duplicate(v) => format!("Duplicate value: {v}"),
            FieldErrorKind::NotSupported { value, allowed } => {
                if allowed.is_empty() {
                    format!("Unsupported value: {value}")
                } else {
                    let quoted: Vec<String> = allowed.iter().map(|a| go_quote(a)).collect();
                    format!("Unsupported value: {value}: supported values: {}", quoted.join(", "))
                }
            }
            FieldErrorKind::NotFound(v) => format!("Not found: {v}"),
            FieldErrorKind::TooLong => "Too long".to_owned(),
        };
        if !self.detail.is_empty() {
            out.push_str(": ");
            out.push_str(&self.detail);
        }
        out
    }

    /// The `Status` cause `reason` (`FieldValueInvalid`, ...).
    pub fn reason(&self) -> &'static str {
        match self.kind {
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::Invalid(_) | FieldErrorKind::Immutable(_) => "FieldValueInvalid",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::Duplicate(_) => "FieldValueDuplicate",
            FieldErrorKind::NotSupported { .. } => "FieldValueNotSupported",
            FieldErrorKind::NotFound(_) => "FieldValueNotFound",
            FieldErrorKind::TooLong => "FieldValueTooLong",
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// The message of a 422 `Invalid` status: `Deployment.apps "web" is invalid: <error>`, several
/// errors as `[a, b]` with duplicates dropped, core kinds without a group suffix.
pub fn invalid_message(kind: &str, group: &str, name: &str, errors: &[FieldError]) -> String {
    let qualified = if group.is_empty() { kind.to_owned() } else { format!("{kind}.{group}") };
    let mut messages: Vec<String> = Vec::new();
    for e in errors {
        let m = e.to_string();
        if !messages.contains(&m) {
            messages.push(m);
        }
    }
    let name = go_quote(name);
    match messages.as_slice() {
        [] => format!("{qualified} {name} is invalid"),
        [one] => format!("{qualified} {name} is invalid: {one}"),
        many => format!("{qualified} {name} is invalid: [{}]", many.join(", ")),
    }
}

/// Checks `metadata.name` for `kind` as kube-apiserver does on create: a DNS-1123 subdomain
/// for most kinds, a DNS-1123 label for Namespace and StatefulSet, a DNS-1035 label for
/// Service, a path segment for RBAC kinds, at most 52 characters for CronJob. One error per
/// problem, each `metadata.name: Invalid value: "<name>": <message>`.
pub fn validate_name(kind: &str, name: &str) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![FieldError::required("metadata.name", "name or generateName is required")];
    }
    let messages = match kind {
        "Namespace" | "StatefulSet" => dns1123_label_errors(name),
        "Service" => dns1035_label_errors(name),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => path_segment_errors(name),
        _ => dns1123_subdomain_errors(name),
    };
    let mut errs: Vec<FieldError> = messages.into_iter().map(|m| FieldError::invalid("metadata.name", go_quote(name), m)).collect();
    if kind == "CronJob" && name.len() > 52 {
        errs.push(FieldError::invalid("metadata.name", go_quote(name), "must be no more than 52 characters"));
    }
    errs
}

/// Validates a new object of `api_version`/`kind` (after defaulting): its name, labels and
/// annotations, then the rules of its kind (containers need a name and an image, workload
/// selectors must match their template, Service ports, PVC access modes and size, Secret and
/// ConfigMap keys, ...). Unknown kinds get the metadata checks only.
pub fn validate_create(api_version: &str, kind: &str, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let meta = obj.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or_default();
    let generate_name = meta.and_then(|m| m.get("generateName")).and_then(Value::as_str).unwrap_or_default();
    if !name.is_empty() || generate_name.is_empty() {
        errs.extend(validate_name(kind, name));
    }
    meta::validate_metadata(meta, &mut errs);
    kinds::validate_kind(group_of(api_version), kind, obj, &mut errs);
    errs
}

/// Validates an update of `old` to `new` (both defaulted): the immutability rules of the kind
/// (selectors, StatefulSet spec, Service cluster IPs, PVC spec, StorageClass, immutable
/// ConfigMaps and Secrets, Job templates), `metadata.name`/`namespace`/`uid`, and the rules of
/// [`validate_create`] on `new` except the name format.
pub fn validate_update(api_version: &str, kind: &str, old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for field in ["name", "namespace", "uid"] {
        let old_value = old.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or_default();
        let new_value = new.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or_default();
        if old_value != new_value && !(field == "uid" && new_value.is_empty()) {
            errs.push(FieldError::immutable(format!("metadata.{field}"), go_quote(new_value)));
        }
    }
    meta::validate_metadata(new.get("metadata"), &mut errs);
    let group = group_of(api_version);
    // Kubernetes checks immutability before the object for these kinds, after it for the rest.
    if matches!((group, kind), ("", "Secret" | "ConfigMap" | "Service")) {
        kinds::validate_kind_update(group, kind, old, new, &mut errs);
        kinds::validate_kind(group, kind, new, &mut errs);
    } else {
        kinds::validate_kind(group, kind, new, &mut errs);
        kinds::validate_kind_update(group, kind, old, new, &mut errs);
    }
    errs
}

/// What kube-apiserver answers with 400 before it gets to validation, for content that does not
/// decode into the kind: an unparseable quantity, a Secret `data` or ConfigMap `binaryData`
/// value that is not base64, a non-string value in labels, annotations, ConfigMap `data` or
/// Secret `stringData`. The message is `<Kind> in version "<version>" cannot be handled as a
/// <Kind>: <why>`. Call it on the request body, before [`crate::defaults::apply_defaults`].
pub fn decode_error(api_version: &str, kind: &str, obj: &Value) -> Option<String> {
    let version = api_version.rsplit_once('/').map_or(api_version, |(_, v)| v);
    let wrap = |why: String| format!("{kind} in version {} cannot be handled as a {kind}: {why}", go_quote(version));
    let mut copy = obj.clone();
    let mut problem = None;
    crate::defaults::for_each_quantity(group_of(api_version), kind, &mut copy, &mut |slot, _| {
        if problem.is_none() {
            if let Err(e) = cairn_core::Quantity::from_json(slot) {
                problem = Some(e.kubernetes_message().to_owned());
            }
        }
    });
    if let Some(why) = problem {
        return Some(wrap(why));
    }
    // String maps: a YAML `port: 8080` in ConfigMap data is the classic.
    let mut string_maps: Vec<(&str, &str, Option<&Value>)> = vec![
        ("ObjectMeta", "metadata.labels", obj.get("metadata").and_then(|m| m.get("labels"))),
        ("ObjectMeta", "metadata.annotations", obj.get("metadata").and_then(|m| m.get("annotations"))),
    ];
    match (group_of(api_version), kind) {
        ("", "ConfigMap") => string_maps.push(("ConfigMap", "data", obj.get("data"))),
        ("", "Secret") => string_maps.push(("Secret", "stringData", obj.get("stringData"))),
        _ => {}
    }
    for (owner, path, map) in string_maps {
        for value in map.and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
            if !value.is_string() && !value.is_null() {
                let found = crate::patch::json_type_name(value);
                return Some(wrap(format!("json: cannot unmarshal {found} into Go struct field {owner}.{path} of type string")));
            }
        }
    }
    let bytes_fields: &[&str] = match (group_of(api_version), kind) {
        ("", "Secret") => &["data"],
        ("", "ConfigMap") => &["binaryData"],
        _ => &[],
    };
    for field in bytes_fields {
        for value in obj.get(*field).and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
            match value {
                Value::String(s) => {
                    if let Some(offset) = go_base64_error(s) {
                        return Some(wrap(format!("illegal base64 data at input byte {offset}")));
                    }
                }
                Value::Null => {}
                other => {
                    return Some(wrap(format!(
                        "json: cannot unmarshal {} into Go struct field {kind}.{field} of type []uint8",
                        crate::patch::json_type_name(other)
                    )))
                }
            }
        }
    }
    None
}

/// Where `base64.StdEncoding.DecodeString` reports an error for `s`, if it does: Go's decoder
/// skips `\r` and `\n`, needs padding, and accepts non-zero trailing bits.
fn go_base64_error(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let len = b.len();
    let is_alphabet = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let is_newline = |c: u8| c == b'\n' || c == b'\r';
    let mut si = 0;
    loop {
        let mut j = 0;
        while j < 4 {
            let Some(&c) = b.get(si) else {
                return if j == 0 { None } else { Some(si - j) };
            };
            si += 1;
            if is_alphabet(c) {
                j += 1;
                continue;
            }
            if is_newline(c) {
                continue;
            }
            if c != b'=' {
                return Some(si - 1);
            }
            match j {
                0 | 1 => return Some(si - 1),
                2 => {
                    while b.get(si).copied().is_some_and(is_newline) {
                        si += 1;
                    }
                    match b.get(si) {
                        None => return Some(len),
                        Some(b'=') => si += 1,
                        Some(_) => return Some(si - 1),
                    }
                }
                _ => {}
            }
            while b.get(si).copied().is_some_and(is_newline) {
                si += 1;
            }
            return if si < len { Some(si) } else { None };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_render_like_field_error() {
        assert_eq!(
            FieldError::required("spec.template.spec.containers[0].image", "").to_string(),
            "spec.template.spec.containers[0].image: Required value"
        );
        assert_eq!(
            FieldError::invalid("spec.replicas", "-1", "must be greater than or equal to 0").to_string(),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(
            FieldError::immutable("spec.clusterIP", "\"10.0.0.2\"").to_string(),
            "spec.clusterIP: Invalid value: \"10.0.0.2\": field is immutable"
        );
        assert_eq!(FieldError::forbidden("spec", "nope").to_string(), "spec: Forbidden: nope");
        assert_eq!(
            FieldError::duplicate("spec.containers[1].name", "\"web\"").to_string(),
            "spec.containers[1].name: Duplicate value: \"web\""
        );
        assert_eq!(
            FieldError::not_supported("spec.type", "\"Foo\"", &["ClusterIP", "ExternalName"]).to_string(),
            "spec.type: Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"ExternalName\""
        );
        assert_eq!(
            FieldError::not_found("spec.containers[0].volumeMounts[0].name", "\"data\"").to_string(),
            "spec.containers[0].volumeMounts[0].name: Not found: \"data\""
        );
        assert_eq!(FieldError::too_long("data", 1048576).to_string(), "data: Too long: may not be more than 1048576 bytes");
        assert_eq!(FieldError::required("x", "").reason(), "FieldValueRequired");
        assert_eq!(FieldError::immutable("x", "1").reason(), "FieldValueInvalid");
    }

    #[test]
    fn invalid_messages_qualify_the_kind() {
        let e = FieldError::required("spec.selector", "");
        assert_eq!(
            invalid_message("Deployment", "apps", "web", std::slice::from_ref(&e)),
            "Deployment.apps \"web\" is invalid: spec.selector: Required value"
        );
        assert_eq!(
            invalid_message("Service", "", "x", std::slice::from_ref(&e)),
            "Service \"x\" is invalid: spec.selector: Required value"
        );
        let f = FieldError::forbidden("spec", "no");
        assert_eq!(
            invalid_message("StatefulSet", "apps", "db", &[e.clone(), f, e]),
            "StatefulSet.apps \"db\" is invalid: [spec.selector: Required value, spec: Forbidden: no]"
        );
        assert_eq!(invalid_message("Pod", "", "p", &[]), "Pod \"p\" is invalid");
    }

    #[test]
    fn names_follow_each_kinds_rule() {
        assert_eq!(validate_name("ConfigMap", "my.config-1"), vec![]);
        let msgs = |kind: &str, name: &str| validate_name(kind, name).iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            msgs("ConfigMap", "My_Config"),
            vec!["metadata.name: Invalid value: \"My_Config\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]
        );
        assert_eq!(
            msgs("Namespace", "Team-A"),
            vec!["metadata.name: Invalid value: \"Team-A\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]
        );
        assert_eq!(msgs("Namespace", "team.a"), vec!["metadata.name: Invalid value: \"team.a\": must not contain dots"]);
        assert_eq!(
            msgs("Service", "1web"),
            vec!["metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]
        );
        assert_eq!(
            msgs("Namespace", &"a".repeat(64)),
            vec![format!("metadata.name: Invalid value: \"{}\": must be no more than 63 characters", "a".repeat(64))]
        );
        assert_eq!(msgs("ClusterRole", "system:a/b"), vec!["metadata.name: Invalid value: \"system:a/b\": may not contain '/'"]);
        assert_eq!(
            msgs("CronJob", &"c".repeat(53)),
            vec![format!("metadata.name: Invalid value: \"{}\": must be no more than 52 characters", "c".repeat(53))]
        );
        assert_eq!(msgs("Pod", ""), vec!["metadata.name: Required value: name or generateName is required"]);
        assert_eq!(validate_name("StatefulSet", "db.1").len(), 1);
        assert_eq!(validate_name("Deployment", "db.1"), vec![]);
    }

    #[test]
    fn decode_errors_match_kubernetes_400s() {
        let bad_quantity = json!({"spec": {"containers": [{"name": "a", "resources": {"limits": {"memory": "1 Gi"}}}]}});
        assert_eq!(
            decode_error("v1", "Pod", &bad_quantity).as_deref(),
            Some("Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        );
        let bad_template = json!({"spec": {"template": {"spec": {"containers": [{"resources": {"requests": {"cpu": "1K"}}}]}}}});
        assert_eq!(
            decode_error("apps/v1", "Deployment", &bad_template).as_deref(),
            Some("Deployment in version \"v1\" cannot be handled as a Deployment: unable to parse quantity's suffix")
        );
        let secret = |v: Value| decode_error("v1", "Secret", &json!({"data": {"k": v}}));
        assert_eq!(secret(json!("aGVsbG8=")), None);
        assert_eq!(secret(json!("aGVs\nbG8=")), None);
        assert_eq!(
            secret(json!("hello!")).as_deref(),
            Some("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 5")
        );
        assert_eq!(
            secret(json!("abc")).as_deref(),
            Some("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 0")
        );
        assert_eq!(
            secret(json!("YWJjZA")).as_deref(),
            Some("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 4")
        );
        assert_eq!(
            secret(json!("YQ==YQ==")).as_deref(),
            Some("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 4")
        );
        assert_eq!(
            secret(json!(5)).as_deref(),
            Some("Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal number into Go struct field Secret.data of type []uint8")
        );
        assert_eq!(decode_error("v1", "ConfigMap", &json!({"data": {"k": "not base64 but fine"}})), None);
        assert_eq!(
            decode_error("v1", "ConfigMap", &json!({"data": {"port": 8080}})).as_deref(),
            Some("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string")
        );
        assert_eq!(
            decode_error("apps/v1", "Deployment", &json!({"metadata": {"labels": {"on": true}}})).as_deref(),
            Some("Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string")
        );
    }
}
