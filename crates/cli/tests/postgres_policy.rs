//! A password policy the server enforces refuses what rotor sends, through
//! the real `rotor` binary against a real throwaway PostgreSQL 15 that has a
//! real `check_password_hook` loaded (rotor-testkit's `POLICY_MODULE`,
//! compiled at test time): it refuses every encrypted password, like
//! credcheck with `encrypted_password_allowed = off`, and rotor only ever
//! sends a SCRAM-SHA-256 verifier (the plaintext never reaches the server).
//!
//! For cutover and for an alternating pair: `rotor rotate` fails (exit 1)
//! with the server's policy text and what it means, says nothing was
//! changed, and nothing was: the old password still logs in, the env file is
//! byte-identical, no run is left open, the idle role of a pair cannot log
//! in, the audit trail verifies and no value leaked.

mod common;

use std::path::Path;

use common::{Harness, Run};
use rotor_testkit::inventory::{inventory, Secret};
use rotor_testkit::postgres::{POLICY_MODULE, POLICY_REFUSAL};
use rotor_testkit::Postgres;

/// The roles' first password, set by the test in plaintext: the policy
/// accepts a plaintext password of 64 characters or more, so it is long
/// (and URL-safe, for the alternate case's `DATABASE_URL`).
const INITIAL: &str = "initial-password-that-satisfies-the-plaintext-policy-5c1e9a7b3d20";

fn server() -> Postgres {
    assert!(INITIAL.len() >= 64, "the policy wants 64 characters");
    let pg = Postgres::start_with_module(Path::new(POLICY_MODULE), &[]);
    pg.sql("CREATE TABLE t(x int); INSERT INTO t VALUES (1);");
    pg
}

/// The checks every refused rotation shares: exit 1, the server's policy
/// text, what it means and that nothing changed; the env file is
/// byte-identical, no run is open, the audit trail verifies.
fn refused(h: &mut Harness, admin: &str, file: &str) -> Run {
    let before = h.project.read(file);
    let env = [("ROTOR_PG_ADMIN_URL", admin)];
    let run = h.rotor_env(&["rotate", "db"], &env);
    run.expect_code(1)
        // The server's own words, then what they mean for rotor.
        .expect_output(POLICY_REFUSAL)
        .expect_output("the server's password policy refused the password")
        .expect_output("rotor sends only a SCRAM-SHA-256 verifier")
        .expect_output("allow encrypted passwords for this role")
        .expect_output("Nothing was changed at the authority; the old credential still works");
    assert!(
        !run.stderr.contains("SCRAM-SHA-256$") && !run.stdout.contains("SCRAM-SHA-256$"),
        "a verifier is in the output:\n{}",
        run.stderr
    );
    assert!(
        h.project.read(file) == before,
        "{file} changed although the rotation was refused"
    );
    let status = h.rotor_env(&["status", "--json"], &env).json();
    assert!(status[0]["open_run"].is_null(), "a run is open: {status}");
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);
    run
}

#[test]
fn cutover_refused_by_the_password_policy_changes_nothing() {
    let pg = server();
    pg.sql(&format!(
        "CREATE ROLE app_cut LOGIN PASSWORD '{INITIAL}'; GRANT SELECT ON t TO app_cut;"
    ));
    assert!(pg.can_login("app_cut", INITIAL));
    let mut h = Harness::new(
        &inventory(&[Secret::new("db")
            .cutover_role("app_cut")
            .dotenv(".env", "PGPASSWORD")]),
        &[(
            ".env",
            &format!("PGUSER=app_cut\nPGPASSWORD={INITIAL}\nOTHER=kept\n"),
        )],
    );
    h.manage(".env", &["PGPASSWORD"]);
    h.leaks.learn(pg.admin_password());
    h.rotor(&["init"]).expect_code(0);
    let admin = pg.admin_url();

    refused(&mut h, &admin, ".env");
    assert!(
        pg.can_login("app_cut", INITIAL),
        "the old password still logs in"
    );
    h.finish();
}

#[test]
fn alternate_refused_by_the_password_policy_changes_nothing() {
    let pg = server();
    let admin = pg.admin_url();
    // The idle role exists already (NOLOGIN, as a retire leaves it), or not
    // at all (rotor would create it): refused either way.
    for (n, idle_exists) in [(0, true), (1, false)] {
        let (group, blue, green) = (
            format!("p{n}_app"),
            format!("p{n}_blue"),
            format!("p{n}_green"),
        );
        pg.sql(&format!(
            "CREATE ROLE {group} NOLOGIN; GRANT SELECT ON t TO {group}; \
             CREATE ROLE {blue} LOGIN PASSWORD '{INITIAL}' IN ROLE {group};"
        ));
        if idle_exists {
            pg.sql(&format!("CREATE ROLE {green} NOLOGIN IN ROLE {group};"));
        }
        let url = format!(
            "postgres://{blue}:{INITIAL}@127.0.0.1:{}/postgres",
            pg.port()
        );
        let mut h = Harness::new(
            &inventory(&[Secret::new("db")
                .alternating(&group, &blue, &green)
                .dotenv_url(".env", "DATABASE_URL")]),
            &[(".env", &format!("# app\nDATABASE_URL={url}\nLOG=info\n"))],
        );
        h.manage(".env", &["DATABASE_URL"]);
        h.leaks.learn(INITIAL);
        h.leaks.learn(pg.admin_password());
        h.rotor(&["init"]).expect_code(0);

        refused(&mut h, &admin, ".env");
        assert!(pg.can_login(&blue, INITIAL), "the old password logs in");
        let idle = pg.column(&format!(
            "SELECT rolcanlogin::text FROM pg_roles WHERE rolname = '{green}'"
        ));
        if idle_exists {
            assert_eq!(idle, [Some("false".to_owned())], "{green} can log in");
            let password = pg.column(&format!(
                "SELECT (rolpassword IS NULL)::text FROM pg_authid WHERE rolname = '{green}'"
            ));
            assert_eq!(
                password,
                [Some("true".to_owned())],
                "{green} got a password"
            );
        } else {
            assert!(idle.is_empty(), "{green} was created: {idle:?}");
        }
        h.finish();
    }
}
