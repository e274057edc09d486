//! Whether an applied object is ready, still progressing, or failed — pure functions of the
//! objects as the Kubernetes API returns them.
//!
//! Waits poll these and stop at the first [`Health::Failed`], so a rollout that cannot succeed
//! (an image that cannot be pulled, a container that keeps crashing, a pod that cannot be
//! scheduled, a ReplicaSet refused by a ResourceQuota) fails at once with its cause instead of
//! hanging until the timeout.

use serde_json::Value;

/// Where an object stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// Nothing left to wait for.
    Ready,
    /// Not ready yet; what it waits for (`deployment web: 1 of 3 updated replicas are available`).
    Progressing(String),
    /// It will not become ready without a change; what went wrong, naming the object.
    Failed(String),
}

/// Waiting reasons of a container that cannot pull its image.
const IMAGE_REASONS: &[&str] = &["ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull"];
/// Waiting reasons of a container that cannot be created.
const CREATE_REASONS: &[&str] = &["CreateContainerConfigError", "CreateContainerError", "RunContainerError"];

/// The health of a Deployment, StatefulSet or DaemonSet rollout, or of a Job's run (other
/// kinds: [`Health::Ready`]).
///
/// Ready as `kubectl rollout status` judges it. `replica_sets` (Deployments) and `pods` are those
/// matching the workload's selector. Failed when a pod of the current revision cannot come up
/// (image pull, container creation, crash loop, unschedulable), when the Deployment or its
/// newest ReplicaSet reports `ReplicaFailure` (a ResourceQuota refusal), or when the Deployment
/// exceeded its progress deadline. Pods of the current revision are told by `pod-template-hash`
/// (the newest ReplicaSet's) or `controller-revision-hash` (`status.updateRevision`); when that
/// cannot be told, every pod counts. Pods being deleted never fail a rollout.
pub fn workload(obj: &Value, replica_sets: &[Value], pods: &[Value]) -> Health {
    match str_at(obj, "/kind") {
        Some("Deployment") => deployment(obj, replica_sets, pods),
        Some("StatefulSet") => stateful_set(obj, pods),
        Some("DaemonSet") => daemon_set(obj, pods),
        Some("Job") => job(obj, pods),
        _ => Health::Ready,
    }
}

/// A DaemonSet as `kubectl rollout status` judges it: every scheduled pod updated and
/// available. Every pod it selects counts for failures (a DaemonSet's status names no current
/// revision; the pods of an old one are being replaced anyway).
fn daemon_set(obj: &Value, pods: &[Value]) -> Health {
    let name = format!("daemonset {}", name_of(obj));
    if let Some(waiting) = unobserved(obj, &name) {
        return waiting;
    }
    if let Some(cause) = pod_failure(pods, "controller-revision-hash", None) {
        return Health::Failed(cause);
    }
    if str_at(obj, "/spec/updateStrategy/type").unwrap_or("RollingUpdate") != "RollingUpdate" {
        return Health::Ready; // OnDelete: pods update when someone deletes them.
    }
    let want = int_at(obj, "/status/desiredNumberScheduled").unwrap_or(0);
    let updated = int_at(obj, "/status/updatedNumberScheduled").unwrap_or(0);
    let available = int_at(obj, "/status/numberAvailable").unwrap_or(0);
    if updated < want {
        Health::Progressing(format!("{name}: {updated} of {want} scheduled pods are updated"))
    } else if available < want {
        Health::Progressing(format!("{name}: {available} of {want} updated pods are available"))
    } else {
        Health::Ready
    }
}

/// A Job: ready once `Complete`; failed when `Failed` (its reason, `BackoffLimitExceeded`,
/// and message) or when a pod cannot start (an image that cannot be pulled, a container that
/// cannot be created, an unschedulable pod). A crashing container is not a failure yet: the Job
/// retries it until its backoff limit.
fn job(obj: &Value, pods: &[Value]) -> Health {
    let name = format!("job {}", name_of(obj));
    if condition(obj, "Complete", "True").is_some() {
        return Health::Ready;
    }
    if let Some(c) = condition(obj, "Failed", "True").or_else(|| condition(obj, "FailureTarget", "True")) {
        let reason = str_at(c, "/reason").unwrap_or("Failed");
        return Health::Failed(format!("{name} failed ({reason}): {}", message(c)));
    }
    if let Some(cause) = pod_failure_with(pods, "", None, Crashes::Retry) {
        return Health::Failed(cause);
    }
    let want = int_at(obj, "/spec/completions").unwrap_or(1);
    let succeeded = int_at(obj, "/status/succeeded").unwrap_or(0);
    let failed = int_at(obj, "/status/failed").unwrap_or(0);
    let retries = if failed > 0 {
        format!(
            " ({failed} failed pod{} of backoff limit {})",
            if failed == 1 { "" } else { "s" },
            int_at(obj, "/spec/backoffLimit").unwrap_or(6)
        )
    } else {
        String::new()
    };
    Health::Progressing(format!("{name}: {succeeded} of {want} completions{retries}"))
}

