//! Role settings as SQL: turning a value the server stores in
//! `pg_db_role_setting.setconfig` back into the `SET name = value` that
//! stores exactly the same value again.
//!
//! Most parameters round-trip as one string literal. List parameters whose
//! elements the server quotes as identifiers (`search_path`,
//! `temp_tablespaces`, the `*_preload_libraries`) are stored as
//! `a, "B c", "$user"`: split on the commas outside double quotes, and each
//! element is given back as a quoted identifier, so `"B c"` stays one
//! element and keeps its case.

use super::{quote_literal, quote_name};
use crate::authority::AuthorityError;

/// The parameters the server stores as a list of quoted identifiers
/// (`GUC_LIST_QUOTE`) and that a role may set.
const QUOTED_LISTS: [&str; 5] = [
    "search_path",
    "temp_tablespaces",
    "session_preload_libraries",
    "local_preload_libraries",
    "shared_preload_libraries",
];

/// `name = value`, for `ALTER ROLE … SET`.
pub(super) fn assignment(name: &str, value: &str) -> Result<String, AuthorityError> {
    let name_sql = parameter(name)?;
    let list = QUOTED_LISTS.iter().any(|l| l.eq_ignore_ascii_case(name));
    let value_sql = if list && !value.is_empty() {
        split_list(value)
            .iter()
            .map(|e| element(e))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        quote_literal(value)
    };
    Ok(format!("{name_sql} = {value_sql}"))
}

/// A parameter name for `SET`/`RESET`: each dotted part a quoted identifier
/// (`"myapp"."tenant"` for a custom parameter).
pub(super) fn parameter(name: &str) -> Result<String, AuthorityError> {
    name.split('.')
        .map(|part| quote_name("parameter", part))
        .collect::<Result<Vec<_>, _>>()
        .map(|parts| parts.join("."))
}

/// One list element. A quoted identifier, as the server writes it; the
/// empty element and one longer than an identifier may be (which the
/// parser would truncate) as a string literal, which the server quotes
/// the same way.
fn element(e: &str) -> String {
    match quote_name("list element", e) {
        Ok(q) if !e.is_empty() => q,
        _ => quote_literal(e),
    }
}

/// Splits a stored list value into its elements: commas inside double
/// quotes do not split, `""` inside quotes is one `"`, the quotes go, and
/// blanks around an element do not count.
pub(super) fn split_list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => {
                in_quotes = !in_quotes;
                quoted = true;
            }
            ',' if !in_quotes => {
                out.push(finish(&mut current, quoted));
                quoted = false;
            }
            c if c.is_whitespace() && !in_quotes => {
                // Blanks between elements; keep inner blanks of an unquoted
                // element (the server never writes those, but be exact).
                if !current.is_empty() && !quoted {
                    current.push(c);
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() || quoted || !out.is_empty() {
        out.push(finish(&mut current, quoted));
    }
    out
}

fn finish(current: &mut String, quoted: bool) -> String {
    let e = std::mem::take(current);
    if quoted {
        e
    } else {
        e.trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stored_lists_split_into_their_elements() {
        assert_eq!(split_list("a, \"B c\""), vec!["a", "B c"]);
        assert_eq!(
            split_list("a, \"B c\", \"\", \"$user\""),
            vec!["a", "B c", "", "$user"]
        );
        assert_eq!(split_list("\"x,y\", \"q\"\"r\""), vec!["x,y", "q\"r"]);
        assert_eq!(split_list("public"), vec!["public"]);
        assert_eq!(split_list("\"\""), vec![""]);
        assert!(split_list("").is_empty());
    }

    #[test]
    fn assignments_round_trip_what_the_server_stores() {
        assert_eq!(
            assignment("search_path", "a, \"B c\"").expect("valid"),
            "\"search_path\" = \"a\", \"B c\""
        );
        assert_eq!(
            assignment("search_path", "\"\"").expect("valid"),
            "\"search_path\" = ''"
        );
        assert_eq!(
            assignment("statement_timeout", "5s").expect("valid"),
            "\"statement_timeout\" = '5s'"
        );
        assert_eq!(
            assignment("DateStyle", "iso, mdy").expect("valid"),
            "\"DateStyle\" = 'iso, mdy'"
        );
        assert_eq!(
            assignment("myapp.Foo", "x'y").expect("valid"),
            "\"myapp\".\"Foo\" = 'x''y'"
        );
        let long = "l".repeat(70);
        assert_eq!(
            assignment("session_preload_libraries", &long).expect("valid"),
            format!("\"session_preload_libraries\" = '{long}'")
        );
        assert!(assignment("a..b", "x").is_err());
    }

    /// What PostgreSQL's `quote_identifier` does to a list element (all
    /// that matters here: safe lowercase names stay bare).
    fn server_quote(e: &str) -> String {
        let safe = e
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && e.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if safe {
            e.to_owned()
        } else {
            format!("\"{}\"", e.replace('"', "\"\""))
        }
    }

    proptest! {
        #[test]
        fn any_stored_list_splits_back(elems in proptest::collection::vec("[a-zA-Z0-9_ ,\"$.-]{0,12}", 1..6)) {
            let stored = elems.iter().map(|e| server_quote(e)).collect::<Vec<_>>().join(", ");
            prop_assert_eq!(split_list(&stored), elems);
        }
    }
}
