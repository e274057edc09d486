//! Field paths: the segments the comparison walks, and how a plan prints them
//! (`spec.template.spec.containers[name=web].image`).

use serde_json::Value as Json;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Seg {
    /// A map key: `spec`, `cairn.dev/address`.
    Key(String),
    /// A list item picked by its key fields: `[name=web]`, `[containerPort=8080,protocol=TCP]`.
    Item(Vec<(String, Json)>),
    /// A list item by position: `[0]`.
    Index(usize),
    /// A set member (`v:` in `managedFields`): `[=value]`.
    Value(Json),
}

/// A scalar as a path prints it: strings bare, anything else as JSON.
fn show(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The readable form of a path.
pub(crate) fn render(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Item(pairs) => {
                let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", show(v))).collect();
                out.push('[');
                out.push_str(&inner.join(","));
                out.push(']');
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Value(v) => out.push_str(&format!("[={}]", show(v))),
        }
    }
    out
}

/// The map keys a path starts with, up to its first list step.
pub(crate) fn leading_keys(segs: &[Seg]) -> Vec<&str> {
    segs.iter()
        .map_while(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            _ => None,
        })
        .collect()
}

/// Whether a change at `segs` touches the field at `prefix` (a path of map keys): the change is
/// at or below it, or the change replaces a map that holds it.
pub(crate) fn touches(segs: &[Seg], prefix: &[&str]) -> bool {
    let keys = leading_keys(segs);
    if keys.len() >= prefix.len() {
        keys.iter().zip(prefix).all(|(a, b)| a == b)
    } else {
        keys.len() == segs.len() && prefix.iter().zip(&keys).all(|(a, b)| a == b)
    }
}

/// Appends a key to a JSON pointer, escaped (RFC 6901).
pub(crate) fn push_pointer(pointer: &mut String, key: &str) {
    pointer.push('/');
    for c in key.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_keys_items_and_indexes() {
        let segs = vec![
            Seg::Key("spec".into()),
            Seg::Key("containers".into()),
            Seg::Item(vec![("name".into(), json!("web"))]),
            Seg::Key("ports".into()),
            Seg::Index(0),
        ];
        assert_eq!(render(&segs), "spec.containers[name=web].ports[0]");
        let port = vec![Seg::Item(vec![("containerPort".into(), json!(8080)), ("protocol".into(), json!("TCP"))])];
        assert_eq!(render(&port), "[containerPort=8080,protocol=TCP]");
    }

    #[test]
    fn touches_covers_below_and_above() {
        let sel = ["spec", "selector"];
        assert!(touches(&[Seg::Key("spec".into()), Seg::Key("selector".into()), Seg::Key("matchLabels".into())], &sel));
        assert!(touches(&[Seg::Key("spec".into())], &sel));
        assert!(!touches(&[Seg::Key("spec".into()), Seg::Key("replicas".into())], &sel));
        assert!(!touches(&[Seg::Key("spec".into()), Seg::Index(0)], &sel));
    }
}
