//! `rotor retire`: when an overlap window has passed (or on demand), drop the
//! previous value from every target, restart and verify consumers, and mark
//! that version retired.

use crate::audit::NewEntry;
use crate::engine::run::Change;
use crate::engine::{units, Engine, Live, Outcome, Report};
use crate::error::RotorError;
use crate::inventory::SecretSpec;
use crate::store::{now, RunKind, RunState, Stage};

impl Engine<'_> {
    /// Retires previous versions: of the named secrets (all when `names` is
    /// empty), only those whose window has ended when `expired_only`.
    pub fn retire(&mut self, names: &[String], expired_only: bool) -> Result<Report, RotorError> {
        self.check_writers()?;
        let selected: Vec<SecretSpec> = if names.is_empty() {
            self.inventory.secrets.clone()
        } else {
            self.select(names)?.into_iter().cloned().collect()
        };
        let live_all = self.store.live_versions()?;
        let t = now();
        let mut due: Vec<(&SecretSpec, u32, u32)> = Vec::new();
        for spec in &selected {
            let live =
                Live::from_records(live_all.get(&spec.name).map(Vec::as_slice).unwrap_or(&[]));
            let (Some(prev), Some(cur)) = (&live.previous, &live.current) else {
                continue;
            };
            if expired_only && prev.retire_after.is_some_and(|at| at > t) {
                continue;
            }
            due.push((spec, cur.number, prev.number));
        }
        let specs: Vec<&SecretSpec> = due.iter().map(|d| d.0).collect();
        let mut results = Vec::new();
        for (hooks, unit) in units(&specs) {
            let rows: Vec<(&SecretSpec, u32, u32)> = due
                .iter()
                .filter(|d| unit.iter().any(|u| u.name == d.0.name))
                .copied()
                .collect();
            let names = rows.iter().map(|r| r.0.name.clone()).collect();
            results.push((names, self.retire_unit(&hooks, &rows)));
        }
        Ok(Report::from_groups(results))
    }

    fn retire_unit(
        &mut self,
        hooks: &crate::inventory::Hooks,
        rows: &[(&SecretSpec, u32, u32)],
    ) -> Result<Vec<Outcome>, RotorError> {
        let names: Vec<String> = rows.iter().map(|r| r.0.name.clone()).collect();
        let actor = self.actor.clone();
        let t = now();
        let run = self.store.write(|st| {
            let run = st.begin_run(
                RunKind::Retire,
                &names,
                &actor.name,
                actor.ticket.as_deref(),
                t,
            )?;
            st.journal(run, "plan", "done", &names.join(", "), t)?;
            Ok::<_, RotorError>(run)
        })?;
        let mut changes = Vec::with_capacity(rows.len());
        for (spec, cur, _) in rows {
            changes.push(Change {
                spec,
                current: self.store.value(&spec.name, *cur)?,
                previous: None,
            });
        }
        if let Err(e) = self.drive(run, RunKind::Retire, hooks, &changes) {
            let msg = e.to_string();
            self.store.write(|st| {
                if !st.run_is_open(run)? {
                    return Ok(());
                }
                for (spec, _, prev) in rows {
                    st.audit(&NewEntry {
                        actor: &actor.name,
                        ticket: actor.ticket.as_deref(),
                        secret: Some(&spec.name),
                        version: Some(*prev),
                        fingerprint: None,
                        step: "retire",
                        outcome: "failed",
                        detail: &msg,
                    })?;
                }
                st.finish_run(run, RunState::Failed, Some(&msg), now())?;
                Ok::<_, RotorError>(())
            })?;
            return Err(e);
        }
        let t = now();
        self.store.write(|st| {
            if !st.run_is_open(run)? {
                return Err(RotorError::Aborted {
                    kind: RunKind::Retire.as_str(),
                    run,
                    secrets: names.join(", "),
                });
            }
            let mut out = Vec::new();
            for (spec, cur, prev) in rows {
                let recs = st.versions(&spec.name)?;
                let fp = recs
                    .iter()
                    .find(|r| r.number == *prev)
                    .map(|r| r.fingerprint.to_string());
                st.set_stage(&spec.name, *prev, Stage::Retired, None)?;
                st.audit(&NewEntry {
                    actor: &actor.name,
                    ticket: actor.ticket.as_deref(),
                    secret: Some(&spec.name),
                    version: Some(*prev),
                    fingerprint: fp.as_deref(),
                    step: "retire",
                    outcome: "ok",
                    detail: "previous value removed from every target",
                })?;
                out.push(Outcome {
                    secret: spec.name.clone(),
                    action: "retired".into(),
                    version: Some(*prev),
                    fingerprint: fp,
                    detail: format!("version {prev} retired; version {cur} is the only live value"),
                });
            }
            st.journal(run, "retire", "done", "", t)?;
            st.finish_run(run, RunState::Completed, None, t)?;
            Ok::<_, RotorError>(out)
        })
    }
}
