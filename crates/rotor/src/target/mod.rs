//! Targets: where consumers read a secret. A target is pure over file bytes:
//! it reads the values a file holds and renders the file with new ones,
//! keeping every other byte. The engine owns the rest (locks, sealed backups,
//! atomic 0600 writes, undo), so a new kind of target only implements
//! [`Target`] and passes the conformance suite in `rotor-testkit`.

pub mod atomic;
pub mod dotenv;
pub mod file;
pub mod identity;
pub mod leftovers;
pub mod pgbouncer;
pub mod template;
pub mod words;

use std::path::Path;

use zeroize::Zeroizing;

use crate::inventory::TargetSpec;
use crate::secret::SecretValue;

pub use dotenv::Desired;
pub use file::{render_all, FileText};

/// A value every target can carry, written into a copy of a file to find
/// out, before anything changes, whether the file can take a new value.
pub(crate) fn preflight_probe() -> SecretValue {
    SecretValue::new("rotor-preflight-probe".into())
}

/// Variable assignments, `(name, value)` in order, values wiped on drop.
pub type Assignments = Vec<(String, Zeroizing<String>)>;

/// Why a target could not read or render its file.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The dotenv file could not be parsed or edited.
    #[error(transparent)]
    Dotenv(#[from] dotenv::EnvError),
    /// The connection URL in a `form = "url"` variable cannot be read or
    /// written (the message never holds the URL).
    #[error("{var} in {file} {source}")]
    Url {
        /// The variable.
        var: String,
        /// The file's name.
        file: String,
        /// What is wrong with the URL.
        source: dotenv::url::UrlError,
    },
    /// A `form = "url"` variable is not in the file: rotor cannot invent
    /// the rest of the URL.
    #[error("{var} is not in {file}; add {var}=scheme://user:PASSWORD@host/… once (rotor rewrites only the user and password of a URL), then rotate")]
    UrlMissing {
        /// The variable.
        var: String,
        /// The file's name.
        file: String,
    },
    /// The PgBouncer `auth_file` could not be parsed or edited.
    #[error(transparent)]
    Userlist(#[from] pgbouncer::UserlistError),
    /// A login whose line the PgBouncer target does not manage.
    #[error("{file} manages only the lines of the authority's roles and group, not {user}")]
    PgbouncerUser {
        /// The login.
        user: String,
        /// The file.
        file: String,
    },
    /// A file rendered from a template cannot be read back or written.
    #[error(transparent)]
    Template(#[from] template::RenderError),
    /// PgBouncer's admin console could not be told to `RELOAD` (the
    /// message never holds the URL).
    #[error("pgbouncer RELOAD via ${var}: {why}")]
    Reload {
        /// The variable holding the console's URL.
        var: String,
        /// What went wrong.
        why: String,
    },
}

/// The key of a target that owns its whole file (a template target), so
/// that no other target may write that file.
pub const WHOLE_FILE: &str = "(whole file)";

/// A capability of some targets: a consumer that reads its file only when
/// told to (PgBouncer re-reads `auth_file` on `RELOAD`).
pub trait Reload {
    /// Whether the reload is configured well enough to be tried (checked
    /// before anything changes).
    fn ready(&self) -> Result<(), TargetError>;
    /// Tells the consumer to read the file again; words for the journal.
    fn reload(&self) -> Result<String, TargetError>;
    /// What an operator does by hand when [`Reload::reload`] failed.
    fn by_hand(&self) -> &'static str;
}

/// Where consumers read a secret: the step contract of deliver, retire and
/// undo, expressed over the file's bytes.
///
/// - deliver is `render(file, Desired { current, previous })`;
/// - retire is `render(file, Desired { current, previous: None })`;
/// - undo is `restore(now, before)`.
///
/// Each must be idempotent (rendering twice equals rendering once), keep
/// every byte that is not the target's own, and undo exactly.
pub trait Target {
    /// The file it lives in, as the inventory names it.
    fn path(&self) -> &Path;
    /// Words for plans and messages, e.g. `.env JWT_SECRET`.
    fn describe(&self) -> String;
    /// The places in the file it owns (variable names), to refuse two
    /// writers of one place; [`WHOLE_FILE`] for a target that owns all of
    /// it.
    fn keys(&self) -> Vec<String>;
    /// The mode the file gets when written.
    fn mode(&self) -> u32;
    /// The value consumers use now, if the file holds one.
    fn current(&self, file: &[u8]) -> Result<Option<SecretValue>, TargetError>;
    /// The value consumers logging in as `user` use now. A target whose
    /// file holds one value needs no login; a target that holds one line
    /// per login (PgBouncer's `auth_file`) can only answer knowing it, and
    /// answers `None` to [`Target::current`].
    fn current_for(
        &self,
        file: &[u8],
        _user: Option<&str>,
    ) -> Result<Option<SecretValue>, TargetError> {
        self.current(file)
    }
    /// Whether the file holds one value per login, so that only
    /// [`Target::current_for`] with the login can say which is current.
    fn per_login(&self) -> bool {
        false
    }
    /// The consumer of this file, when it must be told to read the file
    /// again after rotor wrote it (PgBouncer's `RELOAD`); most consumers
    /// read their files on restart and have no such capability.
    fn reloader(&self) -> Option<&dyn Reload> {
        None
    }
    /// The login that goes with the current value, for targets that carry
    /// one (the user of a connection URL, a user variable).
    fn current_user(&self, _file: &[u8]) -> Result<Option<String>, TargetError> {
        Ok(None)
    }
    /// Other spellings of `value` this target writes into the file (a URL's
    /// percent-encoded password), so that they are redacted like the value.
    fn written_forms(&self, _value: &SecretValue) -> Vec<SecretValue> {
        Vec::new()
    }
    /// The previous value the file still holds, if any.
    fn previous(&self, file: &[u8]) -> Result<Option<SecretValue>, TargetError>;
    /// Whether the file has a place for the previous value (a
    /// `*_PREVIOUS` variable, a list's second key, a `{{previous}}`
    /// placeholder): rotor fills it during an overlap and empties it
    /// otherwise, so what it holds can drift like the current value.
    fn holds_previous(&self) -> bool {
        false
    }
    /// Words for the place of the previous value, e.g.
    /// `.env JWT_SECRET_PREVIOUS`.
    fn describe_previous(&self) -> String {
        format!("{} (previous)", self.describe())
    }
    /// The previous value the file holds for consumers logging in as
    /// `user`. A target with one line per login (PgBouncer's `auth_file`)
    /// answers with the line of `user` (the old login of an alternating
    /// pair), `None` for a login it does not manage.
    fn previous_for(
        &self,
        file: &[u8],
        _user: Option<&str>,
    ) -> Result<Option<SecretValue>, TargetError> {
        self.previous(file)
    }
    /// How many values the file holds after the previous one (a list's
    /// third and later keys). Rotor never writes them: once it manages the
    /// file, each one was added by hand.
    fn beyond_previous(&self, _file: &[u8]) -> Result<usize, TargetError> {
        Ok(0)
    }
    /// How many values the file holds beyond current and previous that rotor
    /// could not know (e.g. older keys in a list); rotating would drop them.
    fn unknown_older(&self, _file: &[u8]) -> Result<usize, TargetError> {
        Ok(0)
    }
    /// [`Target::current_for`] over a file read once for many targets.
    fn current_in(
        &self,
        file: &FileText,
        user: Option<&str>,
    ) -> Result<Option<SecretValue>, TargetError> {
        self.current_for(file.bytes(), user)
    }
    /// [`Target::current_user`] over a file read once for many targets.
    fn current_user_in(&self, file: &FileText) -> Result<Option<String>, TargetError> {
        self.current_user(file.bytes())
    }
    /// [`Target::previous`] over a file read once for many targets.
    fn previous_in(&self, file: &FileText) -> Result<Option<SecretValue>, TargetError> {
        self.previous(file.bytes())
    }
    /// [`Target::unknown_older`] over a file read once for many targets.
    fn unknown_older_in(&self, file: &FileText) -> Result<usize, TargetError> {
        self.unknown_older(file.bytes())
    }
    /// [`Target::previous_for`] over a file read once for many targets.
    fn previous_for_in(
        &self,
        file: &FileText,
        user: Option<&str>,
    ) -> Result<Option<SecretValue>, TargetError> {
        self.previous_for(file.bytes(), user)
    }
    /// [`Target::beyond_previous`] over a file read once for many targets.
    fn beyond_previous_in(&self, file: &FileText) -> Result<usize, TargetError> {
        self.beyond_previous(file.bytes())
    }
    /// Whether the file can take a new value here: the error
    /// [`Target::render`] of one would give (a connection URL without a
    /// password part), checked before anything changes.
    fn check_render_in(&self, file: &FileText) -> Result<(), TargetError> {
        let probe = preflight_probe();
        let desired = Desired {
            current: &probe,
            previous: None,
            user: None,
        };
        self.check_values_in(file, desired)
    }
    /// Whether `desired` could be written into the file (a value holding a
    /// character the file's syntax cannot carry fails), without keeping the
    /// result; a target whose edits are plain assignments checks only the
    /// values, not the whole file.
    fn check_values_in(&self, file: &FileText, desired: Desired<'_>) -> Result<(), TargetError> {
        self.render(file.bytes(), desired).map(drop)
    }
    /// `desired` as plain variable assignments, for a target whose whole
    /// edit is that (a dotenv `VAR`/`VAR_PREVIOUS` pair or list), so that
    /// [`render_all`] writes many of them in one pass; `None` (the default)
    /// when the target renders its file itself.
    fn plain_assignments(&self, _desired: Desired<'_>) -> Option<Result<Assignments, TargetError>> {
        None
    }
    /// `file` with `desired` written in and every other byte kept.
    fn render(&self, file: &[u8], desired: Desired<'_>) -> Result<Zeroizing<Vec<u8>>, TargetError>;
    /// `now` with this target's part put back as it was in `before`, every
    /// other byte of `now` kept (undo when someone else wrote the file since).
    fn restore(&self, now: &[u8], before: &[u8]) -> Result<Zeroizing<Vec<u8>>, TargetError>;
}

/// `values` plus every other spelling of them the `targets` write (a URL's
/// percent-encoded password), longest first, so that a value containing
/// another is replaced whole when redacting.
pub fn with_written_forms(
    mut values: Vec<SecretValue>,
    targets: &[&dyn Target],
) -> Vec<SecretValue> {
    let mut forms: Vec<SecretValue> = Vec::new();
    for t in targets {
        for v in &values {
            for f in t.written_forms(v) {
                if !forms.iter().any(|g| g.expose() == f.expose()) {
                    forms.push(f);
                }
            }
        }
    }
    values.extend(forms);
    values.sort_by_key(|v| std::cmp::Reverse(v.expose().len()));
    values
}

/// The [`Target`] behind an inventory entry.
pub fn of(spec: &TargetSpec) -> &dyn Target {
    match spec {
        TargetSpec::Dotenv(d) => d,
        TargetSpec::Pgbouncer(p) => p,
        TargetSpec::Template(t) => t,
    }
}
