//! Catalog queries about roles: attributes, memberships, per-role settings,
//! what a role holds directly (ownership, grants, policies) and its open
//! sessions. Read-only; role names travel as bind parameters, never as
//! SQL text.

use std::collections::BTreeMap;

use tokio_postgres::{Client, GenericClient};

use super::classify;
use crate::authority::AuthorityError;

/// One role, as `pg_roles` shows it.
#[derive(Debug, Clone)]
pub(super) struct Role {
    pub name: String,
    pub oid: u32,
    pub login: bool,
    pub inherit: bool,
    pub conn_limit: i32,
    /// The attributes membership does not pass on that the role has:
    /// `SUPERUSER`, `CREATEDB`, `CREATEROLE`, `REPLICATION`, `BYPASSRLS`.
    pub attributes: Vec<&'static str>,
}

/// The roles a role is a member of: name → whether with ADMIN OPTION.
pub(super) type Memberships = BTreeMap<String, bool>;

/// A role's settings (`ALTER ROLE … [IN DATABASE d] SET k = v`): database
/// (`None`: every database) → parameter → value as the server stores it.
pub(super) type Settings = BTreeMap<Option<String>, BTreeMap<String, String>>;

/// Something a role holds directly rather than through a group.
#[derive(Debug, Clone)]
pub(super) struct Holding {
    /// The database it lives in; `None` for a cluster-wide object.
    pub database: Option<String>,
    /// "owns", "has privileges on", "is named in a policy on".
    pub how: &'static str,
    /// The object, when the admin connection's database can name it.
    pub object: Option<String>,
    /// In the admin connection's database, or cluster-wide.
    pub here: bool,
}

/// An open session (`pg_stat_activity`).
#[derive(Debug, Clone)]
pub(super) struct Session {
    pub pid: i32,
    pub application: String,
}

/// The role called `name`, if there is one.
pub(super) async fn role(
    c: &(impl GenericClient + Sync),
    name: &str,
) -> Result<Option<Role>, AuthorityError> {
    let row = c
        .query_opt(
            "SELECT oid, rolcanlogin, rolinherit, rolconnlimit, rolsuper, rolcreatedb, \
                    rolcreaterole, rolreplication, rolbypassrls \
             FROM pg_roles WHERE rolname = $1::text",
            &[&name],
        )
        .await
        .map_err(|e| classify(&e, &format!("reading role {name}")))?;
    Ok(row.map(|r| {
        let names = [
            "SUPERUSER",
            "CREATEDB",
            "CREATEROLE",
            "REPLICATION",
            "BYPASSRLS",
        ];
        let attributes = names
            .iter()
            .enumerate()
            .filter(|(i, _)| r.get::<_, bool>(4 + i))
            .map(|(_, n)| *n)
            .collect();
        Role {
            name: name.to_owned(),
            oid: r.get(0),
            login: r.get(1),
            inherit: r.get(2),
            conn_limit: r.get(3),
            attributes,
        }
    }))
}

/// The roles `role` is a direct member of.
pub(super) async fn memberships(
    c: &(impl GenericClient + Sync),
    role: &Role,
) -> Result<Memberships, AuthorityError> {
    // bool_or: PostgreSQL 16 may keep one grant per grantor.
    let rows = c
        .query(
            "SELECT r.rolname::text, bool_or(m.admin_option) \
             FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
             WHERE m.member = $1 GROUP BY r.rolname",
            &[&role.oid],
        )
        .await
        .map_err(|e| classify(&e, &format!("reading the memberships of {}", role.name)))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// `role`'s settings, global and per database.
pub(super) async fn settings(
    c: &(impl GenericClient + Sync),
    role: &Role,
) -> Result<Settings, AuthorityError> {
    let rows = c
        .query(
            "SELECT d.datname::text, s.setconfig \
             FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase \
             WHERE s.setrole = $1 AND (s.setdatabase = 0 OR d.oid IS NOT NULL)",
            &[&role.oid],
        )
        .await
        .map_err(|e| classify(&e, &format!("reading the settings of {}", role.name)))?;
    let mut out = Settings::new();
    for r in rows {
        let db: Option<String> = r.get(0);
        let config: Option<Vec<String>> = r.get(1);
        let entry = out.entry(db).or_default();
        for item in config.unwrap_or_default() {
            if let Some((k, v)) = item.split_once('=') {
                entry.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    out.retain(|_, m| !m.is_empty());
    Ok(out)
}

/// What `role` owns, holds privileges on, or is named in a policy of,
/// in every database of the cluster (`pg_shdepend` is shared). Objects are
/// named only in the admin connection's database and cluster-wide; the
/// others are counted by database.
pub(super) async fn holdings(
    c: &(impl GenericClient + Sync),
    role: &Role,
) -> Result<Vec<Holding>, AuthorityError> {
    let rows = c
        .query(
            "SELECT d.datname::text, s.deptype::text, \
                    CASE WHEN s.dbid = 0 OR d.datname = current_database() \
                         THEN pg_describe_object(s.classid, s.objid, s.objsubid) END, \
                    coalesce(s.dbid = 0 OR d.datname = current_database(), false) \
             FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid \
             WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = $1 \
               AND s.deptype IN ('o', 'a', 'r') \
             ORDER BY 1, 2, 3",
            &[&role.oid],
        )
        .await
        .map_err(|e| classify(&e, &format!("reading what {} holds", role.name)))?;
    Ok(rows
        .iter()
        .map(|r| Holding {
            database: r.get(0),
            how: match r.get::<_, String>(1).as_str() {
                "o" => "owns",
                "a" => "has privileges on",
                _ => "is named in a policy on",
            },
            object: r.get(2),
            here: r.get(3),
        })
        .collect())
}

/// The sessions logged in as `role`, other than this one.
pub(super) async fn sessions(c: &Client, role: &str) -> Result<Vec<Session>, AuthorityError> {
    // Not in a transaction: pg_stat_activity is a snapshot per transaction.
    let rows = c
        .query(
            "SELECT pid, coalesce(application_name, '') FROM pg_stat_activity \
             WHERE usename::text = $1::text AND pid <> pg_backend_pid() ORDER BY pid",
            &[&role],
        )
        .await
        .map_err(|e| classify(&e, &format!("reading the sessions of {role}")))?;
    Ok(rows
        .iter()
        .map(|r| Session {
            pid: r.get(0),
            application: r.get(1),
        })
        .collect())
}

/// One line per holding, at most `max`, then how many more.
pub(super) fn describe_holdings(role: &str, holdings: &[Holding], max: usize) -> String {
    let mut parts: Vec<String> = holdings
        .iter()
        .take(max)
        .map(|h| {
            let what = h.object.as_deref().unwrap_or("an object");
            match &h.database {
                Some(db) => format!("{role} {} {what} (database {db})", h.how),
                None => format!("{role} {} {what}", h.how),
            }
        })
        .collect();
    if holdings.len() > max {
        parts.push(format!("and {} more", holdings.len() - max));
    }
    parts.join("; ")
}
