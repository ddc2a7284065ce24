//! The dotenv target: which variables a secret's current and previous values
//! go to (`VAR` + `VAR_PREVIOUS`, or one `NEW,OLD` list, or the password of
//! a connection URL in `VAR`), where the login goes (`user_var`, or the
//! URL's user), and how to read back what consumers use now. The byte-exact
//! editing is in `edit`, the URL's userinfo in `url`.

pub mod edit;
pub mod url;

use zeroize::Zeroizing;

pub use edit::{EnvDoc, EnvError};

use crate::inventory::{DotenvFormat, DotenvTarget, ValueForm};
use crate::secret::SecretValue;
use crate::target::TargetError;

/// What a secret's targets should hold after a step.
#[derive(Debug, Clone, Copy)]
pub struct Desired<'a> {
    /// The value consumers sign or connect with.
    pub current: &'a SecretValue,
    /// The value they still accept during an overlap.
    pub previous: Option<&'a SecretValue>,
    /// The login that goes with `current`, for targets that carry one (a
    /// connection URL, a user variable); `None` keeps the user they hold.
    pub user: Option<&'a str>,
}

/// Variable assignments that realise `desired` in a plain-form target (a
/// URL-form target edits its URL in place instead).
pub fn assignments(
    t: &DotenvTarget,
    desired: Desired<'_>,
) -> Result<Vec<(String, Zeroizing<String>)>, EnvError> {
    let mut out = values(t, desired)?;
    if let (Some(uv), Some(user)) = (&t.user_var, desired.user) {
        out.push((uv.clone(), Zeroizing::new(user.to_owned())));
    }
    Ok(out)
}

/// The value assignments of a plain-form target (without its user).
fn values(
    t: &DotenvTarget,
    desired: Desired<'_>,
) -> Result<Vec<(String, Zeroizing<String>)>, EnvError> {
    match t.format {
        DotenvFormat::Pair => {
            let mut out = vec![(
                t.var.clone(),
                Zeroizing::new(desired.current.expose().to_owned()),
            )];
            if let Some(pv) = &t.previous_var {
                let prev = desired.previous.map(|p| p.expose()).unwrap_or("");
                out.push((pv.clone(), Zeroizing::new(prev.to_owned())));
            }
            Ok(out)
        }
        DotenvFormat::List => {
            let mut list = Zeroizing::new(String::new());
            for v in std::iter::once(desired.current).chain(desired.previous) {
                if v.expose().contains(',') {
                    return Err(EnvError::Unrepresentable {
                        var: t.var.clone(),
                        what: "a comma, which separates keys in format = \"list\"; use another alphabet",
                    });
                }
                if !list.is_empty() {
                    list.push(',');
                }
                list.push_str(v.expose());
            }
            Ok(vec![(t.var.clone(), list)])
        }
    }
}

/// The value consumers use now, as this target holds it (a URL's password
/// percent-decoded).
pub fn read_current(t: &DotenvTarget, doc: &EnvDoc) -> Result<Option<SecretValue>, TargetError> {
    let Some(raw) = doc.get(&t.var) else {
        return Ok(None);
    };
    if t.form == ValueForm::Url {
        let password = url::password(&raw).map_err(|e| url_error(t, e))?;
        return Ok(password.map(|p| SecretValue::new(p.as_str().to_owned())));
    }
    let first = match t.format {
        DotenvFormat::Pair => raw.as_str(),
        DotenvFormat::List => raw.split(',').next().unwrap_or(""),
    };
    Ok((!first.is_empty()).then(|| SecretValue::new(first.to_owned())))
}

/// The previous value the file still holds (none for a connection URL,
/// which holds one credential).
pub fn read_previous(t: &DotenvTarget, doc: &EnvDoc) -> Result<Option<SecretValue>, TargetError> {
    if t.form == ValueForm::Url {
        return Ok(None);
    }
    let raw = match (t.format, &t.previous_var) {
        (DotenvFormat::Pair, Some(pv)) => doc.get(pv).map(|v| v.to_string()),
        (DotenvFormat::List, _) => doc
            .get(&t.var)
            .and_then(|v| v.split(',').nth(1).map(str::to_owned)),
        (DotenvFormat::Pair, None) => None,
    };
    Ok(raw.filter(|v| !v.is_empty()).map(SecretValue::new))
}

