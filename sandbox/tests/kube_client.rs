//! kube-rs against the sandbox: typed CRUD for the kinds cairn emits (and a Rook kind through
//! `DynamicObject`), pagination, optimistic concurrency, dry run, namespace existence, the no-op
//! apply, `generation` and `resourceVersion` rules, and server-side apply ownership.

mod common;

use std::fmt::Debug;
use std::time::{Duration, Instant};

use common::*;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, PersistentVolumeClaim, ResourceQuota, Secret, Service};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

fn client(sb: &Sandbox) -> Client {
    Client::try_from(kube::Config::new(sb.url().parse().unwrap())).unwrap()
}

/// The `Status` of a failed call (panics on success or a non-API error).
fn api_error<T: Debug>(result: Result<T, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn value<T: Serialize>(obj: &T) -> Value {
    serde_json::to_value(obj).unwrap()
}

fn typed<K: DeserializeOwned>(v: Value) -> K {
    serde_json::from_value(v).unwrap()
}

/// Client-made entries of the write log (controllers' writes left out).
fn client_writes(sb: &Sandbox) -> Vec<cairn_sandbox::Write> {
    sb.writes().into_iter().filter(|w| !w.controller).collect()
}

fn merge_params(manager: &str) -> PatchParams {
    PatchParams { field_manager: Some(manager.to_owned()), ..PatchParams::default() }
}

/// create, get, list, merge patch, server-side apply, list by label, delete (and wait until gone).
async fn crud<K>(api: Api<K>, obj: Value)
where
    K: kube::Resource + Clone + Serialize + DeserializeOwned + Debug,
{
    let api_version = obj["apiVersion"].as_str().unwrap().to_owned();
    let kind = obj["kind"].as_str().unwrap().to_owned();
    let name = obj["metadata"]["name"].as_str().unwrap().to_owned();
    let what = format!("{kind}/{name}");

    let created = api.create(&PostParams::default(), &typed(obj.clone())).await.unwrap_or_else(|e| panic!("create {what}: {e}"));
    let created_v = value(&created);
    assert_eq!(created.name_any(), name);
    assert_eq!(created_v["kind"], kind, "{created_v}");
    assert_eq!(created_v["apiVersion"], api_version, "{created_v}");
    let uid = created.uid().unwrap_or_else(|| panic!("{what} has no uid"));
    let rv1 = created.resource_version().unwrap_or_else(|| panic!("{what} has no resourceVersion"));
    assert!(created.creation_timestamp().is_some(), "{what} has no creationTimestamp");

    let got = api.get(&name).await.unwrap_or_else(|e| panic!("get {what}: {e}"));
    assert_eq!(got.uid().as_deref(), Some(uid.as_str()));

    let list = api.list(&ListParams::default()).await.unwrap_or_else(|e| panic!("list {what}: {e}"));
    assert!(list.items.iter().any(|o| o.name_any() == name), "{what} not listed");
    assert!(list.metadata.resource_version.as_deref().is_some_and(|rv| !rv.is_empty()), "list of {kind} has no resourceVersion");

    let patched = api
        .patch(&name, &merge_params("cairn-merge"), &Patch::Merge(json!({"metadata": {"labels": {"merged": "yes"}}})))
        .await
        .unwrap_or_else(|e| panic!("merge patch {what}: {e}"));
    assert_eq!(patched.labels().get("merged").map(String::as_str), Some("yes"), "{what}");
    let rv2 = patched.resource_version().unwrap();
    assert_ne!(rv2, rv1, "a merge patch of {what} kept the resourceVersion");

    // The whole object again, with a label: fields shared with the creator at equal values.
    let mut applied = obj.clone();
    applied["metadata"]["labels"] = json!({"applied": "yes"});
    let applied =
        api.patch(&name, &PatchParams::apply("cairn"), &Patch::Apply(&applied)).await.unwrap_or_else(|e| panic!("apply {what}: {e}"));
    assert_eq!(applied.labels().get("applied").map(String::as_str), Some("yes"), "{what}");
    assert_eq!(applied.labels().get("merged").map(String::as_str), Some("yes"), "apply of {what} dropped another manager's label");
    assert_eq!(applied.uid().as_deref(), Some(uid.as_str()));

    let selected = api.list(&ListParams::default().labels("applied=yes,merged=yes")).await.unwrap();
    assert_eq!(selected.items.iter().map(|o| o.name_any()).collect::<Vec<_>>(), [name.as_str()], "{what}");

    api.delete(&name, &DeleteParams::default()).await.unwrap_or_else(|e| panic!("delete {what}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match api.get(&name).await {
            Err(kube::Error::Api(s)) if s.code == 404 => {
                assert_eq!(s.reason, "NotFound", "{what}: {s:?}");
                break;
            }
            Ok(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("{what} is not gone after delete: {other:?}"),
        }
    }
}

#[tokio::test]
async fn typed_crud_of_every_kind_cairn_emits() {
    let sb = sandbox();
    let c = client(&sb);
    setup_namespace(&sb, "crud");
    crud(Api::<Namespace>::all(c.clone()), json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}})).await;
    crud(
        Api::<ConfigMap>::namespaced(c.clone(), "crud"),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}),
    )
    .await;
    crud(
        Api::<Secret>::namespaced(c.clone(), "crud"),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "type": "Opaque", "data": {"password": "aHVudGVyMg=="}}),
    )
    .await;
    crud(
        Api::<Service>::namespaced(c.clone(), "crud"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
    )
    .await;
    crud(
        Api::<Deployment>::namespaced(c.clone(), "crud"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}),
    )
    .await;
    crud(
        Api::<StatefulSet>::namespaced(c.clone(), "crud"),
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
               "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres:17"}]}}}}),
    )
    .await;
    crud(
        Api::<StorageClass>::all(c.clone()),
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"}, "provisioner": "rook-ceph.rbd.csi.ceph.com",
               "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}),
    )
    .await;
    crud(
        Api::<PersistentVolumeClaim>::namespaced(c.clone(), "crud"),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "none"}}),
    )
    .await;
    crud(
        Api::<ResourceQuota>::namespaced(c.clone(), "crud"),
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "quota"}, "spec": {"hard": {"pods": "10", "requests.cpu": "4"}}}),
    )
    .await;
    crud(
        Api::<LimitRange>::namespaced(c.clone(), "crud"),
        json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"},
               "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m"}}]}}),
    )
    .await;
    crud(
        Api::<Lease>::namespaced(c.clone(), "crud"),
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leader"},
               "spec": {"holderIdentity": "cairn-1", "leaseDurationSeconds": 15}}),
    )
    .await;
    let pools = ApiResource {
        group: "ceph.rook.io".into(),
        version: "v1".into(),
        api_version: "ceph.rook.io/v1".into(),
        kind: "CephBlockPool".into(),
        plural: "cephblockpools".into(),
    };
    crud(
        Api::<DynamicObject>::namespaced_with(c.clone(), "rook-ceph", &pools),
        json!({"apiVersion": "ceph.rook.io/v1", "kind": "CephBlockPool", "metadata": {"name": "replicapool"},
               "spec": {"failureDomain": "host", "replicated": {"size": 3}}}),
    )
    .await;
}

