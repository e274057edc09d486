use super::*;
use crate::lexer::{lex, TokenKind};

/// Formats `src`, which must parse cleanly, and checks the formatter's promises: the output
/// parses cleanly to the same tree with the same comments, formatting it again changes nothing,
/// it ends with one newline and has no trailing whitespace (outside heredocs).
fn fmt(src: &str) -> String {
    let before = parse(src, FileId(0));
    assert!(before.diagnostics.is_empty(), "sample does not parse: {src}\n{:#?}", before.diagnostics);
    let out = match format(src) {
        Ok(out) => out,
        Err(e) => panic!("format failed for\n{src}\n{e:#?}"),
    };
    let after = parse(&out, FileId(0));
    assert!(after.diagnostics.is_empty(), "output does not parse:\n{out}");
    assert!(same_tree(&before.file, &after.file), "meaning changed:\n{src}\n---\n{out}");
    let again = format(&out).unwrap_or_else(|e| panic!("second pass failed: {e:#?}\n{out}"));
    assert_eq!(again, out, "not idempotent; first pass:\n{out}");
    if !out.is_empty() {
        assert!(out.ends_with('\n') && !out.ends_with("\n\n"), "ends badly:\n{out:?}");
        assert!(!out.starts_with('\n'), "starts with a blank line:\n{out}");
    }
    let heredoc_free = !lex(&out, FileId(0), 0).tokens.iter().any(|t| t.kind == TokenKind::Heredoc);
    if heredoc_free {
        for line in out.lines() {
            assert_eq!(line, line.trim_end(), "trailing whitespace in:\n{out}");
        }
    }
    out
}

/// Asserts that `src` formats to exactly `expected` (and checks the promises on both).
fn formats_to(src: &str, expected: &str) {
    let out = fmt(src);
    assert_eq!(out, expected, "\n--- got:\n{out}\n--- expected:\n{expected}");
    assert_eq!(fmt(expected), expected, "the expected text is not canonical");
}

/// The formatter's cases as data: each `tests/data/format/NAME.cairn` formats to exactly
/// `NAME.formatted` (and both keep the formatter's promises). `INSTA_UPDATE=always` rewrites the
/// `.formatted` files from the formatter's output, to be reviewed in the diff.
#[test]
fn format_cases_in_tests_data() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/format");
    let update = std::env::var("INSTA_UPDATE").as_deref() == Ok("always");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("read tests/data/format")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cairn"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 34, "found only {} cases in {}", inputs.len(), dir.display());
    for input in inputs {
        let src = std::fs::read_to_string(&input).expect("read a case");
        let expected_path = input.with_extension("formatted");
        if update {
            std::fs::write(&expected_path, fmt(&src)).expect("write the expected output");
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("cannot read {} ({e}); INSTA_UPDATE=always writes it", expected_path.display()));
        eprintln!("case {}", input.display());
        formats_to(&src, &expected);
    }
}

// ---- comments -----------------------------------------------------------------------------------

#[test]
fn every_comment_survives_in_order() {
    // A comment inserted before any token of any sample never gets lost or moved out of order.
    for src in SAMPLES {
        let tokens = lex(src, FileId(0), 0).tokens;
        for (n, t) in tokens.iter().enumerate() {
            // A heredoc's closing marker must stay alone on its line.
            if n > 0 && tokens[n - 1].kind == TokenKind::Heredoc {
                continue;
            }
            let at = t.start as usize;
            let (a, b) = src.split_at(at);
            let block = format!("{a}/* c{n} */{b}");
            fmt(&block);
            if t.kind == TokenKind::Newline || t.kind == TokenKind::Eof {
                let line = format!("{a} # c{n}{b}");
                fmt(&line);
            }
        }
    }
}

// ---- refusal and limits -------------------------------------------------------------------------

