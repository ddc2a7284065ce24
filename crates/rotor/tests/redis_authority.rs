//! The Redis `dual-password` authority against real throwaway
//! `redis-server` processes (rotor-testkit's `Redis`, a primary and a
//! replica): the conformance suite on every node, persistence across a
//! restart with and without an aclfile, a node that is down (the others put
//! back), a missing user, a wrong admin password, and no plaintext in the
//! slowlog.

use rotor::authority::redis::RedisDualPassword;
use rotor::authority::{Acceptance, Authority, Credential};
use rotor::secret::SecretValue;
use rotor_testkit::leaks::assert_quotes_nothing;
use rotor_testkit::Redis;
use secrecy::SecretString;

const USER: &str = "app";
/// The old value the conformance suite starts from.
const CONFORMANCE_OLD: &str = "conformance-old-value-0123456789";
const OLD: &str = "old-redis-password-6b1d9e2f";
const NEW: &str = "new-redis-password-0c7a3f5e";

fn node(r: &Redis) -> String {
    format!("redis://127.0.0.1:{}", r.port())
}

/// The ACL user `app` with `password`, saved, on each server.
fn with_user(servers: &[&Redis], password: &str) {
    for r in servers {
        r.cmd(&[
            "ACL",
            "SETUSER",
            USER,
            "on",
            &format!(">{password}"),
            "~*",
            "+@all",
        ])
        .expect("ACL SETUSER");
        persist(r);
    }
}

fn persist(r: &Redis) {
    if r.aclfile_path().is_some() {
        r.cmd(&["ACL", "SAVE"]).expect("ACL SAVE");
    } else {
        r.cmd(&["CONFIG", "REWRITE"]).expect("CONFIG REWRITE");
    }
}

fn authority(admin: &Redis, nodes: &[&Redis]) -> RedisDualPassword {
    RedisDualPassword::new(
        &SecretString::from(admin.admin_url()),
        USER,
        nodes.iter().map(|r| node(r)).collect(),
    )
    .expect("valid authority")
}

fn cred(v: &SecretValue) -> Credential<'_> {
    Credential::new(Some(USER), v)
}

#[test]
fn passes_the_authority_conformance_suite_on_primary_and_replica() {
    let primary = Redis::start();
    let replica = Redis::start_replica_of(&primary);
    with_user(&[&primary, &replica], CONFORMANCE_OLD);
    let auth = authority(&primary, &[&primary, &replica]);
    let checks = rotor_testkit::conformance::authority_suite(&auth, Some(USER), Some(USER));
    assert_eq!(checks, 9);
}

#[test]
fn both_passwords_work_until_retire_on_every_node_and_survive_a_restart() {
    let mut primary = Redis::start();
    let mut replica = Redis::start_replica_of(&primary);
    with_user(&[&primary, &replica], OLD);
    primary
        .cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"])
        .expect("slowlog everything");
    let auth = authority(&primary, &[&primary, &replica]);
    let (old, new) = (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()));

    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, OLD), "old still works during the overlap");
        assert!(r.auth_ok(USER, NEW), "new works on every node");
    }
    assert_eq!(
        auth.verify(cred(&new)).expect("verify"),
        Acceptance::Accepted
    );

    auth.retire(cred(&old), cred(&new)).expect("retire");
    for r in [&primary, &replica] {
        assert!(!r.auth_ok(USER, OLD), "old refused after retire");
        assert!(r.auth_ok(USER, NEW));
    }

    // Persisted (ACL SAVE): a restart keeps exactly the new password.
    primary.stop();
    replica.stop();
    primary.start_again();
    replica.start_again();
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, NEW), "new survives a restart");
        assert!(!r.auth_ok(USER, OLD));
    }
    let slowlog = primary.cmd(&["SLOWLOG", "GET", "1000"]).expect("slowlog");
    assert!(!slowlog.contains(NEW), "the slowlog holds the new password");
    assert!(!slowlog.contains(OLD), "the slowlog holds the old password");
}

#[test]
fn without_an_aclfile_config_rewrite_persists() {
    let mut r = Redis::start_without_aclfile();
    with_user(&[&r], OLD);
    let auth = authority(&r, &[&r]);
    let (old, new) = (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()));
    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    auth.retire(cred(&old), cred(&new)).expect("retire");
    r.stop();
    r.start_again();
    assert!(r.auth_ok(USER, NEW));
    assert!(!r.auth_ok(USER, OLD));
}

