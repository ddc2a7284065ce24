//! What a target holds besides the current value, checked against what
//! rotor delivered there: the previous value during an overlap (empty
//! otherwise), no keys after it in a list, and the old login's line of an
//! alternating pair in PgBouncer's `auth_file`. `rotor verify` reports a
//! difference as drift and `rotor rotate` refuses it, as for the current
//! value. Messages name places and fingerprints, never values.

use crate::engine::Live;
use crate::inventory::SecretSpec;
use crate::target::{FileText, Target, TargetError};

/// What differs in `file` beyond the current value, in words for the
/// operator; `None` when the file holds what rotor delivered. Only
/// meaningful once the store has a current version.
///
/// The previous place must hold the store's previous version while one is
/// live under `overlap` (a rollback delivers it under every strategy, so
/// there it may be present too) and nothing once there is none: a value
/// rotor does not know there, or an emptied place while the overlap still
/// runs, breaks what consumers accept.
pub(crate) fn previous_drift(
    spec: &SecretSpec,
    t: &dyn Target,
    file: &FileText,
    live: &Live,
) -> Result<Option<String>, TargetError> {
    let place = t.describe_previous();
    let extra = t.beyond_previous_in(file)?;
    if extra > 0 {
        return Ok(Some(format!(
            "{} holds {extra} more key(s) after the previous one, which rotor never wrote: added by hand?",
            t.describe()
        )));
    }
    let prev = live.previous.as_ref();
    if t.per_login() {
        // The old login of an alternating pair keeps its line while its
        // clients drain; a line rotor never wrote (the login was adopted
        // from elsewhere) is not compared.
        let Some(p) = prev else {
            return Ok(None);
        };
        let current_login = live.current.as_ref().and_then(|c| c.principal.as_deref());
        let Some(login) = p.principal.as_deref().filter(|l| Some(*l) != current_login) else {
            return Ok(None);
        };
        return Ok(match t.previous_for_in(file, Some(login))? {
            Some(v) if v.fingerprint() != p.fingerprint => Some(format!(
                "{place} ({login}) holds fingerprint {}, not previous v{}'s {}: changed by hand?",
                v.fingerprint(),
                p.number,
                p.fingerprint
            )),
            _ => None,
        });
    }
    if !t.holds_previous() {
        return Ok(None);
    }
    let overlap = spec.strategy.keeps_previous();
    Ok(match (prev, t.previous_in(file)?) {
        (Some(p), Some(v)) if v.fingerprint() == p.fingerprint => None,
        (Some(p), Some(v)) => Some(format!(
            "{place} holds fingerprint {}, not previous v{}'s {}: changed by hand?",
            v.fingerprint(),
            p.number,
            p.fingerprint
        )),
        (Some(p), None) if overlap => Some(format!(
            "{place} is empty or missing, but v{} (fingerprint {}) is still the previous value consumers must accept: emptied or removed by hand?",
            p.number, p.fingerprint
        )),
        (Some(_), None) | (None, None) => None,
        (None, Some(v)) => Some(format!(
            "{place} holds fingerprint {}, but the store has no previous version: set by hand?",
            v.fingerprint()
        )),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "previous_tests.rs"]
mod tests;
