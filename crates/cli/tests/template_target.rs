//! A secret delivered to `.env` and to whole files rendered from templates
//! (a `docker-compose.yml` with `--requirepass {{current}}`, a `redis.conf`
//! include): every byte of a rendered file outside the placeholder is the
//! template's, modes are kept, `verify` agrees; a failed verify puts every
//! file back; a template without `{{current}}`, or a rendered file edited
//! by hand, is refused before anything changes. No value reaches any
//! output.

mod common;

use common::Harness;
use rotor_testkit::inventory::{inventory, line_of, Secret};

/// The secret: `.env`, a compose file (mode 0640) and a Redis include.
fn cache() -> Secret {
    Secret::new("cache")
        .key("description", "Redis requirepass")
        .password(32, "urlsafe")
        .dotenv(".env", "REDIS_PASSWORD")
        .template("docker-compose.yml", "docker-compose.yml.tmpl")
        .target_line("mode = \"0640\"")
        .template("redis/auth.conf", "redis/auth.conf.tmpl")
}

const OLD: &str = "OLD-redis-pass-12345678";
const ENV: &str = "# cache\nREDIS_PASSWORD=OLD-redis-pass-12345678\nAPP_ENV=production\n";
const COMPOSE_TMPL: &str = "# rendered by rotor from docker-compose.yml.tmpl\nservices:\n  cache:\n    image: redis:7.2\n    command: redis-server --maxmemory-policy noeviction --requirepass {{current}}\n    ports: [\"6379:6379\"]\n";
const REDIS_TMPL: &str =
    "# include from redis.conf\r\nrequirepass {{ current }}\r\nmasterauth {{current}}";

/// `template` with every `{{current}}` (spaces allowed) replaced.
fn fill(template: &str, value: &str) -> String {
    template
        .replace("{{ current }}", value)
        .replace("{{current}}", value)
}

/// The project's files: `.env`, both templates and both rendered files
/// holding the old password.
fn files() -> Vec<(&'static str, String)> {
    vec![
        (".env", ENV.to_owned()),
        ("docker-compose.yml.tmpl", COMPOSE_TMPL.to_owned()),
        ("docker-compose.yml", fill(COMPOSE_TMPL, OLD)),
        ("redis/auth.conf.tmpl", REDIS_TMPL.to_owned()),
        ("redis/auth.conf", fill(REDIS_TMPL, OLD)),
    ]
}

/// A project of `secrets` over [`files`], `rotor init` done.
fn setup_with(secrets: &[Secret]) -> Harness {
    let files = files();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let mut h = Harness::managed(
        &inventory(secrets),
        &files,
        &[(".env", &["REDIS_PASSWORD"])],
    );
    h.leaks.learn(OLD);
    h.rotor(&["init"]).expect_code(0);
    h
}

fn setup() -> Harness {
    setup_with(&[cache()])
}

/// The value `.env` holds, after checking that each rendered file is its
/// template with that value and nothing else.
fn delivered(h: &Harness) -> String {
    let value = h.env_var(".env", "REDIS_PASSWORD").expect("REDIS_PASSWORD");
    assert_eq!(
        h.project.read_string("docker-compose.yml"),
        fill(COMPOSE_TMPL, &value),
        "docker-compose.yml is its template, byte for byte, with the value"
    );
    assert_eq!(
        h.project.read_string("redis/auth.conf"),
        fill(REDIS_TMPL, &value),
        "redis/auth.conf is its template, byte for byte, with the value"
    );
    value
}

