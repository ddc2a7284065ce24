//! The store conformance suite: what every store implementation must do,
//! checked through the store traits only (`rotor::store::Backend` and the
//! traits under it: `Versions`, `Runs`, `Backups`, `Audit`), which is how
//! the engine uses a store. SQLite passes it in rotor's tests; the PostgreSQL
//! store must pass the same suite. A failure names the check, never a
//! value.

use std::path::Path;

use rotor::audit::NewEntry;
use rotor::secret::SecretValue;
use rotor::store::{Backend, Origin, RunKind, RunPlan, RunState, Stage, StoreError};

fn value(tag: &str) -> SecretValue {
    SecretValue::new(format!("store-conformance-{tag}-0123456789abcdef"))
}

/// One check: its name and what it does through the store traits.
type Check<'a> = (&'a str, &'a dyn Fn(&dyn Backend) -> Result<(), StoreError>);

/// Runs every check on `store` (empty when given), each inside one write
/// transaction of it (as the engine calls stores), then checks that a
/// transaction whose work fails leaves nothing behind; returns how many
/// checks ran. A failing check panics with its name.
pub fn store_suite(store: &dyn Backend) -> usize {
    let checks: Vec<Check<'_>> = vec![
        (
            "versions are numbered per secret from 1",
            &|s: &dyn Backend| {
                let a1 = s.insert_version(
                    "a",
                    &value("a1"),
                    None,
                    Stage::Current,
                    Origin::Adopted,
                    None,
                    10,
                )?;
                let a2 = s.insert_version(
                    "a",
                    &value("a2"),
                    None,
                    Stage::Pending,
                    Origin::Generated,
                    None,
                    11,
                )?;
                let b1 = s.insert_version(
                    "b",
                    &value("b1"),
                    Some("role_b"),
                    Stage::Current,
                    Origin::Generated,
                    None,
                    12,
                )?;
                assert_eq!((a1.number, a2.number, b1.number), (1, 2, 1));
                Ok(())
            },
        ),
        (
            "a value comes back as sealed, with its principal and fingerprint",
            &|s: &dyn Backend| {
                let (user, v) = s.credential("b", 1)?;
                assert_eq!(user.as_deref(), Some("role_b"));
                assert_eq!(v.fingerprint(), value("b1").fingerprint());
                let rec = s.version("b", 1)?.expect("version b/1");
                assert_eq!(rec.fingerprint, value("b1").fingerprint());
                assert!(
                    s.credential("b", 9).is_err(),
                    "a missing version is an error"
                );
                Ok(())
            },
        ),
        (
            "versions list newest first; live ones are pending, current, previous",
            &|s: &dyn Backend| {
                let numbers: Vec<u32> = s.versions("a")?.iter().map(|v| v.number).collect();
                assert_eq!(numbers, vec![2, 1]);
                s.set_stage("a", 1, Stage::Previous, Some(99))?;
                let live = s.live_versions()?;
                let a: Vec<(u32, Stage)> = live["a"].iter().map(|v| (v.number, v.stage)).collect();
                assert!(a.contains(&(2, Stage::Pending)) && a.contains(&(1, Stage::Previous)));
                assert_eq!(s.version("a", 1)?.and_then(|v| v.retire_after), Some(99));
                s.set_stage("a", 1, Stage::Retired, None)?;
                assert!(s.live_versions()?["a"].iter().all(|v| v.number != 1));
                assert!(
                    s.set_stage("a", 7, Stage::Retired, None).is_err(),
                    "no version 7"
                );
                Ok(())
            },
        ),
        (
            "only a pending version takes a minted credential",
            &|s: &dyn Backend| {
                let rec = s.replace_pending("a", 2, &value("minted"), Some("key_2"))?;
                assert_eq!(rec.fingerprint, value("minted").fingerprint());
                let (user, v) = s.credential("a", 2)?;
                assert_eq!(
                    (user.as_deref(), v.fingerprint()),
                    (Some("key_2"), value("minted").fingerprint())
                );
                assert!(
                    s.replace_pending("b", 1, &value("x"), None).is_err(),
                    "b/1 is current"
                );
                Ok(())
            },
        ),
        (
            "one open run per secret; the journal keeps its order",
            &|s: &dyn Backend| {
                let before = s.last_run_id()?;
                let run = s.begin_run(
                    RunKind::Rotate,
                    &["a".into(), "b".into()],
                    "tester",
                    Some("T-1"),
                    20,
                )?;
                assert!(run > before);
                assert!(
                    s.begin_run(RunKind::Rotate, &["b".into()], "other", None, 21)
                        .is_err(),
                    "b is held"
                );
                assert_eq!(s.open_run_for("a")?.map(|r| r.id), Some(run));
                let plan = RunPlan {
                    want_current: 2,
                    want_previous: Some(1),
                    old_current: Some(1),
                    old_previous: None,
                };
                s.plan_secret(run, "a", &plan, "digest-a")?;
                let plans = s.run_plans(run)?;
                assert_eq!(plans.len(), 1);
                assert_eq!(
                    (
                        plans[0].0.as_str(),
                        plans[0].1.want_current,
                        plans[0].2.as_str()
                    ),
                    ("a", 2, "digest-a")
                );
                for (step, phase) in [("plan", "done"), ("apply", "intent"), ("apply", "done")] {
                    s.journal(run, step, phase, "", 22)?;
                }
                let steps: Vec<(String, String)> = s
                    .journal_of(run)?
                    .into_iter()
                    .map(|e| (e.step, e.phase))
                    .collect();
                assert_eq!(steps[1], ("apply".to_owned(), "intent".to_owned()));
                assert_eq!(steps.len(), 3);
                assert!(s.open_runs()?.iter().any(|r| r.id == run));
                Ok(())
            },
        ),
        (
            "a backup comes back as put, and the first one is kept",
            &|s: &dyn Backend| {
                let run = s.open_run_for("a")?.map(|r| r.id).expect("open run");
                s.put_backup(run, Path::new("/srv/app/.env"), Some(b"A=1\n"))?;
                s.put_backup(run, Path::new("/srv/app/.env"), Some(b"A=2\n"))?;
                s.put_backup(run, Path::new("/srv/app/new.env"), None)?;
                let backups = s.backups(run)?;
                assert_eq!(backups.len(), 2);
                let env = backups
                    .iter()
                    .find(|b| b.path == Path::new("/srv/app/.env"))
                    .expect(".env");
                assert!(env.existed && env.original.as_slice() == b"A=1\n");
                assert!(backups
                    .iter()
                    .any(|b| b.path == Path::new("/srv/app/new.env") && !b.existed));
                Ok(())
            },
        ),
        (
            "finishing a run releases its secrets and drops its backups",
            &|s: &dyn Backend| {
                let run = s.open_run_for("a")?.map(|r| r.id).expect("open run");
                s.finish_run(run, RunState::Completed, None, 30)?;
                assert!(!s.run_is_open(run)?);
                assert!(s.open_run_for("b")?.is_none());
                assert!(s.backups(run)?.is_empty());
                Ok(())
            },
        ),
        (
            "the audit trail appends in order and verifies",
            &|s: &dyn Backend| {
                let before = s.audit_entries(None)?.len();
                for step in ["rotate.generate", "rotate.promote"] {
                    s.audit(&NewEntry {
                        actor: "tester",
                        secret: Some("a"),
                        version: Some(2),
                        fingerprint: Some(value("minted").fingerprint().as_str()),
                        step,
                        outcome: "ok",
                        ..Default::default()
                    })?;
                }
                let entries = s.audit_entries(Some("a"))?;
                let steps: Vec<&str> = entries.iter().map(|e| e.step.as_str()).collect();
                assert!(steps.ends_with(&["rotate.generate", "rotate.promote"]));
                assert_eq!(s.audit_entries(None)?.len(), before + 2);
                let verified = s.audit_verify()?.expect("the chain verifies");
                assert_eq!(verified.entries as usize, before + 2);
                Ok(())
            },
        ),
    ];
    let n = checks.len();
    for (name, f) in checks {
        store
            .write(f)
            .unwrap_or_else(|e| panic!("store conformance `{name}` failed: {e}"));
    }
    rolls_back(store);
    n + 1
}

