//! Scale benchmark (a bench binary, not a test): `rotor rotate --all` over
//! 1,000 secrets in 10 env files, and `rotor status` over 10,000 secrets,
//! each next to baselines measured in the same run: the process start of
//! `rotor --version`, and the runbook way of rotating 1,000 variables (one
//! `sed -i` per variable, as the seed runbooks do).
//!
//! Run: `cargo bench -p rotor-cli --bench scale`

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

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

fn project(secrets: usize, files: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut inv = String::new();
    let mut envs = vec![String::from("# generated for the benchmark\nAPP_ENV=bench\n"); files];
    for i in 0..secrets {
        let f = i % files;
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
        std::fs::write(dir.path().join(format!("env{f}.env")), text).expect("env file");
    }
    rotor(dir.path(), &["init"]);
    dir
}

fn sed_runbook(dir: &Path, secrets: usize, files: usize) -> Duration {
    let start = Instant::now();
    for i in 0..secrets {
        let f = i % files;
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

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let mut rows: Vec<(String, Duration, &str)> = Vec::new();

    let small = project(1_000, 10);
    let startup = median(
        (0..RUNS)
            .map(|_| rotor(small.path(), &["--version"]))
            .collect(),
    );
    rows.push((
        "baseline: `rotor --version` (process start)".into(),
        startup,
        "-",
    ));

    let sed = median(
        (0..RUNS)
            .map(|_| sed_runbook(small.path(), 1_000, 10))
            .collect(),
    );
    rows.push((
        "baseline: runbook, 1,000 × `sed -i` over 10 files".into(),
        sed,
        "-",
    ));

    // The first rotate adopts the placeholder values; later ones are steady state.
    let first = rotor(small.path(), &["rotate", "--all"]);
    rows.push((
        "`rotate --all`, 1,000 secrets / 10 files, first (adopts)".into(),
        first,
        "< 10 s",
    ));
    let steady = median(
        (0..RUNS)
            .map(|_| rotor(small.path(), &["rotate", "--all"]))
            .collect(),
    );
    rows.push((
        "`rotate --all`, 1,000 secrets / 10 files, steady".into(),
        steady,
        "< 10 s",
    ));

    let big = project(10_000, 10);
    rotor(big.path(), &["rotate", "--all"]);
    let status_table = median((0..RUNS).map(|_| rotor(big.path(), &["status"])).collect());
    rows.push((
        "`status`, 10,000 secrets (table)".into(),
        status_table,
        "< 300 ms",
    ));
    let status_json = median(
        (0..RUNS)
            .map(|_| rotor(big.path(), &["status", "--json"]))
            .collect(),
    );
    rows.push((
        "`status --json`, 10,000 secrets".into(),
        status_json,
        "< 300 ms",
    ));

    println!("\n| what (median of {RUNS}, first rotate once) | time | target |");
    println!("|---|---:|---|");
    for (what, d, target) in rows {
        println!("| {what} | {:.1} ms | {target} |", d.as_secs_f64() * 1000.0);
    }
}
