//! The PostgreSQL `alternate` authority: two LOGIN roles (`roles`, e.g.
//! `app_blue` and `app_green`) take turns, both members of a NOLOGIN
//! `group` role (`app`) that holds every privilege and owns every object.
//!
//! A rotation, step by step:
//!
//! 1. `apply` prepares the idle role, in one transaction on the admin
//!    connection: created if missing, else given `LOGIN` and the new
//!    password (a SCRAM verifier computed here) with `VALID UNTIL now +
//!    valid_for` (or `'infinity'`); made a member of the group and of
//!    exactly the roles the live one is a member of; given the live role's
//!    settings (`ALTER ROLE … [IN DATABASE d] SET`, `RESET` the ones the
//!    live role lacks). It then reads both roles back and fails if they
//!    still differ, and commits; last, it logs in as the idle role with the
//!    new password. The live role is not touched: both log in now.
//! 2. The engine delivers the new user and password, restarts and verifies
//!    the consumers.
//! 3. `retire` waits until `pg_stat_activity` shows no session of the old
//!    role (polling, at most `drain_timeout`; on timeout the old role keeps
//!    working and `rotor retire` tries again), then takes its login away:
//!    `NOLOGIN` with a random password nobody knows (`retire = "nologin"`,
//!    the default: an admin can set a password and log in, break-glass), or
//!    `REASSIGN OWNED BY old TO group; DROP OWNED BY old; DROP ROLE old`
//!    (`retire = "drop"`). REASSIGN/DROP OWNED act on the admin connection's
//!    database only (and need the admin to have both roles' privileges, so
//!    they run only when the old role holds something there); what it holds
//!    in other databases makes the drop fail, saying which.
//!
//! `apply` refuses, changing nothing, when the scheme cannot hold: the
//! group does not exist, or can log in without being the live role; the
//! live role holds privileges, owns objects or is named in a policy
//! directly (the idle role would not get those: they belong on the group);
//! the live role has an attribute membership does not pass on (SUPERUSER,
//! CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS) that the idle role lacks.
//!
//! # Converting a single login role
//!
//! An application that logs in as one role `app` (LOGIN, holding the
//! privileges and owning the tables) converts without moving a privilege:
//! configure `group = "app"` and `roles = ["app_blue", "app_green"]`, with
//! the store's current user `app`. The first rotation sees the group as the
//! live role: it creates `app_blue` as a member of `app` (and nothing else:
//! `app`'s own memberships reach it through `app`) with `app`'s settings,
//! consumers move to `app_blue`, and retire makes `app` NOLOGIN. `app`
//! keeps its privileges and objects as the group; it is never dropped,
//! whatever `retire` says. A live role that is neither one of the pair nor
//! the group is converted the same way if it holds nothing directly, and is
//! likewise only ever made NOLOGIN.
//!
//! `undo` first makes the old role log in again with its password (creating
//! it again, as a member of the group with the new role's memberships and
//! settings, if a retire had dropped it), then takes the new role's login
//! away. Every step is idempotent.

use std::time::Duration;

use secrecy::SecretString;
use tokio_postgres::{Client, Config, GenericClient, Transaction};
use zeroize::Zeroizing;

use super::roles::{self, Role};
use super::sync::{self, wanted_memberships};
use super::{
    admin_config, admin_role, classify, classify_password, classify_rolled_back, drain, permanent,
    quote_ident, valid_until, verifier, Link, NAME,
};
use crate::authority::{Acceptance, Authority, AuthorityError, Credential};
use crate::inventory::RetireMode;
use crate::secret::SecretValue;

/// How long retire waits for the old role's sessions unless told.
const DEFAULT_DRAIN: Duration = Duration::from_secs(5 * 60);

/// Two LOGIN roles taking turns behind a NOLOGIN group.
pub struct PostgresAlternate {
    link: Link,
    group: String,
    roles: [String; 2],
    retire: RetireMode,
    drain_timeout: Duration,
    valid_for: Option<Duration>,
}

impl std::fmt::Debug for PostgresAlternate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresAlternate")
            .field("admin", &"[REDACTED]")
            .field("group", &self.group)
            .field("roles", &self.roles)
            .field("retire", &self.retire)
            .field("drain_timeout", &self.drain_timeout)
            .field("valid_for", &self.valid_for)
            .finish()
    }
}

