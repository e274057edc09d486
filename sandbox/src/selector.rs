//! Label and field selectors, parsed and matched as kube-apiserver does.
//!
//! [`LabelSelector::parse`] is a port of apimachinery's `labels.Parse` (lexer, parser, error
//! messages and the key/value validation of `NewRequirement`); [`LabelSelector::from_json`] is
//! `metav1.LabelSelectorAsSelector` for the `matchLabels`/`matchExpressions` form objects carry.
//! [`FieldSelector::parse`] is `fields.ParseSelector` (with `\` escapes), and
//! [`supported_field_selectors`] lists the field labels each built-in kind accepts.

use std::fmt;

use cairn_core::names::{label_value_errors, qualified_name_errors};
use serde_json::{Map, Value};

/// A selector that does not parse or a field label a kind does not support. The message is
/// Kubernetes' own, fit for a 400 `Status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// The operator of one label requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `key in (a,b)`
    In,
    /// `key notin (a,b)`
    NotIn,
    /// `key=a`
    Equals,
    /// `key==a`
    DoubleEquals,
    /// `key!=a`
    NotEquals,
    /// `key`
    Exists,
    /// `!key`
    DoesNotExist,
    /// `key>1`
    GreaterThan,
    /// `key<1`
    LessThan,
}

/// One requirement of a label selector; values are sorted and unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// How the label is compared.
    pub operator: Operator,
    /// The values compared against (empty for `Exists`/`DoesNotExist`).
    pub values: Vec<String>,
}

