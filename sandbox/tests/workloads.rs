//! Workload life in the sandbox: what the simulated controllers and kubelet make of Deployments,
//! StatefulSets, DaemonSets, Jobs, CronJobs, PVCs, quotas and Rook pools; the nodes; Pod Security
//! admission; namespace finalization; the write log; state that survives a restart.

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
        "DaemonSet" => (format!("apis/{api_version}"), "daemonsets"),
        "Job" => (format!("apis/{api_version}"), "jobs"),
        "CronJob" => (format!("apis/{api_version}"), "cronjobs"),
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
    // OrderedReady: db-1 and its claim wait for db-0 to be running and ready.
    let pvcs = list(&sb, "/api/v1/namespaces/shop/persistentvolumeclaims");
    let names: Vec<&str> = pvcs.iter().map(|p| p["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["data-db-0"]);
    assert!(sb.object("", "pods", "shop", "db-1").is_none());
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

fn pod_spec(name: &str, image: &str) -> Value {
    json!({"containers": [{"name": name, "image": image}]})
}

fn job(name: &str, ns: &str, image: &str, backoff_limit: i64, annotations: Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {"metadata": {"annotations": annotations}, "spec": {"restartPolicy": "Never", "containers": [{"name": name, "image": image}]}}
        }
    })
}

fn daemon_set(name: &str, ns: &str, image: &str, node_selector: Value) -> Value {
    let mut spec = pod_spec(name, image);
    spec["nodeSelector"] = node_selector;
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}
    })
}

fn condition_types(obj: &Value) -> Vec<String> {
    obj["status"]["conditions"].as_array().into_iter().flatten().map(|c| c["type"].as_str().unwrap().to_owned()).collect()
}

fn events_about(sb: &Sandbox, ns: &str, name: &str) -> Vec<Value> {
    list(sb, &format!("/api/v1/namespaces/{ns}/events")).into_iter().filter(|e| e["involvedObject"]["name"] == name).collect()
}

