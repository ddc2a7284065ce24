//! The step driver: one loop that takes a planned run through the steps
//! [`run_steps`] lists for it (the list the crash points are made from),
//! skipping what the journal shows as done, then promotes it. A step that
//! fails before consumers verified the new values (apply, deliver,
//! restart, verify, finish) undoes what came before it and closes the run
//! as failed; retire and promote never undo a delivery consumers verified.

use crate::authority::Credential;
use crate::engine::deliver;
use crate::engine::execute::{Done, Item};
use crate::engine::hook_env::HookEnv;
use crate::engine::hooks::{self, HookError};
use crate::engine::run::{edits, hook_env, left_open, reload_targets, Change};
use crate::engine::step::{run_steps, CrashPoint, Phase, Step};
use crate::engine::{fault, Engine, Outcome};
use crate::error::{Effect, RotorError};
use crate::inventory::{Hooks, SecretSpec};
use crate::redact::Redactor;
use crate::secret::SecretValue;
use crate::store::RunKind;

/// What the steps of one run share.
struct Drive<'r> {
    run: i64,
    kind: RunKind,
    hooks: &'r Hooks,
    /// The run's secrets, for messages: `a, b`.
    names: String,
    specs: Vec<&'r SecretSpec>,
    /// What an earlier attempt completed (a resumed run).
    done: Done,
    /// Consumers may have been restarted onto the run's values.
    restarted: bool,
}

