//! Writes: create, update (PUT), the four patch types, server-side apply, delete and delete of a
//! collection. Every write, a client's or a controller's, goes through [`commit`]: status rules,
//! defaulting, validation, admission, system metadata, managed fields, the no-op check, dry run.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{media, served, Request, Response};
use crate::cluster::Cluster;
use crate::defaults::{self, DefaultsContext};
use crate::fields::{self, Scope};
use crate::registry::{ResourceType, TypeKey};
use crate::route::ResourcePath;
use crate::schema::{Problem, ProblemKind, Schema};
use crate::status::{self, ApiError};
use crate::store::{self, State};
use crate::{admission, patch, protobuf, validate};

/// How unknown fields are treated (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Dropped silently.
    Ignore,
    /// Dropped with a `Warning` header (the default).
    Warn,
    /// Refused.
    Strict,
}

/// Who writes and how.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    /// Write-log verb: `create`, `update`, `patch`, `apply`, `status`.
    pub verb: &'static str,
    /// Field manager.
    pub manager: String,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `fieldValidation`.
    pub validation: Validation,
    /// Whether a sandbox controller writes.
    pub controller: bool,
    /// `status` for the status subresource, `scale` for the scale subresource (which writes
    /// `spec.replicas` like a main-resource update but is recorded under its own entry in
    /// `managedFields`).
    pub subresource: Option<String>,
}

impl WriteCtx {
    /// The writer of a client request: manager, dry run and `fieldValidation` from its query.
    pub(super) fn of(req: &Request, verb: &'static str, path: &ResourcePath) -> WriteCtx {
        let validation = match req.param("fieldValidation") {
            Some("Strict") => Validation::Strict,
            Some("Ignore") => Validation::Ignore,
            _ => Validation::Warn,
        };
        let subresource = path.subresource.clone().filter(|s| s == "status" || s == "scale");
        WriteCtx {
            verb: if subresource.as_deref() == Some("status") { "status" } else { verb },
            manager: manager(req),
            dry_run: req.dry_run(),
            validation,
            controller: false,
            subresource,
        }
    }

    /// A controller's write.
    pub fn controller(verb: &'static str, manager: &str, subresource: Option<&str>) -> WriteCtx {
        WriteCtx {
            verb,
            manager: manager.to_owned(),
            dry_run: false,
            validation: Validation::Ignore,
            controller: true,
            subresource: subresource.map(str::to_owned),
        }
    }

    /// Whether this writes through the `status` subresource (status only).
    fn status_write(&self) -> bool {
        self.subresource.as_deref() == Some("status")
    }

    fn scope(&self) -> Scope {
        if self.status_write() {
            Scope::Status
        } else {
            Scope::Main
        }
    }
}

/// The field manager: `fieldManager`, else the client name from the `User-Agent` (as kube-apiserver).
fn manager(req: &Request) -> String {
    if let Some(m) = req.param("fieldManager").filter(|m| !m.is_empty()) {
        return m.to_owned();
    }
    match req.user_agent.as_deref().and_then(|ua| ua.split('/').next()).filter(|s| !s.is_empty()) {
        Some(client) => client.to_owned(),
        None => "unknown".to_owned(),
    }
}

/// The object of a create or update: JSON or YAML, or protobuf for built-in kinds; any other
/// media type is a 415 naming the ones taken (a body without a `Content-Type` is read as JSON).
fn object_body(req: &Request, rtype: &ResourceType) -> Result<Value, ApiError> {
    let content_type = media::content_type(req);
    if !content_type.is_empty() && !media::object_types(rtype).contains(&content_type.as_str()) {
        return Err(ApiError::unsupported_media_type(media::object_types(rtype)));
    }
    if content_type == media::PROTOBUF {
        if req.body.is_empty() {
            return Err(ApiError::bad_request("the request body is empty"));
        }
        return protobuf::decode(&req.body, rtype);
    }
    body(req)
}

/// Parses a JSON or YAML body.
fn body(req: &Request) -> Result<Value, ApiError> {
    if req.body.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    let json = serde_json::from_slice::<Value>(&req.body);
    match json {
        Ok(v) => Ok(v),
        Err(json_err) => {
            let text = std::str::from_utf8(&req.body).map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
            serde_yaml::from_str::<Value>(text)
                .map_err(|yaml_err| ApiError::bad_request(format!("the request body is neither JSON ({json_err}) nor YAML ({yaml_err})")))
        }
    }
}

