//! Asymmetric signing keys from PEM: RSA (PKCS#8 or PKCS#1), EC P-256
//! (PKCS#8 or SEC1) and Ed25519 (PKCS#8) private keys, and public keys
//! (SubjectPublicKeyInfo, or PKCS#1 for RSA) for previous keys that only
//! verify.
//!
//! A key's id is [`KeyId::of`] its public key's SubjectPublicKeyInfo DER, the
//! fingerprint rotor records for key pairs.

use std::fmt;
use std::path::Path;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{
    self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ParsedPublicKey, RsaKeyPair,
};
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::{KeyId, KeyringError};

/// DER prefix of a P-256 SubjectPublicKeyInfo with an uncompressed point.
const P256_SPKI_PREFIX: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];
/// DER prefix of an Ed25519 SubjectPublicKeyInfo.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The kinds of asymmetric key this crate signs and verifies with. Each is
/// bound to exactly one JWT algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA, 2048 to 8192 bits: `RS256` (PKCS#1 v1.5, SHA-256).
    Rsa,
    /// ECDSA on P-256: `ES256`.
    EcP256,
    /// Ed25519: `EdDSA`.
    Ed25519,
}

impl KeyKind {
    /// The JWT algorithm name this kind of key signs with.
    pub fn jwt_alg_name(self) -> &'static str {
        match self {
            KeyKind::Rsa => "RS256",
            KeyKind::EcP256 => "ES256",
            KeyKind::Ed25519 => "EdDSA",
        }
    }

    fn verification(self) -> &'static dyn sig::VerificationAlgorithm {
        match self {
            KeyKind::Rsa => &sig::RSA_PKCS1_2048_8192_SHA256,
            KeyKind::EcP256 => &sig::ECDSA_P256_SHA256_FIXED,
            KeyKind::Ed25519 => &sig::ED25519,
        }
    }
}

/// What a JWK needs of a public key (public values only).
#[derive(Clone)]
pub(crate) enum JwkParams {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { x: Vec<u8>, y: Vec<u8> },
    Okp { x: Vec<u8> },
}

/// A public key that verifies: a previous key kept only to check what it
/// signed, or the public half of a [`KeyPair`].
#[derive(Clone)]
pub struct PublicKey {
    id: KeyId,
    kind: KeyKind,
    spki: Vec<u8>,
    parsed: ParsedPublicKey,
    jwk: JwkParams,
}

impl PublicKey {
    /// A public key from its SubjectPublicKeyInfo DER (or PKCS#1
    /// `RSAPublicKey` DER for RSA). The id is computed over the canonical
    /// SubjectPublicKeyInfo.
    pub fn from_der(der: &[u8]) -> Result<PublicKey, KeyringError> {
        PublicKey::from_der_named("DER", der)
    }

