//! Targets: where consumers read a secret. Today the dotenv file; every
//! target is written atomically, keeps its other bytes exactly, and ends with
//! mode 0600.

pub mod atomic;
pub mod dotenv;
