//! What every request passes through before a handler sees it: security headers on every
//! response, NUL characters refused at the edge (PostgreSQL cannot store them in text, and one
//! would fail a whole group commit), and rate limits for the doors anyone can knock on.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::problem::ApiError;

/// Staff pages run no script at all and customer pages only our own files; nothing may
/// frame a page (clickjacking) or send a form elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every response; pages that say nothing about caching are
/// not stored (they hold personal data or signed links).
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Survey and follow-up addresses are signed links: never hand them to another site.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// What a field with a NUL character is told.
pub(crate) const NUL_REFUSED: &str = "contains a NUL character (U+0000), which Hark does not store; remove it";

/// Refuses a request whose address or body carries a NUL character, naming where.
pub(crate) async fn refuse_nul(request: Request, next: Next) -> Result<Response, ApiError> {
    let nul = |where_: &str| ApiError::field(where_, NUL_REFUSED);
    let query = request.uri().query().unwrap_or_default();
    if request.uri().path().contains("%00") || query.contains("%00") {
        return Err(nul(if query.contains("%00") { "query" } else { "path" }));
    }
    let (parts, body) = request.into_parts();
    if parts.headers.get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() == b"0") {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    }
    let bytes = match axum::body::to_bytes(body, crate::BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return Err(ApiError::too_large(format!(
                "the body is larger than the {} MiB limit or was not sent in time",
                crate::BODY_LIMIT >> 20
            )));
        }
    };
    if has_nul(&bytes) {
        return Err(nul("body"));
    }
    Ok(next.run(Request::from_parts(parts, Body::from(bytes))).await)
}

/// A raw NUL, its JSON escape `\u0000` or its form encoding `%00`.
fn has_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
        || bytes.windows(6).any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].iter().all(|&b| b == b'0'))
        || bytes.windows(3).any(|w| w == b"%00")
}

/// How many requests a key may make per window; a key over it waits for the window to refill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    pub const fn per_minute(count: u32) -> Self {
        Rate { count, per: Duration::from_secs(60) }
    }
}

/// The limits on doors anyone can reach. A count of 0 turns a limit off.
#[derive(Clone, Debug)]
pub struct RateLimits {
    /// New answers (anonymous link, email score link, widget) from one client address.
    pub answers_per_ip: Rate,
    /// New answers through one survey's anonymous doors (link and widget) from anywhere.
    pub answers_per_survey: Rate,
    /// Follow-up saves, unsubscribes and referral clicks from one client address.
    pub follow_ups_per_ip: Rate,
    /// Sign-in attempts for one email address, and from one client address.
    pub sign_ins_per_account: Rate,
    pub sign_ins_per_ip: Rate,
    /// Take the client address from this header (e.g. `x-forwarded-for`, last entry), for a
    /// server behind a reverse proxy; otherwise the connection's peer address.
    pub client_ip_header: Option<String>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            answers_per_ip: Rate::per_minute(20),
            answers_per_survey: Rate::per_minute(600),
            follow_ups_per_ip: Rate::per_minute(240),
            sign_ins_per_account: Rate { count: 10, per: Duration::from_secs(15 * 60) },
            sign_ins_per_ip: Rate::per_minute(30),
            client_ip_header: None,
        }
    }
}

/// Token buckets by key, in memory: each key holds up to `count` tokens and regains them
/// evenly over `per`. Buckets that have refilled are forgotten, so memory follows the
/// number of clients active in the last window.
#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    /// Takes one token from each `(key, rate)` bucket, or none at all: when any bucket is
    /// empty, nothing is spent and the answer is which one and how long until it refills.
    pub fn take(&self, checks: &[(String, Rate)]) -> Result<(), (usize, Duration)> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("limiter lock");
        if buckets.len() > 100_000 {
            // Forget buckets idle for long enough to have refilled under any rate in use.
            let longest = checks.iter().map(|(_, r)| r.per).max().unwrap_or_default();
            buckets.retain(|_, (_, at)| now.duration_since(*at) < longest);
        }
        let mut refilled = Vec::with_capacity(checks.len());
        for (i, (key, rate)) in checks.iter().enumerate().filter(|(_, (_, r))| r.count > 0) {
            let capacity = f64::from(rate.count);
            let per_sec = capacity / rate.per.as_secs_f64();
            let tokens = buckets
                .get(key)
                .map_or(capacity, |(t, at)| (t + now.duration_since(*at).as_secs_f64() * per_sec).min(capacity));
            if tokens < 1.0 {
                return Err((i, Duration::from_secs_f64((1.0 - tokens) / per_sec)));
            }
            refilled.push((key, tokens));
        }
        for (key, tokens) in refilled {
            buckets.insert(key.clone(), (tokens - 1.0, now));
        }
        Ok(())
    }
}

