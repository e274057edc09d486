//! `cairn check` diagnostics, end to end, as data. Each directory of `tests/data/diagnostics/` is
//! one case: a stack directory (`stack/`, or another name where the name matters, as for E0605)
//! beside the expected outputs `json.stdout` (`cairn check --format json`) and `text.stderr`
//! (the graphical report). The stack is copied into a temporary directory and checked in both
//! modes; the outputs, with the temporary path replaced by `[TMP]`, must equal the files.
//!
//! Besides the outputs, every case checks what a report promises: JSON mode writes nothing on
//! stderr and text mode nothing on stdout, nothing panics, the exit code is 1 exactly when there
//! is an error, the JSON diagnostics are sorted by file, line and column, and the text report
//! shows each diagnostic's code, position and message.
//!
//! To add a case, add its directory with the stack and run with `INSTA_UPDATE=always` (the
//! variable insta uses for the other snapshots): the expected outputs are written; read them
//! in the diff before committing.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Where the cases are.
fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diagnostics")
}

/// Whether expected outputs are (re)written instead of compared.
fn updating() -> bool {
    std::env::var("INSTA_UPDATE").as_deref() == Ok("always")
}

/// Copies the directory `from` to `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the stack directory");
    for entry in std::fs::read_dir(from).expect("read a case directory").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy a case file");
        }
    }
}

/// Text with miette's wrapping undone (gutters and all whitespace dropped), so a long message
/// can be found even where the report wraps it, at a space or after a hyphen.
fn flat(s: &str) -> String {
    s.chars().filter(|c| *c != '│' && !c.is_whitespace()).collect()
}

/// What `cairn check` printed and returned for one case.
struct Outcome {
    json_code: Option<i32>,
    text_code: Option<i32>,
    json_out: String,
    json_err: String,
    text_out: String,
    text_err: String,
}

/// Runs `cairn check` on the case's stack directory `stack` in JSON and in text mode.
fn check(stack: &Path) -> Outcome {
    let tmp = tempfile::tempdir().expect("temp dir");
    let name = stack.file_name().expect("the stack directory has a name");
    let dir = tmp.path().join(name);
    copy_dir(stack, &dir);
    let bin = env!("CARGO_BIN_EXE_cairn");
    let run = |args: &[&str]| {
        Command::new(bin).arg("check").arg(&dir).args(args).env("NO_COLOR", "1").current_dir(tmp.path()).output().expect("run cairn check")
    };
    let json = run(&["--format", "json"]);
    let text = run(&["--color", "never"]);
    let mut roots = vec![tmp.path().to_path_buf()];
    if let Ok(c) = std::fs::canonicalize(tmp.path()) {
        roots.insert(0, c);
    }
    let scrub = |bytes: &[u8]| {
        let mut s = String::from_utf8_lossy(bytes).to_string();
        for root in &roots {
            s = s.replace(&root.display().to_string(), "[TMP]");
        }
        s
    };
    Outcome {
        json_code: json.status.code(),
        text_code: text.status.code(),
        json_out: scrub(&json.stdout),
        json_err: String::from_utf8_lossy(&json.stderr).to_string(),
        text_out: String::from_utf8_lossy(&text.stdout).to_string(),
        text_err: scrub(&text.stderr),
    }
}

/// The promises every report keeps, whatever the case; an error message on the first broken one.
fn promises(o: &Outcome) -> Result<(), String> {
    if !o.json_err.is_empty() {
        return Err(format!("JSON mode wrote to stderr:\n{}", o.json_err));
    }
    if !o.text_out.is_empty() {
        return Err(format!("text mode wrote to stdout:\n{}", o.text_out));
    }
    if o.text_err.contains("panicked") {
        return Err(format!("cairn panicked:\n{}", o.text_err));
    }
    let json: Value = serde_json::from_str(&o.json_out).map_err(|e| format!("invalid JSON ({e}):\n{}", o.json_out))?;
    let diags = json["diagnostics"].as_array().map_or(&[][..], Vec::as_slice);
    let want = Some(i32::from(diags.iter().any(|d| d["severity"] == "error")));
    if o.json_code != want || o.text_code != want {
        return Err(format!("exit codes {:?} (JSON) and {:?} (text), expected {want:?}", o.json_code, o.text_code));
    }
    let place = |d: &Value| (d["file"].as_str().unwrap_or_default().to_string(), d["line"].as_u64(), d["column"].as_u64());
    let places: Vec<_> = diags.iter().map(place).collect();
    if !places.is_sorted() {
        return Err(format!("JSON diagnostics are not sorted by file, line, column:\n{}", o.json_out));
    }
    let text = flat(&o.text_err);
    for d in diags {
        let (file, line, column) = place(d);
        let pos = format!("[{file}:{}:{}]", line.unwrap_or(0), column.unwrap_or(0));
        let code = d["code"].as_str().unwrap_or_default();
        let message = d["message"].as_str().unwrap_or_default();
        if !o.text_err.contains(code) || !o.text_err.contains(&pos) || !text.contains(&flat(message)) {
            return Err(format!("the text report lacks {code} at {pos} ({message:?}):\n{}", o.text_err));
        }
    }
    Ok(())
}

/// Compares `got` with the file `path`, or writes it there when updating; a message on mismatch.
fn expect_file(path: &Path, got: &str) -> Result<(), String> {
    if updating() {
        std::fs::write(path, got).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        return Ok(());
    }
    let want = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {} ({e}); run with INSTA_UPDATE=always to write it", path.display()))?;
    if want != got {
        return Err(format!("{} differs (INSTA_UPDATE=always rewrites it):\n--- expected\n{want}\n--- got\n{got}", path.display()));
    }
    Ok(())
}

/// Runs one case directory.
fn run_case(case: &Path) -> Result<(), String> {
    let stacks: Vec<PathBuf> =
        std::fs::read_dir(case).map_err(|e| e.to_string())?.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    let [stack] = stacks.as_slice() else {
        return Err(format!("a case holds exactly one stack directory, found {stacks:?}"));
    };
    let o = check(stack);
    promises(&o)?;
    expect_file(&case.join("json.stdout"), &o.json_out)?;
    expect_file(&case.join("text.stderr"), &o.text_err)
}

#[test]
fn diagnostics_cases_match_their_expected_output() {
    let mut cases: Vec<PathBuf> =
        std::fs::read_dir(cases_dir()).expect("read tests/data/diagnostics").flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    assert!(cases.len() >= 44, "found only {} cases in {}", cases.len(), cases_dir().display());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| run_case(case).err().map(|e| format!("{}: {e}", case.file_name().unwrap_or_default().to_string_lossy())))
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}
