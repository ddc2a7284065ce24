//! Conformance suites for the step contract: every [`Target`] and every
//! [`Authority`] rotor ships must pass the same checks (idempotency, undo
//! after a partial apply, retire twice, other bytes kept). A failure names
//! the check and the sample, never a value.

use rotor::authority::{Acceptance, Authority, Credential};
use rotor::secret::SecretValue;
use rotor::target::{Desired, Target};

fn value(tag: &str) -> SecretValue {
    SecretValue::new(format!("conformance-{tag}-value-0123456789"))
}

fn fp(v: &Option<SecretValue>) -> Option<String> {
    v.as_ref().map(|v| v.fingerprint().to_string())
}

/// Runs every target check on each sample file (its bytes before rotor ever
/// touched it). `foreign_edit` changes the file somewhere the target does not
/// own (as another program would), to prove undo keeps that change.
/// Returns how many checks ran.
pub fn target_suite(
    target: &dyn Target,
    samples: &[&[u8]],
    foreign_edit: impl Fn(&[u8]) -> Vec<u8>,
) -> usize {
    let (a, b) = (value("a"), value("b"));
    let deliver = Desired {
        current: &a,
        previous: Some(&b),
        user: Some("conformance_user"),
    };
    let retire = Desired {
        current: &a,
        previous: None,
        user: Some("conformance_user"),
    };
    let mut checks = 0;
    for (i, original) in samples.iter().enumerate() {
        let name = format!("{} sample {i}", target.describe());
        let render = |bytes: &[u8], d: Desired<'_>| {
            target
                .render(bytes, d)
                .unwrap_or_else(|e| panic!("{name}: render failed: {e}"))
                .to_vec()
        };

        // deliver is idempotent and reads back
        let once = render(original, deliver);
        assert!(
            render(&once, deliver) == once,
            "{name}: delivering twice differs from once"
        );
        let cur = target
            .current_for(&once, deliver.user)
            .expect("read current");
        assert_eq!(
            fp(&cur),
            fp(&Some(a.duplicate())),
            "{name}: current after deliver"
        );
        let prev = target.previous(&once).expect("read previous");
        assert!(
            prev.is_none() || fp(&prev) == fp(&Some(b.duplicate())),
            "{name}: previous after deliver is neither absent nor the delivered one"
        );
        // a target that carries the login carries the delivered one
        let user = target.current_user(&once).expect("read user");
        assert!(
            user.is_none() || user.as_deref() == deliver.user,
            "{name}: user after deliver is neither absent nor the delivered one"
        );
        checks += 4;

        // retire twice equals once, and drops the previous
        let retired = render(&once, retire);
        assert!(
            render(&retired, retire) == retired,
            "{name}: retiring twice differs from once"
        );
        assert!(
            target.previous(&retired).expect("read").is_none(),
            "{name}: previous survives retire"
        );
        assert_eq!(
            fp(&target.current_for(&retired, retire.user).expect("read")),
            fp(&Some(a.duplicate())),
            "{name}: retire changed current"
        );
        checks += 3;

        // undo after a partial apply (nothing delivered yet) changes nothing
        let untouched = target
            .restore(original, original)
            .expect("restore")
            .to_vec();
        assert!(
            untouched == *original,
            "{name}: undo of nothing changed the file"
        );
        checks += 1;

        // undo after deliver brings back the original values
        let undone = target.restore(&once, original).expect("restore").to_vec();
        assert_eq!(
            fp(&target.current_for(&undone, deliver.user).expect("read")),
            fp(&target.current_for(original, deliver.user).expect("read")),
            "{name}: undo did not bring back the current value"
        );
        assert_eq!(
            fp(&target.previous(&undone).expect("read")),
            fp(&target.previous(original).expect("read")),
            "{name}: undo did not bring back the previous value"
        );
        assert_eq!(
            target.current_user(&undone).expect("read user"),
            target.current_user(original).expect("read user"),
            "{name}: undo did not bring back the user"
        );
        // and undoing twice equals once
        let twice = target.restore(&undone, original).expect("restore").to_vec();
        assert!(twice == undone, "{name}: undoing twice differs from once");
        checks += 4;

        // undo keeps what someone else wrote meanwhile
        let edited = foreign_edit(&once);
        let undone_edited = target.restore(&edited, original).expect("restore").to_vec();
        assert!(
            undone_edited == foreign_edit(&undone),
            "{name}: undo lost a change made elsewhere in the file"
        );
        checks += 1;
    }
    checks
}

/// Runs every authority check, with `old_user`/`new_user` as the logins of
/// the old and new credential (the same role for a cutover, the two roles
/// of an alternating pair, `None` for a bare secret). The authority must
/// accept `old` (with `old_user`) when the suite starts. Returns how many
/// checks ran.
pub fn authority_suite(
    auth: &dyn Authority,
    old_user: Option<&str>,
    new_user: Option<&str>,
) -> usize {
    let (old_v, new_v) = (value("old"), value("new"));
    let old = Credential::new(old_user, &old_v);
    let new = Credential::new(new_user, &new_v);
    let name = auth.name();
    let accepted = |c: Credential<'_>| auth.verify(c).expect("verify");
    let checked = accepted(old) == Acceptance::Accepted;

    // undo after a partial apply (nothing applied) succeeds
    auth.undo(new, Some(old))
        .unwrap_or_else(|e| panic!("{name}: undo before apply failed: {e}"));
    // apply twice equals once
    auth.apply(new, Some(old))
        .unwrap_or_else(|e| panic!("{name}: apply failed: {e}"));
    auth.apply(new, Some(old))
        .unwrap_or_else(|e| panic!("{name}: applying twice failed: {e}"));
    if checked {
        assert_eq!(
            accepted(new),
            Acceptance::Accepted,
            "{name}: refuses the new value after apply"
        );
    }
    // undo twice equals once: the new value is refused, the old accepted
    auth.undo(new, Some(old))
        .unwrap_or_else(|e| panic!("{name}: undo failed: {e}"));
    auth.undo(new, Some(old))
        .unwrap_or_else(|e| panic!("{name}: undoing twice failed: {e}"));
    if checked {
        assert_eq!(
            accepted(new),
            Acceptance::Refused,
            "{name}: accepts the new value after undo"
        );
        assert_eq!(
            accepted(old),
            Acceptance::Accepted,
            "{name}: refuses the old value after undo"
        );
    }
    // retire twice is harmless, and the retired value is refused
    auth.apply(new, Some(old)).expect("apply again");
    auth.retire(old, new)
        .unwrap_or_else(|e| panic!("{name}: retire failed: {e}"));
    auth.retire(old, new)
        .unwrap_or_else(|e| panic!("{name}: retiring twice failed: {e}"));
    if checked {
        assert_eq!(
            accepted(old),
            Acceptance::Refused,
            "{name}: accepts a retired value"
        );
        assert_eq!(
            accepted(new),
            Acceptance::Accepted,
            "{name}: refuses the live value after retire"
        );
    }
    9
}
