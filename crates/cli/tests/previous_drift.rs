//! Drift covers every value rotor delivers, not only the current one: a
//! hand-edited, emptied or removed `*_PREVIOUS`, an edited old key or an
//! added key in a `format = "list"` variable, and a `{{previous}}` edited in
//! a rendered template are reported by `rotor verify` (file, variable and
//! both fingerprints, never a value) and refused by `rotor rotate` unless
//! `--adopt` lets the rotation overwrite them.

mod common;

use common::Harness;
use rotor::secret::Fingerprint;
use rotor_testkit::inventory::{inventory, Secret};

/// `jwt` (overlap for `jwt_window`, `JWT_SECRET` and its `_PREVIOUS`) and
/// `session` (overlap, a `format = "list"` variable), both in `.env`.
fn inventory_with(jwt_window: &str) -> String {
    inventory(&[
        Secret::new("jwt")
            .random_encoded(32, "base64")
            .overlap(jwt_window)
            .dotenv(".env", "JWT_SECRET")
            .previous_var("JWT_SECRET_PREVIOUS"),
        Secret::new("session")
            .password(40, "urlsafe")
            .overlap("1d")
            .dotenv(".env", "SESSION_KEYS")
            .target_line("format = \"list\""),
    ])
}

const MANAGED: &[(&str, &[&str])] = &[(
    ".env",
    &["JWT_SECRET", "JWT_SECRET_PREVIOUS", "SESSION_KEYS"],
)];

const ENV: &str = "# app\nJWT_SECRET=dev-secret-change-me-123\nJWT_SECRET_PREVIOUS=\nSESSION_KEYS=old-session-key-1234\nAPP_ENV=production\n";

const HAND: &str = "hand-edited-previous-123456";

fn setup() -> Harness {
    let mut h = Harness::managed(&inventory_with("1d"), &[(".env", ENV)], MANAGED);
    h.leaks.learn(HAND);
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["rotate", "--all"]).expect_code(0);
    h.rotor(&["verify"]).expect_code(0);
    h
}

/// Replaces the line of `var` in `.env` with `line` (or removes it).
fn set_line(h: &mut Harness, var: &str, line: Option<&str>) {
    let text = h.project.read_string(".env");
    let out: String = text
        .split_inclusive('\n')
        .filter_map(|l| {
            if l.starts_with(&format!("{var}=")) {
                line.map(|n| format!("{n}\n"))
            } else {
                Some(l.to_owned())
            }
        })
        .collect();
    h.project.write(".env", out);
    h.learn_now();
}

/// The drift checks `rotor verify --json` reports for `secret`.
fn drift_details(h: &mut Harness, secret: &str) -> Vec<String> {
    let run = h.rotor(&["verify", secret, "--json"]);
    let json = run.json();
    let details: Vec<String> = json[0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["state"] == "drift")
        .map(|c| format!("{}: {}", c["what"], c["detail"]))
        .collect();
    assert_eq!(
        details.is_empty(),
        run.code == 0,
        "exit {} with drift {details:?}",
        run.code
    );
    details
}

fn previous_fingerprint(h: &mut Harness, secret: &str) -> String {
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    let row = status
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["name"] == secret)
        .expect("a row for the secret");
    row["previous"]["fingerprint"]
        .as_str()
        .expect("a live previous")
        .to_owned()
}

