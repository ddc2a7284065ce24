//! Runs (one rotation, retirement or rollback of a group of secrets), the
//! per-secret lock they hold, their write-ahead journal, and the sealed
//! backups of the files they touch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};
use zeroize::Zeroizing;

use super::{Store, StoreError};

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Generate and deliver new versions.
    Rotate,
    /// Drop expired previous versions from targets.
    Retire,
    /// Swap current and previous back.
    Rollback,
}

impl RunKind {
    /// Stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Rotate => "rotation",
            RunKind::Retire => "retirement",
            RunKind::Rollback => "rollback",
        }
    }

    fn parse(s: &str) -> RunKind {
        match s {
            "retirement" => RunKind::Retire,
            "rollback" => RunKind::Rollback,
            _ => RunKind::Rotate,
        }
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// In progress, or interrupted.
    Open,
    /// Finished and promoted.
    Completed,
    /// Failed and undone.
    Failed,
    /// Undone by `rotor rollback`.
    RolledBack,
}

impl RunState {
    /// Stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Open => "open",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
            RunState::RolledBack => "rolled_back",
        }
    }

    fn parse(s: &str) -> RunState {
        match s {
            "open" => RunState::Open,
            "completed" => RunState::Completed,
            "rolled_back" => RunState::RolledBack,
            _ => RunState::Failed,
        }
    }
}

/// One run's row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunRecord {
    /// Run id.
    pub id: i64,
    /// What it does.
    pub kind: RunKind,
    /// Where it stands.
    pub state: RunState,
    /// Last step recorded.
    pub step: String,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Who started it.
    pub actor: String,
    /// Change ticket.
    pub ticket: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Secrets it holds.
    pub secrets: Vec<String>,
    /// The process that runs it (`pid:start-time`).
    pub owner: String,
    /// Whether that process is still alive (an open run whose owner is gone
    /// was interrupted).
    pub alive: bool,
}

impl RunRecord {
    /// The error that tells a second process this run holds `secret`.
    pub fn busy(&self, secret: &str) -> StoreError {
        match (self.alive, super::owner::pid(&self.owner)) {
            (true, Some(pid)) => StoreError::Running {
                secret: secret.to_owned(),
                run: self.id,
                kind: self.kind.as_str().into(),
                step: self.step.clone(),
                pid,
            },
            _ => StoreError::Busy {
                secret: secret.to_owned(),
                run: self.id,
                kind: self.kind.as_str().into(),
                step: self.step.clone(),
            },
        }
    }
}

/// What a run does to one secret, by version number: what its targets must
/// hold afterwards, and which versions it demotes at promote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RunPlan {
    /// The version the targets' current value must be.
    pub want_current: u32,
    /// The version kept as previous in the targets, if any.
    pub want_previous: Option<u32>,
    /// The store's current version when the run began.
    pub old_current: Option<u32>,
    /// The store's previous version when the run began.
    pub old_previous: Option<u32>,
}

/// One journal line. `detail` never holds a value.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JournalEntry {
    /// Order within the run.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// State-machine step.
    pub step: String,
    /// `intent`, `done` or `failed`.
    pub phase: String,
    /// What happened (redacted).
    pub detail: String,
}

/// A target file as it was before a run touched it.
pub struct Backup {
    /// The file.
    pub path: PathBuf,
    /// Whether it existed.
    pub existed: bool,
    /// Its bytes before the run.
    pub original: Zeroizing<Vec<u8>>,
    /// SHA-256 (hex) of the bytes the run wrote, once written.
    pub written_hash: Option<String>,
}

impl std::fmt::Debug for Backup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backup")
            .field("path", &self.path)
            .field("existed", &self.existed)
            .finish_non_exhaustive()
    }
}

fn backup_aad(run: i64, path: &Path) -> Vec<u8> {
    let mut a = format!("rotor:backup:v1\0{run}\0").into_bytes();
    a.extend_from_slice(path.as_os_str().as_encoded_bytes());
    a
}

