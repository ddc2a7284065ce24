//! Dev-only helpers for rotor's tests: throwaway projects in temp dirs, a leak
//! scanner that proves no generated value escaped into output or the store,
//! a small HTTP health endpoint whose answer a test can change, and a
//! throwaway PostgreSQL server and a PgBouncer in front of it, and a throwaway
//! Redis server (with replicas).
#![forbid(unsafe_code)]

pub mod conformance;
pub mod fault_matrix;
pub mod harness;
pub mod http;
pub mod inventory;
pub mod leaks;
mod pg_client;
pub mod pgbouncer;
pub mod postgres;
pub mod project;
pub mod redis;
pub mod standin;
pub mod store_conformance;
pub mod tls;

pub use http::HealthStub;
pub use leaks::LeakScanner;
pub use pgbouncer::PgBouncer;
pub use postgres::Postgres;
pub use project::Project;
pub use redis::Redis;
pub use tls::TestCa;
