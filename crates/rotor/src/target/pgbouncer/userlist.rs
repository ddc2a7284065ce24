//! PgBouncer's `auth_file` (`userlist.txt`), edited byte for byte: one
//! `"user" "password"` line per login, `"` inside a field doubled. Lines
//! that do not start with `"` (comments, blank lines) and the lines of
//! every user rotor does not manage are kept exactly, and so are the
//! file's line endings.

use zeroize::Zeroizing;

/// Why a userlist cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum UserlistError {
    /// A line that starts like an entry is not one (the message holds the
    /// line number, never the line).
    #[error("line {line} is not a \"user\" \"password\" entry ({why}); fix it by hand")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// A user name or password that cannot be written into the file.
    #[error(
        "the {what} for {user} contains a line break or NUL, which a userlist line cannot hold"
    )]
    Unrepresentable {
        /// The login.
        user: String,
        /// `password` or `user name`.
        what: &'static str,
    },
}

/// One line: its bytes without the ending, and the ending (`\n`, `\r\n`
/// or nothing for a last line without one).
struct Line {
    text: Zeroizing<Vec<u8>>,
    ending: &'static [u8],
}

/// A userlist file, parsed just enough to find each user's line.
pub struct Userlist {
    lines: Vec<Line>,
}

/// The user and password of an entry line, or `None` for a line that is
/// not an entry (comment, blank).
fn entry(text: &[u8], line: usize) -> Result<Option<(String, Zeroizing<String>)>, UserlistError> {
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    if text.get(start) != Some(&b'"') {
        return Ok(None);
    }
    let bad = |why| UserlistError::Malformed { line, why };
    let (user, rest) = quoted(&text[start..]).ok_or_else(|| bad("unterminated user name"))?;
    let rest = &rest[rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(rest.len())..];
    if rest.first() != Some(&b'"') {
        return Err(bad("no quoted password after the user name"));
    }
    let (password, _) = quoted(rest).ok_or_else(|| bad("unterminated password"))?;
    let user = String::from_utf8(user.to_vec()).map_err(|_| bad("user name is not UTF-8"))?;
    let password = Zeroizing::new(
        String::from_utf8(password.to_vec()).map_err(|_| bad("password is not UTF-8"))?,
    );
    Ok(Some((user, password)))
}

/// The field of `s` (which starts with `"`) with `""` undoubled, and what
/// follows its closing quote.
fn quoted(s: &[u8]) -> Option<(Zeroizing<Vec<u8>>, &[u8])> {
    let mut out = Zeroizing::new(Vec::new());
    let mut i = 1;
    while i < s.len() {
        if s[i] == b'"' {
            if s.get(i + 1) == Some(&b'"') {
                out.push(b'"');
                i += 2;
                continue;
            }
            return Some((out, &s[i + 1..]));
        }
        out.push(s[i]);
        i += 1;
    }
    None
}

/// `"field"` with `"` doubled.
fn quote(field: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for b in field.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

impl Userlist {
    /// Parses `bytes`; fails only on a line that starts with `"` but is
    /// not a complete entry.
    pub fn parse(bytes: &[u8]) -> Result<Userlist, UserlistError> {
        let mut lines = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (text, ending, next) = match rest.iter().position(|b| *b == b'\n') {
                Some(i) if i > 0 && rest[i - 1] == b'\r' => {
                    (&rest[..i - 1], &b"\r\n"[..], &rest[i + 1..])
                }
                Some(i) => (&rest[..i], &b"\n"[..], &rest[i + 1..]),
                None => (rest, &b""[..], &rest[rest.len()..]),
            };
            entry(text, lines.len() + 1)?;
            lines.push(Line {
                text: Zeroizing::new(text.to_vec()),
                ending,
            });
            rest = next;
        }
        Ok(Userlist { lines })
    }

    /// Indexes of `user`'s lines.
    fn of(&self, user: &str) -> Vec<usize> {
        self.lines
            .iter()
            .enumerate()
            .filter(|(i, l)| matches!(entry(&l.text, i + 1), Ok(Some((u, _))) if u == user))
            .map(|(i, _)| i)
            .collect()
    }

    /// The password on `user`'s (first) line.
    pub fn password(&self, user: &str) -> Option<Zeroizing<String>> {
        let i = *self.of(user).first()?;
        entry(&self.lines[i].text, i + 1)
            .ok()
            .flatten()
            .map(|(_, p)| p)
    }

    /// The bytes of `user`'s lines (without endings), in file order.
    pub fn raw_lines(&self, user: &str) -> Vec<Zeroizing<Vec<u8>>> {
        self.of(user)
            .into_iter()
            .map(|i| self.lines[i].text.clone())
            .collect()
    }

    /// Sets `user`'s line to `"user" "password"` (every line of the user,
    /// should there be several), or appends one.
    pub fn set(&mut self, user: &str, password: &str) -> Result<(), UserlistError> {
        for (what, field) in [("user name", user), ("password", password)] {
            if field.contains(['\n', '\r', '\0']) {
                return Err(UserlistError::Unrepresentable {
                    user: user.to_owned(),
                    what,
                });
            }
        }
        let mut text = Zeroizing::new(Vec::new());
        quote(user, &mut text);
        text.push(b' ');
        quote(password, &mut text);
        let found = self.of(user);
        if found.is_empty() {
            self.append(text);
        } else {
            for i in found {
                self.lines[i].text = text.clone();
            }
        }
        Ok(())
    }

    /// Makes `user`'s lines exactly `raw` (the lines of another version of
    /// the file): replaced in place, extra ones removed, missing ones
    /// appended; none when `raw` is empty.
    pub fn set_raw(&mut self, user: &str, raw: &[Zeroizing<Vec<u8>>]) {
        if self
            .raw_lines(user)
            .iter()
            .map(|l| &l[..])
            .eq(raw.iter().map(|l| &l[..]))
        {
            return;
        }
        let found = self.of(user);
        for (n, i) in found.iter().enumerate().rev() {
            match raw.get(n) {
                Some(r) => self.lines[*i].text = r.clone(),
                None => {
                    let gone = self.lines.remove(*i);
                    // A last line without an ending passes that on.
                    if gone.ending.is_empty() && *i == self.lines.len() && *i > 0 {
                        self.lines[*i - 1].ending = b"";
                    }
                }
            }
        }
        for r in raw.iter().skip(found.len()) {
            self.append(r.clone());
        }
    }

    /// Appends a line with the file's line ending, ending the last line
    /// first if it has none.
    fn append(&mut self, text: Zeroizing<Vec<u8>>) {
        let ending: &'static [u8] = match self.lines.first() {
            Some(l) if l.ending == b"\r\n" => b"\r\n",
            _ => b"\n",
        };
        if let Some(last) = self.lines.last_mut() {
            if last.ending.is_empty() {
                last.ending = ending;
            }
        }
        self.lines.push(Line { text, ending });
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        for l in &self.lines {
            out.extend_from_slice(&l.text);
            out.extend_from_slice(l.ending);
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "userlist_tests.rs"]
mod tests;
