//! cairn-core: the types and tables cairn's crates must agree on, kept once (after kube-rs's
//! `kube-core`).
//!
//! [`Quantity`] (exact Kubernetes quantities), [`names`] (Kubernetes and Ceph name rules, with
//! kube-apiserver's messages), [`ObjectKey`] and [`GroupKind`] (an object's identity),
//! [`kinds::kind_rank`] (the order kinds are applied in), [`merge_keys`] (the key of each keyed
//! list of the built-in kinds) and [`secrets::looks_secret`] (names that hold secrets). No I/O,
//! no async; the compiler, the sandbox, the runtime, the policies and the language server all
//! import it and keep no copy of their own.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod key;
pub mod kinds;
pub mod merge_keys;
pub mod names;
pub mod quantity;
pub mod secrets;

pub use key::{GroupKind, ObjectKey};
pub use quantity::{Format, Quantity, QuantityError};
