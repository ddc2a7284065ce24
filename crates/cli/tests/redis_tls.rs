//! `rotor rotate` of a `dual-password` secret whose node is `rediss://`
//! (a throwaway Redis serving TLS with a certificate from a throwaway CA),
//! trusting the CA named by `tls_ca_file`; then, with another CA's
//! certificate in that file, the rotation is refused naming the node, and
//! nothing changes. The harness scans all output for leaked values.

mod common;
mod redis_common;

use common::Harness;
use redis_common::*;
use rotor_testkit::inventory::inventory;
use rotor_testkit::{Redis, TestCa};

const CA_FILE: &str = "certs/redis-ca.pem";

#[test]
fn rotate_over_tls_trusts_the_ca_file_and_refuses_another_ca() {
    let r = Redis::start_tls();
    app_user(&[&r]);
    let node = r.tls_url();
    let tls_ca_file = format!("tls_ca_file = \"{CA_FILE}\"");
    let ca = std::fs::read_to_string(r.tls_ca_path()).expect("the server's CA");
    let mut h = Harness::new(
        &inventory(&[redis_app(
            std::slice::from_ref(&node),
            &[&admin_env_line(), &tls_ca_file],
        )]),
        &[(".env", &env_file(&r)), (CA_FILE, &ca)],
    );
    h.manage(".env", &["REDIS_URL", "REDIS_PASSWORD"]);
    h.leaks.learn(r.admin_password());
    h.rotor(&["init"]).expect_code(0);
    let admin_url = r.admin_url();
    let env = [(ADMIN_VAR, admin_url.as_str())];

    h.rotor_env(&["rotate", SECRET], &env)
        .expect_code(0)
        .expect_output("rotated");
    let new = password(&h);
    assert_ne!(new, INITIAL);
    assert!(r.auth_ok(USER, &new), "the new password logs in");
    assert!(!r.auth_ok(USER, INITIAL), "the old one is retired");
    h.rotor_env(&["verify", SECRET], &env).expect_code(0);

    // Another CA in the file: the node's certificate is not trusted.
    TestCa::new("some other CA").write_cert(&h.project.join(CA_FILE));
    let before = h.project.read_string(".env");
    let run = h.rotor_env(&["rotate", SECRET], &env);
    run.expect_code(1)
        .expect_output(&node)
        .expect_output("its TLS certificate is not signed by the CA in tls_ca_file");
    assert_eq!(h.project.read_string(".env"), before, ".env changed");
    assert!(r.auth_ok(USER, &new), "the password in force still works");
    assert_eq!(password_count(&r), 1, "no password was added");
    h.finish();
}
