//! The inventory's data model: what `rotor.toml` declares, after validation.
//! Everything here is plain data; loading and checking live in `load.rs`.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A validated inventory.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The `rotor.toml` this came from (absolute).
    pub path: PathBuf,
    /// Directory of the inventory file; relative paths resolve against it.
    pub base_dir: PathBuf,
    /// Store settings.
    pub store: StoreConfig,
    /// `[limits]`.
    pub limits: Limits,
    /// Secrets in file order.
    pub secrets: Vec<SecretSpec>,
    /// Position of each secret in `secrets` by name, built on the first
    /// lookup (so that commands over thousands of secrets look each up in
    /// constant time).
    pub(crate) index: std::sync::OnceLock<std::collections::HashMap<String, usize>>,
}

impl SecretSpec {
    /// How long the old credential keeps working after verify before it is
    /// retired within the run (`retire_delay` of a `dual-password` or
    /// `alternate` authority); zero for every other secret.
    pub fn retire_delay(&self) -> Duration {
        match &self.authority {
            Some(a) if self.strategy.retires_in_run() => a.retire_delay(),
            _ => Duration::ZERO,
        }
    }

    /// Whether its authority has a promotion of its own once consumers
    /// verified the new credential (an exec plugin's `finish`).
    pub fn finishes(&self) -> bool {
        self.authority.as_ref().is_some_and(AuthoritySpec::finishes)
    }

    /// Whether a rotation retires its old credential within the run (at
    /// the authority, after verify), rather than leaving it live as
    /// previous until `rotor retire`.
    pub fn retires_old_in_run(&self) -> bool {
        match &self.authority {
            Some(a) => a.retires_old_in_run(&self.strategy),
            None => self.strategy.retires_in_run(),
        }
    }
}

impl Inventory {
    /// The secret with this name.
    pub fn secret(&self, name: &str) -> Option<&SecretSpec> {
        let index = self.index.get_or_init(|| {
            self.secrets
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), i))
                .collect()
        });
        match index.get(name).and_then(|&i| self.secrets.get(i)) {
            Some(s) if s.name == name => Some(s),
            // Not indexed, or `secrets` (a public field) changed since the
            // index was built: look for it the slow way.
            _ => self.secrets.iter().find(|s| s.name == name),
        }
    }

    /// Resolves a path from the inventory against its directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

/// `[limits]`: bounds on what rotor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes rotor reads from one file (a target, a template, a
    /// CA file); a larger file is refused, naming it. Default 16 MiB.
    pub max_file_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: crate::target::atomic::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// `[store]`.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Store directory, already resolved against the inventory directory.
    pub path: PathBuf,
}

/// One `[[secret]]`.
#[derive(Debug, Clone)]
pub struct SecretSpec {
    /// Unique name, `[a-z0-9_-]+`.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Team or person answerable for it.
    pub owner: Option<String>,
    /// What breaks or leaks if it is exposed.
    pub blast_radius: Option<String>,
    /// How often it turns; `None` means only on demand.
    pub cadence: Option<Duration>,
    /// How a value is made.
    pub generator: Generator,
    /// How consumers survive the change.
    pub strategy: Strategy,
    /// `[secret.manual]` (strategy manual): the portal steps and the rules
    /// the value a person brings must meet.
    pub manual: Option<ManualSpec>,
    /// Names of secrets to rotate with this one in an incident.
    pub related: Vec<String>,
    /// Where consumers read it (at least one).
    pub targets: Vec<TargetSpec>,
    /// Restart and verify hooks.
    pub hooks: Hooks,
    /// The system that checks the credential, if any besides the
    /// application (`[secret.authority]`).
    pub authority: Option<AuthoritySpec>,
    /// 1-based line of the `[[secret]]` entry's `name`, for messages.
    pub line: usize,
}

/// How a value is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generator {
    /// `bytes` random bytes from the OS CSPRNG, encoded as text.
    Random {
        /// Number of random bytes (at least 16).
        bytes: usize,
        /// Text encoding of the bytes.
        encoding: Encoding,
    },
    /// A password of `length` characters drawn uniformly from `alphabet`.
    Password {
        /// Number of characters.
        length: usize,
        /// Character set.
        alphabet: Alphabet,
    },
    /// No generator: a person brings each value (strategy manual, `rotor
    /// put`).
    Provided,
    /// No generator: the authority issues each value (an exec plugin that
    /// mints). Until it does, the pending version holds a random
    /// placeholder that is never delivered.
    Minted,
}

