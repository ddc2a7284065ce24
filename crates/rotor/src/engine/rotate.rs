//! `rotor rotate`: for each unit of secrets, adopt values rotor has never
//! seen, check the targets still hold what the store says, generate new
//! versions (pending), drive delivery, and promote: new → current,
//! current → previous for an overlap window (or retired for cutover).

use crate::audit::NewEntry;
use crate::engine::deliver::at;
use crate::engine::execute::{Done, Item};
use crate::engine::files::Files;
use crate::engine::previous::previous_drift;
use crate::engine::step::{Phase, Step};
use crate::engine::{fault, spec_digest, units, Engine, Live, Outcome, Report};
use crate::error::RotorError;
use crate::generate;
use crate::inventory::SecretSpec;
use crate::secret::SecretValue;
use std::collections::HashMap;

use crate::store::{now, Origin, RunKind, RunPlan, Stage, StoreError, VersionRecord};
use crate::target;

/// What one secret's rotation starts from.
struct Start {
    old_current: Option<(u32, SecretValue)>,
    /// The login that goes with `old_current`, if the credential has one.
    old_user: Option<String>,
    old_previous: Option<u32>,
    adopted: bool,
    /// The store's current version that an adopted value displaces.
    displaced: Option<u32>,
    /// The store's current and previous version numbers when read, checked
    /// again under the run lock.
    seen: (Option<u32>, Option<u32>),
    /// With `--adopt`: what the targets held besides the current value that
    /// rotor did not deliver (a hand-edited previous), which this rotation
    /// overwrites. Words for the audit, fingerprints only.
    given_up: Vec<String>,
}

