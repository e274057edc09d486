//! OpenAPI v3 documents: the index at `/openapi/v3` and one document per group-version, with a
//! path and operations per resource and the schemas of its kinds. kubectl reads them before any
//! apply; finding the `fieldValidation` parameter it leaves validation to the server.

use serde_json::{json, Map, Value};
use sha2::Digest;

use crate::registry::{Registry, ResourceType};
use crate::schema;

/// `/openapi/v3`: every group-version with a link carrying the hash of its document.
pub fn index(registry: &Registry) -> Value {
    let mut paths = Map::new();
    let mut gvs: Vec<(String, String)> = registry.types().iter().map(|t| (t.group.clone(), t.version.clone())).collect();
    gvs.sort();
    gvs.dedup();
    for (group, version) in gvs {
        let key = if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") };
        let hash = document(registry, &group, &version).map(|d| hash(&d)).unwrap_or_default();
        paths.insert(key.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}));
    }
    json!({"paths": paths})
}

/// An uppercase hex SHA-512 prefix of the document, as the apiserver links documents.
pub fn hash(document: &Value) -> String {
    let digest = sha2::Sha512::digest(document.to_string().as_bytes());
    digest.iter().take(32).map(|b| format!("{b:02X}")).collect()
}

/// The document of one group-version, if served.
pub fn document(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types: Vec<&ResourceType> = registry.types().iter().filter(|t| t.group == group && t.version == version).collect();
    if types.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for t in types {
        let name = definition_name(t);
        let gvk = json!([{"group": t.group, "version": t.version, "kind": t.kind}]);
        if let Some(s) = schema::Schema::of(t) {
            let mut doc = s.document().clone();
            if let Some(map) = doc.as_object_mut() {
                map.remove("$schema");
                if let Some(Value::Object(defs)) = map.remove("$defs") {
                    for (k, mut v) in defs {
                        rewrite_refs(&mut v);
                        schemas.entry(k).or_insert(v);
                    }
                }
                map.insert("x-kubernetes-group-version-kind".into(), gvk.clone());
            }
            rewrite_refs(&mut doc);
            schemas.insert(name.clone(), doc);
        }
        let prefix = if t.group.is_empty() { format!("/api/{}", t.version) } else { format!("/apis/{}/{}", t.group, t.version) };
        let collection =
            if t.namespaced { format!("{prefix}/namespaces/{{namespace}}/{}", t.plural) } else { format!("{prefix}/{}", t.plural) };
        let gvk_one = json!({"group": t.group, "version": t.version, "kind": t.kind});
        paths.insert(collection.clone(), collection_ops(t, &name, &gvk_one));
        paths.insert(format!("{collection}/{{name}}"), object_ops(t, &name, &gvk_one));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas}
    }))
}

/// `io.k8s.api.apps.v1.Deployment` for built-ins, reversed-group names for custom kinds.
fn definition_name(t: &ResourceType) -> String {
    if t.is_custom() {
        let reversed: Vec<&str> = t.group.split('.').rev().collect();
        return format!("{}.{}.{}", reversed.join("."), t.version, t.kind);
    }
    let package = match t.group.as_str() {
        "" => "core".to_owned(),
        "apiextensions.k8s.io" => return format!("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{}.{}", t.version, t.kind),
        g => g.split('.').next().unwrap_or(g).to_owned(),
    };
    format!("io.k8s.api.{package}.{}.{}", t.version, t.kind)
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(rest) = r.strip_prefix("#/$defs/") {
                    *r = format!("#/components/schemas/{rest}");
                }
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn query(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string"}, "uniqueItems": true})
}

fn write_params() -> Vec<Value> {
    vec![
        query("dryRun", "When present, indicates that modifications should not be persisted. Valid values: All."),
        query("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
        query("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values: Ignore, Warn, Strict."),
    ]
}

fn op(t: &ResourceType, action: &str, id: String, schema_ref: &str, gvk: &Value, params: Vec<Value>, body: Option<Vec<&str>>) -> Value {
    let mut op = json!({
        "operationId": id,
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": schema_ref}}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
        "tags": [if t.group.is_empty() { format!("core_{}", t.version) } else { format!("{}_{}", t.group, t.version) }],
    });
    if let (Some(types), Some(map)) = (body, op.as_object_mut()) {
        let content: Map<String, Value> = types.into_iter().map(|ct| (ct.to_owned(), json!({"schema": {"$ref": schema_ref}}))).collect();
        map.insert("requestBody".into(), json!({"content": content, "required": true}));
    }
    op
}

fn collection_ops(t: &ResourceType, name: &str, gvk: &Value) -> Value {
    let r = format!("#/components/schemas/{name}");
    json!({
        "get": op(t, "list", format!("list{}", t.kind), &r, gvk, vec![query("labelSelector", "A selector to restrict the list of returned objects by their labels."), query("fieldSelector", "A selector to restrict the list of returned objects by their fields."), query("limit", "limit is a maximum number of responses to return for a list call."), query("continue", "The continue option should be set when retrieving more results from the server.")], None),
        "post": op(t, "post", format!("create{}", t.kind), &r, gvk, write_params(), Some(vec!["application/json", "application/yaml"])),
    })
}

fn object_ops(t: &ResourceType, name: &str, gvk: &Value) -> Value {
    let r = format!("#/components/schemas/{name}");
    let mut patch_params = write_params();
    patch_params.push(query("force", "Force is going to \"force\" Apply requests."));
    json!({
        "get": op(t, "get", format!("read{}", t.kind), &r, gvk, vec![], None),
        "put": op(t, "put", format!("replace{}", t.kind), &r, gvk, write_params(), Some(vec!["application/json", "application/yaml"])),
        "patch": op(t, "patch", format!("patch{}", t.kind), &r, gvk, patch_params, Some(vec!["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"])),
        "delete": op(t, "delete", format!("delete{}", t.kind), &r, gvk, vec![query("dryRun", "When present, indicates that modifications should not be persisted."), query("propagationPolicy", "Whether and how garbage collection will be performed.")], None),
    })
}
