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
    /// An undo could not be finished: files were restored but consumers
    /// could not be restarted onto them, or an authority could not take a
    /// credential back and the run was left open.
    #[error("{secrets}: {detail}")]
    UndoIncomplete {
        /// Comma-separated secret names.
        secrets: String,
        /// What was and was not undone.
        detail: String,
        /// The run is still open (`rotor resume` or `rotor rollback`).
        left_open: bool,
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
        /// What the command as a whole left behind.
        effect: Effect,
    },
    /// A run failed after it had begun changing things; `effect` says what
    /// it left behind.
    #[error("{source}{}", run_advice(source, *run, secrets, *effect))]
    Run {
        /// Run id.
        run: i64,
        /// Comma-separated secret names.
        secrets: String,
        /// What the run left behind.
        effect: Effect,
        /// Why it failed.
        source: Box<RotorError>,
    },
}

/// What a failed command left behind: the CLI's exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Refused before anything changed.
    Nothing,
    /// Another run holds the secret (still running, or interrupted); this
    /// command changed nothing.
    Held,
    /// Changes were made, then undone: everything is as it was.
    Undone,
    /// A run is left open: `rotor resume` finishes it, `rotor rollback`
    /// undoes it.
    LeftOpen,
    /// Some changes stand (other groups rotated, or an undo could not
    /// restart consumers): see `rotor status`.
    Partial,
}

impl Effect {
    /// What several failures (and, with `changed`, some successes) of one
    /// command left behind, taken together.
    pub fn combine(changed: bool, effects: impl IntoIterator<Item = Effect>) -> Effect {
        let effects: Vec<Effect> = effects.into_iter().collect();
        let any = |e: Effect| effects.contains(&e);
        if any(Effect::LeftOpen) {
            Effect::LeftOpen
        } else if changed || any(Effect::Partial) {
            Effect::Partial
        } else if any(Effect::Undone) {
            Effect::Undone
        } else if any(Effect::Held) {
            Effect::Held
        } else {
            Effect::Nothing
        }
    }
}

impl RotorError {
    /// What the failed command left behind.
    pub fn effect(&self) -> Effect {
        match self {
            RotorError::Run { effect, .. } | RotorError::Partial { effect, .. } => *effect,
            RotorError::StepFailed { .. }
            | RotorError::AuthorityFailed { .. }
            | RotorError::Aborted { .. } => Effect::Undone,
            RotorError::UndoIncomplete { left_open, .. } => {
                if *left_open {
                    Effect::LeftOpen
                } else {
                    Effect::Partial
                }
            }
            RotorError::Store(StoreError::Busy { .. } | StoreError::Running { .. })
            | RotorError::Concurrent { .. } => Effect::Held,
            _ => Effect::Nothing,
        }
    }

    /// How many groups of a command this error stands for.
    pub(crate) fn failed_groups(&self) -> usize {
        match self {
            RotorError::Partial { failed, .. } => *failed,
            _ => 1,
        }
    }
}

/// The words a [`RotorError::Run`] adds to its cause.
fn run_advice(source: &RotorError, run: i64, secrets: &str, effect: Effect) -> String {
    let first = secrets.split(", ").next().unwrap_or(secrets);
    let stop = if source.to_string().ends_with('.') {
        " "
    } else {
        ". "
    };
    match effect {
        Effect::LeftOpen => format!(
            "{stop}Run {run} ({secrets}) stays open: once the cause is dealt with, `rotor resume {first}` finishes it or `rotor rollback {first}` undoes it"
        ),
        Effect::Partial => format!(
            "{stop}Run {run} ({secrets}) made changes that stand; see `rotor status`"
        ),
        Effect::Undone => format!("{stop}Run {run} ({secrets}) was undone and marked failed"),
        Effect::Nothing | Effect::Held => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::Effect::{self, *};

    #[test]
    fn combined_effects_say_what_the_command_as_a_whole_left() {
        // A run left open needs resume or rollback, whatever else happened.
        assert_eq!(Effect::combine(true, [Undone, LeftOpen]), LeftOpen);
        // Other groups' changes stand: partial.
        assert_eq!(Effect::combine(true, [Undone]), Partial);
        assert_eq!(Effect::combine(false, [Nothing, Partial]), Partial);
        // Nothing stands: failed and undone, else locked, else refused.
        assert_eq!(Effect::combine(false, [Nothing, Undone]), Undone);
        assert_eq!(Effect::combine(false, [Nothing, Held]), Held);
        assert_eq!(Effect::combine(false, [Nothing, Nothing]), Nothing);
    }
}