#[test]
fn broken_input_is_refused_with_the_parse_errors() {
    let e = format("workload \"a\" {\n  image = = \"x\"\n}\n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, "E0101");
    let e = format("namespace \"a\" {\n").unwrap_err();
    assert_eq!(e[0].code, "E0104");
    assert!(format("let x = \"open\n").is_err());
    assert!(format("let x = 5min\n").is_err());
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let src = format!("let x = {}1{}\n", "(".repeat(20_000), ")".repeat(20_000));
    let e = format(&src).unwrap_err();
    assert!(e.iter().any(|d| d.code == "E0106"));
    let src = format!("let x = {}1\n", "!".repeat(20_000));
    assert!(format(&src).is_err());
}

#[test]
fn long_operator_chains_do_not_overflow_the_stack() {
    let src = format!("let x = 1{}\n", " + 1".repeat(5_000));
    let out = format(&src).unwrap();
    assert_eq!(out, src);
    let src = format!("let x = {}1{}\n", "(".repeat(200), ")".repeat(200));
    assert_eq!(format(&src).unwrap(), src);
}

// ---- whole programs -----------------------------------------------------------------------------

/// Programs covering every construct of the language reference, mostly taken from it.
const SAMPLES: &[&str] = &[
    // §5 templates and imports
    r#"import "std/apps" as apps
import "./lib"
import "../shared/net.cairn" as net

template web_app(name, image, namespace, replicas = 2, port = 8080) {
  workload name {
    namespace = namespace
    image     = image
    replicas  = replicas
    ports     = { http = port }
    expose { port = 80, target = "http" }
  }
}

web_app "frontend" { image = "acme/frontend:2.1.0", namespace = namespace.shop }
apps.web_app "x" { image = "y:1", namespace = namespace.shop }
"#,
    // §6 stack and cluster
    r#"stack "shop" { cluster = cluster.prod }

cluster "prod" {
  kube { context = "prod-admin", kubeconfig = "~/.kube/config" }   # both optional: defaults as kubectl
  ceph {
    mode           = "rook"        # default: pools become CephBlockPool objects via Kubernetes
    rook_namespace = "rook-ceph"   # (default "rook-ceph")
  }
}

cluster "lab" {
  ceph {
    mode    = "direct"                   # pools are managed with Ceph monitor commands (librados)
    conf    = "/etc/ceph/ceph.conf"      # conf, keyring, user: defaults as the ceph CLI
    keyring = "/etc/ceph/ceph.client.admin.keyring"
    user    = "admin"
    fsid    = "…"                        # required only when a storage_class uses this cluster
  }
}
"#,
    // pools, storage classes, namespaces
    r#"pool "fast" {
  type = "replicated"
  size = 3
  min_size = size - size / 2
  pg_num = 32
  autoscale = "off"
  failure_domain = "host"
  device_class = "ssd"
  application = "rbd"
  quota { max_bytes = 100Gi, max_objects = 1_000_000 }
  protect = false
  cluster = cluster.lab
  depends_on = [pool.archive]
}
pool "archive" {
  type = "erasure"
  erasure { k = 4, m = 2 }
}
storage_class "fast" {
  pool = pool.fast
  reclaim = "Retain"
  expansion = true
  default = false
  fs_type = "xfs"
  binding = "WaitForFirstConsumer"
  csi_secret = "s"
}
namespace "shop" {
  labels = { team = "shop", "app.kubernetes.io/part-of" = "shop" }
  annotations = {}
  quota {
    cpu = 4
    memory = 8Gi
    limits_cpu = 8
    limits_memory = 8Gi
    pods = 40
    storage = 100Gi
    pvcs = 10
  }
  limits {
    default_cpu = 500m
    default_memory = 256Mi
    default_request_cpu = 100m
    default_request_memory = 128Mi
    max_cpu = 2
    max_memory = 4Gi
  }
}
"#,
    // workloads, configs, secrets
    r#"workload "web" {
  namespace = namespace.shop
  kind = "deployment"
  image = "acme/web:1.0"
  command = ["/bin/web"]
  args = ["--port", "8080"]
  replicas = 3
  ports = { http = 8080, metrics = 9090 }
  env = {
    LOG_LEVEL = config.app.LOG_LEVEL
    DB_PASSWORD = secret.db.password
    DB_HOST = "${workload.db}.${namespace.shop}.svc"
  }
  resources { cpu = 200m, memory = 256Mi, cpu_limit = 500m, memory_limit = 512Mi }
  volume "data" {
    storage_class = storage_class.fast
    size = 20Gi
    mount = "/data"
    access = "ReadWriteOnce"
  }
  mount "cfg" { config = config.app, path = "/etc/web" }
  expose { port = 80, target = "http", type = "ClusterIP" }
  probe { http = "/healthz", port = "http", initial_delay = "5s" }
  update { max_unavailable = 0, max_surge = 1 }
  service_account = "web"
  node_selector = { "kubernetes.io/os" = "linux" }
  wait = true
}
config "app" {
  namespace = namespace.shop
  data = { LOG_LEVEL = "info", "shop.yaml" = file("shop.yaml") }
}
secret "db" {
  namespace = namespace.shop
  data = { password = env("DB_PASSWORD") }
  type = "Opaque"
}
"#,
    // manifests, policies, moved
    r#"manifest "ingress" { source = file("ingress.yaml") }
