//! Every program fragment of LANGUAGE.md, completed into a stack, compiled in memory, and
//! checked for what the reference says it means. Tests are named after the section they cover
//! (`s2_…` is §2, `s6_pool_…` is §6 "pool", and so on).

use std::path::Path;

use cairn_compiler::lower::Object;
use cairn_compiler::{compile, Compilation, MapEnv, MemoryLoader, Mode};
use cairn_lang::diagnostic::Severity;
use petgraph::graph::NodeIndex;
use serde_json::{json, Value as Json};

/// Every test stack lives here, so its name (without a `stack` block) is `shop`.
const DIR: &str = "/stacks/shop";

fn build(files: &[(&str, &str)], env: &[(&str, &str)], mode: Mode) -> Compilation {
    build_in(DIR, files, env, mode)
}

fn build_in(dir: &str, files: &[(&str, &str)], env: &[(&str, &str)], mode: Mode) -> Compilation {
    let mut loader = MemoryLoader::new();
    for (path, text) in files {
        loader.insert(Path::new(dir).join(path), *text);
    }
    let env = MapEnv(env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    compile(&loader, &env, Path::new(dir), mode).expect("the stack loads")
}

fn describe(c: &Compilation) -> String {
    c.diagnostics.iter().map(|d| format!("{:?} {}: {}", d.severity, d.code, d.message)).collect::<Vec<_>>().join("\n")
}

/// Compiles for `render` and asserts there is no error (warnings allowed).
fn ok_files(files: &[(&str, &str)], env: &[(&str, &str)]) -> Compilation {
    let c = build(files, env, Mode::Render);
    assert!(!c.has_errors(), "unexpected errors:\n{}", describe(&c));
    c
}

fn ok(src: &str) -> Compilation {
    ok_files(&[("main.cairn", src)], &[])
}

/// Compiles and asserts there is no diagnostic at all, warnings included.
fn clean(src: &str) -> Compilation {
    let c = ok(src);
    assert!(c.diagnostics.is_empty(), "unexpected diagnostics:\n{}", describe(&c));
    c
}

/// The errors of a stack that must not compile: (code, message).
fn errors_in(files: &[(&str, &str)], mode: Mode) -> Vec<(String, String)> {
    let c = build(files, &[], mode);
    let errs: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).map(|d| (d.code.to_string(), d.message.clone())).collect();
    assert!(!errs.is_empty(), "expected an error, got:\n{}", describe(&c));
    errs
}

fn errors(src: &str) -> Vec<(String, String)> {
    errors_in(&[("main.cairn", src)], Mode::Render)
}

/// Asserts that one of `errs` has `code`.
fn expect_code(errs: &[(String, String)], code: &str) {
    assert!(errs.iter().any(|(c, _)| c == code), "expected {code}, got {errs:?}");
}

fn warnings(c: &Compilation) -> Vec<(String, String)> {
    c.diagnostics.iter().filter(|d| d.severity == Severity::Warning).map(|d| (d.code.to_string(), d.message.clone())).collect()
}

fn find<'a>(c: &'a Compilation, kind: &str, name: &str) -> Option<&'a Object> {
    c.objects.iter().find(|o| o.kind == kind && o.name == name)
}

/// The body of the only object of that kind and name.
fn obj<'a>(c: &'a Compilation, kind: &str, name: &str) -> &'a Json {
    let found: Vec<_> = c.objects.iter().filter(|o| o.kind == kind && o.name == name).collect();
    assert_eq!(found.len(), 1, "expected one {kind} `{name}`, objects: {:?}", ids(c));
    &found[0].body
}

fn ids(c: &Compilation) -> Vec<String> {
    c.objects.iter().map(Object::id).collect()
}

fn at<'a>(v: &'a Json, pointer: &str) -> &'a Json {
    v.pointer(pointer).unwrap_or_else(|| panic!("no {pointer} in {}", serde_json::to_string_pretty(v).unwrap_or_default()))
}

/// The position of an object in apply order.
fn pos(c: &Compilation, id: &str) -> usize {
    c.objects.iter().position(|o| o.id() == id).unwrap_or_else(|| panic!("no {id} in {:?}", ids(c)))
}

/// The reason of the graph edge `from → to`, if there is one.
fn edge_reason(c: &Compilation, from: &str, to: &str) -> Option<&'static str> {
    let (a, b) = (NodeIndex::new(pos(c, from)), NodeIndex::new(pos(c, to)));
    c.graph.graph.find_edge(a, b).and_then(|e| c.graph.graph.edge_weight(e)).map(|w| w.reason.as_str())
}

const PROBE_NS: &str = "probe";

/// Evaluates expressions (with `prelude` items in scope) by putting them in a ConfigMap built
/// by a `manifest` object: the map's values are the expressions' JSON.
fn values_with(prelude: &str, exprs: &[&str]) -> Vec<Json> {
    let mut src = String::from(prelude);
    src.push_str("\nmanifest \"probe\" {\n  object = {\n    apiVersion = \"v1\"\n    kind = \"ConfigMap\"\n");
    src.push_str(&format!("    metadata = {{ name = \"probe\", namespace = \"{PROBE_NS}\" }}\n    data = {{\n"));
    for (i, e) in exprs.iter().enumerate() {
        src.push_str(&format!("      v{i:03} = ({e})\n"));
    }
    src.push_str("    }\n  }\n}\n");
    let c = ok(&src);
    let data = at(obj(&c, "ConfigMap", "probe"), "/data");
    (0..exprs.len()).map(|i| data[format!("v{i:03}")].clone()).collect()
}

/// Asserts that each `(expression, expected JSON)` pair evaluates as given.
fn assert_values(prelude: &str, cases: &[(&str, Json)]) {
    let exprs: Vec<&str> = cases.iter().map(|(e, _)| *e).collect();
    let got = values_with(prelude, &exprs);
    for ((e, want), got) in cases.iter().zip(got) {
        assert_eq!(&got, want, "`{e}`");
    }
}

/// An expression that must be an error.
fn expr_error(prelude: &str, expr: &str) -> Vec<(String, String)> {
    let src = format!(
        "{prelude}\nmanifest \"probe\" {{\n  object = {{ apiVersion = \"v1\", kind = \"ConfigMap\", metadata = {{ name = \"probe\", namespace = \"probe\" }}, data = {{ v = ({expr}) }} }}\n}}\n"
    );
    errors(&src)
}

const NS: &str = r#"namespace "shop" {}"#;

// ---------------------------------------------------------------------------------------------
// §1 Files and stacks

#[test]
fn s1_files_and_stacks_every_file_belongs_order_free() {
    // A reference from the first file (in name order) to a declaration in the last.
    let c = ok_files(
        &[
            ("a.cairn", "workload \"web\" {\n  namespace = namespace.shop\n  image = \"acme/web:1.0\"\n  resources { memory = 64Mi }\n}\n"),
            ("z.cairn", NS),
            // Sub-directories are not read unless imported.
            ("sub/ignored.cairn", "namespace \"ignored\" {}"),
            ("notes.txt", "not cairn"),
        ],
        &[],
    );
    assert_eq!(ids(&c), ["Namespace/shop", "Deployment/shop/web"]);
}

#[test]
fn s1_files_and_stacks_comments() {
    let c = clean(
        "# hash comment\n// line comment\n/* block\n   comment */\nnamespace \"shop\" { # after a brace\n  labels = { team = \"shop\" } // trailing\n  /* inline */ annotations = { a = \"b\" }\n}\n",
    );
    let ns = obj(&c, "Namespace", "shop");
    assert_eq!(at(ns, "/metadata/labels/team"), "shop");
    assert_eq!(at(ns, "/metadata/annotations/a"), "b");
}

#[test]
fn s1_files_and_stacks_name_from_directory_or_stack_block() {
    let c = clean(NS);
    assert_eq!(at(obj(&c, "Namespace", "shop"), "/metadata/labels/cairn.dev~1stack"), "shop");
    let c = clean("stack \"store\" {}\nnamespace \"shop\" {}\n");
    assert_eq!(at(obj(&c, "Namespace", "shop"), "/metadata/labels/cairn.dev~1stack"), "store");
}

// ---------------------------------------------------------------------------------------------
// §2 Lexical

#[test]
fn s2_lexical_identifiers_with_hyphens() {
    // `team-a` is one identifier; `a - b` is a subtraction.
    assert_values(
        "let a = 5\nlet b = 3\nlet a-b = 7\nlet team-a = \"alpha\"",
        &[("a-b", json!(7)), ("a - b", json!(2)), ("team-a", json!("alpha"))],
    );
    // `namespace.team-a` references the namespace named `team-a`.
    let c = ok("namespace \"team-a\" {}\nconfig \"c\" {\n  namespace = namespace.team-a\n  data = { ns = \"${namespace.team-a}\" }\n}\n");
    assert_eq!(at(obj(&c, "ConfigMap", "c"), "/metadata/namespace"), "team-a");
    assert_eq!(at(obj(&c, "ConfigMap", "c"), "/data/ns"), "team-a");
}

#[test]
fn s2_lexical_numbers() {
    assert_values(
        "",
        &[
            ("42", json!(42)),
            ("1_000", json!(1000)),
            ("-3", json!(-3)),
            ("5 -3", json!(2)),
            ("0.5", json!(0.5)),
            ("1.25", json!(1.25)),
            ("- 3 + 10", json!(7)),
        ],
    );
}

#[test]
fn s2_lexical_quantities() {
    assert_values(
        "",
        &[
            ("500m", json!("500m")),
            ("20Gi", json!("20Gi")),
            ("1.5G", json!("1500M")),
            // The `-` after a suffix is an operator.
            ("1Gi-512Mi", json!("512Mi")),
            ("1Gi == 1024Mi", json!(true)),
            ("1Gi + 512Mi == 1536Mi", json!(true)),
            ("1Gi + 512Mi", json!("1536Mi")),
            ("256Mi * 2", json!("512Mi")),
            ("1024Mi", json!("1Gi")),
            ("1536Mi", json!("1536Mi")),
            ("0.5 * 1000m", json!("500m")),
            ("2000m", json!("2")),
            ("1k", json!("1k")),
            ("1000k", json!("1M")),
            ("1Ki", json!("1Ki")),
            ("100Gi > 99Gi", json!(true)),
            ("500m < 1", json!(true)),
        ],
    );
}

#[test]
fn s2_lexical_quantity_suffix_must_end_the_token() {
    let errs = expr_error("", "5min");
    expect_code(&errs, "E0103");
}

