//! A throwaway PostgreSQL 15 server for tests: `initdb` into a temp dir with
//! `scram-sha-256` and a random superuser password, a Unix socket inside the
//! temp dir, TCP on a free loopback port, stopped and removed on drop (also
//! when the test panics).
//!
//! `initdb` refuses to run as root, so as root the server runs as `nobody`
//! (uid/gid 65534, through `setpriv`), and its temp dir is handed to that
//! user. A test that needs a server gets one or panics with the reason: it
//! never skips silently.
//!
//! [`Postgres::start_with_module`] compiles a C server module (gcc and
//! `postgresql-server-dev-15`) into the temp dir and preloads it, e.g.
//! [`POLICY_MODULE`], a password policy (`check_password_hook`) that refuses
//! every encrypted password.

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// Where the PostgreSQL 15 binaries live (Debian/Ubuntu `postgresql-15`).
/// `ROTOR_PG_BIN` overrides it.
pub const DEFAULT_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// Where Debian's `postgresql-server-dev-15` puts the server's C headers,
/// if no `pg_config` says otherwise.
pub const SERVER_INCLUDE_DIR: &str = "/usr/include/postgresql/15/server";

/// The source of a server module that is a password policy refusing every
/// encrypted password (`ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'`) and every
/// plaintext one shorter than 64 characters, with the message "password
/// policy: encrypted passwords are not allowed; …" (SQLSTATE 22023): a
/// policy that must see the plaintext, like credcheck with
/// `encrypted_password_allowed = off`. For
/// [`Postgres::start_with_module`].
pub const POLICY_MODULE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/rotor_test_policy.c");

/// What [`POLICY_MODULE`] says when it refuses an encrypted password.
pub const POLICY_REFUSAL: &str = "password policy: encrypted passwords are not allowed";

/// The unprivileged uid/gid the server runs as when the tests run as root.
const NOBODY: u32 = 65534;

/// The superuser `initdb` creates.
pub const SUPERUSER: &str = "postgres";

/// How many times `start` tries another free port if the one it picked was
/// taken between picking and binding.
const PORT_ATTEMPTS: usize = 5;

/// A running throwaway PostgreSQL server. Dropping it stops the server
/// (immediate shutdown) and removes its files.
pub struct Postgres {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    password: String,
    as_nobody: bool,
    running: bool,
}

impl Postgres {
    /// Starts a server with the default settings. Panics with the reason
    /// (and the server log) if it cannot.
    pub fn start() -> Postgres {
        Postgres::start_with(&[])
    }

    /// Starts a server with extra `postgresql.conf` settings, e.g.
    /// `[("log_statement", "all")]`. Values are written as quoted strings.
    pub fn start_with(settings: &[(&str, &str)]) -> Postgres {
        Postgres::start_inner(settings, None)
    }

    /// Starts a server with a server module loaded: the C file `source` is
    /// compiled (`gcc -shared -fPIC` against the server headers that
    /// `pg_config --includedir-server` names) into the server's temp dir
    /// and named in `shared_preload_libraries`, next to the extra
    /// `settings`. Panics naming the package to install if gcc or the
    /// headers (`postgresql-server-dev-15`) are missing, and with the
    /// compiler's output if the module does not compile.
    ///
    /// [`POLICY_MODULE`] is such a module: a password policy that refuses
    /// every encrypted password.
    pub fn start_with_module(source: &Path, settings: &[(&str, &str)]) -> Postgres {
        Postgres::start_inner(settings, Some(source))
    }

    fn start_inner(settings: &[(&str, &str)], module: Option<&Path>) -> Postgres {
        let bin = std::env::var_os("ROTOR_PG_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_BIN_DIR));
        for tool in ["initdb", "pg_ctl", "postgres"] {
            assert!(
                bin.join(tool).is_file(),
                "testkit::Postgres: {} not found; install postgresql-15 or set ROTOR_PG_BIN",
                bin.join(tool).display()
            );
        }
        let as_nobody = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("rotor-pg-")
            .tempdir()
            .unwrap_or_else(|e| panic!("testkit::Postgres: cannot create a temp dir: {e}"));
        let mut pg = Postgres {
            dir,
            bin,
            port: 0,
            password: random_hex(16),
            as_nobody,
            running: false,
        };
        let library;
        let mut settings = settings.to_vec();
        if let Some(source) = module {
            library = pg.compile_module(source);
            settings.push(("shared_preload_libraries", library.as_str()));
        }
        pg.init(&settings);
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            pg.port = free_port();
            pg.write_port();
            let log = pg.log_path();
            let log = log.to_string_lossy();
            let out = pg
                .pg_ctl(&["start", "-w", "-t", "60", "-l", &log])
                .unwrap_or_else(|e| panic!("testkit::Postgres: cannot run pg_ctl: {e}"));
            if out.status.success() {
                pg.running = true;
                return pg;
            }
            // In case it came up after pg_ctl gave up waiting.
            pg.kill();
            last_log = format!(
                "{}{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                pg.log_contents()
            );
            if !last_log.contains("could not bind") && !last_log.contains("in use") {
                break;
            }
        }
        panic!("testkit::Postgres: the server did not start:\n{last_log}");
    }

