//! JWTs signed with the current key and verified against every live key.
//!
//! A [`Jwt`] is built over an HMAC [`Keyring`] (HS256/384/512) or a
//! [`PairRing`] (RS256, ES256, EdDSA: one algorithm per key, fixed by the
//! key's kind). It signs with the current key and puts the key's id (rotor's
//! fingerprint) in the header `kid`. It verifies:
//!
//! - only the algorithms it was built for: `none`, unknown names and an
//!   algorithm of the wrong family are refused before any key is touched,
//!   so an HS256 token can never be checked against an RSA public key used
//!   as an HMAC secret, and a key is only ever used with its own algorithm;
//! - by `kid` first (a `kid` not on the ring is [`KeyringError::UnknownKid`]);
//!   a token without `kid` (issued before rotor-keyring) is tried against
//!   every live key of its algorithm;
//! - then the claims: `exp` (required by default), `nbf`, with a leeway
//!   (60 s by default), and `iss`/`aud` when configured.
//!
//! Header fields that point at keys (`jku`, `jwk`, `x5u`, `x5c`) are ignored:
//! keys only ever come from the ring. A `crit` header is refused.
//!
//! Signatures are made and checked by aws-lc (through `aws-lc-rs`), with keys
//! parsed once when the `Jwt` is built. To pick up a rotation without a
//! restart, build a new `Jwt` from the reloaded ring and swap it in (for
//! example behind an `RwLock<Arc<Jwt>>`).
//!
//! ```
//! use rotor_keyring::{Jwt, JwtAlg, Keyring, KeyringError};
//! use serde_json::json;
//!
//! // Before the rotation: one key.
//! let before = Jwt::hmac(&Keyring::from_pair("old-signing-key-0123456789abcdef", None)?, JwtAlg::HS256)?;
//! let token = before.sign(&json!({"sub": "alice", "iss": "rotor-demo", "exp": 4102444800u64}))?;
//!
//! // During the overlap rotor delivers NAME (new) and NAME_PREVIOUS (old).
//! let ring = Keyring::from_pair("new-signing-key-0123456789abcdef", Some("old-signing-key-0123456789abcdef"))?;
//! let jwt = Jwt::hmac(&ring, JwtAlg::HS256)?.with_issuer("rotor-demo");
//! let ok = jwt.verify::<serde_json::Value>(&token)?;
//! assert_eq!(ok.claims["sub"], "alice");
//! assert!(!ok.current); // signed by the previous key: time to re-issue
//!
//! // After `rotor retire`, the old key is gone and so are its tokens.
//! let after = Jwt::hmac(&Keyring::from_pair("new-signing-key-0123456789abcdef", None)?, JwtAlg::HS256)?;
//! assert!(matches!(after.verify::<serde_json::Value>(&token), Err(KeyringError::UnknownKid(_))));
//! assert!(matches!(after.verify::<serde_json::Value>("not.a.jwt"), Err(KeyringError::Malformed(_))));
//! # Ok::<(), KeyringError>(())
//! ```

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use aws_lc_rs::hmac as lc;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::pem::{KeyPair, PairRing, PublicKey, RingKey};
use crate::{KeyId, Keyring, KeyringError};

/// Longest token accepted, in bytes; longer input is
/// [`KeyringError::Malformed`] before any decoding.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Shortest HMAC key a [`Jwt`] accepts, in bytes.
pub const MIN_HMAC_KEY: usize = 32;

/// Default clock-skew allowance for `exp` and `nbf`, in seconds.
pub const DEFAULT_LEEWAY: u64 = 60;

