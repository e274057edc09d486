//! How lists and maps inside an object merge: the `x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type` and `patchMergeKey` facts that
//! server-side apply, managed fields and strategic merge patch depend on.
//!
//! Paths are the object's field names from the root, with list items left out:
//! `spec.template.spec.containers.ports` names every container's `ports` list.

use serde_json::Value;

/// How a list merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole (the default for lists the schema says nothing about).
    Atomic,
    /// A set of scalars, each item owned on its own.
    Set,
    /// A list of objects keyed by these fields (`x-kubernetes-list-map-keys`).
    Map(Vec<String>),
}

/// The merge facts of one kind of object.
pub trait Shape: Send + Sync {
    /// How the list at `path` merges.
    fn list_type(&self, path: &[&str]) -> ListType;
    /// The strategic-merge-patch key of the list at `path`, if it merges by key
    /// (`patchMergeKey`); `None` means a strategic merge patch replaces it.
    fn merge_key(&self, path: &[&str]) -> Option<String>;
    /// Whether the map or struct at `path` is atomic (`x-kubernetes-map-type: atomic`).
    fn map_is_atomic(&self, path: &[&str]) -> bool;
}

/// The shape of built-in kinds: Kubernetes' own list types for the fields that have them,
/// matched by path suffix so that a pod template anywhere (Deployment, StatefulSet, Pod, Job…)
/// gets the same rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinShape;

/// `(path suffix, list-map keys, strategic merge key)`; a list of one scalar set entry uses an
/// empty key list and is a set.
const LIST_MAPS: &[(&[&str], &[&str], Option<&str>)] = &[
    (&["containers", "ports"], &["containerPort", "protocol"], Some("containerPort")),
    (&["initContainers", "ports"], &["containerPort", "protocol"], Some("containerPort")),
    (&["ephemeralContainers", "ports"], &["containerPort", "protocol"], Some("containerPort")),
    (&["containers", "env"], &["name"], Some("name")),
    (&["initContainers", "env"], &["name"], Some("name")),
    (&["ephemeralContainers", "env"], &["name"], Some("name")),
    (&["containers", "volumeMounts"], &["mountPath"], Some("mountPath")),
    (&["initContainers", "volumeMounts"], &["mountPath"], Some("mountPath")),
    (&["containers", "volumeDevices"], &["devicePath"], Some("devicePath")),
    (&["initContainers", "volumeDevices"], &["devicePath"], Some("devicePath")),
    (&["containers", "resizePolicy"], &["resourceName"], None),
    (&["spec", "containers"], &["name"], Some("name")),
    (&["spec", "initContainers"], &["name"], Some("name")),
    (&["spec", "ephemeralContainers"], &["name"], Some("name")),
    (&["spec", "volumes"], &["name"], Some("name")),
    (&["spec", "imagePullSecrets"], &["name"], Some("name")),
    (&["spec", "hostAliases"], &["ip"], Some("ip")),
    (&["spec", "topologySpreadConstraints"], &["topologyKey", "whenUnsatisfiable"], Some("topologyKey")),
    (&["spec", "resourceClaims"], &["name"], Some("name")),
    (&["spec", "schedulingGates"], &["name"], Some("name")),
    (&["metadata", "ownerReferences"], &["uid"], Some("uid")),
    (&["status", "conditions"], &["type"], Some("type")),
    (&["status", "containerStatuses"], &["name"], None),
    (&["status", "initContainerStatuses"], &["name"], None),
];

/// Paths (exact, from the root) of lists that are keyed but do not sit under a pod template.
const ROOT_LIST_MAPS: &[(&[&str], &[&str], Option<&str>)] = &[(&["spec", "ports"], &["port", "protocol"], Some("port"))];

fn ends_with(path: &[&str], suffix: &[&str]) -> bool {
    path.len() >= suffix.len() && path.get(path.len() - suffix.len()..) == Some(suffix)
}

impl BuiltinShape {
    fn lookup(path: &[&str]) -> Option<(&'static [&'static str], Option<&'static str>)> {
        if let Some((_, keys, key)) = ROOT_LIST_MAPS.iter().find(|(p, _, _)| *p == path) {
            return Some((keys, *key));
        }
        LIST_MAPS.iter().find(|(suffix, _, _)| ends_with(path, suffix)).map(|(_, keys, key)| (*keys, *key))
    }
}

