//! Which paths name one file. A template rendered over itself, a target that
//! is the master key, two target paths that are hard links of one file: each
//! would destroy or leak a secret. Paths are compared by their canonical form
//! (symlinks and `..` resolved) and by file identity (device and inode, which
//! also catches hard links), in one pass over the paths (hash maps, no pairs).

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::inventory::{SecretSpec, TargetSpec};

/// What a path is to rotor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A file rotor writes.
    Target,
    /// A template rotor reads to render a target.
    Template,
    /// The master key.
    MasterKey,
    /// The store's database.
    Store,
}

impl Role {
    fn words(self) -> &'static str {
        match self {
            Role::Target => "a target",
            Role::Template => "a template",
            Role::MasterKey => "the master key",
            Role::Store => "the store database",
        }
    }
}

/// One path and what it is, for [`find_clash`].
#[derive(Debug, Clone)]
pub struct Named {
    /// The path as the inventory names it (resolved against its directory).
    pub path: PathBuf,
    /// What rotor does with it.
    pub role: Role,
    /// The secret it belongs to, if any.
    pub secret: Option<String>,
}

/// Two paths that name one file though they must not.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} ({}{}) and {} ({}{}) are the same file{}; rotor would {}. Nothing was changed: give each its own file", .second.path.display(), .second.role.words(), of_secret(.second), .first.path.display(), .first.role.words(), of_secret(.first), how(.real.as_deref()), harm(.first.role, .second.role))]
pub struct Clash {
    /// The path that came first.
    pub first: Named,
    /// The path that names the same file.
    pub second: Named,
    /// The file both name, when they agree on it (`None`: hard links).
    pub real: Option<PathBuf>,
}

fn of_secret(n: &Named) -> String {
    n.secret
        .as_ref()
        .map_or_else(String::new, |s| format!(" of secret \"{s}\""))
}

fn how(real: Option<&Path>) -> String {
    match real {
        Some(p) => format!(" ({})", p.display()),
        None => " (hard links: one device and inode)".to_owned(),
    }
}

fn harm(a: Role, b: Role) -> &'static str {
    match (a, b) {
        (Role::Template, _) | (_, Role::Template) => {
            "write a secret into a template or render a template over itself"
        }
        (Role::MasterKey, _) | (_, Role::MasterKey) => "overwrite or expose the master key",
        (Role::Store, _) | (_, Role::Store) => "overwrite the store",
        _ => "write one file under two names, and the atomic replace would split the hard links so each name holds part of the values",
    }
}

