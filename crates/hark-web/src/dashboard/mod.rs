//! The dashboard pages: Overview, Segments, Agents, Changes, Monitoring and Responses. Each
//! page is drawn from the same figures as its `/api/v1/reports/…` route; its tables are the
//! CSV export (`….csv` with the same query), so the download is exactly what the page shows.
//! Filters live in the query string, so a view is shared by sharing its address.

pub(crate) mod charts;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawForm, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hark_core::report::Granularity;
use hark_core::report::format_ms;
use hark_core::spreadsheet;
use hark_core::{Interval, NpsSummary};
use hark_store::Dimension;

use crate::AppState;
use crate::ops::insights::{self, AlertRuleInput, AnnotationInput, label_of};
use crate::page::render;
use crate::page::{Nav, PageViewer, csv_download};
use crate::problem::ApiError;
use crate::viewer::{Scope, Viewer};
use charts::{Dot, DotRow, TrendPoint};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(|| async { Redirect::to("/dashboard/overview") }))
        .route("/dashboard/{page}", get(page))
        .route("/dashboard/annotations", post(add_annotation))
        .route("/dashboard/annotations/{id}/delete", post(delete_annotation))
        .route("/dashboard/alert-rules", post(add_alert_rule))
        .route("/dashboard/alert-rules/{id}/delete", post(delete_alert_rule))
}

/// A table as shown on the page and written to the CSV.
pub(crate) struct Table {
    /// Per row, per cell, where the cell leads (the answers behind it, a case …); may be short.
    pub links: Vec<Vec<Option<String>>>,
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn link(&self, row: &usize, cell: &usize) -> Option<&str> {
        self.links.get(*row)?.get(*cell)?.as_deref()
    }

    /// The section's name in words, for the page (the CSV keeps the key).
    fn title(&self) -> String {
        words(&self.name)
    }

    fn headings(&self) -> Vec<String> {
        self.headers.iter().map(|h| words(h)).collect()
    }
}

