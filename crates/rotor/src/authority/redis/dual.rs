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
//!   there, on every node.
//! - `drift` names each node where the user refuses the live password, is
//!   missing, or holds a password rotor does not know (set by hand).
//! - Persisting: `ACL SAVE` when the node loads users from an `aclfile`
//!   (there `CONFIG REWRITE` does not write users), else `CONFIG REWRITE`
//!   (there `ACL SAVE` fails). Which one ran is in the step's result.
//!
//! Error messages never hold a password, a hash or the admin URL.

use secrecy::SecretString;

use super::{
    acl_user, auth, check_nodes, classify, connect, permanent, persist, said, sha256_hex,
    transient, AdminLogin, NAME,
};
use crate::authority::{Acceptance, Authority, AuthorityError, Credential};

/// One ACL user, its passwords changed on every node.
#[derive(Debug)]
pub struct RedisDualPassword {
    admin: AdminLogin,
    user: String,
    /// `redis://host:port` (or `rediss://`), without credentials.
    nodes: Vec<String>,
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
        Self::with_admin(AdminLogin::from_url(admin_url)?, user, nodes)
    }

    /// The same, with the admin's login given apart.
    pub fn with_admin(
        admin: AdminLogin,
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
        Ok(RedisDualPassword { admin, user, nodes })
    }

    /// A connection to `node`, authenticated as the admin.
    fn admin(&self, node: &str) -> Result<redis::Connection, AuthorityError> {
        self.admin.connect(node)
    }

    /// `ACL SETUSER user <rules>` on one node, refusing a user that does not
    /// exist (SETUSER would create it) or is switched off. The error is
    /// [`AuthorityError::Unchanged`] when it came before SETUSER was sent
    /// (connecting, the admin login, reading the user).
    fn set_user(&self, node: &str, rules: &[String]) -> Result<(), AuthorityError> {
        let mut con = self.admin(node).map_err(AuthorityError::unchanged)?;
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
        let hashes = user.passwords;
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
    /// the nodes already changed (and to the failing one, unless it failed
    /// before changing anything), and the error says so. When every one of
    /// them was put back, the error is [`AuthorityError::Unchanged`]: there
    /// is nothing left to undo, not even on a node that cannot be reached.
    fn on_every_node(&self, rules: &[String], rollback: &[String]) -> Result<(), AuthorityError> {
        for (i, node) in self.nodes.iter().enumerate() {
            let Err(e) = self.set_user(node, rules) else {
                continue;
            };
            let changed = if e.changed_nothing() {
                &self.nodes[..i]
            } else {
                &self.nodes[..=i]
            };
            if changed.is_empty() {
                return Err(e);
            }
            let mut failed = Vec::new();
            for done in changed {
                if let Err(u) = self.set_user(done, rollback) {
                    failed.push(said(&u).to_owned());
                }
            }
            let which = match (i, changed.len() > i) {
                (0, _) => "it",
                (_, true) => "it and the nodes before it",
                (_, false) => "the nodes before it",
            };
            return Err(if failed.is_empty() {
                let text = format!(
                    "{}; {which} {} put back",
                    said(&e),
                    if i == 0 { "was" } else { "were" }
                );
                e.reworded(text).unchanged()
            } else {
                let text = format!(
                    "{}; putting back {which} FAILED ({})",
                    said(&e),
                    failed.join("; ")
                );
                e.reworded(text)
            });
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
        let add = vec![format!("#{}", sha256_hex(new.secret))];
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
            let mut admin = self.admin(node)?;
            let Some(user) = acl_user(&mut admin, &self.user, node)? else {
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
            } else if !auth(&mut connect(node)?, &self.user, live.secret.expose())
                .map_err(|e| classify(&e, node, "AUTH"))?
            {
                found.push(format!(
                    "{node}: ACL user {} refuses the current password (changed by hand?); rotate to take control again",
                    self.user
                ));
            }
            let unknown = user.passwords.iter().filter(|h| !known.contains(h)).count();
            if unknown > 0 {
                found.push(format!(
                    "{node}: ACL user {} also accepts {unknown} password(s) rotor did not set (added by hand?); remove them (ACL SETUSER {} !<hash>, then ACL SAVE or CONFIG REWRITE)",
                    self.user, self.user
                ));
            }
        }
        Ok(found)
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
                failed.push(said(&e).to_owned());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(transient(failed.join("; ")))
        }
    }
}
