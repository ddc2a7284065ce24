//! Rules for `[secret.authority]` with `kind = "exec"`: a plugin program
//! (argv), its time limit, the variables it gets, and its `config` table.

use std::time::Duration;

use toml::Spanned;

use super::*;
use crate::inventory::error::InventoryError;
use crate::inventory::model::*;
use crate::inventory::position::Cx;

/// How long one plugin call may take unless told.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

pub(in crate::inventory) fn convert_exec(
    cx: &Cx<'_>,
    secret: &str,
    strategy: &Strategy,
    raw: &Spanned<RawAuthority>,
    base_dir: &Path,
) -> Result<AuthoritySpec, InventoryError> {
    let a = raw.get_ref();
    let hint = "an exec authority takes command, timeout, env and [secret.authority.config]";
    refuse_keys(
        cx,
        secret,
        &[
            ("admin_url_env", a.admin_url_env.as_ref().map(|v| v.span())),
            ("admin_secret", a.admin_secret.as_ref().map(|v| v.span())),
            ("admin_url", a.admin_url.as_ref().map(|v| v.span())),
            ("group", a.group.as_ref().map(|v| v.span())),
            ("roles", a.roles.as_ref().map(|v| v.span())),
            ("role", a.role.as_ref().map(|v| v.span())),
            ("retire", a.retire.as_ref().map(|v| v.span())),
            ("drain_timeout", a.drain_timeout.as_ref().map(|v| v.span())),
            ("valid_for", a.valid_for.as_ref().map(|v| v.span())),
            ("user", a.user.as_ref().map(|v| v.span())),
            ("nodes", a.nodes.as_ref().map(|v| v.span())),
            ("retire_delay", a.retire_delay.as_ref().map(|v| v.span())),
            ("tls_ca_file", a.tls_ca_file.as_ref().map(|v| v.span())),
        ],
        |key| {
            format!("{key} does not apply to kind = \"exec\"; {hint} (the plugin reads its provider's admin key from a variable listed in env)")
        },
    )?;
    if *strategy == Strategy::Alternate {
        return Err(cx.err(
            raw.span(),
            Some(secret),
            "strategy alternate takes turns between two PostgreSQL roles; for a provider-held credential use { kind = \"dual-password\" } (old revoked after verify), { kind = \"overlap\", window = \"…\" } or { kind = \"cutover\" }",
        ));
    }
    let Some(command) = &a.command else {
        return Err(cx.err(
            raw.span(),
            Some(secret),
            "an exec authority needs command = [\"program\", \"arg\", …]: the plugin that speaks rotor's exec protocol (see docs/plugin-protocol.md)",
        ));
    };
    if command.get_ref().is_empty() || command.get_ref()[0].get_ref().trim().is_empty() {
        return Err(cx.err(
            command.span(),
            Some(secret),
            "command is empty: give the plugin's program and arguments, e.g. command = [\"python3\", \"plugins/stripe.py\"]",
        ));
    }
    if let Some(bad) = command
        .get_ref()
        .iter()
        .find(|arg| arg.get_ref().contains('\0'))
    {
        return Err(cx.err(
            bad.span(),
            Some(secret),
            "a command argument holds a NUL byte",
        ));
    }
    let timeout = match &a.timeout {
        Some(t) => duration(cx, secret, "timeout", t)?,
        None => DEFAULT_TIMEOUT,
    };
    let env = match &a.env {
        Some(e) => var_names(cx, secret, e)?,
        None => Vec::new(),
    };
    let config = match &a.config {
        Some(t) => {
            let json = serde_json::to_value(t.get_ref()).map_err(|e| {
                cx.err(
                    t.span(),
                    Some(secret),
                    format!("[secret.authority.config] cannot be passed as JSON: {e}"),
                )
            })?;
            // serde_json's map keeps keys sorted: the text is canonical.
            json.to_string()
        }
        None => "{}".to_owned(),
    };
    Ok(AuthoritySpec::Exec(ExecAuthority {
        command: command
            .get_ref()
            .iter()
            .map(|s| s.get_ref().clone())
            .collect(),
        dir: base_dir.to_path_buf(),
        timeout,
        env,
        config,
    }))
}
