//! Several rotor processes at once on one inventory: different secrets in one
//! env file lose no update; the same secret never rotates twice from a stale
//! starting point; a run in progress shows as running and cannot be rolled
//! back from under its process.

mod common;

use std::process::Child;

use common::{wait_for_file, Harness};
use rotor::secret::Fingerprint;
use rotor_testkit::inventory::overlapping;

fn inventory(secrets: usize) -> String {
    rotor_testkit::inventory::inventory(&overlapping(secrets))
}

/// One overlap secret `s0` whose restart hook is `argv`.
fn restarting(argv: &[&str]) -> String {
    let s0 = overlapping(1).remove(0).restart(argv);
    rotor_testkit::inventory::inventory(&[s0])
}

fn spawn(h: &Harness, args: &[&str]) -> Child {
    common::spawn_rotor(h, args)
}

fn finish(h: &mut Harness, child: Child, what: &str) -> i32 {
    let out = child.wait_with_output().expect("wait");
    h.learn_now();
    h.leaks
        .check_bytes(&format!("stdout of {what}"), &out.stdout);
    h.leaks
        .check_bytes(&format!("stderr of {what}"), &out.stderr);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 3,
        "{what}: exit {code}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    code
}

/// Every secret's value in .env has the fingerprint `status` reports, and
/// its previous value the previous fingerprint.
fn files_agree_with_store(h: &mut Harness, n: usize) {
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    for i in 0..n {
        let row = &status[i];
        let cur = h.env_var(".env", &format!("S{i}")).expect("value");
        assert_eq!(
            row["fingerprint"],
            Fingerprint::of(cur.as_bytes()).as_str(),
            "s{i} current"
        );
        let prev = h
            .env_var(".env", &format!("S{i}_PREVIOUS"))
            .expect("previous");
        assert_eq!(
            row["previous"]["fingerprint"],
            Fingerprint::of(prev.as_bytes()).as_str(),
            "s{i} previous"
        );
        assert_eq!(row["state"], "current");
    }
}

#[test]
fn eight_processes_on_eight_secrets_in_one_file() {
    let n = 8;
    let env: String = (0..n)
        .map(|i| format!("S{i}=initial-value-{i:04}-abcdef\n"))
        .collect();
    let mut h = Harness::new(&inventory(n), &[(".env", &env)]);
    let vars: Vec<String> = (0..n)
        .flat_map(|i| [format!("S{i}"), format!("S{i}_PREVIOUS")])
        .collect();
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
    h.manage(".env", &vars);
    h.rotor(&["init"]).expect_code(0);
    for round in 0..3 {
        let children: Vec<Child> = (0..n)
            .map(|i| spawn(&h, &["rotate", &format!("s{i}")]))
            .collect();
        for (i, c) in children.into_iter().enumerate() {
            let code = finish(&mut h, c, &format!("round {round} rotate s{i}"));
            assert_eq!(code, 0, "different secrets never block each other for long");
        }
        files_agree_with_store(&mut h, n);
    }
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    for i in 0..n {
        assert_eq!(status[i]["version"], 4, "adopted v1 + three rotations");
    }
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn eight_processes_on_one_secret_rotate_it_once_each_or_step_aside() {
    let mut h = Harness::new(&inventory(1), &[(".env", "S0=initial-value-0000-abcdef\n")]);
    h.manage(".env", &["S0", "S0_PREVIOUS"]);
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["rotate", "s0"]).expect_code(0);
    let children: Vec<Child> = (0..8).map(|_| spawn(&h, &["rotate", "s0"])).collect();
    let mut wins = 0;
    for (i, c) in children.into_iter().enumerate() {
        if finish(&mut h, c, &format!("racer {i}")) == 0 {
            wins += 1;
        }
    }
    assert!(wins >= 1, "at least one racer rotates");
    let hist = h.rotor(&["history", "s0", "--json"]).expect_code(0).json();
    let versions = hist["versions"].as_array().expect("versions");
    let count = |stage: &str| versions.iter().filter(|v| v["stage"] == stage).count();
    assert_eq!(count("current"), 1, "exactly one current: {versions:?}");
    assert_eq!(count("previous"), 1, "exactly one previous");
    assert_eq!(count("pending"), 0);
    assert_eq!(
        versions.len(),
        2 + wins,
        "one new version per winning racer"
    );
    files_agree_with_store(&mut h, 1);
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn a_run_in_progress_is_running_not_interrupted() {
    let inv = restarting(&["sh", "-c", "touch restarting; sleep 2"]);
    let mut h = Harness::new(&inv, &[(".env", "S0=initial-value-0000-abcdef\n")]);
    h.manage(".env", &["S0", "S0_PREVIOUS"]);
    h.rotor(&["init"]).expect_code(0);
    let child = spawn(&h, &["rotate", "s0"]);
    wait_for_file(&h, "restarting");
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status[0]["state"], "running");
    assert_eq!(status[0]["open_run"]["running"], true);
    h.rotor(&["rollback", "s0"])
        .expect_code(3)
        .expect_output("right now");
    h.rotor(&["rotate", "s0"])
        .expect_code(3)
        .expect_output("wait for it to finish");
    assert_eq!(finish(&mut h, child, "the slow rotation"), 0);
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status[0]["state"], "current");
    assert_eq!(status[0]["version"], 2);
    files_agree_with_store(&mut h, 1);
    h.finish();
}

