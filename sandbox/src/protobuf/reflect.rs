//! The field numbers and types of a `k8s-pb` message, found by asking its decoder.
//!
//! prost generates no descriptors, but every generated `Debug` prints all fields of a message by
//! name (see [`super::debug`]). So one field at a time is sent to the decoder — tag `n` as a
//! varint, then as an empty length-delimited value, then as a 64-bit value — and the printed
//! message shows which field took it and of what shape (`Some(1)`, `Some(true)`, `Some("")`,
//! `Some([])` for bytes, `Some(Message { … })`, `[…]` repeated, `{…}` a map). A message is done
//! when all its printed fields are found; nested messages are asked through their path from the
//! kind's root. What is found is what the encoder ([`super::encode`]) writes answers with.

use std::collections::HashMap;

use super::debug::{self, Node};
use super::encode::len_delimited;

/// Decodes raw bytes as one root message and prints it with `Debug`.
pub type Decoder = fn(&[u8]) -> Result<String, prost::DecodeError>;

/// The scalar or message type of a field (or of a map's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Any varint: `int32`, `int64`, `bool`.
    Varint,
    /// `double`.
    Double,
    /// `string`.
    Str,
    /// `bytes`.
    Bytes,
    /// A message: its index in [`Schema::messages`].
    Message(usize),
}

/// How many values a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// One (optional).
    Single,
    /// A repeated field.
    Repeated,
    /// A `map<string, …>` field.
    Map,
}

/// One field of a message.
#[derive(Debug, Clone)]
pub struct Field {
    /// prost's name (`volume_id`).
    pub name: String,
    /// The field number.
    pub tag: u32,
    /// How many values.
    pub label: Label,
    /// Of what type (a map's value type for [`Label::Map`]).
    pub ty: Ty,
}

/// One message type.
#[derive(Debug, Clone)]
pub struct MessageType {
    /// The Rust type's name (`ObjectMeta`, `IntOrString`).
    pub name: String,
    /// Its fields, in declaration order of those found.
    pub fields: Vec<Field>,
}

/// The messages reachable from one root message; the root is `messages[0]`.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Every message type, found once each.
    pub messages: Vec<MessageType>,
}

/// Field numbers above this are not tried (Kubernetes' largest is in the 40s).
const MAX_TAG: u32 = 128;

/// One step from a message to a nested one.
#[derive(Clone, Copy)]
struct Step<'a> {
    name: &'a str,
    tag: u32,
    label: Label,
}

/// Finds the schema of the message `decode` reads; `None` if the decoder behaves in a way this
/// module does not know (a bug, not a body: no input reaches here).
pub fn schema(decode: Decoder) -> Option<Schema> {
    let mut finder = Finder { decode, messages: Vec::new(), by_name: HashMap::new() };
    finder.message(&[])?;
    Some(Schema { messages: finder.messages })
}

struct Finder {
    decode: Decoder,
    messages: Vec<MessageType>,
    by_name: HashMap<String, usize>,
}

fn key(tag: u32, wire: prost::encoding::WireType, out: &mut Vec<u8>) {
    prost::encoding::encode_key(tag, wire, out);
}

/// `inner` as the value at the end of `path`, from the root.
fn wrap(path: &[Step], inner: Vec<u8>) -> Vec<u8> {
    let mut bytes = inner;
    for step in path.iter().rev() {
        if step.label == Label::Map {
            // A map entry: key 1, value 2.
            let mut entry = Vec::new();
            len_delimited(2, &bytes, &mut entry);
            bytes = entry;
        }
        let mut out = Vec::new();
        len_delimited(step.tag, &bytes, &mut out);
        bytes = out;
    }
    bytes
}

/// The value a field holds, past `Some`, the first item or the first map value.
fn unwrap_one(node: &Node) -> Option<&Node> {
    match node {
        Node::Opt(Some(inner)) => Some(inner),
        Node::List(items) => items.first(),
        Node::Map(entries) => entries.first().map(|(_, v)| v),
        _ => None,
    }
}

/// The message at the end of `path` in a printed root.
fn at<'n>(root: &'n Node, path: &[Step]) -> Option<(&'n str, &'n [(String, Node)])> {
    let mut node = root;
    for step in path {
        let Node::Message(_, fields) = node else { return None };
        let (_, value) = fields.iter().find(|(n, _)| n == step.name)?;
        node = unwrap_one(value)?;
    }
    match node {
        Node::Message(name, fields) => Some((name, fields)),
        _ => None,
    }
}

impl Finder {
    /// The fields of the message at `path` as printed after decoding `inner` there.
    fn probe(&self, path: &[Step], inner: Vec<u8>) -> Option<(String, Vec<(String, Node)>)> {
        let text = (self.decode)(&wrap(path, inner)).ok()?;
        let root = debug::parse(&text)?;
        at(&root, path).map(|(name, fields)| (name.to_owned(), fields.to_vec()))
    }

