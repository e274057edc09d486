//! The real `kubectl` against the sandbox: version, get, server-side apply with validation,
//! conflicts and `--force-conflicts`, `diff --server-side`, delete (a namespace too), label
//! selectors, `patch` and `set image`, `rollout status`, `history` and `undo` (after failed
//! rollouts of a Deployment, a StatefulSet and a DaemonSet). Each test skips (with a message)
//! where `kubectl` is not installed, and fails instead under `CI=true`.

/// The shared skip-or-fail helper for missing tools (and its own test).
#[path = "../../cli/tests/support/ci.rs"]
mod ci;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::{json, Value};

/// `kubectl` with a kubeconfig and cache of its own, pointed at one sandbox.
struct Kubectl {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

/// What one `kubectl` run did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "kubectl failed:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

fn kubectl_installed() -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("kubectl").is_file()))
}

/// The kubectl for a sandbox, or `None` (after printing why) when kubectl is not installed.
fn kubectl(sb: &Sandbox) -> Option<Kubectl> {
    if !kubectl_installed() {
        ci::missing("kubectl", "install kubectl to run the sandbox's kubectl conformance tests");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let config = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: {}
contexts:
- name: sandbox
  context:
    cluster: sandbox
    user: sandbox
current-context: sandbox
users:
- name: sandbox
  user: {{}}
",
        sb.url()
    );
    std::fs::write(&kubeconfig, config).unwrap();
    Some(Kubectl { dir, kubeconfig })
}

impl Kubectl {
    fn run(&self, args: &[&str]) -> Run {
        let cache = self.dir.path().join("cache");
        let output = Command::new("kubectl")
            .args(args)
            .arg(format!("--cache-dir={}", cache.display()))
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .stdin(Stdio::null())
            .output()
            .expect("kubectl runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Writes a manifest into the temporary directory and returns its path.
    fn manifest(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path_str(&path)
    }
}

fn path_str(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

fn deployment_yaml(ns: &str, replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
  labels:
    app: web
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: {image}
"
    )
}

fn configmap_yaml(ns: &str, name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {ns}
data:
  greeting: {value}
"
    )
}

#[test]
fn version_reports_a_1_33_server() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    let run = k.run(&["version"]).ok();
    let server = run.stdout.lines().find(|l| l.starts_with("Server Version:")).unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(server.trim_start_matches("Server Version:").trim().starts_with("v1.33"), "{server}");
    let run = k.run(&["version", "-o", "json"]).ok();
    assert_eq!(run.json()["serverVersion"]["minor"], "33");
}

#[test]
fn get_namespaces_lists_the_initial_ones() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    let run = k.run(&["get", "namespaces", "-o", "name"]).ok();
    let names: Vec<&str> = run.stdout.lines().collect();
    for ns in ["namespace/default", "namespace/kube-system", "namespace/rook-ceph"] {
        assert!(names.contains(&ns), "{ns} missing from {names:?}");
    }
    let run = k.run(&["get", "namespaces"]).ok();
    let header = run.stdout.lines().next().unwrap_or_default();
    assert!(header.starts_with("NAME"), "{}", run.stdout);
    for ns in ["default", "kube-system", "rook-ceph"] {
        assert!(run.stdout.lines().any(|l| l.split_whitespace().next() == Some(ns)), "{ns} missing:\n{}", run.stdout);
    }
}

#[test]
fn get_a_namespaced_kind_and_a_custom_kind() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let file = k.manifest("cm.yaml", &configmap_yaml("shop", "settings", "hello"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let cm = k.run(&["get", "configmap", "settings", "-n", "shop", "-o", "json"]).ok().json();
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["data"]["greeting"], "hello");
    let run = k.run(&["get", "configmaps", "-n", "shop"]).ok();
    assert!(run.stdout.lines().any(|l| l.split_whitespace().next() == Some("settings")), "{}", run.stdout);

    let pool = k.manifest(
        "pool.yaml",
        "apiVersion: ceph.rook.io/v1
kind: CephBlockPool
metadata:
  name: replicapool
  namespace: rook-ceph
spec:
  failureDomain: host
  replicated:
    size: 3
",
    );
    let run = k.run(&["apply", "--server-side", "-f", &pool]).ok();
    assert!(run.stdout.contains("cephblockpool.ceph.rook.io/replicapool serverside-applied"), "{}", run.stdout);
    let run = k.run(&["get", "cephblockpools", "-n", "rook-ceph"]).ok();
    assert!(run.stdout.lines().any(|l| l.split_whitespace().next() == Some("replicapool")), "{}", run.stdout);
    let pool = k.run(&["get", "cephblockpool", "replicapool", "-n", "rook-ceph", "-o", "json"]).ok().json();
    assert_eq!(pool["spec"]["replicated"]["size"], 3);
}

#[test]
fn server_side_apply_of_a_deployment_and_a_configmap() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let file = k.manifest("app.yaml", &format!("{}---\n{}", deployment_yaml("shop", 2, "nginx:1.26"), configmap_yaml("shop", "web", "hi")));
    let run = k.run(&["apply", "--server-side", "-f", &file]).ok();
    assert!(run.stdout.contains("deployment.apps/web serverside-applied"), "{}", run.stdout);
    assert!(run.stdout.contains("configmap/web serverside-applied"), "{}", run.stdout);
    let dep = sb.object("apps", "deployments", "shop", "web").expect("the deployment exists");
    assert_eq!(dep["spec"]["replicas"], 2);
    assert_eq!(dep["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.26");
    let cm = sb.object("", "configmaps", "shop", "web").expect("the configmap exists");
    assert_eq!(cm["data"]["greeting"], "hi");
    // kubectl's default manager for server-side apply is `kubectl`.
    let entry = managed_entry(&dep, "kubectl", "Apply").unwrap_or_else(|| panic!("no Apply entry for kubectl: {dep}"));
    assert!(owns(entry, &["f:spec", "f:replicas"]), "{entry}");
}

