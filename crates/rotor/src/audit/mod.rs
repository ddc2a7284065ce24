//! The audit trail: append-only, hash-chained entries in the store (who,
//! when, which secret, which version and fingerprint, which step, outcome,
//! ticket). Each entry's hash covers its fields and the previous entry's
//! hash, so `rotor audit verify` finds any edited, removed or reordered row.
//! Values never appear here: only fingerprints.

use aws_lc_rs::digest;
use rusqlite::params;

use crate::store::{Store, StoreError};

/// Hash that stands before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What the caller supplies for a new entry.
#[derive(Debug, Clone, Default)]
pub struct NewEntry<'a> {
    /// Who acted (`--actor`, else `$USER`).
    pub actor: &'a str,
    /// Change or incident ticket.
    pub ticket: Option<&'a str>,
    /// Secret concerned, if any.
    pub secret: Option<&'a str>,
    /// Version number concerned.
    pub version: Option<u32>,
    /// That version's fingerprint.
    pub fingerprint: Option<&'a str>,
    /// State-machine step or command (`rotate.promote`, `init`…).
    pub step: &'a str,
    /// `ok`, `failed`, `rolled_back`…
    pub outcome: &'a str,
    /// Free text, never a value.
    pub detail: &'a str,
}

/// A stored entry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// RFC 3339 UTC time.
    pub at: String,
    /// Who.
    pub actor: String,
    /// Ticket.
    pub ticket: Option<String>,
    /// Secret.
    pub secret: Option<String>,
    /// Version number.
    pub version: Option<u32>,
    /// Fingerprint.
    pub fingerprint: Option<String>,
    /// Step.
    pub step: String,
    /// Outcome.
    pub outcome: String,
    /// Detail.
    pub detail: String,
    /// Hash of the entry before.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

impl Entry {
    fn compute_hash(&self) -> String {
        // serde_json renders this array the same way every time.
        let canonical = serde_json::json!([
            self.seq,
            self.at,
            self.actor,
            self.ticket,
            self.secret,
            self.version,
            self.fingerprint,
            self.step,
            self.outcome,
            self.detail,
            self.prev_hash,
        ])
        .to_string();
        hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    }
}

/// Why the chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry's stored hash does not match its contents.
    #[error("audit entry {seq} was altered: its contents no longer match its hash")]
    Altered {
        /// The entry.
        seq: i64,
    },
    /// An entry does not point at the hash of the one before.
    #[error("audit entry {seq} does not follow entry {prev}: an entry was removed, inserted or reordered")]
    Unlinked {
        /// The entry.
        seq: i64,
        /// The entry before it.
        prev: i64,
    },
    /// Sequence numbers skip.
    #[error("audit entry {expected} is missing (found {found} next)")]
    Gap {
        /// The number expected.
        expected: i64,
        /// The number found.
        found: i64,
    },
}

/// Outcome of a verification.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verified {
    /// Entries checked.
    pub entries: i64,
    /// Hash of the last entry (the chain head), for anchoring elsewhere.
    pub head: String,
}

impl Store {
    /// Appends one entry. Call inside [`Store::write`] so the chain head
    /// cannot move between reading it and appending.
    pub fn audit(&self, e: &NewEntry<'_>) -> Result<Entry, StoreError> {
        let (last_seq, prev_hash): (i64, String) = self
            .conn()
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .or_else(|err| match err {
                rusqlite::Error::QueryReturnedNoRows => Ok((0, GENESIS.to_owned())),
                other => Err(other),
            })
            .map_err(|err| self.sql(err))?;
        let at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut entry = Entry {
            seq: last_seq + 1,
            at,
            actor: e.actor.to_owned(),
            ticket: e.ticket.map(str::to_owned),
            secret: e.secret.map(str::to_owned),
            version: e.version,
            fingerprint: e.fingerprint.map(str::to_owned),
            step: e.step.to_owned(),
            outcome: e.outcome.to_owned(),
            detail: e.detail.to_owned(),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        self.conn()
            .execute(
                "INSERT INTO audit (seq, at, actor, ticket, secret, version, fingerprint, step, outcome, detail, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    entry.seq, entry.at, entry.actor, entry.ticket, entry.secret, entry.version,
                    entry.fingerprint, entry.step, entry.outcome, entry.detail, entry.prev_hash, entry.hash
                ],
            )
            .map_err(|err| self.sql(err))?;
        Ok(entry)
    }

    /// Audit entries, oldest first, optionally for one secret.
    pub fn audit_entries(&self, secret: Option<&str>) -> Result<Vec<Entry>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached(
                "SELECT seq, at, actor, ticket, secret, version, fingerprint, step, outcome, detail, prev_hash, hash
                 FROM audit WHERE ?1 IS NULL OR secret = ?1 ORDER BY seq",
            )
            .map_err(|err| self.sql(err))?;
        let rows = st
            .query_map([secret], |r| {
                Ok(Entry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    ticket: r.get(3)?,
                    secret: r.get(4)?,
                    version: r.get(5)?,
                    fingerprint: r.get(6)?,
                    step: r.get(7)?,
                    outcome: r.get(8)?,
                    detail: r.get(9)?,
                    prev_hash: r.get(10)?,
                    hash: r.get(11)?,
                })
            })
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|err| self.sql(err))?;
        Ok(rows)
    }

    /// Checks the whole chain. `Ok(Err(_))` names the first bad entry.
    pub fn audit_verify(&self) -> Result<Result<Verified, ChainBreak>, StoreError> {
        Ok(verify_chain(&self.audit_entries(None)?))
    }
}

/// Checks a chain of entries in order.
pub fn verify_chain(entries: &[Entry]) -> Result<Verified, ChainBreak> {
    let mut prev_hash = GENESIS.to_owned();
    let mut prev_seq = 0;
    for e in entries {
        if e.seq != prev_seq + 1 {
            return Err(ChainBreak::Gap {
                expected: prev_seq + 1,
                found: e.seq,
            });
        }
        if e.compute_hash() != e.hash {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        if e.prev_hash != prev_hash {
            return Err(ChainBreak::Unlinked {
                seq: e.seq,
                prev: prev_seq,
            });
        }
        prev_hash = e.hash.clone();
        prev_seq = e.seq;
    }
    Ok(Verified {
        entries: prev_seq,
        head: prev_hash,
    })
}