#[test]
fn a_hand_edited_previous_is_drift_for_verify_and_rotate() {
    let mut h = setup();
    let store_prev = previous_fingerprint(&mut h, "jwt");
    let cur = h.env_var(".env", "JWT_SECRET").expect("current");
    set_line(
        &mut h,
        "JWT_SECRET_PREVIOUS",
        Some(&format!("JWT_SECRET_PREVIOUS={HAND}")),
    );

    let drift = drift_details(&mut h, "jwt");
    assert_eq!(drift.len(), 1, "{drift:?}");
    let d = &drift[0];
    assert!(
        d.contains(".env JWT_SECRET_PREVIOUS"),
        "names file and variable: {d}"
    );
    assert!(d.contains(Fingerprint::of(HAND.as_bytes()).as_str()), "{d}");
    assert!(d.contains(&store_prev), "the store's fingerprint too: {d}");
    h.rotor(&["verify"])
        .expect_output("DRIFT")
        .expect_output("JWT_SECRET_PREVIOUS");
    let hist = h.rotor(&["history", "jwt", "--json"]).expect_code(0).json();
    assert!(
        hist["audit"]
            .as_array()
            .expect("audit")
            .iter()
            .any(|e| e["step"] == "verify" && e["outcome"] == "drift"),
        "verify audits the drift"
    );

    let before = h.project.snapshot();
    h.rotor(&["rotate", "jwt"])
        .expect_code(2)
        .expect_output("JWT_SECRET_PREVIOUS")
        .expect_output("--adopt");
    h.project.assert_unchanged(&before, "a refused rotation");

    // --adopt: this rotation overwrites the hand-edited previous with the
    // store's current, as any rotation does, and audits what it gave up.
    h.rotor(&["rotate", "jwt", "--adopt"]).expect_code(0);
    assert_eq!(
        h.env_var(".env", "JWT_SECRET_PREVIOUS").as_deref(),
        Some(cur.as_str())
    );
    let hist = h.rotor(&["history", "jwt", "--json"]).expect_code(0).json();
    let adopted = hist["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .find(|e| e["step"] == "rotate.adopt-previous")
        .expect("the overwritten previous is audited");
    assert!(adopted["detail"]
        .as_str()
        .expect("detail")
        .contains(Fingerprint::of(HAND.as_bytes()).as_str()));
    h.rotor(&["verify"]).expect_code(0);
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn an_emptied_or_removed_previous_is_drift() {
    let mut h = setup();
    for line in [Some("JWT_SECRET_PREVIOUS="), None] {
        set_line(&mut h, "JWT_SECRET_PREVIOUS", line);
        let drift = drift_details(&mut h, "jwt");
        assert_eq!(drift.len(), 1, "{line:?}: {drift:?}");
        assert!(drift[0].contains("emptied or removed"), "{}", drift[0]);
        let before = h.project.snapshot();
        h.rotor(&["rotate", "jwt"])
            .expect_code(2)
            .expect_output("JWT_SECRET_PREVIOUS");
        h.project.assert_unchanged(&before, "a refused rotation");
    }
    h.finish();
}

#[test]
fn a_list_with_an_edited_old_key_or_an_added_key_is_drift() {
    let mut h = setup();
    let keys = h.env_var(".env", "SESSION_KEYS").expect("keys");
    let (cur, old) = keys.split_once(',').expect("current,previous");
    let store_prev = previous_fingerprint(&mut h, "session");
    assert_eq!(Fingerprint::of(old.as_bytes()).as_str(), store_prev);

    set_line(
        &mut h,
        "SESSION_KEYS",
        Some(&format!("SESSION_KEYS={cur},{HAND}")),
    );
    let drift = drift_details(&mut h, "session");
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert!(
        drift[0].contains("SESSION_KEYS (second key)"),
        "{}",
        drift[0]
    );
    assert!(drift[0].contains(&store_prev), "{}", drift[0]);
    let before = h.project.snapshot();
    h.rotor(&["rotate", "session"]).expect_code(2);
    h.project.assert_unchanged(&before, "a refused rotation");

    set_line(
        &mut h,
        "SESSION_KEYS",
        Some(&format!("SESSION_KEYS={cur},{old},{HAND}")),
    );
    let drift = drift_details(&mut h, "session");
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert!(drift[0].contains("1 more key"), "{}", drift[0]);
    h.rotor(&["rotate", "session"]).expect_code(2);

    set_line(&mut h, "SESSION_KEYS", Some(&format!("SESSION_KEYS={cur}")));
    let drift = drift_details(&mut h, "session");
    assert!(drift[0].contains("emptied or removed"), "{drift:?}");

    set_line(
        &mut h,
        "SESSION_KEYS",
        Some(&format!("SESSION_KEYS={cur},{old}")),
    );
    h.rotor(&["verify"]).expect_code(0);
    h.rotor(&["rotate", "session"]).expect_code(0);
    h.finish();
}

#[test]
fn a_previous_set_by_hand_after_retire_is_drift() {
    let mut h = Harness::managed(&inventory_with("1s"), &[(".env", ENV)], MANAGED);
    h.leaks.learn(HAND);
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    h.rotor(&["retire", "--expired"]).expect_code(0);
    assert_eq!(
        h.env_var(".env", "JWT_SECRET_PREVIOUS").as_deref(),
        Some("")
    );
    h.rotor(&["verify", "jwt"]).expect_code(0);
    set_line(
        &mut h,
        "JWT_SECRET_PREVIOUS",
        Some(&format!("JWT_SECRET_PREVIOUS={HAND}")),
    );
    let drift = drift_details(&mut h, "jwt");
    assert!(drift[0].contains("no previous version"), "{drift:?}");
    h.rotor(&["rotate", "jwt"]).expect_code(2);
    h.finish();
}

#[test]
fn a_template_previous_edited_by_hand_is_drift() {
    let inv = inventory(&[Secret::new("jwt")
        .random_encoded(32, "base64")
        .overlap("1d")
        .template("app.conf", "app.conf.tmpl")]);
    let tmpl = "# app\nkey = \"{{current}}\"\nold_key = \"{{previous}}\"\n";
    let first = "dev-secret-change-me-123";
    let file = tmpl
        .replace("{{current}}", first)
        .replace("{{previous}}", "");
    let mut h = Harness::new(&inv, &[("app.conf.tmpl", tmpl), ("app.conf", &file)]);
    h.leaks.learn(first);
    h.leaks.learn(HAND);
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    let text = h.project.read_string("app.conf");
    for line in text.lines().filter(|l| l.contains(" = \"")) {
        let value = line.split('"').nth(1).expect("a quoted value");
        if !value.is_empty() {
            h.leaks.learn(value);
        }
    }
    h.rotor(&["verify"]).expect_code(0);
    let (head, _) = text.split_once("old_key = \"").expect("old_key line");
    h.project
        .write("app.conf", format!("{head}old_key = \"{HAND}\"\n"));
    let drift = drift_details(&mut h, "jwt");
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert!(drift[0].contains("app.conf {{previous}}"), "{}", drift[0]);
    assert!(
        drift[0].contains(Fingerprint::of(HAND.as_bytes()).as_str()),
        "{}",
        drift[0]
    );
    let before = h.project.snapshot();
    h.rotor(&["rotate", "jwt"]).expect_code(2);
    h.project.assert_unchanged(&before, "a refused rotation");
    h.finish();
}
