//! The aggregates behind the dashboards: answers counted per score, optionally per dimension.
//! Two daily rollups answer most questions without touching the answers themselves:
//! `score_rollup` per (survey, team, channel), and `facet_rollup` per agent (both questions)
//! and per bin of the call-centre figures; a long window reads both over calendar-month blocks
//! (`score_block_rollup`, `facet_block_rollup`) and days only at its ends. Whatever neither
//! holds (language, contact attributes, search …) reads the raw rows; a period cut mid-day (a
//! time zone's midnight) reads its whole days from the rollups and the cut days from
//! `score_hour_rollup` (the first question per survey, team and hour), `theme_hour_rollup`
//! (per survey, theme and hour) or, where neither can answer, from the rows: the shorter side of
//! a cut day, the longer being the day's daily count less it. Both paths give the same numbers:
//! the rollups are written in the same transaction as every answer and every score change, and
//! a test compares them with the rows.

use std::collections::BTreeMap;

use futures_util::{FutureExt, StreamExt, TryStreamExt};
use hark_core::insight;
use hark_core::report::MS_PER_DAY;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::filter::{Sql, json_text};
use crate::responses::{RESPONSE_COLUMNS, response_from};
use crate::{Dialect, ResponseFilter, Result, Store, tagging};

const MS_PER_HOUR: i64 = 3_600_000;

/// What answers are grouped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dimension {
    /// UTC day number (days since 1970-01-01), as text.
    Day,
    /// The period an answer falls in, given the periods' starts (ms, ascending): the start,
    /// as text. Periods of a time zone's calendar (its local midnights) are counted from the
    /// rows, exactly. The filter must start at or after the first start.
    Since(Vec<i64>),
    Survey,
    Team,
    Agent,
    Channel,
    Language,
    /// A contact attribute (`attr.plan`).
    Attribute(String),
    /// A property carried on the answer from its invitation or event (`property.handle_time_s`).
    Property(String),
    /// One of the call-centre figures (`insight::INTERACTION_FIGURES`) in the dashboard's
    /// bins: the key is the lower edge of the answer's bin; answers outside every bin are left out.
    FigureBin(String),
    /// The themes of an answer's comment, by key: an answer counts once under each theme it
    /// mentions, and under `*` once its comment has been read.
    Theme,
}

impl Dimension {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "day" => Dimension::Day,
            "survey" => Dimension::Survey,
            "team" => Dimension::Team,
            "agent" => Dimension::Agent,
            "channel" => Dimension::Channel,
            "language" => Dimension::Language,
            _ => {
                let (kind, key) = s.split_once('.')?;
                if !hark_core::contact::is_attribute_key(key) {
                    return None;
                }
                match kind {
                    "attr" => Dimension::Attribute(key.to_string()),
                    "property" => Dimension::Property(key.to_string()),
                    _ => return None,
                }
            }
        })
    }

    pub fn name(&self) -> String {
        match self {
            Dimension::Day => "day".into(),
            Dimension::Since(_) => "period".into(),
            Dimension::Survey => "survey".into(),
            Dimension::Team => "team".into(),
            Dimension::Agent => "agent".into(),
            Dimension::Channel => "channel".into(),
            Dimension::Language => "language".into(),
            Dimension::Attribute(k) => format!("attr.{k}"),
            Dimension::Property(k) => format!("property.{k}"),
            Dimension::FigureBin(k) => format!("bin.{k}"),
            Dimension::Theme => "theme".into(),
        }
    }

    /// This dimension's column in `rollup`, if it has one there.
    fn rollup_column(&self, rollup: Rollup) -> Option<&'static str> {
        match (self, rollup) {
            (Dimension::Day, Rollup::Hours) => Some("CAST(g.hour / 24 AS TEXT)"),
            (Dimension::Theme, Rollup::Hours) => Some("g.value"),
            (Dimension::Day, _) => Some("CAST(g.day AS TEXT)"),
            (Dimension::Survey, _) => Some("g.survey_id"),
            // The hourly rollup of themes has no team column: `hour_table` keeps such questions off it.
            (Dimension::Team, _) => Some("NULLIF(g.team_id, '')"),
            (Dimension::Channel, Rollup::Scores) => Some("g.channel"),
            (Dimension::Agent, Rollup::Facets) => Some("NULLIF(g.value, '')"),
            (Dimension::FigureBin(_) | Dimension::Theme, Rollup::Facets) => Some("g.value"),
            _ => None,
        }
    }

    /// The edges of a binned figure, or `None` for every other dimension.
    fn figure_edges(&self) -> Option<&'static [f64]> {
        match self {
            Dimension::FigureBin(key) => Some(insight::figure_edges(key).unwrap_or(&[])),
            _ => None,
        }
    }

    /// Appends the raw-row expression for this dimension.
    fn push_raw(&self, sql: &mut Sql, dialect: Dialect) {
        match self {
            Dimension::Day => _ = sql.push("CAST(r.created_at / 86400000 AS TEXT)"),
            Dimension::Since(starts) => push_since(sql, "r.created_at", starts),
            Dimension::Survey => _ = sql.push("r.survey_id"),
            Dimension::Team => _ = sql.push("r.team_id"),
            Dimension::Agent => _ = sql.push("r.agent_id"),
            Dimension::Channel => _ = sql.push("r.channel"),
            Dimension::Language => _ = sql.push("r.language"),
            Dimension::Attribute(key) => json_text(sql, dialect, "c.attributes", key),
            Dimension::Property(key) | Dimension::FigureBin(key) => json_text(sql, dialect, "r.context", key),
            // The stored tags (`|delivery|price|`), split into themes as they are counted.
            Dimension::Theme => _ = sql.push("r.themes"),
        }
    }
}

/// The start of the period `at` (a time in ms) falls in, as text: a CASE that halves the
/// starts at each step, so a year of days costs nine comparisons a row. The starts are Hark's
/// own numbers, written into the SQL as they are.
fn push_since(sql: &mut Sql, at: &str, starts: &[i64]) {
    match starts {
        [] => _ = sql.push("CAST(NULL AS TEXT)"),
        [only] => _ = sql.push(&format!("'{only}'")),
        _ => {
            let (before, after) = starts.split_at(starts.len() / 2);
            sql.push(&format!("CASE WHEN {at} < {} THEN ", after[0]));
            push_since(sql, at, before);
            sql.push(" ELSE ");
            push_since(sql, at, after);
            sql.push(" END");
        }
    }
}

/// Which 0–10 answer is counted: the main question, or the second question about the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreColumn {
    Score,
    AgentScore,
}

impl ScoreColumn {
    /// The column of `responses`, and the `question` of `facet_rollup`.
    fn as_str(self) -> &'static str {
        match self {
            ScoreColumn::Score => "score",
            ScoreColumn::AgentScore => "agent_score",
        }
    }
}

/// Answers per score (index = score, 0–10) for one value of the dimension (`None`: no value,
/// or no dimension asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreCounts {
    pub key: Option<String>,
    pub counts: [u64; 11],
}

/// Where an aggregate is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The rollup when it can answer, else the raw rows.
    Best,
    /// Always the raw rows (for checking the rollup).
    Raw,
}

/// A daily rollup a question can be answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rollup {
    /// `score_rollup`: the first question per survey, team and channel. With
    /// `score_block_rollup`, the same summed over UTC months, for long windows.
    Scores,
    /// `facet_rollup`: both questions per survey, team and agent; the first per figure bin.
    /// With `facet_block_rollup`, the same summed over UTC months, for long windows.
    Facets,
    /// `score_hour_rollup`: the first question per survey, team and UTC hour, for what a time
    /// zone's midnight cuts (the days at the ends of a window, the days a period starts in).
    /// With `theme_hour_rollup`, the same per theme, for questions by theme or of one theme.
    Hours,
}

