//! Tests for the dotenv target's `form = "url"` and `user_var`: what it
//! reads, what it writes, and that every other byte of the file stays.

use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::target::Target;

fn target(form: ValueForm, var: &str, user_var: Option<&str>) -> DotenvTarget {
    DotenvTarget {
        path: PathBuf::from("/srv/app/.env"),
        var: var.into(),
        previous_var: None,
        format: DotenvFormat::Pair,
        mode: 0o600,
        form,
        user_var: user_var.map(str::to_owned),
    }
}

fn url_target() -> DotenvTarget {
    target(ValueForm::Url, "DATABASE_URL", None)
}

fn v(s: &str) -> SecretValue {
    SecretValue::new(s.to_owned())
}

fn render(t: &DotenvTarget, file: &str, current: &str, user: Option<&str>) -> String {
    let c = v(current);
    let out = t
        .render(
            file.as_bytes(),
            Desired {
                current: &c,
                previous: None,
                user,
            },
        )
        .unwrap();
    String::from_utf8(out.to_vec()).unwrap()
}

fn render_err(t: &DotenvTarget, file: &str) -> String {
    let c = v("n3w-Secret-Value");
    t.render(
        file.as_bytes(),
        Desired {
            current: &c,
            previous: None,
            user: None,
        },
    )
    .unwrap_err()
    .to_string()
}

fn dotenvy_get(file: &str, var: &str) -> Option<String> {
    dotenvy::from_read_iter(file.as_bytes())
        .map(Result::unwrap)
        .find(|(k, _)| k == var)
        .map(|(_, v)| v)
}

const FILE: &str = "# app\r\nexport APP_ENV=production\r\n\r\nexport DATABASE_URL='postgres://app:old-pass@db:5432/app?sslmode=require' # main db\r\nOTHER=\"x y\"\r\nLAST=1";

#[test]
fn url_form_changes_only_the_userinfo() {
    let t = url_target();
    let out = render(&t, FILE, "n3w p@ss", None);
    assert_eq!(
        out,
        FILE.replace("app:old-pass@", "app:n3w%20p%40ss@"),
        "only the password bytes change"
    );
    assert_eq!(
        t.current(out.as_bytes()).unwrap().unwrap().expose(),
        "n3w p@ss"
    );
    assert_eq!(
        t.current_user(out.as_bytes()).unwrap().as_deref(),
        Some("app")
    );
    assert!(t.previous(out.as_bytes()).unwrap().is_none());

    let out = render(&t, FILE, "n3w", Some("app_b"));
    assert_eq!(out, FILE.replace("app:old-pass@", "app_b:n3w@"));
    assert_eq!(
        t.current_user(out.as_bytes()).unwrap().as_deref(),
        Some("app_b")
    );
    assert_eq!(t.keys(), vec!["DATABASE_URL".to_owned()]);
}

#[test]
fn url_form_keeps_the_quoting_of_the_line() {
    let t = url_target();
    // Unquoted with '?' and '&', which `set` would quote: left unquoted.
    let unquoted = "DATABASE_URL=postgres://app:old@h1:5432,h2:5433/app?sslmode=require&x=1\n";
    assert_eq!(
        render(&t, unquoted, "a/b", None),
        unquoted.replace(":old@", ":a%2Fb@")
    );
    // Double quotes with an escape elsewhere in the value: kept as written.
    let double = "DATABASE_URL=\"postgres://app:old@[::1]/app?options=-c\\$x\" # note\n";
    let out = render(&t, double, "\"quoted\" 'too'", Some("u\\ser"));
    assert_eq!(
        out,
        double.replace("app:old@", "u%5Cser:%22quoted%22%20%27too%27@")
    );
    assert_eq!(
        t.current(out.as_bytes()).unwrap().unwrap().expose(),
        "\"quoted\" 'too'"
    );
    assert_eq!(
        t.current_user(out.as_bytes()).unwrap().as_deref(),
        Some("u\\ser")
    );
    assert_eq!(
        dotenvy_get(&out, "DATABASE_URL").unwrap(),
        "postgres://u%5Cser:%22quoted%22%20%27too%27@[::1]/app?options=-c$x"
    );
}

#[test]
fn url_form_errors_name_the_variable_and_never_the_password() {
    let t = url_target();
    assert_eq!(
        render_err(&t, "DATABASE_URL=postgres://app@db/app\n"),
        "DATABASE_URL in .env has no password part (postgres://user@host/…); write postgres://user:PASSWORD@host/… once, then rotate"
    );
    assert_eq!(
        render_err(&t, "OTHER=1\n"),
        "DATABASE_URL is not in .env; add DATABASE_URL=scheme://user:PASSWORD@host/… once (rotor rewrites only the user and password of a URL), then rotate"
    );
    for file in [
        "DATABASE_URL=host=db password=Sup3rSecretValue\n",
        "DATABASE_URL=\n",
        "DATABASE_URL=postgres://app:Sup3rSecr#tValue@db/app\n",
    ] {
        let msg = render_err(&t, file);
        assert!(msg.starts_with("DATABASE_URL in .env "), "{msg}");
        assert!(!msg.contains("Sup3r") && !msg.contains("tValue"), "{msg}");
    }
    let msg = t
        .current(b"DATABASE_URL=redis://:%ff@h\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "DATABASE_URL in .env has a password that is not UTF-8 once percent-decoded"
    );
    // Reading a URL without a password part is not an error: there is none.
    assert!(t
        .current(b"DATABASE_URL=redis://h:6379\n")
        .unwrap()
        .is_none());
}

