//! The Redis `dual-password` authority: one ACL user holds the old and the
//! new password at once while consumers move, on every node (ACLs are not
//! replicated, so each primary and replica is told separately).
//!
//! - `apply` adds the new password to the user on every node
//!   (`ACL SETUSER u #<sha256>`: only the SHA-256 of the password crosses
//!   the wire, so neither `MONITOR` nor the slowlog can show it), persists
//!   each node, then checks a real `AUTH u new` on every node. If a node
//!   fails, the nodes already changed are put back. A user that is missing
//!   or switched off on a node is refused there: rotor neither creates a
//!   user nor switches one back on.
//! - `retire` removes the old password's hash (`ACL SETUSER u !<sha256>`)
//!   on every node and persists. Connections that authenticated with it stay
//!   open (Redis does not drop them).
//! - `undo` removes the new password's hash and makes sure the old one is
//!   there, on every node. If a node fails, the nodes already undone are
//!   put back as they were: the engine leaves the targets as they are when
//!   undo fails, so no node may stop taking the password they hold.
//! - Persisting: `ACL SAVE` when the node loads users from an `aclfile`
//!   (there `CONFIG REWRITE` does not write users), else `CONFIG REWRITE`
//!   (there `ACL SAVE` fails). Which one ran is in the step's result.
//!
//! Error messages never hold a password, a hash or the admin URL.

use secrecy::SecretString;
use zeroize::Zeroize;

use super::{
    acl_user, auth, check_nodes, classify, connect, permanent, persist, setuser, sha256_hex,
    AdminLogin, NodeTls, PersistLog, NAME,
};
use crate::authority::{Acceptance, Authority, AuthorityError, Credential};
use crate::secret::SecretValue;

/// What to do on one node, given the user's password hashes there: the
/// rules to send, and the rules that take them back.
type Step<'a> = dyn Fn(&str, &[String]) -> Result<(Vec<String>, Vec<String>), AuthorityError> + 'a;