/// Invitations delivered and answered on one channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ChannelRate {
    pub channel: String,
    pub delivered: u64,
    pub answered: u64,
}

impl ResponseFilter {
    /// The rollup that holds everything this question needs, if one does.
    pub fn rollup_for(&self, by: Option<&Dimension>, column: ScoreColumn) -> Option<Rollup> {
        let whole = |ms: Option<i64>, unit: i64| ms.is_none_or(|ms| ms.rem_euclid(unit) == 0);
        if !(self.kept_in_rollups() && self.segment.is_none() && self.score.is_none()) {
            return None;
        }
        let has = |rollup| by.is_none_or(|d| d.rollup_column(rollup).is_some());
        let whole_days = whole(self.from_ms, MS_PER_DAY) && whole(self.to_ms, MS_PER_DAY);
        // A theme's answers are kept in the facet and hourly rollups, not the score rollup.
        let unthemed = self.theme.is_none();
        if whole_days && unthemed && column == ScoreColumn::Score && self.agent_id.is_none() && has(Rollup::Scores) {
            return Some(Rollup::Scores);
        }
        if whole_days && self.channel.is_none() && has(Rollup::Facets) && self.facet(by, column).is_some() {
            return Some(Rollup::Facets);
        }
        // A time zone's midnights: whole hours (most zones), the first question, per survey and
        // team (themes per survey only: see `hour_table`).
        let by_hours = match by {
            Some(Dimension::Since(starts)) => starts.iter().all(|s| whole(Some(*s), MS_PER_HOUR)),
            _ => has(Rollup::Hours),
        };
        (by_hours
            && self.hour_table(by).is_some()
            && whole(self.from_ms, MS_PER_HOUR)
            && whole(self.to_ms, MS_PER_HOUR)
            && column == ScoreColumn::Score
            && self.agent_id.is_none()
            && self.channel.is_none())
        .then_some(Rollup::Hours)
    }

    /// Whether the rollups keep answers apart by everything this filter narrows to, but its
    /// score and segment (those are read off the counts per score).
    pub(crate) fn kept_in_rollups(&self) -> bool {
        self.contact_id.is_none() && self.language.is_none() && self.search.is_none() && self.attributes.is_empty()
    }

    /// The facet of the facet rollups that holds this question, and the value it is narrowed
    /// to: a figure's bins, the themes, one theme's answers, or the agents (one agent's).
    fn facet(&self, by: Option<&Dimension>, column: ScoreColumn) -> Option<(String, Option<&str>)> {
        // Bins and themes are kept for the first question, over all agents.
        let first_question = column == ScoreColumn::Score && self.agent_id.is_none();
        match (by, self.theme.as_deref()) {
            (Some(Dimension::FigureBin(key)), None) if first_question => Some((format!("bin.{key}"), None)),
            (Some(Dimension::Theme), None) if first_question => Some((THEME_FACET.into(), None)),
            // Bins and themes are not kept per theme, nor agents.
            (Some(Dimension::FigureBin(_) | Dimension::Theme | Dimension::Agent), Some(_)) => None,
            (Some(Dimension::FigureBin(_) | Dimension::Theme), None) => None,
            (_, Some(theme)) => first_question.then(|| (THEME_FACET.into(), Some(theme))),
            (_, None) => Some((AGENT_FACET.into(), self.agent_id.as_deref())),
        }
    }

    /// The hourly rollup that holds this question, and the theme it is narrowed to: the
    /// themes' for a question by theme or of one theme's answers, else the scores'.
    fn hour_table(&self, by: Option<&Dimension>) -> Option<(&'static str, Option<&str>)> {
        let (table, theme) = match (by, self.theme.as_deref()) {
            (Some(Dimension::Theme), None) => (THEME_HOURS, None),
            (Some(Dimension::Theme), Some(_)) => return None,
            (_, Some(theme)) => (THEME_HOURS, Some(theme)),
            (_, None) => (SCORE_HOURS, None),
        };
        // The scores' hours are kept per team, the themes' per survey only (per team, they
        // would hold about a row per mention).
        let per_team = self.team_id.is_some() || by == Some(&Dimension::Team);
        (table == SCORE_HOURS || !per_team).then_some((table, theme))
    }

    /// For a piece of one UTC day that no rollup holds, running from the day's start or to
    /// its end: the day, the moment that parts it, and the piece's side (0 before, 1 after).
    fn day_side(&self, by: Option<&Dimension>, column: ScoreColumn) -> Option<(i64, i64, usize)> {
        let (from, to) = (self.from_ms?, self.to_ms?);
        let day = from.div_euclid(MS_PER_DAY);
        let piece = if from == day * MS_PER_DAY {
            Some((day, to, 0))
        } else {
            (to == (day + 1) * MS_PER_DAY).then_some((day, from, 1))
        };
        piece.filter(|_| self.rollup_for(by, column).is_none())
    }

    /// True when a rollup holds everything this question needs.
    pub fn rollup_covers(&self, by: Option<&Dimension>, column: ScoreColumn) -> bool {
        self.rollup_for(by, column).is_some()
    }
}

/// A question the daily rollups would answer but for bounds or period starts that fall inside
/// UTC days (a time zone's midnights): its whole days from the daily rollups, the days cut
/// from the hourly one or the rows.
struct Split {
    /// The whole UTC days the question covers, for the rollups.
    core: ResponseFilter,
    /// The days a bound or a period start cuts, each for the hourly rollup or the rows.
    cut: Vec<ResponseFilter>,
    /// Their day numbers: left out of the core when it is read per day.
    cut_days: std::collections::BTreeSet<i64>,
}

/// Periods at least this long on average (in whole days) read their whole days as periods,
/// each from the blocks (a month: one block, less or plus a day), instead of every day: a
/// year's Overview read 365 days of `score_rollup` (about 130,000 rows at 10 million answers)
/// for its months. Days and weeks read every day, as a week holds no whole month.
const LONG_PERIOD_DAYS: i64 = 21;

/// Reads of many periods run this many at a time.
const READS_AT_ONCE: usize = 4;

impl Split {
    /// `None` when the question is better read at once: a daily rollup holds it whole, or it
    /// is unbounded, shorter than a whole day or cut on most of its days.
    fn of(filter: &ResponseFilter, by: Option<&Dimension>, column: ScoreColumn) -> Option<Split> {
        // Whole days from the daily rollups, when they can, beat every hour from the hourly one.
        if filter.rollup_for(by, column).is_some_and(|r| r != Rollup::Hours) {
            return None;
        }
        let (from, to) = (filter.from_ms?, filter.to_ms?);
        let (first, end) = ((from + MS_PER_DAY - 1).div_euclid(MS_PER_DAY), to.div_euclid(MS_PER_DAY));
        let core =
            ResponseFilter { from_ms: Some(first * MS_PER_DAY), to_ms: Some(end * MS_PER_DAY), ..filter.clone() };
        if first >= end || core.rollup_for(core_dimension(by), column).is_none() {
            return None;
        }
        let starts = match by {
            Some(Dimension::Since(starts)) => starts.as_slice(),
            _ => &[],
        };
        let cuts = [from, to].into_iter().chain(starts.iter().copied().filter(|s| (from..to).contains(s)));
        let cut_days: std::collections::BTreeSet<i64> =
            cuts.filter(|c| c.rem_euclid(MS_PER_DAY) != 0).map(|c| c.div_euclid(MS_PER_DAY)).collect();
        // Periods of a day each cut every day: one read (of the hours, or the rows) beats one per day.
        if cut_days.len() as i64 * 2 > end - first {
            return None;
        }
        let cut = cut_days
            .iter()
            .map(|d| (from.max(d * MS_PER_DAY), to.min((d + 1) * MS_PER_DAY)))
            .filter(|(a, b)| a < b)
            .map(|(a, b)| ResponseFilter { from_ms: Some(a), to_ms: Some(b), ..filter.clone() })
            .collect();
        Some(Split { core, cut, cut_days })
    }

