//! `strategy = dual-password` refused or failed through the real `rotor`
//! binary: a wrong or missing admin credential, an ACL user that does not
//! exist, a node nobody listens on, a server without the ACL command, an
//! admin without permission for it, and inventory mistakes. Each one gives
//! a clear message and the right exit code, changes no project file, and
//! leaves the old password working on every node.

mod common;
mod redis_common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::Harness;
use redis_common::*;
use rotor_testkit::inventory::{inventory, line_of, Secret};
use rotor_testkit::Redis;

/// The project's files outside the store (a failed run is recorded there,
/// as it should be).
fn files(h: &Harness) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut all = h.project.snapshot();
    all.retain(|p, _| !p.starts_with(".rotor"));
    all
}

#[track_caller]
fn assert_files_unchanged(h: &Harness, before: &BTreeMap<PathBuf, Vec<u8>>, what: &str) {
    let after = files(h);
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .map(|p| p.display().to_string())
        .collect();
    assert!(changed.is_empty(), "{what} changed {changed:?}");
}

/// The old password still logs in everywhere, and is the user's only one.
#[track_caller]
fn old_still_works(servers: &[&Redis]) {
    for r in servers {
        assert!(r.auth_ok(USER, INITIAL), "port {}: old refused", r.port());
        assert_eq!(
            password_count(r),
            1,
            "port {}: a password was left",
            r.port()
        );
    }
}

/// No run is left open and nothing became current.
#[track_caller]
fn nothing_pending(h: &mut Harness, env: &[(&str, &str)]) {
    let status = h.rotor_env(&["status", "--json"], env).json();
    assert!(status[0]["open_run"].is_null(), "{status}");
    assert!(status[0]["previous"].is_null(), "{status}");
}

#[test]
fn a_wrong_or_missing_admin_credential_changes_nothing() {
    let (primary, replica) = cluster();
    let nodes = [node(&primary), node(&replica)];
    let mut h = project(&primary, &app_inventory(&nodes));

    // The variable is not set: refused before anything is recorded.
    let before = h.project.snapshot();
    h.rotor(&["rotate", SECRET])
        .expect_code(2)
        .expect_output("$ROTOR_REDIS_ADMIN_URL, which is not set")
        .expect_output("redis:// URL of a user allowed ACL and CONFIG");
    h.project
        .assert_unchanged(&before, "an unset admin variable");
    old_still_works(&[&primary, &replica]);

    // Not a redis:// URL: named, never echoed.
    let garbled = "postgres://rotor_admin:garbled-admin-secret-31@127.0.0.1/x";
    h.leaks.learn("garbled-admin-secret-31");
    h.rotor_env(&["rotate", SECRET], &[(ADMIN_VAR, garbled)])
        .expect_code(2)
        .expect_output("admin URL is not a redis:// URL with a user and password");
    h.project.assert_unchanged(&before, "a garbled admin URL");

    // A wrong password: refused by the first node, nothing changed there.
    let wrong = primary
        .admin_url()
        .replace(primary.admin_password(), "wrong-admin-password-4c");
    h.leaks.learn("wrong-admin-password-4c");
    let before = files(&h);
    h.rotor_env(&["rotate", SECRET], &[(ADMIN_VAR, &wrong)])
        .expect_code(1)
        .expect_output("the admin login (rotor_admin) was refused; check its password")
        .expect_output("Nothing was changed at the authority");
    assert_files_unchanged(&h, &before, "a wrong admin password");
    old_still_works(&[&primary, &replica]);
    let admin = primary.admin_url();
    let env = [(ADMIN_VAR, admin.as_str())];
    nothing_pending(&mut h, &env);

    // With the right one, it goes through.
    h.rotor_env(&["rotate", SECRET], &env).expect_code(0);
    h.finish();
}