fn deployment(obj: &Value, replica_sets: &[Value], pods: &[Value]) -> Health {
    let name = format!("deployment {}", name_of(obj));
    if let Some(waiting) = unobserved(obj, &name) {
        return waiting;
    }
    let replica_sets: Vec<&Value> = replica_sets.iter().filter(|rs| owned_by(rs, obj)).collect();
    let newest = replica_sets.iter().copied().max_by_key(|rs| revision(rs));
    let hash = newest.and_then(|rs| str_at(rs, "/metadata/labels/pod-template-hash"));
    if let Some(cause) = pod_failure(pods, "pod-template-hash", hash) {
        return Health::Failed(cause);
    }
    if let Some(msg) = condition(obj, "ReplicaFailure", "True").map(message) {
        return Health::Failed(format!("{name} cannot create pods: {msg}"));
    }
    // Only the newest ReplicaSet creates pods during a rollout; without revisions, check all.
    let checked: Vec<&Value> = match newest {
        Some(rs) if revision(rs) > 0 => vec![rs],
        _ => replica_sets,
    };
    for rs in checked {
        if let Some(msg) = condition(rs, "ReplicaFailure", "True").map(message) {
            return Health::Failed(format!("replicaset {} cannot create pods: {msg}", name_of(rs)));
        }
    }
    if let Some(c) = condition(obj, "Progressing", "False") {
        if str_at(c, "/reason") == Some("ProgressDeadlineExceeded") {
            return Health::Failed(format!("{name} exceeded its progress deadline: {}", message(c)));
        }
    }

    let want = int_at(obj, "/spec/replicas").unwrap_or(1);
    let replicas = int_at(obj, "/status/replicas").unwrap_or(0);
    let updated = int_at(obj, "/status/updatedReplicas").unwrap_or(0);
    let available = int_at(obj, "/status/availableReplicas").unwrap_or(0);
    if updated < want {
        Health::Progressing(format!("{name}: {updated} of {want} replicas are updated"))
    } else if replicas > updated {
        Health::Progressing(format!("{name}: {} old replicas are pending termination", replicas - updated))
    } else if available < want {
        Health::Progressing(format!("{name}: {available} of {want} updated replicas are available"))
    } else {
        Health::Ready
    }
}

fn stateful_set(obj: &Value, pods: &[Value]) -> Health {
    let name = format!("statefulset {}", name_of(obj));
    if let Some(waiting) = unobserved(obj, &name) {
        return waiting;
    }
    let update_revision = str_at(obj, "/status/updateRevision");
    if let Some(cause) = pod_failure(pods, "controller-revision-hash", update_revision) {
        return Health::Failed(cause);
    }

    let want = int_at(obj, "/spec/replicas").unwrap_or(1);
    let ready = int_at(obj, "/status/readyReplicas").unwrap_or(0);
    if ready != want {
        return Health::Progressing(format!("{name}: {ready} of {want} replicas are ready"));
    }
    if str_at(obj, "/spec/updateStrategy/type").unwrap_or("RollingUpdate") != "RollingUpdate" {
        return Health::Ready; // OnDelete: pods update when someone deletes them.
    }
    let partition = int_at(obj, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0);
    let updated = int_at(obj, "/status/updatedReplicas").unwrap_or(0);
    if partition > 0 {
        // A partitioned rollout is done once the pods at or above the partition are updated.
        let expected = (want - partition).max(0);
        return if updated < expected {
            Health::Progressing(format!("{name}: {updated} of {expected} partitioned replicas are updated"))
        } else {
            Health::Ready
        };
    }
    if updated != want {
        return Health::Progressing(format!("{name}: {updated} of {want} replicas are updated"));
    }
    match (str_at(obj, "/status/currentRevision"), update_revision) {
        (Some(current), Some(update)) if current != update => {
            Health::Progressing(format!("{name}: waiting for revision {update} to replace {current}"))
        }
        _ => Health::Ready,
    }
}

/// Ready when `status.phase` is `Active`; failed when `Terminating`.
pub fn namespace(obj: &Value) -> Health {
    let name = name_of(obj);
    match str_at(obj, "/status/phase") {
        Some("Active") => Health::Ready,
        Some("Terminating") => Health::Failed(format!("namespace {name} is being deleted (Terminating)")),
        _ => Health::Progressing(format!("waiting for namespace {name} to become Active")),
    }
}

/// Ready when condition `Established` is `True`; failed when `NamesAccepted` is `False`.
pub fn crd(obj: &Value) -> Health {
    let name = name_of(obj);
    if let Some(c) = condition(obj, "NamesAccepted", "False") {
        return Health::Failed(format!("customresourcedefinition {name}: names not accepted: {}", message(c)));
    }
    if condition(obj, "Established", "True").is_some() {
        Health::Ready
    } else {
        Health::Progressing(format!("waiting for customresourcedefinition {name} to be established"))
    }
}

/// Ready when `status.phase` is `Bound`; failed when `Lost`. Only claims whose storage class
/// binds `Immediate`ly should be waited on.
pub fn pvc(obj: &Value) -> Health {
    let name = name_of(obj);
    match str_at(obj, "/status/phase") {
        Some("Bound") => Health::Ready,
        Some("Lost") => Health::Failed(format!("persistentvolumeclaim {name} lost its volume (phase Lost)")),
        phase => {
            Health::Progressing(format!("waiting for persistentvolumeclaim {name} to be bound (phase {})", phase.unwrap_or("Pending")))
        }
    }
}

