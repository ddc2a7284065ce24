//! A typed builder for the `rotor.toml` inventories tests write, so a test
//! says what its secrets are instead of hand-typing `[[secret]]` tables.
//!
//! ```
//! use rotor_testkit::inventory::{inventory, Secret};
//!
//! let jwt = Secret::new("jwt")
//!     .random(32)
//!     .overlap("1d")
//!     .dotenv(".env", "JWT_SECRET")
//!     .previous_var("JWT_SECRET_PREVIOUS")
//!     .hook_line("retry_backoff = \"10ms\"");
//! let text = inventory(&[jwt]);
//! assert!(text.starts_with("\n[[secret]]\nname = \"jwt\"\n"));
//! assert!(text.contains("\n[[secret.target]]\nkind = \"dotenv\"\n"));
//! ```
//!
//! Every secret renders as the tests used to write it by hand:
//!
//! ```text
//! [[secret]]
//! name = "…"
//! (other keys, in the order given)
//! generator = …
//! strategy = …
//! (keys given with `line_after_strategy`)
//!
//! [[secret.target]]        (each target, in order)
//! …
//!
//! [secret.hooks]
//! …
//!
//! [secret.manual]          (the steps of a manual secret)
//! …
//!
//! [secret.authority]
//! …
//!
//! [secret.authority.config] (an exec plugin's config)
//! …
//! ```
//!
//! A table is written only when it has lines. The generator and the
//! strategy are set (a second call, e.g. `.cutover()` on a secret that had
//! `.overlap("1d")`, replaces the first, so a test can vary one key of a
//! shared secret); every other method adds lines where the layout says.
//!
//! [`inventory`] starts with an empty line and puts one between secrets, so
//! the line numbers of the tests' expected messages stay where they were.

/// One `[[secret]]` table and the tables under it.
#[derive(Clone, Debug, Default)]
pub struct Secret {
    name: String,
    keys: Vec<String>,
    generator: Option<String>,
    strategy: Option<String>,
    tail: Vec<String>,
    targets: Vec<Vec<String>>,
    hooks: Vec<String>,
    manual: Vec<String>,
    authority: Vec<String>,
    config: Vec<String>,
}

/// `s` as a TOML basic string, quotes included.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `items` as a TOML array of strings: `["sh", "-c", "…"]`.
pub fn array(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", items.join(", "))
}

impl Secret {
    /// A secret called `name`, with nothing else yet.
    pub fn new(name: &str) -> Secret {
        Secret {
            name: name.to_owned(),
            ..Secret::default()
        }
    }

    /// A raw line among the secret's own keys (after `name`, before
    /// `generator`): `.line("cadence = \"1d\"")`.
    pub fn line(mut self, line: &str) -> Secret {
        self.keys.push(line.to_owned());
        self
    }

    /// A raw line among the secret's own keys after `strategy` (where
    /// hand-written inventories kept `related`, and where tests that name
    /// line numbers still expect it).
    pub fn line_after_strategy(mut self, line: &str) -> Secret {
        self.tail.push(line.to_owned());
        self
    }

    /// A string key among the secret's own keys: `key = "value"`.
    pub fn key(self, key: &str, value: &str) -> Secret {
        let line = format!("{key} = {}", quote(value));
        self.line(&line)
    }

    /// The generator, written as given: `{ kind = "…", … }`.
    pub fn generator(mut self, generator: &str) -> Secret {
        self.generator = Some(generator.to_owned());
        self
    }

    /// `generator = { kind = "random", bytes = BYTES }`.
    pub fn random(self, bytes: u32) -> Secret {
        self.generator(&format!("{{ kind = \"random\", bytes = {bytes} }}"))
    }

    /// `generator = { kind = "random", bytes = BYTES, encoding = "…" }`.
    pub fn random_encoded(self, bytes: u32, encoding: &str) -> Secret {
        self.generator(&format!(
            "{{ kind = \"random\", bytes = {bytes}, encoding = {} }}",
            quote(encoding)
        ))
    }

    /// `generator = { kind = "password", length = LENGTH, alphabet = "…" }`.
    pub fn password(self, length: u32, alphabet: &str) -> Secret {
        self.generator(&format!(
            "{{ kind = \"password\", length = {length}, alphabet = {} }}",
            quote(alphabet)
        ))
    }

