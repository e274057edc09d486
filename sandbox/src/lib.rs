//! cairn-sandbox: a simulated Kubernetes API server on loopback, for local runs and tests.
//!
//! It serves the Kubernetes REST API over plain HTTP from memory (see `docs/sandbox.md` for what
//! it implements and what it does not). Tests start one in-process with [`Sandbox::start`];
//! `cairn sandbox up` runs one in the background with its state in a file.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod defaults;
pub mod fields;
pub mod patch;
pub mod quantity;
pub mod selector;
pub mod shape;
