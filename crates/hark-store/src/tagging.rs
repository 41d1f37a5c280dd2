//! The themes and sentiment of a comment (hark-text), stored with its answer: reports filter
//! and count by theme from a column, and a comment is read once, when it is stored.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use futures_util::TryStreamExt;
use hark_text::{Analyzer, Lang};
use sqlx::{AssertSqlSafe, Row};

use crate::reports::{COMMENTED, Counted, Stripe, adjust_rollups};
use crate::responses::{RESPONSE_COLUMNS, response_from};
use crate::{Dimension, ResponseFilter, Result, ScoreColumn, ScoreCounts, Source, Store};

/// Answers per score (index = score) under a filter: all of them, those with a comment, and
/// those mentioning each theme. What the drivers are computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThemeCounts {
    pub all: [u64; 11],
    /// Answers whose comment has been read (tagged).
    pub commented: u64,
    /// Theme key → answers mentioning it, per score.
    pub themes: BTreeMap<String, [u64; 11]>,
}

/// A comment as [`Store::recent_comments`] hands it over: text, language, segment.
pub type RecentComment = (String, Option<String>, hark_core::Segment);

/// A comment's tags as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CommentTags {
    /// `|delivery|price|`, or `|` for none.
    pub themes: String,
    pub sentiment: &'static str,
    /// The sentiment score × 1000.
    pub sentiment_milli: i64,
}

impl CommentTags {
    /// The tags of a blank comment: nothing, so that it is not read again.
    pub fn none() -> Self {
        CommentTags { themes: "|".into(), sentiment: "neutral", sentiment_milli: 0 }
    }

    /// The answer as it is with these tags.
    pub fn applied_to(&self, before: &crate::Response) -> crate::Response {
        let mut after = before.clone();
        self.apply(&mut after);
        after
    }

    /// Sets the answer's tags to these, as they read back once stored.
    pub fn apply(&self, response: &mut crate::Response) {
        response.themes = theme_keys(Some(&self.themes));
        response.sentiment = Some(self.sentiment.to_owned());
        response.sentiment_score = Some(self.sentiment_milli as f64 / 1000.0);
    }

    /// Stores these tags on row `id` of `table` (`responses` or `feedback`).
    pub async fn write(&self, conn: &mut sqlx::AnyConnection, table: &'static str, id: &str) -> Result<()> {
        let sql = format!("UPDATE {table} SET themes = $1, sentiment = $2, sentiment_milli = $3 WHERE id = $4");
        sqlx::query(AssertSqlSafe(sql))
            .bind(&self.themes)
            .bind(self.sentiment)
            .bind(self.sentiment_milli)
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Tags for `comment` (none without one), read in `language` when the text does not say.
pub(crate) fn tag(analyzer: &Analyzer, comment: Option<&str>, language: Option<&str>) -> Option<CommentTags> {
    let comment = comment.filter(|c| !c.trim().is_empty())?;
    let analysis = analyzer.analyze(comment, language.and_then(Lang::from_tag));
    let mut themes = String::from("|");
    for m in &analysis.themes {
        themes.push_str(&m.theme);
        themes.push('|');
    }
    Some(CommentTags {
        themes,
        sentiment: analysis.sentiment.label.as_str(),
        sentiment_milli: (analysis.sentiment.score * 1000.0).round() as i64,
    })
}

/// The theme keys of a stored `themes` column.
pub(crate) fn theme_keys(stored: Option<&str>) -> Vec<String> {
    stored.unwrap_or_default().split('|').filter(|k| !k.is_empty()).map(str::to_owned).collect()
}

/// The `LIKE` pattern that finds answers tagged with `theme`.
pub(crate) fn theme_pattern(theme: &str) -> String {
    format!("%|{theme}|%")
}

/// The answers whose comment was read, and those mentioning each theme per score.
pub type Mentions = (u64, BTreeMap<String, [u64; 11]>);

/// Mentions from the groups of a count by theme.
fn mentions(groups: Vec<ScoreCounts>) -> Mentions {
    let (mut commented, mut themes) = (0, BTreeMap::new());
    for group in groups {
        match group.key {
            Some(key) if key == COMMENTED => commented = group.counts.iter().sum(),
            Some(key) => _ = themes.insert(key, group.counts),
            None => {}
        }
    }
    (commented, themes)
}

impl Store {
    /// Tags up to `limit` stored comments that have no tags yet (answers from before tagging,
    /// or imported without), a transaction per call; returns how many it tagged. Resumable by
    /// construction: what is tagged is committed, and the next call takes the rest.
    pub async fn tag_untagged_comments(&self, limit: i64) -> Result<u64> {
        static UNTAGGED: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.themes IS NULL AND r.comment IS NOT NULL \
                 ORDER BY r.id LIMIT $1"
            )
        });
        let reading = self.reading();
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(AssertSqlSafe(UNTAGGED.as_str())).bind(limit).fetch_all(&mut *tx).await?;
        let mut moved = Vec::with_capacity(2 * rows.len());
        for row in &rows {
            let before = response_from(row)?;
            let tags = tag(&reading.analyzer, before.comment.as_deref(), before.language.as_deref())
                .unwrap_or_else(CommentTags::none);
            tags.write(&mut tx, "responses", &before.id).await?;
            let after = tags.applied_to(&before);
            // The theme facets of the rollups take the answer in, in the same transaction.
            moved.push((Counted::of(&before), -1));
            moved.push((Counted::of(&after), 1));
        }
        adjust_rollups(&mut tx, self.dialect, Stripe::SHARED, moved).await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Scores by theme under `filter`: from the facet rollups for the whole days they hold
    /// (when `source` allows), from the rows for the rest.
    pub async fn theme_counts(&self, filter: &ResponseFilter, source: Source) -> Result<ThemeCounts> {
        // Read at once.
        let ((commented, themes), all) = tokio::try_join!(
            self.theme_mentions(filter, source),
            self.score_counts(filter, None, ScoreColumn::Score, source)
        )?;
        Ok(ThemeCounts { all: all.first().map(|g| g.counts).unwrap_or_default(), commented, themes })
    }

