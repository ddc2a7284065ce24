//! Two targets that name one file by different paths (a symlink, `..`) are
//! locked, edited and restored as one file: no self-deadlock, no lost
//! update, and one variable still has one writer.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{rotor_bin, Harness};
use rotor_testkit::inventory::{self, Secret};

/// `a` in `A` of `.env`, and `b` in `b_var` of the same file reached as
/// `conf/../alias.env`.
fn inventory(b_var: &str) -> String {
    inventory::inventory(&[
        Secret::new("a").random(16).dotenv(".env", "A"),
        Secret::new("b")
            .random(16)
            .dotenv("conf/../alias.env", b_var),
    ])
}

/// Runs rotor with a deadline, so a deadlock fails the test instead of hanging it.
fn rotor_with_deadline(h: &mut Harness, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(rotor_bin())
        .args(args)
        .current_dir(h.project.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("poll").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rotor {args:?} hung (deadlock?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    h.learn_now();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    h.leaks.check_text("rotor output", &text);
    (out.status.code().unwrap_or(-1), text)
}

fn setup(b_var: &str) -> Harness {
    let mut h = Harness::new(
        &inventory(b_var),
        &[(".env", "A=aaaaaaaaaaaaaaaa\nB=bbbbbbbbbbbbbbbb\n")],
    );
    std::fs::create_dir(h.project.join("conf")).expect("mkdir");
    std::os::unix::fs::symlink(".env", h.project.join("alias.env")).expect("symlink");
    h.manage(".env", &["A", "B"]);
    h.rotor(&["init"]).expect_code(0);
    h
}

#[test]
fn one_file_by_two_paths_rotates_without_deadlock() {
    let mut h = setup("B");
    let (code, text) = rotor_with_deadline(&mut h, &["rotate", "--all"]);
    assert_eq!(code, 0, "{text}");
    let a = h.env_var(".env", "A").expect("A");
    let b = h.env_var(".env", "B").expect("B");
    assert_ne!(a, "aaaaaaaaaaaaaaaa");
    assert_ne!(b, "bbbbbbbbbbbbbbbb");
    assert!(
        std::fs::symlink_metadata(h.project.join("alias.env"))
            .expect("stat")
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    h.finish();
}

#[test]
fn one_variable_written_through_two_paths_is_refused() {
    let mut h = setup("A");
    let before = h.project.snapshot();
    let (code, text) = rotor_with_deadline(&mut h, &["rotate", "--all"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("also written by secret"), "{text}");
    h.project.assert_unchanged(&before, "a refused rotation");
    h.finish();
}
