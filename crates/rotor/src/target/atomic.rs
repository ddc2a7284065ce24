//! Crash-safe file replacement and per-file advisory locks for target files.
//!
//! [`replace`] never leaves a half-written or world-readable secret: it writes a 0600
//! temp file next to the target, fsyncs it, renames it over the target and fsyncs the
//! directory. [`FileLock`] serialises read-modify-write cycles on one target across
//! rotor processes. Unix only (modes, `fchown`, directory fsync).
//!
//! Only regular files are read or replaced: a symlink is followed, and what it
//! names must be a regular file too (never a device, FIFO, socket or
//! directory). Reads stop at a size limit ([`max_file_size`]), so a file that
//! never ends cannot exhaust memory. A temp file left by a process that died
//! is found and removed by [`super::leftovers`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use zeroize::Zeroizing;

/// A file operation failed; every variant names the path and says what to do.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each field is named in its variant's message
pub enum FileError {
    /// The file (or its directory) does not exist.
    #[error("{path}: no such file or directory; check the target path in the inventory")]
    NotFound { path: PathBuf },
    /// The directory does not accept new files, so no atomic replace is possible.
    #[error("{path}: directory is not writable (rotor writes a temp file there and renames it over the target); make it writable by the user running rotor")]
    ReadOnlyDir { path: PathBuf },
    /// The file cannot be read or its lock file cannot be opened.
    #[error(
        "{path}: permission denied while trying to {op}; run rotor as a user that may {op} it"
    )]
    PermissionDenied { path: PathBuf, op: &'static str },
    /// The replaced file could not keep the owner of the file it replaces.
    #[error("{path}: cannot give the new file the owner uid {uid} gid {gid} of the file it replaces; run rotor as that user or as root")]
    Owner {
        path: PathBuf,
        uid: u32,
        gid: u32,
        source: io::Error,
    },
    /// The path names no file (e.g. `/` or `..`).
    #[error("{path}: not a file path; name the file to write")]
    NotAFile { path: PathBuf },
    /// The path (after following symlinks) is a directory, device, FIFO or
    /// socket: rotor reads and writes regular files only.
    #[error("{path} is {kind}, not a regular file; rotor reads and writes only regular files (symlinks are followed). Nothing was changed: point the inventory at a regular file")]
    NotRegular { path: PathBuf, kind: &'static str },
    /// Symlinks that point at each other, or too deep a chain.
    #[error("{path}: symlink loop (or too many levels of symlinks); nothing was changed: point the link at a regular file")]
    SymlinkLoop { path: PathBuf },
    /// The file is larger than rotor reads.
    #[error("{path} is larger than {limit} bytes, the most rotor reads; nothing was changed. If the file really is that large, raise [limits] max_file_size in the inventory")]
    TooLarge { path: PathBuf, limit: u64 },
    /// Any other I/O failure.
    #[error("{path}: could not {op}: {source}")]
    Io {
        path: PathBuf,
        op: &'static str,
        source: io::Error,
    },
}

fn io_err(path: &Path, op: &'static str, source: io::Error) -> FileError {
    let path = path.to_path_buf();
    if source.raw_os_error() == Some(libc::ELOOP) {
        return FileError::SymlinkLoop { path };
    }
    match source.kind() {
        io::ErrorKind::NotFound => FileError::NotFound { path },
        io::ErrorKind::PermissionDenied => FileError::PermissionDenied { path, op },
        _ => FileError::Io { path, op, source },
    }
}

/// The size limit of [`read`] unless [`set_max_file_size`] says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

static MAX_FILE_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILE_SIZE);

/// The most bytes [`read`] reads from one file (the inventory's
/// `[limits] max_file_size`, else [`DEFAULT_MAX_FILE_SIZE`]).
pub fn max_file_size() -> u64 {
    MAX_FILE_SIZE.load(Ordering::Relaxed)
}

/// Sets the limit of [`read`] for this process (the engine and the CLI set
/// it from the inventory they load).
pub fn set_max_file_size(bytes: u64) {
    MAX_FILE_SIZE.store(bytes, Ordering::Relaxed);
}

/// What a file that is not regular is, for messages.
fn kind_of(t: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Refuses anything but a regular file.
fn regular(path: &Path, m: &fs::Metadata) -> Result<(), FileError> {
    if m.file_type().is_file() {
        Ok(())
    } else {
        Err(FileError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(m.file_type()),
        })
    }
}

/// Refuses `path` unless it (after following symlinks) is a regular file or
/// does not exist; `Ok(None)` when it does not.
pub fn check_regular(path: &Path) -> Result<Option<fs::Metadata>, FileError> {
    match fs::metadata(path) {
        Ok(m) => regular(path, &m).map(|()| Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path, "inspect", e)),
    }
}

