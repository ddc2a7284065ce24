//! Authorities: the systems that check a credential and must be told about a
//! new one (a database role, a Redis ACL user, a provider portal). An
//! app-only secret (a JWT or session signing key) has none: only the
//! application checks it, through the targets.
//!
//! Each authority implements the step contract below and must pass the
//! conformance suite in `rotor-testkit`: applying twice equals applying
//! once, undo works after a partial apply and twice in a row, and retiring
//! twice is harmless.

pub mod postgres;

use crate::inventory::SecretSpec;
use crate::secret::SecretValue;

/// What an authority says about a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// The authority accepts it.
    Accepted,
    /// The authority refuses it.
    Refused,
    /// Nothing checks this secret outside the application.
    Unchecked,
}

/// Why an authority step failed. The message never holds a value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthorityError {
    /// Worth retrying (connection lost, server restarting).
    #[error("{authority}: {message}")]
    Transient {
        /// Which authority.
        authority: &'static str,
        /// What happened.
        message: String,
    },
    /// Retrying cannot help (authentication refused, permission denied).
    #[error("{authority}: {message}")]
    Permanent {
        /// Which authority.
        authority: &'static str,
        /// What happened, and what to do.
        message: String,
    },
}

/// The step contract of an authority. Every method is idempotent.
pub trait Authority {
    /// Its name in plans, journal and audit.
    fn name(&self) -> &'static str;
    /// Makes `new` acceptable (next to `old` where the strategy keeps both).
    fn apply(
        &self,
        secret: &str,
        new: &SecretValue,
        old: Option<&SecretValue>,
    ) -> Result<(), AuthorityError>;
    /// Whether `value` is accepted now.
    fn verify(&self, secret: &str, value: &SecretValue) -> Result<Acceptance, AuthorityError>;
    /// Stops accepting `old`; retiring what is already retired succeeds.
    fn retire(&self, secret: &str, old: &SecretValue) -> Result<(), AuthorityError>;
    /// Takes back `apply`, also after a partial one, so that `old` (if any)
    /// is what the authority accepts again.
    fn undo(
        &self,
        secret: &str,
        new: &SecretValue,
        old: Option<&SecretValue>,
    ) -> Result<(), AuthorityError>;
}

/// An app-only secret: nothing outside the application checks it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuthority;

impl Authority for NoAuthority {
    fn name(&self) -> &'static str {
        "none"
    }

    fn apply(
        &self,
        _: &str,
        _: &SecretValue,
        _: Option<&SecretValue>,
    ) -> Result<(), AuthorityError> {
        Ok(())
    }

    fn verify(&self, _: &str, _: &SecretValue) -> Result<Acceptance, AuthorityError> {
        Ok(Acceptance::Unchecked)
    }

    fn retire(&self, _: &str, _: &SecretValue) -> Result<(), AuthorityError> {
        Ok(())
    }

    fn undo(
        &self,
        _: &str,
        _: &SecretValue,
        _: Option<&SecretValue>,
    ) -> Result<(), AuthorityError> {
        Ok(())
    }
}

/// The authority a secret answers to. Every secret is app-only until the
/// PostgreSQL and Redis authorities arrive.
pub fn of(_spec: &SecretSpec) -> Box<dyn Authority> {
    Box::new(NoAuthority)
}
