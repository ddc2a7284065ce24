//! The throwaway Redis server: starts on its loopback port, takes the
//! admin's AUTH and nobody else's, keeps users made with ACL SETUSER across
//! a restart after ACL SAVE (ACL file) or CONFIG REWRITE (no ACL file),
//! feeds a replica, and is gone after drop. Legacy servers: `requirepass`
//! in the config file or on the command line, without the ACL command,
//! without any password, and a replica logging in with `masterauth`.

use rotor_testkit::redis::ADMIN_USER;
use rotor_testkit::Redis;

#[test]
fn starts_admin_authenticates_default_user_is_off_and_stops() {
    let mut redis = Redis::start();
    assert_eq!(
        redis.admin_url(),
        format!(
            "redis://rotor_admin:{}@127.0.0.1:{}",
            redis.admin_password(),
            redis.port()
        )
    );
    assert!(
        redis.auth_ok(ADMIN_USER, redis.admin_password()),
        "{redis:?}"
    );
    assert!(!redis.auth_ok(ADMIN_USER, "not-the-password"));
    assert_eq!(redis.cmd(&["SET", "k", "v"]).as_deref(), Ok("OK"));
    assert_eq!(redis.cmd(&["GET", "k"]).as_deref(), Ok("v"));
    assert_eq!(redis.cmd(&["GET", "missing"]).as_deref(), Ok("(nil)"));
    assert_eq!(redis.cmd(&["ACL", "WHOAMI"]).as_deref(), Ok(ADMIN_USER));

    // The default user is off: no command without AUTH, no AUTH as it.
    let err = redis
        .cmd_unauthenticated(&["PING"])
        .expect_err("an error reply");
    assert!(err.starts_with("NOAUTH"), "{err}");
    assert!(!redis.auth_ok("default", ""));
    let users = redis.cmd(&["ACL", "LIST"]).expect("the command succeeds");
    assert!(
        users.lines().any(|l| l.starts_with("user default off")),
        "{users}"
    );

    // The ACL file is there and names the admin.
    let acl = redis.aclfile_path().expect("an ACL file");
    let text = std::fs::read_to_string(&acl).expect("read the file");
    assert!(text.contains("user rotor_admin on"), "{text}");

    redis.stop();
    assert!(!redis.is_running());
    let err = redis.cmd(&["PING"]).expect_err("an error reply");
    assert!(err.contains("connect"), "{err}");
    redis.stop(); // harmless twice
    assert!(redis.log_contents().contains("Ready to accept connections"));
}

#[test]
fn acl_setuser_then_auth_ok() {
    let redis = Redis::start();
    assert!(!redis.auth_ok("app", "s3cret"));
    assert_eq!(
        redis
            .cmd(&["ACL", "SETUSER", "app", "on", ">s3cret", "~app:*", "+@read"])
            .as_deref(),
        Ok("OK")
    );
    assert!(redis.auth_ok("app", "s3cret"));
    assert!(!redis.auth_ok("app", "wrong"));
    // `+@read` leaves out PING: still logged in.
    let err = redis
        .cmd_as("app", "s3cret", &["PING"])
        .expect_err("an error reply");
    assert!(err.starts_with("NOPERM"), "{err}");
    // Switched off: no login.
    redis
        .cmd(&["ACL", "SETUSER", "off_user", "off", ">pw", "+@all"])
        .expect("the command succeeds");
    assert!(!redis.auth_ok("off_user", "pw"));
    // Its permissions apply.
    let err = redis
        .cmd_as("app", "s3cret", &["SET", "app:x", "1"])
        .expect_err("an error reply");
    assert!(err.starts_with("NOPERM"), "{err}");
    assert_eq!(
        redis.cmd_as("app", "s3cret", &["GET", "app:x"]).as_deref(),
        Ok("(nil)")
    );
    // A wrong password is an error reply, not a broken connection.
    let err = redis
        .cmd_as("app", "wrong", &["PING"])
        .expect_err("an error reply");
    assert!(err.starts_with("WRONGPASS"), "{err}");
}