#[test]
fn the_cluster_has_three_ready_nodes_and_pods_are_spread_over_them() {
    let sb = sandbox();
    let nodes = list(&sb, "/api/v1/nodes");
    let names: Vec<&str> = nodes.iter().map(|n| n["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["sandbox-node-1", "sandbox-node-2", "sandbox-node-3"]);
    for node in &nodes {
        assert_eq!(node["metadata"]["labels"]["kubernetes.io/hostname"], node["metadata"]["name"]);
        assert_eq!(node["metadata"]["labels"]["kubernetes.io/os"], "linux");
        assert_eq!(condition(node, "Ready").unwrap()["status"], "True");
        assert_eq!(node["status"]["allocatable"]["pods"], "110");
    }
    namespace(&sb, "shop");
    apply(&sb, deployment("web", "shop", "nginx:1.27", 3, json!({})));
    sb.settle();
    let pods = list(&sb, "/api/v1/namespaces/shop/pods");
    let mut on: Vec<&str> = pods.iter().map(|p| p["spec"]["nodeName"].as_str().unwrap()).collect();
    on.sort();
    assert_eq!(on, names, "one pod per node");
    for pod in &pods {
        let node = nodes.iter().find(|n| n["metadata"]["name"] == pod["spec"]["nodeName"]).unwrap();
        assert_eq!(pod["status"]["hostIP"], node["status"]["addresses"][0]["address"]);
    }
    // A pod whose nodeSelector no node matches is not scheduled.
    let mut picky = deployment("picky", "shop", "nginx:1.27", 1, json!({}));
    picky["spec"]["template"]["spec"]["nodeSelector"] = json!({"disk": "ssd"});
    apply(&sb, picky);
    sb.settle();
    let pods = list(&sb, "/api/v1/namespaces/shop/pods?labelSelector=app%3Dpicky");
    assert_eq!(pods[0]["status"]["phase"], "Pending");
    let scheduled = condition(&pods[0], "PodScheduled").unwrap();
    assert_eq!(scheduled["reason"], "Unschedulable");
    assert_eq!(
        scheduled["message"],
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
}

#[test]
fn a_job_runs_its_pod_to_completion() {
    let sb = sandbox();
    namespace(&sb, "batch");
    apply(&sb, job("report", "batch", "busybox:1.36", 6, json!({})));
    sb.settle();
    let job = sb.object("batch", "jobs", "batch", "report").unwrap();
    let uid = job["metadata"]["uid"].as_str().unwrap();
    assert_eq!(job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"], uid);
    let pods = list(&sb, "/api/v1/namespaces/batch/pods");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["metadata"]["labels"]["batch.kubernetes.io/job-name"], "report");
    assert_eq!(pods[0]["status"]["phase"], "Succeeded");
    assert_eq!(pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
    assert_eq!(pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 0);
    assert_eq!(condition_types(&job), ["SuccessCriteriaMet", "Complete"]);
    for kind in ["SuccessCriteriaMet", "Complete"] {
        let c = condition(&job, kind).unwrap();
        assert_eq!((c["status"].as_str(), c["reason"].as_str()), (Some("True"), Some("CompletionsReached")));
        assert_eq!(c["message"], "Reached expected number of succeeded pods");
    }
    let status = &job["status"];
    assert_eq!((status["succeeded"].as_i64(), status["ready"].as_i64(), status["terminating"].as_i64()), (Some(1), Some(0), Some(0)));
    assert!(status["active"].is_null() && status["failed"].is_null(), "{status}");
    assert!(status["startTime"].is_string() && status["completionTime"].is_string(), "{status}");
    assert_eq!(status["uncountedTerminatedPods"], json!({}));
    let events = events_about(&sb, "batch", "report");
    let pod_name = pods[0]["metadata"]["name"].as_str().unwrap();
    assert!(events.iter().any(|e| e["reason"] == "SuccessfulCreate" && e["message"] == format!("Created pod: {pod_name}")), "{events:#?}");
    assert!(events.iter().any(|e| e["reason"] == "Completed" && e["message"] == "Job completed"), "{events:#?}");
    // A finished Job stays as it is.
    sb.settle();
    assert_eq!(list(&sb, "/api/v1/namespaces/batch/pods").len(), 1);
    // Deleting it in the background takes its pods along (they name it as their owner).
    assert_eq!(pods[0]["metadata"]["ownerReferences"][0]["uid"], uid);
    let options = json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"});
    let (code, body) = sb.call("DELETE", "/apis/batch/v1/namespaces/batch/jobs/report", None, Some(&options));
    assert_eq!(code, 200, "{body}");
    sb.settle();
    assert!(list(&sb, "/api/v1/namespaces/batch/pods").is_empty());
}

#[test]
fn a_crashing_job_fails_after_its_backoff_limit() {
    let sb = sandbox();
    namespace(&sb, "batch");
    apply(&sb, job("report", "batch", "busybox:1.36", 2, json!({"sandbox.cairn.dev/crash": "true"})));
    sb.settle();
    sb.settle();
    let job = sb.object("batch", "jobs", "batch", "report").unwrap();
    let pods = list(&sb, "/api/v1/namespaces/batch/pods");
    assert_eq!(pods.len(), 3, "the first try and backoffLimit=2 retries");
    for pod in &pods {
        assert_eq!(pod["status"]["phase"], "Failed");
        assert_eq!(pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"], "Error");
    }
    assert_eq!(condition_types(&job), ["FailureTarget", "Failed"]);
    for kind in ["FailureTarget", "Failed"] {
        let c = condition(&job, kind).unwrap();
        assert_eq!(
            (c["reason"].as_str(), c["message"].as_str()),
            (Some("BackoffLimitExceeded"), Some("Job has reached the specified backoff limit"))
        );
    }
    assert_eq!(job["status"]["failed"], 3);
    assert!(job["status"]["completionTime"].is_null());
    let events = events_about(&sb, "batch", "report");
    assert!(
        events.iter().any(|e| e["type"] == "Warning"
            && e["reason"] == "BackoffLimitExceeded"
            && e["message"] == "Job has reached the specified backoff limit"),
        "{events:#?}"
    );
}

#[test]
fn a_job_whose_image_cannot_be_pulled_stays_active_with_its_pod_in_image_pull_back_off() {
    let sb = sandbox();
    namespace(&sb, "batch");
    apply(&sb, job("report", "batch", "ghcr.io/acme/doesnotexist:1", 6, json!({})));
    sb.settle();
    sb.settle();
    let job = sb.object("batch", "jobs", "batch", "report").unwrap();
    let pods = list(&sb, "/api/v1/namespaces/batch/pods");
    assert_eq!(pods.len(), 1, "a pull failure is not a pod failure: no retries");
    assert_eq!(pods[0]["status"]["phase"], "Pending");
    assert_eq!(pods[0]["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ImagePullBackOff");
    assert_eq!(job["status"]["active"], 1);
    assert_eq!(job["status"]["ready"], 0);
    assert!(condition_types(&job).is_empty(), "{job}");
}

#[test]
fn a_jobs_pod_template_cannot_change() {
    let sb = sandbox();
    namespace(&sb, "batch");
    apply(&sb, job("report", "batch", "busybox:1.36", 6, json!({})));
    let mut changed = sb.object("batch", "jobs", "batch", "report").unwrap();
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:1.37");
    // An unconditional update (Jobs allow one): the job controller's status writes between the
    // GET and the PUT would otherwise make this a 409 Conflict, which a real server checks first.
    changed["metadata"].as_object_mut().unwrap().remove("resourceVersion");
    let (code, body) = sb.call("PUT", "/apis/batch/v1/namespaces/batch/jobs/report", None, Some(&changed));
    assert_eq!(code, 422, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("Job.batch \"report\" is invalid: spec.template: Invalid value: "), "{message}");
    assert!(message.ends_with(": field is immutable"), "{message}");
    assert_eq!(body["details"]["causes"][0]["field"], "spec.template");
}

#[test]
fn a_daemon_set_runs_one_pod_per_node_and_rolls_node_by_node() {
    let sb = sandbox();
    namespace(&sb, "infra");
    apply(&sb, daemon_set("agent", "infra", "agent:1", json!(null)));
    sb.settle();
    let pods = list(&sb, "/api/v1/namespaces/infra/pods");
    let mut on: Vec<&str> = pods.iter().map(|p| p["spec"]["nodeName"].as_str().unwrap()).collect();
    on.sort();
    assert_eq!(on, ["sandbox-node-1", "sandbox-node-2", "sandbox-node-3"]);
    let revisions = list(&sb, "/apis/apps/v1/namespaces/infra/controllerrevisions");
    assert_eq!(revisions.len(), 1);
    let hash = revisions[0]["metadata"]["labels"]["controller-revision-hash"].as_str().unwrap().to_owned();
    assert_eq!(revisions[0]["metadata"]["name"], format!("agent-{hash}"));
    assert_eq!(revisions[0]["revision"], 1);
    assert_eq!(revisions[0]["data"]["spec"]["template"]["$patch"], "replace");
    let ds = sb.object("apps", "daemonsets", "infra", "agent").unwrap();
    assert_eq!(revisions[0]["metadata"]["ownerReferences"][0]["uid"], ds["metadata"]["uid"]);
    for pod in &pods {
        assert_eq!(pod["metadata"]["labels"]["controller-revision-hash"], hash.as_str());
        assert_eq!(pod["metadata"]["labels"]["pod-template-generation"], "1");
        let term = &pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0];
        assert_eq!(term["matchFields"][0]["values"][0], pod["spec"]["nodeName"]);
        assert!(pod["spec"]["tolerations"].as_array().unwrap().iter().any(|t| t["key"] == "node.kubernetes.io/unschedulable"));
    }
    let status = &ds["status"];
    for (field, value) in [
        ("desiredNumberScheduled", 3),
        ("currentNumberScheduled", 3),
        ("numberReady", 3),
        ("updatedNumberScheduled", 3),
        ("numberAvailable", 3),
        ("numberMisscheduled", 0),
    ] {
        assert_eq!(status[field], value, "{field}: {status}");
    }
    assert_eq!(status["observedGeneration"], 1);

    // A new template replaces every pod and is revision 2.
    apply(&sb, daemon_set("agent", "infra", "agent:2", json!(null)));
    sb.settle();
    sb.settle();
    let pods = list(&sb, "/api/v1/namespaces/infra/pods");
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(|p| p["spec"]["containers"][0]["image"] == "agent:2"), "{pods:#?}");
    let revisions = list(&sb, "/apis/apps/v1/namespaces/infra/controllerrevisions");
    let mut numbers: Vec<i64> = revisions.iter().map(|r| r["revision"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, [1, 2]);

    // A template whose image cannot be pulled replaces one pod, then stalls: the others serve.
    apply(&sb, daemon_set("agent", "infra", "ghcr.io/acme/doesnotexist:3", json!(null)));
    sb.settle();
    sb.settle();
    let pods = list(&sb, "/api/v1/namespaces/infra/pods");
    let images: Vec<&str> = pods.iter().map(|p| p["spec"]["containers"][0]["image"].as_str().unwrap()).collect();
    assert_eq!(images.iter().filter(|i| **i == "agent:2").count(), 2, "{images:?}");
    assert_eq!(images.iter().filter(|i| i.contains("doesnotexist")).count(), 1, "{images:?}");
    let ds = sb.object("apps", "daemonsets", "infra", "agent").unwrap();
    let status = &ds["status"];
    assert_eq!((status["updatedNumberScheduled"].as_i64(), status["numberAvailable"].as_i64()), (Some(1), Some(2)), "{status}");
    assert_eq!(status["numberUnavailable"], 1);
}

#[test]
fn a_daemon_set_node_selector_picks_its_nodes() {
    let sb = sandbox();
    namespace(&sb, "infra");
    apply(&sb, daemon_set("agent", "infra", "agent:1", json!({"kubernetes.io/hostname": "sandbox-node-2"})));
    sb.settle();
    let pods = list(&sb, "/api/v1/namespaces/infra/pods");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["spec"]["nodeName"], "sandbox-node-2");
    assert_eq!(sb.object("apps", "daemonsets", "infra", "agent").unwrap()["status"]["desiredNumberScheduled"], 1);
}

#[test]
fn a_stateful_set_keeps_controller_revisions() {
    let sb = sandbox();
    namespace(&sb, "db");
    let sts = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "pg", "namespace": "db"},
        "spec": {"serviceName": "pg", "replicas": 1, "selector": {"matchLabels": {"app": "pg"}},
                 "template": {"metadata": {"labels": {"app": "pg"}}, "spec": pod_spec("pg", "postgres:16")}}
    });
    apply(&sb, sts);
    sb.settle();
    let revisions = list(&sb, "/apis/apps/v1/namespaces/db/controllerrevisions");
    assert_eq!(revisions.len(), 1);
    let pod = sb.object("", "pods", "db", "pg-0").unwrap();
    // A StatefulSet's pods carry the revision's name; the revision is labelled with the hash.
    assert_eq!(pod["metadata"]["labels"]["controller-revision-hash"], revisions[0]["metadata"]["name"]);
    let hash = revisions[0]["metadata"]["labels"]["controller-revision-hash"].as_str().unwrap();
    assert_eq!(revisions[0]["metadata"]["name"], format!("pg-{hash}"));
    assert_eq!(sb.object("apps", "statefulsets", "db", "pg").unwrap()["status"]["currentRevision"], revisions[0]["metadata"]["name"]);
}

fn restricted_namespace(sb: &Sandbox, name: &str, level: &str) {
    apply(
        sb,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"pod-security.kubernetes.io/enforce": level}}}),
    );
}

