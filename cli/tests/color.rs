//! `--color` and `NO_COLOR`: color only when asked for (or, in `auto`, on a terminal without
//! `NO_COLOR`); JSON and YAML never carry escape codes.

use std::process::{Command, Output};

const ESC: &str = "\u{1b}[";

fn bad_stack() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("stack");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("main.cairn"), "pool \"p\" {\n  sise = 3\n}\n").expect("write");
    tmp
}

fn check(tmp: &tempfile::TempDir, args: &[&str], no_color: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.arg("check").args(args).arg(tmp.path().join("stack")).env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    cmd.output().expect("run cairn")
}

#[test]
fn always_colors_never_does_not() {
    let tmp = bad_stack();
    let on = check(&tmp, &["--color", "always"], false);
    assert_eq!(on.status.code(), Some(1));
    let on_err = String::from_utf8_lossy(&on.stderr);
    assert!(on_err.contains(ESC), "expected color:\n{on_err}");
    assert!(on_err.contains("E0303"));

    let off = check(&tmp, &["--color", "never"], false);
    let off_err = String::from_utf8_lossy(&off.stderr);
    assert!(!off_err.contains(ESC), "expected no color:\n{off_err}");
    assert!(off_err.contains("did you mean `size`?"));
}

#[test]
fn auto_is_plain_off_a_terminal_and_with_no_color() {
    let tmp = bad_stack();
    for no_color in [false, true] {
        let out = check(&tmp, &[], no_color);
        assert_eq!(out.status.code(), Some(1));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(ESC));
    }
}

#[test]
fn json_never_carries_escape_codes() {
    let tmp = bad_stack();
    let out = check(&tmp, &["--format", "json", "--color", "always"], false);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(ESC));
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(json["diagnostics"][0]["code"], "E0303");
}
