//! Zero-downtime benchmark against a real PostgreSQL (a bench binary, not a
//! test): a load generator opens fresh authenticated connections without
//! pause, each with the credentials it has just re-read from `.env`, and runs
//! `SELECT count(*) FROM t`, while `rotor rotate db_app` runs 20 times.
//!
//! Rows, all measured in the same run against one throwaway PostgreSQL 15
//! (rotor-testkit's `Postgres`):
//! - baseline: the same load, nothing rotating;
//! - `alternate`: two login roles take turns, consumers get a new
//!   `DATABASE_URL` (`form = "url"`); must have 0 failed logins;
//! - `cutover`: one role's password changes in place (`PGUSER` fixed,
//!   `PGPASSWORD` rotated); its failed logins are the price it pays.
//!
//! Exits non-zero if a rotation fails, if `.env` no longer gives a login
//! after the rotations, if `alternate` has any failed login, if its load ran
//! below 200 logins/s, or if its load did not log in with every credential
//! rotor handed out (then it did not watch every rotation). Failed logins
//! are also broken down per rotation: while `rotor rotate` ran, and after.
//! No password and no admin URL is ever printed: errors are shown with every
//! known password replaced by its fingerprint (`[REDACTED fp=…]`).
//!
//! Run: `cargo bench -p rotor-cli --bench pg_logins`
//! (`ROTOR_BENCH_PG_WORKERS=N` sets the number of concurrent logins, 8 by
//! default; `ROTOR_PG_BIN` points at the PostgreSQL 15 binaries as for the
//! tests.) The table goes to stdout, the same numbers as JSON to
//! `target/pg_logins.json`.
//!
//! The load, the rows and the report are `load/mod.rs`, shared with the
//! Redis bench (`redis_auths`); this file is the PostgreSQL side.

mod load;

use std::collections::HashMap;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use load::{Consumer, Project, Run, Words};
use rotor_testkit::Postgres;
use tokio_postgres::{Config, NoTls};

/// The table the login roles query; owned by the NOLOGIN group `app`.
const SETUP_SQL: &str = "CREATE ROLE app NOLOGIN;
CREATE TABLE t (x int);
INSERT INTO t VALUES (1);
ALTER TABLE t OWNER TO app;";

fn alternate_inventory() -> String {
    r#"[[secret]]
name = "db_app"
generator = { kind = "password", length = 32 }
strategy = { kind = "alternate" }
[secret.authority]
kind = "postgres"
admin_url_env = "ROTOR_PG_ADMIN_URL"
group = "app"
roles = ["app_blue", "app_green"]
drain_timeout = "30s"
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "DATABASE_URL"
form = "url"
"#
    .to_owned()
}

fn cutover_inventory() -> String {
    r#"[[secret]]
name = "db_app"
generator = { kind = "password", length = 32 }
strategy = { kind = "cutover" }
[secret.authority]
kind = "postgres"
admin_url_env = "ROTOR_PG_ADMIN_URL"
role = "app_cut"
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "PGPASSWORD"
"#
    .to_owned()
}

/// The login a consumer finds in `.env`: `DATABASE_URL`, else `PGHOST`,
/// `PGPORT`, `PGDATABASE`, `PGUSER` and `PGPASSWORD`.
struct Login {
    config: Config,
    user: String,
    password: String,
}