#[test]
fn server_side_apply_refuses_a_typo_naming_the_field() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let text = deployment_yaml("shop", 2, "nginx:1.26").replace("  replicas: 2", "  replica: 2");
    let file = k.manifest("typo.yaml", &text);
    let run = k.run(&["apply", "--server-side", "-f", &file]);
    assert_ne!(run.code, 0, "a typo'd field was accepted: {run:?}");
    assert!(run.stderr.contains("spec.replica"), "the error does not name the field: {}", run.stderr);
    assert!(sb.object("apps", "deployments", "shop", "web").is_none(), "the refused deployment was stored");
}

#[test]
fn a_second_manager_conflicts_until_it_forces() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let file = k.manifest("v1.yaml", &deployment_yaml("shop", 2, "nginx:1.26"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let file = k.manifest("v2.yaml", &deployment_yaml("shop", 5, "nginx:1.26"));
    let run = k.run(&["apply", "--server-side", "--field-manager=other", "-f", &file]);
    assert_ne!(run.code, 0, "the conflicting apply succeeded: {run:?}");
    assert!(run.stderr.contains("conflict"), "{}", run.stderr);
    assert!(run.stderr.contains(".spec.replicas"), "the conflict does not name the field: {}", run.stderr);
    assert!(run.stderr.contains("\"kubectl\""), "the conflict does not name the manager: {}", run.stderr);
    assert_eq!(sb.object("apps", "deployments", "shop", "web").unwrap()["spec"]["replicas"], 2);

    let run = k.run(&["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", &file]).ok();
    assert!(run.stdout.contains("deployment.apps/web serverside-applied"), "{}", run.stdout);
    let dep = k.run(&["get", "deployment", "web", "-n", "shop", "-o", "json", "--show-managed-fields"]).ok().json();
    assert_eq!(dep["spec"]["replicas"], 5);
    let other = managed_entry(&dep, "other", "Apply").unwrap_or_else(|| panic!("no Apply entry for other: {dep}"));
    assert!(owns(other, &["f:spec", "f:replicas"]), "{other}");
    let first = managed_entry(&dep, "kubectl", "Apply").unwrap_or_else(|| panic!("no Apply entry for kubectl: {dep}"));
    assert!(!owns(first, &["f:spec", "f:replicas"]), "kubectl still owns replicas: {first}");
    assert!(owns(first, &["f:spec", "f:template"]), "{first}");
}

#[test]
fn diff_server_side_shows_only_pending_changes() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let file = k.manifest("v1.yaml", &deployment_yaml("shop", 2, "nginx:1.26"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let before = sb.object("apps", "deployments", "shop", "web").unwrap();

    let run = k.run(&["diff", "--server-side", "-f", &file]);
    assert_eq!(run.code, 0, "an unchanged manifest shows a diff: {run:?}");
    assert_eq!(run.stdout.trim(), "", "{}", run.stdout);

    let edited = k.manifest("v2.yaml", &deployment_yaml("shop", 2, "nginx:1.27"));
    let run = k.run(&["diff", "--server-side", "-f", &edited]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.lines().any(|l| l.starts_with('-') && l.contains("image: nginx:1.26")), "{}", run.stdout);
    assert!(run.stdout.lines().any(|l| l.starts_with('+') && l.contains("image: nginx:1.27")), "{}", run.stdout);
    // The diff is a dry run: nothing changed.
    let after = sb.object("apps", "deployments", "shop", "web").unwrap();
    assert_eq!(after["spec"], before["spec"]);
    assert_eq!(after["metadata"]["generation"], before["metadata"]["generation"]);
}

#[test]
fn delete_of_a_configmap() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    let file = k.manifest("cm.yaml", &configmap_yaml("default", "doomed", "bye"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    assert!(sb.object("", "configmaps", "default", "doomed").is_some());
    let run = k.run(&["delete", "configmap", "doomed"]).ok();
    assert!(run.stdout.contains("configmap \"doomed\" deleted"), "{}", run.stdout);
    assert!(sb.object("", "configmaps", "default", "doomed").is_none());
    let run = k.run(&["get", "configmap", "doomed"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("NotFound") && run.stderr.contains("configmaps \"doomed\" not found"), "{}", run.stderr);
}

#[test]
fn delete_of_a_namespace_removes_its_objects() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "doomed");
    let file =
        k.manifest("app.yaml", &format!("{}---\n{}", deployment_yaml("doomed", 1, "nginx:1.26"), configmap_yaml("doomed", "cfg", "x")));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    sb.settle();
    assert!(sb.object("apps", "deployments", "doomed", "web").is_some());
    let run = k.run(&["delete", "namespace", "doomed", "--timeout=30s"]).ok();
    assert!(run.stdout.contains("namespace \"doomed\" deleted"), "{}", run.stdout);
    // kubectl waited for the namespace to go: it and everything in it are gone now.
    assert!(sb.object("", "namespaces", "", "doomed").is_none(), "the namespace is still there");
    assert!(sb.object("apps", "deployments", "doomed", "web").is_none());
    assert!(sb.object("", "configmaps", "doomed", "cfg").is_none());
    let (code, pods) = sb.call("GET", "/api/v1/namespaces/doomed/pods", None, None);
    assert_eq!(code, 200);
    assert_eq!(pods["items"], json!([]));
    let run = k.run(&["get", "namespace", "doomed"]);
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn a_label_selector_returns_exactly_the_matching_objects() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    for (name, labels) in
        [("a", json!({"app": "x"})), ("b", json!({"app": "x", "tier": "db"})), ("c", json!({"app": "y"})), ("d", json!({}))]
    {
        setup_apply(
            &sb,
            &format!("/api/v1/namespaces/shop/configmaps/{name}"),
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop", "labels": labels}}),
        );
    }
    let run = k.run(&["get", "configmaps", "-n", "shop", "-l", "app=x", "-o", "name"]).ok();
    let names: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(names, ["configmap/a", "configmap/b"]);
    let run = k.run(&["get", "configmaps", "-n", "shop", "-l", "app=x,tier!=db", "-o", "name"]).ok();
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), ["configmap/a"]);
    let run = k.run(&["get", "configmaps", "-n", "shop", "-l", "app in (x,y)", "-o", "name"]).ok();
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), ["configmap/a", "configmap/b", "configmap/c"]);
    let run = k.run(&["get", "configmaps", "-n", "shop", "-l", "app=z"]).ok();
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("No resources found in shop namespace."), "{}", run.stderr);
}

