//! Errors from finding, reading and validating an inventory (`rotor.toml`).
//! Every validation error names the file, the 1-based line and column, and
//! the secret it belongs to where there is one.

use std::path::PathBuf;

/// Why an inventory could not be found, read or accepted.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// No inventory at the expected place.
    #[error(
        "no inventory at {}: create one, or pass --config / ROTOR_CONFIG",
        .path.display()
    )]
    NotFound {
        /// Where rotor looked.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read inventory {}: {source}", .path.display())]
    Io {
        /// The inventory file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or breaks a rule of the inventory.
    #[error(
        "{}:{line}:{col}: {}{message}",
        .path.display(),
        secret_prefix(.secret.as_deref())
    )]
    Invalid {
        /// The inventory file, as given.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        col: usize,
        /// The secret the error belongs to, if any.
        secret: Option<String>,
        /// What is wrong and what to do.
        message: String,
    },
}

fn secret_prefix(secret: Option<&str>) -> String {
    match secret {
        Some(name) => format!("secret \"{name}\": "),
        None => String::new(),
    }
}
