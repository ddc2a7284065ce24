//! `strategy = dual-password` with the Redis authority, end to end through
//! the real `rotor` binary against a real primary and replica
//! (`rotor_testkit::Redis`): the new password works on both nodes and the
//! old one is refused once the run is over, `.env` changes only where the
//! password is, the change survives a restart (ACL SAVE and CONFIG
//! REWRITE), connections opened with the old password keep working, the
//! audit trail holds fingerprints only, drift on one node is named, the
//! admin password can be another secret of the inventory, and a retire that
//! fails leaves the rotation standing until `rotor retire`.

mod common;
mod redis_common;

use common::Harness;
use redis_common::*;
use rotor_testkit::inventory::{inventory, Secret};
use rotor_testkit::Redis;

/// Rotate on a primary and a replica with aclfiles (ACL SAVE): the new
/// password works on both and the old one is refused on both once the run
/// is over, `.env` changes only in the password, connections opened with
/// the old password keep working, the change survives a restart, and the
/// audit trail names each step with fingerprints only.
#[test]
fn rotate_moves_every_node_to_the_new_password_and_open_connections_stay() {
    let (mut primary, mut replica) = cluster();
    let nodes = [node(&primary), node(&replica)];
    let mut h = project(&primary, &app_inventory(&nodes));
    let admin = primary.admin_url();
    let env = [(ADMIN_VAR, admin.as_str())];

    let before = h.project.snapshot();
    let plan = h.rotor_env(&["plan", SECRET], &env);
    plan.expect_code(0)
        .expect_output("ACL SETUSER app adds NEW")
        .expect_output("each of its 2 nodes")
        .expect_output("Both passwords work until retire")
        .expect_output("remove the old password from the ACL user on every node");
    h.project.assert_unchanged(&before, "`rotor plan`");

    // Clients that logged in with the old password before the rotation.
    let mut on_primary = primary.session(USER, INITIAL).expect("AUTH old on primary");
    let mut on_replica = replica.session(USER, INITIAL).expect("AUTH old on replica");
    assert_eq!(
        on_primary.call(&["SET", "cache:k", "v1"]).as_deref(),
        Ok("OK")
    );

    let run = h.rotor_env(&["rotate", SECRET], &env);
    run.expect_code(0).expect_output("rotated");
    let new = password(&h);
    assert_ne!(new, INITIAL);
    assert_eq!(new.len(), 32);
    // Only the password part of the URL changed; the user is kept.
    assert_eq!(
        h.env_var(".env", "REDIS_URL").as_deref(),
        Some(url(&primary, &new).as_str())
    );
    assert_eq!(h.env_var(".env", "PORT").as_deref(), Some("8080"));
    assert!(h.project.read_string(".env").starts_with("# cache\n"));
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &new), "the new password logs in");
        assert!(!r.auth_ok(USER, INITIAL), "the old password is refused");
        assert_eq!(password_count(r), 1, "only the new password is left");
    }

    // Redis keeps connections that authenticated before: they still answer.
    assert_eq!(on_primary.call(&["PING"]).as_deref(), Ok("PONG"));
    assert_eq!(on_primary.call(&["GET", "cache:k"]).as_deref(), Ok("v1"));
    assert_eq!(on_primary.call(&["ACL", "WHOAMI"]).as_deref(), Ok(USER));
    assert_eq!(on_replica.call(&["PING"]).as_deref(), Ok("PONG"));
    assert_eq!(on_replica.call(&["ACL", "WHOAMI"]).as_deref(), Ok(USER));

    // The store: v1 adopted from the files and retired, v2 current.
    let status = h.rotor_env(&["status", "--json"], &env);
    status.expect_code(0);
    let status = status.json();
    assert_eq!(status[0]["version"], 2, "{status}");
    assert_eq!(status[0]["strategy"], "dual-password", "{status}");
    assert!(status[0]["previous"].is_null(), "{status}");
    assert_eq!(status[0]["fingerprint"], fingerprint(&new), "{status}");

    // verify: the targets and every node agree.
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");
    let json = h.rotor_env(&["verify", "--json"], &env);
    json.expect_code(0);
    let json = json.json();
    assert_eq!(json[0]["secret"], SECRET);
    assert_eq!(json[0]["authority"], "redis");
    assert_eq!(json[0]["version"], 2);
    assert_eq!(json[0]["login"], USER);
    let checks = json[0]["checks"].as_array().expect("checks");
    assert!(checks.iter().all(|c| c["state"] == "ok"), "{json}");
    assert!(
        checks
            .iter()
            .any(|c| c["what"] == "redis accepts current (v2, app)"),
        "{json}"
    );

    // The audit trail: each step of the run, with fingerprints only.
    let history = h.rotor_env(&["history", SECRET, "--json"], &env);
    history.expect_code(0);
    let history = history.json();
    let audit = history["audit"].as_array().expect("audit");
    let entry = |step: &str| {
        audit
            .iter()
            .find(|e| e["step"] == step)
            .unwrap_or_else(|| panic!("no audit entry {step}: {history}"))
    };
    let adopt = entry("rotate.adopt");
    assert_eq!(adopt["version"], 1);
    assert_eq!(adopt["fingerprint"], fingerprint(INITIAL));
    let generate = entry("rotate.generate");
    assert_eq!(generate["version"], 2);
    assert_eq!(generate["fingerprint"], fingerprint(&new));
    assert!(
        generate["detail"]
            .as_str()
            .is_some_and(|d| d.contains("strategy dual-password, login app")),
        "{generate}"
    );
    let promote = entry("rotate.promote");
    assert_eq!(promote["version"], 2);
    assert_eq!(promote["outcome"], "ok");
    assert_eq!(promote["fingerprint"], fingerprint(&new));
    assert!(
        promote["detail"]
            .as_str()
            .is_some_and(|d| d.contains("app holds only the new password")
                && d.contains("version 1's password was removed")),
        "{promote}"
    );
    let versions = history["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2, "{history}");
    h.rotor_env(&["history", SECRET], &env)
        .expect_code(0)
        .expect_output(&fingerprint(&new))
        .expect_output("rotate.promote");
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);

    // Persisted: a restart of both servers keeps the new password only.
    drop(on_primary);
    drop(on_replica);
    restart(&mut primary, &mut replica);
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &new), "the new password survives a restart");
        assert!(!r.auth_ok(USER, INITIAL), "the old one stays refused");
    }
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");

    // A second rotation starts from the store's value.
    h.rotor_env(&["rotate", SECRET], &env).expect_code(0);
    let newer = password(&h);
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &newer));
        assert!(!r.auth_ok(USER, &new));
        assert_eq!(password_count(r), 1);
    }
    h.finish();
}

