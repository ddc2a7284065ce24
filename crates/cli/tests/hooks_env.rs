//! What a hook sees and what of its output rotor keeps: real hook scripts
//! that dump their environment, print the new value in every encoding, and
//! print 16 KiB and more before the value. The leak scanner (which also
//! looks for percent-encoded, JSON-escaped, base64 and hex forms) must find
//! nothing in the output, the journal, the audit or the store.

mod common;

use common::Harness;
use rotor_testkit::inventory::{self, line_of, Secret};

/// A verify hook `sh hook.sh` that fails (so rotor prints and journals its
/// output); `env` goes into `[secret.hooks]`.
fn inventory(env: &str) -> String {
    inventory::inventory(&[Secret::new("jwt")
        .random_encoded(32, "base64")
        .dotenv(".env", "JWT_SECRET")
        .verify_command(&["sh", "hook.sh"], "10s")
        .hook_line("retries = 1")
        .hook_line(env)])
}

/// The hook's first lines: keep a copy of what it saw (so the scanner
/// learns the new value, which the failed run takes back out of `.env`)
/// and read the value into `$v`.
const PROLOGUE: &str = r#"cat .env >> seen.env
v=$(sed -n 's/^JWT_SECRET=//p' .env | tr -d '"')
"#;

const ENV: &str = "JWT_SECRET=initial-value-0123456789abcdef\n";

/// An admin URL in rotor's environment, as an operator sets it.
const ADMIN_URL: &str = "postgres://rotor_admin:Adm1n-Passw0rd-never-shown@127.0.0.1:1/postgres";

fn harness(env: &str, hook: &str) -> Harness {
    let mut h = Harness::new(
        &inventory(env),
        &[(".env", ENV), ("hook.sh", &format!("{PROLOGUE}{hook}"))],
    );
    h.manage(".env", &["JWT_SECRET"]);
    h.manage("seen.env", &["JWT_SECRET"]);
    h.leaks.learn(ADMIN_URL);
    h.leaks.learn("Adm1n-Passw0rd-never-shown");
    h.leaks.learn("unnamed-secret-value-42");
    h.rotor(&["init"]).expect_code(0);
    h
}

/// Every `verify` detail in the journal.
fn journal(h: &Harness) -> Vec<String> {
    rusqlite::Connection::open(h.project.join(".rotor/rotor.db"))
        .expect("open db")
        .prepare("SELECT detail FROM journal WHERE step = 'verify' AND phase = 'failed'")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("details")
}

/// The values the hook saw (the new one among them).
fn seen(h: &Harness) -> Vec<String> {
    h.project
        .read_string("seen.env")
        .lines()
        .filter_map(|l| l.strip_prefix("JWT_SECRET="))
        .map(|v| v.trim_matches('"').to_owned())
        .collect()
}

/// Panics if any 8-character piece of any of `values` shows in `text`.
fn assert_no_piece(text: &str, values: &[String], place: &str) {
    for v in values {
        for w in v.as_bytes().windows(8) {
            let piece = String::from_utf8_lossy(w);
            assert!(
                !text.contains(piece.as_ref()),
                "a piece of a value shows in {place}"
            );
        }
    }
}

/// The names of the variables in `env.txt` (what the hook's `env` wrote).
fn env_names(h: &Harness) -> Vec<String> {
    h.project
        .read_string("env.txt")
        .lines()
        .filter_map(|l| l.split('=').next())
        .map(str::to_owned)
        .collect()
}

/// Panics unless every variable the hook got is documented (or `extra`).
fn assert_documented(names: &[String], extra: &[&str]) {
    let documented = [
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "TZ",
        "TMPDIR",
        "ROTOR_RUN_ID",
        "ROTOR_STEP",
        "ROTOR_SECRETS",
        // what sh itself sets
        "PWD",
        "SHLVL",
        "_",
    ];
    for name in names {
        assert!(
            documented.contains(&name.as_str())
                || extra.contains(&name.as_str())
                || name.starts_with("LC_"),
            "the hook got {name}"
        );
    }
}

#[test]
fn hooks_get_a_clean_environment_without_admin_credentials() {
    // The hook prints its whole environment: rotor's holds an admin URL.
    let mut h = harness("", "env > env.txt\nenv\nexit 1\n");
    let run = h.rotor_env(
        &["rotate", "jwt"],
        &[
            ("ROTOR_PG_ADMIN_URL", ADMIN_URL),
            ("UNNAMED_SECRET", "unnamed-secret-value-42"),
            ("LC_ALL", "C"),
        ],
    );
    run.expect_code(1).expect_output("failed at step verify");
    let env = h.project.read_string("env.txt");
    assert!(!env.contains("Adm1n-Passw0rd") && !env.contains("unnamed-secret"));
    let names = env_names(&h);
    assert_documented(&names, &[]);
    for want in [
        "ROTOR_STEP=verify",
        "ROTOR_SECRETS=jwt",
        "LC_ALL=C",
        "USER=test-operator",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing");
    }
    assert!(names.iter().any(|n| n == "ROTOR_RUN_ID") && names.iter().any(|n| n == "PATH"));
    assert!(!journal(&h).is_empty());
    h.finish();
}

