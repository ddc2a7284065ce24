//! `strategy = alternate` end to end through the real `rotor` binary,
//! against a real throwaway PostgreSQL 15 that logs every statement: the
//! login moves to the idle role (new `DATABASE_URL`), the old role ends
//! NOLOGIN with a password nobody knows, memberships and settings of the
//! two roles are identical, the audit trail holds fingerprints only, and no
//! password reaches the server log. Then drain, drift and bad input.

mod common;

use std::process::{Child, Command, Stdio};

use common::Harness;
use rotor_testkit::inventory::{inventory, Secret};
use rotor_testkit::Postgres;

const INITIAL: &str = "initial-blue-password-7c1e5a9d";

/// `db_app`: app_blue and app_green take turns as members of `group`,
/// consumers read `DATABASE_URL` (`extra`: more authority lines).
fn db_app(group: &str, extra: &[&str]) -> Secret {
    Secret::new("db_app")
        .key("owner", "platform")
        .key("cadence", "180d")
        .alternating(group, "app_blue", "app_green")
        .authority_lines(extra)
        .dotenv(".env", "DATABASE_URL")
        .target_line("form = \"url\"")
}

fn alternate(extra: &[&str]) -> String {
    inventory(&[db_app("app", extra)])
}

fn verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// A server with the group `app` holding the privileges, `app_blue` live
/// with settings and an extra membership, and a table to read.
fn server() -> Postgres {
    let pg = Postgres::start_with(&[("log_statement", "all")]);
    pg.sql(&format!(
        "CREATE ROLE app NOLOGIN; \
         CREATE SCHEMA shop AUTHORIZATION app; \
         CREATE TABLE shop.orders(id int); INSERT INTO shop.orders VALUES (1), (2); \
         ALTER TABLE shop.orders OWNER TO app; \
         CREATE ROLE app_blue LOGIN PASSWORD '{}' IN ROLE app, pg_read_all_settings; \
         ALTER ROLE app_blue SET search_path = shop, \"Public Things\", public; \
         ALTER ROLE app_blue IN DATABASE postgres SET work_mem = '8MB'; \
         ALTER ROLE app_blue SET statement_timeout = '30s';",
        verifier(INITIAL)
    ));
    pg
}

fn url(pg: &Postgres, user: &str, password: &str) -> String {
    format!(
        "postgres://{user}:{password}@127.0.0.1:{}/postgres?application_name=shop&sslmode=disable",
        pg.port()
    )
}

fn project(pg: &Postgres, extra: &[&str]) -> Harness {
    let env = format!(
        "# shop api\nDATABASE_URL={}\nPORT=8080\n",
        url(pg, "app_blue", INITIAL)
    );
    let mut h = Harness::managed(
        &alternate(extra),
        &[(".env", &env)],
        &[(".env", &["DATABASE_URL"])],
    );
    h.leaks.learn(pg.admin_password());
    h.rotor(&["init"]).expect_code(0);
    h
}

/// (user, password) of the `.env`'s DATABASE_URL, and the rest after `@`.
fn login(h: &Harness) -> (String, String, String) {
    let url = h.env_var(".env", "DATABASE_URL").expect("DATABASE_URL");
    let rest = url.split_once("://").expect("URL").1;
    let (userinfo, tail) = rest.rsplit_once('@').expect("userinfo");
    let (user, password) = userinfo.split_once(':').expect("password");
    (user.to_owned(), password.to_owned(), tail.to_owned())
}

fn can_login_attr(pg: &Postgres, role: &str) -> Option<bool> {
    pg.column(&format!(
        "SELECT rolcanlogin::text FROM pg_roles WHERE rolname = '{role}'"
    ))
    .first()
    .cloned()
    .flatten()
    .map(|v| v == "true")
}

fn verifier_of(pg: &Postgres, role: &str) -> Option<String> {
    pg.column(&format!(
        "SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'"
    ))
    .first()
    .cloned()
    .flatten()
}

/// What a role is a member of, and its settings, in a comparable form.
fn shape(pg: &Postgres, role: &str) -> (Vec<Option<String>>, Vec<Option<String>>) {
    let members = pg.column(&format!(
        "SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
         JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = '{role}' ORDER BY 1"
    ));
    let settings = pg.column(&format!(
        "SELECT coalesce(d.datname, '*') || ':' || array_to_string(s.setconfig, '|') \
         FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole \
         LEFT JOIN pg_database d ON d.oid = s.setdatabase WHERE r.rolname = '{role}' ORDER BY 1"
    ));
    (members, settings)
}

