//! `cairn render`: the desired objects as YAML on stdout (or one file each with `-o`).
//!
//! `-o DIR` writes only into an empty directory or one it rendered into before: the
//! `.cairn-render` file there lists what the last render wrote, and the next one removes those
//! files it no longer writes — so `kubectl apply -f DIR` never re-creates an object the stack
//! dropped. A non-empty directory without the marker is refused: its files are someone else's.

use std::collections::BTreeSet;
use std::path::Path;

use cairn_compiler::{render, Mode};

use crate::output::Output;

/// The file in a `render -o` directory that lists what cairn wrote there.
pub const MARKER: &str = ".cairn-render";
const MARKER_HEADER: &str = "# Written by `cairn render -o`: the files below are cairn's, and the next render\n# into this directory removes those it no longer writes. Other files are left alone.\n";

/// Runs `render`; true on success. Nothing reaches stdout when there are errors.
pub fn run(out: &Output, dir: &Path, output: Option<&Path>, reveal: bool) -> bool {
    let Some(c) = super::compile_dir(out, dir, Mode::Render) else { return false };
    // The process ends after this command: freeing a large compilation allocation by
    // allocation takes longer than writing it out, so it is left to the operating system.
    let c = std::mem::ManuallyDrop::new(c);
    out.diagnostics(&c.program.sources, &c.diagnostics, &c.secret_spans);
    if c.has_errors() {
        return false;
    }
    let Some(target) = output else {
        out.stdout(&c.render(reveal));
        return true;
    };
    let previous = match owned_files(target) {
        Ok(p) => p,
        Err(RefuseReason::NotOurs(first)) => {
            out.error(&format!("`{}` is not empty (it holds `{first}`) and was not written by `cairn render -o`", target.display()));
            out.info(&format!(
                "  help: choose an empty or new directory; cairn removes its own stale files only where a `{MARKER}` file lists them"
            ));
            return false;
        }
        Err(RefuseReason::Io(e)) => {
            out.error(&format!("cannot use `{}`: {e}", target.display()));
            return false;
        }
    };
    if let Err(e) = std::fs::create_dir_all(target) {
        out.error(&format!("cannot create `{}`: {e}", target.display()));
        return false;
    }
    let names: Vec<String> = c.objects.iter().enumerate().map(|(i, o)| render::file_name(i, o)).collect();
    // Until this render completes, the marker lists both the old files and the new ones, so an
    // interrupted render leaves nothing the next one would refuse or forget.
    let union: BTreeSet<&str> = previous.iter().map(String::as_str).chain(names.iter().map(String::as_str)).collect();
    if !write_marker(out, target, union.into_iter()) {
        return false;
    }
    for (name, o) in names.iter().zip(c.objects.iter()) {
        let path = target.join(name);
        if let Err(e) = std::fs::write(&path, render::document(o, reveal)) {
            out.error(&format!("cannot write `{}`: {e}", path.display()));
            return false;
        }
    }
    let current: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let mut removed = 0usize;
    for stale in previous.iter().filter(|p| !current.contains(p.as_str())) {
        match std::fs::remove_file(target.join(stale)) {
            Ok(()) => removed = removed.saturating_add(1),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                out.error(&format!("cannot remove the stale `{}`: {e}", target.join(stale).display()));
                return false;
            }
        }
    }
    if !write_marker(out, target, names.iter().map(String::as_str)) {
        return false;
    }
    let stale = if removed == 0 { String::new() } else { format!(", removed {removed} stale") };
    out.info(&format!("wrote {} objects to {}{stale}", c.objects.len(), target.display()));
    true
}

enum RefuseReason {
    NotOurs(String),
    Io(std::io::Error),
}

/// The files an earlier render wrote into `target` (none when it is new or empty); refused when
/// it holds files and no marker.
fn owned_files(target: &Path) -> Result<Vec<String>, RefuseReason> {
    let entries = match std::fs::read_dir(target) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RefuseReason::Io(e)),
    };
    let mut first = None;
    for e in entries {
        let e = e.map_err(RefuseReason::Io)?;
        let name = e.file_name().to_string_lossy().to_string();
        if first.as_ref().is_none_or(|f| name < *f) {
            first = Some(name);
        }
    }
    let Some(first) = first else { return Ok(Vec::new()) };
    match std::fs::read_to_string(target.join(MARKER)) {
        // Only plain names are honoured: a hand-edited marker cannot make cairn delete outside.
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter(|l| !l.contains('/') && !l.contains('\\') && *l != "." && *l != ".." && *l != MARKER)
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(RefuseReason::NotOurs(first)),
        Err(e) => Err(RefuseReason::Io(e)),
    }
}

fn write_marker<'a>(out: &Output, target: &Path, names: impl Iterator<Item = &'a str>) -> bool {
    let mut text = String::from(MARKER_HEADER);
    for n in names {
        text.push_str(n);
        text.push('\n');
    }
    let path = target.join(MARKER);
    if let Err(e) = std::fs::write(&path, text) {
        out.error(&format!("cannot write `{}`: {e}", path.display()));
        return false;
    }
    true
}
