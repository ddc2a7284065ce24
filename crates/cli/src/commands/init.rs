//! `rotor init`: create the store and master key.

use std::process::ExitCode;

use rotor::audit::NewEntry;
use rotor::store::Store;
use rotor::RotorError;

use super::Ctx;

/// Creates `.rotor/` with the database and master key, plus a `.gitignore`
/// inside it so neither is ever committed.
pub fn run(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let inv = ctx.inventory()?;
    let (mut store, made) = Store::init(&inv.store.path).map_err(RotorError::from)?;
    let ignore = made.dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# rotor's store and master key: never commit these\n*\n",
        )
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", ignore.display()))?;
    }
    let actor = ctx.actor.clone();
    store
        .write(|st| {
            st.audit(&NewEntry {
                actor: &actor.name,
                ticket: actor.ticket.as_deref(),
                step: "init",
                outcome: "ok",
                detail: &format!("store created for {} secrets", inv.secrets.len()),
                ..NewEntry::default()
            })
            .map(|_| ())
        })
        .map_err(RotorError::from)?;
    crate::outln!("Created store {}", made.db.display());
    if made.key_created {
        crate::outln!("Created master key {} (mode 0600)", made.key.display());
        crate::outln!(
            "Back the master key up somewhere safe: without it the store cannot be opened."
        );
    } else {
        crate::outln!("Using existing master key {}", made.key.display());
    }
    crate::outln!(
        "Next: `rotor plan` to see what a rotation would do, `rotor rotate --all` to do it."
    );
    Ok(ExitCode::SUCCESS)
}