fn admin_env(pg: &Postgres) -> String {
    pg.admin_url()
}

#[test]
fn alternate_moves_the_login_and_retires_the_old_role() {
    let pg = server();
    let mut h = project(&pg, &[]);
    let admin = admin_env(&pg);
    let env = [("ROTOR_PG_ADMIN_URL", admin.as_str())];
    let blue_shape = shape(&pg, "app_blue");
    let blue_verifier = verifier_of(&pg, "app_blue");

    h.rotor_env(&["plan", "db_app"], &env)
        .expect_code(0)
        .expect_output("app_green");
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);

    // The login moved to app_green; only the userinfo of the URL changed.
    let (user, password, tail) = login(&h);
    assert_eq!(user, "app_green");
    assert_eq!(
        tail,
        format!(
            "127.0.0.1:{}/postgres?application_name=shop&sslmode=disable",
            pg.port()
        )
    );
    assert_eq!(h.env_var(".env", "PORT").as_deref(), Some("8080"));
    pg.login(&user, &password, "SELECT count(*) FROM shop.orders")
        .expect("app_green reads what the group may");
    // Identical memberships and settings.
    assert_eq!(
        shape(&pg, "app_green"),
        blue_shape,
        "app_green is not a copy of app_blue"
    );
    // The old role: NOLOGIN, and a password nobody knows (not the old one).
    assert_eq!(can_login_attr(&pg, "app_blue"), Some(false));
    assert!(!pg.can_login("app_blue", INITIAL));
    assert_ne!(verifier_of(&pg, "app_blue"), blue_verifier);

    // And back: app_blue is brought back with a new password.
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    let (user2, password2, _) = login(&h);
    assert_eq!(user2, "app_blue");
    assert!(pg.can_login("app_blue", &password2));
    assert!(!pg.can_login("app_green", &password));
    assert_eq!(can_login_attr(&pg, "app_green"), Some(false));
    assert_eq!(
        shape(&pg, "app_blue"),
        blue_shape,
        "app_blue kept its shape"
    );

    // The audit holds fingerprints only (the scanner checks every table),
    // and names the login of each version.
    let history = h.rotor_env(&["history", "db_app", "--json"], &env);
    history.expect_code(0).expect_output("app_green");
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");
    h.rotor_env(&["status"], &env).expect_code(0);
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);

    let log = pg.log_contents();
    assert!(log.contains("ALTER ROLE"), "the log records role changes");
    for p in [INITIAL, password.as_str(), password2.as_str()] {
        assert!(!log.contains(p), "a plaintext password reached the log");
    }
    h.finish();
}

