//! `rotor plan`: what a rotation would do, step by step, for each secret.
//! Reads the inventory, the store's metadata and the target files; changes
//! nothing.

use std::collections::HashMap;

use crate::engine::files::Files;
use crate::engine::Live;
use crate::generate;
use crate::inventory::{AuthoritySpec, SecretSpec, Verify};
use crate::store::{now, Backend, StoreError};
use crate::target;

/// One step of a plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanStep {
    /// State-machine step.
    pub step: &'static str,
    /// What it would do.
    pub detail: String,
}

/// The plan for one secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SecretPlan {
    /// Secret name.
    pub name: String,
    /// Strategy.
    pub strategy: &'static str,
    /// Team or person answerable for it (inventory `owner`).
    pub owner: Option<String>,
    /// What breaks or leaks if it is exposed (inventory `blast_radius`).
    pub blast_radius: Option<String>,
    /// Secrets to rotate with it in an incident (inventory `related`).
    pub related: Vec<String>,
    /// Generator in words.
    pub generator: String,
    /// Entropy of a new value.
    pub entropy_bits: f64,
    /// Steps in order.
    pub steps: Vec<PlanStep>,
    /// Things the operator should know first.
    pub warnings: Vec<String>,
}

/// Plans a rotation of `specs`. `store` is `None` before `rotor init`.
pub fn plan(
    store: Option<&dyn Backend>,
    specs: &[&SecretSpec],
) -> Result<Vec<SecretPlan>, StoreError> {
    let live_all = match store {
        Some(s) => s.live_versions()?,
        None => Default::default(),
    };
    let t = now();
    let left_out: HashMap<String, Vec<String>> =
        super::related::left_out(specs).into_iter().collect();
    let mut out = Vec::with_capacity(specs.len());
    // Each target file is read and parsed once for all its secrets.
    let mut files = Files::default();
    for spec in specs {
        let live = Live::from_records(live_all.get(&spec.name).map(Vec::as_slice).unwrap_or(&[]));
        let mut warnings = Vec::new();
        let mut steps = Vec::new();
        let step = |s: &'static str, d: String| PlanStep { step: s, detail: d };
        // Every target is read, so that what rotate would refuse is warned
        // about also after the first rotation.
        let found = found_in_targets(spec, live.current.is_none(), &mut files, &mut warnings);
        let old: Option<String> = match &live.current {
            Some(c) => Some(format!("v{} ({})", c.number, c.fingerprint)),
            None => {
                found.map(|(file, fp)| format!("the value now in {file} ({fp}, adopted as v1)"))
            }
        };
        let cur = old
            .clone()
            .unwrap_or_else(|| "(empty: there is no old value)".into());
        steps.push(step(
            "generate",
            format!("new value: {}", generate::describe(&spec.generator)),
        ));
        steps.push(step(
            "apply",
            apply_words(spec, live.current.as_ref(), &mut files),
        ));
        for t in &spec.targets {
            let words = crate::target::words::deliver(t, spec, &cur, names_login(spec));
            steps.push(step("deliver", words.step));
            warnings.extend(words.warnings);
        }
        match &spec.hooks.restart {
            Some(c) => steps.push(step("restart", c.argv.join(" "))),
            None => {
                steps.push(step("restart", "no restart hook".into()));
                warnings
                    .push("no restart hook: consumers must re-read the file by themselves".into());
            }
        }
        match &spec.hooks.verify {
            Some(Verify::Http { url, status, .. }) => {
                steps.push(step("verify", format!("GET {url} expects {status}")))
            }
            Some(Verify::Command(c)) => steps.push(step("verify", c.argv.join(" "))),
            None => {
                steps.push(step("verify", "no verify hook".into()));
                warnings.push(
                    "no verify hook: a broken consumer will not be noticed or rolled back".into(),
                );
            }
        }
        let retire = spec
            .authority
            .as_ref()
            .map(crate::authority::words::retire_in_run)
            .unwrap_or_default();
        for (name, words) in spec
            .strategy
            .plan_steps(old.as_deref(), &delay_words(spec), &retire)
        {
            steps.push(step(name, words));
        }
        if let Some(p) = &live.previous {
            if p.retire_after.is_some_and(|a| a > t) {
                warnings.push(format!(
                    "previous version {} is still inside its overlap window; rotating now retires it early",
                    p.number
                ));
            }
        }
        if let Some(rel) = left_out.get(&spec.name) {
            warnings.push(super::related::warning(&spec.name, rel));
        }
        // Several targets in one file warn about it once.
        let mut seen = std::collections::HashSet::new();
        warnings.retain(|w| seen.insert(w.clone()));
        out.push(SecretPlan {
            name: spec.name.clone(),
            strategy: spec.strategy.kind(),
            owner: spec.owner.clone(),
            blast_radius: spec.blast_radius.clone(),
            related: spec.related.clone(),
            generator: generate::describe(&spec.generator),
            entropy_bits: generate::entropy_bits(&spec.generator),
            steps,
            warnings,
        });
    }
    Ok(out)
}

