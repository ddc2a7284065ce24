//! The PostgreSQL authorities: a role's password, set through an admin
//! connection (a role with CREATEROLE).
//!
//! - [`PostgresCutover`] (`strategy = "cutover"`): one LOGIN role whose
//!   password is replaced in place.
//! - [`PostgresAlternate`] (`strategy = "alternate"`): two LOGIN roles that
//!   take turns, both members of a NOLOGIN group role that holds the
//!   privileges; see [`alternate`] for the whole story, including the
//!   conversion of an existing single login role.
//!
//! What both share lives here: the admin connection, the login check,
//! error classification (transient vs permanent), quoting, and the
//! passwords' form on the wire. A password is only ever sent as a
//! SCRAM-SHA-256 verifier computed on the client, so the plaintext never
//! reaches the server, its log or `pg_stat_statements`.
//!
//! Error messages never hold a password, a verifier or the admin URL.

pub mod alternate;
pub mod cutover;
mod drain;
mod roles;
mod setconfig;
mod sync;

use std::error::Error as _;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, GenericClient, NoTls};
use zeroize::{Zeroize, Zeroizing};

pub use alternate::PostgresAlternate;
pub use cutover::PostgresCutover;

use super::{Acceptance, Admin, Authority, AuthorityError};
use crate::inventory::{PostgresAuthority, Strategy};
use crate::secret::SecretValue;

const NAME: &str = "postgres";

/// How long a connection attempt may take before it counts as transient.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bounds on every statement rotor sends: a role another session has
/// locked (an `ALTER ROLE` in an open transaction) or a statement that
/// hangs fails, as transient, instead of holding the run forever. Settings
/// in the URL's own `options` come after these, so they win.
const SESSION_OPTIONS: &str = "-c lock_timeout=5s -c statement_timeout=5min";

/// The authority for a `[secret.authority] kind = "postgres"` entry.
pub fn build(
    spec: &PostgresAuthority,
    strategy: &Strategy,
    admin: Admin,
) -> Result<Box<dyn Authority>, AuthorityError> {
    let config = match admin {
        Admin::Url(url) => admin_config(&url)?,
        Admin::UrlAndPassword { url, password } => {
            // Checked by the loader: a URL with a user and no password.
            let mut config = Config::from_str(&url).map_err(|_| {
                permanent("admin_url is not a valid PostgreSQL connection URL".into())
            })?;
            config.password(password.expose().as_bytes());
            config
        }
        Admin::None => return Err(permanent("no admin connection was configured".into())),
    };
    match strategy {
        Strategy::Cutover => {
            let role = spec
                .roles
                .first()
                .cloned()
                .ok_or_else(|| permanent("no role is configured".into()))?;
            Ok(Box::new(
                PostgresCutover::with_config(config, role)?.valid_for(spec.valid_for),
            ))
        }
        Strategy::Alternate => {
            let (group, roles) = match (&spec.group, spec.roles.as_slice()) {
                (Some(g), [a, b]) => (g.clone(), [a.clone(), b.clone()]),
                _ => {
                    return Err(permanent(
                        "strategy alternate needs a group and exactly two roles".into(),
                    ))
                }
            };
            Ok(Box::new(
                PostgresAlternate::with_config(config, group, roles)?
                    .retire_mode(spec.retire)
                    .drain_timeout(spec.drain_timeout)
                    .valid_for(spec.valid_for),
            ))
        }
        _ => Err(permanent(format!(
            "strategy {} is not available for PostgreSQL",
            strategy.kind()
        ))),
    }
}

/// Parses the admin URL. The parser's message is dropped: it may quote
/// parts of the URL.
fn admin_config(url: &SecretString) -> Result<Config, AuthorityError> {
    Config::from_str(url.expose_secret())
        .map_err(|_| permanent("the admin URL is not a valid PostgreSQL connection string".into()))
}

/// A connect timeout and an application name, unless the URL sets them;
/// the statement and lock timeouts of [`SESSION_OPTIONS`];
/// and the database named outright: without one the server takes the
/// user's name, so a login check as another role would ask for a database
/// called like that role.
fn with_defaults(mut config: Config) -> Config {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_dbname().is_none() {
        if let Some(user) = config.get_user().map(str::to_owned) {
            config.dbname(&user);
        }
    }
    if config.get_application_name().is_none() {
        config.application_name("rotor");
    }
    let options = match config.get_options() {
        Some(o) => format!("{SESSION_OPTIONS} {o}"),
        None => SESSION_OPTIONS.to_owned(),
    };
    config.options(&options);
    config
}

