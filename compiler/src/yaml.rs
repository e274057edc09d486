//! The one YAML emitter for rendered objects: block style, kubectl-like layout, and quoting
//! that is safe for YAML 1.1 readers (a string never reads back as a bool, null, number or date).
//!
//! Maps keep insertion order and indent by two; a sequence sits at the same indentation as the
//! key that holds it (`- name: web`); empty collections are `{}` and `[]`. Strings are plain
//! unless [`needs_quotes`] says otherwise, in which case multi-line text becomes a literal block
//! (`|`, `|-`, `|+`) when it can and a double-quoted string with escapes when it cannot.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Number, Value};

/// Plain words that YAML 1.1 reads as booleans or null (compared ignoring case), plus the
/// merge key `<<` and the value key `=`, which YAML 1.1 also gives a meaning of their own.
const RESERVED_WORDS: [&str; 12] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<", "="];

/// Characters that may not start a plain scalar.
const LEADING_INDICATORS: &str = "-?:,[]{}#&*!|>'\"%@`";

/// Writes one document (no `---` marker) in block style, ending with a newline.
pub fn write_document(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(out, items, 0),
        _ => write_scalar(out, value, 2),
    }
}

/// Renders documents as a YAML stream: a `---` line between documents (none before the first),
/// every document ending with a newline. No documents give the empty string.
pub fn to_stream(docs: &[Value]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        write_document(&mut out, doc);
    }
    out
}

/// Whether `s` cannot be written as a plain scalar: it is empty, a YAML 1.1 bool or null word
/// in any case, anything YAML 1.1 (or a common 1.2 reader) would take as a number, a
/// sexagesimal number or a date; it starts with a space or an indicator character, ends with a
/// space or `:`, contains `: ` or ` #`, or contains a control character (tab and newline
/// included) or another character that a plain scalar cannot carry.
pub fn needs_quotes(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return true;
    };
    if first == ' ' || LEADING_INDICATORS.contains(first) {
        return true;
    }
    if s.ends_with(' ') || s.ends_with(':') {
        return true;
    }
    // `: ` and ` #` in one pass over the bytes (a substring search per pattern costs more on
    // the short strings that make up most of an object).
    if s.as_bytes().windows(2).any(|w| matches!(w, [b':', b' '] | [b' ', b'#'])) {
        return true;
    }
    let special = if s.is_ascii() { s.bytes().any(|b| b.is_ascii_control()) } else { s.chars().any(is_special_char) };
    if special {
        return true;
    }
    if RESERVED_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return true;
    }
    // Numbers, base-60 numbers and dates start with a digit, `.`, `+` or `_` (a leading `-`
    // is an indicator, handled above): most strings stop here, without a lower-case copy.
    if !(first.is_ascii_digit() || matches!(first, '.' | '+' | '_')) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    looks_numeric(&lower) || looks_sexagesimal(&lower) || looks_like_date(s)
}

