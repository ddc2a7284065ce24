//! `strategy = cutover` with the Redis authority (legacy `requirepass`, as
//! Breeze runs it), through the real `rotor` binary against a real
//! throwaway primary and replica (Redis 7, the replica logging in with
//! `masterauth`), without an admin: rotor logs in with the password it
//! replaces. `.env` holds `REDIS_URL=redis://:OLD@…` (empty user) and
//! `REDIS_PASSWORD=OLD`. The plan states the impact; the rotation changes
//! both nodes and both variables (the URL keeps its empty user);
//! replication goes on; `verify` is clean; the audit trail holds
//! fingerprints only; a node that is down fails the rotation before
//! anything changes; a crash between the two nodes is finished by `rotor
//! resume` or taken back by `rotor rollback`; a server without a config
//! file is warned about.

mod common;

use common::Harness;
use rotor::secret::SecretValue;
use rotor_testkit::inventory::{self, Secret};
use rotor_testkit::Redis;

const OLD: &str = "breeze-old-requirepass-8e41c2";

/// `cache`: the `requirepass` of `nodes`, cut over with no admin, in
/// `REDIS_URL` (the password inside the URL) and `REDIS_PASSWORD`.
fn inventory(nodes: &[&Redis]) -> String {
    let nodes: Vec<String> = nodes
        .iter()
        .map(|r| format!("redis://127.0.0.1:{}", r.port()))
        .collect();
    let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
    inventory::inventory(&[Secret::new("cache")
        .key("owner", "platform")
        .key("description", "Redis requirepass (default user)")
        .password_of(32)
        .cutover()
        .dotenv_url(".env", "REDIS_URL")
        .dotenv(".env", "REDIS_PASSWORD")
        .redis(&[], &nodes)])
}

fn env_file(primary: &Redis) -> String {
    format!(
        "APP_ENV=production\nREDIS_URL=redis://:{OLD}@127.0.0.1:{}\nREDIS_PASSWORD={OLD}\nOTHER=kept\n",
        primary.port()
    )
}

fn project(primary: &Redis, nodes: &[&Redis]) -> Harness {
    let mut h = Harness::new(&inventory(nodes), &[(".env", &env_file(primary))]);
    h.manage(".env", &["REDIS_URL", "REDIS_PASSWORD"]);
    h.leaks.learn(OLD);
    h.rotor(&["init"]).expect_code(0);
    h
}

/// `REDIS_PASSWORD`, after checking that `REDIS_URL` holds the same password
/// with its empty user and its host and port kept.
fn password(h: &Harness, primary: &Redis) -> String {
    let pw = h.env_var(".env", "REDIS_PASSWORD").expect("REDIS_PASSWORD");
    let url = h.env_var(".env", "REDIS_URL").expect("REDIS_URL");
    assert_eq!(
        url,
        format!("redis://:{pw}@127.0.0.1:{}", primary.port()),
        "the URL keeps its empty user, host and port"
    );
    pw
}

/// Writes on the primary, waits until the replica has it, reads it there.
fn replicates(primary: &Redis, replica: &Redis, key: &str) {
    let replies = primary
        .cmds(&[&["SET", key, "yes"], &["WAIT", "1", "5000"]])
        .expect("write on the primary");
    assert_eq!(replies[1].as_deref(), Ok("1"), "{}", replica.log_contents());
    assert_eq!(replica.cmd(&["GET", key]).as_deref(), Ok("yes"));
}

fn fingerprint(value: &str) -> String {
    SecretValue::new(value.to_owned()).fingerprint().to_string()
}

