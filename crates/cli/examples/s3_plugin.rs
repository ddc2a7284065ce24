//! A rotor exec plugin written in Rust with the `rotor-plugin` SDK: an S3
//! access key pair (IAM/MinIO-style, two keys per user), overlap `dual`.
//! It is a port of `examples/plugins/s3.py`, with the same config keys and
//! behaviour, and like it speaks only to an admin API of the shape of the
//! stand-in in `examples/plugins/standin.py` (see
//! `examples/plugins/README.md`).
//!
//! Build it with `cargo build -p rotor-cli --example s3_plugin` (the binary
//! is `target/debug/examples/s3_plugin`) and point a secret at it:
//!
//! ```toml
//! [secret.authority]
//! kind = "exec"
//! command = ["/path/to/target/debug/examples/s3_plugin"]
//! env = ["S3_ADMIN_KEY"]              # the admin API's bearer token
//!
//! [secret.authority.config]
//! user = "app"                        # the user whose access keys rotate
//! base_url = "http://127.0.0.1:9000"  # the admin API's base URL
//! admin_key_env = "S3_ADMIN_KEY"      # the default; list it in env
//! ```
//!
//! `create` labels the new key with rotor's version id, so a retry deletes
//! what an interrupted attempt made; the old key keeps working until
//! `revoke` deactivates and deletes it. `undo` deletes the new key.

use std::time::Duration;

use rotor_plugin::{Created, Credential, Describe, Handler, Overlap, PluginError, Request, Value};
use serde_json::{json, Value as Json};
use zeroize::Zeroizing;

/// How many access keys a user may have.
const LIMIT: u32 = 2;

struct S3;

impl Handler for S3 {
    fn describe(&mut self, _: &Request) -> Result<Describe, PluginError> {
        Ok(Describe {
            fields: vec!["user".into(), "value".into()],
            ..Describe::new("s3", Overlap::Dual, LIMIT, true)
        })
    }

    fn create(&mut self, req: &Request) -> Result<Created, PluginError> {
        let new = new(req)?;
        let api = Api::new(req, true)?;
        api.delete_labelled(new)?;
        let left = api.keys()?;
        if left.len() >= LIMIT as usize {
            let shown: Vec<String> = left
                .iter()
                .map(|k| format!("{} {}", text(&k["access_key_id"]), text(&k["status"])))
                .collect();
            return Err(PluginError::permanent(format!(
                "the user already has {} access keys, the limit ({}); retire one first",
                left.len(),
                shown.join(", ")
            )));
        }
        let label = json!({ "label": new.version });
        let (status, reply) = api.call("POST", &api.keys_path, Some(&label), &[200, 201, 409])?;
        if status == 409 {
            return Err(PluginError::permanent(format!(
                "the user reached the limit of {LIMIT} access keys (LimitExceeded)"
            )));
        }
        let field = |name: &str| {
            reply
                .as_ref()
                .and_then(|r| r.get(name))
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
        };
        match (field("access_key_id"), field("secret_access_key")) {
            (Some(id), Some(secret)) => Ok(Created {
                user: Some(id.to_owned()),
                value: Some(Value::from(secret)),
            }),
            _ => Err(PluginError::permanent(format!(
                "the reply to POST {} has no access_key_id or secret_access_key",
                api.keys_path
            ))),
        }
    }

    fn test(&mut self, req: &Request) -> Result<bool, PluginError> {
        let new = new(req)?;
        let api = Api::new(req, false)?;
        let value = new
            .value
            .as_ref()
            .map(Value::expose)
            .filter(|v| !v.is_empty());
        let (Some(user), Some(value)) = (some(&new.user), value) else {
            return Ok(false);
        };
        let auth = Zeroizing::new(format!("AWS-KEY {user}:{value}"));
        match api.http("GET", "/whoami", &auth, None)?.0 {
            200 => Ok(true),
            401 | 403 => Ok(false),
            status => Err(PluginError::permanent(format!(
                "GET /whoami answered {status}"
            ))),
        }
    }

