//! `manifest` blocks: any Kubernetes objects, from YAML text (`source`) or a literal `object`.
//! Each gets cairn's labels and address annotation; `namespace` sets or checks the namespace.

use cairn_lang::{Diagnostic, Span};
use serde_json::{json, Map, Value as Json};

use super::kube::pointer_escape;
use super::{namespace_of, Lowering, Target};
use crate::eval::Resource;
use crate::value::Value;

/// Kinds that live outside namespaces (the common built-in ones).
const CLUSTER_SCOPED: [&str; 17] = [
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "VolumeSnapshotClass",
    "ValidatingAdmissionPolicy",
];

/// Whether objects of this kind are namespaced, given the CRDs declared in the stack.
pub(crate) fn is_namespaced(kind: &str, api_version: &str, crds: &[(String, String, bool)]) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    if let Some((_, _, namespaced)) = crds.iter().find(|(g, k, _)| g == group && k == kind) {
        return *namespaced;
    }
    !CLUSTER_SCOPED.contains(&kind)
}

/// A `manifest` resource: its documents (from `object` or the YAML of `source`), each checked
/// (identity, name rules, namespace), stamped with cairn's labels and pushed as an object.
pub(super) fn manifest(cx: &mut Lowering, res: &Resource) {
    let source = res.body.attr("source");
    let object = res.body.attr("object");
    let Some(docs) = manifest_documents(cx, res) else { return };
    let at = object.or(source).map_or(res.label_span, |a| a.span);
    let want_ns = namespace_of(res);
    let crds = cx.crds();
    for (mut doc, mut sensitive) in docs {
        let Json::Object(obj) = &mut doc else {
            cx.report(
                res,
                Diagnostic::error("E0412", at, "a manifest document must be a map")
                    .with_help("each YAML document is one Kubernetes object"),
            );
            continue;
        };
        let Some((api_version, kind, name)) = object_identity(cx, res, at, obj) else { continue };
        let namespaced = is_namespaced(&kind, &api_version, &crds);
        let meta = obj.entry("metadata").or_insert_with(|| json!({}));
        let Json::Object(meta) = meta else { continue };
        let have_ns = meta.get("namespace").and_then(Json::as_str).map(str::to_string);
        let Some(ns) = object_namespace(cx, res, at, (&kind, &name), namespaced, have_ns, &want_ns) else { continue };
        if let Some(ns) = &ns {
            meta.insert("namespace".into(), json!(ns));
        }
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if let Json::Object(l) = labels {
            l.insert("app.kubernetes.io/managed-by".into(), json!("cairn"));
            l.insert("cairn.dev/stack".into(), json!(cx.stack));
        }
        let ann = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Json::Object(a) = ann {
            a.insert("cairn.dev/address".into(), json!(res.addr.to_string()));
        }
        if kind == "Secret" && api_version == "v1" {
            for field in ["data", "stringData"] {
                if let Some(Json::Object(m)) = obj.get(field) {
                    for k in m.keys() {
                        let p = format!("/{field}/{}", pointer_escape(k));
                        if !sensitive.contains(&p) {
                            sensitive.push(p);
                        }
                    }
                }
            }
        }
        cx.push(res, Target::Kube, &api_version, &kind, ns.as_deref(), &name, doc, sensitive);
    }
}

/// The documents of a manifest with their sensitive pointers: `object` as JSON, or each YAML
/// document of `source`. `None` when it has none to lower (reported, or an unknown value).
fn manifest_documents(cx: &mut Lowering, res: &Resource) -> Option<Vec<(Json, Vec<String>)>> {
    let mut docs: Vec<(Json, Vec<String>)> = Vec::new();
    let source = res.body.attr("source");
    let object = res.body.attr("object");
    match (source, object) {
        (Some(s), Some(o)) => {
            cx.report(
                res,
                Diagnostic::error("E0412", s.name_span, "a manifest takes `source` or `object`, not both")
                    .with_label(o.name_span, "`object` is set here")
                    .with_help("remove one of them"),
            );
            return None;
        }
        (None, Some(o)) => {
            let mut sensitive = Vec::new();
            let j = to_json(&o.value, "", &mut sensitive)?;
            docs.push((j, sensitive));
        }
        (Some(s), None) => {
            let text = s.value.unwrap_sensitive().0.as_str().map(str::to_string)?;
            for doc in serde_yaml::Deserializer::from_str(&text) {
                match <serde_yaml::Value as serde::Deserialize>::deserialize(doc) {
                    Ok(serde_yaml::Value::Null) => {}
                    Ok(v) => match serde_json::to_value(v) {
                        Ok(j) => docs.push((j, Vec::new())),
                        Err(e) => {
                            cx.report(
                                res,
                                Diagnostic::error("E0412", s.span, format!("the manifest YAML cannot be used as JSON: {e}"))
                                    .with_help("keys must be strings"),
                            );
                            return None;
                        }
                    },
                    Err(e) => {
                        cx.report(
                            res,
                            Diagnostic::error("E0412", s.span, format!("the manifest is not valid YAML: {e}"))
                                .with_help("fix the YAML file"),
                        );
                        return None;
                    }
                }
            }
        }
        _ => {
            cx.report(
                res,
                Diagnostic::error("E0304", res.label_span, format!("manifest `{}` needs `source` or `object`", res.addr.name))
                    .with_help("write `source = file(\"x.yaml\")` or `object = { apiVersion = …, kind = …, metadata = { name = … } }`"),
            );
            return None;
        }
    }
    Some(docs)
}