/// The server as an authority reaches it: the admin connection's settings
/// and the I/O runtime the blocking trait methods run on.
struct Link {
    admin: Config,
    runtime: tokio::runtime::Runtime,
}

impl Link {
    fn new(admin: Config) -> Result<Self, AuthorityError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| permanent(format!("cannot start the I/O runtime: {e}")))?;
        Ok(Link {
            admin: with_defaults(admin),
            runtime,
        })
    }

    /// Runs `f` on a fresh admin connection, closing it afterwards.
    fn with_admin<T>(
        &self,
        f: impl AsyncFnOnce(&mut Client) -> Result<T, AuthorityError>,
    ) -> Result<T, AuthorityError> {
        self.with_admin_or(|e| e, f)
    }

    /// Like [`Link::with_admin`], passing a failure to connect through
    /// `on_connect` (for `apply`: it changed nothing).
    fn with_admin_or<T>(
        &self,
        on_connect: impl FnOnce(AuthorityError) -> AuthorityError,
        f: impl AsyncFnOnce(&mut Client) -> Result<T, AuthorityError>,
    ) -> Result<T, AuthorityError> {
        self.block_on(async {
            let (mut client, conn) = self
                .admin
                .connect(NoTls)
                .await
                .map_err(|e| on_connect(classify(&e, "admin connection")))?;
            let conn = tokio::spawn(conn);
            let result = f(&mut client).await;
            drop(client);
            let _ = conn.await;
            result
        })
    }

    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// A real login as `user` with `secret`, to the admin URL's host, port
    /// and database: accepted, or refused (wrong password, no such role, a
    /// NOLOGIN role, an expired password); anything else is an error.
    async fn login(&self, user: &str, secret: &SecretValue) -> Result<Acceptance, AuthorityError> {
        let mut config = self.admin.clone();
        config.user(user);
        config.password(secret.expose().as_bytes());
        match config.connect(NoTls).await {
            Ok((client, conn)) => {
                let conn = tokio::spawn(conn);
                drop(client);
                let _ = conn.await;
                Ok(Acceptance::Accepted)
            }
            Err(e) => match e.code() {
                // The server does not say which of wrong password, no such
                // role or expired password it was; a NOLOGIN role is 28000.
                Some(c)
                    if *c == SqlState::INVALID_PASSWORD
                        || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
                {
                    Ok(Acceptance::Refused)
                }
                _ => Err(classify(&e, &format!("login as {user}"))),
            },
        }
    }

    /// Like [`Link::login`], for `apply`: anything but accepted is an error
    /// saying the password was set and yet does not log in.
    async fn check_login(&self, user: &str, secret: &SecretValue) -> Result<(), AuthorityError> {
        match self.login(user, secret).await? {
            Acceptance::Accepted => Ok(()),
            _ => Err(permanent(format!(
                "the new password of {user} was set, but a login as {user} with it is \
                 refused (check pg_hba.conf and the role's connection limit)"
            ))),
        }
    }
}

/// The admin role's name, once it is known to be allowed to manage roles
/// (CREATEROLE or superuser); else a permanent error saying what to grant.
async fn admin_role(c: &Client) -> Result<String, AuthorityError> {
    let row = c
        .query_one(
            "SELECT current_user::text, rolsuper OR rolcreaterole \
             FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .map_err(|e| classify(&e, "reading the admin role"))?;
    let (name, may): (String, bool) = (row.get(0), row.get(1));
    if may {
        Ok(name)
    } else {
        Err(permanent(format!(
            "the admin role {name} lacks CREATEROLE; grant it (ALTER ROLE {} CREATEROLE) \
             or use another admin role",
            quote_ident(&name).unwrap_or_else(|_| name.clone())
        )))
    }
}

/// `VALID UNTIL …` for a new password: `now() + valid_for` by the server's
/// clock, or `'infinity'` (a previous expiry belonged to the previous
/// password).
async fn valid_until(
    c: &(impl GenericClient + Sync),
    valid_for: Option<Duration>,
) -> Result<String, AuthorityError> {
    let Some(d) = valid_for else {
        return Ok("VALID UNTIL 'infinity'".into());
    };
    let row = c
        .query_one(
            "SELECT (now() + make_interval(secs => $1::float8))::text",
            &[&d.as_secs_f64()],
        )
        .await
        .map_err(|e| classify(&e, "computing VALID UNTIL"))?;
    let until: String = row.get(0);
    Ok(format!("VALID UNTIL {}", quote_literal(&until)))
}

/// The SCRAM-SHA-256 verifier of `value`, as an SQL literal: what goes
/// after `PASSWORD`.
fn verifier(value: &SecretValue) -> Zeroizing<String> {
    let v = Zeroizing::new(postgres_protocol::password::scram_sha_256(
        value.expose().as_bytes(),
    ));
    // DDL takes no bind parameters; the verifier is base64 and `$`/`:`,
    // quoted as a literal all the same.
    Zeroizing::new(quote_literal(&v))
}

/// The verifier of a fresh random 32-byte password that is never stored
/// nor shown: nobody knows it, an admin can set a new one (break-glass).
fn unknown_verifier() -> Result<Zeroizing<String>, AuthorityError> {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| permanent("the system random number generator failed".into()))?;
    let v = Zeroizing::new(postgres_protocol::password::scram_sha_256(&bytes));
    bytes.zeroize();
    Ok(Zeroizing::new(quote_literal(&v)))
}

