//! Rules for `[[secret.target]]`: kinds, variables, layouts, modes, and one
//! writer per (file, variable). A `pgbouncer` target belongs to a secret
//! with a PostgreSQL authority, whose login roles it manages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::inventory::error::InventoryError;
use crate::inventory::model::*;
use crate::inventory::position::Cx;

pub(in crate::inventory) fn convert_target(
    cx: &Cx<'_>,
    secret: &str,
    strategy: &Strategy,
    raw: &Spanned<RawTarget>,
    base_dir: &Path,
    authority: Option<&AuthoritySpec>,
) -> Result<TargetSpec, InventoryError> {
    let t = raw.get_ref();
    if t.path.get_ref().trim().is_empty() {
        return Err(cx.err(t.path.span(), Some(secret), "target path is empty"));
    }
    match t.kind.get_ref().as_str() {
        "dotenv" => convert_dotenv(cx, secret, strategy, raw, base_dir).map(TargetSpec::Dotenv),
        "pgbouncer" => {
            convert_pgbouncer(cx, secret, t, base_dir, authority).map(TargetSpec::Pgbouncer)
        }
        other => Err(cx.err(
            t.kind.span(),
            Some(secret),
            format!("unknown target kind \"{other}\"; expected \"dotenv\" or \"pgbouncer\""),
        )),
    }
}

/// `kind = "pgbouncer"`: the authority's login roles' lines in an
/// `auth_file`.
fn convert_pgbouncer(
    cx: &Cx<'_>,
    secret: &str,
    t: &RawTarget,
    base_dir: &Path,
    authority: Option<&AuthoritySpec>,
) -> Result<PgbouncerTarget, InventoryError> {
    let hint = "a pgbouncer target takes path, mode and admin_console_env";
    for (key, value) in [
        ("var", t.var.as_ref()),
        ("previous_var", t.previous_var.as_ref()),
        ("format", t.format.as_ref()),
        ("form", t.form.as_ref()),
        ("user_var", t.user_var.as_ref()),
    ] {
        not_for_kind(cx, secret, "target", key, value, "pgbouncer", hint)?;
    }
    let Some(AuthoritySpec::Postgres(pg)) = authority else {
        return Err(cx.err(
            t.kind.span(),
            Some(secret),
            "a pgbouncer target holds the passwords of PostgreSQL login roles; it needs [secret.authority] kind = \"postgres\" (whose roles it manages)",
        ));
    };
    let admin_console_env = match &t.admin_console_env {
        None => None,
        Some(v) => {
            if !is_var_name(v.get_ref()) {
                return Err(cx.err(
                    v.span(),
                    Some(secret),
                    format!("admin_console_env = \"{}\" is not a variable name; name the environment variable that holds the admin console URL, e.g. \"ROTOR_PGBOUNCER_URL\"", v.get_ref()),
                ));
            }
            Some(v.get_ref().clone())
        }
    };
    Ok(PgbouncerTarget {
        path: resolve(base_dir, Path::new(t.path.get_ref())),
        mode: target_mode(cx, secret, t)?,
        users: pg.roles.clone(),
        admin_console_env,
    })
}

/// The file mode a target asks for (0600 unless told).
fn target_mode(cx: &Cx<'_>, secret: &str, t: &RawTarget) -> Result<u32, InventoryError> {
    match &t.mode {
        None => Ok(0o600),
        Some(m) => file_mode(m.get_ref()).ok_or_else(|| {
            cx.err(
                m.span(),
                Some(secret),
                format!(
                    "mode = \"{}\" is not allowed; use \"0600\" (default), \"0640\", \"0400\" or \"0440\": the owner must read it and nobody outside the group may",
                    m.get_ref()
                ),
            )
        }),
    }
}

