//! Lossless dotenv editor: parses a `.env` file into per-assignment byte spans and
//! changes one value at a time so that every other byte of the file stays identical.
//!
//! Accepted: blank lines, `#` comments, `[export ]KEY[ ]=[ ]VALUE[ # comment]` with KEY
//! `[A-Za-z_][A-Za-z0-9_.]*` and VALUE empty, unquoted (ends at blank + `#`), `'single'`
//! (literal) or `"double"` (escapes `\\ \" \' \$ \n \r \t`); quoted values may span
//! lines, and those lines are not assignments. Rejected with the line number, because
//! dotenvy 0.15 and python-dotenv 1.x would split or decode them differently: quotes or
//! backslashes in unquoted values, `\\` or `\'` in single quotes, other escapes, a
//! double-quoted value ending in a backslash, text glued to a closing quote, a lone CR,
//! invalid UTF-8, a leading byte order mark ([`EnvError::Bom`]: python-dotenv makes it part
//! of the first name), and any variable assigned twice ([`EnvError::Duplicate`], at parse time).
//! Still accepted though readers differ (we never write these): blanks inside unquoted
//! values (dotenvy rejects the file), `\r`/`\t` (dotenvy rejects), `\$` (python keeps the
//! backslash), `KEY= # comment` (python reads the comment as the value).
//! [`EnvDoc::get`] follows dotenvy, without `$VAR` interpolation. [`EnvDoc::set`] only
//! writes text both readers decode to exactly the value. Errors never contain values.

use std::collections::HashMap;
use std::fmt;

use zeroize::Zeroizing;

#[cfg(test)]
thread_local! {
    /// How many times this thread parsed an env file, so tests can check a
    /// command parses each file a fixed number of times, however many
    /// secrets it holds.
    pub(crate) static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Why an env file could not be read or edited. Messages never include a value.
#[derive(Debug, Clone, thiserror::Error)]
#[allow(missing_docs)] // each field is named in its variant's message
pub enum EnvError {
    /// The file is not a dotenv file rotor can edit without changing its meaning.
    #[error("line {line}: {message}")]
    Parse { line: usize, message: String },
    /// The file starts with a UTF-8 byte order mark.
    #[error("starts with a UTF-8 byte order mark (BOM), on which dotenv readers disagree (python-dotenv makes it part of the first variable's name; dotenvy skips it when it loads the environment and rejects the line when it iterates); remove it (the first 3 bytes, EF BB BF) and save the file as UTF-8 without BOM")]
    Bom,
    /// The same variable is assigned twice.
    #[error("{var} is assigned on lines {first} and {second}; dotenv readers disagree on which wins, so remove one")]
    Duplicate {
        var: String,
        first: usize,
        second: usize,
    },
    /// No quoting makes dotenvy and python-dotenv both read back exactly this value.
    #[error("the new value for {var} cannot be written to a dotenv file without changing its meaning (it contains {what})")]
    Unrepresentable { var: String, what: &'static str },
    /// The variable name itself cannot appear in a dotenv file.
    #[error("{var:?} is not a valid dotenv variable name (expected [A-Za-z_][A-Za-z0-9_.]*)")]
    InvalidName { var: String },
    /// A change inside a value was asked of a variable the file does not assign.
    #[error("{var} is not assigned in this file")]
    NotAssigned { var: String },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Quote {
    None,
    Single,
    Double,
}

struct Assignment {
    key: String,
    line: usize,
    /// Byte range of the whole assignment including its line terminator.
    span: (usize, usize),
    /// Byte range of the value including its quotes.
    value: (usize, usize),
    quote: Quote,
}

/// A parsed dotenv file that can be edited without disturbing unrelated bytes.
pub struct EnvDoc {
    bytes: Zeroizing<Vec<u8>>,
    assignments: Vec<Assignment>,
    /// Position in `assignments` of each variable, so a lookup does not scan
    /// the file (env files can hold thousands of variables).
    index: HashMap<String, usize>,
    lines: usize,
}

impl fmt::Debug for EnvDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvDoc")
            .field("lines", &self.lines)
            .field("vars", &self.vars())
            .finish_non_exhaustive()
    }
}

/// Characters every quoting (none, single, double) reads literally, so they can
/// replace part of a value without touching its quotes: RFC 3986 unreserved
/// characters plus `%` and `:` (a percent-encoded URL userinfo).
fn is_literal_everywhere(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~%:".contains(c)
}

/// Offset in the raw value text (quotes included) where decoded byte `at`
/// starts, or `None` if `at` falls inside an escape or past the end.
fn raw_offset(raw: &str, quote: Quote, at: usize) -> Option<usize> {
    match quote {
        Quote::None => (at <= raw.len()).then_some(at),
        Quote::Single => (at + 2 <= raw.len()).then_some(at + 1),
        Quote::Double => {
            let inner = &raw[1..raw.len() - 1];
            let (mut i, mut decoded) = (0, 0);
            while decoded < at {
                let c = inner[i..].chars().next()?;
                // Every escape the parser accepts decodes to one ASCII byte.
                let (raw_len, out_len) = if c == '\\' {
                    (2, 1)
                } else {
                    (c.len_utf8(), c.len_utf8())
                };
                i += raw_len;
                decoded += out_len;
            }
            (decoded == at).then_some(1 + i)
        }
    }
}

/// Characters written without quotes: safe for dotenvy, python-dotenv and `sh`.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-.+/=:@%,~".contains(c)
}

