//! The executor's [`Target`] for pool steps: the ownership check before a create, then the
//! step's monitor commands ([`super::commands::commands`]) in order.

use super::client::Client;
use super::commands::commands;
use super::error::CephError;
use super::spec::DesiredPool;
use super::state::CephState;
use super::target::{ensure_absent_or_owned, run_commands};
use crate::apply::{StepError, Target};
use crate::fence::Fence;
use crate::plan::{Action, Step};

/// Carries out pool steps on one cluster.
pub struct CephTarget<'a> {
    pub client: &'a Client,
    pub stack: &'a str,
    /// The declared pools (a step's pool is found by name).
    pub pools: &'a [DesiredPool],
    /// The live state the plan was made from.
    pub live: &'a CephState,
    /// The stack's lock: every command asks it first.
    pub fence: &'a Fence,
}

impl Target for CephTarget<'_> {
    async fn run(&self, step: &Step) -> Result<String, StepError> {
        let pool = self.pools.iter().find(|p| p.name == step.key.name);
        if step.action == Action::Create {
            // `osd pool create` on an existing pool succeeds silently: never write a pool that
            // appeared since the plan and is not ours.
            ensure_absent_or_owned(self.client, &step.key.name, self.stack).await.map_err(step_error)?;
        }
        let cmds = commands(step, pool, self.stack, self.live);
        run_commands(self.client, &cmds, Some(self.fence)).await.map_err(step_error)
    }
}

fn step_error(e: CephError) -> StepError {
    let help = miette::Diagnostic::help(&e).map(|h| h.to_string());
    StepError { message: e.to_string(), help, unverified: false }
}
