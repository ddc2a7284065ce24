//! Authorities: the systems that check a credential and must be told about a
//! new one (a database role, a Redis ACL user, a provider portal). An
//! app-only secret (a JWT or session signing key) has none: only the
//! application checks it, through the targets.
//!
//! Each authority implements the step contract below and must pass the
//! conformance suite in `rotor-testkit`: applying twice equals applying
//! once, undo works after a partial apply and twice in a row, and retiring
//! twice is harmless.

pub mod exec;
pub mod postgres;
pub mod redis;
pub mod words;

use secrecy::SecretString;

use crate::inventory::{AuthoritySpec, SecretSpec};
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
    /// The step failed before changing anything there (the server could
    /// not be reached, refused the admin login, or rolled the statement
    /// back): there is nothing to undo.
    #[error("{authority}: {message}")]
    Unchanged {
        /// Which authority.
        authority: &'static str,
        /// What happened, and what to do.
        message: String,
    },
}

impl AuthorityError {
    /// Whether the failed step left the authority as it was.
    pub fn changed_nothing(&self) -> bool {
        matches!(self, AuthorityError::Unchanged { .. })
    }

    /// What it says, without the authority's name in front (for a message
    /// that quotes it and is shown with that name itself).
    pub fn message(&self) -> &str {
        match self {
            AuthorityError::Transient { message, .. }
            | AuthorityError::Permanent { message, .. }
            | AuthorityError::Unchanged { message, .. } => message,
        }
    }

    /// The same failure, known to have changed nothing.
    pub fn unchanged(self) -> AuthorityError {
        match self {
            AuthorityError::Transient { authority, message }
            | AuthorityError::Permanent { authority, message }
            | AuthorityError::Unchanged { authority, message } => {
                AuthorityError::Unchanged { authority, message }
            }
        }
    }

    /// The same kind of failure with other words (an `Unchanged` one
    /// becomes `Permanent`: the words say what did change).
    pub fn reworded(self, message: String) -> AuthorityError {
        match self {
            AuthorityError::Transient { authority, .. } => {
                AuthorityError::Transient { authority, message }
            }
            AuthorityError::Permanent { authority, .. }
            | AuthorityError::Unchanged { authority, .. } => {
                AuthorityError::Permanent { authority, message }
            }
        }
    }
}

/// A credential as an authority sees it: the login it belongs to (a
/// database role, an ACL user), if the credential has one, and the secret.
#[derive(Debug, Clone, Copy)]
pub struct Credential<'a> {
    /// The login; `None` for a bare secret (an API key, a signing key).
    pub user: Option<&'a str>,
    /// The password or key.
    pub secret: &'a SecretValue,
    /// The store's version number of it, when it is one (an exec plugin
    /// labels what it creates with it, so a retried step finds it again).
    pub version: Option<u32>,
}

impl<'a> Credential<'a> {
    /// A credential with this user and secret.
    pub fn new(user: Option<&'a str>, secret: &'a SecretValue) -> Self {
        Credential {
            user,
            secret,
            version: None,
        }
    }

    /// The same credential, known as version `n` of its secret.
    pub fn at(self, n: Option<u32>) -> Self {
        Credential { version: n, ..self }
    }
}

/// A credential the authority issued itself (a provider that mints its
/// keys): the engine stores it in place of the value it generated.
#[derive(Debug)]
pub struct Minted {
    /// The credential's non-secret part (an access key id), if any.
    pub user: Option<String>,
    /// The secret part.
    pub value: SecretValue,
}