    /// The core's whole days between the period starts (the cut days left out), each with the
    /// start of the period it counts in; `None` when the periods are short.
    fn period_days(&self, starts: &[i64]) -> Option<Vec<(i64, ResponseFilter)>> {
        let (first, end) = (self.core.from_ms?.div_euclid(MS_PER_DAY), self.core.to_ms?.div_euclid(MS_PER_DAY));
        let mut stretches = Vec::new();
        let mut from = first;
        for start in starts.iter().filter(|s| (first * MS_PER_DAY + 1..end * MS_PER_DAY).contains(*s)) {
            // A start at midnight ends a stretch there; one inside a day cuts that day out.
            let (cut, after) = (start.div_euclid(MS_PER_DAY), (start + MS_PER_DAY - 1).div_euclid(MS_PER_DAY));
            if from < cut {
                stretches.push((from, cut));
            }
            from = from.max(after);
        }
        if from < end {
            stretches.push((from, end));
        }
        if (end - first) < LONG_PERIOD_DAYS * stretches.len() as i64 {
            return None;
        }
        let days = |from: i64, to: i64| ResponseFilter {
            from_ms: Some(from * MS_PER_DAY),
            to_ms: Some(to * MS_PER_DAY),
            ..self.core.clone()
        };
        stretches.into_iter().map(|(from, to)| Some((period_of(starts, from * MS_PER_DAY)?, days(from, to)))).collect()
    }
}

/// The start of the period a moment falls in; before the first, the first.
fn period_of(starts: &[i64], at: i64) -> Option<i64> {
    starts.get(starts.partition_point(|s| *s <= at).max(1) - 1).copied()
}

/// What the core of a [`Split`] is read by: days, for periods; else the question's own.
fn core_dimension(by: Option<&Dimension>) -> Option<&Dimension> {
    match by {
        Some(Dimension::Since(_)) => Some(&Dimension::Day),
        other => other,
    }
}

impl Store {
    /// Answers per score, per value of `by` (or in one group), for the filtered responses.
    pub async fn score_counts(
        &self,
        filter: &ResponseFilter,
        by: Option<&Dimension>,
        column: ScoreColumn,
        source: Source,
    ) -> Result<Vec<ScoreCounts>> {
        let split = (source == Source::Best).then(|| Split::of(filter, by, column)).flatten();
        let groups = match split {
            None => self.groups(filter, by, column, source).await?,
            Some(split) => {
                let mut groups = Groups::new();
                let mut add = |key: Option<String>, counts: [u64; 11]| add_counts(&mut groups, key, counts);
                // The whole days and the cut ones are read at once.
                let cut_reads = split.cut.iter().map(|cut| self.cut_groups(cut, by, column));
                let long_periods = match by {
                    Some(Dimension::Since(starts)) => split.period_days(starts),
                    _ => None,
                };
                let core = async {
                    match &long_periods {
                        Some(periods) => self.periods_from_blocks(periods, column).await,
                        None => self.groups(&split.core, core_dimension(by), column, source).await,
                    }
                };
                let (core, cuts) = tokio::try_join!(core, futures_util::future::try_join_all(cut_reads))?;
                for (key, counts) in core {
                    match by {
                        // Read per period already.
                        Some(Dimension::Since(_)) if long_periods.is_some() => add(key, counts),
                        // A whole day in the period it falls in; a cut day is read from the rows.
                        Some(Dimension::Since(starts)) => {
                            let Some(day) = key.as_deref().and_then(|k| k.parse::<i64>().ok()) else { continue };
                            let at = day * MS_PER_DAY;
                            if split.cut_days.contains(&day) {
                                continue;
                            }
                            add(period_of(starts, at).map(|s| s.to_string()), counts);
                        }
                        _ => add(key, counts),
                    }
                }
                for (key, counts) in cuts.into_iter().flatten() {
                    add(key, counts);
                }
                groups
            }
        };
        Ok(listed(groups))
    }

    /// [`score_counts`](Self::score_counts) by one read: the rollup when it answers, else the rows.
    async fn groups(
        &self,
        filter: &ResponseFilter,
        by: Option<&Dimension>,
        column: ScoreColumn,
        source: Source,
    ) -> Result<Groups> {
        let rollup = if source == Source::Best { filter.rollup_for(by, column) } else { None };
        let queries = match rollup {
            Some(rollup) => rollup_queries(rollup, filter, by, column),
            None => vec![self.raw_query(filter, by, column)],
        };
        let mut groups = Groups::new();
        for row in self.fetch_all_at_once(&queries).await? {
            count_row(&mut groups, &row, by, rollup.is_none())?;
        }
        Ok(groups)
    }

    /// A piece of a day a time zone's midnight cuts (it runs from the day's start or to its
    /// end): from the hourly rollup when it holds the question, else its side of the day.
    async fn cut_groups(&self, cut: &ResponseFilter, by: Option<&Dimension>, column: ScoreColumn) -> Result<Groups> {
        if let Some((day, at, side)) = cut.day_side(by, column)
            && let Some(sides) = self.day_sides(cut, day, at, by, column).await?
        {
            return Ok(sides.into_iter().nth(side).unwrap_or_default());
        }
        self.groups(cut, by, column, Source::Best).await
    }

    /// [`score_counts`](Self::score_counts) for each of `periods` ((start, end) in ms, each
    /// ending where the next starts) within the filter, in their order: a day two periods
    /// share, parted by a time zone's midnight, is read once for both (`day_sides`). `by` is
    /// not a period dimension.
    pub async fn score_counts_per_period(
        &self,
        filter: &ResponseFilter,
        by: Option<&Dimension>,
        column: ScoreColumn,
        periods: &[(i64, i64)],
    ) -> Result<Vec<Vec<ScoreCounts>>> {
        // What each period reads: all of it, or its whole days and the pieces of its cut days,
        // gathered by the moment that parts their day.
        let mut whole = Vec::new();
        let mut parted = BTreeMap::<(i64, i64), Vec<(usize, usize, ResponseFilter)>>::new();
        for (period, (start, end)) in periods.iter().enumerate() {
            let window = ResponseFilter {
                from_ms: Some(filter.from_ms.map_or(*start, |from| from.max(*start))),
                to_ms: Some(filter.to_ms.map_or(*end, |to| to.min(*end))),
                ..filter.clone()
            };
            let Some(split) = Split::of(&window, by, column) else {
                whole.push((period, window));
                continue;
            };
            whole.push((period, split.core));
            for cut in split.cut {
                match cut.day_side(by, column) {
                    Some((day, at, side)) => parted.entry((day, at)).or_default().push((period, side, cut)),
                    None => whole.push((period, cut)),
                }
            }
        }
        let whole_reads = whole.into_iter().map(|(period, part)| {
            async move {
                    Ok::<_, crate::StoreError>(vec![(period, self.groups(&part, by, column, Source::Best).await?)])
                }
                .boxed()
        });
        let side_reads = parted.into_iter().map(|((day, at), pieces)| {
            async move {
                let Some(sides) = self.day_sides(&pieces[0].2, day, at, by, column).await? else {
                    let mut read = Vec::new();
                    for (period, _, piece) in pieces {
                        read.push((period, self.groups(&piece, by, column, Source::Best).await?));
                    }
                    return Ok(read);
                };
                Ok(pieces.into_iter().map(|(period, side, _)| (period, sides[side].clone())).collect())
            }
            .boxed()
        });
        // Boxed into a list: a lazy iterator of futures over borrowed values is not `Send`.
        let reads: Vec<_> = whole_reads.chain(side_reads).collect();
        // A few at a time: a year of days is hundreds of reads, which must not hold every connection.
        let reads: Vec<Vec<(usize, Groups)>> =
            futures_util::stream::iter(reads).buffered(READS_AT_ONCE).try_collect().await?;
        let mut per_period = vec![Groups::new(); periods.len()];
        for (period, groups) in reads.into_iter().flatten() {
            for (key, counts) in groups {
                add_counts(&mut per_period[period], key, counts);
            }
        }
        Ok(per_period.into_iter().map(listed).collect())
    }

