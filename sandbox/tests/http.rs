//! The sandbox as a plain HTTP client sees it: injected faults (latency, 5xx, 429 with
//! `Retry-After`, dropped connections, `times`, verb and resource matching), the request counter,
//! discovery and OpenAPI documents, watches, and CRDs that become usable kinds.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

fn fault(action: Action, verb: Option<&str>, resource: Option<&str>, times: Option<u64>) -> Fault {
    Fault { action, verb: verb.map(str::to_owned), resource: resource.map(str::to_owned), rate: 1.0, times }
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

fn assert_status_body(resp: &HttpResponse, code: u16) {
    assert_eq!(resp.status, code, "{}", resp.text());
    assert!(resp.header("content-type").is_some_and(|c| c.starts_with("application/json")), "{:?}", resp.headers);
    let body = resp.json();
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1", "{body}");
    assert_eq!(body["status"], "Failure", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

#[test]
fn a_latency_fault_delays_matching_requests_only() {
    let sb = sandbox();
    let delay = Duration::from_millis(400);
    sb.set_faults(vec![fault(Action::Latency { ms: 400 }, Some("get"), Some("/version"), None)]);
    let start = Instant::now();
    let resp = get(sb.addr(), "/version");
    let took = start.elapsed();
    assert_eq!(resp.status, 200, "latency is not an error");
    assert!(took >= delay, "answered after {took:?}, configured {delay:?}");
    assert!(resp.json()["gitVersion"].is_string());
    // Another path is not delayed.
    let start = Instant::now();
    assert_eq!(get(sb.addr(), "/api").status, 200);
    assert!(start.elapsed() < delay, "an unmatched request was delayed ({:?})", start.elapsed());
}

#[test]
fn an_error_fault_answers_its_status_with_a_status_body() {
    let sb = sandbox();
    for code in [500u16, 503, 504] {
        sb.set_faults(vec![fault(Action::Error { status: code }, Some("list"), Some("configmaps"), None)]);
        let resp = get(sb.addr(), "/api/v1/namespaces/default/configmaps");
        assert_status_body(&resp, code);
        let reason = resp.json()["reason"].as_str().unwrap().to_owned();
        let expected = match code {
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "InternalError",
        };
        assert_eq!(reason, expected, "{}", resp.text());
    }
    // The fault matches the list only: a get of the same resource goes through.
    setup_apply(&sb, "/api/v1/namespaces/default/configmaps/c1", &configmap("c1"));
    let resp = get(sb.addr(), "/api/v1/namespaces/default/configmaps/c1");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["metadata"]["name"], "c1");
}

#[test]
fn a_throttle_fault_answers_429_with_retry_after() {
    let sb = sandbox();
    sb.set_faults(vec![fault(Action::Throttle { retry_after: 7 }, None, Some("deployments.apps"), None)]);
    let resp = get(sb.addr(), "/apis/apps/v1/namespaces/default/deployments");
    assert_eq!(resp.status, 429, "{}", resp.text());
    assert_eq!(resp.header("retry-after"), Some("7"), "{:?}", resp.headers);
    assert_eq!(resp.json()["reason"], "TooManyRequests", "{}", resp.text());
    assert_eq!(resp.json()["code"], 429);
    // Other resources are not throttled.
    assert_eq!(get(sb.addr(), "/apis/apps/v1/namespaces/default/statefulsets").status, 200);
}

#[test]
fn a_drop_fault_closes_the_connection_without_an_answer_and_times_limits_it() {
    let sb = sandbox();
    sb.set_faults(vec![fault(Action::Drop, Some("get"), Some("/version"), Some(1))]);
    let answer = raw_exchange(sb.addr(), "GET", "/version").expect("connect and send");
    assert!(answer.is_empty(), "the dropped request got an answer: {}", String::from_utf8_lossy(&answer));
    // `times: 1` is used up: the next one is answered.
    let answer = raw_exchange(sb.addr(), "GET", "/version").unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
}

#[test]
fn times_limits_how_many_requests_a_fault_hits() {
    let sb = sandbox();
    sb.set_faults(vec![fault(Action::Error { status: 500 }, Some("list"), Some("configmaps"), Some(2))]);
    let path = "/api/v1/namespaces/default/configmaps";
    let codes: Vec<u16> = (0..4).map(|_| get(sb.addr(), path).status).collect();
    assert_eq!(codes, [500, 500, 200, 200]);
}

#[test]
fn faults_match_by_verb_and_resource() {
    let sb = sandbox();
    sb.set_faults(vec![
        fault(Action::Error { status: 503 }, Some("create"), Some("configmaps"), None),
        fault(Action::Error { status: 500 }, None, Some("deployments"), None),
    ]);
    let a = sb.addr();
    // create configmaps: hit.
    let resp = send_json(a, "POST", "/api/v1/namespaces/default/configmaps", "application/json", &configmap("c1"));
    assert_status_body(&resp, 503);
    assert!(sb.object("", "configmaps", "default", "c1").is_none(), "a faulted create was carried out");
    // list configmaps and create secrets: not hit.
    assert_eq!(get(a, "/api/v1/namespaces/default/configmaps").status, 200);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1"}, "stringData": {"k": "v"}});
    assert_eq!(send_json(a, "POST", "/api/v1/namespaces/default/secrets", "application/json", &secret).status, 201);
    // A bare plural matches the group-qualified resource, for every verb.
    assert_eq!(get(a, "/apis/apps/v1/namespaces/default/deployments").status, 500);
    assert_eq!(get(a, "/apis/apps/v1/namespaces/default/deployments/web").status, 500);
    assert_eq!(get(a, "/apis/apps/v1/namespaces/default/replicasets").status, 200);

    sb.set_faults(vec![fault(Action::Error { status: 500 }, None, Some("deployments.apps"), None)]);
    assert_eq!(get(a, "/apis/apps/v1/namespaces/default/deployments").status, 500);
    sb.set_faults(Vec::new());
    assert_eq!(get(a, "/apis/apps/v1/namespaces/default/deployments").status, 200);
}

#[test]
fn faults_can_be_set_over_http() {
    let sb = sandbox();
    let rules = json!({"rules": [{"action": {"kind": "throttle", "retry_after": 3}, "verb": "get", "resource": "/version", "times": 1}]});
    let resp = send_json(sb.addr(), "PUT", "/sandbox.cairn.dev/faults", "application/json", &rules);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let resp = get(sb.addr(), "/version");
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("retry-after"), Some("3"));
    assert_eq!(get(sb.addr(), "/version").status, 200);
}

#[test]
fn the_counter_counts_per_verb_and_resource() {
    let sb = sandbox();
    setup_apply(&sb, "/api/v1/namespaces/default/configmaps/c1", &configmap("c1"));
    sb.reset_requests();
    let a = sb.addr();
    get(a, "/api/v1/namespaces/default/configmaps");
    get(a, "/api/v1/configmaps?labelSelector=app%3Dx");
    get(a, "/api/v1/namespaces/default/configmaps/c1");
    get(a, "/apis/apps/v1/namespaces/default/deployments");
    get(a, "/version");
    get(a, "/sandbox.cairn.dev/requests");
    send_json(a, "PATCH", "/api/v1/namespaces/default/configmaps/c1", "application/merge-patch+json", &json!({"data": {"k": "w"}}));
    let counts = sb.requests();
    let expected: std::collections::BTreeMap<String, u64> =
        [("list configmaps", 2), ("get configmaps", 1), ("patch configmaps", 1), ("list deployments.apps", 1), ("get /version", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    assert_eq!(counts, expected);
    // The counter over HTTP agrees.
    let body = get(a, "/sandbox.cairn.dev/requests").json();
    assert_eq!(body["total"], 6);
    assert_eq!(body["byVerbAndResource"]["list configmaps"], 2);
    sb.reset_requests();
    assert!(sb.requests().is_empty());
}

#[test]
fn version_and_discovery_documents() {
    let sb = sandbox();
    let a = sb.addr();
    let version = get(a, "/version").json();
    assert!(version["gitVersion"].as_str().is_some_and(|v| v.starts_with("v1.33")), "{version}");
    assert_eq!(version["major"], "1");
    assert_eq!(version["minor"], "33");

    let api = get(a, "/api").json();
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], json!(["v1"]));

    let groups = get(a, "/apis").json();
    assert_eq!(groups["kind"], "APIGroupList");
    let find = |name: &str| groups["groups"].as_array().unwrap().iter().find(|g| g["name"] == name).cloned();
    for (group, version) in [("apps", "v1"), ("ceph.rook.io", "v1"), ("storage.k8s.io", "v1"), ("coordination.k8s.io", "v1")] {
        let g = find(group).unwrap_or_else(|| panic!("{group} not in /apis: {groups}"));
        assert_eq!(g["preferredVersion"]["groupVersion"], format!("{group}/{version}"), "{g}");
        assert!(g["versions"].as_array().unwrap().iter().any(|v| v["version"] == version), "{g}");
    }
    assert!(find("").is_none(), "the core group is listed under /apis");

    let group = get(a, "/apis/ceph.rook.io").json();
    assert_eq!(group["kind"], "APIGroup");
    assert_eq!(group["name"], "ceph.rook.io");

    let rook = get(a, "/apis/ceph.rook.io/v1").json();
    assert_eq!(rook["kind"], "APIResourceList");
    assert_eq!(rook["groupVersion"], "ceph.rook.io/v1");
    let pools = rook["resources"].as_array().unwrap().iter().find(|r| r["name"] == "cephblockpools").cloned();
    let pools = pools.unwrap_or_else(|| panic!("no cephblockpools: {rook}"));
    assert_eq!(pools["kind"], "CephBlockPool");
    assert_eq!(pools["namespaced"], true);
    assert_eq!(pools["singularName"], "cephblockpool");
    for verb in ["create", "delete", "get", "list", "patch", "update", "watch"] {
        assert!(pools["verbs"].as_array().unwrap().iter().any(|v| v == verb), "{verb}: {pools}");
    }

    let core = get(a, "/api/v1").json();
    assert_eq!(core["groupVersion"], "v1");
    let resource = |name: &str| core["resources"].as_array().unwrap().iter().find(|r| r["name"] == name).cloned();
    assert_eq!(resource("namespaces").expect("namespaces")["namespaced"], false);
    assert_eq!(resource("configmaps").expect("configmaps")["namespaced"], true);
    assert_eq!(resource("configmaps").unwrap()["shortNames"], json!(["cm"]));
    assert!(resource("pods/status").is_some(), "{core}");

    let missing = get(a, "/apis/nope.example.com/v1");
    assert_status_body(&missing, 404);
    assert_eq!(missing.json()["reason"], "NotFound");
}

#[test]
fn openapi_v3_index_and_a_group_version_document() {
    let sb = sandbox();
    let a = sb.addr();
    let index = get(a, "/openapi/v3").json();
    let link = |gv: &str| -> String {
        let url = index["paths"][gv]["serverRelativeURL"].as_str().unwrap_or_else(|| panic!("{gv} not in the index: {index}"));
        assert!(url.starts_with(&format!("/openapi/v3/{gv}?hash=")), "{url}");
        assert!(url.len() > format!("/openapi/v3/{gv}?hash=").len(), "empty hash: {url}");
        url.to_owned()
    };
    let core = get(a, &link("api/v1"));
    assert_eq!(core.status, 200);
    assert_eq!(core.json()["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    link("apis/ceph.rook.io/v1");

    let apps = get(a, &link("apis/apps/v1")).json();
    let item = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    let patch = &item["patch"];
    assert!(
        patch.is_object(),
        "no PATCH for deployments: {}",
        apps["paths"].as_object().unwrap().keys().cloned().collect::<Vec<_>>().join(", ")
    );
    assert_eq!(patch["x-kubernetes-group-version-kind"], json!({"group": "apps", "version": "v1", "kind": "Deployment"}));
    assert_eq!(patch["x-kubernetes-action"], "patch");
    let params: Vec<&Value> =
        patch["parameters"].as_array().into_iter().flatten().chain(item["parameters"].as_array().into_iter().flatten()).collect();
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    for name in ["fieldValidation", "fieldManager", "dryRun", "force"] {
        assert!(names.contains(&name), "{name} not among {names:?}");
    }
    let content = patch["requestBody"]["content"].as_object().expect("a request body");
    for ct in [
        "application/apply-patch+yaml",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/json-patch+json",
    ] {
        assert!(content.contains_key(ct), "{ct} not accepted: {:?}", content.keys());
    }
    let schemas = apps["components"]["schemas"].as_object().expect("schemas");
    let dep = schemas.get("io.k8s.api.apps.v1.Deployment").expect("the Deployment schema");
    assert_eq!(dep["x-kubernetes-group-version-kind"], json!([{"group": "apps", "version": "v1", "kind": "Deployment"}]));

    // A link with the current hash keeps working; an unknown group-version is 404.
    assert_eq!(get(a, "/openapi/v3/apis/nope.example.com/v1").status, 404);
}

#[test]
fn a_watch_from_the_current_version_sees_added_modified_deleted() {
    let sb = sandbox();
    setup_namespace(&sb, "watched");
    let a = sb.addr();
    setup_apply(&sb, "/api/v1/namespaces/watched/configmaps/before", &configmap("before"));
    let list = get(a, "/api/v1/namespaces/watched/configmaps").json();
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let mut watch =
        Watch::open(a, &format!("/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion={rv}&allowWatchBookmarks=false"));
    assert_eq!(watch.status, 200);

    let created = send_json(a, "POST", "/api/v1/namespaces/watched/configmaps", "application/json", &configmap("w"));
    assert_eq!(created.status, 201, "{}", created.text());
    let patched = send_json(
        a,
        "PATCH",
        "/api/v1/namespaces/watched/configmaps/w",
        "application/merge-patch+json",
        &json!({"data": {"k": "changed"}}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text());
    // A write elsewhere is not seen.
    setup_apply(&sb, "/api/v1/namespaces/default/configmaps/elsewhere", &configmap("elsewhere"));
    let deleted = http(a, "DELETE", "/api/v1/namespaces/watched/configmaps/w", &[], None);
    assert_eq!(deleted.status, 200, "{}", deleted.text());

    let mut events = Vec::new();
    while events.len() < 3 {
        let Some(event) = watch.next(Duration::from_secs(5)) else { break };
        if event["type"] == "BOOKMARK" {
            continue;
        }
        events.push(event);
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"], "{events:?}");
    for e in &events {
        assert_eq!(e["object"]["metadata"]["name"], "w", "{e}");
        assert_eq!(e["object"]["kind"], "ConfigMap", "{e}");
        assert_eq!(e["object"]["apiVersion"], "v1", "{e}");
    }
    assert_eq!(events[0]["object"]["data"]["k"], "v");
    assert_eq!(events[1]["object"]["data"]["k"], "changed");
    let rvs: Vec<u64> = events.iter().map(|e| e["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()).collect();
    assert!(rvs.windows(2).all(|w| w[0] < w[1]), "resourceVersions do not increase: {rvs:?}");
    assert!(rvs[0] > rv.parse::<u64>().unwrap());
    assert_eq!(events[0]["object"]["metadata"]["resourceVersion"], created.json()["metadata"]["resourceVersion"]);
    assert_eq!(events[1]["object"]["metadata"]["resourceVersion"], patched.json()["metadata"]["resourceVersion"]);
}

#[test]
fn a_watch_without_a_version_starts_with_the_current_objects() {
    let sb = sandbox();
    setup_namespace(&sb, "watched");
    for name in ["a", "b"] {
        setup_apply(&sb, &format!("/api/v1/namespaces/watched/configmaps/{name}"), &configmap(name));
    }
    let mut watch = Watch::open(sb.addr(), "/api/v1/namespaces/watched/configmaps?watch=1");
    let first = watch.next(Duration::from_secs(5)).expect("an event");
    let second = watch.next(Duration::from_secs(5)).expect("an event");
    let mut names = vec![first["object"]["metadata"]["name"].clone(), second["object"]["metadata"]["name"].clone()];
    names.sort_by_key(|v| v.to_string());
    assert_eq!(names, [json!("a"), json!("b")]);
    assert_eq!((first["type"].as_str(), second["type"].as_str()), (Some("ADDED"), Some("ADDED")));
    setup_apply(&sb, "/api/v1/namespaces/watched/configmaps/c", &configmap("c"));
    let third = watch.next(Duration::from_secs(5)).expect("an event for c");
    assert_eq!(third["type"], "ADDED");
    assert_eq!(third["object"]["metadata"]["name"], "c");
}

/// kube-apiserver's watch cache reports an object that starts matching a selector as ADDED and
/// one that stops matching as DELETED, so a filtered watch mirrors the filtered list.
#[test]
fn a_selector_watch_sees_objects_enter_and_leave_the_selection() {
    let sb = sandbox();
    let a = sb.addr();
    let rv = get(a, "/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let mut watch = Watch::open(a, &format!("/api/v1/namespaces/default/configmaps?watch=true&labelSelector=app%3Dx&resourceVersion={rv}"));
    let labelled = |app: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"app": app}}});
    for app in ["x", "y", "x"] {
        setup_apply(&sb, "/api/v1/namespaces/default/configmaps/c", &labelled(app));
    }
    let mut events = Vec::new();
    while events.len() < 3 {
        let Some(event) = watch.next(Duration::from_secs(2)) else { break };
        events.push((event["type"].as_str().unwrap_or_default().to_owned(), event["object"]["metadata"]["name"].clone()));
    }
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["ADDED", "DELETED", "ADDED"], "{events:?}");
    assert!(events.iter().all(|(_, name)| name == "c"), "{events:?}");
}

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}, "color": {"type": "string", "enum": ["red", "blue"]}}}
                }}},
                "subresources": {"status": {}}
            }]
        }
    })
}

