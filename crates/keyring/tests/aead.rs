//! AEAD seal/open: round trips, rotation, distinct errors, no panics on any
//! input, and the recorded vectors in `tests/vectors/aead.json`.

mod common;

use common::{python_checks_vectors, ring, ring_of, s, vectors};

use proptest::prelude::*;
use rotor_keyring::{aead, KeyId, Keyring, KeyringError};
use serde_json::json;

// Test-only keys: they are written in tests/vectors/aead.json too.
const NEW: &str = "test-only-aead-key-new-2b7e151628aed2a6abf71588";
const OLD: &str = "test-only-aead-key-old-3243f6a8885a308d313198a2";
const RETIRED: &str = "test-only-aead-key-retired-a4093822299f31d0082efa98";
// 64 hex digits, the shape `rotor` generates for a 32-byte secret.
const HEX64: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn overlap() -> Keyring {
    ring(&[NEW, OLD])
}

/// The variant name of an error, for the vectors.
fn variant(e: &KeyringError) -> String {
    format!("{e:?}")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect()
}

#[test]
fn round_trip() {
    let r = overlap();
    for pt in [&b""[..], b"x", b"hello world", &[0u8; 1000]] {
        for aad in [&b""[..], b"users/42/email"] {
            let ct = aead::seal(&r, pt, aad).expect("seal");
            assert_eq!(ct.len(), aead::MIN_CIPHERTEXT_LEN + pt.len());
            assert_eq!(ct[0], aead::FORMAT_VERSION);
            assert_eq!(&aead::open(&r, &ct, aad).expect("open")[..], pt);
            assert_eq!(&aead::key_id(&ct).expect("kid"), r.current().id());
            assert!(!aead::needs_reencrypt(&r, &ct).expect("needs"));
        }
    }
}

#[test]
fn nonces_differ() {
    let r = overlap();
    let a = aead::seal(&r, b"same", b"").expect("seal");
    let b = aead::seal(&r, b"same", b"").expect("seal");
    assert_ne!(a, b);
}

#[test]
fn key_id_is_the_rotor_fingerprint_in_raw_bytes() {
    let r = overlap();
    let ct = aead::seal(&r, b"p", b"").expect("seal");
    assert_eq!(hex::encode(&ct[1..9]), KeyId::of(NEW.as_bytes()).as_str());
}

#[test]
fn any_delivered_length_works() {
    for k in [
        "0123456789abcdef",
        HEX64,
        &"k".repeat(500),
        "ünïcödé-secret-value",
    ] {
        let r = ring(&[k]);
        let ct = aead::seal(&r, b"pt", b"aad").expect("seal");
        assert_eq!(&aead::open(&r, &ct, b"aad").expect("open")[..], b"pt");
    }
}

#[test]
fn previous_key_opens_and_needs_reencrypt() {
    let before = ring(&[OLD]);
    let ct = aead::seal(&before, b"secret data", b"row-1").expect("seal");
    let text = aead::seal_text(&before, b"secret data", b"row-1").expect("seal");

    let during = overlap();
    assert_eq!(
        &aead::open(&during, &ct, b"row-1").expect("open")[..],
        b"secret data"
    );
    assert!(aead::needs_reencrypt(&during, &ct).expect("needs"));
    assert!(aead::needs_reencrypt_text(&during, &text).expect("needs"));
    assert_eq!(
        aead::key_id(&ct).expect("kid"),
        KeyId::of(OLD.as_bytes()),
        "the id names the old key"
    );

    // Re-sealing moves it to the current key.
    let pt = aead::open_text(&during, &text, b"row-1").expect("open");
    let fresh = aead::seal_text(&during, &pt, b"row-1").expect("seal");
    assert!(!aead::needs_reencrypt_text(&during, &fresh).expect("needs"));

    // After rotor retires the old key, the old ciphertext names an unknown key.
    let after = ring(&[NEW]);
    let old_id = KeyId::of(OLD.as_bytes()).to_string();
    assert_eq!(
        aead::open(&after, &ct, b"row-1").expect_err("must fail"),
        KeyringError::UnknownKeyId(old_id.clone())
    );
    assert_eq!(
        aead::needs_reencrypt(&after, &ct).expect_err("must fail"),
        KeyringError::UnknownKeyId(old_id.clone())
    );
    let msg = aead::open(&after, &ct, b"row-1")
        .expect_err("must fail")
        .to_string();
    assert!(msg.contains(&old_id) && msg.contains("retired"), "{msg}");
    // while the re-sealed one is fine
    assert_eq!(
        &aead::open_text(&after, &fresh, b"row-1").expect("open")[..],
        b"secret data"
    );
}