impl Consumer for Login {
    const SECRET_VARS: &'static [&'static str] = &["DATABASE_URL", "PGPASSWORD"];

    fn from_env(vars: &HashMap<String, String>) -> Result<Login, String> {
        let mut config = match vars.get("DATABASE_URL") {
            Some(url) => Config::from_str(url)
                .map_err(|e| format!("DATABASE_URL is not a connection URL: {e}"))?,
            None => {
                let get = |k: &str| {
                    vars.get(k)
                        .cloned()
                        .ok_or_else(|| format!(".env has no {k}"))
                };
                let mut c = Config::new();
                c.host(get("PGHOST")?)
                    .port(
                        get("PGPORT")?
                            .parse()
                            .map_err(|_| "PGPORT is not a port".to_owned())?,
                    )
                    .dbname(get("PGDATABASE")?)
                    .user(get("PGUSER")?)
                    .password(get("PGPASSWORD")?);
                c
            }
        };
        config.connect_timeout(Duration::from_secs(10));
        let user = config.get_user().ok_or(".env gives no user")?.to_owned();
        let password =
            String::from_utf8_lossy(config.get_password().ok_or(".env gives no password")?)
                .into_owned();
        Ok(Login {
            config,
            user,
            password,
        })
    }

    fn password(&self) -> &str {
        &self.password
    }

    /// Connect, `SELECT count(*) FROM t`, close.
    async fn login(self) -> Result<String, String> {
        let (client, conn) = match self.config.connect(NoTls).await {
            Ok(c) => c,
            Err(e) => return Err(format!("connect as {}: {}", self.user, describe(&e))),
        };
        let conn = tokio::spawn(conn);
        let res = client.query_one("SELECT count(*) FROM t", &[]).await;
        drop(client);
        let _ = conn.await;
        match res {
            Ok(row) if row.get::<_, i64>(0) >= 1 => Ok(self.user),
            Ok(_) => Err(format!("query as {}: table t is empty", self.user)),
            Err(e) => Err(format!("query as {}: {}", self.user, describe(&e))),
        }
    }
}

/// The server's own words for a database error (tokio-postgres shows only
/// "db error"), else the client's.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => e.to_string(),
    }
}

fn admin_sql(rt: &tokio::runtime::Runtime, admin_url: &str, sql: &str) {
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(admin_url, NoTls)
            .await
            .unwrap_or_else(|e| panic!("admin connect: {e}"));
        let conn = tokio::spawn(conn);
        if let Err(e) = client.batch_execute(sql).await {
            panic!("setup SQL failed: {e}");
        }
        drop(client);
        let _ = conn.await;
    });
}

fn main() -> ExitCode {
    // `cargo bench` passes --bench; nothing else to parse.
    let run = Run::start("pg_logins", Words::LOGINS, "ROTOR_BENCH_PG_WORKERS", 200.0);
    let pg = Postgres::start_with(&[("max_connections", "200")]);
    let admin_url = pg.admin_url();
    run.known(&[pg.admin_password(), &admin_url]);
    let [blue_pw, cut_pw] = run.passwords();
    admin_sql(
        &run.rt,
        &admin_url,
        &format!(
            "{SETUP_SQL}
CREATE ROLE app_blue LOGIN PASSWORD '{blue_pw}' IN ROLE app;
CREATE ROLE app_cut LOGIN PASSWORD '{cut_pw}' IN ROLE app;"
        ),
    );
    let port = pg.port();
    let admin = Some(("ROTOR_PG_ADMIN_URL", admin_url.as_str()));
    let alternate: Project<Login> = run.project(
        &alternate_inventory(),
        &format!("# the app's settings\nDATABASE_URL=postgres://app_blue:{blue_pw}@127.0.0.1:{port}/postgres\n"),
        admin,
    );
    let cutover: Project<Login> = run.project(
        &cutover_inventory(),
        &format!(
            "# the app's settings\nPGHOST=127.0.0.1\nPGPORT={port}\nPGDATABASE=postgres\nPGUSER=app_cut\nPGPASSWORD={cut_pw}\n"
        ),
        admin,
    );

    let rows = [
        run.baseline(&alternate),
        run.rotating(
            "`alternate` (DATABASE_URL, form = \"url\")",
            &alternate,
            "db_app",
        ),
        run.rotating("`cutover` (PGPASSWORD)", &cutover, "db_app"),
    ];
    // The acceptance check: `alternate` is the zero-downtime strategy.
    run.finish(&rows, ("alternate", "cutover"))
}
