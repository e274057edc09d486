//! What an import leaves out: objects that others make (a ReplicaSet, a Pod, a service account
//! token), fields the API server writes (status, `uid`, allocated IPs, …), and fields equal to
//! the value the API server would default them to — so the source reads as a person would write
//! it, and applying it changes nothing.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};

use super::Defaults;

/// Kinds made by controllers or the API server, never imported.
const MADE_BY_OTHERS: [&str; 12] = [
    "Pod",
    "ReplicaSet",
    "ControllerRevision",
    "Endpoints",
    "EndpointSlice",
    "Event",
    "Lease",
    "Binding",
    "ComponentStatus",
    "PodMetrics",
    "NodeMetrics",
    "TokenReview",
];

/// Metadata fields the API server writes.
const SERVER_METADATA: [&str; 9] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generateName",
];

/// Annotations written by tools and controllers, not by the object's author.
const TOOL_ANNOTATIONS: [&str; 10] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
    "autoscaling.alpha.kubernetes.io/conditions",
    "meta.helm.sh/release-name",
    "meta.helm.sh/release-namespace",
];

/// cairn's own labels and annotation: the adoption adds them, the source never states them.
pub(super) const CAIRN_LABELS: [&str; 2] = ["app.kubernetes.io/managed-by", "cairn.dev/stack"];
pub(super) const CAIRN_ANNOTATION: &str = "cairn.dev/address";
/// The annotation the runtime writes on protected objects.
const CAIRN_PROTECT: &str = "cairn.dev/protect";

/// Why `obj` is not imported at all, or `None` when it is.
pub(super) fn skip_reason(obj: &Json) -> Option<String> {
    let kind = obj.get("kind").and_then(Json::as_str).unwrap_or_default();
    let name = obj.pointer("/metadata/name").and_then(Json::as_str).unwrap_or_default();
    if MADE_BY_OTHERS.contains(&kind) {
        return Some(format!("a {kind} is made by a controller or the API server"));
    }
    if let Some(Json::Array(owners)) = obj.pointer("/metadata/ownerReferences") {
        if let Some(o) = owners.iter().find(|o| o.get("controller").and_then(Json::as_bool) == Some(true)) {
            let okind = o.get("kind").and_then(Json::as_str).unwrap_or("?");
            let oname = o.get("name").and_then(Json::as_str).unwrap_or("?");
            return Some(format!("made by its controller, {okind} {oname}"));
        }
    }
    let ty = obj.get("type").and_then(Json::as_str).unwrap_or_default();
    match (kind, name) {
        ("Namespace", "default" | "kube-system" | "kube-public" | "kube-node-lease") => {
            return Some("a namespace every cluster has: cairn never takes it over".into())
        }
        ("ServiceAccount", "default") => return Some("every namespace gets its own `default` service account".into()),
        ("ConfigMap", "kube-root-ca.crt") => return Some("Kubernetes publishes this CA bundle in every namespace".into()),
        ("Secret", _) if ty == "kubernetes.io/service-account-token" => {
            return Some("a service account token is made by Kubernetes".into())
        }
        ("Secret", _) if ty == "helm.sh/release.v1" => return Some("Helm's record of a release".into()),
        // Helm's ConfigMap storage driver and Tiller keep the whole release — values and the
        // rendered Secrets — in these.
        ("ConfigMap", _) if helm_record(obj) => return Some("Helm's record of a release (it holds the chart's values)".into()),
        _ => {}
    }
    let label = |k: &str| obj.pointer("/metadata/labels").and_then(|l| l.get(k)).and_then(Json::as_str);
    if label("app.kubernetes.io/managed-by") == Some("cairn") {
        if let Some(stack) = label("cairn.dev/stack") {
            return Some(format!("already managed by the cairn stack `{stack}`"));
        }
    }
    None
}

/// The claims a StatefulSet's controller made from its claim templates
/// (`<template>-<statefulset>-<ordinal>`), by id, with the StatefulSet's name.
pub(super) fn statefulset_claims(objects: &[Json], default_namespace: &str) -> Vec<(String, String, String)> {
    let mut prefixes = Vec::new();
    for o in objects.iter().filter(|o| o.get("kind").and_then(Json::as_str) == Some("StatefulSet")) {
        let ns = o.pointer("/metadata/namespace").and_then(Json::as_str).filter(|n| !n.is_empty()).unwrap_or(default_namespace);
        let name = o.pointer("/metadata/name").and_then(Json::as_str).unwrap_or_default();
        if let Some(Json::Array(templates)) = o.pointer("/spec/volumeClaimTemplates") {
            for t in templates {
                if let Some(t) = t.pointer("/metadata/name").and_then(Json::as_str) {
                    prefixes.push((ns.to_string(), format!("{t}-{name}-"), name.to_string()));
                }
            }
        }
    }
    prefixes
}

