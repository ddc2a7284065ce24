//! The digest of what a run depends on in a secret's spec: its strategy,
//! its targets, its hooks and what its authority switches between. A run
//! records it at plan time; `resume` refuses to finish a run whose secret
//! changed since (finishing it could leave the files and the store at
//! odds).
//!
//! Each part is written out field by field as a JSON document (object keys
//! sorted, so the text is canonical) and the document is fingerprinted. It
//! never depends on `Debug` output, so a new field, or a renamed one, in
//! the model changes the digest only when it is added here. How the
//! authority is reached (admin URL, TLS roots, timeouts) is not part of it:
//! a new admin URL may finish a run.

use std::time::Duration;

use serde_json::{json, Value};

use crate::inventory::model::{
    AuthoritySpec, Command, DotenvFormat, Hooks, RetireMode, SecretSpec, TargetSpec, ValueForm,
    Verify,
};
use crate::secret::Fingerprint;
use crate::strategy::Strategy;

/// Version of the document's layout; a change to it changes every digest.
const LAYOUT: u32 = 1;

/// The digest of `spec`: `sha256:…` of its canonical document.
pub fn spec_digest(spec: &SecretSpec) -> String {
    Fingerprint::of(document(spec).to_string().as_bytes()).to_string()
}

/// The canonical document [`spec_digest`] fingerprints.
pub fn document(spec: &SecretSpec) -> Value {
    json!({
        "layout": LAYOUT,
        "strategy": strategy(&spec.strategy),
        "targets": spec.targets.iter().map(TargetSpec::digest).collect::<Vec<_>>(),
        "hooks": hooks(&spec.hooks),
        "authority": spec.authority.as_ref().map(AuthoritySpec::digest),
    })
}

fn millis(d: Duration) -> u128 {
    d.as_millis()
}

fn strategy(s: &Strategy) -> Value {
    match s {
        Strategy::Overlap { window } => json!({ "kind": s.kind(), "window_ms": millis(*window) }),
        _ => json!({ "kind": s.kind() }),
    }
}

fn command(c: &Command) -> Value {
    json!({ "argv": c.argv, "timeout_ms": millis(c.timeout) })
}

fn hooks(h: &Hooks) -> Value {
    let verify = h.verify.as_ref().map(|v| match v {
        Verify::Http {
            url,
            status,
            timeout,
            tls_ca_file,
        } => json!({
            "kind": "http",
            "url": url,
            "status": status,
            "timeout_ms": millis(*timeout),
            "tls_ca_file": tls_ca_file.as_ref().map(|p| p.display().to_string()),
        }),
        Verify::Command(c) => json!({ "kind": "command", "command": command(c) }),
    });
    json!({
        "restart": h.restart.as_ref().map(command),
        "verify": verify,
        "retry": {
            "tries": h.retry.tries,
            "backoff_ms": millis(h.retry.backoff),
            "max_backoff_ms": millis(h.retry.max_backoff),
        },
        "env": h.env,
    })
}

impl TargetSpec {
    /// This target's part of the run digest: every field that decides
    /// what it writes where.
    pub fn digest(&self) -> Value {
        match self {
            TargetSpec::Dotenv(d) => json!({
                "kind": "dotenv",
                "path": d.path.display().to_string(),
                "var": d.var,
                "previous_var": d.previous_var,
                "format": match d.format {
                    DotenvFormat::Pair => "pair",
                    DotenvFormat::List => "list",
                },
                "mode": d.mode,
                "form": match d.form {
                    ValueForm::Plain => "plain",
                    ValueForm::Url => "url",
                },
                "user_var": d.user_var,
            }),
            TargetSpec::Pgbouncer(p) => json!({
                "kind": "pgbouncer",
                "path": p.path.display().to_string(),
                "mode": p.mode,
                "users": p.users,
                "admin_console_env": p.admin_console_env,
            }),
            TargetSpec::Template(t) => json!({
                "kind": "template",
                "path": t.path.display().to_string(),
                "template_path": t.template_path.display().to_string(),
                "template": t.template.fingerprint().to_string(),
                "mode": t.mode,
            }),
        }
    }
}

