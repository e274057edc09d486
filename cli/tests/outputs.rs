//! The `cairn` binary's outputs (LANGUAGE.md §8, §9; DESIGN.md §3): the examples check clean
//! and render without any environment; render is pure, deterministic, YAML 1.1-safe YAML in
//! dependency order; secrets never reach any output unless revealed; `render -o` and `graph`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// Runs `cairn ARGS` with no environment but PATH and HOME (plus `env`), color off.
fn cairn(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.env_clear();
    for keep in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.arg("--color").arg("never").args(args);
    cmd.output().expect("cairn runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

fn show(o: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}\n--- stderr\n{}", o.status.code(), stdout(o), stderr(o))
}

/// Asserts exit 0 and returns stdout.
fn success(args: &[&str], env: &[(&str, &str)]) -> String {
    let o = cairn(args, env);
    assert!(o.status.success(), "cairn {args:?} failed:\n{}", show(&o));
    stdout(&o)
}

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut dirs: Vec<PathBuf> =
        fs::read_dir(&root).expect("examples/").filter_map(Result::ok).map(|e| e.path()).filter(|p| is_stack(p)).collect();
    dirs.sort();
    assert!(dirs.iter().any(|d| d.ends_with("shop")) && dirs.iter().any(|d| d.ends_with("analytics")), "{dirs:?}");
    dirs
}

/// Parses a YAML stream into documents.
fn documents(yaml: &str) -> Vec<Yaml> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("invalid YAML ({e}):\n{yaml}")))
        .collect()
}

fn s<'a>(v: &'a Yaml, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str()
}

