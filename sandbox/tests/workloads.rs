//! Workload life in the sandbox: what the simulated controllers and kubelet make of Deployments,
//! StatefulSets, PVCs, quotas and Rook pools; namespace finalization; the write log; state that
//! survives a restart.

use cairn_sandbox::{Options, Sandbox};
use serde_json::{json, Value};

const APPLY: Option<&str> = Some("application/apply-patch+yaml");

fn sandbox() -> Sandbox {
    Sandbox::start(Options::default()).unwrap()
}

fn apply(sb: &Sandbox, obj: Value) -> Value {
    let api_version = obj["apiVersion"].as_str().unwrap();
    let kind = obj["kind"].as_str().unwrap();
    let (group_path, plural) = match kind {
        "Namespace" => ("api/v1".to_owned(), "namespaces"),
        "ConfigMap" => ("api/v1".to_owned(), "configmaps"),
        "ResourceQuota" => ("api/v1".to_owned(), "resourcequotas"),
        "LimitRange" => ("api/v1".to_owned(), "limitranges"),
        "Deployment" => (format!("apis/{api_version}"), "deployments"),
        "StatefulSet" => (format!("apis/{api_version}"), "statefulsets"),
        "StorageClass" => (format!("apis/{api_version}"), "storageclasses"),
        "CephBlockPool" => (format!("apis/{api_version}"), "cephblockpools"),
        other => panic!("test helper does not know {other}"),
    };
    let name = obj["metadata"]["name"].as_str().unwrap();
    let path = match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!("/{group_path}/namespaces/{ns}/{plural}/{name}?fieldManager=test"),
        None => format!("/{group_path}/{plural}/{name}?fieldManager=test"),
    };
    let (code, body) = sb.call("PATCH", &path, APPLY, Some(&obj));
    assert!(code == 200 || code == 201, "apply {kind}/{name}: {code} {body}");
    body
}

fn namespace(sb: &Sandbox, name: &str) {
    apply(sb, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}));
}

fn deployment(name: &str, ns: &str, image: &str, replicas: i64, annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": annotations},
                "spec": {"containers": [{"name": name, "image": image, "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}}]}
            }
        }
    })
}

fn list(sb: &Sandbox, path: &str) -> Vec<Value> {
    let (code, body) = sb.call("GET", path, None, None);
    assert_eq!(code, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == kind)
}

#[test]
fn a_deployment_gets_an_owned_replica_set_and_ready_pods() {
    let sb = sandbox();
    namespace(&sb, "shop");
    apply(&sb, deployment("web", "shop", "nginx:1.27", 3, json!({})));
    sb.settle();
    let dep = sb.object("apps", "deployments", "shop", "web").unwrap();
    let rs = list(&sb, "/apis/apps/v1/namespaces/shop/replicasets");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0]["metadata"]["ownerReferences"][0]["uid"], dep["metadata"]["uid"]);
    assert_eq!(rs[0]["metadata"]["ownerReferences"][0]["controller"], true);
    let pods = list(&sb, "/api/v1/namespaces/shop/pods");
    assert_eq!(pods.len(), 3);
    for pod in &pods {
        assert_eq!(pod["metadata"]["ownerReferences"][0]["uid"], rs[0]["metadata"]["uid"]);
        assert_eq!(pod["status"]["phase"], "Running");
        assert!(pod["status"]["containerStatuses"][0]["state"]["running"].is_object());
    }
    assert_eq!(dep["status"]["readyReplicas"], 3);
    assert_eq!(dep["status"]["observedGeneration"], dep["metadata"]["generation"]);
    assert_eq!(condition(&dep, "Available").unwrap()["status"], "True");
}

#[test]
fn an_image_that_does_not_exist_backs_off_with_an_event() {
    let sb = sandbox();
    namespace(&sb, "shop");
    apply(&sb, deployment("web", "shop", "ghcr.io/acme/doesnotexist:1.0", 1, json!({})));
    sb.settle();
    let pods = list(&sb, "/api/v1/namespaces/shop/pods");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ImagePullBackOff");
    assert_eq!(pods[0]["status"]["containerStatuses"][0]["ready"], false);
    let events = list(&sb, "/api/v1/namespaces/shop/events");
    let pod_name = pods[0]["metadata"]["name"].as_str().unwrap();
    assert!(
        events.iter().any(|e| e["involvedObject"]["name"] == pod_name && e["reason"] == "BackOff" && e["type"] == "Warning"),
        "{events:#?}"
    );
    let dep = sb.object("apps", "deployments", "shop", "web").unwrap();
    assert_eq!(condition(&dep, "Available").unwrap()["status"], "False");
    assert!(dep["status"]["readyReplicas"].is_null());
}