manifest "x" {
  namespace = namespace.shop
  object = {
    apiVersion = "networking.k8s.io/v1"
    kind = "Ingress"
    metadata = { name = "x", labels = { a = "b" } }
    spec = {
      template = { if = true }
      rules = [{ host = "shop.example.com" }]
    }
  }
}
policy "no-latest" { source = "std:no-latest-tag" }                    # shipped with cairn
policy "min-replicas" {
  source  = "./policies/min_replicas.wasm"                              # a WebAssembly component
  sha256  = "…"                                                         # optional pin; mismatch is an error
  config  = { min = 2 }                                                 # handed to the plugin as JSON
  enforce = "deny"                                                      # "deny" (default) | "warn"
}
moved { from = "pool.old", to = pool.fast }
"#,
    // §4 expressions
    r#"let teams = ["a", "b", "team-c"]
let sizes = { small = 1Gi, large = 1Gi + 512Mi }
let n = 3 / 2 == 1 && 256Mi * 2 == 512Mi || !false
let pick = length(teams) > 2 ? "many" : "few"
let nested = a ? b : c ? d : e
let names = [for t in teams : upper(t) if t != "a"]
let by_name = {for i, t in teams : t => i}
let s = join(split(lower(trim(" A,B ")), ","), "-")
let r = replace("a-b", "-", "_")
let k = keys(sizes)
let v = values(sizes)
let m = merge({ a = 1 }, { b = 2 })
let c = concat([1], [2, 3])
let lo = min(1, 2)
let hi = max(1, 2)
let h = sha256("x")
let b = base64decode(base64encode("x"))
let j = from_json(to_json({ a = [1, 2.5, null] }))
let y = from_yaml(to_yaml([true, false]))
let q = quantity("1.5Gi")
let secretish = sensitive(env("API_TOKEN", "dev"))
let refs = [pool.fast, pool.fast.size, namespace["team-${teams[0]}"], pool[teams[1]]]
let neg = -5 - -3
let rem = 7 % 3
let contains_a = contains(teams, "a")
let rng = [range(3), range(1, 4)]
let interp = "team-${t} and ${ "}" } and ${upper("x")}"
let doc = <<EOT
plain ${interp}
  indented
EOT
let doc2 = <<-EOT
    stripped
      two
    EOT
"#,
    // §3 for and if, at top level and in bodies
    r#"for t in ["a", "b"] {
  namespace "team-${t}" {
    labels = { team = t }
  }
  if t == "a" {
    workload "w-${t}" {
      namespace = namespace["team-${t}"]
      image = "x:1"
      if t != "b" {
        replicas = 2
      } else {
        replicas = 1
      }
      for i, p in [80, 443] {
        expose { port = p, target = i }
      }
    }
  }
}
if env("X", "") == "" {
  namespace "x" {}
}
else if true {
  namespace "y" {}
} else {
  namespace "z" {}
}
for k, v in { a = 1, b = 2 } {
  config "c-${k}" { data = { value = "${v}" } }
}
"#,
    // §2 lexical corners and separators
    r#"workload web { image = "x:1", replicas = 2, }
