//! Crash points for the fault-injection tests (which points exist is
//! [`super::step::crash_points`]). Built only with the
//! `fault-injection` feature: then `ROTOR_FAULT=after:deliver` (or
//! `mid:deliver`, `after:restart`, …) makes the process abort (no unwinding,
//! no cleanup, like `kill -9`) at that point. Authorities with several
//! servers have points between two of them (`mid:apply-nodes`,
//! `mid:retire-nodes` in the Redis authority). Without the feature this is
//! a no-op the compiler removes. `ROTOR_PAUSE=before:read-targets=FILE`
//! holds the process at a pause point instead (see [`pause`]), so that a
//! test can interleave two processes exactly.

/// Aborts the process if `ROTOR_FAULT` names this point.
#[cfg(feature = "fault-injection")]
pub(crate) fn point(at: super::step::CrashPoint) {
    if let Ok(spec) = std::env::var("ROTOR_FAULT") {
        if spec == at.to_string() {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "rotor: fault injected at {spec}");
            std::process::abort();
        }
    }
}

/// Aborts the process if `ROTOR_FAULT` names this point.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn point(_at: super::step::CrashPoint) {}

/// Holds the process at this point while `ROTOR_PAUSE` names it, as
/// `when:step=FILE`: creates `FILE`, then waits until the test removes it
/// (at most 60 s), so that a test can run another rotor in between and
/// reproduce an interleaving exactly.
#[cfg(feature = "fault-injection")]
pub(crate) fn pause(when: &str, step: &str) {
    let Ok(spec) = std::env::var("ROTOR_PAUSE") else {
        return;
    };
    let Some((at, file)) = spec.split_once('=') else {
        return;
    };
    if at.split_once(':') != Some((when, step)) {
        return;
    }
    let file = std::path::Path::new(file);
    if std::fs::write(file, b"").is_err() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Holds the process if `ROTOR_PAUSE` names this point.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn pause(_when: &str, _step: &str) {}
