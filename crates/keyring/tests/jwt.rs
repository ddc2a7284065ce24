//! JWT behaviour of rotor-keyring: round trips, rotation (previous key,
//! retired key, legacy tokens without kid), every refusal as its own error,
//! a cross-check against the `jsonwebtoken` crate, the checked-in vectors,
//! and a property test that no input panics.

use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use proptest::prelude::*;
use rotor_keyring::{
    jwks, Jwt, JwtAlg, KeyId, KeyKind, KeyPair, Keyring, KeyringError, PairRing, PublicKey, RingKey,
};
use serde_json::{json, Value};

const HS_CURRENT: &str = "hs-current-secret-for-tests-0123456789abcdef";
const HS_PREVIOUS: &str = "hs-previous-secret-for-tests-0123456789abcdef";
/// 2100-01-01T00:00:00Z
const FAR: u64 = 4_102_444_800;
/// A fixed "now" for claim checks: 2023-11-14T22:13:20Z.
const NOW: u64 = 1_700_000_000;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn pem(name: &str) -> String {
    std::fs::read_to_string(vectors_dir().join(name)).expect("fixture pem")
}

fn family_files(alg: JwtAlg) -> &'static str {
    match alg {
        JwtAlg::RS256 => "rs256",
        JwtAlg::ES256 => "es256",
        JwtAlg::EdDSA => "eddsa",
        _ => unreachable!("asymmetric only"),
    }
}

const ASYM: [JwtAlg; 3] = [JwtAlg::RS256, JwtAlg::ES256, JwtAlg::EdDSA];
const HS: [JwtAlg; 3] = [JwtAlg::HS256, JwtAlg::HS384, JwtAlg::HS512];

/// Ring with the current private key and the previous key (public only).
fn overlap_pairs(alg: JwtAlg) -> Jwt {
    let f = family_files(alg);
    let ring = PairRing::from_pems(&[
        &pem(&format!("jwt-{f}-current.pem")),
        &pem(&format!("jwt-{f}-previous.pub.pem")),
    ])
    .expect("overlap ring");
    Jwt::pairs(ring)
}

fn only(alg: JwtAlg, which: &str) -> Jwt {
    let f = family_files(alg);
    Jwt::pairs(PairRing::from_pems(&[&pem(&format!("jwt-{f}-{which}.pem"))]).expect("ring"))
}

fn hs(alg: JwtAlg, current: &str, previous: Option<&str>) -> Jwt {
    Jwt::hmac(&Keyring::from_pair(current, previous).expect("ring"), alg).expect("jwt")
}

fn claims() -> Value {
    json!({"sub": "alice", "exp": FAR, "iat": NOW})
}

/// A token with exactly this header and these claims, signed by `sign`.
fn craft(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(serde_json::to_vec(header).expect("header")),
        B64.encode(serde_json::to_vec(claims).expect("claims"))
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig))
}

fn hmac_sha256(secret: &[u8], msg: &[u8]) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    aws_lc_rs::hmac::sign(&key, msg).as_ref().to_vec()
}

fn verify(jwt: &Jwt, token: &str) -> Result<rotor_keyring::Verified<Value>, KeyringError> {
    jwt.verify_at::<Value>(token, NOW)
}

fn header_of(token: &str) -> Value {
    let h = token.split('.').next().expect("header");
    serde_json::from_slice(&B64.decode(h).expect("b64")).expect("json")
}

#[test]
fn round_trip_every_algorithm() {
    let mut jwts: Vec<Jwt> = HS.iter().map(|&a| hs(a, HS_CURRENT, None)).collect();
    jwts.extend(ASYM.iter().map(|&a| only(a, "current")));
    for jwt in &jwts {
        let token = jwt.sign(&claims()).expect("sign");
        let h = header_of(&token);
        assert_eq!(h["alg"], jwt.algorithm().name());
        assert_eq!(h["typ"], "JWT");
        assert_eq!(h["kid"], jwt.current_kid().as_str());
        let ok = verify(jwt, &token).expect("verify");
        assert_eq!(ok.claims, claims());
        assert_eq!(&ok.kid, jwt.current_kid());
        assert_eq!(ok.alg, jwt.algorithm());
        assert!(ok.current && !ok.legacy);
        // and with the real clock (exp is in 2100)
        jwt.verify::<Value>(&token).expect("verify now");
    }
}

#[test]
fn hmac_kid_is_the_rotor_fingerprint_of_the_value() {
    let jwt = hs(JwtAlg::HS256, HS_CURRENT, Some(HS_PREVIOUS));
    assert_eq!(jwt.current_kid(), &KeyId::of(HS_CURRENT.as_bytes()));
}

#[test]
fn pair_kid_is_the_fingerprint_of_the_spki_der() {
    for alg in ASYM {
        let jwt = only(alg, "current");
        let public = jwt.public_keys().next().expect("key");
        assert_eq!(jwt.current_kid(), &KeyId::of(public.spki_der()));
    }
}

