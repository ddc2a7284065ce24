//! The PostgreSQL `cutover` authority against a real throwaway server
//! (rotor-testkit's `Postgres`, PostgreSQL 15): the authority conformance
//! suite, the password actually changing (and changing back on undo),
//! `VALID UNTIL` from `valid_for`, no plaintext password in the server log
//! even with `log_statement = 'all'`, and transient vs permanent errors that
//! quote no password.

use rotor::authority::postgres::PostgresCutover;
use rotor::authority::{Acceptance, Authority, AuthorityError, Credential};
use rotor::secret::SecretValue;
use rotor_testkit::leaks::assert_quotes_nothing;
use rotor_testkit::Postgres;
use secrecy::SecretString;

const ROLE: &str = "db_app";
const INITIAL: &str = "initial-password-5f0c1d2e3a4b";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs SQL as the superuser.
fn admin_sql(pg: &Postgres, sql: &str) {
    pg.sql(sql);
}

/// Whether `role` can log in with `password` (a direct client, not rotor).
fn can_login(pg: &Postgres, role: &str, password: &str) -> bool {
    pg.can_login(role, password)
}

/// A server logging every statement, with a LOGIN role whose initial
/// password is set as a verifier too (so the log must hold no plaintext).
fn server_with_role(role: &str) -> Postgres {
    let pg = Postgres::start_with(&[("log_statement", "all")]);
    let verifier = postgres_protocol::password::scram_sha_256(INITIAL.as_bytes());
    let ident = format!("\"{}\"", role.replace('"', "\"\""));
    admin_sql(
        &pg,
        &format!("CREATE ROLE {ident} LOGIN PASSWORD '{verifier}'"),
    );
    assert!(can_login(&pg, role, INITIAL), "initial login");
    pg
}

/// The old value the conformance suite starts from (see
/// rotor-testkit's conformance.rs).
const CONFORMANCE_OLD: &str = "conformance-old-value-0123456789";

/// Sets `role`'s password as a verifier, as the superuser.
fn set_password(pg: &Postgres, role: &str, password: &str) {
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    let ident = format!("\"{}\"", role.replace('"', "\"\""));
    admin_sql(pg, &format!("ALTER ROLE {ident} PASSWORD '{verifier}'"));
}

fn cutover(pg: &Postgres, role: &str) -> PostgresCutover {
    PostgresCutover::new(SecretString::from(pg.admin_url()), role).expect("authority")
}

fn assert_log_clean(pg: &Postgres, values: &[&str]) {
    pg.assert_log_holds_none("ALTER ROLE", values);
}

#[test]
fn passes_the_authority_conformance_suite() {
    let pg = server_with_role(ROLE);
    // The suite starts from its own old value being accepted.
    set_password(&pg, ROLE, CONFORMANCE_OLD);
    assert!(can_login(&pg, ROLE, CONFORMANCE_OLD));
    let auth = cutover(&pg, ROLE);
    let checks = rotor_testkit::conformance::authority_suite(&auth, Some(ROLE), Some(ROLE));
    assert_eq!(checks, 9);
    // The suite's values (see conformance.rs) never reached the log.
    assert_log_clean(
        &pg,
        &[
            CONFORMANCE_OLD,
            "conformance-new-value-0123456789",
            INITIAL,
            pg.admin_password(),
        ],
    );
}

#[test]
fn apply_switches_the_login_and_undo_switches_it_back() {
    let pg = server_with_role(ROLE);
    let auth = cutover(&pg, ROLE);
    let old = SecretValue::new(INITIAL.to_owned());
    let new = SecretValue::new("new-password-9a8b7c6d5e4f-rotated".to_owned());

    assert_eq!(
        auth.verify(Credential::new(Some(ROLE), &old))
            .expect("verify"),
        Acceptance::Accepted
    );
    assert_eq!(
        auth.verify(Credential::new(Some(ROLE), &new))
            .expect("verify"),
        Acceptance::Refused
    );

    auth.apply(
        Credential::new(Some(ROLE), &new),
        Some(Credential::new(Some(ROLE), &old)),
    )
    .expect("apply");
    assert!(
        can_login(&pg, ROLE, new.expose()),
        "new password after apply"
    );
    assert!(
        !can_login(&pg, ROLE, old.expose()),
        "old password after apply"
    );
    assert_eq!(
        auth.verify(Credential::new(Some(ROLE), &new))
            .expect("verify"),
        Acceptance::Accepted
    );
    assert_eq!(
        auth.verify(Credential::new(Some(ROLE), &old))
            .expect("verify"),
        Acceptance::Refused
    );

    auth.undo(
        Credential::new(Some(ROLE), &new),
        Some(Credential::new(Some(ROLE), &old)),
    )
    .expect("undo");
    auth.undo(
        Credential::new(Some(ROLE), &new),
        Some(Credential::new(Some(ROLE), &old)),
    )
    .expect("undo twice");
    assert!(
        can_login(&pg, ROLE, old.expose()),
        "old password after undo"
    );
    assert!(
        !can_login(&pg, ROLE, new.expose()),
        "new password after undo"
    );

    auth.apply(
        Credential::new(Some(ROLE), &new),
        Some(Credential::new(Some(ROLE), &old)),
    )
    .expect("apply again");
    auth.retire(
        Credential::new(Some(ROLE), &old),
        Credential::new(Some(ROLE), &new),
    )
    .expect("retire");
    assert!(can_login(&pg, ROLE, new.expose()));
    assert!(!can_login(&pg, ROLE, old.expose()));

    assert_log_clean(&pg, &[old.expose(), new.expose(), pg.admin_password()]);
}

