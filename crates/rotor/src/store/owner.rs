//! Which process owns a run, and whether it is still alive. The owner is
//! recorded as `host/pid:start-time` (start time from `/proc`), so a reused
//! pid is not mistaken for the original process. On this host that is
//! checked directly; a run owned by another host (a store on shared storage)
//! is alive while its lease lasts: [`LEASE_SECS`] after its last journal
//! entry. `--force-unlock` overrides both, audited.

/// How long a run owned by another host stays locked after its last
/// journal entry.
pub const LEASE_SECS: i64 = 15 * 60;

/// This machine's name, as the kernel knows it.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty() && !h.contains('/'))
        .unwrap_or_else(|| "localhost".into())
}

/// The owner string of this process.
pub fn this_process() -> String {
    let pid = std::process::id();
    match start_time(pid) {
        Some(t) => format!("{}/{pid}:{t}", host()),
        None => format!("{}/{pid}", host()),
    }
}

fn split(owner: &str) -> (Option<&str>, &str) {
    match owner.split_once('/') {
        Some((h, rest)) => (Some(h), rest),
        None => (None, owner),
    }
}

/// The pid in an owner string.
pub fn pid(owner: &str) -> Option<u32> {
    split(owner).1.split(':').next()?.parse().ok()
}

/// The host in an owner string.
pub fn host_of(owner: &str) -> Option<&str> {
    split(owner).0
}

/// Whether the process that wrote `owner` is still running, given the time
/// of the run's last journal entry and now (Unix seconds).
pub fn is_alive(owner: &str, last_seen: i64, now: i64) -> bool {
    if let Some(h) = host_of(owner) {
        if h != host() {
            return now - last_seen < LEASE_SECS;
        }
    }
    let Some(p) = pid(owner) else {
        return false;
    };
    match (start_time(p), split(owner).1.split_once(':')) {
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
        assert!(is_alive(&me, 0, 0));
        assert_eq!(pid(&me), Some(std::process::id()));
        assert!(
            !is_alive(&format!("{}/4194304:1", host()), 0, 0),
            "pid above pid_max"
        );
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let owner = format!(
            "{}/{}:{}",
            host(),
            child.id(),
            start_time(child.id()).unwrap_or(0)
        );
        child.wait().expect("wait");
        assert!(!is_alive(&owner, 0, 0), "a reaped child is gone");
        // same pid, other start time: a reused pid
        let reused = format!("{}/{}:1", host(), std::process::id());
        assert!(!is_alive(&reused, 0, 0));
    }

    #[test]
    fn another_host_holds_its_lease_until_it_expires() {
        let owner = "elsewhere.example/1234:99";
        assert!(is_alive(owner, 1_000, 1_000 + LEASE_SECS - 1));
        assert!(!is_alive(owner, 1_000, 1_000 + LEASE_SECS));
        assert_eq!(pid(owner), Some(1234));
        assert_eq!(host_of(owner), Some("elsewhere.example"));
    }
}
