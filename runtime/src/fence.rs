//! The fence between a stack's lock and its writes (DESIGN.md §2 step 11). Every write asks the
//! fence first. The lock's renewer reports each renewal; once renewal has not succeeded within
//! the renew deadline — measured here, by the monotonic and the wall clock both, so a paused
//! process or a suspended laptop counts — or someone else is found holding the lock, the fence
//! is broken for good: the run is stopped and every later write is refused.
//!
//! Another apply takes the lock over only after seeing it unchanged for a whole lease duration
//! on its own clock (as client-go's leader election does), which is longer than the renew
//! deadline, so the two never write at the same time whatever the clocks say.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::apply::Stop;

/// A lock's timing: how long a lease lasts, how often the holder renews it, and how long the
/// holder goes on writing without a successful renewal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long a lease lasts without renewal; others take it over after watching it unchanged
    /// this long.
    pub lease: Duration,
    /// How often the holder renews.
    pub renew_every: Duration,
    /// How long after the start of its last successful renewal the holder stops writing.
    pub deadline: Duration,
}

impl Default for Timing {
    /// A 30 s lease, renewed every 10 s, writes stop 20 s after the last renewal.
    fn default() -> Self {
        Timing::with_lease(Duration::from_secs(30))
    }
}

impl Timing {
    /// Renewal every third of `lease`, the deadline at two thirds (at least 1 s, 100 ms).
    pub fn with_lease(lease: Duration) -> Timing {
        let lease = lease.max(Duration::from_secs(1));
        Timing { lease, renew_every: (lease / 3).max(Duration::from_millis(100)), deadline: lease * 2 / 3 }
    }

    /// The lease in whole seconds, as a Lease's `leaseDurationSeconds` records it.
    pub fn lease_seconds(&self) -> i64 {
        i64::try_from(self.lease.as_secs()).unwrap_or(i64::MAX).max(1)
    }
}

/// What a taker waiting for a lock held by `holder` says, once: past its `--lock-timeout`, it
/// only goes on watching a lock that looks expired, for `watch` before taking it over.
pub fn waiting_message(stack: &str, holder: &str, past_timeout: bool, timeout: Duration, watch: Duration) -> String {
    if past_timeout {
        format!(
            "stack `{stack}` is locked by {holder}, whose lock looks expired; watching it for {}s before taking it over",
            watch.as_secs()
        )
    } else {
        format!("stack `{stack}` is locked by {holder}; waiting up to {}s", timeout.as_secs())
    }
}

/// Why a write was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the lock on stack `{stack}` was lost ({why}); nothing more is written")]
pub struct LockLost {
    pub stack: String,
    pub why: String,
}

/// The holder's side of a lock: whether writes may still go ahead.
#[derive(Clone, Debug)]
pub struct Fence {
    stack: String,
    deadline: Duration,
    stop: Stop,
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    /// When the last successful renewal (or the acquisition) started.
    renewed: (Instant, SystemTime),
    lost: Option<String>,
}

impl Fence {
    /// A fence for a lock just taken (its acquisition started at `taken`); breaking it stops `stop`.
    pub fn new(stack: &str, timing: &Timing, taken: (Instant, SystemTime), stop: Stop) -> Fence {
        Fence {
            stack: stack.to_string(),
            deadline: timing.deadline,
            stop,
            state: Arc::new(Mutex::new(State { renewed: taken, lost: None })),
        }
    }

    /// The current time on both clocks: take it before sending a renewal, and pass it to
    /// [`Fence::renewed`] when the renewal succeeds.
    pub fn now() -> (Instant, SystemTime) {
        (Instant::now(), SystemTime::now())
    }

    /// Records a successful renewal that started at `started`. A broken fence stays broken.
    pub fn renewed(&self, started: (Instant, SystemTime)) {
        if self.check().is_ok() {
            if let Ok(mut s) = self.state.lock() {
                s.renewed = started;
            }
        }
    }

    /// Breaks the fence: someone else holds the lock, or it could not be renewed.
    pub fn lose(&self, why: impl Into<String>) {
        let why = why.into();
        if let Ok(mut s) = self.state.lock() {
            if s.lost.is_none() {
                s.lost = Some(why.clone());
            }
        }
        self.stop.stop(LockLost { stack: self.stack.clone(), why }.to_string());
    }

    /// `Ok` while writes may go ahead; checks the deadline now, so a process that was paused
    /// past it finds out before its next write.
    pub fn check(&self) -> Result<(), LockLost> {
        let (lost, since) = match self.state.lock() {
            Ok(s) => (s.lost.clone(), elapsed(s.renewed)),
            Err(_) => (Some("the lock's state is unreadable".into()), Duration::MAX),
        };
        if let Some(why) = lost {
            return Err(LockLost { stack: self.stack.clone(), why });
        }
        if since > self.deadline {
            let why = format!("not renewed for {:.0}s, past its {}s deadline", since.as_secs_f64(), self.deadline.as_secs());
            self.lose(why.clone());
            return Err(LockLost { stack: self.stack.clone(), why });
        }
        Ok(())
    }

    /// Why the fence broke, if it did (without checking the deadline).
    pub fn lost(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.lost.clone())
    }
}

/// Time since `t` by whichever clock says more: the monotonic clock stops while the machine
/// sleeps, the wall clock can be set back.
fn elapsed(t: (Instant, SystemTime)) -> Duration {
    let mono = t.0.elapsed();
    let wall = SystemTime::now().duration_since(t.1).unwrap_or_default();
    mono.max(wall)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(ms: u64) -> Timing {
        Timing { lease: Duration::from_millis(ms * 3 / 2), renew_every: Duration::from_millis(ms / 2), deadline: Duration::from_millis(ms) }
    }

    #[test]
    fn a_fence_breaks_past_its_deadline_and_stays_broken() {
        let stop = Stop::new();
        let fence = Fence::new("shop", &timing(50), Fence::now(), stop.clone());
        assert!(fence.check().is_ok());
        std::thread::sleep(Duration::from_millis(80));
        let err = fence.check().expect_err("past the deadline");
        assert!(err.why.contains("not renewed"), "{err}");
        assert!(stop.is_stopped(), "the run is stopped");
        // A renewal that succeeds afterwards does not mend it.
        fence.renewed(Fence::now());
        assert!(fence.check().is_err());
    }

    #[test]
    fn renewals_keep_it_whole_and_losing_it_stops_the_run() {
        let stop = Stop::new();
        let fence = Fence::new("shop", &timing(60), Fence::now(), stop.clone());
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(30));
            fence.renewed(Fence::now());
            assert!(fence.check().is_ok());
        }
        fence.lose("held by someone@else pid 2");
        assert_eq!(fence.check().map_err(|e| e.why), Err("held by someone@else pid 2".to_string()));
        assert!(stop.reason().is_some_and(|r| r.contains("someone@else")));
    }

    #[test]
    fn the_wall_clock_counts_when_it_says_more() {
        let long_ago = (Instant::now(), SystemTime::now() - Duration::from_secs(120));
        assert!(elapsed(long_ago) >= Duration::from_secs(120));
    }

    #[test]
    fn timings_scale_with_the_lease() {
        let t = Timing::default();
        assert_eq!((t.lease.as_secs(), t.renew_every.as_secs(), t.deadline.as_secs()), (30, 10, 20));
        assert_eq!(Timing::with_lease(Duration::from_secs(3)).deadline, Duration::from_secs(2));
    }
}
