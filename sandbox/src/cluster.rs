//! The running cluster shared by the HTTP server, the controllers and tests: state behind a lock,
//! the change signal watches wait on, fault injection and the request counter.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::{watch, Notify};

use crate::faults::Faults;
use crate::store::State;

/// Everything the server's tasks share.
#[derive(Debug)]
pub struct Cluster {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    /// Injected faults.
    pub faults: Mutex<Faults>,
    /// Requests by `"<verb> <resource>"`.
    pub counter: Mutex<BTreeMap<String, u64>>,
    /// Woken after every client write so controllers react at once.
    pub wake_controllers: Notify,
    /// `host:port` the server listens on.
    pub address: String,
}

impl Cluster {
    /// A cluster around `state`.
    pub fn new(state: State, address: String) -> Cluster {
        let (changed, _) = watch::channel(state.resource_version);
        Cluster {
            state: Mutex::new(state),
            changed,
            faults: Mutex::new(Faults::default()),
            counter: Mutex::new(BTreeMap::new()),
            wake_controllers: Notify::new(),
            address,
        }
    }

    /// Runs `f` with the state locked, then tells watchers about new events.
    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.lock();
        let before = guard.resource_version;
        let result = f(&mut guard);
        let after = guard.resource_version;
        drop(guard);
        if after != before {
            self.changed.send_replace(after);
        }
        result
    }

    /// The locked state (recovering from a poisoned lock: the state is plain data).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A receiver that changes whenever a write happens.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Counts one request.
    pub fn count(&self, verb: &str, resource: &str) {
        let mut counter = self.counter.lock().unwrap_or_else(|p| p.into_inner());
        *counter.entry(format!("{verb} {resource}")).or_insert(0) += 1;
    }
}
