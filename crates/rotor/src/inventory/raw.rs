//! The raw TOML shape of `rotor.toml`, with source spans kept for
//! messages. Only `load` and `rules` see it; the model is what leaves.

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

/// An integer as written, at any size TOML reads (saturating at the i128
/// range), so a value out of its key's range gets that key's own message,
/// naming the range, rather than serde's "expected i64".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct RawInt(pub(super) i128);

impl<'de> Deserialize<'de> for RawInt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RawInt, D::Error> {
        struct Int;
        impl serde::de::Visitor<'_> for Int {
            type Value = RawInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawInt, E> {
                Ok(RawInt(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawInt, E> {
                Ok(RawInt(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<RawInt, E> {
                Ok(RawInt(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<RawInt, E> {
                Ok(RawInt(i128::try_from(v).unwrap_or(i128::MAX)))
            }
        }
        d.deserialize_any(Int)
    }
}

impl fmt::Display for RawInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// ---------------------------------------------------------------------------
// Raw TOML shape. Private: only the model leaves this module.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInventory {
    pub(super) store: Option<Spanned<RawStore>>,
    pub(super) limits: Option<Spanned<RawLimits>>,
    #[serde(default)]
    pub(super) secret: Vec<Spanned<RawSecret>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) max_file_size: Option<Spanned<RawSize>>,
}

/// A size: bytes, or a string with a unit (`"16 MiB"`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawSize {
    Bytes(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub(super) path: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecret {
    pub(super) name: Spanned<String>,
    pub(super) description: Option<String>,
    pub(super) owner: Option<String>,
    pub(super) blast_radius: Option<String>,
    pub(super) cadence: Option<Spanned<String>>,
    pub(super) generator: Option<Spanned<RawGenerator>>,
    pub(super) strategy: Option<Spanned<RawStrategy>>,
    pub(super) manual: Option<Spanned<RawManual>>,
    #[serde(default)]
    pub(super) related: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) target: Vec<Spanned<RawTarget>>,
    pub(super) hooks: Option<Spanned<RawHooks>>,
    pub(super) authority: Option<Spanned<RawAuthority>>,
}

/// `[secret.manual]`: what a person does in a provider's portal, and the
/// rules the value they bring must meet.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManual {
    pub(super) portal: Option<String>,
    #[serde(default)]
    pub(super) steps: Vec<String>,
    pub(super) approver: Option<String>,
    pub(super) min_length: Option<Spanned<RawInt>>,
    pub(super) max_length: Option<Spanned<RawInt>>,
    pub(super) charset: Option<Spanned<String>>,
    pub(super) prefix: Option<String>,
}

/// `[secret.authority]`: every kind's keys; which apply is checked by hand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuthority {
    pub(super) kind: Spanned<String>,
    pub(super) admin_url_env: Option<Spanned<String>>,
    pub(super) admin_secret: Option<Spanned<String>>,
    pub(super) admin_url: Option<Spanned<String>>,
    pub(super) group: Option<Spanned<String>>,
    pub(super) roles: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) role: Option<Spanned<String>>,
    pub(super) retire: Option<Spanned<String>>,
    pub(super) drain_timeout: Option<Spanned<String>>,
    pub(super) valid_for: Option<Spanned<String>>,
    pub(super) user: Option<Spanned<String>>,
    pub(super) nodes: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) retire_delay: Option<Spanned<String>>,
    pub(super) tls_ca_file: Option<Spanned<String>>,
    pub(super) command: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) env: Option<Spanned<toml::Value>>,
    pub(super) config: Option<Spanned<toml::Table>>,
}

/// Both generator kinds' keys; which are allowed depends on `kind`, checked
/// by hand so the messages can say why.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGenerator {
    pub(super) kind: Spanned<String>,
    pub(super) bytes: Option<Spanned<RawInt>>,
    pub(super) encoding: Option<Spanned<String>>,
    pub(super) length: Option<Spanned<RawInt>>,
    pub(super) alphabet: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStrategy {
    pub(super) kind: Spanned<String>,
    pub(super) window: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub(super) kind: Spanned<String>,
    pub(super) path: Spanned<String>,
    pub(super) var: Option<Spanned<String>>,
    pub(super) previous_var: Option<Spanned<String>>,
    pub(super) format: Option<Spanned<String>>,
    pub(super) mode: Option<Spanned<String>>,
    pub(super) form: Option<Spanned<String>>,
    pub(super) user_var: Option<Spanned<String>>,
    pub(super) admin_console_env: Option<Spanned<String>>,
    pub(super) template: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHooks {
    /// Any TOML value, so a shell string gets a helpful message.
    pub(super) restart: Option<Spanned<toml::Value>>,
    pub(super) restart_timeout: Option<Spanned<String>>,
    pub(super) verify: Option<Spanned<RawVerify>>,
    /// Attempts in all for a failing restart or verify.
    pub(super) retries: Option<Spanned<RawInt>>,
    /// Wait before the second attempt (a duration).
    pub(super) retry_backoff: Option<Spanned<String>>,
    /// Variables of rotor's environment the hooks get; any TOML value, so
    /// a wrong type gets a helpful message.
    pub(super) env: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVerify {
    pub(super) http: Option<Spanned<String>>,
    pub(super) status: Option<Spanned<RawInt>>,
    pub(super) command: Option<Spanned<toml::Value>>,
    pub(super) timeout: Option<Spanned<String>>,
    /// The CA (PEM) an https:// verify trusts instead of the system's roots.
    pub(super) tls_ca_file: Option<Spanned<String>>,
}
