//! Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`) of built-in kinds: the
//! `k8s\0` magic, a `runtime.Unknown` envelope naming the kind, and the object as `k8s-pb`'s
//! message of that kind.
//!
//! Request bodies ([`decode`]), as `kubectl create`, `kubectl expose`, `kubectl run` and typed
//! client-go clients send them, become the same JSON the JSON path reads, so every write after
//! that is the same. Answers ([`encode`], [`watch_frame`]) for clients that accept protobuf only
//! are the stored JSON written back into the kind's message. Custom kinds have no protobuf form
//! (as on a real server).

mod debug;
mod encode;
mod json;
mod kinds;
mod reflect;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use prost::Message;
use serde_json::Value;

use crate::registry::ResourceType;
use crate::schema;
use crate::status::ApiError;

/// The media type of Kubernetes' protobuf encoding.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The four bytes every Kubernetes protobuf body starts with.
const MAGIC: [u8; 4] = *b"k8s\0";

/// Decodes a protobuf body sent to `rtype`'s path into the object as JSON (with `apiVersion`
/// and `kind` from the envelope, so the usual checks compare them with the path).
pub fn decode(body: &[u8], rtype: &ResourceType) -> Result<Value, ApiError> {
    let unrecognized = |why: String| {
        ApiError::bad_request(format!("the object provided is unrecognized (must be of type {}): {why} ({})", rtype.kind, summary(body)))
    };
    let Some(envelope) = body.strip_prefix(&MAGIC) else {
        return Err(unrecognized("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]".to_owned()));
    };
    let unknown = k8s_pb::apimachinery::pkg::runtime::Unknown::decode(envelope)
        .map_err(|e| unrecognized(format!("the protobuf envelope (runtime.Unknown) cannot be read: {e}")))?;
    if unknown.content_encoding.as_deref().is_some_and(|e| !e.is_empty()) {
        return Err(unrecognized("the sandbox reads no contentEncoding in a protobuf envelope".into()));
    }
    let type_meta = unknown.type_meta.unwrap_or_default();
    // An envelope without a type takes the path's, as the API server defaults it.
    let api_version = type_meta.api_version.filter(|v| !v.is_empty()).unwrap_or_else(|| rtype.api_version());
    let kind = type_meta.kind.filter(|k| !k.is_empty()).unwrap_or_else(|| rtype.kind.clone());
    let (group, version) = crate::registry::split_api_version(&api_version);
    let raw = unknown.raw.unwrap_or_default();
    let Some(decoder) = kinds::decoder(group, version, &kind) else {
        return Err(unrecognized(format!("no kind {kind:?} is registered for version {api_version:?} in the sandbox's protobuf scheme")));
    };
    let text = decoder(&raw).map_err(|e| unrecognized(format!("the {kind} message cannot be read: {e}")))?;
    let node = debug::parse(&text).ok_or_else(|| ApiError::internal(format!("the decoded {kind} could not be read back")))?;
    let Some(root) = schema::builtin(group, &kind) else {
        return Err(unrecognized(format!("the sandbox has no schema for {kind}")));
    };
    let mut obj = json::object(&node, &root).map_err(|e| unrecognized(format!("the {kind} cannot be read: {e}")))?;
    if let Some(map) = obj.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(api_version));
        map.insert("kind".into(), Value::String(kind));
    }
    Ok(obj)
}

