//! Review findings on the Redis authorities, against real throwaway
//! `redis-server` processes.

use rotor::authority::redis::RedisDualPassword;
use rotor::authority::{Authority, Credential};
use rotor::secret::SecretValue;
use rotor_testkit::Redis;
use secrecy::SecretString;

const USER: &str = "app";
const OLD: &str = "old-redis-password-6b1d9e2f";
const NEW: &str = "new-redis-password-0c7a3f5e";

fn node(r: &Redis) -> String {
    format!("redis://127.0.0.1:{}", r.port())
}

fn cred(v: &SecretValue) -> Credential<'_> {
    Credential::new(Some(USER), v)
}

/// A `nopass` user accepts any password, so the targets' old password
/// works. Adding a password (`#<hash>`) switches `nopass` off in Redis:
/// apply used to make the old password stop working at once (no overlap),
/// and putting a node back after a later node failed (`!<hash>`) left the
/// user with no password at all, refusing everyone. rotor must refuse such
/// a user, changing nothing.
#[test]
fn a_nopass_user_is_refused_and_keeps_accepting_the_old_password() {
    let first = Redis::start();
    // The user is missing on the second node: apply fails there, and the
    // first node is put back.
    let second = Redis::start_replica_of(&first);
    first
        .cmd(&["ACL", "SETUSER", USER, "on", "nopass", "~*", "+@all"])
        .expect("ACL SETUSER");
    let auth = RedisDualPassword::new(
        &SecretString::from(first.admin_url()),
        USER,
        vec![node(&first), node(&second)],
    )
    .expect("valid authority");
    let (old, new) = (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()));
    assert!(first.auth_ok(USER, OLD), "nopass takes the old password");
    let result = auth.apply(cred(&new), Some(cred(&old)));
    assert!(
        first.auth_ok(USER, OLD),
        "the password the targets hold was refused after apply ({:?})",
        result.as_ref().err().map(ToString::to_string)
    );
    let err = result.expect_err("a nopass user is refused");
    assert!(err.changed_nothing(), "{err:?}");
    assert!(err.to_string().contains("nopass"), "{err}");
}

/// `dual-password` on `user = "default"` is what the README recommends for
/// a requirepass setup. Redis keeps `requirepass` apart from the default
/// user's passwords, so `CONFIG REWRITE` wrote the replaced password back
/// into redis.conf in plaintext (`requirepass "OLD"`), where it stayed
/// after retire (and `CONFIG GET requirepass` still showed it).
#[test]
fn dual_password_on_default_leaves_no_old_plaintext_in_the_config_file() {
    let mut r = Redis::start_with_requirepass(OLD);
    let auth =
        RedisDualPassword::with_admin(None, "default", vec![node(&r)]).expect("valid authority");
    let (old, new) = (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()));
    let def = |v| Credential::new(Some("default"), v);
    auth.apply(def(&new), Some(def(&old))).expect("apply");
    assert!(r.password_ok(OLD) && r.password_ok(NEW), "both work");
    auth.retire(def(&old), def(&new)).expect("retire");
    let conf = std::fs::read_to_string(r.config_path()).expect("read redis.conf");
    assert!(
        !conf.contains(OLD),
        "the retired password is in redis.conf:\n{conf}"
    );
    assert!(!conf.contains(NEW), "a plaintext password is in redis.conf");
    r.set_password(NEW);
    r.stop();
    r.start_again();
    assert!(r.password_ok(NEW), "the new password survives a restart");
    assert!(!r.password_ok(OLD), "the old one stays gone");
}