/// A CSV key as a heading a reader understands.
fn words(key: &str) -> String {
    let known = match key {
        "n" => "Answers",
        "nps" => "NPS",
        "ci_low" => "95% CI from",
        "ci_high" => "to",
        "enough_data" => "Enough answers",
        "whole_period" => "Whole period",
        "period_start" => "Period from",
        "rate_pct" => "Response rate %",
        "agent_n" => "Agent answers",
        "agent_nps" => "Agent NPS",
        "agent_ci_low" | "company_ci_low" => "95% CI from",
        "agent_ci_high" | "company_ci_high" => "to",
        "company_n" => "Company answers",
        "company_nps" => "Company NPS",
        "nps_by_handle_time_s" => "NPS by handle time",
        "nps_by_wait_time_s" => "NPS by wait time",
        "nps_by_transfers" => "NPS by transfers",
        "champions_by_team" => "Where the champions sit",
        "response_rate" => "Response rate by channel",
        "distribution" => "Answers per score",
        "trend" => "NPS by period",
        "window_days" => "Window (days)",
        "min_n" => "Fewest answers",
        "p_value" => "p",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    crate::page::heading(key)
}

/// A headline figure.
struct Card {
    label: String,
    value: String,
    detail: String,
}

struct Option_ {
    value: String,
    label: String,
    selected: bool,
}

/// The filter form, filled from the query string.
struct Filters {
    surveys: Vec<Option_>,
    /// Empty when the viewer's scope fixes the team.
    teams: Vec<Option_>,
    /// Empty for agents (their own answers only).
    agents: Vec<Option_>,
    from: String,
    to: String,
    channel: String,
    language: String,
    attr: String,
    q: String,
    /// The page's own parameters (by, min_n, granularity …) kept as they are.
    hidden: Vec<(String, String)>,
    /// The filters themselves, for forms that change something else (the period comparison).
    kept: Vec<(String, String)>,
    /// What the filters choose, in a line: the folded filter panel's label.
    summary: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    title: String,
    nav: Option<Nav>,
    current: &'static str,
    monitoring: bool,
    query: String,
    filters: Filters,
    search: bool,
    subject: &'static str,
    period: String,
    method: String,
    cards: Vec<Card>,
    sentence: Option<String>,
    /// Heading, the chart for wide screens and the one for phones.
    charts: Vec<(String, String, String)>,
    tables: Vec<Table>,
    next_page: Option<String>,
    /// Page-specific controls.
    controls: Controls,
}

#[derive(Default)]
struct Controls {
    dimensions: Vec<Option_>,
    min_n: Option<u64>,
    granularities: Vec<Option_>,
    annotations: Vec<(String, String, String)>,
    annotate: bool,
    compare: Vec<Option_>,
    rules: bool,
    /// (id, name) of rules an admin may remove.
    rule_list: Vec<(String, String)>,
    teams: Vec<Option_>,
    surveys: Vec<Option_>,
}

/// A card's detail with how the figure moved since the period of the same length before:
/// the difference, its 95% interval and whether the test calls it real.
fn with_change(
    detail: String,
    change: Option<&hark_core::NpsChange>,
    days: i64,
    unit: &str,
    precision: usize,
) -> String {
    let Some(c) = change else {
        return format!("{detail} · too few answers, now or in the {days} days before, to compare");
    };
    let arrow = match c.difference {
        d if d > 0.0 => "▲",
        d if d < 0.0 => "▼",
        _ => "=",
    };
    format!(
        "{detail} · {arrow} {:+.p$}{unit} vs the {days} days before (95% CI {:+.p$} to {:+.p$}): {}",
        c.difference,
        c.interval.low,
        c.interval.high,
        if c.significant { "a real change" } else { "within noise" },
        p = precision
    )
}

/// The Responses page under the page's filters, with `more` added (or put in place of a
/// filter of the same name): where a chart's mark or a table's row leads.
fn responses_link(pairs: &[(String, String)], more: &[(&str, String)]) -> String {
    let kept = pairs.iter().filter(|(k, _)| FILTER_KEYS.contains(&k.as_str()) && !more.iter().any(|(m, _)| m == k));
    let all: Vec<(&str, &str)> =
        kept.map(|(k, v)| (k.as_str(), v.as_str())).chain(more.iter().map(|(k, v)| (*k, v.as_str()))).collect();
    format!("/dashboard/responses?{}", serde_urlencoded::to_string(&all).unwrap_or_default())
}

/// Where a trend period's answers are: its days, within the page's period.
fn period_link(
    pairs: &[(String, String)],
    p: &insights::TrendPeriod,
    g: Granularity,
    page: &insights::Period,
) -> String {
    let start = p.period_start.parse::<jiff::civil::Date>().ok();
    let last =
        start.map(|d| hark_core::report::bucket_end(d, g).yesterday().unwrap_or(d).to_string()).unwrap_or_default();
    let from = p.period_start.clone().max(page.from.clone());
    let to = last.min(page.to.clone());
    responses_link(pairs, &[("from", from), ("to", to)])
}

/// A chart in both sizes, under its heading.
fn drawn(heading: String, draw: impl Fn(charts::Size) -> String) -> (String, String, String) {
    (heading, draw(charts::Size::Wide), draw(charts::Size::Narrow))
}

fn nps_text(s: &NpsSummary) -> String {
    match (s.nps, s.interval) {
        (Some(nps), Some(i)) => format!("{nps:+.0} (95% CI {:+.0} to {:+.0})", i.low, i.high),
        _ => "no answers".into(),
    }
}

/// A rank cell: the place, or why there is none.
fn rank_text(rank: Option<u64>, enough_data: bool) -> String {
    match (rank, enough_data) {
        (Some(k), _) => k.to_string(),
        (None, false) => "too few answers".into(),
        // Answers without a team, agent … are shown but are not a group to rank.
        (None, true) => "not ranked".into(),
    }
}

fn num(x: Option<f64>) -> String {
    x.map_or_else(String::new, |v| format!("{v:.1}"))
}

fn interval_cells(i: Option<Interval>) -> [String; 2] {
    [num(i.map(|i| i.low)), num(i.map(|i| i.high))]
}

fn summary_cells(s: &NpsSummary) -> Vec<String> {
    let [low, high] = interval_cells(s.interval);
    vec![
        s.n.to_string(),
        s.counts.promoters.to_string(),
        s.counts.passives.to_string(),
        s.counts.detractors.to_string(),
        num(s.nps),
        low,
        high,
    ]
}

const SUMMARY_HEADERS: [&str; 7] = ["n", "promoters", "passives", "detractors", "nps", "ci_low", "ci_high"];

fn headers(first: &[&str]) -> Vec<String> {
    first.iter().copied().chain(SUMMARY_HEADERS).map(str::to_string).collect()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn csv(tables: &[Table], name: &str) -> Response {
    let mut body = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            body.push(b'\n'); // a blank line between sections
        }
        let mut out = csv::Writer::from_writer(&mut body);
        let _ = out.write_record(std::iter::once("section").chain(t.headers.iter().map(String::as_str)));
        for row in &t.rows {
            let cells: Vec<std::borrow::Cow<'_, str>> = row.iter().map(|c| spreadsheet::defuse(c)).collect();
            let _ = out.write_record(std::iter::once(t.name.as_str()).chain(cells.iter().map(|c| c.as_ref())));
        }
        let _ = out.flush();
    }
    csv_download(name, body)
}

/// A refusal on a page: a page with its status and the problem's words.
fn refused(e: ApiError) -> Response {
    refused_on(e, None)
}