/// Ready when an ObjectBucketClaim's `status.phase` is `Bound`; failed when the provisioner says
/// `Failed` or the bucket was `Released` under it.
pub fn bucket_claim(obj: &Value) -> Health {
    let name = name_of(obj);
    match str_at(obj, "/status/phase") {
        Some("Bound") => Health::Ready,
        Some(phase @ ("Failed" | "Released")) => Health::Failed(format!("objectbucketclaim {name} is {phase}: its bucket is not usable")),
        phase => Health::Progressing(format!("waiting for objectbucketclaim {name} to be bound (phase {})", phase.unwrap_or("Pending"))),
    }
}

/// A HorizontalPodAutoscaler: failed when it cannot scale its target (`AbleToScale` is
/// `False`: the target or its scale subresource is missing); progressing until its controller
/// has made a pass (`status.desiredReplicas`) and the target is at least at `minReplicas`.
/// Metrics that cannot be read (`ScalingActive` `False`, a cluster without metrics-server) do
/// not fail it: the autoscaler still holds the target between `min` and `max`.
pub fn autoscaler(obj: &Value) -> Health {
    let name = name_of(obj);
    if let Some(c) = condition(obj, "AbleToScale", "False") {
        return Health::Failed(format!("horizontalpodautoscaler {name} cannot scale its target: {}", message(c)));
    }
    let Some(current) = int_at(obj, "/status/currentReplicas").filter(|_| int_at(obj, "/status/desiredReplicas").is_some()) else {
        return Health::Progressing(format!("waiting for horizontalpodautoscaler {name}'s first pass"));
    };
    let min = int_at(obj, "/spec/minReplicas").unwrap_or(1);
    if current < min {
        return Health::Progressing(format!("horizontalpodautoscaler {name}: {current} of at least {min} replicas"));
    }
    Health::Ready
}

/// `Progressing` while the controller has not seen the latest spec: until then status,
/// conditions and revisions describe the previous one.
fn unobserved(obj: &Value, name: &str) -> Option<Health> {
    let generation = int_at(obj, "/metadata/generation").unwrap_or(0);
    let observed = int_at(obj, "/status/observedGeneration").unwrap_or(0);
    (observed < generation).then(|| Health::Progressing(format!("{name}: waiting for the controller to observe generation {generation}")))
}

/// Whether a container that keeps crashing fails the workload: yes for those that serve, not
/// for a Job, which retries it up to its backoff limit and then fails on its own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Crashes {
    Fail,
    Retry,
}

/// The first reason a pod of the current revision cannot come up. `hash` is the value of label
/// `label` that marks the current revision; `None` checks every pod.
fn pod_failure(pods: &[Value], label: &str, hash: Option<&str>) -> Option<String> {
    pod_failure_with(pods, label, hash, Crashes::Fail)
}

fn pod_failure_with(pods: &[Value], label: &str, hash: Option<&str>, crashes: Crashes) -> Option<String> {
    let mut current = pods.iter().filter(|p| p.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null)).filter(|p| match hash {
        Some(h) => p.pointer("/metadata/labels").and_then(|l| l.get(label)).and_then(Value::as_str) == Some(h),
        None => true,
    });
    current.find_map(|pod| {
        let pod_name = name_of(pod);
        let statuses = [("init container", "/status/initContainerStatuses"), ("container", "/status/containerStatuses")];
        for (what, pointer) in statuses {
            for status in array_at(pod, pointer) {
                if let Some(cause) = container_failure(pod, what, status, crashes) {
                    return Some(format!("pod {pod_name}: {cause}"));
                }
            }
        }
        let unschedulable = condition(pod, "PodScheduled", "False").filter(|c| str_at(c, "/reason") == Some("Unschedulable"));
        unschedulable.map(|c| format!("pod {pod_name} cannot be scheduled: {}", message(c)))
    })
}

/// Why one container cannot run, from its status.
fn container_failure(pod: &Value, what: &str, status: &Value, crashes: Crashes) -> Option<String> {
    let reason = str_at(status, "/state/waiting/reason")?;
    let name = str_at(status, "/name").unwrap_or("?");
    let detail = str_at(status, "/state/waiting/message").filter(|m| !m.is_empty()).map(|m| format!(": {m}")).unwrap_or_default();
    if IMAGE_REASONS.contains(&reason) || reason == "InvalidImageName" {
        let image = image_of(pod, name, status);
        let problem = if reason == "InvalidImageName" { "has an invalid image name" } else { "cannot pull image" };
        Some(format!("{what} {name} {problem} \"{image}\": {reason}{detail}"))
    } else if CREATE_REASONS.contains(&reason) {
        Some(format!("{what} {name} cannot be created ({reason}){detail}"))
    } else if reason == "CrashLoopBackOff" && crashes == Crashes::Fail {
        let last = status.pointer("/lastState/terminated").map(|t| {
            let why = str_at(t, "/reason").unwrap_or("terminated");
            match int_at(t, "/exitCode") {
                Some(code) => format!(": last exit {why}, code {code}"),
                None => format!(": last exit {why}"),
            }
        });
        Some(format!("{what} {name} keeps crashing (CrashLoopBackOff){}", last.unwrap_or(detail)))
    } else {
        None
    }
}

