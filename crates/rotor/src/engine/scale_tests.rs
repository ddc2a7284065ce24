//! Linear cost: a command over many secrets in a few env files reads and
//! parses each file a fixed number of times, however many secrets it holds
//! (counted, not timed; the timing is in `crates/cli/benches/scale.rs`).

use std::cell::Cell;
use std::fmt::Write as _;

use crate::engine::drift::CheckState;
use crate::engine::{plan, Actor, Engine, Options, Quiet};
use crate::inventory::SecretSpec;
use crate::store::Store;
use crate::target::dotenv::edit::PARSES;

const SECRETS: usize = 300;
const FILES: usize = 3;

/// `f`'s result and how many env files this thread parsed meanwhile.
fn parses<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = PARSES.with(Cell::get);
    let out = f();
    (out, PARSES.with(Cell::get) - before)
}

#[test]
fn linear_cost_each_target_file_is_parsed_a_fixed_number_of_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut inv = String::new();
    let mut envs = vec![String::from("# many secrets\nAPP_ENV=test\n"); FILES];
    for i in 0..SECRETS {
        let f = i % FILES;
        write!(
            inv,
            "[[secret]]\nname = \"s{i}\"\ngenerator = {{ kind = \"random\", bytes = 16 }}\n\
             strategy = {{ kind = \"overlap\", window = \"1d\" }}\n[[secret.target]]\nkind = \"dotenv\"\n\
             path = \"env{f}.env\"\nvar = \"S{i}\"\nprevious_var = \"S{i}_PREVIOUS\"\n\n"
        )
        .unwrap();
        write!(envs[f], "S{i}=placeholder-{i}\nS{i}_PREVIOUS=\n").unwrap();
    }
    std::fs::write(dir.path().join("rotor.toml"), inv).unwrap();
    for (f, text) in envs.iter().enumerate() {
        std::fs::write(dir.path().join(format!("env{f}.env")), text).unwrap();
    }
    let inv = crate::inventory::load(&dir.path().join("rotor.toml")).unwrap();
    let (store, _) = Store::init(&inv.store.path).unwrap();
    let actor = Actor {
        name: "test".into(),
        ticket: None,
    };
    let mut engine = Engine::new(inv, store, actor, Options::default(), &Quiet);
    let names: Vec<String> = (0..SECRETS).map(|i| format!("s{i}")).collect();

    let specs: Vec<&SecretSpec> = engine.inventory().secrets.iter().collect();
    let (plans, n) = parses(|| plan::plan(Some(engine.store()), &specs).unwrap());
    assert_eq!(plans.len(), SECRETS);
    assert!(n <= FILES, "plan parsed the env files {n} times");

    // The first rotation adopts the values in the files; the second is
    // steady state. Reading before: once per file; delivering: once to
    // edit, once to check the result.
    for round in ["first", "second"] {
        let (report, n) = parses(|| engine.rotate(&names).unwrap());
        assert!(report.failure.is_none(), "{round}: {:?}", report.failure);
        assert_eq!(report.outcomes.len(), SECRETS);
        assert!(
            report.outcomes.iter().all(|o| o.action == "rotated"),
            "{round}: {:?}",
            report.outcomes.iter().find(|o| o.action != "rotated")
        );
        assert!(
            n <= 3 * FILES,
            "{round} rotation parsed the env files {n} times"
        );
    }

    let (reports, n) = parses(|| engine.check_drift(&[], false).unwrap());
    assert_eq!(reports.len(), SECRETS);
    assert!(reports.iter().all(|r| r.state() == CheckState::Ok));
    assert!(n <= FILES, "verify parsed the env files {n} times");
}
