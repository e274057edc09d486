//! Rendering desired objects as YAML (LANGUAGE.md §8): one document per object, in the order
//! given, with sensitive values shown as `(sensitive)` unless revealed.

use crate::lower::Object;
use crate::yaml;

/// The objects as one YAML stream, `---` between documents (as [`yaml::to_stream`] writes
/// it). Documents are written one by one, and only objects holding secrets are copied to be
/// redacted: a copy of every object would double the memory of a large render.
pub fn stream(objects: &[Object], reveal_secrets: bool) -> String {
    let mut out = String::new();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        if reveal_secrets || o.sensitive.is_empty() {
            yaml::write_document(&mut out, &o.body);
        } else {
            yaml::write_document(&mut out, &o.redacted());
        }
    }
    out
}

/// One object as a YAML document.
pub fn document(object: &Object, reveal_secrets: bool) -> String {
    let mut out = String::new();
    let body = if reveal_secrets { object.body.clone() } else { object.redacted() };
    yaml::write_document(&mut out, &body);
    out
}

/// The file name of an object for `render -o DIR`: position in apply order, kind, namespace
/// and name, so a directory listing reads in apply order.
pub fn file_name(position: usize, object: &Object) -> String {
    let mut s = format!("{position:04}-{}", object.kind.to_ascii_lowercase());
    if let Some(ns) = &object.namespace {
        s.push('-');
        s.push_str(ns);
    }
    s.push('-');
    s.push_str(&object.name);
    let safe: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
    format!("{safe}.yaml")
}
