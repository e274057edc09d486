//! The seam between the engine and a live system (DESIGN.md §8.1): a [`Provider`] reads one
//! snapshot, plans from it (pure), applies one step at a time and takes the stack's lock.
//! [`crate::kube::provider`] and [`crate::ceph::provider`] implement it; the engine
//! ([`crate::engine`]) only ever talks to this trait.
//!
//! Methods return boxed local futures so providers can be held as `Box<dyn Provider>` and read
//! concurrently on one thread.

use std::time::Duration;

use futures::future::LocalBoxFuture;

use crate::apply::{StepError, Stop, Summary};
use crate::engine::EngineError;
use crate::fence::{Fence, Timing};
use crate::kube::rollouts::Unhealthy;
use crate::model::ObjectKey;
use crate::plan::{Options, Plan, Step};

/// A future a provider returns.
pub type Fut<'a, T> = LocalBoxFuture<'a, T>;

/// What taking the stack's lock needs.
pub struct LockRequest<'a> {
    pub stack: &'a str,
    /// Who takes it (`user@host pid N`).
    pub holder: &'a str,
    /// How long to wait while someone else holds it.
    pub timeout: Duration,
    pub timing: &'a Timing,
    /// Stopped when the lock is lost.
    pub stop: &'a Stop,
}

/// A held stack lock.
pub trait Lock {
    /// What every write made under the lock asks first.
    fn fence(&self) -> &Fence;
    /// Gives the lock back.
    fn release(self: Box<Self>) -> Fut<'static, Result<(), EngineError>>;
}

/// How steps are carried out (`apply`'s flags).
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// `--force-conflicts`: take fields other managers own.
    pub force_conflicts: bool,
    /// How long one wait (rollout, namespace, CRD) may take.
    pub timeout: Duration,
    /// `--rollback-on-failure`: a workload whose rollout fails goes back to its previous revision.
    pub rollback_on_failure: bool,
}

/// One live system cairn manages objects in.
pub trait Provider {
    /// `kubernetes`, `ceph`.
    fn name(&self) -> &'static str;

    /// What the plan is made against (`https://127.0.0.1:6443`, ``Ceph cluster `lab` (…)``),
    /// for plan output and saved plans.
    fn describe(&self) -> String;

    /// The same as data, for plan JSON's `clusters` (`"https://127.0.0.1:6443"`,
    /// `{"cluster": "lab", "conf": "/etc/ceph/ceph.conf"}`).
    fn identity(&self) -> serde_json::Value {
        serde_json::Value::String(self.describe())
    }

    /// Whether the step of `key` is this provider's to apply.
    fn handles(&self, key: &ObjectKey) -> bool;

    /// Reads the live state (one snapshot) and keeps it for [`Provider::plan`] and
    /// [`Provider::apply`]. `Ok` says what reading cost (`12 kinds with 14 LIST requests`).
    fn read<'a>(&'a mut self, opts: &'a Options) -> Fut<'a, Result<String, EngineError>>;

    /// Plans (pure) from the declared objects and the snapshot read. Steps are keyed by their
    /// object; `after` may name other providers' steps.
    fn plan(&self, opts: &Options) -> Plan;

    /// Takes the stack's lock on this system; `on_wait` hears once why it waits.
    fn lock<'a>(&'a self, req: &'a LockRequest<'a>, on_wait: &'a mut dyn FnMut(&str)) -> Fut<'a, Result<Box<dyn Lock>, EngineError>>;

    /// The stack's key for secret HMACs, when this system stores one (Kubernetes: the
    /// inventory's, or a fresh one before the first apply).
    fn secret_key(&self) -> Option<&[u8]> {
        None
    }

    /// Stores [`Provider::secret_key`] unless one is stored: a saved plan's HMACs must survive
    /// until apply. `Ok(false)` when another run stored a different key first (this provider
    /// then uses that one).
    fn keep_secret_key(&mut self) -> Fut<'_, Result<bool, EngineError>> {
        Box::pin(async { Ok(true) })
    }

    /// Before the first step: records what the run may write, so a run cut short is still
    /// found (Kubernetes: the inventory).
    fn prepare<'a>(&'a mut self, _plan: &'a Plan, _fence: &'a Fence) -> Fut<'a, Result<(), EngineError>> {
        Box::pin(async { Ok(()) })
    }

    /// Carries out one step of this provider's.
    fn apply<'a>(&'a self, step: &'a Step, run: &'a RunOptions, fence: &'a Fence) -> Fut<'a, Result<String, StepError>>;

    /// After the steps: records what was written (not called once the lock is lost).
    fn finish<'a>(&'a mut self, _plan: &'a Plan, _summary: &'a Summary, _fence: &'a Fence) -> Fut<'a, Result<(), EngineError>> {
        Box::pin(async { Ok(()) })
    }

    /// The declared workloads among `keys` that are failed or still rolling out. With `wait`,
    /// waits up to that long for those still rolling out (`on_wait` hears once which).
    fn health<'a>(
        &'a self,
        _keys: Vec<&'a ObjectKey>,
        _wait: Option<Duration>,
        _on_wait: &'a mut dyn FnMut(&[Unhealthy]),
    ) -> Fut<'a, Result<Vec<Unhealthy>, EngineError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
