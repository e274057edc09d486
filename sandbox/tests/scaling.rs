//! HorizontalPodAutoscalers, PodDisruptionBudgets with the eviction subresource, and Ingresses:
//! the statuses, conditions and events the sandbox's controllers write, the 429 of a refused
//! eviction, and kube-apiserver's validation messages.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn deployment(name: &str, ns: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "nginx:1.27", "resources": {"requests": {"cpu": "100m"}}}]}
            }
        }
    })
}

fn apply_deployment(sb: &Sandbox, name: &str, ns: &str, replicas: i64) {
    setup_apply(sb, &format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"), &deployment(name, ns, replicas));
}

fn hpa(name: &str, ns: &str, target: &str, min: Option<i64>, max: i64, extra: Value) -> Value {
    let mut obj = json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}, "maxReplicas": max}
    });
    if let Some(min) = min {
        obj["spec"]["minReplicas"] = json!(min);
    }
    if let (Some(spec), Some(extra)) = (obj["spec"].as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    obj
}

fn create(sb: &Sandbox, path: &str, obj: &Value) -> (u16, Value) {
    sb.call("POST", path, Some("application/json"), Some(obj))
}

fn condition<'a>(obj: &'a Value, kind: &str) -> &'a Value {
    obj["status"]["conditions"].as_array().and_then(|c| c.iter().find(|c| c["type"] == kind)).unwrap_or(&Value::Null)
}

fn events_of(sb: &Sandbox, ns: &str, name: &str) -> Vec<Value> {
    let (code, body) = sb.call("GET", &format!("/api/v1/namespaces/{ns}/events"), None, None);
    assert_eq!(code, 200, "{body}");
    body["items"].as_array().unwrap().iter().filter(|e| e["involvedObject"]["name"] == name).cloned().collect()
}

fn has_event(sb: &Sandbox, ns: &str, name: &str, kind: &str, reason: &str, message: &str) -> bool {
    events_of(sb, ns, name).iter().any(|e| e["type"] == kind && e["reason"] == reason && e["message"] == message)
}

const HPAS: &str = "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers";
const PDBS: &str = "/apis/policy/v1/namespaces/shop/poddisruptionbudgets";