#[test]
fn a_crd_created_by_a_client_appears_in_discovery() {
    let sb = sandbox();
    let a = sb.addr();
    assert_eq!(get(a, "/apis/example.com/v1").status, 404);
    let resp = send_json(a, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "application/json", &widget_crd());
    assert_eq!(resp.status, 201, "{}", resp.text());

    let established = wait_for("the CRD to be established", Duration::from_secs(10), || {
        let crd = get(a, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com").json();
        let ok = crd["status"]["conditions"].as_array()?.iter().any(|c| c["type"] == "Established" && c["status"] == "True");
        ok.then_some(crd)
    });
    assert_eq!(established["status"]["acceptedNames"]["kind"], "Widget");

    let groups = get(a, "/apis").json();
    let group = groups["groups"].as_array().unwrap().iter().find(|g| g["name"] == "example.com").cloned();
    assert_eq!(group.unwrap_or_else(|| panic!("example.com not in /apis: {groups}"))["preferredVersion"]["groupVersion"], "example.com/v1");
    let resources = get(a, "/apis/example.com/v1").json();
    let widgets = resources["resources"].as_array().unwrap().iter().find(|r| r["name"] == "widgets").cloned().expect("widgets listed");
    assert_eq!(widgets["kind"], "Widget");
    assert_eq!(widgets["namespaced"], true);
    assert_eq!(widgets["shortNames"], json!(["wd"]));
    let index = get(a, "/openapi/v3").json();
    assert!(index["paths"]["apis/example.com/v1"].is_object(), "example.com/v1 not in the OpenAPI index");
    // The collection is served (empty so far).
    let list = get(a, "/apis/example.com/v1/namespaces/default/widgets");
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.json()["kind"], "WidgetList");
    assert_eq!(list.json()["items"], json!([]));
}

