//! Redis steps in the fault-injection suite: a `dual-password` rotation of
//! an ACL user on a primary and its replica (real throwaway `redis-server`s)
//! crashes at every step, and between the two nodes of apply and of retire
//! (`mid:apply-nodes`, `mid:retire-nodes`), and is recovered both ways
//! (`rotor resume`, `rotor rollback`). Then the replica goes down right
//! after the crash: recovery tried while it is down fails cleanly (the run
//! stays open, or the rotation stands with the old password due for
//! `rotor retire`), the credential the env files hold still logs in on the
//! primary, and the same recovery succeeds once the replica is back (it
//! reloads its ACL file).
//!
//! After each recovery: no run is open; both env files hold the store's
//! current credential and it logs in on both nodes (through `redis-cli`, as
//! the verify hook); every other version the store knows is refused on both
//! nodes; each node's ACL file on disk holds exactly the hash of the current
//! password; `rotor verify` finds no drift; the audit chain verifies;
//! nothing leaked (every value the store ever generated, and its hash, is
//! learned); and the next rotation works.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::process::{Command, Stdio};

use common::{Harness, Run};
use rotor::secret::Fingerprint;
use rotor::store::{Stage, Store};
use rotor_testkit::fault_matrix::Recovery;
use rotor_testkit::inventory::{self, Secret};
use rotor_testkit::Redis;

const SECRET: &str = "redis_app";
const INITIAL: &str = "initial-redis-password-5e6f7a8b9c0d";
const ADMIN_ENV: &str = "ROTOR_REDIS_ADMIN_URL";

/// A primary and its replica. ACLs are not replicated: rotor tells each.
struct Nodes {
    primary: Redis,
    replica: Redis,
}

impl Nodes {
    fn start() -> Nodes {
        let primary = Redis::start();
        let replica = Redis::start_replica_of(&primary);
        Nodes { primary, replica }
    }