#[test]
fn crash_and_oom_annotations_give_crash_loops() {
    let sb = sandbox();
    namespace(&sb, "shop");
    apply(&sb, deployment("crash", "shop", "nginx:1.27", 1, json!({"sandbox.cairn.dev/crash": "true"})));
    apply(&sb, deployment("oom", "shop", "nginx:1.27", 1, json!({"sandbox.cairn.dev/oom": "true"})));
    sb.settle();
    for (app, last) in [("crash", "Error"), ("oom", "OOMKilled")] {
        let pods = list(&sb, &format!("/api/v1/namespaces/shop/pods?labelSelector=app%3D{app}"));
        assert_eq!(pods.len(), 1, "{app}");
        let status = &pods[0]["status"]["containerStatuses"][0];
        assert_eq!(status["state"]["waiting"]["reason"], "CrashLoopBackOff", "{app}");
        assert_eq!(status["lastState"]["terminated"]["reason"], last, "{app}");
        assert!(status["restartCount"].as_i64().unwrap() > 0);
    }
}

#[test]
fn a_quota_refusal_shows_as_replica_failure_and_failed_create() {
    let sb = sandbox();
    namespace(&sb, "shop");
    apply(
        &sb,
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "shop"}, "spec": {"hard": {"pods": "2"}}}),
    );
    apply(&sb, deployment("web", "shop", "nginx:1.27", 3, json!({})));
    sb.settle();
    assert_eq!(list(&sb, "/api/v1/namespaces/shop/pods").len(), 2);
    let dep = sb.object("apps", "deployments", "shop", "web").unwrap();
    let failure = condition(&dep, "ReplicaFailure").expect("ReplicaFailure condition on the Deployment");
    assert_eq!(failure["status"], "True");
    assert_eq!(failure["reason"], "FailedCreate");
    assert!(failure["message"].as_str().unwrap().contains("exceeded quota: q"), "{failure}");
    let events = list(&sb, "/api/v1/namespaces/shop/events");
    assert!(events.iter().any(|e| e["reason"] == "FailedCreate" && e["involvedObject"]["kind"] == "ReplicaSet"), "{events:#?}");
    let quota = sb.object("", "resourcequotas", "shop", "q").unwrap();
    assert_eq!(quota["status"]["used"]["pods"], "2");
    assert_eq!(quota["status"]["hard"]["pods"], "2");
}

fn stateful_set() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop"},
        "spec": {
            "replicas": 2, "serviceName": "db-hl",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres:16.4"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    })
}

