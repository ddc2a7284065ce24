//! The manual flow (strategy manual): `rotate` prints the portal steps,
//! `rotor put` takes the value from stdin or a no-echo prompt on a pty
//! (never argv), checks it against the inventory's rules, delivers it with
//! the journal, and `rotor confirm --revoked` retires the old value. The
//! audit holds fingerprints only.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{rotor_bin, Harness, Run};
use rotor_testkit::inventory::{inventory, Secret};

const OLD: &str = "vnp_OLDOLDOLDOLDOLDOLDOLDOLDOLDOLD01";
const NEW: &str = "vnp_NEWNEWNEWNEWNEWNEWNEWNEWNEWNEW02";

/// The VNPay hash secret in `.env` and the portal steps that make a new
/// one, with no strategy yet.
fn vnpay_steps() -> Secret {
    Secret::new("vnpay_hash_secret")
        .dotenv(".env", "VNPAY_HASH_SECRET")
        .manual_lines(&[
            "portal = \"https://sandbox.vnpayment.vn/merchantv2/\"",
            "approver = \"payments lead\"",
            "steps = [\"Log in as the merchant admin\", \"Settings, then Secure hash, then Regenerate\", \"Copy the new secret\"]",
            "min_length = 32",
            "prefix = \"vnp_\"",
            "charset = \"alnum\"",
        ])
}

/// [`vnpay_steps`], rotated by hand (strategy manual).
fn vnpay() -> Secret {
    vnpay_steps().strategy("{ kind = \"manual\" }")
}

fn harness() -> Harness {
    let mut h = Harness::new(
        &inventory(&[vnpay()]),
        &[(".env", &format!("VNPAY_HASH_SECRET={OLD}\n"))],
    );
    h.manage(".env", &["VNPAY_HASH_SECRET"]);
    h.leaks.learn(NEW);
    h.rotor(&["init"]).expect_code(0);
    h
}

/// `rotor ARGS` with `input` on stdin (a pipe), output scanned for values.
fn with_stdin(h: &mut Harness, args: &[&str], input: &str) -> Run {
    h.rotor_stdin(args, &[], input)
}

