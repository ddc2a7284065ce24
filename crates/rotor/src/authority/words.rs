//! What each authority kind does in a rotation, in the words `rotor plan`
//! shows: every kind describes itself here, so the engine's plan has no
//! row per kind.

use crate::inventory::{
    AuthoritySpec, ExecAuthority, PostgresAuthority, RedisAuthority, RetireMode, Strategy,
};

/// What the apply step does at `authority`, given the live login (the
/// store's, else the one the targets hold), in words.
pub fn apply(authority: &AuthoritySpec, strategy: &Strategy, live: Option<&str>) -> String {
    match authority {
        AuthoritySpec::Postgres(pg) => postgres(pg, strategy, live),
        AuthoritySpec::Redis(r) => redis(r, strategy),
        AuthoritySpec::Exec(x) => exec(x, strategy),
    }
}

fn postgres(pg: &PostgresAuthority, strategy: &Strategy, live: Option<&str>) -> String {
    match strategy {
        Strategy::Alternate => {
            let first = pg.roles.first().map(String::as_str).unwrap_or("?");
            let second = pg.roles.get(1).map(String::as_str).unwrap_or("?");
            let idle = match live {
                Some(l) if l == first => second,
                _ => first,
            };
            let from = match live {
                Some(l) => format!("consumers move from {l} to {idle}; "),
                None => String::new(),
            };
            // Only the pair's own roles are ever dropped: the group (a
            // single role being converted) or a live role outside the pair
            // keeps its privileges and objects and is made NOLOGIN.
            // (No live login known: the authority takes the group as live.)
            let old_role = live.or(pg.group.as_deref());
            let of_pair = old_role.is_some_and(|l| pg.roles.iter().any(|r| r == l));
            let retire = match (pg.retire, of_pair, old_role) {
                (RetireMode::Drop, true, _) => "REASSIGN OWNED, DROP OWNED, DROP ROLE".to_owned(),
                (RetireMode::Drop, false, Some(l)) => format!(
                    "NOLOGIN with a fresh unknown password, not dropped: {l} is not one of the pair and keeps its privileges and objects"
                ),
                _ => "NOLOGIN with a fresh unknown password".to_owned(),
            };
            format!(
                "PostgreSQL: {from}{idle} gets NEW (as a SCRAM verifier), LOGIN, membership in {} and the live role's memberships and settings; a real login checks it. The old role stays usable until retired ({retire})",
                pg.group.as_deref().unwrap_or("?")
            )
        }
        _ => format!(
            "PostgreSQL: ALTER ROLE {} PASSWORD (SCRAM verifier). Impact: the old password stops working at once; consumers fail to connect until they restart with NEW",
            pg.roles.first().map(String::as_str).unwrap_or("?")
        ),
    }
}

fn redis(r: &RedisAuthority, strategy: &Strategy) -> String {
    let nodes = match r.nodes.len() {
        1 => "its 1 node".to_owned(),
        n => format!("each of its {n} nodes"),
    };
    match (strategy, &r.user) {
        (Strategy::DualPassword, Some(user)) => format!(
            "Redis: ACL SETUSER {user} adds NEW (as a SHA-256 hash) next to the old password on {nodes}, persisted (ACL SAVE or CONFIG REWRITE); a real AUTH checks it on every node. Both passwords work until retire"
        ),
        _ => {
            let login = if r.admin.is_some() {
                "as the admin"
            } else {
                "with the old password"
            };
            let order = if r.nodes.len() > 1 {
                ", primary first"
            } else {
                ""
            };
            format!(
                "Redis: requirepass (the default user's password) becomes NEW on {nodes}{order}, logging in {login}: ACL SETUSER default as a SHA-256 hash (CONFIG SET requirepass on a server without ACLs), masterauth NEW on replicas, persisted (CONFIG REWRITE or ACL SAVE); a real AUTH checks it on every node. Impact: the old password stops working at once; new connections fail until consumers restart with NEW (connections already open stay open)"
            )
        }
    }
}

fn exec(x: &ExecAuthority, strategy: &Strategy) -> String {
    let old = match strategy {
        Strategy::Cutover => {
            "rotor never revokes the old one itself (a cutover: the provider decides when it stops)"
        }
        Strategy::Overlap { .. } => {
            "the old one is revoked (revoke) by `rotor retire` once the window has passed"
        }
        _ => "after verify and finish, the old one is revoked (revoke)",
    };
    format!(
        "plugin `{}` (exec protocol 1, one process per call, {} each): create makes the new credential at the provider (minting it, or installing NEW), test proves it works; {old}",
        x.command.join(" "),
        humantime::format_duration(x.timeout)
    )
}

/// What retiring the old credential within the run does at `authority`
/// (strategy dual-password), in words.
pub fn retire_in_run(authority: &AuthoritySpec) -> String {
    match authority {
        AuthoritySpec::Exec(_) => "the plugin's finish, then revoke of the old credential at the provider (never before finish succeeded)".into(),
        AuthoritySpec::Redis(_) => "remove the old password from the ACL user on every node (connections opened with it stay open)".into(),
        AuthoritySpec::Postgres(_) => "wait (up to the drain timeout) until the old role has no session, then retire it at the server".into(),
    }
}
