//! Restart and verify hooks: argv commands run with a time limit (never a
//! shell, never a value on argv), and HTTP health checks. Their output is
//! captured, bounded and redacted before anything keeps or prints it (each
//! stream on its own, see [`crate::redact`]), and they run with a clean
//! environment ([`super::hook_env`]). [`with_retries`] gives a failing hook a bounded number of further tries.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::hook_env::HookEnv;
use crate::inventory::{Command, Retry, Verify};
use crate::redact::Redactor;
use zeroize::Zeroizing;

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

/// Runs a command from `dir` with a time limit and the environment `env`
/// gives, in its own process group so that on timeout everything it
/// started is killed too. Its output is redacted with `redactor`.
pub fn run_command(
    cmd: &Command,
    dir: &Path,
    env: &HookEnv,
    redactor: &Redactor,
) -> Result<HookOutput, HookError> {
    let program = cmd.argv.first().cloned().unwrap_or_default();
    let mut child = Process::new(&program)
        .args(&cmd.argv[1..])
        .current_dir(dir)
        .env_clear()
        .envs(env.vars())
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
    let keep = OUTPUT_LIMIT + redactor.lookahead();
    let (tx, rx) = mpsc::channel();
    let mut streams = 0;
    if let Some(out) = child.stdout.take() {
        read_bounded(Box::new(out), 0, keep, tx.clone());
        streams += 1;
    }
    if let Some(err) = child.stderr.take() {
        read_bounded(Box::new(err), 1, keep, tx.clone());
        streams += 1;
    }
    drop(tx);
    let status = wait_with_timeout(&mut child, cmd.timeout);
    // The hook itself has ended (or was killed with its group). A process it
    // left running may still hold the pipes: wait a little, then go on.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut parts: [Option<String>; 2] = [None, None];
    let mut complete = true;
    for _ in 0..streams {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(capture) => {
                // Each stream is redacted and cut on its own, so the end of
                // one can never join the start of the other into a value.
                let text = redactor.redact_capture(&capture.kept, OUTPUT_LIMIT, capture.dropped);
                if let Some(slot) = parts.get_mut(capture.stream) {
                    *slot = Some(text);
                }
            }
            Err(_) => {
                complete = false;
                break;
            }
        }
    }
    let mut text = parts
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
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

