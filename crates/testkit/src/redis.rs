//! A throwaway Redis server (Debian's `redis-server`, Redis 7) for tests:
//! its own `redis.conf` in a temp dir, TCP on a free loopback port
//! (`bind 127.0.0.1`, `protected-mode yes`), no persistence of data
//! (`save ""`, `appendonly no`; a replica's full sync starts at once,
//! `repl-diskless-sync-delay 0`), in the foreground (`daemonize no`,
//! logging to `server.log` in the temp dir), killed and removed on drop
//! (also when the test panics).
//!
//! Users: an admin, `rotor_admin` with a random password and every
//! permission (`~* &* +@all`), and the `default` user switched off, so
//! every connection must `AUTH`. [`Redis::start`] keeps them in an ACL
//! file (`aclfile`, where `ACL SAVE` writes); [`Redis::start_without_aclfile`]
//! puts them as `user` lines in the config file (where `CONFIG REWRITE`
//! writes). [`Redis::start_replica_of`] starts a replica of another one,
//! logging in to it as the admin. [`Redis::start_with_config`] appends
//! lines to the config (e.g. `rename-command ACL …`, as managed services
//! hide it).
//!
//! Legacy servers, as Breeze and Baander run them, have no ACL users: only
//! the `default` user and its one password (`requirepass`).
//! [`Redis::start_with_requirepass`] puts it in the config file;
//! [`Redis::start_with_requirepass_on_command_line`] runs without a config
//! file, `--requirepass` on the command line (a docker-compose `command:`);
//! [`Redis::start_with_requirepass_without_acl`] also hides the `ACL`
//! command (`rename-command ACL ""`), so a client sees what a Redis 5 shows;
//! [`Redis::start_without_password`] has no password at all (the `default`
//! user `nopass`, a fresh install). A replica of one of them
//! ([`Redis::start_replica_of`]) gets the same password as `requirepass`
//! and as `masterauth`. On these, [`Redis::cmd`] authenticates with
//! `AUTH <password>` (one argument: the default user), with the password
//! [`Redis::set_password`] last gave it.
//!
//! Redis runs as root without complaint, so unlike the throwaway PostgreSQL
//! there is no `nobody`: the server runs as whoever runs the tests. The
//! system's own redis service, if the package started one, does not
//! matter: this one has its own config, files and port. A test that needs a
//! server gets one or panics with the reason and the log: it never skips.
//!
//! TLS: [`Redis::start_tls`] and [`Redis::start_tls_with_requirepass`] also
//! serve TLS on a second loopback port ([`Redis::tls_port`],
//! [`Redis::tls_url`]), with a server certificate for `127.0.0.1` (an IP
//! SAN; `localhost` is left out, so a `rediss://localhost:…` node shows a
//! host name mismatch) signed by a throwaway CA ([`crate::TestCa`]) whose
//! certificate is [`Redis::tls_ca_path`]. Clients need no certificate of
//! their own (`tls-auth-clients no`). The plain port stays, for the test
//! client below.
//!
//! [`Redis::cmd`] is a tiny RESP2 client over a `TcpStream` (a fresh
//! connection per call), enough for tests; no `redis` crate.
//! [`Redis::session`] keeps one connection open, as a client that logged
//! in before a change does.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Where Debian's `redis-server` package installs the server.
/// `ROTOR_REDIS_SERVER` overrides it.
pub const DEFAULT_BIN: &str = "/usr/bin/redis-server";

/// The admin user every throwaway server has.
pub const ADMIN_USER: &str = "rotor_admin";

/// How many times a start tries another free port if the one it picked was
/// taken between picking and binding.
const PORT_ATTEMPTS: usize = 5;

/// How long a start waits for the server to answer `PING` (and a replica
/// for its link to the primary).
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Read/write timeout of the test client's connections.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How a server's logins are set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logins {
    /// `rotor_admin` on and `default` off, in an ACL file (`aclfile`) or as
    /// `user` lines in the config file.
    Acl { aclfile: bool },
    /// Only the `default` user, its password `requirepass` (none when the
    /// password is empty).
    Requirepass {
        /// Whether the `ACL` command is there (else renamed away).
        acl_command: bool,
        /// Whether the server reads a config file (else its command line).
        config_file: bool,
    },
}

