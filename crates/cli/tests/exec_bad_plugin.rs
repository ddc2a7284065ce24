//! Plugins that misbehave: each is a clear error, nothing is delivered,
//! the old credential keeps working (undo is called when the plugin may
//! have changed something), and no value leaks, not even one the plugin
//! itself printed.

mod common;

use common::{Harness, Run};
use rotor_testkit::inventory::{inventory, quote, Secret};

const OLD: &str = "old-provider-key-0123456789abcdef";
/// The provider admin key the plugin gets in its environment.
const ADMIN: &str = "bad-plugin-admin-key-9f8e7d6c5b4a";

fn harness(mode: &str, timeout: &str) -> Harness {
    let plugin = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plugins/bad.py");
    let timeout = format!("timeout = {}", quote(timeout));
    let key = Secret::new("provider_key")
        .random(24)
        .dual_password()
        .dotenv(".env", "PROVIDER_KEY")
        .exec(&["python3", plugin, mode])
        .authority_lines(&[&timeout, "env = [\"BAD_ADMIN_KEY\"]"]);
    let mut h = Harness::new(
        &inventory(&[key]),
        &[(".env", &format!("PROVIDER_KEY={OLD}\n"))],
    );
    h.manage(".env", &["PROVIDER_KEY"]);
    h.leaks.learn(ADMIN);
    h.rotor(&["init"]).expect_code(0);
    h
}

/// Runs `rotor rotate`, then scans its output for every value the plugin
/// was given or made (read from its log), and checks nothing changed.
fn rotate_fails(h: &mut Harness, code: i32, needle: &str) -> Run {
    let run = h.rotor_env(&["rotate", "provider_key"], &[("BAD_ADMIN_KEY", ADMIN)]);
    let values = std::fs::read_to_string(h.project.join("values.log")).unwrap_or_default();
    for v in values.lines().filter(|v| !v.is_empty()) {
        h.leaks.learn(v);
    }
    h.leaks.check_text("stdout of rotate", &run.stdout);
    h.leaks.check_text("stderr of rotate", &run.stderr);
    run.expect_code(code).expect_output(needle);
    assert_eq!(h.env_var(".env", "PROVIDER_KEY").as_deref(), Some(OLD));
    let status = h.rotor(&["status", "--json"]).json();
    let open: Vec<&serde_json::Value> = status
        .as_array()
        .expect("status rows")
        .iter()
        .filter(|s| !s["open_run"].is_null())
        .collect();
    assert!(open.is_empty(), "a run was left open: {status}");
    run
}

fn undone(h: &Harness) -> bool {
    h.project.join("undo.log").exists()
}

#[test]
fn a_plugin_that_hangs_is_killed_at_its_timeout_and_undone() {
    let mut h = harness("hang", "2s");
    let started = std::time::Instant::now();
    rotate_fails(&mut h, 1, "no reply within 2s");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert!(
        undone(&h),
        "undo was not called after a create that may have run"
    );
    h.finish();
}

#[test]
fn a_plugin_that_hangs_in_describe_stops_the_rotation_before_anything_is_recorded() {
    let mut h = harness("hang-describe", "1s");
    rotate_fails(&mut h, 2, "no reply within 1s");
    assert!(!undone(&h));
    let history = h.rotor(&["history", "provider_key"]);
    assert!(!history.stdout.contains("generate"), "{}", history.stdout);
    h.finish();
}

#[test]
fn a_plugin_that_exits_1_is_reported_with_its_redacted_stderr() {
    let mut h = harness("exit1", "10s");
    let run = rotate_fails(&mut h, 1, "exited with exit status: 1");
    run.expect_output("boom: the provider refused key");
    assert!(undone(&h));
    h.finish();
}

#[test]
fn a_reply_that_is_not_json_is_refused() {
    let mut h = harness("garbage", "10s");
    rotate_fails(&mut h, 1, "not a protocol 1 JSON object");
    assert!(undone(&h));
    h.finish();
}

#[test]
fn a_reply_of_two_lines_is_refused() {
    let mut h = harness("twolines", "10s");
    rotate_fails(&mut h, 1, "more than one line");
    h.finish();
}

#[test]
fn another_protocol_version_is_refused_before_anything_changes() {
    let mut h = harness("version", "10s");
    rotate_fails(
        &mut h,
        2,
        "it speaks protocol 2; this rotor speaks protocol 1",
    );
    assert!(!undone(&h));
    h.finish();
}

#[test]
fn a_100_mb_reply_is_refused_without_reading_it_all_into_memory() {
    let mut h = harness("huge", "60s");
    rotate_fails(&mut h, 1, "larger than 1048576 bytes");
    assert!(undone(&h));
    h.finish();
}

#[test]
fn an_error_that_echoes_the_secret_is_refused_and_never_shown() {
    let mut h = harness("echo", "10s");
    rotate_fails(&mut h, 1, "repeats a secret value in \"error\"");
    assert!(undone(&h));
    h.finish();
}

#[test]
fn a_minted_credential_echoed_in_user_is_refused() {
    let mut h = harness("echo-user", "10s");
    rotate_fails(&mut h, 1, "repeats a secret value in \"user\"");
    assert!(undone(&h));
    h.finish();
}

#[test]
fn a_credential_its_own_test_refuses_is_undone() {
    let mut h = harness("refuse-test", "10s");
    rotate_fails(&mut h, 1, "test answered accepted = false");
    assert!(undone(&h));
    h.finish();
}

#[test]
fn a_minted_value_with_a_line_break_is_refused_before_delivery() {
    let mut h = harness("mint-newline", "10s");
    rotate_fails(&mut h, 1, "holding a line break");
    assert!(undone(&h));
    assert!(!h.project.read_string(".env").contains("INJECTED"));
    h.finish();
}

#[test]
fn the_admin_key_a_plugin_prints_is_redacted() {
    let mut h = harness("leak-admin", "10s");
    let run = rotate_fails(&mut h, 1, "provider said no to admin key [REDACTED");
    assert!(!run.stderr.contains(ADMIN));
    h.finish();
}

/// A rotation builds the secret's authority more than once (plan, then the
/// run); the plugin is asked to describe itself once per rotor command.
#[test]
fn a_plugin_describes_itself_once_per_command() {
    let mut h = harness("behave", "10s");
    h.rotor_env(&["rotate", "provider_key"], &[("BAD_ADMIN_KEY", ADMIN)])
        .expect_code(0);
    let ops = std::fs::read_to_string(h.project.join("ops.log")).expect("ops.log");
    let ops: Vec<&str> = ops.lines().collect();
    assert_eq!(
        ops.iter().filter(|op| **op == "describe").count(),
        1,
        "{ops:?}"
    );
    assert!(
        ops.contains(&"create") && ops.contains(&"revoke"),
        "{ops:?}"
    );
    h.learn_now();
    h.finish();
}
