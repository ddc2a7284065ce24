//! Property: rotating an overlap secret through the engine changes only its
//! two variables in an env file of any shape (comments, blank lines, quotes,
//! `export`, inline comments, CRLF, no final newline); every other line keeps
//! its bytes and order, the old value becomes the previous, dotenvy reads
//! the result, and the file ends with mode 0600.

use std::os::unix::fs::PermissionsExt;

use proptest::prelude::*;
use rotor::engine::{Actor, Engine, Options, Quiet};
use rotor::inventory;
use rotor::store::Store;

const INVENTORY: &str = r#"
[[secret]]
name = "jwt"
generator = { kind = "random", bytes = 32, encoding = "base64" }
strategy = { kind = "overlap", window = "1d" }

[[secret.target]]
kind = "dotenv"
path = "app.env"
var = "JWT_SECRET"
previous_var = "JWT_SECRET_PREVIOUS"
"#;

fn line() -> impl Strategy<Value = String> {
    let key = "[A-Z][A-Z0-9_]{0,8}".prop_filter("not managed", |k| !k.starts_with("JWT_SECRET"));
    let value = "[A-Za-z0-9_./:@+=-]{0,16}";
    prop_oneof![
        "#[ -~]{0,30}".prop_map(|c| c),
        Just(String::new()),
        (key.clone(), value).prop_map(|(k, v)| format!("{k}={v}")),
        (key.clone(), value).prop_map(|(k, v)| format!("export {k}={v}")),
        (key.clone(), value).prop_map(|(k, v)| format!("{k}='{v}'")),
        (key.clone(), value).prop_map(|(k, v)| format!("{k}=\"{v}\"")),
        (key, value).prop_map(|(k, v)| format!("{k}={v} # note")),
    ]
}

fn env_file() -> impl Strategy<Value = (Vec<String>, Option<(usize, String)>, bool, bool)> {
    (
        proptest::collection::vec(line(), 0..12),
        proptest::option::of((0usize..12, "[A-Za-z0-9_-]{8,24}")),
        any::<bool>(), // CRLF
        any::<bool>(), // final newline
    )
}

fn render(lines: &[String], crlf: bool, final_newline: bool) -> String {
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut out = lines.join(eol);
    if final_newline && !lines.is_empty() {
        out.push_str(eol);
    }
    out
}

/// Lines with their terminators, minus the two managed variables.
fn others(text: &str) -> Vec<String> {
    text.split_inclusive('\n')
        .filter(|l| !l.starts_with("JWT_SECRET"))
        .map(str::to_owned)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn rotate_changes_only_the_managed_lines((lines, jwt, crlf, final_nl) in env_file()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut lines = lines;
        // de-duplicate keys: a key assigned twice is refused, by design
        let mut seen = std::collections::HashSet::new();
        lines.retain(|l| {
            let k = l.trim_start_matches("export ").split('=').next().unwrap_or("").to_owned();
            !l.contains('=') || l.starts_with('#') || seen.insert(k)
        });
        if let Some((at, v)) = &jwt {
            let at = (*at).min(lines.len());
            lines.insert(at, format!("JWT_SECRET={v}"));
        }
        let original = render(&lines, crlf, final_nl);
        let env = dir.path().join("app.env");
        std::fs::write(&env, &original).expect("write env");
        std::fs::write(dir.path().join("rotor.toml"), INVENTORY).expect("write inventory");

        let inv = inventory::load(&dir.path().join("rotor.toml")).expect("inventory");
        let (store, _) = Store::init(&inv.store.path).expect("init");
        let actor = Actor { name: "prop".into(), ticket: None };
        let mut engine = Engine::new(inv, store, actor, Options::default(), &Quiet);
        engine
            .rotate(&["jwt".to_owned()])
            .and_then(|r| r.into_result())
            .expect("rotate");

        let after = String::from_utf8(std::fs::read(&env).expect("read")).expect("utf8");
        // every other line, in order, byte for byte; the previous variable is
        // always appended, so a last line without a terminator gains one
        // (a file with no line break at all has no line ending to follow: LF)
        let eol = if crlf && original.contains('\n') { "\r\n" } else { "\n" };
        let mut expected = others(&original);
        if let Some(last) = expected.last_mut() {
            if !last.ends_with('\n') {
                last.push_str(eol);
            }
        }
        prop_assert_eq!(expected, others(&after));
        let mode = std::fs::metadata(&env).expect("stat").permissions().mode() & 0o777;
        prop_assert_eq!(mode, 0o600);
        let vars: std::collections::HashMap<String, String> = dotenvy::from_path_iter(&env)
            .expect("dotenvy reads it")
            .map(|r| r.expect("item"))
            .collect();
        let new = vars.get("JWT_SECRET").expect("new value");
        prop_assert_eq!(new.len(), 44);
        match &jwt {
            Some((_, old)) => prop_assert_eq!(vars.get("JWT_SECRET_PREVIOUS"), Some(old)),
            None => prop_assert_eq!(vars.get("JWT_SECRET_PREVIOUS").map(String::as_str), Some("")),
        }
        if let Some((_, old)) = &jwt {
            prop_assert_ne!(new, old);
        }
    }
}