/// A Deployment with a sidecar and container ports, which `set image` (a strategic merge patch
/// keyed by container name) must keep.
fn two_container_deployment_yaml(ns: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.26
        ports:
        - containerPort: 80
          name: http
      - name: log
        image: busybox:1.36
        args: [tail, -f, /dev/null]
"
    )
}

#[test]
fn patch_and_set_image_change_the_object_and_record_update_owners() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let file = k.manifest("v1.yaml", &two_container_deployment_yaml("shop"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();

    let run = k
        .run(&[
            "patch",
            "deployment",
            "web",
            "-n",
            "shop",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":3},"metadata":{"annotations":{"team":"blue"}}}"#,
        ])
        .ok();
    assert!(run.stdout.contains("deployment.apps/web patched"), "{}", run.stdout);
    let run = k.run(&["set", "image", "deployment/web", "web=nginx:1.27", "-n", "shop"]).ok();
    assert!(run.stdout.contains("deployment.apps/web image updated"), "{}", run.stdout);
    assert!(!run.stderr.contains("unknown field"), "the strategic merge patch drew a warning: {}", run.stderr);

    let dep = k.run(&["get", "deployment", "web", "-n", "shop", "-o", "json", "--show-managed-fields"]).ok().json();
    assert_eq!(dep["metadata"]["annotations"]["team"], "blue");
    assert_eq!(dep["spec"]["replicas"], 3);
    let containers = dep["spec"]["template"]["spec"]["containers"].as_array().unwrap();
    let names: Vec<&str> = containers.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["web", "log"], "set image lost or reordered containers: {containers:?}");
    assert_eq!(containers[0]["image"], "nginx:1.27");
    assert_eq!(containers[0]["ports"][0]["containerPort"], 80, "set image dropped the ports: {containers:?}");
    assert_eq!(containers[1]["image"], "busybox:1.36");
    assert_eq!(containers[1]["args"], json!(["tail", "-f", "/dev/null"]));

    let patch = managed_entry(&dep, "kubectl-patch", "Update").unwrap_or_else(|| panic!("no Update entry for kubectl-patch: {dep}"));
    assert!(owns(patch, &["f:spec", "f:replicas"]), "{patch}");
    assert!(owns(patch, &["f:metadata", "f:annotations", "f:team"]), "{patch}");
    let set = managed_entry(&dep, "kubectl-set", "Update").unwrap_or_else(|| panic!("no Update entry for kubectl-set: {dep}"));
    assert!(owns(set, &["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"web\"}", "f:image"]), "{set}");
    assert!(!owns(set, &["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"log\"}"]), "{set}");
    // The applier no longer owns the fields the updates changed, and keeps the rest.
    let applier = managed_entry(&dep, "kubectl", "Apply").unwrap_or_else(|| panic!("no Apply entry for kubectl: {dep}"));
    assert!(!owns(applier, &["f:spec", "f:replicas"]), "{applier}");
    assert!(!owns(applier, &["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"web\"}", "f:image"]), "{applier}");
    assert!(owns(applier, &["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"log\"}", "f:image"]), "{applier}");
}

#[test]
fn rollout_status_and_wait_see_a_deployment_become_available() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let file = k.manifest("v1.yaml", &deployment_yaml("shop", 2, "nginx:1.26"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let run = k.run(&["rollout", "status", "deployment/web", "-n", "shop", "--timeout=20s"]).ok();
    assert!(run.stdout.contains("deployment \"web\" successfully rolled out"), "{}", run.stdout);
    let run = k.run(&["wait", "--for=condition=Available", "deployment/web", "-n", "shop", "--timeout=20s"]).ok();
    assert!(run.stdout.contains("deployment.apps/web condition met"), "{}", run.stdout);
    let run = k.run(&["get", "pods", "-n", "shop", "-l", "app=web", "-o", "name"]).ok();
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
}

/// kubectl sends `create` bodies of built-in kinds in protobuf
/// (`Content-Type: application/vnd.kubernetes.protobuf`), which kube-apiserver accepts.
#[test]
fn create_namespace_and_configmap() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    let run = k.run(&["create", "namespace", "made"]).ok();
    assert!(run.stdout.contains("namespace/made created"), "{}", run.stdout);
    assert!(sb.object("", "namespaces", "", "made").is_some());
    let run = k.run(&["create", "configmap", "cfg", "-n", "made", "--from-literal=a=b"]).ok();
    assert!(run.stdout.contains("configmap/cfg created"), "{}", run.stdout);
    assert_eq!(sb.object("", "configmaps", "made", "cfg").unwrap()["data"]["a"], "b");
}

