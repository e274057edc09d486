//! cairn-compiler: a stack's sources in, desired objects and their dependency graph out.
//!
//! The pipeline is a chain of values: [`program::load`] (parse and load imports) →
//! [`eval::evaluate`] (expand, evaluate) → [`check`] (schemas and the rules of LANGUAGE.md §7)
//! → [`lower`] (Kubernetes objects and Ceph pools) → [`graph`] (dependency graph, order,
//! cycles). [`compile`] runs it all. No network I/O; files are read only through the
//! [`SourceLoader`], `env()` only through the [`Environment`]; the same inputs give
//! byte-identical outputs.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects))]

pub mod access;
pub mod check;
pub mod convert;
pub mod eval;
pub mod existing;
pub mod graph;
pub mod import;
pub mod loader;
pub mod lower;
pub mod program;
pub mod render;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod value;
pub mod yaml;

mod compile;
pub use compile::{compile, compile_with, Compilation};

pub use eval::Mode;
pub use loader::{DiskLoader, Environment, MapEnv, MemoryLoader, ProcessEnv, SourceLoader};
pub use program::{ParseCache, StackError};