/// Whether claim `name` in `ns` was made from a StatefulSet's template; its StatefulSet.
pub(super) fn made_from_template<'a>(prefixes: &'a [(String, String, String)], ns: &str, name: &str) -> Option<&'a str> {
    prefixes
        .iter()
        .find(|(n, p, _)| {
            n == ns && name.strip_prefix(p.as_str()).is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|(_, _, sts)| sts.as_str())
}

/// Whether a ConfigMap is a Helm release record (`owner: helm` or Tiller's `OWNER: TILLER`).
fn helm_record(obj: &Json) -> bool {
    let labels = obj.pointer("/metadata/labels");
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Json::as_str);
    label("owner") == Some("helm") || label("OWNER") == Some("TILLER")
}

/// `obj` without what the API server and tools wrote: status, server metadata, generated
/// selectors, and — read from a cluster (`live`) — allocations (in a file, a `nodePort` or a
/// claim's `volumeName` was written by a person, and is kept); `namespace` filled in for
/// namespaced objects that lack one (or name it `null` or `""`).
pub(super) fn clean(mut obj: Json, default_namespace: Option<&str>, namespaced: bool, live: bool) -> Json {
    let kind = obj.get("kind").and_then(Json::as_str).unwrap_or_default().to_string();
    let Some(root) = obj.as_object_mut() else { return obj };
    root.remove("status");
    if let Some(Json::Object(meta)) = root.get_mut("metadata") {
        for f in SERVER_METADATA {
            meta.remove(f);
        }
        if meta.get("namespace").is_some_and(|n| n.is_null() || n.as_str() == Some("")) {
            meta.remove("namespace");
        }
        if namespaced && meta.get("namespace").is_none() {
            if let Some(ns) = default_namespace {
                meta.insert("namespace".into(), Json::String(ns.to_string()));
            }
        }
        if !namespaced {
            meta.remove("namespace");
        }
        // Finalizers on a live object are the business of the controllers that set them
        // (Rook's on a bucket claim, Kubernetes' on a claim); applying never removes them.
        if live {
            meta.remove("finalizers");
        }
        prune_map(meta, "annotations", |k| TOOL_ANNOTATIONS.contains(&k) || k == CAIRN_ANNOTATION || k == CAIRN_PROTECT);
        prune_map(meta, "labels", |k| CAIRN_LABELS.contains(&k) || (kind == "Namespace" && k == "kubernetes.io/metadata.name"));
    }
    match kind.as_str() {
        "Namespace" if root.get("spec").and_then(|s| s.get("finalizers")) == Some(&serde_json::json!(["kubernetes"])) => {
            root.remove("spec");
        }
        "Service" if live => {
            if let Some(Json::Object(spec)) = root.get_mut("spec") {
                if spec.get("clusterIP").and_then(Json::as_str) != Some("None") {
                    spec.remove("clusterIP");
                    spec.remove("clusterIPs");
                } else if spec.get("clusterIPs") == Some(&serde_json::json!(["None"])) {
                    spec.remove("clusterIPs");
                }
                for f in ["ipFamilies", "ipFamilyPolicy", "healthCheckNodePort"] {
                    spec.remove(f);
                }
                if let Some(Json::Array(ports)) = spec.get_mut("ports") {
                    for p in ports.iter_mut().filter_map(Json::as_object_mut) {
                        p.remove("nodePort");
                    }
                }
            }
        }
        "PersistentVolumeClaim" if live => {
            if let Some(Json::Object(spec)) = root.get_mut("spec") {
                spec.remove("volumeName");
            }
        }
        "ObjectBucketClaim" => {
            // Filled in by the bucket provisioner once the claim is bound.
            if let Some(Json::Object(spec)) = root.get_mut("spec") {
                if spec.contains_key("generateBucketName") {
                    spec.remove("bucketName");
                }
                spec.remove("objectBucketName");
            }
        }
        "StatefulSet" => {
            if let Some(Json::Array(claims)) = root.get_mut("spec").and_then(|s| s.get_mut("volumeClaimTemplates")) {
                for c in claims.iter_mut().filter_map(Json::as_object_mut) {
                    c.remove("status");
                    c.remove("apiVersion");
                    c.remove("kind");
                    if let Some(Json::Object(m)) = c.get_mut("metadata") {
                        m.remove("creationTimestamp");
                    }
                }
            }
        }
        "Job" => job_generated(root, "/spec"),
        "CronJob" => job_generated(root, "/spec/jobTemplate/spec"),
        _ => {}
    }
    for at in ["/spec/template/metadata", "/spec/jobTemplate/metadata", "/spec/jobTemplate/spec/template/metadata"] {
        if let Some(Json::Object(m)) = obj.pointer_mut(at) {
            m.remove("creationTimestamp");
        }
    }
    obj
}