fn check_type_meta(obj: &Value, rtype: &ResourceType) -> Result<(), ApiError> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    if !api_version.is_empty() && api_version != rtype.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            rtype.api_version()
        )));
    }
    if !kind.is_empty() && kind != rtype.kind {
        return Err(ApiError::bad_request(format!("the kind in the data ({kind}) does not match the expected kind ({})", rtype.kind)));
    }
    if !obj.is_object() {
        return Err(ApiError::bad_request("the body is not a JSON object"));
    }
    Ok(())
}

/// Runs the schema check; returns warnings, or the error for `Strict` and for type errors.
fn check_schema(rtype: &ResourceType, obj: &mut Value, validation: Validation, apply: bool) -> Result<Vec<String>, ApiError> {
    let Some(schema) = Schema::of(rtype) else { return Ok(Vec::new()) };
    let mut unknown = Vec::new();
    let mut hard = Vec::new();
    for p in schema.check_and_prune(obj) {
        match p.kind {
            // An apply configuration is partial: required fields are checked on the merged object.
            ProblemKind::Required if apply => {}
            ProblemKind::Unknown if p.path.starts_with("metadata.") && rtype.is_custom() => {}
            ProblemKind::Unknown => unknown.push(p),
            _ => hard.push(p),
        }
    }
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    if !hard.is_empty() {
        if rtype.is_custom() {
            let causes: Vec<Value> = hard.iter().map(cause).collect();
            let messages: Vec<String> = hard.iter().map(Problem::message).collect();
            let message = format!("{} \"{name}\" is invalid: {}", status::qualified(&rtype.group, &rtype.kind), bracket(&messages));
            return Err(ApiError::invalid(&rtype.kind, &rtype.group, &name, message, causes));
        }
        let messages: Vec<String> = hard.iter().map(Problem::message).collect();
        return Err(ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: {}",
            rtype.kind,
            rtype.version,
            rtype.kind,
            messages.join(", ")
        )));
    }
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    match validation {
        Validation::Ignore => Ok(Vec::new()),
        Validation::Warn => Ok(unknown.iter().map(|p| format!("unknown field \"{}\"", p.path)).collect()),
        Validation::Strict if apply => {
            let paths: Vec<String> = unknown.iter().map(|p| format!(".{}: field not declared in schema", p.path)).collect();
            Err(ApiError::bad_request(format!(
                "failed to create typed patch object ({}; {}, Kind={}): {}",
                object_ref(obj),
                rtype.api_version(),
                rtype.kind,
                paths.join(", ")
            )))
        }
        Validation::Strict => {
            let fields: Vec<String> = unknown.iter().map(|p| format!("unknown field \"{}\"", p.path)).collect();
            Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                rtype.kind,
                rtype.version,
                rtype.kind,
                fields.join(", ")
            )))
        }
    }
}

fn object_ref(obj: &Value) -> String {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{ns}/{name}"),
        None => format!("/{name}"),
    }
}

fn bracket(messages: &[String]) -> String {
    if messages.len() == 1 {
        messages.concat()
    } else {
        format!("[{}]", messages.join(", "))
    }
}

fn cause(p: &Problem) -> Value {
    let reason = match p.kind {
        ProblemKind::Required => "FieldValueRequired",
        ProblemKind::Enum(_) => "FieldValueNotSupported",
        _ => "FieldValueInvalid",
    };
    json!({"reason": reason, "message": p.message(), "field": p.path})
}

fn field_errors(rtype: &ResourceType, name: &str, errors: &[validate::FieldError]) -> ApiError {
    let causes: Vec<Value> = errors.iter().map(|e| json!({"reason": e.reason(), "message": e.to_string(), "field": e.field})).collect();
    ApiError::invalid(&rtype.kind, &rtype.group, name, validate::invalid_message(&rtype.kind, &rtype.group, name, errors), causes)
}

/// The namespace must exist and not be terminating for objects to be created in it.
fn check_namespace(state: &State, rtype: &ResourceType, namespace: &str, name: &str) -> Result<(), ApiError> {
    if !rtype.namespaced {
        return Ok(());
    }
    let Some(ns) = state.namespace(namespace) else { return Err(ApiError::not_found("", "namespaces", namespace)) };
    if !ns["metadata"]["deletionTimestamp"].is_null() {
        return Err(ApiError::forbidden(format!(
            "{} \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
            status::qualified(&rtype.group, &rtype.plural),
        ))
        .with_details(json!({"causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {namespace} is being terminated"), "field": "metadata.namespace"}]})));
    }
    Ok(())
}

struct Ctx<'a> {
    state: &'a mut State,
}

