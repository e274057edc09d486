//! Bad input never takes the sandbox down: every malformed request gets a `Status` error (4xx)
//! and the server keeps serving.

mod common;

use cairn_sandbox::{Options, Sandbox};
use prost::Message;
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
    .into_iter()
    .chain(protobuf_bodies())
    .collect()
}

/// A protobuf body: the `k8s\0` magic and a `runtime.Unknown` envelope around `raw`.
fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    let unknown = Unknown {
        type_meta: Some(TypeMeta { api_version: Some(api_version.into()), kind: Some(kind.into()) }),
        raw: Some(raw),
        content_encoding: None,
        content_type: None,
    };
    [b"k8s\0".to_vec(), unknown.encode_to_vec()].concat()
}

/// One length-delimited protobuf field.
fn field(tag: u32, inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_key(tag, prost::encoding::WireType::LengthDelimited, &mut out);
    prost::encoding::encode_varint(inner.len() as u64, &mut out);
    out.extend_from_slice(inner);
    out
}

/// Protobuf bodies no server could read: truncated, wrong magic, a kind other than the path's,
/// a kind nobody serves, 5,000-deep nesting, length prefixes far past the end.
fn protobuf_bodies() -> Vec<Vec<u8>> {
    use k8s_pb::api::core::v1::{ConfigMap, Namespace};
    use k8s_pb::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let meta = Some(ObjectMeta { name: Some("c".into()), ..Default::default() });
    let cm = ConfigMap { metadata: meta.clone(), data: [("a".to_owned(), "1".to_owned())].into(), ..Default::default() };
    let good = envelope("v1", "ConfigMap", cm.encode_to_vec());
    // A CRD whose schema nests `not` 5,000 deep: spec(2) → versions(7) → schema(4) → openAPIV3Schema(1) → not(28)…
    let mut deep = Vec::new();
    for _ in 0..5000 {
        deep = field(28, &deep);
    }
    let crd = field(2, &field(7, &field(4, &field(1, &deep))));
    let mut huge = b"k8s\0".to_vec();
    huge.extend_from_slice(&[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
    let mut huge_inner = b"k8s\0".to_vec();
    huge_inner.extend(field(2, &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, b'x']));
    vec![
        b"k8s\0".to_vec(),
        good[..good.len() / 2].to_vec(),
        [b"k9s\0".to_vec(), good[4..].to_vec()].concat(),
        envelope("v1", "Namespace", Namespace { metadata: meta, ..Default::default() }.encode_to_vec()),
        envelope("v1", "Bogus", cm.encode_to_vec()),
        envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd),
        huge,
        huge_inner,
        envelope("v1", "ConfigMap", vec![0xff; 64]),
    ]
}

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/apply-patch+yaml",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "text/plain",
    "application/vnd.kubernetes.protobuf",
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
fn hostile_protobuf_bodies_are_bad_requests() {
    let sb = Sandbox::start(Options::default()).unwrap();
    let protobuf = "application/vnd.kubernetes.protobuf";
    for (i, body) in protobuf_bodies().iter().enumerate() {
        for path in ["/api/v1/namespaces/default/configmaps", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"] {
            let (code, status) = sb.call_bytes("POST", path, Some(protobuf), body);
            assert!((400..500).contains(&code), "body {i} to {path}: {code} {status}");
            assert_eq!(status["kind"], "Status", "body {i}: {status}");
        }
    }
    // The wrong kind is named; the deep body is refused before it is walked.
    let (_, status) = sb.call_bytes("POST", "/api/v1/namespaces/default/configmaps", Some(protobuf), &protobuf_bodies()[3]);
    assert_eq!(status["message"], "the kind in the data (Namespace) does not match the expected kind (ConfigMap)");
    let (_, status) = sb.call_bytes("POST", "/api/v1/namespaces/default/configmaps", Some(protobuf), &protobuf_bodies()[2]);
    let message = status["message"].as_str().unwrap();
    assert!(message.starts_with("the object provided is unrecognized (must be of type ConfigMap): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (6b39"), "{message}");
    assert_eq!(sb.call("GET", "/version", None, None).0, 200);
}

/// The same bodies over HTTP from a client that accepts protobuf only: each error is a protobuf
/// `Status` with the same 4xx code.
#[test]
fn hostile_protobuf_bodies_get_protobuf_statuses() {
    use k8s_pb::apimachinery::pkg::apis::meta::v1::Status;
    use k8s_pb::apimachinery::pkg::runtime::Unknown;
    let sb = Sandbox::start(Options::default()).unwrap();
    let protobuf = "application/vnd.kubernetes.protobuf";
    let headers = [("Content-Type", protobuf), ("Accept", protobuf)];
    for (i, body) in protobuf_bodies().iter().enumerate() {
        for method in ["POST", "PUT"] {
            let path = if method == "POST" { "/api/v1/namespaces/default/configmaps" } else { "/api/v1/namespaces/default/configmaps/c" };
            let resp = common::http(sb.addr(), method, path, &headers, Some(body));
            assert!((400..500).contains(&resp.status), "body {i}: {} {}", resp.status, resp.text());
            assert_eq!(resp.header("content-type"), Some(protobuf), "body {i}");
            let envelope = Unknown::decode(resp.body.strip_prefix(b"k8s\0").unwrap()).unwrap();
            assert_eq!(envelope.type_meta.and_then(|t| t.kind).as_deref(), Some("Status"));
            let status = Status::decode(&*envelope.raw.unwrap()).unwrap();
            assert_eq!(status.code, Some(i32::from(resp.status)), "body {i}");
            assert!(status.message.is_some_and(|m| !m.is_empty()), "body {i}");
        }
    }
    // Accept headers that name protobuf oddly are JSON or a 406, never a crash.
    for accept in [
        "application/vnd.kubernetes.protobuf;;;",
        "APPLICATION/VND.KUBERNETES.PROTOBUF",
        ",,,",
        "application/vnd.kubernetes.protobuf;as=Table;as=Table",
    ] {
        let resp = common::http(sb.addr(), "GET", "/api/v1/namespaces/default/configmaps", &[("Accept", accept)], None);
        assert!(matches!(resp.status, 200 | 406), "{accept}: {}", resp.status);
    }
    assert_eq!(sb.call("GET", "/version", None, None).0, 200);
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
