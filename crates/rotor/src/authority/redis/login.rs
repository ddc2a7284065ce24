//! How rotor reaches a node and logs in: the admin login, TLS for
//! `rediss://` nodes, connecting with timeouts, and `AUTH`.

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use secrecy::{ExposeSecret, SecretString};

use super::{classify, permanent, transient, TIMEOUT};
use crate::authority::AuthorityError;
use crate::secret::SecretValue;
use crate::target::dotenv::url;

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
    pub(super) fn connect(
        &self,
        node: &str,
        tls: &NodeTls,
    ) -> Result<redis::Connection, AuthorityError> {
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
        let pem = crate::target::atomic::read(path).map_err(|e| {
            permanent(format!(
                "cannot read tls_ca_file: {e}; it must hold the PEM certificate of the CA that signs the nodes' certificates"
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
            ca: Some((path.to_path_buf(), pem.to_vec())),
        })
    }

    /// A CA file goes with TLS nodes only.
    pub(super) fn check_nodes(&self, nodes: &[String]) -> Result<(), AuthorityError> {
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
    pub(super) fn roots(&self) -> String {
        match &self.ca {
            Some((path, _)) => format!("the CA in tls_ca_file {}", path.display()),
            None => "the system's root certificates".to_owned(),
        }
    }

    /// A client for `node`, TLS with this CA for a `rediss://` node.
    pub(super) fn client(&self, node: &str) -> redis::RedisResult<redis::Client> {
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
pub(super) fn check_nodes(nodes: &[String]) -> Result<(), AuthorityError> {
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

/// A connection to `node`, with timeouts; over TLS for `rediss://`, where
/// the handshake is done here (by a `PING`), so a certificate the node
/// should not be trusted with fails before anything is sent.
pub(super) fn connect(node: &str, tls: &NodeTls) -> Result<redis::Connection, AuthorityError> {
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
pub(super) fn classify_connect(e: &redis::RedisError, node: &str, tls: &NodeTls) -> AuthorityError {
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
pub(super) fn auth(
    con: &mut redis::Connection,
    user: &str,
    password: &str,
) -> redis::RedisResult<bool> {
    match redis::cmd("AUTH").arg(user).arg(password).query::<()>(con) {
        Ok(()) => Ok(true),
        Err(e) if e.code() == Some("WRONGPASS") => Ok(false),
        Err(e) => Err(e),
    }
}
