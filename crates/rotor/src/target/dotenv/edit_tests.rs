//! Tests for `edit.rs`.

use super::*;
use proptest::prelude::*;

fn doc(s: &str) -> EnvDoc {
    EnvDoc::parse(s.as_bytes()).unwrap()
}

fn set(s: &str, var: &str, value: &str) -> String {
    let mut d = doc(s);
    d.set(var, value).unwrap();
    String::from_utf8(d.to_bytes().to_vec()).unwrap()
}

fn dotenvy_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    dotenvy::from_read_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn parse_err(s: &str) -> (usize, String) {
    match EnvDoc::parse(s.as_bytes()) {
        Err(EnvError::Parse { line, message }) => (line, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

const SAMPLE: &str = "# top\n\nexport A=1 # one\r\n  B = 'two words'  # c\nC=\"x\\ty\\n\\\"q\\\"\"\nD=\nE='multi\nline'\nF=\"l1\nG=not_a_var\"\n";

#[test]
fn parse_keeps_bytes_and_decodes_values() {
    let d = doc(SAMPLE);
    assert_eq!(&d.to_bytes()[..], SAMPLE.as_bytes());
    assert_eq!(d.vars(), ["A", "B", "C", "D", "E", "F"]);
    let got = |v| d.get(v).unwrap().to_string();
    assert_eq!(got("A"), "1");
    assert_eq!(got("B"), "two words");
    assert_eq!(got("C"), "x\ty\n\"q\"");
    assert_eq!(got("D"), "");
    assert_eq!(got("E"), "multi\nline");
    assert_eq!(got("F"), "l1\nG=not_a_var");
    assert_eq!(d.line_of("A"), Some(3));
    assert_eq!(d.line_of("F"), Some(9));
    assert!(d.get("G").is_none());
    assert_eq!(&d.raw_line("E").unwrap()[..], b"E='multi\nline'\n");
}

#[test]
fn set_changes_only_the_value_bytes() {
    let s = "# c\r\nexport  A = old  # keep\r\nB='x' # q\r\nC=\"y\"\r\n";
    assert_eq!(
        set(s, "A", "n3w"),
        "# c\r\nexport  A = n3w  # keep\r\nB='x' # q\r\nC=\"y\"\r\n"
    );
    assert_eq!(
        set(s, "B", "a b"),
        "# c\r\nexport  A = old  # keep\r\nB='a b' # q\r\nC=\"y\"\r\n"
    );
    assert_eq!(
        set(s, "C", "it's"),
        "# c\r\nexport  A = old  # keep\r\nB='x' # q\r\nC=\"it's\"\r\n"
    );
    assert_eq!(set("A=1", "A", "22"), "A=22");
}

#[test]
fn set_falls_back_to_a_quoting_that_keeps_the_meaning() {
    assert_eq!(set("A=x\n", "A", "has space!"), "A='has space!'\n");
    assert_eq!(set("A=x\n", "A", "C:\\it's"), "A=\"C:\\\\it's\"\n");
    assert_eq!(set("A=x\n", "A", "a'b\nc"), "A=\"a'b\\nc\"\n");
    assert_eq!(set("A=\"x\"\n", "A", "pa$s"), "A='pa$s'\n");
    assert_eq!(set("A='x'\n", "A", "plain"), "A='plain'\n");
    assert_eq!(set("A='x' # c\n", "A", ""), "A='' # c\n");
    assert_eq!(set("A=x # c\n", "A", ""), "A='' # c\n");
    assert_eq!(set("A=#c\n", "A", "v"), "A=v #c\n");
    assert_eq!(set("A=x\n", "A", ""), "A=\n");
    assert_eq!(set("A= x\n", "A", ""), "A= ''\n");
    assert_eq!(set("A='multi\nline'\nB=1\n", "A", "one"), "A='one'\nB=1\n");
}

#[test]
fn unrepresentable_values_are_refused_without_echoing_them() {
    for (value, what) in [
        ("a$b'c", "'$'"),
        ("${HOME}", "'${'"),
        ("x\ry", "carriage"),
        ("a\u{7}", "control"),
        ("end\\", "backslash"),
    ] {
        let mut d = doc("A=1\n");
        let err = d.set("A", value).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, EnvError::Unrepresentable { .. }), "{msg}");
        assert!(msg.contains(what) && msg.contains("A"), "{msg}");
        assert_eq!(&d.to_bytes()[..], b"A=1\n");
    }
    assert!(matches!(
        doc("").set("1X", "v"),
        Err(EnvError::InvalidName { .. })
    ));
}

#[test]
fn append_uses_dominant_line_ending_and_terminates_last_line() {
    assert_eq!(set("A=1\n", "B", "2"), "A=1\nB=2\n");
    assert_eq!(
        set("A=1\r\nB=2\r\nC=3\n", "D", "4"),
        "A=1\r\nB=2\r\nC=3\nD=4\r\n"
    );
    assert_eq!(set("A=1\r\n# end", "B", "2"), "A=1\r\n# end\r\nB=2\r\n");
    assert_eq!(set("", "B", "x y"), "B='x y'\n");
    let mut d = doc("A=1\n# z\n");
    d.set("NEW", "v").unwrap();
    assert!(d.remove("NEW"));
    assert!(!d.remove("NEW"));
    assert_eq!(&d.to_bytes()[..], b"A=1\n# z\n");
}

#[test]
fn raw_line_round_trip_restores_bytes() {
    let mut d = doc(SAMPLE);
    for var in d.vars() {
        let raw = d.raw_line(&var).unwrap();
        d.set(&var, "rotated").unwrap();
        d.set_raw_line(&var, &raw).unwrap();
    }
    assert_eq!(&d.to_bytes()[..], SAMPLE.as_bytes());
    let mut d = doc("A=1\n");
    d.set_raw_line("B", b"export B='x'").unwrap();
    assert_eq!(&d.to_bytes()[..], b"A=1\nexport B='x'");
    assert!(d.set_raw_line("A", b"B=1\n").is_err());
    assert!(d.set_raw_line("A", b"A=1\nC=2\n").is_err());
    assert!(d.set_raw_line("B", b"B=2").is_ok());
}

#[test]
fn restoring_an_unterminated_last_line_keeps_lines_added_after_it() {
    // `A` ended the file without a line break; someone added a line since.
    let mut d = doc("X=1\r\nA=new\r\nADDED=1\r\n");
    d.set_raw_line("A", b"A='old'").unwrap();
    assert_eq!(&d.to_bytes()[..], b"X=1\r\nA='old'\r\nADDED=1\r\n");
    let mut d = doc("A=\"new\nlines\"\nADDED=1");
    d.set_raw_line("A", b"A=old").unwrap();
    assert_eq!(&d.to_bytes()[..], b"A=old\nADDED=1");
}

#[test]
fn replace_in_value_keeps_quotes_escapes_and_every_other_byte() {
    let replace = |src: &str, var: &str, range: std::ops::Range<usize>, text: &str| {
        let mut d = doc(src);
        d.replace_in_value(var, range, text)
            .map(|()| String::from_utf8(d.to_bytes().to_vec()).unwrap())
    };
    // unquoted with characters `set` would quote: stays unquoted
    assert_eq!(
        replace("A=x://u:p@h/?a=b&c # note\nB=1\n", "A", 6..7, "n%20w").unwrap(),
        "A=x://u:n%20w@h/?a=b&c # note\nB=1\n"
    );
    assert_eq!(
        replace("A='x://u:p@h'\r\n", "A", 4..7, "v:q").unwrap(),
        "A='x://v:q@h'\r\n"
    );
    // offsets are in the decoded value: the escapes before them are skipped
    let src = "A=\"\\$\\\"x://u:p@h\\n\"\n";
    assert_eq!(doc(src).get("A").unwrap().as_str(), "$\"x://u:p@h\n");
    let out = replace(src, "A", 8..9, "n%22").unwrap();
    assert_eq!(out, "A=\"\\$\\\"x://u:n%22@h\\n\"\n");
    assert_eq!(doc(&out).get("A").unwrap().as_str(), "$\"x://u:n%22@h\n");
    // an empty range inserts; equal text changes nothing
    assert_eq!(replace("A=ab\n", "A", 1..1, "%").unwrap(), "A=a%b\n");
    assert_eq!(replace("A=ab\n", "A", 0..2, "ab").unwrap(), "A=ab\n");
    // refused: text that is not literal everywhere, ranges outside, absent variables
    for (text, range) in [
        ("a b", 0..1),
        ("$x", 0..1),
        ("'", 0..1),
        ("#", 0..1),
        ("a", 0..9),
    ] {
        assert!(matches!(
            replace("A=ab\n", "A", range, text),
            Err(EnvError::Unrepresentable { .. })
        ));
    }
    assert!(matches!(
        replace("A=ab\n", "B", 0..1, "x"),
        Err(EnvError::NotAssigned { .. })
    ));
    // an escaped character is replaced whole, escape and all
    assert_eq!(
        replace("A=\"\\$b\"\n", "A", 0..1, "x").unwrap(),
        "A=\"xb\"\n"
    );
}

#[test]
fn parse_errors_name_the_line_and_never_the_value() {
    assert_eq!(parse_err("A=1\nnot an assignment s3cret\n").0, 2);
    assert_eq!(parse_err("A=1\nB=\"open s3cret\nC=2\n").0, 2);
    assert_eq!(parse_err("A=1\n\nB='open\n").0, 3);
    assert_eq!(parse_err("A=it's\n").0, 1);
    assert_eq!(parse_err("A='x'y\n").0, 1);
    assert_eq!(parse_err("A=\"x\\q\"\n").0, 1);
    assert_eq!(parse_err("A=\"x\\\\\"\n").0, 1);
    assert_eq!(parse_err("A='x\\\\'\n").0, 1);
    assert_eq!(parse_err("A=1\rB=2\n").0, 1);
    assert_eq!(parse_err("export\n").0, 1);
    assert_eq!(parse_err("A=1\n\n=s3cret\n").0, 3);
    for bad in ["X=\"s3cret\\q\"", "X=s3cret'", "s3cret"] {
        assert!(!parse_err(bad).1.contains("s3cret"));
    }
    match EnvDoc::parse(b"A=1\n\xff\n") {
        Err(EnvError::Parse { line: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicates_are_rejected_at_parse_time() {
    match EnvDoc::parse(b"A=1\n# x\nexport A=2\n") {
        Err(
            e @ EnvError::Duplicate {
                first: 1,
                second: 3,
                ..
            },
        ) => assert!(e.to_string().starts_with("A is")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn debug_shows_names_not_values() {
    let out = format!("{:?}", doc("API_KEY=s3cret\n# c\n"));
    assert!(
        out.contains("API_KEY") && out.contains("lines: 2") && !out.contains("s3cret"),
        "{out}"
    );
}

#[test]
fn matches_dotenvy_on_sample() {
    let mut d = doc(SAMPLE.replace("\\t", "").as_str()); // dotenvy 0.15 rejects \t
    for (k, v) in dotenvy_pairs(&d.to_bytes()) {
        assert_eq!(d.get(&k).unwrap().as_str(), v, "{k}");
    }
    d.set("C", "q\"uo\\te\nnl").unwrap();
    let pairs = dotenvy_pairs(&d.to_bytes());
    assert!(pairs.contains(&("C".into(), "q\"uo\\te\nnl".into())));
}

// ---- generated files -------------------------------------------------

/// (raw value text as written, decoded value)
fn value() -> impl Strategy<Value = (String, String)> {
    let esc = prop_oneof![
        4 => "[A-Za-z0-9 #'=.\n]".prop_map(|c| (c.clone(), c)),
        1 => Just(("\\\\".to_string(), "\\".to_string())),
        1 => Just(("\\\"".to_string(), "\"".to_string())),
        1 => Just(("\\n".to_string(), "\n".to_string())),
    ];
    prop_oneof![
        "[A-Za-z0-9_.:/+=@%,~-]{0,12}".prop_map(|v| (v.clone(), v)),
        "[A-Za-z0-9 #\"=.\n]{0,12}".prop_map(|v| (format!("'{v}'"), v)),
        proptest::collection::vec(esc, 0..8).prop_map(|toks| {
            let (mut raw, mut dec): (String, String) = toks.into_iter().unzip();
            if raw.ends_with("\\\\") {
                raw.push('z');
                dec.push('z');
            }
            (format!("\"{raw}\""), dec)
        }),
    ]
}

#[derive(Debug, Clone)]
enum Line {
    Other(String),
    Assign {
        head: String,
        eq: &'static str,
        raw: String,
        value: String,
        tail: &'static str,
    },
}

fn line() -> impl Strategy<Value = Line> {
    let head = prop_oneof![Just(""), Just("export "), Just("  "), Just("export\t ")];
    let eq = prop_oneof![Just("="), Just(" = "), Just("= "), Just("\t=")];
    let tail = prop_oneof![
        Just(""),
        Just("  "),
        Just(" # note"),
        Just("\t#c 'q' \"x\" $Y")
    ];
    prop_oneof![
        1 => "[ \t]{0,2}".prop_map(Line::Other),
        1 => "[ ]{0,2}#[ -~]{0,20}".prop_map(Line::Other),
        3 => (head, eq, value(), tail).prop_map(|(h, eq, (raw, value), tail)| {
            let tail = if raw.is_empty() && tail.contains('#') { "" } else { tail };
            Line::Assign { head: h.to_string(), eq, raw, value, tail }
        }),
    ]
}

/// A generated file: (bytes, expected (name, value) pairs).
fn file() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    let lines = proptest::collection::vec((line(), any::<bool>(), 0..5u8), 0..12);
    (lines, any::<bool>(), any::<bool>()).prop_map(|(lines, crlf, final_nl)| {
        let (mut out, mut vars) = (String::new(), Vec::new());
        let n = lines.len();
        for (i, (l, _, flip)) in lines.into_iter().enumerate() {
            match l {
                Line::Other(s) => out.push_str(&s),
                Line::Assign {
                    head,
                    eq,
                    raw,
                    value,
                    tail,
                } => {
                    let key = format!("{}{i}", ["K", "db_", "X.y_", "_p"][i % 4]);
                    out.push_str(&format!("{head}{key}{eq}{raw}{tail}"));
                    vars.push((key, value));
                }
            }
            if i + 1 < n || final_nl {
                out.push_str(if crlf != (flip == 0) { "\r\n" } else { "\n" });
            }
        }
        if !final_nl {
            // dotenvy 0.15 fails on trailing whitespace at end of file without a newline.
            out.truncate(out.trim_end_matches([' ', '\t']).len());
        }
        (out, vars)
    })
}

fn new_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,40}",
        "[A-Za-z0-9+/]{0,40}={0,2}",
        r"[!%&(-\[\]-_a-~]{0,30}",
        "[ -~\n\t\u{e9}\u{1F600}]{0,30}",
        Just(String::new()),
    ]
}

/// The document cut into its assignments and its other lines, in order.
fn segments(d: &EnvDoc) -> Vec<(Option<String>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    let others = |out: &mut Vec<_>, b: &[u8]| {
        out.extend(
            b.split_inclusive(|&c| c == b'\n')
                .map(|l| (None, l.to_vec())),
        );
    };
    for a in &d.assignments {
        others(&mut out, &d.bytes[pos..a.span.0]);
        out.push((Some(a.key.clone()), d.bytes[a.span.0..a.span.1].to_vec()));
        pos = a.span.1;
    }
    others(&mut out, &d.bytes[pos..]);
    out
}

/// Target var, new value, the edited doc; checks invariants (a)-(c) against dotenvy.
fn check_set(src: &str, vars: &[(String, String)], var: &str, new: &str) -> Option<EnvDoc> {
    let before = doc(src);
    let mut d = doc(src);
    match d.set(var, new) {
        Err(EnvError::Unrepresentable { .. }) => {
            assert_eq!(&d.to_bytes()[..], src.as_bytes());
            return None;
        }
        r => r.unwrap(),
    }
    let strip = |segs: Vec<(Option<String>, Vec<u8>)>| -> Vec<_> {
        segs.into_iter()
            .filter(|(k, _)| k.as_deref() != Some(var))
            .map(|(_, b)| b)
            .collect()
    };
    let mut want = strip(segments(&before));
    if before.find(var).is_none() && !src.is_empty() && !src.ends_with('\n') {
        want.last_mut()
            .unwrap()
            .extend_from_slice(before.line_ending().as_bytes());
    }
    assert_eq!(strip(segments(&d)), want, "(a) other lines changed");
    let pairs = dotenvy_pairs(&d.to_bytes());
    let mut expected: Vec<(String, String)> =
        vars.iter().filter(|(k, _)| k != var).cloned().collect();
    expected.push((var.to_string(), new.to_string()));
    let mut got = pairs.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "(b) dotenvy disagrees");
    for (k, v) in &pairs {
        assert_eq!(
            d.get(k).unwrap().as_str(),
            v,
            "(c) get disagrees with dotenvy"
        );
    }
    Some(d)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_is_lossless_and_agrees_with_dotenvy((src, vars) in file()) {
        let d = doc(&src);
        prop_assert_eq!(&d.to_bytes()[..], src.as_bytes());
        prop_assert_eq!(dotenvy_pairs(src.as_bytes()), vars.clone());
        for (k, v) in &vars {
            let got = d.get(k).unwrap();
            prop_assert_eq!(got.as_str(), v.as_str());
        }
    }

    #[test]
    fn set_changes_only_the_target(
        (src, vars) in file(), pick in any::<prop::sample::Index>(), existing in any::<bool>(), new in new_value()
    ) {
        let var = if existing && !vars.is_empty() { vars[pick.index(vars.len())].0.clone() } else { "NEW_VAR".into() };
        let Some(mut d) = check_set(&src, &vars, &var, &new) else { return Ok(()) };
        match doc(&src).raw_line(&var) {
            Some(raw) => d.set_raw_line(&var, &raw).unwrap(),
            None => prop_assert!(d.remove(&var)),
        }
        let back = d.to_bytes();
        if vars.iter().any(|(k, _)| *k == var) || src.is_empty() || src.ends_with('\n') {
            prop_assert_eq!(&back[..], src.as_bytes());
        } else {
            prop_assert!(back.starts_with(src.as_bytes()));
        }
    }
}

/// Run with `cargo test python_dotenv_agrees -- --ignored`; needs `python3` with python-dotenv.
#[test]
#[ignore = "needs python3 with python-dotenv installed"]
fn python_dotenv_agrees() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let dir = tempfile::tempdir().unwrap();
    let mut runner = TestRunner::deterministic();
    let strategy = (
        file(),
        any::<prop::sample::Index>(),
        any::<bool>(),
        new_value(),
    );
    let mut expected: Vec<String> = Vec::new();
    let mut paths = Vec::new();
    for i in 0..1000 {
        let ((src, vars), pick, existing, new) = strategy.new_tree(&mut runner).unwrap().current();
        let var = if existing && !vars.is_empty() {
            vars[pick.index(vars.len())].0.clone()
        } else {
            "NEW_VAR".into()
        };
        let Some(d) = check_set(&src, &vars, &var, &new) else {
            continue;
        };
        let path = dir.path().join(format!("{i}.env"));
        std::fs::write(&path, &*d.to_bytes()).unwrap();
        for k in d.vars() {
            let hex: String = d
                .get(&k)
                .unwrap()
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect();
            expected.push(format!("{i}\t{k}\t{hex}"));
        }
        paths.push(path);
    }
    let script = "import sys\nfrom pathlib import Path\nfrom dotenv import dotenv_values\n\
        for p in sys.argv[1:]:\n    for k, v in dotenv_values(p).items():\n        \
        print(Path(p).stem, k, '-' if v is None else v.encode().hex(), sep='\\t')\n";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&paths)
        .output();
    let out = out.expect("python_dotenv_agrees needs `python3` on PATH");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python3 failed (is python-dotenv installed? `pip install python-dotenv`): {stderr}"
    );
    assert!(stderr.is_empty(), "python-dotenv warned: {stderr}");
    let got: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert!(
        expected.len() > 500,
        "too few generated assignments: {}",
        expected.len()
    );
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e, "python-dotenv disagrees (file index, var, hex value)");
    }
    assert_eq!(got.len(), expected.len());
    eprintln!(
        "python-dotenv agreed on {} assignments in {} files",
        expected.len(),
        paths.len()
    );
}

