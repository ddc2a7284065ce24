//! Files that are not what they seem: a target (or master key, template)
//! that is a device, a FIFO, a directory, a symlink loop or too large; a
//! template that is its own target through `..`, a symlink or a hard link.
//! Each is refused with exit 2, naming the file, before anything changes;
//! nothing blocks, and no special file is replaced.

mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{rotor_bin, Harness, Run};
use rotor_testkit::inventory::{inventory, Secret};

const ENV: &str = "APP_ENV=production\nJWT_SECRET=OLD-jwt-secret-0123456789\n";

/// `limits` (a `[limits]` table, or nothing), then `jwt`, cut over in
/// `JWT_SECRET` of the env file `path`.
fn env_inventory(path: &str, limits: &str) -> String {
    let jwt = Secret::new("jwt")
        .random_encoded(32, "hex")
        .cutover()
        .dotenv(path, "JWT_SECRET");
    format!("{limits}{}", inventory(&[jwt]))
}

/// `cache`, cut over in `path` rendered from `template`.
fn template_inventory(path: &str, template: &str) -> String {
    inventory(&[Secret::new("cache")
        .password(24, "urlsafe")
        .cutover()
        .template(path, template)])
}

/// Runs rotor with a deadline, so a read that blocks fails the test instead
/// of hanging it; scans the output for values like every run.
fn rotor_with_deadline(h: &mut Harness, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(rotor_bin());
    cmd.args(args)
        .current_dir(h.project.path())
        .env_remove("ROTOR_CONFIG")
        .env_remove("ROTOR_MASTER_KEY_FILE")
        .env("USER", "test-operator")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn rotor");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("poll").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rotor {args:?} blocked (reading a FIFO or a device?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    h.leaks.check_text("stdout", &run.stdout);
    h.leaks.check_text("stderr", &run.stderr);
    run
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo {path:?}");
}