    /// The two sides of UTC day `day` that the moment `at` parts, for a question no hourly
    /// rollup holds: the shorter side from the rows, the longer as the whole day from a daily
    /// rollup less the shorter, in one statement (one snapshot). So a team's themes in Seoul
    /// (its days part at 15:00 UTC) read 9 hours of answers at each cut, not 15 or 24.
    /// `None` when no rollup holds the whole day.
    async fn day_sides(
        &self,
        filter: &ResponseFilter,
        day: i64,
        at: i64,
        by: Option<&Dimension>,
        column: ScoreColumn,
    ) -> Result<Option<[Groups; 2]>> {
        let (start, end) = (day * MS_PER_DAY, (day + 1) * MS_PER_DAY);
        let within = |from: i64, to: i64| ResponseFilter { from_ms: Some(from), to_ms: Some(to), ..filter.clone() };
        let whole = within(start, end);
        let Some(rollup) = whole.rollup_for(by, column) else { return Ok(None) };
        let before_is_shorter = at - start <= end - at;
        let shorter = if before_is_shorter { within(start, at) } else { within(at, end) };
        let mut sql = Sql::new("SELECT CAST(1 AS BIGINT) AS whole, d.k AS k, d.score AS score, d.n AS n FROM (");
        sql.append(summed(rollup_queries(rollup, &whole, by, column)));
        sql.push(") d UNION ALL SELECT CAST(0 AS BIGINT) AS whole, r.k AS k, r.score AS score, r.n AS n FROM (");
        sql.append(self.raw_query(&shorter, by, column)).push(") r");
        let (mut longer, mut shorter) = (Groups::new(), Groups::new());
        for row in sql.query(self.dialect).fetch_all(&self.pool).await? {
            let from_rollup = row.try_get::<i64, _>("whole")? == 1;
            count_row(if from_rollup { &mut longer } else { &mut shorter }, &row, by, !from_rollup)?;
        }
        for (key, counts) in &shorter {
            let sum = longer.entry(key.clone()).or_default();
            for (s, c) in sum.iter_mut().zip(counts) {
                *s = s.checked_sub(*c).ok_or_else(|| {
                    crate::StoreError::Corrupt("a day's rollup holds fewer answers than its rows".into())
                })?;
            }
        }
        longer.retain(|_, counts| counts.iter().any(|c| *c > 0));
        Ok(Some(if before_is_shorter { [shorter, longer] } else { [longer, shorter] }))
    }

    /// Answers per score of each stretch of whole days, keyed by its period's start: each
    /// stretch read from the blocks and days that cover it, in one statement (one snapshot),
    /// and up to 100 stretches a statement (SQLite allows 500 parts of a UNION).
    async fn periods_from_blocks(&self, periods: &[(i64, ResponseFilter)], column: ScoreColumn) -> Result<Groups> {
        let mut reads = Vec::new();
        for (start, days) in periods {
            let rollup = days.rollup_for(None, column).expect("a split's whole days are in the daily rollups");
            for read in rollup_queries(rollup, days, None, column) {
                // The start is Hark's own number, written into the SQL as it is.
                let mut keyed =
                    Sql::new(&format!("SELECT CAST('{start}' AS TEXT) AS k, p.score AS score, p.n AS n FROM ("));
                keyed.append(read).push(") p");
                reads.push(keyed);
            }
        }
        let mut statements = Vec::new();
        while !reads.is_empty() {
            let rest = reads.split_off(reads.len().min(100));
            statements.push(summed(std::mem::replace(&mut reads, rest)));
        }
        let mut groups = Groups::new();
        for row in self.fetch_all_at_once(&statements).await? {
            let Some((i, n)) = score_and_count(&row)? else { continue };
            groups.entry(row.try_get("k")?).or_default()[i] += n;
        }
        Ok(groups)
    }

    fn raw_query(&self, filter: &ResponseFilter, by: Option<&Dimension>, column: ScoreColumn) -> Sql {
        let score = format!("r.{}", column.as_str());
        let score = score.as_str();
        let mut sql = Sql::new("SELECT ");
        match by {
            Some(d) => d.push_raw(&mut sql, self.dialect),
            None => _ = sql.push("CAST(NULL AS TEXT)"),
        }
        sql.push(" AS k, ").push(score).push(" AS score, COUNT(*) AS n");
        sql.push(ResponseFilter::FROM).push(" WHERE ").push(score).push(" IS NOT NULL");
        filter.push_conditions(&mut sql, self.dialect);
        sql.push(" GROUP BY 1, 2");
        sql
    }

