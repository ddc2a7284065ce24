//! A target file read once for many targets: its bytes, and the dotenv
//! parse of them made the first time a target asks, so that a command over
//! thousands of secrets in one file reads and parses it once, not once per
//! secret (see [`crate::target::Target::current_in`] and [`render_all`]).

use std::cell::OnceCell;

use zeroize::Zeroizing;

use crate::target::dotenv::{EnvDoc, EnvError};
use crate::target::{Desired, Target, TargetError};

/// A file's bytes with what targets parsed from them.
pub struct FileText {
    bytes: Zeroizing<Vec<u8>>,
    /// The dotenv parse of `bytes`, made on first use.
    env: OnceCell<Result<EnvDoc, EnvError>>,
}

impl std::fmt::Debug for FileText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileText")
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl FileText {
    /// Wraps bytes read from a file.
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> FileText {
        FileText {
            bytes,
            env: OnceCell::new(),
        }
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The file parsed as a dotenv file (parsed on first use).
    pub fn env(&self) -> Result<&EnvDoc, EnvError> {
        self.env
            .get_or_init(|| EnvDoc::parse(&self.bytes))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// `file` with every edit written in, in order: the same bytes as rendering
/// each target over the result of the one before, but the consecutive
/// targets that are plain variable assignments
/// ([`Target::plain_assignments`]) are written in one pass over the file.
pub fn render_all(
    file: &[u8],
    edits: &[(&dyn Target, Desired<'_>)],
) -> Result<Zeroizing<Vec<u8>>, TargetError> {
    let mut bytes = Zeroizing::new(file.to_vec());
    let mut batch: Vec<(String, Zeroizing<String>)> = Vec::new();
    let flush = |bytes: &mut Zeroizing<Vec<u8>>,
                 batch: &mut Vec<(String, Zeroizing<String>)>|
     -> Result<(), TargetError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut doc = EnvDoc::parse(bytes)?;
        let pairs: Vec<(&str, &str)> = batch
            .iter()
            .map(|(var, value)| (var.as_str(), value.as_str()))
            .collect();
        doc.set_all(&pairs)?;
        *bytes = doc.to_bytes();
        batch.clear();
        Ok(())
    };
    for (target, desired) in edits {
        match target.plain_assignments(*desired) {
            Some(assignments) => batch.extend(assignments?),
            None => {
                flush(&mut bytes, &mut batch)?;
                bytes = target.render(&bytes, *desired)?;
            }
        }
    }
    flush(&mut bytes, &mut batch)?;
    Ok(bytes)
}
