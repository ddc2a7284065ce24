//! The exec plugin protocol of rotor, version 1 (see
//! `docs/plugin-protocol.md`): the request rotor writes to a plugin's stdin
//! and the reply the plugin writes to stdout, one JSON object on one line
//! each, and [`serve`], which runs a plugin written in Rust.
//!
//! ```no_run
//! use rotor_plugin::{Created, Describe, Handler, Overlap, PluginError, Request};
//!
//! struct Example;
//! impl Handler for Example {
//!     fn describe(&mut self, _: &Request) -> Result<Describe, PluginError> {
//!         Ok(Describe::new("example", Overlap::Dual, 2, false))
//!     }
//!     fn create(&mut self, _: &Request) -> Result<Created, PluginError> {
//!         Ok(Created::default()) // installs new.value at the provider
//!     }
//!     fn test(&mut self, _: &Request) -> Result<bool, PluginError> {
//!         Ok(true)
//!     }
//!     fn revoke(&mut self, _: &Request) -> Result<(), PluginError> {
//!         Ok(())
//!     }
//!     fn undo(&mut self, _: &Request) -> Result<(), PluginError> {
//!         Ok(())
//!     }
//! }
//! fn main() {
//!     std::process::exit(rotor_plugin::serve(&mut Example));
//! }
//! ```

mod value;

use serde::{Deserialize, Serialize};
pub use value::Value;

/// The protocol version this crate speaks.
pub const PROTOCOL: u32 = 1;

/// Largest reply rotor reads, in bytes.
pub const MAX_REPLY: usize = 1024 * 1024;

/// An operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// What the plugin can do.
    Describe,
    /// Make `new` live at the provider (mint it, or install `new.value`).
    Create,
    /// Whether `new` is accepted now.
    Test,
    /// The provider's promotion of `new`, after consumers verified it.
    Finish,
    /// `old` stops working.
    Revoke,
    /// Take back `create` for `new.version`.
    Undo,
}

impl Op {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Describe => "describe",
            Op::Create => "create",
            Op::Test => "test",
            Op::Finish => "finish",
            Op::Revoke => "revoke",
            Op::Undo => "undo",
        }
    }
}

/// A credential: rotor's version id, its non-secret part and its secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Credential {
    /// `SECRET/NUMBER`, the same for every retry of a step; `None` for a
    /// value rotor has not stored as a version.
    pub version: Option<String>,
    /// The non-secret part (an access key id), if any.
    pub user: Option<String>,
    /// The secret part, if rotor knows it.
    pub value: Option<Value>,
}

/// One request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    /// [`PROTOCOL`].
    pub protocol: u32,
    /// What to do.
    pub op: Op,
    /// The secret's name in the inventory.
    pub secret: String,
    /// `[secret.authority.config]`.
    #[serde(default)]
    pub config: serde_json::Map<String, serde_json::Value>,
    /// The credential the step is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Credential>,
    /// The credential consumers used before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Credential>,
}

/// How old and new credentials live together at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overlap {
    /// Creating the new one invalidates the old at once.
    None,
    /// The old keeps working for a fixed grace after `create`.
    FixedGrace,
    /// The provider decides when the old stops.
    ProviderControlled,
    /// Both work until `revoke`.
    Dual,
}

impl Overlap {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::None => "none",
            Overlap::FixedGrace => "fixed-grace",
            Overlap::ProviderControlled => "provider-controlled",
            Overlap::Dual => "dual",
        }
    }
}

/// The reply to `describe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Describe {
    /// The provider's name, for messages.
    pub provider: String,
    /// How old and new live together.
    pub overlap: Overlap,
    /// How many credentials may live at once.
    pub max_live: u32,
    /// Whether the provider issues the value.
    pub mints: bool,
    /// `["value"]` or `["user", "value"]`.
    #[serde(default)]
    pub fields: Vec<String>,
    /// `fixed-grace`: how long the old keeps working after `create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_seconds: Option<u64>,
}

impl Describe {
    /// A description with `fields = ["value"]` and no grace.
    pub fn new(provider: &str, overlap: Overlap, max_live: u32, mints: bool) -> Describe {
        Describe {
            provider: provider.to_owned(),
            overlap,
            max_live,
            mints,
            fields: vec!["value".into()],
            grace_seconds: None,
        }
    }
}

