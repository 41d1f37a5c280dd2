//! `/api/v1/feedback`: what customers say outside surveys, read for themes and sentiment.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hark_core::Why;
use hark_store::{Feedback, FeedbackFilter};

use crate::AppState;
use crate::extract::{ApiJson, RawQuery, idempotency_header};
use crate::ingest::{FeedbackInput, take_feedback};
use crate::ops::filters;
use crate::problem::{ApiError, ApiResult, Problem};

/// Record feedback from another source (a review, a social-media post, interview notes, a
/// ticket). Requires an idempotency key: a retry returns the stored feedback with 200. It gets
/// themes and sentiment, shows on the contact's timeline and on the Themes page, and never
/// counts in NPS.
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", request_body = FeedbackInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Feedback), (status = 200, description = "a retry: the feedback stored earlier", body = Feedback),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn add_feedback(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<FeedbackInput>,
) -> ApiResult<(StatusCode, Json<Feedback>)> {
    let (feedback, created) = take_feedback(&s.store, input, idempotency_header(&headers)?).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(feedback)))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct FeedbackList {
    items: Vec<Feedback>,
}

/// Feedback, newest first: by `source`, `theme`, `contact_id`, `from`, `to` (dates in `tz`).
#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback",
    params(("source" = Option<String>, Query), ("theme" = Option<String>, Query), ("contact_id" = Option<String>, Query),
        ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("tz" = Option<String>, Query),
        ("limit" = Option<i64>, Query)),
    responses((status = 200, body = FeedbackList), (status = 422, body = Problem)))]
pub(crate) async fn list_feedback(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<FeedbackList>> {
    let (filter, extras) = feedback_filter(&q, s.store.reading().analyzer.themes())?;
    Ok(Json(FeedbackList { items: s.store.list_feedback(&filter, extras.limit).await? }))
}

/// The feedback filter of a query: the common filters it shares (theme, contact, dates) and
/// `source`; anything else is refused by name.
pub(crate) fn feedback_filter(
    q: &[(String, String)],
    themes: &hark_text::Themes,
) -> Result<(FeedbackFilter, filters::Extras), ApiError> {
    let (common, extras) = filters::parse(q, &["source", "limit"], themes)?;
    let unsupported = [
        ("survey_id", &common.survey_id),
        ("team_id", &common.team_id),
        ("agent_id", &common.agent_id),
        ("channel", &common.channel),
        ("language", &common.language),
        ("q", &common.search),
    ];
    let attribute = (!common.attributes.is_empty()).then_some(("attr", &None));
    if let Some((name, _)) = unsupported.iter().copied().find(|(_, v)| v.is_some()).or(attribute) {
        return Err(ApiError::invalid(name, Why::new("invalid.unknown_parameter")));
    }
    let source = crate::ingest::source_filter(extras.get("source"))?;
    Ok((FeedbackFilter::like(&common, source), extras))
}
