//! The inventory (`rotor.toml`): every secret, how it is made, where it goes,
//! who checks it and how often it turns.

pub mod digest;
mod error;
mod load;
mod model;
mod position;
mod raw;
mod rules;

pub use error::InventoryError;
pub use load::{find_inventory, load, parse};
pub use model::*;