#[test]
fn objects_of_a_client_created_crd_can_be_created_and_are_validated() {
    let sb = sandbox();
    let a = sb.addr();
    let resp = send_json(a, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "application/json", &widget_crd());
    assert_eq!(resp.status, 201, "{}", resp.text());
    wait_for("widgets to be served", Duration::from_secs(10), || (get(a, "/apis/example.com/v1").status == 200).then_some(()));

    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3, "color": "red"}});
    let resp = send_json(a, "POST", "/apis/example.com/v1/namespaces/default/widgets", "application/json", &widget);
    assert_eq!(resp.status, 201, "{}", resp.text());
    let got = get(a, "/apis/example.com/v1/namespaces/default/widgets/w1").json();
    assert_eq!(got["spec"]["size"], 3);
    assert_eq!(got["metadata"]["generation"], 1);
    let list = get(a, "/apis/example.com/v1/widgets").json();
    assert_eq!(list["kind"], "WidgetList");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // The CRD's schema is enforced.
    let bad = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w2"}, "spec": {"size": 3, "color": "green"}});
    let resp = send_json(a, "POST", "/apis/example.com/v1/namespaces/default/widgets", "application/json", &bad);
    assert_status_body(&resp, 422);
    assert_eq!(resp.json()["reason"], "Invalid");
    assert!(resp.text().contains("spec.color"), "{}", resp.text());
}

