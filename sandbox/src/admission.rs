//! Admission: LimitRange defaults and maxima for containers, Pod Security (`pod_security.rs`)
//! and ResourceQuota, in the order the `LimitRanger`, `PodSecurity` and `ResourceQuota`
//! admission plugins of kube-apiserver run.

use std::collections::BTreeMap;

use cairn_core::Quantity;
use serde_json::{json, Map, Value};

use crate::registry::{ResourceType, TypeKey};
use crate::status::{self, ApiError};
use crate::store::State;

fn key(group: &str, plural: &str) -> TypeKey {
    TypeKey { group: group.into(), plural: plural.into() }
}

fn quantity(v: &Value) -> Option<Quantity> {
    Quantity::from_json(v).ok()
}

/// Runs admission on a create or update about to be stored; may change `new` (LimitRange
/// defaults) or refuse it (403, as kube-apiserver).
pub fn admit(state: &State, rtype: &ResourceType, old: Option<&Value>, new: &mut Value) -> Result<(), ApiError> {
    let namespace = new["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
    if rtype.group.is_empty() && rtype.plural == "pods" && old.is_none() {
        limit_ranges(state, &namespace, new)?;
        if let Some(message) = crate::pod_security::refusal(state, &namespace, new) {
            let name = new["metadata"]["name"].as_str().unwrap_or_default();
            return Err(ApiError::forbidden(format!("pods \"{name}\" is forbidden: {message}")));
        }
    }
    if old.is_none() || (rtype.group.is_empty() && rtype.plural == "persistentvolumeclaims") {
        quotas(state, rtype, &namespace, old, new)?;
    }
    Ok(())
}

/// The warnings admission gives a stored create or update: Pod Security's for a workload
/// whose pod template (new, or changed) violates the namespace's enforced level.
pub fn warnings(state: &State, rtype: &ResourceType, old: Option<&Value>, new: &Value) -> Vec<String> {
    let Some(template) = crate::pod_security::pod_template(&rtype.kind, new) else { return Vec::new() };
    if old.and_then(|o| crate::pod_security::pod_template(&rtype.kind, o)) == Some(template) {
        return Vec::new();
    }
    let namespace = new["metadata"]["namespace"].as_str().unwrap_or_default();
    crate::pod_security::workload_warning(state, namespace, &rtype.kind, new).into_iter().collect()
}

/// Init and regular containers (LimitRange defaults and bounds apply to both).
fn containers_mut(pod: &mut Value) -> impl Iterator<Item = &mut Value> {
    pod.get_mut("spec")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|s| s.iter_mut())
        .filter(|(k, _)| *k == "initContainers" || *k == "containers")
        .filter_map(|(_, v)| v.as_array_mut())
        .flatten()
}

fn limit_ranges(state: &State, namespace: &str, pod: &mut Value) -> Result<(), ApiError> {
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    let items: Vec<Value> = state
        .list(&key("", "limitranges"), Some(namespace))
        .flat_map(|lr| lr["spec"]["limits"].as_array().cloned().unwrap_or_default())
        .filter(|item| item["type"].as_str() == Some("Container"))
        .collect();
    for item in &items {
        for container in containers_mut(pod) {
            for (field, defaults) in [("limits", &item["default"]), ("requests", &item["defaultRequest"])] {
                let Some(defaults) = defaults.as_object() else { continue };
                for (resource, value) in defaults {
                    let resources = &mut container["resources"];
                    if resources[field][resource].is_null() {
                        resources[field][resource] = value.clone();
                    }
                }
            }
            for (resource, max) in item["max"].as_object().into_iter().flatten() {
                let (Some(max_q), Some(limit)) = (quantity(max), quantity(&container["resources"]["limits"][resource])) else { continue };
                if limit > max_q {
                    return Err(ApiError::forbidden(format!(
                        "pods \"{pod_name}\" is forbidden: maximum {resource} usage per Container is {}, but limit is {}",
                        max_q.canonical(),
                        limit.canonical()
                    )));
                }
            }
            for (resource, min) in item["min"].as_object().into_iter().flatten() {
                let (Some(min_q), Some(request)) = (quantity(min), quantity(&container["resources"]["requests"][resource])) else {
                    continue;
                };
                if request < min_q {
                    return Err(ApiError::forbidden(format!(
                        "pods \"{pod_name}\" is forbidden: minimum {resource} usage per Container is {}, but request is {}",
                        min_q.canonical(),
                        request.canonical()
                    )));
                }
            }
        }
    }
    Ok(())
}