    /// `postgres://postgres:<password>@127.0.0.1:<port>/postgres`: the
    /// superuser on the loopback port.
    pub fn admin_url(&self) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/postgres",
            self.password, self.port
        )
    }

    /// The superuser's password (random hex, so it needs no URL encoding).
    pub fn admin_password(&self) -> &str {
        &self.password
    }

    /// The loopback TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server log so far (empty if there is none yet).
    pub fn log_contents(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(self.log_path()) {
            let mut bytes = Vec::new();
            if f.read_to_end(&mut bytes).is_ok() {
                s = String::from_utf8_lossy(&bytes).into_owned();
            }
        }
        s
    }

    /// Stops the server (fast shutdown) and keeps its files, so a test can
    /// see what a client gets from a server that is down. Stopping twice is
    /// harmless.
    pub fn stop(&mut self) {
        self.shut_down("fast");
    }

    /// Starts a stopped server again, on the same port with the same data
    /// (a server coming back after an outage). Panics with the log if it
    /// cannot.
    pub fn start_again(&mut self) {
        if self.running {
            return;
        }
        let log = self.log_path();
        let log = log.to_string_lossy().into_owned();
        let out = self
            .pg_ctl(&["start", "-w", "-t", "60", "-l", &log])
            .unwrap_or_else(|e| panic!("testkit::Postgres: cannot run pg_ctl: {e}"));
        assert!(
            out.status.success(),
            "testkit::Postgres: the server did not start again:\n{}",
            self.log_contents()
        );
        self.running = true;
    }

    /// Compiles the server module `source` into `<temp dir>/lib/<name>.so`,
    /// readable by the server's user; returns its absolute path.
    fn compile_module(&self, source: &Path) -> String {
        assert!(
            source.is_file(),
            "testkit::Postgres: the module source {} does not exist",
            source.display()
        );
        let include = self.server_includes();
        let lib = self.dir.path().join("lib");
        fs::create_dir(&lib).expect("testkit::Postgres: create lib dir");
        let name = source
            .file_stem()
            .unwrap_or_else(|| panic!("testkit::Postgres: {} has no name", source.display()));
        let so = lib.join(name).with_extension("so");
        let out = Command::new("gcc")
            .args(["-shared", "-fPIC", "-O2", "-Wall", "-I"])
            .arg(&include)
            .arg("-o")
            .arg(&so)
            .arg(source)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "testkit::Postgres: cannot run gcc to compile the server module {} \
                     ({e}); install gcc (apt-get install gcc)",
                    source.display()
                )
            });
        assert!(
            out.status.success(),
            "testkit::Postgres: gcc could not compile the server module {}:\n{}{}",
            source.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The server runs as nobody when we are root: it must read the
        // module and get through the directory.
        for (p, mode) in [(&lib, 0o755), (&so, 0o644)] {
            fs::set_permissions(p, fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("testkit::Postgres: chmod {}: {e}", p.display()));
        }
        so.to_string_lossy().into_owned()
    }

    /// The server's C headers: `pg_config --includedir-server` (the
    /// `pg_config` of the bin dir, else the one on PATH), else the Debian
    /// location. Panics naming the package unless `postgres.h` is there.
    fn server_includes(&self) -> PathBuf {
        let asked = [self.bin.join("pg_config"), PathBuf::from("pg_config")]
            .iter()
            .find_map(|exe| {
                let out = Command::new(exe).arg("--includedir-server").output().ok()?;
                out.status
                    .success()
                    .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
            });
        let dir = asked.unwrap_or_else(|| PathBuf::from(SERVER_INCLUDE_DIR));
        assert!(
            dir.join("postgres.h").is_file(),
            "testkit::Postgres: the PostgreSQL server headers are missing ({} has no \
             postgres.h); install postgresql-server-dev-15 (apt-get install \
             postgresql-server-dev-15)",
            dir.display()
        );
        dir
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Runs `initdb` and writes the settings that do not change per attempt.
    fn init(&mut self, settings: &[(&str, &str)]) {
        let root = self.dir.path().to_path_buf();
        fs::create_dir(self.socket_dir()).expect("testkit::Postgres: create socket dir");
        let pwfile = root.join("pwfile");
        fs::write(&pwfile, format!("{}\n", self.password)).expect("write pwfile");
        fs::set_permissions(&pwfile, fs::Permissions::from_mode(0o600)).expect("chmod pwfile");
        if self.as_nobody {
            for p in [root.clone(), self.socket_dir(), pwfile.clone()] {
                chown(&p, Some(NOBODY), Some(NOBODY)).unwrap_or_else(|e| {
                    panic!("testkit::Postgres: chown {} to nobody: {e}", p.display())
                });
            }
        }
        let data = self.data_dir();
        let out = self.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "-A".as_ref(),
                "scram-sha-256".as_ref(),
                "--pwfile".as_ref(),
                pwfile.as_os_str(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        let _ = fs::remove_file(&pwfile);
        assert!(
            out.status.success(),
            "testkit::Postgres: initdb failed (running as nobody: {}; its temp dir {} \
             must be reachable by that user):\n{}{}",
            self.as_nobody,
            root.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut conf = format!(
            "\n# rotor-testkit\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             password_encryption = 'scram-sha-256'\nfsync = off\nlogging_collector = off\n",
            quote_conf(&self.socket_dir().to_string_lossy())
        );
        for (k, v) in settings {
            conf.push_str(&format!("{k} = '{}'\n", quote_conf(v)));
        }
        append(&data.join("postgresql.conf"), &conf);
        // Only TCP on loopback and the socket, both with a password.
        fs::write(
            data.join("pg_hba.conf"),
            "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
    }

    /// (Re)writes the `port` line of postgresql.conf, so a retry can pick
    /// another port.
    fn write_port(&self) {
        let conf = self.data_dir().join("postgresql.conf");
        let text = fs::read_to_string(&conf).expect("read postgresql.conf");
        let mut kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("port = ")).collect();
        let line = format!("port = {}", self.port);
        kept.push(&line);
        fs::write(&conf, kept.join("\n") + "\n").expect("write postgresql.conf");
    }

    /// Runs `pg_ctl -D <data> <args>`; an error only if it could not run.
    fn pg_ctl(&self, args: &[&str]) -> std::io::Result<Output> {
        let data = self.data_dir();
        let mut all: Vec<&std::ffi::OsStr> = vec!["-D".as_ref(), data.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        self.try_run("pg_ctl", &all)
    }

    /// Stops the server the way `mode` says; SIGKILL if that fails. Never
    /// panics (it runs in `drop`, also while a test unwinds).
    fn shut_down(&mut self, mode: &str) {
        if !self.running {
            return;
        }
        let stopped = self
            .pg_ctl(&["stop", "-w", "-t", "30", "-m", mode])
            .is_ok_and(|o| o.status.success());
        if !stopped {
            self.kill();
        }
        self.running = false;
    }

    /// Runs one of the PostgreSQL tools, or panics saying why it could not.
    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Output {
        self.try_run(tool, args)
            .unwrap_or_else(|e| panic!("testkit::Postgres: cannot run {tool}: {e}"))
    }

    /// Runs one of the PostgreSQL tools, as `nobody` when we are root.
    fn try_run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> std::io::Result<Output> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--reset-env",
            ])
            .arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args)
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST")
            .current_dir(self.dir.path());
        cmd.output()
    }

    /// Last resort: SIGKILL the postmaster named in postmaster.pid.
    fn kill(&self) {
        if let Ok(pidfile) = fs::read_to_string(self.data_dir().join("postmaster.pid")) {
            if let Some(pid) = pidfile.lines().next().map(str::trim) {
                if !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit()) {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.shut_down("immediate");
        // TempDir removes the files (root may remove nobody's files; as an
        // ordinary user they are ours).
    }
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("port", &self.port)
            .field("dir", &self.dir.path())
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

pub(crate) fn running_as_root() -> bool {
    // No libc here: the effective uid from /proc (Linux), else `id -u`.
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
            // Uid: real effective saved fs
            return line.split_whitespace().nth(2) == Some("0");
        }
    }
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("testkit::Postgres: no free loopback port: {e}"))
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("testkit::Postgres: read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn quote_conf(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\'', "''")
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("testkit::Postgres: open {}: {e}", path.display()));
    f.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("testkit::Postgres: write {}: {e}", path.display()));
}
