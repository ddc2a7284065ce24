//! A secret whose target is a connection URL (`form = "url"`): rotating it
//! changes only the URL's password, percent-encoded; every other byte of the
//! file stays; neither the password nor its encoded form leaks into output
//! or the store; a URL without a password part is refused before anything
//! changes.

mod common;

use common::Harness;
use rotor_testkit::inventory::{inventory, Secret};

/// The secret: a printable password inside `REDIS_URL`.
fn cache() -> Secret {
    Secret::new("cache")
        .key("description", "Redis password, inside REDIS_URL")
        .password(40, "printable")
        .dotenv(".env", "REDIS_URL")
        .target_line("form = \"url\"")
}

const OLD: &str = "OLD-redis-pass-1234";
const PREFIX: &str = "export REDIS_URL='redis://default:";
const SUFFIX: &str = "@127.0.0.1:6379/0' # rotated by rotor\r\n";
const ENV: &str = "# cache\r\nAPP_ENV=production\r\nexport REDIS_URL='redis://default:OLD-redis-pass-1234@127.0.0.1:6379/0' # rotated by rotor\r\nOTHER=\"x y\"\r\nLAST=1";

/// The file with the REDIS_URL line cut out, and that line's password
/// (as written, percent-encoded).
fn split(file: &str) -> (String, String) {
    let start = file.find(PREFIX).expect("REDIS_URL line") + PREFIX.len();
    let end = start + file[start..].find(SUFFIX).expect("rest of the line kept");
    let mut rest = file[..start].to_owned();
    rest.push_str(&file[end..]);
    (rest, file[start..end].to_owned())
}

/// Percent-decodes a userinfo part (what a driver does).
fn decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

fn setup(cache: Secret) -> Harness {
    let mut h = Harness::managed(
        &inventory(&[cache]),
        &[(".env", ENV)],
        &[(".env", &["REDIS_URL"])],
    );
    h.leaks.learn(OLD);
    h.rotor(&["init"]).expect_code(0);
    h
}

#[test]
fn rotating_a_url_changes_only_its_password() {
    let mut h = setup(cache());
    h.rotor(&["plan", "cache"])
        .expect_code(0)
        .expect_output("REDIS_URL = its URL with the password (NEW) replaced (atomic replace");
    h.rotor(&["rotate", "cache"])
        .expect_code(0)
        .expect_output("rotated");
    let after = h.project.read_string(".env");
    let (rest, encoded) = split(&after);
    let (rest_before, _) = split(ENV);
    assert_eq!(rest, rest_before, "every byte outside the password is kept");
    assert!(
        encoded
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._~%".contains(&c)),
        "the password is percent-encoded"
    );
    let new = decode(&encoded);
    assert_eq!(new.chars().count(), 40, "the generated password, decoded");
    assert_ne!(new, OLD);
    h.leaks.learn(&new);
    h.leaks.learn(&encoded);
    assert_eq!(h.project.mode(".env"), 0o600);

    // The store agrees with what the file holds once decoded: a second
    // rotation finds no hand-made change and goes through.
    h.rotor(&["status"]).expect_code(0);
    h.rotor(&["rotate", "cache"]).expect_code(0);
    let (rest, again) = split(&h.project.read_string(".env"));
    assert_eq!(rest, rest_before);
    assert_ne!(again, encoded);
    h.leaks.learn(&decode(&again));
    h.leaks.learn(&again);
    h.rotor(&["history", "cache"]).expect_code(0);
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn hook_output_with_the_encoded_password_is_redacted() {
    // A verify command that keeps a copy of the file, prints the URL line
    // (the password as written: percent-encoded) and fails.
    let mut h = setup(
        cache()
            .verify_command(
                &["sh", "-c", "cp .env seen.env; grep REDIS_URL .env; exit 1"],
                "5s",
            )
            .hook_line("retry_backoff = \"10ms\""),
    );
    let run = h.rotor(&["rotate", "cache"]);
    run.expect_code(1).expect_output("REDACTED fp=");
    assert_eq!(h.project.read_string(".env"), ENV, "undo restored the file");
    // Now learn what the hook saw, and scan the run's output for it.
    let (_, encoded) = split(&h.project.read_string("seen.env"));
    assert_ne!(decode(&encoded), OLD);
    h.leaks.learn(&encoded);
    h.leaks.learn(&decode(&encoded));
    h.leaks
        .check_text("stdout of the failed rotation", &run.stdout);
    h.leaks
        .check_text("stderr of the failed rotation", &run.stderr);
    h.finish();
}

#[test]
fn a_url_without_a_password_part_is_refused_before_anything_changes() {
    let env = "REDIS_URL=redis://127.0.0.1:6379/0\nOTHER=1\n";
    let mut h = Harness::started(
        &inventory(&[cache()]),
        &[(".env", env)],
        &[(".env", &["REDIS_URL"])],
    );
    h.rotor(&["plan", "cache"])
        .expect_code(0)
        .expect_output("rotate refuses: ")
        .expect_output("REDIS_URL in .env has no password part");
    let before = h.project.snapshot();
    h.rotor(&["rotate", "cache"]).expect_code(2).expect_output(
        "REDIS_URL in .env has no password part (redis://user@host/…); write redis://user:PASSWORD@host/… once, then rotate",
    );
    assert_eq!(h.project.read_string(".env"), env);
    h.project.assert_unchanged(&before, "a refused rotation");
    h.finish();
}
