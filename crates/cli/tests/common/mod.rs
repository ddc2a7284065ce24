//! Shared harness for the CLI tests: a throwaway project, the real `rotor`
//! binary run in it, and the leak scanner applied to every run's output and,
//! at the end, to the whole store. It lives in `rotor_testkit::harness`.
#![allow(dead_code, unused_imports)]

pub use rotor_testkit::harness::*;
