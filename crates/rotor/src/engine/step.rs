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

/// Every crash point a run of `kind` over `specs` (one unit: they share
/// hooks) passes, in the order it passes them. A point is listed only if
/// the run reaches it: `after:restart` needs a restart hook, `mid:deliver`
/// two files, the exec and Redis points their authorities.
pub fn crash_points(kind: RunKind, specs: &[&SecretSpec]) -> Vec<CrashPoint> {
    use CrashPoint::{After, Mid};
    let Some(first) = specs.first() else {
        return Vec::new();
    };
    let hooks = &first.hooks;
    let authorities: Vec<&crate::inventory::AuthoritySpec> =
        specs.iter().filter_map(|s| s.authority.as_ref()).collect();
    let mut inside_apply: Vec<Inside> = Vec::new();
    let mut inside_retire: Vec<Inside> = Vec::new();
    for a in &authorities {
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
    let finishes = authorities.iter().any(|a| a.finishes());
    let retires_in_run = specs.iter().any(|s| match &s.authority {
        Some(a) => a.retires_old_in_run(&s.strategy),
        None => s.strategy.retires_in_run(),
    });
    let files: std::collections::HashSet<&std::path::Path> = specs
        .iter()
        .flat_map(|s| s.targets.iter().map(|t| t.path()))
        .collect();
    let mut out = Vec::new();
    for step in Step::ALL {
        match step {
            Step::Plan | Step::Undo | Step::Resume => {}
            Step::Generate if kind == RunKind::Rotate => out.push(After(step)),
            Step::Apply if kind == RunKind::Rotate => {
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
            Step::Restart if hooks.restart.is_some() => out.push(After(step)),
            Step::Verify if hooks.verify.is_some() => out.push(After(step)),
            Step::Finish if kind == RunKind::Rotate && finishes => out.push(After(step)),
            Step::Retire if kind == RunKind::Rotate && retires_in_run => {
                out.extend(inside_retire.iter().map(|p| Mid(*p)));
                out.push(After(step));
            }
            Step::Promote => out.push(After(step)),
            _ => {}
        }
    }
    out
}
