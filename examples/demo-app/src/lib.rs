//! A small service that does what rotor-keyring is for: it signs JWTs with
//! the current key and accepts every live key, reading its keys from the env
//! file rotor writes (`JWT_SECRET` + `JWT_SECRET_PREVIOUS`). On SIGHUP (or
//! `POST /reload`) it reads the file again, so rotor's restart hook can be
//! `kill -HUP <pid>`: no restart, no session lost.
//!
//! Routes: `GET /health`, `POST /token?sub=NAME` (a token for one hour),
//! `GET /me` with `Authorization: Bearer TOKEN` (200 with the claims and the
//! key that signed them, or 401 with the reason), `POST /reload`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use rotor_keyring::jwt::{Jwt, JwtAlg};
use rotor_keyring::Keyring;
use serde::{Deserialize, Serialize};

/// The claims the demo issues.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Who.
    pub sub: String,
    /// Expiry (Unix seconds).
    pub exp: u64,
}

/// The service's state: where its keys come from, and the JWT signer and
/// verifier built from them (swapped whole on reload).
pub struct App {
    env_file: PathBuf,
    var: String,
    jwt: RwLock<Arc<Jwt>>,
}

impl App {
    /// Loads the keys of `var` from `env_file`.
    pub fn new(env_file: &Path, var: &str) -> anyhow::Result<App> {
        let jwt = load(env_file, var)?;
        Ok(App {
            env_file: env_file.to_path_buf(),
            var: var.to_owned(),
            jwt: RwLock::new(Arc::new(jwt)),
        })
    }

    /// Reads the env file again. On error the old keys stay in use.
    pub fn reload(&self) -> anyhow::Result<()> {
        let fresh = Arc::new(load(&self.env_file, &self.var)?);
        match self.jwt.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    fn jwt(&self) -> Arc<Jwt> {
        match self.jwt.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// The keys of `var` (and `var_PREVIOUS`, or a `NEW,OLD` list) in an env file.
fn load(env_file: &Path, var: &str) -> anyhow::Result<Jwt> {
    let vars: HashMap<String, String> =
        dotenvy::from_path_iter(env_file)?.collect::<Result<_, _>>()?;
    let ring = Keyring::from_lookup(var, |k| vars.get(k).cloned())?;
    Ok(Jwt::hmac(&ring, JwtAlg::HS256)?)
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
