//! The one sanitizer: replaces every known secret value, in every spelling
//! a target or a consumer may write it, with its fingerprint. Hook output,
//! authority error messages and the benches' printouts all go through it.
//!
//! The spellings of a value (its *forms*, see [`forms`]): the value itself;
//! percent-encoded as a URL's userinfo (what the `url` target writes), fully
//! percent-encoded, and form-encoded (space as `+`); JSON-escaped (also with
//! `\/`); base64 with the standard and the URL-safe alphabet, padded and
//! unpadded, and at every alignment inside a longer base64 text
//! (an HTTP `Basic` header encodes `user:password`); hex of its bytes, lower
//! and upper case; and, for a value that is itself base64 or hex, the same
//! bytes in the other encodings. Forms shorter than [`MIN_FORM`] bytes are
//! not searched for (they would match by accident).
//!
//! Every occurrence of every form is found in one pass (Aho-Corasick,
//! overlapping matches), and overlapping or nested occurrences of several
//! values are merged into one marker, so no fragment of any value is left
//! between two markers.
//!
//! A bounded capture ([`Redactor::redact_capture`]) is redacted *before* it
//! is cut: the caller reads [`Redactor::lookahead`] bytes past the limit, so
//! a form that starts before the limit is whole in the buffer and replaced
//! whole. If a marker straddles the limit it is kept whole. When bytes were
//! cut off, a tail of at least [`MIN_FORM`] bytes that is the start of any
//! form is replaced too (`[REDACTED partial fp=…]`), so a cut never shows a
//! prefix of a value.

use aho_corasick::AhoCorasick;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

use crate::secret::SecretValue;

/// Shortest form searched for, and shortest value prefix scrubbed at a cut.
pub const MIN_FORM: usize = 4;

/// Every spelling of `value` that is searched for (see the module docs),
/// once each; the value itself first.
pub fn forms(value: &str) -> Vec<Zeroizing<String>> {
    let mut out: Vec<Zeroizing<String>> = Vec::new();
    let mut add = |f: String| {
        let f = Zeroizing::new(f);
        if f.len() >= MIN_FORM && !out.iter().any(|g| **g == *f) {
            out.push(f);
        }
    };
    add(value.to_owned());
    // As the `url` target writes a password.
    let userinfo = crate::target::dotenv::url::encode(value);
    add(userinfo.replace("%20", "+"));
    add(userinfo.to_string());
    add(utf8_percent_encode(value, NON_ALPHANUMERIC).to_string());
    if let Ok(quoted) = serde_json::to_string(value).map(Zeroizing::new) {
        let inner = Zeroizing::new(quoted[1..quoted.len() - 1].to_owned());
        add(inner.replace('/', "\\/"));
        add(inner.to_string());
    }
    let bytes = value.as_bytes();
    for f in encodings(bytes) {
        add(f);
    }
    // A value that is itself encoded bytes (a generated key) may be
    // written in another encoding of the same bytes.
    let decoded = [
        STANDARD.decode(bytes).ok(),
        STANDARD_NO_PAD.decode(bytes).ok(),
        URL_SAFE.decode(bytes).ok(),
        URL_SAFE_NO_PAD.decode(bytes).ok(),
        hex::decode(bytes).ok(),
    ];
    for raw in decoded.into_iter().flatten() {
        let raw = Zeroizing::new(raw);
        if raw.len() >= 8 {
            for f in encodings(&raw) {
                add(f);
            }
        }
    }
    out
}

/// `bytes` in base64 (both alphabets, padded and not, and the parts that
/// stay the same at the two other alignments) and hex (both cases).
fn encodings(bytes: &[u8]) -> Vec<String> {
    let mut out = vec![
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        hex::encode(bytes),
        hex::encode_upper(bytes),
    ];
    // Inside a longer base64 text the value may start 0, 1 or 2 bytes
    // into a 3-byte group and be followed by more bytes: encode it behind
    // that many filler bytes and keep only the characters that depend on
    // the value's bytes alone (drop the first group when it mixes in the
    // filler, and the last character of an incomplete last group, which
    // mixes in what follows).
    for shift in 0..3usize {
        let mut shifted = Zeroizing::new(vec![0u8; shift]);
        shifted.extend_from_slice(bytes);
        let start = if shift == 0 { 0 } else { 4 };
        let end = shifted.len() / 3 * 4 + shifted.len() % 3;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let text = Zeroizing::new(engine.encode(&shifted[..]));
            if end > start {
                out.push(text[start..end].to_owned());
            }
        }
    }
    out
}

/// The values to redact, compiled for a linear-time search.
pub struct Redactor {
    search: Option<AhoCorasick>,
    /// Each pattern's form (same index as the search's patterns).
    forms: Vec<Zeroizing<String>>,
    /// Each pattern's value, as an index into `fingerprints`.
    owner: Vec<usize>,
    /// Each value's fingerprint.
    fingerprints: Vec<String>,
}

