//! The environment a hook runs with. Never rotor's own: that holds admin
//! credentials (`ROTOR_PG_ADMIN_URL`, …) that a hook printing `env` would
//! put into the journal and the audit for good. A hook gets only:
//!
//! - from rotor's environment, when set: [`PASSED`] and every `LC_*`;
//! - the run's metadata: `ROTOR_RUN_ID`, `ROTOR_STEP` (`restart`, `verify`
//!   or `undo`) and `ROTOR_SECRETS` (the names of the secrets the run
//!   rotates, comma-separated): names, never values;
//! - the variables its `[secret.hooks]` names in `env = [...]` (the loader
//!   refuses admin credentials and rotor's own `ROTOR_*` variables there).

use std::ffi::OsString;

/// Variables a hook always gets from rotor's environment, when set.
pub const PASSED: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR"];

/// The variables rotor sets for a hook itself.
pub const METADATA: &[&str] = &["ROTOR_RUN_ID", "ROTOR_STEP", "ROTOR_SECRETS"];

/// What one hook run gets besides [`PASSED`].
#[derive(Debug, Clone, Default)]
pub struct HookEnv {
    /// Names from the inventory's `env = [...]`.
    pub named: Vec<String>,
    /// The run's id, if the hook belongs to a run.
    pub run: Option<i64>,
    /// Which step runs the hook.
    pub step: &'static str,
    /// The secrets of the run.
    pub secrets: Vec<String>,
}

impl HookEnv {
    /// The whole environment of the hook, read now from rotor's.
    pub fn vars(&self) -> Vec<(OsString, OsString)> {
        let mut out: Vec<(OsString, OsString)> = Vec::new();
        for (k, v) in std::env::vars_os() {
            let passed = k
                .to_str()
                .is_some_and(|n| PASSED.contains(&n) || n.starts_with("LC_"));
            if passed {
                out.push((k, v));
            }
        }
        for name in &self.named {
            // The loader refuses rotor's own variables; never pass one even
            // if a caller names it.
            if name.starts_with("ROTOR_") || out.iter().any(|(k, _)| k == name.as_str()) {
                continue;
            }
            if let Some(v) = std::env::var_os(name) {
                out.push((name.into(), v));
            }
        }
        if let Some(run) = self.run {
            out.push(("ROTOR_RUN_ID".into(), run.to_string().into()));
        }
        if !self.step.is_empty() {
            out.push(("ROTOR_STEP".into(), self.step.into()));
        }
        if !self.secrets.is_empty() {
            out.push(("ROTOR_SECRETS".into(), self.secrets.join(",").into()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_variables_are_passed() {
        let env = HookEnv {
            named: vec![
                "NO_SUCH_VARIABLE_FOR_ROTOR_TESTS".into(),
                "PATH".into(),
                "ROTOR_RUN_ID".into(),
            ],
            run: Some(7),
            step: "verify",
            secrets: vec!["jwt".into(), "session".into()],
        };
        let vars = env.vars();
        let names: Vec<String> = vars
            .iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for n in &names {
            assert!(
                PASSED.contains(&n.as_str())
                    || n.starts_with("LC_")
                    || METADATA.contains(&n.as_str()),
                "{n} passed"
            );
        }
        let get = |n: &str| {
            vars.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        assert_eq!(get("ROTOR_RUN_ID").as_deref(), Some("7"));
        let once = |n: &str| names.iter().filter(|k| *k == n).count() <= 1;
        assert!(once("PATH") && once("ROTOR_RUN_ID"), "{names:?}");
        assert_eq!(get("ROTOR_STEP").as_deref(), Some("verify"));
        assert_eq!(get("ROTOR_SECRETS").as_deref(), Some("jwt,session"));
        assert_eq!(get("NO_SUCH_VARIABLE_FOR_ROTOR_TESTS"), None);
    }
}
