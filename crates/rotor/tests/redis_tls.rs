//! The Redis authorities over TLS (`rediss://` nodes) against real
//! throwaway `redis-server` processes serving TLS with a certificate from a
//! throwaway CA (rotor-testkit's `Redis::start_tls`): dual-password apply,
//! verify and retire, and a requirepass cutover, checked against the CA of
//! `tls_ca_file`; then the certificates rotor must refuse (another CA's,
//! the system's roots, a host name the certificate does not hold) and a
//! plain port named as rediss://, each failing with an error that names the
//! node and leaves the passwords as they were.

use rotor::authority::redis::{NodeTls, RedisDualPassword, RedisRequirepass};
use rotor::authority::{Acceptance, Authority, AuthorityError, Credential};
use rotor::secret::SecretValue;
use rotor_testkit::leaks::assert_quotes_nothing;
use rotor_testkit::{Redis, TestCa};
use secrecy::SecretString;

const USER: &str = "app";
const OLD: &str = "old-redis-tls-password-3f8a1c5e";
const NEW: &str = "new-redis-tls-password-7b2d9e04";

fn values() -> (SecretValue, SecretValue) {
    (SecretValue::new(OLD.into()), SecretValue::new(NEW.into()))
}

/// The ACL user `app` with `password`, saved.
fn with_user(r: &Redis, password: &str) {
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
    r.cmd(&["ACL", "SAVE"]).expect("ACL SAVE");
}

fn trusting(r: &Redis) -> NodeTls {
    NodeTls::from_ca_file(&r.tls_ca_path()).expect("the server's CA file")
}

fn dual(r: &Redis, node: String, tls: NodeTls) -> RedisDualPassword {
    RedisDualPassword::new(&SecretString::from(r.admin_url()), USER, vec![node])
        .expect("valid authority")
        .with_tls(tls)
        .expect("TLS nodes")
}

fn user_cred(v: &SecretValue) -> Credential<'_> {
    Credential::new(Some(USER), v)
}

/// An error that names `node`, says `words`, and quotes no password.
fn names_node(err: &AuthorityError, node: &str, words: &str) {
    let shown = err.to_string();
    assert!(shown.contains(node), "the node is not named: {shown}");
    assert!(shown.contains(words), "no {words:?} in: {shown}");
    assert_quotes_nothing(&shown, &[OLD, NEW]);
}

#[test]
fn dual_password_apply_verify_retire_over_tls_with_the_ca_file() {
    let r = Redis::start_tls();
    with_user(&r, OLD);
    let auth = dual(&r, r.tls_url(), trusting(&r));
    let (old, new) = values();

    assert_eq!(
        auth.verify(user_cred(&old)).expect("verify old"),
        Acceptance::Accepted
    );
    auth.apply(user_cred(&new), Some(user_cred(&old)))
        .expect("apply");
    assert!(r.auth_ok(USER, OLD), "old still works during the overlap");
    assert!(r.auth_ok(USER, NEW), "new works");
    assert_eq!(
        auth.verify(user_cred(&new)).expect("verify new"),
        Acceptance::Accepted
    );
    auth.retire(user_cred(&old), user_cred(&new))
        .expect("retire");
    assert!(!r.auth_ok(USER, OLD), "old refused after retire");
    assert!(r.auth_ok(USER, NEW));
    // The Debug form names the CA file, not its contents.
    let shown = format!("{auth:?}");
    assert!(shown.contains("tls-ca.pem"), "{shown}");
    assert!(!shown.contains("BEGIN CERTIFICATE"), "{shown}");
}

#[test]
fn dual_password_passes_the_conformance_suite_over_tls() {
    let r = Redis::start_tls();
    with_user(&r, "conformance-old-value-0123456789");
    let auth = dual(&r, r.tls_url(), trusting(&r));
    let checks = rotor_testkit::conformance::authority_suite(&auth, Some(USER), Some(USER));
    assert_eq!(checks, 9);
}

