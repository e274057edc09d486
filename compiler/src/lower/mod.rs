//! Lowering (LANGUAGE.md §6, §8): each checked resource becomes desired objects — Kubernetes
//! objects, and for direct-mode pools a `cairn.dev/v1alpha1 CephPool` — tagged with the
//! resource's address. Secret values are kept (the planner needs them) and their places are
//! listed in [`Object::sensitive`], so every printer can redact them.

mod kube;
mod manifest;
mod pod;
mod pool;
mod route;
mod storage;
mod workload;

use cairn_lang::Diagnostic;
use serde_json::{json, Map, Value as Json};

pub(crate) use manifest::is_namespaced;
pub(crate) use pod::capabilities;

use crate::access::str_of;
use crate::check::{ClusterInfo, Facts};
use crate::eval::Resource;
use crate::schema::Kind;
use crate::value::{Address, Value};

/// The API version of the objects cairn applies with monitor commands (direct mode).
pub const DIRECT_API_VERSION: &str = "cairn.dev/v1alpha1";
/// The kind of a direct-mode pool object (`cairn.dev/v1alpha1`).
pub const DIRECT_POOL_KIND: &str = "CephPool";
/// The kind of a direct-mode file system object (`cairn.dev/v1alpha1`).
pub const DIRECT_FS_KIND: &str = "CephFs";
/// The provisioner of Rook's bucket StorageClasses (the runtime checks a bucket claim's class by it).
pub const BUCKET_PROVISIONER: &str = "rook-ceph.ceph.rook.io/bucket";

/// Who applies an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Kubernetes object, applied with server-side apply.
    Kube,
    /// A direct-mode Ceph pool, applied with monitor commands.
    Ceph,
}

/// One desired object.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// The resource it was lowered from.
    pub address: Address,
    pub target: Target,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The whole object, `apiVersion` first.
    pub body: Json,
    /// JSON pointers (RFC 6901) of values that must never be printed.
    pub sensitive: Vec<String>,
    /// Delete and replace need `--allow-data-loss`.
    pub protect: bool,
}

