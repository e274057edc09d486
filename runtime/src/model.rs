//! The values the runtime's parts exchange: what the stack declares ([`Desired`]), what the
//! cluster holds ([`Snapshot`]) and the keys that join them ([`ObjectKey`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
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

/// Names one Kubernetes object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectKey {
    /// `apps/v1`, `v1`.
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    /// The key of a JSON object (`apiVersion`, `kind`, `metadata.namespace`, `metadata.name`).
    pub fn of(body: &Json) -> Option<ObjectKey> {
        Some(ObjectKey {
            api_version: body.get("apiVersion")?.as_str()?.to_string(),
            kind: body.get("kind")?.as_str()?.to_string(),
            namespace: body.pointer("/metadata/namespace").and_then(Json::as_str).map(str::to_string),
            name: body.pointer("/metadata/name")?.as_str()?.to_string(),
        })
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// The group and kind, `Deployment.apps` or `ConfigMap` (the form ApplySets record).
    pub fn group_kind(&self) -> GroupKind {
        GroupKind { group: self.group().to_string(), kind: self.kind.clone() }
    }

    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects, as plans print it.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id())
    }
}

/// A group and kind (no version): what the inventory records and discovery resolves.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

impl GroupKind {
    /// Parses `Kind.group` or `Kind`.
    pub fn parse(s: &str) -> Option<GroupKind> {
        let (kind, group) = s.split_once('.').unwrap_or((s, ""));
        (!kind.is_empty()).then(|| GroupKind { group: group.to_string(), kind: kind.to_string() })
    }
}

impl std::fmt::Display for GroupKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

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

/// Everything a stack declares for Kubernetes, in apply (topological) order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Desired {
    pub stack: String,
    pub objects: Vec<DesiredObject>,
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
}