#[test]
fn role_names_are_quoted_identifiers() {
    let role = "app \"blue\"; DROP ROLE postgres; --";
    let pg = server_with_role(role);
    let auth = cutover(&pg, role);
    let new = SecretValue::new("quoted-role-password-31415926".to_owned());
    auth.apply(Credential::new(Some(ROLE), &new), None)
        .expect("apply");
    assert!(can_login(&pg, role, new.expose()));
    assert!(
        can_login(&pg, "postgres", pg.admin_password()),
        "superuser intact"
    );
    assert!(PostgresCutover::new(SecretString::from(pg.admin_url()), "a\0b").is_err());
}

#[test]
fn a_bad_admin_password_is_permanent() {
    let pg = server_with_role(ROLE);
    let url = pg
        .admin_url()
        .replace(pg.admin_password(), "wrong-admin-password-271828");
    let auth = PostgresCutover::new(SecretString::from(url), ROLE).expect("authority");
    let new = SecretValue::new("never-applied-password-161803".to_owned());
    let err = auth
        .apply(Credential::new(Some(ROLE), &new), None)
        .expect_err("bad admin password");
    // apply refused before changing anything
    assert!(matches!(err, AuthorityError::Unchanged { .. }), "{err}");
    assert!(
        err.to_string().contains("password authentication failed"),
        "{err}"
    );
    assert_quotes_nothing(
        &err,
        &[
            "wrong-admin-password-271828",
            pg.admin_password(),
            new.expose(),
        ],
    );
    assert!(can_login(&pg, ROLE, INITIAL), "nothing changed");
}

#[test]
fn an_admin_without_createrole_is_permanent() {
    let pg = server_with_role(ROLE);
    let weak_pw = "weak-admin-password-57721566";
    let verifier = postgres_protocol::password::scram_sha_256(weak_pw.as_bytes());
    admin_sql(
        &pg,
        &format!("CREATE ROLE weak LOGIN PASSWORD '{verifier}'"),
    );
    let url = format!("postgres://weak:{weak_pw}@127.0.0.1:{}/postgres", pg.port());
    let auth = PostgresCutover::new(SecretString::from(url), ROLE).expect("authority");
    let new = SecretValue::new("never-applied-password-14142135".to_owned());
    let err = auth
        .apply(Credential::new(Some(ROLE), &new), None)
        .expect_err("no CREATEROLE");
    // apply refused before changing anything
    assert!(matches!(err, AuthorityError::Unchanged { .. }), "{err}");
    assert!(err.to_string().contains("42501"), "{err}");
    assert_quotes_nothing(&err, &[weak_pw, new.expose()]);
    assert!(can_login(&pg, ROLE, INITIAL), "nothing changed");
}

