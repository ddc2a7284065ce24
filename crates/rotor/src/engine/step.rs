//! The steps of a run and their phases, as the journal records them, and
//! the crash points between and inside them. The fault-injection suites
//! take their matrices from [`crash_points`], so a step added here is
//! crashed at by every suite without anyone listing it.

use crate::inventory::SecretSpec;
use crate::store::RunKind;

/// A step of a run, in the order a rotation passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The run and its plan are recorded.
    Plan,
    /// New versions are made (pending).
    Generate,
    /// Authorities accept the new credentials.
    Apply,
    /// Targets are written.
    Deliver,
    /// Consumers are restarted.
    Restart,
    /// Consumers are checked.
    Verify,
    /// An authority's own promotion (an exec plugin's `finish`).
    Finish,
    /// Old credentials stop working at their authority.
    Retire,
    /// Versions move to their new stages; the run closes.
    Promote,
    /// Delivery (and the authority) are taken back.
    Undo,
    /// An interrupted run is taken up again.
    Resume,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 11] = [
        Step::Plan,
        Step::Generate,
        Step::Apply,
        Step::Deliver,
        Step::Restart,
        Step::Verify,
        Step::Finish,
        Step::Retire,
        Step::Promote,
        Step::Undo,
        Step::Resume,
    ];

    /// Its name in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Plan => "plan",
            Step::Generate => "generate",
            Step::Apply => "apply",
            Step::Deliver => "deliver",
            Step::Restart => "restart",
            Step::Verify => "verify",
            Step::Finish => "finish",
            Step::Retire => "retire",
            Step::Promote => "promote",
            Step::Undo => "undo",
            Step::Resume => "resume",
        }
    }
}

/// A phase of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// About to do it.
    Intent,
    /// Done.
    Done,
    /// Failed (the detail says why).
    Failed,
    /// Failed, and tried again.
    Retry,
}

impl Phase {
    /// Its name in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Intent => "intent",
            Phase::Done => "done",
            Phase::Failed => "failed",
            Phase::Retry => "retry",
        }
    }
}

/// A place inside a step where a crash leaves it half done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Inside {
    /// Apply, after one secret's authority accepted its credential.
    Apply,
    /// Apply at an exec plugin: the provider made the credential, rotor has
    /// not recorded it.
    Create,
    /// Apply at an exec plugin: the minted credential is recorded, the step
    /// is not done.
    Mint,
    /// Apply at a Redis authority, between two nodes.
    ApplyNodes,
    /// Retire at a Redis authority, between two nodes.
    RetireNodes,
    /// Undo at a Redis authority, between two nodes.
    UndoNodes,
    /// Deliver, inside the atomic replace of the first file (temp file
    /// written, not yet renamed).
    Replace,
    /// Deliver, after the first file.
    Deliver,
}

impl Inside {
    /// Its name in `ROTOR_FAULT=mid:NAME`.
    pub fn as_str(self) -> &'static str {
        match self {
            Inside::Apply => "apply",
            Inside::Create => "create",
            Inside::Mint => "mint",
            Inside::ApplyNodes => "apply-nodes",
            Inside::RetireNodes => "retire-nodes",
            Inside::UndoNodes => "undo-nodes",
            Inside::Replace => "replace",
            Inside::Deliver => "deliver",
        }
    }
}

/// A crash point: right after a step, or inside one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrashPoint {
    /// Right after the step was journaled as done.
    After(Step),
    /// Inside a step.
    Mid(Inside),
}

impl std::fmt::Display for CrashPoint {
    /// `after:deliver`, `mid:replace`: what `ROTOR_FAULT` takes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrashPoint::After(s) => write!(f, "after:{}", s.as_str()),
            CrashPoint::Mid(i) => write!(f, "mid:{}", i.as_str()),
        }
    }
}

/// The steps a run of `kind` over `specs` (one unit: they share hooks)
/// takes once its plan and new versions are recorded, in order. The step
/// driver runs exactly these, and [`crash_points`] are made from them.
pub fn run_steps(kind: RunKind, specs: &[&SecretSpec]) -> Vec<Step> {
    let Some(first) = specs.first() else {
        return Vec::new();
    };
    let hooks = &first.hooks;
    let rotate = kind == RunKind::Rotate;
    Step::ALL
        .into_iter()
        .filter(|step| match step {
            Step::Apply => rotate,
            Step::Deliver | Step::Promote => true,
            Step::Restart => hooks.restart.is_some(),
            Step::Verify => hooks.verify.is_some(),
            Step::Finish => rotate && specs.iter().any(|s| s.finishes()),
            // A rotation retires old credentials at their authority only
            // where the strategy says so; a retire run is that step.
            Step::Retire => match kind {
                RunKind::Rotate => specs.iter().any(|s| s.retires_old_in_run()),
                RunKind::Retire => true,
                RunKind::Rollback => false,
            },
            Step::Plan | Step::Generate | Step::Undo | Step::Resume => false,
        })
        .collect()
}