/// Server-side apply validates the merged object, not the partial configuration: applying only
/// a label to an existing object whose schema requires `spec` is fine.
#[tokio::test]
async fn a_partial_apply_to_a_custom_object_is_validated_after_merging() {
    let sb = sandbox();
    let pools = ApiResource {
        group: "ceph.rook.io".into(),
        version: "v1".into(),
        api_version: "ceph.rook.io/v1".into(),
        kind: "CephBlockPool".into(),
        plural: "cephblockpools".into(),
    };
    let api = Api::<DynamicObject>::namespaced_with(client(&sb), "rook-ceph", &pools);
    let full = json!({"apiVersion": "ceph.rook.io/v1", "kind": "CephBlockPool", "metadata": {"name": "pool"},
                      "spec": {"failureDomain": "host", "replicated": {"size": 3}}});
    api.patch("pool", &PatchParams::apply("cairn"), &Patch::Apply(&full)).await.unwrap();
    let labels =
        json!({"apiVersion": "ceph.rook.io/v1", "kind": "CephBlockPool", "metadata": {"name": "pool", "labels": {"team": "storage"}}});
    let pool = api.patch("pool", &PatchParams::apply("labeller"), &Patch::Apply(&labels)).await.unwrap();
    assert_eq!(pool.labels().get("team").map(String::as_str), Some("storage"));
    assert_eq!(pool.data["spec"]["replicated"]["size"], 3);
    // Applying a configuration without `spec` by the manager that owns `spec` removes it, and the
    // merged object is then invalid.
    let status = api_error(api.patch("pool", &PatchParams::apply("cairn"), &Patch::Apply(&labels)).await);
    assert_eq!(status.code, 422, "{status:?}");
}

