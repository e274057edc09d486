//! The plan: what apply will do to each object, and why.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::model::ObjectKey;

/// What a step does to its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Noop,
    Create,
    Update,
    /// Delete, then create (an immutable field changed).
    Replace,
    Delete,
}

impl Action {
    /// The Terraform-style sign: `+`, `~`, `-/+`, `-`, or `` for a no-op.
    pub fn sign(self) -> &'static str {
        match self {
            Action::Noop => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Noop => "no-op",
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
}

/// Why live differs from declared (DESIGN.md §2 step 8, `cairn.dev/applied-hash`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Live changed behind cairn's back: the declaration is what cairn last applied.
    Drift,
    /// The declaration changed since the last apply (or the object is new or removed).
    Pending,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Drift => "drift",
            Class::Pending => "pending",
        }
    }
}

/// What happens to one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldOp {
    /// Set to the declared value (added or changed).
    Set,
    /// No longer declared and owned by cairn alone: removed from the object.
    Remove,
    /// No longer declared, but another manager owns it too: cairn lets go, the value stays.
    Release,
}

/// One changed field of an update or replace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// A readable path: `spec.template.spec.containers[name=web].image`,
    /// `metadata.labels.team`.
    pub path: String,
    pub op: FieldOp,
    /// The live value (`None`: absent). `"(sensitive)"` for secret values.
    pub before: Option<Json>,
    /// The declared value (`None`: removed). `"(sensitive)"` for secret values.
    pub after: Option<Json>,
    /// The value is a secret: `before`/`after` hold `"(sensitive)"`, never the value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// Field managers other than cairn that own the live value (`kubectl-set`): who changed it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managers: Vec<String>,
}

/// Why an object in a namespace blocks deleting the namespace without `--allow-data-loss`
/// (deleting a namespace deletes everything in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HoldReason {
    /// A PersistentVolumeClaim: its volume's data may go with it.
    Claim,
    /// Marked `cairn.dev/protect: "true"`.
    Protected,
    /// Not this stack's: another stack's, or made by hand.
    Foreign,
    /// This stack's, and still declared: the plan keeps it, the namespace delete would not.
    Kept,
    /// What the namespace holds was not read (only a plan made without the snapshot's read).
    Unknown,
}

impl HoldReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::Claim => "claim",
            HoldReason::Protected => "protected",
            HoldReason::Foreign => "not this stack's",
            HoldReason::Kept => "still declared",
            HoldReason::Unknown => "contents not read",
        }
    }
}

/// One object a namespace delete would take with it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Holding {
    pub key: ObjectKey,
    pub reason: HoldReason,
}

/// One object's step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub key: ObjectKey,
    /// The resource address, when the object is declared (deletes of undeclared objects have
    /// the address recorded on the live object, if any).
    pub address: Option<String>,
    pub action: Action,
    /// Set on every step that is not a no-op.
    pub class: Option<Class>,
    /// Field changes (updates and replaces); empty for creates and deletes.
    pub changes: Vec<FieldChange>,
    /// Why a replace is needed (`spec.selector is immutable`), or why a create waits.
    pub reason: Option<String>,
    /// A create of an object that is still being deleted: apply waits until it is gone first.
    #[serde(default)]
    pub waits_for_deletion: bool,
    /// A delete or replace of a protected object (a `protect`ed one, a PersistentVolumeClaim, or
    /// a namespace that [`Step::holds`] data): apply refuses without `--allow-data-loss`.
    pub protected: bool,
    /// A namespace delete: what in the namespace goes with it and makes the delete protected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<Holding>,
    /// The object exists without this stack's label and `--adopt` takes it over.
    pub adopt: bool,
    /// Apply with force: the fields that differ are drift, so cairn takes them back.
    pub force: bool,
    /// The object is declared by the stack (a delete under `destroy`, or any create, update,
    /// replace or no-op); its declaration is found by [`Step::key`].
    pub declared: bool,
    /// The keys of the steps that must finish before this one (creates/updates: the steps of
    /// the objects it depends on, whichever provider plans them; deletes: the deletes of the
    /// objects that depend on it). Keys that name no step of the plan are ignored.
    pub after: Vec<ObjectKey>,
    /// Fingerprint of the live object as read (see [`crate::plan::fingerprint`]); `None` when
    /// it did not exist.
    pub live_fingerprint: Option<String>,
    /// Fields apply sends at their live value though the stack no longer declares them, so the
    /// server-side apply does not reset them: an autoscaled workload's `spec.replicas` while
    /// cairn's apply still owns it alone (the hand-over to the autoscaler).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<KeptField>,
}

/// A live field an apply carries over unchanged (see [`Step::keep`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeptField {
    /// JSON pointer (RFC 6901), e.g. `/spec/replicas`.
    pub pointer: String,
    pub value: Json,
}

impl Step {
    /// A create of a declared object, pending: the planner turns it into an update, replace or
    /// no-op once it has compared it with the live object.
    pub fn create(key: ObjectKey, address: String) -> Step {
        Step {
            key,
            address: Some(address),
            action: Action::Create,
            class: Some(Class::Pending),
            changes: Vec::new(),
            reason: None,
            waits_for_deletion: false,
            protected: false,
            holds: Vec::new(),
            adopt: false,
            force: false,
            declared: true,
            after: Vec::new(),
            live_fingerprint: None,
            keep: Vec::new(),
        }
    }

    /// The delete of an owned object as read (`live_fingerprint`), pending.
    pub fn delete(key: ObjectKey, address: Option<String>, protected: bool, declared: bool, live_fingerprint: String) -> Step {
        Step {
            key,
            address,
            action: Action::Delete,
            class: Some(Class::Pending),
            changes: Vec::new(),
            reason: None,
            waits_for_deletion: false,
            protected,
            holds: Vec::new(),
            adopt: false,
            force: false,
            declared,
            after: Vec::new(),
            live_fingerprint: Some(live_fingerprint),
            keep: Vec::new(),
        }
    }
}

/// An object the planner refuses to touch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub key: ObjectKey,
    pub address: Option<String>,
    pub message: String,
    /// What the user can do about it.
    pub help: String,
    /// The source place it is about (`main.cairn:12:5`), when one line is the cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// A plan: one step per declared or owned object, in execution order (creates and updates in
/// topological order, then deletes in reverse order), plus refusals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub stack: String,
    pub steps: Vec<Step>,
    pub refusals: Vec<Refusal>,
}

impl Plan {
    /// Steps that change something.
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action != Action::Noop)
    }

    /// Whether applying would change nothing and nothing is refused.
    pub fn is_empty(&self) -> bool {
        self.changes().next().is_none() && self.refusals.is_empty()
    }

    /// How many steps of each action.
    pub fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }

    /// Steps blocked by `protect`.
    pub fn protected(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.protected)
    }
}

/// How the planner may act.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// Take over same-named objects not labelled for any stack.
    pub adopt: bool,
    /// Only these objects (addresses like `workload.web`, or object ids) and what they depend
    /// on; nothing is deleted that is not targeted.
    pub targets: Vec<String>,
    /// Plan deletes of everything the stack owns (`destroy`).
    pub destroy: bool,
}
