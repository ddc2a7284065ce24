//! Errors that name their cause: a damaged store header is not "readonly
//! database", a permission problem names the file and its mode, an
//! out-of-range number in the inventory names its line and column, ages in
//! `status` never wrap, a byte order mark in an env file is named, and a
//! mode change of a target file is said by `plan` and `rotate`.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::Harness;
use rotor_testkit::inventory::{inventory, line_of, quote, Secret};

/// `jwt`: 32 random bytes overlapping for a day, due every 30 days, in
/// `conf/.env`.
fn jwt() -> Secret {
    jwt_due("30d")
}

/// [`jwt`] due every `cadence`.
fn jwt_due(cadence: &str) -> Secret {
    Secret::new("jwt")
        .random(32)
        .overlap("1d")
        .line_after_strategy(&format!("cadence = {}", quote(cadence)))
        .dotenv("conf/.env", "JWT_SECRET")
        .previous_var("JWT_SECRET_PREVIOUS")
}

const ENV: &str = "JWT_SECRET=old-jwt-value-123456\n";

fn ready() -> Harness {
    let mut h = Harness::new(&inventory(&[jwt()]), &[("conf/.env", ENV)]);
    h.manage("conf/.env", &["JWT_SECRET", "JWT_SECRET_PREVIOUS"]);
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    h
}

/// Runs `args`, expects exit 2 with every one of `messages`, and proves
/// nothing changed.
fn refused(h: &mut Harness, args: &[&str], messages: &[&str]) -> String {
    let before = h.project.snapshot();
    let run = h.rotor(args);
    run.expect_code(2);
    for m in messages {
        run.expect_output(m);
    }
    h.project
        .assert_unchanged(&before, &format!("`rotor {}`", args.join(" ")));
    format!("{}{}", run.stdout, run.stderr)
}

fn poke(h: &Harness, rel: &str, at: u64, byte: u8) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(h.project.join(rel))
        .expect("open");
    f.seek(SeekFrom::Start(at)).expect("seek");
    f.write_all(&[byte]).expect("write");
}

#[test]
fn sqlite_header_damage_is_named_not_readonly() {
    let mut h = ready();
    let db = ".rotor/rotor.db";
    let original = h.project.read(db);
    // Each a header field whose valid values the SQLite format fixes; byte
    // 18 (the write version) is the one SQLite itself reports as
    // "attempt to write a readonly database".
    for (at, byte) in [(18u64, 3u8), (19, 7), (16, 0x03), (21, 0x50), (56 + 3, 9)] {
        poke(&h, db, at, byte);
        for args in [&["rotate", "jwt"][..], &["status"]] {
            let out = refused(
                &mut h,
                args,
                &["is not a rotor database or is damaged (header", "restore"],
            );
            assert!(!out.contains("readonly"), "byte {at}: {out}");
            assert!(out.contains(".rotor"), "names the store: {out}");
        }
        h.project.write(db, &original);
    }
    h.rotor(&["status"]).expect_code(0);
    h.finish();
}

