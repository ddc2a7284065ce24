//! Versions of each secret: number, fingerprint, stage and the sealed value.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Row};

use super::{Store, StoreError};
use crate::secret::{Fingerprint, SecretValue};

/// Life stage of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Generated, being delivered; not yet trusted.
    Pending,
    /// What consumers sign and connect with.
    Current,
    /// Still accepted during an overlap window.
    Previous,
    /// No longer delivered anywhere.
    Retired,
    /// A pending version whose rotation failed and was undone.
    Failed,
}

impl Stage {
    /// Name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Pending => "pending",
            Stage::Current => "current",
            Stage::Previous => "previous",
            Stage::Retired => "retired",
            Stage::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Stage {
        match s {
            "pending" => Stage::Pending,
            "current" => Stage::Current,
            "previous" => Stage::Previous,
            "retired" => Stage::Retired,
            _ => Stage::Failed,
        }
    }
}

/// Where a version came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Made by a generator.
    Generated,
    /// Found in a target when rotor first managed the secret.
    Adopted,
    /// Brought by a person (`rotor put`, strategy manual).
    Provided,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Generated => "generated",
            Origin::Adopted => "adopted",
            Origin::Provided => "provided",
        }
    }
}

/// One version's metadata (never its value).
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionRecord {
    /// Secret name.
    pub secret: String,
    /// 1, 2, 3…
    pub number: u32,
    /// Public name of the value.
    pub fingerprint: Fingerprint,
    /// Unix seconds.
    pub created_at: i64,
    /// Life stage.
    pub stage: Stage,
    /// For `previous`: when it may be retired (Unix seconds).
    pub retire_after: Option<i64>,
    /// Generated or adopted.
    pub origin: Origin,
    /// The run that made it.
    pub run_id: Option<i64>,
    /// The login it belongs to (a database role), when the credential is a
    /// user and a password; `None` for a bare secret.
    pub principal: Option<String>,
}

const COLUMNS: &str =
    "secret, number, fingerprint, created_at, stage, retire_after, origin, run_id, principal";

fn record(r: &Row<'_>) -> rusqlite::Result<VersionRecord> {
    let stage: String = r.get(4)?;
    let origin: String = r.get(6)?;
    Ok(VersionRecord {
        secret: r.get(0)?,
        number: r.get(1)?,
        fingerprint: Fingerprint::from_stored(r.get(2)?),
        created_at: unix_time(r, 3)?.unwrap_or(0),
        stage: Stage::parse(&stage),
        retire_after: unix_time(r, 5)?,
        origin: match origin.as_str() {
            "adopted" => Origin::Adopted,
            "provided" => Origin::Provided,
            _ => Origin::Generated,
        },
        run_id: r.get(7)?,
        principal: r.get(8)?,
    })
}

/// A Unix time column. SQLite keeps an integer literal beyond 64 bits as
/// a float: such a time is taken as the nearest 64-bit one (saturating),
/// rather than failing every command that reads the row.
fn unix_time(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    use rusqlite::types::ValueRef;
    match r.get_ref(i)? {
        // `as` saturates (and maps NaN to 0).
        ValueRef::Real(f) => Ok(Some(f as i64)),
        _ => r.get(i),
    }
}

/// What a sealed value is bound to: its secret, number and (when it has one)
/// principal, so a row moved to another secret, version or role no longer
/// opens.
fn aad(secret: &str, number: u32, principal: Option<&str>) -> Vec<u8> {
    match principal {
        None => format!("rotor:value:v1\0{secret}\0{number}").into_bytes(),
        Some(p) => format!("rotor:value:v2\0{secret}\0{number}\0{p}").into_bytes(),
    }
}