fn add_to(totals: &mut BTreeMap<String, Quantity>, resources: &Value) {
    for (resource, v) in resources.as_object().into_iter().flatten() {
        let Some(q) = quantity(v) else { continue };
        let total = totals.get(resource).copied().and_then(|t| t.checked_add(q).ok()).unwrap_or(q);
        totals.insert(resource.clone(), total);
    }
}

/// A pod's effective requests or limits per resource, by Kubernetes' `PodRequests` rule: the
/// sum over its containers and sidecars (init containers with `restartPolicy: Always`), or a
/// regular init container's with the sidecars started before it, whichever is larger.
fn effective(spec: &Value, field: &str) -> BTreeMap<String, Quantity> {
    let mut sum = BTreeMap::new();
    for c in spec["containers"].as_array().into_iter().flatten() {
        add_to(&mut sum, &c["resources"][field]);
    }
    let mut sidecars = BTreeMap::new();
    let mut init_peak: BTreeMap<String, Quantity> = BTreeMap::new();
    for c in spec["initContainers"].as_array().into_iter().flatten() {
        if c["restartPolicy"] == "Always" {
            add_to(&mut sum, &c["resources"][field]);
            add_to(&mut sidecars, &c["resources"][field]);
        } else {
            let mut with_sidecars = sidecars.clone();
            add_to(&mut with_sidecars, &c["resources"][field]);
            for (resource, q) in with_sidecars {
                if init_peak.get(&resource).is_none_or(|peak| q > *peak) {
                    init_peak.insert(resource, q);
                }
            }
        }
    }
    for (resource, q) in init_peak {
        if sum.get(&resource).is_none_or(|total| q > *total) {
            sum.insert(resource, q);
        }
    }
    sum
}

/// What one object adds to the quota resources it counts in.
fn contribution(rtype: &ResourceType, obj: &Value) -> BTreeMap<String, Quantity> {
    let mut out = BTreeMap::new();
    let one = Quantity::parse("1").ok();
    let count_key =
        if rtype.group.is_empty() { format!("count/{}", rtype.plural) } else { format!("count/{}.{}", rtype.plural, rtype.group) };
    if let Some(one) = one {
        out.insert(count_key, one);
        if rtype.group.is_empty()
            && matches!(rtype.plural.as_str(), "pods" | "services" | "configmaps" | "secrets" | "persistentvolumeclaims" | "resourcequotas")
        {
            out.insert(rtype.plural.clone(), one);
        }
    }
    if rtype.group.is_empty() && rtype.plural == "pods" {
        let phase = obj["status"]["phase"].as_str().unwrap_or_default();
        if phase == "Succeeded" || phase == "Failed" {
            return BTreeMap::new();
        }
        for (field, prefix) in [("requests", "requests."), ("limits", "limits.")] {
            for (resource, q) in effective(&obj["spec"], field) {
                if field == "requests" {
                    out.insert(resource.clone(), q);
                }
                out.insert(format!("{prefix}{resource}"), q);
            }
        }
    }
    if rtype.group.is_empty() && rtype.plural == "persistentvolumeclaims" {
        if let Some(q) = quantity(&obj["spec"]["resources"]["requests"]["storage"]) {
            out.insert("requests.storage".into(), q);
            if let Some(sc) = obj["spec"]["storageClassName"].as_str() {
                out.insert(format!("{sc}.storageclass.storage.k8s.io/requests.storage"), q);
            }
        }
    }
    out
}

