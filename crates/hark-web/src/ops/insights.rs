//! The figures of every dashboard page, computed once and shown three ways: as the page,
//! as its CSV export and as `/api/v1/reports/…`. Each function takes the query string and
//! the viewer; the viewer's scope narrows the filter before anything is read.

use std::collections::HashMap;

use hark_core::insight::{
    self, Bin, INTERACTION_FIGURES, RankedRow, TeamShare, champion_sentence, champion_teams, nps_counts, rank,
};
use hark_core::report::{Granularity, bucket_end, bucket_start, date_of_day, day_of_date};
use hark_core::stats::{NPS_DIFFERENCE_METHOD, NPS_METHOD};
use hark_core::{MeanSummary, NpsChange, NpsCounts, NpsSummary, ProportionSummary, SurveyKind, Why};
use hark_store::{
    Alert, AlertRule, Annotation, ChannelRate, Dimension, ResponseFilter, ScoreColumn, ScoreCounts, Source, Store,
};
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::ops::filters::{self, Extras};
use crate::problem::ApiError;
use crate::viewer::{Scope, Viewer, company_filter};

/// Below this many answers a group is shown but not ranked.
pub(crate) const DEFAULT_MIN_N: u64 = 30;
/// Champions: at most this many agents who stand out.
pub(crate) const CHAMPIONS: usize = 20;
/// A trend has at most this many periods (ten years of days): a thousand years of days would
/// be built in memory, hundreds of megabytes, before anything was read.
const MAX_PERIODS: usize = 3_660;

/// The period a page covers, as dates (both inclusive) in its time zone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Period {
    pub from: String,
    pub to: String,
    /// The IANA zone whose days these are, and whose days, weeks and months the figures count.
    pub time_zone: String,
}

impl Period {
    /// The days of `[from_ms, to_ms)` in `zone`.
    fn of(from_ms: i64, to_ms: i64, zone: &TimeZone) -> Period {
        Period {
            from: filters::local_date(from_ms, zone).to_string(),
            to: filters::local_date(to_ms - 1, zone).to_string(),
            time_zone: zone_name(zone),
        }
    }
}

fn zone_name(zone: &TimeZone) -> String {
    zone.iana_name().unwrap_or("UTC").to_owned()
}

impl Period {
    /// Its length in days (both ends inclusive).
    pub fn days(&self) -> i64 {
        let day = |d: &str| d.parse::<jiff::civil::Date>().map(day_of_date).unwrap_or_default();
        day(&self.to) - day(&self.from) + 1
    }
}

/// The same filter over the period of the same length just before its own (which `parse`
/// always sets), and that period.
pub(crate) fn previous(filter: &ResponseFilter, zone: &TimeZone) -> (ResponseFilter, Period) {
    let (from, to) = (filter.from_ms.unwrap_or_default(), filter.to_ms.unwrap_or_default());
    let period = Period::of(2 * from - to, from, zone);
    (ResponseFilter { from_ms: Some(2 * from - to), to_ms: Some(from), ..filter.clone() }, period)
}

/// A change, only when both periods have `min_n` answers: from a handful the difference and
/// its interval say nothing (and the adjusted interval may not even hold the raw difference).
fn change_of(change: Option<NpsChange>, before_n: u64, after_n: u64, min_n: u64) -> Option<NpsChange> {
    change.filter(|_| before_n >= min_n.max(1) && after_n >= min_n.max(1))
}

/// The company's answers per score in the period before `filter`'s: read beside the
/// page's other counts, not after them.
async fn company_before(store: &Store, filter: &ResponseFilter) -> Result<[u64; 11], ApiError> {
    // Only the length of the period matters here, not its days' names.
    nps_distribution(store, &company_filter(&previous(filter, &TimeZone::UTC).0)).await
}

/// How the company's NPS moved since the period before, given its counts then and now.
fn company_change(before: &[u64; 11], now: &NpsSummary, min_n: u64) -> Option<NpsChange> {
    let then = nps_counts(before);
    change_of(NpsCounts::compare(&then, &now.counts), then.n(), now.n, min_n)
}

/// Parses a page's query: the shared filters plus `allowed` extras. Without `from`/`to`
/// the last 12 months (365 days up to and including today, in the query's zone) are shown.
pub(crate) fn parse(
    store: &Store,
    pairs: &[(String, String)],
    allowed: &[&str],
) -> Result<(ResponseFilter, Extras, Period), ApiError> {
    let (mut filter, extras) = filters::parse(pairs, allowed, store.reading().analyzer.themes())?;
    let zone = &extras.zone;
    let today = jiff::Timestamp::now().to_zoned(zone.clone()).date();
    let day = |d: jiff::civil::Date| filters::day_start(d, zone);
    let to = filter.to_ms.unwrap_or_else(|| day(today.tomorrow().unwrap_or(today)));
    let from = filter.from_ms.unwrap_or_else(|| day(today.checked_sub(jiff::Span::new().days(364)).unwrap_or(today)));
    if from >= to {
        return Err(ApiError::invalid("from", Why::new("invalid.from_after_to")));
    }
    (filter.from_ms, filter.to_ms) = (Some(from), Some(to));
    let period = Period::of(from, to, zone);
    Ok((filter, extras, period))
}

pub(crate) fn min_n(extras: &Extras) -> Result<u64, ApiError> {
    match extras.get("min_n") {
        None => Ok(DEFAULT_MIN_N),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| ApiError::invalid("min_n", Why::new("invalid.min_n"))),
    }
}