    fn both(&self) -> [(&'static str, &Redis); 2] {
        [("primary", &self.primary), ("replica", &self.replica)]
    }
}

/// The password of the ACL user `user` on both nodes, in the URLs the app
/// writes and reads through and the worker's, with the fault hooks (tried
/// once).
fn inventory(user: &str, nodes: &Nodes) -> String {
    let admin = format!("admin_url_env = \"{ADMIN_ENV}\"");
    let nodes = [
        format!("redis://127.0.0.1:{}", nodes.primary.port()),
        format!("redis://127.0.0.1:{}", nodes.replica.port()),
    ];
    inventory::inventory(&[Secret::new(SECRET)
        .redis_dual_password(&[&admin], user, &[nodes[0].as_str(), nodes[1].as_str()])
        .authority_lines(&["retire_delay = \"0s\""])
        .dotenv_url("app.env", "REDIS_URL")
        .dotenv_url("app.env", "REDIS_REPLICA_URL")
        .dotenv_url("worker.env", "REDIS_URL")
        .fault_hooks("20s")
        .hook_line("retries = 1")])
}

/// The verify hook: the application writes through `REDIS_URL` and reads
/// through `REDIS_REPLICA_URL`, the worker writes through its `REDIS_URL`;
/// each must log in and answer `PONG`. The password goes to `redis-cli`
/// through `REDISCLI_AUTH`, never on a command line (`redis-cli` exits 0
/// after a refused AUTH, so the reply is what counts).
const VERIFY: &str = r#"set -e
for place in app.env:REDIS_URL app.env:REDIS_REPLICA_URL worker.env:REDIS_URL; do
  file=${place%%:*}
  var=${place#*:}
  url=$(sed -n "s/^$var=//p" "$file")
  rest=${url#redis://}
  userinfo=${rest%@*}
  hostport=${rest##*@}
  hostport=${hostport%%/*}
  out=$(REDISCLI_AUTH="${userinfo#*:}" redis-cli --no-auth-warning --user "${userinfo%%:*}" \
        -h "${hostport%%:*}" -p "${hostport##*:}" PING 2>&1) || true
  if [ "$out" != PONG ]; then
    echo "$place: $out" >&2
    exit 1
  fi
done
"#;

/// The lowercase hex SHA-256 of `value` (what `#<hash>` in an ACL holds),
/// through coreutils' `sha256sum` fed on stdin.
fn sha256_hex(value: &str) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run sha256sum");
    child
        .stdin
        .take()
        .expect("sha256sum's stdin")
        .write_all(value.as_bytes())
        .expect("feed sha256sum");
    let out = child.wait_with_output().expect("sha256sum's output");
    assert!(out.status.success(), "sha256sum failed");
    String::from_utf8(out.stdout)
        .expect("utf-8 from sha256sum")
        .split_whitespace()
        .next()
        .expect("a hash from sha256sum")
        .to_owned()
}

/// The password hashes `user` has in the node's ACL file on disk (what a
/// restart would load), and whether the user is `on` there.
fn hashes_on_disk(r: &Redis, user: &str) -> (bool, BTreeSet<String>) {
    let path = r
        .aclfile_path()
        .expect("the throwaway servers have an ACL file");
    let text = std::fs::read_to_string(&path).expect("read the ACL file");
    let line = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(user))
        .unwrap_or_else(|| panic!("user {user} is not in {}", path.display()));
    let on = line.split_whitespace().any(|t| t == "on");
    let hashes = line
        .split_whitespace()
        .filter_map(|t| t.strip_prefix('#'))
        .map(str::to_owned)
        .collect();
    (on, hashes)
}

/// Versions as `number:stage`, never their values (for failure messages).
fn stages(versions: &[(u32, Stage, String)]) -> String {
    versions
        .iter()
        .map(|(n, stage, _)| format!("{n}:{}", stage.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Case {
    h: Harness,
    admin: String,
    name: String,
    user: String,
    /// value → its SHA-256, for every value learned so far.
    hashes: HashMap<String, String>,
}

impl Case {
    /// A fresh ACL user (`c<n>_app`, password [`INITIAL`], saved) on both
    /// nodes, and a project whose env file names it on each node.
    fn new(nodes: &Nodes, n: usize, name: String) -> Case {
        let user = format!("c{n}_app");
        for (_, r) in nodes.both() {
            r.cmd(&[
                "ACL",
                "SETUSER",
                &user,
                "on",
                &format!(">{INITIAL}"),
                "~*",
                "+@read",
                "+@write",
                "+@connection",
            ])
            .expect("ACL SETUSER");
            r.cmd(&["ACL", "SAVE"]).expect("ACL SAVE");
        }
        let url = |r: &Redis| format!("redis://{user}:{INITIAL}@127.0.0.1:{}/0", r.port());
        let mut h = Harness::new(
            &inventory(&user, nodes),
            &[
                (
                    "app.env",
                    &format!(
                        "# app\nREDIS_URL={}\nREDIS_REPLICA_URL={}\nLOG=info\n",
                        url(&nodes.primary),
                        url(&nodes.replica)
                    ),
                ),
                (
                    "worker.env",
                    &format!("REDIS_URL={}\nQUEUE=jobs\n", url(&nodes.primary)),
                ),
                ("verify.sh", VERIFY),
            ],
        );
        h.manage("app.env", &["REDIS_URL", "REDIS_REPLICA_URL"]);
        h.manage("worker.env", &["REDIS_URL"]);
        h.leaks.learn(nodes.primary.admin_password());
        let mut c = Case {
            h,
            admin: nodes.primary.admin_url(),
            name,
            user,
            hashes: HashMap::new(),
        };
        c.learn_value(INITIAL);
        c.rotor(&["init"]).expect_code(0);
        c
    }

    fn learn_value(&mut self, value: &str) {
        if !self.hashes.contains_key(value) {
            let hash = sha256_hex(value);
            self.h.leaks.learn(value);
            self.h.leaks.learn(&hash);
            self.hashes.insert(value.to_owned(), hash);
        }
    }

    fn hash(&mut self, value: &str) -> String {
        self.learn_value(value);
        self.hashes[value].clone()
    }

    /// Every version the store holds: number, stage, value. Values that
    /// never reached a file (a run that crashed before deliver) are learned
    /// here too.
    fn versions(&mut self) -> Vec<(u32, Stage, String)> {
        let dir = self.h.project.join(".rotor");
        if !Store::exists(&dir) {
            return Vec::new();
        }
        let store = Store::open(&dir).expect("open the store");
        let out: Vec<(u32, Stage, String)> = store
            .versions(SECRET)
            .expect("the secret's versions")
            .into_iter()
            .map(|v| {
                let value = store.value(SECRET, v.number).expect("unseal a version");
                (v.number, v.stage, value.expose().to_owned())
            })
            .collect();
        drop(store);
        for (_, _, v) in &out {
            self.learn_value(v);
        }
        out
    }

    /// `rotor ARGS` with the admin URL; its output is scanned again once
    /// the values the store now holds are learned.
    fn rotor_with(&mut self, args: &[&str], fault: Option<&str>) -> Run {
        let admin = self.admin.clone();
        let mut env = vec![(ADMIN_ENV, admin.as_str())];
        if let Some(point) = fault {
            env.push(("ROTOR_FAULT", point));
        }
        let run = self.h.rotor_env(args, &env);
        self.versions();
        let label = format!("`rotor {}`", args.join(" "));
        self.h
            .leaks
            .check_text(&format!("stdout of {label}"), &run.stdout);
        self.h
            .leaks
            .check_text(&format!("stderr of {label}"), &run.stderr);
        run
    }

    fn rotor(&mut self, args: &[&str]) -> Run {
        self.rotor_with(args, None)
    }

    fn crash(&mut self, point: &str) {
        let run = self.rotor_with(&["rotate", SECRET], Some(point));
        assert!(
            run.stderr.contains("fault injected") && run.code == -1,
            "{}: expected an abort at {point}, got exit {}\n{}{}",
            self.name,
            run.code,
            run.stdout,
            run.stderr
        );
    }

    /// Right after a crash between the two nodes, they disagree as that
    /// point says: the primary was changed, the replica not yet.
    fn check_between_nodes(&mut self, nodes: &Nodes, point: &str) {
        let changed = match point {
            "mid:apply-nodes" => true,
            "mid:retire-nodes" => false,
            _ => return,
        };
        let case = self.name.clone();
        let versions = self.versions();
        let find = |stage: Stage| versions.iter().find(|v| v.1 == stage).map(|v| v.2.clone());
        // apply adds the pending password; retire removes the old one: the
        // current one in a rotation, the previous one in `rotor retire`.
        let value = if changed {
            find(Stage::Pending)
        } else {
            find(Stage::Previous).or_else(|| find(Stage::Current))
        }
        .unwrap_or_else(|| panic!("{case}: no version for {point}: {}", stages(&versions)));
        let user = self.user.clone();
        assert_eq!(
            nodes.primary.auth_ok(&user, &value),
            changed,
            "{case}: the primary"
        );
        assert_eq!(
            nodes.replica.auth_ok(&user, &value),
            !changed,
            "{case}: the replica"
        );
    }

    fn status(&mut self) -> serde_json::Value {
        let status = self.rotor(&["status", "--json"]).json();
        status[0].clone()
    }

    /// (user, password) in `file`'s `var`.
    fn credential_in(&self, file: &str, var: &str) -> (String, String) {
        let url = self.h.env_var(file, var).expect("the variable is set");
        let rest = url.split_once("://").expect("a URL").1;
        let userinfo = rest.rsplit_once('@').expect("userinfo").0;
        let (user, password) = userinfo.split_once(':').expect("a password");
        (user.to_owned(), password.to_owned())
    }

    /// (user, password) the application writes with.
    fn credential(&self) -> (String, String) {
        self.credential_in("app.env", "REDIS_URL")
    }

    /// Both env files, as they are on disk.
    fn files(&self) -> (Vec<u8>, Vec<u8>) {
        (
            self.h.project.read("app.env"),
            self.h.project.read("worker.env"),
        )
    }

    /// The state after a recovery: see the module doc.
    fn check(&mut self, nodes: &Nodes) {
        let case = self.name.clone();
        let row = {
            let run = self.rotor(&["status", "--json"]);
            run.expect_code(0);
            run.json()[0].clone()
        };
        assert!(row["open_run"].is_null(), "{case}: a run is open: {row}");
        assert_eq!(row["state"], "current", "{case}: {row}");
        assert!(row["previous"].is_null(), "{case}: {row}");
        assert!(row["drift"].is_null(), "{case}: {row}");
        let (user, password) = self.credential();
        assert_eq!(user, self.user, "{case}");
        for (file, var) in [
            ("app.env", "REDIS_REPLICA_URL"),
            ("worker.env", "REDIS_URL"),
        ] {
            assert_eq!(
                self.credential_in(file, var),
                (user.clone(), password.clone()),
                "{case}: {file}'s {var} holds the same credential"
            );
        }
        assert_eq!(
            row["fingerprint"],
            Fingerprint::of(password.as_bytes()).as_str(),
            "{case}: the file holds the store's current"
        );
        let versions = self.versions();
        let current: Vec<&(u32, Stage, String)> =
            versions.iter().filter(|v| v.1 == Stage::Current).collect();
        assert_eq!(current.len(), 1, "{case}: {}", stages(&versions));
        assert_eq!(current[0].2, password, "{case}: the store's current");
        let others: Vec<(u32, Stage, String)> = versions
            .iter()
            .filter(|v| v.1 != Stage::Current)
            .cloned()
            .collect();
        assert!(
            others
                .iter()
                .all(|v| matches!(v.1, Stage::Retired | Stage::Failed)),
            "{case}: {}",
            stages(&versions)
        );
        let expected: BTreeSet<String> = [self.hash(&password)].into();
        for (which, r) in nodes.both() {
            assert!(
                r.auth_ok(&user, &password),
                "{case}: the current password is refused on the {which}"
            );
            for (n, stage, value) in &others {
                assert!(
                    !r.auth_ok(&user, value),
                    "{case}: version {n} ({stage:?}) still logs in on the {which}"
                );
            }
            assert_eq!(
                hashes_on_disk(r, &user),
                (true, expected.clone()),
                "{case}: the {which}'s ACL file"
            );
        }
        let ok = Command::new("sh")
            .arg("verify.sh")
            .current_dir(self.h.project.path())
            .status()
            .expect("run verify.sh")
            .success();
        assert!(ok, "{case}: the verify hook fails");
        self.rotor(&["verify"]).expect_code(0);
        self.rotor(&["audit", "verify"]).expect_code(0);
    }
}

fn run_case(nodes: &Nodes, n: usize, point: &str, recovery: Recovery) {
    let name = format!("crash {point} then {recovery:?}");
    let mut c = Case::new(nodes, n, name.clone());
    let before = c.credential();
    c.crash(point);
    c.check_between_nodes(nodes, point);
    let completed = point == "after:promote";
    if !completed {
        let row = c.status();
        assert_eq!(row["state"], "interrupted", "{name}: {row}");
    }
    let recovered = c.rotor(&recovery.args(SECRET));
    recovery.check(&recovered, completed);
    c.check(nodes);
    let after = c.credential();
    if !completed && recovery == Recovery::Rollback {
        assert_eq!(
            after, before,
            "{name}: rollback brings back the old password"
        );
    } else {
        assert_ne!(after, before, "{name}: the rotation went through");
    }
    c.rotor(&["rotate", SECRET]).expect_code(0);
    c.check(nodes);
    c.h.finish();
}

fn matrix(recovery: Recovery, first_case: usize) -> usize {
    let nodes = Nodes::start();
    // Every crash point of a dual-password rotation over two nodes, from
    // the engine's step enum.
    let points = rotor_testkit::fault_matrix::crash_points(
        &inventory("app", &nodes),
        &[],
        rotor::store::RunKind::Rotate,
        &[SECRET],
    );
    let mut n = 0;
    for point in &points {
        run_case(&nodes, first_case + n, point, recovery);
        n += 1;
    }
    for (which, r) in nodes.both() {
        assert!(
            !r.log_contents().contains(INITIAL),
            "a plaintext password reached the {which}'s log"
        );
    }
    n
}

#[test]
fn every_step_then_resume() {
    assert_eq!(matrix(Recovery::Resume, 0), 12);
}

#[test]
fn every_step_then_rollback() {
    assert_eq!(matrix(Recovery::Rollback, 100), 12);
}

/// What recovery does while the replica is down.
#[derive(Debug, PartialEq)]
enum WhileDown {
    /// Nothing needed the replica: done.
    Done,
    /// Resuming before apply: apply fails on the replica, the primary is
    /// put back, so nothing changed: the run fails and closes (exit 1), the
    /// old password stays the only one.
    FailedClean,
    /// It needed the replica and could not take the new password back
    /// either: exit 3, the run stays open.
    StaysOpen,
    /// Only removing the old password was left: the rotation stands (exit
    /// 0), the old password stays `previous` until `rotor retire`.
    RetirePending,
}

fn while_down(point: &str, recovery: Recovery) -> WhileDown {
    match (point, recovery) {
        // Rollback before apply began gives the authority nothing to take back.
        ("after:generate", Recovery::Rollback) => WhileDown::Done,
        ("after:generate", Recovery::Resume) => WhileDown::FailedClean,
        // Resume after verify only retires: it fails on the replica and is
        // put back on the primary.
        ("after:verify" | "mid:retire-nodes", Recovery::Resume) => WhileDown::RetirePending,
        _ => WhileDown::StaysOpen,
    }
}

/// The replica goes down with the crash at `point`; recovery is tried while
/// it is down, then again once it is back.
fn replica_down(nodes: &mut Nodes, n: usize, point: &str, recovery: Recovery) {
    let name = format!("crash {point}, replica down, then {recovery:?}");
    let mut c = Case::new(nodes, n, name.clone());
    let before = c.credential();
    c.crash(point);
    c.check_between_nodes(nodes, point);
    nodes.replica.stop();
    let files_before = c.files();
    let args = recovery.args(SECRET);
    let down = c.rotor(&args);
    // Whatever happened, consumers (restarted or not) can log in on the
    // primary with what their files hold, also after a restart of it.
    for file in ["app.env", "worker.env"] {
        let (user, password) = c.credential_in(file, "REDIS_URL");
        assert!(
            nodes.primary.auth_ok(&user, &password),
            "{name}: the primary refuses the password {file} holds (recovery exit {})\n{}{}",
            down.code,
            down.stdout,
            down.stderr
        );
        let hash = c.hash(&password);
        assert!(
            hashes_on_disk(&nodes.primary, &user).1.contains(&hash),
            "{name}: the primary's ACL file lacks the password {file} holds"
        );
    }
    let held = c.credential();
    let row = c.status(); // exits 4: it cannot check the replica
    match while_down(point, recovery) {
        WhileDown::Done => {
            down.expect_code(0);
            assert!(row["open_run"].is_null(), "{name}: {row}");
            assert!(c.files() == files_before, "{name}: the env files changed");
        }
        WhileDown::FailedClean => {
            down.expect_code(1)
                .expect_output("Nothing was changed at the authority");
            assert!(row["open_run"].is_null(), "{name}: {row}");
            assert!(c.files() == files_before, "{name}: the env files changed");
            assert_eq!(held, before, "{name}: the old password stays");
        }
        WhileDown::StaysOpen => {
            down.expect_code(3).expect_output("stays open");
            assert_eq!(row["state"], "interrupted", "{name}: {row}");
            if recovery == Recovery::Rollback {
                assert!(
                    c.files() == files_before,
                    "{name}: a failed rollback changed the env files"
                );
            }
        }
        WhileDown::RetirePending => {
            down.expect_code(0)
                .expect_output(&format!("rotor retire {SECRET}"));
            assert!(row["open_run"].is_null(), "{name}: {row}");
            assert!(!row["previous"].is_null(), "{name}: {row}");
            assert_ne!(held, before, "{name}: the new password is delivered");
            assert!(
                nodes.primary.auth_ok(&before.0, &before.1),
                "{name}: the old password, not retired, must still log in on the primary"
            );
            c.rotor(&["rotate", SECRET])
                .expect_code(2)
                .expect_output(&format!("rotor retire {SECRET}` first"));
        }
    }
    nodes.replica.start_again();
    let row = c.status();
    if row["state"] == "interrupted" {
        c.rotor(&args).expect_code(0);
    }
    let row = c.status();
    if !row["previous"].is_null() {
        c.rotor(&["retire", SECRET]).expect_code(0);
    }
    c.check(nodes);
    let after = c.credential();
    if recovery == Recovery::Rollback || while_down(point, recovery) == WhileDown::FailedClean {
        assert_eq!(
            after, before,
            "{name}: rollback (or the failed resume) keeps the old password"
        );
    } else {
        assert_ne!(after, before, "{name}: the rotation went through");
    }
    c.rotor(&["rotate", SECRET]).expect_code(0);
    c.check(nodes);
    c.h.finish();
}

const DOWN_POINTS: &[&str] = &[
    "after:generate",
    "mid:apply-nodes",
    "after:apply",
    "after:deliver",
    "after:verify",
    "mid:retire-nodes",
];

fn down_matrix(recovery: Recovery, first_case: usize) -> usize {
    let mut nodes = Nodes::start();
    let mut n = 0;
    for point in DOWN_POINTS {
        replica_down(&mut nodes, first_case + n, point, recovery);
        n += 1;
    }
    n
}

#[test]
fn replica_down_then_resume() {
    assert_eq!(down_matrix(Recovery::Resume, 200), 6);
}

#[test]
fn replica_down_then_rollback() {
    assert_eq!(down_matrix(Recovery::Rollback, 300), 6);
}

/// `rotor retire`, finishing what a rotation could not retire while the
/// replica was down, crashes between the two nodes and is recovered both
/// ways; `rotor retire` then finishes (a retirement rolled back leaves the
/// old password `previous`, still due).
#[test]
fn retire_run_crash_between_nodes() {
    let mut nodes = Nodes::start();
    for (n, recovery) in (400..).zip([Recovery::Resume, Recovery::Rollback]) {
        let name = format!("`rotor retire` crash mid:retire-nodes, then {recovery:?}");
        let mut c = Case::new(&nodes, n, name.clone());
        c.crash("after:verify");
        nodes.replica.stop();
        c.rotor(&["resume", SECRET])
            .expect_code(0)
            .expect_output(&format!("rotor retire {SECRET}"));
        nodes.replica.start_again();
        let run = c.rotor_with(&["retire", SECRET], Some("mid:retire-nodes"));
        assert!(
            run.stderr.contains("fault injected") && run.code == -1,
            "{name}: expected an abort, got exit {}\n{}{}",
            run.code,
            run.stdout,
            run.stderr
        );
        c.check_between_nodes(&nodes, "mid:retire-nodes");
        let row = c.status();
        assert_eq!(row["state"], "interrupted", "{name}: {row}");
        c.rotor(&recovery.args(SECRET)).expect_code(0);
        let row = c.status();
        assert!(row["open_run"].is_null(), "{name}: {row}");
        if recovery == Recovery::Rollback {
            assert!(!row["previous"].is_null(), "{name}: {row}");
            c.rotor(&["retire", SECRET]).expect_code(0);
        }
        c.check(&nodes);
        c.rotor(&["rotate", SECRET]).expect_code(0);
        c.check(&nodes);
        c.h.finish();
    }
}