#[test]
fn an_autoscaler_scales_its_target_up_to_min_through_the_scale_subresource() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply_deployment(&sb, "web", "shop", 1);
    let (code, body) = create(&sb, HPAS, &hpa("web", "shop", "web", Some(2), 5, json!({})));
    assert_eq!(code, 201, "{body}");
    // Defaults as kube-apiserver: CPU at 80 %.
    assert_eq!(
        body["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}])
    );
    sb.settle();
    let dep = sb.object("apps", "deployments", "shop", "web").unwrap();
    assert_eq!(dep["spec"]["replicas"], 2);
    let entry = dep["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "kube-controller-manager" && e["subresource"] == "scale")
        .unwrap_or_else(|| panic!("no scale entry: {}", dep["metadata"]["managedFields"]));
    assert_eq!(entry["operation"], "Update");
    assert!(owns(entry, &["f:spec", "f:replicas"]), "{entry}");
    // The applier keeps its entry but no longer owns the replicas the controller changed.
    let setup = managed_entry(&dep, "setup", "Apply").unwrap();
    assert!(!owns(setup, &["f:spec", "f:replicas"]), "{setup}");
    assert!(has_event(
        &sb,
        "shop",
        "web",
        "Normal",
        "SuccessfulRescale",
        "New size: 2; reason: Current number of replicas below Spec.MinReplicas"
    ));
    let hpa = sb.object("autoscaling", "horizontalpodautoscalers", "shop", "web").unwrap();
    assert_eq!(hpa["status"]["currentReplicas"], 2, "{}", hpa["status"]);
    assert_eq!(hpa["status"]["desiredReplicas"], 2);
    assert!(hpa["status"]["lastScaleTime"].is_string());
    assert_eq!(
        hpa["status"]["currentMetrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 0, "averageValue": "0"}}}])
    );
    let active = condition(&hpa, "ScalingActive");
    assert_eq!((active["status"].as_str(), active["reason"].as_str()), (Some("True"), Some("ValidMetricFound")));
    assert_eq!(
        active["message"],
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"
    );
    let limited = condition(&hpa, "ScalingLimited");
    assert_eq!((limited["status"].as_str(), limited["reason"].as_str()), (Some("True"), Some("TooFewReplicas")));
    assert_eq!(limited["message"], "the desired replica count is less than the minimum replica count");
    // The first sample (1 replica) is still within the default 300 s window.
    let able = condition(&hpa, "AbleToScale");
    assert_eq!((able["status"].as_str(), able["reason"].as_str()), (Some("True"), Some("ScaleDownStabilized")));
}

#[test]
fn an_autoscaler_scales_down_only_after_its_stabilization_window() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply_deployment(&sb, "web", "shop", 5);
    let behavior = json!({"behavior": {"scaleDown": {"stabilizationWindowSeconds": 1}}});
    let (code, body) = create(&sb, HPAS, &hpa("web", "shop", "web", Some(2), 10, behavior));
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"]["behavior"]["scaleUp"]["policies"][0], json!({"type": "Pods", "value": 4, "periodSeconds": 15}));
    assert_eq!(body["spec"]["behavior"]["scaleDown"]["selectPolicy"], "Max");
    sb.settle();
    let hpa = sb.object("autoscaling", "horizontalpodautoscalers", "shop", "web").unwrap();
    assert_eq!(sb.object("apps", "deployments", "shop", "web").unwrap()["spec"]["replicas"], 5);
    assert_eq!(condition(&hpa, "AbleToScale")["reason"], "ScaleDownStabilized", "{}", hpa["status"]);
    assert_eq!(condition(&hpa, "ScalingLimited")["reason"], "DesiredWithinRange");
    assert_eq!(hpa["status"]["desiredReplicas"], 5);
    // After the window, with no write to wake it, the controller scales down to min.
    wait_for("the scale-down", Duration::from_secs(5), || {
        (sb.object("apps", "deployments", "shop", "web")?["spec"]["replicas"] == 2).then_some(())
    });
    sb.settle();
    assert!(has_event(&sb, "shop", "web", "Normal", "SuccessfulRescale", "New size: 2; reason: All metrics below target"));
    let hpa = sb.object("autoscaling", "horizontalpodautoscalers", "shop", "web").unwrap();
    assert_eq!(condition(&hpa, "ScalingLimited")["reason"], "TooFewReplicas", "{}", hpa["status"]);
}

#[test]
fn a_target_at_zero_replicas_is_scaling_disabled_and_left_alone() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply_deployment(&sb, "web", "shop", 0);
    create(&sb, HPAS, &hpa("web", "shop", "web", None, 3, json!({})));
    sb.settle();
    assert_eq!(sb.object("apps", "deployments", "shop", "web").unwrap()["spec"]["replicas"], 0);
    let hpa = sb.object("autoscaling", "horizontalpodautoscalers", "shop", "web").unwrap();
    let active = condition(&hpa, "ScalingActive");
    assert_eq!((active["status"].as_str(), active["reason"].as_str()), (Some("False"), Some("ScalingDisabled")));
    assert_eq!(active["message"], "scaling is disabled since the replica count of the target is zero");
    assert_eq!(hpa["spec"]["minReplicas"], 1);
    assert_eq!(hpa["status"]["desiredReplicas"], 0);
}

#[test]
fn a_missing_target_is_failed_get_scale() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    create(&sb, HPAS, &hpa("web", "shop", "web", Some(1), 3, json!({})));
    sb.settle();
    let hpa = sb.object("autoscaling", "horizontalpodautoscalers", "shop", "web").unwrap();
    let able = condition(&hpa, "AbleToScale");
    assert_eq!((able["status"].as_str(), able["reason"].as_str()), (Some("False"), Some("FailedGetScale")));
    assert_eq!(
        able["message"],
        "the HPA controller was unable to get the target's current scale: deployments/scale.apps \"web\" not found"
    );
    assert!(has_event(&sb, "shop", "web", "Warning", "FailedGetScale", "deployments/scale.apps \"web\" not found"));
    // The scale subresource itself answers the same name.
    let (code, body) = sb.call("GET", "/apis/apps/v1/namespaces/shop/deployments/web/scale", None, None);
    assert_eq!((code, body["message"].as_str()), (404, Some("deployments/scale.apps \"web\" not found")));
}

