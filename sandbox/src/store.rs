//! The in-memory object store: every object by type, namespace and name; the global
//! `resourceVersion`; the write log; the recent-event history watches resume from.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::registry::{Registry, ResourceType, TypeKey};

/// How many recent events a watch can resume from.
const HISTORY: usize = 20_000;

/// A change to one object, as a watch reports it.
#[derive(Debug, Clone)]
pub struct Event {
    /// `resourceVersion` after the change.
    pub resource_version: u64,
    /// The object's type.
    pub key: TypeKey,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: EventKind,
    /// The object after the change (before it, for deletes).
    pub object: Value,
    /// The object before a change (`MODIFIED` only), so that a watch with a selector can tell
    /// an object entering or leaving the selection.
    pub previous: Option<Value>,
}

/// The type of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A new object.
    Added,
    /// A changed object.
    Modified,
    /// A removed object.
    Deleted,
}

impl EventKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One entry of the write log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    /// Position in the log, from 1.
    pub seq: u64,
    /// `create`, `update`, `patch`, `apply`, `delete`, or `status` (a status write); writes by
    /// the sandbox's own controllers have `controller` set.
    pub verb: String,
    /// Group of the object.
    pub group: String,
    /// Kind of the object.
    pub kind: String,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `resourceVersion` the write produced.
    pub resource_version: u64,
    /// Whether a sandbox controller (not a client) wrote it.
    #[serde(default)]
    pub controller: bool,
}

/// Objects of one type by `(namespace, name)`.
pub type Objects = BTreeMap<(String, String), Value>;

/// The whole cluster state.
#[derive(Debug)]
pub struct State {
    /// Last `resourceVersion` given out.
    pub resource_version: u64,
    /// Objects by type.
    pub objects: BTreeMap<TypeKey, Objects>,
    /// Every write, in order.
    pub writes: Vec<Write>,
    /// Recent events for watches.
    pub history: VecDeque<Event>,
    /// Served types (rebuilt when CRDs change).
    pub registry: Arc<Registry>,
    /// Next cluster IP host part.
    pub next_ip: u32,
    /// Whether anything changed since the last save.
    pub dirty: bool,
    /// Objects with owner references or finalizers: all the garbage collector needs to visit.
    pub dependents: BTreeSet<(TypeKey, String, String)>,
    /// The HorizontalPodAutoscaler controller's memory: recent recommendations per autoscaler
    /// uid, as kube-controller-manager keeps them in memory (not saved, as its are not).
    pub recommendations: BTreeMap<String, Vec<Recommendation>>,
    /// When (Unix milliseconds) a controller next has something to do without any write: the
    /// end of an autoscaler's scale-down stabilization window.
    pub recheck_at: Option<i64>,
}

/// One replica recommendation an autoscaler made, and when (Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    /// The recommended replica count.
    pub replicas: i64,
    /// When it was made.
    pub at_ms: i64,
}

fn is_dependent(obj: &Value) -> bool {
    let meta = &obj["metadata"];
    meta["ownerReferences"].as_array().is_some_and(|r| !r.is_empty()) || meta["finalizers"].as_array().is_some_and(|f| !f.is_empty())
}