fn refused_on(e: ApiError, nav: Option<Nav>) -> Response {
    let status = StatusCode::from_u16(e.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = e.0.errors.first().map_or_else(|| e.0.detail.clone(), |f| format!("{}: {}", f.field, f.message));
    crate::page::problem_page(status, nav, &reason)
}

async fn page(
    State(state): State<AppState>,
    PageViewer(viewer, nav): PageViewer,
    Path(page): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let (name, as_csv) = match page.strip_suffix(".csv") {
        Some(name) => (name.to_string(), true),
        None => (page, false),
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&raw).unwrap_or_default();
    // Empty form fields mean "any"; they are not filters.
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let built = match name.as_str() {
        "overview" => overview(&state, &viewer, &pairs).await,
        "segments" => segments(&state, &viewer, &pairs).await,
        "agents" => agents(&state, &viewer, &pairs).await,
        "changes" => changes(&state, &viewer, &pairs).await,
        "monitoring" => monitoring(&state, &viewer).await,
        "responses" => responses(&state, &viewer, &pairs).await,
        _ => return crate::page::problem_page(StatusCode::NOT_FOUND, Some(nav), "There is no such dashboard page."),
    };
    let mut page = match built {
        Ok(p) => p,
        Err(e) => return refused_on(e, Some(nav.clone())),
    };
    if as_csv {
        return csv(&page.tables, &name);
    }
    page.nav = Some(nav.clone());
    page.monitoring = !viewer.sees_own_only();
    page.query = if raw.is_empty() { String::new() } else { format!("?{raw}") };
    // The answer list covers every kind of survey; the figures are NPS.
    match filters(&state, &viewer, &pairs, name == "responses").await {
        Ok(f) => page.filters = f,
        Err(e) => return refused_on(e, Some(nav.clone())),
    }
    render(&page)
}

fn blank(title: &str, current: &'static str, subject: &'static str) -> DashboardPage {
    DashboardPage {
        title: title.into(),
        nav: None,
        current,
        monitoring: false,
        query: String::new(),
        filters: Filters {
            surveys: vec![],
            teams: vec![],
            agents: vec![],
            from: String::new(),
            to: String::new(),
            channel: String::new(),
            language: String::new(),
            attr: String::new(),
            q: String::new(),
            hidden: vec![],
            kept: vec![],
            summary: String::new(),
        },
        search: false,
        subject,
        period: String::new(),
        method: String::new(),
        cards: vec![],
        sentence: None,
        charts: vec![],
        tables: vec![],
        next_page: None,
        controls: Controls::default(),
    }
}

const FILTER_KEYS: [&str; 9] = ["survey_id", "team_id", "agent_id", "from", "to", "channel", "language", "attr", "q"];

async fn filters(
    state: &AppState,
    viewer: &Viewer,
    pairs: &[(String, String)],
    every_kind: bool,
) -> Result<Filters, ApiError> {
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let options = |items: Vec<(String, String)>, chosen: String| {
        items.into_iter().map(|(value, label)| Option_ { selected: value == chosen, value, label }).collect()
    };
    let surveys = state.store.list_surveys().await?;
    let nps: Vec<(String, String)> = surveys
        .into_iter()
        .filter(|s| every_kind || s.definition.kind == hark_core::SurveyKind::Nps)
        .map(|s| (s.id, s.definition.name))
        .collect();
    let teams = match viewer.scope {
        Scope::All => state.store.list_teams().await?.into_iter().map(|t| (t.id, t.name)).collect(),
        _ => vec![],
    };
    let agents = match &viewer.scope {
        Scope::All => state.store.list_agents(None).await?,
        Scope::Team(t) => state.store.list_agents(Some(t)).await?,
        _ => vec![],
    };
    let surveys: Vec<Option_> = options(nps, get("survey_id"));
    let teams: Vec<Option_> = options(teams, get("team_id"));
    let agents: Vec<Option_> = options(agents.into_iter().map(|a| (a.id, a.name)).collect(), get("agent_id"));
    let chosen = |list: &[Option_]| list.iter().find(|o| o.selected).map(|o| o.label.clone());
    let period = match (get("from"), get("to")) {
        (from, to) if from.is_empty() && to.is_empty() => "last 12 months".to_string(),
        (from, to) => {
            format!("{} to {}", if from.is_empty() { "…" } else { &from }, if to.is_empty() { "today" } else { &to })
        }
    };
    let summary =
        [chosen(&surveys).or(Some(if every_kind { "All surveys" } else { "All NPS surveys" }.into())), Some(period)]
            .into_iter()
            .chain([chosen(&teams), chosen(&agents)])
            .chain(["channel", "language", "attr", "q"].map(|k| Some(get(k)).filter(|v| !v.is_empty())))
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
    Ok(Filters {
        surveys,
        teams,
        agents,
        summary,
        from: get("from"),
        to: get("to"),
        channel: get("channel"),
        language: get("language"),
        attr: get("attr"),
        q: get("q"),
        hidden: pairs.iter().filter(|(k, _)| !FILTER_KEYS.contains(&k.as_str()) && k != "cursor").cloned().collect(),
        kept: pairs.iter().filter(|(k, _)| FILTER_KEYS.contains(&k.as_str())).cloned().collect(),
    })
}

fn period_text(p: &insights::Period) -> String {
    format!("{} to {}", p.from, p.to)
}

async fn overview(state: &AppState, viewer: &Viewer, pairs: &[(String, String)]) -> Result<DashboardPage, ApiError> {
    let o = insights::overview(&state.store, viewer, pairs).await?;
    let mut page = blank("Overview", "overview", o.subject);
    page.period = period_text(&o.period);
    page.method = format!("Intervals: {}.", o.method);
    let days = o.period.days();
    page.cards.push(Card {
        label: format!("NPS · {}", o.subject),
        value: nps_text(&o.nps),
        detail: with_change(format!("n = {}", o.nps.n), o.nps_change.as_ref(), days, "", 0),
    });
    if o.narrower {
        page.cards.push(Card {
            label: "NPS · Company".into(),
            value: nps_text(&o.company),
            detail: with_change(format!("n = {}", o.company.n), o.company_change.as_ref(), days, "", 0),
        });
    }
    let pct = |x: Option<f64>| x.map_or_else(|| "–".into(), |v| format!("{v:.0}%"));
    page.cards.push(Card {
        label: "Promoters · passives · detractors".into(),
        value: format!("{} · {} · {}", pct(o.nps.promoter_pct), pct(o.nps.passive_pct), pct(o.nps.detractor_pct)),
        detail: format!("{} · {} · {}", o.nps.counts.promoters, o.nps.counts.passives, o.nps.counts.detractors),
    });
    let ci = |i: Option<Interval>, unit: &str| {
        i.map_or_else(String::new, |i| format!(" (95% CI {:.1} to {:.1}{unit})", i.low, i.high))
    };
    // CSAT and CES follow the same filters; a card for none of them would only be noise.
    if o.csat.n > 0 {
        page.cards.push(Card {
            label: "CSAT · satisfied (4–5 of 5)".into(),
            value: o.csat.pct.map_or_else(String::new, |p| format!("{p:.0}%{}", ci(o.csat.interval, "%"))),
            detail: with_change(format!("n = {}", o.csat.n), o.csat_change.as_ref(), days, " pts", 0),
        });
    }
    if o.ces.n > 0 {
        page.cards.push(Card {
            label: "CES · mean ease (1 high effort – 7 low)".into(),
            value: o.ces.mean.map_or_else(String::new, |m| format!("{m:.2}{}", ci(o.ces.interval, ""))),
            detail: with_change(format!("n = {}", o.ces.n), o.ces_change.as_ref(), days, "", 2),
        });
    }
    let points: Vec<TrendPoint> = o
        .trend
        .iter()
        .enumerate()
        .map(|(i, p)| TrendPoint {
            label: p.period_start.clone(),
            nps: p.summary.nps,
            interval: p.summary.interval,
            n: p.summary.n,
            href: Some(period_link(pairs, p, o.granularity, &o.period)),
            caveat: match (p.partial, p.enough_data) {
                // Only the period that is still running is "so far"; one the dates cut is part.
                (true, _) if i + 1 == o.trend.len() && !pairs.iter().any(|(k, _)| k == "to") => Some("so far"),
                (true, _) => Some("partial"),
                (false, false) => Some("too few answers"),
                (false, true) => None,
            },
        })
        .collect();
    let marks = insights::annotation_positions(&o.trend, &o.annotations, o.granularity);
    page.charts.push(drawn(format!("NPS by {}", o.granularity.as_str()), |size| charts::trend(&points, &marks, size)));
    if o.trend.iter().any(|p| p.partial || !p.enough_data) {
        page.method.push_str(&format!(
            " Hollow points are not whole periods: \"so far\" (still running), \"partial\" (cut by the dates \
             chosen) or \"too few answers\" (under {}); the line and the axis leave them out.",
            o.min_n
        ));
    }
    let score_links: Vec<String> = (0..11).map(|s| responses_link(pairs, &[("score", s.to_string())])).collect();
    page.charts
        .push(drawn("Answers per score".into(), |size| charts::distribution(&o.distribution, &score_links, size)));
    page.controls.granularities = Granularity::ALL
        .into_iter()
        .map(|g| Option_ { value: g.as_str().into(), label: g.as_str().into(), selected: g == o.granularity })
        .collect();
    page.tables.push(Table {
        name: "trend".into(),
        links: o.trend.iter().map(|p| vec![Some(period_link(pairs, p, o.granularity, &o.period))]).collect(),
        headers: headers(&["period_start", "whole_period", "enough_data"]),
        rows: o
            .trend
            .iter()
            .map(|p| {
                let flags = vec![p.period_start.clone(), (!p.partial).to_string(), p.enough_data.to_string()];
                [flags, summary_cells(&p.summary)].concat()
            })
            .collect(),
    });
    page.tables.push(Table {
        name: "distribution".into(),
        links: score_links.iter().map(|l| vec![Some(l.clone())]).collect(),
        headers: names(&["score", "answers"]),
        rows: o.distribution.iter().enumerate().map(|(s, n)| vec![s.to_string(), n.to_string()]).collect(),
    });
    page.tables.push(Table {
        links: Vec::new(),
        name: "response_rate".into(),
        headers: names(&["channel", "delivered", "answered", "rate_pct"]),
        rows: o
            .response_rates
            .iter()
            .map(|r| {
                vec![
                    r.counts.channel.clone(),
                    r.counts.delivered.to_string(),
                    r.counts.answered.to_string(),
                    num(r.rate_pct),
                ]
            })
            .collect(),
    });
    page.tables.push(Table {
        links: Vec::new(),
        name: "summary".into(),
        headers: headers(&["scope"]),
        rows: std::iter::once([vec![o.subject.to_string()], summary_cells(&o.nps)].concat())
            .chain(o.narrower.then(|| [vec!["Company".to_string()], summary_cells(&o.company)].concat()))
            .collect(),
    });
    Ok(page)
}

fn ranked_dots(rows: &[hark_core::insight::RankedRow], links: &[Option<String>]) -> Vec<DotRow> {
    rows.iter()
        .zip(links)
        .map(|(r, href)| {
            let dot = Dot { value: r.summary.nps, interval: r.summary.interval, series: "nps", thin: !r.enough_data };
            DotRow { label: r.label.clone(), dots: vec![dot], href: href.clone() }
        })
        .collect()
}

/// Where a segment's answers are: the filter its dimension names (none for a property, which
/// Responses cannot filter by, or for answers without a value).
fn segment_link(pairs: &[(String, String)], by: &str, row: &hark_core::insight::RankedRow) -> Option<String> {
    let key = row.key.clone()?;
    let param = match by {
        "team" => "team_id".to_string(),
        "agent" => "agent_id".into(),
        "survey" => "survey_id".into(),
        "channel" | "language" => by.into(),
        attr if attr.starts_with("attr.") => attr.into(),
        _ => return None,
    };
    Some(responses_link(pairs, &[(param.as_str(), key)]))
}

async fn segments(state: &AppState, viewer: &Viewer, pairs: &[(String, String)]) -> Result<DashboardPage, ApiError> {
    let s = insights::segments(&state.store, viewer, pairs).await?;
    let mut page = blank("Segments", "segments", s.subject);
    page.period = period_text(&s.period);
    page.method = format!(
        "Intervals: {}. Rows with fewer than {} answers are shown hollow and unranked: too few to say anything.",
        s.method, s.min_n
    );
    page.cards.push(Card {
        label: "NPS · Company".into(),
        value: nps_text(&s.company),
        detail: with_change(format!("n = {}", s.company.n), s.company_change.as_ref(), s.period.days(), "", 0),
    });
    let row_links: Vec<Option<String>> = s.rows.iter().map(|r| segment_link(pairs, &s.by, r)).collect();
    let dots = ranked_dots(&s.rows, &row_links);
    page.charts.push(drawn(format!("NPS by {}", s.by), |size| charts::dot_rows(&dots, size)));
    let offered = insights::segment_dimensions(viewer);
    page.controls.dimensions = offered
        .iter()
        .copied()
        .map(|d| Option_ { value: d.into(), label: d.into(), selected: s.by == d })
        // An attribute or property chosen in the address stays selected.
        .chain((!offered.contains(&s.by.as_str())).then(|| Option_ {
            value: s.by.clone(),
            label: s.by.clone(),
            selected: true,
        }))
        .collect();
    page.controls.min_n = Some(s.min_n);
    page.tables.push(Table {
        name: "segments".into(),
        links: row_links.iter().map(|l| vec![None, l.clone()]).collect(),
        headers: headers(&["rank", "segment", "enough_data"]),
        rows: s
            .rows
            .iter()
            .map(|r| {
                [
                    vec![rank_text(r.rank, r.enough_data), r.label.clone(), r.enough_data.to_string()],
                    summary_cells(&r.summary),
                ]
                .concat()
            })
            .collect(),
    });
    Ok(page)
}

async fn agents(state: &AppState, viewer: &Viewer, pairs: &[(String, String)]) -> Result<DashboardPage, ApiError> {
    let a = insights::agents(&state.store, viewer, pairs).await?;
    let mut page = blank("Agents and teams", "agents", a.subject);
    page.period = period_text(&a.period);
    page.method = format!(
        "Agent NPS is the second question, about the agent; company NPS the first, from the same customers. \
         Ranked by agent NPS among agents with at least {} answers. Intervals: {}.",
        a.min_n, a.method
    );
    page.cards.push(Card {
        label: "NPS · Company".into(),
        value: nps_text(&a.company),
        detail: with_change(format!("n = {}", a.company.n), a.company_change.as_ref(), a.period.days(), "", 0),
    });
    if matches!(viewer.scope, Scope::Agent { .. }) {
        let rank = a
            .your_rank
            .map_or_else(|| "not ranked yet (too few answers)".into(), |r| format!("{r} of {}", a.ranked_agents));
        page.cards.push(Card {
            label: "Your rank by agent NPS".into(),
            value: rank,
            detail: format!("{} agents ranked", a.ranked_agents),
        });
    }
    page.sentence = a.champion_sentence.clone().map(|s| {
        format!(
            "Champions — agents whose agent NPS lies above all agents' {} (n = {}) beyond the 95% interval: {s}.",
            charts::signed(a.champion_bar.nps),
            a.champion_bar.n
        )
    });
    let dots: Vec<DotRow> = a
        .agents
        .iter()
        .map(|r| {
            let thin = r.rank.is_none();
            DotRow {
                label: r.name.clone(),
                dots: vec![
                    Dot { value: r.agent_nps.nps, interval: r.agent_nps.interval, series: "agent", thin },
                    Dot { value: r.company_nps.nps, interval: r.company_nps.interval, series: "company", thin },
                ],
                href: Some(responses_link(pairs, &[("agent_id", r.agent_id.clone())])),
            }
        })
        .collect();
    page.charts
        .push(drawn("Agent NPS (dark) beside company NPS (orange)".into(), |size| charts::dot_rows(&dots, size)));
    page.controls.min_n = Some(a.min_n);
    let agent_rows = |rows: &[insights::AgentRow]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                let [al, ah] = interval_cells(r.agent_nps.interval);
                let [cl, ch] = interval_cells(r.company_nps.interval);
                vec![
                    rank_text(r.rank, false),
                    r.name.clone(),
                    r.team.clone().unwrap_or_default(),
                    r.agent_nps.n.to_string(),
                    num(r.agent_nps.nps),
                    al,
                    ah,
                    r.company_nps.n.to_string(),
                    num(r.company_nps.nps),
                    cl,
                    ch,
                ]
            })
            .collect()
    };
    const AGENT_HEADERS: [&str; 11] = [
        "rank",
        "agent",
        "team",
        "agent_n",
        "agent_nps",
        "agent_ci_low",
        "agent_ci_high",
        "company_n",
        "company_nps",
        "company_ci_low",
        "company_ci_high",
    ];
    let agent_links =
        a.agents.iter().map(|r| vec![None, Some(responses_link(pairs, &[("agent_id", r.agent_id.clone())]))]).collect();
    page.tables.push(Table {
        links: agent_links,
        name: "agents".into(),
        headers: names(&AGENT_HEADERS),
        rows: agent_rows(&a.agents),
    });
    if !a.champion_teams.is_empty() {
        page.tables.push(Table {
            links: Vec::new(),
            name: "champions".into(),
            headers: names(&AGENT_HEADERS),
            rows: agent_rows(&a.champions),
        });
        page.tables.push(Table {
            links: Vec::new(),
            name: "champions_by_team".into(),
            headers: names(&["team", "champions", "ranked_agents"]),
            rows: a
                .champion_teams
                .iter()
                .map(|t| vec![t.team.clone(), t.champions.to_string(), t.agents.to_string()])
                .collect(),
        });
    }
    for f in &a.figures {
        page.tables.push(Table {
            links: Vec::new(),
            name: format!("nps_by_{}", f.property),
            headers: headers(&[f.label.as_str(), "enough_data"]),
            rows: f
                .bins
                .iter()
                .map(|b| [vec![b.label.clone(), b.enough_data.to_string()], summary_cells(&b.summary)].concat())
                .collect(),
        });
    }
    Ok(page)
}

