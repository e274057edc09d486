//! Rook's bucket provisioner in the sandbox: ObjectBucketClaims bound to a `Ready` object store
//! through a bucket StorageClass, with the ConfigMap and Secret Rook writes; claims that cannot
//! be bound stay Pending with an event; deletion releases the bucket.

use base64::Engine;
use cairn_sandbox::{Options, Sandbox};
use serde_json::{json, Value};

const APPLY: Option<&str> = Some("application/apply-patch+yaml");

fn sandbox() -> Sandbox {
    Sandbox::start(Options::default()).unwrap()
}

fn path_of(obj: &Value) -> String {
    let api_version = obj["apiVersion"].as_str().unwrap();
    let plural = match obj["kind"].as_str().unwrap() {
        "Namespace" => "namespaces",
        "ConfigMap" => "configmaps",
        "StorageClass" => "storageclasses",
        "CephObjectStore" => "cephobjectstores",
        "ObjectBucketClaim" => "objectbucketclaims",
        other => panic!("test helper does not know {other}"),
    };
    let group_path = if api_version == "v1" { "api/v1".to_owned() } else { format!("apis/{api_version}") };
    let name = obj["metadata"]["name"].as_str().unwrap();
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!("/{group_path}/namespaces/{ns}/{plural}/{name}"),
        None => format!("/{group_path}/{plural}/{name}"),
    }
}

fn apply(sb: &Sandbox, obj: Value) -> Value {
    let (code, body) = sb.call("PATCH", &format!("{}?fieldManager=test", path_of(&obj)), APPLY, Some(&obj));
    assert!(code == 200 || code == 201, "apply {}: {code} {body}", path_of(&obj));
    body
}

fn store(name: &str) -> Value {
    json!({
        "apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStore",
        "metadata": {"name": name, "namespace": "rook-ceph"},
        "spec": {"metadataPool": {"replicated": {"size": 3}}, "dataPool": {"replicated": {"size": 3}}, "gateway": {"port": 8080, "instances": 1}}
    })
}

fn bucket_class(name: &str, store: &str, provisioner: &str) -> Value {
    json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": provisioner,
        "reclaimPolicy": "Delete",
        "parameters": {"objectStoreName": store, "objectStoreNamespace": "rook-ceph"}
    })
}

fn claim(name: &str, ns: &str, class: &str) -> Value {
    json!({
        "apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"generateBucketName": name, "storageClassName": class}
    })
}

fn events_about(sb: &Sandbox, ns: &str, name: &str) -> Vec<Value> {
    let (code, body) = sb.call("GET", &format!("/api/v1/namespaces/{ns}/events"), None, None);
    assert_eq!(code, 200, "{body}");
    body["items"].as_array().unwrap().iter().filter(|e| e["involvedObject"]["name"] == name).cloned().collect()
}

