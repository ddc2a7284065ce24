//! The PostgreSQL `alternate` authority against a real throwaway server
//! (rotor-testkit's `Postgres`, PostgreSQL 15): the conformance suite;
//! memberships and settings copied to the idle role (a quoted search_path
//! element, a per-database setting) and read back identical; the conversion
//! of a single login role that keeps its privileges as the group; the
//! refusals that change nothing; retire waiting for sessions, NOLOGIN and
//! DROP; undo after retire; drift; no plaintext password in the server log;
//! transient vs permanent errors that quote no password.

use std::time::Duration;

use rotor::authority::postgres::PostgresAlternate;
use rotor::authority::{Acceptance, Authority, AuthorityError, Credential};
use rotor::inventory::RetireMode;
use rotor::secret::SecretValue;
use rotor_testkit::leaks::assert_quotes_nothing;
use rotor_testkit::Postgres;
use secrecy::SecretString;

const GROUP: &str = "app";
const BLUE: &str = "app_blue";
const GREEN: &str = "app_green";
/// The old value the conformance suite starts from (see rotor-testkit's
/// conformance.rs).
const CONFORMANCE_OLD: &str = "conformance-old-value-0123456789";
const OLD: &str = "old-password-5f0c1d2e3a4b-blue";
const NEW: &str = "new-password-9a8b7c6d5e4f-green";

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

/// The first column of every row of `sql` (cast to text by the query), as
/// the superuser.
fn admin_rows(pg: &Postgres, sql: &str) -> Vec<String> {
    pg.column(sql)
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

fn config(pg: &Postgres, role: &str, password: &str) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(pg.port())
        .dbname("postgres")
        .user(role)
        .password(password);
    config
}

/// Runs `sql` logged in as `role` (a direct client, not rotor); the first
/// column of every row, or the error's text.
fn as_role(pg: &Postgres, role: &str, password: &str, sql: &str) -> Result<Vec<String>, String> {
    runtime().block_on(async {
        let (client, conn) = config(pg, role, password)
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let conn = tokio::spawn(conn);
        let rows = client.query(sql, &[]).await.map_err(|e| e.to_string());
        drop(client);
        let _ = conn.await;
        Ok(rows?
            .iter()
            .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
            .collect())
    })
}

fn can_login(pg: &Postgres, role: &str, password: &str) -> bool {
    as_role(pg, role, password, "SELECT 'ok'").is_ok()
}

fn verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// A server logging every statement, with the NOLOGIN group and `BLUE` as
/// the live login (member of the group, password `old` set as a verifier).
fn pair_server(old: &str) -> Postgres {
    let pg = Postgres::start_with(&[("log_statement", "all")]);
    admin_sql(
        &pg,
        &format!(
            "CREATE ROLE {GROUP} NOLOGIN; \
             CREATE ROLE {BLUE} LOGIN PASSWORD '{}' IN ROLE {GROUP};",
            verifier(old)
        ),
    );
    assert!(can_login(&pg, BLUE, old), "initial login");
    pg
}

fn alternate(pg: &Postgres) -> PostgresAlternate {
    PostgresAlternate::new(
        SecretString::from(pg.admin_url()),
        GROUP,
        [BLUE.into(), GREEN.into()],
    )
    .expect("authority")
}

fn cred<'a>(user: &'a str, value: &'a SecretValue) -> Credential<'a> {
    Credential::new(Some(user), value)
}

fn values() -> (SecretValue, SecretValue) {
    (
        SecretValue::new(OLD.to_owned()),
        SecretValue::new(NEW.to_owned()),
    )
}

fn assert_log_clean(pg: &Postgres, values: &[&str]) {
    pg.assert_log_holds_none("ROLE", values);
}

/// The message of an error retrying cannot help with: permanent, or (for a
/// step that changed nothing, which the engine need not undo) unchanged.
fn permanent_text(err: &AuthorityError) -> &str {
    match err {
        AuthorityError::Permanent { message, .. } | AuthorityError::Unchanged { message, .. } => {
            message
        }
        AuthorityError::Transient { message, .. } => {
            panic!("expected a permanent error, got a transient one: {message}")
        }
    }
}

