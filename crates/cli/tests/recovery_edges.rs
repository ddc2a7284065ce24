//! Recovery edge cases found by review (each test names the finding):
//! a crash during an undo, a hand edit or an inventory change between the
//! crash and the recovery, a secret that left the inventory, and the value
//! being retired showing up in hook output.

mod common;

use common::{spawn_rotor, wait_for_file, Harness};
use rotor::secret::Fingerprint;
use rotor_testkit::inventory::{self, Secret};

const ENV: &str = "# api\nJWT=0123456789abcdef0123456789abcdef\nKEEP=1\n";

/// `jwt` in `JWT` of `.env` with this strategy (an overlap keeps the old
/// value in `JWT_PREVIOUS`) and these `[secret.hooks]` lines.
fn inventory(hooks: &[&str], strategy: &str) -> String {
    let mut jwt = Secret::new("jwt")
        .random_encoded(32, "hex")
        .strategy(strategy)
        .dotenv(".env", "JWT");
    if strategy.contains("overlap") {
        jwt = jwt.previous_var("JWT_PREVIOUS");
    }
    for line in hooks {
        jwt = jwt.hook_line(line);
    }
    inventory::inventory(&[jwt])
}

const OVERLAP: &str = r#"{ kind = "overlap", window = "8d" }"#;

fn setup(hooks: &[&str], strategy: &str) -> Harness {
    let mut h = Harness::new(&inventory(hooks, strategy), &[(".env", ENV)]);
    h.manage(".env", &["JWT", "JWT_PREVIOUS"]);
    h.rotor(&["init"]).expect_code(0);
    h
}

/// The store's current fingerprint equals what the file holds, and no run
/// is open.
fn consistent(h: &mut Harness) {
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert!(status[0]["open_run"].is_null(), "{status}");
    let held = h.env_var(".env", "JWT").expect("JWT");
    assert_eq!(
        status[0]["fingerprint"],
        Fingerprint::of(held.as_bytes()).as_str()
    );
    h.rotor(&["audit", "verify"]).expect_code(0);
}

#[test]
fn review_p1_crash_during_undo_then_resume_finishes_the_undo() {
    // verify always fails; the second restart (the undo's) hangs
    let hooks = [
        r#"restart = ["sh", "-c", "n=$(cat rc 2>/dev/null || echo 0); n=$((n+1)); echo $n > rc; if [ $n -eq 2 ]; then touch undoing; sleep 30; fi"]"#,
        r#"verify = { command = ["false"] }"#,
        "retries = 1",
    ];
    let mut h = setup(&hooks, OVERLAP);
    let mut child = spawn_rotor(&h, &["rotate", "jwt"]);
    wait_for_file(&h, "undoing");
    child.kill().expect("kill");
    child.wait().expect("reap");
    h.manage(".env", &["JWT", "JWT_PREVIOUS"]);
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status[0]["state"], "interrupted");
    h.rotor(&["resume", "jwt"])
        .expect_code(0)
        .expect_output("rolled_back");
    assert_eq!(
        h.project.read_string(".env"),
        ENV,
        "the undo was finished, not the rotation"
    );
    consistent(&mut h);
    h.finish();
}

#[test]
fn review_p2_hand_edit_after_a_crash_is_redelivered_by_resume() {
    let mut h = setup(&[], OVERLAP);
    h.rotor_env(&["rotate", "jwt"], &[("ROTOR_FAULT", "after:deliver")]);
    let text = h.project.read_string(".env");
    let delivered = h.env_var(".env", "JWT").expect("JWT");
    h.project.write(
        ".env",
        text.replace(&delivered, "handedited0000000000000000000000"),
    );
    h.rotor(&["resume", "jwt"])
        .expect_code(0)
        .expect_output("rotated");
    assert_eq!(
        h.env_var(".env", "JWT"),
        Some(delivered),
        "resume delivered again"
    );
    consistent(&mut h);
    h.finish();
}

#[test]
fn review_p2_inventory_change_after_a_crash_refuses_resume() {
    let mut h = setup(&[], OVERLAP);
    h.rotor_env(&["rotate", "jwt"], &[("ROTOR_FAULT", "after:deliver")]);
    h.manage(".env", &["JWT", "JWT_PREVIOUS"]);
    h.project
        .write("rotor.toml", inventory(&[], r#"{ kind = "cutover" }"#));
    // the crash left SQLite's write-ahead log behind; the next open folds it in
    h.rotor(&["status"]).expect_code(0);
    let before = h.project.snapshot();
    h.rotor(&["resume", "jwt"])
        .expect_code(2)
        .expect_output("changed in the inventory since run");
    h.project.assert_unchanged(&before, "a refused resume");
    h.rotor(&["rollback", "jwt"]).expect_code(0);
    assert_eq!(h.project.read_string(".env"), ENV);
    consistent(&mut h);
    h.finish();
}

#[test]
fn review_p3_a_secret_removed_after_a_crash_can_still_be_rolled_back() {
    let mut h = setup(&[], OVERLAP);
    h.rotor_env(&["rotate", "jwt"], &[("ROTOR_FAULT", "after:deliver")]);
    h.manage(".env", &["JWT", "JWT_PREVIOUS"]);
    h.project.write(
        "rotor.toml",
        inventory::inventory(&[Secret::new("other")
            .generator("{ kind = \"random\" }")
            .dotenv("other.env", "OTHER")]),
    );
    h.rotor(&["status"])
        .expect_code(0)
        .expect_output("not in the inventory; undo it with `rotor rollback jwt`");
    h.rotor(&["rollback", "jwt"])
        .expect_code(0)
        .expect_output("rolled_back");
    assert_eq!(h.project.read_string(".env"), ENV);
    h.finish();
}

#[test]
fn review_p3_the_value_being_retired_is_redacted() {
    let mut h = setup(&[], OVERLAP);
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    // a hook that prints a copy of the file taken while the previous was live
    std::fs::copy(h.project.join(".env"), h.project.join("snapshot")).expect("copy");
    let hooks = [
        r#"restart = ["sh", "-c", "cat snapshot; exit 1"]"#,
        "retries = 1",
    ];
    h.project.write("rotor.toml", inventory(&hooks, OVERLAP));
    // The restart onto the old values fails too: exit 5.
    h.rotor(&["retire", "jwt"])
        .expect_code(5)
        .expect_output("REDACTED fp=");
    consistent(&mut h);
    h.finish();
}
