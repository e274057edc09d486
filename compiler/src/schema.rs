//! The schema of every block kind of LANGUAGE.md §6: attributes with their types, defaults,
//! allowed values and one-line docs, and the nested blocks each kind accepts. The checker
//! validates against it; the language server reuses it for hover and completion.

/// The resource kinds (top-level block kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Stack,
    Cluster,
    Pool,
    Filesystem,
    ObjectStore,
    Bucket,
    StorageClass,
    Namespace,
    Workload,
    Config,
    Secret,
    Route,
    ServiceAccount,
    Manifest,
    Policy,
    Moved,
}

impl Kind {
    /// Every kind, in declaration order of the reference.
    pub const ALL: [Kind; 16] = [
        Kind::Stack,
        Kind::Cluster,
        Kind::Pool,
        Kind::Filesystem,
        Kind::ObjectStore,
        Kind::Bucket,
        Kind::StorageClass,
        Kind::Namespace,
        Kind::Workload,
        Kind::Config,
        Kind::Secret,
        Kind::Route,
        Kind::ServiceAccount,
        Kind::Manifest,
        Kind::Policy,
        Kind::Moved,
    ];

    /// The kind as written in source.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stack => "stack",
            Kind::Cluster => "cluster",
            Kind::Pool => "pool",
            Kind::Filesystem => "filesystem",
            Kind::ObjectStore => "object_store",
            Kind::Bucket => "bucket",
            Kind::StorageClass => "storage_class",
            Kind::Namespace => "namespace",
            Kind::Workload => "workload",
            Kind::Config => "config",
            Kind::Secret => "secret",
            Kind::Route => "route",
            Kind::ServiceAccount => "service_account",
            Kind::Manifest => "manifest",
            Kind::Policy => "policy",
            Kind::Moved => "moved",
        }
    }

    /// Parses a kind name.
    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether a block of this kind may say `existing = true` (LANGUAGE.md §10).
    pub fn may_exist(self) -> bool {
        matches!(
            self,
            Kind::Namespace
                | Kind::StorageClass
                | Kind::Secret
                | Kind::Config
                | Kind::ServiceAccount
                | Kind::Pool
                | Kind::Filesystem
                | Kind::ObjectStore
        )
    }

    /// The attributes an `existing` block of this kind keeps: its identity.
    pub fn identity_attrs(self) -> &'static [&'static str] {
        match self {
            Kind::Secret | Kind::Config | Kind::ServiceAccount => &["existing", "namespace", "cluster"],
            _ => &["existing", "cluster"],
        }
    }

    /// Whether `KIND.NAME` references to this kind make sense.
    pub fn addressable(self) -> bool {
        !matches!(self, Kind::Stack | Kind::Moved)
    }

    /// The schema of this kind's block.
    pub fn schema(self) -> &'static BlockSchema {
        match self {
            Kind::Stack => &STACK,
            Kind::Cluster => &CLUSTER,
            Kind::Pool => &POOL,
            Kind::Filesystem => &FILESYSTEM,
            Kind::ObjectStore => &OBJECT_STORE,
            Kind::Bucket => &BUCKET,
            Kind::StorageClass => &STORAGE_CLASS,
            Kind::Namespace => &NAMESPACE,
            Kind::Workload => &WORKLOAD,
            Kind::Config => &CONFIG,
            Kind::Secret => &SECRET,
            Kind::Route => &ROUTE,
            Kind::ServiceAccount => &SERVICE_ACCOUNT,
            Kind::Manifest => &MANIFEST,
            Kind::Policy => &POLICY,
            Kind::Moved => &MOVED,
        }
    }
}

/// Whether a block takes a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelRule {
    Required,
    Optional,
    None,
}

/// Attribute types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Str,
    Int {
        min: i64,
        max: i64,
    },
    /// One of the listed strings.
    Enum(&'static [&'static str]),
    /// A Kubernetes quantity; plain numbers and quantity strings are accepted.
    Quantity,
    /// A reference to a resource of this kind.
    Ref(Kind),
    /// A reference to a resource of this kind, or its name as a string.
    RefOrStr(Kind),
    /// A list of references to any resources.
    Refs,
    /// A list of strings.
    StrList,
    /// A map with string values.
    StrMap,
    /// A map from names to integers (ports).
    IntMap,
    /// A map from names to env values (strings, numbers, data-key references).
    EnvMap,
    /// A port: a name or a number.
    Port,
    /// A pod count for rolling updates: an int ≥ 0 or a percentage (`"25%"`).
    IntOrPercent,
    /// Anything (manifest objects, policy config).
    Any,
}

