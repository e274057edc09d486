//! The files of a compilation: their ids, display paths and texts, and position lookups.

use std::path::PathBuf;

use cairn_lang::{FileId, LineIndex, Span};

/// One source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Where it was loaded from (`std/apps.cairn` for the standard library).
    pub path: PathBuf,
    /// The path shown to users: relative to the stack directory (may start with `../`), or
    /// `std/…` for the standard library.
    pub display: String,
    pub text: String,
    pub lines: LineIndex,
}

/// Every file of a compilation, indexed by [`FileId`].
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file and returns its id.
    pub fn add(&mut self, path: PathBuf, display: String, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        let lines = LineIndex::new(&text);
        self.files.push(SourceFile { path, display, text, lines });
        id
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// All files, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// 1-based line and column (in characters) of a span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        match self.get(span.file) {
            Some(f) => f.lines.line_col(&f.text, span.start),
            None => (1, 1),
        }
    }

    /// The display path of a span's file.
    pub fn display(&self, file: FileId) -> &str {
        self.get(file).map_or("<unknown>", |f| f.display.as_str())
    }

    /// The source text under a span.
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file).and_then(|f| f.text.get(span.range())).unwrap_or("")
    }
}