impl Engine<'_> {
    /// Runs the steps of run `run` that remain and promotes it; on a
    /// failure before consumers verified the new values, undoes delivery
    /// and records the failure.
    pub(crate) fn drive_run(
        &mut self,
        run: i64,
        kind: RunKind,
        hooks: &Hooks,
        items: &[Item<'_>],
        done: Done,
    ) -> Result<Vec<Outcome>, RotorError> {
        let mut changes = self.changes(kind, items)?;
        let demoted = self.demoted(items);
        let specs: Vec<&SecretSpec> = items.iter().map(|it| it.spec).collect();
        let mut d = Drive {
            run,
            kind,
            hooks,
            names: specs
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            specs: specs.clone(),
            done,
            restarted: done.restart,
        };
        let mut retire_pending = Vec::new();
        for step in run_steps(kind, &specs) {
            let undoing = match step {
                Step::Apply if !d.done.apply => {
                    self.apply_all(run, kind, &mut changes, d.done, &d.names)
                }
                Step::Deliver if !d.done.deliver => self.deliver_step(&mut d, &changes, &demoted),
                Step::Restart if !d.done.restart => self.restart_step(&mut d, &changes, &demoted),
                Step::Verify if !d.done.verify => self.verify_step(&d, &changes, &demoted),
                Step::Finish if !d.done.finish => self.finish_step(&d, &changes, &demoted),
                Step::Retire if kind == RunKind::Rotate => {
                    retire_pending = self.retire_old(&d, &changes)?;
                    Ok(())
                }
                Step::Retire => {
                    self.retire_previous(&d, items, &changes)?;
                    Ok(())
                }
                _ => Ok(()),
            };
            if let Err(e) = undoing {
                // An undo the authority could not finish leaves the run
                // open for `rotor rollback` or `rotor resume`.
                if !matches!(
                    e,
                    RotorError::UndoIncomplete {
                        left_open: true,
                        ..
                    }
                ) {
                    self.fail_run(run, kind, items, &e)?;
                }
                return Err(e);
            }
        }
        let notes: Vec<(String, String)> = changes
            .iter()
            .map(|c| (c.spec.name.clone(), c.auth.notes().join("; ")))
            .filter(|(_, n)| !n.is_empty())
            .collect();
        self.promote(run, kind, items, &retire_pending, &notes)
    }

    /// What each secret's targets must hold after the run, with its
    /// authority.
    fn changes<'i>(
        &self,
        kind: RunKind,
        items: &[Item<'i>],
    ) -> Result<Vec<Change<'i>>, RotorError> {
        let mut changes = Vec::with_capacity(items.len());
        for it in items {
            let name = &it.spec.name;
            let (user, current) = self.store.credential(name, it.plan.want_current)?;
            let old = match (kind, it.plan.old_current) {
                (RunKind::Rotate, Some(n)) => Some(self.store.credential(name, n)?),
                _ => None,
            };
            changes.push(Change {
                spec: it.spec,
                user,
                current,
                previous: match it.plan.want_previous {
                    Some(p) => Some(self.store.value(name, p)?),
                    None => None,
                },
                old,
                auth: self.authority(it.spec)?,
                versions: (
                    it.plan.want_current,
                    match kind {
                        RunKind::Rotate => it.plan.old_current,
                        _ => None,
                    },
                ),
            });
        }
        Ok(changes)
    }

    /// The values the run moves away from (old current and previous), so
    /// that hook output is redacted of them too.
    fn demoted(&self, items: &[Item<'_>]) -> Vec<SecretValue> {
        let mut demoted = Vec::new();
        for it in items {
            for n in [it.plan.old_current, it.plan.old_previous]
                .into_iter()
                .flatten()
            {
                if let Ok(v) = self.store.value(&it.spec.name, n) {
                    demoted.push(v);
                }
            }
        }
        demoted
    }

    /// Writes the targets, then tells consumers that read only when told
    /// (PgBouncer's RELOAD). A failure takes the new credential back from
    /// the authority and restores the files.
    fn deliver_step(
        &self,
        d: &mut Drive<'_>,
        changes: &[Change<'_>],
        demoted: &[SecretValue],
    ) -> Result<(), RotorError> {
        let run = d.run;
        let edits = edits(changes);
        let files = edits
            .keys()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        self.journal(run, Step::Deliver, Phase::Intent, &files)?;
        self.observer.begin("deliver", edits.len() as u64);
        // The run's paths are checked again right before writing: a link
        // made since the command started must not aim a write at a
        // template or the store.
        let delivered = self.check_same_files_of(&d.specs).and_then(|()| {
            deliver::deliver(
                self.store.as_ref(),
                run,
                &edits,
                &self.modes,
                self.options.create_missing,
            )
        });
        self.observer.end();
        // Consumers that read the file only when told (PgBouncer's RELOAD)
        // are told now; failing that fails the delivery.
        let mut reloaded = Vec::new();
        let delivered = delivered.and_then(|changed| {
            reloaded = reload_targets(&d.specs)?;
            Ok(changed)
        });
        if let (Ok(true), true) = (&delivered, d.done.redeliver) {
            // Resuming, and the files did not hold what was delivered:
            // consumers must be restarted and checked again.
            d.done.restart = false;
            d.done.verify = false;
            d.restarted = false;
        }
        if let Err(e) = delivered {
            self.journal(run, Step::Deliver, Phase::Failed, &e.to_string())?;
            if !self.store.run_is_open(run)? {
                return Err(e);
            }
            if d.kind == RunKind::Rotate {
                match self.undo_authority(changes) {
                    Ok(text) if text.is_empty() => {}
                    Ok(text) => self.observer.note(&text),
                    Err(why) => return Err(left_open(&d.names, "deliver", &e.to_string(), &why)),
                }
            }
            let values = redacted(changes, demoted);
            let undo = self.undo_delivery(run, &d.specs, None, &values)?;
            self.observer.note(&undo.text);
            return Err(e);
        }
        let detail = std::iter::once(files)
            .chain(reloaded)
            .collect::<Vec<_>>()
            .join("; ");
        self.journal(run, Step::Deliver, Phase::Done, &detail)?;
        fault::point(CrashPoint::After(Step::Deliver));
        Ok(())
    }

    /// The restart hook, with its retries.
    fn restart_step(
        &self,
        d: &mut Drive<'_>,
        changes: &[Change<'_>],
        demoted: &[SecretValue],
    ) -> Result<(), RotorError> {
        let Some(cmd) = &d.hooks.restart else {
            return Ok(());
        };
        d.restarted = true;
        let dir = &self.inventory.base_dir;
        // A restart that could not even start restarted nothing.
        self.hook_step(
            d,
            changes,
            demoted,
            (Step::Restart, &cmd.argv.join(" ")),
            |e| !e.is_permanent(),
            |env, known| hooks::run_command(cmd, dir, env, known),
        )
    }

    /// The verify hook, with its retries.
    fn verify_step(
        &self,
        d: &Drive<'_>,
        changes: &[Change<'_>],
        demoted: &[SecretValue],
    ) -> Result<(), RotorError> {
        let Some(v) = &d.hooks.verify else {
            return Ok(());
        };
        let dir = &self.inventory.base_dir;
        self.hook_step(
            d,
            changes,
            demoted,
            (Step::Verify, ""),
            |_| d.restarted,
            |env, known| hooks::run_verify(v, dir, env, known),
        )
    }

    /// One hook step: journaled (`detail` with its intent), retried by the
    /// hooks' retry rule, its output redacted of every value rotor knows;
    /// a failure goes to [`Engine::hook_failed`], restarting consumers onto
    /// the old values when `restart_again` says they may have moved.
    fn hook_step(
        &self,
        d: &Drive<'_>,
        changes: &[Change<'_>],
        demoted: &[SecretValue],
        (step, detail): (Step, &str),
        restart_again: impl Fn(&HookError) -> bool,
        run: impl Fn(&HookEnv, &Redactor) -> Result<hooks::HookOutput, HookError>,
    ) -> Result<(), RotorError> {
        self.journal(d.run, step, Phase::Intent, detail)?;
        let values = redacted(changes, demoted);
        let known = Redactor::new(&self.known_values(&values));
        let env = hook_env(&d.hooks.env, d.run, step.as_str(), &d.specs);
        let tried = hooks::with_retries(
            &d.hooks.retry,
            |_| run(&env, &known),
            |n, e, wait| self.note_retry(d.run, step, n, e, wait),
        );
        if let Err(e) = tried {
            let again = restart_again(&e);
            return self.hook_failed(d, changes, &values, step, e, again);
        }
        self.journal(d.run, step, Phase::Done, "")?;
        fault::point(CrashPoint::After(step));
        Ok(())
    }

    /// A failed restart or verify: the authority takes the new credential
    /// back, the files are restored and, when consumers may have been
    /// restarted onto the new values (`restart_again`), restarted onto the
    /// old ones. Always an error, saying what was undone.
    fn hook_failed(
        &self,
        d: &Drive<'_>,
        changes: &[Change<'_>],
        values: &[&SecretValue],
        step: Step,
        err: HookError,
        restart_again: bool,
    ) -> Result<(), RotorError> {
        let (run, kind, names) = (d.run, d.kind, &d.names);
        self.journal(run, step, Phase::Failed, &err.to_string())?;
        if !self.store.run_is_open(run)? {
            // Another process took the run over (--force-unlock): the
            // files are its business now.
            return Err(RotorError::Aborted {
                kind: kind.as_str(),
                run,
                secrets: names.clone(),
            });
        }
        // The authority first: if it cannot take the new credential back,
        // the files must keep the one it accepts.
        let taken_back = if kind == RunKind::Rotate {
            match self.undo_authority(changes) {
                Ok(text) => text,
                Err(why) => return Err(left_open(names, step.as_str(), &err.to_string(), &why)),
            }
        } else {
            String::new()
        };
        let again = d.hooks.restart.as_ref().filter(|_| restart_again);
        let undone = self.undo_delivery(run, &d.specs, again, values)?;
        let mut undo = undone.text;
        if !taken_back.is_empty() {
            undo.push(' ');
            undo.push_str(&taken_back);
        }
        let failed = RotorError::StepFailed {
            kind: kind.as_str(),
            secrets: names.clone(),
            step: step.as_str(),
            source: Box::new(err),
            undo,
        };
        Err(partial_if(run, names, undone.restart_failed, failed))
    }

    /// Consumers verified the new credential: an authority with a
    /// promotion of its own (a provider's promote of a secondary token)
    /// does it now, before any old credential is revoked.
    fn finish_step(
        &self,
        d: &Drive<'_>,
        changes: &[Change<'_>],
        demoted: &[SecretValue],
    ) -> Result<(), RotorError> {
        let (run, kind, names) = (d.run, d.kind, &d.names);
        self.journal(run, Step::Finish, Phase::Intent, "")?;
        for c in changes.iter().filter(|c| c.spec.finishes()) {
            let Err(e) = c.auth.finish(c.new_credential(), c.old_credential()) else {
                continue;
            };
            self.journal(run, Step::Finish, Phase::Failed, &e.to_string())?;
            let taken_back = match self.undo_authority(changes) {
                Ok(text) => text,
                Err(why) => return Err(left_open(names, "finish", &e.to_string(), &why)),
            };
            let again = d.hooks.restart.as_ref().filter(|_| d.restarted);
            let values = redacted(changes, demoted);
            let undone = self.undo_delivery(run, &d.specs, again, &values)?;
            let failed = RotorError::AuthorityFailed {
                kind: kind.as_str(),
                secrets: names.clone(),
                step: "finish",
                source: Box::new(e),
                undo: format!("{} {taken_back}", undone.text).trim().to_owned(),
            };
            return Err(partial_if(run, names, undone.restart_failed, failed));
        }
        self.journal(run, Step::Finish, Phase::Done, "")?;
        fault::point(CrashPoint::After(Step::Finish));
        Ok(())
    }

    /// A rotation's retire of old credentials at their authority
    /// (alternating logins after their sessions drain, a provider's old
    /// key). If it fails the rotation still stands: the old credential
    /// stays live as previous, due for `rotor retire`; the failures are
    /// returned for promote.
    fn retire_old(
        &self,
        d: &Drive<'_>,
        changes: &[Change<'_>],
    ) -> Result<Vec<(String, String)>, RotorError> {
        // A consumer that read the old credential just before delivery may
        // connect a moment later: the old one keeps working that long
        // (`retire_delay`; the longest of the run's secrets).
        let delay = changes
            .iter()
            .filter(|c| c.old_credential().is_some())
            .map(|c| c.spec.retire_delay())
            .max()
            .unwrap_or_default();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let mut pending = Vec::new();
        for c in changes.iter().filter(|c| c.spec.retires_old_in_run()) {
            let Some(old) = c.old_credential() else {
                continue;
            };
            self.journal(d.run, Step::Retire, Phase::Intent, &c.spec.name)?;
            match c.auth.retire(old, c.new_credential()) {
                Ok(()) => self.journal(d.run, Step::Retire, Phase::Done, &c.spec.name)?,
                Err(e) => {
                    let text = e.to_string();
                    self.journal(d.run, Step::Retire, Phase::Failed, &text)?;
                    self.observer.note(&format!(
                        "{}: the old login was not retired ({text}); it still works, and `rotor retire {}` retires it",
                        c.spec.name, c.spec.name
                    ));
                    pending.push((c.spec.name.clone(), text));
                }
            }
        }
        fault::point(CrashPoint::After(Step::Retire));
        Ok(pending)
    }

    /// A retire run's step at the authorities: consumers no longer hold
    /// the previous value, so it may stop accepting it. A failure closes
    /// the run as failed (delivery changed nothing the authority cares
    /// about).
    fn retire_previous(
        &mut self,
        d: &Drive<'_>,
        items: &[Item<'_>],
        changes: &[Change<'_>],
    ) -> Result<(), RotorError> {
        self.journal(d.run, Step::Retire, Phase::Intent, "")?;
        for (it, c) in items.iter().zip(changes) {
            let Some(op) = it.plan.old_previous else {
                continue;
            };
            let (old_user, old) = self.store.credential(&it.spec.name, op)?;
            let old = Credential::new(old_user.as_deref(), &old).at(Some(op));
            if let Err(e) = c.auth.retire(old, c.new_credential()) {
                // Only strategies whose targets hold no previous value
                // (dual-password, alternate) retire at an authority:
                // delivery changed nothing, so this is failed and undone.
                let err = RotorError::AuthorityFailed {
                    kind: d.kind.as_str(),
                    secrets: it.spec.name.clone(),
                    step: "retire",
                    source: Box::new(e),
                    undo: format!(
                        "The targets no longer hold the previous value, and the authority still accepts it; run `rotor retire {}` again once the cause is dealt with.",
                        it.spec.name
                    ),
                };
                self.fail_run(d.run, d.kind, items, &err)?;
                return Err(err);
            }
        }
        self.journal(d.run, Step::Retire, Phase::Done, "")?;
        Ok(())
    }
}

/// `failed`, or, when the restart onto the old values failed (consumers
/// may still hold the removed values), the run left partly undone.
fn partial_if(run: i64, names: &str, restart_failed: bool, failed: RotorError) -> RotorError {
    if !restart_failed {
        return failed;
    }
    RotorError::Run {
        run,
        secrets: names.to_owned(),
        effect: Effect::Partial,
        source: Box::new(failed),
    }
}

/// Every value a run's hook output must not show: what the run delivers,
/// keeps and moves away from.
fn redacted<'v>(changes: &'v [Change<'_>], demoted: &'v [SecretValue]) -> Vec<&'v SecretValue> {
    changes
        .iter()
        .flat_map(|c| {
            std::iter::once(&c.current)
                .chain(c.previous.as_ref())
                .chain(c.old.as_ref().map(|(_, v)| v))
        })
        .chain(demoted)
        .collect()
}