impl Ty {
    /// How the type reads in hovers and messages.
    pub fn describe(self) -> String {
        match self {
            Ty::Bool => "bool".into(),
            Ty::Str => "string".into(),
            Ty::Int { .. } => "int".into(),
            Ty::Enum(values) => values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(" | "),
            Ty::Quantity => "quantity".into(),
            Ty::Ref(k) => format!("reference to a {}", k.as_str()),
            Ty::RefOrStr(k) => format!("reference to a {} or string", k.as_str()),
            Ty::Refs => "list of references".into(),
            Ty::StrList => "list of strings".into(),
            Ty::StrMap => "map of strings".into(),
            Ty::IntMap => "map of ints, or list of ints".into(),
            Ty::EnvMap => "map of env values".into(),
            Ty::Port => "port name or number".into(),
            Ty::IntOrPercent => "number or percentage".into(),
            Ty::Any => "any value".into(),
        }
    }
}

/// One attribute of a block.
#[derive(Debug)]
pub struct AttrSchema {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// The default as shown to users, if any.
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

/// One block kind: a resource kind or a nested block.
#[derive(Debug)]
pub struct BlockSchema {
    pub name: &'static str,
    pub doc: &'static str,
    pub label: LabelRule,
    pub attrs: &'static [AttrSchema],
    pub blocks: &'static [&'static BlockSchema],
    /// Whether the block may appear more than once (with different labels).
    pub repeated: bool,
}

impl BlockSchema {
    /// The attribute called `name`.
    pub fn attr(&self, name: &str) -> Option<&'static AttrSchema> {
        self.attrs.iter().find(|a| a.name == name).or_else(|| self.common().iter().find(|a| a.name == name))
    }

    /// The nested block called `name`.
    pub fn block(&self, name: &str) -> Option<&'static BlockSchema> {
        self.blocks.iter().copied().find(|b| b.name == name)
    }

    /// Attributes every resource of this kind accepts beside its own.
    pub fn common(&self) -> &'static [AttrSchema] {
        match Kind::from_name(self.name) {
            Some(Kind::Stack | Kind::Moved | Kind::Cluster | Kind::Policy) => &[],
            Some(Kind::Pool) => &COMMON_POOL,
            Some(k) if k.may_exist() => &COMMON_K8S_EXISTING,
            Some(_) => &COMMON_K8S,
            None => &[],
        }
    }

    /// Every attribute name accepted, for "did you mean" and completion.
    pub fn attr_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.attrs.iter().chain(self.common().iter()).map(|a| a.name)
    }
}

const fn attr(name: &'static str, ty: Ty, doc: &'static str) -> AttrSchema {
    AttrSchema { name, ty, required: false, default: None, doc }
}

const fn req(name: &'static str, ty: Ty, doc: &'static str) -> AttrSchema {
    AttrSchema { name, ty, required: true, default: None, doc }
}

const fn def(name: &'static str, ty: Ty, default: &'static str, doc: &'static str) -> AttrSchema {
    AttrSchema { name, ty, required: false, default: Some(default), doc }
}

const fn block(name: &'static str, doc: &'static str, attrs: &'static [AttrSchema]) -> BlockSchema {
    BlockSchema { name, doc, label: LabelRule::None, attrs, blocks: &[], repeated: false }
}

const INT: Ty = Ty::Int { min: i64::MIN, max: i64::MAX };
const NON_NEG: Ty = Ty::Int { min: 0, max: i64::MAX };

/// `existing = true` (LANGUAGE.md §10): read, never written.
const EXISTING: AttrSchema = attr(
    "existing",
    Ty::Bool,
    "Use the live resource of this name without managing it: cairn reads it at plan time and never creates, changes, adopts or deletes it. Takes no other attribute but its identity.",
);

static COMMON_POOL: [AttrSchema; 4] = [
    attr("depends_on", Ty::Refs, "Resources that must be applied before this one."),
    attr("protect", Ty::Bool, "Refuse to delete or replace this resource without --allow-data-loss."),
    attr("cluster", Ty::Ref(Kind::Cluster), "The cluster this resource belongs to (required when the stack has several)."),
    EXISTING,
];

static COMMON_K8S_EXISTING: [AttrSchema; 6] = [
    attr("depends_on", Ty::Refs, "Resources that must be applied before this one."),
    attr("protect", Ty::Bool, "Refuse to delete or replace this resource without --allow-data-loss."),
    attr("cluster", Ty::Ref(Kind::Cluster), "The cluster this resource belongs to (required when the stack has several)."),
    attr("labels", Ty::StrMap, "Kubernetes labels added to the objects' metadata."),
    attr("annotations", Ty::StrMap, "Kubernetes annotations added to the objects' metadata."),
    EXISTING,
];