/// Restricts to NPS surveys, refusing a `survey_id` of another kind.
pub(crate) async fn nps_only(store: &Store, filter: &mut ResponseFilter) -> Result<(), ApiError> {
    if let Some(id) = &filter.survey_id {
        match store.survey_kind(id).await? {
            None => return Err(ApiError::invalid("survey_id", Why::new("invalid.no_such_survey"))),
            Some(SurveyKind::Nps) => {}
            Some(other) => {
                return Err(ApiError::invalid(
                    "survey_id",
                    Why::new("invalid.not_nps").with("kind", other.as_str().to_uppercase()),
                ));
            }
        }
    }
    filter.survey_kind = Some(SurveyKind::Nps);
    Ok(())
}

async fn counts(store: &Store, filter: &ResponseFilter, by: Option<&Dimension>) -> Result<Vec<ScoreCounts>, ApiError> {
    Ok(store.score_counts(filter, by, ScoreColumn::Score, Source::Best).await?)
}

async fn nps_distribution(store: &Store, filter: &ResponseFilter) -> Result<[u64; 11], ApiError> {
    Ok(counts(store, filter, None).await?.first().map(|g| g.counts).unwrap_or_default())
}

/// Answers per score in one period: its first day (in the query's zone), and the counts.
pub(crate) type PeriodCounts = (jiff::civil::Date, [u64; 11]);

/// Answers per score per day, week or month of `zone`, oldest first: one read serves a trend
/// and, added up, the distribution. Each period is counted from the moment it starts in the
/// zone (a day of 23 or 25 hours across a clock change included): the store reads the whole
/// UTC days inside it from the daily rollups (a month from its block) and the days a start
/// cuts from the hourly one or the rows. Without dates, from the first answer's period to now.
pub(crate) async fn periods(
    store: &Store,
    filter: &ResponseFilter,
    granularity: Granularity,
    zone: &TimeZone,
) -> Result<Vec<PeriodCounts>, ApiError> {
    let bounds = period_bounds(store, filter, granularity, zone, MAX_PERIODS).await?;
    let (Some(first), Some(last)) = (bounds.first(), bounds.last()) else { return Ok(Vec::new()) };
    let within = ResponseFilter {
        from_ms: Some(filter.from_ms.unwrap_or(first.start)),
        to_ms: Some(filter.to_ms.unwrap_or(last.end)),
        ..filter.clone()
    };
    let starts = bounds.iter().map(|p| p.start).collect();
    // One group per period, keyed by its start: ordered here by the period's first day.
    let first_day = |start: i64| bounds.binary_search_by_key(&start, |p| p.start).ok().map(|i| bounds[i].first_day);
    let mut periods: Vec<PeriodCounts> = counts(store, &within, Some(&Dimension::Since(starts)))
        .await?
        .into_iter()
        .filter_map(|g| Some((first_day(g.key.as_deref()?.parse().ok()?)?, g.counts)))
        .collect();
    periods.sort_by_key(|(day, _)| *day);
    Ok(periods)
}

/// One day, week or month of a time zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PeriodBounds {
    /// Its first day there.
    pub first_day: jiff::civil::Date,
    /// The moments (ms) it starts and ends there: a day of 23 or 25 hours across a clock change.
    pub start: i64,
    pub end: i64,
}

/// The periods the filter's dates fall in, oldest first; without dates (the API's default:
/// every answer), from the first answer to now. More than `max` is refused as bad input.
pub(crate) async fn period_bounds(
    store: &Store,
    filter: &ResponseFilter,
    granularity: Granularity,
    zone: &TimeZone,
    max: usize,
) -> Result<Vec<PeriodBounds>, ApiError> {
    let from = match filter.from_ms {
        Some(from) => from,
        None => match store.first_answer_at(filter).await? {
            Some(first) => first,
            None => return Ok(Vec::new()),
        },
    };
    let to = filter.to_ms.unwrap_or_else(|| jiff::Timestamp::now().as_millisecond() + 1);
    let mut periods = Vec::new();
    let mut day = bucket_start(filters::local_date(from, zone), granularity);
    while filters::day_start(day, zone) < to {
        if periods.len() == max {
            let why = Why::new("invalid.too_many_periods").with("max", max);
            return Err(ApiError::invalid("granularity", why));
        }
        let next = bucket_end(day, granularity);
        periods.push(PeriodBounds {
            first_day: day,
            start: filters::day_start(day, zone),
            end: filters::day_start(next, zone),
        });
        day = next;
    }
    Ok(periods)
}

/// NPS per period, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct TrendPeriod {
    /// First day of the period, in the report's time zone.
    pub period_start: String,
    /// Only part of the period is counted: it is still running ("so far"), or the filter's
    /// dates cut it. Not comparable with whole periods.
    pub partial: bool,
    /// At least `min_n` answers; below it the point is shown but too few to read.
    pub enough_data: bool,
    #[serde(flatten)]
    pub summary: NpsSummary,
}

/// The periods as a trend, each marked partial when the filter's dates (or the present) cut
/// it, and thin below `min_n` answers.
pub(crate) fn fold_trend(
    periods: &[PeriodCounts],
    granularity: Granularity,
    filter: &ResponseFilter,
    min_n: u64,
    zone: &TimeZone,
) -> Vec<TrendPeriod> {
    // Counted up to the filter's end or now, whichever is first.
    let until = filter.to_ms.unwrap_or(i64::MAX).min(jiff::Timestamp::now().as_millisecond());
    periods
        .iter()
        .map(|(start, counts)| {
            let first = filters::day_start(*start, zone);
            let end = filters::day_start(bucket_end(*start, granularity), zone);
            let partial = filter.from_ms.is_some_and(|f| first < f) || end > until;
            let summary = nps_counts(counts).summary();
            TrendPeriod { period_start: start.to_string(), partial, enough_data: summary.n >= min_n.max(1), summary }
        })
        .collect()
}

