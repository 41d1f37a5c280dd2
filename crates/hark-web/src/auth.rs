//! API-key authentication for `/api/v1`. Keys are checked against their stored SHA-256 hash;
//! a verified key is remembered briefly so that a busy client does not cost a database read
//! per request. The time counts from the database read, never from a use, so a revoked key
//! stops working within `CACHE_TTL` however busy its client is.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use hark_core::auth::{constant_time_eq, hash_secret, parse_api_key};

use crate::AppState;
use crate::problem::ApiError;

const CACHE_TTL: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct KeyCache {
    verified: Mutex<HashMap<String, (String, Instant)>>,
}

impl KeyCache {
    fn cached_hash(&self, id: &str) -> Option<String> {
        let verified = self.verified.lock().expect("key cache lock");
        verified.get(id).filter(|(_, at)| at.elapsed() < CACHE_TTL).map(|(hash, _)| hash.clone())
    }

    fn remember(&self, id: &str, hash: String) {
        let mut verified = self.verified.lock().expect("key cache lock");
        verified.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        verified.insert(id.to_string(), (hash, Instant::now()));
    }
}

pub async fn require_api_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    check_api_key(&state, request.headers()).await?;
    Ok(next.run(request).await)
}

/// Whether the request carries a live API key as `Authorization: Bearer …`.
pub(crate) fn has_bearer(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
}

pub(crate) async fn check_api_key(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::unauthorized(
                "send an API key as `Authorization: Bearer hark_…` (create one with `hark apikey create`)",
            )
        })?;
    let (id, secret) =
        parse_api_key(presented.trim()).ok_or_else(|| ApiError::unauthorized("the API key is malformed"))?;
    let (stored, from_database) = match state.keys.cached_hash(id) {
        Some(hash) => (Some(hash), false),
        None => (state.store.api_key_hash(id).await?, true),
    };
    match stored {
        Some(hash) if constant_time_eq(&hash_secret(secret), &hash) => {
            if from_database {
                state.keys.remember(id, hash);
            }
            Ok(())
        }
        _ => Err(ApiError::unauthorized("the API key is unknown or revoked")),
    }
}

/// The session cookie of the staff pages.
pub(crate) const SESSION_COOKIE: &str = "hark_session";

/// The value of the request's cookie `name`.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
}

pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}
