//! The executor's [`Target`] for pool and file-system steps: the ownership check before a pool
//! create, then the step's monitor commands ([`super::commands::commands`],
//! [`super::fs_commands::fs_commands`]) in order.

use super::client::Client;
use super::commands::commands;
use super::error::CephError;
use super::fs_commands::fs_commands;
use super::fs_spec::{is_fs, DesiredFs};
use super::spec::DesiredPool;
use super::state::CephState;
use super::target::{ensure_absent_or_owned, run_commands};
use crate::apply::{StepError, Target};
use crate::fence::Fence;
use crate::plan::{Action, Step};

/// Carries out pool and file-system steps on one cluster.
pub struct CephTarget<'a> {
    pub client: &'a Client,
    pub stack: &'a str,
    /// The declared pools (a step's pool is found by name).
    pub pools: &'a [DesiredPool],
    /// The declared file systems.
    pub filesystems: &'a [DesiredFs],
    /// The live state the plan was made from.
    pub live: &'a CephState,
    /// The stack's lock: every command asks it first.
    pub fence: &'a Fence,
}

impl Target for CephTarget<'_> {
    async fn run(&self, step: &Step) -> Result<String, StepError> {
        if is_fs(&step.key) {
            // `fs new` of a name that exists with other pools fails (EINVAL), and with the same
            // pools — this stack's, checked by their own steps — changes nothing.
            let fs = self.filesystems.iter().find(|f| f.name == step.key.name);
            let cmds = fs_commands(step, fs, self.pools, self.stack, self.live);
            run_commands(self.client, &cmds, Some(self.fence)).await.map_err(step_error)?;
            return Ok(step_line(step.action, cmds.len()));
        }
        let pool = self.pools.iter().find(|p| p.name == step.key.name);
        if step.action == Action::Create {
            // `osd pool create` on an existing pool succeeds silently: never write a pool that
            // appeared since the plan and is not ours.
            ensure_absent_or_owned(self.client, &step.key.name, self.stack).await.map_err(step_error)?;
        }
        let cmds = commands(step, pool, self.stack, self.live);
        // The monitors' replies (one per command, some with hashes) would make one long line;
        // the step's progress line says what happened and how many commands it took.
        run_commands(self.client, &cmds, Some(self.fence)).await.map_err(step_error)?;
        Ok(step_line(step.action, cmds.len()))
    }
}

/// A pool or file-system step's progress line: `created (6 monitor commands)`.
fn step_line(action: Action, commands: usize) -> String {
    let done = match action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
        Action::Noop => "unchanged",
    };
    match commands {
        0 => done.to_string(),
        1 => format!("{done} (1 monitor command)"),
        n => format!("{done} ({n} monitor commands)"),
    }
}

fn step_error(e: CephError) -> StepError {
    let help = miette::Diagnostic::help(&e).map(|h| h.to_string());
    StepError { message: e.to_string(), help, unverified: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_steps_progress_is_one_short_line() {
        assert_eq!(step_line(Action::Create, 6), "created (6 monitor commands)");
        assert_eq!(step_line(Action::Update, 1), "updated (1 monitor command)");
        assert_eq!(step_line(Action::Noop, 0), "unchanged");
    }
}
