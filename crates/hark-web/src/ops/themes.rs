//! What the comments say under a filter: each theme's effect on NPS (drivers) and the phrases
//! that set detractors and promoters apart, for the Themes page and `/api/v1/reports/themes`.

use futures_util::TryFutureExt;
use hark_core::drivers::{Driver, drivers};
use hark_core::insight::nps_counts;
use hark_core::report::Granularity;
use hark_core::{NpsCounts, NpsSummary, ProportionSummary, Segment};
use hark_store::{FeedbackFilter, Mentions, RecentComment, ResponseFilter, SentimentCounts, Source, Store};
use hark_text::phrases::{PhraseTally, Standout};
use hark_text::{Analyzer, Lang};
use serde::Serialize;

use crate::ops::insights::{
    Period, PeriodBounds, PeriodCounts, TrendPeriod, fold_trend, min_n, nps_only, parse, period_bounds,
};
use crate::problem::ApiError;
use crate::viewer::Viewer;

/// Discovered phrases are read from the comments of at most this many of the newest answers:
/// enough for the counts to settle, few enough to read on each request.
pub(crate) const PHRASE_COMMENTS: i64 = 5_000;
/// A phrase is offered when at least this many comments of its segment use it.
const PHRASE_MIN_COMMENTS: u64 = 3;
const PHRASES_SHOWN: usize = 12;
/// Theme trends: at most this many periods (a year and a month of days); each theme has one
/// of each.
const MAX_TREND_PERIODS: usize = 400;