static COMMON_K8S: [AttrSchema; 5] = [
    attr("depends_on", Ty::Refs, "Resources that must be applied before this one."),
    attr("protect", Ty::Bool, "Refuse to delete or replace this resource without --allow-data-loss."),
    attr("cluster", Ty::Ref(Kind::Cluster), "The cluster this resource belongs to (required when the stack has several)."),
    attr("labels", Ty::StrMap, "Kubernetes labels added to the objects' metadata."),
    attr("annotations", Ty::StrMap, "Kubernetes annotations added to the objects' metadata."),
];

pub static STACK: BlockSchema = BlockSchema {
    name: "stack",
    doc: "Names the stack (ownership label, lock name) and its default cluster.",
    label: LabelRule::Required,
    attrs: &[attr("cluster", Ty::Ref(Kind::Cluster), "The stack's default cluster.")],
    blocks: &[],
    repeated: false,
};

static KUBE: BlockSchema = block(
    "kube",
    "How to reach the cluster's Kubernetes API (defaults as kubectl).",
    &[attr("context", Ty::Str, "The kubeconfig context."), attr("kubeconfig", Ty::Str, "Path of the kubeconfig file.")],
);

static CEPH: BlockSchema = block(
    "ceph",
    "How pools are managed: through Rook (`rook`) or with monitor commands (`direct`).",
    &[
        def(
            "mode",
            Ty::Enum(&["rook", "direct"]),
            "\"rook\"",
            "`rook`: pools become CephBlockPool objects; `direct`: monitor commands through librados.",
        ),
        def("rook_namespace", Ty::Str, "\"rook-ceph\"", "The namespace of the Rook operator and its CephCluster."),
        attr("conf", Ty::Str, "Path of ceph.conf (direct mode; default as the ceph CLI)."),
        attr("keyring", Ty::Str, "Path of the keyring (direct mode)."),
        attr("user", Ty::Str, "Ceph client name without `client.` (direct mode; default `admin`)."),
        attr("fsid", Ty::Str, "The Ceph cluster's fsid (direct mode; required when a storage_class uses this cluster)."),
    ],
);

pub static CLUSTER: BlockSchema = BlockSchema {
    name: "cluster",
    doc: "A Kubernetes cluster and its Ceph cluster.",
    label: LabelRule::Required,
    attrs: &[],
    blocks: &[&KUBE, &CEPH],
    repeated: false,
};

static ERASURE: BlockSchema = block(
    "erasure",
    "Erasure coding: k data chunks and m coding chunks.",
    &[req("k", Ty::Int { min: i64::MIN, max: i64::MAX }, "Data chunks (k ≥ 2)."), req("m", INT, "Coding chunks (m ≥ 1).")],
);

static POOL_QUOTA: BlockSchema = block(
    "quota",
    "Pool quotas.",
    &[attr("max_bytes", Ty::Quantity, "Maximum bytes stored."), attr("max_objects", NON_NEG, "Maximum number of objects.")],
);

pub static POOL: BlockSchema = BlockSchema {
    name: "pool",
    doc: "A Ceph pool.",
    label: LabelRule::Required,
    attrs: &[
        def("type", Ty::Enum(&["replicated", "erasure"]), "\"replicated\"", "Replicated or erasure coded; changing it replaces the pool."),
        def("size", Ty::Int { min: 1, max: 10 }, "3", "Number of replicas (replicated pools)."),
        attr("min_size", Ty::Int { min: 1, max: 10 }, "Replicas needed to serve I/O (default size - size/2; erasure k + 1)."),
        attr("pg_num", Ty::Int { min: 1, max: 1 << 20 }, "Placement groups; unset lets the autoscaler decide."),
        def("autoscale", Ty::Enum(&["on", "warn", "off"]), "\"on\"", "The PG autoscaler mode."),
        def("failure_domain", Ty::Str, "\"host\"", "CRUSH failure domain: osd, host, rack…"),
        attr("device_class", Ty::Str, "CRUSH device class (ssd, hdd, nvme)."),
        def("application", Ty::Enum(&["rbd", "cephfs", "rgw"]), "\"rbd\"", "The application enabled on the pool."),
    ],
    blocks: &[&ERASURE, &POOL_QUOTA],
    repeated: false,
};

/// The attributes a pool's replication takes, shared by `pool`, a file system's and an object
/// store's pools.
const REPLICATED_ATTRS: [AttrSchema; 4] = [
    def("size", Ty::Int { min: 1, max: 10 }, "3", "Number of replicas (replicated pools)."),
    attr("min_size", Ty::Int { min: 1, max: 10 }, "Replicas needed to serve I/O (default size - size/2; erasure k + 1)."),
    def("failure_domain", Ty::Str, "\"host\"", "CRUSH failure domain: osd, host, rack…"),
    attr("device_class", Ty::Str, "CRUSH device class (ssd, hdd, nvme)."),
];

