//! Unsolicited feedback (reviews, social media, interviews, tickets): stored once per
//! idempotency key, read for themes and sentiment like a survey comment, on the contact's
//! timeline, and never counted in NPS.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use hark_core::contact::ContactInput;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::entities::{merge_attributes, upsert_contact_on};
use crate::filter::Sql;
use crate::tagging::{tag, theme_keys, theme_pattern};
use crate::{ContactRef, Result, Store, StoreError, new_id, now_ms};

/// Feedback checked and ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    pub source: String,
    pub body: String,
    /// (rating, scale low, scale high).
    pub rating: Option<(i64, i64, i64)>,
    pub contact: Option<ContactRef>,
    pub url: Option<String>,
    pub language: Option<String>,
    pub created_at: i64,
    pub idempotency_key: String,
    pub request_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Feedback {
    pub id: String,
    /// `review`, `social`, `interview`, `ticket` or `other`.
    pub source: String,
    pub text: String,
    pub rating: Option<i64>,
    /// The rating's scale, e.g. 1 and 5.
    pub rating_min: Option<i64>,
    pub rating_max: Option<i64>,
    pub contact_id: Option<String>,
    pub url: Option<String>,
    pub language: Option<String>,
    /// The themes the text mentions (keys).
    pub themes: Vec<String>,
    pub sentiment: Option<String>,
    pub sentiment_score: Option<f64>,
    pub created_at: i64,
    pub received_at: i64,
}

/// Which feedback to list or count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackFilter {
    pub source: Option<String>,
    pub theme: Option<String>,
    pub contact_id: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl FeedbackFilter {
    /// The feedback a response filter's period, theme and contact select, from `source`.
    pub fn like(filter: &crate::ResponseFilter, source: Option<String>) -> Self {
        FeedbackFilter {
            source,
            theme: filter.theme.clone(),
            contact_id: filter.contact_id.clone(),
            from_ms: filter.from_ms,
            to_ms: filter.to_ms,
        }
    }

    fn push(&self, sql: &mut Sql) {
        sql.and_eq("f.source", self.source.as_deref()).and_eq("f.contact_id", self.contact_id.as_deref());
        if let Some(theme) = &self.theme {
            sql.push(" AND f.themes LIKE ").text(&theme_pattern(theme));
        }
        if let Some(from) = self.from_ms {
            sql.push(" AND f.created_at >= ").int(from);
        }
        if let Some(to) = self.to_ms {
            sql.push(" AND f.created_at < ").int(to);
        }
    }
}

/// Mentions of one theme in feedback, by sentiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SentimentCounts {
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
}

impl SentimentCounts {
    pub fn n(&self) -> u64 {
        self.negative + self.neutral + self.positive
    }

    fn add(&mut self, sentiment: Option<&str>, n: u64) {
        match sentiment {
            Some("negative") => self.negative += n,
            Some("positive") => self.positive += n,
            _ => self.neutral += n,
        }
    }
}

/// Feedback under a filter: all of it and per theme, by sentiment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackCounts {
    pub all: SentimentCounts,
    pub themes: BTreeMap<String, SentimentCounts>,
}

const COLUMNS: &str = "f.id, f.source, f.body, f.rating, f.rating_min, f.rating_max, f.contact_id, f.url, f.language, \
     f.themes, f.sentiment, f.sentiment_milli, f.request_hash, f.created_at, f.received_at";

fn feedback_from(row: &AnyRow) -> Result<Feedback> {
    Ok(Feedback {
        id: row.try_get("id")?,
        source: row.try_get("source")?,
        text: row.try_get("body")?,
        rating: row.try_get("rating")?,
        rating_min: row.try_get("rating_min")?,
        rating_max: row.try_get("rating_max")?,
        contact_id: row.try_get("contact_id")?,
        url: row.try_get("url")?,
        language: row.try_get("language")?,
        themes: theme_keys(row.try_get::<Option<String>, _>("themes")?.as_deref()),
        sentiment: row.try_get("sentiment")?,
        sentiment_score: row.try_get::<Option<i64>, _>("sentiment_milli")?.map(|m| m as f64 / 1000.0),
        created_at: row.try_get("created_at")?,
        received_at: row.try_get("received_at")?,
    })
}