    /// `generator = { kind = "password", length = LENGTH }` (the default
    /// alphabet).
    pub fn password_of(self, length: u32) -> Secret {
        self.generator(&format!("{{ kind = \"password\", length = {length} }}"))
    }

    /// The strategy, written as given: `{ kind = "…", … }`.
    pub fn strategy(mut self, strategy: &str) -> Secret {
        self.strategy = Some(strategy.to_owned());
        self
    }

    /// `strategy = { kind = "overlap", window = "WINDOW" }`.
    pub fn overlap(self, window: &str) -> Secret {
        self.strategy(&format!(
            "{{ kind = \"overlap\", window = {} }}",
            quote(window)
        ))
    }

    /// `strategy = { kind = "cutover" }`.
    pub fn cutover(self) -> Secret {
        self.strategy("{ kind = \"cutover\" }")
    }

    /// `strategy = { kind = "dual-password" }`.
    pub fn dual_password(self) -> Secret {
        self.strategy("{ kind = \"dual-password\" }")
    }

    /// A `[[secret.target]]` table of raw lines.
    pub fn target_lines(mut self, lines: &[&str]) -> Secret {
        self.targets
            .push(lines.iter().map(|l| (*l).to_owned()).collect());
        self
    }

    /// A raw line added to the last target (`format = "list"`,
    /// `mode = "0640"`, …).
    ///
    /// # Panics
    ///
    /// When the secret has no target yet.
    pub fn target_line(mut self, line: &str) -> Secret {
        self.targets
            .last_mut()
            .expect("target_line after a target")
            .push(line.to_owned());
        self
    }

