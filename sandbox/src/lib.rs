//! cairn-sandbox: a simulated Kubernetes API server on loopback, for local runs and tests.
//!
//! It serves the Kubernetes REST API over plain HTTP from memory (see `docs/sandbox.md` for what
//! it implements and what it does not). Tests start one with [`Sandbox::start`], which runs it
//! on a thread of its own; `cairn sandbox up` runs one in the background with its state in a
//! file ([`server::Server`] inside the CLI's runtime).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod admission;
pub mod api;
pub mod cluster;
pub mod controllers;
pub mod crds;
pub mod defaults;
pub mod discovery;
pub mod faults;
pub mod fields;
pub mod nodes;
pub mod openapi;
mod owners;
pub mod patch;
pub mod pod_security;
pub mod protobuf;
pub mod registry;
pub mod route;
pub mod schema;
pub mod selector;
pub mod server;
pub mod shape;
pub mod status;
pub mod store;
pub mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub use faults::{Action, Fault, Faults};
pub use server::{Options, StartError};
pub use store::Write;

use cluster::Cluster;

/// A sandbox running on a thread of its own; stopped (and its state saved) when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    cluster: Arc<Cluster>,
    shutdown: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts a sandbox and returns once it accepts connections.
    pub fn start(options: Options) -> Result<Sandbox, StartError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("cairn-sandbox".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(StartError::Bind { port: options.port, source: e }));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match server::Server::start(options).await {
                        Ok(server) => {
                            let _ = tx.send(Ok((server.addr, server.cluster.clone(), server.shutdown.clone())));
                            server.wait().await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|source| StartError::Bind { port: 0, source })?;
        let (addr, cluster, shutdown) =
            rx.recv().map_err(|_| StartError::Bind { port: 0, source: std::io::Error::other("the sandbox thread ended") })??;
        Ok(Sandbox { addr, cluster, shutdown, thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, rules: Vec<Fault>) {
        *self.cluster.faults.lock().unwrap_or_else(|p| p.into_inner()) = Faults { rules, seed: 0 };
    }

    /// Requests so far by `"<verb> <resource>"` (`"list deployments.apps"`, `"get /version"`).
    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.cluster.counter.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Clears the request counter.
    pub fn reset_requests(&self) {
        self.cluster.counter.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The write log, clients' and controllers' writes in order.
    pub fn writes(&self) -> Vec<Write> {
        self.cluster.lock().writes.clone()
    }

    /// Runs the controllers to a fixed point now (tests need not wait for the tick).
    pub fn settle(&self) {
        self.cluster.with(controllers::reconcile);
    }

    /// Answers one request in-process, without HTTP (watches are not supported here): the
    /// status code and the JSON body.
    pub fn call(
        &self,
        method: &str,
        path_and_query: &str,
        content_type: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        self.call_bytes(method, path_and_query, content_type, &body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
    }

    /// [`Sandbox::call`] with a raw body.
    pub fn call_bytes(&self, method: &str, path_and_query: &str, content_type: Option<&str>, body: &[u8]) -> (u16, serde_json::Value) {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let request = api::Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: form_urlencoded::parse(query.as_bytes())
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            content_type: content_type.map(str::to_owned),
            accept: None,
            user_agent: Some("cairn-sandbox-test/0".to_owned()),
            body: body.to_vec(),
        };
        let response = api::handle(&self.cluster, &request);
        let value = match response.body {
            api::Body::Json(v) => v,
            api::Body::Raw(bytes) => serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            api::Body::Watch(_) | api::Body::Protobuf(_) => serde_json::Value::Null,
        };
        (response.status, value)
    }

    /// A copy of one stored object.
    pub fn object(&self, group: &str, plural: &str, namespace: &str, name: &str) -> Option<serde_json::Value> {
        self.cluster.lock().get(&registry::TypeKey { group: group.into(), plural: plural.into() }, namespace, name).cloned()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shutdown.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
