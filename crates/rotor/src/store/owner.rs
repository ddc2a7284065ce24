//! Which process owns a run, and whether it is still alive: the owner is
//! recorded as `pid:start-time` (from `/proc`), so a reused pid is not
//! mistaken for the original process.

/// The owner string of this process.
pub fn this_process() -> String {
    let pid = std::process::id();
    match start_time(pid) {
        Some(t) => format!("{pid}:{t}"),
        None => pid.to_string(),
    }
}

/// The pid in an owner string.
pub fn pid(owner: &str) -> Option<u32> {
    owner.split(':').next()?.parse().ok()
}

/// Whether the process that wrote `owner` is still running.
pub fn is_alive(owner: &str) -> bool {
    let Some(p) = pid(owner) else {
        return false;
    };
    match (start_time(p), owner.split_once(':')) {
        (Some(now), Some((_, then))) => now.to_string() == then,
        // No start time recorded: the pid alone decides.
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Start time of a process in clock ticks since boot (field 22 of
/// `/proc/PID/stat`), or `None` if there is no such process.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after it follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_one_is_not() {
        let me = this_process();
        assert!(is_alive(&me));
        assert_eq!(pid(&me), Some(std::process::id()));
        assert!(!is_alive("4194304:1"), "pid above pid_max");
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let owner = format!("{}:{}", child.id(), start_time(child.id()).unwrap_or(0));
        child.wait().expect("wait");
        assert!(!is_alive(&owner), "a reaped child is gone");
        // same pid, other start time: a reused pid
        let reused = format!("{}:{}", std::process::id(), 1);
        assert!(!is_alive(&reused));
    }
}
