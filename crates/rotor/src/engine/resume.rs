//! `rotor resume [NAME]`: finish interrupted runs from the first step their
//! journal does not show as done. The run's plan (which versions the targets
//! must hold, which the run demotes) is in the store, so resuming needs
//! nothing from the process that died.

use crate::audit::NewEntry;
use crate::engine::execute::{Done, Item};
use crate::engine::step::{Phase, Step};
use crate::engine::{spec_digest, Engine, Outcome, Report};
use crate::error::RotorError;
use crate::inventory::SecretSpec;
use crate::store::RunRecord;

impl Engine<'_> {
    /// Resumes the interrupted run holding `name`, or every interrupted run
    /// (runs whose owner is alive are left to it).
    pub fn resume(&mut self, name: Option<&str>) -> Result<Report, RotorError> {
        self.check_writers()?;
        self.refuse_damaged_audit()?;
        let mut runs: Vec<RunRecord> = match name {
            Some(n) => match self.store.open_run_for(n)? {
                Some(run) => vec![run],
                None if self.inventory.secret(n).is_none() => {
                    return Err(RotorError::UnknownSecret(n.to_owned()))
                }
                None => {
                    return Err(RotorError::Secret {
                        secret: n.to_owned(),
                        message:
                            "nothing to resume: no unfinished run holds it (see `rotor status`)"
                                .into(),
                    })
                }
            },
            None => self.store.open_runs()?,
        };
        if runs.is_empty() {
            return Err(RotorError::NothingToDo(
                "nothing to resume: no run is unfinished (see `rotor status`)".into(),
            ));
        }
        if !self.options.force_unlock {
            let first_alive = runs.iter().find(|r| r.alive).cloned();
            runs.retain(|r| !r.alive);
            if runs.is_empty() {
                if let Some(live) = first_alive {
                    let secret = live.secrets.first().cloned().unwrap_or_default();
                    return Err(live.busy(&secret).into());
                }
            }
        }
        let mut results = Vec::new();
        for run in runs {
            let names = run.secrets.clone();
            results.push((names, self.resume_run(run)));
        }
        Ok(Report::from_groups(results))
    }

    fn resume_run(&mut self, run: RunRecord) -> Result<Vec<Outcome>, RotorError> {
        let journal = self.store.journal_of(run.id)?;
        if journal.iter().any(|e| e.step == Step::Undo.as_str()) {
            // It stopped while being undone: finishing it means finishing the undo.
            self.claim_stale(&run)?;
            return self.undo_open_run(run);
        }
        let plans = self.store.run_plans(run.id)?;
        let mut specs: Vec<SecretSpec> = Vec::with_capacity(plans.len());
        for (name, _, digest) in &plans {
            let spec = self.inventory.secret(name).cloned().ok_or_else(|| RotorError::Secret {
                secret: name.clone(),
                message: format!(
                    "run {} holds it but it is no longer in the inventory; undo the run with `rotor rollback {name}`",
                    run.id
                ),
            })?;
            if *digest != spec_digest(&spec) {
                return Err(RotorError::Secret {
                    secret: name.clone(),
                    message: format!(
                        "its strategy, targets or hooks changed in the inventory since run {} began, so finishing it could leave the files and the store at odds; undo it with `rotor rollback {name}`, then rotate again",
                        run.id
                    ),
                });
            }
            specs.push(spec);
        }
        // Every value the run needs must open before anything is recorded.
        for (name, plan, _) in &plans {
            self.store.value(name, plan.want_current)?;
            if let Some(p) = plan.want_previous {
                self.store.value(name, p)?;
            }
        }
        let Some(hooks) = specs.first().map(|s| s.hooks.clone()) else {
            return Err(RotorError::NothingToDo(format!(
                "run {} recorded no plan; undo it with `rotor rollback {}`",
                run.id,
                run.secrets.first().cloned().unwrap_or_default()
            )));
        };
        self.claim_stale(&run)?;
        let (id, secrets) = (run.id, run.secrets.join(", "));
        self.continue_run(run, &journal, &hooks, &specs, &plans)
            .map_err(|e| self.after_start(id, &secrets, e))
    }

    /// Resumes a claimed run from the first step its journal does not show
    /// as done.
    fn continue_run(
        &mut self,
        run: RunRecord,
        journal: &[crate::store::JournalEntry],
        hooks: &crate::inventory::Hooks,
        specs: &[SecretSpec],
        plans: &[(String, crate::store::RunPlan, String)],
    ) -> Result<Vec<Outcome>, RotorError> {
        let mut done = Done::from_journal(journal);
        // Never trust that the files still hold what the journal says was
        // delivered: deliver again (idempotent) and, if that changed anything,
        // restart and verify again too.
        done.deliver = false;
        done.redeliver = true;
        let actor = self.actor.clone();
        let detail = format!(
            "resuming {} run {} after {} (restart {}, verify {})",
            run.kind.as_str(),
            run.id,
            run.step,
            if done.restart { "done" } else { "to do" },
            if done.verify { "done" } else { "to do" },
        );
        self.store.write(|st| {
            st.journal(
                run.id,
                Step::Resume.as_str(),
                Phase::Intent.as_str(),
                &detail,
                crate::store::now(),
            )?;
            for s in specs {
                st.audit(&NewEntry {
                    actor: &actor.name,
                    ticket: actor.ticket.as_deref(),
                    secret: Some(&s.name),
                    step: "resume",
                    outcome: "ok",
                    detail: &detail,
                    ..NewEntry::default()
                })?;
            }
            Ok::<_, RotorError>(())
        })?;
        let items: Vec<Item<'_>> = specs
            .iter()
            .zip(plans)
            .map(|(spec, (_, plan, _))| Item { spec, plan: *plan })
            .collect();
        self.execute(run.id, run.kind, hooks, &items, done)
    }
}
