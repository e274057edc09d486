//! Rollouts in the sandbox as kube-controller-manager paces them: Deployments within
//! `maxSurge`/`maxUnavailable` (a failed rollout keeps the old pods serving and runs into its
//! progress deadline), `Recreate`, revision numbers and history cleanup; StatefulSets replaced
//! from the highest ordinal down, stopping at a pod that never becomes ready.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn apply(sb: &Sandbox, obj: &Value) {
    let ns = obj["metadata"]["namespace"].as_str().unwrap();
    let name = obj["metadata"]["name"].as_str().unwrap();
    let plural = match obj["kind"].as_str().unwrap() {
        "Deployment" => "deployments",
        "StatefulSet" => "statefulsets",
        other => panic!("test helper does not know {other}"),
    };
    let path = format!("/apis/apps/v1/namespaces/{ns}/{plural}/{name}?fieldManager=test&force=true");
    let (code, body) = sb.call("PATCH", &path, APPLY, Some(obj));
    assert!(code == 200 || code == 201, "apply {plural}/{name}: {code} {body}");
}

fn deployment(image: &str, replicas: i64, spec: Value) -> Value {
    let mut dep = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": image}]}}
        }
    });
    for (k, v) in spec.as_object().unwrap() {
        dep["spec"][k] = v.clone();
    }
    dep
}

