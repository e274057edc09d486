//! Tests that need an outside tool (kubectl, Neovim, Ceph): without it they skip with a line
//! saying so, except under `CI=true`, where a skip must never look green: they fail, naming
//! the tool and how to install it.

/// Whether the environment variable `CI` is `true` (the CI runner sets it).
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Says that `tool` is missing (`install`: how to get it): a `skipping:` line, or under
/// `CI=true` a failure.
#[track_caller]
pub fn missing(tool: &str, install: &str) {
    assert!(!in_ci(), "{tool} is not installed and CI=true, where this test must run rather than skip; {install}");
    println!("skipping: {tool} is not installed ({install})");
}

/// Runs this binary's test `name` (its path without the crate) again in a child process, with
/// `CI` set to `ci` (unset: `None`) and, when `no_tools`, a `PATH` with nothing on it: whether it
/// passed, and its output.
pub fn rerun(name: &str, ci: Option<&str>, no_tools: bool) -> (bool, String) {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--include-ignored", "--nocapture", "--test-threads", "1"]);
    match ci {
        Some(v) => cmd.env("CI", v),
        None => cmd.env_remove("CI"),
    };
    let empty = tempfile::tempdir().unwrap();
    if no_tools {
        cmd.env("PATH", empty.path());
    }
    let o = cmd.output().unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// Run by [`a_missing_tool_fails_under_ci_and_skips_elsewhere`] in a child test process.
#[test]
#[ignore = "run by a_missing_tool_fails_under_ci_and_skips_elsewhere"]
fn missing_tool_probe() {
    missing("probe-tool", "install it");
}

/// [`missing`] in a child test process: under `CI=true` the test fails naming the tool;
/// elsewhere it passes with a `skipping:` line.
#[test]
fn a_missing_tool_fails_under_ci_and_skips_elsewhere() {
    let probe = module_path!().split_once("::").map_or("missing_tool_probe".to_string(), |(_, m)| format!("{m}::missing_tool_probe"));
    let run = |ci| rerun(&probe, ci, false);
    let (ok, out) = run(Some("true"));
    assert!(!ok && out.contains("probe-tool is not installed and CI=true"), "{out}");
    for ci in [None, Some("false")] {
        let (ok, out) = run(ci);
        assert!(ok && out.contains("skipping: probe-tool is not installed (install it)") && out.contains("1 passed"), "{ci:?}: {out}");
    }
}