/// `application/vnd.kubernetes.protobuf` bodies as client-go's generated marshalers write them
/// (every non-pointer field present, `""`, `0`, `false` and the zero time included).
mod protobuf {
    use k8s_pb::api::apps::v1 as apps;
    use k8s_pb::api::core::v1 as core;
    use k8s_pb::apimachinery::pkg::api::resource::Quantity;
    use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
    use prost::Message;

    use super::*;

    pub const MEDIA: &str = "application/vnd.kubernetes.protobuf";

    pub fn body(api_version: &str, kind: &str, object: &impl Message) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: Some(api_version.into()), kind: Some(kind.into()) }),
            raw: Some(object.encode_to_vec()),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        [b"k8s\0".to_vec(), unknown.encode_to_vec()].concat()
    }

    /// `ObjectMeta` with every non-pointer field written, as Go sends it.
    fn meta(name: &str, labels: &[(&str, &str)]) -> Option<meta::ObjectMeta> {
        Some(meta::ObjectMeta {
            name: Some(name.into()),
            generate_name: Some(String::new()),
            namespace: Some(String::new()),
            self_link: Some(String::new()),
            uid: Some(String::new()),
            resource_version: Some(String::new()),
            generation: Some(0),
            creation_timestamp: Some(meta::Time { seconds: Some(0), nanos: Some(0) }),
            labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..Default::default()
        })
    }

    fn quantity(q: &str) -> Quantity {
        Quantity { string: Some(q.into()) }
    }

    fn int(i: i32) -> IntOrString {
        IntOrString { r#type: Some(0), int_val: Some(i), str_val: Some(String::new()) }
    }

    fn string(s: &str) -> IntOrString {
        IntOrString { r#type: Some(1), int_val: Some(0), str_val: Some(s.into()) }
    }

    /// `(path, protobuf body, the same object in JSON)`.
    pub fn cases() -> Vec<(&'static str, Vec<u8>, Value)> {
        let container = core::Container {
            name: Some("web".into()),
            image: Some("nginx:1.27".into()),
            image_pull_policy: Some(String::new()),
            termination_message_path: Some(String::new()),
            stdin: Some(false),
            tty: Some(false),
            ports: vec![core::ContainerPort {
                container_port: Some(80),
                host_port: Some(0),
                protocol: Some("TCP".into()),
                ..Default::default()
            }],
            resources: Some(core::ResourceRequirements {
                limits: [("cpu".to_owned(), quantity("500m")), ("memory".to_owned(), quantity("1Gi"))].into(),
                ..Default::default()
            }),
            security_context: Some(core::SecurityContext { run_as_user: Some(0), privileged: Some(false), ..Default::default() }),
            ..Default::default()
        };
        let deployment = apps::Deployment {
            metadata: meta("web", &[("app", "web")]),
            spec: Some(apps::DeploymentSpec {
                replicas: Some(0),
                selector: Some(meta::LabelSelector { match_labels: [("app".to_owned(), "web".to_owned())].into(), ..Default::default() }),
                template: Some(core::PodTemplateSpec {
                    metadata: meta("", &[("app", "web")]),
                    spec: Some(core::PodSpec { containers: vec![container], host_network: Some(false), ..Default::default() }),
                }),
                strategy: Some(apps::DeploymentStrategy {
                    r#type: Some("RollingUpdate".into()),
                    rolling_update: Some(apps::RollingUpdateDeployment { max_surge: Some(string("25%")), max_unavailable: Some(int(1)) }),
                }),
                min_ready_seconds: Some(0),
                paused: Some(false),
                ..Default::default()
            }),
            status: Some(Default::default()),
        };
        let deployment_json = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                // Go's JSON writes the zero time of a template as `null`, as kubectl sends it.
                "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "web"}}, "spec": {"containers": [{
                    "name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}},
                    "securityContext": {"runAsUser": 0, "privileged": false}}]}}},
            "status": {}
        });
        let secret = core::Secret {
            metadata: meta("creds", &[]),
            data: [("key".to_owned(), vec![0, 1, 2, 255])].into(),
            r#type: Some("Opaque".into()),
            ..Default::default()
        };
        let configmap = core::ConfigMap {
            metadata: meta("cfg", &[]),
            data: [("a".to_owned(), "b".to_owned()), ("empty".to_owned(), String::new())].into(),
            binary_data: [("bin".to_owned(), vec![0xde, 0xad])].into(),
            immutable: Some(false),
        };
        let service = core::Service {
            metadata: meta("web", &[]),
            spec: Some(core::ServiceSpec {
                ports: vec![core::ServicePort {
                    name: Some("http".into()),
                    protocol: Some("TCP".into()),
                    port: Some(80),
                    target_port: Some(int(8080)),
                    node_port: Some(0),
                    ..Default::default()
                }],
                selector: [("app".to_owned(), "web".to_owned())].into(),
                r#type: Some("ClusterIP".into()),
                cluster_ip: Some(String::new()),
                session_affinity: Some(String::new()),
                ..Default::default()
            }),
            status: Some(Default::default()),
        };
        vec![
            ("/apis/apps/v1/namespaces/NS/deployments", body("apps/v1", "Deployment", &deployment), deployment_json),
            (
                "/api/v1/namespaces/NS/secrets",
                body("v1", "Secret", &secret),
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "data": {"key": "AAEC/w=="}, "type": "Opaque"}),
            ),
            (
                "/api/v1/namespaces/NS/configmaps",
                body("v1", "ConfigMap", &configmap),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "b", "empty": ""}, "binaryData": {"bin": "3q0="}, "immutable": false}),
            ),
            (
                "/api/v1/namespaces/NS/services",
                body("v1", "Service", &service),
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}], "selector": {"app": "web"}, "type": "ClusterIP"}, "status": {}}),
            ),
        ]
    }

    /// What two creates of the same object share: all but identity, times, allocations and status.
    pub fn comparable(mut obj: Value) -> Value {
        let meta = obj["metadata"].as_object_mut().unwrap();
        for k in ["uid", "resourceVersion", "creationTimestamp", "namespace"] {
            meta.remove(k);
        }
        for entry in meta.get_mut("managedFields").and_then(Value::as_array_mut).into_iter().flatten() {
            entry.as_object_mut().unwrap().remove("time");
        }
        obj.as_object_mut().unwrap().remove("status");
        if let Some(spec) = obj["spec"].as_object_mut() {
            for k in ["clusterIP", "clusterIPs"] {
                spec.remove(k);
            }
        }
        obj
    }
}

