//! What the executor reports: per-step outcomes, progress events and the summary.

use crate::model::ObjectKey;
use crate::plan::Step;

/// Why a step failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    /// What went wrong, naming the object (`pod web-5d8c-abcde: container web cannot pull image …`).
    pub message: String,
    /// What the user can do about it.
    pub help: Option<String>,
    /// The write succeeded, only reading it back (the wait) failed for a reason other than the
    /// object's health (the API kept failing): the step ends [`Outcome::Unverified`].
    pub unverified: bool,
}

impl StepError {
    /// An error without help.
    pub fn new(message: impl Into<String>) -> StepError {
        StepError { message: message.into(), help: None, unverified: false }
    }

    /// An error with a help line.
    pub fn with_help(message: impl Into<String>, help: impl Into<String>) -> StepError {
        StepError { message: message.into(), help: Some(help.into()), unverified: false }
    }
}

/// How one step that changes something ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and succeeded; a short text (`created`, `rolled out 3/3`).
    Done(String),
    /// It ran and failed.
    Failed(StepError),
    /// Its write succeeded but reading it back failed (not the object's health: the API), so
    /// whether it is ready is not known. Not a failure to re-run for, yet not a success.
    Unverified(StepError),
    /// It never ran: a step it depends on failed.
    Skipped {
        /// The failed step's key.
        because: ObjectKey,
    },
    /// It never ran: the run was stopped first (interrupted, or the lock was lost); why.
    NotStarted(String),
    /// It was running when the run was stopped and did not finish within the grace period; its
    /// write may or may not have happened.
    Abandoned(String),
}

impl Outcome {
    /// The outcome of a step that ran: [`Outcome::Done`], [`Outcome::Unverified`] when the error
    /// says the write went through, else [`Outcome::Failed`].
    pub fn of(result: Result<String, StepError>) -> Outcome {
        match result {
            Ok(detail) => Outcome::Done(detail),
            Err(e) if e.unverified => Outcome::Unverified(e),
            Err(e) => Outcome::Failed(e),
        }
    }

    /// Whether its dependents must not start (it failed, or it could not be verified).
    pub fn blocks(&self) -> bool {
        !matches!(self, Outcome::Done(_))
    }

    /// One line for the summary: the detail, the error message, or `skipped: <object id> failed`.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Done(detail) => detail.clone(),
            Outcome::Failed(e) => e.message.clone(),
            Outcome::Unverified(e) => format!("written, not verified: {}", e.message),
            Outcome::Skipped { because } => format!("skipped: {} failed", because.id()),
            Outcome::NotStarted(why) => format!("not started: {why}"),
            Outcome::Abandoned(why) => format!("abandoned while running ({why}); it may or may not have been written"),
        }
    }
}

/// Progress, reported as it happens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event<'a> {
    /// The step started running.
    Started { step: &'a Step },
    /// The step finished, failed, or was skipped (skips have no `Started`).
    Finished { step: &'a Step, outcome: &'a Outcome },
}

/// How a plan's execution ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// One entry per plan step; `None` for no-ops.
    pub outcomes: Vec<Option<Outcome>>,
}

impl Summary {
    /// Steps that ran and succeeded.
    pub fn succeeded(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Done(_)))
    }

    /// Steps that ran and failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }

    /// Steps written but not verified ([`Outcome::Unverified`]).
    pub fn unverified(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unverified(_)))
    }

    /// Steps skipped because a step they depend on failed.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped { .. }))
    }

    /// Steps that never ran, or were abandoned, because the run was stopped.
    pub fn stopped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotStarted(_) | Outcome::Abandoned(_)))
    }

    /// Whether nothing failed, was skipped, is unverified or was stopped (exit code 0, as far
    /// as the steps go).
    pub fn is_success(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0 && self.unverified() == 0 && self.stopped() == 0
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().flatten().filter(|o| f(o)).count()
    }
}