#[test]
fn claim_templates_make_unowned_pvcs_that_bind_once_their_class_exists() {
    let sb = sandbox();
    namespace(&sb, "shop");
    apply(&sb, stateful_set());
    sb.settle();
    let pvcs = list(&sb, "/api/v1/namespaces/shop/persistentvolumeclaims");
    let names: Vec<&str> = pvcs.iter().map(|p| p["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["data-db-0", "data-db-1"]);
    for pvc in &pvcs {
        assert!(pvc["metadata"]["ownerReferences"].is_null(), "claims keep no owner (Retain policy): {pvc}");
        assert_eq!(pvc["status"]["phase"], "Pending");
    }
    let pod = sb.object("", "pods", "shop", "db-0").unwrap();
    assert_eq!(pod["status"]["phase"], "Pending");
    assert_eq!(sb.object("apps", "statefulsets", "shop", "db").unwrap()["status"]["readyReplicas"], Value::Null);

    apply(
        &sb,
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"}, "provisioner": "rook-ceph.rbd.csi.ceph.com"}),
    );
    sb.settle();
    for name in ["data-db-0", "data-db-1"] {
        let pvc = sb.object("", "persistentvolumeclaims", "shop", name).unwrap();
        assert_eq!(pvc["status"]["phase"], "Bound", "{pvc}");
        let volume = pvc["spec"]["volumeName"].as_str().unwrap();
        let pv = sb.object("", "persistentvolumes", "", volume).unwrap();
        assert_eq!(pv["spec"]["claimRef"]["name"], name);
        assert_eq!(pv["spec"]["capacity"]["storage"], "1Gi");
    }
    assert_eq!(sb.object("", "pods", "shop", "db-0").unwrap()["status"]["phase"], "Running");
    assert_eq!(sb.object("apps", "statefulsets", "shop", "db").unwrap()["status"]["readyReplicas"], 2);
}

#[test]
fn a_ceph_block_pool_becomes_ready() {
    let sb = sandbox();
    apply(
        &sb,
        json!({
            "apiVersion": "ceph.rook.io/v1", "kind": "CephBlockPool",
            "metadata": {"name": "shop-block", "namespace": "rook-ceph"},
            "spec": {"failureDomain": "host", "replicated": {"size": 3}}
        }),
    );
    sb.settle();
    let pool = sb.object("ceph.rook.io", "cephblockpools", "rook-ceph", "shop-block").unwrap();
    assert_eq!(pool["status"]["phase"], "Ready");
    assert_eq!(pool["status"]["observedGeneration"], pool["metadata"]["generation"]);
}

#[test]
fn deleting_a_namespace_finalizes_its_content_first() {
    let sb = sandbox();
    namespace(&sb, "shop");
    apply(&sb, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"}, "data": {"a": "1"}}));
    apply(&sb, deployment("web", "shop", "nginx:1.27", 1, json!({})));
    sb.settle();
    let (code, body) = sb.call("DELETE", "/api/v1/namespaces/shop", None, None);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"]["phase"], "Terminating");
    assert!(body["metadata"]["deletionTimestamp"].is_string());
    // While terminating, nothing new may be created in it.
    let (code, body) = sb.call(
        "POST",
        "/api/v1/namespaces/shop/configmaps",
        None,
        Some(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}})),
    );
    assert_eq!(code, 403, "{body}");
    assert!(body["message"].as_str().unwrap().contains("being terminated"), "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sb.object("", "namespaces", "", "shop").is_some() {
        assert!(std::time::Instant::now() < deadline, "the namespace was not finalized within 10 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
        sb.settle();
    }
    assert!(sb.object("", "configmaps", "shop", "c").is_none());
    assert!(list(&sb, "/api/v1/namespaces/shop/pods").is_empty());
    // Objects in a missing namespace are 404.
    let (code, body) = sb.call(
        "POST",
        "/api/v1/namespaces/shop/configmaps",
        None,
        Some(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})),
    );
    assert_eq!(code, 404, "{body}");
    assert_eq!(body["message"], "namespaces \"shop\" not found");
}

#[test]
fn the_write_log_records_every_client_write_in_order() {
    let sb = sandbox();
    namespace(&sb, "shop");
    apply(&sb, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "shop"}, "data": {"k": "1"}}));
    apply(&sb, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "shop"}, "data": {"k": "2"}}));
    // An identical apply is not a write.
    apply(&sb, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "shop"}, "data": {"k": "2"}}));
    sb.call("DELETE", "/api/v1/namespaces/shop/configmaps/a", None, None);
    let writes: Vec<(String, String, String)> =
        sb.writes().into_iter().filter(|w| !w.controller).map(|w| (w.verb, w.kind, w.name)).collect();
    let expected: Vec<(String, String, String)> =
        [("apply", "Namespace", "shop"), ("apply", "ConfigMap", "a"), ("apply", "ConfigMap", "a"), ("delete", "ConfigMap", "a")]
            .iter()
            .map(|(v, k, n)| (v.to_string(), k.to_string(), n.to_string()))
            .collect();
    assert_eq!(writes, expected);
    let seqs: Vec<u64> = sb.writes().iter().map(|w| w.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
}

#[test]
fn state_survives_a_restart_and_two_sandboxes_are_independent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    let uid;
    {
        let sb = Sandbox::start(Options { port: 0, state_file: Some(file.clone()) }).unwrap();
        namespace(&sb, "shop");
        let cm = apply(
            &sb,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept", "namespace": "shop"}, "data": {"k": "v"}}),
        );
        uid = cm["metadata"]["uid"].clone();
        let other = sandbox();
        assert!(other.object("", "configmaps", "shop", "kept").is_none(), "a second sandbox shares nothing");
        assert_ne!(other.addr(), sb.addr());
    }
    let sb = Sandbox::start(Options { port: 0, state_file: Some(file) }).unwrap();
    let cm = sb.object("", "configmaps", "shop", "kept").expect("the configmap survives the restart");
    assert_eq!(cm["metadata"]["uid"], uid);
    assert_eq!(cm["data"]["k"], "v");
}