let a = 5 -3
let b = 1Gi-512Mi
let c = 500m + 20Gi + 1.5G + 2k + 3M + 4T + 5P + 6E + 7Ki + 8Ti + 9Pi + 10Ei
let d = "\n \t \r \" \\ \$ $${not}"
let e = team-a - b
/* a block
   comment */
// a slash comment
let f = [
  1, // one
  2,
]
"#,
];

#[test]
fn samples_from_the_language_reference_keep_their_meaning() {
    for src in SAMPLES {
        fmt(src);
    }
}

#[test]
fn reference_samples_format_as_expected() {
    let out = fmt(SAMPLES[1]);
    assert!(out.contains("  kube { context = \"prod-admin\", kubeconfig = \"~/.kube/config\" } # both optional"));
    assert!(out.contains("    mode           = \"rook\" # default: pools"));
    let out = fmt(SAMPLES[6]);
    assert!(out.contains("}\n} else if true {\n"), "{out}");
}

/// Every example stack and standard-library file in the repository formats without changing
/// meaning, and formatting is idempotent on it.
#[test]
fn repository_sources_format_idempotently() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    let mut dirs = vec![root.join("examples"), root.join("stdlib").join("std")];
    while let Some(dir) = dirs.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.flatten() {
            let path = entry.path();
            // Only examples/ is searched recursively; stdlib/std holds files directly.
            if path.is_dir() && path.starts_with(root.join("examples")) {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "cairn") {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty(), "no .cairn files found under {root:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let out = fmt(&text);
        // Formatting must not lose a single comment.
        assert_eq!(parse(&text, FileId(0)).file.comments.len(), parse(&out, FileId(0)).file.comments.len(), "{path:?}");
    }
}

/// Random edits (spaces, newlines, comments, commas, brackets, deletions) of the samples and of
/// the repository's sources: whenever the edited text still parses cleanly, formatting it keeps
/// its meaning and comments and is idempotent.
#[test]
fn randomly_edited_programs_keep_their_meaning() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces = [
        " ",
        "  ",
        "\t",
        "\n",
        "\n\n",
        "\r\n",
        ",",
        "/* c */",
        "/* a\n b */",
        " # c\n",
        "#\n",
        "\n  // d\n\n",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "-",
        "!",
        "+ 1",
        "\"s\"",
        "x",
        "else",
        "<<EOT\nx\nEOT\n",
        "<<-EOT\n  y\n  EOT\n",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources: Vec<String> = SAMPLES.iter().map(|s| s.to_string()).collect();
    for file in ["examples/shop/main.cairn", "stdlib/std/apps.cairn", "stdlib/std/storage.cairn"] {
        if let Ok(text) = std::fs::read_to_string(root.join(file)) {
            sources.push(text);
        }
    }
    let mut kept = 0;
    for src in &sources {
        for _ in 0..60 {
            let mut text = src.clone();
            for _ in 0..1 + next() % 3 {
                if next() % 5 == 0 {
                    let at = (next() % text.len() as u64) as usize;
                    let end = (at + 1 + (next() % 3) as usize).min(text.len());
                    if text.is_char_boundary(at) && text.is_char_boundary(end) {
                        text.replace_range(at..end, "");
                    }
                    continue;
                }
                let tokens = lex(&text, FileId(0), 0).tokens;
                let n = (next() % tokens.len() as u64) as usize;
                // Text glued to a heredoc's closing marker would make it an ordinary line.
                if n > 0 && tokens[n - 1].kind == TokenKind::Heredoc {
                    continue;
                }
                let piece = pieces[(next() % pieces.len() as u64) as usize];
                text.insert_str(tokens[n].start as usize, piece);
            }
            if parse(&text, FileId(0)).diagnostics.is_empty() {
                kept += 1;
                fmt(&text);
            }
        }
    }
    assert!(kept > 100, "too few edited programs parsed: {kept}");
}
