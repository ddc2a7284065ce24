//! `rotor status` and `rotor history`: what is current, how old, when due,
//! what overlaps, which runs are unfinished. Reads metadata only; never
//! unseals a value. `status` also removes the temp files that rotor
//! processes which died left beside the targets, and reports any it cannot.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::engine::Live;
use crate::inventory::Inventory;
use crate::store::{now, owner, Backend, RunKind, RunRecord, StoreError};
use crate::target::identity::real_path;
use crate::target::leftovers::{self, Leftover};

/// One secret's line in `rotor status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusRow {
    /// Secret name.
    pub name: String,
    /// Owner from the inventory.
    pub owner: Option<String>,
    /// What breaks or leaks if it is exposed (inventory `blast_radius`).
    pub blast_radius: Option<String>,
    /// Secrets to rotate with it in an incident (inventory `related`).
    pub related: Vec<String>,
    /// `cutover` or `overlap`.
    pub strategy: &'static str,
    /// Current version number.
    pub version: Option<u32>,
    /// `current`, `never rotated`, `running` or `interrupted`.
    pub state: String,
    /// Current fingerprint.
    pub fingerprint: Option<String>,
    /// When the current version was made (Unix seconds).
    pub created_at: Option<i64>,
    /// Its age in seconds, never negative and never wrapped: `None` when
    /// its time is after now (see `future_secs`).
    pub age_secs: Option<i64>,
    /// How far the current version's time lies after now, in seconds, when
    /// it does: this machine's clock is behind the one that made it, or the
    /// store holds a wrong time.
    pub future_secs: Option<i64>,
    /// Cadence in seconds.
    pub cadence_secs: Option<u64>,
    /// When the next rotation is due (Unix seconds); `None` without cadence.
    pub next_due: Option<i64>,
    /// Past due, or never rotated while having a cadence.
    pub overdue: bool,
    /// The previous version still live, if any.
    pub previous: Option<PreviousInfo>,
    /// An unfinished run holding this secret.
    pub open_run: Option<OpenRun>,
    /// The most recent run of this secret, when it failed (and was undone).
    pub last_failure: Option<Failure>,
    /// What `rotor verify` would report as drift (authority secrets only;
    /// filled in by the caller, which may reach the authority).
    pub drift: Option<String>,
    /// Temp files a rotor process that died left beside this secret's
    /// targets and that could not be removed (they may hold a secret).
    pub stale_temp_files: Vec<Leftover>,
}

/// A failed run: where it failed, why, and what to do.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Failure {
    /// Run id.
    pub id: i64,
    /// rotation, retirement, rollback.
    pub kind: &'static str,
    /// The step that failed.
    pub step: String,
    /// Why (redacted).
    pub error: Option<String>,
    /// When (Unix seconds).
    pub at: i64,
    /// What to do.
    pub advice: String,
}

/// A previous version inside its overlap window.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PreviousInfo {
    /// Version number.
    pub version: u32,
    /// Fingerprint.
    pub fingerprint: String,
    /// End of its window (Unix seconds).
    pub retire_after: Option<i64>,
    /// The window has ended; `rotor retire --expired` will drop it.
    pub expired: bool,
}

/// An unfinished run, with what to do about it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenRun {
    /// Run id.
    pub id: i64,
    /// rotation, retirement, rollback.
    pub kind: &'static str,
    /// Last journaled step.
    pub step: String,
    /// Its process is still working (otherwise it was interrupted).
    pub running: bool,
    /// That process.
    pub pid: Option<u32>,
    /// What to do: wait, or the command that finishes the run.
    pub advice: String,
    /// The command that undoes the run instead (when it was interrupted).
    pub undo: Option<String>,
}