fn list(sb: &Sandbox, path: &str) -> Vec<Value> {
    let (code, body) = sb.call("GET", path, None, None);
    assert_eq!(code, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

fn replica_sets(sb: &Sandbox) -> Vec<Value> {
    list(sb, "/apis/apps/v1/namespaces/shop/replicasets")
}

fn image_of(obj: &Value) -> &str {
    obj["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap()
}

/// The ReplicaSet whose template runs `image`.
fn rs_of(sb: &Sandbox, image: &str) -> Value {
    replica_sets(sb).into_iter().find(|rs| image_of(rs) == image).unwrap_or_else(|| panic!("no ReplicaSet runs {image}"))
}

fn revision(obj: &Value) -> &str {
    obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"].as_str().unwrap_or_default()
}

fn condition(obj: &Value, kind: &str) -> Value {
    obj["status"]["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == kind)).cloned().unwrap_or(Value::Null)
}

fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().unwrap().iter().any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// The pods a ReplicaSet (or any owner) controls.
fn pods_of(sb: &Sandbox, owner: &Value) -> Vec<Value> {
    list(sb, "/api/v1/namespaces/shop/pods")
        .into_iter()
        .filter(|p| p["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"])
        .collect()
}

fn event_messages(sb: &Sandbox, reason: &str) -> Vec<String> {
    list(sb, "/api/v1/namespaces/shop/events")
        .iter()
        .filter(|e| e["reason"] == reason)
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

fn web(sb: &Sandbox) -> Value {
    sb.object("apps", "deployments", "shop", "web").unwrap()
}

#[test]
fn a_healthy_rolling_update_completes_in_one_settle_within_surge_and_unavailability() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply(&sb, &deployment("nginx:1.26", 4, json!({})));
    sb.settle();
    apply(&sb, &deployment("nginx:1.27", 4, json!({})));
    sb.settle();
    let (old, new) = (rs_of(&sb, "nginx:1.26"), rs_of(&sb, "nginx:1.27"));
    assert_eq!((old["spec"]["replicas"].as_i64(), new["spec"]["replicas"].as_i64()), (Some(0), Some(4)));
    assert_eq!((revision(&old), revision(&new), revision(&web(&sb))), ("1", "2", "2"));
    assert_eq!(new["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"], "5");
    let pods = pods_of(&sb, &new);
    assert_eq!(pods.len(), 4);
    assert!(pods.iter().all(ready));
    let dep = web(&sb);
    assert_eq!(condition(&dep, "Progressing")["reason"], "NewReplicaSetAvailable");
    assert_eq!(condition(&dep, "Available")["status"], "True");
    assert_eq!(dep["status"]["updatedReplicas"], 4);
    assert_eq!(dep["status"]["unavailableReplicas"], Value::Null);
    // 25 % of 4: one pod more and one pod less at a time.
    let (old_name, new_name) = (old["metadata"]["name"].as_str().unwrap(), new["metadata"]["name"].as_str().unwrap());
    let messages = event_messages(&sb, "ScalingReplicaSet");
    for expected in [format!("Scaled up replica set {new_name} from 0 to 1"), format!("Scaled down replica set {old_name} from 4 to 3")] {
        assert!(messages.contains(&expected), "{expected} missing from {messages:?}");
    }
    assert!(
        messages.iter().any(|m| m.starts_with(&format!("Scaled down replica set {old_name} from ")) && m.ends_with(" to 0")),
        "{messages:?}"
    );
    assert!(!messages.iter().any(|m| m.contains(&format!("{new_name} from 0 to 4"))), "the new ReplicaSet jumped: {messages:?}");
}

#[test]
fn a_failed_rollout_keeps_old_pods_ready_and_runs_into_its_progress_deadline() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply(&sb, &deployment("nginx:1.26", 4, json!({"progressDeadlineSeconds": 1})));
    sb.settle();
    apply(&sb, &deployment("nginx:doesnotexist", 4, json!({"progressDeadlineSeconds": 1})));
    sb.settle();
    let (old, new) = (rs_of(&sb, "nginx:1.26"), rs_of(&sb, "nginx:doesnotexist"));
    // maxUnavailable 1: three old pods stay; maxSurge 1: two new ones, neither ever ready.
    assert_eq!((old["spec"]["replicas"].as_i64(), new["spec"]["replicas"].as_i64()), (Some(3), Some(2)));
    let old_pods = pods_of(&sb, &old);
    assert_eq!(old_pods.len(), 3);
    assert!(old_pods.iter().all(|p| ready(p) && p["status"]["phase"] == "Running"), "{old_pods:?}");
    for pod in pods_of(&sb, &new) {
        assert_eq!(pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ImagePullBackOff");
    }
    let dep = web(&sb);
    let status = &dep["status"];
    assert_eq!(
        (
            &status["replicas"],
            &status["updatedReplicas"],
            &status["readyReplicas"],
            &status["availableReplicas"],
            &status["unavailableReplicas"]
        ),
        (&json!(5), &json!(2), &json!(3), &json!(3), &json!(2)),
        "{status}"
    );
    let new_name = new["metadata"]["name"].as_str().unwrap();
    let progressing = condition(&dep, "Progressing");
    assert_eq!(
        (&progressing["status"], &progressing["reason"], progressing["message"].as_str().unwrap()),
        (&json!("True"), &json!("ReplicaSetUpdated"), format!("ReplicaSet \"{new_name}\" is progressing.").as_str())
    );
    assert_eq!(condition(&dep, "Available")["reason"], "MinimumReplicasAvailable");

    // The deadline counts from the condition's last update; a second's deadline passes within 2.2 s.
    std::thread::sleep(Duration::from_millis(2200));
    sb.settle();
    let dep = web(&sb);
    let progressing = condition(&dep, "Progressing");
    assert_eq!(
        (&progressing["status"], &progressing["reason"], progressing["message"].as_str().unwrap()),
        (&json!("False"), &json!("ProgressDeadlineExceeded"), format!("ReplicaSet \"{new_name}\" has timed out progressing.").as_str())
    );
    assert_eq!(condition(&dep, "Available")["status"], "True");
    assert!(pods_of(&sb, &old).iter().all(ready));
}

#[test]
fn the_background_tick_notices_a_passed_deadline_without_a_write() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply(&sb, &deployment("nginx:doesnotexist", 2, json!({"progressDeadlineSeconds": 1})));
    sb.settle();
    assert_eq!(condition(&web(&sb), "Progressing")["status"], "True");
    wait_for("ProgressDeadlineExceeded", Duration::from_secs(10), || {
        (condition(&web(&sb), "Progressing")["reason"] == "ProgressDeadlineExceeded").then_some(())
    });
    // A rollout that never had pods: no minimum availability either.
    assert_eq!(condition(&web(&sb), "Available")["reason"], "MinimumReplicasUnavailable");
}

#[test]
fn recreate_removes_the_old_pods_before_it_starts_new_ones() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    let recreate = json!({"strategy": {"type": "Recreate"}});
    apply(&sb, &deployment("nginx:1.26", 2, recreate.clone()));
    sb.settle();
    apply(&sb, &deployment("nginx:doesnotexist", 2, recreate));
    sb.settle();
    let (old, new) = (rs_of(&sb, "nginx:1.26"), rs_of(&sb, "nginx:doesnotexist"));
    assert_eq!((old["spec"]["replicas"].as_i64(), new["spec"]["replicas"].as_i64()), (Some(0), Some(2)));
    assert!(pods_of(&sb, &old).is_empty());
    assert_eq!(pods_of(&sb, &new).len(), 2);
    let messages = event_messages(&sb, "ScalingReplicaSet");
    let (old_name, new_name) = (old["metadata"]["name"].as_str().unwrap(), new["metadata"]["name"].as_str().unwrap());
    let down = messages.iter().position(|m| *m == format!("Scaled down replica set {old_name} from 2 to 0"));
    let up = messages.iter().position(|m| *m == format!("Scaled up replica set {new_name} from 0 to 2"));
    assert!(down.is_some() && up.is_some(), "{messages:?}");
    // Recreate allows no unavailable pod: nothing serves, so no minimum availability.
    assert_eq!(condition(&web(&sb), "Available")["reason"], "MinimumReplicasUnavailable");
}

#[test]
fn going_back_to_an_earlier_template_reuses_its_replica_set_with_the_next_revision() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    for image in ["nginx:1.25", "nginx:1.26", "nginx:1.27", "nginx:1.25"] {
        apply(&sb, &deployment(image, 2, json!({})));
        sb.settle();
    }
    assert_eq!(replica_sets(&sb).len(), 3);
    let first = rs_of(&sb, "nginx:1.25");
    assert_eq!(revision(&first), "4");
    assert_eq!(first["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"], "1");
    assert_eq!(revision(&web(&sb)), "4");
    assert_eq!((revision(&rs_of(&sb, "nginx:1.26")), revision(&rs_of(&sb, "nginx:1.27"))), ("2", "3"));
    assert_eq!(pods_of(&sb, &first).len(), 2);
}

#[test]
fn old_replica_sets_beyond_the_history_limit_are_deleted_lowest_revision_first() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    for image in ["nginx:1.23", "nginx:1.24", "nginx:1.25", "nginx:1.26", "nginx:1.27"] {
        apply(&sb, &deployment(image, 1, json!({"revisionHistoryLimit": 2})));
        sb.settle();
    }
    let mut revisions: Vec<String> = replica_sets(&sb).iter().map(|rs| revision(rs).to_owned()).collect();
    revisions.sort();
    assert_eq!(revisions, ["3", "4", "5"]);
}

