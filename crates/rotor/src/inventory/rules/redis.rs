//! Rules for `[secret.authority] kind = "redis"`: the nodes, the ACL user,
//! the admin connection, TLS (`rediss://` nodes, `tls_ca_file`), and which
//! strategies a Redis server can carry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use redis::IntoConnectionInfo;
use toml::Spanned;

use super::authority::{admin_source, retire_delay, Kind};
use super::{refuse_keys, resolve};
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
    base_dir: &Path,
) -> Result<AuthoritySpec, InventoryError> {
    let a = raw.get_ref();
    refuse_keys(
        cx,
        secret,
        &[
            ("group", a.group.as_ref().map(|v| v.span())),
            ("roles", a.roles.as_ref().map(|v| v.span())),
            ("role", a.role.as_ref().map(|v| v.span())),
            ("retire", a.retire.as_ref().map(|v| v.span())),
            ("drain_timeout", a.drain_timeout.as_ref().map(|v| v.span())),
            ("valid_for", a.valid_for.as_ref().map(|v| v.span())),
        ],
        |key| {
            format!("{key} belongs to the postgres authority; a redis authority takes admin_url_env (or admin_secret and admin_url), user and nodes")
        },
    )?;
    let nodes = nodes(cx, secret, raw)?;
    let tls_ca_file = tls_ca_file(cx, secret, raw, &nodes, base_dir)?;
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
    let admin = || -> Result<Option<AdminSource>, InventoryError> {
        if has_admin {
            admin_source(cx, secret, raw, names, Kind::Redis).map(Some)
        } else {
            Ok(None)
        }
    };
    match strategy {
        Strategy::DualPassword => {
            let Some(user) = user else {
                return Err(cx.err(
                    raw.span(),
                    Some(secret),
                    "strategy dual-password needs user = \"…\": the ACL user whose old and new passwords overlap (Redis 6 or later)",
                ));
            };
            let retire_delay = retire_delay(cx, secret, a)?;
            Ok(AuthoritySpec::Redis(RedisAuthority {
                admin: admin()?,
                user: Some(user.get_ref().clone()),
                nodes,
                tls_ca_file,
                retire_delay,
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
            if let Some(d) = &a.retire_delay {
                return Err(cx.err(
                    d.span(),
                    Some(secret),
                    "retire_delay applies to strategy dual-password (a cutover removes the old password at once); remove it",
                ));
            }
            Ok(AuthoritySpec::Redis(RedisAuthority {
                admin: admin()?,
                user: None,
                nodes,
                tls_ca_file,
                retire_delay: Duration::ZERO,
            }))
        }
        Strategy::Overlap { .. } | Strategy::Alternate | Strategy::Manual => Err(cx.err(
            raw.span(),
            Some(secret),
            format!(
                "strategy {} does not apply to a Redis authority; use {{ kind = \"dual-password\" }} (an ACL user holds both passwords while consumers move, no downtime) or {{ kind = \"cutover\" }} (requirepass)",
                strategy.kind()
            ),
        )),
    }
}

/// `nodes`: at least one `redis://HOST:PORT`, or all `rediss://HOST:PORT`
/// (TLS); no credentials, no repeats.
///
/// A mix of the two is refused: the admin password, and for a cutover the
/// new password itself, would cross the wire in clear text to some nodes
/// of a deployment that otherwise needs TLS (most likely a typo).
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
        if !(text.starts_with("redis://") || text.starts_with("rediss://")) {
            return Err(cx.err(
                n.span(),
                Some(secret),
                format!("node \"{text}\" is not a redis://HOST:PORT (or, for TLS, rediss://HOST:PORT) URL"),
            ));
        }
        if text.contains('#') {
            return Err(cx.err(
                n.span(),
                Some(secret),
                format!("node \"{text}\" has a #fragment; rotor has no insecure TLS mode: to trust a private CA, name its certificate in tls_ca_file"),
            ));
        }
        if text.as_str().into_connection_info().is_err() {
            return Err(cx.err(
                n.span(),
                Some(secret),
                format!("node \"{text}\" is not a valid Redis URL; write it as redis://HOST:PORT (or rediss://HOST:PORT for TLS)"),
            ));
        }
        if let Some(first) = out.first() {
            if is_tls(first) != is_tls(text) {
                return Err(cx.err(
                    n.span(),
                    Some(secret),
                    format!("node \"{text}\" and node \"{first}\" mix redis:// and rediss://; rotor sends passwords to every node, so either all nodes use TLS (rediss://) or none does"),
                ));
            }
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

/// Whether a node URL asks for TLS.
fn is_tls(node: &str) -> bool {
    node.starts_with("rediss://")
}

/// `tls_ca_file`: only with `rediss://` nodes, resolved against the
/// inventory directory, and readable now, holding at least one PEM
/// certificate (so a typo stops every command, not the first rotation).
fn tls_ca_file(
    cx: &Cx<'_>,
    secret: &str,
    raw: &Spanned<RawAuthority>,
    nodes: &[String],
    base_dir: &Path,
) -> Result<Option<PathBuf>, InventoryError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let Some(raw_path) = &raw.get_ref().tls_ca_file else {
        return Ok(None);
    };
    let span = raw_path.span();
    if !nodes.iter().any(|n| is_tls(n)) {
        return Err(cx.err(
            span,
            Some(secret),
            "tls_ca_file applies to TLS nodes only, and no node is rediss://HOST:PORT; write the nodes as rediss://HOST:PORT, or remove tls_ca_file",
        ));
    }
    if raw_path.get_ref().trim().is_empty() {
        return Err(cx.err(span, Some(secret), "tls_ca_file is empty; name the CA certificate (PEM), e.g. \"certs/redis-ca.pem\", or remove it to use the system's roots"));
    }
    let path = resolve(base_dir, Path::new(raw_path.get_ref()));
    let shown = path.display();
    let bytes = crate::target::atomic::read_limited(&path, cx.max_file_size).map_err(|e| {
        let message = match e {
            crate::target::atomic::FileError::NotFound { .. } => format!("tls_ca_file {shown} does not exist; name the PEM file of the CA that signs the nodes' certificates"),
            other => format!("cannot read tls_ca_file: {other}"),
        };
        cx.err(span.clone(), Some(secret), message)
    })?;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&bytes).collect();
    match certs {
        Ok(c) if !c.is_empty() => Ok(Some(path)),
        Ok(_) => Err(cx.err(
            span,
            Some(secret),
            format!("tls_ca_file {shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
        )),
        Err(e) => Err(cx.err(
            span,
            Some(secret),
            format!("tls_ca_file {shown} is not a PEM certificate file: {e}"),
        )),
    }
}

/// An `admin_url` that goes with `admin_secret`: a redis:// (or rediss://)
/// URL with a user and no password. Its host is not used (every step goes
/// to the listed nodes, whose scheme says whether TLS is used).
pub(in crate::inventory) fn admin_url(
    cx: &Cx<'_>,
    secret: &str,
    u: &Spanned<String>,
) -> Result<(), InventoryError> {
    let text = u.get_ref();
    if !(text.starts_with("redis://") || text.starts_with("rediss://")) {
        return Err(cx.err(
            u.span(),
            Some(secret),
            "admin_url is not a redis:// or rediss:// URL; write e.g. \"redis://rotor-admin@127.0.0.1:6379\"",
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
