//! File positions (`path:line:col`) for error messages.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A position in a configuration file, displayed as `path:line:col` (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file the position is in.
    pub file: PathBuf,
    /// Line number, starting at 1.
    pub line: usize,
    /// Column in characters, starting at 1.
    pub column: usize,
}

impl Location {
    /// The position of byte `offset` within `source`, the text of `file`.
    pub fn at_offset(file: &Path, source: &str, offset: usize) -> Self {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &source[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Self {
            file: file.to_path_buf(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }

    /// The position where `span` starts (or the file's start when there is no span).
    pub(crate) fn of_span(file: &Path, source: &str, span: Option<Range<usize>>) -> Self {
        Self::at_offset(file, source, span.map_or(0, |s| s.start))
    }

    /// Where a `toml` error points, and its message.
    pub(crate) fn of_toml_error(
        file: &Path,
        source: &str,
        error: &toml::de::Error,
    ) -> (Self, String) {
        (
            Self::of_span(file, source, error.span()),
            error.message().trim_end().to_string(),
        )
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}