    fn revoke(&mut self, req: &Request) -> Result<(), PluginError> {
        let new = new(req)?;
        let Some(old) = &req.old else {
            return Ok(());
        };
        let Some(old_id) = some(&old.user) else {
            return Err(PluginError::permanent(
                "rotor does not know the old access key id (old.user), so it cannot revoke it",
            ));
        };
        if some(&new.user) == Some(old_id) {
            return Err(PluginError::permanent(
                "old and new are the same access key; refusing to revoke it",
            ));
        }
        let api = Api::new(req, true)?;
        let inactive = json!({ "status": "Inactive" });
        let (status, _) = api.call(
            "PATCH",
            &api.key_path(old_id),
            Some(&inactive),
            &[200, 204, 404],
        )?;
        if status != 404 {
            api.delete(old_id)?;
        }
        Ok(())
    }

    fn undo(&mut self, req: &Request) -> Result<(), PluginError> {
        let new = new(req)?;
        let api = Api::new(req, true)?;
        api.delete_labelled(new)?;
        let old_id = req.old.as_ref().and_then(|o| some(&o.user));
        if let Some(id) = some(&new.user) {
            if req.old.is_none() || Some(id) != old_id {
                api.delete(id)?;
            }
        }
        if let Some(old_id) = old_id {
            if api
                .keys()?
                .iter()
                .any(|k| k["access_key_id"].as_str() == Some(old_id))
            {
                let active = json!({ "status": "Active" });
                api.call("PATCH", &api.key_path(old_id), Some(&active), &[200])?;
            }
        }
        Ok(())
    }
}

/// The admin API of one request's config.
struct Api {
    agent: ureq::Agent,
    base: String,
    keys_path: String,
    /// `Bearer <admin key>`; empty when the call needs no admin key.
    auth: Zeroizing<String>,
    /// Values that must not appear in a message (the provider's text is
    /// quoted in errors).
    hide: Vec<Zeroizing<String>>,
}

impl Api {
    fn new(req: &Request, admin: bool) -> Result<Api, PluginError> {
        let base = require(req, "base_url")?.trim_end_matches('/').to_owned();
        let keys_path = format!("/iam/users/{}/access-keys", quote(&require(req, "user")?));
        let mut hide: Vec<Zeroizing<String>> = [&req.new, &req.old]
            .into_iter()
            .flatten()
            .filter_map(|c| c.value.as_ref())
            .map(|v| Zeroizing::new(v.expose().to_owned()))
            .collect();
        let mut auth = Zeroizing::new(String::new());
        if admin {
            let var = config(req, "admin_key_env").unwrap_or_else(|| "S3_ADMIN_KEY".into());
            let key = Zeroizing::new(std::env::var(&var).unwrap_or_default());
            if key.is_empty() {
                return Err(PluginError::permanent(format!(
                    "environment variable {var} is not set (list it in the authority's env = [...])"
                )));
            }
            auth = Zeroizing::new(format!("Bearer {}", key.as_str()));
            hide.push(key);
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0) // never carry a credential to wherever a redirect points
            .timeout_global(Some(Duration::from_secs(10)))
            .user_agent(format!("rotor-plugin/{}", rotor_plugin::PROTOCOL))
            .build()
            .into();
        Ok(Api {
            agent,
            base,
            keys_path,
            auth,
            hide,
        })
    }

    fn key_path(&self, id: &str) -> String {
        format!("{}/{}", self.keys_path, quote(id))
    }

    /// One HTTP call: the status and the body parsed as JSON (None if it
    /// is not). Unreachable, a timeout, a 5xx or a 429 is transient.
    fn http(
        &self,
        method: &str,
        path: &str,
        auth: &str,
        body: Option<&Json>,
    ) -> Result<(u16, Option<Json>), PluginError> {
        let url = format!("{}{path}", self.base);
        let at = format!("{method} {}", shown(&url));
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Accept", "application/json")
            .header("Authorization", auth);
        let sent = match body {
            Some(b) => request
                .header("Content-Type", "application/json")
                .body(b.to_string())
                .map(|r| self.agent.run(r)),
            None => request.body(()).map(|r| self.agent.run(r)),
        };
        let mut resp = match sent {
            // http::Error and ureq's errors name no header value.
            Err(e) => return Err(PluginError::permanent(format!("{at} failed: {e}"))),
            Ok(Err(e @ (ureq::Error::BadUri(_) | ureq::Error::Http(_)))) => {
                return Err(PluginError::permanent(format!("{at} failed: {e}")))
            }
            Ok(Err(e)) => return Err(PluginError::transient(format!("{at} failed: {e}"))),
            Ok(Ok(resp)) => resp,
        };
        let status = resp.status().as_u16();
        if status >= 500 || status == 429 {
            return Err(PluginError::transient(format!("{at} answered {status}")));
        }
        let text = Zeroizing::new(
            resp.body_mut()
                .read_to_string()
                .map_err(|e| PluginError::transient(format!("{at} failed: {e}")))?,
        );
        Ok((status, serde_json::from_str(&text).ok()))
    }