static METADATA_POOL: BlockSchema = block("metadata", "The metadata pool: always replicated (`<name>-metadata`).", &REPLICATED_ATTRS);

/// A data pool's attributes: every attribute of `pool` but `application`, `quota`, `protect`.
const DATA_POOL_ATTRS: [AttrSchema; 7] = [
    def("type", Ty::Enum(&["replicated", "erasure"]), "\"replicated\"", "Replicated or erasure coded; changing it replaces the pool."),
    def("size", Ty::Int { min: 1, max: 10 }, "3", "Number of replicas (replicated pools)."),
    attr("min_size", Ty::Int { min: 1, max: 10 }, "Replicas needed to serve I/O (default size - size/2; erasure k + 1)."),
    attr("pg_num", Ty::Int { min: 1, max: 1 << 20 }, "Placement groups; unset lets the autoscaler decide."),
    def("autoscale", Ty::Enum(&["on", "warn", "off"]), "\"on\"", "The PG autoscaler mode."),
    def("failure_domain", Ty::Str, "\"host\"", "CRUSH failure domain: osd, host, rack…"),
    attr("device_class", Ty::Str, "CRUSH device class (ssd, hdd, nvme)."),
];

static FS_DATA_POOL: BlockSchema = BlockSchema {
    name: "data",
    doc: "A data pool `<fs>-<name>`; the first is the default and must be replicated.",
    label: LabelRule::Required,
    attrs: &DATA_POOL_ATTRS,
    blocks: &[&ERASURE],
    repeated: true,
};

pub static FILESYSTEM: BlockSchema = BlockSchema {
    name: "filesystem",
    doc: "A CephFS file system: a metadata pool, one or more data pools, and its MDS settings.",
    label: LabelRule::Required,
    attrs: &[
        def("active", Ty::Int { min: 1, max: 256 }, "1", "Active MDS daemons (max_mds)."),
        def("standby", Ty::Bool, "true", "A hot standby per active MDS."),
    ],
    blocks: &[&METADATA_POOL, &FS_DATA_POOL],
    repeated: false,
};

static STORE_DATA_POOL: BlockSchema = BlockSchema {
    name: "data",
    doc: "The object store's data pool.",
    label: LabelRule::None,
    attrs: &DATA_POOL_ATTRS,
    blocks: &[&ERASURE],
    repeated: false,
};

static GATEWAY: BlockSchema = block(
    "gateway",
    "The RADOS gateways (S3 endpoints) Rook runs.",
    &[
        def("port", Ty::Int { min: 1, max: 65535 }, "80", "The gateways' HTTP port."),
        def("instances", Ty::Int { min: 1, max: 100 }, "1", "Gateway pods."),
    ],
);

pub static OBJECT_STORE: BlockSchema = BlockSchema {
    name: "object_store",
    doc: "An S3-compatible object store (Rook's CephObjectStore; rook mode only).",
    label: LabelRule::Required,
    attrs: &[],
    blocks: &[&METADATA_POOL, &STORE_DATA_POOL, &GATEWAY],
    repeated: false,
};

/// What `bucket.NAME.FIELD` reads in `env`: the field, the key Rook writes, and whether it is
/// in the Secret (else the ConfigMap) named after the claim.
pub const BUCKET_KEYS: [(&str, &str, bool); 5] = [
    ("name", "BUCKET_NAME", false),
    ("host", "BUCKET_HOST", false),
    ("port", "BUCKET_PORT", false),
    ("access_key", "AWS_ACCESS_KEY_ID", true),
    ("secret_key", "AWS_SECRET_ACCESS_KEY", true),
];

pub static BUCKET: BlockSchema = BlockSchema {
    name: "bucket",
    doc: "An S3 bucket claimed from an object store (an ObjectBucketClaim); `bucket.NAME.access_key` and friends go in `env`.",
    label: LabelRule::Required,
    attrs: &[
        req("namespace", Ty::RefOrStr(Kind::Namespace), "The namespace of the claim and of the workloads that use it."),
        req("store", Ty::Ref(Kind::ObjectStore), "The object store the bucket lives in."),
        def(
            "reclaim",
            Ty::Enum(&["Delete", "Retain"]),
            "\"Delete\"",
            "What happens to the bucket and its objects when the claim is deleted.",
        ),
    ],
    blocks: &[],
    repeated: false,
};

