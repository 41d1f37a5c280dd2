//! The dashboard pages: Overview, Segments, Agents, Changes, Monitoring and Responses. Each
//! page is drawn from the same figures as its `/api/v1/reports/…` route; its tables are the
//! CSV export (`….csv` with the same query), so the download is exactly what the page shows.
//! Filters live in the query string, so a view is shared by sharing its address.

pub(crate) mod charts;
mod links;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawForm, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hark_core::report::Granularity;
use hark_core::spreadsheet;
use hark_core::{Interval, NpsSummary, Segment};
use hark_store::Dimension;

use crate::AppState;
use crate::ops::insights::{self, AlertRuleInput, AnnotationInput, label_of};
use crate::ops::sharing;
use crate::page::Reader;
use crate::page::render;
use crate::page::{Nav, PageViewer, Reason, csv_download, forbidden_page};
use crate::problem::ApiError;
use crate::viewer::{Scope, Viewer};
use charts::{Dot, DotRow, TrendPoint};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        // A link to the dashboard keeps its filters on the way to the Overview.
        .route(
            "/dashboard",
            get(|RawQuery(q): RawQuery| async move {
                Redirect::to(&q.map_or_else(|| "/dashboard/overview".into(), |q| format!("/dashboard/overview?{q}")))
            }),
        )
        .route("/dashboard/report", get(report))
        .route("/dashboard/{page}", get(page))
        .route("/dashboard/annotations", post(add_annotation))
        .route("/dashboard/annotations/{id}/delete", post(delete_annotation))
        .route("/dashboard/alert-rules", post(add_alert_rule))
        .route("/dashboard/alert-rules/{id}/delete", post(delete_alert_rule))
        .route("/dashboard/share", post(links::share))
        .route("/shared-links/{id}/revoke", post(links::revoke))
        .route("/admin/shared", get(links::list).post(links::make_wallboard))
        .route("/shared/{token}", get(links::shared_view))
        .route("/wallboard/{token}", get(links::wallboard))
        .route("/wallboard/{token}/figures", get(links::wallboard_figures))
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

    /// Whether the column holds ranks (or "too few answers" in their place).
    fn ranks(&self, cell: &usize) -> bool {
        self.headers.get(*cell).is_some_and(|h| h == "rank")
    }

    /// A cell's class, by what its column holds: a rank, the name that titles a tile card, a
    /// comment to read (kept wide on a wide screen), a customer (whose email may break), a
    /// figure with its interval (two tiles wide on a phone).
    fn cell_class(&self, cell: &usize, title_column: &Option<usize>) -> Option<&'static str> {
        match self.headers.get(*cell).map(String::as_str) {
            Some("rank") => Some("rank"),
            _ if *title_column == Some(*cell) => Some("name"),
            Some("comment") => Some("comment"),
            Some("contact") => Some("contact"),
            _ if self.has_interval(*cell) => Some("ranged"),
            _ => None,
        }
    }

    /// A cell's text in the pieces a line may break between: an email before its `@` and the
    /// dots of its domain, so that a narrow column wraps it there rather than anywhere
    /// ("customer1 / 97@examp / le.com").
    fn pieces<'a>(&self, cell: &usize, text: &'a str) -> Vec<&'a str> {
        match (self.headers.get(*cell).map(String::as_str), text.find('@')) {
            (Some("contact"), Some(at)) if at > 0 => {
                let (mut pieces, mut rest) = (vec![&text[..at]], &text[at..]);
                // Each piece of the domain starts with its `@` or dot.
                while let Some(dot) = rest[1..].find('.') {
                    let (piece, after) = rest.split_at(dot + 1);
                    pieces.push(piece);
                    rest = after;
                }
                pieces.push(rest);
                pieces
            }
            _ => vec![text],
        }
    }

    /// The section's name in words, for the page (the CSV keeps the key).
    fn title(&self, t: &Reader) -> String {
        words(*t, &self.name)
    }

    /// How the table is laid out on a phone, as its class. An answer is read on its own: a card
    /// of labelled lines (`records`). A row of a wider table is a card of labelled tiles, each
    /// figure in the same place card after card (`tiles`), so that it is still compared down the
    /// page, not scrolled to sideways (the drivers were 13 columns in a box a third as wide).
    /// Three columns fit as they are.
    fn phone_layout(&self) -> Option<&'static str> {
        if self.name == "responses" {
            Some("records")
        } else if self.shown().len() > 3 {
            Some("tiles")
        } else {
            None
        }
    }

    /// In tiles, the column that names each row (the first that is not a rank): its card's title.
    fn title_column(&self) -> Option<usize> {
        if self.phone_layout() != Some("tiles") {
            return None;
        }
        (0..self.headers.len()).find(|j| !self.ranks(j))
    }

    /// Each column's heading, by index (the page shows those [`shown`](Self::shown)).
    fn headings(&self, t: &Reader) -> Vec<String> {
        self.headers.iter().map(|h| words(*t, h)).collect()
    }

    /// Whether the two columns after this one are its figure's 95% interval ("nps", "ci_low",
    /// "ci_high"; "agent_nps", "agent_ci_low", "agent_ci_high").
    fn has_interval(&self, cell: usize) -> bool {
        let ends = |at: usize, end: &str| self.headers.get(at).is_some_and(|h| h.ends_with(end));
        ends(cell + 1, "ci_low") && ends(cell + 2, "ci_high")
    }

    /// The columns shown on the page, by index. A figure's cell carries its interval, as the
    /// cards do ("36.1 (95% CI 8.6 to 58.0)"), so that its two ends are not read apart from it
    /// nor from each other (the drivers' were six columns away on a phone); the CSV keeps
    /// them in columns of their own, for a spreadsheet. A column no row fills (the agent of a
    /// survey about the company) is left off the page: the answers' own columns then fit a
    /// 1280 px screen.
    fn shown(&self) -> Vec<usize> {
        let filled =
            |j: usize| self.rows.is_empty() || self.rows.iter().any(|r| r.get(j).is_some_and(|c| !c.is_empty()));
        (0..self.headers.len())
            .filter(|&j| !(j >= 1 && self.has_interval(j - 1) || j >= 2 && self.has_interval(j - 2)))
            .filter(|&j| filled(j))
            .collect()
    }

    /// A shown cell's text, and its figure's interval where it has one.
    fn shown_text(&self, t: &Reader, row: &[String], cell: &usize) -> (String, Option<String>) {
        let text = row.get(*cell).cloned().unwrap_or_default();
        let interval = match (self.has_interval(*cell), row.get(cell + 1), row.get(cell + 2)) {
            (true, Some(low), Some(high)) if !text.is_empty() && !low.is_empty() && !high.is_empty() => {
                Some(t.fill("fmt.ci", &[("low", low.as_str()), ("high", high.as_str())]))
            }
            _ => None,
        };
        (text, interval)
    }
}

/// A CSV key as a heading a reader understands: `col.{key}` in their language, else the
/// key in words (an attribute's own name, say).
fn words(t: Reader, key: &str) -> String {
    let key = key.replace(['-', ' '], "_");
    if t.has(&format!("col.{key}")) { t.word("col", &key) } else { crate::page::heading(&key) }
}

/// A statistical method by its name in the reader's language.
fn method_name(t: Reader, method: &str) -> String {
    let key = match method {
        hark_core::stats::NPS_METHOD => "method.nps",
        hark_core::stats::NPS_DIFFERENCE_METHOD => "method.nps_difference",
        _ => return method.to_owned(),
    };
    t.text(key).to_owned()
}

/// Who a page's figures are about ("Company", "Your team" …), in the reader's language.
fn subject_name(t: Reader, subject: &str) -> String {
    let key = match subject {
        "Company" => "company",
        "Your team" => "team",
        "You" => "you",
        "Selection" => "selection",
        "Your team, filtered" => "team_filtered",
        "You, filtered" => "you_filtered",
        _ => "unlinked",
    };
    t.word("subject", key)
}

