//! The resource types the sandbox serves: built-in kinds and kinds added by CRDs.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::shape::{BuiltinShape, SchemaShape, Shape};

/// One served resource type (one group/version/resource).
#[derive(Clone)]
pub struct ResourceType {
    /// API group (`""` for core).
    pub group: String,
    /// Version served (`v1`).
    pub version: String,
    /// Kind (`Deployment`).
    pub kind: String,
    /// Plural resource name used in paths (`deployments`).
    pub plural: String,
    /// Singular name (`deployment`).
    pub singular: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Short names for kubectl (`deploy`).
    pub short_names: Vec<String>,
    /// Whether `status` is a subresource (main writes ignore it, `/status` writes only it).
    pub has_status: bool,
    /// Whether `metadata.generation` is maintained.
    pub has_generation: bool,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Whether only listing and getting are allowed (none today; kept for discovery verbs).
    pub read_only: bool,
    /// How lists and maps merge.
    pub shape: Arc<dyn Shape>,
    /// The CRD's `openAPIV3Schema` for custom kinds.
    pub crd_schema: Option<Arc<Value>>,
    /// The CRD's `additionalPrinterColumns` for custom kinds.
    pub printer_columns: Vec<Value>,
}

impl std::fmt::Debug for ResourceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResourceType({}/{} {})", self.group, self.version, self.plural)
    }
}

impl ResourceType {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The key objects of this type are stored under.
    pub fn key(&self) -> TypeKey {
        TypeKey { group: self.group.clone(), plural: self.plural.clone() }
    }

    /// Whether this is a custom resource.
    pub fn is_custom(&self) -> bool {
        self.crd_schema.is_some()
    }

    /// The entry in a group-version resource list.
    pub fn discovery_entry(&self) -> Value {
        let mut entry = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        });
        if let Some(map) = entry.as_object_mut() {
            if !self.short_names.is_empty() {
                map.insert("shortNames".into(), json!(self.short_names));
            }
            if !self.categories.is_empty() {
                map.insert("categories".into(), json!(self.categories));
            }
            map.insert("storageVersionHash".into(), json!(storage_hash(&self.group, &self.plural)));
        }
        entry
    }
}

/// The identity of a stored resource type: group and plural, independent of version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct TypeKey {
    /// API group.
    pub group: String,
    /// Plural resource name.
    pub plural: String,
}

fn storage_hash(group: &str, plural: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{group}/{plural}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest.get(..8).unwrap_or_default())
}

/// `(group, version, kind, plural, namespaced, short names, status subresource, generation, categories)`.
type Builtin = (&'static str, &'static str, &'static str, &'static str, bool, &'static [&'static str], bool, bool, bool);

const BUILTINS: &[Builtin] = &[
    ("", "v1", "Namespace", "namespaces", false, &["ns"], true, false, false),
    ("", "v1", "ConfigMap", "configmaps", true, &["cm"], false, false, false),
    ("", "v1", "Secret", "secrets", true, &[], false, false, false),
    ("", "v1", "Service", "services", true, &["svc"], true, false, true),
    ("", "v1", "ServiceAccount", "serviceaccounts", true, &["sa"], false, false, false),
    ("", "v1", "Pod", "pods", true, &["po"], true, true, true),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, &["pvc"], true, false, false),
    ("", "v1", "PersistentVolume", "persistentvolumes", false, &["pv"], true, false, false),
    ("", "v1", "Event", "events", true, &["ev"], false, false, false),
    ("", "v1", "ResourceQuota", "resourcequotas", true, &["quota"], true, false, false),
    ("", "v1", "LimitRange", "limitranges", true, &["limits"], false, false, false),
    ("", "v1", "Endpoints", "endpoints", true, &["ep"], false, false, false),
    ("", "v1", "Node", "nodes", false, &["no"], true, false, false),
    ("apps", "v1", "Deployment", "deployments", true, &["deploy"], true, true, true),
    ("apps", "v1", "StatefulSet", "statefulsets", true, &["sts"], true, true, true),
    ("apps", "v1", "ReplicaSet", "replicasets", true, &["rs"], true, true, true),
    ("apps", "v1", "DaemonSet", "daemonsets", true, &["ds"], true, true, true),
    ("apps", "v1", "ControllerRevision", "controllerrevisions", true, &[], false, false, false),
    ("batch", "v1", "Job", "jobs", true, &[], true, true, true),
    ("batch", "v1", "CronJob", "cronjobs", true, &["cj"], true, true, true),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, &["sc"], false, false, false),
    ("coordination.k8s.io", "v1", "Lease", "leases", true, &[], false, false, false),
    ("events.k8s.io", "v1", "Event", "events", true, &["ev"], false, false, false),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true, &["ing"], true, true, false),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, &["netpol"], false, true, false),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, &[], false, true, false),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, &["pdb"], true, true, false),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, &["hpa"], true, false, true),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", true, &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, &[], false, false, false),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, &["crd", "crds"], true, true, false),
];

