//! Reading audit rows as raw SQLite values, so that a damaged entry (a
//! flipped byte that is no longer UTF-8, a blob or number where text
//! belongs) is reported as that entry altered, never as a decoding error.

use rusqlite::types::ValueRef;

use super::Entry;

/// The columns of an entry, in the order [`decode`] expects them.
pub(super) const COLUMNS: &str =
    "seq, at, actor, ticket, secret, version, fingerprint, step, outcome, detail, prev_hash, hash";

/// An entry as stored, and whether every column held what rotor writes
/// (text that is UTF-8, an integer version). `false` means the entry was
/// altered, whatever its hash says.
pub(super) struct Decoded {
    pub(super) entry: Entry,
    pub(super) intact: bool,
}

/// Decodes one row selected with [`COLUMNS`]. Damaged text is kept lossily
/// (for `history`) and flagged.
pub(super) fn decode(r: &rusqlite::Row<'_>) -> rusqlite::Result<Decoded> {
    let mut intact = true;
    let mut text = |i: usize| -> rusqlite::Result<Option<String>> {
        Ok(match r.get_ref(i)? {
            ValueRef::Null => None,
            ValueRef::Text(b) => Some(match std::str::from_utf8(b) {
                Ok(s) => s.to_owned(),
                Err(_) => {
                    intact = false;
                    String::from_utf8_lossy(b).into_owned()
                }
            }),
            ValueRef::Blob(b) => {
                intact = false;
                Some(String::from_utf8_lossy(b).into_owned())
            }
            ValueRef::Integer(n) => {
                intact = false;
                Some(n.to_string())
            }
            ValueRef::Real(f) => {
                intact = false;
                Some(f.to_string())
            }
        })
    };
    let at = text(1)?;
    let actor = text(2)?;
    let ticket = text(3)?;
    let secret = text(4)?;
    let fingerprint = text(6)?;
    let step = text(7)?;
    let outcome = text(8)?;
    let detail = text(9)?;
    let prev_hash = text(10)?;
    let hash = text(11)?;
    // NOT NULL columns read as NULL cannot come from rotor either.
    let mut required = |v: Option<String>| {
        v.unwrap_or_else(|| {
            intact = false;
            String::new()
        })
    };
    let at = required(at);
    let actor = required(actor);
    let step = required(step);
    let outcome = required(outcome);
    let detail = required(detail);
    let prev_hash = required(prev_hash);
    let hash = required(hash);
    let version = match r.get_ref(5)? {
        ValueRef::Null => None,
        ValueRef::Integer(n) => match u32::try_from(n) {
            Ok(v) => Some(v),
            Err(_) => {
                intact = false;
                None
            }
        },
        _ => {
            intact = false;
            None
        }
    };
    let seq = match r.get_ref(0)? {
        ValueRef::Integer(n) => n,
        // `seq` is the rowid: SQLite only ever hands back an integer.
        _ => {
            intact = false;
            0
        }
    };
    Ok(Decoded {
        entry: Entry {
            seq,
            at,
            actor,
            ticket,
            secret,
            version,
            fingerprint,
            step,
            outcome,
            detail,
            prev_hash,
            hash,
        },
        intact,
    })
}
