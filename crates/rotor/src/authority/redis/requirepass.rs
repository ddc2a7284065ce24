//! The Redis `cutover` authority for legacy `requirepass`: the `default`
//! user's one password changes in place on every node (what `CONFIG SET
//! requirepass new; CONFIG REWRITE` does by hand), so the old password stops
//! working at once. Connections already authenticated stay open (Redis 7
//! does not drop them), and so does a replica's link to its primary.
//!
//! - **Logging in**: as the admin (an ACL user) when one is configured;
//!   otherwise as the default user with the password being replaced
//!   (`AUTH <old>`), else with the new one (the step was already done),
//!   else with none at all (a server without a password yet).
//! - **apply** first checks every node (login, `ROLE`, whether it has the
//!   `ACL` command, whether its `masterauth` is the default user's), so a
//!   node that cannot be reached fails the step before anything changes.
//!   Then it changes the primaries first and the replicas after, each node
//!   in one `MULTI`/`EXEC`:
//!   - with ACLs (Redis 6 and later): `CONFIG SET requirepass ""` and
//!     `ACL SETUSER default resetpass #<sha256>`. Only the hash crosses the
//!     wire and reaches the config file. Clearing `requirepass` inside the
//!     same transaction never leaves the server open; without it `CONFIG
//!     REWRITE` would write the old plaintext back as `requirepass`;
//!   - without (Redis 5, or `ACL` renamed away): `CONFIG SET requirepass
//!     <new>`, in plaintext (Redis 7 shows it as `(redacted)` in the
//!     slowlog);
//!   - `CONFIG SET masterauth <new>` on a replica (and on a primary that
//!     already has a `masterauth`, for failover), unless it logs in to its
//!     primary as another user (`masteruser`). A replica must send it, so
//!     it goes in plaintext.
//!
//!   Primary first: a replica keeps its established link to the primary
//!   across the change, and needs the new `masterauth` only to reconnect.
//!   Changing each replica right after the primary keeps the window in
//!   which a reconnect would fail to that one replica's step (and a
//!   replica whose link dropped meanwhile retries every second and syncs
//!   again once it has the new `masterauth`).
//!
//!   Each node is then persisted: `ACL SAVE` when it has an aclfile (and
//!   `CONFIG REWRITE` too if its `masterauth` changed), else `CONFIG
//!   REWRITE`. A server without a config file (`redis-server
//!   --requirepass …` from a docker-compose `command:`) cannot persist
//!   anything: the step goes on with a warning, since a restart brings
//!   back the password on its command line unless the file that starts it
//!   is a target of the secret. Finally a real `AUTH <new>` must work on
//!   every node. If a node fails midway, the nodes already changed (and
//!   that one, if the failure came after its change) are put back.
//! - **verify**: `AUTH <password>` on every node; a node that takes no
//!   password at all refuses every one (Redis answers `AUTH <password>`
//!   with an error there, so clients configured with a password fail).
//! - **retire**: nothing to do, the old password went at apply.
//! - **undo**: the old password back on every node where the new one is in
//!   force (no password, if there was none before), going on past a node
//!   that fails and naming it.
//!
//! Error messages never hold a password or a hash.

use redis::Value;
use zeroize::Zeroize;

use super::{
    check_nodes, classify, connect, permanent, scrub_hashes, sha256_hex, AdminLogin, NodeTls,
    PersistLog, Persisted, NAME,
};
use crate::authority::{Acceptance, Authority, AuthorityError, Credential};
use crate::secret::SecretValue;

/// The `default` user's password (`requirepass`), changed in place on every
/// node.
#[derive(Debug)]
pub struct RedisRequirepass {
    admin: Option<AdminLogin>,
    /// `redis://host:port` (or `rediss://`), without credentials.
    nodes: Vec<String>,
    /// What `rediss://` nodes' certificates are checked against.
    tls: NodeTls,
    /// How each node persisted, for the audit.
    persisted: PersistLog,
}

/// How a connection got in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Login {
    /// As the admin ACL user.
    Admin,
    /// With one of the passwords offered (the default user).
    Password(Offered),
    /// Without a password: the node has none.
    Open,
}

/// Which of the offered passwords worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offered {
    New,
    Old,
}

/// What `AUTH <password>` said.
enum Auth {
    Accepted,
    Refused,
    /// The default user has no password (`nopass`).
    NoPassword,
}