/// The file a path really names: symlinks and `..` resolved; a file that
/// does not exist yet is named through its resolved directory.
pub fn real_path(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::canonicalize(dir)
                .map(|d| d.join(name))
                .unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// Device and inode of what `path` names (symlinks followed), if it exists.
fn inode(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Two roles may name one file: templates shared by several targets, and
/// target paths that resolve to one file (several variables of one .env).
fn may_share(a: Role, b: Role, same_real: bool) -> bool {
    match (a, b) {
        (Role::Template, Role::Template) => true,
        (Role::Target, Role::Target) => same_real,
        _ => false,
    }
}

/// The first pair in `names` that names one file though it must not, with
/// the index of its second (which comes later in `names`).
pub fn find_clash(names: &[Named]) -> Option<(usize, Clash)> {
    let mut by_real: HashMap<PathBuf, usize> = HashMap::with_capacity(names.len());
    let mut by_inode: HashMap<(u64, u64), (usize, PathBuf)> = HashMap::with_capacity(names.len());
    // A path named again in the same role (many secrets in one file) is
    // the same file in the same part: resolved once.
    let mut seen: std::collections::HashSet<(&Path, Role)> =
        std::collections::HashSet::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        if !seen.insert((n.path.as_path(), n.role)) {
            continue;
        }
        let real = real_path(&n.path);
        // Comparing with the first path of a file suffices: the roles that
        // may share a file are all one role.
        if let Some(&j) = by_real.get(&real) {
            if !may_share(names[j].role, n.role, true) {
                let clash = Clash {
                    first: names[j].clone(),
                    second: n.clone(),
                    real: Some(real),
                };
                return Some((i, clash));
            }
        } else {
            by_real.insert(real.clone(), i);
        }
        let Some(id) = inode(&n.path) else {
            continue;
        };
        match by_inode.get(&id) {
            Some((j, first_real)) => {
                let same = *first_real == real;
                if !may_share(names[*j].role, n.role, same) {
                    let clash = Clash {
                        first: names[*j].clone(),
                        second: n.clone(),
                        real: same.then_some(real),
                    };
                    return Some((i, clash));
                }
            }
            None => {
                by_inode.insert(id, (i, real));
            }
        }
    }
    None
}

/// The store's files: master key and database, first so that a clash names
/// the target second.
pub fn store_files(store_dir: &Path) -> Vec<Named> {
    vec![
        Named {
            path: crate::store::master_key_path(store_dir),
            role: Role::MasterKey,
            secret: None,
        },
        Named {
            path: store_dir.join(crate::store::DB_FILE),
            role: Role::Store,
            secret: None,
        },
    ]
}

/// Every path of `secrets`: the store's files, then each target's file and
/// template in inventory order.
pub fn files_of<'a>(
    store_dir: &Path,
    secrets: impl IntoIterator<Item = &'a SecretSpec>,
) -> Vec<Named> {
    let mut out = store_files(store_dir);
    for s in secrets {
        for t in &s.targets {
            let target = crate::target::of(t);
            out.push(Named {
                path: target.path().to_path_buf(),
                role: Role::Target,
                secret: Some(s.name.clone()),
            });
            if let TargetSpec::Template(tt) = t {
                out.push(Named {
                    path: tt.template_path.clone(),
                    role: Role::Template,
                    secret: Some(s.name.clone()),
                });
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn named(path: &Path, role: Role) -> Named {
        Named {
            path: path.to_path_buf(),
            role,
            secret: Some("s".into()),
        }
    }

    #[test]
    fn template_rendered_over_itself_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.conf");
        std::fs::write(&file, "x={{current}}\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        // through `..`
        let dotdot = dir.path().join("sub/../app.conf");
        // through a symlink
        let link = dir.path().join("app.conf.tmpl");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        // a hard link
        let hard = dir.path().join("hard.tmpl");
        std::fs::hard_link(&file, &hard).unwrap();
        for template in [&dotdot, &link, &hard] {
            let names = [named(&file, Role::Target), named(template, Role::Template)];
            let (at, clash) = find_clash(&names).unwrap_or_else(|| panic!("{template:?}"));
            assert_eq!(at, 1);
            let text = clash.to_string();
            assert!(text.contains(&*file.to_string_lossy()), "{text}");
            assert!(text.contains(&*template.to_string_lossy()), "{text}");
            assert!(text.contains("template"), "{text}");
        }
        // a target that does not exist yet, named through `..`
        let new = dir.path().join("new.conf");
        let names = [
            named(&dir.path().join("sub/../new.conf"), Role::Template),
            named(&new, Role::Target),
        ];
        assert!(find_clash(&names).is_some());
    }

    #[test]
    fn shared_templates_and_one_env_file_under_two_spellings_are_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join(".env");
        std::fs::write(&env, "A=1\n").unwrap();
        let tmpl = dir.path().join("a.tmpl");
        std::fs::write(&tmpl, "{{current}}\n").unwrap();
        let names = [
            named(&env, Role::Target),
            named(&dir.path().join("./.env"), Role::Target),
            named(&tmpl, Role::Template),
            named(&dir.path().join("sub/../a.tmpl"), Role::Template),
            named(&dir.path().join("b.conf"), Role::Target),
        ];
        assert!(find_clash(&names).is_none());
        // but a hard link of a target is a second file to the atomic replace
        let hard = dir.path().join("hard.env");
        std::fs::hard_link(&env, &hard).unwrap();
        let names = [named(&env, Role::Target), named(&hard, Role::Target)];
        let (_, clash) = find_clash(&names).unwrap();
        assert!(clash.real.is_none());
        assert!(clash.to_string().contains("hard links"), "{clash}");
    }

    #[test]
    fn a_target_that_is_the_master_key_or_the_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join(".rotor");
        std::fs::create_dir(&store).unwrap();
        std::fs::write(store.join("master.key"), "k").unwrap();
        let link = dir.path().join("key.env");
        std::os::unix::fs::symlink(store.join("master.key"), &link).unwrap();
        let mut names = store_files(&store);
        names.push(named(&link, Role::Target));
        // (unless ROTOR_MASTER_KEY_FILE moves the key elsewhere)
        if std::env::var_os(crate::store::MASTER_KEY_ENV).is_none() {
            let (_, clash) = find_clash(&names).unwrap();
            assert_eq!(clash.first.role, Role::MasterKey);
            assert!(clash.to_string().contains("master key"), "{clash}");
        }
        std::fs::create_dir(store.join("x")).unwrap();
        let mut names = store_files(&store);
        names.push(named(
            &dir.path().join(".rotor/x/../rotor.db"),
            Role::Target,
        ));
        assert_eq!(find_clash(&names).unwrap().1.first.role, Role::Store);
    }
}