#[test]
fn previous_key_with_kid_verifies_during_overlap() {
    for alg in HS {
        let old = hs(alg, HS_PREVIOUS, None).sign(&claims()).expect("sign");
        let ok = verify(&hs(alg, HS_CURRENT, Some(HS_PREVIOUS)), &old).expect("overlap");
        assert_eq!(ok.kid, KeyId::of(HS_PREVIOUS.as_bytes()));
        assert!(!ok.current && !ok.legacy);
    }
    for alg in ASYM {
        let old = only(alg, "previous").sign(&claims()).expect("sign");
        let ok = verify(&overlap_pairs(alg), &old).expect("overlap");
        assert!(!ok.current && !ok.legacy);
        assert_eq!(ok.kid.as_str(), header_of(&old)["kid"]);
    }
}

#[test]
fn retired_key_is_unknown_kid() {
    for alg in HS {
        let old = hs(alg, HS_PREVIOUS, None).sign(&claims()).expect("sign");
        let kid = KeyId::of(HS_PREVIOUS.as_bytes()).to_string();
        assert_eq!(
            verify(&hs(alg, HS_CURRENT, None), &old),
            Err(KeyringError::UnknownKid(kid))
        );
    }
    for alg in ASYM {
        let old = only(alg, "previous").sign(&claims()).expect("sign");
        assert!(matches!(
            verify(&only(alg, "current"), &old),
            Err(KeyringError::UnknownKid(_))
        ));
    }
}

#[test]
fn legacy_token_without_kid_is_tried_against_every_live_key() {
    // HS256 issued with the previous secret before rotor-keyring (no kid)
    let legacy = craft(&json!({"alg": "HS256", "typ": "JWT"}), &claims(), |m| {
        hmac_sha256(HS_PREVIOUS.as_bytes(), m)
    });
    let ok = verify(&hs(JwtAlg::HS256, HS_CURRENT, Some(HS_PREVIOUS)), &legacy).expect("legacy");
    assert!(ok.legacy && !ok.current);
    assert_eq!(ok.kid, KeyId::of(HS_PREVIOUS.as_bytes()));
    // once the previous key is retired no key matches
    assert_eq!(
        verify(&hs(JwtAlg::HS256, HS_CURRENT, None), &legacy),
        Err(KeyringError::BadSignature)
    );
    // asymmetric: signed by the previous private key, no kid
    for alg in ASYM {
        let f = family_files(alg);
        let prev = KeyPair::from_pem(&pem(&format!("jwt-{f}-previous.pem"))).expect("pair");
        let legacy = craft(&json!({"alg": alg.name()}), &claims(), |m| {
            prev.sign(m).expect("sign")
        });
        let ok = verify(&overlap_pairs(alg), &legacy).expect("legacy");
        assert!(ok.legacy && !ok.current);
        assert_eq!(&ok.kid, prev.id());
    }
}

#[test]
fn alg_none_and_unknown_algs_are_refused() {
    let jwt = hs(JwtAlg::HS256, HS_CURRENT, None);
    let kid = jwt.current_kid().to_string();
    for alg in ["none", "None", "NONE", "nOnE", "PS256", "HS1", "", "hs256"] {
        for header in [json!({"alg": alg}), json!({"alg": alg, "kid": kid})] {
            let input = format!(
                "{}.{}",
                B64.encode(header.to_string()),
                B64.encode(claims().to_string())
            );
            for token in [format!("{input}."), format!("{input}.AAAA")] {
                assert_eq!(
                    verify(&jwt, &token),
                    Err(KeyringError::UnsupportedAlg(alg.to_owned())),
                    "{token}"
                );
            }
        }
    }
    // no alg at all
    let token = craft(&json!({"typ": "JWT"}), &claims(), |_| vec![1]);
    assert!(matches!(
        verify(&jwt, &token),
        Err(KeyringError::Malformed(_))
    ));
}

/// The classic confusion: the attacker knows the RSA public key and uses it
/// as an HMAC secret, hoping the verifier feeds it to HMAC for an HS256
/// token. Every encoding of the public key, with and without kid.
#[test]
fn hs256_token_keyed_with_the_rsa_public_key_is_refused() {
    let jwt = overlap_pairs(JwtAlg::RS256);
    let current = jwt.public_keys().next().expect("key").clone();
    let spki_pem = current.to_pem();
    let pkcs1_pem = pem("jwt-rs256-previous.pub.pem");
    let secrets: Vec<Vec<u8>> = vec![
        spki_pem.clone().into_bytes(),
        spki_pem.trim_end().as_bytes().to_vec(),
        current.spki_der().to_vec(),
        pkcs1_pem.into_bytes(),
    ];
    for secret in &secrets {
        for alg in ["HS256", "HS384", "HS512"] {
            for header in [
                json!({"alg": alg, "kid": current.id().as_str()}),
                json!({"alg": alg}),
            ] {
                let token = craft(&header, &claims(), |m| hmac_sha256(secret, m));
                assert_eq!(
                    verify(&jwt, &token),
                    Err(KeyringError::AlgNotAllowed(alg.to_owned()))
                );
            }
        }
    }
    // and the mirror image: an RS256 token offered to an HMAC ring
    let rs = only(JwtAlg::RS256, "current")
        .sign(&claims())
        .expect("sign");
    assert_eq!(
        verify(&hs(JwtAlg::HS256, HS_CURRENT, None), &rs),
        Err(KeyringError::AlgNotAllowed("RS256".into()))
    );
}

