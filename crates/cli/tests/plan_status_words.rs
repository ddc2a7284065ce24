//! What `plan` and `status` tell the operator beyond the steps: related
//! secrets a selection leaves out (not rotated implicitly), the words for
//! what retiring really does to a converted role, owner and blast radius,
//! and who the audit trail names when `$USER` is unset.

mod common;

use std::process::Command;

use common::{rotor_bin, Harness};
use rotor_testkit::inventory::{inventory, Secret};

fn related() -> String {
    let jwt = Secret::new("jwt")
        .key("owner", "security-auth")
        .key("blast_radius", RADIUS)
        .random(32)
        .overlap("1d")
        .line_after_strategy("related = [\"session\"]")
        .dotenv(".env", "JWT_SECRET")
        .previous_var("JWT_SECRET_PREVIOUS");
    let session = Secret::new("session")
        .random(32)
        .dotenv(".env", "SESSION_SECRET");
    inventory(&[jwt, session])
}

const RADIUS: &str = "All active user sessions: anyone holding it can mint tokens";

const ENV: &str =
    "JWT_SECRET=old-jwt-value-0123456789\nSESSION_SECRET=old-session-value-0123456789\n";

fn related_project() -> Harness {
    Harness::started(
        &related(),
        &[(".env", ENV)],
        &[(
            ".env",
            &["JWT_SECRET", "JWT_SECRET_PREVIOUS", "SESSION_SECRET"],
        )],
    )
}

const WARNING: &str = "jwt is related to session (not selected)";

/// Outside incident mode `related` secrets are not rotated implicitly:
/// `rotate jwt` turns jwt only and says so, naming session; `plan` warns
/// the same; selecting both (or `--all`) warns about nothing; `status`
/// shows the relation.
#[test]
fn related_secrets_are_not_rotated_implicitly_and_plan_and_rotate_warn() {
    let mut h = related_project();
    h.rotor(&["plan", "jwt"])
        .expect_code(0)
        .expect_output(WARNING);
    let plan = h.rotor(&["plan", "jwt", "--json"]).expect_code(0).json();
    assert_eq!(plan[0]["related"], serde_json::json!(["session"]));
    assert!(
        plan[0]["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains(WARNING))),
        "{plan}"
    );
    let both = h
        .rotor(&["plan", "jwt", "session"])
        .expect_code(0)
        .stdout
        .clone();
    assert!(!both.contains("related to"), "{both}");

    let session_before = h.env_var(".env", "SESSION_SECRET");
    let jwt_before = h.env_var(".env", "JWT_SECRET");
    let run = h.rotor(&["rotate", "jwt"]);
    run.expect_code(0);
    assert!(run.stderr.contains(WARNING), "rotate warns: {}", run.stderr);
    assert_ne!(h.env_var(".env", "JWT_SECRET"), jwt_before, "jwt rotated");
    assert_eq!(
        h.env_var(".env", "SESSION_SECRET"),
        session_before,
        "session, only related, is not rotated"
    );

    let all = h.rotor(&["rotate", "--all"]);
    all.expect_code(0);
    assert!(!all.stderr.contains("related to"), "{}", all.stderr);

    let rows = h.rotor(&["status", "--json"]).expect_code(0).json();
    let jwt = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["name"] == "jwt")
        .expect("jwt row")
        .clone();
    assert_eq!(jwt["related"], serde_json::json!(["session"]));
    h.rotor(&["status"])
        .expect_code(0)
        .expect_output("related: session");
    h.finish();
}

/// `owner` and `blast_radius` are read from the inventory and shown: in
/// `plan` (text and JSON) and in `status` (under the table, and JSON).
#[test]
fn blast_radius_and_owner_are_shown_by_status_and_plan() {
    let mut h = related_project();
    let radius = RADIUS;
    h.rotor(&["plan", "jwt"])
        .expect_code(0)
        .expect_output(&format!("blast radius: {radius}"))
        .expect_output("owner: security-auth");
    let plan = h.rotor(&["plan", "--json"]).expect_code(0).json();
    assert_eq!(plan[0]["blast_radius"], radius);
    assert_eq!(plan[0]["owner"], "security-auth");
    assert_eq!(plan[1]["blast_radius"], serde_json::Value::Null);
    h.rotor(&["status"])
        .expect_code(0)
        .expect_output(&format!("jwt: owner security-auth; blast radius: {radius}"));
    let rows = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(rows[0]["blast_radius"], radius);
    assert_eq!(rows[0]["owner"], "security-auth");
    h.finish();
}

fn converting(user: &str) -> Harness {
    let db = Secret::new("db")
        .alternating("baander", "baander_blue", "baander_green")
        .authority_lines(&["retire = \"drop\""])
        .dotenv(".env", "DATABASE_URL")
        .target_line("form = \"url\"");
    let env = format!(
        "DATABASE_URL=postgresql://{user}:old-db-password-0123456789@database:5432/baander?serverVersion=18\n"
    );
    Harness::managed(
        &inventory(&[db]),
        &[(".env", &env)],
        &[(".env", &["DATABASE_URL"])],
    )
}

/// Baander's single `baander` role converted with `retire = "drop"`: the
/// authority only ever makes the converted role (the group) NOLOGIN, so
/// `plan` must not say DROP ROLE for it; once the pair takes turns, the
/// old role of the pair is dropped, and plan says so.
#[test]
fn plan_says_nologin_where_the_converted_group_role_is_retired() {
    let mut h = converting("baander");
    let run = h.rotor(&["plan"]);
    run.expect_code(0)
        .expect_output("consumers move from baander to baander_blue")
        .expect_output("NOLOGIN with a fresh unknown password, not dropped");
    assert!(!run.stdout.contains("DROP ROLE"), "{}", run.stdout);
    h.finish();

    let mut h = converting("baander_blue");
    h.rotor(&["plan"])
        .expect_code(0)
        .expect_output("consumers move from baander_blue to baander_green")
        .expect_output("REASSIGN OWNED, DROP OWNED, DROP ROLE");
    h.finish();
}

/// With `$USER` unset (cron, systemd units, containers) the audit trail
/// names the uid's user (as `id -un` prints it), not "unknown".
#[test]
fn actor_is_the_uid_name_when_user_is_unset() {
    let mut h = related_project();
    let id = Command::new("id").arg("-un").output().expect("id -un");
    assert!(id.status.success(), "id -un failed");
    let me = String::from_utf8_lossy(&id.stdout).trim().to_owned();
    assert!(!me.is_empty());
    let out = Command::new(rotor_bin())
        .args(["rotate", "jwt"])
        .current_dir(h.project.path())
        .env_remove("USER")
        .env_remove("ROTOR_ACTOR")
        .env_remove("ROTOR_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run rotor");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    h.learn_now();
    h.leaks.check_text("rotate stdout", &stdout);
    h.leaks.check_text("rotate stderr", &stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let history = h.rotor(&["history", "jwt", "--json"]).expect_code(0).json();
    let actors: Vec<&str> = history["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["step"] != "init")
        .filter_map(|e| e["actor"].as_str())
        .collect();
    assert!(!actors.is_empty(), "{history}");
    // init ran with the harness's USER; the rotation without one.
    assert!(actors.contains(&me.as_str()), "{actors:?}, want {me}");
    assert!(!actors.contains(&"unknown"), "{actors:?}");
    h.finish();
}
