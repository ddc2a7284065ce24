//! A concurrent rotor's fresh write is never "changed by hand": a rotation
//! that read the store before another process rotated the same secret, and
//! its targets after, leaves the secret to that process (skipped in a
//! sweep, as the README promises) or names its interrupted run; it never
//! reports drift. The interleaving is reproduced exactly with the test
//! build's pause point (`ROTOR_PAUSE=before:read-targets=FILE` holds a
//! process between its read of the store and its read of the targets), and
//! then at random by many parallel sweeps.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{rotor_bin, wait_for_file, Harness};
use rotor::secret::Fingerprint;

/// Words only a drift refusal or report uses.
const DRIFT_WORDS: &[&str] = &["did not deliver", "by hand", "disagree", "DRIFT"];

fn inventory(secrets: usize) -> String {
    rotor_testkit::inventory::inventory(&rotor_testkit::inventory::overlapping(secrets))
}

fn setup(n: usize) -> Harness {
    let env: String = (0..n)
        .map(|i| format!("S{i}=initial-value-{i:04}-abcdef\n"))
        .collect();
    let mut h = Harness::new(&inventory(n), &[(".env", &env)]);
    let vars: Vec<String> = (0..n)
        .flat_map(|i| [format!("S{i}"), format!("S{i}_PREVIOUS")])
        .collect();
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
    h.manage(".env", &vars);
    h.rotor(&["init"]).expect_code(0);
    h
}

fn spawn(h: &Harness, args: &[&str], env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(rotor_bin());
    cmd.args(args)
        .current_dir(h.project.path())
        .env_remove("ROTOR_CONFIG")
        .env_remove("ROTOR_MASTER_KEY_FILE")
        .env_remove("ROTOR_FAULT")
        .env("USER", "test-operator")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn rotor")
}

/// Waits for `child`, scans its output for values, and returns its exit
/// code and output.
fn finish(h: &mut Harness, child: Child, what: &str) -> (i32, String) {
    let out = child.wait_with_output().expect("wait");
    h.learn_now();
    h.leaks
        .check_bytes(&format!("stdout of {what}"), &out.stdout);
    h.leaks
        .check_bytes(&format!("stderr of {what}"), &out.stderr);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn assert_no_drift_words(text: &str, what: &str) {
    for w in DRIFT_WORDS {
        assert!(!text.contains(w), "{what} reported drift ({w:?}):\n{text}");
    }
}

/// Every secret's current and previous in .env are the store's.
fn files_agree_with_store(h: &mut Harness, n: usize) {
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    for i in 0..n {
        let row = &status[i];
        let cur = h.env_var(".env", &format!("S{i}")).expect("value");
        assert_eq!(
            row["fingerprint"],
            Fingerprint::of(cur.as_bytes()).as_str(),
            "s{i} current"
        );
        let prev = h.env_var(".env", &format!("S{i}_PREVIOUS")).expect("prev");
        assert_eq!(
            row["previous"]["fingerprint"],
            Fingerprint::of(prev.as_bytes()).as_str(),
            "s{i} previous"
        );
    }
}

/// Starts `rotor rotate --all`, held after its read of the store.
fn held_sweep(h: &Harness) -> Child {
    let pause = h.project.join("paused");
    let child = spawn(
        h,
        &["rotate", "--all", "--json"],
        &[(
            "ROTOR_PAUSE",
            format!("before:read-targets={}", pause.display()),
        )],
    );
    wait_for_file(h, "paused");
    child
}

fn release(h: &Harness) {
    std::fs::remove_file(h.project.join("paused")).expect("release the held sweep");
}

#[test]
fn a_concurrent_rotors_fresh_write_is_skipped_not_called_drift() {
    let mut h = setup(1);
    h.rotor(&["rotate", "s0"]).expect_code(0);
    let sweep = held_sweep(&h);
    // Another process rotates s0 completely: the held sweep's view of the
    // store (v2) is now older than the file (v3).
    h.rotor(&["rotate", "s0"]).expect_code(0);
    release(&h);
    let (code, text) = finish(&mut h, sweep, "the held sweep");
    assert_eq!(code, 0, "{text}");
    assert_no_drift_words(&text, "the held sweep");
    assert!(text.contains("skipped"), "{text}");
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status[0]["version"], 3, "rotated once by the other process");
    files_agree_with_store(&mut h, 1);
    h.rotor(&["verify"]).expect_code(0);
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn a_concurrent_rotor_interrupted_after_delivery_is_named_not_called_drift() {
    let mut h = setup(1);
    h.rotor(&["rotate", "s0"]).expect_code(0);
    let sweep = held_sweep(&h);
    // The other process delivers v3 (pending) and dies before promoting.
    let crashed = h.rotor_env(&["rotate", "s0"], &[("ROTOR_FAULT", "after:deliver")]);
    assert_ne!(crashed.code, 0, "the crash point aborts");
    release(&h);
    let (code, text) = finish(&mut h, sweep, "the held sweep");
    assert_no_drift_words(&text, "the held sweep");
    assert!(text.contains("interrupted"), "exit {code}: {text}");
    assert!(text.contains("rotor resume s0"), "{text}");
    h.rotor(&["resume", "s0"]).expect_code(0);
    files_agree_with_store(&mut h, 1);
    h.rotor(&["verify"]).expect_code(0);
    h.finish();
}

#[test]
fn a_verify_that_reads_while_another_rotor_rotates_reports_no_drift() {
    let mut h = setup(1);
    h.rotor(&["rotate", "s0"]).expect_code(0);
    let pause = h.project.join("paused");
    let verify = spawn(
        &h,
        &["verify", "--json"],
        &[(
            "ROTOR_PAUSE",
            format!("before:verify-targets={}", pause.display()),
        )],
    );
    wait_for_file(&h, "paused");
    h.rotor(&["rotate", "s0"]).expect_code(0);
    release(&h);
    let (code, text) = finish(&mut h, verify, "the held verify");
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("\"drift\""), "{text}");
    h.finish();
}

#[test]
fn many_parallel_sweeps_report_no_false_drift() {
    let n = 4;
    let procs = 8;
    let rounds = 4;
    let mut h = setup(n);
    h.rotor(&["rotate", "--all"]).expect_code(0);
    let started = Instant::now();
    let mut rotations = 0;
    for round in 0..rounds {
        let children: Vec<Child> = (0..procs)
            .map(|_| spawn(&h, &["rotate", "--all", "--json"], &[]))
            .collect();
        for (i, c) in children.into_iter().enumerate() {
            let what = format!("round {round} sweep {i}");
            let (code, text) = finish(&mut h, c, &what);
            assert_eq!(code, 0, "{what}: {text}");
            assert_no_drift_words(&text, &what);
        }
        files_agree_with_store(&mut h, n);
        let status = h.rotor(&["status", "--json"]).expect_code(0).json();
        let versions: u64 = (0..n)
            .map(|i| status[i]["version"].as_u64().expect("version"))
            .sum();
        assert!(
            versions > rotations,
            "round {round}: every round rotates something"
        );
        rotations = versions;
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the sweeps finish (bounded time)"
        );
    }
    h.rotor(&["verify"]).expect_code(0);
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}