/// One node, checked before anything changes.
struct Node {
    url: String,
    con: redis::Connection,
    login: Login,
    primary: bool,
    /// Whether it has the `ACL` command (Redis 6 and later).
    acl: bool,
    /// Whether its `masterauth` is the default user's password.
    masterauth: bool,
}

/// Why changing one node failed, and whether it may have changed.
struct Failed {
    error: AuthorityError,
    touched: bool,
}

impl RedisRequirepass {
    /// An authority for the `requirepass` of `nodes` (URLs without
    /// credentials), logging in as `admin` if given, else with the
    /// passwords it changes. Checks the URLs; connects only when a step
    /// runs.
    pub fn new(admin: Option<AdminLogin>, nodes: Vec<String>) -> Result<Self, AuthorityError> {
        check_nodes(&nodes)?;
        Ok(RedisRequirepass {
            admin,
            nodes,
            tls: NodeTls::default(),
            persisted: PersistLog::default(),
        })
    }

    /// The same, checking the `rediss://` nodes' certificates against
    /// `tls` (a CA file) instead of the system's roots.
    pub fn with_tls(mut self, tls: NodeTls) -> Result<Self, AuthorityError> {
        tls.check_nodes(&self.nodes)?;
        self.tls = tls;
        Ok(self)
    }

    /// A connection to `node`, logged in as the admin, else with the first
    /// of `offered` it accepts, else without a password if it has none.
    fn login(
        &self,
        node: &str,
        offered: &[(Offered, Option<&SecretValue>)],
    ) -> Result<(redis::Connection, Login), AuthorityError> {
        if let Some(admin) = &self.admin {
            return Ok((admin.connect(node, &self.tls)?, Login::Admin));
        }
        let mut con = connect(node, &self.tls)?;
        for (which, value) in offered {
            let Some(value) = value.filter(|v| !v.expose().is_empty()) else {
                continue;
            };
            match auth_default(&mut con, value.expose()).map_err(|e| classify(&e, node, "AUTH"))? {
                Auth::Accepted => return Ok((con, Login::Password(*which))),
                Auth::Refused => {}
                Auth::NoPassword => return Ok((con, Login::Open)),
            }
        }
        if open(&mut con, node)? {
            return Ok((con, Login::Open));
        }
        let knows_old = offered
            .iter()
            .any(|(w, v)| *w == Offered::Old && v.is_some_and(|v| !v.expose().is_empty()));
        Err(permanent(if knows_old {
            format!(
                "{node}: AUTH as the default user refuses both the old and the new password, so its requirepass was changed outside rotor; \
                 put the password it has now into the targets and rotate with --adopt, or configure an admin (admin_url_env)"
            )
        } else {
            format!(
                "{node}: the server has a password (requirepass) but the targets hold none; \
                 put its current password into the targets (rotor adopts it) and rotate again, or configure an admin (admin_url_env)"
            )
        }))
    }

    /// Logs in to `node` and reads what changing it needs.
    fn check(
        &self,
        node: &str,
        offered: &[(Offered, Option<&SecretValue>)],
    ) -> Result<Node, AuthorityError> {
        let (mut con, login) = self.login(node, offered)?;
        let primary = role(&mut con, node)? != "slave";
        let acl = has_acl(&mut con, node)?;
        let masterauth = masterauth_is_default(&mut con, node, primary)?;
        Ok(Node {
            url: node.to_owned(),
            con,
            login,
            primary,
            acl,
            masterauth,
        })
    }

    /// Every node checked, primaries first; the first failure, having
    /// changed nothing.
    fn check_all(
        &self,
        offered: &[(Offered, Option<&SecretValue>)],
    ) -> Result<Vec<Node>, AuthorityError> {
        let mut nodes = Vec::with_capacity(self.nodes.len());
        for url in &self.nodes {
            nodes.push(
                self.check(url, offered)
                    .map_err(AuthorityError::unchanged)?,
            );
        }
        // Stable: primaries in the listed order, then replicas.
        nodes.sort_by_key(|n| !n.primary);
        Ok(nodes)
    }

