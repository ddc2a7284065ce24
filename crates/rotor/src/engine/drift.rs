//! `rotor verify`: does the world still agree with the store? For each
//! secret: the targets hold the store's current value (and login) and, where
//! they have a place for it, its previous value or none (see `previous`), the
//! authority accepts the current credential (and the previous one while it
//! is still meant to work), and the authority reports no drift of its own
//! (an alternating pair's roles no longer alike). Changes nothing.

use crate::audit::NewEntry;
use crate::authority::{Acceptance, Credential};
use crate::engine::deliver::at;
use crate::engine::files::Files;
use crate::engine::previous::previous_drift;
use crate::engine::{Engine, Live};
use crate::error::RotorError;
use crate::inventory::SecretSpec;
use crate::target::{self, FileText, Target};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    /// Agrees with the store.
    Ok,
    /// Disagrees with the store: someone changed something behind rotor.
    Drift,
    /// Could not be checked (server down, file unreadable).
    Error,
}

/// One check of one secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// What was checked, e.g. `authority accepts current (v3, app_green)`.
    pub what: String,
    /// Its outcome.
    pub state: CheckState,
    /// Why, when not ok (never a value).
    pub detail: String,
}

/// Every check of one secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DriftReport {
    /// Secret name.
    pub secret: String,
    /// The authority's name (`none` for app-only secrets).
    pub authority: &'static str,
    /// The store's current version.
    pub version: Option<u32>,
    /// The login of the current version, if it has one.
    pub login: Option<String>,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
}

impl DriftReport {
    /// The worst outcome among the checks.
    pub fn state(&self) -> CheckState {
        if self.checks.iter().any(|c| c.state == CheckState::Drift) {
            CheckState::Drift
        } else if self.checks.iter().any(|c| c.state == CheckState::Error) {
            CheckState::Error
        } else {
            CheckState::Ok
        }
    }
}