/// Answers per score added up.
pub(crate) fn total<'a>(counts: impl IntoIterator<Item = &'a [u64; 11]>) -> [u64; 11] {
    let mut sum = [0u64; 11];
    for counts in counts {
        sum.iter_mut().zip(counts).for_each(|(s, c)| *s += c);
    }
    sum
}

/// The company's answers in the same surveys and period, read only when the view is narrower
/// than the company (`None`: the view's own counts are the company's). It needs nothing from
/// the view's read, so pages run the two at once.
async fn company_distribution(store: &Store, filter: &ResponseFilter) -> Result<Option<[u64; 11]>, ApiError> {
    let wide = company_filter(filter);
    if wide == *filter { Ok(None) } else { nps_distribution(store, &wide).await.map(Some) }
}

/// The company-wide figure from [`company_distribution`] and the view's own counts.
fn company(wide: Option<[u64; 11]>, view: &[u64; 11]) -> NpsSummary {
    nps_counts(&wide.unwrap_or(*view)).summary()
}

// ----- Overview -----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ResponseRate {
    #[serde(flatten)]
    pub counts: ChannelRate,
    /// Answered as a percentage of delivered.
    pub rate_pct: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Overview {
    /// Whose detail this is: "Company", "Your team" or "You", or "Selection" when filters
    /// narrow it.
    pub subject: &'static str,
    /// `nps` covers less than the whole company (a role's scope or the filters).
    pub narrower: bool,
    /// Fewest answers a trend period needs not to be flagged thin.
    pub min_n: u64,
    pub period: Period,
    pub method: &'static str,
    /// The whole company in the same surveys and period: every role sees it.
    pub company: NpsSummary,
    /// The filtered (and, for team leads and agents, scoped) figure.
    pub nps: NpsSummary,
    /// Answers per score, 0–10.
    pub distribution: Vec<u64>,
    pub granularity: Granularity,
    pub trend: Vec<TrendPeriod>,
    pub annotations: Vec<Annotation>,
    /// CSAT surveys in the same period, scope and filters (none when an NPS survey is
    /// chosen): share of 4–5 (Wilson interval).
    pub csat: ProportionSummary,
    /// CES surveys likewise: mean of 1–7 (Student t interval).
    pub ces: MeanSummary,
    pub response_rates: Vec<ResponseRate>,
    /// The period of the same length just before this one, which the changes compare with.
    pub previous: Period,
    /// How `nps` moved since the previous period (`null` when either has fewer than `min_n`
    /// answers).
    pub nps_change: Option<NpsChange>,
    /// How the company's NPS moved (the same as `nps_change` unless the view is narrower).
    pub company_change: Option<NpsChange>,
    /// How CSAT and CES moved, in percentage points and in points of the 1–7 mean.
    pub csat_change: Option<NpsChange>,
    pub ces_change: Option<NpsChange>,
}

pub(crate) const OVERVIEW_PARAMS: &[&str] = &["granularity", "min_n"];

pub(crate) async fn overview(store: &Store, viewer: &Viewer, pairs: &[(String, String)]) -> Result<Overview, ApiError> {
    let (mut filter, extras, period) = parse(store, pairs, OVERVIEW_PARAMS)?;
    let min_n = min_n(&extras)?;
    let subject = viewer.subject_of(&filter);
    viewer.restrict(store, &mut filter).await?;
    // The other kinds follow every filter, the survey too: an NPS survey has no CSAT answers.
    let other_kinds = |kind| ResponseFilter { survey_kind: Some(kind), ..filter.clone() };
    let (csat_filter, ces_filter) = (other_kinds(SurveyKind::Csat), other_kinds(SurveyKind::Ces));
    nps_only(store, &mut filter).await?;
    // The period of the same length just before, for the changes.
    let zone = &extras.zone;
    let (previous_filter, previous_period) = previous(&filter, zone);
    let (previous_csat, previous_ces) = (previous(&csat_filter, zone).0, previous(&ces_filter, zone).0);
    // The reads are independent: done at once, they share the machine's cores.
    let (days, wide, rates, annotations, csat, ces) = tokio::try_join!(
        periods(store, &filter, extras.granularity, zone),
        company_distribution(store, &filter),
        async { Ok::<_, ApiError>(store.response_rates(&filter).await?) },
        async { Ok::<_, ApiError>(store.list_annotations(filter.survey_id.as_deref()).await?) },
        nps_distribution(store, &csat_filter),
        nps_distribution(store, &ces_filter),
    )?;
    let (was, wide_was, csat_was, ces_was) = tokio::try_join!(
        nps_distribution(store, &previous_filter),
        company_distribution(store, &previous_filter),
        nps_distribution(store, &previous_csat),
        nps_distribution(store, &previous_ces),
    )?;
    let dist = total(days.iter().map(|(_, c)| c));
    let response_rates = rates
        .into_iter()
        .map(|c| ResponseRate {
            rate_pct: (c.delivered > 0).then(|| 100.0 * c.answered as f64 / c.delivered as f64),
            counts: c,
        })
        .collect();
    let (was, now) = (nps_counts(&was), nps_counts(&dist));
    let compared =
        |then: NpsCounts, now: NpsCounts| change_of(NpsCounts::compare(&then, &now), then.n(), now.n(), min_n);
    let nps_change = compared(was, now);
    let (csat_now, ces_now) = (insight::csat(&csat), insight::ces(&ces));
    Ok(Overview {
        previous: previous_period,
        company_change: match (wide, wide_was) {
            (Some(now), Some(then)) => compared(nps_counts(&then), nps_counts(&now)),
            _ => nps_change.clone(),
        },
        nps_change,
        csat_change: change_of(insight::csat_change(&csat_was, &csat), insight::csat(&csat_was).n, csat_now.n, min_n),
        ces_change: change_of(insight::ces_change(&ces_was, &ces), insight::ces(&ces_was).n, ces_now.n, min_n),
        subject,
        narrower: wide.is_some(),
        min_n,
        period,
        method: NPS_METHOD,
        company: company(wide, &dist),
        nps: now.summary(),
        distribution: dist.to_vec(),
        granularity: extras.granularity,
        trend: fold_trend(&days, extras.granularity, &filter, min_n, zone),
        annotations,
        csat: csat_now,
        ces: ces_now,
        response_rates,
    })
}

