//! A rotation killed with SIGKILL in the middle (after deliver, during the
//! restart hook) is visible as INTERRUPTED, blocks a second rotation with
//! exit 3, and `rotor rollback` puts the file back byte for byte.

mod common;

use common::{spawn_rotor, wait_for_file, Harness};
use rotor_testkit::inventory::{inventory, Secret};

/// The first restart hangs (so the test can kill rotor in it); later ones
/// are instant.
const HANG_ONCE: &str =
    "if [ -f hang-once ]; then rm hang-once; touch restarting; exec sleep 5; fi";

/// `jwt`, an overlap secret in `.env` restarted by `sh -c RESTART`, after
/// `rotor init`.
fn started(restart: &str) -> Harness {
    let inventory = inventory(&[Secret::new("jwt")
        .random(32)
        .overlap("1d")
        .dotenv(".env", "JWT_SECRET")
        .previous_var("JWT_SECRET_PREVIOUS")
        .restart(&["sh", "-c", restart])
        .hook_line("retry_backoff = \"10ms\"")]);
    Harness::started(
        &inventory,
        &[(".env", ENV)],
        &[(".env", &["JWT_SECRET", "JWT_SECRET_PREVIOUS"])],
    )
}

const ENV: &str = "# api\nJWT_SECRET=before-the-crash-123456\nOTHER=kept\n";

/// Starts `rotor rotate jwt`, lets it deliver, and kills it (SIGKILL) while
/// its restart hook hangs. Its output is scanned for leaks.
fn crash_during_restart(h: &mut Harness) {
    h.project.write("hang-once", "");
    let mut child = spawn_rotor(h, &["rotate", "jwt"]);
    wait_for_file(h, "restarting");
    child.kill().expect("SIGKILL rotor");
    let out = child.wait_with_output().expect("reap");
    h.manage(".env", &["JWT_SECRET", "JWT_SECRET_PREVIOUS"]);
    h.leaks
        .check_bytes("stdout of the killed rotor", &out.stdout);
    h.leaks
        .check_bytes("stderr of the killed rotor", &out.stderr);
}

#[test]
fn kill_during_restart_then_rollback() {
    let mut h = started(HANG_ONCE);
    crash_during_restart(&mut h);

    // delivered but not promoted
    assert_ne!(
        h.env_var(".env", "JWT_SECRET").as_deref(),
        Some("before-the-crash-123456")
    );

    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status[0]["state"], "interrupted");
    assert_eq!(status[0]["open_run"]["advice"], "rotor resume jwt");
    assert_eq!(status[0]["open_run"]["undo"], "rotor rollback jwt");
    assert!(status[0]["open_run"]["step"]
        .as_str()
        .expect("step")
        .starts_with("restart"));
    h.rotor(&["status"])
        .expect_code(0)
        .expect_output("INTERRUPTED");

    h.rotor(&["rotate", "jwt"])
        .expect_code(3)
        .expect_output("rotor rollback jwt");

    h.rotor(&["rollback", "jwt"])
        .expect_code(0)
        .expect_output("rolled_back");
    assert_eq!(h.project.read_string(".env"), ENV, "restored byte for byte");
    let stages = h.stages("jwt");
    assert_eq!(stages, ["failed", "current"]);

    // and the secret rotates normally afterwards
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    assert_eq!(
        h.env_var(".env", "JWT_SECRET_PREVIOUS").as_deref(),
        Some("before-the-crash-123456")
    );
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn rollback_whose_restart_fails_exits_5_and_leaks_nothing() {
    let mut h = started(&format!("{HANG_ONCE}; cat .env; exit 1"));
    crash_during_restart(&mut h);
    h.rotor(&["rollback", "jwt"])
        .expect_code(5)
        .expect_output("restart consumers by hand");
    assert_eq!(
        h.project.read_string(".env"),
        ENV,
        "files are restored all the same"
    );
    h.rotor(&["history", "jwt", "--json"]).expect_code(0);
    h.finish();
}

#[test]
fn resume_refuses_a_pending_value_sealed_under_another_key() {
    // Two stores, two master keys, the same interrupted rotation in each.
    let mut a = started(HANG_ONCE);
    crash_during_restart(&mut a);
    let mut b = started(HANG_ONCE);
    crash_during_restart(&mut b);
    // Graft b's sealed pending value (same secret, same number) into a.
    let foreign: Vec<u8> = rusqlite::Connection::open(b.project.join(".rotor/rotor.db"))
        .expect("open b")
        .query_row(
            "SELECT sealed FROM versions WHERE stage = 'pending'",
            [],
            |r| r.get(0),
        )
        .expect("b's pending row");
    rusqlite::Connection::open(a.project.join(".rotor/rotor.db"))
        .expect("open a")
        .execute(
            "UPDATE versions SET sealed = ?1 WHERE stage = 'pending'",
            [foreign],
        )
        .expect("graft");
    let before = a.project.snapshot();
    a.rotor(&["resume", "jwt"])
        .expect_code(2)
        .expect_output("version 2 of secret \"jwt\"")
        .expect_output("does not open");
    a.project.assert_unchanged(&before, "a refused resume");
    // the run can still be undone: restoring files needs no value
    a.rotor(&["rollback", "jwt"]).expect_code(0);
    assert_eq!(a.project.read_string(".env"), ENV);
    a.finish();
    b.finish();
}
