//! Peppered hashes: format, rotation and upgrade, distinct errors, no panics
//! on any input, and the recorded vectors in `tests/vectors/pepper.json`.

mod common;

use common::{python_checks_vectors, ring, ring_of, s, vectors};

use proptest::prelude::*;
use rotor_keyring::pepper::{self, PepperCheck};
use rotor_keyring::{KeyId, Keyring, KeyringError};
use serde_json::json;

// Test-only peppers: they are written in tests/vectors/pepper.json too.
const NEW: &str = "test-only-pepper-new-6bc1bee22e409f96e93d7e11";
const OLD: &str = "test-only-pepper-old-ae2d8a571e03ac9c9eb76fac";
const RETIRED: &str = "test-only-pepper-retired-30c81c46a35ce411e5fbc119";

fn overlap() -> Keyring {
    ring(&[NEW, OLD])
}

const MATCH_CURRENT: PepperCheck = PepperCheck {
    matches: true,
    needs_upgrade: false,
};
const NO_MATCH: PepperCheck = PepperCheck {
    matches: false,
    needs_upgrade: false,
};

#[test]
fn stored_form() {
    let r = overlap();
    let h = pepper::hash(&r, b"api-key-1");
    let parts: Vec<&str> = h.split('$').collect();
    assert_eq!(parts.len(), 3, "{h}");
    assert_eq!(parts[0], "ph1");
    assert_eq!(parts[1], KeyId::of(NEW.as_bytes()).as_str());
    assert_eq!(parts[2].len(), 43, "32 bytes of base64url without padding");
    assert!(parts[2]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(h, pepper::hash(&r, b"api-key-1"), "deterministic");
    assert_ne!(h, pepper::hash(&r, b"api-key-2"));
    assert!(!h.contains("api-key") && !h.contains("test-only"));
}

#[test]
fn round_trip_and_wrong_input() {
    let r = overlap();
    let h = pepper::hash(&r, b"token-abc");
    assert_eq!(
        pepper::verify(&r, b"token-abc", &h).expect("verify"),
        MATCH_CURRENT
    );
    for wrong in [&b""[..], b"token-abd", b"token-ab", b"token-abc "] {
        assert_eq!(pepper::verify(&r, wrong, &h).expect("verify"), NO_MATCH);
    }
}

#[test]
fn rotation_old_hash_verifies_and_needs_upgrade_then_is_unknown_after_retire() {
    let before = ring(&[OLD]);
    let h_old = pepper::hash(&before, b"token-abc");

    let during = overlap();
    assert_eq!(
        pepper::verify(&during, b"token-abc", &h_old).expect("verify"),
        PepperCheck {
            matches: true,
            needs_upgrade: true
        }
    );
    // a wrong input never asks for an upgrade (it would overwrite the hash)
    assert_eq!(
        pepper::verify(&during, b"token-xyz", &h_old).expect("verify"),
        NO_MATCH
    );
    let h_new = pepper::hash(&during, b"token-abc");
    assert_ne!(h_new, h_old);
    assert_eq!(
        pepper::verify(&during, b"token-abc", &h_new).expect("verify"),
        MATCH_CURRENT
    );

    let after = ring(&[NEW]);
    assert_eq!(
        pepper::verify(&after, b"token-abc", &h_old).expect_err("retired"),
        KeyringError::UnknownKeyId(KeyId::of(OLD.as_bytes()).to_string())
    );
    assert_eq!(
        pepper::verify(&after, b"token-abc", &h_new).expect("verify"),
        MATCH_CURRENT
    );
}

#[test]
fn candidates_cover_every_live_pepper() {
    let r = overlap();
    let c = pepper::hash_candidates(&r, b"lookup-token");
    assert_eq!(c.len(), 2);
    assert_eq!(c[0], pepper::hash(&r, b"lookup-token"));
    assert_eq!(c[1], pepper::hash(&ring(&[OLD]), b"lookup-token"));
}

#[test]
fn malformed_and_unknown_are_distinct() {
    let r = overlap();
    let good = pepper::hash(&r, b"x");
    let (_, mac) = good.rsplit_once('$').expect("mac");
    let retired = KeyId::of(RETIRED.as_bytes());
    assert_eq!(
        pepper::verify(&r, b"x", &format!("ph1${retired}${mac}")).expect_err("unknown"),
        KeyringError::UnknownKeyId(retired.to_string())
    );
    let kid = KeyId::of(NEW.as_bytes());
    for bad in [
        String::new(),
        "ph1$".to_owned(),
        "ph1$$".to_owned(),
        format!("ph2${kid}${mac}"),
        format!("PH1${kid}${mac}"),
        format!("ph1${}${mac}", kid.as_str().to_uppercase()),
        format!("ph1${}${mac}", &kid.as_str()[..15]),
        format!("ph1${kid}0${mac}"),
        format!("ph1${kid}"),
        format!("ph1${kid}$"),
        format!("ph1${kid}${mac}="),
        format!("ph1${kid}${}", &mac[..42]),
        format!("ph1${kid}${mac}A"),
        format!("ph1${kid}${mac}$"),
        format!(
            "ph1${kid}${}",
            mac.replace(|c: char| c.is_alphanumeric(), "+")
        ),
        format!(" {good}"),
        format!("{good}\n"),
        "$2b$12$abcdefghijklmnopqrstuv".to_owned(),
    ] {
        assert!(
            matches!(
                pepper::verify(&r, b"x", &bad),
                Err(KeyringError::PepperMalformed(_))
            ),
            "{bad:?}: {:?}",
            pepper::verify(&r, b"x", &bad)
        );
    }
}

#[test]
fn every_single_char_edit_fails() {
    let r = overlap();
    let good = pepper::hash(&r, b"input");
    let alphabet = "0123456789abcdefABCDEF-_$.";
    for i in 0..good.len() {
        for c in alphabet.chars() {
            let mut bad = good.clone();
            bad.replace_range(i..i + 1, &c.to_string());
            if bad == good {
                continue;
            }
            // an error, or a clean "no match": never a match, never a panic
            if let Ok(check) = pepper::verify(&r, b"input", &bad) {
                assert_eq!(check, NO_MATCH, "{bad}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn verify_never_panics(s in ".{0,100}", mac in "[A-Za-z0-9_=+/-]{0,60}", input in proptest::collection::vec(any::<u8>(), 0..40)) {
        let r = overlap();
        let _ = pepper::verify(&r, &input, &s);
        let shaped = format!("ph1${}${mac}", KeyId::of(NEW.as_bytes()));
        if let Ok(check) = pepper::verify(&r, &input, &shaped) {
            prop_assert!(!check.matches);
        }
    }

    #[test]
    fn only_the_same_input_matches(a in proptest::collection::vec(any::<u8>(), 0..64), b in proptest::collection::vec(any::<u8>(), 0..64)) {
        let r = overlap();
        let h = pepper::hash(&r, &a);
        prop_assert_eq!(pepper::verify(&r, &b, &h).expect("verify").matches, a == b);
    }
}

// ---------------------------------------------------------------- vectors

#[test]
fn recorded_vectors_still_verify() {
    let v = vectors("pepper");
    let cases = v["cases"].as_array().expect("cases");
    assert!(cases.len() >= 4);
    let mut upgrades = 0;
    for c in cases {
        let name = s(c, "name");
        let r = ring_of(c);
        let input = hex::decode(s(c, "input_hex")).expect("input hex");
        let stored = s(c, "stored");
        let check = pepper::verify(&r, &input, stored).expect(name);
        assert!(check.matches, "{name}");
        assert_eq!(
            check.needs_upgrade,
            c["needs_upgrade"].as_bool().expect("needs_upgrade"),
            "{name}"
        );
        upgrades += usize::from(check.needs_upgrade);
        // hashing is deterministic: the same pepper gives the same string
        assert_eq!(
            pepper::hash(&ring(&[s(c, "hashed_with")]), &input),
            stored,
            "{name}"
        );
    }
    assert!(
        upgrades >= 1,
        "vectors include hashes under a previous pepper"
    );

    for e in v["errors"].as_array().expect("errors") {
        let name = s(e, "name");
        let err = pepper::verify(&ring_of(e), b"", s(e, "stored")).expect_err(name);
        let variant: String = format!("{err:?}")
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert_eq!(variant, s(e, "error"), "{name}");
    }
}

/// Prints the vectors; run once with `cargo test -p rotor-keyring --test
/// pepper -- --ignored generate_vectors --nocapture` and commit the output
/// as tests/vectors/pepper.json. Never regenerate them to make a test pass.
#[test]
#[ignore]
fn generate_vectors() {
    let case = |name: &str, ring_values: &[&str], pepper_value: &str, input: &[u8]| {
        let stored = pepper::hash(&ring(&[pepper_value]), input);
        json!({
            "name": name,
            "ring": ring_values,
            "hashed_with": pepper_value,
            "input_hex": hex::encode(input),
            "stored": stored,
            "needs_upgrade": pepper::verify(&ring(ring_values), input, &stored).expect("verify").needs_upgrade,
        })
    };
    let doc = json!({
        "description": "rotor-keyring peppered hashes v1: stored = \"ph1$\" + key id (first 16 hex of SHA-256 of the pepper) + \"$\" + base64url-no-pad(HMAC-SHA256(key = pepper value bytes, input)). Produced once by tests/pepper.rs generate_vectors and checked forever. The peppers are test-only values.",
        "test_only_peppers": { "new": NEW, "old": OLD, "retired": RETIRED },
        "cases": [
            case("current pepper, API key", &[NEW, OLD], NEW, b"rk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            case("current pepper, empty input", &[NEW, OLD], NEW, b""),
            case("previous pepper (needs upgrade)", &[NEW, OLD], OLD, b"rk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            case("previous pepper, binary input", &[NEW, OLD], OLD, &(0u8..=255).collect::<Vec<u8>>()),
            case("only pepper", &[OLD], OLD, "ünïcödé token ✓".as_bytes()),
        ],
        "errors": [
            { "name": "pepper retired by rotor", "ring": [NEW, OLD], "stored": pepper::hash(&ring(&[RETIRED]), b""), "error": "UnknownKeyId" },
            { "name": "previous pepper after retire", "ring": [NEW], "stored": pepper::hash(&ring(&[OLD]), b""), "error": "UnknownKeyId" },
            { "name": "bcrypt hash is not a peppered hash", "ring": [NEW], "stored": "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", "error": "PepperMalformed" },
            { "name": "unknown version", "ring": [NEW], "stored": pepper::hash(&ring(&[NEW]), b"").replacen("ph1$", "ph2$", 1), "error": "PepperMalformed" },
        ],
    });
    println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
}

/// An independent implementation (Python's standard library) produces the
/// recorded hashes. Needs python3; run with `--ignored`.
#[test]
#[ignore]
fn vectors_match_python_hmac() {
    let script = r#"
import base64, hashlib, hmac, json, sys
doc = json.load(open(sys.argv[1]))
n = 0
for c in doc["cases"]:
    p = c["hashed_with"].encode()
    mac = hmac.new(p, bytes.fromhex(c["input_hex"]), hashlib.sha256).digest()
    kid = hashlib.sha256(p).hexdigest()[:16]
    want = "ph1$" + kid + "$" + base64.urlsafe_b64encode(mac).decode().rstrip("=")
    assert want == c["stored"], (c["name"], want)
    n += 1
print("matched", n)
"#;
    python_checks_vectors(script, "pepper");
}
