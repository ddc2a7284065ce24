//! The rotation engine: runs the state machine
//! plan → generate → apply → deliver → restart → verify → promote, and later
//! retire, for groups of secrets that share hooks, journaling every step in
//! the store and undoing delivery when a later step fails.

pub mod deliver;
pub mod drift;
mod driver;
mod execute;
pub(crate) mod fault;
mod files;
pub mod hook_env;
pub mod hooks;
mod manual;
pub mod plan;
mod previous;
pub mod related;
mod resume;
mod retire;
mod rollback;
mod rotate;
mod run;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "scale_tests.rs"]
mod scale_tests;
pub mod status;
pub mod step;

pub(crate) use crate::inventory::digest::spec_digest;
use std::collections::HashMap;
use std::path::PathBuf;

use crate::error::RotorError;
use crate::inventory::{Hooks, Inventory, SecretSpec};
use crate::store::{Backend, Stage, VersionRecord};

/// Who acts, and under which ticket; goes into every audit entry.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `--actor`, else `$USER`.
    pub name: String,
    /// `--ticket`.
    pub ticket: Option<String>,
}

/// Switches that change how a command behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Create a target file that does not exist (otherwise an error).
    pub create_missing: bool,
    /// Take the value a target holds as current when it differs from the store.
    pub adopt: bool,
    /// A sweep (`--all`, `--due`): skip, rather than fail on, a secret that
    /// another rotor process holds or has rotated since this command began,
    /// so two sweeps started together rotate every secret exactly once.
    pub skip_busy: bool,
    /// Take over a run whose owner still looks alive (its host is down, or
    /// it hangs). Audited. Only for `resume` and `rollback`.
    pub force_unlock: bool,
}

/// Progress and notes for a person watching (a progress bar in the CLI).
pub trait Observer {
    /// A phase of `total` items starts.
    fn begin(&self, _what: &str, _total: u64) {}
    /// `n` more items are done.
    fn advance(&self, _n: u64) {}
    /// The phase ended.
    fn end(&self) {}
    /// A line worth showing (never a value).
    fn note(&self, _line: &str) {}
}

/// An observer that shows nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// What happened to one secret in a command.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// Secret name.
    pub secret: String,
    /// `rotated`, `retired`, `rolled_back`, `failed`…
    pub action: String,
    /// Version now current.
    pub version: Option<u32>,
    /// Its fingerprint.
    pub fingerprint: Option<String>,
    /// Extra words (overlap end, what was undone).
    pub detail: String,
}

/// One group's secrets and what became of them.
pub(crate) type GroupResult = (Vec<String>, Result<Vec<Outcome>, RotorError>);

/// What a command did to each secret, and why it failed if any group did.
/// The outcomes of the groups that succeeded are there either way.
#[derive(Debug, Default)]
pub struct Report {
    /// One per secret touched, failed ones included (action `failed`).
    pub outcomes: Vec<Outcome>,
    /// The error for the exit code: the group's own error when there was one
    /// group, else [`RotorError::Partial`], whose effect says whether the
    /// groups that succeeded changed anything.
    pub failure: Option<RotorError>,
    /// How many groups ran.
    pub groups: usize,
}

impl Report {
    /// Gathers per-group results.
    pub(crate) fn from_groups(groups: Vec<GroupResult>) -> Report {
        let total = groups.len();
        let mut outcomes = Vec::new();
        let mut errors = Vec::new();
        for (names, result) in groups {
            match result {
                Ok(mut o) => outcomes.append(&mut o),
                Err(e) => {
                    outcomes.extend(names.into_iter().map(|secret| Outcome {
                        secret,
                        action: "failed".into(),
                        version: None,
                        fingerprint: None,
                        detail: e.to_string(),
                    }));
                    errors.push(e);
                }
            }
        }
        let changed = changed(&outcomes);
        Report {
            outcomes,
            failure: failure_of(errors, total, changed),
            groups: total,
        }
    }

    /// This report followed by what a further step of the same command did
    /// (a sweep's retirement after its rotations): the failure then says
    /// what the command as a whole left behind.
    pub fn then(mut self, next: Result<Report, RotorError>) -> Report {
        let next = next.unwrap_or_else(|e| Report {
            outcomes: Vec::new(),
            failure: Some(e),
            groups: 1,
        });
        self.outcomes.extend(next.outcomes);
        self.groups += next.groups;
        let errors = self
            .failure
            .take()
            .into_iter()
            .chain(next.failure)
            .collect();
        self.failure = failure_of(errors, self.groups, changed(&self.outcomes));
        self
    }

