//! Saved plans (`cairn plan -o FILE`, docs/plan-format.md): the desired objects (secret values as
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
pub const FORMAT: &str = "cairn-plan/v2";

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
    /// The same as data (plan JSON's `clusters`); `null` in a file written before it.
    #[serde(default)]
    pub clusters: Json,
    pub adopt: bool,
    pub targets: Vec<String>,
    pub destroy: bool,
    /// Each desired object with secret values replaced by their HMACs.
    pub desired: Vec<Json>,
    /// Each direct-mode pool as lowered (`address`, `name`, `body`): what apply would write to
    /// Ceph, compared as the Kubernetes objects are. A file without it matches no pools.
    #[serde(default)]
    pub pools: Vec<Json>,
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
    /// Records a plan; `pools` from [`pool_bodies`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        desired: &Desired,
        pools: Vec<Json>,
        key: &[u8],
        dir: &Path,
        sources_hash: &str,
        cluster: &str,
        clusters: Json,
        options: &cairn_runtime::plan::Options,
        plan: &Plan,
    ) -> SavedPlan {
        SavedPlan {
            format: FORMAT.into(),
            stack: desired.stack.clone(),
            dir: dir.to_path_buf(),
            sources_hash: sources_hash.to_string(),
            cluster: cluster.to_string(),
            clusters,
            adopt: options.adopt,
            targets: options.targets.clone(),
            destroy: options.destroy,
            desired: desired.objects.iter().map(|o| keyed_body(o, key)).collect(),
            pools,
            plan: plan.clone(),
        }
    }

    /// Reads a plan file.
    pub fn read(path: &Path) -> Result<SavedPlan, PlanFileError> {
        let err = |message: String| PlanFileError { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let json: Json = serde_json::from_str(&text).map_err(|e| err(format!("not a cairn plan ({e})")))?;
        // The format first: a plan from another cairn version says so rather than failing on a field.
        match json.get("format").and_then(Json::as_str) {
            Some(FORMAT) => {}
            Some(other) => return Err(err(format!("format `{other}`, this cairn reads `{FORMAT}`"))),
            None => return Err(err("not a cairn plan (no `format`)".into())),
        }
        serde_json::from_value(json).map_err(|e| err(format!("not a cairn plan ({e})")))
    }

    /// Writes it (pretty JSON).
    pub fn write(&self, path: &Path) -> Result<(), PlanFileError> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| PlanFileError { path: path.display().to_string(), message: e.to_string() })?;
        std::fs::write(path, text + "\n").map_err(|e| PlanFileError { path: path.display().to_string(), message: e.to_string() })
    }

    /// What changed since the plan was made, given the stack compiled again (its objects, its
    /// pools from [`pool_bodies`]), its key and a fresh plan: empty when the plan is still good.
    pub fn staleness(&self, sources_hash: &str, desired: &Desired, pools: &[Json], key: &[u8], cluster: &str, fresh: &Plan) -> Vec<String> {
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
        why.extend(pool_differences(&self.pools, pools));
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

/// Each direct-mode pool and file system of a compilation as lowered: `{address, name, body}`.
/// They hold no secrets, so the bodies are kept as they are.
pub fn pool_bodies(c: &cairn_compiler::Compilation) -> Vec<Json> {
    c.objects
        .iter()
        .filter(|o| o.target == cairn_compiler::lower::Target::Ceph)
        .map(|o| serde_json::json!({"address": o.address.to_string(), "name": o.name, "body": o.body}))
        .collect()
}

/// How the pools and file systems now differ from those recorded: each that appeared, went away
/// or evaluates differently, naming the fields that differ.
fn pool_differences(saved: &[Json], now: &[Json]) -> Vec<String> {
    // `pool lake`, `file system shared`: the two kinds may share a name.
    let by_name = |pools: &[Json]| -> std::collections::BTreeMap<String, Json> {
        pools
            .iter()
            .map(|p| {
                let what = if p.pointer("/body/kind").and_then(Json::as_str) == Some(cairn_runtime::ceph::fs_spec::FS_KIND) {
                    "file system"
                } else {
                    "pool"
                };
                (format!("{what} {}", p.get("name").and_then(Json::as_str).unwrap_or_default()), p.clone())
            })
            .collect()
    };
    let (old, new) = (by_name(saved), by_name(now));
    let mut why = Vec::new();
    for (name, was) in &old {
        match new.get(name) {
            None => why.push(format!("{name} is no longer declared")),
            Some(is) if is != was => {
                let fields = changed_fields(was.get("body"), is.get("body"));
                let address = is.get("address").and_then(Json::as_str).unwrap_or_default();
                why.push(format!(
                    "{name} ({address}) evaluates differently now: {} (an env() or file() value, or a source, changed)",
                    if fields.is_empty() { "its declaration".to_string() } else { fields.join(", ") }
                ));
            }
            Some(_) => {}
        }
    }
    for name in new.keys().filter(|n| !old.contains_key(*n)) {
        why.push(format!("{name} is declared now but was not in the plan"));
    }
    why
}

/// The JSON paths (`spec.quota.max_bytes`) where two bodies differ, leaves first found.
fn changed_fields(a: Option<&Json>, b: Option<&Json>) -> Vec<String> {
    fn walk(path: &str, a: Option<&Json>, b: Option<&Json>, out: &mut Vec<String>) {
        match (a, b) {
            (Some(Json::Object(x)), Some(Json::Object(y))) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(&p, x.get(k), y.get(k), out);
                }
            }
            (x, y) if x != y => out.push(if path.is_empty() { "(the whole body)".into() } else { path.to_string() }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", a, b, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pool_differences_name_the_pool_and_the_fields() {
        let was =
            vec![json!({"address": "pool.lake", "name": "lake", "body": {"type": "replicated", "quota": {"max_bytes": 10737418240u64}}})];
        let is = vec![json!({"address": "pool.lake", "name": "lake", "body": {"type": "erasure", "quota": {"max_bytes": 1024}}})];
        let why = pool_differences(&was, &is);
        let [only] = why.as_slice() else { panic!("one difference expected: {why:?}") };
        assert!(only.contains("pool lake (pool.lake)") && only.contains("quota.max_bytes") && only.contains("type"), "{why:?}");
        assert!(pool_differences(&was, &was).is_empty());
        assert_eq!(pool_differences(&was, &[]), ["pool lake is no longer declared"]);
        assert_eq!(pool_differences(&[], &was), ["pool lake is declared now but was not in the plan"]);
    }
}
