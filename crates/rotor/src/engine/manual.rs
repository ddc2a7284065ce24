//! The manual flow for secrets a person makes in a provider's portal
//! (strategy manual): `rotate` prints what to do, `rotor put` takes the
//! value (checked against the inventory's rules) and delivers it with the
//! same journal as any rotation, and `rotor confirm --revoked` retires the
//! old value once the person says the provider revoked it. Until then the
//! old value counts as live and `status` says so.

use crate::audit::NewEntry;
use crate::engine::{Engine, Live, Outcome, Report};
use crate::error::RotorError;
use crate::inventory::{Charset, SecretSpec, ValueRules};
use crate::secret::SecretValue;

/// What a person must do to rotate `spec`, as the outcome `rotate` reports.
pub(super) fn instructions(spec: &SecretSpec) -> Outcome {
    let mut lines = Vec::new();
    if let Some(m) = &spec.manual {
        if let Some(a) = &m.approver {
            lines.push(format!("approval: {a}"));
        }
        if let Some(p) = &m.portal {
            lines.push(format!("portal: {p}"));
        }
        for (i, s) in m.steps.iter().enumerate() {
            lines.push(format!("{}. {s}", i + 1));
        }
    }
    lines.push(format!(
        "then give rotor the new value: `rotor put {}` (it reads stdin, or asks without echo), and once the provider revoked the old one: `rotor confirm {} --revoked`",
        spec.name, spec.name
    ));
    Outcome {
        secret: spec.name.clone(),
        action: "manual".into(),
        version: None,
        fingerprint: None,
        detail: format!("a person makes this value: {}", lines.join("; ")),
    }
}

/// Why `value` does not meet `rules`, in words that never quote it.
pub fn check_rules(value: &str, rules: &ValueRules) -> Result<(), String> {
    let n = value.chars().count();
    if n < rules.min_length {
        return Err(format!(
            "it is {n} characters long; this secret needs at least {}",
            rules.min_length
        ));
    }
    if n > rules.max_length {
        return Err(format!(
            "it is {n} characters long; this secret takes at most {}",
            rules.max_length
        ));
    }
    if let Some(bad) = value.chars().position(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "character {} is a space, a control character or not ASCII; paste the value alone",
            bad + 1
        ));
    }
    if let Some(p) = &rules.prefix {
        if !value.starts_with(p.as_str()) {
            return Err(format!(
                "it does not start with \"{p}\", as this provider's values do"
            ));
        }
    }
    if let Some(cs) = rules.charset {
        let ok = |c: char| match cs {
            Charset::Alnum => c.is_ascii_alphanumeric(),
            Charset::UrlSafe => c.is_ascii_alphanumeric() || c == '-' || c == '_',
            Charset::Hex => c.is_ascii_hexdigit(),
            Charset::Base64 => c.is_ascii_alphanumeric() || "+/=-_".contains(c),
        };
        let body = rules
            .prefix
            .as_deref()
            .and_then(|p| value.strip_prefix(p))
            .unwrap_or(value);
        if let Some(bad) = body.chars().position(|c| !ok(c)) {
            return Err(format!(
                "character {} is outside its charset ({cs:?})",
                bad + 1 + (value.len() - body.len())
            ));
        }
    }
    Ok(())
}

impl Engine<'_> {
    /// `rotor put NAME`: delivers `value`, which a person made at the
    /// provider, as the next version of manual secret `name`.
    pub fn put(&mut self, name: &str, value: SecretValue) -> Result<Report, RotorError> {
        self.check_writers()?;
        self.refuse_damaged_audit()?;
        let spec = self
            .select(&[name.to_owned()])?
            .into_iter()
            .next()
            .cloned()
            .ok_or_else(|| RotorError::UnknownSecret(name.to_owned()))?;
        let refuse = |message: String| RotorError::Secret {
            secret: name.to_owned(),
            message,
        };
        if !spec.strategy.is_provided() {
            return Err(refuse(format!(
                "rotor generates its values (strategy {}); `rotor put` is for strategy manual, whose values a person brings",
                spec.strategy.kind()
            )));
        }
        let rules = spec
            .manual
            .as_ref()
            .map(|m| m.rules.clone())
            .unwrap_or_default();
        check_rules(value.expose(), &rules)
            .map_err(|why| refuse(format!("the value was refused and nothing changed: {why}")))?;
        let live = self.store.live_versions()?;
        let current = Live::from_records(live.get(name).map(Vec::as_slice).unwrap_or(&[])).current;
        if current.is_some_and(|c| c.fingerprint == value.fingerprint()) {
            return Err(refuse(
                "that is the current value (same fingerprint); make a new one at the provider first"
                    .into(),
            ));
        }
        let since = self.store.last_run_id()?;
        let hooks = spec.hooks.clone();
        let result = self.rotate_unit(&hooks, &[&spec], &live, since, Some(&value));
        Ok(Report::from_groups(vec![(vec![name.to_owned()], result)]))
    }

    /// `rotor confirm NAME --revoked`: a person says the provider revoked
    /// the old value of manual secret `name`; it is audited and retired.
    pub fn confirm_revoked(&mut self, name: &str) -> Result<Report, RotorError> {
        let spec = self
            .select(&[name.to_owned()])?
            .into_iter()
            .next()
            .cloned()
            .ok_or_else(|| RotorError::UnknownSecret(name.to_owned()))?;
        if !spec.strategy.is_provided() {
            return Err(RotorError::Secret {
                secret: name.to_owned(),
                message: format!(
                    "strategy {}: rotor retires its old values itself (`rotor retire {name}`); confirm is for strategy manual",
                    spec.strategy.kind()
                ),
            });
        }
        let live = self.store.live_versions()?;
        let Some(prev) =
            Live::from_records(live.get(name).map(Vec::as_slice).unwrap_or(&[])).previous
        else {
            return Err(RotorError::NothingToDo(format!(
                "nothing awaits confirmation: {name} has no old value still counted as live"
            )));
        };
        let actor = self.actor.clone();
        self.store.write(|st| {
            st.audit(&NewEntry {
                actor: &actor.name,
                ticket: actor.ticket.as_deref(),
                secret: Some(name),
                version: Some(prev.number),
                fingerprint: Some(prev.fingerprint.as_str()),
                step: "confirm.revoked",
                outcome: "ok",
                detail: "a person confirmed the provider revoked this version",
            })?;
            Ok::<_, RotorError>(())
        })?;
        self.retire_selected(&[name.to_owned()], false, true)
    }
}