/// What answers without a value of `by` are called ("No team"): not a group like the others.
fn without(t: Reader, by: &str) -> String {
    match by.split_once('.') {
        Some((_, key)) => t.fill1("none.attribute", "key", key),
        None if t.has(&format!("none.{by}")) => t.word("none", by),
        None => t.text("none.value").to_owned(),
    }
}

/// A segment's row label: its name, or what answers without a value are called.
fn row_label(t: Reader, by: &str, row: &hark_core::insight::RankedRow) -> String {
    match (&row.key, by) {
        (None, _) => without(t, by),
        // A channel is Hark's word ("email", "widget"), said in the reader's language.
        (Some(channel), "channel") => t.word_or_value("channel", channel),
        _ => row.label.clone(),
    }
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
#[derive(Default)]
struct Filters {
    surveys: Vec<Option_>,
    /// Empty when the viewer's scope fixes the team.
    teams: Vec<Option_>,
    /// Empty for agents (their own answers only).
    agents: Vec<Option_>,
    from: String,
    to: String,
    /// The channels to choose from, in the reader's words (one asked for in the address too).
    channels: Vec<Option_>,
    /// The themes comments are tagged with, in the reader's language.
    themes: Vec<Option_>,
    /// The answer list's own: its segments, in the words of the kinds of survey listed
    /// ("Detractors / Unsatisfied"), and the scores 0–10. A chart's link sets them too.
    segments: Vec<Option_>,
    scores: Vec<Option_>,
    /// The kinds of survey (NPS, CSAT, CES); the NPS pages' links choose NPS.
    kinds: Vec<Option_>,
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
    t: Reader,
    title: String,
    nav: Option<Nav>,
    current: &'static str,
    monitoring: bool,
    query: String,
    filters: Filters,
    search: bool,
    subject: String,
    /// The period the page covers, as the API gives it (none on Changes and Monitoring).
    covers: Option<insights::Period>,
    fig: Figures,
    next_page: Option<String>,
    /// On a shared link: the notice that says so and until when; the page then reads only
    /// (no filters, forms or links into Hark).
    shared: Option<String>,
    /// Whether the reader may share this view (not on a shared link, not an agent).
    may_share: bool,
    /// Page-specific controls.
    controls: Controls,
}

/// What a page shows of its figures: cards, a sentence, charts and tables, with the note on
/// how they were computed. The monthly report is a list of these.
#[derive(Default)]
struct Figures {
    /// The section's heading, where a page holds several.
    heading: String,
    /// Prefixes its tables' ids, which must differ between a report's sections.
    id: &'static str,
    method: String,
    cards: Vec<Card>,
    sentence: Option<String>,
    /// Heading, the chart for wide screens and the one for phones.
    charts: Vec<(String, String, String)>,
    tables: Vec<Table>,
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
    /// Discovered phrases an admin may adopt as themes.
    adopt: Vec<String>,
}

/// A card's detail with how the figure moved since the period of the same length before:
/// the difference, its 95% interval and whether the test calls it real.
fn with_change(
    t: Reader,
    n: u64,
    change: Option<&hark_core::NpsChange>,
    days: i64,
    unit: &str,
    precision: usize,
) -> String {
    let detail = format!("n = {}", t.count(n));
    let days = days.to_string();
    let Some(c) = change else {
        return format!("{detail} · {}", t.fill1("change.too_few", "days", days));
    };
    let arrow = match c.difference {
        d if d > 0.0 => "▲",
        d if d < 0.0 => "▼",
        _ => "=",
    };
    let change = t.fill(
        if c.significant { "change.real" } else { "change.noise" },
        &[
            ("change", &format!("{arrow} {}{unit}", t.signed(c.difference, precision))),
            ("days", &days),
            ("ci", &t.ci(c.interval, precision)),
        ],
    );
    format!("{detail} · {change}")
}

/// The Responses page under the page's filters, with `more` added (or put in place of a
/// filter of the same name): where a chart's mark or a table's row leads. The figures count
/// NPS answers, so the list holds those alone (it covers every kind of survey by itself).
fn responses_link(pairs: &[(String, String)], more: &[(&str, String)]) -> String {
    let kept = pairs.iter().filter(|(k, _)| FILTER_KEYS.contains(&k.as_str()) && !more.iter().any(|(m, _)| m == k));
    let all: Vec<(&str, &str)> = kept
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(more.iter().map(|(k, v)| (*k, v.as_str())))
        .chain([("kind", "nps")])
        .collect();
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

/// The choice of days, weeks or months.
fn granularity_options(t: Reader, chosen: Granularity) -> Vec<Option_> {
    Granularity::ALL
        .into_iter()
        .map(|g| Option_ { value: g.as_str().into(), label: t.word("granularity", g.as_str()), selected: g == chosen })
        .collect()
}

/// A trend's periods as chart points, each linking to its answers (`pairs`: the filters).
fn trend_points(
    t: Reader,
    pairs: &[(String, String)],
    trend: &[&insights::TrendPeriod],
    g: Granularity,
    page: &insights::Period,
) -> Vec<TrendPoint> {
    trend
        .iter()
        .copied()
        .enumerate()
        .map(|(i, p)| TrendPoint {
            label: t.iso_date(&p.period_start),
            nps: p.summary.nps,
            interval: p.summary.interval,
            n: p.summary.n,
            href: Some(period_link(pairs, p, g, page)),
            caveat: match (p.partial, p.enough_data) {
                // Only the period that is still running is "so far"; one the dates cut is part.
                (true, _) if i + 1 == trend.len() && !pairs.iter().any(|(k, _)| k == "to") => Some("chart.so_far"),
                (true, _) => Some("chart.partial"),
                (false, false) => Some("dash.too_few"),
                (false, true) => None,
            }
            .map(|key| t.text(key).to_owned()),
        })
        .collect()
}

/// A chart in both sizes, under its heading.
fn drawn(heading: String, draw: impl Fn(charts::Size) -> String) -> (String, String, String) {
    (heading, draw(charts::Size::Wide), draw(charts::Size::Narrow))
}

/// A rank cell: the place, or why there is none.
fn rank_text(t: Reader, rank: Option<u64>, enough_data: bool) -> String {
    match (rank, enough_data) {
        (Some(k), _) => k.to_string(),
        (None, false) => t.text("dash.too_few").into(),
        // Answers without a team, agent … are shown but are not a group to rank.
        (None, true) => t.text("dash.not_ranked").into(),
    }
}

fn num(x: Option<f64>) -> String {
    x.map_or_else(String::new, |v| format!("{:.1}", hark_core::i18n::zero_if_rounded_away(v, 1)))
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

/// The Themes page draws the trends of at most this many themes, those with most points at stake.
const THEME_TRENDS_SHOWN: usize = 6;

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

/// A refusal on a page: a page with its status and the problem's words, in the reader's.
fn refused(e: ApiError, nav: Nav) -> Response {
    let status = StatusCode::from_u16(e.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    crate::page::problem_page(status, Some(nav), Reason::Refused(e.0))
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
    let t = nav.t;
    // Dates are read, and days counted, in the reader's zone unless the address names one.
    let zoned = crate::ops::filters::with_zone(&pairs, t.zone_name());
    let Some(built) = build(&name, t, &state, &viewer, &zoned).await else {
        return crate::page::not_found(&nav, "problem.no_dashboard_page");
    };
    let mut page = match built {
        Ok(p) => p,
        Err(e) => return refused(e, nav.clone()),
    };
    if as_csv {
        // First, which days (of which zone) the figures count.
        let covers = page.covers.iter().map(|p| Table {
            links: Vec::new(),
            name: "period".into(),
            headers: names(&["from", "to", "time_zone"]),
            rows: vec![vec![p.from.clone(), p.to.clone(), p.time_zone.clone()]],
        });
        let tables: Vec<Table> = covers.chain(page.fig.tables).collect();
        return csv(&tables, &name);
    }
    page.nav = Some(nav.clone());
    page.monitoring = !viewer.sees_own_only();
    // The answers (customers' names and comments) only an admin may share.
    page.may_share = viewer.role != hark_store::Role::Agent
        && sharing::SHARED_PAGES.contains(&name.as_str())
        && (name != "responses" || viewer.is_admin());
    page.query = if raw.is_empty() { String::new() } else { format!("?{raw}") };
    // The answer list covers every kind of survey; the figures are NPS.
    match filters(t, &state, &viewer, &pairs, name == "responses").await {
        Ok(f) => page.filters = f,
        Err(e) => return refused(e, nav.clone()),
    }
    render(&page)
}

#[derive(Template)]
#[template(path = "dashboard_report.html")]
struct ReportPage {
    t: Reader,
    nav: Option<Nav>,
    monitoring: bool,
    /// "Monthly report 2026-11 · Company".
    title: String,
    /// The month shown, as `2026-11`, and the filters kept beside it (for the month picker).
    month: String,
    kept: Vec<(String, String)>,
    period: String,
    sections: Vec<Figures>,
}

/// The monthly report: one month's figures, the twelve months to it, its segments and its
/// agents, on one page that prints as a paginated report ("Save as PDF"). `month=2026-11`,
/// else the last whole month in the reader's zone; the dashboard's filters apply.
async fn report(
    State(state): State<AppState>,
    PageViewer(viewer, nav): PageViewer,
    RawQuery(raw): RawQuery,
) -> Response {
    let t = nav.t;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&raw.unwrap_or_default()).unwrap_or_default();
    let kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, v)| {
            !v.trim().is_empty() && FILTER_KEYS.contains(&k.as_str()) && !["from", "to", "q"].contains(&k.as_str())
        })
        .cloned()
        .collect();
    let today = jiff::Timestamp::now().to_zoned(t.1.clone()).date();
    let asked = pairs.iter().find(|(k, _)| k == "month").map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let first = match asked {
        None => today.first_of_month().checked_sub(jiff::Span::new().months(1)).unwrap_or(today),
        Some(m) => match format!("{m}-01").parse::<jiff::civil::Date>() {
            Ok(d) => d,
            Err(_) => {
                let e = ApiError::invalid("month", hark_core::Why::new("invalid.month").with("value", m));
                return refused(e, nav);
            }
        },
    };
    let last = first.last_of_month();
    let year_start = first.checked_sub(jiff::Span::new().months(11)).unwrap_or(first);
    let with = |more: &[(&str, String)]| {
        let more = more.iter().map(|(k, v)| (k.to_string(), v.clone()));
        crate::ops::filters::with_zone(&kept.iter().cloned().chain(more).collect::<Vec<_>>(), t.zone_name())
    };
    let in_month = [("from", first.to_string()), ("to", last.to_string())];
    let by = insights::segment_dimensions(&viewer).first().map(|d| d.to_string());
    let built = async {
        let month = overview(t, &state, &viewer, &with(&in_month)).await?;
        let year = overview(
            t,
            &state,
            &viewer,
            &with(&[("from", year_start.to_string()), ("to", last.to_string()), ("granularity", "month".into())]),
        )
        .await?;
        let split = match &by {
            Some(by) => {
                Some(segments(t, &state, &viewer, &with(&[&in_month[..], &[("by", by.clone())]].concat())).await?)
            }
            None => None,
        };
        let agents = agents(t, &state, &viewer, &with(&in_month)).await?;
        Ok::<_, ApiError>((month, year, split, agents))
    };
    let (month, year, split, agents) = match built.await {
        Ok(built) => built,
        Err(e) => return refused(e, nav),
    };
    let subject = month.subject.clone();
    let period = month.period().unwrap_or_default();
    let named = |mut fig: Figures, heading: String, id: &'static str| {
        fig.heading = heading;
        fig.id = id;
        fig
    };
    let mut sections = Vec::new();
    // The month: its cards and how its scores fall.
    let mut the_month = month.fig;
    the_month.charts.retain(|(heading, _, _)| *heading == words(t, "distribution"));
    the_month.tables.retain(|tb| tb.name == "distribution");
    sections.push(named(the_month, t.text("report.the_month").to_owned(), "m-"));
    // Twelve months to it, month by month, each with its n and interval.
    let mut the_year = year.fig;
    the_year.cards.clear();
    the_year.charts.truncate(1);
    the_year.tables.retain(|tb| tb.name == "trend");
    sections.push(named(the_year, t.text("report.twelve_months").to_owned(), "y-"));
    if let (Some(split), Some(by)) = (split, &by) {
        let mut split = split.fig;
        split.cards.clear();
        sections.push(named(split, t.fill1("dash.nps_by_dimension", "by", dimension_name(t, by)), "s-"));
    }
    let mut agents = agents.fig;
    agents.cards.clear(); // the month's section has them
    sections.push(named(agents, t.word("dash", "agents"), "a-"));
    render(&ReportPage {
        t,
        title: format!("{} · {subject}", t.fill1("report.title", "month", first.strftime("%Y-%m"))),
        nav: Some(nav),
        monitoring: !viewer.sees_own_only(),
        month: format!("{:04}-{:02}", first.year(), first.month()),
        kept,
        period,
        sections,
    })
}

