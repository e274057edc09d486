//! Running policies (DESIGN.md §4): loading each `policy` block's source — a built-in `std:`
//! policy (native, in `cairn-stdlib`) or a WebAssembly component ([`wasm`]) — building the JSON
//! input (sensitive values as `"(sensitive)"`), evaluating independent policies in parallel, and
//! applying `enforce`. Every failure is a finding with the policy's name, never a panic.

pub mod changes;
pub mod stack;
pub mod wasm;

use std::path::{Path, PathBuf};

use cairn_compiler::lower::Object;
use cairn_stdlib::policy::{self as std_policy, Change, Input, Policy, Resource, Severity, Violation};
use serde_json::Value as Json;

/// Lines of a failed policy's log kept in its [`Finding::Failure`].
pub const FAILURE_LOG_LINES: usize = 20;

/// `enforce` of a policy block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enforce {
    Deny,
    /// Denials become warnings.
    Warn,
}

/// The phase a plan is judged in (the input's `phase`, docs/policy-abi.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanPhase {
    /// `plan`, `apply`, `drift`: the resources are the declared objects.
    Plan,
    /// `destroy`: no resources (nothing is declared any more); the changes are the deletes.
    Destroy,
}

impl PlanPhase {
    /// `plan` or `destroy`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanPhase::Plan => "plan",
            PlanPhase::Destroy => "destroy",
        }
    }
}

/// A policy block, loaded.
pub struct Loaded {
    /// The block's label (`no-latest`).
    pub name: String,
    /// Its `source` (`std:no-latest-tag`).
    pub source: String,
    pub enforce: Enforce,
    pub config: Json,
    policy: Box<dyn Policy>,
}

/// What one policy said.
#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    /// A violation, its severity after `enforce`.
    Violation { policy: String, source: String, violation: Violation },
    /// The policy could not judge (load error, `err`, trap, timeout, bad output); `log` is the
    /// end of what it logged (a Python traceback goes to stderr), at most [`FAILURE_LOG_LINES`].
    Failure { policy: String, source: String, message: String, log: Vec<String> },
}

/// A policy component about to be compiled to native code — its first run, or the first after
/// an upgrade — which takes a while (~30 s for Python or JavaScript); the caller says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiling {
    /// The policy block's label.
    pub policy: String,
    /// The component file.
    pub path: PathBuf,
    /// The result goes to the cache, so later runs skip this; `false` without a cache directory.
    pub cached_afterwards: bool,
}

/// Loads the policy at `source` (relative paths from `stack_dir`); `sha256` pins a component.
pub fn load(name: &str, source: &str, sha256: Option<&str>, enforce: Enforce, config: Json, stack_dir: &Path) -> Result<Loaded, String> {
    load_reporting(name, source, sha256, enforce, config, stack_dir, &mut |_| {})
}

/// [`load`], calling `on_compile` before a component is compiled.
pub fn load_reporting(
    name: &str,
    source: &str,
    sha256: Option<&str>,
    enforce: Enforce,
    config: Json,
    stack_dir: &Path,
    on_compile: &mut dyn FnMut(&Compiling),
) -> Result<Loaded, String> {
    let policy: Box<dyn Policy> = match source.strip_prefix("std:") {
        Some(builtin) => std_policy::builtin(builtin).ok_or_else(|| {
            format!(
                "there is no built-in policy `{source}`; the built-ins are {}",
                std_policy::BUILTINS.map(|b| format!("`std:{b}`")).join(", ")
            )
        })?,
        None => {
            let path = stack_dir.join(source);
            let mut report = |cached_afterwards| on_compile(&Compiling { policy: name.to_string(), path: path.clone(), cached_afterwards });
            let (policy, _) = wasm::WasmPolicy::load_reporting(&path, sha256, wasm::cache_dir().as_deref(), &mut report)?;
            Box::new(policy)
        }
    };
    Ok(Loaded { name: name.to_string(), source: source.to_string(), enforce, config, policy })
}

/// The input of a policy: one resource per lowered object, redacted, and no changes (phase
/// `check`; see [`input_with_changes`] for phase `plan`).
pub fn input(phase: &str, stack: &str, config: &Json, objects: &[Object]) -> Input {
    input_with_changes(phase, stack, config, objects, &[])
}

