//! The exec authority: a plugin program that speaks rotor's exec protocol
//! (`docs/plugin-protocol.md`, types in `rotor-plugin`) to a provider that
//! holds the credential (a Stripe or Twilio key, a Cloudflare token, an S3
//! access key pair). Each step is one call of the plugin; every request
//! carries the version id, so a step retried after a crash finds what the
//! first attempt created.
//!
//! | step | calls |
//! |---|---|
//! | next_user (before anything is recorded) | `describe`, checked against the strategy |
//! | apply | `create`, then `test` of what it created |
//! | verify | `test` |
//! | finish (after the verify hook) | `finish` |
//! | retire | `revoke` of the old credential |
//! | undo | `undo` |

mod call;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use rotor_plugin::{Describe, Op, Overlap, Request, PROTOCOL};

use crate::authority::{Acceptance, Authority, AuthorityError, Credential, Minted};
use crate::inventory::{ExecAuthority, Strategy};
use crate::secret::SecretValue;

/// The longest value a plugin may mint.
const MAX_VALUE: usize = 64 * 1024;

/// A secret's exec plugin.
pub struct Plugin {
    secret: String,
    spec: ExecAuthority,
    strategy: Strategy,
    /// Whether the inventory gives a generator (a plugin that does not
    /// mint installs the value rotor makes with it).
    generates: bool,
    /// The `config` table every request carries, parsed once.
    config: serde_json::Map<String, serde_json::Value>,
    /// What `describe` said, once it said something usable.
    described: OnceLock<Describe>,
}

/// What each plugin described, by secret, command, directory and config,
/// for the life of the process (one rotor command): a rotation builds a
/// secret's authority more than once (plan, then the run), and each would
/// otherwise start the plugin again to ask the same question.
static DESCRIBED: OnceLock<Mutex<HashMap<String, Describe>>> = OnceLock::new();

fn described_before(key: &str) -> Option<Describe> {
    let cache = DESCRIBED.get_or_init(Mutex::default);
    cache.lock().ok().and_then(|c| c.get(key).cloned())
}

fn remember(key: String, d: &Describe) {
    let cache = DESCRIBED.get_or_init(Mutex::default);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, d.clone());
    }
}

impl Plugin {
    /// The plugin of `secret`, as the inventory declares it.
    pub fn new(secret: &str, spec: &ExecAuthority, strategy: &Strategy, generates: bool) -> Plugin {
        Plugin {
            secret: secret.to_owned(),
            spec: spec.clone(),
            strategy: strategy.clone(),
            generates,
            config: match serde_json::from_str(&spec.config) {
                Ok(serde_json::Value::Object(m)) => m,
                _ => serde_json::Map::new(),
            },
            described: OnceLock::new(),
        }
    }

    /// This plugin's key in [`DESCRIBED`].
    fn cache_key(&self) -> String {
        format!(
            "{}\0{}\0{}\0{}",
            self.secret,
            self.spec.command.join("\0"),
            self.spec.dir.display(),
            self.spec.config
        )
    }

    fn permanent(&self, message: String) -> AuthorityError {
        AuthorityError::Permanent {
            authority: "exec",
            message: format!("plugin `{}`: {message}", self.spec.command.join(" ")),
        }
    }

    /// The wire form of a credential; its value only when `with_value`.
    fn wire(&self, c: Credential<'_>, with_value: bool) -> rotor_plugin::Credential {
        rotor_plugin::Credential {
            version: c.version.map(|n| format!("{}/{n}", self.secret)),
            user: c.user.map(str::to_owned),
            value: with_value.then(|| rotor_plugin::Value::from(c.secret.expose())),
        }
    }

