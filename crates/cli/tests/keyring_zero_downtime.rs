//! Zero downtime, end to end: the demo app (rotor-keyring inside) serves
//! under continuous requests while `rotor rotate jwt` (overlap) runs and the
//! restart hook makes the app reload its keys with SIGHUP. No token that was
//! valid before the rotation is rejected during it; after `rotor retire`,
//! tokens under the retired key are. The same for data sealed with
//! `SEAL_KEY`: it opens throughout the overlap and not after the retire.
//!
//! The app runs in this test process (its own test binary), so the restart
//! hook sends SIGHUP to this process, which the app's handler takes.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::Harness;
use rotor_testkit::inventory::{inventory, Secret};

/// `secret`, overlapping for an hour in `var` of `.env` (the old value in
/// `var_PREVIOUS`); the app is sent SIGHUP, then given 0.2 s.
fn keyring_key(secret: Secret, var: &str) -> Secret {
    secret
        .overlap("1h")
        .dotenv(".env", var)
        .previous_var(&format!("{var}_PREVIOUS"))
        .restart(&["sh", "-c", "kill -HUP $(cat app.pid)"])
        .verify_command(&["sh", "-c", "sleep 0.2"], "5s")
}

/// `jwt` (due every 90 days) signs tokens, `seal` seals them.
fn keyring() -> String {
    inventory(&[
        keyring_key(
            Secret::new("jwt")
                .key("cadence", "90d")
                .random_encoded(32, "base64url"),
            "JWT_SECRET",
        ),
        keyring_key(Secret::new("seal").random(32), "SEAL_KEY"),
    ])
}

struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(port: u16) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        Client {
            base: format!("http://127.0.0.1:{port}"),
            agent,
        }
    }

    fn token(&self, sub: &str) -> String {
        let mut resp = self
            .agent
            .post(&format!("{}/token?sub={sub}", self.base))
            .send_empty()
            .expect("POST /token");
        assert_eq!(resp.status().as_u16(), 200);
        resp.body_mut().read_to_string().expect("token body")
    }

    fn post(&self, path: &str, body: &str) -> (u16, String) {
        match self.agent.post(&format!("{}{path}", self.base)).send(body) {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(_) => (0, String::new()),
        }
    }

    /// 200 or 401 for `GET /me` with this token.
    fn check(&self, token: &str) -> u16 {
        self.agent
            .get(&format!("{}/me", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

#[test]
fn overlap_rotation_rejects_no_valid_token() {
    let env = "JWT_SECRET=initial-signing-key-0123456789abcdef\nSEAL_KEY=initial-sealing-key-0123456789abcdef\n";
    let mut h = Harness::new(&keyring(), &[(".env", env)]);
    h.manage(
        ".env",
        &[
            "JWT_SECRET",
            "JWT_SECRET_PREVIOUS",
            "SEAL_KEY",
            "SEAL_KEY_PREVIOUS",
        ],
    );
    h.rotor(&["init"]).expect_code(0);

    // the app, in this process, on a free loopback port
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let app =
        Arc::new(rotor_demo_app::App::new(&h.project.join(".env"), "JWT_SECRET").expect("app"));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    rt.spawn(rotor_demo_app::serve(listener, app));
    h.project
        .write("app.pid", format!("{}\n", std::process::id()));
    let client = Client::new(port);

    // tokens issued before the rotation
    let before: Vec<String> = (0..10).map(|i| client.token(&format!("user{i}"))).collect();
    assert!(before.iter().all(|t| client.check(t) == 200));
    // and data sealed before it
    let (code, sealed) = client.post("/seal", "card ending 4242");
    assert_eq!(code, 200);

    // continuous requests while rotor rotates
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, rejected) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (stop, ok, rejected, before) =
            (stop.clone(), ok.clone(), rejected.clone(), before.clone());
        let sealed = sealed.clone();
        std::thread::spawn(move || {
            let client = Client::new(port);
            let mut i = 0usize;
            // bounded: stops when told, and never runs more than 60 s
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
                let t = &before[i % before.len()];
                // a fresh token too: issued under whichever key is current
                let fresh = client.token("fresh");
                for tok in [t.as_str(), fresh.as_str()] {
                    match client.check(tok) {
                        200 => ok.fetch_add(1, Ordering::Relaxed),
                        _ => rejected.fetch_add(1, Ordering::Relaxed),
                    };
                }
                // data sealed before the rotation still opens
                match client.post("/open", &sealed) {
                    (200, text) if text == "card ending 4242" => ok.fetch_add(1, Ordering::Relaxed),
                    _ => rejected.fetch_add(1, Ordering::Relaxed),
                };
                i += 1;
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    h.rotor(&["rotate", "jwt", "seal"]).expect_code(0);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    load.join().expect("load thread");
    let (ok, rejected) = (ok.load(Ordering::Relaxed), rejected.load(Ordering::Relaxed));
    eprintln!("during the rotation: {ok} requests accepted, {rejected} rejected");
    assert!(ok >= 50, "the load ran ({ok} requests)");
    assert_eq!(
        rejected, 0,
        "{rejected} valid tokens rejected during the rotation"
    );

    // the app now signs with the new key and still accepts the old tokens
    let after = client.token("after");
    assert_eq!(client.check(&after), 200);
    assert!(before.iter().all(|t| client.check(t) == 200));

    // new data is sealed with the new key; old data still opens
    let (_, resealed) = client.post("/seal", "card ending 4242");
    assert_ne!(resealed, sealed);
    assert_eq!(client.post("/open", &sealed).0, 200);

    // after retire (and the reload it triggers) the old keys are gone
    h.rotor(&["retire", "jwt", "seal"]).expect_code(0);
    assert_eq!(
        client.post("/open", &sealed).0,
        422,
        "data under the retired key no longer opens"
    );
    assert_eq!(client.post("/open", &resealed).0, 200);
    assert!(
        before.iter().all(|t| client.check(t) == 401),
        "tokens under the retired key are rejected"
    );
    assert_eq!(
        client.check(&after),
        200,
        "tokens under the current key still pass"
    );
    h.finish();
}
