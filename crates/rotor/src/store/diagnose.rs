//! Why a store will not open, in words an operator can act on: a file whose
//! SQLite header is damaged or that is no database at all, a permission
//! problem (the file, its directory, or SQLite's `-wal`/`-shm` files), or
//! damage SQLite found further in. SQLite alone would say "attempt to write
//! a readonly database" for a damaged header byte as for a read-only file.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

use super::StoreError;

/// Length of the SQLite database header.
const HEADER_LEN: usize = 100;

/// Refuses, before SQLite touches it, a file whose header is not that of an
/// SQLite database rotor wrote (empty, truncated, another kind of file, or
/// a damaged byte), so opening it never writes a fresh schema into it and
/// never fails later with a misleading message.
pub(super) fn check_header(db_path: &Path) -> Result<(), StoreError> {
    let mut header = [0u8; HEADER_LEN];
    let read = fs::File::open(db_path).and_then(|mut f| f.read_exact(&mut header));
    match read {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(permission(db_path, "read", permission_problem(db_path)));
        }
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(not_a_database(
                db_path,
                "the file is shorter than an SQLite header",
            ))
        }
        Err(e) => {
            return Err(StoreError::io(db_path, "read the header of", e));
        }
    }
    match header_problem(&header) {
        Some(what) => Err(not_a_database(db_path, &what)),
        None => Ok(()),
    }
}

/// What is wrong with a 100-byte SQLite header, if anything. Checks every
/// field whose valid values the file format fixes.
fn header_problem(h: &[u8; HEADER_LEN]) -> Option<String> {
    if &h[..16] != b"SQLite format 3\0" {
        return Some("it does not start with \"SQLite format 3\"".into());
    }
    let page_size = match u16::from_be_bytes([h[16], h[17]]) {
        1 => 65_536,
        n => u32::from(n),
    };
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return Some(format!(
            "page size {page_size} is not a power of two from 512 to 65536"
        ));
    }
    if !matches!(h[18], 1 | 2) || !matches!(h[19], 1 | 2) {
        return Some(format!(
            "file format write/read versions are {}/{}, not 1 or 2",
            h[18], h[19]
        ));
    }
    if h[20] != 0 {
        return Some(format!(
            "{} bytes per page are reserved, and rotor's SQLite reserves none",
            h[20]
        ));
    }
    if h[21] != 64 || h[22] != 32 || h[23] != 32 {
        return Some(format!(
            "payload fractions are {}/{}/{}, not 64/32/32",
            h[21], h[22], h[23]
        ));
    }
    let schema_format = u32::from_be_bytes([h[44], h[45], h[46], h[47]]);
    if !(1..=4).contains(&schema_format) {
        return Some(format!("schema format {schema_format} is not 1 to 4"));
    }
    let encoding = u32::from_be_bytes([h[56], h[57], h[58], h[59]]);
    if encoding != 1 {
        return Some(format!("text encoding {encoding} is not UTF-8 (1)"));
    }
    if h[72..92].iter().any(|&b| b != 0) {
        return Some("bytes 72 to 91, which SQLite always leaves zero, are not".into());
    }
    None
}

fn not_a_database(db_path: &Path, detail: &str) -> StoreError {
    StoreError::NotADatabase {
        path: db_path.to_path_buf(),
        dir: db_path.parent().map(Path::to_path_buf).unwrap_or_default(),
        detail: detail.to_owned(),
    }
}

fn permission(db_path: &Path, op: &'static str, detail: String) -> StoreError {
    StoreError::Permission {
        path: db_path.to_path_buf(),
        op,
        detail,
    }
}

/// Turns an SQLite error met while opening or checking the store into the
/// error that names its cause. Errors this does not recognise stay
/// [`StoreError::Corrupt`] with SQLite's words, as before.
pub(super) fn open_error(db_path: &Path, e: rusqlite::Error) -> StoreError {
    let code = e.sqlite_error_code();
    match code {
        Some(ErrorCode::NotADatabase) => not_a_database(db_path, &e.to_string()),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            // A header damaged since the first check reads as read-only too.
            let exists = fs::metadata(db_path).is_ok_and(|m| m.len() > 0);
            if let (true, Err(header)) = (exists, check_header(db_path)) {
                if matches!(header, StoreError::NotADatabase { .. }) {
                    return header;
                }
            }
            permission(db_path, "write", permission_problem(db_path))
        }
        _ => StoreError::Corrupt {
            path: db_path.to_path_buf(),
            detail: e.to_string(),
        },
    }
}

/// Which of the store file, its directory, or SQLite's side files this
/// process cannot use, in words.
fn permission_problem(db_path: &Path) -> String {
    let dir = db_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let describe = |p: &Path| match fs::metadata(p) {
        Ok(m) => format!(
            "{} (mode {:04o}, owner uid {})",
            p.display(),
            m.permissions().mode() & 0o7777,
            m.uid()
        ),
        Err(_) => p.display().to_string(),
    };
    let denied = |r: std::io::Result<fs::File>| matches!(r, Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied);
    if denied(fs::File::open(db_path)) {
        return format!("this user cannot read {}", describe(db_path));
    }
    if denied(fs::OpenOptions::new().write(true).open(db_path)) {
        return format!(
            "this user cannot write {}; give its owner write permission (chmod 600) or run rotor as its owner",
            describe(db_path)
        );
    }
    for side in ["-wal", "-shm"] {
        let mut p = db_path.as_os_str().to_owned();
        p.push(side);
        let p = PathBuf::from(p);
        if p.exists() && denied(fs::OpenOptions::new().read(true).write(true).open(&p)) {
            return format!(
                "this user cannot write SQLite's {}; give it the same owner and mode 0600 as the store",
                describe(&p)
            );
        }
    }
    if fs::metadata(&dir).is_ok_and(|m| m.permissions().mode() & 0o200 == 0) {
        return format!(
            "the store directory {} is not writable, and SQLite must create its -wal and -shm files there; make it writable by its owner (chmod 700)",
            describe(&dir)
        );
    }
    format!(
        "SQLite opened {} read-only although its permissions allow writing (a read-only mount, or a directory this user cannot create files in?)",
        describe(db_path)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> [u8; HEADER_LEN] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t(x);")
            .expect("create");
        drop(conn);
        let bytes = fs::read(&path).expect("read");
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&bytes[..HEADER_LEN]);
        h
    }

    #[test]
    fn a_header_sqlite_wrote_passes() {
        assert_eq!(header_problem(&good()), None);
    }

    #[test]
    fn each_checked_header_field_damaged_is_named() {
        for (at, value) in [
            (0usize, b'X'),
            (16, 0x03),
            (18, 3),
            (19, 0),
            (20, 0xff),
            (21, 65),
            (22, 0),
            (23, 31),
            (47, 9),
            (59, 2),
            (80, 1),
        ] {
            let mut h = good();
            h[at] = value;
            assert!(header_problem(&h).is_some(), "byte {at} = {value}");
        }
    }
}
