//! The Ceph provider for direct mode (DESIGN.md §2 steps 7–11), over librados' monitor commands:
//!
//! - [`rados`]: librados loaded at run time (`libloading`); the only `unsafe` code.
//! - [`client`]: [`Client`], a connection from CLI-like [`Settings`]; `mon_command` and its count.
//! - [`error`]: [`CephError`], with errno, command prefix, the monitor's message and a help line.
//! - [`state`]: live state as the monitor reports it; [`read`] fills it (3 + EC-profile commands).
//! - [`lock`]: the direct-mode apply lock in the config-key store (`cairn/lock/<stack>`).
//! - [`target`]: running a step's commands in order; the ownership check before a create.

pub mod client;
pub mod error;
pub mod lock;
pub mod rados;
pub mod read;
pub mod state;
pub mod target;

pub use client::{Client, MonReply, Settings};
pub use error::CephError;
pub use read::read_state;
pub use target::{ensure_absent_or_owned, run_commands};
