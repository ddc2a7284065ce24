//! The Redis `cutover` authority for legacy `requirepass` against real
//! throwaway `redis-server` processes (rotor-testkit's `Redis`): a primary
//! and a replica logging in with `masterauth`. The conformance suite; new
//! accepted and old refused on every node; replication still working, also
//! after the replica restarts; persisted across a restart (CONFIG REWRITE,
//! only the hash in the file); a node that is down and one that fails
//! midway (the others put back); no admin (logs in with the old password),
//! an admin; a server without a password yet; a server without the ACL
//! command; a server without a config file; open connections stay open;
//! no plaintext in errors or the slowlog.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rotor::authority::redis::{AdminLogin, RedisRequirepass};
use rotor::authority::{Acceptance, Authority, Credential};
use rotor::secret::SecretValue;
use rotor_testkit::leaks::assert_quotes_nothing;
use rotor_testkit::Redis;
use secrecy::SecretString;

/// The old value the conformance suite starts from.
const CONFORMANCE_OLD: &str = "conformance-old-value-0123456789";
const OLD: &str = "old-requirepass-5c2e8a17";
const NEW: &str = "new-requirepass-9d04b6f3";

fn node(r: &Redis) -> String {
    format!("redis://127.0.0.1:{}", r.port())
}

fn authority(nodes: &[&Redis]) -> RedisRequirepass {
    RedisRequirepass::new(None, nodes.iter().map(|r| node(r)).collect()).expect("valid authority")
}

fn cred(v: &SecretValue) -> Credential<'_> {
    Credential::new(None, v)
}

fn values() -> (SecretValue, SecretValue) {
    (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()))
}

/// Writes on the primary, waits until the replica has it, reads it there.
fn replicates(primary: &Redis, replica: &Redis, key: &str) {
    let replies = primary
        .cmds(&[&["SET", key, "yes"], &["WAIT", "1", "5000"]])
        .expect("write on the primary");
    assert_eq!(replies[0].as_deref(), Ok("OK"));
    assert_eq!(
        replies[1].as_deref(),
        Ok("1"),
        "the replica did not acknowledge:\n{}",
        replica.log_contents()
    );
    assert_eq!(replica.cmd(&["GET", key]).as_deref(), Ok("yes"));
}

/// Waits (at most 15 s) until the replica's link to its primary is up.
fn link_up(replica: &Redis) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let info = replica.cmd(&["INFO", "replication"]).unwrap_or_default();
        if info.lines().any(|l| l.trim() == "master_link_status:up") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the replica's link did not come up:\n{info}\n{}",
            replica.log_contents()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A raw connection logged in with `AUTH <password>`, kept open.
fn open_connection(r: &Redis, password: &str) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", r.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut con = BufReader::new(stream);
    assert_eq!(call(&mut con, &["AUTH", password]), "+OK");
    con
}

/// One command on a raw connection; the first line of its reply.
fn call(con: &mut BufReader<TcpStream>, args: &[&str]) -> String {
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    con.get_mut().write_all(req.as_bytes()).expect("send");
    let mut line = String::new();
    con.read_line(&mut line).expect("reply");
    line.trim_end().to_owned()
}

#[test]
fn passes_the_authority_conformance_suite_on_primary_and_replica() {
    let primary = Redis::start_with_requirepass(CONFORMANCE_OLD);
    let replica = Redis::start_replica_of(&primary);
    let auth = authority(&[&primary, &replica]);
    let checks = rotor_testkit::conformance::authority_suite(&auth, None, None);
    assert_eq!(checks, 9);
}

