//! The `rotor` binary: parse the command line, run one command, map its
//! outcome to an exit code. The work is in the `rotor` library.

mod cli;
mod commands;
mod exit;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ROTOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // Library messages already include their causes; `{err:#}` would repeat them.
            eprintln!("error: {err}");
            exit::code_for(&err)
        }
    }
}
