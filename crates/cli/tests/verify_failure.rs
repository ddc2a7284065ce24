//! A failing verify (HTTP 500, or a command exiting 1) or restart puts every
//! file back byte for byte, restarts consumers onto the old values, marks the
//! new version failed and records the failed attempt in the audit trail.

mod common;

use common::Harness;
use rotor_testkit::inventory::{self, Secret};
use rotor_testkit::HealthStub;

const RESTART: &[&str] = &["sh", "-c", "echo restart >> restarts.log"];

/// `jwt` (overlap, `.env`) and `nextauth` (`web.env`, restarted by
/// `restart` and checked by `verify`).
fn inventory_with(restart: &[&str], verify: &str) -> String {
    inventory::inventory(&[
        Secret::new("jwt")
            .random_encoded(32, "base64url")
            .overlap("1d")
            .dotenv(".env", "JWT_SECRET")
            .previous_var("JWT_SECRET_PREVIOUS"),
        Secret::new("nextauth")
            .random_encoded(32, "hex")
            .dotenv("web.env", "NEXTAUTH_SECRET")
            .restart(restart)
            .hook_line(&format!("verify = {verify}"))
            .hook_line("retry_backoff = \"10ms\""),
    ])
}

fn inventory(verify: &str) -> String {
    inventory_with(RESTART, verify)
}

/// The project of [`inventory`] after `rotor init`, the scanner watching
/// `managed`.
fn started(verify: &str, managed: &[(&str, &[&str])]) -> Harness {
    Harness::started(
        &inventory(verify),
        &[(".env", ENV), ("web.env", WEB)],
        managed,
    )
}

const ENV: &str = "# keep me\nJWT_SECRET=first-value-abcdefgh\nJWT_SECRET_PREVIOUS=\n";
const WEB: &str = "export NEXTAUTH_SECRET=\"web-secret-0123456789\"\r\nOTHER=1\r\n";

fn run_failing(verify: &str, fix: impl FnOnce()) -> Harness {
    let mut h = started(
        verify,
        &[
            (".env", &["JWT_SECRET", "JWT_SECRET_PREVIOUS"]),
            ("web.env", &["NEXTAUTH_SECRET"]),
        ],
    );
    let before_env = h.project.read(".env");
    let before_web = h.project.read("web.env");
    let run = h.rotor(&["rotate", "nextauth"]);
    run.expect_code(1).expect_output("failed at step verify");
    assert_eq!(
        h.project.read("web.env"),
        before_web,
        "web.env restored byte for byte"
    );
    assert_eq!(
        h.project.read(".env"),
        before_env,
        "untouched file unchanged"
    );
    assert_eq!(
        h.project.read_string("restarts.log"),
        "restart\nrestart\n",
        "restarted onto the new value, then back onto the old one"
    );
    let hist = h
        .rotor(&["history", "nextauth", "--json"])
        .expect_code(0)
        .json();
    let stages: Vec<&str> = hist["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["stage"].as_str().expect("stage"))
        .collect();
    assert_eq!(
        stages,
        ["failed", "current"],
        "new failed, adopted old still current"
    );
    let audit = hist["audit"].as_array().expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e["step"] == "rotate.failed" && e["outcome"] == "failed"),
        "the failed attempt is audited: {audit:?}"
    );
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    let failure = &status[1]["last_failure"];
    assert_eq!(failure["step"], "verify", "{status}");
    assert_eq!(failure["kind"], "rotation");
    assert_eq!(
        failure["advice"],
        "fix the cause, then `rotor rotate nextauth`"
    );
    assert!(status[0]["last_failure"].is_null(), "jwt did not fail");
    h.rotor(&["status"])
        .expect_code(0)
        .expect_output("FAILED at verify");
    h.rotor(&["audit", "verify"]).expect_code(0);
    fix();
    h
}

#[test]
fn http_500_restores_files() {
    let health = HealthStub::start(500);
    let verify = format!(
        r#"{{ http = "{}", status = 200, timeout = "5s" }}"#,
        health.url()
    );
    let mut h = run_failing(&verify, || health.set_status(200));
    assert!(health.hits() >= 1);
    // once the service is healthy, the same rotation goes through
    h.rotor(&["rotate", "nextauth"]).expect_code(0);
    assert_ne!(
        h.env_var("web.env", "NEXTAUTH_SECRET").as_deref(),
        Some("web-secret-0123456789")
    );
    assert!(h.project.read_string("web.env").ends_with("OTHER=1\r\n"));
    h.finish();
}

#[test]
fn command_exit_1_restores_files() {
    let verify = r#"{ command = ["sh", "-c", "test -f healthy"], timeout = "5s" }"#;
    let mut h = run_failing(verify, || {});
    h.project.write("healthy", "");
    h.rotor(&["rotate", "nextauth"]).expect_code(0);
    h.finish();
}

