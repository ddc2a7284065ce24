//! The Redis `dual-password` authority: one ACL user holds the old and the
//! new password at once while consumers move, on every node (ACLs are not
//! replicated, so each primary and replica is told separately).
//!
//! - `apply` adds the new password to the user on every node
//!   (`ACL SETUSER u on #<sha256>`: only the SHA-256 of the password crosses
//!   the wire, so neither `MONITOR` nor the slowlog can show it), persists
//!   each node, then checks a real `AUTH u new` on every node. If a node
//!   fails, the nodes already changed are put back.
//! - `retire` removes the old password's hash (`ACL SETUSER u !<sha256>`)
//!   on every node and persists. Connections that authenticated with it stay
//!   open (Redis does not drop them).
//! - `undo` removes the new password's hash and makes sure the old one is
//!   there, on every node.
//! - Persisting: `ACL SAVE` when the node loads users from an `aclfile`
//!   (there `CONFIG REWRITE` does not write users), else `CONFIG REWRITE`
//!   (there `ACL SAVE` fails). Which one ran is in the step's result.
//!
//! This module is the authority alone; the inventory and engine do not use
//! it yet. Error messages never hold a password, a hash or the admin URL.

use std::time::Duration;

use aws_lc_rs::digest;
use secrecy::{ExposeSecret, SecretString};

use super::{Acceptance, Authority, AuthorityError, Credential};
use crate::secret::SecretValue;
use crate::target::dotenv::url;

const NAME: &str = "redis";

/// How long connecting, and each command, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One ACL user, its passwords changed on every node.
pub struct RedisDualPassword {
    admin_user: String,
    admin_password: SecretString,
    user: String,
    /// `redis://host:port` (or `rediss://`), without credentials.
    nodes: Vec<String>,
}

impl std::fmt::Debug for RedisDualPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDualPassword")
            .field("admin_user", &self.admin_user)
            .field("admin_password", &"[REDACTED]")
            .field("user", &self.user)
            .field("nodes", &self.nodes)
            .finish()
    }
}

/// How a node keeps its users across a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persisted {
    /// `ACL SAVE` into the node's aclfile.
    AclSave,
    /// `CONFIG REWRITE` of the node's config file.
    ConfigRewrite,
}