impl PostgresAlternate {
    /// An authority for the pair `roles` behind `group`, managed through
    /// `admin_url` (a role with CREATEROLE). Retires with NOLOGIN, waits
    /// five minutes for sessions, sets no expiry; see the builder methods.
    /// Checks the URL and the names; connects only when a step runs.
    pub fn new(
        admin_url: SecretString,
        group: impl Into<String>,
        roles: [String; 2],
    ) -> Result<Self, AuthorityError> {
        Self::with_config(admin_config(&admin_url)?, group, roles)
    }

    /// Like [`PostgresAlternate::new`], with the admin connection already
    /// parsed.
    pub fn with_config(
        admin: Config,
        group: impl Into<String>,
        roles: [String; 2],
    ) -> Result<Self, AuthorityError> {
        let group = group.into();
        for name in [&group, &roles[0], &roles[1]] {
            quote_ident(name)?;
        }
        if roles[0] == roles[1] || roles.contains(&group) {
            return Err(permanent(
                "alternate needs two distinct roles and a group that is neither".into(),
            ));
        }
        Ok(PostgresAlternate {
            link: Link::new(admin)?,
            group,
            roles,
            retire: RetireMode::Nologin,
            drain_timeout: DEFAULT_DRAIN,
            valid_for: None,
        })
    }

    /// What retiring does to the old role (the group, or a role outside the
    /// pair, is only ever made NOLOGIN).
    pub fn retire_mode(mut self, mode: RetireMode) -> Self {
        self.retire = mode;
        self
    }

    /// How long retire waits for the old role's sessions to end.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Every password set gets `VALID UNTIL now + valid_for` (by the
    /// server's clock); `None` (the default) sets `VALID UNTIL 'infinity'`.
    pub fn valid_for(mut self, valid_for: Option<Duration>) -> Self {
        self.valid_for = valid_for;
        self
    }

    /// The role the next credential belongs to, given the live one.
    fn idle_for(&self, live: Option<&str>) -> &str {
        if live == Some(self.roles[0].as_str()) {
            &self.roles[1]
        } else {
            &self.roles[0]
        }
    }