#[test]
fn apply_changes_every_node_replication_goes_on_and_a_restart_keeps_it() {
    let mut primary = Redis::start_with_requirepass(OLD);
    let mut replica = Redis::start_replica_of(&primary);
    primary
        .cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"])
        .expect("slowlog everything");
    // Connections opened before the change (a consumer, the replica's link).
    let mut consumer = open_connection(&primary, OLD);
    let auth = authority(&[&replica, &primary]); // replica listed first
    let (old, new) = values();

    assert_eq!(
        auth.verify(cred(&old)).expect("verify"),
        Acceptance::Accepted
    );
    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    for r in [&primary, &replica] {
        assert!(r.password_ok(NEW), "new works on every node");
        assert!(!r.password_ok(OLD), "old is refused on every node");
    }
    assert_eq!(
        auth.verify(cred(&new)).expect("verify"),
        Acceptance::Accepted
    );
    assert_eq!(
        auth.verify(cred(&old)).expect("verify"),
        Acceptance::Refused
    );
    auth.retire(cred(&old), cred(&new))
        .expect("retire: nothing to do");
    // The audit learns how each node persisted.
    let notes = auth.notes().join("; ");
    assert!(notes.contains("persisted with CONFIG REWRITE"), "{notes}");
    assert!(
        notes.contains(&node(&replica)) && notes.contains(&node(&primary)),
        "{notes}"
    );

    // Connections authenticated before stay open and keep working.
    assert_eq!(call(&mut consumer, &["PING"]), "+PONG");
    assert_eq!(
        call(&mut consumer, &["SET", "by-old-connection", "1"]),
        "+OK"
    );

    primary.set_password(NEW);
    replica.set_password(NEW);
    // The replica's link stayed up and replicates.
    replicates(&primary, &replica, "after-apply");

    // Persisted with CONFIG REWRITE: only the hash, no requirepass line
    // with either plaintext; the replica's masterauth is the new one.
    let conf = std::fs::read_to_string(primary.config_path()).expect("read");
    assert!(!conf.contains(OLD) && !conf.contains(NEW), "{conf}");
    assert!(!conf.contains("requirepass"), "{conf}");
    assert!(conf.contains("user default on #"), "{conf}");
    let rconf = std::fs::read_to_string(replica.config_path()).expect("read");
    assert!(rconf.contains(&format!("masterauth \"{NEW}\"")), "{rconf}");
    assert!(!rconf.contains(OLD), "{rconf}");

    // The replica restarts and syncs again with the new masterauth.
    replica.stop();
    replica.start_again();
    link_up(&replica);
    replicates(&primary, &replica, "after-replica-restart");
    // Both restart: the new password is the one that works.
    primary.stop();
    primary.start_again();
    for r in [&primary, &replica] {
        assert!(r.password_ok(NEW), "new survives a restart");
        assert!(!r.password_ok(OLD));
    }
    link_up(&replica);
    replicates(&primary, &replica, "after-primary-restart");

    // Neither the slowlog nor the server sees the plaintext of the
    // requirepass change (only the hash went); AUTH is redacted.
    let slowlog = replica.cmd(&["SLOWLOG", "GET", "1000"]).expect("slowlog");
    let slowlog_primary = primary.cmd(&["SLOWLOG", "GET", "1000"]).expect("slowlog");
    for log in [slowlog, slowlog_primary] {
        assert!(!log.contains(NEW) && !log.contains(OLD), "{log}");
    }
}

#[test]
fn applying_again_and_undo_are_idempotent_and_undo_restores_everything() {
    let primary = Redis::start_with_requirepass(OLD);
    let mut replica = Redis::start_replica_of(&primary);
    let auth = authority(&[&primary, &replica]);
    let (old, new) = values();
    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    // Old refused, new works: the step was already done.
    auth.apply(cred(&new), Some(cred(&old)))
        .expect("apply again");
    auth.undo(cred(&new), Some(cred(&old))).expect("undo");
    auth.undo(cred(&new), Some(cred(&old))).expect("undo again");
    for r in [&primary, &replica] {
        assert!(r.password_ok(OLD));
        assert!(!r.password_ok(NEW));
    }
    let rconf = std::fs::read_to_string(replica.config_path()).expect("read");
    assert!(rconf.contains(&format!("masterauth \"{OLD}\"")), "{rconf}");
    replica.stop();
    replica.start_again();
    link_up(&replica);
    replicates(&primary, &replica, "after-undo");
}

#[test]
fn a_node_that_is_down_fails_apply_before_anything_changes() {
    let primary = Redis::start_with_requirepass(OLD);
    let mut other = Redis::start_with_requirepass(OLD);
    other.stop();
    let auth = authority(&[&primary, &other]);
    let (old, new) = values();
    let err = auth
        .apply(cred(&new), Some(cred(&old)))
        .expect_err("a node is down");
    assert!(err.changed_nothing(), "{err:?}");
    assert!(err.to_string().contains(&other.port().to_string()), "{err}");
    assert_quotes_nothing(&err, &[OLD, NEW]);
    assert!(primary.password_ok(OLD), "nothing changed");
    assert!(!primary.password_ok(NEW));
}

