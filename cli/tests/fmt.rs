//! `cairn fmt` keeps meaning and is idempotent: every example stack renders the same YAML
//! before and after formatting, a second `fmt` changes nothing, and `fmt --check` agrees.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cairn(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn")).args(args).current_dir(dir).env("NO_COLOR", "1").output().expect("run cairn")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root).expect("examples").flatten().map(|e| e.path()).filter(|p| is_stack(p)).collect();
    dirs.sort();
    assert!(dirs.len() >= 2, "expected example stacks in {}", root.display());
    dirs
}

/// A deliberately badly laid out copy of a file: every line's indentation and spacing around
/// `=` disturbed, blank lines doubled. Heredoc bodies are left alone (their text is a value).
fn scramble(text: &str) -> String {
    let mut out = String::new();
    let mut in_heredoc: Option<String> = None;
    for line in text.lines() {
        if let Some(marker) = &in_heredoc {
            out.push_str(line);
            out.push('\n');
            if line.trim() == marker {
                in_heredoc = None;
            }
            continue;
        }
        if let Some(pos) = line.find("<<") {
            let marker: String =
                line[pos + 2..].trim_start_matches('-').chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !marker.is_empty() {
                in_heredoc = Some(marker);
            }
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            out.push_str("\n\n");
            continue;
        }
        out.push_str("      ");
        if !trimmed.contains('"') && !trimmed.starts_with('#') && !trimmed.starts_with("//") {
            out.push_str(&trimmed.replacen(" = ", "   =    ", 1));
        } else {
            out.push_str(trimmed);
        }
        out.push('\n');
    }
    out
}

#[test]
fn formatting_examples_keeps_the_render_and_is_idempotent() {
    for example in examples() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let name = example.file_name().expect("name").to_string_lossy().to_string();
        let dir = tmp.path().join(&name);
        copy_dir(&example, &dir);
        let before = cairn(&["render", "."], &dir);
        assert_eq!(before.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&before.stderr));

        for f in std::fs::read_dir(&dir).expect("dir").flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "cairn")) {
            let text = std::fs::read_to_string(&f).expect("read");
            std::fs::write(&f, scramble(&text)).expect("write");
        }
        let check = cairn(&["fmt", "--check", "."], &dir);
        assert_eq!(check.status.code(), Some(1), "{name}: scrambled files must need formatting");

        let first = cairn(&["fmt", "."], &dir);
        assert_eq!(first.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&first.stderr));
        let snapshot: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
            .expect("dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .map(|p| {
                let t = std::fs::read_to_string(&p).expect("read");
                (p, t)
            })
            .collect();
        let second = cairn(&["fmt", "."], &dir);
        assert_eq!(second.status.code(), Some(0));
        assert!(second.stdout.is_empty(), "{name}: a second fmt changed {}", String::from_utf8_lossy(&second.stdout));
        for (p, t) in &snapshot {
            assert_eq!(&std::fs::read_to_string(p).expect("read"), t, "{} changed on the second fmt", p.display());
        }
        assert_eq!(cairn(&["fmt", "--check", "."], &dir).status.code(), Some(0));

        let after = cairn(&["render", "."], &dir);
        assert_eq!(after.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&after.stderr));
        assert_eq!(String::from_utf8_lossy(&before.stdout), String::from_utf8_lossy(&after.stdout), "{name}: fmt changed the render");
    }
}

#[test]
fn the_repository_is_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = cairn(&["fmt", "--check", "examples", "stdlib/std"], &root);
    assert_eq!(out.status.code(), Some(0), "unformatted: {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty());
}

#[test]
fn fmt_refuses_a_file_with_syntax_errors_and_leaves_it_alone() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let f = tmp.path().join("bad.cairn");
    let text = "pool \"p\" {\n  size = \n}\n";
    std::fs::write(&f, text).expect("write");
    let out = cairn(&["fmt", "bad.cairn"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E01"));
    assert_eq!(std::fs::read_to_string(&f).expect("read"), text);
}

/// A directory of `examples/` that holds a stack (`examples/ci/` holds a CI workflow).
fn is_stack(dir: &Path) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| e.path().extension().is_some_and(|x| x == "cairn"))
}

/// `fmt FILE` formats that one file (not its directory); `fmt -` formats stdin to stdout,
/// writing nothing on a syntax error; `fmt --check -` says by its exit code.
#[test]
fn fmt_formats_one_file_or_stdin() {
    let tmp = tempfile::tempdir().expect("tmp");
    let messy = "namespace   \"a\" {}\n";
    std::fs::write(tmp.path().join("one.cairn"), messy).expect("write");
    std::fs::write(tmp.path().join("other.cairn"), messy).expect("write");
    let o = cairn(&["fmt", "one.cairn"], tmp.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(tmp.path().join("one.cairn")).expect("read"), "namespace \"a\" {}\n");
    assert_eq!(std::fs::read_to_string(tmp.path().join("other.cairn")).expect("read"), messy, "only the file named");

    let stdin = |args: &[&str], input: &str| {
        use std::io::Write as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run cairn");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("wait")
    };
    let o = stdin(&["fmt", "-"], messy);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "namespace \"a\" {}\n");
    let o = stdin(&["fmt", "-"], "namespace \"a\" {\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty() && String::from_utf8_lossy(&o.stderr).contains("<stdin>"), "{o:?}");
    assert_eq!(stdin(&["fmt", "--check", "-"], messy).status.code(), Some(1));
    assert_eq!(stdin(&["fmt", "--check", "-"], "namespace \"a\" {}\n").status.code(), Some(0));
}