/// A running throwaway Redis server. Dropping it kills the server and
/// removes its temp dir.
pub struct Redis {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    /// The admin's password, or for a `requirepass` server the default
    /// user's (empty: none).
    password: String,
    logins: Logins,
    /// The primary's port, for a replica.
    primary: Option<u16>,
    /// Lines appended to the config ([`Redis::start_with_config`]).
    extra: Vec<String>,
    /// The command line a server without a config file was started with
    /// (and starts again with).
    command_line: Vec<String>,
    /// The TLS port, when it serves TLS too (its files are in the temp
    /// dir: `tls-ca.pem`, `tls-server.pem`, `tls-server.key`).
    tls_port: Option<u16>,
    child: Option<Child>,
}

impl Redis {
    /// Starts a server whose users live in an ACL file
    /// ([`Redis::aclfile_path`]): `rotor_admin` on, `default` off. Panics
    /// with the reason and the log if it cannot.
    pub fn start() -> Redis {
        Redis::start_inner(Logins::Acl { aclfile: true }, None, None, &[])
    }

    /// Like [`Redis::start`], with `extra` lines appended to redis.conf
    /// (e.g. `rename-command ACL ""` for a server whose ACL command is
    /// unknown, as on a managed Redis that hides it).
    pub fn start_with_config(extra: &[&str]) -> Redis {
        Redis::start_inner(Logins::Acl { aclfile: true }, None, None, extra)
    }

    /// Starts a server without an ACL file: the same users are `user` lines
    /// in the config file ([`Redis::config_path`]), which is where
    /// `CONFIG REWRITE` saves ACL changes.
    pub fn start_without_aclfile() -> Redis {
        Redis::start_inner(Logins::Acl { aclfile: false }, None, None, &[])
    }

    /// Starts a legacy server: no ACL users, the `default` user's password
    /// is `requirepass <password>` in the config file
    /// ([`Redis::config_path`], where `CONFIG REWRITE` writes).
    pub fn start_with_requirepass(password: &str) -> Redis {
        Redis::start_inner(
            Logins::Requirepass {
                acl_command: true,
                config_file: true,
            },
            Some(password),
            None,
            &[],
        )
    }

    /// Like [`Redis::start_with_requirepass`], but without a config file:
    /// `redis-server --port … --requirepass <password>`, as a
    /// docker-compose `command:` runs it. `CONFIG REWRITE` fails there, and
    /// [`Redis::start_again`] runs the same command line (the password it
    /// started with).
    pub fn start_with_requirepass_on_command_line(password: &str) -> Redis {
        Redis::start_inner(
            Logins::Requirepass {
                acl_command: true,
                config_file: false,
            },
            Some(password),
            None,
            &[],
        )
    }

    /// Like [`Redis::start_with_requirepass`], with the `ACL` command
    /// renamed away (`rename-command ACL ""`): what a client sees of a
    /// Redis 5, which had only `requirepass`.
    pub fn start_with_requirepass_without_acl(password: &str) -> Redis {
        Redis::start_inner(
            Logins::Requirepass {
                acl_command: false,
                config_file: true,
            },
            Some(password),
            None,
            &[],
        )
    }

    /// Starts a server with no password at all (the `default` user
    /// `nopass`, as a fresh install runs), with a config file.
    pub fn start_without_password() -> Redis {
        Redis::start_inner(
            Logins::Requirepass {
                acl_command: true,
                config_file: true,
            },
            Some(""),
            None,
            &[],
        )
    }