#[test]
fn a_key_is_only_used_with_its_own_algorithm() {
    // a mixed ring: ES256 current, RSA previous
    let ring = PairRing::from_pems(&[
        &pem("jwt-es256-current.pem"),
        &pem("jwt-rs256-previous.pub.pem"),
    ])
    .expect("ring");
    let rsa_kid = ring.keys().nth(1).expect("rsa").id().clone();
    let jwt = Jwt::pairs(ring);
    let prev = KeyPair::from_pem(&pem("jwt-rs256-previous.pem")).expect("pair");
    // an RS256 signature, but the header claims ES256 for the RSA key
    let token = craft(
        &json!({"alg": "ES256", "kid": rsa_kid.as_str()}),
        &claims(),
        |m| prev.sign(m).expect("sign"),
    );
    assert_eq!(
        verify(&jwt, &token),
        Err(KeyringError::AlgNotAllowed("ES256".into()))
    );
    // the honest RS256 token verifies
    let token = craft(
        &json!({"alg": "RS256", "kid": rsa_kid.as_str()}),
        &claims(),
        |m| prev.sign(m).expect("sign"),
    );
    assert_eq!(verify(&jwt, &token).expect("rs256").kid, rsa_kid);
    // HS256 is not configured on this ring at all
    let token = craft(&json!({"alg": "HS256"}), &claims(), |m| {
        hmac_sha256(b"whatever", m)
    });
    assert_eq!(
        verify(&jwt, &token),
        Err(KeyringError::AlgNotAllowed("HS256".into()))
    );
}

#[test]
fn unknown_kid_is_its_own_error() {
    let jwt = hs(JwtAlg::HS256, HS_CURRENT, Some(HS_PREVIOUS));
    let token = craft(
        &json!({"alg": "HS256", "kid": "0123456789abcdef"}),
        &claims(),
        |m| hmac_sha256(HS_CURRENT.as_bytes(), m),
    );
    assert_eq!(
        verify(&jwt, &token),
        Err(KeyringError::UnknownKid("0123456789abcdef".into()))
    );
    // a hostile kid is shortened and escaped in the error
    let token = craft(
        &json!({"alg": "HS256", "kid": format!("evil\n{}", "x".repeat(500))}),
        &claims(),
        |_| vec![0; 32],
    );
    match verify(&jwt, &token) {
        Err(KeyringError::UnknownKid(k)) => {
            assert!(!k.contains('\n') && k.len() < 100, "{k}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tampering_is_a_bad_signature() {
    for jwt in [
        hs(JwtAlg::HS256, HS_CURRENT, None),
        only(JwtAlg::ES256, "current"),
        only(JwtAlg::EdDSA, "current"),
        only(JwtAlg::RS256, "current"),
    ] {
        let token = jwt.sign(&claims()).expect("sign");
        let parts: Vec<&str> = token.split('.').collect();
        // other claims, same signature
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(json!({"sub": "mallory", "exp": FAR}).to_string()),
            parts[2]
        );
        assert_eq!(verify(&jwt, &forged), Err(KeyringError::BadSignature));
        // a flipped signature bit
        let mut sig = B64.decode(parts[2]).expect("sig");
        sig[0] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], B64.encode(&sig));
        assert_eq!(verify(&jwt, &flipped), Err(KeyringError::BadSignature));
        // a truncated signature
        let cut = format!("{}.{}.{}", parts[0], parts[1], B64.encode(&sig[..8]));
        assert_eq!(verify(&jwt, &cut), Err(KeyringError::BadSignature));
        // another key with the right kid
        let other = craft(&header_of(&token), &claims(), |m| {
            hmac_sha256(HS_PREVIOUS.as_bytes(), m)
        });
        assert!(matches!(
            verify(&jwt, &other),
            Err(KeyringError::BadSignature)
        ));
    }
}

