//! Zero-downtime benchmark against a real Redis 7 (a bench binary, not a
//! test): a load generator opens fresh connections without pause, each
//! authenticated with the credentials it has just re-read from `.env`, and
//! runs `INCR`, while `rotor rotate` runs 20 times.
//!
//! Rows, all measured in the same run against one throwaway Redis
//! (rotor-testkit's `Redis`):
//! - baseline: the same load, nothing rotating;
//! - `dual-password`: the ACL user `app` holds the old and the new password
//!   while consumers move to the new `REDIS_URL` (`form = "url"`); must have
//!   0 failed AUTHs;
//! - `cutover`: the legacy `requirepass` (the `default` user, `AUTH
//!   password`) changes in place, `REDIS_PASSWORD` follows; its failed
//!   AUTHs are the price it pays.
//!
//! Before the first rotation of each rotating row, a few connections
//! authenticate with the credential of the moment and then stay open; after
//! the last rotation each must still answer `PING`.
//!
//! Exits non-zero if a rotation fails, if `.env` no longer gives a login
//! after the rotations, if `dual-password` has any failed AUTH, if its load
//! ran below 500 AUTHs/s, if its load did not authenticate with every
//! credential rotor handed out, or if one of its pre-rotation connections
//! stopped answering. Failed AUTHs are broken down per rotation: while
//! `rotor rotate` ran, and after. No password and no admin URL is ever
//! printed: errors are shown with every known password replaced by its
//! fingerprint (`[REDACTED fp=…]`).
//!
//! Run: `cargo bench -p rotor-cli --bench redis_auths`
//! (`ROTOR_BENCH_REDIS_WORKERS=N` sets the number of concurrent AUTHs, 8 by
//! default; `ROTOR_REDIS_SERVER` points at `redis-server` as for the tests.)
//! The table goes to stdout, the same numbers as JSON to
//! `target/redis_auths.json`. The load, the rows and the report are
//! `load/mod.rs`, shared with `pg_logins`.

mod load;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use load::{Consumer, Project, Redactor, Row, Run, Words};
use redis::{ConnectionAddr, IntoConnectionInfo};
use rotor_testkit::Redis;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Connections authenticated before the first rotation and kept open.
const HELD: usize = 4;
/// Connecting, and each reply, may take this long.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// The key every consumer increments.
const COUNTER: &str = "bench:auths";

fn dual_inventory(port: u16) -> String {
    format!(
        r#"[[secret]]
name = "redis_app"
generator = {{ kind = "password", length = 32 }}
strategy = {{ kind = "dual-password" }}
[secret.authority]
kind = "redis"
admin_url_env = "ROTOR_REDIS_ADMIN_URL"
user = "app"
nodes = ["redis://127.0.0.1:{port}"]
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "REDIS_URL"
form = "url"
"#
    )
}

/// `requirepass` without an admin: rotor logs in with the old password.
fn cutover_inventory(port: u16) -> String {
    format!(
        r#"[[secret]]
name = "redis_legacy"
generator = {{ kind = "password", length = 32 }}
strategy = {{ kind = "cutover" }}
[secret.authority]
kind = "redis"
nodes = ["redis://127.0.0.1:{port}"]
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "REDIS_PASSWORD"
"#
    )
}

/// The login a consumer finds in `.env`: `REDIS_URL`
/// (`redis://USER:PASSWORD@HOST:PORT`, read by the `redis` crate), else
/// `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD` and, if there is one,
/// `REDIS_USER`. No user means `AUTH password` (`requirepass`).
struct Login {
    host: String,
    port: u16,
    user: Option<String>,
    password: String,
}

impl Login {
    /// Who the server sees: the ACL user, or `default` for `requirepass`.
    fn who(&self) -> &str {
        self.user.as_deref().unwrap_or("default")
    }
}

impl Consumer for Login {
    const SECRET_VARS: &'static [&'static str] = &["REDIS_URL", "REDIS_PASSWORD"];

    fn from_env(vars: &HashMap<String, String>) -> Result<Login, String> {
        if let Some(url) = vars.get("REDIS_URL") {
            let info = url
                .as_str()
                .into_connection_info()
                .map_err(|e| format!("REDIS_URL is not a Redis URL: {e}"))?;
            let ConnectionAddr::Tcp(host, port) = info.addr() else {
                return Err("REDIS_URL is not a redis://HOST:PORT URL".into());
            };
            let settings = info.redis_settings();
            return Ok(Login {
                host: host.clone(),
                port: *port,
                user: settings
                    .username()
                    .filter(|u| !u.is_empty())
                    .map(str::to_owned),
                password: settings
                    .password()
                    .ok_or("REDIS_URL gives no password")?
                    .to_owned(),
            });
        }
        let get = |k: &str| {
            vars.get(k)
                .cloned()
                .ok_or_else(|| format!(".env has no {k}"))
        };
        Ok(Login {
            host: get("REDIS_HOST")?,
            port: get("REDIS_PORT")?
                .parse()
                .map_err(|_| "REDIS_PORT is not a port".to_owned())?,
            user: vars.get("REDIS_USER").cloned(),
            password: get("REDIS_PASSWORD")?,
        })
    }

    fn password(&self) -> &str {
        &self.password
    }

    /// Connect, `AUTH`, `INCR`, close.
    async fn login(self) -> Result<String, String> {
        let mut conn = Conn::open(&self).await?;
        match conn.call(&["INCR", COUNTER]).await {
            Ok(n) if n.starts_with(':') => Ok(self.who().to_owned()),
            Ok(other) => Err(format!("INCR as {}: {other}", self.who())),
            Err(e) => Err(format!("INCR as {}: {e}", self.who())),
        }
    }
}