#[test]
fn a_node_that_fails_midway_is_put_back_with_the_others() {
    let primary = Redis::start_with_requirepass(OLD);
    let replica = Redis::start_replica_of(&primary);
    // The replica's CONFIG REWRITE fails (its config file became a
    // directory: the tests run as root, whom file modes do not stop), after
    // the primary and the replica itself were changed in memory.
    let conf = replica.config_path();
    let saved = std::fs::read(&conf).expect("read");
    std::fs::remove_file(&conf).expect("remove");
    std::fs::create_dir(&conf).expect("mkdir");
    std::fs::write(conf.join("keep"), b"").expect("make it non-empty");

    let auth = authority(&[&primary, &replica]);
    let (old, new) = values();
    let err = auth
        .apply(cred(&new), Some(cred(&old)))
        .expect_err("CONFIG REWRITE fails on the replica");
    let shown = err.to_string();
    assert!(!err.changed_nothing(), "{err:?}");
    assert!(shown.contains("CONFIG REWRITE"), "{shown}");
    assert!(shown.contains(&replica.port().to_string()), "{shown}");
    // The replica's file still cannot be written while it is put back, and
    // the error says so (the file kept the old password all along).
    assert!(shown.contains("back to the old password"), "{shown}");
    assert_quotes_nothing(&err, &[OLD, NEW]);
    for r in [&primary, &replica] {
        assert!(r.password_ok(OLD), "the old password works again");
        assert!(!r.password_ok(NEW), "the new one was taken back");
    }
    // The primary's file holds the old password (as a hash) again.
    std::fs::remove_dir_all(&conf).expect("rmdir");
    std::fs::write(&conf, saved).expect("restore");
    replicates(&primary, &replica, "after-put-back");
}

#[test]
fn a_node_that_refuses_the_change_midway_leaves_the_others_put_back() {
    // Two servers managed as an admin ACL user; on the second one the admin
    // may read the config but not set it: it passes the checks and refuses
    // the transaction (NOPERM while queueing, so nothing ran there).
    let first = Redis::start_with_requirepass(OLD);
    let second = Redis::start_with_requirepass(OLD);
    let admin_pw = "requirepass-admin-2b7d91";
    for (r, rules) in [(&first, "+@all"), (&second, "-config|set")] {
        r.cmd(&[
            "ACL",
            "SETUSER",
            "rotor_admin",
            "on",
            &format!(">{admin_pw}"),
            "~*",
            "&*",
            "+@all",
            rules,
        ])
        .expect("admin user");
    }
    let admin = AdminLogin::from_url(&SecretString::from(format!(
        "redis://rotor_admin:{admin_pw}@127.0.0.1:{}",
        first.port()
    )))
    .expect("admin URL");
    let auth =
        RedisRequirepass::new(Some(admin), vec![node(&first), node(&second)]).expect("valid");
    let (old, new) = values();
    let err = auth
        .apply(cred(&new), Some(cred(&old)))
        .expect_err("the second node refuses CONFIG SET");
    let shown = err.to_string();
    assert!(!err.changed_nothing(), "{err:?}");
    assert!(shown.contains(&second.port().to_string()), "{shown}");
    assert!(shown.contains("config|set"), "{shown}");
    assert!(
        shown.contains(&format!("({}) were put back", node(&first))),
        "{shown}"
    );
    assert_quotes_nothing(&err, &[OLD, NEW, admin_pw]);
    for r in [&first, &second] {
        assert!(r.password_ok(OLD), "the old password works");
        assert!(!r.password_ok(NEW));
    }
}

#[test]
fn without_a_password_yet_the_first_rotation_sets_one_and_undo_removes_it() {
    let mut primary = Redis::start_without_password();
    let replica = Redis::start_replica_of(&primary);
    let auth = authority(&[&primary, &replica]);
    let new = SecretValue::new(NEW.into());
    let none = SecretValue::new(String::new());

    assert_eq!(
        auth.verify(cred(&new)).expect("verify"),
        Acceptance::Refused
    );
    auth.apply(cred(&new), None).expect("apply sets a password");
    for r in [&primary, &replica] {
        assert!(r.password_ok(NEW));
        assert!(!r.open_without_password());
    }
    primary.set_password(NEW);
    let mut replica = replica;
    replica.set_password(NEW);
    replicates(&primary, &replica, "first-password");

    // Undo with no old password (or an empty one) takes them back to none.
    auth.undo(cred(&new), Some(cred(&none))).expect("undo");
    auth.undo(cred(&new), None).expect("undo again");
    for r in [&primary, &replica] {
        assert!(r.open_without_password());
    }
    primary.set_password("");
    replica.set_password("");
    replicates(&primary, &replica, "no-password-again");

    // Without an old password, a server that has one is not ours to change.
    let guarded = Redis::start_with_requirepass(OLD);
    let err = authority(&[&guarded])
        .apply(cred(&new), None)
        .expect_err("the targets hold no password but the server has one");
    assert!(err.changed_nothing(), "{err:?}");
    assert!(guarded.password_ok(OLD));
}