async fn changes(state: &AppState, viewer: &Viewer, pairs: &[(String, String)]) -> Result<DashboardPage, ApiError> {
    let c = insights::changes(&state.store, viewer, pairs).await?;
    let mut page = blank("Changes", "changes", c.subject);
    let chosen = c.comparison.as_ref().and_then(|cmp| cmp.annotation_id.as_deref()).unwrap_or_default();
    page.controls.compare = c
        .annotations
        .iter()
        .map(|a| Option_ {
            value: a.id.clone(),
            label: format!("{} · {}", insights::day_text(a.day), a.label),
            selected: a.id == chosen,
        })
        .collect();
    page.controls.annotations =
        c.annotations.iter().map(|a| (a.id.clone(), insights::day_text(a.day), a.label.clone())).collect();
    page.controls.annotate = viewer.may_annotate();
    let surveys = insights::labels(&state.store, &Dimension::Survey).await?;
    page.tables.push(Table {
        links: Vec::new(),
        name: "annotations".into(),
        headers: names(&["date", "label", "survey"]),
        rows: c
            .annotations
            .iter()
            .map(|a| {
                let survey = a.survey_id.as_ref().map_or("every survey".into(), |_| label_of(&surveys, &a.survey_id));
                vec![insights::day_text(a.day), a.label.clone(), survey]
            })
            .collect(),
    });
    if let Some(cmp) = &c.comparison {
        page.method = format!("Test: {}.", cmp.method);
        page.sentence = Some(cmp.sentence.clone());
        page.cards.push(Card {
            label: format!("Before · {} to {}", cmp.before.from, cmp.before.to),
            value: nps_text(&cmp.before.summary),
            detail: format!("n = {}", cmp.before.summary.n),
        });
        page.cards.push(Card {
            label: format!("After · {} to {}", cmp.after.from, cmp.after.to),
            value: nps_text(&cmp.after.summary),
            detail: format!("n = {}", cmp.after.summary.n),
        });
        if let Some(ch) = &cmp.change {
            page.cards.push(Card {
                label: "Difference".into(),
                value: format!("{:+.0} (95% CI {:+.0} to {:+.0})", ch.difference, ch.interval.low, ch.interval.high),
                detail: format!("z = {:.2}, p = {:.3}", ch.z, ch.p_value),
            });
        }
        let window = |name: &str, w: &insights::Window| {
            [vec![name.to_string(), w.from.clone(), w.to.clone()], summary_cells(&w.summary)].concat()
        };
        page.tables.push(Table {
            links: Vec::new(),
            name: "comparison".into(),
            headers: headers(&["window", "from", "to"]),
            rows: vec![window("before", &cmp.before), window("after", &cmp.after)],
        });
        if let Some(ch) = &cmp.change {
            page.tables.push(Table {
                links: Vec::new(),
                name: "difference".into(),
                headers: names(&["difference", "ci_low", "ci_high", "z", "p_value", "significant", "sentence"]),
                rows: vec![vec![
                    num(Some(ch.difference)),
                    num(Some(ch.interval.low)),
                    num(Some(ch.interval.high)),
                    format!("{:.3}", ch.z),
                    format!("{:.4}", ch.p_value),
                    ch.significant.to_string(),
                    cmp.sentence.clone(),
                ]],
            });
        }
    }
    Ok(page)
}

