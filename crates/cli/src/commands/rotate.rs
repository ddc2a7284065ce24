//! `rotor rotate`, `rotor retire`, `rotor rollback`: the commands that change
//! secrets.

use std::process::ExitCode;

use rotor::engine::{status, Options, Outcome};
use rotor::inventory::Inventory;
use rotor::store::Store;
use rotor::RotorError;

use super::Ctx;
use crate::cli::Select;
use crate::output::{self, Progress};

/// Names selected by `NAMES…`, `--all`, `--due`; none selected means all
/// (for `plan`) and is an error for `rotate`.
pub fn resolve(
    inv: &Inventory,
    store: Option<&Store>,
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
    let mut outcomes = if names.is_empty() {
        Vec::new()
    } else {
        engine.rotate(&names)?
    };
    if select.all || select.due {
        // A sweep also retires previous values whose window has passed.
        outcomes.extend(engine.retire(&[], true)?);
    }
    report(&outcomes, json, "Nothing is due.")?;
    Ok(ExitCode::SUCCESS)
}

/// `rotor retire`.
pub fn retire(ctx: &Ctx, names: &[String], expired: bool, json: bool) -> anyhow::Result<ExitCode> {
    if names.is_empty() && !expired {
        anyhow::bail!("name the secrets whose previous value to retire now, or pass --expired");
    }
    let progress = Progress::new();
    let mut engine = ctx.engine(Options::default(), &progress)?;
    let outcomes = engine.retire(names, expired)?;
    report(&outcomes, json, "Nothing to retire.")?;
    Ok(ExitCode::SUCCESS)
}

/// `rotor rollback`.
pub fn rollback(ctx: &Ctx, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let progress = Progress::new();
    let mut engine = ctx.engine(Options::default(), &progress)?;
    let outcomes = engine.rollback(name)?;
    report(&outcomes, json, "")?;
    Ok(ExitCode::SUCCESS)
}

fn report(outcomes: &[Outcome], json: bool, empty: &str) -> anyhow::Result<()> {
    if json {
        return output::json(&outcomes);
    }
    if outcomes.is_empty() && !empty.is_empty() {
        println!("{empty}");
    }
    for o in outcomes {
        let version = o.version.map(|v| format!(" v{v}")).unwrap_or_default();
        let fp = o
            .fingerprint
            .as_deref()
            .map(|f| format!(" fp {f}"))
            .unwrap_or_default();
        println!("{:<12} {}{version}{fp}  {}", o.action, o.secret, o.detail);
    }
    Ok(())
}
