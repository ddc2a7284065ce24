//! The CLI tests' harness: a throwaway project, the real `rotor` binary run
//! in it, and the leak scanner applied to every run's output and, at the
//! end, to the whole store.
//!
//! The binary is `$ROTOR_BIN` when set, else `rotor` next to the test
//! binary's directory (cargo puts test binaries in `target/<profile>/deps`
//! and `rotor` in `target/<profile>`).

use std::path::PathBuf;
use std::process::Command;

use crate::{LeakScanner, Project};

/// What one `rotor` invocation did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the output unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics unless stdout or stderr contains `needle`.
    pub fn expect_output(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle) || self.stderr.contains(needle),
            "expected {needle:?} in output\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A project plus the scanner that watches it.
pub struct Harness {
    pub project: Project,
    pub leaks: LeakScanner,
    /// (env file, variables) whose values the scanner learns after each run.
    pub managed: Vec<(String, Vec<String>)>,
}

/// Waits (at most 30 s) until `rel` exists in the project: a hook's sign
/// that it is running.
pub fn wait_for_file(h: &Harness, rel: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !h.project.join(rel).exists() {
        assert!(std::time::Instant::now() < deadline, "{rel} never appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Starts `rotor ARGS` in the project without waiting for it.
pub fn spawn_rotor(h: &Harness, args: &[&str]) -> std::process::Child {
    Command::new(rotor_bin())
        .args(args)
        .current_dir(h.project.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn rotor")
}

/// `rotor ARGS` in the project with the harness's environment: no
/// `ROTOR_CONFIG`, `ROTOR_MASTER_KEY_FILE` or `ROTOR_ACTOR` from the caller,
/// `USER=test-operator`, `NO_COLOR=1`, then `env`.
fn rotor_command(h: &Harness, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(rotor_bin());
    cmd.args(args)
        .current_dir(h.project.path())
        .env_remove("ROTOR_CONFIG")
        .env_remove("ROTOR_MASTER_KEY_FILE")
        .env_remove("ROTOR_ACTOR")
        .env("USER", "test-operator")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Path of the `rotor` binary under test: `$ROTOR_BIN` if set, else
/// `rotor` in the parent of the directory holding the running test binary.
pub fn rotor_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("ROTOR_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("the test binary's directory");
    deps.parent()
        .expect("the directory above the test binary's")
        .join("rotor")
}

impl Harness {
    /// A project with `rotor.toml` and the given files.
    pub fn new(inventory: &str, files: &[(&str, &str)]) -> Harness {
        let project = Project::new();
        project.write("rotor.toml", inventory);
        for (name, text) in files {
            project.write(name, text);
        }
        Harness {
            project,
            leaks: LeakScanner::new(),
            managed: Vec::new(),
        }
    }

    /// A project with `rotor.toml` and the given files whose scanner knows
    /// the `managed` variables of each env file (`rotor init` not run).
    pub fn managed(
        inventory: &str,
        files: &[(&str, &str)],
        managed: &[(&str, &[&str])],
    ) -> Harness {
        let mut h = Harness::new(inventory, files);
        for (file, vars) in managed {
            h.manage(file, vars);
        }
        h
    }

    /// Like [`Harness::managed`], then `rotor init` (which must exit 0): the
    /// setup most tests start from.
    pub fn started(
        inventory: &str,
        files: &[(&str, &str)],
        managed: &[(&str, &[&str])],
    ) -> Harness {
        let mut h = Harness::managed(inventory, files, managed);
        h.rotor(&["init"]).expect_code(0);
        h
    }

    /// Tells the scanner which variables of which file hold secret values.
    pub fn manage(&mut self, file: &str, vars: &[&str]) {
        self.managed.push((
            file.to_owned(),
            vars.iter().map(|v| v.to_string()).collect(),
        ));
        self.learn();
    }

    /// Learns the current values of the managed variables now.
    pub fn learn_now(&mut self) {
        self.learn();
    }

    fn learn(&mut self) {
        for (file, vars) in &self.managed {
            let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
            self.leaks.learn_env(&self.project.join(file), &vars);
        }
    }

    /// Runs `rotor ARGS` in the project and scans its output for values.
    pub fn rotor(&mut self, args: &[&str]) -> Run {
        self.rotor_env(args, &[])
    }

    /// Like [`Harness::rotor`] with extra environment variables.
    pub fn rotor_env(&mut self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = rotor_command(self, args, env).output().expect("run rotor");
        self.record(&format!("`rotor {}`", args.join(" ")), out)
    }

    /// Like [`Harness::rotor_env`] with `input` written to rotor's stdin
    /// (a pipe), as `rotor put` reads a value.
    pub fn rotor_stdin(&mut self, args: &[&str], env: &[(&str, &str)], input: &str) -> Run {
        use std::io::Write;
        let mut cmd = rotor_command(self, args, env);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("run rotor");
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input.as_bytes())
                .expect("write rotor's stdin");
        }
        let out = child.wait_with_output().expect("wait for rotor");
        self.record(&format!("`rotor {}` (stdin)", args.join(" ")), out)
    }

    /// A finished run: the scanner learns the managed values and scans both
    /// output streams (`label` names the command in a failure).
    fn record(&mut self, label: &str, out: std::process::Output) -> Run {
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.learn();
        self.leaks
            .check_text(&format!("stdout of {label}"), &run.stdout);
        self.leaks
            .check_text(&format!("stderr of {label}"), &run.stderr);
        run
    }

    /// The manual flow for each `(secret, file, variable, value)`: `rotate`
    /// prints the steps, `put` delivers the value from stdin, and `confirm
    /// --revoked` retires the old one.
    pub fn put_manual(&mut self, env: &[(&str, &str)], items: &[(&str, &str, &str, &str)]) {
        for (name, file, var, value) in items {
            self.leaks.learn(value);
            self.rotor_env(&["rotate", name], env)
                .expect_code(0)
                .expect_output(&format!("rotor put {name}"));
            self.rotor_stdin(&["put", name], env, &format!("{value}\n"))
                .expect_code(0);
            assert_eq!(self.env_var(file, var).as_deref(), Some(*value), "{name}");
            self.rotor_env(&["confirm", name, "--revoked"], env)
                .expect_code(0);
        }
    }

    /// Final sweep: the store's files and tables hold no plaintext value.
    pub fn finish(&mut self) {
        self.learn();
        let store = self.project.join(".rotor");
        if store.exists() {
            self.leaks.check_dir(&store);
            let db = store.join("rotor.db");
            if db.exists() {
                self.leaks.check_store_tables(&db);
            }
        }
        assert!(self.leaks.scanned() > 0, "the leak scanner scanned nothing");
    }

    /// The stages of `name`'s versions, newest first, from `rotor history
    /// NAME --json` (which must exit 0).
    pub fn stages(&mut self, name: &str) -> Vec<String> {
        let hist = self
            .rotor(&["history", name, "--json"])
            .expect_code(0)
            .json();
        hist["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .map(|v| v["stage"].as_str().expect("stage").to_owned())
            .collect()
    }

    /// Value of a variable as dotenvy reads the file.
    pub fn env_var(&self, file: &str, var: &str) -> Option<String> {
        dotenvy::from_path_iter(self.project.join(file))
            .expect("env file parses with dotenvy")
            .map(|r| r.expect("dotenvy item"))
            .find(|(k, _)| k == var)
            .map(|(_, v)| v)
    }
}