async fn monitoring(state: &AppState, viewer: &Viewer) -> Result<DashboardPage, ApiError> {
    let m = insights::monitoring(&state.store, viewer).await?;
    let mut page = blank("Monitoring", "monitoring", viewer.subject());
    page.method = format!(
        "Each rule compares NPS over its last N days with the N days before, checked by the background worker; \
         it alerts only when the fall is significant. Test: {}.",
        hark_core::stats::NPS_DIFFERENCE_METHOD
    );
    let teams = insights::labels(&state.store, &Dimension::Team).await?;
    let surveys = state.store.list_surveys().await?;
    page.controls.rules = viewer.is_admin();
    if viewer.is_admin() {
        page.controls.rule_list = m.rules.iter().map(|r| (r.id.clone(), r.name.clone())).collect();
        let none = |label: &str| Option_ { value: String::new(), label: label.into(), selected: true };
        let option =
            |(id, name): (&String, &String)| Option_ { value: id.clone(), label: name.clone(), selected: false };
        let mut team_options: Vec<Option_> = teams.iter().map(option).collect();
        team_options.sort_by(|a, b| a.label.cmp(&b.label));
        page.controls.teams = std::iter::once(none("Whole company")).chain(team_options).collect();
        page.controls.surveys = std::iter::once(none("All NPS surveys"))
            .chain(surveys.iter().filter(|s| s.definition.kind == hark_core::SurveyKind::Nps).map(|s| Option_ {
                value: s.id.clone(),
                label: s.definition.name.clone(),
                selected: false,
            }))
            .collect();
    }
    let surveys: HashMap<String, String> = surveys.into_iter().map(|s| (s.id, s.definition.name)).collect();
    page.tables.push(Table {
        links: Vec::new(),
        name: "alerts".into(),
        headers: names(&["raised", "rule", "window_end", "before_nps", "after_nps", "sentence"]),
        rows: m
            .alerts
            .iter()
            .map(|a| {
                vec![
                    format_ms(a.created_at),
                    a.rule_name.clone(),
                    insights::day_text(a.window_end_day - 1),
                    num(Some(a.before_nps)),
                    num(Some(a.after_nps)),
                    a.sentence.clone(),
                ]
            })
            .collect(),
    });
    page.tables.push(Table {
        links: Vec::new(),
        name: "rules".into(),
        headers: names(&["name", "survey", "team", "window_days", "min_n", "notify_email", "last_checked"]),
        rows: m
            .rules
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.survey_id.as_ref().map_or("All NPS surveys".into(), |_| label_of(&surveys, &r.survey_id)),
                    r.team_id.as_ref().map_or("Whole company".into(), |_| label_of(&teams, &r.team_id)),
                    r.window_days.to_string(),
                    r.min_n.to_string(),
                    r.notify_email.clone().unwrap_or_default(),
                    r.last_checked_at.map(format_ms).unwrap_or_default(),
                ]
            })
            .collect(),
    });
    Ok(page)
}

