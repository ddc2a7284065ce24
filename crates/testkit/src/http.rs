//! A health endpoint on a loopback port whose status code a test can change
//! while rotor runs, to drive the verify hook both ways.

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
                        let mut buf = [0u8; 2048];
                        let _ = conn.read(&mut buf);
                        h2.fetch_add(1, Ordering::Relaxed);
                        let code = s2.load(Ordering::Relaxed);
                        let body = format!("status {code}\n");
                        let _ = write!(
                            conn,
                            "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
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

impl Drop for HealthStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