#[test]
fn a_protobuf_create_stores_what_the_same_json_create_stores() {
    let sb = sandbox();
    setup_namespace(&sb, "pb");
    setup_namespace(&sb, "js");
    for (path, pb, json) in protobuf::cases() {
        let (code, created) = sb.call_bytes("POST", &path.replace("NS", "pb"), Some(protobuf::MEDIA), &pb);
        assert_eq!(code, 201, "{path}: {created}");
        let (code, expected) = sb.call("POST", &path.replace("NS", "js"), Some("application/json"), Some(&json));
        assert_eq!(code, 201, "{path}: {expected}");
        assert_eq!(protobuf::comparable(created), protobuf::comparable(expected), "{path}");
    }
}

#[test]
fn media_types_are_refused_with_the_ones_taken_for_the_verb() {
    let sb = sandbox();
    let (_, crd) = sb.call("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", None, None);
    let crd_kind = crd["items"].as_array().and_then(|i| i.first()).cloned().expect("the sandbox serves Rook's CRDs");
    let group = crd_kind["spec"]["group"].as_str().unwrap();
    let plural = crd_kind["spec"]["names"]["plural"].as_str().unwrap();
    let version = crd_kind["spec"]["versions"][0]["name"].as_str().unwrap();
    let custom = format!("/apis/{group}/{version}/namespaces/default/{plural}");
    let cases = protobuf::cases();
    let cm = &cases[2].1;
    let builtin = "application/json, application/yaml, application/vnd.kubernetes.protobuf";
    for (method, path, content_type, code, listed) in [
        ("POST", custom.as_str(), protobuf::MEDIA, 415, "application/json, application/yaml"),
        ("POST", "/api/v1/namespaces/default/configmaps", "application/cbor", 415, builtin),
        ("POST", "/api/v1/namespaces/default/configmaps", "application/merge-patch+json", 415, builtin),
        ("PUT", "/api/v1/namespaces/default/configmaps/cfg", "text/plain", 415, builtin),
        ("POST", custom.as_str(), "application/x-yaml", 415, "application/json, application/yaml"),
        (
            "PATCH",
            "/api/v1/namespaces/default/configmaps/cfg",
            protobuf::MEDIA,
            415,
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
        ),
        (
            "PATCH",
            &format!("{custom}/x"),
            "application/strategic-merge-patch+json",
            415,
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        ),
    ] {
        let (got, status) = sb.call_bytes(method, path, Some(content_type), cm);
        assert_eq!(got, code, "{method} {path} {content_type}: {status}");
        assert_eq!(status["reason"], "UnsupportedMediaType");
        assert_eq!(status["message"], format!("the body of the request was in an unknown format - accepted media types include: {listed}"));
    }
}

