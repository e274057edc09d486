//! Tidy tests, after rust-analyzer's `xtask/src/tidy.rs`: the docs that tests keep honest.
//!
//! - Every `.rs` file under a crate's `src/` is named in `docs/architecture.md`'s code map.
//! - Every diagnostic code the sources emit is documented in `docs/diagnostics.md`, and every
//!   documented code appears in some test (a test source, snapshot or expected output).
//! - Every ```` ```cairn ```` block of `docs/language.md` compiles; ```` ```cairn,error E0xxx ````
//!   blocks must fail with that code; ```` ```cairn,ignore ```` blocks are not compiled.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cairn_compiler::{compile, MapEnv, MemoryLoader, Mode};

/// The repository root (the workspace's directory).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("cli/ has a parent").to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every file under `dir` (recursively), sorted; `target/` and hidden directories are skipped.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The workspace's crates: top-level directories with a `Cargo.toml` and a `src/`.
fn crates() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root())
        .expect("read the repository root")
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file() && e.path().join("src").is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|name| name != "target" && !name.starts_with('.'))
        .collect();
    out.sort();
    out
}

/// The code spans (text between backticks) of `text`.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).map(str::trim).collect()
}

/// The section of the code map about `krate`: from its `` ### `krate/` `` heading to the next
/// heading of the same or a higher level.
fn crate_section<'a>(doc: &'a str, krate: &str) -> Option<&'a str> {
    let heading = format!("### `{krate}/`");
    let start = doc.find(&heading)?;
    let rest = &doc[start + heading.len()..];
    let end = rest.find("\n## ").into_iter().chain(rest.find("\n### ")).min().unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Whether `rel` (a path under the crate's `src/`, with `/`) is named by one of `spans`: by its
/// path or a trailing part of it (`write.rs`, `api/write.rs`), and a `mod.rs` by its directory
/// (`api/`). `lib.rs` and `main.rs` are the crate's own section.
fn is_named(rel: &str, spans: &[&str]) -> bool {
    if rel == "lib.rs" || rel == "main.rs" {
        return true;
    }
    let full = format!("/{rel}");
    let by_path = |s: &str| !s.is_empty() && (full.ends_with(&format!("/{s}")));
    if spans.iter().any(|s| s.ends_with(".rs") && by_path(s)) {
        return true;
    }
    match rel.strip_suffix("mod.rs") {
        Some(dir) => {
            let dir = format!("/{}", dir.trim_end_matches('/'));
            spans.iter().any(|s| s.ends_with('/') && dir.ends_with(&format!("/{}", s.trim_end_matches('/'))))
        }
        None => false,
    }
}

#[test]
fn every_source_file_is_named_in_the_code_map() {
    let root = root();
    let doc = read(&root.join("docs/architecture.md"));
    let mut missing = Vec::new();
    for krate in crates() {
        let Some(section) = crate_section(&doc, &krate) else {
            missing.push(format!("{krate}/ (the crate has no `### `{krate}/`` section)"));
            continue;
        };
        let spans = code_spans(section);
        let src = root.join(&krate).join("src");
        for file in files_under(&src) {
            if file.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = file.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
            if !is_named(&rel, &spans) {
                missing.push(format!("{krate}/src/{rel}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/architecture.md's code map does not name these source files:\n  {}\n\
         Add a line for each to its crate's `### `crate/`` section, in the doc's style: the file \
         name in backticks (`write.rs`, or `api/write.rs` where the name is ambiguous; a `mod.rs` \
         by its directory, `api/`) and, in a few words, what it owns.",
        missing.join("\n  ")
    );
}

// ---- diagnostic codes ------------------------------------------------------------------------

/// Whether `word` is a diagnostic code: `E`, `W` or `P` and four digits.
fn is_code(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() == 5 && matches!(b[0], b'E' | b'W' | b'P') && b[1..].iter().all(u8::is_ascii_digit)
}

/// The codes written in `text` as words (`E0101`, not `xE01011`).
fn codes_in(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| is_code(w)).map(str::to_string).collect()
}

/// The codes written in `text` as string literals (`"E0101"`): what code emits.
fn code_literals_in(text: &str) -> BTreeSet<String> {
    text.split('"').skip(1).step_by(2).filter(|w| is_code(w)).map(str::to_string).collect()
}

/// A source file split into its code and its test part (a `tests.rs` file, or everything from the
/// first `#[cfg(test)]`).
fn split_tests(path: &Path, text: &str) -> (String, String) {
    if path.file_name().is_some_and(|n| n == "tests.rs" || n.to_string_lossy().ends_with("_tests.rs")) {
        return (String::new(), text.to_string());
    }
    match text.find("#[cfg(test)]") {
        Some(at) => (text[..at].to_string(), text[at..].to_string()),
        None => (text.to_string(), String::new()),
    }
}

/// Codes emitted by the crates' sources, and codes named by tests (test sources, snapshots,
/// expected outputs and data files).
fn emitted_and_tested() -> (BTreeSet<String>, BTreeSet<String>) {
    let root = root();
    let this = Path::new(file!()).file_name().map(|n| n.to_os_string());
    let (mut emitted, mut tested) = (BTreeSet::new(), BTreeSet::new());
    for krate in crates() {
        for file in files_under(&root.join(&krate).join("src")) {
            if file.extension().is_some_and(|e| e == "rs") {
                let (code, tests) = split_tests(&file, &read(&file));
                emitted.extend(code_literals_in(&code));
                tested.extend(codes_in(&tests));
            }
        }
        for file in files_under(&root.join(&krate).join("tests")) {
            if file.file_name().map(|n| n.to_os_string()) == this && file.parent().is_some_and(|p| p.ends_with("cli/tests")) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&file) {
                tested.extend(codes_in(&text));
            }
        }
    }
    // `cairn,error E0xxx` examples of the language reference are compiled by this file.
    for example in examples() {
        tested.extend(example.error.clone());
    }
    (emitted, tested)
}

/// The codes listed in `docs/diagnostics.md`'s tables (rows starting `| E0101 |`).
fn documented() -> BTreeSet<String> {
    read(&root().join("docs/diagnostics.md"))
        .lines()
        .filter_map(|l| l.strip_prefix("| ")?.split(' ').next())
        .filter(|w| is_code(w))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_emitted_diagnostic_code_is_documented() {
    let (emitted, _) = emitted_and_tested();
    let documented = documented();
    let undocumented: Vec<_> = emitted.difference(&documented).cloned().collect();
    assert!(
        undocumented.is_empty(),
        "these codes are emitted but not listed in docs/diagnostics.md: {}\n\
         Add a row `| CODE | what it means |` to the table of its group.",
        undocumented.join(", ")
    );
    assert!(emitted.len() > 40, "found only {} codes in the sources: is the scan broken?", emitted.len());
}

/// Documented codes no test can emit, each with the reason.
const UNREACHABLE: &[(&str, &str)] = &[("E0111", "the formatter's last guard against its own bugs: no input reaches it")];

#[test]
fn every_documented_diagnostic_code_is_emitted_by_a_test() {
    let (_, mut tested) = emitted_and_tested();
    tested.extend(UNREACHABLE.iter().map(|(code, _)| code.to_string()));
    let untested: Vec<_> = documented().difference(&tested).cloned().collect();
    assert!(
        untested.is_empty(),
        "these codes of docs/diagnostics.md appear in no test: {}\n\
         Add a case that emits each (a stack under cli/tests/data/diagnostics/, with its expected \
         output generated by INSTA_UPDATE=always), or remove the code from the doc if nothing \
         emits it any more.",
        untested.join(", ")
    );
}

// ---- examples of the language reference ------------------------------------------------------

/// A fenced ```` ```cairn ```` block of `docs/language.md`.
struct Example {
    /// 1-based line of the opening fence.
    line: usize,
    text: String,
    /// `cairn,error E0xxx`: the code it must fail with.
    error: Option<String>,
    /// `cairn,ignore`: not compiled (intentionally partial).
    ignore: bool,
}

/// The ```` ```cairn… ```` blocks of `docs/language.md`.
fn examples() -> Vec<Example> {
    let doc = read(&root().join("docs/language.md"));
    let mut out = Vec::new();
    let mut open: Option<Example> = None;
    let mut other_language = false;
    for (i, line) in doc.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        if other_language {
            other_language = fence.is_none();
            continue;
        }
        match (open.take(), fence) {
            (Some(ex), Some(_)) => out.push(ex),
            (Some(mut ex), None) => {
                ex.text.push_str(line);
                ex.text.push('\n');
                open = Some(ex);
            }
            (None, Some(info)) => {
                let words: Vec<&str> = info.split([',', ' ']).filter(|w| !w.is_empty()).collect();
                if words.first() == Some(&"cairn") {
                    let error = words.iter().position(|w| *w == "error").map(|i| words.get(i + 1).map_or(String::new(), |c| c.to_string()));
                    open = Some(Example { line: i + 1, text: String::new(), error, ignore: words.contains(&"ignore") });
                } else {
                    other_language = true;
                }
            }
            (None, None) => {}
        }
    }
    out
}

#[test]
fn language_reference_examples_compile() {
    let examples = examples();
    assert!(examples.len() >= 3, "found {} ```cairn examples in docs/language.md", examples.len());
    let mut failures = Vec::new();
    for ex in examples.iter().filter(|e| !e.ignore) {
        let dir = Path::new("/stacks/shop");
        let mut loader = MemoryLoader::new();
        loader.insert(dir.join("main.cairn"), ex.text.as_str());
        let c = match compile(&loader, &MapEnv::default(), dir, Mode::Render) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("docs/language.md:{}: the stack does not load: {e}", ex.line));
                continue;
            }
        };
        let errors: Vec<String> = c.diagnostics.iter().filter(|d| d.is_error()).map(|d| format!("{} {}", d.code, d.message)).collect();
        match &ex.error {
            None if !errors.is_empty() => {
                failures.push(format!("docs/language.md:{}: does not compile:\n    {}", ex.line, errors.join("\n    ")))
            }
            Some(code) if !errors.iter().any(|e| e.starts_with(&format!("{code} "))) => {
                failures.push(format!("docs/language.md:{}: expected {code}, got {errors:?}", ex.line))
            }
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nA ```cairn block must compile on its own; mark an intentionally partial one ```cairn,ignore \
         and one that shows an error ```cairn,error E0xxx.",
        failures.join("\n")
    );
}
