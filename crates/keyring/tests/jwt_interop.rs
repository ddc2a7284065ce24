//! Interop with an independent implementation, PyJWT (Python, on
//! `cryptography`/OpenSSL): tokens signed by rotor-keyring verify with
//! PyJWT, PyJWT's tokens verify with rotor-keyring (with and without kid),
//! and `jwt.PyJWKSet` accepts our JWKS document and verifies with the key it
//! finds by kid. HS256, RS256, ES256 and EdDSA.
//!
//! Needs `python3` with PyJWT and cryptography; without them these tests
//! FAIL (they never skip):
//! `python3 -m pip install 'pyjwt[crypto]==2.15.1' 'cryptography==48.0.0'`

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use rotor_keyring::{jwks, Jwt, JwtAlg, KeyPair, Keyring, PairRing};
use serde_json::{json, Value};

const HS_CURRENT: &str = "hs-current-secret-for-tests-0123456789abcdef";
const HS_PREVIOUS: &str = "hs-previous-secret-for-tests-0123456789abcdef";
const PIP: &str = "python3 -m pip install 'pyjwt[crypto]==2.15.1' 'cryptography==48.0.0'";

fn pem(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    std::fs::read_to_string(path).expect("fixture pem")
}

fn family(alg: JwtAlg) -> &'static str {
    match alg {
        JwtAlg::RS256 => "rs256",
        JwtAlg::ES256 => "es256",
        _ => "eddsa",
    }
}

const ASYM: [JwtAlg; 3] = [JwtAlg::RS256, JwtAlg::ES256, JwtAlg::EdDSA];