impl AppState {
    /// Takes a token from each named bucket, or refuses with 429 and when to try again.
    pub(crate) fn limit(&self, checks: &[(&str, &str, Rate)]) -> Result<(), ApiError> {
        let keyed: Vec<(String, Rate)> =
            checks.iter().map(|(what, key, rate)| (format!("{what}:{key}"), *rate)).collect();
        self.limiter.take(&keyed).map_err(|(i, wait)| {
            let what = checks[i].0;
            ApiError::too_many_requests(
                format!("too many {what} from here; try again in {} s", wait.as_secs() + 1),
                wait,
            )
        })
    }

    pub(crate) fn rates(&self) -> &RateLimits {
        &self.config.limits
    }
}

/// The client's address: the configured proxy header's last entry, else the peer.
pub(crate) fn client_ip(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let forwarded = state.config.limits.client_ip_header.as_deref().and_then(|name| {
        let value = headers.get(name)?.to_str().ok()?;
        value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
    });
    forwarded.or(peer.map(|p| p.ip())).map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

/// The client address of a request, for handlers.
pub(crate) struct ClientIp(pub String);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        Ok(ClientIp(client_ip(state, &parts.headers, peer)))
    }
}

impl ApiError {
    pub fn too_many_requests(detail: impl Into<String>, retry_after: Duration) -> Self {
        let mut e = ApiError::with_status(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "/problems/rate-limited",
            "Too many requests",
            detail,
        );
        e.0.retry_after = Some(retry_after.as_secs() + 1);
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_count_then_refuses_until_it_refills() {
        let limiter = Limiter::default();
        let rate = Rate { count: 3, per: Duration::from_secs(3600) };
        let key = |k: &str| vec![(k.to_owned(), rate)];
        assert!((0..3).all(|_| limiter.take(&key("a")).is_ok()));
        let (_, wait) = limiter.take(&key("a")).unwrap_err();
        assert!(wait > Duration::from_secs(1000) && wait <= Duration::from_secs(1200), "{wait:?}");
        assert!(limiter.take(&key("b")).is_ok(), "other keys have their own bucket");
        assert!(limiter.take(&[("a".to_owned(), Rate { count: 0, per: Duration::from_secs(1) })]).is_ok(), "0 is off");
    }

    #[test]
    fn a_refusal_by_one_bucket_spends_none_of_the_others() {
        let limiter = Limiter::default();
        let one = Rate { count: 1, per: Duration::from_secs(3600) };
        assert!(limiter.take(&[("survey".to_owned(), one)]).is_ok());
        // The address bucket is full, the survey bucket empty: refused, and the address keeps its token.
        assert!(limiter.take(&[("ip".to_owned(), one), ("survey".to_owned(), one)]).is_err());
        assert!(limiter.take(&[("ip".to_owned(), one)]).is_ok());
    }

    #[test]
    fn nul_is_found_raw_escaped_and_form_encoded_only() {
        for bad in [&b"a\0b"[..], br#"{"comment":"x\u0000"}"#, b"comment=a%00b"] {
            assert!(has_nul(bad), "{}", String::from_utf8_lossy(bad));
        }
        for good in [&b"plain"[..], br#"{"c":"\u0001 \u00e9"}"#, b"a=%20"] {
            assert!(!has_nul(good), "{}", String::from_utf8_lossy(good));
        }
    }
}
