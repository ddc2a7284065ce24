//! What each target kind writes in a rotation, in the words `rotor plan`
//! shows: every kind describes itself here, so the engine's plan has no
//! row per kind.

use crate::inventory::{
    Alphabet, DotenvFormat, DotenvTarget, Generator, PgbouncerTarget, SecretSpec, TargetSpec,
    TemplateTarget, ValueForm,
};

/// A deliver step in words, and what the operator should know about it.
pub struct DeliverWords {
    /// The step's text.
    pub step: String,
    /// Warnings about it.
    pub warnings: Vec<String>,
}

/// What delivering `spec`'s new value to `target` does. `cur` names the
/// value being demoted; `names_login` says whether the secret's authority
/// names a login (so a `user_var` or a URL's user is rewritten).
pub fn deliver(
    target: &TargetSpec,
    spec: &SecretSpec,
    cur: &str,
    names_login: bool,
) -> DeliverWords {
    match target {
        TargetSpec::Dotenv(d) => DeliverWords {
            step: dotenv(d, spec, cur, names_login),
            warnings: Vec::new(),
        },
        TargetSpec::Pgbouncer(p) => DeliverWords {
            step: pgbouncer(p),
            warnings: Vec::new(),
        },
        TargetSpec::Template(t) => template(t, spec, cur),
    }
}

fn pgbouncer(p: &PgbouncerTarget) -> String {
    let reload = p
        .admin_console_env
        .as_ref()
        .map_or_else(String::new, |v| format!("; RELOAD via ${v}"));
    format!(
        "{}: line for LOGIN = NEW{reload} (atomic replace, mode {:04o}, other users' lines untouched)",
        p.path.display(),
        p.mode
    )
}

fn dotenv(d: &DotenvTarget, spec: &SecretSpec, cur: &str, names_login: bool) -> String {
    let keeps = spec.strategy.keeps_previous();
    let detail = match (keeps, d.format, &d.previous_var) {
        (true, DotenvFormat::List, _) => format!("{}: {} = NEW,{cur}", d.path.display(), d.var),
        (true, DotenvFormat::Pair, Some(pv)) => {
            format!("{}: {} = NEW; {pv} = {cur}", d.path.display(), d.var)
        }
        // Only an authority with logins names the login; without one (or
        // for Redis requirepass) the file's user stays.
        _ if d.form == ValueForm::Url => format!(
            "{}: {} = its URL with {} replaced",
            d.path.display(),
            d.var,
            if names_login {
                "user (LOGIN) and password (NEW)"
            } else {
                "the password (NEW)"
            }
        ),
        _ => match (&d.user_var, names_login) {
            (Some(u), true) => format!("{}: {u} = LOGIN; {} = NEW", d.path.display(), d.var),
            (Some(u), false) => format!("{}: {} = NEW ({u} kept)", d.path.display(), d.var),
            (None, _) => format!("{}: {} = NEW", d.path.display(), d.var),
        },
    };
    format!(
        "{detail} (atomic replace, mode {:04o}, other lines untouched)",
        d.mode
    )
}

fn template(t: &TemplateTarget, spec: &SecretSpec, cur: &str) -> DeliverWords {
    use crate::target::template::Slot;
    let mut fills = vec!["{{current}} = NEW".to_owned()];
    if t.template.uses(Slot::Previous) {
        fills.push(format!("{{{{previous}}}} = {cur}"));
    }
    if t.template.uses(Slot::User) {
        fills.push("{{user}} = LOGIN".to_owned());
    }
    let mut warnings = Vec::new();
    if let Generator::Password {
        alphabet: Alphabet::Printable,
        ..
    } = spec.generator
    {
        warnings.push(format!(
            "{} gets values from alphabet printable written raw, unquoted: characters such as {{ }} [ ] : & * ! | > < ; ( ) can break a YAML or shell line. Put the placeholder in single quotes in the template (printable has none), or use alphabet = \"urlsafe\"",
            t.path.display()
        ));
    }
    DeliverWords {
        step: format!(
            "{}: rendered from {}: {} (atomic replace, mode {:04o}, every other byte the template's)",
            t.path.display(),
            t.template_path.display(),
            fills.join("; "),
            t.mode
        ),
        warnings,
    }
}