    /// The new credential's role: one of the pair.
    fn new_role<'a>(&self, new: Credential<'a>) -> Result<&'a str, AuthorityError> {
        match new.user {
            Some(u) if self.roles.iter().any(|r| r == u) => Ok(u),
            Some(u) => Err(permanent(format!(
                "{u} is not one of the alternating roles ({}, {})",
                self.roles[0], self.roles[1]
            ))),
            None => Err(permanent(
                "the new credential names no role; alternate needs one of the pair".into(),
            )),
        }
    }

    /// The live role: the old credential's, or the group when there is
    /// none (nothing logged in as another role before).
    fn live_role<'a>(&'a self, old: Option<Credential<'a>>) -> &'a str {
        old.and_then(|o| o.user).unwrap_or(&self.group)
    }

    /// Checks that `idle` can be made like `live`, and makes it so, in
    /// `tx`; then reads both back. Nothing is committed here.
    async fn prepare_idle(
        &self,
        tx: &Transaction<'_>,
        idle: &str,
        live: &str,
        password: &str,
    ) -> Result<(), AuthorityError> {
        let g = &self.group;
        let conversion = live == g;
        let group = roles::role(tx, g).await?.ok_or_else(|| {
            permanent(format!(
                "the group role {g} does not exist; create it: CREATE ROLE {g} NOLOGIN; \
                 GRANT … TO {g} (the privileges the application needs); nothing was changed"
            ))
        })?;
        if group.login && !conversion {
            return Err(permanent(format!(
                "the group role {g} can log in (LOGIN) but is not the live login ({live}); a \
                 group should be NOLOGIN: if {g} is the single login being converted, finish \
                 with `rotor retire`, else run ALTER ROLE {g} NOLOGIN; nothing was changed"
            )));
        }
        let live_role = roles::role(tx, live).await?.ok_or_else(|| {
            permanent(format!(
                "the live role {live} does not exist; nothing was changed"
            ))
        })?;
        if !conversion {
            let held = roles::holdings(tx, &live_role).await?;
            if !held.is_empty() {
                return Err(permanent(format!(
                    "{live} holds privileges or objects directly, which {idle} would not get: \
                     {}. Move them to the group {g} (GRANT … TO {g}; REVOKE … FROM {live}; \
                     REASSIGN OWNED BY {live} TO {g} in each database named) and rotate \
                     again; nothing was changed",
                    roles::describe_holdings(live, &held, 5)
                )));
            }
        }
        let idle_role = roles::role(tx, idle).await?;
        let lacking: Vec<&str> = live_role
            .attributes
            .iter()
            .copied()
            .filter(|a| !idle_role.as_ref().is_some_and(|r| r.attributes.contains(a)))
            .collect();
        if !lacking.is_empty() {
            let fix = match &idle_role {
                Some(_) => format!("ALTER ROLE {idle} {}", lacking.join(" ")),
                None => format!("CREATE ROLE {idle} NOLOGIN {}", lacking.join(" ")),
            };
            return Err(permanent(format!(
                "{live} has {}, which membership does not pass on and {idle} lacks; give it \
                 to {idle} ({fix}) or take it from {live}; nothing was changed",
                lacking.join(", ")
            )));
        }
        // The other way round: consumers would gain what the idle role has
        // beyond the live one (a SUPERUSER left on it by hand).
        if let Some(r) = &idle_role {
            let extra = extra_attributes(r, &live_role);
            if !extra.is_empty() {
                let no: Vec<String> = extra.iter().map(|a| format!("NO{a}")).collect();
                return Err(permanent(format!(
                    "{idle} has {}, which {live} lacks: consumers would gain it by logging in \
                     as {idle}; take it away (ALTER ROLE {idle} {}) or give it to {live}; \
                     nothing was changed",
                    extra.join(", "),
                    no.join(" ")
                )));
            }
        }

        let until = valid_until(tx, self.valid_for).await?;
        let inherit = if conversion || live_role.inherit {
            "INHERIT"
        } else {
            "NOINHERIT"
        };
        let verb = if idle_role.is_some() {
            "ALTER"
        } else {
            "CREATE"
        };
        let sql = Zeroizing::new(format!(
            "{verb} ROLE {} LOGIN {inherit} CONNECTION LIMIT {} PASSWORD {password} {until}",
            quote_ident(idle)?,
            live_role.conn_limit
        ));
        tx.batch_execute(&sql)
            .await
            .map_err(|e| classify_password(&e, &format!("{verb} ROLE {idle}")))?;
        let idle_role = existing(tx, idle).await?;

        let want_m = wanted_memberships(&roles::memberships(tx, &live_role).await?, g, conversion);
        let have_m = roles::memberships(tx, &idle_role).await?;
        sync::memberships(tx, idle, &have_m, &want_m).await?;
        let want_s = roles::settings(tx, &live_role).await?;
        let have_s = roles::settings(tx, &idle_role).await?;
        sync::settings(tx, idle, &have_s, &want_s).await?;

        let diff = self.differences(tx, &idle_role, &live_role).await?;
        if !diff.is_empty() {
            return Err(permanent(format!(
                "after copying, {idle} still differs from {live}: {}; nothing was changed",
                diff.join("; ")
            )));
        }
        Ok(())
    }

    /// How `idle`'s memberships and settings differ from what `live`'s
    /// say they should be, read from the catalog now.
    async fn differences(
        &self,
        c: &(impl GenericClient + Sync),
        idle: &Role,
        live: &Role,
    ) -> Result<Vec<String>, AuthorityError> {
        let conversion = live.name == self.group;
        let want_m =
            wanted_memberships(&roles::memberships(c, live).await?, &self.group, conversion);
        Ok(sync::differences(
            &idle.name,
            &live.name,
            &roles::memberships(c, idle).await?,
            &want_m,
            &roles::settings(c, idle).await?,
            &roles::settings(c, live).await?,
        ))
    }

    /// Makes `role` log in with `secret` again; if a retire dropped it,
    /// creates it as a member of the group with `like`'s memberships and
    /// settings (the role that was made from it).
    async fn restore(
        &self,
        tx: &Transaction<'_>,
        role: &str,
        secret: &SecretValue,
        like: Option<&str>,
    ) -> Result<(), AuthorityError> {
        let password = verifier(secret);
        let until = valid_until(tx, self.valid_for).await?;
        let role_q = quote_ident(role)?;
        let existing_role = roles::role(tx, role).await?;
        let verb = if existing_role.is_some() {
            "ALTER"
        } else if role == self.group {
            return Err(permanent(format!(
                "the group role {role} no longer exists; its privileges cannot be restored \
                 by rotor"
            )));
        } else {
            "CREATE"
        };
        let sql = Zeroizing::new(format!(
            "{verb} ROLE {role_q} LOGIN PASSWORD {} {until}",
            password.as_str()
        ));
        tx.batch_execute(&sql)
            .await
            .map_err(|e| classify_password(&e, &format!("{verb} ROLE {role}")))?;
        if !self.roles.iter().any(|r| r == role) {
            // The group itself, or a converted role outside the pair: it
            // never was made a member of the group.
            return Ok(());
        }
        let restored = existing(tx, role).await?;
        let have_m = roles::memberships(tx, &restored).await?;
        sync::join_group(tx, role, &have_m, &self.group).await?;
        if existing_role.is_none() {
            if let Some(like) = roles::role(tx, like.unwrap_or(self.group.as_str())).await? {
                if like.name != self.group {
                    let want_m = wanted_memberships(
                        &roles::memberships(tx, &like).await?,
                        &self.group,
                        false,
                    );
                    let have_m = roles::memberships(tx, &restored).await?;
                    sync::memberships(tx, role, &have_m, &want_m).await?;
                    let want_s = roles::settings(tx, &like).await?;
                    let have_s = roles::settings(tx, &restored).await?;
                    sync::settings(tx, role, &have_s, &want_s).await?;
                }
            }
        }
        Ok(())
    }
}

