//! Positions for inventory errors: byte offsets to line and column, and
//! the secret a position falls in.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::InventoryError;

// ---------------------------------------------------------------------------
// Error positions.

/// The text being parsed and its path, for building errors.
pub(super) struct Cx<'a> {
    text: &'a str,
    path: &'a Path,
    /// Byte offset where each line starts, so positions cost a binary
    /// search rather than a scan (inventories can hold thousands of secrets).
    line_starts: Vec<usize>,
    /// `[limits] max_file_size`, for the files read while loading.
    pub(super) max_file_size: u64,
}

impl<'a> Cx<'a> {
    pub(super) fn new(text: &'a str, path: &'a Path) -> Cx<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Cx {
            text,
            path,
            line_starts,
            max_file_size: crate::target::atomic::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

impl Cx<'_> {
    /// An `Invalid` error at the start of `span`.
    pub(super) fn err(
        &self,
        span: Range<usize>,
        secret: Option<&str>,
        message: impl Into<String>,
    ) -> InventoryError {
        let (line, col) = self.line_col(span.start);
        InventoryError::Invalid {
            path: self.path.to_path_buf(),
            line,
            col,
            secret: secret.map(str::to_owned),
            message: message.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(super) fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // index of the last line start at or before offset
        let idx = self.line_starts.partition_point(|&st| st <= offset).max(1) - 1;
        let line_start = self.line_starts[idx];
        let col = self.text[line_start..offset].chars().count() + 1;
        let line = idx + 1;
        (line, col)
    }

    /// Turns a TOML syntax or shape error into `Invalid`, attributing it to
    /// the secret whose table it falls in.
    pub(super) fn toml_error(&self, e: &toml::de::Error) -> InventoryError {
        let span = e.span().unwrap_or(0..0);
        let secret = self.secret_at(span.start);
        let mut message = e.message().trim().to_owned();
        if message.starts_with("unknown field") {
            message.push_str(" (check the key's spelling and the table it is in)");
        }
        if message.contains("number overflowed") {
            message.push_str(": the number is far beyond what any key accepts; check the value");
        }
        self.err(span, secret.as_deref(), message)
    }

    /// Name of the `[[secret]]` whose table contains `offset`, if the text
    /// parses loosely (unknown keys ignored) and one does.
    pub(super) fn secret_at(&self, offset: usize) -> Option<String> {
        #[derive(Deserialize)]
        struct Loose {
            #[serde(default)]
            secret: Vec<Spanned<LooseSecret>>,
        }
        #[derive(Deserialize)]
        struct LooseSecret {
            name: Option<toml::Value>,
        }
        let loose: Loose = toml::from_str(self.text).ok()?;
        let owner = loose
            .secret
            .iter()
            .rev()
            .find(|s| s.span().start <= offset)?;
        let start = owner.span().start;
        // A later top-level table header (other than the secret's own
        // sub-tables) ends the secret's table.
        let between = self.text.get(start..offset)?;
        let ended = between.lines().skip(1).any(|l| {
            let l = l.trim_start();
            l.starts_with('[') && !l.starts_with("[[secret") && !l.starts_with("[secret.")
        });
        if ended {
            return None;
        }
        match owner.get_ref().name.as_ref()? {
            toml::Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }
}
