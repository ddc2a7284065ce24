//! Temp files that a killed rotor left behind. [`super::atomic::replace`]
//! writes the new bytes to `NAME.rotor-tmp.PID.N` beside the file `NAME`
//! (0600, holding the secret) and renames it over `NAME`; a kill between the
//! two leaves the temp file. The name starts with the target's own name, so
//! the target's ignore rule (`.env*` for `.env`) covers it too.
//!
//! [`sweep`] finds the temp files beside managed files whose owner process is
//! gone, and removes them. A temp file of a live process is that process's
//! work in progress and is left alone. Liveness is this machine's `/proc`:
//! a temp file on a shared file system written by a rotor on another host
//! looks dead here (its rename then fails, and that rotor refuses before
//! changing anything). Older rotors named temp files `.NAME.rotor-tmp.PID.N`;
//! those are found too.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// What separates a file's name from the owner and counter in a temp name.
pub const MARK: &str = ".rotor-tmp.";

/// `NAME.rotor-tmp.PID.N`.
pub fn temp_name(name: &OsStr, pid: u32, n: u64) -> OsString {
    let mut out = name.to_os_string();
    out.push(format!("{MARK}{pid}.{n}"));
    out
}

/// For a temp name: the name of the file it replaces (without the leading
/// dot of the old naming, which is tried too) and its owner's pid.
fn parse(entry: &OsStr) -> Option<(&[u8], u32)> {
    let bytes = entry.as_encoded_bytes();
    let mark = MARK.as_bytes();
    let at = bytes.windows(mark.len()).rposition(|w| w == mark)?;
    let (base, rest) = (&bytes[..at], &bytes[at + mark.len()..]);
    let rest = std::str::from_utf8(rest).ok()?;
    let (pid, n) = rest.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if base.is_empty() || !digits(pid) || !digits(n) {
        return None;
    }
    Some((base, pid.parse().ok()?))
}

/// Whether a process with this pid runs on this machine. Without `/proc`
/// nothing can be told, and every owner counts as alive.
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// A temp file a dead rotor left that could not be removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{} (a temp file left beside {} by a rotor process that died; it may hold a secret) could not be removed: {why}", .path.display(), .beside.display())]
pub struct Leftover {
    /// The temp file (or the directory that could not be listed).
    pub path: PathBuf,
    /// The managed file it belongs to.
    pub beside: PathBuf,
    /// Why it is still there, and what to do.
    pub why: String,
}

/// What [`sweep`] did.
#[derive(Debug, Default)]
pub struct Sweep {
    /// Temp files of dead owners that were removed.
    pub removed: Vec<PathBuf>,
    /// Those that could not be.
    pub left: Vec<Leftover>,
}

/// The directory and name of a file, `.` for a bare name.
fn dir_and_name(path: &Path) -> Option<(PathBuf, OsString)> {
    let name = path.file_name()?.to_os_string();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((dir, name))
}

/// Removes the temp files of dead owners beside each of `files` (and beside
/// what a symlinked file points to, where [`super::atomic::replace`] writes
/// them). Lists each directory once.
pub fn sweep<'a>(files: impl IntoIterator<Item = &'a Path>) -> Sweep {
    // directory -> file name -> the managed file, as named
    // (keyed by the directory's canonical path, so that each is listed once
    // however it is spelled)
    let mut dirs: BTreeMap<PathBuf, BTreeMap<OsString, PathBuf>> = BTreeMap::new();
    let mut canonical: HashMap<PathBuf, PathBuf> = HashMap::new();
    for file in files {
        let resolved = std::fs::canonicalize(file).ok();
        for p in std::iter::once(file).chain(resolved.as_deref()) {
            if let Some((dir, name)) = dir_and_name(p) {
                let dir = canonical
                    .entry(dir)
                    .or_insert_with_key(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
                    .clone();
                dirs.entry(dir)
                    .or_default()
                    .entry(name)
                    .or_insert_with(|| file.to_path_buf());
            }
        }
    }
    let mut out = Sweep::default();
    for (dir, names) in dirs {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                if let Some(beside) = names.values().next() {
                    out.left.push(Leftover {
                        path: dir.clone(),
                        beside: beside.clone(),
                        why: format!("the directory cannot be listed ({e}); look for *{MARK}* files there by hand"),
                    });
                }
                continue;
            }
        };
        for entry in entries.flatten() {
            let entry_name = entry.file_name();
            let Some((base, pid)) = parse(&entry_name) else {
                continue;
            };
            let lookup = |b: &[u8]| names.get(&os_from(b));
            let beside = lookup(base).or_else(|| base.strip_prefix(b".").and_then(lookup));
            let Some(beside) = beside else {
                continue;
            };
            if alive(pid) {
                continue;
            }
            let path = entry.path();
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_file() => {}
                Ok(_) => {
                    out.left.push(Leftover {
                        path,
                        beside: beside.clone(),
                        why: "it is not a regular file, so rotor did not make it; look at it and remove it by hand".into(),
                    });
                    continue;
                }
                Err(_) => continue, // gone meanwhile
            }
            match std::fs::remove_file(&path) {
                Ok(()) => out.removed.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => out.left.push(Leftover {
                    path,
                    beside: beside.clone(),
                    why: format!(
                        "{e}; remove it by hand (as a user that may write {})",
                        dir.display()
                    ),
                }),
            }
        }
    }
    out
}