fn is_key(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

fn perr(line: usize, message: &str) -> EnvError {
    EnvError::Parse {
        line,
        message: message.to_string(),
    }
}

/// End of the line's content (before `\r\n` / `\n`) starting the search at `i`.
fn content_end(b: &[u8], i: usize) -> usize {
    let nl = b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p);
    if nl > i && b[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    }
}

/// Position just after the terminator of the line containing `i`.
fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p + 1)
}

fn count_newlines(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

fn skip_ws(b: &[u8], i: &mut usize) {
    while matches!(b.get(*i), Some(b' ' | b'\t')) {
        *i += 1;
    }
}

fn take_key(b: &[u8], i: &mut usize) -> Option<(usize, usize)> {
    let start = *i;
    if !matches!(b.get(start), Some(c) if c.is_ascii_alphabetic() || *c == b'_') {
        return None;
    }
    *i += 1;
    while matches!(b.get(*i), Some(c) if c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.') {
        *i += 1;
    }
    Some((start, *i))
}

/// Parses the assignment starting at byte `start` (line `line`); `text` is valid UTF-8.
fn parse_assignment(text: &str, start: usize, line: usize) -> Result<Assignment, EnvError> {
    let b = text.as_bytes();
    let mut i = start;
    skip_ws(b, &mut i);
    let mut key = take_key(b, &mut i)
        .ok_or_else(|| perr(line, "expected KEY=value, a # comment or a blank line"))?;
    skip_ws(b, &mut i);
    if &text[key.0..key.1] == "export" && b.get(i) != Some(&b'=') {
        key = take_key(b, &mut i)
            .ok_or_else(|| perr(line, "expected a variable name after `export`"))?;
        skip_ws(b, &mut i);
    }
    if b.get(i) != Some(&b'=') {
        return Err(perr(line, "expected `=` after the variable name"));
    }
    i += 1;
    let eq_end = i;
    skip_ws(b, &mut i);
    let (value, quote) = match b.get(i) {
        None | Some(b'\r' | b'\n' | b'#') => ((eq_end, eq_end), Quote::None),
        Some(b'\'') => {
            let close = b[i + 1..]
                .iter()
                .position(|&c| c == b'\'')
                .map(|p| i + 1 + p)
                .ok_or_else(|| {
                    perr(
                        line,
                        "unterminated single-quoted value (the quote opens on this line)",
                    )
                })?;
            let raw = &text[i..=close];
            if raw.contains("\\'") || raw.contains("\\\\") {
                let msg = "`\\'` or `\\\\` inside single quotes: python-dotenv treats them as escapes, dotenvy does not";
                return Err(perr(line, msg));
            }
            ((i, close + 1), Quote::Single)
        }
        Some(b'"') => {
            let mut j = i + 1;
            loop {
                match b.get(j) {
                    None => {
                        let msg = "unterminated double-quoted value (the quote opens on this line)";
                        return Err(perr(line, msg));
                    }
                    Some(b'\\') => match b.get(j + 1) {
                        Some(b'\\' | b'"' | b'\'' | b'$' | b'n' | b'r' | b't') => j += 2,
                        _ => {
                            let l = line + count_newlines(&b[start..j]);
                            let msg = "unsupported escape in double-quoted value (use \\\\ \\\" \\' \\$ \\n \\r or \\t)";
                            return Err(perr(l, msg));
                        }
                    },
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            if b[j - 1] == b'\\' {
                let l = line + count_newlines(&b[start..j]);
                return Err(perr(
                    l,
                    "double-quoted value ends in a backslash, which python-dotenv misreads",
                ));
            }
            ((i, j + 1), Quote::Double)
        }
        Some(_) => {
            let end = content_end(b, i);
            let mut v = end;
            for k in i..end {
                if matches!(b[k], b' ' | b'\t')
                    && text[k..end]
                        .trim_start_matches([' ', '\t'])
                        .starts_with('#')
                {
                    v = k;
                    break;
                }
            }
            let v = i + text[i..v].trim_end_matches([' ', '\t']).len();
            if b[i..v].iter().any(|c| matches!(c, b'\'' | b'"' | b'\\')) {
                let msg = "unquoted value contains a quote or backslash, which dotenv readers interpret differently; quote the value";
                return Err(perr(line, msg));
            }
            ((i, v), Quote::None)
        }
    };
    if quote != Quote::None {
        let rest = &text[value.1..content_end(b, value.1)];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if !trimmed.is_empty() && (trimmed.len() == rest.len() || !trimmed.starts_with('#')) {
            let l = line + count_newlines(&b[start..value.1]);
            return Err(perr(l, "unexpected text after the closing quote (an inline comment needs a space before #)"));
        }
    }
    Ok(Assignment {
        key: text[key.0..key.1].to_string(),
        line,
        span: (start, line_end(b, value.1)),
        value,
        quote,
    })
}

fn decode(raw: &str, quote: Quote) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(raw.len()));
    match quote {
        Quote::None => out.push_str(raw),
        Quote::Single => out.push_str(&raw[1..raw.len() - 1]),
        Quote::Double => {
            let mut chars = raw[1..raw.len() - 1].chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                out.push(match chars.next() {
                    Some('n') => '\n',
                    Some('r') => '\r',
                    Some('t') => '\t',
                    Some(other) => other,
                    None => '\\',
                });
            }
        }
    }
    out
}

