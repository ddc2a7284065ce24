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
    /// A token is not a well-formed JWT (wrong number of parts, bad
    /// base64url, a header or claims set that is not a JSON object, an
    /// unsupported `crit` header). The text says which part.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// A token's `alg` is not one this crate implements (`none` included).
    #[error("unsupported JWT algorithm {0:?}")]
    UnsupportedAlg(String),
    /// A token's `alg` is a real algorithm but not the one configured for
    /// this keyring or for the key its `kid` names (HS/RS confusion lands
    /// here).
    #[error("JWT algorithm {0} is not allowed for this keyring")]
    AlgNotAllowed(String),
    /// A token or tag names a key id that is not on the ring (never was,
    /// or was retired).
    #[error("key {0} is not on the ring (unknown or retired)")]
    UnknownKid(String),
    /// The signature or tag does not verify under the key(s) tried.
    #[error("bad signature")]
    BadSignature,
    /// The token's `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// The token's `nbf` is still in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// The token's `iss` is missing or not the configured issuer.
    #[error("wrong or missing issuer")]
    WrongIssuer,
    /// The token's `aud` is missing or not a configured audience (or it
    /// has one and no audience is configured).
    #[error("wrong or missing audience")]
    WrongAudience,
    /// A required claim (`exp` by default) is missing, or a time claim is
    /// not a number.
    #[error("claim {0} is missing or not a number")]
    MissingClaim(&'static str),
    /// Claims could not be serialized to a JSON object for signing, or the
    /// verified claims do not deserialize into the requested type.
    #[error("claims: {0}")]
    Claims(String),
    /// A PEM key could not be read or is of a kind this crate does not
    /// support (encrypted, P-384, RSA below 2048 bits, ...).
    #[error("key {source_name}: {reason}")]
    BadKey {
        /// Where it came from (a file path or `PEM #n`).
        source_name: String,
        /// What is wrong (never any key material).
        reason: String,
    },
    /// The ring holds no private key for its current key, so it can only
    /// verify.
    #[error("current key {0} is public only: this ring can verify but not sign")]
    NoSigningKey(String),
    /// The crypto backend refused to sign (should not happen with a
    /// loaded key).
    #[error("signing failed")]
    SignFailed,
}
