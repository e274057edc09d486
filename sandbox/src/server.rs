//! The HTTP/1.1 server on loopback: accepts connections, applies faults and counting, hands
//! requests to [`crate::api`], streams watches, saves state to a file.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::Frame;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

use crate::api::{self, Body, Request};
use crate::cluster::Cluster;
use crate::faults::Action;
use crate::status::ApiError;
use crate::store::{Saved, State, SAVED_FORMAT};

/// Errors starting a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The port is taken by another program.
    #[error("port {port} on 127.0.0.1 is already in use by another program; choose another with --port")]
    PortInUse {
        /// The port asked for.
        port: u16,
    },
    /// Binding failed otherwise.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// The state file exists but cannot be used.
    #[error("the sandbox state file {path} cannot be used: {reason}; move it away (or run `cairn sandbox down --reset`) to start with a fresh cluster")]
    BadState {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// How to start a sandbox.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// File the state is loaded from and saved to; `None` keeps it in memory only.
    pub state_file: Option<PathBuf>,
}

/// Loads a state file, or a fresh cluster when there is none.
pub fn load_state(path: Option<&Path>) -> Result<State, StartError> {
    let Some(path) = path else { return Ok(State::new(&crate::store::now())) };
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::new(&crate::store::now())),
        Err(e) => return Err(StartError::BadState { path: path.to_owned(), reason: e.to_string() }),
    };
    let saved: Saved = serde_json::from_slice(&text)
        .map_err(|e| StartError::BadState { path: path.to_owned(), reason: format!("it is not a sandbox state file ({e})") })?;
    if saved.format != SAVED_FORMAT {
        return Err(StartError::BadState {
            path: path.to_owned(),
            reason: format!("it has format {:?}, this cairn reads {SAVED_FORMAT:?}", saved.format),
        });
    }
    Ok(State::from_saved(saved))
}

/// Writes the state file atomically (a temporary file renamed over it).
pub fn save_state(cluster: &Cluster, path: &Path) -> std::io::Result<()> {
    let saved = {
        let mut state = cluster.lock();
        state.dirty = false;
        state.to_saved()
    };
    let text = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// A started server inside a tokio runtime.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The shared cluster.
    pub cluster: Arc<Cluster>,
    /// Notified to stop (by [`Server::stop`] or `POST /sandbox.cairn.dev/shutdown`).
    pub shutdown: Arc<Notify>,
    state_file: Option<PathBuf>,
}

impl Server {
    /// Binds and starts serving (needs a tokio runtime).
    pub async fn start(options: Options) -> Result<Server, StartError> {
        let state = load_state(options.state_file.as_deref())?;
        let listener = TcpListener::bind(("127.0.0.1", options.port)).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                StartError::PortInUse { port: options.port }
            } else {
                StartError::Bind { port: options.port, source }
            }
        })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { port: options.port, source })?;
        let cluster = Arc::new(Cluster::new(state, addr.to_string()));
        let shutdown = Arc::new(Notify::new());
        tokio::spawn(crate::controllers::run(cluster.clone()));
        tokio::spawn(accept(listener, cluster.clone(), shutdown.clone()));
        if let Some(path) = options.state_file.clone() {
            let cluster = cluster.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    if cluster.lock().dirty {
                        let _ = save_state(&cluster, &path);
                    }
                }
            });
        }
        Ok(Server { addr, cluster, shutdown, state_file: options.state_file })
    }

    /// Waits until a shutdown is asked for, then saves the state.
    pub async fn wait(&self) {
        self.shutdown.notified().await;
        self.save();
    }

    /// Saves the state file now (if there is one).
    pub fn save(&self) {
        if let Some(path) = &self.state_file {
            let _ = save_state(&self.cluster, path);
        }
    }
}

async fn accept(listener: TcpListener, cluster: Arc<Cluster>, shutdown: Arc<Notify>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let cluster = cluster.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| serve(cluster.clone(), shutdown.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// A watch body: lines arrive through a channel.
pub struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|line| line.map(|b| Ok(Frame::data(b))))
    }
}

type ResponseBody = Either<Full<Bytes>, ChannelBody>;

fn json_response(status: u16, headers: &[(String, String)], value: &serde_json::Value) -> hyper::Response<ResponseBody> {
    let mut builder = hyper::Response::builder().status(status).header("Content-Type", "application/json");
    for (k, v) in headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let body = serde_json::to_vec(value).unwrap_or_default();
    builder.body(Either::Left(Full::new(Bytes::from(body)))).unwrap_or_else(|_| hyper::Response::new(Either::Left(Full::new(Bytes::new()))))
}

async fn serve(
    cluster: Arc<Cluster>,
    shutdown: Arc<Notify>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<ResponseBody>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes()).filter(|(k, _)| !k.is_empty()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
        })
        .unwrap_or_default();
    let request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query,
        content_type: header("content-type"),
        accept: header("accept"),
        user_agent: header("user-agent"),
        body: body.to_vec(),
    };
    if request.path == "/sandbox.cairn.dev/shutdown" && request.method == "POST" {
        shutdown.notify_one();
        return Ok(json_response(200, &[], &serde_json::json!({"stopping": true})));
    }
    if !request.path.starts_with("/sandbox.cairn.dev/") {
        let (verb, resource) = api::classify(&cluster, &request);
        cluster.count(&verb, &resource);
        let outcome = cluster.faults.lock().unwrap_or_else(|p| p.into_inner()).decide(&verb, &resource);
        if outcome.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(outcome.latency_ms)).await;
        }
        match outcome.answer {
            Some(Action::Drop) => {
                return Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "injected fault: connection dropped"))
            }
            Some(Action::Error { status }) => {
                let err = ApiError::injected(status);
                return Ok(json_response(status, &[], &err.to_status()));
            }
            Some(Action::Throttle { retry_after }) => {
                let mut err = ApiError::injected(429);
                err.retry_after = Some(retry_after);
                err.message = format!("too many requests, please try again later (injected fault; Retry-After {retry_after}s)");
                return Ok(json_response(429, &[("Retry-After".into(), retry_after.to_string())], &err.to_status()));
            }
            Some(Action::Latency { .. }) | None => {}
        }
    }
    let response = api::handle(&cluster, &request);
    match response.body {
        Body::Json(value) => Ok(json_response(response.status, &response.headers, &value)),
        Body::Raw(bytes) => {
            let mut builder = hyper::Response::builder().status(response.status).header("Content-Type", "application/json");
            for (k, v) in &response.headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            builder.body(Either::Left(Full::new(Bytes::from(bytes)))).map_err(std::io::Error::other)
        }
        Body::Protobuf(bytes) => {
            let mut builder = hyper::Response::builder().status(response.status).header("Content-Type", crate::protobuf::MEDIA_TYPE);
            for (k, v) in &response.headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            builder.body(Either::Left(Full::new(Bytes::from(bytes)))).map_err(std::io::Error::other)
        }
        Body::Watch(mut stream) => {
            let content_type = stream.content_type();
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(async move {
                while let Some(line) = stream.next().await {
                    if tx.send(Bytes::from(line)).await.is_err() {
                        break;
                    }
                }
            });
            let body: ResponseBody = Either::Right(ChannelBody { rx });
            hyper::Response::builder()
                .status(200)
                .header("Content-Type", content_type)
                .header("Transfer-Encoding", "chunked")
                .body(body)
                .map_err(std::io::Error::other)
        }
    }
}