#[test]
fn pod_security_refuses_a_pod_with_the_plugins_message() {
    let sb = sandbox();
    restricted_namespace(&sb, "secure", "restricted");
    let pod =
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "secure"}, "spec": pod_spec("web", "nginx:1.27")});
    let (code, body) = sb.call("POST", "/api/v1/namespaces/secure/pods", None, Some(&pod));
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(
        body["message"],
        "pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\": \
         allowPrivilegeEscalation != false (container \"web\" must set securityContext.allowPrivilegeEscalation=false), \
         unrestricted capabilities (container \"web\" must set securityContext.capabilities.drop=[\"ALL\"]), \
         runAsNonRoot != true (pod or container \"web\" must set securityContext.runAsNonRoot=true), \
         seccompProfile (pod or container \"web\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
    // Baseline allows it; a privileged container it does not.
    restricted_namespace(&sb, "base", "baseline");
    let mut pod = pod;
    pod["metadata"]["namespace"] = json!("base");
    let (code, body) = sb.call("POST", "/api/v1/namespaces/base/pods", None, Some(&pod));
    assert_eq!(code, 201, "{body}");
    pod["metadata"]["name"] = json!("y");
    pod["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    let (code, body) = sb.call("POST", "/api/v1/namespaces/base/pods", None, Some(&pod));
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        "pods \"y\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"web\" must not set securityContext.privileged=true)"
    );
}

