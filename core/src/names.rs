//! Kubernetes and Ceph name rules: DNS-1123 labels and subdomains, DNS-1035 labels, label
//! keys and values, ConfigMap keys, port names, pool names.
//!
//! Each rule is decided once, by the predicates here, and worded twice: the plain functions
//! (`dns1123_label`, `label_key`, ...) return cairn's one-line reason for the compiler's
//! diagnostics; the `*_errors` functions return kube-apiserver's own messages
//! (`validation.IsDNS1123Label`, `IsQualifiedName`, ...), as the sandbox answers them. A name
//! passes one exactly when it passes the other.

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, any length.
pub fn is_dns1123_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else { return false };
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, any length: a label value or the name part of
/// a label key.
fn is_qualified_name_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else { return false };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Why a non-empty part fails [`is_dns1123_label`], in cairn's words.
fn label_chars(s: &str) -> Result<(), String> {
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err("may contain only lowercase letters, digits and `-`".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// DNS-1123 label: lowercase alphanumerics and `-`, alphanumeric at both ends, ≤ 63.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err("must be 1 to 63 characters".into());
    }
    label_chars(s)
}

/// DNS-1035 label: a DNS-1123 label that starts with a letter.
pub fn dns1035_label(s: &str) -> Result<(), String> {
    dns1123_label(s)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    Ok(())
}

/// DNS-1123 subdomain: dot-separated non-empty parts of lowercase alphanumerics and `-`,
/// alphanumeric at both ends, ≤ 253 in all (Kubernetes limits no part to 63).
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    for part in s.split('.') {
        if part.is_empty() {
            return Err("each dot-separated part must not be empty".into());
        }
        label_chars(part).map_err(|e| format!("each dot-separated part {e}"))?;
    }
    Ok(())
}

/// A label or annotation key: optional DNS subdomain prefix and `/`, then a name of ≤ 63
/// alphanumerics, `-`, `_`, `.`, alphanumeric at both ends.
pub fn label_key(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if p.contains('/') {
            return Err("it may contain at most one `/`".into());
        }
        dns1123_subdomain(p).map_err(|e| format!("its prefix `{p}` is not a DNS-1123 subdomain: {e}"))?;
    }
    qualified_name(name)
}

fn qualified_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err("its name must be 1 to 63 characters".into());
    }
    if is_qualified_name_part(name) {
        return Ok(());
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err("its name may contain only letters, digits, `-`, `_` and `.`".into());
    }
    Err("its name must start and end with a letter or digit".into())
}

/// A label value: empty, or ≤ 63 of alphanumerics, `-`, `_`, `.`, alphanumeric at both ends.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    qualified_name(s).map_err(|e| e.replace("its name", "the value"))
}

/// A ConfigMap or Secret data key.
pub fn data_key(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err("may contain only letters, digits, `-`, `_` and `.`".into());
    }
    Ok(())
}

/// A container port name (IANA service name): ≤ 15 lowercase alphanumerics and `-`, with at
/// least one letter, no `--`, alphanumeric at both ends.
pub fn port_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 15 {
        return Err("must be 1 to 15 characters".into());
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err("may contain only lowercase letters, digits and `-`".into());
    }
    if !s.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err("must contain a letter".into());
    }
    if s.contains("--") || s.starts_with('-') || s.ends_with('-') {
        return Err("must not start or end with `-` or contain `--`".into());
    }
    Ok(())
}

/// A Ceph pool name: non-empty, no `/`, not starting with `.`.
pub fn pool_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.contains('/') {
        return Err("must not contain `/`".into());
    }
    if s.starts_with('.') {
        return Err("must not start with `.` (reserved for Ceph's own pools)".into());
    }
    Ok(())
}