    /// Counts every answer (of one survey, or all) into every rollup afresh, in one
    /// transaction and with the same code that keeps them up to date.
    pub async fn rebuild_rollups(&self, survey_id: Option<&str>) -> Result<()> {
        const PAGE: i64 = 50_000;
        let mut tx = self.begin_write().await?;
        let tables =
            [SCORE_TABLES.days, SCORE_TABLES.blocks, SCORE_HOURS, THEME_HOURS, FACET_TABLES.days, FACET_TABLES.blocks];
        for table in tables {
            let mut sql = Sql::new(&format!("DELETE FROM {table} WHERE 1 = 1"));
            sql.and_eq("survey_id", survey_id);
            sql.query(self.dialect).execute(&mut *tx).await?;
        }
        // Paged along the primary key, which every page seeks into directly (a survey filter
        // would lead SQLite to its survey index and a sort of the rest on every page).
        // Summed in memory (one entry per rollup row, however many answers) and written once,
        // in key order: page by page, the upserts would land all over both tables.
        let mut all = RollupChanges::default();
        let mut after: Option<String> = None;
        loop {
            let mut sql = Sql::new(&format!("SELECT {RESPONSE_COLUMNS} FROM responses r WHERE 1 = 1"));
            if let Some(id) = &after {
                sql.push(" AND r.id > ").text(id);
            }
            sql.push(" ORDER BY r.id LIMIT ").int(PAGE);
            let rows = sql.query(self.dialect).fetch_all(&mut *tx).await?;
            let page = rows.iter().map(response_from).collect::<Result<Vec<_>>>()?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for r in page.iter().filter(|r| survey_id.is_none_or(|s| s == r.survey_id)) {
                all.add(&Counted::of(r), 1);
            }
        }
        all.write(&mut tx, self.dialect, Stripe::SHARED).await?;
        sqlx::query("DELETE FROM pending_rebuilds WHERE name = 'rollups'").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts every answer into `theme_hour_rollup` afresh, for databases that held answers
    /// before it existed (migration 0019): the answers grouped in the database by hour, survey,
    /// score and stored tags, each group counted as the writer counts its answers. A full
    /// rebuild parses every answer and holds every rollup row in memory: for a million
    /// answers it took 53 s and 900 MB here, this 8 s and 180 MB.
    pub(crate) async fn rebuild_theme_hours(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM theme_hour_rollup").execute(&mut *tx).await?;
        // Floor division, as the writer's: hours before 1970 are negative.
        let groups = "SELECT CASE WHEN created_at >= 0 THEN created_at / 3600000 ELSE (created_at - 3599999) / 3600000 END \
             AS hour, survey_id, score, themes, CAST(CASE WHEN sentiment IS NULL THEN 0 ELSE 1 END AS BIGINT) AS commented, \
             COUNT(*) AS n FROM responses WHERE score IS NOT NULL GROUP BY 1, 2, 3, 4, 5";
        let mut all = RollupChanges::default();
        let mut rows = sqlx::query(groups).fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            let hour: i64 = row.try_get("hour")?;
            let counted = Counted {
                hour,
                day: hour.div_euclid(24),
                survey_id: row.try_get("survey_id")?,
                team_id: String::new(),
                channel: String::new(),
                agent_id: String::new(),
                score: row.try_get("score")?,
                agent_score: None,
                bins: Vec::new(),
                themes: tagging::theme_keys(row.try_get::<Option<String>, _>("themes")?.as_deref()),
                commented: row.try_get::<i64, _>("commented")? == 1,
            };
            all.add(&counted, row.try_get("n")?);
        }
        drop(rows);
        let theme_hours = RollupChanges { theme_hours: all.theme_hours, ..Default::default() };
        theme_hours.write(&mut tx, self.dialect, Stripe::SHARED).await?;
        sqlx::query("DELETE FROM pending_rebuilds WHERE name = 'theme_hours'").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sums the daily rollups into their blocks afresh, for databases whose blocks were
    /// counted another way (migration 0021: 32-day blocks became months): in the database, a
    /// block at a time, over each daily table's range of days; each block row keeps its stripe.
    pub(crate) async fn rebuild_blocks(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for (tables, columns) in [(SCORE_TABLES, ScoreKey::COLUMNS), (FACET_TABLES, FacetKey::COLUMNS)] {
            let Blocked { days, blocks } = tables;
            Sql::new(&format!("DELETE FROM {blocks}")).query(self.dialect).execute(&mut *tx).await?;
            let range = Sql::new(&format!("SELECT MIN(day) AS first, MAX(day) AS last FROM {days}"));
            let row = range.query(self.dialect).fetch_one(&mut *tx).await?;
            let (Some(first), Some(last)) = (row.try_get::<Option<i64>, _>("first")?, row.try_get("last")?) else {
                continue;
            };
            for block in block_of(first)..=block_of(last) {
                let mut sql = Sql::new(&format!("INSERT INTO {blocks} (block, {columns}, stripe, n) SELECT "));
                sql.int(block).push(&format!(", {columns}, stripe, SUM(n) FROM {days} WHERE day >= "));
                sql.int(block_start(block)).push(" AND day < ").int(block_start(block + 1));
                sql.push(&format!(" GROUP BY {columns}, stripe HAVING SUM(n) <> 0"));
                sql.query(self.dialect).execute(&mut *tx).await?;
            }
        }
        sqlx::query("DELETE FROM pending_rebuilds WHERE name = 'blocks'").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Invitations delivered (sent by mail or issued as links) in the period and how many of
    /// them were answered, per channel.
    pub async fn response_rates(&self, filter: &ResponseFilter) -> Result<Vec<ChannelRate>> {
        let mut sql = Sql::new(
            "SELECT i.channel AS channel, COUNT(*) AS delivered, \
             CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM responses r WHERE r.invitation_id = i.id) THEN 1 ELSE 0 END) AS BIGINT) \
             AS answered FROM invitations i JOIN surveys s ON s.id = i.survey_id \
             WHERE i.status IN ('sent', 'issued')",
        );
        sql.and_eq("i.survey_id", filter.survey_id.as_deref())
            .and_eq("s.kind", filter.survey_kind.map(|k| k.as_str()))
            .and_eq("i.team_id", filter.team_id.as_deref())
            .and_eq("i.agent_id", filter.agent_id.as_deref())
            .and_eq("i.channel", filter.channel.as_deref());
        if let Some(from) = filter.from_ms {
            sql.push(" AND i.created_at >= ").int(from);
        }
        if let Some(to) = filter.to_ms {
            sql.push(" AND i.created_at < ").int(to);
        }
        sql.push(" GROUP BY i.channel ORDER BY i.channel");
        let rows = sql.query(self.dialect).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(ChannelRate {
                    channel: row.try_get("channel")?,
                    delivered: row.try_get::<i64, _>("delivered")? as u64,
                    answered: row.try_get::<i64, _>("answered")? as u64,
                })
            })
            .collect()
    }
}

/// The block of the block rollups a day is counted in: its UTC calendar month, so that a
/// month of a trend (the pages' default) reads one block, not a month of days.
fn block_of(day: i64) -> i64 {
    hark_core::report::month_of_day(day)
}

/// A block's first day.
fn block_start(block: i64) -> i64 {
    hark_core::report::first_day_of_month(block)
}

/// One rollup table read over a range of its time column (days or blocks; `None`: unbounded),
/// its counts added (`sign` 1) or, for the days of a block outside the window, taken away (−1).
#[derive(Debug, PartialEq)]
struct Part {
    table: &'static str,
    unit: &'static str,
    from: Option<i64>,
    to: Option<i64>,
    sign: i64,
}

impl Part {
    fn days(table: &'static str, from: Option<i64>, to: Option<i64>) -> Self {
        Part { table, unit: "day", from, to, sign: 1 }
    }

    fn blocks(tables: Blocked, from: Option<i64>, to: Option<i64>) -> Self {
        Part { table: tables.blocks, unit: "block", from, to, sign: 1 }
    }

    /// The part's answers per group, as it counts them.
    fn sum(&self) -> &'static str {
        if self.sign < 0 { "-CAST(SUM(g.n) AS BIGINT)" } else { "CAST(SUM(g.n) AS BIGINT)" }
    }

    /// Days of `table` from `from` to `to`, added when `from < to`, else `to..from` taken
    /// away; none when they meet.
    fn days_between(table: &'static str, from: i64, to: i64) -> Option<Self> {
        match from.cmp(&to) {
            std::cmp::Ordering::Less => Some(Part::days(table, Some(from), Some(to))),
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(Part { sign: -1, ..Part::days(table, Some(to), Some(from)) }),
        }
    }
}

/// A daily rollup and the same summed over blocks (months), kept in step with it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Blocked {
    days: &'static str,
    blocks: &'static str,
}

const SCORE_TABLES: Blocked = Blocked { days: "score_rollup", blocks: "score_block_rollup" };
const FACET_TABLES: Blocked = Blocked { days: "facet_rollup", blocks: "facet_block_rollup" };
const SCORE_HOURS: &str = "score_hour_rollup";
const THEME_HOURS: &str = "theme_hour_rollup";

/// The queries whose groups, added up, answer the question from a rollup.
fn rollup_queries(rollup: Rollup, filter: &ResponseFilter, by: Option<&Dimension>, column: ScoreColumn) -> Vec<Sql> {
    let day = |ms: Option<i64>| ms.map(|ms| ms.div_euclid(MS_PER_DAY));
    let (from, to) = (day(filter.from_ms), day(filter.to_ms));
    let hour = |ms: Option<i64>| ms.map(|ms| ms.div_euclid(MS_PER_HOUR));
    let tables = match rollup {
        Rollup::Hours => {
            let (table, _) =
                filter.hour_table(by).expect("the hourly rollups are read only when they hold the question");
            let part = Part { unit: "hour", ..Part::days(table, hour(filter.from_ms), hour(filter.to_ms)) };
            return vec![rollup_query(rollup, filter, by, column, &part)];
        }
        Rollup::Scores => SCORE_TABLES,
        Rollup::Facets => FACET_TABLES,
    };
    let parts = match by {
        Some(Dimension::Day) => vec![Part::days(tables.days, from, to)],
        _ => block_parts(tables, from, to, today()),
    };
    vec![summed(parts.iter().map(|part| rollup_query(rollup, filter, by, column, part)).collect())]
}

