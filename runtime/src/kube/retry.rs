//! The one retry policy for Kubernetes calls: transient failures — 429 (too many requests),
//! 5xx, dropped connections and timeouts — are retried up to [`ATTEMPTS`] times, with pauses
//! from 100 ms doubling to [`MAX_PAUSE`] (or the server's `Retry-After`, at most 10 s), and never
//! past the budget (`--timeout` for apply; [`DEFAULT_BUDGET`] otherwise). kube-rs's own retry
//! layer is off ([`super::Kube::connect`]), so this is the only one. Each retry is told to the
//! observer the caller set with [`configure`], so a stalled server is never silent.
//!
//! A request that got no answer within `--request-timeout` (or no connection within the
//! connect timeout) is not repeated: the server took the connection and said nothing, and
//! asking again would only multiply the wait. A failing command fails within about one
//! request timeout, not the whole budget.
//!
//! Every cairn write is idempotent (server-side apply, delete), so a call whose answer was lost
//! is safe to repeat.
//!
//! The budget and the observer are process-wide: one command, one policy.

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::fence::{Fence, LockLost};

/// Attempts per call.
pub const ATTEMPTS: u32 = 8;
/// The longest pause between two attempts (a `Retry-After` may ask for up to 10 s).
const MAX_PAUSE: Duration = Duration::from_secs(4);
/// How long one call may spend retrying unless [`configure`] says otherwise.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(120);

/// A retry about to happen, for progress output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The call (`PATCH ConfigMap shop/settings`), or empty when the caller did not name it.
    pub what: String,
    /// What failed (`503 ServiceUnavailable`, `connection dropped`).
    pub cause: String,
    /// The attempt about to be made, from 2.
    pub attempt: u32,
    /// The most attempts there will be.
    pub attempts: u32,
    /// The pause before it.
    pub pause: Duration,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.what.is_empty() { "a Kubernetes API request" } else { &self.what };
        write!(f, "retrying {what} ({}), {}/{} in {:.1}s", self.cause, self.attempt, self.attempts, self.pause.as_secs_f64())
    }
}

/// Hears of every retry.
pub type Observer = Arc<dyn Fn(&Notice) + Send + Sync>;

struct Config {
    budget: Duration,
    observer: Option<Observer>,
}

static CONFIG: RwLock<Config> = RwLock::new(Config { budget: DEFAULT_BUDGET, observer: None });

/// Sets the process's retry budget (the most time one call spends retrying) and who hears of
/// retries.
pub fn configure(budget: Duration, observer: Option<Observer>) {
    if let Ok(mut c) = CONFIG.write() {
        *c = Config { budget, observer };
    }
}

fn current() -> (Duration, Option<Observer>) {
    CONFIG.read().map(|c| (c.budget, c.observer.clone())).unwrap_or((DEFAULT_BUDGET, None))
}

/// Which timeout a call ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// No connection (TCP and TLS) within the connect timeout.
    Connect,
    /// Connected, but no answer within the request timeout.
    Request,
}

/// The timeout an error is, if it is one (an `io::Error` of kind `TimedOut` among its sources).
pub fn timed_out(e: &kube::Error) -> Option<Timeout> {
    let mut connecting = false;
    for inner in chain(e) {
        // hyper's client marks errors of the connector as `Connect`.
        connecting |= inner.to_string().contains("client error (Connect)");
        if inner.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut) {
            return Some(if connecting { Timeout::Connect } else { Timeout::Request });
        }
    }
    None
}

