//! Content negotiation: the media types a request body may be in for each verb and kind, and
//! the one the sandbox answers in, with kube-apiserver's 415 and 406 when they do not fit.

use crate::registry::ResourceType;
use crate::status::ApiError;

use super::Request;

/// JSON.
pub const JSON: &str = "application/json";
/// YAML.
pub const YAML: &str = "application/yaml";
/// Kubernetes' protobuf encoding.
pub const PROTOBUF: &str = crate::protobuf::MEDIA_TYPE;

/// Body types of a create or update: built-in kinds also take protobuf, custom kinds do not.
pub fn object_types(rtype: &ResourceType) -> &'static [&'static str] {
    if rtype.is_custom() {
        &[JSON, YAML]
    } else {
        &[JSON, YAML, PROTOBUF]
    }
}

/// Body types of a PATCH: custom kinds take no strategic merge patch.
pub fn patch_types(rtype: &ResourceType) -> &'static [&'static str] {
    if rtype.is_custom() {
        &["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
    } else {
        &[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
            "application/strategic-merge-patch+json",
        ]
    }
}

/// The media type of the body, without parameters, lower-cased (`""` when not given).
pub fn content_type(req: &Request) -> String {
    req.content_type.as_deref().unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Refuses a request whose `Accept` names only media types the sandbox does not answer in
/// (it answers JSON; a client asking for protobuf alone gets 406, as from a server that cannot
/// encode the object so).
pub fn check_accept(req: &Request) -> Result<(), ApiError> {
    let Some(accept) = req.accept.as_deref().filter(|a| !a.trim().is_empty()) else { return Ok(()) };
    let only_protobuf = accept.split(',').all(|range| {
        let media = range.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        media == PROTOBUF
    });
    if only_protobuf {
        return Err(ApiError::not_acceptable(&[JSON]));
    }
    Ok(())
}
