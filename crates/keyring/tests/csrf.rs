//! CSRF tokens: the api-forge format, hour truncation, expiry and clock skew,
//! rotation, distinct errors, no panics on any input, and the recorded
//! vectors in `tests/vectors/csrf.json`.

mod common;

use common::{python_checks_vectors, ring, ring_of, s, vectors};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use rotor_keyring::{csrf, Keyring, KeyringError};
use serde_json::{json, Value};

// Test-only secrets: they are written in tests/vectors/csrf.json too.
const NEW: &str = "test-only-csrf-secret-new-f69f2445df4f9b17ad2b417b";
const OLD: &str = "test-only-csrf-secret-old-e5a30f1e7f0a6e0e3fb2bd46";
const RETIRED: &str = "test-only-csrf-secret-retired-5c6e1b0f6e8a3d3d0e1b";

const HOUR: u64 = 3600;
/// 2023-11-14T22:13:20Z, not on an hour boundary.
const T: u64 = 1_700_000_000;
/// T truncated to the hour.
const H: u64 = T - T % HOUR;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn check(r: &Keyring, session: &str, token: &str, now: u64) -> Result<(), KeyringError> {
    csrf::verify(r, session, token, at(now), csrf::DEFAULT_MAX_AGE)
}

#[test]
fn token_format_and_hour_truncation() {
    let r = ring(&[NEW]);
    let token = csrf::issue(&r, "sess-1", at(T));
    let (ts, sig) = token.split_once(':').expect("colon");
    assert_eq!(ts, H.to_string());
    assert_eq!(sig.len(), 64);
    assert!(sig.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));

    // the same token for the whole hour, a new one at the next
    assert_eq!(csrf::issue(&r, "sess-1", at(H)), token);
    assert_eq!(csrf::issue(&r, "sess-1", at(H + HOUR - 1)), token);
    assert_ne!(csrf::issue(&r, "sess-1", at(H + HOUR)), token);
    assert!(csrf::issue(&r, "sess-1", at(H + HOUR)).starts_with(&format!("{}:", H + HOUR)));
    // and per session
    assert_ne!(csrf::issue(&r, "sess-2", at(T)), token);
}

#[test]
fn matches_the_api_forge_formula() {
    // hmac(secret, session_id + ":" + timestamp), hex, computed directly
    use aws_lc_rs::hmac;
    let r = ring(&[NEW]);
    let k = hmac::Key::new(hmac::HMAC_SHA256, NEW.as_bytes());
    let want = format!(
        "{H}:{}",
        hex::encode(hmac::sign(&k, format!("sess-1:{H}").as_bytes()))
    );
    assert_eq!(csrf::issue(&r, "sess-1", at(T)), want);
}

#[test]
fn round_trip_and_session_binding() {
    let r = ring(&[NEW, OLD]);
    let token = csrf::issue(&r, "sess-1", at(T));
    assert_eq!(check(&r, "sess-1", &token, T), Ok(()));
    assert_eq!(
        check(&r, "sess-2", &token, T),
        Err(KeyringError::CsrfBadSignature)
    );
    assert_eq!(
        check(&r, "", &token, T),
        Err(KeyringError::CsrfBadSignature)
    );
    // a session id with a colon cannot be confused with the timestamp
    let t2 = csrf::issue(&r, "a:b", at(T));
    assert_eq!(check(&r, "a:b", &t2, T), Ok(()));
    assert_eq!(check(&r, "a", &t2, T), Err(KeyringError::CsrfBadSignature));
}

#[test]
fn expiry_counts_from_the_truncated_hour() {
    let r = ring(&[NEW]);
    let token = csrf::issue(&r, "s", at(T));
    let max = csrf::DEFAULT_MAX_AGE.as_secs();
    assert_eq!(max, 12 * HOUR);
    assert_eq!(check(&r, "s", &token, H + max), Ok(()));
    assert_eq!(
        check(&r, "s", &token, H + max + 1),
        Err(KeyringError::CsrfExpired {
            age_secs: max + 1,
            max_age_secs: max
        })
    );
    // a shorter max age
    let one_hour = Duration::from_secs(HOUR);
    assert_eq!(
        csrf::verify(&r, "s", &token, at(H + HOUR), one_hour),
        Ok(())
    );
    assert!(matches!(
        csrf::verify(&r, "s", &token, at(H + HOUR + 1), one_hour),
        Err(KeyringError::CsrfExpired { .. })
    ));
}

