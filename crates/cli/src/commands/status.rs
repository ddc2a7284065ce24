//! `rotor status`: one line per secret.

use std::process::ExitCode;

use rotor::engine::drift::CheckState;
use rotor::engine::status::{self, fmt_age, fmt_time};
use rotor::engine::{Engine, Options, Quiet};
use rotor::RotorError;

use super::Ctx;
use crate::output;

/// Prints the status table (or JSON).
pub fn run(ctx: &Ctx, json: bool) -> anyhow::Result<ExitCode> {
    let inv = ctx.inventory()?;
    let store = ctx.store(&inv)?;
    let mut rows = status::status(&inv, &store).map_err(RotorError::from)?;
    // The chain's head, as every command that appends checks it: two rows,
    // so status costs the same however long the trail grows. An older
    // entry edited in place is found by `rotor audit verify`.
    let audit_broken = match store.audit_head() {
        Ok(_) => false,
        Err(rotor::store::StoreError::AuditBroken { source, .. }) => {
            eprintln!(
                "warning: the audit trail is damaged: {source}; rotations are refused until it is restored (`rotor audit verify` shows it)"
            );
            true
        }
        Err(e) => return Err(RotorError::from(e).into()),
    };
    // A run can outlive its secret's entry in the inventory: say so.
    for run in store.open_runs().map_err(RotorError::from)? {
        for s in run.secrets.iter().filter(|s| inv.secret(s).is_none()) {
            crate::errln!(
                "warning: run {} ({}) holds secret \"{s}\", which is not in the inventory; undo it with `rotor rollback {s}`",
                run.id,
                run.kind.as_str()
            );
        }
    }
    for r in rows.iter().filter(|r| r.future_secs.is_some()) {
        eprintln!(
            "warning: secret \"{}\": its current version's time ({}) is after this machine's clock; check the clock (ages and due dates are measured from it)",
            r.name,
            r.created_at.map(fmt_time).unwrap_or_default()
        );
    }
    // Temp files a dead rotor left that could not be removed may hold a
    // secret: say so (`--json` has them in `stale_temp_files`).
    let mut warned = std::collections::BTreeSet::new();
    for left in rows.iter().flat_map(|r| &r.stale_temp_files) {
        if warned.insert(&left.path) {
            eprintln!("warning: {left}");
        }
    }
    // Secrets with an authority get a real login check; the engine takes
    // over the inventory and store already loaded.
    let drifted = inv.secrets.iter().any(|s| s.authority.is_some())
        && check_authorities(
            &ctx.engine_over(inv, store, Options::default(), &Quiet),
            &mut rows,
        )?;
    // A broken audit chain outranks drift: the record itself is in doubt.
    let code = if audit_broken {
        ExitCode::from(crate::exit::FAILED)
    } else if drifted {
        ExitCode::from(crate::exit::DRIFT)
    } else {
        ExitCode::SUCCESS
    };
    if json {
        output::json(&rows)?;
        return Ok(code);
    }
    let mut t = output::table(&[
        "secret",
        "state",
        "version",
        "age",
        "cadence",
        "next due",
        "",
        "fingerprint",
        "previous until",
    ]);
    for r in &rows {
        let state = match &r.open_run {
            Some(run) if run.running => format!(
                "RUNNING {} (run {}, pid {}, at {})",
                run.kind,
                run.id,
                run.pid.map(|p| p.to_string()).unwrap_or_default(),
                run.step
            ),
            Some(run) => format!(
                "INTERRUPTED at {} (run {}): {} to finish, {} to undo",
                run.step,
                run.id,
                run.advice,
                run.undo.as_deref().unwrap_or("-")
            ),
            None if r.drift.is_some() => r.drift.clone().unwrap_or_default(),
            None => match &r.last_failure {
                Some(f) => format!(
                    "{} (last {} FAILED at {}, run {})",
                    r.state, f.kind, f.step, f.id
                ),
                None => r.state.clone(),
            },
        };
        let previous = match &r.previous {
            Some(p) => {
                let until = p.retire_after.map(fmt_time).unwrap_or_else(|| "-".into());
                if p.expired {
                    format!("v{} {until} (expired: rotor retire --expired)", p.version)
                } else {
                    format!("v{} {until}", p.version)
                }
            }
            None => "-".into(),
        };
        t.add_row(vec![
            r.name.clone(),
            state,
            r.version
                .map(|v| format!("v{v}"))
                .unwrap_or_else(|| "-".into()),
            match (r.age_secs, r.future_secs) {
                (Some(a), _) => fmt_age(a),
                (None, Some(f)) => format!("{} in the future", fmt_age(f)),
                (None, None) => "-".into(),
            },
            r.cadence_secs
                .map(|c| fmt_age(i64::try_from(c).unwrap_or(i64::MAX)))
                .unwrap_or_else(|| "on demand".into()),
            r.next_due.map(fmt_time).unwrap_or_else(|| "-".into()),
            if r.overdue {
                "OVERDUE".into()
            } else {
                String::new()
            },
            r.fingerprint.clone().unwrap_or_else(|| "-".into()),
            previous,
        ]);
    }
    crate::outln!("{t}");
    // Who answers for each secret, what its exposure breaks, and what an
    // incident rotates with it: under the table, too long for a column.
    for r in &rows {
        let mut about = Vec::new();
        if let Some(o) = &r.owner {
            about.push(format!("owner {o}"));
        }
        if let Some(b) = &r.blast_radius {
            about.push(format!("blast radius: {b}"));
        }
        if !r.related.is_empty() {
            about.push(format!("related: {}", r.related.join(", ")));
        }
        if !about.is_empty() {
            crate::outln!("{}: {}", r.name, about.join("; "));
        }
    }
    if drifted {
        crate::outln!("Drift found: `rotor verify` shows every check.");
    }
    Ok(code)
}

/// Checks secrets that have an authority (a real login with the stored
/// credential) and notes drift in their rows. Returns whether any drifted
/// or could not be checked.
fn check_authorities(engine: &Engine<'_>, rows: &mut [status::StatusRow]) -> anyhow::Result<bool> {
    let mut any = false;
    let at: std::collections::HashMap<String, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.clone(), i))
        .collect();
    for report in engine.check_drift(&[], true)? {
        let row = at.get(&report.secret).copied();
        let open = row.is_some_and(|i| rows[i].open_run.is_some());
        // An unfinished run is shown as such; its state explains itself.
        if report.state() == CheckState::Ok || open {
            continue;
        }
        any = true;
        let words = report
            .checks
            .iter()
            .filter(|c| c.state != CheckState::Ok)
            .map(|c| format!("{}: {}", c.what, c.detail))
            .collect::<Vec<_>>()
            .join("; ");
        let label = match report.state() {
            CheckState::Drift => "DRIFT",
            _ => "UNCHECKED",
        };
        if let Some(i) = row {
            rows[i].drift = Some(format!("{label}: {words}"));
        }
    }
    Ok(any)
}
