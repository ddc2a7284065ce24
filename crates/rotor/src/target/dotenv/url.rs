//! Connection URLs in a dotenv value (`form = "url"`): finding the userinfo
//! of `postgres://user:pass@host:5432/db?sslmode=require` (and `redis://`,
//! several hosts, `[::1]`, no port…), reading its percent-decoded user and
//! password, and writing new ones percent-encoded. Only the userinfo bytes
//! change: no URL library re-serialises the scheme, hosts, path or query.
//! Errors never contain the URL or any part of its userinfo.

use std::ops::Range;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

/// What RFC 3986 lets stand unencoded in a userinfo part, minus the
/// sub-delimiters (which some drivers decode differently): `A-Za-z0-9-._~`.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a URL's user or password could not be read or written. The caller
/// puts the variable and file in front (`DATABASE_URL in .env …`).
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// The value does not start with `scheme://`.
    #[error("is not a URL (expected scheme://user:PASSWORD@host/…), so rotor cannot find its user and password; fix the value, or drop form = \"url\" if it holds the bare secret")]
    NotUrl,
    /// The URL has no `:password` in its userinfo.
    #[error("has no password part ({scheme}://user@host/…); write {scheme}://user:PASSWORD@host/… once, then rotate{hint}")]
    NoPassword {
        /// The URL's scheme (letters, digits, `+-.` only).
        scheme: String,
        /// Extra advice when an `@` appears after the host.
        hint: &'static str,
    },
    /// A percent-decoded part is not UTF-8.
    #[error("has a {part} that is not UTF-8 once percent-decoded")]
    NotUtf8 {
        /// `user` or `password`.
        part: &'static str,
    },
}

/// Where the userinfo of a URL is: byte ranges into the URL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Userinfo {
    /// The user, possibly empty (`redis://:pass@host`).
    pub user: Range<usize>,
    /// The password after the first `:`, if the userinfo has one.
    pub password: Option<Range<usize>>,
}

impl Userinfo {
    /// The whole `user[:password]`, without the `@`.
    pub fn whole(&self) -> Range<usize> {
        self.user.start..self.password.as_ref().map_or(self.user.end, |p| p.end)
    }
}

/// Finds the userinfo of `url`. `Ok(None)` when it has none
/// (`redis://host:6379`); [`UrlError::NotUrl`] unless it starts `scheme://`.
pub fn locate(url: &str) -> Result<Option<Userinfo>, UrlError> {
    let b = url.as_bytes();
    let scheme_end = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
        .unwrap_or(b.len());
    if scheme_end == 0 || !b[0].is_ascii_alphabetic() || !url[scheme_end..].starts_with("://") {
        return Err(UrlError::NotUrl);
    }
    let start = scheme_end + 3;
    // The authority ends at the first '/', '?' or '#' (RFC 3986 3.2); its
    // userinfo ends at the last '@' in it, as libpq, Python and WHATWG read it.
    let end = b[start..]
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#'))
        .map_or(b.len(), |p| start + p);
    let Some(at) = b[start..end].iter().rposition(|&c| c == b'@') else {
        return Ok(None);
    };
    let at = start + at;
    Ok(Some(match b[start..at].iter().position(|&c| c == b':') {
        Some(colon) => Userinfo {
            user: start..start + colon,
            password: Some(start + colon + 1..at),
        },
        None => Userinfo {
            user: start..at,
            password: None,
        },
    }))
}

fn decode(text: &str, part: &'static str) -> Result<Zeroizing<String>, UrlError> {
    let bytes: Zeroizing<Vec<u8>> = Zeroizing::new(percent_decode_str(text).collect());
    let s = std::str::from_utf8(&bytes).map_err(|_| UrlError::NotUtf8 { part })?;
    Ok(Zeroizing::new(s.to_owned()))
}

/// `text` percent-encoded for a userinfo: everything but `A-Za-z0-9-._~`.
pub fn encode(text: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len() * 3));
    for piece in utf8_percent_encode(text, USERINFO) {
        out.push_str(piece);
    }
    out
}

/// The percent-decoded user of `url`; `None` without a userinfo or with an
/// empty user.
pub fn user(url: &str) -> Result<Option<Zeroizing<String>>, UrlError> {
    let Some(ui) = locate(url)? else {
        return Ok(None);
    };
    let user = decode(&url[ui.user], "user")?;
    Ok((!user.is_empty()).then_some(user))
}

/// The percent-decoded password of `url`; `None` without a password part
/// or with an empty one.
pub fn password(url: &str) -> Result<Option<Zeroizing<String>>, UrlError> {
    let Some(range) = locate(url)?.and_then(|ui| ui.password) else {
        return Ok(None);
    };
    let password = decode(&url[range], "password")?;
    Ok((!password.is_empty()).then_some(password))
}

/// The smallest change to `url` that gives it `password` (and `user`, when
/// `Some`; `None` keeps the user): a byte range of its userinfo and the
/// percent-encoded text that replaces it. A part that already decodes to the
/// wanted text keeps its bytes, so rendering twice equals rendering once, and
/// the replacement only ever holds `A-Za-z0-9-._~%:`.
pub fn edit(
    url: &str,
    user: Option<&str>,
    password: &str,
) -> Result<(Range<usize>, Zeroizing<String>), UrlError> {
    let ui = locate(url)?;
    let Some((ui, old_password)) = ui
        .as_ref()
        .and_then(|ui| ui.password.clone().map(|p| (ui, p)))
    else {
        let scheme = url.find("://").map_or("", |end| &url[..end]);
        // No '@' in the authority, but one later: probably a raw '/', '?' or
        // '#' in the password that ended the authority early.
        let misread = ui.is_none() && url.contains('@');
        return Err(UrlError::NoPassword {
            scheme: scheme.to_owned(),
            hint: if misread {
                " (if the user or password holds '/', '?' or '#', percent-encode them as %2F, %3F, %23)"
            } else {
                ""
            },
        });
    };
    // The encoded text for a part unless it already decodes to `want` (a part
    // that does not decode at all is replaced).
    let change = |range: Range<usize>, want: &str, part| match decode(&url[range], part) {
        Ok(now) if now.as_str() == want => None,
        _ => Some(encode(want)),
    };
    let new_user = user.and_then(|u| change(ui.user.clone(), u, "user"));
    let new_password = change(old_password.clone(), password, "password");
    Ok(match (new_user, new_password) {
        (None, None) => (
            old_password.start..old_password.start,
            Zeroizing::new(String::new()),
        ),
        (None, Some(p)) => (old_password, p),
        (Some(u), None) => (ui.user.clone(), u),
        (Some(u), Some(p)) => {
            let mut text = Zeroizing::new(String::with_capacity(u.len() + p.len() + 1));
            text.push_str(&u);
            text.push(':');
            text.push_str(&p);
            (ui.whole(), text)
        }
    })
}

/// `url` with `password` (and `user`, when `Some`) written into its userinfo,
/// every other byte kept. See [`edit`].
pub fn render(
    url: &str,
    user: Option<&str>,
    password: &str,
) -> Result<Zeroizing<String>, UrlError> {
    let (range, text) = edit(url, user, password)?;
    let mut out = Zeroizing::new(String::with_capacity(url.len() + text.len()));
    out.push_str(&url[..range.start]);
    out.push_str(&text);
    out.push_str(&url[range.end..]);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "url_tests.rs"]
mod tests;