/// What two creates of one object share: all but identity, times, allocations, managers and status.
fn comparable(mut obj: Value) -> Value {
    let uid = obj["metadata"]["uid"].as_str().unwrap_or_default().to_owned();
    let meta = obj["metadata"].as_object_mut().unwrap();
    for k in ["uid", "resourceVersion", "creationTimestamp", "namespace"] {
        meta.remove(k);
    }
    for entry in meta.get_mut("managedFields").and_then(Value::as_array_mut).into_iter().flatten() {
        let entry = entry.as_object_mut().unwrap();
        entry.remove("time");
        entry.remove("manager");
    }
    obj.as_object_mut().unwrap().remove("status");
    if let Some(spec) = obj["spec"].as_object_mut() {
        for k in ["clusterIP", "clusterIPs", "nodeName"] {
            spec.remove(k);
        }
    }
    // A Job's selector and template carry its uid.
    serde_json::from_str(&obj.to_string().replace(&uid, "UID")).unwrap()
}

/// `kubectl create <kind>`, `expose` and `run` send protobuf; each object reads back with
/// `get -o json` as the same command's JSON (`--dry-run=client -o json`, then `create -f`) does.
#[test]
fn generators_store_what_their_json_would() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "pb");
    setup_namespace(&sb, "js");
    let cases: &[(&[&str], &str)] = &[
        (&["create", "configmap", "cfg", "--from-literal=a=b", "--from-literal=empty="], "configmap/cfg"),
        (&["create", "secret", "generic", "creds", "--from-literal=password=s3cret"], "secret/creds"),
        (&["create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80"], "deployment/web"),
        (&["create", "job", "once", "--image=busybox:1.36", "--", "date"], "job/once"),
        (&["create", "service", "clusterip", "front", "--tcp=80:8080"], "service/front"),
        (&["expose", "deployment", "web", "--port=80", "--target-port=8080", "--name=web-svc"], "service/web-svc"),
        (&["run", "one", "--image=nginx:1.27", "--labels=app=one", "--restart=Never"], "pod/one"),
    ];
    for (args, object) in cases {
        // Flags first: what follows `--` is the Job's command.
        let run = k.run(&[&["-n", "pb"], *args].concat()).ok();
        assert!(run.stdout.contains(object.split('/').nth(1).unwrap()), "{args:?}: {}", run.stdout);
        let json = k.run(&[&["-n", "js", "--dry-run=client", "-o", "json"], *args].concat()).ok();
        let file = k.manifest("object.json", &json.stdout);
        k.run(&["create", "-f", &file, "-n", "js"]).ok();
    }
    sb.settle();
    for (args, object) in cases {
        let pb = k.run(&["get", object, "-n", "pb", "-o", "json"]).ok().json();
        let js = k.run(&["get", object, "-n", "js", "-o", "json"]).ok().json();
        assert_eq!(comparable(pb), comparable(js), "{args:?}");
    }
    // A namespace is cluster-scoped: two names, compared with the name set aside.
    k.run(&["create", "namespace", "made-pb"]).ok();
    let json = k.run(&["create", "namespace", "made-js", "--dry-run=client", "-o", "json"]).ok();
    k.run(&["create", "-f", &k.manifest("namespace.json", &json.stdout)]).ok();
    let namespace = |name: &str| {
        let got = k.run(&["get", "namespace", name, "-o", "json"]).ok().json();
        serde_json::from_str::<Value>(&comparable(got).to_string().replace(name, "NAME")).unwrap()
    };
    assert_eq!(namespace("made-pb"), namespace("made-js"));
    let secret = sb.object("", "secrets", "pb", "creds").unwrap();
    assert_eq!(secret["data"]["password"], "czNjcmV0", "{secret}");
    let deployment = sb.object("apps", "deployments", "pb", "web").unwrap();
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"], 80);
    let service = sb.object("", "services", "pb", "web-svc").unwrap();
    assert_eq!(service["spec"]["ports"][0]["targetPort"], 8080, "{service}");
}

