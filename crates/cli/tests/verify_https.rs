//! An `https://` verify hook against a real local TLS server whose
//! certificate a throwaway CA signed: trusted through the hook's
//! `tls_ca_file`, refused without it (the system's roots do not know the
//! CA) and with another CA, the rotation then undone.

mod common;

use common::Harness;
use rotor_testkit::inventory::{self, Secret};
use rotor_testkit::{HealthStub, TestCa};

const ENV: &str = "API_TOKEN=old-api-token-0123456789abcdef\n";

/// `api_token` in `.env`, checked by the hook `verify` (tried once).
fn inventory(verify: &str) -> String {
    inventory::inventory(&[Secret::new("api_token")
        .random(32)
        .dotenv(".env", "API_TOKEN")
        .hook_line(&format!("verify = {verify}"))
        .hook_line("retries = 1")])
}

fn project(verify: &str, ca: &TestCa) -> Harness {
    let mut h = Harness::new(&inventory(verify), &[(".env", ENV)]);
    ca.write_cert(&h.project.join("ca.pem"));
    h.manage(".env", &["API_TOKEN"]);
    h.rotor(&["init"]).expect_code(0);
    h
}

#[test]
fn https_verify_hook_trusts_the_ca_of_tls_ca_file() {
    let ca = TestCa::new("rotor test CA");
    let health = HealthStub::start_tls(200, &ca.issue(&["127.0.0.1"]));
    let url = health.https_url();

    // Trusted through tls_ca_file: the rotation goes through.
    let mut h = project(
        &format!(r#"{{ http = "{url}", tls_ca_file = "ca.pem", timeout = "5s" }}"#),
        &ca,
    );
    h.rotor(&["plan"])
        .expect_code(0)
        .expect_output(&format!("GET {url} expects 200"));
    h.rotor(&["rotate", "api_token"]).expect_code(0);
    assert_ne!(
        h.env_var(".env", "API_TOKEN").as_deref(),
        Some("old-api-token-0123456789abcdef")
    );
    assert_eq!(health.hits(), 1, "the verify reached the TLS server");
    h.finish();

    // Without tls_ca_file the system's roots do not know the CA: verify
    // fails and the file is put back.
    let mut h = project(&format!(r#"{{ http = "{url}", timeout = "5s" }}"#), &ca);
    let run = h.rotor(&["rotate", "api_token"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    run.expect_output(&url);
    assert_eq!(h.project.read_string(".env"), ENV);
    h.finish();

    // Another CA in tls_ca_file is refused as well.
    let other = TestCa::new("some other CA");
    let mut h = project(
        &format!(r#"{{ http = "{url}", tls_ca_file = "ca.pem", timeout = "5s" }}"#),
        &other,
    );
    let run = h.rotor(&["rotate", "api_token"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(h.project.read_string(".env"), ENV);
    assert_eq!(health.hits(), 1, "no refused handshake was answered");
    h.finish();
}
