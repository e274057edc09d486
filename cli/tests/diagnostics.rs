//! `cairn check` diagnostics, end to end: each case writes a small bad stack into a temporary
//! directory, runs the built binary in JSON and in text mode, checks the exit code and the key
//! facts (code, file, line, column, labels) in code, and snapshots both outputs.
//!
//! The in-code assertions are the contract; the snapshots show the whole report so a change in
//! wording, spans or layout is reviewed. Update them with `INSTA_UPDATE=always` or
//! `cargo insta accept`, and read every changed snapshot.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// A stack written into a fresh temporary directory, at `<tmp>/<name>`.
struct Stack {
    tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Stack {
    /// Writes `files` (paths relative to the stack directory) into `<tmp>/stack`.
    fn new(files: &[(&str, &str)]) -> Stack {
        Stack::named("stack", files)
    }

    fn named(name: &str, files: &[(&str, &str)]) -> Stack {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).expect("stack dir");
        let stack = Stack { tmp, dir };
        for (path, text) in files {
            stack.write(path, text.as_bytes());
        }
        stack
    }

    fn write(&self, path: &str, bytes: &[u8]) {
        let p = self.dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(&p, bytes).expect("write file");
    }

    /// Runs `cairn check` in JSON and in text mode.
    fn check(&self) -> Outcome {
        let bin = env!("CARGO_BIN_EXE_cairn");
        let json = Command::new(bin)
            .arg("check")
            .arg(&self.dir)
            .args(["--format", "json"])
            .env("NO_COLOR", "1")
            .current_dir(self.tmp.path())
            .output()
            .expect("run cairn check --format json");
        let text = Command::new(bin)
            .arg("check")
            .arg(&self.dir)
            .args(["--color", "never"])
            .env("NO_COLOR", "1")
            .current_dir(self.tmp.path())
            .output()
            .expect("run cairn check");
        let json_out = self.scrub(&String::from_utf8_lossy(&json.stdout));
        let json_err = String::from_utf8_lossy(&json.stderr).to_string();
        assert!(json_err.is_empty(), "JSON mode wrote to stderr:\n{json_err}");
        let text_out = String::from_utf8_lossy(&text.stdout).to_string();
        assert!(text_out.is_empty(), "text mode wrote to stdout:\n{text_out}");
        let parsed: Value = serde_json::from_str(&json_out).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{json_out}"));
        let out = Outcome {
            json_code: json.status.code(),
            text_code: text.status.code(),
            json: parsed,
            json_out,
            text: self.scrub(&String::from_utf8_lossy(&text.stderr)),
        };
        assert!(!out.text.contains("panicked"), "cairn panicked:\n{}", out.text);
        out
    }

    /// Replaces the temporary directory's path so snapshots are stable.
    fn scrub(&self, s: &str) -> String {
        let mut s = s.to_string();
        let mut roots = vec![self.tmp.path().to_path_buf()];
        if let Ok(c) = std::fs::canonicalize(self.tmp.path()) {
            roots.insert(0, c);
        }
        for root in roots {
            s = s.replace(&root.display().to_string(), "[TMP]");
        }
        s
    }
}

/// Text with miette's wrapping undone (gutters and all whitespace dropped), so a long message
/// can be found even where the report wraps it, at a space or after a hyphen.
fn flat(s: &str) -> String {
    s.chars().filter(|c| *c != '│' && !c.is_whitespace()).collect()
}

/// What `cairn check` printed and returned.
struct Outcome {
    json_code: Option<i32>,
    text_code: Option<i32>,
    json: Value,
    json_out: String,
    text: String,
}

impl Outcome {
    fn diagnostics(&self) -> &[Value] {
        self.json["diagnostics"].as_array().map_or(&[], Vec::as_slice)
    }

    /// Asserts the exit code of both runs.
    #[track_caller]
    fn exit(&self, code: i32) -> &Self {
        assert_eq!(self.json_code, Some(code), "exit code of --format json:\n{}", self.json_out);
        assert_eq!(self.text_code, Some(code), "exit code of text mode:\n{}", self.text);
        self
    }

    /// The codes in output order.
    fn codes(&self) -> Vec<&str> {
        self.diagnostics().iter().filter_map(|d| d["code"].as_str()).collect()
    }

    /// Asserts exactly these codes, in this order.
    #[track_caller]
    fn codes_are(&self, want: &[&str]) -> &Self {
        assert_eq!(self.codes(), want, "diagnostics:\n{}", self.json_out);
        self
    }

