//! Driving one unit (secrets sharing hooks) through deliver → restart →
//! verify, journaling intent and outcome of each step, and undoing delivery
//! if any of them fails.

use crate::engine::deliver::{self, FileEdits};
use crate::engine::hooks::{self, HookError};
use crate::engine::{managed_vars, Engine};
use crate::error::RotorError;
use crate::inventory::{Hooks, SecretSpec, TargetSpec};
use crate::secret::SecretValue;
use crate::store::{now, RunKind};
use crate::target::dotenv::{self, Desired};

/// What one secret's targets must hold after the unit.
pub(crate) struct Change<'a> {
    pub spec: &'a SecretSpec,
    pub current: SecretValue,
    pub previous: Option<SecretValue>,
}

impl Engine<'_> {
    fn journal(&self, run: i64, step: &str, phase: &str, detail: &str) -> Result<(), RotorError> {
        self.store.journal(run, step, phase, detail, now())?;
        Ok(())
    }

    /// Delivers, restarts and verifies. On failure, delivery is undone, the
    /// restart hook re-run if it had run, and the error says what was undone.
    pub(crate) fn drive(
        &self,
        run: i64,
        kind: RunKind,
        hooks: &Hooks,
        changes: &[Change<'_>],
    ) -> Result<(), RotorError> {
        let specs: Vec<&SecretSpec> = changes.iter().map(|c| c.spec).collect();
        let names = specs
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let values: Vec<&SecretValue> = changes
            .iter()
            .flat_map(|c| std::iter::once(&c.current).chain(c.previous.as_ref()))
            .collect();
        let dir = self.inventory.base_dir.clone();

        // deliver
        let edits = edits(changes)?;
        let files = edits
            .keys()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        self.journal(run, "deliver", "intent", &files)?;
        self.observer.begin("deliver", edits.len() as u64);
        let delivered = deliver::deliver(&self.store, run, &edits, self.options.create_missing);
        self.observer.end();
        if let Err(e) = delivered {
            self.journal(run, "deliver", "failed", &e.to_string())?;
            let notes = self.undo_delivery(run, &specs, None, &values)?;
            self.observer.note(&notes);
            return Err(e);
        }
        self.journal(run, "deliver", "done", &files)?;

        // restart
        let mut restarted = false;
        if let Some(cmd) = &hooks.restart {
            self.journal(run, "restart", "intent", &cmd.argv.join(" "))?;
            restarted = true;
            if let Err(e) = hooks::run_command(cmd, &dir, &values) {
                return self.fail_step(run, kind, "restart", e, &names, &specs, hooks, &values);
            }
            self.journal(run, "restart", "done", "")?;
        }

        // verify
        if let Some(v) = &hooks.verify {
            self.journal(run, "verify", "intent", "")?;
            if let Err(e) = hooks::run_verify(v, &dir, &values) {
                let again = restarted.then_some(hooks);
                return self.fail_step(
                    run,
                    kind,
                    "verify",
                    e,
                    &names,
                    &specs,
                    again.unwrap_or(&Hooks::default()),
                    &values,
                );
            }
            self.journal(run, "verify", "done", "")?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn fail_step(
        &self,
        run: i64,
        kind: RunKind,
        step: &'static str,
        err: HookError,
        names: &str,
        specs: &[&SecretSpec],
        hooks: &Hooks,
        values: &[&SecretValue],
    ) -> Result<(), RotorError> {
        self.journal(run, step, "failed", &err.to_string())?;
        let undo = self.undo_delivery(run, specs, hooks.restart.as_ref(), values)?;
        Err(RotorError::StepFailed {
            kind: kind.as_str(),
            secrets: names.to_owned(),
            step,
            source: Box::new(err),
            undo,
        })
    }

    /// Restores the run's files and, when consumers were restarted onto the
    /// new values, restarts them again onto the old ones.
    pub(crate) fn undo_delivery(
        &self,
        run: i64,
        specs: &[&SecretSpec],
        restart: Option<&crate::inventory::Command>,
        values: &[&SecretValue],
    ) -> Result<String, RotorError> {
        self.journal(run, "undo", "intent", "")?;
        let mut notes = deliver::restore(&self.store, run, &managed_vars(specs))?;
        if let Some(cmd) = restart {
            match hooks::run_command(cmd, &self.inventory.base_dir, values) {
                Ok(_) => notes.push("restarted consumers onto the old values".into()),
                Err(e) => notes.push(format!(
                    "restart onto the old values FAILED ({e}); restart consumers by hand"
                )),
            }
        }
        let text = if notes.is_empty() {
            "Nothing had been written.".to_owned()
        } else {
            format!("Undone: {}.", notes.join("; "))
        };
        self.journal(run, "undo", "done", &text)?;
        Ok(text)
    }
}

/// The variable assignments of every change, grouped by file.
fn edits(changes: &[Change<'_>]) -> Result<FileEdits, RotorError> {
    let mut edits = FileEdits::new();
    for c in changes {
        for t in &c.spec.targets {
            match t {
                TargetSpec::Dotenv(d) => {
                    let desired = Desired {
                        current: &c.current,
                        previous: c.previous.as_ref(),
                    };
                    let sets =
                        dotenv::assignments(d, desired).map_err(|source| RotorError::Env {
                            path: d.path.clone(),
                            source,
                        })?;
                    edits.entry(d.path.clone()).or_default().extend(sets);
                }
            }
        }
    }
    Ok(edits)
}
