//! Authenticated encryption (AES-256-GCM) with a versioned, self-describing
//! ciphertext, so data survives key rotation and can be re-encrypted lazily.
//!
//! [`seal`] encrypts under the ring's current key; [`open`] reads the key id
//! from the ciphertext and decrypts with that key, as long as it is still on
//! the ring. [`needs_reencrypt`] tells a re-encryption job (or a read path
//! that re-seals on the fly) which values are still under an older key.
//!
//! # Format (version 1)
//!
//! | bytes | content |
//! |---|---|
//! | 1 | format version, `0x01` |
//! | 8 | key id: the 16 hex digits of the [`KeyId`] as 8 raw bytes |
//! | 12 | random nonce |
//! | n + 16 | AES-256-GCM ciphertext and tag |
//!
//! The associated data is exactly the caller's `aad`. The AES key is
//! HKDF-SHA256 of the key's bytes (empty salt, info `rotor-keyring aead v1`),
//! so a delivered value of any length gives a full 256-bit key. The text form
//! ([`seal_text`], for database columns) is `rk1.` followed by the binary
//! form in base64url without padding.
//!
//! Nonces are random (96 bits), so one key should seal no more than about
//! 2³² values; rotate well before that (rotor's schedule does).
//!
//! Bind each value to where it lives with the associated data (table, column,
//! row id), so a ciphertext copied to another row does not open there.
//!
//! ```
//! use rotor_keyring::{aead, Keyring, KeyringError};
//!
//! let old = Keyring::from_pair("old-data-key-0123456789abcdef", None)?;
//! let ct = aead::seal_text(&old, b"4111 1111 1111 1111", b"users/42/card")?;
//! assert!(ct.starts_with("rk1."));
//!
//! // rotor rotates: the new key is current, the old one is previous.
//! let ring = Keyring::from_pair("new-data-key-0123456789abcdef", Some("old-data-key-0123456789abcdef"))?;
//! assert_eq!(&aead::open_text(&ring, &ct, b"users/42/card")?[..], b"4111 1111 1111 1111");
//! assert!(aead::needs_reencrypt_text(&ring, &ct)?);
//!
//! // The wrong row's associated data does not open it.
//! assert_eq!(aead::open_text(&ring, &ct, b"users/43/card").unwrap_err(), KeyringError::Tampered);
//!
//! // Re-seal under the current key before rotor retires the old one.
//! let fresh = aead::seal_text(&ring, &aead::open_text(&ring, &ct, b"users/42/card")?, b"users/42/card")?;
//! assert!(!aead::needs_reencrypt_text(&ring, &fresh)?);
//! # Ok::<(), KeyringError>(())
//! ```

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use zeroize::Zeroizing;

use crate::{Key, KeyId, Keyring, KeyringError};

/// The format version byte this library writes (and the only one it reads).
pub const FORMAT_VERSION: u8 = 1;

/// The prefix of the text form.
pub const TEXT_PREFIX: &str = "rk1.";

/// HKDF info for the AES key of a ring key.
const HKDF_INFO: &[u8] = b"rotor-keyring aead v1";

/// Key id length in the binary form.
const KID_LEN: usize = 8;
/// AES-GCM tag length.
const TAG_LEN: usize = 16;
/// Version, key id and nonce.
const HEADER_LEN: usize = 1 + KID_LEN + NONCE_LEN;

/// The shortest valid binary ciphertext (an empty plaintext).
pub const MIN_CIPHERTEXT_LEN: usize = HEADER_LEN + TAG_LEN;

/// The AES-256-GCM key for a ring key.
fn aead_key(key: &Key) -> Result<LessSafeKey, KeyringError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(key.secret());
    // `expand` only fails when asked for more than 255 hash lengths; 32
    // bytes never is.
    let okm = prk
        .expand(&[HKDF_INFO], &AES_256_GCM)
        .map_err(|_| KeyringError::AeadFailed("HKDF key derivation failed"))?;
    Ok(LessSafeKey::new(UnboundKey::from(okm)))
}

/// The 8 raw bytes of a key id (its 16 hex digits).
fn kid_bytes(id: &KeyId) -> Result<[u8; KID_LEN], KeyringError> {
    let mut out = [0u8; KID_LEN];
    hex::decode_to_slice(id.as_str(), &mut out)
        .map_err(|_| KeyringError::UnknownKeyId(id.to_string()))?;
    Ok(out)
}

/// The parsed header of a binary ciphertext.
struct Header<'a> {
    kid: KeyId,
    nonce: [u8; NONCE_LEN],
    body: &'a [u8],
}

