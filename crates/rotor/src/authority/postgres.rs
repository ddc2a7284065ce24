//! The PostgreSQL `cutover` authority: one LOGIN role whose password is
//! replaced in place with `ALTER ROLE … PASSWORD`.
//!
//! The password is sent as a SCRAM-SHA-256 verifier computed here, on the
//! client, so the plaintext never reaches the server, its log or
//! `pg_stat_statements`. `verify` is a real login as the role. Between
//! `apply` and the consumers' restart neither the old nor the new password
//! is guaranteed to work for every client: that is what `cutover` means (the
//! zero-downtime strategy is `alternate`).
//!
//! Error messages never hold a password, a verifier or the admin URL.

use std::error::Error as _;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, NoTls};
use zeroize::Zeroizing;

use super::{Acceptance, Authority, AuthorityError, Credential};
use crate::inventory::{PostgresAuthority, Strategy};
use crate::secret::SecretValue;

const NAME: &str = "postgres";

/// How long a connection attempt may take before it counts as transient.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `ALTER ROLE … PASSWORD` on one role, through an admin connection.
pub struct PostgresCutover {
    admin: Config,
    role: String,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for PostgresCutover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresCutover")
            .field("admin", &"[REDACTED]")
            .field("role", &self.role)
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
        let admin = with_defaults(admin);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| permanent(format!("cannot start the I/O runtime: {e}")))?;
        Ok(PostgresCutover {
            admin,
            role,
            runtime,
        })
    }

    /// The role whose password this authority sets.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// Sets the role's password to `value`, as a client-side SCRAM verifier.
    fn set_password(&self, value: &SecretValue) -> Result<(), AuthorityError> {
        let role = quote_ident(&self.role)?;
        let verifier = Zeroizing::new(postgres_protocol::password::scram_sha_256(
            value.expose().as_bytes(),
        ));
        // DDL takes no bind parameters; the verifier is base64 and `$`/`:`,
        // quoted as a literal all the same.
        let sql = Zeroizing::new(format!(
            "ALTER ROLE {role} PASSWORD {}",
            quote_literal(&verifier)
        ));
        let config = self.admin.clone();
        let role_name = self.role.clone();
        self.runtime.block_on(async move {
            let (client, conn) = config
                .connect(NoTls)
                .await
                .map_err(|e| unchanged(classify(&e, "admin connection")))?;
            let conn = tokio::spawn(conn);
            // One statement: refused by the server means rolled back,
            // nothing changed (a lost connection leaves it unknown).
            let result = client.batch_execute(&sql).await.map_err(|e| {
                let err = classify(&e, &format!("ALTER ROLE {role_name}"));
                if e.as_db_error().is_some() {
                    unchanged(err)
                } else {
                    err
                }
            });
            drop(client);
            let _ = conn.await;
            result
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

    fn apply(
        &self,
        new: Credential<'_>,
        _old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        self.set_password(new.secret)
    }

    fn verify(&self, cred: Credential<'_>) -> Result<Acceptance, AuthorityError> {
        let mut config = self.admin.clone();
        config.user(self.role.as_str());
        config.password(cred.secret.expose().as_bytes());
        let role = self.role.clone();
        self.runtime.block_on(async move {
            match config.connect(NoTls).await {
                Ok((client, conn)) => {
                    let conn = tokio::spawn(conn);
                    drop(client);
                    let _ = conn.await;
                    Ok(Acceptance::Accepted)
                }
                Err(e) => match e.code() {
                    // Wrong password (or no such role: the server does not
                    // say which), or a role that may not log in.
                    Some(c)
                        if *c == SqlState::INVALID_PASSWORD
                            || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
                    {
                        Ok(Acceptance::Refused)
                    }
                    _ => Err(classify(&e, &format!("login as {role}"))),
                },
            }
        })
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
            Some(old) => self.set_password(old.secret),
            None => Ok(()),
        }
    }
}

/// The authority for a `[secret.authority] kind = "postgres"` entry.
pub fn build(
    spec: &PostgresAuthority,
    strategy: &Strategy,
    admin: super::Admin,
) -> Result<Box<dyn Authority>, AuthorityError> {
    let url = match admin {
        super::Admin::Url(u) => u,
        super::Admin::UrlAndPassword { url, password } => {
            // Checked by the loader: a URL with a user and no password.
            let mut config = Config::from_str(&url).map_err(|_| {
                permanent("admin_url is not a valid PostgreSQL connection URL".into())
            })?;
            config.password(password.expose().as_bytes());
            return match strategy {
                Strategy::Cutover => Ok(Box::new(PostgresCutover::with_config(
                    config,
                    first_role(spec)?,
                )?)),
                _ => Err(permanent(format!(
                    "strategy {} is not available for PostgreSQL",
                    strategy.kind()
                ))),
            };
        }
        super::Admin::None => {
            return Err(permanent("no admin connection was configured".into()));
        }
    };
    match strategy {
        Strategy::Cutover => Ok(Box::new(PostgresCutover::new(url, first_role(spec)?)?)),
        _ => Err(permanent(format!(
            "strategy {} is not available for PostgreSQL",
            strategy.kind()
        ))),
    }
}

fn first_role(spec: &PostgresAuthority) -> Result<String, AuthorityError> {
    spec.roles
        .first()
        .cloned()
        .ok_or_else(|| permanent("no role is configured".into()))
}

/// Parses the admin URL. The parser's message is dropped: it may quote
/// parts of the URL.
fn admin_config(url: &SecretString) -> Result<Config, AuthorityError> {
    let config = Config::from_str(url.expose_secret()).map_err(|_| {
        permanent("the admin URL is not a valid PostgreSQL connection string".into())
    })?;
    Ok(with_defaults(config))
}

/// A connect timeout and an application name, unless the URL sets them.
fn with_defaults(mut config: Config) -> Config {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("rotor");
    }
    config
}