// ----- Segments -----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Segments {
    pub subject: &'static str,
    pub period: Period,
    pub method: &'static str,
    /// The dimension: team, agent, channel, language, survey, `attr.{key}` or `property.{key}`.
    pub by: String,
    pub min_n: u64,
    pub company: NpsSummary,
    /// How the company's NPS moved since the period of the same length before.
    pub company_change: Option<NpsChange>,
    /// Ranked rows first (best NPS first), then rows with too few answers, unranked.
    pub rows: Vec<RankedRow>,
}

pub(crate) const SEGMENT_PARAMS: &[&str] = &["by", "min_n"];

/// Display names for the ids a dimension's keys hold.
pub(crate) async fn labels(store: &Store, by: &Dimension) -> Result<HashMap<String, String>, ApiError> {
    Ok(match by {
        Dimension::Team => store.list_teams().await?.into_iter().map(|t| (t.id, t.name)).collect(),
        Dimension::Agent => store.list_agents(None).await?.into_iter().map(|a| (a.id, a.name)).collect(),
        Dimension::Survey => store.list_surveys().await?.into_iter().map(|s| (s.id, s.definition.name)).collect(),
        _ => HashMap::new(),
    })
}

pub(crate) fn label_of(names: &HashMap<String, String>, key: &Option<String>) -> String {
    match key {
        None => "(none)".into(),
        Some(k) => names.get(k).cloned().unwrap_or_else(|| k.clone()),
    }
}

/// What answers without a value of `by` are called: not a group like the others.
fn without(by: &Dimension) -> String {
    match by {
        Dimension::Team => "No team".into(),
        Dimension::Agent => "No agent".into(),
        Dimension::Language => "Language unknown".into(),
        Dimension::Attribute(key) | Dimension::Property(key) => format!("No {key}"),
        _ => "Not set".into(),
    }
}

/// Whether a scope leaves anything to compare along `by`: an agent's answers are all theirs
/// and their team's, a team lead's all their team's, so such a split would pass one
/// person's or one team's score off as a team's.
fn splits(viewer: &Viewer, by: &Dimension) -> bool {
    !matches!(
        (&viewer.scope, by),
        (Scope::Team(_), Dimension::Team) | (Scope::Agent { .. } | Scope::Unlinked, Dimension::Team | Dimension::Agent)
    )
}

/// The dimensions the Segments page offers this viewer.
pub(crate) fn segment_dimensions(viewer: &Viewer) -> Vec<&'static str> {
    ["team", "agent", "channel", "language", "survey"]
        .into_iter()
        .filter(|d| Dimension::parse(d).is_some_and(|by| splits(viewer, &by)))
        .collect()
}

pub(crate) async fn segments(store: &Store, viewer: &Viewer, pairs: &[(String, String)]) -> Result<Segments, ApiError> {
    let (mut filter, extras, period) = parse(store, pairs, SEGMENT_PARAMS)?;
    let default = segment_dimensions(viewer)[0];
    let by_name = extras.get("by").unwrap_or(default);
    let by = Dimension::parse(by_name).ok_or_else(|| {
        ApiError::invalid(
            "by",
            Why::new("invalid.one_of")
                .with("values", "team, agent, channel, language, survey, day, attr.{key}, property.{key}"),
        )
    })?;
    if !splits(viewer, &by) {
        let why = if matches!(viewer.scope, Scope::Team(_)) { "refused.one_team" } else { "refused.one_agent" };
        return Err(ApiError::refused(Why::new(why).with("by", segment_dimensions(viewer).join(", "))));
    }
    let min_n = min_n(&extras)?;
    let subject = viewer.subject_of(&filter);
    viewer.restrict(store, &mut filter).await?;
    nps_only(store, &mut filter).await?;
    let names = labels(store, &by).await?;
    let (groups, wide, before) = tokio::try_join!(
        counts(store, &filter, Some(&by)),
        company_distribution(store, &filter),
        company_before(store, &filter)
    )?;
    let company = company(wide, &total(groups.iter().map(|g| &g.counts)));
    let label = |key: &Option<String>| key.as_ref().map_or_else(|| without(&by), |_| label_of(&names, key));
    let rows = rank(groups.into_iter().map(|g| (g.key.clone(), label(&g.key), nps_counts(&g.counts))).collect(), min_n);
    let company_change = company_change(&before, &company, min_n);
    Ok(Segments { subject, period, method: NPS_METHOD, by: by.name(), min_n, company, company_change, rows })
}