#[test]
fn url_form_restore_puts_the_line_back() {
    let t = url_target();
    let out = render(&t, FILE, "n3w", Some("app_b"));
    let back = t.restore(out.as_bytes(), FILE.as_bytes()).unwrap();
    assert_eq!(&back[..], FILE.as_bytes());
}

#[test]
fn written_forms_are_the_encoded_password() {
    let t = url_target();
    let forms = t.written_forms(&v("a b@c"));
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0].expose(), "a%20b%40c");
    assert!(t.written_forms(&v("plain-Value_1.~")).is_empty());
    let plain = target(ValueForm::Plain, "KEY", None);
    assert!(plain.written_forms(&v("a b@c")).is_empty());
}

#[test]
fn a_url_passwords_encoded_form_is_redacted_too() {
    let (url, plain) = (url_target(), target(ValueForm::Plain, "KEY", None));
    let targets: Vec<&dyn Target> = vec![&plain, &url, &url];
    let known =
        crate::target::with_written_forms(vec![v("p@ss w/rd+1"), v("safe-Value_1")], &targets);
    let spelled: Vec<&str> = known.iter().map(SecretValue::expose).collect();
    // once each, longest first
    assert_eq!(
        spelled,
        ["p%40ss%20w%2Frd%2B1", "safe-Value_1", "p@ss w/rd+1"]
    );
    let out = crate::redact::Redactor::new(&known)
        .redact("connecting to postgres://app:p%40ss%20w%2Frd%2B1@db/app (p@ss w/rd+1)");
    assert!(!out.contains("p%40ss") && !out.contains("p@ss"), "{out}");
    assert_eq!(out.matches("[REDACTED fp=").count(), 2, "{out}");
}

#[test]
fn user_var_is_written_read_and_restored() {
    let t = target(ValueForm::Plain, "POSTGRES_PASSWORD", Some("POSTGRES_USER"));
    assert_eq!(
        t.keys(),
        vec!["POSTGRES_PASSWORD".to_owned(), "POSTGRES_USER".to_owned()]
    );
    let file = "# db\nPOSTGRES_USER=app_a # login\nPOSTGRES_PASSWORD=old-pass\nTAIL=1\n";
    assert_eq!(
        t.current_user(file.as_bytes()).unwrap().as_deref(),
        Some("app_a")
    );

    let out = render(&t, file, "n3w", Some("app_b"));
    assert_eq!(
        out,
        "# db\nPOSTGRES_USER=app_b # login\nPOSTGRES_PASSWORD=n3w\nTAIL=1\n"
    );
    assert_eq!(
        t.current_user(out.as_bytes()).unwrap().as_deref(),
        Some("app_b")
    );
    // no user given: the file's user stays
    assert_eq!(
        render(&t, file, "n3w", None),
        "# db\nPOSTGRES_USER=app_a # login\nPOSTGRES_PASSWORD=n3w\nTAIL=1\n"
    );
    let back = t.restore(out.as_bytes(), file.as_bytes()).unwrap();
    assert_eq!(&back[..], file.as_bytes());

    // a user variable that was absent is added, and removed again by undo
    let bare = "POSTGRES_PASSWORD=old-pass\n";
    assert!(t.current_user(bare.as_bytes()).unwrap().is_none());
    let out = render(&t, bare, "n3w", Some("app_b"));
    assert_eq!(out, "POSTGRES_PASSWORD=n3w\nPOSTGRES_USER=app_b\n");
    let back = t.restore(out.as_bytes(), bare.as_bytes()).unwrap();
    assert_eq!(&back[..], bare.as_bytes());
}

/// A dotenv line holding a URL, in one of the quotings.
fn url_line() -> impl Strategy<Value = (String, String)> {
    let shape = prop::sample::select(vec![
        "postgres://app:old@db:5432/app?sslmode=require&x=1",
        "redis://default:old@127.0.0.1:6379/0",
        "postgresql://app:old@h1:5432,h2:5433,[::1]:5434/app#f",
        "rediss://:old@[::1]",
    ]);
    let quote = prop::sample::select(vec!["", "'", "\""]);
    let comment = prop::sample::select(vec!["", " # managed by rotor"]);
    (shape, quote, comment).prop_map(|(shape, q, c)| {
        (
            shape.to_owned(),
            format!("A=1\nexport DATABASE_URL = {q}{shape}{q}{c}\r\nB='two'\n"),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn url_form_round_trips_any_password_through_the_file(
        (shape, file) in url_line(),
        password in "\\PC{1,30}",
        user in proptest::option::of("\\PC{1,12}"),
    ) {
        let t = url_target();
        let out = render(&t, &file, &password, user.as_deref());
        let current = t.current(out.as_bytes()).unwrap().unwrap();
        prop_assert_eq!(current.expose(), password.as_str());
        let want_user = user.clone().or_else(|| url::user(&shape).unwrap().map(|u| u.as_str().to_owned()));
        prop_assert_eq!(t.current_user(out.as_bytes()).unwrap(), want_user);
        // every byte outside the URL's userinfo is unchanged
        let old_ui = url::locate(&shape).unwrap().unwrap().whole();
        let start = file.find(&shape).unwrap();
        prop_assert!(out.starts_with(&file[..start + old_ui.start]));
        prop_assert!(out.ends_with(&file[start + old_ui.end..]));
        // dotenvy reads the same URL rotor does
        let read = dotenvy_get(&out, "DATABASE_URL").unwrap();
        let read = url::password(&read).unwrap().unwrap();
        prop_assert_eq!(read.as_str(), password.as_str());
        // rendering twice equals once
        prop_assert_eq!(render(&t, &out, &password, user.as_deref()), out.clone());
    }
}