/// The input of a policy with the plan's `changes` (phase `plan` or `destroy`).
pub fn input_with_changes(phase: &str, stack: &str, config: &Json, objects: &[Object], changes: &[Change]) -> Input {
    let resources = objects
        .iter()
        .map(|o| Resource {
            address: o.address.to_string(),
            // A direct-mode object's kind is `CephPool` or `CephFs`, as for Kubernetes objects.
            kind: o.kind.clone(),
            object: o.redacted(),
        })
        .collect();
    Input { phase: phase.to_string(), stack: stack.to_string(), config: config.clone(), resources, changes: changes.to_vec() }
}

/// Evaluates every policy (in parallel, one thread each) on the stack's objects.
pub fn run(policies: &[Loaded], phase: &str, stack: &str, objects: &[Object]) -> Vec<Finding> {
    run_with_changes(policies, phase, stack, objects, &[])
}

/// [`run`] with the plan's changes in every policy's input.
pub fn run_with_changes(policies: &[Loaded], phase: &str, stack: &str, objects: &[Object], changes: &[Change]) -> Vec<Finding> {
    let results: Vec<Vec<Finding>> = std::thread::scope(|s| {
        let handles: Vec<_> = policies
            .iter()
            .map(|p| {
                s.spawn(move || {
                    let input = input_with_changes(phase, stack, &p.config, objects, changes);
                    evaluate(p, &input)
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(policies)
            .map(|(h, p)| {
                h.join().unwrap_or_else(|_| {
                    vec![Finding::Failure {
                        policy: p.name.clone(),
                        source: p.source.clone(),
                        message: "the policy crashed".into(),
                        log: Vec::new(),
                    }]
                })
            })
            .collect()
    });
    results.into_iter().flatten().collect()
}

fn evaluate(p: &Loaded, input: &Input) -> Vec<Finding> {
    match p.policy.evaluate(input) {
        Ok(vs) => vs
            .into_iter()
            .map(|mut v| {
                if p.enforce == Enforce::Warn && v.severity == Severity::Deny {
                    v.severity = Severity::Warn;
                }
                Finding::Violation { policy: p.name.clone(), source: p.source.clone(), violation: v }
            })
            .collect(),
        Err(message) => {
            let mut log = p.policy.log();
            log.drain(..log.len().saturating_sub(FAILURE_LOG_LINES));
            vec![Finding::Failure { policy: p.name.clone(), source: p.source.clone(), message, log }]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_builtins_and_components_fail_to_load_with_what_to_do() {
        let e = load("x", "std:nope", None, Enforce::Deny, Json::Null, Path::new(".")).err().unwrap();
        assert!(e.contains("std:no-latest-tag"), "{e}");
        let e = load("x", "./p.wasm", None, Enforce::Deny, Json::Null, Path::new("/s")).err().unwrap();
        assert!(e.contains("cannot read /s/./p.wasm"), "{e}");
    }

    #[test]
    fn enforce_warn_downgrades_denials_and_errors_are_failures() {
        let p = load("pins", "std:min-replication", None, Enforce::Warn, json!({"size": "x"}), Path::new(".")).ok().unwrap();
        let input = Input { phase: "check".into(), stack: "s".into(), config: json!({"size": "x"}), resources: vec![], changes: vec![] };
        assert!(matches!(&evaluate(&p, &input)[..], [Finding::Failure { message, .. }] if message.contains("integer")));
        let p = load("tags", "std:no-latest-tag", None, Enforce::Warn, Json::Null, Path::new(".")).ok().unwrap();
        let input = Input {
            resources: vec![Resource {
                address: "workload.w".into(),
                kind: "Deployment".into(),
                object: json!({"metadata": {"name": "w"}, "spec": {"template": {"spec": {"containers": [{"name": "w", "image": "nginx"}]}}}}),
            }],
            ..input
        };
        match &evaluate(&p, &input)[..] {
            [Finding::Violation { violation, .. }] => assert_eq!(violation.severity, Severity::Warn),
            other => panic!("{other:?}"),
        }
    }
}