/// `kubectl logs`, `exec`, `port-forward` and `top` are told the sandbox runs no containers.
#[test]
fn container_commands_say_the_sandbox_runs_no_containers() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    // A long-running pod (kubectl refuses `exec` into one that has completed).
    k.run(&["run", "one", "--image=nginx:1.27"]).ok();
    for args in [
        &["logs", "one"][..],
        &["exec", "one", "--", "date"],
        &["port-forward", "pod/one", "18080:80"],
        &["attach", "one"],
        &["top", "pod"],
        &["top", "node"],
    ] {
        let run = k.run(args);
        assert_ne!(run.code, 0, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("the cairn sandbox runs no containers") && run.stderr.contains("docs/sandbox.md"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn scale_changes_the_replicas() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let file = k.manifest("v1.yaml", &deployment_yaml("shop", 1, "nginx:1.26"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let run = k.run(&["scale", "deployment", "web", "-n", "shop", "--replicas=3"]).ok();
    assert!(run.stdout.contains("deployment.apps/web scaled"), "{}", run.stdout);
    assert_eq!(sb.object("apps", "deployments", "shop", "web").unwrap()["spec"]["replicas"], 3);
}

#[test]
fn get_events_prints_the_object_and_reason_of_a_failed_pull() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let file = k.manifest("bad.yaml", &deployment_yaml("shop", 1, "ghcr.io/acme/doesnotexist:1"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    sb.settle();
    let run = k.run(&["get", "events", "-n", "shop"]).ok();
    let header: Vec<&str> = run.stdout.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], "{}", run.stdout);
    assert!(run.stdout.lines().any(|l| l.contains("Warning") && l.contains("BackOff") && l.contains("pod/web-")), "{}", run.stdout);
    let run = k.run(&["get", "pods", "-n", "shop"]).ok();
    assert!(run.stdout.contains("ImagePullBackOff"), "{}", run.stdout);
}

/// Under `CI=true`, a kubectl test fails where kubectl is missing, naming it.
#[test]
fn under_ci_the_kubectl_tests_fail_without_kubectl() {
    let (ok, out) = ci::rerun("version_reports_a_1_33_server", Some("true"), true);
    assert!(!ok && out.contains("kubectl is not installed and CI=true"), "{out}");
}

/// Text with every run of whitespace made one space (describe aligns its columns).
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn get_and_describe_nodes() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    let run = k.run(&["get", "nodes"]).ok();
    let header: Vec<&str> = run.stdout.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], "{}", run.stdout);
    for node in ["sandbox-node-1", "sandbox-node-2", "sandbox-node-3"] {
        let line =
            run.stdout.lines().find(|l| l.split_whitespace().next() == Some(node)).unwrap_or_else(|| panic!("{node}:\n{}", run.stdout));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!((cells[1], cells[2], cells[4]), ("Ready", "<none>", "v1.33.0"), "{line}");
    }
    let run = k.run(&["describe", "node", "sandbox-node-1"]).ok();
    let text = squash(&run.stdout);
    for expected in ["Name: sandbox-node-1", "kubernetes.io/hostname=sandbox-node-1", "KubeletReady", "InternalIP: 172.18.0.2"] {
        assert!(text.contains(expected), "{expected} missing:\n{}", run.stdout);
    }
}

fn job_yaml(ns: &str, image: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: Job
metadata:
  name: report
  namespace: {ns}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: report
        image: {image}
"
    )
}

#[test]
fn wait_for_a_job_to_complete_then_get_and_describe_it() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "batch");
    let file = k.manifest("job.yaml", &job_yaml("batch", "busybox:1.36"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let run = k.run(&["wait", "--for=condition=complete", "job/report", "-n", "batch", "--timeout=20s"]).ok();
    assert!(run.stdout.contains("job.batch/report condition met"), "{}", run.stdout);
    let run = k.run(&["get", "jobs", "-n", "batch"]).ok();
    let header: Vec<&str> = run.stdout.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], "{}", run.stdout);
    let cells: Vec<&str> = run.stdout.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!((cells[0], cells[1], cells[2]), ("report", "Complete", "1/1"), "{}", run.stdout);
    let run = k.run(&["get", "pods", "-n", "batch"]).ok();
    assert!(run.stdout.lines().any(|l| l.starts_with("report-") && l.contains("Completed")), "{}", run.stdout);
    let run = k.run(&["describe", "job", "report", "-n", "batch"]).ok();
    let text = squash(&run.stdout);
    for expected in ["Completions: 1", "Pods Statuses: 0 Active (0 Ready) / 1 Succeeded / 0 Failed", "SuccessfulCreate", "Job completed"] {
        assert!(text.contains(expected), "{expected} missing:\n{}", run.stdout);
    }
}

#[test]
fn wait_for_a_failing_job_sees_it_fail() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "batch");
    let text = job_yaml("batch", "busybox:1.36").replace(
        "spec:\n  template:\n",
        "spec:\n  backoffLimit: 1\n  template:\n    metadata:\n      annotations:\n        sandbox.cairn.dev/crash: \"true\"\n",
    );
    let file = k.manifest("job.yaml", &text);
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let run = k.run(&["wait", "--for=condition=failed", "job/report", "-n", "batch", "--timeout=20s"]).ok();
    assert!(run.stdout.contains("job.batch/report condition met"), "{}", run.stdout);
    let run = k.run(&["get", "events", "-n", "batch"]).ok();
    assert!(
        run.stdout.lines().any(|l| l.contains("Warning") && l.contains("BackoffLimitExceeded") && l.contains("job/report")),
        "{}",
        run.stdout
    );
}

fn daemon_set_yaml(image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: infra
spec:
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
    spec:
      containers:
      - name: agent
        image: {image}
"
    )
}