/// Current usage in a namespace of the resources a quota's `hard` names.
pub fn usage(state: &State, namespace: &str, hard: &Map<String, Value>) -> Map<String, Value> {
    let mut totals: BTreeMap<String, Quantity> = BTreeMap::new();
    let types: Vec<ResourceType> = state.registry.types().iter().filter(|t| t.namespaced).cloned().collect();
    for t in &types {
        let counted = hard.keys().any(|k| {
            contribution_names(t).iter().any(|n| n == k)
                || k.starts_with("requests.")
                || k.starts_with("limits.")
                || k == "cpu"
                || k == "memory"
                || k.contains(".storageclass.")
        });
        if !counted {
            continue;
        }
        for obj in state.list(&t.key(), Some(namespace)) {
            if !obj["metadata"]["deletionTimestamp"].is_null() && t.plural == "pods" {
                continue;
            }
            for (name, q) in contribution(t, obj) {
                let total = totals.get(&name).copied().and_then(|x| x.checked_add(q).ok()).unwrap_or(q);
                totals.insert(name, total);
            }
        }
    }
    hard.keys()
        .map(|k| {
            let used = totals.get(k).map_or_else(|| "0".to_owned(), |q| q.canonical());
            (k.clone(), json!(used))
        })
        .collect()
}

fn contribution_names(t: &ResourceType) -> Vec<String> {
    let mut names = vec![if t.group.is_empty() { format!("count/{}", t.plural) } else { format!("count/{}.{}", t.plural, t.group) }];
    if t.group.is_empty() {
        names.push(t.plural.clone());
    }
    names
}

fn quotas(state: &State, rtype: &ResourceType, namespace: &str, old: Option<&Value>, new: &Value) -> Result<(), ApiError> {
    if !rtype.namespaced {
        return Ok(());
    }
    let mut delta = contribution(rtype, new);
    if let Some(old) = old {
        // Updates count only what grows (a PVC asking for more storage).
        let before = contribution(rtype, old);
        delta.retain(|k, v| before.get(k).is_none_or(|b| *v > *b));
        for (k, v) in delta.iter_mut() {
            if let Some(b) = before.get(k) {
                if let Ok(d) = v.checked_sub(*b) {
                    *v = d;
                }
            }
        }
    }
    if delta.is_empty() {
        return Ok(());
    }
    let name = new["metadata"]["name"].as_str().unwrap_or_default();
    for quota in state.list(&key("", "resourcequotas"), Some(namespace)) {
        let Some(hard) = quota["spec"]["hard"].as_object() else { continue };
        let qname = quota["metadata"]["name"].as_str().unwrap_or_default();
        // Pods must state what a quota on cpu or memory tracks.
        if rtype.group.is_empty() && rtype.plural == "pods" {
            let mut missing = Vec::new();
            for resource in hard.keys().filter(|k| k.starts_with("limits.") || k.starts_with("requests.") && !k.ends_with("storage")) {
                let (field, res) = resource.split_once('.').unwrap_or_default();
                let lacking: Vec<&str> = ["containers", "initContainers"]
                    .iter()
                    .flat_map(|f| new["spec"][*f].as_array().into_iter().flatten())
                    .filter(|c| c["resources"][field][res].is_null())
                    .filter_map(|c| c["name"].as_str())
                    .collect();
                if !lacking.is_empty() {
                    missing.push(format!("{resource} for: {}", lacking.join(",")));
                }
            }
            if !missing.is_empty() {
                return Err(ApiError::forbidden(format!(
                    "{} \"{name}\" is forbidden: failed quota: {qname}: must specify {}",
                    status::qualified(&rtype.group, &rtype.plural),
                    missing.join("; ")
                )));
            }
        }
        let used = usage(state, namespace, hard);
        let mut exceeded = Vec::new();
        for (resource, limit) in hard {
            let Some(add) = delta.get(resource) else { continue };
            let (Some(limit), Some(current)) = (quantity(limit), quantity(&used[resource])) else { continue };
            let Ok(total) = current.checked_add(*add) else { continue };
            if total > limit {
                exceeded.push((resource.clone(), add.canonical(), current.canonical(), limit.canonical()));
            }
        }
        if !exceeded.is_empty() {
            let join = |f: fn(&(String, String, String, String)) -> String| exceeded.iter().map(f).collect::<Vec<_>>().join(",");
            return Err(ApiError::forbidden(format!(
                "{} \"{name}\" is forbidden: exceeded quota: {qname}, requested: {}, used: {}, limited: {}",
                status::qualified(&rtype.group, &rtype.plural),
                join(|e| format!("{}={}", e.0, e.1)),
                join(|e| format!("{}={}", e.0, e.2)),
                join(|e| format!("{}={}", e.0, e.3)),
            )));
        }
    }
    Ok(())
}
