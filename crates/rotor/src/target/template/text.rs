//! A template's text: literal bytes with `{{current}}`, `{{previous}}` and
//! `{{user}}` placeholders (spaces inside the braces allowed), parsed once
//! when the inventory is loaded. Rendering fills the placeholders and keeps
//! every other byte; reading matches a rendered file against the template
//! line by line (a value never holds a newline, so line N of the file is
//! line N of the template with its placeholders filled).

use std::fmt;

use zeroize::Zeroizing;

use crate::secret::Fingerprint;

/// A placeholder: where one of the secret's values goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// `{{current}}`: the value consumers use now (required).
    Current,
    /// `{{previous}}`: the value they still accept during an overlap.
    Previous,
    /// `{{user}}`: the login that goes with the current value.
    User,
}

impl Slot {
    /// The placeholder's name as written between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Slot::Current => "current",
            Slot::Previous => "previous",
            Slot::User => "user",
        }
    }

    fn named(name: &str) -> Option<Slot> {
        match name {
            "current" => Some(Slot::Current),
            "previous" => Some(Slot::Previous),
            "user" => Some(Slot::User),
            _ => None,
        }
    }
}

/// Why a template's text was refused (never quotes the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{name}}` that rotor does not fill.
    #[error("line {line}: unknown placeholder {{{{{name}}}}}; rotor fills {{{{current}}}}, {{{{previous}}}} and {{{{user}}}}")]
    Unknown {
        /// 1-based line in the template.
        line: usize,
        /// What stood between the braces (shortened).
        name: String,
    },
    /// `{{` without `}}` on the same line.
    #[error("line {line}: {{{{ is not closed by }}}} on the same line; write a placeholder as {{{{current}}}}")]
    Unclosed {
        /// 1-based line in the template.
        line: usize,
    },
    /// No `{{current}}` anywhere.
    #[error("has no {{{{current}}}} placeholder; rotor would write a file without the secret. Put {{{{current}}}} where the secret goes")]
    NoCurrent,
}

/// Why a file does not read back against its template (never quotes a
/// value or a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// The first line (1-based) where the file differs from the template
    /// outside the placeholders.
    Differs(usize),
    /// One placeholder holds different values on two lines.
    Disagree {
        /// The placeholder.
        slot: Slot,
        /// The line of its first value.
        first: usize,
        /// The line of the value that differs.
        line: usize,
    },
    /// A placeholder holds bytes that are not UTF-8.
    NotText(usize),
}

#[derive(Clone, PartialEq, Eq)]
enum Part {
    Text(Vec<u8>),
    Slot(Slot),
}

/// A parsed template. Its `Debug` shows a fingerprint of the text, not the
/// text (a template may hold other credentials of the operator's).
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    /// One entry per line, each line's `\n` (if any) in its last text part.
    lines: Vec<Vec<Part>>,
    fingerprint: Fingerprint,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("lines", &self.lines.len())
            .field("fingerprint", &self.fingerprint.to_string())
            .finish_non_exhaustive()
    }
}

/// The values a rendered file holds, as read back (borrowed from it). No
/// `Debug`: it holds values.
#[derive(Default)]
pub struct Captured<'f> {
    /// `{{current}}`'s value, if the template has the placeholder.
    pub current: Option<&'f [u8]>,
    /// `{{previous}}`'s value, if the template has the placeholder.
    pub previous: Option<&'f [u8]>,
    /// `{{user}}`'s value, if the template has the placeholder.
    pub user: Option<&'f [u8]>,
}

impl<'f> Captured<'f> {
    fn slot(&mut self, s: Slot) -> &mut Option<&'f [u8]> {
        match s {
            Slot::Current => &mut self.current,
            Slot::Previous => &mut self.previous,
            Slot::User => &mut self.user,
        }
    }

    /// The value at `s`, if the template has the placeholder.
    pub fn get(&self, s: Slot) -> Option<&'f [u8]> {
        match s {
            Slot::Current => self.current,
            Slot::Previous => self.previous,
            Slot::User => self.user,
        }
    }
}

/// What to write at each placeholder.
pub struct Values<'a> {
    /// At `{{current}}`.
    pub current: &'a str,
    /// At `{{previous}}`.
    pub previous: &'a str,
    /// At `{{user}}`.
    pub user: &'a str,
}

impl Values<'_> {
    /// What goes at `s`.
    pub fn get(&self, s: Slot) -> &str {
        match s {
            Slot::Current => self.current,
            Slot::Previous => self.previous,
            Slot::User => self.user,
        }
    }
}

/// Longest placeholder name quoted in an error.
const MAX_NAME: usize = 40;

