//! The inventory (`rotor.toml`): every secret, how it is made, where it goes,
//! who checks it and how often it turns.

mod error;
mod load;
mod model;

pub use error::InventoryError;
pub use load::{find_inventory, load, parse};
pub use model::*;