impl RedisDualPassword {
    /// An authority for ACL user `user` on `nodes` (URLs without
    /// credentials), managed as the user and password of `admin_url`.
    /// Checks the URLs; connects only when a step runs.
    pub fn new(
        admin_url: &SecretString,
        user: impl Into<String>,
        nodes: Vec<String>,
    ) -> Result<Self, AuthorityError> {
        let admin = admin_url.expose_secret();
        let bad =
            || permanent("the admin URL is not a redis:// URL with a user and password".into());
        let admin_user = url::user(admin).map_err(|_| bad())?.ok_or_else(bad)?;
        let admin_password = url::password(admin).map_err(|_| bad())?.ok_or_else(bad)?;
        let user = user.into();
        if user.is_empty() || user.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(permanent(format!(
                "ACL user {user:?} is empty or holds spaces or control characters"
            )));
        }
        if nodes.is_empty() {
            return Err(permanent("no nodes are configured".into()));
        }
        for n in &nodes {
            if !(n.starts_with("redis://") || n.starts_with("rediss://")) {
                return Err(permanent(format!(
                    "node {n} is not a redis:// or rediss:// URL"
                )));
            }
            if url::password(n).ok().flatten().is_some() {
                return Err(permanent(
                    "a node URL holds a password; list nodes as redis://HOST:PORT (the admin URL carries the credential)".into(),
                ));
            }
        }
        Ok(RedisDualPassword {
            admin_user: admin_user.to_string(),
            admin_password: SecretString::from(admin_password.to_string()),
            user,
            nodes,
        })
    }

    /// A connection to `node`, authenticated as the admin.
    fn admin(&self, node: &str) -> Result<redis::Connection, AuthorityError> {
        let mut con = connect(node)?;
        auth(
            &mut con,
            &self.admin_user,
            self.admin_password.expose_secret(),
        )
        .map_err(|e| classify(&e, node, "admin AUTH"))?
        .then_some(())
        .ok_or_else(|| {
            permanent(format!(
                "{node}: the admin URL's user and password were refused; check them"
            ))
        })?;
        Ok(con)
    }

    /// `ACL SETUSER user <rules>` on one node, refusing a user that does not
    /// exist (SETUSER would create it).
    fn set_user(&self, node: &str, rules: &[String]) -> Result<(), AuthorityError> {
        let mut con = self.admin(node)?;
        let Some(hashes) = password_hashes(&mut con, &self.user, node)? else {
            return Err(permanent(format!(
                "{node}: ACL user {} does not exist; create it first (ACL SETUSER {} on ~… +@…) with the permissions the application needs",
                self.user, self.user
            )));
        };
        // Idempotent: removing a hash the user does not have is an error in
        // Redis, so only what would change is sent.
        let rules: Vec<&String> = rules
            .iter()
            .filter(|r| match r.strip_prefix('!') {
                Some(h) => hashes.iter().any(|x| x == h),
                None => true,
            })
            .collect();
        let mut cmd = redis::cmd("ACL");
        cmd.arg("SETUSER").arg(&self.user);
        for r in rules {
            cmd.arg(r.as_str());
        }
        cmd.query::<()>(&mut con)
            .map_err(|e| classify(&e, node, "ACL SETUSER"))?;
        persist(&mut con, node).map(|_| ())
    }

    /// Applies `rules` on every node; if one fails, `rollback` rules go to
    /// the nodes already changed, and the error says so.
    fn on_every_node(&self, rules: &[String], rollback: &[String]) -> Result<(), AuthorityError> {
        for (i, node) in self.nodes.iter().enumerate() {
            if let Err(e) = self.set_user(node, rules) {
                let mut undone = Vec::new();
                for done in &self.nodes[..i] {
                    if let Err(u) = self.set_user(done, rollback) {
                        undone.push(format!("{done}: {u}"));
                    }
                }
                if i == 0 {
                    return Err(e.unchanged());
                }
                let text = if undone.is_empty() {
                    format!("{e}; the nodes before it were put back")
                } else {
                    format!(
                        "{e}; putting back the nodes before it FAILED ({})",
                        undone.join("; ")
                    )
                };
                return Err(e.reworded(text));
            }
        }
        Ok(())
    }

    /// Whether `password` authenticates as the user on every node; the
    /// first node that refuses, if any.
    fn accepted_everywhere(&self, password: &str) -> Result<Option<String>, AuthorityError> {
        for node in &self.nodes {
            let mut con = connect(node)?;
            let ok =
                auth(&mut con, &self.user, password).map_err(|e| classify(&e, node, "AUTH"))?;
            if !ok {
                return Ok(Some(node.clone()));
            }
        }
        Ok(None)
    }
}

impl Authority for RedisDualPassword {
    fn name(&self) -> &'static str {
        NAME
    }

    fn next_user(&self, _live: Option<&str>) -> Result<Option<String>, AuthorityError> {
        Ok(Some(self.user.clone()))
    }

    fn apply(
        &self,
        new: Credential<'_>,
        old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        let add = vec!["on".to_owned(), format!("#{}", sha256_hex(new.secret))];
        let remove = vec![format!("!{}", sha256_hex(new.secret))];
        self.on_every_node(&add, &remove)?;
        if let Some(node) = self.accepted_everywhere(new.secret.expose())? {
            // Take it back: a password that does not log in must not stay.
            let _ = self.undo(new, old);
            return Err(permanent(format!(
                "{node}: AUTH {} with the new password was refused right after it was added; it was taken back",
                self.user
            )));
        }
        Ok(())
    }

    fn verify(&self, cred: Credential<'_>) -> Result<Acceptance, AuthorityError> {
        Ok(match self.accepted_everywhere(cred.secret.expose())? {
            None => Acceptance::Accepted,
            Some(_) => Acceptance::Refused,
        })
    }

    fn retire(&self, old: Credential<'_>, live: Credential<'_>) -> Result<(), AuthorityError> {
        if old.secret.fingerprint() == live.secret.fingerprint() {
            return Ok(());
        }
        let remove = vec![format!("!{}", sha256_hex(old.secret))];
        let back = vec![format!("#{}", sha256_hex(old.secret))];
        self.on_every_node(&remove, &back)
    }

    fn undo(&self, new: Credential<'_>, old: Option<Credential<'_>>) -> Result<(), AuthorityError> {
        let mut rules = vec![format!("!{}", sha256_hex(new.secret))];
        if let Some(old) = old {
            if old.secret.fingerprint() == new.secret.fingerprint() {
                return Ok(());
            }
            rules.push(format!("#{}", sha256_hex(old.secret)));
        }
        // Undo goes on: a node that fails is reported, the others still
        // get it.
        let mut failed = Vec::new();
        for node in &self.nodes {
            if let Err(e) = self.set_user(node, &rules) {
                failed.push(e.to_string());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(transient(failed.join("; ")))
        }
    }
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
