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
//! This module holds what they share: connecting with timeouts and TLS, `AUTH`,
//! reading an ACL user's password hashes, persisting a node's
//! configuration, and turning Redis errors into [`AuthorityError`]s that
//! never quote a password or a hash.

pub mod dual;
pub mod requirepass;

pub use dual::RedisDualPassword;
pub use requirepass::RedisRequirepass;

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_lc_rs::digest;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use secrecy::{ExposeSecret, SecretString};

use super::{Admin, Authority, AuthorityError};
use crate::inventory::{RedisAuthority, Strategy};
use crate::secret::SecretValue;
use crate::target::dotenv::url;

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

/// The login rotor manages the nodes as: an ACL user allowed `ACL` and
/// `CONFIG` (or, for `requirepass`, the default user).
pub struct AdminLogin {
    user: String,
    password: SecretString,
}

impl std::fmt::Debug for AdminLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminLogin")
            .field("user", &self.user)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

impl AdminLogin {
    /// The user and password of `redis://USER:PASSWORD@HOST:PORT` (the
    /// host is not used: every step goes to the listed nodes).
    pub fn from_url(admin_url: &SecretString) -> Result<Self, AuthorityError> {
        let admin = admin_url.expose_secret();
        let bad =
            || permanent("the admin URL is not a redis:// URL with a user and password".into());
        if !(admin.starts_with("redis://") || admin.starts_with("rediss://")) {
            return Err(bad());
        }
        let user = url::user(admin).map_err(|_| bad())?.ok_or_else(bad)?;
        let password = url::password(admin).map_err(|_| bad())?.ok_or_else(bad)?;
        Ok(AdminLogin {
            user: if user.is_empty() {
                "default".to_owned()
            } else {
                user.to_string()
            },
            password: SecretString::from(password.to_string()),
        })
    }

    /// The user of `url` (`redis://USER@HOST:PORT`, no password) and
    /// `password` (another secret's current value).
    pub fn from_parts(url: &str, password: &SecretValue) -> Result<Self, AuthorityError> {
        let bad = || permanent("admin_url is not a redis:// URL with a user".into());
        let user = url::user(url).map_err(|_| bad())?.ok_or_else(bad)?;
        Ok(AdminLogin {
            user: user.to_string(),
            password: SecretString::from(password.expose().to_owned()),
        })
    }

    /// A connection to `node`, authenticated as this login.
    fn connect(&self, node: &str, tls: &NodeTls) -> Result<redis::Connection, AuthorityError> {
        let mut con = connect(node, tls)?;
        auth(&mut con, &self.user, self.password.expose_secret())
            .map_err(|e| classify(&e, node, "admin AUTH"))?
            .then_some(())
            .ok_or_else(|| {
                permanent(format!(
                    "{node}: the admin login ({}) was refused; check its password",
                    self.user
                ))
            })?;
        Ok(con)
    }
}

/// What the certificates of `rediss://` nodes are checked against: the
/// system's roots (the default), or the CA certificates of a PEM file
/// (`tls_ca_file`). Its `Debug` shows the file's path, not its contents.
#[derive(Clone, Default)]
pub struct NodeTls {
    /// The file and the PEM it held when the authority was built.
    ca: Option<(PathBuf, Vec<u8>)>,
}

impl std::fmt::Debug for NodeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeTls")
            .field("ca_file", &self.ca.as_ref().map(|(path, _)| path))
            .finish_non_exhaustive()
    }
}