// ----- Agents and teams -----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct AgentRow {
    pub agent_id: String,
    pub name: String,
    pub team: Option<String>,
    /// Place by agent NPS among agents with enough answers (1 = best); `null`: too few.
    pub rank: Option<u64>,
    /// NPS of the second question, about the agent.
    pub agent_nps: NpsSummary,
    /// NPS of the main question, about the company, from the same agent's customers.
    pub company_nps: NpsSummary,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct FigureBins {
    /// The property carried on answers, e.g. `handle_time_s`.
    pub property: String,
    pub label: String,
    pub bins: Vec<Bin>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Agents {
    pub subject: &'static str,
    pub period: Period,
    pub method: &'static str,
    pub min_n: u64,
    pub company: NpsSummary,
    /// How the company's NPS moved since the period of the same length before.
    pub company_change: Option<NpsChange>,
    /// How many agents have enough answers to be ranked.
    pub ranked_agents: u64,
    /// The viewer's own place, for agents.
    pub your_rank: Option<u64>,
    /// The rows this viewer may see, best agent NPS first.
    pub agents: Vec<AgentRow>,
    /// Agents whose agent NPS stands above all agents' pooled beyond doubt (the low end of
    /// their 95% interval above `champion_bar`), at most 20, that this viewer may see by name.
    pub champions: Vec<AgentRow>,
    /// All agents' answers to the agent question pooled: the bar a champion clears.
    pub champion_bar: NpsSummary,
    /// Per team, its champions beside its ranked agents (admins, executives and team leads).
    pub champion_teams: Vec<TeamShare>,
    pub champion_sentence: Option<String>,
    /// NPS against handle time, wait time and transfers, binned.
    pub figures: Vec<FigureBins>,
}

pub(crate) const AGENT_PARAMS: &[&str] = &["min_n"];

pub(crate) async fn agents(store: &Store, viewer: &Viewer, pairs: &[(String, String)]) -> Result<Agents, ApiError> {
    let (mut filter, extras, period) = parse(store, pairs, AGENT_PARAMS)?;
    let min_n = min_n(&extras)?;
    let subject = viewer.subject_of(&filter);
    nps_only(store, &mut filter).await?;
    // Ranks are company-wide whoever looks; the scope decides which rows are shown, and
    // narrows the call-centre figures.
    let mut scoped = filter.clone();
    viewer.restrict(store, &mut scoped).await?;
    let by = Some(&Dimension::Agent);
    // The reads are independent: done at once, they share the machine's cores.
    let whole_company = company_filter(&filter);
    let figure_reads = INTERACTION_FIGURES.iter().map(|(property, ..)| async {
        counts(store, &scoped, Some(&Dimension::FigureBin(property.to_string()))).await
    });
    let (agent_scores, company_scores, roster, teams, company, before, figure_counts) = tokio::try_join!(
        async { Ok::<_, ApiError>(store.score_counts(&filter, by, ScoreColumn::AgentScore, Source::Best).await?) },
        counts(store, &filter, by),
        async { Ok(store.list_agents(None).await?) },
        labels(store, &Dimension::Team),
        nps_distribution(store, &whole_company),
        company_before(store, &filter),
        futures_util::future::try_join_all(figure_reads),
    )?;
    let roster: HashMap<String, hark_store::Agent> = roster.into_iter().map(|a| (a.id.clone(), a)).collect();
    let company_of: HashMap<Option<String>, NpsCounts> =
        company_scores.iter().map(|g| (g.key.clone(), nps_counts(&g.counts))).collect();
    // Every agent with answers, whether or not their customers answered the agent question.
    let keys: std::collections::BTreeSet<Option<String>> =
        agent_scores.iter().chain(&company_scores).map(|g| g.key.clone()).filter(Option::is_some).collect();
    let agent_of: HashMap<Option<String>, NpsCounts> =
        agent_scores.iter().map(|g| (g.key.clone(), nps_counts(&g.counts))).collect();
    let names: HashMap<String, String> = roster.iter().map(|(id, a)| (id.clone(), a.name.clone())).collect();
    let ranked = rank(
        keys.iter().map(|k| (k.clone(), label_of(&names, k), agent_of.get(k).copied().unwrap_or_default())).collect(),
        min_n,
    );
    let team_of = |id: &str| roster.get(id).and_then(|a| a.team_id.clone());
    let row = |r: &RankedRow| {
        let id = r.key.clone().unwrap_or_default();
        AgentRow {
            team: team_of(&id).map(|t| label_of(&teams, &Some(t))),
            company_nps: company_of.get(&r.key).copied().unwrap_or_default().summary(),
            agent_id: id,
            name: r.label.clone(),
            rank: r.rank,
            agent_nps: r.summary,
        }
    };
    let visible = |r: &RankedRow| {
        let id = r.key.as_deref().unwrap_or_default();
        match &viewer.scope {
            Scope::All => true,
            Scope::Team(team) => team_of(id).as_ref() == Some(team),
            Scope::Agent { agent_id, .. } => id == agent_id,
            Scope::Unlinked => false,
        }
    };
    let bar = insight::pooled(&ranked);
    let crowned = insight::champions(&ranked, bar.nps, CHAMPIONS);
    let shares = champion_teams(&ranked, &crowned, |r| {
        team_of(r.key.as_deref().unwrap_or_default())
            .map_or_else(|| without(&Dimension::Team), |t| label_of(&teams, &Some(t)))
    });
    let is_agent = viewer.sees_own_only();
    let your_rank = match &viewer.scope {
        Scope::Agent { agent_id, .. } => {
            ranked.iter().find(|r| r.key.as_deref() == Some(agent_id)).and_then(|r| r.rank)
        }
        _ => None,
    };
    let figures = INTERACTION_FIGURES
        .iter()
        .zip(&figure_counts)
        .map(|((property, label, edges, unit), groups)| {
            let values =
                groups.iter().filter_map(|g| Some((g.key.as_deref()?.parse::<f64>().ok()?, nps_counts(&g.counts))));
            FigureBins {
                property: property.to_string(),
                label: label.to_string(),
                bins: insight::bins(values, edges, unit, min_n),
            }
        })
        .collect();
    let company = nps_counts(&company).summary();
    let company_change = company_change(&before, &company, min_n);
    Ok(Agents {
        subject,
        period,
        method: NPS_METHOD,
        min_n,
        company,
        company_change,
        ranked_agents: ranked.iter().filter(|r| r.rank.is_some()).count() as u64,
        your_rank,
        agents: ranked.iter().filter(|r| visible(r)).map(row).collect(),
        champions: crowned.iter().filter(|r| !is_agent && visible(r)).map(|r| row(r)).collect(),
        champion_sentence: (!is_agent).then(|| champion_sentence(&shares, bar.nps)).flatten(),
        champion_bar: bar,
        champion_teams: if is_agent { Vec::new() } else { shares },
        figures,
    })
}

// ----- Changes -----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Window {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub summary: NpsSummary,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Comparison {
    /// What is compared: an annotation's label or "two periods".
    pub label: String,
    /// The annotation compared around, if it is one.
    pub annotation_id: Option<String>,
    pub before: Window,
    pub after: Window,
    /// `null` when either window has fewer than `min_n` answers (default 30).
    pub change: Option<NpsChange>,
    pub min_n: u64,
    pub sentence: String,
    pub method: &'static str,
    /// The IANA zone whose days the windows are.
    pub time_zone: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Changes {
    pub subject: &'static str,
    pub annotations: Vec<Annotation>,
    pub comparison: Option<Comparison>,
}

pub(crate) const CHANGE_PARAMS: &[&str] =
    &["annotation_id", "window_days", "before_from", "before_to", "after_from", "after_to", "min_n"];

/// Compares NPS before and after an annotation (`annotation_id`, `window_days` each side,
/// default 30) or between two periods (`before_from`, `before_to`, `after_from`, `after_to`).
/// Asked for neither, it compares around the latest annotation, if there is one.
pub(crate) async fn changes(store: &Store, viewer: &Viewer, pairs: &[(String, String)]) -> Result<Changes, ApiError> {
    let (mut filter, extras) = filters::parse(pairs, CHANGE_PARAMS, store.reading().analyzer.themes())?;
    let min_n = min_n(&extras)?;
    let subject = viewer.subject_of(&filter);
    viewer.restrict(store, &mut filter).await?;
    nps_only(store, &mut filter).await?;
    let date = |name: &str, end: bool| -> Result<Option<i64>, ApiError> {
        extras
            .get(name)
            .map(|v| filters::parse_time(v, end, &extras.zone).map_err(|why| ApiError::invalid(name, why)))
            .transpose()
    };
    let annotations = store.list_annotations(filter.survey_id.as_deref()).await?;
    let periods = ["before_from", "before_to", "after_from", "after_to"];
    let latest = annotations.last().filter(|_| periods.iter().all(|p| extras.get(p).is_none()));
    let annotation_id = extras.get("annotation_id").or(latest.map(|a| a.id.as_str())).map(str::to_string);
    let windows = if let Some(id) = &annotation_id {
        let note = store
            .get_annotation(id)
            .await?
            .ok_or_else(|| ApiError::invalid("annotation_id", Why::new("invalid.no_such_annotation")))?;
        let days = match extras.get("window_days") {
            None => 30,
            Some(v) => v.parse::<i64>().ok().filter(|d| (1..=365).contains(d)).ok_or_else(|| {
                ApiError::invalid(
                    "window_days",
                    Why::new("invalid.whole_number_between").with("min", 1).with("max", 365),
                )
            })?,
        };
        // Its windows are whole days of the zone, each side of the day it names.
        let day = date_of_day(note.day);
        let shifted =
            |n: i64| filters::day_start(day.checked_add(jiff::Span::new().days(n)).unwrap_or(day), &extras.zone);
        Some((note.label, (shifted(-days), shifted(0)), (shifted(0), shifted(days))))
    } else {
        match (
            date("before_from", false)?,
            date("before_to", true)?,
            date("after_from", false)?,
            date("after_to", true)?,
        ) {
            (None, None, None, None) => None,
            (Some(a), Some(b), Some(c), Some(d)) => {
                for (name, from, to) in [("before_to", a, b), ("after_to", c, d)] {
                    if from >= to {
                        return Err(ApiError::invalid(name, Why::new("invalid.end_before_start")));
                    }
                }
                Some(("two periods".to_string(), (a, b), (c, d)))
            }
            _ => {
                return Err(ApiError::invalid("before_from", Why::new("invalid.four_dates")));
            }
        }
    };
    let comparison = match windows {
        None => None,
        Some((label, before, after)) => {
            let window =
                |(from, to): (i64, i64)| ResponseFilter { from_ms: Some(from), to_ms: Some(to), ..filter.clone() };
            let b = nps_counts(&nps_distribution(store, &window(before)).await?);
            let a = nps_counts(&nps_distribution(store, &window(after)).await?);
            let change = change_of(NpsCounts::compare(&b, &a), b.n(), a.n(), min_n);
            let sentence = change.as_ref().map(NpsChange::sentence).unwrap_or_else(|| {
                format!(
                    "Too few answers to compare: each period needs at least {min_n} (before: {}, after: {})",
                    b.n(),
                    a.n()
                )
            });
            let shown = |(from, to): (i64, i64), c: NpsCounts| {
                let Period { from, to, .. } = Period::of(from, to, &extras.zone);
                Window { from, to, summary: c.summary() }
            };
            Some(Comparison {
                label,
                annotation_id,
                before: shown(before, b),
                after: shown(after, a),
                change,
                min_n,
                sentence,
                method: NPS_DIFFERENCE_METHOD,
                time_zone: zone_name(&extras.zone),
            })
        }
    };
    Ok(Changes { subject, annotations, comparison })
}

/// A day number as its date, e.g. `2026-03-01`.
pub(crate) fn day_text(day: i64) -> String {
    date_of_day(day).to_string()
}

/// Where an annotation falls on a trend: the (fractional) index of its period.
pub(crate) fn annotation_positions(
    trend: &[TrendPeriod],
    notes: &[Annotation],
    granularity: Granularity,
) -> Vec<(f64, String)> {
    let starts: Vec<i64> =
        trend.iter().filter_map(|p| p.period_start.parse::<jiff::civil::Date>().ok()).map(day_of_date).collect();
    notes
        .iter()
        .filter_map(|n| {
            let bucket = day_of_date(hark_core::report::bucket_start(date_of_day(n.day), granularity));
            // Between two periods with answers it is drawn halfway; outside the trend, not at all.
            let i = starts.iter().position(|&s| s >= bucket)?;
            let at = match (starts[i] == bucket, i) {
                (true, _) => i as f64,
                (false, 0) => return None,
                (false, _) => i as f64 - 0.5,
            };
            Some((at, n.label.clone()))
        })
        .collect()
}

// ----- Monitoring -----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Monitoring {
    pub rules: Vec<AlertRule>,
    pub alerts: Vec<Alert>,
}

