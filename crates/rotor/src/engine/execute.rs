//! Executing a planned run: the step driver ([`crate::engine::driver`])
//! takes it through its steps, starting at the first one the journal does
//! not show as done (so `rotor resume` continues an interrupted run where
//! it stopped); here are what the journal shows as done, the failure
//! bookkeeping and the promote of each run kind.

use crate::audit::NewEntry;
use crate::engine::step::{Phase, Step};
use crate::engine::{fault, Engine, Outcome};
use crate::error::{Effect, RotorError};
use crate::inventory::{Hooks, OldFate, SecretSpec, Strategy};
use crate::secret::Fingerprint;
use crate::store::{now, Backend, JournalEntry, RunKind, RunPlan, RunState, Stage, StoreError};

/// One secret of a run, and what the run does to it.
pub(crate) struct Item<'a> {
    pub spec: &'a SecretSpec,
    pub plan: RunPlan,
}

/// Steps a run has already completed, read from its journal.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Done {
    /// Resuming: deliver again, and redo restart and verify if that changed
    /// any file.
    pub redeliver: bool,
    /// An earlier attempt began `apply`: the authorities may hold the new
    /// credentials even if this attempt's apply fails before changing
    /// anything.
    pub apply_started: bool,
    pub apply: bool,
    pub deliver: bool,
    pub restart: bool,
    pub verify: bool,
    pub finish: bool,
}

impl Done {
    /// What the journal shows as done.
    pub(crate) fn from_journal(entries: &[JournalEntry]) -> Done {
        let done = |step: Step| {
            entries
                .iter()
                .any(|e| e.step == step.as_str() && e.phase == Phase::Done.as_str())
        };
        Done {
            redeliver: false,
            apply_started: entries
                .iter()
                .any(|e| e.step == Step::Apply.as_str() && e.phase == Phase::Intent.as_str()),
            apply: done(Step::Apply),
            deliver: done(Step::Deliver),
            restart: done(Step::Restart),
            verify: done(Step::Verify),
            finish: done(Step::Finish),
        }
    }

    /// Whether consumers may have been restarted onto the run's values.
    pub(crate) fn restart_started(entries: &[JournalEntry]) -> bool {
        entries
            .iter()
            .any(|e| e.step == Step::Restart.as_str() && e.phase == Phase::Intent.as_str())
    }
}

fn fingerprint_of(
    st: &dyn Backend,
    secret: &str,
    number: u32,
) -> Result<Option<Fingerprint>, StoreError> {
    Ok(st.version(secret, number)?.map(|v| v.fingerprint))
}

