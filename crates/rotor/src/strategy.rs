//! Strategies: how consumers survive a change. Everything the engine needs
//! to know about a strategy lives here, so that the engine never asks which
//! strategy it runs: whether the targets keep a previous value, what
//! happens to the old version at promote and after a rollback, whether the
//! old credential is retired within the run, what blocks a new rotation,
//! and the words `rotor plan` uses.

use std::time::Duration;

/// How consumers survive the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// Replace at once; the old value stops working immediately.
    Cutover,
    /// New value signs, new and previous verify until `window` has passed.
    Overlap {
        /// How long the previous value stays delivered.
        window: Duration,
    },
    /// Two logins take turns: the idle one gets the new password, consumers
    /// move to it, and the old one is retired once its sessions are gone.
    Alternate,
    /// The authority holds the old and the new credential at once (a Redis
    /// ACL user's two passwords, a provider's two keys): consumers move to
    /// the new one, then the old one is removed.
    DualPassword,
    /// A person makes the new value in a provider's portal and gives it to
    /// rotor (`rotor put`); rotor delivers it, and the old one counts as
    /// live until the person confirms it was revoked (`rotor confirm
    /// --revoked`).
    Manual,
}

/// What becomes of the version consumers used before, at promote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OldFate {
    /// It stays live as previous until this Unix time.
    PreviousUntil(i64),
    /// It is retired now.
    Retired,
    /// It stays live as previous, with no end: only an operator's
    /// confirmation that the provider revoked it retires it.
    AwaitingRevocation,
}

impl Strategy {
    /// The name used in the inventory and in output.
    pub fn kind(&self) -> &'static str {
        match self {
            Strategy::Cutover => "cutover",
            Strategy::Overlap { .. } => "overlap",
            Strategy::Alternate => "alternate",
            Strategy::DualPassword => "dual-password",
            Strategy::Manual => "manual",
        }
    }

    /// Whether the targets deliver the previous value next to the current
    /// one while it is live.
    pub fn keeps_previous(&self) -> bool {
        matches!(self, Strategy::Overlap { .. })
    }

    /// The previous version a rotation's targets must hold: the one it
    /// demotes, for a strategy that keeps it.
    pub fn want_previous(&self, old_current: Option<u32>) -> Option<u32> {
        if self.keeps_previous() {
            old_current
        } else {
            None
        }
    }

    /// Whether the old credential is retired at the authority within the
    /// rotation, right after verify (the old one keeps working until then).
    pub fn retires_in_run(&self) -> bool {
        matches!(self, Strategy::Alternate | Strategy::DualPassword)
    }

    /// Whether the value comes from a person (`rotor put`), not a generator.
    pub fn is_provided(&self) -> bool {
        matches!(self, Strategy::Manual)
    }

    /// What becomes of the demoted version at promote (at Unix time `t`),
    /// given whether the in-run retire failed.
    pub fn old_fate(&self, t: i64, retire_failed: bool) -> OldFate {
        match self {
            Strategy::Overlap { window } => OldFate::PreviousUntil(window_end(t, *window)),
            // An authority that revokes at cutover (an exec plugin) and
            // failed to: the old one may still work there.
            Strategy::Cutover if retire_failed => OldFate::PreviousUntil(t),
            Strategy::Cutover => OldFate::Retired,
            Strategy::Alternate | Strategy::DualPassword if retire_failed => {
                OldFate::PreviousUntil(t)
            }
            Strategy::Alternate | Strategy::DualPassword => OldFate::Retired,
            Strategy::Manual => OldFate::AwaitingRevocation,
        }
    }

    /// When a version demoted by a rollback at `t` stops being live: what
    /// it signed meanwhile keeps verifying for a fresh window.
    pub fn rollback_window_end(&self, t: i64) -> i64 {
        match self {
            Strategy::Overlap { window } => window_end(t, *window),
            _ => t,
        }
    }

    /// Why a new rotation of `secret` cannot start while version
    /// `previous` (with login `login`) is still live, if it cannot.
    pub fn blocked_by_previous(
        &self,
        secret: &str,
        previous: u32,
        login: Option<&str>,
    ) -> Option<String> {
        match self {
            // Its role is the idle one of the pair: rotating now would
            // change its password under the sessions it is waiting for.
            Strategy::Alternate => Some(format!(
                "version {previous} ({}) has not been retired yet (its sessions had not ended); run `rotor retire {secret}` first, then rotate",
                login.unwrap_or("its login")
            )),
            // The authority still accepts it: a rotation now would mark it
            // retired without removing it there.
            Strategy::DualPassword => Some(format!(
                "version {previous}'s credential is still accepted by the authority (removing it failed); run `rotor retire {secret}` first, then rotate"
            )),
            Strategy::Manual => Some(format!(
                "version {previous} has not been confirmed revoked at the provider; revoke it there, run `rotor confirm {secret} --revoked`, then put the next value"
            )),
            Strategy::Cutover | Strategy::Overlap { .. } => None,
        }
    }

    /// Words for the promote step (and the steps around it) in `rotor
    /// plan`: `old` names the version it demotes, `delay` the wait before
    /// an in-run retire, `retire` what that retire does.
    pub fn plan_steps(
        &self,
        old: Option<&str>,
        delay: &str,
        retire: &str,
    ) -> Vec<(&'static str, String)> {
        match self {
            Strategy::Overlap { window } => vec![
                (
                    "promote",
                    match old {
                        Some(o) => format!(
                            "NEW becomes current; {o} stays valid as previous for {}",
                            humantime::format_duration(*window)
                        ),
                        None => "NEW becomes current (the first value: nothing to overlap)".into(),
                    },
                ),
                (
                    "retire",
                    "`rotor retire --expired` (or the next rotate) empties the previous value after the window".into(),
                ),
            ],
            Strategy::DualPassword | Strategy::Alternate => vec![
                ("retire", format!("after verify: {delay}{retire}")),
                ("promote", "NEW becomes current".into()),
            ],
            Strategy::Cutover => vec![(
                "promote",
                match old {
                    Some(o) => format!(
                        "NEW becomes current; {o} is retired at once: whatever it signed or opened stops working"
                    ),
                    None => "NEW becomes current (the first value)".into(),
                },
            )],
            Strategy::Manual => vec![
                ("promote", "NEW becomes current".into()),
                (
                    "retire",
                    match old {
                        Some(o) => format!("{o} counts as live until you revoke it at the provider and run `rotor confirm NAME --revoked`; `rotor status` reminds you"),
                        None => "nothing to revoke (the first value)".into(),
                    },
                ),
            ],
        }
    }
}

/// `t` plus `window`, in Unix seconds, saturating rather than overflowing.
pub fn window_end(t: i64, window: Duration) -> i64 {
    t.saturating_add(i64::try_from(window.as_secs()).unwrap_or(i64::MAX))
}