#[tokio::test]
async fn typed_reads_carry_what_the_server_stored() {
    let sb = sandbox();
    let c = client(&sb);
    setup_namespace(&sb, "typed");
    let pools = ApiResource {
        group: "ceph.rook.io".into(),
        version: "v1".into(),
        api_version: "ceph.rook.io/v1".into(),
        kind: "CephBlockPool".into(),
        plural: "cephblockpools".into(),
    };
    let api = Api::<DynamicObject>::namespaced_with(c.clone(), "rook-ceph", &pools);
    let pool: DynamicObject = typed(json!({"apiVersion": "ceph.rook.io/v1", "kind": "CephBlockPool", "metadata": {"name": "pool"},
                                             "spec": {"failureDomain": "host", "replicated": {"size": 3}}}));
    api.create(&PostParams::default(), &pool).await.unwrap();
    sb.settle();
    let pool = api.get("pool").await.unwrap();
    assert_eq!(pool.data["spec"]["replicated"]["size"], 3);
    assert_eq!(pool.data["status"]["phase"], "Ready", "{:?}", pool.data);
    assert_eq!(pool.metadata.generation, Some(1));

    let deployments = Api::<Deployment>::namespaced(c.clone(), "typed");
    let dep: Deployment = typed(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}));
    deployments.create(&PostParams::default(), &dep).await.unwrap();
    sb.settle();
    let dep = deployments.get("web").await.unwrap();
    let status = dep.status.expect("a deployment status");
    assert_eq!(status.ready_replicas, Some(2));
    assert_eq!(status.observed_generation, Some(1));
}

#[tokio::test]
async fn a_list_pages_through_continue() {
    let sb = sandbox();
    let c = client(&sb);
    setup_namespace(&sb, "paged");
    let api = Api::<ConfigMap>::namespaced(c, "paged");
    let mut expected = Vec::new();
    for i in 0..25 {
        let name = format!("cm-{i:02}");
        api.create(&PostParams::default(), &typed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})))
            .await
            .unwrap();
        expected.push(name);
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut remaining = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(10);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = api.list(&lp).await.unwrap();
        sizes.push(page.items.len());
        remaining.push(page.metadata.remaining_item_count);
        seen.extend(page.items.iter().map(|o| o.name_any()));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
        assert!(sizes.len() < 10, "the pages never end");
    }
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(remaining, [Some(15), Some(5), None]);
    assert_eq!(seen, expected, "every name once, in order");
}

#[tokio::test]
async fn a_stale_resource_version_conflicts() {
    let sb = sandbox();
    let api = Api::<ConfigMap>::namespaced(client(&sb), "default");
    let cm: ConfigMap = typed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "occ"}, "data": {"v": "1"}}));
    let first = api.create(&PostParams::default(), &cm).await.unwrap();
    let mut second = first.clone();
    second.data = Some([("v".to_owned(), "2".to_owned())].into());
    let second = api.replace("occ", &PostParams::default(), &second).await.unwrap();
    assert_ne!(second.resource_version(), first.resource_version());

    let mut stale = first.clone();
    stale.data = Some([("v".to_owned(), "3".to_owned())].into());
    let status = api_error(api.replace("occ", &PostParams::default(), &stale).await);
    assert_eq!(status.code, 409, "{status:?}");
    assert_eq!(status.reason, "Conflict");
    assert!(status.message.contains("the object has been modified"), "{}", status.message);
    assert_eq!(api.get("occ").await.unwrap().data.unwrap()["v"], "2");

    let mut fresh = second.clone();
    fresh.data = Some([("v".to_owned(), "4".to_owned())].into());
    let fresh = api.replace("occ", &PostParams::default(), &fresh).await.unwrap();
    assert_eq!(fresh.data.unwrap()["v"], "4");
}

