//! Stopping a run: a signal, an apply whose lock is gone, or anything else that means "start no
//! more steps". Cloned freely; the first reason given wins.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Shared between whoever may stop a run (the CLI's signal handler, the lock's [`Fence`]) and the
/// executor, which starts no step once it is stopped.
///
/// [`Fence`]: crate::fence::Fence
#[derive(Clone, Debug)]
pub struct Stop {
    reason: Arc<Mutex<Option<String>>>,
    signal: watch::Sender<bool>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop::new()
    }
}

impl Stop {
    /// Not stopped.
    pub fn new() -> Stop {
        Stop { reason: Arc::new(Mutex::new(None)), signal: watch::Sender::new(false) }
    }

    /// Stops the run; a later reason does not replace the first.
    pub fn stop(&self, reason: impl Into<String>) {
        if let Ok(mut r) = self.reason.lock() {
            if r.is_none() {
                *r = Some(reason.into());
            }
        }
        self.signal.send_replace(true);
    }

    /// Why the run was stopped, if it was.
    pub fn reason(&self) -> Option<String> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }

    /// Whether the run was stopped.
    pub fn is_stopped(&self) -> bool {
        *self.signal.borrow()
    }

    /// Resolves once the run is stopped (at once if it already is).
    pub async fn stopped(&self) {
        let mut rx = self.signal.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_wins_and_waiters_wake() {
        let stop = Stop::new();
        assert!(!stop.is_stopped());
        let waiter = {
            let stop = stop.clone();
            tokio::spawn(async move { stop.stopped().await })
        };
        stop.stop("interrupted");
        stop.stop("lock lost");
        assert_eq!(stop.reason().as_deref(), Some("interrupted"));
        assert!(stop.is_stopped());
        tokio::time::timeout(std::time::Duration::from_secs(1), waiter).await.expect("woken").expect("joined");
        // Already stopped: resolves at once.
        tokio::time::timeout(std::time::Duration::from_millis(100), stop.stopped()).await.expect("at once");
    }
}
