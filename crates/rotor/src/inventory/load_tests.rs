//! Tests for `load.rs`.

use super::*;
use crate::inventory::model::*;
use std::path::PathBuf;
use std::time::Duration;

/// Parses `text` as `rotor.toml` and returns the error's parts.
fn invalid(text: &str) -> (usize, usize, Option<String>, String) {
    match parse(text, Path::new("rotor.toml")) {
        Err(InventoryError::Invalid {
            path,
            line,
            col,
            secret,
            message,
        }) => {
            assert_eq!(path, Path::new("rotor.toml"));
            (line, col, secret, message)
        }
        Err(e) => panic!("expected Invalid, got {e}"),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

/// Asserts an error at `line:col` on `secret` whose message contains `needle`.
#[track_caller]
fn assert_invalid(text: &str, line: usize, col: usize, secret: Option<&str>, needle: &str) {
    let (l, c, s, m) = invalid(text);
    assert_eq!(
        (l, c, s.as_deref()),
        (line, col, secret),
        "position/secret for message: {m}"
    );
    assert!(m.contains(needle), "{m:?} lacks {needle:?}");
}

fn ok(text: &str) -> Inventory {
    match parse(text, Path::new("/srv/app/rotor.toml")) {
        Ok(inv) => inv,
        Err(e) => panic!("{e}"),
    }
}

/// One valid secret; tests append to or edit it.
const JWT: &str = r#"[[secret]]
name = "jwt"
generator = { kind = "random" }
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "JWT_SECRET"
"#;

#[test]
fn minimal_secret_gets_defaults() {
    let inv = ok(JWT);
    assert_eq!(inv.path, Path::new("/srv/app/rotor.toml"));
    assert_eq!(inv.base_dir, Path::new("/srv/app"));
    assert_eq!(inv.store.path, Path::new("/srv/app/.rotor"));
    let s = &inv.secrets[0];
    assert_eq!(s.name, "jwt");
    assert_eq!(s.line, 2);
    assert_eq!(
        s.generator,
        Generator::Random {
            bytes: 32,
            encoding: Encoding::Base64Url
        }
    );
    assert_eq!(s.strategy, Strategy::Cutover);
    assert_eq!(s.cadence, None);
    assert!(s.related.is_empty());
    assert_eq!(s.hooks, Hooks::default());
    assert_eq!(
        s.targets,
        vec![TargetSpec::Dotenv(DotenvTarget {
            path: PathBuf::from("/srv/app/.env"),
            var: "JWT_SECRET".into(),
            previous_var: None,
            format: DotenvFormat::Pair,
            mode: 0o600,
            form: ValueForm::Plain,
            user_var: None,
        })]
    );
}

#[test]
fn full_secret() {
    let inv = ok(r#"
[store]
path = "/var/lib/rotor"

[[secret]]
name = "jwt"
description = "Signs tokens"
owner = "security"
blast_radius = "All sessions"
cadence = "90d"
generator = { kind = "password", length = 40, alphabet = "printable" }
strategy = { kind = "overlap", window = "31d" }
related = ["session"]

[[secret.target]]
kind = "dotenv"
path = "app/.env"
var = "JWT_SECRET"
previous_var = "JWT_SECRET_PREVIOUS"
format = "pair"

[[secret.target]]
kind = "dotenv"
path = "/etc/worker.env"
var = "JWT_KEYS"
format = "list"

[secret.hooks]
restart = ["systemctl", "restart", "api"]
restart_timeout = "2m"
verify = { http = "http://127.0.0.1:8000/health", status = 204, timeout = "5s" }

[[secret]]
name = "session"
cadence = "1y"
generator = { kind = "random", bytes = 64, encoding = "hex" }
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "SESSION_SECRET"
[secret.hooks]
verify = { command = ["./smoke.sh", "--quick"] }
"#);
    assert_eq!(inv.store.path, Path::new("/var/lib/rotor"));
    let jwt = inv.secret("jwt").unwrap();
    assert_eq!(jwt.line, 6);
    assert_eq!(jwt.description.as_deref(), Some("Signs tokens"));
    assert_eq!(jwt.owner.as_deref(), Some("security"));
    assert_eq!(jwt.blast_radius.as_deref(), Some("All sessions"));
    assert_eq!(jwt.cadence, Some(Duration::from_secs(90 * 86_400)));
    assert_eq!(
        jwt.generator,
        Generator::Password {
            length: 40,
            alphabet: Alphabet::Printable
        }
    );
    assert_eq!(
        jwt.strategy,
        Strategy::Overlap {
            window: Duration::from_secs(31 * 86_400)
        }
    );
    assert_eq!(jwt.related, vec!["session".to_owned()]);
    assert_eq!(jwt.targets.len(), 2);
    assert_eq!(jwt.targets[0].path(), Path::new("/srv/app/app/.env"));
    assert_eq!(jwt.targets[1].path(), Path::new("/etc/worker.env"));
    let TargetSpec::Dotenv(list) = &jwt.targets[1] else {
        panic!("a dotenv target")
    };
    assert_eq!(list.format, DotenvFormat::List);
    assert_eq!(
        jwt.hooks.restart,
        Some(Command {
            argv: vec!["systemctl".into(), "restart".into(), "api".into()],
            timeout: Duration::from_secs(120),
        })
    );
    assert_eq!(
        jwt.hooks.verify,
        Some(Verify::Http {
            url: "http://127.0.0.1:8000/health".into(),
            status: 204,
            timeout: Duration::from_secs(5),
            tls_ca_file: None,
        })
    );
    let session = inv.secret("session").unwrap();
    assert_eq!(
        session.generator,
        Generator::Random {
            bytes: 64,
            encoding: Encoding::Hex
        }
    );
    assert!(session.cadence.unwrap() > Duration::from_secs(365 * 86_400));
    assert_eq!(
        session.hooks.verify,
        Some(Verify::Command(Command {
            argv: vec!["./smoke.sh".into(), "--quick".into()],
            timeout: Duration::from_secs(30),
        }))
    );
    assert_eq!(session.hooks.restart, None);
}

#[test]
fn hook_defaults() {
    let inv = ok(&format!(
        "{JWT}[secret.hooks]\nrestart = [\"true\"]\nverify = {{ http = \"http://localhost/\" }}\n"
    ));
    let h = &inv.secrets[0].hooks;
    assert_eq!(h.restart.as_ref().unwrap().timeout, Duration::from_secs(60));
    assert_eq!(
        h.verify,
        Some(Verify::Http {
            url: "http://localhost/".into(),
            status: 200,
            timeout: Duration::from_secs(10),
            tls_ca_file: None,
        })
    );
}

#[test]
fn empty_inventory_is_valid() {
    let inv = ok("# nothing yet\n");
    assert!(inv.secrets.is_empty());
    assert_eq!(inv.store.path, Path::new("/srv/app/.rotor"));
}

#[test]
fn relative_path_is_made_absolute() {
    let inv = parse(JWT, Path::new("rotor.toml")).unwrap();
    assert!(inv.path.is_absolute());
    assert!(inv.base_dir.is_absolute());
    assert_eq!(inv.store.path, inv.base_dir.join(".rotor"));
}

#[test]
fn display_names_file_line_col_and_secret() {
    let text = JWT.replace("kind = \"random\" }", "kind = \"random\", bytes = 8 }");
    let e = parse(&text, Path::new("rotor.toml")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rotor.toml:3:40: secret \"jwt\": generator bytes = 8 is too small; use at least 16 (128 bits)"
    );
    let e = parse("x = 1\n", Path::new("conf/rotor.toml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("conf/rotor.toml:1:1: unknown field `x`"),
        "{e}"
    );
}

#[test]
fn malformed_toml() {
    assert_invalid("[[secret]]\nname = = \"a\"\n", 2, 8, None, "extra `=`");
    assert_invalid("[store\n", 1, 7, None, "");
}

#[test]
fn unknown_keys() {
    assert_invalid("[store]\ndir = \"x\"\n", 2, 1, None, "unknown field `dir`");
    assert_invalid(
        &format!("{JWT}colour = \"red\"\n"),
        8,
        1,
        Some("jwt"),
        "unknown field `colour`",
    );
    assert_invalid(
        &JWT.replace("{ kind = \"random\" }", "{ kind = \"random\", size = 3 }"),
        3,
        32,
        Some("jwt"),
        "unknown field `size`",
    );
    // A key in a sub-table of the second secret is attributed to it.
    let two = format!("{JWT}{}", JWT.replace("jwt", "b").replace("JWT_", "B_"));
    assert_invalid(
        &format!("{two}[secret.hooks]\nrestrat = [\"x\"]\n"),
        16,
        1,
        Some("b"),
        "unknown field `restrat`",
    );
    // A table after the secrets is not blamed on the last one.
    assert_invalid(
        &format!("{JWT}[other]\nx = 1\n"),
        8,
        2,
        None,
        "unknown field `other`",
    );
}

#[test]
fn missing_required_fields() {
    assert_invalid(
        "[[secret]]\nname = \"a\"\n",
        1,
        1,
        Some("a"),
        "missing field `generator`",
    );
    assert_invalid(
        &JWT.replace("var = \"JWT_SECRET\"\n", ""),
        4,
        1,
        Some("jwt"),
        "missing field `var`",
    );
}

#[test]
fn wrong_value_types() {
    assert_invalid(
        "[[secret]]\nname = 5\n",
        2,
        8,
        None,
        "invalid type: integer `5`, expected a string",
    );
}

#[test]
fn generator_kind_encoding_alphabet() {
    assert_invalid(
        &JWT.replace("\"random\"", "\"rsa\""),
        3,
        22,
        Some("jwt"),
        "unknown generator kind \"rsa\"; expected \"random\" or \"password\"",
    );
    assert_invalid(
        &JWT.replace("\"random\" }", "\"random\", encoding = \"base32\" }"),
        3,
        43,
        Some("jwt"),
        "unknown generator encoding \"base32\"",
    );
    assert_invalid(
        &JWT.replace("\"random\" }", "\"password\", alphabet = \"emoji\" }"),
        3,
        45,
        Some("jwt"),
        "unknown generator alphabet \"emoji\"",
    );
    assert_invalid(
        &JWT.replace("\"random\" }", "\"random\", length = 40 }"),
        3,
        41,
        Some("jwt"),
        "`length` does not apply to kind = \"random\"",
    );
    assert_invalid(
        &JWT.replace("\"random\" }", "\"password\", encoding = \"hex\" }"),
        3,
        45,
        Some("jwt"),
        "`encoding` does not apply to kind = \"password\"",
    );
}

#[test]
fn generator_strength() {
    assert_invalid(
        &JWT.replace("\"random\" }", "\"random\", bytes = 15 }"),
        3,
        40,
        Some("jwt"),
        "bytes = 15 is too small; use at least 16 (128 bits)",
    );
    assert_invalid(
        &JWT.replace("\"random\" }", "\"random\", bytes = -1 }"),
        3,
        40,
        Some("jwt"),
        "too small",
    );
    // urlsafe: 6 bits a character, 15 * 6 = 90 < 96.
    assert_invalid(
        &JWT.replace("\"random\" }", "\"password\", length = 15 }"),
        3,
        43,
        Some("jwt"),
        "length = 15 with alphabet urlsafe gives only 90.0 bits; use at least 16 characters (96 bits)",
    );
    assert_invalid(
        &JWT.replace(
            "\"random\" }",
            "\"password\", length = 16, alphabet = \"alnum\" }",
        ),
        3,
        43,
        Some("jwt"),
        "gives only 95.3 bits; use at least 17 characters",
    );
    assert_invalid(
        &JWT.replace("\"random\" }", "\"password\", length = 0 }"),
        3,
        43,
        Some("jwt"),
        "must be positive",
    );
    // The smallest accepted lengths.
    for (len, alphabet) in [(16, "urlsafe"), (17, "alnum"), (15, "printable")] {
        let text = JWT.replace(
            "\"random\" }",
            &format!("\"password\", length = {len}, alphabet = \"{alphabet}\" }}"),
        );
        ok(&text);
    }
}

#[test]
fn strategy_rules() {
    let with = |strategy: &str| {
        JWT.replace(
            "generator = { kind = \"random\" }\n",
            &format!("generator = {{ kind = \"random\" }}\nstrategy = {strategy}\n"),
        )
    };
    assert_invalid(
        &with("{ kind = \"blue-green\" }"),
        4,
        21,
        Some("jwt"),
        "unknown strategy kind \"blue-green\"; expected \"cutover\", \"overlap\", \"alternate\", \"dual-password\" or \"manual\"",
    );
    assert_invalid(
        &with("{ kind = \"cutover\", window = \"1d\" }"),
        4,
        41,
        Some("jwt"),
        "`window` does not apply to kind = \"cutover\"",
    );
    assert_invalid(
        &with("{ kind = \"overlap\" }"),
        4,
        12,
        Some("jwt"),
        "overlap needs a window",
    );
    assert_invalid(
        &with("{ kind = \"overlap\", window = \"31x\" }"),
        4,
        41,
        Some("jwt"),
        "window = \"31x\" is not a duration",
    );
    // Overlap with a pair target but no previous_var.
    assert_invalid(
        &with("{ kind = \"overlap\", window = \"1d\" }"),
        8,
        7,
        Some("jwt"),
        "the previous value would have nowhere to go",
    );
    // ... fine with format = "list".
    ok(&with("{ kind = \"overlap\", window = \"1d\" }").replace(
        "var = \"JWT_SECRET\"\n",
        "var = \"JWT_SECRET\"\nformat = \"list\"\n",
    ));
}

#[test]
fn overlap_window_shorter_than_cadence() {
    let text = JWT.replace(
        "generator = { kind = \"random\" }\n",
        "cadence = \"30d\"\ngenerator = { kind = \"random\" }\nstrategy = { kind = \"overlap\", window = \"31d\" }\n",
    )
    .replace("var = \"JWT_SECRET\"\n", "var = \"JWT_SECRET\"\nformat = \"list\"\n");
    assert_invalid(
        &text,
        5,
        41,
        Some("jwt"),
        "overlap window = \"31d\" is not shorter than cadence = \"30d\"",
    );
    ok(&text.replace("31d", "29d"));
}

#[test]
fn bad_durations() {
    assert_invalid(
        &JWT.replace(
            "name = \"jwt\"\n",
            "name = \"jwt\"\ncadence = \"90 days-ish\"\n",
        ),
        3,
        11,
        Some("jwt"),
        "cadence = \"90 days-ish\" is not a duration",
    );
    assert_invalid(
        &JWT.replace("name = \"jwt\"\n", "name = \"jwt\"\ncadence = \"0s\"\n"),
        3,
        11,
        Some("jwt"),
        "cadence must be longer than zero",
    );
    assert_invalid(
        &format!("{JWT}[secret.hooks]\nrestart = [\"x\"]\nrestart_timeout = \"soon\"\n"),
        10,
        19,
        Some("jwt"),
        "restart_timeout = \"soon\" is not a duration",
    );
    assert_invalid(
        &format!("{JWT}[secret.hooks]\nverify = {{ command = [\"x\"], timeout = \"-1s\" }}\n"),
        9,
        39,
        Some("jwt"),
        "verify timeout = \"-1s\" is not a duration",
    );
}

#[test]
fn names() {
    let two = format!("{JWT}\n{}", JWT.replace("JWT_SECRET", "OTHER"));
    assert_invalid(
        &two,
        10,
        8,
        Some("jwt"),
        "duplicate secret name; \"jwt\" is already declared on line 2",
    );
    assert_invalid(
        &JWT.replace("\"jwt\"", "\"JWT Secret\""),
        2,
        8,
        Some("JWT Secret"),
        "name contains 'J'; use only lowercase letters, digits, '_' and '-' (e.g. \"jwt_secret\")",
    );
    assert_invalid(
        &JWT.replace("\"jwt\"", "\"\""),
        2,
        8,
        None,
        "secret name is empty",
    );
}

#[test]
fn related_rules() {
    let with = |related: &str| {
        JWT.replace(
            "name = \"jwt\"\n",
            &format!("name = \"jwt\"\nrelated = {related}\n"),
        )
    };
    assert_invalid(
        &with("[\"sesion\"]"),
        3,
        12,
        Some("jwt"),
        "related names \"sesion\", which is not a secret in this inventory",
    );
    assert_invalid(
        &with("[\"jwt\"]"),
        3,
        12,
        Some("jwt"),
        "related names the secret itself",
    );
    // A later secret may be named, and its name is offered as a hint.
    let later = format!(
        "{}{}",
        with("[\"session\"]"),
        JWT.replace("jwt", "session").replace("JWT_SECRET", "S")
    );
    assert_eq!(ok(&later).secrets[0].related, vec!["session".to_owned()]);
    let (_, _, _, m) = invalid(&later.replace("[\"session\"]", "[\"sess\"]"));
    assert!(m.ends_with("(known: \"session\")"), "{m}");
    assert_invalid(
        &later.replace("[\"session\"]", "[\"session\", \"session\"]"),
        3,
        23,
        Some("jwt"),
        "related lists \"session\" twice",
    );
}

#[test]
fn target_rules() {
    assert_invalid(
        "[[secret]]\nname = \"a\"\ngenerator = { kind = \"random\" }\n",
        2,
        8,
        Some("a"),
        "no targets: add at least one [[secret.target]]",
    );
    assert_invalid(
        "[[secret]]\nname = \"a\"\ngenerator = { kind = \"random\" }\ntarget = []\n",
        2,
        8,
        Some("a"),
        "no targets",
    );
    assert_invalid(
        &JWT.replace("\"dotenv\"", "\"vault\""),
        5,
        8,
        Some("jwt"),
        "unknown target kind \"vault\"; expected \"dotenv\"",
    );
    assert_invalid(
        &JWT.replace("\"JWT_SECRET\"", "\"JWT-SECRET\""),
        7,
        7,
        Some("jwt"),
        "var = \"JWT-SECRET\" is not a variable name",
    );
    assert_invalid(
        &JWT.replace("\"JWT_SECRET\"", "\"1JWT\""),
        7,
        7,
        Some("jwt"),
        "not a variable name",
    );
    assert_invalid(
        &JWT.replace(
            "var = \"JWT_SECRET\"\n",
            "var = \"JWT_SECRET\"\nformat = \"yaml\"\n",
        ),
        8,
        10,
        Some("jwt"),
        "unknown target format \"yaml\"; expected \"pair\" or \"list\"",
    );
    assert_invalid(
        &JWT.replace(".env", ""),
        6,
        8,
        Some("jwt"),
        "target path is empty",
    );
}

#[test]
fn previous_var_rules() {
    let overlap = JWT.replace(
        "generator = { kind = \"random\" }\n",
        "generator = { kind = \"random\" }\nstrategy = { kind = \"overlap\", window = \"1d\" }\n",
    );
    let add = |text: &str, extra: &str| {
        text.replace(
            "var = \"JWT_SECRET\"\n",
            &format!("var = \"JWT_SECRET\"\n{extra}\n"),
        )
    };
    assert_invalid(
        &add(JWT, "previous_var = \"JWT_SECRET_PREVIOUS\""),
        8,
        16,
        Some("jwt"),
        "previous_var does not apply to a cutover",
    );
    assert_invalid(
        &add(&overlap, "previous_var = \"OLD\"\nformat = \"list\""),
        9,
        16,
        Some("jwt"),
        "previous_var does not apply to format = \"list\"",
    );
    assert_invalid(
        &add(&overlap, "previous_var = \"JWT_SECRET\""),
        9,
        16,
        Some("jwt"),
        "previous_var is the same as var",
    );
    assert_invalid(
        &add(&overlap, "previous_var = \"OLD JWT\""),
        9,
        16,
        Some("jwt"),
        "previous_var = \"OLD JWT\" is not a variable name",
    );
    let good = ok(&add(&overlap, "previous_var = \"JWT_SECRET_PREVIOUS\""));
    let TargetSpec::Dotenv(t) = &good.secrets[0].targets[0] else {
        panic!("a dotenv target")
    };
    assert_eq!(t.previous_var.as_deref(), Some("JWT_SECRET_PREVIOUS"));
}

#[test]
fn one_writer_per_file_and_variable() {
    let other = |var: &str, path: &str| {
        format!(
            "\n[[secret]]\nname = \"other\"\ngenerator = {{ kind = \"random\" }}\nstrategy = {{ kind = \"overlap\", window = \"1h\" }}\n[[secret.target]]\nkind = \"dotenv\"\npath = \"{path}\"\nvar = \"{var}\"\nprevious_var = \"OTHER_PREVIOUS\"\n"
        )
    };
    // Same var, same file (spelt differently).
    assert_invalid(
        &format!("{JWT}{}", other("JWT_SECRET", "./.env")),
        16,
        7,
        Some("other"),
        "JWT_SECRET in ./.env is already written by secret \"jwt\" (line 7)",
    );
    // Same var in another file is fine.
    ok(&format!("{JWT}{}", other("JWT_SECRET", "api/.env")));
    // previous_var colliding with another secret's var.
    let prev = JWT.replace("JWT_SECRET", "OTHER_PREVIOUS");
    assert_invalid(
        &format!("{prev}{}", other("OTHER", ".env")),
        17,
        16,
        Some("other"),
        "OTHER_PREVIOUS in .env is already written by secret \"jwt\"",
    );
    // Two targets of one secret writing the same variable.
    let twice = format!(
        "{JWT}[[secret.target]]\nkind = \"dotenv\"\npath = \".env\"\nvar = \"JWT_SECRET\"\n"
    );
    assert_invalid(
        &twice,
        11,
        7,
        Some("jwt"),
        "already written by this secret (line 7)",
    );
}

#[test]
fn hook_retry_defaults_and_settings() {
    assert_eq!(
        Retry::default(),
        Retry {
            tries: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    );
    let inv = ok(&format!("{JWT}[secret.hooks]\nrestart = [\"true\"]\n"));
    assert_eq!(inv.secrets[0].hooks.retry, Retry::default());

    let inv = ok(&format!(
        "{JWT}[secret.hooks]\nrestart = [\"true\"]\nretries = 5\nretry_backoff = \"250ms\"\n"
    ));
    assert_eq!(
        inv.secrets[0].hooks.retry,
        Retry {
            tries: 5,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
        }
    );

    // Bounds are inclusive; a backoff above the default cap raises the cap.
    let inv = ok(&format!(
        "{JWT}[secret.hooks]\nverify = {{ command = [\"true\"] }}\nretries = 1\nretry_backoff = \"5m\"\n"
    ));
    assert_eq!(
        inv.secrets[0].hooks.retry,
        Retry {
            tries: 1,
            backoff: Duration::from_secs(300),
            max_backoff: Duration::from_secs(300),
        }
    );
    let inv = ok(&format!(
        "{JWT}[secret.hooks]\nrestart = [\"true\"]\nretries = 10\n"
    ));
    assert_eq!(inv.secrets[0].hooks.retry.tries, 10);
}

#[test]
fn hook_retry_rules() {
    let hooks = |body: &str| format!("{JWT}[secret.hooks]\nrestart = [\"true\"]\n{body}\n");
    assert_invalid(
        &hooks("retries = 0"),
        10,
        11,
        Some("jwt"),
        "retries = 0 is out of range; it counts attempts in all, from 1 (no retry) to 10",
    );
    assert_invalid(
        &hooks("retries = 11"),
        10,
        11,
        Some("jwt"),
        "retries = 11 is out of range",
    );
    assert_invalid(
        &hooks("retries = -1"),
        10,
        11,
        Some("jwt"),
        "retries = -1 is out of range",
    );
    assert_invalid(
        &hooks("retries = \"3\""),
        10,
        11,
        Some("jwt"),
        "invalid type",
    );
    assert_invalid(
        &hooks("retry_backoff = \"6m\""),
        10,
        17,
        Some("jwt"),
        "retry_backoff = \"6m\" is longer than 5m",
    );
    assert_invalid(
        &hooks("retry_backoff = \"soon\""),
        10,
        17,
        Some("jwt"),
        "retry_backoff = \"soon\" is not a duration",
    );
    assert_invalid(
        &hooks("retry_backoff = \"0s\""),
        10,
        17,
        Some("jwt"),
        "retry_backoff must be longer than zero",
    );
    assert_invalid(
        &format!("{JWT}[secret.hooks]\nretries = 3\n"),
        9,
        11,
        Some("jwt"),
        "retries/retry_backoff are set but there is no restart or verify hook to retry",
    );
    assert_invalid(
        &format!("{JWT}[secret.hooks]\nretry_backoff = \"1s\"\n"),
        9,
        17,
        Some("jwt"),
        "there is no restart or verify hook to retry",
    );
}

#[test]
fn hook_rules() {
    let hooks = |body: &str| format!("{JWT}[secret.hooks]\n{body}\n");
    assert_invalid(
        &hooks("restart = \"systemctl restart api\""),
        9,
        11,
        Some("jwt"),
        "restart is a shell string; use an argv array, e.g. restart = [\"systemctl\", \"restart\", \"api\"]",
    );
    assert_invalid(
        &hooks("restart = []"),
        9,
        11,
        Some("jwt"),
        "restart is empty",
    );
    assert_invalid(
        &hooks("restart = [\"\"]"),
        9,
        11,
        Some("jwt"),
        "empty program name",
    );
    assert_invalid(
        &hooks("restart = [\"sleep\", 5]"),
        9,
        11,
        Some("jwt"),
        "must be an array of strings; found a integer",
    );
    assert_invalid(
        &hooks("restart_timeout = \"5s\""),
        9,
        19,
        Some("jwt"),
        "restart_timeout is set but there is no restart command",
    );
    // https:// is accepted; tls_ca_file only with it, and it must exist.
    assert!(matches!(
        &ok(&hooks("verify = { http = \"https://api.example.com/health\" }")).secrets[0].hooks.verify,
        Some(Verify::Http { url, tls_ca_file: None, .. }) if url.starts_with("https://")
    ));
    assert_invalid(
        &hooks("verify = { http = \"http://x/\", tls_ca_file = \"ca.pem\" }"),
        9,
        46,
        Some("jwt"),
        "tls_ca_file applies only to an https:// URL",
    );
    assert_invalid(
        &hooks("verify = { http = \"https://x/\", tls_ca_file = \"no-such-ca.pem\" }"),
        9,
        47,
        Some("jwt"),
        "no-such-ca.pem does not exist",
    );
    assert_invalid(
        &hooks("verify = { command = [\"true\"], tls_ca_file = \"ca.pem\" }"),
        9,
        46,
        Some("jwt"),
        "tls_ca_file applies only to an https:// http verify",
    );
    assert_invalid(
        &hooks("verify = { http = \"localhost:8000\" }"),
        9,
        19,
        Some("jwt"),
        "is not an http:// or https:// URL",
    );
    assert_invalid(
        &hooks("verify = { http = \"http://x/\", status = 1000 }"),
        9,
        41,
        Some("jwt"),
        "status = 1000 is not an HTTP status",
    );
    assert_invalid(
        &hooks("verify = { command = [\"./smoke.sh\"], status = 200 }"),
        9,
        47,
        Some("jwt"),
        "`status` applies only to an http verify",
    );
    assert_invalid(
        &hooks("verify = { http = \"http://x/\", command = [\"true\"] }"),
        9,
        42,
        Some("jwt"),
        "either `http` or `command`, not both",
    );
    assert_invalid(
        &hooks("verify = { }"),
        9,
        10,
        Some("jwt"),
        "verify needs `http`",
    );
    assert_invalid(
        &hooks("verify = { command = \"./smoke.sh --all\" }"),
        9,
        22,
        Some("jwt"),
        "command is a shell string; use an argv array, e.g. command = [\"./smoke.sh\", \"--all\"]",
    );
}

#[test]
fn store_rules() {
    assert_invalid("[store]\npath = \"\"\n", 2, 8, None, "store path is empty");
    let inv = ok("[store]\npath = \"state/rotor\"\n");
    assert_eq!(inv.store.path, Path::new("/srv/app/state/rotor"));
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = JWT.replace(
        "name = \"jwt\"\n",
        "description = \"clé\"\nname = \"jwt\"\n",
    );
    let text = text.replace("description = \"clé\"", "description = \"clé\", x = 1");
    // `description = "clé", x` is not valid TOML: error after the é.
    let (line, col, _, _) = invalid(&text);
    assert_eq!((line, col), (2, 20));
}

#[test]
fn find_inventory_explicit_default_and_missing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = find_in(None, dir.path()).unwrap_err();
    assert!(
        matches!(&missing, InventoryError::NotFound { path } if path == &dir.path().join("rotor.toml"))
    );
    let msg = missing.to_string();
    assert!(
        msg.contains("create one, or pass --config / ROTOR_CONFIG"),
        "{msg}"
    );

    std::fs::write(dir.path().join("rotor.toml"), JWT).unwrap();
    assert_eq!(
        find_in(None, dir.path()).unwrap(),
        dir.path().join("rotor.toml")
    );
    // An explicit directory means the rotor.toml inside it.
    assert_eq!(
        find_in(Some(dir.path()), Path::new("/")).unwrap(),
        dir.path().join("rotor.toml")
    );
    let other = dir.path().join("prod.toml");
    assert!(matches!(
        find_in(Some(&other), dir.path()),
        Err(InventoryError::NotFound { .. })
    ));
    std::fs::write(&other, JWT).unwrap();
    assert_eq!(
        find_in(Some(Path::new("prod.toml")), dir.path()).unwrap(),
        other
    );
    assert_eq!(find_inventory(Some(&other)).unwrap(), other);
}

#[test]
fn load_reads_files_and_reports_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rotor.toml");
    assert!(matches!(load(&path), Err(InventoryError::NotFound { .. })));
    std::fs::write(&path, JWT).unwrap();
    let inv = load(&path).unwrap();
    assert_eq!(inv.base_dir, dir.path());
    assert_eq!(inv.secrets[0].targets[0].path(), dir.path().join(".env"));
    // A directory cannot be read as a file.
    assert!(matches!(load(dir.path()), Err(InventoryError::Io { .. })));
}

#[test]
fn example_inventories_load() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples"));

    let nis2 = load(&root.join("nis2/rotor.toml")).unwrap();
    assert_eq!(nis2.secrets.len(), 2);
    let jwt = nis2.secret("jwt").unwrap();
    assert_eq!(
        jwt.generator,
        Generator::Random {
            bytes: 32,
            encoding: Encoding::Base64
        }
    );
    assert_eq!(jwt.cadence, Some(Duration::from_secs(90 * 86_400)));
    assert_eq!(jwt.strategy.kind(), "overlap");
    assert_eq!(jwt.related, vec!["nextauth".to_owned()]);
    let nextauth = nis2.secret("nextauth").unwrap();
    assert_eq!(nextauth.strategy, Strategy::Cutover);
    for s in &nis2.secrets {
        assert_eq!(s.hooks, Hooks::default(), "examples must run without hooks");
        assert!(s.owner.is_some() && s.blast_radius.is_some() && s.description.is_some());
    }

    let forge = load(&root.join("api-forge/rotor.toml")).unwrap();
    let names: Vec<&str> = forge.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["session", "csrf", "oidc_client_secret"]);
    let oidc = forge.secret("oidc_client_secret").unwrap();
    assert_eq!(oidc.strategy, Strategy::Manual);
    assert_eq!(oidc.generator, crate::inventory::Generator::Provided);
    assert_eq!(oidc.manual.as_ref().map(|m| m.rules.min_length), Some(20));
    for (name, window_h) in [("session", 2), ("csrf", 13)] {
        let s = forge.secret(name).unwrap();
        assert_eq!(s.cadence, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(
            s.strategy,
            Strategy::Overlap {
                window: Duration::from_secs(window_h * 3600)
            }
        );
        assert_eq!(s.hooks, Hooks::default());
    }

    // Every variable the inventories manage appears in their env.example.
    for (dir, inv) in [("nis2", &nis2), ("api-forge", &forge)] {
        let sample = std::fs::read_to_string(root.join(dir).join("env.example")).unwrap();
        for s in &inv.secrets {
            let TargetSpec::Dotenv(t) = &s.targets[0] else {
                panic!("a dotenv target")
            };
            assert!(
                sample
                    .lines()
                    .any(|l| l.starts_with(&format!("{}=", t.var))),
                "{dir}/env.example lacks {}",
                t.var
            );
        }
    }
}

#[test]
fn absurdly_long_durations_are_refused() {
    let text = r#"
[[secret]]
name = "jwt"
cadence = "292271023045y"
generator = { kind = "random" }
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "JWT_SECRET"
"#;
    let (line, _, secret, message) = invalid(text);
    assert_eq!(line, 4);
    assert_eq!(secret.as_deref(), Some("jwt"));
    assert!(
        message.contains("100 years") || message.contains("not a duration"),
        "{message}"
    );
    let text = text.replace("292271023045y", "101y");
    let (_, _, _, message) = invalid(&text);
    assert!(message.contains("longer than 100 years"), "{message}");
}

#[test]
fn target_mode_keeps_the_file_private() {
    let base = r#"
[[secret]]
name = "jwt"
generator = { kind = "random" }
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "JWT_SECRET"
mode = "MODE"
"#;
    for (m, want) in [
        ("0640", 0o640),
        ("0600", 0o600),
        ("0400", 0o400),
        ("0o440", 0o440),
    ] {
        let inv = ok(&base.replace("MODE", m));
        let TargetSpec::Dotenv(d) = &inv.secrets[0].targets[0] else {
            panic!("a dotenv target")
        };
        assert_eq!(d.mode, want, "{m}");
    }
    for bad in ["0644", "0660", "0700", "0200", "0040", "rw-r-----", "4600"] {
        let (line, col, secret, message) = invalid(&base.replace("MODE", bad));
        assert_eq!((line, col), (9, 8), "{bad}");
        assert_eq!(secret.as_deref(), Some("jwt"));
        assert!(message.contains("is not allowed"), "{bad}: {message}");
    }
}

/// An alternating PostgreSQL secret with a DATABASE_URL and `extra` after
/// its targets.
fn pg_secret(extra: &str) -> String {
    format!(
        r#"[[secret]]
name = "db"
generator = {{ kind = "password", length = 32 }}
strategy = {{ kind = "alternate" }}
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
{extra}"#
    )
}

#[test]
fn pgbouncer_target_manages_the_authority_roles() {
    let inv = ok(&pg_secret(
        "[[secret.target]]\nkind = \"pgbouncer\"\npath = \"pgbouncer/userlist.txt\"\nadmin_console_env = \"ROTOR_PGBOUNCER_URL\"\nmode = \"0640\"\n",
    ));
    let TargetSpec::Pgbouncer(p) = &inv.secrets[0].targets[1] else {
        panic!("a pgbouncer target")
    };
    assert_eq!(
        p,
        &PgbouncerTarget {
            path: PathBuf::from("/srv/app/pgbouncer/userlist.txt"),
            mode: 0o640,
            // The group too: it is the live login while a single role
            // is converted.
            users: vec!["app_blue".into(), "app_green".into(), "app".into()],
            admin_console_env: Some("ROTOR_PGBOUNCER_URL".into()),
        }
    );
}

#[test]
fn pgbouncer_target_rules() {
    // Only for a secret with a PostgreSQL authority.
    assert_invalid(
        &format!("{JWT}[[secret.target]]\nkind = \"pgbouncer\"\npath = \"userlist.txt\"\n"),
        9,
        8,
        Some("jwt"),
        "it needs [secret.authority] kind = \"postgres\"",
    );
    // No dotenv keys.
    assert_invalid(
        &pg_secret("[[secret.target]]\nkind = \"pgbouncer\"\npath = \"u.txt\"\nvar = \"X\"\n"),
        18,
        7,
        Some("db"),
        "target key `var` does not apply to kind = \"pgbouncer\"",
    );
    // No console for a dotenv target.
    assert_invalid(
        &JWT.replace("var =", "admin_console_env = \"X\"\nvar ="),
        7,
        21,
        Some("jwt"),
        "only a pgbouncer target has an admin console",
    );
    assert_invalid(
        &pg_secret(
            "[[secret.target]]\nkind = \"pgbouncer\"\npath = \"u.txt\"\nadmin_console_env = \"not a var\"\n",
        ),
        18,
        21,
        Some("db"),
        "is not a variable name",
    );
    // Two pgbouncer targets of one file would write the same lines.
    assert_invalid(
        &pg_secret(
            "[[secret.target]]\nkind = \"pgbouncer\"\npath = \"u.txt\"\n[[secret.target]]\nkind = \"pgbouncer\"\npath = \"u.txt\"\n",
        ),
        20,
        8,
        Some("db"),
        "user:app_blue in u.txt is already written by this secret",
    );
    assert_invalid(
        &JWT.replace("\"dotenv\"", "\"vault\""),
        5,
        8,
        Some("jwt"),
        "unknown target kind \"vault\"; expected \"dotenv\", \"pgbouncer\" or \"template\"",
    );
}

/// A cache password delivered to `.env` and rendered into `compose.yml`
/// from `compose.yml.tmpl`; `TARGET` stands for extra keys of the
/// template target.
const CACHE: &str = r#"[[secret]]
name = "cache"
generator = { kind = "password", length = 32 }
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "REDIS_PASSWORD"
[[secret.target]]
kind = "template"
path = "compose.yml"
template = "compose.yml.tmpl"
TARGET
"#;

const COMPOSE_TMPL: &str =
    "services:\n  cache:\n    command: redis-server --requirepass {{ current }}\n";

/// Writes `files` into a fresh directory and parses `text` as its
/// `rotor.toml`.
fn parse_in(
    text: &str,
    files: &[(&str, &str)],
) -> (tempfile::TempDir, Result<Inventory, InventoryError>) {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let result = parse(text, &dir.path().join("rotor.toml"));
    (dir, result)
}

/// Asserts that `text` (with `files` beside it) is refused at `line:col`
/// on secret `cache` with a message containing every needle (`DIR` stands
/// for the inventory directory).
#[track_caller]
fn assert_cache_invalid(
    text: &str,
    files: &[(&str, &str)],
    line: usize,
    col: usize,
    needles: &[&str],
) {
    let (dir, result) = parse_in(text, files);
    match result {
        Err(InventoryError::Invalid {
            path,
            line: l,
            col: c,
            secret,
            message,
        }) => {
            assert_eq!(path, dir.path().join("rotor.toml"));
            assert_eq!((l, c), (line, col), "position for message: {message}");
            assert_eq!(secret.as_deref(), Some("cache"));
            for n in needles {
                let n = n.replace("DIR", &dir.path().display().to_string());
                assert!(message.contains(&n), "{message:?} lacks {n:?}");
            }
        }
        Err(e) => panic!("expected Invalid, got {e}"),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

#[test]
fn template_target_reads_its_template_at_load() {
    let (dir, inv) = parse_in(
        &CACHE.replace("TARGET", "mode = \"0640\""),
        &[("compose.yml.tmpl", COMPOSE_TMPL)],
    );
    let inv = inv.unwrap();
    let TargetSpec::Template(t) = &inv.secrets[0].targets[1] else {
        panic!("a template target")
    };
    assert_eq!(t.path, dir.path().join("compose.yml"));
    assert_eq!(t.template_path, dir.path().join("compose.yml.tmpl"));
    assert_eq!(t.mode, 0o640);
    use crate::target::template::Slot;
    assert_eq!(t.template.first_line(Slot::Current), Some(3));
    assert!(!t.template.uses(Slot::Previous) && !t.template.uses(Slot::User));
}

#[test]
fn template_target_rules() {
    let files = &[("compose.yml.tmpl", COMPOSE_TMPL)][..];
    // Keys of other kinds.
    assert_cache_invalid(
        &CACHE.replace("TARGET", "var = \"REDIS_PASSWORD\""),
        files,
        12,
        7,
        &["target key `var` does not apply to kind = \"template\"; a template target takes path, template and mode"],
    );
    assert_cache_invalid(
        &CACHE.replace("TARGET", "admin_console_env = \"X\""),
        files,
        12,
        21,
        &["target key `admin_console_env` does not apply to kind = \"template\""],
    );
    // No template.
    assert_cache_invalid(
        &CACHE
            .replace("template = \"compose.yml.tmpl\"\n", "")
            .replace("TARGET", ""),
        files,
        8,
        1,
        &["missing field `template`: a template target needs template = \"…\""],
    );
    // A template that does not exist.
    assert_cache_invalid(
        &CACHE.replace("TARGET", ""),
        &[],
        11,
        12,
        &["template DIR/compose.yml.tmpl does not exist; create it"],
    );
    // The template is the file itself.
    assert_cache_invalid(
        &CACHE
            .replace("TARGET", "")
            .replace("\"compose.yml.tmpl\"", "\"compose.yml\""),
        files,
        11,
        12,
        &["template is the target's own path"],
    );
    // A template on another kind of target.
    assert_cache_invalid(
        &CACHE.replace("TARGET", "").replace(
            "var = \"REDIS_PASSWORD\"",
            "var = \"REDIS_PASSWORD\"\ntemplate = \"x\"",
        ),
        files,
        8,
        12,
        &["target key `template` does not apply to kind = \"dotenv\""],
    );
}

#[test]
fn template_text_is_checked_at_load() {
    let text = CACHE.replace("TARGET", "");
    // No {{current}}: the message names the template and what would happen.
    assert_cache_invalid(
        &text,
        &[("compose.yml.tmpl", "command: redis-server --requirepass s3cret\n")],
        11,
        12,
        &["template DIR/compose.yml.tmpl has no {{current}} placeholder; rotor would write a file without the secret"],
    );
    // An unknown placeholder: the template and its line.
    assert_cache_invalid(
        &text,
        &[("compose.yml.tmpl", "a: {{current}}\nb: {{ foo }}\n")],
        11,
        12,
        &["template DIR/compose.yml.tmpl line 2: unknown placeholder {{foo}}"],
    );
    // {{previous}} without a strategy that keeps one.
    assert_cache_invalid(
        &text,
        &[("compose.yml.tmpl", "a: {{current}}\nb: {{previous}}\n")],
        11,
        12,
        &["line 2 has {{previous}}, but strategy cutover keeps no previous value"],
    );
    // An overlap with nowhere to put the previous value.
    let overlap = text
        .replace(
            "generator =",
            "strategy = { kind = \"overlap\", window = \"1d\" }\ngenerator =",
        )
        .replace(
            "var = \"REDIS_PASSWORD\"",
            "var = \"REDIS_PASSWORD\"\nformat = \"list\"",
        );
    assert_cache_invalid(
        &overlap,
        &[("compose.yml.tmpl", "a: {{current}}\n")],
        13,
        12,
        &["strategy overlap, but template DIR/compose.yml.tmpl has no {{previous}} placeholder"],
    );
    let (_, inv) = parse_in(
        &overlap,
        &[("compose.yml.tmpl", "a: {{current}}\nb: {{previous}}\n")],
    );
    inv.unwrap();
    // {{user}} on a secret without a login.
    assert_cache_invalid(
        &text,
        &[("compose.yml.tmpl", "user: {{user}}\npass: {{current}}\n")],
        11,
        12,
        &["line 1 has {{user}}, but this secret has no login"],
    );
}

#[test]
fn a_rendered_file_has_one_writer() {
    let files = &[("compose.yml.tmpl", COMPOSE_TMPL)][..];
    // A dotenv variable in a file a template renders.
    assert_cache_invalid(
        &format!(
            "{}[[secret.target]]\nkind = \"dotenv\"\npath = \"compose.yml\"\nvar = \"X\"\n",
            CACHE.replace("TARGET", "")
        ),
        files,
        15,
        8,
        &["compose.yml is rendered whole from a template by this secret (line 10)"],
    );
    // A template target for a file a dotenv target writes.
    assert_cache_invalid(
        &CACHE
            .replace("TARGET", "")
            .replace("path = \"compose.yml\"", "path = \".env\""),
        files,
        10,
        8,
        &[".env is already written by this secret (line 6); a template target renders the whole file"],
    );
    // Two templates rendering one file, from two secrets.
    let second = CACHE
        .replace("TARGET", "")
        .replace("\"cache\"", "\"other\"")
        .replace("\".env\"", "\"other.env\"");
    assert_cache_invalid(
        &format!("{second}{}", CACHE.replace("TARGET", "")),
        files,
        22,
        8,
        &["compose.yml is rendered whole from a template by secret \"other\" (line 10)"],
    );
    // A target writing a template.
    assert_cache_invalid(
        &format!(
            "{}[[secret.target]]\nkind = \"dotenv\"\npath = \"compose.yml.tmpl\"\nvar = \"X\"\n",
            CACHE.replace("TARGET", "")
        ),
        files,
        15,
        8,
        &["compose.yml.tmpl is the template of a target of this secret (line 11)"],
    );
    // Two targets may render from one template.
    let (_, inv) = parse_in(
        &format!(
            "{}[[secret.target]]\nkind = \"template\"\npath = \"compose.override.yml\"\ntemplate = \"compose.yml.tmpl\"\n",
            CACHE.replace("TARGET", "")
        ),
        files,
    );
    assert_eq!(inv.unwrap().secrets[0].targets.len(), 3);
}

/// A dual-password Redis secret; `NODES` and `TLS` (a line, or nothing)
/// are filled in by each test.
const REDIS_TLS: &str = r#"[[secret]]
name = "cache"
generator = { kind = "password", length = 32 }
strategy = { kind = "dual-password" }
[secret.authority]
kind = "redis"
admin_url_env = "ROTOR_REDIS_ADMIN_URL"
user = "app"
nodes = NODES
TLS
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "REDIS_PASSWORD"
"#;

/// Enough PEM for the loader, which checks the file holds a certificate
/// block (the TLS library checks the certificate itself).
const CA_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";

fn redis_tls(nodes: &str, tls: &str) -> String {
    REDIS_TLS.replace("NODES", nodes).replace("TLS", tls)
}

/// The Redis authority of the one secret.
fn redis_authority(inv: &Inventory) -> &RedisAuthority {
    match &inv.secrets[0].authority {
        Some(AuthoritySpec::Redis(r)) => r,
        other => panic!("expected a redis authority, got {other:?}"),
    }
}

#[test]
fn rediss_nodes_take_a_tls_ca_file_resolved_against_the_inventory_dir() {
    let text = redis_tls(
        r#"["rediss://127.0.0.1:6379", "rediss://127.0.0.1:6380"]"#,
        r#"tls_ca_file = "redis-ca.pem""#,
    );
    let (dir, inv) = parse_in(&text, &[("redis-ca.pem", CA_PEM)]);
    let inv = inv.expect("valid");
    let r = redis_authority(&inv);
    assert_eq!(
        r.tls_ca_file.as_deref(),
        Some(dir.path().join("redis-ca.pem").as_path())
    );
    assert_eq!(
        r.nodes,
        ["rediss://127.0.0.1:6379", "rediss://127.0.0.1:6380"]
    );
}

#[test]
fn rediss_nodes_without_a_ca_file_use_the_system_roots() {
    let (_dir, inv) = parse_in(&redis_tls(r#"["rediss://redis.internal:6380"]"#, ""), &[]);
    assert_eq!(redis_authority(&inv.expect("valid")).tls_ca_file, None);
}

#[test]
fn tls_ca_file_is_refused_without_a_rediss_node() {
    assert_cache_invalid(
        &redis_tls(
            r#"["redis://127.0.0.1:6379"]"#,
            r#"tls_ca_file = "redis-ca.pem""#,
        ),
        &[("redis-ca.pem", CA_PEM)],
        10,
        15,
        &[
            "tls_ca_file applies to TLS nodes only",
            "rediss://HOST:PORT",
        ],
    );
}

#[test]
fn an_unreadable_tls_ca_file_is_refused_with_its_path() {
    let text = redis_tls(
        r#"["rediss://127.0.0.1:6379"]"#,
        r#"tls_ca_file = "certs/redis-ca.pem""#,
    );
    assert_cache_invalid(
        &text,
        &[],
        10,
        15,
        &["tls_ca_file DIR/certs/redis-ca.pem does not exist"],
    );
    let text = redis_tls(
        r#"["rediss://127.0.0.1:6379"]"#,
        r#"tls_ca_file = "redis-ca.pem""#,
    );
    assert_cache_invalid(
        &text,
        &[("redis-ca.pem", "not a certificate\n")],
        10,
        15,
        &["tls_ca_file DIR/redis-ca.pem holds no PEM certificate"],
    );
    let text = redis_tls(r#"["rediss://127.0.0.1:6379"]"#, r#"tls_ca_file = """#);
    assert_cache_invalid(&text, &[], 10, 15, &["tls_ca_file is empty"]);
}

#[test]
fn redis_and_rediss_nodes_do_not_mix() {
    assert_cache_invalid(
        &redis_tls(
            r#"["redis://127.0.0.1:6379", "rediss://127.0.0.1:6380"]"#,
            "",
        ),
        &[],
        9,
        36,
        &["mix redis:// and rediss://", "either all nodes use TLS"],
    );
}

#[test]
fn there_is_no_insecure_tls_mode() {
    assert_cache_invalid(
        &redis_tls(r#"["rediss://127.0.0.1:6379/#insecure"]"#, ""),
        &[],
        9,
        10,
        &["no insecure TLS mode", "tls_ca_file"],
    );
}

#[test]
fn dual_password_waits_two_seconds_before_retire_unless_told() {
    let (_dir, inv) = parse_in(&redis_tls(r#"["redis://127.0.0.1:6379"]"#, ""), &[]);
    assert_eq!(
        redis_authority(&inv.expect("valid")).retire_delay,
        Duration::from_secs(2)
    );
    for (text, want) in [("0s", Duration::ZERO), ("30s", Duration::from_secs(30))] {
        let (_dir, inv) = parse_in(
            &redis_tls(
                r#"["redis://127.0.0.1:6379"]"#,
                &format!("retire_delay = \"{text}\""),
            ),
            &[],
        );
        assert_eq!(redis_authority(&inv.expect("valid")).retire_delay, want);
    }
    assert_cache_invalid(
        &redis_tls(r#"["redis://127.0.0.1:6379"]"#, r#"retire_delay = "soon""#),
        &[],
        10,
        16,
        &["retire_delay = \"soon\" is not a duration"],
    );
    let cutover = redis_tls(r#"["redis://127.0.0.1:6379"]"#, r#"retire_delay = "5s""#)
        .replace("{ kind = \"dual-password\" }", "{ kind = \"cutover\" }")
        .replace("user = \"app\"\n", "");
    assert_cache_invalid(
        &cutover,
        &[],
        9,
        16,
        &["retire_delay applies to strategy dual-password"],
    );
}

#[test]
fn alternate_waits_two_seconds_before_retire_unless_told() {
    let delay = |text: &str| match &ok(text).secrets[0].authority {
        Some(AuthoritySpec::Postgres(pg)) => pg.retire_delay,
        other => panic!("expected a postgres authority, got {other:?}"),
    };
    assert_eq!(delay(&pg_secret("")), Duration::from_secs(2));
    let with = |d: &str| {
        pg_secret("").replace(
            "roles = [\"app_blue\", \"app_green\"]",
            &format!("roles = [\"app_blue\", \"app_green\"]\nretire_delay = \"{d}\""),
        )
    };
    assert_eq!(delay(&with("0s")), Duration::ZERO);
    assert_eq!(delay(&with("10s")), Duration::from_secs(10));
    let cutover = with("5s")
        .replace("{ kind = \"alternate\" }", "{ kind = \"cutover\" }")
        .replace("group = \"app\"\n", "")
        .replace("roles = [\"app_blue\", \"app_green\"]", "role = \"app\"");
    let (line, col, secret, message) = invalid(&cutover);
    assert_eq!(
        (line, col, secret.as_deref()),
        (9, 16, Some("db")),
        "{message}"
    );
    assert!(
        message.contains("retire_delay applies to strategy alternate only"),
        "{message}"
    );
}

/// A key of one authority kind given to another is refused at the key,
/// naming the kind it belongs to.
#[test]
fn keys_of_another_authority_kind_are_refused_at_the_key() {
    let base = "[[secret]]\nname = \"s\"\ngenerator = { kind = \"password\", length = 32 }\n[[secret.target]]\nkind = \"dotenv\"\npath = \".env\"\nvar = \"S\"\n[secret.authority]\n";
    // (line, column) of the key's value
    for (authority, (line, col), needle) in [
        (
            "kind = \"postgres\"\nadmin_url_env = \"A\"\nrole = \"app\"\ncommand = [\"plugin\"]\n",
            (12, 11),
            "command belongs to the exec authority (a plugin program); kind = \"postgres\" does not take it",
        ),
        (
            "kind = \"postgres\"\nadmin_url_env = \"A\"\nrole = \"app\"\nnodes = [\"redis://127.0.0.1:6379\"]\n",
            (12, 9),
            "nodes belongs to the redis authority",
        ),
        (
            "kind = \"redis\"\nnodes = [\"redis://127.0.0.1:6379\"]\nrole = \"app\"\n",
            (11, 8),
            "role belongs to the postgres authority",
        ),
        (
            "kind = \"exec\"\ncommand = [\"plugin\"]\nnodes = [\"redis://127.0.0.1:6379\"]\n",
            (11, 9),
            "nodes does not apply to kind = \"exec\"",
        ),
    ] {
        let (l, c, s, m) = invalid(&format!("{base}{authority}"));
        assert_eq!((l, c, s.as_deref()), (line, col, Some("s")), "{m}");
        assert!(m.contains(needle), "{m:?} lacks {needle:?}");
    }
}