async fn responses(state: &AppState, viewer: &Viewer, pairs: &[(String, String)]) -> Result<DashboardPage, ApiError> {
    let r = insights::responses(&state.store, viewer, pairs).await?;
    let mut page = blank("Responses", "responses", r.subject);
    page.search = true;
    page.period = period_text(&r.period);
    page.cards.push(Card {
        label: "Answers matching".into(),
        value: r.total.to_string(),
        detail: format!("showing {}", r.items.len()),
    });
    // Each answer leads to its case and, for admins (who have the contact pages), its contact.
    let links = r
        .items
        .iter()
        .map(|x| {
            let mut cells = vec![None; 10];
            cells[5] = x.contact_id.as_ref().filter(|_| viewer.is_admin()).map(|id| format!("/admin/contacts/{id}"));
            cells[9] = x.case_id.as_ref().map(|id| format!("/admin/cases/{id}"));
            cells
        })
        .collect();
    page.tables.push(Table {
        links,
        name: "responses".into(),
        headers: names(&[
            "date", "survey", "score", "segment", "comment", "contact", "agent", "channel", "language", "case",
        ]),
        rows: r
            .items
            .iter()
            .map(|x| {
                vec![
                    x.date.clone(),
                    x.survey.clone(),
                    x.score.to_string(),
                    x.segment_label.to_string(),
                    x.comment.clone().unwrap_or_default(),
                    x.contact.clone().unwrap_or_default(),
                    x.agent.clone().unwrap_or_default(),
                    x.channel.clone(),
                    x.language.clone().unwrap_or_default(),
                    x.case_status.map_or_else(String::new, |s| s.as_str().replace('_', " ")),
                ]
            })
            .collect(),
    });
    page.next_page = r.next_cursor.map(|c| {
        let mut kept: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "cursor").cloned().collect();
        kept.push(("cursor".into(), c));
        format!("?{}", serde_urlencoded::to_string(&kept).unwrap_or_default())
    });
    Ok(page)
}

