//! Loads a stack: the root directory's files, every module they import (directories, single
//! files and the embedded `std/` library), parsed, with import cycles reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cairn_lang::ast::{File, Stmt};
use cairn_lang::{Diagnostic, FileId, Span};

use crate::loader::{normalize, relative_to, LoadError, SourceLoader};
use crate::source::SourceMap;
use crate::value::ModuleId;

/// A module: the files of one directory, one file, or one standard module.
#[derive(Debug, Clone)]
pub struct Module {
    /// The directory or file it was loaded from (`std/apps.cairn` for the standard library).
    pub path: PathBuf,
    pub files: Vec<FileId>,
    /// Import aliases visible in this module: alias → (module, span of the import).
    pub imports: BTreeMap<String, (ModuleId, Span)>,
    pub is_std: bool,
}

/// Every parsed file and module of a stack.
#[derive(Debug, Default)]
pub struct Program {
    pub sources: SourceMap,
    /// Parsed files, indexed by `FileId`.
    pub files: Vec<File>,
    /// Modules; the stack's own directory is `ModuleId(0)`.
    pub modules: Vec<Module>,
    pub root_dir: PathBuf,
    pub diagnostics: Vec<Diagnostic>,
}

/// Why a stack could not be loaded at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackError {
    /// The directory does not exist or cannot be read.
    Unreadable(PathBuf, String),
    /// The directory holds no `.cairn` files.
    Empty(PathBuf),
}

impl std::fmt::Display for StackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StackError::Unreadable(p, e) => write!(f, "cannot read the stack directory `{}`: {e}", p.display()),
            StackError::Empty(p) => write!(f, "no .cairn files in `{}`", p.display()),
        }
    }
}

impl std::error::Error for StackError {}

impl Program {
    /// The parsed file with this id.
    pub fn file(&self, id: FileId) -> Option<&File> {
        self.files.get(id.0 as usize)
    }

    /// The module with this id.
    pub fn module(&self, id: ModuleId) -> Option<&Module> {
        self.modules.get(id.0)
    }

    /// The module a file belongs to.
    pub fn module_of(&self, file: FileId) -> ModuleId {
        self.modules.iter().position(|m| m.files.contains(&file)).map_or(ModuleId(0), ModuleId)
    }
}

/// Parses kept from one load of a stack to the next, so a load after an edit re-parses only
/// the files whose text changed (the language server keeps one per stack). An entry is reused
/// when the file has the same path, the same [`FileId`] (spans carry it) and the same text; a
/// load keeps only the entries it used.
#[derive(Debug)]
pub struct ParseCache {
    enabled: bool,
    entries: Entries,
    parsed: usize,
    reused: usize,
}

/// Cached parses: (path, file id) → (text, parse).
type Entries = BTreeMap<(PathBuf, FileId), (String, File, Vec<Diagnostic>)>;

impl Default for ParseCache {
    fn default() -> ParseCache {
        ParseCache::new()
    }
}

impl ParseCache {
    /// An empty cache.
    pub fn new() -> ParseCache {
        ParseCache { enabled: true, entries: Entries::new(), parsed: 0, reused: 0 }
    }

    /// A cache that keeps nothing (what [`load`] uses).
    fn off() -> ParseCache {
        ParseCache { enabled: false, ..ParseCache::new() }
    }

    /// How many files were parsed (not found in the cache) since the cache was made.
    pub fn parsed(&self) -> usize {
        self.parsed
    }

    /// How many parses were reused since the cache was made.
    pub fn reused(&self) -> usize {
        self.reused
    }

    /// How many parses the cache holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no parse.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The last load's parse of `text`, when the file had that text then.
    fn reuse(&mut self, previous: &mut Entries, path: &Path, id: FileId, text: &str) -> Option<cairn_lang::Parsed> {
        if !self.enabled {
            return None;
        }
        let key = (path.to_path_buf(), id);
        let (t, file, diags) = previous.remove(&key)?;
        if t != text {
            return None;
        }
        self.reused = self.reused.saturating_add(1);
        let parsed = cairn_lang::Parsed { file: file.clone(), diagnostics: diags.clone() };
        self.entries.insert(key, (t, file, diags));
        Some(parsed)
    }

    /// Records a fresh parse of `text`.
    fn keep(&mut self, path: &Path, id: FileId, text: &str, parsed: &cairn_lang::Parsed) {
        if self.enabled {
            self.parsed = self.parsed.saturating_add(1);
            self.entries.insert((path.to_path_buf(), id), (text.to_string(), parsed.file.clone(), parsed.diagnostics.clone()));
        }
    }
}