#[test]
fn a_replica_replicates_a_key() {
    let primary = Redis::start();
    let replica = Redis::start_replica_of(&primary);
    assert_ne!(replica.port(), primary.port());
    assert_eq!(replica.admin_password(), primary.admin_password());
    assert!(replica.auth_ok(ADMIN_USER, replica.admin_password()));

    // WAIT counts the replicas that have this connection's writes.
    let replies = primary
        .cmds(&[&["SET", "rotated", "yes"], &["WAIT", "1", "5000"]])
        .expect("the command succeeds");
    assert_eq!(replies[0].as_deref(), Ok("OK"));
    assert_eq!(replies[1].as_deref(), Ok("1"), "{}", primary.log_contents());
    assert_eq!(
        replica.cmd(&["GET", "rotated"]).as_deref(),
        Ok("yes"),
        "{}",
        replica.log_contents()
    );
    let info = replica
        .cmd(&["INFO", "replication"])
        .expect("the command succeeds");
    assert!(info.contains("role:slave"), "{info}");
    // A replica is read-only.
    let err = replica.cmd(&["SET", "x", "1"]).expect_err("an error reply");
    assert!(err.starts_with("READONLY"), "{err}");
}

#[test]
fn acl_save_persists_across_a_restart() {
    let mut redis = Redis::start();
    let port = redis.port();
    redis
        .cmd(&["ACL", "SETUSER", "app", "on", ">before", "~*", "+@all"])
        .expect("the command succeeds");
    // Not saved: lost on restart.
    redis
        .cmd(&["ACL", "SETUSER", "unsaved", "on", ">x", "+@all"])
        .expect("the command succeeds");
    redis.stop();
    redis.start_again();
    assert_eq!(redis.port(), port);
    assert!(!redis.auth_ok("app", "before"));
    assert!(!redis.auth_ok("unsaved", "x"));

    redis
        .cmd(&["ACL", "SETUSER", "app", "on", ">before", "~*", "+@all"])
        .expect("the command succeeds");
    assert_eq!(redis.cmd(&["ACL", "SAVE"]).as_deref(), Ok("OK"));
    let acl =
        std::fs::read_to_string(redis.aclfile_path().expect("an ACL file")).expect("read the file");
    assert!(acl.contains("user app on"), "{acl}");
    redis.stop();
    redis.start_again();
    assert_eq!(redis.port(), port);
    assert!(redis.auth_ok("app", "before"));
    assert!(redis.auth_ok(ADMIN_USER, redis.admin_password()));
    assert!(!redis.auth_ok("default", ""));
}

#[test]
fn config_rewrite_persists_across_a_restart_without_an_aclfile() {
    let mut redis = Redis::start_without_aclfile();
    assert_eq!(redis.aclfile_path(), None);
    assert!(redis.auth_ok(ADMIN_USER, redis.admin_password()));
    assert!(!redis.auth_ok("default", ""));
    // ACL SAVE needs an ACL file.
    let err = redis.cmd(&["ACL", "SAVE"]).expect_err("an error reply");
    assert!(err.contains("ACL file"), "{err}");

    redis
        .cmd(&["ACL", "SETUSER", "app", "on", ">rewritten", "~*", "+@all"])
        .expect("the command succeeds");
    assert_eq!(redis.cmd(&["CONFIG", "REWRITE"]).as_deref(), Ok("OK"));
    let conf = std::fs::read_to_string(redis.config_path()).expect("read the file");
    assert!(conf.contains("user app on"), "{conf}");
    redis.stop();
    redis.start_again();
    assert!(redis.auth_ok("app", "rewritten"));
    assert!(redis.auth_ok(ADMIN_USER, redis.admin_password()));
    assert!(!redis.auth_ok("default", ""));
}

#[test]
fn drop_removes_the_temp_dir_and_stops_the_server() {
    let redis = Redis::start();
    let dir = redis.dir().to_path_buf();
    let port = redis.port();
    assert!(dir.join("redis.conf").is_file());
    assert!(dir.join("users.acl").is_file());
    drop(redis);
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn drop_while_panicking_removes_the_temp_dir() {
    let mut dir = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let redis = Redis::start();
        dir = Some(redis.dir().to_path_buf());
        panic!("a test fails with a server running");
    }));
    assert!(result.is_err());
    let dir = dir.expect("the server started");
    assert!(!dir.exists(), "{} still exists", dir.display());
}

const LEGACY: &str = "legacy-requirepass-3f9a1c";

