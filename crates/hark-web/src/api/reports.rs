use axum::Json;
use axum::extract::State;
use hark_core::report::{Granularity, fold_days};
use hark_core::stats::NPS_METHOD;
use hark_core::{NpsCounts, NpsSummary, SurveyKind};
use serde::Serialize;

use super::filters;
use crate::AppState;
use crate::extract::RawQuery;
use crate::problem::{ApiError, ApiResult, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct NpsReport {
    /// How the interval is computed.
    method: &'static str,
    confidence: f64,
    granularity: Granularity,
    /// The whole filtered period.
    overall: NpsSummary,
    /// One entry per period that has answers, oldest first.
    series: Vec<NpsPeriod>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct NpsPeriod {
    /// First day of the period (UTC), e.g. `2026-03-01` for March by month.
    period_start: String,
    #[serde(flatten)]
    summary: NpsSummary,
}

/// NPS with counts, shares, its 95% interval and n, overall and as a series by day, week or
/// month. Covers NPS surveys (all of them, or `survey_id`); filter by team, agent, channel,
/// period and any contact attribute (`attr.plan=pro`).
#[utoipa::path(get, path = "/api/v1/reports/nps", tag = "reports",
    params(filters::FilterParams, ("granularity" = Option<Granularity>, Query)),
    responses((status = 200, body = NpsReport), (status = 422, body = Problem)))]
pub(crate) async fn nps_report(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<NpsReport>> {
    let (mut filter, extras) = filters::parse(&q, &["granularity"])?;
    if let Some(id) = &filter.survey_id {
        match s.store.survey_kind(id).await? {
            None => return Err(ApiError::field("survey_id", "no such survey")),
            Some(SurveyKind::Nps) => {}
            Some(other) => {
                return Err(ApiError::field("survey_id", format!("is a {} survey, not NPS", other.as_str())));
            }
        }
    }
    filter.survey_kind = Some(SurveyKind::Nps);
    let days = s.store.segment_counts_by_day(&filter).await?;
    let mut overall = NpsCounts::default();
    days.iter().for_each(|(_, c)| overall.merge(*c));
    let series = fold_days(days, extras.granularity)
        .into_iter()
        .map(|(start, counts)| NpsPeriod { period_start: start.to_string(), summary: counts.summary() })
        .collect();
    Ok(Json(NpsReport {
        method: NPS_METHOD,
        confidence: 0.95,
        granularity: extras.granularity,
        overall: overall.summary(),
        series,
    }))
}
