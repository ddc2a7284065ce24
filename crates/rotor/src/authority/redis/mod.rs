//! Redis authorities. ACLs are not replicated, so every step runs on each
//! listed node (primary, replicas, or every cluster node):
//!
//! - [`dual::RedisDualPassword`] (`dual-password`): one ACL user holds the
//!   old and the new password at once while consumers move;
//! - [`requirepass::RedisRequirepass`] (`cutover`): the `default` user's one
//!   password (legacy `requirepass`) changes in place;
//!
//! Nodes are `redis://HOST:PORT`, or all `rediss://HOST:PORT` (TLS, the
//! server's certificate checked against the system's roots or against the
//! CA of `tls_ca_file`: [`NodeTls`]; there is no way to skip the check).
//!
//! What they share: `login` (the admin login, TLS, connecting with
//! timeouts, `AUTH`), `acl` (reading and changing an ACL user, persisting a
//! node), and here, building the authority a secret names and turning Redis
//! errors into [`AuthorityError`]s that never quote a password or a hash.

mod acl;
pub mod dual;
mod login;
pub mod requirepass;

pub use acl::Persisted;
pub use dual::RedisDualPassword;
pub use login::{AdminLogin, NodeTls};
pub use requirepass::RedisRequirepass;

use std::time::Duration;

use acl::{acl_user, persist, setuser, sha256_hex, PersistLog};
use login::{auth, check_nodes, connect};

use super::{Admin, Authority, AuthorityError};
use crate::inventory::{RedisAuthority, Strategy};

const NAME: &str = "redis";

/// How long connecting, and each command, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The Redis authority for `spec` under `strategy`, managed through
/// `admin`.
pub fn build(
    spec: &RedisAuthority,
    strategy: &Strategy,
    admin: Admin,
) -> Result<Box<dyn Authority>, AuthorityError> {
    let admin = match admin {
        Admin::None => None,
        Admin::Url(url) => Some(AdminLogin::from_url(&url)?),
        Admin::UrlAndPassword { url, password } => Some(AdminLogin::from_parts(&url, &password)?),
    };
    let tls = match &spec.tls_ca_file {
        Some(path) => NodeTls::from_ca_file(path)?,
        None => NodeTls::default(),
    };
    match strategy {
        Strategy::DualPassword => {
            let user = spec.user.clone().ok_or_else(|| {
                permanent("dual-password needs the ACL user whose passwords turn (user = \"…\")".into())
            })?;
            Ok(Box::new(
                RedisDualPassword::with_admin(admin, user, spec.nodes.clone())?.with_tls(tls)?,
            ))
        }
        Strategy::Cutover => {
            if spec.user.is_some() {
                return Err(permanent(
                    "cutover rotates requirepass (the default user's password); it takes no user".into(),
                ));
            }
            Ok(Box::new(
                RedisRequirepass::new(admin, spec.nodes.clone())?.with_tls(tls)?,
            ))
        }
        other => Err(permanent(format!(
            "strategy {} is not supported by the redis authority; use dual-password (an ACL user) or cutover (requirepass)",
            other.kind()
        ))),
    }
}

/// Transient (connection) or permanent (refused), with the node and step;
/// Redis error texts quote neither passwords nor hashes.
fn classify(e: &redis::RedisError, node: &str, step: &str) -> AuthorityError {
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        return transient(format!("{node}: {step}: {e}"));
    }
    // Redis quotes a failing ACL modifier, which may be a password hash.
    let text = scrub_hashes(&format!("{node}: {step}: {e}"));
    if text.contains("unknown command") || text.contains("ERR unknown subcommand") {
        return permanent(format!(
            "{text}; this server has no ACLs (Redis 6 or later is needed for dual passwords; use strategy cutover for requirepass)"
        ));
    }
    if e.code() == Some("NOPERM") {
        return permanent(format!(
            "{text}; the admin user needs +@admin (ACL, CONFIG)"
        ));
    }
    permanent(text)
}

/// `text` with every run of 64 hex digits (a SHA-256 password hash)
/// replaced by `<hash>`.
fn scrub_hashes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if run >= 64 {
            out.push_str("<hash>");
            i += run;
        } else if run > 0 {
            out.push_str(&text[i..i + run]);
            i += run;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;
    use secrecy::SecretString;

    #[test]
    fn the_hash_is_sha256_hex() {
        let v = SecretValue::new("hunter2-rotated".into());
        let h = sha256_hex(&v);
        assert_eq!(h.len(), 64);
        assert!(h
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        // sha256("abc")
        let abc = sha256_hex(&SecretValue::new("abc".into()));
        assert_eq!(
            abc.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hashes_are_scrubbed_from_messages() {
        let h = "90a1a654218c6494e5d95cd9d1dbcd0a4b5d97223caf7f9afaea192491885d3e";
        let text = format!("Error in ACL SETUSER modifier '!{h}': nope (port 6379, ab12)");
        let scrubbed = scrub_hashes(&text);
        assert!(!scrubbed.contains(h), "{scrubbed}");
        assert!(scrubbed.contains("'!<hash>'"), "{scrubbed}");
        assert!(scrubbed.contains("port 6379, ab12"), "{scrubbed}");
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_a_password() {
        let err = RedisDualPassword::new(
            &SecretString::from("not a url with hunter2-secret"),
            "app",
            vec!["redis://127.0.0.1:6379".into()],
        )
        .expect_err("bad admin URL");
        assert!(!format!("{err} {err:?}").contains("hunter2"));
        let err = RedisDualPassword::new(
            &SecretString::from("redis://admin:hunter2-secret@127.0.0.1:6379"),
            "app",
            vec!["redis://app:other-secret@127.0.0.1:6379".into()],
        )
        .expect_err("a node URL with a password");
        assert!(!format!("{err}").contains("other-secret"));
    }

    #[test]
    fn debug_redacts_the_admin_password() {
        let a = RedisDualPassword::new(
            &SecretString::from("redis://admin:hunter2-secret@127.0.0.1:6379"),
            "app",
            vec!["redis://127.0.0.1:6379".into()],
        )
        .expect("valid");
        assert!(!format!("{a:?}").contains("hunter2"));
    }
}