#[test]
fn a_pods_metric_fails_without_a_custom_metrics_api() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply_deployment(&sb, "web", "shop", 2);
    let metrics = json!({"metrics": [{"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}]});
    create(&sb, HPAS, &hpa("web", "shop", "web", Some(1), 3, metrics));
    sb.settle();
    assert_eq!(sb.object("apps", "deployments", "shop", "web").unwrap()["spec"]["replicas"], 2);
    let hpa = sb.object("autoscaling", "horizontalpodautoscalers", "shop", "web").unwrap();
    let active = condition(&hpa, "ScalingActive");
    assert_eq!((active["status"].as_str(), active["reason"].as_str()), (Some("False"), Some("FailedGetPodsMetric")));
    assert!(
        active["message"].as_str().unwrap().starts_with("the HPA was unable to compute the replica count: unable to get metric rps: "),
        "{active}"
    );
}

#[test]
fn autoscaler_validation_has_kube_apiservers_messages() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    let (code, body) = create(&sb, HPAS, &hpa("web", "shop", "web", Some(0), 0, json!({})));
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "HorizontalPodAutoscaler.autoscaling \"web\" is invalid: [spec.minReplicas: Invalid value: 0: must be greater than or equal to 1, spec.maxReplicas: Invalid value: 0: must be greater than 0]"
    );
    let (code, body) = create(&sb, HPAS, &hpa("web", "shop", "web", Some(4), 2, json!({})));
    assert_eq!(code, 422);
    assert_eq!(body["message"], "HorizontalPodAutoscaler.autoscaling \"web\" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`");
    let mut no_target = hpa("web", "shop", "", Some(1), 2, json!({}));
    no_target["spec"]["scaleTargetRef"] = json!({"apiVersion": "apps/v1"});
    let (code, body) = create(&sb, HPAS, &no_target);
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "HorizontalPodAutoscaler.autoscaling \"web\" is invalid: [spec.scaleTargetRef.kind: Required value, spec.scaleTargetRef.name: Required value]"
    );
    let metrics =
        json!({"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 0}}}]});
    let (code, body) = create(&sb, HPAS, &hpa("web", "shop", "web", Some(1), 2, metrics));
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "HorizontalPodAutoscaler.autoscaling \"web\" is invalid: spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"
    );
    let metrics = json!({"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}]});
    let (_, body) = create(&sb, HPAS, &hpa("web", "shop", "web", Some(1), 2, metrics));
    assert_eq!(
        body["message"],
        "HorizontalPodAutoscaler.autoscaling \"web\" is invalid: spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization"
    );
    let metrics = json!({"metrics": [{"type": "Resource"}]});
    let (_, body) = create(&sb, HPAS, &hpa("web", "shop", "web", Some(1), 2, metrics));
    assert_eq!(
        body["message"],
        "HorizontalPodAutoscaler.autoscaling \"web\" is invalid: spec.metrics[0].resource: Required value: must populate information for the given metric source"
    );
}

fn pdb(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["selector"] = json!({"matchLabels": {"app": "web"}});
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": "shop"}, "spec": spec})
}

fn pods(sb: &Sandbox) -> Vec<String> {
    let (_, body) = sb.call("GET", "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb", None, None);
    body["items"].as_array().unwrap().iter().filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned)).collect()
}

fn evict(sb: &Sandbox, pod: &str) -> (u16, Value) {
    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": "shop"}});
    sb.call("POST", &format!("/api/v1/namespaces/shop/pods/{pod}/eviction"), Some("application/json"), Some(&eviction))
}

#[test]
fn a_budget_reports_health_and_refuses_an_eviction_with_429() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply_deployment(&sb, "web", "shop", 2);
    let (code, body) = create(&sb, PDBS, &pdb("web", json!({"minAvailable": 2})));
    assert_eq!(code, 201, "{body}");
    sb.settle();
    let budget = sb.object("policy", "poddisruptionbudgets", "shop", "web").unwrap();
    let status = &budget["status"];
    assert_eq!(
        (
            &status["expectedPods"],
            &status["currentHealthy"],
            &status["desiredHealthy"],
            &status["disruptionsAllowed"],
            &status["observedGeneration"]
        ),
        (&json!(2), &json!(2), &json!(2), &json!(0), &json!(1)),
        "{status}"
    );
    let allowed = condition(&budget, "DisruptionAllowed");
    assert_eq!(
        (allowed["status"].as_str(), allowed["reason"].as_str(), allowed["message"].as_str()),
        (Some("False"), Some("InsufficientPods"), Some(""))
    );
    let pod = pods(&sb).remove(0);
    let (code, body) = evict(&sb, &pod);
    assert_eq!(code, 429, "{body}");
    assert_eq!(body["reason"], "TooManyRequests");
    assert_eq!(body["message"], "Cannot evict pod as it would violate the pod's disruption budget.");
    assert_eq!(
        body["details"]["causes"],
        json!([{"reason": "DisruptionBudget", "message": "The disruption budget web needs 2 healthy pods and has 2 currently"}])
    );
    assert!(sb.object("", "pods", "shop", &pod).is_some(), "a refused eviction deletes nothing");
}