impl DefaultsContext for Ctx<'_> {
    fn allocate_cluster_ip(&mut self) -> String {
        self.state.allocate_ip()
    }

    fn default_storage_class(&self) -> Option<String> {
        let key = TypeKey { group: "storage.k8s.io".into(), plural: "storageclasses".into() };
        self.state
            .list(&key, None)
            .find(|sc| sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"].as_str() == Some("true"))
            .and_then(|sc| sc["metadata"]["name"].as_str().map(str::to_owned))
    }
}

/// Copies `clusterIP`, `clusterIPs` and node ports a Service update leaves out from the old object.
fn carry_service_allocations(old: &Value, new: &mut Value) {
    for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort"] {
        if new["spec"][field].is_null() && !old["spec"][field].is_null() {
            new["spec"][field] = old["spec"][field].clone();
        }
    }
    let old_ports = old["spec"]["ports"].as_array().cloned().unwrap_or_default();
    if let Some(ports) = new["spec"]["ports"].as_array_mut() {
        for port in ports {
            if !port["nodePort"].is_null() {
                continue;
            }
            let same = old_ports.iter().find(|p| {
                p["port"] == port["port"] && p["protocol"].as_str().unwrap_or("TCP") == port["protocol"].as_str().unwrap_or("TCP")
            });
            if let Some(node_port) = same.map(|p| &p["nodePort"]).filter(|n| !n.is_null()) {
                port["nodePort"] = node_port.clone();
            }
        }
    }
}

/// The object without what the server changes on its own, for the no-op check.
fn essence(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(meta) = obj["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
        if let Some(Value::Array(entries)) = meta.get_mut("managedFields") {
            for e in entries {
                if let Some(e) = e.as_object_mut() {
                    e.remove("time");
                }
            }
        }
    }
    obj
}

/// Everything but `metadata` and `status`: what `generation` counts changes of.
fn spec_part(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(map) = obj.as_object_mut() {
        for k in ["metadata", "status", "apiVersion", "kind"] {
            map.remove(k);
        }
    }
    obj
}

/// How ownership of the change is recorded.
pub enum Ownership {
    /// `Update` operation by the writer's manager.
    Update,
    /// Server-side apply already set `managedFields`.
    Applied,
}

/// Status rules, defaults, validation, admission, system metadata, managed fields, the no-op
/// check, dry run, and the store. Returns the stored (or would-be) object and whether it changed.
pub fn commit(
    state: &mut State,
    rtype: &ResourceType,
    old: Option<&Value>,
    mut new: Value,
    ctx: &WriteCtx,
    ownership: Ownership,
) -> Result<(Value, bool), ApiError> {
    let name = new["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    let namespace = new["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
    let api_version = rtype.api_version();
    status_rules(rtype, old, &mut new, ctx);
    if let Some(map) = new.as_object_mut() {
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(rtype.kind));
    }
    // Decode errors (bad quantities, bad base64 …) come before defaulting folds anything away.
    if !ctx.status_write() {
        if let Some(message) = validate::decode_error(&api_version, &rtype.kind, &new) {
            return Err(ApiError::bad_request(message));
        }
    }
    set_defaults(state, rtype, old, &mut new);
    validate_object(rtype, old, &new, ctx, &name)?;
    let meta_old = old.map(|o| o["metadata"].clone()).unwrap_or(Value::Null);
    system_metadata(rtype, old, &mut new, ctx, &meta_old)?;
    if matches!(ownership, Ownership::Update) {
        let now = store::now();
        if old.is_some() || new["metadata"]["managedFields"].is_null() {
            fields::record_update(old, &mut new, &ctx.manager, &api_version, ctx.subresource.as_deref(), &*rtype.shape, ctx.scope(), &now);
        }
    }
    // The no-op check: an unchanged object is not written and keeps its resourceVersion.
    if let Some(old) = old {
        if essence(old) == essence(&new) {
            return Ok((old.clone(), false));
        }
    }
    admission::admit(state, rtype, old, &mut new)?;
    if ctx.dry_run {
        if let Some(meta) = new["metadata"].as_object_mut() {
            meta.insert("resourceVersion".into(), meta_old.get("resourceVersion").cloned().unwrap_or(json!("")));
        }
        return Ok((new, true));
    }
    // An object being deleted whose last finalizer went away is gone.
    let finalizers_left = new["metadata"]["finalizers"].as_array().is_some_and(|f| !f.is_empty());
    if !new["metadata"]["deletionTimestamp"].is_null() && !finalizers_left && rtype.plural != "namespaces" {
        let removed = state.remove(rtype, ctx.controller, &namespace, &name).unwrap_or(new);
        return Ok((removed, true));
    }
    Ok((state.put(rtype, ctx.verb, ctx.controller, new), true))
}