/// A primary without an aclfile (its users live in redis.conf: CONFIG
/// REWRITE) and a replica with one (ACL SAVE): both keep the rotation
/// across a restart.
#[test]
fn config_rewrite_and_acl_save_both_survive_a_restart() {
    let mut primary = Redis::start_without_aclfile();
    let mut replica = Redis::start_replica_of(&primary);
    app_user(&[&primary, &replica]);
    let nodes = [node(&primary), node(&replica)];
    let mut h = project(&primary, &app_inventory(&nodes));
    let admin = primary.admin_url();
    let env = [(ADMIN_VAR, admin.as_str())];

    h.rotor_env(&["rotate", SECRET], &env).expect_code(0);
    let new = password(&h);
    // Written where each node keeps its users: the hash, never the value.
    let conf = std::fs::read_to_string(primary.config_path()).expect("redis.conf");
    let acl = std::fs::read_to_string(replica.aclfile_path().expect("aclfile")).expect("acl");
    // A fingerprint is the start of the value's SHA-256, which is what
    // `#<hash>` holds.
    let hash = format!("#{}", fingerprint(&new));
    let old_hash = format!("#{}", fingerprint(INITIAL));
    assert!(conf.contains(&format!("user {USER} ")) && conf.contains(&hash));
    assert!(acl.contains(&hash));
    assert!(!conf.contains(&old_hash) && !acl.contains(&old_hash));
    for text in [&conf, &acl] {
        assert!(!text.contains(&new) && !text.contains(INITIAL));
    }

    restart(&mut primary, &mut replica);
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &new), "the new password survives a restart");
        assert!(!r.auth_ok(USER, INITIAL), "the old one stays refused");
    }
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");
    h.finish();
}

