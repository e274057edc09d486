//! The engine's errors: a provider's, or one about the stack and the flags.

use crate::ceph::CephError;
use crate::kube::lock::LockError;
use crate::kube::KubeError;

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