#[test]
fn an_acl_user_that_does_not_exist_is_not_created() {
    // Missing on every node.
    let primary = Redis::start();
    let replica = Redis::start_replica_of(&primary);
    let nodes = [node(&primary), node(&replica)];
    let mut h = project(&primary, &app_inventory(&nodes));
    let admin = primary.admin_url();
    let env = [(ADMIN_VAR, admin.as_str())];
    let before = files(&h);
    h.rotor_env(&["rotate", SECRET], &env)
        .expect_code(1)
        .expect_output("ACL user app does not exist; create it first");
    assert_files_unchanged(&h, &before, "a missing ACL user");
    for r in [&primary, &replica] {
        assert_eq!(
            r.cmd(&["ACL", "GETUSER", USER]).as_deref(),
            Ok("(nil)"),
            "the user was created"
        );
    }
    nothing_pending(&mut h, &env);
    h.finish();

    // Missing on the replica only: the primary is put back.
    app_user(&[&primary]);
    let mut h = project(&primary, &app_inventory(&nodes));
    let before = files(&h);
    h.rotor_env(&["rotate", SECRET], &env)
        .expect_code(1)
        .expect_output(&format!("{}: ACL user app does not exist", node(&replica)))
        .expect_output("put back");
    assert_files_unchanged(&h, &before, "a user missing on the replica");
    old_still_works(&[&primary]);
    assert_eq!(
        replica.cmd(&["ACL", "GETUSER", USER]).as_deref(),
        Ok("(nil)")
    );
    nothing_pending(&mut h, &env);
    h.finish();
}

#[test]
fn an_unreachable_second_node_fails_and_the_first_is_put_back() {
    let (primary, replica) = cluster();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dead_node = format!("redis://127.0.0.1:{dead}");
    let nodes = [node(&primary), dead_node.clone()];
    let mut h = project(&primary, &app_inventory(&nodes));
    let admin = primary.admin_url();
    let env = [(ADMIN_VAR, admin.as_str())];
    let before = files(&h);
    let run = h.rotor_env(&["rotate", SECRET], &env);
    run.expect_code(1)
        .expect_output(&dead_node)
        .expect_output("the nodes before it were put back")
        .expect_output("Nothing was changed at the authority");
    assert!(!run.stderr.contains("redis: redis: "), "{}", run.stderr);
    assert_files_unchanged(&h, &before, "an unreachable node");
    old_still_works(&[&primary, &replica]);
    nothing_pending(&mut h, &env);

    // Nothing is left behind: the next rotation, with the real replica
    // listed, goes through.
    h.project.write(
        "rotor.toml",
        app_inventory(&[node(&primary), node(&replica)]),
    );
    h.rotor_env(&["rotate", SECRET], &env).expect_code(0);
    let new = password(&h);
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &new));
        assert!(!r.auth_ok(USER, INITIAL));
    }
    h.finish();
}

#[test]
fn a_server_without_the_acl_command_is_refused_pointing_to_cutover() {
    // As on a managed Redis that hides ACL: rotor's `ACL …` is unknown.
    let hidden = "acl-hidden-3f9e";
    let r = Redis::start_with_config(&[&format!("rename-command ACL {hidden}")]);
    r.cmd(&[
        hidden,
        "SETUSER",
        USER,
        "on",
        &format!(">{INITIAL}"),
        "~*",
        "+@all",
    ])
    .expect("SETUSER through the renamed command");
    r.cmd(&[hidden, "SAVE"]).expect("SAVE");
    assert!(r.cmd(&["ACL", "WHOAMI"]).is_err(), "ACL is unknown");
    let mut h = project(&r, &app_inventory(&[node(&r)]));
    let admin = r.admin_url();
    let env = [(ADMIN_VAR, admin.as_str())];
    let before = files(&h);
    h.rotor_env(&["rotate", SECRET], &env)
        .expect_code(1)
        .expect_output("this server has no ACLs")
        .expect_output("strategy cutover");
    assert_files_unchanged(&h, &before, "a server without ACL");
    assert!(r.auth_ok(USER, INITIAL));
    nothing_pending(&mut h, &env);
    h.finish();
}

