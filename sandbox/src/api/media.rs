//! Content negotiation: the media types a request body may be in for each verb and kind, and
//! the one the sandbox answers in (JSON, or protobuf for a client that accepts nothing else), with
//! kube-apiserver's 415 and 406 when they do not fit.

use crate::protobuf;
use crate::registry::{Registry, ResourceType};
use crate::route::Route;
use crate::status::ApiError;

use super::{Body, Request, Response};

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

/// Whether the client's `Accept` names protobuf and nothing else (a JSON fallback, as kubectl
/// and client-go send, gets JSON).
pub fn wants_protobuf(req: &Request) -> bool {
    let Some(accept) = req.accept.as_deref().filter(|a| !a.trim().is_empty()) else { return false };
    accept.split(',').all(|range| range.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(PROTOBUF))
}

/// For a client that accepts protobuf only: whether the answer to `route` has a protobuf form
/// (objects, lists, watches and `Status`es of built-in kinds, and their `status` and `scale`),
/// else kube-apiserver's 406 naming what the sandbox answers there. `/version` and `/healthz`
/// answer as they do for everyone.
pub fn check_protobuf_answer(req: &Request, route: &Route, registry: &Registry) -> Result<(), ApiError> {
    let built_in = match route {
        Route::Version | Route::Health => return Ok(()),
        Route::Resource(path) => registry
            .find(&path.group, &path.version, &path.plural)
            .is_some_and(|rtype| !rtype.is_custom() && protobuf::has_message(&rtype.group, &rtype.version, &rtype.kind)),
        _ => false,
    };
    // `as=Table` and `as=PartialObjectMetadata…` are other kinds than the path's.
    let other_kind = req.accept.as_deref().is_some_and(|a| a.contains("as="));
    if built_in && !other_kind {
        return Ok(());
    }
    Err(ApiError::not_acceptable(&[JSON]))
}

/// An answer in protobuf (for a client that accepts nothing else): objects, lists and
/// `Status`es encoded, watches switched to protobuf frames. What cannot be encoded is a 500.
pub fn in_protobuf(response: Response) -> Response {
    let Response { status, headers, body } = response;
    let value = match body {
        Body::Json(value) => value,
        Body::Raw(bytes) => match serde_json::from_slice(&bytes) {
            Ok(value) => value,
            Err(e) => return Response::error(&ApiError::internal(format!("the answer could not be read back: {e}"))),
        },
        Body::Watch(stream) => return Response { status, headers, body: Body::Watch(Box::new(stream.in_protobuf())) },
        body @ Body::Protobuf(_) => return Response { status, headers, body },
    };
    if !value["kind"].is_string() {
        // `/version` and `/healthz`: no kind, and JSON for everyone.
        return Response { status, headers, body: Body::Json(value) };
    }
    match protobuf::encode(&value) {
        Ok(bytes) => Response { status, headers, body: Body::Protobuf(bytes) },
        Err(why) => {
            let err = ApiError::internal(format!("the answer cannot be written in protobuf: {why}"));
            match protobuf::encode(&err.to_status()) {
                Ok(bytes) => Response { status: err.code, headers: Vec::new(), body: Body::Protobuf(bytes) },
                Err(_) => Response::error(&err),
            }
        }
    }
}
