//! Translation between the compiler's places (byte offsets, paths) and LSP's (UTF-16 line and
//! character positions, `file://` URIs). Positions never fail: past the end of a line they clamp
//! to the line's end, past the last line to the end of the text (LSP 3.17).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use cairn_compiler::loader::normalize;
use lsp_types::{Position, Range, Uri};

/// The byte offset of an LSP position in `text`.
pub fn offset(text: &str, pos: Position) -> u32 {
    let mut line_start = 0usize;
    for _ in 0..pos.line {
        match text.get(line_start..).and_then(|rest| rest.find('\n')) {
            Some(i) => line_start = line_start.saturating_add(i).saturating_add(1),
            None => return to_u32(text.len()),
        }
    }
    let rest = text.get(line_start..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0u32;
    let mut bytes = 0usize;
    for c in line.chars() {
        if units >= pos.character {
            break;
        }
        units = units.saturating_add(to_u32(c.len_utf16()));
        bytes = bytes.saturating_add(c.len_utf8());
    }
    to_u32(line_start.saturating_add(bytes))
}

/// The LSP position of a byte offset in `text` (clamped to the text, floored to a character).
pub fn position(text: &str, offset: u32) -> Position {
    let mut offset = (offset as usize).min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset = offset.saturating_sub(1);
    }
    let before = text.get(..offset).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i.saturating_add(1));
    let line = before.bytes().filter(|b| *b == b'\n').count();
    let character: usize = before.get(line_start..).unwrap_or("").chars().map(char::len_utf16).sum();
    Position::new(to_u32(line), to_u32(character))
}

/// The LSP range of a byte range in `text`.
pub fn range(text: &str, start: u32, end: u32) -> Range {
    Range::new(position(text, start), position(text, end.max(start)))
}

/// The range covering all of `text`.
pub fn whole(text: &str) -> Range {
    Range::new(Position::new(0, 0), position(text, to_u32(text.len())))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The normalized path of a `file:` URI; `None` for other schemes.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    let path = path.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(path)?;
    Some(normalize(Path::new(&decoded)))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let mut s = String::from("file://");
    for b in path.to_str()?.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&s).ok()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i.saturating_add(1)..i.saturating_add(3))?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i = i.saturating_add(3);
        } else {
            out.push(b);
            i = i.saturating_add(1);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "a = \"é😀x\"\nb = 1\n";
        // `x` is after `"`, é (1 unit) and 😀 (2 units).
        let x = text.find('x').unwrap() as u32;
        assert_eq!(position(text, x), Position::new(0, 8));
        assert_eq!(offset(text, Position::new(0, 8)), x);
        assert_eq!(position(text, text.find('b').unwrap() as u32), Position::new(1, 0));
    }

    #[test]
    fn positions_past_the_end_of_a_line_clamp_to_its_end() {
        let text = "ab\r\ncd\n";
        assert_eq!(offset(text, Position::new(0, 99)), 2);
        assert_eq!(offset(text, Position::new(1, 99)), 6);
        assert_eq!(offset(text, Position::new(2, 5)), 7);
        assert_eq!(offset(text, Position::new(99, 0)), 7);
        assert_eq!(position(text, 999), Position::new(2, 0));
    }

    #[test]
    fn a_position_inside_a_surrogate_pair_stays_on_the_character() {
        let text = "😀b";
        assert_eq!(offset(text, Position::new(0, 1)), 4);
        assert_eq!(position(text, 2), Position::new(0, 0));
    }

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/tmp/my stack/main.cairn");
        let uri = path_to_uri(p).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/my%20stack/main.cairn");
        assert_eq!(uri_to_path(&uri).unwrap(), p);
        assert!(uri_to_path(&Uri::from_str("untitled:Untitled-1").unwrap()).is_none());
    }
}
