//! Overlap rotation end to end: new value in `VAR`, old in `VAR_PREVIOUS`
//! (or `NEW,OLD`), every other byte kept, mode 0600, expiry and retire,
//! rollback swapping back.

mod common;

use common::Harness;
use rotor_testkit::inventory::{inventory, Secret};

/// `jwt` (overlap, `JWT_SECRET` and its `_PREVIOUS`) and `session`
/// (overlap, a `format = "list"` variable), both in `.env`; `target_lines`
/// are added to both targets.
fn inventory_with(target_lines: &[&str]) -> String {
    let mut jwt = Secret::new("jwt")
        .key("description", "Signs access and refresh tokens")
        .key("owner", "security")
        .key("blast_radius", "All active user sessions")
        .key("cadence", "90d")
        .line("related = [\"session\"]")
        .random_encoded(32, "base64")
        .overlap("2s")
        .dotenv(".env", "JWT_SECRET")
        .previous_var("JWT_SECRET_PREVIOUS");
    let mut session = Secret::new("session")
        .key("cadence", "30d")
        .password(40, "urlsafe")
        .overlap("1h")
        .dotenv(".env", "SESSION_KEYS")
        .target_line("format = \"list\"");
    for line in target_lines {
        jwt = jwt.target_line(line);
        session = session.target_line(line);
    }
    inventory(&[jwt, session])
}

const MANAGED: &[(&str, &[&str])] = &[(
    ".env",
    &["JWT_SECRET", "JWT_SECRET_PREVIOUS", "SESSION_KEYS"],
)];

const ENV: &str = "# API settings\r\nexport APP_ENV=production\r\n\r\nJWT_SECRET=dev-secret-change-me # rotated by rotor\r\nJWT_SECRET_PREVIOUS=\r\nDATABASE_URL='postgres://app@db/app'\r\n  # indented comment\r\nSESSION_KEYS=\"old-session-key-1234\"\r\nLAST=1";

fn other_lines(text: &str, managed: &[&str]) -> Vec<String> {
    text.split_inclusive('\n')
        .filter(|l| {
            let l = l.trim_start().trim_start_matches("export ");
            !managed.iter().any(|m| l.starts_with(&format!("{m}=")))
        })
        .map(str::to_owned)
        .collect()
}

fn setup() -> Harness {
    Harness::started(&inventory_with(&[]), &[(".env", ENV)], MANAGED)
}

#[test]
fn overlap_delivers_new_and_previous_and_keeps_other_bytes() {
    let mut h = setup();
    let managed = ["JWT_SECRET", "JWT_SECRET_PREVIOUS", "SESSION_KEYS"];
    h.rotor(&["rotate", "jwt"])
        .expect_code(0)
        .expect_output("rotated");
    let after = h.project.read_string(".env");
    assert_eq!(other_lines(ENV, &managed), other_lines(&after, &managed));
    assert_eq!(h.project.mode(".env"), 0o600);

    let new = h.env_var(".env", "JWT_SECRET").expect("JWT_SECRET");
    assert_ne!(new, "dev-secret-change-me");
    assert_eq!(base64_len(&new), 32, "32 random bytes, base64");
    assert_eq!(
        h.env_var(".env", "JWT_SECRET_PREVIOUS").as_deref(),
        Some("dev-secret-change-me"),
        "the adopted old value stays valid as previous"
    );
    // the inline comment and CRLF of the managed line survive
    assert!(after.contains(" # rotated by rotor\r\n"), "{after:?}");
    // untouched secret keeps its exact line
    assert!(after.contains("SESSION_KEYS=\"old-session-key-1234\"\r\n"));

    // a second rotation moves the first generated value into previous
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    assert_eq!(h.env_var(".env", "JWT_SECRET_PREVIOUS"), Some(new));

    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    let jwt = &status[0];
    assert_eq!(jwt["name"], "jwt");
    assert_eq!(jwt["version"], 3, "adopted v1, rotated to v2 then v3");
    assert_eq!(jwt["previous"]["version"], 2);
    h.finish();
}

fn base64_len(s: &str) -> usize {
    let pad = s.chars().rev().take_while(|c| *c == '=').count();
    s.len() / 4 * 3 - pad
}