/// Loads the stack in `dir` and everything it imports.
pub fn load(loader: &dyn SourceLoader, dir: &Path) -> Result<Program, StackError> {
    load_with(loader, dir, &mut ParseCache::off())
}

/// [`load`], reusing the parses of `cache` for files whose text did not change since the
/// cache's last load, and leaving in it the parses of this load.
pub fn load_with(loader: &dyn SourceLoader, dir: &Path, cache: &mut ParseCache) -> Result<Program, StackError> {
    let previous = std::mem::take(&mut cache.entries);
    let mut c = Cache { cache, previous };
    load_cached(loader, dir, &mut c)
}

/// A load's view of the cache: the entries of the last load still unclaimed.
struct Cache<'a> {
    cache: &'a mut ParseCache,
    previous: Entries,
}

fn load_cached(loader: &dyn SourceLoader, dir: &Path, cache: &mut Cache<'_>) -> Result<Program, StackError> {
    let dir = normalize(dir);
    let files = loader.cairn_files(&dir).map_err(|e| StackError::Unreadable(dir.clone(), e.to_string()))?;
    if files.is_empty() {
        return Err(StackError::Empty(dir));
    }
    let mut p = Program { root_dir: dir.clone(), ..Program::default() };
    let mut queue = Vec::new();
    let root = add_module(&mut p, cache, loader, dir, files, false, &mut queue);
    debug_assert_eq!(root, ModuleId(0));
    let mut by_path: BTreeMap<PathBuf, ModuleId> = BTreeMap::new();
    by_path.insert(p.root_dir.clone(), ModuleId(0));
    while let Some(m) = queue.pop() {
        resolve_imports(&mut p, cache, loader, m, &mut by_path, &mut queue);
    }
    report_import_cycles(&mut p);
    Ok(p)
}

fn add_module(
    p: &mut Program,
    cache: &mut Cache<'_>,
    loader: &dyn SourceLoader,
    path: PathBuf,
    files: Vec<PathBuf>,
    is_std: bool,
    queue: &mut Vec<ModuleId>,
) -> ModuleId {
    let id = ModuleId(p.modules.len());
    let mut texts = Vec::with_capacity(files.len());
    let mut unreadable = Vec::new();
    for f in files {
        let display = display_path(&p.root_dir, &f);
        match loader.read(&f) {
            Ok(t) => texts.push((f, display, t)),
            Err(e) => {
                // Keep an empty file so the error has a place to point at.
                unreadable.push((texts.len(), display.clone(), e));
                texts.push((f, display, String::new()));
            }
        }
    }
    let ids = add_files(p, cache, texts);
    for (i, display, e) in unreadable {
        let Some(&fid) = ids.get(i) else { continue };
        let help = match e {
            LoadError::NotUtf8 => "cairn sources must be UTF-8; re-save the file as UTF-8",
            _ => "check that the file exists and is readable",
        };
        p.diagnostics.push(Diagnostic::error("E0603", Span::new(fid, 0, 0), format!("cannot read `{display}`: {e}")).with_help(help));
    }
    p.modules.push(Module { path, files: ids, imports: BTreeMap::new(), is_std });
    queue.push(id);
    id
}

fn add_std_module(p: &mut Program, cache: &mut Cache<'_>, name: &str, queue: &mut Vec<ModuleId>) -> Option<ModuleId> {
    let (file, src) = cairn_stdlib::module(name)?;
    let id = ModuleId(p.modules.len());
    let fid = add_file(p, cache, PathBuf::from(file), file.to_string(), src.to_string());
    p.modules.push(Module { path: PathBuf::from(file), files: vec![fid], imports: BTreeMap::new(), is_std: true });
    queue.push(id);
    Some(id)
}

fn add_file(p: &mut Program, cache: &mut Cache<'_>, path: PathBuf, display: String, text: String) -> FileId {
    add_files(p, cache, vec![(path, display, text)]).first().copied().unwrap_or(FileId(0))
}