/// A character device node in the project (like /dev/null, 1:3, or
/// /dev/zero, 1:5), so that a regression replaces a node of the test's
/// own, never the system's. `false` where nodes cannot be made (not root).
fn mknod(path: &Path, minor: &str) -> bool {
    Command::new("mknod")
        .arg(path)
        .args(["c", "1", minor])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn is_char_device(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

/// A project whose store exists, with `inventory` put in place afterwards
/// (so that `init` is not refused by it).
fn project_with(inventory: &str, files: &[(&str, &str)]) -> Harness {
    let mut h = Harness::new(&env_inventory("seed.env", ""), &[("seed.env", ENV)]);
    h.rotor(&["init"]).expect_code(0);
    h.project.write("rotor.toml", inventory);
    for (name, text) in files {
        h.project.write(name, text);
    }
    h.leaks.learn("OLD-jwt-secret-0123456789");
    h
}

/// `rotate` is refused with exit 2, naming `needle`, and nothing in the
/// project changed; `plan` names it too, exiting `plan_code` (2 when the
/// inventory itself is refused, 0 when plan warns about a target).
fn refused(h: &mut Harness, needle: &str, env: &[(&str, &str)], plan_code: i32) {
    let before = h.project.snapshot();
    rotor_with_deadline(h, &["rotate", "--all"], env)
        .expect_code(2)
        .expect_output(needle);
    rotor_with_deadline(h, &["plan"], env)
        .expect_code(plan_code)
        .expect_output(needle);
    h.project.assert_unchanged(&before, "a refused rotation");
}

#[test]
fn target_that_is_not_a_regular_file_is_refused() {
    // a FIFO: reading it would block forever
    let mut h = project_with(&env_inventory("pipe.env", ""), &[]);
    mkfifo(&h.project.join("pipe.env"));
    refused(
        &mut h,
        "pipe.env is a FIFO (named pipe), not a regular file",
        &[],
        0,
    );
    assert!(std::fs::metadata(h.project.join("pipe.env"))
        .expect("still there")
        .file_type()
        .is_fifo());

    // a directory
    let mut h = project_with(&env_inventory("dir.env", ""), &[]);
    std::fs::create_dir(h.project.join("dir.env")).expect("mkdir");
    refused(&mut h, "dir.env is a directory, not a regular file", &[], 0);

    // a symlink loop
    let mut h = project_with(&env_inventory(".env", ""), &[]);
    std::os::unix::fs::symlink("loop.env", h.project.join(".env")).expect("link");
    std::os::unix::fs::symlink(".env", h.project.join("loop.env")).expect("link");
    refused(&mut h, "symlink loop", &[], 0);

    // a symlink to a character device (/dev/null, /dev/zero): never
    // replaced by a regular file, never read until memory runs out
    for (minor, name) in [("3", "null"), ("5", "zero")] {
        let mut h = project_with(&env_inventory(".env", ""), &[]);
        let node = h.project.join(name);
        if !mknod(&node, minor) {
            eprintln!("skipping the device case: cannot make device nodes (not root)");
            continue;
        }
        std::os::unix::fs::symlink(name, h.project.join(".env")).expect("link");
        refused(&mut h, "is a character device, not a regular file", &[], 0);
        assert!(is_char_device(&node), "{name} is still a device");
    }
    h.finish();
}

#[test]
fn a_fifo_master_key_template_or_rendered_file_is_refused_without_blocking() {
    let mut h = project_with(&env_inventory("app.env", ""), &[("app.env", ENV)]);
    let fifo = h.project.join("key.fifo");
    mkfifo(&fifo);
    // mode 0600, so that only its type is wrong (reading it would block)
    std::fs::set_permissions(&fifo, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let key = fifo.to_string_lossy().into_owned();
    refused(
        &mut h,
        "not a regular file",
        &[("ROTOR_MASTER_KEY_FILE", &key)],
        2,
    );

    let mut h = project_with(&template_inventory("app.conf", "app.conf.tmpl"), &[]);
    mkfifo(&h.project.join("app.conf.tmpl"));
    refused(
        &mut h,
        "app.conf.tmpl is a FIFO (named pipe), not a regular file",
        &[],
        2,
    );

    // the rendered file
    let mut h = project_with(
        &template_inventory("app.conf", "app.conf.tmpl"),
        &[("app.conf.tmpl", "requirepass {{current}}\n")],
    );
    mkfifo(&h.project.join("app.conf"));
    refused(
        &mut h,
        "app.conf is a FIFO (named pipe), not a regular file",
        &[],
        0,
    );
    h.finish();
}

#[test]
fn a_file_larger_than_max_file_size_is_refused() {
    let big = format!("{ENV}{}", "# padding\n".repeat(300)); // about 3 KiB
    let inv = env_inventory("app.env", "[limits]\nmax_file_size = \"2 KiB\"\n");
    let mut h = project_with(&inv, &[("app.env", &big)]);
    refused(&mut h, "is larger than 2048 bytes", &[], 0);
    // the default (16 MiB) reads it
    h.project.write("rotor.toml", env_inventory("app.env", ""));
    h.manage("app.env", &["JWT_SECRET"]);
    h.rotor(&["rotate", "jwt"]).expect_code(0);
    // a bad limit is named
    h.project.write(
        "rotor.toml",
        env_inventory("app.env", "[limits]\nmax_file_size = \"lots\"\n"),
    );
    h.rotor(&["plan"])
        .expect_code(2)
        .expect_output("max_file_size must be a positive size");
    h.finish();
}

#[test]
fn template_rendered_over_itself_is_refused() {
    let tmpl = "requirepass {{current}}\n";
    // through `..`
    let mut h = project_with(
        &template_inventory("app.conf", "sub/../app.conf"),
        &[("app.conf", tmpl), ("sub/keep", "")],
    );
    refused(&mut h, "are the same file", &[], 2);
    let run = h.rotor(&["rotate", "--all"]);
    run.expect_output("app.conf")
        .expect_output("sub/../app.conf");
    assert_eq!(
        h.project.read_string("app.conf"),
        tmpl,
        "the template is intact"
    );

    // through a symlink
    let mut h = project_with(
        &template_inventory("app.conf", "app.conf.tmpl"),
        &[("app.conf", tmpl)],
    );
    std::os::unix::fs::symlink("app.conf", h.project.join("app.conf.tmpl")).expect("link");
    refused(
        &mut h,
        "app.conf.tmpl (a template of secret \"cache\")",
        &[],
        2,
    );
    assert_eq!(
        h.project.read_string("app.conf"),
        tmpl,
        "the template is intact"
    );

    // a hard link: another name, the same inode
    let mut h = project_with(
        &template_inventory("app.conf", "app.conf.tmpl"),
        &[("app.conf", tmpl)],
    );
    std::fs::hard_link(h.project.join("app.conf"), h.project.join("app.conf.tmpl"))
        .expect("hard link");
    refused(&mut h, "hard links", &[], 2);
    assert_eq!(h.project.read_string("app.conf.tmpl"), tmpl);

    // a target that is the master key
    let mut h = project_with(&env_inventory(".rotor/../.rotor/master.key", ""), &[]);
    refused(&mut h, "the master key", &[], 2);
    h.finish();
}