fn parse(ct: &[u8]) -> Result<Header<'_>, KeyringError> {
    let truncated = || KeyringError::CiphertextTruncated {
        len: ct.len(),
        min: MIN_CIPHERTEXT_LEN,
    };
    let (&version, rest) = ct.split_first().ok_or_else(truncated)?;
    if version != FORMAT_VERSION {
        return Err(KeyringError::UnknownFormatVersion(version));
    }
    if ct.len() < MIN_CIPHERTEXT_LEN {
        return Err(truncated());
    }
    let (kid, rest) = rest.split_at(KID_LEN);
    let (nonce, body) = rest.split_at(NONCE_LEN);
    let mut n = [0u8; NONCE_LEN];
    n.copy_from_slice(nonce);
    Ok(Header {
        kid: KeyId::from_str_unchecked(&hex::encode(kid)),
        nonce: n,
        body,
    })
}

/// Encrypt `plaintext` under the ring's current key, binding `aad` (which is
/// not stored; [`open`] must be given the same bytes).
pub fn seal(ring: &Keyring, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, KeyringError> {
    let key = ring.current();
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| KeyringError::AeadFailed("the system random generator failed"))?;

    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&kid_bytes(key.id())?);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = aead_key(key)?
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[HEADER_LEN..],
        )
        .map_err(|_| KeyringError::AeadFailed("the plaintext is too long for AES-GCM"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Decrypt a ciphertext made by [`seal`] with whichever key on the ring made
/// it. Errors: [`KeyringError::CiphertextTruncated`],
/// [`KeyringError::UnknownFormatVersion`], [`KeyringError::UnknownKeyId`]
/// (the key has left the ring) and [`KeyringError::Tampered`] (wrong
/// associated data, or edited bytes). The plaintext is wiped on drop.
pub fn open(ring: &Keyring, ct: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
    let h = parse(ct)?;
    let key = ring
        .get(&h.kid)
        .ok_or_else(|| KeyringError::UnknownKeyId(h.kid.to_string()))?;
    let mut buf = Zeroizing::new(h.body.to_vec());
    let len = aead_key(key)?
        .open_in_place(
            Nonce::assume_unique_for_key(h.nonce),
            Aad::from(aad),
            &mut buf[..],
        )
        .map_err(|_| KeyringError::Tampered)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// The id of the key a ciphertext was sealed under (read from its header;
/// not authenticated until [`open`]).
pub fn key_id(ct: &[u8]) -> Result<KeyId, KeyringError> {
    parse(ct).map(|h| h.kid)
}

/// Whether a ciphertext should be re-sealed: true when it was sealed under a
/// key on the ring other than the current one. A ciphertext under a key that
/// is no longer on the ring is an error ([`KeyringError::UnknownKeyId`]), not
/// `true`: it can no longer be opened at all. This reads the header only;
/// it does not authenticate the ciphertext.
pub fn needs_reencrypt(ring: &Keyring, ct: &[u8]) -> Result<bool, KeyringError> {
    let kid = key_id(ct)?;
    if &kid == ring.current().id() {
        Ok(false)
    } else if ring.get(&kid).is_some() {
        Ok(true)
    } else {
        Err(KeyringError::UnknownKeyId(kid.to_string()))
    }
}

/// Decode the text form to the binary form.
fn decode_text(ct: &str) -> Result<Vec<u8>, KeyringError> {
    let b64 = ct
        .strip_prefix(TEXT_PREFIX)
        .ok_or(KeyringError::CiphertextMalformed(
            "the text form does not start with \"rk1.\"",
        ))?;
    URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| KeyringError::CiphertextMalformed("the text form is not base64url"))
}

/// [`seal`], as text for a database column: `rk1.` + base64url (no padding).
pub fn seal_text(ring: &Keyring, plaintext: &[u8], aad: &[u8]) -> Result<String, KeyringError> {
    let ct = seal(ring, plaintext, aad)?;
    Ok(format!("{TEXT_PREFIX}{}", URL_SAFE_NO_PAD.encode(ct)))
}

/// [`open`] for the text form. A value that is not `rk1.` + base64url is
/// [`KeyringError::CiphertextMalformed`].
pub fn open_text(ring: &Keyring, ct: &str, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
    open(ring, &decode_text(ct)?, aad)
}

/// [`key_id`] for the text form.
pub fn key_id_text(ct: &str) -> Result<KeyId, KeyringError> {
    key_id(&decode_text(ct)?)
}

/// [`needs_reencrypt`] for the text form.
pub fn needs_reencrypt_text(ring: &Keyring, ct: &str) -> Result<bool, KeyringError> {
    needs_reencrypt(ring, &decode_text(ct)?)
}
