//! What the zero-downtime benches share (`pg_logins`, `redis_auths`): a load
//! generator whose tasks each, without pause, re-read `.env`, log in afresh
//! with what they find there and count the outcome, while `rotor rotate`
//! runs `ROTATIONS` times; one row of results per strategy, the table on
//! stdout, the same numbers as JSON under `target/`, and the acceptance
//! check of the zero-downtime strategy.
//!
//! A bench brings the protocol as a [`Consumer`] (how `.env` gives a login,
//! and one login), the words for its logins ([`Words`]) and its rows
//! ([`Run::baseline`], [`Run::rotating`]). Every password
//! the bench knows of goes into a [`Redactor`]: errors and `rotor`'s output
//! are printed with each one, in any spelling, replaced by its fingerprint
//! (`[REDACTED fp=…]`, rotor's own sanitizer).

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::hash::BuildHasher;
use std::io::Read;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

/// Rotations per strategy.
const ROTATIONS: usize = 20;
/// Pause between two rotations, so the load logs in with every credential.
const PAUSE: Duration = Duration::from_millis(100);
/// How long the baseline load runs.
const BASELINE: Duration = Duration::from_secs(5);
/// Load kept running before the first and after the last rotation.
const MARGIN: Duration = Duration::from_millis(500);
/// A load stops by itself after this long, whatever happens to rotor.
const MAX_LOAD: Duration = Duration::from_secs(600);
/// Pause after a failure that never reached the server (an unreadable
/// `.env`), so a broken file does not turn the load into a busy loop.
const LOCAL_RETRY: Duration = Duration::from_millis(1);
/// Failure times kept per row (for the per-rotation breakdown).
const KEEP_FAILURE_TIMES: usize = 100_000;
/// Distinct error messages kept per row.
const KEEP_ERRORS: usize = 5;

/// Concurrent logins unless the bench's variable says otherwise.
const DEFAULT_WORKERS: usize = 8;

/// The words a bench uses for one login, in its output and JSON keys.
pub struct Words {
    /// One login in the output: "login", "AUTH".
    one: &'static str,
    /// Several: "logins", "AUTHs".
    many: &'static str,
    /// In JSON keys: "login" gives `logins`, `failed_logins`, `login_p50_ms`…
    key: &'static str,
    /// What the load did with a credential: "logged in", "authenticated".
    done: &'static str,
}

// Each bench binary uses one of these, so the other is dead code there.
#[allow(dead_code)]
impl Words {
    /// PostgreSQL's.
    pub const LOGINS: Words = Words {
        one: "login",
        many: "logins",
        key: "login",
        done: "logged in",
    };
    /// Redis's.
    pub const AUTHS: Words = Words {
        one: "AUTH",
        many: "AUTHs",
        key: "auth",
        done: "authenticated",
    };
}

/// A bench: its name (of the JSON file), its words, how many logins run at
/// once, and the rate the zero-downtime strategy's load must reach.
struct Bench {
    name: &'static str,
    words: Words,
    workers: usize,
    min_rate: f64,
}

/// The number in `var` (a positive whole number), else `DEFAULT_WORKERS`.
fn workers(var: &str) -> usize {
    match std::env::var(var) {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("{var}={v:?} is not a positive number")),
        Err(_) => DEFAULT_WORKERS,
    }
}

/// One run of a bench: what it is, the tokio runtime the load runs on, the
/// passwords it knows of, and the load average when it started.
pub struct Run {
    bench: Bench,
    pub rt: tokio::runtime::Runtime,
    pub redact: Redactor,
    load_before: Option<f64>,
}

impl Run {
    /// `name` gives `target/<name>.json`; `workers_var` may set the number
    /// of concurrent logins; `min_rate` is what the zero-downtime strategy's
    /// load must reach (logins per second).
    pub fn start(name: &'static str, words: Words, workers_var: &str, min_rate: f64) -> Run {
        let bench = Bench {
            name,
            words,
            workers: workers(workers_var),
            min_rate,
        };
        let load_before = load_average();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        Run {
            bench,
            rt,
            redact: Redactor::default(),
            load_before,
        }
    }

