//! A throwaway PgBouncer (Debian's `pgbouncer`, `/usr/sbin/pgbouncer`) in
//! front of a throwaway [`Postgres`](crate::Postgres): its own
//! `pgbouncer.ini` in a temp dir, TCP on a free loopback port, no Unix
//! socket, `auth_type = scram-sha-256` against an `auth_file` the test
//! names (plaintext passwords in it, so PgBouncer can also log in to the
//! server), `admin_users = rotor_admin`, session pooling, idle server
//! connections closed after a second (so a retired login's pooled
//! sessions drain as soon as its clients are gone). It runs in the
//! foreground and is killed on drop. The system's own pgbouncer service,
//! if the package started one, does not matter: this one has its own
//! config and port.
//!
//! PgBouncer refuses to run as root, so as root it runs as `nobody`
//! (through `setpriv`, like the throwaway PostgreSQL); the `auth_file` must
//! then be readable by that user: [`PgBouncer::share`] gives it the
//! `nogroup` group (mode 0640, which rotor keeps when it rewrites the
//! file) and lets that user through the directories above it. A test that
//! needs a PgBouncer gets one or panics with the reason: it never skips.

use std::fs;
use std::io::Read;
use std::net::TcpStream;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Where Debian's `pgbouncer` package installs the binary.
/// `ROTOR_PGBOUNCER` overrides it.
pub const DEFAULT_BIN: &str = "/usr/sbin/pgbouncer";

/// The user that may use the admin console (`admin_users`).
pub const ADMIN_USER: &str = "rotor_admin";

/// The unprivileged uid/gid PgBouncer runs as when the tests run as root.
const NOBODY: u32 = 65534;

/// How many times `start` tries another free port.
const PORT_ATTEMPTS: usize = 5;

/// A running throwaway PgBouncer. Dropping it kills it and removes its
/// temp dir.
pub struct PgBouncer {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
}

impl PgBouncer {
    /// Starts PgBouncer in front of the PostgreSQL on `pg_port` (database
    /// `postgres`), reading users from `auth_file`. Panics with the reason
    /// and PgBouncer's log if it cannot.
    pub fn start(pg_port: u16, auth_file: &Path) -> PgBouncer {
        let bin = std::env::var_os("ROTOR_PGBOUNCER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_BIN));
        assert!(
            bin.is_file(),
            "testkit::PgBouncer: {} not found; install pgbouncer (apt-get install pgbouncer) or set ROTOR_PGBOUNCER",
            bin.display()
        );
        let as_nobody = crate::postgres::running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("rotor-pgbouncer-")
            .tempdir()
            .unwrap_or_else(|e| panic!("testkit::PgBouncer: cannot create a temp dir: {e}"));
        if as_nobody {
            chown(dir.path(), Some(NOBODY), Some(NOBODY))
                .unwrap_or_else(|e| panic!("testkit::PgBouncer: chown temp dir: {e}"));
        }
        let mut pgb = PgBouncer {
            dir,
            port: 0,
            child: None,
        };
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            pgb.port = crate::postgres::free_port();
            let ini = pgb.dir.path().join("pgbouncer.ini");
            fs::write(&ini, config(pgb.port, pg_port, auth_file))
                .unwrap_or_else(|e| panic!("testkit::PgBouncer: write pgbouncer.ini: {e}"));
            fs::set_permissions(&ini, fs::Permissions::from_mode(0o644))
                .unwrap_or_else(|e| panic!("testkit::PgBouncer: chmod pgbouncer.ini: {e}"));
            let log = fs::File::create(pgb.log_path())
                .unwrap_or_else(|e| panic!("testkit::PgBouncer: create log: {e}"));
            let mut cmd = if as_nobody {
                let mut c = Command::new("setpriv");
                c.args([
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    "--reset-env",
                ])
                .arg(&bin);
                c
            } else {
                Command::new(&bin)
            };
            let child = cmd
                .arg(&ini)
                .current_dir(pgb.dir.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("testkit::PgBouncer: log fd"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("testkit::PgBouncer: cannot run {}: {e}", bin.display())
                });
            pgb.child = Some(child);
            if pgb.wait_listening() {
                return pgb;
            }
            pgb.kill();
            last_log = pgb.log_contents();
            if !last_log.contains("in use") {
                break;
            }
        }
        panic!(
            "testkit::PgBouncer: pgbouncer did not start (as nobody: {as_nobody}; the auth_file {} must be readable by that user, see PgBouncer::share):\n{last_log}",
            auth_file.display()
        );
    }

