//! `rotor plan`: what a rotation would do; changes nothing.

use std::process::ExitCode;

use rotor::engine::plan;
use rotor::store::Store;
use rotor::RotorError;

use super::Ctx;
use crate::cli::Select;
use crate::output;

/// Prints the plan for the selected secrets (all when none are named).
pub fn run(ctx: &Ctx, select: &Select, json: bool) -> anyhow::Result<ExitCode> {
    let inv = ctx.inventory()?;
    let store = if Store::exists(&inv.store.path) {
        Some(ctx.store(&inv)?)
    } else {
        None
    };
    let store = store.as_ref().map(|s| s as &dyn rotor::store::Backend);
    let names = super::rotate::resolve(&inv, store, select)?;
    let names: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let specs: Vec<_> = inv
        .secrets
        .iter()
        .filter(|s| names.contains(s.name.as_str()))
        .collect();
    let plans = plan::plan(store, &specs).map_err(RotorError::from)?;
    if json {
        output::json(&plans)?;
        return Ok(ExitCode::SUCCESS);
    }
    if store.is_none() {
        crate::outln!(
            "(no store yet at {}: run `rotor init` first)\n",
            inv.store.path.display()
        );
    }
    if plans.is_empty() {
        crate::outln!("Nothing to rotate.");
    }
    for p in &plans {
        if p.entropy_bits > 0.0 {
            crate::outln!(
                "{} ({}; {:.0} bits of entropy)",
                p.name,
                p.strategy,
                p.entropy_bits
            );
        } else {
            // The provider or a person makes the value: rotor cannot say.
            crate::outln!("{} ({}; value made outside rotor)", p.name, p.strategy);
        }
        if let Some(o) = &p.owner {
            crate::outln!("  owner: {o}");
        }
        if let Some(b) = &p.blast_radius {
            crate::outln!("  blast radius: {b}");
        }
        for (i, s) in p.steps.iter().enumerate() {
            crate::outln!("  {}. {:<9} {}", i + 1, s.step, s.detail);
        }
        for w in &p.warnings {
            crate::outln!("  ! {w}");
        }
        crate::outln!();
    }
    Ok(ExitCode::SUCCESS)
}
