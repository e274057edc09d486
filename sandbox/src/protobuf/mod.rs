//! Protobuf request bodies (`Content-Type: application/vnd.kubernetes.protobuf`), as `kubectl
//! create`, `kubectl expose`, `kubectl run` and typed client-go clients send them for built-in
//! kinds: the `k8s\0` magic, a `runtime.Unknown` envelope naming the kind, and the object encoded
//! as `k8s-pb`'s message of that kind. The object becomes the same JSON the JSON path reads, so
//! every write after that is the same. Custom kinds have no protobuf form (as on a real server).

mod debug;
mod json;
mod kinds;

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
    let Some(decoded) = kinds::decode_debug(group, version, &kind, &raw) else {
        return Err(unrecognized(format!("no kind {kind:?} is registered for version {api_version:?} in the sandbox's protobuf scheme")));
    };
    let text = decoded.map_err(|e| unrecognized(format!("the {kind} message cannot be read: {e}")))?;
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