#[test]
fn future_tokens_beyond_the_skew_are_refused() {
    let r = ring(&[NEW]);
    let token = csrf::issue(&r, "s", at(T)); // dated H
    assert_eq!(csrf::MAX_CLOCK_SKEW, Duration::from_secs(HOUR));
    assert_eq!(check(&r, "s", &token, H - HOUR), Ok(()));
    assert_eq!(
        check(&r, "s", &token, H - HOUR - 1),
        Err(KeyringError::CsrfFromTheFuture {
            ahead_secs: HOUR + 1
        })
    );
}

#[test]
fn rotation_overlap_then_retire() {
    let before = ring(&[OLD]);
    let token = csrf::issue(&before, "sess-1", at(T));

    // rotor rotates: new current, old previous. The old token still works.
    let during = ring(&[NEW, OLD]);
    assert_eq!(check(&during, "sess-1", &token, T + 60), Ok(()));
    // new tokens are signed with the new key and work too
    let fresh = csrf::issue(&during, "sess-1", at(T + 60));
    assert_ne!(fresh, token);
    assert_eq!(check(&during, "sess-1", &fresh, T + 60), Ok(()));
    assert_eq!(check(&ring(&[NEW]), "sess-1", &fresh, T + 60), Ok(()));

    // rotor retires the old key: the old token is refused
    let after = ring(&[NEW]);
    assert_eq!(
        check(&after, "sess-1", &token, T + 60),
        Err(KeyringError::CsrfBadSignature)
    );
    // and a token under a key that was never on the ring is refused
    let foreign = csrf::issue(&ring(&[RETIRED]), "sess-1", at(T));
    assert_eq!(
        check(&during, "sess-1", &foreign, T),
        Err(KeyringError::CsrfBadSignature)
    );
}

#[test]
fn signature_is_checked_before_age() {
    let r = ring(&[NEW]);
    // genuine but old: expired
    let old = csrf::issue(&r, "s", at(T));
    assert!(matches!(
        check(&r, "s", &old, T + 100 * HOUR),
        Err(KeyringError::CsrfExpired { .. })
    ));
    // forged (another key) and old: a bad signature, not "expired"
    let forged = csrf::issue(&ring(&[RETIRED]), "s", at(T));
    assert_eq!(
        check(&r, "s", &forged, T + 100 * HOUR),
        Err(KeyringError::CsrfBadSignature)
    );
    // forged and from the future: a bad signature
    assert_eq!(
        check(&r, "s", &forged, T - 100 * HOUR),
        Err(KeyringError::CsrfBadSignature)
    );
}

#[test]
fn malformed_tokens() {
    let r = ring(&[NEW]);
    let good = csrf::issue(&r, "s", at(T));
    let (ts, sig) = good.split_once(':').expect("colon");
    for bad in [
        String::new(),
        ":".to_owned(),
        "abc".to_owned(),
        ts.to_owned(),
        format!("{ts}:"),
        format!(":{sig}"),
        format!("-{ts}:{sig}"),
        format!("+{ts}:{sig}"),
        format!(" {ts}:{sig}"),
        format!("{ts}a:{sig}"),
        format!("{ts}:{}", &sig[..63]),
        format!("{ts}:{sig}0"),
        format!("{ts}:{sig}:x"),
        format!("{ts}:{sig}\n"),
        format!("{ts}:{}g", &sig[..63]),
        format!("99999999999999999999999:{sig}"),
        format!("18446744073709551616:{sig}"),
        format!("{ts}.0:{sig}"),
    ] {
        assert!(
            matches!(check(&r, "s", &bad, T), Err(KeyringError::CsrfMalformed(_))),
            "{bad:?}: {:?}",
            check(&r, "s", &bad, T)
        );
    }
}