    /// A `dotenv` target: `var` in the env file `path`.
    pub fn dotenv(self, path: &str, var: &str) -> Secret {
        let lines = [
            "kind = \"dotenv\"".to_owned(),
            format!("path = {}", quote(path)),
            format!("var = {}", quote(var)),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        self.target_lines(&lines)
    }

    /// A `dotenv` target holding a URL: the password inside the URL in
    /// `var` of the env file `path` is the secret (`form = "url"`).
    pub fn dotenv_url(self, path: &str, var: &str) -> Secret {
        self.dotenv(path, var).target_line("form = \"url\"")
    }

    /// `previous_var = "VAR"` on the last target.
    pub fn previous_var(self, var: &str) -> Secret {
        let line = format!("previous_var = {}", quote(var));
        self.target_line(&line)
    }

    /// A `template` target: `path` rendered from `template`.
    pub fn template(self, path: &str, template: &str) -> Secret {
        let lines = [
            "kind = \"template\"".to_owned(),
            format!("path = {}", quote(path)),
            format!("template = {}", quote(template)),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        self.target_lines(&lines)
    }

    /// A raw line in `[secret.hooks]`: `.hook_line("retries = 2")`.
    pub fn hook_line(mut self, line: &str) -> Secret {
        self.hooks.push(line.to_owned());
        self
    }

    /// `restart = [ARGV…]` in `[secret.hooks]`.
    pub fn restart(self, argv: &[&str]) -> Secret {
        let line = format!("restart = {}", array(argv));
        self.hook_line(&line)
    }

    /// `verify = { command = [ARGV…], timeout = "TIMEOUT" }` in
    /// `[secret.hooks]`.
    pub fn verify_command(self, argv: &[&str], timeout: &str) -> Secret {
        let line = format!(
            "verify = {{ command = {}, timeout = {} }}",
            array(argv),
            quote(timeout)
        );
        self.hook_line(&line)
    }

    /// The fault suites' hooks: `restart` appends a line to `restarts.log`
    /// (so a test counts restarts), `verify` runs `sh verify.sh` within
    /// `timeout`.
    pub fn fault_hooks(self, timeout: &str) -> Secret {
        self.restart(&["sh", "-c", "echo restart >> restarts.log"])
            .verify_command(&["sh", "verify.sh"], timeout)
    }

    /// Raw lines in `[secret.authority]`.
    pub fn authority_lines(mut self, lines: &[&str]) -> Secret {
        self.authority.extend(lines.iter().map(|l| (*l).to_owned()));
        self
    }

    /// Raw lines in `[secret.manual]` (portal, steps, value rules).
    pub fn manual_lines(mut self, lines: &[&str]) -> Secret {
        self.manual.extend(lines.iter().map(|l| (*l).to_owned()));
        self
    }

    /// `[secret.authority]` of kind `exec` running `command = [ARGV…]`
    /// (more authority lines, `timeout` or `env`, may follow with
    /// [`Secret::authority_lines`]).
    pub fn exec(self, argv: &[&str]) -> Secret {
        let command = format!("command = {}", array(argv));
        self.authority_lines(&["kind = \"exec\"", &command])
    }

    /// Raw lines in `[secret.authority.config]`, what an exec plugin is
    /// given as its config.
    pub fn authority_config(mut self, lines: &[&str]) -> Secret {
        self.config.extend(lines.iter().map(|l| (*l).to_owned()));
        self
    }

    /// `[secret.authority]` of kind `redis`: `lines` (admin, user, …),
    /// then `nodes = [NODES…]`.
    pub fn redis(self, lines: &[&str], nodes: &[&str]) -> Secret {
        let nodes = format!("nodes = {}", array(nodes));
        self.authority_lines(&["kind = \"redis\""])
            .authority_lines(lines)
            .authority_lines(&[&nodes])
    }

    /// A 32-character password of the Redis ACL user `user` on `nodes`,
    /// rotated `dual-password` (the user holds the old and the new one
    /// while they overlap); `admin` names how rotor logs in as admin
    /// (`admin_url_env = …`, or `admin_secret` and `admin_url`).
    pub fn redis_dual_password(self, admin: &[&str], user: &str, nodes: &[&str]) -> Secret {
        let user = format!("user = {}", quote(user));
        let mut lines = admin.to_vec();
        lines.push(&user);
        self.password_of(32).dual_password().redis(&lines, nodes)
    }

    /// `[secret.authority]` of kind `postgres` with the admin URL from
    /// `$ROTOR_PG_ADMIN_URL`, then `lines`.
    pub fn postgres(self, lines: &[&str]) -> Secret {
        self.authority_lines(&[
            "kind = \"postgres\"",
            "admin_url_env = \"ROTOR_PG_ADMIN_URL\"",
        ])
        .authority_lines(lines)
    }

    /// A 32-character password of the PostgreSQL role `role`, cut over
    /// (`strategy = cutover`), the admin URL from `$ROTOR_PG_ADMIN_URL`.
    pub fn cutover_role(self, role: &str) -> Secret {
        let role = format!("role = {}", quote(role));
        self.password_of(32).cutover().postgres(&[&role])
    }

    /// A 32-character password that `blue` and `green`, members of
    /// `group`, take turns holding (`strategy = alternate`).
    pub fn alternating(self, group: &str, blue: &str, green: &str) -> Secret {
        let group = format!("group = {}", quote(group));
        let roles = format!("roles = {}", array(&[blue, green]));
        self.password_of(32)
            .strategy("{ kind = \"alternate\" }")
            .postgres(&[&group, &roles])
    }

    /// The secret's tables, each line ending in a newline.
    pub fn render(&self) -> String {
        let mut out = format!("[[secret]]\nname = {}\n", quote(&self.name));
        for line in &self.keys {
            out.push_str(line);
            out.push('\n');
        }
        if let Some(g) = &self.generator {
            out.push_str(&format!("generator = {g}\n"));
        }
        if let Some(s) = &self.strategy {
            out.push_str(&format!("strategy = {s}\n"));
        }
        for line in &self.tail {
            out.push_str(line);
            out.push('\n');
        }
        let mut table = |header: &str, lines: &[String]| {
            out.push_str(&format!("\n{header}\n"));
            for line in lines {
                out.push_str(line);
                out.push('\n');
            }
        };
        for target in &self.targets {
            table("[[secret.target]]", target);
        }
        if !self.hooks.is_empty() {
            table("[secret.hooks]", &self.hooks);
        }
        if !self.manual.is_empty() {
            table("[secret.manual]", &self.manual);
        }
        if !self.authority.is_empty() {
            table("[secret.authority]", &self.authority);
        }
        if !self.config.is_empty() {
            table("[secret.authority.config]", &self.config);
        }
        out
    }
}

/// The inventory of `secrets`: an empty line, then each secret's tables,
/// an empty line between secrets.
pub fn inventory(secrets: &[Secret]) -> String {
    let secrets: Vec<String> = secrets.iter().map(Secret::render).collect();
    format!("\n{}", secrets.join("\n"))
}

/// `count` secrets `s0`, `s1`, …: 24 random bytes each, overlap for a day,
/// in `S0`, `S1`, … of `.env` with the previous value in `S0_PREVIOUS`, …
/// (the inventories of the concurrency and scale tests).
pub fn overlapping(count: usize) -> Vec<Secret> {
    (0..count)
        .map(|i| {
            Secret::new(&format!("s{i}"))
                .random(24)
                .overlap("1d")
                .dotenv(".env", &format!("S{i}"))
                .previous_var(&format!("S{i}_PREVIOUS"))
        })
        .collect()
}

/// The 1-based number of the first line of `text` that contains `needle`,
/// for tests that expect an error to name a line of `rotor.toml`.
///
/// # Panics
///
/// When no line contains `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line of the inventory contains {needle:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_as_the_tests_wrote_it() {
        let jwt = Secret::new("jwt")
            .random(32)
            .overlap("1d")
            .line_after_strategy("related = [\"nextauth\"]")
            .dotenv("conf/.env", "JWT_SECRET")
            .previous_var("JWT_SECRET_PREVIOUS");
        let nextauth = Secret::new("nextauth")
            .random(32)
            .dotenv("conf/.env", "NEXTAUTH_SECRET")
            .restart(&["sh", "-c", "echo \"hi\""])
            .verify_command(&["false"], "5s")
            .authority_lines(&["kind = \"postgres\""]);
        assert_eq!(
            inventory(&[jwt, nextauth]),
            r#"
[[secret]]
name = "jwt"
generator = { kind = "random", bytes = 32 }
strategy = { kind = "overlap", window = "1d" }
related = ["nextauth"]

[[secret.target]]
kind = "dotenv"
path = "conf/.env"
var = "JWT_SECRET"
previous_var = "JWT_SECRET_PREVIOUS"

[[secret]]
name = "nextauth"
generator = { kind = "random", bytes = 32 }

[[secret.target]]
kind = "dotenv"
path = "conf/.env"
var = "NEXTAUTH_SECRET"

[secret.hooks]
restart = ["sh", "-c", "echo \"hi\""]
verify = { command = ["false"], timeout = "5s" }

[secret.authority]
kind = "postgres"
"#
        );
    }