impl Store {
    /// Opens a run holding `secrets`. Fails with [`StoreError::Busy`] if any
    /// of them is held by another open run. Call inside [`Store::write`].
    pub fn begin_run(
        &self,
        kind: RunKind,
        secrets: &[String],
        actor: &str,
        ticket: Option<&str>,
        at: i64,
    ) -> Result<i64, StoreError> {
        for s in secrets {
            if let Some(run) = self.open_run_for(s)? {
                return Err(run.busy(s));
            }
        }
        self.cached_execute(
                "INSERT INTO runs (kind, state, step, started_at, updated_at, actor, ticket, owner) VALUES (?1, 'open', 'plan', ?2, ?2, ?3, ?4, ?5)",
                params![kind.as_str(), at, actor, ticket, super::owner::this_process()],
            )
            .map_err(|e| self.sql(e))?;
        let id = self.conn().last_insert_rowid();
        let mut st = self
            .conn()
            .prepare_cached("INSERT INTO run_secrets (run_id, secret, open) VALUES (?1, ?2, 1)")
            .map_err(|e| self.sql(e))?;
        for s in secrets {
            st.execute(params![id, s]).map_err(|e| self.sql(e))?;
        }
        Ok(id)
    }

    /// Records what run `run` will do to `secret`, and a digest of the
    /// secret's inventory entry (strategy, targets, hooks) it was planned with.
    pub fn plan_secret(
        &self,
        run: i64,
        secret: &str,
        plan: &RunPlan,
        spec_digest: &str,
    ) -> Result<(), StoreError> {
        self.cached_execute(
                "UPDATE run_secrets SET want_current = ?3, want_previous = ?4, old_current = ?5, old_previous = ?6, spec_digest = ?7
                 WHERE run_id = ?1 AND secret = ?2",
                params![run, secret, plan.want_current, plan.want_previous, plan.old_current, plan.old_previous, spec_digest],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// The plan of every secret in run `run` with the digest of the
    /// inventory entry it was planned with, by secret name (in name order).
    /// A secret whose plan was never recorded is left out.
    pub fn run_plans(&self, run: i64) -> Result<Vec<(String, RunPlan, String)>, StoreError> {
        self.conn()
            .prepare_cached(
                "SELECT secret, want_current, want_previous, old_current, old_previous, COALESCE(spec_digest, '')
                 FROM run_secrets WHERE run_id = ?1 AND want_current IS NOT NULL ORDER BY secret",
            )
            .and_then(|mut st| {
                st.query_map([run], |r| {
                    Ok((
                        r.get(0)?,
                        RunPlan {
                            want_current: r.get(1)?,
                            want_previous: r.get(2)?,
                            old_current: r.get(3)?,
                            old_previous: r.get(4)?,
                        },
                        r.get(5)?,
                    ))
                })
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.sql(e))
    }

    /// Makes this process the owner of an interrupted run, unless another
    /// process took it over first (then [`StoreError::Running`]). Call inside
    /// [`Store::write`].
    pub fn take_over(&self, run: &RunRecord) -> Result<(), StoreError> {
        let n = self
            .cached_execute(
                "UPDATE runs SET owner = ?3 WHERE id = ?1 AND owner = ?2 AND state = 'open'",
                params![run.id, run.owner, super::owner::this_process()],
            )
            .map_err(|e| self.sql(e))?;
        if n == 1 {
            return Ok(());
        }
        let now = self.run(run.id)?;
        let secret = now.secrets.first().cloned().unwrap_or_default();
        Err(now.busy(&secret))
    }

    /// Appends a journal line and records `step` as the run's latest.
    pub fn journal(
        &self,
        run: i64,
        step: &str,
        phase: &str,
        detail: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.cached_execute(
                "INSERT INTO journal (run_id, seq, at, step, phase, detail)
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal WHERE run_id = ?1), ?2, ?3, ?4, ?5)",
                params![run, at, step, phase, detail],
            )
            .and_then(|_| {
                self.cached_execute(
                    "UPDATE runs SET step = ?2, updated_at = ?3 WHERE id = ?1",
                    params![run, format!("{step}:{phase}"), at],
                )
            })
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Closes a run, releasing its secrets and dropping its backups.
    pub fn finish_run(
        &self,
        run: i64,
        state: RunState,
        error: Option<&str>,
        at: i64,
    ) -> Result<(), StoreError> {
        let c = self.conn();
        c.execute(
            "UPDATE runs SET state = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
            params![run, state.as_str(), error, at],
        )
        .and_then(|_| c.execute("UPDATE run_secrets SET open = 0 WHERE run_id = ?1", [run]))
        .and_then(|_| c.execute("DELETE FROM backups WHERE run_id = ?1", [run]))
        .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// The open run holding `secret`, if any.
    pub fn open_run_for(&self, secret: &str) -> Result<Option<RunRecord>, StoreError> {
        let id: Option<i64> = self
            .cached_query_row(
                "SELECT run_id FROM run_secrets WHERE secret = ?1 AND open = 1",
                [secret],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        match id {
            Some(id) => self.run(id).map(Some),
            None => Ok(None),
        }
    }

    /// The id of the newest run, 0 before the first. Run ids only grow, so
    /// a run that begins later has a larger one: read before the versions,
    /// it marks the moment a snapshot of the store was taken.
    pub fn last_run_id(&self) -> Result<i64, StoreError> {
        self.cached_query_row("SELECT COALESCE(MAX(id), 0) FROM runs", [], |r| r.get(0))
            .map_err(|e| self.sql(e))
    }

    /// Whether a run holding `secret` began after run `since` (see
    /// [`Store::last_run_id`]): another process may have written its
    /// targets since then.
    pub fn run_began_since(&self, secret: &str, since: i64) -> Result<bool, StoreError> {
        self.cached_query_row(
            "SELECT EXISTS (SELECT 1 FROM run_secrets WHERE secret = ?1 AND run_id > ?2)",
            params![secret, since],
            |r| r.get(0),
        )
        .map_err(|e| self.sql(e))
    }

    /// Every open run.
    pub fn open_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let ids: Vec<i64> = self
            .conn()
            .prepare_cached("SELECT id FROM runs WHERE state = 'open' ORDER BY id")
            .and_then(|mut st| {
                st.query_map([], |r| r.get(0))
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.sql(e))?;
        ids.into_iter().map(|id| self.run(id)).collect()
    }

    /// One run by id.
    pub fn run(&self, id: i64) -> Result<RunRecord, StoreError> {
        let mut rec = self.cached_query_row(
                "SELECT id, kind, state, step, started_at, updated_at, actor, ticket, error, owner FROM runs WHERE id = ?1",
                [id],
                |r| {
                    let kind: String = r.get(1)?;
                    let state: String = r.get(2)?;
                    Ok(RunRecord {
                        id: r.get(0)?,
                        kind: RunKind::parse(&kind),
                        state: RunState::parse(&state),
                        step: r.get(3)?,
                        started_at: r.get(4)?,
                        updated_at: r.get(5)?,
                        actor: r.get(6)?,
                        ticket: r.get(7)?,
                        error: r.get(8)?,
                        secrets: Vec::new(),
                        owner: r.get(9)?,
                        alive: false,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .ok_or_else(|| StoreError::Missing(format!("no run {id}")))?;
        rec.secrets = self
            .conn()
            .prepare_cached("SELECT secret FROM run_secrets WHERE run_id = ?1 ORDER BY secret")
            .and_then(|mut st| {
                st.query_map([id], |r| r.get(0))
                    .and_then(|it| it.collect::<Result<Vec<String>, _>>())
            })
            .map_err(|e| self.sql(e))?;
        rec.alive = rec.state == RunState::Open
            && super::owner::is_alive(&rec.owner, rec.updated_at, super::now());
        Ok(rec)
    }

    /// Whether run `id` is still open and still this process's (not rolled
    /// back, resumed or force-unlocked meanwhile by another process). Call
    /// inside [`Store::write`] before promoting or recording a failure.
    pub fn run_is_open(&self, id: i64) -> Result<bool, StoreError> {
        let (state, owner): (String, String) = self
            .cached_query_row("SELECT state, owner FROM runs WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| self.sql(e))?;
        Ok(state == "open" && owner == super::owner::this_process())
    }

    /// For each secret whose most recent run failed: that run, and the step
    /// it failed at.
    pub fn last_failures(&self) -> Result<HashMap<String, (RunRecord, String)>, StoreError> {
        let rows: Vec<(String, i64)> = self
            .conn()
            .prepare_cached(
                // From the failed runs (index runs_by_state), each secret's
                // last run by index: never every run of every secret.
                "SELECT rs.secret, rs.run_id FROM runs r JOIN run_secrets rs ON rs.run_id = r.id
                 WHERE r.state = 'failed'
                   AND rs.run_id = (SELECT MAX(run_id) FROM run_secrets WHERE secret = rs.secret)",
            )
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.sql(e))?;
        let mut out = HashMap::new();
        for (secret, run) in rows {
            let step: Option<String> = self.cached_query_row(
                    "SELECT step FROM journal WHERE run_id = ?1 AND phase = 'failed' ORDER BY seq DESC LIMIT 1",
                    [run],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| self.sql(e))?;
            out.insert(
                secret,
                (self.run(run)?, step.unwrap_or_else(|| "unknown".into())),
            );
        }
        Ok(out)
    }

    /// A run's journal, in order.
    pub fn journal_of(&self, run: i64) -> Result<Vec<JournalEntry>, StoreError> {
        self.conn()
            .prepare_cached(
                "SELECT seq, at, step, phase, detail FROM journal WHERE run_id = ?1 ORDER BY seq",
            )
            .and_then(|mut st| {
                st.query_map([run], |r| {
                    Ok(JournalEntry {
                        seq: r.get(0)?,
                        at: r.get(1)?,
                        step: r.get(2)?,
                        phase: r.get(3)?,
                        detail: r.get(4)?,
                    })
                })
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.sql(e))
    }

    /// Records a file's original bytes, sealed, unless this run already has
    /// a backup of it (so a repeated delivery keeps the first original).
    pub fn put_backup(
        &self,
        run: i64,
        path: &Path,
        original: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let sealed = self
            .key()
            .seal(&backup_aad(run, path), original.unwrap_or_default())
            .map_err(|_| StoreError::Random)?;
        self.cached_execute(
            "INSERT OR IGNORE INTO backups (run_id, path, existed, sealed) VALUES (?1, ?2, ?3, ?4)",
            params![run, path.to_string_lossy(), original.is_some(), sealed],
        )
        .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Notes the hash of what a run wrote to `path`.
    pub fn set_backup_written(&self, run: i64, path: &Path, hash: &str) -> Result<(), StoreError> {
        self.cached_execute(
            "UPDATE backups SET written_hash = ?3 WHERE run_id = ?1 AND path = ?2",
            params![run, path.to_string_lossy(), hash],
        )
        .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// A run's backups, unsealed.
    pub fn backups(&self, run: i64) -> Result<Vec<Backup>, StoreError> {
        let rows: Vec<(String, bool, Vec<u8>, Option<String>)> = self
            .conn()
            .prepare_cached(
                "SELECT path, existed, sealed, written_hash FROM backups WHERE run_id = ?1 ORDER BY path",
            )
            .and_then(|mut st| {
                st.query_map([run], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.sql(e))?;
        rows.into_iter()
            .map(|(path, existed, sealed, written_hash)| {
                let path = PathBuf::from(path);
                let original =
                    self.key()
                        .open(&backup_aad(run, &path), &sealed)
                        .map_err(|source| StoreError::Unseal {
                            what: format!("backup of {} for run {run}", path.display()),
                            path: self.db_path().to_path_buf(),
                            source,
                        })?;
                Ok(Backup {
                    path,
                    existed,
                    original,
                    written_hash,
                })
            })
            .collect()
    }
}