/// Why `value` cannot be written with `quote`, or `None` if it can.
/// With `visible`, an empty value must still be written as `''`: a comment or blank
/// follows `=` (python-dotenv would read the comment, dotenvy rejects blanks at EOF).
fn obstacle(value: &str, quote: Quote, visible: bool) -> Option<&'static str> {
    if value.contains('\r') {
        return Some("a carriage return");
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Some("a control character");
    }
    match quote {
        Quote::None if value.is_empty() && visible => Some("nothing before an inline comment"),
        Quote::None if value.chars().all(is_plain) => None,
        Quote::None => Some("characters that need quoting"),
        Quote::Single if value.contains("${") => Some("'${', which python-dotenv interpolates"),
        Quote::Single if value.contains(['\'', '\\', '\n']) => {
            Some("a single quote, backslash or line break")
        }
        Quote::Single => None,
        Quote::Double if value.contains("${") => Some("'${', which python-dotenv interpolates"),
        Quote::Double if value.contains('$') => {
            Some("'$' together with a single quote, backslash or line break")
        }
        Quote::Double if value.ends_with('\\') => Some("a trailing backslash"),
        Quote::Double => None,
    }
}

/// Renders `value` in `preferred` quoting if that keeps its meaning, else the first of
/// unquoted, single, double that does.
fn render(
    var: &str,
    value: &str,
    preferred: Quote,
    visible: bool,
) -> Result<Zeroizing<String>, EnvError> {
    let order = [preferred, Quote::None, Quote::Single, Quote::Double];
    let quote = order
        .into_iter()
        .find(|&q| obstacle(value, q, visible).is_none())
        .ok_or_else(|| EnvError::Unrepresentable {
            var: var.to_string(),
            what: obstacle(value, Quote::Double, visible).unwrap_or("a character"),
        })?;
    let mut out = Zeroizing::new(String::with_capacity(value.len() + 8));
    match quote {
        Quote::None => out.push_str(value),
        Quote::Single => {
            out.push('\'');
            out.push_str(value);
            out.push('\'');
        }
        Quote::Double => {
            out.push('"');
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
    }
    Ok(out)
}

impl EnvDoc {
    /// Parses `bytes` (UTF-8). Rejects duplicates and constructs readers disagree on.
    pub fn parse(bytes: &[u8]) -> Result<EnvDoc, EnvError> {
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            return Err(EnvError::Bom);
        }
        #[cfg(test)]
        PARSES.with(|n| n.set(n.get() + 1));
        let line_at = |pos: usize| 1 + count_newlines(&bytes[..pos]);
        let text = std::str::from_utf8(bytes)
            .map_err(|e| perr(line_at(e.valid_up_to()), "not valid UTF-8"))?;
        if let Some(p) =
            (0..bytes.len()).find(|&p| bytes[p] == b'\r' && bytes.get(p + 1) != Some(&b'\n'))
        {
            return Err(perr(
                line_at(p),
                "carriage return without a following line feed",
            ));
        }
        let mut assignments: Vec<Assignment> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let (mut pos, mut line) = (0, 1);
        while pos < bytes.len() {
            let rest = text[pos..content_end(bytes, pos)].trim_start_matches([' ', '\t']);
            let next = if rest.is_empty() || rest.starts_with('#') {
                line_end(bytes, pos)
            } else {
                let a = parse_assignment(text, pos, line)?;
                if let Some(&first) = index.get(&a.key) {
                    return Err(EnvError::Duplicate {
                        var: a.key,
                        first: assignments[first].line,
                        second: line,
                    });
                }
                index.insert(a.key.clone(), assignments.len());
                let end = a.span.1;
                assignments.push(a);
                end
            };
            line += count_newlines(&bytes[pos..next]);
            pos = next;
        }
        let lines = line - usize::from(bytes.last().is_none_or(|&c| c == b'\n'));
        Ok(EnvDoc {
            bytes: Zeroizing::new(bytes.to_vec()),
            assignments,
            index,
            lines,
        })
    }

    fn find(&self, var: &str) -> Option<&Assignment> {
        self.index.get(var).map(|&i| &self.assignments[i])
    }

    fn text(&self, range: (usize, usize)) -> &str {
        // Parsing verified UTF-8 and every range ends on an ASCII delimiter.
        std::str::from_utf8(&self.bytes[range.0..range.1]).unwrap_or_default()
    }

    /// Decoded value as dotenvy reads it (quotes removed, double-quote escapes decoded),
    /// without `$VAR` interpolation.
    pub fn get(&self, var: &str) -> Option<Zeroizing<String>> {
        self.find(var).map(|a| decode(self.text(a.value), a.quote))
    }

    /// 1-based line on which `var` is assigned.
    pub fn line_of(&self, var: &str) -> Option<usize> {
        self.find(var).map(|a| a.line)
    }

    /// Assigned variable names in file order.
    pub fn vars(&self) -> Vec<String> {
        self.assignments.iter().map(|a| a.key.clone()).collect()
    }

    /// The whole file.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        self.bytes.clone()
    }

    /// Exact bytes of `var`'s assignment (all its lines) including the line ending.
    pub fn raw_line(&self, var: &str) -> Option<Zeroizing<Vec<u8>>> {
        self.find(var)
            .map(|a| Zeroizing::new(self.bytes[a.span.0..a.span.1].to_vec()))
    }

    /// `\r\n` if most terminated lines use it, else `\n`.
    fn line_ending(&self) -> &'static str {
        let lf = count_newlines(&self.bytes);
        let crlf = self.bytes.windows(2).filter(|w| w == b"\r\n").count();
        if crlf * 2 > lf {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Current bytes with a terminator added to an unterminated last line.
    fn terminated(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(self.bytes.len() + 64));
        out.extend_from_slice(&self.bytes);
        if out.last().is_some_and(|&c| c != b'\n') {
            out.extend_from_slice(self.line_ending().as_bytes());
        }
        out
    }

    fn reparse(&mut self, bytes: &[u8]) -> Result<(), EnvError> {
        *self = EnvDoc::parse(bytes)?;
        Ok(())
    }

    /// Sets `var` to `value`: only the value bytes of an existing assignment change (its
    /// quoting is kept when it can carry the value), or `VAR=value` is appended.
    pub fn set(&mut self, var: &str, value: &str) -> Result<(), EnvError> {
        if !is_key(var) {
            return Err(EnvError::InvalidName {
                var: var.to_string(),
            });
        }
        let mut out = Zeroizing::new(Vec::with_capacity(self.bytes.len() + value.len() + 64));
        match self.find(var) {
            Some(a) => {
                let trailing = self.text((a.value.1, content_end(&self.bytes, a.value.1)));
                let comment = trailing.trim_start_matches([' ', '\t']).starts_with('#');
                let glued = !trailing.is_empty() && !trailing.starts_with([' ', '\t']);
                let spaced = matches!(self.bytes[a.value.0 - 1], b' ' | b'\t');
                let rendered = render(var, value, a.quote, comment || spaced)?;
                out.extend_from_slice(&self.bytes[..a.value.0]);
                out.extend_from_slice(rendered.as_bytes());
                if glued {
                    out.push(b' ');
                }
                out.extend_from_slice(&self.bytes[a.value.1..]);
            }
            None => {
                let rendered = render(var, value, Quote::None, false)?;
                let ending = self.line_ending();
                out.extend_from_slice(&self.terminated());
                out.extend_from_slice(var.as_bytes());
                out.push(b'=');
                out.extend_from_slice(rendered.as_bytes());
                out.extend_from_slice(ending.as_bytes());
            }
        }
        self.reparse(&out)
    }

    /// Whether [`Self::set`] could write `value` into `var`, checked without
    /// rewriting the document (the cost is the value's, not the file's): the
    /// same name and quoting rules `set` applies.
    pub fn can_set(&self, var: &str, value: &str) -> Result<(), EnvError> {
        if !is_key(var) {
            return Err(EnvError::InvalidName {
                var: var.to_string(),
            });
        }
        let (quote, visible) = match self.find(var) {
            Some(a) => {
                let trailing = self.text((a.value.1, content_end(&self.bytes, a.value.1)));
                let comment = trailing.trim_start_matches([' ', '\t']).starts_with('#');
                let spaced = matches!(self.bytes[a.value.0 - 1], b' ' | b'\t');
                (a.quote, comment || spaced)
            }
            None => (Quote::None, false),
        };
        render(var, value, quote, visible).map(drop)
    }

    /// Sets every `(var, value)` in order: the same bytes as calling [`Self::set`] for
    /// each one after another, but in one pass over the file and one parse, so that a
    /// file holding thousands of a run's variables costs its size once, not once per
    /// variable. On error the document is unchanged.
    pub fn set_all(&mut self, edits: &[(&str, &str)]) -> Result<(), EnvError> {
        let mut distinct = std::collections::HashSet::with_capacity(edits.len());
        if !edits.iter().all(|(var, _)| distinct.insert(*var)) {
            // A variable set twice is rendered the second time in the quoting its
            // first value got: one at a time keeps that exact.
            let mut doc = EnvDoc::parse(&self.bytes)?;
            for (var, value) in edits {
                doc.set(var, value)?;
            }
            *self = doc;
            return Ok(());
        }
        let crlf_in = |b: &[u8]| b.windows(2).filter(|w| w == b"\r\n").count();
        // Line endings so far, so each appended line gets the ending `set` would
        // choose at that point.
        let (mut lf, mut crlf) = (count_newlines(&self.bytes), crlf_in(&self.bytes));
        let mut unterminated = self.bytes.last().is_some_and(|&c| c != b'\n');
        let mut splices: Vec<(usize, usize, Zeroizing<String>)> = Vec::new();
        let mut appended = Zeroizing::new(Vec::new());
        for (var, value) in edits {
            if !is_key(var) {
                return Err(EnvError::InvalidName {
                    var: (*var).to_string(),
                });
            }
            match self.find(var) {
                Some(a) => {
                    let trailing = self.text((a.value.1, content_end(&self.bytes, a.value.1)));
                    let comment = trailing.trim_start_matches([' ', '\t']).starts_with('#');
                    let glued = !trailing.is_empty() && !trailing.starts_with([' ', '\t']);
                    let spaced = matches!(self.bytes[a.value.0 - 1], b' ' | b'\t');
                    let mut rendered = render(var, value, a.quote, comment || spaced)?;
                    if glued {
                        rendered.push(' ');
                    }
                    // A rendered value holds no raw line break; the old one may have.
                    let old = &self.bytes[a.value.0..a.value.1];
                    lf -= count_newlines(old);
                    crlf -= crlf_in(old);
                    splices.push((a.value.0, a.value.1, rendered));
                }
                None => {
                    let rendered = render(var, value, Quote::None, false)?;
                    let ending = if crlf * 2 > lf { "\r\n" } else { "\n" };
                    let lines = if unterminated { 2 } else { 1 };
                    if unterminated {
                        appended.extend_from_slice(ending.as_bytes());
                        unterminated = false;
                    }
                    appended.extend_from_slice(var.as_bytes());
                    appended.push(b'=');
                    appended.extend_from_slice(rendered.as_bytes());
                    appended.extend_from_slice(ending.as_bytes());
                    lf += lines;
                    if ending == "\r\n" {
                        crlf += lines;
                    }
                }
            }
        }
        splices.sort_by_key(|s| s.0);
        let mut out = Zeroizing::new(Vec::with_capacity(
            self.bytes.len() + appended.len() + splices.iter().map(|s| s.2.len()).sum::<usize>(),
        ));
        let mut at = 0;
        for (start, end, text) in &splices {
            out.extend_from_slice(&self.bytes[at..*start]);
            out.extend_from_slice(text.as_bytes());
            at = *end;
        }
        out.extend_from_slice(&self.bytes[at..]);
        out.extend_from_slice(&appended);
        *self = EnvDoc::parse(&out)?;
        Ok(())
    }

    /// Replaces bytes `range` of `var`'s decoded value with `text`, keeping every
    /// other byte of the file, the value's quotes and escapes included. `text` may
    /// only hold characters every quoting reads literally (`A-Za-z0-9-._~%:`): a
    /// percent-encoded URL userinfo, say.
    pub fn replace_in_value(
        &mut self,
        var: &str,
        range: std::ops::Range<usize>,
        text: &str,
    ) -> Result<(), EnvError> {
        let unrepresentable = |what| EnvError::Unrepresentable {
            var: var.to_string(),
            what,
        };
        if !text.chars().all(is_literal_everywhere) {
            return Err(unrepresentable(
                "characters that are not literal in every quoting",
            ));
        }
        let a = self.find(var).ok_or_else(|| EnvError::NotAssigned {
            var: var.to_string(),
        })?;
        let raw = self.text(a.value);
        let (start, end) = match (
            raw_offset(raw, a.quote, range.start),
            raw_offset(raw, a.quote, range.end),
        ) {
            (Some(s), Some(e)) if s <= e => (a.value.0 + s, a.value.0 + e),
            _ => return Err(unrepresentable("an escape where the change starts or ends")),
        };
        let value = decode(raw, a.quote);
        let (Some(before), Some(after)) = (value.get(..range.start), value.get(range.end..)) else {
            return Err(unrepresentable("a change outside the value"));
        };
        let mut expected = Zeroizing::new(String::with_capacity(value.len() + text.len()));
        expected.push_str(before);
        expected.push_str(text);
        expected.push_str(after);
        let mut out = Zeroizing::new(Vec::with_capacity(self.bytes.len() + text.len()));
        out.extend_from_slice(&self.bytes[..start]);
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(&self.bytes[end..]);
        let edited = EnvDoc::parse(&out)?;
        // The spliced text is literal in every quoting, so this holds; checked
        // all the same, since a wrong value in a consumer's file is the worst case.
        if edited.get(var).as_deref().map(String::as_str) != Some(expected.as_str()) {
            return Err(unrepresentable("text that would not read back as written"));
        }
        *self = edited;
        Ok(())
    }

    /// Removes `var`'s whole assignment; returns whether it was present.
    pub fn remove(&mut self, var: &str) -> bool {
        let Some(a) = self.find(var) else {
            return false;
        };
        let mut out = Zeroizing::new(self.bytes.to_vec());
        out.drain(a.span.0..a.span.1);
        // Removing a whole assignment from a valid document leaves a valid document.
        self.reparse(&out).is_ok()
    }

    /// Puts back an exact earlier assignment of `var` (as returned by [`Self::raw_line`]),
    /// replacing the current one or appending it when `var` is absent.
    pub fn set_raw_line(&mut self, var: &str, raw: &[u8]) -> Result<(), EnvError> {
        let at = self.line_of(var).unwrap_or(self.lines + 1);
        let bad = |m: &str| perr(at, &format!("cannot restore {var}: {m}"));
        let one = EnvDoc::parse(raw).map_err(|_| bad("the saved line does not parse"))?;
        match one.assignments.as_slice() {
            [a] if a.key == var && a.span == (0, raw.len()) => {}
            _ => {
                return Err(bad(
                    "the saved text is not exactly one assignment of this variable",
                ))
            }
        }
        let mut out = Zeroizing::new(Vec::with_capacity(self.bytes.len() + raw.len() + 2));
        match self.find(var) {
            Some(a) => {
                out.extend_from_slice(&self.bytes[..a.span.0]);
                out.extend_from_slice(raw);
                if !raw.ends_with(b"\n") {
                    // The saved line ended the file without a line break, and
                    // lines were added after it since: keep the break it has now.
                    let now = &self.bytes[a.span.0..a.span.1];
                    let ending = ["\r\n", "\n"]
                        .into_iter()
                        .find(|e| now.ends_with(e.as_bytes()))
                        .unwrap_or("");
                    out.extend_from_slice(ending.as_bytes());
                }
                out.extend_from_slice(&self.bytes[a.span.1..]);
            }
            None => {
                out.extend_from_slice(&self.terminated());
                out.extend_from_slice(raw);
            }
        }
        self.reparse(&out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "edit_tests.rs"]
mod tests;
