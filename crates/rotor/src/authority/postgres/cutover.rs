//! The PostgreSQL `cutover` authority: one LOGIN role whose password is
//! replaced in place with `ALTER ROLE … PASSWORD … VALID UNTIL …`.
//!
//! `apply` sets the new password and then logs in with it; `verify` is a
//! real login as the role. Between `apply` and the consumers' restart
//! neither the old nor the new password is guaranteed to work for every
//! client: that is what `cutover` means (the zero-downtime strategy is
//! [`alternate`](super::alternate)).

use std::time::Duration;

use secrecy::SecretString;
use tokio_postgres::Config;

use super::{admin_config, classify_password, quote_ident, valid_until, verifier, Link, NAME};
use crate::authority::{Acceptance, Authority, AuthorityError, Credential};
use crate::secret::SecretValue;

/// `ALTER ROLE … PASSWORD` on one role, through an admin connection.
pub struct PostgresCutover {
    link: Link,
    role: String,
    valid_for: Option<Duration>,
}

impl std::fmt::Debug for PostgresCutover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresCutover")
            .field("admin", &"[REDACTED]")
            .field("role", &self.role)
            .field("valid_for", &self.valid_for)
            .finish()
    }
}

impl PostgresCutover {
    /// An authority for `role`, managed through `admin_url` (a
    /// `postgres://` URL or a `key=value` connection string of a role with
    /// CREATEROLE). Checks the URL and the role name; connects only when a
    /// step runs.
    pub fn new(admin_url: SecretString, role: impl Into<String>) -> Result<Self, AuthorityError> {
        Self::with_config(admin_config(&admin_url)?, role)
    }

    /// Like [`PostgresCutover::new`], with the admin connection already
    /// parsed.
    pub fn with_config(admin: Config, role: impl Into<String>) -> Result<Self, AuthorityError> {
        let role = role.into();
        quote_ident(&role)?;
        Ok(PostgresCutover {
            link: Link::new(admin)?,
            role,
            valid_for: None,
        })
    }

    /// Every password set gets `VALID UNTIL now + valid_for` (by the
    /// server's clock); `None` (the default) sets `VALID UNTIL 'infinity'`.
    pub fn valid_for(mut self, valid_for: Option<Duration>) -> Self {
        self.valid_for = valid_for;
        self
    }

    /// The role whose password this authority sets.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// Sets the role's password to `value`, as a client-side SCRAM verifier.
    /// A failure that certainly changed nothing (no connection, a statement
    /// the server refused and rolled back) goes through `nothing_changed`;
    /// a connection lost mid-statement may have changed it.
    fn set_password(
        &self,
        value: &SecretValue,
        nothing_changed: fn(AuthorityError) -> AuthorityError,
    ) -> Result<(), AuthorityError> {
        let role = quote_ident(&self.role)?;
        let password = verifier(value);
        self.link.with_admin_or(nothing_changed, async |client| {
            let until = valid_until(client, self.valid_for)
                .await
                .map_err(nothing_changed)?;
            let sql = zeroize::Zeroizing::new(format!(
                "ALTER ROLE {role} PASSWORD {} {until}",
                password.as_str()
            ));
            client.batch_execute(&sql).await.map_err(|e| {
                let err = classify_password(&e, &format!("ALTER ROLE {}", self.role));
                if e.as_db_error().is_some() {
                    nothing_changed(err)
                } else {
                    err
                }
            })
        })
    }
}

impl Authority for PostgresCutover {
    fn name(&self) -> &'static str {
        NAME
    }

    fn next_user(&self, _live: Option<&str>) -> Result<Option<String>, AuthorityError> {
        Ok(Some(self.role.clone()))
    }

    /// Sets the new password, then logs in with it.
    fn apply(
        &self,
        new: Credential<'_>,
        _old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        self.set_password(new.secret, AuthorityError::unchanged)?;
        self.link
            .block_on(self.link.check_login(&self.role, new.secret))
    }

    fn verify(&self, cred: Credential<'_>) -> Result<Acceptance, AuthorityError> {
        self.link.block_on(self.link.login(&self.role, cred.secret))
    }

    /// Cutover keeps no second password: after `apply` the old one is
    /// already refused, so there is nothing left to revoke.
    fn retire(&self, _old: Credential<'_>, _live: Credential<'_>) -> Result<(), AuthorityError> {
        Ok(())
    }

    /// Sets `old` back. Without an `old` (rotor never knew the role's first
    /// password) there is nothing to restore and the new one stays.
    fn undo(
        &self,
        _new: Credential<'_>,
        old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        match old {
            Some(old) => self.set_password(old.secret, |e| e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_url_does_not_echo_it() {
        let url = "postgres://admin:hunter2-secret@host:notaport/db";
        let err = PostgresCutover::new(SecretString::from(url), "app").expect_err("bad URL");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(matches!(err, AuthorityError::Permanent { .. }));
    }

    #[test]
    fn debug_redacts_the_admin_url() {
        let auth = PostgresCutover::new(
            SecretString::from("postgres://admin:hunter2-secret@127.0.0.1:5432/db"),
            "app",
        )
        .expect("valid");
        let shown = format!("{auth:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app"));
    }
}
