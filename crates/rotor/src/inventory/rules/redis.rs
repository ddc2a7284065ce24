//! Rules for `[secret.authority] kind = "redis"`: the nodes, the ACL user,
//! the admin connection, and which strategies a Redis server can carry.

use std::collections::HashMap;

use redis::IntoConnectionInfo;
use toml::Spanned;

use super::authority::{admin_source, Kind};
use crate::inventory::error::InventoryError;
use crate::inventory::model::*;
use crate::inventory::position::Cx;
use crate::inventory::raw::RawAuthority;
use crate::target::dotenv::url;

pub(in crate::inventory) fn convert_redis(
    cx: &Cx<'_>,
    secret: &str,
    strategy: &Strategy,
    raw: &Spanned<RawAuthority>,
    names: &HashMap<&str, usize>,
) -> Result<AuthoritySpec, InventoryError> {
    let a = raw.get_ref();
    for (key, span) in [
        ("group", a.group.as_ref().map(|v| v.span())),
        ("roles", a.roles.as_ref().map(|v| v.span())),
        ("role", a.role.as_ref().map(|v| v.span())),
        ("retire", a.retire.as_ref().map(|v| v.span())),
        ("drain_timeout", a.drain_timeout.as_ref().map(|v| v.span())),
        ("valid_for", a.valid_for.as_ref().map(|v| v.span())),
    ] {
        if let Some(span) = span {
            return Err(cx.err(
                span,
                Some(secret),
                format!("{key} belongs to the postgres authority; a redis authority takes admin_url_env (or admin_secret and admin_url), user and nodes"),
            ));
        }
    }
    let nodes = nodes(cx, secret, raw)?;
    let user = match &a.user {
        None => None,
        Some(u) => {
            let n = u.get_ref();
            if n.is_empty() || n.contains(|c: char| c.is_whitespace() || c.is_control()) {
                return Err(cx.err(
                    u.span(),
                    Some(secret),
                    format!("user = {n:?} is not an ACL user name: it is empty or holds spaces or control characters"),
                ));
            }
            Some(u)
        }
    };
    let has_admin = a.admin_url_env.is_some() || a.admin_secret.is_some() || a.admin_url.is_some();
    match strategy {
        Strategy::DualPassword => {
            let Some(user) = user else {
                return Err(cx.err(
                    raw.span(),
                    Some(secret),
                    "strategy dual-password needs user = \"…\": the ACL user whose old and new passwords overlap (Redis 6 or later)",
                ));
            };
            Ok(AuthoritySpec::Redis(RedisAuthority {
                admin: if has_admin {
                    Some(admin_source(cx, secret, raw, names, Kind::Redis)?)
                } else {
                    None
                },
                user: Some(user.get_ref().clone()),
                nodes,
            }))
        }
        Strategy::Cutover => {
            if let Some(u) = user {
                return Err(cx.err(
                    u.span(),
                    Some(secret),
                    "strategy cutover rotates requirepass (the default user's one password); remove user, or use strategy = { kind = \"dual-password\" } to give an ACL user two passwords at once without downtime",
                ));
            }
            Ok(AuthoritySpec::Redis(RedisAuthority {
                admin: if has_admin {
                    Some(admin_source(cx, secret, raw, names, Kind::Redis)?)
                } else {
                    None
                },
                user: None,
                nodes,
            }))
        }
        Strategy::Overlap { .. } | Strategy::Alternate => Err(cx.err(
            raw.span(),
            Some(secret),
            format!(
                "strategy {} does not apply to a Redis authority; use {{ kind = \"dual-password\" }} (an ACL user holds both passwords while consumers move, no downtime) or {{ kind = \"cutover\" }} (requirepass)",
                strategy.kind()
            ),
        )),
    }
}

/// `nodes`: at least one `redis://HOST:PORT`, no credentials, no repeats.
fn nodes(
    cx: &Cx<'_>,
    secret: &str,
    raw: &Spanned<RawAuthority>,
) -> Result<Vec<String>, InventoryError> {
    let Some(list) = &raw.get_ref().nodes else {
        return Err(cx.err(
            raw.span(),
            Some(secret),
            "the redis authority needs nodes = [\"redis://HOST:PORT\", …]: every primary and replica (ACLs and requirepass are not replicated)",
        ));
    };
    if list.get_ref().is_empty() {
        return Err(cx.err(
            list.span(),
            Some(secret),
            "nodes is empty; list every primary and replica as \"redis://HOST:PORT\"",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for n in list.get_ref() {
        let text = n.get_ref();
        if url::password(text).ok().flatten().is_some()
            || url::user(text)
                .ok()
                .flatten()
                .is_some_and(|u| !u.is_empty())
        {
            return Err(cx.err(
                n.span(),
                Some(secret),
                "a node URL holds a credential; a credential does not belong in rotor.toml. List nodes as \"redis://HOST:PORT\" (the admin URL carries the login)",
            ));
        }
        if !text.starts_with("redis://") {
            return Err(cx.err(
                n.span(),
                Some(secret),
                format!("node \"{text}\" is not a redis://HOST:PORT URL"),
            ));
        }
        if text.as_str().into_connection_info().is_err() {
            return Err(cx.err(
                n.span(),
                Some(secret),
                format!("node \"{text}\" is not a valid Redis URL; write it as redis://HOST:PORT"),
            ));
        }
        if out.contains(text) {
            return Err(cx.err(
                n.span(),
                Some(secret),
                format!("nodes lists \"{text}\" twice"),
            ));
        }
        out.push(text.clone());
    }
    Ok(out)
}

/// An `admin_url` that goes with `admin_secret`: a redis:// URL with a user
/// and no password.
pub(in crate::inventory) fn admin_url(
    cx: &Cx<'_>,
    secret: &str,
    u: &Spanned<String>,
) -> Result<(), InventoryError> {
    let text = u.get_ref();
    if !text.starts_with("redis://") {
        return Err(cx.err(
            u.span(),
            Some(secret),
            "admin_url is not a redis:// URL; write e.g. \"redis://rotor-admin@127.0.0.1:6379\"",
        ));
    }
    if url::password(text).ok().flatten().is_some() {
        return Err(cx.err(
            u.span(),
            Some(secret),
            "admin_url contains a password; a password does not belong in rotor.toml. Remove it: admin_secret supplies it",
        ));
    }
    match url::user(text) {
        Ok(Some(user)) if !user.is_empty() => Ok(()),
        _ => Err(cx.err(
            u.span(),
            Some(secret),
            "admin_url names no user; write it as redis://USER@HOST:PORT",
        )),
    }
}
