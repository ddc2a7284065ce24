//! Rules for `[[secret.target]]`: kinds, variables, layouts, modes, and one
//! writer per (file, variable). A `pgbouncer` target belongs to a secret
//! with a PostgreSQL authority, whose login roles it manages. A `template`
//! target's template is read and checked here, and its file has no other
//! writer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::inventory::error::InventoryError;
use crate::inventory::model::*;
use crate::inventory::position::Cx;
use crate::target::identity::{self, Named, Role};

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
        "template" => convert_template(cx, secret, strategy, raw, base_dir, authority)
            .map(TargetSpec::Template),
        other => Err(cx.err(
            t.kind.span(),
            Some(secret),
            format!("unknown target kind \"{other}\"; expected \"dotenv\", \"pgbouncer\" or \"template\""),
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
        ("template", t.template.as_ref()),
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
        users: pgbouncer_users(pg),
        admin_console_env,
    })
}

/// The logins whose lines a pgbouncer target manages: the authority's
/// `roles`, and its `group`, which is the live login while an existing
/// single role is converted (its line is read, kept for its draining
/// clients, and written again should the conversion be undone).
fn pgbouncer_users(pg: &PostgresAuthority) -> Vec<String> {
    let mut users = pg.roles.clone();
    if let Some(g) = &pg.group {
        if !users.contains(g) {
            users.push(g.clone());
        }
    }
    users
}

