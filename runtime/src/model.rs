//! The values the runtime's parts exchange: what the stack declares ([`Desired`]), what the
//! cluster holds ([`Snapshot`]) and the keys that join them ([`ObjectKey`]).

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// The label that marks an object as this stack's.
pub const STACK_LABEL: &str = "cairn.dev/stack";
/// The annotation holding the hash of what cairn last applied (DESIGN.md §2 step 8).
pub const APPLIED_HASH: &str = "cairn.dev/applied-hash";
/// The annotation that carries `protect` onto the live object, so an object removed from the
/// stack stays guarded.
pub const PROTECT: &str = "cairn.dev/protect";
/// The field manager of every write cairn makes.
pub const FIELD_MANAGER: &str = "cairn";
/// Where bookkeeping objects (inventory Secret, Lease) live.
pub const SYSTEM_NAMESPACE: &str = "cairn-system";

pub use cairn_core::{GroupKind, ObjectKey};

/// One object the stack declares.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredObject {
    pub key: ObjectKey,
    /// The resource it was lowered from (`workload.web`).
    pub address: String,
    /// The object as cairn applies it, secret values included — never print it; use
    /// [`DesiredObject::redacted`].
    pub body: Json,
    /// JSON pointers of secret values.
    pub sensitive: Vec<String>,
    /// Delete and replace need `--allow-data-loss`.
    pub protect: bool,
    /// Apply waits for the rollout (workloads' `wait`).
    pub wait: bool,
    /// The keys of the objects this one depends on: Kubernetes objects of [`Desired::objects`]
    /// or objects another provider applies (a direct-mode pool).
    pub deps: Vec<ObjectKey>,
}

impl DesiredObject {
    /// The body with every sensitive value replaced by `(sensitive)`.
    pub fn redacted(&self) -> Json {
        cairn_compiler::lower::redact(&self.body, &self.sensitive)
    }

    /// Whether the value at `pointer` (or below it) is sensitive.
    pub fn is_sensitive(&self, pointer: &str) -> bool {
        self.sensitive.iter().any(|p| pointer == p || pointer.starts_with(&format!("{p}/")) || p.starts_with(&format!("{pointer}/")))
    }
}

/// A live object the stack uses but never writes (`existing = true`): plan reads it, refuses
/// when it is missing, and checks the uses that need its attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct ExistingObject {
    pub key: ObjectKey,
    /// `storage_class.standard`.
    pub address: String,
    /// Where it is declared, `main.cairn:5:15`.
    pub at: String,
    pub uses: Vec<ExistingUse>,
}

/// A use of an existing object that its live attributes decide.
#[derive(Clone, Debug, PartialEq)]
pub struct ExistingUse {
    /// The resource that uses it, `workload.web`.
    pub by: String,
    /// Where the use is written, `main.cairn:20:14`.
    pub at: String,
    pub what: cairn_compiler::existing::UseKind,
}

/// Everything a stack declares for Kubernetes, in apply (topological) order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Desired {
    pub stack: String,
    pub objects: Vec<DesiredObject>,
    /// The Kubernetes objects it uses but does not manage.
    pub existing: Vec<ExistingObject>,
}

impl Desired {
    /// The group-kinds the stack declares, each once.
    pub fn group_kinds(&self) -> Vec<GroupKind> {
        let mut v: Vec<GroupKind> = self.objects.iter().map(|o| o.key.group_kind()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Each declared object by its key, for lookups from plan steps.
    pub fn by_key(&self) -> std::collections::HashMap<&ObjectKey, &DesiredObject> {
        self.objects.iter().map(|o| (&o.key, o)).collect()
    }
}

/// What the cluster holds, read with one labelled LIST per kind plus one metadata-only LIST per
/// desired kind (DESIGN.md §2 step 7).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Every object labelled `cairn.dev/stack=<stack>`, whole (with `managedFields`).
    pub owned: BTreeMap<ObjectKey, Json>,
    /// Objects named like a desired object but not labelled for this stack: their metadata only
    /// (`metadata.labels` tells whose they are), or the whole object when fetched for `--adopt`.
    pub foreign: BTreeMap<ObjectKey, Json>,
    /// The stack's key for secret HMACs, from the inventory (`None` before the first apply).
    pub secret_key: Option<Vec<u8>>,
    /// What lives in each namespace the plan may delete (owned Namespaces no longer declared,
    /// or every owned one for `destroy`): `apiVersion`, `kind` and `metadata` of every object
    /// of every served, listable namespaced kind, read with one LIST per kind. A namespace the
    /// planner deletes without an entry here is treated as holding unknown data.
    pub namespace_contents: BTreeMap<String, Vec<Json>>,
    /// Declared kinds the cluster does not serve and no CustomResourceDefinition of the stack
    /// provides (Rook not installed): the planner refuses their objects.
    pub unserved: std::collections::BTreeSet<GroupKind>,
    /// The live objects of [`Desired::existing`] that were found, read whole within one LIST
    /// per kind and namespace; a Secret's values are blanked as soon as it is read (its keys
    /// are all a check needs).
    pub existing: BTreeMap<ObjectKey, Json>,
}
