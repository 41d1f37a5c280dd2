//! Hark over HTTP: the `/api/v1` JSON API with its OpenAPI document, the customer-facing
//! survey pages and website widget, the admin pages, and `/healthz`.

// By audience, each over the operations and the shared web pieces below, never another's:
mod admin;
mod api;
mod dashboard;
mod digest;
mod public;
// The operations the API and the pages both call: taking an answer, acting on a case,
// inviting, the figures.
mod ops;
// Shared web pieces.
mod auth;
mod extract;
#[cfg(test)]
mod fuzz;
mod guard;
pub use guard::{Rate, RateLimits};
pub mod ingest;
mod metrics;
pub use api::follow_up::{InteractionInput, record_interaction};
mod page;
pub mod problem;
mod viewer;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use hark_core::token::Signer;
use hark_jobs::Runner;
use hark_store::Store;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 2 << 20;

/// Settings of the web side that are not in the database.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Base address customers reach this server at; survey links and the widget use it.
    pub public_url: String,
    /// No survey reaches a contact more often than this, whatever the survey's own window.
    pub global_fatigue_days: u32,
    /// Rate limits on the doors anyone can reach (answers, follow-ups, sign-in).
    pub limits: RateLimits,
    /// Timeouts and the connection cap, so slow or idle clients cannot hold the server.
    pub connections: ConnectionLimits,
    /// A personal email link older than this no longer records a score (`None`: never expires).
    pub link_lifetime: Option<Duration>,
    /// The organisation's time zone: the one its people read times in and its reports count
    /// days in, unless a person chose another.
    pub time_zone: jiff::tz::TimeZone,
}

impl WebConfig {
    pub fn local(addr: std::net::SocketAddr) -> Self {
        WebConfig {
            public_url: format!("http://{addr}"),
            global_fatigue_days: 7,
            limits: RateLimits::default(),
            connections: ConnectionLimits::default(),
            link_lifetime: Some(Duration::from_secs(90 * 24 * 3600)),
            time_zone: jiff::tz::TimeZone::UTC,
        }
    }
}

/// How long a client may take and how many may be connected at once.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// To send a request's headers, and to start the next request on a kept-alive connection.
    pub header_timeout: Duration,
    /// To send a request's whole body.
    pub body_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// What every request is served with. axum clones a route's state for each request and each
/// middleware it passes, so a clone is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub store: Store,
    keys: Arc<auth::KeyCache>,
    signer: Signer,
    config: Arc<WebConfig>,
    runner: Option<Runner>,
    limiter: Arc<guard::Limiter>,
    /// Websites sign their visitors' ids with it (`hark_core::auth::visitor_signature`).
    widget_secret: Arc<str>,
}

impl AppState {
    /// `runner` is woken when a request makes a job that is due at once.
    pub async fn new(store: Store, config: WebConfig, runner: Option<Runner>) -> Result<Self, hark_store::StoreError> {
        let signer = Signer::new(store.link_secret().await?.as_bytes());
        let widget_secret = store.widget_identity_secret().await?.into();
        let state = AppState(Arc::new(Shared {
            store,
            keys: Arc::default(),
            signer,
            config: Arc::new(config),
            runner,
            limiter: Arc::default(),
            widget_secret,
        }));
        if let Some(runner) = &state.runner {
            state.write_digests_for(runner);
        }
        Ok(state)
    }

    /// Lets `runner` mail the digests this layer writes (it then holds the state for good:
    /// both live as long as the process).
    pub fn write_digests_for(&self, runner: &Runner) {
        runner.set_digest_writer(Arc::new(digest::Writer(self.clone())));
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Whether this server can send mail (a job runner with a mail server).
    pub(crate) fn mailer(&self) -> Option<&hark_jobs::Mailer> {
        self.runner.as_ref().and_then(Runner::mailer)
    }

    pub(crate) fn can_mail(&self) -> bool {
        self.mailer().is_some()
    }

    /// The period a digest written now covers: the schedule's last, else the last 7 days.
    pub(crate) fn digest_period(&self) -> (i64, i64) {
        let now = jiff::Timestamp::now();
        let scheduled = self.runner.as_ref().and_then(Runner::digest_schedule);
        scheduled.and_then(|s| s.last_period(now, &self.config.time_zone)).unwrap_or_else(|| {
            let now = now.as_millisecond();
            (now - 7 * hark_core::report::MS_PER_DAY, now)
        })
    }

    fn wake_jobs(&self) {
        if let Some(r) = &self.runner {
            r.wake();
        }
    }

    /// The absolute address of a path on this server.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.public_url.trim_end_matches('/'))
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api::router(state.clone()).split_for_parts();
    let doc = Arc::new(api::document(&doc));
    Router::new()
        .merge(api)
        .merge(public::router())
        .merge(admin::router())
        .merge(dashboard::router())
        .route("/api/v1/openapi.json", axum::routing::get(move || async move { axum::Json(doc.as_ref().clone()) }))
        .route("/healthz", axum::routing::get(api::health))
        .route("/metrics", axum::routing::get(metrics::render))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn(guard::refuse_nul))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyTimeoutLayer::new(state.config.connections.body_timeout))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Keeps the stored comments read with the themes in use: loads themes another process
/// changed, walks through every comment after a change (or an upgrade of the rules), and reads
/// comments stored before tagging; a small page per transaction so that requests go first,
/// then looks again every few seconds. Resumable: the walk's place is stored.
pub async fn tag_comments_in_background(store: hark_store::Store) {
    const PAGE: i64 = 200;
    // Comments stored before tagging are looked for at start and then every 5 minutes.
    const UNTAGGED_EVERY: u32 = 100;
    let mut idle = 0;
    loop {
        // Themes another process changed are loaded here too, within the store's reload grace.
        let step = async {
            if store.reread_comments(PAGE).await? {
                return Ok(true);
            }
            let look = idle % UNTAGGED_EVERY == 0;
            Ok::<_, hark_store::StoreError>(look && store.tag_untagged_comments(PAGE).await? as i64 == PAGE)
        };
        match step.await {
            Ok(true) => {
                idle = 0;
                tokio::time::sleep(Duration::from_millis(5)).await
            }
            Ok(false) => {
                idle += 1;
                tokio::time::sleep(Duration::from_secs(3)).await
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading stored comments failed; trying again in a minute");
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        }
    }
}

/// Serves `app` until `shutdown` resolves, then lets requests in progress finish. Each
/// connection must send its headers within `header_timeout` (which also closes idle
/// kept-alive connections), and at most `max_connections` are served at once.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};

    let limits = state.config.connections.clone();
    let router = app(state);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(router.clone(), request)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
