//! Carrying out a plan's Ceph steps: a step's monitor commands in order ([`run_commands`]) and
//! the ownership check before a create ([`ensure_absent_or_owned`]), needed because
//! `osd pool create` on an existing pool succeeds without changing anything.

use serde_json::{json, Value as Json};

use super::client::{command_prefix, Client};
use super::error::{errno, CephError};
use super::state::POOL_STACK_KEY;
use crate::fence::Fence;

/// Runs `cmds` in order, stopping at the first failure. `Ok` holds the monitor's status
/// messages joined by `; ` (`pool 'fast' created; set pool 5 size to 3`), or `done` when all were
/// silent.
/// Under the stack's lock each command asks `fence` first: none is sent once the lock is lost.
pub async fn run_commands(client: &Client, cmds: &[Json], fence: Option<&Fence>) -> Result<String, CephError> {
    let mut said = Vec::new();
    for cmd in cmds {
        if let Some(fence) = fence {
            fence.check()?;
        }
        let reply = client.mon_command(cmd.clone()).await?;
        if !reply.status.is_empty() {
            said.push(reply.status);
        }
    }
    Ok(if said.is_empty() { "done".into() } else { said.join("; ") })
}

/// Succeeds when pool `pool` does not exist or carries stack `stack`'s marker
/// (application metadata `cairn.dev/stack`); otherwise [`CephError::NotOwned`] naming the
/// owner, if any. One `osd pool application get` command.
pub async fn ensure_absent_or_owned(client: &Client, pool: &str, stack: &str) -> Result<(), CephError> {
    let cmd = json!({"prefix": "osd pool application get", "pool": pool});
    let prefix = command_prefix(&cmd).to_string();
    let apps = match client.mon_command(cmd).await {
        Ok(reply) => reply.data,
        Err(e) if e.errno() == Some(errno::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    let Some(apps) = apps.as_object() else {
        return Err(CephError::Reply { prefix, message: format!("expected an object of applications, got {apps}") });
    };
    let owner = apps.values().find_map(|meta| meta.get(POOL_STACK_KEY).and_then(Json::as_str));
    match owner {
        Some(owner) if owner == stack => Ok(()),
        owner => Err(CephError::NotOwned { pool: pool.to_string(), stack: stack.to_string(), owner: owner.map(str::to_string) }),
    }
}
