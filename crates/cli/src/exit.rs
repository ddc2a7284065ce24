//! Exit codes: the one table that `rotor --help` and the README show (a
//! test compares the README's table with [`TABLE`]).
//!
//! The code says what the command left behind, never how its output fared:
//! a report that could not be printed after a rotation does not change it.

use std::process::ExitCode;

use rotor::error::Effect;
use rotor::RotorError;

/// Done: everything asked for happened (or there was nothing to do).
pub const SUCCESS: u8 = 0;
/// A rotation, retirement or rollback failed and was undone: everything
/// is as it was; or `audit verify` or `status` found the audit chain broken.
pub const FAILED: u8 = 1;
/// Refused before any change: bad input or environment.
pub const BAD_INPUT: u8 = 2;
/// A secret is locked by another run (still running, or interrupted), or
/// this command left its run open: `rotor resume` or `rotor rollback`.
pub const BUSY: u8 = 3;
/// `verify` or `status` found drift, or could not check something.
pub const DRIFT: u8 = 4;
/// Partial: changes were made and stand (some groups rotated, others
/// failed; or an undo could not restart consumers); see `rotor status`.
pub const PARTIAL: u8 = 5;

/// Every code with its meaning, as `rotor --help` and the README show them.
pub const TABLE: &[(u8, &str)] = &[
    (SUCCESS, "done"),
    (
        FAILED,
        "failed and undone: nothing changed in the end (or `audit verify` or `status` found the audit chain broken)",
    ),
    (BAD_INPUT, "refused before any change (bad input or environment)"),
    (
        BUSY,
        "locked or interrupted: another run holds the secret, or a run was left open; `rotor resume` or `rotor rollback`",
    ),
    (
        DRIFT,
        "drift: `verify` or `status` found a difference, or could not check",
    ),
    (PARTIAL, "partial: changes were made and stand; see `rotor status`"),
];

/// The code for what a failed command left behind.
pub fn code_of(effect: Effect) -> u8 {
    match effect {
        Effect::Nothing => BAD_INPUT,
        Effect::Undone => FAILED,
        Effect::Held | Effect::LeftOpen => BUSY,
        Effect::Partial => PARTIAL,
    }
}

/// The exit code for an error that reached `main`. Errors from outside the
/// engine (the command line, the inventory) changed nothing.
pub fn code_for(err: &anyhow::Error) -> ExitCode {
    let effect = err
        .downcast_ref::<RotorError>()
        .map_or(Effect::Nothing, RotorError::effect);
    ExitCode::from(code_of(effect))
}

/// The table as `rotor --help` prints it, wrapped at 80 columns.
pub fn help_table() -> String {
    let mut out = String::from("Exit codes:\n");
    for (code, words) in TABLE {
        let mut line = format!("  {code} ");
        for word in words.split(' ') {
            if line.len() + 1 + word.len() > 80 {
                out.push_str(&line);
                out.push('\n');
                line = "    ".to_owned();
            }
            line.push(' ');
            line.push_str(word);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