    /// The diagnostic with `code` whose primary span is at `file:line:column`; also checks the
    /// text report shows the code, that position and the message.
    #[track_caller]
    fn at(&self, code: &str, file: &str, line: u64, column: u64) -> Diag<'_> {
        self.at_with(code, file, line, column, "")
    }

    /// Like [`Outcome::at`], for the diagnostic there whose message contains `needle` (when
    /// several share a position).
    #[track_caller]
    fn at_with(&self, code: &str, file: &str, line: u64, column: u64, needle: &str) -> Diag<'_> {
        let found = self.diagnostics().iter().find(|d| {
            d["code"] == code
                && d["file"] == file
                && d["line"].as_u64() == Some(line)
                && d["column"].as_u64() == Some(column)
                && d["message"].as_str().is_some_and(|m| m.contains(needle))
        });
        let Some(d) = found else {
            panic!("no {code} at {file}:{line}:{column} (message with {needle:?}) in:\n{}", self.json_out);
        };
        assert!(self.text.contains(code), "text report lacks {code}:\n{}", self.text);
        let pos = format!("[{file}:{line}:{column}]");
        assert!(self.text.contains(&pos), "text report lacks {pos}:\n{}", self.text);
        let message = d["message"].as_str().unwrap_or_default();
        assert!(flat(&self.text).contains(&flat(message)), "text report lacks the message {message:?}:\n{}", self.text);
        Diag { d, out: self }
    }

    /// Snapshots both outputs as `<name>_json` and `<name>_text`.
    fn snapshot(&self, name: &str) {
        insta::assert_snapshot!(format!("{name}_json"), self.json_out);
        insta::assert_snapshot!(format!("{name}_text"), self.text);
    }
}

/// One diagnostic of an [`Outcome`], for further assertions.
struct Diag<'a> {
    d: &'a Value,
    out: &'a Outcome,
}

impl Diag<'_> {
    #[track_caller]
    fn severity(self, want: &str) -> Self {
        assert_eq!(self.d["severity"], want, "{}", self.d);
        self
    }

    #[track_caller]
    fn message(self, needle: &str) -> Self {
        let m = self.d["message"].as_str().unwrap_or_default();
        assert!(m.contains(needle), "message {m:?} lacks {needle:?}");
        assert!(flat(&self.out.text).contains(&flat(needle)), "text report lacks {needle:?}:\n{}", self.out.text);
        self
    }

    #[track_caller]
    fn help(self, needle: &str) -> Self {
        let h = self.d["help"].as_str().unwrap_or_default();
        assert!(h.contains(needle), "help {h:?} lacks {needle:?}");
        self
    }

    /// Asserts a label at `file:line:column` whose message contains `needle`.
    #[track_caller]
    fn label(self, file: &str, line: u64, column: u64, needle: &str) -> Self {
        let labels = self.d["labels"].as_array().map_or(&[][..], Vec::as_slice);
        let ok = labels.iter().any(|l| {
            l["file"] == file
                && l["line"].as_u64() == Some(line)
                && l["column"].as_u64() == Some(column)
                && l["message"].as_str().is_some_and(|m| m.contains(needle))
        });
        assert!(ok, "no label {needle:?} at {file}:{line}:{column} in {}", self.d);
        assert!(flat(&self.out.text).contains(&flat(needle)), "text report lacks the label {needle:?}:\n{}", self.out.text);
        self
    }

    #[track_caller]
    fn labels(self, n: usize) -> Self {
        let got = self.d["labels"].as_array().map_or(0, Vec::len);
        assert_eq!(got, n, "label count of {}", self.d);
        self
    }
}

fn run(files: &[(&str, &str)]) -> Outcome {
    Stack::new(files).check()
}

// ---------------------------------------------------------------------------------------------
// §7 rules
// ---------------------------------------------------------------------------------------------

#[test]
fn e0401_min_size() {
    let o = run(&[("main.cairn", "pool \"fast\" {\n  size     = 2\n  min_size = 3\n}\n")]);
    o.exit(1).codes_are(&["E0401"]);
    o.at("E0401", "main.cairn", 3, 14).severity("error").message("`min_size` (3) is greater than `size` (2)").label(
        "main.cairn",
        2,
        14,
        "size is set here",
    );
    o.snapshot("e0401_min_size");
}

#[test]
fn e0402_erasure_k_m() {
    let o = run(&[("main.cairn", "pool \"archive\" {\n  type = \"erasure\"\n  erasure {\n    k = 1\n    m = 0\n  }\n}\n")]);
    o.exit(1).codes_are(&["E0402", "E0402"]);
    o.at("E0402", "main.cairn", 4, 9).message("erasure `k` is 1");
    o.at("E0402", "main.cairn", 5, 9).message("erasure `m` is 0");
    o.snapshot("e0402_erasure_k_m");
}