    /// A public key from a PEM string (`PUBLIC KEY` or `RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<PublicKey, KeyringError> {
        match parse_pem("PEM", pem)? {
            Some(RingKey::Public(p)) => Ok(p),
            Some(RingKey::Pair(_)) => {
                Err(bad("PEM", "a private key where a public key was expected"))
            }
            None => Err(KeyringError::NoKey("PEM".to_owned())),
        }
    }

    fn from_der_named(source: &str, der: &[u8]) -> Result<PublicKey, KeyringError> {
        for kind in [KeyKind::Ed25519, KeyKind::EcP256, KeyKind::Rsa] {
            if let Ok(parsed) = ParsedPublicKey::new(kind.verification(), der) {
                return PublicKey::from_parsed(source, kind, &parsed);
            }
        }
        Err(bad(
            source,
            "not an RSA (2048-8192 bits), P-256 or Ed25519 public key",
        ))
    }

    fn from_parsed(
        source: &str,
        kind: KeyKind,
        parsed: &ParsedPublicKey,
    ) -> Result<PublicKey, KeyringError> {
        let spki = parsed
            .as_der()
            .map_err(|_| bad(source, "cannot encode the public key"))?
            .as_ref()
            .to_vec();
        // Parse the canonical encoding again, so the key used to verify is
        // exactly the one the id names.
        let parsed = ParsedPublicKey::new(kind.verification(), &spki)
            .map_err(|e| bad(source, &format!("public key rejected: {e}")))?;
        let jwk = match kind {
            KeyKind::Rsa => {
                let rsa = aws_lc_rs::rsa::PublicKey::from_der(&spki)
                    .map_err(|e| bad(source, &format!("RSA public key rejected: {e}")))?;
                let bits = rsa.modulus_len() * 8;
                if !(2048..=8192).contains(&bits) {
                    return Err(bad(
                        source,
                        &format!("RSA key of {bits} bits; 2048 to 8192 are accepted"),
                    ));
                }
                let c = PublicKeyComponents::<Vec<u8>>::from(&rsa);
                JwkParams::Rsa { n: c.n, e: c.e }
            }
            KeyKind::EcP256 => match spki.strip_prefix(&P256_SPKI_PREFIX[..]) {
                Some(point) if point.len() == 64 => JwkParams::Ec {
                    x: point[..32].to_vec(),
                    y: point[32..].to_vec(),
                },
                _ => return Err(bad(source, "unexpected P-256 public key encoding")),
            },
            KeyKind::Ed25519 => match spki.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
                Some(x) if x.len() == 32 && weak_ed25519(x) => {
                    return Err(bad(
                        source,
                        "Ed25519 public key of small order or in a non-canonical encoding: signatures under it can be forged",
                    ))
                }
                Some(x) if x.len() == 32 => JwkParams::Okp { x: x.to_vec() },
                _ => return Err(bad(source, "unexpected Ed25519 public key encoding")),
            },
        };
        Ok(PublicKey {
            id: KeyId::of(&spki),
            kind,
            spki,
            parsed,
            jwk,
        })
    }

    /// Its id: the fingerprint of its SubjectPublicKeyInfo DER.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// Its kind (and so its one JWT algorithm).
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Its SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// Its `PUBLIC KEY` PEM, to publish or to keep as a verify-only
    /// previous key.
    pub fn to_pem(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.spki);
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }

    /// Checks a raw signature (JWS form: `r||s` for ES256) over `msg`.
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> Result<(), KeyringError> {
        self.parsed
            .verify_sig(msg, signature)
            .map_err(|_| KeyringError::BadSignature)
    }

    pub(crate) fn jwk_params(&self) -> &JwkParams {
        &self.jwk
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("id", &self.id)
            .field("alg", &self.kind.jwt_alg_name())
            .finish()
    }
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private signing key and its public half. The private key lives only
/// inside aws-lc (freed with its memory cleansed); the PEM and DER it was
/// read from are wiped after parsing. `Debug` shows the id and algorithm
/// only.
pub struct KeyPair {
    public: PublicKey,
    signer: Signer,
}

impl KeyPair {
    /// A key pair from a private key PEM (`PRIVATE KEY`, `RSA PRIVATE KEY`
    /// or `EC PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<KeyPair, KeyringError> {
        match parse_pem("PEM", pem)? {
            Some(RingKey::Pair(p)) => Ok(p),
            Some(RingKey::Public(_)) => {
                Err(bad("PEM", "a public key where a private key was expected"))
            }
            None => Err(KeyringError::NoKey("PEM".to_owned())),
        }
    }

    /// A fresh random key pair of this kind (for tests and first setups;
    /// rotor generates the real ones).
    pub fn generate(kind: KeyKind) -> Result<KeyPair, KeyringError> {
        let source = "generated key";
        let fail = |_| bad(source, "generation failed");
        let signer = match kind {
            KeyKind::Rsa => {
                Signer::Rsa(RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(fail)?)
            }
            KeyKind::EcP256 => Signer::Ec(
                EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_FIXED_SIGNING).map_err(fail)?,
            ),
            KeyKind::Ed25519 => Signer::Ed(Ed25519KeyPair::generate().map_err(fail)?),
        };
        KeyPair::from_signer(source, signer)
    }

    fn from_signer(source: &str, signer: Signer) -> Result<KeyPair, KeyringError> {
        let (kind, spki) = match &signer {
            Signer::Rsa(k) => (
                KeyKind::Rsa,
                k.public_key().as_der().map(|d| d.as_ref().to_vec()),
            ),
            Signer::Ec(k) => (
                KeyKind::EcP256,
                k.public_key().as_der().map(|d| d.as_ref().to_vec()),
            ),
            Signer::Ed(k) => (
                KeyKind::Ed25519,
                k.public_key().as_der().map(|d| d.as_ref().to_vec()),
            ),
        };
        let spki = spki.map_err(|_| bad(source, "cannot encode the public key"))?;
        let parsed = ParsedPublicKey::new(kind.verification(), &spki)
            .map_err(|e| bad(source, &format!("public key rejected: {e}")))?;
        let public = PublicKey::from_parsed(source, kind, &parsed)?;
        Ok(KeyPair { public, signer })
    }

    /// Its id (that of its public key).
    pub fn id(&self) -> &KeyId {
        &self.public.id
    }

    /// Its kind.
    pub fn kind(&self) -> KeyKind {
        self.public.kind
    }

    /// Its public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// A raw signature over `msg` in JWS form (RS256: PKCS#1 v1.5 SHA-256;
    /// ES256: fixed `r||s`; EdDSA: Ed25519).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyringError> {
        match &self.signer {
            Signer::Rsa(k) => {
                let mut out = vec![0u8; k.public_modulus_len()];
                k.sign(&sig::RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut out)
                    .map_err(|_| KeyringError::SignFailed)?;
                Ok(out)
            }
            Signer::Ec(k) => k
                .sign(&SystemRandom::new(), msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyringError::SignFailed),
            Signer::Ed(k) => Ok(k.sign(msg).as_ref().to_vec()),
        }
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("id", &self.public.id)
            .field("alg", &self.public.kind.jwt_alg_name())
            .finish_non_exhaustive()
    }
}