/// A client holding a session as `user` (psql running a long sleep). The
/// caller kills and waits for it.
#[allow(clippy::zombie_processes)]
fn hold_session(pg: &Postgres, user: &str, password: &str) -> Child {
    let bin = std::env::var("ROTOR_PG_BIN")
        .unwrap_or_else(|_| rotor_testkit::postgres::DEFAULT_BIN_DIR.to_owned());
    let mut child = Command::new(format!("{bin}/psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port().to_string(),
            "-U",
            user,
            "-d",
            "postgres",
            "-c",
            "SELECT pg_sleep(120)",
        ])
        .env("PGPASSWORD", password)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start psql");
    // Wait until the server shows the session.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let n = pg.column(&format!(
            "SELECT count(*)::text FROM pg_stat_activity WHERE usename = '{user}'"
        ));
        if n.first().cloned().flatten().as_deref() != Some("0") {
            return child;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("psql never connected");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_session_that_does_not_drain_keeps_the_old_role_until_retire() {
    let pg = server();
    let mut h = project(&pg, &["drain_timeout = \"1s\""]);
    let admin = admin_env(&pg);
    let env = [("ROTOR_PG_ADMIN_URL", admin.as_str())];
    let mut session = hold_session(&pg, "app_blue", INITIAL);

    let run = h.rotor_env(&["rotate", "db_app"], &env);
    run.expect_code(0).expect_output("rotor retire db_app");
    let (user, password, _) = login(&h);
    assert_eq!(user, "app_green");
    assert!(pg.can_login("app_green", &password));
    // The old role still works while its session lives.
    assert!(pg.can_login("app_blue", INITIAL));
    let status = h.rotor_env(&["status", "--json"], &env).json();
    assert!(!status[0]["previous"].is_null(), "{status}");
    // The old login still working is what a pending retire means: no drift.
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");
    h.rotor_env(&["status"], &env).expect_code(0);

    // The idle role of the pair is the one still draining: rotating again
    // now is refused until it is retired.
    h.rotor_env(&["rotate", "db_app"], &env)
        .expect_code(2)
        .expect_output("rotor retire db_app` first");

    // Still busy: retire fails and says why; nothing changes.
    h.rotor_env(&["retire", "db_app"], &env)
        .expect_code(1)
        .expect_output("still open");
    assert!(pg.can_login("app_blue", INITIAL));

    // A sleeping backend would outlive its killed client until the sleep
    // ends: end the session at the server, as the runbook does.
    pg.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_blue'");
    let _ = session.kill();
    let _ = session.wait();
    h.rotor_env(&["retire", "db_app"], &env).expect_code(0);
    assert_eq!(can_login_attr(&pg, "app_blue"), Some(false));
    assert!(!pg.can_login("app_blue", INITIAL));
    assert!(pg.can_login("app_green", &password));
    let status = h.rotor_env(&["status", "--json"], &env).json();
    assert!(status[0]["previous"].is_null(), "{status}");
    h.rotor_env(&["verify"], &env).expect_code(0);
    h.finish();
}

#[test]
fn drift_behind_rotors_back_is_reported() {
    let pg = server();
    let mut h = project(&pg, &[]);
    let admin = admin_env(&pg);
    let env = [("ROTOR_PG_ADMIN_URL", admin.as_str())];
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    h.rotor_env(&["verify"], &env).expect_code(0);

    // Someone gives the live role a membership the idle one lacks.
    pg.sql("GRANT pg_read_all_data TO app_green");
    h.rotor_env(&["verify", "db_app"], &env)
        .expect_code(4)
        .expect_output("DRIFT");
    pg.sql("REVOKE pg_read_all_data FROM app_green");
    h.rotor_env(&["verify", "db_app"], &env).expect_code(0);

    // Someone resets the live role's password.
    let by_hand = "reset-by-hand-password-3e8f1a";
    h.leaks.learn(by_hand);
    pg.sql(&format!(
        "ALTER ROLE app_green PASSWORD '{}'",
        verifier(by_hand)
    ));
    h.rotor_env(&["verify"], &env)
        .expect_code(4)
        .expect_output("refuses");
    h.rotor_env(&["status"], &env)
        .expect_code(4)
        .expect_output("DRIFT");
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);
    h.finish();
}

#[test]
fn bad_input_fails_clearly_and_the_old_login_still_works() {
    // The group does not exist.
    let pg = server();
    let admin = admin_env(&pg);
    let env = [("ROTOR_PG_ADMIN_URL", admin.as_str())];
    let mut h = Harness::new(
        &inventory(&[db_app("no_such_group", &[])]),
        &[(
            ".env",
            &format!("DATABASE_URL={}\n", url(&pg, "app_blue", INITIAL)),
        )],
    );
    h.manage(".env", &["DATABASE_URL"]);
    h.leaks.learn(pg.admin_password());
    h.rotor(&["init"]).expect_code(0);
    let before = h.project.read(".env");
    h.rotor_env(&["rotate", "db_app"], &env)
        .expect_code(1)
        .expect_output("no_such_group");
    assert_eq!(h.project.read(".env"), before);
    assert!(pg.can_login("app_blue", INITIAL));
    assert_eq!(can_login_attr(&pg, "app_green"), None, "nothing created");
    let status = h.rotor_env(&["status", "--json"], &env).json();
    assert!(status[0]["open_run"].is_null(), "{status}");
    h.finish();

    // The live role holds a privilege itself: the idle one would lack it.
    pg.sql("CREATE TABLE direct(x int); GRANT SELECT ON direct TO app_blue;");
    let mut h = project(&pg, &[]);
    let before = h.project.read(".env");
    h.rotor_env(&["rotate", "db_app"], &env)
        .expect_code(1)
        .expect_output("app_blue");
    assert_eq!(h.project.read(".env"), before);
    assert!(pg.can_login("app_blue", INITIAL));
    pg.sql("REVOKE SELECT ON direct FROM app_blue;");
    h.finish();

    // An admin without CREATEROLE.
    let weak = "weak-admin-password-19b7";
    pg.sql(&format!(
        "CREATE ROLE weak_admin LOGIN PASSWORD '{}'",
        verifier(weak)
    ));
    let mut h = project(&pg, &[]);
    h.leaks.learn(weak);
    let weak_url = format!(
        "postgres://weak_admin:{weak}@127.0.0.1:{}/postgres",
        pg.port()
    );
    h.rotor_env(&["rotate", "db_app"], &[("ROTOR_PG_ADMIN_URL", &weak_url)])
        .expect_code(1)
        .expect_output("CREATEROLE");
    assert!(pg.can_login("app_blue", INITIAL));
    h.finish();

    // A URL target without a password part: refused before anything.
    let mut h = Harness::new(
        &alternate(&[]),
        &[(
            ".env",
            &format!(
                "DATABASE_URL=postgres://app_blue@127.0.0.1:{}/postgres\n",
                pg.port()
            ),
        )],
    );
    h.rotor(&["init"]).expect_code(0);
    let before = h.project.read(".env");
    h.rotor_env(&["rotate", "db_app"], &env)
        .expect_code(2)
        .expect_output("no password part");
    assert_eq!(h.project.read(".env"), before);
    assert!(pg.can_login("app_blue", INITIAL));
    h.finish();
}