pub static STORAGE_CLASS: BlockSchema = BlockSchema {
    name: "storage_class",
    doc: "A Kubernetes StorageClass provisioning RBD volumes from a pool or CephFS volumes from a file system.",
    label: LabelRule::Required,
    attrs: &[
        attr("pool", Ty::Ref(Kind::Pool), "The pool RBD volumes are created in (or `filesystem`)."),
        attr("filesystem", Ty::Ref(Kind::Filesystem), "The file system CephFS volumes are created in (or `pool`)."),
        attr("data", Ty::Str, "With `filesystem`: the data pool volumes go to (default: the first)."),
        def("reclaim", Ty::Enum(&["Delete", "Retain"]), "\"Delete\"", "What happens to a volume when its claim is deleted."),
        def("expansion", Ty::Bool, "true", "Whether volumes can be expanded."),
        attr("default", Ty::Bool, "Make this the cluster's default StorageClass."),
        def("fs_type", Ty::Str, "\"ext4\"", "File system of RBD volumes (not with `filesystem`)."),
        attr("binding", Ty::Enum(&["Immediate", "WaitForFirstConsumer"]), "When volumes are bound (Kubernetes default Immediate)."),
        attr("csi_secret", Ty::Str, "Name of the CSI secrets (default per mode)."),
        attr("csi_secret_namespace", Ty::Str, "Namespace of the CSI secrets (default per mode)."),
    ],
    blocks: &[],
    repeated: false,
};

static NS_QUOTA: BlockSchema = block(
    "quota",
    "A ResourceQuota `<namespace>-quota`.",
    &[
        attr("cpu", Ty::Quantity, "Sum of CPU requests (requests.cpu)."),
        attr("memory", Ty::Quantity, "Sum of memory requests (requests.memory)."),
        attr("limits_cpu", Ty::Quantity, "Sum of CPU limits (limits.cpu)."),
        attr("limits_memory", Ty::Quantity, "Sum of memory limits (limits.memory)."),
        attr("pods", Ty::Quantity, "Number of pods."),
        attr("storage", Ty::Quantity, "Sum of storage requests (requests.storage)."),
        attr("pvcs", Ty::Quantity, "Number of PersistentVolumeClaims."),
    ],
);

static NS_LIMITS: BlockSchema = block(
    "limits",
    "A LimitRange `<namespace>-limits` of type Container.",
    &[
        attr("default_cpu", Ty::Quantity, "Default CPU limit."),
        attr("default_memory", Ty::Quantity, "Default memory limit."),
        attr("default_request_cpu", Ty::Quantity, "Default CPU request."),
        attr("default_request_memory", Ty::Quantity, "Default memory request."),
        attr("max_cpu", Ty::Quantity, "Maximum CPU limit of a container."),
        attr("max_memory", Ty::Quantity, "Maximum memory limit of a container."),
    ],
);

pub static NAMESPACE: BlockSchema = BlockSchema {
    name: "namespace",
    doc: "A Kubernetes Namespace, optionally with a quota and limits.",
    label: LabelRule::Required,
    attrs: &[attr(
        "pod_security",
        Ty::Enum(&["privileged", "baseline", "restricted"]),
        "The Pod Security level enforced on its pods (pod-security.kubernetes.io/enforce).",
    )],
    blocks: &[&NS_QUOTA, &NS_LIMITS],
    repeated: false,
};

static RESOURCES: BlockSchema = block(
    "resources",
    "Container resource requests and limits.",
    &[
        attr("cpu", Ty::Quantity, "CPU request."),
        attr("memory", Ty::Quantity, "Memory request."),
        attr("cpu_limit", Ty::Quantity, "CPU limit."),
        attr("memory_limit", Ty::Quantity, "Memory limit (default: the memory request)."),
    ],
);

static VOLUME: BlockSchema = BlockSchema {
    name: "volume",
    doc: "A persistent volume: a claim template (StatefulSet) or a PersistentVolumeClaim (Deployment).",
    label: LabelRule::Required,
    attrs: &[
        req("storage_class", Ty::Ref(Kind::StorageClass), "The StorageClass to provision from."),
        req("size", Ty::Quantity, "Requested size."),
        req("mount", Ty::Str, "Mount path in the container."),
        def("access", Ty::Enum(&["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"]), "\"ReadWriteOnce\"", "Access mode."),
    ],
    blocks: &[],
    repeated: true,
};

static MOUNT: BlockSchema = BlockSchema {
    name: "mount",
    doc: "Mounts a config or secret as files.",
    label: LabelRule::Required,
    attrs: &[
        attr("config", Ty::Ref(Kind::Config), "The config to mount."),
        attr("secret", Ty::Ref(Kind::Secret), "The secret to mount."),
        req("path", Ty::Str, "Mount path in the container."),
    ],
    blocks: &[],
    repeated: true,
};

