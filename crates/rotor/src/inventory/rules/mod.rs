//! The inventory's rules: each raw secret is checked and turned into the
//! model, with an error that points at the offending value.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::error::InventoryError;
use super::model::{Hooks, SecretSpec, Strategy};
use super::position::Cx;
use super::raw::*;

mod authority;
mod exec;
mod generator;
mod hooks;
mod manual;
mod redis;
mod target;

pub(in crate::inventory) use authority::*;
pub(in crate::inventory) use exec::*;
pub(in crate::inventory) use generator::*;
pub(in crate::inventory) use hooks::*;
pub(in crate::inventory) use manual::*;
pub(in crate::inventory) use target::*;

// ---------------------------------------------------------------------------
// Rules.

pub(in crate::inventory) fn check_name(
    cx: &Cx<'_>,
    name: &Spanned<String>,
) -> Result<(), InventoryError> {
    let n = name.get_ref();
    if n.is_empty() {
        return Err(cx.err(name.span(), None, "secret name is empty"));
    }
    if let Some(bad) = n
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
    {
        return Err(cx.err(
            name.span(),
            Some(n),
            format!(
                "name contains {bad:?}; use only lowercase letters, digits, '_' and '-' (e.g. \"{}\")",
                suggest_name(n)
            ),
        ));
    }
    Ok(())
}

/// A valid name close to `n`, for messages.
pub(in crate::inventory) fn suggest_name(n: &str) -> String {
    let s: String = n
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "jwt".to_owned()
    } else {
        s
    }
}