#[test]
fn pod_security_leaves_a_deployment_without_pods_and_records_failed_create() {
    let sb = sandbox();
    restricted_namespace(&sb, "secure", "restricted");
    apply(&sb, deployment("web", "secure", "nginx:1.27", 2, json!({})));
    sb.settle();
    assert!(list(&sb, "/api/v1/namespaces/secure/pods").is_empty());
    let rs = list(&sb, "/apis/apps/v1/namespaces/secure/replicasets");
    let failure = condition(&rs[0], "ReplicaFailure").expect("the ReplicaSet records the failure");
    assert_eq!(failure["reason"], "FailedCreate");
    assert!(failure["message"].as_str().unwrap().contains("violates PodSecurity \"restricted:latest\""), "{failure}");
    let rs_name = rs[0]["metadata"]["name"].as_str().unwrap();
    let events = events_about(&sb, "secure", rs_name);
    let event = events.iter().find(|e| e["reason"] == "FailedCreate").expect("a FailedCreate event");
    assert_eq!(event["type"], "Warning");
    let message = event["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("Error creating: pods \"{rs_name}-")), "{message}");
    assert!(message.contains("is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false"), "{message}");
    let dep = sb.object("apps", "deployments", "secure", "web").unwrap();
    assert_eq!(condition(&dep, "ReplicaFailure").unwrap()["reason"], "FailedCreate");

    // The hardened template runs.
    let mut hardened = deployment("web", "secure", "nginx:1.27", 2, json!({}));
    hardened["spec"]["template"]["spec"]["securityContext"] = json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}});
    hardened["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
        json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}});
    apply(&sb, hardened);
    sb.settle();
    let pods = list(&sb, "/api/v1/namespaces/secure/pods");
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| p["status"]["phase"] == "Running"));
}