#[test]
fn rotate_prints_the_steps_put_delivers_and_confirm_retires() {
    let mut h = harness();
    h.rotor(&["plan", "vnpay_hash_secret"])
        .expect_code(0)
        .expect_output("rotor put");
    h.rotor(&["rotate", "vnpay_hash_secret"])
        .expect_code(0)
        .expect_output("https://sandbox.vnpayment.vn/merchantv2/")
        .expect_output("2. Settings, then Secure hash, then Regenerate")
        .expect_output("approval: payments lead");
    assert_eq!(h.env_var(".env", "VNPAY_HASH_SECRET").as_deref(), Some(OLD));

    with_stdin(&mut h, &["put", "vnpay_hash_secret"], &format!("{NEW}\n")).expect_code(0);
    assert_eq!(h.env_var(".env", "VNPAY_HASH_SECRET").as_deref(), Some(NEW));
    h.rotor(&["status"])
        .expect_code(0)
        .expect_output("awaiting revocation of v1");
    // The old value still counts as live: a sweep does not retire it, and
    // the next value waits for the confirmation.
    h.rotor(&["retire", "--expired"]).expect_code(0);
    h.rotor(&["status"])
        .expect_output("awaiting revocation of v1");
    h.rotor(&["retire", "vnpay_hash_secret"])
        .expect_code(2)
        .expect_output("rotor confirm vnpay_hash_secret --revoked");
    let third = "vnp_THIRDTHIRDTHIRDTHIRDTHIRDTHIRD3";
    h.leaks.learn(third);
    with_stdin(&mut h, &["put", "vnpay_hash_secret"], third)
        .expect_code(2)
        .expect_output("has not been confirmed revoked");
    h.rotor(&["confirm", "vnpay_hash_secret"]).expect_code(2);
    h.rotor(&["confirm", "vnpay_hash_secret", "--revoked"])
        .expect_code(0);
    let status = h.rotor(&["status"]);
    status.expect_code(0);
    assert!(!status.stdout.contains("awaiting"), "{}", status.stdout);
    h.rotor(&["confirm", "vnpay_hash_secret", "--revoked"])
        .expect_code(2)
        .expect_output("nothing awaits confirmation");
    let history = h.rotor(&["history", "vnpay_hash_secret"]);
    history
        .expect_output("put.provided")
        .expect_output("confirm.revoked");
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn a_value_on_argv_is_refused_and_not_shown() {
    let mut h = harness();
    let run = h.rotor(&["put", "vnpay_hash_secret", NEW]);
    run.expect_code(2).expect_output("never takes one there");
    assert_eq!(h.env_var(".env", "VNPAY_HASH_SECRET").as_deref(), Some(OLD));
    h.finish();
}

#[test]
fn a_value_that_breaks_the_rules_is_refused_without_quoting_it() {
    let mut h = harness();
    let short = "vnp_short0000000";
    h.leaks.learn(short);
    with_stdin(&mut h, &["put", "vnpay_hash_secret"], short)
        .expect_code(2)
        .expect_output("at least 32");
    let prefix = "xyz_NEWNEWNEWNEWNEWNEWNEWNEWNEWNEW02";
    h.leaks.learn(prefix);
    with_stdin(&mut h, &["put", "vnpay_hash_secret"], prefix)
        .expect_code(2)
        .expect_output("does not start with \"vnp_\"");
    let charset = "vnp_NEWNEWNEWNEW-NEWNEWNEWNEWNEWNEW02";
    h.leaks.learn(charset);
    with_stdin(&mut h, &["put", "vnpay_hash_secret"], charset)
        .expect_code(2)
        .expect_output("outside its charset");
    with_stdin(&mut h, &["put", "vnpay_hash_secret"], "")
        .expect_code(2)
        .expect_output("no value given");
    assert_eq!(h.env_var(".env", "VNPAY_HASH_SECRET").as_deref(), Some(OLD));
    h.finish();
}

#[test]
fn put_asks_twice_on_a_terminal_without_echo() {
    let mut h = harness();
    // script(1) gives rotor a pty: the prompt reads from it, with echo off.
    let cmd = format!("{} put vnpay_hash_secret", rotor_bin().display());
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(h.project.path())
        .env("USER", "test-operator")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn script (util-linux)");
    let mut stdin = child.stdin.take().expect("stdin");
    // Typed at the first prompt, then at the second.
    for _ in 0..2 {
        std::thread::sleep(std::time::Duration::from_millis(700));
        stdin
            .write_all(format!("{NEW}\n").as_bytes())
            .expect("type");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    h.leaks.check_text("pty of put", &text);
    assert!(text.contains("not shown"), "no prompt on the pty: {text}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(h.env_var(".env", "VNPAY_HASH_SECRET").as_deref(), Some(NEW));
    h.finish();
}

#[test]
fn a_manual_secret_refuses_a_generator_and_an_authority() {
    let with_generator = inventory(&[vnpay().random(32)]);
    let mut h = Harness::new(&with_generator, &[(".env", "VNPAY_HASH_SECRET=x\n")]);
    h.rotor(&["plan"])
        .expect_code(2)
        .expect_output("has no generator");
    let generated = inventory(&[vnpay_steps().random(32)]);
    let mut h = Harness::new(&generated, &[(".env", "VNPAY_HASH_SECRET=x\n")]);
    h.rotor(&["plan"])
        .expect_code(2)
        .expect_output("[secret.manual] belongs to strategy");
    let with_authority = inventory(&[vnpay().exec(&["true"])]);
    let mut h = Harness::new(&with_authority, &[(".env", "VNPAY_HASH_SECRET=x\n")]);
    h.rotor(&["plan"])
        .expect_code(2)
        .expect_output("there is no authority for rotor to call");
    h.finish();
}

/// `rotor put` killed at every crash point of its run (from the engine's
/// step enum), then resumed or rolled back: the files hold exactly one of
/// the two values, the store agrees, and the next put works.
#[test]
fn put_crashed_at_every_step_then_resume_or_rollback() {
    let points = rotor_testkit::fault_matrix::crash_points(
        &inventory(&[vnpay()]),
        &[],
        rotor::store::RunKind::Rotate,
        &["vnpay_hash_secret"],
    );
    for point in &points {
        for recovery in ["resume", "rollback"] {
            let mut h = harness();
            let crashed = h.rotor_stdin(
                &["put", "vnpay_hash_secret"],
                &[("ROTOR_FAULT", point)],
                NEW,
            );
            assert_eq!(crashed.code, -1, "{point}: no crash\n{}", crashed.stderr);
            let finished = point == "after:promote";
            let run = h.rotor(&[recovery, "vnpay_hash_secret"]);
            let held = h.env_var(".env", "VNPAY_HASH_SECRET");
            // A finished put rolls back too: the old value is still live
            // until someone confirms its revocation.
            let want = if recovery == "resume" { NEW } else { OLD };
            if !(finished && recovery == "resume") {
                run.expect_code(0);
            }
            assert_eq!(
                held.as_deref(),
                Some(want),
                "{point} then {recovery}\n{}",
                run.stderr
            );
            let status = h.rotor(&["status"]);
            status.expect_code(0);
            if status.stdout.contains("awaiting revocation") {
                h.rotor(&["confirm", "vnpay_hash_secret", "--revoked"])
                    .expect_code(0);
            }
            let next = "vnp_NEXTNEXTNEXTNEXTNEXTNEXTNEXTNE4";
            h.leaks.learn(next);
            with_stdin(&mut h, &["put", "vnpay_hash_secret"], next).expect_code(0);
            h.rotor(&["audit", "verify"]).expect_code(0);
            h.finish();
        }
    }
}
