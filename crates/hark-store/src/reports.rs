//! The aggregates behind the dashboards: answers counted per score, optionally per dimension.
//! Questions the daily rollup can answer (whole days; survey, kind, team and channel filters;
//! grouped by day, survey, team or channel) read `score_rollup`; everything else reads the
//! raw rows. Both paths give the same numbers: the rollup is written in the same transaction
//! as every answer and every score change, and a test compares the two.

use std::collections::BTreeMap;

use hark_core::report::MS_PER_DAY;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::filter::{Sql, json_text};
use crate::{Dialect, ResponseFilter, Result, Store};

/// What answers are grouped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dimension {
    /// UTC day number (days since 1970-01-01), as text.
    Day,
    Survey,
    Team,
    Agent,
    Channel,
    Language,
    /// A contact attribute (`attr.plan`).
    Attribute(String),
    /// A property carried on the answer from its invitation or event (`property.handle_time_s`).
    Property(String),
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
            Dimension::Survey => "survey".into(),
            Dimension::Team => "team".into(),
            Dimension::Agent => "agent".into(),
            Dimension::Channel => "channel".into(),
            Dimension::Language => "language".into(),
            Dimension::Attribute(k) => format!("attr.{k}"),
            Dimension::Property(k) => format!("property.{k}"),
        }
    }

    /// The rollup's column for this dimension, if it has one.
    fn rollup_column(&self) -> Option<&'static str> {
        match self {
            Dimension::Day => Some("CAST(g.day AS TEXT)"),
            Dimension::Survey => Some("g.survey_id"),
            Dimension::Team => Some("NULLIF(g.team_id, '')"),
            Dimension::Channel => Some("g.channel"),
            _ => None,
        }
    }

    /// Appends the raw-row expression for this dimension.
    fn push_raw(&self, sql: &mut Sql, dialect: Dialect) {
        match self {
            Dimension::Day => _ = sql.push("CAST(r.created_at / 86400000 AS TEXT)"),
            Dimension::Survey => _ = sql.push("r.survey_id"),
            Dimension::Team => _ = sql.push("r.team_id"),
            Dimension::Agent => _ = sql.push("r.agent_id"),
            Dimension::Channel => _ = sql.push("r.channel"),
            Dimension::Language => _ = sql.push("r.language"),
            Dimension::Attribute(key) => json_text(sql, dialect, "c.attributes", key),
            Dimension::Property(key) => json_text(sql, dialect, "r.context", key),
        }
    }
}

/// Which 0–10 answer is counted: the main question, or the second question about the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreColumn {
    Score,
    AgentScore,
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

/// Invitations delivered and answered on one channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ChannelRate {
    pub channel: String,
    pub delivered: u64,
    pub answered: u64,
}

impl ResponseFilter {
    /// True when the rollup holds everything this question needs.
    pub fn rollup_covers(&self, by: Option<&Dimension>, column: ScoreColumn) -> bool {
        let whole_day = |ms: Option<i64>| ms.is_none_or(|ms| ms.rem_euclid(MS_PER_DAY) == 0);
        column == ScoreColumn::Score
            && by.is_none_or(|d| d.rollup_column().is_some())
            && self.agent_id.is_none()
            && self.segment.is_none()
            && self.contact_id.is_none()
            && self.language.is_none()
            && self.search.is_none()
            && self.attributes.is_empty()
            && whole_day(self.from_ms)
            && whole_day(self.to_ms)
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
        let sql = if source == Source::Best && filter.rollup_covers(by, column) {
            rollup_query(filter, by)
        } else {
            self.raw_query(filter, by, column)
        };
        let mut groups = BTreeMap::<Option<String>, [u64; 11]>::new();
        for row in sql.query().fetch_all(&self.pool).await? {
            let score: i64 = row.try_get("score")?;
            let n: i64 = row.try_get("n")?;
            if let Ok(i) = usize::try_from(score)
                && i <= 10
            {
                groups.entry(row.try_get("k")?).or_default()[i] += n as u64;
            }
        }
        Ok(groups.into_iter().map(|(key, counts)| ScoreCounts { key, counts }).collect())
    }

    fn raw_query(&self, filter: &ResponseFilter, by: Option<&Dimension>, column: ScoreColumn) -> Sql {
        let score = match column {
            ScoreColumn::Score => "r.score",
            ScoreColumn::AgentScore => "r.agent_score",
        };
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
        let rows = sql.query().fetch_all(&self.pool).await?;
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

fn rollup_query(filter: &ResponseFilter, by: Option<&Dimension>) -> Sql {
    let key = by.and_then(Dimension::rollup_column).unwrap_or("CAST(NULL AS TEXT)");
    let mut sql = Sql::new(&format!(
        "SELECT {key} AS k, g.score AS score, CAST(SUM(g.n) AS BIGINT) AS n \
         FROM score_rollup g JOIN surveys s ON s.id = g.survey_id WHERE 1 = 1"
    ));
    sql.and_eq("g.survey_id", filter.survey_id.as_deref())
        .and_eq("s.kind", filter.survey_kind.map(|k| k.as_str()))
        .and_eq("g.team_id", filter.team_id.as_deref())
        .and_eq("g.channel", filter.channel.as_deref());
    if let Some(from) = filter.from_ms {
        sql.push(" AND g.day >= ").int(from / MS_PER_DAY);
    }
    if let Some(to) = filter.to_ms {
        sql.push(" AND g.day < ").int(to / MS_PER_DAY);
    }
    // Rows brought to zero by score changes stay behind; they must not show as groups.
    sql.push(" GROUP BY 1, 2 HAVING SUM(g.n) <> 0");
    sql
}

/// One answer's place in the rollup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RollupKey {
    pub day: i64,
    pub survey_id: String,
    pub team_id: Option<String>,
    pub channel: String,
    pub score: i64,
}

impl RollupKey {
    pub fn of(response: &crate::Response) -> Self {
        RollupKey {
            day: response.created_at.div_euclid(MS_PER_DAY),
            survey_id: response.survey_id.clone(),
            team_id: response.team_id.clone(),
            channel: response.channel.clone(),
            score: response.score,
        }
    }
}

/// Adds each key's count to the rollup (negative counts remove), in the caller's transaction.
pub(crate) async fn adjust_rollup(
    conn: &mut AnyConnection,
    changes: impl IntoIterator<Item = (RollupKey, i64)>,
) -> Result<()> {
    // Summed first: one statement may not touch the same row twice on PostgreSQL.
    let mut summed = BTreeMap::<RollupKey, i64>::new();
    for (key, n) in changes {
        *summed.entry(key).or_default() += n;
    }
    summed.retain(|_, n| *n != 0);
    if summed.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("INSERT INTO score_rollup (day, survey_id, team_id, channel, score, n) VALUES ");
    for (i, (key, n)) in summed.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.int(key.day).push(", ").text(&key.survey_id).push(", ");
        sql.text(key.team_id.as_deref().unwrap_or("")).push(", ").text(&key.channel).push(", ");
        sql.int(key.score).push(", ").int(*n).push(")");
    }
    sql.push(" ON CONFLICT (day, survey_id, team_id, channel, score) DO UPDATE SET n = score_rollup.n + excluded.n");
    sql.query().execute(&mut *conn).await?;
    Ok(())
}