    /// Secrets to scrub from all that is printed (an admin password, URL).
    pub fn known(&self, secrets: &[&str]) {
        for s in secrets {
            self.redact.add(s);
        }
    }

    /// `N` random passwords (32 hex digits), known to the redactor.
    pub fn passwords<const N: usize>(&self) -> [String; N] {
        std::array::from_fn(|_| {
            let pw = random_hex(16);
            self.redact.add(&pw);
            pw
        })
    }

    /// A project (see [`Project::new`]) whose output is scrubbed with this
    /// run's redactor.
    pub fn project<C: Consumer>(
        &self,
        inventory: &str,
        env: &str,
        admin: Option<(&'static str, &str)>,
    ) -> Project<C> {
        Project::new(inventory, env, admin, &self.redact)
    }

    /// Runs the load alone for `BASELINE`.
    pub fn baseline<C: Consumer>(&self, p: &Project<C>) -> Row {
        let (workers, many) = (self.bench.workers, self.bench.words.many);
        eprintln!("baseline: {workers} concurrent {many} for {BASELINE:?}, no rotation");
        let load = Load::start::<C>(&self.rt, p.env_path(), workers, &p.redact);
        std::thread::sleep(BASELINE);
        let (tally, took) = load.finish(&self.rt);
        Row {
            what: "baseline (no rotation)".into(),
            rotations: 0,
            rotate_error: None,
            rotate_median: None,
            spans: Vec::new(),
            env_after: None,
            took,
            tally,
            kept: None,
        }
    }

    /// Runs the load while `rotor rotate SECRET` runs `ROTATIONS` times
    /// (stops at the first failed rotation).
    pub fn rotating<C: Consumer>(&self, what: &str, p: &Project<C>, secret: &str) -> Row {
        let (workers, many) = (self.bench.workers, self.bench.words.many);
        eprintln!(
            "{what}: {workers} concurrent {many} while `rotor rotate {secret}` runs {ROTATIONS} times"
        );
        let load = Load::start::<C>(&self.rt, p.env_path(), workers, &p.redact);
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
            let (ok, out) = p.rotor(&["rotate", secret]);
            spans.push((from, load.started.elapsed()));
            if !ok {
                rotate_error = Some(format!("rotation {} of {ROTATIONS} failed:\n{out}", i + 1));
                break;
            }
            times.push(t0.elapsed());
        }
        std::thread::sleep(MARGIN);
        let (tally, took) = load.finish(&self.rt);
        times.sort();
        Row {
            what: what.to_owned(),
            rotations: times.len(),
            rotate_error,
            rotate_median: times.get(times.len() / 2).copied(),
            spans,
            env_after: p.current_login().err(),
            took,
            tally,
            kept: None,
        }
    }

    /// `rows` are the baseline, then the zero-downtime strategy's (named
    /// `names.0`), then the baseline strategy's (`names.1`). Prints the
    /// table and the notes, writes the JSON; failure if the acceptance check
    /// ([`problems`]) finds anything.
    pub fn finish(self, rows: &[Row; 3], names: (&str, &str)) -> ExitCode {
        let problems = problems(&self.bench, (names.0, &rows[1]), (names.1, &rows[2]));
        report(&self.bench, rows, self.load_before, problems)
    }
}

/// A login's user and password, or what went wrong and the password it
/// tried (none if it never got as far as the server).
type LoginResult = Result<(String, String), (String, Option<String>)>;

/// The protocol side of a bench: the login a consumer finds in `.env`, and
/// what it does with it.
pub trait Consumer: Sized + Send + 'static {
    /// Variables whose raw values may hold a password (scrubbed as they
    /// are, in case they no longer parse).
    const SECRET_VARS: &'static [&'static str];

    /// The login `.env`'s variables give, or why they give none.
    fn from_env(vars: &HashMap<String, String>) -> Result<Self, String>;

    /// Its password.
    fn password(&self) -> &str;

    /// Connect, authenticate, run a command, close: the user it logged in
    /// as, or what went wrong (without the password).
    fn login(self) -> impl Future<Output = Result<String, String>> + Send;
}