fn setup(sb: &Sandbox) {
    apply(sb, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
    apply(sb, store("media"));
    apply(sb, bucket_class("media-buckets", "media", "rook-ceph.ceph.rook.io/bucket"));
}

#[test]
fn a_claim_on_a_rook_bucket_class_is_bound_with_rooks_config_map_and_secret() {
    let sb = sandbox();
    setup(&sb);
    apply(&sb, claim("media", "shop", "media-buckets"));
    sb.settle();

    let store = sb.object("ceph.rook.io", "cephobjectstores", "rook-ceph", "media").unwrap();
    assert_eq!(store["status"]["info"]["endpoint"], "http://rook-ceph-rgw-media.rook-ceph.svc:8080");

    let obc = sb.object("objectbucket.io", "objectbucketclaims", "shop", "media").unwrap();
    assert_eq!(obc["status"]["phase"], "Bound");
    let bucket = obc["spec"]["bucketName"].as_str().unwrap();
    assert!(bucket.starts_with("media-") && bucket.len() > "media-".len() + 30, "{bucket}");
    assert_eq!(obc["spec"]["objectBucketName"], "obc-shop-media");
    assert_eq!(obc["metadata"]["finalizers"], json!(["objectbucket.io/finalizer"]));

    let ob = sb.object("objectbucket.io", "objectbuckets", "", "obc-shop-media").unwrap();
    assert_eq!(ob["status"]["phase"], "Bound");
    assert_eq!(ob["spec"]["claimRef"]["uid"], obc["metadata"]["uid"]);
    assert_eq!(ob["spec"]["reclaimPolicy"], "Delete");

    let cm = sb.object("", "configmaps", "shop", "media").unwrap();
    assert_eq!(
        cm["data"],
        json!({
            "BUCKET_HOST": "rook-ceph-rgw-media.rook-ceph.svc", "BUCKET_NAME": bucket, "BUCKET_PORT": "8080",
            "BUCKET_REGION": "us-east-1", "BUCKET_SUBREGION": ""
        })
    );
    assert_eq!(cm["metadata"]["ownerReferences"][0]["uid"], obc["metadata"]["uid"]);
    let secret = sb.object("", "secrets", "shop", "media").unwrap();
    let decode = |k: &str| {
        let b = base64::engine::general_purpose::STANDARD.decode(secret["data"][k].as_str().unwrap()).unwrap();
        String::from_utf8(b).unwrap()
    };
    assert_eq!(decode("AWS_ACCESS_KEY_ID").len(), 20);
    assert_eq!(decode("AWS_SECRET_ACCESS_KEY").len(), 40);
    assert_eq!(secret["metadata"]["ownerReferences"][0]["uid"], obc["metadata"]["uid"]);
}

#[test]
fn a_claim_whose_class_or_store_is_missing_stays_pending_with_an_event() {
    let sb = sandbox();
    setup(&sb);
    apply(&sb, claim("no-class", "shop", "nowhere"));
    apply(&sb, bucket_class("lost-buckets", "lost", "rook-ceph.ceph.rook.io/bucket"));
    apply(&sb, claim("no-store", "shop", "lost-buckets"));
    apply(&sb, bucket_class("other-buckets", "media", "example.com/bucket"));
    apply(&sb, claim("other", "shop", "other-buckets"));
    sb.settle();
    for (name, kind, reason, message) in [
        ("no-class", "Warning", "ProvisioningFailed", "storageclass.storage.k8s.io \"nowhere\" not found"),
        (
            "no-store",
            "Warning",
            "ProvisioningFailed",
            "CephObjectStore \"rook-ceph/lost\" named by storageclass \"lost-buckets\" not found",
        ),
        (
            "other",
            "Normal",
            "ExternalProvisioning",
            "waiting for a bucket to be created by the external provisioner \"example.com/bucket\"",
        ),
    ] {
        let obc = sb.object("objectbucket.io", "objectbucketclaims", "shop", name).unwrap();
        assert_eq!(obc["status"]["phase"], "Pending", "{name}");
        let events = events_about(&sb, "shop", name);
        assert_eq!(events.len(), 1, "{name}: {events:?}");
        assert_eq!((events[0]["type"].as_str(), events[0]["reason"].as_str()), (Some(kind), Some(reason)), "{name}");
        assert_eq!(events[0]["message"], message, "{name}");
        assert!(sb.object("", "configmaps", "shop", name).is_none(), "{name}");
    }
    // Once the class appears, the claim binds.
    apply(&sb, bucket_class("nowhere", "media", "rook-ceph.ceph.rook.io/bucket"));
    sb.settle();
    let obc = sb.object("objectbucket.io", "objectbucketclaims", "shop", "no-class").unwrap();
    assert_eq!(obc["status"]["phase"], "Bound");
}

#[test]
fn a_config_map_the_claim_does_not_own_is_never_overwritten() {
    let sb = sandbox();
    setup(&sb);
    apply(
        &sb,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "media", "namespace": "shop"}, "data": {"mine": "yes"}}),
    );
    apply(&sb, claim("media", "shop", "media-buckets"));
    sb.settle();
    let obc = sb.object("objectbucket.io", "objectbucketclaims", "shop", "media").unwrap();
    assert_eq!(obc["status"]["phase"], "Pending");
    let cm = sb.object("", "configmaps", "shop", "media").unwrap();
    assert_eq!(cm["data"], json!({"mine": "yes"}));
    assert!(sb.object("", "secrets", "shop", "media").is_none());
    let events = events_about(&sb, "shop", "media");
    assert!(events.iter().any(|e| e["message"].as_str().unwrap().contains("configmap \"media\" already exists")), "{events:?}");
}

#[test]
fn deleting_a_claim_releases_its_bucket_config_map_and_secret() {
    let sb = sandbox();
    setup(&sb);
    apply(&sb, claim("media", "shop", "media-buckets"));
    sb.settle();
    let (code, body) = sb.call("DELETE", "/apis/objectbucket.io/v1alpha1/namespaces/shop/objectbucketclaims/media", None, None);
    assert_eq!(code, 200, "{body}");
    sb.settle();
    assert!(sb.object("objectbucket.io", "objectbucketclaims", "shop", "media").is_none());
    assert!(sb.object("objectbucket.io", "objectbuckets", "", "obc-shop-media").is_none());
    assert!(sb.object("", "configmaps", "shop", "media").is_none());
    assert!(sb.object("", "secrets", "shop", "media").is_none());
}