/// One key on a [`PairRing`]: a key pair (can sign) or a public key (only
/// verifies).
#[derive(Debug)]
pub enum RingKey {
    /// A private key and its public half.
    Pair(KeyPair),
    /// A public key only.
    Public(PublicKey),
}

impl RingKey {
    /// The public key (of a pair, its public half).
    pub fn public_key(&self) -> &PublicKey {
        match self {
            RingKey::Pair(p) => &p.public,
            RingKey::Public(p) => p,
        }
    }
}

impl From<KeyPair> for RingKey {
    fn from(p: KeyPair) -> RingKey {
        RingKey::Pair(p)
    }
}

impl From<PublicKey> for RingKey {
    fn from(p: PublicKey) -> RingKey {
        RingKey::Public(p)
    }
}

/// The live asymmetric keys of one secret, newest first: the first is
/// current (it signs, when it has its private key), all of them verify.
/// Previous keys may be public only.
///
/// ```
/// use rotor_keyring::{KeyKind, PairRing};
///
/// // An Ed25519 key (an example only), as `openssl genpkey -algorithm ED25519` writes it.
/// let pem = "-----BEGIN PRIVATE KEY-----
/// MC4CAQAwBQYDK2VwBCIEIE6KPjUDoNRpq9gOgOruXbQ/4nrSBnialdE+I4q6IUFV
/// -----END PRIVATE KEY-----";
/// let ring = PairRing::from_pems(&[pem])?;
/// assert_eq!(ring.current().kind(), KeyKind::Ed25519);
/// let sig = ring.signing_key()?.sign(b"message")?;
/// ring.current().verify(b"message", &sig)?;
/// // Debug never shows the private key.
/// assert!(!format!("{ring:?}").contains("MC4CAQAw"));
/// # Ok::<(), rotor_keyring::KeyringError>(())
/// ```
#[derive(Debug)]
pub struct PairRing {
    keys: Vec<RingKey>,
}

impl PairRing {
    /// A ring from keys, newest first. Refuses an empty ring and a key that
    /// appears twice.
    pub fn from_keys(keys: impl IntoIterator<Item = RingKey>) -> Result<PairRing, KeyringError> {
        let mut out: Vec<RingKey> = Vec::new();
        for k in keys {
            let id = k.public_key().id();
            if out.iter().any(|o| o.public_key().id() == id) {
                return Err(KeyringError::Duplicate(id.to_string()));
            }
            out.push(k);
        }
        if out.is_empty() {
            return Err(KeyringError::NoKey("the given keys".to_owned()));
        }
        Ok(PairRing { keys: out })
    }

