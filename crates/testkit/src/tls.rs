//! Throwaway TLS certificates for tests (with `rcgen`): a CA of its own
//! ([`TestCa`]), and server certificates it signs for loopback names and
//! addresses (`127.0.0.1` as an IP SAN), written as PEM files where a
//! server (or rotor's `tls_ca_file`) reads them. Nothing here is kept:
//! every test makes its own, in its own temp dir.

use std::fs;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// A throwaway certificate authority: a self-signed CA certificate and its
/// key, which signs server certificates ([`TestCa::issue`]).
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate and its private key, both PEM.
pub struct ServerCert {
    /// The certificate (PEM).
    pub cert_pem: String,
    /// Its private key (PEM, PKCS#8).
    pub key_pem: String,
}

impl TestCa {
    /// A new CA named `name` (its common name). Panics if `rcgen` cannot
    /// make one.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new())
            .unwrap_or_else(|e| panic!("testkit::TestCa: CA params: {e}"));
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("testkit::TestCa: CA key: {e}"));
        let issuer = CertifiedIssuer::self_signed(params, key)
            .unwrap_or_else(|e| panic!("testkit::TestCa: self-sign the CA: {e}"));
        TestCa { issuer }
    }

    /// The CA certificate (PEM): what a client trusts.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// Writes the CA certificate (PEM) to `path`.
    pub fn write_cert(&self, path: &Path) {
        fs::write(path, self.cert_pem())
            .unwrap_or_else(|e| panic!("testkit::TestCa: write {}: {e}", path.display()));
    }

    /// A server certificate signed by this CA for `names` (an IP address,
    /// e.g. `127.0.0.1`, becomes an IP SAN; anything else a DNS name).
    pub fn issue(&self, names: &[&str]) -> ServerCert {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone())
            .unwrap_or_else(|e| panic!("testkit::TestCa: server params for {names:?}: {e}"));
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.is_ca = IsCa::NoCa;
        let key =
            KeyPair::generate().unwrap_or_else(|e| panic!("testkit::TestCa: server key: {e}"));
        let cert = params
            .signed_by(&key, &self.issuer)
            .unwrap_or_else(|e| panic!("testkit::TestCa: sign the server certificate: {e}"));
        ServerCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}
