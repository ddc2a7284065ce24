//! The fault-injection suite: every strategy × every run kind × every crash
//! point, each recovered both ways (`rotor resume` and `rotor rollback`).
//!
//! The test build of `rotor` has crash points compiled in (the
//! `fault-injection` feature, enabled through this package's
//! dev-dependencies): `ROTOR_FAULT=after:deliver` aborts the process right
//! after that step, like `kill -9`. After the crash and the recovery, every
//! case checks that the store's current (and previous) value is exactly what
//! every target holds, that no run is left open, that no file is
//! half-written, that the verify hook passes, that the audit chain verifies,
//! that nothing leaked, and that the next rotation works.

mod common;

use common::{Harness, Run};
use rotor::secret::Fingerprint;
use rotor_testkit::fault_matrix::Recovery;
use rotor_testkit::inventory::{self, Secret};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Strategy {
    Pair,
    List,
    Cutover,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Rotate,
    Retire,
    Rollback,
}

/// The crash points of each case come from the engine's step enum
/// (`rotor_testkit::fault_matrix`): `mid:replace` kills rotor inside the
/// atomic replace of the first file (temp file written and fsynced, not yet
/// renamed), leaving the temp file, which holds the new value, for the
/// recovery to remove.
fn points(strategy: Strategy, kind: Kind) -> Vec<String> {
    let (run_kind, names): (rotor::store::RunKind, &[&str]) = match kind {
        Kind::Rotate => (rotor::store::RunKind::Rotate, &["api", "web"]),
        Kind::Retire => (rotor::store::RunKind::Retire, &["api", "web"]),
        // `rotor rollback NAME` swaps one secret: one file.
        Kind::Rollback => (rotor::store::RunKind::Rollback, &["api"]),
    };
    rotor_testkit::fault_matrix::crash_points(
        &inventory(strategy),
        &[("verify.sh", VERIFY)],
        run_kind,
        names,
    )
}

/// Two secrets in two files sharing hooks, so one run writes two files.
fn inventory(strategy: Strategy) -> String {
    let secrets: Vec<Secret> = [("api", "api.env", "API_KEY"), ("web", "web.env", "WEB_KEY")]
        .into_iter()
        .map(|(name, file, var)| {
            let secret = Secret::new(name).random(24);
            let secret = match strategy {
                Strategy::Pair => secret
                    .overlap("1d")
                    .dotenv(file, var)
                    .previous_var(&format!("{var}_PREVIOUS")),
                Strategy::List => secret
                    .overlap("1d")
                    .dotenv(file, var)
                    .target_line("format = \"list\""),
                Strategy::Cutover => secret.cutover().dotenv(file, var),
            };
            secret.fault_hooks("10s")
        })
        .collect();
    inventory::inventory(&secrets)
}

/// The verify hook: each key assigned exactly once in its file.
const VERIFY: &str = "test $(grep -cE '^(export )?API_KEY=' api.env) -eq 1 && test $(grep -cE '^(export )?WEB_KEY=' web.env) -eq 1\n";

const API_ENV: &str = "# api service\nAPI_KEY=api-initial-value-000001\nLOG_LEVEL=info\n";
const WEB_ENV: &str = "export WEB_KEY='web-initial-value-000002'\r\nPORT=3000\r\n";

fn vars(strategy: Strategy) -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    match strategy {
        Strategy::Pair => vec![
            ("api.env", "API_KEY", Some("API_KEY_PREVIOUS")),
            ("web.env", "WEB_KEY", Some("WEB_KEY_PREVIOUS")),
        ],
        _ => vec![("api.env", "API_KEY", None), ("web.env", "WEB_KEY", None)],
    }
}

fn setup(strategy: Strategy, kind: Kind) -> Harness {
    let mut h = Harness::new(
        &inventory(strategy),
        &[
            ("api.env", API_ENV),
            ("web.env", WEB_ENV),
            ("verify.sh", VERIFY),
        ],
    );
    h.manage("api.env", &["API_KEY", "API_KEY_PREVIOUS"]);
    h.manage("web.env", &["WEB_KEY", "WEB_KEY_PREVIOUS"]);
    h.rotor(&["init"]).expect_code(0);
    if kind != Kind::Rotate {
        // retire and rollback act on a completed overlap rotation
        h.rotor(&["rotate", "--all"]).expect_code(0);
    }
    h
}

/// The (current, previous) values a target holds.
fn held(h: &Harness, file: &str, var: &str, prev_var: Option<&str>) -> (String, Option<String>) {
    let raw = h.env_var(file, var).unwrap_or_default();
    match prev_var {
        Some(pv) => (raw, h.env_var(file, pv).filter(|v| !v.is_empty())),
        None => {
            let mut parts = raw.split(',');
            let cur = parts.next().unwrap_or_default().to_owned();
            (cur, parts.next().map(str::to_owned))
        }
    }
}

