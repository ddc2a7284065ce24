//! `rotor audit verify`: check the audit hash chain.

use std::process::ExitCode;

use rotor::RotorError;

use super::Ctx;
use crate::exit;
use crate::output;

/// Verifies the chain; exit 1 names the first bad entry.
pub fn verify(ctx: &Ctx, json: bool) -> anyhow::Result<ExitCode> {
    let inv = ctx.inventory()?;
    let store = ctx.store(&inv)?;
    let result = store.audit_verify().map_err(RotorError::from)?;
    match result {
        Ok(v) => {
            if json {
                output::json(
                    &serde_json::json!({ "ok": true, "entries": v.entries, "head": v.head }),
                )?;
            } else {
                crate::outln!("audit chain intact: {} entries, head {}", v.entries, v.head);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(br) => {
            if json {
                output::json(
                    &serde_json::json!({ "ok": false, "entry": br.seq(), "error": br.to_string() }),
                )?;
            } else {
                crate::errln!("audit chain BROKEN: {br}");
            }
            Ok(ExitCode::from(exit::FAILED))
        }
    }
}
