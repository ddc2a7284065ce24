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
        .with_writer(|| output::LogWriter)
        .log_internal_errors(false)
        .init();
    let reports_only = cli.command.changes_nothing();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // Library messages already include their causes; `{err:#}` would repeat them.
            crate::errln!("error: {err}");
            exit::code_for(&err)
        }
    };
    match output::stdout_failure() {
        // The reader went away (`rotor status | head`): it had what it wanted.
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Some(e) if reports_only && code == ExitCode::SUCCESS => {
            // The report was the whole of the command, and it was lost.
            crate::errln!("error: cannot write to stdout: {e}; nothing was changed");
            ExitCode::from(exit::BAD_INPUT)
        }
        // After a change, the code keeps saying what was done.
        Some(e) => {
            crate::errln!("warning: cannot write to stdout ({e}); the exit code still says what was done, and `rotor status` shows it");
            code
        }
        None => code,
    }
}