/// The start of a body as the API server quotes it in errors: JSON as text, anything else in hex.
fn summary(body: &[u8]) -> String {
    const MAX: usize = 30;
    let head = body.get(..MAX).unwrap_or(body);
    let more = if body.len() > MAX { " ..." } else { "" };
    match body.first() {
        None => "<empty>".to_owned(),
        Some(b'{') => format!("{}{more}", String::from_utf8_lossy(head)),
        Some(_) => format!("{}{more}", head.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    }
}

/// Whether objects of a built-in kind have a protobuf form the sandbox reads and writes.
pub fn has_message(group: &str, version: &str, kind: &str) -> bool {
    kinds::decoder(group, version, kind).is_some()
}

/// The fields of a kind's message (`"ListMeta"` and `"Status"` for those two), found once per
/// process.
fn schema_of(group: &str, version: &str, kind: &str) -> Option<Arc<reflect::Schema>> {
    type Cache = Mutex<HashMap<(String, String, String), Arc<reflect::Schema>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (group.to_owned(), version.to_owned(), kind.to_owned());
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Some(hit);
    }
    let decoder = match (group, version, kind) {
        ("meta.k8s.io", "v1", "ListMeta") => kinds::list_meta(),
        ("meta.k8s.io", "v1", "Status") => kinds::status(),
        _ => kinds::decoder(group, version, kind)?,
    };
    let schema = Arc::new(reflect::schema(decoder)?);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, schema.clone());
    }
    Some(schema)
}

/// A kind's object as the bytes of its message.
fn raw_message(group: &str, version: &str, kind: &str, value: &Value) -> Result<Vec<u8>, String> {
    let schema = schema_of(group, version, kind).ok_or_else(|| format!("{kind} has no protobuf message in the sandbox"))?;
    encode::message(&schema, 0, value, "")
}

/// An answer (an object of a built-in kind, a list of them, or a `Status`) in Kubernetes'
/// protobuf encoding: magic, envelope, message.
pub fn encode(value: &Value) -> Result<Vec<u8>, String> {
    let api_version = value["apiVersion"].as_str().unwrap_or_default();
    let kind = value["kind"].as_str().unwrap_or_default();
    let (raw, api_version) = if kind == "Status" {
        (raw_message("meta.k8s.io", "v1", "Status", value)?, "v1")
    } else {
        let (group, version) = crate::registry::split_api_version(api_version);
        match kind.strip_suffix("List") {
            Some(item_kind) if !has_message(group, version, kind) && has_message(group, version, item_kind) => {
                // `<Kind>List`: metadata 1, items 2.
                let mut raw = Vec::new();
                let meta = raw_message("meta.k8s.io", "v1", "ListMeta", &value["metadata"])?;
                encode::len_delimited(1, &meta, &mut raw);
                for item in value["items"].as_array().into_iter().flatten() {
                    encode::len_delimited(2, &raw_message(group, version, item_kind, item)?, &mut raw);
                }
                (raw, api_version)
            }
            _ => (raw_message(group, version, kind, value)?, api_version),
        }
    };
    Ok(envelope(api_version, kind, raw))
}

/// One event of a protobuf watch: a 4-byte big-endian length, then a `WatchEvent` message (no
/// envelope) whose object is the encoded object.
pub fn watch_frame(event_type: &str, object: &Value) -> Result<Vec<u8>, String> {
    let event = k8s_pb::apimachinery::pkg::apis::meta::v1::WatchEvent {
        r#type: Some(event_type.to_owned()),
        object: Some(k8s_pb::apimachinery::pkg::runtime::RawExtension { raw: Some(encode(object)?) }),
    };
    let bytes = event.encode_to_vec();
    let len = u32::try_from(bytes.len()).map_err(|_| "a watch event too large for a frame".to_owned())?;
    Ok([len.to_be_bytes().to_vec(), bytes].concat())
}

/// `magic + runtime.Unknown{typeMeta, raw}`.
fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unknown = k8s_pb::apimachinery::pkg::runtime::Unknown {
        type_meta: Some(k8s_pb::apimachinery::pkg::runtime::TypeMeta {
            api_version: Some(api_version.to_owned()),
            kind: Some(kind.to_owned()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    [MAGIC.to_vec(), unknown.encode_to_vec()].concat()
}

/// Lower-case letters and digits only: how a JSON name and a prost field name are matched
/// (`volumeID` ↔ `volume_id`, `$ref` ↔ `ref`, `x-kubernetes-…` ↔ `x_kubernetes_…`).
fn normalized(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// A field's path in messages: `spec.template`.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}
