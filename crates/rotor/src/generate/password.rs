//! Passwords: each character drawn uniformly from an alphabet by rejection
//! sampling over OS CSPRNG bytes (a byte `b` is used only if
//! `b < 256 - 256 % n`, so `b % n` has no bias). Buffers are wiped.

use aws_lc_rs::rand::SystemRandom;
use zeroize::Zeroizing;

use super::{fill, GenerateError};
use crate::inventory::Alphabet;
use crate::secret::SecretValue;

/// `A-Z a-z 0-9`.
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// [`ALNUM`] plus `-` and `_`.
const URLSAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Visible ASCII `0x21..=0x7e` except `' " \ $ ` #`, which break dotenv
/// files and shells.
const PRINTABLE: &[u8] =
    b"!%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~";

/// The characters of an alphabet, each once, in a fixed order.
pub fn alphabet_chars(a: Alphabet) -> &'static [u8] {
    match a {
        Alphabet::Alnum => ALNUM,
        Alphabet::UrlSafe => URLSAFE,
        Alphabet::Printable => PRINTABLE,
    }
}

/// Bytes below this are used (`b % n`), the rest rejected: the largest
/// multiple of `n` that fits in a byte's 256 values, so every character is
/// equally likely.
fn accept_limit(n: usize) -> usize {
    256 - 256 % n
}

/// A password of `length` characters drawn uniformly from `alphabet`.
pub(super) fn generate(
    rng: &SystemRandom,
    length: usize,
    alphabet: Alphabet,
) -> Result<SecretValue, GenerateError> {
    let chars = alphabet_chars(alphabet);
    let n = chars.len();
    let limit = accept_limit(n);
    // Capacity fixed up front so the String never reallocates (which would
    // leave an unwiped copy behind).
    let mut out = String::with_capacity(length);
    // Enough for one pass with room for rejections; refilled as needed.
    let mut buf = Zeroizing::new(vec![0u8; length + length / 2 + 16]);
    while out.len() < length {
        fill(rng, &mut buf)?;
        for &b in buf.iter() {
            if out.len() == length {
                break;
            }
            let b = usize::from(b);
            if b < limit {
                out.push(char::from(chars[b % n]));
            }
        }
    }
    Ok(SecretValue::new(out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const ALL: [Alphabet; 3] = [Alphabet::Alnum, Alphabet::UrlSafe, Alphabet::Printable];

    #[test]
    fn alphabets_are_exactly_as_documented() {
        assert_eq!(ALNUM.len(), 62);
        assert_eq!(URLSAFE.len(), 64);
        assert_eq!(PRINTABLE.len(), 88);
        let expected: Vec<u8> = (0x21u8..=0x7e)
            .filter(|c| !b"'\"\\$`#".contains(c))
            .collect();
        assert_eq!(PRINTABLE, expected.as_slice());
        let alnum: Vec<u8> = (b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .chain(b'0'..=b'9')
            .collect();
        assert_eq!(ALNUM, alnum.as_slice());
        assert_eq!(&URLSAFE[..62], ALNUM);
        assert_eq!(&URLSAFE[62..], b"-_");
        for a in ALL {
            let set: HashSet<u8> = alphabet_chars(a).iter().copied().collect();
            assert_eq!(set.len(), alphabet_chars(a).len(), "{a:?} has duplicates");
        }
    }

    #[test]
    fn lengths_and_characters() {
        let rng = SystemRandom::new();
        for a in ALL {
            for length in [1, 12, 32, 100, 1000] {
                let v = generate(&rng, length, a).unwrap();
                assert_eq!(v.expose().len(), length);
                assert!(v.expose().bytes().all(|c| alphabet_chars(a).contains(&c)));
            }
        }
    }

    /// Every character appears, and no count strays far from the mean (a
    /// loose chi-square bound: a biased `% n` or an off-by-one alphabet
    /// would blow it, a fair draw fails with negligible probability).
    #[test]
    fn distribution_is_roughly_uniform() {
        let rng = SystemRandom::new();
        for a in ALL {
            let chars = alphabet_chars(a);
            let n = chars.len();
            let per_char = 2000usize;
            let v = generate(&rng, n * per_char, a).unwrap();
            let mut counts = [0usize; 256];
            for b in v.expose().bytes() {
                counts[usize::from(b)] += 1;
            }
            let expected = per_char as f64;
            let mut chi2 = 0.0;
            for &c in chars {
                let k = counts[usize::from(c)];
                assert!(k > 0, "{a:?}: {:?} never drawn", char::from(c));
                chi2 += (k as f64 - expected).powi(2) / expected;
            }
            // df = n - 1 (61..87); mean = df, sd = sqrt(2 df) ~ 13. 3*df is
            // > 10 sd away.
            let df = (n - 1) as f64;
            assert!(chi2 < 3.0 * df, "{a:?}: chi2 = {chi2} for df = {df}");
        }
    }

    #[test]
    fn rejection_limits() {
        assert_eq!(accept_limit(62), 248);
        assert_eq!(accept_limit(64), 256);
        assert_eq!(accept_limit(88), 176);
        for n in 1..=256 {
            assert_eq!(accept_limit(n) % n, 0);
            assert!(256 - accept_limit(n) < n);
        }
    }
}