#[test]
fn a_node_that_is_down_fails_apply_and_the_others_are_put_back() {
    let primary = Redis::start();
    let mut other = Redis::start();
    with_user(&[&primary, &other], OLD);
    other.stop();
    let auth = authority(&primary, &[&primary, &other]);
    let (old, new) = (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()));
    let err = auth
        .apply(cred(&new), Some(cred(&old)))
        .expect_err("a node is down");
    let shown = err.to_string();
    assert!(shown.contains(&other.port().to_string()), "{shown}");
    assert!(shown.contains("put back"), "{shown}");
    // Everything that changed was put back: the engine has nothing to undo
    // (its undo could not reach the node that is down either).
    assert!(err.changed_nothing(), "{err:?}");
    assert_quotes_nothing(&err, &[OLD, NEW, primary.admin_password()]);
    assert!(primary.auth_ok(USER, OLD), "the old password still works");
    assert!(!primary.auth_ok(USER, NEW), "the new one was taken back");
}

/// Regression (found by the fault suite, `crates/cli/tests/faults_redis.rs`):
/// undo with the replica down took the new password off the primary and
/// then failed, while the engine, seeing undo fail, left the targets
/// holding the new password: consumers could no longer log in on the
/// primary. Undo is now all or nothing, like apply and retire.
#[test]
fn undo_with_a_node_down_leaves_every_node_as_it_was() {
    let primary = Redis::start();
    let mut replica = Redis::start_replica_of(&primary);
    with_user(&[&primary, &replica], OLD);
    let auth = authority(&primary, &[&primary, &replica]);
    let (old, new) = (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()));
    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    replica.stop();
    let err = auth
        .undo(cred(&new), Some(cred(&old)))
        .expect_err("the replica is down");
    let shown = err.to_string();
    assert!(shown.contains(&replica.port().to_string()), "{shown}");
    assert!(shown.contains("put back"), "{shown}");
    assert_quotes_nothing(&err, &[OLD, NEW, primary.admin_password()]);
    assert!(primary.auth_ok(USER, NEW), "the new password still works");
    assert!(primary.auth_ok(USER, OLD), "and so does the old one");
    // Put back on disk too: a restart of the primary changes nothing.
    let acl = std::fs::read_to_string(primary.aclfile_path().expect("an ACL file"))
        .expect("read the ACL file");
    let line = acl
        .lines()
        .find(|l| l.starts_with(&format!("user {USER} ")))
        .expect("the user is saved");
    assert_eq!(line.matches(" #").count(), 2, "both hashes are saved");

    replica.start_again();
    auth.undo(cred(&new), Some(cred(&old))).expect("undo");
    for r in [&primary, &replica] {
        assert!(!r.auth_ok(USER, NEW), "the new password is gone");
        assert!(r.auth_ok(USER, OLD));
    }
}

#[test]
fn a_missing_user_and_a_wrong_admin_password_are_refused_clearly() {
    let r = Redis::start();
    let auth = authority(&r, &[&r]);
    let (old, new) = (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()));
    let err = auth
        .apply(cred(&new), Some(cred(&old)))
        .expect_err("no such user");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(err.changed_nothing(), "{err:?}");
    assert_eq!(
        r.cmd(&["ACL", "GETUSER", USER]).expect("GETUSER"),
        "(nil)",
        "nothing was created"
    );

    with_user(&[&r], OLD);
    let wrong = r
        .admin_url()
        .replace(r.admin_password(), "wrong-admin-password-42");
    let auth = RedisDualPassword::new(&SecretString::from(wrong), USER, vec![node(&r)])
        .expect("valid URL");
    let err = auth
        .apply(cred(&new), Some(cred(&old)))
        .expect_err("wrong admin password");
    assert!(err.to_string().contains("refused"), "{err}");
    assert_quotes_nothing(&err, &["wrong-admin-password-42", OLD, NEW]);
    assert!(r.auth_ok(USER, OLD));
}

