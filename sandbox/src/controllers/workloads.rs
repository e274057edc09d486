//! Workloads: ReplicaSets and StatefulSets own Pods (Deployments own ReplicaSets: `deployments`),
//! StatefulSets create PVCs from their claim templates and replace pods from the highest ordinal
//! down; the simulated kubelet gives each Pod its state (running, or the failure states an image
//! or annotation asks for); statuses follow.

use serde_json::{json, Value};
use sha2::Digest;

use super::{events, objects, rtype, set_status, MANAGER};
use crate::api::write::{commit, delete_object, Ownership, Propagation, WriteCtx};
use crate::nodes;
use crate::registry::ResourceType;
use crate::store::{self, State};

/// One pass over Deployments, ReplicaSets, StatefulSets and Pods.
pub fn reconcile(state: &mut State) {
    super::deployments::reconcile(state);
    replica_sets(state);
    super::statefulsets::reconcile(state);
    super::daemonsets::reconcile(state);
    super::jobs::reconcile(state);
    pods(state);
}

pub(super) fn hash(value: &Value) -> String {
    let digest = sha2::Sha256::digest(value.to_string().as_bytes());
    // Kubernetes' pod-template-hash alphabet: no vowels, no 0/1/3 look-alikes.
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    digest.iter().take(10).map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect()
}

pub(super) fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true
    })
}

