//! The throwaway PostgreSQL server: starts (as `nobody` when root), takes a
//! password login on its loopback port, answers a query, and is gone after
//! drop. The client is `tokio-postgres` on a current-thread runtime.

use rotor_testkit::Postgres;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

async fn select_one(url: &str) -> Result<i32, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let conn = tokio::spawn(conn);
    let row = client.query_one("SELECT 1", &[]).await?;
    drop(client);
    let _ = conn.await;
    Ok(row.get(0))
}

#[test]
fn starts_answers_select_one_and_stops() {
    let pg = Postgres::start();
    let url = pg.admin_url();
    assert!(url.starts_with("postgres://postgres:"), "{pg:?}");
    assert!(url.contains(&format!("@127.0.0.1:{}/", pg.port())));
    let rt = runtime();
    assert_eq!(rt.block_on(select_one(&url)).expect("SELECT 1"), 1);

    // scram-sha-256 is enforced: a wrong password is refused.
    let wrong = url.replace(pg.admin_password(), "not-the-password");
    let err = rt.block_on(select_one(&wrong)).expect_err("wrong password");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INVALID_PASSWORD),
        "{err:?}"
    );
    assert!(pg.log_contents().contains("password authentication failed"));

    // Dropping stops the server: the port no longer answers.
    drop(pg);
    assert!(rt.block_on(select_one(&url)).is_err(), "server still up");
}

#[test]
fn stop_keeps_the_files_and_refuses_connections() {
    let mut pg = Postgres::start_with(&[("log_statement", "all")]);
    let rt = runtime();
    rt.block_on(select_one(&pg.admin_url())).expect("SELECT 1");
    assert!(
        pg.log_contents().contains("SELECT 1"),
        "log_statement = all"
    );
    pg.stop();
    pg.stop();
    assert!(rt.block_on(select_one(&pg.admin_url())).is_err());
    assert!(!pg.log_contents().is_empty());
}

#[test]
fn a_panicking_test_still_stops_its_server() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let pg = Postgres::start();
        tx.send(pg.admin_url()).expect("send url");
        panic!("a test failing while its server runs");
    })
    .join();
    assert!(outcome.is_err(), "the thread panicked");
    let url = rx.recv().expect("url");
    assert!(
        runtime().block_on(select_one(&url)).is_err(),
        "server still up"
    );
}

/// Runs one statement as the superuser: `Ok`, or the server's SQLSTATE and
/// message.
fn try_sql(pg: &Postgres, sql: &str) -> Result<(), (String, String)> {
    runtime().block_on(async {
        let (client, conn) = tokio_postgres::connect(&pg.admin_url(), tokio_postgres::NoTls)
            .await
            .expect("superuser connect");
        let conn = tokio::spawn(conn);
        let result = client.batch_execute(sql).await.map_err(|e| {
            let db = e.as_db_error().expect("a server error");
            (db.code().code().to_owned(), db.message().to_owned())
        });
        drop(client);
        let _ = conn.await;
        result
    })
}

#[test]
fn the_policy_module_refuses_encrypted_and_short_passwords() {
    let pg = Postgres::start_with_module(
        std::path::Path::new(rotor_testkit::postgres::POLICY_MODULE),
        &[("log_min_messages", "warning")],
    );
    let loaded = pg.column("SHOW shared_preload_libraries");
    assert!(
        loaded[0]
            .as_deref()
            .is_some_and(|l| l.contains("rotor_test_policy")),
        "{loaded:?}"
    );

    let scram = postgres_protocol::password::scram_sha_256(b"a-perfectly-long-password");
    for encrypted in [scram.as_str(), "md5a8f5f167f44f4964e6c998dee827110c"] {
        let (code, message) = try_sql(
            &pg,
            &format!("CREATE ROLE refused LOGIN PASSWORD '{encrypted}'"),
        )
        .expect_err("an encrypted password is refused");
        assert_eq!(code, "22023");
        assert!(
            message.starts_with(rotor_testkit::postgres::POLICY_REFUSAL),
            "{message}"
        );
    }
    let (code, message) = try_sql(&pg, "CREATE ROLE refused LOGIN PASSWORD 'short-plaintext'")
        .expect_err("a short plaintext is refused");
    assert_eq!(code, "22023");
    assert!(message.contains("at least 64 characters"), "{message}");

    // A plaintext password of 64 characters passes, and logs in.
    let long = "p".repeat(64);
    try_sql(
        &pg,
        &format!("CREATE ROLE accepted LOGIN PASSWORD '{long}'"),
    )
    .expect("a long plaintext password is accepted");
    assert!(pg.can_login("accepted", &long));
    // A role without a password is no business of the policy.
    try_sql(&pg, "CREATE ROLE nopassword NOLOGIN").expect("no password, no check");
}
