//! Hark over HTTP: the `/api/v1` JSON API with its OpenAPI document, the customer-facing
//! survey pages and website widget, the admin pages, and `/healthz`.

mod admin;
mod admin_loop;
mod answer;
mod api;
mod auth;
mod cases;
mod charts;
mod dashboard;
mod extract;
pub mod ingest;
mod insights;
pub use api::follow_up::{InteractionInput, record_interaction};
mod outreach;
pub mod problem;
mod public;
mod viewer;
mod widget;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use hark_core::token::Signer;
use hark_jobs::Runner;
use hark_store::Store;
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
}

impl WebConfig {
    pub fn local(addr: std::net::SocketAddr) -> Self {
        WebConfig { public_url: format!("http://{addr}"), global_fatigue_days: 7 }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    keys: Arc<auth::KeyCache>,
    signer: Signer,
    config: Arc<WebConfig>,
    runner: Option<Runner>,
}

impl AppState {
    /// `runner` is woken when a request makes a job that is due at once.
    pub async fn new(store: Store, config: WebConfig, runner: Option<Runner>) -> Result<Self, hark_store::StoreError> {
        let signer = Signer::new(store.link_secret().await?.as_bytes());
        Ok(AppState { store, keys: Arc::default(), signer, config: Arc::new(config), runner })
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
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
    let doc = Arc::new(doc);
    Router::new()
        .merge(api)
        .merge(public::router())
        .merge(widget::router())
        .merge(admin::router())
        .merge(dashboard::router())
        .route("/api/v1/openapi.json", axum::routing::get(move || async move { axum::Json(doc.as_ref().clone()) }))
        .route("/healthz", axum::routing::get(api::health))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `app` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