/// All resource types the sandbox serves right now.
#[derive(Debug, Clone)]
pub struct Registry {
    types: Vec<ResourceType>,
}

impl Registry {
    /// The built-in types plus one type per served version of each CRD given.
    pub fn new<'a>(crds: impl IntoIterator<Item = &'a Value>) -> Registry {
        let shape: Arc<dyn Shape> = Arc::new(BuiltinShape);
        let mut types: Vec<ResourceType> = BUILTINS
            .iter()
            .map(|&(group, version, kind, plural, namespaced, short, has_status, has_generation, all)| ResourceType {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                plural: plural.into(),
                singular: kind.to_lowercase(),
                namespaced,
                short_names: short.iter().map(|s| (*s).to_owned()).collect(),
                has_status,
                has_generation,
                categories: if all { vec!["all".to_owned()] } else { Vec::new() },
                read_only: false,
                shape: shape.clone(),
                crd_schema: None,
                printer_columns: Vec::new(),
            })
            .collect();
        for crd in crds {
            types.extend(types_of_crd(crd));
        }
        Registry { types }
    }

    /// Every served type.
    pub fn types(&self) -> &[ResourceType] {
        &self.types
    }

    /// The type served at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// The type for an `apiVersion` and `kind`.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        let (group, version) = split_api_version(api_version);
        self.types.iter().find(|t| t.group == group && t.version == version && t.kind == kind)
    }

    /// Any version of a stored type (the first served).
    pub fn find_key(&self, key: &TypeKey) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.group == key.group && t.plural == key.plural)
    }

    /// Groups with their versions, in registration order (core excluded).
    pub fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in self.types.iter().filter(|t| !t.group.is_empty()) {
            let versions = groups.entry(t.group.clone()).or_default();
            if !versions.contains(&t.version) {
                versions.push(t.version.clone());
            }
        }
        groups
    }
}

/// `("apps", "v1")` from `apps/v1`, `("", "v1")` from `v1`.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// The resource types a CRD object defines: one per served version.
pub fn types_of_crd(crd: &Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let (Some(group), Some(kind), Some(plural)) =
        (spec["group"].as_str(), spec["names"]["kind"].as_str(), spec["names"]["plural"].as_str())
    else {
        return Vec::new();
    };
    let singular = spec["names"]["singular"].as_str().map_or_else(|| kind.to_lowercase(), str::to_owned);
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let strings = |v: &Value| -> Vec<String> { v.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect() };
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .filter_map(|v| {
            let version = v["name"].as_str()?;
            let schema = v["schema"]["openAPIV3Schema"].clone();
            Some(ResourceType {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                plural: plural.into(),
                singular: singular.clone(),
                namespaced,
                short_names: strings(&spec["names"]["shortNames"]),
                has_status: v["subresources"]["status"].is_object(),
                has_generation: true,
                categories: strings(&spec["names"]["categories"]),
                read_only: false,
                shape: Arc::new(SchemaShape::new(schema.clone())),
                crd_schema: Some(Arc::new(if schema.is_null() {
                    json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
                } else {
                    schema
                })),
                printer_columns: v["additionalPrinterColumns"].as_array().cloned().unwrap_or_default(),
            })
        })
        .collect()
}