/// An error and its causes, outermost first. An `io::Error` wrapping another error is followed
/// into it (its `source()` skips the wrapped error itself, where rustls' error kind is).
fn chain(e: &kube::Error) -> Vec<&(dyn std::error::Error + 'static)> {
    let mut all: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(inner) = next {
        all.push(inner);
        let wrapped = inner.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map(|w| w as &(dyn std::error::Error + 'static));
        next = wrapped.or_else(|| inner.source());
    }
    all
}

/// Whether the connection failed in its TLS handshake (rustls reports an `io::Error` of kind
/// `InvalidData`): a wrong scheme or certificate does not fix itself, so it is not retried.
fn tls_failed(e: &kube::Error) -> bool {
    chain(e).iter().any(|inner| inner.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData))
}

/// Whether an error is worth another try.
pub fn transient(e: &kube::Error) -> bool {
    if timed_out(e).is_some() || tls_failed(e) {
        return false;
    }
    match e {
        kube::Error::Api(s) => s.code == 429 || (500..600).contains(&s.code) && s.code != 501,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        // A response cut short arrives as a body or decoding error.
        kube::Error::ReadEvents(_) | kube::Error::SerdeError(_) => true,
        _ => false,
    }
}

/// The pause a 429 asks for (`details.retryAfterSeconds`, as the `Retry-After` header), at
/// most 10 s.
fn retry_after(e: &kube::Error) -> Option<Duration> {
    match e {
        kube::Error::Api(s) => {
            s.details.as_ref().map(|d| d.retry_after_seconds).filter(|&n| n > 0).map(|n| Duration::from_secs(u64::from(n).min(10)))
        }
        _ => None,
    }
}

/// A failure in a few words.
fn cause(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.reason.is_empty() => s.code.to_string(),
        kube::Error::Api(s) => format!("{} {}", s.code, s.reason),
        kube::Error::HyperError(_) | kube::Error::Service(_) => "connection failed or dropped".into(),
        kube::Error::ReadEvents(_) | kube::Error::SerdeError(_) => "answer cut short".into(),
        other => other.to_string(),
    }
}

/// [`retry_as`] without a name for the call.
pub async fn retry<T, F, Fut>(call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    retry_as("", call).await
}

/// Runs `call` until it succeeds, fails for good, the attempts run out, or the next pause would
/// pass the budget; `what` names it in retry notices (`PATCH ConfigMap shop/settings`).
pub async fn retry_as<T, F, Fut>(what: &str, call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    match attempts(what, None, call).await {
        Ok(t) => Ok(t),
        Err(WriteError::Kube(e)) => Err(e),
        // Without a fence nothing is refused.
        Err(WriteError::Lost(lost)) => Err(kube::Error::Service(Box::new(lost))),
    }
}

/// Why a write under the lock did not succeed.
#[derive(Debug)]
pub enum WriteError {
    /// The lock was lost before an attempt: it was not made.
    Lost(LockLost),
    /// The call failed.
    Kube(kube::Error),
}

/// [`retry_as`] for a write under the stack's lock: `fence` is asked before every attempt, and
/// once it is broken no further attempt is made.
pub async fn write_as<T, F, Fut>(what: &str, fence: &Fence, call: F) -> Result<T, WriteError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    attempts(what, Some(fence), call).await
}

async fn attempts<T, F, Fut>(what: &str, fence: Option<&Fence>, mut call: F) -> Result<T, WriteError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let (budget, observer) = current();
    let started = Instant::now();
    let mut backoff = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        if let Some(fence) = fence {
            fence.check().map_err(WriteError::Lost)?;
        }
        match call().await {
            Err(e) if attempt < ATTEMPTS && transient(&e) => {
                let pause = retry_after(&e).unwrap_or(backoff);
                if started.elapsed().saturating_add(pause) > budget {
                    return Err(WriteError::Kube(e));
                }
                attempt += 1;
                if let Some(o) = &observer {
                    o(&Notice { what: what.to_string(), cause: cause(&e), attempt, attempts: ATTEMPTS, pause });
                }
                tokio::time::sleep(pause).await;
                backoff = (backoff * 2).min(MAX_PAUSE);
            }
            other => return other.map_err(WriteError::Kube),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_out_request_or_failed_handshake_is_not_retried_a_dropped_connection_is() {
        let slow = kube::Error::Service(Box::new(std::io::Error::from(std::io::ErrorKind::TimedOut)));
        assert_eq!(timed_out(&slow), Some(Timeout::Request));
        assert!(!transient(&slow));
        // As rustls' error reaches kube-rs: wrapped in an `Other` io::Error by the connector.
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, "corrupt message");
        let tls = kube::Error::Service(Box::new(std::io::Error::other(inner)));
        assert!(!transient(&tls), "a failed TLS handshake is not retried");
        let dropped = kube::Error::Service(Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset)));
        assert_eq!(timed_out(&dropped), None);
        assert!(transient(&dropped));
    }

    #[test]
    fn notices_name_the_call_the_cause_and_the_count() {
        let n = Notice {
            what: "DELETE ConfigMap shop/a".into(),
            cause: "503 ServiceUnavailable".into(),
            attempt: 3,
            attempts: 8,
            pause: Duration::from_millis(400),
        };
        assert_eq!(n.to_string(), "retrying DELETE ConfigMap shop/a (503 ServiceUnavailable), 3/8 in 0.4s");
        let unnamed = Notice { what: String::new(), ..n };
        assert!(unnamed.to_string().starts_with("retrying a Kubernetes API request (503"));
    }
}