    /// Starts a replica of `primary` (`replicaof 127.0.0.1 <port>`, logging
    /// in as `rotor_admin` with the primary's admin password), with its own
    /// ACL file holding the same admin (same password). A replica of a
    /// `requirepass` server has no ACL users either: the primary's current
    /// password is its `requirepass` and its `masterauth` (neither, for a
    /// primary without a password), in its own config file. Returns once
    /// the replica's link to the primary is up; panics with both logs if it
    /// does not come up.
    pub fn start_replica_of(primary: &Redis) -> Redis {
        let logins = match primary.logins {
            Logins::Acl { .. } => Logins::Acl { aclfile: true },
            Logins::Requirepass { acl_command, .. } => Logins::Requirepass {
                acl_command,
                config_file: true,
            },
        };
        let replica = Redis::start_inner(logins, None, Some(primary), &[]);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let info = replica.cmd(&["INFO", "replication"]).unwrap_or_default();
            if info.lines().any(|l| l.trim() == "master_link_status:up") {
                return replica;
            }
            if Instant::now() >= deadline {
                panic!(
                    "testkit::Redis: the replica's link to the primary on port {} did not \
                     come up:\n{info}\n--- replica log:\n{}\n--- primary log:\n{}",
                    primary.port,
                    replica.log_contents(),
                    primary.log_contents()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Like [`Redis::start`] (ACL users in an ACL file), also serving TLS
    /// on [`Redis::tls_port`] with a certificate for `127.0.0.1` signed by
    /// a throwaway CA ([`Redis::tls_ca_path`]).
    pub fn start_tls() -> Redis {
        Redis::start_full(Logins::Acl { aclfile: true }, None, None, &[], true)
    }

    /// Like [`Redis::start_with_requirepass`] (a legacy server, the
    /// `default` user's password in the config file), also serving TLS as
    /// [`Redis::start_tls`] does.
    pub fn start_tls_with_requirepass(password: &str) -> Redis {
        Redis::start_full(
            Logins::Requirepass {
                acl_command: true,
                config_file: true,
            },
            Some(password),
            None,
            &[],
            true,
        )
    }

    fn start_inner(
        logins: Logins,
        password: Option<&str>,
        primary: Option<&Redis>,
        extra: &[&str],
    ) -> Redis {
        Redis::start_full(logins, password, primary, extra, false)
    }

    fn start_full(
        logins: Logins,
        password: Option<&str>,
        primary: Option<&Redis>,
        extra: &[&str],
        tls: bool,
    ) -> Redis {
        let bin = std::env::var_os("ROTOR_REDIS_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_BIN));
        assert!(
            bin.is_file(),
            "testkit::Redis: {} not found; install redis-server (apt-get install redis-server) \
             or set ROTOR_REDIS_SERVER",
            bin.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("rotor-redis-")
            .tempdir()
            .unwrap_or_else(|e| panic!("testkit::Redis: cannot create a temp dir: {e}"));
        let password = match (primary, password) {
            (Some(p), _) => p.password.clone(),
            (None, Some(pw)) => pw.to_owned(),
            (None, None) => crate::postgres::random_hex(16),
        };
        let mut redis = Redis {
            dir,
            bin,
            port: 0,
            password,
            logins,
            primary: primary.map(|p| p.port),
            extra: extra.iter().map(|l| l.to_string()).collect(),
            command_line: Vec::new(),
            tls_port: None,
            child: None,
        };
        if tls {
            assert!(
                redis.has_config_file(),
                "testkit::Redis: TLS needs a config file"
            );
            let ca = crate::TestCa::new("rotor-testkit Redis CA");
            ca.write_cert(&redis.tls_ca_path());
            let server = ca.issue(&["127.0.0.1"]);
            for (name, pem) in [
                ("tls-server.pem", &server.cert_pem),
                ("tls-server.key", &server.key_pem),
            ] {
                let path = redis.dir.path().join(name);
                fs::write(&path, pem)
                    .unwrap_or_else(|e| panic!("testkit::Redis: write {}: {e}", path.display()));
            }
        }
        if logins == (Logins::Acl { aclfile: true }) {
            let acl = redis.acl_path();
            fs::write(&acl, redis.user_lines())
                .unwrap_or_else(|e| panic!("testkit::Redis: write {}: {e}", acl.display()));
        }
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            redis.port = crate::postgres::free_port();
            if tls {
                redis.tls_port = Some(crate::postgres::free_port());
            }
            if redis.has_config_file() {
                let conf = redis.config_path();
                fs::write(&conf, redis.config())
                    .unwrap_or_else(|e| panic!("testkit::Redis: write {}: {e}", conf.display()));
            } else {
                redis.command_line = redis.config_as_arguments();
            }
            redis.spawn();
            if redis.wait_ready() {
                return redis;
            }
            redis.kill();
            last_log = redis.log_contents();
            if !last_log.contains("in use") {
                break;
            }
        }
        panic!("testkit::Redis: redis-server did not start:\n{last_log}");
    }

    /// The loopback TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The loopback TLS port, for a server started with
    /// [`Redis::start_tls`] (or [`Redis::start_tls_with_requirepass`]).
    /// Panics for a server without TLS.
    pub fn tls_port(&self) -> u16 {
        self.tls_port
            .unwrap_or_else(|| panic!("testkit::Redis: this server was started without TLS"))
    }

    /// `rediss://127.0.0.1:<tls port>`: the node URL of the TLS port.
    pub fn tls_url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.tls_port())
    }

    /// The PEM certificate of the throwaway CA that signed this server's
    /// TLS certificate (`<temp dir>/tls-ca.pem`).
    pub fn tls_ca_path(&self) -> PathBuf {
        self.dir.path().join("tls-ca.pem")
    }

    /// `redis://rotor_admin:<password>@127.0.0.1:<port>`: the admin on the
    /// loopback port.
    pub fn admin_url(&self) -> String {
        format!(
            "redis://{ADMIN_USER}:{}@127.0.0.1:{}",
            self.password, self.port
        )
    }

    /// The admin's password (random hex, so it needs no URL encoding); for
    /// a `requirepass` server, the default user's password [`Redis::cmd`]
    /// uses (empty: none).
    pub fn admin_password(&self) -> &str {
        &self.password
    }

    /// For a `requirepass` server: the password [`Redis::cmd`],
    /// [`Redis::cmds`] and a replica started later use from now on (after a
    /// test, or rotor, changed it on the server).
    pub fn set_password(&mut self, password: &str) {
        self.password = password.to_owned();
    }

    /// The ACL file (`<temp dir>/users.acl`), or `None` for a server
    /// started with [`Redis::start_without_aclfile`] or without ACL users.
    pub fn aclfile_path(&self) -> Option<PathBuf> {
        (self.logins == Logins::Acl { aclfile: true }).then(|| self.acl_path())
    }

    /// The server's config file (`<temp dir>/redis.conf`; it does not
    /// exist for a server started with
    /// [`Redis::start_with_requirepass_on_command_line`]).
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("redis.conf")
    }

    /// The temp dir holding the config, the ACL file and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server log so far (empty if there is none yet).
    pub fn log_contents(&self) -> String {
        let mut bytes = Vec::new();
        if let Ok(mut f) = fs::File::open(self.log_path()) {
            let _ = f.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Whether the server process is running (not stopped, not exited).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Stops the server (SIGTERM, so it shuts down cleanly; SIGKILL if it
    /// has not exited after 10 s) and keeps its files. Stopping twice is
    /// harmless.
    pub fn stop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                self.child = None;
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }

    /// Starts a stopped server again: same port, same config file, same ACL
    /// file (what `ACL SAVE` or `CONFIG REWRITE` left there). Panics with
    /// the log if it cannot.
    pub fn start_again(&mut self) {
        if self.child.is_some() {
            return;
        }
        self.spawn();
        if !self.wait_ready() {
            self.kill();
            panic!(
                "testkit::Redis: redis-server did not start again on port {}:\n{}",
                self.port,
                self.log_contents()
            );
        }
    }

    /// Runs one command as the admin on a fresh connection. `Ok` is the
    /// reply as text: a status or bulk string as is, an integer in decimal,
    /// a nil as `(nil)`, an array as its elements one per line. `Err` is an
    /// error reply (e.g. `WRONGPASS …`) or why the connection failed.
    pub fn cmd(&self, args: &[&str]) -> Result<String, String> {
        let mut conn = Conn::open(self.port)?;
        self.login(&mut conn)?;
        conn.call(args)
    }

    /// Runs several commands as the admin, one after the other on one
    /// connection (e.g. a write and then `WAIT`, which waits for that
    /// connection's writes); the replies as [`Redis::cmd`] gives them.
    /// `Err` if the connection or the login failed.
    pub fn cmds(&self, commands: &[&[&str]]) -> Result<Vec<Result<String, String>>, String> {
        let mut conn = Conn::open(self.port)?;
        self.login(&mut conn)?;
        Ok(commands.iter().map(|args| conn.call(args)).collect())
    }

    /// Like [`Redis::cmd`] but logged in with `AUTH <password>` (one
    /// argument: the `default` user, as a legacy client does).
    pub fn cmd_with_password(&self, password: &str, args: &[&str]) -> Result<String, String> {
        let mut conn = Conn::open(self.port)?;
        conn.call(&["AUTH", password])?;
        conn.call(args)
    }

    /// Whether a fresh connection can `AUTH <password>` (the `default`
    /// user) and then `PING`. False on a server without a password: Redis
    /// refuses `AUTH <password>` there.
    pub fn password_ok(&self, password: &str) -> bool {
        self.cmd_with_password(password, &["PING"]).as_deref() == Ok("PONG")
    }

    /// Whether a fresh connection gets `PONG` without logging in (the
    /// `default` user has no password).
    pub fn open_without_password(&self) -> bool {
        self.cmd_unauthenticated(&["PING"]).as_deref() == Ok("PONG")
    }

    /// Like [`Redis::cmd`] but logged in (`AUTH user password`) as `user`.
    pub fn cmd_as(&self, user: &str, password: &str, args: &[&str]) -> Result<String, String> {
        let mut conn = Conn::open(self.port)?;
        conn.call(&["AUTH", user, password])?;
        conn.call(args)
    }

    /// A connection that stays open, logged in (`AUTH user password`) as
    /// `user`: to show what happens to a client that authenticated before
    /// a change. `Err` if the connection or the login failed.
    pub fn session(&self, user: &str, password: &str) -> Result<Session, String> {
        let mut conn = Conn::open(self.port)?;
        conn.call(&["AUTH", user, password])?;
        Ok(Session { conn })
    }

    /// Runs one command on a fresh connection without logging in (as the
    /// `default` user, which is off unless a test switched it on).
    pub fn cmd_unauthenticated(&self, args: &[&str]) -> Result<String, String> {
        Conn::open(self.port)?.call(args)
    }

    /// Whether a fresh connection can `AUTH user password` and then `PING`
    /// (answered `PONG`, or refused with `NOPERM` for a user whose
    /// permissions leave out `PING`: logged in all the same).
    pub fn auth_ok(&self, user: &str, password: &str) -> bool {
        match self.cmd_as(user, password, &["PING"]) {
            Ok(pong) => pong == "PONG",
            Err(e) => e.starts_with("NOPERM"),
        }
    }

    fn acl_path(&self) -> PathBuf {
        self.dir.path().join("users.acl")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The users every server starts with, as ACL-file / config lines.
    fn user_lines(&self) -> String {
        format!(
            "user {ADMIN_USER} on >{} ~* &* +@all\nuser default off\n",
            self.password
        )
    }

    /// Logs in the way [`Redis::cmd`] does: as the admin, or for a
    /// `requirepass` server with its password (if it has one).
    fn login(&self, conn: &mut Conn) -> Result<(), String> {
        match self.logins {
            Logins::Acl { .. } => conn.call(&["AUTH", ADMIN_USER, &self.password]).map(|_| ()),
            Logins::Requirepass { .. } if self.password.is_empty() => Ok(()),
            Logins::Requirepass { .. } => conn.call(&["AUTH", &self.password]).map(|_| ()),
        }
    }

    fn has_config_file(&self) -> bool {
        !matches!(
            self.logins,
            Logins::Requirepass {
                config_file: false,
                ..
            }
        )
    }

    /// The config of a server without a config file, as `--name value`
    /// arguments.
    fn config_as_arguments(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--protected-mode",
            "yes",
            "--dir",
            &self.dir.path().to_string_lossy(),
            "--daemonize",
            "no",
            "--logfile",
            "",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if !self.password.is_empty() {
            args.push("--requirepass".into());
            args.push(self.password.clone());
        }
        args
    }

    /// The redis.conf of this server (for the current port).
    fn config(&self) -> String {
        let mut conf = format!(
            "# rotor-testkit\nport {}\nbind 127.0.0.1\nprotected-mode yes\ndir {}\n\
             daemonize no\nlogfile \"\"\nsave \"\"\nappendonly no\n\
             repl-diskless-sync-delay 0\n",
            self.port,
            quote(&self.dir.path().to_string_lossy())
        );
        match self.logins {
            Logins::Acl { aclfile: true } => conf.push_str(&format!(
                "aclfile {}\n",
                quote(&self.acl_path().to_string_lossy())
            )),
            Logins::Acl { aclfile: false } => conf.push_str(&self.user_lines()),
            Logins::Requirepass { acl_command, .. } => {
                if !self.password.is_empty() {
                    conf.push_str(&format!("requirepass {}\n", quote(&self.password)));
                }
                if !acl_command {
                    conf.push_str("rename-command ACL \"\"\n");
                }
            }
        }
        if let Some(primary) = self.primary {
            conf.push_str(&format!("replicaof 127.0.0.1 {primary}\n"));
            match self.logins {
                Logins::Acl { .. } => conf.push_str(&format!(
                    "masteruser {ADMIN_USER}\nmasterauth {}\n",
                    self.password
                )),
                Logins::Requirepass { .. } if !self.password.is_empty() => {
                    conf.push_str(&format!("masterauth {}\n", quote(&self.password)));
                }
                Logins::Requirepass { .. } => {}
            }
        }
        if let Some(tls_port) = self.tls_port {
            let file = |name: &str| quote(&self.dir.path().join(name).to_string_lossy());
            conf.push_str(&format!(
                "tls-port {tls_port}\ntls-cert-file {}\ntls-key-file {}\n\
                 tls-ca-cert-file {}\ntls-auth-clients no\n",
                file("tls-server.pem"),
                file("tls-server.key"),
                file("tls-ca.pem"),
            ));
        }
        for line in &self.extra {
            conf.push_str(line);
            conf.push('\n');
        }
        conf
    }

    /// Runs `redis-server <config>` in the foreground, its output appended
    /// to the log.
    fn spawn(&mut self) {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap_or_else(|e| panic!("testkit::Redis: open the log: {e}"));
        let mut command = Command::new(&self.bin);
        if self.has_config_file() {
            command.arg(self.config_path());
        } else {
            command.args(&self.command_line);
        }
        let child = command
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("testkit::Redis: log fd"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("testkit::Redis: cannot run {}: {e}", self.bin.display()));
        self.child = Some(child);
    }

    /// Waits until the admin gets `PONG` (a `requirepass` server: until a
    /// `PING` without login gets `PONG` or `NOAUTH`, whatever its password
    /// is now); false if the server exited or did not answer in time.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if !self.is_running() {
                return false;
            }
            let ready = match self.logins {
                Logins::Acl { .. } => self.cmd(&["PING"]).as_deref() == Ok("PONG"),
                Logins::Requirepass { .. } => match self.cmd_unauthenticated(&["PING"]) {
                    Ok(pong) => pong == "PONG",
                    Err(e) => e.starts_with("NOAUTH"),
                },
            };
            if ready {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// SIGKILL and reap. Never panics (it runs in `drop`, also while a test
    /// unwinds).
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        // TempDir removes the files.
    }
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("port", &self.port)
            .field("dir", &self.dir.path())
            .field("logins", &self.logins)
            .field("primary", &self.primary)
            .field("running", &self.child.is_some())
            .finish_non_exhaustive()
    }
}

/// A value in redis.conf, double-quoted.
fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A connection that stays open, from [`Redis::session`].
pub struct Session {
    conn: Conn,
}

impl Session {
    /// Runs one command on this connection; the reply as [`Redis::cmd`]
    /// gives it.
    pub fn call(&mut self, args: &[&str]) -> Result<String, String> {
        self.conn.call(args)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

/// One RESP2 connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Result<Conn, String> {
        let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), IO_TIMEOUT)
            .map_err(|e| format!("connect to 127.0.0.1:{port}: {e}"))?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| format!("set timeouts: {e}"))?;
        Ok(Conn {
            reader: BufReader::new(stream),
        })
    }

    /// Sends `args` as a command and reads its reply.
    fn call(&mut self, args: &[&str]) -> Result<String, String> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a.as_bytes());
            req.extend_from_slice(b"\r\n");
        }
        self.reader
            .get_mut()
            .write_all(&req)
            .map_err(|e| format!("send: {e}"))?;
        self.reply()
    }

    fn reply(&mut self) -> Result<String, String> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(1.min(line.len()));
        match kind {
            "+" | ":" => Ok(rest.to_string()),
            "-" => Err(rest.to_string()),
            "$" => {
                let len: i64 = parse_len(rest)?;
                if len < 0 {
                    return Ok("(nil)".to_string());
                }
                let mut buf = vec![0u8; len as usize + 2];
                self.reader
                    .read_exact(&mut buf)
                    .map_err(|e| format!("read: {e}"))?;
                buf.truncate(len as usize);
                Ok(String::from_utf8_lossy(&buf).into_owned())
            }
            "*" => {
                let len: i64 = parse_len(rest)?;
                if len < 0 {
                    return Ok("(nil)".to_string());
                }
                let items = (0..len)
                    .map(|_| self.reply())
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(items.join("\n"))
            }
            _ => Err(format!("unexpected reply: {line:?}")),
        }
    }

    /// One `\r\n`-terminated line, without the terminator.
    fn line(&mut self) -> Result<String, String> {
        let mut bytes = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut bytes)
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed by the server".to_string());
        }
        while matches!(bytes.last(), Some(b'\n' | b'\r')) {
            bytes.pop();
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

fn parse_len(s: &str) -> Result<i64, String> {
    s.parse().map_err(|_| format!("bad length in reply: {s:?}"))
}
