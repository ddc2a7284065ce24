//! The exit-code contract (README "Exit codes", `rotor --help`): the code
//! says what a command left behind, whatever became of its output, and no
//! output failure ever panics or cuts a rotation short.

mod common;

#[allow(dead_code)]
#[path = "../src/exit.rs"]
mod exit;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{rotor_bin, Harness};
use rotor_testkit::inventory::{inventory, Secret};

/// `jwt`, an overlap secret in `.env`, with `hooks` (then 2 retries, 10 ms
/// apart).
fn jwt_inventory(hooks: impl FnOnce(Secret) -> Secret) -> String {
    let jwt = Secret::new("jwt")
        .random(32)
        .overlap("1d")
        .dotenv(".env", "JWT_SECRET")
        .previous_var("JWT_SECRET_PREVIOUS");
    inventory(&[hooks(jwt)
        .hook_line("retries = 2")
        .hook_line("retry_backoff = \"10ms\"")])
}

/// The first attempt fails while `flaky` exists: rotor notes the retry on
/// stderr in the middle of the rotation.
const FLAKY_RESTART: &[&str] = &[
    "sh",
    "-c",
    "echo restarting >&2; if [ -f flaky ]; then rm flaky; exit 1; fi",
];

const ENV: &str = "JWT_SECRET=initial-jwt-value-123456\n";

fn ready() -> Harness {
    let inventory = jwt_inventory(|s| s.restart(FLAKY_RESTART));
    let mut h = Harness::started(
        &inventory,
        &[(".env", ENV)],
        &[(".env", &["JWT_SECRET", "JWT_SECRET_PREVIOUS"])],
    );
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    h
}

/// The current version of `jwt`, and whether a run holds it.
fn jwt_state(h: &mut Harness) -> (u64, bool) {
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    let row = &status[0];
    (
        row["version"].as_u64().expect("a current version"),
        !row["open_run"].is_null(),
    )
}

#[test]
fn exit_code_table_in_readme_matches_the_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Exit codes\n")
        .nth(1)
        .expect("README has an \"## Exit codes\" section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let rows: Vec<(u8, String)> = section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim().trim_matches('|').split('|').collect();
            let code = cells.first()?.trim().parse::<u8>().ok()?;
            Some((code, cells.get(1)?.trim().to_owned()))
        })
        .collect();
    let table: Vec<(u8, String)> = exit::TABLE
        .iter()
        .map(|(c, w)| (*c, (*w).to_owned()))
        .collect();
    assert_eq!(
        rows, table,
        "the README's exit-code table differs from exit::TABLE"
    );
    assert_eq!(
        [
            exit::SUCCESS,
            exit::FAILED,
            exit::BAD_INPUT,
            exit::BUSY,
            exit::DRIFT,
            exit::PARTIAL
        ],
        [0, 1, 2, 3, 4, 5]
    );
    // `rotor --help` prints the same table (wrapped).
    let help = Command::new(rotor_bin())
        .arg("--help")
        .output()
        .expect("help");
    let help: String = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (code, words) in exit::TABLE {
        assert!(
            help.contains(&format!("{code} {words}")),
            "`rotor --help` lacks exit code {code}: {words}\n{help}"
        );
    }
}

