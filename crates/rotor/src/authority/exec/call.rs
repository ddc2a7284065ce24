//! One call of an exec plugin: start it, write the request to its stdin,
//! read one bounded reply from its stdout within the time limit, and check
//! the reply (protocol version, shape, no echoed secret) before anyone sees
//! it. Every message this returns is redacted.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command as Process, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rotor_plugin::{ErrorKind, Reply, Request, MAX_REPLY, PROTOCOL};
use zeroize::Zeroizing;

use crate::authority::AuthorityError;
use crate::engine::hook_env::HookEnv;
use crate::engine::hooks::{read_bounded, tail, wait_with_timeout};
use crate::inventory::ExecAuthority;
use crate::redact::Redactor;
use crate::secret::SecretValue;

/// Most of a plugin's stderr kept for a message.
const STDERR_LIMIT: usize = 64 * 1024;

/// The authority name in errors.
const NAME: &str = "exec";

/// Runs one call of the plugin `spec` for `secret`. `known` are the values
/// the request carries: they are redacted from everything the plugin says,
/// and a reply that repeats one outside `value` is refused.
pub(super) fn call(
    spec: &ExecAuthority,
    secret: &str,
    request: &Request,
    known: &[&SecretValue],
) -> Result<Reply, AuthorityError> {
    let op = request.op.as_str();
    let program = spec.command.first().cloned().unwrap_or_default();
    let what = format!("plugin `{}` ({op})", spec.command.join(" "));
    let permanent = |message: String| AuthorityError::Permanent {
        authority: NAME,
        message: format!("{what}: {message}"),
    };
    let mut line = Zeroizing::new(
        serde_json::to_vec(request)
            .map_err(|e| permanent(format!("request not encodable: {e}")))?,
    );
    line.push(b'\n');
    let env = HookEnv {
        named: spec.env.clone(),
        run: None,
        step: op,
        secrets: vec![secret.to_owned()],
    };
    let mut child = Process::new(&program)
        .args(&spec.command[1..])
        .current_dir(&spec.dir)
        .env_clear()
        .envs(env.vars())
        .env("ROTOR_PLUGIN_PROTOCOL", PROTOCOL.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        // Nothing ran: nothing changed at the provider.
        .map_err(|e| AuthorityError::Unchanged {
            authority: NAME,
            message: format!("{what}: could not start `{program}`: {e}"),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A plugin that exits without reading gives EPIPE: its reply (or
        // lack of one) says what happened.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&line);
        });
    }
    // What the plugin was given in its environment (its provider admin
    // key) is as secret as the values: redacted, and refused in a reply.
    let passed: Vec<SecretValue> = spec
        .env
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .filter(|v| !v.trim().is_empty())
        .map(SecretValue::new)
        .collect();
    let known: Vec<&SecretValue> = known.iter().copied().chain(passed.iter()).collect();
    let known = known.as_slice();
    let lookahead = Redactor::new(known.iter().copied()).lookahead();
    let (tx, rx) = mpsc::channel();
    let mut streams = 0;
    if let Some(out) = child.stdout.take() {
        read_bounded(Box::new(out), 0, MAX_REPLY + 1, tx.clone());
        streams += 1;
    }
    if let Some(err) = child.stderr.take() {
        read_bounded(
            Box::new(err),
            1,
            STDERR_LIMIT + lookahead.max(256),
            tx.clone(),
        );
        streams += 1;
    }
    drop(tx);
    let status = wait_with_timeout(&mut child, spec.timeout);
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut stdout: Option<(Zeroizing<Vec<u8>>, bool)> = None;
    let mut raw_stderr: Option<(Zeroizing<Vec<u8>>, bool)> = None;
    for _ in 0..streams {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(c) if c.stream == 0 => stdout = Some((c.kept, c.dropped)),
            Ok(c) => raw_stderr = Some((c.kept, c.dropped)),
            Err(_) => break,
        }
    }
    // A value the reply mints is redacted from stderr too.
    let minted: Vec<SecretValue> = stdout
        .as_ref()
        .and_then(|(out, _)| parse(out).ok())
        .and_then(|r| r.value)
        .map(|v| SecretValue::new(v.expose().to_owned()))
        .into_iter()
        .collect();
    let redactor = Redactor::new(known.iter().copied().chain(minted.iter()));
    let stderr = raw_stderr
        .map(|(kept, cut)| redactor.redact_capture(&kept, STDERR_LIMIT, cut))
        .unwrap_or_default();
    let stderr = tail(&stderr);
    let status = match status {
        None => {
            return Err(permanent(format!(
                "no reply within {} (timeout); the plugin was killed{stderr}",
                humantime::format_duration(spec.timeout)
            )))
        }
        Some(Err(e)) => return Err(permanent(format!("could not wait for it: {e}"))),
        Some(Ok(st)) => st,
    };
    let Some((out, cut)) = stdout else {
        return Err(permanent(format!("its stdout could not be read{stderr}")));
    };
    if cut || out.len() > MAX_REPLY {
        return Err(permanent(format!(
            "the reply is larger than {} bytes; a reply is one JSON object on one line{stderr}",
            MAX_REPLY
        )));
    }
    if !status.success() {
        return Err(permanent(format!("exited with {status}{stderr}")));
    }
    let reply = parse(&out).map_err(|why| permanent(format!("{why}{stderr}")))?;
    check_echo(&reply, &redactor).map_err(&permanent)?;
    match reply.protocol {
        Some(PROTOCOL) => {}
        Some(n) => {
            return Err(permanent(format!(
                "it speaks protocol {n}; this rotor speaks protocol {PROTOCOL} (see docs/plugin-protocol.md)"
            )))
        }
        None => {
            return Err(permanent(format!(
                "the reply has no \"protocol\"; this rotor speaks protocol {PROTOCOL} and every reply must say so"
            )))
        }
    }
    match (reply.ok, &reply.error) {
        (Some(true), _) => Ok(reply),
        (Some(false), Some(e)) => {
            let message = format!("{what}: {}", redactor.redact(&e.message));
            Err(match e.kind {
                ErrorKind::Transient => AuthorityError::Transient {
                    authority: NAME,
                    message,
                },
                ErrorKind::Permanent => AuthorityError::Permanent {
                    authority: NAME,
                    message,
                },
                ErrorKind::Unchanged => AuthorityError::Unchanged {
                    authority: NAME,
                    message,
                },
            })
        }
        (Some(false), None) => Err(permanent("it failed without saying why".into())),
        (None, _) => Err(permanent("the reply has no \"ok\"".into())),
    }
}

