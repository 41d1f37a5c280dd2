//! `/api/v1/reports/…`: every dashboard page as JSON, with the page's filters. These routes
//! take an API key (everything) or a signed-in session (that user's scope); annotations and
//! alert rules are written with an API key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hark_core::report::Granularity;
use hark_store::{AlertRule, Annotation};

use crate::AppState;
use crate::extract::{ApiJson, RawQuery};
use crate::ops::filters::FilterParams;
use crate::ops::insights::{
    self, Agents, AlertRuleInput, AnnotationInput, Changes, Monitoring, Overview, Responses, Segments,
};
use crate::ops::themes::ThemesReport;
use crate::problem::{ApiResult, Problem};
use crate::viewer::ApiViewer;

/// NPS with its interval and n (company-wide and for the filter), the 0–10 distribution,
/// the trend, CSAT, CES and response rates by channel. Default period: the last 12 months.
#[utoipa::path(get, path = "/api/v1/reports/overview", tag = "reports",
    params(FilterParams, ("granularity" = Option<Granularity>, Query)),
    responses((status = 200, body = Overview), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn overview(
    State(s): State<AppState>,
    ApiViewer(v): ApiViewer,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Overview>> {
    Ok(Json(insights::overview(&s.store, &v, &zoned(&s, &q)).await?))
}

/// NPS by a dimension, ranked; rows with fewer than `min_n` answers are marked and never
/// ranked above rows that have enough.
#[utoipa::path(get, path = "/api/v1/reports/segments", tag = "reports",
    params(FilterParams,
        ("by" = Option<String>, Query, description = "team (default), agent, channel, language, survey, day, attr.{key}, property.{key}"),
        ("min_n" = Option<u64>, Query, description = "fewest answers to be ranked (default 30)")),
    responses((status = 200, body = Segments), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn segments(
    State(s): State<AppState>,
    ApiViewer(v): ApiViewer,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Segments>> {
    Ok(Json(insights::segments(&s.store, &v, &zoned(&s, &q)).await?))
}

/// What the comments say: for every theme, the NPS of answers mentioning it against all others
/// (difference, 95% interval, test) and the NPS points at stake, ranked by that among themes
/// with at least `min_n` mentions; and the phrases detractors and promoters use far more than
/// the others that no theme holds yet; each theme's NPS per day, week or month (`trends`, at
/// most 400 periods). Theme names in English. Filter by `theme` on every report.
#[utoipa::path(get, path = "/api/v1/reports/themes", tag = "reports",
    params(FilterParams,
        ("min_n" = Option<u64>, Query, description = "fewest mentions to be ranked (default 30)"),
        ("granularity" = Option<Granularity>, Query, description = "the trends' periods (default month)"),
        ("source" = Option<String>, Query, description = "feedback from other sources: only this one (review, social …)")),
    responses((status = 200, body = ThemesReport), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn themes(
    State(s): State<AppState>,
    ApiViewer(v): ApiViewer,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ThemesReport>> {
    Ok(Json(crate::ops::themes::themes(&s.store, &v, &zoned(&s, &q), "en").await?))
}

/// Agent NPS beside company NPS per agent, the leaderboard, champions and where they sit,
/// and NPS against handle time, wait time and transfers. Agents see their own row and rank.
#[utoipa::path(get, path = "/api/v1/reports/agents", tag = "reports",
    params(FilterParams, ("min_n" = Option<u64>, Query, description = "fewest answers to be ranked (default 30)")),
    responses((status = 200, body = Agents), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn agents(
    State(s): State<AppState>,
    ApiViewer(v): ApiViewer,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Agents>> {
    Ok(Json(insights::agents(&s.store, &v, &zoned(&s, &q)).await?))
}

/// Annotations, and NPS before and after one of them (`annotation_id`, `window_days`) or
/// between two periods, with the difference's interval and significance test.
#[utoipa::path(get, path = "/api/v1/reports/changes", tag = "reports",
    params(FilterParams,
        ("annotation_id" = Option<String>, Query, description = "default: the latest annotation, unless two periods are given"), ("window_days" = Option<i64>, Query, description = "days each side of the annotation (default 30)"),
        ("before_from" = Option<String>, Query), ("before_to" = Option<String>, Query),
        ("after_from" = Option<String>, Query), ("after_to" = Option<String>, Query),
        ("min_n" = Option<u64>, Query, description = "fewest answers each period needs to be compared (default 30)")),
    responses((status = 200, body = Changes), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn changes(
    State(s): State<AppState>,
    ApiViewer(v): ApiViewer,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Changes>> {
    Ok(Json(insights::changes(&s.store, &v, &zoned(&s, &q)).await?))
}

/// Alert rules and the alerts they raised (admins and executives: all; team leads: their
/// team's and the company's; agents: refused).
#[utoipa::path(get, path = "/api/v1/reports/alerts", tag = "reports",
    responses((status = 200, body = Monitoring), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn alerts(State(s): State<AppState>, ApiViewer(v): ApiViewer) -> ApiResult<Json<Monitoring>> {
    Ok(Json(insights::monitoring(&s.store, &v).await?))
}

/// Answers, newest first, with full-text search over comments (`q`) in any language.
#[utoipa::path(get, path = "/api/v1/reports/responses", tag = "reports",
    params(FilterParams, ("segment" = Option<String>, Query),
        ("score" = Option<i64>, Query, description = "Only answers with this score (0–10)"),
        ("kind" = Option<String>, Query, description = "Only answers to surveys of this kind: nps, csat or ces"),
        ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Responses), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn responses(
    State(s): State<AppState>,
    ApiViewer(v): ApiViewer,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Responses>> {
    Ok(Json(insights::responses(&s.store, &v, &zoned(&s, &q)).await?))
}

#[utoipa::path(post, path = "/api/v1/annotations", tag = "reports", request_body = AnnotationInput,
    responses((status = 201, body = Annotation), (status = 422, body = Problem)))]
pub(crate) async fn create_annotation(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<AnnotationInput>,
) -> ApiResult<(StatusCode, Json<Annotation>)> {
    Ok((StatusCode::CREATED, Json(insights::add_annotation(&s.store, &input, Some("api")).await?)))
}

#[utoipa::path(delete, path = "/api/v1/annotations/{id}", tag = "reports",
    responses((status = 204), (status = 404, body = Problem)))]
pub(crate) async fn delete_annotation(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.store.delete_annotation(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/alert-rules", tag = "reports", request_body = AlertRuleInput,
    responses((status = 201, body = AlertRule), (status = 422, body = Problem)))]
pub(crate) async fn create_alert_rule(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<AlertRuleInput>,
) -> ApiResult<(StatusCode, Json<AlertRule>)> {
    Ok((StatusCode::CREATED, Json(insights::add_alert_rule(&s.store, &input).await?)))
}

#[utoipa::path(delete, path = "/api/v1/alert-rules/{id}", tag = "reports",
    responses((status = 204), (status = 404, body = Problem)))]
pub(crate) async fn delete_alert_rule(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.store.delete_alert_rule(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The query, in the organisation's time zone unless it names one (`tz`).
fn zoned(s: &AppState, q: &[(String, String)]) -> Vec<(String, String)> {
    crate::ops::filters::with_zone(q, crate::page::zone_name(&s.config.time_zone))
}