/// The message inside a protobuf answer: the envelope's `(apiVersion, kind)` and its raw bytes.
fn unwrap_protobuf(body: &[u8]) -> ((String, String), Vec<u8>) {
    use k8s_pb::apimachinery::pkg::runtime::Unknown;
    use prost::Message;
    let rest = body.strip_prefix(b"k8s\0").unwrap_or_else(|| panic!("no protobuf magic: {}", String::from_utf8_lossy(body)));
    let unknown = Unknown::decode(rest).expect("a runtime.Unknown envelope");
    let type_meta = unknown.type_meta.unwrap_or_default();
    ((type_meta.api_version.unwrap_or_default(), type_meta.kind.unwrap_or_default()), unknown.raw.unwrap_or_default())
}

const PROTOBUF_ONLY: &[(&str, &str)] = &[("Accept", "application/vnd.kubernetes.protobuf")];

#[test]
fn a_client_asking_only_for_protobuf_gets_protobuf_for_built_in_kinds() {
    use k8s_pb::api::core::v1 as core;
    use k8s_pb::apimachinery::pkg::apis::meta::v1::Status;
    use prost::Message;
    let sb = sandbox();
    let (code, stored) = sb.call("POST", "/api/v1/namespaces/default/configmaps", None, Some(&configmap("cfg")));
    assert_eq!(code, 201, "{stored}");
    let resp = http(sb.addr(), "GET", "/api/v1/namespaces/default/configmaps/cfg", PROTOBUF_ONLY, None);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/vnd.kubernetes.protobuf"));
    let (type_meta, raw) = unwrap_protobuf(&resp.body);
    assert_eq!(type_meta, ("v1".to_owned(), "ConfigMap".to_owned()));
    let cm = core::ConfigMap::decode(&*raw).unwrap();
    assert_eq!(cm.data.get("k").map(String::as_str), Some("v"));
    let meta = cm.metadata.unwrap();
    assert_eq!(meta.name.as_deref(), Some("cfg"));
    assert_eq!(meta.uid.as_deref(), stored["metadata"]["uid"].as_str());
    assert_eq!(meta.resource_version.as_deref(), stored["metadata"]["resourceVersion"].as_str());
    let created: jiff::Timestamp = stored["metadata"]["creationTimestamp"].as_str().unwrap().parse().unwrap();
    assert_eq!(meta.creation_timestamp.and_then(|t| t.seconds), Some(created.as_second()));
    assert_eq!(meta.managed_fields.len(), 1, "managedFields, with fieldsV1 as embedded JSON");

    // A list, a create answered in kind, an error as a protobuf Status.
    let resp = http(sb.addr(), "GET", "/api/v1/namespaces/default/configmaps", PROTOBUF_ONLY, None);
    let (type_meta, raw) = unwrap_protobuf(&resp.body);
    assert_eq!(type_meta.1, "ConfigMapList");
    let list = core::ConfigMapList::decode(&*raw).unwrap();
    assert!(list.items.iter().any(|i| i.metadata.as_ref().and_then(|m| m.name.as_deref()) == Some("cfg")));
    assert!(list.metadata.and_then(|m| m.resource_version).is_some_and(|rv| !rv.is_empty()));
    let body = protobuf::body(
        "v1",
        "ConfigMap",
        &core::ConfigMap {
            metadata: Some(k8s_pb::apimachinery::pkg::apis::meta::v1::ObjectMeta { name: Some("made".into()), ..Default::default() }),
            ..Default::default()
        },
    );
    let headers = [PROTOBUF_ONLY[0], ("Content-Type", protobuf::MEDIA)];
    let resp = http(sb.addr(), "POST", "/api/v1/namespaces/default/configmaps", &headers, Some(&body));
    assert_eq!(resp.status, 201);
    let made = core::ConfigMap::decode(&*unwrap_protobuf(&resp.body).1).unwrap();
    assert!(made.metadata.and_then(|m| m.uid).is_some_and(|uid| !uid.is_empty()));
    let resp = http(sb.addr(), "GET", "/api/v1/namespaces/default/configmaps/nope", PROTOBUF_ONLY, None);
    assert_eq!(resp.status, 404);
    let (type_meta, raw) = unwrap_protobuf(&resp.body);
    assert_eq!(type_meta, ("v1".to_owned(), "Status".to_owned()));
    let status = Status::decode(&*raw).unwrap();
    assert_eq!((status.code, status.reason.as_deref()), (Some(404), Some("NotFound")));
    assert_eq!(status.details.and_then(|d| d.name).as_deref(), Some("nope"));

    // With a JSON fallback (what kubectl and client-go send) the answer is JSON.
    let accept = [("Accept", "application/vnd.kubernetes.protobuf, application/json")];
    let resp = http(sb.addr(), "GET", "/api/v1/namespaces/default/configmaps/cfg", &accept, None);
    assert_eq!(resp.json()["kind"], "ConfigMap");
    // `/version` is JSON for everyone.
    let resp = http(sb.addr(), "GET", "/version", PROTOBUF_ONLY, None);
    assert_eq!(resp.json()["major"], "1");
}