pub(super) fn owned_by<'a>(items: &'a [Value], owner: &Value) -> impl Iterator<Item = &'a Value> + 'a {
    let uid = owner["metadata"]["uid"].as_str().unwrap_or_default().to_owned();
    items.iter().filter(move |o| {
        o["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["uid"].as_str() == Some(uid.as_str()) && r["controller"] == true)
    })
}

/// Adopts the alive pods of `ns` that no controller owns and that match the owner's selector,
/// as Kubernetes' ControllerRefManager does: a StatefulSet deleted with `Orphan` and created
/// again takes its pods back instead of leaving them out of its counts.
pub(super) fn adopt_orphans(state: &mut State, pod_type: &ResourceType, owner: &Value, ns: &str) {
    let Some(selector) = owner["spec"]["selector"]["matchLabels"].as_object().filter(|m| !m.is_empty()).cloned() else { return };
    for pod in objects(state, "", "pods", Some(ns)) {
        let controlled = pod["metadata"]["ownerReferences"].as_array().into_iter().flatten().any(|r| r["controller"] == true);
        let matches = selector.iter().all(|(k, v)| &pod["metadata"]["labels"][k] == v);
        if controlled || !matches || !alive(&pod) {
            continue;
        }
        let mut next = pod.clone();
        let mut refs = pod["metadata"]["ownerReferences"].as_array().cloned().unwrap_or_default();
        refs.push(owner_ref(owner));
        next["metadata"]["ownerReferences"] = json!(refs);
        let ctx = WriteCtx::controller("update", MANAGER, None);
        let _ = commit(state, pod_type, Some(&pod), next, &ctx, Ownership::Update);
    }
}

pub(super) fn alive(obj: &Value) -> bool {
    obj["metadata"]["deletionTimestamp"].is_null()
}

fn replicas(obj: &Value) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

/// Creates a pod from a template, owned by `owner`, bound to `node` or to the node the scheduler
/// picks (none when no node fits: the pod stays Pending); returns its name, or the admission
/// error.
pub(super) fn create_pod(
    state: &mut State,
    owner: &Value,
    template: &Value,
    name: Option<String>,
    extra_labels: Value,
    node: Option<&str>,
) -> Result<String, String> {
    let Some(pod_type) = rtype(state, "", "pods") else { return Err("pods are not served".into()) };
    let ns = owner["metadata"]["namespace"].as_str().unwrap_or_default();
    let mut labels = template["metadata"]["labels"].clone();
    for (k, v) in extra_labels.as_object().into_iter().flatten() {
        labels[k] = v.clone();
    }
    let mut metadata = json!({"namespace": ns, "labels": labels, "ownerReferences": [owner_ref(owner)]});
    if let Some(a) = template["metadata"]["annotations"].as_object() {
        metadata["annotations"] = json!(a);
    }
    let name = name.unwrap_or_else(|| {
        let suffix: String = store::uid().chars().filter(char::is_ascii_alphanumeric).take(5).collect();
        format!("{}-{suffix}", owner["metadata"]["name"].as_str().unwrap_or_default())
    });
    metadata["name"] = json!(name);
    let mut spec = template["spec"].clone();
    let node = node.map(str::to_owned).or_else(|| nodes::schedule(state, &spec));
    if let Some(node) = node {
        spec["nodeName"] = json!(node);
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
    let ctx = WriteCtx::controller("create", MANAGER, None);
    commit(state, &pod_type, None, pod, &ctx, Ownership::Update).map(|_| name).map_err(|e| e.message)
}

fn replica_sets(state: &mut State) {
    let Some(rs_type) = rtype(state, "apps", "replicasets") else { return };
    for rs in objects(state, "apps", "replicasets", None) {
        if !alive(&rs) {
            continue;
        }
        let ns = rs["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
        let pods = objects(state, "", "pods", Some(&ns));
        let owned: Vec<Value> = owned_by(&pods, &rs).filter(|p| alive(p)).cloned().collect();
        let want = replicas(&rs);
        let mut failure = None;
        let have = owned.len() as i64;
        if have < want {
            for _ in have..want {
                if let Err(message) = create_pod(state, &rs, &rs["spec"]["template"], None, json!({}), None) {
                    events::record(state, &rs, "Warning", "FailedCreate", &format!("Error creating: {message}"), "replicaset-controller");
                    failure = Some(message);
                    break;
                }
            }
        } else if have > want {
            if let Some(pod_type) = rtype(state, "", "pods") {
                // Pods that are not ready go first, as the ReplicaSet controller ranks them.
                let mut doomed = owned.clone();
                doomed.sort_by_key(pod_ready);
                for pod in doomed.iter().take((have - want) as usize) {
                    let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                    let _ = delete_object(state, &pod_type, &ns, &name, Propagation::Background, false, true);
                }
            }
        }
        let pods = objects(state, "", "pods", Some(&ns));
        let owned: Vec<&Value> = owned_by(&pods, &rs).filter(|p| alive(p)).collect();
        let ready = owned.iter().filter(|p| pod_ready(p)).count() as i64;
        let mut status = json!({
            "replicas": owned.len(), "fullyLabeledReplicas": owned.len(), "readyReplicas": ready, "availableReplicas": ready,
            "observedGeneration": rs["metadata"]["generation"]
        });
        let previous_failure = rs["status"]["conditions"].as_array().into_iter().flatten().find(|c| c["type"] == "ReplicaFailure").cloned();
        match (failure, previous_failure) {
            (Some(message), _) => {
                status["conditions"] = json!([{"type": "ReplicaFailure", "status": "True", "lastTransitionTime": store::now(), "reason": "FailedCreate", "message": message}]);
            }
            (None, Some(prev)) if (owned.len() as i64) < want => status["conditions"] = json!([prev]),
            _ => {}
        }
        for zero in ["readyReplicas", "availableReplicas", "fullyLabeledReplicas"] {
            if status[zero] == 0 {
                if let Some(m) = status.as_object_mut() {
                    m.remove(zero);
                }
            }
        }
        set_status(state, &rs_type, &rs, status);
    }
}

pub(super) fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// The simulated kubelet: every new pod gets its state once. Containers of pods whose
/// `restartPolicy` is `Never` or `OnFailure` run to completion (`Succeeded`) unless they fail.
fn pods(state: &mut State) {
    let Some(pod_type) = rtype(state, "", "pods") else { return };
    let node_count = nodes::ready(state).len();
    for pod in objects(state, "", "pods", None) {
        if !alive(&pod) || pod["status"]["startTime"].is_string() && !waiting_for_claims(&pod) {
            continue;
        }
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
        let now = store::now();
        let unbound: Vec<String> = claims(&pod)
            .into_iter()
            .filter(|c| {
                state
                    .get(&crate::registry::TypeKey { group: String::new(), plural: "persistentvolumeclaims".into() }, &ns, c)
                    .is_none_or(|pvc| pvc["status"]["phase"] != "Bound")
            })
            .collect();
        let unschedulable = if !unbound.is_empty() {
            Some(format!(
                "0/{node_count} nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/{node_count} nodes are available: {node_count} Preemption is not helpful for scheduling."
            ))
        } else if pod["spec"]["nodeName"].is_null() && nodes::schedule(state, &pod["spec"]).is_none() {
            Some(format!(
                "0/{node_count} nodes are available: {node_count} node(s) didn't match Pod's node affinity/selector. preemption: 0/{node_count} nodes are available: {node_count} Preemption is not helpful for scheduling."
            ))
        } else {
            None
        };
        if let Some(message) = unschedulable {
            let status = json!({
                "phase": "Pending",
                "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastProbeTime": null, "lastTransitionTime": now, "message": message}],
                "qosClass": qos(&pod)
            });
            if pod["status"]["conditions"][0]["message"] != status["conditions"][0]["message"] {
                set_status(state, &pod_type, &pod, status);
            }
            continue;
        }
        let status = kubelet_status(state, &pod, &now);
        set_status(state, &pod_type, &pod, status);
    }
}

/// What one container's image and the pod's sandbox annotations make of it.
enum Outcome {
    PullFails,
    Crashes { reason: &'static str, code: i64 },
    Runs,
}

fn outcome(pod: &Value, container: &Value) -> Outcome {
    let image = container["image"].as_str().unwrap_or_default();
    if image.contains("doesnotexist") {
        Outcome::PullFails
    } else if pod["metadata"]["annotations"]["sandbox.cairn.dev/oom"] == "true" {
        Outcome::Crashes { reason: "OOMKilled", code: 137 }
    } else if pod["metadata"]["annotations"]["sandbox.cairn.dev/crash"] == "true" {
        Outcome::Crashes { reason: "Error", code: 1 }
    } else {
        Outcome::Runs
    }
}

/// The status the kubelet reports for a scheduled pod with its claims bound.
fn kubelet_status(state: &mut State, pod: &Value, now: &str) -> Value {
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    let restart_policy = pod["spec"]["restartPolicy"].as_str().unwrap_or("Always").to_owned();
    let runs_to_completion = restart_policy != "Always";
    let pull_failed = |state: &mut State, image: &str| {
        events::record(state, pod, "Warning", "Failed", &format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"), "kubelet");
        events::record(state, pod, "Warning", "BackOff", &format!("Back-off pulling image \"{image}\""), "kubelet");
        json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}})
    };
    // Init containers run first, in order; sidecars (`restartPolicy: Always`) keep running.
    let mut initialized = true;
    let mut init_statuses = Vec::new();
    for c in pod["spec"]["initContainers"].as_array().into_iter().flatten() {
        let cname = c["name"].as_str().unwrap_or_default();
        let image = c["image"].as_str().unwrap_or_default();
        let sidecar = c["restartPolicy"] == "Always";
        let base = json!({"name": cname, "image": image, "imageID": "", "started": false, "ready": false, "restartCount": 0});
        let state_of = if !initialized {
            json!({"state": {"waiting": {"reason": "PodInitializing"}}})
        } else {
            match outcome(pod, c) {
                Outcome::PullFails => {
                    initialized = false;
                    json!({"state": pull_failed(state, image)})
                }
                Outcome::Crashes { reason, code } => {
                    initialized = false;
                    json!({"restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 40s restarting failed container={cname}")}},
                           "lastState": {"terminated": {"reason": reason, "exitCode": code, "startedAt": now, "finishedAt": now}}})
                }
                Outcome::Runs if sidecar => {
                    json!({"ready": true, "started": true, "imageID": format!("sandbox://{image}"), "state": {"running": {"startedAt": now}}})
                }
                Outcome::Runs => {
                    json!({"imageID": format!("sandbox://{image}"), "state": {"terminated": {"reason": "Completed", "exitCode": 0, "startedAt": now, "finishedAt": now}}})
                }
            }
        };
        init_statuses.push(merge(base, state_of));
    }
    let mut all_ready = initialized;
    let (mut all_succeeded, mut any_failed, mut crashing) = (initialized, false, false);
    let mut statuses = Vec::new();
    for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
        let cname = c["name"].as_str().unwrap_or_default();
        let image = c["image"].as_str().unwrap_or_default();
        let base = json!({"name": cname, "image": image, "imageID": "", "started": false, "ready": false, "restartCount": 0});
        let state_of = if !initialized {
            json!({"state": {"waiting": {"reason": "PodInitializing"}}})
        } else {
            match outcome(pod, c) {
                Outcome::PullFails => {
                    (all_ready, all_succeeded) = (false, false);
                    json!({"state": pull_failed(state, image)})
                }
                Outcome::Crashes { reason, code } if restart_policy == "Never" => {
                    (all_ready, all_succeeded, any_failed) = (false, false, true);
                    json!({"imageID": format!("sandbox://{image}"), "state": {"terminated": {"reason": reason, "exitCode": code, "startedAt": now, "finishedAt": now}}})
                }
                Outcome::Crashes { reason, code } => {
                    (all_ready, all_succeeded, crashing) = (false, false, true);
                    events::record(
                        state,
                        pod,
                        "Warning",
                        "BackOff",
                        &format!("Back-off restarting failed container {cname} in pod {pod_name}"),
                        "kubelet",
                    );
                    json!({
                        "restartCount": 3,
                        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 40s restarting failed container={cname}")}},
                        "lastState": {"terminated": {"reason": reason, "exitCode": code, "startedAt": now, "finishedAt": now}}
                    })
                }
                Outcome::Runs if runs_to_completion => {
                    json!({"imageID": format!("sandbox://{image}"), "state": {"terminated": {"reason": "Completed", "exitCode": 0, "startedAt": now, "finishedAt": now}}})
                }
                Outcome::Runs => {
                    json!({"ready": true, "started": true, "imageID": format!("sandbox://{image}"), "state": {"running": {"startedAt": now}}})
                }
            }
        };
        statuses.push(merge(base, state_of));
    }
    let finished = runs_to_completion && initialized && (all_succeeded || any_failed);
    let phase = if finished {
        if any_failed {
            "Failed"
        } else {
            "Succeeded"
        }
    } else if (all_ready || crashing) && initialized {
        "Running"
    } else {
        "Pending"
    };
    let condition = |kind: &str, status: bool, reason: Option<&str>| {
        let mut c =
            json!({"type": kind, "status": if status { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": now});
        if let Some(r) = reason {
            c["reason"] = json!(r);
        }
        c
    };
    let done_reason = finished.then_some("PodCompleted");
    let not_ready = if finished {
        done_reason
    } else if !initialized {
        Some("ContainersNotInitialized")
    } else {
        Some("ContainersNotReady")
    };
    let ready = all_ready && !finished;
    let conditions = json!([
        condition("PodReadyToStartContainers", !finished, None),
        condition(
            "Initialized",
            initialized,
            if finished {
                done_reason
            } else if initialized {
                None
            } else {
                Some("ContainersNotInitialized")
            }
        ),
        condition("Ready", ready, if ready { None } else { not_ready }),
        condition("ContainersReady", ready, if ready { None } else { not_ready }),
        condition("PodScheduled", true, None),
    ]);
    let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
    let host = nodes::host_ip(state, node).unwrap_or_else(|| "127.0.0.1".to_owned());
    let ip = state.allocate_ip().replacen("10.96.", "10.244.", 1);
    let mut status = json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": host, "hostIPs": [{"ip": host}], "podIP": ip, "podIPs": [{"ip": ip}],
        "startTime": now,
        "containerStatuses": statuses,
        "qosClass": qos(pod)
    });
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = json!(init_statuses);
    }
    status
}

pub(super) fn merge(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().into_iter().flatten() {
        base[k] = v.clone();
    }
    base
}

fn claims(pod: &Value) -> Vec<String> {
    pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str().map(str::to_owned))
        .collect()
}

/// Whether the pod is unscheduled for want of bound claims (it gets its state once they bind).
fn waiting_for_claims(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "PodScheduled" && c["status"] == "False")
}

fn qos(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = pod["spec"]["containers"].as_array().into_iter().flatten().collect();
    let has = |c: &&Value, f: &str| c["resources"][f].as_object().is_some_and(|m| !m.is_empty());
    if containers.iter().all(|c| {
        has(c, "limits")
            && c["resources"]["limits"]["cpu"].is_string()
            && c["resources"]["limits"]["memory"].is_string()
            && (c["resources"]["requests"].is_null() || c["resources"]["requests"] == c["resources"]["limits"])
    }) {
        "Guaranteed"
    } else if containers.iter().any(|c| has(c, "limits") || has(c, "requests")) {
        "Burstable"
    } else {
        "BestEffort"
    }
}
