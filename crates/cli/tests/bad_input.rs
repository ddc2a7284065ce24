//! Bad input gets a clear message naming the place, a non-zero exit, and
//! changes nothing: not the env files, not the store.

mod common;

use common::Harness;
use rotor_testkit::inventory::{inventory, Secret};

/// A valid inventory: `jwt` (overlap, related to `nextauth`) and
/// `nextauth`, both in `conf/.env`. The expected messages below name its
/// lines: `jwt`'s generator is line 4, `nextauth`'s name line 15.
fn good() -> String {
    inventory(&[
        Secret::new("jwt")
            .random(32)
            .overlap("1d")
            .line_after_strategy("related = [\"nextauth\"]")
            .dotenv("conf/.env", "JWT_SECRET")
            .previous_var("JWT_SECRET_PREVIOUS"),
        Secret::new("nextauth")
            .random(32)
            .dotenv("conf/.env", "NEXTAUTH_SECRET"),
    ])
}

const ENV: &str = "JWT_SECRET=old-jwt-value-123456\nNEXTAUTH_SECRET=old-nextauth-value-1234\n";

fn ready() -> Harness {
    let mut h = Harness::started(
        &good(),
        &[("conf/.env", ENV)],
        &[(
            "conf/.env",
            &["JWT_SECRET", "JWT_SECRET_PREVIOUS", "NEXTAUTH_SECRET"],
        )],
    );
    h.rotor(&["rotate", "--all"]).expect_code(0);
    h
}

/// A project of `text` whose scanner watches both secrets; not initialised.
fn unstarted(text: &str) -> Harness {
    Harness::managed(
        text,
        &[("conf/.env", ENV)],
        &[("conf/.env", &["JWT_SECRET", "NEXTAUTH_SECRET"])],
    )
}

/// Runs `args`, expects exit 2 with `message`, and proves nothing changed.
fn refused(h: &mut Harness, args: &[&str], env: &[(&str, &str)], message: &str) {
    let before = h.project.snapshot();
    h.rotor_env(args, env).expect_code(2).expect_output(message);
    h.project
        .assert_unchanged(&before, &format!("`rotor {}`", args.join(" ")));
}

fn with_inventory(text: &str, message: &str) {
    let mut h = unstarted(text);
    refused(&mut h, &["plan"], &[], message);
    refused(&mut h, &["rotate", "--all"], &[], message);
    h.finish();
}

#[test]
fn malformed_toml_names_line_and_column() {
    with_inventory(
        &good().replace("name = \"nextauth\"", "name = \"nextauth"),
        "rotor.toml:15:17",
    );
}

#[test]
fn unknown_generator_kind() {
    with_inventory(
        &good().replacen("kind = \"random\"", "kind = \"dice\"", 1),
        "rotor.toml:4:",
    );
}

#[test]
fn too_few_bytes() {
    with_inventory(
        &good().replacen("bytes = 32", "bytes = 8", 1),
        "at least 16",
    );
}

#[test]
fn unknown_related_secret() {
    with_inventory(
        &good().replace("related = [\"nextauth\"]", "related = [\"sessions\"]"),
        "sessions",
    );
}

#[test]
fn missing_env_file() {
    let mut h = ready();
    std::fs::remove_file(h.project.join("conf/.env")).expect("rm");
    refused(&mut h, &["rotate", "jwt"], &[], "does not exist");
    h.finish();
}

#[test]
fn wrong_master_key() {
    let mut h = ready();
    let other = h.project.join("other.key");
    std::fs::write(&other, format!("{}\n", "ab".repeat(32))).expect("write key");
    std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let key = other.to_string_lossy().into_owned();
    refused(
        &mut h,
        &["rotate", "jwt"],
        &[("ROTOR_MASTER_KEY_FILE", &key)],
        "wrong key",
    );
    refused(
        &mut h,
        &["status"],
        &[("ROTOR_MASTER_KEY_FILE", &key)],
        "wrong key",
    );
    h.finish();
}

#[test]
fn missing_or_exposed_master_key() {
    let mut h = ready();
    let key = h.project.join(".rotor/master.key");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    refused(&mut h, &["rotate", "jwt"], &[], "chmod 600");
    std::fs::rename(&key, h.project.join("elsewhere.key")).expect("move key");
    refused(&mut h, &["status"], &[], "master key");
    h.finish();
}