#[test]
fn cutover_changes_requirepass_on_primary_and_replica_and_both_variables() {
    let mut primary = Redis::start_with_requirepass(OLD);
    let mut replica = Redis::start_replica_of(&primary);
    let mut h = project(&primary, &[&primary, &replica]);

    h.rotor(&["plan", "cache"])
        .expect_code(0)
        .expect_output("requirepass (the default user's password) becomes NEW on each of its 2 nodes, primary first, logging in with the old password")
        .expect_output("Impact: the old password stops working at once")
        // requirepass names no user: the URL's (empty) user stays.
        .expect_output("REDIS_URL = its URL with the password (NEW) replaced");

    let run = h.rotor(&["rotate", "cache"]);
    run.expect_code(0);
    assert!(
        !run.stderr.contains("NOT persisted"),
        "both nodes have a config file:\n{}",
        run.stderr
    );
    let new = password(&h, &primary);
    assert_ne!(new, OLD);
    for r in [&primary, &replica] {
        assert!(r.password_ok(&new), "the new password works on every node");
        assert!(!r.password_ok(OLD), "the old one is refused on every node");
    }
    assert_eq!(h.env_var(".env", "OTHER").as_deref(), Some("kept"));
    primary.set_password(&new);
    replica.set_password(&new);
    replicates(&primary, &replica, "after-rotate");

    h.rotor(&["verify"])
        .expect_code(0)
        .expect_output("no drift");
    h.rotor(&["status"]).expect_code(0);

    // A second rotation logs in with the store's value.
    h.rotor(&["rotate", "cache"]).expect_code(0);
    let newer = password(&h, &primary);
    for r in [&primary, &replica] {
        assert!(r.password_ok(&newer));
        assert!(!r.password_ok(&new));
    }
    primary.set_password(&newer);
    replica.set_password(&newer);
    // The replica restarts and syncs again with the new masterauth.
    replica.stop();
    replica.start_again();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !replica
        .cmd(&["INFO", "replication"])
        .unwrap_or_default()
        .contains("master_link_status:up")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            replica.log_contents()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    replicates(&primary, &replica, "after-second-rotate");
    h.rotor(&["verify"]).expect_code(0);

    // The audit trail names versions by fingerprint (the scanner checks
    // every table for the values themselves), and verifies.
    let history = h.rotor(&["history", "cache", "--json"]);
    history
        .expect_code(0)
        .expect_output("persisted with CONFIG REWRITE");
    for v in [&new, &newer] {
        history.expect_output(&fingerprint(v));
    }
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn a_node_that_is_down_fails_the_rotation_and_changes_nothing() {
    let primary = Redis::start_with_requirepass(OLD);
    let mut replica = Redis::start_replica_of(&primary);
    let mut h = project(&primary, &[&primary, &replica]);
    replica.stop();
    let run = h.rotor(&["rotate", "cache"]);
    run.expect_code(1)
        .expect_output(&replica.port().to_string());
    assert_eq!(h.env_var(".env", "REDIS_PASSWORD").as_deref(), Some(OLD));
    assert!(primary.password_ok(OLD), "nothing changed on the primary");

    // Once the replica is back, the rotation goes through.
    replica.start_again();
    h.rotor(&["rotate", "cache"]).expect_code(0);
    let new = password(&h, &primary);
    assert!(primary.password_ok(&new));
    assert!(replica.password_ok(&new));
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn a_server_without_a_config_file_is_rotated_with_a_warning() {
    // Baander: `redis-server --requirepass …` from docker-compose.
    let server = Redis::start_with_requirepass_on_command_line(OLD);
    let mut h = project(&server, &[&server]);
    let run = h.rotor(&["rotate", "cache"]);
    run.expect_code(0)
        .expect_output("NOT persisted")
        .expect_output("without a config file");
    let new = password(&h, &server);
    assert!(server.password_ok(&new));
    assert!(!server.password_ok(OLD));
    // The audit trail says so too.
    h.rotor(&["history", "cache"])
        .expect_code(0)
        .expect_output("NOT persisted");
    h.finish();
}

/// `rotor rotate` killed (abort, like `kill -9`) after the primary got the
/// new password and before the replica did.
fn crash_between_nodes(h: &mut Harness) {
    let run = h.rotor_env(&["rotate", "cache"], &[("ROTOR_FAULT", "mid:apply-nodes")]);
    assert_ne!(run.code, 0, "the fault point aborts rotor");
    run.expect_output("fault injected at mid:apply-nodes");
}

#[test]
fn a_crash_between_the_nodes_is_resumed_or_rolled_back() {
    let mut primary = Redis::start_with_requirepass(OLD);
    let mut replica = Redis::start_replica_of(&primary);
    let mut h = project(&primary, &[&primary, &replica]);

    // Resume: the primary already has the new password (the store has
    // it, sealed); the replica gets it, then the files.
    crash_between_nodes(&mut h);
    assert!(!primary.password_ok(OLD), "the primary changed first");
    assert!(replica.password_ok(OLD), "the replica not yet");
    assert_eq!(h.env_var(".env", "REDIS_PASSWORD").as_deref(), Some(OLD));
    h.rotor(&["resume"]).expect_code(0);
    let new = password(&h, &primary);
    for r in [&primary, &replica] {
        assert!(r.password_ok(&new));
        assert!(!r.password_ok(OLD));
    }
    primary.set_password(&new);
    replica.set_password(&new);
    replicates(&primary, &replica, "after-resume");

    // Rollback: the primary gets the old (here: the current) password
    // back, the replica never changed.
    crash_between_nodes(&mut h);
    assert!(!primary.password_ok(&new));
    assert!(replica.password_ok(&new));
    h.rotor(&["rollback", "cache"]).expect_code(0);
    for r in [&primary, &replica] {
        assert!(
            r.password_ok(&new),
            "the password before the run works again"
        );
    }
    assert_eq!(password(&h, &primary), new);
    h.rotor(&["verify"]).expect_code(0);
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}
