//! The inventory's rules: each raw secret is checked and turned into the
//! model, with an error that points at the offending value.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::error::InventoryError;
use super::model::{
    Alphabet, Command, DotenvFormat, DotenvTarget, Encoding, Generator, Hooks, Retry, SecretSpec,
    Strategy, TargetSpec, Verify,
};
use super::position::Cx;
use super::raw::*;

/// Random generator defaults and limits.
pub(super) const DEFAULT_BYTES: i64 = 32;
pub(super) const MIN_BYTES: i64 = 16;
pub(super) const MAX_BYTES: i64 = 4096;
/// Password generator defaults and limits.
pub(super) const DEFAULT_LENGTH: i64 = 32;
pub(super) const MAX_LENGTH: i64 = 4096;
pub(super) const MIN_PASSWORD_BITS: f64 = 96.0;
/// Hook defaults.
pub(super) const DEFAULT_RESTART_TIMEOUT: Duration = Duration::from_secs(60);
pub(super) const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
pub(super) const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Most attempts a hook may be given (`retries`).
pub(super) const MAX_TRIES: i64 = 10;
/// Longest `retry_backoff`.
pub(super) const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(5 * 60);

// ---------------------------------------------------------------------------
// Rules.

pub(super) fn check_name(cx: &Cx<'_>, name: &Spanned<String>) -> Result<(), InventoryError> {
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
pub(super) fn suggest_name(n: &str) -> String {
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

pub(super) fn is_var_name(v: &str) -> bool {
    let mut chars = v.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a humantime duration (`90d`, `12h`, `1y`); zero is refused.
pub(super) fn duration(
    cx: &Cx<'_>,
    secret: &str,
    key: &str,
    value: &Spanned<String>,
) -> Result<Duration, InventoryError> {
    let d = humantime::parse_duration(value.get_ref().trim()).map_err(|e| {
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
        return Err(cx.err(
            value.span(),
            Some(secret),
            format!(
                "{key} = \"{}\" is longer than 100 years; no secret should wait that long",
                value.get_ref()
            ),
        ));
    }
    Ok(d)
}

/// Longest cadence, window or timeout accepted.
const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `base_dir.join(p)` unless `p` is absolute.
pub(super) fn resolve(base_dir: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}

pub(super) fn convert_secret(
    cx: &Cx<'_>,
    s: &RawSecret,
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
    let generator = convert_generator(cx, name, &s.generator)?;
    let strategy = match &s.strategy {
        Some(st) => convert_strategy(cx, name, st)?,
        None => Strategy::Cutover,
    };
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
    let mut targets = Vec::with_capacity(s.target.len());
    for t in &s.target {
        let target = convert_target(cx, name, &strategy, t.get_ref(), base_dir)?;
        writers.claim(cx, name, t.get_ref(), &target)?;
        targets.push(TargetSpec::Dotenv(target));
    }

    let hooks = match &s.hooks {
        Some(h) => convert_hooks(cx, name, h)?,
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
        related,
        targets,
        hooks,
        line,
    })
}

/// An overlap's window must end before the next rotation is due.
pub(super) fn check_window(
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

pub(super) fn known_list(mut known: Vec<&str>) -> String {
    if known.is_empty() {
        return String::new();
    }
    known.sort_unstable();
    let quoted: Vec<String> = known.iter().map(|k| format!("\"{k}\"")).collect();
    format!(" (known: {})", quoted.join(", "))
}

/// An error for a key that `kind` does not take.
pub(super) fn not_for_kind<T>(
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

pub(super) fn convert_generator(
    cx: &Cx<'_>,
    secret: &str,
    g: &Spanned<RawGenerator>,
) -> Result<Generator, InventoryError> {
    let raw = g.get_ref();
    match raw.kind.get_ref().as_str() {
        "random" => {
            let hint = "a random generator takes `bytes` and `encoding`";
            not_for_kind(
                cx,
                secret,
                "generator",
                "length",
                raw.length.as_ref(),
                "random",
                hint,
            )?;
            not_for_kind(
                cx,
                secret,
                "generator",
                "alphabet",
                raw.alphabet.as_ref(),
                "random",
                hint,
            )?;
            let bytes = match &raw.bytes {
                Some(b) => {
                    let n = *b.get_ref();
                    if n < MIN_BYTES {
                        return Err(cx.err(
                            b.span(),
                            Some(secret),
                            format!(
                                "generator bytes = {n} is too small; use at least {MIN_BYTES} ({} bits)",
                                MIN_BYTES * 8
                            ),
                        ));
                    }
                    if n > MAX_BYTES {
                        return Err(cx.err(
                            b.span(),
                            Some(secret),
                            format!("generator bytes = {n} is too large; use at most {MAX_BYTES}"),
                        ));
                    }
                    n
                }
                None => DEFAULT_BYTES,
            };
            let encoding = match &raw.encoding {
                Some(e) => match e.get_ref().as_str() {
                    "hex" => Encoding::Hex,
                    "base64" => Encoding::Base64,
                    "base64url" => Encoding::Base64Url,
                    other => {
                        return Err(cx.err(
                            e.span(),
                            Some(secret),
                            format!(
                                "unknown generator encoding \"{other}\"; expected \"hex\", \"base64\" or \"base64url\""
                            ),
                        ))
                    }
                },
                None => Encoding::Base64Url,
            };
            Ok(Generator::Random {
                bytes: usize::try_from(bytes).unwrap_or(DEFAULT_BYTES as usize),
                encoding,
            })
        }
        "password" => {
            let hint = "a password generator takes `length` and `alphabet`";
            not_for_kind(
                cx,
                secret,
                "generator",
                "bytes",
                raw.bytes.as_ref(),
                "password",
                hint,
            )?;
            not_for_kind(
                cx,
                secret,
                "generator",
                "encoding",
                raw.encoding.as_ref(),
                "password",
                hint,
            )?;
            let alphabet = match &raw.alphabet {
                Some(a) => match a.get_ref().as_str() {
                    "alnum" => Alphabet::Alnum,
                    "urlsafe" => Alphabet::UrlSafe,
                    "printable" => Alphabet::Printable,
                    other => {
                        return Err(cx.err(
                            a.span(),
                            Some(secret),
                            format!(
                                "unknown generator alphabet \"{other}\"; expected \"alnum\", \"urlsafe\" or \"printable\""
                            ),
                        ))
                    }
                },
                None => Alphabet::UrlSafe,
            };
            let size = crate::generate::alphabet_chars(alphabet).len() as f64;
            let per_char = size.log2();
            let (length, span) = match &raw.length {
                Some(l) => (*l.get_ref(), l.span()),
                None => (DEFAULT_LENGTH, g.span()),
            };
            if length < 1 {
                return Err(cx.err(
                    span,
                    Some(secret),
                    format!("generator length = {length} must be positive"),
                ));
            }
            if length > MAX_LENGTH {
                return Err(cx.err(
                    span,
                    Some(secret),
                    format!("generator length = {length} is too large; use at most {MAX_LENGTH}"),
                ));
            }
            let bits = length as f64 * per_char;
            if bits < MIN_PASSWORD_BITS {
                let needed = (MIN_PASSWORD_BITS / per_char).ceil();
                return Err(cx.err(
                    span,
                    Some(secret),
                    format!(
                        "generator length = {length} with alphabet {} gives only {bits:.1} bits; use at least {needed} characters ({MIN_PASSWORD_BITS} bits)",
                        crate::generate::alphabet_name(alphabet)
                    ),
                ));
            }
            Ok(Generator::Password {
                length: usize::try_from(length).unwrap_or(DEFAULT_LENGTH as usize),
                alphabet,
            })
        }
        other => Err(cx.err(
            raw.kind.span(),
            Some(secret),
            format!("unknown generator kind \"{other}\"; expected \"random\" or \"password\""),
        )),
    }
}

pub(super) fn convert_strategy(
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
        other => Err(cx.err(
            raw.kind.span(),
            Some(secret),
            format!("unknown strategy kind \"{other}\"; expected \"cutover\" or \"overlap\""),
        )),
    }
}

pub(super) fn convert_target(
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
    Ok(DotenvTarget {
        path: resolve(base_dir, Path::new(t.path.get_ref())),
        var: var.clone(),
        previous_var: t.previous_var.as_ref().map(|p| p.get_ref().clone()),
        format,
        mode,
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
pub(super) struct Writers {
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

/// An argv from a TOML value: a non-empty array of strings.
pub(super) fn argv(
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

pub(super) fn convert_hooks(
    cx: &Cx<'_>,
    secret: &str,
    h: &Spanned<RawHooks>,
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
        .map(|v| convert_verify(cx, secret, v))
        .transpose()?;
    let retry = convert_retry(cx, secret, raw)?;
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
    })
}

/// `retries` and `retry_backoff` of `[secret.hooks]`; defaults when missing.
fn convert_retry(cx: &Cx<'_>, secret: &str, raw: &RawHooks) -> Result<Retry, InventoryError> {
    let default = Retry::default();
    let tries = match &raw.retries {
        Some(r) => {
            let n = *r.get_ref();
            match u32::try_from(n) {
                Ok(t) if (1..=MAX_TRIES).contains(&n) => t,
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

pub(super) fn convert_verify(
    cx: &Cx<'_>,
    secret: &str,
    v: &Spanned<RawVerify>,
) -> Result<Verify, InventoryError> {
    let raw = v.get_ref();
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
            if u.starts_with("https://") {
                return Err(cx.err(
                    url.span(),
                    Some(secret),
                    format!(
                        "https:// URLs are not supported by the http verify yet; use a command verify instead, e.g. verify = {{ command = [\"curl\", \"-fsS\", \"--max-time\", \"10\", \"{u}\"] }}"
                    ),
                ));
            }
            let rest = u.strip_prefix("http://").unwrap_or("");
            if rest.is_empty() || rest.starts_with('/') || u.chars().any(char::is_whitespace) {
                return Err(cx.err(
                    url.span(),
                    Some(secret),
                    format!("verify http = \"{u}\" is not an http:// URL with a host, e.g. \"http://127.0.0.1:8000/health\""),
                ));
            }
            let status = match &raw.status {
                Some(s) => {
                    let n = *s.get_ref();
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
