//! A small service that does what rotor-keyring is for: it signs JWTs with
//! the current key and accepts every live key, reading its keys from the env
//! file rotor writes (`JWT_SECRET` + `JWT_SECRET_PREVIOUS`). On SIGHUP (or
//! `POST /reload`) it reads the file again, so rotor's restart hook can be
//! `kill -HUP <pid>`: no restart, no session lost.
//!
//! Routes: `GET /health`, `POST /token?sub=NAME` (a token for one hour),
//! `GET /me` with `Authorization: Bearer TOKEN` (200 with the claims and the
//! key that signed them, or 401 with the reason), `POST /reload`, and, when
//! the env file has `SEAL_KEY`, `POST /seal` and `POST /open` (the body is
//! sealed with the current key; any live key opens).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use rotor_keyring::{aead, Jwt, JwtAlg, Keyring, KeyringError, Reloadable};
use serde::{Deserialize, Serialize};

/// The claims the demo issues.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Who.
    pub sub: String,
    /// Expiry (Unix seconds).
    pub exp: u64,
}

/// The service's state: the JWT signer and verifier, and (when the env
/// file has `SEAL_KEY`) the keyring that seals data, each rebuilt from the
/// env file on reload.
pub struct App {
    jwt: Reloadable<Jwt>,
    seal: Option<Reloadable<Keyring>>,
}

impl App {
    /// Loads the keys of `var` (and of `SEAL_KEY`, if set) from `env_file`.
    pub fn new(env_file: &Path, var: &str) -> anyhow::Result<App> {
        let (file, name) = (env_file.to_path_buf(), var.to_owned());
        let jwt = Reloadable::new(move || Jwt::hmac(&ring(&file, &name)?, JwtAlg::HS256))?;
        let file = env_file.to_path_buf();
        let seal = match ring(&file, SEAL_VAR) {
            Ok(_) => Some(Reloadable::new(move || ring(&file, SEAL_VAR))?),
            Err(_) => None,
        };
        Ok(App { jwt, seal })
    }

    /// Reads the env file again. On error the keys in use stay.
    pub fn reload(&self) -> anyhow::Result<()> {
        self.jwt.reload()?;
        if let Some(seal) = &self.seal {
            seal.reload()?;
        }
        Ok(())
    }

    fn jwt(&self) -> Arc<Jwt> {
        self.jwt.get()
    }
}

/// The variable holding the data-sealing keys (optional).
pub const SEAL_VAR: &str = "SEAL_KEY";

/// The keyring of `var` (and `var_PREVIOUS`, or a `NEW,OLD` list) in an env file.
fn ring(env_file: &Path, var: &str) -> Result<Keyring, KeyringError> {
    let vars: HashMap<String, String> = dotenvy::from_path_iter(env_file)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|_| KeyringError::NoKey(format!("{var} in {}", env_file.display())))?;
    Keyring::from_lookup(var, |k| vars.get(k).cloned())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/token", post(token))
        .route("/me", get(me))
        .route("/reload", post(reload))
        .route("/seal", post(seal))
        .route("/open", post(open))
        .with_state(app)
}

#[derive(Deserialize)]
struct TokenQuery {
    sub: String,
}

async fn token(
    State(app): State<Arc<App>>,
    Query(q): Query<TokenQuery>,
) -> Result<String, (StatusCode, String)> {
    let claims = Claims {
        sub: q.sub,
        exp: now() + 3600,
    };
    app.jwt()
        .sign(&claims)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn me(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or((StatusCode::UNAUTHORIZED, "no bearer token".to_owned()))?;
    let verified = app
        .jwt()
        .verify::<Claims>(token)
        .map_err(|e| (StatusCode::UNAUTHORIZED, e.to_string()))?;
    Ok(Json(serde_json::json!({
        "sub": verified.claims.sub,
        "kid": verified.kid.to_string(),
        "current": verified.current,
    })))
}

async fn reload(State(app): State<Arc<App>>) -> Result<&'static str, (StatusCode, String)> {
    app.reload()
        .map(|()| "reloaded")
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn seal(State(app): State<Arc<App>>, body: String) -> Result<String, (StatusCode, String)> {
    let ring = app
        .seal
        .as_ref()
        .ok_or((StatusCode::NOT_FOUND, format!("no {SEAL_VAR} configured")))?
        .get();
    aead::seal_text(&ring, body.as_bytes(), b"demo")
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn open(State(app): State<Arc<App>>, body: String) -> Result<String, (StatusCode, String)> {
    let ring = app
        .seal
        .as_ref()
        .ok_or((StatusCode::NOT_FOUND, format!("no {SEAL_VAR} configured")))?
        .get();
    let plain = aead::open_text(&ring, body.trim(), b"demo")
        .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(String::from_utf8_lossy(&plain).into_owned())
}

/// Reloads the keys on every SIGHUP, for as long as the process runs.
pub async fn reload_on_sighup(app: Arc<App>) -> std::io::Result<()> {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    while hup.recv().await.is_some() {
        if let Err(e) = app.reload() {
            eprintln!("reload failed, keeping the old keys: {e}");
        }
    }
    Ok(())
}

/// Serves until the listener fails, reloading on SIGHUP.
pub async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) -> std::io::Result<()> {
    let hup = tokio::spawn(reload_on_sighup(app.clone()));
    let served = axum::serve(listener, router(app)).await;
    hup.abort();
    served
}