/// Every crash point a run of `kind` over `specs` (one unit: they share
/// hooks) passes, in the order it passes them. A point is listed only if
/// the run reaches it: `after:restart` needs a restart hook, `mid:deliver`
/// two files, the exec and Redis points their authorities.
pub fn crash_points(kind: RunKind, specs: &[&SecretSpec]) -> Vec<CrashPoint> {
    use CrashPoint::{After, Mid};
    let mut inside_apply: Vec<Inside> = Vec::new();
    let mut inside_retire: Vec<Inside> = Vec::new();
    for a in specs.iter().filter_map(|s| s.authority.as_ref()) {
        let (apply, retire) = a.points_inside();
        for p in apply {
            if !inside_apply.contains(&p) {
                inside_apply.push(p);
            }
        }
        for p in retire {
            if !inside_retire.contains(&p) {
                inside_retire.push(p);
            }
        }
    }
    let files: std::collections::HashSet<&std::path::Path> = specs
        .iter()
        .flat_map(|s| s.targets.iter().map(|t| t.path()))
        .collect();
    let mut out = Vec::new();
    if kind == RunKind::Rotate && !specs.is_empty() {
        out.push(After(Step::Generate));
    }
    for step in run_steps(kind, specs) {
        match step {
            Step::Apply => {
                out.extend(inside_apply.iter().map(|p| Mid(*p)));
                out.extend([Mid(Inside::Apply), After(step)]);
            }
            Step::Deliver => {
                out.push(Mid(Inside::Replace));
                if files.len() > 1 {
                    out.push(Mid(Inside::Deliver));
                }
                out.push(After(step));
            }
            // A retire run's retire at the authority has no crash point of
            // its own yet: a crash there is one before promote.
            Step::Retire if kind != RunKind::Rotate => {}
            Step::Retire => {
                out.extend(inside_retire.iter().map(|p| Mid(*p)));
                out.push(After(step));
            }
            _ => out.push(After(step)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(text: &str) -> Vec<SecretSpec> {
        crate::inventory::parse(text, std::path::Path::new("/srv/app/rotor.toml"))
            .unwrap_or_else(|e| panic!("{e}"))
            .secrets
    }

    const HOOKED: &str = r#"
[[secret]]
name = "jwt"
generator = { kind = "random", bytes = 32 }
strategy = { kind = "overlap", window = "1d" }
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "JWT"
previous_var = "JWT_PREVIOUS"
[secret.hooks]
restart = ["true"]
verify = { command = ["true"], timeout = "5s" }
"#;

    const PLUGIN: &str = r#"
[[secret]]
name = "key"
strategy = { kind = "dual-password" }
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "KEY"
[secret.authority]
kind = "exec"
command = ["plugin"]
"#;

    #[test]
    fn a_run_takes_only_the_steps_its_secrets_need() {
        use Step::*;
        let hooked = specs(HOOKED);
        let hooked: Vec<&SecretSpec> = hooked.iter().collect();
        assert_eq!(
            run_steps(RunKind::Rotate, &hooked),
            [Apply, Deliver, Restart, Verify, Promote]
        );
        assert_eq!(
            run_steps(RunKind::Retire, &hooked),
            [Deliver, Restart, Verify, Retire, Promote]
        );
        assert_eq!(
            run_steps(RunKind::Rollback, &hooked),
            [Deliver, Restart, Verify, Promote]
        );
        let plugin = specs(PLUGIN);
        let plugin: Vec<&SecretSpec> = plugin.iter().collect();
        assert_eq!(
            run_steps(RunKind::Rotate, &plugin),
            [Apply, Deliver, Finish, Retire, Promote]
        );
        assert!(run_steps(RunKind::Rotate, &[]).is_empty());
    }

    #[test]
    fn every_step_a_run_takes_has_a_crash_point_after_it() {
        for text in [HOOKED, PLUGIN] {
            let specs = specs(text);
            let specs: Vec<&SecretSpec> = specs.iter().collect();
            let points = crash_points(RunKind::Rotate, &specs);
            for step in run_steps(RunKind::Rotate, &specs) {
                assert!(
                    points.contains(&CrashPoint::After(step)),
                    "{step:?}: {points:?}"
                );
            }
            assert_eq!(points.first(), Some(&CrashPoint::After(Step::Generate)));
            assert_eq!(points.last(), Some(&CrashPoint::After(Step::Promote)));
        }
    }
}