#[test]
fn malformed_strings_are_malformed() {
    let jwt = hs(JwtAlg::HS256, HS_CURRENT, None);
    let good = jwt.sign(&claims()).expect("sign");
    let parts: Vec<&str> = good.split('.').collect();
    let long = "a".repeat(70_000);
    let cases: Vec<String> = vec![
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "abc".into(),
        "a.b".into(),
        "a.b.c.d".into(),
        format!("{good}.{}", parts[2]),
        format!("{}.{}", parts[0], parts[1]),
        format!("!!.{}.{}", parts[1], parts[2]),
        format!("{}.{}.!!", parts[0], parts[1]),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}", B64.encode("[1,2]"), parts[1], parts[2]),
        format!("{}.{}.{}", B64.encode("\"HS256\""), parts[1], parts[2]),
        format!("{}.{}.{}", B64.encode("{\"alg\":"), parts[1], parts[2]),
        format!("{}.{}.{}", B64.encode("{\"alg\":5}"), parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            B64.encode("{\"alg\":\"HS256\",\"alg\":\"none\"}"),
            parts[1],
            parts[2]
        ),
        format!(
            "{}.{}.{}",
            B64.encode("{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}"),
            parts[1],
            parts[2]
        ),
        format!("{}.{}.{}", B64.encode([0xff, 0xfe]), parts[1], parts[2]),
        long,
    ];
    for token in &cases {
        assert!(
            matches!(verify(&jwt, token), Err(KeyringError::Malformed(_))),
            "{token:.80}: {:?}",
            verify(&jwt, token)
        );
    }
    // a correctly signed token whose claims are not an object, or not JSON
    let hmac = |m: &[u8]| hmac_sha256(HS_CURRENT.as_bytes(), m);
    let kid = jwt.current_kid().as_str().to_owned();
    let header = B64.encode(json!({"alg": "HS256", "kid": kid}).to_string());
    for payload in ["[1]", "\"x\"", "{", "", "{\"exp\":\"soon\"}"] {
        let input = format!("{header}.{}", B64.encode(payload));
        let token = format!("{input}.{}", B64.encode(hmac(input.as_bytes())));
        assert!(
            matches!(verify(&jwt, &token), Err(KeyringError::Malformed(_))),
            "{payload}: {:?}",
            verify(&jwt, &token)
        );
    }
}

#[test]
fn exp_and_nbf_with_leeway() {
    let jwt = hs(JwtAlg::HS256, HS_CURRENT, None);
    let at = |c: Value, now: u64| jwt.verify_at::<Value>(&jwt.sign(&c).expect("sign"), now);
    // exp: valid before, within the 60 s leeway, expired after
    assert!(at(json!({"exp": NOW}), NOW - 1).is_ok());
    assert!(at(json!({"exp": NOW}), NOW + 59).is_ok());
    assert_eq!(
        at(json!({"exp": NOW}), NOW + 60),
        Err(KeyringError::Expired)
    );
    assert_eq!(
        at(json!({"exp": NOW}), NOW + 3600),
        Err(KeyringError::Expired)
    );
    // exp is required by default
    assert_eq!(
        at(json!({"sub": "x"}), NOW),
        Err(KeyringError::MissingClaim("exp"))
    );
    let lax = hs(JwtAlg::HS256, HS_CURRENT, None).require_exp(false);
    assert!(lax
        .verify_at::<Value>(&lax.sign(&json!({"sub": "x"})).expect("sign"), NOW)
        .is_ok());
    // nbf
    assert!(at(json!({"exp": FAR, "nbf": NOW + 60}), NOW).is_ok());
    assert_eq!(
        at(json!({"exp": FAR, "nbf": NOW + 61}), NOW),
        Err(KeyringError::NotYetValid)
    );
    // fractional NumericDate
    assert!(at(json!({"exp": (NOW as f64) + 0.5}), NOW).is_ok());
    // a configured leeway
    let strict = hs(JwtAlg::HS256, HS_CURRENT, None).with_leeway(0);
    let t = strict.sign(&json!({"exp": NOW, "nbf": NOW})).expect("sign");
    assert_eq!(
        strict.verify_at::<Value>(&t, NOW),
        Err(KeyringError::Expired)
    );
    assert!(strict.verify_at::<Value>(&t, NOW - 1).is_err());
    let t = strict
        .sign(&json!({"exp": FAR, "nbf": NOW + 1}))
        .expect("sign");
    assert_eq!(
        strict.verify_at::<Value>(&t, NOW),
        Err(KeyringError::NotYetValid)
    );
    // a huge leeway or clock does not overflow (or panic)
    let huge = hs(JwtAlg::HS256, HS_CURRENT, None).with_leeway(u64::MAX);
    let t = huge
        .sign(&json!({"exp": 0, "nbf": u64::MAX}))
        .expect("sign");
    assert!(huge.verify_at::<Value>(&t, NOW).is_ok());
    let _ = huge.verify_at::<Value>(&t, u64::MAX);
    let _ = jwt.verify_at::<Value>(&t, u64::MAX);
}