static EXPOSE: BlockSchema = block(
    "expose",
    "A Service `<name>` in front of the workload.",
    &[
        req("port", Ty::Int { min: 1, max: 65535 }, "The Service port."),
        attr("target", Ty::Port, "Container port name or number (default: the Service port)."),
        attr("name", Ty::Str, "The Service port's name (default: the target's name, else `port-N`)."),
        def("type", Ty::Enum(&["ClusterIP", "NodePort", "LoadBalancer"]), "\"ClusterIP\"", "The Service type."),
    ],
);

/// The attributes every probe takes (`probe`, `liveness`, `startup`).
const PROBE_ATTRS: [AttrSchema; 10] = [
    attr("http", Ty::Str, "HTTP GET path."),
    attr("tcp", Ty::Bool, "Probe by opening a TCP connection to `port`."),
    attr("grpc", Ty::Bool, "Probe with the gRPC health checking protocol on `port` (a named port is resolved to its number)."),
    attr("exec", Ty::StrList, "Command to run."),
    attr("port", Ty::Port, "Port name or number (default: the first port)."),
    attr("initial_delay", NON_NEG, "Seconds before the first probe."),
    attr("period", Ty::Int { min: 1, max: i32::MAX as i64 }, "Seconds between probes (periodSeconds; Kubernetes default 10)."),
    attr("timeout", Ty::Int { min: 1, max: i32::MAX as i64 }, "Seconds a probe may take (timeoutSeconds; Kubernetes default 1)."),
    attr("failures", Ty::Int { min: 1, max: i32::MAX as i64 }, "Failures in a row that count (failureThreshold; Kubernetes default 3)."),
    attr("successes", Ty::Int { min: 1, max: i32::MAX as i64 }, "Successes in a row that count after a failure (successThreshold; 1)."),
];

static PROBE: BlockSchema = block("probe", "A readiness probe: the pod gets traffic while it passes.", &PROBE_ATTRS);

static LIVENESS: BlockSchema = block("liveness", "A liveness probe: the kubelet restarts the container when it fails.", &PROBE_ATTRS);

static STARTUP: BlockSchema =
    block("startup", "A startup probe: the other probes wait until it passes once (for slow starters).", &PROBE_ATTRS);

/// The container-level attributes of `security` (LANGUAGE.md §10): they go to every container's
/// `securityContext`.
const CONTAINER_SECURITY_ATTRS: [AttrSchema; 5] = [
    attr("read_only", Ty::Bool, "readOnlyRootFilesystem of every container."),
    attr("escalation", Ty::Bool, "allowPrivilegeEscalation of every container."),
    attr("drop", Ty::StrList, "Linux capabilities dropped by every container (`[\"ALL\"]`)."),
    attr("add", Ty::StrList, "Linux capabilities added to every container."),
    attr("privileged", Ty::Bool, "Run every container privileged."),
];

static SECURITY: BlockSchema = block(
    "security",
    "The pod's and its containers' security context (Pod Security: see the namespace's `pod_security`).",
    &[
        attr("user", NON_NEG, "runAsUser of the pod."),
        attr("group", NON_NEG, "runAsGroup of the pod."),
        attr("fs_group", NON_NEG, "fsGroup of the pod: the group that owns mounted volumes."),
        attr("non_root", Ty::Bool, "runAsNonRoot of the pod: refuse images that run as root."),
        attr("seccomp", Ty::Enum(&["RuntimeDefault", "Localhost", "Unconfined"]), "The pod's seccomp profile type."),
        attr("read_only", Ty::Bool, "readOnlyRootFilesystem of every container."),
        attr("escalation", Ty::Bool, "allowPrivilegeEscalation of every container."),
        attr("drop", Ty::StrList, "Linux capabilities dropped by every container (`[\"ALL\"]`)."),
        attr("add", Ty::StrList, "Linux capabilities added to every container."),
        attr("privileged", Ty::Bool, "Run every container privileged."),
    ],
);

static CONTAINER_SECURITY: BlockSchema = block(
    "security",
    "This container's security context; replaces the workload's container-level `security` attributes for it.",
    &CONTAINER_SECURITY_ATTRS,
);

static CONTAINER_MOUNT: BlockSchema = BlockSchema {
    name: "mount",
    doc: "Mounts a config or secret as files, or (with neither) the workload's `volume` or `mount` of this name.",
    label: LabelRule::Required,
    attrs: &[
        attr("config", Ty::Ref(Kind::Config), "The config to mount."),
        attr("secret", Ty::Ref(Kind::Secret), "The secret to mount."),
        req("path", Ty::Str, "Mount path in this container."),
    ],
    blocks: &[],
    repeated: true,
};