#[test]
fn an_allowed_eviction_deletes_the_pod_and_records_the_disruption() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply_deployment(&sb, "web", "shop", 4);
    create(&sb, PDBS, &pdb("web", json!({"maxUnavailable": "25%"})));
    sb.settle();
    let budget = sb.object("policy", "poddisruptionbudgets", "shop", "web").unwrap();
    // 25 % of 4 rounds up to 1: 3 must stay healthy.
    assert_eq!((&budget["status"]["desiredHealthy"], &budget["status"]["disruptionsAllowed"]), (&json!(3), &json!(1)));
    assert_eq!(condition(&budget, "DisruptionAllowed")["reason"], "SufficientPods");
    let pod = pods(&sb).remove(0);
    let before = sb.writes().len();
    let (code, body) = evict(&sb, &pod);
    assert_eq!((code, body["status"].as_str()), (201, Some("Success")), "{body}");
    assert!(sb.object("", "pods", "shop", &pod).is_none());
    let writes = sb.writes();
    assert!(writes[before..].iter().any(|w| w.kind == "PodDisruptionBudget" && w.verb == "status"), "the budget records the disruption");
    // The Deployment replaces the pod; once it is ready the budget allows one disruption again.
    sb.settle();
    let budget = sb.object("policy", "poddisruptionbudgets", "shop", "web").unwrap();
    assert_eq!(
        (&budget["status"]["currentHealthy"], &budget["status"]["disruptionsAllowed"]),
        (&json!(4), &json!(1)),
        "{}",
        budget["status"]
    );
    assert!(budget["status"]["disruptedPods"].is_null(), "the deleted pod leaves disruptedPods");
}

#[test]
fn an_eviction_without_a_budget_deletes_and_two_budgets_are_a_500() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply_deployment(&sb, "web", "shop", 2);
    sb.settle();
    let names = pods(&sb);
    let (code, _) = evict(&sb, &names[0]);
    assert_eq!(code, 201);
    create(&sb, PDBS, &pdb("one", json!({"minAvailable": 1})));
    create(&sb, PDBS, &pdb("two", json!({"minAvailable": 1})));
    sb.settle();
    let (code, body) = evict(&sb, &names[1]);
    assert_eq!(code, 500, "{body}");
    assert_eq!(body["message"], "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    let (code, body) = evict(&sb, "nothing");
    assert_eq!((code, body["message"].as_str()), (404, Some("pods \"nothing\" not found")));
}

#[test]
fn budget_validation_has_kube_apiservers_messages() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    let (code, body) = create(&sb, PDBS, &pdb("web", json!({"minAvailable": "150%"})));
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "PodDisruptionBudget.policy \"web\" is invalid: spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"
    );
    let (_, body) = create(&sb, PDBS, &pdb("web", json!({"maxUnavailable": -1})));
    assert_eq!(
        body["message"],
        "PodDisruptionBudget.policy \"web\" is invalid: spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0"
    );
    let (code, body) = create(&sb, PDBS, &pdb("web", json!({"minAvailable": 1, "maxUnavailable": 1})));
    assert_eq!(code, 422);
    assert!(body["message"].as_str().unwrap().ends_with(": minAvailable and maxUnavailable cannot be both set"), "{body}");
}

const INGRESSES: &str = "/apis/networking.k8s.io/v1/namespaces/shop/ingresses";

fn ingress(paths: Value, host: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"rules": [{"host": host, "http": {"paths": paths}}]}
    })
}