#[test]
fn an_admin_not_allowed_acl_is_refused_clearly() {
    let (primary, replica) = cluster();
    let weak = "weak-admin-password-8d2a";
    for r in [&primary, &replica] {
        r.cmd(&[
            "ACL",
            "SETUSER",
            "weak_admin",
            "on",
            &format!(">{weak}"),
            "~*",
            "&*",
            "+@all",
            "-@admin",
        ])
        .expect("weak admin");
    }
    let nodes = [node(&primary), node(&replica)];
    let mut h = project(&primary, &app_inventory(&nodes));
    h.leaks.learn(weak);
    let weak_url = format!("redis://weak_admin:{weak}@127.0.0.1:{}", primary.port());
    let before = files(&h);
    h.rotor_env(&["rotate", SECRET], &[(ADMIN_VAR, &weak_url)])
        .expect_code(1)
        .expect_output("no permissions to run the 'acl|getuser' command")
        .expect_output("the admin user needs +@admin (ACL, CONFIG)");
    assert_files_unchanged(&h, &before, "an admin without ACL");
    old_still_works(&[&primary, &replica]);
    let admin = primary.admin_url();
    nothing_pending(&mut h, &[(ADMIN_VAR, admin.as_str())]);
    h.finish();
}

/// `rotor plan` and `rotor rotate` refuse `inventory` with exit 2 and a
/// message holding `place` (file:line:col) and `words`; nothing changes.
#[track_caller]
fn refused_inventory(inventory: &str, place: &str, words: &str) {
    let env = "REDIS_URL=redis://app:initial-redis-password-5f3c1a7e9d@127.0.0.1:6379/0\n\
               REDIS_PASSWORD=initial-redis-password-5f3c1a7e9d\n";
    let mut h = Harness::new(inventory, &[(".env", env)]);
    h.manage(".env", &["REDIS_URL", "REDIS_PASSWORD"]);
    let before = h.project.snapshot();
    for args in [&["plan"][..], &["rotate", "--all"][..]] {
        let run = h.rotor_env(args, &[(ADMIN_VAR, "redis://a:b-secret-value@127.0.0.1:1")]);
        run.expect_code(2).expect_output(place).expect_output(words);
    }
    h.project.assert_unchanged(&before, "a refused inventory");
    h.finish();
}

const NODES: [&str; 2] = ["redis://127.0.0.1:6379", "redis://127.0.0.1:6380"];

/// `redis_app` on [`NODES`], its admin URL from `$ROTOR_REDIS_ADMIN_URL`.
fn good_app() -> Secret {
    redis_app(&NODES.map(str::to_owned), &[&admin_env_line()])
}

fn good() -> String {
    inventory(&[good_app()])
}

/// `redis_app`, rotated `dual-password`, with no authority yet.
fn without_authority() -> Secret {
    redis_app_delivered().password_of(32).dual_password()
}

/// `rotor.toml:LINE:COLUMN: secret "redis_app"`, LINE the first of `text`
/// holding `needle`.
fn place(text: &str, needle: &str, column: usize) -> String {
    format!(
        "rotor.toml:{}:{column}: secret \"redis_app\"",
        line_of(text, needle)
    )
}

#[test]
fn the_good_inventory_plans() {
    let mut h = Harness::new(
        &good(),
        &[(
            ".env",
            &format!("REDIS_PASSWORD={INITIAL}\nREDIS_URL=redis://app:{INITIAL}@h:1/0\n"),
        )],
    );
    h.manage(".env", &["REDIS_URL", "REDIS_PASSWORD"]);
    h.rotor(&["plan"]).expect_code(0);
    h.finish();
}

#[test]
fn dual_password_without_an_authority() {
    let without = inventory(&[without_authority()]);
    refused_inventory(
        &without,
        &place(&without, "strategy =", 12),
        "add [secret.authority] with kind = \"redis\"",
    );
}

#[test]
fn dual_password_without_a_user() {
    let inv = inventory(&[without_authority()
        .redis(&[&admin_env_line()], &NODES)
        .authority_lines(&[RETIRE_DELAY])]);
    refused_inventory(
        &inv,
        &place(&inv, "[secret.authority]", 1),
        "strategy dual-password needs user = ",
    );
}

#[test]
fn a_redis_authority_without_nodes() {
    let inv = inventory(&[without_authority().authority_lines(&[
        "kind = \"redis\"",
        &admin_env_line(),
        "user = \"app\"",
        RETIRE_DELAY,
    ])]);
    refused_inventory(
        &inv,
        &place(&inv, "[secret.authority]", 1),
        "needs nodes = [\"redis://HOST:PORT\"",
    );
    let inv = inventory(&[redis_app(&[], &[&admin_env_line()])]);
    refused_inventory(&inv, &place(&inv, "nodes =", 9), "nodes is empty");
}