/// `[secret.manual]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManualSpec {
    /// Where the value is made (the provider's portal).
    pub portal: Option<String>,
    /// What to do there, in order.
    pub steps: Vec<String>,
    /// Who must approve the change.
    pub approver: Option<String>,
    /// What the value must look like.
    pub rules: ValueRules,
}

/// Rules a value given to `rotor put` must meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRules {
    /// Fewest characters.
    pub min_length: usize,
    /// Most characters.
    pub max_length: usize,
    /// The characters allowed, if limited.
    pub charset: Option<Charset>,
    /// What it must start with (`sk_live_`).
    pub prefix: Option<String>,
}

impl Default for ValueRules {
    /// At least 16 characters, at most 4096, visible ASCII only.
    fn default() -> Self {
        ValueRules {
            min_length: 16,
            max_length: 4096,
            charset: None,
            prefix: None,
        }
    }
}

/// Character sets a provided value may be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// `A-Z a-z 0-9`.
    Alnum,
    /// `A-Z a-z 0-9 - _`.
    UrlSafe,
    /// `0-9 a-f A-F`.
    Hex,
    /// Standard or URL-safe base64, padding allowed.
    Base64,
}

/// Encodings for random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Lowercase hexadecimal.
    Hex,
    /// Standard base64 with padding (what `openssl rand -base64` prints).
    Base64,
    /// URL-safe base64 without padding (what `secrets.token_urlsafe` prints).
    Base64Url,
}

/// Password alphabets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    /// `A-Z a-z 0-9`.
    Alnum,
    /// `A-Z a-z 0-9 - _`: survives URLs, `.pgpass`, shells and dotenv unquoted.
    UrlSafe,
    /// Visible ASCII except quotes, backslash, dollar, backtick and hash,
    /// which break dotenv files and shells.
    Printable,
}

pub use crate::strategy::{OldFate, Strategy};

/// Where consumers read a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// A variable in a dotenv file.
    Dotenv(DotenvTarget),
    /// The login lines of PgBouncer's `auth_file`.
    Pgbouncer(PgbouncerTarget),
    /// A whole file rendered from a template.
    Template(TemplateTarget),
}

impl TargetSpec {
    /// The file this target writes (resolved).
    pub fn path(&self) -> &Path {
        match self {
            TargetSpec::Dotenv(d) => &d.path,
            TargetSpec::Pgbouncer(p) => &p.path,
            TargetSpec::Template(t) => &t.path,
        }
    }
}

/// `kind = "pgbouncer"`: the lines of the authority's login roles in
/// PgBouncer's `auth_file` (`"user" "password"`), and an optional `RELOAD`
/// of its admin console after each write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgbouncerTarget {
    /// The auth_file, resolved against the inventory directory.
    pub path: PathBuf,
    /// Unix mode of the file after each write (as for dotenv).
    pub mode: u32,
    /// The login roles whose lines rotor manages (the authority's `roles`
    /// and its `group`, the live login while a single role is converted,
    /// copied at load time); every other line is left alone.
    pub users: Vec<String>,
    /// Environment variable holding the admin console's URL
    /// (`postgres://USER:PW@HOST:PORT/pgbouncer`): rotor runs `RELOAD`
    /// there after each write.
    pub admin_console_env: Option<String>,
}

/// `kind = "template"`: a whole file rendered from a template, whose
/// `{{current}}`, `{{previous}}` and `{{user}}` placeholders say where the
/// values go; every other byte is the template's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateTarget {
    /// The rendered file consumers read, resolved against the inventory
    /// directory.
    pub path: PathBuf,
    /// The template, resolved like `path`.
    pub template_path: PathBuf,
    /// The template's text, read and checked when the inventory is loaded.
    pub template: crate::target::template::Template,
    /// Unix mode of the file after each write (as for dotenv).
    pub mode: u32,
}

/// `kind = "dotenv"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvTarget {
    /// The env file, resolved against the inventory directory.
    pub path: PathBuf,
    /// Variable holding the current value (or the list, for `format = "list"`).
    pub var: String,
    /// Variable holding the previous value during an overlap (`format = "pair"` only).
    pub previous_var: Option<String>,
    /// How current and previous are laid out.
    pub format: DotenvFormat,
    /// Unix mode of the file after each write: 0o600 unless the inventory
    /// says otherwise (group read is allowed, world access never).
    pub mode: u32,
    /// What `var` holds: the bare value, or a connection URL whose user and
    /// password rotor rewrites.
    pub form: ValueForm,
    /// Variable that holds the login (e.g. `POSTGRES_USER`), written next
    /// to the password in `var` for credentials that have one.
    pub user_var: Option<String>,
}