#[test]
fn a_stalled_rollout_keeps_its_old_replica_set_beyond_the_history_limit() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    for image in ["nginx:1.25", "nginx:1.26", "nginx:doesnotexist"] {
        apply(&sb, &deployment(image, 2, json!({"revisionHistoryLimit": 0})));
        sb.settle();
    }
    // History is trimmed only after a complete rollout: 1.25's went, 1.26's still serves.
    let images: Vec<String> = replica_sets(&sb).iter().map(|rs| image_of(rs).to_owned()).collect();
    assert_eq!(images.len(), 2, "{images:?}");
    assert!(images.contains(&"nginx:1.26".to_owned()) && images.contains(&"nginx:doesnotexist".to_owned()), "{images:?}");
}

fn stateful_set(image: &str, policy: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop"},
        "spec": {
            "replicas": 3, "serviceName": "db", "podManagementPolicy": policy,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": image}]}}
        }
    })
}

fn pod(sb: &Sandbox, name: &str) -> Value {
    sb.object("", "pods", "shop", name).unwrap_or_else(|| panic!("no pod {name}"))
}

fn pod_revision(sb: &Sandbox, name: &str) -> String {
    pod(sb, name)["metadata"]["labels"]["controller-revision-hash"].as_str().unwrap().to_owned()
}