impl Engine<'_> {
    /// Rotates these secrets, group by group. A failed group is undone and
    /// reported in the [`Report`]; the others still run.
    pub fn rotate(&mut self, names: &[String]) -> Result<Report, RotorError> {
        self.check_writers()?;
        self.refuse_damaged_audit()?;
        let specs: Vec<SecretSpec> = self.select(names)?.into_iter().cloned().collect();
        // A person brings a manual secret's value: rotate says what to do.
        let mut results: Vec<super::GroupResult> = specs
            .iter()
            .filter(|s| s.strategy.is_provided())
            .map(|s| {
                (
                    vec![s.name.clone()],
                    Ok(vec![super::manual::instructions(s)]),
                )
            })
            .collect();
        let refs: Vec<&SecretSpec> = specs.iter().filter(|s| !s.strategy.is_provided()).collect();
        for w in super::deliver::mode_changes(&refs) {
            self.observer.note(&format!("warning: {w}"));
        }
        // Read first: a run that begins after it (another rotor process that
        // may write the targets before this one reads them) has a larger id.
        let since = self.store.last_run_id()?;
        // What the store held when this command began: a secret that moves on
        // before its group is locked was rotated by someone else meanwhile.
        let baseline = self.store.live_versions()?;
        for (hooks, unit) in units(&refs) {
            let names: Vec<String> = unit.iter().map(|s| s.name.clone()).collect();
            let result = match self.rotate_unit(&hooks, &unit, &baseline, since, None) {
                Err(e) if self.options.skip_busy && is_busy(&e) => Ok(names
                    .iter()
                    .map(|secret| Outcome {
                        secret: secret.clone(),
                        action: "skipped".into(),
                        version: None,
                        fingerprint: None,
                        detail: format!("another rotor process has it: {e}"),
                    })
                    .collect()),
                other => other,
            };
            results.push((names, result));
        }
        Ok(Report::from_groups(results))
    }

    /// What each target holds now, checked against the store's current
    /// and previous. A difference seen while another rotor process rotated
    /// the secret (a run on it began after run `since`) is that process's
    /// fresh write, not a hand edit: the secret is left to it.
    fn starting_point(
        &self,
        spec: &SecretSpec,
        live: &Live,
        since: i64,
        files: &mut Files,
    ) -> Result<Start, RotorError> {
        let refuse = |message: String| -> RotorError {
            match self.moved_since(&spec.name, since) {
                Ok(true) => match self.store.open_run_for(&spec.name) {
                    Ok(Some(run)) => run.busy(&spec.name).into(),
                    Ok(None) => RotorError::Concurrent {
                        secret: spec.name.clone(),
                    },
                    Err(e) => e.into(),
                },
                Ok(false) => RotorError::Secret {
                    secret: spec.name.clone(),
                    message,
                },
                Err(e) => e,
            }
        };
        let mut found: Option<(String, SecretValue)> = None;
        // What the targets hold besides the current value that rotor did
        // not deliver.
        let mut besides: Vec<String> = Vec::new();
        let mut found_user: Option<String> = None;
        // The login whose value a per-login target (PgBouncer's auth_file)
        // is asked for: the store's, else the one a target names.
        let login = match live.current.as_ref().and_then(|c| c.principal.clone()) {
            Some(u) => Some(u),
            None => self.login_in_targets(spec, files)?,
        };
        for ts in &spec.targets {
            let t = target::of(ts);
            // A RELOAD that cannot even be tried stops the rotation before
            // anything changes.
            if let Some(r) = t.reloader() {
                r.ready().map_err(at(t.path()))?;
            }
            let Some(file) = files.get(t.path())? else {
                if self.options.create_missing {
                    continue;
                }
                return Err(RotorError::Secret {
                    secret: spec.name.clone(),
                    message: format!(
                        "target file {} does not exist; fix the path in the inventory, create the file, or pass --create-missing",
                        t.path().display()
                    ),
                });
            };
            // A target that cannot take a new value (a connection URL with
            // no password part) stops the rotation here, before the
            // authority or any file is touched.
            t.check_render_in(file).map_err(at(t.path()))?;
            if live.current.is_none() {
                let n = t.unknown_older_in(file).map_err(at(t.path()))?;
                if n > 0 {
                    return Err(refuse(format!(
                        "{} holds {} keys; rotor would adopt the first as current and drop the other {n}, which consumers still accept. \
                         Remove the older keys once nothing signed with them is still in use, then rotate",
                        t.describe(),
                        n + 1
                    )));
                }
            } else if let Some(why) = previous_drift(spec, t, file, live).map_err(at(t.path()))? {
                besides.push(why);
            }
            let Some(v) = t.current_in(file, login.as_deref()).map_err(at(t.path()))? else {
                continue;
            };
            if found_user.is_none() {
                found_user = t.current_user_in(file).map_err(at(t.path()))?;
            }
            let place = t.describe();
            match &found {
                Some((first, fv)) if fv.fingerprint() != v.fingerprint() => {
                    return Err(refuse(format!(
                        "its targets disagree: {first} holds fingerprint {}, {place} holds {}; make them agree before rotating",
                        fv.fingerprint(),
                        v.fingerprint()
                    )));
                }
                Some(_) => {}
                None => found = Some((place, v)),
            }
        }
        let old_previous = live.previous.as_ref().map(|p| p.number);
        if let Some(prev) = &live.previous {
            if let Some(message) = spec.strategy.blocked_by_previous(
                &spec.name,
                prev.number,
                prev.principal.as_deref(),
            ) {
                return Err(RotorError::Secret {
                    secret: spec.name.clone(),
                    message,
                });
            }
        }
        let hand_edited_current = matches!(
            (&live.current, &found),
            (Some(cur), Some((_, v))) if cur.fingerprint != v.fingerprint()
        );
        // A hand-edited current is named first, below.
        if !besides.is_empty() && !self.options.adopt && !hand_edited_current {
            return Err(refuse(format!(
                "{}. The previous value is part of the overlap consumers rely on, and rotating would overwrite it. \
                 Restore it, or run `rotor rotate {} --adopt` to let this rotation overwrite it (consumers then stop accepting what is there now)",
                besides.join("; "),
                spec.name
            )));
        }
        let given_up = if self.options.adopt {
            besides
        } else {
            Vec::new()
        };
        match (&live.current, found) {
            (Some(cur), Some((place, v))) if cur.fingerprint != v.fingerprint() => {
                if !self.options.adopt {
                    return Err(refuse(format!(
                        "{place} holds a value rotor did not deliver (fingerprint {}; the store's current is version {} with fingerprint {}). \
                         Someone changed it by hand. Restore it, or run `rotor rotate {} --adopt` to treat the file's value as current",
                        v.fingerprint(), cur.number, cur.fingerprint, spec.name
                    )));
                }
                self.check_adoptable(spec, &place, &v, files)?;
                Ok(Start {
                    old_current: Some((0, v)),
                    old_user: found_user,
                    old_previous,
                    adopted: true,
                    displaced: Some(cur.number),
                    seen: live.numbers(),
                    given_up,
                })
            }
            // A version made before the secret had an authority records no
            // login: record the value again with the one the targets name.
            (Some(cur), _)
                if cur.principal.is_none() && found_user.is_some() && spec.authority.is_some() =>
            {
                Ok(Start {
                    old_current: Some((0, self.store.value(&spec.name, cur.number)?)),
                    old_user: found_user,
                    old_previous,
                    adopted: true,
                    displaced: Some(cur.number),
                    seen: live.numbers(),
                    given_up,
                })
            }
            (Some(cur), _) => Ok(Start {
                old_current: Some((cur.number, self.store.value(&spec.name, cur.number)?)),
                old_user: cur.principal.clone(),
                old_previous,
                adopted: false,
                displaced: None,
                seen: live.numbers(),
                given_up,
            }),
            (None, Some((place, v))) => {
                self.check_adoptable(spec, &place, &v, files)?;
                Ok(Start {
                    old_current: Some((0, v)),
                    old_user: found_user,
                    old_previous,
                    adopted: true,
                    displaced: None,
                    seen: live.numbers(),
                    given_up,
                })
            }
            (None, None) => Ok(Start {
                old_current: None,
                old_user: found_user,
                old_previous,
                adopted: false,
                displaced: None,
                seen: live.numbers(),
                given_up,
            }),
        }
    }

    /// Refuses, before anything is recorded, a value found in the targets
    /// that rotor could not write back (a NUL or other control character):
    /// an adopted value is delivered again, as previous or on rollback.
    fn check_adoptable(
        &self,
        spec: &SecretSpec,
        place: &str,
        value: &SecretValue,
        files: &mut Files,
    ) -> Result<(), RotorError> {
        let probe = target::preflight_probe();
        let keeps_previous = spec.strategy.keeps_previous();
        for ts in &spec.targets {
            let t = target::of(ts);
            let Some(file) = files.get(t.path())? else {
                continue;
            };
            let as_current = target::Desired {
                current: value,
                previous: None,
                user: None,
            };
            let as_previous = target::Desired {
                current: &probe,
                previous: Some(value),
                user: None,
            };
            let forms = std::iter::once(as_current).chain(keeps_previous.then_some(as_previous));
            for desired in forms {
                if let Err(e) = t.check_values_in(file, desired) {
                    return Err(RotorError::Secret {
                        secret: spec.name.clone(),
                        message: format!(
                            "{place} holds a value rotor cannot write back ({}: {e}), so it cannot be adopted; nothing was changed. \
                             Put a value without it there by hand, or restore the store's current value, then rotate",
                            t.path().display()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// The login the first target that names one holds.
    fn login_in_targets(
        &self,
        spec: &SecretSpec,
        files: &mut Files,
    ) -> Result<Option<String>, RotorError> {
        for ts in &spec.targets {
            let t = target::of(ts);
            if let Some(file) = files.get(t.path())? {
                if let Some(u) = t.current_user_in(file).map_err(at(t.path()))? {
                    return Ok(Some(u));
                }
            }
        }
        Ok(None)
    }

    pub(super) fn rotate_unit(
        &mut self,
        hooks: &crate::inventory::Hooks,
        unit: &[&SecretSpec],
        baseline: &HashMap<String, Vec<VersionRecord>>,
        since: i64,
        provided: Option<&SecretValue>,
    ) -> Result<Vec<Outcome>, RotorError> {
        // An unfinished run explains any odd target content: report it first.
        for spec in unit {
            if let Some(run) = self.store.open_run_for(&spec.name)? {
                return Err(run.busy(&spec.name).into());
            }
        }
        let live_all = self.store.live_versions()?;
        // Tests hold a process here to run another rotor between its read
        // of the store and its read of the targets.
        fault::pause("before", "read-targets");
        let mut starts = Vec::with_capacity(unit.len());
        let mut files = Files::default();
        for spec in unit {
            let live =
                Live::from_records(live_all.get(&spec.name).map(Vec::as_slice).unwrap_or(&[]));
            let mut start = self.starting_point(spec, &live, since, &mut files)?;
            start.seen =
                Live::from_records(baseline.get(&spec.name).map(Vec::as_slice).unwrap_or(&[]))
                    .numbers();
            if start.seen != live.numbers() {
                return Err(RotorError::Concurrent {
                    secret: spec.name.clone(),
                });
            }
            starts.push(start);
        }
        // Which login each new version belongs to (the idle role of an
        // alternating pair); resolving the authority also checks its admin
        // connection is configured before anything is recorded.
        let mut users = Vec::with_capacity(unit.len());
        for (spec, start) in unit.iter().zip(&starts) {
            let auth = self.authority(spec)?;
            let refuse = |message: String| RotorError::Secret {
                secret: spec.name.clone(),
                message,
            };
            users.push(
                auth.next_user(start.old_user.as_deref())
                    .map_err(|e| refuse(e.to_string()))?,
            );
            // A previous credential still live at the authority (a
            // provider's second key) is revoked by `rotor retire`, not
            // dropped from the store by a new rotation.
            if let (true, Some(prev)) = (auth.holds_previous(), start.old_previous) {
                return Err(refuse(format!(
                    "version {prev} is still live at its provider (the overlap keeps it); run `rotor retire {}` first (it revokes it there), then rotate",
                    spec.name
                )));
            }
            // A provider that limits live credentials (two access keys)
            // must have room for the new one next to those still live.
            if let Some(max) = auth.max_live().map_err(|e| refuse(e.to_string()))? {
                let live = u32::from(start.old_current.is_some())
                    + u32::from(start.old_previous.is_some());
                if live + 1 > max {
                    return Err(refuse(format!(
                        "its provider lets {max} credential(s) live at once and {live} still do; run `rotor retire {}` first (it revokes the previous one), then rotate",
                        spec.name
                    )));
                }
            }
        }
        let mut news = Vec::with_capacity(unit.len());
        self.observer.begin("generate", unit.len() as u64);
        for spec in unit {
            news.push(match provided {
                Some(v) => v.duplicate(),
                None => generate::generate(&spec.generator)?,
            });
            self.observer.advance(1);
        }
        self.observer.end();

        // plan + generate: one transaction takes the lock and stores the
        // pending versions (sealed).
        let names: Vec<String> = unit.iter().map(|s| s.name.clone()).collect();
        let actor = self.actor.clone();
        let t = now();
        let run = self.store.write(|st| {
            let run = st.begin_run(
                RunKind::Rotate,
                &names,
                &actor.name,
                actor.ticket.as_deref(),
                t,
            )?;
            // Under the lock: had another process rotated meanwhile, the
            // starting point would be stale.
            for (spec, start) in unit.iter().zip(starts.iter()) {
                if Live::from_records(&st.live_versions_of(&spec.name)?).numbers() != start.seen {
                    return Err(RotorError::Concurrent {
                        secret: spec.name.clone(),
                    });
                }
            }
            st.journal(
                run,
                Step::Plan.as_str(),
                Phase::Done.as_str(),
                &names.join(", "),
                t,
            )?;
            for (((spec, start), new), user) in
                unit.iter().zip(starts.iter_mut()).zip(&news).zip(&users)
            {
                if let Some(d) = start.displaced {
                    st.set_stage(&spec.name, d, Stage::Retired, None)?;
                }
                if !start.given_up.is_empty() {
                    st.audit(&NewEntry {
                        actor: &actor.name,
                        ticket: actor.ticket.as_deref(),
                        secret: Some(&spec.name),
                        version: None,
                        fingerprint: None,
                        step: "rotate.adopt-previous",
                        outcome: "ok",
                        detail: &format!(
                            "--adopt: overwrites what rotor did not deliver: {}",
                            start.given_up.join("; ")
                        ),
                    })?;
                }
                // Inserts a version (sealed) and audits it, fingerprint only.
                let record = |value: &SecretValue,
                              user: Option<&str>,
                              stage,
                              origin,
                              step,
                              detail: &str| {
                    let rec =
                        st.insert_version(&spec.name, value, user, stage, origin, Some(run), t)?;
                    st.audit(&NewEntry {
                        actor: &actor.name,
                        ticket: actor.ticket.as_deref(),
                        secret: Some(&spec.name),
                        version: Some(rec.number),
                        fingerprint: Some(rec.fingerprint.as_str()),
                        step,
                        outcome: "ok",
                        detail,
                    })?;
                    Ok::<_, RotorError>(rec)
                };
                if start.adopted {
                    if let Some((n, v)) = &mut start.old_current {
                        let detail = "took the value found in the targets as current";
                        let old_user = start.old_user.as_deref();
                        *n = record(
                            v,
                            old_user,
                            Stage::Current,
                            Origin::Adopted,
                            "rotate.adopt",
                            detail,
                        )?
                        .number;
                    }
                }
                let detail = match user {
                    Some(u) => format!("run {run}, strategy {}, login {u}", spec.strategy.kind()),
                    None => format!("run {run}, strategy {}", spec.strategy.kind()),
                };
                let (origin, step, detail) = match provided {
                    Some(_) => (
                        Origin::Provided,
                        "put.provided",
                        format!("{detail}; the value was brought by a person (rotor put)"),
                    ),
                    None => (Origin::Generated, "rotate.generate", detail),
                };
                let rec = record(new, user.as_deref(), Stage::Pending, origin, step, &detail)?;
                let old_current = start.old_current.as_ref().map(|(n, _)| *n);
                st.plan_secret(
                    run,
                    &spec.name,
                    &RunPlan {
                        want_current: rec.number,
                        want_previous: spec.strategy.want_previous(old_current),
                        old_current,
                        old_previous: start.old_previous,
                    },
                    &spec_digest(spec),
                )?;
            }
            st.journal(run, Step::Generate.as_str(), Phase::Done.as_str(), "", t)?;
            Ok::<_, RotorError>(run)
        })?;
        fault::point(crate::engine::step::CrashPoint::After(
            crate::engine::step::Step::Generate,
        ));
        let plans: HashMap<String, RunPlan> = self
            .store
            .run_plans(run)
            .map_err(|e| self.after_start(run, &names.join(", "), e.into()))?
            .into_iter()
            .map(|(name, plan, _)| (name, plan))
            .collect();
        let items: Vec<Item<'_>> = unit
            .iter()
            .filter_map(|spec| plans.get(&spec.name).map(|plan| Item { spec, plan: *plan }))
            .collect();
        self.execute(run, RunKind::Rotate, hooks, &items, Done::default())
    }
}

/// Errors that mean "another live rotor process has, or just had, this
/// secret". An interrupted run is not among them: it needs an operator.
fn is_busy(e: &RotorError) -> bool {
    matches!(
        e,
        RotorError::Concurrent { .. } | RotorError::Store(StoreError::Running { .. })
    )
}
