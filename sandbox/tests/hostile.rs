//! Bad input never takes the sandbox down: every malformed request gets a `Status` error (4xx)
//! and the server keeps serving.

use cairn_sandbox::{Options, Sandbox};
use serde_json::{json, Value};

const PATHS: &[&str] = &[
    "/api/v1/namespaces/default/configmaps",
    "/api/v1/namespaces/default/configmaps/c",
    "/api/v1/namespaces/default/configmaps/c/status",
    "/apis/apps/v1/namespaces/default/deployments/d",
    "/apis/apps/v1/namespaces/default/deployments/d/scale",
    "/apis/ceph.rook.io/v1/namespaces/rook-ceph/cephblockpools/p",
    "/api/v1/namespaces/x",
    "/api/v1/namespaces/x/finalize",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x",
];

fn bodies() -> Vec<Vec<u8>> {
    let deep_json = format!("{}1{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
    let deep_yaml = format!("{}1", "- ".repeat(5000)).into_bytes();
    vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"\xff\xfe\x00garbage".to_vec(),
        b"[]".to_vec(),
        b"42".to_vec(),
        b"null".to_vec(),
        deep_json,
        deep_yaml,
        json!({"apiVersion": 7, "kind": ["x"], "metadata": "no"}).to_string().into_bytes(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "managedFields": [{"manager": 1, "fieldsV1": {"x:bad": {}}}]}}).to_string().into_bytes(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "managedFields": "nope"}, "data": {"a": 1}}).to_string().into_bytes(),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": -3, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "c"}}, "spec": {"containers": [{"name": "x"}, {"name": "x", "ports": [{"containerPort": "http"}]}]}}}}).to_string().into_bytes(),
        json!({"spec": {"template": {"spec": {"containers": [{"$patch": "explode"}]}}}, "$setElementOrder/containers": [7]}).to_string().into_bytes(),
        json!([{"op": "move", "from": "/nope", "path": "/a"}, {"op": "bogus"}]).to_string().into_bytes(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": "not-a-number"}}).to_string().into_bytes(),
        json!({"kind": "DeleteOptions", "propagationPolicy": "Sideways", "preconditions": {"uid": 5}}).to_string().into_bytes(),
        json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": "many"}}).to_string().into_bytes(),
    ]
}

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/apply-patch+yaml",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "text/plain",
];

#[test]
fn malformed_requests_get_status_errors_and_the_server_keeps_serving() {
    let sb = Sandbox::start(Options::default()).unwrap();
    // Something to patch and delete.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
    assert_eq!(sb.call("POST", "/api/v1/namespaces/default/configmaps", None, Some(&cm)).0, 201);
    let mut answered = 0;
    for path in PATHS {
        for method in ["POST", "PUT", "PATCH", "DELETE", "GET"] {
            for body in bodies() {
                for content_type in CONTENT_TYPES {
                    let query = "?fieldManager=t&fieldValidation=Strict&labelSelector=a%20in%20(&limit=x&continue=%%%";
                    let (code, status) = call_raw(&sb, method, &format!("{path}{query}"), content_type, &body);
                    assert!((200..500).contains(&code), "{method} {path} {content_type}: {code} {status}");
                    if code >= 400 {
                        assert_eq!(status["kind"], "Status", "{method} {path}: {status}");
                        assert!(status["message"].as_str().is_some_and(|m| !m.is_empty()));
                    }
                    answered += 1;
                }
            }
        }
    }
    assert!(answered > 1000);
    // Still serving, state intact.
    let (code, body) = sb.call("GET", "/api/v1/namespaces/default/configmaps", None, None);
    assert_eq!(code, 200, "{body}");
    let (code, _) = sb.call("GET", "/version", None, None);
    assert_eq!(code, 200);
}

fn call_raw(sb: &Sandbox, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    // `call` takes JSON; raw bytes go through a Value only when they parse, else as a string
    // of garbage the server must refuse.
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => sb.call(method, path, Some(content_type), Some(&v)),
        Err(_) => sb.call_bytes(method, path, Some(content_type), body),
    }
}

#[test]
fn odd_paths_are_not_found_not_crashes() {
    let sb = Sandbox::start(Options::default()).unwrap();
    for path in [
        "/",
        "//",
        "/api/v1/namespaces//configmaps",
        "/apis/nope",
        "/apis/nope/v1/things",
        "/api/v1/namespaces/default/configmaps/c/d/e/f",
        "/openapi/v3/apis/nope/v9",
        "/api/v2",
        "/sandbox.cairn.dev/nothing",
    ] {
        let (code, body) = sb.call("GET", path, None, None);
        assert!((400..500).contains(&code), "{path}: {code} {body}");
    }
}
