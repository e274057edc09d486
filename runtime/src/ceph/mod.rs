//! The Ceph provider for direct mode (DESIGN.md §2 steps 7–11), over librados' monitor commands:
//!
//! - [`rados`]: librados loaded at run time (`libloading`); the only `unsafe` code.
//! - [`client`]: [`Client`], a connection from CLI-like [`Settings`]; `mon_command` and its count.
//! - [`error`]: [`CephError`], with errno, command prefix, the monitor's message and a help line.
//! - [`state`]: live state as the monitor reports it; [`read`] fills it (4 + EC-profile commands).
//! - [`spec`]: declared pools (`PoolSpec` from a lowered `CephPool`), rule and profile names.
//! - [`fs_spec`]: declared file systems (`FsSpec` from a lowered `CephFs`).
//! - [`plan`]: the pure pool planner — steps of the same types as the Kubernetes plan.
//! - [`fs_plan`]: the pure file-system planner, and the order of pool and file-system steps.
//! - [`commands`]: the monitor commands that carry out a pool step (pure).
//! - [`fs_commands`]: the monitor commands that carry out a file-system step (pure).
//! - [`lock`]: the direct-mode apply lock in the config-key store (`cairn/lock/<stack>`).
//! - [`target`]: running a step's commands in order; the ownership check before a create.
//! - [`executor`]: the executor's `Target` for pool and file-system steps.

pub mod client;
pub mod commands;
pub mod error;
pub mod executor;
pub mod fs_commands;
pub mod fs_plan;
pub mod fs_spec;
pub mod lock;
pub mod plan;
pub mod provider;
pub mod rados;
pub mod read;
pub mod spec;
pub mod state;
pub mod target;

#[cfg(test)]
mod fs_plan_tests;
#[cfg(test)]
mod plan_tests;

pub use client::{Client, MonReply, Settings};
pub use error::CephError;
pub use read::read_state;
pub use state::CephState;
pub use target::{ensure_absent_or_owned, run_commands};