#[test]
fn a_missing_role_is_permanent() {
    let pg = server_with_role(ROLE);
    let auth = cutover(&pg, "no_such_role");
    let new = SecretValue::new("never-applied-password-17320508".to_owned());
    let err = auth
        .apply(Credential::new(Some(ROLE), &new), None)
        .expect_err("missing role");
    // apply refused before changing anything
    assert!(matches!(err, AuthorityError::Unchanged { .. }), "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert_quotes_nothing(&err, &[pg.admin_password(), new.expose()]);
    // A login as a role that does not exist is simply refused.
    assert_eq!(
        auth.verify(Credential::new(Some(ROLE), &new))
            .expect("verify"),
        Acceptance::Refused
    );
}

#[test]
fn a_stopped_server_is_transient() {
    let mut pg = server_with_role(ROLE);
    let auth = cutover(&pg, ROLE);
    pg.stop();
    let new = SecretValue::new("never-applied-password-22360679".to_owned());
    let err = auth
        .apply(Credential::new(Some(ROLE), &new), None)
        .expect_err("server down");
    // apply never got through: it changed nothing
    assert!(matches!(err, AuthorityError::Unchanged { .. }), "{err}");
    assert_quotes_nothing(&err, &[pg.admin_password(), new.expose()]);
    let err = auth
        .verify(Credential::new(Some(ROLE), &new))
        .expect_err("server down");
    assert!(matches!(err, AuthorityError::Transient { .. }), "{err}");
    let old = SecretValue::new(INITIAL.to_owned());
    let err = auth
        .undo(
            Credential::new(Some(ROLE), &new),
            Some(Credential::new(Some(ROLE), &old)),
        )
        .expect_err("server down");
    assert!(matches!(err, AuthorityError::Transient { .. }), "{err}");
    assert_quotes_nothing(&err, &[pg.admin_password(), INITIAL]);
}

#[test]
fn valid_for_sets_valid_until_and_its_absence_infinity() {
    let pg = server_with_role(ROLE);
    admin_sql(&pg, &format!("ALTER ROLE {ROLE} VALID UNTIL '2000-01-01'"));
    let new = SecretValue::new("expiring-password-112358132134".to_owned());
    let day = std::time::Duration::from_secs(24 * 3600);
    cutover(&pg, ROLE)
        .valid_for(Some(day))
        .apply(Credential::new(Some(ROLE), &new), None)
        .expect("apply with valid_for");
    assert_eq!(
        valid_until(&pg, ROLE),
        "future, within a day",
        "VALID UNTIL now + valid_for"
    );
    cutover(&pg, ROLE)
        .apply(Credential::new(Some(ROLE), &new), None)
        .expect("apply without valid_for");
    assert_eq!(valid_until(&pg, ROLE), "infinity");
}

/// Where `role`'s VALID UNTIL stands, in words the tests compare.
fn valid_until(pg: &Postgres, role: &str) -> String {
    runtime().block_on(async {
        let (client, conn) = tokio_postgres::connect(&pg.admin_url(), tokio_postgres::NoTls)
            .await
            .expect("admin connect");
        let conn = tokio::spawn(conn);
        let row = client
            .query_one(
                "SELECT CASE WHEN rolvaliduntil = 'infinity' THEN 'infinity' \
                        WHEN rolvaliduntil > now() AND rolvaliduntil <= now() + interval '1 day' \
                        THEN 'future, within a day' \
                        ELSE coalesce(rolvaliduntil::text, 'none') END \
                 FROM pg_roles WHERE rolname = $1::text",
                &[&role],
            )
            .await
            .expect("read rolvaliduntil");
        drop(client);
        let _ = conn.await;
        row.get(0)
    })
}

/// An admin URL without a database (`postgres://postgres:…@host:port`)
/// reaches the database named like the admin user. The login check as the
/// role goes to that same database, not to one named like the role (which
/// does not exist).
#[test]
fn an_admin_url_without_a_database_checks_the_login_in_the_admins() {
    let pg = server_with_role(ROLE);
    let url = pg
        .admin_url()
        .strip_suffix("/postgres")
        .expect("the testkit URL ends in /postgres")
        .to_owned();
    let auth = PostgresCutover::new(SecretString::from(url), ROLE).expect("authority");
    let new = SecretValue::new("no-database-in-url-password-4d5e6f".to_owned());
    auth.apply(Credential::new(Some(ROLE), &new), None)
        .expect("apply logs in as the role");
    assert_eq!(
        auth.verify(Credential::new(Some(ROLE), &new))
            .expect("verify"),
        Acceptance::Accepted
    );
    assert!(can_login(&pg, ROLE, new.expose()));
}

/// Another session holds the role locked (an ALTER ROLE in a transaction
/// left open): apply gives up after the lock timeout, as transient and
/// having changed nothing, instead of waiting forever with the run held.
#[test]
fn a_role_locked_by_another_session_fails_instead_of_hanging() {
    let pg = server_with_role(ROLE);
    let rt = runtime();
    let (holder, conn) = rt
        .block_on(tokio_postgres::connect(
            &pg.admin_url(),
            tokio_postgres::NoTls,
        ))
        .expect("admin connect");
    // The connection task runs on a thread of its own while the holder
    // keeps its transaction open.
    let driver = std::thread::spawn(move || rt.block_on(conn));
    let hold = runtime();
    hold.block_on(holder.batch_execute(&format!("BEGIN; ALTER ROLE {ROLE} CONNECTION LIMIT 7")))
        .expect("lock the role");

    let new = SecretValue::new("locked-role-password-6a7b8c9d".to_owned());
    let err = cutover(&pg, ROLE)
        .apply(Credential::new(Some(ROLE), &new), None)
        .expect_err("the role is locked");
    assert!(err.changed_nothing(), "{err:?}");
    assert!(err.to_string().contains("lock timeout"), "{err}");
    assert_quotes_nothing(&err, &[new.expose(), pg.admin_password()]);
    assert!(
        can_login(&pg, ROLE, INITIAL),
        "the old password still works"
    );

    hold.block_on(holder.batch_execute("ROLLBACK"))
        .expect("release the lock");
    drop(holder);
    let _ = driver.join();
    cutover(&pg, ROLE)
        .apply(Credential::new(Some(ROLE), &new), None)
        .expect("apply once the lock is gone");
    assert!(can_login(&pg, ROLE, new.expose()));
}