/// Today's number of days since 1970 (UTC).
fn today() -> i64 {
    jiff::Timestamp::now().as_millisecond().div_euclid(MS_PER_DAY)
}

/// A window of days over a blocked rollup, read in as few rows as it can: whole blocks from
/// the block table and days from the daily one. At each end the window either stops at
/// the block edge inside it and adds the days beyond, or takes the block that holds the end
/// and subtracts its days outside: whichever reads fewer days. Days after `today` hold no
/// answers, so a window up to today costs nothing for the rest of this block.
fn block_parts(tables: Blocked, from: Option<i64>, to: Option<i64>, today: i64) -> Vec<Part> {
    let past_days = |a: i64, b: i64| (b.min(today + 1) - a).max(0);
    let days_read = |a: i64, b: i64| if a < b { past_days(a, b) } else { past_days(b, a) };
    let inward = |day: i64, up: bool| block_start(block_of(day) + i64::from(up));
    let edges = |day: Option<i64>, first: bool| -> Vec<Option<i64>> {
        match day {
            None => vec![None],
            Some(d) if block_start(block_of(d)) == d => vec![Some(d)],
            // The first block edge inside the window, and the one outside it.
            Some(d) => vec![Some(inward(d, first)), Some(inward(d, !first))],
        }
    };
    // Every pair of block edges that brackets blocks, and what each reads: one row set per
    // block (about as many rows as a day's) and the days from each edge to the window's.
    let mut best: Option<(i64, Vec<Part>)> = None;
    let mut consider = |cost: i64, parts: Vec<Part>| {
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, parts));
        }
    };
    if let (Some(f), Some(t)) = (from, to) {
        // An empty window reads nothing (a reversed one must not read days taken away).
        if f >= t {
            return vec![Part::days(tables.days, from, to)];
        }
        consider(past_days(f, t), vec![Part::days(tables.days, from, to)]);
    }
    for start in edges(from, true) {
        for end in edges(to, false) {
            let (first, last) = (start.map(block_of), end.map(block_of));
            let blocks = match (first, last) {
                (Some(a), Some(b)) if a >= b => continue,
                (Some(a), Some(b)) => b - a,
                // Unbounded: only the difference between the edges' choices counts.
                (None, Some(b)) => b,
                (Some(a), None) => -a,
                (None, None) => 0,
            };
            let mut parts = vec![Part::blocks(tables, first, last)];
            let mut cost = blocks;
            // Days before the first edge are added, days after it taken away; the opposite
            // at the last edge.
            for (a, b) in [(from, start), (end, to)] {
                if let (Some(a), Some(b)) = (a, b) {
                    cost += days_read(a, b);
                    parts.extend(Part::days_between(tables.days, a, b));
                }
            }
            consider(cost, parts);
        }
    }
    best.map(|(_, parts)| parts).unwrap_or_default()
}

/// A group's score (0–10; `None` for any other) and its answers: below zero only if a block
/// and its days disagree.
fn score_and_count(row: &sqlx::any::AnyRow) -> Result<Option<(usize, u64)>> {
    let score: i64 = row.try_get("score")?;
    let n: i64 = row.try_get("n")?;
    let n = u64::try_from(n).map_err(|_| crate::StoreError::Corrupt(format!("a rollup group of {n} answers")))?;
    Ok(usize::try_from(score).ok().filter(|i| *i <= 10).map(|i| (i, n)))
}

/// Answers per score, per group.
type Groups = BTreeMap<Option<String>, [u64; 11]>;

/// Adds `counts` to the group `key`.
fn add_counts(groups: &mut Groups, key: Option<String>, counts: [u64; 11]) {
    let sum = groups.entry(key).or_default();
    sum.iter_mut().zip(counts).for_each(|(s, c)| *s += c);
}

/// The groups as a list, in key order.
fn listed(groups: Groups) -> Vec<ScoreCounts> {
    groups.into_iter().map(|(key, counts)| ScoreCounts { key, counts }).collect()
}

/// Adds a row of a rollup's or the rows' groups. The raw rows hold a figure's values and a
/// comment's tags: bins and themes are worked out here.
fn count_row(groups: &mut Groups, row: &sqlx::any::AnyRow, by: Option<&Dimension>, raw: bool) -> Result<()> {
    let Some((i, n)) = score_and_count(row)? else { return Ok(()) };
    let key: Option<String> = row.try_get("k")?;
    let keys = match by.filter(|_| raw) {
        Some(Dimension::FigureBin(_)) => {
            let edges = by.and_then(Dimension::figure_edges).unwrap_or(&[]);
            key.as_deref().and_then(|v| figure_bin(v, edges)).map(Some).into_iter().collect()
        }
        // A comment not read yet has no tags and counts nowhere.
        Some(Dimension::Theme) => key
            .iter()
            .flat_map(|tags| tagging::theme_keys(Some(tags)))
            .chain(key.as_ref().map(|_| COMMENTED.to_owned()))
            .map(Some)
            .collect(),
        _ => vec![key],
    };
    for key in keys {
        groups.entry(key).or_default()[i] += n;
    }
    Ok(())
}

/// One statement that adds up its parts' groups, so that every part reads the same snapshot:
/// a block and the days taken from it must agree.
fn summed(parts: Vec<Sql>) -> Sql {
    let mut parts = parts.into_iter();
    match (parts.next(), parts.len()) {
        (Some(only), 0) => only,
        (first, _) => {
            let mut sql = Sql::new("SELECT k, score, CAST(SUM(n) AS BIGINT) AS n FROM (");
            for (i, part) in first.into_iter().chain(parts).enumerate() {
                sql.push(if i == 0 { "" } else { " UNION ALL " }).append(part);
            }
            sql.push(") parts GROUP BY k, score HAVING SUM(n) <> 0");
            sql
        }
    }
}

fn rollup_query(
    rollup: Rollup,
    filter: &ResponseFilter,
    by: Option<&Dimension>,
    column: ScoreColumn,
    part: &Part,
) -> Sql {
    let Part { table, unit, .. } = part;
    let mut sql = Sql::new("SELECT ");
    match by {
        Some(Dimension::Since(starts)) if rollup == Rollup::Hours => {
            push_since(&mut sql, &format!("g.hour * {MS_PER_HOUR}"), starts)
        }
        _ => _ = sql.push(by.and_then(|d| d.rollup_column(rollup)).unwrap_or("CAST(NULL AS TEXT)")),
    }
    sql.push(&format!(" AS k, g.score AS score, {} AS n FROM {table} g WHERE 1 = 1", part.sum()));
    push_survey_and_team(&mut sql, filter);
    match rollup {
        Rollup::Hours => _ = sql.and_eq("g.value", filter.hour_table(by).and_then(|(_, theme)| theme)),
        Rollup::Scores => _ = sql.and_eq("g.channel", filter.channel.as_deref()),
        Rollup::Facets => {
            let (facet, value) =
                filter.facet(by, column).expect("the facet rollups are read only when they hold the facet");
            sql.push(" AND g.facet = ").text(&facet).push(" AND g.question = ").text(column.as_str());
            sql.and_eq("g.value", value);
        }
    }
    push_part_and_group(&mut sql, part, unit);
    sql
}

fn push_survey_and_team(sql: &mut Sql, filter: &ResponseFilter) {
    sql.and_eq("g.survey_id", filter.survey_id.as_deref());
    // A subquery, not a join: SQLite then reads each survey's range of the covering index
    // instead of looking every rollup row up in the table (1.5× faster over a year at 10M).
    if let Some(kind) = filter.survey_kind {
        sql.push(" AND g.survey_id IN (SELECT id FROM surveys WHERE kind = ").text(kind.as_str()).push(")");
    }
    sql.and_eq("g.team_id", filter.team_id.as_deref());
}

