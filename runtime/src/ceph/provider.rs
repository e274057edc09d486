//! The Ceph [`Provider`] for direct mode: the pools, EC profiles, CRUSH rules and file systems
//! as its snapshot ([`super::read_state`]), the pure pool and file-system planners
//! ([`super::plan::plan_pools`], [`super::fs_plan::plan_filesystems`]), monitor commands per
//! step ([`CephTarget`]) and the config-key lock.

use std::path::PathBuf;

use super::executor::CephTarget;
use super::fs_plan::{combine, plan_filesystems, FsPlanInput};
use super::fs_spec::{is_fs, DesiredFs};
use super::plan::{plan_pools, PoolPlanInput};
use super::spec::{DesiredPool, POOL_API_VERSION, POOL_KIND};
use super::{lock, read_state, CephState, Client, Settings};
use crate::apply::{StepError, Target};
use crate::engine::EngineError;
use crate::fence::Fence;
use crate::model::{ExistingObject, ObjectKey};
use crate::plan::{Options, Plan, Step};
use crate::provider::{Fut, Lock, LockRequest, Provider, RunOptions};

/// What a stack's direct-mode pools and file systems need: the cluster's connection settings,
/// the pools (a file system's included), the file systems and the renames.
#[derive(Clone, Debug)]
pub struct DirectPools {
    /// The `cluster` block's name.
    pub cluster: String,
    pub settings: Settings,
    pub pools: Vec<DesiredPool>,
    pub filesystems: Vec<DesiredFs>,
    /// `moved` blocks of pools, as (old name, new name).
    pub moves: Vec<(String, String)>,
    /// The pools and file systems the stack uses but does not manage (`existing = true`).
    pub existing: Vec<ExistingObject>,
}

/// Whether `key` names a direct-mode pool.
pub fn is_pool(key: &ObjectKey) -> bool {
    key.api_version == POOL_API_VERSION && key.kind == POOL_KIND
}

/// Whether `key` names an object of the Ceph provider: a direct-mode pool or file system.
pub fn is_direct(key: &ObjectKey) -> bool {
    is_pool(key) || is_fs(key)
}

/// The pools and file systems of one stack on one Ceph cluster.
pub struct CephProvider {
    stack: String,
    direct: DirectPools,
    client: Client,
    live: CephState,
}

impl CephProvider {
    /// Connects to the cluster of `direct`.
    pub async fn connect(stack: &str, direct: DirectPools) -> Result<CephProvider, EngineError> {
        let client = Client::connect(&direct.settings).await?;
        Ok(CephProvider { stack: stack.to_string(), direct, client, live: CephState::default() })
    }

    /// The cluster's connection (tests, and `status`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The existing pools and file systems that are live (their state is in the plan's read).
    fn live_existing(&self) -> std::collections::BTreeMap<ObjectKey, serde_json::Value> {
        self.direct
            .existing
            .iter()
            .filter(|e| match e.key.kind.as_str() {
                POOL_KIND => self.live.pool(&e.key.name).is_some(),
                _ => self.live.fs(&e.key.name).is_some(),
            })
            .map(|e| (e.key.clone(), serde_json::json!({})))
            .collect()
    }

    /// The conf file the connection read.
    pub fn conf(&self) -> PathBuf {
        self.direct.settings.conf_path()
    }
}

impl Provider for CephProvider {
    fn name(&self) -> &'static str {
        "ceph"
    }

    fn describe(&self) -> String {
        format!("Ceph cluster `{}` ({})", self.direct.cluster, self.client.describe())
    }

    fn identity(&self) -> serde_json::Value {
        serde_json::json!({"cluster": self.direct.cluster, "conf": self.conf()})
    }

    fn handles(&self, key: &ObjectKey) -> bool {
        is_direct(key)
    }

    fn read<'a>(&'a mut self, _opts: &'a Options) -> Fut<'a, Result<String, EngineError>> {
        Box::pin(async move {
            let before = self.client.commands_issued();
            self.live = read_state(&self.client).await?;
            Ok(format!("the Ceph cluster with {} monitor commands", self.client.commands_issued().saturating_sub(before)))
        })
    }

    fn plan(&self, opts: &Options) -> Plan {
        let pools = plan_pools(&PoolPlanInput {
            stack: &self.stack,
            pools: &self.direct.pools,
            moves: &self.direct.moves,
            live: &self.live,
            adopt: opts.adopt,
            destroy: opts.destroy,
        });
        let filesystems = plan_filesystems(&FsPlanInput {
            stack: &self.stack,
            filesystems: &self.direct.filesystems,
            live: &self.live,
            adopt: opts.adopt,
            destroy: opts.destroy,
        });
        let (mut steps, mut refusals) = combine(pools, filesystems, &self.direct.filesystems, &self.live);
        // A pool or file system the stack uses as `existing` is never written, even when an
        // earlier apply made it (its ownership marker stays).
        let used: std::collections::HashSet<&ObjectKey> = self.direct.existing.iter().map(|e| &e.key).collect();
        steps.retain(|s| !used.contains(&s.key));
        if !opts.destroy {
            refusals.extend(crate::plan::existing::check(&self.direct.existing, &self.live_existing(), &Default::default()));
        }
        Plan { stack: self.stack.clone(), steps, refusals }
    }

    fn lock<'a>(&'a self, req: &'a LockRequest<'a>, on_wait: &'a mut dyn FnMut(&str)) -> Fut<'a, Result<Box<dyn Lock>, EngineError>> {
        Box::pin(async move {
            let guard = lock::acquire(&self.client, req.stack, req.holder, req.timeout, req.timing, req.stop, on_wait).await?;
            Ok(Box::new(guard) as Box<dyn Lock>)
        })
    }

    fn apply<'a>(&'a self, step: &'a Step, _run: &'a RunOptions, fence: &'a Fence) -> Fut<'a, Result<String, StepError>> {
        Box::pin(async move {
            let target = CephTarget {
                client: &self.client,
                stack: &self.stack,
                pools: &self.direct.pools,
                filesystems: &self.direct.filesystems,
                live: &self.live,
                fence,
            };
            target.run(step).await
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