impl NodeTls {
    /// Checks `rediss://` nodes against the CA certificates in the PEM
    /// file at `path` (read now) instead of the system's roots.
    pub fn from_ca_file(path: &Path) -> Result<Self, AuthorityError> {
        let pem = std::fs::read(path).map_err(|e| {
            permanent(format!(
                "cannot read tls_ca_file {}: {e}; it must hold the PEM certificate of the CA that signs the nodes' certificates",
                path.display()
            ))
        })?;
        // Checked here, so a bad file is named before any node is touched.
        let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&pem).collect();
        match certs {
            Ok(c) if !c.is_empty() => {}
            Ok(_) => {
                return Err(permanent(format!(
                    "tls_ca_file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                )))
            }
            Err(e) => {
                return Err(permanent(format!(
                    "tls_ca_file {} is not a PEM certificate file: {e}",
                    path.display()
                )))
            }
        }
        Ok(NodeTls {
            ca: Some((path.to_path_buf(), pem)),
        })
    }

    /// A CA file goes with TLS nodes only.
    fn check_nodes(&self, nodes: &[String]) -> Result<(), AuthorityError> {
        if let Some((path, _)) = &self.ca {
            if let Some(plain) = nodes.iter().find(|n| !n.starts_with("rediss://")) {
                return Err(permanent(format!(
                    "tls_ca_file {} is set, but node {plain} is not a rediss:// (TLS) URL",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// What the certificates are checked against, for messages.
    fn roots(&self) -> String {
        match &self.ca {
            Some((path, _)) => format!("the CA in tls_ca_file {}", path.display()),
            None => "the system's root certificates".to_owned(),
        }
    }

    /// A client for `node`, TLS with this CA for a `rediss://` node.
    fn client(&self, node: &str) -> redis::RedisResult<redis::Client> {
        match &self.ca {
            Some((_, pem)) if node.starts_with("rediss://") => redis::Client::build_with_tls(
                node,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
            _ => redis::Client::open(node),
        }
    }
}

/// Nodes must be `redis://HOST:PORT` or `rediss://HOST:PORT`, without a
/// credential, and there must be at least one.
fn check_nodes(nodes: &[String]) -> Result<(), AuthorityError> {
    if nodes.is_empty() {
        return Err(permanent("no nodes are configured".into()));
    }
    for n in nodes {
        if !(n.starts_with("redis://") || n.starts_with("rediss://")) {
            return Err(permanent(format!(
                "node {n} is not a redis:// or rediss:// URL"
            )));
        }
        if n.contains('#') {
            return Err(permanent(format!(
                "node {n} has a #fragment; there is no insecure TLS mode (name a private CA in tls_ca_file)"
            )));
        }
        if url::password(n).ok().flatten().is_some() {
            return Err(permanent(
                "a node URL holds a password; list nodes as redis://HOST:PORT (the admin URL carries the credential)".into(),
            ));
        }
    }
    Ok(())
}

/// How a node keeps its users across a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persisted {
    /// `ACL SAVE` into the node's aclfile.
    AclSave,
    /// `CONFIG REWRITE` of the node's config file.
    ConfigRewrite,
    /// Nowhere: the node runs without a config file and without an aclfile
    /// (all on its command line, as in a docker-compose `--requirepass`),
    /// so what starts it must carry the password (a template target).
    Nowhere,
}

impl Persisted {
    /// Words for the audit trail.
    pub fn words(self) -> &'static str {
        match self {
            Persisted::AclSave => "persisted with ACL SAVE",
            Persisted::ConfigRewrite => "persisted with CONFIG REWRITE",
            Persisted::Nowhere => {
                "NOT persisted (no config file, no aclfile: its command line must carry the password)"
            }
        }
    }
}

/// What each node did to persist, for the audit: `node: words`, nodes that
/// persisted the same way together.
#[derive(Debug, Default)]
struct PersistLog(std::sync::Mutex<std::collections::BTreeMap<String, Persisted>>);

impl PersistLog {
    fn record(&self, node: &str, how: Persisted) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(node.to_owned(), how);
        }
    }

    fn notes(&self) -> Vec<String> {
        let Ok(m) = self.0.lock() else {
            return Vec::new();
        };
        let mut by_how: Vec<(Persisted, Vec<&str>)> = Vec::new();
        for (node, how) in m.iter() {
            match by_how.iter_mut().find(|(h, _)| h == how) {
                Some((_, nodes)) => nodes.push(node),
                None => by_how.push((*how, vec![node])),
            }
        }
        by_how
            .into_iter()
            .map(|(how, nodes)| format!("{}: {}", nodes.join(", "), how.words()))
            .collect()
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

/// A connection to `node`, with timeouts; over TLS for `rediss://`, where
/// the handshake is done here (by a `PING`), so a certificate the node
/// should not be trusted with fails before anything is sent.
fn connect(node: &str, tls: &NodeTls) -> Result<redis::Connection, AuthorityError> {
    let client = tls
        .client(node)
        .map_err(|_| permanent(format!("{node} is not a valid Redis URL")))?;
    let mut con = client
        .get_connection_with_timeout(TIMEOUT)
        .map_err(|e| classify_connect(&e, node, tls))?;
    con.set_read_timeout(Some(TIMEOUT))
        .and_then(|_| con.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| classify_connect(&e, node, tls))?;
    if node.starts_with("rediss://") {
        // Before AUTH: no password is written until the server is trusted.
        match redis::cmd("PING").query::<redis::Value>(&mut con) {
            Ok(_) => {}
            // A node that wants AUTH first still completed the handshake.
            Err(e) if e.code() == Some("NOAUTH") => {}
            Err(e) => return Err(classify_connect(&e, node, tls)),
        }
    }
    Ok(con)
}

/// A connection error, with what TLS said in words (a certificate the CA
/// did not sign, a certificate for another host, a node that does not
/// speak TLS): those are permanent, retrying does not help. The redis
/// crate hands rustls' error over only as text, so the words are matched
/// (tests/redis_tls.rs pins each case).
fn classify_connect(e: &redis::RedisError, node: &str, tls: &NodeTls) -> AuthorityError {
    let text = e.to_string();
    let hint = if text.contains("UnknownIssuer") || text.contains("unknown issuer") {
        Some(format!(
            "its TLS certificate is not signed by {}; name the CA that signs it in tls_ca_file",
            tls.roots()
        ))
    } else if text.contains("NotValidForName") || text.contains("not valid for name") {
        Some(format!(
            "its TLS certificate is not valid for the host name in {node}; list the node under a name (or IP address) its certificate holds"
        ))
    } else if text.contains("Expired") || text.contains("expired") || text.contains("NotValidYet") {
        Some("its TLS certificate is expired or not yet valid".to_owned())
    } else if text.contains("invalid peer certificate") {
        Some(format!(
            "its TLS certificate was refused (checked against {})",
            tls.roots()
        ))
    } else if node.starts_with("rediss://")
        && (text.contains("corrupt message") || text.contains("InvalidContentType"))
    {
        Some("it did not answer in TLS; is this its TLS port (tls-port), or should the node be redis://?".to_owned())
    } else {
        None
    };
    match hint {
        Some(hint) => permanent(format!("{node}: TLS connect failed: {hint} ({text})")),
        // A plain Redis port waits for the end of a line that a TLS hello
        // never sends: worth retrying only if the port is right.
        None if node.starts_with("rediss://") && e.is_timeout() => transient(format!(
            "{node}: connect: {text}; no TLS answer within {} s: is this the node's TLS port (tls-port)?",
            TIMEOUT.as_secs()
        )),
        None => classify(e, node, "connect"),
    }
}

/// `AUTH user password`: `Ok(false)` when refused.
fn auth(con: &mut redis::Connection, user: &str, password: &str) -> redis::RedisResult<bool> {
    match redis::cmd("AUTH").arg(user).arg(password).query::<()>(con) {
        Ok(()) => Ok(true),
        Err(e) if e.code() == Some("WRONGPASS") => Ok(false),
        Err(e) => Err(e),
    }
}

/// What `ACL GETUSER` says about a user: its password hashes, whether it
/// is switched on, and whether it takes any password (`nopass`).
struct AclUser {
    hashes: Vec<String>,
    on: bool,
    nopass: bool,
}

/// `ACL GETUSER user` on this node; `None` if there is no such user.
fn acl_user(
    con: &mut redis::Connection,
    user: &str,
    node: &str,
) -> Result<Option<AclUser>, AuthorityError> {
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
    let mut out = AclUser {
        hashes: Vec::new(),
        on: false,
        nopass: false,
    };
    for (k, v) in pairs {
        let key: Option<String> = redis::from_redis_value(k).ok();
        match key.as_deref() {
            Some("passwords") => {
                out.hashes = redis::from_redis_value(v).map_err(|_| {
                    permanent(format!("{node}: ACL GETUSER passwords are not a list"))
                })?;
            }
            Some("flags") => {
                let flags: Vec<String> = redis::from_redis_value(v)
                    .map_err(|_| permanent(format!("{node}: ACL GETUSER flags are not a list")))?;
                out.on = flags.iter().any(|f| f == "on");
                out.nopass = flags.iter().any(|f| f == "nopass");
            }
            _ => {}
        }
    }
    Ok(Some(out))
}

/// `ACL SETUSER user <rules>` (all of them or none take effect); nothing
/// to send is success.
fn setuser(
    con: &mut redis::Connection,
    user: &str,
    rules: &[&String],
    node: &str,
) -> Result<(), AuthorityError> {
    if rules.is_empty() {
        return Ok(());
    }
    let mut cmd = redis::cmd("ACL");
    cmd.arg("SETUSER").arg(user);
    for r in rules {
        cmd.arg(r.as_str());
    }
    cmd.query::<()>(con)
        .map_err(|e| classify(&e, node, "ACL SETUSER"))
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
        match redis::cmd("CONFIG").arg("REWRITE").query::<()>(con) {
            Ok(()) => Ok(Persisted::ConfigRewrite),
            // Started with everything on its command line (docker-compose's
            // `redis-server --requirepass …`): nothing on disk to write.
            Err(e) if e.to_string().contains("without a config file") => Ok(Persisted::Nowhere),
            Err(e) => Err(classify(&e, node, "CONFIG REWRITE")),
        }
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