fn push_part_and_group(sql: &mut Sql, part: &Part, unit: &str) {
    if let Some(from) = part.from {
        sql.push(&format!(" AND g.{unit} >= ")).int(from);
    }
    if let Some(to) = part.to {
        sql.push(&format!(" AND g.{unit} < ")).int(to);
    }
    // Rows brought to zero by score changes stay behind; they must not show as groups.
    sql.push(" GROUP BY 1, 2 HAVING SUM(g.n) <> 0");
}

/// The facet that counts answers per comment theme (the main question's score); its value
/// [`COMMENTED`] counts every answer whose comment was read.
pub(crate) const THEME_FACET: &str = "theme";
pub(crate) const COMMENTED: &str = "*";

impl Store {
    /// Runs independent reads at once: each on a connection of its own, they share the
    /// machine's cores (a page's rollup parts, or the parts of a period cut by a time zone).
    async fn fetch_all_at_once(&self, queries: &[Sql]) -> Result<Vec<sqlx::any::AnyRow>> {
        let reads = queries.iter().map(|sql| sql.query(self.dialect).fetch_all(&self.pool));
        Ok(futures_util::future::try_join_all(reads).await?.into_iter().flatten().collect())
    }
}

/// The facet that counts answers per agent ('' for none), both questions.
const AGENT_FACET: &str = "agent";

/// The lower edge of the bin a figure's value (as stored text) falls in.
fn figure_bin(value: &str, edges: &[f64]) -> Option<String> {
    let i = insight::bin_of(value.trim().parse::<f64>().ok()?, edges)?;
    Some(edges[i].to_string())
}

/// Where one answer is counted in the rollups.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Counted {
    hour: i64,
    day: i64,
    survey_id: String,
    /// '' for none, as the daily rollups key it.
    team_id: String,
    channel: String,
    agent_id: String,
    score: i64,
    agent_score: Option<i64>,
    /// (facet, lower edge) of each figure the answer carries.
    bins: Vec<(String, String)>,
    /// The comment's themes, and whether it was read at all.
    themes: Vec<String>,
    commented: bool,
}

