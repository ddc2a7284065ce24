//! `rotor rollback NAME`: undo an unfinished run (restore its files, fail its
//! pending versions), or, after promotion and while the previous version is
//! still live, swap current and previous back.

use crate::audit::NewEntry;
use crate::engine::execute::{Done, Item};
use crate::engine::run::Change;
use crate::engine::step::{Phase, Step};
use crate::engine::{spec_digest, Engine, Live, Outcome};
use crate::error::RotorError;
use crate::inventory::SecretSpec;
use crate::secret::SecretValue;
use crate::store::{now, RunKind, RunPlan, RunState, Stage};

impl Engine<'_> {
    /// Rolls back `name`.
    pub fn rollback(&mut self, name: &str) -> Result<Vec<Outcome>, RotorError> {
        self.check_writers()?;
        self.refuse_damaged_audit()?;
        // An unfinished run is undone from its backups, even for a secret
        // that has left the inventory since.
        if let Some(run) = self.store.open_run_for(name)? {
            self.claim_stale(&run)?;
            return self.undo_open_run(run);
        }
        let spec = self
            .inventory
            .secret(name)
            .cloned()
            .ok_or_else(|| RotorError::UnknownSecret(name.to_owned()))?;
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
        self.swap(&spec, cur.number, prev.number)
    }

    /// Undoes an unfinished run; an error says whether it is still open.
    pub(crate) fn undo_open_run(
        &mut self,
        run: crate::store::RunRecord,
    ) -> Result<Vec<Outcome>, RotorError> {
        let (id, secrets) = (run.id, run.secrets.join(", "));
        self.undo_run(run)
            .map_err(|e| self.after_start(id, &secrets, e))
    }

    fn undo_run(&mut self, run: crate::store::RunRecord) -> Result<Vec<Outcome>, RotorError> {
        let specs: Vec<SecretSpec> = run
            .secrets
            .iter()
            .filter_map(|s| self.inventory.secret(s).cloned())
            .collect();
        let refs: Vec<&SecretSpec> = specs.iter().collect();
        let restart = refs.iter().find_map(|s| s.hooks.restart.clone());
        let journal = self.store.journal_of(run.id)?;
        let restarted = Done::restart_started(&journal);
        // A run that never began apply gave the authority nothing to take
        // back (and its rollback needs no server).
        let applied = Done::from_journal(&journal).apply_started;
        // Redact every value this run could have put anywhere.
        let mut run_values = Vec::new();
        for s in &run.secrets {
            for v in self.store.versions(s)? {
                if v.run_id == Some(run.id) || matches!(v.stage, Stage::Current | Stage::Previous) {
                    // Only for redaction: a value that no longer opens (sealed
                    // under another key) must not block restoring the files.
                    if let Ok(value) = self.store.value(s, v.number) {
                        run_values.push(value);
                    }
                }
            }
        }
        let refs_values: Vec<&SecretValue> = run_values.iter().collect();
        // The authority first: if it cannot be reached, nothing is touched
        // and the run stays open, so the files keep matching what the
        // authority accepts.
        let authority = if run.kind == RunKind::Rotate && applied {
            self.undo_run_authority(&run, &refs)?
        } else {
            String::new()
        };
        let undo = self.undo_delivery(
            run.id,
            &refs,
            restart.as_ref().filter(|_| restarted),
            &refs_values,
        )?;
        let mut notes = undo.text.clone();
        if !authority.is_empty() {
            notes.push(' ');
            notes.push_str(&authority);
        }
        let actor = self.actor.clone();
        let t = now();
        let outcomes = self.store.write(|st| {
            if !st.run_is_open(run.id)? {
                return Err(RotorError::Aborted {
                    kind: RunKind::Rollback.as_str(),
                    run: run.id,
                    secrets: run.secrets.join(", "),
                });
            }
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
                left_open: false,
            });
        }
        Ok(outcomes)
    }

    /// Takes an unfinished rotation's new credentials back from their
    /// authorities (and gives the old ones back), for the secrets still in
    /// the inventory that have one. Fails, having changed nothing else, if
    /// an authority cannot do it.
    fn undo_run_authority(
        &self,
        run: &crate::store::RunRecord,
        specs: &[&SecretSpec],
    ) -> Result<String, RotorError> {
        let mut done = Vec::new();
        for (name, plan, _) in self.store.run_plans(run.id)? {
            let Some(spec) = specs.iter().find(|s| s.name == name) else {
                continue;
            };
            if spec.authority.is_none() {
                continue;
            }
            let (user, current) = self.store.credential(&name, plan.want_current)?;
            let old = match plan.old_current {
                Some(n) => Some(self.store.credential(&name, n)?),
                None => None,
            };
            let change = Change {
                spec,
                user,
                current,
                previous: None,
                old,
                auth: self.authority(spec)?,
                versions: (plan.want_current, plan.old_current),
            };
            self.journal(
                run.id,
                Step::Undo,
                Phase::Intent,
                &format!("authority of {name}"),
            )?;
            if let Err(e) = change
                .auth
                .undo(change.new_credential(), change.old_credential())
            {
                self.journal(run.id, Step::Undo, Phase::Failed, &e.to_string())?;
                return Err(RotorError::UndoIncomplete {
                    secrets: run.secrets.join(", "),
                    left_open: true,
                    detail: format!(
                        "taking the new credential of {name} back from {} failed ({e}). Nothing else was changed and the run stays open: \
                         run `rotor rollback {name}` again once it is reachable, or `rotor resume {name}` to finish the rotation instead",
                        change.auth.name()
                    ),
                });
            }
            done.push(name);
        }
        if done.is_empty() {
            return Ok(String::new());
        }
        Ok(format!(
            "The authority no longer accepts the new credential of {}.",
            done.join(", ")
        ))
    }

    fn swap(&mut self, spec: &SecretSpec, cur: u32, prev: u32) -> Result<Vec<Outcome>, RotorError> {
        // Everything the swap needs must open before a run is recorded, so
        // a previous version that no longer opens (sealed under another
        // key) is refused with nothing changed.
        self.store.credential(&spec.name, prev)?;
        self.store.credential(&spec.name, cur)?;
        self.authority(spec)?;
        let actor = self.actor.clone();
        let names = vec![spec.name.clone()];
        let t = now();
        let plan = RunPlan {
            want_current: prev,
            want_previous: Some(cur),
            old_current: Some(cur),
            old_previous: Some(prev),
        };
        let run = self.store.write(|st| {
            let run = st.begin_run(
                RunKind::Rollback,
                &names,
                &actor.name,
                actor.ticket.as_deref(),
                t,
            )?;
            st.plan_secret(run, &spec.name, &plan, &spec_digest(spec))?;
            st.journal(
                run,
                Step::Plan.as_str(),
                Phase::Done.as_str(),
                &format!("swap version {prev} back in for {cur}"),
                t,
            )?;
            Ok::<_, RotorError>(run)
        })?;
        let items = [Item { spec, plan }];
        self.execute(run, RunKind::Rollback, &spec.hooks, &items, Done::default())
    }
}
