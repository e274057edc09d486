//! The HTTP API, independent of the transport: a [`Request`] in, a [`Response`] out.

mod containers;
mod control;
mod eviction;
pub mod media;
mod read;
pub mod scale;
mod table;
mod watch;
pub mod write;

use std::sync::Arc;

use serde_json::Value;

use crate::cluster::Cluster;
use crate::registry::ResourceType;
use crate::route::{self, ResourcePath, Route};
use crate::status::ApiError;
use crate::{discovery, openapi};

pub use watch::WatchStream;

/// An API request, transport-independent.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Accept`.
    pub accept: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Whether `dryRun=All` was asked.
    pub fn dry_run(&self) -> bool {
        self.query.iter().any(|(k, v)| k == "dryRun" && v == "All")
    }
}

/// An API response.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`Warning`, `Retry-After`).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

/// A response body.
pub enum Body {
    /// One JSON document.
    Json(Value),
    /// One JSON document, already serialized (large lists are written straight from the store).
    Raw(Vec<u8>),
    /// A stream of watch events, one JSON document per line (or protobuf frames, see
    /// [`WatchStream::in_protobuf`]).
    Watch(Box<WatchStream>),
    /// An answer in Kubernetes' protobuf encoding.
    Protobuf(Vec<u8>),
}

impl Response {
    /// 200 with a JSON body.
    pub fn ok(value: Value) -> Response {
        Response::json(200, value)
    }

    /// A JSON body with a status.
    pub fn json(status: u16, value: Value) -> Response {
        Response { status, headers: Vec::new(), body: Body::Json(value) }
    }

    /// The `Status` of an error.
    pub fn error(err: &ApiError) -> Response {
        let mut response = Response::json(err.code, err.to_status());
        if let Some(seconds) = err.retry_after {
            response.headers.push(("Retry-After".into(), seconds.to_string()));
        }
        response
    }

    /// Adds `Warning` headers, one per message.
    pub fn with_warnings(mut self, warnings: &[String]) -> Response {
        for w in warnings {
            self.headers.push(("Warning".into(), format!("299 - {}", Value::String(w.clone()))));
        }
        self
    }
}

/// The Kubernetes verb and resource a request counts as (`list`, `deployments.apps`).
pub fn classify(cluster: &Cluster, req: &Request) -> (String, String) {
    let registry = cluster.lock().registry.clone();
    match route::parse(&req.path, &registry) {
        Some(Route::Resource(p)) => {
            let resource = if p.group.is_empty() { p.plural.clone() } else { format!("{}.{}", p.plural, p.group) };
            let resource = match &p.subresource {
                Some(sub) => format!("{resource}/{sub}"),
                None => resource,
            };
            (verb(req, &p).to_owned(), resource)
        }
        _ => (req.method.to_lowercase(), req.path.clone()),
    }
}

fn verb(req: &Request, p: &ResourcePath) -> &'static str {
    let watching = p.watch || req.param("watch").is_some_and(|w| w == "true" || w == "1");
    match (req.method.as_str(), p.name.is_some()) {
        ("GET", _) if watching => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
}

/// Answers one request.
pub fn handle(cluster: &Arc<Cluster>, req: &Request) -> Response {
    let response = match dispatch(cluster, req) {
        Ok(response) => response,
        Err(err) => Response::error(&err),
    };
    // A 406 is the negotiation failing: it is written in JSON, as kube-apiserver writes it.
    let control = req.path.starts_with("/sandbox.cairn.dev/");
    if media::wants_protobuf(req) && response.status != 406 && !control {
        return media::in_protobuf(response);
    }
    response
}

fn dispatch(cluster: &Arc<Cluster>, req: &Request) -> Result<Response, ApiError> {
    let registry = cluster.lock().registry.clone();
    let Some(route) = route::parse(&req.path, &registry) else { return Err(ApiError::no_route(&req.path)) };
    if media::wants_protobuf(req) && !matches!(route, Route::Control(_)) {
        media::check_protobuf_answer(req, &route, &registry)?;
    }
    let get_only = |value: Option<Value>| -> Result<Response, ApiError> {
        if req.method != "GET" {
            return Err(ApiError::method_not_allowed());
        }
        value.map(Response::ok).ok_or_else(|| ApiError::no_route(&req.path))
    };
    match route {
        Route::Version => get_only(Some(discovery::version())),
        Route::Health => Ok(Response::ok(Value::String("ok".into()))),
        Route::CoreVersions => get_only(Some(discovery::core_versions(&cluster.address))),
        Route::Groups => get_only(Some(discovery::groups(&registry))),
        Route::Group(g) => get_only(discovery::group(&registry, &g)),
        Route::GroupVersion(g, v) => get_only(discovery::resources(&registry, &g, &v)),
        Route::OpenApiIndex => get_only(Some(openapi::index(&registry))),
        Route::OpenApiDocument(g, v) => get_only(openapi::document(&registry, &g, &v)),
        Route::OpenApiV2 => Err(ApiError::no_route(&req.path)),
        Route::Control(what) => control::handle(cluster, req, &what),
        Route::Resource(path) if path.group == discovery::METRICS_GROUP => Err(containers::no_metrics()),
        Route::Resource(path) => {
            let Some(rtype) = registry.find(&path.group, &path.version, &path.plural).cloned() else {
                return Err(ApiError::no_route(&req.path));
            };
            resource(cluster, req, &path, &rtype)
        }
    }
}

fn resource(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    if rtype.namespaced && path.name.is_some() && path.namespace.is_none() {
        return Err(ApiError::no_route(&req.path));
    }
    if !rtype.namespaced && path.namespace.is_some() {
        return Err(ApiError::no_route(&req.path));
    }
    match &path.subresource {
        None => {}
        Some(sub) if sub == "status" && rtype.has_status => {}
        Some(sub) if sub == "finalize" && rtype.plural == "namespaces" => {}
        Some(sub) if sub == "scale" && scale::has_scale(rtype) => return scale::handle(cluster, req, path, rtype),
        Some(sub) if sub == "eviction" && rtype.group.is_empty() && rtype.plural == "pods" => {
            return eviction::handle(cluster, req, path, rtype);
        }
        Some(sub) if rtype.group.is_empty() && rtype.plural == "pods" && containers::SUBRESOURCES.contains(&sub.as_str()) => {
            return Err(containers::refuse(cluster, path, sub));
        }
        Some(_) => return Err(ApiError::no_route(&req.path)),
    }
    match verb(req, path) {
        "get" => read::get(cluster, req, path, rtype),
        "list" => read::list(cluster, req, path, rtype),
        "watch" => watch::start(cluster, req, path, rtype),
        "create" if path.name.is_none() => write::create(cluster, req, path, rtype),
        "update" if path.name.is_some() => write::update(cluster, req, path, rtype),
        "patch" if path.name.is_some() => write::patch(cluster, req, path, rtype),
        "delete" => write::delete(cluster, req, path, rtype),
        "deletecollection" => write::delete_collection(cluster, req, path, rtype),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The object as served at `rtype`'s version: `apiVersion` and `kind` set.
pub fn served(mut obj: Value, rtype: &ResourceType) -> Value {
    if let Some(map) = obj.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(rtype.api_version()));
        map.insert("kind".into(), Value::String(rtype.kind.clone()));
    }
    obj
}
