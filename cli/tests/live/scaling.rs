//! Scaling, disruption budgets and routes (LANGUAGE.md §10) on the sandbox: `examples/shop`'s
//! autoscaler, budget and route; replicas the autoscaler or `kubectl scale` writes are not
//! drift; handing a workload's replicas over to an autoscaler never resets the live count.

use std::path::Path;

use crate::common::{env, Env};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `examples/shop` creates the HorizontalPodAutoscaler, the PodDisruptionBudget and the
/// Ingress with TLS; the Deployment carries no replica count; a second plan is empty, and
/// neither `kubectl scale` nor the autoscaler's writes are drift.
#[test]
fn the_shop_gets_its_autoscaler_budget_and_route_and_scaling_is_not_drift() {
    let env = env();
    let shop = env.stack("shop");
    env.cairn(&["apply", s(&shop), "--auto-approve"]).code(0);

    let hpa = env.get("autoscaling", "horizontalpodautoscalers", "shop", "web").expect("the autoscaler");
    assert_eq!(hpa["spec"]["scaleTargetRef"], serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}));
    assert_eq!((hpa["spec"]["minReplicas"].as_i64(), hpa["spec"]["maxReplicas"].as_i64()), (Some(3), Some(6)));
    assert_eq!(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 70, "{hpa:#}");
    let pdb = env.get("policy", "poddisruptionbudgets", "shop", "web").expect("the budget");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1, "{pdb:#}");
    assert_eq!(pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"], "web", "{pdb:#}");
    let ing = env.get("networking.k8s.io", "ingresses", "shop", "shop").expect("the Ingress");
    let path = &ing["spec"]["rules"][0]["http"]["paths"][0];
    assert_eq!(path["backend"]["service"], serde_json::json!({"name": "web", "port": {"number": 80}}), "{ing:#}");
    assert_eq!(ing["spec"]["tls"][0]["secretName"], "shop-tls", "{ing:#}");
    let web = env.get("apps", "deployments", "shop", "web").expect("web");
    let cairn_fields = web["metadata"]["managedFields"].as_array().unwrap().iter().find(|m| m["manager"] == "cairn").cloned();
    assert!(cairn_fields.is_some_and(|m| m["fieldsV1"]["f:spec"].get("f:replicas").is_none()), "cairn does not own replicas: {web:#}");
    env.cairn(&["plan", s(&shop), "--detailed-exitcode"]).code(0);

    // A person scales by hand: not drift (the autoscaler owns the count).
    if let Some(out) = env.kubectl(&["scale", "deployment/web", "-n", "shop", "--replicas=5"]) {
        assert_eq!(out.code, 0, "{}", out.stderr);
        // (The sandbox's autoscaler may already have taken it back to its min, as a real one
        // does on its next pass: its recent recommendations are all 3.)
        env.cairn(&["drift", s(&shop)]).code(0);
    }
    // The autoscaler's own write through the scale subresource: not drift either.
    let scale = serde_json::json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 4}});
    env.call("PUT", "/apis/apps/v1/namespaces/shop/deployments/web/scale?fieldManager=kube-controller-manager", "application/json", &scale);
    env.cairn(&["drift", s(&shop)]).code(0);
    env.cairn(&["plan", s(&shop), "--detailed-exitcode"]).code(0);
}

fn web_stack(env: &Env, scaling: &str) -> std::path::PathBuf {
    env.write_stack(
        "scale",
        &format!(
            r#"namespace "scale" {{}}

workload "web" {{
  namespace = namespace.scale
  image     = "nginx:1.27"
  resources {{ cpu = 100m, memory = 64Mi }}
{scaling}
}}
"#
        ),
    )
}

/// A workload that had `replicas = 3` gets an autoscaler instead: the plan shows no replica
/// change, and the apply keeps the live count (a server-side apply that simply dropped the
/// field would reset it to Kubernetes' default of 1 until the autoscaler reacts).
#[test]
fn handing_replicas_to_an_autoscaler_keeps_the_live_count() {
    let env = env();
    let dir = web_stack(&env, "  replicas = 3");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let before = env.get("apps", "deployments", "scale", "web").unwrap();
    assert_eq!(before["spec"]["replicas"], 3);

    // The autoscaler's min is the live count, so it never writes: any spec change is cairn's.
    let dir = web_stack(&env, "  autoscale {\n    min = 3\n    max = 5\n    cpu = 60\n  }");
    let plan = env.cairn(&["plan", s(&dir), "--format", "json"]).code(0).json();
    let changes = plan["resource_changes"].as_array().unwrap();
    let web = changes.iter().find(|c| c["object"]["kind"] == "Deployment").cloned().expect("a Deployment step");
    assert!(web["changes"].as_array().unwrap().iter().all(|c| c["path"] != "spec.replicas"), "replicas are not planned: {web:#}");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let live = env.get("apps", "deployments", "scale", "web").unwrap();
    assert_eq!(live["spec"]["replicas"], 3, "the live count survives the hand-over: {live:#}");
    // Not reset and restored: the spec never changed (a reset to 1 would bump the generation).
    assert_eq!(live["metadata"]["generation"], before["metadata"]["generation"], "{live:#}");
    assert!(env.get("autoscaling", "horizontalpodautoscalers", "scale", "web").is_some());
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
}
