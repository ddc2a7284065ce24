//! Restart and verify hooks: argv commands run with a time limit (never a
//! shell, never a value on argv), and HTTP health checks. Their output is
//! captured, bounded and redacted before anything keeps or prints it.
//! [`with_retries`] gives a failing hook a bounded number of further tries.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::inventory::{Command, Retry, Verify};
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
    /// It was started but could not be waited for.
    #[error("could not wait for `{program}`: {reason}")]
    Wait {
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
    /// The CA certificates an https:// check trusts cannot be loaded.
    #[error("GET {url}: {reason}")]
    TlsRoots {
        /// URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP check's URL cannot be used at all.
    #[error("GET {url}: invalid URL: {reason}")]
    InvalidUrl {
        /// URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl HookError {
    /// Errors that retrying cannot fix: the program could not be started
    /// (not found, permission denied, ...) or the verify URL is invalid.
    /// Everything else, including a refused connection (the service may
    /// still be restarting), a non-zero exit and a timeout, is worth
    /// another try.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            HookError::Spawn { .. } | HookError::InvalidUrl { .. } | HookError::TlsRoots { .. }
        )
    }
}

/// Runs `attempt` up to `policy.tries` times (at least once), passing it the
/// attempt number (1-based). Between failures it sleeps `backoff`,
/// 2×`backoff`, 4×… each capped at `max_backoff`, calling
/// `on_retry(failed_attempt, &error, wait)` before each wait so the caller
/// can journal it. A permanent error ([`HookError::is_permanent`]) stops at
/// once. Returns the first success or the last error; never loops forever.
pub fn with_retries<T>(
    policy: &Retry,
    mut attempt: impl FnMut(u32) -> Result<T, HookError>,
    mut on_retry: impl FnMut(u32, &HookError, Duration),
) -> Result<T, HookError> {
    let tries = policy.tries.max(1);
    let mut wait = policy.backoff.min(policy.max_backoff);
    let mut n: u32 = 1;
    loop {
        match attempt(n) {
            Ok(v) => return Ok(v),
            Err(e) if e.is_permanent() || n >= tries => return Err(e),
            Err(e) => {
                on_retry(n, &e, wait);
                thread::sleep(wait);
                wait = wait.saturating_mul(2).min(policy.max_backoff);
                n += 1;
            }
        }
    }
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

/// Runs a command from `dir` with a time limit, in its own process group so
/// that on timeout everything it started is killed too.
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
        .process_group(0)
        .spawn()
        .map_err(|e| HookError::Spawn {
            program: program.clone(),
            reason: e.to_string(),
        })?;
    // Keep enough past the limit that a value starting before it is kept
    // whole, so it is redacted whole before the text is cut.
    let slack = redact_values
        .iter()
        .map(|v| v.expose().len())
        .max()
        .unwrap_or(0);
    let (tx, rx) = mpsc::channel();
    let mut streams = 0;
    if let Some(out) = child.stdout.take() {
        read_bounded(Box::new(out), OUTPUT_LIMIT + slack, tx.clone());
        streams += 1;
    }
    if let Some(err) = child.stderr.take() {
        read_bounded(Box::new(err), OUTPUT_LIMIT + slack, tx.clone());
        streams += 1;
    }
    drop(tx);
    let status = wait_with_timeout(&mut child, cmd.timeout);
    // The hook itself has ended (or was killed with its group). A process it
    // left running may still hold the pipes: wait a little, then go on.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut text = String::new();
    let mut complete = true;
    for _ in 0..streams {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(part) => text.push_str(&part),
            Err(_) => {
                complete = false;
                break;
            }
        }
    }
    let mut text = cut(&redact(&text, redact_values), 2 * OUTPUT_LIMIT);
    text = scrub_partial(&text, redact_values);
    if !complete {
        text.push_str(" [output cut: a process the hook started still holds it]");
    }
    match status {
        Some(Ok(st)) if st.success() => Ok(HookOutput { text }),
        Some(Ok(st)) => Err(HookError::Exit {
            program,
            status: st.to_string(),
            output: tail(&text),
        }),
        Some(Err(e)) => Err(HookError::Wait {
            program,
            reason: e.to_string(),
        }),
        None => Err(HookError::Timeout {
            program,
            limit: humantime::format_duration(cmd.timeout).to_string(),
        }),
    }
}

/// `text` cut to at most `limit` bytes, at a character boundary.
fn cut(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Replaces a trailing fragment that is the start of a known value (what a
/// cut can leave of a value) with a marker.
fn scrub_partial(text: &str, values: &[&SecretValue]) -> String {
    for v in values {
        let raw = v.expose();
        let longest = raw.len().saturating_sub(1).min(text.len());
        for k in (4..=longest).rev() {
            if raw.is_char_boundary(k) && text.ends_with(&raw[..k]) {
                return format!(
                    "{}[REDACTED partial fp={}]",
                    &text[..text.len() - k],
                    v.fingerprint()
                );
            }
        }
    }
    text.to_owned()
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
            tls_ca_file,
        } => http_check(url, *status, *timeout, tls_ca_file.as_deref()),
    }
}

