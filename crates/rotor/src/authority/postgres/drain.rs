//! Retiring the old login of an alternating pair: waiting until its
//! sessions are gone, then taking its login away (`NOLOGIN` and a password
//! nobody knows) or dropping it.

use std::time::Duration;

use tokio::time::Instant;
use tokio_postgres::Client;

use super::roles::{self, Role};
use super::{
    classify, classify_needing, classify_password, quote_ident, transient, unknown_verifier,
};
use crate::authority::AuthorityError;

/// How often `pg_stat_activity` is looked at while waiting.
const POLL: Duration = Duration::from_millis(200);

/// Waits until no session is logged in as `role`, at most `timeout`.
pub(super) async fn wait_for_sessions(
    c: &Client,
    role: &str,
    timeout: Duration,
) -> Result<(), AuthorityError> {
    let deadline = Instant::now() + timeout;
    loop {
        let open = roles::sessions(c, role).await?;
        if open.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(transient(still_open(role, &open, timeout)));
        }
        tokio::time::sleep(POLL.min(deadline - now)).await;
    }
}

fn still_open(role: &str, open: &[roles::Session], timeout: Duration) -> String {
    const SHOWN: usize = 10;
    let mut pids: Vec<String> = open.iter().take(SHOWN).map(|s| s.pid.to_string()).collect();
    if open.len() > SHOWN {
        pids.push("…".into());
    }
    let mut apps: Vec<&str> = open
        .iter()
        .map(|s| s.application.as_str())
        .filter(|a| !a.is_empty())
        .collect();
    apps.sort_unstable();
    apps.dedup();
    let apps = if apps.is_empty() {
        "none set".to_owned()
    } else {
        apps.join(", ")
    };
    format!(
        "{} session{} of {role} still open after {} (pids {}, application names {apps}); \
         they keep working; retry `rotor retire`",
        open.len(),
        if open.len() == 1 { "" } else { "s" },
        humantime::format_duration(timeout),
        pids.join(", ")
    )
}

/// `ALTER ROLE role NOLOGIN PASSWORD '<verifier of a random password>'`.
/// The password is generated here and forgotten at once.
pub(super) async fn nologin(c: &Client, role: &str) -> Result<(), AuthorityError> {
    let sql = zeroize::Zeroizing::new(format!(
        "ALTER ROLE {} NOLOGIN PASSWORD {}",
        quote_ident(role)?,
        unknown_verifier()?.as_str()
    ));
    c.batch_execute(&sql)
        .await
        .map_err(|e| classify_password(&e, &format!("ALTER ROLE {role} NOLOGIN")))
}

/// `REASSIGN OWNED BY role TO group; DROP OWNED BY role; DROP ROLE role`,
/// in one transaction. REASSIGN/DROP OWNED act on the admin connection's
/// database (and on cluster-wide objects) only, and need the admin to have
/// both roles' privileges, so they run only when the role holds something
/// there; what it holds in another database makes `DROP ROLE` fail, saying
/// where.
pub(super) async fn drop_role(
    c: &mut Client,
    role: &Role,
    group: &str,
) -> Result<(), AuthorityError> {
    let (r, g) = (quote_ident(&role.name)?, quote_ident(group)?);
    let tx = c.transaction().await.map_err(|e| classify(&e, "BEGIN"))?;
    let held = roles::holdings(&tx, role).await?;
    if held.iter().any(|h| h.here) {
        let needs = format!(
            "the privileges of both {} and {group} (membership in both, or superuser)",
            role.name
        );
        for s in [
            format!("REASSIGN OWNED BY {r} TO {g}"),
            format!("DROP OWNED BY {r}"),
        ] {
            tx.batch_execute(&s)
                .await
                .map_err(|e| classify_needing(&e, &s, &needs))?;
        }
    }
    let s = format!("DROP ROLE {r}");
    if let Err(e) = tx.batch_execute(&s).await {
        let mut err = classify(&e, &s);
        if e.code() == Some(&tokio_postgres::error::SqlState::DEPENDENT_OBJECTS_STILL_EXIST) {
            if let AuthorityError::Permanent { message, .. } = &mut err {
                let elsewhere = roles::describe_holdings(&role.name, &held, 5);
                message.push_str(&format!(
                    "; it still holds: {elsewhere}. REASSIGN OWNED and DROP OWNED act on one \
                     database at a time: run `REASSIGN OWNED BY {r} TO {g}; DROP OWNED BY {r};` \
                     in each database named, then retry `rotor retire`"
                ));
            }
        }
        return Err(err);
    }
    tx.commit().await.map_err(|e| classify(&e, "COMMIT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_message_says_who_and_what_next() {
        let open = vec![
            roles::Session {
                pid: 41,
                application: "worker".into(),
            },
            roles::Session {
                pid: 42,
                application: String::new(),
            },
            roles::Session {
                pid: 43,
                application: "worker".into(),
            },
        ];
        assert_eq!(
            still_open("app_blue", &open, Duration::from_secs(1)),
            "3 sessions of app_blue still open after 1s (pids 41, 42, 43, application \
             names worker); they keep working; retry `rotor retire`"
        );
        assert!(
            still_open("r", &open[1..2], Duration::from_secs(90)).starts_with(
                "1 session of r still open after 1m 30s (pids 42, application names none set)"
            )
        );
    }
}
