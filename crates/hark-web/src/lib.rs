//! Hark over HTTP: the `/api/v1` JSON API with its OpenAPI document, and `/healthz`.

mod api;
mod auth;
mod extract;
pub mod ingest;
pub mod problem;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use hark_store::Store;
use tower_http::trace::TraceLayer;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 2 << 20;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    keys: Arc<auth::KeyCache>,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        AppState { store, keys: Arc::default() }
    }
}

/// The whole HTTP application.
pub fn app(store: Store) -> Router {
    let state = AppState::new(store);
    let (api, doc) = api::router(state.clone()).split_for_parts();
    let doc = Arc::new(doc);
    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", axum::routing::get(move || async move { axum::Json(doc.as_ref().clone()) }))
        .route("/healthz", axum::routing::get(api::health))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `app` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(store)).with_graceful_shutdown(shutdown).await
}