    /// A ring from PEM strings, newest first (`NAME`, `NAME_PREVIOUS`).
    /// Each holds one key, private or public; blank strings (an emptied
    /// `NAME_PREVIOUS` after a retire) are skipped.
    pub fn from_pems(pems: &[&str]) -> Result<PairRing, KeyringError> {
        let mut keys = Vec::new();
        for (i, pem) in pems.iter().enumerate() {
            if let Some(k) = parse_pem(&format!("PEM #{}", i + 1), pem)? {
                keys.push(k);
            }
        }
        PairRing::from_keys(keys)
    }

    /// A ring from PEM files, newest first. Each file holds one key; an
    /// empty file is skipped, a missing one is an error.
    pub fn from_pem_files<P: AsRef<Path>>(paths: &[P]) -> Result<PairRing, KeyringError> {
        let mut keys = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let name = path.display().to_string();
            let text = Zeroizing::new(
                std::fs::read_to_string(path).map_err(|e| bad(&name, &e.kind().to_string()))?,
            );
            if let Some(k) = parse_pem(&name, &text)? {
                keys.push(k);
            }
        }
        PairRing::from_keys(keys)
    }

    pub(crate) fn into_keys(self) -> Vec<RingKey> {
        self.keys
    }

    /// The current key's public half.
    pub fn current(&self) -> &PublicKey {
        // `from_keys` never builds an empty ring.
        self.keys[0].public_key()
    }

    /// The current key pair, which signs; [`KeyringError::NoSigningKey`]
    /// on a verify-only ring.
    pub fn signing_key(&self) -> Result<&KeyPair, KeyringError> {
        match &self.keys[0] {
            RingKey::Pair(p) => Ok(p),
            RingKey::Public(p) => Err(KeyringError::NoSigningKey(p.id.to_string())),
        }
    }

    /// The public key with this id, if it is on the ring.
    pub fn get(&self, id: &KeyId) -> Option<&PublicKey> {
        self.keys().find(|k| &k.id == id)
    }

    /// Every live public key, newest first.
    pub fn keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.iter().map(RingKey::public_key)
    }

    /// How many keys are live.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a ring has at least its current key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn bad(source: &str, reason: &str) -> KeyringError {
    KeyringError::BadKey {
        source_name: source.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The one key in a PEM text, or `None` for a blank text.
fn parse_pem(source: &str, text: &str) -> Result<Option<RingKey>, KeyringError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut found: Option<RingKey> = None;
    for (label, der) in pem_blocks(source, text)? {
        if label == "EC PARAMETERS" {
            // `openssl ecparam -genkey` writes this before the key.
            continue;
        }
        if found.is_some() {
            return Err(bad(source, "more than one key; give one key per PEM"));
        }
        found = Some(key_from_der(source, &label, &der)?);
    }
    match found {
        Some(k) => Ok(Some(k)),
        None => Err(bad(source, "no PEM key block")),
    }
}

fn key_from_der(source: &str, label: &str, der: &[u8]) -> Result<RingKey, KeyringError> {
    let signer = match label {
        "PRIVATE KEY" => {
            if let Ok(k) = Ed25519KeyPair::from_pkcs8(der) {
                Signer::Ed(k)
            } else if let Ok(k) =
                EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, der)
            {
                Signer::Ec(k)
            } else {
                match RsaKeyPair::from_pkcs8(der) {
                    Ok(k) => Signer::Rsa(k),
                    Err(e) => {
                        return Err(bad(
                            source,
                            &format!(
                                "not an RSA (2048-8192 bits), P-256 or Ed25519 PKCS#8 key ({e})"
                            ),
                        ))
                    }
                }
            }
        }
        "RSA PRIVATE KEY" => Signer::Rsa(
            RsaKeyPair::from_der(der)
                .map_err(|e| bad(source, &format!("RSA private key rejected: {e}")))?,
        ),
        "EC PRIVATE KEY" => Signer::Ec(
            EcdsaKeyPair::from_private_key_der(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .map_err(|e| bad(source, &format!("not a P-256 SEC1 key ({e})")))?,
        ),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {
            return PublicKey::from_der_named(source, der).map(RingKey::Public)
        }
        "ENCRYPTED PRIVATE KEY" => {
            return Err(bad(source, "encrypted private keys are not supported"))
        }
        other => return Err(bad(source, &format!("unsupported PEM block {other:?}"))),
    };
    KeyPair::from_signer(source, signer).map(RingKey::Pair)
}