#[test]
fn every_single_char_edit_fails() {
    let r = ring(&[NEW, OLD]);
    let good = csrf::issue(&r, "s", at(T));
    for i in 0..good.len() {
        for c in "0123456789abcdefABCDEF:x".chars() {
            let mut bad = good.clone();
            bad.replace_range(i..i + 1, &c.to_string());
            if bad == good || bad.eq_ignore_ascii_case(&good) {
                continue;
            }
            assert!(check(&r, "s", &bad, T).is_err(), "{bad}");
        }
    }
    // every prefix fails
    for len in 0..good.len() {
        assert!(check(&r, "s", &good[..len], T).is_err());
    }
}

#[test]
fn clocks_before_the_epoch_do_not_panic() {
    let r = ring(&[NEW]);
    let before = UNIX_EPOCH - Duration::from_secs(10);
    let token = csrf::issue(&r, "s", before);
    assert!(token.starts_with("0:"));
    assert_eq!(
        csrf::verify(&r, "s", &token, before, csrf::DEFAULT_MAX_AGE),
        Ok(())
    );
    // a token dated at the end of time
    assert!(check(&r, "s", &format!("{}:{}", u64::MAX, "0".repeat(64)), T).is_err());
}

#[test]
fn errors_never_show_key_material() {
    let r = ring(&[NEW]);
    for e in [
        check(&r, "s", "junk", T),
        check(&r, "s", &csrf::issue(&ring(&[OLD]), "s", at(T)), T),
    ] {
        let shown = format!("{e:?} {}", e.clone().expect_err("error"));
        assert!(!shown.contains("test-only"), "{shown}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn verify_never_panics(token in ".{0,100}", shaped in "[0-9]{0,22}:[0-9a-fA-F]{0,70}", session in ".{0,20}", now in any::<u64>()) {
        let r = ring(&[NEW, OLD]);
        let now = UNIX_EPOCH.checked_add(Duration::from_secs(now)).unwrap_or(UNIX_EPOCH);
        prop_assert!(csrf::verify(&r, &session, &token, now, csrf::DEFAULT_MAX_AGE).is_err());
        prop_assert!(csrf::verify(&r, &session, &shaped, now, csrf::DEFAULT_MAX_AGE).is_err());
        prop_assert!(csrf::verify(&r, &session, &token, now, Duration::MAX).is_err());
    }

    #[test]
    fn any_session_round_trips(session in ".{0,64}", now in 0u64..4_000_000_000, offset in 0u64..=(11 * 3600)) {
        let r = ring(&[NEW, OLD]);
        let token = csrf::issue(&r, &session, at(now));
        prop_assert_eq!(check(&r, &session, &token, now + offset), Ok(()));
    }
}

// ---------------------------------------------------------------- vectors

fn num(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("field {field} in {v}"))
}

#[test]
fn recorded_vectors_still_verify() {
    let v = vectors("csrf");
    let cases = v["cases"].as_array().expect("cases");
    assert!(cases.len() >= 4);
    let mut under_previous = 0;
    for c in cases {
        let name = s(c, "name");
        let r = ring_of(c);
        let token = s(c, "token");
        let session = s(c, "session_id");
        assert_eq!(
            csrf::verify(
                &r,
                session,
                token,
                at(num(c, "verify_at")),
                csrf::DEFAULT_MAX_AGE
            ),
            Ok(()),
            "{name}"
        );
        // issuing is deterministic: the same key, session and hour give it
        let issuer = ring(&[s(c, "issued_with")]);
        assert_eq!(
            csrf::issue(&issuer, session, at(num(c, "issued_at"))),
            token,
            "{name}"
        );
        under_previous += usize::from(r.current().id() != issuer.current().id());
    }
    assert!(
        under_previous >= 1,
        "vectors include tokens under a previous key"
    );

    for e in v["errors"].as_array().expect("errors") {
        let name = s(e, "name");
        let err = csrf::verify(
            &ring_of(e),
            s(e, "session_id"),
            s(e, "token"),
            at(num(e, "verify_at")),
            csrf::DEFAULT_MAX_AGE,
        )
        .expect_err(name);
        let variant: String = format!("{err:?}")
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert_eq!(variant, s(e, "error"), "{name}");
    }
}