#[test]
fn without_an_admin_a_server_that_refuses_both_passwords_is_named() {
    let r = Redis::start_with_requirepass("changed-by-hand-41ab");
    let (old, new) = values();
    let err = authority(&[&r])
        .apply(cred(&new), Some(cred(&old)))
        .expect_err("neither password works");
    assert!(err.changed_nothing(), "{err:?}");
    assert!(err.to_string().contains("--adopt"), "{err}");
    assert_quotes_nothing(&err, &[OLD, NEW, "changed-by-hand-41ab"]);
    assert!(r.password_ok("changed-by-hand-41ab"));
}

#[test]
fn with_an_admin_the_admin_logs_in() {
    // A Redis 7 whose default user has requirepass and an admin ACL user
    // (CONFIG REWRITE keeps both).
    let r = Redis::start_with_requirepass(OLD);
    let admin_pw = "requirepass-admin-7f1e0c";
    r.cmd(&[
        "ACL",
        "SETUSER",
        "rotor_admin",
        "on",
        &format!(">{admin_pw}"),
        "~*",
        "&*",
        "+@all",
    ])
    .expect("admin user");
    let admin = AdminLogin::from_url(&SecretString::from(format!(
        "redis://rotor_admin:{admin_pw}@127.0.0.1:{}",
        r.port()
    )))
    .expect("admin URL");
    let auth = RedisRequirepass::new(Some(admin), vec![node(&r)]).expect("valid");
    assert!(!format!("{auth:?}").contains(admin_pw));
    // The old password is not needed: the admin logs in.
    let (_, new) = values();
    let unknown = SecretValue::new("whatever-the-targets-held-1".into());
    auth.apply(cred(&new), Some(cred(&unknown)))
        .expect("apply as admin");
    assert!(r.password_ok(NEW));
    assert!(!r.password_ok(OLD));
    assert!(r.auth_ok("rotor_admin", admin_pw), "the admin is untouched");
}

#[test]
fn a_server_without_the_acl_command_gets_config_set_requirepass() {
    let mut primary = Redis::start_with_requirepass_without_acl(OLD);
    let replica = Redis::start_replica_of(&primary);
    let auth = authority(&[&primary, &replica]);
    let (old, new) = values();
    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    for r in [&primary, &replica] {
        assert!(r.password_ok(NEW));
        assert!(!r.password_ok(OLD));
    }
    // CONFIG REWRITE writes requirepass in plaintext (the only form it has).
    let conf = std::fs::read_to_string(primary.config_path()).expect("read");
    assert!(conf.contains(&format!("requirepass \"{NEW}\"")), "{conf}");
    primary.stop();
    primary.start_again();
    assert!(primary.password_ok(NEW));
    let mut replica = replica;
    primary.set_password(NEW);
    replica.set_password(NEW);
    link_up(&replica);
    replicates(&primary, &replica, "legacy");
}

#[test]
fn without_a_config_file_the_change_holds_until_a_restart() {
    let mut r = Redis::start_with_requirepass_on_command_line(OLD);
    let auth = authority(&[&r]);
    let (old, new) = values();
    // Not persisted is a warning, not a failure: the file that starts the
    // server (docker-compose) must carry the new password.
    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    assert!(r.password_ok(NEW));
    assert!(!r.password_ok(OLD));
    let notes = auth.notes().join("; ");
    assert!(notes.contains("NOT persisted"), "{notes}");
    r.stop();
    r.start_again();
    assert!(
        r.password_ok(OLD),
        "a restart brings back the command line's password"
    );
    assert_eq!(
        auth.verify(cred(&new)).expect("verify"),
        Acceptance::Refused
    );
}

#[test]
fn bad_node_urls_are_refused_without_echoing_a_password() {
    let err = RedisRequirepass::new(None, vec!["redis://:url-secret-55@127.0.0.1:6379".into()])
        .expect_err("a credential in a node URL");
    assert_quotes_nothing(&err, &["url-secret-55"]);
}

#[test]
fn a_replica_whose_masterauth_is_stale_is_drift() {
    let primary = Redis::start_with_requirepass(OLD);
    let replica = Redis::start_replica_of(&primary);
    let auth = authority(&[&primary, &replica]);
    let (old, new) = values();
    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    assert_eq!(
        auth.drift(cred(&new), None).expect("drift"),
        Vec::<String>::new(),
        "apply set the replica's masterauth"
    );
    replica
        .cmd_with_password(NEW, &["CONFIG", "SET", "masterauth", "stale-by-hand-7e1f"])
        .expect("masterauth changed by hand");
    let found = auth.drift(cred(&new), None).expect("drift");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains(&node(&replica)), "{found:?}");
    assert!(found[0].contains("masterauth"), "{found:?}");
    for text in &found {
        assert!(
            !text.contains(NEW) && !text.contains("stale-by-hand-7e1f"),
            "{text}"
        );
    }
}
