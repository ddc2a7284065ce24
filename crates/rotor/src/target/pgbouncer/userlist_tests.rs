use proptest::prelude::*;

use super::*;

fn set(bytes: &[u8], user: &str, password: &str) -> Vec<u8> {
    let mut u = Userlist::parse(bytes).unwrap();
    u.set(user, password).unwrap();
    u.to_bytes().to_vec()
}

#[test]
fn parse_keeps_every_byte() {
    for f in [
        &b""[..],
        b";; comment\n\n\"a\" \"x\"\n",
        b"\"a\" \"x\"\r\n; c\r\n\"b\"  \"SCRAM-SHA-256$4096:abc\"  extra\r\n",
        b"\"a\" \"x\"",
        b"   \"a\"\t\"x\"\n",
    ] {
        assert_eq!(Userlist::parse(f).unwrap().to_bytes().as_slice(), f);
    }
}

#[test]
fn reads_doubled_quotes() {
    let u = Userlist::parse(b"\"o\"\"k\" \"p\"\"w\"\"\"\n").unwrap();
    assert_eq!(u.password("o\"k").unwrap().as_str(), "p\"w\"");
    assert!(u.password("ok").is_none());
}

#[test]
fn set_replaces_only_that_line() {
    let f = b"; users\n\"admin\" \"adm\"\n\"app_blue\" \"old\"\n\"app_green\" \"g\"\n";
    let out = set(f, "app_blue", "new\"pw");
    assert_eq!(
        out,
        b"; users\n\"admin\" \"adm\"\n\"app_blue\" \"new\"\"pw\"\n\"app_green\" \"g\"\n"
    );
    assert_eq!(
        Userlist::parse(&out)
            .unwrap()
            .password("app_blue")
            .unwrap()
            .as_str(),
        "new\"pw"
    );
}

#[test]
fn set_appends_with_the_file_line_ending() {
    assert_eq!(
        set(b"\"a\" \"x\"\r\n", "b", "y"),
        b"\"a\" \"x\"\r\n\"b\" \"y\"\r\n"
    );
    assert_eq!(set(b"\"a\" \"x\"", "b", "y"), b"\"a\" \"x\"\n\"b\" \"y\"\n");
    assert_eq!(set(b"", "b", "y"), b"\"b\" \"y\"\n");
}

#[test]
fn refuses_line_breaks_and_broken_entries() {
    let mut u = Userlist::parse(b"").unwrap();
    assert!(matches!(
        u.set("a", "x\ny"),
        Err(UserlistError::Unrepresentable { .. })
    ));
    let e = Userlist::parse(b"; ok\n\"a\" \"unterminated\n")
        .err()
        .unwrap();
    assert!(e.to_string().contains("line 2"), "{e}");
    assert!(!e.to_string().contains("unterminated\""), "{e}");
    assert!(Userlist::parse(b"\"a\"\n").is_err());
}

#[test]
fn set_raw_restores_and_removes() {
    let before = Userlist::parse(b"\"a\" \"x\"\n\"b\" \"y\"\n").unwrap();
    let mut now = Userlist::parse(b"\"a\" \"x2\"\n\"b\" \"y\"\n\"c\" \"z\"\n").unwrap();
    now.set_raw("a", &before.raw_lines("a"));
    now.set_raw("c", &before.raw_lines("c"));
    assert_eq!(now.to_bytes().as_slice(), b"\"a\" \"x\"\n\"b\" \"y\"\n");
}

fn field() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_\" $;#-]{0,12}"
}

fn file() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        "[;#][ -~]{0,10}".prop_map(String::from),
        Just(String::new()),
        (field(), field()).prop_map(|(u, p)| {
            let mut v = Vec::new();
            quote(&u, &mut v);
            v.push(b' ');
            quote(&p, &mut v);
            String::from_utf8(v).unwrap()
        }),
    ];
    (
        proptest::collection::vec(line, 0..6),
        prop_oneof![Just("\n"), Just("\r\n")],
        any::<bool>(),
    )
        .prop_map(|(lines, nl, trailing)| {
            let mut s = lines.join(nl);
            if trailing && !s.is_empty() {
                s.push_str(nl);
            }
            s.into_bytes()
        })
}

proptest! {
    #[test]
    fn render_round_trips_and_keeps_other_lines(f in file(), user in field(), pw in field()) {
        let once = set(&f, &user, &pw);
        // idempotent
        prop_assert_eq!(set(&once, &user, &pw), once.clone());
        // reads back
        let parsed = Userlist::parse(&once).unwrap();
        let got = parsed.password(&user).unwrap();
        prop_assert_eq!(got.as_str(), pw.as_str());
        // every other line kept byte for byte
        let others = |b: &[u8]| {
            let u = Userlist::parse(b).unwrap();
            u.lines
                .iter()
                .enumerate()
                .filter(|(i, l)| !matches!(entry(&l.text, i + 1), Ok(Some((ref n, _))) if *n == user))
                .map(|(_, l)| l.text.to_vec())
                .collect::<Vec<_>>()
        };
        prop_assert_eq!(others(&f), others(&once));
        // and restore gives back the user's lines as they were
        let mut undone = Userlist::parse(&once).unwrap();
        let before = Userlist::parse(&f).unwrap();
        undone.set_raw(&user, &before.raw_lines(&user));
        let undone_bytes = undone.to_bytes().to_vec();
        let undone = Userlist::parse(&undone_bytes).unwrap();
        prop_assert_eq!(
            undone.raw_lines(&user).iter().map(|l| l.to_vec()).collect::<Vec<_>>(),
            before.raw_lines(&user).iter().map(|l| l.to_vec()).collect::<Vec<_>>()
        );
        prop_assert_eq!(others(&f), others(&undone_bytes));
        // restoring the original onto itself changes nothing
        let mut same = Userlist::parse(&f).unwrap();
        same.set_raw(&user, &before.raw_lines(&user));
        prop_assert_eq!(same.to_bytes().to_vec(), f);
    }
}