/// Maps a client error to transient (worth retrying) or permanent, with a
/// message made only of the step, the SQLSTATE, the server's message and
/// the OS error: never the URL or a password.
fn classify(e: &tokio_postgres::Error, step: &str) -> AuthorityError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let text = format!("{step}: {} (SQLSTATE {})", db.message(), code.code());
        return if is_transient_code(code) {
            transient(text)
        } else if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            permanent(format!("{text}; check the admin URL's user and password"))
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            permanent(format!("{text}; the admin role needs CREATEROLE"))
        } else {
            permanent(text)
        };
    }
    // No server answer: look for the OS error underneath.
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return transient(format!("{step}: {e}: {io}"));
        }
        source = s.source();
    }
    if e.is_closed() || e.to_string().contains("timeout") {
        return transient(format!("{step}: {e}"));
    }
    permanent(format!("{step}: {e}"))
}

fn is_transient_code(code: &SqlState) -> bool {
    let c = code.code();
    // 08: connection exception; 53: insufficient resources (too many
    // connections); 57P01-03: shutting down, crash shutdown, starting up;
    // 40: serialization failure / deadlock.
    c.starts_with("08")
        || c.starts_with("53")
        || c.starts_with("40")
        || matches!(c, "57P01" | "57P02" | "57P03")
}

/// A failure that changed nothing (no connection, or one statement that
/// the server refused and rolled back).
fn unchanged(e: AuthorityError) -> AuthorityError {
    match e {
        AuthorityError::Transient { authority, message }
        | AuthorityError::Permanent { authority, message }
        | AuthorityError::Unchanged { authority, message } => {
            AuthorityError::Unchanged { authority, message }
        }
    }
}

fn transient(message: String) -> AuthorityError {
    AuthorityError::Transient {
        authority: NAME,
        message,
    }
}

fn permanent(message: String) -> AuthorityError {
    AuthorityError::Permanent {
        authority: NAME,
        message,
    }
}

/// Quotes an SQL identifier: `"…"` with inner `"` doubled. Refuses the
/// empty name, NUL and names longer than PostgreSQL keeps (63 bytes), which
/// it would silently truncate to another role's name.
pub fn quote_ident(name: &str) -> Result<String, AuthorityError> {
    if name.is_empty() {
        return Err(permanent("the role name is empty".into()));
    }
    if name.contains('\0') {
        return Err(permanent("the role name contains a NUL byte".into()));
    }
    if name.len() > 63 {
        return Err(permanent(format!(
            "the role name is {} bytes long; PostgreSQL keeps at most 63",
            name.len()
        )));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// Quotes a string literal for `standard_conforming_strings = on` (the
/// default since 9.1): `'…'` with inner `'` doubled; a backslash forces the
/// `E''` form with backslashes doubled, so it is right either way.
fn quote_literal(value: &str) -> String {
    let body = value.replace('\'', "''");
    if body.contains('\\') {
        format!("E'{}'", body.replace('\\', "\\\\"))
    } else {
        format!("'{body}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("app").expect("valid"), "\"app\"");
        assert_eq!(quote_ident("a\"b").expect("valid"), "\"a\"\"b\"");
        assert_eq!(
            quote_ident("x\"; DROP ROLE postgres; --").expect("valid"),
            "\"x\"\"; DROP ROLE postgres; --\""
        );
        assert!(quote_ident("").is_err());
        assert!(quote_ident("a\0b").is_err());
        assert!(quote_ident(&"r".repeat(64)).is_err());
        assert!(quote_ident(&"r".repeat(63)).is_ok());
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(quote_literal("abc"), "'abc'");
        assert_eq!(quote_literal("a'b"), "'a''b'");
        assert_eq!(quote_literal("a\\'b"), "E'a\\\\''b'");
    }

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

    #[test]
    fn the_verifier_is_scram_and_not_the_password() {
        let v = postgres_protocol::password::scram_sha_256(b"hunter2-secret");
        assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
        assert!(!v.contains("hunter2"));
        assert!(!v.contains('\''));
    }
}
