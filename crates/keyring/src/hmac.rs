//! HMAC-SHA256 tags: made with the current key, checked (in constant time)
//! against the key the caller names, or against every live key.
//!
//! ```
//! use rotor_keyring::{hmac, Keyring};
//!
//! let old = Keyring::from_pair("old-signing-key-0123456789abcdef", None)?;
//! let (kid, tag) = hmac::sign(&old, b"message");
//!
//! // rotor rotates: the new key signs, the old one still verifies.
//! let ring = Keyring::from_pair("new-signing-key-0123456789abcdef", Some("old-signing-key-0123456789abcdef"))?;
//! assert_eq!(hmac::verify(&ring, b"message", &tag, Some(&kid))?, kid);
//! assert_eq!(hmac::verify(&ring, b"message", &tag, None)?, kid);
//! assert!(hmac::verify(&ring, b"messagE", &tag, None).is_err());
//! # Ok::<(), rotor_keyring::KeyringError>(())
//! ```

use aws_lc_rs::hmac as lc;

use crate::{Key, KeyId, Keyring, KeyringError};

fn key_of(key: &Key) -> lc::Key {
    lc::Key::new(lc::HMAC_SHA256, key.secret())
}

/// HMAC-SHA256 of `msg` under the ring's current key: the key's id (store
/// or send it with the tag) and the 32-byte tag.
pub fn sign(ring: &Keyring, msg: &[u8]) -> (KeyId, Vec<u8>) {
    let key = ring.current();
    let tag = lc::sign(&key_of(key), msg);
    (key.id().clone(), tag.as_ref().to_vec())
}

/// Checks `tag` over `msg` in constant time. With `kid`, only that key is
/// tried ([`KeyringError::UnknownKid`] when it is not on the ring any more);
/// without, every live key is, newest first. Returns the id of the key that
/// made the tag (not current: the caller may want to re-tag).
pub fn verify(
    ring: &Keyring,
    msg: &[u8],
    tag: &[u8],
    kid: Option<&KeyId>,
) -> Result<KeyId, KeyringError> {
    match kid {
        Some(kid) => {
            let key = ring
                .get(kid)
                .ok_or_else(|| KeyringError::UnknownKid(kid.to_string()))?;
            lc::verify(&key_of(key), msg, tag)
                .map(|()| key.id().clone())
                .map_err(|_| KeyringError::BadSignature)
        }
        None => ring
            .keys()
            .find(|key| lc::verify(&key_of(key), msg, tag).is_ok())
            .map(|key| key.id().clone())
            .ok_or(KeyringError::BadSignature),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = "new-signing-key-0123456789abcdef";
    const OLD: &str = "old-signing-key-0123456789abcdef";

    #[test]
    fn tag_is_hmac_sha256_under_the_current_key() {
        let ring = Keyring::from_pair(NEW, None).expect("ring");
        let (kid, tag) = sign(&ring, b"what do ya want for nothing?");
        assert_eq!(kid, KeyId::of(NEW.as_bytes()));
        let direct = lc::sign(
            &lc::Key::new(lc::HMAC_SHA256, NEW.as_bytes()),
            b"what do ya want for nothing?",
        );
        assert_eq!(tag, direct.as_ref());
        assert_eq!(tag.len(), 32);
    }

    #[test]
    fn previous_key_verifies_until_it_leaves() {
        let old_ring = Keyring::from_pair(OLD, None).expect("old");
        let (kid, tag) = sign(&old_ring, b"m");
        let overlap = Keyring::from_pair(NEW, Some(OLD)).expect("overlap");
        assert_eq!(verify(&overlap, b"m", &tag, Some(&kid)), Ok(kid.clone()));
        assert_eq!(verify(&overlap, b"m", &tag, None), Ok(kid.clone()));
        let retired = Keyring::from_pair(NEW, None).expect("retired");
        assert_eq!(
            verify(&retired, b"m", &tag, Some(&kid)),
            Err(KeyringError::UnknownKid(kid.to_string()))
        );
        assert_eq!(
            verify(&retired, b"m", &tag, None),
            Err(KeyringError::BadSignature)
        );
    }

    #[test]
    fn wrong_tags_fail() {
        let ring = Keyring::from_pair(NEW, Some(OLD)).expect("ring");
        let (kid, mut tag) = sign(&ring, b"m");
        assert!(verify(&ring, b"n", &tag, Some(&kid)).is_err());
        assert!(verify(&ring, b"m", &tag[..31], Some(&kid)).is_err());
        assert!(verify(&ring, b"m", &[], None).is_err());
        tag[0] ^= 1;
        assert_eq!(
            verify(&ring, b"m", &tag, Some(&kid)),
            Err(KeyringError::BadSignature)
        );
        // a tag made by the old key, claimed to be by the new one
        let (_, old_tag) = sign(&Keyring::from_pair(OLD, None).expect("old"), b"m");
        assert_eq!(
            verify(&ring, b"m", &old_tag, Some(&kid)),
            Err(KeyringError::BadSignature)
        );
    }
}