impl Engine<'_> {
    /// Checks the named secrets (all when `names` is empty). With
    /// `authority_only`, only secrets that have an authority are checked
    /// (what `rotor status` shows).
    pub fn check_drift(
        &self,
        names: &[String],
        authority_only: bool,
    ) -> Result<Vec<DriftReport>, RotorError> {
        let specs: Vec<&SecretSpec> = if names.is_empty() {
            self.inventory.secrets.iter().collect()
        } else {
            self.select(names)?
        };
        // Read before the versions: a run that begins later (another rotor
        // process writing the targets while they are read) has a larger id.
        let since = self.store.last_run_id()?;
        let live_all = self.store.live_versions()?;
        // Tests hold a process here to rotate between its read of the store
        // and its read of the targets.
        crate::engine::fault::pause("before", "verify-targets");
        let mut out = Vec::new();
        // Each target file is read and parsed once for all its secrets.
        let mut files = Files::default();
        for spec in specs {
            if authority_only && spec.authority.is_none() {
                continue;
            }
            let live =
                Live::from_records(live_all.get(&spec.name).map(Vec::as_slice).unwrap_or(&[]));
            out.push(self.check_fresh(spec, &live, since, &mut files)?);
        }
        Ok(out)
    }

    /// [`Engine::check_one`], except that drift seen while another rotor
    /// process rotated the secret is not reported as drift: the secret is
    /// checked again against the store as it is now, and if it moved again
    /// meanwhile, reported as not checked.
    fn check_fresh(
        &self,
        spec: &SecretSpec,
        live: &Live,
        since: i64,
        files: &mut Files,
    ) -> Result<DriftReport, RotorError> {
        let report = self.check_one(spec, live, files)?;
        if report.state() != CheckState::Drift || !self.moved_since(&spec.name, since)? {
            return Ok(report);
        }
        let since = self.store.last_run_id()?;
        let live = Live::from_records(&self.store.versions(&spec.name)?);
        // Read afresh: the other process may have written them since.
        let report = self.check_one(spec, &live, &mut Files::default())?;
        if report.state() != CheckState::Drift || !self.moved_since(&spec.name, since)? {
            return Ok(report);
        }
        Ok(self.report(
            spec,
            report.version.unwrap_or(0),
            report.login,
            vec![Check {
                what: "no concurrent rotation".into(),
                state: CheckState::Error,
                detail: format!(
                    "another rotor process changed {} while its targets were read; run `rotor verify {}` again",
                    spec.name, spec.name
                ),
            }],
        ))
    }

    /// Whether another rotor process holds `secret` now, or began a run on
    /// it after run `since` ([`crate::store::Store::last_run_id`] read
    /// before the versions were): then its targets may hold that process's
    /// fresh values, and a difference from the versions read is not drift.
    pub(crate) fn moved_since(&self, secret: &str, since: i64) -> Result<bool, RotorError> {
        Ok(self.store.open_run_for(secret)?.is_some()
            || self.store.run_began_since(secret, since)?)
    }

    fn check_one(
        &self,
        spec: &SecretSpec,
        live: &Live,
        files: &mut Files,
    ) -> Result<DriftReport, RotorError> {
        let mut checks = Vec::new();
        // An unfinished run explains any difference; comparing would only
        // alarm.
        if let Some(run) = self.store.open_run_for(&spec.name)? {
            checks.push(Check {
                what: "no unfinished run".into(),
                state: CheckState::Error,
                detail: format!(
                    "run {} ({}) stopped at {}: `rotor resume {}` or `rotor rollback {}` first",
                    run.id,
                    run.kind.as_str(),
                    run.step,
                    spec.name,
                    spec.name
                ),
            });
            return Ok(self.report(
                spec,
                live.current.as_ref().map_or(0, |c| c.number),
                None,
                checks,
            ));
        }
        let Some(cur) = &live.current else {
            return Ok(DriftReport {
                secret: spec.name.clone(),
                authority: spec.authority.as_ref().map_or("none", |a| a.kind()),
                version: None,
                login: None,
                checks: vec![Check {
                    what: "store holds a current version".into(),
                    state: CheckState::Ok,
                    detail: "never rotated: nothing to compare yet".into(),
                }],
            });
        };
        let (user, value) = self.store.credential(&spec.name, cur.number)?;

        // The targets hold what rotor delivered.
        for ts in &spec.targets {
            let t = target::of(ts);
            let what = format!("{} holds v{}", t.describe(), cur.number);
            let read = match files.get(t.path()) {
                Err(e) => Err(e.to_string()),
                Ok(None) => Ok(None),
                Ok(Some(f)) => t
                    .current_in(f, user.as_deref())
                    .and_then(|v| Ok((v, t.current_user_in(f)?)))
                    .map(Some)
                    .map_err(|e| at(t.path())(e).to_string()),
            };
            let (state, detail) = match read {
                Err(e) => (CheckState::Error, e),
                Ok(None) => (CheckState::Drift, "the file does not exist".into()),
                // A file with one line per login cannot be compared when the
                // store names no login.
                Ok(Some((None, _))) if user.is_none() && t.per_login() => (
                    CheckState::Ok,
                    "not compared: the store names no login for this version".into(),
                ),
                Ok(Some((None, _))) => (CheckState::Drift, "it holds no value".into()),
                Ok(Some((Some(v), u))) => {
                    if v.fingerprint() != cur.fingerprint {
                        (
                            CheckState::Drift,
                            format!(
                                "it holds fingerprint {}, not {}: changed by hand?",
                                v.fingerprint(),
                                cur.fingerprint
                            ),
                        )
                    } else if u.is_some() && user.is_some() && u != user {
                        (
                            CheckState::Drift,
                            format!(
                                "it logs in as {}, the store says {}",
                                u.unwrap_or_default(),
                                user.clone().unwrap_or_default()
                            ),
                        )
                    } else {
                        (CheckState::Ok, String::new())
                    }
                }
            };
            checks.push(Check {
                what,
                state,
                detail,
            });
            // And what it holds besides: the previous value (or none).
            if let Ok(Some(f)) = files.get(t.path()) {
                if let Some(check) = previous_check(spec, t, f, live) {
                    checks.push(check);
                }
            }
        }

        let auth = match self.authority(spec) {
            Ok(a) => a,
            Err(e) => {
                checks.push(Check {
                    what: "authority reachable".into(),
                    state: CheckState::Error,
                    detail: e.to_string(),
                });
                return Ok(self.report(spec, cur.number, user, checks));
            }
        };
        let login = |u: &Option<String>, n: u32| match u {
            Some(u) => format!("v{n}, {u}"),
            None => format!("v{n}"),
        };
        let accepted = |cred: Credential<'_>, what: String, checks: &mut Vec<Check>| {
            let (state, detail) = match auth.verify(cred) {
                Ok(Acceptance::Accepted) => (CheckState::Ok, String::new()),
                Ok(Acceptance::Unchecked) => return,
                Ok(Acceptance::Refused) => (
                    CheckState::Drift,
                    "the authority refuses it: it was changed behind rotor's back (rotate to take control again)".into(),
                ),
                Err(e) => (CheckState::Error, e.to_string()),
            };
            checks.push(Check {
                what,
                state,
                detail,
            });
        };
        accepted(
            Credential::new(user.as_deref(), &value).at(Some(cur.number)),
            format!(
                "{} accepts current ({})",
                auth.name(),
                login(&user, cur.number)
            ),
            &mut checks,
        );
        let previous = match &live.previous {
            Some(prev) => Some((prev.number, self.store.credential(&spec.name, prev.number)?)),
            None => None,
        };
        if let Some((number, (pu, pv))) = &previous {
            let prev_number = *number;
            accepted(
                Credential::new(pu.as_deref(), pv).at(Some(prev_number)),
                format!(
                    "{} accepts previous ({})",
                    auth.name(),
                    login(pu, prev_number)
                ),
                &mut checks,
            );
        }
        let previous = previous
            .as_ref()
            .map(|(n, (pu, pv))| Credential::new(pu.as_deref(), pv).at(Some(*n)));
        match auth.drift(
            Credential::new(user.as_deref(), &value).at(Some(cur.number)),
            previous,
        ) {
            Ok(found) => {
                for d in found {
                    checks.push(Check {
                        what: format!("{} configuration", auth.name()),
                        state: CheckState::Drift,
                        detail: d,
                    });
                }
            }
            Err(e) => checks.push(Check {
                what: format!("{} configuration", auth.name()),
                state: CheckState::Error,
                detail: e.to_string(),
            }),
        }
        Ok(self.report(spec, cur.number, user, checks))
    }

    /// Audits every secret found drifted (which checks, never a value).
    pub fn audit_drift(&mut self, reports: &[DriftReport]) -> Result<(), RotorError> {
        let drifted: Vec<&DriftReport> = reports
            .iter()
            .filter(|r| r.state() == CheckState::Drift)
            .collect();
        if drifted.is_empty() {
            return Ok(());
        }
        let actor = self.actor.clone();
        self.store.write(|st| {
            for r in &drifted {
                let detail = r
                    .checks
                    .iter()
                    .filter(|c| c.state == CheckState::Drift)
                    .map(|c| format!("{}: {}", c.what, c.detail))
                    .collect::<Vec<_>>()
                    .join("; ");
                st.audit(&NewEntry {
                    actor: &actor.name,
                    ticket: actor.ticket.as_deref(),
                    secret: Some(&r.secret),
                    version: r.version,
                    fingerprint: None,
                    step: "verify",
                    outcome: "drift",
                    detail: &detail,
                })?;
            }
            Ok(())
        })
    }

    fn report(
        &self,
        spec: &SecretSpec,
        version: u32,
        login: Option<String>,
        checks: Vec<Check>,
    ) -> DriftReport {
        DriftReport {
            secret: spec.name.clone(),
            authority: spec.authority.as_ref().map_or("none", |a| a.kind()),
            version: Some(version),
            login,
            checks,
        }
    }
}