impl State {
    /// A fresh cluster: the namespaces `default`, `kube-system` and `rook-ceph`, the sandbox's
    /// nodes, and Rook's CRDs.
    pub fn new(now: &str) -> State {
        let mut state = State {
            resource_version: 0,
            objects: BTreeMap::new(),
            writes: Vec::new(),
            history: VecDeque::new(),
            registry: Arc::new(Registry::new(std::iter::empty())),
            next_ip: 10,
            dirty: true,
            dependents: BTreeSet::new(),
            recommendations: BTreeMap::new(),
            recheck_at: None,
        };
        for ns in ["default", "kube-system", "rook-ceph"] {
            let obj = json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": uid(), "creationTimestamp": now, "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}
            });
            state.insert_initial(TypeKey { group: String::new(), plural: "namespaces".into() }, obj);
        }
        for mut node in crate::nodes::objects(now) {
            node["metadata"]["uid"] = json!(uid());
            state.insert_initial(crate::nodes::key(), node);
        }
        for crd in crate::crds::rook() {
            let mut crd = crd;
            if let Some(meta) = crd["metadata"].as_object_mut() {
                meta.insert("uid".into(), json!(uid()));
                meta.insert("creationTimestamp".into(), json!(now));
                meta.insert("generation".into(), json!(1));
            }
            crate::crds::set_established(&mut crd, now);
            state.insert_initial(TypeKey { group: "apiextensions.k8s.io".into(), plural: "customresourcedefinitions".into() }, crd);
        }
        state.rebuild_registry();
        state.writes.clear();
        state
    }

    fn insert_initial(&mut self, key: TypeKey, mut obj: Value) {
        self.resource_version += 1;
        if let Some(meta) = obj["metadata"].as_object_mut() {
            meta.insert("resourceVersion".into(), json!(self.resource_version.to_string()));
        }
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        self.objects.entry(key).or_default().insert((String::new(), name), obj);
    }

    /// Rebuilds the served types from the stored CRDs.
    pub fn rebuild_registry(&mut self) {
        let key = TypeKey { group: "apiextensions.k8s.io".into(), plural: "customresourcedefinitions".into() };
        let crds: Vec<Value> = self.objects.get(&key).map(|m| m.values().cloned().collect()).unwrap_or_default();
        self.registry = Arc::new(Registry::new(crds.iter().filter(|c| c["metadata"]["deletionTimestamp"].is_null())));
    }

    /// The object, if it exists.
    pub fn get(&self, key: &TypeKey, namespace: &str, name: &str) -> Option<&Value> {
        self.objects.get(key)?.get(&(namespace.to_owned(), name.to_owned()))
    }

    /// Objects of a type, in one namespace or all.
    pub fn list<'a>(&'a self, key: &TypeKey, namespace: Option<&'a str>) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects
            .get(key)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(move |((ns, _), _)| namespace.is_none_or(|want| want == ns))
            .map(|(_, v)| v)
    }

    /// The namespace object, if it exists.
    pub fn namespace(&self, name: &str) -> Option<&Value> {
        self.get(&TypeKey { group: String::new(), plural: "namespaces".into() }, "", name)
    }

    /// Stores `obj` (created or changed), giving it the next `resourceVersion`; records the
    /// write and the event. Returns the stored object.
    pub fn put(&mut self, rtype: &ResourceType, verb: &str, controller: bool, mut obj: Value) -> Value {
        self.resource_version += 1;
        let rv = self.resource_version;
        if let Some(meta) = obj["metadata"].as_object_mut() {
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        let namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let key = rtype.key();
        let entry = (key.clone(), namespace.clone(), name.clone());
        if is_dependent(&obj) {
            self.dependents.insert(entry);
        } else {
            self.dependents.remove(&entry);
        }
        let previous = self.objects.entry(key.clone()).or_default().insert((namespace.clone(), name.clone()), obj.clone());
        let kind = if previous.is_some() { EventKind::Modified } else { EventKind::Added };
        self.record(rtype, verb, controller, &namespace, &name, rv);
        self.push_event(Event { resource_version: rv, key, kind, object: obj.clone(), previous });
        if rtype.group == "apiextensions.k8s.io" {
            self.rebuild_registry();
        }
        obj
    }

    /// Removes an object for good; records the write and the event.
    pub fn remove(&mut self, rtype: &ResourceType, controller: bool, namespace: &str, name: &str) -> Option<Value> {
        let key = rtype.key();
        let mut obj = self.objects.get_mut(&key)?.remove(&(namespace.to_owned(), name.to_owned()))?;
        self.dependents.remove(&(key.clone(), namespace.to_owned(), name.to_owned()));
        self.resource_version += 1;
        let rv = self.resource_version;
        if let Some(meta) = obj["metadata"].as_object_mut() {
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        self.record(rtype, "delete", controller, namespace, name, rv);
        self.push_event(Event { resource_version: rv, key, kind: EventKind::Deleted, object: obj.clone(), previous: None });
        if rtype.group == "apiextensions.k8s.io" {
            self.rebuild_registry();
        }
        Some(obj)
    }

    fn record(&mut self, rtype: &ResourceType, verb: &str, controller: bool, namespace: &str, name: &str, rv: u64) {
        let seq = self.writes.len() as u64 + 1;
        self.writes.push(Write {
            seq,
            verb: verb.to_owned(),
            group: rtype.group.clone(),
            kind: rtype.kind.clone(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            resource_version: rv,
            controller,
        });
        self.dirty = true;
    }

    fn push_event(&mut self, event: Event) {
        if self.history.len() >= HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(event);
    }

    /// The next free cluster IP.
    pub fn allocate_ip(&mut self) -> String {
        let n = self.next_ip;
        self.next_ip = self.next_ip.wrapping_add(1);
        format!("10.96.{}.{}", (n / 250) % 250, n % 250 + 1)
    }

    /// The saved form: every object and the counters (the history is not kept).
    pub fn to_saved(&self) -> Saved {
        Saved {
            format: SAVED_FORMAT.to_owned(),
            resource_version: self.resource_version,
            next_ip: self.next_ip,
            objects: self.objects.iter().flat_map(|(k, m)| m.values().map(move |v| (k.clone(), v.clone()))).collect(),
            writes: self.writes.clone(),
        }
    }

    /// The state a saved file describes.
    pub fn from_saved(saved: Saved) -> State {
        let mut state = State {
            resource_version: saved.resource_version,
            objects: BTreeMap::new(),
            writes: saved.writes,
            history: VecDeque::new(),
            registry: Arc::new(Registry::new(std::iter::empty())),
            next_ip: saved.next_ip,
            dirty: false,
            dependents: BTreeSet::new(),
            recommendations: BTreeMap::new(),
            recheck_at: None,
        };
        for (key, obj) in saved.objects {
            let namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
            let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            if is_dependent(&obj) {
                state.dependents.insert((key.clone(), namespace.clone(), name.clone()));
            }
            state.objects.entry(key).or_default().insert((namespace, name), obj);
        }
        state.rebuild_registry();
        state
    }
}

/// The format tag of saved state files.
pub const SAVED_FORMAT: &str = "cairn-sandbox-state/v1";

/// The state file's content.
#[derive(Debug, Serialize, Deserialize)]
pub struct Saved {
    /// Always [`SAVED_FORMAT`].
    pub format: String,
    /// Last `resourceVersion`.
    pub resource_version: u64,
    /// Next cluster IP.
    pub next_ip: u32,
    /// Every object with its type.
    pub objects: Vec<(TypeKey, Value)>,
    /// The write log.
    pub writes: Vec<Write>,
}

/// A new object uid (UUID v4).
pub fn uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The current time as Kubernetes writes it (`2026-11-23T10:00:00Z`).
pub fn now() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second()).map(|t| t.to_string()).unwrap_or_else(|_| now.to_string())
}