const BOM_FILE: &[u8] = b"\xEF\xBB\xBFJWT_SECRET=abc\nB=2\n";

/// The readers disagree on a leading BOM: python-dotenv 1.x keeps it as
/// part of the first name (`python_dotenv_reads_a_bom_into_the_first_name`),
/// dotenvy 0.15 skips it when it loads the environment (`Iter::load`) but
/// rejects the line when iterated, as here. No edit could mean the same to
/// all of them, so rotor refuses the file and names the BOM.
#[test]
fn env_file_with_a_bom_is_refused_naming_the_bom() {
    let iterated: Result<Vec<_>, _> = dotenvy::from_read_iter(BOM_FILE).collect();
    assert!(iterated.is_err(), "dotenvy's iterator rejects the BOM line");
    match EnvDoc::parse(BOM_FILE) {
        Err(e @ EnvError::Bom) => {
            let words = e.to_string();
            assert!(words.contains("byte order mark (BOM)"), "{words}");
            assert!(words.contains("remove it"), "{words}");
        }
        other => panic!("expected the BOM to be named, got {other:?}"),
    }
    // U+FEFF anywhere else is an ordinary character of a value.
    let d = doc("A=x\u{feff}y\n");
    assert_eq!(d.get("A").unwrap().as_str(), "x\u{feff}y");
}

