//! `RELOAD` on PgBouncer's admin console, so it reads the new `auth_file`
//! (PgBouncer re-reads it only on `RELOAD` or SIGHUP). The console speaks
//! only the simple query protocol. Messages never hold the URL or its
//! password.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::{Config, NoTls};

use crate::target::TargetError;

/// How long connecting to the console may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The console URL from `$var`, checked to parse.
pub fn console_url(var: &str) -> Result<Config, TargetError> {
    let fail = |why: &str| TargetError::Reload {
        var: var.to_owned(),
        why: why.to_owned(),
    };
    let url = match std::env::var(var) {
        Ok(u) if !u.trim().is_empty() => SecretString::from(u),
        _ => return Err(fail("is not set; export the admin console URL (postgres://USER:PASSWORD@HOST:PORT/pgbouncer of a user in admin_users)")),
    };
    let mut config = Config::from_str(url.expose_secret())
        .map_err(|_| fail("is not a valid PostgreSQL connection URL"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// Runs `RELOAD` on the console `$var` names; returns words for the
/// journal.
pub fn reload(var: &str) -> Result<String, TargetError> {
    let config = console_url(var)?;
    let fail = |why: String| TargetError::Reload {
        var: var.to_owned(),
        why,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the I/O runtime: {e}")))?;
    runtime.block_on(async {
        let (client, conn) = config.connect(NoTls).await.map_err(|e| {
            fail(format!(
                "cannot connect to the admin console ({})",
                reason(&e)
            ))
        })?;
        let conn = tokio::spawn(conn);
        let result = client
            .simple_query("RELOAD")
            .await
            .map_err(|e| fail(format!("RELOAD was refused ({})", reason(&e))));
        drop(client);
        let _ = conn.await;
        result.map(|_| format!("RELOAD via ${var}"))
    })
}

/// The server's message, or the error's kind: neither holds the URL.
fn reason(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_owned(),
        None => e.to_string(),
    }
}