#[test]
fn wrong_aad_is_tampered() {
    let r = overlap();
    let ct = aead::seal(&r, b"pt", b"users/42").expect("seal");
    for aad in [&b""[..], b"users/43", b"users/42 ", b"users/4"] {
        assert_eq!(
            aead::open(&r, &ct, aad).expect_err("must fail"),
            KeyringError::Tampered
        );
    }
}

#[test]
fn every_single_byte_flip_fails_with_the_right_error() {
    let r = overlap();
    let ct = aead::seal(&r, b"a plaintext of some length", b"aad").expect("seal");
    for i in 0..ct.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = ct.clone();
            bad[i] ^= mask;
            let err = aead::open(&r, &bad, b"aad").expect_err("a flipped byte must not open");
            match i {
                0 => assert!(
                    matches!(err, KeyringError::UnknownFormatVersion(_)),
                    "{err:?}"
                ),
                1..=8 => assert!(matches!(err, KeyringError::UnknownKeyId(_)), "{err:?}"),
                _ => assert_eq!(err, KeyringError::Tampered, "byte {i}"),
            }
        }
    }
}

#[test]
fn truncated_at_every_length_fails() {
    let r = overlap();
    let ct = aead::seal(&r, b"some plaintext", b"aad").expect("seal");
    for len in 0..ct.len() {
        let err = aead::open(&r, &ct[..len], b"aad").expect_err("truncated must not open");
        if len < aead::MIN_CIPHERTEXT_LEN {
            assert!(
                matches!(err, KeyringError::CiphertextTruncated { len: l, .. } if l == len),
                "{len}: {err:?}"
            );
            if len > 0 {
                assert!(aead::key_id(&ct[..len]).is_err());
            }
        } else {
            assert_eq!(err, KeyringError::Tampered, "{len}");
        }
    }
    // and with bytes appended
    let mut longer = ct.clone();
    longer.push(0);
    assert_eq!(
        aead::open(&r, &longer, b"aad").expect_err("must fail"),
        KeyringError::Tampered
    );
}

#[test]
fn unknown_format_version() {
    let r = overlap();
    let mut ct = aead::seal(&r, b"pt", b"").expect("seal");
    ct[0] = 2;
    assert_eq!(
        aead::open(&r, &ct, b"").expect_err("must fail"),
        KeyringError::UnknownFormatVersion(2)
    );
    // even when short: the version is what is wrong
    assert_eq!(
        aead::open(&r, &[7], b"").expect_err("must fail"),
        KeyringError::UnknownFormatVersion(7)
    );
    assert_eq!(
        aead::open(&r, &[], b"").expect_err("must fail"),
        KeyringError::CiphertextTruncated {
            len: 0,
            min: aead::MIN_CIPHERTEXT_LEN
        }
    );
}