#[test]
fn s2_lexical_strings_escapes_and_interpolation() {
    assert_values(
        "let name = \"web\"\nlet n = 3",
        &[
            (r#""a\nb""#, json!("a\nb")),
            (r#""a\tb""#, json!("a\tb")),
            (r#""a\rb""#, json!("a\rb")),
            (r#""say \"hi\"""#, json!("say \"hi\"")),
            (r#""back\\slash""#, json!("back\\slash")),
            (r#""\${name}""#, json!("${name}")),
            (r#""${name}-${n}""#, json!("web-3")),
            (r#""${n + 1}x""#, json!("4x")),
            (r#""${upper(name)}""#, json!("WEB")),
            // Durations are plain strings.
            (r#""30s""#, json!("30s")),
            (r#""5m""#, json!("5m")),
        ],
    );
}

#[test]
fn s2_lexical_heredocs() {
    let prelude =
        "let who = \"world\"\nlet plain = <<EOT\nhello ${who}\n  indented\nEOT\nlet stripped = <<-EOT\n    first\n      second\n    EOT\n";
    assert_values(prelude, &[("plain", json!("hello world\n  indented\n")), ("stripped", json!("first\n  second\n"))]);
}

// ---------------------------------------------------------------------------------------------
// §3 Structure

#[test]
fn s3_structure_every_item_kind() {
    // file = item*: import, let, template, block, for, if.
    let c = ok(r#"
import "std/apps" as apps
let teams = ["a", "b"]
template team_ns(name, owner = "ops") {
  namespace name { labels = { owner = owner } }
}
team_ns "core" {}
for t in teams {
  namespace "team-${t}" {}
}
if length(teams) > 1 {
  namespace "shared" {}
} else {
  namespace "solo" {}
}
apps.web_app "web" { image = "acme/web:1.0", namespace = namespace.shared }
"#);
    assert_eq!(at(obj(&c, "Namespace", "core"), "/metadata/labels/owner"), "ops");
    assert!(find(&c, "Namespace", "team-a").is_some() && find(&c, "Namespace", "team-b").is_some());
    assert!(find(&c, "Namespace", "shared").is_some());
    assert!(find(&c, "Namespace", "solo").is_none());
    assert_eq!(at(obj(&c, "Deployment", "web"), "/metadata/namespace"), "shared");
}

#[test]
fn s3_structure_separators() {
    // Newlines or commas in any mix, trailing commas, newlines free inside ( ) and [ ].
    let c = ok(r#"
namespace "shop" { labels = { a = "1", b = "2",
  c = "3"
  d = "4", }, }
workload "web" {
  namespace = namespace.shop, image = "acme/web:1.0",
  args = [
    "--a",
    "--b",
  ]
  command = concat(
    ["run"],
    ["now"],
  )
  resources { memory = 64Mi, }
}
"#);
    assert_eq!(
        at(obj(&c, "Namespace", "shop"), "/metadata/labels"),
        &json!({"app.kubernetes.io/managed-by": "cairn", "cairn.dev/stack": "shop", "a": "1", "b": "2", "c": "3", "d": "4"})
    );
    let d = obj(&c, "Deployment", "web");
    assert_eq!(at(d, "/spec/template/spec/containers/0/args"), &json!(["--a", "--b"]));
    assert_eq!(at(d, "/spec/template/spec/containers/0/command"), &json!(["run", "now"]));
    // The innermost bracket decides: newlines separate entries of a map inside a list, and are
    // insignificant in a list inside a map.
    assert_values(
        "",
        &[
            ("[{\n  a = 1\n  b = 2\n}, {\n  c = 3\n}]", json!([{"a": 1, "b": 2}, {"c": 3}])),
            ("{\n  xs = [\n    1,\n    2\n  ]\n  y = (1 +\n    2)\n}", json!({"xs": [1, 2], "y": 3})),
        ],
    );
}

#[test]
fn s3_structure_keywords_as_attribute_names_and_map_keys() {
    // `template = { … }` in a manifest object: a keyword followed by `=` is a name.
    let c = ok(r#"
namespace "shop" {}
manifest "job" {
  namespace = namespace.shop
  object = {
    apiVersion = "batch/v1"
    kind       = "Job"
    metadata   = { name = "migrate" }
    spec = {
      template = {
        spec = { restartPolicy = "Never", containers = [{ name = "m", image = "acme/m:1" }] }
      }
      if = 1, for = 2, in = 3, let = 4, import = 5, as = 6, true = 7, null = 8, else = 9
    }
  }
}
"#);
    let job = obj(&c, "Job", "migrate");
    assert_eq!(at(job, "/spec/template/spec/restartPolicy"), "Never");
    for (k, v) in [("if", 1), ("for", 2), ("in", 3), ("let", 4), ("import", 5), ("as", 6), ("true", 7), ("null", 8), ("else", 9)] {
        assert_eq!(at(job, &format!("/spec/{k}")), &json!(v), "{k}");
    }
}

#[test]
fn s3_structure_bare_and_computed_map_keys() {
    assert_values(
        "let k = \"dyn\"\nlet key = \"not-used\"",
        &[
            // A bare key is a literal string, even when a variable has that name.
            ("{ key = 1 }", json!({"key": 1})),
            ("{ \"${k}-x\" = 1 }", json!({"dyn-x": 1})),
            ("{ (k) = 2 }", json!({"dyn": 2})),
            ("{ \"any-key\" = 3, plain = 4 }", json!({"any-key": 3, "plain": 4})),
        ],
    );
}

#[test]
fn s3_structure_line_continuation() {
    let prelude = "let flag = true\nlet sum = 1 +\n  2\nlet pick = flag ?\n  \"yes\" :\n  \"no\"\nlet both = flag &&\n  !false\nlet assigned =\n  \"next line\"\n";
    assert_values(prelude, &[("sum", json!(3)), ("pick", json!("yes")), ("both", json!(true)), ("assigned", json!("next line"))]);
    // `else` may start a line.
    let c = ok("let big = false\nif big {\n  namespace \"big\" {}\n}\nelse {\n  namespace \"small\" {}\n}\n");
    assert_eq!(ids(&c), ["Namespace/small"]);
}

#[test]
fn s3_structure_for_and_if_at_top_level() {
    let c = ok(r#"
let sizes = { small = 1, large = 3 }
for t in ["a", "b"] {
  namespace "team-${t}" {}
  if t == "a" {
    config "only-a" { namespace = namespace["team-${t}"], data = { t = t } }
  }
}
for i, t in ["x", "y"] {
  config "c-${t}" { namespace = "team-a", data = { index = "${i}" } }
}
for name, size in sizes {
  config "size-${name}" { namespace = namespace.team-b, data = { size = "${size}" } }
}
"#);
    assert!(find(&c, "Namespace", "team-a").is_some() && find(&c, "Namespace", "team-b").is_some());
    assert_eq!(at(obj(&c, "ConfigMap", "only-a"), "/metadata/namespace"), "team-a");
    assert!(find(&c, "ConfigMap", "only-b").is_none());
    assert_eq!(at(obj(&c, "ConfigMap", "c-x"), "/data/index"), "0");
    assert_eq!(at(obj(&c, "ConfigMap", "c-y"), "/data/index"), "1");
    assert_eq!(at(obj(&c, "ConfigMap", "size-small"), "/data/size"), "1");
    assert_eq!(at(obj(&c, "ConfigMap", "size-large"), "/data/size"), "3");
}

#[test]
fn s3_structure_for_and_if_in_bodies() {
    let c = ok(r#"
namespace "shop" {}
storage_class "fast" { pool = pool.fast }
pool "fast" {}
let debug = true
workload "db" {
  namespace = namespace.shop
  image     = "postgres:16.4"
  resources { memory = 512Mi }
  for v in ["data", "wal"] {
    volume v {
      storage_class = storage_class.fast
      size          = 1Gi
      mount         = "/var/lib/${v}"
    }
  }
  if debug {
    args = ["--verbose"]
  } else {
    args = ["--quiet"]
  }
  if !debug {
    service_account = "never"
  }
}
"#);
    let s = obj(&c, "StatefulSet", "db");
    let claims: Vec<&str> =
        at(s, "/spec/volumeClaimTemplates").as_array().unwrap().iter().map(|v| v["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(claims, ["data", "wal"]);
    assert_eq!(at(s, "/spec/template/spec/containers/0/args"), &json!(["--verbose"]));
    assert!(s.pointer("/spec/template/spec/serviceAccountName").is_none());
    assert_eq!(
        at(s, "/spec/template/spec/containers/0/volumeMounts"),
        &json!([{"name": "data", "mountPath": "/var/lib/data"}, {"name": "wal", "mountPath": "/var/lib/wal"}])
    );
}

#[test]
fn s3_structure_attribute_repeated_by_for_is_a_duplicate() {
    let errs = errors("namespace \"shop\" {\n  for x in [1, 2] {\n    labels = { a = \"b\" }\n  }\n}\n");
    expect_code(&errs, "E0204");
}

#[test]
fn s3_structure_lets_are_order_free_and_cycles_are_errors() {
    assert_values("let b = a + 1\nlet a = 1", &[("b", json!(2))]);
    let errs = errors("let a = b\nlet b = a\nnamespace \"x-${a}\" {}\n");
    assert!(errs.iter().any(|(_, m)| m.contains("cycle")), "{errs:?}");
}

#[test]
fn s3_structure_let_import_template_only_at_top_level() {
    expect_code(&errors("namespace \"shop\" {\n  let x = 1\n}\n"), "E0107");
    expect_code(&errors("if true {\n  let x = 1\n}\n"), "E0107");
    expect_code(&errors("namespace \"shop\" {\n  template t(name) {}\n}\n"), "E0107");
}

#[test]
fn s3_structure_nesting_deeper_than_256_is_an_error() {
    let deep = format!("{}1{}", "(".repeat(300), ")".repeat(300));
    expect_code(&errors(&format!("let x = {deep}\nnamespace \"shop\" {{ labels = {{ x = \"${{x}}\" }} }}\n")), "E0106");
    let lists = format!("{}{}", "[".repeat(300), "]".repeat(300));
    expect_code(&errors(&format!("let x = {lists}\nnamespace \"shop\" {{}}\n")), "E0106");
    let blocks = format!("{}{}", "quota {\n".repeat(300), "}\n".repeat(300));
    expect_code(&errors(&format!("namespace \"shop\" {{\n{blocks}}}\n")), "E0106");
    // 200 levels are fine.
    let ok_deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    assert_values("", &[(ok_deep.as_str(), json!(1))]);
}

#[test]
fn s3_structure_string_and_bare_labels() {
    let c = ok(r#"
let t = "a"
let ns_name = "team-b"
namespace "team-${t}" {}
namespace ns_name {}
template app(name, namespace) {
  workload name {
    namespace = namespace
    image     = "acme/${name}:1.0"
    resources { memory = 64Mi }
  }
}
app "api" { namespace = namespace.team-a }
"#);
    assert!(find(&c, "Namespace", "team-a").is_some());
    assert!(find(&c, "Namespace", "team-b").is_some());
    let d = obj(&c, "Deployment", "api");
    assert_eq!(at(d, "/metadata/namespace"), "team-a");
    assert_eq!(at(d, "/spec/template/spec/containers/0/image"), "acme/api:1.0");
}

#[test]
fn s3_structure_bare_label_naming_no_variable_is_an_error_suggesting_quotes() {
    let c = build(&[("main.cairn", "namespace shop {}\n")], &[], Mode::Render);
    let d = c.diagnostics.iter().find(|d| d.is_error()).expect("an error");
    assert!(d.message.contains("shop"), "{}", d.message);
    assert!(d.help.as_deref().unwrap_or_default().contains("\"shop\""), "{:?}", d.help);
}

#[test]
fn s3_structure_labels_and_for_collections_may_not_use_resources() {
    expect_code(&errors("namespace \"shop\" {}\nfor x in [namespace.shop.name] {\n  namespace \"n-${x}\" {}\n}\n"), "E0209");
    expect_code(&errors("namespace \"shop\" {}\nnamespace \"n-${namespace.shop}\" {}\n"), "E0209");
    expect_code(&errors("namespace \"shop\" {}\nif namespace.shop.name == \"shop\" {\n  namespace \"x\" {}\n}\n"), "E0209");
}

// ---------------------------------------------------------------------------------------------
// §4 Expressions

#[test]
fn s4_expressions_literals() {
    assert_values(
        "",
        &[
            ("true", json!(true)),
            ("false", json!(false)),
            ("null", json!(null)),
            ("[1, \"a\", true]", json!([1, "a", true])),
            ("{ key = 1, \"any-key\" = 2 }", json!({"key": 1, "any-key": 2})),
            ("[]", json!([])),
            ("{}", json!({})),
        ],
    );
}

#[test]
fn s4_expressions_variable_shadows_block_kind() {
    // A template parameter called `namespace` makes `namespace` mean the parameter.
    let c = ok(r#"
namespace "shop" {}
template cm(name, namespace) {
  config name {
    namespace = namespace
    data      = { ns = "${namespace}" }
  }
}
cm "settings" { namespace = namespace.shop }
"#);
    let cm = obj(&c, "ConfigMap", "settings");
    assert_eq!(at(cm, "/metadata/namespace"), "shop");
    assert_eq!(at(cm, "/data/ns"), "shop");
}

#[test]
fn s4_expressions_references() {
    let c = ok(r#"
let t = "a"
let p = "fast"
namespace "shop" {}
namespace "team-a" {}
pool "fast" { size = 2 }
storage_class "fast" { pool = pool[p] }
config "refs" {
  namespace = namespace["team-${t}"]
  data = {
    pool_name = pool.fast.name
    pool_size = "${pool.fast.size}"
    ns        = "${namespace.shop}"
    sc_pool   = storage_class.fast.pool.name
  }
}
"#);
    let cm = obj(&c, "ConfigMap", "refs");
    assert_eq!(at(cm, "/metadata/namespace"), "team-a");
    assert_eq!(at(cm, "/data"), &json!({"ns": "shop", "pool_name": "fast", "pool_size": "2", "sc_pool": "fast"}));
    assert_eq!(at(obj(&c, "StorageClass", "fast"), "/parameters/pool"), "fast");
    // Every reference is a dependency edge: the pool before its class, each namespace before
    // the config that names it in its data.
    assert!(pos(&c, "CephBlockPool/rook-ceph/fast") < pos(&c, "StorageClass/fast"));
    assert!(pos(&c, "Namespace/shop") < pos(&c, "ConfigMap/team-a/refs"));
    assert!(pos(&c, "Namespace/team-a") < pos(&c, "ConfigMap/team-a/refs"));
    let edge = |from: &str, to: &str| edge_reason(&c, from, to).is_some();
    assert!(edge("Namespace/shop", "ConfigMap/team-a/refs"));
    assert!(edge("CephBlockPool/rook-ceph/fast", "ConfigMap/team-a/refs"));
    assert!(edge("StorageClass/fast", "ConfigMap/team-a/refs"));
    assert!(edge("CephBlockPool/rook-ceph/fast", "StorageClass/fast"));
}

#[test]
fn s4_expressions_data_key_references() {
    let c = ok_files(
        &[(
            "main.cairn",
            r#"
namespace "shop" {}
secret "db" {
  namespace = namespace.shop
  data      = { password = env("DB_PASSWORD") }
  type      = "Opaque"
}
config "app" {
  namespace = namespace.shop
  data      = { LOG_LEVEL = "info", name = "app-settings" }
}
workload "web" {
  namespace = namespace.shop
  image     = "acme/web:1.0"
  resources { memory = 64Mi }
  env = {
    PASSWORD  = secret.db.password
    LOG_LEVEL = config.app.LOG_LEVEL
    # `.name` on a config is the data key `name`, which shadows the attribute.
    APP_NAME  = config.app.name
    CFG       = "${config.app}"
  }
}
"#,
        )],
        &[("DB_PASSWORD", "hunter2")],
    );
    let env = at(obj(&c, "Deployment", "web"), "/spec/template/spec/containers/0/env");
    assert_eq!(
        env,
        &json!([
            {"name": "APP_NAME", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "name"}}},
            {"name": "CFG", "value": "app"},
            {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "LOG_LEVEL"}}},
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        ])
    );
    assert!(pos(&c, "Secret/shop/db") < pos(&c, "Deployment/shop/web"));
    assert!(pos(&c, "ConfigMap/shop/app") < pos(&c, "Deployment/shop/web"));
}

#[test]
fn s4_expressions_operators() {
    assert_values(
        "let n = 7\nlet yes = true\nlet no = false",
        &[
            // Ternary, right-associative.
            ("yes ? 1 : 2", json!(1)),
            ("no ? 1 : no ? 2 : 3", json!(3)),
            ("yes || no && no", json!(true)),
            ("(yes || no) && no", json!(false)),
            ("1 + 2 * 3", json!(7)),
            ("(1 + 2) * 3", json!(9)),
            ("10 - 4 - 3", json!(3)),
            ("100 / 10 / 5", json!(2)),
            ("3 / 2", json!(1)),
            ("3 / 2 == 1", json!(true)),
            ("7 % 3", json!(1)),
            ("-n + 10", json!(3)),
            ("!yes", json!(false)),
            ("1 == 1.0", json!(true)),
            ("1 < 1.5", json!(true)),
            ("1 + 0.5", json!(1.5)),
            ("n >= 7 && n <= 7", json!(true)),
            ("n != 7", json!(false)),
            ("\"a\" + \"b\"", json!("ab")),
            ("[1] + [2, 3]", json!([1, 2, 3])),
            ("{ a = 1, b = 1 } + { b = 2 }", json!({"a": 1, "b": 2})),
            ("[10, 20, 30][1]", json!(20)),
            ("{ a = { b = \"deep\" } }.a.b", json!("deep")),
            ("{ a = 1 }[\"a\"]", json!(1)),
            ("\"a\" == \"a\"", json!(true)),
            ("\"${1.5} ${2Gi} ${true} ${42}\"", json!("1.5 2Gi true 42")),
        ],
    );
}

#[test]
fn s4_expressions_plain_number_where_a_quantity_is_expected() {
    let c = ok(r#"
namespace "shop" {}
workload "web" {
  namespace = namespace.shop
  image     = "acme/web:1.0"
  resources {
    cpu          = 2
    memory       = 1024Mi
    cpu_limit    = 2.5
    memory_limit = 1536Mi
  }
}
"#);
    let r = at(obj(&c, "Deployment", "web"), "/spec/template/spec/containers/0/resources");
    assert_eq!(r, &json!({"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2500m", "memory": "1536Mi"}}));
}

#[test]
fn s4_expressions_errors() {
    let has = |expr: &str, code: &str, text: &str| {
        let errs = expr_error("", expr);
        assert!(errs.iter().any(|(c, m)| c == code && m.contains(text)), "`{expr}`: expected {code} `{text}`, got {errs:?}");
    };
    has("9223372036854775807 + 1", "E0701", "overflow");
    has("-9223372036854775807 - 2", "E0701", "overflow");
    has("1 / 0", "E0701", "division by zero");
    has("1 % 0", "E0701", "division by zero");
    has("\"${null}\"", "E0301", "null");
    has("\"a\" + 1", "E0301", "+");
    has("length(range(1000001))", "E0702", "1000000");
    has("1 < 2 < 3", "E0101", "comparisons do not chain");
}

#[test]
fn s4_expressions_maps_iterate_in_sorted_key_order() {
    assert_values(
        "let m = { b = 2, a = 1, c = 3 }",
        &[
            ("keys(m)", json!(["a", "b", "c"])),
            ("values(m)", json!([1, 2, 3])),
            ("[for k, v in m : \"${k}=${v}\"]", json!(["a=1", "b=2", "c=3"])),
        ],
    );
}

#[test]
fn s4_expressions_comprehensions() {
    assert_values(
        "let xs = [\"a\", \"b\", \"c\"]\nlet m = { x = 1, y = 2 }",
        &[
            ("[for x in xs : upper(x)]", json!(["A", "B", "C"])),
            ("[for x in xs : x if x != \"a\"]", json!(["b", "c"])),
            ("{for k, v in m : k => v * 10}", json!({"x": 10, "y": 20})),
            ("[for i, x in xs : \"${i}${x}\"]", json!(["0a", "1b", "2c"])),
            ("{for x in xs : x => length(x)}", json!({"a": 1, "b": 1, "c": 1})),
        ],
    );
}

#[test]
fn s4_expressions_functions() {
    assert_values(
        "",
        &[
            ("lower(\"AbC\")", json!("abc")),
            ("upper(\"AbC\")", json!("ABC")),
            ("trim(\"  x  \")", json!("x")),
            ("split(\"a,b,c\", \",\")", json!(["a", "b", "c"])),
            ("join([\"a\", \"b\"], \"-\")", json!("a-b")),
            ("replace(\"a.b.c\", \".\", \"/\")", json!("a/b/c")),
            ("length(\"abc\")", json!(3)),
            ("length([1, 2])", json!(2)),
            ("length({ a = 1 })", json!(1)),
            ("contains([\"a\", \"b\"], \"b\")", json!(true)),
            ("contains([\"a\", \"b\"], \"z\")", json!(false)),
            ("keys({ b = 1, a = 2 })", json!(["a", "b"])),
            ("values({ b = 1, a = 2 })", json!([2, 1])),
            ("range(3)", json!([0, 1, 2])),
            ("range(2, 5)", json!([2, 3, 4])),
            ("merge({ a = 1 }, { b = 2 }, { a = 3 })", json!({"a": 3, "b": 2})),
            ("concat([1], [2], [3, 4])", json!([1, 2, 3, 4])),
            ("min(3, 1, 2)", json!(1)),
            ("max(3, 1, 2)", json!(3)),
            ("sha256(\"abc\")", json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")),
            ("base64encode(\"hello\")", json!("aGVsbG8=")),
            ("base64decode(\"aGVsbG8=\")", json!("hello")),
            ("to_json({ a = [1, true] })", json!("{\"a\":[1,true]}")),
            ("from_json(\"{\\\"a\\\": [1, 2.5, null]}\")", json!({"a": [1, 2.5, null]})),
            ("from_yaml(\"a: 1\\nb: [x, y]\\n\")", json!({"a": 1, "b": ["x", "y"]})),
            ("from_yaml(to_yaml({ a = \"yes\", b = [1] }))", json!({"a": "yes", "b": [1]})),
            ("quantity(\"1.5Gi\")", json!("1536Mi")),
            ("quantity(\"1.5Gi\") == 1536Mi", json!(true)),
            ("min(1Gi, 512Mi)", json!("512Mi")),
        ],
    );
}

#[test]
fn s4_expressions_env_and_file() {
    let c = ok_files(
        &[
            (
                "main.cairn",
                r#"
namespace "shop" {}
config "app" {
  namespace = namespace.shop
  data = {
    region  = env("REGION")
    missing = env("NOT_SET", "fallback")
    motd    = file("files/motd.txt")
  }
}
"#,
            ),
            ("files/motd.txt", "welcome\n"),
        ],
        &[("REGION", "eu-west")],
    );
    assert_eq!(at(obj(&c, "ConfigMap", "app"), "/data"), &json!({"missing": "fallback", "motd": "welcome\n", "region": "eu-west"}));
}

#[test]
fn s4_expressions_file_may_not_leave_the_stack() {
    let errs = errors_in(
        &[
            (
                "main.cairn",
                "namespace \"shop\" {}\nconfig \"c\" {\n  namespace = namespace.shop\n  data = { x = file(\"../other/x.txt\") }\n}\n",
            ),
            ("../other/x.txt", "outside"),
        ],
        Mode::Render,
    );
    expect_code(&errs, "E0604");
}

#[test]
fn s4_expressions_sensitive_values() {
    let src = r#"
namespace "shop" {}
let token = env("API_TOKEN")
workload "web" {
  namespace = namespace.shop
  image     = "acme/web:1.0"
  resources { memory = 64Mi }
  env = {
    A_KEY      = env("SIGNING_KEY")
    A_PASSWORD = env("X_PASSWORD")
    A_SECRET   = env("APP_SECRET")
    A_TOKEN    = "Bearer ${token}"
    B_WRAPPED  = sensitive("wrapped")
    C_PLAIN    = env("PLAIN_VALUE")
  }
}
"#;
    let c = ok_files(
        &[("main.cairn", src)],
        &[
            ("API_TOKEN", "tok-123"),
            ("SIGNING_KEY", "key-123"),
            ("X_PASSWORD", "pw-123"),
            ("APP_SECRET", "sec-123"),
            ("PLAIN_VALUE", "plain-123"),
        ],
    );
    let yaml = c.render(false);
    for s in ["tok-123", "key-123", "pw-123", "sec-123", "wrapped"] {
        assert!(!yaml.contains(s), "{s} leaked:\n{yaml}");
    }
    assert!(yaml.contains("plain-123"));
    assert_eq!(yaml.matches("(sensitive)").count(), 5, "{yaml}");
    let revealed = c.render(true);
    assert!(revealed.contains("Bearer tok-123") && revealed.contains("pw-123"));
    // A sensitive value in a name, label, key or condition is an error.
    let env = &[("X_PASSWORD", "pw-123")];
    for bad in [
        "namespace \"ns-${env(\"X_PASSWORD\")}\" {}",
        "namespace \"shop\" { labels = { a = env(\"X_PASSWORD\") } }",
        "namespace \"shop\" { labels = { (env(\"X_PASSWORD\")) = \"a\" } }",
        "if env(\"X_PASSWORD\") == \"x\" {\n  namespace \"shop\" {}\n}",
    ] {
        let c = build(&[("main.cairn", bad)], env, Mode::Render);
        assert!(c.has_errors(), "no error for {bad}");
        assert!(!describe(&c).contains("pw-123"), "leaked in diagnostics: {}", describe(&c));
    }
    // So is one in an attribute that would print it; a whole env map may be sensitive.
    for (attr, bad) in [
        ("annotations", "namespace \"shop\" { annotations = { a = env(\"X_PASSWORD\") } }"),
        ("data", "config \"c\" {\n  namespace = \"shop\"\n  data = { a = env(\"X_PASSWORD\") }\n}"),
        ("image", "workload \"w\" {\n  namespace = \"shop\"\n  image = \"acme/w:${env(\"X_PASSWORD\")}\"\n}"),
        ("args", "workload \"w\" {\n  namespace = \"shop\"\n  image = \"acme/w:1\"\n  args = [sensitive(\"--x\")]\n}"),
        ("device_class", "pool \"p\" { device_class = sensitive(\"ssd\") }"),
    ] {
        let c = build(&[("main.cairn", bad)], env, Mode::Render);
        let d = c.diagnostics.iter().find(|d| d.code == "E0306").unwrap_or_else(|| panic!("no E0306 for {bad}: {}", describe(&c)));
        assert!(d.message.contains(&format!("`{attr}`")), "{}", d.message);
        assert!(!describe(&c).contains("pw-123"));
    }
    let c = ok_files(
        &[(
            "main.cairn",
            "namespace \"shop\" {}\nworkload \"w\" {\n  namespace = namespace.shop\n  image = \"acme/w:1\"\n  resources { memory = 64Mi }\n  env = sensitive({ A = \"hidden-a\", B = 2 })\n}\n",
        )],
        &[],
    );
    let yaml = c.render(false);
    assert!(!yaml.contains("hidden-a") && yaml.matches("(sensitive)").count() == 2, "{yaml}");
}

#[test]
fn s4_expressions_unset_env_check_warns_render_fails() {
    let src = "namespace \"shop\" {}\nconfig \"c\" {\n  namespace = namespace.shop\n  data = { region = env(\"UNSET_REGION\") }\n}\n";
    let c = build(&[("main.cairn", src)], &[], Mode::Check);
    assert!(!c.has_errors(), "{}", describe(&c));
    let w = warnings(&c);
    assert!(w.iter().any(|(c, m)| c == "W0701" && m.contains("UNSET_REGION")), "{w:?}");
    let errs = errors_in(&[("main.cairn", src)], Mode::Render);
    assert!(errs.iter().any(|(c, m)| c == "E0703" && m.contains("UNSET_REGION")), "{errs:?}");
}

#[test]
fn s4_expressions_no_recursion_in_templates() {
    let errs = errors("template t(name) {\n  t \"${name}x\" {}\n}\nt \"a\" {}\n");
    expect_code(&errs, "E0704");
}

// ---------------------------------------------------------------------------------------------
// §5 Templates and imports

/// The ```` ```cairn ```` example of `docs/language.md` whose text contains `needle` (the tidy
/// test compiles every example as it is; these tests check what they mean).
fn doc_example(needle: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/language.md");
    let doc = std::fs::read_to_string(&path).expect("read docs/language.md");
    doc.split("```cairn\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(text, _)| text.to_string()))
        .find(|text| text.contains(needle))
        .unwrap_or_else(|| panic!("no ```cairn example with {needle:?} in docs/language.md"))
}

/// §5's example: the `web_app` template, namespace `shop` and the instance `frontend`.
fn web_app() -> String {
    doc_example("template web_app(")
}

#[test]
fn s5_templates_web_app_fragment() {
    let c = ok_files(&[("apps.cairn", &web_app())], &[]);
    assert_eq!(ids(&c), ["Namespace/shop", "Service/shop/frontend", "Deployment/shop/frontend"]);
    let d = obj(&c, "Deployment", "frontend");
    assert_eq!(at(d, "/spec/replicas"), 2);
    assert_eq!(
        at(d, "/spec/template/spec/containers/0"),
        &json!({"name": "frontend", "image": "acme/frontend:2.1.0", "ports": [{"name": "http", "containerPort": 8080}]})
    );
    // Resources made by a template instance are addressed by their own kind and name.
    assert_eq!(at(d, "/metadata/annotations/cairn.dev~1address"), "workload.frontend");
    let svc = obj(&c, "Service", "frontend");
    assert_eq!(at(svc, "/spec/ports"), &json!([{"name": "http", "port": 80, "targetPort": "http"}]));
    // The only warning: no `memory` (OOM risk).
    assert_eq!(warnings(&c).len(), 1, "{}", describe(&c));
    // Defaults can be overridden; a reference to the instance's workload uses its own kind.
    let c = ok_files(
        &[
            ("apps.cairn", &web_app()),
            ("more.cairn", "web_app \"api\" {\n  image = \"acme/api:1.0\"\n  namespace = namespace.shop\n  replicas = 5\n  port = 9090\n  }\nconfig \"urls\" {\n  namespace = namespace.shop\n  data = { frontend = \"http://${workload.frontend}\" }\n}\n"),
        ],
        &[],
    );
    let api = obj(&c, "Deployment", "api");
    assert_eq!(at(api, "/spec/replicas"), 5);
    assert_eq!(at(api, "/spec/template/spec/containers/0/ports/0/containerPort"), 9090);
    assert_eq!(at(obj(&c, "ConfigMap", "urls"), "/data/frontend"), "http://frontend");
    assert!(pos(&c, "Deployment/shop/frontend") < pos(&c, "ConfigMap/shop/urls"));
}

#[test]
fn s5_templates_instances_accept_only_parameters() {
    let web_app = web_app();
    let errs = errors_in(
        &[("apps.cairn", &format!("{web_app}\nweb_app \"x\" {{ image = \"a/b:1\", namespace = namespace.shop, replica = 3 }}\n"))],
        Mode::Render,
    );
    assert!(errs.iter().any(|(_, m)| m.contains("replica")), "{errs:?}");
    // A required parameter is missing.
    let errs = errors_in(&[("apps.cairn", &format!("{web_app}\nweb_app \"y\" {{ namespace = namespace.shop }}\n"))], Mode::Render);
    assert!(errs.iter().any(|(_, m)| m.contains("image")), "{errs:?}");
    // The label is required.
    errors_in(&[("apps.cairn", &format!("{web_app}\nweb_app {{ image = \"a/b:1\", namespace = namespace.shop }}\n"))], Mode::Render);
}

#[test]
fn s5_templates_diagnostics_point_at_template_and_instance() {
    let web_app = web_app();
    let src = format!("{web_app}\nweb_app \"bad\" {{ image = \"a/b:1\", namespace = namespace.shop, replicas = -1 }}\n");
    let c = build(&[("apps.cairn", &src)], &[], Mode::Render);
    let d = c.diagnostics.iter().find(|d| d.is_error()).expect("an error");
    assert!(d.message.contains("replicas"), "{}", d.message);
    assert!(d.labels.iter().any(|l| l.message.contains("web_app")), "{d:?}");
}

#[test]
fn s5_imports_std_apps_and_std_storage() {
    let c = ok(r#"
import "std/apps" as apps
import "std/storage"

namespace "shop" {}
storage.block_pool "fast" { device_class = "ssd" }
apps.web_app "shop" { image = "acme/shop:1.2.0", namespace = namespace.shop }
apps.database "db" {
  namespace     = namespace.shop
  storage_class = storage_class.fast
  password      = "dev-only"
}
"#);
    assert_eq!(
        ids(&c),
        [
            "Namespace/shop",
            "CephBlockPool/rook-ceph/fast",
            "StorageClass/fast",
            "Secret/shop/db-credentials",
            "Service/shop/db",
            "Service/shop/db-hl",
            "Service/shop/shop",
            "StatefulSet/shop/db",
            "Deployment/shop/shop",
        ]
    );
    assert_eq!(at(obj(&c, "CephBlockPool", "fast"), "/spec/deviceClass"), "ssd");
    assert_eq!(at(obj(&c, "StorageClass", "fast"), "/parameters/pool"), "fast");
    let web = obj(&c, "Deployment", "shop");
    assert_eq!(at(web, "/spec/replicas"), 2);
    assert_eq!(at(web, "/spec/template/spec/containers/0/readinessProbe"), &json!({"httpGet": {"path": "/healthz", "port": "http"}}));
    let db = obj(&c, "StatefulSet", "db");
    assert_eq!(at(db, "/spec/volumeClaimTemplates/0/spec/storageClassName"), "fast");
    assert_eq!(at(db, "/spec/volumeClaimTemplates/0/spec/resources/requests/storage"), "10Gi");
    assert!(edge_reason(&c, "Secret/shop/db-credentials", "StatefulSet/shop/db").is_some());
    assert!(edge_reason(&c, "StorageClass/fast", "StatefulSet/shop/db").is_some());
}

#[test]
fn s5_imports_relative_directories_and_files() {
    let c = ok_files(
        &[
            ("main.cairn", "import \"./lib\"\nimport \"./lib/net.cairn\"\nimport \"../shared\" as common\n\nnamespace \"shop\" { labels = { tier = lib.tier, port = \"${net.port}\", owner = common.owner } }\nlib.team \"core\" {}\n"),
            ("lib/a.cairn", "let tier = \"gold\"\n"),
            ("lib/b.cairn", "template team(name) {\n  namespace \"team-${name}\" { labels = { tier = tier } }\n}\n"),
            ("lib/net.cairn", "let port = 8443\n"),
            // An imported module's resource declarations join the stack.
            // `file()` reads relative to the calling file, outside the stack's root when imported.
            ("../shared/owner.cairn", "let owner = \"platform\"\nnamespace \"shared\" { annotations = { motd = file(\"motd.txt\") } }\n"),
            ("../shared/motd.txt", "hello"),
        ],
        &[],
    );
    assert_eq!(at(obj(&c, "Namespace", "shared"), "/metadata/annotations/motd"), "hello");
    assert_eq!(
        at(obj(&c, "Namespace", "shop"), "/metadata/labels"),
        &json!({"app.kubernetes.io/managed-by": "cairn", "cairn.dev/stack": "shop", "owner": "platform", "port": "8443", "tier": "gold"})
    );
    assert_eq!(at(obj(&c, "Namespace", "team-core"), "/metadata/labels/tier"), "gold");
    assert!(find(&c, "Namespace", "shared").is_some());
}

#[test]
fn s5_imports_cycles_and_unknown_modules_are_errors() {
    let errs = errors_in(
        &[
            ("main.cairn", "import \"./a\"\nnamespace \"shop\" {}\n"),
            ("a/a.cairn", "import \"../b\"\n"),
            ("b/b.cairn", "import \"../a\"\n"),
        ],
        Mode::Render,
    );
    assert!(errs.iter().any(|(c, m)| c == "E0602" && m.contains("import cycle")), "{errs:?}");
    expect_code(&errors("import \"std/nope\"\nnamespace \"shop\" {}\n"), "E0601");
}

// ---------------------------------------------------------------------------------------------
// §6 Declarations

#[test]
fn s6_declarations_common_attributes() {
    let c = ok(r#"
namespace "shop" {
  labels      = { team = "shop" }
  annotations = { "example.com/owner" = "ops" }
}
config "late" {
  namespace  = namespace.shop
  data       = { a = "b" }
  depends_on = [secret.first]
  protect    = true
}
secret "first" {
  namespace = namespace.shop
  data      = { k = "v" }
}
"#);
    let ns = obj(&c, "Namespace", "shop");
    assert_eq!(at(ns, "/metadata/labels"), &json!({"app.kubernetes.io/managed-by": "cairn", "cairn.dev/stack": "shop", "team": "shop"}));
    assert_eq!(at(ns, "/metadata/annotations"), &json!({"cairn.dev/address": "namespace.shop", "example.com/owner": "ops"}));
    // `depends_on` makes an edge that overrides the kind rank (ConfigMap before Secret).
    assert_eq!(edge_reason(&c, "Secret/shop/first", "ConfigMap/shop/late"), Some("depends_on"));
    assert!(pos(&c, "Secret/shop/first") < pos(&c, "ConfigMap/shop/late"));
    assert!(find(&c, "ConfigMap", "late").unwrap().protect);
    assert!(!find(&c, "Secret", "first").unwrap().protect);
}

#[test]
fn s6_declarations_unknown_and_missing_attributes() {
    let c = build(&[("main.cairn", "namespace \"shop\" { lables = {} }\n")], &[], Mode::Render);
    let d = c.diagnostics.iter().find(|d| d.is_error()).expect("an error");
    assert!(d.message.contains("lables"), "{}", d.message);
    assert!(d.help.as_deref().unwrap_or_default().contains("labels"), "{:?}", d.help);
    let errs = errors("workload \"web\" { namespace = \"shop\" }\n");
    assert!(errs.iter().any(|(c, m)| c == "E0304" && m.contains("image")), "{errs:?}");
}

#[test]
fn s6_declarations_names() {
    // Namespaces and workloads: DNS-1035 labels; other Kubernetes names DNS-1123 subdomains.
    let names = |src: &str, name: &str| {
        let errs = errors(src);
        assert!(errs.iter().any(|(_, m)| m.contains(name)), "expected an error naming `{name}`: {errs:?}");
    };
    names("namespace \"Shop\" {}\n", "Shop");
    names("namespace \"1shop\" {}\n", "1shop");
    names(&format!("namespace \"{}\" {{}}\n", "a".repeat(64)), "aaaa");
    names("namespace \"shop\" {}\nworkload \"web.v2\" {\n  namespace = namespace.shop\n  image = \"a/b:1\"\n}\n", "web.v2");
    ok("namespace \"shop\" {}\nconfig \"app.settings-v2\" {\n  namespace = namespace.shop\n  data = {}\n}\n");
    names("namespace \"shop\" {}\nconfig \"App\" {\n  namespace = namespace.shop\n  data = {}\n}\n", "App");
    // Pool names: non-empty, no `/`, not starting with `.`.
    ok("pool \"Data_Pool.1\" {}\n");
    names("pool \"a/b\" {}\n", "a/b");
    names("pool \".hidden\" {}\n", ".hidden");
}

#[test]
fn s6_stack_block() {
    let c = ok(r#"
cluster "prod" {
  ceph { mode = "rook" }
}
stack "store" { cluster = cluster.prod }
namespace "shop" {}
"#);
    assert_eq!(at(obj(&c, "Namespace", "shop"), "/metadata/labels/cairn.dev~1stack"), "store");
    // A directory whose name is not a DNS-1123 label needs a `stack` block.
    let c = build_in("/stacks/My_Stack", &[("main.cairn", NS)], &[], Mode::Render);
    assert!(c.has_errors(), "{}", describe(&c));
    let c = build_in("/stacks/My_Stack", &[("main.cairn", "stack \"mine\" {}\nnamespace \"shop\" {}\n")], &[], Mode::Render);
    assert!(!c.has_errors(), "{}", describe(&c));
    assert_eq!(at(obj(&c, "Namespace", "shop"), "/metadata/labels/cairn.dev~1stack"), "mine");
    // At most one.
    errors("stack \"a\" {}\nstack \"b\" {}\n");
}

/// §6's `cluster` example: `prod` in rook mode, `lab` in direct mode.
fn clusters() -> String {
    doc_example("cluster \"prod\" {")
}

#[test]
fn s6_cluster_fragment() {
    let clusters = clusters();
    let c = ok(&format!(
        "{clusters}\nstack \"shop\" {{ cluster = cluster.prod }}\npool \"fast\" {{}}\npool \"archive\" {{ cluster = cluster.lab }}\nstorage_class \"lab-block\" {{\n  cluster = cluster.lab\n  pool    = pool.archive\n}}\n"
    ));
    // The stack's default cluster is rook: a CephBlockPool in the Rook namespace.
    let fast = find(&c, "CephBlockPool", "fast").expect("rook pool");
    assert_eq!(fast.namespace.as_deref(), Some("rook-ceph"));
    // The lab cluster is direct: a CephPool applied with monitor commands.
    let archive = find(&c, "CephPool", "archive").expect("direct pool");
    assert_eq!(archive.target, cairn_compiler::lower::Target::Ceph);
    assert_eq!(archive.api_version, "cairn.dev/v1alpha1");
    let sc = obj(&c, "StorageClass", "lab-block");
    assert_eq!(at(sc, "/provisioner"), "rbd.csi.ceph.com");
    assert_eq!(at(sc, "/parameters/clusterID"), "…");
}

#[test]
fn s6_cluster_choice() {
    let clusters = clusters();
    // With several clusters and no stack default, each resource must pick one.
    let errs = errors(&format!("{clusters}\npool \"fast\" {{}}\n"));
    assert!(errs.iter().any(|(_, m)| m.contains("cluster")), "{errs:?}");
    ok(&format!("{clusters}\npool \"fast\" {{ cluster = cluster.lab }}\n"));
    // With one cluster it is the default; without any, rook mode in `rook-ceph`.
    let c = ok("cluster \"only\" {\n  ceph {\n    mode = \"rook\"\n    rook_namespace = \"ceph-system\"\n  }\n}\npool \"fast\" {}\nstorage_class \"fast\" { pool = pool.fast }\n");
    assert_eq!(find(&c, "CephBlockPool", "fast").unwrap().namespace.as_deref(), Some("ceph-system"));
    let sc = obj(&c, "StorageClass", "fast");
    assert_eq!(at(sc, "/parameters/clusterID"), "ceph-system");
    assert_eq!(at(sc, "/parameters/csi.storage.k8s.io~1node-stage-secret-namespace"), "ceph-system");
    let c = ok("pool \"fast\" {}\n");
    assert_eq!(find(&c, "CephBlockPool", "fast").unwrap().namespace.as_deref(), Some("rook-ceph"));
}

const DIRECT: &str = "cluster \"lab\" {\n  ceph {\n    mode = \"direct\"\n    fsid = \"a7f64266-0894-4f1e-a635-d0aeaca0e993\"\n  }\n}\n";

fn direct_spec(pool: &str) -> Json {
    let c = ok(&format!("{DIRECT}\n{pool}\n"));
    assert_eq!(c.objects.len(), 1, "{:?}", ids(&c));
    at(&c.objects[0].body, "/spec").clone()
}

#[test]
fn s6_pool_defaults() {
    // Direct mode shows the defaults.
    assert_eq!(
        direct_spec("pool \"p\" {}"),
        json!({"type": "replicated", "size": 3, "min_size": 2, "autoscale": "on", "failure_domain": "host", "application": "rbd"})
    );
    // min_size defaults to size - size/2.
    for (size, min) in [(2, 1), (3, 2), (4, 2), (5, 3), (10, 5)] {
        assert_eq!(direct_spec(&format!("pool \"p\" {{ size = {size} }}"))["min_size"], json!(min), "size {size}");
    }
    // Rook mode: a CephBlockPool with only what is declared in `parameters`.
    let c = clean("pool \"p\" {}\n");
    let p = obj(&c, "CephBlockPool", "p");
    assert_eq!(at(p, "/apiVersion"), "ceph.rook.io/v1");
    assert_eq!(at(p, "/spec"), &json!({"failureDomain": "host", "replicated": {"size": 3}, "application": "rbd"}));
    // Pools are protected by default.
    assert!(c.objects[0].protect);
    assert!(!ok("pool \"p\" { protect = false }\n").objects[0].protect);
}

#[test]
fn s6_pool_rook_lowering() {
    let c = ok(r#"
pool "rep" {
  size           = 2
  min_size       = 1
  pg_num         = 64
  autoscale      = "off"
  failure_domain = "rack"
  device_class   = "nvme"
  application    = "rbd"
  quota { max_bytes = 1.5Gi, max_objects = 10 }
}
pool "ec" {
  type        = "erasure"
  application = "rgw"
  erasure { k = 4, m = 2 }
}
"#);
    assert_eq!(
        at(obj(&c, "CephBlockPool", "rep"), "/spec"),
        &json!({
            "failureDomain": "rack",
            "replicated": {"size": 2},
            "deviceClass": "nvme",
            "application": "rbd",
            "quotas": {"maxBytes": 1610612736, "maxObjects": 10},
            "parameters": {"min_size": "1", "pg_num": "64", "pg_autoscale_mode": "off"},
        })
    );
    assert_eq!(
        at(obj(&c, "CephBlockPool", "ec"), "/spec"),
        &json!({"failureDomain": "host", "erasureCoded": {"dataChunks": 4, "codingChunks": 2}, "application": "rgw"})
    );
}

#[test]
fn s6_pool_checks() {
    // size 1 needs mon_allow_pool_size_one: a warning.
    let c = ok("pool \"p\" { size = 1 }\n");
    assert_eq!(warnings(&c).len(), 1, "{}", describe(&c));
    // pg_num: a warning if not a power of two, an error with autoscale = "on".
    let c = ok("pool \"p\" {\n  pg_num = 30\n  autoscale = \"warn\"\n}\n");
    assert!(warnings(&c).iter().any(|(_, m)| m.contains("pg_num") || m.contains("power")), "{}", describe(&c));
    let errs = errors("pool \"p\" { pg_num = 32 }\n");
    assert!(errs.iter().any(|(_, m)| m.contains("autoscale") || m.contains("pg_num")), "{errs:?}");
    // min_size > size; erasure k/m out of range or missing.
    let errs = errors("pool \"p\" {\n  size = 2\n  min_size = 3\n}\n");
    assert!(errs.iter().any(|(_, m)| m.contains("min_size")), "{errs:?}");
    errors("pool \"p\" {\n  type = \"erasure\"\n  erasure { k = 1, m = 1 }\n}\n");
    errors("pool \"p\" {\n  type = \"erasure\"\n  erasure { k = 2, m = 0 }\n}\n");
    errors("pool \"p\" { type = \"erasure\" }\n");
    errors("pool \"p\" { size = 11 }\n");
    errors("pool \"p\" { autoscale = \"maybe\" }\n");
}

#[test]
fn s6_storage_class_rook() {
    let c = clean("pool \"fast\" {}\nstorage_class \"fast\" { pool = pool.fast }\n");
    assert_eq!(
        obj(&c, "StorageClass", "fast"),
        &json!({
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "fast",
                "labels": {"app.kubernetes.io/managed-by": "cairn", "cairn.dev/stack": "shop"},
                "annotations": {"cairn.dev/address": "storage_class.fast"},
            },
            "provisioner": "rook-ceph.rbd.csi.ceph.com",
            "parameters": {
                "clusterID": "rook-ceph",
                "pool": "fast",
                "imageFormat": "2",
                "imageFeatures": "layering",
                "csi.storage.k8s.io/provisioner-secret-name": "rook-csi-rbd-provisioner",
                "csi.storage.k8s.io/provisioner-secret-namespace": "rook-ceph",
                "csi.storage.k8s.io/controller-expand-secret-name": "rook-csi-rbd-provisioner",
                "csi.storage.k8s.io/controller-expand-secret-namespace": "rook-ceph",
                "csi.storage.k8s.io/node-stage-secret-name": "rook-csi-rbd-node",
                "csi.storage.k8s.io/node-stage-secret-namespace": "rook-ceph",
                "csi.storage.k8s.io/fstype": "ext4",
            },
            "reclaimPolicy": "Delete",
            "allowVolumeExpansion": true,
        })
    );
    assert_eq!(edge_reason(&c, "CephBlockPool/rook-ceph/fast", "StorageClass/fast"), Some("reference"));
}

#[test]
fn s6_storage_class_direct() {
    let c = clean(&format!(
        "{DIRECT}\npool \"fast\" {{}}\nstorage_class \"fast\" {{\n  pool      = pool.fast\n  reclaim   = \"Retain\"\n  expansion = false\n  default   = true\n  fs_type   = \"xfs\"\n  binding   = \"WaitForFirstConsumer\"\n}}\n"
    ));
    let sc = obj(&c, "StorageClass", "fast");
    assert_eq!(at(sc, "/provisioner"), "rbd.csi.ceph.com");
    assert_eq!(
        at(sc, "/parameters"),
        &json!({
            "clusterID": "a7f64266-0894-4f1e-a635-d0aeaca0e993",
            "pool": "fast",
            "imageFormat": "2",
            "imageFeatures": "layering",
            "csi.storage.k8s.io/provisioner-secret-name": "csi-rbd-secret",
            "csi.storage.k8s.io/provisioner-secret-namespace": "ceph-csi-rbd",
            "csi.storage.k8s.io/controller-expand-secret-name": "csi-rbd-secret",
            "csi.storage.k8s.io/controller-expand-secret-namespace": "ceph-csi-rbd",
            "csi.storage.k8s.io/node-stage-secret-name": "csi-rbd-secret",
            "csi.storage.k8s.io/node-stage-secret-namespace": "ceph-csi-rbd",
            "csi.storage.k8s.io/fstype": "xfs",
        })
    );
    assert_eq!(at(sc, "/reclaimPolicy"), "Retain");
    assert_eq!(at(sc, "/allowVolumeExpansion"), false);
    assert_eq!(at(sc, "/volumeBindingMode"), "WaitForFirstConsumer");
    assert_eq!(at(sc, "/metadata/annotations/storageclass.kubernetes.io~1is-default-class"), "true");
    // csi_secret and csi_secret_namespace override the secrets.
    let c = ok(&format!("{DIRECT}\npool \"fast\" {{}}\nstorage_class \"fast\" {{\n  pool = pool.fast\n  csi_secret = \"my-secret\"\n  csi_secret_namespace = \"my-ns\"\n}}\n"));
    let params = at(obj(&c, "StorageClass", "fast"), "/parameters");
    for role in ["provisioner", "controller-expand", "node-stage"] {
        assert_eq!(params[format!("csi.storage.k8s.io/{role}-secret-name")], "my-secret");
        assert_eq!(params[format!("csi.storage.k8s.io/{role}-secret-namespace")], "my-ns");
    }
}

#[test]
fn s6_storage_class_checks() {
    // A direct-mode cluster needs its fsid; the pool's application must be rbd.
    let errs =
        errors("cluster \"lab\" {\n  ceph { mode = \"direct\" }\n}\npool \"fast\" {}\nstorage_class \"fast\" { pool = pool.fast }\n");
    assert!(errs.iter().any(|(_, m)| m.contains("fsid")), "{errs:?}");
    let errs = errors("pool \"objects\" { application = \"rgw\" }\nstorage_class \"s3\" { pool = pool.objects }\n");
    assert!(errs.iter().any(|(_, m)| m.contains("rbd") || m.contains("application")), "{errs:?}");
    expect_code(&errors("storage_class \"s\" { pool = pool.missing }\n"), "E0202");
}

#[test]
fn s6_namespace_quota_and_limits() {
    let c = clean(
        r#"
namespace "shop" {
  quota {
    cpu           = 0.5
    memory        = 1024Mi
    limits_cpu    = 2
    limits_memory = 1536Mi
    pods          = 40
    storage       = 100Gi
    pvcs          = 10
  }
  limits {
    default_cpu            = 500m
    default_memory         = 256Mi
    default_request_cpu    = 100m
    default_request_memory = 128Mi
    max_cpu                = 2
    max_memory             = 4Gi
  }
}
"#,
    );
    assert_eq!(ids(&c), ["Namespace/shop", "ResourceQuota/shop/shop-quota", "LimitRange/shop/shop-limits"]);
    assert_eq!(
        at(obj(&c, "ResourceQuota", "shop-quota"), "/spec"),
        &json!({"hard": {
            "requests.cpu": "500m",
            "requests.memory": "1Gi",
            "limits.cpu": "2",
            "limits.memory": "1536Mi",
            "pods": "40",
            "requests.storage": "100Gi",
            "persistentvolumeclaims": "10",
        }})
    );
    assert_eq!(
        at(obj(&c, "LimitRange", "shop-limits"), "/spec"),
        &json!({"limits": [{
            "type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
            "max": {"cpu": "2", "memory": "4Gi"},
        }]})
    );
    let yaml = c.render(false);
    assert!(yaml.contains("    pods: \"40\"\n"), "{yaml}");
    assert!(yaml.contains("    requests.cpu: 500m\n") || yaml.contains("    requests.cpu: \"500m\"\n"), "{yaml}");
    assert!(yaml.contains("    limits.cpu: \"2\"\n"), "{yaml}");
    assert_eq!(edge_reason(&c, "Namespace/shop", "ResourceQuota/shop/shop-quota"), Some("namespace"));
}

const STORAGE: &str = "namespace \"shop\" {}\npool \"fast\" {}\nstorage_class \"fast\" { pool = pool.fast }\n";

#[test]
fn s6_workload_deployment_lowering() {
    let c = clean(&format!(
        r#"{STORAGE}
config "app" {{
  namespace = namespace.shop
  data      = {{ LOG_LEVEL = "info" }}
}}
secret "tls" {{
  namespace = namespace.shop
  data      = {{ "tls.crt" = "cert" }}
}}
workload "web" {{
  namespace       = namespace.shop
  kind            = "deployment"
  image           = "acme/web:1.0"
  command         = ["/bin/web"]
  args            = ["--port", "8080"]
  replicas        = 1
  ports           = {{ http = 8080, metrics = 9090 }}
  env             = {{ MODE = "prod", WORKERS = 4, DEBUG = false }}
  service_account = "web"
  node_selector   = {{ "kubernetes.io/arch" = "amd64" }}
  labels          = {{ tier = "frontend" }}
  annotations     = {{ "example.com/team" = "web" }}
  wait            = false
  resources {{
    cpu          = 250m
    memory       = 256Mi
    cpu_limit    = 1
  }}
  volume "cache" {{
    storage_class = storage_class.fast
    size          = 5Gi
    mount         = "/cache"
  }}
  mount "config" {{
    config = config.app
    path   = "/etc/web"
  }}
  mount "tls" {{
    secret = secret.tls
    path   = "/etc/tls"
  }}
  expose {{
    port   = 443
    target = 8080
    type   = "LoadBalancer"
  }}
  probe {{
    tcp           = true
    port          = "http"
    initial_delay = 5
  }}
  update {{
    max_unavailable = 0
    max_surge       = "50%"
  }}
}}
"#
    ));
    assert_eq!(
        ids(&c),
        [
            "Namespace/shop",
            "CephBlockPool/rook-ceph/fast",
            "StorageClass/fast",
            "ConfigMap/shop/app",
            "Secret/shop/tls",
            "PersistentVolumeClaim/shop/web-cache",
            "Service/shop/web",
            "Deployment/shop/web",
        ]
    );
    let labels = json!({"app.kubernetes.io/managed-by": "cairn", "cairn.dev/stack": "shop", "tier": "frontend"});
    let annotations = json!({"cairn.dev/address": "workload.web", "example.com/team": "web"});
    assert_eq!(
        obj(&c, "Deployment", "web"),
        &json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": labels, "annotations": annotations},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "50%"}},
                "template": {
                    "metadata": {
                        "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "shop", "tier": "frontend"},
                        "annotations": {"example.com/team": "web"},
                    },
                    "spec": {
                        "serviceAccountName": "web",
                        "nodeSelector": {"kubernetes.io/arch": "amd64"},
                        "containers": [{
                            "name": "web",
                            "image": "acme/web:1.0",
                            "command": ["/bin/web"],
                            "args": ["--port", "8080"],
                            "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}],
                            "env": [
                                {"name": "DEBUG", "value": "false"},
                                {"name": "MODE", "value": "prod"},
                                {"name": "WORKERS", "value": "4"},
                            ],
                            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
                            "volumeMounts": [
                                {"name": "cache", "mountPath": "/cache"},
                                {"name": "config", "mountPath": "/etc/web", "readOnly": true},
                                {"name": "tls", "mountPath": "/etc/tls", "readOnly": true},
                            ],
                            "readinessProbe": {"tcpSocket": {"port": "http"}, "initialDelaySeconds": 5},
                        }],
                        "volumes": [
                            {"name": "cache", "persistentVolumeClaim": {"claimName": "web-cache"}},
                            {"name": "config", "configMap": {"name": "app"}},
                            {"name": "tls", "secret": {"secretName": "tls"}},
                        ],
                    },
                },
            },
        })
    );
    let pvc = obj(&c, "PersistentVolumeClaim", "web-cache");
    assert_eq!(
        at(pvc, "/spec"),
        &json!({"accessModes": ["ReadWriteOnce"], "storageClassName": "fast", "resources": {"requests": {"storage": "5Gi"}}})
    );
    let svc = obj(&c, "Service", "web");
    assert_eq!(
        at(svc, "/spec"),
        &json!({"type": "LoadBalancer", "selector": {"app.kubernetes.io/name": "web"}, "ports": [{"name": "port-443", "port": 443, "targetPort": 8080}]})
    );
    // The claim comes before the Deployment that mounts it, through its storage class.
    assert_eq!(edge_reason(&c, "PersistentVolumeClaim/shop/web-cache", "Deployment/shop/web"), Some("resource"));
    assert!(edge_reason(&c, "StorageClass/fast", "Deployment/shop/web").is_some());
    assert!(edge_reason(&c, "Secret/shop/tls", "Deployment/shop/web").is_some());
    assert!(edge_reason(&c, "ConfigMap/shop/app", "Deployment/shop/web").is_some());
}

#[test]
fn s6_workload_statefulset_lowering() {
    let c = ok(&format!(
        r#"{STORAGE}
workload "db" {{
  namespace = namespace.shop
  image     = "postgres:16.4"
  ports     = {{ postgres = 5432 }}
  resources {{ memory = 512Mi }}
  volume "data" {{
    storage_class = storage_class.fast
    size          = 20Gi
    mount         = "/var/lib/postgresql/data"
  }}
  volume "shared" {{
    storage_class = storage_class.fast
    size          = 1536Mi
    mount         = "/shared"
    access        = "ReadOnlyMany"
  }}
  expose {{ port = 5432, target = "postgres" }}
  probe {{ exec = ["pg_isready", "-U", "postgres"] }}
  update {{ max_unavailable = 1 }}
}}
"#
    ));
    // A volume makes it a StatefulSet by default; it gets the headless `db-hl` and, with
    // `expose`, the Service `db` as well.
    assert_eq!(
        ids(&c),
        [
            "Namespace/shop",
            "CephBlockPool/rook-ceph/fast",
            "StorageClass/fast",
            "Service/shop/db",
            "Service/shop/db-hl",
            "StatefulSet/shop/db"
        ]
    );
    let hl = obj(&c, "Service", "db-hl");
    assert_eq!(
        at(hl, "/spec"),
        &json!({"clusterIP": "None", "selector": {"app.kubernetes.io/name": "db"}, "ports": [{"name": "postgres", "port": 5432, "targetPort": "postgres"}]})
    );
    let s = obj(&c, "StatefulSet", "db");
    // No `replicas`: Kubernetes' default (and an autoscaler) own it.
    assert!(s.pointer("/spec/replicas").is_none());
    assert_eq!(at(s, "/spec/serviceName"), "db-hl");
    assert_eq!(at(s, "/spec/selector"), &json!({"matchLabels": {"app.kubernetes.io/name": "db"}}));
    assert_eq!(at(s, "/spec/updateStrategy"), &json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}));
    assert_eq!(
        at(s, "/spec/volumeClaimTemplates"),
        &json!([
            {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast", "resources": {"requests": {"storage": "20Gi"}}}},
            {"metadata": {"name": "shared"}, "spec": {"accessModes": ["ReadOnlyMany"], "storageClassName": "fast", "resources": {"requests": {"storage": "1536Mi"}}}},
        ])
    );
    // Claim templates carry no cairn labels (the PVCs they make are not cairn's objects).
    assert!(s.pointer("/spec/volumeClaimTemplates/0/metadata/labels").is_none());
    assert!(s.pointer("/spec/template/spec/volumes").is_none());
    assert_eq!(
        at(s, "/spec/template/spec/containers/0/volumeMounts"),
        &json!([{"name": "data", "mountPath": "/var/lib/postgresql/data"}, {"name": "shared", "mountPath": "/shared"}])
    );
    assert_eq!(at(s, "/spec/template/spec/containers/0/readinessProbe"), &json!({"exec": {"command": ["pg_isready", "-U", "postgres"]}}));
    assert_eq!(edge_reason(&c, "Service/shop/db-hl", "StatefulSet/shop/db"), Some("resource"));
    // `kind` overrides the default either way.
    let c = ok(&format!(
        "{STORAGE}\nworkload \"st\" {{\n  namespace = namespace.shop\n  kind = \"statefulset\"\n  image = \"a/b:1\"\n  resources {{ memory = 1Gi }}\n}}\nworkload \"dep\" {{\n  namespace = namespace.shop\n  kind = \"deployment\"\n  image = \"a/b:1\"\n  resources {{ memory = 1Gi }}\n  volume \"v\" {{\n    storage_class = storage_class.fast\n    size = 1Gi\n    mount = \"/v\"\n  }}\n}}\n"
    ));
    assert!(find(&c, "StatefulSet", "st").is_some() && find(&c, "Service", "st-hl").is_some());
    assert!(find(&c, "Deployment", "dep").is_some() && find(&c, "PersistentVolumeClaim", "dep-v").is_some());
    assert_eq!(
        at(obj(&c, "Deployment", "dep"), "/spec/template/spec/volumes"),
        &json!([{"name": "v", "persistentVolumeClaim": {"claimName": "dep-v"}}])
    );
}

#[test]
fn s6_workload_replicas_zero_and_namespace_string() {
    let c = ok("workload \"idle\" {\n  namespace = \"elsewhere\"\n  image = \"a/b:1\"\n  replicas = 0\n  resources { memory = 1Gi }\n}\n");
    let d = obj(&c, "Deployment", "idle");
    assert_eq!(at(d, "/spec/replicas"), 0);
    assert_eq!(at(d, "/metadata/namespace"), "elsewhere");
    expect_code(&errors("workload \"w\" {\n  namespace = \"x\"\n  image = \"a/b:1\"\n  replicas = -1\n}\n"), "E0301");
}

#[test]
fn s6_workload_memory_limit_defaults_to_memory() {
    let c = ok("workload \"w\" {\n  namespace = \"x\"\n  image = \"a/b:1\"\n  resources {\n    memory = 300Mi\n  }\n}\n");
    assert_eq!(
        at(obj(&c, "Deployment", "w"), "/spec/template/spec/containers/0/resources"),
        &json!({"requests": {"memory": "300Mi"}, "limits": {"memory": "300Mi"}})
    );
}

#[test]
fn s6_config_and_secret() {
    let c = ok_files(
        &[(
            "main.cairn",
            r#"
namespace "shop" {}
config "app" { namespace = namespace.shop, data = { key = "string", "on" = "yes", port = 8080 } }
secret "db" { namespace = namespace.shop, data = { password = env("DB_PASSWORD") }, type = "Opaque" }
secret "tls" {
  namespace = namespace.shop
  type      = "kubernetes.io/tls"
  data      = { "tls.crt" = "CERT", "tls.key" = "KEY" }
}
"#,
        )],
        &[("DB_PASSWORD", "s3cr3t")],
    );
    let cm = obj(&c, "ConfigMap", "app");
    assert_eq!(at(cm, "/data"), &json!({"key": "string", "on": "yes", "port": "8080"}));
    let s = find(&c, "Secret", "db").unwrap();
    assert_eq!(at(&s.body, "/type"), "Opaque");
    // base64 done by the compiler ("s3cr3t"), every value sensitive.
    assert_eq!(at(&s.body, "/data/password"), "czNjcjN0");
    assert_eq!(s.sensitive, ["/data/password"]);
    assert_eq!(at(&s.redacted(), "/data/password"), "(sensitive)");
    let tls = find(&c, "Secret", "tls").unwrap();
    assert_eq!(at(&tls.body, "/type"), "kubernetes.io/tls");
    assert_eq!(at(&tls.body, "/data"), &json!({"tls.crt": "Q0VSVA==", "tls.key": "S0VZ"}));
    assert_eq!(tls.sensitive.len(), 2);
    let yaml = c.render(false);
    assert!(!yaml.contains("czNjcjN0") && !yaml.contains("Q0VSVA==") && !yaml.contains("s3cr3t"), "{yaml}");
    assert!(c.render(true).contains("password: czNjcjN0"));
    // The secret's type defaults to Opaque.
    let c = ok("secret \"x\" {\n  namespace = \"shop\"\n  data = { a = \"b\" }\n}\n");
    assert_eq!(at(obj(&c, "Secret", "x"), "/type"), "Opaque");
}

#[test]
fn s6_manifest_source_and_object() {
    let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: shop\nspec:\n  rules:\n  - host: shop.example.com\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\n  namespace: shop\nspec:\n  podSelector: {}\n";
    let c = ok_files(
        &[
            (
                "main.cairn",
                r#"
namespace "shop" {}
manifest "ingress" {
  source    = file("ingress.yaml")
  namespace = namespace.shop
}
manifest "x" {
  object = {
    apiVersion = "rbac.authorization.k8s.io/v1"
    kind       = "ClusterRole"
    metadata   = { name = "reader", labels = { team = "ops" } }
    rules      = [{ apiGroups = [""], resources = ["pods"], verbs = ["get"] }]
  }
}
"#,
            ),
            ("ingress.yaml", ingress),
        ],
        &[],
    );
    let ing = obj(&c, "Ingress", "shop");
    assert_eq!(at(ing, "/metadata/namespace"), "shop");
    assert_eq!(at(ing, "/metadata/labels"), &json!({"app.kubernetes.io/managed-by": "cairn", "cairn.dev/stack": "shop"}));
    assert_eq!(at(ing, "/metadata/annotations"), &json!({"cairn.dev/address": "manifest.ingress"}));
    assert_eq!(at(ing, "/spec/rules/0/host"), "shop.example.com");
    assert_eq!(at(obj(&c, "NetworkPolicy", "deny-all"), "/metadata/namespace"), "shop");
    let role = find(&c, "ClusterRole", "reader").unwrap();
    assert_eq!(role.namespace, None);
    assert_eq!(at(&role.body, "/metadata/labels/team"), "ops");
    assert_eq!(at(&role.body, "/rules/0/verbs"), &json!(["get"]));
    assert!(edge_reason(&c, "Namespace/shop", "Ingress/shop/shop").is_some());
    assert_eq!(edge_reason(&c, "Namespace/shop", "NetworkPolicy/shop/deny-all"), Some("reference"));
    // The manifest's namespace checks an object's own.
    let errs = errors("manifest \"m\" {\n  namespace = \"a\"\n  object = { apiVersion = \"v1\", kind = \"ConfigMap\", metadata = { name = \"c\", namespace = \"b\" } }\n}\n");
    expect_code(&errs, "E0413");
    // A namespaced object needs a namespace.
    expect_code(
        &errors("manifest \"m\" {\n  object = { apiVersion = \"v1\", kind = \"ConfigMap\", metadata = { name = \"c\" } }\n}\n"),
        "E0413",
    );
}

#[test]
fn s6_manifest_crds_come_before_their_objects() {
    let c = ok(r#"
namespace "shop" {}
manifest "widget" {
  namespace = namespace.shop
  object = { apiVersion = "example.com/v1", kind = "Widget", metadata = { name = "w" }, spec = { size = 1 } }
}
manifest "crd" {
  object = {
    apiVersion = "apiextensions.k8s.io/v1"
    kind       = "CustomResourceDefinition"
    metadata   = { name = "widgets.example.com" }
    spec = {
      group = "example.com"
      scope = "Namespaced"
      names = { kind = "Widget", plural = "widgets" }
      versions = [{ name = "v1", served = true, storage = true }]
    }
  }
}
manifest "gadget" {
  object = { apiVersion = "example.com/v1", kind = "Gadget", metadata = { name = "g" } }
}
manifest "gadget-crd" {
  object = {
    apiVersion = "apiextensions.k8s.io/v1"
    kind       = "CustomResourceDefinition"
    metadata   = { name = "gadgets.example.com" }
    spec       = { group = "example.com", scope = "Cluster", names = { kind = "Gadget", plural = "gadgets" } }
  }
}
"#);
    assert_eq!(edge_reason(&c, "CustomResourceDefinition/widgets.example.com", "Widget/shop/w"), Some("crd"));
    // A cluster-scoped custom kind gets no namespace.
    assert_eq!(find(&c, "Gadget", "g").unwrap().namespace, None);
    assert_eq!(edge_reason(&c, "CustomResourceDefinition/gadgets.example.com", "Gadget/g"), Some("crd"));
}

#[test]
fn s6_policy_fragment() {
    let c = ok(&doc_example("policy \"no-latest\""));
    // Policies judge plans; they produce no objects.
    assert!(c.objects.is_empty());
    expect_code(&errors("policy \"p\" {\n  source = \"std:x\"\n  enforce = \"maybe\"\n}\n"), "E0301");
}

#[test]
fn s6_moved_fragment() {
    let c = ok(&format!("{DIRECT}\npool \"fast\" {{}}\nmoved {{ from = \"pool.old\", to = pool.fast }}\n"));
    assert_eq!(ids(&c), ["CephPool/fast"]);
    // Rook cannot rename a pool, so `moved` is an error that says so.
    let errs = errors("pool \"fast\" {}\nmoved { from = \"pool.old\", to = pool.fast }\n");
    expect_code(&errs, "E0409");
}

#[test]
fn s6_workload_update_takes_counts_and_percentages() {
    let src = |u: &str| {
        format!("workload \"w\" {{\n  namespace = \"x\"\n  image = \"a/b:1\"\n  replicas = 2\n  resources {{ memory = 1Gi }}\n  update {{ {u} }}\n}}\n")
    };
    let c = ok(&src("max_unavailable = 0, max_surge = 1"));
    assert_eq!(at(obj(&c, "Deployment", "w"), "/spec/strategy/rollingUpdate"), &json!({"maxUnavailable": 0, "maxSurge": 1}));
    let c = ok(&src("max_unavailable = \"25%\", max_surge = \"100%\""));
    assert_eq!(at(obj(&c, "Deployment", "w"), "/spec/strategy/rollingUpdate"), &json!({"maxUnavailable": "25%", "maxSurge": "100%"}));
    expect_code(&errors(&src("max_surge = \"http\"")), "E0301");
    expect_code(&errors(&src("max_surge = -1")), "E0301");
}

// ---------------------------------------------------------------------------------------------
// §7 Compile-time checks

#[test]
fn s7_checks_dependency_cycle_names_the_whole_cycle() {
    let c = build(
        &[(
            "main.cairn",
            "namespace \"shop\" {}\nworkload \"a\" {\n  namespace = namespace.shop\n  image = \"a/a:1\"\n  env = { B = \"${workload.b}\" }\n}\nworkload \"b\" {\n  namespace = namespace.shop\n  image = \"a/b:1\"\n  env = { A = \"${workload.a}\" }\n}\n",
        )],
        &[],
        Mode::Render,
    );
    let d = c.diagnostics.iter().find(|d| d.code == "E0501").unwrap_or_else(|| panic!("{}", describe(&c)));
    assert_eq!(d.message, "dependency cycle: workload.a → workload.b → workload.a");
    assert_eq!(d.labels.len(), 1, "a label on the other reference: {d:?}");
}

#[test]
fn s7_checks_workloads() {
    let w = |body: &str| format!("{STORAGE}\nworkload \"w\" {{\n  namespace = namespace.shop\n{body}\n}}\n");
    // A ReadWriteOnce volume on a Deployment with replicas > 1.
    let errs = errors(&w("  kind = \"deployment\"\n  image = \"a/b:1\"\n  replicas = 2\n  resources { memory = 1Gi }\n  volume \"v\" {\n    storage_class = storage_class.fast\n    size = 1Gi\n    mount = \"/v\"\n  }"));
    assert!(errs.iter().any(|(_, m)| m.contains("ReadWriteOnce")), "{errs:?}");
    // ReadWriteMany is what a Deployment's replicas share a volume with (on a CephFS class).
    let shared = "filesystem \"fs\" {\n  metadata { size = 3 }\n  data \"default\" { size = 3 }\n}\nstorage_class \"fs\" { filesystem = filesystem.fs }\n";
    ok(&format!("{shared}{}", w("  kind = \"deployment\"\n  image = \"a/b:1\"\n  replicas = 2\n  resources { memory = 1Gi }\n  volume \"v\" {\n    storage_class = storage_class.fs\n    size = 1Gi\n    mount = \"/v\"\n    access = \"ReadWriteMany\"\n  }")));
    // Memory limit below its request.
    let errs = errors(&w("  image = \"a/b:1\"\n  resources {\n    memory = 1Gi\n    memory_limit = 512Mi\n  }"));
    assert!(errs.iter().any(|(_, m)| m.contains("memory")), "{errs:?}");
    // No memory: a warning. An image without a tag or with :latest: a warning.
    let c = ok(&w("  image = \"a/b:1\""));
    assert!(warnings(&c).iter().any(|(_, m)| m.contains("memory")), "{}", describe(&c));
    for image in ["acme/web", "acme/web:latest"] {
        let c = ok(&w(&format!("  image = \"{image}\"\n  resources {{ memory = 1Gi }}")));
        assert_eq!(warnings(&c).len(), 1, "{image}: {}", describe(&c));
    }
    clean(&w(
        "  image = \"acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n  resources { memory = 1Gi }",
    ));
    clean(&w("  image = \"registry:5000/acme/web:1.0\"\n  resources { memory = 1Gi }"));
}

#[test]
fn s7_checks_quota_fit() {
    let ns = "namespace \"shop\" {\n  quota {\n    cpu = 1\n    memory = 1Gi\n    pods = 3\n  }\n}\n";
    let w = |name: &str, replicas: i64, cpu: &str, mem: &str| {
        format!("workload \"{name}\" {{\n  namespace = namespace.shop\n  image = \"a/b:1\"\n  replicas = {replicas}\n  update {{ max_surge = 0, max_unavailable = 1 }}\n  resources {{\n    cpu = {cpu}\n    memory = {mem}\n  }}\n}}\n")
    };
    clean(&format!("{ns}{}", w("a", 2, "500m", "512Mi")));
    let errs = errors(&format!("{ns}{}", w("a", 2, "600m", "256Mi")));
    assert!(errs.iter().any(|(_, m)| m.contains("shop-quota")), "{errs:?}");
    let errs = errors(&format!("{ns}{}{}", w("a", 2, "100m", "128Mi"), w("b", 2, "100m", "128Mi")));
    assert!(errs.iter().any(|(_, m)| m.contains("pods")), "{errs:?}");
    // A workload without requests in a namespace whose quota sets them.
    let errs = errors(&format!("{ns}workload \"x\" {{\n  namespace = namespace.shop\n  image = \"a/b:1\"\n}}\n"));
    assert!(errs.iter().any(|(c, _)| c == "E0407"), "{errs:?}");
    // Unless the namespace's limits supply default requests (which then count).
    ok("namespace \"shop\" {\n  quota {\n    cpu = 1\n    memory = 1Gi\n  }\n  limits {\n    default_request_cpu = 100m\n    default_request_memory = 128Mi\n  }\n}\nworkload \"x\" {\n  namespace = namespace.shop\n  image = \"a/b:1\"\n  update { max_surge = 0, max_unavailable = 1 }\n}\n");
    // Room for a rolling update's surge missing: a warning.
    let c = ok(&format!("{ns}{}", w("a", 2, "500m", "512Mi").replace("max_surge = 0", "max_surge = 1")));
    assert!(!warnings(&c).is_empty(), "{}", describe(&c));
}

#[test]
fn s7_checks_pool_quota_warning() {
    let c = ok("namespace \"shop\" {}\npool \"fast\" {\n  quota { max_bytes = 10Gi }\n}\nstorage_class \"fast\" { pool = pool.fast }\nworkload \"db\" {\n  namespace = namespace.shop\n  image = \"a/b:1\"\n  resources { memory = 1Gi }\n  volume \"data\" {\n    storage_class = storage_class.fast\n    size = 20Gi\n    mount = \"/data\"\n  }\n}\n");
    assert!(warnings(&c).iter().any(|(_, m)| m.contains("fast")), "{}", describe(&c));
}

// ---------------------------------------------------------------------------------------------
// §8 Objects produced

/// A stack with one object of most kinds, its parts deliberately declared in reverse order.
const FULL: &str = r#"
workload "web" {
  namespace = namespace.shop
  image     = "acme/web:1.0"
  replicas  = 2
  ports     = { http = 8080 }
  env       = { PASSWORD = secret.db.password, LEVEL = config.app.LEVEL }
  resources {
    cpu    = 100m
    memory = 128Mi
  }
  expose { port = 80, target = "http" }
}
workload "db" {
  namespace = namespace.shop
  image     = "postgres:16.4"
  replicas  = 1
  ports     = { pg = 5432 }
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
  data      = { password = "s3cr3t-planted" }
}
config "app" {
  namespace = namespace.shop
  data      = { LEVEL = "info" }
}
storage_class "fast" { pool = pool.fast }
pool "fast" { quota { max_bytes = 100Gi } }
namespace "shop" {
  quota {
    cpu    = 2
    memory = 2Gi
    pods   = 10
  }
  limits { max_memory = 1Gi }
}
namespace "aaa" {}
config "first" {
  namespace = namespace.aaa
  data      = { x = "y" }
}
"#;

#[test]
fn s8_objects_produced_labels_and_address_annotation() {
    let c = clean(FULL);
    for o in &c.objects {
        let meta = at(&o.body, "/metadata");
        assert_eq!(meta["labels"]["app.kubernetes.io/managed-by"], "cairn", "{}", o.id());
        assert_eq!(meta["labels"]["cairn.dev/stack"], "shop", "{}", o.id());
        assert_eq!(meta["annotations"]["cairn.dev/address"], json!(o.address.to_string()), "{}", o.id());
        assert_eq!(meta["name"], json!(o.name));
        assert_eq!(meta.get("namespace").and_then(Json::as_str), o.namespace.as_deref(), "{}", o.id());
        // apiVersion comes first.
        assert_eq!(o.body.as_object().unwrap().keys().next().map(String::as_str), Some("apiVersion"));
    }
}

#[test]
fn s8_objects_produced_apply_order() {
    let c = clean(FULL);
    assert_eq!(
        ids(&c),
        [
            "Namespace/aaa",
            "Namespace/shop",
            "CephBlockPool/rook-ceph/fast",
            "StorageClass/fast",
            "ResourceQuota/shop/shop-quota",
            "LimitRange/shop/shop-limits",
            "ConfigMap/aaa/first",
            "ConfigMap/shop/app",
            "Secret/shop/db",
            "Service/shop/db-hl",
            "Service/shop/web",
            "StatefulSet/shop/db",
            "Deployment/shop/web",
        ]
    );
    // Implicit edges: namespace → its objects, quota and limits → its workloads.
    for w in ["StatefulSet/shop/db", "Deployment/shop/web"] {
        assert!(edge_reason(&c, "ResourceQuota/shop/shop-quota", w).is_some());
        assert!(edge_reason(&c, "LimitRange/shop/shop-limits", w).is_some());
    }
    // They exist without a reference too (a namespace given by name).
    let c2 = ok("namespace \"shop\" {\n  limits { default_request_memory = 64Mi }\n}\nworkload \"w\" {\n  namespace = \"shop\"\n  image = \"a/b:1\"\n}\n");
    assert_eq!(ids(&c2), ["Namespace/shop", "LimitRange/shop/shop-limits", "Deployment/shop/w"]);
    assert_eq!(edge_reason(&c2, "LimitRange/shop/shop-limits", "Deployment/shop/w"), Some("admission"));
    assert_eq!(edge_reason(&c2, "Namespace/shop", "Deployment/shop/w"), Some("namespace"));
    assert_eq!(edge_reason(&c, "Namespace/shop", "Service/shop/web"), Some("reference"));
    assert_eq!(edge_reason(&c, "Namespace/aaa", "ConfigMap/aaa/first"), Some("reference"));
    // Every edge runs forward in apply order.
    for e in c.graph.graph.edge_indices() {
        let (a, b) = c.graph.graph.edge_endpoints(e).unwrap();
        assert!(a.index() < b.index(), "edge {} → {} runs backwards", c.objects[a.index()].id(), c.objects[b.index()].id());
    }
    // Node i of the graph is object i.
    for n in c.graph.graph.node_indices() {
        assert_eq!(c.graph.graph[n], n.index());
    }
    // A dependency beats the kind rank: a ConfigMap that depends on a Deployment follows it.
    let c = ok("namespace \"shop\" {}\nworkload \"w\" {\n  namespace = namespace.shop\n  image = \"a/b:1\"\n  resources { memory = 1Gi }\n}\nconfig \"after\" {\n  namespace = namespace.shop\n  depends_on = [workload.w]\n  data = {}\n}\n");
    assert_eq!(ids(&c), ["Namespace/shop", "Deployment/shop/w", "ConfigMap/shop/after"]);
}

#[test]
fn s8_objects_produced_deterministic() {
    let a = clean(FULL).render(true);
    for _ in 0..3 {
        assert_eq!(clean(FULL).render(true), a);
    }
    // File order does not matter either.
    let (x, y) = FULL.split_at(FULL.find("secret \"db\"").unwrap());
    let c = ok_files(&[("b.cairn", x), ("a.cairn", y)], &[]);
    assert_eq!(c.render(true), a);
}

#[test]
fn s8_objects_produced_yaml_quoting() {
    let words = [
        "y",
        "Y",
        "n",
        "yes",
        "No",
        "on",
        "OFF",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "1:30",
        "2024-01-01",
        "0x1F",
        "1e3",
        "012",
        "1_000",
        "3.14",
        ".inf",
        "-1",
        "+1",
        "",
    ];
    let data: Vec<String> = words.iter().enumerate().map(|(i, w)| format!("k{i:02} = \"{w}\"")).collect();
    let c = ok(&format!("config \"q\" {{\n  namespace = \"shop\"\n  data = {{\n    {}\n  }}\n}}\n", data.join("\n    ")));
    let yaml = c.render(false);
    for (i, w) in words.iter().enumerate() {
        assert!(yaml.contains(&format!("  k{i:02}: \"{w}\"\n")), "`{w}` is not double-quoted:\n{yaml}");
    }
    let doc: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    for (i, w) in words.iter().enumerate() {
        assert_eq!(doc["data"][format!("k{i:02}").as_str()], serde_yaml::Value::String(w.to_string()));
    }
    // Ordinary words stay plain.
    let c = ok("config \"q\" {\n  namespace = \"shop\"\n  data = { a = \"info\", b = \"yesterday\", c = \"1Gi\" }\n}\n");
    let yaml = c.render(false);
    assert!(yaml.contains("  a: info\n  b: yesterday\n  c: 1Gi\n"), "{yaml}");
}

#[test]
fn s8_objects_produced_quantities_render_as_strings() {
    let c = clean("namespace \"shop\" {\n  quota {\n    cpu = 2\n    memory = 1024Mi\n    limits_cpu = 0.5\n    limits_memory = 1536Mi\n    pods = 40\n  }\n}\n");
    let yaml = c.render(false);
    for line in ["requests.cpu: \"2\"", "requests.memory: 1Gi", "limits.cpu: 500m", "limits.memory: 1536Mi", "pods: \"40\""] {
        assert!(yaml.contains(&format!("    {line}\n")), "no `{line}` in:\n{yaml}");
    }
    let docs: Vec<serde_yaml::Value> =
        serde_yaml::Deserializer::from_str(&yaml).map(|d| serde::Deserialize::deserialize(d).unwrap()).collect();
    let hard = &docs[1]["spec"]["hard"];
    for (k, v) in [("requests.cpu", "2"), ("requests.memory", "1Gi"), ("limits.cpu", "500m"), ("limits.memory", "1536Mi"), ("pods", "40")] {
        assert_eq!(hard[k], serde_yaml::Value::String(v.into()), "{k}");
    }
    // Ceph byte counts are integers.
    let c = clean("pool \"p\" {\n  quota {\n    max_bytes = 1Gi\n    max_objects = 5\n  }\n}\n");
    assert!(c.render(false).contains("  quotas:\n    maxBytes: 1073741824\n    maxObjects: 5\n"), "{}", c.render(false));
}

#[test]
fn s8_objects_produced_stream_format() {
    let c = clean(FULL);
    let yaml = c.render(false);
    assert!(!yaml.starts_with("---"));
    assert_eq!(yaml.matches("\n---\n").count(), c.objects.len() - 1);
    assert!(yaml.ends_with('\n'));
    let docs: Vec<serde_yaml::Value> =
        serde_yaml::Deserializer::from_str(&yaml).map(|d| serde::Deserialize::deserialize(d).unwrap()).collect();
    assert_eq!(docs.len(), c.objects.len());
    // Secret values are `(sensitive)` unless revealed.
    let secret = docs.iter().find(|d| d["kind"] == "Secret").unwrap();
    assert_eq!(secret["data"]["password"], "(sensitive)");
    assert!(!yaml.contains("s3cr3t-planted") && !yaml.contains("czNjcjN0LXBsYW50ZWQ="));
    assert!(c.render(true).contains("password: czNjcjN0LXBsYW50ZWQ=\n"));
}

/// The CephPool of §8, as documented.
const ARCHIVE: &str = r#"
stack "shop" { cluster = cluster.lab }
cluster "lab" {
  ceph { mode = "direct" }
}
pool "archive" {
  type           = "erasure"
  erasure { k = 4, m = 2 }
  pg_num         = 32
  autoscale      = "off"
  failure_domain = "host"
  device_class   = "ssd"
  application    = "rgw"
  quota { max_bytes = 100Gi, max_objects = 1000 }
}
"#;

#[test]
fn s8_objects_produced_direct_mode_ceph_pool() {
    let c = clean(ARCHIVE);
    assert_eq!(c.objects.len(), 1);
    let o = &c.objects[0];
    assert_eq!(o.target, cairn_compiler::lower::Target::Ceph);
    assert!(o.protect);
    let body = &o.body;
    // Key by key, in the documented order.
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
    assert_eq!(body["apiVersion"], "cairn.dev/v1alpha1");
    assert_eq!(body["kind"], "CephPool");
    let meta_keys: Vec<&str> = body["metadata"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(meta_keys, ["name", "labels", "annotations"]);
    assert_eq!(body["metadata"]["name"], "archive");
    assert_eq!(body["metadata"]["labels"], json!({"app.kubernetes.io/managed-by": "cairn", "cairn.dev/stack": "shop"}));
    assert_eq!(body["metadata"]["annotations"], json!({"cairn.dev/address": "pool.archive"}));
    let spec_keys: Vec<&str> = body["spec"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(spec_keys, ["type", "min_size", "erasure", "pg_num", "autoscale", "failure_domain", "device_class", "application", "quota"]);
    assert_eq!(
        body["spec"],
        json!({
            "type": "erasure",
            "min_size": 5,
            "erasure": {"k": 4, "m": 2},
            "pg_num": 32,
            "autoscale": "off",
            "failure_domain": "host",
            "device_class": "ssd",
            "application": "rgw",
            "quota": {"max_bytes": 107374182400u64, "max_objects": 1000},
        })
    );
    let yaml = c.render(false);
    assert!(yaml.contains("  autoscale: \"off\"\n"), "{yaml}");
    assert!(yaml.contains("    max_bytes: 107374182400\n"), "{yaml}");
    insta::assert_snapshot!("s8_direct_mode_ceph_pool", yaml);

    // The replicated variant: size and min_size, no erasure; unset pg_num, device class and
    // quota are absent.
    let c = clean(
        &ARCHIVE
            .replace("  type           = \"erasure\"\n  erasure { k = 4, m = 2 }\n", "  type = \"replicated\"\n  size = 3\n")
            .replace("  pg_num         = 32\n", "")
            .replace("  device_class   = \"ssd\"\n", "")
            .replace("  quota { max_bytes = 100Gi, max_objects = 1000 }\n", ""),
    );
    let spec = &c.objects[0].body["spec"];
    let spec_keys: Vec<&str> = spec.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(spec_keys, ["type", "size", "min_size", "autoscale", "failure_domain", "application"]);
    assert_eq!(
        spec,
        &json!({"type": "replicated", "size": 3, "min_size": 2, "autoscale": "off", "failure_domain": "host", "application": "rgw"})
    );
    // Each quota field is absent when unlimited.
    let c = clean(&ARCHIVE.replace("max_bytes = 100Gi, ", ""));
    assert_eq!(c.objects[0].body["spec"]["quota"], json!({"max_objects": 1000}));
}

#[test]
fn s8_objects_produced_snapshot_full_stack() {
    let c = clean(FULL);
    insta::assert_snapshot!("s8_full_stack", c.render(false));
}

#[test]
fn s5_templates_snapshot_web_app() {
    let c = ok_files(&[("apps.cairn", &web_app())], &[]);
    insta::assert_snapshot!("s5_web_app", c.render(false));
}

#[test]
fn s6_storage_class_snapshot_direct() {
    let c = clean(&format!(
        "{DIRECT}\npool \"fast\" {{ device_class = \"ssd\" }}\nstorage_class \"fast\" {{\n  pool    = pool.fast\n  default = true\n}}\n"
    ));
    insta::assert_snapshot!("s6_storage_class_direct", c.render(false));
}

// ---- §10 "workload: more shapes" and "workload security" ----

const SHAPES: &str = r#"
namespace "shop" { pod_security = "restricted" }

config "proxy" {
  namespace = namespace.shop
  data      = { "envoy.yaml" = "static_resources: {}" }
}

secret "db" {
  namespace = namespace.shop
  data      = { password = "hunter2-planted" }
}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  replicas  = 2
  ports     = { http = 8080 }
  env       = { MODE = "prod" }
  resources { memory = 128Mi }
  probe { http = "/ready" }
  liveness { http = "/healthz", initial_delay = 5 }
  startup { tcp = true, port = 8080 }
  security {
    user       = 1000
    group      = 1000
    fs_group   = 2000
    non_root   = true
    seccomp    = "RuntimeDefault"
    read_only  = true
    escalation = false
    drop       = ["ALL"]
    add        = []
  }
  mount "conf" {
    config = config.proxy
    path   = "/etc/nginx/conf.d"
  }

  container "metrics" {
    image = "prom/statsd-exporter:v0.27.1"
    ports = { metrics = 9102 }
    env   = { DB_PASSWORD = secret.db.password, TOKEN = sensitive("planted-inline-token") }
    resources { memory = 32Mi }
    liveness { http = "/metrics" }
    mount "conf" { path = "/etc/exporter" }
    security {
      escalation = false
      drop       = ["ALL"]
      add        = ["NET_BIND_SERVICE"]
    }
  }
  init "migrate" {
    image   = "migrate:3.1"
    command = ["migrate", "up"]
    env     = { DB_PASSWORD = secret.db.password }
    resources { memory = 64Mi }
  }
}

workload "report" {
  namespace = namespace.shop
  kind      = "cronjob"
  schedule  = "0 3 * * *"
  retries   = 2
  image     = "report:1.4"
  resources { memory = 64Mi }
  security {
    non_root   = true
    seccomp    = "RuntimeDefault"
    escalation = false
    drop       = ["ALL"]
  }
}

workload "seed" {
  namespace = namespace.shop
  kind      = "job"
  image     = "seed:1.0"
  resources { memory = 64Mi }
  security {
    non_root   = true
    seccomp    = "Localhost"
    escalation = false
    drop       = ["ALL"]
  }
}

workload "agent" {
  namespace = "infra"
  kind      = "daemonset"
  image     = "agent:0.9"
  resources { memory = 64Mi }
  update { max_unavailable = 1 }
}
"#;

#[test]
fn s10_containers_follow_the_main_one_and_init_containers_go_first() {
    let c = clean(SHAPES);
    let spec = at(obj(&c, "Deployment", "web"), "/spec/template/spec");
    let names: Vec<&str> = at(spec, "/containers").as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["web", "metrics"]);
    assert_eq!(at(spec, "/initContainers/0/name"), "migrate");
    assert_eq!(at(spec, "/initContainers/0/command"), &json!(["migrate", "up"]));
    assert_eq!(at(spec, "/containers/1/ports"), &json!([{ "name": "metrics", "containerPort": 9102 }]));
    // A sidecar's mount without `config`/`secret` shares the workload's mount of that name.
    assert_eq!(at(spec, "/containers/1/volumeMounts"), &json!([{ "name": "conf", "mountPath": "/etc/exporter", "readOnly": true }]));
    assert_eq!(at(spec, "/volumes"), &json!([{ "name": "conf", "configMap": { "name": "proxy" } }]));
    assert_eq!(
        at(spec, "/containers/1/env/0"),
        &json!({ "name": "DB_PASSWORD", "valueFrom": { "secretKeyRef": { "name": "db", "key": "password" } } })
    );
}

#[test]
fn s10_probes_render_as_readiness_liveness_and_startup() {
    let c = clean(SHAPES);
    let main = at(obj(&c, "Deployment", "web"), "/spec/template/spec/containers/0");
    assert_eq!(at(main, "/readinessProbe"), &json!({ "httpGet": { "path": "/ready", "port": "http" } }));
    assert_eq!(at(main, "/livenessProbe"), &json!({ "httpGet": { "path": "/healthz", "port": "http" }, "initialDelaySeconds": 5 }));
    assert_eq!(at(main, "/startupProbe"), &json!({ "tcpSocket": { "port": 8080 } }));
    let sidecar = at(obj(&c, "Deployment", "web"), "/spec/template/spec/containers/1");
    assert_eq!(at(sidecar, "/livenessProbe"), &json!({ "httpGet": { "path": "/metrics", "port": "metrics" } }));
}

#[test]
fn s10_security_goes_to_the_pod_and_every_container_unless_a_container_has_its_own() {
    let c = clean(SHAPES);
    let spec = at(obj(&c, "Deployment", "web"), "/spec/template/spec");
    assert_eq!(
        at(spec, "/securityContext"),
        &json!({ "runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": true, "fsGroup": 2000, "seccompProfile": { "type": "RuntimeDefault" } })
    );
    let workload_level = json!({ "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } });
    assert_eq!(at(spec, "/containers/0/securityContext"), &workload_level, "an empty `add` renders nothing");
    assert_eq!(at(spec, "/initContainers/0/securityContext"), &workload_level);
    assert_eq!(
        at(spec, "/containers/1/securityContext"),
        &json!({ "allowPrivilegeEscalation": false, "capabilities": { "add": ["NET_BIND_SERVICE"], "drop": ["ALL"] } }),
        "the sidecar's own block replaces the workload's container-level attributes"
    );
}

#[test]
fn s10_pod_security_labels_the_namespace() {
    let c = clean(SHAPES);
    let ns = obj(&c, "Namespace", "shop");
    assert_eq!(at(ns, "/metadata/labels/pod-security.kubernetes.io~1enforce"), "restricted");
    assert_eq!(at(ns, "/metadata/labels/pod-security.kubernetes.io~1enforce-version"), "latest");
}

#[test]
fn s10_job_cronjob_and_daemonset_lowering() {
    let c = clean(SHAPES);
    let cron = obj(&c, "CronJob", "report");
    assert_eq!(at(cron, "/apiVersion"), "batch/v1");
    assert_eq!(at(cron, "/spec/schedule"), "0 3 * * *");
    assert_eq!(at(cron, "/spec/jobTemplate/spec/backoffLimit"), 2);
    assert_eq!(at(cron, "/spec/jobTemplate/spec/template/spec/restartPolicy"), "OnFailure");
    assert_eq!(at(cron, "/spec/jobTemplate/spec/template/spec/containers/0/name"), "report");
    let job = obj(&c, "Job", "seed");
    assert_eq!(at(job, "/apiVersion"), "batch/v1");
    assert_eq!(at(job, "/spec/template/spec/restartPolicy"), "OnFailure");
    assert!(job.pointer("/spec/backoffLimit").is_none(), "unset `retries` keeps Kubernetes' default");
    assert!(job.pointer("/spec/selector").is_none(), "the API server generates a Job's selector");
    let ds = obj(&c, "DaemonSet", "agent");
    assert_eq!(at(ds, "/apiVersion"), "apps/v1");
    assert!(ds.pointer("/spec/replicas").is_none());
    assert_eq!(at(ds, "/spec/selector/matchLabels/app.kubernetes.io~1name"), "agent");
    assert_eq!(at(ds, "/spec/updateStrategy"), &json!({ "type": "RollingUpdate", "rollingUpdate": { "maxUnavailable": 1 } }));
}

#[test]
fn s10_sidecar_and_init_secrets_are_sensitive_wherever_they_sit() {
    let c = clean(SHAPES);
    let web = find(&c, "Deployment", "web").expect("web");
    assert!(web.sensitive.contains(&"/spec/template/spec/containers/1/env/1/value".to_string()), "{:?}", web.sensitive);
    let rendered = c.render(false);
    assert!(!rendered.contains("planted-inline-token") && !rendered.contains("hunter2-planted"), "{rendered}");
    insta::assert_snapshot!("s10_more_shapes", rendered);
}

#[test]
fn s10_quota_counts_init_containers_by_the_schedulers_rule() {
    // Sum of containers 96Mi < the largest init 200Mi: each pod counts 200Mi; 3 × 200Mi > 512Mi.
    let src = r#"
namespace "shop" {
  quota { memory = 512Mi }
}
workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  replicas  = 3
  update { max_surge = 0 }
  resources { memory = 64Mi }
  container "log" {
    image = "fluent-bit:3.1"
    resources { memory = 32Mi }
  }
  init "warm" {
    image = "warm:1.0"
    resources { memory = 200Mi }
  }
}
"#;
    let errs = errors(src);
    assert!(errs.iter().any(|(c, m)| c == "E0406" && m.contains("600Mi")), "{errs:?}");
    // Without the init container the containers' sum fits: 3 × 96Mi = 288Mi.
    let fits = src.replace("  init \"warm\" {\n    image = \"warm:1.0\"\n    resources { memory = 200Mi }\n  }\n", "");
    ok(&fits);
}

// ---- §10 file and object storage ----

const FILE_AND_OBJECT: &str = r#"namespace "shop" {}

filesystem "shared" {
  metadata { size = 3 }
  data "default" { size = 3 }
  data "cold" {
    type = "erasure"
    erasure {
      k = 4
      m = 2
    }
  }
  active  = 1
  standby = true
}

storage_class "shared" {
  filesystem = filesystem.shared
}

storage_class "cold" {
  filesystem = filesystem.shared
  data       = "cold"
  reclaim    = "Retain"
}

object_store "media" {
  metadata { size = 3 }
  data {
    type = "erasure"
    erasure {
      k = 2
      m = 1
    }
  }
  gateway {
    port      = 80
    instances = 2
  }
}

bucket "uploads" {
  namespace = namespace.shop
  store     = object_store.media
}

bucket "archive" {
  namespace = namespace.shop
  store     = object_store.media
  reclaim   = "Retain"
}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  replicas  = 3
  resources { memory = 64Mi }
  env = {
    BUCKET     = bucket.uploads.name
    S3_HOST    = bucket.uploads.host
    S3_PORT    = bucket.uploads.port
    ACCESS_KEY = bucket.uploads.access_key
    SECRET_KEY = bucket.uploads.secret_key
  }
  volume "uploads" {
    storage_class = storage_class.shared
    size          = 10Gi
    mount         = "/uploads"
    access        = "ReadWriteMany"
  }
}
"#;

#[test]
fn s10_filesystem_rook_lowering() {
    let c = clean(FILE_AND_OBJECT);
    let fs = obj(&c, "CephFilesystem", "shared");
    assert_eq!(at(fs, "/apiVersion"), "ceph.rook.io/v1");
    assert_eq!(at(fs, "/metadata/namespace"), "rook-ceph");
    assert_eq!(at(fs, "/spec/metadataPool"), &json!({ "replicated": { "size": 3 }, "failureDomain": "host" }));
    assert_eq!(
        at(fs, "/spec/dataPools"),
        &json!([
            { "name": "default", "replicated": { "size": 3 }, "failureDomain": "host" },
            { "name": "cold", "erasureCoded": { "dataChunks": 4, "codingChunks": 2 }, "failureDomain": "host" },
        ])
    );
    assert_eq!(at(fs, "/spec/metadataServer"), &json!({ "activeCount": 1, "activeStandby": true }));
    assert_eq!(at(fs, "/spec/preserveFilesystemOnDelete"), true, "protect defaults to true");
    assert!(find(&c, "CephFilesystem", "shared").is_some_and(|o| o.protect));
}

#[test]
fn s10_storage_class_on_a_filesystem() {
    let c = clean(FILE_AND_OBJECT);
    let sc = obj(&c, "StorageClass", "shared");
    assert_eq!(at(sc, "/provisioner"), "rook-ceph.cephfs.csi.ceph.com");
    assert_eq!(at(sc, "/parameters/fsName"), "shared");
    assert_eq!(at(sc, "/parameters/pool"), "shared-default", "the first data pool by default");
    assert_eq!(at(sc, "/parameters/csi.storage.k8s.io~1provisioner-secret-name"), "rook-csi-cephfs-provisioner");
    assert_eq!(at(sc, "/parameters/csi.storage.k8s.io~1node-stage-secret-name"), "rook-csi-cephfs-node");
    assert!(sc.pointer("/parameters/csi.storage.k8s.io~1fstype").is_none());
    assert_eq!(at(obj(&c, "StorageClass", "cold"), "/parameters/pool"), "shared-cold");
    // The graph: file system → its storage class → the claims of the workload's volume.
    assert!(pos(&c, "CephFilesystem/rook-ceph/shared") < pos(&c, "StorageClass/shared"));
    assert!(edge_reason(&c, "CephFilesystem/rook-ceph/shared", "StorageClass/shared").is_some());
    assert!(edge_reason(&c, "StorageClass/shared", "StatefulSet/shop/web").is_some());
}

#[test]
fn s10_object_store_buckets_and_their_classes() {
    let c = clean(FILE_AND_OBJECT);
    let store = obj(&c, "CephObjectStore", "media");
    assert_eq!(at(store, "/spec/dataPool"), &json!({ "erasureCoded": { "dataChunks": 2, "codingChunks": 1 }, "failureDomain": "host" }));
    assert_eq!(at(store, "/spec/gateway"), &json!({ "port": 80, "instances": 2 }));
    assert_eq!(at(store, "/spec/preservePoolsOnDelete"), true);
    // One class per reclaim policy: the first bucket's is `<store>-buckets`.
    let first = obj(&c, "StorageClass", "media-buckets");
    assert_eq!(at(first, "/provisioner"), "rook-ceph.ceph.rook.io/bucket");
    assert_eq!(at(first, "/parameters"), &json!({ "objectStoreName": "media", "objectStoreNamespace": "rook-ceph" }));
    assert_eq!(at(first, "/reclaimPolicy"), "Delete");
    assert_eq!(at(obj(&c, "StorageClass", "media-buckets-retain"), "/reclaimPolicy"), "Retain");
    let claim = obj(&c, "ObjectBucketClaim", "uploads");
    assert_eq!(at(claim, "/apiVersion"), "objectbucket.io/v1alpha1");
    assert_eq!(at(claim, "/spec"), &json!({ "generateBucketName": "uploads", "storageClassName": "media-buckets" }));
    assert_eq!(at(obj(&c, "ObjectBucketClaim", "archive"), "/spec/storageClassName"), "media-buckets-retain");
    assert!(find(&c, "ObjectBucketClaim", "uploads").is_some_and(|o| o.protect), "a bucket is protected by default");
    // object store → bucket class → bucket → the workload that reads it.
    assert!(pos(&c, "StorageClass/media-buckets") < pos(&c, "ObjectBucketClaim/shop/uploads"));
    assert!(edge_reason(&c, "ObjectBucketClaim/shop/uploads", "StatefulSet/shop/web").is_some());
}

#[test]
fn s10_bucket_references_become_key_references() {
    let c = clean(FILE_AND_OBJECT);
    let env = at(obj(&c, "StatefulSet", "web"), "/spec/template/spec/containers/0/env");
    let of = |name: &str| env.as_array().into_iter().flatten().find(|e| e["name"] == name).cloned().unwrap_or_default();
    assert_eq!(of("BUCKET")["valueFrom"], json!({ "configMapKeyRef": { "name": "uploads", "key": "BUCKET_NAME" } }));
    assert_eq!(of("S3_HOST")["valueFrom"], json!({ "configMapKeyRef": { "name": "uploads", "key": "BUCKET_HOST" } }));
    assert_eq!(of("S3_PORT")["valueFrom"], json!({ "configMapKeyRef": { "name": "uploads", "key": "BUCKET_PORT" } }));
    assert_eq!(of("ACCESS_KEY")["valueFrom"], json!({ "secretKeyRef": { "name": "uploads", "key": "AWS_ACCESS_KEY_ID" } }));
    assert_eq!(of("SECRET_KEY")["valueFrom"], json!({ "secretKeyRef": { "name": "uploads", "key": "AWS_SECRET_ACCESS_KEY" } }));
}

#[test]
fn s10_filesystem_direct_mode_lowering() {
    let src = r#"
cluster "lab" {
  ceph {
    mode = "direct"
    fsid = "8a0c6f3e-1b2d-4c5e-9f70-112233445566"
  }
}
filesystem "shared" {
  metadata { size = 3 }
  data "default" { size = 2 }
  data "cold" {
    type = "erasure"
    erasure {
      k = 2
      m = 1
    }
  }
  active  = 2
  standby = false
}
storage_class "shared" {
  filesystem = filesystem.shared
}
"#;
    let c = clean(src);
    let fs = obj(&c, "CephFs", "shared");
    assert_eq!(at(fs, "/apiVersion"), "cairn.dev/v1alpha1");
    assert_eq!((at(fs, "/spec/active"), at(fs, "/spec/standby")), (&json!(2), &json!(false)));
    assert_eq!(at(fs, "/spec/data/0/name"), "default");
    assert_eq!(at(fs, "/spec/data/1/ec_overwrites"), true);
    for (pool, app) in [("shared-metadata", "cephfs"), ("shared-default", "cephfs"), ("shared-cold", "cephfs")] {
        assert_eq!(at(obj(&c, "CephPool", pool), "/spec/application"), app);
    }
    assert_eq!(at(obj(&c, "CephPool", "shared-default"), "/spec/min_size"), 1);
    let sc = obj(&c, "StorageClass", "shared");
    assert_eq!(at(sc, "/provisioner"), "cephfs.csi.ceph.com");
    assert_eq!(at(sc, "/parameters/clusterID"), "8a0c6f3e-1b2d-4c5e-9f70-112233445566");
    assert_eq!(at(sc, "/parameters/csi.storage.k8s.io~1node-stage-secret-namespace"), "ceph-csi-cephfs");
    assert!(pos(&c, "CephPool/shared-default") < pos(&c, "CephFs/shared"), "the pools before the file system");
}

/// §10 "existing": an existing resource lowers to nothing, references to it lower as to any
/// resource, and its uses that need live attributes are recorded for the planner.
#[test]
fn s10_existing_resources_render_nothing_and_are_referenced() {
    use cairn_compiler::existing::UseKind;
    let c = ok(r#"
namespace "kube-system" { existing = true }
storage_class "ceph-block" { existing = true }
secret "registry" {
  existing  = true
  namespace = namespace.kube-system
}
config "settings" {
  existing  = true
  namespace = "kube-system"
}
pool "legacy" { existing = true }
storage_class "legacy" { pool = pool.legacy }
workload "agent" {
  namespace = namespace.kube-system
  image     = "registry.example/agent:1.0"
  env       = { TOKEN = secret.registry.token, MODE = config.settings.mode }
  resources { memory = 64Mi }
  volume "cache" {
    size          = 1Gi
    mount         = "/cache"
    access        = "ReadWriteMany"
    storage_class = storage_class.ceph-block
  }
}
"#);
    let kinds: Vec<(&str, &str)> = c.objects.iter().map(|o| (o.kind.as_str(), o.name.as_str())).collect();
    for gone in [
        ("Namespace", "kube-system"),
        ("StorageClass", "ceph-block"),
        ("Secret", "registry"),
        ("ConfigMap", "settings"),
        ("CephBlockPool", "legacy"),
    ] {
        assert!(!kinds.contains(&gone), "{gone:?} rendered: {kinds:?}");
    }
    let sc = find(&c, "StorageClass", "legacy").expect("the managed class");
    assert_eq!(sc.body["parameters"]["pool"], json!("legacy"));
    let sts = find(&c, "StatefulSet", "agent").expect("a volume makes a StatefulSet");
    let env = &sts.body["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(env[0]["valueFrom"], json!({"configMapKeyRef": {"name": "settings", "key": "mode"}}));
    assert_eq!(env[1]["valueFrom"], json!({"secretKeyRef": {"name": "registry", "key": "token"}}));
    assert_eq!(sts.body["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"], json!("ceph-block"));
    let ids: Vec<String> = c.existing.iter().map(|e| e.key.id()).collect();
    assert_eq!(
        ids,
        [
            "Namespace/kube-system",
            "StorageClass/ceph-block",
            "Secret/kube-system/registry",
            "ConfigMap/kube-system/settings",
            "CephBlockPool/rook-ceph/legacy"
        ]
    );
    let uses = |i: usize| c.existing[i].uses.iter().map(|u| (u.by.to_string(), u.what.clone())).collect::<Vec<_>>();
    assert_eq!(uses(1), [("workload.agent".to_string(), UseKind::SharedVolume)]);
    assert_eq!(uses(2), [("workload.agent".to_string(), UseKind::Key("token".into()))]);
    assert_eq!(uses(3), [("workload.agent".to_string(), UseKind::Key("mode".into()))]);
    assert_eq!(uses(4), [("storage_class.legacy".to_string(), UseKind::Reference)]);
}

#[test]
fn s10_existing_takes_only_its_identity() {
    let errs = errors(
        r#"storage_class "standard" {
  existing = true
  reclaim  = "Retain"
}"#,
    );
    expect_code(&errs, "E0434");
    let errs = errors("secret \"registry\" { existing = true }");
    expect_code(&errs, "E0304");
}

// ---- docs/language.md "Workloads as they are already written" (the shapes `cairn import` needs) ----

const WRITTEN: &str = r#"
namespace "shop" {}

service_account "cart" { namespace = namespace.shop }

workload "cart" {
  namespace       = namespace.shop
  selector        = { app = "cart" }
  labels          = { tier = "back" }
  container_name  = "server"
  service_account = service_account.cart
  grace_period    = 5
  pod_annotations = { "sidecar.istio.io/inject" = "false" }
  image           = "cart:1.0"
  ports           = [7070]
  resources { memory = 64Mi }
  probe {
    grpc   = true
    port   = 7070
    period = 15
  }
  liveness {
    http     = "/healthz"
    port     = 7070
    timeout  = 2
    failures = 5
  }
  expose {
    port   = 7070
    target = 7070
    name   = "grpc"
  }
  disruption { max_unavailable = 1 }
}
"#;

#[test]
fn a_workload_can_say_what_existing_manifests_say() {
    let c = ok(WRITTEN);
    let d = obj(&c, "Deployment", "cart");
    assert_eq!(at(d, "/spec/selector/matchLabels"), &serde_json::json!({ "app": "cart" }));
    // With `selector` the pods carry it and the labels, nothing of cairn's.
    assert_eq!(at(d, "/spec/template/metadata/labels"), &serde_json::json!({ "app": "cart", "tier": "back" }));
    assert_eq!(at(d, "/spec/template/metadata/annotations"), &serde_json::json!({ "sidecar.istio.io/inject": "false" }));
    assert!(d.pointer("/metadata/annotations/sidecar.istio.io~1inject").is_none(), "pod annotations stay on the pods");
    let pod = at(d, "/spec/template/spec");
    assert_eq!(at(pod, "/serviceAccountName"), "cart");
    assert_eq!(at(pod, "/terminationGracePeriodSeconds"), 5);
    assert_eq!(at(pod, "/containers/0/name"), "server");
    assert_eq!(at(pod, "/containers/0/ports"), &serde_json::json!([{ "containerPort": 7070 }]));
    assert_eq!(at(pod, "/containers/0/readinessProbe"), &serde_json::json!({ "grpc": { "port": 7070 }, "periodSeconds": 15 }));
    assert_eq!(
        at(pod, "/containers/0/livenessProbe"),
        &serde_json::json!({ "httpGet": { "path": "/healthz", "port": 7070 }, "timeoutSeconds": 2, "failureThreshold": 5 })
    );
    let svc = obj(&c, "Service", "cart");
    assert_eq!(at(svc, "/spec/selector"), &serde_json::json!({ "app": "cart" }));
    assert_eq!(at(svc, "/spec/ports/0/name"), "grpc");
    assert_eq!(at(obj(&c, "PodDisruptionBudget", "cart"), "/spec/selector/matchLabels"), &serde_json::json!({ "app": "cart" }));
    let sa = obj(&c, "ServiceAccount", "cart");
    assert_eq!(at(sa, "/metadata/namespace"), "shop");
    assert!(pos(&c, "ServiceAccount/shop/cart") < pos(&c, "Deployment/shop/cart"), "the account comes before the pods that use it");
}

#[test]
fn a_grpc_probe_resolves_a_named_port_and_counts_as_the_probes_one_kind() {
    let c = ok(r#"
namespace "shop" {}
workload "api" {
  namespace = namespace.shop
  image     = "api:1.0"
  ports     = { grpc = 9090 }
  resources { memory = 64Mi }
  probe { grpc = true }
}
"#);
    assert_eq!(
        at(obj(&c, "Deployment", "api"), "/spec/template/spec/containers/0/readinessProbe"),
        &serde_json::json!({ "grpc": { "port": 9090 } })
    );
    let errs = errors(
        r#"
namespace "shop" {}
workload "api" {
  namespace = namespace.shop
  image     = "api:1.0"
  ports     = [9090]
  resources { memory = 64Mi }
  probe {
    grpc = true
    http = "/"
  }
}
"#,
    );
    assert!(errs.iter().any(|(code, msg)| code == "E0415" && msg.contains("`grpc`")), "{errs:?}");
    let bad_selector = errors(
        r#"
namespace "shop" {}
workload "api" {
  namespace = namespace.shop
  image     = "api:1.0"
  selector  = { "app" = "not a value!" }
  resources { memory = 64Mi }
}
"#,
    );
    expect_code(&bad_selector, "E0305");
}

#[test]
fn the_written_shapes_are_checked() {
    let workload = |body: &str| {
        format!("namespace \"shop\" {{}}\nworkload \"api\" {{\n  namespace = namespace.shop\n  image = \"api:1.0\"\n  resources {{ memory = 64Mi }}\n{body}\n}}\n")
    };
    let has = |errs: &[(String, String)], code: &str, part: &str| errs.iter().any(|(c, m)| c == code && m.contains(part));
    let e = errors(&workload("  selector = {}"));
    assert!(has(&e, "E0415", "empty `selector`"), "{e:?}");
    let e = errors(&workload("  container_name = \"Web_1\""));
    assert!(has(&e, "E0305", "Web_1"), "{e:?}");
    let e = errors(&workload("  ports = [8080]\n  expose {\n    port = 80\n    name = \"Not A Port\"\n  }"));
    assert!(has(&e, "E0305", "Not A Port"), "{e:?}");
    // An unnamed port is no port name.
    let e = errors(&workload("  ports = [8080]\n  probe {\n    http = \"/\"\n    port = \"8080\"\n  }"));
    assert!(has(&e, "E0415", "names the port `8080`"), "{e:?}");
    // `grpc = false` is no kind of probe.
    let e = errors(&workload("  ports = [8080]\n  probe { grpc = false }"));
    assert!(has(&e, "E0415", "exactly one of"), "{e:?}");
    let e = errors(&workload(
        "  ports = [8080]\n  container \"side\" {\n    image = \"side:1.0\"\n    ports = [8080]\n    resources { memory = 16Mi }\n  }",
    ));
    assert!(has(&e, "E0420", "port 8080"), "{e:?}");
    let e = errors("namespace \"shop\" {}\nservice_account \"Bad_Name\" { namespace = namespace.shop }\n");
    assert!(has(&e, "E0305", "Bad_Name"), "{e:?}");
}