#[test]
fn e0403_pg_num_with_autoscale() {
    let o = run(&[("main.cairn", "pool \"fast\" {\n  autoscale = \"on\"\n  pg_num    = 64\n}\n")]);
    o.exit(1).codes_are(&["E0403"]);
    o.at("E0403", "main.cairn", 3, 15).message("`pg_num` is set while the autoscaler is on").label(
        "main.cairn",
        2,
        15,
        "autoscale is on here",
    );
    o.snapshot("e0403_pg_num_with_autoscale");
}

const STORAGE: &str = r#"pool "fast" {}

storage_class "fast" {
  pool = pool.fast
}

namespace "shop" {}
"#;

#[test]
fn e0404_rwo_deployment_replicas() {
    let o = run(&[
        ("base.cairn", STORAGE),
        (
            "main.cairn",
            r#"workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  kind      = "deployment"
  replicas  = 3
  resources { memory = 128Mi }
  volume "data" {
    storage_class = storage_class.fast
    size          = 1Gi
    mount         = "/data"
  }
}
"#,
        ),
    ]);
    o.exit(1).codes_are(&["E0404"]);
    o.at("E0404", "main.cairn", 5, 15).message("deployment `web` has 3 replicas sharing a ReadWriteOnce volume").label(
        "main.cairn",
        7,
        10,
        "mounted by one node at a time",
    );
    o.snapshot("e0404_rwo_deployment_replicas");
}

#[test]
fn e0405_limit_below_request() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  resources {
    cpu          = 500m
    cpu_limit    = 250m
    memory       = 512Mi
    memory_limit = 256Mi
  }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0405", "E0405"]);
    o.at("E0405", "main.cairn", 8, 20).message("`cpu_limit` (250m) is below the `cpu` request (500m)").label(
        "main.cairn",
        7,
        20,
        "the request is set here",
    );
    o.at("E0405", "main.cairn", 10, 20).message("`memory_limit` (256Mi) is below the `memory` request (512Mi)").label(
        "main.cairn",
        9,
        20,
        "the request is set here",
    );
    o.snapshot("e0405_limit_below_request");
}

#[test]
fn e0406_quota_exceeded() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {
  quota {
    memory = 1Gi
    pods   = 3
  }
}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  replicas  = 3
  resources { memory = 512Mi }
  update { max_surge = 0 }
}

workload "api" {
  namespace = namespace.shop
  image     = "acme/api:1.0"
  resources { memory = 256Mi }
  update { max_surge = 0 }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0406", "E0406"]);
    o.at("E0406", "main.cairn", 3, 14)
        .message("need 1792Mi memory requests, above quota `shop-quota` (requests.memory = 1Gi)")
        .label("main.cairn", 8, 10, "3 × 512Mi")
        .label("main.cairn", 16, 10, "1 × 256Mi");
    o.at("E0406", "main.cairn", 4, 14).message("need 4 pods, above quota `shop-quota` (pods = 3)");
    o.snapshot("e0406_quota_exceeded");
}

#[test]
fn e0407_missing_requests_under_quota() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {
  quota {
    cpu = 2
  }
}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  resources { memory = 128Mi }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0407"]);
    o.at("E0407", "main.cairn", 7, 10)
        .message("workload `web` sets no CPU request, but quota `shop-quota` limits `requests.cpu`")
        .label("main.cairn", 3, 11, "the quota is set here")
        .help("resources { cpu = … }");
    o.snapshot("e0407_missing_requests_under_quota");
}

#[test]
fn e0408_storage_class_on_non_rbd_pool() {
    let o =
        run(&[("main.cairn", "pool \"files\" {\n  application = \"cephfs\"\n}\n\nstorage_class \"files\" {\n  pool = pool.files\n}\n")]);
    o.exit(1).codes_are(&["E0408"]);
    o.at("E0408", "main.cairn", 6, 10).message("whose application is `cephfs`").label(
        "main.cairn",
        2,
        17,
        "the pool's application is set here",
    );
    o.snapshot("e0408_storage_class_on_non_rbd_pool");
}

#[test]
fn e0409_moved_rook_pool() {
    let o = run(&[("main.cairn", "pool \"fast\" {}\n\nmoved {\n  from = \"pool.old\"\n  to   = pool.fast\n}\n")]);
    o.exit(1).codes_are(&["E0409"]);
    o.at("E0409", "main.cairn", 5, 10).message("pool `fast` is managed by Rook, which cannot rename a pool");
    o.snapshot("e0409_moved_rook_pool");
}

