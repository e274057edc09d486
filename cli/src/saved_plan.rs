//! Saved plans (`cairn plan -o FILE`, DESIGN.md §3): the desired objects (secret values as
//! HMACs under the stack's key — never the values), the steps with a fingerprint of every live
//! object read, and the stack directory with a hash of its sources. `apply FILE` re-reads
//! everything and refuses a stale plan, naming what changed.

use std::path::{Path, PathBuf};

use cairn_runtime::hash::keyed_body;
use cairn_runtime::model::Desired;
use cairn_runtime::plan::{Action, Plan};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The file format's name and version.
pub const FORMAT: &str = "cairn-plan/v1";

/// A saved plan.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: String,
    pub stack: String,
    /// The stack directory, absolute.
    pub dir: PathBuf,
    pub sources_hash: String,
    /// The API server the plan was made against.
    pub cluster: String,
    pub adopt: bool,
    pub targets: Vec<String>,
    pub destroy: bool,
    /// Each desired object with secret values replaced by their HMACs.
    pub desired: Vec<Json>,
    pub plan: Plan,
}

/// An error reading a plan file.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot use the plan file {path}: {message}")]
#[diagnostic(help("make a new one with `cairn plan -o FILE`"))]
pub struct PlanFileError {
    pub path: String,
    pub message: String,
}

impl SavedPlan {
    /// Records a plan.
    pub fn new(
        desired: &Desired,
        key: &[u8],
        dir: &Path,
        sources_hash: &str,
        cluster: &str,
        options: &cairn_runtime::plan::Options,
        plan: &Plan,
    ) -> SavedPlan {
        SavedPlan {
            format: FORMAT.into(),
            stack: desired.stack.clone(),
            dir: dir.to_path_buf(),
            sources_hash: sources_hash.to_string(),
            cluster: cluster.to_string(),
            adopt: options.adopt,
            targets: options.targets.clone(),
            destroy: options.destroy,
            desired: desired.objects.iter().map(|o| keyed_body(o, key)).collect(),
            plan: plan.clone(),
        }
    }

    /// Reads a plan file.
    pub fn read(path: &Path) -> Result<SavedPlan, PlanFileError> {
        let err = |message: String| PlanFileError { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let saved: SavedPlan = serde_json::from_str(&text).map_err(|e| err(format!("not a cairn plan ({e})")))?;
        if saved.format != FORMAT {
            return Err(err(format!("format `{}`, this cairn reads `{FORMAT}`", saved.format)));
        }
        Ok(saved)
    }

    /// Writes it (pretty JSON).
    pub fn write(&self, path: &Path) -> Result<(), PlanFileError> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| PlanFileError { path: path.display().to_string(), message: e.to_string() })?;
        std::fs::write(path, text + "\n").map_err(|e| PlanFileError { path: path.display().to_string(), message: e.to_string() })
    }

    /// What changed since the plan was made, given the stack compiled again, its key and a
    /// fresh plan: empty when the plan is still good.
    pub fn staleness(&self, sources_hash: &str, desired: &Desired, key: &[u8], cluster: &str, fresh: &Plan) -> Vec<String> {
        let mut why = Vec::new();
        if cluster != self.cluster {
            why.push(format!("the plan was made against {}, not {cluster}", self.cluster));
        }
        if sources_hash != self.sources_hash {
            why.push(format!("the stack's sources in {} changed", self.dir.display()));
        }
        let now: Vec<Json> = desired.objects.iter().map(|o| keyed_body(o, key)).collect();
        if why.is_empty() && now != self.desired {
            for (o, (a, b)) in desired.objects.iter().zip(now.iter().zip(&self.desired)) {
                if a != b {
                    why.push(format!("{} ({}) evaluates differently now (an env() value or secret changed)", o.key, o.address));
                }
            }
            if now.len() != self.desired.len() {
                why.push("the stack declares a different set of objects".into());
            }
        }
        // Per object: a changed live fingerprint, or an object that appeared or went away.
        let old: std::collections::BTreeMap<_, _> = self.plan.steps.iter().map(|s| (&s.key, s)).collect();
        let new: std::collections::BTreeMap<_, _> = fresh.steps.iter().map(|s| (&s.key, s)).collect();
        for (key, s) in &old {
            match new.get(key) {
                Some(n) if n.live_fingerprint != s.live_fingerprint => {
                    why.push(format!("{key} changed in the cluster since the plan was made"))
                }
                Some(n) if n.action != s.action => {
                    why.push(format!("{key} would now be {} instead of {}", n.action.as_str(), s.action.as_str()))
                }
                None if s.action != Action::Noop => why.push(format!("{key} is no longer part of the plan")),
                _ => {}
            }
        }
        for (key, n) in &new {
            if !old.contains_key(key) && n.action != Action::Noop {
                why.push(format!("{key} appeared since the plan was made ({})", n.action.as_str()));
            }
        }
        why
    }
}