/// `kind = "template"`: a whole file rendered from a template, which is
/// read and checked now, so a bad template stops every command before
/// anything changes.
fn convert_template(
    cx: &Cx<'_>,
    secret: &str,
    strategy: &Strategy,
    raw: &Spanned<RawTarget>,
    base_dir: &Path,
    authority: Option<&AuthoritySpec>,
) -> Result<TemplateTarget, InventoryError> {
    use crate::target::template::{Slot, Template};

    let t = raw.get_ref();
    let hint = "a template target takes path, template and mode: the template's {{current}}, {{previous}} and {{user}} placeholders say where the values go";
    for (key, value) in [
        ("var", t.var.as_ref()),
        ("previous_var", t.previous_var.as_ref()),
        ("format", t.format.as_ref()),
        ("form", t.form.as_ref()),
        ("user_var", t.user_var.as_ref()),
        ("admin_console_env", t.admin_console_env.as_ref()),
    ] {
        not_for_kind(cx, secret, "target", key, value, "template", hint)?;
    }
    let Some(raw_template) = &t.template else {
        return Err(cx.err(
            raw.span(),
            Some(secret),
            "missing field `template`: a template target needs template = \"…\", the file it renders path from, with {{current}} where the secret goes",
        ));
    };
    let span = raw_template.span();
    if raw_template.get_ref().trim().is_empty() {
        return Err(cx.err(span, Some(secret), "template path is empty"));
    }
    let path = resolve(base_dir, Path::new(t.path.get_ref()));
    let template_path = resolve(base_dir, Path::new(raw_template.get_ref()));
    if template_path == path {
        return Err(cx.err(
            span,
            Some(secret),
            "template is the target's own path: rotor would overwrite the template with the rendered file; keep the template beside it, e.g. \"docker-compose.yml.tmpl\"",
        ));
    }
    let shown = template_path.display();
    let bytes = crate::target::atomic::read_limited(&template_path, cx.max_file_size).map_err(
        |e| {
            let message = match e {
                crate::target::atomic::FileError::NotFound { .. } => format!("template {shown} does not exist; create it from the file consumers read, with {{{{current}}}} where the secret goes"),
                other => format!("cannot read template: {other}"),
            };
            cx.err(span.clone(), Some(secret), message)
        },
    )?;
    let template = Template::parse(&bytes)
        .map_err(|e| cx.err(span.clone(), Some(secret), format!("template {shown} {e}")))?;
    let keeps_previous = matches!(strategy, Strategy::Overlap { .. });
    match template.first_line(Slot::Previous) {
        Some(line) if !keeps_previous => {
            return Err(cx.err(
                span,
                Some(secret),
                format!(
                    "template {shown} line {line} has {{{{previous}}}}, but strategy {} keeps no previous value; remove it, or use strategy = {{ kind = \"overlap\", window = \"…\" }}",
                    strategy.kind()
                ),
            ));
        }
        None if keeps_previous => {
            return Err(cx.err(
                span,
                Some(secret),
                format!(
                    "strategy overlap, but template {shown} has no {{{{previous}}}} placeholder: consumers of {} would stop accepting the previous value at once; put {{{{previous}}}} where the old value goes",
                    t.path.get_ref()
                ),
            ));
        }
        _ => {}
    }
    let has_login = authority.is_some_and(AuthoritySpec::names_login);
    match template.first_line(Slot::User) {
        Some(line) if !has_login => {
            return Err(cx.err(
                span,
                Some(secret),
                format!(
                    "template {shown} line {line} has {{{{user}}}}, but this secret has no login (only a postgres authority, a redis authority with a user, or an exec plugin names one); remove {{{{user}}}}"
                ),
            ));
        }
        None if *strategy == Strategy::Alternate => {
            return Err(cx.err(
                span,
                Some(secret),
                format!(
                    "strategy alternate switches the login between two roles, but template {shown} has no {{{{user}}}} placeholder; put {{{{user}}}} where the login goes"
                ),
            ));
        }
        _ => {}
    }
    Ok(TemplateTarget {
        path,
        template_path,
        template,
        mode: target_mode(cx, secret, t)?,
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
    not_for_kind(
        cx,
        secret,
        "target",
        "template",
        t.template.as_ref(),
        "dotenv",
        "a dotenv target edits its variables in place; use kind = \"template\" to render a whole file from a template",
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

/// Every (file, variable) written so far, to refuse two writers of one;
/// and the files template targets write whole or read as templates, which
/// no other target may write.
#[derive(Default)]
pub(in crate::inventory) struct Writers {
    seen: HashMap<(PathBuf, String), (String, usize)>,
    /// Each written file's first writer.
    files: HashMap<PathBuf, (String, usize)>,
    /// Files a template target writes whole.
    whole: HashMap<PathBuf, (String, usize)>,
    /// Templates, by path.
    templates: HashMap<PathBuf, (String, usize)>,
    /// Every target file and template with the span that names it, for
    /// [`Writers::check_same_files`].
    named: Vec<(Named, std::ops::Range<usize>)>,
}

/// "this secret" or `secret "name"`, for messages.
fn whose(other: &str, secret: &str) -> String {
    if other == secret {
        "this secret".to_owned()
    } else {
        format!("secret \"{other}\"")
    }
}

impl Writers {
    pub(super) fn claim(
        &mut self,
        cx: &Cx<'_>,
        secret: &str,
        raw: &RawTarget,
        t: &TargetSpec,
    ) -> Result<(), InventoryError> {
        self.name(secret, t.path(), Role::Target, raw.path.span());
        if let (TargetSpec::Template(tt), Some(span)) = (t, &raw.template) {
            self.name(secret, &tt.template_path, Role::Template, span.span());
        }
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
            TargetSpec::Template(tt) => return self.claim_whole(cx, secret, raw, tt),
        }
        let path = t.path().to_path_buf();
        self.not_whole_or_template(cx, secret, raw, &path)?;
        for (span_of, var) in vars {
            let key = (path.clone(), var.clone());
            let line = cx.line_col(span_of.span().start).0;
            if let Some((other, other_line)) = self.seen.get(&key) {
                return Err(cx.err(
                    span_of.span(),
                    Some(secret),
                    format!(
                        "{var} in {} is already written by {} (line {other_line}); each variable of a file can have only one writer",
                        raw.path.get_ref(),
                        whose(other, secret)
                    ),
                ));
            }
            self.seen.insert(key, (secret.to_owned(), line));
        }
        let line = cx.line_col(raw.path.span().start).0;
        self.files
            .entry(path)
            .or_insert_with(|| (secret.to_owned(), line));
        Ok(())
    }

    fn name(&mut self, secret: &str, path: &Path, role: Role, span: std::ops::Range<usize>) {
        let named = Named {
            path: path.to_path_buf(),
            role,
            secret: Some(secret.to_owned()),
        };
        self.named.push((named, span));
    }

    /// No two of the paths (targets, templates, and the store's master key
    /// and database) name one file where that would overwrite a template,
    /// the store or the key, or split a hard-linked file; compared by
    /// canonical path and by device and inode.
    pub(in crate::inventory) fn check_same_files(
        &self,
        cx: &Cx<'_>,
        store_dir: &Path,
    ) -> Result<(), InventoryError> {
        let store = identity::store_files(store_dir);
        let skip = store.len();
        let names: Vec<Named> = store
            .into_iter()
            .chain(self.named.iter().map(|(n, _)| n.clone()))
            .collect();
        let Some((at, clash)) = identity::find_clash(&names) else {
            return Ok(());
        };
        // The second of a clash comes after the store's files: a target or
        // template, named at a span.
        let span = at
            .checked_sub(skip)
            .and_then(|i| self.named.get(i))
            .map_or(0..0, |(_, span)| span.clone());
        Err(cx.err(span, clash.second.secret.as_deref(), clash.to_string()))
    }

    /// A file that a template target renders whole, or that is a template,
    /// has no other writer.
    fn not_whole_or_template(
        &self,
        cx: &Cx<'_>,
        secret: &str,
        raw: &RawTarget,
        path: &Path,
    ) -> Result<(), InventoryError> {
        if let Some((other, line)) = self.whole.get(path) {
            return Err(cx.err(
                raw.path.span(),
                Some(secret),
                format!(
                    "{} is rendered whole from a template by {} (line {line}); a template target must be its file's only writer: put the value into that template instead",
                    raw.path.get_ref(),
                    whose(other, secret)
                ),
            ));
        }
        if let Some((other, line)) = self.templates.get(path) {
            return Err(cx.err(
                raw.path.span(),
                Some(secret),
                format!(
                    "{} is the template of a target of {} (line {line}); rotor must not write a template",
                    raw.path.get_ref(),
                    whose(other, secret)
                ),
            ));
        }
        Ok(())
    }

    /// A template target's claim: its whole file, and its template.
    fn claim_whole(
        &mut self,
        cx: &Cx<'_>,
        secret: &str,
        raw: &RawTarget,
        t: &TemplateTarget,
    ) -> Result<(), InventoryError> {
        self.not_whole_or_template(cx, secret, raw, &t.path)?;
        if let Some((other, line)) = self.files.get(&t.path) {
            return Err(cx.err(
                raw.path.span(),
                Some(secret),
                format!(
                    "{} is already written by {} (line {line}); a template target renders the whole file, so it must be the file's only writer",
                    raw.path.get_ref(),
                    whose(other, secret)
                ),
            ));
        }
        let template_span = raw.template.as_ref().map_or(raw.path.span(), |s| s.span());
        if let Some((other, line)) = self
            .files
            .get(&t.template_path)
            .or_else(|| self.whole.get(&t.template_path))
        {
            return Err(cx.err(
                template_span,
                Some(secret),
                format!(
                    "template {} is written by a target of {} (line {line}); rotor must not write a template",
                    t.template_path.display(),
                    whose(other, secret)
                ),
            ));
        }
        let line = cx.line_col(raw.path.span().start).0;
        self.whole.insert(t.path.clone(), (secret.to_owned(), line));
        self.files.insert(t.path.clone(), (secret.to_owned(), line));
        let template_line = cx.line_col(template_span.start).0;
        self.templates
            .entry(t.template_path.clone())
            .or_insert_with(|| (secret.to_owned(), template_line));
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
