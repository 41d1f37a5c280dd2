//! Group commit for responses. Submits queue to one task that writes everything waiting in
//! one transaction and answers each submit after the commit: with many concurrent clients one
//! fsync covers a whole batch, while every acknowledged response is already durable.
//!
//! If a batch fails as a whole (a constraint broken by one item, a lost connection), each
//! of its items is retried in a transaction of its own, so one bad item fails only itself.

use std::sync::LazyLock;

use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Row};
use tokio::sync::{mpsc, oneshot};

use crate::entities::{merge_attributes, upsert_contact_on};
use crate::responses::{RESPONSE_COLUMNS, response_from};
use crate::{ContactRef, Dialect, NewResponse, Result, StoreError, Submitted, new_id, now_ms};

/// Largest batch; bounds transaction size and the latency of its last item.
const MAX_BATCH: usize = 512;

struct Job {
    response: NewResponse,
    reply: oneshot::Sender<Result<Submitted>>,
}

#[derive(Clone)]
pub(crate) struct Handle {
    queue: mpsc::Sender<Job>,
}

impl Handle {
    pub async fn submit(&self, response: NewResponse) -> Result<Submitted> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job { response, reply }).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

pub(crate) fn spawn(pool: AnyPool, dialect: Dialect) -> Handle {
    let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
    tokio::spawn(run(pool, dialect, jobs));
    Handle { queue }
}

async fn run(pool: AnyPool, dialect: Dialect, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let taken: Vec<Job> = std::mem::take(&mut batch);
        let responses: Vec<&NewResponse> = taken.iter().map(|j| &j.response).collect();
        match write(&pool, dialect, &responses).await {
            Ok(results) => {
                for (job, result) in taken.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(batch_error) => {
                if taken.len() > 1 {
                    tracing::debug!(%batch_error, size = taken.len(), "batch failed; writing its items one by one");
                }
                for job in taken {
                    let result = match write(&pool, dialect, &[&job.response]).await {
                        Ok(mut results) => results.pop().expect("one result per item"),
                        Err(e) => Err(e),
                    };
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

/// Writes the items in one transaction. The outer error fails the whole batch; an inner one
/// (an idempotency key reused for another request) belongs to its item alone.
async fn write(pool: &AnyPool, dialect: Dialect, items: &[&NewResponse]) -> Result<Vec<Result<Submitted>>> {
    let mut tx = crate::begin_write(pool, dialect).await?;
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        results.push(write_one(&mut tx, item).await?);
    }
    tx.commit().await?;
    Ok(results)
}

static INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO responses (id, survey_id, invitation_id, contact_id, score, segment, comment, answers, \
           agent_score, language, channel, agent_id, team_id, context, idempotency_key, request_hash, created_at, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
           COALESCE($13, (SELECT a.team_id FROM agents a WHERE a.id = $12)), $14, $15, $16, $17, $18) \
         ON CONFLICT (survey_id, idempotency_key) DO NOTHING RETURNING {}",
        RESPONSE_COLUMNS.replace("r.", "")
    )
});

static EXISTING: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.survey_id = $1 AND r.idempotency_key = $2")
});

async fn write_one(conn: &mut AnyConnection, r: &NewResponse) -> Result<Result<Submitted>> {
    let contact_id = match &r.contact {
        None => None,
        Some(ContactRef::Id(id)) => Some(id.clone()),
        Some(ContactRef::Upsert(input)) => {
            let merged = merge_attributes(conn, input).await?;
            Some(upsert_contact_on(&mut *conn, &merged).await?.id)
        }
    };
    let inserted = sqlx::query(AssertSqlSafe(INSERT.as_str()))
        .bind(new_id())
        .bind(&r.survey_id)
        .bind(r.invitation_id.as_deref())
        .bind(contact_id)
        .bind(r.score)
        .bind(r.segment.as_str())
        .bind(r.comment.as_deref())
        .bind(serde_json::Value::Object(r.answers.clone()).to_string())
        .bind(r.agent_score)
        .bind(r.language.as_deref())
        .bind(&r.channel)
        .bind(r.agent_id.as_deref())
        .bind(r.team_id.as_deref())
        .bind(serde_json::Value::Object(r.context.clone()).to_string())
        .bind(&r.idempotency_key)
        .bind(&r.request_hash)
        .bind(r.created_at)
        .bind(now_ms())
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = inserted {
        return Ok(Ok(Submitted { response: response_from(&row)?, created: true }));
    }
    let row = sqlx::query(AssertSqlSafe(EXISTING.as_str()))
        .bind(&r.survey_id)
        .bind(&r.idempotency_key)
        .fetch_one(&mut *conn)
        .await?;
    let stored_hash: String = row.try_get("request_hash")?;
    if stored_hash != r.request_hash {
        return Ok(Err(StoreError::Conflict(format!(
            "idempotency key `{}` was already used for a different response",
            r.idempotency_key
        ))));
    }
    Ok(Ok(Submitted { response: response_from(&row)?, created: false }))
}