    /// Whether `node` accepts `value` as the default user's password on a
    /// fresh connection; `None` (or empty) asks whether it takes no
    /// password at all.
    fn accepts(&self, node: &str, value: Option<&SecretValue>) -> Result<bool, AuthorityError> {
        let mut con = connect(node, &self.tls)?;
        match value.filter(|v| !v.expose().is_empty()) {
            None => open(&mut con, node),
            Some(v) => Ok(matches!(
                auth_default(&mut con, v.expose()).map_err(|e| classify(&e, node, "AUTH"))?,
                Auth::Accepted
            )),
        }
    }

    /// Whether the new password is in force on `node` (its login, else a
    /// fresh `AUTH`).
    fn has_new(&self, node: &Node, new: &SecretValue) -> Result<bool, AuthorityError> {
        match node.login {
            Login::Password(Offered::New) => Ok(true),
            Login::Password(Offered::Old) | Login::Open => Ok(false),
            Login::Admin => self.accepts(&node.url, Some(new)),
        }
    }

    /// Puts `old` back on each node of `urls` where `new` is in force, going
    /// on past failures; the failures, one sentence each.
    fn put_back(&self, urls: &[&str], new: &SecretValue, old: Option<&SecretValue>) -> Vec<String> {
        let offered = [(Offered::New, Some(new)), (Offered::Old, old)];
        let mut nodes = Vec::new();
        let mut failed = Vec::new();
        for url in urls {
            match self.check(url, &offered) {
                Ok(n) => nodes.push(n),
                Err(e) => failed.push(scrubbed(e, &[Some(new), old]).message().to_owned()),
            }
        }
        nodes.sort_by_key(|n| !n.primary);
        for mut node in nodes {
            let result = match self.has_new(&node, new) {
                Ok(false) => Ok(()),
                Ok(true) => change(&mut node, old)
                    .map(|how| self.persisted.record(&node.url, how))
                    .map_err(|f| f.error),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                failed.push(scrubbed(e, &[Some(new), old]).message().to_owned());
            }
        }
        failed
    }

    fn apply_inner(
        &self,
        new: &SecretValue,
        old: Option<&SecretValue>,
    ) -> Result<(), AuthorityError> {
        let offered = [(Offered::Old, old), (Offered::New, Some(new))];
        let mut nodes = self.check_all(&offered)?;
        if old.is_none() {
            // Without the password being replaced, only a node without any
            // (or one already changed) is ours to change: undo would take
            // it back to none.
            for n in &nodes {
                let ok = match n.login {
                    Login::Open | Login::Password(Offered::New) => true,
                    Login::Password(Offered::Old) => false,
                    Login::Admin => {
                        self.accepts(&n.url, None)? || self.accepts(&n.url, Some(new))?
                    }
                };
                if !ok {
                    return Err(permanent(format!(
                        "{}: the server has a password but the targets hold none; put its current password into the targets (rotor adopts it) and rotate again",
                        n.url
                    ))
                    .unchanged());
                }
            }
        }
        for i in 0..nodes.len() {
            if i > 0 {
                // For the fault-injection tests: a crash between two nodes.
                crate::engine::fault::point(crate::engine::step::CrashPoint::Mid(
                    crate::engine::step::Inside::ApplyNodes,
                ));
            }
            let changed = change(&mut nodes[i], Some(new));
            if let Ok(how) = changed {
                self.persisted.record(&nodes[i].url, how);
            }
            if let Err(f) = changed {
                let mut changed: Vec<&str> = nodes[..i].iter().map(|n| n.url.as_str()).collect();
                if f.touched {
                    changed.push(&nodes[i].url);
                }
                if changed.is_empty() {
                    return Err(f.error.unchanged());
                }
                let failed = self.put_back(&changed, new, old);
                let text = if failed.is_empty() {
                    format!(
                        "{}; the nodes already changed ({}) were put back to the old password",
                        f.error.message(),
                        changed.join(", ")
                    )
                } else {
                    format!(
                        "{}; putting the nodes already changed back to the old password FAILED ({})",
                        f.error.message(),
                        failed.join("; ")
                    )
                };
                return Err(f.error.reworded(text));
            }
        }
        drop(nodes);
        for url in &self.nodes {
            if !self.accepts(url, Some(new))? {
                let failed = self.put_back(
                    &self.nodes.iter().map(String::as_str).collect::<Vec<_>>(),
                    new,
                    old,
                );
                let back = if failed.is_empty() {
                    "it was taken back on every node".to_owned()
                } else {
                    format!("taking it back FAILED ({})", failed.join("; "))
                };
                return Err(permanent(format!(
                    "{url}: AUTH with the new password was refused right after it was set; {back}"
                )));
            }
        }
        Ok(())
    }