    /// One call: `new` and `old` with their values (`new`'s only when
    /// `new_value`).
    fn call(
        &self,
        op: Op,
        new: Option<(Credential<'_>, bool)>,
        old: Option<Credential<'_>>,
    ) -> Result<rotor_plugin::Reply, AuthorityError> {
        let mut known: Vec<&SecretValue> = Vec::new();
        if let Some((c, true)) = new {
            known.push(c.secret);
        }
        if let Some(c) = old {
            known.push(c.secret);
        }
        let request = Request {
            protocol: PROTOCOL,
            op,
            secret: self.secret.clone(),
            config: self.config.clone(),
            new: new.map(|(c, v)| self.wire(c, v)),
            old: old.map(|c| self.wire(c, true)),
        };
        call::call(&self.spec, &self.secret, &request, &known)
    }

    /// What the plugin can do, asked once per process; checked against
    /// the strategy.
    fn describe(&self) -> Result<&Describe, AuthorityError> {
        if let Some(d) = self.described.get() {
            return Ok(d);
        }
        let key = self.cache_key();
        let d = match described_before(&key) {
            Some(d) => d,
            None => {
                let reply = self
                    .call(Op::Describe, None, None)
                    .map_err(AuthorityError::unchanged)?;
                reply.describe().ok_or_else(|| {
                    self.permanent(
                        "its describe reply lacks provider, overlap, max_live or mints (see docs/plugin-protocol.md)"
                            .into(),
                    )
                    .unchanged()
                })?
            }
        };
        self.fits(&d).map_err(AuthorityError::unchanged)?;
        remember(key, &d);
        Ok(self.described.get_or_init(|| d))
    }

    /// Refuses a strategy the provider's overlap model cannot honour.
    fn fits(&self, d: &Describe) -> Result<(), AuthorityError> {
        let kind = self.strategy.kind();
        if !d.mints && !self.generates {
            return Err(self.permanent(format!(
                "{} installs a value rotor makes (mints = false), but the secret has no generator; add one, e.g. generator = {{ kind = \"random\", bytes = 32 }}",
                d.provider
            )));
        }
        if d.max_live == 0 {
            return Err(self.permanent(
                "it describes max_live = 0: the provider would hold no credential".into(),
            ));
        }
        match (&d.overlap, &self.strategy) {
            (Overlap::None, Strategy::Cutover) => Ok(()),
            (Overlap::None, _) => Err(self.permanent(format!(
                "{} invalidates the old credential the moment a new one is made (overlap \"none\"), so strategy {kind} cannot keep both working; use strategy = {{ kind = \"cutover\" }}",
                d.provider
            ))),
            (_, Strategy::Cutover) => Ok(()),
            (Overlap::FixedGrace, Strategy::Overlap { window })
                if d.grace_seconds.is_some_and(|g| g < window.as_secs()) =>
            {
                Err(self.permanent(format!(
                    "{} keeps the old credential working for {}s after create (grace_seconds), less than the overlap window of {}; shorten the window or lengthen the plugin's grace",
                    d.provider,
                    d.grace_seconds.unwrap_or(0),
                    humantime::format_duration(*window)
                )))
            }
            (_, _) if d.max_live < 2 => Err(self.permanent(format!(
                "{} lets only {} credential live at once (max_live), so strategy {kind} cannot keep old and new working together; use strategy = {{ kind = \"cutover\" }}",
                d.provider, d.max_live
            ))),
            _ => Ok(()),
        }
    }

    fn accepted(&self, reply: &rotor_plugin::Reply) -> Result<bool, AuthorityError> {
        reply.accepted.ok_or_else(|| {
            self.permanent("its test reply has no \"accepted\": true or false".into())
        })
    }
}

impl Authority for Plugin {
    fn name(&self) -> &'static str {
        "exec"
    }

    fn next_user(&self, _live: Option<&str>) -> Result<Option<String>, AuthorityError> {
        // Asked before anything is recorded: a plugin that cannot start,
        // speaks another protocol or does not fit the strategy stops the
        // rotation here.
        self.describe()?;
        Ok(None)
    }

    fn max_live(&self) -> Result<Option<u32>, AuthorityError> {
        let d = self.describe()?;
        // A roll that invalidates the old one at once never adds one.
        Ok((d.overlap != Overlap::None).then_some(d.max_live))
    }