/// The dashboard page called `name`, as `viewer` may see it under `pairs`; `None`: no such page.
async fn build(
    name: &str,
    t: Reader,
    state: &AppState,
    viewer: &Viewer,
    pairs: &[(String, String)],
) -> Option<Result<DashboardPage, ApiError>> {
    Some(match name {
        "overview" => overview(t, state, viewer, pairs).await,
        "segments" => segments(t, state, viewer, pairs).await,
        "themes" => themes(t, state, viewer, pairs).await,
        "agents" => agents(t, state, viewer, pairs).await,
        "changes" => changes(t, state, viewer, pairs).await,
        "monitoring" => monitoring(t, state, viewer).await,
        "responses" => responses(t, state, viewer, pairs).await,
        _ => return None,
    })
}

fn blank(t: Reader, current: &'static str, subject: &str) -> DashboardPage {
    DashboardPage {
        t,
        title: t.word("dash", current),
        nav: None,
        current,
        monitoring: false,
        query: String::new(),
        filters: Filters::default(),
        search: false,
        subject: subject_name(t, subject),
        covers: None,
        fig: Figures::default(),
        next_page: None,
        shared: None,
        may_share: false,
        controls: Controls::default(),
    }
}

const FILTER_KEYS: [&str; 10] =
    ["survey_id", "team_id", "agent_id", "from", "to", "channel", "language", "attr", "q", "theme"];