static CONTAINER: BlockSchema = BlockSchema {
    name: "container",
    doc: "Another container in the pod (a sidecar), after the main one.",
    label: LabelRule::Required,
    attrs: &[
        req("image", Ty::Str, "The container image, with a tag."),
        attr("command", Ty::StrList, "The container's entrypoint."),
        attr("args", Ty::StrList, "Arguments to the entrypoint."),
        attr("ports", Ty::IntMap, "Container ports by name."),
        attr("env", Ty::EnvMap, "Environment variables; secret/config key references become valueFrom."),
    ],
    blocks: &[&RESOURCES, &PROBE, &LIVENESS, &STARTUP, &CONTAINER_MOUNT, &CONTAINER_SECURITY],
    repeated: true,
};

static INIT: BlockSchema = BlockSchema {
    name: "init",
    doc: "An init container: runs to completion before the pod's containers start, in declaration order.",
    label: LabelRule::Required,
    attrs: &[
        req("image", Ty::Str, "The container image, with a tag."),
        attr("command", Ty::StrList, "The container's entrypoint."),
        attr("args", Ty::StrList, "Arguments to the entrypoint."),
        attr("env", Ty::EnvMap, "Environment variables; secret/config key references become valueFrom."),
    ],
    blocks: &[&RESOURCES, &CONTAINER_MOUNT, &CONTAINER_SECURITY],
    repeated: true,
};

static AUTOSCALE: BlockSchema = block(
    "autoscale",
    "A HorizontalPodAutoscaler `<name>` that owns the replica count (autoscaling/v2).",
    &[
        def("min", Ty::Int { min: 1, max: i32::MAX as i64 }, "1", "Fewest replicas (minReplicas)."),
        req("max", Ty::Int { min: 1, max: i32::MAX as i64 }, "Most replicas (maxReplicas)."),
        attr(
            "cpu",
            Ty::Int { min: 1, max: i32::MAX as i64 },
            "Target average CPU utilization, in percent of the requests (the API server's default is 80 when neither target is set).",
        ),
        attr("memory", Ty::Int { min: 1, max: i32::MAX as i64 }, "Target average memory utilization, in percent of the requests."),
    ],
);

static DISRUPTION: BlockSchema = block(
    "disruption",
    "A PodDisruptionBudget `<name>`: how many pods voluntary evictions (node drains) may take at once.",
    &[
        attr("max_unavailable", Ty::IntOrPercent, "Pods that may be evicted at once (number or percentage)."),
        attr("min_available", Ty::IntOrPercent, "Pods that must stay available (number or percentage)."),
    ],
);

static UPDATE: BlockSchema = block(
    "update",
    "Rolling update settings.",
    &[
        attr("max_unavailable", Ty::IntOrPercent, "Pods that may be unavailable (number or percentage)."),
        attr("max_surge", Ty::IntOrPercent, "Extra pods during an update (number or percentage)."),
    ],
);

pub static WORKLOAD: BlockSchema = BlockSchema {
    name: "workload",
    doc: "A Deployment, StatefulSet, DaemonSet, Job or CronJob: a main container, its sidecars and init containers.",
    label: LabelRule::Required,
    attrs: &[
        req("namespace", Ty::RefOrStr(Kind::Namespace), "The namespace it runs in."),
        attr(
            "kind",
            Ty::Enum(&["deployment", "statefulset", "daemonset", "job", "cronjob"]),
            "What runs the pods (default: statefulset with a volume, else deployment).",
        ),
        req("image", Ty::Str, "The container image, with a tag."),
        attr("command", Ty::StrList, "The container's entrypoint."),
        attr("args", Ty::StrList, "Arguments to the entrypoint."),
        attr("replicas", NON_NEG, "Number of pods; unset lets an autoscaler own it (Kubernetes default 1)."),
        attr("ports", Ty::IntMap, "Container ports by name (`{ http = 8080 }`), or unnamed (`[8080]`)."),
        attr("env", Ty::EnvMap, "Environment variables; secret/config key references become valueFrom."),
        attr("service_account", Ty::RefOrStr(Kind::ServiceAccount), "The pod's service account: a `service_account` block or a name."),
        attr(
            "selector",
            Ty::StrMap,
            "The labels that select the pods (default `{ \"app.kubernetes.io/name\" = <name> }`); set, the pods carry exactly it and `labels`.",
        ),
        attr("container_name", Ty::Str, "The main container's name (default: the workload's)."),
        attr("pod_annotations", Ty::StrMap, "Annotations on the pods only (the workload's `annotations` go on its objects and its pods)."),
        attr("grace_period", NON_NEG, "Seconds a stopping pod gets before it is killed (terminationGracePeriodSeconds; Kubernetes default 30)."),
        attr("node_selector", Ty::StrMap, "Node labels the pods must match."),
        attr("schedule", Ty::Str, "When a cronjob runs: 5 cron fields (`\"0 3 * * *\"`) or a macro such as `@daily`."),
        attr("retries", NON_NEG, "Retries before a job or cronjob run fails (backoffLimit; Kubernetes default 6)."),
        def("wait", Ty::Bool, "true", "Whether apply waits for the rollout (for a job: its completion; never for a cronjob)."),
    ],
    blocks: &[
        &RESOURCES,
        &VOLUME,
        &MOUNT,
        &EXPOSE,
        &PROBE,
        &LIVENESS,
        &STARTUP,
        &UPDATE,
        &SECURITY,
        &CONTAINER,
        &INIT,
        &AUTOSCALE,
        &DISRUPTION,
    ],
    repeated: false,
};

