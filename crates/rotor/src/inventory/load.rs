//! Loading and validating `rotor.toml`: TOML is read into private raw
//! structs that keep source spans, then checked rule by rule and turned into
//! the model. Every error names the file, line, column and secret.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::InventoryError;
use super::model::{Inventory, Limits, StoreConfig};
use super::position::Cx;
use super::raw::{RawInventory, RawSize};
use super::rules::{check_hook_env, check_name, convert_secret, resolve, Writers};

/// File name looked for in the current directory.
const DEFAULT_FILE: &str = "rotor.toml";
/// Store directory when `[store] path` is not given.
const DEFAULT_STORE: &str = ".rotor";

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
    let mut cx = Cx::new(text, path);
    let raw: RawInventory = toml::from_str(text).map_err(|e| cx.toml_error(&e))?;
    let limits = limits(&cx, &raw)?;
    cx.max_file_size = limits.max_file_size;

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
        let spec = convert_secret(
            &cx,
            s.get_ref(),
            s.span(),
            &first_line,
            &base_dir,
            &mut writers,
        )?;
        secrets.push(spec);
    }
    writers.check_same_files(&cx, &store.path)?;
    check_hook_env(&cx, &raw.secret)?;

    Ok(Inventory {
        path: abs,
        base_dir,
        store,
        limits,
        secrets,
        index: Default::default(),
    })
}

/// `[limits]`, with defaults for what it leaves out.
fn limits(cx: &Cx<'_>, raw: &RawInventory) -> Result<Limits, InventoryError> {
    let mut out = Limits::default();
    let Some(size) = raw
        .limits
        .as_ref()
        .and_then(|l| l.get_ref().max_file_size.as_ref())
    else {
        return Ok(out);
    };
    let bytes = match size.get_ref() {
        RawSize::Bytes(n) => u64::try_from(*n).ok(),
        RawSize::Text(t) => parse_size(t),
    };
    match bytes {
        Some(n) if n > 0 => {
            out.max_file_size = n;
            Ok(out)
        }
        _ => Err(cx.err(
            size.span(),
            None,
            "max_file_size must be a positive size: bytes (16777216) or a number with B, KiB, MiB or GiB (\"16 MiB\")",
        )),
    }
}

/// `"16 MiB"`, `"512KiB"`, `"100 B"`, `"4096"` in bytes.
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(factor)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "load_tests.rs"]
mod tests;
