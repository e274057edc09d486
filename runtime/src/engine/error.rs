//! The engine's errors: a provider's, or one about the stack and the flags.

use crate::ceph::CephError;
use crate::kube::lock::LockError;
use crate::kube::KubeError;
use crate::plan::UnknownTarget;

/// Why the engine could not go on. Each says what and, where it can, what to do (`help`).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EngineError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Kube(#[from] KubeError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Ceph(Box<CephError>),
    /// `--target` names nothing the stack declares or owns (a typo would otherwise plan
    /// nothing, silently).
    #[error("{}", unknown_targets_message(.0))]
    #[diagnostic(help("{}", unknown_targets_help(.0)))]
    UnknownTargets(Vec<UnknownTarget>),
    /// The stack or the flags ask for something the engine cannot do.
    #[error("{message}")]
    Stack {
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl From<CephError> for EngineError {
    fn from(e: CephError) -> EngineError {
        EngineError::Ceph(Box::new(e))
    }
}

fn unknown_targets_message(unknown: &[UnknownTarget]) -> String {
    let lines: Vec<String> = unknown
        .iter()
        .map(|u| match u.near.as_slice() {
            [] => format!("--target {} names no object of the stack", u.target),
            near => format!("--target {} names no object of the stack; did you mean {}?", u.target, near.join(", ")),
        })
        .collect();
    lines.join("\n")
}

fn unknown_targets_help(_: &[UnknownTarget]) -> &'static str {
    "a target is a resource address (`workload.web`) or an object id (`Deployment/shop/web`) of a declared object, or of a \
     live object the stack owns; `cairn graph DIR --format json` lists them"
}
