//! The store's contract as traits, one per concern: versions (sealed
//! values and their stages), runs (the journal and the per-secret locks),
//! backups (the files a run may restore) and the audit trail, and
//! [`Backend`], all of them with write transactions: what the engine holds.
//! SQLite ([`Store`]) is one implementation; another (a PostgreSQL store shared
//! by several hosts) must pass the same conformance suite
//! (`rotor_testkit::store_conformance::store_suite`), and seal values on the
//! client exactly as this one does.

use std::collections::HashMap;
use std::path::Path;

use crate::audit::{ChainBreak, Entry, NewEntry, Verified};
use crate::secret::SecretValue;

use super::{
    Backup, JournalEntry, Origin, RunKind, RunPlan, RunRecord, RunState, Stage, Store, StoreError,
    VersionRecord,
};

/// Versions of secrets: values sealed at rest, numbered per secret from 1.
pub trait Versions {
    /// Stores the next version of `secret` with its value sealed.
    #[allow(clippy::too_many_arguments)] // each is one column of the row
    fn insert_version(
        &self,
        secret: &str,
        value: &SecretValue,
        principal: Option<&str>,
        stage: Stage,
        origin: Origin,
        run_id: Option<i64>,
        at: i64,
    ) -> Result<VersionRecord, StoreError>;
    /// Replaces a pending version's value and principal (a minted
    /// credential); refused for any other stage.
    fn replace_pending(
        &self,
        secret: &str,
        number: u32,
        value: &SecretValue,
        principal: Option<&str>,
    ) -> Result<VersionRecord, StoreError>;
    /// The principal and value of one version, unsealed.
    fn credential(
        &self,
        secret: &str,
        number: u32,
    ) -> Result<(Option<String>, SecretValue), StoreError>;
    /// Every version of one secret, newest first.
    fn versions(&self, secret: &str) -> Result<Vec<VersionRecord>, StoreError>;
    /// One version's metadata.
    fn version(&self, secret: &str, number: u32) -> Result<Option<VersionRecord>, StoreError>;
    /// The value of one version, unsealed.
    fn value(&self, secret: &str, number: u32) -> Result<SecretValue, StoreError> {
        Ok(self.credential(secret, number)?.1)
    }
    /// The pending, current and previous versions of every secret.
    fn live_versions(&self) -> Result<HashMap<String, Vec<VersionRecord>>, StoreError>;
    /// The pending, current and previous versions of one secret.
    fn live_versions_of(&self, secret: &str) -> Result<Vec<VersionRecord>, StoreError>;
    /// Moves a version to `stage`, setting (or clearing) its retire-after time.
    fn set_stage(
        &self,
        secret: &str,
        number: u32,
        stage: Stage,
        retire_after: Option<i64>,
    ) -> Result<(), StoreError>;
}

/// Runs: one open run per secret at a time, each with its plan and an
/// append-only journal.
pub trait Runs {
    /// Opens a run holding `secrets`; refused while another open run holds one.
    fn begin_run(
        &self,
        kind: RunKind,
        secrets: &[String],
        actor: &str,
        ticket: Option<&str>,
        at: i64,
    ) -> Result<i64, StoreError>;
    /// Records what the run does to `secret`.
    fn plan_secret(
        &self,
        run: i64,
        secret: &str,
        plan: &RunPlan,
        spec_digest: &str,
    ) -> Result<(), StoreError>;
    /// The plans of a run, by secret name.
    fn run_plans(&self, run: i64) -> Result<Vec<(String, RunPlan, String)>, StoreError>;
    /// Appends a journal line.
    fn journal(
        &self,
        run: i64,
        step: &str,
        phase: &str,
        detail: &str,
        at: i64,
    ) -> Result<(), StoreError>;
    /// A run's journal, in order.
    fn journal_of(&self, run: i64) -> Result<Vec<JournalEntry>, StoreError>;
    /// Closes a run, releasing its secrets and dropping its backups.
    fn finish_run(
        &self,
        run: i64,
        state: RunState,
        error: Option<&str>,
        at: i64,
    ) -> Result<(), StoreError>;
    /// The open run holding `secret`.
    fn open_run_for(&self, secret: &str) -> Result<Option<RunRecord>, StoreError>;
    /// Every open run.
    fn open_runs(&self) -> Result<Vec<RunRecord>, StoreError>;
    /// Whether run `id` is still open.
    fn run_is_open(&self, id: i64) -> Result<bool, StoreError>;
    /// The largest run id so far (0 when none).
    fn last_run_id(&self) -> Result<i64, StoreError>;
    /// Whether a run holding `secret` began after run `since`.
    fn run_began_since(&self, secret: &str, since: i64) -> Result<bool, StoreError>;
    /// Each secret's last run, when it failed, with its error.
    fn last_failures(&self) -> Result<HashMap<String, (RunRecord, String)>, StoreError>;
    /// Makes this process the owner of open run `run` (`--force-unlock`).
    fn take_over(&self, run: &RunRecord) -> Result<(), StoreError>;
}

