//! Session-bound CSRF tokens that survive a key rotation.
//!
//! The token is the one described by the api-forge security guide (and
//! compatible with implementations of it):
//!
//! ```text
//! token = "<timestamp>:<hex hmac>"
//! timestamp = Unix seconds, truncated to the hour
//! hmac = HMAC-SHA256(secret, session_id + ":" + timestamp), lowercase hex
//! ```
//!
//! [`issue`] signs with the current key; [`verify`] accepts a token signed by
//! any live key, so tokens handed out before `rotor rotate` keep working
//! during the overlap and stop working at `rotor retire`. The signature is
//! checked (constant-time) before the age, so [`KeyringError::CsrfExpired`]
//! and [`KeyringError::CsrfFromTheFuture`] only ever describe genuine tokens.
//!
//! Because the timestamp is truncated to the hour, a token lives between
//! `max_age - 1h` and `max_age` after it was issued.
//!
//! ```
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! use rotor_keyring::{csrf, Keyring, KeyringError};
//!
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let old = Keyring::from_pair("old-csrf-secret-0123456789abcdef", None)?;
//! let token = csrf::issue(&old, "session-abc", now);
//!
//! // rotor rotates; during the overlap the token still verifies.
//! let ring = Keyring::from_pair("new-csrf-secret-0123456789abcdef", Some("old-csrf-secret-0123456789abcdef"))?;
//! csrf::verify(&ring, "session-abc", &token, now, csrf::DEFAULT_MAX_AGE)?;
//!
//! // Bound to the session, and limited in age.
//! assert_eq!(csrf::verify(&ring, "session-xyz", &token, now, csrf::DEFAULT_MAX_AGE), Err(KeyringError::CsrfBadSignature));
//! let later = now + Duration::from_secs(13 * 3600);
//! assert!(matches!(csrf::verify(&ring, "session-abc", &token, later, csrf::DEFAULT_MAX_AGE), Err(KeyringError::CsrfExpired { .. })));
//! # Ok::<(), KeyringError>(())
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;

use crate::{Key, Keyring, KeyringError};

/// The maximum age the api-forge guide uses: 12 hours.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(12 * 3600);

/// How far in the future a token's timestamp may be (clock skew between
/// servers): 1 hour.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(3600);

/// Tokens are dated to the hour.
const HOUR: u64 = 3600;

/// HMAC-SHA256 output length.
const MAC_LEN: usize = 32;

/// Unix seconds (0 before the epoch).
fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn mac(key: &Key, session_id: &str, timestamp: &str) -> hmac::Tag {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key.secret());
    let mut ctx = hmac::Context::with_key(&k);
    ctx.update(session_id.as_bytes());
    ctx.update(b":");
    ctx.update(timestamp.as_bytes());
    ctx.sign()
}

/// A token for `session_id`, signed with the current key, dated `now`
/// truncated to the hour.
pub fn issue(ring: &Keyring, session_id: &str, now: SystemTime) -> String {
    let secs = unix_secs(now);
    let ts = (secs - secs % HOUR).to_string();
    let tag = mac(ring.current(), session_id, &ts);
    format!("{ts}:{}", hex::encode(tag.as_ref()))
}

/// Check a token for `session_id` at `now`: signed by any live key,
/// at most `max_age` old (use [`DEFAULT_MAX_AGE`]), and dated no more than
/// [`MAX_CLOCK_SKEW`] ahead.
///
/// Errors: [`KeyringError::CsrfMalformed`] (not `<digits>:<64 hex>`),
/// [`KeyringError::CsrfBadSignature`] (forged, another session's, or under a
/// retired key), [`KeyringError::CsrfExpired`],
/// [`KeyringError::CsrfFromTheFuture`].
pub fn verify(
    ring: &Keyring,
    session_id: &str,
    token: &str,
    now: SystemTime,
    max_age: Duration,
) -> Result<(), KeyringError> {
    let (ts, sig) = token
        .split_once(':')
        .ok_or(KeyringError::CsrfMalformed("it is not <timestamp>:<hmac>"))?;
    if ts.is_empty() || ts.len() > 20 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(KeyringError::CsrfMalformed(
            "the timestamp is not Unix seconds",
        ));
    }
    let issued: u64 = ts
        .parse()
        .map_err(|_| KeyringError::CsrfMalformed("the timestamp is not Unix seconds"))?;
    let mut sig_bytes = [0u8; MAC_LEN];
    hex::decode_to_slice(sig, &mut sig_bytes)
        .map_err(|_| KeyringError::CsrfMalformed("the signature is not 64 hex digits"))?;

    // Every live key, without stopping at the first match.
    let mut good = false;
    for key in ring.keys() {
        let expected = mac(key, session_id, ts);
        good |= aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_ref(), &sig_bytes)
            .is_ok();
    }
    if !good {
        return Err(KeyringError::CsrfBadSignature);
    }

    let now = unix_secs(now);
    if issued > now {
        let ahead_secs = issued - now;
        if ahead_secs > MAX_CLOCK_SKEW.as_secs() {
            return Err(KeyringError::CsrfFromTheFuture { ahead_secs });
        }
    } else {
        let age_secs = now - issued;
        if age_secs > max_age.as_secs() {
            return Err(KeyringError::CsrfExpired {
                age_secs,
                max_age_secs: max_age.as_secs(),
            });
        }
    }
    Ok(())
}
