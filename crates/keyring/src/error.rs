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
    /// A dotenv file could not be read or parsed (the reason never quotes
    /// a line of it).
    #[error("{path}: {reason}")]
    EnvFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
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
    // --- AEAD (aead.rs) ---
    /// A ciphertext is shorter than its header and tag: cut off in storage
    /// or in transit.
    #[error("ciphertext is truncated: {len} bytes, a sealed value has at least {min}")]
    CiphertextTruncated {
        /// Its length.
        len: usize,
        /// The shortest valid length.
        min: usize,
    },
    /// A ciphertext's text form is not `rk1.` + base64url: not something
    /// `seal_text` made.
    #[error("ciphertext is malformed: {0}")]
    CiphertextMalformed(&'static str),
    /// A ciphertext starts with a format version this library does not know
    /// (made by a newer rotor-keyring, or not a sealed value at all).
    #[error("ciphertext has unknown format version {0}")]
    UnknownFormatVersion(u8),
    /// A ciphertext or stored hash names a key that is not on the ring: rotor
    /// has probably retired it (see `rotor history`), or the ring is the
    /// wrong secret's.
    #[error("key {0} is not on the ring: retired by rotor, or the wrong secret?")]
    UnknownKeyId(String),
    /// Authentication failed: the associated data differs from the one it
    /// was sealed with, or the bytes were edited.
    #[error("ciphertext failed authentication: wrong associated data, or edited bytes")]
    Tampered,
    /// The AEAD backend failed (the system random generator, or a plaintext
    /// beyond AES-GCM's limit); never caused by a ciphertext's content.
    #[error("AEAD failed: {0}")]
    AeadFailed(&'static str),
    // --- peppered hashes (pepper.rs) ---
    /// A stored peppered hash is not `ph1$<kid>$<base64url>`.
    #[error("stored peppered hash is malformed: {0}")]
    PepperMalformed(&'static str),
    // --- CSRF tokens (csrf.rs) ---
    /// A CSRF token is not `<timestamp>:<hex hmac>`.
    #[error("CSRF token is malformed: {0}")]
    CsrfMalformed(&'static str),
    /// A CSRF token is signed by no live key (forged, made for another
    /// session, or under a key rotor has retired).
    #[error("CSRF token signature matches no live key")]
    CsrfBadSignature,
    /// A CSRF token is genuine but older than the maximum age.
    #[error("CSRF token expired: {age_secs}s old, max {max_age_secs}s")]
    CsrfExpired {
        /// Its age in seconds (from its hour-truncated timestamp).
        age_secs: u64,
        /// The maximum age allowed.
        max_age_secs: u64,
    },
    /// A CSRF token is genuine but dated further ahead than the allowed
    /// clock skew.
    #[error("CSRF token is dated {ahead_secs}s in the future (more than the allowed clock skew)")]
    CsrfFromTheFuture {
        /// How far ahead of now it is dated.
        ahead_secs: u64,
    },
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
    /// A PEM block or JWK where a symmetric secret belongs: anyone with the
    /// public key could sign with it.
    #[error(
        "key {id} in {source_name} is a PEM or JWK key, not a secret; load key pairs with PairRing"
    )]
    NotASecret {
        /// Where it came from.
        source_name: String,
        /// Its id.
        id: String,
    },
}