    fn undo_inner(
        &self,
        new: &SecretValue,
        old: Option<&SecretValue>,
    ) -> Result<(), AuthorityError> {
        let urls: Vec<&str> = self.nodes.iter().map(String::as_str).collect();
        let failed = self.put_back(&urls, new, old);
        if failed.is_empty() {
            Ok(())
        } else {
            Err(AuthorityError::Transient {
                authority: NAME,
                message: format!(
                    "the old password could not be put back everywhere: {}",
                    failed.join("; ")
                ),
            })
        }
    }
}

impl Authority for RedisRequirepass {
    fn name(&self) -> &'static str {
        NAME
    }

    fn apply(
        &self,
        new: Credential<'_>,
        old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        let old = old.map(|c| c.secret).filter(|v| !v.expose().is_empty());
        self.apply_inner(new.secret, old)
            .map_err(|e| scrubbed(e, &[Some(new.secret), old]))
    }

    fn verify(&self, cred: Credential<'_>) -> Result<Acceptance, AuthorityError> {
        for url in &self.nodes {
            if !self
                .accepts(url, Some(cred.secret))
                .map_err(|e| scrubbed(e, &[Some(cred.secret)]))?
            {
                return Ok(Acceptance::Refused);
            }
        }
        Ok(Acceptance::Accepted)
    }

    fn notes(&self) -> Vec<String> {
        self.persisted.notes()
    }

    fn retire(&self, _old: Credential<'_>, _live: Credential<'_>) -> Result<(), AuthorityError> {
        // The old password stopped working at apply.
        Ok(())
    }

    /// A replica that logs in to its primary as the default user must hold
    /// the current password as `masterauth`, or it cannot re-sync once its
    /// link drops (a restart, a network blip).
    fn drift(
        &self,
        live: Credential<'_>,
        previous: Option<Credential<'_>>,
    ) -> Result<Vec<String>, AuthorityError> {
        let offered = [
            (Offered::New, Some(live.secret)),
            (Offered::Old, previous.map(|p| p.secret)),
        ];
        let mut found = Vec::new();
        for url in &self.nodes {
            let (mut con, _) = self.login(url, &offered)?;
            if role(&mut con, url)? != "slave" {
                continue;
            }
            let user = config_get(&mut con, url, "masteruser")?;
            if !user.is_empty() && user != b"default" {
                continue;
            }
            let mut auth = config_get(&mut con, url, "masterauth")?;
            let current = auth.as_slice() == live.secret.expose().as_bytes();
            auth.zeroize();
            if !current {
                found.push(format!(
                    "{url}: this replica's masterauth is not the current password, so it cannot re-sync once its link to the primary drops; set it (CONFIG SET masterauth, CONFIG REWRITE) or rotate"
                ));
            }
        }
        Ok(found)
    }

    fn undo(&self, new: Credential<'_>, old: Option<Credential<'_>>) -> Result<(), AuthorityError> {
        let old = old.map(|c| c.secret).filter(|v| !v.expose().is_empty());
        if old.is_some_and(|o| o.fingerprint() == new.secret.fingerprint()) {
            return Ok(());
        }
        self.undo_inner(new.secret, old)
            .map_err(|e| scrubbed(e, &[Some(new.secret), old]))
    }
}

/// Sets `value` (`None`: no password) as the default user's password on
/// `node`, and as its `masterauth` where that is the default user's, in
/// one transaction; then persists it, and says how.
fn change(node: &mut Node, value: Option<&SecretValue>) -> Result<Persisted, Failed> {
    let plain = value.map(SecretValue::expose).unwrap_or("");
    let mut tx = redis::pipe();
    tx.atomic();
    if node.masterauth {
        tx.cmd("CONFIG")
            .arg("SET")
            .arg("masterauth")
            .arg(plain)
            .ignore();
    }
    if node.acl {
        // Cleared first: `requirepass ""` makes the default user `nopass`,
        // which the SETUSER right after replaces, in the same transaction.
        tx.cmd("CONFIG")
            .arg("SET")
            .arg("requirepass")
            .arg("")
            .ignore();
        let setuser = tx.cmd("ACL").arg("SETUSER").arg("default").arg("resetpass");
        match value {
            Some(v) => setuser.arg(format!("#{}", sha256_hex(v))),
            None => setuser.arg("nopass"),
        }
        .ignore();
    } else {
        tx.cmd("CONFIG")
            .arg("SET")
            .arg("requirepass")
            .arg(plain)
            .ignore();
    }
    let url = node.url.clone();
    tx.query::<()>(&mut node.con).map_err(|e| Failed {
        // EXECABORT: a command was refused while queueing (NOPERM, unknown
        // command), so none ran.
        touched: e.code() != Some("EXECABORT"),
        error: classify(&e, &url, "MULTI/EXEC (CONFIG SET, ACL SETUSER default)"),
    })?;
    persist(node).map_err(|error| Failed {
        error,
        touched: true,
    })
}