#[test]
fn retire_expired_empties_previous_after_window() {
    let mut h = setup();
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    // inside the window nothing is retired
    h.rotor(&["retire", "--expired"])
        .expect_code(0)
        .expect_output("Nothing to retire");
    assert!(h
        .env_var(".env", "JWT_SECRET_PREVIOUS")
        .is_some_and(|v| !v.is_empty()));
    std::thread::sleep(std::time::Duration::from_millis(3100));
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status[0]["previous"]["expired"], true);
    h.rotor(&["retire", "--expired"])
        .expect_code(0)
        .expect_output("retired");
    assert_eq!(
        h.env_var(".env", "JWT_SECRET_PREVIOUS").as_deref(),
        Some("")
    );
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert!(status[0]["previous"].is_null());
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn list_format_writes_new_comma_old() {
    let mut h = setup();
    h.rotor(&["rotate", "session"]).expect_code(0);
    let list = h.env_var(".env", "SESSION_KEYS").expect("SESSION_KEYS");
    let parts: Vec<&str> = list.split(',').collect();
    assert_eq!(parts.len(), 2, "NEW,OLD");
    assert_eq!(parts[0].len(), 40);
    assert!(parts[0]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(parts[1], "old-session-key-1234");
    // retiring on demand leaves only the newest
    h.rotor(&["retire", "session"]).expect_code(0);
    assert_eq!(h.env_var(".env", "SESSION_KEYS").as_deref(), Some(parts[0]));
    h.finish();
}

#[test]
fn rollback_swaps_current_and_previous_back() {
    let mut h = setup();
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    let new = h.env_var(".env", "JWT_SECRET").expect("new");
    h.rotor(&["rollback", "jwt"])
        .expect_code(0)
        .expect_output("rolled_back");
    assert_eq!(
        h.env_var(".env", "JWT_SECRET").as_deref(),
        Some("dev-secret-change-me")
    );
    assert_eq!(h.env_var(".env", "JWT_SECRET_PREVIOUS"), Some(new));
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status[0]["version"], 1);
    assert_eq!(status[0]["previous"]["version"], 2);
    // after retiring, there is nothing left to roll back
    h.rotor(&["retire", "jwt"]).expect_code(0);
    h.rotor(&["rollback", "jwt"])
        .expect_code(2)
        .expect_output("nothing to roll back");
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn rotate_refuses_a_hand_edited_value_unless_adopted() {
    let mut h = setup();
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    let text = h.project.read_string(".env");
    let cur = h.env_var(".env", "JWT_SECRET").expect("cur");
    h.project
        .write(".env", text.replace(&cur, "hand-edited-value-123456"));
    h.manage(".env", &["JWT_SECRET"]);
    let before = h.project.snapshot();
    h.rotor(&["rotate", "jwt"])
        .expect_code(2)
        .expect_output("did not deliver");
    h.project.assert_unchanged(&before, "a refused rotation");
    h.rotor(&["rotate", "jwt", "--adopt"]).expect_code(0);
    assert_eq!(
        h.env_var(".env", "JWT_SECRET_PREVIOUS").as_deref(),
        Some("hand-edited-value-123456")
    );
    h.finish();
}

#[test]
fn target_mode_is_kept_as_the_inventory_says() {
    // one file, one mode: both targets in .env say 0640
    let inventory = inventory_with(&["mode = \"0640\""]);
    let mut h = Harness::managed(&inventory, &[(".env", ENV)], MANAGED);
    std::fs::set_permissions(
        h.project.join(".env"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .expect("chmod");
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["plan", "jwt"])
        .expect_code(0)
        .expect_output("has mode 0644; rotor writes it as 0640");
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    assert_eq!(h.project.mode(".env"), 0o640);
    h.finish();
}

#[test]
fn a_list_with_keys_rotor_never_saw_is_not_truncated() {
    let env = ENV.replace(
        "SESSION_KEYS=\"old-session-key-1234\"",
        "SESSION_KEYS=first-key-1234567,older-key-7654321",
    );
    let mut h = Harness::started(&inventory_with(&[]), &[(".env", &env)], MANAGED);
    h.rotor(&["plan", "session"])
        .expect_code(0)
        .expect_output("holds 2 keys");
    let before = h.project.snapshot();
    h.rotor(&["rotate", "session"])
        .expect_code(2)
        .expect_output("drop the other 1");
    h.project.assert_unchanged(&before, "a refused rotation");
    h.finish();
}
