//! The Kubernetes [`Provider`]: the inventory and the labelled LISTs as its snapshot, the pure
//! planner ([`crate::plan::plan`]), server-side apply per step ([`KubeTarget`]), the Lease lock
//! and the rollout health of the declared workloads.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::inventory::{self, Inventory};
use super::read::{self, ReadStats};
use super::rollouts::{self, Unhealthy};
use super::target::KubeTarget;
use super::{lock, Kube};
use crate::apply::{Outcome, StepError, Summary, Target};
use crate::engine::EngineError;
use crate::fence::Fence;
use crate::model::{Desired, ObjectKey, Snapshot};
use crate::plan::{self, Action, Options, Plan, Step};
use crate::provider::{Fut, Lock, LockRequest, Provider, RunOptions};

/// Kubernetes objects of one stack on one cluster.
pub struct KubeProvider {
    kube: Kube,
    desired: Arc<Desired>,
    /// Position of each declared object in `desired`.
    index: HashMap<ObjectKey, usize>,
    inventory: Inventory,
    snapshot: Snapshot,
    /// The key for secret HMACs: the inventory's, or a fresh one before the first apply.
    key: Vec<u8>,
    stats: ReadStats,
}

impl KubeProvider {
    /// A provider for `desired` on the connected cluster; nothing is read yet.
    pub fn new(kube: Kube, desired: Arc<Desired>) -> KubeProvider {
        let index = desired.objects.iter().enumerate().map(|(i, o)| (o.key.clone(), i)).collect();
        KubeProvider {
            kube,
            desired,
            index,
            inventory: Inventory::default(),
            snapshot: Snapshot::default(),
            key: Vec::new(),
            stats: ReadStats::default(),
        }
    }

    /// The snapshot read.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The inventory to record. Before a run: every kind and namespace inventoried, live or
    /// desired. After it: the declared ones, plus every kind and namespace not verified empty —
    /// an object of the stack is left in it (a delete outside `--target`, a delete that
    /// failed), or its LIST was not made (a kind no longer served). A run only ever drops what
    /// it has seen to be gone, so no object of the stack becomes invisible to later plans.
    fn inventory_for(&self, plan: &Plan, summary: Option<&Summary>) -> Inventory {
        let desired = &self.desired;
        let mut inv = self.inventory.clone();
        inv.key = Some(self.key.clone());
        inv.kinds.extend(desired.group_kinds());
        inv.kinds.extend(self.snapshot.owned.keys().map(|k| k.group_kind()));
        inv.namespaces.extend(desired.objects.iter().filter_map(|o| o.key.namespace.clone()));
        inv.namespaces.extend(self.snapshot.owned.keys().filter_map(|k| k.namespace.clone()));
        let Some(summary) = summary else { return inv };
        let deleted: BTreeSet<&ObjectKey> = plan
            .steps
            .iter()
            .zip(&summary.outcomes)
            .filter(|(s, o)| s.action == Action::Delete && matches!(o, Some(Outcome::Done(_))))
            .map(|(s, _)| &s.key)
            .collect();
        let left: Vec<&ObjectKey> = self.snapshot.owned.keys().filter(|k| !deleted.contains(k)).collect();
        let unverified: Vec<_> = inv.kinds.iter().filter(|k| !self.stats.listed.contains(*k)).cloned().collect();
        inv.kinds =
            desired.group_kinds().into_iter().chain(left.iter().map(|k| k.group_kind())).chain(unverified.iter().cloned()).collect();
        if unverified.is_empty() {
            inv.namespaces = desired
                .objects
                .iter()
                .filter_map(|o| o.key.namespace.clone())
                .chain(left.iter().filter_map(|k| k.namespace.clone()))
                .collect();
        }
        inv
    }
}

impl Provider for KubeProvider {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn describe(&self) -> String {
        self.kube.server().to_string()
    }

    fn handles(&self, key: &ObjectKey) -> bool {
        !crate::ceph::provider::is_direct(key)
    }

