//! Hashes the plan records: HMACs of secret values (keyed by the stack's key, never unkeyed),
//! the `cairn.dev/applied-hash` of an object, and the body cairn applies.

use hmac::{Hmac, Mac};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::model::{DesiredObject, APPLIED_HASH, PROTECT};

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// SHA-256 of bytes, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `hmac-sha256:<hex>` of a secret value under the stack's key.
pub fn secret_hmac(key: &[u8], value: &Json) -> String {
    let text = match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    // An HMAC accepts keys of any length; `new_from_slice` cannot fail for HMAC.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(text.as_bytes());
            format!("hmac-sha256:{}", hex(&mac.finalize().into_bytes()))
        }
        Err(_) => "hmac-sha256:?".into(),
    }
}

/// The body with every sensitive value replaced by its HMAC: what saved plans and hashes see.
pub fn keyed_body(obj: &DesiredObject, key: &[u8]) -> Json {
    let mut body = obj.body.clone();
    for p in &obj.sensitive {
        if let Some(v) = body.pointer_mut(p) {
            *v = Json::String(secret_hmac(key, v));
        }
    }
    body
}

/// The hash recorded in `cairn.dev/applied-hash`: SHA-256 of the declared body (secret values
/// as HMACs, the hash annotation itself left out), in hex.
pub fn applied_hash(obj: &DesiredObject, key: &[u8]) -> String {
    let mut body = keyed_body(obj, key);
    if let Some(meta) = body.get_mut("metadata").and_then(Json::as_object_mut) {
        if let Some(Json::Object(a)) = meta.get_mut("annotations") {
            a.remove(APPLIED_HASH);
            a.remove(PROTECT);
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    sha256_hex(body.to_string().as_bytes())
}

/// The object as cairn applies it: the declared body plus the `cairn.dev/applied-hash`
/// annotation and, for protected objects, `cairn.dev/protect: "true"`.
pub fn applied_body(obj: &DesiredObject, key: &[u8]) -> Json {
    let hash = applied_hash(obj, key);
    let mut body = obj.body.clone();
    if let Some(meta) = body.get_mut("metadata").and_then(Json::as_object_mut) {
        let annotations = meta.entry("annotations").or_insert_with(|| Json::Object(Default::default()));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(APPLIED_HASH.into(), Json::String(hash));
            if obj.protect {
                a.insert(PROTECT.into(), Json::String("true".into()));
            }
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectKey;
    use serde_json::json;

    fn secret(value: &str) -> DesiredObject {
        DesiredObject {
            key: ObjectKey { api_version: "v1".into(), kind: "Secret".into(), namespace: Some("a".into()), name: "s".into() },
            address: "secret.s".into(),
            body: json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}, "data": {"p": value}}),
            sensitive: vec!["/data/p".into()],
            protect: false,
            wait: false,
            deps: vec![],
        }
    }

    #[test]
    fn hmac_depends_on_key_and_value_and_hides_the_value() {
        let a = secret_hmac(b"k1", &json!("hunter2"));
        assert!(a.starts_with("hmac-sha256:") && a.len() == 12 + 64);
        assert_ne!(a, secret_hmac(b"k2", &json!("hunter2")));
        assert_ne!(a, secret_hmac(b"k1", &json!("hunter3")));
        assert!(!a.contains("hunter2"));
    }

    #[test]
    fn applied_hash_follows_secret_values_but_not_the_hash_annotation() {
        let h1 = applied_hash(&secret("aGk="), b"k");
        assert_eq!(h1, applied_hash(&secret("aGk="), b"k"));
        assert_ne!(h1, applied_hash(&secret("aG8="), b"k"));
        let applied = applied_body(&secret("aGk="), b"k");
        assert_eq!(applied.pointer("/metadata/annotations/cairn.dev~1applied-hash"), Some(&json!(h1)));
        let mut again = secret("aGk=");
        again.body = applied;
        assert_eq!(applied_hash(&again, b"k"), h1);
    }

    #[test]
    fn protect_is_carried_as_an_annotation() {
        let mut s = secret("aGk=");
        s.protect = true;
        assert_eq!(applied_body(&s, b"k").pointer("/metadata/annotations/cairn.dev~1protect"), Some(&json!("true")));
    }
}
