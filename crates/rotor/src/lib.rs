//! rotor: a secret-rotation engine.
//!
//! The inventory ([`inventory`]) says what secrets exist and how they turn;
//! [`generate`] makes values; the [`store`] keeps every version sealed under
//! a master key with a journal and an [`audit`] chain; [`target`]s are where
//! consumers read values; the [`engine`] runs the state machine
//! plan → generate → apply → deliver → restart → verify → promote → retire.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod authority;
pub mod engine;
pub mod error;
pub mod generate;
pub mod inventory;
pub mod redact;
pub mod secret;
pub mod store;
pub mod strategy;
pub mod target;

pub use error::RotorError;