/// `Kind/namespace/name` or `Kind/name`, as `cairn graph` names objects.
fn id(doc: &Yaml) -> String {
    let kind = s(doc, &["kind"]).unwrap_or_default();
    let name = s(doc, &["metadata", "name"]).unwrap_or_default();
    match s(doc, &["metadata", "namespace"]) {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// Kinds that are not namespaced among those cairn produces.
const CLUSTER_SCOPED: [&str; 7] =
    ["Namespace", "StorageClass", "CephPool", "CephFs", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"];

/// Checks the shape every rendered document must have.
fn assert_well_formed(doc: &Yaml) {
    let kind = s(doc, &["kind"]).unwrap_or_else(|| panic!("no kind: {doc:?}"));
    assert!(s(doc, &["apiVersion"]).is_some_and(|v| !v.is_empty()), "no apiVersion: {doc:?}");
    assert!(s(doc, &["metadata", "name"]).is_some_and(|v| !v.is_empty()), "no metadata.name: {doc:?}");
    let ns = s(doc, &["metadata", "namespace"]);
    if CLUSTER_SCOPED.contains(&kind) {
        assert!(ns.is_none(), "{kind} is cluster-scoped but has a namespace");
    } else {
        assert!(ns.is_some_and(|v| !v.is_empty()), "{kind} {:?} has no metadata.namespace", s(doc, &["metadata", "name"]));
    }
    assert_eq!(s(doc, &["metadata", "labels", "app.kubernetes.io/managed-by"]), Some("cairn"));
    assert!(s(doc, &["metadata", "labels", "cairn.dev/stack"]).is_some());
    assert!(s(doc, &["metadata", "annotations", "cairn.dev/address"]).is_some());
}

/// A stack in a fresh temporary directory `…/NAME` (a valid stack name).
struct Stack {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Stack {
    fn new(name: &str, files: &[(&str, &str)]) -> Stack {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let dir = tmp.path().join(name);
        for (path, text) in files {
            let p = dir.join(path);
            fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
            fs::write(p, text).expect("write");
        }
        Stack { _tmp: tmp, dir }
    }

    fn path(&self) -> &str {
        self.dir.to_str().expect("a UTF-8 path")
    }
}

// ---------------------------------------------------------------------------------------------
// The examples

#[test]
fn examples_check_with_no_diagnostics() {
    for dir in examples() {
        let d = dir.to_str().unwrap();
        let json = success(&["check", d, "--format", "json"], &[]);
        let v: Json = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{d}: invalid JSON ({e}): {json}"));
        assert_eq!(v, serde_json::json!({"diagnostics": []}), "{d}");
        let o = cairn(&["check", d], &[]);
        assert!(o.status.success(), "{}", show(&o));
        assert!(stdout(&o).is_empty(), "check prints its report on stderr:\n{}", show(&o));
        let err = stderr(&o);
        assert!(!err.contains("warning") && !err.contains("error"), "{d}:\n{err}");
        assert!(err.contains(" ok: "), "{err}");
    }
}

#[test]
fn examples_render_without_environment() {
    for dir in examples() {
        let d = dir.to_str().unwrap();
        let o = cairn(&["render", d], &[]);
        assert!(o.status.success(), "{d}:\n{}", show(&o));
        assert!(stderr(&o).is_empty(), "{d}: nothing but diagnostics on stderr, and there are none:\n{}", show(&o));
        let yaml = stdout(&o);
        let docs = documents(&yaml);
        assert!(!docs.is_empty(), "{d}");
        for doc in &docs {
            assert_well_formed(doc);
        }
        // Every object once.
        let ids: BTreeSet<String> = docs.iter().map(id).collect();
        assert_eq!(ids.len(), docs.len(), "{d}: duplicate objects");
    }
}

#[test]
fn examples_render_in_dependency_order() {
    let shop = examples().into_iter().find(|d| d.ends_with("shop")).unwrap();
    let docs = documents(&success(&["render", shop.to_str().unwrap()], &[]));
    let ids: Vec<String> = docs.iter().map(id).collect();
    let at = |id: &str| ids.iter().position(|x| x == id).unwrap_or_else(|| panic!("no {id} in {ids:?}"));
    for obj in &ids[1..] {
        if obj.contains("/shop/") {
            assert!(at("Namespace/shop") < at(obj), "{obj}");
        }
    }
    assert!(at("CephBlockPool/rook-ceph/shop-block") < at("StorageClass/shop-block"));
    assert!(at("StorageClass/shop-block") < at("StatefulSet/shop/db"));
    assert!(at("Secret/shop/db-credentials") < at("StatefulSet/shop/db"));
    assert!(at("Secret/shop/db-credentials") < at("Deployment/shop/web"));
    assert!(at("ConfigMap/shop/app") < at("Deployment/shop/web"));
    for w in ["StatefulSet/shop/db", "Deployment/shop/web"] {
        assert!(at("ResourceQuota/shop/shop-quota") < at(w));
        assert!(at("LimitRange/shop/shop-limits") < at(w));
    }
    assert!(at("Service/shop/db-hl") < at("StatefulSet/shop/db"));
}

// ---------------------------------------------------------------------------------------------
// stdout is YAML only; diagnostics go to stderr

#[test]
fn render_prints_only_yaml_on_stdout_and_diagnostics_on_stderr() {
    // An image without a tag and a workload without memory: two warnings.
    let st = Stack::new(
        "warned",
        &[("main.cairn", "namespace \"shop\" {}\nworkload \"web\" {\n  namespace = namespace.shop\n  image = \"acme/web\"\n}\n")],
    );
    let o = cairn(&["render", st.path()], &[]);
    assert!(o.status.success(), "{}", show(&o));
    let out = stdout(&o);
    let docs = documents(&out);
    assert_eq!(docs.iter().map(id).collect::<Vec<_>>(), ["Namespace/shop", "Deployment/shop/web"]);
    assert!(out.starts_with("apiVersion: "), "{out}");
    assert!(!out.contains("warning"), "{out}");
    let err = stderr(&o);
    assert!(err.contains("warning") && err.contains("0 errors, 2 warnings"), "{err}");

    // An error: nothing on stdout, exit 1.
    let st = Stack::new("broken", &[("main.cairn", "namespace \"shop\" { lables = {} }\n")]);
    let o = cairn(&["render", st.path()], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stdout(&o).is_empty(), "{}", show(&o));
    assert!(stderr(&o).contains("lables"), "{}", show(&o));

    // render needs every env() set: the error names the variable.
    let st = Stack::new("needs-env", &[("main.cairn", "namespace \"shop\" { labels = { region = env(\"CAIRN_TEST_REGION\") } }\n")]);
    let o = cairn(&["render", st.path()], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("CAIRN_TEST_REGION"), "{}", show(&o));
    let out = success(&["render", st.path()], &[("CAIRN_TEST_REGION", "eu-west")]);
    assert!(out.contains("    region: eu-west\n"), "{out}");
    // check treats it as unknown: a warning naming it, exit 0.
    let o = cairn(&["check", st.path(), "--format", "json"], &[]);
    assert!(o.status.success(), "{}", show(&o));
    let v: Json = serde_json::from_str(&stdout(&o)).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{v}");
    assert_eq!(diags[0]["severity"], "warning");
    assert!(diags[0]["message"].as_str().unwrap().contains("CAIRN_TEST_REGION"));
}

#[test]
fn check_json_follows_the_documented_format() {
    let st = Stack::new(
        "diag",
        &[
            ("b.cairn", "namespace \"shop\" {\n  lables = {}\n}\n"),
            ("a.cairn", "workload \"web\" {\n  namespace = namespace.shop\n  image = \"acme/web:latest\"\n  résumé = 1\n  resources { memory = 1Gi }\n}\n"),
        ],
    );
    let o = cairn(&["check", st.path(), "--format", "json"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: Json = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", show(&o)));
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(diags.len() >= 3, "{v}");
    for d in diags {
        let keys: BTreeSet<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["severity", "code", "message", "file", "line", "column", "help", "labels"]), "{d}");
        assert!(["error", "warning", "info"].contains(&d["severity"].as_str().unwrap()));
        let code = d["code"].as_str().unwrap();
        assert!(code.len() == 5 && (code.starts_with('E') || code.starts_with('W')), "{code}");
        assert!(d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1);
        assert!(d["help"].is_null() || d["help"].is_string());
    }
    // Sorted by file, line, column; files relative to the stack directory.
    let keys: Vec<(String, u64, u64)> = diags
        .iter()
        .map(|d| (d["file"].as_str().unwrap().to_string(), d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.iter().all(|(f, _, _)| f == "a.cairn" || f == "b.cairn"), "{keys:?}");
    let find =
        |text: &str| diags.iter().find(|d| d["message"].as_str().unwrap().contains(text)).unwrap_or_else(|| panic!("no `{text}` in {v}"));
    let lables = find("lables");
    assert_eq!((lables["file"].as_str(), lables["line"].as_u64(), lables["column"].as_u64()), (Some("b.cairn"), Some(2), Some(3)));
    assert_eq!(lables["severity"], "error");
    // Columns count Unicode characters: in `  résumé = 1` the second `é` is column 8 (byte 10).
    let accents: Vec<(u64, u64)> = diags
        .iter()
        .filter(|d| d["message"] == "unexpected character `é`")
        .map(|d| (d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()))
        .collect();
    assert_eq!(accents, [(4, 4), (4, 8)], "{v}");
    assert_eq!(find(":latest")["severity"], "warning");
}

// ---------------------------------------------------------------------------------------------
// YAML 1.1-safe quoting

#[test]
fn render_quotes_strings_yaml_1_1_would_misread() {
    let words = [
        "y",
        "n",
        "yes",
        "No",
        "on",
        "OFF",
        "true",
        "null",
        "~",
        "1:30",
        "2024-01-01",
        "0x1F",
        "1e3",
        "012",
        "Y",
        "FALSE",
        "off",
        "NULL",
        "-1",
        "1.5",
        ".5",
        "+12",
        "0o17",
        "0b101",
        "1_000",
        "2024-01-01T10:00:00Z",
        "190:20:30",
        ".inf",
        "-.Inf",
        ".NaN",
        "",
    ];
    let entries: Vec<String> = words.iter().enumerate().map(|(i, w)| format!("    k{i:02} = \"{w}\"")).collect();
    let src = format!("config \"words\" {{\n  namespace = \"shop\"\n  data = {{\n{}\n  }}\n}}\n", entries.join("\n"));
    let st = Stack::new("quoting", &[("main.cairn", &src)]);
    let out = success(&["render", st.path()], &[]);
    for (i, w) in words.iter().enumerate() {
        assert!(out.contains(&format!("\n  k{i:02}: \"{w}\"\n")), "`{w}` is not double-quoted:\n{out}");
    }
    let docs = documents(&out);
    for (i, w) in words.iter().enumerate() {
        assert_eq!(docs[0]["data"][format!("k{i:02}").as_str()], Yaml::String(w.to_string()), "`{w}` does not read back as a string");
    }
    // Keys are quoted too when they need it.
    let st = Stack::new(
        "quoted-keys",
        &[("main.cairn", "config \"keys\" {\n  namespace = \"shop\"\n  data = { \"on\" = \"a\", \"1.0\" = \"b\", plain = \"c\" }\n}\n")],
    );
    let out = success(&["render", st.path()], &[]);
    assert!(out.contains("\n  \"1.0\": b\n") && out.contains("\n  \"on\": a\n") && out.contains("\n  plain: c\n"), "{out}");
    let docs = documents(&out);
    assert_eq!(docs[0]["data"]["on"], Yaml::String("a".into()));
}

// ---------------------------------------------------------------------------------------------
// Determinism and dependency order

const ORDERED: &str = r#"
workload "web" {
  namespace = namespace.shop
  image     = "acme/web:1.0"
  replicas  = 2
  ports     = { http = 8080 }
  env       = { DB_PASSWORD = secret.db.password }
  resources {
    cpu    = 100m
    memory = 128Mi
  }
  expose { port = 80, target = "http" }
}
workload "db" {
  namespace = namespace.shop
  image     = "postgres:16.4"
  resources {
    cpu    = 250m
    memory = 512Mi
  }
  volume "data" {
    storage_class = storage_class.fast
    size          = 10Gi
    mount         = "/data"
  }
}
secret "db" {
  namespace = namespace.shop
  data      = { password = "dev" }
}
storage_class "fast" { pool = pool.fast }
pool "fast" {}
namespace "shop" {
  quota {
    cpu    = 2
    memory = 2Gi
  }
  limits { max_memory = 1Gi }
}
"#;

#[test]
fn render_is_deterministic() {
    let st = Stack::new("ordered", &[("main.cairn", ORDERED)]);
    let first = cairn(&["render", st.path()], &[]);
    assert!(first.status.success(), "{}", show(&first));
    for _ in 0..3 {
        let again = cairn(&["render", st.path()], &[]);
        assert_eq!(again.stdout, first.stdout);
        assert_eq!(again.stderr, first.stderr);
    }
    // Splitting the stack into files changes nothing.
    let (a, b) = ORDERED.split_at(ORDERED.find("secret \"db\"").unwrap());
    let split = Stack::new("ordered", &[("z.cairn", a), ("a.cairn", b)]);
    let o = cairn(&["render", split.path()], &[]);
    assert_eq!(stdout(&o), stdout(&first));
    // So do graph and check.
    for args in [&["graph", st.path(), "--format", "json"][..], &["graph", st.path()], &["check", st.path(), "--format", "json"]] {
        assert_eq!(cairn(args, &[]).stdout, cairn(args, &[]).stdout, "{args:?}");
    }
}

#[test]
fn render_emits_objects_in_dependency_order() {
    let st = Stack::new("ordered", &[("main.cairn", ORDERED)]);
    let docs = documents(&success(&["render", st.path()], &[]));
    let ids: Vec<String> = docs.iter().map(id).collect();
    assert_eq!(
        ids,
        [
            "Namespace/shop",
            "CephBlockPool/rook-ceph/fast",
            "StorageClass/fast",
            "ResourceQuota/shop/shop-quota",
            "LimitRange/shop/shop-limits",
            "Secret/shop/db",
            "Service/shop/db-hl",
            "Service/shop/web",
            "StatefulSet/shop/db",
            "Deployment/shop/web",
        ]
    );
    for doc in &docs {
        assert_well_formed(doc);
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets

const PLANTED: &str = "s3cr3t-planted-value";
/// base64 of [`PLANTED`].
const PLANTED_B64: &str = "czNjcjN0LXBsYW50ZWQtdmFsdWU=";
/// A value for the sensitive `X_PASSWORD` (names ending in PASSWORD are sensitive).
const ENV_VALUE: &str = "pw-planted-value-42";
const ENV_B64: &str = "cHctcGxhbnRlZC12YWx1ZS00Mg==";

const SECRET_STACK: &str = r#"
namespace "shop" {}

secret "db" {
  namespace = namespace.shop
  data = {
    password = "s3cr3t-planted-value"
  }
}

workload "web" {
  namespace = namespace.shop
  image     = "acme/web:1.0"
  resources { memory = 128Mi }
  env = {
    DB_PASSWORD    = secret.db.password
    ADMIN_PASSWORD = env("X_PASSWORD")
    ADMIN_HEADER   = "Basic ${env("X_PASSWORD")}"
  }
}

manifest "creds" {
  namespace = namespace.shop
  object = {
    apiVersion = "v1"
    kind       = "Secret"
    metadata   = { name = "admin" }
    stringData = { token = env("X_PASSWORD") }
  }
}
"#;

fn assert_no_secret(what: &str, text: &str) {
    for needle in [PLANTED, PLANTED_B64, ENV_VALUE, ENV_B64] {
        assert!(!text.contains(needle), "{what} shows `{needle}`:\n{text}");
    }
}

fn assert_no_secret_in(what: &str, o: &Output) {
    assert_no_secret(&format!("{what} (stdout)"), &stdout(o));
    assert_no_secret(&format!("{what} (stderr)"), &stderr(o));
}

#[test]
fn secrets_never_reach_any_output() {
    let env = [("X_PASSWORD", ENV_VALUE)];
    let st = Stack::new("secrets", &[("main.cairn", SECRET_STACK)]);
    let p = st.path();
    for args in [
        &["check", p][..],
        &["check", p, "--format", "json"],
        &["check", p, "--format", "text"],
        &["render", p],
        &["graph", p],
        &["graph", p, "--format", "dot"],
        &["graph", p, "--format", "mermaid"],
        &["graph", p, "--format", "json"],
    ] {
        let o = cairn(args, &env);
        assert!(o.status.success(), "{args:?}:\n{}", show(&o));
        assert_no_secret(&format!("{args:?}"), &format!("{}{}", stdout(&o), stderr(&o)));
    }
    // Rendered, each secret value is `(sensitive)`.
    let out = success(&["render", p], &env);
    let docs = documents(&out);
    let db = docs.iter().find(|d| id(d) == "Secret/shop/db").unwrap();
    assert_eq!(db["data"]["password"], Yaml::String("(sensitive)".into()));
    let admin = docs.iter().find(|d| id(d) == "Secret/shop/admin").unwrap();
    assert_eq!(admin["stringData"]["token"], Yaml::String("(sensitive)".into()));
    let web = docs.iter().find(|d| id(d) == "Deployment/shop/web").unwrap();
    let env_list = web["spec"]["template"]["spec"]["containers"][0]["env"].as_sequence().unwrap();
    let value_of = |name: &str| env_list.iter().find(|e| e["name"] == Yaml::String(name.into())).unwrap().clone();
    assert_eq!(value_of("ADMIN_PASSWORD")["value"], Yaml::String("(sensitive)".into()));
    assert_eq!(value_of("ADMIN_HEADER")["value"], Yaml::String("(sensitive)".into()));
    assert_eq!(value_of("DB_PASSWORD")["valueFrom"]["secretKeyRef"]["key"], Yaml::String("password".into()));

    // render -o DIR: no written file holds a secret.
    let out_dir = tempfile::tempdir().unwrap();
    let o = cairn(&["render", p, "-o", out_dir.path().to_str().unwrap()], &env);
    assert!(o.status.success(), "{}", show(&o));
    assert_no_secret_in("render -o", &o);
    let mut files = 0;
    for e in fs::read_dir(out_dir.path()).unwrap() {
        let e = e.unwrap();
        let text = fs::read_to_string(e.path()).unwrap();
        assert_no_secret("a file written by render -o", &text);
        if e.file_name() != ".cairn-render" {
            files += 1;
        }
    }
    assert_eq!(files, docs.len());

    // --reveal-secrets shows them: the base64 of the secret's data, the env values as given.
    let revealed = success(&["render", p, "--reveal-secrets"], &env);
    assert!(revealed.contains(&format!("password: {PLANTED_B64}\n")), "{revealed}");
    assert!(revealed.contains(ENV_VALUE), "{revealed}");
    assert!(!revealed.contains(&format!("password: {PLANTED}")), "the Secret's data is base64-encoded");
    let revealed_dir = tempfile::tempdir().unwrap();
    success(&["render", p, "-o", revealed_dir.path().to_str().unwrap(), "--reveal-secrets"], &env);
    let all: String = fs::read_dir(revealed_dir.path()).unwrap().map(|e| fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    assert!(all.contains(PLANTED_B64));
}

#[test]
fn secrets_never_reach_diagnostics_of_a_failing_stack() {
    let env = [("X_PASSWORD", ENV_VALUE)];
    let broken = format!(
        "{SECRET_STACK}\n\n\n# Errors, far from the secret's declaration:\nworkload \"api\" {{\n  namespace = namespace.shop\n  image     = \"acme/api:1.0\"\n  replicas  = env(\"X_PASSWORD\")\n  labels    = {{ who = env(\"X_PASSWORD\") }}\n  imgae     = \"typo\"\n}}\npool \"p\" {{ type = env(\"X_PASSWORD\") }}\nnamespace \"n-${{env(\"X_PASSWORD\")}}\" {{}}\n"
    );
    let st = Stack::new("secrets", &[("main.cairn", &broken)]);
    let p = st.path();
    for args in [
        &["check", p][..],
        &["check", p, "--format", "json"],
        &["render", p],
        &["render", p, "--reveal-secrets"],
        &["graph", p, "--format", "json"],
    ] {
        let o = cairn(args, &env);
        assert_eq!(o.status.code(), Some(1), "{args:?}:\n{}", show(&o));
        assert_no_secret_in(&format!("{args:?}"), &o);
    }
    let o = cairn(&["check", p, "--format", "json"], &env);
    let v: Json = serde_json::from_str(&stdout(&o)).unwrap();
    let codes: Vec<&str> = v["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(codes.iter().filter(|c| **c == "E0306").count() >= 3, "{v}");
    // render -o writes nothing for a failing stack.
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("objects");
    let o = cairn(&["render", p, "-o", target.to_str().unwrap()], &env);
    assert_eq!(o.status.code(), Some(1));
    assert!(!target.exists() || fs::read_dir(&target).unwrap().next().is_none());
}

// ---------------------------------------------------------------------------------------------
// render -o DIR

#[test]
fn render_to_a_directory_writes_one_file_per_object_in_apply_order() {
    let st = Stack::new("ordered", &[("main.cairn", ORDERED)]);
    let stream = success(&["render", st.path()], &[]);
    let docs = documents(&stream);
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    let o = cairn(&["render", st.path(), "-o", target.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(stdout(&o).is_empty(), "{}", show(&o));
    let mut names: Vec<String> = fs::read_dir(&target).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.first().map(String::as_str), Some(".cairn-render"), "the directory is marked as cairn's");
    names.remove(0);
    assert_eq!(
        names,
        [
            "0000-namespace-shop.yaml",
            "0001-cephblockpool-rook-ceph-fast.yaml",
            "0002-storageclass-fast.yaml",
            "0003-resourcequota-shop-shop-quota.yaml",
            "0004-limitrange-shop-shop-limits.yaml",
            "0005-secret-shop-db.yaml",
            "0006-service-shop-db-hl.yaml",
            "0007-service-shop-web.yaml",
            "0008-statefulset-shop-db.yaml",
            "0009-deployment-shop-web.yaml",
        ]
    );
    // Each file is one document; in name order they are the stream.
    let mut joined = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let text = fs::read_to_string(target.join(n)).unwrap();
        let file_docs = documents(&text);
        assert_eq!(file_docs.len(), 1, "{n}");
        assert_eq!(file_docs[0], docs[i], "{n}");
        joined.push(text);
    }
    assert_eq!(joined.join("---\n"), stream);
}

/// A second render into the same directory removes the files of objects the stack dropped
/// (else `kubectl apply -f DIR` re-creates them), and keeps files that are not cairn's.
#[test]
fn render_to_a_directory_removes_its_own_stale_files() {
    let st = Stack::new("ordered", &[("main.cairn", ORDERED)]);
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    let t = target.to_str().unwrap();
    success(&["render", st.path(), "-o", t], &[]);
    assert!(target.join("0009-deployment-shop-web.yaml").exists());
    fs::write(target.join(".cairn-render.keep-me"), "not cairn's").unwrap();
    // The stack loses its workloads (the blocks before the secret).
    let smaller = &ORDERED[ORDERED.find("secret \"db\"").unwrap()..];
    fs::write(st.dir.join("main.cairn"), smaller).unwrap();
    let o = cairn(&["render", st.path(), "-o", t], &[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(stderr(&o).contains("removed"), "{}", show(&o));
    let docs = documents(&success(&["render", st.path()], &[]));
    let mut names: Vec<String> = fs::read_dir(&target).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.retain(|n| n.ends_with(".yaml"));
    assert_eq!(names.len(), docs.len(), "only the current objects remain: {names:?}");
    assert!(!target.join("0009-deployment-shop-web.yaml").exists());
    assert!(target.join(".cairn-render.keep-me").exists(), "a file cairn did not write is kept");
}

/// A non-empty directory cairn did not render into is refused, and nothing in it changes.
#[test]
fn render_to_a_directory_refuses_one_it_does_not_own() {
    let st = Stack::new("ordered", &[("main.cairn", ORDERED)]);
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("mine.yaml"), "kind: ConfigMap\n").unwrap();
    let o = cairn(&["render", st.path(), "-o", tmp.path().to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = stderr(&o);
    assert!(err.contains("is not empty") && err.contains("mine.yaml") && err.contains("help:"), "{err}");
    let names: Vec<_> = fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["mine.yaml"]);
}

// ---------------------------------------------------------------------------------------------
// graph

#[test]
fn graph_json_has_every_object_and_edge() {
    let st = Stack::new("ordered", &[("main.cairn", ORDERED)]);
    let docs = documents(&success(&["render", st.path()], &[]));
    let ids: Vec<String> = docs.iter().map(id).collect();
    let v: Json = serde_json::from_str(&success(&["graph", st.path(), "--format", "json"], &[])).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    let node_ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(node_ids, ids, "nodes in apply order");
    for (n, d) in nodes.iter().zip(&docs) {
        assert_eq!(n["kind"].as_str(), s(d, &["kind"]));
        assert_eq!(n["name"].as_str(), s(d, &["metadata", "name"]));
        assert_eq!(n["namespace"].as_str(), s(d, &["metadata", "namespace"]));
        assert_eq!(n["apiVersion"].as_str(), s(d, &["apiVersion"]));
        assert_eq!(n["address"].as_str(), s(d, &["metadata", "annotations", "cairn.dev/address"]));
    }
    let edges: BTreeSet<(String, String, String)> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["from"].as_str().unwrap().to_string(), e["to"].as_str().unwrap().to_string(), e["reason"].as_str().unwrap().to_string())
        })
        .collect();
    let has = |from: &str, to: &str| edges.iter().find(|(f, t, _)| f == from && t == to).map(|(_, _, r)| r.as_str());
    // Every edge points forward in apply order.
    for (f, t, r) in &edges {
        let (fi, ti) = (ids.iter().position(|x| x == f).unwrap(), ids.iter().position(|x| x == t).unwrap());
        assert!(fi < ti, "{f} → {t} ({r}) runs backwards");
        assert!(["reference", "depends_on", "namespace", "admission", "crd", "resource"].contains(&r.as_str()), "{r}");
    }
    // A namespace before everything in it, by reference (`namespace = namespace.shop`) or
    // implicitly.
    for id in ids.iter().filter(|i| i.contains("/shop/")) {
        assert!(has("Namespace/shop", id).is_some(), "no edge Namespace/shop → {id}");
    }
    assert_eq!(has("Namespace/shop", "ResourceQuota/shop/shop-quota"), Some("namespace"));
    assert_eq!(has("CephBlockPool/rook-ceph/fast", "StorageClass/fast"), Some("reference"));
    assert_eq!(has("StorageClass/fast", "StatefulSet/shop/db"), Some("reference"));
    assert_eq!(has("Secret/shop/db", "Deployment/shop/web"), Some("reference"));
    assert_eq!(has("Service/shop/db-hl", "StatefulSet/shop/db"), Some("resource"));
    assert!(has("ResourceQuota/shop/shop-quota", "Deployment/shop/web").is_some());
    assert!(has("LimitRange/shop/shop-limits", "StatefulSet/shop/db").is_some());
    // A workload in a namespace named by a string still gets the namespace and admission edges.
    let st = Stack::new("implicit", &[("main.cairn", "namespace \"shop\" {\n  limits { max_memory = 1Gi }\n}\nworkload \"w\" {\n  namespace = \"shop\"\n  image = \"a/b:1\"\n  resources { memory = 1Gi }\n}\n")]);
    let v: Json = serde_json::from_str(&success(&["graph", st.path(), "--format", "json"], &[])).unwrap();
    let edges: Vec<(&str, &str, &str)> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].as_str().unwrap(), e["to"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert!(edges.contains(&("Namespace/shop", "Deployment/shop/w", "namespace")), "{edges:?}");
    assert!(edges.contains(&("LimitRange/shop/shop-limits", "Deployment/shop/w", "admission")), "{edges:?}");
}

#[test]
fn graph_dot_and_mermaid_have_every_object_and_edge() {
    let st = Stack::new("ordered", &[("main.cairn", ORDERED)]);
    let v: Json = serde_json::from_str(&success(&["graph", st.path(), "--format", "json"], &[])).unwrap();
    let ids: Vec<&str> = v["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    let edges: Vec<(usize, usize, &str)> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let at = |k: &str| ids.iter().position(|i| *i == e[k].as_str().unwrap()).unwrap();
            (at("from"), at("to"), e["reason"].as_str().unwrap())
        })
        .collect();
    assert!(!edges.is_empty());

    // The default format is dot.
    let dot = success(&["graph", st.path()], &[]);
    assert_eq!(dot, success(&["graph", st.path(), "--format", "dot"], &[]));
    assert!(dot.starts_with("digraph cairn {\n") && dot.ends_with("}\n"), "{dot}");
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    for (i, id) in ids.iter().enumerate() {
        assert!(dot.contains(&format!("  n{i} [label=\"{id}\\n")), "no node {id} in:\n{dot}");
    }
    for (a, b, r) in &edges {
        assert!(dot.contains(&format!("  n{a} -> n{b} [label=\"{r}\"];\n")), "no edge {a} → {b} in:\n{dot}");
    }
    let node_lines = dot.lines().filter(|l| l.contains("[label=") && !l.contains("->")).count();
    let edge_lines = dot.lines().filter(|l| l.contains("->")).count();
    assert_eq!((node_lines, edge_lines), (ids.len(), edges.len()));
    for l in dot.lines().filter(|l| l.contains("[label=")) {
        assert!(l.ends_with("\"];") && l.matches('"').count() % 2 == 0, "malformed dot line: {l}");
    }

    let mermaid = success(&["graph", st.path(), "--format", "mermaid"], &[]);
    assert!(mermaid.starts_with("graph LR\n"), "{mermaid}");
    for (i, id) in ids.iter().enumerate() {
        assert!(mermaid.contains(&format!("  n{i}[\"{id}<br/>")), "no node {id} in:\n{mermaid}");
    }
    for (a, b, r) in &edges {
        assert!(mermaid.contains(&format!("  n{a} -->|{r}| n{b}\n")), "no edge {a} → {b} in:\n{mermaid}");
    }
    assert_eq!(mermaid.lines().count(), 1 + ids.len() + edges.len());
}

#[test]
fn graph_of_a_failing_stack_prints_nothing_on_stdout() {
    let st = Stack::new("broken", &[("main.cairn", "namespace \"shop\" { lables = {} }\n")]);
    for format in ["dot", "mermaid", "json"] {
        let o = cairn(&["graph", st.path(), "--format", format], &[]);
        assert_eq!(o.status.code(), Some(1), "{}", show(&o));
        assert!(stdout(&o).is_empty(), "{}", show(&o));
        assert!(stderr(&o).contains("lables"));
    }
}

/// A directory of `examples/` that holds a stack (`examples/ci/` holds a CI workflow).
fn is_stack(dir: &Path) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| e.path().extension().is_some_and(|x| x == "cairn"))
}

// ---------------------------------------------------------------------------------------------
// --help, flags and completion

/// The cluster options are listed only on the commands that read a cluster; every output format
/// is chosen with `--format`, its values listed; the main commands' help ends with examples.
#[test]
fn help_lists_cluster_options_formats_and_examples_where_they_apply() {
    let cluster_options = ["--kubeconfig", "--context", "--cluster", "--ceph-conf"];
    for command in ["plan", "apply", "drift", "destroy"] {
        let help = success(&[command, "--help"], &[]);
        for o in cluster_options {
            assert!(help.contains(o), "`{command} --help` lacks {o}:\n{help}");
        }
    }
    for command in [&["fmt"][..], &["lsp"], &["sandbox"], &["sandbox", "up"], &["check"], &["render"], &["graph"], &["show"], &[]] {
        let help = success(&[command, &["--help"]].concat(), &[]);
        for o in cluster_options {
            assert!(!help.contains(o), "`{command:?} --help` lists {o}:\n{help}");
        }
    }
    for (command, values) in [
        ("plan", "[possible values: text, json]"),
        ("check", "[possible values: text, json]"),
        ("show", "[possible values: text, json]"),
        ("graph", "[possible values: dot, mermaid, json]"),
        ("drift", "[possible values: text, json, markdown]"),
    ] {
        let help = success(&[command, "--help"], &[]);
        assert!(help.contains("--format <FORMAT>") && help.contains(values), "`{command} --help`:\n{help}");
    }
    for command in ["check", "render", "graph", "fmt", "plan", "show", "apply", "drift", "destroy", "sandbox", "completion"] {
        let help = success(&[command, "--help"], &[]);
        assert!(help.contains("\nExamples:\n  ") && help.contains("cairn "), "`{command} --help` has no examples:\n{help}");
    }
    // Given before the command, as earlier versions took them, they still parse.
    let o = cairn(&["--context", "nope", "plan", "--help"], &[]);
    assert!(o.status.success(), "{}", show(&o));
}

/// `cairn completion SHELL` prints a completion script naming the commands.
#[test]
fn completion_prints_a_script_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = success(&["completion", shell], &[]);
        assert!(script.contains("plan") && script.contains("sandbox") && script.contains("--format"), "{shell}:\n{script}");
    }
    let o = cairn(&["completion", "tcsh"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}
