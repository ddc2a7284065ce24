//! Command-line grammar: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `rotor --help` prints after the commands: the exit codes, then
/// [`AFTER_HELP`].
fn after_help() -> String {
    format!("{}\n{AFTER_HELP}", crate::exit::help_table())
}

const AFTER_HELP: &str = "\
The code says what was done, never whether the report could be printed: a
rotation whose output is lost exits as it would have (a warning on stderr).

Values never appear in rotor's output, logs, audit or journal: only fingerprints
(first 16 hex digits of SHA-256).

Start here:
  rotor init                 create .rotor/ (store + master key) next to rotor.toml
  rotor plan                 see what a rotation would do; changes nothing
  rotor rotate --all         rotate every secret
  rotor status               what is current, due, overlapping or unfinished
  rotor verify               do targets and authorities still agree with the store?";

/// rotor: rotate secrets without downtime, from one inventory (rotor.toml).
#[derive(Debug, Parser)]
#[command(name = "rotor", version, about, after_help = after_help())]
pub struct Cli {
    /// The inventory file [default: ./rotor.toml].
    #[arg(long, global = true, env = "ROTOR_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Who is acting, for the audit trail [default: $USER, else the uid's user name].
    #[arg(long, global = true, env = "ROTOR_ACTOR", value_name = "NAME", value_parser = audit_text)]
    pub actor: Option<String>,

    /// Change or incident ticket, recorded in every audit entry.
    #[arg(long, global = true, value_name = "ID", value_parser = audit_text)]
    pub ticket: Option<String>,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store (.rotor/rotor.db) and its master key (.rotor/master.key, mode 0600).
    ///
    /// The store directory comes from [store] path in rotor.toml. Set
    /// ROTOR_MASTER_KEY_FILE to keep the key elsewhere (a systemd credential,
    /// a KMS-decrypted file); an existing key file there is used, not replaced.
    Init,
    /// Show, step by step, what rotating would do. Changes nothing.
    Plan {
        #[command(flatten)]
        select: Select,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Rotate secrets: generate, deliver, restart, verify, promote.
    ///
    /// Secrets that share restart and verify hooks rotate together, with one
    /// restart. If restart or verify fails, every file is put back byte for
    /// byte and the new version is marked failed.
    ///
    /// A secret's `related` secrets are not rotated with it: outside
    /// incident mode only the selected secrets turn, and `plan` and `rotate`
    /// warn about related secrets the selection leaves out (name them too to
    /// rotate them together).
    Rotate {
        #[command(flatten)]
        select: Select,
        /// Create target files that do not exist yet (otherwise an error).
        #[arg(long)]
        create_missing: bool,
        /// Treat the value a target holds as current when it differs from
        /// the store (someone edited the file by hand).
        #[arg(long)]
        adopt: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Drop previous values from targets and mark them retired.
    Retire {
        /// Secrets to retire now, whatever their window says.
        names: Vec<String>,
        /// Only previous values whose overlap window has ended.
        #[arg(long)]
        expired: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Deliver a value a person made in a provider's portal (strategy manual).
    ///
    /// The value is read from stdin when it is not a terminal (`pbpaste |
    /// rotor put NAME`, `rotor put NAME < file`), else asked for twice
    /// without echo. Never on the command line: that ends up in shell
    /// history and in `ps`. It is checked against the secret's
    /// [secret.manual] rules, then delivered, restarted and verified like
    /// any rotation; the old value counts as live until `rotor confirm NAME
    /// --revoked`. `rotor rotate NAME` prints the portal steps.
    Put {
        /// The manual secret.
        name: String,
        /// Refused: a value given here would leak (kept only to say so).
        #[arg(hide = true, num_args = 0.., trailing_var_arg = true, allow_hyphen_values = true)]
        value: Vec<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Confirm that a provider revoked a manual secret's old value; it is audited and retired.
    Confirm {
        /// The manual secret.
        name: String,
        /// What is confirmed: the old value was revoked at the provider.
        #[arg(long)]
        revoked: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Finish interrupted runs from the first step their journal does not
    /// show as done (deliver, restart, verify, promote).
    ///
    /// A run is interrupted when the rotor process that owned it died (a
    /// crash, kill -9, a reboot). `rotor status` shows it as INTERRUPTED.
    /// The alternative is `rotor rollback NAME`, which undoes it.
    Resume {
        /// The secret whose run to finish [default: every interrupted run].
        name: Option<String>,
        /// Take over a run whose owner still looks alive: its host is down,
        /// or the process hangs. Audited. Make sure the owner is really gone.
        #[arg(long)]
        force_unlock: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Undo: an unfinished run, or swap current and previous back while the
    /// previous is still live.
    Rollback {
        /// The secret.
        name: String,
        /// Take over a run whose owner still looks alive: its host is down,
        /// or the process hangs. Audited. Make sure the owner is really gone.
        #[arg(long)]
        force_unlock: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Every secret: version, age, cadence, next due, OVERDUE, fingerprint, overlap end.
    ///
    /// Secrets with an authority (a database, Redis) are also checked for
    /// drift there: does it still accept the stored credential, on every
    /// node? Exit 4 if not.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check for drift: targets still hold what rotor delivered, and each
    /// authority still accepts the stored credential (a real login, on
    /// every Redis node), the previous one too while it should, an
    /// alternating pair's roles still have the same memberships and
    /// settings, and a Redis ACL user holds no password rotor did not
    /// issue. Changes nothing; a drift is recorded in the audit trail.
    ///
    /// Exit 0: no drift. Exit 4: something drifted or could not be checked
    /// (the table says which). To take control again after a change made
    /// behind rotor's back, rotate the secret.
    Verify {
        /// Secrets to check [default: all].
        names: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Versions and audit entries of one secret.
    History {
        /// The secret.
        name: String,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// The audit trail.
    Audit {
        /// What to do with it.
        #[command(subcommand)]
        command: AuditCommand,
    },
}

impl Command {
    /// Whether the command only reports (its output is the whole point,
    /// and it changes no secret).
    pub fn changes_nothing(&self) -> bool {
        matches!(
            self,
            Command::Plan { .. }
                | Command::Status { .. }
                | Command::Verify { .. }
                | Command::History { .. }
                | Command::Audit { .. }
        )
    }
}

/// `rotor audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; names the first altered, removed or reordered entry.
    Verify {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Which secrets a command acts on.
#[derive(Debug, Args)]
pub struct Select {
    /// Secrets by name.
    pub names: Vec<String>,
    /// Every secret in the inventory.
    #[arg(long, conflicts_with_all = ["names", "due"])]
    pub all: bool,
    /// Secrets past their cadence, or never rotated.
    #[arg(long, conflicts_with = "names")]
    pub due: bool,
}

/// `--actor` and `--ticket` go into the audit trail verbatim: one line of
/// printable text, so nobody can forge a line in `history` output.
fn audit_text(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().any(char::is_control) {
        return Err(
            "must be one line of printable text (no newlines or control characters)".into(),
        );
    }
    if s.len() > 200 {
        return Err("must be at most 200 bytes".into());
    }
    Ok(s.to_owned())
}
