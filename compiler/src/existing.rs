//! What a stack uses but does not manage (`existing = true`, LANGUAGE.md §10). Such a resource
//! lowers to no object; instead it becomes an [`Existing`]: the live object the planner must
//! find (a Kubernetes object, or a direct-mode pool or file system), with the uses of it whose
//! checks need its live attributes — a `ReadWriteMany` volume on an existing storage class, a
//! data key of an existing secret or config, an existing secret as a route's TLS secret.

use cairn_core::ObjectKey;
use cairn_lang::Span;

use crate::access::name_of;
use crate::check::{CephMode, Facts};
use crate::eval::{BodyValue, Resource};
use crate::lower::{Target, DIRECT_API_VERSION, DIRECT_FS_KIND, DIRECT_POOL_KIND};
use crate::schema::Kind;
use crate::value::{Address, Value};

/// One resource the stack uses and never writes.
#[derive(Clone, Debug, PartialEq)]
pub struct Existing {
    pub address: Address,
    /// The block's label: where a missing resource is reported.
    pub span: Span,
    /// Who reads it: the Kubernetes provider, or the Ceph provider (direct-mode pools and file
    /// systems).
    pub target: Target,
    /// The live object it names.
    pub key: ObjectKey,
    /// The uses that are checked against the live object at plan time.
    pub uses: Vec<Use>,
}

/// A use of an existing resource that its live attributes decide.
#[derive(Clone, Debug, PartialEq)]
pub struct Use {
    /// The resource that uses it (`workload.web`).
    pub by: Address,
    /// Where the use is written.
    pub span: Span,
    pub what: UseKind,
}

/// What a use needs of the live object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UseKind {
    /// A `ReadWriteMany` volume: the class must not provision RBD images.
    SharedVolume,
    /// A data key read by `env` (`secret.registry.token`): the live object must have it.
    Key(String),
    /// A route's `tls`: the secret must be of type `kubernetes.io/tls`.
    TlsSecret,
    /// Any other reference (a storage class on an existing pool): the object must exist.
    Reference,
}

/// The existing resources of a checked stack, in declaration order.
pub fn existing(resources: &[Resource], facts: &Facts) -> Vec<Existing> {
    let mut out: Vec<Existing> = Vec::new();
    for (i, res) in resources.iter().enumerate() {
        if !res.is_existing() {
            continue;
        }
        let cluster = facts.cluster_of.get(i).cloned().flatten();
        let direct = cluster.as_ref().is_some_and(|c| c.mode == CephMode::Direct);
        let rook_ns = cluster.as_ref().map_or_else(|| "rook-ceph".to_string(), |c| c.rook_namespace.clone());
        let name = res.addr.name.clone();
        let (target, api_version, kind, namespace) = match res.addr.kind {
            Kind::Namespace => (Target::Kube, "v1", "Namespace", None),
            Kind::StorageClass => (Target::Kube, "storage.k8s.io/v1", "StorageClass", None),
            Kind::Secret => (Target::Kube, "v1", "Secret", name_of(&res.body, "namespace")),
            Kind::Config => (Target::Kube, "v1", "ConfigMap", name_of(&res.body, "namespace")),
            Kind::Pool if direct => (Target::Ceph, DIRECT_API_VERSION, DIRECT_POOL_KIND, None),
            Kind::Pool => (Target::Kube, "ceph.rook.io/v1", "CephBlockPool", Some(rook_ns)),
            Kind::Filesystem if direct => (Target::Ceph, DIRECT_API_VERSION, DIRECT_FS_KIND, None),
            Kind::Filesystem => (Target::Kube, "ceph.rook.io/v1", "CephFilesystem", Some(rook_ns)),
            Kind::ObjectStore => (Target::Kube, "ceph.rook.io/v1", "CephObjectStore", Some(rook_ns)),
            _ => continue,
        };
        let key = ObjectKey { api_version: api_version.into(), kind: kind.into(), namespace, name };
        out.push(Existing { address: res.addr.clone(), span: res.label_span, target, key, uses: Vec::new() });
    }
    if out.is_empty() {
        return out;
    }
    let at = |kind: Kind, name: &str| out.iter().position(|e| e.address.kind == kind && e.address.name == name);
    let mut uses: Vec<(usize, Use)> = Vec::new();
    for res in resources.iter().filter(|r| !r.is_existing()) {
        let mut add = |kind: Kind, name: &str, span: Span, what: UseKind| {
            if let Some(i) = at(kind, name) {
                uses.push((i, Use { by: res.addr.clone(), span, what }));
            }
        };
        match res.addr.kind {
            Kind::Workload => {
                for v in res.body.blocks_of("volume") {
                    let Some(class) = name_of(&v.body, "storage_class") else { continue };
                    let shared = v.body.attr("access").filter(|a| a.value.as_str() == Some("ReadWriteMany"));
                    match shared {
                        Some(a) => add(Kind::StorageClass, &class, a.span, UseKind::SharedVolume),
                        None => add(Kind::StorageClass, &class, v.kind_span, UseKind::Reference),
                    }
                }
                let bodies = std::iter::once(&*res.body)
                    .chain(res.body.blocks_of("container").map(|b| &b.body))
                    .chain(res.body.blocks_of("init").map(|b| &b.body));
                for body in bodies {
                    for (kind, name, key, span) in env_keys(body) {
                        add(kind, &name, span, UseKind::Key(key));
                    }
                }
            }
            Kind::Route => {
                if let (Some(a), Some(secret)) = (res.body.attr("tls"), name_of(&res.body, "tls")) {
                    add(Kind::Secret, &secret, a.span, UseKind::TlsSecret);
                }
            }
            Kind::StorageClass => {
                for (attr, kind) in [("pool", Kind::Pool), ("filesystem", Kind::Filesystem)] {
                    if let (Some(a), Some(name)) = (res.body.attr(attr), name_of(&res.body, attr)) {
                        add(kind, &name, a.span, UseKind::Reference);
                    }
                }
            }
            Kind::Bucket => {
                if let (Some(a), Some(name)) = (res.body.attr("store"), name_of(&res.body, "store")) {
                    add(Kind::ObjectStore, &name, a.span, UseKind::Reference);
                }
            }
            _ => {}
        }
    }
    for (i, u) in uses {
        if let Some(e) = out.get_mut(i) {
            e.uses.push(u);
        }
    }
    out
}

/// The data-key references of a body's `env` (`secret.registry.token`): the referenced kind,
/// name and key, and the span of the env entry.
fn env_keys(body: &BodyValue) -> Vec<(Kind, String, String, Span)> {
    let Some(a) = body.attr("env") else { return Vec::new() };
    let (Value::Map(m), _) = a.value.unwrap_sensitive() else { return Vec::new() };
    let mut out = Vec::new();
    for (name, v) in m.iter() {
        if let (Value::Ref(r), _) = v.unwrap_sensitive() {
            if let (Some(key), Kind::Secret | Kind::Config) = (&r.key, r.kind) {
                out.push((r.kind, r.name.clone(), key.clone(), a.entry_value_span(name)));
            }
        }
    }
    out
}
