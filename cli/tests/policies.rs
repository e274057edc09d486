//! Built-in policies through `cairn check` and `cairn plan`: violations are diagnostics at the
//! resource they name (deny an error, warn a warning), `enforce = "warn"` downgrades, `config`
//! reaches the policy, and a policy that cannot run fails the check naming it.

use std::path::Path;
use std::process::Command;

fn stack(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("main.cairn"), text).unwrap();
}

fn check_json(dir: &Path) -> (i32, serde_json::Value) {
    let o = Command::new(env!("CARGO_BIN_EXE_cairn")).args(["check", "--format", "json"]).arg(dir).output().unwrap();
    (o.status.code().unwrap(), serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout))))
}

const STACK: &str = r#"namespace "team" {}

pool "fast" {
  size     = 2
  min_size = 1
  protect  = false
}

workload "web" {
  namespace = namespace.team
  image     = "nginx:1.27"
  replicas  = 3
}

workload "edge" {
  namespace = namespace.team
  image     = "ghcr.io/acme/edge:latest"
}
"#;

fn policies(min_enforce: &str) -> String {
    format!(
        r#"
policy "tags" {{
  source = "std:no-latest-tag"
}}

policy "replication" {{
  source  = "std:min-replication"
  config  = {{ size = 3, min_size = 2 }}
  enforce = "{min_enforce}"
}}

policy "budgets" {{
  source = "std:pdb-for-replicated"
}}
"#
    )
}

#[test]
fn violations_are_diagnostics_at_the_resources_they_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("team");
    stack(&dir, &format!("{STACK}{}", policies("deny")));
    let (code, json) = check_json(&dir);
    assert_eq!(code, 1, "{json:#}");
    let found: Vec<(String, String, u64)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "P0001")
        .map(|d| (d["severity"].as_str().unwrap().to_owned(), d["message"].as_str().unwrap().to_owned(), d["line"].as_u64().unwrap()))
        .collect();
    let has = |sev: &str, what: &str, line: u64| found.iter().any(|(s, m, l)| s == sev && m.contains(what) && *l == line);
    assert!(has("error", "policy `tags` (std:no-latest-tag): Deployment team/edge: container `edge` image `ghcr.io/acme/edge:latest` uses the `latest` tag", 15), "{found:#?}");
    assert!(has("error", "pool `fast` keeps 2 copies; at least 3 are required", 3), "{found:#?}");
    assert!(has("error", "pool `fast` accepts writes with 1 copy(ies)", 3), "{found:#?}");
    assert!(has("warning", "Deployment team/web runs 3 replicas and no PodDisruptionBudget", 9), "{found:#?}");
    assert_eq!(found.len(), 4, "{found:#?}");
    // The text report names the policy too.
    let o = Command::new(env!("CARGO_BIN_EXE_cairn")).args(["--color", "never", "check"]).arg(&dir).output().unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("P0001") && text.contains("the policy"), "{text}");
}

#[test]
fn enforce_warn_downgrades_and_bad_policies_fail_naming_themselves() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("team");
    let fixed = STACK.replace("ghcr.io/acme/edge:latest", "ghcr.io/acme/edge:1.0");
    stack(&dir, &format!("{fixed}{}", policies("warn")));
    let (code, json) = check_json(&dir);
    assert_eq!(code, 0, "only warnings left: {json:#}");
    let sev: Vec<&str> =
        json["diagnostics"].as_array().unwrap().iter().filter(|d| d["code"] == "P0001").map(|d| d["severity"].as_str().unwrap()).collect();
    assert_eq!(sev, ["warning", "warning", "warning"], "{json:#}");

    stack(&dir, &format!("{fixed}\npolicy \"odd\" {{\n  source = \"std:no-such\"\n}}\npolicy \"typo\" {{\n  source = \"std:min-replication\"\n  config = {{ size = \"three\" }}\n}}\n"));
    let (code, json) = check_json(&dir);
    assert_eq!(code, 1);
    let msgs: Vec<&str> =
        json["diagnostics"].as_array().unwrap().iter().filter(|d| d["code"] == "P0002").map(|d| d["message"].as_str().unwrap()).collect();
    assert!(msgs.iter().any(|m| m.contains("policy `odd` cannot run: there is no built-in policy `std:no-such`")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("policy `typo` (std:min-replication) failed: config `size` must be an integer")), "{msgs:?}");
}