/// Runs a verify hook.
pub fn run_verify(
    verify: &Verify,
    dir: &Path,
    env: &HookEnv,
    redactor: &Redactor,
) -> Result<HookOutput, HookError> {
    match verify {
        Verify::Command(cmd) => run_command(cmd, dir, env, redactor),
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
            // A regular file of bounded size, like every file rotor reads.
            let pem = crate::target::atomic::read(path)
                .map_err(|e| bad(format!("cannot read tls_ca_file: {e}")))?;
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

/// What one stream of a hook printed: the first bytes of it, and whether
/// more followed.
pub(crate) struct Capture {
    /// 0 for stdout, 1 for stderr.
    pub(crate) stream: usize,
    pub(crate) kept: Zeroizing<Vec<u8>>,
    pub(crate) dropped: bool,
}

/// Reads `r` to its end on a thread of its own, keeping the first `limit`
/// bytes, and sends them when the stream ends.
pub(crate) fn read_bounded(
    mut r: Box<dyn Read + Send>,
    stream: usize,
    limit: usize,
    tx: mpsc::Sender<Capture>,
) {
    thread::spawn(move || {
        let mut kept = Zeroizing::new(Vec::new());
        let mut dropped = false;
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = limit.saturating_sub(kept.len());
                    dropped |= n > room;
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        let _ = tx.send(Capture {
            stream,
            kept,
            dropped,
        });
    });
}

pub(crate) fn wait_with_timeout(
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

pub(crate) fn tail(text: &str) -> String {
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
    use crate::secret::SecretValue;

    /// Runs `c` from `dir` with no extra environment, redacting `values`.
    fn run(c: &Command, dir: &Path, values: &[&SecretValue]) -> Result<HookOutput, HookError> {
        run_command(
            c,
            dir,
            &HookEnv::default(),
            &Redactor::new(values.iter().copied()),
        )
    }

    fn cmd(argv: &[&str], ms: u64) -> Command {
        Command {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_millis(ms),
        }
    }

    #[test]
    fn success_failure_timeout() {
        let dir = std::env::temp_dir();
        assert!(run(&cmd(&["true"], 5000), &dir, &[]).is_ok());
        assert!(matches!(
            run(&cmd(&["false"], 5000), &dir, &[]),
            Err(HookError::Exit { .. })
        ));
        assert!(matches!(
            run(&cmd(&["sleep", "5"], 100), &dir, &[]),
            Err(HookError::Timeout { .. })
        ));
        assert!(matches!(
            run(&cmd(&["/nonexistent/x"], 100), &dir, &[]),
            Err(HookError::Spawn { .. })
        ));
    }

    #[test]
    fn output_is_redacted() {
        let v = SecretValue::new("s3cr3t-value-xyz".into());
        let dir = std::env::temp_dir();
        let err = run(
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
                run(c, dir, &[])
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
        let err =
            http_check("http://exa mple/", 200, Duration::from_secs(2), None).expect_err("bad url");
        assert!(matches!(err, HookError::InvalidUrl { .. }), "{err:?}");
        assert!(err.is_permanent());

        // A port nobody listens on: the listener is dropped before the GET.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let url = format!("http://127.0.0.1:{port}/health");
        let err = http_check(&url, 200, Duration::from_secs(2), None).expect_err("refused");
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
            let err =
                run(&cmd(&["sh", "-c", &script], 5000), dir.path(), &[&v]).expect_err("exit 1");
            let text = err.to_string();
            assert!(
                !text.contains(&v.expose()[..6]),
                "filler {filler}: a fragment shows"
            );
        }
    }

    /// Panics if any 4-byte piece of `value` shows in `text`.
    fn assert_no_piece(text: &str, value: &str, what: &str) {
        for w in value.as_bytes().windows(crate::redact::MIN_FORM) {
            let piece = String::from_utf8_lossy(w);
            assert!(!text.contains(piece.as_ref()), "{what}: a piece shows");
        }
    }

    #[test]
    fn hook_output_redaction_a_value_cut_at_the_capture_limit_with_stderr_following() {
        // The 44-character value the issue reported, from 4 bytes before
        // the limit to 8 after, with stderr printing after stdout.
        let v = SecretValue::new("0123456789abcdefghijABCDEFGHIJ0123456789abcd".into());
        let dir = tempfile::tempdir().expect("dir");
        // stdout closes first, so stderr follows it.
        for filler in OUTPUT_LIMIT - 4..OUTPUT_LIMIT + 8 {
            let script = format!(
                "head -c {filler} /dev/zero | tr '\\0' x; printf %s {}; exec 1>&-; sleep 0.05; echo stderr follows >&2; exit 1",
                v.expose()
            );
            let err =
                run(&cmd(&["sh", "-c", &script], 5000), dir.path(), &[&v]).expect_err("exit 1");
            let text = err.to_string();
            assert!(text.contains("stderr follows"), "filler {filler}");
            assert_no_piece(&text, v.expose(), &format!("filler {filler}"));
        }
    }

    #[test]
    fn hook_output_redaction_covers_every_encoding() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        use base64::Engine as _;
        let raw = "p@ss w/rd+\"q-0123456789";
        let v = SecretValue::new(raw.into());
        let dir = tempfile::tempdir().expect("dir");
        let json = serde_json::to_string(raw).expect("json");
        let spelled = [
            raw.to_owned(),
            crate::target::dotenv::url::encode(raw).to_string(),
            percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
            json[1..json.len() - 1].to_owned(),
            STANDARD.encode(raw),
            URL_SAFE_NO_PAD.encode(raw),
            hex::encode(raw),
        ];
        // Written to a file the hook prints, so no value is on its argv.
        std::fs::write(dir.path().join("out.txt"), spelled.join("\n")).expect("write");
        let err = run(
            &cmd(&["sh", "-c", "cat out.txt >&2; exit 1"], 5000),
            dir.path(),
            &[&v],
        )
        .expect_err("exit 1");
        let text = err.to_string();
        for s in &spelled {
            assert!(!text.contains(s.as_str()), "a form shows: {text}");
        }
        assert_eq!(
            text.matches("[REDACTED fp=").count(),
            spelled.len(),
            "{text}"
        );
    }

    #[test]
    fn hooks_get_a_clean_environment() {
        let dir = tempfile::tempdir().expect("dir");
        let env = HookEnv {
            named: Vec::new(),
            run: Some(42),
            step: "restart",
            secrets: vec!["jwt".into()],
        };
        let out = run_command(
            &cmd(&["sh", "-c", "env"], 5000),
            dir.path(),
            &env,
            &Redactor::new([]),
        )
        .expect("env runs");
        for line in out.text.lines() {
            let name = line.split('=').next().unwrap_or_default();
            assert!(
                super::super::hook_env::PASSED.contains(&name)
                    || name.starts_with("LC_")
                    || super::super::hook_env::METADATA.contains(&name)
                    // what sh itself sets
                    || ["PWD", "SHLVL", "_", "OLDPWD"].contains(&name),
                "the hook got {name}"
            );
        }
        assert!(out.text.contains("ROTOR_RUN_ID=42"), "{}", out.text);
        assert!(out.text.contains("ROTOR_SECRETS=jwt"), "{}", out.text);
    }

    #[test]
    fn a_timeout_kills_what_the_hook_started() {
        let dir = tempfile::tempdir().expect("dir");
        let err = run(
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
