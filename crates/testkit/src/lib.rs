//! Dev-only helpers for rotor's tests: throwaway projects in temp dirs, a leak
//! scanner that proves no generated value escaped into output or the store,
//! and a small HTTP health endpoint whose answer a test can change.
#![forbid(unsafe_code)]

pub mod conformance;
pub mod http;
pub mod leaks;
pub mod project;

pub use http::HealthStub;
pub use leaks::LeakScanner;
pub use project::Project;