fn check_consistent(h: &mut Harness, strategy: Strategy, case: &str) {
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    for (i, (file, var, prev_var)) in vars(strategy).into_iter().enumerate() {
        let row = &status[i];
        assert!(
            row["open_run"].is_null(),
            "{case}: a run is still open: {row}"
        );
        assert_eq!(row["state"], "current", "{case}");
        let (cur, prev) = held(h, file, var, prev_var);
        assert_eq!(
            row["fingerprint"],
            Fingerprint::of(cur.as_bytes()).as_str(),
            "{case}: {file} {var} holds the store's current"
        );
        let store_prev = row["previous"]["fingerprint"].as_str().map(str::to_owned);
        let file_prev = prev.map(|p| Fingerprint::of(p.as_bytes()).to_string());
        assert_eq!(
            store_prev, file_prev,
            "{case}: {file} previous matches the store"
        );
    }
    // no half-written file: both parse, no temp file is left behind
    for f in ["api.env", "web.env"] {
        dotenvy::from_path_iter(h.project.join(f))
            .map(|it| it.count())
            .unwrap_or_else(|e| panic!("{case}: {f} does not parse: {e}"));
    }
    let leftovers = temp_files(h);
    assert!(
        leftovers.is_empty(),
        "{case}: temp files left: {leftovers:?}"
    );
    // the verify hook passes
    let ok = std::process::Command::new("sh")
        .arg("verify.sh")
        .current_dir(h.project.path())
        .status()
        .expect("verify")
        .success();
    assert!(ok, "{case}: verify hook fails");
    h.rotor(&["audit", "verify"]).expect_code(0);
}

/// The rotor temp files in the project directory.
fn temp_files(h: &Harness) -> Vec<String> {
    std::fs::read_dir(h.project.path())
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("rotor-tmp"))
        .collect()
}

fn crash(h: &mut Harness, args: &[&str], point: &str, case: &str) -> Run {
    let run = h.rotor_env(args, &[("ROTOR_FAULT", point)]);
    assert!(
        run.stderr.contains("fault injected") && run.code == -1,
        "{case}: expected an abort at {point} (is the fault-injection feature compiled in?), got exit {}\n{}",
        run.code,
        run.stderr
    );
    run
}

fn run_case(strategy: Strategy, kind: Kind, point: &str, recovery: Recovery) {
    let case = format!("{strategy:?} {kind:?} crash {point} then {recovery:?}");
    let mut h = setup(strategy, kind);
    let before: Vec<(String, Option<String>)> = vars(strategy)
        .into_iter()
        .map(|(f, v, p)| held(&h, f, v, p))
        .collect();
    let args: Vec<&str> = match kind {
        Kind::Rotate => vec!["rotate", "--all"],
        Kind::Retire => vec!["retire", "api", "web"],
        Kind::Rollback => vec!["rollback", "api"],
    };
    crash(&mut h, &args, point, &case);
    let completed = point == "after:promote";
    // Killed inside the atomic replace: the temp file is there, and it is
    // the recovery (not a `status` before it) that must remove it.
    let in_replace = point == "mid:replace";
    if in_replace {
        let left = temp_files(&h);
        assert!(!left.is_empty(), "{case}: the kill left no temp file");
        for name in &left {
            assert!(
                name.starts_with("api.env.") || name.starts_with("web.env."),
                "{case}: {name} is not covered by its file's ignore rule"
            );
        }
    }
    if !completed && !in_replace {
        let status = h.rotor(&["status", "--json"]).expect_code(0).json();
        assert_eq!(status[0]["state"], "interrupted", "{case}: {status}");
        // a new rotation is refused with the advice
        h.rotor(&["rotate", "api"])
            .expect_code(3)
            .expect_output("rotor resume api");
    }
    let recovered = match recovery {
        Recovery::Resume => h.rotor(&["resume"]),
        Recovery::Rollback => h.rotor(&["rollback", "api"]),
    };
    // After a completed cutover rotation there is no previous to swap
    // back, after a completed retirement no previous left either.
    let nothing = completed
        && (recovery == Recovery::Resume
            || kind == Kind::Retire
            || (strategy == Strategy::Cutover && kind == Kind::Rotate));
    recovery.check(&recovered, nothing);
    if in_replace {
        recovered.expect_output("a temp file left by a rotor process that died");
    }
    // (check_consistent asserts that no temp file survived the recovery)
    check_consistent(&mut h, strategy, &case);
    if !completed && recovery == Recovery::Rollback {
        let after: Vec<(String, Option<String>)> = vars(strategy)
            .into_iter()
            .map(|(f, v, p)| held(&h, f, v, p))
            .collect();
        assert!(
            before == after,
            "{case}: rollback restores the values from before the run"
        );
    }
    // and the secrets still rotate
    h.rotor(&["rotate", "--all"]).expect_code(0);
    check_consistent(&mut h, strategy, &case);
    h.finish();
}