pub(crate) async fn monitoring(store: &Store, viewer: &Viewer) -> Result<Monitoring, ApiError> {
    if viewer.sees_own_only() {
        return Err(ApiError::refused(Why::new("refused.alerts")));
    }
    let team = match &viewer.scope {
        Scope::Team(t) => Some(t.as_str()),
        _ => None,
    };
    let rules = store.list_alert_rules().await?;
    Ok(Monitoring {
        rules: rules
            .into_iter()
            .filter(|r| team.is_none() || r.team_id.is_none() || r.team_id.as_deref() == team)
            .collect(),
        alerts: store.list_alerts(team, 100).await?,
    })
}

// ----- Responses -----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ResponseRow {
    pub id: String,
    pub survey_id: String,
    /// When answered (UTC date).
    pub date: String,
    /// The survey's name.
    pub survey: String,
    pub score: i64,
    pub segment: hark_core::Segment,
    /// The segment in the survey kind's own words: "promoter", "satisfied", "low effort" ….
    pub segment_label: &'static str,
    pub comment: Option<String>,
    /// The answers to the survey's extra questions, by question id, as stored.
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// The themes the comment mentions (keys).
    pub themes: Vec<String>,
    /// `negative`, `neutral` or `positive`; `null` without a comment.
    pub sentiment: Option<String>,
    pub contact: Option<String>,
    pub contact_id: Option<String>,
    /// The case opened on this answer, if one was, and its status.
    pub case_id: Option<String>,
    pub case_status: Option<hark_store::CaseStatus>,
    pub agent: Option<String>,
    pub channel: String,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Responses {
    pub subject: &'static str,
    pub period: Period,
    /// Answers matching the filters (all pages): exact, however many, unless a search or a
    /// contact, language or attribute filter asks for more than 1,000 (`total_exact` false:
    /// at least this many).
    pub total: i64,
    pub total_exact: bool,
    pub items: Vec<ResponseRow>,
    pub next_cursor: Option<String>,
    /// Each survey by id, for a page to word the answers' extra questions in.
    #[serde(skip)]
    pub surveys: HashMap<String, hark_core::survey::SurveyDefinition>,
}

