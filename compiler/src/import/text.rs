//! cairn source text for imported objects: JSON values as cairn expressions, and blocks as
//! attribute and nested-block lines. The layout is rough on purpose; `cairn fmt` lays it out.

use serde_json::Value as Json;

/// A block being written: `KIND "LABEL" { … }`.
#[derive(Clone, Debug)]
pub(super) struct Block {
    head: String,
    lines: Vec<String>,
}

impl Block {
    /// A block of `kind` with `label` (none for `expose`, `security`, …).
    pub fn new(kind: &str, label: Option<&str>) -> Block {
        let head = match label {
            Some(l) => format!("{kind} {}", string(l)),
            None => kind.to_string(),
        };
        Block { head, lines: Vec::new() }
    }

    /// `name = <expression text>`.
    pub fn attr(&mut self, name: &str, expr: impl Into<String>) -> &mut Block {
        self.lines.push(format!("{name} = {}", expr.into()));
        self
    }

    /// `name = <value>`, the value written as a cairn literal.
    pub fn value(&mut self, name: &str, v: &Json) -> &mut Block {
        self.attr(name, literal(v))
    }

    /// `name = "<s>"`.
    pub fn str(&mut self, name: &str, s: &str) -> &mut Block {
        self.attr(name, string(s))
    }

    /// A nested block.
    pub fn block(&mut self, b: Block) -> &mut Block {
        self.lines.push(b.text());
        self
    }

    /// Whether nothing was written inside.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The block's text.
    pub fn text(&self) -> String {
        if self.lines.is_empty() {
            return format!("{} {{}}", self.head);
        }
        let mut out = format!("{} {{\n", self.head);
        for l in &self.lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push('}');
        out
    }
}

/// A string literal: quoted, with `\`, `"`, `$` and control characters escaped.
pub(super) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len().saturating_add(2));
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` can be written bare, as an identifier (a map key, a reference's name).
pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else { return false };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return false;
    }
    let ok_inner = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok_inner && !s.ends_with('-')
}

/// A map key: bare when it is an identifier, quoted otherwise.
pub(super) fn key(s: &str) -> String {
    if is_identifier(s) && !KEYWORDS.contains(&s) {
        s.to_string()
    } else {
        string(s)
    }
}

/// A reference to a resource: `kind.name`, or `kind["name"]` when the name is no identifier.
pub(super) fn reference(kind: &str, name: &str) -> String {
    if is_identifier(name) && !KEYWORDS.contains(&name) {
        format!("{kind}.{name}")
    } else {
        format!("{kind}[{}]", string(name))
    }
}

const KEYWORDS: [&str; 11] = ["let", "import", "as", "template", "for", "in", "if", "else", "true", "false", "null"];

/// A JSON value as a cairn literal: maps and lists of maps over several lines.
pub(super) fn literal(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => number(n),
        Json::String(s) => string(s),
        Json::Array(items) => {
            if items.is_empty() {
                return "[]".into();
            }
            let parts: Vec<String> = items.iter().map(literal).collect();
            if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                format!("[{}]", parts.join(", "))
            } else {
                format!("[\n{},\n]", parts.join(",\n"))
            }
        }
        Json::Object(m) => {
            if m.is_empty() {
                return "{}".into();
            }
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{} = {}", key(k), literal(v))).collect();
            format!("{{\n{}\n}}", parts.join("\n"))
        }
    }
}

/// A number as cairn reads it back: integers as written, floats with a fraction part.
fn number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    match n.as_f64() {
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.1}"),
        Some(f) => f.to_string(),
        None => n.to_string(),
    }
}

/// A quantity (`"100m"`, `"1Gi"`) as a cairn quantity literal when it has one, else
/// `quantity("…")`.
pub(super) fn quantity(v: &Json) -> Option<String> {
    let q = cairn_core::Quantity::from_json(v).ok()?;
    let canonical = q.canonical();
    let literal_form = canonical.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        && canonical.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && !canonical.contains('e')
        && !canonical.contains('E');
    Some(if literal_form { canonical } else { format!("quantity({})", string(&canonical)) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_escape_what_cairn_would_read_as_syntax() {
        assert_eq!(string("a\"b\\c${x}\n"), r#""a\"b\\c\${x}\n""#);
    }

    #[test]
    fn keys_and_references_quote_what_is_not_an_identifier() {
        assert_eq!(key("app"), "app");
        assert_eq!(key("app.kubernetes.io/name"), "\"app.kubernetes.io/name\"");
        assert_eq!(key("a-"), "\"a-\"");
        assert_eq!(key("for"), "\"for\"", "`{{ for` would open a comprehension");
        assert_eq!(reference("secret", "db-credentials"), "secret.db-credentials");
        assert_eq!(reference("config", "my.conf"), "config[\"my.conf\"]");
        assert_eq!(reference("config", "if"), "config[\"if\"]");
    }

    #[test]
    fn literals_keep_numbers_and_nesting() {
        assert_eq!(literal(&json!([1, 2.5, true, null])), "[1, 2.5, true, null]");
        assert_eq!(literal(&json!({"a": {"b": 1}})), "{\na = {\nb = 1\n}\n}");
        assert_eq!(quantity(&json!("500m")).as_deref(), Some("500m"));
        assert_eq!(quantity(&json!("1024Mi")).as_deref(), Some("1Gi"));
        assert_eq!(quantity(&json!(2)).as_deref(), Some("2"));
    }
}