/// An object's `apiVersion`, `kind` and `metadata.name`, held to Kubernetes' name rule for the
/// kind, and its `metadata.namespace` to a DNS-1123 label; `None` when reported.
fn object_identity(cx: &mut Lowering, res: &Resource, at: Span, obj: &Map<String, Json>) -> Option<(String, String, String)> {
    let api_version = obj.get("apiVersion").and_then(Json::as_str).map(str::to_string);
    let kind = obj.get("kind").and_then(Json::as_str).map(str::to_string);
    let name = obj.get("metadata").and_then(|m| m.get("name")).and_then(Json::as_str).map(str::to_string);
    let (Some(api_version), Some(kind), Some(name)) = (api_version.clone(), kind.clone(), name.clone()) else {
        let missing: Vec<&str> = [("apiVersion", api_version.is_none()), ("kind", kind.is_none()), ("metadata.name", name.is_none())]
            .iter()
            .filter(|(_, m)| *m)
            .map(|(f, _)| *f)
            .collect();
        cx.report(
            res,
            Diagnostic::error("E0412", at, format!("an object in manifest `{}` has no `{}`", res.addr.name, missing.join("`, `")))
                .with_help("every Kubernetes object needs `apiVersion`, `kind` and `metadata.name` (strings)"),
        );
        return None;
    };
    // The name (and below, the namespace) becomes a segment of the request URL: hold it to
    // Kubernetes' rule for the kind, which also keeps `/`, `%`, `?`, `..` out.
    let (rule, rule_help) = cairn_core::names::object_name_rule(&kind);
    if let Err(why) = rule(&name).and_then(|()| cairn_core::names::path_segment(&name)) {
        cx.report(
            res,
            Diagnostic::error("E0305", at, format!("invalid {kind} name `{}`: {why}", name.escape_debug()))
                .with_help(format!("metadata.name of a {kind} must be {rule_help}")),
        );
        return None;
    }
    if let Some(h) = obj.get("metadata").and_then(|m| m.get("namespace")).and_then(Json::as_str) {
        if let Err(why) = cairn_core::names::dns1123_label(h) {
            cx.report(
                res,
                Diagnostic::error("E0305", at, format!("invalid namespace `{}` of {kind} `{name}`: {why}", h.escape_debug()))
                    .with_help("metadata.namespace must be a DNS-1123 label: lowercase letters, digits and `-`, at most 63 characters"),
            );
            return None;
        }
    }
    Some((api_version, kind, name))
}

/// The namespace of the object `(kind, name)`: none for cluster-scoped kinds, else the one it
/// sets or the manifest's (E0413 when they disagree or neither is set: `None`).
fn object_namespace(
    cx: &mut Lowering,
    res: &Resource,
    at: Span,
    (kind, name): (&str, &str),
    namespaced: bool,
    have_ns: Option<String>,
    want_ns: &Option<String>,
) -> Option<Option<String>> {
    let ns = match (namespaced, have_ns, want_ns) {
        (false, _, _) => None,
        (true, Some(h), Some(w)) if &h != w => {
            let mut d = Diagnostic::error(
                "E0413",
                at,
                format!("{kind} `{name}` sets metadata.namespace `{h}`, but the manifest's `namespace` is `{w}`"),
            )
            .with_help("remove metadata.namespace from the object or make the two agree");
            if let Some(ns) = res.body.attr("namespace") {
                d = d.with_label(ns.span, format!("the manifest's namespace is `{w}`"));
            }
            cx.report(res, d);
            return None;
        }
        (true, Some(h), _) => Some(h),
        (true, None, Some(w)) => Some(w.clone()),
        (true, None, None) => {
            cx.report(
                res,
                Diagnostic::error("E0413", at, format!("{kind} `{name}` needs a namespace"))
                    .with_help("set `namespace = namespace.x` on the manifest or metadata.namespace in the object"),
            );
            return None;
        }
    };
    Some(ns)
}

impl Lowering {
    fn report(&mut self, res: &Resource, d: Diagnostic) {
        self.diags.push(crate::eval::with_instance_labels(d, &res.via));
    }

    /// CRDs declared by manifests: (group, kind, namespaced), those of the whole stack when
    /// known, else those lowered so far.
    fn crds(&self) -> Vec<(String, String, bool)> {
        if self.crds.is_empty() {
            declared_crds(&self.objects)
        } else {
            self.crds.clone()
        }
    }
}

/// The CRDs among `objects`: (group, kind, namespaced).
pub(super) fn declared_crds(objects: &[super::Object]) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for o in objects.iter().filter(|o| o.kind == "CustomResourceDefinition") {
        let spec = o.body.get("spec");
        let group = spec.and_then(|s| s.get("group")).and_then(Json::as_str).unwrap_or_default();
        let kind = spec.and_then(|s| s.pointer("/names/kind")).and_then(Json::as_str).unwrap_or_default();
        let namespaced = spec.and_then(|s| s.get("scope")).and_then(Json::as_str) != Some("Cluster");
        out.push((group.to_string(), kind.to_string(), namespaced));
    }
    out
}

/// A value as JSON, collecting the pointers of sensitive values.
fn to_json(v: &Value, path: &str, sensitive: &mut Vec<String>) -> Option<Json> {
    Some(match v {
        Value::Sensitive(inner) => {
            sensitive.push(path.to_string());
            return to_json(inner, path, &mut Vec::new());
        }
        Value::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(to_json(item, &format!("{path}/{i}"), sensitive)?);
            }
            Json::Array(out)
        }
        Value::Map(m) => {
            let mut out = Map::new();
            for (k, item) in m.iter() {
                out.insert(k.clone(), to_json(item, &format!("{path}/{}", pointer_escape(k)), sensitive)?);
            }
            Json::Object(out)
        }
        other => crate::convert::value_to_json(other)?,
    })
}
