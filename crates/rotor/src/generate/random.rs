//! Random-byte secrets: `n` bytes from the OS CSPRNG, encoded as hex,
//! standard padded base64 (`openssl rand -base64 N`) or unpadded base64url
//! (Python's `secrets.token_urlsafe(N)`). The raw bytes are wiped after use.

use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;
use zeroize::Zeroizing;

use super::{fill, GenerateError};
use crate::inventory::Encoding;
use crate::secret::SecretValue;

/// `bytes` random bytes, encoded as `encoding`.
pub(super) fn generate(
    rng: &SystemRandom,
    bytes: usize,
    encoding: Encoding,
) -> Result<SecretValue, GenerateError> {
    let mut raw = Zeroizing::new(vec![0u8; bytes]);
    fill(rng, &mut raw)?;
    Ok(SecretValue::new(encode(&raw, encoding)))
}

/// Encodes `raw` as text.
fn encode(raw: &[u8], encoding: Encoding) -> String {
    match encoding {
        Encoding::Hex => hex::encode(raw),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(raw),
        Encoding::Base64Url => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use proptest::prelude::*;

    fn make(bytes: usize, encoding: Encoding) -> String {
        generate(&SystemRandom::new(), bytes, encoding)
            .unwrap()
            .expose()
            .to_owned()
    }

    #[test]
    fn known_encodings() {
        let raw = [0xfbu8, 0xff, 0x00, 0x10];
        assert_eq!(encode(&raw, Encoding::Hex), "fbff0010");
        assert_eq!(encode(&raw, Encoding::Base64), "+/8AEA==");
        assert_eq!(encode(&raw, Encoding::Base64Url), "-_8AEA");
    }

    #[test]
    fn openssl_and_token_urlsafe_lengths() {
        // `openssl rand -base64 32` prints 44 characters ending in '='.
        let b = make(32, Encoding::Base64);
        assert_eq!(b.len(), 44);
        assert!(b.ends_with('='));
        // `secrets.token_urlsafe(32)` prints 43 characters, no padding.
        let u = make(32, Encoding::Base64Url);
        assert_eq!(u.len(), 43);
        assert!(!u.contains('='));
        assert_eq!(make(32, Encoding::Hex).len(), 64);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn decodes_back_to_the_byte_count(bytes in 16usize..200) {
            let h = make(bytes, Encoding::Hex);
            prop_assert!(h.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
            prop_assert_eq!(hex::decode(&h).unwrap().len(), bytes);
            prop_assert_eq!(STANDARD.decode(make(bytes, Encoding::Base64)).unwrap().len(), bytes);
            let u = make(bytes, Encoding::Base64Url);
            prop_assert!(u.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            prop_assert_eq!(URL_SAFE_NO_PAD.decode(&u).unwrap().len(), bytes);
        }
    }

    #[test]
    fn not_all_zero() {
        // 64 bytes all zero has probability 2^-512.
        let h = make(64, Encoding::Hex);
        assert!(h.chars().any(|c| c != '0'));
    }
}