/// What a target's variable holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueForm {
    /// The secret itself.
    #[default]
    Plain,
    /// A URL (`postgres://user:password@host/db`): only its user and
    /// password change, percent-encoded; every other part is kept.
    Url,
}

/// Layout of current and previous values in a dotenv target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DotenvFormat {
    /// `VAR=new` and `PREVIOUS_VAR=old`.
    Pair,
    /// `VAR=new,old`, newest first (Symfony style).
    List,
}

/// `[secret.authority]`: who else checks the credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthoritySpec {
    /// PostgreSQL login roles.
    Postgres(PostgresAuthority),
    /// A Redis ACL user, or the `requirepass` of legacy servers.
    Redis(RedisAuthority),
    /// A plugin program that speaks rotor's exec protocol to a provider.
    Exec(ExecAuthority),
}

impl AuthoritySpec {
    /// The name used in the inventory and in output.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthoritySpec::Postgres(_) => "postgres",
            AuthoritySpec::Redis(_) => "redis",
            AuthoritySpec::Exec(_) => "exec",
        }
    }

    /// Where its admin credential comes from, and what that credential
    /// must be (for the message when it is missing).
    pub fn admin(&self) -> (Option<&AdminSource>, &'static str) {
        match self {
            AuthoritySpec::Postgres(pg) => (
                Some(&pg.admin),
                "a PostgreSQL URL of a role with CREATEROLE",
            ),
            AuthoritySpec::Redis(r) => (
                r.admin.as_ref(),
                "a redis:// URL of a user allowed ACL and CONFIG",
            ),
            AuthoritySpec::Exec(_) => (None, ""),
        }
    }

    /// Whether it says which login a version belongs to (a PostgreSQL
    /// role, a Redis ACL user); not Redis `requirepass` (the default user,
    /// never named in the file).
    pub fn names_login(&self) -> bool {
        match self {
            AuthoritySpec::Postgres(_) => true,
            AuthoritySpec::Redis(r) => r.user.is_some(),
            // A plugin may return a non-secret part (an access key id).
            AuthoritySpec::Exec(_) => true,
        }
    }

    /// The crash points inside its apply (and, second, inside its
    /// retire): an exec plugin's create and mint, a Redis authority's
    /// step from one node to the next.
    pub fn points_inside(
        &self,
    ) -> (
        Vec<crate::engine::step::Inside>,
        Vec<crate::engine::step::Inside>,
    ) {
        use crate::engine::step::Inside;
        match self {
            AuthoritySpec::Exec(_) => (vec![Inside::Create, Inside::Mint], Vec::new()),
            AuthoritySpec::Redis(r) if r.nodes.len() > 1 => {
                (vec![Inside::ApplyNodes], vec![Inside::RetireNodes])
            }
            AuthoritySpec::Redis(_) | AuthoritySpec::Postgres(_) => (Vec::new(), Vec::new()),
        }
    }

    /// Whether it has a step of its own after verify (an exec plugin's
    /// `finish`).
    pub fn finishes(&self) -> bool {
        matches!(self, AuthoritySpec::Exec(_))
    }

    /// Whether the old credential is retired here within the run under
    /// `strategy` (an exec plugin revokes at cutover too).
    pub fn retires_old_in_run(&self, strategy: &Strategy) -> bool {
        match self {
            AuthoritySpec::Exec(_) => {
                matches!(strategy, Strategy::Cutover | Strategy::DualPassword)
            }
            _ => strategy.retires_in_run(),
        }
    }

    /// How long the old credential keeps working after verify before it
    /// is retired within the run.
    pub fn retire_delay(&self) -> Duration {
        match self {
            AuthoritySpec::Redis(r) => r.retire_delay,
            AuthoritySpec::Postgres(pg) => pg.retire_delay,
            AuthoritySpec::Exec(_) => Duration::ZERO,
        }
    }
}

/// `kind = "exec"`: a plugin that speaks rotor's exec protocol
/// (`docs/plugin-protocol.md`), one process per call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExecAuthority {
    /// Program and arguments (never a shell string).
    pub command: Vec<String>,
    /// The directory the plugin runs in: the inventory's.
    pub dir: PathBuf,
    /// Time limit of each call.
    pub timeout: Duration,
    /// Variables of rotor's environment the plugin also gets.
    pub env: Vec<String>,
    /// `[secret.authority.config]` as canonical JSON (keys sorted), passed
    /// to every call as `config`.
    pub config: String,
}

