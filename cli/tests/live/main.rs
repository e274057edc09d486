//! `cairn plan | apply | drift | destroy` through the real binary against the sandbox over
//! loopback (DESIGN.md §2 steps 7–11, §3).

#[path = "../support/ci.rs"]
mod ci;
mod common;
#[path = "../support/component.rs"]
mod component;
mod connect;
mod data_loss;
mod destroy;
mod existing;
mod guards;
mod health;
mod import;
mod inventory;
mod lock;
mod lsp_status;
mod pods;
mod preflight;
mod progress;
mod retries;
mod rollback;
mod scaling;
mod status;
mod storage;
mod tools;

use common::*;

/// The dependency edges of a stack, from `cairn graph --format json`.
fn edges(env: &Env, dir: &std::path::Path) -> Vec<(String, String)> {
    let g = env.cairn(&["graph", dir.to_str().unwrap(), "--format", "json"]).code(0).json();
    g["edges"].as_array().unwrap().iter().map(|e| (e["from"].as_str().unwrap().to_owned(), e["to"].as_str().unwrap().to_owned())).collect()
}

#[test]
fn first_apply_creates_everything_in_dependency_order_then_plan_is_empty() {
    let env = env();
    let shop = env.stack("shop");
    let shop_s = shop.to_str().unwrap();
    let first = env.cairn(&["apply", shop_s, "--auto-approve"]).code(0);
    assert!(first.stdout.contains("Apply complete"), "{}", first.stdout);
    assert_no_secret("apply output", &first.all());

    // Every declared object was written, each once, and never before what it depends on.
    let writes = env.client_writes();
    let applied: Vec<&str> =
        writes.iter().filter(|(verb, id)| verb == "apply" && !id.contains("cairn-system")).map(|(_, id)| id.as_str()).collect();
    let graph = edges(&env, &shop);
    let nodes = env.cairn(&["graph", shop_s, "--format", "json"]).json()["nodes"].as_array().unwrap().len();
    assert_eq!(applied.len(), nodes, "one write per object: {applied:?}");
    let pos = |id: &str| applied.iter().position(|a| *a == id).unwrap_or_else(|| panic!("{id} was not applied: {applied:?}"));
    for (from, to) in &graph {
        assert!(pos(from) < pos(to), "{to} was written before {from}, which it depends on: {applied:?}");
    }
    // Workloads rolled out before apply returned, web at its autoscaler's min.
    let web = env.get("apps", "deployments", "shop", "web").unwrap();
    assert_eq!((web["spec"]["replicas"].as_i64(), web["status"]["availableReplicas"].as_i64()), (Some(3), Some(3)), "{web}");
    assert!(
        first.all().contains("HorizontalPodAutoscaler/shop/web: created, autoscaling, Deployment web at 3 replicas"),
        "{}",
        first.all()
    );
    assert!(web["metadata"]["annotations"]["cairn.dev/applied-hash"].is_string());

    let plan = env.cairn(&["plan", shop_s, "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let drift = env.cairn(&["drift", shop_s]).code(0);
    assert_no_secret("drift", &drift.all());
}

#[test]
fn out_of_band_changes_are_drift_undeclared_labels_are_not_and_edits_are_pending() {
    let env = env();
    let shop = env.stack("shop");
    let shop_s = shop.to_str().unwrap();
    env.cairn(&["apply", shop_s, "--auto-approve"]).code(0);

    // A label nobody declared, added by someone else: not drift.
    if let Some(r) = env.kubectl(&["label", "deployment", "web", "-n", "shop", "owner=alice"]) {
        r.code(0);
        env.cairn(&["drift", shop_s]).code(0);
        // `kubectl set image` of the declared image: drift, naming exactly that field.
        env.kubectl(&["set", "image", "deployment/web", "-n", "shop", "web=ghcr.io/acme/shop-web:9.9.9"]).unwrap().code(0);
    } else {
        env.call(
            "PATCH",
            "/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=kubectl-set",
            "application/strategic-merge-patch+json",
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/shop-web:9.9.9"}]}}}}),
        );
    }
    let drift = env.cairn(&["drift", shop_s, "--format", "json"]).code(2);
    let report = drift.json();
    let changes = report["resource_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{report:#}");
    assert_eq!(changes[0]["object"]["kind"], "Deployment");
    assert_eq!(changes[0]["class"], "drift");
    let fields: Vec<&str> = changes[0]["changes"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(fields, ["spec.template.spec.containers[name=web].image"], "{report:#}");
    // It says who changed it.
    assert_eq!(changes[0]["changes"][0]["managers"], json!(["kubectl-set"]), "{report:#}");
    assert_eq!(report["resource_drift"].as_array().unwrap().len(), 1);
    let text = env.cairn(&["drift", shop_s]).code(2);
    assert!(text.stdout.contains("9.9.9") && text.stdout.contains("2.3.1") && text.stdout.contains("drift"), "{}", text.stdout);
    let md = env.cairn(&["drift", shop_s, "--format", "markdown"]).code(2);
    assert!(md.stdout.contains("| `~` | `Deployment/shop/web` |") && md.stdout.contains("```diff"), "{}", md.stdout);

    // A declared label changed out of band: drift too.
    env.call(
        "PATCH",
        "/api/v1/namespaces/shop?fieldManager=someone",
        "application/merge-patch+json",
        &json!({"metadata": {"labels": {"team": "other"}}}),
    );
    let both = env.cairn(&["drift", shop_s, "--format", "json"]).code(2).json();
    let ns = both["resource_changes"].as_array().unwrap().iter().find(|c| c["object"]["kind"] == "Namespace").expect("namespace differs");
    assert_eq!(ns["class"], "drift");
    assert_eq!(ns["changes"][0]["path"], "metadata.labels.team");

    // Apply takes drift back (force), and the stranger's label stays.
    env.cairn(&["apply", shop_s, "--auto-approve"]).code(0);
    let web = env.get("apps", "deployments", "shop", "web").unwrap();
    assert_eq!(web["spec"]["template"]["spec"]["containers"][0]["image"], "ghcr.io/acme/shop-web:2.3.1");
    env.cairn(&["drift", shop_s]).code(0);

    // Editing the stack: pending, not drift.
    let apps = shop.join("apps.cairn");
    let text = std::fs::read_to_string(&apps).unwrap().replace("cpu_limit     = 500m", "cpu_limit     = 600m");
    std::fs::write(&apps, text).unwrap();
    let pending = env.cairn(&["drift", shop_s, "--format", "json"]).code(2).json();
    let c = &pending["resource_changes"][0];
    assert_eq!(
        (c["class"].as_str(), c["changes"][0]["path"].as_str()),
        (Some("pending"), Some("spec.template.spec.containers[name=web].resources.limits.cpu")),
        "{pending:#}"
    );
    assert!(pending["resource_drift"].as_array().unwrap().is_empty());

    // Removing a block plans a delete.
    let main = shop.join("main.cairn");
    let text = std::fs::read_to_string(&main).unwrap();
    let start = text.find("  limits {").unwrap();
    let end = start + text[start..].find("  }\n").unwrap() + 4;
    std::fs::write(&main, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let plan = env.cairn(&["plan", shop_s, "--json"]).code(0).json();
    let del = plan["resource_changes"].as_array().unwrap().iter().find(|c| c["action"] == "delete").expect("a delete");
    assert_eq!(del["object"]["kind"], "LimitRange", "{plan:#}");
}

#[test]
fn an_autoscaler_owned_replicas_is_not_drift() {
    let env = env();
    let dir = env.write_stack(
        "auto",
        r#"namespace "auto" {}
workload "api" {
  namespace = namespace.auto
  image     = "nginx:1.27"
}
"#,
    );
    let d = dir.to_str().unwrap();
    env.cairn(&["apply", d, "--auto-approve"]).code(0);
    // An HPA (another field manager) scales it.
    env.call(
        "PATCH",
        "/apis/apps/v1/namespaces/auto/deployments/api/scale?fieldManager=horizontal-pod-autoscaler",
        "application/merge-patch+json",
        &json!({"spec": {"replicas": 5}}),
    );
    assert_eq!(env.get("apps", "deployments", "auto", "api").unwrap()["spec"]["replicas"], 5);
    env.cairn(&["drift", d]).code(0);
    env.cairn(&["plan", d, "--detailed-exitcode"]).code(0);
}

#[test]
fn no_secret_value_in_plan_text_json_saved_plans_drift_or_logs() {
    let env = env();
    let shop = env.stack("shop");
    let shop_s = shop.to_str().unwrap();
    let plan_file = env.dir.path().join("shop.plan");
    let mut outputs = vec![
        ("plan", env.cairn(&["plan", shop_s]).code(0).all()),
        ("plan --json", env.cairn(&["plan", shop_s, "--json"]).code(0).all()),
        ("plan -o", env.cairn(&["plan", shop_s, "-o", plan_file.to_str().unwrap()]).code(0).all()),
    ];
    outputs.push(("saved plan", std::fs::read_to_string(&plan_file).unwrap()));
    outputs.push(("apply PLANFILE", env.cairn(&["apply", plan_file.to_str().unwrap()]).code(0).all()));
    // The secret changes in the environment: the plan shows a sensitive change, not the value.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["--color", "never", "--kubeconfig"])
        .arg(&env.kubeconfig)
        .args(["plan", shop_s, "--json"])
        .env("SHOP_DB_PASSWORD", "another-planted-value")
        .output()
        .unwrap();
    let changed = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(changed.contains("(sensitive)"), "{changed}");
    assert!(!changed.contains("another-planted-value"));
    outputs.push(("plan after a secret change", changed));
    outputs.push(("drift", env.cairn(&["drift", shop_s]).all()));
    outputs.push(("drift markdown", env.cairn(&["drift", shop_s, "--format", "markdown"]).all()));
    outputs.push(("destroy", env.cairn(&["destroy", shop_s, "--auto-approve", "--allow-data-loss"]).code(0).all()));
    for (what, text) in &outputs {
        assert_no_secret(what, text);
    }
}

/// The README's main job, as a newcomer runs it: `eval "$(cairn sandbox up)"`, apply, plan.
#[test]
fn readme_main_job_sandbox_up_apply_then_plan_shows_no_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let shop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop");
    let run = |args: &[&str], kubeconfig: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"));
        c.current_dir(tmp.path())
            .args(["--color", "never"])
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("CAIRN_SANDBOX")
            .env("HOME", tmp.path())
            .env("XDG_STATE_HOME", tmp.path().join("state"));
        if let Some(k) = kubeconfig {
            c.env("KUBECONFIG", k);
        }
        c.output().unwrap()
    };
    let up = run(&["sandbox", "up", "--port", &port], None);
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let export = String::from_utf8_lossy(&up.stdout).to_string();
    let kubeconfig = export.trim().strip_prefix("export KUBECONFIG=").unwrap().trim_matches('\'').trim_matches('"').to_owned();
    let apply = run(&["apply", shop.to_str().unwrap(), "--auto-approve"], Some(&kubeconfig));
    let plan = run(&["plan", shop.to_str().unwrap()], Some(&kubeconfig));
    // Without KUBECONFIG cairn finds the sandbox running from this directory, and says so.
    let found = run(&["plan", shop.to_str().unwrap(), "--detailed-exitcode"], None);
    let down = run(&["sandbox", "down"], None);
    assert!(apply.status.success(), "{}{}", String::from_utf8_lossy(&apply.stdout), String::from_utf8_lossy(&apply.stderr));
    assert!(String::from_utf8_lossy(&plan.stdout).contains("No changes"), "{}", String::from_utf8_lossy(&plan.stdout));
    assert_eq!(found.status.code(), Some(0), "{}", String::from_utf8_lossy(&found.stderr));
    assert!(String::from_utf8_lossy(&found.stderr).contains("using the running sandbox"), "{}", String::from_utf8_lossy(&found.stderr));
    assert!(down.status.success());
}

/// The cluster block's `kube { kubeconfig, context }` chooses the cluster when no flag or
/// KUBECONFIG does; a context the kubeconfig lacks is a clear error.
#[test]
fn the_cluster_block_chooses_the_kubeconfig_and_context() {
    let env = env();
    let dir = env.write_stack(
        "blocky",
        &format!(
            r#"cluster "lab" {{
  kube {{
    kubeconfig = "{}"
    context    = "sandbox"
  }}
}}

namespace "blocky" {{}}
"#,
            env.kubeconfig.display()
        ),
    );
    let run = |extra: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--color", "never", "-v"])
            .args(extra)
            .arg(&dir)
            .args(["--auto-approve"])
            .env_remove("KUBECONFIG")
            .env("HOME", env.dir.path())
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).to_string())
    };
    let (code, stderr) = run(&["apply"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("cluster block"), "-v says where the kubeconfig came from: {stderr}");
    assert!(env.get("", "namespaces", "", "blocky").is_some());
    let (code, stderr) = run(&["--context", "nope", "apply"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("nope") && stderr.contains("kubeconfig"), "{stderr}");
    let (code, stderr) = run(&["--cluster", "prod", "apply"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no `cluster \"prod\"` block"), "{stderr}");
}

/// A CustomResourceDefinition and an object of its kind in one stack: plan before the kind is
/// served, apply waits for the CRD to be Established and then applies the object (the
/// `kubernetes_manifest` trap Terraform users hit).
#[test]
fn a_crd_and_its_custom_object_apply_in_one_run() {
    let env = env();
    let dir = env.write_stack("widgets", "namespace \"w\" {}\n");
    std::fs::write(
        dir.join("crd.yaml"),
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  namespace: w
spec:
  size: 3
"#,
    )
    .unwrap();
    std::fs::write(dir.join("main.cairn"), "namespace \"w\" {}\nmanifest \"widgets\" {\n  source = file(\"crd.yaml\")\n}\n").unwrap();
    let d = dir.to_str().unwrap();
    let plan = env.cairn(&["plan", d, "--json"]).code(0).json();
    assert_eq!(plan["summary"]["create"], 3, "{plan:#}");
    env.cairn(&["apply", d, "--auto-approve"]).code(0);
    let w = env.get("example.com", "widgets", "w", "w1").expect("the widget exists");
    assert_eq!(w["spec"]["size"], 3);
    env.cairn(&["plan", d, "--detailed-exitcode"]).code(0);
    // Destroy deletes the widget before its CRD.
    env.cairn(&["destroy", d, "--auto-approve"]).code(0);
    let deletes: Vec<String> = env.client_writes().into_iter().filter(|(v, _)| v == "delete").map(|(_, id)| id).collect();
    let pos = |id: &str| deletes.iter().position(|d| d == id).unwrap_or_else(|| panic!("{id} not deleted: {deletes:?}"));
    assert!(pos("Widget/w/w1") < pos("CustomResourceDefinition/widgets.example.com"), "{deletes:?}");
}

/// Destroy then apply at once: the namespace is still Terminating, so apply waits for it to go
/// and creates it again instead of failing on "being terminated".
#[test]
fn apply_right_after_destroy_waits_for_the_terminating_namespace() {
    let env = env();
    let dir =
        env.write_stack("again", "namespace \"again\" {}\nconfig \"c\" {\n  namespace = namespace.again\n  data      = { a = \"b\" }\n}\n");
    let d = dir.to_str().unwrap();
    env.cairn(&["apply", d, "--auto-approve"]).code(0);
    env.cairn(&["destroy", d, "--auto-approve"]).code(0);
    let ns = env.get("", "namespaces", "", "again").expect("still terminating");
    assert!(ns["metadata"]["deletionTimestamp"].is_string(), "{ns}");
    let plan = env.cairn(&["plan", d]).code(0);
    assert!(plan.stdout.contains("being deleted"), "{}", plan.stdout);
    env.cairn(&["apply", d, "--auto-approve"]).code(0);
    let ns = env.get("", "namespaces", "", "again").expect("created again");
    assert!(ns["metadata"]["deletionTimestamp"].is_null(), "{ns}");
    assert!(env.get("", "configmaps", "again", "c").is_some());
    env.cairn(&["plan", d, "--detailed-exitcode"]).code(0);
}

/// Policy results appear in plan text (the last line), plan JSON (`policies`) and drift's
/// markdown; a warning does not block apply.
#[test]
fn policy_results_appear_in_plan_text_json_and_drift() {
    let env = env();
    let shop = env.stack("shop");
    std::fs::write(shop.join("policies.cairn"), "policy \"budgets\" {\n  source = \"std:pdb-for-replicated\"\n}\n").unwrap();
    // Without its budget, the web app (an autoscaler's min of 3 replicas) is what the policy warns of.
    let apps = shop.join("apps.cairn");
    let text = std::fs::read_to_string(&apps).unwrap();
    assert!(text.contains("  disruption    = { max_unavailable = 1 }\n"), "{text}");
    std::fs::write(&apps, text.replace("  disruption    = { max_unavailable = 1 }\n", "")).unwrap();
    let s = shop.to_str().unwrap();
    let text = env.cairn(&["plan", s]).code(0);
    let last = text.stdout.lines().last().unwrap_or_default().to_owned();
    assert!(last.contains("Plan: 22 to create") && last.contains("Policies: 0 denied, 1 warning."), "{last}");
    let json = env.cairn(&["plan", s, "--json"]).code(0).json();
    let p = &json["policies"][0];
    assert_eq!(
        (p["policy"].as_str(), p["severity"].as_str(), p["address"].as_str()),
        (Some("budgets"), Some("warn"), Some("workload.web")),
        "{json:#}"
    );
    assert_eq!(json["applyable"], true);
    env.cairn(&["apply", s, "--auto-approve"]).code(0);
    let md = env.cairn(&["drift", s, "--format", "markdown"]).code(0);
    assert!(
        md.stdout.contains("**Policies: 0 denied, 1 warning.**") && md.stdout.contains("- warn `budgets` on `workload.web`"),
        "{}",
        md.stdout
    );
}

/// A deny (phase `plan`, judged on the plan) fails `plan` and `drift` with the policy's message,
/// and blocks `apply`: nothing is written.
#[test]
fn a_deny_fails_plan_and_blocks_apply() {
    let env = env();
    let shop = env.stack("shop");
    std::fs::write(
        shop.join("policies.cairn"),
        "policy \"replication\" {\n  source = \"std:min-replication\"\n  config = { size = 5 }\n}\n",
    )
    .unwrap();
    let s = shop.to_str().unwrap();
    let plan = env.cairn(&["plan", s]).code(1);
    assert!(plan.stderr.contains("policy `replication` (std:min-replication)"), "{}", plan.all());
    assert!(plan.stdout.contains("Policies: 1 denied"), "{}", plan.stdout);
    // The lock (its Lease, in namespace cairn-system) is all apply writes.
    let objects = || env.client_writes().into_iter().filter(|(_, id)| !id.contains("cairn-system")).collect::<Vec<_>>();
    let before = objects();
    let apply = env.cairn(&["apply", s, "--auto-approve"]).code(1);
    assert!(apply.stderr.contains("a policy denies the plan (above); nothing was applied"), "{}", apply.all());
    assert_eq!(objects(), before, "apply wrote nothing but the lock");
    env.cairn(&["drift", s]).code(1);
}

/// Terraform shows every attribute of a create: so does the plan, in text (`+ field: value`,
/// secrets `(sensitive)`) and in JSON (`changes` from `before: null`); `cairn show FILE` prints
/// a saved plan as `plan` printed it, and as the same JSON.
#[test]
fn a_create_shows_its_fields_and_show_prints_the_saved_plan() {
    let env = env();
    let shop = env.stack("shop");
    let shop_s = shop.to_str().unwrap();
    let plan = env.cairn(&["plan", shop_s]).code(0);
    assert!(plan.stdout.contains("+ Deployment/shop/web"), "{}", plan.stdout);
    assert!(plan.stdout.contains("+ HorizontalPodAutoscaler/shop/web"), "{}", plan.stdout);
    assert!(plan.stdout.contains("+   minReplicas: 3"), "{}", plan.stdout);
    assert!(plan.stdout.contains("+   password: (sensitive)"), "{}", plan.stdout);
    assert_no_secret("plan of creates", &plan.all());
    let json = env.cairn(&["plan", shop_s, "--format", "json"]).code(0).json();
    let web = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "workload.web" && c["object"]["kind"] == "Deployment")
        .unwrap();
    let spec = web["changes"].as_array().unwrap().iter().find(|c| c["path"] == "spec").unwrap();
    assert_eq!((spec["op"].as_str(), &spec["before"]), (Some("set"), &Value::Null), "{spec:#}");
    assert!(spec["after"].get("replicas").is_none(), "the autoscaler owns replicas: {spec:#}");
    assert_eq!(env.cairn(&["plan", shop_s, "--json"]).code(0).json(), json, "--json is --format json");
    // What the plan is against, as data beside the prose kept from 1.0.
    assert_eq!(json["clusters"], serde_json::json!({"kubernetes": json["cluster"]}), "{json:#}");

    let file = env.dir.path().join("shop.plan");
    env.cairn(&["plan", shop_s, "-o", file.to_str().unwrap()]).code(0);
    let shown = env.cairn(&["show", file.to_str().unwrap()]).code(0);
    assert!(shown.stdout.starts_with(&format!("Saved plan {} of ", file.display())), "{}", shown.stdout);
    let body = |s: &str| s.lines().skip_while(|l| !l.starts_with("Stack ")).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&shown.stdout), body(&plan.stdout), "show prints the plan as plan did");
    let shown_json = env.cairn(&["show", file.to_str().unwrap(), "--format", "json"]).code(0).json();
    assert_eq!(shown_json["resource_changes"], json["resource_changes"]);
    assert_eq!(env.cairn(&["show", file.to_str().unwrap(), "--json"]).code(0).json(), shown_json, "--json is --format json");
    assert_no_secret("show", &shown.all());
    let missing = env.cairn(&["show", env.dir.path().join("nope.plan").to_str().unwrap()]).code(1);
    assert!(missing.stderr.contains("cannot use the plan file"), "{}", missing.all());
}

/// A plan whose only news is a refusal does not also claim the stack matches the cluster.
#[test]
fn a_refused_plan_does_not_say_the_stack_matches() {
    let env = env();
    let d = env.write_stack("solo", "config \"app\" {\n  namespace = \"default\"\n  data      = { a = \"b\" }\n}\n");
    env.call(
        "POST",
        "/api/v1/namespaces/default/configmaps?fieldManager=someone",
        "application/json",
        &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}}),
    );
    let plan = env.cairn(&["plan", d.to_str().unwrap()]).code(1);
    assert!(plan.stdout.contains("refused") && !plan.stdout.contains("No changes") && !plan.stdout.contains("matches"), "{}", plan.all());
}
