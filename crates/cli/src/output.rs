//! How results reach the terminal: tables, JSON, and a progress bar on
//! stderr for long work (hidden when stderr is not a terminal).

use std::cell::RefCell;
use std::io::IsTerminal;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use indicatif::{ProgressBar, ProgressStyle};
use rotor::engine::Observer;

/// Writes one line to stdout. A reader that went away (`rotor status |
/// head`) ends the process quietly with success: the work is done, only the
/// rest of the report is unwanted.
pub fn emit(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(crate::exit::BAD_INPUT.into());
    }
}

/// `println!` through [`emit`].
#[macro_export]
macro_rules! outln {
    () => { $crate::output::emit(format_args!("")) };
    ($($arg:tt)*) => { $crate::output::emit(format_args!($($arg)*)) };
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
            None => eprintln!("{line}"),
        }
    }
}
