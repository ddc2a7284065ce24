//! What the steps of a run work on (one [`Change`] per secret), the apply
//! step at the authorities, and undoing a delivery: restoring the files,
//! restarting consumers onto the old values, taking new credentials back
//! from their authorities.

use crate::authority::{Authority, Credential};
use crate::engine::deliver::{self, FileEdits};
use crate::engine::execute::Done;
use crate::engine::hook_env::HookEnv;
use crate::engine::hooks::{self, HookError};
use crate::engine::step::{Phase, Step};
use crate::engine::{fault, file_targets, Engine};
use crate::error::RotorError;
use crate::inventory::SecretSpec;
use crate::redact::Redactor;
use crate::secret::SecretValue;
use crate::store::{now, RunKind};
use crate::target::{self, Desired};

/// What one secret's targets must hold after the unit.
pub(crate) struct Change<'a> {
    pub spec: &'a SecretSpec,
    /// The login that goes with `current`, if the credential has one.
    pub user: Option<String>,
    pub current: SecretValue,
    pub previous: Option<SecretValue>,
    /// The credential consumers used before the run (user and value): what
    /// undo gives back to the authority.
    pub old: Option<(Option<String>, SecretValue)>,
    pub auth: Box<dyn Authority>,
    /// The version numbers of `current` and `old` (an exec plugin labels
    /// what it creates with them).
    pub versions: (u32, Option<u32>),
}

impl Change<'_> {
    /// The credential the run delivers.
    pub fn new_credential(&self) -> Credential<'_> {
        Credential::new(self.user.as_deref(), &self.current).at(Some(self.versions.0))
    }

    /// The credential consumers used before the run.
    pub fn old_credential(&self) -> Option<Credential<'_>> {
        self.old
            .as_ref()
            .map(|(u, v)| Credential::new(u.as_deref(), v).at(self.versions.1))
    }
}

