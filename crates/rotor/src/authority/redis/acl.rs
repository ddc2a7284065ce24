//! An ACL user as a node has it (`ACL GETUSER`), changing it (`ACL
//! SETUSER`), and persisting a node's configuration (`ACL SAVE` or `CONFIG
//! REWRITE`), with a record of how each node persisted for the audit.

use aws_lc_rs::digest;

use super::{classify, permanent};
use crate::authority::AuthorityError;
use crate::secret::SecretValue;

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
pub(super) struct PersistLog(std::sync::Mutex<std::collections::BTreeMap<String, Persisted>>);

impl PersistLog {
    pub(super) fn record(&self, node: &str, how: Persisted) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(node.to_owned(), how);
        }
    }

    pub(super) fn notes(&self) -> Vec<String> {
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
pub(super) fn sha256_hex(value: &SecretValue) -> String {
    let d = digest::digest(&digest::SHA256, value.expose().as_bytes());
    let mut out = String::with_capacity(64);
    for b in d.as_ref() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// What `ACL GETUSER` says about a user: its password hashes, whether it
/// is switched on, and whether it takes any password (`nopass`).
pub(super) struct AclUser {
    /// Its password hashes (`#<sha256>` without the `#`).
    pub(super) hashes: Vec<String>,
    /// Whether it is switched on: an operator may have switched it off,
    /// and rotor must not switch it back on.
    pub(super) on: bool,
    /// Whether it takes any password (adding one switches that off).
    pub(super) nopass: bool,
}

/// `ACL GETUSER user` on this node; `None` if there is no such user.
pub(super) fn acl_user(
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
pub(super) fn setuser(
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
pub(super) fn persist(
    con: &mut redis::Connection,
    node: &str,
) -> Result<Persisted, AuthorityError> {
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
