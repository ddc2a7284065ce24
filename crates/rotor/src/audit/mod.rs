//! The audit trail: append-only, hash-chained entries in the store (who,
//! when, which secret, which version and fingerprint, which step, outcome,
//! ticket). Each entry's hash covers its fields and the previous entry's
//! hash, so `rotor audit verify` finds any edited, removed or reordered row.
//! Values never appear here: only fingerprints.
//!
//! Cost: `audit verify` (and `status`) check the whole chain. Every append
//! checks only the chain's head: the last entry's hash and its link to the
//! entry before it (two rows, whatever the trail's length), so a rotation
//! costs the same with ten entries or a million. A command that appends
//! runs that check before it changes anything and refuses a damaged head,
//! naming the first bad entry (found by a full check, on that failure path
//! only). An older entry edited in place is found by `audit verify` and
//! `status`, not by every rotation.

mod decode;

use aws_lc_rs::digest;
use rusqlite::params;

use decode::{decode, Decoded, COLUMNS};

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

impl ChainBreak {
    /// The first entry that does not verify (for a gap, the one missing).
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Altered { seq } | ChainBreak::Unlinked { seq, .. } => *seq,
            ChainBreak::Gap { expected, .. } => *expected,
        }
    }
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
    /// cannot move between reading it and appending. Refuses
    /// ([`StoreError::AuditBroken`]) to append to a chain whose head does
    /// not verify ([`Store::audit_head`]).
    pub fn audit(&self, e: &NewEntry<'_>) -> Result<Entry, StoreError> {
        let (last_seq, prev_hash) = self.audit_head()?;
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
        self.cached_execute(
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

    /// Audit entries, oldest first, optionally for one secret. A damaged
    /// entry is shown as well as it can be (`audit verify` names it).
    pub fn audit_entries(&self, secret: Option<&str>) -> Result<Vec<Entry>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM audit WHERE ?1 IS NULL OR secret = ?1 ORDER BY seq"
            ))
            .map_err(|err| self.sql(err))?;
        let rows = st
            .query_map([secret], |r| decode(r).map(|d| d.entry))
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|err| self.sql(err))?;
        Ok(rows)
    }

    /// Checks the whole chain, one row at a time. `Ok(Err(_))` names the
    /// first bad entry.
    pub fn audit_verify(&self) -> Result<Result<Verified, ChainBreak>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"))
            .map_err(|err| self.sql(err))?;
        let mut rows = st.query([]).map_err(|err| self.sql(err))?;
        let mut walk = Walk::new();
        while let Some(r) = rows.next().map_err(|err| self.sql(err))? {
            let d = decode(r).map_err(|err| self.sql(err))?;
            if let Err(br) = walk.step(&d) {
                return Ok(Err(br));
            }
        }
        Ok(Ok(walk.done()))
    }

    /// The chain's head (last sequence number and hash; 0 and [`GENESIS`]
    /// when empty), after checking it: the last entry matches its hash and
    /// follows the entry before it, which matches its own. Two rows, not the
    /// whole trail (see the module's notes on cost). A damaged head is
    /// [`StoreError::AuditBroken`], naming the first bad entry of the chain.
    pub fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let mut st = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM audit ORDER BY seq DESC LIMIT 2"
            ))
            .map_err(|err| self.sql(err))?;
        let last: Vec<Decoded> = st
            .query_map([], decode)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|err| self.sql(err))?;
        let checked = match last.as_slice() {
            [] => return Ok((0, GENESIS.to_owned())),
            [head] => Walk::new().step(head),
            [head, before, ..] => {
                let mut walk = Walk::after(before.entry.seq - 1, before.entry.prev_hash.clone());
                walk.step(before).and_then(|()| walk.step(head))
            }
        };
        match checked {
            Ok(()) => Ok((last[0].entry.seq, last[0].entry.hash.clone())),
            Err(near_head) => {
                // Only on this failure path: the whole chain, for the first
                // bad entry, which may lie before the head.
                let first = match self.audit_verify()? {
                    Err(first) => first,
                    Ok(_) => near_head,
                };
                Err(StoreError::AuditBroken {
                    path: self.db_path().to_path_buf(),
                    source: first,
                })
            }
        }
    }
}

/// Walks a chain in order, entry by entry.
struct Walk {
    prev_hash: String,
    prev_seq: i64,
}

impl Walk {
    fn new() -> Walk {
        Walk::after(0, GENESIS.to_owned())
    }

    /// A walk that takes entry `prev_seq` (with hash `prev_hash`) as checked.
    fn after(prev_seq: i64, prev_hash: String) -> Walk {
        Walk {
            prev_hash,
            prev_seq,
        }
    }

    fn step(&mut self, d: &Decoded) -> Result<(), ChainBreak> {
        let e = &d.entry;
        if e.seq != self.prev_seq + 1 {
            return Err(ChainBreak::Gap {
                expected: self.prev_seq + 1,
                found: e.seq,
            });
        }
        if !d.intact || e.compute_hash() != e.hash {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked {
                seq: e.seq,
                prev: self.prev_seq,
            });
        }
        self.prev_hash.clone_from(&e.hash);
        self.prev_seq = e.seq;
        Ok(())
    }

    fn done(self) -> Verified {
        Verified {
            entries: self.prev_seq,
            head: self.prev_hash,
        }
    }
}

/// Checks a chain of entries in order.
pub fn verify_chain(entries: &[Entry]) -> Result<Verified, ChainBreak> {
    let mut walk = Walk::new();
    for e in entries {
        walk.step(&Decoded {
            entry: e.clone(),
            intact: true,
        })?;
    }
    Ok(walk.done())
}