    /// An admin call; a status not in `ok` is a permanent error.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Json>,
        ok: &[u16],
    ) -> Result<(u16, Option<Json>), PluginError> {
        let (status, reply) = self.http(method, path, &self.auth, body)?;
        if !ok.contains(&status) {
            let mut message = format!(
                "the S3 admin API answered {status} to {method} {path}{}",
                message_of(reply.as_ref())
            );
            for value in self.hide.iter().filter(|v| !v.is_empty()) {
                message = message.replace(value.as_str(), "[redacted]");
            }
            return Err(PluginError::permanent(message));
        }
        Ok((status, reply))
    }

    /// The user's access keys (objects with `access_key_id`, `status`, `label`).
    fn keys(&self) -> Result<Vec<Json>, PluginError> {
        let (_, reply) = self.call("GET", &self.keys_path, None, &[200])?;
        let keys = reply.as_ref().and_then(|r| r.get("keys"));
        Ok(keys
            .and_then(Json::as_array)
            .map(|a| a.iter().filter(|k| k.is_object()).cloned().collect())
            .unwrap_or_default())
    }

    fn delete(&self, id: &str) -> Result<(), PluginError> {
        self.call("DELETE", &self.key_path(id), None, &[200, 204, 404])
            .map(|_| ())
    }

    /// Deletes every key labelled with `new.version`: what an earlier
    /// attempt of this step made.
    fn delete_labelled(&self, new: &Credential) -> Result<(), PluginError> {
        // An unlabelled key (the adopted one) must never count as "made under this version".
        let Some(version) = some(&new.version) else {
            return Err(PluginError::permanent(
                "rotor sent no version id for new, so keys made for it cannot be found",
            ));
        };
        for key in self.keys()? {
            if key["label"].as_str() == Some(version) {
                let Some(id) = key["access_key_id"].as_str() else {
                    return Err(PluginError::permanent(format!(
                        "a key labelled {version} has no access_key_id"
                    )));
                };
                self.delete(id)?;
            }
        }
        Ok(())
    }
}

/// `new`, which every operation but `describe` needs.
fn new(req: &Request) -> Result<&Credential, PluginError> {
    req.new.as_ref().ok_or_else(|| {
        PluginError::permanent(format!("malformed request: {} needs new", req.op.as_str()))
    })
}

/// A string that is set and not empty.
fn some(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// `config[key]` as text; None when it is absent, null or "".
fn config(req: &Request, key: &str) -> Option<String> {
    match req.config.get(key)? {
        Json::Null => None,
        Json::String(s) if s.is_empty() => None,
        other => Some(text(other)),
    }
}

fn require(req: &Request, key: &str) -> Result<String, PluginError> {
    config(req, key).ok_or_else(|| {
        PluginError::permanent(format!(
            "config '{key}' is required ([secret.authority.config] {key} = ...)"
        ))
    })
}

/// A JSON value as text: a string as it is, anything else as JSON.
fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `: <error> <message>` of an error reply, or "".
fn message_of(reply: Option<&Json>) -> String {
    let parts: Vec<String> = ["error", "message"]
        .iter()
        .filter_map(|k| reply?.get(k))
        .filter(|v| !matches!(v, Json::Null | Json::Bool(false)) && v.as_str() != Some(""))
        .map(text)
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(" "))
    }
}

/// Percent-encodes everything but unreserved characters (a path segment).
fn quote(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A URL as messages show it: no user info, query or fragment.
fn shown(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = host.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}{path}")
}

fn main() {
    std::process::exit(rotor_plugin::serve(&mut S3));
}