/// One stretch of the text to replace, and whose values it held.
struct Span {
    start: usize,
    end: usize,
    owners: Vec<usize>,
}

impl Redactor {
    /// A redactor for these values (shorter than [`MIN_FORM`] are ignored).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a SecretValue>) -> Self {
        let mut forms_all = Vec::new();
        let mut owner = Vec::new();
        let mut fingerprints: Vec<String> = Vec::new();
        for v in values {
            if v.expose().len() < MIN_FORM {
                continue;
            }
            let fp = v.fingerprint().to_string();
            let idx = match fingerprints.iter().position(|f| *f == fp) {
                Some(i) => i,
                None => {
                    fingerprints.push(fp);
                    fingerprints.len() - 1
                }
            };
            for f in forms(v.expose()) {
                forms_all.push(f);
                owner.push(idx);
            }
        }
        let search = if forms_all.is_empty() {
            None
        } else {
            AhoCorasick::new(forms_all.iter().map(|f| f.as_bytes())).ok()
        };
        Redactor {
            search,
            forms: forms_all,
            owner,
            fingerprints,
        }
    }

    /// How many bytes past a capture limit must be read so that any form
    /// starting before the limit is whole in the buffer: the longest form
    /// less one.
    pub fn lookahead(&self) -> usize {
        self.forms
            .iter()
            .map(|f| f.len())
            .max()
            .unwrap_or(0)
            .saturating_sub(1)
    }

    /// `text` with every form of every value replaced by its marker.
    pub fn redact(&self, text: &str) -> String {
        self.redact_capture(text.as_bytes(), usize::MAX, false)
    }

    /// A capture of some output redacted and then cut to at most `limit`
    /// bytes of the original (a marker straddling the limit is kept whole).
    /// `more` says bytes were read past the buffer and dropped. Read
    /// [`Redactor::lookahead`] bytes past `limit` so that no form starting
    /// before it is split; when anything was cut, a trailing start of a
    /// form is replaced as well (see the module docs).
    pub fn redact_capture(&self, bytes: &[u8], limit: usize, more: bool) -> String {
        let spans = self.spans(bytes);
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len().min(limit) + 64);
        let mut pos = 0;
        for s in &spans {
            if s.start >= limit {
                break;
            }
            out.extend_from_slice(&bytes[pos..s.start]);
            out.extend_from_slice(self.marker("REDACTED", &s.owners).as_bytes());
            pos = s.end;
        }
        let end = bytes.len().min(limit);
        let cut = more || bytes.len() > limit;
        if pos < end {
            let tail = &bytes[pos..end];
            match cut.then(|| self.partial_at_end(tail)).flatten() {
                Some((k, who)) => {
                    out.extend_from_slice(&tail[..tail.len() - k]);
                    out.extend_from_slice(self.marker("REDACTED partial", &[who]).as_bytes());
                }
                None => out.extend_from_slice(tail),
            }
        }
        let text = String::from_utf8_lossy(&out).into_owned();
        // `out` held every byte kept; wipe it (it is all redacted, but the
        // buffer may have grown from one that held more).
        drop(Zeroizing::new(out));
        text
    }

    /// Every occurrence of any form, overlapping ones merged, in order.
    fn spans(&self, hay: &[u8]) -> Vec<Span> {
        let Some(search) = &self.search else {
            return Vec::new();
        };
        let mut found: Vec<(usize, usize, usize)> = search
            .find_overlapping_iter(hay)
            .map(|m| (m.start(), m.end(), self.owner[m.pattern().as_usize()]))
            .collect();
        found.sort_unstable();
        let mut spans: Vec<Span> = Vec::new();
        for (start, end, who) in found {
            match spans.last_mut() {
                Some(last) if start < last.end => {
                    last.end = last.end.max(end);
                    if !last.owners.contains(&who) {
                        last.owners.push(who);
                    }
                }
                _ => spans.push(Span {
                    start,
                    end,
                    owners: vec![who],
                }),
            }
        }
        spans
    }

    /// The longest `k >= MIN_FORM` such that `tail` ends with the first
    /// `k` bytes of a form (and the form is longer: a whole one was already
    /// replaced), with the form's value.
    fn partial_at_end(&self, tail: &[u8]) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        for (i, f) in self.forms.iter().enumerate() {
            let f = f.as_bytes();
            let longest = f.len().saturating_sub(1).min(tail.len());
            let floor = best.map_or(MIN_FORM, |(k, _)| k + 1);
            for k in (floor..=longest).rev() {
                if tail.ends_with(&f[..k]) {
                    best = Some((k, self.owner[i]));
                    break;
                }
            }
        }
        best
    }

    fn marker(&self, word: &str, owners: &[usize]) -> String {
        let fps: Vec<&str> = owners
            .iter()
            .filter_map(|&o| self.fingerprints.get(o).map(String::as_str))
            .collect();
        format!("[{word} fp={}]", fps.join(","))
    }
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
