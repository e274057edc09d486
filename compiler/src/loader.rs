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
    /// The file's real path (symlinks resolved) lies outside every directory it may be read from.
    Outside,
    /// Not a regular file: a directory, FIFO, socket or device (named in the text).
    NotRegular(&'static str),
    /// Larger than the limit, in bytes.
    TooLarge(u64),
    Other(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotFound => f.write_str("not found"),
            LoadError::NotUtf8 => f.write_str("not valid UTF-8"),
            LoadError::Outside => f.write_str("its real path (after following symlinks) is outside the stack"),
            LoadError::NotRegular(what) => write!(f, "it is {what}, not a regular file"),
            LoadError::TooLarge(limit) => write!(f, "it is larger than {limit} bytes"),
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

    /// The text of a data file for `file()`: only a regular file whose real path (symlinks
    /// resolved) lies inside one of `roots`, of at most `limit` bytes. The default reads the
    /// disk with those checks ([`read_data_from_disk`]), so a loader that does not override it
    /// is as safe as [`DiskLoader`].
    fn read_data(&self, path: &Path, roots: &[PathBuf], limit: u64) -> Result<String, LoadError> {
        read_data_from_disk(path, roots, limit)
    }
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
        read_regular(path, MAX_SOURCE_BYTES)
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

/// The largest source file read (a FIFO or `/dev/zero` named `*.cairn` is refused, not read).
pub const MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;

/// [`SourceLoader::read_data`] on the disk: resolves `path` and each root to its real path,
/// refuses a file outside every root, anything but a regular file, and more than `limit` bytes.
pub fn read_data_from_disk(path: &Path, roots: &[PathBuf], limit: u64) -> Result<String, LoadError> {
    let real = std::fs::canonicalize(path).map_err(io_error)?;
    if !inside_real(&real, roots) {
        return Err(LoadError::Outside);
    }
    read_regular(&real, limit)
}

/// Whether a text held elsewhere (an editor's buffer) for `path` may stand for a data file:
/// `path` lies inside a root as written, and, if it exists on disk, by its real path too.
pub fn check_data_place(path: &Path, roots: &[PathBuf]) -> Result<(), LoadError> {
    let path = normalize(path);
    if !roots.iter().any(|r| path.starts_with(normalize(r))) {
        return Err(LoadError::Outside);
    }
    match std::fs::canonicalize(&path) {
        Ok(real) if !inside_real(&real, roots) => Err(LoadError::Outside),
        _ => Ok(()),
    }
}

fn inside_real(real: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().filter_map(|r| std::fs::canonicalize(r).ok()).any(|r| real.starts_with(r))
}

/// Reads a regular file of at most `limit` bytes. The path is checked before it is opened (a
/// FIFO with no writer would hang `open`, `/dev/zero` never ends) and the opened file again.
fn read_regular(path: &Path, limit: u64) -> Result<String, LoadError> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(io_error)?;
    check_regular(&meta, limit)?;
    let file = std::fs::File::open(path).map_err(io_error)?;
    check_regular(&file.metadata().map_err(io_error)?, limit)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(io_error)?;
    if bytes.len() as u64 > limit {
        return Err(LoadError::TooLarge(limit));
    }
    let text = String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8)?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

fn check_regular(meta: &std::fs::Metadata, limit: u64) -> Result<(), LoadError> {
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(LoadError::NotRegular("a directory"));
    }
    if !kind.is_file() {
        return Err(LoadError::NotRegular(special_kind(&kind)));
    }
    if meta.len() > limit {
        return Err(LoadError::TooLarge(limit));
    }
    Ok(())
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

fn io_error(e: std::io::Error) -> LoadError {
    match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound,
        _ => LoadError::Other(e.to_string()),
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

    /// Memory has no symlinks: the normalized path must lie inside a root.
    fn read_data(&self, path: &Path, roots: &[PathBuf], limit: u64) -> Result<String, LoadError> {
        let path = normalize(path);
        if !roots.iter().any(|r| path.starts_with(normalize(r))) {
            return Err(LoadError::Outside);
        }
        let text = self.read(&path)?;
        if text.len() as u64 > limit {
            return Err(LoadError::TooLarge(limit));
        }
        Ok(text)
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
