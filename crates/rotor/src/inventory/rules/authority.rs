//! Rules for `[secret.authority]`: the PostgreSQL authority's admin
//! connection, roles and retirement, and how they fit the strategy and the
//! targets.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use toml::Spanned;

use super::*;
use crate::inventory::error::InventoryError;
use crate::inventory::model::*;
use crate::inventory::position::Cx;

/// How long retiring waits for the old role's sessions unless told.
const DEFAULT_DRAIN: Duration = Duration::from_secs(5 * 60);

pub(in crate::inventory) fn convert_authority(
    cx: &Cx<'_>,
    secret: &str,
    strategy: &Strategy,
    raw: &Spanned<RawAuthority>,
    names: &HashMap<&str, usize>,
    base_dir: &Path,
) -> Result<AuthoritySpec, InventoryError> {
    let a = raw.get_ref();
    let kind = a.kind.get_ref().as_str();
    if *strategy == Strategy::Manual {
        return Err(cx.err(
            raw.span(),
            Some(secret),
            "strategy manual means a person makes the value in a provider's portal and gives it to `rotor put`; there is no authority for rotor to call. Remove [secret.authority], or use an exec plugin with another strategy",
        ));
    }
    if kind != "exec" {
        refuse_keys(
            cx,
            secret,
            &[
                ("command", a.command.as_ref().map(|n| n.span())),
                ("timeout", a.timeout.as_ref().map(|n| n.span())),
                ("env", a.env.as_ref().map(|n| n.span())),
                ("config", a.config.as_ref().map(|n| n.span())),
            ],
            |key| {
                format!("{key} belongs to the exec authority (a plugin program); kind = \"{kind}\" does not take it")
            },
        )?;
    }
    match kind {
        "postgres" => convert_postgres(cx, secret, strategy, raw, names),
        "redis" => super::redis::convert_redis(cx, secret, strategy, raw, names, base_dir),
        "exec" => super::convert_exec(cx, secret, strategy, raw, base_dir),
        other => Err(cx.err(
            a.kind.span(),
            Some(secret),
            format!(
                "unknown authority kind \"{other}\"; expected \"postgres\", \"redis\" or \"exec\" (leave [secret.authority] out for a secret only the application checks)"
            ),
        )),
    }
}

