use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::*;

fn v(s: &str) -> SecretValue {
    SecretValue::new(s.to_owned())
}

/// Panics if any `MIN_FORM`-byte piece of `value` shows in `text`.
fn assert_no_piece(text: &str, value: &str, what: &str) {
    for w in value.as_bytes().windows(MIN_FORM) {
        let piece = String::from_utf8_lossy(w);
        assert!(
            !text.contains(piece.as_ref()),
            "{what}: a piece of the value shows: {text}"
        );
    }
}

/// A value with every character class the encodings treat differently.
const AWKWARD: &str = "p@ss w/rd+\"q\\1=é~_";

/// The spellings written independently of [`forms`], as a consumer or a
/// target would.
fn spellings(value: &str) -> Vec<(&'static str, String)> {
    let json = serde_json::to_string(value).expect("json");
    vec![
        ("raw", value.to_owned()),
        (
            "percent (full)",
            utf8_percent_encode(value, NON_ALPHANUMERIC).to_string(),
        ),
        (
            "percent (url target)",
            crate::target::dotenv::url::encode(value).to_string(),
        ),
        (
            "form-encoded",
            crate::target::dotenv::url::encode(value).replace("%20", "+"),
        ),
        ("json", json[1..json.len() - 1].to_owned()),
        ("json with \\/", json[1..json.len() - 1].replace('/', "\\/")),
        ("base64", STANDARD.encode(value)),
        ("base64 unpadded", STANDARD_NO_PAD.encode(value)),
        ("base64url", URL_SAFE.encode(value)),
        ("base64url unpadded", URL_SAFE_NO_PAD.encode(value)),
        ("hex", hex::encode(value)),
        ("HEX", hex::encode_upper(value)),
    ]
}

#[test]
fn every_encoding_of_a_value_is_redacted() {
    let value = v(AWKWARD);
    let r = Redactor::new([&value]);
    let fp = value.fingerprint().to_string();
    for (what, spelled) in spellings(AWKWARD) {
        let text = format!("before {spelled} after");
        let out = r.redact(&text);
        assert!(!out.contains(&spelled), "{what}: {out}");
        assert_eq!(
            out,
            format!("before [REDACTED fp={fp}] after"),
            "{what} is replaced whole"
        );
    }
}

#[test]
fn a_generated_keys_other_encodings_are_redacted() {
    // A base64 key written as hex (or base64url) elsewhere.
    let bytes: Vec<u8> = (0u8..32)
        .map(|b| b.wrapping_mul(37).wrapping_add(11))
        .collect();
    let key = v(&STANDARD.encode(&bytes));
    let r = Redactor::new([&key]);
    for spelled in [
        hex::encode(&bytes),
        URL_SAFE_NO_PAD.encode(&bytes),
        STANDARD_NO_PAD.encode(&bytes),
    ] {
        let out = r.redact(&format!("k={spelled};"));
        assert!(
            !out.contains(&spelled) && out.contains("[REDACTED fp="),
            "{out}"
        );
    }
}

#[test]
fn a_value_inside_a_longer_base64_text_is_redacted_at_every_alignment() {
    let value = "s3cret-Value-0123456789";
    let r = Redactor::new([&v(value)]);
    for user in ["u", "us", "use", "user"] {
        for after in ["", "x", "xy", "xyz"] {
            let basic = STANDARD.encode(format!("{user}:{value}{after}"));
            let out = r.redact(&format!("Authorization: Basic {basic}"));
            assert!(out.contains("[REDACTED fp="), "{user}/{after}: {out}");
            // what is left decodes to no piece of the value
            let left: String = out
                .split(['[', ']', ' '])
                .filter(|p| !p.contains("fp="))
                .collect();
            for part in left.split(':') {
                let decoded = STANDARD_NO_PAD
                    .decode(part.trim_end_matches('='))
                    .unwrap_or_default();
                assert_no_piece(&String::from_utf8_lossy(&decoded), value, "decoded rest");
            }
            assert!(!out.contains(&basic[8..16]), "{user}/{after}: {out}");
        }
    }
}

#[test]
fn overlapping_and_nested_values_leave_no_fragment() {
    let a = "abcdefgh1234";
    let b = "1234WXYZqrst";
    let c = "efgh12";
    let (va, vb, vc) = (v(a), v(b), v(c));
    let r = Redactor::new([&va, &vb, &vc]);
    let out = r.redact("x abcdefgh1234WXYZqrst y");
    for s in [a, b, c] {
        assert_no_piece(&out, s, "overlap");
    }
    assert_eq!(out.matches("[REDACTED fp=").count(), 1, "{out}");
    assert!(
        out.starts_with("x [REDACTED fp=") && out.ends_with("] y"),
        "{out}"
    );
    // each value separately, side by side and apart
    let out = r.redact("abcdefgh1234 and 1234WXYZqrst, efgh12");
    assert_eq!(out.matches("[REDACTED fp=").count(), 3, "{out}");
}

#[test]
fn short_values_and_plain_text_are_left_alone() {
    let r = Redactor::new([&v("abc"), &v("")]);
    assert_eq!(r.redact("abc abc"), "abc abc");
    let r = Redactor::new([&v("long-enough-value")]);
    assert_eq!(r.redact("nothing here"), "nothing here");
    assert_eq!(Redactor::new([]).redact("x"), "x");
    assert_eq!(Redactor::new([]).lookahead(), 0);
}

#[test]
fn a_value_cut_at_the_capture_limit_is_never_shown() {
    const LIMIT: usize = 1000;
    let value = "0123456789abcdefghijABCDEFGHIJ0123456789abcd";
    let secret = v(value);
    let r = Redactor::new([&secret]);
    let look = r.lookahead();
    assert!(look >= STANDARD.encode(value).len() - 1, "lookahead {look}");
    for spelled in spellings(value).into_iter().map(|(_, s)| s) {
        for offset in LIMIT - spelled.len() - 2..LIMIT + 3 {
            let mut stream = ".".repeat(offset).into_bytes();
            stream.extend_from_slice(spelled.as_bytes());
            stream.extend_from_slice(b"\nmore output\n");
            // what a reader bounded at LIMIT + lookahead keeps
            let kept = &stream[..stream.len().min(LIMIT + look)];
            let more = stream.len() > kept.len();
            let out = r.redact_capture(kept, LIMIT, more);
            assert_no_piece(&out, &spelled, &format!("offset {offset}"));
            assert_no_piece(&out, value, &format!("offset {offset}"));
            // the kept text is the original up to the limit, or less
            let dots = out.bytes().take_while(|&b| b == b'.').count();
            assert_eq!(dots, offset.min(LIMIT), "offset {offset}: {out}");
        }
    }
}

#[test]
fn a_trailing_start_of_a_value_is_scrubbed_only_at_a_cut() {
    let value = "zyxwvutsrq-0987654321";
    let r = Redactor::new([&v(value)]);
    // The stream stopped (cut) right after a prefix of the value.
    let text = format!("log: {}", &value[..9]);
    let out = r.redact_capture(text.as_bytes(), text.len(), true);
    assert!(out.starts_with("log: [REDACTED partial fp="), "{out}");
    // a start shorter than MIN_FORM is left alone (it matches too often)
    let short = format!("log: {}", &value[..MIN_FORM - 1]);
    assert_eq!(r.redact_capture(short.as_bytes(), 10_000, true), short);
}
