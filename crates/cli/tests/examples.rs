//! Every example inventory (one per seed runbook) rotates end to end, and
//! the README's first command (`examples/demo.sh`) runs from a checkout
//! without touching tracked files.

mod common;

use std::path::Path;
use std::process::Command;

use common::{rotor_bin, Harness};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn example(name: &str, vars: &[&str], manual: &[(&str, &str, &str)]) {
    let dir = repo().join("examples").join(name);
    let inventory = std::fs::read_to_string(dir.join("rotor.toml")).expect("inventory");
    let env = std::fs::read_to_string(dir.join("env.example")).expect("env.example");
    let mut h = Harness::new(&inventory, &[(".env", &env)]);
    h.manage(".env", vars);
    let before: Vec<Option<String>> = vars.iter().map(|v| h.env_var(".env", v)).collect();
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["plan"])
        .expect_code(0)
        .expect_output("bits of entropy");
    h.rotor(&["rotate", "--all"]).expect_code(0);
    let manual: Vec<(&str, &str, &str, &str)> = manual
        .iter()
        .map(|(n, var, v)| (*n, ".env", *var, *v))
        .collect();
    h.put_manual(&[], &manual);
    for (var, old) in vars.iter().zip(&before) {
        if var.ends_with("_PREVIOUS") {
            continue;
        }
        let new = h.env_var(".env", var);
        assert!(
            new.as_ref().is_some_and(|n| n.len() >= 32),
            "{name}: {var} rotated"
        );
        assert_ne!(&new, old, "{name}: {var} changed");
    }
    let status = h.rotor(&["status", "--json"]).expect_code(0).json();
    for row in status.as_array().expect("rows") {
        assert_eq!(row["state"], "current", "{name}: {row}");
        assert_eq!(row["overdue"], false);
    }
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn nis2_example_rotates() {
    example(
        "nis2",
        &["JWT_SECRET", "JWT_SECRET_PREVIOUS", "NEXTAUTH_SECRET"],
        &[],
    );
}

#[test]
fn api_forge_example_rotates() {
    example(
        "api-forge",
        &[
            "SESSION_SIGNING_SECRET",
            "SESSION_SIGNING_SECRET_PREVIOUS",
            "CSRF_SIGNING_SECRET",
            "CSRF_SIGNING_SECRET_PREVIOUS",
        ],
        &[(
            "oidc_client_secret",
            "OIDC_CLIENT_SECRET",
            "kc-new-client-secret-0123456789abcdef",
        )],
    );
}

#[test]
fn readme_demo_runs_outside_the_checkout() {
    let examples = repo().join("examples");
    let before = snapshot(&examples);
    let work = tempfile::tempdir().expect("temp dir");
    let out = Command::new("bash")
        .arg(examples.join("demo.sh"))
        .env("ROTOR_BIN", rotor_bin())
        .env("ROTOR_DEMO_DIR", work.path())
        .output()
        .expect("run demo.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("audit chain intact"), "{stdout}");
    assert!(
        stdout.contains("OVERDUE") || stdout.contains("current"),
        "{stdout}"
    );
    let mut leaks = rotor_testkit::LeakScanner::new();
    leaks.learn_env(
        &work.path().join(".env"),
        &["JWT_SECRET", "JWT_SECRET_PREVIOUS", "NEXTAUTH_SECRET"],
    );
    assert!(leaks.known() >= 2);
    leaks.check_text("demo stdout", &stdout);
    leaks.check_text("demo stderr", &stderr);
    leaks.check_dir(&work.path().join(".rotor"));
    assert_eq!(
        before,
        snapshot(&examples),
        "the demo must not change tracked files"
    );
}

/// `demo.sh` runs the binary where cargo built it: under
/// `CARGO_TARGET_DIR` when that is set (it used to look in target/ only and
/// fail with exit 127 after the build), else target/.
#[test]
fn demo_sh_finds_rotor_in_cargo_target_dir() {
    let demo = repo().join("examples").join("demo.sh");
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(dir) = std::env::var_os("CARGO")
        .map(std::path::PathBuf::from)
        .and_then(|c| c.parent().map(Path::to_path_buf))
    {
        let mut p = dir.into_os_string();
        p.push(":");
        p.push(&path);
        path = p;
    }
    let out = Command::new("bash")
        .arg(&demo)
        .arg("--where")
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", elsewhere.path())
        .output()
        .expect("run demo.sh --where");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        elsewhere
            .path()
            .join("debug")
            .join("rotor")
            .display()
            .to_string()
    );
    let out = Command::new("bash")
        .arg(&demo)
        .arg("--where")
        .env("PATH", &path)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .expect("run demo.sh --where");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(shown.ends_with("/debug/rotor"), "{shown}");
    assert_ne!(
        shown,
        elsewhere
            .path()
            .join("debug")
            .join("rotor")
            .display()
            .to_string()
    );
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    rotor_testkit::project::walk(dir, &mut |p| {
        out.push((p.display().to_string(), std::fs::read(p).expect("read")));
    });
    out.sort();
    out
}