/// Characters that force double quotes: control characters (C0, DEL, C1, including tab, line
/// feed and NEL), the Unicode line and paragraph separators, the byte-order mark and the two
/// non-characters YAML forbids.
fn is_special_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// Whether a lower-cased string reads as a number in YAML 1.1, YAML 1.2 or Go's YAML readers:
/// ints in any base (`0x1f`, `0o17`, `0b11`, `017`, `1_000`), floats (`1.5`, `.5`, `1.`, `1e3`,
/// `1.0e+3`, the YAML 1.1 `1.2.3` form), `.inf`/`.nan`, and signed `inf`/`nan`, which Go's
/// float parser accepts. Deliberately generous: quoting a string too many is harmless.
fn looks_numeric(lower: &str) -> bool {
    let (signed, body) = match lower.strip_prefix(['-', '+']) {
        Some(body) => (true, body),
        None => (false, lower),
    };
    if matches!(body, ".inf" | ".nan") || (signed && matches!(body, "inf" | "infinity" | "nan")) {
        return true;
    }
    if let Some(hex) = body.strip_prefix("0x") {
        // Hex ints, and Go's hex floats such as `0x1p-2`.
        let (mantissa, exponent) = match hex.split_once('p') {
            Some((m, e)) => (m, Some(e)),
            None => (hex, None),
        };
        return !mantissa.is_empty()
            && mantissa.chars().all(|c| c.is_ascii_hexdigit() || c == '_' || c == '.')
            && exponent.is_none_or(is_exponent_digits);
    }
    if let Some(digits) = body.strip_prefix("0o") {
        return !digits.is_empty() && digits.chars().all(|c| matches!(c, '0'..='7' | '_'));
    }
    if let Some(digits) = body.strip_prefix("0b") {
        return !digits.is_empty() && digits.chars().all(|c| matches!(c, '0' | '1' | '_'));
    }
    let (mantissa, exponent) = match body.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let mantissa_ok = !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit() || c == '_' || c == '.');
    match exponent {
        None => mantissa_ok && mantissa.chars().any(|c| c.is_ascii_digit() || c == '.'),
        Some(e) => mantissa_ok && mantissa.chars().any(|c| c.is_ascii_digit()) && is_exponent_digits(e),
    }
}

/// An exponent: an optional sign and at least one digit (underscores allowed).
fn is_exponent_digits(e: &str) -> bool {
    let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
    digits.chars().any(|c| c.is_ascii_digit()) && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// Whether a string reads as a YAML 1.1 base-60 number (`1:30`, `190:20:30`, `-1:30.5`).
/// Generous like [`looks_numeric`]: any digit groups joined by colons, optionally signed and
/// with a fractional tail.
fn looks_sexagesimal(lower: &str) -> bool {
    let body = lower.strip_prefix(['-', '+']).unwrap_or(lower);
    let (body, fraction) = match body.split_once('.') {
        Some((b, f)) => (b, Some(f)),
        None => (body, None),
    };
    let mut groups = body.split(':');
    let first_ok = groups.next().is_some_and(|g| g.starts_with(|c: char| c.is_ascii_digit()) && is_digit_group(g));
    let mut rest = 0_usize;
    for group in groups {
        if group.is_empty() || !is_digit_group(group) {
            return false;
        }
        rest = rest.saturating_add(1);
    }
    first_ok && rest > 0 && fraction.is_none_or(|f| f.chars().all(|c| c.is_ascii_digit() || c == '_'))
}

/// Digits and underscores only.
fn is_digit_group(g: &str) -> bool {
    g.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// Whether a string starts like a YAML 1.1 timestamp: `YYYY-M-D` (one or two digits for month
/// and day) that ends there or goes on with `T`, `t`, a space or a tab.
fn looks_like_date(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut pos = 0_usize;
    let take_digits = |pos: &mut usize, min: usize, max: usize| -> bool {
        let start = *pos;
        while *pos < bytes.len() && pos.saturating_sub(start) < max && bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
            *pos = pos.saturating_add(1);
        }
        pos.saturating_sub(start) >= min
    };
    let take_dash = |pos: &mut usize| -> bool {
        if bytes.get(*pos) == Some(&b'-') {
            *pos = pos.saturating_add(1);
            true
        } else {
            false
        }
    };
    if !(take_digits(&mut pos, 4, 4)
        && take_dash(&mut pos)
        && take_digits(&mut pos, 1, 2)
        && take_dash(&mut pos)
        && take_digits(&mut pos, 1, 2))
    {
        return false;
    }
    matches!(bytes.get(pos), None | Some(b'T' | b't' | b' ' | b'\t'))
}

/// Appends `n` spaces.
fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Writes a non-empty map whose first key goes at the cursor (already at column `indent`).
fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    let inner = indent.saturating_add(2);
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            push_indent(out, indent);
        }
        write_key(out, key);
        out.push(':');
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                push_indent(out, inner);
                write_map(out, m, inner);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                push_indent(out, indent);
                write_seq(out, items, indent);
            }
            _ => {
                out.push(' ');
                write_scalar(out, value, inner);
            }
        }
    }
}