/// A password changed by hand on the replica: `verify` and `status` report
/// drift naming that node, and exit 4.
#[test]
fn a_password_reset_by_hand_on_one_node_is_drift_naming_it() {
    let (primary, replica) = cluster();
    let nodes = [node(&primary), node(&replica)];
    let mut h = project(&primary, &app_inventory(&nodes));
    let admin = primary.admin_url();
    let env = [(ADMIN_VAR, admin.as_str())];
    h.rotor_env(&["rotate", SECRET], &env).expect_code(0);
    h.rotor_env(&["verify"], &env).expect_code(0);
    h.rotor_env(&["status"], &env).expect_code(0);

    let by_hand = "reset-by-hand-redis-password-2b9c";
    h.leaks.learn(by_hand);
    replica
        .cmd(&["ACL", "SETUSER", USER, "resetpass", &format!(">{by_hand}")])
        .expect("reset by hand");

    let v = h.rotor_env(&["verify", SECRET], &env);
    v.expect_code(4)
        .expect_output("DRIFT")
        .expect_output(&format!(
            "{}: ACL user app refuses the current password",
            node(&replica)
        ));
    assert!(
        !v.stdout.contains(&format!("{} refuses", node(&primary))),
        "the primary is not blamed:\n{}",
        v.stdout
    );
    let json = h.rotor_env(&["verify", "--json"], &env);
    json.expect_code(4);
    let json = json.json();
    let drift: Vec<&serde_json::Value> = json[0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["state"] == "drift")
        .collect();
    assert!(!drift.is_empty(), "{json}");
    assert!(
        drift.iter().any(|c| c["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&node(&replica)))),
        "{json}"
    );
    h.rotor_env(&["status"], &env)
        .expect_code(4)
        .expect_output("DRIFT");
    let status = h.rotor_env(&["status", "--json"], &env);
    assert_eq!(status.code, 4);
    assert!(status.json()[0]["drift"]
        .as_str()
        .is_some_and(|d| d.contains("DRIFT")));
    // The drift is audited, and the trail still verifies.
    h.rotor_env(&["history", SECRET], &env)
        .expect_code(0)
        .expect_output("drift");
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);

    // Rotating takes control back on every node: the new password works,
    // and the one set by hand is removed with the old one at retire.
    h.rotor_env(&["rotate", SECRET], &env).expect_code(0);
    let new = password(&h);
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &new));
        assert!(!r.auth_ok(USER, by_hand), "the hand-set password survived");
    }
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");

    // A password added by hand later is drift on that node only.
    replica
        .cmd(&["ACL", "SETUSER", USER, &format!(">{by_hand}")])
        .expect("add by hand");
    let v = h.rotor_env(&["verify", SECRET], &env);
    v.expect_code(4).expect_output(&format!(
        "{}: ACL user app also accepts 1 password(s) rotor did not set",
        node(&replica)
    ));
    assert!(!v.stdout.contains(&node(&primary)), "{}", v.stdout);
    replica
        .cmd(&["ACL", "SETUSER", USER, &format!("<{by_hand}")])
        .expect("remove by hand");
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");
    h.finish();
}

/// The admin's password is another secret of the inventory (itself an ACL
/// user rotor rotates): the engine reads it from that secret's target, then
/// from the store once that secret is rotated.
#[test]
fn the_admin_password_can_be_another_secret() {
    let (primary, replica) = cluster();
    let admin_initial = "ops-admin-initial-password-8e41";
    with_user(
        &[&primary, &replica],
        "ops_admin",
        admin_initial,
        &["~*", "&*", "+@all"],
    );
    let nodes = [node(&primary), node(&replica)];
    let admin_secret = Secret::new("redis_admin")
        .redis_dual_password(
            &[&admin_env_line()],
            "ops_admin",
            &[nodes[0].as_str(), nodes[1].as_str()],
        )
        .dotenv("admin.env", "OPS_ADMIN_PASSWORD");
    let admin_url = format!(
        "admin_url = \"redis://ops_admin@127.0.0.1:{}\"",
        primary.port()
    );
    let inv = inventory(&[
        admin_secret,
        redis_app(&nodes, &["admin_secret = \"redis_admin\"", &admin_url]),
    ]);
    let mut h = Harness::new(
        &inv,
        &[
            (".env", &env_file(&primary)),
            (
                "admin.env",
                &format!("OPS_ADMIN_PASSWORD={admin_initial}\n"),
            ),
        ],
    );
    h.manage(".env", &["REDIS_URL", "REDIS_PASSWORD"]);
    h.manage("admin.env", &["OPS_ADMIN_PASSWORD"]);
    h.leaks.learn(primary.admin_password());
    let superuser = primary.admin_url();
    let env = [(ADMIN_VAR, superuser.as_str())];
    h.rotor_env(&["init"], &env).expect_code(0);

    // Before rotor knows the admin secret, its value comes from its target;
    // the superuser's variable is not needed for this secret.
    h.rotor_env(&["plan", SECRET], &[])
        .expect_code(0)
        .expect_output("ACL SETUSER app");
    h.rotor(&["rotate", SECRET]).expect_code(0);
    let app = password(&h);
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &app));
        assert!(!r.auth_ok(USER, INITIAL));
    }

    // Rotate the admin, then the app again with the admin's new password.
    h.rotor_env(&["rotate", "redis_admin"], &env).expect_code(0);
    let admin = h
        .env_var("admin.env", "OPS_ADMIN_PASSWORD")
        .expect("admin password");
    for r in [&primary, &replica] {
        assert!(r.auth_ok("ops_admin", &admin));
        assert!(!r.auth_ok("ops_admin", admin_initial));
    }
    h.rotor(&["rotate", SECRET]).expect_code(0);
    let app2 = password(&h);
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &app2));
        assert!(!r.auth_ok(USER, &app));
    }
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");

    // The admin secret lost on the servers: a clear refusal, nothing moves.
    with_user(
        &[&primary, &replica],
        "ops_admin",
        "someone-else-knows-this-one-77",
        &["~*", "&*", "+@all"],
    );
    h.leaks.learn("someone-else-knows-this-one-77");
    let before = h.project.read_string(".env");
    h.rotor(&["rotate", SECRET])
        .expect_code(1)
        .expect_output("admin login (ops_admin) was refused");
    assert_eq!(h.project.read_string(".env"), before);
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &app2));
    }
    h.finish();
}

