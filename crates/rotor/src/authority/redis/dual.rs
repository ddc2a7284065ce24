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
//!   there, on every node. If a node fails, the nodes already undone are
//!   put back as they were: the engine leaves the targets as they are when
//!   undo fails, so no node may stop taking the password they hold.
//! - Persisting: `ACL SAVE` when the node loads users from an `aclfile`
//!   (there `CONFIG REWRITE` does not write users), else `CONFIG REWRITE`
//!   (there `ACL SAVE` fails). Which one ran is in the step's result.
//!
//! Error messages never hold a password, a hash or the admin URL.

use secrecy::SecretString;

use super::{
    auth, check_nodes, classify, connect, password_hashes, permanent, persist, sha256_hex,
    AdminLogin, NAME,
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
    /// exist (SETUSER would create it). Returns the hashes the user had
    /// before.
    fn set_user(&self, node: &str, rules: &[String]) -> Result<Vec<String>, AuthorityError> {
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
        persist(&mut con, node)?;
        Ok(hashes)
    }

    /// Applies `rules` on every node; if one fails, `rollback` rules go to
    /// the nodes already changed, and the error says so. `step` names the
    /// crash point between two nodes (`mid:<step>`) for the fault-injection
    /// tests.
    fn on_every_node(
        &self,
        step: &str,
        rules: &[String],
        rollback: &[String],
    ) -> Result<(), AuthorityError> {
        for (i, node) in self.nodes.iter().enumerate() {
            if i > 0 {
                crate::engine::fault::point("mid", step);
            }
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
        self.on_every_node("apply-nodes", &add, &remove)?;
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
        self.on_every_node("retire-nodes", &remove, &back)
    }

    fn undo(&self, new: Credential<'_>, old: Option<Credential<'_>>) -> Result<(), AuthorityError> {
        let mut rules = vec![format!("!{}", sha256_hex(new.secret))];
        if let Some(old) = old {
            if old.secret.fingerprint() == new.secret.fingerprint() {
                return Ok(());
            }
            rules.push(format!("#{}", sha256_hex(old.secret)));
        }
        // All or nothing: when undo fails the engine keeps the targets as
        // they are (they may hold the new password already), so a node
        // that fails must not leave the others refusing it. Each node undone
        // is put back exactly as it was.
        let mut undone: Vec<(&String, Vec<String>)> = Vec::new();
        for node in &self.nodes {
            match self.set_user(node, &rules) {
                Ok(before) => undone.push((node, put_back(&rules, &before))),
                Err(e) => {
                    if undone.is_empty() {
                        return Err(e.unchanged());
                    }
                    let failed: Vec<String> = undone
                        .iter()
                        .filter(|(_, back)| !back.is_empty())
                        .filter_map(|(done, back)| {
                            self.set_user(done, back)
                                .err()
                                .map(|u| format!("{done}: {u}"))
                        })
                        .collect();
                    let text = if failed.is_empty() {
                        format!("{e}; the nodes before it were put back as they were")
                    } else {
                        format!(
                            "{e}; putting back the nodes before it FAILED ({})",
                            failed.join("; ")
                        )
                    };
                    return Err(e.reworded(text));
                }
            }
        }
        Ok(())
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