#[test]
fn retire_leaves_only_the_live_password_and_drift_names_what_differs() {
    let primary = Redis::start();
    let replica = Redis::start_replica_of(&primary);
    with_user(&[&primary, &replica], OLD);
    let auth = authority(&primary, &[&primary, &replica]);
    let (old, new) = (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()));
    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    assert_eq!(
        auth.drift(cred(&new), Some(cred(&old))).expect("drift"),
        Vec::<String>::new(),
        "the previous password is allowed while it waits for retire"
    );

    // Someone adds a password by hand on the replica.
    let by_hand = "set-by-hand-3e9d0c1b";
    replica
        .cmd(&["ACL", "SETUSER", USER, &format!(">{by_hand}")])
        .expect("ACL SETUSER by hand");
    let found = auth.drift(cred(&new), Some(cred(&old))).expect("drift");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains(&node(&replica)), "{found:?}");
    assert!(found[0].contains("did not set"), "{found:?}");

    // Retire removes the old one and the one set by hand, on every node.
    auth.retire(cred(&old), cred(&new)).expect("retire");
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, NEW));
        assert!(!r.auth_ok(USER, OLD));
        assert!(!r.auth_ok(USER, by_hand), "a hand-set password survived");
    }
    assert!(auth.drift(cred(&new), None).expect("drift").is_empty());

    // A node that lost the live password: retire refuses rather than lock
    // consumers out, and drift says which node.
    replica
        .cmd(&["ACL", "SETUSER", USER, "resetpass", &format!(">{OLD}")])
        .expect("reset by hand");
    let found = auth.drift(cred(&new), None).expect("drift");
    assert!(
        found
            .iter()
            .any(|d| d.contains(&node(&replica)) && d.contains("current password")),
        "{found:?}"
    );
    let err = auth
        .retire(cred(&old), cred(&new))
        .expect_err("the live password is missing on the replica");
    assert!(err.to_string().contains("lock every consumer out"), "{err}");
    assert!(replica.auth_ok(USER, OLD), "nothing removed on the replica");
    assert!(primary.auth_ok(USER, NEW), "the primary keeps the live one");
    assert_quotes_nothing(&err, &[OLD, NEW, by_hand]);

    // A user switched off is drift too.
    primary.cmd(&["ACL", "SETUSER", USER, "off"]).expect("off");
    let found = auth.drift(cred(&new), None).expect("drift");
    assert!(
        found
            .iter()
            .any(|d| d.contains(&node(&primary)) && d.contains("switched off")),
        "{found:?}"
    );
}

#[test]
fn without_an_admin_the_user_manages_itself_and_a_server_without_files_is_reported_not_persisted() {
    // Everything on its command line, as docker-compose runs it: no config
    // file, no aclfile.
    let r = Redis::start_with_requirepass_on_command_line(OLD);
    let auth =
        RedisDualPassword::with_admin(None, "default", vec![node(&r)]).expect("valid authority");
    let (old, new) = (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()));
    let def = |v| Credential::new(Some("default"), v);
    auth.apply(def(&new), Some(def(&old)))
        .expect("apply as the user itself");
    assert!(
        r.password_ok(OLD) && r.password_ok(NEW),
        "both during the overlap"
    );
    auth.retire(def(&old), def(&new))
        .expect("retire with the new password");
    assert!(r.password_ok(NEW));
    assert!(!r.password_ok(OLD), "old refused after retire");
    let notes = auth.notes().join("; ");
    assert!(notes.contains("NOT persisted"), "{notes}");
    // Idempotent: a second retire (e.g. after a resume) logs in with the
    // new password and changes nothing.
    auth.retire(def(&old), def(&new)).expect("retire again");
    // Knowing none of its passwords, rotor says what to do.
    let (a, b) = ("neither-old-nor-new-55aa", "nor-this-one-66bb");
    let (sa, sb) = (SecretValue::new(a.into()), SecretValue::new(b.into()));
    let err = auth
        .apply(def(&sa), Some(def(&sb)))
        .expect_err("no password rotor knows works");
    assert!(err.to_string().contains("admin_url_env"), "{err}");
    assert!(err.changed_nothing(), "{err:?}");
    assert_quotes_nothing(&err, &[OLD, NEW, a, b]);
    assert!(r.password_ok(NEW), "nothing changed");
}
