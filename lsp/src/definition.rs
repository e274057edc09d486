//! Go to definition of a resource reference (`namespace.shop`): the compiler records every
//! reference it evaluates with its span, so the reference under the cursor names its target, and
//! the target's label is where it is declared (or, for a resource made by a `std/` template, the
//! template instance in the user's files).

use std::collections::BTreeSet;
use std::path::Path;

use cairn_compiler::Compilation;
use cairn_lang::FileId;
use lsp_types::Location;

use crate::diagnostics::location;

/// Where the reference at `offset` of the file at `path` is declared.
pub fn definition(c: &Compilation, path: &Path, offset: u32) -> Option<Location> {
    let std_files: BTreeSet<FileId> = c.program.modules.iter().filter(|m| m.is_std).flat_map(|m| m.files.iter().copied()).collect();
    let (file, _) = c.program.sources.iter().find(|(id, f)| f.path == path && !std_files.contains(id))?;
    let dep = c.resources.iter().flat_map(|r| r.deps.iter()).find(|d| d.span.file == file && d.span.contains(offset))?;
    let target = c.resources.iter().find(|r| r.addr == dep.target)?;
    let span = if std_files.contains(&target.label_span.file) {
        target.via.first().map(|v| v.span).filter(|s| !std_files.contains(&s.file))?
    } else {
        target.label_span
    };
    location(&c.program.sources, span)
}
