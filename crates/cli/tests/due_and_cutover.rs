//! `rotate --due` picks what is past its cadence or never rotated; cutover
//! retires the old value at once; `status` marks OVERDUE.

mod common;

use common::Harness;
use rotor_testkit::inventory::{inventory, Secret};

const ENV: &str = "FAST_TOKEN=fast-initial-value\nMANUAL_TOKEN=manual-initial-value\nSLOW_TOKEN=slow-initial-value\n";

/// `fast` (cadence 2s), `manual` (no cadence) and `slow` (cadence 90d),
/// each a token in `.env`, after `rotor init`.
fn started() -> Harness {
    let inventory = inventory(&[
        Secret::new("fast")
            .key("cadence", "2s")
            .password(24, "alnum")
            .dotenv(".env", "FAST_TOKEN"),
        Secret::new("manual")
            .random_encoded(16, "hex")
            .dotenv(".env", "MANUAL_TOKEN"),
        Secret::new("slow")
            .key("cadence", "90d")
            .password(32, "printable")
            .dotenv(".env", "SLOW_TOKEN"),
    ]);
    Harness::started(
        &inventory,
        &[(".env", ENV)],
        &[(".env", &["FAST_TOKEN", "MANUAL_TOKEN", "SLOW_TOKEN"])],
    )
}

fn names(outcomes: &serde_json::Value) -> Vec<String> {
    outcomes
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| o["secret"].as_str().expect("secret").to_owned())
        .collect()
}

#[test]
fn due_selects_overdue_and_never_rotated_with_a_cadence() {
    let mut h = started();
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status[0]["overdue"], true, "never rotated, has a cadence");
    assert_eq!(status[1]["overdue"], false, "no cadence: on demand only");

    let first = h
        .rotor(&["rotate", "--due", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(names(&first), ["fast", "slow"]);
    assert_eq!(
        h.env_var(".env", "MANUAL_TOKEN").as_deref(),
        Some("manual-initial-value")
    );
    let slow = h.env_var(".env", "SLOW_TOKEN").expect("slow");
    assert_eq!(slow.len(), 32);
    assert!(slow
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"'\"\\$`#".contains(&b)));

    h.rotor(&["rotate", "--due"])
        .expect_code(0)
        .expect_output("Nothing is due");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    h.rotor(&["status"]).expect_code(0).expect_output("OVERDUE");
    let second = h
        .rotor(&["rotate", "--due", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(names(&second), ["fast"]);
    h.finish();
}

#[test]
fn cutover_retires_the_old_value_at_once() {
    let mut h = started();
    h.rotor(&["rotate", "manual"]).expect_code(0);
    let token = h.env_var(".env", "MANUAL_TOKEN").expect("token");
    assert_eq!(token.len(), 32, "16 bytes hex");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let stages = h.stages("manual");
    assert_eq!(stages, ["current", "retired"]);
    h.rotor(&["rollback", "manual"])
        .expect_code(2)
        .expect_output("cutover");
    h.finish();
}
