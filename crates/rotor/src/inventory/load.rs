//! Loading and validating `rotor.toml`: TOML is read into private raw
//! structs that keep source spans, then checked rule by rule and turned into
//! the model. Every error names the file, line, column and secret.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::InventoryError;
use super::model::{
    Alphabet, Command, DotenvFormat, DotenvTarget, Encoding, Generator, Hooks, Inventory,
    SecretSpec, StoreConfig, Strategy, TargetSpec, Verify,
};

/// File name looked for in the current directory.
const DEFAULT_FILE: &str = "rotor.toml";
/// Store directory when `[store] path` is not given.
const DEFAULT_STORE: &str = ".rotor";
/// Random generator defaults and limits.
const DEFAULT_BYTES: i64 = 32;
const MIN_BYTES: i64 = 16;
const MAX_BYTES: i64 = 4096;
/// Password generator defaults and limits.
const DEFAULT_LENGTH: i64 = 32;
const MAX_LENGTH: i64 = 4096;
const MIN_PASSWORD_BITS: f64 = 96.0;
/// Hook defaults.
const DEFAULT_RESTART_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Finds the inventory: the explicit path (from `--config` or `ROTOR_CONFIG`;
/// the caller decides which) or `./rotor.toml`. An explicit directory means
/// `rotor.toml` inside it.
pub fn find_inventory(explicit: Option<&Path>) -> Result<PathBuf, InventoryError> {
    find_in(explicit, Path::new(""))
}

/// [`find_inventory`] relative to `cwd` (empty for the process's own).
fn find_in(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf, InventoryError> {
    let candidate = match explicit {
        Some(p) => {
            let p = cwd.join(p);
            if p.is_dir() {
                p.join(DEFAULT_FILE)
            } else {
                p
            }
        }
        None => cwd.join(DEFAULT_FILE),
    };
    if candidate.is_file() {
        Ok(candidate)
    } else {
        Err(InventoryError::NotFound { path: candidate })
    }
}

/// Reads and validates the inventory at `path`.
pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            InventoryError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            InventoryError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    parse(&text, path)
}

/// Parses and validates inventory text. `path` is used in messages (as
/// given) and, made absolute, as the inventory's path and base directory.
pub fn parse(text: &str, path: &Path) -> Result<Inventory, InventoryError> {
    let cx = Cx::new(text, path);
    let raw: RawInventory = toml::from_str(text).map_err(|e| cx.toml_error(&e))?;

    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base_dir = abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));

    let store_path = match raw.store.as_ref().and_then(|s| s.get_ref().path.as_ref()) {
        Some(p) if p.get_ref().trim().is_empty() => {
            return Err(cx.err(
                p.span(),
                None,
                "store path is empty; omit it to use \".rotor\"",
            ));
        }
        Some(p) => PathBuf::from(p.get_ref()),
        None => PathBuf::from(DEFAULT_STORE),
    };
    let store = StoreConfig {
        path: resolve(&base_dir, &store_path),
    };

    // Names first, so `related` can refer to secrets declared later.
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    for s in &raw.secret {
        let name = &s.get_ref().name;
        check_name(&cx, name)?;
        let line = cx.line_col(name.span().start).0;
        if let Some(prev) = first_line.get(name.get_ref().as_str()) {
            return Err(cx.err(
                name.span(),
                Some(name.get_ref()),
                format!(
                    "duplicate secret name; \"{}\" is already declared on line {prev}",
                    name.get_ref()
                ),
            ));
        }
        first_line.insert(name.get_ref(), line);
    }

    let mut writers = Writers::default();
    let mut secrets = Vec::with_capacity(raw.secret.len());
    for s in &raw.secret {
        let spec = convert_secret(&cx, s.get_ref(), &first_line, &base_dir, &mut writers)?;
        secrets.push(spec);
    }

    Ok(Inventory {
        path: abs,
        base_dir,
        store,
        secrets,
    })
}

// ---------------------------------------------------------------------------
// Raw TOML shape. Private: only the model leaves this module.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    store: Option<Spanned<RawStore>>,
    #[serde(default)]
    secret: Vec<Spanned<RawSecret>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    name: Spanned<String>,
    description: Option<String>,
    owner: Option<String>,
    blast_radius: Option<String>,
    cadence: Option<Spanned<String>>,
    generator: Spanned<RawGenerator>,
    strategy: Option<Spanned<RawStrategy>>,
    #[serde(default)]
    related: Vec<Spanned<String>>,
    #[serde(default)]
    target: Vec<Spanned<RawTarget>>,
    hooks: Option<Spanned<RawHooks>>,
}