    /// Finds the message at `path` (and those under it); its index.
    fn message(&mut self, path: &[Step]) -> Option<usize> {
        let (name, defaults) = self.probe(path, Vec::new())?;
        let names: Vec<&str> = defaults.iter().map(|(n, _)| n.as_str()).collect();
        let id = format!("{name}{{{}}}", names.join(","));
        if let Some(&index) = self.by_name.get(&id) {
            return Some(index);
        }
        let index = self.messages.len();
        self.by_name.insert(id, index);
        self.messages.push(MessageType { name: name.clone(), fields: Vec::new() });
        let mut fields = Vec::new();
        let mut tag = 0;
        while fields.len() < defaults.len() && tag < MAX_TAG {
            tag += 1;
            let Some((field_name, label, ty)) = self.field(path, tag, &defaults) else { continue };
            let ty = match ty {
                Found::Scalar(ty) => ty,
                Found::Message => {
                    let mut nested = path.to_vec();
                    nested.push(Step { name: &field_name, tag, label });
                    Ty::Message(self.message(&nested)?)
                }
            };
            fields.push(Field { name: field_name, tag, label, ty });
        }
        if fields.len() < defaults.len() {
            return None;
        }
        fields.sort_by_key(|f| defaults.iter().position(|(n, _)| *n == f.name));
        self.messages.get_mut(index)?.fields = fields;
        Some(index)
    }

    /// Which field (if any) tag `tag` of the message at `path` is, with its label and type.
    fn field(&self, path: &[Step], tag: u32, defaults: &[(String, Node)]) -> Option<(String, Label, Found)> {
        use prost::encoding::WireType;
        let changed = |fields: &[(String, Node)]| -> Option<(String, Node)> {
            fields.iter().zip(defaults).find(|((_, now), (_, before))| now != before).map(|((n, v), _)| (n.clone(), v.clone()))
        };
        let mut varint = Vec::new();
        key(tag, WireType::Varint, &mut varint);
        varint.push(1);
        if let Some((_, fields)) = self.probe(path, varint) {
            // Decoded: the field is a varint, or no field has this number.
            let (name, value) = changed(&fields)?;
            let label = if matches!(value, Node::List(_)) { Label::Repeated } else { Label::Single };
            return Some((name, label, Found::Scalar(Ty::Varint)));
        }
        let mut empty = Vec::new();
        key(tag, WireType::LengthDelimited, &mut empty);
        empty.push(0);
        if let Some((_, fields)) = self.probe(path, empty) {
            let (name, value) = changed(&fields)?;
            let (label, one) = match &value {
                Node::Opt(Some(inner)) => (Label::Single, &**inner),
                Node::List(items) => (Label::Repeated, items.first()?),
                Node::Map(entries) => (Label::Map, &entries.first()?.1),
                _ => return None,
            };
            let found = match one {
                Node::Str(_) => Found::Scalar(Ty::Str),
                Node::List(_) => Found::Scalar(Ty::Bytes),
                Node::Message(..) => Found::Message,
                _ => return None,
            };
            return Some((name, label, found));
        }
        let mut fixed = Vec::new();
        key(tag, WireType::SixtyFourBit, &mut fixed);
        fixed.extend_from_slice(&1f64.to_le_bytes());
        let (_, fields) = self.probe(path, fixed)?;
        let (name, value) = changed(&fields)?;
        let label = if matches!(value, Node::List(_)) { Label::Repeated } else { Label::Single };
        Some((name, label, Found::Scalar(Ty::Double)))
    }
}

/// What a probe found a field to be.
enum Found {
    Scalar(Ty),
    Message,
}

impl Schema {
    /// A message by index.
    pub fn get(&self, index: usize) -> Option<&MessageType> {
        self.messages.get(index)
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn decode<T: Message + Default + std::fmt::Debug>(raw: &[u8]) -> Result<String, prost::DecodeError> {
        T::decode(raw).map(|m| format!("{m:?}"))
    }

    fn field<'s>(schema: &'s Schema, message: usize, name: &str) -> &'s Field {
        schema.messages[message].fields.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn finds_the_fields_of_a_configmap() {
        let schema = schema(decode::<k8s_pb::api::core::v1::ConfigMap>).unwrap();
        let root = &schema.messages[0];
        assert_eq!(root.name, "ConfigMap");
        let found: Vec<(&str, u32, Label)> = root.fields.iter().map(|f| (f.name.as_str(), f.tag, f.label)).collect();
        assert_eq!(
            found,
            [("metadata", 1, Label::Single), ("immutable", 4, Label::Single), ("data", 2, Label::Map), ("binary_data", 3, Label::Map)]
        );
        assert_eq!(field(&schema, 0, "data").ty, Ty::Str);
        assert_eq!(field(&schema, 0, "binary_data").ty, Ty::Bytes);
        assert_eq!(field(&schema, 0, "immutable").ty, Ty::Varint);
        let Ty::Message(meta) = field(&schema, 0, "metadata").ty else { panic!() };
        assert_eq!(schema.messages[meta].name, "ObjectMeta");
        assert_eq!(field(&schema, meta, "labels").label, Label::Map);
        assert_eq!(field(&schema, meta, "finalizers").label, Label::Repeated);
        assert_eq!(field(&schema, meta, "generation").ty, Ty::Varint);
    }

    #[test]
    fn finds_recursive_and_double_fields_of_a_crd() {
        let crd = schema(decode::<k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>).unwrap();
        let props = crd.messages.iter().position(|m| m.name == "JsonSchemaProps").unwrap();
        assert_eq!(field(&crd, props, "maximum").ty, Ty::Double);
        assert_eq!(field(&crd, props, "properties").ty, Ty::Message(props));
        assert_eq!(field(&crd, props, "properties").label, Label::Map);
    }

    #[test]
    fn every_served_kind_has_a_schema() {
        for (group, version, kind) in super::super::kinds::ALL {
            let decoder = super::super::kinds::decoder(group, version, kind).unwrap();
            let schema = schema(decoder).unwrap_or_else(|| panic!("{group}/{version} {kind}"));
            assert!(schema.messages.iter().all(|m| !m.name.is_empty()));
        }
    }
}
