//! The Kubernetes provider (kube-rs): which cluster ([`config`]), discovery, the live snapshot
//! ([`read`]), the inventory Secret ([`inventory`]), the `Lease` lock ([`lock`]), and the steps
//! of a plan as writes and waits ([`target`]), the health of a stack's workloads as a whole
//! ([`rollouts`]). Readiness is decided by the pure [`health`].

pub mod claims;
pub mod config;
pub mod health;
pub mod inventory;
pub mod lock;
pub mod provider;
pub mod read;
pub mod retry;
pub mod rollouts;
pub mod target;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use kube::api::{ApiResource, DynamicObject};
use kube::discovery::{ApiCapabilities, Scope};
use kube::{Api, Client};

use crate::model::{GroupKind, ObjectKey};

pub use retry::{retry, retry_as};

/// An error talking to the cluster.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum KubeError {
    #[error("cannot read the kubeconfig {path}: {message}")]
    #[diagnostic(help("point cairn at a cluster with --kubeconfig/--context, the cluster block's `kube`, KUBECONFIG, or start one with `cairn sandbox up`"))]
    Config { path: String, message: String },
    #[error("{}", context_message(.context.as_deref(), .path, .known))]
    #[diagnostic(help(
        "choose one with --context NAME or the cluster block's `kube {{ context }}` (`kubectl config get-contexts` lists them)"
    ))]
    Context {
        /// The context asked for; `None`: no `--context` and no `current-context` set.
        context: Option<String>,
        /// The kubeconfig files read.
        path: String,
        /// The contexts they have.
        known: Vec<String>,
    },
    #[error("cannot reach the Kubernetes API at {server}: {message}")]
    Unreachable {
        server: String,
        message: String,
        /// What to check: the address, the scheme, the timeouts.
        #[help]
        help: String,
    },
    #[error("{what}: {message}")]
    Api { what: String, status: u16, reason: String, message: String },
    #[error("{what}: {message}")]
    Other { what: String, message: String },
}

fn context_message(context: Option<&str>, path: &str, known: &[String]) -> String {
    let has = if known.is_empty() { "it has no contexts".to_string() } else { format!("it has: {}", known.join(", ")) };
    match context {
        Some(c) => format!("no context `{c}` in the kubeconfig {path}; {has}"),
        None => format!("the kubeconfig {path} sets no current-context and no --context was given; {has}"),
    }
}

