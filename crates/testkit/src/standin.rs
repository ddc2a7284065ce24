//! Local stand-ins for the providers the example exec plugins talk to
//! (`examples/plugins/standin.py`: Stripe-, Twilio-, Cloudflare- and
//! S3/IAM-shaped APIs), started on a loopback port for a test and killed
//! when it ends. Their state (which credentials work, by the SHA-256 of
//! their value, never the value) is read over HTTP.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The stand-in servers' script.
pub fn script() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/plugins/standin.py"
    ))
}

/// A directory of the example plugins.
pub fn plugins_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/plugins"
    ))
}

/// A running stand-in.
pub struct Standin {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// Statuses of a credential that still works.
const WORKING: &[&str] = &["live", "expiring", "primary", "secondary", "active"];

impl Standin {
    /// Starts `python3 standin.py --provider PROVIDER ARGS…` and waits (at
    /// most 20 s) until it listens.
    pub fn start(provider: &str, args: &[&str]) -> Standin {
        let dir = tempfile::tempdir().expect("temp dir");
        let port_file = dir.path().join("port");
        let child = Command::new("python3")
            .arg(script())
            .args(["--provider", provider, "--port-file"])
            .arg(&port_file)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 standin.py (python3 must be installed)");
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                if let Ok(p) = text.trim().parse::<u16>() {
                    break p;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the {provider} stand-in did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Standin {
            child,
            port,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `GET /_standin/state`, parsed.
    pub fn state(&self) -> serde_json::Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to stand-in");
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        write!(
            s,
            "GET /_standin/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read state");
        let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("state is not JSON ({e}): {raw}"))
    }

    /// The SHA-256 (hex) of every credential that works now.
    pub fn working(&self) -> Vec<String> {
        self.state()["credentials"]
            .as_array()
            .expect("credentials")
            .iter()
            .filter(|c| WORKING.contains(&c["status"].as_str().unwrap_or("")))
            .filter_map(|c| c["sha256"].as_str().map(str::to_owned))
            .collect()
    }

    /// Whether the credential with this value works now.
    pub fn works(&self, value: &str) -> bool {
        self.working().contains(&sha256(value))
    }

    /// The calls it has answered, as `METHOD /path`.
    pub fn calls(&self) -> Vec<String> {
        self.state()["calls"]
            .as_array()
            .expect("calls")
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SHA-256 of `value`, lower-case hex (how the stand-ins name values).
pub fn sha256(value: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        value.as_bytes(),
    ))
}
