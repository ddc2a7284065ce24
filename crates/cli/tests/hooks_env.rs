//! What a hook sees and what of its output rotor keeps: real hook scripts
//! that dump their environment, print the new value in every encoding, and
//! print 16 KiB and more before the value. The leak scanner (which also
//! looks for percent-encoded, JSON-escaped, base64 and hex forms) must find
//! nothing in the output, the journal, the audit or the store.

mod common;

use common::Harness;

/// A verify hook `sh hook.sh` that fails (so rotor prints and journals its
/// output); `env` goes into `[secret.hooks]`.
fn inventory(env: &str) -> String {
    format!(
        r#"
[[secret]]
name = "jwt"
generator = {{ kind = "random", bytes = 32, encoding = "base64" }}

[[secret.target]]
kind = "dotenv"
path = ".env"
var = "JWT_SECRET"

[secret.hooks]
verify = {{ command = ["sh", "hook.sh"], timeout = "10s" }}
retries = 1
{env}
"#
    )
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

#[test]
fn hooks_get_a_clean_environment_without_admin_credentials() {
    let mut h = harness(
        r#"env = ["NAMED_FOR_THE_HOOK"]"#,
        "env > env.txt\nenv\nexit 1\n",
    );
    let run = h.rotor_env(
        &["rotate", "jwt"],
        &[
            ("ROTOR_PG_ADMIN_URL", ADMIN_URL),
            ("UNNAMED_SECRET", "unnamed-secret-value-42"),
            ("NAMED_FOR_THE_HOOK", "named-value"),
            ("LC_ALL", "C"),
        ],
    );
    run.expect_code(1).expect_output("failed at step verify");
    let env = h.project.read_string("env.txt");
    let names: Vec<&str> = env.lines().filter_map(|l| l.split('=').next()).collect();
    for name in &names {
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
            "NAMED_FOR_THE_HOOK",
        ];
        // PWD, SHLVL and _ are what sh itself sets.
        assert!(
            documented.contains(name)
                || name.starts_with("LC_")
                || ["PWD", "SHLVL", "_"].contains(name),
            "the hook got {name}"
        );
    }
    for want in [
        "NAMED_FOR_THE_HOOK=named-value",
        "ROTOR_STEP=verify",
        "ROTOR_SECRETS=jwt",
        "LC_ALL=C",
        "USER=test-operator",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing");
    }
    assert!(names.contains(&"ROTOR_RUN_ID") && names.contains(&"PATH"));
    assert!(!env.contains("Adm1n-Passw0rd") && !env.contains("unnamed-secret"));
    assert!(!journal(&h).is_empty());
    h.finish();
}

#[test]
fn hooks_env_naming_an_admin_credential_is_refused() {
    let inventory = r#"
[[secret]]
name = "db"
generator = { kind = "password", length = 32 }
strategy = { kind = "alternate" }
[secret.authority]
kind = "postgres"
admin_url_env = "PG_ADMIN"
group = "app"
roles = ["app_blue", "app_green"]
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "DATABASE_URL"
form = "url"
[secret.hooks]
restart = ["true"]
env = ["PG_ADMIN"]
"#;
    let mut h = Harness::new(
        inventory,
        &[(
            ".env",
            "DATABASE_URL=postgres://app_blue:pw-0123456789@127.0.0.1/app\n",
        )],
    );
    h.manage(".env", &["DATABASE_URL"]);
    h.leaks.learn(ADMIN_URL);
    h.rotor_env(&["plan"], &[("PG_ADMIN", ADMIN_URL)])
        .expect_code(2)
        .expect_output("rotor.toml:18:")
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
    // 16 KiB less 3 bytes of filler: the value straddles stdout's capture
    // limit, and a short stderr follows (so the end of stdout is what the
    // message and the journal keep).
    for filler in [16 * 1024 - 3, 16 * 1024 - 20, 16 * 1024] {
        let hook = format!(
            "head -c {filler} /dev/zero | tr '\\0' x\nprintf %s \"$v\"\necho stderr follows >&2\nexit 1\n"
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