    /// The outcomes, or the failure.
    pub fn into_result(self) -> Result<Vec<Outcome>, RotorError> {
        match self.failure {
            Some(e) => Err(e),
            None => Ok(self.outcomes),
        }
    }
}

/// Whether any of these outcomes is a change that stands.
fn changed(outcomes: &[Outcome]) -> bool {
    outcomes
        .iter()
        .any(|o| !matches!(o.action.as_str(), "failed" | "skipped" | "manual"))
}

/// The one error that stands for a command's failed groups.
fn failure_of(mut errors: Vec<RotorError>, total: usize, changed: bool) -> Option<RotorError> {
    match errors.len() {
        0 => None,
        1 if total <= 1 => errors.pop(),
        _ => Some(RotorError::Partial {
            failed: errors.iter().map(RotorError::failed_groups).sum(),
            total,
            effect: crate::error::Effect::combine(changed, errors.iter().map(RotorError::effect)),
        }),
    }
}

/// The engine: an inventory and its open store, which it uses through the
/// store's traits only ([`Backend`]): SQLite is one backend.
pub struct Engine<'o> {
    inventory: Inventory,
    store: Box<dyn Backend>,
    actor: Actor,
    options: Options,
    observer: &'o dyn Observer,
    /// Mode of each target file, by real path (set by `check_writers`).
    modes: deliver::FileModes,
}

impl<'o> Engine<'o> {
    /// Builds an engine.
    pub fn new(
        inventory: Inventory,
        store: impl Backend + 'static,
        actor: Actor,
        options: Options,
        observer: &'o dyn Observer,
    ) -> Self {
        crate::target::atomic::set_max_file_size(inventory.limits.max_file_size);
        Engine {
            inventory,
            store: Box::new(store),
            actor,
            options,
            observer,
            modes: deliver::FileModes::new(),
        }
    }

    /// The inventory.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The store.
    pub fn store(&self) -> &dyn Backend {
        self.store.as_ref()
    }

    /// Refuses to act when one variable of one real file has two writers
    /// (two targets that reach the same file through a link or `..`), or a
    /// file a target owns whole has another, before anything is written or
    /// recorded.
    ///
    /// Also refuses paths that name one file where they must not (see
    /// [`Engine::check_same_files`]), and removes the temp files a killed
    /// rotor left beside the targets (see [`Engine::sweep_leftovers`]).
    pub(crate) fn check_writers(&mut self) -> Result<(), RotorError> {
        self.check_same_files()?;
        self.sweep_leftovers();
        let mut seen: HashMap<(PathBuf, String), &str> = HashMap::new();
        // Each file's first writer, and the files a target owns whole.
        let mut writer: HashMap<PathBuf, &str> = HashMap::new();
        let mut whole: HashMap<PathBuf, &str> = HashMap::new();
        let mut modes = deliver::FileModes::new();
        for s in &self.inventory.secrets {
            for spec in &s.targets {
                let t = crate::target::of(spec);
                let file = deliver::real_path(t.path());
                let owns_whole = t.keys().iter().any(|k| k == crate::target::WHOLE_FILE);
                let other = if owns_whole {
                    writer.get(&file)
                } else {
                    whole.get(&file)
                };
                if let Some(other) = other {
                    return Err(RotorError::Secret {
                        secret: s.name.clone(),
                        message: format!(
                            "{} is also written by secret \"{other}\" (the target paths name the same file), and one of them renders the whole file from a template; a template target must be its file's only writer",
                            t.path().display()
                        ),
                    });
                }
                writer.entry(file.clone()).or_insert(&s.name);
                if owns_whole {
                    whole.insert(file.clone(), &s.name);
                }
                if let Some(m) = modes.insert(file.clone(), t.mode()) {
                    if m != t.mode() {
                        return Err(RotorError::Secret {
                            secret: s.name.clone(),
                            message: format!(
                                "{} is given mode {:04o} here and {m:04o} by another target; one file has one mode",
                                t.path().display(),
                                t.mode()
                            ),
                        });
                    }
                }
                for key in t.keys() {
                    if let Some(other) = seen.insert((file.clone(), key.clone()), &s.name) {
                        return Err(RotorError::Secret {
                            secret: s.name.clone(),
                            message: format!(
                                "{key} in {} is also written by secret \"{other}\" (the two target paths name the same file); give each variable one writer",
                                t.path().display()
                            ),
                        });
                    }
                }
            }
        }
        self.modes = modes;
        Ok(())
    }