// ----- forms -----

/// The form's fields without its CSRF token and without empty fields, after checking the token.
fn checked_form(viewer: &Viewer, body: &[u8]) -> Result<Vec<(String, String)>, (StatusCode, String)> {
    let Some(session) = &viewer.session else { return Err((StatusCode::FORBIDDEN, "sign in first".into())) };
    let pairs = crate::page::session_form(session, body)?;
    Ok(pairs.into_iter().filter(|(k, v)| k != "csrf" && !v.trim().is_empty()).collect())
}

fn decode<T: serde::de::DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, (StatusCode, String)> {
    let text = serde_urlencoded::to_string(pairs).unwrap_or_default();
    serde_urlencoded::from_str(&text).map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
}

async fn add_annotation(
    State(state): State<AppState>,
    PageViewer(viewer, _): PageViewer,
    RawForm(body): RawForm,
) -> Response {
    if !viewer.may_annotate() {
        return (StatusCode::FORBIDDEN, "agents may not annotate trends").into_response();
    }
    let pairs = match checked_form(&viewer, &body) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let input: AnnotationInput = match decode(&pairs) {
        Ok(i) => i,
        Err(r) => return r.into_response(),
    };
    let by = viewer.session.as_ref().map(|s| s.user.email.clone());
    match insights::add_annotation(&state.store, &input, by.as_deref()).await {
        Ok(a) => Redirect::to(&format!("/dashboard/changes?annotation_id={}", a.id)).into_response(),
        Err(e) => refused(e),
    }
}