/// Answers a search counts before it says "more than": counting every match of a search over
/// millions of answers reads them all.
const COUNTED_AT_MOST: i64 = 1_000;

pub(crate) const RESPONSE_PARAMS: &[&str] = &["segment", "score", "kind", "cursor", "limit"];

pub(crate) async fn responses(
    store: &Store,
    viewer: &Viewer,
    pairs: &[(String, String)],
) -> Result<Responses, ApiError> {
    let (mut filter, extras, period) = parse(store, pairs, RESPONSE_PARAMS)?;
    let subject = viewer.subject_of(&filter);
    viewer.restrict(store, &mut filter).await?;
    let after = match extras.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            hark_store::ResponseCursor::decode(c)
                .ok_or_else(|| ApiError::field("cursor", "not a cursor this list gave"))?,
        ),
    };
    let (page, (total, capped)) = tokio::try_join!(
        store.list_responses(&filter, after.as_ref(), extras.limit + 1),
        store.count_matching(&filter, COUNTED_AT_MOST)
    )?;
    let more = page.len() as i64 > extras.limit;
    let page = &page[..page.len().min(extras.limit as usize)];
    let ids: Vec<String> = page.iter().filter_map(|r| r.contact_id.clone()).collect();
    let contacts: HashMap<String, String> =
        store.get_contacts(&ids).await?.into_iter().map(|c| (c.id.clone(), c.shown_name().to_owned())).collect();
    let answer_ids: Vec<String> = page.iter().map(|r| r.id.clone()).collect();
    let cases: HashMap<String, hark_store::Case> =
        store.cases_of_responses(&answer_ids).await?.into_iter().map(|c| (c.response_id.clone(), c)).collect();
    let agents = labels(store, &Dimension::Agent).await?;
    let surveys = crate::ops::surveys::definitions(store).await?;
    Ok(Responses {
        subject,
        period,
        total,
        total_exact: !capped,
        next_cursor: more
            .then(|| page.last())
            .flatten()
            .map(|r| hark_store::ResponseCursor { created_at: r.created_at, id: r.id.clone() }.encode()),
        items: page
            .iter()
            .map(|r| ResponseRow {
                id: r.id.clone(),
                survey_id: r.survey_id.clone(),
                date: filters::local_date(r.created_at, &extras.zone).to_string(),
                survey: surveys.get(&r.survey_id).map_or_else(|| r.survey_id.clone(), |s| s.name.clone()),
                score: r.score,
                segment: r.segment,
                segment_label: surveys.get(&r.survey_id).map_or(SurveyKind::Nps, |s| s.kind).segment_word(r.segment),
                comment: r.comment.clone(),
                answers: r.answers.clone(),
                themes: r.themes.clone(),
                sentiment: r.sentiment.clone(),
                contact: r.contact_id.as_ref().and_then(|id| contacts.get(id).cloned()),
                contact_id: r.contact_id.clone(),
                case_id: cases.get(&r.id).map(|c| c.id.clone()),
                case_status: cases.get(&r.id).map(|c| c.status),
                agent: r.agent_id.as_ref().map(|id| label_of(&agents, &Some(id.clone()))),
                channel: r.channel.clone(),
                language: r.language.clone(),
            })
            .collect(),
        surveys,
    })
}