impl Store {
    /// Stores feedback once: a retry with the same key returns the first (`false`: not new);
    /// the same key for other content is a conflict.
    pub async fn add_feedback(&self, new: &NewFeedback) -> Result<(Feedback, bool)> {
        static INSERT: LazyLock<String> = LazyLock::new(|| {
            format!(
                "INSERT INTO feedback (id, source, body, rating, rating_min, rating_max, contact_id, url, language, themes, \
                 sentiment, sentiment_milli, idempotency_key, request_hash, created_at, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (idempotency_key) DO NOTHING RETURNING {}",
                COLUMNS.replace("f.", "")
            )
        });
        let tags = tag(&self.reading().analyzer, Some(&new.body), new.language.as_deref());
        let mut tx = self.begin_write().await?;
        let contact_id = match &new.contact {
            None => None,
            Some(ContactRef::Id(id)) => Some(id.clone()),
            Some(ContactRef::Upsert(input)) => {
                let merged: ContactInput = merge_attributes(&mut tx, input).await?;
                Some(upsert_contact_on(&mut *tx, &merged).await?.id)
            }
        };
        let rating = |i: usize| new.rating.map(|r| [r.0, r.1, r.2][i]);
        let row = sqlx::query(AssertSqlSafe(INSERT.as_str()))
            .bind(new_id())
            .bind(&new.source)
            .bind(&new.body)
            .bind(rating(0))
            .bind(rating(1))
            .bind(rating(2))
            .bind(contact_id)
            .bind(new.url.as_deref())
            .bind(new.language.as_deref())
            .bind(tags.as_ref().map(|t| t.themes.clone()))
            .bind(tags.as_ref().map(|t| t.sentiment))
            .bind(tags.as_ref().map(|t| t.sentiment_milli))
            .bind(&new.idempotency_key)
            .bind(&new.request_hash)
            .bind(new.created_at)
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = row {
            tx.commit().await?;
            return Ok((feedback_from(&row)?, true));
        }
        let sql = format!("SELECT {COLUMNS} FROM feedback f WHERE f.idempotency_key = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(&new.idempotency_key).fetch_one(&mut *tx).await?;
        if row.try_get::<String, _>("request_hash")? != new.request_hash {
            return Err(StoreError::Conflict(format!(
                "idempotency key `{}` was already used for different feedback",
                new.idempotency_key
            )));
        }
        Ok((feedback_from(&row)?, false))
    }

    /// Newest first.
    pub async fn list_feedback(&self, filter: &FeedbackFilter, limit: i64) -> Result<Vec<Feedback>> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM feedback f WHERE 1 = 1"));
        filter.push(&mut sql);
        sql.push(" ORDER BY f.created_at DESC, f.id DESC LIMIT ").int(limit);
        sql.query(self.dialect).fetch_all(&self.pool).await?.iter().map(feedback_from).collect()
    }

    /// Mentions per theme and sentiment under `filter` (grouped by tag set and sentiment).
    pub async fn feedback_counts(&self, filter: &FeedbackFilter) -> Result<FeedbackCounts> {
        let mut sql =
            Sql::new("SELECT f.themes AS themes, f.sentiment AS sentiment, COUNT(*) AS n FROM feedback f WHERE 1 = 1");
        filter.push(&mut sql);
        sql.push(" GROUP BY f.themes, f.sentiment");
        let mut counts = FeedbackCounts::default();
        for row in sql.query(self.dialect).fetch_all(&self.pool).await? {
            let n = row.try_get::<i64, _>("n")? as u64;
            let sentiment: Option<String> = row.try_get("sentiment")?;
            counts.all.add(sentiment.as_deref(), n);
            for key in theme_keys(row.try_get::<Option<String>, _>("themes")?.as_deref()) {
                counts.themes.entry(key).or_default().add(sentiment.as_deref(), n);
            }
        }
        Ok(counts)
    }
}