/// The deliver step of a template target, and a warning when the generator
/// can make characters that YAML or a shell read specially (values are
/// written raw).
/// The first value a target holds now (file and fingerprint), noting
/// targets that cannot be read or that rotate would refuse (`first`: before
/// the first rotation, which also refuses a list of unknown older keys).
fn found_in_targets(
    spec: &SecretSpec,
    first: bool,
    files: &mut Files,
    warnings: &mut Vec<String>,
) -> Option<(String, String)> {
    let mut found = None;
    for ts in &spec.targets {
        let t = target::of(ts);
        warnings.extend(super::deliver::mode_change(t.path(), t.mode()));
        let file = match files.get(t.path()) {
            Ok(Some(f)) => f,
            Ok(None) => {
                warnings.push(format!(
                    "{} does not exist: rotate fails unless --create-missing",
                    t.path().display()
                ));
                continue;
            }
            Err(e) => {
                warnings.push(e.to_string());
                continue;
            }
        };
        // What rotate's own check would refuse (a URL without a password);
        // a file that does not parse is reported below.
        if let (Ok(_), Err(e)) = (t.current_in(file, None), t.check_render_in(file)) {
            warnings.push(format!("rotate refuses: {}: {e}", t.path().display()));
        }
        match t.unknown_older_in(file) {
            Ok(n) if n > 0 && first => warnings.push(format!(
                "{} holds {} keys: the first rotation refuses, rather than drop the {n} older ones consumers still accept",
                t.describe(),
                n + 1
            )),
            Ok(_) => {}
            Err(e) => warnings.push(format!("{}: {e}", t.path().display())),
        }
        match t.current_in(file, None) {
            Ok(Some(v)) => {
                found.get_or_insert_with(|| {
                    (t.path().display().to_string(), v.fingerprint().to_string())
                });
            }
            Ok(None) => {}
            Err(e) => warnings.push(format!("{}: {e}", t.path().display())),
        }
    }
    found
}

/// `wait 2s (retire_delay), then ` when retire waits after verify.
fn delay_words(spec: &SecretSpec) -> String {
    match spec.retire_delay() {
        d if d.is_zero() => String::new(),
        d => format!(
            "wait {} (retire_delay), then ",
            humantime::format_duration(d)
        ),
    }
}

/// What the apply step does at the secret's authority, in words (each
/// kind says it itself, see [`crate::authority::words`]).
fn apply_words(
    spec: &SecretSpec,
    current: Option<&crate::store::VersionRecord>,
    files: &mut Files,
) -> String {
    let Some(authority) = &spec.authority else {
        return "no authority: an app-only secret, nothing to tell".into();
    };
    // The live login: the store's, else the one the targets hold now.
    let live = current
        .and_then(|c| c.principal.clone())
        .or_else(|| user_in_targets(spec, files));
    crate::authority::words::apply(authority, &spec.strategy, live.as_deref())
}

/// Whether the secret's authority says which login a version belongs to.
fn names_login(spec: &SecretSpec) -> bool {
    spec.authority
        .as_ref()
        .is_some_and(AuthoritySpec::names_login)
}

/// The login the first target that holds one names (before rotor has a
/// current version).
fn user_in_targets(spec: &SecretSpec, files: &mut Files) -> Option<String> {
    spec.targets.iter().find_map(|ts| {
        let t = target::of(ts);
        let file = files.get(t.path()).ok()??;
        t.current_user_in(file).ok()?
    })
}