/// Keeps the node's change across a restart: `ACL SAVE` with an aclfile,
/// `CONFIG REWRITE` without one (or when `masterauth` changed). Without a
/// config file nothing can be kept: a warning (and a note for the audit),
/// not a failure.
fn persist(node: &mut Node) -> Result<Persisted, AuthorityError> {
    let url = node.url.as_str();
    let con = &mut node.con;
    let aclfile = node.acl && !config_get(con, url, "aclfile")?.is_empty();
    if aclfile {
        redis::cmd("ACL")
            .arg("SAVE")
            .query::<()>(con)
            .map_err(|e| classify(&e, url, "ACL SAVE"))?;
    }
    if aclfile && !node.masterauth {
        return Ok(Persisted::AclSave);
    }
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(con)
        .map_err(|e| classify(&e, url, "INFO server"))?;
    let config_file = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("config_file:"))
        .unwrap_or("");
    if config_file.is_empty() && aclfile {
        // The password is in the aclfile; only the replica's masterauth,
        // which lives in the config, cannot be saved.
        tracing::warn!(
            "{url}: masterauth is NOT persisted: the server runs without a config file, so a restart brings back the masterauth it was started with; pass the new one where it starts"
        );
        return Ok(Persisted::AclSave);
    }
    if config_file.is_empty() {
        tracing::warn!(
            "{url}: the password change is NOT persisted: the server runs without a config file (started with --requirepass on its command line?), so CONFIG REWRITE cannot save it and a restart brings back the password it was started with. Make the file that starts it (docker-compose.yml, or the .env it reads) a target of this secret"
        );
        return Ok(Persisted::Nowhere);
    }
    redis::cmd("CONFIG")
        .arg("REWRITE")
        .query::<()>(con)
        .map(|()| Persisted::ConfigRewrite)
        .map_err(|e| {
            let e = classify(&e, url, "CONFIG REWRITE");
            let text = format!(
                "{}; the password is changed in memory but could not be written to {config_file}, so a restart would bring back what that file holds",
                e.message()
            );
            e.reworded(text)
        })
}

/// `AUTH <password>`: the default user.
fn auth_default(con: &mut redis::Connection, password: &str) -> redis::RedisResult<Auth> {
    match redis::cmd("AUTH").arg(password).query::<()>(con) {
        Ok(()) => Ok(Auth::Accepted),
        Err(e) if e.code() == Some("WRONGPASS") => Ok(Auth::Refused),
        Err(e) => {
            let detail = e.detail().unwrap_or("");
            if detail.contains("without any password configured")
                || detail.contains("no password is set")
            {
                // Redis 6+ / Redis 5: the default user has no password.
                Ok(Auth::NoPassword)
            } else if detail.contains("invalid password") {
                // Redis 5's WRONGPASS.
                Ok(Auth::Refused)
            } else {
                Err(e)
            }
        }
    }
}

/// Whether `PING` works on this connection as it is (before any login:
/// the default user has no password).
fn open(con: &mut redis::Connection, node: &str) -> Result<bool, AuthorityError> {
    match redis::cmd("PING").query::<String>(con) {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("NOAUTH") => Ok(false),
        Err(e) => Err(classify(&e, node, "PING")),
    }
}

/// `master`, `slave` or `sentinel`: the first element of `ROLE`.
fn role(con: &mut redis::Connection, node: &str) -> Result<String, AuthorityError> {
    let reply: Value = redis::cmd("ROLE")
        .query(con)
        .map_err(|e| classify(&e, node, "ROLE"))?;
    let first = match reply {
        Value::Array(items) => items.into_iter().next(),
        _ => None,
    };
    first
        .and_then(|v| redis::from_redis_value::<String>(v).ok())
        .ok_or_else(|| permanent(format!("{node}: ROLE gave an unexpected reply")))
}