/// The blocks of a PEM text (RFC 7468, lax): label and decoded DER, the
/// DER in memory that is wiped on drop.
/// A PEM block: its label and its DER (wiped on drop).
type PemBlock = (String, Zeroizing<Vec<u8>>);

fn pem_blocks(source: &str, text: &str) -> Result<Vec<PemBlock>, KeyringError> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, Zeroizing<String>)> = None;
    for line in text.lines().map(str::trim) {
        match open.as_mut() {
            None => {
                if let Some(label) = line
                    .strip_prefix("-----BEGIN ")
                    .and_then(|l| l.strip_suffix("-----"))
                {
                    open = Some((
                        label.to_owned(),
                        Zeroizing::new(String::with_capacity(text.len())),
                    ));
                }
            }
            Some((label, body)) => {
                if let Some(end) = line
                    .strip_prefix("-----END ")
                    .and_then(|l| l.strip_suffix("-----"))
                {
                    if end != label {
                        return Err(bad(source, "PEM END line does not match its BEGIN"));
                    }
                    let mut der = Zeroizing::new(Vec::with_capacity(body.len() / 4 * 3 + 3));
                    base64::engine::general_purpose::STANDARD
                        .decode_vec(body.as_bytes(), &mut der)
                        .map_err(|_| bad(source, "PEM body is not valid base64"))?;
                    blocks.push((std::mem::take(label), der));
                    open = None;
                } else if line.contains(':') {
                    return Err(bad(
                        source,
                        "PEM headers (an encrypted key?) are not supported",
                    ));
                } else {
                    body.push_str(line);
                }
            }
        }
    }
    if open.is_some() {
        return Err(bad(source, "PEM block has no END line"));
    }
    Ok(blocks)
}

/// The y coordinates (little-endian, sign bit cleared) of the Ed25519 points
/// of order 1, 2, 4 and 8: a public key on one of them verifies forged
/// signatures (the list libsodium blocks).
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    // identity (y = 1)
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    // order 2 (y = p - 1)
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // order 4 (y = 0)
    [0; 32],
    // order 8
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
];

/// An Ed25519 public key of small order (either sign), or with y >= p
/// (a non-canonical encoding).
fn weak_ed25519(x: &[u8]) -> bool {
    let mut y = [0u8; 32];
    y.copy_from_slice(x);
    y[31] &= 0x7f;
    // p = 2^255 - 19: little-endian ed ff .. ff 7f
    let at_least_p = y[0] >= 0xed && y[1..31].iter().all(|b| *b == 0xff) && y[31] == 0x7f;
    at_least_p || SMALL_ORDER_Y.contains(&y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_pem_and_keep_their_id() {
        for kind in [KeyKind::EcP256, KeyKind::Ed25519] {
            let pair = KeyPair::generate(kind).expect("generate");
            let public = PublicKey::from_pem(&pair.public_key().to_pem()).expect("public pem");
            assert_eq!(public.id(), pair.id());
            assert_eq!(public.id(), &KeyId::of(public.spki_der()));
            let s = pair.sign(b"m").expect("sign");
            public.verify(b"m", &s).expect("verify");
            assert_eq!(public.verify(b"n", &s), Err(KeyringError::BadSignature));
        }
    }

    #[test]
    fn bad_pems_are_clear_errors() {
        for text in [
            "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----",
            "no pem here",
        ] {
            assert!(
                matches!(PairRing::from_pems(&[text]), Err(KeyringError::BadKey { .. })),
                "{text}"
            );
        }
        assert!(matches!(
            PairRing::from_pems(&["", "  "]),
            Err(KeyringError::NoKey(_))
        ));
    }

    #[test]
    fn public_only_ring_verifies_but_cannot_sign() {
        let pair = KeyPair::generate(KeyKind::Ed25519).expect("generate");
        let ring = PairRing::from_pems(&[&pair.public_key().to_pem()]).expect("ring");
        assert!(matches!(
            ring.signing_key(),
            Err(KeyringError::NoSigningKey(_))
        ));
        let dup = PairRing::from_keys([
            RingKey::Public(pair.public_key().clone()),
            RingKey::Pair(pair),
        ]);
        assert!(matches!(dup, Err(KeyringError::Duplicate(_))));
    }
}
