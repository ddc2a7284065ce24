//! The Rust example plugin (`crates/cli/examples/s3_plugin.rs`, written
//! with the `rotor-plugin` SDK) end to end through the CLI, against the S3
//! stand-in: the same checks as the Python `s3.py` gets in
//! exec_providers.rs (both parts of the pair rotate and the old key is
//! deleted; the two-key limit; rotor killed at every step of a rotation,
//! then resumed, leaves exactly one working new key). Every run's output
//! and the store are scanned for the values.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::Harness;
use rotor_testkit::standin::Standin;

const ADMIN: &str = "standin-admin-key-5f1d9c0a7e3b";
const SEED_ID: &str = "AKIASEEDSEEDSEED0001";
const SEED_SECRET: &str = "seedsecretseedsecretseedsecretseedsecret";

/// The example's binary, built once per run of this file. Cargo builds a
/// package's examples before its integration tests only when no target is
/// selected: `cargo test --test exec_rust_plugin` does not, and would run
/// a stale or missing binary. So this asks cargo to build it (nothing to
/// do when it is fresh; cargo holds no lock while tests run), and finds it
/// where cargo puts examples: this test runs from `target/<profile>/deps`,
/// the example is `target/<profile>/examples/s3_plugin`.
fn plugin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = Command::new(env!("CARGO"))
            .args(["build", "-p", "rotor-cli", "--example", "s3_plugin"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo build --example s3_plugin");
        assert!(
            out.status.success(),
            "cargo build --example s3_plugin failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exe = std::env::current_exe().expect("the test's own path");
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test runs from target/<profile>/deps");
        let bin = profile
            .join("examples")
            .join(format!("s3_plugin{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "{} is missing", bin.display());
        bin
    })
}

fn rotor(h: &mut Harness, args: &[&str]) -> common::Run {
    h.rotor_env(args, &[("STANDIN_ADMIN_KEY", ADMIN)])
}

/// An S3 stand-in and a project whose one secret `key`, an access key
/// pair in `.env`, is rotated by the Rust plugin under `strategy`.
fn s3(strategy: &str, target_extra: &str) -> (Standin, Harness) {
    let s = Standin::start(
        "s3",
        &[
            "--admin-key",
            ADMIN,
            "--seed-user",
            SEED_ID,
            "--seed-key",
            SEED_SECRET,
        ],
    );
    let inventory = format!(
        r#"
[[secret]]
name = "key"
strategy = {strategy}
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "S3_SECRET_ACCESS_KEY"
user_var = "S3_ACCESS_KEY_ID"
{target_extra}
[secret.hooks]
verify = {{ command = ["true"], timeout = "10s" }}
[secret.authority]
kind = "exec"
command = [{plugin:?}]
env = ["STANDIN_ADMIN_KEY"]
[secret.authority.config]
admin_key_env = "STANDIN_ADMIN_KEY"
base_url = "{url}"
user = "app"
"#,
        plugin = plugin().display().to_string(),
        url = s.url(),
    );
    let env = format!("S3_ACCESS_KEY_ID={SEED_ID}\nS3_SECRET_ACCESS_KEY={SEED_SECRET}\n");
    let mut h = Harness::new(&inventory, &[(".env", &env)]);
    h.leaks.learn(ADMIN);
    h.rotor(&["init"]).expect_code(0);
    h.manage(
        ".env",
        &["S3_SECRET_ACCESS_KEY", "S3_SECRET_ACCESS_KEY_PREVIOUS"],
    );
    (s, h)
}

#[test]
fn rust_plugin_rotates_both_parts_of_the_pair_and_deletes_the_old_key() {
    let (s, mut h) = s3(r#"{ kind = "dual-password" }"#, "");
    rotor(&mut h, &["plan", "key"])
        .expect_code(0)
        .expect_output("s3_plugin");
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    let id = h.env_var(".env", "S3_ACCESS_KEY_ID").expect("id");
    let secret = h.env_var(".env", "S3_SECRET_ACCESS_KEY").expect("secret");
    assert_ne!(id, SEED_ID, "the new access key id was not delivered");
    assert!(id.starts_with("AKIA"));
    assert!(s.works(&secret) && !s.works(SEED_SECRET));
    assert_eq!(s.working().len(), 1, "{}", s.state());
    // The seed key was deactivated, then deleted, after the new one was made.
    let calls = s.calls();
    let made = calls
        .iter()
        .position(|c| c == "POST /iam/users/app/access-keys")
        .expect("create");
    let deleted = calls
        .iter()
        .position(|c| c == &format!("DELETE /iam/users/app/access-keys/{SEED_ID}"))
        .expect("the old key deleted");
    assert!(made < deleted, "{calls:?}");
    rotor(&mut h, &["verify", "key"]).expect_code(0);
    rotor(&mut h, &["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn rust_plugin_two_key_limit_refuses_a_third_until_retire_revokes_the_previous() {
    let (s, mut h) = s3(
        r#"{ kind = "overlap", window = "1d" }"#,
        "previous_var = \"S3_SECRET_ACCESS_KEY_PREVIOUS\"\n",
    );
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    assert_eq!(s.working().len(), 2, "overlap keeps the old key working");
    rotor(&mut h, &["rotate", "key"])
        .expect_code(2)
        .expect_output("is still live at its provider");
    assert_eq!(s.working().len(), 2, "the refused rotation made a key");
    rotor(&mut h, &["retire", "key"]).expect_code(0);
    assert_eq!(s.working().len(), 1);
    assert!(!s.works(SEED_SECRET));
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    assert_eq!(s.working().len(), 2);
    h.finish();
}

/// Every crash point of an exec rotation of the secret, in step order,
/// from the engine's step enum.
fn points() -> Vec<String> {
    let (s, h) = s3(r#"{ kind = "dual-password" }"#, "");
    let inventory = h.project.read_string("rotor.toml");
    drop((s, h));
    rotor_testkit::fault_matrix::crash_points(
        &inventory,
        &[],
        rotor::store::RunKind::Rotate,
        &["key"],
    )
}

/// Kills rotor at `point` of a rotation, resumes it, and checks what the
/// provider and the files hold.
fn crash_and_resume(point: &str) {
    let (s, mut h) = s3(r#"{ kind = "dual-password" }"#, "");
    let crashed = h.rotor_env(
        &["rotate", "key"],
        &[("STANDIN_ADMIN_KEY", ADMIN), ("ROTOR_FAULT", point)],
    );
    if point == "after:promote" {
        crashed.expect_code(-1);
    } else {
        assert_ne!(crashed.code, 0, "{point}: rotor did not crash");
    }
    let again = rotor(&mut h, &["resume", "key"]);
    let id = h.env_var(".env", "S3_ACCESS_KEY_ID").expect("id");
    let secret = h.env_var(".env", "S3_SECRET_ACCESS_KEY").expect("secret");
    // What the files hold is the new key, it works, and it is the only
    // key that does.
    assert!(
        s.works(&secret),
        "{point}: the delivered key does not work\n{}\n{}",
        again.stderr,
        s.state()
    );
    assert_eq!(s.working().len(), 1, "{point}: {}", s.state());
    assert_ne!(id, SEED_ID, "{point}: the new key was not delivered");
    assert!(!s.works(SEED_SECRET), "{point}: the old key still works");
    // Nothing is left open, the store agrees with the files, and the next
    // rotation works.
    rotor(&mut h, &["status"]).expect_code(0);
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    assert_eq!(s.working().len(), 1);
    rotor(&mut h, &["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn rust_plugin_crash_at_every_step_then_resume_leaves_exactly_one_working_new_key() {
    let points = points();
    assert!(points.iter().any(|p| p == "mid:create") && points.iter().any(|p| p == "after:finish"));
    for point in &points {
        crash_and_resume(point);
    }
}
