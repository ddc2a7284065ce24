//! Every target and authority rotor ships passes the one conformance suite
//! (rotor-testkit): today the dotenv target, in each of its layouts and
//! forms (a bare value, a user variable beside it, a connection URL), over
//! files with comments, quotes, `export`, CRLF and missing variables, and the
//! app-only authority; the PgBouncer auth_file target; and the template
//! target (a whole file rendered from a template).

use std::path::PathBuf;

use rotor::authority::NoAuthority;
use rotor::inventory::{DotenvFormat, DotenvTarget, PgbouncerTarget, TemplateTarget, ValueForm};
use rotor::target::template::Template;
use rotor_testkit::conformance::{authority_suite, target_suite};

const SAMPLES: &[&[u8]] = &[
    b"",
    b"# nothing managed here\nOTHER=1\n",
    b"KEY=old-value-1234567\nKEY_PREVIOUS=\nOTHER=1\n",
    b"export KEY='old-value-1234567' # signing key\r\nKEY_PREVIOUS=older-value-7654321\r\n\r\nOTHER=\"x y\"\r\n",
    b"# list layout\nKEY=old-value-1234567,older-value-7654321\nTAIL=1",
];

/// Files holding a connection URL in DATABASE_URL, in the shapes drivers
/// accept (several hosts, IPv6, no port, an empty password part).
const URL_SAMPLES: &[&[u8]] = &[
    b"DATABASE_URL=postgres://app:old-pass@db:5432/app?sslmode=require&x=1\n",
    b"# db\r\nexport DATABASE_URL='postgresql://app:old%40pass@h1:5432,h2:5433/app' # main\r\nOTHER=\"x y\"\r\n",
    b"A=1\nDATABASE_URL=\"redis://default:old-pass@[::1]:6379/0#f\"",
    b"DATABASE_URL = rediss://:@cache.internal # empty password part\nTAIL=1\n",
];

/// Files with and without a user variable beside the password.
const USER_SAMPLES: &[&[u8]] = &[
    b"",
    b"KEY=old-value-1234567\n",
    b"# login\nKEY_USER=app_a # the role\r\nKEY=old-value-1234567\r\nKEY_PREVIOUS=\r\nOTHER=1",
];

fn target(format: DotenvFormat, previous_var: Option<&str>) -> DotenvTarget {
    DotenvTarget {
        path: PathBuf::from(".env"),
        var: "KEY".into(),
        previous_var: previous_var.map(str::to_owned),
        format,
        mode: 0o600,
        form: ValueForm::Plain,
        user_var: None,
    }
}

fn with_user(previous_var: Option<&str>) -> DotenvTarget {
    DotenvTarget {
        user_var: Some("KEY_USER".into()),
        ..target(DotenvFormat::Pair, previous_var)
    }
}

fn url_target() -> DotenvTarget {
    DotenvTarget {
        var: "DATABASE_URL".into(),
        form: ValueForm::Url,
        ..target(DotenvFormat::Pair, None)
    }
}

/// What another program might do to the file meanwhile: add a line.
fn foreign_edit(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(b"ADDED_BY_SOMEONE_ELSE=1\n");
    out
}

#[test]
fn dotenv_pair_with_previous() {
    let checks = target_suite(
        &target(DotenvFormat::Pair, Some("KEY_PREVIOUS")),
        SAMPLES,
        foreign_edit,
    );
    assert_eq!(checks, SAMPLES.len() * 13);
}

#[test]
fn dotenv_pair_without_previous() {
    let checks = target_suite(&target(DotenvFormat::Pair, None), SAMPLES, foreign_edit);
    assert_eq!(checks, SAMPLES.len() * 13);
}

#[test]
fn dotenv_list() {
    let checks = target_suite(&target(DotenvFormat::List, None), SAMPLES, foreign_edit);
    assert_eq!(checks, SAMPLES.len() * 13);
}

