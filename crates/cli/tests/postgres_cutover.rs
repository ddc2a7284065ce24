//! `strategy = cutover` with the PostgreSQL authority, through the real
//! `rotor` binary against a real throwaway PostgreSQL 15: the role's
//! password changes, the new one is in `.env`, the plaintext never reaches
//! the server log, drift is reported by `verify` and `status`, and bad
//! input or an unreachable server fail clearly with the old password still
//! working.

mod common;

use common::Harness;
use rotor_testkit::inventory::{inventory, quote, Secret};
use rotor_testkit::Postgres;

const ROLE: &str = "app_cut";
const INITIAL: &str = "initial-cutover-password-4d2a91";

/// A password secret of `role`, rotated by `authority` lines.
fn pg_secret(name: &str, path: &str, var: &str, authority: &[&str]) -> Secret {
    let mut lines = vec!["kind = \"postgres\""];
    lines.extend_from_slice(authority);
    Secret::new(name)
        .password_of(32)
        .dotenv(path, var)
        .authority_lines(&lines)
}

/// `db_app`: cutover of `role`, the admin URL from `ROTOR_PG_ADMIN_URL`.
fn db_app(role: &str) -> String {
    inventory(&[Secret::new("db_app")
        .key("owner", "platform")
        .cutover_role(role)
        .dotenv(".env", "PGPASSWORD")])
}

fn env_file() -> String {
    format!("PGUSER={ROLE}\nPGPASSWORD={INITIAL}\nOTHER=kept\n")
}

fn server() -> Postgres {
    let pg = Postgres::start_with(&[("log_statement", "all")]);
    pg.sql(&format!(
        "CREATE ROLE {ROLE} LOGIN PASSWORD '{}'; CREATE TABLE t(x int); INSERT INTO t VALUES (1); GRANT SELECT ON t TO {ROLE};",
        postgres_protocol_verifier(INITIAL)
    ));
    pg
}

/// The initial password is set as a SCRAM verifier too, so the server log
/// must never hold any plaintext password.
fn postgres_protocol_verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

fn project(pg: &Postgres) -> (Harness, Vec<(&'static str, String)>) {
    let mut h = Harness::managed(
        &db_app(ROLE),
        &[(".env", &env_file())],
        &[(".env", &["PGPASSWORD"])],
    );
    h.leaks.learn(pg.admin_password());
    h.rotor(&["init"]).expect_code(0);
    (h, vec![("ROTOR_PG_ADMIN_URL", pg.admin_url())])
}

fn env_of<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn cutover_changes_the_password_and_the_log_never_sees_it() {
    let pg = server();
    let (mut h, env) = project(&pg);
    let env = env_of(&env);

    h.rotor_env(&["plan", "db_app"], &env)
        .expect_code(0)
        .expect_output("ALTER ROLE app_cut PASSWORD");
    let run = h.rotor_env(&["rotate", "db_app"], &env);
    run.expect_code(0);
    let new = h.env_var(".env", "PGPASSWORD").expect("PGPASSWORD");
    assert_ne!(new, INITIAL);
    assert!(pg.can_login(ROLE, &new), "the new password logs in");
    assert!(!pg.can_login(ROLE, INITIAL), "the old password is refused");
    assert_eq!(h.env_var(".env", "OTHER").as_deref(), Some("kept"));

    // A second rotation starts from the store's value.
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    let newer = h.env_var(".env", "PGPASSWORD").expect("PGPASSWORD");
    assert!(pg.can_login(ROLE, &newer));
    assert!(!pg.can_login(ROLE, &new));

    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);

    let log = pg.log_contents();
    assert!(log.contains("ALTER ROLE"), "log_statement = all logs DDL");
    for v in [INITIAL, new.as_str(), newer.as_str()] {
        assert!(
            !log.contains(v),
            "a plaintext password is in the server log"
        );
    }
    h.finish();
}

