//! `rotor verify`: check that targets and authorities still agree with the
//! store (drift), without changing anything but the audit trail.

use std::process::ExitCode;

use rotor::engine::drift::{CheckState, DriftReport};
use rotor::engine::{Options, Quiet};

use super::Ctx;
use crate::output;

/// Runs every check; exit 4 when anything drifted or could not be checked.
pub fn run(ctx: &Ctx, names: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let mut engine = ctx.engine(Options::default(), &Quiet)?;
    let reports = engine.check_drift(names, false)?;
    engine.audit_drift(&reports)?;
    if json {
        output::json(&reports)?;
    } else {
        let mut t = output::table(&["secret", "check", "result", "detail"]);
        for r in &reports {
            for c in &r.checks {
                t.add_row(vec![
                    r.secret.clone(),
                    c.what.clone(),
                    match c.state {
                        CheckState::Ok => "ok".into(),
                        CheckState::Drift => "DRIFT".into(),
                        CheckState::Error => "ERROR".into(),
                    },
                    c.detail.clone(),
                ]);
            }
        }
        crate::outln!("{t}");
        let drifted = count(&reports, CheckState::Drift);
        let errors = count(&reports, CheckState::Error);
        if drifted + errors == 0 {
            crate::outln!("{} secrets checked: no drift.", reports.len());
        } else {
            crate::outln!(
                "{} secrets checked: {drifted} drifted, {errors} could not be checked.",
                reports.len()
            );
        }
    }
    Ok(if reports.iter().all(|r| r.state() == CheckState::Ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::DRIFT)
    })
}

fn count(reports: &[DriftReport], state: CheckState) -> usize {
    reports.iter().filter(|r| r.state() == state).count()
}
