//! Policies (DESIGN.md §4): the values every policy exchanges — the JSON input and the
//! violations — the [`Policy`] trait that WebAssembly components (in `cairn-runtime`) and the
//! built-in `std:` policies here both implement, and the WIT world they follow ([`WIT`]).

mod min_replication;
mod no_latest_tag;
mod pdb_for_replicated;
mod quota_fit;
mod require_resources;
mod workloads;

pub use no_latest_tag::image_tag_problem;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The WIT world of policy components (`stdlib/wit/policy.wit`).
pub const WIT: &str = include_str!("../../wit/policy.wit");

/// How bad a violation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Deny,
    Warn,
    Info,
}

/// One finding of a policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// The resource address (`workload.web`).
    pub address: String,
    pub message: String,
    pub severity: Severity,
    /// A field path inside the object (`spec.replicas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// What a policy says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Info {
    pub name: String,
    pub version: String,
    pub description: String,
}

/// One lowered object in a policy's input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub address: String,
    /// The Kubernetes kind (`CephPool` for a direct-mode pool).
    pub kind: String,
    /// The object as `cairn render` prints it, sensitive values as `"(sensitive)"`.
    pub object: Json,
}

/// One planned change in a policy's input (phase `plan` or `destroy`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    pub action: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

/// The JSON a policy evaluates (`docs/policy-abi.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// `check`, `plan` or `destroy`.
    pub phase: String,
    pub stack: String,
    /// The policy block's `config` (`null` when unset).
    pub config: Json,
    pub resources: Vec<Resource>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// A policy: built in, or a WebAssembly component run by the runtime's host.
pub trait Policy: Send + Sync {
    fn describe(&self) -> Info;
    /// The violations of `input`, or why the policy could not judge it.
    fn evaluate(&self, input: &Input) -> Result<Vec<Violation>, String>;
    /// What the last evaluation logged, oldest first (a component's `log` lines, then its
    /// stdout and stderr); built-in policies log nothing.
    fn log(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The built-in policies, by the name after `std:`.
pub const BUILTINS: [&str; 5] = ["no-latest-tag", "require-resources", "min-replication", "quota-fit", "pdb-for-replicated"];

/// The built-in policy `std:NAME`.
pub fn builtin(name: &str) -> Option<Box<dyn Policy>> {
    Some(match name {
        "no-latest-tag" => Box::new(no_latest_tag::NoLatestTag),
        "require-resources" => Box::new(require_resources::RequireResources),
        "min-replication" => Box::new(min_replication::MinReplication),
        "quota-fit" => Box::new(quota_fit::QuotaFit),
        "pdb-for-replicated" => Box::new(pdb_for_replicated::PdbForReplicated),
        _ => return None,
    })
}

fn info(name: &str, description: &str) -> Info {
    Info { name: format!("std:{name}"), version: env!("CARGO_PKG_VERSION").to_string(), description: description.to_string() }
}

/// A config value as an integer, with a default.
fn config_int(config: &Json, key: &str, default: i64) -> Result<i64, String> {
    match config.get(key) {
        None | Some(Json::Null) => Ok(default),
        Some(v) => v.as_i64().ok_or_else(|| format!("config `{key}` must be an integer, not {v}")),
    }
}

#[cfg(test)]
mod tests;