impl Template {
    /// Parses a template's bytes; it must hold `{{current}}` at least once.
    pub fn parse(text: &[u8]) -> Result<Template, TemplateError> {
        let mut lines = Vec::new();
        for (i, raw) in text.split_inclusive(|b| *b == b'\n').enumerate() {
            lines.push(parse_line(raw, i + 1)?);
        }
        let t = Template {
            lines,
            fingerprint: Fingerprint::of(text),
        };
        if t.first_line(Slot::Current).is_none() {
            return Err(TemplateError::NoCurrent);
        }
        Ok(t)
    }

    /// The first line (1-based) that holds placeholder `s`, if any.
    pub fn first_line(&self, s: Slot) -> Option<usize> {
        self.lines
            .iter()
            .position(|parts| parts.contains(&Part::Slot(s)))
            .map(|i| i + 1)
    }

    /// The fingerprint of the template's text.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Whether the template holds placeholder `s`.
    pub fn uses(&self, s: Slot) -> bool {
        self.first_line(s).is_some()
    }

    /// The template with every placeholder filled.
    pub fn render(&self, values: &Values<'_>) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        for part in self.lines.iter().flatten() {
            match part {
                Part::Text(t) => out.extend_from_slice(t),
                Part::Slot(s) => out.extend_from_slice(values.get(*s).as_bytes()),
            }
        }
        out
    }

    /// Reads the placeholders' values back from `file`: its bytes outside
    /// the placeholders must be the template's, and a placeholder that
    /// appears several times must hold one value.
    pub fn read<'f>(&self, file: &'f [u8]) -> Result<Captured<'f>, Mismatch> {
        let mut file_lines = file.split_inclusive(|b| *b == b'\n');
        let mut out = Captured::default();
        let mut first_at = [0usize; 3];
        let mut caps = Vec::new();
        for (i, parts) in self.lines.iter().enumerate() {
            let line = i + 1;
            let Some(f) = file_lines.next() else {
                return Err(Mismatch::Differs(line));
            };
            caps.clear();
            if !match_parts(parts, f, &mut caps) {
                return Err(Mismatch::Differs(line));
            }
            for (slot, value) in caps.drain(..) {
                if std::str::from_utf8(value).is_err() {
                    return Err(Mismatch::NotText(line));
                }
                let held = out.slot(slot);
                match held {
                    None => {
                        *held = Some(value);
                        first_at[slot as usize] = line;
                    }
                    Some(v) if *v == value => {}
                    Some(_) => {
                        return Err(Mismatch::Disagree {
                            slot,
                            first: first_at[slot as usize],
                            line,
                        })
                    }
                }
            }
        }
        if file_lines.next().is_some() {
            return Err(Mismatch::Differs(self.lines.len() + 1));
        }
        Ok(out)
    }
}

/// One line of a template, `\n` included.
fn parse_line(raw: &[u8], line: usize) -> Result<Vec<Part>, TemplateError> {
    let mut parts = Vec::new();
    let mut text = Vec::new();
    let mut rest = raw;
    while let Some(open) = find(rest, b"{{") {
        text.extend_from_slice(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = find(after, b"}}") else {
            return Err(TemplateError::Unclosed { line });
        };
        let inner = &after[..close];
        if inner.contains(&b'\n') {
            return Err(TemplateError::Unclosed { line });
        }
        let name = String::from_utf8_lossy(inner);
        let name = name.trim_matches([' ', '\t']);
        let Some(slot) = Slot::named(name) else {
            return Err(TemplateError::Unknown {
                line,
                name: name.chars().take(MAX_NAME).collect(),
            });
        };
        if !text.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut text)));
        }
        parts.push(Part::Slot(slot));
        rest = &after[close + 2..];
    }
    text.extend_from_slice(rest);
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether `s` (one line of a file) is `parts` with each placeholder
/// filled by bytes without a newline; pushes each placeholder's value.
/// Earlier placeholders take the shortest value that lets the rest match;
/// the last one on a line takes what the text after it leaves.
fn match_parts<'f>(parts: &[Part], s: &'f [u8], caps: &mut Vec<(Slot, &'f [u8])>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return s.is_empty();
    };
    match first {
        Part::Text(t) => s.starts_with(t) && match_parts(rest, &s[t.len()..], caps),
        Part::Slot(slot) => {
            let longest = s.iter().position(|b| *b == b'\n').unwrap_or(s.len());
            if !rest.iter().any(|p| matches!(p, Part::Slot(_))) {
                // Only text follows: its length fixes the value's.
                let tail: usize = rest
                    .iter()
                    .map(|p| match p {
                        Part::Text(t) => t.len(),
                        Part::Slot(_) => 0,
                    })
                    .sum();
                let Some(n) = s.len().checked_sub(tail) else {
                    return false;
                };
                if n > longest {
                    return false;
                }
                caps.push((*slot, &s[..n]));
                if match_parts(rest, &s[n..], caps) {
                    return true;
                }
                caps.pop();
                return false;
            }
            for n in 0..=longest {
                caps.push((*slot, &s[..n]));
                if match_parts(rest, &s[n..], caps) {
                    return true;
                }
                caps.pop();
            }
            false
        }
    }
}