/// The image a container runs: from its status, else from the pod spec.
fn image_of<'a>(pod: &'a Value, container: &str, status: &'a Value) -> &'a str {
    let from_spec = || {
        ["/spec/initContainers", "/spec/containers"]
            .into_iter()
            .flat_map(|p| array_at(pod, p))
            .find(|c| str_at(c, "/name") == Some(container))
            .and_then(|c| str_at(c, "/image"))
    };
    str_at(status, "/image").filter(|i| !i.is_empty()).or_else(from_spec).unwrap_or("?")
}

/// Whether `rs` belongs to `owner` (by owner reference uid, else name); objects without owner
/// references count as belonging.
fn owned_by(rs: &Value, owner: &Value) -> bool {
    let refs = array_at(rs, "/metadata/ownerReferences");
    if refs.is_empty() {
        return true;
    }
    let uid = str_at(owner, "/metadata/uid");
    refs.iter().any(|r| match (uid, str_at(r, "/uid")) {
        (Some(a), Some(b)) => a == b,
        _ => str_at(r, "/kind") == Some("Deployment") && str_at(r, "/name") == str_at(owner, "/metadata/name"),
    })
}

/// A ReplicaSet's `deployment.kubernetes.io/revision` (0 when missing).
fn revision(rs: &Value) -> u64 {
    rs.pointer("/metadata/annotations")
        .and_then(|a| a.get("deployment.kubernetes.io/revision"))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The condition of `type` with `status`, if the object has it.
fn condition<'a>(obj: &'a Value, kind: &str, status: &str) -> Option<&'a Value> {
    array_at(obj, "/status/conditions").iter().find(|c| str_at(c, "/type") == Some(kind) && str_at(c, "/status") == Some(status))
}

/// A condition's message, or its reason when it has none.
fn message(condition: &Value) -> &str {
    str_at(condition, "/message").filter(|m| !m.is_empty()).or_else(|| str_at(condition, "/reason")).unwrap_or("no message")
}