impl KubeError {
    /// An error of a call described by `what` (`list deployments.apps`).
    pub fn of(what: impl Into<String>, e: kube::Error) -> KubeError {
        let what = what.into();
        match e {
            kube::Error::Api(s) => KubeError::Api { what, status: s.code, reason: s.reason.clone(), message: s.message.clone() },
            other if retry::timed_out(&other) == Some(retry::Timeout::Request) => {
                KubeError::Other { what, message: "the server did not answer within --request-timeout".into() }
            }
            other => KubeError::Other { what, message: describe(&other) },
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            KubeError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A kube-rs error in one line, with its sources (connection errors hide the cause there).
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// How long connecting may take (TCP and TLS), as docs/clusters.md promises.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may wait for the server's next bytes unless `--request-timeout` says
/// otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to one cluster, with the kinds resolved so far.
pub struct Kube {
    client: Client,
    server: String,
    /// `--request-timeout` (`None`: none), for messages.
    request_timeout: Option<Duration>,
    kinds: Mutex<HashMap<GroupKind, Resolved>>,
    /// How many discovery requests were made (for reports and tests).
    pub discovery_calls: std::sync::atomic::AtomicUsize,
}

/// A kind resolved by discovery.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub resource: ApiResource,
    pub namespaced: bool,
}

impl Kube {
    /// Connects with kubeconfig files and an optional context. Connecting (TCP and TLS) may
    /// take [`CONNECT_TIMEOUT`]; each request may wait `request_timeout` for the server's next
    /// bytes (`None`: as long as it takes, kubectl's `--request-timeout 0`). Several files (a
    /// `KUBECONFIG` list) are merged as kubectl merges them: the first file that names a
    /// cluster, user or context wins it, and `current-context` comes from the first file that
    /// sets it; files that do not exist are skipped. An unknown context is an error listing
    /// the contexts there are.
    pub async fn connect(kubeconfigs: &[PathBuf], context: Option<&str>, request_timeout: Option<Duration>) -> Result<Kube, KubeError> {
        let (kc, path) = read_kubeconfigs(kubeconfigs)?;
        let names: Vec<String> = kc.contexts.iter().map(|c| c.name.clone()).collect();
        match context.or(kc.current_context.as_deref()) {
            Some(c) if names.iter().any(|n| n == c) => {}
            wanted => return Err(KubeError::Context { context: wanted.map(str::to_string), path, known: names }),
        }
        let options = kube::config::KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
        let mut config = kube::Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| KubeError::Config { path: path.clone(), message: describe(&e) })?;
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = request_timeout;
        config.write_timeout = request_timeout;
        // One retry policy: ours (`retry`), which is bounded and says what it retries. kube-rs's
        // own layer retries for up to ~30 minutes, silently, under ours.
        config.default_retry = false;
        let server = config.cluster_url.to_string();
        let client = Client::try_from(config).map_err(|e| KubeError::Unreachable {
            server: server.clone(),
            message: describe(&e),
            help: UNREACHABLE_HELP.into(),
        })?;
        Ok(Kube { client, server, request_timeout, kinds: Mutex::new(HashMap::new()), discovery_calls: Default::default() })
    }

    /// The API server's address.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The kube-rs client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Checks the server answers (`/version`), so a wrong address fails with one clear error.
    pub async fn ping(&self) -> Result<String, KubeError> {
        match retry(|| self.client.apiserver_version()).await {
            Ok(v) => Ok(v.git_version),
            Err(e) => Err(self.unreachable(&e).await),
        }
    }

    /// Why the server could not be reached, and what to check: a timeout says which one, and
    /// an `https://` address that answers plain HTTP is named as the scheme mismatch it is.
    async fn unreachable(&self, e: &kube::Error) -> KubeError {
        let server = self.server.clone();
        let message = describe(e);
        if self.server.starts_with("https://") && speaks_plain_http(&self.server).await {
            return KubeError::Unreachable {
                server,
                message: "the server answers plain HTTP, not HTTPS".into(),
                help: "the kubeconfig's server address says https:// but the server speaks plain HTTP (the sandbox does): \
                       write http:// in the kubeconfig's `server`"
                    .into(),
            };
        }
        match retry::timed_out(e) {
            Some(retry::Timeout::Connect) => KubeError::Unreachable {
                server,
                message: format!("no connection (TCP and TLS handshake) within {}s", CONNECT_TIMEOUT.as_secs()),
                help: "check the kubeconfig's server address and port, that the cluster runs, and that no firewall or VPN \
                       drops the connection"
                    .into(),
            },
            Some(retry::Timeout::Request) => {
                let after = self.request_timeout.map(|t| format!("{}s", t.as_secs_f64())).unwrap_or_else(|| "the timeout".into());
                KubeError::Unreachable {
                    server,
                    message: format!("it accepted the connection but did not answer within {after} (--request-timeout)"),
                    help: "check that the kubeconfig's server address and port are the Kubernetes API server's (not another \
                           service's), and that it is not overloaded; a slow server needs a longer --request-timeout"
                        .into(),
                }
            }
            None => KubeError::Unreachable { server, message, help: UNREACHABLE_HELP.into() },
        }
    }

    /// Resolves an `apiVersion` and kind (one discovery request per group-version, cached).
    /// `None` when the server does not serve it (yet: a CRD in the same stack).
    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<Option<Resolved>, KubeError> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gk = GroupKind { group: group.to_string(), kind: kind.to_string() };
        if let Some(r) = self.cached(&gk) {
            return Ok(Some(r));
        }
        // One request per group-version: every kind it serves is remembered.
        let gv = kube::core::GroupVersion::gv(group, version);
        self.discovery_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match retry(|| kube::discovery::pinned_group(&self.client, &gv)).await {
            Ok(g) => {
                for (ar, caps) in g.versioned_resources(version) {
                    if ar.group == group && ar.version == version && !ar.plural.contains('/') {
                        let k = GroupKind { group: ar.group.clone(), kind: ar.kind.clone() };
                        if self.cached(&k).is_none() {
                            self.remember(k, ar, &caps);
                        }
                    }
                }
                Ok(self.cached(&gk))
            }
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(kube::Error::Discovery(_)) => Ok(None),
            Err(e) => Err(KubeError::of(format!("discover {api_version} {kind}"), e)),
        }
    }

