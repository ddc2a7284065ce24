//! The target files a command reads, each read once: a command over
//! thousands of secrets in a few files reads (and parses) each file once,
//! not once per secret. Only for reading before anything changes; deliver
//! and undo read again under the file locks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::engine::deliver::read_optional;
use crate::error::RotorError;
use crate::target::FileText;

/// Files read so far, by path as the inventory names them (`None`: the
/// file does not exist).
#[derive(Debug, Default)]
pub(crate) struct Files {
    read: HashMap<PathBuf, Option<FileText>>,
}

impl Files {
    /// The file at `path`, read the first time it is asked for; `None` when
    /// it does not exist. A read that fails is not kept, so every target
    /// of that file reports the failure.
    pub(crate) fn get(&mut self, path: &Path) -> Result<Option<&FileText>, RotorError> {
        if !self.read.contains_key(path) {
            let bytes = read_optional(path)?;
            self.read
                .insert(path.to_path_buf(), bytes.map(FileText::new));
        }
        Ok(self.read.get(path).and_then(Option::as_ref))
    }
}
