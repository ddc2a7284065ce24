//! The master key: 32 random bytes, kept hex-encoded in a file of mode 0600
//! (`.rotor/master.key` by default, or the file `ROTOR_MASTER_KEY_FILE`
//! names, e.g. a systemd credential or a KMS-decrypted file).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::seal::SealKey;
use crate::target::atomic::{self, FileError};

/// The most a master key file may hold (it holds 64 hex digits).
const MAX_KEY_FILE: u64 = 4096;
use super::StoreError;

/// Environment variable that overrides the master key location.
pub const MASTER_KEY_ENV: &str = "ROTOR_MASTER_KEY_FILE";

/// Where the master key lives for a store directory.
pub fn master_key_path(store_dir: &Path) -> PathBuf {
    match std::env::var_os(MASTER_KEY_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => store_dir.join("master.key"),
    }
}

/// Creates a new master key file (refuses to overwrite one).
pub fn create(path: &Path) -> Result<SealKey, StoreError> {
    let mut raw = Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(&mut *raw)
        .map_err(|_| StoreError::Random)?;
    let text = Zeroizing::new(format!("{}\n", hex::encode(*raw)));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StoreError::io(path, "create the master key", e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| StoreError::io(path, "write the master key", e))?;
    Ok(SealKey::from_bytes(&raw))
}

/// Reads the master key, refusing files others can read.
pub fn load(path: &Path) -> Result<SealKey, StoreError> {
    let meta = fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            StoreError::MasterKeyMissing {
                path: path.to_path_buf(),
            }
        } else {
            StoreError::io(path, "read the master key", e)
        }
    })?;
    if !meta.file_type().is_file() {
        return Err(StoreError::MasterKeyInvalid {
            path: path.to_path_buf(),
            why: "it is not a regular file (symlinks are followed; a FIFO, device or directory is refused); point it at the file that holds the key".into(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(StoreError::MasterKeyInvalid {
            path: path.to_path_buf(),
            why: format!(
                "its mode is {mode:04o}; others may read it. Run: chmod 600 {}",
                path.display()
            ),
        });
    }
    let text = atomic::read_limited(path, MAX_KEY_FILE).map_err(|e| match e {
        FileError::TooLarge { .. } => StoreError::MasterKeyInvalid {
            path: path.to_path_buf(),
            why: format!(
                "it is larger than {MAX_KEY_FILE} bytes; a master key file holds 64 hex digits"
            ),
        },
        other => StoreError::MasterKeyInvalid {
            path: path.to_path_buf(),
            why: format!("it cannot be read: {other}"),
        },
    })?;
    let trimmed = text.trim_ascii();
    let mut raw = Zeroizing::new([0u8; 32]);
    if trimmed.len() == 64 {
        hex::decode_to_slice(trimmed, &mut *raw).map_err(|_| StoreError::MasterKeyInvalid {
            path: path.to_path_buf(),
            why: "it is not 64 hex digits".into(),
        })?;
    } else if text.len() == 32 {
        raw.copy_from_slice(&text);
    } else {
        return Err(StoreError::MasterKeyInvalid {
            path: path.to_path_buf(),
            why: "expected 64 hex digits (or 32 raw bytes)".into(),
        });
    }
    Ok(SealKey::from_bytes(&raw))
}