/// Backups: the bytes a run found in each file before writing it.
pub trait Backups {
    /// Records a file's original bytes (sealed), unless the run has them.
    fn put_backup(&self, run: i64, path: &Path, original: Option<&[u8]>) -> Result<(), StoreError>;
    /// A run's backups, unsealed.
    fn backups(&self, run: i64) -> Result<Vec<Backup>, StoreError>;
    /// Records the hash of what the run wrote to `path`.
    fn set_backup_written(&self, run: i64, path: &Path, hash: &str) -> Result<(), StoreError>;
}

/// The audit trail: append-only, hash-chained, fingerprints only.
pub trait Audit {
    /// Appends an entry.
    fn audit(&self, e: &NewEntry<'_>) -> Result<Entry, StoreError>;
    /// Entries, oldest first (of one secret, or all).
    fn audit_entries(&self, secret: Option<&str>) -> Result<Vec<Entry>, StoreError>;
    /// Walks the whole chain.
    fn audit_verify(&self) -> Result<Result<Verified, ChainBreak>, StoreError>;
    /// The id and hash of the newest entry, checked against the one
    /// before it (every command that appends checks the head first).
    fn audit_head(&self) -> Result<(i64, String), StoreError>;
}

/// A whole store as the engine uses it: every concern, the directory its
/// locks and temp files live in, and write transactions.
pub trait Backend: Versions + Runs + Backups + Audit {
    /// The store's directory.
    fn dir(&self) -> &Path;
    /// Begins a write transaction; concurrent writers wait for it.
    fn begin_write(&self) -> Result<(), StoreError>;
    /// Commits the transaction [`Backend::begin_write`] began.
    fn commit(&self) -> Result<(), StoreError>;
    /// Rolls it back; a failure leaves the backend to roll back itself.
    fn rollback(&self);
}

impl dyn Backend + '_ {
    /// Runs `f` inside one write transaction; rolls back on error.
    pub fn write<T, E>(&self, f: impl FnOnce(&dyn Backend) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.begin_write()?;
        match f(self) {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }
}

impl Versions for Store {
    fn insert_version(
        &self,
        secret: &str,
        value: &SecretValue,
        principal: Option<&str>,
        stage: Stage,
        origin: Origin,
        run_id: Option<i64>,
        at: i64,
    ) -> Result<VersionRecord, StoreError> {
        Store::insert_version(self, secret, value, principal, stage, origin, run_id, at)
    }
    fn replace_pending(
        &self,
        secret: &str,
        number: u32,
        value: &SecretValue,
        principal: Option<&str>,
    ) -> Result<VersionRecord, StoreError> {
        Store::replace_pending(self, secret, number, value, principal)
    }
    fn credential(
        &self,
        secret: &str,
        number: u32,
    ) -> Result<(Option<String>, SecretValue), StoreError> {
        Store::credential(self, secret, number)
    }
    fn versions(&self, secret: &str) -> Result<Vec<VersionRecord>, StoreError> {
        Store::versions(self, secret)
    }
    fn version(&self, secret: &str, number: u32) -> Result<Option<VersionRecord>, StoreError> {
        Store::version(self, secret, number)
    }
    fn live_versions(&self) -> Result<HashMap<String, Vec<VersionRecord>>, StoreError> {
        Store::live_versions(self)
    }
    fn live_versions_of(&self, secret: &str) -> Result<Vec<VersionRecord>, StoreError> {
        Store::live_versions_of(self, secret)
    }
    fn set_stage(
        &self,
        secret: &str,
        number: u32,
        stage: Stage,
        retire_after: Option<i64>,
    ) -> Result<(), StoreError> {
        Store::set_stage(self, secret, number, stage, retire_after)
    }
}

impl Runs for Store {
    fn begin_run(
        &self,
        kind: RunKind,
        secrets: &[String],
        actor: &str,
        ticket: Option<&str>,
        at: i64,
    ) -> Result<i64, StoreError> {
        Store::begin_run(self, kind, secrets, actor, ticket, at)
    }
    fn plan_secret(
        &self,
        run: i64,
        secret: &str,
        plan: &RunPlan,
        spec_digest: &str,
    ) -> Result<(), StoreError> {
        Store::plan_secret(self, run, secret, plan, spec_digest)
    }
    fn run_plans(&self, run: i64) -> Result<Vec<(String, RunPlan, String)>, StoreError> {
        Store::run_plans(self, run)
    }
    fn journal(
        &self,
        run: i64,
        step: &str,
        phase: &str,
        detail: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        Store::journal(self, run, step, phase, detail, at)
    }
    fn journal_of(&self, run: i64) -> Result<Vec<JournalEntry>, StoreError> {
        Store::journal_of(self, run)
    }
    fn finish_run(
        &self,
        run: i64,
        state: RunState,
        error: Option<&str>,
        at: i64,
    ) -> Result<(), StoreError> {
        Store::finish_run(self, run, state, error, at)
    }
    fn open_run_for(&self, secret: &str) -> Result<Option<RunRecord>, StoreError> {
        Store::open_run_for(self, secret)
    }
    fn open_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        Store::open_runs(self)
    }
    fn run_is_open(&self, id: i64) -> Result<bool, StoreError> {
        Store::run_is_open(self, id)
    }
    fn last_run_id(&self) -> Result<i64, StoreError> {
        Store::last_run_id(self)
    }
    fn run_began_since(&self, secret: &str, since: i64) -> Result<bool, StoreError> {
        Store::run_began_since(self, secret, since)
    }
    fn last_failures(&self) -> Result<HashMap<String, (RunRecord, String)>, StoreError> {
        Store::last_failures(self)
    }
    fn take_over(&self, run: &RunRecord) -> Result<(), StoreError> {
        Store::take_over(self, run)
    }
}