/// Maps a client error to transient (worth retrying) or permanent, with a
/// message made only of the step, the SQLSTATE, the server's message and
/// the OS error: never the URL or a password.
fn classify(e: &tokio_postgres::Error, step: &str) -> AuthorityError {
    classify_needing(e, step, "CREATEROLE")
}

/// Like [`classify`], naming `needs` as what the admin role lacks when the
/// server says permission denied.
fn classify_needing(e: &tokio_postgres::Error, step: &str, needs: &str) -> AuthorityError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let text = scrub(&format!(
            "{step}: {} (SQLSTATE {})",
            db.message(),
            code.code()
        ));
        return if is_transient_code(code) {
            transient(text)
        } else if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            permanent(format!("{text}; check the admin URL's user and password"))
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            permanent(format!("{text}; the admin role needs {needs}"))
        } else {
            permanent(text)
        };
    }
    // No server answer: look for the OS error underneath.
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return transient(scrub(&format!("{step}: {e}: {io}")));
        }
        source = s.source();
    }
    if e.is_closed() || e.to_string().contains("timeout") {
        return transient(scrub(&format!("{step}: {e}")));
    }
    permanent(scrub(&format!("{step}: {e}")))
}

/// What a password refused by the server means, appended to the server's
/// own message (which may well ask for the plaintext).
const POLICY_HINT: &str = "the server's password policy refused the password; rotor sends only a \
    SCRAM-SHA-256 verifier (the plaintext never leaves this machine), so a policy that must \
    see the plaintext cannot accept it: allow encrypted passwords for this role, or use a \
    policy that checks verifiers";

/// [`classify`] for a statement that sets a password (`ALTER ROLE …
/// PASSWORD`, `CREATE ROLE … PASSWORD`): a refusal that looks like a
/// password policy's (passwordcheck, credcheck or any other
/// `check_password_hook`) also says what it means for rotor, see
/// [`POLICY_HINT`].
fn classify_password(e: &tokio_postgres::Error, step: &str) -> AuthorityError {
    match e.as_db_error() {
        Some(db) if is_policy_refusal(db.code(), db.message()) => permanent(format!(
            "{}; {POLICY_HINT}",
            scrub(&format!(
                "{step}: {} (SQLSTATE {})",
                db.message(),
                db.code().code()
            ))
        )),
        _ => classify(e, step),
    }
}

/// Whether a server's refusal of a statement that sets a password looks
/// like a password policy's: SQLSTATE 22023 (invalid_parameter_value, what
/// passwordcheck and credcheck raise), class 28 (invalid authorization
/// specification), or any other permanent error whose message is about the
/// password; not a syntax error or a missing privilege (class 42).
fn is_policy_refusal(code: &SqlState, message: &str) -> bool {
    let c = code.code();
    if is_transient_code(code) || c.starts_with("42") {
        return false;
    }
    c == "22023" || c.starts_with("28") || message.to_ascii_lowercase().contains("password")
}

