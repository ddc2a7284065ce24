//! JWT verify against the `jsonwebtoken` crate with a single key (the
//! baseline, in the same run): rotor-keyring under the current key, under
//! the previous key (with kid), and a 10-key ring against a 2-key ring.
//!
//! `cargo bench -p rotor-keyring --bench jwt`. Targets (issue 4): current
//! <= 1.05x baseline, previous with kid <= 1.10x, 10 keys no slower than 2.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rotor_keyring::{Jwt, JwtAlg, KeyKind, KeyPair, Keyring, PairRing, RingKey};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
}

fn claims() -> Claims {
    Claims {
        sub: "user-1234".into(),
        iat: 1_700_000_000,
        exp: 4_102_444_800,
    }
}

fn secret(i: usize) -> String {
    format!("bench-hmac-secret-{i:02}-0123456789abcdef0123456789")
}

/// An HMAC ring of `n` keys, newest first.
fn hs_ring(n: usize) -> Keyring {
    let list: Vec<String> = (0..n).map(secret).collect();
    Keyring::from_list("BENCH", &list.join(",")).expect("ring")
}

fn bench_hs256(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify HS256");
    // token by key 0 (current) and by key 1 (previous), and by the oldest key
    let by = |i: usize| {
        Jwt::hmac(
            &Keyring::from_pair(&secret(i), None).expect("ring"),
            JwtAlg::HS256,
        )
        .expect("jwt")
        .sign(&claims())
        .expect("sign")
    };
    let current = by(0);
    let previous = by(1);
    let oldest10 = by(9);

    let key = DecodingKey::from_secret(secret(0).as_bytes());
    let validation = Validation::new(Algorithm::HS256);
    g.bench_function("baseline jsonwebtoken, 1 key", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<Claims>(black_box(&current), &key, &validation).expect("ok")
        })
    });
    let ring2 = Jwt::hmac(&hs_ring(2), JwtAlg::HS256).expect("jwt");
    let ring10 = Jwt::hmac(&hs_ring(10), JwtAlg::HS256).expect("jwt");
    g.bench_function("rotor current, 2 keys", |b| {
        b.iter(|| ring2.verify::<Claims>(black_box(&current)).expect("ok"))
    });
    g.bench_function("rotor previous with kid, 2 keys", |b| {
        b.iter(|| ring2.verify::<Claims>(black_box(&previous)).expect("ok"))
    });
    g.bench_function("rotor current, 10 keys", |b| {
        b.iter(|| ring10.verify::<Claims>(black_box(&current)).expect("ok"))
    });
    g.bench_function("rotor oldest with kid, 10 keys", |b| {
        b.iter(|| ring10.verify::<Claims>(black_box(&oldest10)).expect("ok"))
    });
    g.finish();
}

fn bench_es256(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify ES256");
    // ten P-256 keys; tokens signed by key 0 (current), 1 (previous), 9 (oldest)
    let mut public_pems = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..10 {
        let pair = KeyPair::generate(KeyKind::EcP256).expect("key");
        public_pems.push(pair.public_key().to_pem());
        let signer = Jwt::pairs(PairRing::from_keys([RingKey::from(pair)]).expect("ring"));
        if [0, 1, 9].contains(&i) {
            tokens.push(signer.sign(&claims()).expect("sign"));
        }
    }
    let (current, previous, oldest10) = (&tokens[0], &tokens[1], &tokens[2]);

    let key = DecodingKey::from_ec_pem(public_pems[0].as_bytes()).expect("key");
    let validation = Validation::new(Algorithm::ES256);
    g.bench_function("baseline jsonwebtoken, 1 key", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<Claims>(black_box(current), &key, &validation).expect("ok")
        })
    });
    let ring = |n: usize| {
        let pems: Vec<&str> = public_pems[..n].iter().map(String::as_str).collect();
        Jwt::pairs(PairRing::from_pems(&pems).expect("ring"))
    };
    let ring2 = ring(2);
    let ring10 = ring(10);
    g.bench_function("rotor current, 2 keys", |b| {
        b.iter(|| ring2.verify::<Claims>(black_box(current)).expect("ok"))
    });
    g.bench_function("rotor previous with kid, 2 keys", |b| {
        b.iter(|| ring2.verify::<Claims>(black_box(previous)).expect("ok"))
    });
    g.bench_function("rotor current, 10 keys", |b| {
        b.iter(|| ring10.verify::<Claims>(black_box(current)).expect("ok"))
    });
    g.bench_function("rotor oldest with kid, 10 keys", |b| {
        b.iter(|| ring10.verify::<Claims>(black_box(oldest10)).expect("ok"))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = bench_hs256, bench_es256 }
criterion_main!(benches);