/// Split variables (`POSTGRES_USER` + `POSTGRES_PASSWORD`, as docker
/// images read them) move together.
#[test]
fn user_and_password_variables_move_together() {
    let pg = server();
    let split = Secret::new("db_app")
        .alternating("app", "app_blue", "app_green")
        .dotenv(".env", "POSTGRES_PASSWORD")
        .target_line("user_var = \"POSTGRES_USER\"");
    let inv = inventory(&[split]);
    let mut h = Harness::new(
        &inv,
        &[(
            ".env",
            &format!("POSTGRES_USER=app_blue\nPOSTGRES_PASSWORD={INITIAL}\nPOSTGRES_DB=postgres\n"),
        )],
    );
    h.manage(".env", &["POSTGRES_PASSWORD"]);
    h.leaks.learn(pg.admin_password());
    let admin = admin_env(&pg);
    let env = [("ROTOR_PG_ADMIN_URL", admin.as_str())];
    h.rotor_env(&["init"], &env).expect_code(0);
    for expected in ["app_green", "app_blue", "app_green"] {
        h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
        let user = h.env_var(".env", "POSTGRES_USER").expect("user");
        let password = h.env_var(".env", "POSTGRES_PASSWORD").expect("password");
        assert_eq!(user, expected);
        assert!(pg.can_login(&user, &password));
    }
    assert_eq!(
        h.env_var(".env", "POSTGRES_DB").as_deref(),
        Some("postgres")
    );
    h.rotor_env(&["verify"], &env).expect_code(0);
    h.finish();
}

/// A secret rotor managed before it had an authority: its versions record
/// no login, so the first alternate rotation reads the login from the
/// targets (and records the value again with it) instead of mistaking the
/// group for the live role.
#[test]
fn an_authority_added_later_starts_from_the_login_in_the_targets() {
    let pg = server();
    let without = inventory(&[Secret::new("db_app")
        .password_of(32)
        .cutover()
        .dotenv(".env", "DATABASE_URL")
        .target_line("form = \"url\"")]);
    let mut h = Harness::new(
        &without,
        &[(
            ".env",
            &format!("DATABASE_URL={}\n", url(&pg, "app_blue", INITIAL)),
        )],
    );
    h.manage(".env", &["DATABASE_URL"]);
    h.leaks.learn(pg.admin_password());
    let admin = admin_env(&pg);
    let env = [("ROTOR_PG_ADMIN_URL", admin.as_str())];
    h.rotor_env(&["init"], &env).expect_code(0);
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    // Without an authority only the file changed; the operator set the
    // same password on the server by hand, as the runbook did.
    let (user, password, _) = login(&h);
    assert_eq!(user, "app_blue");
    pg.sql(&format!(
        "ALTER ROLE app_blue PASSWORD '{}'",
        verifier(&password)
    ));

    h.project.write("rotor.toml", alternate(&[]));
    let blue_shape = shape(&pg, "app_blue");
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    let (user, password2, _) = login(&h);
    assert_eq!(user, "app_green");
    assert!(pg.can_login("app_green", &password2));
    assert_eq!(shape(&pg, "app_green"), blue_shape);
    assert_eq!(can_login_attr(&pg, "app_blue"), Some(false));
    h.rotor_env(&["verify"], &env).expect_code(0);
    h.finish();
}