#[test]
fn two_sweeps_started_together_rotate_each_secret_once() {
    // One slow restart shared by every secret makes the two sweeps overlap
    // however the processes happen to be scheduled.
    let n = 4;
    let secrets: Vec<_> = overlapping(n)
        .into_iter()
        .map(|s| s.restart(&["sleep", "1"]))
        .collect();
    let inv = rotor_testkit::inventory::inventory(&secrets);
    let env: String = (0..n)
        .map(|i| format!("S{i}=initial-value-{i:04}-abcdef\n"))
        .collect();
    let mut h = Harness::new(&inv, &[(".env", &env)]);
    let vars: Vec<String> = (0..n)
        .flat_map(|i| [format!("S{i}"), format!("S{i}_PREVIOUS")])
        .collect();
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
    h.manage(".env", &vars);
    h.rotor(&["init"]).expect_code(0);
    for round in 0..2 {
        let a = spawn(&h, &["rotate", "--all", "--json"]);
        let b = spawn(&h, &["rotate", "--all", "--json"]);
        assert_eq!(finish(&mut h, a, "sweep a"), 0, "round {round}");
        assert_eq!(finish(&mut h, b, "sweep b"), 0, "round {round}");
        let status = h.rotor(&["status", "--json"]).expect_code(0).json();
        for i in 0..n {
            assert_eq!(
                status[i]["version"],
                2 + round,
                "round {round}: s{i} rotated exactly once by the two sweeps together"
            );
        }
        files_agree_with_store(&mut h, n);
    }
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn force_unlock_takes_a_live_run_and_its_owner_cannot_promote() {
    let inv = restarting(&["sh", "-c", "touch restarting; sleep 2"]);
    let env = "S0=initial-value-0000-abcdef\n";
    let mut h = Harness::new(&inv, &[(".env", env)]);
    h.manage(".env", &["S0", "S0_PREVIOUS"]);
    h.rotor(&["init"]).expect_code(0);
    let child = spawn(&h, &["rotate", "s0"]);
    wait_for_file(&h, "restarting");
    h.rotor(&["rollback", "s0"]).expect_code(3);
    h.rotor(&["--actor", "oncall", "rollback", "s0", "--force-unlock"])
        .expect_code(0)
        .expect_output("rolled_back");
    assert_eq!(h.project.read_string(".env"), env, "restored byte for byte");
    let out = child.wait_with_output().expect("wait");
    h.leaks
        .check_bytes("stderr of the overridden rotation", &out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("closed by another process"));
    let hist = h.rotor(&["history", "s0", "--json"]).expect_code(0).json();
    let forced = hist["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .find(|e| e["step"] == "force-unlock")
        .expect("the force-unlock is audited");
    assert_eq!(forced["actor"], "oncall");
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status[0]["version"], 1);
    assert!(status[0]["open_run"].is_null());
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}