#[test]
fn rollout_status_of_a_daemon_set_then_get_and_describe_it() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "infra");
    let file = k.manifest("ds.yaml", &daemon_set_yaml("agent:1"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let run = k.run(&["rollout", "status", "daemonset/agent", "-n", "infra", "--timeout=20s"]).ok();
    assert!(run.stdout.contains("daemon set \"agent\" successfully rolled out"), "{}", run.stdout);
    let run = k.run(&["get", "daemonsets", "-n", "infra"]).ok();
    let header: Vec<&str> = run.stdout.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"], "{}", run.stdout);
    let cells: Vec<&str> = run.stdout.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(&cells[..7], ["agent", "3", "3", "3", "3", "3", "<none>"], "{}", run.stdout);
    let run = k.run(&["describe", "daemonset", "agent", "-n", "infra"]).ok();
    let text = squash(&run.stdout);
    for expected in
        ["Desired Number of Nodes Scheduled: 3", "Pods Status: 3 Running / 0 Waiting / 0 Succeeded / 0 Failed", "SuccessfulCreate"]
    {
        assert!(text.contains(expected), "{expected} missing:\n{}", run.stdout);
    }
    let run = k.run(&["get", "pods", "-n", "infra", "-o", "wide"]).ok();
    for node in ["sandbox-node-1", "sandbox-node-2", "sandbox-node-3"] {
        assert!(run.stdout.contains(node), "{node} missing:\n{}", run.stdout);
    }
    let run = k.run(&["rollout", "history", "daemonset/agent", "-n", "infra"]).ok();
    assert!(run.stdout.lines().any(|l| l.split_whitespace().next() == Some("1")), "{}", run.stdout);
}

#[test]
fn a_deployment_without_security_context_in_a_restricted_namespace_gets_no_pods() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    let ns = k.manifest(
        "ns.yaml",
        "apiVersion: v1
kind: Namespace
metadata:
  name: secure
  labels:
    pod-security.kubernetes.io/enforce: restricted
",
    );
    k.run(&["apply", "--server-side", "-f", &ns]).ok();
    let file = k.manifest("web.yaml", &deployment_yaml("secure", 1, "nginx:1.27"));
    // The Deployment itself is admitted, with the plugin's warning.
    let run = k.run(&["apply", "--server-side", "-f", &file]).ok();
    assert!(
        run.stderr
            .contains("Warning: would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"web\""),
        "{}",
        run.stderr
    );
    sb.settle();
    let run = k.run(&["get", "pods", "-n", "secure", "-o", "name"]).ok();
    assert_eq!(run.stdout.trim(), "", "pods were admitted: {}", run.stdout);
    let run = k.run(&["get", "events", "-n", "secure"]).ok();
    assert!(
        run.stdout.lines().any(|l| l.contains("Warning")
            && l.contains("FailedCreate")
            && l.contains("replicaset/web-")
            && l.contains("violates PodSecurity \"restricted:latest\"")),
        "{}",
        run.stdout
    );
    // A pod applied directly is refused with the plugin's message.
    let pod = k.manifest(
        "pod.yaml",
        "apiVersion: v1
kind: Pod
metadata:
  name: x
  namespace: secure
spec:
  containers:
  - name: web
    image: nginx:1.27
",
    );
    let run = k.run(&["apply", "--server-side", "-f", &pod]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_cron_job_with_a_bad_schedule_is_refused() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "batch");
    let cron = |schedule: &str| {
        format!(
            "apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: batch
spec:
  schedule: \"{schedule}\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: busybox:1.36
"
        )
    };
    let run = k.run(&["apply", "--server-side", "-f", &k.manifest("bad.yaml", &cron("0 2 * *"))]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("spec.schedule: Invalid value: \"0 2 * *\": expected exactly 5 fields, found 4: [0 2 * *]"),
        "{}",
        run.stderr
    );
    k.run(&["apply", "--server-side", "-f", &k.manifest("good.yaml", &cron("0 2 * * *"))]).ok();
    let run = k.run(&["get", "cronjobs", "-n", "batch"]).ok();
    let header: Vec<&str> = run.stdout.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"], "{}", run.stdout);
    assert!(run.stdout.contains("0 2 * * *"), "{}", run.stdout);
}

/// The header and the row of `name` in a `kubectl get` table, split into columns.
fn table_row(stdout: &str, name: &str) -> (Vec<String>, Vec<String>) {
    let split = |l: &str| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect::<Vec<_>>();
    let header = split(stdout.lines().next().unwrap_or_default());
    let row =
        stdout.lines().find(|l| l.split_whitespace().next() == Some(name)).map(split).unwrap_or_else(|| panic!("no row {name}:\n{stdout}"));
    (header, row)
}

