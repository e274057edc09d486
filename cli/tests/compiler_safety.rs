//! Data safety of the compiler and the formatter, through the `cairn` binary (issue 14):
//! `file()` stays inside the stack (symlinks, directory imports, special and huge files), no
//! sensitive value reaches a diagnostic, `moved` blocks cannot half-apply, a workload's
//! annotations reach its pods, `fmt` does not follow symlinks out of the tree or round a loop, a
//! byte order mark is accepted, and manifest object names are held to Kubernetes' rules.
//!
//! Every run has a deadline: a hang (a FIFO read, a symlink loop) fails the test instead of
//! stopping the suite.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Far above what any run here needs in a debug build; a run this long is a hang.
const DEADLINE: Duration = Duration::from_secs(60);

/// A secret planted through a password-like environment variable. It is not valid JSON, YAML
/// or a quantity, so the functions that parse it fail on it.
const PLANTED: &str = "planted-Secret-9f3e7c: {[";
/// The part of [`PLANTED`] no output may contain.
const MARK: &str = "planted-Secret-9f3e7c";

/// What a run printed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cairn ARGS` in `cwd` with `env`, killing it at the deadline.
fn cairn(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Run {
    let start = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.args(args).current_dir(cwd).env("NO_COLOR", "1").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the cairn binary starts");
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for cairn") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`cairn {}` still running after {DEADLINE:?}: killed", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run { code: status.code(), stdout: out.join().expect("stdout"), stderr: err.join().expect("stderr") };
    assert!(!run.stderr.contains("panicked"), "cairn panicked:\n{}", run.stderr);
    run
}

/// A temporary directory with files written into it.
struct Tree {
    tmp: tempfile::TempDir,
}

impl Tree {
    fn new(files: &[(&str, &str)]) -> Tree {
        let tree = Tree { tmp: tempfile::tempdir().expect("temp dir") };
        for (path, text) in files {
            tree.write(path, text);
        }
        tree
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(&p, text).expect("write file");
    }

    fn symlink(&self, target: &Path, rel: &str) {
        std::os::unix::fs::symlink(target, self.path(rel)).expect("symlink");
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("read file")
    }

    /// `cairn COMMAND <tmp>/DIR`, with extra arguments.
    fn run(&self, command: &str, dir: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let d = self.path(dir);
        let mut args = vec![command, d.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        cairn(&args, self.tmp.path(), env)
    }
}

/// A stack whose config `c` holds `value` in its data key `v`.
fn config_stack(value: &str) -> String {
    format!("namespace \"app\" {{}}\n\nconfig \"c\" {{\n  namespace = namespace.app\n  data = {{ v = {value} }}\n}}\n")
}

/// `check` (text and JSON) and `render` fail on the stack in `dir` with `code`, and no output
/// contains `forbidden`.
fn refused(tree: &Tree, dir: &str, code: &str, forbidden: &str, env: &[(&str, &str)]) {
    for (command, extra) in [("check", vec![]), ("check", vec!["--format", "json"]), ("render", vec![])] {
        let r = tree.run(command, dir, &extra, env);
        let all = r.all();
        assert_eq!(r.code, Some(1), "`cairn {command} {extra:?}` should fail:\n{all}");
        assert!(all.contains(code), "`cairn {command} {extra:?}` should report {code}:\n{all}");
        assert!(!all.contains(forbidden), "`cairn {command} {extra:?}` printed `{forbidden}`:\n{all}");
    }
}

// ---- 7: file() stays inside the stack ------------------------------------------------------

#[test]
fn file_does_not_follow_a_symlink_out_of_the_stack() {
    let tree = Tree::new(&[("outside/token", "planted-Secret-9f3e7c"), ("stack/main.cairn", &config_stack("file(\"./link\")"))]);
    tree.symlink(&tree.path("outside/token"), "stack/link");
    refused(&tree, "stack", "E0604", MARK, &[]);
    let r = tree.run("check", "stack", &[], &[]);
    assert!(r.stderr.contains("symlinks"), "the message should say why:\n{}", r.stderr);
}

#[test]
fn file_follows_a_symlink_that_stays_inside_the_stack() {
    let tree = Tree::new(&[("stack/data/real.txt", "inside-value"), ("stack/main.cairn", &config_stack("file(\"./link\")"))]);
    tree.symlink(&tree.path("stack/data/real.txt"), "stack/link");
    let r = tree.run("render", "stack", &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stdout.contains("inside-value"), "{}", r.stdout);
}

#[test]
fn file_in_a_directory_module_reads_only_that_directory() {
    let tree = Tree::new(&[
        ("secret.txt", "planted-Secret-9f3e7c"),
        ("lib/lib.cairn", "let escape = file(\"../secret.txt\")\n"),
        ("stack/main.cairn", &format!("import \"../lib\"\n\n{}", config_stack("lib.escape"))),
        ("own/data/x.txt", "own-data"),
        ("own/own.cairn", "let data = file(\"./data/x.txt\")\n"),
        ("ok/main.cairn", &format!("import \"../own\"\n\n{}", config_stack("own.data"))),
    ]);
    refused(&tree, "stack", "E0604", MARK, &[]);
    let r = tree.run("render", "ok", &[], &[]);
    assert_eq!(r.code, Some(0), "a module reads its own directory:\n{}", r.all());
    assert!(r.stdout.contains("own-data"), "{}", r.stdout);
}

#[test]
fn file_refuses_a_fifo_a_device_and_a_directory_without_hanging() {
    let tree = Tree::new(&[("stack/sub/x.txt", "x")]);
    let fifo = tree.path("stack/pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    tree.symlink(Path::new("/dev/zero"), "stack/zero");
    for (path, words) in [("./pipe", "FIFO"), ("./sub", "directory")] {
        tree.write("stack/main.cairn", &config_stack(&format!("file(\"{path}\")")));
        refused(&tree, "stack", "E0604", "no forbidden text", &[]);
        let r = tree.run("check", "stack", &[], &[]);
        assert!(r.stderr.contains(words), "file(\"{path}\") should say it is a {words}:\n{}", r.stderr);
    }
    // A link to /dev/zero leaves the stack; refused before anything is read.
    tree.write("stack/main.cairn", &config_stack("file(\"./zero\")"));
    refused(&tree, "stack", "E0604", "no forbidden text", &[]);
}

#[test]
fn file_refuses_a_file_larger_than_the_value_size_limit() {
    let tree = Tree::new(&[("stack/main.cairn", &config_stack("file(\"./big\")"))]);
    // Sparse: 100 MB long, nothing written.
    let big = std::fs::File::create(tree.path("stack/big")).expect("create");
    big.set_len(100_000_000).expect("set_len");
    refused(&tree, "stack", "E0604", "no forbidden text", &[]);
    let r = tree.run("check", "stack", &[], &[]);
    assert!(r.stderr.contains("larger than"), "{}", r.stderr);
}

// ---- 8: no sensitive value in a diagnostic ---------------------------------------------------

/// Every built-in function given the planted secret (`S`) so that it fails.
const SECRET_CALLS: [&str; 28] = [
    "env(S)",
    "file(S)",
    "lower({ k = S })",
    "upper([S])",
    "trim([S])",
    "split(S, \"\")",
    "join(S, \",\")",
    "replace(S, \"\", \"x\")",
    "length(S == \"x\")",
    "contains(S, 1)",
    "keys(S)",
    "values(S)",
    "range(S)",
    "merge(S)",
    "concat(S)",
    "min(S)",
    "max(S, 1)",
    "sha256([S])",
    "base64encode([S])",
    "base64decode(S)",
    "to_json(S)[\"x\"]",
    "from_json(S)",
    "from_yaml(S)",
    "to_yaml(S)[\"x\"]",
    "quantity(S)",
    "sensitive(S)[\"x\"]",
    "{ a = 1 }[S]",
    "{ a = 1, b = S }[S]",
];

#[test]
fn no_function_error_prints_a_sensitive_value() {
    let env = [("APP_DB_PASSWORD", PLANTED)];
    for call in SECRET_CALLS {
        let expr = call.replace('S', "env(\"APP_DB_PASSWORD\")");
        let tree = Tree::new(&[("stack/main.cairn", &config_stack(&expr))]);
        for (command, extra) in [("check", vec![]), ("check", vec!["--format", "json"]), ("render", vec![])] {
            let r = tree.run(command, "stack", &extra, &env);
            let all = r.all();
            // An unset variable is only a warning for `check` (its value is not needed there).
            let want = if call == "env(S)" && command == "check" { 0 } else { 1 };
            assert_eq!(r.code, Some(want), "`{call}`: exit of `cairn {command} {extra:?}`:\n{all}");
            assert!(!all.contains(MARK), "`{call}`: `cairn {command} {extra:?}` printed the secret:\n{all}");
        }
    }
}

#[test]
fn a_sensitive_map_key_miss_lists_no_keys() {
    let env = [("APP_DB_PASSWORD", PLANTED)];
    let expr = "sensitive({ planted-Secret-9f3e7c = 1 }).missing";
    let tree = Tree::new(&[("stack/main.cairn", &config_stack(expr).replace("planted-Secret-9f3e7c", "\"planted-Secret-9f3e7c\""))]);
    let r = tree.run("check", "stack", &[], &env);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.all().contains("E0206"), "{}", r.all());
    // The key is in the source text, which the report shows masked; only the help line could
    // still name it.
    assert!(!r.stderr.contains(&format!("keys are {MARK}")), "{}", r.stderr);
}

// ---- 13: moved blocks cannot half-apply ------------------------------------------------------

const DIRECT: &str = "cluster \"lab\" {\n  ceph {\n    mode = \"direct\"\n    fsid = \"a7f64266-0894-4f1e-a635-d0aeaca0e993\"\n  }\n}\n\npool \"fast\" {}\npool \"slow\" {}\n";

#[test]
fn moved_twice_from_one_pool_or_onto_itself_is_an_error() {
    let cases = [
        ("E0416", "moved {\n  from = \"pool.old\"\n  to   = pool.fast\n}\n\nmoved {\n  from = \"pool.old\"\n  to   = pool.slow\n}\n"),
        ("E0416", "moved {\n  from = \"pool.a\"\n  to   = pool.fast\n}\n\nmoved {\n  from = \"pool.b\"\n  to   = pool.fast\n}\n"),
        ("E0417", "moved {\n  from = \"pool.fast\"\n  to   = pool.fast\n}\n"),
    ];
    for (code, moves) in cases {
        let tree = Tree::new(&[("stack/main.cairn", &format!("{DIRECT}\n{moves}"))]);
        let r = tree.run("check", "stack", &[], &[]);
        assert_eq!(r.code, Some(1), "{moves}\n{}", r.all());
        assert!(r.stderr.contains(code), "{moves}\nshould report {code}:\n{}", r.stderr);
    }
    let tree = Tree::new(&[("stack/main.cairn", &format!("{DIRECT}\nmoved {{\n  from = \"pool.old\"\n  to   = pool.fast\n}}\n"))]);
    let r = tree.run("check", "stack", &[], &[]);
    assert_eq!(r.code, Some(0), "one rename is fine:\n{}", r.all());
}

// ---- 14: a workload's annotations reach its pods ---------------------------------------------

#[test]
fn workload_annotations_go_on_the_object_and_the_pod_template() {
    let stack = "namespace \"app\" {}\n\nworkload \"web\" {\n  namespace   = namespace.app\n  image       = \"nginx:1.27\"\n  annotations = { \"prometheus.io/scrape\" = \"true\" }\n}\n";
    let tree = Tree::new(&[("stack/main.cairn", stack)]);
    let r = tree.run("render", "stack", &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let deployment = serde_yaml::Deserializer::from_str(&r.stdout)
        .filter_map(|d| <serde_yaml::Value as serde::Deserialize>::deserialize(d).ok())
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment");
    assert_eq!(deployment["metadata"]["annotations"]["prometheus.io/scrape"], "true", "{}", r.stdout);
    assert_eq!(deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"], "true", "{}", r.stdout);
}

// ---- 16: fmt stays in the tree ---------------------------------------------------------------

#[test]
fn fmt_does_not_follow_symlinks_out_of_the_tree_or_round_a_loop() {
    let messy = "namespace   \"app\"   {\n}\n";
    let tree = Tree::new(&[("tree/main.cairn", messy), ("outside/other.cairn", messy)]);
    tree.symlink(&tree.path("tree"), "tree/loop");
    tree.symlink(&tree.path("outside"), "tree/out");
    tree.symlink(&tree.path("outside/other.cairn"), "tree/linked.cairn");
    let r = tree.run("fmt", "tree", &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(tree.read("tree/main.cairn"), "namespace \"app\" {}\n", "the tree's own file is formatted");
    assert_eq!(tree.read("outside/other.cairn"), messy, "fmt rewrote a file outside the tree");
    assert_eq!(r.stdout.lines().count(), 1, "one file formatted, once:\n{}", r.stdout);
}

// ---- 17b: a byte order mark ------------------------------------------------------------------

#[test]
fn a_byte_order_mark_is_accepted_and_spans_stay_right() {
    let tree = Tree::new(&[("stack/main.cairn", "\u{feff}namespace \"app\" {}\n\nconfig \"c\" {\n  namespace = namespace.nope\n}\n")]);
    let r = tree.run("check", "stack", &["--format", "json"], &[]);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let json: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON report");
    let diags = json["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diags.len(), 1, "only the unknown namespace, no complaint about the BOM:\n{}", r.stdout);
    assert_eq!(diags[0]["code"], "E0202", "{}", r.stdout);
    assert_eq!((diags[0]["line"].as_u64(), diags[0]["column"].as_u64()), (Some(4), Some(15)), "{}", r.stdout);

    let ok = Tree::new(&[("stack/main.cairn", "\u{feff}namespace \"app\" {}\n")]);
    let r = ok.run("check", "stack", &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let r = ok.run("fmt", "stack", &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(ok.read("stack/main.cairn"), "namespace \"app\" {}\n", "fmt drops the BOM");
}

// ---- 17c: manifest object names --------------------------------------------------------------

#[test]
fn manifest_object_names_and_namespaces_follow_kubernetes_rules() {
    let manifest = |name: &str, ns: &str| {
        format!(
            "namespace \"app\" {{}}\n\nmanifest \"m\" {{\n  object = {{\n    apiVersion = \"v1\"\n    kind       = \"ConfigMap\"\n    metadata   = {{ name = \"{name}\", namespace = \"{ns}\" }}\n  }}\n}}\n"
        )
    };
    for (name, ns) in [("../../api/v1/secrets", "app"), ("a/b", "app"), ("UPPER", "app"), ("a%2fb", "app"), ("ok", "../kube-system")] {
        let tree = Tree::new(&[("stack/main.cairn", &manifest(name, ns))]);
        let r = tree.run("check", "stack", &[], &[]);
        assert_eq!(r.code, Some(1), "name `{name}` namespace `{ns}`:\n{}", r.all());
        assert!(r.stderr.contains("E0305"), "name `{name}` namespace `{ns}`:\n{}", r.stderr);
        assert!(r.stderr.contains("main.cairn:4:"), "the error points at the object:\n{}", r.stderr);
    }
    let tree = Tree::new(&[("stack/main.cairn", &manifest("good.name-1", "app"))]);
    let r = tree.run("check", "stack", &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all());
}
