//! `rotor rotate`, `rotor retire`, `rotor rollback`: the commands that change
//! secrets.

use std::process::ExitCode;

use rotor::engine::{status, Options, Outcome, Report};
use rotor::inventory::Inventory;
use rotor::store::Backend;
use rotor::RotorError;

use super::Ctx;
use crate::cli::Select;
use crate::output::{self, Progress};

/// Names selected by `NAMES…`, `--all`, `--due`; none selected means all
/// (for `plan`) and is an error for `rotate`.
pub fn resolve(
    inv: &Inventory,
    store: Option<&dyn Backend>,
    select: &Select,
) -> anyhow::Result<Vec<String>> {
    if select.due {
        let Some(store) = store else {
            return Ok(inv.secrets.iter().map(|s| s.name.clone()).collect());
        };
        let rows = status::status(inv, store).map_err(RotorError::from)?;
        return Ok(status::due(&rows));
    }
    if select.all || select.names.is_empty() {
        return Ok(inv.secrets.iter().map(|s| s.name.clone()).collect());
    }
    for n in &select.names {
        if inv.secret(n).is_none() {
            return Err(RotorError::UnknownSecret(n.clone()).into());
        }
    }
    Ok(select.names.clone())
}

/// `rotor rotate`.
pub fn rotate(
    ctx: &Ctx,
    select: &Select,
    options: Options,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if select.names.is_empty() && !select.all && !select.due {
        anyhow::bail!(
            "name the secrets to rotate, or pass --all or --due (see `rotor plan` first)"
        );
    }
    let progress = Progress::new();
    let mut engine = ctx.engine(options, &progress)?;
    let names = resolve(engine.inventory(), Some(engine.store()), select)?;
    warn_related(&engine.select(&names)?);
    let mut done = if names.is_empty() {
        Report::default()
    } else {
        engine.rotate(&names)?
    };
    if (select.all || select.due) && done.failure.is_none() {
        // A sweep also retires previous values whose window has passed;
        // if that fails, the rotations still stand and the code says so.
        done = done.then(engine.retire(&[], true));
    }
    finish(done, json, "Nothing is due.")
}

/// Warns (on stderr, before anything changes) about related secrets the
/// selection leaves out: outside incident mode they are not rotated.
fn warn_related(selected: &[&rotor::inventory::SecretSpec]) {
    for (name, rel) in rotor::engine::related::left_out(selected) {
        crate::errln!("warning: {}", rotor::engine::related::warning(&name, &rel));
    }
}

/// `rotor retire`.
pub fn retire(ctx: &Ctx, names: &[String], expired: bool, json: bool) -> anyhow::Result<ExitCode> {
    if names.is_empty() && !expired {
        anyhow::bail!("name the secrets whose previous value to retire now, or pass --expired");
    }
    let progress = Progress::new();
    let mut engine = ctx.engine(Options::default(), &progress)?;
    let done = engine.retire(names, expired)?;
    finish(done, json, "Nothing to retire.")
}

/// `rotor resume`.
pub fn resume(
    ctx: &Ctx,
    name: Option<&str>,
    force_unlock: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let progress = Progress::new();
    let options = Options {
        force_unlock,
        ..Options::default()
    };
    let mut engine = ctx.engine(options, &progress)?;
    let done = engine.resume(name)?;
    finish(done, json, "")
}

/// `rotor rollback`.
pub fn rollback(ctx: &Ctx, name: &str, force_unlock: bool, json: bool) -> anyhow::Result<ExitCode> {
    let progress = Progress::new();
    let options = Options {
        force_unlock,
        ..Options::default()
    };
    let mut engine = ctx.engine(options, &progress)?;
    let outcomes = engine.rollback(name)?;
    report(&outcomes, json, "")?;
    Ok(ExitCode::SUCCESS)
}

/// Prints every outcome (the failed ones too, in JSON and when several
/// groups failed), then hands the failure, if any, to `main` for the exit code.
pub(super) fn finish(done: Report, json: bool, empty: &str) -> anyhow::Result<ExitCode> {
    let several_failed = matches!(done.failure, Some(RotorError::Partial { .. }));
    let shown: Vec<Outcome> = done
        .outcomes
        .into_iter()
        .filter(|o| json || several_failed || o.action != "failed")
        .collect();
    report(
        &shown,
        json,
        if done.failure.is_some() { "" } else { empty },
    )?;
    match done.failure {
        Some(e) => Err(e.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn report(outcomes: &[Outcome], json: bool, empty: &str) -> anyhow::Result<()> {
    if json {
        return output::json(&outcomes);
    }
    if outcomes.is_empty() && !empty.is_empty() {
        crate::outln!("{empty}");
    }
    for o in outcomes {
        let version = o.version.map(|v| format!(" v{v}")).unwrap_or_default();
        let fp = o
            .fingerprint
            .as_deref()
            .map(|f| format!(" fp {f}"))
            .unwrap_or_default();
        crate::outln!("{:<12} {}{version}{fp}  {}", o.action, o.secret, o.detail);
    }
    Ok(())
}