/// Reads the whole file into memory that is wiped on drop (no unwiped
/// reallocations), refusing anything but a regular file and files larger
/// than [`max_file_size`].
pub fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, FileError> {
    read_limited(path, max_file_size())
}

/// [`read`] with an explicit size limit. The file's type is checked before
/// it is opened, and opening never blocks (a FIFO swapped in between is
/// refused, not waited on).
pub fn read_limited(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, FileError> {
    let before = fs::metadata(path).map_err(|e| io_err(path, "read", e))?;
    regular(path, &before)?;
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| io_err(path, "read", e))?;
    let opened = file.metadata().map_err(|e| io_err(path, "read", e))?;
    regular(path, &opened)?;
    if opened.len() > limit {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    let hint = usize::try_from(opened.len()).unwrap_or(0);
    let mut buf = Zeroizing::new(Vec::with_capacity(hint + 1));
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        let n = match file.read(&mut chunk[..]) {
            Ok(0) => return Ok(buf),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(path, "read", e)),
        };
        // The file may grow while it is read.
        if u64::try_from(buf.len() + n).unwrap_or(u64::MAX) > limit {
            return Err(FileError::TooLarge {
                path: path.to_path_buf(),
                limit,
            });
        }
        if buf.len() + n > buf.capacity() {
            // Grow by copying into a fresh buffer so the old one is zeroized, not leaked.
            let mut bigger = Zeroizing::new(Vec::with_capacity((buf.len() + n) * 2));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Follows symlinks so that the link stays and the file it points to is replaced.
fn resolve(path: &Path) -> Result<PathBuf, FileError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(|e| io_err(path, "resolve the symlink", e))
        }
        _ => Ok(path.to_path_buf()),
    }
}

fn split(path: &Path) -> Result<(PathBuf, &std::ffi::OsStr), FileError> {
    let name = path.file_name().ok_or_else(|| FileError::NotAFile {
        path: path.to_path_buf(),
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

/// Creates `NAME.rotor-tmp.PID.N` in `dir` with O_EXCL and mode 0600 from the start
/// (named after the target, so the target's ignore rule, e.g. `.env*`, covers it).
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> Result<(PathBuf, File), FileError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(super::leftovers::temp_name(name, std::process::id(), n));
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp);
        match opened {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1_000_000 => continue,
            Err(e) => {
                return Err(match e.kind() {
                    io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                        FileError::ReadOnlyDir {
                            path: dir.to_path_buf(),
                        }
                    }
                    _ => io_err(dir, "create a temp file in", e),
                })
            }
        }
    }
}

/// Replace `path` atomically with `bytes`: temp file in the same directory (O_EXCL, mode
/// 0600 from creation so the secret is never world-readable even briefly), write, fsync,
/// rename over the target, fsync the directory. Result mode 0600; owner and group of an
/// existing target are kept. A symlinked target is followed (the link is kept); what it
/// names must be a regular file (or not exist yet). The temp file is removed on any
/// error. Never leaves a half-written target.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    replace_with_mode(path, bytes, 0o600)
}

/// [`replace`] with another final mode (e.g. 0640 for a group of readers).
/// The temp file is 0600 while it is written; `mode` is set before the rename.
pub fn replace_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FileError> {
    let target = resolve(path)?;
    let (dir, name) = split(&target)?;
    let existing = check_regular(&target)?;
    let (tmp, mut file) = create_temp(&dir, name)?;
    let written = (|| {
        // Exactly 0600 whatever the umask.
        let perms = fs::Permissions::from_mode(0o600);
        file.set_permissions(perms)
            .map_err(|e| io_err(&tmp, "set mode 0600 on", e))?;
        if let Some(m) = &existing {
            let mine = file.metadata().map_err(|e| io_err(&tmp, "inspect", e))?;
            if (mine.uid(), mine.gid()) != (m.uid(), m.gid()) {
                std::os::unix::fs::fchown(&file, Some(m.uid()), Some(m.gid())).map_err(
                    |source| FileError::Owner {
                        path: target.clone(),
                        uid: m.uid(),
                        gid: m.gid(),
                        source,
                    },
                )?;
            }
        }
        file.write_all(bytes)
            .map_err(|e| io_err(&tmp, "write", e))?;
        if mode != 0o600 {
            file.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(|e| io_err(&tmp, "set the target's mode on", e))?;
        }
        file.sync_all().map_err(|e| io_err(&tmp, "fsync", e))?;
        crate::engine::fault::point(crate::engine::step::CrashPoint::Mid(
            crate::engine::step::Inside::Replace,
        ));
        fs::rename(&tmp, &target).map_err(|e| io_err(&target, "rename the temp file over", e))
    })();
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| {
        io_err(
            &dir,
            "fsync (the new file is in place but may not survive a crash)",
            e,
        )
    })
}