/// Writes a non-empty sequence whose first `- ` goes at the cursor (already at column `indent`).
fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    let inner = indent.saturating_add(2);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            push_indent(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, inner),
            Value::Array(nested) if !nested.is_empty() => write_seq(out, nested, inner),
            _ => write_scalar(out, item, inner),
        }
    }
}

/// Writes a map key: plain when it can be, double-quoted otherwise (never a block scalar).
fn write_key(out: &mut String, key: &str) {
    if needs_quotes(key) {
        write_double_quoted(out, key);
    } else {
        out.push_str(key);
    }
}

/// Writes a scalar (or an empty collection) at the cursor and ends the line. A literal block's
/// lines go at column `block_indent`.
fn write_scalar(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => {
            if !needs_quotes(s) {
                out.push_str(s);
            } else if can_use_literal_block(s) {
                write_literal_block(out, s, block_indent);
                return;
            } else {
                write_double_quoted(out, s);
            }
        }
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
    out.push('\n');
}

/// Integers as they are; floats always with a `.` in the mantissa and a signed exponent when
/// there is one (`1.0`, `1.5e+20`, `1.0e-7`), the forms every YAML version reads as floats.
fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&format_float(f));
    } else {
        out.push_str(&n.to_string());
    }
}

/// See [`write_number`].
fn format_float(f: f64) -> String {
    if !f.is_finite() {
        // serde_json cannot hold these, but keep the output valid YAML all the same.
        return if f.is_nan() {
            ".nan".to_string()
        } else if f > 0.0 {
            ".inf".to_string()
        } else {
            "-.inf".to_string()
        };
    }
    let text = format!("{f:?}");
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (text.as_str(), None),
    };
    let mut result = mantissa.to_string();
    if !result.contains('.') {
        result.push_str(".0");
    }
    if let Some(e) = exponent {
        result.push('e');
        if !e.starts_with(['-', '+']) {
            result.push('+');
        }
        result.push_str(e);
    }
    result
}

/// Whether a string that needs quoting can be a literal block instead: it has a line break,
/// no control characters but line feeds and tabs, and its first non-empty line does not start
/// with a space or tab (which would confuse the block's indentation).
fn can_use_literal_block(s: &str) -> bool {
    s.contains('\n')
        && s.chars().all(|c| c == '\n' || c == '\t' || !is_special_char(c))
        && s.split('\n').find(|line| !line.is_empty()).is_some_and(|line| !line.starts_with([' ', '\t']))
}

