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
//! known password replaced by `<redacted>`.
//!
//! Run: `cargo bench -p rotor-cli --bench pg_logins`
//! (`ROTOR_BENCH_PG_WORKERS=N` sets the number of concurrent logins, 8 by
//! default; `ROTOR_PG_BIN` points at the PostgreSQL 15 binaries as for the
//! tests.) The table goes to stdout, the same numbers as JSON to
//! `target/pg_logins.json`.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasher;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rotor_testkit::Postgres;
use serde_json::json;
use tokio_postgres::{Config, NoTls};

/// Rotations per strategy.
const ROTATIONS: usize = 20;
/// Pause between two rotations, so the load logs in with every credential.
const PAUSE: Duration = Duration::from_millis(100);
/// How long the baseline load runs.
const BASELINE: Duration = Duration::from_secs(5);
/// Load kept running before the first and after the last rotation.
const MARGIN: Duration = Duration::from_millis(500);
/// The rate the `alternate` load must reach.
const MIN_RATE: f64 = 200.0;
/// Concurrent logins unless `ROTOR_BENCH_PG_WORKERS` says otherwise.
const DEFAULT_WORKERS: usize = 8;
/// A load stops by itself after this long, whatever happens to rotor.
const MAX_LOAD: Duration = Duration::from_secs(600);
/// Pause after a failure that never reached the server (an unreadable
/// `.env`), so a broken file does not turn the load into a busy loop.
const LOCAL_RETRY: Duration = Duration::from_millis(1);
/// Failure times kept per row (for the per-rotation breakdown).
const KEEP_FAILURE_TIMES: usize = 100_000;
/// Distinct error messages kept per row.
const KEEP_ERRORS: usize = 5;

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

/// Random hex from the OS (no `rand` here).
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every password the bench knows of, to scrub from anything it prints.
#[derive(Clone, Default)]
struct Redactor(Arc<Mutex<BTreeSet<String>>>);

impl Redactor {
    fn add(&self, secret: &str) {
        if !secret.is_empty() {
            self.0.lock().expect("redactor").insert(secret.to_owned());
        }
    }

    /// Adds the current password in an env file, and the raw values of
    /// the variables that hold it (in case they no longer parse).
    fn add_env(&self, path: &Path) {
        if let Ok(vars) = read_env(path) {
            for var in ["DATABASE_URL", "PGPASSWORD"] {
                if let Some(v) = vars.get(var) {
                    self.add(v);
                }
            }
            if let Ok(login) = Login::from_env(&vars) {
                self.add(&login.password);
            }
        }
    }

    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in self.0.lock().expect("redactor").iter() {
            out = out.replace(s.as_str(), "<redacted>");
        }
        out
    }
}

/// A throwaway project: inventory, `.env`, store and master key.
struct Project {
    dir: tempfile::TempDir,
    admin_url: String,
    redact: Redactor,
}

impl Project {
    fn new(inventory: &str, env: &str, admin_url: &str, redact: &Redactor) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("rotor.toml"), inventory).expect("inventory");
        std::fs::write(dir.path().join(".env"), env).expect(".env");
        let p = Project {
            dir,
            admin_url: admin_url.to_owned(),
            redact: redact.clone(),
        };
        let (ok, out) = p.rotor(&["init"]);
        assert!(ok, "rotor init failed:\n{out}");
        p
    }

    fn env_path(&self) -> PathBuf {
        self.dir.path().join(".env")
    }

    /// Runs `rotor ARGS`; (exit 0?, its output scrubbed of passwords).
    fn rotor(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_rotor"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("ROTOR_CONFIG")
            .env_remove("ROTOR_MASTER_KEY_FILE")
            .env_remove("ROTOR_ACTOR")
            .env("ROTOR_PG_ADMIN_URL", &self.admin_url)
            .env("USER", "bench")
            .env("NO_COLOR", "1")
            .output()
            .expect("run rotor");
        self.redact.add_env(&self.env_path());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), self.redact.scrub(text.trim()))
    }
}

