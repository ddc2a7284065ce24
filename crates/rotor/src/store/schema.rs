//! The embedded store's SQLite schema and its one-way migrations.

use rusqlite::Connection;

/// Current schema version (kept in `PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 3;

const V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
-- One row per generated or adopted value. `sealed` is AEAD under the master
-- key with the secret name and number as associated data.
CREATE TABLE versions (
    secret       TEXT    NOT NULL,
    number       INTEGER NOT NULL,
    fingerprint  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    stage        TEXT    NOT NULL,
    retire_after INTEGER,
    origin       TEXT    NOT NULL,
    run_id       INTEGER,
    sealed       BLOB    NOT NULL,
    PRIMARY KEY (secret, number)
);
CREATE INDEX versions_live ON versions(stage) WHERE stage IN ('pending', 'current', 'previous');
-- One row per rotation, retirement or rollback run.
CREATE TABLE runs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    step       TEXT    NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    ticket     TEXT,
    error      TEXT
);
-- Which secrets a run holds; `open = 1` is the per-secret lock. The plan
-- (which version numbers the targets must hold, and which the run demotes)
-- is kept so an interrupted run can be resumed.
CREATE TABLE run_secrets (
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    secret        TEXT    NOT NULL,
    open          INTEGER NOT NULL,
    want_current  INTEGER,
    want_previous INTEGER,
    old_current   INTEGER,
    old_previous  INTEGER,
    spec_digest   TEXT,
    PRIMARY KEY (run_id, secret)
);
CREATE UNIQUE INDEX one_open_run_per_secret ON run_secrets(secret) WHERE open = 1;
CREATE INDEX run_secrets_by_secret ON run_secrets(secret, run_id);
-- Write-ahead journal: intent before a step, done/failed after it.
CREATE TABLE journal (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    seq    INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    step   TEXT    NOT NULL,
    phase  TEXT    NOT NULL,
    detail TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
);
-- Sealed copies of target files taken before delivery, kept until the run ends.
CREATE TABLE backups (
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    path         TEXT    NOT NULL,
    existed      INTEGER NOT NULL,
    sealed       BLOB    NOT NULL,
    written_hash TEXT,
    PRIMARY KEY (run_id, path)
);
-- Append-only, hash-chained audit trail. Fingerprints only, never values.
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    ticket      TEXT,
    secret      TEXT,
    version     INTEGER,
    fingerprint TEXT,
    step        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
";

/// Version 2: the login a version belongs to (a database role for
/// `alternate`), for credentials that are a user and a password.
const V2: &str = "
ALTER TABLE versions ADD COLUMN principal TEXT;
";

/// Version 3: indexes for commands over many secrets with a long history:
/// one secret's live versions (checked under the run lock for each secret
/// of a run) without reading its retired ones, and runs by state (open
/// runs, failed runs for `status`) without reading every run.
const V3: &str = "
CREATE INDEX versions_by_secret_stage ON versions(secret, stage);
CREATE INDEX runs_by_state ON runs(state);
";

/// Brings a database to [`SCHEMA_VERSION`]. Returns the version found.
pub fn migrate(conn: &Connection) -> rusqlite::Result<i64> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found < 1 {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {V1} PRAGMA user_version = 1; COMMIT;"
        ))?;
    }
    if found < 2 {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {V2} PRAGMA user_version = 2; COMMIT;"
        ))?;
    }
    if found < 3 {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {V3} PRAGMA user_version = 3; COMMIT;"
        ))?;
    }
    Ok(found)
}