impl Store {
    /// Stores a new version (next number) with its value sealed.
    #[allow(clippy::too_many_arguments)] // each is one column of the row
    pub fn insert_version(
        &self,
        secret: &str,
        value: &SecretValue,
        principal: Option<&str>,
        stage: Stage,
        origin: Origin,
        run_id: Option<i64>,
        at: i64,
    ) -> Result<VersionRecord, StoreError> {
        let number: u32 = self
            .cached_query_row(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM versions WHERE secret = ?1",
                [secret],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))?;
        let sealed = self
            .key()
            .seal(&aad(secret, number, principal), value.expose().as_bytes())
            .map_err(|_| StoreError::Random)?;
        let rec = VersionRecord {
            secret: secret.to_owned(),
            number,
            fingerprint: value.fingerprint(),
            created_at: at,
            stage,
            retire_after: None,
            origin,
            run_id,
            principal: principal.map(str::to_owned),
        };
        self.cached_execute(
                "INSERT INTO versions (secret, number, fingerprint, created_at, stage, retire_after, origin, run_id, sealed, principal)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9)",
                params![secret, number, rec.fingerprint.as_str(), at, stage.as_str(), origin.as_str(), run_id, sealed, principal],
            )
            .map_err(|e| self.sql(e))?;
        Ok(rec)
    }

    /// Replaces the value (and principal) of a pending version with the
    /// credential its authority minted; refused for any other stage.
    pub fn replace_pending(
        &self,
        secret: &str,
        number: u32,
        value: &SecretValue,
        principal: Option<&str>,
    ) -> Result<VersionRecord, StoreError> {
        let sealed = self
            .key()
            .seal(&aad(secret, number, principal), value.expose().as_bytes())
            .map_err(|_| StoreError::Random)?;
        let fingerprint = value.fingerprint();
        let n = self
            .cached_execute(
                "UPDATE versions SET sealed = ?1, fingerprint = ?2, principal = ?3
                 WHERE secret = ?4 AND number = ?5 AND stage = 'pending'",
                params![sealed, fingerprint.as_str(), principal, secret, number],
            )
            .map_err(|e| self.sql(e))?;
        if n != 1 {
            return Err(StoreError::Missing(format!(
                "secret \"{secret}\" has no pending version {number} to record a minted credential in"
            )));
        }
        self.version(secret, number)?.ok_or_else(|| {
            StoreError::Missing(format!("secret \"{secret}\" has no version {number}"))
        })
    }

    /// The value of one version, unsealed.
    pub fn value(&self, secret: &str, number: u32) -> Result<SecretValue, StoreError> {
        Ok(self.credential(secret, number)?.1)
    }

    /// The principal and value of one version, unsealed.
    pub fn credential(
        &self,
        secret: &str,
        number: u32,
    ) -> Result<(Option<String>, SecretValue), StoreError> {
        let (sealed, principal): (Vec<u8>, Option<String>) = self
            .cached_query_row(
                "SELECT sealed, principal FROM versions WHERE secret = ?1 AND number = ?2",
                params![secret, number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .ok_or_else(|| {
                StoreError::Missing(format!("secret \"{secret}\" has no version {number}"))
            })?;
        let what = || format!("version {number} of secret \"{secret}\"");
        let plain = self
            .key()
            .open(&aad(secret, number, principal.as_deref()), &sealed)
            .map_err(|source| StoreError::Unseal {
                what: what(),
                path: self.db_path().to_path_buf(),
                source,
            })?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| StoreError::Unseal {
            what: what(),
            path: self.db_path().to_path_buf(),
            source: SealError::Malformed("not UTF-8"),
        })?;
        Ok((principal, SecretValue::new(text)))
    }

    /// Every version of one secret, newest first.
    pub fn versions(&self, secret: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM versions WHERE secret = ?1 ORDER BY number DESC"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([secret], record)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.sql(e))?;
        Ok(rows)
    }

    /// The pending, current and previous versions of one secret, newest
    /// first (its retired and failed ones are not read).
    pub fn live_versions_of(&self, secret: &str) -> Result<Vec<VersionRecord>, StoreError> {
        self.conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM versions WHERE secret = ?1 AND stage IN ('pending', 'current', 'previous') ORDER BY number DESC"
            ))
            .and_then(|mut st| {
                st.query_map([secret], record)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.sql(e))
    }

    /// One version's metadata, by its primary key.
    pub fn version(&self, secret: &str, number: u32) -> Result<Option<VersionRecord>, StoreError> {
        self.conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM versions WHERE secret = ?1 AND number = ?2"
            ))
            .and_then(|mut st| st.query_row(params![secret, number], record).optional())
            .map_err(|e| self.sql(e))
    }

    /// The pending, current and previous versions of every secret, in one query.
    pub fn live_versions(&self) -> Result<HashMap<String, Vec<VersionRecord>>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM versions WHERE stage IN ('pending', 'current', 'previous') ORDER BY secret, number DESC"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([], record)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.sql(e))?;
        let mut map: HashMap<String, Vec<VersionRecord>> = HashMap::new();
        for r in rows {
            map.entry(r.secret.clone()).or_default().push(r);
        }
        Ok(map)
    }

    /// Moves a version to `stage`, setting (or clearing) its retire-after time.
    pub fn set_stage(
        &self,
        secret: &str,
        number: u32,
        stage: Stage,
        retire_after: Option<i64>,
    ) -> Result<(), StoreError> {
        let n = self.cached_execute(
                "UPDATE versions SET stage = ?3, retire_after = ?4 WHERE secret = ?1 AND number = ?2",
                params![secret, number, stage.as_str(), retire_after],
            )
            .map_err(|e| self.sql(e))?;
        if n == 0 {
            return Err(StoreError::Missing(format!(
                "secret \"{secret}\" has no version {number}"
            )));
        }
        Ok(())
    }
}

use super::SealError;
