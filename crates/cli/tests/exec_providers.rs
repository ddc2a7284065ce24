//! The example exec plugins (examples/plugins) end to end through the CLI,
//! against local stand-ins that follow each provider's API shape: one per
//! overlap model (Stripe: fixed grace, Twilio: secondary token promoted,
//! Cloudflare: roll with no overlap, S3/IAM: two access keys; the S3 one
//! also as the Rust SDK's example, crates/cli/examples/s3_plugin.rs), and
//! the crash matrix: rotor killed at every step of an exec rotation, then
//! resumed (or rolled back), leaves exactly one working new credential at
//! the provider, and the old one is revoked only after `finish`.

mod common;

use common::Harness;
use rotor_testkit::inventory::{inventory, Secret};
use rotor_testkit::standin::{plugins_dir, Standin};

const ADMIN: &str = "standin-admin-key-5f1d9c0a7e3b";

/// A harness whose one secret is `key` (its strategy and targets), rotated
/// by `plugin` with these config lines; the admin key is passed to the
/// plugin through STANDIN_ADMIN_KEY.
fn harness(plugin: &str, key: Secret, config: &[&str], env: &str) -> Harness {
    let script = plugins_dir().join(plugin).display().to_string();
    harness_of(&["python3", &script], key, config, env)
}

/// Like [`harness`], with the plugin's command line given.
fn harness_of(command: &[&str], key: Secret, config: &[&str], env: &str) -> Harness {
    let key = key
        .random(24)
        .verify_command(&["true"], "10s")
        .exec(command)
        .authority_lines(&["env = [\"STANDIN_ADMIN_KEY\"]"])
        .authority_config(&["admin_key_env = \"STANDIN_ADMIN_KEY\""])
        .authority_config(config);
    let mut h = Harness::new(&inventory(&[key]), &[(".env", env)]);
    h.leaks.learn(ADMIN);
    h.rotor(&["init"]).expect_code(0);
    h
}

fn rotor(h: &mut Harness, args: &[&str]) -> common::Run {
    h.rotor_env(args, &[("STANDIN_ADMIN_KEY", ADMIN)])
}

/// `key`, rotated `dual-password`, in `KEY` of `.env`.
fn dual_key() -> Secret {
    Secret::new("key").dual_password().dotenv(".env", "KEY")
}

/// `base_url = "URL"` of `s`, the first config line of every plugin here.
fn base_url(s: &Standin) -> String {
    format!("base_url = \"{}\"", s.url())
}

fn stripe(seed: &str) -> (Standin, Harness) {
    stripe_with(seed, "grace_seconds = 3600")
}

fn stripe_with(seed: &str, config: &str) -> (Standin, Harness) {
    let s = Standin::start("stripe", &["--admin-key", ADMIN, "--seed-key", seed]);
    let mut h = harness(
        "stripe.py",
        dual_key(),
        &[&base_url(&s), config],
        &format!("KEY={seed}\n"),
    );
    h.manage(".env", &["KEY"]);
    (s, h)
}