fn read_env(path: &Path) -> Result<HashMap<String, String>, String> {
    dotenvy::from_path_iter(path)
        .map_err(|e| format!("cannot read .env: {e}"))?
        .map(|item| item.map_err(|e| format!("cannot parse .env: {e}")))
        .collect()
}

/// The login a consumer finds in `.env`: `DATABASE_URL`, else `PGHOST`,
/// `PGPORT`, `PGDATABASE`, `PGUSER` and `PGPASSWORD`.
struct Login {
    config: Config,
    user: String,
    password: String,
}

impl Login {
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
}

/// What the load saw, shared by its tasks.
#[derive(Default)]
struct Tally {
    ok: u64,
    failed: u64,
    /// Redacted message -> count, the first few distinct ones.
    errors: BTreeMap<String, u64>,
    /// Successful logins per user.
    users: BTreeMap<String, u64>,
    /// Keyed hashes of the (user, password) pairs that logged in.
    credentials: HashSet<u64>,
    /// Login times (connect + query + close), microseconds.
    micros: Vec<u32>,
    /// When logins failed, since the load started (the first
    /// `KEEP_FAILURE_TIMES`).
    failed_at: Vec<Duration>,
}

/// The server's own words for a database error (tokio-postgres shows only
/// "db error"), else the client's.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// A login's user and password, or what went wrong and the password it
/// tried (none if it never got as far as the server).
type LoginResult = Result<(String, String), (String, Option<String>)>;

/// One login: re-read `.env`, connect, query, close.
async fn login_once(env: &Path) -> LoginResult {
    let vars = read_env(env).map_err(|e| (e, None))?;
    let login = Login::from_env(&vars).map_err(|e| (e, None))?;
    let pw = Some(login.password.clone());
    let (client, conn) = match login.config.connect(NoTls).await {
        Ok(c) => c,
        Err(e) => return Err((format!("connect as {}: {}", login.user, describe(&e)), pw)),
    };
    let conn = tokio::spawn(conn);
    let res = client.query_one("SELECT count(*) FROM t", &[]).await;
    drop(client);
    let _ = conn.await;
    match res {
        Ok(row) if row.get::<_, i64>(0) >= 1 => Ok((login.user, login.password)),
        Ok(_) => Err((format!("query as {}: table t is empty", login.user), pw)),
        Err(e) => Err((format!("query as {}: {}", login.user, describe(&e)), pw)),
    }
}

/// The outcome of one login, counted.
fn record(
    tally: &Mutex<Tally>,
    redact: &Redactor,
    keys: &RandomState,
    started: Instant,
    took: u32,
    res: LoginResult,
) {
    let mut t = tally.lock().expect("tally");
    t.micros.push(took);
    match res {
        Ok((user, password)) => {
            t.ok += 1;
            *t.users.entry(user.clone()).or_default() += 1;
            t.credentials.insert(keys.hash_one((user, password)));
        }
        Err((msg, pw)) => {
            t.failed += 1;
            if t.failed_at.len() < KEEP_FAILURE_TIMES {
                t.failed_at.push(started.elapsed());
            }
            if let Some(pw) = pw {
                redact.add(&pw);
            }
            let msg = redact.scrub(&msg);
            if t.errors.contains_key(&msg) || t.errors.len() < KEEP_ERRORS {
                *t.errors.entry(msg).or_default() += 1;
            }
        }
    }
}

/// Logins without pause from `workers` tasks until `stop` is set.
struct Load {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    started: Instant,
}