/// The GoodGo example against a real PostgreSQL: the first rotation
/// converts the single `goodgo_app` role (privileges stay on it, it becomes
/// NOLOGIN), the second moves to the other role of the pair, and the JWT
/// keys overlap as the runbook asks.
#[test]
fn goodgo_example_rotates_the_database_login_without_downtime() {
    let pg = rotor_testkit::Postgres::start();
    let initial = "placeholder-db-password";
    let verifier = postgres_protocol::password::scram_sha_256(initial.as_bytes());
    pg.sql(&format!(
        "CREATE ROLE goodgo_app LOGIN PASSWORD '{verifier}'; \
         CREATE TABLE bookings(id int); INSERT INTO bookings VALUES (1); \
         GRANT SELECT ON bookings TO goodgo_app;"
    ));
    let dir = repo().join("examples").join("goodgo");
    let inventory = std::fs::read_to_string(dir.join("rotor.toml")).expect("inventory");
    let env = std::fs::read_to_string(dir.join("env.example"))
        .expect("env.example")
        .replace(
            "localhost:5432/goodgo",
            &format!("127.0.0.1:{}/postgres", pg.port()),
        );
    let mut h = Harness::new(&inventory, &[(".env", &env)]);
    h.manage(
        ".env",
        &[
            "JWT_SECRET",
            "JWT_SECRET_PREVIOUS",
            "JWT_REFRESH_SECRET",
            "JWT_REFRESH_SECRET_PREVIOUS",
            "DATABASE_URL",
        ],
    );
    h.leaks.learn(pg.admin_password());
    let admin = pg.admin_url();
    let env = [("ROTOR_PG_ADMIN_URL", admin.as_str())];
    h.rotor_env(&["init"], &env).expect_code(0);
    h.rotor_env(&["plan"], &env)
        .expect_code(0)
        .expect_output("goodgo_app_v2");

    let login = |h: &Harness| {
        let url = h.env_var(".env", "DATABASE_URL").expect("DATABASE_URL");
        let rest = url.split_once("://").expect("URL").1;
        let (userinfo, tail) = rest.rsplit_once('@').expect("userinfo");
        assert!(
            tail.starts_with(&format!("127.0.0.1:{}/postgres?sslmode=disable", pg.port())),
            "only user and password change: {tail}"
        );
        let (u, p) = userinfo.split_once(':').expect("password");
        (u.to_owned(), p.to_owned())
    };
    let can_login = |role: &str| {
        pg.column(&format!(
            "SELECT rolcanlogin::text FROM pg_roles WHERE rolname = '{role}'"
        ))
        .first()
        .cloned()
        .flatten()
            == Some("true".into())
    };

    h.rotor_env(&["rotate", "--all"], &env).expect_code(0);
    let (user, password) = login(&h);
    assert_eq!(user, "goodgo_app_v2");
    pg.login(&user, &password, "SELECT count(*) FROM bookings")
        .expect("goodgo_app_v2 reads what goodgo_app was granted");
    assert!(!can_login("goodgo_app"), "the converted role is NOLOGIN");
    assert!(!pg.can_login("goodgo_app", initial));

    h.rotor_env(&["rotate", "db_app"], &env).expect_code(0);
    let (user, password) = login(&h);
    assert_eq!(user, "goodgo_app_v3");
    pg.login(&user, &password, "SELECT count(*) FROM bookings")
        .expect("goodgo_app_v3 reads the table");
    assert!(!can_login("goodgo_app_v2"), "the retired role is NOLOGIN");

    assert!(h.env_var(".env", "JWT_SECRET_PREVIOUS").is_some());
    // The payment and OAuth secrets the providers hold: the manual flow.
    h.put_manual(
        &env,
        &[
            (
                "vnpay_hash_secret",
                ".env",
                "VNPAY_HASH_SECRET",
                "NEWVNPAYHASHSECRET0123456789abcdef0123",
            ),
            (
                "momo_secret_key",
                ".env",
                "MOMO_SECRET_KEY",
                "NEWMOMOSECRETKEY0123456789abcdefABCDEF",
            ),
            (
                "zalopay_key2",
                ".env",
                "ZALOPAY_KEY2",
                "NEWZALOPAYKEY20123456789abcdefABCDEFGH",
            ),
            (
                "google_client_secret",
                ".env",
                "GOOGLE_CLIENT_SECRET",
                "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3",
            ),
        ],
    );
    h.rotor_env(&["verify"], &env).expect_code(0);
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);
    h.finish();
}

