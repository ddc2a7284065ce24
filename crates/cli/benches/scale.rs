//! Scale benchmark (a bench binary, not a test): how the commands grow with
//! the number of secrets. For N = 1,000, 4,000, 10,000 and 16,000 secrets over 10
//! env files it times `rotor init`, the first `rotate --all` (which adopts
//! the values found in the files), then steady-state `rotate --all`,
//! `plan`, `status` and `verify`, and prints the time per secret at each N
//! and the ratio t(16,000)/t(1,000) (16 for perfectly linear growth, less
//! when process start dominates). Baselines measured in the same run: the
//! process start of `rotor --version`, and the runbook way of rotating
//! 1,000 variables (one `sed -i` per variable, as the seed runbooks do).
//!
//! Exits non-zero when a ratio is above 20: cost that grows faster than the
//! number of secrets.
//!
//! Run: `cargo bench -p rotor-cli --bench scale` (a few minutes on 2 cores).
//! `ROTOR_BENCH_SIZES=1000,4000` runs other sizes (the ratio is then of
//! the largest to the smallest).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Timed runs per steady-state command (the median is reported).
const RUNS: usize = 3;
/// Env files the secrets are spread over.
const FILES: usize = 10;
/// Highest accepted t(largest)/t(smallest).
const MAX_RATIO: f64 = 20.0;

fn rotor(dir: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .expect("run rotor");
    let took = start.elapsed();
    assert!(status.success(), "rotor {args:?} failed");
    took
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// The inventory and env files of `secrets` secrets over [`FILES`] files,
/// not yet initialised.
fn project(secrets: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut inv = String::new();
    let mut envs = vec![String::from("# generated for the benchmark\nAPP_ENV=bench\n"); FILES];
    for i in 0..secrets {
        let f = i % FILES;
        let _ = write!(
            inv,
            "[[secret]]\nname = \"s{i}\"\ncadence = \"90d\"\ngenerator = {{ kind = \"random\", bytes = 32 }}\n\
             strategy = {{ kind = \"overlap\", window = \"1d\" }}\n[[secret.target]]\nkind = \"dotenv\"\n\
             path = \"env{f}.env\"\nvar = \"S{i}\"\nprevious_var = \"S{i}_PREVIOUS\"\n\n"
        );
        let _ = write!(envs[f], "S{i}=placeholder-value-{i:06}\nS{i}_PREVIOUS=\n");
    }
    std::fs::write(dir.path().join("rotor.toml"), inv).expect("inventory");
    for (f, text) in envs.iter().enumerate() {
        let path = dir.path().join(format!("env{f}.env"));
        std::fs::write(&path, text).expect("env file");
        // As a production env file is (rotor keeps 0600; no mode warnings).
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod");
    }
    dir
}

fn sed_runbook(dir: &Path, secrets: usize) -> Duration {
    let start = Instant::now();
    for i in 0..secrets {
        let f = i % FILES;
        let status = Command::new("sed")
            .arg("-i")
            .arg(format!("s/^S{i}=.*/S{i}=runbook-value-{i:06}/"))
            .arg(dir.join(format!("env{f}.env")))
            .status()
            .expect("sed");
        assert!(status.success());
    }
    start.elapsed()
}

/// What is timed at each size, in order.
const COMMANDS: [&str; 6] = [
    "init",
    "rotate --all, first (adopts)",
    "rotate --all, steady",
    "plan",
    "status",
    "verify",
];

/// The times of [`COMMANDS`] for `n` secrets.
fn measure(n: usize) -> Vec<Duration> {
    let p = project(n);
    let dir = p.path();
    let init = rotor(dir, &["init"]);
    let first = rotor(dir, &["rotate", "--all"]);
    let steady = |args: &[&str]| median((0..RUNS).map(|_| rotor(dir, args)).collect());
    let rotate = steady(&["rotate", "--all"]);
    let plan = steady(&["plan"]);
    let status = steady(&["status"]);
    let verify = steady(&["verify"]);
    vec![init, first, rotate, plan, status, verify]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn sizes() -> Vec<usize> {
    let parsed: Option<Vec<usize>> = std::env::var("ROTOR_BENCH_SIZES").ok().map(|s| {
        s.split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .expect("ROTOR_BENCH_SIZES: numbers, comma-separated")
            })
            .collect()
    });
    match parsed {
        Some(v) if v.len() >= 2 => v,
        _ => vec![1_000, 4_000, 10_000, 16_000],
    }
}

fn main() -> ExitCode {
    // `cargo bench` passes --bench; nothing else to parse.
    let sizes = sizes();
    let base = project(1_000);
    rotor(base.path(), &["init"]);
    let startup = median((0..5).map(|_| rotor(base.path(), &["--version"])).collect());
    let sed = sed_runbook(base.path(), 1_000);
    drop(base);

    let mut times: Vec<Vec<Duration>> = Vec::new();
    for &n in &sizes {
        eprintln!("measuring {n} secrets…");
        times.push(measure(n));
    }

    let (small, large) = (sizes[0], sizes[sizes.len() - 1]);
    let mut head = String::from("| command (median of 3; init, first once) |");
    let mut rule = String::from("|---|");
    for n in &sizes {
        let _ = write!(head, " N = {n} | per secret |");
        rule.push_str("---:|---:|");
    }
    let _ = write!(head, " t({large})/t({small}) |");
    rule.push_str("---:|");
    println!("\n{head}\n{rule}");
    let mut worst: f64 = 0.0;
    for (c, what) in COMMANDS.iter().enumerate() {
        let mut line = format!("| `{what}` |");
        for (i, &n) in sizes.iter().enumerate() {
            let t = times[i][c];
            let _ = write!(
                line,
                " {:.0} ms | {:.1} µs |",
                ms(t),
                t.as_secs_f64() * 1e6 / n as f64
            );
        }
        let ratio = times[sizes.len() - 1][c].as_secs_f64() / times[0][c].as_secs_f64();
        worst = worst.max(ratio);
        let _ = write!(line, " {ratio:.1} |");
        println!("{line}");
    }
    println!(
        "\nbaselines: `rotor --version` (process start) {:.1} ms; runbook, 1,000 × `sed -i` over {FILES} files {:.0} ms",
        ms(startup),
        ms(sed)
    );
    if worst > MAX_RATIO {
        eprintln!("FAIL: a command's time grew {worst:.1}× from {small} to {large} secrets (limit {MAX_RATIO}×): cost grows faster than linearly");
        return ExitCode::FAILURE;
    }
    println!("worst ratio {worst:.1} (limit {MAX_RATIO})");
    ExitCode::SUCCESS
}