/// Writes `|`, `|-` or `|+` after the cursor, then the lines at column `indent`.
fn write_literal_block(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len().saturating_sub(body.len());
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    // The loop wrote one line break after the body; `|+` keeps the others as empty lines.
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// Writes `s` as a double-quoted scalar with YAML escapes.
fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_special_char(c) => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02X}"));
                } else {
                    out.push_str(&format!("\\u{code:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: &Value) -> String {
        let mut out = String::new();
        write_document(&mut out, value);
        out
    }

    /// Emits `value`, parses it back with serde_yaml and checks it is unchanged.
    fn assert_round_trip(value: &Value) {
        let text = doc(value);
        let back: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("cannot parse back {text:?}: {e}"));
        assert_eq!(&back, value, "round trip through {text:?}");
    }

    #[test]
    fn deployment_snapshot() {
        let value = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "labels": {
                    "app.kubernetes.io/managed-by": "cairn",
                    "cairn.dev/stack": "shop"
                },
                "annotations": { "cairn.dev/address": "workload.web" }
            },
            "spec": {
                "replicas": 3,
                "selector": { "matchLabels": { "app": "web" } },
                "template": {
                    "metadata": { "labels": { "app": "web" } },
                    "spec": {
                        "containers": [{
                            "name": "web",
                            "image": "nginx:1.25",
                            "args": ["--port", "8080", "-v"],
                            "env": [
                                { "name": "DEBUG", "value": "off" },
                                { "name": "RATIO", "value": "1.5" },
                                { "name": "EMPTY", "value": "" },
                                { "name": "SCRIPT", "value": "echo hi\necho bye\n" }
                            ],
                            "ports": [{ "containerPort": 8080, "name": "http" }],
                            "resources": {
                                "requests": { "cpu": "500m", "memory": "1536Mi" },
                                "limits": { "cpu": "2", "memory": "1Gi" }
                            },
                            "readinessProbe": { "httpGet": { "path": "/healthz", "port": "http" } },
                            "volumeMounts": []
                        }],
                        "nodeSelector": {},
                        "terminationGracePeriodSeconds": 30,
                        "hostNetwork": false,
                        "priorityClassName": null,
                        "weight": 0.5,
                        "scale": 1.0
                    }
                }
            }
        });
        let expected = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app.kubernetes.io/managed-by: cairn
    cairn.dev/stack: shop
  annotations:
    cairn.dev/address: workload.web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        args:
        - \"--port\"
        - \"8080\"
        - \"-v\"
        env:
        - name: DEBUG
          value: \"off\"
        - name: RATIO
          value: \"1.5\"
        - name: EMPTY
          value: \"\"
        - name: SCRIPT
          value: |
            echo hi
            echo bye
        ports:
        - containerPort: 8080
          name: http
        resources:
          requests:
            cpu: 500m
            memory: 1536Mi
          limits:
            cpu: \"2\"
            memory: 1Gi
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
        volumeMounts: []
      nodeSelector: {}
      terminationGracePeriodSeconds: 30
      hostNetwork: false
      priorityClassName: null
      weight: 0.5
      scale: 1.0