/// Reads a file of an example.
fn example_file(name: &str, file: &str) -> String {
    let path = repo().join("examples").join(name).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Baander example against a real Redis 7 started as its
/// docker-compose file starts it (`--requirepass` on the command line, no
/// config file): APP_SECRET overlaps as a list, and the Redis password
/// moves without a restart of Redis. A connection opened before the
/// rotation keeps working, the old password is refused after it, and the
/// compose file is rendered with the new one, every other byte the
/// template's.
#[test]
fn baander_example_rotates_redis_without_a_restart() {
    let initial = "placeholder-redis-password-000000";
    let redis = rotor_testkit::Redis::start_with_requirepass_on_command_line(initial);
    let at = format!("127.0.0.1:{}", redis.port());
    let inventory = example_file("baander", "rotor.toml")
        .replace("redis://redis:6379", &format!("redis://{at}"));
    let env = example_file("baander", "env.example").replace("@redis:6379", &format!("@{at}"));
    let template = example_file("baander", "docker-compose.yml.tmpl");
    let compose = example_file("baander", "docker-compose.yml");
    assert_eq!(
        compose,
        template.replace("{{current}}", initial),
        "the example's docker-compose.yml is its template rendered with env.example's password"
    );
    let mut h = Harness::new(
        &inventory,
        &[
            (".env", &env),
            ("docker-compose.yml.tmpl", &template),
            ("docker-compose.yml", &compose),
        ],
    );
    h.manage(
        ".env",
        &[
            "APP_SECRET",
            "REDIS_PASSWORD",
            "REDIS_URL",
            "MESSENGER_TRANSPORT_DSN",
        ],
    );
    let mut before = redis
        .session("default", initial)
        .expect("a consumer logged in before the rotation");
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["plan"])
        .expect_code(0)
        .expect_output("ACL SETUSER default")
        .expect_output("wait 2s (retire_delay)");
    h.rotor(&["rotate", "--all"])
        .expect_code(0)
        .expect_output("NOT persisted");

    let new = h.env_var(".env", "REDIS_PASSWORD").expect("REDIS_PASSWORD");
    assert_ne!(new, initial);
    assert!(redis.password_ok(&new), "the new password logs in");
    assert!(!redis.password_ok(initial), "the old one is refused");
    assert_eq!(
        before.call(&["PING"]).as_deref(),
        Ok("PONG"),
        "a connection opened before the rotation still works"
    );
    for var in ["REDIS_URL", "MESSENGER_TRANSPORT_DSN"] {
        let url = h.env_var(".env", var).expect("URL");
        assert!(
            url.starts_with(&format!("redis://default:{new}@{at}")),
            "{var}: only the password changed"
        );
    }
    assert_eq!(
        h.project.read_string("docker-compose.yml"),
        template.replace("{{current}}", &new),
        "the compose file is the template with the new password"
    );
    let app_secret = h.env_var(".env", "APP_SECRET").expect("APP_SECRET");
    let (newest, older) = app_secret.split_once(',').expect("a list of two");
    assert_eq!(
        older,
        "placeholder-app-secret-0000000000000000000000000000000000000000"
    );
    assert_eq!(newest.len(), 64, "32 random bytes in hex");

    h.rotor(&["verify"]).expect_code(0);
    h.rotor(&["rotate", "redis"]).expect_code(0);
    let newer = h.env_var(".env", "REDIS_PASSWORD").expect("REDIS_PASSWORD");
    assert!(redis.password_ok(&newer) && !redis.password_ok(&new));
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

/// The Breeze example against a real Redis 7 with `requirepass` in its
/// config file, as the page sets it up: the password is cut over (old
/// refused at once) and persisted with CONFIG REWRITE, REDIS_URL keeps its
/// empty user, and the metrics token reaches its own file.
#[test]
fn breeze_example_cuts_the_requirepass_over_and_turns_the_provider_keys() {
    let initial = "placeholder-redis-password-000000";
    let mut redis = rotor_testkit::Redis::start_with_requirepass(initial);
    // The providers: stand-ins shaped like their APIs, seeded with the
    // example's placeholder values.
    use rotor_testkit::standin::{plugins_dir, Standin};
    let admin = "breeze-standin-admin-key-0a1b2c3d";
    let s3 = Standin::start(
        "s3",
        &[
            "--admin-key",
            admin,
            "--seed-user",
            "AKIAPLACEHOLDER00001",
            "--seed-key",
            "placeholder-s3-secret-key-0000000000000000",
        ],
    );
    let cloudflare = Standin::start(
        "cloudflare",
        &[
            "--admin-key",
            admin,
            "--seed-key",
            "placeholder-cloudflare-token-00000000000000",
        ],
    );
    let sid = "AC00000000000000000000000000000000";
    let twilio = Standin::start(
        "twilio",
        &[
            "--admin-key",
            admin,
            "--seed-key",
            "placeholdertwilioauthtoken000001",
            "--account-sid",
            sid,
        ],
    );
    let inventory = example_file("breeze", "rotor.toml")
        .replace(
            "redis://127.0.0.1:6379",
            &format!("redis://127.0.0.1:{}", redis.port()),
        )
        .replace("\"../plugins/", &format!("\"{}/", plugins_dir().display()))
        .replace("http://127.0.0.1:9000", &s3.url())
        .replace("https://api.cloudflare.com", &cloudflare.url())
        .replace("REPLACE-WITH-THE-TOKEN-ID", "tok_1")
        .replace("https://api.twilio.com", &twilio.url());
    let admin_env = [("S3_ADMIN_KEY", admin), ("CLOUDFLARE_ADMIN_TOKEN", admin)];
    let env = example_file("breeze", "env.example")
        .replace("@localhost:6379", &format!("@localhost:{}", redis.port()));
    let template = example_file("breeze", "monitoring/metrics_scrape_token.tmpl");
    let token_file = "monitoring/secrets/metrics_scrape_token";
    let mut h = Harness::new(
        &inventory,
        &[
            (".env.prod", &env),
            ("monitoring/metrics_scrape_token.tmpl", &template),
            (token_file, &example_file("breeze", token_file)),
        ],
    );
    h.manage(
        ".env.prod",
        &[
            "REDIS_URL",
            "AGENT_ENROLLMENT_SECRET",
            "METRICS_SCRAPE_TOKEN",
            "S3_SECRET_KEY",
            "CLOUDFLARE_API_TOKEN",
            "TWILIO_AUTH_TOKEN",
            "RESEND_API_KEY",
            "ANTHROPIC_API_KEY",
        ],
    );
    h.leaks.learn(admin);
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["plan"])
        .expect_code(0)
        .expect_output("Impact: the old password stops working at once");
    h.rotor_env(&["rotate", "--all"], &admin_env).expect_code(0);

    // The three plugin-rotated credentials: the new one works at the
    // provider, alone.
    for (standin, var) in [
        (&s3, "S3_SECRET_KEY"),
        (&cloudflare, "CLOUDFLARE_API_TOKEN"),
        (&twilio, "TWILIO_AUTH_TOKEN"),
    ] {
        let value = h.env_var(".env.prod", var).expect(var);
        assert!(standin.works(&value), "{var} does not work at its provider");
        assert_eq!(standin.working().len(), 1, "{var}: {}", standin.state());
    }
    assert_ne!(
        h.env_var(".env.prod", "S3_ACCESS_KEY").as_deref(),
        Some("AKIAPLACEHOLDER00001"),
        "the new access key id was delivered with its secret"
    );
    // The two console-issued keys: the manual flow.
    h.put_manual(
        &admin_env,
        &[
            (
                "resend_api_key",
                ".env.prod",
                "RESEND_API_KEY",
                "re_NewResendKey0123456789abcdef",
            ),
            (
                "anthropic_api_key",
                ".env.prod",
                "ANTHROPIC_API_KEY",
                "sk-ant-api03-NewAnthropicKey0123456789abcdefABCDEF",
            ),
        ],
    );

    let url = h.env_var(".env.prod", "REDIS_URL").expect("REDIS_URL");
    let rest = url.strip_prefix("redis://:").expect("the user stays empty");
    let (new, host) = rest.split_once('@').expect("password");
    assert_eq!(host, format!("localhost:{}", redis.port()));
    assert!(redis.password_ok(new) && !redis.password_ok(initial));
    let token = h
        .env_var(".env.prod", "METRICS_SCRAPE_TOKEN")
        .expect("METRICS_SCRAPE_TOKEN");
    assert_eq!(h.project.read_string(token_file), format!("{token}\n"));
    assert_eq!(h.project.mode(token_file), 0o600);

    // Persisted: a restart keeps the new password.
    redis.stop();
    redis.start_again();
    assert!(redis.password_ok(new) && !redis.password_ok(initial));
    h.rotor_env(&["verify"], &admin_env).expect_code(0);
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

/// The example's inventory with its commented-out blocks (`# [secret.hooks]`,
/// `# [[secret.target]]` and the `# key = value` lines right under them)
/// uncommented in place, and how many blocks that was.
fn uncommented(text: &str) -> (String, usize) {
    let mut out = String::new();
    let mut blocks = 0;
    let mut inside = false;
    for line in text.lines() {
        let body = line.strip_prefix("# ");
        let header = body.is_some_and(|b| b == "[secret.hooks]" || b == "[[secret.target]]");
        let entry = body.is_some_and(|b| {
            b.split_once(" = ").is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        });
        if header {
            blocks += 1;
            inside = true;
        } else if !entry {
            inside = false;
        }
        match body {
            Some(b) if inside => out.push_str(b),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    (out, blocks)
}

/// Every example's commented-out hooks and targets (what an operator
/// uncomments for production) parse as they stand: Breeze's restart hook
/// was written `restart = { command = [...] }`, which the loader refuses.
#[test]
fn commented_examples_in_the_inventories_parse() {
    let mut blocks = 0;
    let mut hooks = 0;
    for name in ["api-forge", "baander", "breeze", "goodgo", "nis2"] {
        let path = repo().join("examples").join(name).join("rotor.toml");
        let (text, n) = uncommented(&example_file(name, "rotor.toml"));
        blocks += n;
        let inv = rotor::inventory::parse(&text, &path)
            .unwrap_or_else(|e| panic!("{name}'s commented blocks, uncommented:\n{e}"));
        hooks += inv
            .secrets
            .iter()
            .filter(|s| s.hooks.restart.is_some())
            .count();
    }
    assert!(
        blocks >= 5,
        "the examples' commented blocks were found: {blocks}"
    );
    assert!(
        hooks >= 4,
        "the uncommented restart hooks were loaded: {hooks}"
    );
    let (breeze, _) = uncommented(&example_file("breeze", "rotor.toml"));
    let path = repo().join("examples").join("breeze").join("rotor.toml");
    let inv = rotor::inventory::parse(&breeze, &path).expect("breeze");
    let redis = inv.secret("redis").expect("redis");
    assert_eq!(
        redis.hooks.restart.as_ref().map(|c| c.argv[0].as_str()),
        Some("docker")
    );
}

/// GoodGo behind PgBouncer (the example's commented pgbouncer target,
/// uncommented), against a real PostgreSQL and PgBouncer: the first
/// rotation converts the single `goodgo_app` role, whose line is already in
/// the auth_file, and the userlist carries the conversion (the new login's
/// line added, goodgo_app's kept for its draining clients) instead of
/// refusing goodgo_app as a line it does not manage. Then the pair takes
/// turns through PgBouncer.
#[test]
fn goodgo_conversion_carries_the_pgbouncer_userlist() {
    const USERLIST: &str = "pgbouncer/userlist.txt";
    const CONSOLE: &str = "console-password-8e3b1d7a60";
    let initial = "placeholder-db-password";
    let pg = rotor_testkit::Postgres::start();
    let verifier = postgres_protocol::password::scram_sha_256(initial.as_bytes());
    pg.sql(&format!(
        "CREATE ROLE goodgo_app LOGIN PASSWORD '{verifier}'; \
         CREATE TABLE bookings(id int); INSERT INTO bookings VALUES (1); \
         GRANT SELECT ON bookings TO goodgo_app;"
    ));
    let (full, _) = uncommented(&example_file("goodgo", "rotor.toml"));
    // Only the pgbouncer target: the kubectl hooks need a cluster.
    let inventory = full
        .split("\n[secret.hooks]")
        .next()
        .expect("inventory")
        .to_owned();
    assert!(inventory.contains("kind = \"pgbouncer\""), "{inventory}");
    let userlist = format!(
        ";; PgBouncer's users\n\"{}\" \"{CONSOLE}\"\n\"goodgo_app\" \"{initial}\"\n",
        rotor_testkit::pgbouncer::ADMIN_USER
    );
    let mut h = Harness::new(&inventory, &[(USERLIST, &userlist), (".env", "")]);
    let auth_file = h.project.join(USERLIST);
    rotor_testkit::PgBouncer::share(&auth_file);
    let pgb = rotor_testkit::PgBouncer::start(pg.port(), &auth_file);
    let env = example_file("goodgo", "env.example").replace(
        "localhost:5432/goodgo",
        &format!("127.0.0.1:{}/postgres", pgb.port()),
    );
    h.project.write(".env", env);
    h.manage(
        ".env",
        &[
            "JWT_SECRET",
            "JWT_SECRET_PREVIOUS",
            "JWT_REFRESH_SECRET",
            "JWT_REFRESH_SECRET_PREVIOUS",
            "DATABASE_URL",
        ],
    );
    h.leaks.learn(pg.admin_password());
    h.leaks.learn(CONSOLE);
    pgb.login("goodgo_app", initial, "SELECT count(*) FROM bookings")
        .expect("goodgo_app through pgbouncer before the rotation");
    let admin = pg.admin_url();
    let console = pgb.admin_url(CONSOLE);
    let vars = [
        ("ROTOR_PG_ADMIN_URL", admin.as_str()),
        ("ROTOR_PGBOUNCER_URL", console.as_str()),
    ];
    let login = |h: &Harness| {
        let url = h.env_var(".env", "DATABASE_URL").expect("DATABASE_URL");
        let rest = url.split_once("://").expect("URL").1;
        let userinfo = rest.rsplit_once('@').expect("userinfo").0;
        let (u, p) = userinfo.split_once(':').expect("password");
        (u.to_owned(), p.to_owned())
    };
    let line = |h: &Harness, user: &str| {
        let prefix = format!("\"{user}\" \"");
        h.project.read_string(USERLIST).lines().find_map(|l| {
            l.strip_prefix(&prefix)
                .map(|r| r.trim_end_matches('"').to_owned())
        })
    };
    h.rotor_env(&["init"], &vars).expect_code(0);
    h.rotor_env(&["plan", "db_app"], &vars)
        .expect_code(0)
        .expect_output("RELOAD via $ROTOR_PGBOUNCER_URL");

    h.rotor_env(&["rotate", "db_app"], &vars).expect_code(0);
    let (user, password) = login(&h);
    assert_eq!(user, "goodgo_app_v2");
    h.leaks.learn(&password);
    assert_eq!(
        line(&h, "goodgo_app_v2").as_deref(),
        Some(password.as_str())
    );
    assert_eq!(
        line(&h, "goodgo_app").as_deref(),
        Some(initial),
        "the converted role's line stays as it was"
    );
    let text = h.project.read_string(USERLIST);
    assert!(text.starts_with(&userlist), "other lines changed:\n{text}");
    assert_eq!(h.project.mode(USERLIST), 0o640);
    pgb.login(&user, &password, "SELECT count(*) FROM bookings")
        .unwrap_or_else(|e| panic!("goodgo_app_v2 through pgbouncer (RELOADed): {e}"));
    assert!(
        !pg.can_login("goodgo_app", initial),
        "goodgo_app is retired"
    );

    h.rotor_env(&["rotate", "db_app"], &vars).expect_code(0);
    let (user2, password2) = login(&h);
    assert_eq!(user2, "goodgo_app_v3");
    h.leaks.learn(&password2);
    pgb.login(&user2, &password2, "SELECT count(*) FROM bookings")
        .unwrap_or_else(|e| panic!("goodgo_app_v3 through pgbouncer: {e}"));
    h.rotor_env(&["verify", "db_app"], &vars)
        .expect_code(0)
        .expect_output("no drift");
    h.rotor_env(&["audit", "verify"], &vars).expect_code(0);
    h.finish();
}