/// Both generator kinds' keys; which are allowed depends on `kind`, checked
/// by hand so the messages can say why.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGenerator {
    kind: Spanned<String>,
    bytes: Option<Spanned<i64>>,
    encoding: Option<Spanned<String>>,
    length: Option<Spanned<i64>>,
    alphabet: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStrategy {
    kind: Spanned<String>,
    window: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    kind: Spanned<String>,
    path: Spanned<String>,
    var: Spanned<String>,
    previous_var: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHooks {
    /// Any TOML value, so a shell string gets a helpful message.
    restart: Option<Spanned<toml::Value>>,
    restart_timeout: Option<Spanned<String>>,
    verify: Option<Spanned<RawVerify>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerify {
    http: Option<Spanned<String>>,
    status: Option<Spanned<i64>>,
    command: Option<Spanned<toml::Value>>,
    timeout: Option<Spanned<String>>,
}

// ---------------------------------------------------------------------------
// Error positions.

/// The text being parsed and its path, for building errors.
struct Cx<'a> {
    text: &'a str,
    path: &'a Path,
    /// Byte offset where each line starts, so positions cost a binary
    /// search rather than a scan (inventories can hold thousands of secrets).
    line_starts: Vec<usize>,
}

impl<'a> Cx<'a> {
    fn new(text: &'a str, path: &'a Path) -> Cx<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Cx {
            text,
            path,
            line_starts,
        }
    }
}