/// Passwords rotor issued for the user, to log in as it when no admin is
/// configured (the one most likely to work first).
type Own<'a> = &'a [&'a SecretValue];

/// One ACL user, its passwords changed on every node.
#[derive(Debug)]
pub struct RedisDualPassword {
    persisted: PersistLog,
    /// `None`: rotor logs in as the user itself, with whichever of its
    /// passwords rotor knows works (the user needs `ACL` and `CONFIG`, as
    /// `default` has in a requirepass setup).
    admin: Option<AdminLogin>,
    user: String,
    /// `redis://host:port` (or `rediss://`), without credentials.
    nodes: Vec<String>,
    /// What `rediss://` nodes' certificates are checked against.
    tls: NodeTls,
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
        Self::with_admin(Some(AdminLogin::from_url(admin_url)?), user, nodes)
    }

    /// The same, with the admin's login given apart; without one, rotor
    /// logs in as `user` itself.
    pub fn with_admin(
        admin: Option<AdminLogin>,
        user: impl Into<String>,
        nodes: Vec<String>,
    ) -> Result<Self, AuthorityError> {
        let user = user.into();
        if user.is_empty() || user.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(permanent(format!(
                "ACL user {user:?} is empty or holds spaces or control characters"
            )));
        }
        check_nodes(&nodes)?;
        Ok(RedisDualPassword {
            persisted: PersistLog::default(),
            admin,
            user,
            nodes,
            tls: NodeTls::default(),
        })
    }

    /// The same, checking the `rediss://` nodes' certificates against
    /// `tls` (a CA file) instead of the system's roots.
    pub fn with_tls(mut self, tls: NodeTls) -> Result<Self, AuthorityError> {
        tls.check_nodes(&self.nodes)?;
        self.tls = tls;
        Ok(self)
    }

    /// A connection to `node`, authenticated as the admin, or else as the
    /// user with the first of `own` (passwords rotor issued) it accepts.
    /// Its errors changed nothing.
    fn admin(&self, node: &str, own: Own<'_>) -> Result<redis::Connection, AuthorityError> {
        self.login(node, own).map_err(AuthorityError::unchanged)
    }

    fn login(&self, node: &str, own: Own<'_>) -> Result<redis::Connection, AuthorityError> {
        if let Some(a) = &self.admin {
            return a.connect(node, &self.tls);
        }
        let mut con = connect(node, &self.tls)?;
        for pw in own {
            if auth(&mut con, &self.user, pw.expose()).map_err(|e| classify(&e, node, "AUTH"))? {
                return Ok(con);
            }
        }
        Err(permanent(format!(
            "{node}: no admin login is configured, and ACL user {} accepts none of the passwords rotor knows; set admin_url_env",
            self.user
        )))
    }

    /// `ACL SETUSER user <rules>` on one node.
    fn set_user(&self, node: &str, own: Own<'_>, rules: &[String]) -> Result<(), AuthorityError> {
        self.change(node, own, &|_, _| Ok((rules.to_vec(), Vec::new())))
            .map(|_| ())
    }

    /// On one node: `step` turns the user's password hashes there into the
    /// rules to send and the rules that would put it back; sends the first,
    /// persists, and returns the second. Refuses a user that does not exist
    /// (SETUSER would create it) or is switched off. An error is
    /// [`AuthorityError::Unchanged`] when the node is as it was: it came
    /// before SETUSER took effect, or the node was put back after its
    /// persisting failed.
    fn change(
        &self,
        node: &str,
        own: Own<'_>,
        step: &Step<'_>,
    ) -> Result<Vec<String>, AuthorityError> {
        let mut con = self.admin(node, own)?;
        let Some(user) = acl_user(&mut con, &self.user, node).map_err(AuthorityError::unchanged)?
        else {
            return Err(permanent(format!(
                "{node}: ACL user {} does not exist; create it first (ACL SETUSER {} on ~… +@…) with the permissions the application needs",
                self.user, self.user
            ))
            .unchanged());
        };
        if !user.on {
            return Err(permanent(format!(
                "{node}: ACL user {} is switched off there; rotor does not switch a user back on. If it should log in, run ACL SETUSER {} on on that node, then rotate",
                self.user, self.user
            ))
            .unchanged());
        }
        let hashes = user.hashes;
        let (rules, back) = step(node, &hashes).map_err(AuthorityError::unchanged)?;
        // Adding a password to a `nopass` user switches `nopass` off: every
        // password it took until then (the targets' too) is refused at once,
        // and taking the new one back leaves it with none at all.
        if user.nopass && rules.iter().any(|r| r.starts_with('#')) {
            return Err(permanent(format!(
                "{node}: ACL user {} has nopass (it takes any password); adding one would switch that off and refuse every consumer at once. Give it a password first (ACL SETUSER {} resetpass >…) and put that into the targets, or use strategy cutover for a default user without a password",
                self.user, self.user
            ))
            .unchanged());
        }
        // Idempotent: removing a hash the user does not have is an error in
        // Redis, so only what would change is sent.
        let rules: Vec<&String> = rules
            .iter()
            .filter(|r| match r.strip_prefix('!') {
                Some(h) => hashes.iter().any(|x| x == h),
                None => true,
            })
            .collect();
        // SETUSER applies all its rules or none: a refusal changed nothing.
        // A lost connection or a timeout may have come after it ran, so
        // that one stays a change for undo to take back.
        setuser(&mut con, &self.user, &rules, node).map_err(|e| match e {
            AuthorityError::Transient { .. } => e,
            _ => e.unchanged(),
        })?;
        match self
            .forget_requirepass(&mut con, node)
            .and_then(|()| persist(&mut con, node))
        {
            Ok(how) => {
                self.persisted.record(node, how);
                Ok(back)
            }
            Err(e) => {
                let back: Vec<&String> = back.iter().collect();
                let text = e.message().to_owned();
                Err(match setuser(&mut con, &self.user, &back, node) {
                    Ok(()) => e
                        .reworded(format!("{text}; this node was put back"))
                        .unchanged(),
                    Err(u) => e.reworded(format!(
                        "{text}; putting this node back FAILED ({})",
                        u.message()
                    )),
                })
            }
        }
    }

    /// For the `default` user: `requirepass` cleared, its passwords kept.
    /// Redis keeps `requirepass` apart from the user's passwords, so
    /// `CONFIG REWRITE` would otherwise write the replaced plaintext back
    /// into the config file, where it stays after retire. Both commands
    /// run in one transaction, so the server is never left open.
    fn forget_requirepass(
        &self,
        con: &mut redis::Connection,
        node: &str,
    ) -> Result<(), AuthorityError> {
        if self.user != "default" {
            return Ok(());
        }
        let mut conf: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("requirepass")
            .query(con)
            .map_err(|e| classify(&e, node, "CONFIG GET requirepass"))?;
        let set = conf.get(1).is_some_and(|v| !v.is_empty());
        conf.zeroize();
        if !set {
            return Ok(());
        }
        let Some(user) = acl_user(con, &self.user, node)? else {
            return Ok(());
        };
        let mut tx = redis::pipe();
        tx.atomic();
        tx.cmd("CONFIG")
            .arg("SET")
            .arg("requirepass")
            .arg("")
            .ignore();
        let setuser = tx.cmd("ACL").arg("SETUSER").arg("default").arg("resetpass");
        for h in &user.hashes {
            setuser.arg(format!("#{h}"));
        }
        setuser.ignore();
        tx.query::<()>(con).map_err(|e| {
            classify(
                &e,
                node,
                "MULTI/EXEC (CONFIG SET requirepass, ACL SETUSER default)",
            )
        })
    }

    /// Runs `step` on every node; if one fails, the nodes already changed
    /// get their rollback rules, and the error says so. `name` is the crash
    /// point between two nodes (`mid:<name>`) for the fault-injection tests.
    fn on_every_node(
        &self,
        own: Own<'_>,
        name: crate::engine::step::Inside,
        step: &Step<'_>,
    ) -> Result<(), AuthorityError> {
        let mut done: Vec<(&str, Vec<String>)> = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if i > 0 {
                crate::engine::fault::point(crate::engine::step::CrashPoint::Mid(name));
            }
            match self.change(node, own, step) {
                Ok(back) => done.push((node, back)),
                Err(e) => return Err(self.put_back(e, own, &done)),
            }
        }
        Ok(())
    }

    /// `e` after the nodes in `done` (changed before the failing one) got
    /// their rollback rules, saying whether that worked. The failing node
    /// has already put itself back, or its error says it could not. When
    /// every node is as it was, the error is [`AuthorityError::Unchanged`]:
    /// there is nothing left to undo, not even on a node that is down.
    fn put_back(
        &self,
        e: AuthorityError,
        own: Own<'_>,
        done: &[(&str, Vec<String>)],
    ) -> AuthorityError {
        if done.is_empty() {
            return e;
        }
        let failed: Vec<String> = done
            .iter()
            .filter_map(|(node, back)| {
                self.set_user(node, own, back)
                    .err()
                    .map(|u| u.message().to_owned())
            })
            .collect();
        if failed.is_empty() {
            let text = format!("{}; the nodes before it were put back", e.message());
            if e.changed_nothing() {
                e.reworded(text).unchanged()
            } else {
                e.reworded(text)
            }
        } else {
            let text = format!(
                "{}; putting back the nodes before it FAILED ({})",
                e.message(),
                failed.join("; ")
            );
            e.reworded(text)
        }
    }

    /// Whether `password` authenticates as the user on every node; the
    /// first node that refuses, if any.
    fn accepted_everywhere(&self, password: &str) -> Result<Option<String>, AuthorityError> {
        for node in &self.nodes {
            let mut con = connect(node, &self.tls)?;
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

    fn notes(&self) -> Vec<String> {
        self.persisted.notes()
    }

    fn apply(
        &self,
        new: Credential<'_>,
        old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        let add = vec![format!("#{}", sha256_hex(new.secret))];
        let own = match old {
            Some(o) => vec![o.secret, new.secret],
            None => vec![new.secret],
        };
        self.on_every_node(&own, crate::engine::step::Inside::ApplyNodes, &|_, had| {
            Ok((add.clone(), put_back(&add, had)))
        })?;
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
        // Everything but the live password goes: the old one, and any set
        // by hand meanwhile, so that the user holds only what rotor issued.
        let keep = sha256_hex(live.secret);
        let old_back = format!("#{}", sha256_hex(old.secret));
        self.on_every_node(&[live.secret, old.secret], crate::engine::step::Inside::RetireNodes, &|node, hashes| {
            if !hashes.contains(&keep) {
                return Err(permanent(format!(
                    "{node}: ACL user {} does not hold the current password; removing the others would lock every consumer out",
                    self.user
                )));
            }
            let gone = hashes.iter().filter(|h| **h != keep);
            // Put back means: the old password works again (also where a
            // crashed run had already removed it), and whatever else went.
            let mut back: Vec<String> = gone.clone().map(|h| format!("#{h}")).collect();
            if !back.contains(&old_back) {
                back.push(old_back.clone());
            }
            Ok((gone.map(|h| format!("!{h}")).collect(), back))
        })
    }

    fn undo(&self, new: Credential<'_>, old: Option<Credential<'_>>) -> Result<(), AuthorityError> {
        let mut rules = vec![format!("!{}", sha256_hex(new.secret))];
        let mut own = vec![new.secret];
        if let Some(old) = old {
            own.insert(0, old.secret);
            if old.secret.fingerprint() == new.secret.fingerprint() {
                return Ok(());
            }
            rules.push(format!("#{}", sha256_hex(old.secret)));
        }
        // All or nothing: when undo fails the engine keeps the targets as
        // they are (they may hold the new password already), so a node
        // that fails must not leave the others refusing it. Each node undone
        // is put back exactly as it was.
        self.on_every_node(&own, crate::engine::step::Inside::UndoNodes, &|_, had| {
            Ok((rules.clone(), put_back(&rules, had)))
        })
    }

    /// On each node: the user exists, is switched on, holds the live
    /// password, and holds no password rotor did not set (the previous one
    /// is allowed while it waits for `rotor retire`).
    fn drift(
        &self,
        live: Credential<'_>,
        previous: Option<Credential<'_>>,
    ) -> Result<Vec<String>, AuthorityError> {
        let known: Vec<String> = std::iter::once(live)
            .chain(previous)
            .map(|c| sha256_hex(c.secret))
            .collect();
        let mut found = Vec::new();
        for node in &self.nodes {
            let own: Vec<&SecretValue> = std::iter::once(live)
                .chain(previous)
                .map(|c| c.secret)
                .collect();
            let mut con = self.admin(node, &own)?;
            let Some(user) = acl_user(&mut con, &self.user, node)? else {
                found.push(format!(
                    "{node}: ACL user {} does not exist there (removed by hand?)",
                    self.user
                ));
                continue;
            };
            if !user.on {
                found.push(format!(
                    "{node}: ACL user {} is switched off there",
                    self.user
                ));
            } else if !user.hashes.contains(&known[0]) {
                found.push(format!(
                    "{node}: ACL user {} refuses the current password (changed by hand?); rotate to take control again",
                    self.user
                ));
            }
            let unknown = user.hashes.iter().filter(|h| !known.contains(h)).count();
            if unknown > 0 {
                found.push(format!(
                    "{node}: ACL user {} also accepts {unknown} password(s) rotor did not set (added by hand?); the next rotation removes them",
                    self.user
                ));
            }
        }
        Ok(found)
    }
}

/// The rules that put a node back as it was before `rules` ran on it, given
/// the hashes it had then: a hash removed is added again, a hash added is
/// removed again.
fn put_back(rules: &[String], before: &[String]) -> Vec<String> {
    let had = |h: &str| before.iter().any(|x| x == h);
    rules
        .iter()
        .filter_map(|r| {
            if let Some(h) = r.strip_prefix('!') {
                had(h).then(|| format!("#{h}"))
            } else if let Some(h) = r.strip_prefix('#') {
                (!had(h)).then(|| format!("!{h}"))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::put_back;

    #[test]
    fn put_back_reverses_only_what_changed() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        // Undo removed NEW (it was there) and added OLD (it was not).
        assert_eq!(
            put_back(&s(&["!new", "#old"]), &s(&["new"])),
            s(&["#new", "!old"])
        );
        // Nothing changed: NEW was gone and OLD was there.
        assert!(put_back(&s(&["!new", "#old"]), &s(&["old"])).is_empty());
        assert!(put_back(&s(&["on"]), &[]).is_empty());
    }
}
