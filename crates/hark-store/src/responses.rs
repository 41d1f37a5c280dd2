//! Responses: submit (idempotent, group-committed), list with cursor pagination, and the
//! per-day NPS counts reports are built from.

use std::collections::HashMap;

use hark_core::{Segment, SurveyKind};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::filter::{ResponseFilter, Sql, fold_for_search};
use crate::reports::{Dimension, ScoreColumn, Source};
use crate::{ContactInput, Result, Store, StoreError, parse_json};

/// Who answered: an existing contact by Hark id, or one described by the client and upserted.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactRef {
    Id(String),
    Upsert(ContactInput),
}

/// A validated answer ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponse {
    pub survey_id: String,
    /// A retry with the same key (per survey) returns the first response instead of adding one.
    pub idempotency_key: String,
    /// Fingerprint of the client's request: a key reused for a different request is refused.
    pub request_hash: String,
    pub contact: Option<ContactRef>,
    pub invitation_id: Option<String>,
    pub score: i64,
    pub segment: Segment,
    pub comment: Option<String>,
    pub answers: Map<String, Value>,
    pub agent_score: Option<i64>,
    pub language: Option<String>,
    pub channel: String,
    pub agent_id: Option<String>,
    /// Defaults to the agent's team when only the agent is given.
    pub team_id: Option<String>,
    pub context: Map<String, Value>,
    pub created_at: i64,
    /// What to do once it is stored.
    pub follow_up: FollowUp,
}

/// The follow-up an answer gets once stored.
#[derive(Debug, Clone, PartialEq)]
pub enum FollowUp {
    /// History brought in by import: nothing.
    None,
    /// A live answer whose playbook has nothing to do: only the `response.created` webhooks,
    /// if any webhook wants them (checked in the answer's own transaction).
    Webhooks,
    /// Run the survey's playbooks (cases, thank-yous, webhooks): in the answer's own
    /// transaction where they need only the database, else as a job.
    Playbook(std::sync::Arc<hark_core::playbook::Playbooks>),
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Response {
    pub id: String,
    pub survey_id: String,
    pub invitation_id: Option<String>,
    pub contact_id: Option<String>,
    pub score: i64,
    pub segment: Segment,
    pub comment: Option<String>,
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    pub agent_score: Option<i64>,
    pub language: Option<String>,
    pub channel: String,
    pub agent_id: Option<String>,
    pub team_id: Option<String>,
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
    pub idempotency_key: String,
    pub created_at: i64,
    pub received_at: i64,
    /// The themes the comment mentions (keys of the theme list), read when it was stored.
    pub themes: Vec<String>,
    /// The comment's sentiment: `negative`, `neutral` or `positive`; `null` without a comment.
    pub sentiment: Option<String>,
    /// The sentiment's score, −1 (all negative) … +1.
    pub sentiment_score: Option<f64>,
}

/// What a submit did: stored a new response, or found the one an earlier try stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub response: Response,
    pub created: bool,
}

pub(crate) const RESPONSE_COLUMNS: &str = "r.id, r.survey_id, r.invitation_id, r.contact_id, r.score, r.segment, r.comment, \
     r.answers, r.agent_score, r.language, r.channel, r.agent_id, r.team_id, r.context, r.idempotency_key, \
     r.request_hash, r.created_at, r.received_at, r.themes, r.sentiment, r.sentiment_milli";

fn object(field: &str, text: &str) -> Result<Map<String, Value>> {
    match parse_json(field, text)? {
        Value::Object(map) => Ok(map),
        other => Err(StoreError::Corrupt(format!("{field} is not an object: {other}"))),
    }
}

/// An answer's stored segment, read from `column` of `row`.
pub(crate) fn segment_in(row: &AnyRow, column: &str) -> Result<Segment> {
    let text: String = row.try_get(column)?;
    Segment::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("responses.segment {text}")))
}

pub(crate) fn response_from(row: &AnyRow) -> Result<Response> {
    Ok(Response {
        id: row.try_get("id")?,
        survey_id: row.try_get("survey_id")?,
        invitation_id: row.try_get("invitation_id")?,
        contact_id: row.try_get("contact_id")?,
        score: row.try_get("score")?,
        segment: segment_in(row, "segment")?,
        comment: row.try_get("comment")?,
        answers: object("responses.answers", &row.try_get::<String, _>("answers")?)?,
        agent_score: row.try_get("agent_score")?,
        language: row.try_get("language")?,
        channel: row.try_get("channel")?,
        agent_id: row.try_get("agent_id")?,
        team_id: row.try_get("team_id")?,
        context: object("responses.context", &row.try_get::<String, _>("context")?)?,
        idempotency_key: row.try_get("idempotency_key")?,
        created_at: row.try_get("created_at")?,
        received_at: row.try_get("received_at")?,
        themes: crate::tagging::theme_keys(row.try_get::<Option<String>, _>("themes")?.as_deref()),
        sentiment: row.try_get("sentiment")?,
        sentiment_score: row.try_get::<Option<i64>, _>("sentiment_milli")?.map(|m| m as f64 / 1000.0),
    })
}