    /// Refuses, before anything is changed, a command that would append to
    /// an audit trail whose head is damaged (the head's check reads two
    /// rows, so this costs the same however long the trail is).
    pub(crate) fn refuse_damaged_audit(&self) -> Result<(), RotorError> {
        self.store.audit_head()?;
        Ok(())
    }

    /// Refuses a template rendered over itself, a target that is the master
    /// key or the store, or two target paths that are hard links of one
    /// file (canonical paths and device+inode compared), over the whole
    /// inventory. Checked when a command starts; [`Engine::check_same_files_of`]
    /// checks a run's own files again right before they are written.
    pub(crate) fn check_same_files(&self) -> Result<(), RotorError> {
        self.check_same_files_of(&self.inventory.secrets.iter().collect::<Vec<_>>())
    }

    /// [`Engine::check_same_files`] for the files of `specs` only (so that a
    /// run's check costs its own files, not the inventory's).
    pub(crate) fn check_same_files_of(&self, specs: &[&SecretSpec]) -> Result<(), RotorError> {
        let names =
            crate::target::identity::files_of(&self.inventory.store.path, specs.iter().copied());
        match crate::target::identity::find_clash(&names) {
            None => Ok(()),
            Some((_, clash)) => Err(RotorError::Secret {
                secret: clash.second.secret.clone().unwrap_or_default(),
                message: clash.to_string(),
            }),
        }
    }

    /// Removes the temp files that rotor processes which died left beside
    /// the targets, saying so; one it cannot remove is noted, not fatal.
    pub(crate) fn sweep_leftovers(&self) {
        let files = crate::target::leftovers::managed_files(&self.inventory);
        let sweep = crate::target::leftovers::sweep(files.iter().map(PathBuf::as_path));
        for p in &sweep.removed {
            self.observer.note(&format!(
                "removed {}, a temp file left by a rotor process that died",
                p.display()
            ));
        }
        for left in &sweep.left {
            self.observer.note(&format!("warning: {left}"));
        }
    }

    /// Resolves names to specs, in inventory order, rejecting unknown names.
    pub fn select(&self, names: &[String]) -> Result<Vec<&SecretSpec>, RotorError> {
        let known: std::collections::HashSet<&str> = self
            .inventory
            .secrets
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        if let Some(n) = names.iter().find(|n| !known.contains(n.as_str())) {
            return Err(RotorError::UnknownSecret(n.clone()));
        }
        let wanted: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        Ok(self
            .inventory
            .secrets
            .iter()
            .filter(|s| wanted.contains(s.name.as_str()))
            .collect())
    }
}

impl Engine<'_> {
    /// Refuses a run whose owner looks alive, unless `--force-unlock`, which
    /// is audited with the owner it overrides.
    pub(crate) fn claim_stale(&mut self, run: &crate::store::RunRecord) -> Result<(), RotorError> {
        let secret = run.secrets.first().cloned().unwrap_or_default();
        if run.alive && !self.options.force_unlock {
            return Err(run.busy(&secret).into());
        }
        let actor = self.actor.clone();
        let forced = run.alive;
        self.store.write(|st| {
            if forced {
                for s in &run.secrets {
                    st.audit(&crate::audit::NewEntry {
                        actor: &actor.name,
                        ticket: actor.ticket.as_deref(),
                        secret: Some(s),
                        step: "force-unlock",
                        outcome: "ok",
                        detail: &format!(
                            "took run {} from owner {} (last seen at step {})",
                            run.id, run.owner, run.step
                        ),
                        ..Default::default()
                    })?;
                }
            }
            st.take_over(run)?;
            Ok::<_, RotorError>(())
        })
    }
}