/// The JWT algorithms rotor-keyring signs and verifies with.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlg {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl JwtAlg {
    /// Its name in a JWT header.
    pub fn name(self) -> &'static str {
        match self {
            JwtAlg::HS256 => "HS256",
            JwtAlg::HS384 => "HS384",
            JwtAlg::HS512 => "HS512",
            JwtAlg::RS256 => "RS256",
            JwtAlg::ES256 => "ES256",
            JwtAlg::EdDSA => "EdDSA",
        }
    }

    /// The algorithm with this header name (exact, case-sensitive); `None`
    /// for `none` and anything this crate does not implement.
    pub fn from_name(name: &str) -> Option<JwtAlg> {
        Some(match name {
            "HS256" => JwtAlg::HS256,
            "HS384" => JwtAlg::HS384,
            "HS512" => JwtAlg::HS512,
            "RS256" => JwtAlg::RS256,
            "ES256" => JwtAlg::ES256,
            "EdDSA" => JwtAlg::EdDSA,
            _ => return None,
        })
    }

    fn hmac(self) -> Option<lc::Algorithm> {
        match self {
            JwtAlg::HS256 => Some(lc::HMAC_SHA256),
            JwtAlg::HS384 => Some(lc::HMAC_SHA384),
            JwtAlg::HS512 => Some(lc::HMAC_SHA512),
            _ => None,
        }
    }

    fn of_kind(kind: crate::KeyKind) -> JwtAlg {
        match kind {
            crate::KeyKind::Rsa => JwtAlg::RS256,
            crate::KeyKind::EcP256 => JwtAlg::ES256,
            crate::KeyKind::Ed25519 => JwtAlg::EdDSA,
        }
    }
}

impl fmt::Display for JwtAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

enum Check {
    Hmac(Box<lc::Key>),
    Public(PublicKey),
}

/// One live key, ready to verify.
struct Entry {
    id: KeyId,
    alg: JwtAlg,
    check: Check,
}

impl Entry {
    fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        match &self.check {
            Check::Hmac(k) => lc::verify(k, msg, signature).is_ok(),
            Check::Public(p) => p.verify(msg, signature).is_ok(),
        }
    }
}

enum Signer {
    Hmac(Box<lc::Key>),
    Pair(Box<KeyPair>),
    /// A verify-only ring: the current key's id.
    None(KeyId),
}

/// A verified token: its claims, and which key signed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified<T> {
    /// The claims, deserialized.
    pub claims: T,
    /// The id of the key whose signature matched.
    pub kid: KeyId,
    /// The token's algorithm.
    pub alg: JwtAlg,
    /// True when that key is the current one; false means a previous key
    /// signed it (re-issue when convenient).
    pub current: bool,
    /// True when the token had no `kid` and was matched by trying every
    /// live key (a token issued before rotor-keyring).
    pub legacy: bool,
}

/// Signs JWTs with the current key and verifies them against every live
/// key. See the [module docs](crate::jwt) for what is checked and for a
/// rotation with an HMAC ring.
///
/// ```
/// use rotor_keyring::{Jwt, JwtAlg, KeyKind, KeyPair, PairRing, RingKey};
/// use serde_json::{json, Value};
///
/// let ring = PairRing::from_keys([RingKey::from(KeyPair::generate(KeyKind::EcP256)?)])?;
/// let jwks = rotor_keyring::jwks(&ring); // publish this for other verifiers
/// let jwt = Jwt::pairs(ring).with_audience("api");
/// let token = jwt.sign(&json!({"sub": "alice", "aud": "api", "exp": 4102444800u64}))?;
/// let ok = jwt.verify::<Value>(&token)?;
/// assert_eq!((ok.alg, &ok.kid), (JwtAlg::ES256, jwt.current_kid()));
/// assert_eq!(jwks["keys"][0]["kid"], jwt.current_kid().as_str());
/// # Ok::<(), rotor_keyring::KeyringError>(())
/// ```
pub struct Jwt {
    entries: Vec<Entry>,
    signer: Signer,
    sign_alg: JwtAlg,
    allowed: Vec<JwtAlg>,
    leeway: u64,
    require_exp: bool,
    issuers: Option<HashSet<String>>,
    audiences: Option<HashSet<String>>,
}

