//! Object schemas: the OpenAPI schema of every built-in kind (generated from `k8s-openapi`'s
//! types, so it is Kubernetes' own) and of custom kinds (their CRD's `openAPIV3Schema`), and the
//! structural check the API server runs on every write: unknown fields (pruned, warned about or
//! refused per `fieldValidation`), wrong types and, for custom kinds, enums and required fields.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value};

use crate::registry::ResourceType;

/// One problem found in an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Path in the object, dotted: `spec.template.spec.containers[0].imagePullPolicy`.
    pub path: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// The kinds of problems.
#[derive(Debug, Clone, PartialEq)]
pub enum ProblemKind {
    /// A field the schema does not declare (removed from the object).
    Unknown,
    /// A value of the wrong JSON type.
    Type {
        /// The type the schema wants.
        expected: String,
        /// The type given.
        got: &'static str,
    },
    /// A value outside an `enum`.
    Enum(Vec<Value>),
    /// A required field is missing.
    Required,
}

impl Problem {
    /// The message as the API server words it for a field error.
    pub fn message(&self) -> String {
        match &self.kind {
            ProblemKind::Unknown => format!("unknown field \"{}\"", self.path),
            ProblemKind::Type { expected, got } => {
                format!("{}: Invalid value: \"{got}\": {} in body must be of type {expected}", self.path, self.path)
            }
            ProblemKind::Enum(values) => {
                let allowed: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                format!("{}: Unsupported value: supported values: {}", self.path, allowed.join(", "))
            }
            ProblemKind::Required => format!("{}: Required value", self.path),
        }
    }
}

/// A schema document and the node at which an object starts.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Root document (its `$defs` resolve `$ref`s).
    root: Arc<Value>,
    /// Whether this is a CRD structural schema (enums and required are checked).
    structural: bool,
}

impl Schema {
    /// The schema of a served type, if the sandbox has one.
    pub fn of(rtype: &ResourceType) -> Option<Schema> {
        if let Some(schema) = &rtype.crd_schema {
            return Some(Schema { root: schema.clone(), structural: true });
        }
        builtin(&rtype.group, &rtype.kind).map(|root| Schema { root, structural: false })
    }

    /// The whole document (for OpenAPI output).
    pub fn document(&self) -> &Value {
        &self.root
    }