/// Adds the files (path, display path, text) and parses them: the last load's parse where the
/// text is unchanged, else a fresh one — in parallel when there are several, as files parse
/// independently. The result does not depend on the order parses finish in.
fn add_files(p: &mut Program, cache: &mut Cache<'_>, files: Vec<(PathBuf, String, String)>) -> Vec<FileId> {
    use rayon::prelude::*;
    let ids: Vec<FileId> = files.into_iter().map(|(path, display, text)| p.sources.add(path, display, text)).collect();
    let mut parsed: Vec<Option<cairn_lang::Parsed>> =
        ids.iter().map(|&id| p.sources.get(id).and_then(|f| cache.cache.reuse(&mut cache.previous, &f.path, id, &f.text))).collect();
    let missing: Vec<(usize, FileId)> =
        ids.iter().enumerate().filter(|(i, _)| parsed.get(*i).is_some_and(Option::is_none)).map(|(i, &id)| (i, id)).collect();
    let sources = &p.sources;
    let parse = |&(i, id): &(usize, FileId)| (i, id, cairn_lang::parse(sources.get(id).map_or("", |f| f.text.as_str()), id));
    let fresh: Vec<(usize, FileId, cairn_lang::Parsed)> =
        if missing.len() > 1 { missing.par_iter().map(parse).collect() } else { missing.iter().map(parse).collect() };
    for (i, id, result) in fresh {
        if let Some(f) = p.sources.get(id) {
            cache.cache.keep(&f.path, id, &f.text, &result);
        }
        if let Some(slot) = parsed.get_mut(i) {
            *slot = Some(result);
        }
    }
    for result in parsed {
        let result = result.unwrap_or_default();
        p.files.push(result.file);
        p.diagnostics.extend(result.diagnostics);
    }
    ids
}

fn display_path(root: &Path, file: &Path) -> String {
    relative_to(file, root).to_string_lossy().replace('\\', "/")
}

fn resolve_imports(
    p: &mut Program,
    cache: &mut Cache<'_>,
    loader: &dyn SourceLoader,
    m: ModuleId,
    by_path: &mut BTreeMap<PathBuf, ModuleId>,
    queue: &mut Vec<ModuleId>,
) {
    let Some(module) = p.modules.get(m.0) else { return };
    let is_std = module.is_std;
    let mut imports = Vec::new();
    for fid in module.files.clone() {
        let Some(file) = p.files.get(fid.0 as usize) else { continue };
        for stmt in &file.stmts {
            if let Stmt::Import(i) = stmt {
                imports.push((fid, i.clone()));
            }
        }
    }
    for (fid, imp) in imports {
        let alias_default = imp.path.trim_end_matches('/').rsplit('/').next().unwrap_or("").trim_end_matches(".cairn").to_string();
        let (alias, alias_span) = match &imp.alias {
            Some(a) => (a.name.clone(), a.span),
            None => (alias_default, imp.path_span),
        };
        let target = if let Some(name) = imp.path.strip_prefix("std/") {
            let key = PathBuf::from(format!("std/{}", name.trim_end_matches(".cairn")));
            match by_path.get(&key) {
                Some(id) => Some(*id),
                None => match add_std_module(p, cache, name, queue) {
                    Some(id) => {
                        by_path.insert(key, id);
                        Some(id)
                    }
                    None => {
                        let known: Vec<String> = cairn_stdlib::module_names().map(|n| format!("std/{n}")).collect();
                        p.diagnostics.push(
                            Diagnostic::error("E0601", imp.path_span, format!("no standard module `{}`", imp.path))
                                .with_help(format!("the standard library has {}", known.join(", "))),
                        );
                        None
                    }
                },
            }
        } else if imp.path.starts_with("./") || imp.path.starts_with("../") {
            if is_std {
                None
            } else {
                let base = p.sources.get(fid).and_then(|f| f.path.parent().map(Path::to_path_buf)).unwrap_or_default();
                let target = normalize(&base.join(&imp.path));
                import_path(p, cache, loader, &imp.path, imp.path_span, target, by_path, queue)
            }
        } else {
            p.diagnostics.push(
                Diagnostic::error("E0601", imp.path_span, format!("import path `{}` must start with `./`, `../` or `std/`", imp.path))
                    .with_help(format!("for a directory beside this file write `import \"./{}\"`", imp.path)),
            );
            None
        };
        let Some(target) = target else { continue };
        let Some(module) = p.modules.get_mut(m.0) else { continue };
        if let Some((_, first)) = module.imports.get(&alias) {
            if *first != alias_span {
                let first = *first;
                // The same module imported twice under one alias (from two files) is fine.
                if module.imports.get(&alias).map(|(t, _)| *t) != Some(target) {
                    p.diagnostics.push(
                        Diagnostic::error("E0204", alias_span, format!("import alias `{alias}` is already used"))
                            .with_label(first, "first imported here")
                            .with_help("give one of the imports another name with `as`"),
                    );
                }
            }
            continue;
        }
        module.imports.insert(alias, (target, alias_span));
    }
}

