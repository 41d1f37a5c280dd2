//! Each person's digest of a period, written for their role from the same figures as the
//! dashboard, in their language and the organisation's zone:
//! - admins and executives: company NPS with its interval and change, the teams that moved
//!   beyond noise, and the loop's health;
//! - team leads: their team's NPS and agents, its open and overdue cases, the latest detractor
//!   comments;
//! - agents: their agent NPS, rank and change, promoters' words about them, their cases.
//!
//! The job runner sends it ([`hark_jobs::DigestWriter`]); the account page previews it.

use std::future::Future;
use std::pin::Pin;

use askama::Template;
use axum::http::HeaderMap;
use hark_core::NpsCounts;
use hark_jobs::{Digest, DigestWriter};
use hark_store::{CaseFilter, User};

use crate::AppState;
use crate::ops::{cases, insights};
use crate::page::Reader;
use crate::problem::ApiError;
use crate::viewer::{Scope, Viewer};

/// Writes digests with the web layer's figures.
pub(crate) struct Writer(pub AppState);

impl DigestWriter for Writer {
    fn write<'a>(
        &'a self,
        person: &'a User,
        from: i64,
        to: i64,
    ) -> Pin<Box<dyn Future<Output = Result<Digest, String>> + Send + 'a>> {
        Box::pin(async move { write(&self.0, person, from, to).await.map_err(|e| e.0.detail) })
    }

    fn summary(&self, from: i64, to: i64) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>> {
        Box::pin(async move { summary(&self.0, from, to).await.map_err(|e| e.0.detail) })
    }
}

/// The company's digest in a line, in English (the webhooks' words): its NPS with n and
/// interval, the change, and the loop.
async fn summary(state: &AppState, from: i64, to: i64) -> Result<String, ApiError> {
    let t = Reader::of(None, None, &state.config.time_zone, &HeaderMap::new());
    let o = insights::overview(&state.store, &Viewer::api_key(), &period_pairs(t, from, to, &[])).await?;
    let change = o.nps_change.as_ref().map_or_else(String::new, |c| format!(" {}", c.sentence_in(t.0)));
    let opened = cases::loop_report(state, Some(from), Some(to), None).await?.overall.opened;
    let (open, overdue) = open_cases(state, None).await?;
    Ok(format!(
        "Hark digest {}: company NPS {}.{change} Cases: {opened} opened, {open} open now, {overdue} overdue.",
        days(t, from, to),
        nps_with_n(t, &o.nps),
    ))
}

/// The filters of `[from, to)` read in `t`'s zone, with `more`.
fn period_pairs(t: Reader, from: i64, to: i64, more: &[(&str, &str)]) -> Vec<(String, String)> {
    let instant = |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default();
    let mut pairs = vec![("from".to_owned(), instant(from)), ("to".to_owned(), instant(to))];
    pairs.push(("tz".to_owned(), t.zone_name().to_owned()));
    pairs.extend(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    pairs
}

/// "+21 (95% CI +17 to +25) · n = 33".
fn nps_with_n(t: Reader, s: &hark_core::NpsSummary) -> String {
    match s.interval {
        Some(_) => format!("{} · n = {}", t.nps(s), t.count(s.n)),
        None => t.nps(s),
    }
}

/// The days a period covers, as a subject names them: "2026-11-23 – 2026-11-30 (Asia/Seoul)".
/// A period ends at a firing (say Monday 08:00), so its last day is the one that moment is on.
fn days(t: Reader, from: i64, to: i64) -> String {
    let day = |ms: i64| t.date(hark_core::report::local_date(ms, t.1));
    format!("{} – {} ({})", day(from), day(to - 1), t.zone_name())
}

/// The cases open now within `reach` (all: `None`), and how many of them are overdue.
async fn open_cases(state: &AppState, reach: Option<hark_store::CaseReach>) -> Result<(i64, i64), ApiError> {
    let count = |overdue: bool| {
        let filter = CaseFilter { open_only: !overdue, overdue, reach: reach.clone(), ..Default::default() };
        async move { state.store.count_cases(&filter).await }
    };
    Ok((count(false).await?, count(true).await?))
}

/// A part of the digest: a heading, figures as lines, customers' words as quotes.
struct Section {
    heading: String,
    lines: Vec<String>,
    quotes: Vec<String>,
}

#[derive(Template)]
#[template(path = "digest_mail.html")]
struct Html<'a> {
    t: Reader,
    title: &'a str,
    period: &'a str,
    sections: &'a [Section],
    link: &'a str,
}