/// Run with `cargo test python_dotenv_reads_a_bom -- --ignored`; needs
/// `python3` with python-dotenv.
#[test]
#[ignore = "needs python3 with python-dotenv installed"]
fn python_dotenv_reads_a_bom_into_the_first_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.env");
    std::fs::write(&path, BOM_FILE).unwrap();
    let script = "import sys\nfrom dotenv import dotenv_values\n\
        print(','.join(k.encode().hex() for k in dotenv_values(sys.argv[1])))\n";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("needs `python3` on PATH");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = String::from_utf8(out.stdout).unwrap();
    let first = keys.trim().split(',').next().unwrap_or_default();
    // python-dotenv's first name is BOM + JWT_SECRET; dotenvy's is JWT_SECRET.
    assert_eq!(first, format!("efbbbf{}", hex::encode("JWT_SECRET")));
}

/// `set` after `set`, one variable at a time: what [`EnvDoc::set_all`] must equal.
fn set_each(src: &str, edits: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    let mut d = doc(src);
    for (var, value) in edits {
        d.set(var, value).map_err(|e| e.to_string())?;
    }
    Ok(d.to_bytes().to_vec())
}

fn set_all(src: &str, edits: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    let mut d = doc(src);
    d.set_all(edits).map_err(|e| e.to_string())?;
    Ok(d.to_bytes().to_vec())
}