/// Whether the node has the `ACL` command (Redis 6 and later, not renamed
/// away).
fn has_acl(con: &mut redis::Connection, node: &str) -> Result<bool, AuthorityError> {
    match redis::cmd("ACL").arg("WHOAMI").query::<String>(con) {
        Ok(_) => Ok(true),
        Err(e) if e.detail().is_some_and(|d| d.contains("unknown command")) => Ok(false),
        Err(e) => Err(classify(&e, node, "ACL WHOAMI")),
    }
}

/// Whether this node's `masterauth` is the default user's password and must
/// change with it: on a replica that does not log in as another user
/// (`masteruser`), and on a primary that has one set (it is used after a
/// failover).
fn masterauth_is_default(
    con: &mut redis::Connection,
    node: &str,
    primary: bool,
) -> Result<bool, AuthorityError> {
    let user = config_get(con, node, "masteruser")?;
    if !user.is_empty() && user != b"default" {
        return Ok(false);
    }
    if !primary {
        return Ok(true);
    }
    let mut auth = config_get(con, node, "masterauth")?;
    let set = !auth.is_empty();
    auth.zeroize();
    Ok(set)
}

/// The value of one config parameter (empty when unset or unknown).
fn config_get(
    con: &mut redis::Connection,
    node: &str,
    name: &str,
) -> Result<Vec<u8>, AuthorityError> {
    let reply: Value = redis::cmd("CONFIG")
        .arg("GET")
        .arg(name)
        .query(con)
        .map_err(|e| classify(&e, node, &format!("CONFIG GET {name}")))?;
    let pairs: Vec<Value> = match reply {
        Value::Array(items) => items,
        Value::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => Vec::new(),
    };
    Ok(match pairs.into_iter().nth(1) {
        Some(Value::BulkString(b)) => b,
        Some(Value::SimpleString(s)) => s.into_bytes(),
        _ => Vec::new(),
    })
}

/// `e` with every spelling of these values (see [`crate::redact`]) and any
/// SHA-256 hash replaced: Redis does not quote them, but nothing may slip
/// through.
fn scrubbed(e: AuthorityError, values: &[Option<&SecretValue>]) -> AuthorityError {
    let redactor = crate::redact::Redactor::new(values.iter().flatten().copied());
    let clean = |message: String| redactor.redact(&scrub_hashes(&message));
    match e {
        AuthorityError::Transient { authority, message } => AuthorityError::Transient {
            authority,
            message: clean(message),
        },
        AuthorityError::Permanent { authority, message } => AuthorityError::Permanent {
            authority,
            message: clean(message),
        },
        AuthorityError::Unchanged { authority, message } => AuthorityError::Unchanged {
            authority,
            message: clean(message),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_urls_are_checked_and_debug_holds_no_password() {
        let err = RedisRequirepass::new(None, vec!["redis://:hunter2-pw@127.0.0.1:6379".into()])
            .expect_err("a node URL with a password");
        assert!(!format!("{err} {err:?}").contains("hunter2"));
        assert!(RedisRequirepass::new(None, Vec::new()).is_err());
        let admin = AdminLogin::from_url(&secrecy::SecretString::from(
            "redis://rotor_admin:admin-secret-9@127.0.0.1:6379",
        ))
        .expect("valid");
        let a = RedisRequirepass::new(Some(admin), vec!["redis://127.0.0.1:6379".into()])
            .expect("valid");
        assert!(!format!("{a:?}").contains("admin-secret-9"));
    }

    #[test]
    fn scrubbing_removes_values_and_hashes() {
        let v = SecretValue::new("plain-secret-value-1".into());
        let h = sha256_hex(&v);
        let e = permanent(format!("node: ERR bad 'plain-secret-value-1' and '#{h}'"));
        let text = scrubbed(e, &[Some(&v), None]).to_string();
        assert!(!text.contains("plain-secret-value-1"), "{text}");
        assert!(!text.contains(&h), "{text}");
        assert!(
            text.contains("[REDACTED fp=") && text.contains("<hash>"),
            "{text}"
        );
    }
}