impl Shape for BuiltinShape {
    fn list_type(&self, path: &[&str]) -> ListType {
        if path == ["metadata", "finalizers"] || path == ["spec", "finalizers"] {
            return ListType::Set;
        }
        match Self::lookup(path) {
            Some((keys, _)) => ListType::Map(keys.iter().map(|k| (*k).to_owned()).collect()),
            None => ListType::Atomic,
        }
    }

    fn merge_key(&self, path: &[&str]) -> Option<String> {
        Self::lookup(path).and_then(|(_, key)| key).map(str::to_owned)
    }

    fn map_is_atomic(&self, path: &[&str]) -> bool {
        // Label selectors (`+structType=atomic`) and Service's `spec.selector` (`+mapType=atomic`).
        matches!(path.last(), Some(&"selector") | Some(&"labelSelector") | Some(&"namespaceSelector"))
    }
}

/// The shape of a custom resource, read from its CRD's `openAPIV3Schema`.
#[derive(Debug, Clone)]
pub struct SchemaShape {
    schema: Value,
}

impl SchemaShape {
    /// A shape over the structural schema of one CRD version.
    pub fn new(schema: Value) -> SchemaShape {
        SchemaShape { schema }
    }

    /// The schema node at `path`, stepping through `items` of arrays on the way.
    fn node(&self, path: &[&str]) -> Option<&Value> {
        let mut node = &self.schema;
        for field in path {
            if node.get("type").and_then(Value::as_str) == Some("array") {
                node = node.get("items")?;
            }
            node = node.get("properties")?.get(*field)?;
        }
        Some(node)
    }
}

