//! Making one role like another: the memberships and settings the idle
//! role of an alternating pair must share with the live one, the
//! `GRANT`/`REVOKE`/`ALTER ROLE … SET`/`RESET` that get it there, and the
//! differences that remain (for the read-back after `apply`, and for
//! `drift`).

use tokio_postgres::GenericClient;

use super::roles::{Memberships, Settings};
use super::{classify, classify_needing, quote_ident, quote_name, setconfig};
use crate::authority::AuthorityError;

/// The memberships the idle role must have: the live role's, plus the
/// group. When the live role is the group itself (the conversion of a
/// single login role), only the group: its privileges come through it.
pub(super) fn wanted_memberships(live: &Memberships, group: &str, conversion: bool) -> Memberships {
    let mut want = if conversion {
        Memberships::new()
    } else {
        live.clone()
    };
    want.entry(group.to_owned()).or_insert(false);
    want
}

/// Grants what `role` lacks of `want` and revokes what it has beyond
/// (ADMIN OPTION included).
pub(super) async fn memberships(
    c: &(impl GenericClient + Sync),
    role: &str,
    have: &Memberships,
    want: &Memberships,
) -> Result<(), AuthorityError> {
    let role_q = quote_ident(role)?;
    let mut sql = Vec::new();
    for (r, admin) in want {
        let r_q = quote_ident(r)?;
        match have.get(r) {
            Some(had) if had == admin => {}
            Some(true) => sql.push(format!("REVOKE ADMIN OPTION FOR {r_q} FROM {role_q}")),
            _ if *admin => sql.push(format!("GRANT {r_q} TO {role_q} WITH ADMIN OPTION")),
            _ => sql.push(format!("GRANT {r_q} TO {role_q}")),
        }
    }
    for r in have.keys().filter(|r| !want.contains_key(*r)) {
        sql.push(format!("REVOKE {} FROM {role_q}", quote_ident(r)?));
    }
    for s in sql {
        c.batch_execute(&s)
            .await
            .map_err(|e| classify_needing(&e, &s, "CREATEROLE (or ADMIN OPTION on that role)"))?;
    }
    Ok(())
}

/// Sets on `role` every setting of `want` it lacks or has otherwise, and
/// resets the ones `want` does not have, per database.
pub(super) async fn settings(
    c: &(impl GenericClient + Sync),
    role: &str,
    have: &Settings,
    want: &Settings,
) -> Result<(), AuthorityError> {
    let role_q = quote_ident(role)?;
    let empty = Default::default();
    let databases = have
        .keys()
        .chain(want.keys())
        .collect::<std::collections::BTreeSet<_>>();
    for db in databases {
        let scope = match db {
            Some(d) => format!(
                "ALTER ROLE {role_q} IN DATABASE {}",
                quote_name("database", d)?
            ),
            None => format!("ALTER ROLE {role_q}"),
        };
        let (h, w) = (
            have.get(db).unwrap_or(&empty),
            want.get(db).unwrap_or(&empty),
        );
        let place = match db {
            Some(d) => format!(" in database {d}"),
            None => String::new(),
        };
        // (statement, what to call it in an error: never the value, which
        // may be anything an application keeps in a custom parameter)
        let mut sql = Vec::new();
        for (k, v) in w {
            if h.get(k) != Some(v) {
                sql.push((
                    format!("{scope} SET {}", setconfig::assignment(k, v)?),
                    format!("ALTER ROLE {role} SET {k}{place}"),
                ));
            }
        }
        for k in h.keys().filter(|k| !w.contains_key(*k)) {
            sql.push((
                format!("{scope} RESET {}", setconfig::parameter(k)?),
                format!("ALTER ROLE {role} RESET {k}{place}"),
            ));
        }
        for (s, step) in sql {
            c.batch_execute(&s).await.map_err(|e| {
                classify_needing(
                    &e,
                    &step,
                    "CREATEROLE (and superuser for a superuser-only parameter)",
                )
            })?;
        }
    }
    Ok(())
}

