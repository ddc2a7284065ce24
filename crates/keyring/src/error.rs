//! Errors. Each is its own variant so callers can tell a forged token from an
//! expired one, or an unknown key from tampering; none ever holds key
//! material.

/// Why a keyring could not be built, or an operation on it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// No key was given (the variable is missing or empty).
    #[error("no key in {0}: the variable is missing or empty")]
    NoKey(String),
    /// A key is too short to be a real secret.
    #[error("key {id} in {source_name} is only {len} bytes; rotor generates at least 16")]
    TooShort {
        /// Where it came from.
        source_name: String,
        /// Its id.
        id: String,
        /// Its length.
        len: usize,
    },
    /// The same key appears twice.
    #[error("key {0} appears twice on the ring")]
    Duplicate(String),
}