/// How many keys a list holds after the previous one (none for a pair or a
/// connection URL).
fn beyond_previous(t: &DotenvTarget, doc: &EnvDoc) -> Result<usize, TargetError> {
    if t.format != DotenvFormat::List || t.form == ValueForm::Url {
        return Ok(0);
    }
    Ok(doc.get(&t.var).map_or(0, |v| {
        v.split(',').skip(2).filter(|k| !k.is_empty()).count()
    }))
}

/// The login consumers use now: the URL's user, or `user_var`'s value.
pub fn read_user(t: &DotenvTarget, doc: &EnvDoc) -> Result<Option<String>, TargetError> {
    if t.form == ValueForm::Url {
        let Some(raw) = doc.get(&t.var) else {
            return Ok(None);
        };
        let user = url::user(&raw).map_err(|e| url_error(t, e))?;
        return Ok(user.map(|u| u.as_str().to_owned()));
    }
    Ok(t.user_var
        .as_ref()
        .and_then(|uv| doc.get(uv))
        .filter(|u| !u.is_empty())
        .map(|u| u.as_str().to_owned()))
}

/// `err` about this target's URL, with the variable and file in front.
fn url_error(t: &DotenvTarget, source: url::UrlError) -> TargetError {
    TargetError::Url {
        var: t.var.clone(),
        file: file_name(t),
        source,
    }
}