#[test]
fn issuer_and_audience_when_configured() {
    let jwt = hs(JwtAlg::HS256, HS_CURRENT, None)
        .with_issuer("https://auth.example")
        .with_audience("api")
        .with_audience("admin");
    let check = |c: Value| verify(&jwt, &jwt.sign(&c).expect("sign"));
    let base = |iss: Value, aud: Value| json!({"exp": FAR, "iss": iss, "aud": aud});
    assert!(check(base(json!("https://auth.example"), json!("api"))).is_ok());
    assert!(check(base(json!("https://auth.example"), json!(["x", "admin"]))).is_ok());
    assert_eq!(
        check(base(json!("https://evil.example"), json!("api"))),
        Err(KeyringError::WrongIssuer)
    );
    assert_eq!(
        check(json!({"exp": FAR, "aud": "api"})),
        Err(KeyringError::WrongIssuer)
    );
    assert_eq!(
        check(base(json!("https://auth.example"), json!("web"))),
        Err(KeyringError::WrongAudience)
    );
    assert_eq!(
        check(base(json!("https://auth.example"), json!([]))),
        Err(KeyringError::WrongAudience)
    );
    assert_eq!(
        check(json!({"exp": FAR, "iss": "https://auth.example"})),
        Err(KeyringError::WrongAudience)
    );
    // no audience configured: a token meant for some audience is refused
    let plain = hs(JwtAlg::HS256, HS_CURRENT, None);
    let t = plain
        .sign(&json!({"exp": FAR, "aud": "api"}))
        .expect("sign");
    assert_eq!(verify(&plain, &t), Err(KeyringError::WrongAudience));
}

#[test]
fn typed_claims_and_claims_errors() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Session {
        sub: String,
        exp: u64,
        admin: bool,
    }
    let jwt = only(JwtAlg::EdDSA, "current");
    let s = Session {
        sub: "bob".into(),
        exp: FAR,
        admin: false,
    };
    let t = jwt.sign(&s).expect("sign");
    assert_eq!(jwt.verify_at::<Session>(&t, NOW).expect("typed").claims, s);
    let t = jwt.sign(&json!({"sub": "bob", "exp": FAR})).expect("sign");
    assert!(matches!(
        jwt.verify_at::<Session>(&t, NOW),
        Err(KeyringError::Claims(_))
    ));
    // claims that are not an object are refused at signing
    assert!(matches!(
        jwt.sign(&"just a string"),
        Err(KeyringError::Claims(_))
    ));
    assert!(matches!(jwt.sign(&[1, 2]), Err(KeyringError::Claims(_))));
}

#[test]
fn verify_only_ring_cannot_sign() {
    let ring = PairRing::from_pems(&[&pem("jwt-eddsa-previous.pub.pem")]).expect("ring");
    let jwt = Jwt::pairs(ring);
    assert!(matches!(
        jwt.sign(&claims()),
        Err(KeyringError::NoSigningKey(_))
    ));
    let t = only(JwtAlg::EdDSA, "previous")
        .sign(&claims())
        .expect("sign");
    assert!(verify(&jwt, &t).is_ok());
}

#[test]
fn pem_files_and_formats_load() {
    let dir = vectors_dir();
    let mut files: Vec<PathBuf> = Vec::new();
    for f in ["rs256", "es256", "eddsa"] {
        files.push(dir.join(format!("jwt-{f}-current.pem")));
        files.push(dir.join(format!("jwt-{f}-previous.pem")));
    }
    let ring = PairRing::from_pem_files(&files).expect("files");
    assert_eq!(ring.len(), 6);
    let kinds: Vec<KeyKind> = ring.keys().map(PublicKey::kind).collect();
    assert_eq!(
        kinds,
        [
            KeyKind::Rsa,
            KeyKind::Rsa,
            KeyKind::EcP256,
            KeyKind::EcP256,
            KeyKind::Ed25519,
            KeyKind::Ed25519
        ]
    );
    // the public-only PEM of a previous key has the same id as its pair
    for f in ["rs256", "es256", "eddsa"] {
        let pair = KeyPair::from_pem(&pem(&format!("jwt-{f}-previous.pem"))).expect("pair");
        let public =
            PublicKey::from_pem(&pem(&format!("jwt-{f}-previous.pub.pem"))).expect("public");
        assert_eq!(pair.id(), public.id());
    }
    // an emptied previous file is skipped, a missing one is an error
    let tmp = tempfile::tempdir().expect("tmp");
    let empty = tmp.path().join("previous.pem");
    std::fs::write(&empty, "").expect("write");
    let ring = PairRing::from_pem_files(&[dir.join("jwt-es256-current.pem"), empty])
        .expect("with empty previous");
    assert_eq!(ring.len(), 1);
    assert!(matches!(
        PairRing::from_pem_files(&[tmp.path().join("missing.pem")]),
        Err(KeyringError::BadKey { .. })
    ));
}

#[test]
fn debug_never_shows_private_keys() {
    for f in ["rs256", "es256", "eddsa"] {
        let text = pem(&format!("jwt-{f}-current.pem"));
        let body_line = text.lines().nth(1).expect("body").to_owned();
        let pair = KeyPair::from_pem(&text).expect("pair");
        let ring = PairRing::from_pems(&[&text]).expect("ring");
        let jwt = Jwt::pairs(PairRing::from_pems(&[&text]).expect("ring"));
        for shown in [format!("{pair:?}"), format!("{ring:?}"), format!("{jwt:?}")] {
            assert!(!shown.contains(&body_line[..20]), "{shown}");
            assert!(shown.contains(pair.id().as_str()), "{shown}");
        }
    }
    let jwt = hs(JwtAlg::HS256, HS_CURRENT, None);
    assert!(!format!("{jwt:?}").contains("hs-current"));
}