#[test]
fn a_node_url_with_a_password() {
    let nodes = [
        NODES[0].to_owned(),
        "redis://app:node-url-secret-9a@127.0.0.1:6380".to_owned(),
    ];
    let inv = inventory(&[redis_app(&nodes, &[&admin_env_line()])]);
    refused_inventory(
        &inv,
        &place(&inv, "nodes =", 36),
        "a node URL holds a credential",
    );
}

#[test]
fn postgres_keys_on_a_redis_authority() {
    for (key, column) in [
        ("role = \"app\"", 8),
        ("group = \"app\"", 9),
        ("roles = [\"a\", \"b\"]", 9),
        ("retire = \"drop\"", 10),
    ] {
        let inv = inventory(&[good_app().authority_lines(&[key])]);
        let name = key.split(' ').next().unwrap_or_default();
        refused_inventory(
            &inv,
            &place(&inv, key, column),
            &format!("{name} belongs to the postgres authority"),
        );
    }
}

#[test]
fn strategies_a_redis_authority_cannot_carry() {
    for (strategy, words) in [
        (
            "{ kind = \"overlap\", window = \"1d\" }",
            "strategy overlap does not apply to a Redis authority",
        ),
        (
            "{ kind = \"alternate\" }",
            "strategy alternate does not apply to a Redis authority",
        ),
    ] {
        let inv = inventory(&[good_app().strategy(strategy)]);
        refused_inventory(&inv, &place(&inv, "[secret.authority]", 1), words);
    }
}

#[test]
fn user_with_cutover() {
    let inv = inventory(&[good_app().cutover()]);
    refused_inventory(
        &inv,
        &place(&inv, "user =", 8),
        "strategy cutover rotates requirepass",
    );
}

#[test]
fn an_admin_url_with_a_password_next_to_admin_secret() {
    let admin = Secret::new("redis_admin")
        .password_of(32)
        .dotenv(".env", "OPS_PASSWORD");
    let app = redis_app(
        &NODES.map(str::to_owned),
        &[
            "admin_secret = \"redis_admin\"",
            "admin_url = \"redis://ops:admin-url-secret-5e@127.0.0.1:6379\"",
        ],
    );
    let inv = inventory(&[admin, app]);
    refused_inventory(
        &inv,
        &place(&inv, "admin_url =", 13),
        "admin_url contains a password",
    );
}

/// An operator switched the user off on one node (an incident): rotor
/// refuses to rotate rather than switch it back on, and `verify` calls it
/// drift on that node.
#[test]
fn a_user_switched_off_by_hand_stays_off() {
    let (primary, replica) = cluster();
    replica
        .cmd(&["ACL", "SETUSER", USER, "off"])
        .expect("switch off");
    let nodes = [node(&primary), node(&replica)];
    let mut h = project(&primary, &app_inventory(&nodes));
    let admin = primary.admin_url();
    let env = [(ADMIN_VAR, admin.as_str())];
    let before = files(&h);
    h.rotor_env(&["rotate", SECRET], &env)
        .expect_code(1)
        .expect_output(&format!(
            "{}: ACL user app is switched off there; rotor does not switch a user back on",
            node(&replica)
        ))
        .expect_output("Nothing was changed at the authority");
    assert_files_unchanged(&h, &before, "a user switched off");
    let flags = |r: &Redis| r.cmd(&["ACL", "GETUSER", USER]).expect("GETUSER");
    assert!(flags(&replica).lines().any(|l| l == "off"), "still off");
    old_still_works(&[&primary]);
    nothing_pending(&mut h, &env);

    // Switched on again, it rotates; switched off after, it is drift there.
    replica
        .cmd(&["ACL", "SETUSER", USER, "on"])
        .expect("switch on");
    h.rotor_env(&["rotate", SECRET], &env).expect_code(0);
    replica
        .cmd(&["ACL", "SETUSER", USER, "off"])
        .expect("switch off");
    let v = h.rotor_env(&["verify", SECRET], &env);
    v.expect_code(4).expect_output(&format!(
        "{}: ACL user app is switched off there",
        node(&replica)
    ));
    assert!(!v.stdout.contains(&node(&primary)), "{}", v.stdout);
    h.finish();
}
