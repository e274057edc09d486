//! cairn-runtime: everything that touches live systems (DESIGN.md §2 steps 7–11).
//!
//! [`model`] holds the values the parts exchange: desired objects, the live snapshot, plans.
//! [`plan`] is pure: (desired, live) → [`plan::Plan`]. [`apply`] runs a plan's steps in graph
//! order against a [`apply::Target`]. [`provider`] is the seam to a live system; [`kube`]
//! (kube-rs) and [`ceph`] (librados) implement it. [`engine`] joins them: it picks the
//! providers a stack needs, reads them concurrently, merges their plans by key, executes and
//! reports events. [`status`] explains the unhealthy workloads at the source that caused them,
//! for `cairn status` and the language server alike. Nothing here prints; callers render the
//! values.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod apply;
pub mod ceph;
pub mod engine;
pub mod fence;
pub mod hash;
pub mod import;
pub mod kube;
pub mod model;
pub mod plan;
pub mod policy;
pub mod provider;
pub mod status;

pub use model::{Desired, DesiredObject, ObjectKey, Snapshot};