#[tokio::test]
async fn dry_run_leaves_no_trace() {
    let sb = sandbox();
    let api = Api::<ConfigMap>::namespaced(client(&sb), "default");
    let writes = client_writes(&sb);
    let dry = PostParams { dry_run: true, ..PostParams::default() };

    // create
    let cm: ConfigMap = typed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ghost"}, "data": {"a": "1"}}));
    let answer = api.create(&dry, &cm).await.unwrap();
    assert_eq!(answer.name_any(), "ghost");
    assert_eq!(answer.data.as_ref().unwrap()["a"], "1");
    assert_eq!(api.get_opt("ghost").await.unwrap(), None, "a dry-run create stored the object");
    // apply of a new object
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ghost"}, "data": {"a": "2"}});
    let answer = api.patch("ghost", &PatchParams::apply("cairn").dry_run(), &Patch::Apply(&applied)).await.unwrap();
    assert_eq!(answer.data.unwrap()["a"], "2");
    assert_eq!(api.get_opt("ghost").await.unwrap(), None, "a dry-run apply created the object");
    assert_eq!(client_writes(&sb), writes, "dry runs were logged as writes");

    // apply and delete of an existing object
    let real = api
        .create(
            &PostParams::default(),
            &typed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "real"}, "data": {"a": "1"}})),
        )
        .await
        .unwrap();
    let writes = client_writes(&sb);
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "real"}, "data": {"a": "changed"}});
    let answer = api.patch("real", &PatchParams::apply("cairn").force().dry_run(), &Patch::Apply(&applied)).await.unwrap();
    assert_eq!(answer.data.unwrap()["a"], "changed");
    let answer = api
        .patch("real", &PatchParams { dry_run: true, ..merge_params("cairn-merge") }, &Patch::Merge(json!({"data": {"b": "2"}})))
        .await
        .unwrap();
    assert_eq!(answer.data.unwrap()["b"], "2");
    let now = api.get("real").await.unwrap();
    assert_eq!(now.resource_version(), real.resource_version());
    assert_eq!(now.data, real.data);
    assert_eq!(client_writes(&sb), writes, "dry runs were logged as writes");
}

/// kube-rs sends a dry-run delete as `DeleteOptions` in the body (`{"dryRun":["All"]}`), not as
/// a query parameter; kube-apiserver honours both.
#[tokio::test]
async fn a_dry_run_delete_leaves_the_object() {
    let sb = sandbox();
    let api = Api::<ConfigMap>::namespaced(client(&sb), "default");
    let real = api
        .create(
            &PostParams::default(),
            &typed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "real"}, "data": {"a": "1"}})),
        )
        .await
        .unwrap();
    let writes = client_writes(&sb);
    api.delete("real", &DeleteParams::default().dry_run()).await.unwrap();
    let now = api.get("real").await.expect("a dry-run delete removed the object");
    assert_eq!(now.resource_version(), real.resource_version());
    assert_eq!(client_writes(&sb), writes, "a dry-run delete was logged as a write");
    // The query-parameter form too.
    let resp = http(sb.addr(), "DELETE", "/api/v1/namespaces/default/configmaps/real?dryRun=All", &[], None);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(api.get_opt("real").await.unwrap().is_some(), "a dry-run delete (query form) removed the object");
}

#[tokio::test]
async fn label_selectors_of_every_form() {
    let sb = sandbox();
    setup_namespace(&sb, "labels");
    let api = Api::<ConfigMap>::namespaced(client(&sb), "labels");
    for (name, labels) in
        [("a", json!({"app": "x"})), ("b", json!({"app": "x", "tier": "db"})), ("c", json!({"app": "y", "tier": "web"})), ("d", json!({}))]
    {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}});
        api.create(&PostParams::default(), &typed(cm)).await.unwrap();
    }
    let cases: &[(&str, &[&str])] = &[
        ("app=x", &["a", "b"]),
        ("app==x", &["a", "b"]),
        ("app!=x", &["c", "d"]),
        ("app in (x,y)", &["a", "b", "c"]),
        ("app notin (x)", &["c", "d"]),
        ("tier", &["b", "c"]),
        ("!tier", &["a", "d"]),
        ("app=x,tier!=db", &["a"]),
        ("app=x,!tier", &["a"]),
        ("", &["a", "b", "c", "d"]),
        ("app=nope", &[]),
    ];
    for (selector, want) in cases {
        let got = api.list(&ListParams::default().labels(selector)).await.unwrap_or_else(|e| panic!("{selector:?}: {e}"));
        let names: Vec<String> = got.items.iter().map(|o| o.name_any()).collect();
        assert_eq!(names, *want, "selector {selector:?}");
    }
    let status = api_error(api.list(&ListParams::default().labels("app in x")).await);
    assert_eq!(status.code, 400, "{status:?}");
    assert_eq!(status.reason, "BadRequest");
}

