//! Redis authorities. ACLs are not replicated, so every step runs on each
//! listed node (primary, replicas, or every cluster node):
//!
//! - [`dual::RedisDualPassword`] (`dual-password`): one ACL user holds the
//!   old and the new password at once while consumers move;
//!
//! This module holds what they share: connecting with timeouts, `AUTH`,
//! reading an ACL user's password hashes, persisting a node's
//! configuration, and turning Redis errors into [`AuthorityError`]s that
//! never quote a password or a hash.

pub mod dual;

pub use dual::RedisDualPassword;

use std::time::Duration;

use aws_lc_rs::digest;

use super::AuthorityError;
use crate::secret::SecretValue;

const NAME: &str = "redis";

/// How long connecting, and each command, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How a node keeps its users across a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persisted {
    /// `ACL SAVE` into the node's aclfile.
    AclSave,
    /// `CONFIG REWRITE` of the node's config file.
    ConfigRewrite,
}

/// The lowercase hex SHA-256 of a password: what `#<hash>` takes (it
/// cannot be used to authenticate).
fn sha256_hex(value: &SecretValue) -> String {
    let d = digest::digest(&digest::SHA256, value.expose().as_bytes());
    let mut out = String::with_capacity(64);
    for b in d.as_ref() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn connect(node: &str) -> Result<redis::Connection, AuthorityError> {
    let client = redis::Client::open(node)
        .map_err(|_| permanent(format!("{node} is not a valid Redis URL")))?;
    let con = client
        .get_connection_with_timeout(TIMEOUT)
        .map_err(|e| classify(&e, node, "connect"))?;
    con.set_read_timeout(Some(TIMEOUT))
        .and_then(|_| con.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| classify(&e, node, "connect"))?;
    Ok(con)
}

/// `AUTH user password`: `Ok(false)` when refused.
fn auth(con: &mut redis::Connection, user: &str, password: &str) -> redis::RedisResult<bool> {
    match redis::cmd("AUTH").arg(user).arg(password).query::<()>(con) {
        Ok(()) => Ok(true),
        Err(e) if e.code() == Some("WRONGPASS") => Ok(false),
        Err(e) => Err(e),
    }
}

/// The password hashes `user` has on this node; `None` if there is no such
/// user.
fn password_hashes(
    con: &mut redis::Connection,
    user: &str,
    node: &str,
) -> Result<Option<Vec<String>>, AuthorityError> {
    let reply: redis::Value = redis::cmd("ACL")
        .arg("GETUSER")
        .arg(user)
        .query(con)
        .map_err(|e| classify(&e, node, "ACL GETUSER"))?;
    let pairs: Vec<(redis::Value, redis::Value)> = match reply {
        redis::Value::Nil => return Ok(None),
        redis::Value::Map(m) => m,
        redis::Value::Array(items) => {
            let mut out = Vec::new();
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((k, v));
            }
            out
        }
        _ => {
            return Err(permanent(format!(
                "{node}: ACL GETUSER gave an unexpected reply"
            )))
        }
    };
    for (k, v) in pairs {
        let key: Option<String> = redis::from_redis_value(k).ok();
        if key.as_deref() == Some("passwords") {
            let hashes: Vec<String> = redis::from_redis_value(v)
                .map_err(|_| permanent(format!("{node}: ACL GETUSER passwords are not a list")))?;
            return Ok(Some(hashes));
        }
    }
    Ok(Some(Vec::new()))
}

/// `ACL SAVE` when the node has an aclfile, else `CONFIG REWRITE`.
fn persist(con: &mut redis::Connection, node: &str) -> Result<Persisted, AuthorityError> {
    let conf: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("aclfile")
        .query(con)
        .map_err(|e| classify(&e, node, "CONFIG GET aclfile"))?;
    let aclfile = conf.get(1).is_some_and(|v| !v.is_empty());
    if aclfile {
        redis::cmd("ACL")
            .arg("SAVE")
            .query::<()>(con)
            .map_err(|e| classify(&e, node, "ACL SAVE"))?;
        Ok(Persisted::AclSave)
    } else {
        redis::cmd("CONFIG")
            .arg("REWRITE")
            .query::<()>(con)
            .map_err(|e| classify(&e, node, "CONFIG REWRITE"))?;
        Ok(Persisted::ConfigRewrite)
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
