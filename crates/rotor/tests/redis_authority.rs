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