#[test]
fn ingress_validation_catches_the_common_mistakes() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    let backend = json!({"service": {"name": "web", "port": {"number": 80}}});
    let (code, body) = create(&sb, INGRESSES, &ingress(json!([{"path": "/", "backend": backend}]), "shop.example.com"));
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "Ingress.networking.k8s.io \"web\" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"
    );
    let (_, body) =
        create(&sb, INGRESSES, &ingress(json!([{"path": "api", "pathType": "Prefix", "backend": backend}]), "shop.example.com"));
    assert_eq!(
        body["message"],
        "Ingress.networking.k8s.io \"web\" is invalid: spec.rules[0].http.paths[0].path: Invalid value: \"api\": must be an absolute path"
    );
    let (_, body) = create(&sb, INGRESSES, &ingress(json!([{"path": "/", "pathType": "Regex", "backend": backend}]), "shop.example.com"));
    assert_eq!(
        body["message"],
        "Ingress.networking.k8s.io \"web\" is invalid: spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""
    );
    let (_, body) = create(&sb, INGRESSES, &ingress(json!([{"path": "/", "pathType": "Prefix", "backend": backend}]), "10.0.0.1"));
    assert_eq!(body["message"], "Ingress.networking.k8s.io \"web\" is invalid: spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address");
    let no_port = json!({"service": {"name": "web"}});
    let (_, body) = create(&sb, INGRESSES, &ingress(json!([{"path": "/", "pathType": "Prefix", "backend": no_port}]), "shop.example.com"));
    assert_eq!(body["message"], "Ingress.networking.k8s.io \"web\" is invalid: spec.rules[0].http.paths[0].backend: Required value: port name or number is required");
    let (code, body) =
        create(&sb, INGRESSES, &ingress(json!([{"path": "/", "pathType": "Prefix", "backend": backend}]), "shop.example.com"));
    assert_eq!(code, 201, "{body}");
}

#[test]
fn an_ingress_naming_a_missing_class_gets_a_warning_event() {
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    let backend = json!({"service": {"name": "web", "port": {"number": 80}}});
    let mut obj = ingress(json!([{"path": "/", "pathType": "Prefix", "backend": backend}]), "shop.example.com");
    obj["spec"]["ingressClassName"] = json!("nginx");
    let (code, body) = create(&sb, INGRESSES, &obj);
    assert_eq!(code, 201, "{body}");
    sb.settle();
    let events = events_of(&sb, "shop", "web");
    assert!(events.iter().any(|e| e["type"] == "Warning" && e["reason"] == "IngressClassNotFound"), "{events:?}");
    let (code, body) = sb.call("GET", "/apis/networking.k8s.io/v1/ingressclasses", None, None);
    assert_eq!((code, body["items"].as_array().map(Vec::len)), (200, Some(0)), "the sandbox seeds no IngressClass");
}

#[test]
fn an_eviction_in_protobuf_is_read_like_json() {
    use k8s_pb::api::policy::v1::Eviction;
    use k8s_pb::apimachinery::pkg::apis::meta::v1::{DeleteOptions, ObjectMeta};
    use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    use prost::Message;
    let sb = sandbox();
    setup_namespace(&sb, "shop");
    apply_deployment(&sb, "web", "shop", 2);
    create(&sb, PDBS, &pdb("web", json!({"minAvailable": 2})));
    sb.settle();
    let pod = pods(&sb).remove(0);
    let eviction = Eviction {
        metadata: Some(ObjectMeta { name: Some(pod.clone()), namespace: Some("shop".into()), ..Default::default() }),
        delete_options: Some(DeleteOptions::default()),
    };
    let unknown = Unknown {
        type_meta: Some(TypeMeta { api_version: Some("policy/v1".into()), kind: Some("Eviction".into()) }),
        raw: Some(eviction.encode_to_vec()),
        content_encoding: None,
        content_type: None,
    };
    let body = [b"k8s\0".to_vec(), unknown.encode_to_vec()].concat();
    let path = format!("/api/v1/namespaces/shop/pods/{pod}/eviction");
    let (code, status) = sb.call_bytes("POST", &path, Some("application/vnd.kubernetes.protobuf"), &body);
    assert_eq!(code, 429, "{status}");
    assert_eq!(status["details"]["causes"][0]["reason"], "DisruptionBudget");
}