// ----- Annotations and alert rules (written from the API and the pages alike) -----

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnnotationInput {
    /// The day the change happened, `2026-03-01` (UTC).
    pub date: String,
    /// What changed, e.g. "launched live chat" (1–200 characters).
    pub label: String,
    /// Draw it only on this survey's trends; empty or absent: on every trend.
    pub survey_id: Option<String>,
}

pub(crate) async fn add_annotation(
    store: &Store,
    input: &AnnotationInput,
    by: Option<&str>,
) -> Result<Annotation, ApiError> {
    let mut errors = hark_core::ValidationErrors::default();
    let date = input.date.trim().parse::<jiff::civil::Date>();
    if date.is_err() {
        errors.say("date", Why::new("invalid.date"));
    }
    let label = input.label.trim();
    if label.is_empty() || label.chars().count() > 200 {
        errors.say("label", Why::new("invalid.chars_between").with("min", 1).with("max", 200));
    }
    let survey_id = input.survey_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(id) = survey_id
        && store.survey_kind(id).await?.is_none()
    {
        errors.say("survey_id", Why::new("invalid.no_such_survey"));
    }
    errors.into_result()?;
    let day = day_of_date(date.expect("checked above"));
    Ok(store.create_annotation(day, label, survey_id, by).await?)
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertRuleInput {
    pub name: String,
    /// Only this NPS survey; empty or absent: all NPS surveys.
    pub survey_id: Option<String>,
    /// Only this team; empty or absent: the whole company.
    pub team_id: Option<String>,
    /// Days in the recent window, compared with as many days before it (1–180, default 30).
    pub window_days: Option<i64>,
    /// Answers each window needs before a drop can alert (1–100000, default 30).
    pub min_n: Option<i64>,
    /// Who is mailed when the rule fires.
    pub notify_email: Option<String>,
}

pub(crate) async fn add_alert_rule(store: &Store, input: &AlertRuleInput) -> Result<AlertRule, ApiError> {
    let mut errors = hark_core::ValidationErrors::default();
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.say("name", Why::new("invalid.chars_between").with("min", 1).with("max", 100));
    }
    let number = |errors: &mut hark_core::ValidationErrors, field: &str, v: Option<i64>, max: i64| match v {
        None => 30,
        Some(n) if (1..=max).contains(&n) => n,
        _ => {
            errors.say(field, Why::new("invalid.whole_number_between").with("min", 1).with("max", max));
            30
        }
    };
    let window_days = number(&mut errors, "window_days", input.window_days, 180);
    let min_n = number(&mut errors, "min_n", input.min_n, 100_000);
    let (survey_id, team_id, notify_email) = (text(&input.survey_id), text(&input.team_id), text(&input.notify_email));
    if let Some(id) = &survey_id {
        match store.survey_kind(id).await? {
            Some(SurveyKind::Nps) => {}
            Some(_) => errors.say("survey_id", Why::new("invalid.alerts_watch_nps")),
            None => errors.say("survey_id", Why::new("invalid.no_such_survey")),
        }
    }
    if let Some(id) = &team_id
        && store.get_team(id).await?.is_none()
    {
        errors.say("team_id", Why::new("invalid.no_such_team"));
    }
    if let Some(e) = &notify_email
        && !hark_core::contact::is_email(e)
    {
        errors.say("notify_email", Why::new("invalid.email"));
    }
    errors.into_result()?;
    let new = hark_store::NewAlertRule { name: name.to_string(), survey_id, team_id, window_days, min_n, notify_email };
    Ok(store.create_alert_rule(&new).await?)
}