/// Secrets that share restart and verify hooks rotate together, with one
/// restart and one verification: the groups, in inventory order.
pub(crate) fn units<'a>(secrets: &[&'a SecretSpec]) -> Vec<(Hooks, Vec<&'a SecretSpec>)> {
    let mut order: Vec<Hooks> = Vec::new();
    let mut map: HashMap<Hooks, Vec<&'a SecretSpec>> = HashMap::new();
    for s in secrets {
        if !map.contains_key(&s.hooks) {
            order.push(s.hooks.clone());
        }
        map.entry(s.hooks.clone()).or_default().push(s);
    }
    order
        .into_iter()
        .filter_map(|h| map.remove(&h).map(|v| (h, v)))
        .collect()
}

/// Per real file, the targets of these secrets in it.
pub(crate) fn file_targets<'a>(secrets: &[&'a SecretSpec]) -> deliver::FileTargets<'a> {
    let mut out = deliver::FileTargets::new();
    for s in secrets {
        for spec in &s.targets {
            let t = crate::target::of(spec);
            out.entry(deliver::real_path(t.path())).or_default().push(t);
        }
    }
    out
}

/// The live versions of one secret, by stage.
#[derive(Debug, Default, Clone)]
pub struct Live {
    /// Being delivered.
    pub pending: Option<VersionRecord>,
    /// In use.
    pub current: Option<VersionRecord>,
    /// Still accepted.
    pub previous: Option<VersionRecord>,
}

impl Live {
    /// Current and previous version numbers, to notice a concurrent change.
    pub(crate) fn numbers(&self) -> (Option<u32>, Option<u32>) {
        (
            self.current.as_ref().map(|c| c.number),
            self.previous.as_ref().map(|p| p.number),
        )
    }

    pub(crate) fn from_records(records: &[VersionRecord]) -> Live {
        let mut l = Live::default();
        for r in records {
            let slot = match r.stage {
                Stage::Pending => &mut l.pending,
                Stage::Current => &mut l.current,
                Stage::Previous => &mut l.previous,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(r.clone());
            }
        }
        l
    }
}

impl Engine<'_> {
    /// The authority `spec` answers to, with its admin credential resolved:
    /// from the environment variable the inventory names, or from another
    /// secret's current value (the store's, else what its targets hold).
    pub(crate) fn authority(
        &self,
        spec: &SecretSpec,
    ) -> Result<Box<dyn crate::authority::Authority>, RotorError> {
        use crate::authority::Admin;
        use crate::inventory::AdminSource;
        let (source, what) = match &spec.authority {
            None => (None, ""),
            Some(a) => a.admin(),
        };
        let admin = match source {
            None => Admin::None,
            Some(AdminSource::Env(var)) => match std::env::var(var) {
                Ok(url) if !url.trim().is_empty() => Admin::Url(secrecy::SecretString::from(url)),
                _ => {
                    return Err(RotorError::Secret {
                        secret: spec.name.clone(),
                        message: format!(
                            "its admin connection URL is read from ${var}, which is not set; export it ({what}) and run again"
                        ),
                    })
                }
            },
            Some(AdminSource::Secret { secret, url }) => Admin::UrlAndPassword {
                url: url.clone(),
                password: self.current_value_of(&spec.name, secret)?,
            },
        };
        crate::authority::of(spec, admin).map_err(|e| RotorError::Secret {
            secret: spec.name.clone(),
            message: e.to_string(),
        })
    }

    /// The value `other` has now: the store's current version, else the
    /// value its targets hold (before rotor first rotated it).
    fn current_value_of(
        &self,
        asking: &str,
        other: &str,
    ) -> Result<crate::secret::SecretValue, RotorError> {
        let live = self.store.live_versions()?;
        let live = Live::from_records(live.get(other).map(Vec::as_slice).unwrap_or(&[]));
        if let Some(cur) = live.current {
            return Ok(self.store.value(other, cur.number)?);
        }
        if let Some(spec) = self.inventory.secret(other) {
            for ts in &spec.targets {
                let t = crate::target::of(ts);
                if let Some(bytes) = deliver::read_optional(t.path())? {
                    if let Some(v) = t.current(&bytes).map_err(deliver::at(t.path()))? {
                        return Ok(v);
                    }
                }
            }
        }
        Err(RotorError::Secret {
            secret: asking.to_owned(),
            message: format!(
                "its admin password is secret \"{other}\", which has no value yet: neither the store nor its targets hold one"
            ),
        })
    }
}