    /// [`ThemeCounts`] without `all`: the answers whose comment was read, and those mentioning
    /// each theme per score.
    pub async fn theme_mentions(&self, filter: &ResponseFilter, source: Source) -> Result<Mentions> {
        Ok(mentions(self.score_counts(filter, Some(&Dimension::Theme), ScoreColumn::Score, source).await?))
    }

    /// [`theme_mentions`](Self::theme_mentions) in each of `periods` ((start, end) in ms, each
    /// ending where the next starts), for the themes' trends.
    pub async fn theme_mentions_per_period(
        &self,
        filter: &ResponseFilter,
        periods: &[(i64, i64)],
    ) -> Result<Vec<Mentions>> {
        let per_period =
            self.score_counts_per_period(filter, Some(&Dimension::Theme), ScoreColumn::Score, periods).await?;
        Ok(per_period.into_iter().map(mentions).collect())
    }

    /// The comments of the newest `limit` answers under `filter`: text, language and segment
    /// (what discovered phrases are counted from), without the rest of each answer. Bounded by
    /// answers, not comments, so that a period with few comments costs no more than one with many.
    /// Each is handed to `each` as the database returns it, newest first: the caller can read
    /// the first while the database is still finding the rest.
    pub async fn recent_comments(
        &self,
        filter: &ResponseFilter,
        limit: i64,
        mut each: impl FnMut(RecentComment),
    ) -> Result<()> {
        let mut sql = filter.select("r.comment AS comment, r.language AS language, r.segment AS segment", self.dialect);
        sql.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ").int(limit);
        let query = sql.query(self.dialect);
        let mut rows = query.fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            let Some(comment) = row.try_get::<Option<String>, _>("comment")?.filter(|c| !c.trim().is_empty()) else {
                continue;
            };
            let segment = crate::responses::segment_in(&row, "segment")?;
            each((comment, row.try_get("language")?, segment));
        }
        Ok(())
    }

    /// How many stored comments wait to be tagged.
    pub async fn untagged_comments(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses WHERE themes IS NULL AND comment IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_stored_so_that_like_finds_each_theme() {
        let tags = tag(Analyzer::builtin(), Some("배송이 너무 늦고 가격도 비싸요"), Some("ko")).expect("a comment");
        assert_eq!(tags.themes, "|delivery|price|speed|");
        assert_eq!(tags.sentiment, "negative");
        assert!(tags.sentiment_milli < 0);
        assert_eq!(theme_keys(Some(&tags.themes)), ["delivery", "price", "speed"]);
        assert!(tag(Analyzer::builtin(), Some("  "), None).is_none());
        assert_eq!(theme_keys(Some("|")), Vec::<String>::new());
    }
}