/// [`commit`] for a client's write, adding the warnings admission gives a changed object (Pod
/// Security on a workload's pod template) to `warnings`.
fn commit_warned(
    state: &mut State,
    rtype: &ResourceType,
    old: Option<&Value>,
    new: Value,
    ctx: &WriteCtx,
    ownership: Ownership,
    warnings: &mut Vec<String>,
) -> Result<(Value, bool), ApiError> {
    let result = commit(state, rtype, old, new, ctx, ownership)?;
    if result.1 && !ctx.status_write() {
        warnings.extend(admission::warnings(state, rtype, old, &result.0));
    }
    Ok(result)
}

/// The status subresource writes status only; the main resource never writes status.
fn status_rules(rtype: &ResourceType, old: Option<&Value>, new: &mut Value, ctx: &WriteCtx) {
    if !rtype.has_status {
        return;
    }
    let status = if ctx.status_write() {
        let status = new.get("status").cloned();
        if let Some(old) = old {
            *new = old.clone();
        }
        status
    } else {
        old.and_then(|o| o.get("status")).cloned()
    };
    match status {
        Some(s) => new["status"] = s,
        None => {
            if let Some(m) = new.as_object_mut() {
                m.remove("status");
            }
        }
    }
}

/// Defaults: a create's (after its uid, which Job selectors derive from), or an update's
/// (allocated Service fields a client leaves out keep their values, as kube-apiserver does).
fn set_defaults(state: &mut State, rtype: &ResourceType, old: Option<&Value>, new: &mut Value) {
    let api_version = rtype.api_version();
    match old {
        None => {
            if new["metadata"]["uid"].is_null() {
                new["metadata"]["uid"] = json!(store::uid());
            }
            defaults::apply_defaults(&api_version, &rtype.kind, new, &mut Ctx { state });
        }
        Some(old) => {
            if rtype.group.is_empty() && rtype.kind == "Service" {
                carry_service_allocations(old, new);
            }
            defaults::apply_update_defaults(&api_version, &rtype.kind, new);
        }
    }
}

/// A custom object's required fields (from its schema, on the whole object), then the name,
/// create and update rules, with Kubernetes' messages.
fn validate_object(rtype: &ResourceType, old: Option<&Value>, new: &Value, ctx: &WriteCtx, name: &str) -> Result<(), ApiError> {
    let api_version = rtype.api_version();
    if rtype.is_custom() && !ctx.status_write() {
        if let Some(schema) = Schema::of(rtype) {
            let missing: Vec<Problem> =
                schema.check_and_prune(&mut new.clone()).into_iter().filter(|p| p.kind == ProblemKind::Required).collect();
            if !missing.is_empty() {
                let messages: Vec<String> = missing.iter().map(Problem::message).collect();
                let message = format!("{} \"{name}\" is invalid: {}", status::qualified(&rtype.group, &rtype.kind), bracket(&messages));
                return Err(ApiError::invalid(&rtype.kind, &rtype.group, name, message, missing.iter().map(cause).collect()));
            }
        }
    }
    let mut errors = Vec::new();
    if old.is_none() {
        errors.extend(validate::validate_name(&rtype.kind, name));
    }
    errors.extend(validate::validate_create(&api_version, &rtype.kind, new));
    if let Some(old) = old {
        errors.extend(validate::validate_update(&api_version, &rtype.kind, old, new));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(field_errors(rtype, name, &errors))
    }
}

/// System metadata: uid and creationTimestamp kept, deletionTimestamp carried over,
/// `generation` counting spec changes (not status writes), no selfLink.
fn system_metadata(rtype: &ResourceType, old: Option<&Value>, new: &mut Value, ctx: &WriteCtx, meta_old: &Value) -> Result<(), ApiError> {
    let spec_changed = old.is_some_and(|o| spec_part(o) != spec_part(new));
    let meta = new["metadata"].as_object_mut().ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
    let keep = |meta: &mut serde_json::Map<String, Value>, key: &str, fallback: Value| {
        let v = if meta_old[key].is_null() { fallback } else { meta_old[key].clone() };
        meta.insert(key.into(), v);
    };
    let uid = meta.get("uid").filter(|u| u.is_string()).cloned().unwrap_or_else(|| json!(store::uid()));
    keep(meta, "uid", uid);
    keep(meta, "creationTimestamp", json!(store::now()));
    if !meta_old["deletionTimestamp"].is_null() {
        meta.insert("deletionTimestamp".into(), meta_old["deletionTimestamp"].clone());
    }
    if rtype.has_generation {
        let generation = match old {
            None => 1,
            Some(o) => {
                let g = o["metadata"]["generation"].as_i64().unwrap_or(1);
                if !ctx.status_write() && spec_changed {
                    g + 1
                } else {
                    g
                }
            }
        };
        meta.insert("generation".into(), json!(generation));
    } else {
        meta.remove("generation");
    }
    meta.remove("selfLink");
    Ok(())
}