fn convert_postgres(
    cx: &Cx<'_>,
    secret: &str,
    strategy: &Strategy,
    raw: &Spanned<RawAuthority>,
    names: &HashMap<&str, usize>,
) -> Result<AuthoritySpec, InventoryError> {
    let a = raw.get_ref();
    refuse_keys(
        cx,
        secret,
        &[
            ("user", a.user.as_ref().map(|u| u.span())),
            ("nodes", a.nodes.as_ref().map(|n| n.span())),
            ("tls_ca_file", a.tls_ca_file.as_ref().map(|n| n.span())),
        ],
        |key| {
            format!("{key} belongs to the redis authority; a postgres authority names its login roles with role = \"…\" or roles = [\"…\", \"…\"]")
        },
    )?;
    let admin = admin_source(cx, secret, raw, names, Kind::Postgres)?;

    let mut roles: Vec<&Spanned<String>> = Vec::new();
    if let Some(r) = &a.role {
        if let Some(rs) = &a.roles {
            return Err(cx.err(
                rs.span(),
                Some(secret),
                "give either role = \"…\" (cutover) or roles = [\"…\", \"…\"] (alternate), not both",
            ));
        }
        roles.push(r);
    } else if let Some(rs) = &a.roles {
        roles.extend(rs.get_ref().iter());
    }
    for r in &roles {
        role_name(cx, secret, "roles", r)?;
    }
    let group = match &a.group {
        Some(g) => {
            role_name(cx, secret, "group", g)?;
            Some(g)
        }
        None => None,
    };

    match strategy {
        Strategy::Alternate => {
            if roles.len() != 2 {
                return Err(cx.err(
                    a.roles.as_ref().map_or(raw.span(), |r| r.span()),
                    Some(secret),
                    format!(
                        "strategy alternate needs two login roles that take turns, e.g. roles = [\"{secret}_blue\", \"{secret}_green\"]; found {}",
                        roles.len()
                    ),
                ));
            }
            if roles[0].get_ref() == roles[1].get_ref() {
                return Err(cx.err(
                    roles[1].span(),
                    Some(secret),
                    "the two alternating roles must differ",
                ));
            }
            let Some(g) = group else {
                return Err(cx.err(
                    raw.span(),
                    Some(secret),
                    "strategy alternate needs group = \"…\": the NOLOGIN role that holds the privileges both login roles share",
                ));
            };
            if roles.iter().any(|r| r.get_ref() == g.get_ref()) {
                return Err(cx.err(
                    g.span(),
                    Some(secret),
                    "group must not be one of the login roles: it holds the privileges while the logins take turns",
                ));
            }
        }
        Strategy::Cutover => {
            if roles.len() != 1 {
                return Err(cx.err(
                    a.roles.as_ref().map_or(raw.span(), |r| r.span()),
                    Some(secret),
                    format!(
                        "strategy cutover changes the password of one role; give role = \"…\" (found {} roles; two roles that take turns need strategy = {{ kind = \"alternate\" }})",
                        roles.len()
                    ),
                ));
            }
            if let Some(g) = group {
                return Err(cx.err(
                    g.span(),
                    Some(secret),
                    "group applies to strategy alternate only; remove it",
                ));
            }
            if let Some(r) = &a.retire {
                return Err(cx.err(
                    r.span(),
                    Some(secret),
                    "retire applies to strategy alternate only (a cutover keeps its one role); remove it",
                ));
            }
            if let Some(d) = &a.retire_delay {
                return Err(cx.err(
                    d.span(),
                    Some(secret),
                    "retire_delay applies to strategy alternate only (a cutover changes the password at once); remove it",
                ));
            }
        }
        Strategy::Overlap { .. } | Strategy::Manual => {
            return Err(cx.err(
                raw.span(),
                Some(secret),
                "a PostgreSQL role holds one password, so strategy overlap cannot keep the previous one working; use { kind = \"alternate\" } (two roles take turns, no downtime) or { kind = \"cutover\" }",
            ));
        }
        Strategy::DualPassword => {
            return Err(cx.err(
                raw.span(),
                Some(secret),
                "a PostgreSQL role holds one password, so strategy dual-password cannot apply; use { kind = \"alternate\" } (two roles take turns, no downtime) or { kind = \"cutover\" }",
            ));
        }
    }

    let retire = match &a.retire {
        None => RetireMode::Nologin,
        Some(r) => match r.get_ref().as_str() {
            "nologin" => RetireMode::Nologin,
            "drop" => RetireMode::Drop,
            other => {
                return Err(cx.err(
                    r.span(),
                    Some(secret),
                    format!("retire = \"{other}\" is not known; expected \"nologin\" (the default: the old role stays, unable to log in) or \"drop\""),
                ))
            }
        },
    };
    let drain_timeout = match &a.drain_timeout {
        Some(d) => duration(cx, secret, "drain_timeout", d)?,
        None => DEFAULT_DRAIN,
    };
    let valid_for = a
        .valid_for
        .as_ref()
        .map(|v| duration(cx, secret, "valid_for", v))
        .transpose()?;

    Ok(AuthoritySpec::Postgres(PostgresAuthority {
        admin,
        group: group.map(|g| g.get_ref().clone()),
        roles: roles.iter().map(|r| r.get_ref().clone()).collect(),
        retire,
        drain_timeout,
        valid_for,
        retire_delay: retire_delay(cx, secret, a)?,
    }))
}

/// How long the old credential keeps working after consumers verified the
/// new one, unless told: for a consumer that read the old one from its file
/// just before delivery and connects a moment later.
const DEFAULT_RETIRE_DELAY: Duration = Duration::from_secs(2);

/// `retire_delay`: a duration, `"0s"` for none, 2 s unless told.
pub(in crate::inventory) fn retire_delay(
    cx: &Cx<'_>,
    secret: &str,
    a: &RawAuthority,
) -> Result<Duration, InventoryError> {
    match &a.retire_delay {
        None => Ok(DEFAULT_RETIRE_DELAY),
        Some(d) if matches!(d.get_ref().trim(), "0" | "0s") => Ok(Duration::ZERO),
        Some(d) => duration(cx, secret, "retire_delay", d),
    }
}

/// Which server an admin URL is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(in crate::inventory) enum Kind {
    Postgres,
    Redis,
}

