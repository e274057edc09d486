//! WATCH: the events of a collection after a `resourceVersion`, one JSON document per line (or,
//! for a client that accepts protobuf only, one length-prefixed `WatchEvent` frame each).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

use super::read::Filter;
use super::{served, Body, Request, Response};
use crate::cluster::Cluster;
use crate::registry::{ResourceType, TypeKey};
use crate::route::ResourcePath;
use crate::status::ApiError;
use crate::store::EventKind;

/// An open watch.
pub struct WatchStream {
    cluster: Arc<Cluster>,
    rtype: ResourceType,
    key: TypeKey,
    namespace: Option<String>,
    name: Option<String>,
    filter: Filter,
    cursor: u64,
    pending: Vec<Value>,
    changed: watch::Receiver<u64>,
    deadline: tokio::time::Instant,
    finished: bool,
    protobuf: bool,
}

/// Starts a watch.
pub fn start(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let filter = Filter::of(req, rtype)?;
    let mut name = path.name.clone();
    if let Some(field) = req.param("fieldSelector") {
        if let Some(n) = field.strip_prefix("metadata.name=") {
            if !n.contains(',') {
                name = Some(n.to_owned());
            }
        }
    }
    let changed = cluster.subscribe();
    let state = cluster.lock();
    let asked = req.param("resourceVersion").filter(|rv| !rv.is_empty() && *rv != "0");
    let mut pending = Vec::new();
    let cursor = match asked {
        Some(rv) => {
            let rv: u64 = rv.parse().map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}")))?;
            let oldest = state.history.front().map_or(state.resource_version, |e| e.resource_version.saturating_sub(1));
            if rv < oldest {
                pending.push(json!({"type": "ERROR", "object": ApiError { code: 410, reason: "Expired", message: format!("too old resource version: {rv} ({oldest})"), details: None, retry_after: None }.to_status()}));
            }
            rv
        }
        None => {
            for obj in state.list(&rtype.key(), path.namespace.as_deref()) {
                if name.as_deref().is_none_or(|n| obj["metadata"]["name"].as_str() == Some(n)) && filter.matches(obj) {
                    pending.push(json!({"type": "ADDED", "object": served(obj.clone(), rtype)}));
                }
            }
            state.resource_version
        }
    };
    drop(state);
    let timeout = req.param("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).unwrap_or(1800);
    let stream = WatchStream {
        cluster: cluster.clone(),
        rtype: rtype.clone(),
        key: rtype.key(),
        namespace: path.namespace.clone(),
        name,
        filter,
        cursor,
        pending,
        changed,
        deadline: tokio::time::Instant::now() + Duration::from_secs(timeout),
        finished: false,
        protobuf: false,
    };
    Ok(Response { status: 200, headers: Vec::new(), body: Body::Watch(Box::new(stream)) })
}

impl WatchStream {
    /// The same watch, written as protobuf frames.
    pub fn in_protobuf(mut self) -> WatchStream {
        self.protobuf = true;
        self
    }

    /// The `Content-Type` of the stream.
    pub fn content_type(&self) -> &'static str {
        if self.protobuf {
            "application/vnd.kubernetes.protobuf;stream=watch"
        } else {
            "application/json"
        }
    }

    /// The next line to send, or `None` when the watch ends (timeout or server shutdown).
    pub async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            if !self.pending.is_empty() {
                let event = self.pending.remove(0);
                if event["type"] == "ERROR" {
                    self.finished = true;
                }
                if self.protobuf {
                    let object = &event["object"];
                    let frame = crate::protobuf::watch_frame(event["type"].as_str().unwrap_or_default(), object).or_else(|why| {
                        let err = ApiError::internal(format!("the event cannot be written in protobuf: {why}"));
                        self.finished = true;
                        crate::protobuf::watch_frame("ERROR", &err.to_status())
                    });
                    match frame {
                        Ok(frame) => return Some(frame),
                        Err(_) => return None,
                    }
                }
                let mut line = event.to_string().into_bytes();
                line.push(b'\n');
                return Some(line);
            }
            if self.finished {
                return None;
            }
            self.collect();
            if !self.pending.is_empty() {
                continue;
            }
            tokio::select! {
                changed = self.changed.changed() => if changed.is_err() { return None },
                _ = tokio::time::sleep_until(self.deadline) => return None,
            }
        }
    }

    fn collect(&mut self) {
        let state = self.cluster.lock();
        for event in state.history.iter().filter(|e| e.resource_version > self.cursor && e.key == self.key) {
            let meta = &event.object["metadata"];
            if self.namespace.as_deref().is_some_and(|ns| meta["namespace"].as_str() != Some(ns)) {
                continue;
            }
            if self.name.as_deref().is_some_and(|n| meta["name"].as_str() != Some(n)) {
                continue;
            }
            let now = self.filter.matches(&event.object);
            let before = event.previous.as_ref().is_some_and(|p| self.filter.matches(p));
            // With a selector, an object entering the selection is ADDED and one leaving it is
            // DELETED, as kube-apiserver's watch cache reports them.
            let kind = match (event.kind, before, now) {
                (EventKind::Added, _, true) => "ADDED",
                (EventKind::Deleted, _, true) => "DELETED",
                (EventKind::Modified, true, true) => "MODIFIED",
                (EventKind::Modified, false, true) => "ADDED",
                (EventKind::Modified, true, false) => "DELETED",
                _ => continue,
            };
            self.pending.push(json!({"type": kind, "object": served(event.object.clone(), &self.rtype)}));
        }
        self.cursor = state.resource_version;
    }
}
