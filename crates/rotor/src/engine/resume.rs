//! `rotor resume [NAME]`: finish interrupted runs from the first step their
//! journal does not show as done. The run's plan (which versions the targets
//! must hold, which the run demotes) is in the store, so resuming needs
//! nothing from the process that died.

use crate::audit::NewEntry;
use crate::engine::execute::{Done, Item};
use crate::engine::{Engine, Outcome, Report};
use crate::error::RotorError;
use crate::inventory::SecretSpec;
use crate::store::RunRecord;

impl Engine<'_> {
    /// Resumes the interrupted run holding `name`, or every interrupted run.
    pub fn resume(&mut self, name: Option<&str>) -> Result<Report, RotorError> {
        self.check_writers()?;
        let runs: Vec<RunRecord> =
            match name {
                Some(n) => {
                    if self.inventory.secret(n).is_none() {
                        return Err(RotorError::UnknownSecret(n.to_owned()));
                    }
                    match self.store.open_run_for(n)? {
                        Some(run) => vec![run],
                        None => return Err(RotorError::Secret {
                            secret: n.to_owned(),
                            message:
                                "nothing to resume: no unfinished run holds it (see `rotor status`)"
                                    .into(),
                        }),
                    }
                }
                None => self.store.open_runs()?,
            };
        if runs.is_empty() {
            return Err(RotorError::NothingToDo(
                "nothing to resume: no run is unfinished (see `rotor status`)".into(),
            ));
        }
        if !self.options.force_unlock {
            if let Some(live) = runs.iter().find(|r| r.alive) {
                let secret = live.secrets.first().cloned().unwrap_or_default();
                return Err(live.busy(&secret).into());
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
        let plans = self.store.run_plans(run.id)?;
        // Every value the run needs must open before anything is recorded.
        for (name, plan) in &plans {
            self.store.value(name, plan.want_current)?;
            if let Some(p) = plan.want_previous {
                self.store.value(name, p)?;
            }
        }
        self.claim_stale(&run)?;
        let mut specs: Vec<SecretSpec> = Vec::with_capacity(plans.len());
        for (name, _) in &plans {
            let spec = self.inventory.secret(name).cloned().ok_or_else(|| RotorError::Secret {
                secret: name.clone(),
                message: format!(
                    "run {} holds it but it is no longer in the inventory; put it back, or undo the run with `rotor rollback {name}`",
                    run.id
                ),
            })?;
            specs.push(spec);
        }
        let Some(hooks) = specs.first().map(|s| s.hooks.clone()) else {
            return Err(RotorError::NothingToDo(format!(
                "run {} recorded no plan; undo it with `rotor rollback {}`",
                run.id,
                run.secrets.first().cloned().unwrap_or_default()
            )));
        };
        let journal = self.store.journal_of(run.id)?;
        let done = Done::from_journal(&journal);
        let actor = self.actor.clone();
        let detail = format!(
            "resuming {} run {} after {} (deliver {}, restart {}, verify {})",
            run.kind.as_str(),
            run.id,
            run.step,
            if done.deliver { "done" } else { "to do" },
            if done.restart { "done" } else { "to do" },
            if done.verify { "done" } else { "to do" },
        );
        self.store.write(|st| {
            st.journal(run.id, "resume", "intent", &detail, crate::store::now())?;
            for s in &specs {
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
            .zip(&plans)
            .map(|(spec, (_, plan))| Item { spec, plan: *plan })
            .collect();
        self.execute(run.id, run.kind, &hooks, &items, done)
    }
}