/// The attributes membership does not pass on that `role` has and `like`
/// lacks.
fn extra_attributes(role: &Role, like: &Role) -> Vec<&'static str> {
    role.attributes
        .iter()
        .copied()
        .filter(|a| !like.attributes.contains(a))
        .collect()
}

/// The role called `name`, which must exist (it was just created).
async fn existing(c: &(impl GenericClient + Sync), name: &str) -> Result<Role, AuthorityError> {
    roles::role(c, name)
        .await?
        .ok_or_else(|| permanent(format!("role {name} vanished during the change")))
}

async fn begin(c: &mut Client) -> Result<Transaction<'_>, AuthorityError> {
    c.transaction().await.map_err(|e| classify(&e, "BEGIN"))
}

async fn commit(tx: Transaction<'_>) -> Result<(), AuthorityError> {
    tx.commit().await.map_err(|e| classify(&e, "COMMIT"))
}

impl Authority for PostgresAlternate {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The idle role: the other one of the pair, or the first one when the
    /// live login is not one of the pair (none yet, or a single login role
    /// being converted).
    fn next_user(&self, live: Option<&str>) -> Result<Option<String>, AuthorityError> {
        Ok(Some(self.idle_for(live).to_owned()))
    }

    fn apply(
        &self,
        new: Credential<'_>,
        old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        let idle = self.new_role(new).map_err(AuthorityError::unchanged)?;
        let live = self.live_role(old);
        if idle == live {
            return Err(permanent(format!(
                "the new credential's role {idle} is the live one; alternate prepares the \
                 other role of the pair"
            ))
            .unchanged());
        }
        let password = verifier(new.secret);
        // Everything up to COMMIT changed nothing: the server rolls back a
        // transaction that is not committed, also when the connection is
        // lost.
        self.link
            .with_admin_or(AuthorityError::unchanged, async |client| {
                admin_role(client)
                    .await
                    .map_err(AuthorityError::unchanged)?;
                let tx = begin(client).await.map_err(AuthorityError::unchanged)?;
                self.prepare_idle(&tx, idle, live, &password)
                    .await
                    .map_err(AuthorityError::unchanged)?;
                tx.commit()
                    .await
                    .map_err(|e| classify_rolled_back(&e, "COMMIT"))
            })?;
        self.link.block_on(self.link.check_login(idle, new.secret))
    }

    fn verify(&self, cred: Credential<'_>) -> Result<Acceptance, AuthorityError> {
        let user = cred
            .user
            .ok_or_else(|| permanent("the credential names no role; alternate needs one".into()))?;
        self.link.block_on(self.link.login(user, cred.secret))
    }

    fn retire(&self, old: Credential<'_>, live: Credential<'_>) -> Result<(), AuthorityError> {
        let Some(old_user) = old.user else {
            return Ok(());
        };
        if Some(old_user) == live.user {
            return Ok(());
        }
        // Only the pair's own roles may be dropped; the group (a converted
        // login) and a role outside the pair keep their objects.
        let drop = self.retire == RetireMode::Drop && self.roles.iter().any(|r| r == old_user);
        self.link.with_admin(async |client| {
            if admin_role(client).await? == old_user {
                return Err(permanent(format!(
                    "the old role {old_user} is the admin role itself; rotor will not retire it"
                )));
            }
            let Some(role) = roles::role(&*client, old_user).await? else {
                return Ok(()); // dropped already
            };
            drain::wait_for_sessions(client, old_user, self.drain_timeout).await?;
            if drop {
                drain::drop_role(client, &role, &self.group).await
            } else {
                drain::nologin(client, old_user).await
            }
        })
    }