/// POST of a new object.
pub fn create(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let mut obj = object_body(req, rtype)?;
    check_type_meta(&obj, rtype)?;
    let ctx = WriteCtx::of(req, "create", path);
    set_namespace(&mut obj, path, rtype)?;
    if obj["metadata"]["name"].as_str().unwrap_or_default().is_empty() {
        match obj["metadata"]["generateName"].as_str() {
            Some(prefix) if !prefix.is_empty() => {
                let suffix: String = store::uid().chars().filter(char::is_ascii_alphanumeric).take(5).collect();
                obj["metadata"]["name"] = json!(format!("{prefix}{suffix}"));
            }
            _ => {
                return Err(field_errors(
                    rtype,
                    "",
                    &[validate::FieldError::required("metadata.name", "name or generateName is required")],
                ));
            }
        }
    }
    let mut warnings = check_schema(rtype, &mut obj, ctx.validation, false)?;
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    let namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
    if let Some(meta) = obj["metadata"].as_object_mut() {
        for k in ["uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation"] {
            meta.remove(k);
        }
    }
    let result = cluster.with(|state| {
        check_namespace(state, rtype, &namespace, &name)?;
        if state.get(&rtype.key(), &namespace, &name).is_some() {
            return Err(ApiError::already_exists(&rtype.group, &rtype.plural, &name));
        }
        commit_warned(state, rtype, None, obj, &ctx, Ownership::Update, &mut warnings)
    })?;
    cluster.wake_controllers.notify_one();
    Ok(Response::json(201, served(result.0, rtype)).with_warnings(&warnings))
}

fn set_namespace(obj: &mut Value, path: &ResourcePath, rtype: &ResourceType) -> Result<(), ApiError> {
    if obj.get("metadata").is_none_or(|m| !m.is_object()) {
        obj["metadata"] = json!({});
    }
    if rtype.namespaced {
        let ns = path.namespace.clone().unwrap_or_default();
        match obj["metadata"]["namespace"].as_str() {
            Some(given) if !given.is_empty() && given != ns => {
                return Err(ApiError::bad_request("the namespace of the provided object does not match the namespace sent on the request"));
            }
            _ => obj["metadata"]["namespace"] = json!(ns),
        }
    } else if let Some(meta) = obj["metadata"].as_object_mut() {
        meta.remove("namespace");
    }
    Ok(())
}

fn check_name(obj: &Value, path: &ResourcePath) -> Result<(), ApiError> {
    let name = path.name.as_deref().unwrap_or_default();
    match obj["metadata"]["name"].as_str() {
        Some(n) if !n.is_empty() && n != name => {
            Err(ApiError::bad_request(format!("the name of the object ({n}) does not match the name on the URL ({name})")))
        }
        _ => Ok(()),
    }
}

/// PUT of a whole object (main resource, `status`, or a namespace's `finalize`).
pub fn update(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let mut obj = object_body(req, rtype)?;
    check_type_meta(&obj, rtype)?;
    check_name(&obj, path)?;
    set_namespace(&mut obj, path, rtype)?;
    let name = path.name.clone().unwrap_or_default();
    obj["metadata"]["name"] = json!(name);
    let mut ctx = WriteCtx::of(req, "update", path);
    let finalize = path.subresource.as_deref() == Some("finalize");
    let mut warnings = check_schema(rtype, &mut obj, ctx.validation, false)?;
    let namespace = path.namespace.clone().unwrap_or_default();
    let result = cluster.with(|state| {
        let old =
            state.get(&rtype.key(), &namespace, &name).cloned().ok_or_else(|| ApiError::not_found(&rtype.group, &rtype.plural, &name))?;
        if let Some(rv) = obj["metadata"]["resourceVersion"].as_str().filter(|rv| !rv.is_empty()) {
            if Some(rv) != old["metadata"]["resourceVersion"].as_str() {
                return Err(ApiError::stale(&rtype.group, &rtype.plural, &name));
            }
        }
        if finalize {
            let mut next = old.clone();
            next["spec"]["finalizers"] = obj["spec"]["finalizers"].clone();
            ctx.verb = "update";
            return commit(state, rtype, Some(&old), next, &ctx, Ownership::Update);
        }
        if obj["metadata"]["managedFields"].is_null() {
            obj["metadata"]["managedFields"] = old["metadata"]["managedFields"].clone();
        }
        commit_warned(state, rtype, Some(&old), obj, &ctx, Ownership::Update, &mut warnings)
    })?;
    cluster.wake_controllers.notify_one();
    Ok(Response::ok(served(result.0, rtype)).with_warnings(&warnings))
}