async fn filters(
    t: Reader,
    state: &AppState,
    viewer: &Viewer,
    pairs: &[(String, String)],
    every_kind: bool,
) -> Result<Filters, ApiError> {
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let options = |items: Vec<(String, String)>, chosen: String| {
        items.into_iter().map(|(value, label)| Option_ { selected: value == chosen, value, label }).collect()
    };
    let listed: Vec<_> = state
        .store
        .list_surveys()
        .await?
        .into_iter()
        .filter(|s| every_kind || s.definition.kind == hark_core::SurveyKind::Nps)
        .collect();
    // The kinds of the surveys the filters leave, for the words of the segments.
    let (survey_id, kind) = (get("survey_id"), get("kind"));
    let left = |s: &&hark_store::Survey| {
        (survey_id.is_empty() || s.id == survey_id) && (kind.is_empty() || s.definition.kind.as_str() == kind)
    };
    let kinds: Vec<hark_core::SurveyKind> = hark_core::SurveyKind::ALL
        .into_iter()
        .filter(|k| listed.iter().filter(left).any(|s| s.definition.kind == *k))
        .collect();
    let segments = [Segment::Detractor, Segment::Passive, Segment::Promoter]
        .map(|s| (s.as_str().to_owned(), segment_label(t, &kinds, s)))
        .to_vec();
    let nps: Vec<(String, String)> = listed.into_iter().map(|s| (s.id, s.definition.name)).collect();
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
    let themes: Vec<Option_> = options(
        state
            .store
            .reading()
            .analyzer
            .themes()
            .list()
            .iter()
            .map(|theme| (theme.key.clone(), theme.name(t.tag).to_owned()))
            .collect(),
        get("theme"),
    );
    let segments: Vec<Option_> = options(segments, get("segment"));
    let scores: Vec<Option_> = options((0..=10).map(|n| (n.to_string(), n.to_string())).collect(), get("score"));
    let kind_names = hark_core::SurveyKind::ALL.map(|k| (k.as_str().to_owned(), k.as_str().to_uppercase())).to_vec();
    let survey_kinds: Vec<Option_> = options(kind_names, get("kind"));
    let chosen = |list: &[Option_]| list.iter().find(|o| o.selected).map(|o| o.label.clone());
    let period = match (get("from"), get("to")) {
        (from, to) if from.is_empty() && to.is_empty() => t.text("dash.last_12_months").to_owned(),
        (from, to) => t.fill(
            "fmt.period",
            &[
                ("from", if from.is_empty() { "…" } else { &from }),
                ("to", if to.is_empty() { t.text("dash.today") } else { &to }),
            ],
        ),
    };
    let all = match chosen(&survey_kinds) {
        Some(kind) => t.fill1("dash.all_kind_surveys", "kind", kind),
        None => t.text(if every_kind { "dash.all_surveys" } else { "dash.all_nps_surveys" }).to_owned(),
    };
    let summary = [chosen(&surveys).or(Some(all)), Some(period)]
        .into_iter()
        .chain([chosen(&teams), chosen(&agents), chosen(&themes)])
        .chain([Some(get("channel")).filter(|v| !v.is_empty()).map(|c| t.word_or_value("channel", &c))])
        .chain([chosen(&segments), chosen(&scores).map(|n| t.fill1("filter.score_is", "score", n))])
        .chain([Some(get("language")).filter(|v| !v.is_empty()).map(|l| hark_core::i18n::language_shown(&l))])
        .chain(["attr", "q"].map(|k| Some(get(k)).filter(|v| !v.is_empty())))
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
        channels: {
            let chosen = get("channel");
            let known = ["email", "link", "widget", "api", "import"];
            let extra = (!chosen.is_empty() && !known.contains(&chosen.as_str())).then(|| chosen.clone());
            known
                .into_iter()
                .map(str::to_owned)
                .chain(extra)
                .map(|c| Option_ { label: t.word_or_value("channel", &c), selected: c == chosen, value: c })
                .collect()
        },
        themes,
        segments,
        scores,
        kinds: survey_kinds,
        language: get("language"),
        attr: get("attr"),
        q: get("q"),
        // The answer list's segment, score and kind have fields there; elsewhere they are kept.
        hidden: pairs
            .iter()
            .filter(|(k, _)| !FILTER_KEYS.contains(&k.as_str()) && k != "cursor")
            .filter(|(k, _)| !(every_kind && ["segment", "score", "kind"].contains(&k.as_str())))
            .cloned()
            .collect(),
        kept: pairs.iter().filter(|(k, _)| FILTER_KEYS.contains(&k.as_str())).cloned().collect(),
    })
}

/// A segment as the kinds of survey listed call it: "Detractors" for NPS surveys, "Detractors
/// / Unsatisfied" for NPS and CSAT surveys together (a CSAT answer of 1 is not a detractor).
fn segment_label(t: Reader, kinds: &[hark_core::SurveyKind], segment: Segment) -> String {
    let kinds = if kinds.is_empty() { &[hark_core::SurveyKind::Nps][..] } else { kinds };
    let mut words: Vec<String> =
        kinds.iter().map(|k| t.word("segments", &k.segment_word(segment).replace(' ', "_"))).collect();
    words.dedup();
    words.join(" / ")
}

/// Two stored ISO dates as the reader writes a period: "2026. 3. 1.~2026. 3. 31.".
fn period_text(t: Reader, from: &str, to: &str) -> String {
    t.fill("fmt.period", &[("from", &t.iso_date(from)), ("to", &t.iso_date(to))])
}

impl DashboardPage {
    fn cover(&mut self, p: &insights::Period) {
        self.covers = Some(p.clone());
    }

    /// The period the page covers, with the zone its days are in.
    fn period(&self) -> Option<String> {
        let p = self.covers.as_ref()?;
        Some(format!("{} ({})", period_text(self.t, &p.from, &p.to), p.time_zone))
    }
}