impl Object {
    /// The object's identity, as the planner and the inventory name it.
    pub fn key(&self) -> cairn_core::ObjectKey {
        cairn_core::ObjectKey {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects: unique in a stack.
    pub fn id(&self) -> String {
        self.key().id()
    }

    /// The object with every sensitive value replaced by `(sensitive)`.
    pub fn redacted(&self) -> Json {
        redact(&self.body, &self.sensitive)
    }

    /// The API group of the object's kind (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
}

/// `body` with the value at each JSON pointer of `sensitive` replaced by `(sensitive)`.
pub fn redact(body: &Json, sensitive: &[String]) -> Json {
    let mut body = body.clone();
    for p in sensitive {
        if let Some(v) = body.pointer_mut(p) {
            *v = Json::String("(sensitive)".into());
        }
    }
    body
}

/// Lowers every resource; returns the objects (in resource order) and diagnostics.
pub fn lower(resources: &[Resource], facts: &Facts) -> (Vec<Object>, Vec<Diagnostic>) {
    let stack = facts.stack.clone().unwrap_or_else(|| "stack".into());
    // Whether a custom kind is namespaced must not depend on declaration order: collect the
    // CRDs every manifest declares first.
    let mut pre = Lowering {
        stack: stack.clone(),
        objects: Vec::new(),
        diags: Vec::new(),
        crds: Vec::new(),
        bucket_classes: storage::BucketClasses::default(),
        filesystems: std::collections::BTreeMap::new(),
        exposed: std::collections::BTreeMap::new(),
    };
    for res in resources.iter().filter(|r| r.addr.kind == Kind::Manifest) {
        manifest::manifest(&mut pre, res);
    }
    let crds = manifest::declared_crds(&pre.objects);
    let bucket_classes = storage::BucketClasses::of(resources);
    let filesystems = storage::first_data_pools(resources);
    let exposed = route::exposed_ports(resources);
    let mut cx = Lowering { stack, objects: Vec::new(), diags: Vec::new(), crds, bucket_classes, filesystems, exposed };
    for (i, res) in resources.iter().enumerate() {
        let cluster = facts.cluster_of.get(i).cloned().flatten();
        cx.resource(res, cluster.as_ref());
    }
    (cx.objects, cx.diags)
}

pub(crate) struct Lowering {
    stack: String,
    objects: Vec<Object>,
    diags: Vec<Diagnostic>,
    /// CRDs declared by the stack's manifests: (group, kind, namespaced).
    crds: Vec<(String, String, bool)>,
    /// The bucket StorageClasses of each object store.
    bucket_classes: storage::BucketClasses,
    /// Each file system's first (default) data pool's name, as declared.
    filesystems: std::collections::BTreeMap<String, String>,
    /// Each exposed workload's Service port, by workload name (a route path's default port).
    exposed: std::collections::BTreeMap<String, i64>,
}

impl Lowering {
    fn resource(&mut self, res: &Resource, cluster: Option<&ClusterInfo>) {
        if res.is_existing() {
            return; // read at plan time, never written: see `crate::existing`
        }
        match res.addr.kind {
            Kind::Namespace => kube::namespace(self, res),
            Kind::Config => kube::config(self, res),
            Kind::ServiceAccount => kube::service_account(self, res),
            Kind::Secret => kube::secret(self, res),
            Kind::StorageClass => {
                if let Some(c) = cluster {
                    kube::storage_class(self, res, c);
                }
            }
            Kind::Pool => {
                if let Some(c) = cluster {
                    pool::pool(self, res, c);
                }
            }
            Kind::Filesystem => {
                if let Some(c) = cluster {
                    storage::filesystem(self, res, c);
                }
            }
            Kind::ObjectStore => {
                if let Some(c) = cluster {
                    storage::object_store(self, res, c);
                }
            }
            Kind::Bucket => storage::bucket(self, res),
            Kind::Workload => workload::workload(self, res),
            Kind::Route => route::route(self, res),
            Kind::Manifest => manifest::manifest(self, res),
            Kind::Stack | Kind::Cluster | Kind::Policy | Kind::Moved => {}
        }
    }

    /// Standard metadata: name, namespace, cairn's labels plus the resource's, the address
    /// annotation plus the resource's annotations.
    fn metadata(&self, res: &Resource, name: &str, namespace: Option<&str>) -> Json {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        if let Some(ns) = namespace {
            m.insert("namespace".into(), json!(ns));
        }
        m.insert("labels".into(), Json::Object(self.labels(res)));
        let mut ann = Map::new();
        ann.insert("cairn.dev/address".into(), json!(res.addr.to_string()));
        for (k, v) in string_map(res.body.get("annotations")) {
            ann.insert(k, json!(v));
        }
        m.insert("annotations".into(), Json::Object(ann));
        Json::Object(m)
    }

    fn labels(&self, res: &Resource) -> Map<String, Json> {
        let mut labels = Map::new();
        labels.insert("app.kubernetes.io/managed-by".into(), json!("cairn"));
        labels.insert("cairn.dev/stack".into(), json!(self.stack));
        for (k, v) in string_map(res.body.get("labels")) {
            if !labels.contains_key(&k) {
                labels.insert(k, json!(v));
            }
        }
        labels
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        res: &Resource,
        target: Target,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        body: Json,
        sensitive: Vec<String>,
    ) {
        // Storage that holds data is protected unless it says otherwise (LANGUAGE.md §6, §10).
        let holds_data = matches!(res.addr.kind, Kind::Pool | Kind::Filesystem | Kind::ObjectStore | Kind::Bucket);
        let protect = crate::access::bool_of(&res.body, "protect").unwrap_or(holds_data);
        self.objects.push(Object {
            address: res.addr.clone(),
            target,
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            body,
            sensitive,
            protect,
        });
    }

    /// A Kubernetes object with standard metadata and `rest` after it.
    #[allow(clippy::too_many_arguments)]
    fn kube(
        &mut self,
        res: &Resource,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        rest: Vec<(&str, Json)>,
        sensitive: Vec<String>,
    ) {
        let mut body = Map::new();
        body.insert("apiVersion".into(), json!(api_version));
        body.insert("kind".into(), json!(kind));
        body.insert("metadata".into(), self.metadata(res, name, namespace));
        for (k, v) in rest {
            body.insert(k.to_string(), v);
        }
        self.push(res, Target::Kube, api_version, kind, namespace, name, Json::Object(body), sensitive);
    }
}

/// A map attribute's entries as strings, in key order (non-scalar values skipped).
pub(crate) fn string_map(v: Option<&Value>) -> Vec<(String, String)> {
    match v.map(|v| v.unwrap_sensitive().0) {
        Some(Value::Map(m)) => m.iter().filter_map(|(k, v)| crate::access::scalar_string(v).map(|s| (k.clone(), s))).collect(),
        _ => Vec::new(),
    }
}

/// The namespace a namespaced resource names.
pub(crate) fn namespace_of(res: &Resource) -> Option<String> {
    crate::access::name_of(&res.body, "namespace")
}

/// A string attribute or its default.
pub(crate) fn str_or(body: &crate::eval::BodyValue, name: &str, default: &str) -> String {
    str_of(body, name).unwrap_or_else(|| default.to_string())
}