/// Runs a Python script with `input` as JSON on stdin; returns its stdout
/// as JSON. Panics with the install line when PyJWT is missing.
fn python(script: &str, input: &Value) -> Value {
    let probe = Command::new("python3")
        .args(["-c", "import jwt, cryptography; print(jwt.__version__)"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "PyJWT interop tests need python3 with PyJWT and cryptography: {}\ninstall with: {PIP}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!("PyJWT interop tests need python3 ({e}); then: {PIP}"),
    }
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("python3 ran");
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "python output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn claims(tag: &str) -> Value {
    json!({"sub": format!("interop-{tag}"), "iat": 1_700_000_000u64, "exp": 4_102_444_800u64})
}

fn hs_jwt(current: &str, previous: Option<&str>) -> Jwt {
    Jwt::hmac(
        &Keyring::from_pair(current, previous).expect("ring"),
        JwtAlg::HS256,
    )
    .expect("jwt")
}

fn pair_jwt(names: &[String]) -> Jwt {
    let pems: Vec<String> = names.iter().map(|n| pem(n)).collect();
    let refs: Vec<&str> = pems.iter().map(String::as_str).collect();
    Jwt::pairs(PairRing::from_pems(&refs).expect("ring"))
}

#[test]
fn pyjwt_verifies_rotor_tokens() {
    let mut cases = Vec::new();
    for (who, secret) in [("current", HS_CURRENT), ("previous", HS_PREVIOUS)] {
        let jwt = hs_jwt(secret, None);
        cases.push(json!({
            "alg": "HS256", "key": secret, "kid": jwt.current_kid().as_str(),
            "token": jwt.sign(&claims(&format!("hs256-{who}"))).expect("sign"),
            "claims": claims(&format!("hs256-{who}")),
        }));
    }
    for alg in ASYM {
        let f = family(alg);
        for who in ["current", "previous"] {
            let jwt = pair_jwt(&[format!("jwt-{f}-{who}.pem")]);
            let public = jwt.public_keys().next().expect("key").to_pem();
            let c = claims(&format!("{f}-{who}"));
            cases.push(json!({
                "alg": alg.name(), "key": public, "kid": jwt.current_kid().as_str(),
                "token": jwt.sign(&c).expect("sign"), "claims": c,
            }));
        }
    }
    let script = r#"
import json, sys, jwt
out = []
for c in json.load(sys.stdin):
    header = jwt.get_unverified_header(c["token"])
    claims = jwt.decode(c["token"], c["key"], algorithms=[c["alg"]])
    out.append({"ok": claims == c["claims"] and header.get("kid") == c["kid"]
                      and header.get("alg") == c["alg"], "alg": c["alg"]})
print(json.dumps(out))
"#;
    let got = python(script, &Value::Array(cases.clone()));
    assert_eq!(got.as_array().map(Vec::len), Some(cases.len()));
    for r in got.as_array().expect("array") {
        assert_eq!(r["ok"], true, "{r}");
    }
}

#[test]
fn rotor_verifies_pyjwt_tokens() {
    // PyJWT signs with the documented keys, with our kid and without any
    let hs_ring = hs_jwt(HS_CURRENT, Some(HS_PREVIOUS));
    let mut jobs = Vec::new();
    for (who, secret) in [("current", HS_CURRENT), ("previous", HS_PREVIOUS)] {
        jobs.push(json!({
            "family": "hs256", "who": who, "alg": "HS256", "key": secret,
            "kid": rotor_keyring::KeyId::of(secret.as_bytes()).as_str(),
        }));
    }
    for alg in ASYM {
        let f = family(alg);
        for who in ["current", "previous"] {
            let private = pem(&format!("jwt-{f}-{who}.pem"));
            let kid = KeyPair::from_pem(&private).expect("pair").id().to_string();
            jobs.push(
                json!({"family": f, "who": who, "alg": alg.name(), "key": private, "kid": kid}),
            );
        }
    }
    let script = r#"
import json, sys, jwt
out = []
for j in json.load(sys.stdin):
    claims = {"sub": "pyjwt-" + j["family"] + "-" + j["who"], "iat": 1700000000, "exp": 4102444800}
    for kid in (j["kid"], None):
        headers = {"kid": kid} if kid else None
        token = jwt.encode(claims, j["key"], algorithm=j["alg"], headers=headers)
        out.append(dict(j, key=None, kid=kid, token=token, claims=claims))
print(json.dumps(out))
"#;
    let got = python(script, &Value::Array(jobs.clone()));
    let tokens = got.as_array().expect("array");
    assert_eq!(tokens.len(), jobs.len() * 2);
    for t in tokens {
        let f = t["family"].as_str().expect("family");
        let ring = if f == "hs256" {
            &hs_ring
        } else {
            // current private key, previous public only
            &pair_jwt(&[
                format!("jwt-{f}-current.pem"),
                format!("jwt-{f}-previous.pub.pem"),
            ])
        };
        let ok = ring
            .verify::<Value>(t["token"].as_str().expect("token"))
            .unwrap_or_else(|e| panic!("{f} {} kid={}: {e}", t["who"], t["kid"]));
        assert_eq!(ok.claims, t["claims"]);
        assert_eq!(ok.current, t["who"] == "current");
        assert_eq!(ok.legacy, t["kid"].is_null());
    }
}

#[test]
fn pyjwt_jwkset_accepts_rotor_jwks() {
    let mut cases = Vec::new();
    for alg in ASYM {
        let f = family(alg);
        let ring = PairRing::from_pems(&[
            &pem(&format!("jwt-{f}-current.pem")),
            &pem(&format!("jwt-{f}-previous.pub.pem")),
        ])
        .expect("ring");
        let doc = jwks(&ring);
        let current = Jwt::pairs(ring)
            .sign(&claims("jwks-current"))
            .expect("sign");
        let previous = pair_jwt(&[format!("jwt-{f}-previous.pem")])
            .sign(&claims("jwks-previous"))
            .expect("sign");
        cases.push(json!({"alg": alg.name(), "jwks": doc, "tokens": [current, previous]}));
    }
    let script = r#"
import json, sys, jwt
out = []
for c in json.load(sys.stdin):
    keyset = jwt.PyJWKSet.from_dict(c["jwks"])
    assert len(keyset.keys) == len(c["jwks"]["keys"]), "PyJWKSet dropped keys"
    for token in c["tokens"]:
        kid = jwt.get_unverified_header(token)["kid"]
        key = keyset[kid]
        claims = jwt.decode(token, key.key, algorithms=[key.algorithm_name])
        out.append({"alg": c["alg"], "kid": kid, "key_alg": key.algorithm_name, "sub": claims["sub"]})
print(json.dumps(out))
"#;
    let got = python(script, &Value::Array(cases));
    let rows = got.as_array().expect("array");
    assert_eq!(rows.len(), 6);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["key_alg"], r["alg"], "{r}");
        let expect = if i % 2 == 0 {
            "interop-jwks-current"
        } else {
            "interop-jwks-previous"
        };
        assert_eq!(r["sub"], expect, "{r}");
    }
}