/// One login: re-read `.env`, then [`Consumer::login`] with what it holds.
async fn login_once<C: Consumer>(env: &Path) -> LoginResult {
    let vars = read_env(env).map_err(|e| (e, None))?;
    let login = C::from_env(&vars).map_err(|e| (e, None))?;
    let password = login.password().to_owned();
    match login.login().await {
        Ok(user) => Ok((user, password)),
        Err(e) => Err((e, Some(password))),
    }
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
pub struct Redactor(Arc<Mutex<BTreeSet<String>>>);

impl Redactor {
    fn add(&self, secret: &str) {
        if !secret.is_empty() {
            self.0.lock().expect("redactor").insert(secret.to_owned());
        }
    }

    /// Adds the current password in an env file, and the raw values of
    /// the variables that hold it (in case they no longer parse).
    fn add_env<C: Consumer>(&self, path: &Path) {
        if let Ok(vars) = read_env(path) {
            for var in C::SECRET_VARS {
                if let Some(v) = vars.get(*var) {
                    self.add(v);
                }
            }
            if let Ok(login) = C::from_env(&vars) {
                self.add(login.password());
            }
        }
    }

    /// `text` with every known password, in every spelling, replaced by
    /// its fingerprint (rotor's own sanitizer, [`rotor::redact`]).
    pub fn scrub(&self, text: &str) -> String {
        let values: Vec<rotor::secret::SecretValue> = self
            .0
            .lock()
            .expect("redactor")
            .iter()
            .map(|s| rotor::secret::SecretValue::new(s.clone()))
            .collect();
        rotor::redact::Redactor::new(&values).redact(text)
    }
}

fn read_env(path: &Path) -> Result<HashMap<String, String>, String> {
    dotenvy::from_path_iter(path)
        .map_err(|e| format!("cannot read .env: {e}"))?
        .map(|item| item.map_err(|e| format!("cannot parse .env: {e}")))
        .collect()
}

/// A throwaway project: inventory, `.env`, store and master key.
pub struct Project<C> {
    dir: tempfile::TempDir,
    /// The variable rotor reads the admin URL from, and the URL.
    admin: Option<(&'static str, String)>,
    pub redact: Redactor,
    consumer: PhantomData<fn() -> C>,
}

impl<C: Consumer> Project<C> {
    /// Writes `rotor.toml` and `.env`, then runs `rotor init`.
    fn new(
        inventory: &str,
        env: &str,
        admin: Option<(&'static str, &str)>,
        redact: &Redactor,
    ) -> Project<C> {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("rotor.toml"), inventory).expect("inventory");
        std::fs::write(dir.path().join(".env"), env).expect(".env");
        let p = Project {
            dir,
            admin: admin.map(|(var, url)| (var, url.to_owned())),
            redact: redact.clone(),
            consumer: PhantomData,
        };
        let (ok, out) = p.rotor(&["init"]);
        assert!(ok, "rotor init failed:\n{out}");
        p
    }

    pub fn env_path(&self) -> PathBuf {
        self.dir.path().join(".env")
    }

    /// Runs `rotor ARGS`; (exit 0?, its output scrubbed of passwords).
    pub fn rotor(&self, args: &[&str]) -> (bool, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rotor"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("ROTOR_CONFIG")
            .env_remove("ROTOR_MASTER_KEY_FILE")
            .env_remove("ROTOR_ACTOR")
            .env("USER", "bench")
            .env("NO_COLOR", "1");
        if let Some((var, url)) = &self.admin {
            cmd.env(var, url);
        }
        let out = cmd.output().expect("run rotor");
        self.redact.add_env::<C>(&self.env_path());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), self.redact.scrub(text.trim()))
    }

    /// The login `.env` gives now (errors redacted).
    pub fn current_login(&self) -> Result<C, String> {
        read_env(&self.env_path())
            .and_then(|vars| C::from_env(&vars))
            .map_err(|e| self.redact.scrub(&e))
    }
}

