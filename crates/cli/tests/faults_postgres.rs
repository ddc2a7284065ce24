//! PostgreSQL steps in the fault-injection suite: a rotation of a database
//! credential (cutover, and alternating roles) crashes at every step and is
//! recovered both ways (`rotor resume`, `rotor rollback`), against a real
//! throwaway PostgreSQL 15. Then the admin connection is lost: the server is
//! stopped after the crash, recovery is tried while it is down, and again
//! once it is back.
//!
//! After each recovery: no run is open; both env files hold the store's
//! current credential and it logs in (through `psql`, as the verify hook);
//! in an alternating pair only the role in use can log in; `rotor verify`
//! finds no drift; the audit chain verifies; nothing leaked; and the next
//! rotation works.

mod common;

use common::{Harness, Run};
use rotor::secret::Fingerprint;
use rotor_testkit::fault_matrix::Recovery;
use rotor_testkit::inventory::{self, Secret};
use rotor_testkit::Postgres;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Strategy {
    Cutover,
    Alternate,
}

const INITIAL: &str = "initial-db-password-0a1b2c3d4e";

/// Roles of one case: each case gets its own, so one server serves a whole
/// matrix.
struct Roles {
    group: String,
    blue: String,
    green: String,
    cut: String,
}

impl Roles {
    fn new(case: usize) -> Roles {
        Roles {
            group: format!("c{case}_app"),
            blue: format!("c{case}_blue"),
            green: format!("c{case}_green"),
            cut: format!("c{case}_cut"),
        }
    }

    /// The login the first `.env` uses.
    fn first(&self, strategy: Strategy) -> &str {
        match strategy {
            Strategy::Cutover => &self.cut,
            Strategy::Alternate => &self.blue,
        }
    }
}

fn psql() -> String {
    let bin = std::env::var("ROTOR_PG_BIN")
        .unwrap_or_else(|_| rotor_testkit::postgres::DEFAULT_BIN_DIR.to_owned());
    format!("{bin}/psql")
}

/// `db`, the password in the URLs of the app and the worker, with the
/// fault hooks (tried once), cut over or alternating between `roles`.
fn inventory(strategy: Strategy, roles: &Roles) -> String {
    let db = Secret::new("db");
    let db = match strategy {
        Strategy::Cutover => db.cutover_role(&roles.cut),
        Strategy::Alternate => db
            .alternating(&roles.group, &roles.blue, &roles.green)
            .authority_lines(&["drain_timeout = \"20s\""]),
    };
    inventory::inventory(&[db
        .dotenv_url("app.env", "DATABASE_URL")
        .dotenv_url("worker.env", "DATABASE_URL")
        .fault_hooks("20s")
        .hook_line("retries = 1")])
}

/// The verify hook: both consumers' URLs log in and read the table.
fn verify_script() -> String {
    format!(
        "set -e\nfor f in app.env worker.env; do\n  url=$(sed -n 's/^DATABASE_URL=//p' \"$f\")\n  \"{}\" \"$url\" -tAc 'SELECT count(*) FROM t' >/dev/null\ndone\n",
        psql()
    )
}

fn setup_roles(pg: &Postgres, strategy: Strategy, roles: &Roles) {
    let verifier = postgres_protocol::password::scram_sha_256(INITIAL.as_bytes());
    match strategy {
        Strategy::Cutover => pg.sql(&format!(
            "CREATE ROLE {c} LOGIN PASSWORD '{verifier}'; GRANT SELECT ON t TO {c};",
            c = roles.cut
        )),
        Strategy::Alternate => pg.sql(&format!(
            "CREATE ROLE {g} NOLOGIN; GRANT SELECT ON t TO {g}; \
             CREATE ROLE {b} LOGIN PASSWORD '{verifier}' IN ROLE {g};",
            g = roles.group,
            b = roles.blue
        )),
    }
}

fn server() -> Postgres {
    let pg = Postgres::start_with(&[("max_connections", "50")]);
    pg.sql("CREATE TABLE t(x int); INSERT INTO t VALUES (1);");
    pg
}

struct Case {
    h: Harness,
    admin: String,
    name: String,
    strategy: Strategy,
    roles: Roles,
}

impl Case {
    fn new(pg: &Postgres, strategy: Strategy, n: usize, name: String) -> Case {
        let roles = Roles::new(n);
        setup_roles(pg, strategy, &roles);
        let url = format!(
            "postgres://{}:{INITIAL}@127.0.0.1:{}/postgres",
            roles.first(strategy),
            pg.port()
        );
        let mut h = Harness::new(
            &inventory(strategy, &roles),
            &[
                ("app.env", &format!("# app\nDATABASE_URL={url}\nLOG=info\n")),
                ("worker.env", &format!("DATABASE_URL={url}\nQUEUE=jobs\n")),
                ("verify.sh", &verify_script()),
            ],
        );
        h.manage("app.env", &["DATABASE_URL"]);
        h.manage("worker.env", &["DATABASE_URL"]);
        h.leaks.learn(pg.admin_password());
        h.rotor(&["init"]).expect_code(0);
        Case {
            h,
            admin: pg.admin_url(),
            name,
            strategy,
            roles,
        }
    }

