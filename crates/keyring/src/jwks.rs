//! JWKS: the live public keys (current and previous) as a JSON Web Key Set
//! (RFC 7517), for services that verify tokens without holding the ring.
//!
//! ```
//! use rotor_keyring::{jwks, KeyKind, KeyPair, PairRing, RingKey};
//!
//! let current = KeyPair::generate(KeyKind::EcP256)?;
//! let previous = KeyPair::generate(KeyKind::Ed25519)?.public_key().clone();
//! let ring = PairRing::from_keys([RingKey::from(current), RingKey::from(previous)])?;
//! let doc = jwks(&ring);
//! let keys = doc["keys"].as_array().expect("keys");
//! assert_eq!(keys.len(), 2);
//! assert_eq!(keys[0]["kid"], ring.current().id().as_str());
//! assert_eq!(keys[0]["alg"], "ES256");
//! assert_eq!(keys[1]["kty"], "OKP");
//! # Ok::<(), rotor_keyring::KeyringError>(())
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::pem::{JwkParams, PairRing, PublicKey};

/// The JWK of one public key: `kty`, `alg`, `use: "sig"`, `kid` (rotor's
/// fingerprint), and `n`/`e` (RSA), `crv`/`x`/`y` (P-256) or `crv`/`x`
/// (Ed25519), base64url without padding.
pub fn jwk(key: &PublicKey) -> Value {
    let common = json!({
        "alg": key.kind().jwt_alg_name(),
        "use": "sig",
        "kid": key.id().as_str(),
    });
    let specific = match key.jwk_params() {
        JwkParams::Rsa { n, e } => json!({"kty": "RSA", "n": B64.encode(n), "e": B64.encode(e)}),
        JwkParams::Ec { x, y } => {
            json!({"kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y)})
        }
        JwkParams::Okp { x } => json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(x)}),
    };
    let mut out = serde_json::Map::new();
    for part in [specific, common] {
        if let Value::Object(m) = part {
            out.extend(m);
        }
    }
    Value::Object(out)
}

/// `{"keys": [...]}` with every live key of the ring, newest first.
pub fn jwks(ring: &PairRing) -> Value {
    jwks_of(ring.keys())
}

/// `{"keys": [...]}` of any public keys (for example
/// [`crate::Jwt::public_keys`]).
pub fn jwks_of<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> Value {
    json!({ "keys": keys.into_iter().map(jwk).collect::<Vec<_>>() })
}