#[allow(clippy::too_many_arguments)] // the load state, threaded as the other loaders do
fn import_path(
    p: &mut Program,
    cache: &mut Cache<'_>,
    loader: &dyn SourceLoader,
    written: &str,
    span: Span,
    target: PathBuf,
    by_path: &mut BTreeMap<PathBuf, ModuleId>,
    queue: &mut Vec<ModuleId>,
) -> Option<ModuleId> {
    if let Some(id) = by_path.get(&target) {
        return Some(*id);
    }
    let files = if written.ends_with(".cairn") {
        match loader.read(&target) {
            Ok(_) => vec![target.clone()],
            Err(e) => {
                p.diagnostics.push(
                    Diagnostic::error("E0601", span, format!("cannot import `{written}`: {e}"))
                        .with_help("the path is relative to the importing file's directory"),
                );
                return None;
            }
        }
    } else {
        match loader.cairn_files(&target) {
            Ok(f) if !f.is_empty() => f,
            Ok(_) => {
                p.diagnostics.push(
                    Diagnostic::error("E0601", span, format!("cannot import `{written}`: the directory has no .cairn files"))
                        .with_help("import a directory of .cairn files, or a file ending in `.cairn`"),
                );
                return None;
            }
            Err(e) => {
                p.diagnostics.push(
                    Diagnostic::error("E0601", span, format!("cannot import `{written}`: {e}"))
                        .with_help("the path is relative to the importing file's directory"),
                );
                return None;
            }
        }
    };
    let id = add_module(p, cache, loader, target.clone(), files, false, queue);
    by_path.insert(target, id);
    Some(id)
}

/// Reports each import cycle once, naming every module on it.
fn report_import_cycles(p: &mut Program) {
    let n = p.modules.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut stack: Vec<(ModuleId, Span)> = Vec::new();
    let mut found = Vec::new();
    for start in 0..n {
        if state.get(start) == Some(&0) {
            visit(p, ModuleId(start), &mut state, &mut stack, &mut found);
        }
    }
    for cycle in found {
        let names: Vec<String> = cycle.iter().map(|(m, _)| module_name(p, *m)).collect();
        let Some((_, first_span)) = cycle.first() else { continue };
        let mut d = Diagnostic::error(
            "E0602",
            *first_span,
            format!("import cycle: {} → {}", names.join(" → "), names.first().cloned().unwrap_or_default()),
        )
        .with_help("move what both modules need into a third module that imports neither");
        for (_, span) in cycle.iter().skip(1) {
            d = d.with_label(*span, "imported here");
        }
        p.diagnostics.push(d);
    }
}

fn visit(p: &Program, m: ModuleId, state: &mut Vec<u8>, stack: &mut Vec<(ModuleId, Span)>, found: &mut Vec<Vec<(ModuleId, Span)>>) {
    if let Some(s) = state.get_mut(m.0) {
        *s = 1;
    }
    let edges: Vec<(ModuleId, Span)> = p.modules.get(m.0).map(|md| md.imports.values().copied().collect()).unwrap_or_default();
    for (target, span) in edges {
        match state.get(target.0) {
            Some(0) => {
                stack.push((m, span));
                visit(p, target, state, stack, found);
                stack.pop();
            }
            Some(1) => {
                let mut cycle: Vec<(ModuleId, Span)> = Vec::new();
                let from = stack.iter().position(|(x, _)| *x == target).unwrap_or(stack.len());
                cycle.extend(stack.iter().skip(from).copied());
                cycle.push((m, span));
                found.push(cycle);
            }
            _ => {}
        }
    }
    if let Some(s) = state.get_mut(m.0) {
        *s = 2;
    }
}

fn module_name(p: &Program, m: ModuleId) -> String {
    match p.modules.get(m.0) {
        Some(md) if md.is_std => md.path.to_string_lossy().trim_end_matches(".cairn").to_string(),
        Some(md) => {
            let rel = relative_to(&md.path, &p.root_dir).to_string_lossy().replace('\\', "/");
            if rel.is_empty() || rel == "." {
                "the stack".to_string()
            } else {
                format!("./{rel}")
            }
        }
        None => "?".to_string(),
    }
}
