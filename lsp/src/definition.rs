//! Go to definition. Of a resource reference (`namespace.shop`): the compiler records every
//! reference it evaluates with its span, so the reference under the cursor names its target, and
//! the target's label is where it is declared (or, for a resource made by a `std/` template, the
//! template instance in the user's files); references the compiler did not evaluate (in a
//! broken file) are found in the syntax trees. Of a `let` name: its declaration in any file of
//! the stack's directory. Of an import alias: the `import` statement. Of a template name used as
//! a block kind: the template's declaration in the user's files, or, for a `std/` template, the
//! `import` that brought it.

use std::collections::BTreeSet;
use std::path::Path;

use cairn_compiler::eval::Dep;
use cairn_compiler::value::{Address, ModuleId};
use cairn_compiler::Compilation;
use cairn_lang::ast::Stmt;
use cairn_lang::FileId;
use lsp_types::Location;

use crate::diagnostics::location;
use crate::index::{Index, Sym};

/// Where the symbol at `offset` of the file at `path` is declared.
pub fn definition(c: &Compilation, path: &Path, offset: u32) -> Option<Location> {
    if let Some(l) = resource_definition(c, path, offset) {
        return Some(l);
    }
    let index = Index::build(c);
    let file = crate::index::file_of(c, path)?;
    let occ = index.at(file, offset)?;
    match &occ.sym {
        Sym::Resource(kind, name) => match index.decl(&occ.sym) {
            Some(d) => location(&c.program.sources, d.span),
            None => declared_at(c, &Address { kind: *kind, name: name.clone() }),
        },
        Sym::Let(_) | Sym::Template(_) | Sym::Alias(_) => location(&c.program.sources, index.decl(&occ.sym)?.span),
        Sym::Member(alias, member) => {
            let (module, import) = c.program.module(ModuleId(0))?.imports.get(alias)?;
            let m = c.program.module(*module)?;
            let in_user_files = (!m.is_std)
                .then(|| {
                    m.files.iter().find_map(|f| {
                        c.program.file(*f)?.stmts.iter().find_map(|s| match s {
                            Stmt::Template(t) if &t.name.name == member => Some(t.name.span),
                            _ => None,
                        })
                    })
                })
                .flatten();
            // A `std/` template: the `import` statement that brought it.
            let import = index.decl(&Sym::Alias(alias.clone())).map_or(*import, |d| d.span);
            location(&c.program.sources, in_user_files.unwrap_or(import))
        }
    }
}

/// Where the resource `addr` of the compilation is declared in the user's files: its label, or
/// for a resource made by a `std/` template, the template instance.
pub fn declared_at(c: &Compilation, addr: &Address) -> Option<Location> {
    let std_files = std_files(c);
    let target = c.resources.iter().find(|r| &r.addr == addr)?;
    let span = if std_files.contains(&target.label_span.file) {
        target.via.first().map(|v| v.span).filter(|s| !std_files.contains(&s.file))?
    } else {
        target.label_span
    };
    location(&c.program.sources, span)
}

/// The files of the embedded `std/` library.
pub fn std_files(c: &Compilation) -> BTreeSet<FileId> {
    c.program.modules.iter().filter(|m| m.is_std).flat_map(|m| m.files.iter().copied()).collect()
}

/// The definition of a reference the compiler evaluated.
fn resource_definition(c: &Compilation, path: &Path, offset: u32) -> Option<Location> {
    let dep = evaluated_reference(c, path, offset)?;
    declared_at(c, &dep.target)
}

/// The reference the compiler evaluated at `offset` of the user file at `path`.
pub fn evaluated_reference<'c>(c: &'c Compilation, path: &Path, offset: u32) -> Option<&'c Dep> {
    let std_files = std_files(c);
    let (file, _) = c.program.sources.iter().find(|(id, f)| f.path == path && !std_files.contains(id))?;
    c.resources.iter().flat_map(|r| r.deps.iter()).find(|d| d.span.file == file && d.span.contains(offset))
}