#[test]
fn e0409_moved_not_a_pool() {
    let o = run(&[(
        "main.cairn",
        r#"cluster "lab" {
  ceph {
    mode = "direct"
    fsid = "5f1c2a4e-0d0b-4c55-9d1e-3b7f3c1d9a10"
  }
}

pool "fast" {}

moved {
  from = "workload.web"
  to   = pool.fast
}
"#,
    )]);
    o.exit(1).codes_are(&["E0409"]);
    o.at("E0409", "main.cairn", 11, 10).message("`moved` cannot rename a workload").help("Kubernetes object names are immutable");
    o.snapshot("e0409_moved_not_a_pool");
}

#[test]
fn e0410_cluster_ambiguous() {
    let o = run(&[("main.cairn", "cluster \"prod\" {}\n\ncluster \"lab\" {}\n\npool \"fast\" {}\n")]);
    o.exit(1).codes_are(&["E0410"]);
    o.at("E0410", "main.cairn", 5, 6).message("`pool.fast` does not say which cluster it belongs to").help("cluster.lab, cluster.prod");
    o.snapshot("e0410_cluster_ambiguous");
}

#[test]
fn e0411_pool_type_mismatch() {
    let o = run(&[(
        "main.cairn",
        "pool \"archive\" {\n  type = \"erasure\"\n}\n\npool \"fast\" {\n  erasure {\n    k = 4\n    m = 2\n  }\n}\n",
    )]);
    o.exit(1).codes_are(&["E0411", "E0411"]);
    o.at("E0411", "main.cairn", 2, 10).message("erasure pool `archive` has no `erasure` block");
    o.at("E0411", "main.cairn", 6, 3).message("pool `fast` has an `erasure` block but is replicated");
    o.snapshot("e0411_pool_type_mismatch");
}

#[test]
fn e0412_manifest_without_name() {
    let o = run(&[(
        "main.cairn",
        r#"manifest "ingress" {
  object = {
    apiVersion = "networking.k8s.io/v1"
    kind       = "Ingress"
    spec       = {}
  }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0412"]);
    o.at("E0412", "main.cairn", 2, 12).message("has no `metadata.name`");
    o.snapshot("e0412_manifest_without_name");
}

#[test]
fn e0413_manifest_namespace_conflict() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {}

manifest "cm" {
  namespace = namespace.shop
  object = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "extra", namespace = "other" }
  }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0413"]);
    o.at("E0413", "main.cairn", 5, 12).message("ConfigMap `extra` sets metadata.namespace `other`").label(
        "main.cairn",
        4,
        15,
        "the manifest's namespace is `shop`",
    );
    o.snapshot("e0413_manifest_namespace_conflict");
}

#[test]
fn e0414_direct_mode_without_fsid() {
    let o = run(&[(
        "main.cairn",
        "cluster \"lab\" {\n  ceph {\n    mode = \"direct\"\n  }\n}\n\npool \"fast\" {}\n\nstorage_class \"fast\" {\n  pool = pool.fast\n}\n",
    )]);
    o.exit(1).codes_are(&["E0414"]);
    o.at("E0414", "main.cairn", 9, 15).message("storage class `fast` needs the fsid of cluster `lab`").label(
        "main.cairn",
        3,
        12,
        "direct mode",
    );
    o.snapshot("e0414_direct_mode_without_fsid");
}

#[test]
fn e0415_workload_combinations() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  ports     = { http = 8080 }
  resources { memory = 128Mi }
  expose {
    port   = 80
    target = "htp"
  }
  probe {
    http = "/healthz"
    tcp  = true
  }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0415", "E0415"]);
    o.at("E0415", "main.cairn", 10, 14).message("`expose.target` names the port `htp`").help("did you mean `http`?");
    o.at("E0415", "main.cairn", 12, 3).message("a probe needs exactly one of `http`, `tcp` and `exec`");
    o.snapshot("e0415_workload_combinations");
}

#[test]
fn w0401_pg_num_not_power_of_two() {
    let o = run(&[("main.cairn", "pool \"fast\" {\n  autoscale = \"off\"\n  pg_num    = 100\n}\n")]);
    o.exit(0).codes_are(&["W0401"]);
    o.at("W0401", "main.cairn", 3, 15).severity("warning").message("`pg_num` 100 is not a power of two").help("use 64 or 128");
    o.snapshot("w0401_pg_num_not_power_of_two");
}

#[test]
fn w0402_size_one() {
    let o = run(&[("main.cairn", "pool \"scratch\" {\n  size     = 1\n  min_size = 1\n}\n")]);
    o.exit(0).codes_are(&["W0402"]);
    o.at("W0402", "main.cairn", 2, 14).severity("warning").message("pool `scratch` keeps a single copy").help("mon_allow_pool_size_one");
    o.snapshot("w0402_size_one");
}