/// What the load saw, shared by its tasks.
#[derive(Default)]
pub struct Tally {
    pub ok: u64,
    pub failed: u64,
    /// Redacted message -> count, the first few distinct ones.
    errors: BTreeMap<String, u64>,
    /// Successful logins per user.
    users: BTreeMap<String, u64>,
    /// Keyed hashes of the (user, password) pairs that logged in.
    credentials: HashSet<u64>,
    /// Login times (connect + command + close), microseconds.
    micros: Vec<u32>,
    /// When logins failed, since the load started (the first
    /// `KEEP_FAILURE_TIMES`).
    failed_at: Vec<Duration>,
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
    fn start<C: Consumer>(
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
                        let res = login_once::<C>(&env).await;
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
pub struct Row {
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
    pub tally: Tally,
    /// Connections authenticated before the first rotation: how many still
    /// answered after the last one, of how many (for benches that hold
    /// some).
    pub kept: Option<(usize, usize)>,
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

    fn json(&self, bench: &Bench) -> serde_json::Value {
        let (before, per) = self.failures_by_rotation();
        let k = bench.words.key;
        let mut row = json!({
            "what": self.what,
            "rotations": self.rotations,
            "rotate_failed": self.rotate_error.is_some(),
            "rotate_median_ms": self.rotate_median.map(|d| d.as_secs_f64() * 1000.0),
            "seconds": self.took.as_secs_f64(),
            "credentials_used": self.tally.credentials.len(),
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
        });
        let Some(map) = row.as_object_mut() else {
            unreachable!("json! of an object is an object");
        };
        map.insert(format!("{k}s"), json!(self.tally.ok + self.tally.failed));
        map.insert(format!("failed_{k}s"), json!(self.tally.failed));
        map.insert(format!("{k}s_per_s"), json!(self.rate()));
        map.insert(format!("{k}_p50_ms"), json!(self.percentile(0.5)));
        map.insert(format!("{k}_p99_ms"), json!(self.percentile(0.99)));
        map.insert(format!("{k}s_per_user"), json!(self.tally.users));
        if let Some((alive, of)) = self.kept {
            map.insert(
                "pre_rotation_connections".into(),
                json!({ "still_working": alive, "held": of }),
            );
        }
        row
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

/// Why `zero` (the zero-downtime strategy's row, named `name`) fails the
/// acceptance: a failed rotation, a failed login, a rate below the
/// bench's, a credential rotor handed out that the load never used, a
/// pre-rotation connection that died; and for both rows, an `.env` that no
/// longer gives a login. `other` (the baseline strategy) only has to rotate.
fn problems(bench: &Bench, zero: (&str, &Row), other: (&str, &Row)) -> Vec<String> {
    let (name, r) = zero;
    let mut problems = Vec::new();
    for (n, row) in [zero, other] {
        if let Some(e) = &row.env_after {
            problems.push(format!(
                "{n}: after the rotations .env no longer gives a login ({e}); \
                 does this rotor render the target's form (form = \"url\" rewrites only \
                 the user and password of the URL)?"
            ));
        }
    }
    if let Some(e) = &r.rotate_error {
        problems.push(format!("{name}: {e}"));
    }
    if r.tally.failed > 0 {
        problems.push(format!(
            "{name}: {} failed {} (want 0)",
            r.tally.failed, bench.words.many
        ));
    }
    if r.rate() < bench.min_rate {
        problems.push(format!(
            "{name}: the load ran at {:.0} {}/s (want ≥ {:.0})",
            r.rate(),
            bench.words.many,
            bench.min_rate
        ));
    }
    if r.rotate_error.is_none() && r.tally.credentials.len() < ROTATIONS + 1 {
        problems.push(format!(
            "{name}: the load {} with {} distinct credentials, not all {} that rotor handed out",
            bench.words.done,
            r.tally.credentials.len(),
            ROTATIONS + 1
        ));
    }
    if let Some((alive, of)) = r.kept.filter(|(alive, of)| alive < of) {
        problems.push(format!(
            "{name}: {} of {of} connections authenticated before the first rotation stopped answering",
            of - alive
        ));
    }
    if let Some(e) = &other.1.rotate_error {
        problems.push(format!("{}: {e}", other.0));
    }
    problems
}

/// Prints the table and the notes under it, writes the JSON, prints the
/// problems; failure if there are any.
fn report(
    bench: &Bench,
    rows: &[Row],
    load_before: Option<f64>,
    problems: Vec<String>,
) -> ExitCode {
    print_table(bench, rows);
    let load_after = load_average();
    let show = |l: Option<f64>| l.map_or("?".to_owned(), |l| format!("{l:.2}"));
    println!(
        "\n{} CPUs; 1-minute load average {} before, {} after (other work on the machine lowers the rates)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        show(load_before),
        show(load_after)
    );
    print_notes(bench, rows);
    let report = json!({
        "workers": bench.workers,
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "rotations_per_strategy": ROTATIONS,
        "pause_ms": PAUSE.as_millis() as u64,
        "rows": rows.iter().map(|r| r.json(bench)).collect::<Vec<_>>(),
    });
    let path = json_path(bench.name);
    match std::fs::write(
        &path,
        serde_json::to_string_pretty(&report).expect("json") + "\n",
    ) {
        Ok(()) => eprintln!("\nwrote {}", path.display()),
        Err(e) => eprintln!("\ncannot write {}: {e}", path.display()),
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

/// The table: one row per strategy; a column for the pre-rotation
/// connections when a row held some.
fn print_table(bench: &Bench, rows: &[Row]) {
    let (one, many) = (bench.words.one, bench.words.many);
    let held = rows.iter().any(|r| r.kept.is_some());
    let (held_head, held_rule) = if held {
        (" pre-rotation connections still working |", "---:|")
    } else {
        ("", "")
    };
    println!(
        "\n| strategy ({} concurrent fresh {many}, each re-reading .env) | rotations | {many} | {many}/s | failed {many} | credentials used | {one} p50 / p99 |{held_head}",
        bench.workers
    );
    println!("|---|---:|---:|---:|---:|---:|---:|{held_rule}");
    for r in rows {
        let rotations = match &r.rotate_error {
            None if r.rotations == 0 => "-".to_owned(),
            None => format!("{}", r.rotations),
            Some(_) => format!("{} of {ROTATIONS}, then failed", r.rotations),
        };
        let kept = match (held, r.kept) {
            (false, _) => String::new(),
            (true, None) => " - |".to_owned(),
            (true, Some((alive, of))) => format!(" {alive}/{of} |"),
        };
        println!(
            "| {} | {rotations} | {} | {:.0} | {} | {} | {:.1} / {:.1} ms |{kept}",
            r.what,
            r.tally.ok + r.tally.failed,
            r.rate(),
            r.tally.failed,
            r.tally.credentials.len(),
            r.percentile(0.5),
            r.percentile(0.99),
        );
    }
}

/// Per rotating row: its time, rotations and logins per user; where logins
/// failed, when and why (redacted); a failed rotation's output.
fn print_notes(bench: &Bench, rows: &[Row]) {
    let many = bench.words.many;
    for r in rows {
        if let Some(d) = r.rotate_median {
            println!(
                "{}: {:.1} s with the load, median `rotor rotate` {:.0} ms, {:.1} failed {many} per rotation; {many} per user: {:?}",
                r.what,
                r.took.as_secs_f64(),
                d.as_secs_f64() * 1000.0,
                r.tally.failed as f64 / r.rotations as f64,
                r.tally.users
            );
        }
        if r.tally.failed > 0 && !r.spans.is_empty() {
            println!(
                "{}: failed {many} per rotation, while `rotor rotate` ran + after it: {}",
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
}

/// `target/<name>.json`.
fn json_path(name: &str) -> PathBuf {
    // target/<profile>/rotor -> target/
    let exe = Path::new(env!("CARGO_BIN_EXE_rotor"));
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| Path::new("."))
        .join(format!("{name}.json"))
}
