//! `/metrics` in the Prometheus text format: requests by route and status with their
//! latency, answers acknowledged, the job queue by kind (depth and oldest age, read at
//! scrape time), job outcomes, mail and webhook failures, and the writer's batch sizes (the
//! last three recorded where they happen, in hark-jobs and hark-store).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// The process's recorder, installed on first use (one per process, shared by every app in it).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
        let sizes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("hark_http_request_duration_seconds".into()), &seconds)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full("hark_writer_batch_size".into()), &sizes))
            .expect("bucket bounds are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed by an embedding program: then ours only renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts each request by its route (the pattern, never the raw path: ids would make a series
/// each) and status, with its latency.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    handle();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route)];
    metrics::histogram!("hark_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    let [method, route] = labels;
    metrics::counter!("hark_http_requests_total", &[method, route, ("status", status)]).increment(1);
    response
}

/// The metrics as Prometheus text; an API key is required, as for the rest of the API.
pub(crate) async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = crate::auth::check_api_key(&state, &headers).await {
        return e.into_response();
    }
    let handle = handle();
    match state.store.job_backlog().await {
        Ok(backlog) => {
            let now = jiff::Timestamp::now().as_millisecond();
            // Kinds with nothing waiting read zero rather than their last value.
            for kind in hark_store::JOB_KINDS {
                let (waiting, oldest) =
                    backlog.iter().find(|(k, _, _)| k == kind).map_or((0, now), |(_, n, oldest)| (*n, *oldest));
                metrics::gauge!("hark_jobs_waiting", "kind" => *kind).set(waiting as f64);
                metrics::gauge!("hark_jobs_oldest_age_seconds", "kind" => *kind)
                    .set((now - oldest).max(0) as f64 / 1000.0);
            }
        }
        Err(e) => tracing::warn!(error = %e, "job queue unreadable for /metrics"),
    }
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}