/// A second implementation: the `jsonwebtoken` crate verifies what we sign,
/// and we verify what it signs (with and without kid).
#[test]
fn cross_check_with_the_jsonwebtoken_crate() {
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
    let to_theirs = |a: JwtAlg| match a {
        JwtAlg::HS256 => Algorithm::HS256,
        JwtAlg::HS384 => Algorithm::HS384,
        JwtAlg::HS512 => Algorithm::HS512,
        JwtAlg::RS256 => Algorithm::RS256,
        JwtAlg::ES256 => Algorithm::ES256,
        JwtAlg::EdDSA => Algorithm::EdDSA,
    };
    for alg in HS.into_iter().chain(ASYM) {
        let (ours, enc, dec) = match alg {
            JwtAlg::HS256 | JwtAlg::HS384 | JwtAlg::HS512 => (
                hs(alg, HS_CURRENT, None),
                EncodingKey::from_secret(HS_CURRENT.as_bytes()),
                DecodingKey::from_secret(HS_CURRENT.as_bytes()),
            ),
            _ => {
                let f = family_files(alg);
                let private = pem(&format!("jwt-{f}-current.pem"));
                let jwt = only(alg, "current");
                let public = jwt.public_keys().next().expect("key").to_pem();
                let (enc, dec) = match alg {
                    JwtAlg::RS256 => (
                        EncodingKey::from_rsa_pem(private.as_bytes()),
                        DecodingKey::from_rsa_pem(public.as_bytes()),
                    ),
                    JwtAlg::ES256 => (
                        EncodingKey::from_ec_pem(private.as_bytes()),
                        DecodingKey::from_ec_pem(public.as_bytes()),
                    ),
                    _ => (
                        EncodingKey::from_ed_pem(private.as_bytes()),
                        DecodingKey::from_ed_pem(public.as_bytes()),
                    ),
                };
                (jwt, enc.expect("enc"), dec.expect("dec"))
            }
        };
        let token = ours.sign(&claims()).expect("sign");
        let theirs = jsonwebtoken::decode::<Value>(&token, &dec, &Validation::new(to_theirs(alg)))
            .expect("jsonwebtoken verifies ours");
        assert_eq!(theirs.claims, claims());
        assert_eq!(
            theirs.header.kid.as_deref(),
            Some(ours.current_kid().as_str())
        );

        for kid in [Some(ours.current_kid().to_string()), None] {
            let mut header = Header::new(to_theirs(alg));
            header.kid = kid.clone();
            let token = jsonwebtoken::encode(&header, &claims(), &enc).expect("encode");
            let ok = verify(&ours, &token).expect("we verify theirs");
            assert_eq!(ok.claims, claims());
            assert_eq!(ok.legacy, kid.is_none());
        }
    }
}

/// jsonwebtoken as an independent JWKS consumer: it parses our document
/// and the key it finds by kid verifies our token.
#[test]
fn jwks_is_accepted_by_jsonwebtoken() {
    for alg in ASYM {
        let f = family_files(alg);
        let ring = PairRing::from_pems(&[
            &pem(&format!("jwt-{f}-current.pem")),
            &pem(&format!("jwt-{f}-previous.pub.pem")),
        ])
        .expect("ring");
        let doc = jwks(&ring);
        let keys = doc["keys"].as_array().expect("keys");
        assert_eq!(keys.len(), 2);
        for (k, public) in keys.iter().zip(ring.keys()) {
            assert_eq!(k["kid"], public.id().as_str());
            assert_eq!(k["alg"], alg.name());
            assert_eq!(k["use"], "sig");
            let expect: &[&str] = match alg {
                JwtAlg::RS256 => &["kty", "n", "e"],
                JwtAlg::ES256 => &["kty", "crv", "x", "y"],
                _ => &["kty", "crv", "x"],
            };
            for field in expect {
                assert!(k[field].is_string(), "{field} in {k}");
            }
        }
        let jwt = Jwt::pairs(ring);
        let set: jsonwebtoken::jwk::JwkSet =
            serde_json::from_value(doc.clone()).expect("jsonwebtoken parses the JWKS");
        for (who, token) in [
            ("current", jwt.sign(&claims()).expect("sign")),
            (
                "previous",
                only(alg, "previous").sign(&claims()).expect("sign"),
            ),
        ] {
            let header = jsonwebtoken::decode_header(&token).expect("header");
            let jwk = set
                .find(header.kid.as_deref().expect("kid"))
                .unwrap_or_else(|| panic!("{who} kid in JWKS"));
            let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("key from jwk");
            jsonwebtoken::decode::<Value>(&token, &key, &jsonwebtoken::Validation::new(header.alg))
                .unwrap_or_else(|e| panic!("{who} {alg}: {e}"));
        }
        assert_eq!(rotor_keyring::jwks_of(jwt.public_keys()), doc);
    }
}

// ---- checked-in vectors ----------------------------------------------------

const VECTORS: &str = "jwt.json";
const V_ISS: &str = "rotor-vectors";
const V_AUD: &str = "rotor-tests";

