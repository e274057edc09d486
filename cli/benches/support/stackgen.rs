//! A generator of large, realistic stacks for benchmarks (`benches/render.rs`) and for
//! `scripts/bench-render.sh` (through `examples/gen_stack.rs`).
//!
//! `generate(n)` makes `n` workloads over `n / 50` namespaces (at least one), one file per
//! namespace plus `main.cairn` (cluster, stack) and `storage.cairn` (two pools and their
//! storage classes). Each namespace has a quota and limits that its workloads fit, a config
//! and a secret; each workload has resources, two ports, env (a config key, a secret key and a
//! reference to its namespace's first workload), a probe and a Service. Every fifth workload is
//! a StatefulSet with a volume; every tenth of the rest is made by `std/apps`' `web_app`.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

/// Workloads per namespace.
pub const PER_NAMESPACE: usize = 50;

/// The stack's files: (file name, text).
pub fn generate(n: usize) -> Vec<(String, String)> {
    let namespaces = n.div_ceil(PER_NAMESPACE).max(1);
    let mut files = vec![
        (
            "main.cairn".to_string(),
            "# A generated stack for benchmarks.\n\ncluster \"prod\" {\n  ceph { mode = \"rook\" }\n}\n\nstack \"bench\" {\n  cluster = cluster.prod\n}\n".to_string(),
        ),
        ("storage.cairn".to_string(), STORAGE.to_string()),
    ];
    for ns in 0..namespaces {
        let first = ns * PER_NAMESPACE;
        let last = (first + PER_NAMESPACE).min(n);
        files.push((format!("team-{ns:03}.cairn"), namespace_file(ns, first..last)));
    }
    files
}

/// Writes the stack into `dir` (created if needed).
pub fn write(dir: &Path, n: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in generate(n) {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

const STORAGE: &str = r#"pool "fast" {
  size           = 3
  failure_domain = "host"
  device_class   = "ssd"
  quota { max_bytes = 1000Ti }
}

pool "bulk" {
  type = "erasure"
  erasure {
    k = 4
    m = 2
  }
  device_class = "hdd"
}

storage_class "fast" {
  pool    = pool.fast
  reclaim = "Retain"
  default = true
}

storage_class "bulk" {
  pool    = pool.bulk
  binding = "WaitForFirstConsumer"
}
"#;

fn namespace_file(ns: usize, workloads: std::ops::Range<usize>) -> String {
    let name = format!("team-{ns:03}");
    let mut s = String::new();
    let _ = write!(
        s,
        r#"import "std/apps" as apps

namespace "{name}" {{
  labels = {{ team = "{name}", tier = "{tier}" }}

  quota {{
    cpu           = 40
    memory        = 64Gi
    limits_cpu    = 120
    limits_memory = 128Gi
    pods          = 400
    storage       = 2Ti
    pvcs          = 100
  }}

  limits {{
    default_request_cpu    = 100m
    default_request_memory = 128Mi
    default_cpu            = 500m
    default_memory         = 256Mi
    max_cpu                = 4
    max_memory             = 8Gi
  }}
}}

config "{name}-app" {{
  namespace = namespace.{name}
  data = {{
    LOG_LEVEL = "info"
    REGION    = "eu-west-{region}"
    "app.yaml" = <<-EOT
      team: {name}
      features:
        tracing: true
      EOT
  }}
}}

secret "{name}-db" {{
  namespace = namespace.{name}
  data      = {{ password = "{name}-not-a-real-password" }}
}}
"#,
        tier = if ns.is_multiple_of(3) { "gold" } else { "silver" },
        region = ns % 4 + 1,
    );
    let gateway = format!("svc-{:05}", workloads.start);
    for w in workloads {
        let wname = format!("svc-{w:05}");
        let peer = if wname == gateway {
            String::new()
        } else {
            format!("    UPSTREAM    = \"${{workload.{gateway}}}.${{namespace.{name}}}.svc\"\n")
        };
        if w.is_multiple_of(5) {
            let class = if w.is_multiple_of(10) { "fast" } else { "bulk" };
            let _ = write!(
                s,
                r#"
workload "{wname}" {{
  namespace = namespace.{name}
  image     = "registry.example.com/{name}/{wname}:1.{minor}.0"
  replicas  = 2
  ports     = {{ http = 8080, metrics = 9090 }}
  env = {{
    LOG_LEVEL   = config.{name}-app.LOG_LEVEL
    DB_PASSWORD = secret.{name}-db.password
    SERVICE     = "{wname}"
{peer}  }}

  resources {{
    cpu          = 100m
    memory       = 256Mi
    cpu_limit    = 500m
    memory_limit = 512Mi
  }}
  volume "data" {{
    storage_class = storage_class.{class}
    size          = 10Gi
    mount         = "/var/lib/{wname}"
  }}
  probe {{ http = "/healthz", port = "http" }}
  expose {{ port = 80, target = "http" }}
  labels = {{ app = "{wname}", stateful = "yes" }}
}}
"#,
                minor = w % 7,
            );
        } else if w % 10 == 1 {
            let _ = write!(
                s,
                r#"
apps.web_app "{wname}" {{
  namespace = namespace.{name}
  image     = "registry.example.com/{name}/{wname}:2.{minor}.1"
  replicas  = 2
  cpu       = 100m
  memory    = 128Mi
  cpu_limit = 500m
  config    = config.{name}-app
  env = {{
    LOG_LEVEL = config.{name}-app.LOG_LEVEL
    SERVICE   = "{wname}"
  }}
}}
"#,
                minor = w % 5,
            );
        } else {
            let _ = write!(
                s,
                r#"
workload "{wname}" {{
  namespace = namespace.{name}
  image     = "registry.example.com/{name}/{wname}:1.{minor}.3"
  replicas  = 2
  ports     = {{ http = 8080, metrics = 9090 }}
  env = {{
    LOG_LEVEL   = config.{name}-app.LOG_LEVEL
    DB_PASSWORD = secret.{name}-db.password
    SERVICE     = "{wname}"
{peer}  }}

  resources {{
    cpu          = 100m
    memory       = 128Mi
    cpu_limit    = 500m
    memory_limit = 256Mi
  }}
  probe {{ http = "/healthz", port = "http" }}
  expose {{ port = 80, target = "http" }}
  update {{ max_surge = 1, max_unavailable = 0 }}
  labels = {{ app = "{wname}" }}
}}
"#,
                minor = w % 9,
            );
        }
    }
    s
}