#[test]
fn protobuf_is_not_acceptable_where_the_sandbox_has_none() {
    let sb = sandbox();
    let (_, crds) = sb.call("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", None, None);
    let crd = &crds["items"][0]["spec"];
    let custom = format!(
        "/apis/{}/{}/namespaces/default/{}",
        crd["group"].as_str().unwrap(),
        crd["versions"][0]["name"].as_str().unwrap(),
        crd["names"]["plural"].as_str().unwrap()
    );
    let table = [("Accept", "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io")];
    for (path, headers) in
        [("/api", PROTOBUF_ONLY), ("/apis/apps/v1", PROTOBUF_ONLY), (custom.as_str(), PROTOBUF_ONLY), ("/api/v1/namespaces", &table[..])]
    {
        let resp = http(sb.addr(), "GET", path, headers, None);
        assert_status_body(&resp, 406);
        assert_eq!(resp.json()["reason"], "NotAcceptable");
        assert_eq!(resp.json()["message"], "only the following media types are accepted: application/json", "{path}");
    }
    // Nothing was done: a create refused for its answer leaves nothing behind.
    let resp = http(
        sb.addr(),
        "POST",
        &custom,
        &[PROTOBUF_ONLY[0], ("Content-Type", "application/json")],
        Some(br#"{"metadata": {"name": "x"}}"#),
    );
    assert_eq!(resp.status, 406);
    assert_eq!(sb.call("GET", &format!("{custom}/x"), None, None).0, 404);
}

/// Each kind's protobuf answer, sent back as a protobuf PUT, stores the object unchanged: what
/// the encoder writes the decoder reads (CRDs' recursive schemas and nodes included).
#[test]
fn protobuf_answers_read_back_as_the_stored_json() {
    let sb = sandbox();
    setup_namespace(&sb, "pb");
    let mut paths = Vec::new();
    for (path, _, json) in protobuf::cases() {
        let path = path.replace("NS", "pb");
        let (code, created) = sb.call("POST", &path, Some("application/json"), Some(&json));
        assert_eq!(code, 201, "{path}: {created}");
        paths.push(format!("{path}/{}", created["metadata"]["name"].as_str().unwrap()));
    }
    let (_, crds) = sb.call("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", None, None);
    for crd in crds["items"].as_array().unwrap() {
        paths.push(format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{}", crd["metadata"]["name"].as_str().unwrap()));
    }
    let (_, nodes) = sb.call("GET", "/api/v1/nodes", None, None);
    for node in nodes["items"].as_array().unwrap() {
        paths.push(format!("/api/v1/nodes/{}", node["metadata"]["name"].as_str().unwrap()));
    }
    paths.push("/api/v1/namespaces/pb".to_owned());
    assert!(paths.len() > 10, "{paths:?}");
    // Controllers at their fixed point first, so no status write lands between a GET and its PUT.
    sb.settle();
    for path in &paths {
        // A JSON PUT of the object first: writes canonicalize quantities the nodes were seeded with.
        let (_, stored) = sb.call("GET", path, None, None);
        assert_eq!(sb.call("PUT", path, Some("application/json"), Some(&stored)).0, 200, "{path}");
        let (_, before) = sb.call("GET", path, None, None);
        let resp = http(sb.addr(), "GET", path, PROTOBUF_ONLY, None);
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
        let resp = http(sb.addr(), "PUT", path, &[("Content-Type", protobuf::MEDIA), ("Accept", "application/json")], Some(&resp.body));
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
        let (_, after) = sb.call("GET", path, None, None);
        assert_eq!(after, before, "{path}");
    }
    // The scale subresource is autoscaling/v1's Scale.
    let resp = http(sb.addr(), "GET", "/apis/apps/v1/namespaces/pb/deployments/web/scale", PROTOBUF_ONLY, None);
    let (type_meta, raw) = unwrap_protobuf(&resp.body);
    assert_eq!(type_meta, ("autoscaling/v1".to_owned(), "Scale".to_owned()));
    let scale = <k8s_pb::api::autoscaling::v1::Scale as prost::Message>::decode(&*raw).unwrap();
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(0));
}

#[test]
fn a_protobuf_watch_sends_length_prefixed_watch_events() {
    use k8s_pb::apimachinery::pkg::apis::meta::v1::WatchEvent;
    use prost::Message;
    let sb = sandbox();
    sb.call("POST", "/api/v1/namespaces/default/configmaps", None, Some(&configmap("w")));
    let resp = http(sb.addr(), "GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1", PROTOBUF_ONLY, None);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/vnd.kubernetes.protobuf;stream=watch"));
    let mut rest = &resp.body[..];
    let mut names = Vec::new();
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*len) as usize;
        let event = WatchEvent::decode(&tail[..len]).unwrap();
        assert_eq!(event.r#type.as_deref(), Some("ADDED"));
        let (type_meta, raw) = unwrap_protobuf(&event.object.unwrap().raw.unwrap());
        assert_eq!(type_meta.1, "ConfigMap");
        let cm = k8s_pb::api::core::v1::ConfigMap::decode(&*raw).unwrap();
        names.push(cm.metadata.unwrap().name.unwrap());
        rest = &tail[len..];
    }
    assert!(names.contains(&"w".to_owned()), "{names:?}");
}

#[test]
fn container_subresources_say_the_sandbox_runs_no_containers() {
    let sb = sandbox();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}});
    assert_eq!(sb.call("POST", "/api/v1/namespaces/default/pods", None, Some(&pod)).0, 201);
    for (method, sub, what) in [
        ("GET", "log", "has no logs to show"),
        ("POST", "exec", "has no container to run a command in"),
        ("GET", "exec", "has no container to run a command in"),
        ("POST", "attach", "has no container to attach to"),
        ("POST", "portforward", "has no port to forward to"),
    ] {
        let (code, status) = sb.call(method, &format!("/api/v1/namespaces/default/pods/p/{sub}"), None, None);
        assert_eq!(code, 400, "{sub}: {status}");
        assert_eq!(
            status["message"],
            format!("the cairn sandbox runs no containers, so pod \"p\" {what}; docs/sandbox.md says what it simulates"),
            "{sub}"
        );
    }
    let (code, status) = sb.call("GET", "/api/v1/namespaces/default/pods/nope/log", None, None);
    assert_eq!((code, status["message"].as_str()), (404, Some("pods \"nope\" not found")));
}