/// Status of every secret in the inventory, in inventory order.
pub fn status(inv: &Inventory, store: &dyn Backend) -> Result<Vec<StatusRow>, StoreError> {
    let live_all = store.live_versions()?;
    let mut open: HashMap<String, RunRecord> = HashMap::new();
    for run in store.open_runs()? {
        for s in &run.secrets {
            open.insert(s.clone(), run.clone());
        }
    }
    let failures = store.last_failures()?;
    let files = leftovers::managed_files(inv);
    let left = leftovers::sweep(files.iter().map(std::path::PathBuf::as_path)).left;
    // Each leftover's file resolved once, not once per secret.
    let left: Vec<(PathBuf, &Leftover)> = left.iter().map(|l| (real_path(&l.beside), l)).collect();
    let t = now();
    let rows = inv
        .secrets
        .iter()
        .map(|spec| {
            let live =
                Live::from_records(live_all.get(&spec.name).map(Vec::as_slice).unwrap_or(&[]));
            let cadence = spec.cadence.map(|c| c.as_secs());
            let created = live.current.as_ref().map(|c| c.created_at);
            let next_due = match (created, cadence) {
                (Some(c), Some(cad)) => {
                    Some(c.saturating_add(i64::try_from(cad).unwrap_or(i64::MAX)))
                }
                (None, Some(_)) => Some(t),
                _ => None,
            };
            let open_run = open.get(&spec.name).map(|r| OpenRun {
                id: r.id,
                kind: r.kind.as_str(),
                step: r.step.clone(),
                running: r.alive,
                pid: owner::pid(&r.owner),
                advice: if r.alive {
                    "wait for it to finish".to_owned()
                } else {
                    format!("rotor resume {}", spec.name)
                },
                undo: (!r.alive).then(|| format!("rotor rollback {}", spec.name)),
            });
            let state = if let Some(r) = &open_run {
                if r.running { "running" } else { "interrupted" }.to_owned()
            } else if spec.strategy.is_provided() && live.previous.is_some() {
                // A manual secret's old value counts as live until a
                // person confirms the provider revoked it.
                format!(
                    "awaiting revocation of v{}: `rotor confirm {} --revoked`",
                    live.previous.as_ref().map_or(0, |p| p.number),
                    spec.name
                )
            } else if live.current.is_some() {
                "current".to_owned()
            } else {
                "never rotated".to_owned()
            };
            StatusRow {
                name: spec.name.clone(),
                owner: spec.owner.clone(),
                blast_radius: spec.blast_radius.clone(),
                related: spec.related.clone(),
                strategy: spec.strategy.kind(),
                version: live.current.as_ref().map(|c| c.number),
                state,
                fingerprint: live.current.as_ref().map(|c| c.fingerprint.to_string()),
                created_at: created,
                age_secs: created.and_then(|c| age(t, c)),
                future_secs: created.and_then(|c| age(c, t)).filter(|&f| f > 0),
                cadence_secs: cadence,
                next_due,
                overdue: next_due.is_some_and(|d| d <= t),
                previous: live.previous.as_ref().map(|p| PreviousInfo {
                    version: p.number,
                    fingerprint: p.fingerprint.to_string(),
                    retire_after: p.retire_after,
                    expired: p.retire_after.is_some_and(|a| a <= t),
                }),
                open_run,
                last_failure: failures.get(&spec.name).map(|(r, step)| Failure {
                    id: r.id,
                    kind: r.kind.as_str(),
                    step: step.clone(),
                    error: r.error.clone(),
                    at: r.updated_at,
                    advice: format!(
                        "fix the cause, then `rotor {} {}`",
                        match r.kind {
                            RunKind::Rotate => "rotate",
                            RunKind::Retire => "retire",
                            RunKind::Rollback => "rollback",
                        },
                        spec.name
                    ),
                }),
                drift: None,
                stale_temp_files: if left.is_empty() {
                    Vec::new()
                } else {
                    let mine: Vec<PathBuf> = spec
                        .targets
                        .iter()
                        .map(|t| real_path(crate::target::of(t).path()))
                        .collect();
                    left.iter()
                        .filter(|(beside, _)| mine.contains(beside))
                        .map(|(_, l)| (*l).clone())
                        .collect()
                },
            }
        })
        .collect();
    Ok(rows)
}

/// Seconds from `then` to `now`, saturating for times far apart, `None`
/// when `then` is after `now`.
pub fn age(now: i64, then: i64) -> Option<i64> {
    (then <= now).then(|| now.saturating_sub(then))
}

/// Names of secrets that are due: overdue, or never rotated with a cadence.
pub fn due(rows: &[StatusRow]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.overdue && r.open_run.is_none())
        .map(|r| r.name.clone())
        .collect()
}

/// `2026-11-25 23:59 UTC`.
pub fn fmt_time(unix: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// `3d 4h`, `5m`, `12s`: the two largest units.
pub fn fmt_age(secs: i64) -> String {
    let neg = secs < 0;
    let s = secs.unsigned_abs();
    let parts = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let mut out = Vec::new();
    let mut rest = s;
    for (unit, name) in parts {
        if rest >= unit || (unit == 1 && out.is_empty()) {
            out.push(format!("{}{name}", rest / unit));
            rest %= unit;
        }
        if out.len() == 2 {
            break;
        }
    }
    let text = out.join(" ");
    if neg {
        format!("-{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(fmt_age(0), "0s");
        assert_eq!(fmt_age(59), "59s");
        assert_eq!(fmt_age(3_661), "1h 1m");
        assert_eq!(fmt_age(90 * 86_400 + 7_200), "90d 2h");
    }

    #[test]
    fn age_of_a_future_or_extreme_timestamp_never_wraps() {
        let t = 1_800_000_000;
        assert_eq!(age(t, t - 60), Some(60));
        assert_eq!(age(t, t + 3_600), None, "a time after now has no age");
        assert_eq!(age(t, i64::MIN), Some(i64::MAX), "saturates");
        assert_eq!(age(t, i64::MAX), None);
        assert_eq!(age(i64::MAX, t), Some(i64::MAX - t));
        assert!(fmt_age(i64::MIN).starts_with("-106751991167300d"));
    }

    #[test]
    fn times() {
        assert_eq!(fmt_time(0), "1970-01-01 00:00 UTC");
    }
}