impl Requirement {
    /// Whether `labels` satisfy this requirement (`Requirement.Matches`).
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        let value = labels.get(&self.key).map(|v| v.as_str().unwrap_or_default());
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            Operator::NotIn | Operator::NotEquals => !value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(v), [bound]) = (value, self.values.as_slice()) else { return false };
                let (Ok(v), Ok(bound)) = (v.parse::<i64>(), bound.parse::<i64>()) else { return false };
                if self.operator == Operator::GreaterThan {
                    v > bound
                } else {
                    v < bound
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        f.write_str(&self.values.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A parsed label selector: the AND of its requirements, sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    /// `labels.Nothing()`: what a missing (`null`) object selector converts to.
    nothing: bool,
}

impl LabelSelector {
    /// Parses the `labelSelector=` query syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
    /// `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by `,`. The empty string selects
    /// everything.
    pub fn parse(selector: &str) -> Result<LabelSelector, SelectorError> {
        let mut parser = Parser { items: lex(selector), position: 0 };
        let mut requirements = parser.parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector { requirements, nothing: false })
    }

    /// Converts an object's selector (`{"matchLabels": {...}, "matchExpressions": [...]}`) as
    /// `metav1.LabelSelectorAsSelector` does: `null` selects nothing, `{}` everything.
    pub fn from_json(selector: &Value) -> Result<LabelSelector, SelectorError> {
        let Some(obj) = selector.as_object() else {
            return Ok(LabelSelector { requirements: Vec::new(), nothing: true });
        };
        let mut requirements = Vec::new();
        if let Some(labels) = obj.get("matchLabels").and_then(Value::as_object) {
            for (key, value) in labels {
                let value = value.as_str().unwrap_or_default().to_owned();
                requirements.push(new_requirement(key, Operator::Equals, vec![value])?);
            }
        }
        for expr in obj.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
            let key = expr.get("key").and_then(Value::as_str).unwrap_or_default();
            let op = expr.get("operator").and_then(Value::as_str).unwrap_or_default();
            let operator = match op {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => return Err(SelectorError(format!("{other:?} is not a valid label selector operator"))),
            };
            let mut values: Vec<String> = expr
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect();
            values.sort();
            values.dedup();
            requirements.push(new_requirement(key, operator, values)?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector { requirements, nothing: false })
    }

    /// Whether the selector selects everything (no requirements).
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether `labels` (an object's `metadata.labels`) satisfy every requirement.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.requirements.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn keyword(s: &str) -> Option<Token> {
    Some(match s {
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        "!" => Token::DoesNotExist,
        "==" => Token::DoubleEquals,
        "=" => Token::Equals,
        ">" => Token::GreaterThan,
        "in" => Token::In,
        "<" => Token::LessThan,
        "!=" => Token::NotEquals,
        "notin" => Token::NotIn,
        "(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// The lexer of `labels.Parse`: a NUL byte ends the input, as it does there.
fn lex(s: &str) -> Vec<(Token, String)> {
    let bytes = s.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut pos = 0;
    let mut items = Vec::new();
    loop {
        while at(pos) != 0 && is_whitespace(at(pos)) {
            pos += 1;
        }
        let ch = at(pos);
        if ch == 0 {
            items.push((Token::EndOfString, String::new()));
            return items;
        }
        let start = pos;
        if is_special(ch) {
            let mut last: Option<(Token, usize)> = None;
            while at(pos) != 0 && is_special(at(pos)) {
                let candidate = s.get(start..=pos).unwrap_or_default();
                if let Some(tok) = keyword(candidate) {
                    last = Some((tok, pos + 1));
                    pos += 1;
                } else if last.is_some() {
                    break;
                } else {
                    pos += 1;
                }
            }
            match last {
                Some((tok, end)) => {
                    pos = end;
                    items.push((tok, s.get(start..end).unwrap_or_default().to_owned()));
                }
                None => items.push((Token::Error, format!("error expected: keyword found '{}'", s.get(start..pos).unwrap_or_default()))),
            }
        } else {
            while at(pos) != 0 && !is_special(at(pos)) && !is_whitespace(at(pos)) {
                pos += 1;
            }
            let lit = s.get(start..pos).unwrap_or_default();
            items.push((keyword(lit).unwrap_or(Token::Identifier), lit.to_owned()));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

struct Parser {
    items: Vec<(Token, String)>,
    position: usize,
}

const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

impl Parser {
    fn peek(&self, context: Context) -> (Token, String) {
        let (tok, lit) = self.items.get(self.position).cloned().unwrap_or((Token::EndOfString, String::new()));
        match (context, tok) {
            (Context::Values, Token::In | Token::NotIn) => (Token::Identifier, lit),
            _ => (tok, lit),
        }
    }

    fn consume(&mut self, context: Context) -> (Token, String) {
        let item = self.peek(context);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.peek(Context::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self.parse_requirement().map_err(|e| SelectorError(format!("unable to parse requirement: {e}")))?;
                    requirements.push(r);
                    let (t, l) = self.consume(Context::Values);
                    match t {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (t2, l2) = self.peek(Context::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(SelectorError(format!("found '{l2}', expected: identifier after ','")));
                            }
                        }
                        _ => return Err(SelectorError(format!("found '{l}', expected: ',' or 'end of string'"))),
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => return Err(SelectorError(format!("found '{lit}', expected: !, identifier, or 'end of string'"))),
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let (key, operator) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = operator {
            return new_requirement(&key, op, Vec::new()).map_err(|e| e.0);
        }
        let operator = self.parse_operator()?;
        let mut values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        values.sort();
        values.dedup();
        new_requirement(&key, operator, values).map_err(|e| e.0)
    }

    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let mut operator = None;
        let (mut tok, mut lit) = self.consume(Context::Values);
        if tok == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (tok, lit) = self.consume(Context::Values);
        }
        if tok != Token::Identifier {
            return Err(format!("found '{lit}', expected: identifier"));
        }
        let errs = qualified_name_errors(&lit);
        if !errs.is_empty() {
            return Err(format!("<nil>: Invalid value: {}: {}", go_quote(&lit), errs.join("; ")));
        }
        let (next, _) = self.peek(Context::Values);
        if matches!(next, Token::EndOfString | Token::Comma) && operator != Some(Operator::DoesNotExist) {
            operator = Some(Operator::Exists);
        }
        Ok((lit, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (tok, lit) = self.consume(Context::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => return Err(format!("found '{lit}', expected: {BINARY_OPERATORS}")),
        })
    }

    fn parse_values(&mut self) -> Result<Vec<String>, String> {
        let (tok, lit) = self.consume(Context::Values);
        if tok != Token::OpenPar {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.peek(Context::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let values = self.parse_identifiers_list()?;
                let (tok, _) = self.consume(Context::Values);
                if tok != Token::ClosedPar {
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(vec![String::new()])
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<Vec<String>, String> {
        let mut values: Vec<String> = Vec::new();
        loop {
            let (tok, lit) = self.consume(Context::Values);
            match tok {
                Token::Identifier => {
                    values.push(lit);
                    let (tok2, lit2) = self.peek(Context::Values);
                    match tok2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(values),
                        _ => return Err(format!("found '{lit2}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    if values.is_empty() {
                        values.push(String::new());
                    }
                    let (tok2, _) = self.peek(Context::Values);
                    if tok2 == Token::ClosedPar {
                        values.push(String::new());
                        return Ok(values);
                    }
                    if tok2 == Token::Comma {
                        values.push(String::new());
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<Vec<String>, String> {
        let (tok, _) = self.peek(Context::Values);
        if matches!(tok, Token::EndOfString | Token::Comma) {
            return Ok(vec![String::new()]);
        }
        let (tok, lit) = self.consume(Context::Values);
        if tok == Token::Identifier {
            return Ok(vec![lit]);
        }
        Err(format!("found '{lit}', expected: identifier"))
    }
}

/// `labels.NewRequirement`: checks the key, the number of values for the operator, and each
/// value; several problems are reported together as `[a, b]`.
fn new_requirement(key: &str, operator: Operator, values: Vec<String>) -> Result<Requirement, SelectorError> {
    let mut errs: Vec<String> = Vec::new();
    let key_errs = qualified_name_errors(key);
    if !key_errs.is_empty() {
        errs.push(format!("key: Invalid value: {}: {}", go_quote(key), key_errs.join("; ")));
    }
    match operator {
        Operator::In | Operator::NotIn if values.is_empty() => errs
            .push(format!("values: Invalid value: {}: for 'in', 'notin' operators, values set can't be empty", go_string_slice(&values))),
        Operator::Equals | Operator::DoubleEquals | Operator::NotEquals if values.len() != 1 => {
            errs.push(format!("values: Invalid value: {}: exact-match compatibility requires one single value", go_string_slice(&values)))
        }
        Operator::Exists | Operator::DoesNotExist if !values.is_empty() => errs
            .push(format!("values: Invalid value: {}: values set must be empty for exists and does not exist", go_string_slice(&values))),
        Operator::GreaterThan | Operator::LessThan => {
            if values.len() != 1 {
                errs.push(format!(
                    "values: Invalid value: {}: for 'Gt', 'Lt' operators, exactly one value is required",
                    go_string_slice(&values)
                ));
            }
            for (i, v) in values.iter().enumerate() {
                if v.parse::<i64>().is_err() {
                    errs.push(format!(
                        "values[{i}]: Invalid value: {}: for 'Gt', 'Lt' operators, the value must be an integer",
                        go_quote(v)
                    ));
                }
            }
        }
        _ => {}
    }
    for (i, v) in values.iter().enumerate() {
        let value_errs = label_value_errors(v);
        if !value_errs.is_empty() {
            errs.push(format!("values[{i}][{key}]: Invalid value: {}: {}", go_quote(v), value_errs.join("; ")));
        }
    }
    errs.dedup();
    match errs.len() {
        0 => Ok(Requirement { key: key.to_owned(), operator, values }),
        1 => Err(SelectorError(errs.concat())),
        _ => Err(SelectorError(format!("[{}]", errs.join(", ")))),
    }
}

/// Go's `%#v` of a `[]string`.
fn go_string_slice(values: &[String]) -> String {
    let parts: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[]string{{{}}}", parts.join(", "))
}

/// Go's `strconv.Quote`: printable characters as they are, the rest escaped.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One `field=value` or `field!=value` term of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    /// The dotted field label (`metadata.name`).
    pub field: String,
    /// The value, unescaped.
    pub value: String,
    /// `!=` rather than `=`/`==`.
    pub negated: bool,
}

/// A parsed field selector: the AND of its terms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// Parses the `fieldSelector=` syntax: `a=b`, `a==b`, `a!=b` joined by `,`; `\,`, `\=` and
    /// `\\` escape in values. No whitespace is trimmed, as in Kubernetes.
    pub fn parse(selector: &str) -> Result<FieldSelector, SelectorError> {
        let mut parts = split_terms(selector);
        parts.sort();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((field, op, rhs)) = split_term(part) else {
                return Err(SelectorError(format!("invalid selector: '{selector}'; can't understand '{part}'")));
            };
            let value = unescape_value(rhs)?;
            terms.push(FieldTerm { field: field.to_owned(), value, negated: op == "!=" });
        }
        Ok(FieldSelector { terms })
    }

    /// The terms, in the order Kubernetes evaluates them.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Checks every field label against what `group`/`kind` supports, with the message that
    /// kind's field-label conversion gives (what a list or watch request answers with 400).
    pub fn validate_for(&self, group: &str, kind: &str) -> Result<(), SelectorError> {
        let supported = supported_field_selectors(group, kind);
        match self.terms.iter().find(|t| !supported.contains(&t.field.as_str())) {
            Some(t) => Err(SelectorError(unsupported_field_message(group, kind, &t.field))),
            None => Ok(()),
        }
    }

    /// Whether `obj` satisfies every term. A field not in `supported` is an error
    /// (`field label not supported: <field>`, or Kubernetes' generic message when `supported`
    /// is the generic `metadata.name`/`metadata.namespace` list); a field the object lacks
    /// compares as the empty string.
    pub fn matches(&self, obj: &Value, supported: &[&str]) -> Result<bool, SelectorError> {
        for term in &self.terms {
            if !supported.contains(&term.field.as_str()) {
                let message = if supported == DEFAULT_FIELDS {
                    default_unsupported_message(&term.field)
                } else {
                    format!("field label not supported: {}", term.field)
                };
                return Err(SelectorError(message));
            }
        }
        Ok(self.terms.iter().all(|t| (field_value(obj, &t.field) == t.value) != t.negated))
    }
}

/// `fields.splitTerms`: splits on unescaped commas, keeping escapes.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(selector.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    terms.push(selector.get(start..).unwrap_or_default());
    terms
}

/// `fields.splitTerm`: the first `!=`, `==` or `=` splits the term.
fn split_term(term: &str) -> Option<(&str, &'static str, &str)> {
    for (i, _) in term.char_indices() {
        let rest = term.get(i..).unwrap_or_default();
        for op in ["!=", "==", "="] {
            if rest.starts_with(op) {
                return Some((term.get(..i).unwrap_or_default(), op, rest.get(op.len()..).unwrap_or_default()));
            }
        }
    }
    None
}

/// `fields.UnescapeValue`.
fn unescape_value(s: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if matches!(c, '\\' | ',' | '=') {
                out.push(c);
            } else {
                return Err(SelectorError(format!("invalid field selector: invalid escape sequence: \\{c}")));
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => return Err(SelectorError(format!("invalid field selector: unescaped character in value: {}", c as u32))),
            c => out.push(c),
        }
    }
    if in_slash {
        return Err(SelectorError("invalid field selector: invalid escape sequence: \\".to_owned()));
    }
    Ok(out)
}

/// The field labels every kind supports unless it registers its own list.
const DEFAULT_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
    "spec.host",
];

const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.namespace",
    "metadata.name",
];

/// The field labels a kind accepts in `fieldSelector=`, as its field-label conversion function
/// in kube-apiserver lists them (`pkg/apis/core/v1/conversion.go` and friends). Kinds without
/// one get `metadata.name` and `metadata.namespace`. Node and Namespace, being cluster-scoped,
/// do not list `metadata.namespace`.
pub fn supported_field_selectors(group: &str, kind: &str) -> &'static [&'static str] {
    match (group, kind) {
        ("", "Pod") => POD_FIELDS,
        ("", "Event") => EVENT_FIELDS,
        ("", "Node") => &["metadata.name", "spec.unschedulable"],
        ("", "Namespace") => &["status.phase", "metadata.name"],
        ("", "Secret") => &["type", "metadata.namespace", "metadata.name"],
        ("", "Service") => &["metadata.namespace", "metadata.name", "spec.clusterIP", "spec.type"],
        ("", "ReplicationController") => &["metadata.name", "metadata.namespace", "status.replicas"],
        ("apps", "ReplicaSet") => &["metadata.name", "metadata.namespace", "status.replicas"],
        ("batch", "Job") => &["metadata.name", "metadata.namespace", "status.successful"],
        ("certificates.k8s.io", "CertificateSigningRequest") => &["metadata.name", "spec.signerName"],
        _ => DEFAULT_FIELDS,
    }
}

fn default_unsupported_message(field: &str) -> String {
    format!("{field:?} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
}

/// The error a kind's field-label conversion gives for a field it does not support.
pub fn unsupported_field_message(group: &str, kind: &str, field: &str) -> String {
    match (group, kind) {
        ("batch", "Job") => format!("field label {field:?} not supported for batchv1.Job"),
        ("", "Pod" | "Event" | "Node" | "Namespace" | "Secret" | "Service" | "ReplicationController")
        | ("apps", "ReplicaSet")
        | ("certificates.k8s.io", "CertificateSigningRequest") => format!("field label not supported: {field}"),
        _ => default_unsupported_message(field),
    }
}

fn lookup<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(obj, |node, part| node.get(part))
}

fn scalar_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The value Kubernetes' `ToSelectableFields` gives `field` for `obj`.
fn field_value(obj: &Value, field: &str) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    match (kind, field) {
        ("Pod", "spec.host") => scalar_text(lookup(obj, "spec.nodeName")),
        ("Pod", "spec.hostNetwork") | ("Node", "spec.unschedulable") => {
            lookup(obj, field).and_then(Value::as_bool).unwrap_or(false).to_string()
        }
        ("Pod", "status.podIP") => {
            let first = lookup(obj, "status.podIPs").and_then(Value::as_array).and_then(|ips| ips.first()).and_then(|ip| ip.get("ip"));
            scalar_text(first.or_else(|| lookup(obj, "status.podIP")))
        }
        ("Pod", "status.podIPs") => String::new(),
        ("Event", "source") => scalar_text(lookup(obj, "source.component")),
        ("ReplicaSet" | "ReplicationController", "status.replicas") => lookup(obj, field).and_then(Value::as_i64).unwrap_or(0).to_string(),
        ("Job", "status.successful") => lookup(obj, "status.succeeded").and_then(Value::as_i64).unwrap_or(0).to_string(),
        _ => scalar_text(lookup(obj, field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        match LabelSelector::parse(s) {
            Ok(parsed) => panic!("{s} parsed as {parsed}"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn label_selector_forms_match() {
        let l = labels(json!({"app": "web", "tier": "front", "n": "5"}));
        for yes in [
            "",
            "app=web",
            "app==web",
            "app!=db",
            "missing!=x",
            "app in (web,db)",
            "app notin (db)",
            "missing notin (db)",
            "app",
            "!missing",
            "app=web,tier=front",
            "  app = web ,  tier in ( front , back ) ",
            "n>4",
            "n<6",
            "app in (in,web)",
        ] {
            assert!(sel(yes).matches(&l), "{yes:?} should match");
        }
        for no in
            ["app=db", "app!=web", "app in (db)", "app notin (web)", "missing", "!app", "missing=x", "app=web,tier=back", "n>5", "x>1"]
        {
            assert!(!sel(no).matches(&l), "{no:?} should not match");
        }
        assert!(sel("").is_empty());
    }

    #[test]
    fn label_selector_renders_sorted_like_kubernetes() {
        assert_eq!(sel("z=1,a in (y,x),!b,c").to_string(), "a in (x,y),!b,c,z=1");
        assert_eq!(sel("x in (foo,,baz),y,z notin ()").to_string(), "x in (,baz,foo),y,z notin ()");
        assert_eq!(sel("a==b,c!=d").to_string(), "a==b,c!=d");
    }

    #[test]
    fn label_selector_errors_read_like_kubernetes() {
        assert_eq!(err("a b"), "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
        assert_eq!(err("a=b,"), "found '', expected: identifier after ','");
        assert_eq!(err("=a"), "found '=', expected: !, identifier, or 'end of string'");
        assert_eq!(err("a in b"), "unable to parse requirement: found 'b' expected: '('");
        assert_eq!(err("a in (b"), "unable to parse requirement: found '', expected: ',' or ')'");
        assert_eq!(err("a=b c"), "found 'c', expected: ',' or 'end of string'");
        assert_eq!(err("!"), "unable to parse requirement: found '', expected: identifier");
        assert_eq!(
            err("a@b"),
            "unable to parse requirement: <nil>: Invalid value: \"a@b\": name part must consist of alphanumeric characters, '-', '_' or '.', \
             and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation \
             is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        );
        assert_eq!(
            err("a=b@c"),
            "unable to parse requirement: values[0][a]: Invalid value: \"b@c\": a valid label must be an empty string or consist of \
             alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or \
             'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        assert_eq!(
            err("a>b"),
            "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"
        );
        assert!(err("Example.com/a").starts_with(
            "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a lowercase RFC 1123 subdomain"
        ));
    }

    #[test]
    fn object_selectors_convert_like_label_selector_as_selector() {
        let l = labels(json!({"app": "web", "env": "prod"}));
        let s = LabelSelector::from_json(&json!({"matchLabels": {"app": "web"}, "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "staging"]},
            {"key": "canary", "operator": "DoesNotExist"}
        ]}));
        assert!(s.as_ref().is_ok_and(|s| s.matches(&l)));
        assert!(LabelSelector::from_json(&json!({})).is_ok_and(|s| s.is_empty() && s.matches(&l)));
        assert!(LabelSelector::from_json(&Value::Null).is_ok_and(|s| !s.is_empty() && !s.matches(&l)));
        assert_eq!(
            LabelSelector::from_json(&json!({"matchExpressions": [{"key": "a", "operator": "Equals"}]})),
            Err(SelectorError("\"Equals\" is not a valid label selector operator".into()))
        );
    }

    #[test]
    fn field_selectors_match_dotted_paths() {
        let pod = json!({"kind": "Pod", "metadata": {"name": "web-1", "namespace": "default"},
            "spec": {"nodeName": "node-a", "restartPolicy": "Always"},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}]}});
        let supported = supported_field_selectors("", "Pod");
        let m = |s: &str| FieldSelector::parse(s).and_then(|f| f.matches(&pod, supported));
        assert_eq!(m("status.phase=Running"), Ok(true));
        assert_eq!(m("status.phase==Running,metadata.name=web-1"), Ok(true));
        assert_eq!(m("status.phase!=Running"), Ok(false));
        assert_eq!(m("spec.nodeName=node-a,metadata.namespace!=kube-system"), Ok(true));
        assert_eq!(m("spec.host=node-a"), Ok(true));
        assert_eq!(m("status.podIP=10.0.0.5"), Ok(true));
        assert_eq!(m("spec.hostNetwork=false"), Ok(true));
        // A missing field compares as the empty string.
        assert_eq!(m("status.nominatedNodeName="), Ok(true));
        assert_eq!(m("spec.schedulerName!="), Ok(false));
        assert_eq!(m("spec.image=x"), Err(SelectorError("field label not supported: spec.image".into())));
        assert_eq!(m(""), Ok(true));

        let event = json!({"kind": "Event", "involvedObject": {"kind": "Pod", "name": "web-1"}, "source": {"component": "kubelet"}, "type": "Warning"});
        let ev = |s: &str| FieldSelector::parse(s).and_then(|f| f.matches(&event, supported_field_selectors("", "Event")));
        assert_eq!(ev("involvedObject.name=web-1,involvedObject.kind=Pod,type=Warning,source=kubelet"), Ok(true));
        assert_eq!(ev("reason=Failed"), Ok(false));

        let rs = json!({"kind": "ReplicaSet", "metadata": {"name": "a"}});
        assert_eq!(
            FieldSelector::parse("status.replicas=0").and_then(|f| f.matches(&rs, supported_field_selectors("apps", "ReplicaSet"))),
            Ok(true)
        );
        let secret = json!({"kind": "Secret", "type": "kubernetes.io/tls"});
        assert_eq!(
            FieldSelector::parse("type=kubernetes.io/tls").and_then(|f| f.matches(&secret, supported_field_selectors("", "Secret"))),
            Ok(true)
        );
    }

    #[test]
    fn field_selector_errors_read_like_kubernetes() {
        assert_eq!(FieldSelector::parse("a"), Err(SelectorError("invalid selector: 'a'; can't understand 'a'".into())));
        assert_eq!(FieldSelector::parse("a=b,c"), Err(SelectorError("invalid selector: 'a=b,c'; can't understand 'c'".into())));
        assert_eq!(FieldSelector::parse("a=b=c"), Err(SelectorError("invalid field selector: unescaped character in value: 61".into())));
        assert_eq!(FieldSelector::parse("a=b\\x"), Err(SelectorError("invalid field selector: invalid escape sequence: \\x".into())));
        assert_eq!(
            FieldSelector::parse("metadata.name=a\\,b").map(|f| f.terms().to_vec()),
            Ok(vec![FieldTerm { field: "metadata.name".into(), value: "a,b".into(), negated: false }])
        );
        let cm = json!({"kind": "ConfigMap", "metadata": {"name": "x"}});
        assert_eq!(
            FieldSelector::parse("data.key=1").and_then(|f| f.matches(&cm, supported_field_selectors("", "ConfigMap"))),
            Err(SelectorError("\"data.key\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".into()))
        );
        let job = FieldSelector::parse("spec.x=1");
        assert_eq!(
            job.and_then(|f| f.validate_for("batch", "Job")),
            Err(SelectorError("field label \"spec.x\" not supported for batchv1.Job".into()))
        );
        assert_eq!(
            FieldSelector::parse("metadata.namespace=a").and_then(|f| f.validate_for("", "Namespace")),
            Err(SelectorError("field label not supported: metadata.namespace".into()))
        );
        assert_eq!(FieldSelector::parse("status.phase=Active").and_then(|f| f.validate_for("", "Namespace")), Ok(()));
    }
}