impl Backups for Store {
    fn put_backup(&self, run: i64, path: &Path, original: Option<&[u8]>) -> Result<(), StoreError> {
        Store::put_backup(self, run, path, original)
    }
    fn backups(&self, run: i64) -> Result<Vec<Backup>, StoreError> {
        Store::backups(self, run)
    }
    fn set_backup_written(&self, run: i64, path: &Path, hash: &str) -> Result<(), StoreError> {
        Store::set_backup_written(self, run, path, hash)
    }
}

impl Audit for Store {
    fn audit(&self, e: &NewEntry<'_>) -> Result<Entry, StoreError> {
        Store::audit(self, e)
    }
    fn audit_entries(&self, secret: Option<&str>) -> Result<Vec<Entry>, StoreError> {
        Store::audit_entries(self, secret)
    }
    fn audit_verify(&self) -> Result<Result<Verified, ChainBreak>, StoreError> {
        Store::audit_verify(self)
    }
    fn audit_head(&self) -> Result<(i64, String), StoreError> {
        Store::audit_head(self)
    }
}

/// SQLite: `BEGIN IMMEDIATE` takes the database's write lock at once, so
/// concurrent rotor processes serialise on it.
impl Backend for Store {
    fn dir(&self) -> &Path {
        Store::dir(self)
    }
    fn begin_write(&self) -> Result<(), StoreError> {
        self.conn()
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.sql(e))
    }
    fn commit(&self) -> Result<(), StoreError> {
        self.conn().execute_batch("COMMIT").map_err(|e| self.sql(e))
    }
    fn rollback(&self) {
        // A failed ROLLBACK leaves SQLite to roll back on close.
        let _ = self.conn().execute_batch("ROLLBACK");
    }
}
