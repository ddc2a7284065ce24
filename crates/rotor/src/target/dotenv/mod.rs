//! The dotenv target: which variables a secret's current and previous values
//! go to (`VAR` + `VAR_PREVIOUS`, or one `NEW,OLD` list), and how to read
//! back what consumers use now. The byte-exact editing is in `edit`.

pub mod edit;

use zeroize::Zeroizing;

pub use edit::{EnvDoc, EnvError};

use crate::inventory::{DotenvFormat, DotenvTarget};
use crate::secret::SecretValue;

/// What a secret's targets should hold after a step.
#[derive(Debug, Clone, Copy)]
pub struct Desired<'a> {
    /// The value consumers sign or connect with.
    pub current: &'a SecretValue,
    /// The value they still accept during an overlap.
    pub previous: Option<&'a SecretValue>,
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
