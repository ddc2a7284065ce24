//! Restart and verify hooks: argv commands run with a time limit (never a
//! shell, never a value on argv), and HTTP health checks. Their output is
//! captured, bounded and redacted before anything keeps or prints it.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::inventory::{Command, Verify};
use crate::secret::SecretValue;

/// Most output kept from one hook, per stream.
const OUTPUT_LIMIT: usize = 16 * 1024;

/// Why a hook failed. Every message is already redacted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HookError {
    /// The program could not be started.
    #[error("could not start `{program}`: {reason}")]
    Spawn {
        /// argv[0].
        program: String,
        /// OS error.
        reason: String,
    },
    /// It exited non-zero.
    #[error("`{program}` exited with {status}{output}")]
    Exit {
        /// argv[0].
        program: String,
        /// Exit status.
        status: String,
        /// Redacted tail of its output, prefixed with ": " when present.
        output: String,
    },
    /// It ran past its time limit and was killed.
    #[error("`{program}` did not finish within {limit} and was killed")]
    Timeout {
        /// argv[0].
        program: String,
        /// The limit.
        limit: String,
    },
    /// The HTTP check failed.
    #[error("GET {url}: {reason}")]
    Http {
        /// URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// What a successful hook printed (redacted).
#[derive(Debug, Clone, Default)]
pub struct HookOutput {
    /// Redacted, bounded stdout and stderr.
    pub text: String,
}

/// Replaces every occurrence of each value with its fingerprint.
pub fn redact(text: &str, values: &[&SecretValue]) -> String {
    let mut out = text.to_owned();
    for v in values {
        let raw = v.expose();
        if raw.len() >= 4 && out.contains(raw) {
            out = out.replace(raw, &format!("[REDACTED fp={}]", v.fingerprint()));
        }
    }
    out
}

/// Runs a command from `dir` with a time limit.
pub fn run_command(
    cmd: &Command,
    dir: &Path,
    redact_values: &[&SecretValue],
) -> Result<HookOutput, HookError> {
    let program = cmd.argv.first().cloned().unwrap_or_default();
    let mut child = Process::new(&program)
        .args(&cmd.argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| HookError::Spawn {
            program: program.clone(),
            reason: e.to_string(),
        })?;
    let readers = [
        child.stdout.take().map(|s| read_bounded(Box::new(s))),
        child.stderr.take().map(|s| read_bounded(Box::new(s))),
    ];
    let status = wait_with_timeout(&mut child, cmd.timeout);
    let mut text = String::new();
    for r in readers.into_iter().flatten() {
        if let Ok(s) = r.join() {
            text.push_str(&s);
        }
    }
    let text = redact(&text, redact_values);
    match status {
        Some(Ok(st)) if st.success() => Ok(HookOutput { text }),
        Some(Ok(st)) => Err(HookError::Exit {
            program,
            status: st.to_string(),
            output: tail(&text),
        }),
        Some(Err(e)) => Err(HookError::Spawn {
            program,
            reason: e.to_string(),
        }),
        None => Err(HookError::Timeout {
            program,
            limit: humantime::format_duration(cmd.timeout).to_string(),
        }),
    }
}

/// Runs a verify hook.
pub fn run_verify(
    verify: &Verify,
    dir: &Path,
    redact_values: &[&SecretValue],
) -> Result<HookOutput, HookError> {
    match verify {
        Verify::Command(cmd) => run_command(cmd, dir, redact_values),
        Verify::Http {
            url,
            status,
            timeout,
        } => http_check(url, *status, *timeout),
    }
}

fn http_check(url: &str, want: u16, timeout: Duration) -> Result<HookOutput, HookError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent.get(url).call().map_err(|e| HookError::Http {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let got = resp.status().as_u16();
    if got == want {
        Ok(HookOutput {
            text: format!("HTTP {got}"),
        })
    } else {
        Err(HookError::Http {
            url: url.to_owned(),
            reason: format!("answered {got}, expected {want}"),
        })
    }
}

fn read_bounded(mut r: Box<dyn Read + Send>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}

fn wait_with_timeout(
    child: &mut Child,
    limit: Duration,
) -> Option<std::io::Result<std::process::ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(Ok(st)),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => return Some(Err(e)),
        }
    }
}

fn tail(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return String::new();
    }
    let start = t.char_indices().rev().nth(400).map(|(i, _)| i).unwrap_or(0);
    format!(": {}", &t[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(argv: &[&str], ms: u64) -> Command {
        Command {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_millis(ms),
        }
    }

    #[test]
    fn success_failure_timeout() {
        let dir = std::env::temp_dir();
        assert!(run_command(&cmd(&["true"], 5000), &dir, &[]).is_ok());
        assert!(matches!(
            run_command(&cmd(&["false"], 5000), &dir, &[]),
            Err(HookError::Exit { .. })
        ));
        assert!(matches!(
            run_command(&cmd(&["sleep", "5"], 100), &dir, &[]),
            Err(HookError::Timeout { .. })
        ));
        assert!(matches!(
            run_command(&cmd(&["/nonexistent/x"], 100), &dir, &[]),
            Err(HookError::Spawn { .. })
        ));
    }

    #[test]
    fn output_is_redacted() {
        let v = SecretValue::new("s3cr3t-value-xyz".into());
        let dir = std::env::temp_dir();
        let err = run_command(
            &cmd(&["sh", "-c", "echo leaked s3cr3t-value-xyz; exit 3"], 5000),
            &dir,
            &[&v],
        )
        .expect_err("exit 3");
        let msg = err.to_string();
        assert!(!msg.contains("s3cr3t-value-xyz"), "{msg}");
        assert!(msg.contains(v.fingerprint().as_str()), "{msg}");
    }
}