impl Load {
    fn start(
        rt: &tokio::runtime::Runtime,
        env: PathBuf,
        workers: usize,
        redact: &Redactor,
    ) -> Load {
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let keys = RandomState::new();
        let tasks = (0..workers)
            .map(|_| {
                let (stop, tally, env, redact, keys) = (
                    stop.clone(),
                    tally.clone(),
                    env.clone(),
                    redact.clone(),
                    keys.clone(),
                );
                rt.spawn(async move {
                    while !stop.load(Ordering::Relaxed) && started.elapsed() < MAX_LOAD {
                        let t0 = Instant::now();
                        let res = login_once(&env).await;
                        let took = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
                        let local = matches!(res, Err((_, None)));
                        record(&tally, &redact, &keys, started, took, res);
                        if local {
                            tokio::time::sleep(LOCAL_RETRY).await;
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            tally,
            tasks,
            started,
        }
    }

    fn finish(self, rt: &tokio::runtime::Runtime) -> (Tally, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        rt.block_on(async {
            for t in self.tasks {
                t.await.expect("load task");
            }
        });
        let took = self.started.elapsed();
        let tally = std::mem::take(&mut *self.tally.lock().expect("tally"));
        (tally, took)
    }
}

/// One row of the results.
struct Row {
    what: String,
    rotations: usize,
    /// First failed rotation's output, if any.
    rotate_error: Option<String>,
    rotate_median: Option<Duration>,
    /// Each `rotor rotate`'s start and end, since the load started.
    spans: Vec<(Duration, Duration)>,
    /// Why `.env` no longer gives a login after the rotations, if it does
    /// not.
    env_after: Option<String>,
    took: Duration,
    tally: Tally,
}

impl Row {
    fn rate(&self) -> f64 {
        (self.tally.ok + self.tally.failed) as f64 / self.took.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut xs = self.tally.micros.clone();
        if xs.is_empty() {
            return 0.0;
        }
        xs.sort_unstable();
        let i = ((xs.len() - 1) as f64 * p).round() as usize;
        f64::from(xs[i]) / 1000.0
    }

    /// Failed logins before the first rotation, then per rotation: while
    /// its `rotor rotate` ran, and after it (until the next one started).
    fn failures_by_rotation(&self) -> (u64, Vec<(u64, u64)>) {
        let mut before = 0;
        let mut per = vec![(0, 0); self.spans.len()];
        for f in &self.tally.failed_at {
            match self.spans.iter().rposition(|(from, _)| from <= f) {
                None => before += 1,
                Some(i) if *f <= self.spans[i].1 => per[i].0 += 1,
                Some(i) => per[i].1 += 1,
            }
        }
        (before, per)
    }

    /// `failures_by_rotation` in one line, rotations without failures left
    /// out.
    fn failures_line(&self) -> String {
        let (before, per) = self.failures_by_rotation();
        let mut parts = Vec::new();
        if before > 0 {
            parts.push(format!("before the first: {before}"));
        }
        for (i, (during, after)) in per.iter().enumerate() {
            if during + after > 0 {
                parts.push(format!("#{}: {during} + {after}", i + 1));
            }
        }
        let kept = self.tally.failed_at.len() as u64;
        if kept < self.tally.failed {
            parts.push(format!("(times kept for the first {kept} only)"));
        }
        parts.join(", ")
    }

    fn json(&self) -> serde_json::Value {
        let (before, per) = self.failures_by_rotation();
        json!({
            "what": self.what,
            "rotations": self.rotations,
            "rotate_failed": self.rotate_error.is_some(),
            "rotate_median_ms": self.rotate_median.map(|d| d.as_secs_f64() * 1000.0),
            "seconds": self.took.as_secs_f64(),
            "logins": self.tally.ok + self.tally.failed,
            "failed_logins": self.tally.failed,
            "logins_per_s": self.rate(),
            "login_p50_ms": self.percentile(0.5),
            "login_p99_ms": self.percentile(0.99),
            "credentials_used": self.tally.credentials.len(),
            "logins_per_user": self.tally.users,
            "errors": self.tally.errors,
            "failed_before_first_rotation": before,
            "failed_by_rotation": per
                .iter()
                .enumerate()
                .map(|(i, (during, after))| json!({
                    "rotation": i + 1,
                    "during_rotate": during,
                    "after_rotate": after,
                }))
                .collect::<Vec<_>>(),
        })
    }
}

/// Runs the load alone for `BASELINE`.
fn baseline(rt: &tokio::runtime::Runtime, p: &Project, workers: usize) -> Row {
    eprintln!("baseline: {workers} concurrent logins for {BASELINE:?}, no rotation");
    let load = Load::start(rt, p.env_path(), workers, &p.redact);
    std::thread::sleep(BASELINE);
    let (tally, took) = load.finish(rt);
    Row {
        what: "baseline (no rotation)".into(),
        rotations: 0,
        rotate_error: None,
        rotate_median: None,
        spans: Vec::new(),
        env_after: None,
        took,
        tally,
    }
}

/// Runs the load while rotating `ROTATIONS` times (stops at the first
/// failed rotation).
fn rotating(rt: &tokio::runtime::Runtime, what: &str, p: &Project, workers: usize) -> Row {
    eprintln!(
        "{what}: {workers} concurrent logins while `rotor rotate db_app` runs {ROTATIONS} times"
    );
    let load = Load::start(rt, p.env_path(), workers, &p.redact);
    std::thread::sleep(MARGIN);
    let mut times = Vec::new();
    let mut spans = Vec::new();
    let mut rotate_error = None;
    for i in 0..ROTATIONS {
        if i > 0 {
            std::thread::sleep(PAUSE);
        }
        let t0 = Instant::now();
        let from = load.started.elapsed();
        let (ok, out) = p.rotor(&["rotate", "db_app"]);
        spans.push((from, load.started.elapsed()));
        if !ok {
            rotate_error = Some(format!("rotation {} of {ROTATIONS} failed:\n{out}", i + 1));
            break;
        }
        times.push(t0.elapsed());
    }
    std::thread::sleep(MARGIN);
    let (tally, took) = load.finish(rt);
    times.sort();
    let env_after = read_env(&p.env_path())
        .and_then(|vars| Login::from_env(&vars).map(|_| ()))
        .err()
        .map(|e| p.redact.scrub(&e));
    Row {
        what: what.to_owned(),
        rotations: times.len(),
        rotate_error,
        rotate_median: times.get(times.len() / 2).copied(),
        spans,
        env_after,
        took,
        tally,
    }
}

/// The 1-minute load average (Linux), to tell a busy machine from a slow
/// rotor when reading the rates.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn workers() -> usize {
    match std::env::var("ROTOR_BENCH_PG_WORKERS") {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("ROTOR_BENCH_PG_WORKERS={v:?} is not a positive number")),
        Err(_) => DEFAULT_WORKERS,
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

fn json_path() -> PathBuf {
    // target/<profile>/rotor -> target/
    let exe = Path::new(env!("CARGO_BIN_EXE_rotor"));
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| Path::new("."))
        .join("pg_logins.json")
}

fn main() -> ExitCode {
    // `cargo bench` passes --bench; nothing else to parse.
    let workers = workers();
    let load_before = load_average();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let pg = Postgres::start_with(&[("max_connections", "200")]);
    let admin_url = pg.admin_url();
    let redact = Redactor::default();
    redact.add(pg.admin_password());
    redact.add(&admin_url);

    let blue_pw = random_hex(16);
    let cut_pw = random_hex(16);
    redact.add(&blue_pw);
    redact.add(&cut_pw);
    admin_sql(
        &rt,
        &admin_url,
        &format!(
            "{SETUP_SQL}
CREATE ROLE app_blue LOGIN PASSWORD '{blue_pw}' IN ROLE app;
CREATE ROLE app_cut LOGIN PASSWORD '{cut_pw}' IN ROLE app;"
        ),
    );
    let port = pg.port();
    let alternate = Project::new(
        &alternate_inventory(),
        &format!("# the app's settings\nDATABASE_URL=postgres://app_blue:{blue_pw}@127.0.0.1:{port}/postgres\n"),
        &admin_url,
        &redact,
    );
    let cutover = Project::new(
        &cutover_inventory(),
        &format!(
            "# the app's settings\nPGHOST=127.0.0.1\nPGPORT={port}\nPGDATABASE=postgres\nPGUSER=app_cut\nPGPASSWORD={cut_pw}\n"
        ),
        &admin_url,
        &redact,
    );

    let rows = vec![
        baseline(&rt, &alternate, workers),
        rotating(
            &rt,
            "`alternate` (DATABASE_URL, form = \"url\")",
            &alternate,
            workers,
        ),
        rotating(&rt, "`cutover` (PGPASSWORD)", &cutover, workers),
    ];

    println!(
        "\n| strategy ({workers} concurrent fresh logins, each re-reading .env) | rotations | logins | logins/s | failed logins | credentials used | login p50 / p99 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let rotations = match &r.rotate_error {
            None if r.rotations == 0 => "-".to_owned(),
            None => format!("{}", r.rotations),
            Some(_) => format!("{} of {ROTATIONS}, then failed", r.rotations),
        };
        println!(
            "| {} | {rotations} | {} | {:.0} | {} | {} | {:.1} / {:.1} ms |",
            r.what,
            r.tally.ok + r.tally.failed,
            r.rate(),
            r.tally.failed,
            r.tally.credentials.len(),
            r.percentile(0.5),
            r.percentile(0.99),
        );
    }
    let load_after = load_average();
    let show = |l: Option<f64>| l.map_or("?".to_owned(), |l| format!("{l:.2}"));
    println!(
        "\n{} CPUs; 1-minute load average {} before, {} after (other work on the machine lowers the rates)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        show(load_before),
        show(load_after)
    );
    for r in &rows {
        if let Some(d) = r.rotate_median {
            println!(
                "{}: {:.1} s with the load, median `rotor rotate` {:.0} ms, {:.1} failed logins per rotation; logins per user: {:?}",
                r.what,
                r.took.as_secs_f64(),
                d.as_secs_f64() * 1000.0,
                r.tally.failed as f64 / r.rotations as f64,
                r.tally.users
            );
        }
        if r.tally.failed > 0 && !r.spans.is_empty() {
            println!(
                "{}: failed logins per rotation, while `rotor rotate` ran + after it: {}",
                r.what,
                r.failures_line()
            );
        }
        for (msg, n) in &r.tally.errors {
            println!("{}: {n} × {msg}", r.what);
        }
        if let Some(e) = &r.rotate_error {
            println!("{}: {e}", r.what);
        }
    }

    let report = json!({
        "workers": workers,
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "rotations_per_strategy": ROTATIONS,
        "pause_ms": PAUSE.as_millis() as u64,
        "rows": rows.iter().map(Row::json).collect::<Vec<_>>(),
    });
    let path = json_path();
    match std::fs::write(
        &path,
        serde_json::to_string_pretty(&report).expect("json") + "\n",
    ) {
        Ok(()) => eprintln!("\nwrote {}", path.display()),
        Err(e) => eprintln!("\ncannot write {}: {e}", path.display()),
    }

    // The acceptance check: `alternate` is the zero-downtime strategy.
    let alt = &rows[1];
    let cut = &rows[2];
    let mut problems = Vec::new();
    for (name, r) in [("alternate", alt), ("cutover", cut)] {
        if let Some(e) = &r.env_after {
            problems.push(format!(
                "{name}: after the rotations .env no longer gives a login ({e}); \
                 does this rotor render the target's form (form = \"url\" rewrites only \
                 the user and password of the URL)?"
            ));
        }
    }
    if let Some(e) = &alt.rotate_error {
        problems.push(format!("alternate: {e}"));
    }
    if alt.tally.failed > 0 {
        problems.push(format!(
            "alternate: {} failed logins (want 0)",
            alt.tally.failed
        ));
    }
    if alt.rate() < MIN_RATE {
        problems.push(format!(
            "alternate: the load ran at {:.0} logins/s (want ≥ {MIN_RATE:.0})",
            alt.rate()
        ));
    }
    if alt.rotate_error.is_none() && alt.tally.credentials.len() < ROTATIONS + 1 {
        problems.push(format!(
            "alternate: the load logged in with {} distinct credentials, not all {} that rotor handed out",
            alt.tally.credentials.len(),
            ROTATIONS + 1
        ));
    }
    if let Some(e) = &cut.rotate_error {
        problems.push(format!("cutover: {e}"));
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("\nFAILED:");
        for p in problems {
            eprintln!("- {p}");
        }
        ExitCode::FAILURE
    }
}