#[tokio::test]
async fn creating_in_a_missing_namespace_is_not_found() {
    let sb = sandbox();
    let api = Api::<ConfigMap>::namespaced(client(&sb), "nowhere");
    let cm: ConfigMap = typed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "lost"}}));
    let status = api_error(api.create(&PostParams::default(), &cm).await);
    assert_eq!(status.code, 404, "{status:?}");
    assert_eq!(status.reason, "NotFound");
    assert_eq!(status.message, "namespaces \"nowhere\" not found");
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "lost"}});
    let status = api_error(api.patch("lost", &PatchParams::apply("cairn"), &Patch::Apply(&applied)).await);
    assert_eq!(status.code, 404, "{status:?}");
    assert_eq!(status.message, "namespaces \"nowhere\" not found");
    assert!(sb.object("", "configmaps", "nowhere", "lost").is_none());
}

fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}}
        }
    })
}

#[tokio::test]
async fn reapplying_an_identical_object_is_a_no_op() {
    let sb = sandbox();
    setup_namespace(&sb, "noop");
    let api = Api::<Deployment>::namespaced(client(&sb), "noop");
    api.patch("web", &PatchParams::apply("cairn"), &Patch::Apply(&deployment(2, "nginx:1.27"))).await.unwrap();
    sb.settle();
    let before = api.get("web").await.unwrap();
    let writes = client_writes(&sb);
    let again = api.patch("web", &PatchParams::apply("cairn"), &Patch::Apply(&deployment(2, "nginx:1.27"))).await.unwrap();
    assert_eq!(again.resource_version(), before.resource_version());
    assert_eq!(again.metadata.generation, before.metadata.generation);
    assert_eq!(again.metadata.generation, Some(1));
    assert_eq!(client_writes(&sb), writes, "a no-op apply was written");
    let after = api.get("web").await.unwrap();
    assert_eq!(after.resource_version(), before.resource_version());
}

#[tokio::test]
async fn generation_counts_spec_changes_and_status_writes_only_bump_the_resource_version() {
    let sb = sandbox();
    setup_namespace(&sb, "gen");
    let api = Api::<Deployment>::namespaced(client(&sb), "gen");
    let first = api.patch("web", &PatchParams::apply("cairn"), &Patch::Apply(&deployment(1, "nginx:1.27"))).await.unwrap();
    assert_eq!(first.metadata.generation, Some(1));

    let scaled = api.patch("web", &PatchParams::apply("cairn"), &Patch::Apply(&deployment(3, "nginx:1.27"))).await.unwrap();
    assert_eq!(scaled.metadata.generation, Some(2), "a spec change did not bump generation");

    let mut labelled = deployment(3, "nginx:1.27");
    labelled["metadata"]["labels"]["tier"] = json!("front");
    let labelled = api.patch("web", &PatchParams::apply("cairn"), &Patch::Apply(&labelled)).await.unwrap();
    assert_eq!(labelled.metadata.generation, Some(2), "a metadata change bumped generation");
    assert_ne!(labelled.resource_version(), scaled.resource_version());

    let status =
        json!({"status": {"conditions": [{"type": "CairnChecked", "status": "True", "reason": "Test", "message": "set by a test"}]}});
    let written = api.patch_status("web", &merge_params("cairn-status"), &Patch::Merge(&status)).await.unwrap();
    assert_ne!(written.resource_version(), labelled.resource_version(), "a status write kept the resourceVersion");
    assert!(
        written.resource_version().unwrap().parse::<u64>().unwrap() > labelled.resource_version().unwrap().parse::<u64>().unwrap(),
        "resourceVersion went backwards"
    );
    assert_eq!(written.metadata.generation, Some(2), "a status write bumped generation");
    let conditions = written.status.and_then(|s| s.conditions).unwrap_or_default();
    assert!(conditions.iter().any(|c| c.type_ == "CairnChecked"), "{conditions:?}");
    // The status subresource writes status only.
    let sneaky = json!({"spec": {"replicas": 7}, "status": {"observedGeneration": 2}});
    let written = api.patch_status("web", &merge_params("cairn-status"), &Patch::Merge(&sneaky)).await.unwrap();
    assert_eq!(written.spec.unwrap().replicas, Some(3), "a status write changed the spec");
    assert_eq!(written.metadata.generation, Some(2));
}

