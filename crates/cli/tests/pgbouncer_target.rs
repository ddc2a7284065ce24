//! The `pgbouncer` target end to end through the real `rotor` binary: an
//! alternating PostgreSQL secret whose application connects through a real
//! throwaway PgBouncer. Rotating writes the new login's line into the
//! auth_file and RELOADs PgBouncer's admin console, so the application
//! logs in through PgBouncer with the new login at once (PgBouncer
//! re-reads the file only on RELOAD); the old login's line stays for its
//! draining clients. Then back, verify, and drift by hand.

mod common;

use common::Harness;
use rotor_testkit::inventory::{inventory, Secret};
use rotor_testkit::{PgBouncer, Postgres};

const INITIAL: &str = "initial-blue-password-7c1e5a9d";
const CONSOLE: &str = "console-password-5b2e9f0c4d";
const USERLIST: &str = "pgbouncer/userlist.txt";

/// The alternating secret, delivered to `.env` and to PgBouncer's userlist.
fn db_app() -> String {
    let app = Secret::new("db_app")
        .alternating("app", "app_blue", "app_green")
        .authority_lines(&["drain_timeout = \"60s\""])
        .dotenv(".env", "DATABASE_URL")
        .target_line("form = \"url\"")
        .target_lines(&[
            "kind = \"pgbouncer\"",
            &format!("path = \"{USERLIST}\""),
            "admin_console_env = \"ROTOR_PGBOUNCER_URL\"",
            "mode = \"0640\"",
        ]);
    inventory(&[app])
}

fn server() -> Postgres {
    let pg = Postgres::start();
    pg.sql(&format!(
        "CREATE ROLE app NOLOGIN; \
         CREATE ROLE app_blue LOGIN PASSWORD '{}' IN ROLE app;",
        postgres_protocol::password::scram_sha_256(INITIAL.as_bytes())
    ));
    pg
}

/// (user, password) of the `.env`'s DATABASE_URL.
fn login(h: &Harness) -> (String, String) {
    let url = h.env_var(".env", "DATABASE_URL").expect("DATABASE_URL");
    let rest = url.split_once("://").expect("URL").1;
    let userinfo = rest.rsplit_once('@').expect("userinfo").0;
    let (user, password) = userinfo.split_once(':').expect("password");
    (user.to_owned(), password.to_owned())
}

/// The password on `user`'s line of the auth_file.
fn line_of(h: &Harness, user: &str) -> Option<String> {
    let text = h.project.read_string(USERLIST);
    let prefix = format!("\"{user}\" \"");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|rest| rest.trim_end_matches('"').to_owned())
}

/// Teaches the scanner every password of the auth_file.
fn learn_userlist(h: &mut Harness) {
    let text = h.project.read_string(USERLIST);
    for l in text.lines() {
        if let Some((_, pw)) = l.split_once("\" \"") {
            h.leaks.learn(pw.trim_end_matches('"'));
        }
    }
}