    /// Checks `obj`, removing unknown fields from it, and returns every problem.
    pub fn check_and_prune(&self, obj: &mut Value) -> Vec<Problem> {
        let mut problems = Vec::new();
        let root = self.root.clone();
        // The type and object metadata are the API server's, whatever a CRD's schema says.
        let saved: Vec<(&str, Value)> = if self.structural {
            ["apiVersion", "kind", "metadata"].into_iter().filter_map(|k| obj.get(k).map(|v| (k, v.clone()))).collect()
        } else {
            Vec::new()
        };
        self.walk(&root, obj, &mut String::new(), &mut problems, 0);
        if let Some(map) = obj.as_object_mut() {
            for (k, v) in saved {
                map.insert(k.to_owned(), v);
            }
        }
        problems.retain(|p| {
            !(self.structural && ["apiVersion", "kind", "metadata"].iter().any(|k| p.path == *k || p.path.starts_with(&format!("{k}."))))
        });
        problems
    }

    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
                Some(name) => match self.root.get("$defs").and_then(|d| d.get(name)) {
                    Some(target) => node = target,
                    None => return node,
                },
                None => return node,
            }
        }
        node
    }

    fn def_name(node: &Value) -> Option<&str> {
        node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/"))
    }

    fn walk(&self, node: &Value, value: &mut Value, path: &mut String, problems: &mut Vec<Problem>, depth: usize) {
        if value.is_null() || depth > 64 {
            return;
        }
        let def = Self::def_name(node);
        let node = self.resolve(node);
        match def {
            Some(name) if name.ends_with("api.resource.Quantity") => {
                if !(value.is_string() || value.is_number()) {
                    problems.push(type_problem(path, "string", value));
                }
                return;
            }
            Some(name) if name.ends_with("util.intstr.IntOrString") => {
                if !(value.is_string() || value.is_i64() || value.is_u64()) {
                    problems.push(type_problem(path, "integer or string", value));
                }
                return;
            }
            Some(name) if name.ends_with("runtime.RawExtension") || name.ends_with("apiextensions.v1.JSON") => return,
            _ => {}
        }
        if node.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
            if !(value.is_string() || value.is_i64() || value.is_u64()) {
                problems.push(type_problem(path, "integer or string", value));
            }
            return;
        }
        if self.structural {
            if let Some(options) = node.get("enum").and_then(Value::as_array) {
                if !options.contains(value) {
                    problems.push(Problem { path: path.clone(), kind: ProblemKind::Enum(options.clone()) });
                }
            }
        }
        let preserve = node.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool) == Some(true);
        match node.get("type").and_then(Value::as_str) {
            Some("object") => {
                let Some(object) = value.as_object_mut() else {
                    problems.push(type_problem(path, "object", value));
                    return;
                };
                let properties = node.get("properties").and_then(Value::as_object);
                let additional = node.get("additionalProperties").filter(|a| a.is_object());
                if self.structural {
                    for required in node.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                        if object.get(required).is_none_or(Value::is_null) {
                            problems.push(Problem { path: join(path, required), kind: ProblemKind::Required });
                        }
                    }
                }
                if properties.is_none() && additional.is_none() {
                    return; // an open object (`metadata: {type: object}` in CRDs, free-form maps)
                }
                walk_object(self, object, properties, additional, preserve, path, problems, depth);
            }
            Some("array") => {
                let Some(items) = value.as_array_mut() else {
                    problems.push(type_problem(path, "array", value));
                    return;
                };
                if let Some(item_schema) = node.get("items") {
                    for (i, item) in items.iter_mut().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        self.walk(item_schema, item, path, problems, depth + 1);
                        path.truncate(len);
                    }
                }
            }
            Some("string") if !value.is_string() => problems.push(type_problem(path, "string", value)),
            Some("integer") if !(value.is_i64() || value.is_u64()) => problems.push(type_problem(path, "integer", value)),
            Some("number") if !value.is_number() => problems.push(type_problem(path, "number", value)),
            Some("boolean") if !value.is_boolean() => problems.push(type_problem(path, "boolean", value)),
            _ => {}
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn walk_object(
    schema: &Schema,
    object: &mut Map<String, Value>,
    properties: Option<&Map<String, Value>>,
    additional: Option<&Value>,
    preserve: bool,
    path: &mut String,
    problems: &mut Vec<Problem>,
    depth: usize,
) {
    let mut unknown = Vec::new();
    for (key, field) in object.iter_mut() {
        let len = path.len();
        *path = join(path, key);
        if let Some(child) = properties.and_then(|p| p.get(key)) {
            schema.walk(child, field, path, problems, depth + 1);
        } else if let Some(child) = additional {
            schema.walk(child, field, path, problems, depth + 1);
        } else if !preserve {
            unknown.push(key.clone());
            problems.push(Problem { path: path.clone(), kind: ProblemKind::Unknown });
        }
        path.truncate(len);
    }
    for key in unknown {
        object.remove(&key);
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn type_problem(path: &str, expected: &str, value: &Value) -> Problem {
    let got = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    Problem { path: path.to_owned(), kind: ProblemKind::Type { expected: expected.to_owned(), got } }
}

/// The generated schema of a built-in kind, cached.
pub fn builtin(group: &str, kind: &str) -> Option<Arc<Value>> {
    type Cache = Mutex<HashMap<(String, String), Arc<Value>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (group.to_owned(), kind.to_owned());
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Some(hit);
    }
    let schema = Arc::new(generate(group, kind)?);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, schema.clone());
    }
    Some(schema)
}