/// Where the admin connection's credential comes from: a variable holding
/// the whole URL, or another secret plus a URL without password.
pub(in crate::inventory) fn admin_source(
    cx: &Cx<'_>,
    secret: &str,
    raw: &Spanned<RawAuthority>,
    names: &HashMap<&str, usize>,
    kind: Kind,
) -> Result<AdminSource, InventoryError> {
    let a = raw.get_ref();
    match (&a.admin_url_env, &a.admin_secret) {
        (Some(env), None) => {
            if let Some(u) = &a.admin_url {
                return Err(cx.err(
                    u.span(),
                    Some(secret),
                    "admin_url goes with admin_secret; with admin_url_env the whole URL is in that variable",
                ));
            }
            if !is_var_name(env.get_ref()) {
                return Err(cx.err(
                    env.span(),
                    Some(secret),
                    format!(
                        "admin_url_env = \"{}\" is not an environment variable name",
                        env.get_ref()
                    ),
                ));
            }
            Ok(AdminSource::Env(env.get_ref().clone()))
        }
        (None, Some(s)) => {
            let other = s.get_ref();
            if other == secret {
                return Err(cx.err(
                    s.span(),
                    Some(secret),
                    "admin_secret names the secret itself; the admin connection needs a credential of its own (admin_url_env, or another secret)",
                ));
            }
            if !names.contains_key(other.as_str()) {
                let known: Vec<&str> = names.keys().copied().filter(|k| *k != secret).collect();
                return Err(cx.err(
                    s.span(),
                    Some(secret),
                    format!(
                        "admin_secret names \"{other}\", which is not a secret in this inventory{}",
                        known_list(known)
                    ),
                ));
            }
            let Some(url) = &a.admin_url else {
                return Err(cx.err(
                    s.span(),
                    Some(secret),
                    match kind {
                        Kind::Postgres => "admin_secret needs admin_url = \"postgres://USER@HOST:PORT/DB\" (no password: that comes from the secret)",
                        Kind::Redis => "admin_secret needs admin_url = \"redis://USER@HOST:PORT\" (no password: that comes from the secret)",
                    },
                ));
            };
            if kind == Kind::Redis {
                return super::redis::admin_url(cx, secret, url).map(|()| AdminSource::Secret {
                    secret: other.clone(),
                    url: url.get_ref().clone(),
                });
            }
            match tokio_postgres::Config::from_str(url.get_ref()) {
                Err(_) => Err(cx.err(
                    url.span(),
                    Some(secret),
                    "admin_url is not a PostgreSQL connection URL; write e.g. \"postgres://rotor_admin@127.0.0.1:5432/postgres\"",
                )),
                Ok(c) if c.get_password().is_some() => Err(cx.err(
                    url.span(),
                    Some(secret),
                    "admin_url contains a password; a password does not belong in rotor.toml. Remove it: admin_secret supplies it",
                )),
                Ok(c) if c.get_user().is_none() => Err(cx.err(
                    url.span(),
                    Some(secret),
                    "admin_url names no user; write it as postgres://USER@HOST:PORT/DB",
                )),
                Ok(_) => Ok(AdminSource::Secret {
                    secret: other.clone(),
                    url: url.get_ref().clone(),
                }),
            }
        }
        (Some(_), Some(s)) => Err(cx.err(
            s.span(),
            Some(secret),
            "give either admin_url_env or admin_secret, not both",
        )),
        (None, None) => Err(cx.err(
            raw.span(),
            Some(secret),
            match kind {
                Kind::Postgres => "the postgres authority needs an admin connection: admin_url_env = \"ROTOR_PG_ADMIN_URL\" (a variable holding the URL of a role with CREATEROLE), or admin_secret = \"…\" with admin_url",
                Kind::Redis => "admin_url goes with admin_secret = \"…\" (the secret whose value is the admin password); or use admin_url_env = \"ROTOR_REDIS_ADMIN_URL\" alone, or neither (rotor then logs in as the user itself)",
            },
        )),
    }
}

/// A role name PostgreSQL keeps as written: non-empty, at most 63 bytes,
/// no NUL.
fn role_name(
    cx: &Cx<'_>,
    secret: &str,
    key: &str,
    r: &Spanned<String>,
) -> Result<(), InventoryError> {
    let n = r.get_ref();
    let problem = if n.is_empty() {
        Some("is empty".to_owned())
    } else if n.contains('\0') {
        Some("contains a NUL byte".to_owned())
    } else if n.len() > 63 {
        Some(format!(
            "is {} bytes long; PostgreSQL keeps 63 and would silently shorten it",
            n.len()
        ))
    } else {
        None
    };
    match problem {
        Some(p) => Err(cx.err(
            r.span(),
            Some(secret),
            format!("{key}: role name \"{n}\" {p}"),
        )),
        None => Ok(()),
    }
}

/// Every target of a secret whose logins alternate must carry the login
/// next to the password, or consumers would keep the old user.
pub(in crate::inventory) fn check_targets_carry_user(
    cx: &Cx<'_>,
    secret: &str,
    strategy: &Strategy,
    raw: &[Spanned<RawTarget>],
    targets: &[TargetSpec],
) -> Result<(), InventoryError> {
    if *strategy != Strategy::Alternate {
        return Ok(());
    }
    for (r, t) in raw.iter().zip(targets) {
        // A pgbouncer target carries the login: one line per role.
        let TargetSpec::Dotenv(t) = t else { continue };
        if t.form == ValueForm::Plain && t.user_var.is_none() {
            return Err(cx.err(
                r.get_ref().var.as_ref().map_or(r.span(), |v| v.span()),
                Some(secret),
                format!(
                    "strategy alternate switches the login between two roles, but {} holds only the password; use form = \"url\" for a connection URL, or add user_var = \"…\" for the variable that holds the user",
                    t.var
                ),
            ));
        }
    }
    Ok(())
}
