//! A health endpoint on a loopback port whose status code a test can change
//! while rotor runs, to drive the verify hook both ways; over plain HTTP, or
//! over TLS with a certificate of a [`crate::TestCa`]
//! ([`HealthStub::start_tls`]).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// The running stub; stops when dropped.
pub struct HealthStub {
    port: u16,
    status: Arc<AtomicU16>,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl HealthStub {
    /// Starts answering `status` on 127.0.0.1 at a free port.
    pub fn start(status: u16) -> HealthStub {
        HealthStub::spawn(status, None)
    }

    /// Like [`HealthStub::start`], over TLS with `cert` (for example from
    /// `TestCa::issue(&["127.0.0.1"])`); [`HealthStub::https_url`] is its
    /// URL. A client that does not trust the CA gets no answer (and is
    /// not counted in [`HealthStub::hits`]). Panics if rustls refuses the
    /// certificate.
    pub fn start_tls(status: u16, cert: &crate::tls::ServerCert) -> HealthStub {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("testkit::HealthStub: certificate PEM: {e}"));
        let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes())
            .unwrap_or_else(|e| panic!("testkit::HealthStub: key PEM: {e}"));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .unwrap_or_else(|e| panic!("testkit::HealthStub: TLS config: {e}"));
        HealthStub::spawn(status, Some(Arc::new(config)))
    }

    fn spawn(status: u16, tls: Option<Arc<rustls::ServerConfig>>) -> HealthStub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let st = Arc::new(AtomicU16::new(status));
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, h2, stop2) = (st.clone(), hits.clone(), stop.clone());
        thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                        let code = s2.load(Ordering::Relaxed);
                        match &tls {
                            None => answer(&mut conn, code, &h2, false),
                            Some(config) => {
                                let Ok(server) = rustls::ServerConnection::new(config.clone())
                                else {
                                    continue;
                                };
                                let mut stream = rustls::StreamOwned::new(server, conn);
                                // The handshake happens in the first read; a
                                // client that refuses the certificate ends here.
                                answer(&mut stream, code, &h2, true);
                                stream.conn.send_close_notify();
                                let _ = stream.flush();
                            }
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        HealthStub {
            port,
            status: st,
            hits,
            stop,
        }
    }

    /// `https://127.0.0.1:PORT/health` (for [`HealthStub::start_tls`]).
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}/health", self.port)
    }

    /// `http://127.0.0.1:PORT/health`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/health", self.port)
    }

    /// Changes the status answered from now on.
    pub fn set_status(&self, code: u16) {
        self.status.store(code, Ordering::Relaxed);
    }

    /// Requests answered so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
}

/// Reads the request, counts it in `hits` and answers `code`. With `tls`,
/// a failed read (the handshake failed) is neither counted nor answered.
fn answer(conn: &mut (impl Read + Write), code: u16, hits: &AtomicUsize, tls: bool) {
    let mut buf = [0u8; 2048];
    let read = conn.read(&mut buf);
    if tls && !matches!(read, Ok(n) if n > 0) {
        return;
    }
    hits.fetch_add(1, Ordering::Relaxed);
    let body = format!("status {code}\n");
    let _ = write!(
        conn,
        "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.flush();
}

impl Drop for HealthStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