#[test]
fn rotate_with_stdout_on_a_full_disk_still_exits_0() {
    let mut h = ready();
    let (before, _) = jwt_state(&mut h);
    let out = rotor_in(&h, &["rotate", "--all"], &[])
        .stdout(
            File::options()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        )
        .output()
        .expect("run rotor");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    h.leaks.check_text("stderr of rotate > /dev/full", &stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(
        stderr.contains("warning: cannot write to stdout"),
        "{stderr}"
    );
    let (after, open) = jwt_state(&mut h);
    assert_eq!(after, before + 1, "the rotation happened");
    assert!(!open);
    h.finish();
}

#[test]
fn rollback_of_an_unopenable_previous_is_refused_with_nothing_changed() {
    // Two stores, two master keys: b's sealed version 1 does not open in a.
    let mut a = ready();
    let mut b = ready();
    let foreign: Vec<u8> = rusqlite::Connection::open(b.project.join(".rotor/rotor.db"))
        .expect("open b")
        .query_row(
            "SELECT sealed FROM versions WHERE secret = 'jwt' AND number = 1",
            [],
            |r| r.get(0),
        )
        .expect("b's version 1");
    rusqlite::Connection::open(a.project.join(".rotor/rotor.db"))
        .expect("open a")
        .execute(
            "UPDATE versions SET sealed = ?1 WHERE secret = 'jwt' AND number = 1",
            [foreign],
        )
        .expect("graft");
    let before = a.project.snapshot();
    a.rotor(&["rollback", "jwt"])
        .expect_code(2)
        .expect_output("does not open");
    a.project.assert_unchanged(&before, "a refused rollback");
    let (version, open) = jwt_state(&mut a);
    assert_eq!(version, 2);
    assert!(!open, "a refused rollback leaves no run open");
    a.finish();
    b.finish();
}

#[test]
fn adopt_of_a_value_with_a_nul_is_refused_before_anything_is_committed() {
    let mut h = ready();
    h.project.write(
        ".env",
        "JWT_SECRET=\"hand\0edited-value-1234567\"\nJWT_SECRET_PREVIOUS=\n",
    );
    h.leaks.learn("hand\0edited-value-1234567");
    let before = h.project.snapshot();
    h.rotor(&["rotate", "jwt", "--adopt"])
        .expect_code(2)
        .expect_output("cannot be adopted")
        .expect_output("nothing was changed");
    h.project
        .assert_unchanged(&before, "a refused adoption (store included)");
    let history = h.rotor(&["history", "jwt", "--json"]).expect_code(0).json();
    assert_eq!(
        history["versions"].as_array().map(Vec::len),
        Some(2),
        "no version was recorded: {history}"
    );
    h.finish();
}

#[test]
fn drift_exits_4() {
    let mut h = ready();
    h.rotor(&["verify"]).expect_code(0);
    h.project
        .write(".env", "JWT_SECRET=changed-by-hand-123456789\n");
    h.leaks.learn("changed-by-hand-123456789");
    h.rotor(&["verify"]).expect_code(4).expect_output("DRIFT");
    h.rotor(&["verify", "--json"]).expect_code(4);
    h.finish();
}

#[test]
fn a_sweep_that_rotated_some_and_failed_others_exits_5_and_one_that_failed_all_exits_1() {
    let bad = Secret::new("bad")
        .random(16)
        .dotenv(".env", "BAD")
        .verify_command(&["false"], "5s")
        .hook_line("retry_backoff = \"10ms\"");
    let mut h = Harness::started(
        &inventory(&[Secret::new("good").random(16).dotenv(".env", "GOOD"), bad]),
        &[(".env", "GOOD=good-initial-123\nBAD=bad-initial-12345\n")],
        &[(".env", &["GOOD", "BAD"])],
    );
    h.rotor(&["rotate", "--all"])
        .expect_code(5)
        .expect_output("1 of 2 groups failed");
    let before = h.project.read(".env");
    h.rotor(&["rotate", "bad"])
        .expect_code(1)
        .expect_output("failed at step verify");
    assert_eq!(h.project.read(".env"), before, "undone");
    h.finish();
}

#[test]
fn app_only_undo_does_not_speak_of_authorities() {
    let mut h = ready();
    h.project.write(
        "rotor.toml",
        jwt_inventory(|s| s.restart(&["true"]).verify_command(&["false"], "5s")),
    );
    let run = h.rotor(&["rotate", "jwt"]);
    run.expect_code(1).expect_output("failed at step verify");
    assert!(
        !run.stderr.contains("authorit") && !run.stdout.contains("authorit"),
        "an app-only secret has no authority:\n{}",
        run.stderr
    );
    h.finish();
}

/// `rotor ARGS` in the project, as the harness runs it.
fn rotor_in(h: &Harness, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(rotor_bin());
    cmd.args(args);
    in_project(&mut cmd, h, env);
    cmd
}

/// The harness's directory and environment for `cmd`.
fn in_project(cmd: &mut Command, h: &Harness, env: &[(&str, &str)]) {
    cmd.current_dir(h.project.path())
        .env_remove("ROTOR_CONFIG")
        .env_remove("ROTOR_MASTER_KEY_FILE")
        .env_remove("ROTOR_ACTOR")
        .env_remove("ROTOR_LOG")
        .env("USER", "test-operator")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
}

/// Where both output streams go, none of them writable.
#[derive(Debug, Clone, Copy)]
enum Sink {
    /// Both descriptors closed before rotor starts.
    Closed,
    /// Both on /dev/full: every write fails with ENOSPC.
    Full,
    /// Both on a pipe whose reader has exited: every write fails with EPIPE.
    DeadPipe,
}

/// Runs `rotor ARGS` with both streams unwritable; its exit code.
fn rotor_unwritable(h: &Harness, sink: Sink, args: &[&str], env: &[(&str, &str)]) -> i32 {
    let mut cmd = match sink {
        Sink::Closed => {
            // The shell closes both, then becomes rotor.
            let mut c = Command::new("sh");
            c.args(["-c", r#"exec "$0" "$@" >&- 2>&-"#])
                .arg(rotor_bin())
                .args(args);
            in_project(&mut c, h, env);
            c
        }
        Sink::Full => {
            let full = || {
                File::options()
                    .write(true)
                    .open("/dev/full")
                    .expect("/dev/full")
            };
            let mut c = rotor_in(h, args, env);
            c.stdout(full()).stderr(full());
            c
        }
        Sink::DeadPipe => {
            let (reader, writer) = std::io::pipe().expect("pipe");
            drop(reader);
            let mut c = rotor_in(h, args, env);
            c.stdout(writer.try_clone().expect("dup")).stderr(writer);
            c
        }
    };
    let status = cmd.status().expect("run rotor");
    status.code().unwrap_or(-1)
}

#[test]
fn unwritable_stdout_and_stderr_never_panic_nor_stop_a_rotation() {
    let mut h = ready();
    for sink in [Sink::Closed, Sink::Full, Sink::DeadPipe] {
        for log in [None, Some("debug")] {
            let env: Vec<(&str, &str)> = log.map(|l| ("ROTOR_LOG", l)).into_iter().collect();
            let what = format!("{sink:?}, ROTOR_LOG={log:?}");
            // rotate: a retry note goes to stderr in the middle of it.
            let (before, _) = jwt_state(&mut h);
            h.project.write("flaky", "");
            let code = rotor_unwritable(&h, sink, &["rotate", "jwt"], &env);
            assert_eq!(code, 0, "rotate ({what})");
            assert!(
                !h.project.join("flaky").exists(),
                "the restart hook ran twice ({what})"
            );
            let (after, open) = jwt_state(&mut h);
            assert_eq!(after, before + 1, "the rotation completed ({what})");
            assert!(!open, "no run left open ({what})");
            // Reports: a lost report is "nothing done" (2), except to a
            // reader that went away (0); /dev/null (closed) takes it all.
            let report = match sink {
                Sink::Full => 2,
                Sink::Closed | Sink::DeadPipe => 0,
            };
            for args in [
                &["status"][..],
                &["plan"],
                &["plan", "--json"],
                &["history", "jwt"],
            ] {
                let code = rotor_unwritable(&h, sink, args, &env);
                assert_eq!(code, report, "`rotor {}` ({what})", args.join(" "));
            }
            // An error path.
            let code = rotor_unwritable(&h, sink, &["rotate", "nosuch"], &env);
            assert_eq!(code, 2, "an unknown secret ({what})");
        }
    }
    h.finish();
}

/// A tmpfs mounted over a directory, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Mounts a small tmpfs at `dir`. Outside CI a machine where that is not
/// possible (not root) skips the test; CI runs as root, so there it fails.
fn mount_tmpfs(dir: &Path, size: &str) -> Option<Tmpfs> {
    std::fs::create_dir_all(dir).expect("mount point");
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0700"),
            "tmpfs",
        ])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if mounted {
        return Some(Tmpfs(dir.to_path_buf()));
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "cannot mount a tmpfs at {} for the disk-full test; CI runs as root and must be able to",
        dir.display()
    );
    eprintln!("skipping the disk-full test: cannot mount a tmpfs (not root?)");
    None
}

/// Fills the file system of `file` until `free` bytes are left.
fn fill_leaving(file: &Path, free: u64) {
    use std::io::Write;
    let mut f = File::create(file).expect("filler");
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    let len = f.metadata().expect("filler size").len();
    f.set_len(len.saturating_sub(free)).expect("leave room");
}

#[test]
fn disk_full_says_disk_full_and_the_code_matches_what_was_left() {
    let secrets: Vec<Secret> = (0..20)
        .map(|i| {
            Secret::new(&format!("s{i}"))
                .random(32)
                .overlap("1d")
                .dotenv(".env", &format!("S{i}"))
                .previous_var(&format!("S{i}_PREVIOUS"))
        })
        .collect();
    let inventory = inventory(&secrets);
    let env: String = (0..20)
        .map(|i| format!("S{i}=initial-value-{i:04}-abcdef\n"))
        .collect();
    let vars: Vec<String> = (0..20)
        .flat_map(|i| [format!("S{i}"), format!("S{i}_PREVIOUS")])
        .collect();
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
    let mut h = Harness::new(&inventory, &[(".env", &env)]);
    h.manage(".env", &vars);
    // The store alone is on the small file system.
    let Some(_tmpfs) = mount_tmpfs(&h.project.join(".rotor"), "1m") else {
        return;
    };
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["rotate", "--all"]).expect_code(0);
    let filler = h.project.join(".rotor/filler");
    let (mut refused, mut left_open) = (0, 0);
    // From no room at all up to enough: each amount stops the command
    // somewhere else, or not at all.
    for kib in (0..=512).step_by(8) {
        fill_leaving(&filler, kib * 1024);
        let env_before = h.project.read(".env");
        let run = h.rotor(&["rotate", "--all"]);
        let status = h.rotor(&["status"]);
        std::fs::remove_file(&filler).expect("free the space");
        for out in [&run, &status] {
            assert!(
                !out.stderr.contains("damaged") && !out.stdout.contains("damaged"),
                "a full disk is not damage ({kib} KiB free):\n{}",
                out.stderr
            );
        }
        match run.code {
            0 => {}
            2 => {
                refused += 1;
                run.expect_output("disk full at");
                assert_eq!(
                    h.project.read(".env"),
                    env_before,
                    "exit 2 changed the files"
                );
                let rows = h.rotor(&["status", "--json"]).expect_code(0).json();
                assert!(
                    rows.as_array()
                        .expect("rows")
                        .iter()
                        .all(|r| r["open_run"].is_null()),
                    "exit 2 left a run open ({kib} KiB free): {rows}"
                );
            }
            3 => {
                left_open += 1;
                run.expect_output("disk full at")
                    .expect_output("free space and run `rotor resume`");
                let rows = h.rotor(&["status", "--json"]).expect_code(0).json();
                assert!(
                    rows.as_array()
                        .expect("rows")
                        .iter()
                        .any(|r| r["state"] == "interrupted"),
                    "exit 3 with no interrupted run ({kib} KiB free): {rows}"
                );
                h.rotor(&["resume"]).expect_code(0);
            }
            other => panic!(
                "rotate --all on a full disk ({kib} KiB free) exited {other}:\n{}",
                run.stderr
            ),
        }
    }
    assert!(refused > 0, "no amount of free space refused the rotation");
    assert!(
        left_open > 0,
        "no amount of free space stopped a run midway"
    );
    let rows = h.rotor(&["status", "--json"]).expect_code(0).json();
    assert!(rows
        .as_array()
        .expect("rows")
        .iter()
        .all(|r| r["open_run"].is_null()));
    h.finish();
}
