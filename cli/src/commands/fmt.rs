//! `cairn fmt`: canonical layout for `.cairn` files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cairn_compiler::source::SourceMap;

use crate::output::Output;

/// Runs `fmt`; true when everything was formatted (or, with `--check`, already was).
pub fn run(out: &Output, paths: &[PathBuf], check: bool) -> bool {
    if paths.iter().any(|p| p.as_os_str() == "-") {
        if paths.len() > 1 {
            out.error("`-` (stdin) cannot be combined with other paths");
            return false;
        }
        return stdin(out, check);
    }
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            collect(p, &mut files);
        } else if p.exists() {
            files.push(p.clone());
        } else {
            out.error(&format!("`{}` does not exist", p.display()));
            return false;
        }
    }
    files.sort();
    let mut ok = true;
    for f in files {
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                out.error(&format!("cannot read `{}`: {e}", f.display()));
                ok = false;
                continue;
            }
        };
        match cairn_lang::format(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if check {
                    out.stdout(&format!("{}\n", f.display()));
                    ok = false;
                } else if let Err(e) = std::fs::write(&f, formatted) {
                    out.error(&format!("cannot write `{}`: {e}", f.display()));
                    ok = false;
                } else {
                    out.stdout(&format!("{}\n", f.display()));
                }
            }
            Err(diags) => {
                report(out, &f, text, diags);
                ok = false;
            }
        }
    }
    ok
}

/// `fmt -`: stdin formatted to stdout (for editors and pipes); with `--check`, nothing is
/// printed and the exit code says whether it was formatted. On a syntax error nothing reaches
/// stdout.
fn stdin(out: &Output, check: bool) -> bool {
    let mut text = String::new();
    if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
        out.error(&format!("cannot read stdin: {e}"));
        return false;
    }
    match cairn_lang::format(&text) {
        Ok(formatted) if check => formatted == text,
        Ok(formatted) => {
            out.stdout(&formatted);
            true
        }
        Err(diags) => {
            report(out, Path::new("<stdin>"), text, diags);
            false
        }
    }
}

/// Prints a file's syntax errors, masking secrets written in it.
fn report(out: &Output, f: &Path, text: String, diags: Vec<cairn_lang::Diagnostic>) {
    let mut sources = SourceMap::default();
    let parsed = cairn_lang::parse(&text, cairn_lang::FileId(0));
    let id = sources.add(f.to_path_buf(), f.display().to_string(), text);
    let mask = cairn_compiler::secrets::literal_secret_spans(std::slice::from_ref(&parsed.file));
    let diags: Vec<_> = diags
        .into_iter()
        .map(|mut d| {
            d.span.file = id;
            d
        })
        .collect();
    out.diagnostics(&sources, &diags, &mask);
}

/// Every `.cairn` file under `dir`, skipping hidden directories and `target`. Symlinks inside
/// the tree are not followed, to directories or to files: a link could lead out of the tree
/// (and `fmt` would rewrite files there) or back into it (a loop). A directory reached twice
/// (a bind mount) is walked once.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut seen = BTreeSet::new();
    walk(dir, files, &mut seen);
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, seen: &mut BTreeSet<(u64, u64)>) {
    if let Some(id) = dir_id(dir) {
        if !seen.insert(id) {
            return;
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        // `DirEntry::file_type` does not follow symlinks.
        let Ok(kind) = e.file_type() else { continue };
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if kind.is_dir() {
            if !name.starts_with('.') && name != "target" {
                walk(&p, files, seen);
            }
        } else if kind.is_file() && p.extension().is_some_and(|x| x == "cairn") {
            files.push(p);
        }
    }
}

/// A directory's identity (device, inode), so a loop through a mount is noticed.
#[cfg(unix)]
fn dir_id(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn dir_id(_: &Path) -> Option<(u64, u64)> {
    None
}
