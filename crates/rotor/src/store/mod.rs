//! The embedded store: one SQLite file in the store directory (`.rotor/`),
//! every value sealed under the master key, plus the run journal, sealed file
//! backups and the audit trail.

mod diagnose;
mod master_key;
pub mod owner;
mod runs;
mod schema;
mod seal;
mod traits;
mod versions;

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use master_key::{master_key_path, MASTER_KEY_ENV};
pub use runs::{Backup, JournalEntry, RunKind, RunPlan, RunRecord, RunState};
pub use seal::{SealError, SealKey};
pub use traits::{Audit, Backend, Backups, Runs, Versions};
pub use versions::{Origin, Stage, VersionRecord};

/// File name of the database inside the store directory.
pub const DB_FILE: &str = "rotor.db";
const CANARY_AAD: &[u8] = b"rotor:canary:v1";
const CANARY: &[u8] = b"rotor store canary";

/// Everything that can go wrong with the store. Each message names the file
/// and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No store at the expected place.
    #[error("no store at {path}; run `rotor init` first")]
    NotInitialized {
        /// Store directory.
        path: PathBuf,
    },
    /// `init` found an existing store.
    #[error("a store already exists at {path}; nothing was changed")]
    AlreadyInitialized {
        /// Store directory.
        path: PathBuf,
    },
    /// The master key file is absent.
    #[error("master key {path} not found; restore it from your backup or set {MASTER_KEY_ENV}")]
    MasterKeyMissing {
        /// Key file.
        path: PathBuf,
    },
    /// The master key file is unusable.
    #[error("master key {path} is unusable: {why}")]
    MasterKeyInvalid {
        /// Key file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The key does not open this store.
    #[error("master key {key} does not open store {db}: it is the wrong key for this store (check {MASTER_KEY_ENV})")]
    WrongMasterKey {
        /// Key file.
        key: PathBuf,
        /// Database file.
        db: PathBuf,
    },
    /// The disk (or the file system's quota) is full: nothing is damaged,
    /// the write that did not fit was rolled back.
    #[error("disk full at {path}; free space and run `rotor resume`")]
    DiskFull {
        /// Database file.
        path: PathBuf,
    },
    /// SQLite says the file is damaged.
    #[error("store {path} is damaged or truncated ({detail}); restore it from a backup")]
    Corrupt {
        /// Database file.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// The file is no SQLite database, or its header is damaged.
    #[error("the store at {path} is not a rotor database or is damaged (header: {detail}); restore {dir} from a backup")]
    NotADatabase {
        /// Database file.
        path: PathBuf,
        /// Store directory.
        dir: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// This process may not read or write the store's files.
    #[error("cannot {op} the store at {path}: {detail}")]
    Permission {
        /// Database file.
        path: PathBuf,
        /// `read` or `write`.
        op: &'static str,
        /// Which file or directory, its mode and owner, and what to do.
        detail: String,
    },
    /// The store was written by a newer rotor.
    #[error("store {path} has schema version {found}, newer than this rotor understands ({known}); upgrade rotor")]
    TooNew {
        /// Database file.
        path: PathBuf,
        /// Version found.
        found: i64,
        /// Version this build knows.
        known: i64,
    },
    /// A secret already has an unfinished run whose process is gone.
    #[error("secret \"{secret}\" has an interrupted {kind} (run {run}, last step {step}); finish it with `rotor resume {secret}` or undo it with `rotor rollback {secret}`")]
    Busy {
        /// Secret name.
        secret: String,
        /// Run id.
        run: i64,
        /// Run kind.
        kind: String,
        /// Last recorded step.
        step: String,
    },
    /// A secret is held by a run whose process is still working.
    #[error("secret \"{secret}\" is in a {kind} right now (run {run}, step {step}, rotor pid {pid}); wait for it to finish")]
    Running {
        /// Secret name.
        secret: String,
        /// Run id.
        run: i64,
        /// Run kind.
        kind: String,
        /// Last recorded step.
        step: String,
        /// The owning process.
        pid: u32,
    },
    /// A sealed record would not open.
    #[error("{what} in store {path} does not open: {source}")]
    Unseal {
        /// Which record.
        what: String,
        /// Database file.
        path: PathBuf,
        /// Why.
        source: SealError,
    },
    /// A record the caller asked for does not exist.
    #[error("{0}")]
    Missing(String),
    /// File-system error.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// Path involved.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// Other SQLite error.
    #[error("store {path}: {source}")]
    Sql {
        /// Database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The OS random source failed.
    #[error("the operating system's random source failed")]
    Random,
    /// The audit trail does not verify, so nothing is added to it.
    #[error("the audit trail in store {path} is damaged: {source}. rotor adds nothing to a damaged trail and refuses commands that would. Find out who or what changed the store (`rotor audit verify` names the first bad entry), then restore the store directory from a backup that `rotor audit verify` accepts")]
    AuditBroken {
        /// Database file.
        path: PathBuf,
        /// The first bad entry.
        source: crate::audit::ChainBreak,
    },
}

impl StoreError {
    pub(crate) fn io(path: &Path, op: &'static str, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    }
}

/// An open store.
pub struct Store {
    conn: Connection,
    key: SealKey,
    dir: PathBuf,
    db_path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("db", &self.db_path)
            .finish_non_exhaustive()
    }
}

/// What `init` created.
#[derive(Debug)]
pub struct InitOutcome {
    /// Store directory.
    pub dir: PathBuf,
    /// Database file.
    pub db: PathBuf,
    /// Master key file.
    pub key: PathBuf,
    /// Whether a new key file was written (false when an existing one from
    /// `ROTOR_MASTER_KEY_FILE` was used).
    pub key_created: bool,
}

impl Store {
    /// Whether a store exists in `dir`.
    pub fn exists(dir: &Path) -> bool {
        dir.join(DB_FILE).exists()
    }

    /// Creates the store directory (0700), the master key (0600) unless one
    /// exists at `ROTOR_MASTER_KEY_FILE`, and the database.
    pub fn init(dir: &Path) -> Result<(Store, InitOutcome), StoreError> {
        let db_path = dir.join(DB_FILE);
        if db_path.exists() {
            return Err(StoreError::AlreadyInitialized {
                path: dir.to_path_buf(),
            });
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| StoreError::io(dir, "create the store directory", e))?;
        let key_path = master_key_path(dir);
        let (key, key_created) = if key_path.exists() {
            (master_key::load(&key_path)?, false)
        } else {
            (master_key::create(&key_path)?, true)
        };
        let conn = connect(&db_path, true)?;
        let sql = |source| sql_error(&db_path, source);
        schema::migrate(&conn).map_err(sql)?;
        let canary = key
            .seal(CANARY_AAD, CANARY)
            .map_err(|_| StoreError::Random)?;
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('canary', ?1)",
            [canary],
        )
        .map_err(sql)?;
        let outcome = InitOutcome {
            dir: dir.to_path_buf(),
            db: db_path.clone(),
            key: key_path,
            key_created,
        };
        Ok((
            Store {
                conn,
                key,
                dir: dir.to_path_buf(),
                db_path,
            },
            outcome,
        ))
    }

    /// Opens an existing store, checking its integrity and the master key.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let db_path = dir.join(DB_FILE);
        if !db_path.exists() {
            return Err(StoreError::NotInitialized {
                path: dir.to_path_buf(),
            });
        }
        diagnose::check_header(&db_path)?;
        let key_path = master_key_path(dir);
        let key = master_key::load(&key_path)?;
        let conn = connect(&db_path, false)?;
        let corrupt = |e: rusqlite::Error| corrupt_error(&db_path, e);
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(corrupt)?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path: db_path,
                detail: check,
            });
        }
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(corrupt)?;
        if found < 1 {
            return Err(StoreError::NotADatabase {
                dir: dir.to_path_buf(),
                path: db_path,
                detail: "it is an SQLite file, but rotor's schema is not in it".into(),
            });
        }
        schema::migrate(&conn).map_err(corrupt)?;
        if found > schema::SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: db_path,
                found,
                known: schema::SCHEMA_VERSION,
            });
        }
        let canary: Vec<u8> = conn
            .query_row("SELECT value FROM meta WHERE key = 'canary'", [], |r| {
                r.get(0)
            })
            .map_err(corrupt)?;
        if key.open(CANARY_AAD, &canary).is_err() {
            return Err(StoreError::WrongMasterKey {
                key: key_path,
                db: db_path,
            });
        }
        Ok(Store {
            conn,
            key,
            dir: dir.to_path_buf(),
            db_path,
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn key(&self) -> &SealKey {
        &self.key
    }

    /// [`rusqlite::Connection::query_row`] through the statement cache: a
    /// command over thousands of secrets parses each statement once.
    pub(crate) fn cached_query_row<T, P, F>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.conn().prepare_cached(sql)?.query_row(params, f)
    }

    /// [`rusqlite::Connection::execute`] through the statement cache.
    pub(crate) fn cached_execute<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
    ) -> rusqlite::Result<usize> {
        self.conn().prepare_cached(sql)?.execute(params)
    }

    pub(crate) fn sql(&self, source: rusqlite::Error) -> StoreError {
        sql_error(&self.db_path, source)
    }

    /// Runs `f` inside one write transaction (`BEGIN IMMEDIATE`), so
    /// concurrent rotor processes serialise on it. Rolls back on error.
    pub fn write<T, E>(&mut self, f: impl FnOnce(&Store) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.write_shared(f)
    }

    /// [`Store::write`] from a step that holds the store shared (a run's
    /// driver recording what an authority minted).
    pub(crate) fn write_shared<T, E>(&self, f: impl FnOnce(&Store) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        use traits::Backend;
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

fn connect(db_path: &Path, create: bool) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn =
        Connection::open_with_flags(db_path, flags).map_err(|e| corrupt_error(db_path, e))?;
    conn.busy_timeout(Duration::from_secs(30))
        .and_then(|()| {
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
        })
        .map_err(|e| corrupt_error(db_path, e))?;
    // Room for every statement one rotation step uses, so a run over many
    // secrets never evicts and re-parses them.
    conn.set_prepared_statement_cache_capacity(64);
    if create {
        set_private(db_path)?;
    }
    Ok(conn)
}