    fn rotor(&mut self, args: &[&str]) -> Run {
        let admin = self.admin.clone();
        self.h.rotor_env(args, &[("ROTOR_PG_ADMIN_URL", &admin)])
    }

    fn crash(&mut self, point: &str) {
        let admin = self.admin.clone();
        let run = self.h.rotor_env(
            &["rotate", "db"],
            &[("ROTOR_PG_ADMIN_URL", &admin), ("ROTOR_FAULT", point)],
        );
        assert!(
            run.stderr.contains("fault injected") && run.code == -1,
            "{}: expected an abort at {point}, got exit {}\n{}",
            self.name,
            run.code,
            run.stderr
        );
    }

    /// (user, password) in a file's DATABASE_URL.
    fn credential(&self, file: &str) -> (String, String) {
        let url = self.h.env_var(file, "DATABASE_URL").expect("DATABASE_URL");
        let rest = url.split_once("://").expect("a URL").1;
        let userinfo = rest.rsplit_once('@').expect("userinfo").0;
        let (user, password) = userinfo.split_once(':').expect("a password");
        (user.to_owned(), password.to_owned())
    }

    fn check(&mut self, pg: &Postgres) {
        let case = self.name.clone();
        let status = self.rotor(&["status", "--json"]).expect_code(0).json();
        let row = &status[0];
        assert!(row["open_run"].is_null(), "{case}: a run is open: {row}");
        assert_eq!(row["state"], "current", "{case}: {row}");
        let (user, password) = self.credential("app.env");
        assert_eq!(
            self.credential("worker.env"),
            (user.clone(), password.clone()),
            "{case}: both consumers hold one credential"
        );
        assert_eq!(
            row["fingerprint"],
            Fingerprint::of(password.as_bytes()).as_str(),
            "{case}: the files hold the store's current"
        );
        assert!(
            pg.can_login(&user, &password),
            "{case}: the delivered credential logs in"
        );
        if self.strategy == Strategy::Alternate {
            for other in [&self.roles.blue, &self.roles.green] {
                if *other != user {
                    let can = pg.column(&format!(
                        "SELECT rolcanlogin::text FROM pg_roles WHERE rolname = '{other}'"
                    ));
                    assert!(
                        can.is_empty() || can[0].as_deref() == Some("false"),
                        "{case}: {other}, not in use, can still log in"
                    );
                }
            }
        }
        let ok = std::process::Command::new("sh")
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

fn run_case(pg: &Postgres, strategy: Strategy, n: usize, point: &str, recovery: Recovery) {
    let name = format!("{strategy:?} crash {point} then {recovery:?}");
    let mut c = Case::new(pg, strategy, n, name.clone());
    let before = c.credential("app.env");
    c.crash(point);
    let completed = point == "after:promote";
    if !completed {
        let status = c.rotor(&["status", "--json"]).expect_code(0).json();
        assert_eq!(status[0]["state"], "interrupted", "{name}: {status}");
    }
    let recovered = match recovery {
        Recovery::Resume => c.rotor(&["resume"]),
        Recovery::Rollback => c.rotor(&["rollback", "db"]),
    };
    recovery.check(&recovered, completed);
    c.check(pg);
    if !completed && recovery == Recovery::Rollback {
        assert_eq!(
            c.credential("app.env"),
            before,
            "{name}: rollback brings back the credential from before the run"
        );
    }
    c.rotor(&["rotate", "db"]).expect_code(0);
    c.check(pg);
    c.h.finish();
}

fn matrix(strategy: Strategy, first_case: usize) -> usize {
    let pg = server();
    // Every crash point of the run, from the engine's step enum.
    let points = rotor_testkit::fault_matrix::crash_points(
        &inventory(strategy, &Roles::new(first_case)),
        &[],
        rotor::store::RunKind::Rotate,
        &["db"],
    );
    let mut n = 0;
    for point in &points {
        for recovery in [Recovery::Resume, Recovery::Rollback] {
            run_case(&pg, strategy, first_case + n, point, recovery);
            n += 1;
        }
    }
    let log = pg.log_contents();
    assert!(
        !log.contains(INITIAL),
        "a plaintext password reached the server log"
    );
    n
}

#[test]
fn cutover_every_step_both_recoveries() {
    assert_eq!(matrix(Strategy::Cutover, 0), 18);
}

#[test]
fn alternate_every_step_both_recoveries() {
    assert_eq!(matrix(Strategy::Alternate, 100), 20);
}

/// The admin connection is lost mid-rotation: the process crashes at
/// `point` and the server goes down with it. While it is down, recovery
/// fails cleanly and changes nothing (the old credential, or the one the
/// authority holds, still matches the files); once it is back, the same
/// command finishes the job.
fn connection_lost(strategy: Strategy, point: &str, recovery: Recovery, n: usize) {
    let name = format!("{strategy:?} crash {point}, server down, then {recovery:?}");
    let mut pg = server();
    let mut c = Case::new(&pg, strategy, n, name.clone());
    c.crash(point);
    pg.stop();
    let files = |c: &Case| (c.h.project.read("app.env"), c.h.project.read("worker.env"));
    let before = files(&c);
    let args: Vec<&str> = match recovery {
        Recovery::Resume => vec!["resume", "db"],
        Recovery::Rollback => vec!["rollback", "db"],
    };
    let down = c.rotor(&args);
    match recovery {
        Recovery::Rollback => {
            // Undo needs the authority: nothing is touched, the run stays.
            down.expect_code(3).expect_output("stays open");
            assert!(
                files(&c) == before,
                "{name}: a failed rollback changed the env files"
            );
            let status = c.rotor(&["status", "--json"]).expect_code(0).json();
            assert_eq!(status[0]["state"], "interrupted", "{name}: {status}");
        }
        Recovery::Resume => {
            // Either nothing was left that needs the server (exit 0; an
            // alternating pair's old role then waits for `rotor retire`),
            // or the verify hook could not log in and taking the new
            // credential back needed the server too (exit 3, run open).
            assert!(
                down.code == 0 || down.code == 3,
                "{name}: {}{}",
                down.stdout,
                down.stderr
            );
            if point == "mid:apply" {
                // The apply tried again could not tell whether the first
                // one got through: the run stays open, files untouched.
                down.expect_code(3).expect_output("stays open");
                assert!(files(&c) == before, "{name}: resume changed the env files");
                let status = c.rotor(&["status", "--json"]).json();
                assert_eq!(status[0]["state"], "interrupted", "{name}: {status}");
            }
        }
    }
    pg.start_again();
    let status = c.rotor(&["status", "--json"]).json();
    if status[0]["state"] == "interrupted" {
        c.rotor(&args).expect_code(0);
    }
    let status = c.rotor(&["status", "--json"]).json();
    if !status[0]["previous"].is_null() {
        // The old login could not be retired while the server was down.
        assert_eq!(strategy, Strategy::Alternate, "{name}: {status}");
        c.rotor(&["retire", "db"]).expect_code(0);
    }
    c.check(&pg);
    c.rotor(&["rotate", "db"]).expect_code(0);
    c.check(&pg);
    c.h.finish();
}

#[test]
fn admin_connection_lost_mid_rotation() {
    let mut n = 200;
    for strategy in [Strategy::Cutover, Strategy::Alternate] {
        // mid:apply: the authority took the new credential, the journal
        // does not say so; the apply tried again on resume cannot reach
        // the server, and must not pass for one that changed nothing.
        for point in ["mid:apply", "after:apply", "after:deliver", "after:verify"] {
            for recovery in [Recovery::Resume, Recovery::Rollback] {
                connection_lost(strategy, point, recovery, n);
                n += 1;
            }
        }
    }
    assert_eq!(n, 216);
}

/// A run that stopped before apply began gave the authority nothing: its
/// rollback succeeds while the server is down, and leaves the old
/// credential, which still logs in once the server is back.
#[test]
fn rollback_before_apply_needs_no_server() {
    for (n, strategy) in (300..).zip([Strategy::Cutover, Strategy::Alternate]) {
        let name = format!("{strategy:?} crash after:generate, server down, then Rollback");
        let mut pg = server();
        let mut c = Case::new(&pg, strategy, n, name.clone());
        let before = (c.h.project.read("app.env"), c.h.project.read("worker.env"));
        c.crash("after:generate");
        pg.stop();
        c.rotor(&["rollback", "db"]).expect_code(0);
        // (status exits 4 here: it cannot check the login while the
        // server is down)
        let status = c.rotor(&["status", "--json"]).json();
        assert!(status[0]["open_run"].is_null(), "{name}: {status}");
        assert!(
            (c.h.project.read("app.env"), c.h.project.read("worker.env")) == before,
            "{name}: the env files changed"
        );
        pg.start_again();
        c.check(&pg);
        c.rotor(&["rotate", "db"]).expect_code(0);
        c.check(&pg);
        c.h.finish();
    }
}