/// One RESP connection, enough for `AUTH`, `INCR` and `PING` (their
/// replies are one line each).
struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    /// Connects and authenticates as `login`.
    async fn open(login: &Login) -> Result<Conn, String> {
        let addr = format!("{}:{}", login.host, login.port);
        let stream = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(&addr))
            .await
            .map_err(|_| format!("connect to {addr}: timed out"))?
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        let mut conn = Conn {
            stream: BufReader::new(stream),
        };
        let reply = match &login.user {
            Some(user) => conn.call(&["AUTH", user, &login.password]).await,
            None => conn.call(&["AUTH", &login.password]).await,
        };
        match reply {
            Ok(ok) if ok == "+OK" => Ok(conn),
            Ok(other) => Err(format!("AUTH as {}: {other}", login.who())),
            Err(e) => Err(format!("AUTH as {}: {e}", login.who())),
        }
    }

    /// Sends `args` and reads the one-line reply (`+…` or `:…`); an error
    /// reply (`-…`) is `Err` with the server's words.
    async fn call(&mut self, args: &[&str]) -> Result<String, String> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a.as_bytes());
            req.extend_from_slice(b"\r\n");
        }
        let mut line = String::new();
        let exchange = async {
            self.stream.get_mut().write_all(&req).await?;
            self.stream.read_line(&mut line).await
        };
        match tokio::time::timeout(IO_TIMEOUT, exchange).await {
            Err(_) => Err("no reply in time".into()),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(0)) => Err("connection closed by the server".into()),
            Ok(Ok(_)) => match line.trim_end() {
                error if error.starts_with('-') => Err(error[1..].to_owned()),
                reply => Ok(reply.to_owned()),
            },
        }
    }
}

/// `HELD` connections authenticated with what `.env` holds now; the ones
/// that could not be opened are `None` (and said why, redacted).
fn hold(rt: &tokio::runtime::Runtime, p: &Project<Login>) -> Vec<Option<Conn>> {
    rt.block_on(async {
        let mut held = Vec::new();
        for _ in 0..HELD {
            let opened = match p.current_login() {
                Ok(login) => Conn::open(&login).await,
                Err(e) => Err(e),
            };
            match opened {
                Ok(c) => held.push(Some(c)),
                Err(e) => {
                    eprintln!(
                        "cannot open a pre-rotation connection: {}",
                        p.redact.scrub(&e)
                    );
                    held.push(None);
                }
            }
        }
        held
    })
}

/// How many of `held` still answer `PING` with `PONG`, of how many.
fn still_working(rt: &tokio::runtime::Runtime, held: Vec<Option<Conn>>) -> (usize, usize) {
    let of = held.len();
    let alive = rt.block_on(async {
        let mut alive = 0;
        for mut c in held.into_iter().flatten() {
            match c.call(&["PING"]).await {
                Ok(pong) if pong == "+PONG" => alive += 1,
                Ok(other) => eprintln!("a pre-rotation connection answered PING with {other}"),
                Err(e) => eprintln!("a pre-rotation connection died: {e}"),
            }
        }
        alive
    });
    (alive, of)
}

/// `Run::rotating`, with `HELD` connections opened before the first
/// rotation and checked after the last.
fn rotating_holding(run: &Run, what: &str, p: &Project<Login>, secret: &str) -> Row {
    let held = hold(&run.rt, p);
    let mut row = run.rotating(what, p, secret);
    row.kept = Some(still_working(&run.rt, held));
    row
}

/// Runs one admin command; panics with the redacted reply if it fails.
fn admin(redis: &Redis, redact: &Redactor, args: &[&str]) {
    if let Err(e) = redis.cmd(args) {
        panic!("setup: {} failed: {}", args[0], redact.scrub(&e));
    }
}

fn main() -> ExitCode {
    // `cargo bench` passes --bench; nothing else to parse.
    let run = Run::start(
        "redis_auths",
        Words::AUTHS,
        "ROTOR_BENCH_REDIS_WORKERS",
        500.0,
    );
    let redis = Redis::start();
    let admin_url = redis.admin_url();
    run.known(&[redis.admin_password(), &admin_url]);
    let [app_pw, legacy_pw] = run.passwords();
    // The ACL user of dual-password; and requirepass: the default user on,
    // with the legacy password and every permission, as an old setup has it.
    let app_pass = format!(">{app_pw}");
    for cmd in [
        &[
            "ACL", "SETUSER", "app", "on", &app_pass, "~bench:*", "+incr", "+ping",
        ][..],
        &["CONFIG", "SET", "requirepass", &legacy_pw],
        &["ACL", "SETUSER", "default", "on", "~*", "&*", "+@all"],
    ] {
        admin(&redis, &run.redact, cmd);
    }

    let port = redis.port();
    let url = format!("redis://app:{app_pw}@127.0.0.1:{port}");
    let dual: Project<Login> = run.project(
        &dual_inventory(port),
        &format!("# the app's settings\nREDIS_URL={url}\n"),
        Some(("ROTOR_REDIS_ADMIN_URL", &admin_url)),
    );
    let cutover: Project<Login> = run.project(
        &cutover_inventory(port),
        &format!("# the app's settings\nREDIS_HOST=127.0.0.1\nREDIS_PORT={port}\nREDIS_PASSWORD={legacy_pw}\n"),
        None,
    );

    let rows = [
        run.baseline(&dual),
        rotating_holding(
            &run,
            "`dual-password` (REDIS_URL, form = \"url\")",
            &dual,
            "redis_app",
        ),
        rotating_holding(
            &run,
            "`cutover` (requirepass, REDIS_PASSWORD)",
            &cutover,
            "redis_legacy",
        ),
    ];
    // The acceptance check: `dual-password` is the zero-downtime strategy.
    run.finish(&rows, ("dual-password", "cutover"))
}