#[test]
fn truncated_store() {
    let mut h = ready();
    let db = h.project.join(".rotor/rotor.db");
    let len = std::fs::metadata(&db).expect("stat").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .expect("open");
    f.set_len(len / 2).expect("truncate");
    drop(f);
    refused(&mut h, &["rotate", "jwt"], &[], "damaged or truncated");
    refused(&mut h, &["status"], &[], "damaged or truncated");
    h.finish();
}

#[test]
fn store_not_initialised() {
    let mut h = unstarted(&good());
    refused(&mut h, &["rotate", "jwt"], &[], "rotor init");
    h.finish();
}

#[test]
fn unknown_secret_on_the_command_line() {
    let mut h = ready();
    refused(&mut h, &["rotate", "jwtt"], &[], "unknown secret \"jwtt\"");
    h.finish();
}

#[test]
fn unwritable_target_directory() {
    let mut h = ready();
    let conf = h.project.join("conf");
    if unprivileged::is_root() {
        // root writes anywhere; make the project belong to an unprivileged
        // user and run rotor as that user so the permission bites.
        unprivileged::give_to_nobody(h.project.path());
    }
    std::fs::set_permissions(&conf, std::os::unix::fs::PermissionsExt::from_mode(0o500))
        .expect("chmod");
    let before = h.project.snapshot();
    let run = if unprivileged::is_root() {
        unprivileged::rotor_as_nobody(h.project.path(), &["rotate", "jwt"])
    } else {
        let r = h.rotor(&["rotate", "jwt"]);
        (r.code, format!("{}{}", r.stdout, r.stderr))
    };
    h.leaks.check_text("output of rotate as nobody", &run.1);
    assert_ne!(run.0, 0, "{}", run.1);
    assert!(run.1.contains("conf"), "names the directory: {}", run.1);
    assert!(
        run.1.contains("not writable") || run.1.contains("ermission"),
        "{}",
        run.1
    );
    std::fs::set_permissions(&conf, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("chmod");
    let after = h.project.snapshot();
    assert!(
        before.get(std::path::Path::new("conf/.env"))
            == after.get(std::path::Path::new("conf/.env")),
        "the env file is unchanged"
    );
    h.finish();
}

mod unprivileged {
    use std::path::Path;
    use std::process::Command;

    pub fn is_root() -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false)
    }

    pub fn give_to_nobody(dir: &Path) {
        let ok = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(dir)
            .status()
            .expect("chown")
            .success();
        assert!(ok, "chown to nobody");
    }

    pub fn rotor_as_nobody(dir: &Path, args: &[&str]) -> (i32, String) {
        let bin = super::common::rotor_bin();
        // the binary must be reachable by nobody: copy it into the project
        let copy = dir.join("rotor-bin");
        std::fs::copy(&bin, &copy).expect("copy rotor");
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&copy)
            .args(args)
            .current_dir(dir)
            .env("USER", "nobody")
            .output()
            .expect("setpriv");
        std::fs::remove_file(&copy).expect("rm copy");
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

#[test]
fn empty_or_foreign_store_file_is_refused_untouched() {
    let mut h = ready();
    let db = h.project.join(".rotor/rotor.db");
    std::fs::write(&db, b"").expect("empty the db");
    refused(
        &mut h,
        &["status"],
        &[],
        "not a rotor database or is damaged",
    );
    std::fs::write(&db, b"this is not a database at all, just text\n").expect("write");
    refused(
        &mut h,
        &["rotate", "jwt"],
        &[],
        "not a rotor database or is damaged",
    );
    h.finish();
}

#[test]
fn actor_and_ticket_must_be_one_printable_line() {
    let mut h = ready();
    refused(
        &mut h,
        &["--actor", "eve\nrotated jwt v99", "rotate", "jwt"],
        &[],
        "one line of printable text",
    );
    refused(
        &mut h,
        &["--ticket", "T-1\u{1b}[2J", "rotate", "jwt"],
        &[],
        "one line of printable text",
    );
    h.finish();
}

#[test]
fn nothing_to_resume_or_roll_back_changes_nothing() {
    let mut h = ready();
    refused(&mut h, &["resume"], &[], "nothing to resume");
    refused(&mut h, &["resume", "jwt"], &[], "nothing to resume");
    // jwt is an overlap: retire its previous, then there is nothing to roll back
    h.rotor(&["retire", "jwt"]).expect_code(0);
    refused(&mut h, &["rollback", "jwt"], &[], "nothing to roll back");
    refused(
        &mut h,
        &["rollback", "nextauth"],
        &[],
        "nothing to roll back",
    );
    h.finish();
}