/// TLS for an https:// verify: rustls on aws-lc-rs (rotor's one crypto
/// backend), trusting the CA certificates of `ca_file`, else the system's
/// roots. There is no way to skip the check.
fn tls_config(url: &str, ca_file: Option<&Path>) -> Result<ureq::tls::TlsConfig, HookError> {
    use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};
    let bad = |reason: String| HookError::TlsRoots {
        url: url.to_owned(),
        reason,
    };
    let roots: Vec<Certificate<'static>> = match ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| bad(format!("cannot read tls_ca_file {}: {e}", path.display())))?;
            ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(c)) => Some(Ok(c)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<_, _>>()
                .map_err(|e| bad(format!("tls_ca_file {}: {e}", path.display())))?
        }
        None => rustls_native_certs::load_native_certs()
            .certs
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect(),
    };
    if roots.is_empty() {
        return Err(bad(match ca_file {
            Some(p) => format!("tls_ca_file {} holds no PEM certificate", p.display()),
            None => "the system has no root certificates; name the CA in tls_ca_file".into(),
        }));
    }
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .root_certs(RootCerts::new_with_certs(&roots))
        .build())
}

fn http_check(
    url: &str,
    want: u16,
    timeout: Duration,
    ca_file: Option<&Path>,
) -> Result<HookOutput, HookError> {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false);
    if url.starts_with("https://") {
        config = config.tls_config(tls_config(url, ca_file)?);
    }
    let agent: ureq::Agent = config.build().into();
    let resp = agent.get(url).call().map_err(|e| match e {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => HookError::InvalidUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        },
        _ => HookError::Http {
            url: url.to_owned(),
            reason: e.to_string(),
        },
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

fn read_bounded(mut r: Box<dyn Read + Send>, limit: usize, tx: mpsc::Sender<String>) {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = limit.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&kept).into_owned());
    });
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
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => return Some(Err(e)),
        }
    }
}