    #[test]
    fn manual_steps_and_authorities_render_in_their_tables() {
        let key = Secret::new("key")
            .strategy("{ kind = \"manual\" }")
            .dotenv(".env", "KEY")
            .manual_lines(&["min_length = 32"])
            .exec(&["python3", "plugin.py"])
            .authority_lines(&["env = [\"ADMIN\"]"])
            .authority_config(&["base_url = \"http://127.0.0.1:1\""]);
        assert_eq!(
            key.render(),
            r#"[[secret]]
name = "key"
strategy = { kind = "manual" }

[[secret.target]]
kind = "dotenv"
path = ".env"
var = "KEY"

[secret.manual]
min_length = 32

[secret.authority]
kind = "exec"
command = ["python3", "plugin.py"]
env = ["ADMIN"]

[secret.authority.config]
base_url = "http://127.0.0.1:1"
"#
        );
        // A second strategy replaces the first.
        assert_eq!(
            Secret::new("k").overlap("1d").cutover().render(),
            "[[secret]]\nname = \"k\"\nstrategy = { kind = \"cutover\" }\n"
        );
        let cache = Secret::new("cache").redis_dual_password(
            &["admin_url_env = \"ADMIN\""],
            "app",
            &["redis://127.0.0.1:6379"],
        );
        assert_eq!(
            cache.render(),
            r#"[[secret]]
name = "cache"
generator = { kind = "password", length = 32 }
strategy = { kind = "dual-password" }

[secret.authority]
kind = "redis"
admin_url_env = "ADMIN"
user = "app"
nodes = ["redis://127.0.0.1:6379"]
"#
        );
    }
}
