//! The compiler's only doors to the world: a [`SourceLoader`] for source files and an
//! [`Environment`] for `env()`. The CLI passes the disk and the process environment, tests pass
//! maps in memory, the language server passes editor buffers.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Why a source could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    NotFound,
    NotUtf8,
    Other(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotFound => f.write_str("not found"),
            LoadError::NotUtf8 => f.write_str("not valid UTF-8"),
            LoadError::Other(e) => f.write_str(e),
        }
    }
}

/// Reads stack sources. Paths are normalized (no `.`/`..` components left).
pub trait SourceLoader {
    /// The text of a file.
    fn read(&self, path: &Path) -> Result<String, LoadError>;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &Path) -> bool;
    /// The `*.cairn` files directly inside a directory, sorted.
    fn cairn_files(&self, dir: &Path) -> Result<Vec<PathBuf>, LoadError>;
}

/// Values for `env()`.
pub trait Environment {
    /// The variable's value, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiskLoader;

impl SourceLoader for DiskLoader {
    fn read(&self, path: &Path) -> Result<String, LoadError> {
        match std::fs::read(path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(LoadError::NotFound),
            Err(e) => Err(LoadError::Other(e.to_string())),
        }
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn cairn_files(&self, dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let entries = std::fs::read_dir(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound,
            _ => LoadError::Other(e.to_string()),
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "cairn"))
            .map(|p| normalize(&p))
            .collect();
        files.sort();
        Ok(files)
    }
}

/// Sources held in memory, keyed by normalized path.
#[derive(Debug, Default, Clone)]
pub struct MemoryLoader {
    files: BTreeMap<PathBuf, String>,
}

impl MemoryLoader {
    /// An empty loader.
    pub fn new() -> MemoryLoader {
        MemoryLoader::default()
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: impl AsRef<Path>, text: impl Into<String>) {
        self.files.insert(normalize(path.as_ref()), text.into());
    }

    /// Builder form of [`MemoryLoader::insert`].
    pub fn with(mut self, path: impl AsRef<Path>, text: impl Into<String>) -> MemoryLoader {
        self.insert(path, text);
        self
    }
}

impl SourceLoader for MemoryLoader {
    fn read(&self, path: &Path) -> Result<String, LoadError> {
        self.files.get(&normalize(path)).cloned().ok_or(LoadError::NotFound)
    }

    fn is_dir(&self, path: &Path) -> bool {
        let dir = normalize(path);
        self.files.keys().any(|p| p.parent() == Some(dir.as_path()) || p.starts_with(&dir) && *p != dir)
    }

    fn cairn_files(&self, dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let dir = normalize(dir);
        Ok(self
            .files
            .keys()
            .filter(|p| p.parent() == Some(dir.as_path()) && p.extension().is_some_and(|x| x == "cairn"))
            .cloned()
            .collect())
    }
}

/// The process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// An environment held in a map (tests, editors).
#[derive(Debug, Default, Clone)]
pub struct MapEnv(pub BTreeMap<String, String>);

impl Environment for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Removes `.` and resolves `..` lexically (symlinks are not followed).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                match last {
                    Some(Component::Normal(_)) => {
                        out.pop();
                    }
                    Some(Component::RootDir) => {}
                    _ => out.push(".."),
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// `path` relative to `base`, with `../` where it lies outside (both normalized).
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().filter(|c| *c != Component::CurDir).collect();
    let common = p.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in p.iter().skip(common) {
        out.push(c.as_os_str());
    }
    out
}