/// `kind = "dotenv"`.
fn convert_dotenv(
    cx: &Cx<'_>,
    secret: &str,
    strategy: &Strategy,
    raw: &Spanned<RawTarget>,
    base_dir: &Path,
) -> Result<DotenvTarget, InventoryError> {
    let t = raw.get_ref();
    not_for_kind(
        cx,
        secret,
        "target",
        "admin_console_env",
        t.admin_console_env.as_ref(),
        "dotenv",
        "only a pgbouncer target has an admin console to RELOAD; remove it",
    )?;
    let Some(raw_var) = &t.var else {
        return Err(cx.err(
            raw.span(),
            Some(secret),
            "missing field `var`: a dotenv target needs var = \"…\", the variable that holds the secret",
        ));
    };
    let format = match &t.format {
        Some(f) => match f.get_ref().as_str() {
            "pair" => DotenvFormat::Pair,
            "list" => DotenvFormat::List,
            other => {
                return Err(cx.err(
                    f.span(),
                    Some(secret),
                    format!("unknown target format \"{other}\"; expected \"pair\" or \"list\""),
                ))
            }
        },
        None => DotenvFormat::Pair,
    };
    let var = raw_var.get_ref();
    var_name(cx, secret, "var", raw_var)?;
    if let Some(pv) = &t.previous_var {
        let p = pv.get_ref();
        var_name(cx, secret, "previous_var", pv)?;
        if p == var {
            return Err(cx.err(
                pv.span(),
                Some(secret),
                "previous_var is the same as var; give the previous value its own variable",
            ));
        }
        if format == DotenvFormat::List {
            return Err(cx.err(
                pv.span(),
                Some(secret),
                "previous_var does not apply to format = \"list\": the list already carries the previous value after the new one; remove previous_var",
            ));
        }
        if *strategy == Strategy::Cutover {
            return Err(cx.err(
                pv.span(),
                Some(secret),
                "previous_var does not apply to a cutover, which keeps no previous value; remove it, or use strategy = { kind = \"overlap\", window = \"...\" }",
            ));
        }
    } else if matches!(strategy, Strategy::Overlap { .. }) && format == DotenvFormat::Pair {
        return Err(cx.err(
            raw_var.span(),
            Some(secret),
            format!(
                "strategy overlap, but the previous value would have nowhere to go in this target; add previous_var = \"{var}_PREVIOUS\" or use format = \"list\""
            ),
        ));
    }
    let mode = target_mode(cx, secret, t)?;
    let form = match &t.form {
        None => ValueForm::Plain,
        Some(f) => match f.get_ref().as_str() {
            "plain" => ValueForm::Plain,
            "url" => ValueForm::Url,
            other => {
                return Err(cx.err(
                    f.span(),
                    Some(secret),
                    format!("unknown target form \"{other}\"; expected \"plain\" (the value itself) or \"url\" (a connection URL whose user and password rotor rewrites)"),
                ))
            }
        },
    };
    if form == ValueForm::Url {
        if let Some(f) = &t.format {
            if format == DotenvFormat::List {
                return Err(cx.err(
                    f.span(),
                    Some(secret),
                    "format = \"list\" does not apply to form = \"url\": a URL holds one password; remove one of them",
                ));
            }
        }
        if let Some(pv) = &t.previous_var {
            return Err(cx.err(
                pv.span(),
                Some(secret),
                "previous_var does not apply to form = \"url\": a connection URL holds one credential; use strategy alternate, which moves consumers to the other login instead",
            ));
        }
    }
    let user_var = match &t.user_var {
        None => None,
        Some(uv) => {
            let u = uv.get_ref();
            var_name(cx, secret, "user_var", uv)?;
            if u == var || t.previous_var.as_ref().is_some_and(|p| p.get_ref() == u) {
                return Err(cx.err(
                    uv.span(),
                    Some(secret),
                    "user_var must be its own variable, not var or previous_var",
                ));
            }
            if form == ValueForm::Url {
                return Err(cx.err(
                    uv.span(),
                    Some(secret),
                    "user_var does not apply to form = \"url\": the URL carries the user; remove user_var",
                ));
            }
            Some(u.clone())
        }
    };
    Ok(DotenvTarget {
        path: resolve(base_dir, Path::new(t.path.get_ref())),
        var: var.clone(),
        previous_var: t.previous_var.as_ref().map(|p| p.get_ref().clone()),
        format,
        mode,
        form,
        user_var,
    })
}

/// An octal mode string that keeps a secret file private: the owner reads,
/// the group at most reads, others nothing, no execute or special bits.
fn file_mode(text: &str) -> Option<u32> {
    let m = u32::from_str_radix(text.trim().trim_start_matches("0o"), 8).ok()?;
    let owner_reads = m & 0o400 != 0;
    let allowed = m & !0o640 == 0;
    (owner_reads && allowed).then_some(m)
}

/// Every (file, variable) written so far, to refuse two writers of one.
#[derive(Default)]
pub(in crate::inventory) struct Writers {
    seen: HashMap<(PathBuf, String), (String, usize)>,
}

impl Writers {
    pub(super) fn claim(
        &mut self,
        cx: &Cx<'_>,
        secret: &str,
        raw: &RawTarget,
        t: &TargetSpec,
    ) -> Result<(), InventoryError> {
        let mut vars: Vec<(&Spanned<String>, String)> = Vec::new();
        match t {
            TargetSpec::Dotenv(t) => {
                if let Some(v) = &raw.var {
                    vars.push((v, t.var.clone()));
                }
                if let (Some(pv), Some(p)) = (&raw.previous_var, &t.previous_var) {
                    vars.push((pv, p.clone()));
                }
                if let (Some(uv), Some(u)) = (&raw.user_var, &t.user_var) {
                    vars.push((uv, u.clone()));
                }
            }
            TargetSpec::Pgbouncer(p) => {
                use crate::target::Target;
                vars.extend(p.keys().into_iter().map(|k| (&raw.path, k)));
            }
        }
        let path = t.path().to_path_buf();
        for (span_of, var) in vars {
            let key = (path.clone(), var.clone());
            let line = cx.line_col(span_of.span().start).0;
            if let Some((other, other_line)) = self.seen.get(&key) {
                let whose = if other == secret {
                    "this secret".to_owned()
                } else {
                    format!("secret \"{other}\"")
                };
                return Err(cx.err(
                    span_of.span(),
                    Some(secret),
                    format!(
                        "{var} in {} is already written by {whose} (line {other_line}); each variable of a file can have only one writer",
                        raw.path.get_ref()
                    ),
                ));
            }
            self.seen.insert(key, (secret.to_owned(), line));
        }
        Ok(())
    }
}

/// `key = "…"` must name an env-file variable.
fn var_name(
    cx: &Cx<'_>,
    secret: &str,
    key: &str,
    v: &Spanned<String>,
) -> Result<(), InventoryError> {
    if is_var_name(v.get_ref()) {
        return Ok(());
    }
    Err(cx.err(
        v.span(),
        Some(secret),
        format!(
            "{key} = \"{}\" is not a variable name; use letters, digits and '_', not starting with a digit",
            v.get_ref()
        ),
    ))
}