/// The ring (verifier) a vector family is checked against: current key and
/// previous key, as documented in vectors/README.jwt.md.
fn vector_ring(family: &str) -> Jwt {
    let jwt = match family {
        "hs256" => hs(JwtAlg::HS256, HS_CURRENT, Some(HS_PREVIOUS)),
        "hs512" => hs(JwtAlg::HS512, HS_CURRENT, Some(HS_PREVIOUS)),
        "rs256" => overlap_pairs(JwtAlg::RS256),
        "es256" => overlap_pairs(JwtAlg::ES256),
        "eddsa" => overlap_pairs(JwtAlg::EdDSA),
        other => panic!("unknown family {other}"),
    };
    jwt.with_issuer(V_ISS).with_audience(V_AUD)
}

#[test]
fn checked_in_vectors_verify_forever() {
    let text = std::fs::read_to_string(vectors_dir().join(VECTORS)).expect("jwt.json");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let vectors = doc["vectors"].as_array().expect("vectors");
    assert!(vectors.len() >= 15, "{}", vectors.len());
    for v in vectors {
        let name = v["name"].as_str().expect("name");
        let jwt = vector_ring(v["family"].as_str().expect("family"));
        let ok = verify(&jwt, v["token"].as_str().expect("token"))
            .unwrap_or_else(|e| panic!("vector {name}: {e}"));
        assert_eq!(ok.kid.as_str(), v["kid"], "{name}");
        assert_eq!(ok.alg.name(), v["alg"], "{name}");
        assert_eq!(ok.current, v["signed_by"] == "current", "{name}");
        assert_eq!(ok.legacy, v["legacy"] == true, "{name}");
        assert_eq!(ok.claims, v["claims"], "{name}");
        // the documented key ids are those of the documented keys
        let expected_kid = match v["family"].as_str() {
            Some("hs256") | Some("hs512") => KeyId::of(if v["signed_by"] == "current" {
                HS_CURRENT.as_bytes()
            } else {
                HS_PREVIOUS.as_bytes()
            }),
            Some(f) => KeyPair::from_pem(&pem(&format!(
                "jwt-{f}-{}.pem",
                v["signed_by"].as_str().expect("signed_by")
            )))
            .expect("pair")
            .id()
            .clone(),
            None => unreachable!(),
        };
        assert_eq!(ok.kid, expected_kid, "{name}");
    }
    // and once the previous keys are retired, their vectors are refused
    for v in vectors.iter().filter(|v| v["signed_by"] == "previous") {
        let family = v["family"].as_str().expect("family");
        let retired = match family {
            "hs256" => hs(JwtAlg::HS256, HS_CURRENT, None),
            "hs512" => hs(JwtAlg::HS512, HS_CURRENT, None),
            "rs256" => only(JwtAlg::RS256, "current"),
            "es256" => only(JwtAlg::ES256, "current"),
            _ => only(JwtAlg::EdDSA, "current"),
        }
        .with_issuer(V_ISS)
        .with_audience(V_AUD);
        let got = verify(&retired, v["token"].as_str().expect("token"));
        let expected = if v["legacy"] == true {
            KeyringError::BadSignature
        } else {
            KeyringError::UnknownKid(v["kid"].as_str().expect("kid").to_owned())
        };
        assert_eq!(got, Err(expected), "{}", v["name"]);
    }
}

/// Writes tests/vectors/jwt.json. Run once, deliberately:
/// `cargo test -p rotor-keyring --test jwt -- --ignored regenerate_vectors`
#[test]
#[ignore = "writes the checked-in vectors; run only to regenerate them on purpose"]
fn regenerate_vectors() {
    let mut out = Vec::new();
    let mut push = |family: &str, alg: JwtAlg, signed_by: &str, legacy: bool, token: String| {
        let kid = verify(&vector_ring(family), &token).expect("fresh vector verifies");
        let claims: Value = kid.claims.clone();
        out.push(json!({
            "name": format!("{family}-{signed_by}{}", if legacy { "-no-kid" } else { "" }),
            "family": family,
            "alg": alg.name(),
            "signed_by": signed_by,
            "legacy": legacy,
            "kid": kid.kid.as_str(),
            "claims": claims,
            "token": token,
        }));
    };
    let claims_for = |name: &str| json!({"sub": format!("vector-{name}"), "iss": V_ISS, "aud": V_AUD, "iat": NOW, "exp": FAR});
    for (family, alg) in [("hs256", JwtAlg::HS256), ("hs512", JwtAlg::HS512)] {
        for (signed_by, secret) in [("current", HS_CURRENT), ("previous", HS_PREVIOUS)] {
            let c = claims_for(&format!("{family}-{signed_by}"));
            push(
                family,
                alg,
                signed_by,
                false,
                hs(alg, secret, None).sign(&c).expect("sign"),
            );
        }
        // a legacy token (no kid) under the previous secret
        let c = claims_for(&format!("{family}-legacy"));
        let token = {
            let alg_lc = if alg == JwtAlg::HS256 {
                aws_lc_rs::hmac::HMAC_SHA256
            } else {
                aws_lc_rs::hmac::HMAC_SHA512
            };
            let key = aws_lc_rs::hmac::Key::new(alg_lc, HS_PREVIOUS.as_bytes());
            craft(&json!({"alg": alg.name(), "typ": "JWT"}), &c, |m| {
                aws_lc_rs::hmac::sign(&key, m).as_ref().to_vec()
            })
        };
        push(family, alg, "previous", true, token);
    }
    for alg in ASYM {
        let family = family_files(alg);
        for signed_by in ["current", "previous"] {
            let c = claims_for(&format!("{family}-{signed_by}"));
            push(
                family,
                alg,
                signed_by,
                false,
                only(alg, signed_by).sign(&c).expect("sign"),
            );
        }
        let prev = KeyPair::from_pem(&pem(&format!("jwt-{family}-previous.pem"))).expect("pair");
        let c = claims_for(&format!("{family}-legacy"));
        let token = craft(&json!({"alg": alg.name(), "typ": "JWT"}), &c, |m| {
            prev.sign(m).expect("sign")
        });
        push(family, alg, "previous", true, token);
    }
    let doc = json!({
        "about": "JWTs signed once by rotor-keyring under the test-only keys in this directory (README.jwt.md) and the HMAC secrets below; tests/jwt.rs checks every one on every run. exp is 2100-01-01.",
        "hmac_secrets": {"current": HS_CURRENT, "previous": HS_PREVIOUS},
        "issuer": V_ISS,
        "audience": V_AUD,
        "vectors": out,
    });
    let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
    std::fs::write(vectors_dir().join(VECTORS), text).expect("write vectors");
}