/// An `OsString` from the bytes of a (Unix) file name.
fn os_from(bytes: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(bytes).to_os_string()
}

/// The files a sweep covers for an inventory: every target's file, each
/// once (thousands of secrets often share a few files).
pub fn managed_files(inv: &crate::inventory::Inventory) -> Vec<PathBuf> {
    let mut seen = std::collections::HashSet::new();
    inv.secrets
        .iter()
        .flat_map(|s| s.targets.iter())
        .map(|t| crate::target::of(t).path())
        .filter(|p| seen.insert(*p))
        .map(Path::to_path_buf)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A pid that is certainly dead: a child that was reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn temp_file_names_match_env_ignore_rules() {
        let name = temp_name(OsStr::new(".env"), 42, 7);
        assert_eq!(name, ".env.rotor-tmp.42.7");
        // what a `.env*` ignore rule matches
        assert!(name.to_string_lossy().starts_with(".env"));
        assert_eq!(parse(&name), Some((&b".env"[..], 42)));
        assert_eq!(
            parse(OsStr::new("..env.rotor-tmp.42.7")),
            Some((&b"..env"[..], 42))
        );
        for not_ours in [
            ".env",
            ".env.rotor-tmp.",
            ".env.rotor-tmp.1",
            ".env.rotor-tmp.x.1",
            ".rotor-tmp.1.2",
            ".env.rotor-tmp.1.2.bak",
        ] {
            assert_eq!(parse(OsStr::new(not_ours)), None, "{not_ours}");
        }
    }

    #[test]
    fn crash_leftovers_of_dead_owners_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let env = d.join(".env");
        std::fs::write(&env, "A=1\n").unwrap();
        // a symlinked target: its temp files are written beside the real file
        std::fs::create_dir(d.join("real")).unwrap();
        std::fs::write(d.join("real/app.env"), "B=1\n").unwrap();
        std::os::unix::fs::symlink(d.join("real/app.env"), d.join("app.env")).unwrap();
        let dead = dead_pid();
        let me = std::process::id();
        let stale = [
            d.join(format!(".env.rotor-tmp.{dead}.0")),
            d.join(format!("..env.rotor-tmp.{dead}.3")), // the old naming
            d.join(format!("real/app.env.rotor-tmp.{dead}.1")),
        ];
        let kept = [
            d.join(format!(".env.rotor-tmp.{me}.0")), // a live owner
            d.join(format!("other.env.rotor-tmp.{dead}.0")), // not beside a managed file
            d.join(format!(".env.rotor-tmp.{dead}.x")), // not a temp name
        ];
        for p in stale.iter().chain(&kept) {
            std::fs::write(p, "SECRET=1\n").unwrap();
        }
        // something named like a temp file that rotor did not make
        let odd = d.join(format!(".env.rotor-tmp.{dead}.9"));
        std::fs::create_dir(&odd).unwrap();
        let files = [env.clone(), d.join("app.env")];
        let sweep = sweep(files.iter().map(PathBuf::as_path));
        let mut removed = sweep.removed.clone();
        removed.sort();
        let mut want = stale.to_vec();
        want.sort();
        assert_eq!(removed, want);
        for p in &stale {
            assert!(!p.exists(), "{p:?}");
        }
        for p in &kept {
            assert!(p.exists(), "{p:?}");
        }
        assert_eq!(sweep.left.len(), 1, "{:?}", sweep.left);
        assert_eq!(sweep.left[0].path, odd);
        assert_eq!(sweep.left[0].beside, env);
        assert!(sweep.left[0].to_string().contains("by hand"));
        // a missing directory is nothing to sweep
        assert!(sweep_one(&d.join("nope/.env")).removed.is_empty());
    }

    fn sweep_one(p: &Path) -> Sweep {
        sweep([p])
    }
}
