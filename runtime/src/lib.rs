//! cairn-runtime: everything that touches live systems (DESIGN.md §2 steps 7–11).
//!
//! [`model`] holds the values the parts exchange: desired objects, the live snapshot, plans.
//! [`plan`] is pure: (desired, live) → [`plan::Plan`]. [`apply`] runs a plan's steps in graph
//! order against a [`apply::Target`]. [`kube`] is the Kubernetes provider (kube-rs): which
//! cluster, discovery, the inventory, LISTs, server-side apply, deletes, waits and the lock.
//! Nothing here prints; callers render the values.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod apply;
pub mod ceph;
pub mod fence;
pub mod hash;
pub mod kube;
pub mod model;
pub mod plan;
pub mod policy;

pub use model::{Desired, DesiredObject, ObjectKey, Snapshot};