// ---- no input panics ---------------------------------------------------------

fn all_verifiers() -> &'static [Jwt] {
    static ALL: std::sync::OnceLock<Vec<Jwt>> = std::sync::OnceLock::new();
    ALL.get_or_init(build_verifiers)
}

fn build_verifiers() -> Vec<Jwt> {
    let mut v: Vec<Jwt> = HS
        .iter()
        .map(|&a| hs(a, HS_CURRENT, Some(HS_PREVIOUS)))
        .collect();
    v.extend(ASYM.iter().map(|&a| overlap_pairs(a)));
    v.push(Jwt::pairs(
        PairRing::from_keys([
            RingKey::from(KeyPair::from_pem(&pem("jwt-es256-current.pem")).expect("es")),
            RingKey::from(KeyPair::from_pem(&pem("jwt-eddsa-current.pem")).expect("ed")),
        ])
        .expect("mixed"),
    ));
    v
}

fn b64_part() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,80}",
        any::<Vec<u8>>().prop_map(|b| B64.encode(b)),
        // JSON-ish headers and claims with random alg/kid/exp
        (
            prop_oneof![
                Just("HS256".to_owned()),
                Just("RS256".to_owned()),
                Just("ES256".to_owned()),
                Just("EdDSA".to_owned()),
                Just("none".to_owned()),
                ".{0,8}"
            ],
            proptest::option::of("[0-9a-f]{16}|.{0,20}"),
            any::<i64>()
        )
            .prop_map(|(alg, kid, exp)| {
                let mut h = json!({"alg": alg, "exp": exp, "nbf": exp, "aud": [alg]});
                if let Some(k) = kid {
                    h["kid"] = json!(k);
                }
                B64.encode(h.to_string())
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_verify_and_never_panic(bytes in any::<Vec<u8>>()) {
        let s = String::from_utf8_lossy(&bytes);
        for jwt in all_verifiers() {
            prop_assert!(jwt.verify_at::<Value>(&s, NOW).is_err());
            prop_assert!(jwt.verify::<Value>(&s).is_err());
        }
    }

    #[test]
    fn random_strings_never_verify_and_never_panic(s in ".{0,300}") {
        for jwt in all_verifiers() {
            prop_assert!(jwt.verify_at::<Value>(&s, NOW).is_err());
        }
    }

    #[test]
    fn random_three_part_tokens_never_verify(
        h in b64_part(), p in b64_part(), s in b64_part(), now in any::<u64>()
    ) {
        let token = format!("{h}.{p}.{s}");
        for jwt in all_verifiers() {
            prop_assert!(jwt.verify_at::<Value>(&token, now).is_err());
        }
    }

    #[test]
    fn mutated_real_tokens_never_verify(idx in any::<prop::sample::Index>(), byte in any::<u8>()) {
        for jwt in all_verifiers().iter().take(6) {
            let token = jwt.sign(&claims()).expect("sign");
            let mut b = token.clone().into_bytes();
            let i = idx.index(b.len());
            prop_assume!(b[i] != byte);
            b[i] = byte;
            let s = String::from_utf8_lossy(&b);
            // a change in a base64 character's unused low bits could, in
            // principle, decode to the same bytes; our decoder refuses
            // non-canonical base64, so every change is an error
            prop_assert!(jwt.verify_at::<Value>(&s, NOW).is_err(), "{}", s);
        }
    }
}