fn is_transient_code(code: &SqlState) -> bool {
    let c = code.code();
    // 08: connection exception; 53: insufficient resources (too many
    // connections); 57P01-03: shutting down, crash shutdown, starting up;
    // 40: serialization failure / deadlock; 55P03: lock timeout; 57014:
    // statement timeout (or cancelled).
    c.starts_with("08")
        || c.starts_with("53")
        || c.starts_with("40")
        || matches!(c, "57P01" | "57P02" | "57P03" | "55P03" | "57014")
}

/// Belt and braces: a server message that quotes a piece of a statement
/// (a syntax error "at or near …") must not carry a verifier along.
fn scrub(text: &str) -> String {
    const MARK: &str = "SCRAM-SHA-256$";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i]);
        out.push_str("[verifier]");
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// [`classify`] for a statement whose failure is known to have changed
/// nothing when the server answered with an error (it rolled back); a lost
/// connection leaves that unknown.
fn classify_rolled_back(e: &tokio_postgres::Error, step: &str) -> AuthorityError {
    let err = classify(e, step);
    if e.as_db_error().is_some() {
        err.unchanged()
    } else {
        err
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

/// Quotes a role name as an SQL identifier: `"…"` with inner `"` doubled.
/// Refuses the empty name, NUL and names longer than PostgreSQL keeps (63
/// bytes), which it would silently truncate to another role's name.
pub fn quote_ident(name: &str) -> Result<String, AuthorityError> {
    quote_name("role", name)
}

/// [`quote_ident`] for any kind of name (`what`: "role", "database", …).
fn quote_name(what: &str, name: &str) -> Result<String, AuthorityError> {
    if name.is_empty() {
        return Err(permanent(format!("the {what} name is empty")));
    }
    if name.contains('\0') {
        return Err(permanent(format!("the {what} name contains a NUL byte")));
    }
    if name.len() > 63 {
        return Err(permanent(format!(
            "the {what} name is {} bytes long; PostgreSQL keeps at most 63",
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
    fn the_verifier_is_scram_and_not_the_password() {
        let v = postgres_protocol::password::scram_sha_256(b"hunter2-secret");
        assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
        assert!(!v.contains("hunter2"));
        assert!(!v.contains('\''));
        let sql = verifier(&SecretValue::new("hunter2-secret".into()));
        assert!(sql.starts_with("'SCRAM-SHA-256$4096:") && sql.ends_with('\''));
    }

    #[test]
    fn unknown_passwords_differ() {
        let a = unknown_verifier().expect("random");
        let b = unknown_verifier().expect("random");
        assert_ne!(*a, *b);
        assert!(a.starts_with("'SCRAM-SHA-256$"));
    }

    #[test]
    fn password_policy_refusals_are_recognised() {
        let code = |c: &str| SqlState::from_code(c);
        // passwordcheck and credcheck raise invalid_parameter_value.
        assert!(is_policy_refusal(&code("22023"), "password is too short"));
        assert!(is_policy_refusal(
            &code("22023"),
            "password type is not a plain text"
        ));
        assert!(is_policy_refusal(&code("28000"), "not allowed"));
        assert!(is_policy_refusal(
            &code("P0001"),
            "Password must contain a digit"
        ));
        // Not a policy: privileges, syntax, a lost connection, an
        // unrelated error.
        assert!(!is_policy_refusal(
            &code("42501"),
            "permission denied to alter role; only roles with CREATEROLE may change a password"
        ));
        assert!(!is_policy_refusal(
            &code("42601"),
            "syntax error at or near \"PASSWORD\""
        ));
        assert!(!is_policy_refusal(&code("08006"), "password"));
        assert!(!is_policy_refusal(&code("23505"), "duplicate key value"));
    }

    #[test]
    fn the_policy_hint_holds_no_secret_and_says_what_to_do() {
        assert!(POLICY_HINT.contains("SCRAM-SHA-256 verifier"));
        assert!(POLICY_HINT.contains("plaintext never leaves this machine"));
        assert!(POLICY_HINT.contains("allow encrypted passwords"));
        assert!(!POLICY_HINT.contains('$'));
    }

    #[test]
    fn verifiers_are_scrubbed_from_messages() {
        let v = postgres_protocol::password::scram_sha_256(b"x");
        let text = format!("syntax error at or near \"{v}\" here; and '{v}'");
        let clean = scrub(&text);
        assert!(!clean.contains("SCRAM-SHA-256$"), "{clean}");
        assert_eq!(
            clean,
            "syntax error at or near \"[verifier]\" here; and '[verifier]'"
        );
        assert_eq!(scrub("nothing to see"), "nothing to see");
    }
}