fn assert_unchanged(err: &AuthorityError) {
    assert!(
        err.changed_nothing(),
        "apply should say it changed nothing: {err}"
    );
}

/// `role`'s memberships (`name` or `name*` with ADMIN OPTION), sorted.
fn memberships(pg: &Postgres, role: &str) -> Vec<String> {
    admin_rows(
        pg,
        &format!(
            "SELECT r.rolname || CASE WHEN m.admin_option THEN '*' ELSE '' END \
             FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
             WHERE m.member = '{role}'::regrole ORDER BY 1"
        ),
    )
}

/// `role`'s settings as `database: name=value`, sorted.
fn settings(pg: &Postgres, role: &str) -> Vec<String> {
    admin_rows(
        pg,
        &format!(
            "SELECT coalesce(d.datname, '*') || ': ' || c \
             FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase, \
                  unnest(s.setconfig) c \
             WHERE s.setrole = '{role}'::regrole ORDER BY 1"
        ),
    )
}

fn role_exists(pg: &Postgres, role: &str) -> bool {
    admin_rows(
        pg,
        &format!("SELECT rolname::text FROM pg_roles WHERE rolname = '{role}'"),
    )
    .len()
        == 1
}

fn role_can_login(pg: &Postgres, role: &str) -> bool {
    admin_rows(
        pg,
        &format!("SELECT rolcanlogin::text FROM pg_roles WHERE rolname = '{role}'"),
    ) == ["true"]
}

#[test]
fn passes_the_authority_conformance_suite() {
    let pg = pair_server(CONFORMANCE_OLD);
    let auth = alternate(&pg);
    let checks = rotor_testkit::conformance::authority_suite(&auth, Some(BLUE), Some(GREEN));
    assert_eq!(checks, 9);
    assert!(!role_can_login(&pg, BLUE), "the retired role is NOLOGIN");
    assert!(role_can_login(&pg, GREEN));
    assert_eq!(memberships(&pg, GREEN), [GROUP]);
    assert_log_clean(
        &pg,
        &[
            CONFORMANCE_OLD,
            "conformance-new-value-0123456789",
            pg.admin_password(),
        ],
    );
}

