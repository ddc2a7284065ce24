//! The PgBouncer target: the lines of a PostgreSQL authority's login roles
//! in PgBouncer's `auth_file`, so clients that log in through PgBouncer
//! keep working when the login moves. `render` writes the new login's line
//! (plaintext password: PgBouncer needs one it can log in to the server
//! with) and leaves the other role's line alone, since its clients still
//! authenticate until they drain. The file editing is in `userlist`, the
//! admin console's `RELOAD` in `reload`.

pub mod reload;
pub mod userlist;

use zeroize::Zeroizing;

pub use userlist::{Userlist, UserlistError};

use crate::inventory::PgbouncerTarget;
use crate::secret::SecretValue;
use crate::target::{Desired, Reload, Target, TargetError};

/// The prefix of this target's keys, so that they never collide with a
/// dotenv variable in the one-writer check.
const KEY_PREFIX: &str = "user:";

impl PgbouncerTarget {
    /// The login whose line `desired` writes: the given one, else the only
    /// managed one.
    fn login<'a>(&'a self, user: Option<&'a str>) -> Result<Option<&'a str>, TargetError> {
        match user {
            Some(u) if self.users.iter().any(|m| m == u) => Ok(Some(u)),
            Some(u) => Err(TargetError::PgbouncerUser {
                user: u.to_owned(),
                file: self.path.display().to_string(),
            }),
            None if self.users.len() == 1 => Ok(self.users.first().map(String::as_str)),
            None => Ok(None),
        }
    }
}

impl Target for PgbouncerTarget {
    fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn describe(&self) -> String {
        format!(
            "{} (pgbouncer {})",
            self.path.display(),
            self.users.join(", ")
        )
    }

    fn keys(&self) -> Vec<String> {
        self.users
            .iter()
            .map(|u| format!("{KEY_PREFIX}{u}"))
            .collect()
    }

    fn mode(&self) -> u32 {
        self.mode
    }

    /// Which password is current depends on the login: see
    /// [`Target::current_for`].
    fn current(&self, _file: &[u8]) -> Result<Option<SecretValue>, TargetError> {
        Ok(None)
    }

    fn current_for(
        &self,
        file: &[u8],
        user: Option<&str>,
    ) -> Result<Option<SecretValue>, TargetError> {
        let Some(user) = self.login(user)? else {
            return Ok(None);
        };
        let list = Userlist::parse(file)?;
        Ok(list
            .password(user)
            .filter(|p| !p.is_empty())
            .map(|p| SecretValue::new(p.as_str().to_owned())))
    }

    fn per_login(&self) -> bool {
        true
    }

    fn previous(&self, _file: &[u8]) -> Result<Option<SecretValue>, TargetError> {
        Ok(None)
    }

    fn describe_previous(&self) -> String {
        format!(
            "{} (pgbouncer, the previous login's line)",
            self.path.display()
        )
    }

    /// The line of `user`, when this target manages it: the old login of
    /// an alternating pair keeps its line while its clients drain.
    fn previous_for(
        &self,
        file: &[u8],
        user: Option<&str>,
    ) -> Result<Option<SecretValue>, TargetError> {
        match user {
            Some(u) if self.users.iter().any(|m| m == u) => self.current_for(file, Some(u)),
            _ => Ok(None),
        }
    }

    fn render(&self, file: &[u8], desired: Desired<'_>) -> Result<Zeroizing<Vec<u8>>, TargetError> {
        let mut list = Userlist::parse(file)?;
        if let Some(user) = self.login(desired.user)? {
            list.set(user, desired.current.expose())?;
        }
        Ok(list.to_bytes())
    }

    fn restore(&self, now: &[u8], before: &[u8]) -> Result<Zeroizing<Vec<u8>>, TargetError> {
        let mut list = Userlist::parse(now)?;
        let old = Userlist::parse(before)?;
        for user in &self.users {
            list.set_raw(user, &old.raw_lines(user));
        }
        Ok(list.to_bytes())
    }

    fn reloader(&self) -> Option<&dyn Reload> {
        self.admin_console_env.as_ref().map(|_| self as &dyn Reload)
    }
}

/// `RELOAD` on the admin console named by `admin_console_env` (a target
/// without one is reloaded by whoever restarts PgBouncer).
impl Reload for PgbouncerTarget {
    fn ready(&self) -> Result<(), TargetError> {
        match &self.admin_console_env {
            None => Ok(()),
            Some(var) => reload::console_url(var).map(|_| ()),
        }
    }

    fn reload(&self) -> Result<String, TargetError> {
        match &self.admin_console_env {
            None => Ok(String::new()),
            Some(var) => reload::reload(var),
        }
    }

    fn by_hand(&self) -> &'static str {
        "run RELOAD on pgbouncer's admin console by hand"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn target() -> PgbouncerTarget {
        PgbouncerTarget {
            path: PathBuf::from("userlist.txt"),
            mode: 0o640,
            users: vec!["app_blue".into(), "app_green".into()],
            admin_console_env: None,
        }
    }

    const FILE: &[u8] =
        b";; pgbouncer\n\"rotor_admin\" \"adm\"\n\"app_blue\" \"old-blue\"\n\"app\" \"group\"\n";

    #[test]
    fn render_sets_the_new_login_and_keeps_the_old() {
        let t = target();
        let v = SecretValue::new("new-green".into());
        let d = Desired {
            current: &v,
            previous: None,
            user: Some("app_green"),
        };
        let out = t.render(FILE, d).unwrap();
        let mut want = FILE.to_vec();
        want.extend_from_slice(b"\"app_green\" \"new-green\"\n");
        assert_eq!(out.as_slice(), want.as_slice());
        let cur = t.current_for(&out, Some("app_green")).unwrap().unwrap();
        assert_eq!(cur.expose(), "new-green");
        let old = t.current_for(&out, Some("app_blue")).unwrap().unwrap();
        assert_eq!(old.expose(), "old-blue");
        assert!(t.current(&out).unwrap().is_none());
        assert!(t.current_for(&out, None).unwrap().is_none());
        // undo removes the line that was not there
        assert_eq!(t.restore(&out, FILE).unwrap().as_slice(), FILE);
    }

    #[test]
    fn refuses_a_login_it_does_not_manage() {
        let t = target();
        let v = SecretValue::new("x".into());
        let d = Desired {
            current: &v,
            previous: None,
            user: Some("rotor_admin"),
        };
        let e = t.render(FILE, d).err().unwrap();
        assert!(e.to_string().contains("rotor_admin"), "{e}");
        assert_eq!(t.keys(), ["user:app_blue", "user:app_green"]);
    }
}