/// The in-run retire fails (the replica goes down right after verify): the
/// rotation stands, the old version stays previous and still works, the
/// message says `rotor retire`, a second rotation is refused, and
/// `rotor retire` finishes once the replica is back.
#[test]
fn a_retire_that_fails_leaves_the_rotation_standing_until_rotor_retire() {
    let (primary, mut replica) = cluster();
    let nodes = [node(&primary), node(&replica)];
    let info = replica.cmd(&["INFO", "server"]).expect("INFO server");
    let pid = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("process_id:"))
        .expect("process_id")
        .to_owned();
    // The verify hook stops the replica once (when the marker file is
    // there), and waits until its port is closed.
    let script = format!(
        "if [ -e stop-replica ]; then rm stop-replica; kill -TERM {pid}; \
         while (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; do sleep 0.05; done; fi",
        port = replica.port()
    );
    let app = redis_app(&nodes, &[&admin_env_line()])
        .verify_command(&["bash", "-c", &script], "30s")
        .hook_line("retries = 1");
    let mut h = project(&primary, &inventory(&[app]));
    let admin = primary.admin_url();
    let env = [(ADMIN_VAR, admin.as_str())];
    h.project.write("stop-replica", "");

    let run = h.rotor_env(&["rotate", SECRET], &env);
    run.expect_code(0)
        .expect_output("rotor retire redis_app")
        .expect_output(&node(&replica));
    assert!(!replica.is_running(), "the hook stopped the replica");
    let new = password(&h);
    assert_eq!(
        h.env_var(".env", "REDIS_URL").as_deref(),
        Some(url(&primary, &new).as_str())
    );
    // The primary was put back: both passwords work there.
    assert!(primary.auth_ok(USER, &new));
    assert!(primary.auth_ok(USER, INITIAL));
    let status = h.rotor_env(&["status", "--json"], &env).json();
    assert_eq!(status[0]["version"], 2, "{status}");
    assert!(!status[0]["previous"].is_null(), "{status}");
    let history = h.rotor_env(&["history", SECRET, "--json"], &env).json();
    let promote = history["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .find(|e| e["step"] == "rotate.promote")
        .cloned()
        .expect("promote entry");
    assert!(
        promote["detail"].as_str().is_some_and(
            |d| d.contains("still accepts version 1") && d.contains("rotor retire redis_app")
        ),
        "{promote}"
    );

    // The replica cannot be checked while it is down.
    h.rotor_env(&["verify"], &env)
        .expect_code(4)
        .expect_output("could not be checked")
        .expect_output(&node(&replica));

    // Rotating again now is refused: the previous password is still live.
    let before = h.project.snapshot();
    h.rotor_env(&["rotate", SECRET], &env)
        .expect_code(2)
        .expect_output("rotor retire redis_app` first");
    h.project.assert_unchanged(&before, "a refused rotate");

    // While the replica is down, retire fails and says so; nothing moves.
    h.rotor_env(&["retire", SECRET], &env)
        .expect_code(1)
        .expect_output(&node(&replica));
    assert!(primary.auth_ok(USER, INITIAL));
    assert_eq!(
        h.env_var(".env", "REDIS_PASSWORD").as_deref(),
        Some(new.as_str())
    );

    // The replica is back (with the new password it saved at apply).
    replica.stop();
    replica.start_again();
    assert!(replica.auth_ok(USER, &new));
    assert!(replica.auth_ok(USER, INITIAL));
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");
    h.rotor_env(&["retire", SECRET], &env).expect_code(0);
    for r in [&primary, &replica] {
        assert!(r.auth_ok(USER, &new));
        assert!(!r.auth_ok(USER, INITIAL));
        assert_eq!(password_count(r), 1);
    }
    let status = h.rotor_env(&["status", "--json"], &env).json();
    assert!(status[0]["previous"].is_null(), "{status}");
    h.rotor_env(&["verify"], &env)
        .expect_code(0)
        .expect_output("no drift");
    h.rotor_env(&["rotate", SECRET], &env).expect_code(0);
    h.rotor_env(&["audit", "verify"], &env).expect_code(0);
    h.finish();
}