impl Jwt {
    /// Over an HMAC keyring with one of HS256, HS384, HS512: tokens are
    /// signed and accepted with that algorithm only.
    pub fn hmac(ring: &Keyring, alg: JwtAlg) -> Result<Jwt, KeyringError> {
        let Some(lc_alg) = alg.hmac() else {
            return Err(KeyringError::AlgNotAllowed(alg.name().to_owned()));
        };
        // RFC 7518 §3.2 asks for a key as long as the hash output. 32 bytes
        // (256 bits, HS256's output) are required for every HS algorithm;
        // HS384/HS512 keys between 32 bytes and their hash length are
        // accepted so existing deployments keep working (rotor makes 32-byte
        // keys by default: configure `bytes = 64` for HS512).
        let min = MIN_HMAC_KEY;
        if let Some(short) = ring.keys().find(|k| k.secret().len() < min) {
            return Err(KeyringError::BadKey {
                source_name: short.id().to_string(),
                reason: format!(
                    "{} needs keys of at least {min} bytes; this one has {}",
                    alg.name(),
                    short.secret().len()
                ),
            });
        }
        let entries = ring
            .keys()
            .map(|k| Entry {
                id: k.id().clone(),
                alg,
                check: Check::Hmac(Box::new(lc::Key::new(lc_alg, k.secret()))),
            })
            .collect();
        Ok(Jwt::new(
            entries,
            Signer::Hmac(Box::new(lc::Key::new(lc_alg, ring.current().secret()))),
            alg,
        ))
    }

    /// Over a ring of asymmetric keys (RS256, ES256, EdDSA). Each key is
    /// used only with the algorithm of its kind; the ring may mix kinds. A
    /// ring whose current key is public only can verify but not sign.
    pub fn pairs(ring: PairRing) -> Jwt {
        let mut keys = ring.into_keys().into_iter();
        let mut entries = Vec::with_capacity(keys.len());
        let mut signer = None;
        let mut sign_alg = JwtAlg::RS256;
        if let Some(first) = keys.next() {
            sign_alg = JwtAlg::of_kind(first.public_key().kind());
            let public = first.public_key().clone();
            signer = Some(match first {
                RingKey::Pair(p) => Signer::Pair(Box::new(p)),
                RingKey::Public(p) => Signer::None(p.id().clone()),
            });
            entries.push(public);
        }
        entries.extend(keys.map(|k| k.public_key().clone()));
        let entries = entries
            .into_iter()
            .map(|p| Entry {
                id: p.id().clone(),
                alg: JwtAlg::of_kind(p.kind()),
                check: Check::Public(p),
            })
            .collect();
        let signer = signer.unwrap_or_else(|| Signer::None(KeyId::from_str_unchecked("")));
        Jwt::new(entries, signer, sign_alg)
    }

    fn new(entries: Vec<Entry>, signer: Signer, sign_alg: JwtAlg) -> Jwt {
        let mut allowed: Vec<JwtAlg> = Vec::new();
        for e in &entries {
            if !allowed.contains(&e.alg) {
                allowed.push(e.alg);
            }
        }
        Jwt {
            entries,
            signer,
            sign_alg,
            allowed,
            leeway: DEFAULT_LEEWAY,
            require_exp: true,
            issuers: None,
            audiences: None,
        }
    }

    /// Clock-skew allowance for `exp` and `nbf`, in seconds (default 60).
    pub fn with_leeway(mut self, seconds: u64) -> Jwt {
        self.leeway = seconds;
        self
    }

    /// Whether a token without `exp` is refused (default: yes).
    pub fn require_exp(mut self, required: bool) -> Jwt {
        self.require_exp = required;
        self
    }