#[test]
fn dotenv_pair_with_user_var() {
    for previous in [None, Some("KEY_PREVIOUS")] {
        let checks = target_suite(&with_user(previous), USER_SAMPLES, foreign_edit);
        assert_eq!(checks, USER_SAMPLES.len() * 13);
    }
}

#[test]
fn dotenv_url() {
    let checks = target_suite(&url_target(), URL_SAMPLES, foreign_edit);
    assert_eq!(checks, URL_SAMPLES.len() * 13);
}

/// PgBouncer auth_files: empty, comments only, the managed user's line
/// among others (CRLF, doubled quotes, a verifier, no final newline).
const USERLIST_SAMPLES: &[&[u8]] = &[
    b"",
    b";; no users yet\n",
    b"\"rotor_admin\" \"adm\"\n\"conformance_user\" \"old-pass\"\n\"app\" \"grp\"\n",
    b"; pool\r\n\"other\" \"SCRAM-SHA-256$4096:x\"\r\n\r\n\"conformance_user\" \"o\"\"ld\"\r\n",
    b"\"other\" \"x\"",
];

fn pgbouncer_target() -> PgbouncerTarget {
    PgbouncerTarget {
        path: PathBuf::from("userlist.txt"),
        mode: 0o640,
        users: vec!["conformance_user".into(), "conformance_other".into()],
        admin_console_env: None,
    }
}

/// What another program might do to a userlist: add another user's line.
fn foreign_userlist_edit(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(b"\"added_by_someone_else\" \"x\"\n");
    out
}

#[test]
fn pgbouncer_userlist() {
    let checks = target_suite(&pgbouncer_target(), USERLIST_SAMPLES, foreign_userlist_edit);
    assert_eq!(checks, USERLIST_SAMPLES.len() * 13);
}

/// Templates and files rendered from them before rotor (an old value, an
/// empty previous, no final newline, CRLF), and no file yet.
const TEMPLATES: &[(&str, &[&[u8]])] = &[
    (
        "services:\n  cache:\n    command: redis-server --maxmemory-policy noeviction --requirepass {{current}}\n",
        &[
            b"",
            b"services:\n  cache:\n    command: redis-server --maxmemory-policy noeviction --requirepass old-pass\n",
        ],
    ),
    (
        "# redis.conf include\r\nrequirepass {{ current }}\r\nmasterauth {{current}}\r\n",
        &[
            b"",
            b"# redis.conf include\r\nrequirepass old-pass\r\nmasterauth old-pass\r\n",
        ],
    ),
    (
        "login: {{user}}\nkeys: '{{current}}' '{{ previous }}'\nend",
        &[
            b"",
            b"login: app_blue\nkeys: 'old-value-1234567' 'older-value-7654321'\nend",
            b"login: \nkeys: 'old-value-1234567' ''\nend",
        ],
    ),
];

fn template_target(text: &str) -> TemplateTarget {
    TemplateTarget {
        path: PathBuf::from("rendered.conf"),
        template_path: PathBuf::from("rendered.conf.tmpl"),
        template: Template::parse(text.as_bytes()).expect("template parses"),
        mode: 0o640,
    }
}

/// The whole file is the template target's (the loader refuses any other
/// writer of it), so nobody else can have edited a part of it: the edit
/// that undo must keep is none.
fn no_foreign_edit(bytes: &[u8]) -> Vec<u8> {
    bytes.to_vec()
}

#[test]
fn template() {
    for (text, samples) in TEMPLATES {
        let checks = target_suite(&template_target(text), samples, no_foreign_edit);
        assert_eq!(checks, samples.len() * 13);
    }
}

#[test]
fn app_only_authority() {
    assert_eq!(authority_suite(&NoAuthority, None, None), 9);
}

/// The SQLite store passes the store conformance suite (the contract the
/// PostgreSQL store must meet too).
#[test]
fn sqlite_store_passes_the_store_conformance_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = rotor::store::Store::init(&dir.path().join(".rotor")).expect("init store");
    assert_eq!(rotor_testkit::store_conformance::store_suite(&store), 9);
}
