//! AEAD sealing of everything secret the store keeps: AES-256-GCM from
//! aws-lc-rs, a fresh random nonce per record, and associated data that binds
//! the record to its place (secret name and version, or run and path), so a
//! sealed row moved elsewhere fails to open.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Format byte at the start of every sealed blob.
const FORMAT_V1: u8 = 1;

/// Why a sealed record could not be opened or made.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Authentication failed: wrong key, tampered bytes, or a record moved to another place.
    #[error("sealed record does not open under this master key (wrong key, edited bytes, or a row moved)")]
    Open,
    /// The blob is shorter than a nonce and tag, or has an unknown format byte.
    #[error("sealed record is malformed ({0})")]
    Malformed(&'static str),
    /// The operating system's random source failed.
    #[error("the operating system's random source failed")]
    Random,
}

/// A 256-bit AEAD key. No `Debug` of the bytes, no `Clone`.
pub struct SealKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealKey").finish_non_exhaustive()
    }
}

impl SealKey {
    /// Builds the key from 32 bytes (the caller wipes its copy).
    pub fn from_bytes(bytes: &[u8; 32]) -> SealKey {
        // AES_256_GCM accepts exactly 32 bytes, which the type guarantees.
        let unbound = match UnboundKey::new(&AES_256_GCM, bytes) {
            Ok(k) => k,
            Err(_) => unreachable!("AES-256-GCM takes a 32-byte key"),
        };
        SealKey {
            key: LessSafeKey::new(unbound),
        }
    }

    /// Seals `plaintext` bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut buf = Zeroizing::new(plaintext.to_vec());
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut *buf,
            )
            .map_err(|_| SealError::Random)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Opens a blob made by [`SealKey::seal`] with the same `aad`.
    pub fn open(&self, aad: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (&format, rest) = blob.split_first().ok_or(SealError::Malformed("empty"))?;
        if format != FORMAT_V1 {
            return Err(SealError::Malformed("unknown format version"));
        }
        if rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError::Malformed("truncated"));
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| SealError::Malformed("bad nonce"))?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .map_err(|_| SealError::Open)?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SealKey {
        SealKey::from_bytes(&[b; 32])
    }

    #[test]
    fn round_trip() {
        let k = key(7);
        let blob = k.seal(b"jwt/1", b"value").expect("seal");
        assert_eq!(&**k.open(b"jwt/1", &blob).expect("open"), b"value");
    }

    #[test]
    fn other_aad_or_key_or_byte_fails() {
        let k = key(7);
        let blob = k.seal(b"jwt/1", b"value").expect("seal");
        assert!(matches!(k.open(b"jwt/2", &blob), Err(SealError::Open)));
        assert!(matches!(key(8).open(b"jwt/1", &blob), Err(SealError::Open)));
        let mut bad = blob.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(k.open(b"jwt/1", &bad), Err(SealError::Open)));
        assert!(matches!(
            k.open(b"jwt/1", &blob[..10]),
            Err(SealError::Malformed(_))
        ));
    }

    #[test]
    fn nonces_differ() {
        let k = key(1);
        assert_ne!(
            k.seal(b"a", b"same").expect("seal"),
            k.seal(b"a", b"same").expect("seal")
        );
    }
}