impl Shape for SchemaShape {
    fn list_type(&self, path: &[&str]) -> ListType {
        if path == ["metadata", "finalizers"] {
            return ListType::Set;
        }
        if path == ["metadata", "ownerReferences"] {
            return ListType::Map(vec!["uid".to_owned()]);
        }
        let Some(node) = self.node(path) else { return ListType::Atomic };
        match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => ListType::Set,
            Some("map") => {
                let keys = node.get("x-kubernetes-list-map-keys").and_then(Value::as_array);
                ListType::Map(keys.into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect())
            }
            _ => ListType::Atomic,
        }
    }

    fn merge_key(&self, _path: &[&str]) -> Option<String> {
        // Strategic merge patch is not supported for custom resources (as in Kubernetes).
        None
    }

    fn map_is_atomic(&self, path: &[&str]) -> bool {
        self.node(path).and_then(|n| n.get("x-kubernetes-map-type")).and_then(Value::as_str) == Some("atomic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_template_lists_are_keyed_wherever_the_template_sits() {
        let s = BuiltinShape;
        let containers = ["spec", "template", "spec", "containers"];
        assert_eq!(s.list_type(&containers), ListType::Map(vec!["name".into()]));
        assert_eq!(s.merge_key(&containers).as_deref(), Some("name"));
        let ports = ["spec", "template", "spec", "containers", "ports"];
        assert_eq!(s.list_type(&ports), ListType::Map(vec!["containerPort".into(), "protocol".into()]));
        assert_eq!(s.merge_key(&ports).as_deref(), Some("containerPort"));
        assert_eq!(s.list_type(&["spec", "containers", "env"]), ListType::Map(vec!["name".into()]));
        assert_eq!(s.list_type(&["spec", "ports"]), ListType::Map(vec!["port".into(), "protocol".into()]));
        assert_eq!(s.list_type(&["spec", "template", "spec", "containers", "args"]), ListType::Atomic);
        assert_eq!(s.merge_key(&["spec", "template", "spec", "tolerations"]), None);
        assert_eq!(s.list_type(&["metadata", "finalizers"]), ListType::Set);
        assert!(s.map_is_atomic(&["spec", "selector"]));
        assert!(!s.map_is_atomic(&["spec", "template", "spec", "nodeSelector"]));
    }

    #[test]
    fn crd_schemas_declare_their_own_list_types() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {
                "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                          "items": {"type": "object", "properties": {"tags": {"type": "array", "x-kubernetes-list-type": "set"}}}},
                "plain": {"type": "array"}
            }}}
        });
        let s = SchemaShape::new(schema);
        assert_eq!(s.list_type(&["spec", "items"]), ListType::Map(vec!["id".into()]));
        assert_eq!(s.list_type(&["spec", "items", "tags"]), ListType::Set);
        assert_eq!(s.list_type(&["spec", "plain"]), ListType::Atomic);
        assert_eq!(s.list_type(&["spec", "missing"]), ListType::Atomic);
    }

    /// Every list of objects in a built-in kind's schema (status left out), as dotted paths.
    fn object_lists(root: &Value, node: &Value, path: &mut Vec<String>, seen: &mut Vec<String>, out: &mut Vec<String>) {
        let mut node = node;
        let mut def = None;
        while let Some(name) = node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            def = Some(name.to_owned());
            match root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => node = target,
                None => return,
            }
        }
        if let Some(name) = &def {
            if seen.contains(name) || path.len() > 24 {
                return;
            }
            seen.push(name.clone());
        }
        match node.get("type").and_then(Value::as_str) {
            Some("object") => {
                for (key, child) in node.get("properties").and_then(Value::as_object).into_iter().flatten() {
                    if path.is_empty() && key == "status" {
                        continue;
                    }
                    path.push(key.clone());
                    object_lists(root, child, path, seen, out);
                    path.pop();
                }
            }
            Some("array") => {
                if let Some(items) = node.get("items") {
                    let mut item = items;
                    while let Some(name) = item.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
                        match root.get("$defs").and_then(|d| d.get(name)) {
                            Some(target) => item = target,
                            None => break,
                        }
                    }
                    if item.get("type").and_then(Value::as_str) == Some("object") && item.get("properties").is_some() {
                        out.push(path.join("."));
                    }
                    object_lists(root, items, path, seen, out);
                }
            }
            _ => {}
        }
        if def.is_some() {
            seen.pop();
        }
    }

    /// The list's key as the planner needs it: the strategic merge key, else the first
    /// list-map key; `None` for atomic lists and sets.
    fn key_of(shape: &BuiltinShape, path: &str) -> Option<String> {
        let segs: Vec<&str> = path.split('.').collect();
        match shape.list_type(&segs) {
            ListType::Map(keys) => shape.merge_key(&segs).or_else(|| keys.first().cloned()),
            _ => None,
        }
    }

    /// Lists of objects (dotted path) with their key, `None` for atomic ones.
    type Lists = Vec<(String, Option<String>)>;

    /// `(apiVersion, kind, every list of objects with its key)` of each built-in kind.
    fn built_in_lists() -> Vec<(String, String, Lists)> {
        let registry = crate::registry::Registry::new(std::iter::empty());
        let mut kinds = Vec::new();
        for t in registry.types() {
            let Some(root) = crate::schema::builtin(&t.group, &t.kind) else { continue };
            let mut paths = Vec::new();
            object_lists(&root, &root, &mut Vec::new(), &mut Vec::new(), &mut paths);
            paths.sort();
            paths.dedup();
            let lists = paths
                .into_iter()
                .map(|p| {
                    let key = key_of(&BuiltinShape, &p);
                    (p, key)
                })
                .collect();
            kinds.push((t.api_version(), t.kind.clone(), lists));
        }
        kinds
    }

    /// The generated part of `core/src/merge_keys.rs`.
    fn merge_key_tables() -> String {
        let kinds = built_in_lists();
        let mut pod_spec_at: Vec<(String, String, String)> = Vec::new();
        for (v, k, lists) in &kinds {
            if let Some((p, _)) = lists.iter().find(|(p, _)| p == "spec.containers" || p.ends_with(".spec.containers")) {
                pod_spec_at.push((v.clone(), k.clone(), p.trim_end_matches(".containers").to_owned()));
            }
        }
        let keyed = |lists: &[(String, Option<String>)]| -> Vec<(String, String)> {
            lists.iter().filter_map(|(p, k)| k.clone().map(|k| (p.clone(), k))).collect()
        };
        let pod = kinds.iter().find(|(v, k, _)| v == "v1" && k == "Pod").expect("the sandbox serves Pods");
        let is_meta = |p: &str| p.rsplit_once('.').is_some_and(|(before, _)| before == "metadata" || before.ends_with(".metadata"));
        let pod_spec: Vec<(String, String)> = keyed(&pod.2)
            .into_iter()
            .filter(|(p, _)| !is_meta(p))
            .filter_map(|(p, k)| p.strip_prefix("spec.").map(|r| (r.to_owned(), k)))
            .collect();
        let object_meta: Vec<(String, String)> =
            keyed(&pod.2).into_iter().filter_map(|(p, k)| p.strip_prefix("metadata.").map(|r| (r.to_owned(), k))).collect();
        let mut other = Vec::new();
        for (v, k, lists) in &kinds {
            let at = pod_spec_at.iter().find(|(pv, pk, _)| pv == v && pk == k).map(|(_, _, p)| format!("{p}."));
            for (p, key) in keyed(lists) {
                if is_meta(&p) || at.as_deref().is_some_and(|at| p.starts_with(at)) {
                    continue;
                }
                other.push((v.clone(), k.clone(), p, key));
            }
        }
        let mut out = String::new();
        out.push_str("/// Every kind the tables cover: `(apiVersion, kind)`.\n#[rustfmt::skip]\nconst KINDS: &[(&str, &str)] = &[\n");
        for (v, k, _) in &kinds {
            out.push_str(&format!("    ({v:?}, {k:?}),\n"));
        }
        out.push_str("];\n\n/// Keyed lists of a pod spec: `(path from the pod spec, merge key)`.\n#[rustfmt::skip]\nconst POD_SPEC: &[(&str, &str)] = &[\n");
        for (p, k) in &pod_spec {
            out.push_str(&format!("    ({p:?}, {k:?}),\n"));
        }
        out.push_str("];\n\n/// Where each kind keeps its pod spec: `(apiVersion, kind, path)`.\n#[rustfmt::skip]\nconst POD_SPEC_AT: &[(&str, &str, &str)] = &[\n");
        for (v, k, p) in &pod_spec_at {
            out.push_str(&format!("    ({v:?}, {k:?}, {p:?}),\n"));
        }
        out.push_str(
            "];\n\n/// Keyed lists of object metadata: `(field, merge key)`.\n#[rustfmt::skip]\nconst OBJECT_META: &[(&str, &str)] = &[\n",
        );
        for (p, k) in &object_meta {
            out.push_str(&format!("    ({p:?}, {k:?}),\n"));
        }
        out.push_str("];\n\n/// Keyed lists outside pod specs and metadata: `(apiVersion, kind, path, merge key)`.\n#[rustfmt::skip]\nconst OTHER: &[(&str, &str, &str, &str)] = &[\n");
        for (v, k, p, key) in &other {
            out.push_str(&format!("    ({v:?}, {k:?}, {p:?}, {key:?}),\n"));
        }
        out.push_str("];\n");
        out
    }

    #[test]
    fn merge_key_table_is_up_to_date() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/merge_keys.rs");
        let text = std::fs::read_to_string(&file).unwrap();
        let (head, rest) = text.split_once("// BEGIN GENERATED\n").unwrap();
        let (_, tail) = rest.split_once("// END GENERATED\n").unwrap();
        let fresh = format!("{head}// BEGIN GENERATED\n{}// END GENERATED\n{tail}", merge_key_tables());
        if fresh != text {
            if std::env::var("INSTA_UPDATE").as_deref() == Ok("always") {
                std::fs::write(&file, fresh).unwrap();
                return;
            }
            panic!("core/src/merge_keys.rs is out of date with the sandbox's list types: run `INSTA_UPDATE=always cargo test` and review the diff");
        }
        // The lookup reads the tables back as the sandbox's shapes say, for every list of every kind.
        for (v, k, lists) in built_in_lists() {
            assert!(cairn_core::merge_keys::knows_kind(&v, &k), "{v} {k}");
            for (p, key) in lists {
                assert_eq!(cairn_core::merge_keys::merge_key(&v, &k, &p), key.as_deref(), "{v} {k} {p}");
            }
        }
    }
}
