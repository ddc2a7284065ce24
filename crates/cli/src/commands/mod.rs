//! One function per command; `run` dispatches. Each loads the inventory and
//! opens the store itself, so read commands never write.

mod audit;
mod history;
mod init;
mod plan;
mod put;
mod rotate;
mod status;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use rotor::engine::{Actor, Engine, Observer, Options};
use rotor::inventory::{self, Inventory};
use rotor::store::Store;

use crate::cli::{AuditCommand, Cli, Command};

/// The actor when `--actor`/`ROTOR_ACTOR` is not given: `$USER`, else
/// the name of the process's (effective) uid from the user database
/// (`/etc/passwd`, NSS), else `uid N` when the uid has no name.
fn default_actor() -> String {
    if let Some(user) = std::env::var("USER").ok().filter(|u| !u.trim().is_empty()) {
        return user;
    }
    if let Ok(name) = whoami::username() {
        if !name.is_empty() {
            return name;
        }
    }
    // The owner of /proc/self is the process's effective uid.
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata("/proc/self") {
        Ok(m) => format!("uid {}", m.uid()),
        Err(_) => "unknown".into(),
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Ctx {
        config: cli.config,
        actor: Actor {
            name: cli.actor.unwrap_or_else(default_actor),
            ticket: cli.ticket,
        },
    };
    match cli.command {
        Command::Init => init::run(&ctx),
        Command::Plan { select, json } => plan::run(&ctx, &select, json),
        Command::Rotate {
            select,
            create_missing,
            adopt,
            json,
        } => rotate::rotate(
            &ctx,
            &select,
            Options {
                create_missing,
                adopt,
                skip_busy: select.all || select.due,
                force_unlock: false,
            },
            json,
        ),
        Command::Retire {
            names,
            expired,
            json,
        } => rotate::retire(&ctx, &names, expired, json),
        Command::Rollback {
            name,
            force_unlock,
            json,
        } => rotate::rollback(&ctx, &name, force_unlock, json),
        Command::Resume {
            name,
            force_unlock,
            json,
        } => rotate::resume(&ctx, name.as_deref(), force_unlock, json),
        Command::Put { name, value, json } => put::put(&ctx, &name, &value, json),
        Command::Confirm {
            name,
            revoked,
            json,
        } => put::confirm(&ctx, &name, revoked, json),
        Command::Status { json } => status::run(&ctx, json),
        Command::Verify { names, json } => verify::run(&ctx, &names, json),
        Command::History { name, json } => history::run(&ctx, &name, json),
        Command::Audit {
            command: AuditCommand::Verify { json },
        } => audit::verify(&ctx, json),
    }
}

/// What every command needs from the global flags.
pub struct Ctx {
    config: Option<PathBuf>,
    actor: Actor,
}

impl Ctx {
    /// Finds and loads the inventory.
    pub fn inventory(&self) -> anyhow::Result<Inventory> {
        let path =
            inventory::find_inventory(self.config.as_deref()).map_err(rotor::RotorError::from)?;
        let inv = inventory::load(&path).map_err(rotor::RotorError::from)?;
        // Every file this process reads is bounded by the inventory's limit.
        rotor::target::atomic::set_max_file_size(inv.limits.max_file_size);
        Ok(inv)
    }

    /// Opens the store the inventory names.
    pub fn store(&self, inv: &Inventory) -> anyhow::Result<Store> {
        Ok(Store::open(&inv.store.path).map_err(rotor::RotorError::from)?)
    }

    /// An engine over the inventory and its store.
    pub fn engine<'o>(
        &self,
        options: Options,
        observer: &'o dyn Observer,
    ) -> anyhow::Result<Engine<'o>> {
        let inv = self.inventory()?;
        let store = self.store(&inv)?;
        Ok(self.engine_over(inv, store, options, observer))
    }

    /// An engine over an inventory and store already loaded.
    pub fn engine_over<'o>(
        &self,
        inv: Inventory,
        store: Store,
        options: Options,
        observer: &'o dyn Observer,
    ) -> Engine<'o> {
        Engine::new(inv, store, self.actor.clone(), options, observer)
    }
}