/// The step contract of an authority. Every method is idempotent.
pub trait Authority {
    /// Its name in plans, journal and audit.
    fn name(&self) -> &'static str;
    /// The login the next version belongs to, given the live one's (the idle
    /// role of an alternating pair, or the one role of a cutover); `None`
    /// when credentials carry no user.
    fn next_user(&self, _live: Option<&str>) -> Result<Option<String>, AuthorityError> {
        Ok(None)
    }
    /// Makes `new` acceptable (next to `old` where the strategy keeps both),
    /// and checks that it is: an apply that returns `Ok` has seen the new
    /// credential work.
    fn apply(&self, new: Credential<'_>, old: Option<Credential<'_>>)
        -> Result<(), AuthorityError>;
    /// [`Authority::apply`] for an authority that may issue the value
    /// itself: `Some` is the credential it minted, which replaces `new`.
    fn apply_minting(
        &self,
        new: Credential<'_>,
        old: Option<Credential<'_>>,
    ) -> Result<Option<Minted>, AuthorityError> {
        self.apply(new, old).map(|()| None)
    }
    /// The authority's own promotion of `live` once consumers verified it
    /// (a provider's promote of a secondary token); `old` is not retired
    /// before this succeeded. Called when the inventory's kind says it
    /// finishes ([`crate::inventory::AuthoritySpec::finishes`]).
    fn finish(
        &self,
        _live: Credential<'_>,
        _old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        Ok(())
    }
    /// Whether a previous version stays live at the authority until
    /// retired there (a provider's second key), so that a new rotation must
    /// wait for `rotor retire` rather than drop it from the store only.
    fn holds_previous(&self) -> bool {
        false
    }
    /// How many credentials it lets live at once, if it limits them.
    fn max_live(&self) -> Result<Option<u32>, AuthorityError> {
        Ok(None)
    }
    /// Whether `cred` is accepted now.
    fn verify(&self, cred: Credential<'_>) -> Result<Acceptance, AuthorityError>;
    /// Stops accepting `old` once consumers use `live`; retiring what is
    /// already retired succeeds.
    fn retire(&self, old: Credential<'_>, live: Credential<'_>) -> Result<(), AuthorityError>;
    /// Takes back `apply`, also after a partial one, so that `old` (if any)
    /// is what the authority accepts again.
    fn undo(&self, new: Credential<'_>, old: Option<Credential<'_>>) -> Result<(), AuthorityError>;
    /// What the steps run so far through this value did that the audit
    /// trail should say beyond success (how each Redis node persisted), one
    /// sentence each; never a value.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// Differences between what the authority holds and what the store
    /// says, beyond whether the live credential logs in (for an alternating
    /// pair: memberships and settings that differ between the two roles).
    /// `previous` is the credential that is still meant to work (an old
    /// login waiting for `rotor retire`), if any: its being accepted is no
    /// drift. Each entry is one sentence for the operator.
    fn drift(
        &self,
        _live: Credential<'_>,
        _previous: Option<Credential<'_>>,
    ) -> Result<Vec<String>, AuthorityError> {
        Ok(Vec::new())
    }
}

/// An app-only secret: nothing outside the application checks it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuthority;

impl Authority for NoAuthority {
    fn name(&self) -> &'static str {
        "none"
    }

    fn apply(&self, _: Credential<'_>, _: Option<Credential<'_>>) -> Result<(), AuthorityError> {
        Ok(())
    }

    fn verify(&self, _: Credential<'_>) -> Result<Acceptance, AuthorityError> {
        Ok(Acceptance::Unchecked)
    }

    fn retire(&self, _: Credential<'_>, _: Credential<'_>) -> Result<(), AuthorityError> {
        Ok(())
    }

    fn undo(&self, _: Credential<'_>, _: Option<Credential<'_>>) -> Result<(), AuthorityError> {
        Ok(())
    }
}

/// The admin credential an authority connects with, resolved by the engine
/// from the inventory's `admin_url_env` or `admin_secret`.
pub enum Admin {
    /// The secret has no authority: nothing to connect to.
    None,
    /// A full connection URL (from an environment variable).
    Url(SecretString),
    /// A URL without password, and the password (another secret's current
    /// value).
    UrlAndPassword {
        /// `postgres://USER@HOST:PORT/DB`.
        url: String,
        /// The admin role's password.
        password: SecretValue,
    },
}

/// The authority a secret answers to, connected through `admin`.
pub fn of(spec: &SecretSpec, admin: Admin) -> Result<Box<dyn Authority>, AuthorityError> {
    match &spec.authority {
        None => Ok(Box::new(NoAuthority)),
        Some(AuthoritySpec::Postgres(pg)) => postgres::build(pg, &spec.strategy, admin),
        Some(AuthoritySpec::Redis(r)) => redis::build(r, &spec.strategy, admin),
        Some(AuthoritySpec::Exec(x)) => Ok(Box::new(exec::Plugin::new(
            &spec.name,
            x,
            &spec.strategy,
            spec.generator != crate::inventory::Generator::Minted,
        ))),
    }
}