pub static SERVICE_ACCOUNT: BlockSchema = BlockSchema {
    name: "service_account",
    doc: "A ServiceAccount: the identity a workload's pods run as (`service_account = service_account.NAME`).",
    label: LabelRule::Required,
    attrs: &[req("namespace", Ty::RefOrStr(Kind::Namespace), "The namespace.")],
    blocks: &[],
    repeated: false,
};

pub static CONFIG: BlockSchema = BlockSchema {
    name: "config",
    doc: "A ConfigMap.",
    label: LabelRule::Required,
    attrs: &[req("namespace", Ty::RefOrStr(Kind::Namespace), "The namespace."), attr("data", Ty::StrMap, "Keys and their string values.")],
    blocks: &[],
    repeated: false,
};

pub static SECRET: BlockSchema = BlockSchema {
    name: "secret",
    doc: "A Secret; every value is sensitive.",
    label: LabelRule::Required,
    attrs: &[
        req("namespace", Ty::RefOrStr(Kind::Namespace), "The namespace."),
        attr("data", Ty::StrMap, "Keys and their values (base64-encoded by the compiler)."),
        def("type", Ty::Str, "\"Opaque\"", "The Secret type."),
    ],
    blocks: &[],
    repeated: false,
};

static ROUTE_PATH: BlockSchema = BlockSchema {
    name: "path",
    doc: "A URL path prefix (the label, starting with `/`) and the workload that serves it.",
    label: LabelRule::Required,
    attrs: &[
        req("to", Ty::Ref(Kind::Workload), "The workload whose Service serves the path (it needs `expose`)."),
        attr("port", Ty::Int { min: 1, max: 65535 }, "The Service port (default: the workload's `expose` port)."),
    ],
    blocks: &[],
    repeated: true,
};

pub static ROUTE: BlockSchema = BlockSchema {
    name: "route",
    doc: "HTTP routing into the cluster: an Ingress `<name>` sending one host's paths to workloads.",
    label: LabelRule::Required,
    attrs: &[
        req("namespace", Ty::RefOrStr(Kind::Namespace), "The namespace of the Ingress and of the workloads it routes to."),
        req("host", Ty::Str, "The host name clients ask for (`shop.example.com`, or `*.example.com`)."),
        attr("class", Ty::Str, "The ingress class (ingressClassName; default: the cluster's default class)."),
        attr("tls", Ty::Ref(Kind::Secret), "A secret of type `kubernetes.io/tls`: serve HTTPS for `host` with its certificate."),
    ],
    blocks: &[&ROUTE_PATH],
    repeated: false,
};

pub static MANIFEST: BlockSchema = BlockSchema {
    name: "manifest",
    doc: "Any Kubernetes object, from YAML (`source`) or a literal `object`.",
    label: LabelRule::Required,
    attrs: &[
        attr("source", Ty::Str, "YAML text with one or more documents (usually `file(\"x.yaml\")`)."),
        attr("object", Ty::Any, "The object as a map."),
        attr("namespace", Ty::RefOrStr(Kind::Namespace), "Sets (or checks) the objects' namespace."),
    ],
    blocks: &[],
    repeated: false,
};

pub static POLICY: BlockSchema = BlockSchema {
    name: "policy",
    doc: "A policy that judges every plan: `std:…` built in, or a WebAssembly component.",
    label: LabelRule::Required,
    attrs: &[
        req("source", Ty::Str, "`std:NAME` or a path to a .wasm component."),
        attr("sha256", Ty::Str, "Pin of the component's bytes."),
        attr("config", Ty::Any, "Handed to the policy as JSON."),
        def("enforce", Ty::Enum(&["deny", "warn"]), "\"deny\"", "`warn` downgrades denials to warnings."),
    ],
    blocks: &[],
    repeated: false,
};

pub static MOVED: BlockSchema = BlockSchema {
    name: "moved",
    doc: "Records a rename of a direct-mode pool, so the planner renames instead of recreating.",
    label: LabelRule::None,
    attrs: &[req("from", Ty::Str, "The old address, e.g. \"pool.old\"."), req("to", Ty::Ref(Kind::Pool), "The new resource.")],
    blocks: &[],
    repeated: true,
};