/// The reply to `create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Created {
    /// The minted value (only from a plugin that mints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The credential's non-secret part, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// What kind of failure a plugin reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// Worth retrying.
    Transient,
    /// Retrying cannot help.
    Permanent,
    /// Failed before changing anything at the provider.
    Unchanged,
}

/// A failure as a plugin reports it.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct PluginError {
    /// Its kind.
    pub kind: ErrorKind,
    /// What happened; never a value.
    pub message: String,
}

impl PluginError {
    /// A permanent failure.
    pub fn permanent(message: impl Into<String>) -> Self {
        PluginError {
            kind: ErrorKind::Permanent,
            message: message.into(),
        }
    }
    /// A transient failure.
    pub fn transient(message: impl Into<String>) -> Self {
        PluginError {
            kind: ErrorKind::Transient,
            message: message.into(),
        }
    }
    /// A failure that changed nothing.
    pub fn unchanged(message: impl Into<String>) -> Self {
        PluginError {
            kind: ErrorKind::Unchanged,
            message: message.into(),
        }
    }
}

/// Every field any reply may carry; which ones matter depends on the
/// operation. Unknown fields are ignored (a newer plugin of the same
/// version may add some).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reply {
    /// The version the plugin speaks.
    #[serde(default)]
    pub protocol: Option<u32>,
    /// Whether the operation succeeded.
    #[serde(default)]
    pub ok: Option<bool>,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<PluginError>,
    /// `create`: the minted value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// `create`: the credential's non-secret part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `test`: whether the credential is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    /// `describe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// `describe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<Overlap>,
    /// `describe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_live: Option<u32>,
    /// `describe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mints: Option<bool>,
    /// `describe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
    /// `describe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_seconds: Option<u64>,
}

impl Reply {
    fn ok() -> Reply {
        Reply {
            protocol: Some(PROTOCOL),
            ok: Some(true),
            ..Reply::default()
        }
    }

    fn failed(e: PluginError) -> Reply {
        Reply {
            protocol: Some(PROTOCOL),
            ok: Some(false),
            error: Some(e),
            ..Reply::default()
        }
    }

    /// The `describe` fields of this reply, if it has them all.
    pub fn describe(&self) -> Option<Describe> {
        Some(Describe {
            provider: self.provider.clone()?,
            overlap: self.overlap?,
            max_live: self.max_live?,
            mints: self.mints?,
            fields: self.fields.clone().unwrap_or_else(|| vec!["value".into()]),
            grace_seconds: self.grace_seconds,
        })
    }
}

/// A plugin's operations. `finish` does nothing unless overridden.
pub trait Handler {
    /// What the plugin can do.
    fn describe(&mut self, req: &Request) -> Result<Describe, PluginError>;
    /// Makes `req.new` live at the provider.
    fn create(&mut self, req: &Request) -> Result<Created, PluginError>;
    /// Whether `req.new` is accepted now.
    fn test(&mut self, req: &Request) -> Result<bool, PluginError>;
    /// The provider's promotion of `req.new`.
    fn finish(&mut self, _req: &Request) -> Result<(), PluginError> {
        Ok(())
    }
    /// `req.old` stops working.
    fn revoke(&mut self, req: &Request) -> Result<(), PluginError>;
    /// Takes back `create` for `req.new`.
    fn undo(&mut self, req: &Request) -> Result<(), PluginError>;
}

