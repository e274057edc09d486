//! `cairn render`: the desired objects as YAML on stdout (or one file each with `-o`).

use std::path::Path;

use cairn_compiler::{render, Mode};

use crate::output::Output;

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
    if let Err(e) = std::fs::create_dir_all(target) {
        out.error(&format!("cannot create `{}`: {e}", target.display()));
        return false;
    }
    for (i, o) in c.objects.iter().enumerate() {
        let path = target.join(render::file_name(i, o));
        if let Err(e) = std::fs::write(&path, render::document(o, reveal)) {
            out.error(&format!("cannot write `{}`: {e}", path.display()));
            return false;
        }
    }
    out.info(&format!("wrote {} objects to {}", c.objects.len(), target.display()));
    true
}