#[test]
fn stripe_fixed_grace_mints_a_key_and_expires_the_old_one_after_verify() {
    let seed = "rk_live_seedseedseedseedseedseedseed01";
    let (s, mut h) = stripe(seed);
    rotor(&mut h, &["plan", "key"])
        .expect_code(0)
        .expect_output("plugin `python3");
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    let new = h.env_var(".env", "KEY").expect("KEY");
    assert_ne!(new, seed);
    assert!(
        new.starts_with("rk_live_"),
        "the provider's key was not delivered"
    );
    assert!(s.works(&new) && !s.works(seed));
    assert_eq!(s.working().len(), 1, "{}", s.state());
    // The second rotation finds the old key by the id rotor recorded.
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    let newer = h.env_var(".env", "KEY").expect("KEY");
    assert!(s.works(&newer) && !s.works(&new));
    assert_eq!(s.working().len(), 1);
    let history = rotor(&mut h, &["history", "key"]);
    history.expect_output("rotate.mint");
    rotor(&mut h, &["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn stripe_provider_controlled_expiry_leaves_the_old_key_until_revoke() {
    let seed = "rk_live_seedseedseedseedseedseedseed02";
    let (s, mut h) = stripe_with(seed, "expiry = \"provider\"");
    // The old key is left alone at create (the provider would expire it),
    // works through deliver and verify, and is revoked after finish.
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    let new = h.env_var(".env", "KEY").expect("KEY");
    assert!(s.works(&new) && !s.works(seed));
    let calls = s.calls();
    let expires: Vec<&String> = calls.iter().filter(|c| c.ends_with("/expire")).collect();
    assert_eq!(
        expires.len(),
        1,
        "only revoke expires the old key: {calls:?}"
    );
    h.finish();
}

#[test]
fn twilio_secondary_token_is_promoted_at_finish_and_the_old_primary_is_gone() {
    let seed = "0123456789abcdef0123456789abcdef";
    let sid = "AC00000000000000000000000000000001";
    let s = Standin::start(
        "twilio",
        &[
            "--admin-key",
            ADMIN,
            "--seed-key",
            seed,
            "--account-sid",
            sid,
        ],
    );
    let account_sid = format!("account_sid = \"{sid}\"");
    let mut h = harness(
        "twilio.py",
        dual_key(),
        &[&base_url(&s), &account_sid],
        &format!("KEY={seed}\n"),
    );
    h.manage(".env", &["KEY"]);
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    let new = h.env_var(".env", "KEY").expect("KEY");
    assert!(s.works(&new) && !s.works(seed));
    let state = s.state();
    let primary: Vec<&serde_json::Value> = state["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .filter(|c| c["status"] == "primary")
        .collect();
    assert_eq!(primary.len(), 1);
    assert_eq!(primary[0]["sha256"], rotor_testkit::standin::sha256(&new));
    // Between making the secondary and promoting it (finish), nothing was
    // deleted: the old primary worked until the promote replaced it.
    let calls = s.calls();
    let made = calls
        .iter()
        .position(|c| c == "POST /v1/AuthTokens/Secondary")
        .expect("create");
    let promote = calls
        .iter()
        .position(|c| c.contains("Promote"))
        .expect("promote");
    assert!(made < promote, "{calls:?}");
    assert!(
        calls[made..promote]
            .iter()
            .all(|c| !c.starts_with("DELETE")),
        "{calls:?}"
    );
    h.finish();
}

#[test]
fn cloudflare_roll_without_overlap_is_a_cutover_and_refuses_an_overlap_strategy() {
    let seed = "cf-seed-token-0123456789abcdefghijklmnopqr";
    let s = Standin::start("cloudflare", &["--admin-key", ADMIN, "--seed-key", seed]);
    let mut h = harness(
        "cloudflare.py",
        dual_key(),
        &[&base_url(&s), "token_id = \"tok_1\""],
        &format!("KEY={seed}\n"),
    );
    h.manage(".env", &["KEY"]);
    rotor(&mut h, &["rotate", "key"])
        .expect_code(2)
        .expect_output("overlap \"none\"");
    assert!(s.works(seed), "a refused rotation rolled the token");
    let inv = h.project.read_string("rotor.toml").replace(
        r#"strategy = { kind = "dual-password" }"#,
        r#"strategy = { kind = "cutover" }"#,
    );
    h.project.write("rotor.toml", inv);
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    let new = h.env_var(".env", "KEY").expect("KEY");
    assert!(s.works(&new) && !s.works(seed));
    assert_eq!(s.working().len(), 1);
    h.finish();
}

const SEED_ID: &str = "AKIASEEDSEEDSEED0001";
const SEED_SECRET: &str = "seedsecretseedsecretseedsecretseedsecret";

/// The two S3 plugins: the Python one (examples/plugins/s3.py) and its
/// port to the Rust SDK (crates/cli/examples/s3_plugin.rs). Both get the
/// same tests.
#[derive(Clone, Copy, Debug)]
enum S3 {
    Python,
    Rust,
}

impl S3 {
    fn command(self) -> Vec<String> {
        match self {
            S3::Python => vec![
                "python3".to_owned(),
                plugins_dir().join("s3.py").display().to_string(),
            ],
            S3::Rust => vec![rust_plugin().display().to_string()],
        }
    }

    /// The plugin's file name, which `plan` shows.
    fn file(self) -> &'static str {
        match self {
            S3::Python => "s3.py",
            S3::Rust => "s3_plugin",
        }
    }
}

/// The Rust example's binary, built once per run of this file. Cargo builds
/// a package's examples before its integration tests only when no target
/// is selected (`cargo test --test exec_providers` does not), so this asks
/// cargo to build it (nothing to do when it is fresh; cargo holds no lock
/// while tests run) and finds it where cargo puts examples: this test runs
/// from `target/<profile>/deps`, the example is
/// `target/<profile>/examples/s3_plugin`.
fn rust_plugin() -> &'static std::path::Path {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let out = std::process::Command::new(env!("CARGO"))
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
            .and_then(std::path::Path::parent)
            .expect("the test runs from target/<profile>/deps");
        let bin = profile
            .join("examples")
            .join(format!("s3_plugin{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "{} is missing", bin.display());
        bin
    })
}

/// The S3 stand-in and a harness whose `key` is the secret access key of
/// the access key pair in `.env` (the id in `S3_ACCESS_KEY_ID`), the old
/// secret in `previous_var` if given, rotated by `plugin`.
fn s3(plugin: S3, strategy: &str, previous_var: Option<&str>) -> (Standin, Harness) {
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
    let mut key = Secret::new("key")
        .strategy(strategy)
        .dotenv(".env", "S3_SECRET_ACCESS_KEY")
        .target_line("user_var = \"S3_ACCESS_KEY_ID\"");
    if let Some(previous) = previous_var {
        key = key.previous_var(previous);
    }
    let command = plugin.command();
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let mut h = harness_of(
        &command,
        key,
        &[&base_url(&s), "user = \"app\""],
        &format!("S3_ACCESS_KEY_ID={SEED_ID}\nS3_SECRET_ACCESS_KEY={SEED_SECRET}\n"),
    );
    h.manage(
        ".env",
        &["S3_SECRET_ACCESS_KEY", "S3_SECRET_ACCESS_KEY_PREVIOUS"],
    );
    (s, h)
}

fn pair_rotates_both_parts_and_deletes_the_old_key(plugin: S3) {
    let (s, mut h) = s3(plugin, r#"{ kind = "dual-password" }"#, None);
    rotor(&mut h, &["plan", "key"])
        .expect_code(0)
        .expect_output(plugin.file());
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    let id = h.env_var(".env", "S3_ACCESS_KEY_ID").expect("id");
    let secret = h.env_var(".env", "S3_SECRET_ACCESS_KEY").expect("secret");
    assert_ne!(id, SEED_ID, "the new access key id was not delivered");
    assert!(id.starts_with("AKIA"));
    assert!(s.works(&secret) && !s.works(SEED_SECRET));
    assert_eq!(s.working().len(), 1, "{}", s.state());
    // The seed key was deleted after the new one was made.
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
fn s3_access_key_pair_rotates_both_parts_and_deletes_the_old_key() {
    pair_rotates_both_parts_and_deletes_the_old_key(S3::Python);
}

#[test]
fn rust_s3_plugin_rotates_both_parts_and_deletes_the_old_key() {
    pair_rotates_both_parts_and_deletes_the_old_key(S3::Rust);
}

fn two_key_limit_refuses_a_third_until_retire(plugin: S3) {
    let (s, mut h) = s3(
        plugin,
        r#"{ kind = "overlap", window = "1d" }"#,
        Some("S3_SECRET_ACCESS_KEY_PREVIOUS"),
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

#[test]
fn s3_two_key_limit_refuses_a_third_until_retire_revokes_the_previous() {
    two_key_limit_refuses_a_third_until_retire(S3::Python);
}

#[test]
fn rust_s3_plugin_two_key_limit_refuses_a_third_until_retire() {
    two_key_limit_refuses_a_third_until_retire(S3::Rust);
}
/// Every crash point of an exec rotation of the S3 secret, in step order,
/// from the engine's step enum.
fn points() -> Vec<String> {
    let (s, h) = s3(S3::Python, r#"{ kind = "dual-password" }"#, None);
    let inventory = h.project.read_string("rotor.toml");
    drop((s, h));
    rotor_testkit::fault_matrix::crash_points(
        &inventory,
        &[],
        rotor::store::RunKind::Rotate,
        &["key"],
    )
}

/// Kills rotor at `point` of an S3 rotation, recovers with `recovery`,
/// and checks what the provider and the files hold.
fn crash_and_recover(plugin: S3, point: &str, recovery: &str) {
    let (s, mut h) = s3(plugin, r#"{ kind = "dual-password" }"#, None);
    let crashed = h.rotor_env(
        &["rotate", "key"],
        &[("STANDIN_ADMIN_KEY", ADMIN), ("ROTOR_FAULT", point)],
    );
    let finished = point == "after:promote";
    if finished {
        crashed.expect_code(-1);
    } else {
        assert_ne!(crashed.code, 0, "{point}: rotor did not crash");
    }
    let again = rotor(&mut h, &[recovery, "key"]);
    let id = h.env_var(".env", "S3_ACCESS_KEY_ID").expect("id");
    let secret = h.env_var(".env", "S3_SECRET_ACCESS_KEY").expect("secret");
    // What the files hold works, and it is the only key that does.
    assert!(
        s.works(&secret),
        "{point}/{recovery}: the delivered key does not work\n{}\n{}",
        again.stderr,
        s.state()
    );
    assert_eq!(s.working().len(), 1, "{point}/{recovery}: {}", s.state());
    let rolled_back = recovery == "rollback" && !finished;
    if rolled_back {
        assert_eq!(id, SEED_ID, "{point}: rollback did not restore the old key");
    } else {
        assert_ne!(id, SEED_ID, "{point}: the new key was not delivered");
        assert!(!s.works(SEED_SECRET), "{point}: the old key still works");
    }
    // Nothing is left open, the store agrees with the files, and the next
    // rotation works.
    rotor(&mut h, &["status"]).expect_code(0);
    rotor(&mut h, &["rotate", "key"]).expect_code(0);
    assert_eq!(s.working().len(), 1);
    rotor(&mut h, &["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn crash_at_every_step_then_resume_leaves_exactly_one_working_new_key() {
    let points = points();
    assert!(points.iter().any(|p| p == "mid:create") && points.iter().any(|p| p == "after:finish"));
    for point in &points {
        crash_and_recover(S3::Python, point, "resume");
    }
}

#[test]
fn rust_s3_plugin_crash_at_every_step_then_resume_or_rollback_is_consistent() {
    let points = points();
    for point in &points {
        crash_and_recover(S3::Rust, point, "resume");
    }
    for point in points.iter().take_while(|p| *p != "after:finish") {
        crash_and_recover(S3::Rust, point, "rollback");
    }
}

#[test]
fn crash_before_finish_then_rollback_restores_the_old_key_alone() {
    for point in points().iter().take_while(|p| *p != "after:finish") {
        crash_and_recover(S3::Python, point, "rollback");
    }
}