/// The check of what `t`'s file holds besides the current value, when the
/// target has such a place (see [`previous_drift`]).
fn previous_check(
    spec: &SecretSpec,
    t: &dyn Target,
    file: &FileText,
    live: &Live,
) -> Option<Check> {
    let current_login = live.current.as_ref().and_then(|c| c.principal.as_deref());
    let old_login = live
        .previous
        .as_ref()
        .and_then(|p| p.principal.as_deref())
        .filter(|l| Some(*l) != current_login);
    let per_login = t.per_login() && old_login.is_some();
    let extra = t.beyond_previous_in(file).map_or(true, |n| n > 0);
    if !(t.holds_previous() || per_login || extra) {
        return None;
    }
    let place = t.describe_previous();
    let overlap = spec.strategy.keeps_previous();
    let what = match &live.previous {
        Some(p) if overlap || per_login => format!("{place} holds previous v{}", p.number),
        Some(p) => format!("{place} holds previous v{} or nothing", p.number),
        None => format!("{place} holds no previous value"),
    };
    let (state, detail) = match previous_drift(spec, t, file, live) {
        Ok(None) => (CheckState::Ok, String::new()),
        Ok(Some(why)) => (CheckState::Drift, why),
        Err(e) => (CheckState::Error, at(t.path())(e).to_string()),
    };
    Some(Check {
        what,
        state,
        detail,
    })
}