    /// Makes `file` readable by the user PgBouncer runs as when the tests
    /// run as root: group `nogroup` (gid 65534), mode 0640, and search
    /// permission for others on the directories above it. Does nothing
    /// otherwise.
    pub fn share(file: &Path) {
        if !crate::postgres::running_as_root() {
            return;
        }
        chown(file, None, Some(NOBODY))
            .unwrap_or_else(|e| panic!("testkit::PgBouncer: chgrp {}: {e}", file.display()));
        fs::set_permissions(file, fs::Permissions::from_mode(0o640))
            .unwrap_or_else(|e| panic!("testkit::PgBouncer: chmod {}: {e}", file.display()));
        let mut dir = file.parent();
        while let Some(d) = dir {
            let mode = fs::metadata(d).map(|m| m.permissions().mode()).unwrap_or(0);
            if mode & 0o001 == 0 {
                fs::set_permissions(d, fs::Permissions::from_mode((mode & 0o7777) | 0o001))
                    .unwrap_or_else(|e| panic!("testkit::PgBouncer: chmod {}: {e}", d.display()));
            }
            dir = d.parent();
        }
    }

    /// The loopback TCP port PgBouncer listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://rotor_admin:<password>@127.0.0.1:<port>/pgbouncer`: the
    /// admin console, with the password the auth_file gives `rotor_admin`.
    pub fn admin_url(&self, password: &str) -> String {
        format!(
            "postgres://{ADMIN_USER}:{password}@127.0.0.1:{}/pgbouncer",
            self.port
        )
    }

    /// Logs in through PgBouncer as `user` with `password` (database
    /// `postgres`) and runs `query`. `Err` holds the message, never the
    /// password.
    pub fn login(&self, user: &str, password: &str, query: &str) -> Result<(), String> {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port)
            .dbname("postgres")
            .user(user)
            .password(password)
            .connect_timeout(Duration::from_secs(10));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("testkit: tokio runtime");
        runtime.block_on(async {
            let (client, conn) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let conn = tokio::spawn(conn);
            let result = client
                .simple_query(query)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string());
            drop(client);
            let _ = conn.await;
            result
        })
    }

    /// Whether `user` can log in through PgBouncer with `password` and run
    /// `SELECT 1`.
    pub fn can_login(&self, user: &str, password: &str) -> bool {
        self.login(user, password, "SELECT 1").is_ok()
    }

    /// PgBouncer's log so far.
    pub fn log_contents(&self) -> String {
        let mut bytes = Vec::new();
        if let Ok(mut f) = fs::File::open(self.log_path()) {
            let _ = f.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("pgbouncer.log")
    }

    /// Waits (at most 15 s) until the port accepts connections; false if
    /// PgBouncer exited or never listened.
    fn wait_listening(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(_)) = c.try_wait() {
                    return false;
                }
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl std::fmt::Debug for PgBouncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBouncer")
            .field("port", &self.port)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// The pgbouncer.ini of one instance.
fn config(port: u16, pg_port: u16, auth_file: &Path) -> String {
    format!(
        "[databases]\npostgres = host=127.0.0.1 port={pg_port} dbname=postgres\n\n\
         [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
         auth_type = scram-sha-256\nauth_file = {}\nadmin_users = {ADMIN_USER}\n\
         pool_mode = session\nserver_idle_timeout = 1\n",
        auth_file.display()
    )
}