async fn delete_annotation(
    State(state): State<AppState>,
    PageViewer(viewer, _): PageViewer,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    if !viewer.may_annotate() {
        return (StatusCode::FORBIDDEN, "agents may not annotate trends").into_response();
    }
    if let Err(r) = checked_form(&viewer, &body) {
        return r.into_response();
    }
    // Admins remove any annotation; others only their own.
    let author = viewer.session.as_ref().map(|s| s.user.email.clone());
    match state.store.get_annotation(&id).await {
        Ok(Some(a)) if viewer.is_admin() || (a.created_by.is_some() && a.created_by == author) => {}
        Ok(Some(_)) => {
            return (StatusCode::FORBIDDEN, "only its author or an admin may remove an annotation").into_response();
        }
        Ok(None) => return (StatusCode::NOT_FOUND, "no such annotation").into_response(),
        Err(e) => return refused(e.into()),
    }
    match state.store.delete_annotation(&id).await {
        Ok(()) => Redirect::to("/dashboard/changes").into_response(),
        Err(e) => refused(e.into()),
    }
}

async fn add_alert_rule(
    State(state): State<AppState>,
    PageViewer(viewer, _): PageViewer,
    RawForm(body): RawForm,
) -> Response {
    if !viewer.is_admin() {
        return (StatusCode::FORBIDDEN, "only admins manage alert rules").into_response();
    }
    let pairs = match checked_form(&viewer, &body) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let input: AlertRuleInput = match decode(&pairs) {
        Ok(i) => i,
        Err(r) => return r.into_response(),
    };
    match insights::add_alert_rule(&state.store, &input).await {
        Ok(_) => Redirect::to("/dashboard/monitoring").into_response(),
        Err(e) => refused(e),
    }
}

async fn delete_alert_rule(
    State(state): State<AppState>,
    PageViewer(viewer, _): PageViewer,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    if !viewer.is_admin() {
        return (StatusCode::FORBIDDEN, "only admins manage alert rules").into_response();
    }
    if let Err(r) = checked_form(&viewer, &body) {
        return r.into_response();
    }
    match state.store.delete_alert_rule(&id).await {
        Ok(()) => Redirect::to("/dashboard/monitoring").into_response(),
        Err(e) => refused(e.into()),
    }
}
