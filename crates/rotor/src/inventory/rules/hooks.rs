//! Rules for `[secret.hooks]`: argv commands, verify checks, timeouts,
//! retries, and the variables hooks may get (`env`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::*;
use crate::inventory::error::InventoryError;
use crate::inventory::model::*;
use crate::inventory::position::Cx;

/// Hook defaults.
pub(in crate::inventory) const DEFAULT_RESTART_TIMEOUT: Duration = Duration::from_secs(60);
pub(in crate::inventory) const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
pub(in crate::inventory) const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Most attempts a hook may be given (`retries`).
pub(in crate::inventory) const MAX_TRIES: i64 = 10;
/// Longest `retry_backoff`.
pub(in crate::inventory) const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// An argv from a TOML value: a non-empty array of strings.
pub(in crate::inventory) fn argv(
    cx: &Cx<'_>,
    secret: &str,
    key: &str,
    v: &Spanned<toml::Value>,
) -> Result<Vec<String>, InventoryError> {
    match v.get_ref() {
        toml::Value::String(s) => {
            let words: Vec<String> = s.split_whitespace().map(|w| format!("{w:?}")).collect();
            Err(cx.err(
                v.span(),
                Some(secret),
                format!(
                    "{key} is a shell string; use an argv array, e.g. {key} = [{}] (rotor never runs a shell; wrap it in [\"sh\", \"-c\", \"...\"] if you must)",
                    words.join(", ")
                ),
            ))
        }
        toml::Value::Array(items) => {
            if items.is_empty() {
                return Err(cx.err(
                    v.span(),
                    Some(secret),
                    format!("{key} is empty; give the program and its arguments, e.g. [\"systemctl\", \"restart\", \"api\"]"),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    toml::Value::String(s) => out.push(s.clone()),
                    other => {
                        return Err(cx.err(
                            v.span(),
                            Some(secret),
                            format!(
                                "{key} must be an array of strings; found a {}",
                                other.type_str()
                            ),
                        ))
                    }
                }
            }
            if out[0].is_empty() {
                return Err(cx.err(
                    v.span(),
                    Some(secret),
                    format!("{key} has an empty program name"),
                ));
            }
            Ok(out)
        }
        other => Err(cx.err(
            v.span(),
            Some(secret),
            format!(
                "{key} must be an argv array of strings, not a {}",
                other.type_str()
            ),
        )),
    }
}

pub(in crate::inventory) fn convert_hooks(
    cx: &Cx<'_>,
    secret: &str,
    h: &Spanned<RawHooks>,
    base_dir: &Path,
) -> Result<Hooks, InventoryError> {
    let raw = h.get_ref();
    let restart = match &raw.restart {
        Some(r) => {
            let argv = argv(cx, secret, "restart", r)?;
            let timeout = match &raw.restart_timeout {
                Some(t) => duration(cx, secret, "restart_timeout", t)?,
                None => DEFAULT_RESTART_TIMEOUT,
            };
            Some(Command { argv, timeout })
        }
        None => {
            if let Some(t) = &raw.restart_timeout {
                return Err(cx.err(
                    t.span(),
                    Some(secret),
                    "restart_timeout is set but there is no restart command",
                ));
            }
            None
        }
    };
    let verify = raw
        .verify
        .as_ref()
        .map(|v| convert_verify(cx, secret, v, base_dir))
        .transpose()?;
    let retry = convert_retry(cx, secret, raw)?;
    let env = match &raw.env {
        Some(e) => {
            let has_command = restart.is_some() || matches!(verify, Some(Verify::Command(_)));
            if !has_command {
                return Err(cx.err(
                    e.span(),
                    Some(secret),
                    "env is set but there is no restart or verify command to pass it to",
                ));
            }
            var_names(cx, secret, e)?
        }
        None => Vec::new(),
    };
    if restart.is_none() && verify.is_none() {
        if let Some(span) = raw
            .retries
            .as_ref()
            .map(|r| r.span())
            .or_else(|| raw.retry_backoff.as_ref().map(|b| b.span()))
        {
            return Err(cx.err(
                span,
                Some(secret),
                "retries/retry_backoff are set but there is no restart or verify hook to retry",
            ));
        }
    }
    Ok(Hooks {
        restart,
        verify,
        retry,
        env,
    })
}

/// `env = ["NAME", ...]`: variable names, each once, none of rotor's own.
pub(in crate::inventory) fn var_names(
    cx: &Cx<'_>,
    secret: &str,
    v: &Spanned<toml::Value>,
) -> Result<Vec<String>, InventoryError> {
    let err = |msg: String| Err(cx.err(v.span(), Some(secret), msg));
    let toml::Value::Array(items) = v.get_ref() else {
        return err(format!(
            "env must be an array of variable names, e.g. env = [\"XDG_RUNTIME_DIR\"]; found a {}",
            v.get_ref().type_str()
        ));
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let toml::Value::String(name) = item else {
            return err(format!(
                "env must be an array of variable names; found a {}",
                item.type_str()
            ));
        };
        if !is_var_name(name) {
            return err(format!(
                "env names \"{name}\", which is not an environment variable name"
            ));
        }
        if name.starts_with("ROTOR_") {
            return err(format!(
                "env names \"{name}\": ROTOR_* variables are rotor's own (admin URLs, the master key file) and never go to a hook; hooks get ROTOR_RUN_ID, ROTOR_STEP and ROTOR_SECRETS without asking"
            ));
        }
        if out.contains(name) {
            return err(format!("env lists \"{name}\" twice"));
        }
        out.push(name.clone());
    }
    Ok(out)
}

/// No hook's `env` may name a variable holding an admin credential: any
/// authority's `admin_url_env` or any target's `admin_console_env`, of any
/// secret in the inventory.
pub(in crate::inventory) fn check_hook_env(
    cx: &Cx<'_>,
    secrets: &[Spanned<RawSecret>],
) -> Result<(), InventoryError> {
    let mut admin: Vec<(&str, &str, &str)> = Vec::new();
    for s in secrets {
        let s = s.get_ref();
        let owner = s.name.get_ref().as_str();
        if let Some(a) = s
            .authority
            .as_ref()
            .and_then(|a| a.get_ref().admin_url_env.as_ref())
        {
            admin.push((a.get_ref(), "admin_url_env", owner));
        }
        for t in &s.target {
            if let Some(c) = &t.get_ref().admin_console_env {
                admin.push((c.get_ref(), "admin_console_env", owner));
            }
        }
    }
    for s in secrets {
        let s = s.get_ref();
        let Some(env) = s.hooks.as_ref().and_then(|h| h.get_ref().env.as_ref()) else {
            continue;
        };
        let toml::Value::Array(items) = env.get_ref() else {
            continue;
        };
        for name in items.iter().filter_map(toml::Value::as_str) {
            if let Some((_, key, owner)) = admin.iter().find(|(n, _, _)| *n == name) {
                return Err(cx.err(
                    env.span(),
                    Some(s.name.get_ref()),
                    format!(
                        "env names \"{name}\", the {key} of secret \"{owner}\": an admin credential never goes to a hook; drop it from env"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `retries` and `retry_backoff` of `[secret.hooks]`; defaults when missing.
fn convert_retry(cx: &Cx<'_>, secret: &str, raw: &RawHooks) -> Result<Retry, InventoryError> {
    let default = Retry::default();
    let tries = match &raw.retries {
        Some(r) => {
            let n = r.get_ref().0;
            match u32::try_from(n) {
                Ok(t) if (1..=i128::from(MAX_TRIES)).contains(&n) => t,
                _ => {
                    return Err(cx.err(
                        r.span(),
                        Some(secret),
                        format!(
                            "retries = {n} is out of range; it counts attempts in all, from 1 (no retry) to {MAX_TRIES}"
                        ),
                    ))
                }
            }
        }
        None => default.tries,
    };
    let backoff = match &raw.retry_backoff {
        Some(b) => {
            let d = duration(cx, secret, "retry_backoff", b)?;
            if d > MAX_RETRY_BACKOFF {
                return Err(cx.err(
                    b.span(),
                    Some(secret),
                    format!(
                        "retry_backoff = \"{}\" is longer than 5m; a rotation should not stall that long between attempts",
                        b.get_ref()
                    ),
                ));
            }
            d
        }
        None => default.backoff,
    };
    Ok(Retry {
        tries,
        backoff,
        // A backoff above the default cap still gets its first wait in full.
        max_backoff: default.max_backoff.max(backoff),
    })
}

pub(in crate::inventory) fn convert_verify(
    cx: &Cx<'_>,
    secret: &str,
    v: &Spanned<RawVerify>,
    base_dir: &Path,
) -> Result<Verify, InventoryError> {
    let raw = v.get_ref();
    if let (Some(ca), None) = (&raw.tls_ca_file, &raw.http) {
        return Err(cx.err(
            ca.span(),
            Some(secret),
            "tls_ca_file applies only to an https:// http verify; remove it",
        ));
    }
    match (&raw.http, &raw.command) {
        (Some(_), Some(c)) => Err(cx.err(
            c.span(),
            Some(secret),
            "verify takes either `http` or `command`, not both",
        )),
        (None, None) => Err(cx.err(
            v.span(),
            Some(secret),
            "verify needs `http` (e.g. { http = \"http://127.0.0.1:8000/health\" }) or `command` (e.g. { command = [\"./smoke.sh\"] })",
        )),
        (Some(url), None) => {
            let u = url.get_ref();
            let https = u.starts_with("https://");
            let rest = u
                .strip_prefix("http://")
                .or_else(|| u.strip_prefix("https://"))
                .unwrap_or("");
            if rest.is_empty() || rest.starts_with('/') || u.chars().any(char::is_whitespace) {
                return Err(cx.err(
                    url.span(),
                    Some(secret),
                    format!("verify http = \"{u}\" is not an http:// or https:// URL with a host, e.g. \"http://127.0.0.1:8000/health\""),
                ));
            }
            let tls_ca_file = match &raw.tls_ca_file {
                Some(ca) if !https => {
                    return Err(cx.err(
                        ca.span(),
                        Some(secret),
                        format!("tls_ca_file applies only to an https:// URL, and {u} is http://; use https:// or remove tls_ca_file"),
                    ))
                }
                Some(ca) => Some(ca_file(cx, secret, ca, base_dir)?),
                None => None,
            };
            let status = match &raw.status {
                Some(s) => {
                    let n = s.get_ref().0;
                    match u16::try_from(n) {
                        Ok(code) if (100..=599).contains(&code) => code,
                        _ => {
                            return Err(cx.err(
                                s.span(),
                                Some(secret),
                                format!("verify status = {n} is not an HTTP status (100-599)"),
                            ))
                        }
                    }
                }
                None => 200,
            };
            let timeout = match &raw.timeout {
                Some(t) => duration(cx, secret, "verify timeout", t)?,
                None => DEFAULT_HTTP_TIMEOUT,
            };
            Ok(Verify::Http {
                url: u.clone(),
                status,
                timeout,
                tls_ca_file,
            })
        }
        (None, Some(c)) => {
            if let Some(s) = &raw.status {
                return Err(cx.err(
                    s.span(),
                    Some(secret),
                    "verify `status` applies only to an http verify; a command verify passes when it exits 0",
                ));
            }
            let argv = argv(cx, secret, "command", c)?;
            let timeout = match &raw.timeout {
                Some(t) => duration(cx, secret, "verify timeout", t)?,
                None => DEFAULT_COMMAND_TIMEOUT,
            };
            Ok(Verify::Command(Command { argv, timeout }))
        }
    }
}

/// A verify's `tls_ca_file`: resolved against the inventory directory and
/// readable now, holding at least one PEM certificate (so a typo stops
/// every command, not the first rotation's verify).
fn ca_file(
    cx: &Cx<'_>,
    secret: &str,
    raw: &Spanned<String>,
    base_dir: &Path,
) -> Result<PathBuf, InventoryError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let span = raw.span();
    if raw.get_ref().trim().is_empty() {
        return Err(cx.err(span, Some(secret), "tls_ca_file is empty; name the CA certificate (PEM), e.g. \"certs/ca.pem\", or remove it to use the system's roots"));
    }
    let path = resolve(base_dir, Path::new(raw.get_ref()));
    let shown = path.display();
    if !path.exists() {
        return Err(cx.err(span, Some(secret), format!("tls_ca_file {shown} does not exist; name the PEM file of the CA that signs the verify URL's certificate")));
    }
    // A regular file of bounded size, like every file rotor reads.
    let bytes = crate::target::atomic::read(&path).map_err(|e| {
        cx.err(
            span.clone(),
            Some(secret),
            format!("cannot read tls_ca_file: {e}"),
        )
    })?;
    match CertificateDer::pem_slice_iter(&bytes).collect::<Result<Vec<_>, _>>() {
        Ok(c) if !c.is_empty() => Ok(path),
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::inventory::{parse, InventoryError};

    /// A secret with a restart hook and `env` (a TOML value) on line 10, and
    /// a postgres secret whose admin URL is in `PG_ADMIN`.
    fn inventory(env: &str) -> String {
        format!(
            r#"[[secret]]
name = "jwt"
generator = {{ kind = "random" }}
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "JWT_SECRET"
[secret.hooks]
restart = ["systemctl", "restart", "api"]
env = {env}

[[secret]]
name = "db"
generator = {{ kind = "password", length = 32 }}
strategy = {{ kind = "alternate" }}
[secret.authority]
kind = "postgres"
admin_url_env = "PG_ADMIN"
group = "app"
roles = ["app_blue", "app_green"]
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "DATABASE_URL"
form = "url"
[[secret.target]]
kind = "pgbouncer"
path = "userlist.txt"
admin_console_env = "BOUNCER_ADMIN"
"#
        )
    }

    #[track_caller]
    fn refused(env: &str, needle: &str) {
        match parse(&inventory(env), Path::new("rotor.toml")) {
            Err(InventoryError::Invalid {
                line,
                col,
                secret,
                message,
                ..
            }) => {
                assert_eq!(
                    (line, col, secret.as_deref()),
                    (10, 7, Some("jwt")),
                    "{message}"
                );
                assert!(message.contains(needle), "{message:?} lacks {needle:?}");
            }
            Err(e) => panic!("expected Invalid, got {e}"),
            Ok(_) => panic!("env = {env} was accepted"),
        }
    }

    #[test]
    fn hook_env_lists_the_named_variables() {
        let inv = parse(
            &inventory(r#"["XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"]"#),
            Path::new("rotor.toml"),
        )
        .expect("valid");
        assert_eq!(
            inv.secrets[0].hooks.env,
            ["XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"]
        );
        assert!(inv.secrets[1].hooks.env.is_empty());
    }

    #[test]
    fn hook_env_refuses_bad_names_and_admin_credentials() {
        refused(r#""HOME""#, "env must be an array of variable names");
        refused("[1]", "found a integer");
        refused(r#"["NOT A NAME"]"#, "not an environment variable name");
        refused(r#"["A", "A"]"#, "lists \"A\" twice");
        refused(
            r#"["ROTOR_PG_ADMIN_URL"]"#,
            "ROTOR_* variables are rotor's own",
        );
        refused(
            r#"["ROTOR_MASTER_KEY_FILE"]"#,
            "ROTOR_* variables are rotor's own",
        );
        refused(
            r#"["PG_ADMIN"]"#,
            "the admin_url_env of secret \"db\": an admin credential never goes to a hook",
        );
        refused(
            r#"["BOUNCER_ADMIN"]"#,
            "the admin_console_env of secret \"db\"",
        );
    }

    #[test]
    fn hook_env_needs_a_command_to_pass_it_to() {
        let text = inventory(r#"["HOME"]"#).replace(
            "restart = [\"systemctl\", \"restart\", \"api\"]",
            "verify = { http = \"http://127.0.0.1:8000/health\" }",
        );
        match parse(&text, Path::new("rotor.toml")) {
            Err(e) => assert!(
                e.to_string().contains("no restart or verify command"),
                "{e}"
            ),
            Ok(_) => panic!("env without a command was accepted"),
        }
    }
}