/// 64-bit FNV-1a: a stable name for a lock file (not a security measure).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An exclusive advisory lock held while a file is read-modified-written, so two rotor
/// processes rotating different secrets in one .env never lose an update. The lock is
/// `flock` on `LOCK_DIR/<fnv1a64 of the canonical target path>.lock`; it blocks until
/// acquired and is released on drop (also when the process dies).
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Blocks until this process holds the lock for `target` (which need not exist yet).
    pub fn acquire(lock_dir: &Path, target: &Path) -> Result<FileLock, FileError> {
        let canonical = match fs::canonicalize(target) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let (dir, name) = split(target)?;
                fs::canonicalize(&dir)
                    .map_err(|e| io_err(&dir, "resolve", e))?
                    .join(name)
            }
            Err(e) => return Err(io_err(target, "resolve", e)),
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(lock_dir)
            .map_err(|e| io_err(lock_dir, "create the lock directory", e))?;
        let hash = fnv1a64(canonical.as_os_str().as_encoded_bytes());
        let path = lock_dir.join(format!("{hash:016x}.lock"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io_err(&path, "open the lock file", e))?;
        file.lock().map_err(|e| io_err(&path, "lock", e))?;
        Ok(FileLock { file, path })
    }

    /// The lock file (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the descriptor releases the lock too; unlocking first is explicit.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::Duration;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replace_creates_file_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        replace(&path, b"A=1\n").unwrap();
        assert_eq!(&read(&path).unwrap()[..], b"A=1\n");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(entries(dir.path()), [".env"]);
    }

    #[test]
    fn replace_existing_0644_file_gives_0600_and_exact_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.env");
        fs::write(&path, b"OLD=1\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let content: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        replace(&path, &content).unwrap();
        assert_eq!(&read(&path).unwrap()[..], &content[..]);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(entries(dir.path()), ["app.env"]);
    }

    #[test]
    fn replace_keeps_owner_and_group() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        fs::write(&path, b"A=1\n").unwrap();
        if std::os::unix::fs::chown(&path, Some(65534), Some(65534)).is_err() {
            eprintln!("skipping owner check: not root, cannot give the file to another user");
            return;
        }
        replace(&path, b"A=2\n").unwrap();
        let m = fs::metadata(&path).unwrap();
        assert_eq!((m.uid(), m.gid(), mode(&path)), (65534, 65534, 0o600));
    }

    #[test]
    fn replace_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.env");
        let link = dir.path().join(".env");
        fs::write(&real, b"A=1\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        replace(&link, b"A=2\n").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"A=2\n");
    }

    #[test]
    fn read_only_dir_is_reported_and_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("ro");
        fs::create_dir(&sub).unwrap();
        let path = sub.join(".env");
        fs::write(&path, b"A=1\n").unwrap();
        fs::set_permissions(&sub, fs::Permissions::from_mode(0o500)).unwrap();
        let probe = File::create(sub.join("probe"));
        let result = replace(&path, b"A=2\n");
        fs::set_permissions(&sub, fs::Permissions::from_mode(0o700)).unwrap();
        if probe.is_ok() {
            eprintln!("skipping ReadOnlyDir assertion: running as root, 0500 does not stop writes");
            return;
        }
        match result {
            Err(e @ FileError::ReadOnlyDir { .. }) => {
                assert!(e.to_string().contains(&*sub.to_string_lossy()), "{e}");
            }
            other => panic!("expected ReadOnlyDir, got {other:?}"),
        }
        assert_eq!(fs::read(&path).unwrap(), b"A=1\n");
        assert_eq!(entries(&sub), [".env"]);
    }

    #[test]
    fn missing_files_and_dirs_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(matches!(read(&missing), Err(FileError::NotFound { path }) if path == missing));
        let deep = missing.join(".env");
        assert!(matches!(
            replace(&deep, b"x"),
            Err(FileError::NotFound { .. })
        ));
        assert!(matches!(
            replace(Path::new("/"), b"x"),
            Err(FileError::NotAFile { .. })
        ));
    }

    /// A character device node of the test's own (1:3 is what /dev/null is),
    /// so that a regression replaces it rather than the system's.
    fn device_node(dir: &Path) -> Option<PathBuf> {
        let node = dir.join("null");
        let made = std::process::Command::new("mknod")
            .arg(&node)
            .args(["c", "1", "3"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        made.then_some(node)
    }

    #[test]
    fn target_that_is_not_a_regular_file_is_refused() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // a FIFO: neither read (which would block) nor replaced
        let fifo = d.join("pipe.env");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let e = read(&fifo).unwrap_err();
        assert!(
            matches!(
                e,
                FileError::NotRegular {
                    kind: "a FIFO (named pipe)",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains(&*fifo.to_string_lossy()), "{e}");
        assert!(matches!(
            replace(&fifo, b"A=1\n"),
            Err(FileError::NotRegular { .. })
        ));
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        // a directory
        let sub = d.join("dir.env");
        fs::create_dir(&sub).unwrap();
        assert!(matches!(
            read(&sub),
            Err(FileError::NotRegular {
                kind: "a directory",
                ..
            })
        ));
        assert!(matches!(
            replace(&sub, b"x"),
            Err(FileError::NotRegular { .. })
        ));
        // a symlink to /dev/zero is refused before a byte is read
        let zero = d.join("zero.env");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = read_limited(&zero, 1 << 20).unwrap_err();
        assert!(
            matches!(
                e,
                FileError::NotRegular {
                    kind: "a character device",
                    ..
                }
            ),
            "{e}"
        );
        // a symlink loop
        let a = d.join("a.env");
        std::os::unix::fs::symlink("b.env", &a).unwrap();
        std::os::unix::fs::symlink("a.env", d.join("b.env")).unwrap();
        assert!(matches!(read(&a), Err(FileError::SymlinkLoop { .. })));
        assert!(matches!(
            replace(&a, b"x"),
            Err(FileError::SymlinkLoop { .. })
        ));
        // a symlink to a device is not replaced by a regular file
        match device_node(d) {
            Some(node) => {
                let link = d.join(".env");
                std::os::unix::fs::symlink(&node, &link).unwrap();
                let e = replace(&link, b"SECRET=1\n").unwrap_err();
                assert!(
                    matches!(
                        e,
                        FileError::NotRegular {
                            kind: "a character device",
                            ..
                        }
                    ),
                    "{e}"
                );
                assert!(fs::metadata(&node).unwrap().file_type().is_char_device());
            }
            None => eprintln!("skipping the device node case: cannot mknod (not root)"),
        }
        assert!(
            !entries(d).iter().any(|n| n.contains("rotor-tmp")),
            "{:?}",
            entries(d)
        );
    }

    #[test]
    fn reads_stop_at_the_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.env");
        fs::write(&path, vec![b'x'; 4097]).unwrap();
        let e = read_limited(&path, 4096).unwrap_err();
        assert!(matches!(e, FileError::TooLarge { limit: 4096, .. }), "{e}");
        assert!(e.to_string().contains("max_file_size"), "{e}");
        assert_eq!(read_limited(&path, 4097).unwrap().len(), 4097);
    }

    #[test]
    fn temp_files_are_named_after_their_target() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, _file) = create_temp(dir.path(), std::ffi::OsStr::new(".env")).unwrap();
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        let want = format!(".env.rotor-tmp.{}.", std::process::id());
        assert!(name.starts_with(&want), "{name}");
    }

    #[test]
    fn fnv1a64_is_stable() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn lock_excludes_other_lockers() {
        let dir = tempfile::tempdir().unwrap();
        let locks = dir.path().join("locks");
        let target = dir.path().join(".env");
        fs::write(&target, b"").unwrap();
        let counter = Arc::new(AtomicUsize::new(0));
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (locks, target) = (locks.clone(), target.clone());
                let (counter, inside) = (Arc::clone(&counter), Arc::clone(&inside));
                std::thread::spawn(move || {
                    for _ in 0..5 {
                        let _lock = FileLock::acquire(&locks, &target).unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        let seen = counter.load(Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(2));
                        counter.store(seen + 1, Ordering::SeqCst);
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counter.load(Ordering::SeqCst), 40);
        // Same lock for a path spelled differently; a different target does not block.
        let held = FileLock::acquire(&locks, &target).unwrap();
        let other = FileLock::acquire(&locks, &dir.path().join("other.env")).unwrap();
        assert_ne!(held.path(), other.path());
        let spelled = dir.path().join(".").join(".env");
        let held_path = held.path().to_path_buf();
        let again = OpenOptions::new().write(true).open(&held_path).unwrap();
        assert!(again.try_lock().is_err(), "lock must be held");
        drop(held);
        assert!(again.try_lock().is_ok(), "drop must release the lock");
        again.unlock().unwrap();
        assert_eq!(
            FileLock::acquire(&locks, &spelled).unwrap().path(),
            held_path
        );
        assert_eq!(mode(&held_path), 0o600);
    }
}
