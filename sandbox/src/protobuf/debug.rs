//! Reads back the `Debug` text of a decoded `k8s-pb` message as a tree.
//!
//! `prost` generates no reflection, but its derived `Debug` prints every field of a message by
//! name, in one regular shape: `Name { field: value, … }`, `Some(…)`/`None` for optional fields,
//! `[…]` for repeated fields, `{key: value, …}` for maps, Rust-escaped strings, numbers and
//! booleans. This module parses that shape (and nothing more) so [`super::json`] can map it onto
//! Kubernetes' JSON by the kind's OpenAPI schema.

/// One value of a decoded message.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A message: its Rust type name and its fields in declaration order.
    Message(String, Vec<(String, Node)>),
    /// An optional field: `Some(…)` or `None`.
    Opt(Option<Box<Node>>),
    /// A repeated field.
    List(Vec<Node>),
    /// A map field.
    Map(Vec<(Node, Node)>),
    /// A string.
    Str(String),
    /// A number, as printed.
    Num(String),
    /// A boolean.
    Bool(bool),
}

/// Nesting deeper than this is refused (decoding already stops at prost's recursion limit).
const MAX_DEPTH: usize = 512;

/// Parses `Debug` text; `None` when it is not in the shape prost prints.
pub fn parse(text: &str) -> Option<Node> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let node = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(node)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.i += 1)
    }

    fn ident(&mut self) -> Option<String> {
        self.ws();
        let start = self.i;
        if self.s.get(self.i..self.i + 2) == Some(b"r#") {
            self.i += 2;
        }
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') {
            self.i += 1;
        }
        let word = std::str::from_utf8(self.s.get(start..self.i)?).ok()?;
        (!word.is_empty()).then(|| word.trim_start_matches("r#").to_owned())
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(Node::Str),
            b'[' => {
                self.i += 1;
                let items = self.list(b']', |p| p.value(depth + 1))?;
                Some(Node::List(items))
            }
            b'{' => {
                self.i += 1;
                let entries = self.list(b'}', |p| {
                    let k = p.value(depth + 1)?;
                    p.eat(b':')?;
                    Some((k, p.value(depth + 1)?))
                })?;
                Some(Node::Map(entries))
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => {
                let word = self.ident()?;
                match word.as_str() {
                    "true" => Some(Node::Bool(true)),
                    "false" => Some(Node::Bool(false)),
                    "None" => Some(Node::Opt(None)),
                    "inf" | "NaN" => Some(Node::Num(word)),
                    "Some" => {
                        self.eat(b'(')?;
                        let inner = self.value(depth + 1)?;
                        self.eat(b')')?;
                        Some(Node::Opt(Some(Box::new(inner))))
                    }
                    _ if self.peek() == Some(b'{') => {
                        self.i += 1;
                        let fields = self.list(b'}', |p| {
                            let name = p.ident()?;
                            p.eat(b':')?;
                            Some((name, p.value(depth + 1)?))
                        })?;
                        Some(Node::Message(word, fields))
                    }
                    // A message without fields prints its name alone.
                    _ => Some(Node::Message(word, Vec::new())),
                }
            }
        }
    }

    /// Comma-separated items up to `close` (a trailing comma is allowed, as `{:#?}` prints).
    fn list<T>(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut out = Vec::new();
        loop {
            if self.eat(close).is_some() {
                return Some(out);
            }
            out.push(item(self)?);
            if self.eat(b',').is_none() {
                self.eat(close)?;
                return Some(out);
            }
        }
    }

    fn number(&mut self) -> Option<Node> {
        self.ws();
        let start = self.i;
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.')) {
            self.i += 1;
        }
        let text = std::str::from_utf8(self.s.get(start..self.i)?).ok()?;
        Some(Node::Num(text.to_owned()))
    }

    /// A string as `str`'s `Debug` escapes it.
    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = *self.s.get(self.i)?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    let c = match e {
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'0' => '\0',
                        b'\\' => '\\',
                        b'"' => '"',
                        b'\'' => '\'',
                        b'u' => {
                            let rest = self.s.get(self.i..)?;
                            let close = rest.iter().position(|b| *b == b'}')?;
                            let hex = std::str::from_utf8(rest.get(1..close)?).ok()?;
                            self.i += close + 1;
                            char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                        }
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_prost_prints() {
        let cm = k8s_pb::api::core::v1::ConfigMap {
            metadata: Some(k8s_pb::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("a \"q\"\n\u{7}é".into()),
                ..Default::default()
            }),
            data: [("k".to_owned(), "v".to_owned())].into(),
            binary_data: [("b".to_owned(), vec![0, 255])].into(),
            immutable: None,
        };
        let node = parse(&format!("{cm:?}")).unwrap();
        let Node::Message(name, fields) = node else { panic!() };
        assert_eq!(name, "ConfigMap");
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["metadata", "immutable", "data", "binary_data"]);
        let Node::Opt(Some(meta)) = &fields[0].1 else { panic!() };
        let Node::Message(_, meta) = &**meta else { panic!() };
        assert_eq!(meta[0].1, Node::Opt(Some(Box::new(Node::Str("a \"q\"\n\u{7}é".into())))));
        assert_eq!(fields[2].1, Node::Map(vec![(Node::Str("k".into()), Node::Str("v".into()))]));
        assert_eq!(fields[3].1, Node::Map(vec![(Node::Str("b".into()), Node::List(vec![Node::Num("0".into()), Node::Num("255".into())]))]));
    }

    #[test]
    fn refuses_other_text() {
        for text in ["", "Some(", "\"open", "[1, 2", "A { b 1 }", "{\"a\" 1}", "\"\\q\""] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