fn file_name(t: &DotenvTarget) -> String {
    t.path.file_name().map_or_else(
        || t.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Writes `desired` into the URL in `var`: its password, and its user when
/// `desired.user` is `Some`. Every other byte of the URL and file is kept.
fn render_url(t: &DotenvTarget, doc: &mut EnvDoc, desired: Desired<'_>) -> Result<(), TargetError> {
    let Some(raw) = doc.get(&t.var) else {
        return Err(TargetError::UrlMissing {
            var: t.var.clone(),
            file: file_name(t),
        });
    };
    let (range, text) =
        url::edit(&raw, desired.user, desired.current.expose()).map_err(|e| url_error(t, e))?;
    doc.replace_in_value(&t.var, range, &text)?;
    Ok(())
}

/// Other spellings of `value` this target writes into its file: a URL's
/// percent-encoded password, when it differs from the value.
pub fn written_forms(t: &DotenvTarget, value: &SecretValue) -> Vec<SecretValue> {
    if t.form != ValueForm::Url {
        return Vec::new();
    }
    let encoded = url::encode(value.expose());
    if encoded.as_str() == value.expose() {
        Vec::new()
    } else {
        vec![SecretValue::new(encoded.as_str().to_owned())]
    }
}

/// For a `format = "list"` target whose list holds more than one key: how
/// many keys follow the first (keys rotor cannot know on first adoption).
pub fn unknown_list_keys(t: &DotenvTarget, doc: &EnvDoc) -> Option<usize> {
    if t.format != DotenvFormat::List {
        return None;
    }
    let raw = doc.get(&t.var)?;
    let extra = raw
        .split(',')
        .filter(|k| !k.is_empty())
        .count()
        .saturating_sub(1);
    (extra > 0).then_some(extra)
}

/// The variables this target writes.
pub fn vars(t: &DotenvTarget) -> Vec<&str> {
    std::iter::once(t.var.as_str())
        .chain(t.previous_var.as_deref())
        .chain(t.user_var.as_deref())
        .collect()
}

impl crate::target::Target for DotenvTarget {
    fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn describe(&self) -> String {
        format!("{} {}", self.path.display(), self.var)
    }

    fn keys(&self) -> Vec<String> {
        vars(self).into_iter().map(str::to_owned).collect()
    }

    fn mode(&self) -> u32 {
        self.mode
    }

    fn current(&self, file: &[u8]) -> Result<Option<SecretValue>, TargetError> {
        read_current(self, &EnvDoc::parse(file)?)
    }

    fn current_user(&self, file: &[u8]) -> Result<Option<String>, TargetError> {
        read_user(self, &EnvDoc::parse(file)?)
    }

    fn written_forms(&self, value: &SecretValue) -> Vec<SecretValue> {
        written_forms(self, value)
    }

    fn previous(&self, file: &[u8]) -> Result<Option<SecretValue>, TargetError> {
        read_previous(self, &EnvDoc::parse(file)?)
    }

    fn holds_previous(&self) -> bool {
        self.form != ValueForm::Url
            && (self.format == DotenvFormat::List || self.previous_var.is_some())
    }

    fn describe_previous(&self) -> String {
        match (self.format, &self.previous_var) {
            (DotenvFormat::Pair, Some(pv)) => format!("{} {pv}", self.path.display()),
            _ => format!("{} {} (second key)", self.path.display(), self.var),
        }
    }

    fn beyond_previous(&self, file: &[u8]) -> Result<usize, TargetError> {
        beyond_previous(self, &EnvDoc::parse(file)?)
    }

    fn beyond_previous_in(&self, file: &crate::target::FileText) -> Result<usize, TargetError> {
        beyond_previous(self, file.env()?)
    }

    fn previous_for_in(
        &self,
        file: &crate::target::FileText,
        _user: Option<&str>,
    ) -> Result<Option<SecretValue>, TargetError> {
        read_previous(self, file.env()?)
    }

    fn unknown_older(&self, file: &[u8]) -> Result<usize, TargetError> {
        Ok(unknown_list_keys(self, &EnvDoc::parse(file)?).unwrap_or(0))
    }

    fn current_in(
        &self,
        file: &crate::target::FileText,
        _user: Option<&str>,
    ) -> Result<Option<SecretValue>, TargetError> {
        read_current(self, file.env()?)
    }

    fn current_user_in(
        &self,
        file: &crate::target::FileText,
    ) -> Result<Option<String>, TargetError> {
        read_user(self, file.env()?)
    }

    fn previous_in(
        &self,
        file: &crate::target::FileText,
    ) -> Result<Option<SecretValue>, TargetError> {
        read_previous(self, file.env()?)
    }

    fn unknown_older_in(&self, file: &crate::target::FileText) -> Result<usize, TargetError> {
        Ok(unknown_list_keys(self, file.env()?).unwrap_or(0))
    }

    fn check_values_in(
        &self,
        file: &crate::target::FileText,
        desired: Desired<'_>,
    ) -> Result<(), TargetError> {
        if self.form == ValueForm::Url {
            return self.render(file.bytes(), desired).map(drop);
        }
        let doc = file.env()?;
        for (var, value) in assignments(self, desired)? {
            doc.can_set(&var, &value)?;
        }
        Ok(())
    }

    fn plain_assignments(
        &self,
        desired: Desired<'_>,
    ) -> Option<Result<crate::target::Assignments, TargetError>> {
        (self.form != ValueForm::Url).then(|| assignments(self, desired).map_err(TargetError::from))
    }

    fn render(&self, file: &[u8], desired: Desired<'_>) -> Result<Zeroizing<Vec<u8>>, TargetError> {
        let mut doc = EnvDoc::parse(file)?;
        if self.form == ValueForm::Url {
            render_url(self, &mut doc, desired)?;
            if let (Some(uv), Some(user)) = (&self.user_var, desired.user) {
                doc.set(uv, user)?;
            }
        } else {
            let values = assignments(self, desired)?;
            let pairs: Vec<(&str, &str)> = values
                .iter()
                .map(|(var, value)| (var.as_str(), value.as_str()))
                .collect();
            doc.set_all(&pairs)?;
        }
        Ok(doc.to_bytes())
    }

    fn restore(&self, now: &[u8], before: &[u8]) -> Result<Zeroizing<Vec<u8>>, TargetError> {
        let mut doc = EnvDoc::parse(now)?;
        let old = EnvDoc::parse(before)?;
        for var in vars(self) {
            match old.raw_line(var) {
                Some(raw) => doc.set_raw_line(var, &raw)?,
                None => {
                    doc.remove(var);
                }
            }
        }
        Ok(doc.to_bytes())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "target_tests.rs"]
mod tests;
