//! `rotor rollback NAME`: undo an unfinished run (restore its files, fail its
//! pending versions), or, after promotion and while the previous version is
//! still live, swap current and previous back.

use crate::audit::NewEntry;
use crate::engine::run::Change;
use crate::engine::{window_end, Engine, Live, Outcome};
use crate::error::RotorError;
use crate::inventory::{SecretSpec, Strategy};
use crate::secret::SecretValue;
use crate::store::{now, RunKind, RunState, Stage};

impl Engine<'_> {
    /// Rolls back `name`.
    pub fn rollback(&mut self, name: &str) -> Result<Vec<Outcome>, RotorError> {
        self.check_writers()?;
        let spec = self
            .inventory
            .secret(name)
            .cloned()
            .ok_or_else(|| RotorError::UnknownSecret(name.to_owned()))?;
        if let Some(run) = self.store.open_run_for(name)? {
            if run.alive {
                return Err(run.busy(name).into());
            }
            return self.undo_open_run(run);
        }
        let live_all = self.store.live_versions()?;
        let live = Live::from_records(live_all.get(name).map(Vec::as_slice).unwrap_or(&[]));
        let (Some(cur), Some(prev)) = (live.current, live.previous) else {
            return Err(RotorError::Secret {
                secret: name.to_owned(),
                message:
                    "nothing to roll back: there is no unfinished run and no live previous version \
                          (its overlap was retired, or the secret uses cutover)"
                        .into(),
            });
        };
        self.swap(&spec, cur.number, prev.number, prev.retire_after)
    }

    fn undo_open_run(&mut self, run: crate::store::RunRecord) -> Result<Vec<Outcome>, RotorError> {
        let specs: Vec<SecretSpec> = run
            .secrets
            .iter()
            .filter_map(|s| self.inventory.secret(s).cloned())
            .collect();
        let refs: Vec<&SecretSpec> = specs.iter().collect();
        let restart = refs.iter().find_map(|s| s.hooks.restart.clone());
        let restarted = self
            .store
            .journal_of(run.id)?
            .iter()
            .any(|j| j.step == "restart" && j.phase == "intent");
        // Redact every value this run could have put anywhere.
        let mut run_values = Vec::new();
        for s in &run.secrets {
            for v in self.store.versions(s)? {
                if v.run_id == Some(run.id) || matches!(v.stage, Stage::Current | Stage::Previous) {
                    run_values.push(self.store.value(s, v.number)?);
                }
            }
        }
        let refs_values: Vec<&SecretValue> = run_values.iter().collect();
        let undo = self.undo_delivery(
            run.id,
            &refs,
            restart.as_ref().filter(|_| restarted),
            &refs_values,
        )?;
        let notes = undo.text.clone();
        let actor = self.actor.clone();
        let t = now();
        let outcomes = self.store.write(|st| {
            let mut out = Vec::new();
            for s in &run.secrets {
                for v in st.versions(s)? {
                    if v.run_id == Some(run.id) && v.stage == Stage::Pending {
                        st.set_stage(s, v.number, Stage::Failed, None)?;
                    }
                }
                st.audit(&NewEntry {
                    actor: &actor.name,
                    ticket: actor.ticket.as_deref(),
                    secret: Some(s),
                    version: None,
                    fingerprint: None,
                    step: "rollback",
                    outcome: "ok",
                    detail: &format!(
                        "undid unfinished {} run {} (stopped at {}). {notes}",
                        run.kind.as_str(),
                        run.id,
                        run.step
                    ),
                })?;
                out.push(Outcome {
                    secret: s.clone(),
                    action: "rolled_back".into(),
                    version: None,
                    fingerprint: None,
                    detail: notes.clone(),
                });
            }
            st.finish_run(run.id, RunState::RolledBack, None, t)?;
            Ok::<_, RotorError>(out)
        })?;
        if undo.restart_failed {
            return Err(RotorError::UndoIncomplete {
                secrets: run.secrets.join(", "),
                detail: notes,
            });
        }
        Ok(outcomes)
    }

    fn swap(
        &mut self,
        spec: &SecretSpec,
        cur: u32,
        prev: u32,
        prev_until: Option<i64>,
    ) -> Result<Vec<Outcome>, RotorError> {
        let actor = self.actor.clone();
        let names = vec![spec.name.clone()];
        let t = now();
        let run = self.store.write(|st| {
            let run = st.begin_run(
                RunKind::Rollback,
                &names,
                &actor.name,
                actor.ticket.as_deref(),
                t,
            )?;
            st.journal(
                run,
                "plan",
                "done",
                &format!("swap version {prev} back in for {cur}"),
                t,
            )?;
            Ok::<_, RotorError>(run)
        })?;
        let cur_value: SecretValue = self.store.value(&spec.name, cur)?;
        let prev_value = self.store.value(&spec.name, prev)?;
        let changes = [Change {
            spec,
            current: prev_value.duplicate(),
            previous: Some(cur_value.duplicate()),
        }];
        if let Err(e) = self.drive(run, RunKind::Rollback, &spec.hooks, &changes) {
            let msg = e.to_string();
            self.store.write(|st| {
                if !st.run_is_open(run)? {
                    return Ok(());
                }
                st.audit(&NewEntry {
                    actor: &actor.name,
                    ticket: actor.ticket.as_deref(),
                    secret: Some(&spec.name),
                    version: Some(prev),
                    fingerprint: None,
                    step: "rollback",
                    outcome: "failed",
                    detail: &msg,
                })?;
                st.finish_run(run, RunState::Failed, Some(&msg), now())?;
                Ok::<_, RotorError>(())
            })?;
            return Err(e);
        }
        let t = now();
        // The demoted version gets a fresh window from now: tokens it signed
        // in the meantime must keep verifying for as long as promised.
        let fresh = match spec.strategy {
            Strategy::Overlap { window } => window_end(t, window),
            Strategy::Cutover => t,
        };
        let until = prev_until.map_or(fresh, |u| u.max(fresh));
        let fp = prev_value.fingerprint();
        self.store.write(|st| {
            if !st.run_is_open(run)? {
                return Err(RotorError::Aborted {
                    kind: RunKind::Rollback.as_str(),
                    run,
                    secrets: spec.name.clone(),
                });
            }
            st.set_stage(&spec.name, cur, Stage::Previous, Some(until))?;
            st.set_stage(&spec.name, prev, Stage::Current, None)?;
            let detail = format!(
                "version {prev} is current again; version {cur} stays valid as previous until {}",
                crate::engine::status::fmt_time(until)
            );
            st.audit(&NewEntry {
                actor: &actor.name,
                ticket: actor.ticket.as_deref(),
                secret: Some(&spec.name),
                version: Some(prev),
                fingerprint: Some(fp.as_str()),
                step: "rollback",
                outcome: "ok",
                detail: &detail,
            })?;
            st.journal(run, "promote", "done", &detail, t)?;
            st.finish_run(run, RunState::Completed, None, t)?;
            Ok::<_, RotorError>(vec![Outcome {
                secret: spec.name.clone(),
                action: "rolled_back".into(),
                version: Some(prev),
                fingerprint: Some(fp.to_string()),
                detail,
            }])
        })
    }
}
