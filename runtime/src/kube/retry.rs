//! Retries of idempotent calls on transient failures: 429 (too many requests), 5xx, dropped
//! connections and timeouts. Every cairn write is idempotent (server-side apply, delete), so a
//! call whose answer was lost is safe to repeat.

use std::future::Future;
use std::time::Duration;

/// Attempts per call, and the longest pause between two.
const ATTEMPTS: u32 = 8;
const MAX_PAUSE: Duration = Duration::from_secs(4);

/// Whether an error is worth another try.
pub fn transient(e: &kube::Error) -> bool {
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

/// Runs `call` until it succeeds, fails for good, or the attempts run out; pauses grow from
/// 100 ms, doubling, up to [`MAX_PAUSE`].
pub async fn retry<T, F, Fut>(mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut pause = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if attempt < ATTEMPTS && transient(&e) => {
                tokio::time::sleep(retry_after(&e).unwrap_or(pause)).await;
                pause = (pause * 2).min(MAX_PAUSE);
                attempt += 1;
            }
            other => return other,
        }
    }
}