#[test]
fn hook_output_with_the_value_is_redacted() {
    // A verify command that prints the new secret and fails: rotor's message
    // shows a fingerprint instead.
    let verify = r#"{ command = ["sh", "-c", "grep NEXTAUTH web.env; exit 1"], timeout = "5s" }"#;
    let mut h = started(verify, &[("web.env", &["NEXTAUTH_SECRET"])]);
    h.rotor(&["rotate", "nextauth"])
        .expect_code(1)
        .expect_output("REDACTED fp=");
    // the journal keeps the redacted output, not the value
    let journal: Vec<String> = rusqlite::Connection::open(h.project.join(".rotor/rotor.db"))
        .expect("open db")
        .prepare(
            "SELECT detail FROM journal WHERE step = 'verify' AND phase IN ('failed', 'retry')",
        )
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("details");
    assert!(!journal.is_empty() && journal.iter().all(|d| d.contains("REDACTED fp=")));
    h.finish();
}

#[test]
fn hook_output_never_shows_any_managed_value() {
    // A restart hook that prints the whole env file and fails: the values
    // of other secrets and the old value put back by the undo must be
    // redacted too, in the output and in the store.
    let inventory = inventory::inventory(&[
        Secret::new("jwt")
            .random_encoded(32, "hex")
            .dotenv(".env", "JWT_SECRET")
            .restart(&["sh", "-c", "cat .env; exit 1"])
            .hook_line("retry_backoff = \"10ms\""),
        Secret::new("other")
            .random_encoded(32, "hex")
            .overlap("1h")
            .dotenv(".env", "OTHER")
            .target_line("format = \"list\""),
    ]);
    let env = "A=1\nJWT_SECRET=oldvalue_abcdef123456\nOTHER=otherinitial_999888\n";
    let mut h = Harness::started(
        &inventory,
        &[(".env", env)],
        &[(".env", &["JWT_SECRET", "OTHER"])],
    );
    h.rotor(&["rotate", "other"]).expect_code(0);
    let before = h.project.read(".env");
    // The restart onto the old values fails too: exit 5.
    h.rotor(&["rotate", "jwt"])
        .expect_code(5)
        .expect_output("REDACTED fp=");
    assert_eq!(h.project.read(".env"), before);
    h.rotor(&["history", "jwt"]).expect_code(0);
    h.rotor(&["history", "jwt", "--json"]).expect_code(0);
    h.finish();
}

#[test]
fn a_failed_group_does_not_hide_the_groups_that_rotated() {
    let bad = Secret::new("bad")
        .random(16)
        .dotenv(".env", "BAD")
        .restart(&["false"])
        .hook_line("retry_backoff = \"10ms\"");
    let good = Secret::new("good").random(16).dotenv(".env", "GOOD");
    let mut h = Harness::started(
        &inventory::inventory(&[good, bad]),
        &[(".env", "GOOD=good-initial-123\nBAD=bad-initial-12345\n")],
        &[(".env", &["GOOD", "BAD"])],
    );
    let run = h.rotor(&["rotate", "--all", "--json"]);
    run.expect_code(5);
    let outcomes = run.json();
    let action = |name: &str| {
        outcomes
            .as_array()
            .expect("outcomes")
            .iter()
            .find(|o| o["secret"] == name)
            .map(|o| o["action"].as_str().expect("action").to_owned())
    };
    assert_eq!(action("good").as_deref(), Some("rotated"));
    assert_eq!(action("bad").as_deref(), Some("failed"));
    assert_eq!(
        h.env_var(".env", "BAD").as_deref(),
        Some("bad-initial-12345")
    );
    let text = h.rotor(&["rotate", "--all"]);
    text.expect_code(5)
        .expect_output("rotated      good")
        .expect_output("failed       bad")
        .expect_output("1 of 2 groups failed");
    h.finish();
}

#[test]
fn a_flaky_verify_is_retried_and_a_missing_program_is_not() {
    // verify fails twice (the service is still starting), then passes
    let verify = r#"{ command = ["sh", "-c", "n=$(cat tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > tries; test $n -ge 3"], timeout = "5s" }"#;
    let mut h = started(verify, &[("web.env", &["NEXTAUTH_SECRET"])]);
    h.rotor(&["rotate", "nextauth"])
        .expect_code(0)
        .expect_output("attempt 1 failed")
        .expect_output("attempt 2 failed");
    assert_eq!(h.project.read_string("tries").trim(), "3");
    assert_eq!(
        h.project.read_string("restarts.log"),
        "restart\n",
        "restart ran once"
    );

    // a restart program that does not exist is permanent: no retry
    h.project.write(
        "rotor.toml",
        inventory_with(&["/nonexistent/restart-api"], verify),
    );
    let run = h.rotor(&["rotate", "nextauth"]);
    run.expect_code(1)
        .expect_output("could not start `/nonexistent/restart-api`");
    assert!(
        !run.stderr.contains("attempt 1 failed"),
        "no retry: {}",
        run.stderr
    );
    h.finish();
}
