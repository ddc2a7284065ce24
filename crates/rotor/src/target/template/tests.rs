//! Tests for the template target: parsing placeholders, rendering and
//! reading back, refusing a file edited outside the placeholders, undo.

use std::path::PathBuf;

use super::*;

fn target(template: &str) -> TemplateTarget {
    TemplateTarget {
        path: PathBuf::from("/srv/app/docker-compose.yml"),
        template_path: PathBuf::from("/srv/app/docker-compose.yml.tmpl"),
        template: Template::parse(template.as_bytes()).unwrap(),
        mode: 0o640,
    }
}

fn v(s: &str) -> SecretValue {
    SecretValue::new(s.to_owned())
}

fn render(t: &TemplateTarget, file: &str, current: &str, previous: Option<&str>) -> String {
    render_as(t, file, current, previous, None)
}

fn render_as(
    t: &TemplateTarget,
    file: &str,
    current: &str,
    previous: Option<&str>,
    user: Option<&str>,
) -> String {
    let c = v(current);
    let p = previous.map(v);
    let out = t
        .render(
            file.as_bytes(),
            Desired {
                current: &c,
                previous: p.as_ref(),
                user,
            },
        )
        .unwrap();
    String::from_utf8(out.to_vec()).unwrap()
}

fn render_err(t: &TemplateTarget, file: &str, current: &str) -> String {
    let c = v(current);
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

fn current(t: &TemplateTarget, file: &str) -> Option<String> {
    t.current(file.as_bytes())
        .unwrap()
        .map(|v| v.expose().to_owned())
}

const COMPOSE: &str = "services:\n  cache:\n    image: redis:7\n    command: redis-server --maxmemory-policy noeviction --requirepass {{current}}\n";

#[test]
fn renders_the_template_and_reads_the_value_back() {
    let t = target(COMPOSE);
    let out = render(&t, "", "n3w-Secret", None);
    assert_eq!(out, COMPOSE.replace("{{current}}", "n3w-Secret"));
    assert_eq!(current(&t, &out).as_deref(), Some("n3w-Secret"));
    assert_eq!(t.previous(out.as_bytes()).unwrap().map(|_| ()), None);
    assert_eq!(t.current_user(out.as_bytes()).unwrap(), None);
    // Rendering again is idempotent, and a new value replaces the old.
    assert_eq!(render(&t, &out, "n3w-Secret", None), out);
    let next = render(&t, &out, "second-Value", None);
    assert_eq!(next, COMPOSE.replace("{{current}}", "second-Value"));
    // An empty file (or none yet) holds nothing.
    assert_eq!(current(&t, ""), None);
}

#[test]
fn spaces_inside_the_braces_crlf_and_no_final_newline() {
    let t = target("# redis\r\nrequirepass {{ current }}\r\nmasterauth {{\tcurrent }}");
    let out = render(&t, "", "abc-123", None);
    assert_eq!(out, "# redis\r\nrequirepass abc-123\r\nmasterauth abc-123");
    assert_eq!(current(&t, &out).as_deref(), Some("abc-123"));
}

#[test]
fn a_repeated_placeholder_must_hold_one_value() {
    let t = target("requirepass {{current}}\nmasterauth {{current}}\n");
    let out = render(&t, "", "one-value", None);
    assert_eq!(out, "requirepass one-value\nmasterauth one-value\n");
    let e = t
        .current(b"requirepass one-value\nmasterauth other-value\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("{{current}} holds different values on lines 1 and 2"),
        "{e}"
    );
    assert!(
        !e.contains("one-value") && !e.contains("other-value"),
        "{e}"
    );
    // Rendering such a file is refused too: it was edited by hand.
    let e = render_err(&t, "requirepass one-value\nmasterauth other-value\n", "x");
    assert!(e.contains("different values"), "{e}");
}

#[test]
fn previous_and_user() {
    let t = target("user={{user}} # login\nkeys={{current}},{{previous}}\n");
    let out = render_as(&t, "", "new-key", Some("old-key"), Some("app_blue"));
    assert_eq!(out, "user=app_blue # login\nkeys=new-key,old-key\n");
    assert_eq!(current(&t, &out).as_deref(), Some("new-key"));
    assert_eq!(
        t.previous(out.as_bytes()).unwrap().unwrap().expose(),
        "old-key"
    );
    assert_eq!(
        t.current_user(out.as_bytes()).unwrap().as_deref(),
        Some("app_blue")
    );
    // Retire empties the previous; no user given keeps the file's.
    let retired = render_as(&t, &out, "new-key", None, None);
    assert_eq!(retired, "user=app_blue # login\nkeys=new-key,\n");
    assert!(t.previous(retired.as_bytes()).unwrap().is_none());
    assert_eq!(
        t.current_user(retired.as_bytes()).unwrap().as_deref(),
        Some("app_blue")
    );
}

#[test]
fn a_file_edited_outside_the_placeholders_is_refused() {
    let t = target(COMPOSE);
    let rendered = COMPOSE.replace("{{current}}", "old-Value");
    let edited = rendered.replace("redis:7", "redis:8");
    let e = render_err(&t, &edited, "new-Value");
    assert!(
        e.starts_with("line 3 differs from its template /srv/app/docker-compose.yml.tmpl; edit the template, not the file"),
        "{e}"
    );
    assert!(!e.contains("old-Value") && !e.contains("new-Value"), "{e}");
    assert!(t.current(edited.as_bytes()).is_err());
    // A line added at the end, or one missing.
    let longer = format!("{rendered}# added\n");
    assert!(render_err(&t, &longer, "x").starts_with("line 5 differs"));
    let shorter: String = rendered.lines().take(2).map(|l| format!("{l}\n")).collect();
    assert!(render_err(&t, &shorter, "x").starts_with("line 3 differs"));
    // The text around the placeholder on its own line counts too.
    let around = rendered.replace("--requirepass ", "--requirepass=");
    assert!(render_err(&t, &around, "x").starts_with("line 4 differs"));
}

#[test]
fn the_value_is_found_when_the_text_after_it_also_occurs_in_it() {
    let t = target("url: redis://:{{current}}@cache:6379/0\n");
    let out = render(&t, "", "p@cache:6379/x", None);
    assert_eq!(current(&t, &out).as_deref(), Some("p@cache:6379/x"));
    // Two placeholders with a separator the value holds cannot be read
    // back: refused before anything is written.
    let t = target("keys={{current}},{{previous}}\n");
    let c = v("a,b");
    let p = v("c");
    let e = t
        .render(
            b"",
            Desired {
                current: &c,
                previous: Some(&p),
                user: None,
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("would not read back"), "{e}");
    assert!(!e.contains("a,b"), "{e}");
}

#[test]
fn a_value_with_a_line_break_is_refused() {
    let t = target(COMPOSE);
    let e = render_err(&t, "", "two\nlines");
    assert!(e.contains("{{current}} holds a line break"), "{e}");
}

#[test]
fn parse_errors_name_the_line() {
    assert_eq!(
        Template::parse(b"a\nrequirepass {{ foo }}\n{{current}}\n").unwrap_err(),
        TemplateError::Unknown {
            line: 2,
            name: "foo".into()
        }
    );
    let e = Template::parse(b"a {{current}}\nb {{current\n").unwrap_err();
    assert_eq!(e, TemplateError::Unclosed { line: 2 });
    for no_current in [&b""[..], b"requirepass secret\n", b"x {{ previous }}\n"] {
        let e = Template::parse(no_current).unwrap_err();
        assert_eq!(e, TemplateError::NoCurrent);
        assert!(e.to_string().contains(
            "has no {{current}} placeholder; rotor would write a file without the secret"
        ));
    }
    assert!(TemplateError::Unknown {
        line: 3,
        name: "foo".into()
    }
    .to_string()
    .starts_with("line 3: unknown placeholder {{foo}}; rotor fills {{current}}"));
    // Single braces and closing braces alone are text.
    let t = target("a {b} }} {{current}}\n");
    assert_eq!(render(&t, "", "v", None), "a {b} }} v\n");
}

#[test]
fn undo_gives_the_whole_file_back() {
    let t = target(COMPOSE);
    let before = COMPOSE.replace("{{current}}", "old-Value");
    let now = render(&t, &before, "new-Value", None);
    assert_eq!(
        t.restore(now.as_bytes(), before.as_bytes())
            .unwrap()
            .as_slice(),
        before.as_bytes()
    );
    // A file rotor created: undo gives back nothing (the engine removes it).
    assert!(t.restore(now.as_bytes(), b"").unwrap().is_empty());
    assert_eq!(t.keys(), [crate::target::WHOLE_FILE]);
    assert_eq!(t.mode(), 0o640);
}

#[test]
fn debug_shows_no_template_text() {
    let t = target("password: hunter2-other-credential\nx {{current}}\n");
    let d = format!("{:?}", t.template);
    assert!(!d.contains("hunter2"), "{d}");
    assert!(d.contains("fingerprint"), "{d}");
}