impl Engine<'_> {
    /// Runs the remaining steps of run `run` and promotes it; on failure,
    /// undoes delivery and records the failure. The error says what the run
    /// left behind (see [`Engine::after_start`]).
    pub(crate) fn execute(
        &mut self,
        run: i64,
        kind: RunKind,
        hooks: &Hooks,
        items: &[Item<'_>],
        done: Done,
    ) -> Result<Vec<Outcome>, RotorError> {
        let names: Vec<&str> = items.iter().map(|it| it.spec.name.as_str()).collect();
        let names = names.join(", ");
        self.drive_run(run, kind, hooks, items, done)
            .map_err(|e| self.after_start(run, &names, e))
    }

    /// An error met after run `run` began. Unless it already says what it
    /// left behind, it is wrapped to say whether the run is still open
    /// (`rotor resume` or `rotor rollback`) or was closed as failed.
    pub(crate) fn after_start(&self, run: i64, secrets: &str, e: RotorError) -> RotorError {
        if e.effect() != Effect::Nothing {
            return e;
        }
        // A store that cannot even answer leaves the run as it was: open.
        let open = self.store.run_is_open(run).unwrap_or(true);
        RotorError::Run {
            run,
            secrets: secrets.to_owned(),
            effect: if open {
                Effect::LeftOpen
            } else {
                Effect::Undone
            },
            source: Box::new(e),
        }
    }

    pub(crate) fn fail_run(
        &mut self,
        run: i64,
        kind: RunKind,
        items: &[Item<'_>],
        err: &RotorError,
    ) -> Result<(), RotorError> {
        let msg = err.to_string();
        let actor = self.actor.clone();
        self.store.write(|st| {
            if !st.run_is_open(run)? {
                return Ok(()); // a rollback in another process closed it
            }
            for it in items {
                let name = &it.spec.name;
                let (step, version) = match kind {
                    RunKind::Rotate => {
                        st.set_stage(name, it.plan.want_current, Stage::Failed, None)?;
                        ("rotate.failed", Some(it.plan.want_current))
                    }
                    RunKind::Retire => ("retire", it.plan.old_previous),
                    RunKind::Rollback => ("rollback", it.plan.old_previous),
                };
                st.audit(&NewEntry {
                    actor: &actor.name,
                    ticket: actor.ticket.as_deref(),
                    secret: Some(name),
                    version,
                    fingerprint: None,
                    step,
                    outcome: "failed",
                    detail: &msg,
                })?;
            }
            st.finish_run(run, RunState::Failed, Some(&msg), now())?;
            Ok::<_, RotorError>(())
        })
    }

    /// Moves the versions to their new stages, audits, and closes the run.
    pub(crate) fn promote(
        &mut self,
        run: i64,
        kind: RunKind,
        items: &[Item<'_>],
        retire_pending: &[(String, String)],
        notes: &[(String, String)],
    ) -> Result<Vec<Outcome>, RotorError> {
        let actor = self.actor.clone();
        let t = now();
        let names = items
            .iter()
            .map(|it| it.spec.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let outcomes = self.store.write(|st| {
            if !st.run_is_open(run)? {
                return Err(RotorError::Aborted {
                    kind: kind.as_str(),
                    run,
                    secrets: names.clone(),
                });
            }
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                let name = &it.spec.name;
                let p = it.plan;
                let (step, action, version, detail) = match kind {
                    RunKind::Rotate => {
                        let mut detail = String::new();
                        if let Some(op) = p.old_previous {
                            st.set_stage(name, op, Stage::Retired, None)?;
                            detail.push_str(&format!(
                                "version {op} retired early (rotated again within its window); "
                            ));
                        }
                        if let Some(oc) = p.old_current {
                            let why = retire_pending
                                .iter()
                                .find(|(n, _)| n == name)
                                .map(|(_, why)| why.as_str());
                            let login = |n: u32| {
                                st.version(name, n)
                                    .ok()
                                    .flatten()
                                    .and_then(|v| v.principal)
                                    .unwrap_or_default()
                            };
                            let fate = it.spec.strategy.old_fate(t, why.is_some());
                            match fate {
                                OldFate::PreviousUntil(until) => {
                                    st.set_stage(name, oc, Stage::Previous, Some(until))?
                                }
                                OldFate::Retired => st.set_stage(name, oc, Stage::Retired, None)?,
                                OldFate::AwaitingRevocation => {
                                    st.set_stage(name, oc, Stage::Previous, None)?
                                }
                            }
                            detail.push_str(&promote_words(
                                &it.spec.strategy,
                                fate,
                                name,
                                oc,
                                &login(oc),
                                &login(p.want_current),
                                why,
                            ));
                        }
                        st.set_stage(name, p.want_current, Stage::Current, None)?;
                        ("rotate.promote", "rotated", p.want_current, detail)
                    }
                    RunKind::Retire => {
                        let Some(op) = p.old_previous else {
                            continue;
                        };
                        st.set_stage(name, op, Stage::Retired, None)?;
                        (
                            "retire",
                            "retired",
                            op,
                            format!(
                                "version {op} retired; version {} is the only live value",
                                p.want_current
                            ),
                        )
                    }
                    RunKind::Rollback => {
                        // The demoted version gets a fresh window from now:
                        // what it signed meanwhile keeps verifying as promised.
                        let prev_until = st
                            .versions(name)?
                            .into_iter()
                            .find(|v| Some(v.number) == p.old_previous)
                            .and_then(|v| v.retire_after);
                        let fresh = it.spec.strategy.rollback_window_end(t);
                        let until = prev_until.map_or(fresh, |u| u.max(fresh));
                        if let Some(oc) = p.old_current {
                            st.set_stage(name, oc, Stage::Previous, Some(until))?;
                        }
                        st.set_stage(name, p.want_current, Stage::Current, None)?;
                        let demoted = p.old_current.map(|v| v.to_string()).unwrap_or_default();
                        (
                            "rollback",
                            "rolled_back",
                            p.want_current,
                            format!(
                                "version {} is current again; version {demoted} stays valid as previous until {}",
                                p.want_current,
                                super::status::fmt_time(until)
                            ),
                        )
                    }
                };
                let mut detail = detail;
                if let Some((_, n)) = notes.iter().find(|(s, _)| s == name) {
                    detail.push_str(&format!("; {n}"));
                }
                let fp = fingerprint_of(st, name, version)?;
                st.audit(&NewEntry {
                    actor: &actor.name,
                    ticket: actor.ticket.as_deref(),
                    secret: Some(name),
                    version: Some(version),
                    fingerprint: fp.as_ref().map(Fingerprint::as_str),
                    step,
                    outcome: "ok",
                    detail: &detail,
                })?;
                out.push(Outcome {
                    secret: name.clone(),
                    action: action.into(),
                    version: Some(version),
                    fingerprint: fp.map(|f| f.to_string()),
                    detail,
                });
            }
            st.journal(run, Step::Promote.as_str(), Phase::Done.as_str(), "", t)?;
            st.finish_run(run, RunState::Completed, None, t)?;
            Ok::<_, RotorError>(out)
        })?;
        fault::point(crate::engine::step::CrashPoint::After(
            crate::engine::step::Step::Promote,
        ));
        Ok(outcomes)
    }
}

/// What promote did to the demoted version `oc`, in words: `old` and `new`
/// are the logins of the old and the new version (if any), `why` the
/// failure of an in-run retire.
fn promote_words(
    strategy: &Strategy,
    fate: OldFate,
    name: &str,
    oc: u32,
    old: &str,
    new: &str,
    why: Option<&str>,
) -> String {
    let in_run = strategy.retires_in_run();
    match (fate, why) {
        (OldFate::PreviousUntil(until), None) => format!(
            "version {oc} stays valid as previous until {}",
            super::status::fmt_time(until)
        ),
        (OldFate::PreviousUntil(_), Some(why)) => match (old.is_empty(), new.is_empty()) {
            (false, false) if old != new => format!(
                "consumers log in as {new}; {old} (version {oc}) still logs in: retiring it failed ({why}); run `rotor retire {name}`"
            ),
            (_, false) => format!(
                "{new} still accepts version {oc}'s password too: removing it failed ({why}); run `rotor retire {name}`"
            ),
            _ => format!(
                "the authority still accepts version {oc}'s credential too: removing it failed ({why}); run `rotor retire {name}`"
            ),
        },
        (OldFate::Retired, _) if in_run && !old.is_empty() && old != new => format!(
            "consumers log in as {new}; version {oc} ({old}) retired at the authority"
        ),
        (OldFate::Retired, _) if in_run && !new.is_empty() => format!(
            "{new} holds only the new password; version {oc}'s password was removed at the authority"
        ),
        (OldFate::Retired, _) if in_run => format!(
            "the authority holds only the new credential; version {oc}'s was revoked there"
        ),
        (OldFate::Retired, _) => format!("version {oc} retired at once (cutover)"),
        (OldFate::AwaitingRevocation, _) => format!(
            "version {oc} counts as live until it is revoked at the provider: revoke it there, then run `rotor confirm {name} --revoked`"
        ),
    }
}