fn generate(group: &str, kind: &str) -> Option<Value> {
    use k8s_openapi::api::{apps, autoscaling, batch, coordination, core, events, networking, policy, rbac, storage};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
    macro_rules! schema {
        ($t:ty) => {
            serde_json::to_value(schemars::schema_for!($t)).ok()
        };
    }
    match (group, kind) {
        ("", "Namespace") => schema!(core::v1::Namespace),
        ("", "ConfigMap") => schema!(core::v1::ConfigMap),
        ("", "Secret") => schema!(core::v1::Secret),
        ("", "Service") => schema!(core::v1::Service),
        ("", "ServiceAccount") => schema!(core::v1::ServiceAccount),
        ("", "Pod") => schema!(core::v1::Pod),
        ("", "PersistentVolumeClaim") => schema!(core::v1::PersistentVolumeClaim),
        ("", "PersistentVolume") => schema!(core::v1::PersistentVolume),
        ("", "Event") => schema!(core::v1::Event),
        ("", "ResourceQuota") => schema!(core::v1::ResourceQuota),
        ("", "LimitRange") => schema!(core::v1::LimitRange),
        ("", "Endpoints") => schema!(core::v1::Endpoints),
        ("", "Node") => schema!(core::v1::Node),
        ("apps", "Deployment") => schema!(apps::v1::Deployment),
        ("apps", "StatefulSet") => schema!(apps::v1::StatefulSet),
        ("apps", "ReplicaSet") => schema!(apps::v1::ReplicaSet),
        ("apps", "DaemonSet") => schema!(apps::v1::DaemonSet),
        ("apps", "ControllerRevision") => schema!(apps::v1::ControllerRevision),
        ("batch", "Job") => schema!(batch::v1::Job),
        ("batch", "CronJob") => schema!(batch::v1::CronJob),
        ("storage.k8s.io", "StorageClass") => schema!(storage::v1::StorageClass),
        ("coordination.k8s.io", "Lease") => schema!(coordination::v1::Lease),
        ("events.k8s.io", "Event") => schema!(events::v1::Event),
        ("networking.k8s.io", "Ingress") => schema!(networking::v1::Ingress),
        ("networking.k8s.io", "NetworkPolicy") => schema!(networking::v1::NetworkPolicy),
        ("networking.k8s.io", "IngressClass") => schema!(networking::v1::IngressClass),
        ("policy", "Eviction") => schema!(policy::v1::Eviction),
        ("policy", "PodDisruptionBudget") => schema!(policy::v1::PodDisruptionBudget),
        ("autoscaling", "HorizontalPodAutoscaler") => schema!(autoscaling::v2::HorizontalPodAutoscaler),
        ("rbac.authorization.k8s.io", "Role") => schema!(rbac::v1::Role),
        ("rbac.authorization.k8s.io", "RoleBinding") => schema!(rbac::v1::RoleBinding),
        ("rbac.authorization.k8s.io", "ClusterRole") => schema!(rbac::v1::ClusterRole),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => schema!(rbac::v1::ClusterRoleBinding),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => schema!(apiextensions::v1::CustomResourceDefinition),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment_schema() -> Schema {
        Schema { root: builtin("apps", "Deployment").unwrap(), structural: false }
    }

    #[test]
    fn unknown_fields_are_found_at_any_depth_and_pruned() {
        let mut obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replica": 3, "template": {"spec": {"containers": [{"name": "web", "image": "x", "imagePullPolicyy": "Always"}]}}}
        });
        let problems = deployment_schema().check_and_prune(&mut obj);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["spec.replica", "spec.template.spec.containers[0].imagePullPolicyy"]);
        assert!(obj["spec"].get("replica").is_none());
        assert_eq!(obj["spec"]["template"]["spec"]["containers"][0], json!({"name": "web", "image": "x"}));
    }

    #[test]
    fn wrong_types_are_reported_and_quantities_take_numbers() {
        let mut obj = json!({
            "spec": {"replicas": "three", "template": {"spec": {"containers": [{"name": "web", "resources": {"limits": {"cpu": 1}}}]}}}
        });
        let problems = deployment_schema().check_and_prune(&mut obj);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "spec.replicas");
        assert_eq!(problems[0].kind, ProblemKind::Type { expected: "integer".into(), got: "string" });
    }

    #[test]
    fn crd_schemas_check_enums_and_required_and_keep_preserved_fields() {
        let schema = Schema {
            root: Arc::new(json!({"type": "object", "properties": {
                "spec": {"type": "object", "required": ["size"], "properties": {"mode": {"type": "string", "enum": ["a", "b"]}, "size": {"type": "integer"}}},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}})),
            structural: true,
        };
        let mut obj = json!({"spec": {"mode": "c", "extra": 1}, "status": {"anything": {"goes": true}}});
        let problems = schema.check_and_prune(&mut obj);
        let kinds: Vec<_> = problems.iter().map(|p| (p.path.as_str(), p.kind.clone())).collect();
        assert!(kinds.contains(&("spec.size", ProblemKind::Required)), "{kinds:?}");
        assert!(kinds.contains(&("spec.extra", ProblemKind::Unknown)), "{kinds:?}");
        assert!(kinds.iter().any(|(p, k)| *p == "spec.mode" && matches!(k, ProblemKind::Enum(_))), "{kinds:?}");
        assert_eq!(obj["status"]["anything"]["goes"], json!(true));
    }
}