pub(in crate::inventory) fn is_var_name(v: &str) -> bool {
    let mut chars = v.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a humantime duration (`90d`, `12h`, `1y`); zero is refused.
pub(in crate::inventory) fn duration(
    cx: &Cx<'_>,
    secret: &str,
    key: &str,
    value: &Spanned<String>,
) -> Result<Duration, InventoryError> {
    let too_long = || {
        cx.err(
            value.span(),
            Some(secret),
            format!(
                "{key} = \"{}\" is longer than 100 years; no secret should wait that long",
                value.get_ref()
            ),
        )
    };
    let d = humantime::parse_duration(value.get_ref().trim()).map_err(|e| {
        // A whole number too large for any duration is too long, said as
        // such (a fraction finer than 1ns overflows the same way).
        let fraction = value.get_ref().contains('.');
        if matches!(e, humantime::DurationError::NumberOverflow) && !fraction {
            return too_long();
        }
        cx.err(
            value.span(),
            Some(secret),
            format!(
                "{key} = \"{}\" is not a duration ({e}); write e.g. \"90d\", \"12h\", \"30m\", \"1w\" or \"1y\"",
                value.get_ref()
            ),
        )
    })?;
    if d.is_zero() {
        return Err(cx.err(
            value.span(),
            Some(secret),
            format!("{key} must be longer than zero"),
        ));
    }
    if d > MAX_DURATION {
        return Err(too_long());
    }
    Ok(d)
}

/// Longest cadence, window or timeout accepted.
const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `base_dir.join(p)` unless `p` is absolute.
pub(in crate::inventory) fn resolve(base_dir: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}

pub(in crate::inventory) fn convert_secret(
    cx: &Cx<'_>,
    s: &RawSecret,
    table: std::ops::Range<usize>,
    names: &HashMap<&str, usize>,
    base_dir: &Path,
    writers: &mut Writers,
) -> Result<SecretSpec, InventoryError> {
    let name = s.name.get_ref().as_str();
    let line = cx.line_col(s.name.span().start).0;

    let cadence = s
        .cadence
        .as_ref()
        .map(|c| duration(cx, name, "cadence", c))
        .transpose()?;
    let strategy = match &s.strategy {
        Some(st) => convert_strategy(cx, name, st)?,
        None => Strategy::Cutover,
    };
    let (generator, manual) = convert_manual(cx, s, &strategy, table)?;
    check_window(cx, s, &strategy, cadence)?;

    let mut related = Vec::with_capacity(s.related.len());
    for r in &s.related {
        let rn = r.get_ref();
        if rn == name {
            return Err(cx.err(
                r.span(),
                Some(name),
                "related names the secret itself; list only other secrets",
            ));
        }
        if !names.contains_key(rn.as_str()) {
            let known: Vec<&str> = names.keys().copied().filter(|k| *k != name).collect();
            return Err(cx.err(
                r.span(),
                Some(name),
                format!(
                    "related names \"{rn}\", which is not a secret in this inventory{}",
                    known_list(known)
                ),
            ));
        }
        if related.contains(rn) {
            return Err(cx.err(
                r.span(),
                Some(name),
                format!("related lists \"{rn}\" twice"),
            ));
        }
        related.push(rn.clone());
    }

    if s.target.is_empty() {
        return Err(cx.err(
            s.name.span(),
            Some(name),
            "no targets: add at least one [[secret.target]] (e.g. kind = \"dotenv\", path = \".env\", var = \"MY_SECRET\")",
        ));
    }
    let authority = match &s.authority {
        Some(a) => Some(convert_authority(cx, name, &strategy, a, names, base_dir)?),
        None if strategy == Strategy::Alternate => {
            return Err(cx.err(
                s.strategy.as_ref().map_or(s.name.span(), |st| st.span()),
                Some(name),
                "strategy alternate takes turns between two database roles; add [secret.authority] with kind = \"postgres\", group and roles",
            ));
        }
        None if strategy == Strategy::DualPassword => {
            return Err(cx.err(
                s.strategy.as_ref().map_or(s.name.span(), |st| st.span()),
                Some(name),
                "strategy dual-password gives a Redis ACL user two passwords at once; add [secret.authority] with kind = \"redis\", admin_url_env, user and nodes",
            ));
        }
        None => None,
    };
    let mut targets = Vec::with_capacity(s.target.len());
    for t in &s.target {
        let target = convert_target(cx, name, &strategy, t, base_dir, authority.as_ref())?;
        writers.claim(cx, name, t.get_ref(), &target)?;
        targets.push(target);
    }
    check_targets_carry_user(cx, name, &strategy, &s.target, &targets)?;

    let hooks = match &s.hooks {
        Some(h) => convert_hooks(cx, name, h, base_dir)?,
        None => Hooks::default(),
    };

    Ok(SecretSpec {
        name: name.to_owned(),
        description: s.description.clone(),
        owner: s.owner.clone(),
        blast_radius: s.blast_radius.clone(),
        cadence,
        generator,
        strategy,
        manual,
        related,
        targets,
        hooks,
        authority,
        line,
    })
}

/// An overlap's window must end before the next rotation is due.
pub(in crate::inventory) fn check_window(
    cx: &Cx<'_>,
    s: &RawSecret,
    strategy: &Strategy,
    cadence: Option<Duration>,
) -> Result<(), InventoryError> {
    let (Strategy::Overlap { window }, Some(cadence)) = (strategy, cadence) else {
        return Ok(());
    };
    let raw_window = s
        .strategy
        .as_ref()
        .and_then(|st| st.get_ref().window.as_ref());
    let (Some(raw_window), Some(raw_cadence)) = (raw_window, s.cadence.as_ref()) else {
        return Ok(());
    };
    if *window < cadence {
        return Ok(());
    }
    Err(cx.err(
        raw_window.span(),
        Some(s.name.get_ref()),
        format!(
            "overlap window = \"{}\" is not shorter than cadence = \"{}\": the next rotation would come before the previous value retires; shorten the window or lengthen the cadence",
            raw_window.get_ref(),
            raw_cadence.get_ref()
        ),
    ))
}

pub(in crate::inventory) fn known_list(mut known: Vec<&str>) -> String {
    if known.is_empty() {
        return String::new();
    }
    known.sort_unstable();
    let quoted: Vec<String> = known.iter().map(|k| format!("\"{k}\"")).collect();
    format!(" (known: {})", quoted.join(", "))
}

/// Refuses the first of `keys` the inventory gives (a span is `Some`) with
/// `message(key)`: keys that belong to another kind of the same table.
pub(in crate::inventory) fn refuse_keys(
    cx: &Cx<'_>,
    secret: &str,
    keys: &[(&str, Option<std::ops::Range<usize>>)],
    message: impl Fn(&str) -> String,
) -> Result<(), InventoryError> {
    match keys.iter().find_map(|(k, s)| s.clone().map(|s| (*k, s))) {
        Some((key, span)) => Err(cx.err(span, Some(secret), message(key))),
        None => Ok(()),
    }
}

/// An error for a key that `kind` does not take.
pub(in crate::inventory) fn not_for_kind<T>(
    cx: &Cx<'_>,
    secret: &str,
    what: &str,
    key: &str,
    value: Option<&Spanned<T>>,
    kind: &str,
    hint: &str,
) -> Result<(), InventoryError> {
    match value {
        Some(v) => Err(cx.err(
            v.span(),
            Some(secret),
            format!("{what} key `{key}` does not apply to kind = \"{kind}\"; {hint}"),
        )),
        None => Ok(()),
    }
}

pub(in crate::inventory) fn convert_strategy(
    cx: &Cx<'_>,
    secret: &str,
    st: &Spanned<RawStrategy>,
) -> Result<Strategy, InventoryError> {
    let raw = st.get_ref();
    match raw.kind.get_ref().as_str() {
        "cutover" => match &raw.window {
            Some(w) => Err(cx.err(
                w.span(),
                Some(secret),
                "strategy key `window` does not apply to kind = \"cutover\": a cutover replaces the value at once; remove `window`, or use kind = \"overlap\" to keep the previous value working for that long",
            )),
            None => Ok(Strategy::Cutover),
        },
        "overlap" => match &raw.window {
            Some(w) => Ok(Strategy::Overlap {
                window: duration(cx, secret, "window", w)?,
            }),
            None => Err(cx.err(
                st.span(),
                Some(secret),
                "strategy overlap needs a window at least as long as the longest token or session lifetime, e.g. { kind = \"overlap\", window = \"31d\" }",
            )),
        },
        "alternate" => match &raw.window {
            Some(w) => Err(cx.err(
                w.span(),
                Some(secret),
                "strategy key `window` does not apply to kind = \"alternate\": the old login is retired as soon as its sessions end (see the authority's drain_timeout); remove `window`",
            )),
            None => Ok(Strategy::Alternate),
        },
        "manual" => match &raw.window {
            Some(w) => Err(cx.err(
                w.span(),
                Some(secret),
                "strategy key `window` does not apply to kind = \"manual\": the old value counts as live until you confirm it was revoked (`rotor confirm NAME --revoked`); remove `window`",
            )),
            None => Ok(Strategy::Manual),
        },
        "dual-password" => match &raw.window {
            Some(w) => Err(cx.err(
                w.span(),
                Some(secret),
                "strategy key `window` does not apply to kind = \"dual-password\": the old password is removed once consumers verify with the new one; remove `window`",
            )),
            None => Ok(Strategy::DualPassword),
        },
        other => Err(cx.err(
            raw.kind.span(),
            Some(secret),
            format!("unknown strategy kind \"{other}\"; expected \"cutover\", \"overlap\", \"alternate\", \"dual-password\" or \"manual\""),
        )),
    }
}