/// Kills a hook's whole process group (it was started as the group's
/// leader), through kill(1) so no unsafe code is needed.
fn kill_group(pgid: u32) {
    let _ = Process::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
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

    fn policy(tries: u32, backoff_ms: u64, max_ms: u64) -> Retry {
        Retry {
            tries,
            backoff: Duration::from_millis(backoff_ms),
            max_backoff: Duration::from_millis(max_ms),
        }
    }

    /// A command that fails until it has been run three times, counting in
    /// a file of its own directory.
    fn third_time_lucky() -> Command {
        cmd(
            &[
                "sh",
                "-c",
                "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 3 ]",
            ],
            5000,
        )
    }

    /// The result, the attempt numbers seen and the (attempt, wait) pairs
    /// reported before each wait.
    type Retried = (
        Result<HookOutput, HookError>,
        Vec<u32>,
        Vec<(u32, Duration)>,
    );

    /// Runs `c` in `dir` under `policy`.
    fn run_retried(policy: &Retry, c: &Command, dir: &Path) -> Retried {
        let mut attempts = Vec::new();
        let mut waits = Vec::new();
        let res = with_retries(
            policy,
            |n| {
                attempts.push(n);
                run_command(c, dir, &[])
            },
            |n, _, wait| waits.push((n, wait)),
        );
        (res, attempts, waits)
    }

    #[test]
    fn retry_succeeds_on_third_try() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (res, attempts, waits) =
            run_retried(&policy(3, 10, 1000), &third_time_lucky(), dir.path());
        assert!(res.is_ok(), "{res:?}");
        assert_eq!(attempts, vec![1, 2, 3]);
        assert_eq!(
            waits,
            vec![
                (1, Duration::from_millis(10)),
                (2, Duration::from_millis(20))
            ]
        );
    }

    #[test]
    fn retry_gives_up_after_tries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (res, attempts, waits) =
            run_retried(&policy(2, 10, 1000), &third_time_lucky(), dir.path());
        assert!(matches!(res, Err(HookError::Exit { .. })), "{res:?}");
        assert_eq!(attempts, vec![1, 2]);
        assert_eq!(waits, vec![(1, Duration::from_millis(10))]);
    }

    #[test]
    fn retry_stops_at_once_on_missing_program() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (res, attempts, waits) = run_retried(
            &policy(5, 10, 1000),
            &cmd(&["/nonexistent/rotor-test-program"], 5000),
            dir.path(),
        );
        let err = res.expect_err("missing program");
        assert!(matches!(err, HookError::Spawn { .. }), "{err:?}");
        assert!(err.is_permanent());
        assert_eq!(attempts, vec![1]);
        assert!(waits.is_empty(), "{waits:?}");
    }

    #[test]
    fn retry_waits_double_up_to_the_cap() {
        let transient = || HookError::Timeout {
            program: "x".into(),
            limit: "1s".into(),
        };
        let mut attempts = Vec::new();
        let mut waits = Vec::new();
        let res: Result<(), _> = with_retries(
            &policy(6, 1, 5),
            |n| {
                attempts.push(n);
                Err(transient())
            },
            |n, e, wait| {
                assert!(!e.is_permanent());
                waits.push((n, wait));
            },
        );
        assert!(matches!(res, Err(HookError::Timeout { .. })));
        assert_eq!(attempts, vec![1, 2, 3, 4, 5, 6]);
        let ms = |m| Duration::from_millis(m);
        assert_eq!(
            waits,
            vec![(1, ms(1)), (2, ms(2)), (3, ms(4)), (4, ms(5)), (5, ms(5))]
        );
    }

    #[test]
    fn retry_runs_at_least_once_and_returns_success_at_once() {
        let mut calls = 0;
        let res: Result<(), _> = with_retries(
            &policy(0, 1, 1),
            |_| {
                calls += 1;
                Err(HookError::Timeout {
                    program: "x".into(),
                    limit: "1s".into(),
                })
            },
            |_, _, _| panic!("no retry with tries = 0"),
        );
        assert!(res.is_err());
        assert_eq!(calls, 1);

        let mut calls = 0;
        let res = with_retries(
            &Retry::default(),
            |n| {
                calls += 1;
                Ok(n)
            },
            |_, _, _| panic!("no retry after a success"),
        );
        assert_eq!(res.ok(), Some(1));
        assert_eq!(calls, 1);
    }

    #[test]
    fn permanent_errors() {
        let s = |p: &str| p.to_owned();
        let permanent = [
            HookError::Spawn {
                program: s("x"),
                reason: s("No such file or directory"),
            },
            HookError::InvalidUrl {
                url: s("http://a b/"),
                reason: s("bad"),
            },
        ];
        let transient = [
            HookError::Wait {
                program: s("x"),
                reason: s("r"),
            },
            HookError::Exit {
                program: s("x"),
                status: s("exit status: 1"),
                output: String::new(),
            },
            HookError::Timeout {
                program: s("x"),
                limit: s("1s"),
            },
            HookError::Http {
                url: s("http://127.0.0.1:1/"),
                reason: s("Connection refused"),
            },
        ];
        for e in &permanent {
            assert!(e.is_permanent(), "{e:?}");
        }
        for e in &transient {
            assert!(!e.is_permanent(), "{e:?}");
        }
    }

    #[test]
    fn http_invalid_url_is_permanent_refused_is_not() {
        let err = http_check("http://exa mple/", 200, Duration::from_secs(2)).expect_err("bad url");
        assert!(matches!(err, HookError::InvalidUrl { .. }), "{err:?}");
        assert!(err.is_permanent());

        // A port nobody listens on: the listener is dropped before the GET.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let url = format!("http://127.0.0.1:{port}/health");
        let err = http_check(&url, 200, Duration::from_secs(2)).expect_err("refused");
        assert!(matches!(err, HookError::Http { .. }), "{err:?}");
        assert!(!err.is_permanent());
    }

    #[test]
    fn a_value_at_the_output_limit_is_not_left_half_shown() {
        let v = SecretValue::new(
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
        );
        let dir = tempfile::tempdir().expect("dir");
        for filler in [
            OUTPUT_LIMIT - 60,
            OUTPUT_LIMIT - 3,
            OUTPUT_LIMIT,
            OUTPUT_LIMIT + 10,
        ] {
            let script = format!(
                "head -c {filler} /dev/zero | tr '\\0' x; echo {}; exit 1",
                v.expose()
            );
            let err = run_command(&cmd(&["sh", "-c", &script], 5000), dir.path(), &[&v])
                .expect_err("exit 1");
            let text = err.to_string();
            assert!(
                !text.contains(&v.expose()[..6]),
                "filler {filler}: a fragment shows"
            );
        }
    }

    #[test]
    fn a_timeout_kills_what_the_hook_started() {
        let dir = tempfile::tempdir().expect("dir");
        let err = run_command(
            &cmd(&["sh", "-c", "sleep 30 & echo $! > child.pid; wait"], 300),
            dir.path(),
            &[],
        )
        .expect_err("times out");
        assert!(matches!(err, HookError::Timeout { .. }));
        let pid = std::fs::read_to_string(dir.path().join("child.pid")).expect("pid");
        let proc_dir = format!("/proc/{}", pid.trim());
        // the kill is synchronous; give the kernel a moment to reap
        for _ in 0..100 {
            let gone = std::fs::read_to_string(format!("{proc_dir}/stat"))
                .map(|s| s.split_whitespace().nth(2) == Some("Z"))
                .unwrap_or(true);
            if gone {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the hook's child survived its timeout");
    }
}
