//! The fault-injection suites' matrices, generated from the engine's step
//! enum ([`rotor::engine::step::crash_points`]) for the inventory a suite
//! runs, so that a new step or crash point is covered without anyone
//! listing it.

use rotor::store::RunKind;

use crate::Project;

/// Every crash point (`after:deliver`, `mid:replace`, …) a run of `kind`
/// over the secrets `names` of `inventory` passes, in order. `files` are
/// written beside the inventory first (templates must exist to load).
pub fn crash_points(
    inventory: &str,
    files: &[(&str, &str)],
    kind: RunKind,
    names: &[&str],
) -> Vec<String> {
    let project = Project::new();
    project.write("rotor.toml", inventory);
    for (name, text) in files {
        project.write(name, text);
    }
    let inv = rotor::inventory::load(&project.join("rotor.toml"))
        .unwrap_or_else(|e| panic!("the suite's inventory does not load: {e}"));
    let specs: Vec<&rotor::inventory::SecretSpec> = inv
        .secrets
        .iter()
        .filter(|s| names.is_empty() || names.contains(&s.name.as_str()))
        .collect();
    assert!(
        !specs.is_empty(),
        "no secret of the inventory is named {names:?}"
    );
    let points: Vec<String> = rotor::engine::step::crash_points(kind, &specs)
        .iter()
        .map(ToString::to_string)
        .collect();
    // Every run crashes at least while writing and after it, and after
    // the promote that closes it.
    for must in ["mid:replace", "after:deliver", "after:promote"] {
        assert!(
            points.iter().any(|p| p == must),
            "{must} missing from {points:?}"
        );
    }
    points
}

/// How a suite recovers from a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// `rotor resume NAME`.
    Resume,
    /// `rotor rollback NAME`.
    Rollback,
}

impl Recovery {
    /// The arguments of the recovery of secret `name`.
    pub fn args(self, name: &str) -> [&str; 2] {
        match self {
            Recovery::Resume => ["resume", name],
            Recovery::Rollback => ["rollback", name],
        }
    }

    /// Checks the exit of the recovery `run`: when the crash left
    /// `nothing` for it to do (the run had completed) it is refused with
    /// exit 2 and says so, else it exits 0.
    pub fn check(self, run: &crate::harness::Run, nothing: bool) {
        if nothing {
            let words = match self {
                Recovery::Resume => "nothing to resume",
                Recovery::Rollback => "nothing to roll back",
            };
            run.expect_code(2).expect_output(words);
        } else {
            run.expect_code(0);
        }
    }
}