#[test]
fn autoscale_scales_the_deployment_to_min_and_get_hpa_prints_its_columns() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    let file = k.manifest("web.yaml", &deployment_yaml("default", 1, "nginx:1.27"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    k.run(&["autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=80"]).ok();
    let dep = wait_for("the autoscaler to scale web to 2", std::time::Duration::from_secs(10), || {
        let dep = k.run(&["get", "deployment", "web", "-o", "json", "--show-managed-fields"]).ok().json();
        (dep["spec"]["replicas"] == 2).then_some(dep)
    });
    let entry =
        dep["metadata"]["managedFields"].as_array().unwrap().iter().find(|e| e["subresource"] == "scale").cloned().unwrap_or_default();
    assert_eq!((entry["manager"].as_str(), entry["operation"].as_str()), (Some("kube-controller-manager"), Some("Update")), "{dep}");
    assert!(owns(&entry, &["f:spec", "f:replicas"]), "{entry}");
    let run = wait_for("the autoscaler's status", std::time::Duration::from_secs(10), || {
        let run = k.run(&["get", "hpa", "web"]).ok();
        run.stdout.contains("cpu: 0%/80%").then_some(run)
    });
    let (header, row) = table_row(&run.stdout, "web");
    assert_eq!(header, ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"], "{}", run.stdout);
    assert_eq!(&row[1..6], ["Deployment/web", "cpu: 0%/80%", "2", "5", "2"], "{}", run.stdout);
}

fn pdb_yaml(min_available: u32) -> String {
    format!(
        "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: default
spec:
  minAvailable: {min_available}
  selector:
    matchLabels:
      app: web
"
    )
}

/// The node a pod of `web` runs on.
fn node_of_web(sb: &Sandbox) -> String {
    let (_, pods) = sb.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", None, None);
    pods["items"][0]["spec"]["nodeName"].as_str().unwrap_or_else(|| panic!("no scheduled pod: {pods}")).to_owned()
}

#[test]
fn drain_is_refused_by_a_budget_and_goes_through_when_it_allows() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    let file = k.manifest("web.yaml", &deployment_yaml("default", 2, "nginx:1.27"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let budget = k.manifest("pdb.yaml", &pdb_yaml(2));
    k.run(&["apply", "--server-side", "-f", &budget]).ok();
    sb.settle();
    let run = k.run(&["get", "pdb", "web"]).ok();
    let (header, row) = table_row(&run.stdout, "web");
    assert_eq!(header, ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"], "{}", run.stdout);
    assert_eq!(&row[1..4], ["2", "N/A", "0"], "{}", run.stdout);

    let node = node_of_web(&sb);
    let run = k.run(&["drain", &node, "--ignore-daemonsets", "--timeout=7s"]);
    assert_ne!(run.code, 0, "drain must fail while the budget allows nothing:\n{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."),
        "{}",
        run.stderr
    );
    k.run(&["uncordon", &node]).ok();

    let budget = k.manifest("pdb.yaml", &pdb_yaml(1));
    k.run(&["apply", "--server-side", "-f", &budget]).ok();
    sb.settle();
    let node = node_of_web(&sb);
    let run = k.run(&["drain", &node, "--ignore-daemonsets", "--timeout=20s"]).ok();
    assert!(run.stdout.contains("evicted") && run.stdout.contains("drained"), "{}\n{}", run.stdout, run.stderr);
    sb.settle();
    let (_, pods) = sb.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", None, None);
    let nodes: Vec<&str> = pods["items"].as_array().unwrap().iter().filter_map(|p| p["spec"]["nodeName"].as_str()).collect();
    assert_eq!(nodes.len(), 2, "{pods}");
    assert!(!nodes.contains(&node.as_str()), "no pod comes back to the cordoned node: {nodes:?}");
}

#[test]
fn get_ingress_prints_class_hosts_address_and_ports() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    let file = k.manifest(
        "ing.yaml",
        "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: default
spec:
  ingressClassName: nginx
  tls:
  - hosts: [shop.example.com]
    secretName: shop-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
",
    );
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let run = k.run(&["get", "ingress", "web"]).ok();
    let (header, row) = table_row(&run.stdout, "web");
    assert_eq!(header, ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], "{}", run.stdout);
    // No address: nothing serves the class (the sandbox records why as an event).
    assert_eq!(&row[1..3], ["nginx", "shop.example.com"], "{}", run.stdout);
    assert_eq!(row[3], "80, 443", "{}", run.stdout);
    let bad = k.manifest("bad.yaml", &std::fs::read_to_string(&file).unwrap().replace("        pathType: Prefix\n", ""));
    let run = k.run(&["apply", "--server-side", "-f", &bad]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"), "{}", run.stderr);
}

/// The revision numbers `kubectl rollout history` lists.
fn history_revisions(stdout: &str) -> Vec<String> {
    stdout.lines().filter_map(|l| l.split_whitespace().next()).filter(|w| w.parse::<u32>().is_ok()).map(str::to_owned).collect()
}

/// The images and readiness of the pods a label selects, as `kubectl get pods -o json` shows them.
fn pod_images(k: &Kubectl, ns: &str, selector: &str) -> Vec<(String, bool)> {
    let run = k.run(&["get", "pods", "-n", ns, "-l", selector, "-o", "json"]).ok();
    let mut out: Vec<(String, bool)> = run.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let ready = p["status"]["conditions"].as_array().unwrap().iter().any(|c| c["type"] == "Ready" && c["status"] == "True");
            (p["spec"]["containers"][0]["image"].as_str().unwrap().to_owned(), ready)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn rollout_history_and_undo_of_a_deployment_after_a_failed_rollout() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    for (i, image) in ["nginx:1.25", "nginx:1.26", "nginx:doesnotexist"].iter().enumerate() {
        let file = k.manifest(&format!("v{i}.yaml"), &deployment_yaml("shop", 3, image));
        k.run(&["apply", "--server-side", "-f", &file]).ok();
        sb.settle();
    }
    // The failed rollout left the old pods serving.
    let images = pod_images(&k, "shop", "app=web");
    assert_eq!(images.iter().filter(|(i, ready)| i == "nginx:1.26" && *ready).count(), 3, "{images:?}");
    let run = k.run(&["rollout", "history", "deployment/web", "-n", "shop"]).ok();
    assert!(run.stdout.contains("REVISION  CHANGE-CAUSE"), "{}", run.stdout);
    assert_eq!(history_revisions(&run.stdout), ["1", "2", "3"], "{}", run.stdout);

    let run = k.run(&["rollout", "undo", "deployment/web", "-n", "shop"]).ok();
    assert!(run.stdout.contains("deployment.apps/web rolled back"), "{}", run.stdout);
    sb.settle();
    let run = k.run(&["rollout", "status", "deployment/web", "-n", "shop", "--timeout=20s"]).ok();
    assert!(run.stdout.contains("successfully rolled out"), "{}", run.stdout);
    assert_eq!(pod_images(&k, "shop", "app=web"), vec![("nginx:1.26".to_owned(), true); 3]);
    let run = k.run(&["rollout", "history", "deployment/web", "-n", "shop"]).ok();
    assert_eq!(history_revisions(&run.stdout), ["1", "3", "4"], "{}", run.stdout);

    let run = k.run(&["rollout", "undo", "deployment/web", "-n", "shop", "--to-revision=1"]).ok();
    assert!(run.stdout.contains("deployment.apps/web rolled back"), "{}", run.stdout);
    sb.settle();
    k.run(&["rollout", "status", "deployment/web", "-n", "shop", "--timeout=20s"]).ok();
    assert_eq!(pod_images(&k, "shop", "app=web"), vec![("nginx:1.25".to_owned(), true); 3]);
    let run = k.run(&["rollout", "history", "deployment/web", "-n", "shop"]).ok();
    assert_eq!(history_revisions(&run.stdout), ["3", "4", "5"], "{}", run.stdout);
    let dep = sb.object("apps", "deployments", "shop", "web").unwrap();
    assert_eq!(dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "5");
}

#[test]
fn rollout_status_of_a_stalled_deployment_reports_the_exceeded_deadline() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    let yaml = deployment_yaml("shop", 2, "nginx:1.26").replace("spec:\n  replicas", "spec:\n  progressDeadlineSeconds: 1\n  replicas");
    let file = k.manifest("v1.yaml", &yaml);
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    sb.settle();
    let file = k.manifest("v2.yaml", &yaml.replace("nginx:1.26", "nginx:doesnotexist"));
    k.run(&["apply", "--server-side", "-f", &file]).ok();
    let run = k.run(&["rollout", "status", "deployment/web", "-n", "shop", "--timeout=20s"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("deployment \"web\" exceeded its progress deadline"), "{}", run.stderr);
}

fn stateful_set_yaml(image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  replicas: 3
  serviceName: db
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
      - name: db
        image: {image}
"
    )
}

#[test]
fn rollout_undo_of_a_stateful_set_needs_the_broken_pod_deleted_as_in_kubernetes() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "shop");
    for (i, image) in ["postgres:16", "postgres:doesnotexist"].iter().enumerate() {
        let file = k.manifest(&format!("v{i}.yaml"), &stateful_set_yaml(image));
        k.run(&["apply", "--server-side", "-f", &file]).ok();
        sb.settle();
    }
    let images = pod_images(&k, "shop", "app=db");
    assert_eq!(images, [("postgres:16".to_owned(), true), ("postgres:16".to_owned(), true), ("postgres:doesnotexist".to_owned(), false)]);
    let run = k.run(&["rollout", "history", "statefulset/db", "-n", "shop"]).ok();
    assert_eq!(history_revisions(&run.stdout), ["1", "2"], "{}", run.stdout);
    let run = k.run(&["rollout", "undo", "statefulset/db", "-n", "shop"]).ok();
    assert!(run.stdout.contains("statefulset.apps/db rolled back"), "{}", run.stdout);
    sb.settle();
    // OrderedReady waits for the broken db-2 even now (kubernetes/kubernetes#67250).
    assert_eq!(sb.object("", "pods", "shop", "db-2").unwrap()["spec"]["containers"][0]["image"], "postgres:doesnotexist");
    k.run(&["delete", "pod", "db-2", "-n", "shop"]).ok();
    sb.settle();
    let run = k.run(&["rollout", "status", "statefulset/db", "-n", "shop", "--timeout=20s"]).ok();
    // The defaulted `partition: 0` makes kubectl report a partitioned roll out.
    assert!(run.stdout.contains("partitioned roll out complete: 3 new pods have been updated"), "{}", run.stdout);
    assert_eq!(pod_images(&k, "shop", "app=db"), vec![("postgres:16".to_owned(), true); 3]);
    let run = k.run(&["rollout", "history", "statefulset/db", "-n", "shop"]).ok();
    assert_eq!(history_revisions(&run.stdout), ["2", "3"], "{}", run.stdout);
}

