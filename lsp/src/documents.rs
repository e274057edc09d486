//! The editor's open buffers, and the [`SourceLoader`] the compiler reads through: open buffers
//! first, the disk for every other file, so unsaved edits are what gets analysed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cairn_compiler::loader::{check_data_place, read_data_from_disk, LoadError, SourceLoader};
use cairn_compiler::DiskLoader;
use lsp_types::Uri;

use crate::convert::uri_to_path;

/// One open buffer (full text sync).
#[derive(Debug, Clone)]
pub struct Document {
    pub uri: Uri,
    /// The normalized path of a `file:` URI; `None` for `untitled:` and other schemes.
    pub path: Option<PathBuf>,
    pub text: String,
    pub version: i32,
}

impl Document {
    /// The stack this document belongs to: its directory.
    pub fn stack_dir(&self) -> Option<PathBuf> {
        self.path.as_deref().and_then(Path::parent).map(Path::to_path_buf)
    }
}

/// The open buffers, keyed by URI.
#[derive(Debug, Default, Clone)]
pub struct Documents {
    docs: BTreeMap<String, Document>,
    /// Bumped by every open, change and close: a compilation made at one generation is current
    /// while the generation stays the same.
    generation: u64,
}

impl Documents {
    /// Opens (or replaces) a buffer.
    pub fn open(&mut self, uri: Uri, text: String, version: i32) {
        let path = uri_to_path(&uri);
        self.generation = self.generation.wrapping_add(1);
        self.docs.insert(uri.as_str().to_string(), Document { uri, path, text, version });
    }

    /// How many times the buffers changed (opens, changes and closes).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Replaces a buffer's text; `None` if it is not open.
    pub fn change(&mut self, uri: &Uri, text: String, version: i32) -> Option<&Document> {
        let doc = self.docs.get_mut(uri.as_str())?;
        self.generation = self.generation.wrapping_add(1);
        doc.text = text;
        doc.version = version;
        Some(doc)
    }

    /// Closes a buffer, returning it.
    pub fn close(&mut self, uri: &Uri) -> Option<Document> {
        self.generation = self.generation.wrapping_add(1);
        self.docs.remove(uri.as_str())
    }

    /// The open buffer at `uri`.
    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.docs.get(uri.as_str())
    }

    /// The open buffer for a file path.
    pub fn by_path(&self, path: &Path) -> Option<&Document> {
        self.docs.values().find(|d| d.path.as_deref() == Some(path))
    }

    /// The versions of the open buffers, by path.
    pub fn versions(&self) -> BTreeMap<PathBuf, i32> {
        self.docs.values().filter_map(|d| Some((d.path.clone()?, d.version))).collect()
    }

    /// An open buffer in `dir`.
    pub fn one_in(&self, dir: &Path) -> Option<&Document> {
        self.docs.values().find(|d| d.path.as_deref().and_then(Path::parent) == Some(dir))
    }

    /// Whether any buffer is open in `dir`.
    pub fn any_in(&self, dir: &Path) -> bool {
        self.docs.values().any(|d| d.path.as_deref().and_then(Path::parent) == Some(dir))
    }
}

/// Reads open buffers before the disk.
pub struct OverlayLoader<'a> {
    pub docs: &'a Documents,
}

impl SourceLoader for OverlayLoader<'_> {
    fn read(&self, path: &Path) -> Result<String, LoadError> {
        match self.docs.by_path(path) {
            Some(d) => Ok(d.text.clone()),
            None => DiskLoader.read(path),
        }
    }

    fn is_dir(&self, path: &Path) -> bool {
        DiskLoader.is_dir(path) || self.docs.any_in(path)
    }

    /// An open buffer stands for the file under the same place rules; else the disk's checks.
    fn read_data(&self, path: &Path, roots: &[PathBuf], limit: u64) -> Result<String, LoadError> {
        match self.docs.by_path(path) {
            Some(d) => {
                check_data_place(path, roots)?;
                if d.text.len() as u64 > limit {
                    return Err(LoadError::TooLarge(limit));
                }
                Ok(d.text.clone())
            }
            None => read_data_from_disk(path, roots, limit),
        }
    }

    fn cairn_files(&self, dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let mut files = match DiskLoader.cairn_files(dir) {
            Ok(f) => f,
            Err(LoadError::NotFound) if self.docs.any_in(dir) => Vec::new(),
            Err(e) => return Err(e),
        };
        for d in self.docs.docs.values() {
            if let Some(p) = &d.path {
                if p.parent() == Some(dir) && p.extension().is_some_and(|x| x == "cairn") {
                    files.push(p.clone());
                }
            }
        }
        files.sort();
        files.dedup();
        Ok(files)
    }
}