#[test]
fn hooks_env_passes_exactly_the_named_variables() {
    let mut h = harness(
        r#"env = ["NAMED_FOR_THE_HOOK", "NAMED_BUT_UNSET"]"#,
        "env > env.txt\nexit 1\n",
    );
    h.rotor_env(
        &["rotate", "jwt"],
        &[
            ("NAMED_FOR_THE_HOOK", "named-value"),
            ("UNNAMED_SECRET", "unnamed-secret-value-42"),
        ],
    )
    .expect_code(1);
    let env = h.project.read_string("env.txt");
    assert!(env.lines().any(|l| l == "NAMED_FOR_THE_HOOK=named-value"));
    assert!(!env.contains("NAMED_BUT_UNSET") && !env.contains("unnamed-secret"));
    assert_documented(&env_names(&h), &["NAMED_FOR_THE_HOOK"]);
    h.finish();
}

#[test]
fn hooks_env_naming_an_admin_credential_is_refused() {
    let inventory = inventory::inventory(&[Secret::new("db")
        .password_of(32)
        .strategy("{ kind = \"alternate\" }")
        .dotenv(".env", "DATABASE_URL")
        .target_line("form = \"url\"")
        .restart(&["true"])
        .hook_line("env = [\"PG_ADMIN\"]")
        .authority_lines(&[
            "kind = \"postgres\"",
            "admin_url_env = \"PG_ADMIN\"",
            "group = \"app\"",
            "roles = [\"app_blue\", \"app_green\"]",
        ])]);
    let mut h = Harness::new(
        &inventory,
        &[(
            ".env",
            "DATABASE_URL=postgres://app_blue:pw-0123456789@127.0.0.1/app\n",
        )],
    );
    h.manage(".env", &["DATABASE_URL"]);
    h.leaks.learn(ADMIN_URL);
    h.rotor_env(&["plan"], &[("PG_ADMIN", ADMIN_URL)])
        .expect_code(2)
        .expect_output(&format!(
            "rotor.toml:{}:",
            line_of(&inventory, "env = [\"PG_ADMIN\"]")
        ))
        .expect_output("env names \"PG_ADMIN\", the admin_url_env of secret \"db\"");
    h.finish();
}

#[test]
fn hook_output_redaction_every_encoding_is_redacted() {
    let hook = r#"
printf 'raw %s\n' "$v"
printf 'percent %s\n' "$(printf %s "$v" | sed 's/+/%2B/g; s#/#%2F#g; s/=/%3D/g')"
printf 'json {"token":"%s","php":"%s"}\n' "$v" "$(printf %s "$v" | sed 's#/#\\/#g')"
printf 'base64 %s\n' "$(printf %s "$v" | base64 -w0)"
printf 'base64url %s\n' "$(printf %s "$v" | base64 -w0 | tr '+/' '-_' | tr -d =)"
printf 'hex %s\n' "$(printf %s "$v" | od -An -tx1 | tr -d ' \n')"
exit 1
"#;
    let mut h = harness("", hook);
    let run = h.rotor(&["rotate", "jwt"]);
    run.expect_code(1).expect_output("REDACTED fp=");
    let values = seen(&h);
    assert!(!values.is_empty(), "the hook ran");
    let shown = format!("{}{}", run.stdout, run.stderr);
    for word in [
        "raw [REDACTED",
        "percent [REDACTED",
        "base64 [REDACTED",
        "hex [REDACTED",
    ] {
        assert!(shown.contains(word), "{word} missing:\n{shown}");
    }
    assert_no_piece(&shown, &values, "the output");
    for d in journal(&h) {
        assert_no_piece(&d, &values, "the journal");
    }
    h.finish();
}

#[test]
fn hook_output_redaction_a_value_cut_at_the_capture_limit_with_stderr_following() {
    // The value straddles stdout's 16 KiB capture limit or starts just
    // past it, and a short stderr follows after stdout closed (so the end
    // of stdout is what the message and the journal keep, and the two
    // streams are joined in that order).
    for filler in [
        16 * 1024 - 20,
        16 * 1024 - 3,
        16 * 1024,
        16 * 1024 + 3,
        16 * 1024 + 20,
    ] {
        let hook = format!(
            "head -c {filler} /dev/zero | tr '\\0' x\nprintf %s \"$v\"\nexec 1>&-\nsleep 0.2\necho stderr follows >&2\nexit 1\n"
        );
        let mut h = harness("", &hook);
        let run = h.rotor(&["rotate", "jwt"]);
        run.expect_code(1).expect_output("stderr follows");
        let values = seen(&h);
        assert!(!values.is_empty(), "the hook ran");
        assert_no_piece(
            &format!("{}{}", run.stdout, run.stderr),
            &values,
            "the output",
        );
        let details = journal(&h);
        assert!(details.iter().any(|d| d.contains("stderr follows")));
        for d in details {
            assert_no_piece(&d, &values, "the journal");
        }
        h.finish();
    }
}