/// Sentences for every way `role`'s memberships and settings differ from
/// what it should have (`want_*`, taken from `like`). Settings are named,
/// their values never shown.
pub(super) fn differences(
    role: &str,
    like: &str,
    have_m: &Memberships,
    want_m: &Memberships,
    have_s: &Settings,
    want_s: &Settings,
) -> Vec<String> {
    let mut out = Vec::new();
    for (r, admin) in want_m {
        match have_m.get(r) {
            None => out.push(format!("{role} is not a member of {r}, unlike {like}")),
            Some(a) if a != admin => out.push(format!(
                "{role} is a member of {r} {} ADMIN OPTION, unlike {like}",
                if *a { "with" } else { "without" }
            )),
            Some(_) => {}
        }
    }
    for r in have_m.keys().filter(|r| !want_m.contains_key(*r)) {
        out.push(format!("{role} is a member of {r}, unlike {like}"));
    }
    let empty = Default::default();
    for db in have_s
        .keys()
        .chain(want_s.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let place = match db {
            Some(d) => format!(" in database {d}"),
            None => String::new(),
        };
        let (h, w) = (
            have_s.get(db).unwrap_or(&empty),
            want_s.get(db).unwrap_or(&empty),
        );
        for (k, v) in w {
            match h.get(k) {
                None => out.push(format!("{like} sets {k}{place} and {role} does not")),
                Some(x) if x != v => {
                    out.push(format!("{role} and {like} set {k}{place} differently"))
                }
                Some(_) => {}
            }
        }
        for k in h.keys().filter(|k| !w.contains_key(*k)) {
            out.push(format!("{role} sets {k}{place} and {like} does not"));
        }
    }
    out
}

/// `GRANT group TO role`, unless it already is a member.
pub(super) async fn join_group(
    c: &(impl GenericClient + Sync),
    role: &str,
    have: &Memberships,
    group: &str,
) -> Result<(), AuthorityError> {
    if have.contains_key(group) {
        return Ok(());
    }
    let s = format!("GRANT {} TO {}", quote_ident(group)?, quote_ident(role)?);
    c.batch_execute(&s).await.map_err(|e| classify(&e, &s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(items: &[(&str, bool)]) -> Memberships {
        items.iter().map(|(r, a)| (r.to_string(), *a)).collect()
    }

    #[test]
    fn the_idle_role_wants_the_live_memberships_and_the_group() {
        let live = m(&[("app", false), ("reporting", true)]);
        assert_eq!(wanted_memberships(&live, "app", false), live);
        assert_eq!(
            wanted_memberships(&m(&[("reporting", false)]), "app", false),
            m(&[("app", false), ("reporting", false)])
        );
        // Conversion: the live role is the group; only the group.
        assert_eq!(
            wanted_memberships(&m(&[("reporting", false)]), "app", true),
            m(&[("app", false)])
        );
    }

    #[test]
    fn differences_name_parameters_not_values() {
        let mut want_s = Settings::new();
        want_s
            .entry(None)
            .or_default()
            .insert("search_path".into(), "secretish".into());
        want_s
            .entry(Some("db1".into()))
            .or_default()
            .insert("work_mem".into(), "64MB".into());
        let mut have_s = Settings::new();
        have_s
            .entry(None)
            .or_default()
            .insert("search_path".into(), "other".into());
        have_s
            .entry(None)
            .or_default()
            .insert("statement_timeout".into(), "1s".into());
        let d = differences(
            "app_green",
            "app_blue",
            &m(&[("extra", false)]),
            &m(&[("app", false)]),
            &have_s,
            &want_s,
        );
        assert_eq!(
            d,
            vec![
                "app_green is not a member of app, unlike app_blue",
                "app_green is a member of extra, unlike app_blue",
                "app_green and app_blue set search_path differently",
                "app_green sets statement_timeout and app_blue does not",
                "app_blue sets work_mem in database db1 and app_green does not",
            ]
        );
        assert!(!d.iter().any(|s| s.contains("secretish")));
    }
}