/// PATCH: JSON patch, merge patch, strategic merge patch or server-side apply.
pub fn patch(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let content_type = media::content_type(req);
    if !media::patch_types(rtype).contains(&content_type.as_str()) {
        return Err(ApiError::unsupported_media_type(media::patch_types(rtype)));
    }
    if content_type == "application/apply-patch+yaml" {
        return apply(cluster, req, path, rtype);
    }
    let patch_doc = body(req)?;
    let name = path.name.clone().unwrap_or_default();
    let namespace = path.namespace.clone().unwrap_or_default();
    let ctx = WriteCtx::of(req, "patch", path);
    let result = cluster.with(|state| {
        let old =
            state.get(&rtype.key(), &namespace, &name).cloned().ok_or_else(|| ApiError::not_found(&rtype.group, &rtype.plural, &name))?;
        let mut new = served(old.clone(), rtype);
        match content_type.as_str() {
            "application/merge-patch+json" => patch::merge_patch(&mut new, &patch_doc),
            "application/json-patch+json" => patch::json_patch(&mut new, &patch_doc).map_err(patch_error)?,
            "application/strategic-merge-patch+json" => {
                new = patch::strategic_merge_patch(&new, &patch_doc, &*rtype.shape).map_err(patch_error)?;
            }
            _ => return Err(ApiError::unsupported_media_type(media::patch_types(rtype))),
        }
        check_type_meta(&new, rtype)?;
        if new["metadata"]["name"].as_str() != Some(name.as_str()) || new["metadata"]["namespace"] != old["metadata"]["namespace"] {
            return Err(ApiError::bad_request("a patch may not change the object's name or namespace"));
        }
        if let Some(rv) = patch_doc["metadata"]["resourceVersion"].as_str() {
            if Some(rv) != old["metadata"]["resourceVersion"].as_str() {
                return Err(ApiError::stale(&rtype.group, &rtype.plural, &name));
            }
        }
        let mut warnings = check_schema(rtype, &mut new, ctx.validation, false)?;
        commit_warned(state, rtype, Some(&old), new, &ctx, Ownership::Update, &mut warnings).map(|r| (r, warnings))
    })?;
    cluster.wake_controllers.notify_one();
    let ((obj, _), warnings) = result;
    Ok(Response::ok(served(obj, rtype)).with_warnings(&warnings))
}

/// A patch that cannot be applied, with the status kube-apiserver answers it with.
fn patch_error(e: patch::PatchError) -> ApiError {
    match e.code() {
        422 => ApiError::invalid("", "", "", e.to_string(), Vec::new()),
        500 => ApiError::internal(e.to_string()),
        _ => ApiError::bad_request(e.to_string()),
    }
}