    fn undo(&self, new: Credential<'_>, old: Option<Credential<'_>>) -> Result<(), AuthorityError> {
        let old_user = old.and_then(|o| o.user);
        let new_user = new.user.filter(|u| Some(*u) != old_user);
        if let Some(u) = new_user {
            quote_ident(u)?;
        }
        self.link.with_admin(async |client| {
            admin_role(client).await?;
            let tx = begin(client).await?;
            if let (Some(old), Some(user)) = (old, old_user) {
                self.restore(&tx, user, old.secret, new_user).await?;
            }
            if let Some(u) = new_user {
                if u != self.group && roles::role(&tx, u).await?.is_some() {
                    let sql = Zeroizing::new(format!(
                        "ALTER ROLE {} NOLOGIN PASSWORD {}",
                        quote_ident(u)?,
                        super::unknown_verifier()?.as_str()
                    ));
                    tx.batch_execute(&sql)
                        .await
                        .map_err(|e| classify_password(&e, &format!("ALTER ROLE {u} NOLOGIN")))?;
                }
            }
            commit(tx).await
        })
    }

    fn drift(
        &self,
        live: Credential<'_>,
        previous: Option<Credential<'_>>,
    ) -> Result<Vec<String>, AuthorityError> {
        let Some(live_user) = live.user else {
            return Ok(Vec::new());
        };
        // The previous login (its retire pending) is meant to work still.
        let pending = previous.and_then(|p| p.user).filter(|p| *p != live_user);
        let idle = self.idle_for(Some(live_user));
        let g = &self.group;
        self.link.with_admin(async |client| {
            let c = &*client;
            let mut out = Vec::new();
            match roles::role(c, g).await? {
                None => out.push(format!("the group role {g} does not exist")),
                Some(group) if group.login && live_user != g && pending != Some(g.as_str()) => out
                    .push(format!(
                        "{g} (the group) can still log in; `rotor retire` or ALTER ROLE {g} \
                         NOLOGIN ends that"
                    )),
                Some(_) => {}
            }
            let Some(live_role) = roles::role(c, live_user).await? else {
                out.push(format!("the live role {live_user} does not exist"));
                return Ok(out);
            };
            let Some(idle_role) = roles::role(c, idle).await? else {
                return Ok(out);
            };
            if idle_role.login && pending != Some(idle) {
                out.push(format!("{idle} can still log in"));
            }
            for (role, like) in [(&idle_role, &live_role), (&live_role, &idle_role)] {
                for a in extra_attributes(role, like) {
                    out.push(format!("{} has {a}, unlike {}", role.name, like.name));
                }
            }
            out.extend(self.differences(c, &idle_role, &live_role).await?);
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> PostgresAlternate {
        PostgresAlternate::new(
            SecretString::from("postgres://admin:hunter2-secret@127.0.0.1:5432/db"),
            "app",
            ["app_blue".into(), "app_green".into()],
        )
        .expect("valid")
    }

    #[test]
    fn the_roles_take_turns_and_anything_else_starts_with_the_first() {
        let p = pair();
        let next = |live| p.next_user(live).expect("next").expect("a role");
        assert_eq!(next(Some("app_blue")), "app_green");
        assert_eq!(next(Some("app_green")), "app_blue");
        assert_eq!(next(None), "app_blue");
        assert_eq!(next(Some("app")), "app_blue");
        assert_eq!(next(Some("legacy")), "app_blue");
    }

    #[test]
    fn a_bad_pair_is_refused() {
        let url = || SecretString::from("postgres://admin@127.0.0.1/db");
        assert!(PostgresAlternate::new(url(), "app", ["a".into(), "a".into()]).is_err());
        assert!(PostgresAlternate::new(url(), "a", ["a".into(), "b".into()]).is_err());
        assert!(PostgresAlternate::new(url(), "", ["a".into(), "b".into()]).is_err());
    }

    #[test]
    fn debug_redacts_the_admin_url() {
        let shown = format!("{:?}", pair());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app_green"));
    }
}