#[test]
fn rotation_moves_pgbouncer_clients_to_the_new_login() {
    let pg = server();
    let userlist = format!(
        ";; users PgBouncer knows\n\"{}\" \"{CONSOLE}\"\n\"app_blue\" \"{INITIAL}\"\n",
        rotor_testkit::pgbouncer::ADMIN_USER
    );
    let mut h = Harness::new(&db_app(), &[(USERLIST, &userlist), (".env", "")]);
    let auth_file = h.project.join(USERLIST);
    PgBouncer::share(&auth_file);
    let pgb = PgBouncer::start(pg.port(), &auth_file);
    h.project.write(
        ".env",
        format!(
            "DATABASE_URL=postgres://app_blue:{INITIAL}@127.0.0.1:{}/postgres\n",
            pgb.port()
        ),
    );
    h.manage(".env", &["DATABASE_URL"]);
    h.leaks.learn(pg.admin_password());
    learn_userlist(&mut h);
    let admin = pg.admin_url();
    let console = pgb.admin_url(CONSOLE);
    let env = [
        ("ROTOR_PG_ADMIN_URL", admin.as_str()),
        ("ROTOR_PGBOUNCER_URL", console.as_str()),
    ];
    h.rotor(&["init"]).expect_code(0);

    // Before: the app logs in through PgBouncer as app_blue.
    pgb.login("app_blue", INITIAL, "SELECT 1")
        .expect("app_blue through pgbouncer");

    h.rotor_env(&["plan", "db_app"], &env)
        .expect_code(0)
        .expect_output("line for LOGIN = NEW; RELOAD via $ROTOR_PGBOUNCER_URL");
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    learn_userlist(&mut h);

    // The app's new credential works through PgBouncer: it was RELOADed.
    let (user, password) = login(&h);
    assert_eq!(user, "app_green");
    pgb.login(&user, &password, "SELECT 1")
        .unwrap_or_else(|e| panic!("app_green through pgbouncer: {e}"));
    assert_eq!(line_of(&h, "app_green").as_deref(), Some(password.as_str()));
    // The old line and the others are still there, byte for byte.
    let text = h.project.read_string(USERLIST);
    assert!(text.starts_with(&userlist), "other lines changed:\n{text}");
    assert_eq!(h.project.mode(USERLIST), 0o640);

    // And back to app_blue.
    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    learn_userlist(&mut h);
    let (user2, password2) = login(&h);
    assert_eq!(user2, "app_blue");
    pgb.login(&user2, &password2, "SELECT 1")
        .unwrap_or_else(|e| panic!("app_blue through pgbouncer: {e}"));
    assert_eq!(line_of(&h, "app_blue").as_deref(), Some(password2.as_str()));
    assert_eq!(line_of(&h, "app_green").as_deref(), Some(password.as_str()));
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");

    // Someone changes the live login's line by hand.
    let by_hand = "changed-by-hand-password-9d1c";
    h.leaks.learn(by_hand);
    let edited = h.project.read_string(USERLIST).replace(
        &format!("\"app_blue\" \"{password2}\""),
        &format!("\"app_blue\" \"{by_hand}\""),
    );
    h.project.write(USERLIST, edited);
    h.rotor_env(&["verify", "db_app"], &env)
        .expect_code(4)
        .expect_output("DRIFT");
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);
    h.finish();
}

#[test]
fn a_failed_reload_undoes_the_rotation() {
    let pg = server();
    let userlist = format!("\"app_blue\" \"{INITIAL}\"\n");
    let mut h = Harness::new(
        &db_app(),
        &[
            (USERLIST, &userlist),
            (
                ".env",
                &format!(
                    "DATABASE_URL=postgres://app_blue:{INITIAL}@127.0.0.1:{}/postgres\n",
                    pg.port()
                ),
            ),
        ],
    );
    h.manage(".env", &["DATABASE_URL"]);
    h.leaks.learn(pg.admin_password());
    h.rotor(&["init"]).expect_code(0);
    let admin = pg.admin_url();
    // Nothing listens there: the RELOAD fails after the files were written.
    let console = format!(
        "postgres://{}:{CONSOLE}@127.0.0.1:1/pgbouncer",
        rotor_testkit::pgbouncer::ADMIN_USER
    );
    h.leaks.learn(CONSOLE);
    let env = [
        ("ROTOR_PG_ADMIN_URL", admin.as_str()),
        ("ROTOR_PGBOUNCER_URL", console.as_str()),
    ];
    let before = h.project.snapshot();
    let run = h.rotor_env(&["rotate", "db_app"], &env);
    assert_ne!(run.code, 0);
    run.expect_output("RELOAD");
    assert!(
        !run.stdout.contains(&console) && !run.stderr.contains(&console),
        "the console URL was printed"
    );
    // The files are back as they were and app_blue still logs in.
    assert_eq!(h.project.read_string(USERLIST), userlist);
    assert_eq!(
        h.env_var(".env", "DATABASE_URL").as_deref(),
        before
            .iter()
            .find(|(p, _)| p.ends_with(".env"))
            .map(|(_, b)| String::from_utf8_lossy(b)
                .trim_end()
                .trim_start_matches("DATABASE_URL=")
                .to_owned())
            .as_deref()
    );
    assert!(pg.can_login("app_blue", INITIAL));

    // Without the console variable, rotate refuses before changing anything.
    h.rotor_env(
        &["rotate", "db_app"],
        &[("ROTOR_PG_ADMIN_URL", admin.as_str())],
    )
    .expect_code(2)
    .expect_output("ROTOR_PGBOUNCER_URL: is not set");
    assert_eq!(h.project.read_string(USERLIST), userlist);
    h.finish();
}