#[tokio::test]
async fn a_merge_patch_records_an_update_entry_for_its_manager() {
    let sb = sandbox();
    let api = Api::<ConfigMap>::namespaced(client(&sb), "default");
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owned"}, "data": {"a": "1"}});
    api.patch("owned", &PatchParams::apply("cairn"), &Patch::Apply(&applied)).await.unwrap();
    let patched = api.patch("owned", &merge_params("hand-edit"), &Patch::Merge(json!({"data": {"extra": "x"}}))).await.unwrap();
    let v = value(&patched);
    let entry = managed_entry(&v, "hand-edit", "Update").unwrap_or_else(|| panic!("no Update entry for hand-edit: {v}"));
    assert_eq!(entry["apiVersion"], "v1");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert!(entry["time"].is_string(), "{entry}");
    assert!(owns(entry, &["f:data", "f:extra"]), "{entry}");
    assert!(!owns(entry, &["f:data", "f:a"]), "{entry}");
    let apply = managed_entry(&v, "cairn", "Apply").unwrap_or_else(|| panic!("no Apply entry for cairn: {v}"));
    assert!(owns(apply, &["f:data", "f:a"]), "{apply}");
    assert!(!owns(apply, &["f:data", "f:extra"]), "{apply}");
}

/// One step of the server-side apply table: a manager applies `data`, forcing or not; the
/// outcome is the object's data, or a conflict naming these fields and that manager.
struct Step {
    manager: &'static str,
    data: Value,
    force: bool,
    expect: Result<Value, (&'static str, &'static str)>,
}

#[tokio::test]
async fn server_side_apply_ownership_table() {
    let sb = sandbox();
    let api = Api::<ConfigMap>::namespaced(client(&sb), "default");
    let steps = [
        Step { manager: "a", data: json!({"x": "1", "y": "2"}), force: false, expect: Ok(json!({"x": "1", "y": "2"})) },
        Step { manager: "b", data: json!({"z": "3"}), force: false, expect: Ok(json!({"x": "1", "y": "2", "z": "3"})) },
        // a no longer applies y: y goes, b's z stays.
        Step { manager: "a", data: json!({"x": "1"}), force: false, expect: Ok(json!({"x": "1", "z": "3"})) },
        // b applies the same value a owns: shared, no conflict.
        Step { manager: "b", data: json!({"x": "1", "z": "3"}), force: false, expect: Ok(json!({"x": "1", "z": "3"})) },
        // b applies a different x: conflict with a.
        Step { manager: "b", data: json!({"x": "other", "z": "3"}), force: false, expect: Err((".data.x", "a")) },
        Step { manager: "b", data: json!({"x": "other", "z": "3"}), force: true, expect: Ok(json!({"x": "other", "z": "3"})) },
    ];
    for (i, step) in steps.iter().enumerate() {
        let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": step.data});
        let mut params = PatchParams::apply(step.manager);
        params.force = step.force;
        let result = api.patch("shared", &params, &Patch::Apply(&applied)).await;
        match &step.expect {
            Ok(data) => {
                let cm = result.unwrap_or_else(|e| panic!("step {i}: {e}"));
                assert_eq!(value(&cm)["data"], *data, "step {i}");
            }
            Err((field, manager)) => {
                let status = api_error(result);
                assert_eq!(status.code, 409, "step {i}: {status:?}");
                assert_eq!(status.reason, "Conflict", "step {i}");
                assert!(status.message.contains(&format!("conflict with \"{manager}\"")), "step {i}: {}", status.message);
                assert!(status.message.contains(field), "step {i}: {}", status.message);
                let causes = status.details.map(|d| d.causes).unwrap_or_default();
                assert!(causes.iter().any(|c| c.field == *field && c.reason == "FieldManagerConflict"), "step {i}: {causes:?}");
                let now = api.get("shared").await.unwrap();
                assert_eq!(now.data.unwrap()["x"], "1", "step {i}: a refused apply changed the object");
            }
        }
    }
    let cm = value(&api.get("shared").await.unwrap());
    let b = managed_entry(&cm, "b", "Apply").unwrap_or_else(|| panic!("no entry for b: {cm}"));
    assert!(owns(b, &["f:data", "f:x"]) && owns(b, &["f:data", "f:z"]), "{b}");
    // a lost x, its only field: its entry is gone or owns no data.
    if let Some(a) = managed_entry(&cm, "a", "Apply") {
        assert!(!owns(a, &["f:data", "f:x"]), "{a}");
    }
}