#[test]
fn a_password_changed_behind_rotors_back_is_drift() {
    let pg = server();
    let (mut h, env) = project(&pg);
    let env = env_of(&env);
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    h.rotor_env(&["status"], &env).expect_code(0);

    let by_hand = "changed-by-hand-0d5b8e1f2a";
    h.leaks.learn(by_hand);
    pg.sql(&format!(
        "ALTER ROLE {ROLE} PASSWORD '{}'",
        postgres_protocol_verifier(by_hand)
    ));

    let v = h.rotor_env(&["verify", "db_app"], &env);
    v.expect_code(4).expect_output("DRIFT");
    v.expect_output("refuses");
    let json = h.rotor_env(&["verify", "--json"], &env).json();
    assert_eq!(json[0]["secret"], "db_app");
    assert!(json[0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .any(|c| c["state"] == "drift"));
    h.rotor_env(&["status"], &env)
        .expect_code(4)
        .expect_output("DRIFT");
    let status = h.rotor_env(&["status", "--json"], &env);
    assert_eq!(status.code, 4);
    assert!(status.json()[0]["drift"]
        .as_str()
        .expect("drift text")
        .contains("DRIFT"));
    // The drift is in the audit trail, and the trail still verifies.
    h.rotor_env(&["history", "db_app"], &env)
        .expect_code(0)
        .expect_output("drift");
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);

    // Rotating takes control again.
    h.rotor_env(&["rotate", "db_app", "--adopt"], &env)
        .expect_code(0);
    h.rotor_env(&["verify"], &env).expect_code(0);
    h.finish();
}

#[test]
fn bad_admin_input_fails_clearly_and_the_old_password_still_works() {
    let pg = server();
    let (mut h, env) = project(&pg);

    // The variable naming the admin URL is not set.
    h.rotor(&["rotate", "db_app"])
        .expect_code(2)
        .expect_output("ROTOR_PG_ADMIN_URL");
    assert!(pg.can_login(ROLE, INITIAL));

    // An admin URL that does not parse: named, never echoed.
    let garbled = "postgres://postgres:garbled-admin-secret-93@127.0.0.1:notaport/postgres";
    h.leaks.learn("garbled-admin-secret-93");
    h.rotor_env(&["rotate", "db_app"], &[("ROTOR_PG_ADMIN_URL", garbled)])
        .expect_code(2)
        .expect_output("admin URL is not a valid PostgreSQL connection string");
    assert!(pg.can_login(ROLE, INITIAL));

    // Wrong admin password: the URL is never echoed.
    let wrong = pg
        .admin_url()
        .replace(pg.admin_password(), "wrong-admin-password-77");
    h.leaks.learn("wrong-admin-password-77");
    let run = h.rotor_env(&["rotate", "db_app"], &[("ROTOR_PG_ADMIN_URL", &wrong)]);
    run.expect_code(1).expect_output("admin URL");
    assert!(pg.can_login(ROLE, INITIAL));
    assert_eq!(h.env_var(".env", "PGPASSWORD").as_deref(), Some(INITIAL));

    // An admin without CREATEROLE.
    let weak_pw = "weak-admin-password-5e6f";
    h.leaks.learn(weak_pw);
    pg.sql(&format!(
        "CREATE ROLE weak_admin LOGIN PASSWORD '{}'",
        postgres_protocol_verifier(weak_pw)
    ));
    let weak = format!(
        "postgres://weak_admin:{weak_pw}@127.0.0.1:{}/postgres",
        pg.port()
    );
    h.rotor_env(&["rotate", "db_app"], &[("ROTOR_PG_ADMIN_URL", &weak)])
        .expect_code(1)
        .expect_output("CREATEROLE");
    assert!(pg.can_login(ROLE, INITIAL));
    assert_eq!(h.env_var(".env", "PGPASSWORD").as_deref(), Some(INITIAL));

    // Nothing was left half-done: no run is open, the audit trail
    // verifies, and with the right admin the rotation goes through.
    let env = env_of(&env);
    let status = h.rotor_env(&["status", "--json"], &env).json();
    assert!(status[0]["open_run"].is_null(), "{status}");
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    let new = h.env_var(".env", "PGPASSWORD").expect("PGPASSWORD");
    assert!(pg.can_login(ROLE, &new));
    h.finish();
}