/// `kind = "redis"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedisAuthority {
    /// How rotor reaches every node as a user allowed `ACL` and `CONFIG`.
    /// `None`: rotor logs in as the rotated user itself (or, for a
    /// `requirepass` cutover, the default user) with the password it
    /// replaces.
    pub admin: Option<AdminSource>,
    /// The ACL user whose passwords turn (`dual-password`); `None` for a
    /// `requirepass` cutover.
    pub user: Option<String>,
    /// Every node to change: `redis://HOST:PORT`, or all of them
    /// `rediss://HOST:PORT` (TLS) (primary, replicas, or every cluster
    /// node); ACLs and `requirepass` are not replicated.
    pub nodes: Vec<String>,
    /// `tls_ca_file`, resolved against the inventory directory: the CA
    /// (PEM) that signs the `rediss://` nodes' certificates. `None`: the
    /// system's roots.
    pub tls_ca_file: Option<PathBuf>,
    /// `dual-password`: how long retire waits after verify before it
    /// removes the old password (a consumer that read the old one just
    /// before delivery may connect a moment later). Zero for `cutover`.
    pub retire_delay: Duration,
}

/// `kind = "postgres"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostgresAuthority {
    /// How rotor reaches the server as a role with CREATEROLE.
    pub admin: AdminSource,
    /// The NOLOGIN role that holds the privileges (`alternate` only).
    pub group: Option<String>,
    /// The login roles: two that take turns (`alternate`), or one
    /// (`cutover`).
    pub roles: Vec<String>,
    /// What happens to the retired role of an alternating pair.
    pub retire: RetireMode,
    /// How long retiring waits for the old role's sessions to end.
    pub drain_timeout: Duration,
    /// If set, every new password gets `VALID UNTIL now + valid_for`: a
    /// safety net should rotation stop happening.
    pub valid_for: Option<Duration>,
    /// `alternate`: how long retire waits after verify before it starts
    /// draining the old role (a consumer that read the old login just
    /// before delivery may connect a moment later).
    pub retire_delay: Duration,
}

/// Where the admin connection's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AdminSource {
    /// A full connection URL in this environment variable.
    Env(String),
    /// `url` (no password in it) completed with the current password of
    /// another secret of the inventory.
    Secret {
        /// The secret whose current value is the admin password.
        secret: String,
        /// Host, port, database and user; no password.
        url: String,
    },
}

/// What retiring does to an alternating pair's old role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetireMode {
    /// `NOLOGIN` and a fresh random password nobody knows (break-glass:
    /// an admin can set one and log in again).
    Nologin,
    /// `REASSIGN OWNED` to the group, `DROP OWNED`, then `DROP ROLE`.
    Drop,
}

/// `[secret.hooks]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Hooks {
    /// argv run after delivery so consumers pick up the new value.
    pub restart: Option<Command>,
    /// Check that consumers work with the new value.
    pub verify: Option<Verify>,
    /// How a failing restart or verify is retried.
    pub retry: Retry,
    /// Variables of rotor's environment the hooks also get (`env = [...]`),
    /// besides the clean environment of [`crate::engine::hook_env`].
    pub env: Vec<String>,
}

/// How a failing hook is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Retry {
    /// Attempts in all (1 = no retry).
    pub tries: u32,
    /// Wait before the second attempt; doubles each time.
    pub backoff: Duration,
    /// Longest single wait.
    pub max_backoff: Duration,
}

impl Default for Retry {
    /// Three attempts, waiting 1s then 2s, never more than 30s at a time.
    fn default() -> Self {
        Retry {
            tries: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// A command as argv (never a shell string) with a time limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Command {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Time limit.
    pub timeout: Duration,
}

/// A verify hook.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verify {
    /// GET `url` must answer `status` within `timeout`.
    Http {
        /// `http://` or `https://` URL.
        url: String,
        /// Expected status code.
        status: u16,
        /// Time limit.
        timeout: Duration,
        /// `https://`: the CA certificates (PEM) to trust instead of the
        /// system's roots (resolved against the inventory directory).
        tls_ca_file: Option<PathBuf>,
    },
    /// The command must exit 0 within its timeout.
    Command(Command),
}