/// Server-side apply (creates the object when it does not exist).
fn apply(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let mut applied = body(req)?;
    if req.param("fieldManager").is_none_or(str::is_empty) {
        return Err(ApiError::bad_request("PATCH requests for server-side apply require a fieldManager"));
    }
    check_type_meta(&applied, rtype)?;
    if applied["apiVersion"].is_null() || applied["kind"].is_null() {
        return Err(ApiError::bad_request("apply patches must set apiVersion and kind"));
    }
    check_name(&applied, path)?;
    set_namespace(&mut applied, path, rtype)?;
    let name = path.name.clone().unwrap_or_default();
    applied["metadata"]["name"] = json!(name);
    let namespace = path.namespace.clone().unwrap_or_default();
    let ctx = WriteCtx::of(req, "apply", path);
    let force = req.param("force").is_some_and(|f| f == "true");
    let mut warnings = check_schema(rtype, &mut applied, ctx.validation, true)?;
    if let Some(meta) = applied["metadata"].as_object_mut() {
        for k in ["managedFields", "uid", "creationTimestamp", "generation", "deletionTimestamp"] {
            meta.remove(k);
        }
    }
    let result = cluster.with(|state| {
        let old = state.get(&rtype.key(), &namespace, &name).cloned();
        if old.is_none() {
            check_namespace(state, rtype, &namespace, &name)?;
        }
        if let (Some(old), Some(rv)) = (&old, applied["metadata"]["resourceVersion"].as_str()) {
            if Some(rv) != old["metadata"]["resourceVersion"].as_str() {
                return Err(ApiError::stale(&rtype.group, &rtype.plural, &name));
            }
        }
        if let Some(meta) = applied["metadata"].as_object_mut() {
            meta.remove("resourceVersion");
        }
        let now = store::now();
        let live = old.as_ref().map(|o| served(o.clone(), rtype));
        let request = fields::ApplyRequest {
            live: live.as_ref(),
            applied: &applied,
            manager: &ctx.manager,
            force,
            shape: &*rtype.shape,
            scope: ctx.scope(),
            now: &now,
            api_version: &rtype.api_version(),
            subresource: ctx.subresource.as_deref(),
        };
        let merged = fields::apply(request).map_err(|e| match e {
            fields::ApplyError::Conflicts(conflicts) => {
                let causes: Vec<Value> = conflicts
                    .iter()
                    .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", c.manager_display()), "field": c.path}))
                    .collect();
                ApiError::apply_conflict(fields::ApplyError::Conflicts(conflicts).to_string(), causes)
            }
            other => ApiError::bad_request(other.to_string()),
        })?;
        commit_warned(state, rtype, old.as_ref(), merged.object, &ctx, Ownership::Applied, &mut warnings).map(|(obj, _)| (obj, old.is_none()))
    })?;
    cluster.wake_controllers.notify_one();
    let (obj, created) = result;
    Ok(Response::json(if created { 201 } else { 200 }, served(obj, rtype)).with_warnings(&warnings))
}

/// How dependents are treated when their owner is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents lose their owner reference and stay.
    Orphan,
    /// The owner goes now; the garbage collector removes dependents after.
    Background,
    /// Dependents go first; the owner waits with the `foregroundDeletion` finalizer.
    Foreground,
}