#[test]
fn memberships_and_settings_are_copied_and_read_back_identical() {
    let pg = pair_server(OLD);
    admin_sql(
        &pg,
        &format!(
            "CREATE ROLE reporting NOLOGIN; CREATE ROLE auditor NOLOGIN; \
             CREATE SCHEMA app; CREATE SCHEMA \"B c\"; \
             GRANT reporting TO {BLUE} WITH ADMIN OPTION; \
             ALTER ROLE {BLUE} SET search_path = app, \"B c\", \"$user\"; \
             ALTER ROLE {BLUE} SET myapp.tenant = 'it''s'; \
             ALTER ROLE {BLUE} IN DATABASE postgres SET statement_timeout = '5s'; \
             CREATE ROLE {GREEN} NOLOGIN IN ROLE auditor; \
             ALTER ROLE {GREEN} SET work_mem = '8MB'; \
             ALTER ROLE {GREEN} IN DATABASE template1 SET lock_timeout = '1s';"
        ),
    );
    let auth = alternate(&pg);
    let (old, new) = values();
    auth.apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect("apply");

    assert_eq!(memberships(&pg, BLUE), ["app", "reporting*"]);
    assert_eq!(memberships(&pg, GREEN), memberships(&pg, BLUE));
    assert_eq!(
        settings(&pg, BLUE),
        [
            "*: myapp.tenant=it's",
            "*: search_path=app, \"B c\", \"$user\"",
            "postgres: statement_timeout=5s",
        ]
    );
    assert_eq!(settings(&pg, GREEN), settings(&pg, BLUE));

    // What a session of the new login sees.
    assert_eq!(
        as_role(&pg, GREEN, NEW, "SHOW search_path").expect("login as green"),
        ["app, \"B c\", \"$user\""]
    );
    assert_eq!(
        as_role(&pg, GREEN, NEW, "SHOW statement_timeout").expect("login as green"),
        ["5s"]
    );
    assert!(can_login(&pg, BLUE, OLD), "the live login still works");

    // Before retire the old login still works: that is drift, said so.
    let drift = auth.drift(cred(GREEN, &new), None).expect("drift");
    assert_eq!(drift, [format!("{BLUE} can still log in")]);
    // Unless it is the previous credential, waiting for its retire.
    assert!(auth
        .drift(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect("drift")
        .is_empty());
    auth.retire(cred(BLUE, &old), cred(GREEN, &new))
        .expect("retire");
    assert!(auth
        .drift(cred(GREEN, &new), None)
        .expect("drift")
        .is_empty());

    // A change to one role only is drift, named without its value.
    admin_sql(
        &pg,
        &format!("ALTER ROLE {GREEN} SET work_mem = '64MB'; GRANT auditor TO {GREEN};"),
    );
    let drift = auth.drift(cred(GREEN, &new), None).expect("drift");
    assert_eq!(
        drift,
        [
            format!("{BLUE} is not a member of auditor, unlike {GREEN}"),
            format!("{GREEN} sets work_mem and {BLUE} does not"),
        ]
    );
    assert!(!drift.iter().any(|s| s.contains("64MB")));
    assert_log_clean(&pg, &[OLD, NEW]);
}

#[test]
fn converting_a_single_login_role_keeps_its_privileges_on_the_group() {
    let pg = Postgres::start_with(&[("log_statement", "all")]);
    // The application's one role: LOGIN, owns a table, granted on another.
    admin_sql(
        &pg,
        &format!(
            "CREATE ROLE {GROUP} LOGIN PASSWORD '{}'; \
             ALTER ROLE {GROUP} SET search_path = app, public; \
             CREATE SCHEMA app AUTHORIZATION {GROUP}; \
             CREATE TABLE app.owned (x int); ALTER TABLE app.owned OWNER TO {GROUP}; \
             INSERT INTO app.owned VALUES (1); \
             CREATE TABLE public.granted (y int); INSERT INTO public.granted VALUES (2); \
             GRANT SELECT ON public.granted TO {GROUP};",
            verifier(OLD)
        ),
    );
    assert!(can_login(&pg, GROUP, OLD));
    // retire = drop, to show the group is never dropped.
    let auth = alternate(&pg).retire_mode(RetireMode::Drop);
    let (old, new) = values();
    let first = auth.next_user(Some(GROUP)).expect("next").expect("a role");
    assert_eq!(first, BLUE);

    auth.apply(cred(BLUE, &new), Some(cred(GROUP, &old)))
        .expect("apply (conversion)");
    assert_eq!(memberships(&pg, BLUE), [GROUP]);
    assert_eq!(settings(&pg, BLUE), settings(&pg, GROUP));
    assert!(
        can_login(&pg, GROUP, OLD),
        "the old login works until retire"
    );
    auth.retire(cred(GROUP, &old), cred(BLUE, &new))
        .expect("retire (conversion)");

    assert!(role_exists(&pg, GROUP), "the group is never dropped");
    assert!(!role_can_login(&pg, GROUP), "the group is NOLOGIN now");
    assert!(!can_login(&pg, GROUP, OLD));
    assert_eq!(
        as_role(&pg, BLUE, NEW, "SELECT x::text FROM owned").expect("owned table"),
        ["1"]
    );
    assert_eq!(
        as_role(&pg, BLUE, NEW, "SELECT y::text FROM granted").expect("granted table"),
        ["2"]
    );
    assert_eq!(
        admin_rows(
            &pg,
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 'owned'"
        ),
        [GROUP]
    );

    // The next rotation is an ordinary one: app_green, then app_blue goes.
    let newer = SecretValue::new("newer-password-0f1e2d3c4b5a".to_owned());
    assert_eq!(
        auth.next_user(Some(BLUE)).expect("next"),
        Some(GREEN.to_owned())
    );
    auth.apply(cred(GREEN, &newer), Some(cred(BLUE, &new)))
        .expect("apply (second rotation)");
    auth.retire(cred(BLUE, &new), cred(GREEN, &newer))
        .expect("retire (second rotation)");
    assert!(
        !role_exists(&pg, BLUE),
        "retire = drop drops a role of the pair"
    );
    assert_eq!(
        as_role(&pg, GREEN, newer.expose(), "SELECT x::text FROM owned").expect("owned table"),
        ["1"]
    );
    assert!(auth
        .drift(cred(GREEN, &newer), None)
        .expect("drift")
        .is_empty());
    assert_log_clean(&pg, &[OLD, NEW, newer.expose()]);
}

#[test]
fn a_live_role_holding_grants_directly_is_refused_and_nothing_changes() {
    let pg = pair_server(OLD);
    admin_sql(
        &pg,
        &format!("CREATE TABLE direct (x int); GRANT SELECT ON direct TO {BLUE};"),
    );
    let auth = alternate(&pg);
    let (old, new) = values();
    let err = auth
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("direct grant");
    assert_unchanged(&err);
    let text = permanent_text(&err);
    assert!(
        text.contains("app_blue has privileges on table direct"),
        "{text}"
    );
    assert!(text.contains("nothing was changed"), "{text}");
    assert_quotes_nothing(&err, &[OLD, NEW, pg.admin_password()]);
    assert!(!role_exists(&pg, GREEN), "nothing was created");
    assert!(can_login(&pg, BLUE, OLD));
}

#[test]
fn a_live_attribute_the_idle_role_lacks_is_refused() {
    let pg = pair_server(OLD);
    admin_sql(&pg, &format!("ALTER ROLE {BLUE} CREATEDB"));
    let (old, new) = values();
    let err = alternate(&pg)
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("CREATEDB");
    assert_unchanged(&err);
    let text = permanent_text(&err);
    assert!(text.contains("app_blue has CREATEDB"), "{text}");
    assert!(!role_exists(&pg, GREEN), "nothing was created");
}

/// The other way round: an idle role given an attribute by hand (here
/// SUPERUSER) would hand it to the consumers once they log in as it. The
/// rotation is refused, and drift names it.
#[test]
fn an_idle_attribute_the_live_role_lacks_is_refused_and_is_drift() {
    let pg = pair_server(OLD);
    admin_sql(
        &pg,
        &format!("CREATE ROLE {GREEN} NOLOGIN SUPERUSER IN ROLE {GROUP}"),
    );
    let (old, new) = values();
    let auth = alternate(&pg);
    assert_eq!(
        auth.drift(cred(BLUE, &old), None).expect("drift"),
        [format!("{GREEN} has SUPERUSER, unlike {BLUE}")]
    );
    let err = auth
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("SUPERUSER on the idle role");
    assert_unchanged(&err);
    let text = permanent_text(&err);
    assert!(text.contains("app_green has SUPERUSER"), "{text}");
    assert!(text.contains("NOSUPERUSER"), "{text}");
    assert!(!role_can_login(&pg, GREEN), "nothing was changed");
    assert!(can_login(&pg, BLUE, OLD));

    admin_sql(&pg, &format!("ALTER ROLE {GREEN} NOSUPERUSER"));
    auth.apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect("apply once the idle role is like the live one");
}

#[test]
fn a_missing_or_logging_in_group_is_refused() {
    let pg = pair_server(OLD);
    let (old, new) = values();
    let missing = PostgresAlternate::new(
        SecretString::from(pg.admin_url()),
        "no_such_group",
        [BLUE.into(), GREEN.into()],
    )
    .expect("authority");
    let err = missing
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("missing group");
    assert_unchanged(&err);
    let text = permanent_text(&err);
    assert!(
        text.contains("the group role no_such_group does not exist")
            && text.contains("CREATE ROLE no_such_group NOLOGIN"),
        "{text}"
    );

    let err = alternate(&pg)
        .apply(cred(GREEN, &new), Some(cred("no_such_live", &old)))
        .expect_err("missing live role");
    assert!(
        permanent_text(&err).contains("the live role no_such_live does not exist"),
        "{err}"
    );

    admin_sql(&pg, &format!("ALTER ROLE {GROUP} LOGIN"));
    let err = alternate(&pg)
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("group with LOGIN");
    let text = permanent_text(&err);
    assert!(text.contains("the group role app can log in"), "{text}");
    assert!(!role_exists(&pg, GREEN), "nothing was created");
}

#[test]
fn a_server_error_mid_apply_is_permanent_and_changes_nothing() {
    let pg = pair_server(OLD);
    // app_green exists and the group is a member of it: granting the group
    // to app_green is a circular membership the server refuses, after the
    // ALTER ROLE that gave app_green its login in the same transaction.
    admin_sql(
        &pg,
        &format!("CREATE ROLE {GREEN} NOLOGIN; GRANT {GREEN} TO {GROUP};"),
    );
    let auth = alternate(&pg);
    let (old, new) = values();
    let err = auth
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("circular membership");
    assert_unchanged(&err);
    let text = permanent_text(&err);
    assert!(text.contains("is a member of role"), "{text}");
    assert!(text.contains("GRANT"), "{text}");
    assert_quotes_nothing(&err, &[OLD, NEW, pg.admin_password()]);
    assert!(
        !role_can_login(&pg, GREEN),
        "the ALTER ROLE was rolled back"
    );
    assert_eq!(
        auth.verify(cred(GREEN, &new)).expect("verify"),
        Acceptance::Refused
    );
    assert_eq!(
        auth.verify(cred(BLUE, &old)).expect("verify"),
        Acceptance::Accepted
    );
}

#[test]
fn retire_waits_for_the_old_roles_sessions() {
    let pg = pair_server(OLD);
    let (old, new) = values();
    alternate(&pg)
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect("apply");

    // A consumer still logged in as the old role.
    let held = runtime();
    let (client, conn) = held
        .block_on(
            config(&pg, BLUE, OLD)
                .application_name("held-open-test")
                .connect(tokio_postgres::NoTls),
        )
        .expect("hold a session open");
    let conn = held.spawn(conn);

    let impatient = alternate(&pg).drain_timeout(Duration::from_secs(1));
    let err = impatient
        .retire(cred(BLUE, &old), cred(GREEN, &new))
        .expect_err("a session is open");
    let AuthorityError::Transient { message, .. } = &err else {
        panic!("expected a transient error: {err}");
    };
    assert!(
        message.starts_with("1 session of app_blue still open after 1s (pids "),
        "{message}"
    );
    assert!(
        message.contains("application names held-open-test")
            && message.contains("they keep working; retry `rotor retire`"),
        "{message}"
    );
    assert_quotes_nothing(&err, &[OLD, NEW, pg.admin_password()]);
    assert!(role_can_login(&pg, BLUE), "nothing retired yet");
    assert!(can_login(&pg, BLUE, OLD));

    // The consumer goes away; retire goes through.
    drop(client);
    let _ = held.block_on(conn);
    let patient = alternate(&pg).drain_timeout(Duration::from_secs(60));
    patient
        .retire(cred(BLUE, &old), cred(GREEN, &new))
        .expect("retire after the session closed");
    assert!(!role_can_login(&pg, BLUE));
    assert!(can_login(&pg, GREEN, NEW));
}

#[test]
fn retire_drop_drops_the_old_role_and_hands_its_objects_to_the_group() {
    let pg = pair_server(OLD);
    let auth = alternate(&pg).retire_mode(RetireMode::Drop);
    let (old, new) = values();
    auth.apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect("apply");
    // Something the old role created meanwhile.
    admin_sql(
        &pg,
        &format!("CREATE TABLE made_by_blue (x int); ALTER TABLE made_by_blue OWNER TO {BLUE};"),
    );
    auth.retire(cred(BLUE, &old), cred(GREEN, &new))
        .expect("retire");
    auth.retire(cred(BLUE, &old), cred(GREEN, &new))
        .expect("retire twice");
    assert!(!role_exists(&pg, BLUE));
    assert_eq!(
        admin_rows(
            &pg,
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 'made_by_blue'"
        ),
        [GROUP]
    );
    assert!(can_login(&pg, GREEN, NEW));
}

#[test]
fn undo_after_retire_gives_the_old_login_back() {
    for mode in [RetireMode::Nologin, RetireMode::Drop] {
        let pg = pair_server(OLD);
        admin_sql(
            &pg,
            &format!(
                "CREATE ROLE reporting NOLOGIN; GRANT reporting TO {BLUE}; \
                 ALTER ROLE {BLUE} SET statement_timeout = '7s';"
            ),
        );
        let auth = alternate(&pg).retire_mode(mode);
        let (old, new) = values();
        auth.apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
            .expect("apply");
        auth.retire(cred(BLUE, &old), cred(GREEN, &new))
            .expect("retire");
        assert!(!can_login(&pg, BLUE, OLD), "{mode:?}: retired");

        // A crash after retire, then rollback.
        auth.undo(cred(GREEN, &new), Some(cred(BLUE, &old)))
            .expect("undo");
        auth.undo(cred(GREEN, &new), Some(cred(BLUE, &old)))
            .expect("undo twice");
        assert!(can_login(&pg, BLUE, OLD), "{mode:?}: old login is back");
        assert!(!can_login(&pg, GREEN, NEW), "{mode:?}: new login is gone");
        assert!(!role_can_login(&pg, GREEN), "{mode:?}");
        assert_eq!(memberships(&pg, BLUE), ["app", "reporting"], "{mode:?}");
        assert_eq!(settings(&pg, BLUE), ["*: statement_timeout=7s"], "{mode:?}");
        assert_log_clean(&pg, &[OLD, NEW]);
    }
}

#[test]
fn an_admin_without_createrole_is_permanent() {
    let pg = pair_server(OLD);
    let weak_pw = "weak-admin-password-57721566";
    admin_sql(
        &pg,
        &format!("CREATE ROLE weak LOGIN PASSWORD '{}'", verifier(weak_pw)),
    );
    let url = format!("postgres://weak:{weak_pw}@127.0.0.1:{}/postgres", pg.port());
    let auth = PostgresAlternate::new(SecretString::from(url), GROUP, [BLUE.into(), GREEN.into()])
        .expect("authority");
    let (old, new) = values();
    let err = auth
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("no CREATEROLE");
    assert_unchanged(&err);
    let text = permanent_text(&err);
    assert!(text.contains("lacks CREATEROLE"), "{text}");
    assert_quotes_nothing(&err, &[weak_pw, OLD, NEW]);
    assert!(!role_exists(&pg, GREEN), "nothing was created");
    let err = auth
        .retire(cred(BLUE, &old), cred(GREEN, &new))
        .expect_err("no CREATEROLE");
    assert!(permanent_text(&err).contains("CREATEROLE"), "{err}");
    assert!(can_login(&pg, BLUE, OLD), "nothing changed");
}

#[test]
fn a_bad_admin_password_is_permanent() {
    let pg = pair_server(OLD);
    let url = pg
        .admin_url()
        .replace(pg.admin_password(), "wrong-admin-password-271828");
    let auth = PostgresAlternate::new(SecretString::from(url), GROUP, [BLUE.into(), GREEN.into()])
        .expect("authority");
    let (old, new) = values();
    let err = auth
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("bad admin password");
    assert_unchanged(&err);
    let text = permanent_text(&err);
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(text.contains("check the admin URL"), "{text}");
    assert_quotes_nothing(
        &err,
        &["wrong-admin-password-271828", pg.admin_password(), OLD, NEW],
    );
    assert!(!role_exists(&pg, GREEN));
}

#[test]
fn a_stopped_server_is_transient() {
    let mut pg = pair_server(OLD);
    let auth = alternate(&pg);
    pg.stop();
    let (old, new) = values();
    // apply never got through: it changed nothing (the engine's word for
    // that outranks "transient"); the other steps are worth retrying.
    let err = auth
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("apply");
    assert_unchanged(&err);
    assert!(err.to_string().contains("admin connection"), "{err}");
    assert_quotes_nothing(&err, &[OLD, NEW, pg.admin_password()]);
    let errors = [
        auth.verify(cred(BLUE, &old)).expect_err("verify"),
        auth.retire(cred(BLUE, &old), cred(GREEN, &new))
            .expect_err("retire"),
        auth.undo(cred(GREEN, &new), Some(cred(BLUE, &old)))
            .expect_err("undo"),
        auth.drift(cred(GREEN, &new), None).expect_err("drift"),
    ];
    for err in &errors {
        assert!(matches!(err, AuthorityError::Transient { .. }), "{err}");
        assert_quotes_nothing(err, &[OLD, NEW, pg.admin_password()]);
    }
}

#[test]
fn build_makes_an_alternating_pair_from_either_admin_form() {
    use rotor::authority::postgres::build;
    use rotor::authority::Admin;
    use rotor::inventory::{AdminSource, PostgresAuthority, Strategy};

    let pg = pair_server(OLD);
    let spec = PostgresAuthority {
        admin: AdminSource::Env("UNUSED_HERE".into()),
        group: Some(GROUP.into()),
        roles: vec![BLUE.into(), GREEN.into()],
        retire: RetireMode::Nologin,
        drain_timeout: Duration::from_secs(5),
        valid_for: None,
        retire_delay: Duration::ZERO,
    };
    let (old, new) = values();
    let by_url = build(
        &spec,
        &Strategy::Alternate,
        Admin::Url(SecretString::from(pg.admin_url())),
    )
    .expect("build with Admin::Url");
    assert_eq!(
        by_url.next_user(Some(BLUE)).expect("next"),
        Some(GREEN.to_owned())
    );
    by_url
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect("apply through Admin::Url");

    let url = pg
        .admin_url()
        .replace(&format!(":{}@", pg.admin_password()), "@");
    let by_parts = build(
        &spec,
        &Strategy::Alternate,
        Admin::UrlAndPassword {
            url,
            password: SecretValue::new(pg.admin_password().to_owned()),
        },
    )
    .expect("build with Admin::UrlAndPassword");
    by_parts
        .retire(cred(BLUE, &old), cred(GREEN, &new))
        .expect("retire through Admin::UrlAndPassword");
    assert_eq!(
        by_parts.verify(cred(BLUE, &old)).expect("verify"),
        Acceptance::Refused
    );
    assert_eq!(
        by_parts.verify(cred(GREEN, &new)).expect("verify"),
        Acceptance::Accepted
    );
}

#[test]
fn a_superuser_only_setting_a_createrole_admin_cannot_copy_changes_nothing() {
    let pg = pair_server(OLD);
    let admin_pw = "createrole-admin-password-6180339";
    admin_sql(
        &pg,
        &format!(
            "CREATE ROLE rotor_admin LOGIN CREATEROLE PASSWORD '{}'; \
             ALTER ROLE {BLUE} SET log_min_duration_statement = '250ms';",
            verifier(admin_pw)
        ),
    );
    let url = format!(
        "postgres://rotor_admin:{admin_pw}@127.0.0.1:{}/postgres",
        pg.port()
    );
    let auth = PostgresAlternate::new(SecretString::from(url), GROUP, [BLUE.into(), GREEN.into()])
        .expect("authority");
    let (old, new) = values();
    let err = auth
        .apply(cred(GREEN, &new), Some(cred(BLUE, &old)))
        .expect_err("superuser-only parameter");
    assert_unchanged(&err);
    let text = permanent_text(&err);
    assert!(
        text.contains("ALTER ROLE app_green SET log_min_duration_statement")
            && text.contains("42501")
            && text.contains("superuser-only parameter"),
        "{text}"
    );
    assert!(!text.contains("250ms"), "the value is not quoted: {text}");
    assert_quotes_nothing(&err, &[admin_pw, OLD, NEW]);
    assert!(!role_exists(&pg, GREEN), "the transaction was rolled back");
    assert!(can_login(&pg, BLUE, OLD), "the old login still works");
}