#[test]
fn a_missing_role_fails_clearly() {
    let pg = server();
    let mut h = Harness::started(
        &db_app("no_such_role"),
        &[(".env", &env_file())],
        &[(".env", &["PGPASSWORD"])],
    );
    let url = pg.admin_url();
    h.rotor_env(&["rotate", "db_app"], &[("ROTOR_PG_ADMIN_URL", &url)])
        .expect_code(1)
        .expect_output("no_such_role");
    assert_eq!(h.env_var(".env", "PGPASSWORD").as_deref(), Some(INITIAL));
    assert!(pg.can_login(ROLE, INITIAL));
    h.finish();
}

#[test]
fn a_server_that_is_down_fails_the_rotation_and_changes_nothing() {
    let mut pg = server();
    let (mut h, env) = project(&pg);
    let env = env_of(&env);
    pg.stop();
    let run = h.rotor_env(&["rotate", "db_app"], &env);
    run.expect_code(1);
    assert_eq!(h.env_var(".env", "PGPASSWORD").as_deref(), Some(INITIAL));
    pg.start_again();
    assert!(pg.can_login(ROLE, INITIAL), "the old password still works");
    // Once the server is back, the rotation goes through.
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    let new = h.env_var(".env", "PGPASSWORD").expect("PGPASSWORD");
    assert!(pg.can_login(ROLE, &new));
    h.finish();
}

/// The admin credential is a secret of the inventory too (rotated with
/// cutover by the superuser), and the application's rotation logs in with
/// whatever its current value is.
#[test]
fn the_admin_credential_is_itself_rotatable() {
    let pg = server();
    let admin_initial = "rotor-admin-initial-password-61";
    pg.sql(&format!(
        "CREATE ROLE rotor_admin LOGIN CREATEROLE PASSWORD '{}'; GRANT {ROLE} TO rotor_admin WITH ADMIN OPTION;",
        postgres_protocol_verifier(admin_initial)
    ));
    let admin_url = format!(
        "admin_url = \"postgres://rotor_admin@127.0.0.1:{}/postgres\"",
        pg.port()
    );
    let role = format!("role = {}", quote(ROLE));
    let inv = inventory(&[
        pg_secret(
            "db_admin",
            "admin.env",
            "ROTOR_ADMIN_PASSWORD",
            &[
                "admin_url_env = \"ROTOR_PG_SUPERUSER_URL\"",
                "role = \"rotor_admin\"",
            ],
        ),
        pg_secret(
            "db_app",
            ".env",
            "PGPASSWORD",
            &["admin_secret = \"db_admin\"", &admin_url, &role],
        ),
    ]);
    let mut h = Harness::new(
        &inv,
        &[
            (".env", &env_file()),
            (
                "admin.env",
                &format!("ROTOR_ADMIN_PASSWORD={admin_initial}\n"),
            ),
        ],
    );
    h.manage(".env", &["PGPASSWORD"]);
    h.manage("admin.env", &["ROTOR_ADMIN_PASSWORD"]);
    h.leaks.learn(pg.admin_password());
    let superuser = pg.admin_url();
    let env = [("ROTOR_PG_SUPERUSER_URL", superuser.as_str())];
    h.rotor_env(&["init"], &env).expect_code(0);

    // Before rotor knows the admin secret, its value comes from its target.
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    let app = h.env_var(".env", "PGPASSWORD").expect("PGPASSWORD");
    assert!(pg.can_login(ROLE, &app));

    // Rotate the admin credential, then the app again with the new one.
    h.rotor_env(&["rotate", "db_admin"], &env).expect_code(0);
    let admin = h
        .env_var("admin.env", "ROTOR_ADMIN_PASSWORD")
        .expect("admin password");
    assert!(pg.can_login("rotor_admin", &admin));
    assert!(!pg.can_login("rotor_admin", admin_initial));
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    let app2 = h.env_var(".env", "PGPASSWORD").expect("PGPASSWORD");
    assert!(pg.can_login(ROLE, &app2));
    assert!(!pg.can_login(ROLE, &app));
    h.rotor_env(&["verify"], &env).expect_code(0);
    h.finish();
}