/// Removes owner references to `uid` from every dependent.
fn orphan(state: &mut State, uid: &str) {
    let dependents: Vec<(crate::registry::TypeKey, Value)> = state
        .objects
        .iter()
        .flat_map(|(k, m)| m.values().map(move |o| (k.clone(), o)))
        .filter(|(_, o)| crate::owners::owner_uids(o).contains(&uid))
        .map(|(k, o)| (k, o.clone()))
        .collect();
    for (key, obj) in dependents {
        let Some(rtype) = state.registry.find_key(&key).cloned() else { continue };
        let mut next = obj.clone();
        let refs: Vec<Value> = obj["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["uid"].as_str() != Some(uid))
            .cloned()
            .collect();
        next["metadata"]["ownerReferences"] = json!(refs);
        if refs.is_empty() {
            if let Some(meta) = next["metadata"].as_object_mut() {
                meta.remove("ownerReferences");
            }
        }
        let ctx = WriteCtx::controller("update", "generic-garbage-collector", None);
        let _ = commit(state, &rtype, Some(&obj), next, &ctx, Ownership::Update);
    }
}

/// Deletes one object: finalizers and namespaces wait (the object gets `deletionTimestamp`),
/// others go at once. Returns the object as the response shows it, or `None` when it is gone.
pub fn delete_object(
    state: &mut State,
    rtype: &ResourceType,
    namespace: &str,
    name: &str,
    propagation: Propagation,
    dry_run: bool,
    controller: bool,
) -> Result<(Value, bool), ApiError> {
    let old = state.get(&rtype.key(), namespace, name).cloned().ok_or_else(|| ApiError::not_found(&rtype.group, &rtype.plural, name))?;
    if dry_run {
        return Ok((old, false));
    }
    let mut finalizers: Vec<Value> = old["metadata"]["finalizers"].as_array().cloned().unwrap_or_default();
    let uid = old["metadata"]["uid"].as_str().unwrap_or_default().to_owned();
    if propagation == Propagation::Orphan {
        orphan(state, &uid);
    }
    if propagation == Propagation::Foreground && crate::owners::has_dependents(state, &uid) {
        finalizers.push(json!("foregroundDeletion"));
    }
    let waits = !finalizers.is_empty() || rtype.plural == "namespaces";
    if waits {
        if !old["metadata"]["deletionTimestamp"].is_null() {
            return Ok((old, true));
        }
        let mut next = old.clone();
        next["metadata"]["deletionTimestamp"] = json!(store::now());
        next["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        next["metadata"]["finalizers"] = json!(finalizers);
        if finalizers.is_empty() {
            if let Some(meta) = next["metadata"].as_object_mut() {
                meta.remove("finalizers");
            }
        }
        if rtype.plural == "namespaces" {
            next["status"]["phase"] = json!("Terminating");
        }
        let stored = state.put(rtype, "delete", controller, next);
        return Ok((stored, true));
    }
    let removed = state.remove(rtype, controller, namespace, name).unwrap_or(old);
    Ok((removed, false))
}

/// The `DeleteOptions` body of a DELETE, if any (`null` when absent or unreadable).
fn delete_options(req: &Request) -> Value {
    if req.body.is_empty() {
        Value::Null
    } else {
        body(req).unwrap_or(Value::Null)
    }
}

/// `dryRun=All` in the query or in the `DeleteOptions`.
fn delete_dry_run(req: &Request, options: &Value) -> bool {
    req.dry_run() || options["dryRun"].as_array().is_some_and(|d| d.iter().any(|v| v == "All"))
}

fn propagation(req: &Request, options: &Value) -> Result<Propagation, ApiError> {
    let orphan_flag = req.param("orphanDependents").or(options["orphanDependents"].as_bool().map(|o| if o { "true" } else { "false" }));
    // Kubernetes' default for every kind the sandbox serves: background garbage collection.
    match req.param("propagationPolicy").or(options["propagationPolicy"].as_str()) {
        Some("Orphan") => Ok(Propagation::Orphan),
        Some("Background") => Ok(Propagation::Background),
        Some("Foreground") => Ok(Propagation::Foreground),
        Some(other) => Err(ApiError::bad_request(format!(
            "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
        ))),
        None if orphan_flag == Some("true") => Ok(Propagation::Orphan),
        None => Ok(Propagation::Background),
    }
}

/// DELETE of one object.
pub fn delete(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let name = path.name.clone().unwrap_or_default();
    let namespace = path.namespace.clone().unwrap_or_default();
    let options = delete_options(req);
    let policy = propagation(req, &options)?;
    let preconditions = options["preconditions"].clone();
    let dry_run = delete_dry_run(req, &options);
    let (obj, pending) = cluster.with(|state| {
        if let Some(current) = state.get(&rtype.key(), &namespace, &name) {
            if let Some(uid) = preconditions["uid"].as_str() {
                if current["metadata"]["uid"].as_str() != Some(uid) {
                    return Err(ApiError::stale(&rtype.group, &rtype.plural, &name));
                }
            }
            if let Some(rv) = preconditions["resourceVersion"].as_str() {
                if current["metadata"]["resourceVersion"].as_str() != Some(rv) {
                    return Err(ApiError::stale(&rtype.group, &rtype.plural, &name));
                }
            }
        }
        delete_object(state, rtype, &namespace, &name, policy, dry_run, false)
    })?;
    cluster.wake_controllers.notify_one();
    if pending || matches!(rtype.plural.as_str(), "pods" | "namespaces") {
        return Ok(Response::ok(served(obj, rtype)));
    }
    Ok(Response::ok(status::success(json!({"name": name, "group": rtype.group, "kind": rtype.plural, "uid": obj["metadata"]["uid"]}))))
}

/// DELETE of a collection (with selectors).
pub fn delete_collection(cluster: &Arc<Cluster>, req: &Request, path: &ResourcePath, rtype: &ResourceType) -> Result<Response, ApiError> {
    let filter = super::read::Filter::of(req, rtype)?;
    let options = delete_options(req);
    let policy = propagation(req, &options)?;
    let dry_run = delete_dry_run(req, &options);
    let namespace = path.namespace.clone();
    let deleted = cluster.with(|state| {
        let targets: Vec<(String, String)> = state
            .list(&rtype.key(), namespace.as_deref())
            .filter(|o| filter.matches(o))
            .map(|o| {
                (
                    o["metadata"]["namespace"].as_str().unwrap_or_default().to_owned(),
                    o["metadata"]["name"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let mut items = Vec::new();
        for (ns, name) in targets {
            if let Ok((obj, _)) = delete_object(state, rtype, &ns, &name, policy, dry_run, false) {
                items.push(served(obj, rtype));
            }
        }
        items
    });
    cluster.wake_controllers.notify_one();
    Ok(Response::ok(json!({"apiVersion": rtype.api_version(), "kind": format!("{}List", rtype.kind), "metadata": {}, "items": deleted})))
}
