//! Crash points for the fault-injection tests. Built only with the
//! `fault-injection` feature: then `ROTOR_FAULT=after:deliver` (or
//! `mid:deliver`, `after:restart`, …) makes the process abort (no unwinding,
//! no cleanup, like `kill -9`) at that point. Authorities with several
//! servers have points between two of them (`mid:apply-nodes`,
//! `mid:retire-nodes` in the Redis authority). Without the feature this is
//! a no-op the compiler removes.

/// Aborts the process if `ROTOR_FAULT` names this point.
#[cfg(feature = "fault-injection")]
pub(crate) fn point(when: &str, step: &str) {
    if let Ok(spec) = std::env::var("ROTOR_FAULT") {
        if spec.split_once(':') == Some((when, step)) {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "rotor: fault injected at {spec}");
            std::process::abort();
        }
    }
}

/// Aborts the process if `ROTOR_FAULT` names this point.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn point(_when: &str, _step: &str) {}