fn name_of(obj: &Value) -> &str {
    str_at(obj, "/metadata/name").unwrap_or("?")
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn int_at(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(Value::as_i64)
}

fn array_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deploy(generation: i64, status: Value) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": { "name": "web", "namespace": "shop", "uid": "d-1", "generation": generation },
            "spec": { "replicas": 3, "selector": { "matchLabels": { "app": "web" } } },
            "status": status,
        })
    }

    fn rolled_out() -> Value {
        deploy(
            2,
            json!({
                "observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                "conditions": [
                    { "type": "Available", "status": "True", "reason": "MinimumReplicasAvailable" },
                    { "type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable" },
                ],
            }),
        )
    }

    /// Mid-rollout: 1 new pod up, the old ReplicaSet still has 3.
    fn rolling() -> Value {
        deploy(
            3,
            json!({
                "observedGeneration": 3, "replicas": 4, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3,
                "unavailableReplicas": 1,
                "conditions": [{ "type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated" }],
            }),
        )
    }

    fn rs(name: &str, hash: &str, revision: &str, conditions: Value) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name, "namespace": "shop",
                "labels": { "app": "web", "pod-template-hash": hash },
                "annotations": { "deployment.kubernetes.io/revision": revision },
                "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": true }],
            },
            "status": { "replicas": 0, "conditions": conditions },
        })
    }

    fn replica_sets() -> Vec<Value> {
        vec![rs("web-7f9c6b", "7f9c6b", "1", json!([])), rs("web-5d8c", "5d8c", "2", json!([]))]
    }

    fn pod(name: &str, hash_label: &str, hash: &str, status: Value) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": { "name": name, "namespace": "shop", "labels": { "app": "web", hash_label: hash } },
            "spec": { "containers": [{ "name": "web", "image": "registry.example/web:2.1" }] },
            "status": status,
        })
    }

    fn waiting(container: &str, image: &str, reason: &str, message: &str) -> Value {
        json!({
            "phase": "Pending",
            "conditions": [{ "type": "PodScheduled", "status": "True" }],
            "containerStatuses": [{
                "name": container, "image": image, "imageID": "", "ready": false, "restartCount": 0, "started": false,
                "state": { "waiting": { "reason": reason, "message": message } },
                "lastState": {},
            }],
        })
    }

    fn running() -> Value {
        json!({
            "phase": "Running",
            "conditions": [{ "type": "PodScheduled", "status": "True" }, { "type": "Ready", "status": "True" }],
            "containerStatuses": [{
                "name": "web", "image": "registry.example/web:2.0", "ready": true, "restartCount": 0,
                "state": { "running": { "startedAt": "2026-11-23T10:00:00Z" } },
            }],
        })
    }

    fn failed(h: Health) -> String {
        match h {
            Health::Failed(m) => m,
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    fn progressing(h: Health) -> String {
        match h {
            Health::Progressing(m) => m,
            other => panic!("expected Progressing, got {other:?}"),
        }
    }

    #[test]
    fn a_rolled_out_deployment_is_ready() {
        let pods = [pod("web-5d8c-abcde", "pod-template-hash", "5d8c", running())];
        assert_eq!(workload(&rolled_out(), &replica_sets(), &pods), Health::Ready);
        // Defaults: no spec.replicas means 1.
        let one = json!({
            "kind": "Deployment", "metadata": { "name": "one", "generation": 1 }, "spec": {},
            "status": { "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1 },
        });
        assert_eq!(workload(&one, &[], &[]), Health::Ready);
    }

    #[test]
    fn a_deployment_mid_rollout_is_progressing() {
        assert_eq!(progressing(workload(&rolling(), &replica_sets(), &[])), "deployment web: 1 of 3 replicas are updated");
        // All updated, but an old pod is still there.
        let mut d = rolling();
        d["status"]["updatedReplicas"] = json!(3);
        assert_eq!(progressing(workload(&d, &replica_sets(), &[])), "deployment web: 1 old replicas are pending termination");
        // All updated and old ones gone, but one new pod is not available yet.
        d["status"]["replicas"] = json!(3);
        d["status"]["availableReplicas"] = json!(2);
        assert_eq!(progressing(workload(&d, &replica_sets(), &[])), "deployment web: 2 of 3 updated replicas are available");
    }

    #[test]
    fn an_unobserved_generation_is_progressing_even_when_status_looks_done() {
        let mut d = rolled_out();
        d["metadata"]["generation"] = json!(3);
        // A stale deadline from the previous rollout must not fail the new one.
        d["status"]["conditions"] = json!([{ "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded" }]);
        assert_eq!(progressing(workload(&d, &[], &[])), "deployment web: waiting for the controller to observe generation 3");
    }

    #[test]
    fn image_pull_back_off_fails_with_the_image_and_message() {
        let pods = [
            pod("web-5d8c-fghij", "pod-template-hash", "5d8c", running()),
            pod(
                "web-5d8c-abcde",
                "pod-template-hash",
                "5d8c",
                waiting("web", "registry.example/web:2.1", "ImagePullBackOff", "Back-off pulling image \"registry.example/web:2.1\""),
            ),
        ];
        assert_eq!(
            failed(workload(&rolling(), &replica_sets(), &pods)),
            "pod web-5d8c-abcde: container web cannot pull image \"registry.example/web:2.1\": ImagePullBackOff: \
             Back-off pulling image \"registry.example/web:2.1\""
        );
        // The status may not name the image yet: the pod spec does.
        let pods = [pod("web-5d8c-abcde", "pod-template-hash", "5d8c", waiting("web", "", "ErrImagePull", ""))];
        assert_eq!(
            failed(workload(&rolling(), &replica_sets(), &pods)),
            "pod web-5d8c-abcde: container web cannot pull image \"registry.example/web:2.1\": ErrImagePull"
        );
    }

    #[test]
    fn config_errors_and_invalid_images_fail() {
        let pods = [pod(
            "web-5d8c-abcde",
            "pod-template-hash",
            "5d8c",
            waiting("web", "registry.example/web:2.1", "CreateContainerConfigError", "secret \"db-creds\" not found"),
        )];
        assert_eq!(
            failed(workload(&rolling(), &replica_sets(), &pods)),
            "pod web-5d8c-abcde: container web cannot be created (CreateContainerConfigError): secret \"db-creds\" not found"
        );
        let pods = [pod("web-5d8c-abcde", "pod-template-hash", "5d8c", waiting("web", "Web:Latest", "InvalidImageName", "bad"))];
        assert_eq!(
            failed(workload(&rolling(), &replica_sets(), &pods)),
            "pod web-5d8c-abcde: container web has an invalid image name \"Web:Latest\": InvalidImageName: bad"
        );
    }

    #[test]
    fn crash_loop_back_off_names_the_last_exit() {
        let status = json!({
            "phase": "Running",
            "conditions": [{ "type": "PodScheduled", "status": "True" }, { "type": "Ready", "status": "False" }],
            "initContainerStatuses": [{
                "name": "migrate", "image": "db:16", "ready": true, "restartCount": 0,
                "state": { "terminated": { "reason": "Completed", "exitCode": 0 } },
            }],
            "containerStatuses": [{
                "name": "db", "image": "postgres:16", "ready": false, "restartCount": 4,
                "state": { "waiting": { "reason": "CrashLoopBackOff", "message": "back-off 1m20s restarting failed container=db" } },
                "lastState": { "terminated": { "reason": "OOMKilled", "exitCode": 137, "startedAt": "2026-11-23T10:00:00Z" } },
            }],
        });
        let sts = stateful_set_obj(json!({
            "observedGeneration": 1, "replicas": 1, "readyReplicas": 0, "currentReplicas": 1, "updatedReplicas": 1,
            "currentRevision": "db-6c9f", "updateRevision": "db-6c9f",
        }));
        let pods = [pod("db-0", "controller-revision-hash", "db-6c9f", status)];
        assert_eq!(
            failed(workload(&sts, &[], &pods)),
            "pod db-0: container db keeps crashing (CrashLoopBackOff): last exit OOMKilled, code 137"
        );
    }

    #[test]
    fn a_crashing_init_container_fails() {
        let status = json!({
            "phase": "Pending",
            "initContainerStatuses": [{
                "name": "migrate", "image": "web:2.1", "ready": false, "restartCount": 3,
                "state": { "waiting": { "reason": "CrashLoopBackOff" } },
                "lastState": { "terminated": { "reason": "Error", "exitCode": 1 } },
            }],
        });
        let pods = [pod("web-5d8c-abcde", "pod-template-hash", "5d8c", status)];
        assert_eq!(
            failed(workload(&rolling(), &replica_sets(), &pods)),
            "pod web-5d8c-abcde: init container migrate keeps crashing (CrashLoopBackOff): last exit Error, code 1"
        );
    }

    #[test]
    fn an_unschedulable_pod_fails() {
        let status = json!({
            "phase": "Pending",
            "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
            }],
        });
        let pods = [pod("web-5d8c-abcde", "pod-template-hash", "5d8c", status)];
        assert_eq!(
            failed(workload(&rolling(), &replica_sets(), &pods)),
            "pod web-5d8c-abcde cannot be scheduled: 0/3 nodes are available: 3 Insufficient memory. \
             preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn a_replica_set_refused_by_a_quota_fails() {
        let refused = rs(
            "web-5d8c",
            "5d8c",
            "2",
            json!([{
                "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                "message": "pods \"web-5d8c-x7k2p\" is forbidden: exceeded quota: compute, requested: limits.memory=2Gi, used: limits.memory=7Gi, limited: limits.memory=8Gi",
            }]),
        );
        let sets = [rs("web-7f9c6b", "7f9c6b", "1", json!([])), refused];
        assert_eq!(
            failed(workload(&rolling(), &sets, &[])),
            "replicaset web-5d8c cannot create pods: pods \"web-5d8c-x7k2p\" is forbidden: exceeded quota: compute, \
             requested: limits.memory=2Gi, used: limits.memory=7Gi, limited: limits.memory=8Gi"
        );
        // The Deployment mirrors it in its own condition.
        let mut d = rolling();
        d["status"]["conditions"] = json!([{
            "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
            "message": "pods \"web-abc\" is forbidden: exceeded quota: compute",
        }]);
        assert_eq!(
            failed(workload(&d, &replica_sets(), &[])),
            "deployment web cannot create pods: pods \"web-abc\" is forbidden: exceeded quota: compute"
        );
        // A ReplicaSet of another Deployment is none of this one's business.
        let mut other = rs("api-1", "1", "9", json!([{ "type": "ReplicaFailure", "status": "True", "message": "nope" }]));
        other["metadata"]["ownerReferences"][0]["uid"] = json!("d-2");
        assert_eq!(progressing(workload(&rolling(), &[other], &[])), "deployment web: 1 of 3 replicas are updated");
    }

    #[test]
    fn an_exceeded_progress_deadline_fails() {
        let mut d = rolling();
        d["status"]["conditions"] = json!([{
            "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet \"web-5d8c\" has timed out progressing.",
        }]);
        assert_eq!(
            failed(workload(&d, &replica_sets(), &[])),
            "deployment web exceeded its progress deadline: ReplicaSet \"web-5d8c\" has timed out progressing."
        );
    }

    #[test]
    fn a_failing_old_revision_pod_does_not_fail_a_new_rollout() {
        let pods = [
            // The old revision's pod is stuck (that is why the user is rolling out a fix).
            pod("web-7f9c6b-zzzzz", "pod-template-hash", "7f9c6b", waiting("web", "web:broken", "ImagePullBackOff", "")),
            pod("web-5d8c-abcde", "pod-template-hash", "5d8c", running()),
            // A pod of the new revision that is being deleted does not count either.
            {
                let mut p = pod("web-5d8c-old", "pod-template-hash", "5d8c", waiting("web", "web:2.1", "ErrImagePull", ""));
                p["metadata"]["deletionTimestamp"] = json!("2026-11-23T10:00:00Z");
                p
            },
        ];
        assert_eq!(progressing(workload(&rolling(), &replica_sets(), &pods)), "deployment web: 1 of 3 replicas are updated");
        // Without ReplicaSets the revision cannot be told: every pod counts.
        assert!(matches!(workload(&rolling(), &[], &pods), Health::Failed(m) if m.starts_with("pod web-7f9c6b-zzzzz:")));
    }

    fn stateful_set_obj(status: Value) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": { "name": "db", "namespace": "shop", "generation": 1 },
            "spec": { "replicas": 1, "serviceName": "db", "updateStrategy": { "type": "RollingUpdate" } },
            "status": status,
        })
    }

    #[test]
    fn stateful_sets_ready_and_not_ready() {
        let ready = stateful_set_obj(json!({
            "observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "updatedReplicas": 1,
            "currentRevision": "db-6c9f", "updateRevision": "db-6c9f", "availableReplicas": 1,
        }));
        assert_eq!(workload(&ready, &[], &[]), Health::Ready);

        let mut not_ready = ready.clone();
        not_ready["status"]["readyReplicas"] = json!(0);
        assert_eq!(progressing(workload(&not_ready, &[], &[])), "statefulset db: 0 of 1 replicas are ready");

        let mut rolling = ready.clone();
        rolling["spec"]["replicas"] = json!(3);
        rolling["status"] = json!({
            "observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "currentReplicas": 2, "updatedReplicas": 1,
            "currentRevision": "db-6c9f", "updateRevision": "db-8d7e",
        });
        assert_eq!(progressing(workload(&rolling, &[], &[])), "statefulset db: 1 of 3 replicas are updated");
        rolling["status"]["updatedReplicas"] = json!(3);
        assert_eq!(progressing(workload(&rolling, &[], &[])), "statefulset db: waiting for revision db-8d7e to replace db-6c9f");

        // Pods of the previous revision failing do not fail the new one; pods of it do.
        let old = pod("db-2", "controller-revision-hash", "db-6c9f", waiting("db", "postgres:15", "ImagePullBackOff", ""));
        assert!(matches!(workload(&rolling, &[], &[old]), Health::Progressing(_)));
        let new = pod("db-2", "controller-revision-hash", "db-8d7e", waiting("db", "postgres:17", "ImagePullBackOff", ""));
        assert_eq!(failed(workload(&rolling, &[], &[new])), "pod db-2: container db cannot pull image \"postgres:17\": ImagePullBackOff");

        // A partitioned rollout is done once the replicas above the partition are updated.
        rolling["spec"]["updateStrategy"] = json!({ "type": "RollingUpdate", "rollingUpdate": { "partition": 2 } });
        rolling["status"]["updatedReplicas"] = json!(1);
        assert_eq!(workload(&rolling, &[], &[]), Health::Ready);
    }

    #[test]
    fn other_kinds_are_ready() {
        assert_eq!(workload(&json!({ "kind": "CronJob", "metadata": { "name": "x" } }), &[], &[]), Health::Ready);
    }

    fn daemon_set_obj(status: Value) -> Value {
        json!({
            "kind": "DaemonSet",
            "metadata": { "name": "agent", "namespace": "shop", "generation": 2 },
            "spec": { "selector": { "matchLabels": { "app": "web" } } },
            "status": status,
        })
    }

    #[test]
    fn daemon_sets_roll_out_when_every_scheduled_pod_is_updated_and_available() {
        let done = json!({ "observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3 });
        assert_eq!(workload(&daemon_set_obj(done), &[], &[]), Health::Ready);
        let updating = json!({ "observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 1, "numberAvailable": 3 });
        assert_eq!(progressing(workload(&daemon_set_obj(updating), &[], &[])), "daemonset agent: 1 of 3 scheduled pods are updated");
        let starting = json!({ "observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 2 });
        assert_eq!(progressing(workload(&daemon_set_obj(starting), &[], &[])), "daemonset agent: 2 of 3 updated pods are available");
        let unobserved = json!({ "observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3 });
        assert!(progressing(workload(&daemon_set_obj(unobserved), &[], &[])).contains("observe generation 2"));
        let pods = [pod("agent-x1", "controller-revision-hash", "6c9f", waiting("web", "agent:9.9", "ImagePullBackOff", "not found"))];
        let done = json!({ "observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 1, "numberAvailable": 2 });
        assert!(failed(workload(&daemon_set_obj(done), &[], &pods)).contains("cannot pull image \"agent:9.9\": ImagePullBackOff"));
    }

    fn job_obj(status: Value) -> Value {
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": { "name": "migrate", "namespace": "shop" },
            "spec": { "backoffLimit": 2, "completions": 1, "selector": { "matchLabels": { "app": "web" } } },
            "status": status,
        })
    }

    #[test]
    fn a_job_is_ready_once_complete_and_failed_with_its_reason() {
        let complete = json!({ "succeeded": 1, "conditions": [
            { "type": "SuccessCriteriaMet", "status": "True" }, { "type": "Complete", "status": "True" }] });
        assert_eq!(workload(&job_obj(complete), &[], &[]), Health::Ready);
        let running = json!({ "active": 1, "failed": 1 });
        assert_eq!(progressing(workload(&job_obj(running), &[], &[])), "job migrate: 0 of 1 completions (1 failed pod of backoff limit 2)");
        let failed_job = json!({ "failed": 3, "conditions": [
            { "type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit" },
            { "type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit" }] });
        assert_eq!(
            failed(workload(&job_obj(failed_job), &[], &[])),
            "job migrate failed (BackoffLimitExceeded): Job has reached the specified backoff limit"
        );
    }

    #[test]
    fn a_job_fails_fast_on_an_image_but_retries_a_crash() {
        let pull = [pod("migrate-a", "job-name", "migrate", waiting("web", "migrate:0.0", "ImagePullBackOff", "not found"))];
        assert!(failed(workload(&job_obj(json!({ "active": 1 })), &[], &pull)).contains("cannot pull image \"migrate:0.0\""));
        let crash = [pod("migrate-a", "job-name", "migrate", waiting("web", "migrate:1.0", "CrashLoopBackOff", "back-off"))];
        assert!(progressing(workload(&job_obj(json!({ "active": 1 })), &[], &crash)).contains("0 of 1 completions"));
    }

    #[test]
    fn namespaces() {
        let ns =
            |phase: &str| json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "shop" }, "status": { "phase": phase } });
        assert_eq!(namespace(&ns("Active")), Health::Ready);
        assert_eq!(namespace(&ns("Terminating")), Health::Failed("namespace shop is being deleted (Terminating)".into()));
        let fresh = json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "shop" } });
        assert_eq!(namespace(&fresh), Health::Progressing("waiting for namespace shop to become Active".into()));
    }

    #[test]
    fn crds() {
        let crd_with = |conditions: Value| {
            json!({
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": { "name": "widgets.example.com" },
                "status": { "conditions": conditions },
            })
        };
        let established = crd_with(json!([
            { "type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found" },
            { "type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted" },
        ]));
        assert_eq!(crd(&established), Health::Ready);
        let pending = crd_with(json!([{ "type": "NamesAccepted", "status": "True", "reason": "NoConflicts" }]));
        assert_eq!(crd(&pending), Health::Progressing("waiting for customresourcedefinition widgets.example.com to be established".into()));
        let conflict = crd_with(json!([
            { "type": "NamesAccepted", "status": "False", "reason": "PluralConflict", "message": "\"widgets\" is already in use" },
            { "type": "Established", "status": "False", "reason": "NotAccepted" },
        ]));
        assert_eq!(
            crd(&conflict),
            Health::Failed("customresourcedefinition widgets.example.com: names not accepted: \"widgets\" is already in use".into())
        );
    }

    #[test]
    fn pvcs() {
        let claim = |phase: Option<&str>| {
            let mut c = json!({ "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": { "name": "data", "namespace": "shop" } });
            if let Some(p) = phase {
                c["status"] = json!({ "phase": p });
            }
            c
        };
        assert_eq!(pvc(&claim(Some("Bound"))), Health::Ready);
        assert_eq!(
            pvc(&claim(Some("Pending"))),
            Health::Progressing("waiting for persistentvolumeclaim data to be bound (phase Pending)".into())
        );
        assert_eq!(pvc(&claim(None)), Health::Progressing("waiting for persistentvolumeclaim data to be bound (phase Pending)".into()));
        assert_eq!(pvc(&claim(Some("Lost"))), Health::Failed("persistentvolumeclaim data lost its volume (phase Lost)".into()));
    }

    #[test]
    fn a_bucket_claim_is_ready_once_bound_and_failed_when_released() {
        let claim = |phase: Option<&str>| {
            let mut c = json!({"metadata": {"name": "media"}});
            if let Some(p) = phase {
                c["status"] = json!({"phase": p});
            }
            c
        };
        assert_eq!(bucket_claim(&claim(Some("Bound"))), Health::Ready);
        let waiting = Health::Progressing("waiting for objectbucketclaim media to be bound (phase Pending)".into());
        assert_eq!(bucket_claim(&claim(Some("Pending"))), waiting);
        assert_eq!(bucket_claim(&claim(None)), waiting);
        assert_eq!(
            bucket_claim(&claim(Some("Released"))),
            Health::Failed("objectbucketclaim media is Released: its bucket is not usable".into())
        );
        assert_eq!(
            bucket_claim(&claim(Some("Failed"))),
            Health::Failed("objectbucketclaim media is Failed: its bucket is not usable".into())
        );
    }

    #[test]
    fn an_autoscaler_is_ready_after_its_first_pass_at_min_and_fails_when_it_cannot_scale() {
        let hpa = |status: serde_json::Value| json!({"metadata": {"name": "web"}, "spec": {"minReplicas": 3, "maxReplicas": 6}, "status": status});
        assert_eq!(progressing(autoscaler(&hpa(json!({})))), "waiting for horizontalpodautoscaler web's first pass");
        assert_eq!(
            progressing(autoscaler(&hpa(json!({"currentReplicas": 1, "desiredReplicas": 3})))),
            "horizontalpodautoscaler web: 1 of at least 3 replicas"
        );
        assert_eq!(autoscaler(&hpa(json!({"currentReplicas": 3, "desiredReplicas": 3}))), Health::Ready);
        // No metrics (ScalingActive False) is not a failure: the bounds still hold.
        let no_metrics = json!({"currentReplicas": 3, "desiredReplicas": 3, "conditions": [
            {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric", "message": "no metrics returned"}]});
        assert_eq!(autoscaler(&hpa(no_metrics)), Health::Ready);
        let missing = json!({"conditions": [{"type": "AbleToScale", "status": "False", "reason": "FailedGetScale",
            "message": "the HPA controller was unable to get the target's current scale: deployments/scale.apps \"web\" not found"}]});
        assert!(failed(autoscaler(&hpa(missing))).contains("cannot scale its target: the HPA controller was unable"));
    }
}