    /// Accept tokens whose `iss` is this issuer (call again to accept
    /// several). Once set, a token without `iss` is refused.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Jwt {
        self.issuers
            .get_or_insert_with(HashSet::new)
            .insert(issuer.into());
        self
    }

    /// Accept tokens whose `aud` names this audience (call again to accept
    /// several). Once set, a token without `aud` is refused; while unset, a
    /// token with an `aud` is refused (RFC 7519 §4.1.3).
    pub fn with_audience(mut self, audience: impl Into<String>) -> Jwt {
        self.audiences
            .get_or_insert_with(HashSet::new)
            .insert(audience.into());
        self
    }

    /// The algorithm new tokens are signed with.
    pub fn algorithm(&self) -> JwtAlg {
        self.sign_alg
    }

    /// The id of the key new tokens are signed with (the header `kid`).
    pub fn current_kid(&self) -> &KeyId {
        match &self.signer {
            Signer::Pair(p) => p.id(),
            Signer::None(id) => id,
            // `Keyring` is never empty, so neither are the entries.
            Signer::Hmac(_) => &self.entries[0].id,
        }
    }

    /// The live public keys (none for an HMAC ring), newest first: what
    /// [`crate::jwks_of`] publishes.
    pub fn public_keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.entries.iter().filter_map(|e| match &e.check {
            Check::Public(p) => Some(p),
            Check::Hmac(_) => None,
        })
    }

    /// A signed token (compact form) over `claims`, which must serialize to
    /// a JSON object. Header: `alg`, `typ: "JWT"`, `kid` = current key id.
    /// Registered claims (`exp`, `iat`, ...) are the caller's to set.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyringError> {
        let payload =
            serde_json::to_vec(claims).map_err(|e| KeyringError::Claims(e.to_string()))?;
        if payload.first() != Some(&b'{') {
            return Err(KeyringError::Claims("claims must be a JSON object".into()));
        }
        #[derive(Serialize)]
        struct Header<'a> {
            alg: &'a str,
            typ: &'a str,
            kid: &'a str,
        }
        let header = serde_json::to_vec(&Header {
            alg: self.sign_alg.name(),
            typ: "JWT",
            kid: self.current_kid().as_str(),
        })
        .map_err(|e| KeyringError::Claims(e.to_string()))?;
        let mut token = B64.encode(header);
        token.push('.');
        B64.encode_string(payload, &mut token);
        let signature = match &self.signer {
            Signer::Hmac(k) => lc::sign(k, token.as_bytes()).as_ref().to_vec(),
            Signer::Pair(p) => p.sign(token.as_bytes())?,
            Signer::None(id) => return Err(KeyringError::NoSigningKey(id.to_string())),
        };
        token.push('.');
        B64.encode_string(signature, &mut token);
        Ok(token)
    }

    /// Verifies a token now (system clock). See [`Jwt::verify_at`].
    pub fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<Verified<T>, KeyringError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.verify_at(token, now)
    }

    /// Verifies a token as of `now` (seconds since the Unix epoch): format,
    /// algorithm, key (by `kid`, or every live key for a token without
    /// one), signature, then claims. Each failure is its own
    /// [`KeyringError`] variant; no input panics.
    pub fn verify_at<T: DeserializeOwned>(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Verified<T>, KeyringError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(KeyringError::Malformed("token too long"));
        }
        let (header_b64, rest) = token
            .split_once('.')
            .ok_or(KeyringError::Malformed("not three dot-separated parts"))?;
        let (payload_b64, signature_b64) = rest
            .split_once('.')
            .ok_or(KeyringError::Malformed("not three dot-separated parts"))?;
        if signature_b64.contains('.') {
            return Err(KeyringError::Malformed("not three dot-separated parts"));
        }
        let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];

        let header_json = B64
            .decode(header_b64)
            .map_err(|_| KeyringError::Malformed("header is not base64url"))?;
        if header_json.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(KeyringError::Malformed("header is not a JSON object"));
        }
        let header: RawHeader<'_> = serde_json::from_slice(&header_json)
            .map_err(|_| KeyringError::Malformed("header is not a valid JOSE header"))?;
        if header.crit {
            return Err(KeyringError::Malformed("crit header is not supported"));
        }
        let alg_name = header
            .alg
            .ok_or(KeyringError::Malformed("header has no alg"))?;
        let alg = JwtAlg::from_name(&alg_name)
            .ok_or_else(|| KeyringError::UnsupportedAlg(shown(&alg_name)))?;
        if !self.allowed.contains(&alg) {
            return Err(KeyringError::AlgNotAllowed(alg.name().to_owned()));
        }

        let signature = B64
            .decode(signature_b64)
            .map_err(|_| KeyringError::Malformed("signature is not base64url"))?;
        let (index, legacy) = match header.kid.as_deref() {
            Some(kid) => {
                let (i, entry) = self
                    .entries
                    .iter()
                    .enumerate()
                    .find(|(_, e)| e.id.as_str() == kid)
                    .ok_or_else(|| KeyringError::UnknownKid(shown(kid)))?;
                if entry.alg != alg {
                    return Err(KeyringError::AlgNotAllowed(alg.name().to_owned()));
                }
                if !entry.verify(signing_input, &signature) {
                    return Err(KeyringError::BadSignature);
                }
                (i, false)
            }
            None => {
                let i = self
                    .entries
                    .iter()
                    .position(|e| e.alg == alg && e.verify(signing_input, &signature))
                    .ok_or(KeyringError::BadSignature)?;
                (i, true)
            }
        };

        let payload = B64
            .decode(payload_b64)
            .map_err(|_| KeyringError::Malformed("payload is not base64url"))?;
        if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(KeyringError::Malformed("claims are not a JSON object"));
        }
        let registered: Registered<'_> = serde_json::from_slice(&payload).map_err(|_| {
            KeyringError::Malformed("claims are not JSON, or exp/nbf/iss/aud have the wrong type")
        })?;
        self.check_claims(&registered, now)?;
        // serde's message would quote the offending claim's value (possibly
        // personal data) into logs: say only what is wrong.
        let claims = serde_json::from_slice(&payload).map_err(|_| {
            KeyringError::Claims("the verified claims do not fit the requested type".into())
        })?;
        Ok(Verified {
            claims,
            kid: self.entries[index].id.clone(),
            alg,
            current: index == 0,
            legacy,
        })
    }

    fn check_claims(&self, c: &Registered<'_>, now: u64) -> Result<(), KeyringError> {
        let now = now as f64;
        let leeway = self.leeway as f64;
        match c.exp {
            Some(exp) if exp <= now - leeway => return Err(KeyringError::Expired),
            None if self.require_exp => return Err(KeyringError::MissingClaim("exp")),
            _ => {}
        }
        if matches!(c.nbf, Some(nbf) if nbf > now + leeway) {
            return Err(KeyringError::NotYetValid);
        }
        if let Some(issuers) = &self.issuers {
            match &c.iss {
                Some(iss) if issuers.contains(iss.as_ref()) => {}
                _ => return Err(KeyringError::WrongIssuer),
            }
        }
        match (&self.audiences, &c.aud) {
            (Some(want), Some(got)) if got.0.iter().any(|a| want.contains(a)) => {}
            (Some(_), _) => return Err(KeyringError::WrongAudience),
            (None, Some(got)) if !got.0.is_empty() => return Err(KeyringError::WrongAudience),
            (None, _) => {}
        }
        Ok(())
    }
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("alg", &self.sign_alg)
            .field(
                "kids",
                &self.entries.iter().map(|e| &e.id).collect::<Vec<_>>(),
            )
            .field("leeway", &self.leeway)
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

/// An attacker-chosen string, made safe and short for an error message.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(64).flat_map(char::escape_debug).collect();
    if s.chars().nth(64).is_some() {
        out.push('…');
    }
    out
}

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow, default)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    /// Present at all (even `null`): RFC 7515 makes an invalid `crit` a
    /// reason to refuse, and this crate understands no extension.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    de::IgnoredAny::deserialize(d).map(|_| true)
}

#[derive(Deserialize)]
struct Registered<'a> {
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    nbf: Option<f64>,
    #[serde(borrow, default)]
    iss: Option<Cow<'a, str>>,
    #[serde(default)]
    aud: Option<Audiences>,
}

/// `aud`: one string or an array of strings.
struct Audiences(Vec<String>);

impl<'de> Deserialize<'de> for Audiences {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audiences;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audiences, E> {
                Ok(Audiences(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audiences, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Audiences(out))
            }
        }
        d.deserialize_any(V)
    }
}