impl Engine<'_> {
    pub(crate) fn journal(
        &self,
        run: i64,
        step: Step,
        phase: Phase,
        detail: &str,
    ) -> Result<(), RotorError> {
        let (step, phase) = (step.as_str(), phase.as_str());
        tracing::debug!(run, step, phase, detail, "journal");
        self.store.journal(run, step, phase, detail, now())?;
        Ok(())
    }

    /// The apply step: each authority makes its new credential acceptable
    /// (and checks it). A credential an authority minted itself replaces
    /// the generated value, in the store (sealed, audited by fingerprint)
    /// and in the change, before the step is journaled as done: a crash in
    /// between retries the step, and the authority finds what it made by
    /// the version id. On failure, what was applied is taken back.
    pub(crate) fn apply_all(
        &self,
        run: i64,
        kind: RunKind,
        changes: &mut [Change<'_>],
        done: Done,
        names: &str,
    ) -> Result<(), RotorError> {
        self.journal(run, Step::Apply, Phase::Intent, "")?;
        for i in 0..changes.len() {
            let c = &changes[i];
            let e = match c.auth.apply_minting(c.new_credential(), c.old_credential()) {
                Ok(None) => {
                    fault::point(crate::engine::step::CrashPoint::Mid(
                        crate::engine::step::Inside::Apply,
                    ));
                    continue;
                }
                Ok(Some(minted)) => match self.record_minted(&changes[i], &minted) {
                    Ok(()) => {
                        let c = &mut changes[i];
                        c.current = minted.value;
                        c.user = minted.user;
                        fault::point(crate::engine::step::CrashPoint::Mid(
                            crate::engine::step::Inside::Apply,
                        ));
                        continue;
                    }
                    // Minted but not kept: the authority must forget it.
                    Err(e) => crate::authority::AuthorityError::Permanent {
                        authority: "store",
                        message: format!("the minted credential could not be recorded: {e}"),
                    },
                },
                Err(e) => e,
            };
            self.journal(run, Step::Apply, Phase::Failed, &e.to_string())?;
            // This one changed nothing if it never got through; the ones
            // before it were applied. Resuming a run whose apply had begun,
            // any of them may hold the new credential from that attempt.
            let applied: &[Change<'_>] = if done.apply_started {
                changes
            } else if e.changed_nothing() {
                &changes[..i]
            } else {
                &changes[..=i]
            };
            let nothing = "Nothing was changed at the authority; the old credential still works.";
            let undo = if applied.is_empty() {
                nothing.to_owned()
            } else {
                match self.undo_authority(applied) {
                    Ok(text) if text.is_empty() => nothing.to_owned(),
                    Ok(text) => text,
                    Err(why) => return Err(left_open(names, "apply", &e.to_string(), &why)),
                }
            };
            return Err(RotorError::AuthorityFailed {
                kind: kind.as_str(),
                secrets: names.to_owned(),
                step: "apply",
                source: Box::new(e),
                undo,
            });
        }
        let authorities: Vec<&str> = changes.iter().map(|c| c.auth.name()).collect();
        self.journal(run, Step::Apply, Phase::Done, &authorities.join(", "))?;
        fault::point(crate::engine::step::CrashPoint::After(
            crate::engine::step::Step::Apply,
        ));
        Ok(())
    }

    /// Keeps a minted credential as the run's pending version, and audits
    /// its fingerprint.
    fn record_minted(
        &self,
        c: &Change<'_>,
        minted: &crate::authority::Minted,
    ) -> Result<(), RotorError> {
        let name = &c.spec.name;
        let number = c.versions.0;
        let actor = &self.actor;
        self.store.write(|st| {
            let rec = st.replace_pending(name, number, &minted.value, minted.user.as_deref())?;
            st.audit(&crate::audit::NewEntry {
                actor: &actor.name,
                ticket: actor.ticket.as_deref(),
                secret: Some(name),
                version: Some(number),
                fingerprint: Some(rec.fingerprint.as_str()),
                step: "rotate.mint",
                outcome: "ok",
                detail: &format!(
                    "the {} authority issued this version's credential; the generated value was never used",
                    c.auth.name()
                ),
            })?;
            Ok::<_, RotorError>(())
        })?;
        fault::point(crate::engine::step::CrashPoint::Mid(
            crate::engine::step::Inside::Mint,
        ));
        Ok(())
    }

    /// Restores the run's files and, when consumers were restarted onto the
    /// new values, restarts them again onto the old ones.
    pub(crate) fn undo_delivery(
        &self,
        run: i64,
        specs: &[&SecretSpec],
        restart: Option<&crate::inventory::Command>,
        values: &[&SecretValue],
    ) -> Result<Undo, RotorError> {
        self.journal(run, Step::Undo, Phase::Intent, "")?;
        let mut notes =
            deliver::restore(self.store.as_ref(), run, &file_targets(specs), &self.modes)?;
        if !notes.is_empty() {
            // The restored file is read again only when its consumer is told.
            for t in file_targets(specs).values().flatten() {
                let Some(r) = t.reloader() else { continue };
                match r.reload() {
                    Ok(words) => notes.push(words),
                    Err(e) => notes.push(format!(
                        "{}: the reload failed ({e}): {}",
                        t.path().display(),
                        r.by_hand()
                    )),
                }
            }
        }
        let mut restart_failed = false;
        if let Some(cmd) = restart {
            // After the restore the files hold the old values: redact those
            // as well as the run's own.
            let known = Redactor::new(&self.known_values(values));
            let retry = specs.first().map(|s| s.hooks.retry).unwrap_or_default();
            let named = specs
                .first()
                .map(|s| s.hooks.env.clone())
                .unwrap_or_default();
            let env = hook_env(&named, run, "undo", specs);
            let tried = hooks::with_retries(
                &retry,
                |_| hooks::run_command(cmd, &self.inventory.base_dir, &env, &known),
                |n, e, wait| self.note_retry(run, Step::Undo, n, e, wait),
            );
            match tried {
                Ok(_) => notes.push("restarted consumers onto the old values".into()),
                Err(e) => {
                    restart_failed = true;
                    notes.push(format!(
                        "restart onto the old values FAILED ({e}); restart consumers by hand"
                    ));
                }
            }
        }
        let text = if notes.is_empty() {
            "Nothing had been written.".to_owned()
        } else {
            format!("Undone: {}.", notes.join("; "))
        };
        self.journal(run, Step::Undo, Phase::Done, &text)?;
        Ok(Undo {
            text,
            restart_failed,
        })
    }

    /// Takes the new values back from their authorities (idempotent, so
    /// also right after a partial apply). Returns words for the operator;
    /// `Err` when an authority could not do it.
    /// Secrets without an authority (app-only: a file is all there is) say
    /// nothing.
    pub(crate) fn undo_authority(&self, changes: &[Change<'_>]) -> Result<String, String> {
        let mut failed = Vec::new();
        let mut taken_back = Vec::new();
        for c in changes {
            if let Err(e) = c.auth.undo(c.new_credential(), c.old_credential()) {
                failed.push(format!("{}: {e}", c.spec.name));
            } else if c.spec.authority.is_some() {
                taken_back.push(format!(
                    "the {} authority no longer accepts the new credential of {}",
                    c.auth.name(),
                    c.spec.name
                ));
            }
        }
        if !failed.is_empty() {
            return Err(failed.join("; "));
        }
        Ok(match taken_back.is_empty() {
            true => String::new(),
            false => format!("{}.", upper_first(&taken_back.join("; "))),
        })
    }

    /// Journals (and shows) a failed attempt that will be retried. A journal
    /// write that fails here is not worth stopping the retry for.
    pub(crate) fn note_retry(
        &self,
        run: i64,
        step: Step,
        attempt: u32,
        err: &HookError,
        wait: std::time::Duration,
    ) {
        let line = format!(
            "attempt {attempt} failed ({err}); trying again in {}",
            humantime::format_duration(wait)
        );
        let _ = self.journal(run, step, Phase::Retry, &line);
        self.observer.note(&format!("{}: {line}", step.as_str()));
    }

    /// Every value rotor could know of right now, for redacting hook output:
    /// `extra`, plus the current and previous value of every target of every
    /// secret in the inventory (other secrets' too).
    pub(crate) fn known_values(&self, extra: &[&SecretValue]) -> Vec<SecretValue> {
        let mut out: Vec<SecretValue> = extra.iter().map(|v| v.duplicate()).collect();
        let specs: Vec<&SecretSpec> = self.inventory.secrets.iter().collect();
        let files = file_targets(&specs);
        for (path, targets) in &files {
            let Ok(Some(bytes)) = deliver::read_optional(path) else {
                continue;
            };
            let file = target::FileText::new(bytes);
            for t in targets {
                out.extend(t.current_in(&file, None).ok().flatten());
                out.extend(t.previous_in(&file).ok().flatten());
            }
        }
        let targets: Vec<&dyn target::Target> = files.values().flatten().copied().collect();
        target::with_written_forms(out, &targets)
    }
}

/// The environment of a hook of run `run` at `step` (see
/// [`crate::engine::hook_env`]).
pub(crate) fn hook_env(
    named: &[String],
    run: i64,
    step: &'static str,
    specs: &[&SecretSpec],
) -> HookEnv {
    HookEnv {
        named: named.to_vec(),
        run: Some(run),
        step,
        secrets: specs.iter().map(|s| s.name.clone()).collect(),
    }
}

/// What undoing a delivery did.
pub(crate) struct Undo {
    /// Words for the operator and the journal.
    pub text: String,
    /// The restart onto the old values failed: consumers may still hold the
    /// removed value.
    pub restart_failed: bool,
}

/// Tells the consumers of these secrets' targets to read their files again
/// (PgBouncer's `RELOAD`); words for the journal, or the first failure.
pub(crate) fn reload_targets(specs: &[&SecretSpec]) -> Result<Vec<String>, RotorError> {
    let mut words = Vec::new();
    for t in file_targets(specs).values().flatten() {
        if let Some(r) = t.reloader() {
            words.push(r.reload().map_err(deliver::at(t.path()))?);
        }
    }
    Ok(words)
}

/// What every change's targets must hold, grouped by real file.
pub(crate) fn edits<'a>(changes: &'a [Change<'a>]) -> FileEdits<'a> {
    let mut edits = FileEdits::new();
    for c in changes {
        let desired = Desired {
            current: &c.current,
            previous: c.previous.as_ref(),
            user: c.user.as_deref(),
        };
        for spec in &c.spec.targets {
            let t = target::of(spec);
            edits
                .entry(deliver::real_path(t.path()))
                .or_default()
                .push((t, desired));
        }
    }
    edits
}

/// The error for a failed step whose new credential the authority could
/// not take back: nothing else is undone and the run stays open, so the
/// files keep matching what the authority accepts.
pub(crate) fn left_open(names: &str, step: &str, cause: &str, why: &str) -> RotorError {
    let first = names.split(", ").next().unwrap_or(names);
    RotorError::UndoIncomplete {
        secrets: names.to_owned(),
        left_open: true,
        detail: format!(
            "step {step} failed ({cause}), and taking the new credential back from the authority failed too ({why}). \
             Nothing else was undone and the run stays open, so the files still hold what the authority accepts. \
             Once it is reachable, run `rotor rollback {first}` to undo, or `rotor resume {first}` to finish"
        ),
    }
}

/// `text` with its first letter in upper case.
fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
