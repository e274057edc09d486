//! Kubernetes and Ceph name rules: DNS-1123 labels and subdomains, DNS-1035 labels, label
//! keys and values, ConfigMap keys, port names, pool names. Each returns why a name is invalid.

/// DNS-1123 label: lowercase alphanumerics and `-`, alphanumeric at both ends, ≤ 63.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err("must be 1 to 63 characters".into());
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err("may contain only lowercase letters, digits and `-`".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// DNS-1035 label: a DNS-1123 label that starts with a letter.
pub fn dns1035_label(s: &str) -> Result<(), String> {
    dns1123_label(s)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    Ok(())
}

/// DNS-1123 subdomain: dot-separated DNS-1123 labels, ≤ 253.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    for part in s.split('.') {
        dns1123_label(part).map_err(|e| format!("each dot-separated part {e}"))?;
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
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err("its name may contain only letters, digits, `-`, `_` and `.`".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("its name must start and end with a letter or digit".into());
    }
    Ok(())
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
}
