//! Tests for `previous.rs`: what each kind of target holds besides the
//! current value, read from real file bytes, against the store's versions.

use std::path::{Path, PathBuf};

use super::*;
use crate::inventory::{parse, PgbouncerTarget, SecretSpec, TargetSpec};
use crate::secret::Fingerprint;
use crate::store::{Origin, Stage, VersionRecord};
use crate::target;

/// File bytes as the engine holds them once read.
fn text(bytes: &[u8]) -> crate::target::FileText {
    crate::target::FileText::new(zeroize::Zeroizing::new(bytes.to_vec()))
}

fn spec(strategy: &str, target: &str) -> SecretSpec {
    let text = format!(
        "[[secret]]\nname = \"jwt\"\ngenerator = {{ kind = \"random\" }}\nstrategy = {strategy}\n\
         [[secret.target]]\nkind = \"dotenv\"\npath = \".env\"\nvar = \"JWT\"\n{target}"
    );
    let inv = parse(&text, Path::new("/srv/app/rotor.toml")).unwrap();
    inv.secrets.into_iter().next().unwrap()
}

const OVERLAP: &str = "{ kind = \"overlap\", window = \"1d\" }";
const CUTOVER: &str = "{ kind = \"cutover\" }";
const PAIR: &str = "previous_var = \"JWT_PREVIOUS\"\n";
const LIST: &str = "format = \"list\"\n";

fn version(number: u32, value: &str, stage: Stage, login: Option<&str>) -> VersionRecord {
    VersionRecord {
        secret: "jwt".into(),
        number,
        fingerprint: Fingerprint::of(value.as_bytes()),
        created_at: 0,
        stage,
        retire_after: None,
        origin: Origin::Generated,
        run_id: None,
        principal: login.map(str::to_owned),
    }
}

/// The store's current `cur` and, if given, previous `prev`.
fn live(cur: &str, prev: Option<&str>) -> Live {
    Live {
        pending: None,
        current: Some(version(3, cur, Stage::Current, None)),
        previous: prev.map(|p| version(2, p, Stage::Previous, None)),
    }
}

fn drift(spec: &SecretSpec, file: &str, live: &Live) -> Option<String> {
    let t = target::of(&spec.targets[0]);
    previous_drift(spec, t, &text(file.as_bytes()), live).unwrap()
}

#[test]
fn a_hand_edited_previous_variable_is_drift_naming_it_and_both_fingerprints() {
    let s = spec(OVERLAP, PAIR);
    let l = live("cur-value-1", Some("prev-value-1"));
    assert_eq!(
        drift(&s, "JWT=cur-value-1\nJWT_PREVIOUS=prev-value-1\n", &l),
        None
    );
    let why = drift(&s, "JWT=cur-value-1\nJWT_PREVIOUS=hand-typed\n", &l).unwrap();
    assert!(why.contains(".env JWT_PREVIOUS"), "{why}");
    assert!(
        why.contains(Fingerprint::of(b"hand-typed").as_str()),
        "{why}"
    );
    assert!(
        why.contains(Fingerprint::of(b"prev-value-1").as_str()),
        "{why}"
    );
    assert!(
        !why.contains("hand-typed") && !why.contains("prev-value-1"),
        "{why}"
    );
}

#[test]
fn an_emptied_or_removed_previous_during_an_overlap_is_drift() {
    let s = spec(OVERLAP, PAIR);
    let l = live("cur-value-1", Some("prev-value-1"));
    for file in ["JWT=cur-value-1\nJWT_PREVIOUS=\n", "JWT=cur-value-1\n"] {
        let why = drift(&s, file, &l).expect(file);
        assert!(why.contains("emptied or removed"), "{why}");
    }
}

#[test]
fn a_previous_set_by_hand_when_the_store_has_none_is_drift() {
    // After `rotor retire`: the place is empty, and must stay so.
    let s = spec(OVERLAP, PAIR);
    let l = live("cur-value-1", None);
    assert_eq!(drift(&s, "JWT=cur-value-1\nJWT_PREVIOUS=\n", &l), None);
    let why = drift(&s, "JWT=cur-value-1\nJWT_PREVIOUS=sneaked-in\n", &l).unwrap();
    assert!(why.contains("no previous version"), "{why}");
}

#[test]
fn without_overlap_a_live_previous_may_be_absent_from_the_targets() {
    // A cutover rotation writes no previous value; a rollback writes the
    // demoted one, which stays live until retired.
    let s = spec(CUTOVER, LIST);
    let l = live("cur-value-1", Some("prev-value-1"));
    assert_eq!(drift(&s, "JWT=cur-value-1\n", &l), None);
    assert_eq!(drift(&s, "JWT=cur-value-1,prev-value-1\n", &l), None);
    assert!(drift(&s, "JWT=cur-value-1,other\n", &l).is_some());
}

#[test]
fn a_list_checks_its_second_key_and_refuses_keys_after_it() {
    let s = spec(OVERLAP, LIST);
    let l = live("cur-value-1", Some("prev-value-1"));
    assert_eq!(drift(&s, "JWT=cur-value-1,prev-value-1\n", &l), None);
    let why = drift(&s, "JWT=cur-value-1,other-key\n", &l).unwrap();
    assert!(why.contains(".env JWT (second key)"), "{why}");
    assert!(drift(&s, "JWT=cur-value-1\n", &l).is_some());
    let why = drift(&s, "JWT=cur-value-1,prev-value-1,older-key\n", &l).unwrap();
    assert!(why.contains("1 more key"), "{why}");
    let l = live("cur-value-1", None);
    assert_eq!(drift(&s, "JWT=cur-value-1\n", &l), None);
    assert!(drift(&s, "JWT=cur-value-1,revived\n", &l).is_some());
}

#[test]
fn a_pgbouncer_line_of_the_old_login_is_compared_when_the_store_has_it() {
    let spec = spec(CUTOVER, "");
    let t = TargetSpec::Pgbouncer(PgbouncerTarget {
        path: PathBuf::from("userlist.txt"),
        mode: 0o640,
        users: vec!["app_blue".into(), "app_green".into()],
        admin_console_env: None,
    });
    let t = target::of(&t);
    let l = Live {
        pending: None,
        current: Some(version(3, "green-pw", Stage::Current, Some("app_green"))),
        previous: Some(version(2, "blue-pw", Stage::Previous, Some("app_blue"))),
    };
    let good = b"\"app_blue\" \"blue-pw\"\n\"app_green\" \"green-pw\"\n";
    assert_eq!(previous_drift(&spec, t, &text(good), &l).unwrap(), None);
    let bad = b"\"app_blue\" \"typed-over\"\n\"app_green\" \"green-pw\"\n";
    let why = previous_drift(&spec, t, &text(bad), &l).unwrap().unwrap();
    assert!(why.contains("app_blue"), "{why}");
    assert!(
        why.contains(Fingerprint::of(b"typed-over").as_str()),
        "{why}"
    );
    // A line rotor never wrote (the old login was adopted from elsewhere).
    let absent = b"\"app_green\" \"green-pw\"\n";
    assert_eq!(previous_drift(&spec, t, &text(absent), &l).unwrap(), None);
}

#[test]
fn a_url_holds_no_previous_to_compare() {
    let s = spec(CUTOVER, "form = \"url\"\n");
    let l = live("cur-value-1", Some("prev-value-1"));
    assert_eq!(drift(&s, "JWT=postgres://u:cur-value-1@h/db\n", &l), None);
}
