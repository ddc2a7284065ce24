//! `rotor audit verify` passes on an untouched trail and, after any single
//! changed byte in any column of a stored entry, fails naming that entry.

mod common;

use common::Harness;
use rotor_testkit::inventory::{inventory, Secret};

/// `csrf`: 32 random bytes, overlapping for 12 hours, in `.env`.
fn csrf() -> String {
    inventory(&[Secret::new("csrf")
        .random(32)
        .overlap("12h")
        .dotenv(".env", "CSRF_SIGNING_SECRET")
        .previous_var("CSRF_SIGNING_SECRET_PREVIOUS")])
}

fn trail() -> Harness {
    let mut h = Harness::new(
        &csrf(),
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

fn audit_count(h: &Harness) -> i64 {
    db(h)
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .expect("count")
}

/// Puts bytes that are not UTF-8 into a text column of entry `seq`, as a
/// flipped bit in the file would (SQLite keeps them as TEXT).
fn break_utf8(h: &Harness, seq: i64, col: &str) {
    db(h)
        .execute(
            &format!("UPDATE audit SET {col} = CAST(X'C328FF' || CAST({col} AS BLOB) AS TEXT) WHERE seq = ?1"),
            [seq],
        )
        .expect("tamper");
    let kind: String = db(h)
        .query_row(
            &format!("SELECT typeof({col}) FROM audit WHERE seq = ?1"),
            [seq],
            |r| r.get(0),
        )
        .expect("typeof");
    assert_eq!(kind, "text", "the damaged value is still stored as text");
}

#[test]
fn audit_byte_flip_that_breaks_utf8_names_the_entry() {
    let mut h = trail();
    let entries = audit_count(&h);
    for (seq, col) in [(2, "actor"), (entries, "detail"), (1, "step"), (3, "hash")] {
        let conn = db(&h);
        let original: Vec<u8> = conn
            .query_row(
                &format!("SELECT CAST({col} AS BLOB) FROM audit WHERE seq = ?1"),
                [seq],
                |r| r.get(0),
            )
            .expect("read");
        drop(conn);
        break_utf8(&h, seq, col);
        h.rotor(&["audit", "verify"])
            .expect_code(1)
            .expect_output(&format!("audit entry {seq} was altered"));
        let json = h.rotor(&["audit", "verify", "--json"]).json();
        assert_eq!(json["ok"], false);
        assert_eq!(json["entry"], seq);
        // `history` still shows the trail, damaged entry included.
        h.rotor(&["history", "csrf"]).expect_code(0);
        // A blob where text belongs is the same alteration.
        db(&h)
            .execute(
                &format!("UPDATE audit SET {col} = ?1 WHERE seq = ?2"),
                rusqlite::params![original.clone(), seq],
            )
            .expect("as blob");
        h.rotor(&["audit", "verify"])
            .expect_code(1)
            .expect_output(&format!("audit entry {seq} was altered"));
        db(&h)
            .execute(
                &format!("UPDATE audit SET {col} = CAST(?1 AS TEXT) WHERE seq = ?2"),
                rusqlite::params![original, seq],
            )
            .expect("restore");
        h.rotor(&["audit", "verify"]).expect_code(0);
    }
    h.finish();
}

#[test]
fn rotate_refuses_to_append_to_a_damaged_audit_chain() {
    let mut h = trail();
    let entries = audit_count(&h);
    // The head itself altered: every command that appends refuses, names
    // it, says what to do, and changes nothing.
    break_utf8(&h, entries, "outcome");
    let before = h.project.snapshot();
    for args in [
        &["rotate", "csrf"][..],
        &["rotate", "--all"],
        &["retire", "csrf"],
        &["rollback", "csrf"],
    ] {
        h.rotor(args)
            .expect_code(2)
            .expect_output(&format!("audit entry {entries} was altered"))
            .expect_output("rotor audit verify")
            .expect_output("restore the store directory from a backup");
        h.project
            .assert_unchanged(&before, &format!("`rotor {}`", args.join(" ")));
    }
    assert_eq!(audit_count(&h), entries, "nothing was appended");
    // An earlier entry altered as well: the message names the first one.
    db(&h)
        .execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2", [])
        .expect("tamper");
    h.rotor(&["rotate", "csrf"])
        .expect_code(2)
        .expect_output("audit entry 2 was altered");
    // The head unlinked from the entry before it (a removed entry).
    let mut h = trail();
    let entries = audit_count(&h);
    db(&h)
        .execute("DELETE FROM audit WHERE seq = ?1", [entries - 1])
        .expect("delete");
    h.rotor(&["rotate", "csrf"])
        .expect_code(2)
        .expect_output(&format!("audit entry {} is missing", entries - 1));
    h.finish();
}

/// Appending checks only the chain's head (two rows, so rotation costs the
/// same however long the trail grows); `status` and `audit verify` check
/// all of it.
#[test]
fn status_checks_the_audit_chain_head_and_audit_verify_the_whole_chain() {
    let mut h = trail();
    let last: i64 = db(&h)
        .query_row("SELECT MAX(seq) FROM audit", [], |r| r.get(0))
        .expect("head");
    assert!(last > 3, "a trail longer than the two rows of the head");
    // An older entry edited in place: status stays as cheap as the
    // trail is long (it reads the head), `audit verify` names the entry.
    db(&h)
        .execute(
            "UPDATE audit SET detail = 'nothing to see' WHERE seq = 2",
            [],
        )
        .expect("tamper");
    h.rotor(&["status"]).expect_code(0);
    h.rotor(&["audit", "verify"])
        .expect_code(1)
        .expect_output("audit entry 2 was altered");
    // The head edited: status says so, naming the first bad entry.
    db(&h)
        .execute(
            "UPDATE audit SET detail = 'nothing to see' WHERE seq = ?1",
            [last],
        )
        .expect("tamper");
    h.rotor(&["status"])
        .expect_code(1)
        .expect_output("audit entry 2 was altered");
    h.rotor(&["status", "--json"])
        .expect_code(1)
        .expect_output("audit entry 2 was altered");
    h.finish();
}