async fn overview(
    t: Reader,
    state: &AppState,
    viewer: &Viewer,
    pairs: &[(String, String)],
) -> Result<DashboardPage, ApiError> {
    let o = insights::overview(&state.store, viewer, pairs).await?;
    let mut page = blank(t, "overview", o.subject);
    page.cover(&o.period);
    page.fig.method = t.fill1("dash.intervals", "method", method_name(t, o.method));
    let days = o.period.days();
    page.fig.cards.push(Card {
        label: format!("NPS · {}", page.subject),
        value: t.nps(&o.nps),
        detail: with_change(t, o.nps.n, o.nps_change.as_ref(), days, "", 0),
    });
    if o.narrower {
        page.fig.cards.push(Card {
            label: format!("NPS · {}", subject_name(t, "Company")),
            value: t.nps(&o.company),
            detail: with_change(t, o.company.n, o.company_change.as_ref(), days, "", 0),
        });
    }
    let pct = |x: Option<f64>| x.map_or_else(|| "–".into(), |v| format!("{}%", t.number(v, 0)));
    page.fig.cards.push(Card {
        label: t.text("dash.segments_card").into(),
        value: format!("{} · {} · {}", pct(o.nps.promoter_pct), pct(o.nps.passive_pct), pct(o.nps.detractor_pct)),
        detail: format!("{} · {} · {}", o.nps.counts.promoters, o.nps.counts.passives, o.nps.counts.detractors),
    });
    // CSAT and CES follow the same filters; a card for none of them would only be noise.
    if o.csat.n > 0 {
        page.fig.cards.push(Card {
            label: t.text("dash.csat_card").into(),
            value: o
                .csat
                .pct
                // The interval to the share's own places: "82% (74.5%–87.7%)" read as more exact than it is.
                .map_or_else(String::new, |p| {
                    format!("{}%{}", t.number(p, 0), t.interval_after(o.csat.interval, 0, "%"))
                }),
            detail: with_change(t, o.csat.n, o.csat_change.as_ref(), days, t.text("dash.points"), 0),
        });
    }
    if o.ces.n > 0 {
        page.fig.cards.push(Card {
            label: t.text("dash.ces_card").into(),
            value: o
                .ces
                .mean
                .map_or_else(String::new, |m| format!("{}{}", t.number(m, 2), t.interval_after(o.ces.interval, 2, ""))),
            detail: with_change(t, o.ces.n, o.ces_change.as_ref(), days, "", 2),
        });
    }
    let points = trend_points(t, pairs, &o.trend.iter().collect::<Vec<_>>(), o.granularity, &o.period);
    let marks = insights::annotation_positions(&o.trend, &o.annotations, o.granularity);
    let heading = t.word("dash.nps_by", o.granularity.as_str());
    page.fig.charts.push(drawn(heading, |size| charts::trend(t, &points, &marks, size)));
    if o.trend.iter().any(|p| p.partial || !p.enough_data) {
        page.fig.method.push(' ');
        page.fig.method.push_str(&t.fill1("dash.hollow", "min_n", o.min_n));
    }
    let score_links: Vec<String> = (0..11).map(|s| responses_link(pairs, &[("score", s.to_string())])).collect();
    page.fig
        .charts
        .push(drawn(words(t, "distribution"), |size| charts::distribution(t, &o.distribution, &score_links, size)));
    page.controls.granularities = granularity_options(t, o.granularity);
    page.fig.tables.push(Table {
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
    page.fig.tables.push(Table {
        name: "distribution".into(),
        links: score_links.iter().map(|l| vec![Some(l.clone())]).collect(),
        headers: names(&["score", "answers"]),
        rows: o.distribution.iter().enumerate().map(|(s, n)| vec![s.to_string(), n.to_string()]).collect(),
    });
    page.fig.tables.push(Table {
        links: Vec::new(),
        name: "response_rate".into(),
        headers: names(&["channel", "delivered", "answered", "rate_pct"]),
        rows: o
            .response_rates
            .iter()
            .map(|r| {
                vec![
                    t.word_or_value("channel", &r.counts.channel),
                    r.counts.delivered.to_string(),
                    r.counts.answered.to_string(),
                    num(r.rate_pct),
                ]
            })
            .collect(),
    });
    page.fig.tables.push(Table {
        links: Vec::new(),
        name: "summary".into(),
        headers: headers(&["scope"]),
        rows: std::iter::once([vec![page.subject.clone()], summary_cells(&o.nps)].concat())
            .chain(o.narrower.then(|| [vec![subject_name(t, "Company")], summary_cells(&o.company)].concat()))
            .collect(),
    });
    Ok(page)
}

fn ranked_dots(t: Reader, by: &str, rows: &[hark_core::insight::RankedRow], links: &[Option<String>]) -> Vec<DotRow> {
    rows.iter()
        .zip(links)
        .map(|(r, href)| {
            let dot = Dot { value: r.summary.nps, interval: r.summary.interval, series: "nps", thin: !r.enough_data };
            DotRow { label: row_label(t, by, r), n: r.summary.n, dots: vec![dot], href: href.clone() }
        })
        .collect()
}

/// A dimension to segment by in words: "Team", "Channel"; an attribute by its own name.
fn dimension_name(t: Reader, by: &str) -> String {
    match by.split_once('.') {
        Some((_, key)) => crate::page::heading(key),
        None => t.word("dimension", by),
    }
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

async fn segments(
    t: Reader,
    state: &AppState,
    viewer: &Viewer,
    pairs: &[(String, String)],
) -> Result<DashboardPage, ApiError> {
    let s = insights::segments(&state.store, viewer, pairs).await?;
    let mut page = blank(t, "segments", s.subject);
    page.cover(&s.period);
    page.fig.method = format!(
        "{} {}",
        t.fill1("dash.intervals", "method", method_name(t, s.method)),
        t.fill1("dash.segments_method", "min_n", s.min_n)
    );
    page.fig.cards.push(Card {
        label: format!("NPS · {}", subject_name(t, "Company")),
        value: t.nps(&s.company),
        detail: with_change(t, s.company.n, s.company_change.as_ref(), s.period.days(), "", 0),
    });
    let row_links: Vec<Option<String>> = s.rows.iter().map(|r| segment_link(pairs, &s.by, r)).collect();
    let dots = ranked_dots(t, &s.by, &s.rows, &row_links);
    let heading = t.fill1("dash.nps_by_dimension", "by", dimension_name(t, &s.by));
    page.fig.charts.push(drawn(heading, |size| charts::dot_rows(t, &dots, size)));
    let offered = insights::segment_dimensions(viewer);
    page.controls.dimensions = offered
        .iter()
        .copied()
        .map(|d| Option_ { value: d.into(), label: dimension_name(t, d), selected: s.by == d })
        // An attribute or property chosen in the address stays selected.
        .chain((!offered.contains(&s.by.as_str())).then(|| Option_ {
            value: s.by.clone(),
            label: dimension_name(t, &s.by),
            selected: true,
        }))
        .collect();
    page.controls.min_n = Some(s.min_n);
    page.fig.tables.push(Table {
        name: "segments".into(),
        links: row_links.iter().map(|l| vec![None, l.clone()]).collect(),
        headers: headers(&["rank", "segment", "enough_data"]),
        rows: s
            .rows
            .iter()
            .map(|r| {
                [
                    vec![rank_text(t, r.rank, r.enough_data), row_label(t, &s.by, r), r.enough_data.to_string()],
                    summary_cells(&r.summary),
                ]
                .concat()
            })
            .collect(),
    });
    Ok(page)
}

async fn themes(
    t: Reader,
    state: &AppState,
    viewer: &Viewer,
    pairs: &[(String, String)],
) -> Result<DashboardPage, ApiError> {
    let r = crate::ops::themes::themes(&state.store, viewer, pairs, t.tag).await?;
    let mut page = blank(t, "themes", r.subject);
    page.cover(&r.period);
    page.fig.method = format!("{} {}", t.text("dash.themes_method"), t.fill1("dash.segments_method", "min_n", r.min_n));
    page.fig.cards.push(Card {
        label: "NPS".into(),
        value: t.nps(&r.overall),
        detail: format!("n = {}", t.count(r.overall.n)),
    });
    page.fig.cards.push(Card {
        label: t.text("dash.comments_read").into(),
        value: t.count(r.commented),
        detail: match r.untagged {
            0 => t.fill1("dash.of_answers", "n", t.count(r.overall.n)),
            n => t.fill1("dash.still_reading", "n", t.count(n)),
        },
    });
    // A theme no comment mentions has no figure to show: named once, not a row of blanks each
    // (on a phone, a screen of empty cards before the phrases).
    let (mentioned, silent): (Vec<&crate::ops::themes::ThemeDriver>, Vec<_>) =
        r.drivers.iter().partition(|d| d.driver.mentions > 0);
    let link = |key: &str| responses_link(pairs, &[("theme", key.to_owned())]);
    let dots: Vec<DotRow> = mentioned
        .iter()
        .map(|d| DotRow {
            label: d.name.clone(),
            n: d.driver.mentions,
            dots: vec![Dot {
                value: d.driver.with.nps,
                interval: d.driver.with.interval,
                series: "theme",
                thin: !d.driver.enough_data,
            }],
            href: Some(link(&d.driver.key)),
        })
        .collect();
    if !dots.is_empty() {
        page.fig.charts.push(drawn(t.text("dash.nps_by_theme").into(), |size| charts::dot_rows(t, &dots, size)));
    }
    // How the themes that move NPS most have moved (any other: the Overview by theme); a
    // line of thin periods would be noise.
    let ranked: Vec<&str> =
        r.drivers.iter().filter(|d| d.driver.rank.is_some()).map(|d| d.driver.key.as_str()).collect();
    let (drawn_trends, thin): (Vec<_>, Vec<_>) = r
        .trends
        .iter()
        .filter(|trend| ranked.contains(&trend.key.as_str()))
        .take(THEME_TRENDS_SHOWN)
        .partition(|trend| trend.periods.iter().filter(|p| !p.trend.partial && p.trend.enough_data).count() >= 2);
    if !thin.is_empty() {
        let names = thin.iter().map(|trend| trend.name.as_str()).collect::<Vec<_>>().join(", ");
        let key = format!("dash.theme_trends_thin.{}", r.granularity.as_str());
        page.fig.method.push(' ');
        page.fig.method.push_str(&t.fill2(&key, "themes", names, "min_n", r.min_n));
    }
    let mut hollow = false;
    for trend in drawn_trends {
        let periods: Vec<&insights::TrendPeriod> = trend.periods.iter().map(|p| &p.trend).collect();
        hollow |= periods.iter().any(|p| p.partial || !p.enough_data);
        let themed: Vec<(String, String)> =
            pairs.iter().filter(|(k, _)| k != "theme").cloned().chain([("theme".into(), trend.key.clone())]).collect();
        let points = trend_points(t, &themed, &periods, r.granularity, &r.period);
        let heading = t.fill1(&format!("dash.theme_nps_by.{}", r.granularity.as_str()), "theme", &trend.name);
        page.fig.charts.push(drawn(heading, |size| charts::trend(t, &points, &[], size)));
    }
    if hollow {
        page.fig.method.push(' ');
        page.fig.method.push_str(&t.fill1("dash.hollow", "min_n", r.min_n));
    }
    page.controls.granularities = granularity_options(t, r.granularity);
    if !silent.is_empty() {
        let names: Vec<&str> = silent.iter().map(|d| d.name.as_str()).collect();
        page.fig.method.push(' ');
        page.fig.method.push_str(&t.fill1("dash.themes_not_mentioned", "themes", names.join(", ")));
    }
    // Written as the CSV wants it (a full stop for the decimals), whatever the reader's language.
    let signed = |x: Option<f64>| x.map_or_else(String::new, |v| hark_core::i18n::base().signed(v, 1));
    page.fig.tables.push(Table {
        name: "drivers".into(),
        links: mentioned.iter().map(|d| vec![None, Some(link(&d.driver.key))]).collect(),
        // What the rank is by comes beside it: at 1280 px the last of 13 columns is out of sight.
        headers: names(&[
            "rank",
            "theme",
            "points_at_stake",
            "mentions",
            "share_pct",
            "nps_with",
            "nps_with_ci_low",
            "nps_with_ci_high",
            "nps_without",
            "difference",
            "difference_ci_low",
            "difference_ci_high",
            "p_value",
        ]),
        rows: mentioned
            .iter()
            .map(|d| {
                let x = &d.driver;
                let [low, high] = interval_cells(x.with.interval);
                let diff = x.difference.as_ref();
                [
                    vec![
                        rank_text(t, x.rank, x.enough_data),
                        d.name.clone(),
                        signed(x.points_at_stake),
                        x.mentions.to_string(),
                        num(x.share_pct),
                        num(x.with.nps),
                        low,
                        high,
                        num(x.without.nps),
                        signed(diff.map(|c| c.difference)),
                    ],
                    interval_cells(diff.map(|c| c.interval)).to_vec(),
                    vec![diff.map_or_else(String::new, |c| format!("{:.3}", c.p_value))],
                ]
                .concat()
            })
            .collect(),
    });
    if viewer.is_admin() {
        page.controls.adopt = r.detractor_phrases.iter().chain(&r.promoter_phrases).map(|p| p.phrase.clone()).collect();
    }
    let segments = [
        ("detractor_phrases", "detractor", &r.detractor_phrases),
        ("promoter_phrases", "promoter", &r.promoter_phrases),
    ];
    for (name, segment, phrases) in segments {
        page.fig.tables.push(Table {
            name: name.into(),
            // A phrase alone can mislead ("problema" said by promoters: "problema risolto"): it
            // opens the segment's answers with its words, to read what it stands for.
            links: phrases
                .iter()
                .map(|p| vec![Some(responses_link(pairs, &[("segment", segment.into()), ("q", p.search.clone())]))])
                .collect(),
            headers: names(&["phrase", "comments", "everywhere", "z"]),
            rows: phrases
                .iter()
                .map(|p| {
                    vec![p.phrase.clone(), p.comments.to_string(), p.everywhere.to_string(), format!("{:.1}", p.z)]
                })
                .collect(),
        });
    }
    if let Some(f) = r.feedback.as_ref().filter(|f| f.all.n() > 0) {
        page.fig.cards.push(Card {
            label: t.text("dash.feedback_card").into(),
            value: t.count(f.all.n()),
            detail: f
                .source
                .as_deref()
                .map_or_else(|| t.text("dash.feedback_not_nps").to_owned(), |s| t.word("source", s)),
        });
        page.fig.tables.push(Table {
            name: "feedback".into(),
            links: vec![],
            headers: names(&[
                "theme",
                "mentions",
                "negative",
                "neutral",
                "positive",
                "negative_pct",
                "ci_low",
                "ci_high",
            ]),
            rows: f
                .themes
                .iter()
                .map(|x| {
                    let [low, high] = interval_cells(x.negative.interval);
                    vec![
                        x.name.clone(),
                        x.mentions.n().to_string(),
                        x.mentions.negative.to_string(),
                        x.mentions.neutral.to_string(),
                        x.mentions.positive.to_string(),
                        num(x.negative.pct),
                        low,
                        high,
                    ]
                })
                .collect(),
        });
    }
    page.controls.min_n = Some(r.min_n);
    Ok(page)
}

async fn agents(
    t: Reader,
    state: &AppState,
    viewer: &Viewer,
    pairs: &[(String, String)],
) -> Result<DashboardPage, ApiError> {
    let a = insights::agents(&state.store, viewer, pairs).await?;
    let mut page = blank(t, "agents", a.subject);
    page.cover(&a.period);
    page.fig.method = format!(
        "{} {}",
        t.fill1("dash.agents_method", "min_n", a.min_n),
        t.fill1("dash.intervals", "method", method_name(t, a.method))
    );
    page.fig.cards.push(Card {
        label: format!("NPS · {}", subject_name(t, "Company")),
        value: t.nps(&a.company),
        detail: with_change(t, a.company.n, a.company_change.as_ref(), a.period.days(), "", 0),
    });
    if matches!(viewer.scope, Scope::Agent { .. }) {
        let ranked = a.ranked_agents.to_string();
        let rank = a.your_rank.map_or_else(
            || t.text("dash.not_ranked_yet").to_owned(),
            |r| t.fill("dash.rank_of", &[("rank", &r.to_string()), ("of", &ranked)]),
        );
        page.fig.cards.push(Card {
            label: t.text("dash.your_rank").into(),
            value: rank,
            detail: t.fill1("dash.agents_ranked", "n", &ranked),
        });
    }
    page.fig.sentence = a.champion_sentence.is_some().then(|| champion_sentence(t, &a));
    let dots: Vec<DotRow> = a
        .agents
        .iter()
        .map(|r| {
            let thin = r.rank.is_none();
            DotRow {
                label: r.name.clone(),
                // The agent's own question: what the row is ranked by.
                n: r.agent_nps.n,
                dots: vec![
                    Dot { value: r.agent_nps.nps, interval: r.agent_nps.interval, series: "agent", thin },
                    Dot { value: r.company_nps.nps, interval: r.company_nps.interval, series: "company", thin },
                ],
                href: Some(responses_link(pairs, &[("agent_id", r.agent_id.clone())])),
            }
        })
        .collect();
    page.fig.charts.push(drawn(t.text("dash.agents_chart").into(), |size| charts::dot_rows(t, &dots, size)));
    page.controls.min_n = Some(a.min_n);
    let agent_rows = |rows: &[insights::AgentRow]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                let [al, ah] = interval_cells(r.agent_nps.interval);
                let [cl, ch] = interval_cells(r.company_nps.interval);
                vec![
                    rank_text(t, r.rank, false),
                    r.name.clone(),
                    r.team.clone().unwrap_or_else(|| without(t, "team")),
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
    page.fig.tables.push(Table {
        links: agent_links,
        name: "agents".into(),
        headers: names(&AGENT_HEADERS),
        rows: agent_rows(&a.agents),
    });
    if !a.champion_teams.is_empty() {
        page.fig.tables.push(Table {
            links: Vec::new(),
            name: "champions".into(),
            headers: names(&AGENT_HEADERS),
            rows: agent_rows(&a.champions),
        });
        page.fig.tables.push(Table {
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
    // A call-centre figure no answer carries (a shop sends no handle times) is left out.
    for f in a.figures.iter().filter(|f| f.bins.iter().any(|b| b.summary.n > 0)) {
        page.fig.tables.push(Table {
            links: Vec::new(),
            name: format!("nps_by_{}", f.property),
            headers: headers(&[f.property.as_str(), "enough_data"]),
            rows: f
                .bins
                .iter()
                .map(|b| [vec![b.label.clone(), b.enough_data.to_string()], summary_cells(&b.summary)].concat())
                .collect(),
        });
    }
    Ok(page)
}

async fn changes(
    t: Reader,
    state: &AppState,
    viewer: &Viewer,
    pairs: &[(String, String)],
) -> Result<DashboardPage, ApiError> {
    let c = insights::changes(&state.store, viewer, pairs).await?;
    let mut page = blank(t, "changes", c.subject);
    let chosen = c.comparison.as_ref().and_then(|cmp| cmp.annotation_id.as_deref()).unwrap_or_default();
    page.controls.compare = c
        .annotations
        .iter()
        .map(|a| Option_ {
            value: a.id.clone(),
            label: format!("{} · {}", t.day(a.day), a.label),
            selected: a.id == chosen,
        })
        .collect();
    page.controls.annotations = c.annotations.iter().map(|a| (a.id.clone(), t.day(a.day), a.label.clone())).collect();
    page.controls.annotate = viewer.may_annotate();
    let surveys = insights::labels(&state.store, &Dimension::Survey).await?;
    page.fig.tables.push(Table {
        links: Vec::new(),
        name: "annotations".into(),
        headers: names(&["date", "label", "survey"]),
        rows: c
            .annotations
            .iter()
            .map(|a| {
                let survey = a
                    .survey_id
                    .as_ref()
                    .map_or_else(|| t.text("dash.every_survey").into(), |_| label_of(&surveys, &a.survey_id));
                vec![insights::day_text(a.day), a.label.clone(), survey]
            })
            .collect(),
    });
    if let Some(cmp) = &c.comparison {
        page.fig.method = t.fill1("dash.test", "method", method_name(t, cmp.method));
        page.fig.sentence = Some(comparison_sentence(t, cmp));
        let window = |key: &str, w: &insights::Window| format!("{} · {}", t.text(key), period_text(t, &w.from, &w.to));
        page.fig.cards.push(Card {
            label: window("dash.before", &cmp.before),
            value: t.nps(&cmp.before.summary),
            detail: format!("n = {}", t.count(cmp.before.summary.n)),
        });
        page.fig.cards.push(Card {
            label: window("dash.after", &cmp.after),
            value: t.nps(&cmp.after.summary),
            detail: format!("n = {}", t.count(cmp.after.summary.n)),
        });
        if let Some(ch) = &cmp.change {
            page.fig.cards.push(Card {
                label: t.text("dash.difference").into(),
                value: format!("{} ({})", t.signed(ch.difference, 0), t.ci(ch.interval, 0)),
                detail: format!("z = {}, p = {}", t.number(ch.z, 2), t.number(ch.p_value, 3)),
            });
        }
        let window = |key: &str, w: &insights::Window| {
            [vec![t.text(key).to_owned(), w.from.clone(), w.to.clone()], summary_cells(&w.summary)].concat()
        };
        page.fig.tables.push(Table {
            links: Vec::new(),
            name: "comparison".into(),
            headers: headers(&["window", "from", "to"]),
            rows: vec![window("dash.before", &cmp.before), window("dash.after", &cmp.after)],
        });
        if let Some(ch) = &cmp.change {
            page.fig.tables.push(Table {
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
                    comparison_sentence(t, cmp),
                ]],
            });
        }
    }
    Ok(page)
}

async fn monitoring(t: Reader, state: &AppState, viewer: &Viewer) -> Result<DashboardPage, ApiError> {
    let m = insights::monitoring(&state.store, viewer).await?;
    let mut page = blank(t, "monitoring", viewer.subject());
    page.fig.method = format!(
        "{} {}",
        t.text("dash.monitoring_method"),
        t.fill1("dash.test", "method", method_name(t, hark_core::stats::NPS_DIFFERENCE_METHOD))
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
        page.controls.teams = std::iter::once(none(t.text("dash.whole_company"))).chain(team_options).collect();
        page.controls.surveys = std::iter::once(none(t.text("dash.all_nps_surveys")))
            .chain(surveys.iter().filter(|s| s.definition.kind == hark_core::SurveyKind::Nps).map(|s| Option_ {
                value: s.id.clone(),
                label: s.definition.name.clone(),
                selected: false,
            }))
            .collect();
    }
    let surveys: HashMap<String, String> = surveys.into_iter().map(|s| (s.id, s.definition.name)).collect();
    page.fig.tables.push(Table {
        links: Vec::new(),
        name: "alerts".into(),
        headers: names(&["raised", "rule", "window_end", "before_nps", "after_nps", "sentence"]),
        rows: m
            .alerts
            .iter()
            .map(|a| {
                vec![
                    t.time(a.created_at),
                    a.rule_name.clone(),
                    insights::day_text(a.window_end_day - 1),
                    num(Some(a.before_nps)),
                    num(Some(a.after_nps)),
                    t.fill(
                        "dash.alert_sentence",
                        &[("before", &t.signed(a.before_nps, 0)), ("after", &t.signed(a.after_nps, 0))],
                    ),
                ]
            })
            .collect(),
    });
    page.fig.tables.push(Table {
        links: Vec::new(),
        name: "rules".into(),
        headers: names(&["name", "survey", "team", "window_days", "min_n", "notify_email", "last_checked"]),
        rows: m
            .rules
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.survey_id
                        .as_ref()
                        .map_or_else(|| t.text("dash.all_nps_surveys").into(), |_| label_of(&surveys, &r.survey_id)),
                    r.team_id
                        .as_ref()
                        .map_or_else(|| t.text("dash.whole_company").into(), |_| label_of(&teams, &r.team_id)),
                    r.window_days.to_string(),
                    r.min_n.to_string(),
                    r.notify_email.clone().unwrap_or_default(),
                    r.last_checked_at.map(|at| t.time(at)).unwrap_or_default(),
                ]
            })
            .collect(),
    });
    Ok(page)
}

async fn responses(
    t: Reader,
    state: &AppState,
    viewer: &Viewer,
    pairs: &[(String, String)],
) -> Result<DashboardPage, ApiError> {
    let r = insights::responses(&state.store, viewer, pairs).await?;
    let reading = state.store.reading();
    let mut page = blank(t, "responses", r.subject);
    page.search = true;
    page.cover(&r.period);
    page.fig.cards.push(Card {
        label: t.text("dash.matching").into(),
        value: if r.total_exact { t.count(r.total) } else { t.fill1("dash.more_than", "n", t.count(r.total)) },
        detail: t.fill1("dash.showing", "n", r.items.len()),
    });
    // Each answer leads to its case and, for admins (who have the contact pages), its contact.
    let links = r
        .items
        .iter()
        .map(|x| {
            let mut cells = vec![None; 13];
            cells[8] = x.contact_id.as_ref().filter(|_| viewer.is_admin()).map(|id| format!("/admin/contacts/{id}"));
            cells[12] = x.case_id.as_ref().map(|id| format!("/admin/cases/{id}"));
            cells
        })
        .collect();
    page.fig.tables.push(Table {
        links,
        name: "responses".into(),
        headers: names(&[
            "date",
            "survey",
            "score",
            "segment",
            "comment",
            "themes",
            "sentiment",
            "extra_answers",
            "contact",
            "agent",
            "channel",
            "language",
            "case",
        ]),
        rows: r
            .items
            .iter()
            .map(|x| {
                vec![
                    x.date.clone(),
                    x.survey.clone(),
                    x.score.to_string(),
                    t.word("segment", &x.segment_label.replace(' ', "_")),
                    x.comment.clone().unwrap_or_default(),
                    theme_names(reading.analyzer.themes(), t, &x.themes),
                    x.sentiment.as_deref().map_or_else(String::new, |s| t.word("sentiment", s)),
                    r.surveys
                        .get(&x.survey_id)
                        .map_or_else(String::new, |survey| crate::admin::survey_answers_line(t, survey, &x.answers)),
                    x.contact.clone().unwrap_or_default(),
                    x.agent.clone().unwrap_or_default(),
                    t.word_or_value("channel", &x.channel),
                    x.language.as_deref().map_or_else(String::new, hark_core::i18n::language_shown),
                    x.case_status.map_or_else(String::new, |s| t.word("status", s.as_str())),
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

/// Theme keys as the reader names them: "배송, 가격".
pub(crate) fn theme_names(themes: &hark_text::Themes, t: Reader, keys: &[String]) -> String {
    keys.iter().map(|k| themes.name_of(k, t.tag)).collect::<Vec<_>>().join(", ")
}

/// Where the champions sit, beside each team's share of ranked agents; or that nobody stands out.
fn champion_sentence(t: Reader, a: &insights::Agents) -> String {
    let bar = [("bar", charts::signed(a.champion_bar.nps)), ("n", a.champion_bar.n.to_string())];
    let bar: Vec<(&str, &str)> = bar.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let champions: u64 = a.champion_teams.iter().map(|s| s.champions).sum();
    let agents: u64 = a.champion_teams.iter().map(|s| s.agents).sum();
    let what = match a.champion_teams.first().filter(|s| s.champions > 0) {
        Some(s) => t.fill(
            "dash.champions_where",
            &[
                ("in_team", &s.champions.to_string()),
                ("champions", &champions.to_string()),
                ("team", &s.team),
                ("team_agents", &s.agents.to_string()),
                ("agents", &agents.to_string()),
            ],
        ),
        None => t.fill("dash.no_champion", &bar),
    };
    format!("{} {what}", t.fill("dash.champions_are", &bar))
}

/// How NPS moved between the two periods compared, and whether that is a real change.
fn comparison_sentence(t: Reader, cmp: &insights::Comparison) -> String {
    let (b, a) = (cmp.before.summary.n.to_string(), cmp.after.summary.n.to_string());
    let Some(ch) = &cmp.change else {
        return t.fill("dash.compare_too_few", &[("min_n", &t.count(cmp.min_n)), ("before", &b), ("after", &a)]);
    };
    ch.sentence_in(t.0)
}

// ----- forms -----

/// The form's fields without its CSRF token and without empty fields, after checking the token.
fn checked_form(viewer: &Viewer, nav: &Nav, body: &[u8]) -> Result<Vec<(String, String)>, Response> {
    let Some(session) = &viewer.session else {
        return Err(forbidden_page(Some(nav.clone()), Reason::Key("problem.forbidden")));
    };
    let pairs = crate::page::session_form(session, nav, body)?;
    Ok(pairs.into_iter().filter(|(k, v)| k != "csrf" && !v.trim().is_empty()).collect())
}

/// The form as `T`; a field that cannot be read (a number that is not one) is refused on a
/// page in the reader's language.
fn decode<T: serde::de::DeserializeOwned>(pairs: &[(String, String)], nav: &Nav) -> Result<T, Response> {
    let text = serde_urlencoded::to_string(pairs).unwrap_or_default();
    serde_urlencoded::from_str(&text).map_err(|_| {
        crate::page::problem_page(StatusCode::UNPROCESSABLE_ENTITY, Some(nav.clone()), Reason::Key("problem.invalid"))
    })
}

async fn add_annotation(
    State(state): State<AppState>,
    PageViewer(viewer, nav): PageViewer,
    RawForm(body): RawForm,
) -> Response {
    if !viewer.may_annotate() {
        return forbidden_page(Some(nav), Reason::Key("problem.agents_annotate"));
    }
    let pairs = match checked_form(&viewer, &nav, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let input: AnnotationInput = match decode(&pairs, &nav) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let by = viewer.session.as_ref().map(|s| s.user.email.clone());
    match insights::add_annotation(&state.store, &input, by.as_deref()).await {
        Ok(a) => Redirect::to(&format!("/dashboard/changes?annotation_id={}", a.id)).into_response(),
        Err(e) => refused(e, nav),
    }
}

async fn delete_annotation(
    State(state): State<AppState>,
    PageViewer(viewer, nav): PageViewer,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    if !viewer.may_annotate() {
        return forbidden_page(Some(nav), Reason::Key("problem.agents_annotate"));
    }
    if let Err(r) = checked_form(&viewer, &nav, &body) {
        return r;
    }
    // Admins remove any annotation; others only their own.
    let author = viewer.session.as_ref().map(|s| s.user.email.clone());
    match state.store.get_annotation(&id).await {
        Ok(Some(a)) if viewer.is_admin() || (a.created_by.is_some() && a.created_by == author) => {}
        Ok(Some(_)) => return forbidden_page(Some(nav), Reason::Key("problem.annotation_not_yours")),
        Ok(None) => return crate::page::not_found(&nav, "problem.no_annotation"),
        Err(e) => return refused(e.into(), nav),
    }
    match state.store.delete_annotation(&id).await {
        Ok(()) => Redirect::to("/dashboard/changes").into_response(),
        Err(e) => refused(e.into(), nav),
    }
}

async fn add_alert_rule(
    State(state): State<AppState>,
    PageViewer(viewer, nav): PageViewer,
    RawForm(body): RawForm,
) -> Response {
    if !viewer.is_admin() {
        return forbidden_page(Some(nav), Reason::Key("problem.admins_only"));
    }
    let pairs = match checked_form(&viewer, &nav, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let input: AlertRuleInput = match decode(&pairs, &nav) {
        Ok(i) => i,
        Err(r) => return r,
    };
    match insights::add_alert_rule(&state.store, &input).await {
        Ok(_) => Redirect::to("/dashboard/monitoring").into_response(),
        Err(e) => refused(e, nav),
    }
}

async fn delete_alert_rule(
    State(state): State<AppState>,
    PageViewer(viewer, nav): PageViewer,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    if !viewer.is_admin() {
        return forbidden_page(Some(nav), Reason::Key("problem.admins_only"));
    }
    if let Err(r) = checked_form(&viewer, &nav, &body) {
        return r;
    }
    match state.store.delete_alert_rule(&id).await {
        Ok(()) => Redirect::to("/dashboard/monitoring").into_response(),
        Err(e) => refused(e.into(), nav),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_may_break_before_its_at_and_the_dots_of_its_domain_only() {
        let table =
            Table { links: vec![], name: "responses".into(), headers: names(&["comment", "contact"]), rows: vec![] };
        assert_eq!(table.pieces(&1, "ann.lee@mail.example.com"), ["ann.lee", "@mail", ".example", ".com"]);
        assert_eq!(table.pieces(&1, "Ann Lee"), ["Ann Lee"], "a name stays whole");
        assert_eq!(table.pieces(&1, "@handle"), ["@handle"]);
        assert_eq!(
            table.pieces(&0, "write to ann@example.com"),
            ["write to ann@example.com"],
            "only the customer column"
        );
    }

    #[test]
    fn a_figure_carries_its_interval_whose_ends_are_no_columns_of_their_own() {
        let headers =
            ["team", "n", "nps", "ci_low", "ci_high", "difference", "difference_ci_low", "difference_ci_high"];
        let table = Table { links: vec![], name: "teams".into(), headers: names(&headers), rows: vec![] };
        assert_eq!(table.shown(), [0, 1, 2, 5]);
        let utc: &'static jiff::tz::TimeZone = Box::leak(Box::new(jiff::tz::TimeZone::UTC));
        let t = Reader(hark_core::i18n::locale("en").unwrap(), utc);
        let row: Vec<String> = ["North", "40", "25.0", "-0.5", "48.0", "", "", ""].map(String::from).to_vec();
        assert_eq!(table.shown_text(&t, &row, &2), ("25.0".into(), Some("95% CI -0.5\u{a0}to\u{a0}48.0".into())));
        assert_eq!(table.shown_text(&t, &row, &5), (String::new(), None), "no difference, no interval");
        assert_eq!(table.shown_text(&t, &row, &0), ("North".into(), None));
        let t = Reader(hark_core::i18n::locale("ko").unwrap(), utc);
        assert_eq!(table.shown_text(&t, &row, &2).1.unwrap(), "95% 신뢰구간 -0.5~48.0");
        let table = Table { rows: vec![row], ..table };
        assert_eq!(table.shown(), [0, 1, 2], "no row has a difference");
    }

    #[test]
    fn a_figure_rounded_to_nothing_has_no_sign() {
        assert_eq!([num(Some(-0.04)), num(Some(-0.05)), num(Some(0.04)), num(None)], ["0.0", "-0.1", "0.0", ""]);
    }
}