/// A position in the newest-first response list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseCursor {
    pub created_at: i64,
    pub id: String,
}

impl ResponseCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at, self.id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (t, id) = s.split_once('.')?;
        Some(Self { created_at: t.parse().ok()?, id: id.to_string() })
    }
}

impl Store {
    /// Folds every stored comment's search text again with [`fold_for_search`], the writer's
    /// own folding. Pages along the primary key, a transaction per page, and rewrites only the
    /// rows whose folding differs (and whose comment has not changed meanwhile).
    pub(crate) async fn refold_comments(&self) -> Result<()> {
        const PAGE: i64 = 5_000;
        let mut after = String::new();
        loop {
            let mut tx = self.begin_write().await?;
            let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT id, comment, search_text FROM responses WHERE comment IS NOT NULL AND id > $1 ORDER BY id LIMIT $2",
            )
            .bind(&after)
            .bind(PAGE)
            .fetch_all(&mut *tx)
            .await?;
            for (id, comment, search_text) in &rows {
                let folded = fold_for_search(comment);
                if search_text.as_deref() != Some(folded.as_str()) {
                    sqlx::query("UPDATE responses SET search_text = $1 WHERE id = $2 AND comment = $3")
                        .bind(folded)
                        .bind(id)
                        .bind(comment)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            match rows.last() {
                Some((id, ..)) => after = id.clone(),
                None => break,
            }
        }
        sqlx::query("DELETE FROM pending_rebuilds WHERE name = 'search_text'")
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    /// Stores a response durably (acknowledged only after its commit) or returns the one an
    /// earlier request with the same idempotency key stored.
    pub async fn submit_response(&self, response: NewResponse) -> Result<Submitted> {
        self.writer.submit(response).await
    }

    pub async fn get_response(&self, id: &str) -> Result<Option<Response>> {
        let sql = format!("SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(response_from).transpose()
    }

    /// Newest first; pass the last item's cursor to get the next page.
    pub async fn list_responses(
        &self,
        filter: &ResponseFilter,
        after: Option<&ResponseCursor>,
        limit: i64,
    ) -> Result<Vec<Response>> {
        let mut sql = filter.select(RESPONSE_COLUMNS, self.dialect);
        if let Some(c) = after {
            sql.push(" AND (r.created_at < ").int(c.created_at);
            sql.push(" OR (r.created_at = ").int(c.created_at).push(" AND r.id < ").text(&c.id).push("))");
        }
        sql.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ").int(limit);
        let rows = sql.query(self.dialect).fetch_all(&self.pool).await?;
        rows.iter().map(response_from).collect()
    }

    /// When the first answer the filter matches was given, if any.
    pub async fn first_answer_at(&self, filter: &ResponseFilter) -> Result<Option<i64>> {
        let sql = filter.select("MIN(r.created_at) AS first", self.dialect);
        Ok(sql.query(self.dialect).fetch_one(&self.pool).await?.try_get("first")?)
    }

    /// How many answers the filter matches, and whether there are more than that: exact from
    /// the rollups when they keep the filter apart (a score or segment is read off the counts
    /// per survey and score), however many; else from the rows, counting no more than `cap`
    /// (a search over ten million answers would read them all to count them).
    pub async fn count_matching(&self, filter: &ResponseFilter, cap: i64) -> Result<(i64, bool)> {
        let counted = ResponseFilter { score: None, segment: None, ..filter.clone() };
        if counted.kept_in_rollups() {
            let by = Some(&Dimension::Survey);
            let (groups, surveys) = tokio::try_join!(
                self.score_counts(&counted, by, ScoreColumn::Score, Source::Best),
                self.list_surveys()
            )?;
            let kinds: HashMap<String, SurveyKind> = surveys.into_iter().map(|s| (s.id, s.definition.kind)).collect();
            let mut n = 0;
            for group in groups {
                let kind = group.key.as_ref().and_then(|id| kinds.get(id)).copied().unwrap_or(SurveyKind::Nps);
                for (score, count) in (0i64..).zip(group.counts) {
                    if filter.score.is_none_or(|s| s == score)
                        && filter.segment.is_none_or(|s| s == kind.segment(score))
                    {
                        n += count as i64;
                    }
                }
            }
            return Ok((n, false));
        }
        let mut sql = Sql::new("SELECT COUNT(*) AS n FROM (");
        sql.append(filter.select("1", self.dialect));
        sql.push(" LIMIT ").int(cap + 1).push(") counted");
        let n: i64 = sql.query(self.dialect).fetch_one(&self.pool).await?.try_get("n")?;
        Ok((n.min(cap), n > cap))
    }

    pub async fn count_responses(&self, filter: &ResponseFilter) -> Result<i64> {
        let sql = filter.select("COUNT(*) AS n", self.dialect);
        Ok(sql.query(self.dialect).fetch_one(&self.pool).await?.try_get("n")?)
    }
}