/// Prints the vectors; run once with `cargo test -p rotor-keyring --test
/// csrf -- --ignored generate_vectors --nocapture` and commit the output as
/// tests/vectors/csrf.json. Never regenerate them to make a test pass.
#[test]
#[ignore]
fn generate_vectors() {
    let case = |name: &str,
                ring_values: &[&str],
                key: &str,
                session: &str,
                issued: u64,
                verify_at: u64| {
        json!({
            "name": name,
            "ring": ring_values,
            "issued_with": key,
            "session_id": session,
            "issued_at": issued,
            "verify_at": verify_at,
            "token": csrf::issue(&ring(&[key]), session, at(issued)),
        })
    };
    let err = |name: &str,
               ring_values: &[&str],
               key: &str,
               session: &str,
               token_session: &str,
               issued: u64,
               verify_at: u64,
               error: &str| {
        json!({
            "name": name,
            "ring": ring_values,
            "session_id": session,
            "verify_at": verify_at,
            "token": csrf::issue(&ring(&[key]), token_session, at(issued)),
            "error": error,
        })
    };
    let doc = json!({
        "description": "rotor-keyring CSRF tokens (api-forge format): token = ts + \":\" + hex(HMAC-SHA256(key = secret value bytes, session_id + \":\" + ts)), ts = Unix seconds truncated to the hour; valid when signed by any live key, age <= 12h (default), at most 1h in the future. Produced once by tests/csrf.rs generate_vectors and checked forever. The secrets are test-only values.",
        "test_only_secrets": { "new": NEW, "old": OLD, "retired": RETIRED },
        "cases": [
            case("current key", &[NEW, OLD], NEW, "sess-9f8e7d", T, T),
            case("current key, at the 12h limit", &[NEW, OLD], NEW, "sess-9f8e7d", T, H + 12 * HOUR),
            case("previous key during the overlap", &[NEW, OLD], OLD, "sess-9f8e7d", T, T + 1800),
            case("only key, before the rotation", &[OLD], OLD, "ünïcödé-session", T, T),
            case("issued on the hour", &[NEW], NEW, "s", H, H),
            case("clock 1h behind the issuer", &[NEW], NEW, "s", T, H - HOUR),
        ],
        "errors": [
            err("previous key after retire", &[NEW], OLD, "sess-9f8e7d", "sess-9f8e7d", T, T, "CsrfBadSignature"),
            err("another session's token", &[NEW, OLD], NEW, "sess-9f8e7d", "sess-other", T, T, "CsrfBadSignature"),
            err("expired", &[NEW, OLD], NEW, "sess-9f8e7d", "sess-9f8e7d", T, H + 12 * HOUR + 1, "CsrfExpired"),
            err("from the future", &[NEW], NEW, "s", "s", T, H - HOUR - 1, "CsrfFromTheFuture"),
            { "name": "not a token", "ring": [NEW], "session_id": "s", "verify_at": T, "token": "not-a-token", "error": "CsrfMalformed" },
        ],
    });
    println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
}

/// The api-forge formula in Python's standard library produces the recorded
/// tokens. Needs python3; run with `--ignored`.
#[test]
#[ignore]
fn vectors_match_python_hmac() {
    let script = r#"
import hashlib, hmac, json, sys
doc = json.load(open(sys.argv[1]))
n = 0
for c in doc["cases"]:
    ts = str(int(c["issued_at"]) // 3600 * 3600)
    sig = hmac.new(c["issued_with"].encode(), f'{c["session_id"]}:{ts}'.encode(), hashlib.sha256).hexdigest()
    assert f"{ts}:{sig}" == c["token"], c["name"]
    n += 1
print("matched", n)
"#;
    python_checks_vectors(script, "csrf");
}