    /// Resolves a group-kind at the group's preferred version (kinds known from the inventory).
    pub async fn resolve_group_kind(&self, gk: &GroupKind) -> Result<Option<Resolved>, KubeError> {
        if let Some(r) = self.cached(gk) {
            return Ok(Some(r));
        }
        self.discovery_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let group = match retry(|| kube::discovery::group(&self.client, &gk.group)).await {
            Ok(g) => g,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
            Err(kube::Error::Discovery(_)) => return Ok(None),
            Err(e) => return Err(KubeError::of(format!("discover {gk}"), e)),
        };
        Ok(group.recommended_kind(&gk.kind).map(|(ar, caps)| self.remember(gk.clone(), ar, &caps)))
    }

    /// Forgets what discovery said about a group (after a CRD of that group is established).
    pub fn forget_group(&self, group: &str) {
        if let Ok(mut kinds) = self.kinds.lock() {
            kinds.retain(|gk, _| gk.group != group);
        }
    }

    fn cached(&self, gk: &GroupKind) -> Option<Resolved> {
        self.kinds.lock().ok().and_then(|k| k.get(gk).cloned())
    }

    fn remember(&self, gk: GroupKind, ar: ApiResource, caps: &ApiCapabilities) -> Resolved {
        let r = Resolved { resource: ar, namespaced: caps.scope == Scope::Namespaced };
        if let Ok(mut kinds) = self.kinds.lock() {
            kinds.insert(gk, r.clone());
        }
        r
    }

    /// The API of one object's collection (namespaced when the kind is).
    pub fn api_for(&self, r: &Resolved, key: &ObjectKey) -> Api<DynamicObject> {
        match (&key.namespace, r.namespaced) {
            (Some(ns), true) => Api::namespaced_with(self.client.clone(), ns, &r.resource),
            _ => Api::all_with(self.client.clone(), &r.resource),
        }
    }
}

/// Reads and merges kubeconfig files in order (kube-rs's `Kubeconfig::merge`, kubectl's rules);
/// the merged config and the paths read, for messages. With several paths, missing files are
/// skipped as kubectl skips them; one path must exist.
fn read_kubeconfigs(paths: &[PathBuf]) -> Result<(kube::config::Kubeconfig, String), KubeError> {
    let shown = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":");
    let present: Vec<&PathBuf> = if paths.len() > 1 { paths.iter().filter(|p| p.exists()).collect() } else { paths.iter().collect() };
    if present.is_empty() {
        return Err(KubeError::Config { path: shown, message: "none of these files exists".into() });
    }
    let mut merged: Option<kube::config::Kubeconfig> = None;
    for p in present {
        let path = p.display().to_string();
        let kc = kube::config::Kubeconfig::read_from(p).map_err(|e| KubeError::Config { path: path.clone(), message: describe(&e) })?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| KubeError::Config { path: path.clone(), message: describe(&e) })?,
        });
    }
    let kc = merged.ok_or_else(|| KubeError::Config { path: shown.clone(), message: "no kubeconfig".into() })?;
    Ok((kc, shown))
}

/// What to check when the API server cannot be reached.
const UNREACHABLE_HELP: &str =
    "check that the cluster runs and the kubeconfig's server address is right (the sandbox: `cairn sandbox status`)";

/// Whether `server` (an `https://` URL) answers a plain-HTTP request: then TLS failed because
/// the scheme is wrong. One short request, at most a second or two.
async fn speaks_plain_http(server: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(url) = server.parse::<http::Uri>() else { return false };
    let Some(host) = url.host() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_u16().unwrap_or(443);
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        let request = format!("GET /version HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 5];
        stream.read_exact(&mut head).await.ok()?;
        Some(&head == b"HTTP/")
    };
    tokio::time::timeout(Duration::from_secs(2), probe).await.ok().flatten().unwrap_or(false)
}

/// An object as JSON with its `apiVersion` and `kind` set (list items may lack them).
pub fn to_json(obj: &DynamicObject, ar: &ApiResource) -> serde_json::Value {
    let mut v = serde_json::to_value(obj).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), ar.api_version.clone().into());
        m.insert("kind".into(), ar.kind.clone().into());
    }
    v
}