/// A path segment name (Kubernetes' `ValidatePathSegmentName`, used for RBAC objects): not
/// `.` or `..`, no `/` or `%`, and non-empty. Every object name must at least be one, because it
/// becomes a segment of the API server's URL.
pub fn path_segment(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    if s == "." || s == ".." {
        return Err("must not be `.` or `..`".into());
    }
    if s.contains(['/', '%']) {
        return Err("must not contain `/` or `%`".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// A name rule: `Err` says what is wrong with a name.
pub type NameRule = fn(&str) -> Result<(), String>;

/// The name rule Kubernetes applies to objects of `kind` (core and common kinds; other kinds,
/// custom resources included, take a DNS-1123 subdomain), with the rule's one-line description.
pub fn object_name_rule(kind: &str) -> (NameRule, &'static str) {
    match kind {
        "Namespace" => (dns1123_label, "a DNS-1123 label: lowercase letters, digits and `-`, at most 63 characters"),
        "Service" => (dns1035_label, "a DNS-1035 label: lowercase letters, digits and `-`, starting with a letter, at most 63 characters"),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => (path_segment, "a path segment: no `/` or `%`, not `.` or `..`"),
        _ => (dns1123_subdomain, "a DNS-1123 subdomain: lowercase letters, digits, `-` and `.`, at most 253 characters"),
    }
}

/// `RegexError` of apimachinery's validation package: the message, examples and the pattern.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push_str(&format!("'{e}', "));
    }
    out.push_str(&format!("regex used for validation is '{fmt}')"));
    out
}

/// `validation.IsDNS1123Label`: kube-apiserver's messages, none when valid.
pub fn dns1123_label_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !is_dns1123_label(value) {
        if dns1123_subdomain_errors(value).is_empty() {
            errs.push("must not contain dots".to_owned());
        } else {
            errs.push(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                "[a-z0-9]([-a-z0-9]*[a-z0-9])?",
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `validation.IsDNS1035Label`: kube-apiserver's messages, none when valid.
pub fn dns1035_label_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !(is_dns1123_label(value) && value.starts_with(|c: char| c.is_ascii_lowercase())) {
        errs.push(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
            "[a-z]([-a-z0-9]*[a-z0-9])?",
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `validation.IsDNS1123Subdomain`: kube-apiserver's messages, none when valid.
pub fn dns1123_subdomain_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push("must be no more than 253 characters".to_owned());
    }
    if !value.split('.').all(is_dns1123_label) {
        errs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
            &["example.com"],
        ));
    }
    errs
}

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// `validation.IsQualifiedName`, the rule of label and annotation keys: kube-apiserver's
/// messages, none when valid.
pub fn qualified_name_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_owned());
            } else {
                errs.extend(dns1123_subdomain_errors(prefix).into_iter().map(|m| format!("prefix part {m}")));
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > 63 {
        errs.push("name part must be no more than 63 characters".to_owned());
    }
    if !is_qualified_name_part(name) {
        errs.push(format!("name part {}", regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])));
    }
    errs
}

/// `validation.IsValidLabelValue`: kube-apiserver's messages, none when valid.
pub fn label_value_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        errs.push(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?",
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `path.IsValidPathSegmentName`, the rule of RBAC object names: kube-apiserver's messages,
/// none when valid. [`path_segment`] is cairn's stricter rule for every object name.
pub fn path_segment_errors(value: &str) -> Vec<String> {
    if value == "." || value == ".." {
        return vec![format!("may not be '{value}'")];
    }
    ["/", "%"].iter().filter(|c| value.contains(**c)).map(|c| format!("may not contain '{c}'")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_rules() {
        assert!(dns1123_label("team-a").is_ok());
        assert!(dns1123_label("Team").is_err());
        assert!(dns1123_label("a-").is_err());
        assert!(dns1035_label("1abc").is_err());
        assert!(dns1123_subdomain("a.b-c.d").is_ok());
        assert!(dns1123_subdomain("a..b").is_err());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
    }

    #[test]
    fn label_rules() {
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("team").is_ok());
        assert!(label_key("-bad").is_err());
        assert!(label_key("Example.com/x").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("v1.2_3").is_ok());
        assert!(label_value("has space").is_err());
    }

    #[test]
    fn port_and_pool_rules() {
        assert!(port_name("http").is_ok());
        assert!(port_name("8080").is_err());
        assert!(port_name("a-very-long-port-name").is_err());
        assert!(pool_name(".mgr").is_err());
        assert!(pool_name("a/b").is_err());
        assert!(pool_name("lake-data").is_ok());
    }

    /// Random names over the characters that matter; xorshift, so the run is repeatable.
    fn names(count: usize) -> Vec<String> {
        let alphabet = b"ab-z09.A_/ ";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let len = match next() % 8 {
                    0 => 60 + next() % 200,
                    _ => next() % 12,
                } as usize;
                (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char).collect()
            })
            .collect()
    }

    #[test]
    fn cairn_and_kubernetes_wordings_accept_the_same_names() {
        let mut samples = names(20_000);
        samples.extend(
            ["", "a", "-", ".", "a.b", "a..b", "a/b", "/a", "a/", "a/b/c", "x".repeat(63).as_str(), "x".repeat(64).as_str()]
                .map(String::from),
        );
        samples.push(format!("{}.b", "a".repeat(64)));
        samples.push("a".repeat(254));
        for s in &samples {
            assert_eq!(dns1123_label(s).is_ok(), dns1123_label_errors(s).is_empty(), "label {s:?}");
            assert_eq!(dns1035_label(s).is_ok(), dns1035_label_errors(s).is_empty(), "1035 {s:?}");
            assert_eq!(dns1123_subdomain(s).is_ok(), dns1123_subdomain_errors(s).is_empty(), "subdomain {s:?}");
            assert_eq!(label_key(s).is_ok(), qualified_name_errors(s).is_empty(), "key {s:?}");
            assert_eq!(label_value(s).is_ok(), label_value_errors(s).is_empty(), "value {s:?}");
        }
    }

    #[test]
    fn kubernetes_messages() {
        assert_eq!(dns1123_label_errors("a.b"), ["must not contain dots"]);
        assert_eq!(
            label_value_errors("a b"),
            ["a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]
                .map(String::from)
        );
        assert_eq!(qualified_name_errors("/a"), ["prefix part must be non-empty"]);
        assert_eq!(path_segment_errors(".."), ["may not be '..'"]);
        assert!(dns1123_subdomain_errors(&format!("{}.b", "a".repeat(64))).is_empty());
    }
}
