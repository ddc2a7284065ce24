//! `rotor put` and `rotor confirm`: the manual flow for values a person
//! makes in a provider's portal. The value comes from stdin or a no-echo
//! prompt, never from argv.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use rotor::engine::Options;
use rotor::secret::SecretValue;
use zeroize::Zeroizing;

use super::Ctx;
use crate::output::Progress;

/// The most bytes read from stdin for one value.
const MAX_VALUE: u64 = 64 * 1024;

/// `rotor put NAME`.
pub fn put(ctx: &Ctx, name: &str, on_argv: &[String], json: bool) -> anyhow::Result<ExitCode> {
    if !on_argv.is_empty() {
        anyhow::bail!(
            "refused: a value on the command line ends up in shell history and in `ps`, so rotor never takes one there. \
             Nothing changed. Pipe it in (`rotor put {name} < file`) or run `rotor put {name}` and type it at the prompt"
        );
    }
    let value = read_value(name)?;
    let progress = Progress::new();
    let mut engine = ctx.engine(Options::default(), &progress)?;
    let done = engine.put(name, value)?;
    super::rotate::finish(done, json, "")
}

/// `rotor confirm NAME --revoked`.
pub fn confirm(ctx: &Ctx, name: &str, revoked: bool, json: bool) -> anyhow::Result<ExitCode> {
    if !revoked {
        anyhow::bail!(
            "say what you confirm: `rotor confirm {name} --revoked` once the provider revoked the old value"
        );
    }
    let progress = Progress::new();
    let mut engine = ctx.engine(Options::default(), &progress)?;
    let done = engine.confirm_revoked(name)?;
    super::rotate::finish(done, json, "")
}

/// The value from stdin (one trailing newline dropped), or asked for twice
/// on the terminal without echo.
fn read_value(name: &str) -> anyhow::Result<SecretValue> {
    let text = if std::io::stdin().is_terminal() {
        let first = Zeroizing::new(rpassword::prompt_password(format!(
            "New value of {name} (not shown): "
        ))?);
        let again = Zeroizing::new(rpassword::prompt_password("Again, to be sure: ")?);
        if *first != *again {
            anyhow::bail!("the two values differ; nothing changed, run `rotor put {name}` again");
        }
        first
    } else {
        let mut buf = Zeroizing::new(Vec::new());
        std::io::stdin()
            .lock()
            .take(MAX_VALUE + 1)
            .read_to_end(&mut buf)?;
        if buf.len() as u64 > MAX_VALUE {
            anyhow::bail!(
                "secret \"{name}\": stdin holds more than {MAX_VALUE} bytes; a value is one line; nothing changed"
            );
        }
        // Checked in place: a copy that failed to convert would not be
        // zeroed on drop.
        let text = std::str::from_utf8(&buf).map_err(|_| {
            anyhow::anyhow!(
                "secret \"{name}\": the value on stdin is not UTF-8 text; nothing changed"
            )
        })?;
        Zeroizing::new(text.to_owned())
    };
    let trimmed = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if trimmed.is_empty() {
        anyhow::bail!(
            "secret \"{name}\": no value given: pipe it on stdin or type it at the prompt; nothing changed"
        );
    }
    if trimmed.contains('\n') {
        anyhow::bail!(
            "secret \"{name}\": the value holds a line break; give one line; nothing changed"
        );
    }
    Ok(SecretValue::new(trimmed.to_owned()))
}
