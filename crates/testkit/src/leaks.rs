//! The leak scanner: remembers every secret value a test has seen in a
//! target file, then proves none of them appears in command output, in the
//! store's files (the database must hold them only sealed), or in the audit
//! trail; not as written, and not percent-encoded, JSON-escaped, base64 or
//! hex encoded either ([`encoded_forms`], computed here independently of
//! rotor's sanitizer). Failures name the place, the form and the value's
//! fingerprint, never the value.

use std::path::Path;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use crate::project::walk;

/// Known values and the places already scanned.
#[derive(Default)]
pub struct LeakScanner {
    values: Vec<String>,
    /// Every value's spellings: (needle, which spelling, the value's
    /// fingerprint).
    needles: Vec<(String, &'static str, String)>,
    scanned: usize,
}

/// The spellings of `value` a leak may take besides the value itself:
/// percent-encoded (everything but `A-Za-z0-9-._~`, and everything but
/// letters and digits), JSON-escaped, base64 (standard and URL-safe,
/// padded and not) and hex.
pub fn encoded_forms(value: &str) -> Vec<(&'static str, String)> {
    const USERINFO: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json
        .get(1..json.len().saturating_sub(1))
        .unwrap_or_default()
        .to_owned();
    let mut out = vec![
        (
            "percent-encoded",
            utf8_percent_encode(value, USERINFO).to_string(),
        ),
        (
            "fully percent-encoded",
            utf8_percent_encode(value, NON_ALPHANUMERIC).to_string(),
        ),
        ("JSON-escaped", json),
        ("base64", STANDARD.encode(value)),
        ("unpadded base64", STANDARD_NO_PAD.encode(value)),
        ("base64url", URL_SAFE.encode(value)),
        ("unpadded base64url", URL_SAFE_NO_PAD.encode(value)),
        ("hex", hex::encode(value)),
    ];
    out.retain(|(_, f)| f != value);
    out
}

fn fingerprint(v: &str) -> String {
    // Only to name a value in a failure message; not security relevant.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in v.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl LeakScanner {
    /// An empty scanner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a value (ignored when shorter than 8 bytes: too likely to
    /// match by accident, and no generator makes one).
    pub fn learn(&mut self, value: &str) {
        if value.len() >= 8 && !self.values.iter().any(|v| v == value) {
            self.values.push(value.to_owned());
            let fp = fingerprint(value);
            self.needles
                .push((value.to_owned(), "as written", fp.clone()));
            for (what, form) in encoded_forms(value) {
                if !self.needles.iter().any(|(n, _, _)| *n == form) {
                    self.needles.push((form, what, fp.clone()));
                }
            }
        }
    }

    /// Remembers the values of these variables in an env file (the list
    /// format `NEW,OLD` is split).
    pub fn learn_env(&mut self, path: &Path, vars: &[&str]) {
        let Ok(iter) = dotenvy::from_path_iter(path) else {
            return;
        };
        for (k, v) in iter.flatten() {
            if vars.contains(&k.as_str()) {
                for part in v.split(',') {
                    self.learn(part);
                }
                self.learn(&v);
                if let Some(password) = url_password(&v) {
                    self.learn(password);
                    let decoded =
                        percent_encoding::percent_decode_str(password).decode_utf8_lossy();
                    self.learn(&decoded);
                }
            }
        }
    }

    /// How many values are known.
    pub fn known(&self) -> usize {
        self.values.len()
    }

    /// How many texts and files have been scanned.
    pub fn scanned(&self) -> usize {
        self.scanned
    }

    /// Panics if any known value appears in `haystack`, in any spelling.
    pub fn check_bytes(&mut self, place: &str, haystack: &[u8]) {
        self.scanned += 1;
        if self.needles.is_empty() {
            return;
        }
        let search = aho_corasick::AhoCorasick::new(self.needles.iter().map(|(n, _, _)| n))
            .expect("the leak scanner's needles compile");
        if let Some(m) = search.find(haystack) {
            let (_, what, fp) = &self.needles[m.pattern().as_usize()];
            panic!("LEAK: a secret value (test fingerprint {fp}) appears {what} in {place}");
        }
    }

    /// Panics if any known value appears in `text`.
    pub fn check_text(&mut self, place: &str, text: &str) {
        self.check_bytes(place, text.as_bytes());
    }

    /// Scans every file under a directory (the store, logs).
    pub fn check_dir(&mut self, dir: &Path) {
        let mut files = Vec::new();
        walk(dir, &mut |p| files.push(p.to_path_buf()));
        for p in files {
            if let Ok(bytes) = std::fs::read(&p) {
                self.check_bytes(&p.display().to_string(), &bytes);
            }
        }
    }

    /// Scans the audit, journal and run tables of a store database. A
    /// database too damaged to query (a test may truncate it on purpose) is
    /// still covered byte for byte by [`LeakScanner::check_dir`].
    pub fn check_store_tables(&mut self, db: &Path) {
        let Ok(conn) = rusqlite::Connection::open(db) else {
            return;
        };
        for sql in [
            "SELECT seq || ' ' || at || ' ' || actor || ' ' || COALESCE(ticket,'') || ' ' || COALESCE(secret,'') || ' ' || COALESCE(fingerprint,'') || ' ' || step || ' ' || outcome || ' ' || detail FROM audit",
            "SELECT run_id || ' ' || step || ' ' || phase || ' ' || detail FROM journal",
            "SELECT id || ' ' || kind || ' ' || state || ' ' || step || ' ' || COALESCE(error,'') FROM runs",
        ] {
            let rows: Result<Vec<String>, _> = conn
                .prepare(sql)
                .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect());
            let Ok(rows) = rows else {
                return;
            };
            for r in rows {
                self.check_text(&format!("store table row `{}`", &r[..r.len().min(40)]), &r);
            }
        }
    }
}

/// The password part of a URL's userinfo (`scheme://user:PASSWORD@host…`),
/// as written (still percent-encoded).
fn url_password(v: &str) -> Option<&str> {
    let (_, rest) = v.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password)
}

/// Panics unless `err`'s message and `Debug` form quote none of `values`
/// (a password, an admin URL's password, a hash).
pub fn assert_quotes_nothing<E: std::fmt::Display + std::fmt::Debug>(err: &E, values: &[&str]) {
    let shown = format!("{err} {err:?}");
    for v in values {
        assert!(!shown.contains(v), "error quotes a secret: {shown}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_forms_of_a_value_are_caught() {
        let value = "p@ss w/rd+\"q-0123";
        for (what, form) in encoded_forms(value) {
            let mut scanner = LeakScanner::new();
            scanner.learn(value);
            let hay = format!("log line {form} end");
            let caught = std::panic::catch_unwind(move || scanner.check_text("test", &hay));
            assert!(caught.is_err(), "the {what} form was not caught");
        }
        let mut scanner = LeakScanner::new();
        scanner.learn(value);
        scanner.check_text("clean", "nothing secret [REDACTED fp=0123456789abcdef]");
        assert_eq!(scanner.scanned(), 1);
    }

    #[test]
    fn finds_the_password_of_a_url() {
        assert_eq!(
            url_password("postgres://app:p%40ss@db:5432/x?sslmode=require"),
            Some("p%40ss")
        );
        assert_eq!(url_password("postgres://app@db/x"), None);
        assert_eq!(url_password("not a url"), None);
    }
}
