//! Peppered hashes that record which pepper made them, so the pepper can be
//! rotated: old hashes still verify while their pepper is on the ring, and
//! are flagged for upgrade.
//!
//! The stored form is `ph1$<kid>$<mac>`: `kid` is the pepper's [`KeyId`]
//! (16 hex digits, as `rotor history` shows it) and `mac` is
//! HMAC-SHA256(pepper, input) in base64url without padding. Comparison is
//! constant-time.
//!
//! # What it is for
//!
//! High-entropy secrets that you store only a hash of: API keys, access and
//! refresh tokens, password-reset and invitation tokens, and values you look
//! rows up by (use [`hash_candidates`] to look up under every live pepper).
//!
//! **Not for passwords on its own.** HMAC is fast, so anyone who gets both
//! the table and the pepper can brute-force weak passwords. Passwords must
//! still go through a password hash (argon2id) with the pepper applied on top
//! of it (for example argon2's secret input, or this hash as argon2's input,
//! recording the pepper id alongside); the pepper then only adds protection
//! when the database leaks without the pepper.
//!
//! ```
//! use rotor_keyring::{pepper, Keyring};
//!
//! let old = Keyring::from_pair("old-pepper-0123456789abcdef", None)?;
//! let stored = pepper::hash(&old, b"api-key-7f3a9c");
//! assert!(stored.starts_with("ph1$"));
//!
//! // After rotor rotates the pepper, the old hash still matches, and says
//! // it should be re-hashed under the current pepper.
//! let ring = Keyring::from_pair("new-pepper-0123456789abcdef", Some("old-pepper-0123456789abcdef"))?;
//! let check = pepper::verify(&ring, b"api-key-7f3a9c", &stored)?;
//! assert!(check.matches && check.needs_upgrade);
//! let upgraded = pepper::hash(&ring, b"api-key-7f3a9c");
//! assert_eq!(pepper::verify(&ring, b"api-key-7f3a9c", &upgraded)?, pepper::PepperCheck { matches: true, needs_upgrade: false });
//!
//! assert!(!pepper::verify(&ring, b"some-other-key", &stored)?.matches);
//! # Ok::<(), rotor_keyring::KeyringError>(())
//! ```

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::{Key, KeyId, Keyring, KeyringError};

/// The prefix of the stored form (format version 1).
pub const PREFIX: &str = "ph1$";

/// HMAC-SHA256 output length.
const MAC_LEN: usize = 32;

/// The result of [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct PepperCheck {
    /// The input hashes to the stored value.
    pub matches: bool,
    /// The input matches, under a pepper that is no longer the current one:
    /// store [`hash`] of it now. Never true when `matches` is false, so a
    /// wrong input can never trigger a re-hash.
    pub needs_upgrade: bool,
}

fn hmac_key(key: &Key) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, key.secret())
}

/// The stored form of `input` under one key.
fn hash_with(key: &Key, input: &[u8]) -> String {
    let tag = hmac::sign(&hmac_key(key), input);
    format!(
        "{PREFIX}{}${}",
        key.id(),
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    )
}

/// The stored form of `input` under the current pepper:
/// `ph1$<kid>$<base64url HMAC-SHA256>`.
pub fn hash(ring: &Keyring, input: &[u8]) -> String {
    hash_with(ring.current(), input)
}

/// The stored form of `input` under every live pepper, current first: for
/// finding a row by the hash of a presented token while a rotation is in
/// progress (`WHERE token_hash IN (…)`).
pub fn hash_candidates(ring: &Keyring, input: &[u8]) -> Vec<String> {
    ring.keys().map(|k| hash_with(k, input)).collect()
}

/// Split a stored hash into its key id and MAC, checking its syntax.
fn parse(stored: &str) -> Result<(KeyId, [u8; MAC_LEN]), KeyringError> {
    let rest = stored
        .strip_prefix(PREFIX)
        .ok_or(KeyringError::PepperMalformed(
            "it does not start with \"ph1$\"",
        ))?;
    let (kid, mac) = rest.split_once('$').ok_or(KeyringError::PepperMalformed(
        "it is not ph1$<key id>$<hash>",
    ))?;
    if kid.len() != 16 || !kid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(KeyringError::PepperMalformed(
            "the key id is not 16 lowercase hex digits",
        ));
    }
    let mac = URL_SAFE_NO_PAD
        .decode(mac)
        .map_err(|_| KeyringError::PepperMalformed("the hash is not base64url"))?;
    let mac: [u8; MAC_LEN] = mac
        .try_into()
        .map_err(|_| KeyringError::PepperMalformed("the hash is not 32 bytes"))?;
    Ok((KeyId::from_str_unchecked(kid), mac))
}

/// Check `input` against a stored hash, with the pepper it names.
///
/// A wrong input is `Ok` with `matches: false`. A stored value that is not
/// `ph1$<kid>$<hash>` is [`KeyringError::PepperMalformed`]; one whose pepper
/// is no longer on the ring is [`KeyringError::UnknownKeyId`] (rotor retired
/// it before every hash was upgraded).
pub fn verify(ring: &Keyring, input: &[u8], stored: &str) -> Result<PepperCheck, KeyringError> {
    let (kid, mac) = parse(stored)?;
    let key = ring
        .get(&kid)
        .ok_or_else(|| KeyringError::UnknownKeyId(kid.to_string()))?;
    let matches = hmac::verify(&hmac_key(key), input, &mac).is_ok();
    Ok(PepperCheck {
        matches,
        needs_upgrade: matches && key.id() != ring.current().id(),
    })
}
