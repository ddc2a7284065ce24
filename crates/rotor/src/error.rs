//! The engine's error type: every variant names the place (file, secret,
//! step) and, where there is one, the command that gets the operator out.

use std::path::PathBuf;

use crate::engine::hooks::HookError;
use crate::generate::GenerateError;
use crate::inventory::InventoryError;
use crate::store::StoreError;
use crate::target::atomic::FileError;
use crate::target::dotenv::EnvError;

/// Anything that stops a rotor command.
#[derive(Debug, thiserror::Error)]
pub enum RotorError {
    /// The inventory is missing or invalid.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// The store is missing, damaged, or locked by another run.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A target file could not be read or written.
    #[error(transparent)]
    File(#[from] FileError),
    /// A dotenv file could not be parsed or edited.
    #[error("{path}: {source}")]
    Env {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: EnvError,
    },
    /// A target could not read or render its file.
    #[error("{path}: {source}")]
    Target {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: crate::target::TargetError,
    },
    /// The random source failed.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// A name on the command line is not in the inventory.
    #[error("unknown secret \"{0}\"; `rotor status` lists the inventory")]
    UnknownSecret(String),
    /// A secret is in a state that forbids the command.
    #[error("secret \"{secret}\": {message}")]
    Secret {
        /// Secret name.
        secret: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A step failed and the run was undone.
    #[error("{kind} of {secrets} failed at step {step}: {source}. {undo}")]
    StepFailed {
        /// Rotation, retirement or rollback.
        kind: &'static str,
        /// Comma-separated secret names.
        secrets: String,
        /// State-machine step.
        step: &'static str,
        /// The hook's error (redacted).
        source: Box<HookError>,
        /// What was undone.
        undo: String,
    },
    /// The authority refused or failed a step, and the run was undone.
    #[error("{kind} of {secrets} failed at step {step}: {source}. {undo}")]
    AuthorityFailed {
        /// Rotation, retirement or rollback.
        kind: &'static str,
        /// Comma-separated secret names.
        secrets: String,
        /// State-machine step.
        step: &'static str,
        /// The authority's error (no values).
        source: Box<crate::authority::AuthorityError>,
        /// What was undone.
        undo: String,
    },
    /// Another rotor process changed the secret between reading and locking.
    #[error("secret \"{secret}\" was changed by another rotor process while this one prepared; nothing was done, run the command again")]
    Concurrent {
        /// Secret name.
        secret: String,
    },
    /// The run was closed by another process (a rollback) before it could promote.
    #[error("{kind} run {run} of {secrets} was closed by another process (rollback) before it finished; nothing was promoted. Check `rotor status`")]
    Aborted {
        /// Rotation, retirement or rollback.
        kind: &'static str,
        /// Run id.
        run: i64,
        /// Comma-separated secret names.
        secrets: String,
    },
    /// Files were restored but consumers could not be restarted onto them.
    #[error("{secrets}: {detail}")]
    UndoIncomplete {
        /// Comma-separated secret names.
        secrets: String,
        /// What was and was not undone.
        detail: String,
    },
    /// The command found nothing to act on.
    #[error("{0}")]
    NothingToDo(String),
    /// Several units ran and some failed (each already reported).
    #[error("{failed} of {total} groups failed; see the messages above and `rotor status`")]
    Partial {
        /// Failed groups.
        failed: usize,
        /// All groups.
        total: usize,
    },
}
