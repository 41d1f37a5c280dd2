use axum::Json;
use axum::extract::State;
use hark_core::NpsSummary;
use hark_core::insight::nps_counts;
use hark_core::report::Granularity;
use hark_core::stats::NPS_METHOD;
use serde::Serialize;

use crate::AppState;
use crate::extract::RawQuery;
use crate::ops::filters;
use crate::ops::insights::{self, TrendPeriod};
use crate::problem::{ApiResult, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct NpsReport {
    /// How the interval is computed.
    method: &'static str,
    confidence: f64,
    granularity: Granularity,
    /// The IANA zone whose days, weeks and months the series counts (`tz`).
    time_zone: String,
    /// The whole filtered period.
    overall: NpsSummary,
    /// One entry per period that has answers, oldest first.
    series: Vec<TrendPeriod>,
}

/// NPS with counts, shares, its 95% interval and n, overall and as a series by day, week or
/// month. Covers NPS surveys (all of them, or `survey_id`); filter by team, agent, channel,
/// period and any contact attribute (`attr.plan=pro`).
#[utoipa::path(get, path = "/api/v1/reports/nps", tag = "reports",
    params(filters::FilterParams, ("granularity" = Option<Granularity>, Query),
        ("min_n" = Option<u64>, Query, description = "Fewest answers a period needs not to be flagged thin (default 30)")),
    responses((status = 200, body = NpsReport), (status = 422, body = Problem)))]
pub(crate) async fn nps_report(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<NpsReport>> {
    let q = filters::with_zone(&q, crate::page::zone_name(&s.config.time_zone));
    let (mut filter, extras) = filters::parse(&q, &["granularity", "min_n"], s.store.reading().analyzer.themes())?;
    let min_n = insights::min_n(&extras)?;
    insights::nps_only(&s.store, &mut filter).await?;
    let zone = &extras.zone;
    let periods = insights::periods(&s.store, &filter, extras.granularity, zone).await?;
    Ok(Json(NpsReport {
        method: NPS_METHOD,
        confidence: 0.95,
        granularity: extras.granularity,
        time_zone: crate::page::zone_name(zone).to_owned(),
        overall: nps_counts(&insights::total(periods.iter().map(|(_, c)| c))).summary(),
        series: insights::fold_trend(&periods, extras.granularity, &filter, min_n, zone),
    }))
}