/// A write transaction whose work fails is rolled back: the version it
/// inserted and the run it began are gone, and the store still writes.
fn rolls_back(store: &dyn Backend) {
    let name = "a failed write transaction leaves nothing behind";
    let before = store
        .versions("rollback")
        .and_then(|v| Ok((v.len(), store.last_run_id()?)))
        .unwrap_or_else(|e| panic!("store conformance `{name}` failed: {e}"));
    let failed: Result<(), StoreError> = store.write(|s| {
        s.insert_version(
            "rollback",
            &value("rb1"),
            None,
            Stage::Pending,
            Origin::Generated,
            None,
            40,
        )?;
        s.begin_run(RunKind::Rotate, &["rollback".to_owned()], "t", None, 40)?;
        Err(StoreError::Missing("the work failed on purpose".into()))
    });
    assert!(
        failed.is_err(),
        "store conformance `{name}`: the failure was lost"
    );
    let after = store
        .versions("rollback")
        .and_then(|v| Ok((v.len(), store.last_run_id()?)))
        .unwrap_or_else(|e| panic!("store conformance `{name}` failed: {e}"));
    assert_eq!(after, before, "store conformance `{name}`: the work stayed");
    store
        .write(|s| {
            s.insert_version(
                "rollback",
                &value("rb2"),
                None,
                Stage::Pending,
                Origin::Generated,
                None,
                41,
            )
            .map(|_| ())
        })
        .unwrap_or_else(|e| panic!("store conformance `{name}`: the store no longer writes: {e}"));
    let kept = store
        .versions("rollback")
        .unwrap_or_else(|e| panic!("store conformance `{name}` failed: {e}"));
    assert_eq!(
        kept.len(),
        before.0 + 1,
        "store conformance `{name}`: a good write after it was lost"
    );
}
