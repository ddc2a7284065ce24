//! How results reach the terminal: tables, JSON, and a progress bar on
//! stderr for long work (hidden when stderr is not a terminal).

use std::cell::RefCell;
use std::io::IsTerminal;
use std::sync::{Mutex, PoisonError};

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use indicatif::{ProgressBar, ProgressStyle};
use rotor::engine::Observer;

/// The first error writing stdout met, if any (later ones are the same).
static STDOUT_FAILED: Mutex<Option<std::io::Error>> = Mutex::new(None);

/// Writes one line to stdout. Output never stops a command: a write that
/// fails (the reader went away, `rotor status | head`; a full disk; a
/// closed descriptor) is remembered for [`stdout_failure`] and the command
/// goes on, so a rotation is never cut short by its report.
pub fn emit(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(line)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        let mut failed = STDOUT_FAILED.lock().unwrap_or_else(PoisonError::into_inner);
        if failed.is_none() {
            *failed = Some(e);
        }
    }
}

/// Why stdout could not be written, if it could not.
pub fn stdout_failure() -> Option<std::io::Error> {
    STDOUT_FAILED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
}

/// Writes one line to stderr, ignoring a stderr that cannot be written:
/// there is nowhere left to say so.
pub fn note(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(line).and_then(|()| err.write_all(b"\n"));
}

/// `println!` through [`emit`].
#[macro_export]
macro_rules! outln {
    () => { $crate::output::emit(format_args!("")) };
    ($($arg:tt)*) => { $crate::output::emit(format_args!($($arg)*)) };
}

/// `eprintln!` through [`note`]: never panics.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::output::note(format_args!($($arg)*)) };
}

/// stderr for the log (`ROTOR_LOG`): a write that fails is dropped, never
/// an error, so logging can neither panic nor stop a rotation.
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    emit(format_args!("{}", serde_json::to_string_pretty(value)?));
    Ok(())
}

/// A table with rotor's look.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(header.iter().copied());
    t
}

/// Progress bar for the engine's phases; notes go to stderr.
pub struct Progress {
    bar: RefCell<Option<ProgressBar>>,
    enabled: bool,
}

impl Progress {
    /// A progress reporter; bars only when stderr is a terminal.
    pub fn new() -> Progress {
        Progress {
            bar: RefCell::new(None),
            enabled: std::io::stderr().is_terminal(),
        }
    }
}

impl Observer for Progress {
    fn begin(&self, what: &str, total: u64) {
        if !self.enabled || total < 2 {
            return;
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(what.to_owned());
        *self.bar.borrow_mut() = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(b) = self.bar.borrow().as_ref() {
            b.inc(n);
        }
    }

    fn end(&self) {
        if let Some(b) = self.bar.borrow_mut().take() {
            b.finish_and_clear();
        }
    }

    fn note(&self, line: &str) {
        match self.bar.borrow().as_ref() {
            Some(b) => b.println(line),
            None => note(format_args!("{line}")),
        }
    }
}