#[test]
fn rollout_undo_of_a_daemon_set_after_a_failed_rollout() {
    let sb = sandbox();
    let Some(k) = kubectl(&sb) else { return };
    setup_namespace(&sb, "infra");
    for (i, image) in ["agent:1", "agent:doesnotexist"].iter().enumerate() {
        let file = k.manifest(&format!("v{i}.yaml"), &daemon_set_yaml(image));
        k.run(&["apply", "--server-side", "-f", &file]).ok();
        sb.settle();
    }
    let images = pod_images(&k, "infra", "app=agent");
    assert_eq!(images.iter().filter(|(i, ready)| i == "agent:1" && *ready).count(), 2, "{images:?}");
    let run = k.run(&["rollout", "undo", "daemonset/agent", "-n", "infra"]).ok();
    assert!(run.stdout.contains("daemonset.apps/agent rolled back"), "{}", run.stdout);
    sb.settle();
    k.run(&["rollout", "status", "daemonset/agent", "-n", "infra", "--timeout=20s"]).ok();
    assert_eq!(pod_images(&k, "infra", "app=agent"), vec![("agent:1".to_owned(), true); 3]);
    let run = k.run(&["rollout", "history", "daemonset/agent", "-n", "infra"]).ok();
    assert_eq!(history_revisions(&run.stdout), ["2", "3"], "{}", run.stdout);
}