#[test]
fn w0403_no_memory() {
    let o = run(&[(
        "main.cairn",
        "namespace \"shop\" {}\n\nworkload \"web\" {\n  namespace = namespace.shop\n  image     = \"nginx:1.27\"\n  resources { cpu = 100m }\n}\n",
    )]);
    o.exit(0).codes_are(&["W0403"]);
    o.at("W0403", "main.cairn", 3, 10)
        .severity("warning")
        .message("workload `web` requests no memory")
        .help("resources { memory = 256Mi }");
    o.snapshot("w0403_no_memory");
}

#[test]
fn w0404_no_room_for_surge() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {
  quota {
    cpu = 1
  }
}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  replicas  = 4
  resources {
    cpu    = 250m
    memory = 128Mi
  }
}
"#,
    )]);
    o.exit(0).codes_are(&["W0404"]);
    o.at("W0404", "main.cairn", 3, 11)
        .severity("warning")
        .message("needs 1250m CPU requests with its surge pods, above quota `shop-quota` (requests.cpu = 1)")
        .help("max_surge = 0");
    o.snapshot("w0404_no_room_for_surge");
}

#[test]
fn w0405_pool_quota_below_volumes() {
    let o = run(&[(
        "main.cairn",
        r#"pool "small" {
  quota {
    max_bytes = 10Gi
  }
}

storage_class "small" {
  pool = pool.small
}

namespace "db" {}

workload "pg" {
  namespace = namespace.db
  image     = "postgres:16.4"
  replicas  = 2
  resources { memory = 1Gi }
  volume "data" {
    storage_class = storage_class.small
    size          = 8Gi
    mount         = "/var/lib/postgresql"
  }
}
"#,
    )]);
    o.exit(0).codes_are(&["W0405"]);
    o.at("W0405", "main.cairn", 3, 17)
        .severity("warning")
        .message("volumes on pool `small` may hold 16Gi, above its quota max_bytes (10Gi)")
        .label("main.cairn", 20, 21, "2 × 8Gi for workload `pg`");
    o.snapshot("w0405_pool_quota_below_volumes");
}

#[test]
fn w0406_image_tag() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {}

workload "web" {
  namespace = namespace.shop
  image     = "nginx"
  resources { memory = 128Mi }
}

workload "api" {
  namespace = namespace.shop
  image     = "registry.local:5000/acme/api:latest"
  resources { memory = 128Mi }
}
"#,
    )]);
    o.exit(0).codes_are(&["W0406", "W0406"]);
    o.at("W0406", "main.cairn", 5, 15).severity("warning").message("image `nginx` has no tag");
    o.at("W0406", "main.cairn", 11, 15).severity("warning").message("uses the `latest` tag");
    o.snapshot("w0406_image_tag");
}

// ---------------------------------------------------------------------------------------------
// §2–§6: syntax, names, schema, graph, imports, templates
// ---------------------------------------------------------------------------------------------

#[test]
fn e0101_expected_token() {
    let o = run(&[("main.cairn", "pool \"fast\" {\n  size 3\n}\n")]);
    o.exit(1).codes_are(&["E0101"]);
    o.at("E0101", "main.cairn", 2, 8).message("expected `=` or `{`, found number `3`").help("`size = value`");
    o.snapshot("e0101_expected_token");
}

#[test]
fn e0101_missing_value() {
    let o = run(&[("main.cairn", "pool \"fast\" {\n  size =\n}\n")]);
    o.exit(1).codes_are(&["E0101"]);
    o.at("E0101", "main.cairn", 3, 1).message("expected a value for `size`, found `}`").label(
        "main.cairn",
        2,
        3,
        "this attribute has no value",
    );
    o.snapshot("e0101_missing_value");
}

#[test]
fn e0104_unclosed_brace() {
    let o = run(&[("main.cairn", "pool \"fast\" {\n  size = 3\n}\n\nnamespace \"shop\" {\n  labels = { team = \"shop\" }\n")]);
    o.exit(1).codes_are(&["E0104"]);
    o.at("E0104", "main.cairn", 5, 18).message("unclosed `{`").help("add the missing `}`");
    o.snapshot("e0104_unclosed_brace");
}

