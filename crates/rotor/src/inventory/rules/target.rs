//! Rules for `[[secret.target]]`: kinds, variables, layouts, modes, and one
//! writer per (file, variable).

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
    t: &RawTarget,
    base_dir: &Path,
) -> Result<DotenvTarget, InventoryError> {
    if t.kind.get_ref() != "dotenv" {
        return Err(cx.err(
            t.kind.span(),
            Some(secret),
            format!(
                "unknown target kind \"{}\"; expected \"dotenv\"",
                t.kind.get_ref()
            ),
        ));
    }
    if t.path.get_ref().trim().is_empty() {
        return Err(cx.err(t.path.span(), Some(secret), "target path is empty"));
    }
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
    let var = t.var.get_ref();
    if !is_var_name(var) {
        return Err(cx.err(
            t.var.span(),
            Some(secret),
            format!("var = \"{var}\" is not a variable name; use letters, digits and '_', not starting with a digit"),
        ));
    }
    if let Some(pv) = &t.previous_var {
        let p = pv.get_ref();
        if !is_var_name(p) {
            return Err(cx.err(
                pv.span(),
                Some(secret),
                format!("previous_var = \"{p}\" is not a variable name; use letters, digits and '_', not starting with a digit"),
            ));
        }
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
            t.var.span(),
            Some(secret),
            format!(
                "strategy overlap, but the previous value would have nowhere to go in this target; add previous_var = \"{var}_PREVIOUS\" or use format = \"list\""
            ),
        ));
    }
    let mode = match &t.mode {
        None => 0o600,
        Some(m) => file_mode(m.get_ref()).ok_or_else(|| {
            cx.err(
                m.span(),
                Some(secret),
                format!(
                    "mode = \"{}\" is not allowed; use \"0600\" (default), \"0640\", \"0400\" or \"0440\": the owner must read it and nobody outside the group may",
                    m.get_ref()
                ),
            )
        })?,
    };
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
            if !is_var_name(u) {
                return Err(cx.err(
                    uv.span(),
                    Some(secret),
                    format!("user_var = \"{u}\" is not a variable name; use letters, digits and '_', not starting with a digit"),
                ));
            }
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
        t: &DotenvTarget,
    ) -> Result<(), InventoryError> {
        let mut vars = vec![(&raw.var, t.var.as_str())];
        if let (Some(pv), Some(p)) = (&raw.previous_var, t.previous_var.as_deref()) {
            vars.push((pv, p));
        }
        if let (Some(uv), Some(u)) = (&raw.user_var, t.user_var.as_deref()) {
            vars.push((uv, u));
        }
        for (span_of, var) in vars {
            let key = (t.path.clone(), var.to_owned());
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
