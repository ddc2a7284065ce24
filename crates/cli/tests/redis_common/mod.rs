//! Shared by the Redis CLI tests: an ACL user on a throwaway primary and
//! replica, the inventory of a `dual-password` secret, and a project around
//! it.
#![allow(dead_code)]

use rotor::secret::SecretValue;
use rotor_testkit::inventory::{inventory, Secret};
use rotor_testkit::Redis;

use crate::common::Harness;

pub const USER: &str = "app";
pub const SECRET: &str = "redis_app";
pub const INITIAL: &str = "initial-redis-password-5f3c1a7e9d";
pub const ADMIN_VAR: &str = "ROTOR_REDIS_ADMIN_URL";

pub fn node(r: &Redis) -> String {
    format!("redis://127.0.0.1:{}", r.port())
}

/// `redis_app` as the application holds it, with no generator, strategy
/// or authority yet: owned by platform, due every 90 days, in `REDIS_URL`
/// (the password inside the URL) and `REDIS_PASSWORD` of `.env`.
pub fn redis_app_delivered() -> Secret {
    Secret::new(SECRET)
        .key("owner", "platform")
        .key("cadence", "90d")
        .dotenv_url(".env", "REDIS_URL")
        .dotenv(".env", "REDIS_PASSWORD")
}

/// `retire_delay` of `redis_app`'s authority.
pub const RETIRE_DELAY: &str =
    "retire_delay = \"0s\" # no consumer here reads the file just before delivery";

/// `redis_app`: the password of the ACL user `app` on `nodes`, rotated
/// `dual-password`, its admin given by `admin` (the `admin_url_env` or
/// `admin_secret` lines).
pub fn redis_app(nodes: &[String], admin: &[&str]) -> Secret {
    let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
    redis_app_delivered()
        .redis_dual_password(admin, USER, &nodes)
        .authority_lines(&[RETIRE_DELAY])
}

/// The inventory of [`redis_app`] alone on `nodes`, the admin URL from
/// `$ROTOR_REDIS_ADMIN_URL`.
pub fn app_inventory(nodes: &[String]) -> String {
    inventory(&[redis_app(nodes, &[&admin_env_line()])])
}

pub fn admin_env_line() -> String {
    format!("admin_url_env = \"{ADMIN_VAR}\"")
}

pub fn url(r: &Redis, password: &str) -> String {
    format!("redis://{USER}:{password}@127.0.0.1:{}/0", r.port())
}

/// ACL user `user` with `password` (and the permissions an application
/// needs), saved, on each server.
pub fn with_user(servers: &[&Redis], user: &str, password: &str, perms: &[&str]) {
    for r in servers {
        let pass = format!(">{password}");
        let mut args = vec!["ACL", "SETUSER", user, "reset", "on", pass.as_str()];
        args.extend_from_slice(perms);
        r.cmd(&args).expect("ACL SETUSER");
        persist(r);
    }
}

pub fn app_user(servers: &[&Redis]) {
    with_user(
        servers,
        USER,
        INITIAL,
        &["~*", "&*", "+@all", "-@admin", "-@dangerous"],
    );
}

pub fn persist(r: &Redis) {
    if r.aclfile_path().is_some() {
        r.cmd(&["ACL", "SAVE"]).expect("ACL SAVE");
    } else {
        r.cmd(&["CONFIG", "REWRITE"]).expect("CONFIG REWRITE");
    }
}

/// A primary and its replica, both with the ACL user `app`.
pub fn cluster() -> (Redis, Redis) {
    let primary = Redis::start();
    let replica = Redis::start_replica_of(&primary);
    app_user(&[&primary, &replica]);
    (primary, replica)
}

pub fn env_file(primary: &Redis) -> String {
    format!(
        "# cache\nREDIS_URL={}\nREDIS_PASSWORD={INITIAL}\nPORT=8080\n",
        url(primary, INITIAL)
    )
}

/// A project for `inventory`, initialised, its scanner knowing the admin
/// password and the `.env` values.
pub fn project(primary: &Redis, inventory: &str) -> Harness {
    let mut h = Harness::new(inventory, &[(".env", &env_file(primary))]);
    h.manage(".env", &["REDIS_URL", "REDIS_PASSWORD"]);
    h.leaks.learn(primary.admin_password());
    h.rotor(&["init"]).expect_code(0);
    h
}

/// The password `.env` holds now.
pub fn password(h: &Harness) -> String {
    h.env_var(".env", "REDIS_PASSWORD").expect("REDIS_PASSWORD")
}

/// rotor's fingerprint of `value` (the start of its SHA-256).
pub fn fingerprint(value: &str) -> String {
    SecretValue::new(value.to_owned()).fingerprint().to_string()
}

/// The number of passwords `app` has on `r`.
pub fn password_count(r: &Redis) -> usize {
    let user = r.cmd(&["ACL", "GETUSER", USER]).expect("ACL GETUSER");
    let lines: Vec<&str> = user.lines().collect();
    // The reply is flattened one element per line: after "passwords" come
    // the hashes, then "commands".
    let start = lines
        .iter()
        .position(|l| *l == "passwords")
        .expect("passwords field");
    let end = lines
        .iter()
        .position(|l| *l == "commands")
        .expect("commands field");
    end - start - 1
}

/// Stops both servers and starts them again (each from the files it
/// persisted its users in).
pub fn restart(primary: &mut Redis, replica: &mut Redis) {
    replica.stop();
    primary.stop();
    primary.start_again();
    replica.start_again();
}