#[test]
fn e0201_unknown_name() {
    let o = run(&[(
        "main.cairn",
        r#"let replica_count = 3

namespace "shop" {}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  replicas  = replica_cont
  resources { memory = 128Mi }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0201"]);
    o.at("E0201", "main.cairn", 8, 15).message("unknown name `replica_cont`").help("did you mean `replica_count`?");
    o.snapshot("e0201_unknown_name");
}

#[test]
fn e0202_unknown_resource() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {}

workload "web" {
  namespace = namespace.shpo
  image     = "nginx:1.27"
  resources { memory = 128Mi }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0202"]);
    o.at("E0202", "main.cairn", 4, 15).message("unknown resource `namespace.shpo`").help("did you mean `namespace.shop`?");
    o.snapshot("e0202_unknown_resource");
}

#[test]
fn e0205_unknown_block_kind() {
    let o = run(&[("main.cairn", "pool \"fast\" {}\n\npooll \"slow\" {}\n")]);
    o.exit(1).codes_are(&["E0205"]);
    o.at("E0205", "main.cairn", 3, 1).message("unknown block kind `pooll`").help("did you mean `pool`?");
    o.snapshot("e0205_unknown_block_kind");
}

#[test]
fn e0303_unknown_attribute() {
    let o = run(&[("main.cairn", "pool \"fast\" {\n  size     = 3\n  min_sise = 2\n}\n")]);
    o.exit(1).codes_are(&["E0303"]);
    o.at("E0303", "main.cairn", 3, 3).message("unknown attribute `min_sise` in `pool`").help("did you mean `min_size`?");
    o.snapshot("e0303_unknown_attribute");
}

#[test]
fn e0301_type_mismatch() {
    let o = run(&[(
        "main.cairn",
        r#"pool "fast" {
  size = "three"
}

namespace "shop" {}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  replicas  = 2Gi
  resources { memory = 128Mi }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0301", "E0301"]);
    o.at("E0301", "main.cairn", 2, 10).message("`size` must be int, found string").help("`size` takes int 1..10");
    o.at("E0301", "main.cairn", 10, 15).message("`replicas` must be int, found quantity").help("`replicas` takes int ≥ 0");
    o.snapshot("e0301_type_mismatch");
}

#[test]
fn e0304_missing_required() {
    let o = run(&[(
        "main.cairn",
        "namespace \"shop\" {}\n\nworkload \"web\" {\n  namespace = namespace.shop\n  resources { memory = 128Mi }\n}\n",
    )]);
    o.exit(1).codes_are(&["E0304"]);
    o.at("E0304", "main.cairn", 3, 10).message("`workload.web` is missing the required attribute `image`").help("add `image = …`");
    o.snapshot("e0304_missing_required");
}

#[test]
fn e0203_duplicate_resource() {
    let o = run(&[("main.cairn", "pool \"fast\" {}\n"), ("other.cairn", "pool \"fast\" {\n  size = 2\n}\n")]);
    o.exit(1).codes_are(&["E0203"]);
    o.at("E0203", "other.cairn", 1, 6).message("`pool.fast` is declared twice").label("main.cairn", 1, 6, "first declared here");
    o.snapshot("e0203_duplicate_resource");
}

#[test]
fn e0204_duplicate_attribute() {
    let o = run(&[("main.cairn", "pool \"fast\" {\n  size = 3\n  size = 2\n}\n")]);
    o.exit(1).codes_are(&["E0204"]);
    o.at("E0204", "main.cairn", 3, 3).message("attribute `size` is set more than once").label("main.cairn", 2, 3, "first set here");
    o.snapshot("e0204_duplicate_attribute");
}

#[test]
fn e0305_invalid_names() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "Team_A" {}

config "app.Config" {
  namespace = namespace.Team_A
  data      = { LEVEL = "info" }
}

workload "9web" {
  namespace = namespace.Team_A
  image     = "nginx:1.27"
  resources { memory = 128Mi }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0305", "E0305", "E0305"]);
    o.at("E0305", "main.cairn", 1, 11).message("invalid namespace name `Team_A`").help("DNS-1035");
    o.at("E0305", "main.cairn", 3, 8).message("invalid config name `app.Config`").help("DNS-1123 subdomain");
    o.at("E0305", "main.cairn", 8, 10).message("invalid workload name `9web`: must start with a lowercase letter");
    o.snapshot("e0305_invalid_names");
}

#[test]
fn e0305_invalid_label_keys() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {
  labels = {
    "team/name/x"   = "shop"
    "-bad"          = "x"
    "Acme.io/owner" = "ops"
    tier            = "front end"
  }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0305", "E0305", "E0305", "E0305"]);
    o.at("E0305", "main.cairn", 3, 5).message("invalid label key `team/name/x`: it may contain at most one `/`");
    o.at("E0305", "main.cairn", 4, 5).message("invalid label key `-bad`: its name must start and end with a letter or digit");
    o.at("E0305", "main.cairn", 5, 5).message("invalid label key `Acme.io/owner`: its prefix `Acme.io` is not a DNS-1123 subdomain");
    o.at("E0305", "main.cairn", 6, 23).message("invalid label value `front end`");
    o.snapshot("e0305_invalid_label_keys");
}

#[test]
fn e0605_invalid_stack_directory_name() {
    let o = Stack::named("Bad_Stack", &[("main.cairn", "pool \"fast\" {}\n")]).check();
    o.exit(1).codes_are(&["E0605"]);
    o.at("E0605", "main.cairn", 1, 6)
        .message("the directory name `Bad_Stack` cannot name the stack")
        .help("add a `stack \"name\" {}` block");
    o.snapshot("e0605_invalid_stack_directory_name");
}

#[test]
fn e0501_dependency_cycle() {
    let o = run(&[(
        "main.cairn",
        r#"namespace "shop" {}

workload "a" {
  namespace = namespace.shop
  image     = "acme/a:1.0"
  resources { memory = 128Mi }
  env = {
    B_HOST = "${workload.b}"
  }
}

workload "b" {
  namespace  = namespace.shop
  image      = "acme/b:1.0"
  resources { memory = 128Mi }
  env = {
    A_HOST = "${workload.a}"
  }
}
"#,
    )]);
    o.exit(1).codes_are(&["E0501"]);
    o.at("E0501", "main.cairn", 8, 17).message("dependency cycle: workload.a → workload.b → workload.a").labels(1).label(
        "main.cairn",
        17,
        17,
        "workload.b references workload.a",
    );
    assert!(o.text.contains("workload.a references workload.b"), "the primary span is labelled:\n{}", o.text);
    o.snapshot("e0501_dependency_cycle");
}

#[test]
fn e0501_dependency_cycle_through_depends_on() {
    let o = run(&[(
        "main.cairn",
        r#"pool "a" {
  depends_on = [pool.c]
}

pool "b" {
  depends_on = [pool.a]
}

pool "c" {
  size = pool.b.size
}
"#,
    )]);
    o.exit(1).codes_are(&["E0501"]);
    o.at("E0501", "main.cairn", 2, 17)
        .message("dependency cycle: pool.a → pool.c → pool.b → pool.a")
        .labels(2)
        .label("main.cairn", 10, 10, "pool.c references pool.b")
        .label("main.cairn", 6, 17, "pool.b depends on pool.a");
    assert!(o.text.contains("pool.a depends on pool.c"), "the primary span is labelled:\n{}", o.text);
    o.snapshot("e0501_dependency_cycle_through_depends_on");
}

#[test]
fn e0208_let_cycle() {
    let o = run(&[(
        "main.cairn",
        "let a = b + 1\nlet b = a + 1\n\n# never used: still checked\nlet c = undefined_thing\n\npool \"fast\" {}\n",
    )]);
    o.exit(1).codes_are(&["E0208", "E0201"]);
    o.at("E0208", "main.cairn", 2, 9).message("cycle between lets: a → b → a");
    o.at("E0201", "main.cairn", 5, 9).message("unknown name `undefined_thing`");
    o.snapshot("e0208_let_cycle");
}

#[test]
fn e0601_bad_imports() {
    let o = run(&[("main.cairn", "import \"./lib\"\nimport \"std/nope\"\nimport \"lib2\"\n\npool \"fast\" {}\n")]);
    o.exit(1).codes_are(&["E0601", "E0601", "E0601"]);
    o.at("E0601", "main.cairn", 1, 8).message("cannot import `./lib`");
    o.at("E0601", "main.cairn", 2, 8).message("no standard module `std/nope`").help("std/apps");
    o.at("E0601", "main.cairn", 3, 8).message("import path `lib2` must start with `./`, `../` or `std/`").help("import \"./lib2\"");
    o.snapshot("e0601_bad_imports");
}

#[test]
fn e0602_import_cycle() {
    let o = run(&[
        ("main.cairn", "import \"./a\"\n\npool \"fast\" {}\n"),
        ("a/a.cairn", "import \"../b\"\n\nlet x = 1\n"),
        ("b/b.cairn", "import \"../a\"\n\nlet y = 2\n"),
    ]);
    o.exit(1).codes_are(&["E0602"]);
    o.at("E0602", "a/a.cairn", 1, 8).message("import cycle: ./a → ./b → ./a").label("b/b.cairn", 1, 8, "imported here");
    o.snapshot("e0602_import_cycle");
}

const WEB_TEMPLATE: &str = r#"template web(name, namespace, image, replicas = 2) {
  workload name {
    namespace = namespace
    image     = image
    replicas  = replicas
    resources { memory = 128Mi }
    ports     = { http = 8080 }
    expose { port = 80, targte = "http" }
  }
}
"#;

#[test]
fn e0303_inside_template_instance() {
    let o = run(&[
        ("lib/web.cairn", WEB_TEMPLATE),
        (
            "main.cairn",
            r#"import "./lib"

namespace "shop" {}

lib.web "frontend" {
  namespace = namespace.shop
  image     = "acme/frontend:2.1.0"
}
"#,
        ),
    ]);
    o.exit(1).codes_are(&["E0303"]);
    o.at("E0303", "lib/web.cairn", 8, 25).message("unknown attribute `targte` in `expose`").help("did you mean `target`?").labels(1).label(
        "main.cairn",
        5,
        1,
        "in this instance of template `web`",
    );
    o.snapshot("e0303_inside_template_instance");
}

#[test]
fn template_instances_errors() {
    let o = run(&[
        (
            "lib/web.cairn",
            r#"template web(name, namespace, image, replicas = 2) {
  workload name {
    namespace = namespace
    image     = imagee
    replicas  = replicas
    resources { memory = 128Mi, memory_limit = 64Mi }
  }
}
"#,
        ),
        (
            "main.cairn",
            r#"import "./lib"

namespace "shop" {}

lib.web "frontend" {
  namespace = namespace.shop
  image     = "acme/frontend:2.1.0"
}

lib.web "frontend" {
  namespace = namespace.shop
  image     = "acme/frontend:2.1.0"
  replica   = 3
}

lib.wbe "backend" {}
"#,
        ),
    ]);
    o.exit(1).codes_are(&["E0203", "E0201", "E0405", "E0206", "E0205"]);
    o.at("E0203", "lib/web.cairn", 2, 12)
        .message("`workload.frontend` is declared twice")
        .labels(2)
        .label("main.cairn", 5, 1, "first declared by this instance of template `web`")
        .label("main.cairn", 10, 1, "in this instance of template `web`");
    o.at("E0201", "lib/web.cairn", 4, 17).message("unknown name `imagee`").help("did you mean `image`?").label(
        "main.cairn",
        5,
        1,
        "in this instance",
    );
    o.at("E0405", "lib/web.cairn", 6, 48).label("lib/web.cairn", 6, 26, "the request is set here").label(
        "main.cairn",
        5,
        1,
        "in this instance",
    );
    o.at("E0206", "main.cairn", 13, 3).message("template `web` has no parameter `replica`").help("did you mean `replicas`?").label(
        "lib/web.cairn",
        1,
        10,
        "template declared here",
    );
    o.at("E0205", "main.cairn", 16, 5).message("module `lib` has no template `wbe`").help("did you mean `lib.web`?");
    o.snapshot("template_instances_errors");
}

// ---------------------------------------------------------------------------------------------
// Several problems in one run
// ---------------------------------------------------------------------------------------------

#[test]
fn many_errors_sorted_by_file_line_column() {
    let stack = Stack::new(&[
        ("b.cairn", "pool \"fast\" {\n  size     = 2\n  min_size = 3\n}\n\nstorage_class \"fast\" {\n  pool    = pool.fast\n  reclain = \"Retain\"\n}\n"),
        ("a.cairn", "namespace \"shop\" {}\n\nworkload \"web\" {\n  namespace = namespace.shop\n  image     = \"nginx\"\n  replicas  = \"2\"\n}\n"),
    ]);
    stack.write("c.cairn", b"pool \"x\" {}\n# caf\xe9\n");
    let o = stack.check();
    o.exit(1).codes_are(&["W0403", "W0406", "E0301", "E0401", "E0303", "E0603"]);
    let positions: Vec<(String, u64, u64)> = o
        .diagnostics()
        .iter()
        .map(|d| (d["file"].as_str().unwrap_or_default().to_string(), d["line"].as_u64().unwrap_or(0), d["column"].as_u64().unwrap_or(0)))
        .collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted, "JSON diagnostics are sorted by file, line, column");
    o.at("W0403", "a.cairn", 3, 10);
    o.at("W0406", "a.cairn", 5, 15);
    o.at("E0301", "a.cairn", 6, 15).message("`replicas` must be int, found string");
    o.at("E0401", "b.cairn", 3, 14);
    o.at("E0303", "b.cairn", 8, 3).help("did you mean `reclaim`?");
    o.at("E0603", "c.cairn", 1, 1).message("not valid UTF-8");
    // The text report lists them in the same order.
    let mut last = 0;
    for pos in ["[a.cairn:3:10]", "[a.cairn:5:15]", "[a.cairn:6:15]", "[b.cairn:3:14]", "[b.cairn:8:3]", "[c.cairn:1:1]"] {
        let at = o.text.find(pos).unwrap_or_else(|| panic!("text report lacks {pos}:\n{}", o.text));
        assert!(at >= last, "{pos} is out of order in the text report:\n{}", o.text);
        last = at;
    }
    assert!(o.text.contains("4 errors, 2 warnings"), "{}", o.text);
    o.snapshot("many_errors_sorted_by_file_line_column");
}