    fn read<'a>(&'a mut self, opts: &'a Options) -> Fut<'a, Result<String, EngineError>> {
        Box::pin(async move {
            let inventory = inventory::read(&self.kube, &self.desired.stack).await?;
            let kinds: Vec<_> = inventory.kinds.iter().cloned().collect();
            let (mut snapshot, stats) = read::snapshot(&self.kube, &self.desired, &kinds, opts.adopt, opts.destroy).await?;
            self.key = match &inventory.key {
                Some(k) => k.clone(),
                None => inventory::new_key()?,
            };
            snapshot.secret_key = inventory.key.clone();
            let cost = format!("{} kinds with {} LIST requests", stats.kinds, stats.requests);
            (self.inventory, self.snapshot, self.stats) = (inventory, snapshot, stats);
            Ok(cost)
        })
    }

    fn plan(&self, opts: &Options) -> Plan {
        plan::plan(&self.desired, &self.snapshot, &self.key, opts)
    }

    fn lock<'a>(&'a self, req: &'a LockRequest<'a>, on_wait: &'a mut dyn FnMut(&str)) -> Fut<'a, Result<Box<dyn Lock>, EngineError>> {
        Box::pin(async move {
            let guard = lock::acquire(&self.kube, req.stack, req.holder, req.timeout, req.timing, req.stop, on_wait).await?;
            Ok(Box::new(guard) as Box<dyn Lock>)
        })
    }

    fn secret_key(&self) -> Option<&[u8]> {
        Some(&self.key)
    }

    fn keep_secret_key(&mut self) -> Fut<'_, Result<bool, EngineError>> {
        Box::pin(async move {
            if self.inventory.key.is_some() {
                return Ok(true);
            }
            let stored = inventory::ensure_key(&self.kube, &self.desired.stack, &self.key).await?;
            let same = stored == self.key;
            self.key = stored;
            self.inventory.key = Some(self.key.clone());
            Ok(same)
        })
    }

    fn prepare<'a>(&'a mut self, plan: &'a Plan, fence: &'a Fence) -> Fut<'a, Result<(), EngineError>> {
        Box::pin(async move {
            // Record the kinds before writing, so a run cut short is still found by the next plan.
            let before = self.inventory_for(plan, None);
            inventory::write(&self.kube, &self.desired.stack, &before, fence).await?;
            Ok(())
        })
    }

    fn apply<'a>(&'a self, step: &'a Step, run: &'a RunOptions, fence: &'a Fence) -> Fut<'a, Result<String, StepError>> {
        Box::pin(async move {
            let target = KubeTarget {
                kube: &self.kube,
                desired: &self.desired,
                index: &self.index,
                key: &self.key,
                force_conflicts: run.force_conflicts,
                timeout: run.timeout,
                fence,
                rollback_on_failure: run.rollback_on_failure,
            };
            target.run(step).await
        })
    }

    fn finish<'a>(&'a mut self, plan: &'a Plan, summary: &'a Summary, fence: &'a Fence) -> Fut<'a, Result<(), EngineError>> {
        Box::pin(async move {
            // Only kinds verified empty leave the inventory.
            let after = self.inventory_for(plan, Some(summary));
            inventory::write(&self.kube, &self.desired.stack, &after, fence).await?;
            Ok(())
        })
    }

    fn health<'a>(
        &'a self,
        keys: Vec<&'a ObjectKey>,
        wait: Option<Duration>,
        on_wait: &'a mut dyn FnMut(&[Unhealthy]),
    ) -> Fut<'a, Result<Vec<Unhealthy>, EngineError>> {
        Box::pin(async move {
            let workloads = rollouts::waited_workloads(&self.desired, keys);
            if workloads.is_empty() {
                return Ok(Vec::new());
            }
            let verdict = match wait {
                Some(timeout) => rollouts::settle(&self.kube, &self.desired.stack, &workloads, &self.snapshot, timeout, on_wait).await?,
                None => rollouts::look(&self.kube, &workloads, &self.snapshot).await?,
            };
            Ok(verdict.unhealthy)
        })
    }
}

impl Lock for lock::Guard {
    fn fence(&self) -> &Fence {
        lock::Guard::fence(self)
    }

    fn release(self: Box<Self>) -> Fut<'static, Result<(), EngineError>> {
        Box::pin(async move { Ok(lock::Guard::release(*self).await?) })
    }
}
