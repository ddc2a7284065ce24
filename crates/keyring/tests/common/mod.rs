//! What the keyring's test files share: a ring from test values, and the
//! recorded vectors in `tests/vectors/` with their field accessors.
#![allow(dead_code)]

use rotor_keyring::Keyring;
use serde_json::Value;

/// A ring of test values, newest first.
pub fn ring(values: &[&str]) -> Keyring {
    Keyring::from_list("TEST_KEY", &values.join(",")).expect("test ring")
}

/// `tests/vectors/<name>.json`.
pub fn vectors(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// A string field of a vector.
pub fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("field {field} in {v}"))
}

/// The ring a vector was made under (its `ring` array, newest first).
pub fn ring_of(v: &Value) -> Keyring {
    let values: Vec<&str> = v["ring"]
        .as_array()
        .expect("ring")
        .iter()
        .map(|k| k.as_str().expect("key"))
        .collect();
    ring(&values)
}

/// Runs a Python check over `tests/vectors/<name>.json` (the path is its
/// first argument) and fails with Python's stderr unless it exits 0.
pub fn python_checks_vectors(script: &str, name: &str) {
    let path = format!("{}/tests/vectors/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .args(["-c", script, &path])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}