    fn apply(
        &self,
        new: Credential<'_>,
        old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        match self.apply_minting(new, old)? {
            None => Ok(()),
            Some(_) => {
                Err(self.permanent("it minted a credential where rotor could not keep it".into()))
            }
        }
    }

    fn apply_minting(
        &self,
        new: Credential<'_>,
        old: Option<Credential<'_>>,
    ) -> Result<Option<Minted>, AuthorityError> {
        let mints = self.describe()?.mints;
        let reply = self.call(Op::Create, Some((new, !mints)), old)?;
        // Tests crash here: the provider holds a credential rotor has not
        // recorded yet.
        crate::engine::fault::point(crate::engine::step::CrashPoint::Mid(
            crate::engine::step::Inside::Create,
        ));
        let minted = match (mints, reply.value) {
            (true, Some(v)) if v.expose().is_empty() => {
                return Err(self.permanent("create returned an empty value".into()))
            }
            (true, Some(v)) if v.expose().len() > MAX_VALUE || v.expose().chars().any(char::is_control) => {
                return Err(self.permanent(format!(
                    "create returned a value rotor will not deliver: longer than {MAX_VALUE} bytes, or holding a line break or another control character"
                )))
            }
            (true, Some(v)) => Some(Minted {
                user: reply.user.clone(),
                value: SecretValue::new(v.expose().to_owned()),
            }),
            (true, None) => {
                return Err(self.permanent(
                    "it describes itself as minting (mints = true) but create returned no value"
                        .into(),
                ))
            }
            (false, Some(_)) => {
                return Err(self.permanent(
                    "create returned a value, but it describes itself as installing rotor's (mints = false)"
                        .into(),
                ))
            }
            (false, None) => None,
        };
        if let Some(user) = minted.as_ref().and_then(|m| m.user.as_deref()) {
            if user.is_empty() || user.len() > 256 || !user.chars().all(|c| c.is_ascii_graphic()) {
                return Err(self.permanent(
                    "create returned a user (the credential's non-secret part) that is empty, longer than 256 bytes, or not visible ASCII without spaces"
                        .into(),
                ));
            }
        }
        if let (Some(m), Some(o)) = (&minted, old) {
            if m.value.fingerprint() == o.secret.fingerprint() {
                return Err(self.permanent(
                    "create returned the old credential's value as the new one".into(),
                ));
            }
        }
        let user = minted.as_ref().and_then(|m| m.user.as_deref()).or(new.user);
        let value = minted.as_ref().map_or(new.secret, |m| &m.value);
        let created = Credential::new(user, value).at(new.version);
        let reply = self.call(Op::Test, Some((created, true)), old)?;
        if !self.accepted(&reply)? {
            return Err(self.permanent(
                "the provider does not accept the credential create just made (test answered accepted = false)"
                    .into(),
            ));
        }
        Ok(minted)
    }

    fn verify(&self, cred: Credential<'_>) -> Result<Acceptance, AuthorityError> {
        let reply = self.call(Op::Test, Some((cred, true)), None)?;
        Ok(if self.accepted(&reply)? {
            Acceptance::Accepted
        } else {
            Acceptance::Refused
        })
    }

    fn holds_previous(&self) -> bool {
        true
    }

    fn finish(
        &self,
        live: Credential<'_>,
        old: Option<Credential<'_>>,
    ) -> Result<(), AuthorityError> {
        self.call(Op::Finish, Some((live, true)), old).map(|_| ())
    }

    fn retire(&self, old: Credential<'_>, live: Credential<'_>) -> Result<(), AuthorityError> {
        self.call(Op::Revoke, Some((live, true)), Some(old))
            .map(|_| ())
    }

    fn undo(&self, new: Credential<'_>, old: Option<Credential<'_>>) -> Result<(), AuthorityError> {
        // A minting plugin's new value may be the placeholder rotor made
        // before create answered: it finds what it made by version id.
        let mints = self.described.get().is_none_or(|d| d.mints);
        self.call(Op::Undo, Some((new, !mints)), old).map(|_| ())
    }
}