#[test]
fn text_form_round_trip() {
    let r = overlap();
    let ct = aead::seal_text(&r, "ünïcode ✓".as_bytes(), b"t").expect("seal");
    assert!(ct.starts_with("rk1."));
    assert!(ct[4..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(
        &aead::open_text(&r, &ct, b"t").expect("open")[..],
        "ünïcode ✓".as_bytes()
    );
    assert_eq!(&aead::key_id_text(&ct).expect("kid"), r.current().id());
}

#[test]
fn text_form_errors() {
    let r = overlap();
    let ct = aead::seal_text(&r, b"pt", b"").expect("seal");
    for bad in [
        "",
        "rk1",
        "rk2.AAAA",
        "RK1.AAAA",
        " rk1.AAAA",
        &ct[4..],
        &format!("{ct}="),
        &format!("{ct} "),
        &format!("{ct}\n"),
        &ct.replace('_', "/"),
        "rk1.!!!!",
    ] {
        if bad == ct {
            continue;
        }
        match aead::open_text(&r, bad, b"") {
            Err(KeyringError::CiphertextMalformed(_)) => {}
            // the text decodes, but the bytes are short (or replaced `_`
            // is absent and the decode happens to succeed)
            Err(KeyringError::CiphertextTruncated { .. }) | Err(KeyringError::Tampered) => {}
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    // every prefix of a valid text form is an error, never a panic
    for len in 0..ct.len() {
        if ct.is_char_boundary(len) {
            assert!(aead::open_text(&r, &ct[..len], b"").is_err(), "{len}");
        }
    }
}

#[test]
fn errors_never_show_key_material() {
    let r = overlap();
    let ct = aead::seal(&r, b"plaintext-marker", b"").expect("seal");
    let mut bad = ct.clone();
    bad[30] ^= 1;
    for e in [
        aead::open(&r, &bad, b"").expect_err("must fail"),
        aead::open(&ring(&[RETIRED]), &ct, b"").expect_err("must fail"),
    ] {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("test-only") && !shown.contains("plaintext-marker"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn open_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200), aad in proptest::collection::vec(any::<u8>(), 0..20)) {
        let r = overlap();
        prop_assert!(aead::open(&r, &bytes, &aad).is_err());
        let _ = aead::key_id(&bytes);
        let _ = aead::needs_reencrypt(&r, &bytes);
    }

    #[test]
    fn open_never_panics_on_random_headers(kid_is_live in any::<bool>(), tail in proptest::collection::vec(any::<u8>(), 0..100)) {
        // a valid version and (maybe) a live key id, then noise: reaches the
        // authentication step
        let r = overlap();
        let mut bytes = vec![aead::FORMAT_VERSION];
        let id = if kid_is_live { KeyId::of(OLD.as_bytes()) } else { KeyId::of(RETIRED.as_bytes()) };
        bytes.extend(hex::decode(id.as_str()).expect("hex"));
        bytes.extend(tail);
        prop_assert!(aead::open(&r, &bytes, b"").is_err());
    }

    #[test]
    fn open_text_never_panics_on_random_strings(s in ".{0,120}", b64 in "[A-Za-z0-9_=+/-]{0,120}") {
        let r = overlap();
        prop_assert!(aead::open_text(&r, &s, b"").is_err());
        let prefixed = format!("rk1.{b64}");
        prop_assert!(aead::open_text(&r, &prefixed, b"").is_err());
        let _ = aead::needs_reencrypt_text(&r, &s);
        let _ = aead::key_id_text(&s);
    }

    #[test]
    fn round_trip_any_plaintext(pt in proptest::collection::vec(any::<u8>(), 0..300), aad in proptest::collection::vec(any::<u8>(), 0..40)) {
        let r = overlap();
        let ct = aead::seal_text(&r, &pt, &aad).expect("seal");
        prop_assert_eq!(&aead::open_text(&r, &ct, &aad).expect("open")[..], &pt[..]);
    }
}

// ---------------------------------------------------------------- vectors

#[test]
fn recorded_vectors_still_open() {
    let v = vectors("aead");
    let cases = v["cases"].as_array().expect("cases");
    assert!(cases.len() >= 6);
    let mut under_previous = 0;
    for c in cases {
        let name = s(c, "name");
        let r = ring_of(c);
        let aad = hex::decode(s(c, "aad_hex")).expect("aad hex");
        let pt = hex::decode(s(c, "plaintext_hex")).expect("plaintext hex");
        let bin = hex::decode(s(c, "ciphertext_hex")).expect("ciphertext hex");
        let text = s(c, "ciphertext_text");
        assert_eq!(
            &aead::open(&r, &bin, &aad).expect(name)[..],
            &pt[..],
            "{name}"
        );
        assert_eq!(
            &aead::open_text(&r, text, &aad).expect(name)[..],
            &pt[..],
            "{name}"
        );
        assert_eq!(
            aead::key_id(&bin).expect(name).as_str(),
            s(c, "key_id"),
            "{name}"
        );
        assert_eq!(
            KeyId::of(s(c, "sealed_with").as_bytes()).as_str(),
            s(c, "key_id"),
            "{name}"
        );
        let needs = c["needs_reencrypt"].as_bool().expect("needs_reencrypt");
        assert_eq!(
            aead::needs_reencrypt(&r, &bin).expect(name),
            needs,
            "{name}"
        );
        assert_eq!(
            aead::needs_reencrypt_text(&r, text).expect(name),
            needs,
            "{name}"
        );
        under_previous += usize::from(needs);
    }
    assert!(
        under_previous >= 2,
        "vectors include ciphertexts under a previous key"
    );

    for e in v["errors"].as_array().expect("errors") {
        let name = s(e, "name");
        let r = ring_of(e);
        let aad = hex::decode(s(e, "aad_hex")).expect("aad hex");
        let err = aead::open_text(&r, s(e, "ciphertext_text"), &aad).expect_err(name);
        assert_eq!(variant(&err), s(e, "error"), "{name}: {err:?}");
    }
}

/// Prints the vectors; run once with `cargo test -p rotor-keyring --test aead
/// -- --ignored generate_vectors --nocapture` and commit the output as
/// tests/vectors/aead.json. Never regenerate them to make a test pass.
#[test]
#[ignore]
fn generate_vectors() {
    let case = |name: &str, ring_values: &[&str], sealer: &str, pt: &[u8], aad: &[u8]| {
        let r = ring(ring_values);
        let ct = aead::seal(&ring(&[sealer]), pt, aad).expect("seal");
        let text = format!("rk1.{}", {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&ct)
        });
        json!({
            "name": name,
            "ring": ring_values,
            "sealed_with": sealer,
            "key_id": KeyId::of(sealer.as_bytes()).as_str(),
            "plaintext_hex": hex::encode(pt),
            "aad_hex": hex::encode(aad),
            "ciphertext_hex": hex::encode(&ct),
            "ciphertext_text": text,
            "needs_reencrypt": aead::needs_reencrypt(&r, &ct).expect("needs"),
        })
    };
    let err = |name: &str, ring_values: &[&str], text: String, aad: &[u8], error: &str| {
        json!({
            "name": name,
            "ring": ring_values,
            "ciphertext_text": text,
            "aad_hex": hex::encode(aad),
            "error": error,
        })
    };
    let sealed = |sealer: &str, pt: &[u8], aad: &[u8]| {
        aead::seal_text(&ring(&[sealer]), pt, aad).expect("seal")
    };
    let mut edited = aead::seal(&ring(&[NEW]), b"edited", b"aad").expect("seal");
    let last = edited.len() - 1;
    edited[last] ^= 1;
    let mut v2 = aead::seal(&ring(&[NEW]), b"v2", b"").expect("seal");
    v2[0] = 2;
    let b64 = |b: &[u8]| {
        use base64::Engine;
        format!(
            "rk1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        )
    };

    let doc = json!({
        "description": "rotor-keyring AEAD format v1 (AES-256-GCM; key = HKDF-SHA256(salt empty, ikm = key value bytes, info \"rotor-keyring aead v1\"); ciphertext = 0x01 || key id (8 bytes) || nonce (12) || ct || tag (16); AAD = caller's; text form = \"rk1.\" + base64url without padding). Produced once by tests/aead.rs generate_vectors and checked forever. The keys are test-only values.",
        "test_only_keys": { "new": NEW, "old": OLD, "retired": RETIRED, "hex64": HEX64 },
        "cases": [
            case("current key, text and aad", &[NEW, OLD], NEW, b"4111 1111 1111 1111", b"users/42/card"),
            case("current key, empty plaintext", &[NEW, OLD], NEW, b"", b"users/42/note"),
            case("current key, empty aad", &[NEW, OLD], NEW, b"no associated data", b""),
            case("current key, binary plaintext", &[NEW, OLD], NEW, &(0u8..=255).collect::<Vec<u8>>(), &[0, 1, 2, 255]),
            case("previous key (overlap)", &[NEW, OLD], OLD, b"sealed before the rotation", b"users/7/ssn"),
            case("previous key, empty plaintext", &[NEW, OLD], OLD, b"", b""),
            case("only key on the ring (before rotation)", &[OLD], OLD, b"single key", b"t"),
            case("64-hex delivered key", &[HEX64], HEX64, b"rotor hex secret", b"k"),
            case("unicode plaintext", &[NEW, OLD], NEW, "ünïcödé ✓ 🔑".as_bytes(), "aad ✓".as_bytes()),
        ],
        "errors": [
            err("wrong associated data", &[NEW, OLD], sealed(NEW, b"pt", b"users/42"), b"users/43", "Tampered"),
            err("edited tag byte", &[NEW, OLD], b64(&edited), b"aad", "Tampered"),
            err("key retired by rotor", &[NEW, OLD], sealed(RETIRED, b"pt", b""), b"", "UnknownKeyId"),
            err("previous key after retire", &[NEW], sealed(OLD, b"pt", b""), b"", "UnknownKeyId"),
            err("format version 2", &[NEW, OLD], b64(&v2), b"", "UnknownFormatVersion"),
            err("truncated", &[NEW, OLD], b64(&aead::seal(&ring(&[NEW]), b"", b"").expect("seal")[..36]), b"", "CiphertextTruncated"),
            err("not the text form", &[NEW, OLD], "v1:AAAA".to_owned(), b"", "CiphertextMalformed"),
            err("padded base64", &[NEW, OLD], format!("{}=", sealed(NEW, b"pt", b"")), b"", "CiphertextMalformed"),
        ],
    });
    println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
}

/// An independent implementation (Python `cryptography`) opens the recorded
/// vectors. Needs python3 with `cryptography`; run with `--ignored`.
#[test]
#[ignore]
fn vectors_open_with_python_cryptography() {
    let script = r#"
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import hashlib
doc = json.load(open(sys.argv[1]))
n = 0
for c in doc["cases"]:
    t = c["ciphertext_text"]
    assert t.startswith("rk1.")
    b = base64.urlsafe_b64decode(t[4:] + "=" * (-len(t[4:]) % 4))
    assert b.hex() == c["ciphertext_hex"]
    assert b[0] == 1
    assert b[1:9].hex() == hashlib.sha256(c["sealed_with"].encode()).hexdigest()[:16] == c["key_id"]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"rotor-keyring aead v1").derive(c["sealed_with"].encode())
    pt = AESGCM(key).decrypt(b[9:21], b[21:], bytes.fromhex(c["aad_hex"]))
    assert pt.hex() == c["plaintext_hex"], c["name"]
    n += 1
print("opened", n)
"#;
    python_checks_vectors(script, "aead");
}
