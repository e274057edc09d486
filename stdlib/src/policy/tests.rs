use serde_json::json;

use super::*;

fn input(resources: Vec<(&str, &str, Json)>, config: Json) -> Input {
    Input {
        phase: "check".into(),
        stack: "t".into(),
        config,
        resources: resources.into_iter().map(|(a, k, o)| Resource { address: a.into(), kind: k.into(), object: o }).collect(),
        changes: vec![],
    }
}

fn deployment(name: &str, image: &str, replicas: i64, requests: Json) -> Json {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": name, "image": image, "resources": requests}]}}}})
}

fn run(name: &str, i: &Input) -> Vec<Violation> {
    builtin(name).unwrap().evaluate(i).unwrap()
}

#[test]
fn every_builtin_is_listed_and_describes_itself() {
    for name in BUILTINS {
        let p = builtin(name).unwrap();
        assert_eq!(p.describe().name, format!("std:{name}"));
    }
    assert!(builtin("nope").is_none());
    assert!(WIT.contains("export evaluate: func(input: string) -> result<list<violation>, string>;"));
}

#[test]
fn no_latest_tag_denies_latest_untagged_and_empty_tags_only() {
    let res = json!({"requests": {"cpu": "1"}});
    let i = input(
        vec![
            ("workload.a", "Deployment", deployment("a", "nginx:latest", 1, res.clone())),
            ("workload.b", "Deployment", deployment("b", "registry:5000/nginx", 1, res.clone())),
            ("workload.c", "Deployment", deployment("c", "nginx:1.27", 1, res.clone())),
            ("workload.d", "Deployment", deployment("d", "nginx@sha256:abc", 1, res)),
        ],
        Json::Null,
    );
    let v = run("no-latest-tag", &i);
    assert_eq!(v.iter().map(|v| v.address.as_str()).collect::<Vec<_>>(), ["workload.a", "workload.b"]);
    assert!(v[0].message.contains("`latest`") && v[1].message.contains("no tag"), "{v:?}");
    assert_eq!(v[0].path.as_deref(), Some("spec.template.spec.containers[name=a].image"));
    assert_eq!(v[0].severity, Severity::Deny);
}

#[test]
fn require_resources_names_what_is_missing() {
    let i = input(
        vec![
            (
                "workload.a",
                "Deployment",
                deployment("a", "x:1", 1, json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}})),
            ),
            ("workload.b", "Deployment", deployment("b", "x:1", 1, json!({"requests": {"cpu": "1"}}))),
        ],
        Json::Null,
    );
    let v = run("require-resources", &i);
    assert_eq!(v.len(), 1);
    assert!(v[0].message.contains("requests.memory, limits.memory"), "{v:?}");
}

#[test]
fn min_replication_reads_rook_and_direct_pools_and_config() {
    let rook = |size: i64, min: Option<&str>| {
        let mut o = json!({"kind": "CephBlockPool", "metadata": {"name": "p"}, "spec": {"replicated": {"size": size}}});
        if let Some(m) = min {
            o["spec"]["parameters"] = json!({"min_size": m});
        }
        o
    };
    let direct = json!({"kind": "CephPool", "metadata": {"name": "d"}, "spec": {"type": "replicated", "size": 3, "min_size": 1}});
    let ec = json!({"kind": "CephPool", "metadata": {"name": "e"}, "spec": {"type": "erasure", "size": 1}});
    let i = input(
        vec![
            ("pool.ok", "CephBlockPool", rook(3, None)),
            ("pool.small", "CephBlockPool", rook(2, Some("1"))),
            ("pool.d", "CephPool", direct),
            ("pool.e", "CephPool", ec),
        ],
        Json::Null,
    );
    let v = run("min-replication", &i);
    let got: Vec<(&str, Option<&str>)> = v.iter().map(|v| (v.address.as_str(), v.path.as_deref())).collect();
    assert_eq!(
        got,
        [("pool.small", Some("spec.replicated.size")), ("pool.small", Some("spec.parameters.min_size")), ("pool.d", Some("spec.min_size"))]
    );
    // Config lowers the bar; a wrong type is an error, not a silent default.
    let mut relaxed = i.clone();
    relaxed.config = json!({"size": 2, "min_size": 1});
    assert!(run("min-replication", &relaxed).is_empty());
    relaxed.config = json!({"size": "two"});
    assert!(builtin("min-replication").unwrap().evaluate(&relaxed).unwrap_err().contains("`size` must be an integer"));
}