#[test]
fn store_permission_problem_is_named() {
    let mut h = ready();
    let before = h.project.snapshot();
    let db = h.project.join(".rotor/rotor.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).expect("chmod");
    let (code, out) = as_unprivileged(&h, &["rotate", "jwt"]);
    h.leaks.check_text("rotate on a read-only store", &out);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cannot write the store at"), "{out}");
    assert!(out.contains("mode 0400"), "names the mode: {out}");
    assert!(!out.contains("readonly database"), "{out}");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    // SQLite leaves an empty write-ahead log behind a read-only connection.
    let wal = h.project.join(".rotor/rotor.db-wal");
    if !before.contains_key(std::path::Path::new(".rotor/rotor.db-wal")) && wal.exists() {
        assert_eq!(std::fs::metadata(&wal).expect("stat").len(), 0, "{out}");
        std::fs::remove_file(&wal).expect("rm wal");
    }
    h.project
        .assert_unchanged(&before, "rotate on a read-only store");
    h.finish();
}

/// Runs rotor as an unprivileged user when the tests run as root (root
/// writes anything, so the permission would not bite), else as this user.
fn as_unprivileged(h: &Harness, args: &[&str]) -> (i32, String) {
    use std::process::Command;
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let bin = common::rotor_bin();
    let mut cmd = if root {
        let ok = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(h.project.path())
            .status()
            .expect("chown")
            .success();
        assert!(ok, "chown to nobody");
        // Outside the project (which must stay unchanged), beside it.
        let mut copy = h.project.path().as_os_str().to_owned();
        copy.push(".rotor-bin");
        let copy = std::path::PathBuf::from(copy);
        std::fs::copy(&bin, &copy).expect("copy rotor");
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(copy);
        c
    } else {
        Command::new(bin)
    };
    let out = cmd
        .args(args)
        .current_dir(h.project.path())
        .env("USER", "nobody")
        .output()
        .expect("run rotor");
    if root {
        let mut copy = h.project.path().as_os_str().to_owned();
        copy.push(".rotor-bin");
        std::fs::remove_file(copy).expect("rm copy");
    }
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn out_of_range_integers_in_the_inventory_name_line_and_column() {
    // (secret, the line the message names, its column, what it says)
    for (secret, line, column, says) in [
        (
            jwt().generator("{ kind = \"random\", bytes = 99999999999999999999 }"),
            "generator =",
            "40",
            "generator bytes = 99999999999999999999 is too large; use at most 4096",
        ),
        (
            jwt().generator("{ kind = \"random\", bytes = -99999999999999999999 }"),
            "generator =",
            "40",
            "is too small; use at least 16",
        ),
        (
            jwt().generator(
                "{ kind = \"random\", bytes = 999999999999999999999999999999999999999999 }",
            ),
            "generator =",
            "40",
            "far beyond what any key accepts",
        ),
        (
            jwt().generator("{ kind = \"password\", length = 18446744073709551617 }"),
            "generator =",
            "43",
            "length = 18446744073709551617 is too large; use at most 4096",
        ),
        (
            jwt().overlap("99999999999999999999999d"),
            "strategy =",
            "",
            "is longer than 100 years",
        ),
        (
            jwt_due("584942417356y"),
            "cadence =",
            "11",
            "is longer than 100 years",
        ),
        (
            jwt_due("1000000000y"),
            "cadence =",
            "11",
            "is longer than 100 years",
        ),
    ] {
        let text = inventory(&[secret]);
        let line = line_of(&text, line);
        let at = format!("rotor.toml:{line}:{column}");
        let to = text.lines().nth(line - 1).unwrap_or_default();
        let mut h = Harness::new(&text, &[("conf/.env", ENV)]);
        h.manage("conf/.env", &["JWT_SECRET"]);
        for args in [&["plan"][..], &["rotate", "jwt"]] {
            let out = refused(&mut h, args, &[&at, says]);
            assert!(
                !out.contains("panicked") && !out.contains("invalid type"),
                "{to}: {out}"
            );
        }
        h.finish();
    }
}

#[test]
fn status_age_never_wraps_with_a_future_or_extreme_timestamp() {
    let mut h = ready();
    let set = |h: &Harness, t: i64| {
        rusqlite::Connection::open(h.project.join(".rotor/rotor.db"))
            .expect("db")
            .execute(
                "UPDATE versions SET created_at = ?1 WHERE stage = 'current'",
                [t],
            )
            .expect("set created_at");
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    // This machine's clock an hour behind the one that made the version.
    set(&h, now + 3_600);
    let run = h.rotor(&["status", "--json"]);
    run.expect_code(0)
        .expect_output("after this machine's clock");
    let row = &run.json()[0];
    assert!(row["age_secs"].is_null(), "{row}");
    let ahead = row["future_secs"].as_i64().expect("future_secs");
    assert!((3_000..=3_600).contains(&ahead), "{row}");
    h.rotor(&["status"])
        .expect_code(0)
        .expect_output("in the future");
    // Times at the ends of the 64-bit range: no overflow, no wrapped age.
    for t in [i64::MIN, i64::MIN + 1, -1, i64::MAX] {
        set(&h, t);
        let run = h.rotor(&["status", "--json"]);
        run.expect_code(0);
        let row = &run.json()[0];
        match row["age_secs"].as_i64() {
            Some(age) => assert!(age >= 0 && t < now, "t = {t}: {row}"),
            None => assert!(t > now, "t = {t}: {row}"),
        }
        h.rotor(&["status"]).expect_code(0);
    }
    h.finish();
}

#[test]
fn env_file_with_a_bom_is_refused_naming_the_bom() {
    let mut h = ready();
    let env = h.project.read("conf/.env");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&env);
    h.project.write("conf/.env", &bom);
    refused(
        &mut h,
        &["rotate", "jwt"],
        &["conf/.env", "byte order mark (BOM)", "remove it"],
    );
    h.rotor(&["plan", "jwt"])
        .expect_code(0)
        .expect_output("byte order mark (BOM)");
    // Without it the file is rotor's again.
    h.project.write("conf/.env", &env);
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    h.finish();
}

/// rotor gives a file the target's `mode` (0600 unless the inventory says
/// otherwise), as the README documents; a file found with another mode is
/// said by `plan` before and by `rotate` when it happens, naming the file,
/// both modes, and how to keep the old one.
#[test]
fn env_file_at_0400_mode_change_is_said_by_plan_and_rotate() {
    let mut h = ready();
    let env = h.project.join("conf/.env");
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o400)).expect("chmod");
    let said = "conf/.env has mode 0400; rotor writes it as 0600, so its owner may write it again (set mode = \"0400\" on the target to keep it read-only)";
    h.rotor(&["plan", "jwt"]).expect_code(0).expect_output(said);
    let run = h.rotor(&["rotate", "jwt"]);
    run.expect_code(0);
    assert!(run.stderr.contains(said), "rotate says it: {}", run.stderr);
    assert_eq!(h.project.mode("conf/.env"), 0o600);
    // Asked for in the inventory, 0400 is kept and nothing is said.
    h.project.write(
        "rotor.toml",
        inventory(&[jwt().target_line("mode = \"0400\"")]),
    );
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o400)).expect("chmod");
    let run = h.rotor(&["rotate", "jwt"]);
    run.expect_code(0);
    assert!(!run.stderr.contains("has mode"), "{}", run.stderr);
    assert_eq!(h.project.mode("conf/.env"), 0o400);
    h.finish();
}
