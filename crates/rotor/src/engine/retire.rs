//! `rotor retire`: when an overlap window has passed (or on demand), drop the
//! previous value from every target, restart and verify consumers, and mark
//! that version retired.

use crate::engine::execute::{Done, Item};
use crate::engine::step::{Phase, Step};
use crate::engine::{spec_digest, units, Engine, Live, Outcome, Report};
use crate::error::RotorError;
use crate::inventory::SecretSpec;
use crate::store::{now, RunKind, RunPlan};

impl Engine<'_> {
    /// Retires previous versions: of the named secrets (all when `names` is
    /// empty), only those whose window has ended when `expired_only`.
    pub fn retire(&mut self, names: &[String], expired_only: bool) -> Result<Report, RotorError> {
        if let Some(spec) = self
            .select(names)?
            .into_iter()
            .find(|s| s.strategy.is_provided())
        {
            return Err(RotorError::Secret {
                secret: spec.name.clone(),
                message: format!(
                    "strategy manual: its old value is retired when you confirm the provider revoked it; revoke it in the portal, then `rotor confirm {} --revoked`",
                    spec.name
                ),
            });
        }
        self.retire_selected(names, expired_only, false)
    }

    /// [`Engine::retire`]; manual secrets only when `confirmed` (an operator
    /// said the provider revoked the old value), never in a sweep.
    pub(super) fn retire_selected(
        &mut self,
        names: &[String],
        expired_only: bool,
        confirmed: bool,
    ) -> Result<Report, RotorError> {
        self.check_writers()?;
        self.refuse_damaged_audit()?;
        let selected: Vec<SecretSpec> = if names.is_empty() {
            self.inventory.secrets.clone()
        } else {
            self.select(names)?.into_iter().cloned().collect()
        };
        let selected: Vec<SecretSpec> = selected
            .into_iter()
            .filter(|s| confirmed || !s.strategy.is_provided())
            .collect();
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
            let in_unit: std::collections::HashSet<&str> =
                unit.iter().map(|u| u.name.as_str()).collect();
            let rows: Vec<(&SecretSpec, u32, u32)> = due
                .iter()
                .filter(|d| in_unit.contains(d.0.name.as_str()))
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
            for (spec, cur, prev) in rows {
                st.plan_secret(
                    run,
                    &spec.name,
                    &RunPlan {
                        want_current: *cur,
                        want_previous: None,
                        old_current: Some(*cur),
                        old_previous: Some(*prev),
                    },
                    &spec_digest(spec),
                )?;
            }
            st.journal(
                run,
                Step::Plan.as_str(),
                Phase::Done.as_str(),
                &names.join(", "),
                t,
            )?;
            Ok::<_, RotorError>(run)
        })?;
        let items: Vec<Item<'_>> = rows
            .iter()
            .map(|(spec, cur, prev)| Item {
                spec,
                plan: RunPlan {
                    want_current: *cur,
                    want_previous: None,
                    old_current: Some(*cur),
                    old_previous: Some(*prev),
                },
            })
            .collect();
        self.execute(run, RunKind::Retire, hooks, &items, Done::default())
    }
}