#[test]
fn set_all_writes_what_set_after_set_writes() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("", &[("A", "1"), ("B", "two words")]),
        ("A=1", &[("B", "x"), ("A", "y")]),
        ("A=1\r\nB=2\r\n", &[("C", "3"), ("A", "z"), ("D", "")]),
        // A multi-line value replaced by one line changes which line ending
        // is the file's: appends after it take the new one.
        (
            "A='l1\nl2\nl3'\r\nB=1\r\n",
            &[("C", "before"), ("A", "one"), ("D", "after")],
        ),
        (
            "A=\"x\" # c\nB= # c\n",
            &[("A", "y"), ("B", ""), ("E", "$x'")],
        ),
        (
            SAMPLE,
            &[("F", "f"), ("A", "a b"), ("Z", "z"), ("E", "e\nf")],
        ),
        // The same variable twice: the second sees the first's quoting.
        (
            "A='q'\n",
            &[("A", "a b"), ("A", "c"), ("B", "1"), ("B", "2")],
        ),
    ];
    for (src, edits) in cases {
        assert_eq!(
            set_all(src, edits),
            set_each(src, edits),
            "{src:?} with {edits:?}"
        );
    }
    // Errors leave the document as it was.
    let mut d = doc("A=1\n");
    assert!(d.set_all(&[("B", "2"), ("bad-name", "x")]).is_err());
    assert_eq!(&d.to_bytes()[..], b"A=1\n");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn set_all_equals_set_after_set(
        (src, vars) in file(),
        picks in proptest::collection::vec((any::<prop::sample::Index>(), any::<bool>(), new_value()), 0..6),
    ) {
        let mut edits: Vec<(String, String)> = Vec::new();
        for (i, (pick, existing, new)) in picks.into_iter().enumerate() {
            let var = if existing && !vars.is_empty() {
                vars[pick.index(vars.len())].0.clone()
            } else {
                format!("NEW_VAR_{}", i % 3)
            };
            edits.push((var, new));
        }
        let edits: Vec<(&str, &str)> = edits.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        prop_assert_eq!(set_all(&src, &edits), set_each(&src, &edits));
    }
}