";
        assert_eq!(doc(&value), expected);
        assert_round_trip(&value);
    }

    #[test]
    fn kubectl_style_sequences() {
        let value = json!({
            "spec": { "containers": [ { "name": "web", "ports": [ { "containerPort": 8080, "name": "http" } ] } ] }
        });
        assert_eq!(doc(&value), "spec:\n  containers:\n  - name: web\n    ports:\n    - containerPort: 8080\n      name: http\n");
    }

    #[test]
    fn nested_and_top_level_sequences() {
        let value = json!([["a", "b"], [], [["c"]], {"k": [1, 2]}, {}, "x"]);
        let expected = "\
- - a
  - b
- []
- - - c
- k:
  - 1
  - 2
- {}
- x
";
        assert_eq!(doc(&value), expected);
        assert_round_trip(&value);
        assert_eq!(
            doc(&json!({"m": [[1], [2, {"a": 1, "b": [3]}]]})),
            "\
m:
- - 1
- - 2
  - a: 1
    b:
    - 3
"
        );
    }

    #[test]
    fn scalars_and_empties() {
        assert_eq!(doc(&json!({})), "{}\n");
        assert_eq!(doc(&json!([])), "[]\n");
        assert_eq!(doc(&json!(null)), "null\n");
        assert_eq!(doc(&json!(true)), "true\n");
        assert_eq!(doc(&json!("hello")), "hello\n");
        assert_eq!(doc(&json!("yes")), "\"yes\"\n");
        assert_eq!(doc(&json!({"a": {}, "b": [], "c": null, "d": false})), "a: {}\nb: []\nc: null\nd: false\n");
    }

    #[test]
    fn numbers() {
        assert_eq!(doc(&json!(42)), "42\n");
        assert_eq!(doc(&json!(-7)), "-7\n");
        assert_eq!(doc(&json!(u64::MAX)), "18446744073709551615\n");
        assert_eq!(doc(&json!(1.0)), "1.0\n");
        assert_eq!(doc(&json!(-0.0)), "-0.0\n");
        assert_eq!(doc(&json!(0.1)), "0.1\n");
        assert_eq!(doc(&json!(1e300)), "1.0e+300\n");
        assert_eq!(doc(&json!(1.5e20)), "1.5e+20\n");
        assert_eq!(doc(&json!(1e-7)), "1.0e-7\n");
        assert_eq!(doc(&json!(107374182400_i64)), "107374182400\n");
        assert_eq!(format_float(f64::NAN), ".nan");
        assert_eq!(format_float(f64::NEG_INFINITY), "-.inf");
        for f in [1.0, 0.1, 1e300, 1.5e20, 1e-7, -2.5, 123456.789] {
            assert_round_trip(&json!({ "f": f }));
        }
    }

    #[test]
    fn to_stream_joins_documents() {
        assert_eq!(to_stream(&[]), "");
        assert_eq!(to_stream(&[json!({"a": 1})]), "a: 1\n");
        assert_eq!(to_stream(&[json!({"a": 1}), json!({"b": [2]}), json!("s")]), "a: 1\n---\nb:\n- 2\n---\ns\n");
        // A keep-chomped block at the end of a document is still separated properly.
        let docs = [json!({"a": "x\n\n"}), json!({"b": 1})];
        let text = to_stream(&docs);
        assert_eq!(text, "a: |+\n  x\n\n---\nb: 1\n");
        let back: Vec<Value> =
            serde_yaml::Deserializer::from_str(&text).map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap()).collect();
        assert_eq!(back, docs);
    }

    #[test]
    fn quoting_words() {
        for s in [
            "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "on", "On", "ON", "off", "OFF", "true", "True", "TRUE", "false", "False",
            "null", "Null", "NULL", "nUlL", "~", "<<", "=",
        ] {
            assert!(needs_quotes(s), "{s:?} should be quoted");
        }
        for s in ["yess", "nope", "onion", "offset", "truth", "nil", "none", "NaN", "inf", "infinity", "x"] {
            assert!(!needs_quotes(s), "{s:?} should be plain");
        }
    }

    #[test]
    fn quoting_numbers() {
        for s in [
            "0",
            "1",
            "017",
            "0o17",
            "0O17",
            "0x1f",
            "0X1F",
            "0b101",
            "1_000",
            "+1",
            "-1",
            "+0",
            "1.5",
            ".5",
            "1.",
            "-1.5",
            "1e3",
            "1E3",
            "1e+3",
            "1.5e-3",
            "1_0.5",
            ".inf",
            "-.Inf",
            "+.INF",
            ".nan",
            ".NaN",
            "+inf",
            "-infinity",
            "+nan",
            "0x1p-2",
            "1.2.3",
            "10.0.0.1",
            ".",
            "...",
            "1:30",
            "190:20:30",
            "-1:30",
            "1:30.5",
            "12:60",
            "3:00:00",
        ] {
            assert!(needs_quotes(s), "{s:?} should be quoted");
        }
        for s in [
            "1a",
            "v1.2.3",
            "a1",
            "e3",
            "1e",
            "0x",
            "0xg",
            "0o8",
            "0b2",
            "_",
            "__",
            "+",
            "1:a",
            "a:1",
            "1:",
            "1.5Gi",
            "500m",
            "1Gi",
            "nginx:1.25",
            "8080/tcp",
            "1/2",
            "1,000",
            "0.5.x",
        ] {
            // "1:" and "-…"/"+" forms are covered by other rules; check the numeric rule alone.
            if s == "1:" {
                assert!(needs_quotes(s));
                continue;
            }
            assert!(!looks_numeric(&s.to_ascii_lowercase()), "{s:?} is not numeric");
            assert!(!looks_sexagesimal(&s.to_ascii_lowercase()), "{s:?} is not sexagesimal");
        }
        assert!(!needs_quotes("1.5Gi"));
        assert!(!needs_quotes("500m"));
        assert!(!needs_quotes("nginx:1.25"));
        assert!(!needs_quotes("+"));
        assert!(!needs_quotes("_"));
    }

    #[test]
    fn quoting_dates() {
        for s in [
            "2024-01-01",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14T21:59:43.10-05:00",
            "2001-12-14 21:59:43.10 -5",
            "2001-1-2",
            "2001-12-14\t21:59:43",
        ] {
            assert!(needs_quotes(s), "{s:?} should be quoted");
        }
        for s in ["2024-01-01-backup", "2024-01", "202-01-01", "20240101x", "2024-001-01", "2024-01-01x"] {
            assert!(!looks_like_date(s), "{s:?} is not a date");
        }
        assert!(!needs_quotes("2024-01-01-backup"));
        assert!(!needs_quotes("release-2024-01-01"));
    }

    #[test]
    fn quoting_indicators_and_spacing() {
        for c in LEADING_INDICATORS.chars() {
            let s = format!("{c}abc");
            assert!(needs_quotes(&s), "{s:?} should be quoted");
        }
        for s in [
            " lead",
            "trail ",
            "key:",
            "a: b",
            "a #b",
            "a\t#b",
            "tab\there",
            "\ttab",
            "nul\0",
            "bell\u{7}",
            "del\u{7f}",
            "nel\u{85}",
            "ls\u{2028}",
            "ps\u{2029}",
            "\u{feff}bom",
            "cr\r",
            "a\nb",
            "",
        ] {
            assert!(needs_quotes(s), "{s:?} should be quoted");
        }
        for s in [
            "plain",
            "with space",
            "a:b",
            "a#b",
            "http://x.y/z?q=1#frag",
            "a-b",
            "a?",
            "a,b",
            "a[0]",
            "x{{ y }}",
            "key=value",
            "a'b",
            "a\"b",
            "caf\u{e9}",
            "\u{65e5}\u{672c}",
            "/healthz",
            "app.kubernetes.io/name",
            "50%",
            "x!",
            "a|b",
            "a>b",
            "a&b",
            "a*b",
            "a@b",
            "a`b",
        ] {
            assert!(!needs_quotes(s), "{s:?} should be plain");
        }
    }

    #[test]
    fn double_quote_escapes() {
        let mut out = String::new();
        write_double_quoted(&mut out, "a\"b\\c\nd\te\rf\0g\u{7}h\u{7f}i\u{85}j\u{2028}k\u{feff}l\u{1b}");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\te\\rf\\x00g\\x07h\\x7Fi\\x85j\\u2028k\\uFEFFl\\x1B\"");
        assert_eq!(doc(&json!({"k": ""})), "k: \"\"\n");
        assert_eq!(doc(&json!({"k": "a: b"})), "k: \"a: b\"\n");
        assert_eq!(doc(&json!({"k": "\r\n"})), "k: \"\\r\\n\"\n");
    }

    #[test]
    fn keys_are_quoted_too() {
        let value = json!({"yes": 1, "": 2, "a: b": 3, "multi\nline": 4, "1": 5, "<<": 6, "plain": 7});
        assert_eq!(doc(&value), "\"yes\": 1\n\"\": 2\n\"a: b\": 3\n\"multi\\nline\": 4\n\"1\": 5\n\"<<\": 6\nplain: 7\n");
        assert_round_trip(&value);
    }

    #[test]
    fn literal_blocks() {
        assert_eq!(doc(&json!({"k": "a\nb\n"})), "k: |\n  a\n  b\n");
        assert_eq!(doc(&json!({"k": "a\nb"})), "k: |-\n  a\n  b\n");
        assert_eq!(doc(&json!({"k": "a\nb\n\n\n"})), "k: |+\n  a\n  b\n\n\n");
        assert_eq!(doc(&json!({"k": "a\n\nb\n"})), "k: |\n  a\n\n  b\n");
        assert_eq!(doc(&json!({"k": "a\n  indented\n"})), "k: |\n  a\n    indented\n");
        assert_eq!(doc(&json!(["x\ny\n"])), "- |\n  x\n  y\n");
        assert_eq!(doc(&json!("x\ny")), "|-\n  x\n  y\n");
        assert_eq!(doc(&json!({"a": {"b": [{"c": "1\n2\n"}]}})), "a:\n  b:\n  - c: |\n      1\n      2\n");
        // Not eligible: fall back to double quotes.
        assert_eq!(doc(&json!({"k": " lead\nx"})), "k: \" lead\\nx\"\n");
        assert_eq!(doc(&json!({"k": "\tlead\nx"})), "k: \"\\tlead\\nx\"\n");
        assert_eq!(doc(&json!({"k": "a\r\nb"})), "k: \"a\\r\\nb\"\n");
        assert_eq!(doc(&json!({"k": "\n"})), "k: \"\\n\"\n");
        assert_eq!(doc(&json!({"k": "\n\n"})), "k: \"\\n\\n\"\n");
        assert_eq!(doc(&json!({"k": "a\u{85}\nb"})), "k: \"a\\x85\\nb\"\n");
        // Tabs inside the lines are fine.
        assert_eq!(doc(&json!({"k": "a\tb\n\tc\n"})), "k: |\n  a\tb\n  \tc\n");
    }

    #[test]
    fn generated_strings_round_trip() {
        // Deterministic pseudo-random strings over an alphabet of YAML-significant characters.
        let alphabet: Vec<char> =
            "ab01 :#-?,[]{}&*!|>'\"%@`.\t\n\r_+eExXoO~=<yYnN\\/\u{85}\u{2028}\u{e9}\u{feff}\0\u{1b}".chars().collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |bound: usize| -> usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        for _ in 0..3000 {
            let len = next(9);
            let s: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            assert_round_trip(&json!({ "k": s, s.clone(): [s.clone(), { "m": s.clone() }], "l": [[s]] }));
        }
    }

    #[test]
    fn tricky_strings_round_trip() {
        let tricky = [
            "",
            " ",
            "  x  ",
            "y",
            "NO",
            "~",
            "null",
            "0",
            "017",
            "0x1f",
            "0o17",
            "1_000",
            "+1",
            "-1",
            "1.5",
            ".5",
            "1e3",
            ".inf",
            "-.Inf",
            ".nan",
            "1:30",
            "190:20:30",
            "2024-01-01",
            "2001-12-14t21:59:43.10-05:00",
            "-",
            "- x",
            "? x",
            ": x",
            ",",
            "[a]",
            "]",
            "{a}",
            "}",
            "#c",
            "&a",
            "*a",
            "!t",
            "|",
            ">",
            "'q'",
            "\"d\"",
            "%p",
            "@a",
            "`b`",
            "a:",
            "a: b",
            "a #b",
            "a\t#b",
            "tab\t",
            "\t",
            "\0",
            "\u{1}",
            "\u{7f}",
            "\u{85}",
            "\u{a0}",
            "\u{2028}",
            "\u{feff}x",
            "a\\b",
            "back\\slash\"quote",
            "---",
            "...",
            "--- x",
            "a\nb",
            "a\nb\n",
            "a\nb\n\n",
            "a\n\n\nb\n\n\n",
            "\na\n",
            "\n\nb",
            "a\n b\n",
            "a\n\n",
            "x\n#not comment\n",
            "x\n- item\n",
            "x\n---\n",
            "x\n...\n",
            "a \nb \n",
            "a\tb\n\tc",
            "\r\n",
            "line\r\nline\n",
            "caf\u{e9}\n\u{65e5}\u{672c}\n",
            "=",
            "<<",
            "0.5.x",
            "10.0.0.1",
            "1.2.3",
            "true\n",
            "yes\nno",
            "  \nx",
            "\n  x",
            "x\n ",
        ];
        for s in tricky {
            assert_round_trip(&json!({ "k": s }));
            assert_round_trip(&json!({ s: "v" }));
            assert_round_trip(&json!([s, [s], { "n": { "m": s } }]));
            assert_round_trip(&json!(s));
        }
    }
}