#[test]
fn requirepass_cutover_over_tls_with_the_ca_file() {
    let r = Redis::start_tls_with_requirepass(OLD);
    let auth = RedisRequirepass::new(None, vec![r.tls_url()])
        .expect("valid authority")
        .with_tls(trusting(&r))
        .expect("TLS nodes");
    let (old, new) = values();
    let cred = |v| Credential::new(None, v);

    assert_eq!(
        auth.verify(cred(&old)).expect("verify old"),
        Acceptance::Accepted
    );
    auth.apply(cred(&new), Some(cred(&old))).expect("apply");
    assert!(r.password_ok(NEW), "new works");
    assert!(!r.password_ok(OLD), "old is refused");
    assert_eq!(
        auth.verify(cred(&new)).expect("verify new"),
        Acceptance::Accepted
    );
}

#[test]
fn a_certificate_from_another_ca_is_refused_naming_the_node_and_nothing_changes() {
    let r = Redis::start_tls();
    with_user(&r, OLD);
    let dir = tempfile::tempdir().expect("temp dir");
    let other = dir.path().join("other-ca.pem");
    TestCa::new("some other CA").write_cert(&other);
    let node = r.tls_url();
    let auth = dual(
        &r,
        node.clone(),
        NodeTls::from_ca_file(&other).expect("CA file"),
    );
    let (old, new) = values();

    let err = auth
        .apply(user_cred(&new), Some(user_cred(&old)))
        .expect_err("an untrusted certificate");
    names_node(&err, &node, "not signed by the CA in tls_ca_file");
    assert!(err.to_string().contains("other-ca.pem"), "{err}");
    assert!(
        !matches!(err, AuthorityError::Transient { .. }),
        "retrying does not help, so it is not transient: {err:?}"
    );
    assert!(r.auth_ok(USER, OLD), "the old password still works");
    assert!(!r.auth_ok(USER, NEW), "the new one was never set");
}

#[test]
fn without_a_ca_file_the_system_roots_do_not_trust_a_private_ca() {
    let r = Redis::start_tls_with_requirepass(OLD);
    let node = r.tls_url();
    let auth = RedisRequirepass::new(None, vec![node.clone()]).expect("valid authority");
    let (old, new) = values();
    let err = auth
        .apply(
            Credential::new(None, &new),
            Some(Credential::new(None, &old)),
        )
        .expect_err("not in the system's roots");
    names_node(&err, &node, "not signed by the system's root certificates");
    assert!(r.password_ok(OLD), "nothing changed");
}

#[test]
fn a_host_name_the_certificate_does_not_hold_is_refused() {
    let r = Redis::start_tls();
    with_user(&r, OLD);
    // The certificate holds 127.0.0.1 (an IP SAN), not "localhost".
    let node = format!("rediss://localhost:{}", r.tls_port());
    let auth = dual(&r, node.clone(), trusting(&r));
    let (old, new) = values();
    let err = auth
        .apply(user_cred(&new), Some(user_cred(&old)))
        .expect_err("wrong host name");
    names_node(&err, &node, "not valid for the host name");
    assert!(!r.auth_ok(USER, NEW), "nothing changed");
}

#[test]
fn a_plain_port_named_as_rediss_is_refused_clearly() {
    let r = Redis::start_tls();
    with_user(&r, OLD);
    let node = format!("rediss://127.0.0.1:{}", r.port());
    let auth = dual(&r, node.clone(), trusting(&r));
    let (old, new) = values();
    let err = auth
        .apply(user_cred(&new), Some(user_cred(&old)))
        .expect_err("no TLS there");
    names_node(&err, &node, "TLS");
    assert!(!r.auth_ok(USER, NEW), "nothing changed");
}

#[test]
fn a_ca_file_goes_with_rediss_nodes_only_and_must_hold_a_certificate() {
    let r = Redis::start_tls();
    let plain = format!("redis://127.0.0.1:{}", r.port());
    let err = RedisDualPassword::new(&SecretString::from(r.admin_url()), USER, vec![plain])
        .expect("valid authority")
        .with_tls(trusting(&r))
        .expect_err("a CA file with a redis:// node");
    assert!(err.to_string().contains("not a rediss://"), "{err}");

    let dir = tempfile::tempdir().expect("temp dir");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").expect("write");
    let err = NodeTls::from_ca_file(&junk).expect_err("no certificate in it");
    assert!(err.to_string().contains("junk.pem"), "{err}");
    let err = NodeTls::from_ca_file(&dir.path().join("missing.pem")).expect_err("missing");
    assert!(err.to_string().contains("missing.pem"), "{err}");
}
