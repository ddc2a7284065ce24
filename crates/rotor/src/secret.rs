//! Secret values in memory: redacted `Debug`, wiped on drop, and the
//! fingerprint that is the only form of a value rotor ever prints.

use std::fmt;

use aws_lc_rs::digest;
use secrecy::{ExposeSecret, SecretString};

/// One secret value (a generated or adopted version). Never printed: its
/// `Debug` shows only the fingerprint, and its memory is wiped on drop.
pub struct SecretValue(SecretString);

impl SecretValue {
    /// Wraps a value. The `String` is moved in and wiped when this drops.
    pub fn new(value: String) -> Self {
        SecretValue(SecretString::from(value))
    }

    /// The value itself, for the few places that must write it (targets,
    /// the sealed store). Never format it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// First 16 hex digits of SHA-256 of the value.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self.expose().as_bytes())
    }

    /// A second handle on the same value (explicit, so copies are visible).
    pub fn duplicate(&self) -> SecretValue {
        SecretValue::new(self.expose().to_owned())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretValue(fp={}, value=[REDACTED])",
            self.fingerprint()
        )
    }
}

/// The public name of a value: first 16 hex digits of its SHA-256.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Fingerprint of raw bytes.
    pub fn of(bytes: &[u8]) -> Fingerprint {
        let d = digest::digest(&digest::SHA256, bytes);
        Fingerprint(hex::encode(&d.as_ref()[..8]))
    }

    /// Rebuilds a fingerprint read back from the store.
    pub fn from_stored(s: String) -> Fingerprint {
        Fingerprint(s)
    }

    /// The 16 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha256_prefix() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223...
        assert_eq!(Fingerprint::of(b"abc").as_str(), "ba7816bf8f01cfea");
    }

    #[test]
    fn debug_never_shows_the_value() {
        let v = SecretValue::new("hunter2-very-secret".into());
        let shown = format!("{v:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains(v.fingerprint().as_str()));
    }
}
