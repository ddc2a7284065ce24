//! A throwaway project directory: an inventory, env files, and a `.rotor/`
//! store once `rotor init` has run. Removed when dropped.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// A temp directory holding one rotor project.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Default for Project {
    fn default() -> Self {
        Self::new()
    }
}

impl Project {
    /// An empty project directory.
    pub fn new() -> Project {
        Project {
            dir: tempfile::Builder::new()
                .prefix("rotor-test-")
                .tempdir()
                .expect("create temp dir"),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `dir/rel`.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file (creating parent directories).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("create parent dir");
        }
        fs::write(&p, contents).expect("write test file");
    }

    /// Reads a file's bytes.
    pub fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Reads a file as text.
    pub fn read_string(&self, rel: &str) -> String {
        String::from_utf8(self.read(rel)).expect("utf-8 file")
    }

    /// Unix mode bits of a file.
    pub fn mode(&self, rel: &str) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(self.join(rel))
            .expect("stat")
            .permissions()
            .mode()
            & 0o777
    }

    /// Every file under the project (outside `.rotor/locks`) with its bytes,
    /// to prove a failed command changed nothing.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        walk(self.path(), &mut |p| {
            let rel = p.strip_prefix(self.path()).expect("inside").to_path_buf();
            if rel.starts_with(".rotor/locks") || rel.extension().is_some_and(|e| e == "db-shm") {
                return;
            }
            if let Ok(bytes) = fs::read(p) {
                out.insert(rel, bytes);
            }
        });
        out
    }

    /// Panics, naming the files (never their bytes), if anything differs
    /// from `before`.
    pub fn assert_unchanged(&self, before: &BTreeMap<PathBuf, Vec<u8>>, what: &str) {
        let after = self.snapshot();
        let mut changed: Vec<String> = Vec::new();
        for (p, bytes) in before {
            match after.get(p) {
                Some(b) if b == bytes => {}
                Some(_) => changed.push(format!("{} (changed)", p.display())),
                None => changed.push(format!("{} (removed)", p.display())),
            }
        }
        for p in after.keys().filter(|p| !before.contains_key(*p)) {
            changed.push(format!("{} (created)", p.display()));
        }
        assert!(
            changed.is_empty(),
            "{what} changed files: {}",
            changed.join(", ")
        );
    }

    /// Parses an env file with dotenvy-compatible rules via `dotenvy` in the
    /// caller; here only the raw text helper: `KEY=value` lines, no quotes.
    pub fn env_value(&self, rel: &str, var: &str) -> Option<String> {
        let text = self.read_string(rel);
        text.lines().find_map(|l| {
            let l = l.trim_end_matches('\r');
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            (k.trim() == var).then(|| v.trim().trim_matches('\'').to_owned())
        })
    }
}

/// Calls `f` for every regular file under `dir`.
pub fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, f),
            Ok(t) if t.is_file() => f(&p),
            _ => {}
        }
    }
}