fn matrix(strategy: Strategy, kind: Kind) -> usize {
    let points = points(strategy, kind);
    let mut n = 0;
    for point in &points {
        for recovery in [Recovery::Resume, Recovery::Rollback] {
            run_case(strategy, kind, point, recovery);
            n += 1;
        }
    }
    n
}

#[test]
fn rotate_pair() {
    assert_eq!(matrix(Strategy::Pair, Kind::Rotate), 18);
}

#[test]
fn rotate_list() {
    assert_eq!(matrix(Strategy::List, Kind::Rotate), 18);
}

#[test]
fn rotate_cutover() {
    assert_eq!(matrix(Strategy::Cutover, Kind::Rotate), 18);
}

#[test]
fn retire_pair() {
    assert_eq!(matrix(Strategy::Pair, Kind::Retire), 12);
}

#[test]
fn retire_list() {
    assert_eq!(matrix(Strategy::List, Kind::Retire), 12);
}

#[test]
fn rollback_pair() {
    assert_eq!(matrix(Strategy::Pair, Kind::Rollback), 10);
}

#[test]
fn rollback_list() {
    assert_eq!(matrix(Strategy::List, Kind::Rollback), 10);
}

/// A pid that is certainly dead: a child that was reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

#[test]
fn crash_leftover_temp_files_are_removed() {
    let mut h = setup(Strategy::Pair, Kind::Rotate);
    let dead = dead_pid();
    let live = std::process::id();
    let plant = |h: &Harness, name: &str| {
        h.project
            .write(name, "API_KEY=a-secret-a-dead-rotor-was-writing\n");
        name.to_owned()
    };
    // `status` removes those of dead owners beside managed files ...
    let stale = [
        plant(&h, &format!("api.env.rotor-tmp.{dead}.0")),
        plant(&h, &format!(".web.env.rotor-tmp.{dead}.4")), // older rotors' naming
    ];
    // ... and leaves a live owner's, and files that are not managed files'
    let kept = [
        plant(&h, &format!("api.env.rotor-tmp.{live}.0")),
        plant(&h, &format!("notes.txt.rotor-tmp.{dead}.0")),
    ];
    // something with a temp name that rotor did not make is reported
    let odd = format!("web.env.rotor-tmp.{dead}.7");
    std::fs::create_dir(h.project.join(&odd)).expect("mkdir");
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    for name in &stale {
        assert!(!h.project.join(name).exists(), "status left {name}");
    }
    for name in &kept {
        assert!(h.project.join(name).exists(), "status removed {name}");
    }
    let reported = status[1]["stale_temp_files"].as_array().expect("array");
    assert_eq!(reported.len(), 1, "{status}");
    assert!(reported[0]["path"]
        .as_str()
        .unwrap_or_default()
        .ends_with(&odd));
    assert!(status[0]["stale_temp_files"]
        .as_array()
        .expect("array")
        .is_empty());
    h.rotor(&["status"])
        .expect_code(0)
        .expect_output(&format!("{odd} (a temp file left beside"));
    std::fs::remove_dir(h.project.join(&odd)).expect("rmdir");

    // `resume` of an interrupted run removes them too
    crash(&mut h, &["rotate", "--all"], "after:deliver", "resume");
    let stale = plant(&h, &format!("web.env.rotor-tmp.{dead}.1"));
    h.rotor(&["resume"])
        .expect_code(0)
        .expect_output("a temp file left by a rotor process that died");
    assert!(!h.project.join(&stale).exists(), "resume left {stale}");
    assert!(
        h.project.join(&kept[0]).exists(),
        "resume removed a live owner's"
    );
    // and `rollback`, and every `rotate`
    crash(&mut h, &["rotate", "--all"], "after:deliver", "rollback");
    let stale = plant(&h, &format!("api.env.rotor-tmp.{dead}.2"));
    h.rotor(&["rollback", "api"]).expect_code(0);
    assert!(!h.project.join(&stale).exists(), "rollback left {stale}");
    let stale = plant(&h, &format!("api.env.rotor-tmp.{dead}.3"));
    h.rotor(&["rotate", "--all"]).expect_code(0);
    assert!(!h.project.join(&stale).exists(), "rotate left {stale}");
    assert!(
        h.project.join(&kept[0]).exists(),
        "rotate removed a live owner's"
    );
    for name in &kept {
        std::fs::remove_file(h.project.join(name)).expect("remove");
    }
    check_consistent(&mut h, Strategy::Pair, "after the sweeps");
    h.finish();
}
