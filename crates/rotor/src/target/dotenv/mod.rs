//! The dotenv target: which variables a secret's current and previous values
//! go to (`VAR` + `VAR_PREVIOUS`, or one `NEW,OLD` list), and how to read
//! back what consumers use now. The byte-exact editing is in `edit`.

pub mod edit;

use zeroize::Zeroizing;

pub use edit::{EnvDoc, EnvError};

use crate::inventory::{DotenvFormat, DotenvTarget};
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

/// Variable assignments that realise `desired` in this target.
pub fn assignments(
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

/// The value consumers use now, as this target holds it.
pub fn read_current(t: &DotenvTarget, doc: &EnvDoc) -> Option<SecretValue> {
    let raw = doc.get(&t.var)?;
    let first = match t.format {
        DotenvFormat::Pair => raw.as_str(),
        DotenvFormat::List => raw.split(',').next().unwrap_or(""),
    };
    if first.is_empty() {
        None
    } else {
        Some(SecretValue::new(first.to_owned()))
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
        Ok(read_current(self, &EnvDoc::parse(file)?))
    }

    fn previous(&self, file: &[u8]) -> Result<Option<SecretValue>, TargetError> {
        let doc = EnvDoc::parse(file)?;
        let raw = match (self.format, &self.previous_var) {
            (DotenvFormat::Pair, Some(pv)) => doc.get(pv).map(|v| v.to_string()),
            (DotenvFormat::List, _) => doc
                .get(&self.var)
                .and_then(|v| v.split(',').nth(1).map(str::to_owned)),
            (DotenvFormat::Pair, None) => None,
        };
        Ok(raw.filter(|v| !v.is_empty()).map(SecretValue::new))
    }

    fn unknown_older(&self, file: &[u8]) -> Result<usize, TargetError> {
        Ok(unknown_list_keys(self, &EnvDoc::parse(file)?).unwrap_or(0))
    }

    fn render(&self, file: &[u8], desired: Desired<'_>) -> Result<Zeroizing<Vec<u8>>, TargetError> {
        let mut doc = EnvDoc::parse(file)?;
        for (var, value) in assignments(self, desired)? {
            doc.set(&var, &value)?;
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