/// Whether SQLite failed for want of space: `SQLITE_FULL` (a write that
/// met ENOSPC or a quota), or growing the WAL index, which fails the same
/// way on a full disk.
fn is_disk_full(e: &rusqlite::Error) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => {
            f.code == rusqlite::ErrorCode::DiskFull
                || f.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE
        }
        _ => false,
    }
}

/// A failed statement: a full disk says so, never "damaged".
fn sql_error(db_path: &Path, source: rusqlite::Error) -> StoreError {
    if is_disk_full(&source) {
        return StoreError::DiskFull {
            path: db_path.to_path_buf(),
        };
    }
    // SQLite opens a store it may not write read-only, silently (read
    // commands still work); the first write says why it cannot.
    use rusqlite::ErrorCode;
    if let Some(ErrorCode::ReadOnly | ErrorCode::NotADatabase) = source.sqlite_error_code() {
        return diagnose::open_error(db_path, source);
    }
    StoreError::Sql {
        path: db_path.to_path_buf(),
        source,
    }
}

/// A store that will not open or check: damaged, unless the disk is full.
fn corrupt_error(db_path: &Path, e: rusqlite::Error) -> StoreError {
    if is_disk_full(&e) {
        return StoreError::DiskFull {
            path: db_path.to_path_buf(),
        };
    }
    diagnose::open_error(db_path, e)
}

fn set_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(|e| StoreError::io(path, "set mode 0600 on", e))
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
