//! `rotor history NAME`: every version and every audit entry of one secret.

use std::process::ExitCode;

use rotor::engine::status::fmt_time;
use rotor::RotorError;

use super::Ctx;
use crate::output;

/// Prints versions and audit entries.
pub fn run(ctx: &Ctx, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let inv = ctx.inventory()?;
    if inv.secret(name).is_none() {
        return Err(RotorError::UnknownSecret(name.to_owned()).into());
    }
    let store = ctx.store(&inv)?;
    let versions = store.versions(name).map_err(RotorError::from)?;
    let audit = store.audit_entries(Some(name)).map_err(RotorError::from)?;
    if json {
        output::json(&serde_json::json!({ "secret": name, "versions": versions, "audit": audit }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::table(&[
        "version",
        "stage",
        "fingerprint",
        "created",
        "origin",
        "previous until",
    ]);
    for v in &versions {
        t.add_row(vec![
            format!("v{}", v.number),
            v.stage.as_str().to_owned(),
            v.fingerprint.to_string(),
            fmt_time(v.created_at),
            format!("{:?}", v.origin).to_lowercase(),
            v.retire_after.map(fmt_time).unwrap_or_default(),
        ]);
    }
    crate::outln!("{t}");
    let mut a = output::table(&[
        "#",
        "at",
        "actor",
        "step",
        "outcome",
        "version",
        "fingerprint",
        "detail",
    ]);
    for e in &audit {
        a.add_row(vec![
            e.seq.to_string(),
            e.at.clone(),
            e.actor.clone(),
            e.step.clone(),
            e.outcome.clone(),
            e.version.map(|v| format!("v{v}")).unwrap_or_default(),
            e.fingerprint.clone().unwrap_or_default(),
            e.detail.clone(),
        ]);
    }
    crate::outln!("{a}");
    Ok(ExitCode::SUCCESS)
}
