//! The deliver step and its undo: group a run's variable assignments by file,
//! lock every file, check every edit in memory, back the originals up
//! (sealed, in the store), then replace each file atomically. Undo puts the
//! original bytes back exactly, or, if someone else has written the file
//! since, puts back only the run's own lines.

use std::collections::BTreeMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use aws_lc_rs::digest;
use zeroize::Zeroizing;

use crate::error::RotorError;
use crate::store::Backend;
use crate::target::atomic::{self, FileError, FileLock};
use crate::target::{Desired, Target, TargetError};

/// What each file must hold: real path → the targets in it and their
/// desired values.
pub type FileEdits<'a> = BTreeMap<PathBuf, Vec<(&'a dyn Target, Desired<'a>)>>;

/// The targets in each file, for undo: real path → targets.
pub type FileTargets<'a> = BTreeMap<PathBuf, Vec<&'a dyn Target>>;

/// Mode each target file gets when written (absent: 0600).
pub type FileModes = BTreeMap<PathBuf, u32>;

fn mode_of(modes: &FileModes, path: &Path) -> u32 {
    modes.get(path).copied().unwrap_or(0o600)
}

/// A warning when the file at `path` exists with another mode than `want`,
/// the mode rotor gives it when it writes (the target's `mode`, 0600 unless
/// the inventory says otherwise; the inventory decides, not the mode the
/// file happens to have, so the result never depends on leftovers).
pub fn mode_change(path: &Path, want: u32) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let now = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    if now == want {
        return None;
    }
    // A mode the inventory accepts (owner reads, nobody outside the group).
    let allowed = now & 0o400 != 0 && now & !0o640 == 0;
    let why = if now & 0o040 != 0 && want & 0o040 == 0 {
        " and its group loses read access (set mode = \"0640\" on the target if a group of readers needs it)".to_owned()
    } else if allowed && now & 0o200 == 0 && want & 0o200 != 0 {
        format!(
            ", so its owner may write it again (set mode = \"{now:04o}\" on the target to keep it read-only)"
        )
    } else if allowed {
        format!(" (set mode = \"{now:04o}\" on the target to keep its mode)")
    } else {
        String::new()
    };
    Some(format!(
        "{} has mode {now:04o}; rotor writes it as {want:04o}{why}",
        path.display()
    ))
}

/// [`mode_change`] for every file these secrets' targets write, once per path.
pub fn mode_changes(specs: &[&crate::inventory::SecretSpec]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for spec in specs {
        for ts in &spec.targets {
            let t = crate::target::of(ts);
            if seen.insert(t.path().to_path_buf()) {
                out.extend(mode_change(t.path(), t.mode()));
            }
        }
    }
    out
}

/// Directory for the per-file lock files.
pub fn lock_dir(store: &dyn Backend) -> PathBuf {
    store.dir().join("locks")
}

fn lock_all<'a>(
    store: &dyn Backend,
    paths: impl Iterator<Item = &'a PathBuf>,
) -> Result<Vec<FileLock>, RotorError> {
    let dir = lock_dir(store);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|source| FileError::Io {
            path: dir.clone(),
            op: "create the lock directory",
            source,
        })?;
    // BTreeMap order: every process locks in the same order, so no deadlock.
    paths
        .map(|p| FileLock::acquire(&dir, p).map_err(RotorError::from))
        .collect()
}

/// The file a target path really names: symlinks and `..` resolved, so two
/// spellings of one file are locked, edited and restored as one.
pub fn real_path(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// Reads `path`, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, RotorError> {
    match atomic::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(FileError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Names the file in a target's error.
pub fn at(path: &Path) -> impl FnOnce(TargetError) -> RotorError + '_ {
    move |source| RotorError::Target {
        path: path.to_path_buf(),
        source,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes))
}

/// Writes `edits` for run `run`. Nothing is written unless every file can be
/// read, parsed and edited. A missing file is an error unless
/// `create_missing`. Returns whether any file's bytes changed.
pub fn deliver(
    store: &dyn Backend,
    run: i64,
    edits: &FileEdits,
    modes: &FileModes,
    create_missing: bool,
) -> Result<bool, RotorError> {
    let _locks = lock_all(store, edits.keys())?;
    let mut planned = Vec::with_capacity(edits.len());
    for (path, targets) in edits {
        let original = read_optional(path)?;
        if original.is_none() && !create_missing {
            return Err(FileError::NotFound { path: path.clone() }.into());
        }
        // Every target of the file in one pass (the file may hold
        // thousands of the run's variables).
        let bytes =
            crate::target::render_all(original.as_deref().map_or(&[][..], |v| &v[..]), targets)
                .map_err(at(path))?;
        planned.push((path, original, bytes));
    }
    let changed = planned
        .iter()
        .any(|(_, original, new)| original.as_deref().map(|o| &o[..]) != Some(&new[..]));
    for (path, original, _) in &planned {
        store.put_backup(run, path, original.as_deref().map(|v| &v[..]))?;
    }
    for (i, (path, _, new)) in planned.iter().enumerate() {
        atomic::replace_with_mode(path, new, mode_of(modes, path))?;
        store.set_backup_written(run, path, &sha256_hex(new))?;
        if i == 0 && planned.len() > 1 {
            super::fault::point(crate::engine::step::CrashPoint::Mid(
                crate::engine::step::Inside::Deliver,
            ));
        }
    }
    Ok(changed)
}

/// Puts back every file run `run` backed up. `targets` lists, per file, the
/// run's targets, for the fallback that restores only their part. Returns
/// one note per file.
pub fn restore(
    store: &dyn Backend,
    run: i64,
    targets: &FileTargets<'_>,
    modes: &FileModes,
) -> Result<Vec<String>, RotorError> {
    let backups = store.backups(run)?;
    let paths: Vec<PathBuf> = backups.iter().map(|b| b.path.clone()).collect();
    let _locks = lock_all(store, paths.iter())?;
    let mut notes = Vec::new();
    for b in backups {
        let now = read_optional(&b.path)?;
        let now_hash = now.as_deref().map(|v| sha256_hex(v));
        let untouched_since = match (&now, &b.written_hash) {
            (None, _) => true,
            (Some(_), Some(w)) => now_hash.as_deref() == Some(w.as_str()),
            (Some(n), None) => b.existed && n[..] == b.original[..],
        };
        if untouched_since {
            if b.existed {
                atomic::replace_with_mode(&b.path, &b.original, mode_of(modes, &b.path))?;
                notes.push(format!("restored {} byte for byte", b.path.display()));
            } else if now.is_some() {
                std::fs::remove_file(&b.path).map_err(|source| FileError::Io {
                    path: b.path.clone(),
                    op: "remove the file this run created",
                    source,
                })?;
                notes.push(format!("removed {} (the run created it)", b.path.display()));
            }
            continue;
        }
        // Someone else wrote the file after us: put back only our part.
        let mut bytes = Zeroizing::new(now.as_deref().map(|v| v.to_vec()).unwrap_or_default());
        for target in targets.get(&b.path).into_iter().flatten() {
            bytes = target.restore(&bytes, &b.original).map_err(at(&b.path))?;
        }
        atomic::replace_with_mode(&b.path, &bytes, mode_of(modes, &b.path))?;
        notes.push(format!(
            "restored only this run's variables in {} (the file was written again after this run wrote it, by another rotation or by hand; those changes were kept)",
            b.path.display()
        ));
    }
    Ok(notes)
}