/// Answers one request line with `handler`: the reply as one JSON line.
pub fn answer(handler: &mut dyn Handler, line: &str) -> String {
    let reply = match serde_json::from_str::<Request>(line) {
        Err(e) => Reply::failed(PluginError::permanent(format!(
            "the request is not protocol {PROTOCOL} JSON: {e}"
        ))),
        Ok(req) if req.protocol != PROTOCOL => Reply::failed(PluginError::permanent(format!(
            "this plugin speaks protocol {PROTOCOL}, rotor asked for {}",
            req.protocol
        ))),
        Ok(req) => dispatch(handler, &req).unwrap_or_else(Reply::failed),
    };
    serde_json::to_string(&reply).unwrap_or_else(|_| {
        format!(r#"{{"protocol":{PROTOCOL},"ok":false,"error":{{"kind":"permanent","message":"reply not serializable"}}}}"#)
    })
}

fn dispatch(h: &mut dyn Handler, req: &Request) -> Result<Reply, PluginError> {
    let mut r = Reply::ok();
    match req.op {
        Op::Describe => {
            let d = h.describe(req)?;
            r.provider = Some(d.provider);
            r.overlap = Some(d.overlap);
            r.max_live = Some(d.max_live);
            r.mints = Some(d.mints);
            r.fields = Some(d.fields);
            r.grace_seconds = d.grace_seconds;
        }
        Op::Create => {
            let c = h.create(req)?;
            r.value = c.value;
            r.user = c.user;
        }
        Op::Test => r.accepted = Some(h.test(req)?),
        Op::Finish => h.finish(req)?,
        Op::Revoke => h.revoke(req)?,
        Op::Undo => h.undo(req)?,
    }
    Ok(r)
}

/// Reads one request from stdin, answers it on stdout, and returns the
/// exit code (0 once a reply is written, 1 if stdout failed).
pub fn serve(handler: &mut dyn Handler) -> i32 {
    use std::io::{BufRead, Read, Write};
    let mut line = zeroize::Zeroizing::new(String::new());
    let read = std::io::stdin()
        .lock()
        .take(MAX_REPLY as u64)
        .read_line(&mut line);
    let reply = match read {
        Ok(_) => zeroize::Zeroizing::new(answer(handler, &line)),
        Err(e) => zeroize::Zeroizing::new(answer_error(&format!("cannot read the request: {e}"))),
    };
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", reply.as_str()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

fn answer_error(message: &str) -> String {
    serde_json::to_string(&Reply::failed(PluginError::permanent(message))).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Echo;
    impl Handler for Echo {
        fn describe(&mut self, _: &Request) -> Result<Describe, PluginError> {
            Ok(Describe::new("echo", Overlap::Dual, 2, true))
        }
        fn create(&mut self, _: &Request) -> Result<Created, PluginError> {
            Ok(Created {
                value: Some(Value::from("minted-value-0123456789")),
                user: Some("key_1".into()),
            })
        }
        fn test(&mut self, req: &Request) -> Result<bool, PluginError> {
            Ok(req.new.as_ref().is_some_and(|c| c.value.is_some()))
        }
        fn revoke(&mut self, _: &Request) -> Result<(), PluginError> {
            Err(PluginError::transient("provider answered 503"))
        }
        fn undo(&mut self, _: &Request) -> Result<(), PluginError> {
            Ok(())
        }
    }

    fn reply(line: &str) -> Reply {
        serde_json::from_str(&answer(&mut Echo, line)).unwrap()
    }

    #[test]
    fn describe_create_and_test_answer_their_fields() {
        let d = reply(r#"{"protocol":1,"op":"describe","secret":"s"}"#);
        assert_eq!(d.ok, Some(true));
        let d = d.describe().unwrap();
        assert_eq!((d.overlap, d.max_live, d.mints), (Overlap::Dual, 2, true));
        let c = reply(r#"{"protocol":1,"op":"create","secret":"s","new":{"version":"s/2"}}"#);
        assert_eq!(c.value.unwrap().expose(), "minted-value-0123456789");
        assert_eq!(c.user.as_deref(), Some("key_1"));
        let t =
            reply(r#"{"protocol":1,"op":"test","secret":"s","new":{"version":"s/2","value":"v"}}"#);
        assert_eq!(t.accepted, Some(true));
    }

    #[test]
    fn errors_are_replies_with_their_kind() {
        let r = reply(r#"{"protocol":1,"op":"revoke","secret":"s","old":{"version":"s/1"}}"#);
        assert_eq!(r.ok, Some(false));
        assert_eq!(r.error.unwrap().kind, ErrorKind::Transient);
    }

    #[test]
    fn another_protocol_or_garbage_is_refused_in_a_reply() {
        let r = reply(r#"{"protocol":2,"op":"describe","secret":"s"}"#);
        assert!(r.error.unwrap().message.contains("speaks protocol 1"));
        let r = reply("not json");
        assert_eq!(r.ok, Some(false));
        assert_eq!(r.protocol, Some(PROTOCOL));
    }

    #[test]
    fn a_value_never_shows_in_debug() {
        let c = Credential {
            version: Some("s/1".into()),
            user: None,
            value: Some(Value::from("hunter2-hunter2-hunter2")),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
