//! `rotor put` attacked: two operators pasting different values at once
//! (exactly one wins, the other is told and changes nothing), output that
//! cannot be written (closed, /dev/full, a reader gone: the value is still
//! delivered and the exit code still says so), and a value on stdin that
//! is missing, too short or more than one line (refused, naming the secret,
//! nothing delivered). No value reaches any output.

mod common;

use std::fs::File;
use std::io::Write;
use std::process::{Command, Stdio};

use common::{rotor_bin, Harness};
use rotor_testkit::inventory::{inventory, Secret};

const OLD: &str = "re_OLDOLDOLDOLDOLDOLDOLDOLDOLDOLD01";

/// A manual secret (Resend-style API key) in `.env`, rotated (waiting for
/// `rotor put`).
fn waiting() -> Harness {
    let key = Secret::new("resend")
        .strategy("{ kind = \"manual\" }")
        .dotenv(".env", "RESEND_API_KEY")
        .manual_lines(&[
            "portal = \"https://resend.com/api-keys\"",
            "steps = [\"Create an API key\", \"Paste it into rotor put\"]",
            "charset = \"urlsafe\"",
        ]);
    let mut h = Harness::started(
        &inventory(&[key]),
        &[(".env", &format!("RESEND_API_KEY={OLD}\n"))],
        &[(".env", &["RESEND_API_KEY"])],
    );
    h.rotor(&["rotate", "resend"])
        .expect_code(0)
        .expect_output("rotor put resend");
    h
}

/// `rotor put resend` with `value` piped in, started now.
fn spawn_put(h: &Harness, value: &str) -> std::process::Child {
    let mut child = Command::new(rotor_bin())
        .args(["put", "resend"])
        .current_dir(h.project.path())
        .env_remove("ROTOR_CONFIG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rotor put");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{value}\n").as_bytes())
        .expect("write the value");
    child
}

#[test]
fn two_puts_at_once_deliver_exactly_one_value() {
    for round in 0..3 {
        let mut h = waiting();
        let a = format!("re_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA{round}");
        let b = format!("re_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB{round}");
        h.leaks.learn(&a);
        h.leaks.learn(&b);
        let (pa, pb) = (spawn_put(&h, &a), spawn_put(&h, &b));
        let (oa, ob) = (
            pa.wait_with_output().expect("put a"),
            pb.wait_with_output().expect("put b"),
        );
        for (what, out) in [("put a", &oa), ("put b", &ob)] {
            h.leaks
                .check_bytes(&format!("stdout of {what}"), &out.stdout);
            h.leaks
                .check_bytes(&format!("stderr of {what}"), &out.stderr);
        }
        let codes = (oa.status.code(), ob.status.code());
        let winner = match codes {
            (Some(0), Some(c)) if c != 0 => &a,
            (Some(c), Some(0)) if c != 0 => &b,
            _ => panic!(
                "round {round}: exactly one put must win, got {codes:?}\n{}\n{}",
                String::from_utf8_lossy(&oa.stderr),
                String::from_utf8_lossy(&ob.stderr)
            ),
        };
        let loser = if winner == &a { &ob } else { &oa };
        let said = String::from_utf8_lossy(&loser.stderr);
        assert!(
            said.contains("resend"),
            "round {round}: the refused put names the secret: {said}"
        );
        assert_eq!(
            h.env_var(".env", "RESEND_API_KEY").as_deref(),
            Some(winner.as_str()),
            "round {round}: the file holds the winner's value"
        );
        let history = h
            .rotor(&["history", "resend", "--json"])
            .expect_code(0)
            .json();
        let current = history["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .filter(|v| v["stage"] == "current")
            .count();
        assert_eq!(current, 1, "round {round}: one current version: {history}");
        h.rotor(&["verify"]).expect_code(0);
        h.rotor(&["audit", "verify"]).expect_code(0);
        h.finish();
    }
}

#[test]
fn put_with_unwritable_output_still_delivers_and_says_so_in_its_exit_code() {
    let full = || {
        File::options()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };
    for sink in ["closed", "full", "dead-pipe"] {
        let mut h = waiting();
        let value = format!("re_{}", sink.replace('-', "").repeat(8));
        h.leaks.learn(&value);
        let mut cmd = match sink {
            "closed" => {
                let mut c = Command::new("sh");
                c.args(["-c", r#"exec "$0" "$@" >&- 2>&-"#])
                    .arg(rotor_bin())
                    .args(["put", "resend"]);
                c
            }
            _ => {
                let mut c = Command::new(rotor_bin());
                c.args(["put", "resend"]);
                c
            }
        };
        cmd.current_dir(h.project.path())
            .env_remove("ROTOR_CONFIG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped());
        match sink {
            "full" => {
                cmd.stdout(full()).stderr(full());
            }
            "dead-pipe" => {
                let (reader, writer) = std::io::pipe().expect("pipe");
                drop(reader);
                cmd.stdout(writer.try_clone().expect("dup")).stderr(writer);
            }
            _ => {}
        }
        let mut child = cmd.spawn().expect("run rotor put");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{value}\n").as_bytes())
            .expect("write the value");
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{sink}: the put was done");
        assert_eq!(
            h.env_var(".env", "RESEND_API_KEY").as_deref(),
            Some(value.as_str()),
            "{sink}: delivered"
        );
        h.rotor(&["status"])
            .expect_code(0)
            .expect_output("awaiting revocation");
        h.finish();
    }
}

#[test]
fn a_value_cut_short_on_stdin_is_refused_and_nothing_is_delivered() {
    let mut h = waiting();
    let before = h.project.snapshot();
    // stdin closes before any line: nothing was given.
    h.rotor_stdin(&["put", "resend"], &[], "")
        .expect_code(2)
        .expect_output("secret \"resend\": no value given");
    // Too short for the inventory's rules (16 characters at least).
    h.rotor_stdin(&["put", "resend"], &[], "re_short\n")
        .expect_code(2)
        .expect_output("resend");
    // Two lines: a paste that caught the next line too.
    h.leaks.learn("re_FIRSTLINEFIRSTLINEFIRST01");
    h.rotor_stdin(
        &["put", "resend"],
        &[],
        "re_FIRSTLINEFIRSTLINEFIRST01\nexport OTHER=1\n",
    )
    .expect_code(2)
    .expect_output("secret \"resend\": the value holds a line break");
    h.project.assert_unchanged(&before, "a refused put");
    h.finish();
}
