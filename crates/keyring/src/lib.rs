//! rotor-keyring: what an application links so that rotor can rotate its
//! keys without logging anyone out or losing data.
//!
//! rotor delivers a secret as `NAME` + `NAME_PREVIOUS` (or one list
//! `NAME=NEW,OLD`). A [`Keyring`] reads exactly that: the first key is the
//! current one, which signs and encrypts; every key on the ring still
//! verifies and decrypts. Key ids are the fingerprints rotor prints (first 16
//! hex digits of SHA-256 of the value), so a token's `kid` can be matched to
//! `rotor history`.
//!
//! ```
//! use rotor_keyring::Keyring;
//!
//! // What rotor delivers during an overlap: the new key, and the old one.
//! let ring = Keyring::from_pair("new-signing-key-0123456789abcdef", Some("old-signing-key-0123456789abcdef"))?;
//! assert_eq!(ring.len(), 2);
//! assert_eq!(ring.current().id().as_str().len(), 16);
//! # Ok::<(), rotor_keyring::KeyringError>(())
//! ```
//!
//! On top of a ring:
//!
//! - [`hmac`]: HMAC-SHA256 tags with the current key, checked in constant
//!   time by key id or against every live key.
//! - [`Jwt`]: JWTs (HS256/384/512 over a [`Keyring`]; RS256, ES256, EdDSA over
//!   a [`PairRing`] of PEM keys) signed with the current key and `kid`,
//!   verified by `kid`, or for legacy tokens against every live key; `alg`
//!   `none` and algorithm confusion are refused, and each failure is its own
//!   [`KeyringError`] variant.
//! - [`jwks()`]: the live public keys as a JWKS document.
//! - [`aead`]: encrypt data at rest (AES-256-GCM) in a self-describing
//!   format that names its key, so old data still opens after a rotation and
//!   a job can find and re-seal it ([`aead::needs_reencrypt`]).
//! - [`pepper`]: peppered hashes of API keys and tokens that record the
//!   pepper's id, so a pepper can be rotated and old hashes upgraded on use.
//! - [`csrf`]: session-bound CSRF tokens that stay valid across a rotation.
//! - [`Reloadable`]: swap in freshly loaded keys on SIGHUP or a timer, so a
//!   rotation needs no restart.
//!
//! Two rules of use. Give each purpose its own secret: an HMAC tag, a
//! pepper hash and an HS256 signature under the same key are the same MAC,
//! so a key that tags attacker-chosen data must not also sign tokens. And
//! identify tokens by a `jti` claim, never by the token string: ECDSA
//! signatures are malleable, so one set of claims can have two valid strings.
//!
//! It depends on nothing of rotor, on no async runtime, no SQL and no CLI.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod aead;
pub mod csrf;
mod error;
pub mod hmac;
pub mod jwks;
pub mod jwt;
mod key;
mod pem;
pub mod pepper;
mod reload;

pub use error::KeyringError;
pub use jwks::{jwk, jwks, jwks_of};
pub use jwt::{Jwt, JwtAlg, Verified};
pub use key::{Key, KeyId, Keyring};
pub use pem::{KeyKind, KeyPair, PairRing, PublicKey, RingKey};
pub use reload::Reloadable;