#[test]
fn rotating_renders_every_template_and_keeps_their_other_bytes() {
    let mut h = setup();
    h.rotor(&["plan", "cache"])
        .expect_code(0)
        .expect_output("docker-compose.yml.tmpl: {{current}} = NEW (atomic replace, mode 0640, every other byte the template's)")
        .expect_output("auth.conf.tmpl: {{current}} = NEW (atomic replace, mode 0600")
        .expect_output("adopted as v1");
    h.rotor(&["rotate", "cache"])
        .expect_code(0)
        .expect_output("rotated");
    let first = delivered(&h);
    assert_ne!(first, OLD);
    assert_eq!(first.len(), 32);
    assert_eq!(h.project.mode("docker-compose.yml"), 0o640);
    assert_eq!(h.project.mode("redis/auth.conf"), 0o600);
    assert_eq!(
        h.project.read_string("docker-compose.yml.tmpl"),
        COMPOSE_TMPL
    );
    assert_eq!(h.project.read_string("redis/auth.conf.tmpl"), REDIS_TMPL);
    h.rotor(&["verify"]).expect_code(0);

    // The second rotation reads the rendered files back as the store's
    // current value (no hand-made change) and renders them again.
    h.rotor(&["rotate", "cache"]).expect_code(0);
    let second = delivered(&h);
    assert_ne!(second, first);
    assert_eq!(h.project.mode("docker-compose.yml"), 0o640);
    h.rotor(&["verify"]).expect_code(0);
    h.rotor(&["status"]).expect_code(0);
    h.rotor(&["history", "cache"]).expect_code(0);
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn a_missing_rendered_file_is_created_with_create_missing() {
    let mut h = setup();
    std::fs::remove_file(h.project.join("docker-compose.yml")).expect("rm");
    h.rotor(&["plan", "cache"])
        .expect_code(0)
        .expect_output("does not exist: rotate fails unless --create-missing");
    let before = h.project.snapshot();
    h.rotor(&["rotate", "cache"])
        .expect_code(2)
        .expect_output("pass --create-missing");
    h.project.assert_unchanged(&before, "a refused rotation");
    h.rotor(&["rotate", "cache", "--create-missing"])
        .expect_code(0);
    delivered(&h);
    assert_eq!(h.project.mode("docker-compose.yml"), 0o640);
    h.rotor(&["verify"]).expect_code(0);
    h.finish();
}

#[test]
fn a_failed_verify_puts_every_rendered_file_back() {
    // The hook prints the rendered files (the new value) and fails.
    let mut h = setup_with(&[cache()
        .verify_command(
            &["sh", "-c", "cat docker-compose.yml redis/auth.conf; exit 1"],
            "5s",
        )
        .hook_line("retries = 1")]);
    let before = h.project.snapshot();
    h.rotor(&["rotate", "cache"])
        .expect_code(1)
        .expect_output("REDACTED fp=");
    assert_eq!(delivered(&h), OLD, "undo put the old value back everywhere");
    for file in [".env", "docker-compose.yml", "redis/auth.conf"] {
        assert_eq!(
            h.project.read(file),
            before[std::path::Path::new(file)],
            "{file} restored byte for byte"
        );
    }
    h.finish();
}

#[test]
fn a_template_without_its_placeholder_is_refused_before_anything_changes() {
    let mut h = setup();
    h.rotor(&["rotate", "cache"]).expect_code(0);
    let value = delivered(&h);
    // Someone "simplifies" the template: the placeholder is gone.
    h.project.write(
        "docker-compose.yml.tmpl",
        COMPOSE_TMPL.replace(" --requirepass {{current}}", ""),
    );
    let before = h.project.snapshot();
    let line = line_of(
        &inventory(&[cache()]),
        "template = \"docker-compose.yml.tmpl\"",
    );
    let needle = format!(
        "rotor.toml:{line}:12: secret \"cache\": template {} has no {{{{current}}}} placeholder; rotor would write a file without the secret",
        h.project.join("docker-compose.yml.tmpl").display()
    );
    for args in [
        &["plan", "cache"][..],
        &["rotate", "cache"],
        &["rotate", "--all"],
    ] {
        h.rotor(args).expect_code(2).expect_output(&needle);
    }
    h.project
        .assert_unchanged(&before, "a rotation refused for its template");
    // The old password is still what every file holds.
    assert_eq!(
        h.project.read_string("docker-compose.yml"),
        fill(COMPOSE_TMPL, &value)
    );
    assert_eq!(
        h.env_var(".env", "REDIS_PASSWORD").as_deref(),
        Some(value.as_str())
    );

    // An unknown placeholder names the template's line.
    h.project.write(
        "docker-compose.yml.tmpl",
        COMPOSE_TMPL.replace("redis:7.2", "redis:{{ version }}"),
    );
    h.rotor(&["rotate", "cache"])
        .expect_code(2)
        .expect_output("docker-compose.yml.tmpl line 4: unknown placeholder {{version}}");

    // Put back, everything agrees again.
    h.project.write("docker-compose.yml.tmpl", COMPOSE_TMPL);
    h.rotor(&["verify"]).expect_code(0);
    h.finish();
}

#[test]
fn a_rendered_file_edited_by_hand_is_refused_before_anything_changes() {
    let mut h = setup();
    h.rotor(&["rotate", "cache"]).expect_code(0);
    let value = delivered(&h);
    // Someone bumps the image in the rendered file, not in the template.
    let edited = fill(COMPOSE_TMPL, &value).replace("redis:7.2", "redis:7.4");
    h.project.write("docker-compose.yml", &edited);
    let needle = format!(
        "{}: line 4 differs from its template {}; edit the template, not the file",
        h.project.join("docker-compose.yml").display(),
        h.project.join("docker-compose.yml.tmpl").display()
    );
    h.rotor(&["plan", "cache"])
        .expect_code(0)
        .expect_output(&needle);
    let before = h.project.snapshot();
    h.rotor(&["rotate", "cache"])
        .expect_code(2)
        .expect_output(&needle);
    h.project
        .assert_unchanged(&before, "a rotation refused for a hand-edited file");
    assert_eq!(
        h.env_var(".env", "REDIS_PASSWORD").as_deref(),
        Some(value.as_str())
    );

    // The edit moves into the template: the next rotation goes through.
    h.project.write(
        "docker-compose.yml.tmpl",
        COMPOSE_TMPL.replace("redis:7.2", "redis:7.4"),
    );
    h.rotor(&["rotate", "cache"]).expect_code(0);
    let next = h.env_var(".env", "REDIS_PASSWORD").expect("REDIS_PASSWORD");
    assert_eq!(
        h.project.read_string("docker-compose.yml"),
        fill(&COMPOSE_TMPL.replace("redis:7.2", "redis:7.4"), &next)
    );
    h.rotor(&["verify"]).expect_code(0);
    h.finish();
}

#[test]
fn another_writer_of_a_rendered_file_through_a_link_is_refused() {
    let other = Secret::new("other").random(16).dotenv("alias.yml", "OTHER");
    let files = files();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let mut h = Harness::new(&inventory(&[cache(), other]), &files);
    std::os::unix::fs::symlink("docker-compose.yml", h.project.join("alias.yml")).expect("symlink");
    h.manage(".env", &["REDIS_PASSWORD"]);
    h.leaks.learn(OLD);
    h.rotor(&["init"]).expect_code(0);
    let before = h.project.snapshot();
    h.rotor(&["rotate", "--all"])
        .expect_code(2)
        .expect_output("a template target must be its file's only writer");
    h.project.assert_unchanged(&before, "a refused rotation");
    h.finish();
}

#[test]
fn plan_warns_that_printable_values_are_written_raw() {
    let cache = Secret::new("cache")
        .password(32, "printable")
        .template("redis.conf", "redis.conf.tmpl");
    let mut h = Harness::new(
        &inventory(&[cache]),
        &[("redis.conf.tmpl", "requirepass {{current}}\n")],
    );
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["plan"])
        .expect_code(0)
        .expect_output("redis.conf does not exist: rotate fails unless --create-missing")
        .expect_output("redis.conf gets values from alphabet printable written raw, unquoted");
    let run = h.rotor(&["rotate", "cache", "--create-missing"]);
    run.expect_code(0);
    let file = h.project.read_string("redis.conf");
    let value = file
        .strip_prefix("requirepass ")
        .and_then(|v| v.strip_suffix('\n'))
        .expect("the template, filled");
    assert_eq!(value.chars().count(), 32);
    h.leaks.learn(value);
    // Only the rendered file held the value: scan the rotation's output now.
    h.leaks.check_text("stdout of the rotation", &run.stdout);
    h.leaks.check_text("stderr of the rotation", &run.stderr);
    h.rotor(&["verify"]).expect_code(0);
    h.finish();
}
