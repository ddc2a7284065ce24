//! Exit codes, as documented in `rotor --help`.

use std::process::ExitCode;

use rotor::store::StoreError;
use rotor::RotorError;

/// A rotation, retirement or rollback failed and was undone; or the audit
/// chain is broken.
pub const FAILED: u8 = 1;
/// Bad input or environment; nothing was changed.
pub const BAD_INPUT: u8 = 2;
/// A secret is held by an unfinished run.
pub const BUSY: u8 = 3;

/// The exit code for an error that reached `main`.
pub fn code_for(err: &anyhow::Error) -> ExitCode {
    let code = match err.downcast_ref::<RotorError>() {
        Some(
            RotorError::StepFailed { .. }
            | RotorError::Partial { .. }
            | RotorError::Aborted { .. }
            | RotorError::AuthorityFailed { .. }
            | RotorError::UndoIncomplete { .. },
        ) => FAILED,
        Some(
            RotorError::Store(StoreError::Busy { .. } | StoreError::Running { .. })
            | RotorError::Concurrent { .. },
        ) => BUSY,
        Some(_) | None => BAD_INPUT,
    };
    ExitCode::from(code)
}