#[test]
fn a_requirepass_server_has_only_the_default_user_and_its_password() {
    let mut redis = Redis::start_with_requirepass(LEGACY);
    assert_eq!(redis.admin_password(), LEGACY);
    assert_eq!(redis.aclfile_path(), None);
    assert!(redis.password_ok(LEGACY), "{redis:?}");
    assert!(!redis.password_ok("not-the-password"));
    assert!(!redis.open_without_password());
    let err = redis
        .cmd_unauthenticated(&["PING"])
        .expect_err("an error reply");
    assert!(err.starts_with("NOAUTH"), "{err}");
    // cmd logs in with `AUTH <password>`, as the default user.
    assert_eq!(redis.cmd(&["ACL", "WHOAMI"]).as_deref(), Ok("default"));
    let users = redis.cmd(&["ACL", "LIST"]).expect("the command succeeds");
    assert_eq!(users.lines().count(), 1, "{users}");
    assert!(users.starts_with("user default on #"), "{users}");
    let conf = std::fs::read_to_string(redis.config_path()).expect("read the file");
    assert!(
        conf.contains(&format!("requirepass \"{LEGACY}\"")),
        "{conf}"
    );

    // A password changed on the server: set_password follows it, also
    // across a restart (which waits without knowing it).
    redis
        .cmd(&["CONFIG", "SET", "requirepass", "changed-3e1d"])
        .expect("CONFIG SET");
    assert!(redis.cmd(&["PING"]).is_err());
    redis.set_password("changed-3e1d");
    assert_eq!(redis.cmd(&["PING"]).as_deref(), Ok("PONG"));
    assert_eq!(redis.cmd(&["CONFIG", "REWRITE"]).as_deref(), Ok("OK"));
    redis.stop();
    redis.start_again();
    assert!(redis.password_ok("changed-3e1d"));
    assert!(!redis.password_ok(LEGACY));
}

#[test]
fn a_replica_of_a_requirepass_server_logs_in_with_masterauth() {
    let primary = Redis::start_with_requirepass(LEGACY);
    let replica = Redis::start_replica_of(&primary);
    assert!(replica.password_ok(LEGACY));
    let conf = std::fs::read_to_string(replica.config_path()).expect("read the file");
    assert!(conf.contains(&format!("masterauth \"{LEGACY}\"")), "{conf}");
    assert!(!conf.contains("masteruser"), "{conf}");
    let replies = primary
        .cmds(&[&["SET", "legacy", "yes"], &["WAIT", "1", "5000"]])
        .expect("the command succeeds");
    assert_eq!(replies[1].as_deref(), Ok("1"), "{}", primary.log_contents());
    assert_eq!(replica.cmd(&["GET", "legacy"]).as_deref(), Ok("yes"));
    let role = replica.cmd(&["ROLE"]).expect("ROLE");
    assert!(role.starts_with("slave"), "{role}");
}

#[test]
fn a_server_without_a_config_file_takes_requirepass_from_its_command_line() {
    let mut redis = Redis::start_with_requirepass_on_command_line(LEGACY);
    assert!(!redis.config_path().exists());
    assert!(redis.password_ok(LEGACY));
    let info = redis.cmd(&["INFO", "server"]).expect("INFO");
    assert!(info.lines().any(|l| l.trim() == "config_file:"), "{info}");
    let err = redis
        .cmd(&["CONFIG", "REWRITE"])
        .expect_err("no config file");
    assert!(err.contains("without a config file"), "{err}");
    // A restart runs the same command line: the password it started with.
    redis
        .cmd(&["CONFIG", "SET", "requirepass", "in-memory-only-77"])
        .expect("CONFIG SET");
    redis.stop();
    redis.start_again();
    assert!(redis.password_ok(LEGACY));
    assert!(!redis.password_ok("in-memory-only-77"));
}

#[test]
fn a_server_without_acl_and_one_without_a_password() {
    let old = Redis::start_with_requirepass_without_acl(LEGACY);
    assert!(old.password_ok(LEGACY));
    let err = old.cmd(&["ACL", "WHOAMI"]).expect_err("no ACL command");
    assert!(err.contains("unknown command"), "{err}");

    let open = Redis::start_without_password();
    assert!(open.open_without_password());
    assert_eq!(open.cmd(&["PING"]).as_deref(), Ok("PONG"));
    // Redis refuses `AUTH <password>` when the default user has none.
    assert!(!open.password_ok("anything"));
    let err = open
        .cmd_with_password("anything", &["PING"])
        .expect_err("an error reply");
    assert!(err.contains("without any password configured"), "{err}");
    let replica = Redis::start_replica_of(&open);
    assert!(replica.open_without_password());
}