impl Counted {
    pub fn of(response: &crate::Response) -> Self {
        let bins = insight::INTERACTION_FIGURES
            .iter()
            .filter_map(|(property, _, edges, _)| {
                let value = match response.context.get(*property)? {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((format!("bin.{property}"), figure_bin(&value, edges)?))
            })
            .collect();
        Counted {
            hour: response.created_at.div_euclid(MS_PER_HOUR),
            day: response.created_at.div_euclid(MS_PER_DAY),
            survey_id: response.survey_id.clone(),
            team_id: response.team_id.clone().unwrap_or_default(),
            channel: response.channel.clone(),
            agent_id: response.agent_id.clone().unwrap_or_default(),
            score: response.score,
            agent_score: response.agent_score,
            bins,
            themes: response.themes.clone(),
            commented: response.sentiment.is_some(),
        }
    }
}

/// Rollup rows per statement: statements then take few shapes, each prepared once and kept
/// by the connection.
const ROLLUP_ROWS_PER_STATEMENT: usize = 25;

type ScoreKey = (i64, String, String, String, i64);
type FacetKey = (i64, String, String, String, String, &'static str, i64);
type HourKey = (i64, String, String, i64);
/// A type of its own, not `HourKey`'s tuple: its third column is the theme, not the team.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ThemeHourKey(i64, String, String, i64);

/// Adds each answer's counts to every rollup (negative counts remove), in the caller's transaction.
pub(crate) async fn adjust_rollups(
    conn: &mut AnyConnection,
    dialect: Dialect,
    stripe: Stripe,
    changes: impl IntoIterator<Item = (Counted, i64)>,
) -> Result<()> {
    let mut summed = RollupChanges::default();
    for (counted, n) in changes {
        summed.add(&counted, n);
    }
    summed.write(conn, dialect, stripe).await
}

/// Which rows of the rollups a writer counts into: they hold a count per key and stripe, and
/// reports sum the stripes. Each answer writer on PostgreSQL has a stripe of its own, so that
/// the writers of several nodes never wait for each other's row locks (see migration 0017).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stripe(i64);

impl Stripe {
    /// Every write but the answer writers' (score edits, re-reading, rebuilds), and SQLite's
    /// one writer, which has nobody to wait for.
    pub const SHARED: Stripe = Stripe(0);

    /// A stripe for a new answer writer: on PostgreSQL one of two billion, picked at random.
    pub fn for_writer(dialect: Dialect) -> Stripe {
        match dialect {
            Dialect::Sqlite => Stripe::SHARED,
            // A v7 id's last 62 bits are random.
            Dialect::Postgres => Stripe(i64::from((uuid::Uuid::now_v7().as_u128() as u32) >> 1) + 1),
        }
    }
}

/// Changes to the rollups, summed per row: one statement may not touch the same row twice
/// on PostgreSQL, and rows written in key order keep a rebuild's writes local.
#[derive(Default)]
pub(crate) struct RollupChanges {
    scores: BTreeMap<ScoreKey, i64>,
    hours: BTreeMap<HourKey, i64>,
    theme_hours: BTreeMap<ThemeHourKey, i64>,
    facets: BTreeMap<FacetKey, i64>,
}

impl RollupChanges {
    pub fn add(&mut self, c: &Counted, n: i64) {
        let place = |facet: &str, value: &str, question: ScoreColumn, score: i64| {
            (
                c.day,
                c.survey_id.clone(),
                c.team_id.clone(),
                facet.to_string(),
                value.to_string(),
                question.as_str(),
                score,
            )
        };
        *self.scores.entry((c.day, c.survey_id.clone(), c.team_id.clone(), c.channel.clone(), c.score)).or_default() +=
            n;
        *self.hours.entry((c.hour, c.survey_id.clone(), c.team_id.clone(), c.score)).or_default() += n;
        *self.facets.entry(place(AGENT_FACET, &c.agent_id, ScoreColumn::Score, c.score)).or_default() += n;
        if let Some(agent_score) = c.agent_score {
            *self.facets.entry(place(AGENT_FACET, &c.agent_id, ScoreColumn::AgentScore, agent_score)).or_default() += n;
        }
        for (facet, edge) in &c.bins {
            *self.facets.entry(place(facet, edge, ScoreColumn::Score, c.score)).or_default() += n;
        }
        let read = c.commented.then_some(COMMENTED);
        for theme in c.themes.iter().map(String::as_str).chain(read) {
            *self.facets.entry(place(THEME_FACET, theme, ScoreColumn::Score, c.score)).or_default() += n;
            *self
                .theme_hours
                .entry(ThemeHourKey(c.hour, c.survey_id.clone(), theme.to_string(), c.score))
                .or_default() += n;
        }
    }

    pub async fn write(self, conn: &mut AnyConnection, dialect: Dialect, Stripe(stripe): Stripe) -> Result<()> {
        let RollupChanges { scores, hours, theme_hours, facets } = self;
        let (score_blocks, facet_blocks) = (by_block(&scores), by_block(&facets));
        let mut writer = RollupWriter { conn, dialect, stripe };
        writer.add(SCORE_TABLES.days, "day", scores).await?;
        writer.add(SCORE_TABLES.blocks, "block", score_blocks).await?;
        writer.add(SCORE_HOURS, "hour", hours).await?;
        writer.add(THEME_HOURS, "hour", theme_hours).await?;
        writer.add(FACET_TABLES.days, "day", facets).await?;
        writer.add(FACET_TABLES.blocks, "block", facet_blocks).await
    }
}

/// A rollup row's key: its time (day, block or hour), then the columns it is kept per.
trait RollupKey: Ord + Clone {
    const COLUMNS: &'static str;
    fn time_mut(&mut self) -> &mut i64;
    fn push_values(&self, sql: &mut Sql);
}

/// Daily counts summed over the blocks their days fall in.
fn by_block<K: RollupKey>(days: &BTreeMap<K, i64>) -> BTreeMap<K, i64> {
    let mut blocks = BTreeMap::new();
    for (key, n) in days {
        let mut key = key.clone();
        let day = key.time_mut();
        *day = block_of(*day);
        *blocks.entry(key).or_default() += n;
    }
    blocks
}

impl RollupKey for ScoreKey {
    const COLUMNS: &'static str = "survey_id, team_id, channel, score";
    fn time_mut(&mut self) -> &mut i64 {
        &mut self.0
    }
    fn push_values(&self, sql: &mut Sql) {
        let (time, survey, team, channel, score) = self;
        sql.int(*time).push(", ").text(survey).push(", ").text(team).push(", ").text(channel);
        sql.push(", ").int(*score);
    }
}

impl RollupKey for HourKey {
    const COLUMNS: &'static str = "survey_id, team_id, score";
    fn time_mut(&mut self) -> &mut i64 {
        &mut self.0
    }
    fn push_values(&self, sql: &mut Sql) {
        let (hour, survey, team, score) = self;
        sql.int(*hour).push(", ").text(survey).push(", ").text(team).push(", ").int(*score);
    }
}

impl RollupKey for ThemeHourKey {
    const COLUMNS: &'static str = "survey_id, value, score";
    fn time_mut(&mut self) -> &mut i64 {
        &mut self.0
    }
    fn push_values(&self, sql: &mut Sql) {
        let ThemeHourKey(hour, survey, theme, score) = self;
        sql.int(*hour).push(", ").text(survey).push(", ").text(theme).push(", ").int(*score);
    }
}

impl RollupKey for FacetKey {
    const COLUMNS: &'static str = "survey_id, team_id, facet, value, question, score";
    fn time_mut(&mut self) -> &mut i64 {
        &mut self.0
    }
    fn push_values(&self, sql: &mut Sql) {
        let (time, survey, team, facet, value, question, score) = self;
        sql.int(*time).push(", ").text(survey).push(", ").text(team).push(", ").text(facet).push(", ");
        sql.text(value).push(", ").text(question).push(", ").int(*score);
    }
}

/// Adds counts to the rollups in one writer's stripe.
struct RollupWriter<'c> {
    conn: &'c mut AnyConnection,
    dialect: Dialect,
    stripe: i64,
}

impl RollupWriter<'_> {
    /// Adds the counts to `table`, keyed by `unit` (its time column) and the key's columns.
    async fn add<K: RollupKey>(&mut self, table: &str, unit: &str, rows: BTreeMap<K, i64>) -> Result<()> {
        let rows: Vec<_> = rows.into_iter().filter(|(_, n)| *n != 0).collect();
        let columns = format!("{unit}, {}, stripe", K::COLUMNS);
        for chunk in rows.chunks(ROLLUP_ROWS_PER_STATEMENT) {
            let mut sql = Sql::new(&format!("INSERT INTO {table} ({columns}, n) VALUES "));
            for (i, (key, n)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                key.push_values(&mut sql);
                sql.push(", ").int(self.stripe).push(", ").int(*n).push(")");
            }
            sql.push(&format!(" ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + excluded.n"));
            sql.query(self.dialect).execute(&mut *self.conn).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_periods_are_read_as_stretches_of_whole_days_without_the_days_their_starts_cut() {
        let (day, hour) = (MS_PER_DAY, 3_600_000);
        let window = |from: i64, to: i64| ResponseFilter { from_ms: Some(from), to_ms: Some(to), ..Default::default() };
        let stretches = |filter: &ResponseFilter, starts: &[i64]| {
            let split = Split::of(filter, Some(&Dimension::Since(starts.to_vec())), ScoreColumn::Score)?;
            let days = |f: &ResponseFilter| (f.from_ms.unwrap() / day, f.to_ms.unwrap() / day);
            Some(split.period_days(starts)?.iter().map(|(start, f)| (*start, days(f))).collect::<Vec<_>>())
        };
        // Seoul's months of September to November 2024 (they start at 15:00 UTC the day before).
        let seoul = [19_967, 19_997, 20_028].map(|d| d * day - 9 * hour);
        assert_eq!(
            stretches(&window(19_967 * day - 9 * hour, 20_058 * day - 9 * hour), &seoul),
            Some(vec![(seoul[0], (19_967, 19_996)), (seoul[1], (19_997, 20_027)), (seoul[2], (20_028, 20_057))]),
            "each month's whole days; the days 19966, 19996, 20027 and 20057 are cut, read by the hour"
        );
        // UTC's months start at midnight: nothing is cut.
        let utc = [19_967, 19_997, 20_028].map(|d| d * day);
        assert_eq!(
            stretches(&window(19_980 * day, 20_050 * day), &utc),
            Some(vec![(utc[0], (19_980, 19_997)), (utc[1], (19_997, 20_028)), (utc[2], (20_028, 20_050))])
        );
        // Weeks read every day.
        let weeks: Vec<i64> = (0..10).map(|w| (19_980 + 7 * w) * day).collect();
        assert_eq!(stretches(&window(19_980 * day, 20_050 * day), &weeks), None);
    }

    #[test]
    fn long_windows_read_whole_blocks_and_the_fewest_days_at_the_ends() {
        let days = |from, to| Part::days("facet_rollup", Some(from), Some(to));
        let minus = |from, to| Part { sign: -1, ..days(from, to) };
        let blocks = |from, to| Part::blocks(FACET_TABLES, from, to);
        let long_ago = |from, to| block_parts(FACET_TABLES, from, to, 30_000);
        // Block 648 is January 2024: days 19723..19754; February 19754..19783, then March
        // from 19783, April from 19814, May from 19844.
        assert_eq!(long_ago(Some(19_723), Some(19_754)), vec![blocks(Some(648), Some(649))], "a month");
        assert_eq!(long_ago(Some(19_732), Some(19_742)), vec![days(19_732, 19_742)], "a few days");
        assert_eq!(
            long_ago(Some(19_725), Some(19_752)),
            vec![blocks(Some(648), Some(649)), minus(19_723, 19_725), minus(19_752, 19_754)],
            "most of a month: the month, less its days outside"
        );
        assert_eq!(
            long_ago(Some(19_713), Some(19_818)),
            vec![blocks(Some(648), Some(651)), days(19_713, 19_723), days(19_814, 19_818)]
        );
        assert_eq!(long_ago(Some(19_723), Some(19_840)), vec![blocks(Some(648), Some(652)), minus(19_840, 19_844)]);
        assert_eq!(long_ago(None, Some(19_760)), vec![blocks(None, Some(649)), days(19_754, 19_760)]);
        assert_eq!(long_ago(Some(19_724), None), vec![blocks(Some(648), None), minus(19_723, 19_724)]);
        assert_eq!(long_ago(None, None), vec![blocks(None, None)]);
        assert_eq!(long_ago(Some(19_732), Some(19_732)), vec![days(19_732, 19_732)], "an empty window");
        assert_eq!(long_ago(Some(19_742), Some(19_732)), vec![days(19_742, 19_732)], "a reversed one, added");
        // Days before 1970 are negative; block −1 is December 1969, days −31..0.
        assert_eq!(long_ago(Some(-40), Some(0)), vec![blocks(Some(-1), Some(0)), days(-40, -31)]);
        // A window up to today takes this month whole: its days to come hold nothing to read.
        assert_eq!(
            block_parts(FACET_TABLES, Some(19_713), Some(19_818), 19_817),
            vec![blocks(Some(648), Some(652)), days(19_713, 19_723), minus(19_818, 19_844)]
        );
    }
}