pub(crate) const DRIVER_METHOD: &str = "NPS of the answers whose comment mentions the theme against the NPS of all \
     other answers: difference of two independent NPS (adjusted-Wald variance, Rocks 2016), 95% interval and two-sided \
     z test. Points at stake: the NPS of the others minus the overall NPS, i.e. how far the overall NPS would move if \
     the answers mentioning the theme scored like the rest.";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ThemeDriver {
    /// The theme's name in the reader's language.
    pub name: String,
    #[serde(flatten)]
    pub driver: Driver,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Phrase {
    /// As a customer wrote it.
    pub phrase: String,
    /// The words to search comments for (`q=`) to list every comment it was counted in:
    /// Korean without the particle it was first written with (배송이 → 배송).
    pub search: String,
    /// Comments of the segment that use it, and comments of every segment.
    pub comments: u64,
    pub everywhere: u64,
    /// Weighted log-odds z-score (Monroe, Colaresi & Quinn 2008): above 1.96, the segment's
    /// own beyond chance.
    pub z: f64,
}

impl From<Standout> for Phrase {
    fn from(s: Standout) -> Self {
        Phrase { phrase: s.shown, search: s.search, comments: s.in_segment, everywhere: s.everywhere, z: s.z }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ThemesReport {
    pub subject: &'static str,
    pub period: Period,
    pub method: &'static str,
    pub min_n: u64,
    pub overall: NpsSummary,
    /// Answers whose comment has been read, of `overall.n`.
    pub commented: u64,
    /// Comments stored before tagging that are still being read (in the background).
    pub untagged: u64,
    /// Every theme: ranked by points at stake (largest first) among those with at least
    /// `min_n` mentions, then the rest, unranked.
    pub drivers: Vec<ThemeDriver>,
    /// Phrases detractors use far more than the others, not yet held by a theme.
    pub detractor_phrases: Vec<Phrase>,
    /// The same for promoters.
    pub promoter_phrases: Vec<Phrase>,
    /// How many comments (of the newest 5,000 answers) the phrases were read from.
    pub phrases_from: u64,
    /// Feedback from other sources in the period (reviews, social media …), by theme and
    /// sentiment; never part of NPS. `null` for a view of one team or agent.
    pub feedback: Option<FeedbackThemes>,
    pub granularity: Granularity,
    /// Each theme mentioned in the period, in the order of `drivers`: per day, week or month.
    pub trends: Vec<ThemeTrend>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ThemeTrend {
    pub key: String,
    pub name: String,
    /// Oldest first: the NPS of the answers whose comment mentions the theme (`n`: those
    /// answers; thin below `min_n`).
    pub periods: Vec<ThemePeriod>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ThemePeriod {
    #[serde(flatten)]
    pub trend: TrendPeriod,
    /// The share of the period's read comments that mention the theme.
    pub share_pct: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct FeedbackThemes {
    /// The `source` asked for, if one was.
    pub source: Option<String>,
    pub all: SentimentCounts,
    /// Themes mentioned, most mentioned first.
    pub themes: Vec<FeedbackTheme>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct FeedbackTheme {
    pub key: String,
    pub name: String,
    pub mentions: SentimentCounts,
    /// The share of mentions that are negative, with its Wilson 95% interval.
    pub negative: ProportionSummary,
}

pub(crate) const THEME_PARAMS: &[&str] = &["granularity", "min_n", "source"];

pub(crate) async fn themes(
    store: &Store,
    viewer: &Viewer,
    pairs: &[(String, String)],
    lang: &str,
) -> Result<ThemesReport, ApiError> {
    let (mut filter, extras, period) = parse(store, pairs, THEME_PARAMS)?;
    let min_n = min_n(&extras)?;
    let source = crate::ingest::source_filter(extras.get("source"))?;
    // Feedback belongs to no team or agent: whole-company views only.
    let feedback_filter = viewer.sees_all().then(|| FeedbackFilter::like(&filter, source.clone()));
    let subject = viewer.subject_of(&filter);
    viewer.restrict(store, &mut filter).await?;
    nps_only(store, &mut filter).await?;
    // The reads are independent: done at once, they share the machine's cores.
    let feedback_counts = async {
        match &feedback_filter {
            Some(f) => store.feedback_counts(f).await.map(Some),
            None => Ok(None),
        }
    };
    // The phrases are read while the counts are summed: the newest comments come back first.
    let reading = store.reading();
    let shared = reading.clone();
    let phrases =
        read_recent_comments(store, &filter, PHRASE_COMMENTS, move |comments| discovered(&shared.analyzer, comments));
    // Too many periods are refused before anything is read.
    let periods = period_bounds(store, &filter, extras.granularity, &extras.zone, MAX_TREND_PERIODS).await?;
    let (counts, by_period, untagged, ((detractor_phrases, promoter_phrases), read), feedback_counts) = tokio::try_join!(
        store.theme_counts(&filter, Source::Best).err_into(),
        theme_periods(store, &filter, &periods),
        store.untagged_comments().err_into(),
        phrases,
        feedback_counts.err_into()
    )?;
    let analyzer = &reading.analyzer;
    let overall = nps_counts(&counts.all);
    let per_theme: Vec<(String, NpsCounts)> = analyzer
        .themes()
        .list()
        .iter()
        .map(|t| (t.key.clone(), counts.themes.get(&t.key).map(nps_counts).unwrap_or_default()))
        .collect();
    let drivers: Vec<ThemeDriver> = drivers(overall, counts.commented, per_theme, min_n)
        .into_iter()
        .map(|driver| {
            let name = analyzer.themes().name_of(&driver.key, lang).to_owned();
            ThemeDriver { name, driver }
        })
        .collect();
    let trends = drivers
        .iter()
        .filter(|d| d.driver.mentions > 0)
        .map(|d| {
            let key = &d.driver.key;
            let mentions: Vec<PeriodCounts> = by_period
                .iter()
                .map(|(day, (_, themes))| (*day, themes.get(key).copied().unwrap_or_default()))
                .collect();
            let periods = fold_trend(&mentions, extras.granularity, &filter, min_n, &extras.zone)
                .into_iter()
                .zip(&by_period)
                .map(|(trend, (_, (commented, _)))| ThemePeriod {
                    share_pct: (*commented > 0).then(|| 100.0 * trend.summary.n as f64 / *commented as f64),
                    trend,
                })
                .collect();
            ThemeTrend { key: key.clone(), name: d.name.clone(), periods }
        })
        .collect();
    let feedback = feedback_counts.map(|counts| {
        let mut themes: Vec<FeedbackTheme> = counts
            .themes
            .into_iter()
            .map(|(key, mentions)| FeedbackTheme {
                name: analyzer.themes().name_of(&key, lang).to_owned(),
                negative: ProportionSummary::wilson(mentions.negative, mentions.n()),
                key,
                mentions,
            })
            .collect();
        themes.sort_by(|a, b| b.mentions.n().cmp(&a.mentions.n()).then_with(|| a.key.cmp(&b.key)));
        FeedbackThemes { source, all: counts.all, themes }
    });
    Ok(ThemesReport {
        feedback,
        subject,
        period,
        method: DRIVER_METHOD,
        min_n,
        overall: overall.summary(),
        commented: counts.commented,
        untagged,
        drivers,
        detractor_phrases,
        promoter_phrases,
        phrases_from: read,
        granularity: extras.granularity,
        trends,
    })
}

/// The answers whose comment was read and those mentioning each theme in each of `periods`.
async fn theme_periods(
    store: &Store,
    filter: &ResponseFilter,
    periods: &[PeriodBounds],
) -> Result<Vec<(jiff::civil::Date, Mentions)>, ApiError> {
    let bounds: Vec<(i64, i64)> = periods.iter().map(|p| (p.start, p.end)).collect();
    let counts = store.theme_mentions_per_period(filter, &bounds).await?;
    Ok(periods.iter().map(|p| p.first_day).zip(counts).collect())
}

/// Runs `work` over the comments of the newest `limit` answers under `filter`, off the async
/// workers (reading thousands of comments is CPU work), as the database returns them: the
/// reading of the first overlaps the database's finding the rest, on another core.
pub(crate) async fn read_recent_comments<T: Send + 'static>(
    store: &Store,
    filter: &ResponseFilter,
    limit: i64,
    work: impl FnOnce(&mut dyn Iterator<Item = RecentComment>) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let (sender, received) = std::sync::mpsc::channel();
    let worker = tokio::task::spawn_blocking(move || work(&mut received.into_iter()));
    let read = store
        .recent_comments(filter, limit, |comment| {
            // Fails only where the worker has panicked, which its join below reports.
            let _ = sender.send(comment);
        })
        .await;
    drop(sender);
    let done = worker.await.map_err(|_| ApiError::unavailable("the comments could not be read; try again"));
    read?;
    done
}

/// The phrases detractors and promoters use far more than the others, from these comments
/// (text, language, segment), that no theme finds yet; and how many comments were read.
fn discovered(
    analyzer: &Analyzer,
    comments: &mut dyn Iterator<Item = RecentComment>,
) -> ((Vec<Phrase>, Vec<Phrase>), u64) {
    let mut tally = PhraseTally::default();
    let mut read = 0;
    for (comment, language, segment) in comments {
        let lang = hark_text::detect(&comment, language.as_deref().and_then(Lang::from_tag));
        tally.add(&comment, &analyzer.words().tokens(&comment, lang), segment, lang);
        read += 1;
    }
    // A phrase a theme already finds is not news.
    let uncovered = |shown: &str| analyzer.analyze(shown, None).themes.is_empty();
    let standouts = |segment| {
        tally
            .standouts(segment, PHRASE_MIN_COMMENTS, PHRASES_SHOWN * 4)
            .into_iter()
            .filter(|s| s.z >= hark_core::stats::Z95 && uncovered(&s.shown))
            .take(PHRASES_SHOWN)
            .map(Phrase::from)
            .collect::<Vec<_>>()
    };
    ((standouts(Segment::Detractor), standouts(Segment::Promoter)), read)
}