#[test]
fn a_cron_job_is_validated_defaulted_and_stored_but_never_runs() {
    let sb = sandbox();
    namespace(&sb, "batch");
    let cron = |schedule: &str| {
        json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "nightly", "namespace": "batch"},
            "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "r", "image": "busybox:1.36"}]}}}}}
        })
    };
    let (code, body) = sb.call("POST", "/apis/batch/v1/namespaces/batch/cronjobs", None, Some(&cron("every night")));
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "CronJob.batch \"nightly\" is invalid: spec.schedule: Invalid value: \"every night\": expected exactly 5 fields, found 2: [every night]"
    );
    let (code, body) = sb.call("POST", "/apis/batch/v1/namespaces/batch/cronjobs", None, Some(&cron("0 61 * * *")));
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("spec.schedule: Invalid value: \"0 61 * * *\": end of range (61) above maximum (23): 61"),
        "{body}"
    );
    apply(&sb, cron("0 2 * * *"));
    sb.settle();
    let stored = sb.object("batch", "cronjobs", "batch", "nightly").unwrap();
    assert_eq!(stored["spec"]["concurrencyPolicy"], "Allow");
    assert_eq!(stored["spec"]["successfulJobsHistoryLimit"], 3);
    assert_eq!(stored["spec"]["failedJobsHistoryLimit"], 1);
    assert_eq!(stored["spec"]["suspend"], false);
    assert!(list(&sb, "/apis/batch/v1/namespaces/batch/jobs").is_empty());
}

#[test]
fn quota_counts_a_pods_effective_request_init_containers_and_sidecars_included() {
    let sb = sandbox();
    namespace(&sb, "shop");
    apply(
        &sb,
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "shop"}, "spec": {"hard": {"requests.cpu": "2"}}}),
    );
    let cpu = |n: &str| json!({"requests": {"cpu": n}});
    let pod = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop"}, "spec": {
            "initContainers": [
                {"name": "proxy", "image": "envoy:1", "restartPolicy": "Always", "resources": cpu("100m")},
                {"name": "migrate", "image": "migrate:1", "resources": cpu("1500m")}
            ],
            "containers": [{"name": "web", "image": "nginx:1.27", "resources": cpu("100m")}, {"name": "metrics", "image": "m:1", "resources": cpu("200m")}]
        }})
    };
    // max(100m + 200m + 100m, 1500m + the 100m sidecar started before it) = 1600m.
    let (code, body) = sb.call("POST", "/api/v1/namespaces/shop/pods", None, Some(&pod("a")));
    assert_eq!(code, 201, "{body}");
    sb.settle();
    assert_eq!(sb.object("", "resourcequotas", "shop", "q").unwrap()["status"]["used"]["requests.cpu"], "1600m");
    let (code, body) = sb.call("POST", "/api/v1/namespaces/shop/pods", None, Some(&pod("b")));
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        "pods \"b\" is forbidden: exceeded quota: q, requested: requests.cpu=1600m, used: requests.cpu=1600m, limited: requests.cpu=2"
    );
    // An init container without the request the quota tracks is named.
    let mut bare = pod("c");
    bare["spec"]["initContainers"][1]["resources"] = json!({});
    let (code, body) = sb.call("POST", "/api/v1/namespaces/shop/pods", None, Some(&bare));
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["message"], "pods \"c\" is forbidden: failed quota: q: must specify requests.cpu for: migrate");
}