#[derive(Template)]
#[template(path = "digest_mail.txt")]
struct Text<'a> {
    t: Reader,
    title: &'a str,
    period: &'a str,
    sections: &'a [Section],
    link: &'a str,
}

/// The digest `person` gets for `[from, to)`.
pub(crate) async fn write(state: &AppState, person: &User, from: i64, to: i64) -> Result<Digest, ApiError> {
    // Their chosen language, else the one their browser asked for as they last signed in.
    let language = person.locale.as_deref().or(person.seen_locale.as_deref());
    let t = Reader::of(language, None, &state.config.time_zone, &HeaderMap::new());
    let viewer = Viewer::of_user(person);
    let pairs = |from: i64, to: i64, more: &[(&str, &str)]| period_pairs(t, from, to, more);
    let store = &state.store;
    let nps = |s: &hark_core::NpsSummary| nps_with_n(t, s);
    let overview = insights::overview(store, &viewer, &pairs(from, to, &[])).await?;
    let change = |c: &Option<hark_core::NpsChange>| {
        c.as_ref().map_or_else(|| t.text("digest.too_few_to_compare").to_owned(), |c| c.sentence_in(t.0))
    };
    // The latest five comments of a segment in the person's reach, under `heading`.
    let said = |heading: &'static str, segment: &'static str| {
        let pairs = pairs(from, to, &[("segment", segment), ("limit", "20")]);
        let viewer = &viewer;
        async move {
            let rows = insights::responses(store, viewer, &pairs).await?.items;
            let quotes = rows.into_iter().filter_map(|r| r.comment.filter(|c| !c.trim().is_empty())).take(5).collect();
            Ok::<_, ApiError>(Section { heading: t.text(heading).into(), lines: Vec::new(), quotes })
        }
    };
    // The cases in the person's reach open now, and how many of them are overdue.
    let cases_line = || async {
        let (open, overdue) = open_cases(state, viewer.case_reach()).await?;
        Ok::<_, ApiError>(t.fill2("digest.cases_line", "open", open, "overdue", overdue))
    };
    // The period's cases in the person's reach: opened, closed, closed on time; then the
    // cases line.
    let loop_lines = || async {
        let f = cases::loop_report(state, Some(from), Some(to), viewer.case_reach()).await?.overall;
        let mut lines = vec![t.fill2("digest.loop_period", "opened", t.count(f.opened), "closed", t.count(f.closed))];
        if let Some(p) = f.closed_on_time_percent {
            lines.push(t.fill1("digest.loop_on_time", "percent", t.number(p, 0)));
        }
        lines.push(cases_line().await?);
        Ok::<_, ApiError>(lines)
    };
    // The themes that hold NPS back beyond noise, most points at stake first.
    let drivers = || async {
        let report = crate::ops::themes::themes(store, &viewer, &pairs(from, to, &[]), t.tag).await?;
        let lines: Vec<String> = report
            .drivers
            .iter()
            .filter(|d| {
                let x = &d.driver;
                x.rank.is_some()
                    && x.points_at_stake.is_some_and(|p| p > 0.0)
                    && x.difference.as_ref().is_some_and(|c| c.significant)
            })
            .take(3)
            .map(|d| {
                let x = &d.driver;
                t.fill(
                    "digest.driver",
                    &[
                        ("theme", &d.name),
                        ("with", &nps(&x.with)),
                        ("rest", &t.signed(x.without.nps.unwrap_or_default(), 0)),
                        ("stake", &t.number(x.points_at_stake.unwrap_or_default(), 1)),
                    ],
                )
            })
            .collect();
        let lines = if lines.is_empty() { vec![t.text("digest.no_driver").to_owned()] } else { lines };
        Ok::<_, ApiError>(Section { heading: t.text("digest.drivers").into(), lines, quotes: Vec::new() })
    };
    let mut sections = Vec::new();
    match &viewer.scope {
        Scope::All => {
            sections.push(Section {
                heading: t.text("digest.company").into(),
                lines: vec![nps(&overview.nps), change(&overview.nps_change)],
                quotes: Vec::new(),
            });
            // Teams whose NPS moved beyond noise against the period of the same length before.
            let now = insights::segments(store, &viewer, &pairs(from, to, &[("by", "team")])).await?;
            let before = insights::segments(store, &viewer, &pairs(2 * from - to, from, &[("by", "team")])).await?;
            let moved: Vec<String> = now
                .rows
                .iter()
                .filter_map(|row| {
                    let earlier = before.rows.iter().find(|b| b.key == row.key && row.key.is_some())?;
                    let change = NpsCounts::compare(&earlier.summary.counts, &row.summary.counts)?;
                    change.significant.then(|| format!("{}: {}", row.label, change.sentence_in(t.0)))
                })
                .collect();
            sections.push(Section {
                heading: t.text("digest.teams_moved").into(),
                lines: if moved.is_empty() { vec![t.text("digest.no_team_moved").into()] } else { moved },
                quotes: Vec::new(),
            });
            sections.push(drivers().await?);
            sections.push(Section {
                heading: t.text("digest.loop").into(),
                lines: loop_lines().await?,
                quotes: Vec::new(),
            });
        }
        Scope::Team(_) => {
            sections.push(Section {
                heading: t.text("digest.your_team").into(),
                lines: vec![nps(&overview.nps), change(&overview.nps_change)],
                quotes: Vec::new(),
            });
            let agents = insights::agents(store, &viewer, &pairs(from, to, &[])).await?;
            sections.push(Section {
                heading: t.text("digest.agents").into(),
                lines: agents.agents.iter().map(|a| format!("{}: {}", a.name, nps(&a.agent_nps))).collect(),
                quotes: Vec::new(),
            });
            sections.push(drivers().await?);
            sections.push(Section {
                heading: t.text("digest.team_cases").into(),
                lines: loop_lines().await?,
                quotes: Vec::new(),
            });
            sections.push(said("digest.detractors_said", "detractor").await?);
        }
        Scope::Agent { agent_id, .. } => {
            let now = insights::agents(store, &viewer, &pairs(from, to, &[])).await?;
            let before = insights::agents(store, &viewer, &pairs(2 * from - to, from, &[])).await?;
            let mine = |a: &insights::Agents| a.agents.iter().find(|r| &r.agent_id == agent_id).map(|r| r.agent_nps);
            let (mine_now, mine_before) = (mine(&now), mine(&before));
            let mut lines = vec![mine_now.as_ref().map_or_else(|| t.text("dash.no_answers").to_owned(), &nps)];
            lines.push(match now.your_rank {
                Some(rank) => t.fill2("digest.rank", "rank", rank, "of", now.ranked_agents),
                None => t.text("digest.not_ranked").into(),
            });
            let moved = mine_before.zip(mine_now).and_then(|(b, n)| NpsCounts::compare(&b.counts, &n.counts));
            lines.push(change(&moved));
            sections.push(Section { heading: t.text("digest.your_score").into(), lines, quotes: Vec::new() });
            sections.push(said("digest.promoters_said", "promoter").await?);
            sections.push(Section {
                heading: t.text("digest.your_cases").into(),
                lines: vec![cases_line().await?],
                quotes: Vec::new(),
            });
        }
        Scope::Unlinked => sections.push(Section {
            heading: t.text("digest.company").into(),
            lines: vec![nps(&overview.company), change(&overview.company_change)],
            quotes: Vec::new(),
        }),
    }
    // The subject names the days; the mail the moments (a schedule fires at, say, 08:00).
    let period = format!("{} – {}", t.time(from), t.time(to));
    let title = t.text("digest.title");
    let link = state.url("/dashboard/overview");
    let (html, text) = (
        Html { t, title, period: &period, sections: &sections, link: &link },
        Text { t, title, period: &period, sections: &sections, link: &link },
    );
    Ok(Digest {
        subject: t.fill1("digest.subject", "period", days(t, from, to)),
        html: html.render().map_err(|e| ApiError::unavailable(e.to_string()))?,
        text: text.render().map_err(|e| ApiError::unavailable(e.to_string()))?,
    })
}