#[test]
fn quota_fit_counts_replicas_and_a_surge_pod() {
    let quota = json!({"kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "shop"}, "spec": {"hard": {"requests.cpu": "2", "requests.memory": "1Gi", "pods": "10"}}});
    // 3 replicas + 1 surge = 4 pods × 500m = 2 cores: fits exactly; × 300Mi = 1200Mi > 1Gi.
    let i = input(
        vec![
            ("namespace.shop", "ResourceQuota", quota),
            ("workload.web", "Deployment", deployment("web", "x:1", 3, json!({"requests": {"cpu": "500m", "memory": "300Mi"}}))),
        ],
        Json::Null,
    );
    let v = run("quota-fit", &i);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].path.as_deref(), Some("spec.hard.requests.memory"));
    assert!(v[0].message.contains("workload.web") && v[0].message.contains("1200.000 MiB"), "{v:?}");
}

#[test]
fn pdb_for_replicated_warns_without_a_budget() {
    let pdb = json!({"kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"matchLabels": {"app": "web"}}}});
    let res = json!({});
    let i = input(
        vec![
            ("workload.web", "Deployment", deployment("web", "x:1", 3, res.clone())),
            ("workload.api", "Deployment", deployment("api", "x:1", 2, res.clone())),
            ("workload.one", "Deployment", deployment("one", "x:1", 1, res)),
            ("manifest.pdb", "PodDisruptionBudget", pdb),
        ],
        Json::Null,
    );
    let v = run("pdb-for-replicated", &i);
    assert_eq!(v.iter().map(|v| (v.address.as_str(), v.severity)).collect::<Vec<_>>(), [("workload.api", Severity::Warn)]);
}

#[test]
fn pdb_for_replicated_counts_an_autoscalers_min() {
    let hpa = |name: &str, min: i64| {
        json!({"kind": "HorizontalPodAutoscaler", "metadata": {"name": name, "namespace": "shop"},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}, "minReplicas": min, "maxReplicas": 9}})
    };
    let mut web = deployment("web", "x:1", 1, json!({}));
    let mut api = deployment("api", "x:1", 1, json!({}));
    for d in [&mut web, &mut api] {
        d["spec"].as_object_mut().unwrap().remove("replicas");
    }
    let i = input(
        vec![
            ("workload.web", "Deployment", web),
            ("workload.web", "HorizontalPodAutoscaler", hpa("web", 3)),
            ("workload.api", "Deployment", api),
            ("workload.api", "HorizontalPodAutoscaler", hpa("api", 1)),
        ],
        Json::Null,
    );
    let v = run("pdb-for-replicated", &i);
    assert_eq!(v.iter().map(|v| v.address.as_str()).collect::<Vec<_>>(), ["workload.web"], "{v:?}");
    assert!(v[0].message.contains("at least 3 replicas"), "{v:?}");
}

/// Phase `destroy` has no resources, only the deletes: no built-in policy (each judges declared
/// objects) finds anything to deny, whatever is deleted.
#[test]
fn no_builtin_denies_a_destroy() {
    let delete = |address: &str, kind: &str, name: &str| Change {
        address: address.into(),
        action: "delete".into(),
        before: Some(json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "shop"}})),
        after: None,
    };
    let i = Input {
        phase: "destroy".into(),
        changes: vec![
            delete("workload.web", "Deployment", "web"),
            delete("pool.fast", "CephBlockPool", "fast"),
            delete("ResourceQuota/shop/q", "ResourceQuota", "q"),
        ],
        ..input(vec![], json!({"size": 5, "min_size": 4}))
    };
    for name in BUILTINS {
        assert_eq!(run(name, &i), vec![], "std:{name} on a destroy");
    }
}