/// The reply: one JSON object, on one line (a trailing newline and
/// surrounding whitespace are allowed, nothing else).
fn parse(out: &[u8]) -> Result<Reply, String> {
    let text = std::str::from_utf8(out).map_err(|_| "the reply is not UTF-8".to_owned())?;
    let text = text.trim();
    if text.is_empty() {
        return Err("it wrote no reply on stdout".into());
    }
    if text.contains('\n') {
        return Err(
            "it wrote more than one line on stdout; the reply is one JSON object on one line (write logs to stderr)"
                .into(),
        );
    }
    serde_json::from_str::<Reply>(text).map_err(|e| {
        // serde_json's message names the position, never the text.
        format!("the reply is not a protocol {PROTOCOL} JSON object ({e})")
    })
}

/// Refuses a reply that repeats a value of the request (or its own minted
/// value) anywhere but in `value`: raw or encoded, it would end up in the
/// journal, the audit or the terminal.
fn check_echo(reply: &Reply, redactor: &Redactor) -> Result<(), String> {
    let minted: Vec<SecretValue> = reply
        .value
        .iter()
        .map(|v| SecretValue::new(v.expose().to_owned()))
        .collect();
    let own = Redactor::new(minted.iter());
    let mut rest = reply.clone();
    rest.value = None;
    let fields = [
        ("error", rest.error.as_ref().map(|e| e.message.clone())),
        ("user", rest.user.clone()),
        ("provider", rest.provider.clone()),
        ("fields", rest.fields.as_ref().map(|f| f.join(","))),
    ];
    for (field, text) in fields {
        let Some(text) = text else { continue };
        if redactor.redact(&text) != text || own.redact(&text) != text {
            return Err(format!(
                "its reply repeats a secret value in \"{field}\"; nothing it said is kept (a plugin must never echo a value)"
            ));
        }
    }
    Ok(())
}