#[test]
fn pod_security_refusals_are_failed_create_events_of_jobs_and_daemon_sets() {
    let sb = sandbox();
    restricted_namespace(&sb, "secure", "restricted");
    apply(&sb, job("report", "secure", "busybox:1.36", 6, json!({})));
    apply(&sb, daemon_set("agent", "secure", "agent:1", json!(null)));
    sb.settle();
    assert!(list(&sb, "/api/v1/namespaces/secure/pods").is_empty());
    for (owner, component) in [("report", "job-controller"), ("agent", "daemonset-controller")] {
        let events = events_about(&sb, "secure", owner);
        let event = events.iter().find(|e| e["reason"] == "FailedCreate").unwrap_or_else(|| panic!("{owner}: {events:#?}"));
        assert_eq!(event["type"], "Warning");
        assert_eq!(event["source"]["component"], component);
        let message = event["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("Error creating: pods \"{owner}-")), "{message}");
        assert!(message.contains("violates PodSecurity \"restricted:latest\""), "{message}");
    }
    let job = sb.object("batch", "jobs", "secure", "report").unwrap();
    assert!(job["status"]["active"].is_null() && condition_types(&job).is_empty(), "{job}");
    assert_eq!(sb.object("apps", "daemonsets", "secure", "agent").unwrap()["status"]["currentNumberScheduled"], 0);
}

#[test]
fn a_crash_looping_pod_of_an_on_failure_job_fails_the_job() {
    let sb = sandbox();
    namespace(&sb, "batch");
    let mut on_failure = job("report", "batch", "busybox:1.36", 6, json!({"sandbox.cairn.dev/crash": "true"}));
    on_failure["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
    apply(&sb, on_failure);
    sb.settle();
    let job = sb.object("batch", "jobs", "batch", "report").unwrap();
    assert_eq!(condition_types(&job), ["FailureTarget", "Failed"]);
    assert_eq!(condition(&job, "Failed").unwrap()["reason"], "BackoffLimitExceeded");
    // Its active pod is deleted, as the Job controller deletes them on failure.
    assert!(list(&sb, "/api/v1/namespaces/batch/pods").is_empty());
}

#[test]
fn a_scale_write_is_an_update_recorded_under_the_scale_subresource() {
    let sb = sandbox();
    namespace(&sb, "shop");
    apply(&sb, deployment("web", "shop", "nginx:1.27", 1, json!({})));
    let patch = json!({"spec": {"replicas": 3}});
    let (code, body) = sb.call(
        "PATCH",
        "/apis/apps/v1/namespaces/shop/deployments/web/scale?fieldManager=scaler",
        Some("application/merge-patch+json"),
        Some(&patch),
    );
    assert_eq!((code, &body["spec"]["replicas"]), (200, &json!(3)), "{body}");
    let dep = sb.object("apps", "deployments", "shop", "web").unwrap();
    let entry = dep["metadata"]["managedFields"].as_array().unwrap().iter().find(|e| e["manager"] == "scaler").unwrap();
    assert_eq!((&entry["operation"], &entry["subresource"]), (&json!("Update"), &json!("scale")), "{entry}");
    assert_eq!(entry["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    // A change through the scale subresource is a spec change.
    assert_eq!(dep["metadata"]["generation"], 2);
    let (code, body) = sb.call("GET", "/apis/apps/v1/namespaces/shop/deployments/nothing/scale", None, None);
    assert_eq!((code, body["message"].as_str()), (404, Some("deployments/scale.apps \"nothing\" not found")));
}
