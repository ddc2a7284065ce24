//! `rotor audit verify` passes on an untouched trail and, after any single
//! changed byte in any column of a stored entry, fails naming that entry.

mod common;

use common::Harness;

const INVENTORY: &str = r#"
[[secret]]
name = "csrf"
generator = { kind = "random", bytes = 32 }
strategy = { kind = "overlap", window = "12h" }

[[secret.target]]
kind = "dotenv"
path = ".env"
var = "CSRF_SIGNING_SECRET"
previous_var = "CSRF_SIGNING_SECRET_PREVIOUS"
"#;

fn trail() -> Harness {
    let mut h = Harness::new(
        INVENTORY,
        &[(".env", "CSRF_SIGNING_SECRET=dev-csrf-secret-change-me\n")],
    );
    h.manage(
        ".env",
        &["CSRF_SIGNING_SECRET", "CSRF_SIGNING_SECRET_PREVIOUS"],
    );
    h.rotor(&["init"]).expect_code(0);
    h.rotor(&["--ticket", "SEC-42", "rotate", "csrf"])
        .expect_code(0);
    h.rotor(&["rotate", "csrf"]).expect_code(0);
    h.rotor(&["audit", "verify"])
        .expect_code(0)
        .expect_output("audit chain intact");
    h
}

fn db(h: &Harness) -> rusqlite::Connection {
    rusqlite::Connection::open(h.project.join(".rotor/rotor.db")).expect("open db")
}

#[test]
fn every_single_byte_change_is_found_and_named() {
    let mut h = trail();
    let entries: i64 = db(&h)
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .expect("count");
    assert!(
        entries >= 5,
        "init, adopt, generate, promote, generate, promote"
    );
    let columns = [
        "at",
        "actor",
        "ticket",
        "secret",
        "fingerprint",
        "step",
        "outcome",
        "detail",
        "prev_hash",
        "hash",
    ];
    let mut checked = 0;
    for seq in 1..=entries {
        for col in columns {
            let conn = db(&h);
            let original: Option<String> = conn
                .query_row(
                    &format!("SELECT {col} FROM audit WHERE seq = ?1"),
                    [seq],
                    |r| r.get(0),
                )
                .expect("read column");
            let Some(original) = original.filter(|s| !s.is_empty()) else {
                continue;
            };
            // flip one byte: the first character, to another printable one
            let mut bytes = original.clone().into_bytes();
            bytes[0] = if bytes[0] == b'x' { b'y' } else { b'x' };
            let changed = String::from_utf8(bytes).expect("ascii");
            conn.execute(
                &format!("UPDATE audit SET {col} = ?1 WHERE seq = ?2"),
                rusqlite::params![changed, seq],
            )
            .expect("tamper");
            drop(conn);
            let run = h.rotor(&["audit", "verify"]);
            run.expect_code(1)
                .expect_output(&format!("audit entry {seq} "));
            let conn = db(&h);
            conn.execute(
                &format!("UPDATE audit SET {col} = ?1 WHERE seq = ?2"),
                rusqlite::params![original, seq],
            )
            .expect("restore");
            checked += 1;
        }
    }
    assert!(checked >= entries as usize * 6, "checked {checked} changes");
    h.rotor(&["audit", "verify"]).expect_code(0);
    h.finish();
}

#[test]
fn removed_entry_is_found() {
    let mut h = trail();
    db(&h)
        .execute("DELETE FROM audit WHERE seq = 2", [])
        .expect("delete");
    h.rotor(&["audit", "verify", "--json"])
        .expect_code(1)
        .expect_output("audit entry 2 is missing");
    h.finish();
}

#[test]
fn audit_holds_ticket_actor_and_fingerprints_only() {
    let mut h = trail();
    let hist = h
        .rotor(&["--actor", "alice", "history", "csrf", "--json"])
        .expect_code(0)
        .json();
    let audit = hist["audit"].as_array().expect("audit");
    let promote = audit
        .iter()
        .find(|e| e["step"] == "rotate.promote")
        .expect("a promote entry");
    assert_eq!(promote["ticket"], "SEC-42");
    assert_eq!(promote["actor"], "test-operator");
    let fp = promote["fingerprint"].as_str().expect("fingerprint");
    assert_eq!(fp.len(), 16);
    assert!(fp.bytes().all(|b| b.is_ascii_hexdigit()));
    h.finish();
}
