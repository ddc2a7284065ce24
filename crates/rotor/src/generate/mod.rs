//! Value generators: make a new secret value from the inventory's
//! [`Generator`] using only the operating system's CSPRNG (aws-lc-rs
//! `SystemRandom`), and say how strong it is.

mod password;
mod random;

pub use password::alphabet_chars;

use crate::inventory::{Alphabet, Encoding, Generator};
use crate::secret::SecretValue;

/// A value could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The OS random source reported a failure.
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    /// The secret's values come from a person (strategy manual).
    #[error("a person brings this secret's values (strategy manual): make one in the provider's portal, then `rotor put NAME`")]
    Provided,
}

/// Makes a new value as `g` describes, from the OS CSPRNG only.
pub fn generate(g: &Generator) -> Result<SecretValue, GenerateError> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    match g {
        Generator::Random { bytes, encoding } => random::generate(&rng, *bytes, *encoding),
        Generator::Password { length, alphabet } => password::generate(&rng, *length, *alphabet),
        Generator::Provided => Err(GenerateError::Provided),
        // A placeholder the authority's own value replaces at apply.
        Generator::Minted => random::generate(&rng, 32, Encoding::Base64Url),
    }
}

/// Entropy of a generated value in bits: `bytes * 8` for random values,
/// `length * log2(alphabet size)` for passwords.
pub fn entropy_bits(g: &Generator) -> f64 {
    match g {
        Generator::Random { bytes, .. } => *bytes as f64 * 8.0,
        Generator::Password { length, alphabet } => {
            *length as f64 * (alphabet_chars(*alphabet).len() as f64).log2()
        }
        // Unknown: whatever the provider made.
        Generator::Provided | Generator::Minted => 0.0,
    }
}

/// One line for people, e.g. `random 48 bytes, base64 (384 bits)` or
/// `password 32 chars, urlsafe (192.0 bits)`.
pub fn describe(g: &Generator) -> String {
    match g {
        Generator::Random { bytes, encoding } => format!(
            "random {bytes} bytes, {} ({} bits)",
            encoding_name(*encoding),
            bytes * 8
        ),
        Generator::Password { length, alphabet } => format!(
            "password {length} chars, {} ({:.1} bits)",
            alphabet_name(*alphabet),
            entropy_bits(g)
        ),
        Generator::Provided => {
            "brought by a person from the provider's portal (`rotor put`)".into()
        }
        Generator::Minted => {
            "issued by the provider through the plugin (create); rotor makes none".into()
        }
    }
}

/// The inventory's name for an encoding (`hex`, `base64`, `base64url`).
pub fn encoding_name(e: Encoding) -> &'static str {
    match e {
        Encoding::Hex => "hex",
        Encoding::Base64 => "base64",
        Encoding::Base64Url => "base64url",
    }
}

/// The inventory's name for an alphabet (`alnum`, `urlsafe`, `printable`).
pub fn alphabet_name(a: Alphabet) -> &'static str {
    match a {
        Alphabet::Alnum => "alnum",
        Alphabet::UrlSafe => "urlsafe",
        Alphabet::Printable => "printable",
    }
}

/// Fills `buf` from the OS CSPRNG.
fn fill(rng: &aws_lc_rs::rand::SystemRandom, buf: &mut [u8]) -> Result<(), GenerateError> {
    use aws_lc_rs::rand::SecureRandom;
    rng.fill(buf)
        .map_err(|e| GenerateError::Random(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entropy_numbers() {
        let r = Generator::Random {
            bytes: 32,
            encoding: Encoding::Base64,
        };
        assert_eq!(entropy_bits(&r), 256.0);
        let p = |length, alphabet| Generator::Password { length, alphabet };
        assert_eq!(entropy_bits(&p(32, Alphabet::UrlSafe)), 192.0);
        let alnum = entropy_bits(&p(20, Alphabet::Alnum));
        assert!((alnum - 20.0 * 62f64.log2()).abs() < 1e-9, "{alnum}");
        let printable = entropy_bits(&p(16, Alphabet::Printable));
        assert!((printable - 16.0 * 88f64.log2()).abs() < 1e-9);
    }

    #[test]
    fn descriptions() {
        let r = Generator::Random {
            bytes: 48,
            encoding: Encoding::Base64,
        };
        assert_eq!(describe(&r), "random 48 bytes, base64 (384 bits)");
        let p = Generator::Password {
            length: 32,
            alphabet: Alphabet::UrlSafe,
        };
        assert_eq!(describe(&p), "password 32 chars, urlsafe (192.0 bits)");
        let q = Generator::Password {
            length: 20,
            alphabet: Alphabet::Printable,
        };
        assert_eq!(describe(&q), "password 20 chars, printable (129.2 bits)");
    }

    #[test]
    fn two_generations_differ() {
        for g in [
            Generator::Random {
                bytes: 16,
                encoding: Encoding::Hex,
            },
            Generator::Password {
                length: 16,
                alphabet: Alphabet::UrlSafe,
            },
        ] {
            let a = generate(&g).unwrap();
            let b = generate(&g).unwrap();
            assert_ne!(a.expose(), b.expose());
            assert_ne!(a.fingerprint(), b.fingerprint());
        }
    }
}