impl Cx<'_> {
    /// An `Invalid` error at the start of `span`.
    fn err(
        &self,
        span: Range<usize>,
        secret: Option<&str>,
        message: impl Into<String>,
    ) -> InventoryError {
        let (line, col) = self.line_col(span.start);
        InventoryError::Invalid {
            path: self.path.to_path_buf(),
            line,
            col,
            secret: secret.map(str::to_owned),
            message: message.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // index of the last line start at or before offset
        let idx = self.line_starts.partition_point(|&st| st <= offset).max(1) - 1;
        let line_start = self.line_starts[idx];
        let col = self.text[line_start..offset].chars().count() + 1;
        let line = idx + 1;
        (line, col)
    }

    /// Turns a TOML syntax or shape error into `Invalid`, attributing it to
    /// the secret whose table it falls in.
    fn toml_error(&self, e: &toml::de::Error) -> InventoryError {
        let span = e.span().unwrap_or(0..0);
        let secret = self.secret_at(span.start);
        let mut message = e.message().trim().to_owned();
        if message.starts_with("unknown field") {
            message.push_str(" (check the key's spelling and the table it is in)");
        }
        self.err(span, secret.as_deref(), message)
    }

    /// Name of the `[[secret]]` whose table contains `offset`, if the text
    /// parses loosely (unknown keys ignored) and one does.
    fn secret_at(&self, offset: usize) -> Option<String> {
        #[derive(Deserialize)]
        struct Loose {
            #[serde(default)]
            secret: Vec<Spanned<LooseSecret>>,
        }
        #[derive(Deserialize)]
        struct LooseSecret {
            name: Option<toml::Value>,
        }
        let loose: Loose = toml::from_str(self.text).ok()?;
        let owner = loose
            .secret
            .iter()
            .rev()
            .find(|s| s.span().start <= offset)?;
        let start = owner.span().start;
        // A later top-level table header (other than the secret's own
        // sub-tables) ends the secret's table.
        let between = self.text.get(start..offset)?;
        let ended = between.lines().skip(1).any(|l| {
            let l = l.trim_start();
            l.starts_with('[') && !l.starts_with("[[secret") && !l.starts_with("[secret.")
        });
        if ended {
            return None;
        }
        match owner.get_ref().name.as_ref()? {
            toml::Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Rules.

fn check_name(cx: &Cx<'_>, name: &Spanned<String>) -> Result<(), InventoryError> {
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
fn suggest_name(n: &str) -> String {
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

fn is_var_name(v: &str) -> bool {
    let mut chars = v.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a humantime duration (`90d`, `12h`, `1y`); zero is refused.
fn duration(
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
    Ok(d)
}

/// `base_dir.join(p)` unless `p` is absolute.
fn resolve(base_dir: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}

fn convert_secret(
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
fn check_window(
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

fn known_list(mut known: Vec<&str>) -> String {
    if known.is_empty() {
        return String::new();
    }
    known.sort_unstable();
    let quoted: Vec<String> = known.iter().map(|k| format!("\"{k}\"")).collect();
    format!(" (known: {})", quoted.join(", "))
}

/// An error for a key that `kind` does not take.
fn not_for_kind<T>(
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

fn convert_generator(
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

fn convert_strategy(
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

fn convert_target(
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
    Ok(DotenvTarget {
        path: resolve(base_dir, Path::new(t.path.get_ref())),
        var: var.clone(),
        previous_var: t.previous_var.as_ref().map(|p| p.get_ref().clone()),
        format,
    })
}

/// Every (file, variable) written so far, to refuse two writers of one.
#[derive(Default)]
struct Writers {
    seen: HashMap<(PathBuf, String), (String, usize)>,
}

impl Writers {
    fn claim(
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
fn argv(
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

fn convert_hooks(
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
    Ok(Hooks { restart, verify })
}

fn convert_verify(
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Parses `text` as `rotor.toml` and returns the error's parts.
    fn invalid(text: &str) -> (usize, usize, Option<String>, String) {
        match parse(text, Path::new("rotor.toml")) {
            Err(InventoryError::Invalid {
                path,
                line,
                col,
                secret,
                message,
            }) => {
                assert_eq!(path, Path::new("rotor.toml"));
                (line, col, secret, message)
            }
            Err(e) => panic!("expected Invalid, got {e}"),
            Ok(_) => panic!("expected an error for:\n{text}"),
        }
    }

    /// Asserts an error at `line:col` on `secret` whose message contains `needle`.
    #[track_caller]
    fn assert_invalid(text: &str, line: usize, col: usize, secret: Option<&str>, needle: &str) {
        let (l, c, s, m) = invalid(text);
        assert_eq!(
            (l, c, s.as_deref()),
            (line, col, secret),
            "position/secret for message: {m}"
        );
        assert!(m.contains(needle), "{m:?} lacks {needle:?}");
    }

    fn ok(text: &str) -> Inventory {
        match parse(text, Path::new("/srv/app/rotor.toml")) {
            Ok(inv) => inv,
            Err(e) => panic!("{e}"),
        }
    }

    /// One valid secret; tests append to or edit it.
    const JWT: &str = r#"[[secret]]
name = "jwt"
generator = { kind = "random" }
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "JWT_SECRET"
"#;

    #[test]
    fn minimal_secret_gets_defaults() {
        let inv = ok(JWT);
        assert_eq!(inv.path, Path::new("/srv/app/rotor.toml"));
        assert_eq!(inv.base_dir, Path::new("/srv/app"));
        assert_eq!(inv.store.path, Path::new("/srv/app/.rotor"));
        let s = &inv.secrets[0];
        assert_eq!(s.name, "jwt");
        assert_eq!(s.line, 2);
        assert_eq!(
            s.generator,
            Generator::Random {
                bytes: 32,
                encoding: Encoding::Base64Url
            }
        );
        assert_eq!(s.strategy, Strategy::Cutover);
        assert_eq!(s.cadence, None);
        assert!(s.related.is_empty());
        assert_eq!(s.hooks, Hooks::default());
        assert_eq!(
            s.targets,
            vec![TargetSpec::Dotenv(DotenvTarget {
                path: PathBuf::from("/srv/app/.env"),
                var: "JWT_SECRET".into(),
                previous_var: None,
                format: DotenvFormat::Pair,
            })]
        );
    }

    #[test]
    fn full_secret() {
        let inv = ok(r#"
[store]
path = "/var/lib/rotor"

[[secret]]
name = "jwt"
description = "Signs tokens"
owner = "security"
blast_radius = "All sessions"
cadence = "90d"
generator = { kind = "password", length = 40, alphabet = "printable" }
strategy = { kind = "overlap", window = "31d" }
related = ["session"]

[[secret.target]]
kind = "dotenv"
path = "app/.env"
var = "JWT_SECRET"
previous_var = "JWT_SECRET_PREVIOUS"
format = "pair"

[[secret.target]]
kind = "dotenv"
path = "/etc/worker.env"
var = "JWT_KEYS"
format = "list"

[secret.hooks]
restart = ["systemctl", "restart", "api"]
restart_timeout = "2m"
verify = { http = "http://127.0.0.1:8000/health", status = 204, timeout = "5s" }

[[secret]]
name = "session"
cadence = "1y"
generator = { kind = "random", bytes = 64, encoding = "hex" }
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "SESSION_SECRET"
[secret.hooks]
verify = { command = ["./smoke.sh", "--quick"] }
"#);
        assert_eq!(inv.store.path, Path::new("/var/lib/rotor"));
        let jwt = inv.secret("jwt").unwrap();
        assert_eq!(jwt.line, 6);
        assert_eq!(jwt.description.as_deref(), Some("Signs tokens"));
        assert_eq!(jwt.owner.as_deref(), Some("security"));
        assert_eq!(jwt.blast_radius.as_deref(), Some("All sessions"));
        assert_eq!(jwt.cadence, Some(Duration::from_secs(90 * 86_400)));
        assert_eq!(
            jwt.generator,
            Generator::Password {
                length: 40,
                alphabet: Alphabet::Printable
            }
        );
        assert_eq!(
            jwt.strategy,
            Strategy::Overlap {
                window: Duration::from_secs(31 * 86_400)
            }
        );
        assert_eq!(jwt.related, vec!["session".to_owned()]);
        assert_eq!(jwt.targets.len(), 2);
        assert_eq!(jwt.targets[0].path(), Path::new("/srv/app/app/.env"));
        assert_eq!(jwt.targets[1].path(), Path::new("/etc/worker.env"));
        let TargetSpec::Dotenv(list) = &jwt.targets[1];
        assert_eq!(list.format, DotenvFormat::List);
        assert_eq!(
            jwt.hooks.restart,
            Some(Command {
                argv: vec!["systemctl".into(), "restart".into(), "api".into()],
                timeout: Duration::from_secs(120),
            })
        );
        assert_eq!(
            jwt.hooks.verify,
            Some(Verify::Http {
                url: "http://127.0.0.1:8000/health".into(),
                status: 204,
                timeout: Duration::from_secs(5),
            })
        );
        let session = inv.secret("session").unwrap();
        assert_eq!(
            session.generator,
            Generator::Random {
                bytes: 64,
                encoding: Encoding::Hex
            }
        );
        assert!(session.cadence.unwrap() > Duration::from_secs(365 * 86_400));
        assert_eq!(
            session.hooks.verify,
            Some(Verify::Command(Command {
                argv: vec!["./smoke.sh".into(), "--quick".into()],
                timeout: Duration::from_secs(30),
            }))
        );
        assert_eq!(session.hooks.restart, None);
    }

    #[test]
    fn hook_defaults() {
        let inv = ok(&format!(
            "{JWT}[secret.hooks]\nrestart = [\"true\"]\nverify = {{ http = \"http://localhost/\" }}\n"
        ));
        let h = &inv.secrets[0].hooks;
        assert_eq!(h.restart.as_ref().unwrap().timeout, Duration::from_secs(60));
        assert_eq!(
            h.verify,
            Some(Verify::Http {
                url: "http://localhost/".into(),
                status: 200,
                timeout: Duration::from_secs(10),
            })
        );
    }

    #[test]
    fn empty_inventory_is_valid() {
        let inv = ok("# nothing yet\n");
        assert!(inv.secrets.is_empty());
        assert_eq!(inv.store.path, Path::new("/srv/app/.rotor"));
    }

    #[test]
    fn relative_path_is_made_absolute() {
        let inv = parse(JWT, Path::new("rotor.toml")).unwrap();
        assert!(inv.path.is_absolute());
        assert!(inv.base_dir.is_absolute());
        assert_eq!(inv.store.path, inv.base_dir.join(".rotor"));
    }

    #[test]
    fn display_names_file_line_col_and_secret() {
        let text = JWT.replace("kind = \"random\" }", "kind = \"random\", bytes = 8 }");
        let e = parse(&text, Path::new("rotor.toml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "rotor.toml:3:40: secret \"jwt\": generator bytes = 8 is too small; use at least 16 (128 bits)"
        );
        let e = parse("x = 1\n", Path::new("conf/rotor.toml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("conf/rotor.toml:1:1: unknown field `x`"),
            "{e}"
        );
    }

    #[test]
    fn malformed_toml() {
        assert_invalid("[[secret]]\nname = = \"a\"\n", 2, 8, None, "extra `=`");
        assert_invalid("[store\n", 1, 7, None, "");
    }

    #[test]
    fn unknown_keys() {
        assert_invalid("[store]\ndir = \"x\"\n", 2, 1, None, "unknown field `dir`");
        assert_invalid(
            &format!("{JWT}colour = \"red\"\n"),
            8,
            1,
            Some("jwt"),
            "unknown field `colour`",
        );
        assert_invalid(
            &JWT.replace("{ kind = \"random\" }", "{ kind = \"random\", size = 3 }"),
            3,
            32,
            Some("jwt"),
            "unknown field `size`",
        );
        // A key in a sub-table of the second secret is attributed to it.
        let two = format!("{JWT}{}", JWT.replace("jwt", "b").replace("JWT_", "B_"));
        assert_invalid(
            &format!("{two}[secret.hooks]\nrestrat = [\"x\"]\n"),
            16,
            1,
            Some("b"),
            "unknown field `restrat`",
        );
        // A table after the secrets is not blamed on the last one.
        assert_invalid(
            &format!("{JWT}[other]\nx = 1\n"),
            8,
            2,
            None,
            "unknown field `other`",
        );
    }

    #[test]
    fn missing_required_fields() {
        assert_invalid(
            "[[secret]]\nname = \"a\"\n",
            1,
            1,
            Some("a"),
            "missing field `generator`",
        );
        assert_invalid(
            &JWT.replace("var = \"JWT_SECRET\"\n", ""),
            4,
            1,
            Some("jwt"),
            "missing field `var`",
        );
    }

    #[test]
    fn wrong_value_types() {
        assert_invalid(
            "[[secret]]\nname = 5\n",
            2,
            8,
            None,
            "invalid type: integer `5`, expected a string",
        );
    }

    #[test]
    fn generator_kind_encoding_alphabet() {
        assert_invalid(
            &JWT.replace("\"random\"", "\"rsa\""),
            3,
            22,
            Some("jwt"),
            "unknown generator kind \"rsa\"; expected \"random\" or \"password\"",
        );
        assert_invalid(
            &JWT.replace("\"random\" }", "\"random\", encoding = \"base32\" }"),
            3,
            43,
            Some("jwt"),
            "unknown generator encoding \"base32\"",
        );
        assert_invalid(
            &JWT.replace("\"random\" }", "\"password\", alphabet = \"emoji\" }"),
            3,
            45,
            Some("jwt"),
            "unknown generator alphabet \"emoji\"",
        );
        assert_invalid(
            &JWT.replace("\"random\" }", "\"random\", length = 40 }"),
            3,
            41,
            Some("jwt"),
            "`length` does not apply to kind = \"random\"",
        );
        assert_invalid(
            &JWT.replace("\"random\" }", "\"password\", encoding = \"hex\" }"),
            3,
            45,
            Some("jwt"),
            "`encoding` does not apply to kind = \"password\"",
        );
    }

    #[test]
    fn generator_strength() {
        assert_invalid(
            &JWT.replace("\"random\" }", "\"random\", bytes = 15 }"),
            3,
            40,
            Some("jwt"),
            "bytes = 15 is too small; use at least 16 (128 bits)",
        );
        assert_invalid(
            &JWT.replace("\"random\" }", "\"random\", bytes = -1 }"),
            3,
            40,
            Some("jwt"),
            "too small",
        );
        // urlsafe: 6 bits a character, 15 * 6 = 90 < 96.
        assert_invalid(
            &JWT.replace("\"random\" }", "\"password\", length = 15 }"),
            3,
            43,
            Some("jwt"),
            "length = 15 with alphabet urlsafe gives only 90.0 bits; use at least 16 characters (96 bits)",
        );
        assert_invalid(
            &JWT.replace(
                "\"random\" }",
                "\"password\", length = 16, alphabet = \"alnum\" }",
            ),
            3,
            43,
            Some("jwt"),
            "gives only 95.3 bits; use at least 17 characters",
        );
        assert_invalid(
            &JWT.replace("\"random\" }", "\"password\", length = 0 }"),
            3,
            43,
            Some("jwt"),
            "must be positive",
        );
        // The smallest accepted lengths.
        for (len, alphabet) in [(16, "urlsafe"), (17, "alnum"), (15, "printable")] {
            let text = JWT.replace(
                "\"random\" }",
                &format!("\"password\", length = {len}, alphabet = \"{alphabet}\" }}"),
            );
            ok(&text);
        }
    }

    #[test]
    fn strategy_rules() {
        let with = |strategy: &str| {
            JWT.replace(
                "generator = { kind = \"random\" }\n",
                &format!("generator = {{ kind = \"random\" }}\nstrategy = {strategy}\n"),
            )
        };
        assert_invalid(
            &with("{ kind = \"blue-green\" }"),
            4,
            21,
            Some("jwt"),
            "unknown strategy kind \"blue-green\"; expected \"cutover\" or \"overlap\"",
        );
        assert_invalid(
            &with("{ kind = \"cutover\", window = \"1d\" }"),
            4,
            41,
            Some("jwt"),
            "`window` does not apply to kind = \"cutover\"",
        );
        assert_invalid(
            &with("{ kind = \"overlap\" }"),
            4,
            12,
            Some("jwt"),
            "overlap needs a window",
        );
        assert_invalid(
            &with("{ kind = \"overlap\", window = \"31x\" }"),
            4,
            41,
            Some("jwt"),
            "window = \"31x\" is not a duration",
        );
        // Overlap with a pair target but no previous_var.
        assert_invalid(
            &with("{ kind = \"overlap\", window = \"1d\" }"),
            8,
            7,
            Some("jwt"),
            "the previous value would have nowhere to go",
        );
        // ... fine with format = "list".
        ok(&with("{ kind = \"overlap\", window = \"1d\" }").replace(
            "var = \"JWT_SECRET\"\n",
            "var = \"JWT_SECRET\"\nformat = \"list\"\n",
        ));
    }

    #[test]
    fn overlap_window_shorter_than_cadence() {
        let text = JWT.replace(
            "generator = { kind = \"random\" }\n",
            "cadence = \"30d\"\ngenerator = { kind = \"random\" }\nstrategy = { kind = \"overlap\", window = \"31d\" }\n",
        )
        .replace("var = \"JWT_SECRET\"\n", "var = \"JWT_SECRET\"\nformat = \"list\"\n");
        assert_invalid(
            &text,
            5,
            41,
            Some("jwt"),
            "overlap window = \"31d\" is not shorter than cadence = \"30d\"",
        );
        ok(&text.replace("31d", "29d"));
    }

    #[test]
    fn bad_durations() {
        assert_invalid(
            &JWT.replace(
                "name = \"jwt\"\n",
                "name = \"jwt\"\ncadence = \"90 days-ish\"\n",
            ),
            3,
            11,
            Some("jwt"),
            "cadence = \"90 days-ish\" is not a duration",
        );
        assert_invalid(
            &JWT.replace("name = \"jwt\"\n", "name = \"jwt\"\ncadence = \"0s\"\n"),
            3,
            11,
            Some("jwt"),
            "cadence must be longer than zero",
        );
        assert_invalid(
            &format!("{JWT}[secret.hooks]\nrestart = [\"x\"]\nrestart_timeout = \"soon\"\n"),
            10,
            19,
            Some("jwt"),
            "restart_timeout = \"soon\" is not a duration",
        );
        assert_invalid(
            &format!("{JWT}[secret.hooks]\nverify = {{ command = [\"x\"], timeout = \"-1s\" }}\n"),
            9,
            39,
            Some("jwt"),
            "verify timeout = \"-1s\" is not a duration",
        );
    }

    #[test]
    fn names() {
        let two = format!("{JWT}\n{}", JWT.replace("JWT_SECRET", "OTHER"));
        assert_invalid(
            &two,
            10,
            8,
            Some("jwt"),
            "duplicate secret name; \"jwt\" is already declared on line 2",
        );
        assert_invalid(
            &JWT.replace("\"jwt\"", "\"JWT Secret\""),
            2,
            8,
            Some("JWT Secret"),
            "name contains 'J'; use only lowercase letters, digits, '_' and '-' (e.g. \"jwt_secret\")",
        );
        assert_invalid(
            &JWT.replace("\"jwt\"", "\"\""),
            2,
            8,
            None,
            "secret name is empty",
        );
    }

    #[test]
    fn related_rules() {
        let with = |related: &str| {
            JWT.replace(
                "name = \"jwt\"\n",
                &format!("name = \"jwt\"\nrelated = {related}\n"),
            )
        };
        assert_invalid(
            &with("[\"sesion\"]"),
            3,
            12,
            Some("jwt"),
            "related names \"sesion\", which is not a secret in this inventory",
        );
        assert_invalid(
            &with("[\"jwt\"]"),
            3,
            12,
            Some("jwt"),
            "related names the secret itself",
        );
        // A later secret may be named, and its name is offered as a hint.
        let later = format!(
            "{}{}",
            with("[\"session\"]"),
            JWT.replace("jwt", "session").replace("JWT_SECRET", "S")
        );
        assert_eq!(ok(&later).secrets[0].related, vec!["session".to_owned()]);
        let (_, _, _, m) = invalid(&later.replace("[\"session\"]", "[\"sess\"]"));
        assert!(m.ends_with("(known: \"session\")"), "{m}");
        assert_invalid(
            &later.replace("[\"session\"]", "[\"session\", \"session\"]"),
            3,
            23,
            Some("jwt"),
            "related lists \"session\" twice",
        );
    }

    #[test]
    fn target_rules() {
        assert_invalid(
            "[[secret]]\nname = \"a\"\ngenerator = { kind = \"random\" }\n",
            2,
            8,
            Some("a"),
            "no targets: add at least one [[secret.target]]",
        );
        assert_invalid(
            "[[secret]]\nname = \"a\"\ngenerator = { kind = \"random\" }\ntarget = []\n",
            2,
            8,
            Some("a"),
            "no targets",
        );
        assert_invalid(
            &JWT.replace("\"dotenv\"", "\"vault\""),
            5,
            8,
            Some("jwt"),
            "unknown target kind \"vault\"; expected \"dotenv\"",
        );
        assert_invalid(
            &JWT.replace("\"JWT_SECRET\"", "\"JWT-SECRET\""),
            7,
            7,
            Some("jwt"),
            "var = \"JWT-SECRET\" is not a variable name",
        );
        assert_invalid(
            &JWT.replace("\"JWT_SECRET\"", "\"1JWT\""),
            7,
            7,
            Some("jwt"),
            "not a variable name",
        );
        assert_invalid(
            &JWT.replace(
                "var = \"JWT_SECRET\"\n",
                "var = \"JWT_SECRET\"\nformat = \"yaml\"\n",
            ),
            8,
            10,
            Some("jwt"),
            "unknown target format \"yaml\"; expected \"pair\" or \"list\"",
        );
        assert_invalid(
            &JWT.replace(".env", ""),
            6,
            8,
            Some("jwt"),
            "target path is empty",
        );
    }

    #[test]
    fn previous_var_rules() {
        let overlap = JWT.replace(
            "generator = { kind = \"random\" }\n",
            "generator = { kind = \"random\" }\nstrategy = { kind = \"overlap\", window = \"1d\" }\n",
        );
        let add = |text: &str, extra: &str| {
            text.replace(
                "var = \"JWT_SECRET\"\n",
                &format!("var = \"JWT_SECRET\"\n{extra}\n"),
            )
        };
        assert_invalid(
            &add(JWT, "previous_var = \"JWT_SECRET_PREVIOUS\""),
            8,
            16,
            Some("jwt"),
            "previous_var does not apply to a cutover",
        );
        assert_invalid(
            &add(&overlap, "previous_var = \"OLD\"\nformat = \"list\""),
            9,
            16,
            Some("jwt"),
            "previous_var does not apply to format = \"list\"",
        );
        assert_invalid(
            &add(&overlap, "previous_var = \"JWT_SECRET\""),
            9,
            16,
            Some("jwt"),
            "previous_var is the same as var",
        );
        assert_invalid(
            &add(&overlap, "previous_var = \"OLD JWT\""),
            9,
            16,
            Some("jwt"),
            "previous_var = \"OLD JWT\" is not a variable name",
        );
        let good = ok(&add(&overlap, "previous_var = \"JWT_SECRET_PREVIOUS\""));
        let TargetSpec::Dotenv(t) = &good.secrets[0].targets[0];
        assert_eq!(t.previous_var.as_deref(), Some("JWT_SECRET_PREVIOUS"));
    }

    #[test]
    fn one_writer_per_file_and_variable() {
        let other = |var: &str, path: &str| {
            format!(
                "\n[[secret]]\nname = \"other\"\ngenerator = {{ kind = \"random\" }}\nstrategy = {{ kind = \"overlap\", window = \"1h\" }}\n[[secret.target]]\nkind = \"dotenv\"\npath = \"{path}\"\nvar = \"{var}\"\nprevious_var = \"OTHER_PREVIOUS\"\n"
            )
        };
        // Same var, same file (spelt differently).
        assert_invalid(
            &format!("{JWT}{}", other("JWT_SECRET", "./.env")),
            16,
            7,
            Some("other"),
            "JWT_SECRET in ./.env is already written by secret \"jwt\" (line 7)",
        );
        // Same var in another file is fine.
        ok(&format!("{JWT}{}", other("JWT_SECRET", "api/.env")));
        // previous_var colliding with another secret's var.
        let prev = JWT.replace("JWT_SECRET", "OTHER_PREVIOUS");
        assert_invalid(
            &format!("{prev}{}", other("OTHER", ".env")),
            17,
            16,
            Some("other"),
            "OTHER_PREVIOUS in .env is already written by secret \"jwt\"",
        );
        // Two targets of one secret writing the same variable.
        let twice = format!(
            "{JWT}[[secret.target]]\nkind = \"dotenv\"\npath = \".env\"\nvar = \"JWT_SECRET\"\n"
        );
        assert_invalid(
            &twice,
            11,
            7,
            Some("jwt"),
            "already written by this secret (line 7)",
        );
    }

    #[test]
    fn hook_rules() {
        let hooks = |body: &str| format!("{JWT}[secret.hooks]\n{body}\n");
        assert_invalid(
            &hooks("restart = \"systemctl restart api\""),
            9,
            11,
            Some("jwt"),
            "restart is a shell string; use an argv array, e.g. restart = [\"systemctl\", \"restart\", \"api\"]",
        );
        assert_invalid(
            &hooks("restart = []"),
            9,
            11,
            Some("jwt"),
            "restart is empty",
        );
        assert_invalid(
            &hooks("restart = [\"\"]"),
            9,
            11,
            Some("jwt"),
            "empty program name",
        );
        assert_invalid(
            &hooks("restart = [\"sleep\", 5]"),
            9,
            11,
            Some("jwt"),
            "must be an array of strings; found a integer",
        );
        assert_invalid(
            &hooks("restart_timeout = \"5s\""),
            9,
            19,
            Some("jwt"),
            "restart_timeout is set but there is no restart command",
        );
        assert_invalid(
            &hooks("verify = { http = \"https://api.example.com/health\" }"),
            9,
            19,
            Some("jwt"),
            "https:// URLs are not supported by the http verify yet; use a command verify instead, e.g. verify = { command = [\"curl\", \"-fsS\"",
        );
        assert_invalid(
            &hooks("verify = { http = \"localhost:8000\" }"),
            9,
            19,
            Some("jwt"),
            "is not an http:// URL",
        );
        assert_invalid(
            &hooks("verify = { http = \"http://x/\", status = 1000 }"),
            9,
            41,
            Some("jwt"),
            "status = 1000 is not an HTTP status",
        );
        assert_invalid(
            &hooks("verify = { command = [\"./smoke.sh\"], status = 200 }"),
            9,
            47,
            Some("jwt"),
            "`status` applies only to an http verify",
        );
        assert_invalid(
            &hooks("verify = { http = \"http://x/\", command = [\"true\"] }"),
            9,
            42,
            Some("jwt"),
            "either `http` or `command`, not both",
        );
        assert_invalid(
            &hooks("verify = { }"),
            9,
            10,
            Some("jwt"),
            "verify needs `http`",
        );
        assert_invalid(
            &hooks("verify = { command = \"./smoke.sh --all\" }"),
            9,
            22,
            Some("jwt"),
            "command is a shell string; use an argv array, e.g. command = [\"./smoke.sh\", \"--all\"]",
        );
    }

    #[test]
    fn store_rules() {
        assert_invalid("[store]\npath = \"\"\n", 2, 8, None, "store path is empty");
        let inv = ok("[store]\npath = \"state/rotor\"\n");
        assert_eq!(inv.store.path, Path::new("/srv/app/state/rotor"));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = JWT.replace(
            "name = \"jwt\"\n",
            "description = \"clé\"\nname = \"jwt\"\n",
        );
        let text = text.replace("description = \"clé\"", "description = \"clé\", x = 1");
        // `description = "clé", x` is not valid TOML: error after the é.
        let (line, col, _, _) = invalid(&text);
        assert_eq!((line, col), (2, 20));
    }

    #[test]
    fn find_inventory_explicit_default_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = find_in(None, dir.path()).unwrap_err();
        assert!(
            matches!(&missing, InventoryError::NotFound { path } if path == &dir.path().join("rotor.toml"))
        );
        let msg = missing.to_string();
        assert!(
            msg.contains("create one, or pass --config / ROTOR_CONFIG"),
            "{msg}"
        );

        std::fs::write(dir.path().join("rotor.toml"), JWT).unwrap();
        assert_eq!(
            find_in(None, dir.path()).unwrap(),
            dir.path().join("rotor.toml")
        );
        // An explicit directory means the rotor.toml inside it.
        assert_eq!(
            find_in(Some(dir.path()), Path::new("/")).unwrap(),
            dir.path().join("rotor.toml")
        );
        let other = dir.path().join("prod.toml");
        assert!(matches!(
            find_in(Some(&other), dir.path()),
            Err(InventoryError::NotFound { .. })
        ));
        std::fs::write(&other, JWT).unwrap();
        assert_eq!(
            find_in(Some(Path::new("prod.toml")), dir.path()).unwrap(),
            other
        );
        assert_eq!(find_inventory(Some(&other)).unwrap(), other);
    }

    #[test]
    fn load_reads_files_and_reports_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rotor.toml");
        assert!(matches!(load(&path), Err(InventoryError::NotFound { .. })));
        std::fs::write(&path, JWT).unwrap();
        let inv = load(&path).unwrap();
        assert_eq!(inv.base_dir, dir.path());
        assert_eq!(inv.secrets[0].targets[0].path(), dir.path().join(".env"));
        // A directory cannot be read as a file.
        assert!(matches!(load(dir.path()), Err(InventoryError::Io { .. })));
    }

    #[test]
    fn example_inventories_load() {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples"));

        let nis2 = load(&root.join("nis2/rotor.toml")).unwrap();
        assert_eq!(nis2.secrets.len(), 2);
        let jwt = nis2.secret("jwt").unwrap();
        assert_eq!(
            jwt.generator,
            Generator::Random {
                bytes: 32,
                encoding: Encoding::Base64
            }
        );
        assert_eq!(jwt.cadence, Some(Duration::from_secs(90 * 86_400)));
        assert_eq!(jwt.strategy.kind(), "overlap");
        assert_eq!(jwt.related, vec!["nextauth".to_owned()]);
        let nextauth = nis2.secret("nextauth").unwrap();
        assert_eq!(nextauth.strategy, Strategy::Cutover);
        for s in &nis2.secrets {
            assert_eq!(s.hooks, Hooks::default(), "examples must run without hooks");
            assert!(s.owner.is_some() && s.blast_radius.is_some() && s.description.is_some());
        }

        let forge = load(&root.join("api-forge/rotor.toml")).unwrap();
        let names: Vec<&str> = forge.secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["session", "csrf"]);
        for (name, window_h) in [("session", 2), ("csrf", 13)] {
            let s = forge.secret(name).unwrap();
            assert_eq!(s.cadence, Some(Duration::from_secs(30 * 86_400)));
            assert_eq!(
                s.strategy,
                Strategy::Overlap {
                    window: Duration::from_secs(window_h * 3600)
                }
            );
            assert_eq!(s.hooks, Hooks::default());
        }

        // Every variable the inventories manage appears in their env.example.
        for (dir, inv) in [("nis2", &nis2), ("api-forge", &forge)] {
            let sample = std::fs::read_to_string(root.join(dir).join("env.example")).unwrap();
            for s in &inv.secrets {
                let TargetSpec::Dotenv(t) = &s.targets[0];
                assert!(
                    sample
                        .lines()
                        .any(|l| l.starts_with(&format!("{}=", t.var))),
                    "{dir}/env.example lacks {}",
                    t.var
                );
            }
        }
    }
}
