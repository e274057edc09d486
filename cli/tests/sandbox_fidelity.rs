//! What a planner depends on, checked with the objects cairn itself emits (examples/shop,
//! compiled here): every one is accepted by server-side apply with strict
//! validation; applying them again changes nothing (no write, same resourceVersion and
//! generation); the stored objects hold the defaults kube-apiserver adds; a changed spec bumps
//! generation once.

use std::collections::BTreeMap;
use std::path::Path;

use cairn_compiler::{compile, DiskLoader, MapEnv, Mode};
use cairn_sandbox::registry::Registry;
use cairn_sandbox::{Options, Sandbox};
use serde_json::{json, Value};

fn objects(example: &str) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(example).canonicalize().unwrap();
    let compilation = compile(&DiskLoader, &MapEnv(BTreeMap::new()), &dir, Mode::Render).unwrap();
    assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
    compilation.objects.iter().filter(|o| matches!(o.target, cairn_compiler::lower::Target::Kube)).map(|o| o.body.clone()).collect()
}

fn path(obj: &Value) -> String {
    let registry = Registry::new(cairn_sandbox::crds::rook().iter());
    let t = registry.find_kind(obj["apiVersion"].as_str().unwrap(), obj["kind"].as_str().unwrap()).expect("a served kind");
    let prefix = if t.group.is_empty() { format!("/api/{}", t.version) } else { format!("/apis/{}/{}", t.group, t.version) };
    let name = obj["metadata"]["name"].as_str().unwrap();
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{prefix}/namespaces/{ns}/{}/{name}", t.plural),
        None => format!("{prefix}/{}/{name}", t.plural),
    }
}

fn apply_all(sb: &Sandbox, objs: &[Value]) -> Vec<Value> {
    objs.iter()
        .map(|o| {
            let (code, body) = sb.call(
                "PATCH",
                &format!("{}?fieldManager=cairn&fieldValidation=Strict", path(o)),
                Some("application/apply-patch+yaml"),
                Some(o),
            );
            assert!(code == 200 || code == 201, "{}: {code} {body}", path(o));
            body
        })
        .collect()
}

#[test]
fn reapplying_what_cairn_emits_is_a_no_op() {
    for example in ["shop"] {
        let sb = Sandbox::start(Options::default()).unwrap();
        let objs = objects(example);
        assert!(objs.len() >= 5, "{example}: {}", objs.len());
        let first = apply_all(&sb, &objs);
        sb.settle();
        // Controllers may have written since (Rook's provisioner fills a bucket claim's spec):
        // the re-apply is compared with what is stored now.
        let settled: Vec<serde_json::Value> = first.iter().map(|a| sb.call("GET", &path(a), None, None).1).collect();
        let writes = sb.writes().iter().filter(|w| !w.controller).count();
        let second = apply_all(&sb, &objs);
        assert_eq!(sb.writes().iter().filter(|w| !w.controller).count(), writes, "{example}: a re-apply wrote");
        for ((a, b), before) in first.iter().zip(&second).zip(&settled) {
            let id = path(a);
            let stored = sb.call("GET", &path(a), None, None).1;
            assert_eq!(b["metadata"]["resourceVersion"], stored["metadata"]["resourceVersion"], "{id}");
            assert_eq!(before["metadata"]["generation"], b["metadata"]["generation"], "{id}");
            assert_eq!(a["metadata"]["uid"], b["metadata"]["uid"], "{id}");
        }
    }
}

#[test]
fn stored_objects_carry_the_apiserver_defaults() {
    let sb = Sandbox::start(Options::default()).unwrap();
    apply_all(&sb, &objects("shop"));
    let get = |p: &str| sb.call("GET", p, None, None).1;
    let dep = get("/apis/apps/v1/namespaces/shop/deployments/web");
    assert_eq!(dep["spec"]["strategy"], json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}));
    assert_eq!(dep["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(dep["spec"]["progressDeadlineSeconds"], 600);
    let pod = &dep["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod["schedulerName"], "default-scheduler");
    let c = &pod["containers"][0];
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    assert_eq!(c["readinessProbe"]["periodSeconds"], 10);
    assert_eq!(c["readinessProbe"]["httpGet"]["scheme"], "HTTP");
    let config = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "config").unwrap();
    assert_eq!(config["configMap"]["defaultMode"], 420);
    let svc = get("/api/v1/namespaces/shop/services/web");
    assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(svc["spec"]["sessionAffinity"], "None");
    assert!(svc["spec"]["clusterIP"].as_str().unwrap().starts_with("10.96."), "{svc}");
    assert_eq!(get("/api/v1/namespaces/shop/services/db-hl")["spec"]["clusterIP"], "None");
    let sts = get("/apis/apps/v1/namespaces/shop/statefulsets/db");
    assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(sts["spec"]["persistentVolumeClaimRetentionPolicy"], json!({"whenDeleted": "Retain", "whenScaled": "Retain"}));
    assert_eq!(sts["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"], "Filesystem");
    let sc = get("/apis/storage.k8s.io/v1/storageclasses/shop-block");
    assert_eq!(sc["volumeBindingMode"], "Immediate");
    assert_eq!(sc["reclaimPolicy"], "Retain", "a declared value is kept");
    let ns = get("/api/v1/namespaces/shop");
    assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "shop");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    let quota = get("/api/v1/namespaces/shop/resourcequotas/shop-quota");
    assert_eq!(quota["spec"]["hard"]["requests.cpu"], "4");
}

#[test]
fn a_spec_change_bumps_generation_once_and_a_label_change_does_not() {
    let sb = Sandbox::start(Options::default()).unwrap();
    let objs = objects("shop");
    apply_all(&sb, &objs);
    // The autoscaler has scaled web (and owns its replicas) before the changes below.
    sb.settle();
    let dep_path = "/apis/apps/v1/namespaces/shop/deployments/web";
    let before = sb.call("GET", dep_path, None, None).1;
    let mut changed = objs.iter().find(|o| o["kind"] == "Deployment").unwrap().clone();
    changed["metadata"]["labels"]["extra"] = json!("yes");
    let after_label = apply_all(&sb, std::slice::from_ref(&changed)).remove(0);
    assert_eq!(after_label["metadata"]["generation"], before["metadata"]["generation"]);
    assert_ne!(after_label["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);
    // (Not `replicas`: the shop's web is autoscaled, and its autoscaler owns the count.)
    changed["spec"]["minReadySeconds"] = json!(5);
    let after_spec = apply_all(&sb, std::slice::from_ref(&changed)).remove(0);
    assert_eq!(after_spec["metadata"]["generation"].as_i64().unwrap(), before["metadata"]["generation"].as_i64().unwrap() + 1);
}