/// A Job's generated selector and the labels it puts on its pods, unless the author chose the
/// selector (`manualSelector`).
fn job_generated(root: &mut Map<String, Json>, spec_at: &str) {
    let mut obj = Json::Object(std::mem::take(root));
    if let Some(Json::Object(spec)) = obj.pointer_mut(spec_at) {
        if spec.get("manualSelector").and_then(Json::as_bool) != Some(true) {
            spec.remove("selector");
            if let Some(Json::Object(labels)) = spec.get_mut("template").and_then(|t| t.pointer_mut("/metadata/labels")) {
                for k in ["controller-uid", "job-name", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"] {
                    labels.remove(k);
                }
            }
        }
    }
    if let Json::Object(m) = obj {
        *root = m;
    }
}

/// Removes the keys of the map `meta[field]` that `drop` picks, and the map when it empties.
fn prune_map(meta: &mut Map<String, Json>, field: &str, drop: impl Fn(&str) -> bool) {
    if let Some(Json::Object(m)) = meta.get_mut(field) {
        m.retain(|k, _| !drop(k));
        if m.is_empty() {
            meta.remove(field);
        }
    }
}

/// `obj` with every field the API server would put back by defaulting removed: a field goes
/// when the object without it defaults to the same object as with it. Fields are tried in
/// path order, each removal kept, so the result defaults to what `obj` defaults to.
pub(super) fn minimize(obj: Json, defaults: &dyn Defaults) -> Json {
    let api_version = obj.get("apiVersion").and_then(Json::as_str).unwrap_or_default().to_string();
    let kind = obj.get("kind").and_then(Json::as_str).unwrap_or_default().to_string();
    // Only the built-in kinds are defaulted; a custom resource (a CRD's object, a large CRD
    // itself) is taken as written — trying each of its fields would cost its size squared.
    if !cairn_core::merge_keys::knows_kind(&api_version, &kind) || kind == "CustomResourceDefinition" {
        return obj;
    }
    let target = defaulted(defaults, &api_version, &kind, obj.clone());
    let mut current = obj;
    let mut paths = Vec::new();
    leaves(&current, String::new(), &mut paths);
    paths.sort();
    let mut gone: BTreeSet<String> = BTreeSet::new();
    for p in paths {
        if p.starts_with("/apiVersion") || p.starts_with("/kind") || p.starts_with("/metadata/name") || p.starts_with("/metadata/namespace")
        {
            continue;
        }
        if gone.iter().any(|g| p.starts_with(&format!("{g}/"))) {
            continue;
        }
        let mut candidate = current.clone();
        if !remove(&mut candidate, &p) {
            continue;
        }
        if defaulted(defaults, &api_version, &kind, candidate.clone()) == target {
            current = candidate;
            gone.insert(p);
        }
    }
    current
}

/// `obj` after defaulting.
pub(super) fn defaulted(defaults: &dyn Defaults, api_version: &str, kind: &str, mut obj: Json) -> Json {
    defaults.apply(api_version, kind, &mut obj);
    obj
}

/// The JSON pointers of `v`'s removable parts: scalar leaves, empty maps and lists, and map
/// entries (tried before their insides, so a defaulted whole block goes at once).
fn leaves(v: &Json, at: String, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                leaves(child, p, out);
            }
        }
        Json::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                // List items are not removed one by one (that would renumber the rest), only
                // what is inside them.
                leaves(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Removes the map entry at `pointer`; false when there is none (list items are not removed).
fn remove(obj: &mut Json, pointer: &str) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return false };
    let key = last.replace("~1", "/").replace("~0", "~");
    match obj.pointer_mut(parent) {
        Some(Json::Object(m)) => m.remove(&key).is_some(),
        _ => false,
    }
}
