//! The README's examples are real: each cairn snippet in it checks cleanly, and the two
//! commands it gives a newcomer are the ones CI and users run.

use std::path::Path;
use std::process::Command;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)).expect(rel)
}

/// The fenced blocks of the README that are cairn code (they declare blocks).
fn cairn_snippets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("```") {
            match cur.take() {
                Some(block) => {
                    if block.contains(" {") && !block.contains("cargo ") {
                        out.push(block);
                    }
                }
                None => cur = Some(String::new()),
            }
            continue;
        }
        if let Some(block) = cur.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    out
}

#[test]
fn every_readme_snippet_checks_without_diagnostics() {
    let snippets = cairn_snippets(&read("README.md"));
    assert!(snippets.len() >= 2, "expected the intro and the tour snippets, found {}", snippets.len());
    for (i, s) in snippets.iter().enumerate() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join(format!("readme{i}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("main.cairn"), s).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_cairn")).args(["check", "--format", "json"]).arg(&dir).output().expect("run cairn");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "snippet {i} fails:\n{s}\n{stdout}");
        let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(json["diagnostics"].as_array().map(Vec::len), Some(0), "snippet {i} has diagnostics:\n{stdout}");
    }
}

#[test]
fn readme_gives_the_main_command_and_the_test_command_ci_runs() {
    let text = read("README.md");
    assert!(
        text.contains("\neval \"$(cairn sandbox up)\"\ncairn apply examples/shop --auto-approve\ncairn plan examples/shop\n"),
        "the README's main job is sandbox up, apply, plan"
    );
    assert!(text.contains("\ncargo install --path cli\n"));
    let test_cmd = "cargo test --workspace --locked";
    assert!(text.contains(&format!("\n{test_cmd}\n")), "README must give `{test_cmd}`");
    let ci = read(".ci/run");
    assert!(ci.lines().any(|l| l.trim() == test_cmd), ".ci/run must run the README's test command");
}

#[test]
fn the_main_command_renders_the_shop_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn")).args(["render", "examples/shop"]).current_dir(&root).output().expect("run cairn");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(yaml.starts_with("apiVersion: v1\nkind: Namespace\n"), "{yaml}");
    for kind in ["CephBlockPool", "StorageClass", "ResourceQuota", "LimitRange", "Secret", "StatefulSet", "Deployment"] {
        assert!(yaml.contains(&format!("\nkind: {kind}\n")), "no {kind} in:\n{yaml}");
    }
}

/// `examples/ci/drift.yml` (README, `drift`) sets every variable the example stack reads from a
/// CI secret (else every run reports the Secret as pending), passes secrets to steps through
/// `env:` rather than pasting them into a script, and caches the build instead of compiling
/// cairn from scratch each run.
#[test]
fn the_ci_drift_example_sets_the_stacks_variables_from_secrets_and_keeps_them_out_of_scripts() {
    let workflow = read("examples/ci/drift.yml");
    let stack: String = ["examples/shop/main.cairn", "examples/shop/apps.cairn"].iter().map(|f| read(f)).collect();
    let mut read_vars: Vec<&str> = stack.split("env(\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    read_vars.sort_unstable();
    read_vars.dedup();
    assert!(!read_vars.is_empty(), "the shop example reads SHOP_DB_PASSWORD");
    for var in read_vars {
        assert!(workflow.contains(&format!("{var}: ${{{{ secrets.{var} }}}}")), "drift.yml does not set {var} from a secret:\n{workflow}");
    }
    // No `${{ secrets.… }}` inside a `run:` script: each is an `env:` value.
    let mut in_run = false;
    for line in workflow.lines() {
        let t = line.trim_start();
        if t.starts_with("run:") {
            in_run = true;
        } else if t.starts_with("- ") || t.starts_with("env:") || t.starts_with("with:") {
            in_run = false;
        }
        assert!(!(in_run && line.contains("${{")), "an expression pasted into a script: {line}");
    }
    assert!(workflow.contains("actions/cache@") && workflow.contains("target"), "the build is cached:\n{workflow}");
    assert!(!workflow.contains("cargo install --locked --path cli"), "no full build from source on every run");
}
