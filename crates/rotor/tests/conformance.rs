//! Every target and authority rotor ships passes the one conformance suite
//! (rotor-testkit): today the dotenv target, in each of its layouts, over
//! files with comments, quotes, `export`, CRLF and missing variables, and the
//! app-only authority.

use std::path::PathBuf;

use rotor::authority::NoAuthority;
use rotor::inventory::{DotenvFormat, DotenvTarget};
use rotor_testkit::conformance::{authority_suite, target_suite};

const SAMPLES: &[&[u8]] = &[
    b"",
    b"# nothing managed here\nOTHER=1\n",
    b"KEY=old-value-1234567\nKEY_PREVIOUS=\nOTHER=1\n",
    b"export KEY='old-value-1234567' # signing key\r\nKEY_PREVIOUS=older-value-7654321\r\n\r\nOTHER=\"x y\"\r\n",
    b"# list layout\nKEY=old-value-1234567,older-value-7654321\nTAIL=1",
];

fn target(format: DotenvFormat, previous_var: Option<&str>) -> DotenvTarget {
    DotenvTarget {
        path: PathBuf::from(".env"),
        var: "KEY".into(),
        previous_var: previous_var.map(str::to_owned),
        format,
        mode: 0o600,
        form: rotor::inventory::ValueForm::Plain,
        user_var: None,
    }
}

/// What another program might do to the file meanwhile: add a line.
fn foreign_edit(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(b"ADDED_BY_SOMEONE_ELSE=1\n");
    out
}

#[test]
fn dotenv_pair_with_previous() {
    let checks = target_suite(
        &target(DotenvFormat::Pair, Some("KEY_PREVIOUS")),
        SAMPLES,
        foreign_edit,
    );
    assert_eq!(checks, SAMPLES.len() * 11);
}

#[test]
fn dotenv_pair_without_previous() {
    let checks = target_suite(&target(DotenvFormat::Pair, None), SAMPLES, foreign_edit);
    assert_eq!(checks, SAMPLES.len() * 11);
}

#[test]
fn dotenv_list() {
    let checks = target_suite(&target(DotenvFormat::List, None), SAMPLES, foreign_edit);
    assert_eq!(checks, SAMPLES.len() * 11);
}

#[test]
fn app_only_authority() {
    assert_eq!(authority_suite(&NoAuthority, None, None), 9);
}