impl AuthoritySpec {
    /// This authority's part of the run digest: the logins it switches
    /// between, the plugin it runs.
    pub fn digest(&self) -> Value {
        match self {
            AuthoritySpec::Postgres(pg) => json!({
                "kind": "postgres",
                "group": pg.group,
                "roles": pg.roles,
                "retire": match pg.retire {
                    RetireMode::Nologin => "nologin",
                    RetireMode::Drop => "drop",
                },
            }),
            AuthoritySpec::Redis(r) => json!({
                "kind": "redis",
                "user": r.user,
                "nodes": r.nodes,
            }),
            AuthoritySpec::Exec(x) => json!({
                "kind": "exec",
                "command": x.command,
                "config": x.config,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn spec(text: &str) -> SecretSpec {
        let inv = crate::inventory::parse(text, Path::new("/srv/app/rotor.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        inv.secrets.into_iter().next().expect("one secret")
    }

    const BASE: &str = r#"
[[secret]]
name = "db"
generator = { kind = "password", length = 32 }
strategy = { kind = "alternate" }
[secret.authority]
kind = "postgres"
admin_url_env = "ROTOR_PG_ADMIN_URL"
group = "app"
roles = ["app_blue", "app_green"]
[[secret.target]]
kind = "dotenv"
path = ".env"
var = "DATABASE_URL"
form = "url"
[secret.hooks]
restart = ["systemctl", "restart", "app"]
"#;

    /// The layout is a contract with runs already in stores: an open run
    /// recorded by this rotor must resume under the next one. Changing the
    /// document changes this fingerprint; bump `LAYOUT` and say so in the
    /// changelog when it must change.
    #[test]
    fn the_document_of_a_spec_is_pinned() {
        let doc = document(&spec(BASE));
        assert_eq!(
            doc.to_string(),
            r#"{"authority":{"group":"app","kind":"postgres","retire":"nologin","roles":["app_blue","app_green"]},"hooks":{"env":[],"restart":{"argv":["systemctl","restart","app"],"timeout_ms":60000},"retry":{"backoff_ms":1000,"max_backoff_ms":30000,"tries":3},"verify":null},"layout":1,"strategy":{"kind":"alternate"},"targets":[{"form":"url","format":"pair","kind":"dotenv","mode":384,"path":"/srv/app/.env","previous_var":null,"user_var":null,"var":"DATABASE_URL"}]}"#
        );
    }

    #[test]
    fn what_a_run_depends_on_changes_the_digest() {
        let base = spec_digest(&spec(BASE));
        for (from, to) in [
            (
                "roles = [\"app_blue\", \"app_green\"]\n",
                "roles = [\"app_blue\", \"app_green\"]\nretire = \"drop\"\n",
            ),
            (
                "roles = [\"app_blue\", \"app_green\"]",
                "roles = [\"app_green\", \"app_blue\"]",
            ),
            ("var = \"DATABASE_URL\"", "var = \"PG_URL\""),
            ("form = \"url\"\n", "form = \"url\"\nmode = \"0640\"\n"),
            ("\"restart\", \"app\"", "\"reload\", \"app\""),
            ("path = \".env\"", "path = \"conf/.env\""),
        ] {
            let changed = BASE.replace(from, to);
            assert_ne!(changed, BASE, "{from} is in the base");
            assert_ne!(spec_digest(&spec(&changed)), base, "{from} -> {to}");
        }
    }

    #[test]
    fn the_strategy_and_its_window_change_the_digest() {
        let overlap = |window: &str| {
            spec_digest(&spec(&format!(
                "[[secret]]\nname = \"jwt\"\ngenerator = {{ kind = \"random\", bytes = 32 }}\n{window}\n[[secret.target]]\nkind = \"dotenv\"\npath = \".env\"\nvar = \"JWT\"\nprevious_var = \"JWT_PREVIOUS\"\n"
            )))
        };
        let one_day = overlap("strategy = { kind = \"overlap\", window = \"1d\" }");
        assert_ne!(
            one_day,
            overlap("strategy = { kind = \"overlap\", window = \"2d\" }")
        );
        assert_ne!(
            one_day,
            overlap("strategy = { kind = \"overlap\", window = \"24h 1s\" }")
        );
    }

    #[test]
    fn how_the_authority_is_reached_does_not() {
        let base = spec_digest(&spec(BASE));
        let other_admin = BASE.replace("ROTOR_PG_ADMIN_URL", "OTHER_ADMIN_URL");
        assert_eq!(spec_digest(&spec(&other_admin)), base);
        let described = BASE.replace("name = \"db\"\n", "name = \"db\"\nowner = \"platform\"\n");
        assert_eq!(spec_digest(&spec(&described)), base);
    }
}