#[test]
fn a_stateful_set_rolls_from_the_highest_ordinal_and_stops_at_a_pod_that_never_becomes_ready() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply(&sb, &stateful_set("postgres:16", "OrderedReady"));
    sb.settle();
    let first = sb.object("apps", "statefulsets", "shop", "db").unwrap()["status"]["currentRevision"].as_str().unwrap().to_owned();
    // A healthy update replaces every pod.
    apply(&sb, &stateful_set("postgres:17", "OrderedReady"));
    sb.settle();
    let sts = sb.object("apps", "statefulsets", "shop", "db").unwrap();
    let second = sts["status"]["updateRevision"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(sts["status"]["currentRevision"], second.as_str());
    assert_eq!((&sts["status"]["updatedReplicas"], &sts["status"]["readyReplicas"]), (&json!(3), &json!(3)));
    for name in ["db-0", "db-1", "db-2"] {
        assert_eq!(pod_revision(&sb, name), second);
    }
    let deleted = event_messages(&sb, "SuccessfulDelete");
    assert!(deleted.contains(&"delete Pod db-2 in StatefulSet db successful".to_owned()), "{deleted:?}");

    // A broken one stops at db-2; db-0 and db-1 keep the old revision and stay ready.
    apply(&sb, &stateful_set("postgres:doesnotexist", "OrderedReady"));
    sb.settle();
    let sts = sb.object("apps", "statefulsets", "shop", "db").unwrap();
    let third = sts["status"]["updateRevision"].as_str().unwrap().to_owned();
    assert_eq!(sts["status"]["currentRevision"], second.as_str());
    let counts = ["replicas", "readyReplicas", "currentReplicas", "updatedReplicas"].map(|f| sts["status"][f].clone());
    assert_eq!(counts, [json!(3), json!(2), json!(2), json!(1)], "{}", sts["status"]);
    assert_eq!(pod_revision(&sb, "db-2"), third);
    assert_eq!(pod(&sb, "db-2")["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ImagePullBackOff");
    for name in ["db-0", "db-1"] {
        assert_eq!(pod_revision(&sb, name), second);
        assert!(ready(&pod(&sb, name)));
    }

    // Reverting the template does not free it: OrderedReady waits for the broken db-2, as in
    // Kubernetes, until someone deletes that pod.
    apply(&sb, &stateful_set("postgres:17", "OrderedReady"));
    sb.settle();
    assert_eq!(pod_revision(&sb, "db-2"), third);
    assert_eq!(sb.object("apps", "statefulsets", "shop", "db").unwrap()["status"]["updateRevision"], second.as_str());
    let (code, body) = sb.call("DELETE", "/api/v1/namespaces/shop/pods/db-2", None, None);
    assert_eq!(code, 200, "{body}");
    sb.settle();
    assert_eq!(pod_revision(&sb, "db-2"), second);
    let sts = sb.object("apps", "statefulsets", "shop", "db").unwrap();
    assert_eq!((&sts["status"]["currentRevision"], &sts["status"]["readyReplicas"]), (&json!(second), &json!(3)));
}

#[test]
fn a_parallel_stateful_set_replaces_a_broken_pod_once_its_template_is_reverted() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply(&sb, &stateful_set("postgres:16", "Parallel"));
    sb.settle();
    let good = sb.object("apps", "statefulsets", "shop", "db").unwrap()["status"]["currentRevision"].as_str().unwrap().to_owned();
    apply(&sb, &stateful_set("postgres:doesnotexist", "Parallel"));
    sb.settle();
    assert_ne!(pod_revision(&sb, "db-2"), good);
    assert_eq!(pod_revision(&sb, "db-1"), good);
    apply(&sb, &stateful_set("postgres:16", "Parallel"));
    sb.settle();
    for name in ["db-0", "db-1", "db-2"] {
        assert_eq!(pod_revision(&sb, name), good);
        assert!(ready(&pod(&sb, name)));
    }
}

#[test]
fn an_ordered_stateful_set_whose_first_pod_never_becomes_ready_creates_no_other() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply(&sb, &stateful_set("postgres:doesnotexist", "OrderedReady"));
    sb.settle();
    assert!(sb.object("", "pods", "shop", "db-0").is_some());
    assert!(sb.object("", "pods", "shop", "db-1").is_none());
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply(&sb, &stateful_set("postgres:doesnotexist", "Parallel"));
    sb.settle();
    assert!(sb.object("", "pods", "shop", "db-2").is_some());
}
