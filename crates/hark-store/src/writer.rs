//! Group commit for responses. Submits queue to one task that writes everything waiting in
//! one transaction and answers each submit after the commit: with many concurrent clients one
//! fsync covers a whole batch, while every acknowledged response is already durable.
//!
//! If a batch fails as a whole (a constraint broken by one item, a lost connection), each
//! of its items is retried in a transaction of its own, so one bad item fails only itself.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use hark_core::playbook::Playbooks;

use serde_json::Value;

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Row};
use tokio::sync::{mpsc, oneshot};

use crate::cases::{active_webhooks_on, case_payload, enqueue_playbooks_on, queue_deliveries_on, response_payload};
use crate::entities::{merge_attributes, upsert_contact_on};
use crate::filter::{Bind, Sql, fold_for_search};
use crate::jobs::{Bookkeeping, Kept};
use crate::reports::{Counted, Stripe, adjust_rollups};
use crate::responses::{RESPONSE_COLUMNS, response_from};
use crate::tagging::{self, CommentTags};
use crate::writing::WriteTurns;
use crate::{ContactRef, Dialect, FollowUp, NewResponse, Response, Result, StoreError, Submitted, new_id, now_ms};

/// Largest batch; bounds transaction size and the latency of its last item.
const MAX_BATCH: usize = 512;

/// Answers per INSERT statement: a batch's statements then take few shapes, each prepared
/// once and kept by the connection.
const ROWS_PER_INSERT: usize = 8;

/// What the writer is asked to do: store an answer, or keep the job queue's books (see
/// `Store::keep_books`). Answers are nearly every entry, so they are not boxed.
#[allow(clippy::large_enum_variant)]
enum Work {
    Answer(Item, oneshot::Sender<Result<Submitted>>),
    Books(Bookkeeping, oneshot::Sender<Result<Kept>>),
}

#[derive(Clone)]
pub(crate) struct Handle {
    queue: mpsc::Sender<Work>,
    reader: std::sync::Arc<crate::themes::CommentReader>,
}

/// An answer with its comment's tags, read in the submitter's task so that the single writer
/// does no text work.
pub(crate) struct Item {
    response: NewResponse,
    tags: Option<CommentTags>,
}

impl Handle {
    pub async fn submit(&self, response: NewResponse) -> Result<Submitted> {
        let (reply, answer) = oneshot::channel();
        let reading = self.reader.current();
        let tags = tagging::tag(&reading.analyzer, response.comment.as_deref(), response.language.as_deref());
        self.queue.send(Work::Answer(Item { response, tags }, reply)).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Keeps the books in the next group commit; answers after it.
    pub(crate) async fn keep_books(&self, books: Bookkeeping) -> Result<Kept> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Work::Books(books, reply)).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// Starts the writer on a thread and runtime of its own, with a connection of its own (made
/// there, so that its I/O is driven there). On the server's runtime it waited behind every
/// request being handled, at each of its statements.
pub(crate) async fn spawn(
    url: String,
    turns: WriteTurns,
    reader: std::sync::Arc<crate::themes::CommentReader>,
) -> Result<Handle> {
    let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
    let (ready, connected) = oneshot::channel();
    std::thread::Builder::new()
        .name("hark-writer".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => return drop(ready.send(Err(sqlx::Error::Io(e)))),
            };
            runtime.block_on(async move {
                match crate::connect_writer(&url, turns.dialect()).await {
                    Ok(conn) => {
                        let _ = ready.send(Ok(()));
                        let stripe = Stripe::for_writer(turns.dialect());
                        let mut writer = Writer { conn: Some(conn), url, turns, stripe };
                        run(&mut writer, jobs).await;
                        if let Some(conn) = writer.conn.take() {
                            let _ = conn.close().await;
                        }
                    }
                    Err(e) => drop(ready.send(Err(e))),
                }
            })
        })
        .map_err(sqlx::Error::Io)?;
    connected.await.map_err(|_| StoreError::WriterGone)??;
    Ok(Handle { queue, reader })
}

async fn run(writer: &mut Writer, mut queue: mpsc::Receiver<Work>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        metrics::histogram!("hark_writer_batch_size").record(batch.len() as f64);
        let (mut answers, mut books) = (Vec::new(), Vec::new());
        for work in batch.drain(..) {
            match work {
                Work::Answer(item, reply) => answers.push((item, reply)),
                Work::Books(b, reply) => books.push((b, reply)),
            }
        }
        let items: Vec<&Item> = answers.iter().map(|(item, _)| item).collect();
        let kept: Vec<&Bookkeeping> = books.iter().map(|(b, _)| b).collect();
        match writer.write(&items, &kept).await {
            Ok((results, kept)) => {
                for ((_, reply), result) in answers.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
                for ((_, reply), kept) in books.into_iter().zip(kept) {
                    let _ = reply.send(Ok(kept));
                }
            }
            Err(batch_error) => {
                if answers.len() + books.len() > 1 {
                    tracing::debug!(%batch_error, answers = answers.len(), "batch failed; writing its items one by one");
                }
                for (item, reply) in answers {
                    let result = match writer.write(&[&item], &[]).await {
                        Ok((mut results, _)) => results.pop().expect("one result per item"),
                        Err(e) => Err(e),
                    };
                    let _ = reply.send(result);
                }
                for (b, reply) in books {
                    let kept = writer.write(&[], &[&b]).await;
                    let _ = reply.send(kept.map(|(_, mut kept)| kept.pop().expect("one result per entry")));
                }
            }
        }
    }
}

/// The writer's connection, its turns at the file, and the rollup rows it counts into.
struct Writer {
    /// None once it is lost (a write failed and so did a ping after it): made again for the
    /// next write, so that a restarted PostgreSQL server fails only the batch in flight.
    conn: Option<AnyConnection>,
    url: String,
    turns: WriteTurns,
    stripe: Stripe,
}

impl Writer {
    /// Writes the answers and keeps the books in one transaction. The outer error fails the
    /// whole batch; an inner one (an idempotency key reused for another request) belongs to its
    /// answer alone.
    async fn write(&mut self, tagged: &[&Item], books: &[&Bookkeeping]) -> Result<(Vec<Result<Submitted>>, Vec<Kept>)> {
        let written = self.write_on_connection(tagged, books).await;
        if written.is_err()
            && let Some(conn) = &mut self.conn
            && conn.ping().await.is_err()
        {
            self.conn = None;
        }
        written
    }

    async fn write_on_connection(
        &mut self,
        tagged: &[&Item],
        books: &[&Bookkeeping],
    ) -> Result<(Vec<Result<Submitted>>, Vec<Kept>)> {
        let dialect = self.turns.dialect();
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(crate::connect_writer(&self.url, dialect).await?),
        };
        let mut tx = self.turns.begin_on(conn).await?;
        let results =
            if tagged.is_empty() { Vec::new() } else { write_answers(&mut tx, dialect, self.stripe, tagged).await? };
        let mut kept = Vec::with_capacity(books.len());
        for b in books {
            kept.push(b.keep_on(&mut tx, dialect).await?);
        }
        tx.commit().await?;
        Ok((results, kept))
    }
}

async fn write_answers(
    tx: &mut AnyConnection,
    dialect: Dialect,
    stripe: Stripe,
    tagged: &[&Item],
) -> Result<Vec<Result<Submitted>>> {
    let mut contact_ids = Vec::with_capacity(tagged.len());
    for item in tagged {
        contact_ids.push(match &item.response.contact {
            None => None,
            Some(ContactRef::Id(id)) => Some(id.clone()),
            Some(ContactRef::Upsert(input)) => {
                let merged = merge_attributes(tx, input).await?;
                Some(upsert_contact_on(&mut *tx, &merged).await?.id)
            }
        });
    }
    // Multi-row INSERTs: a statement per row would make the single writer the bottleneck.
    // They return only the ids of the rows stored (a row whose key exists already is not) and
    // the team each defaulted to: the rest of each answer is here already, and reading whole
    // rows back took about a sixth of SQLite's thread under load.
    let ids: Vec<String> = tagged.iter().map(|_| new_id()).collect();
    let received_at = now_ms();
    let mut inserted = HashMap::new();
    for ((rows, contacts), ids) in
        tagged.chunks(ROWS_PER_INSERT).zip(contact_ids.chunks(ROWS_PER_INSERT)).zip(ids.chunks(ROWS_PER_INSERT))
    {
        for row in insert_statement(rows, ids, contacts, received_at).query(dialect).fetch_all(&mut *tx).await? {
            inserted.insert(row.try_get::<String, _>("id")?, row.try_get::<Option<String>, _>("team_id")?);
        }
    }
    let mut results = Vec::with_capacity(tagged.len());
    let mut playbooks = Vec::new();
    let mut webhooks_only = Vec::new();
    for ((entry, id), contact_id) in tagged.iter().zip(ids).zip(contact_ids) {
        let item = &entry.response;
        match inserted.remove(&id) {
            Some(team_id) => {
                let response = as_stored(entry, id, contact_id, team_id, received_at);
                match &item.follow_up {
                    FollowUp::Playbook(p) => playbooks.push((response.clone(), p.clone())),
                    // Where its result will be: read there, not copied.
                    FollowUp::Webhooks => webhooks_only.push(results.len()),
                    FollowUp::None => {}
                }
                results.push(Ok(Submitted { response, created: true }))
            }
            None => results.push(existing(tx, item).await?),
        }
    }
    let created = results.iter().filter_map(|r| r.as_ref().ok()).filter(|s| s.created);
    adjust_rollups(tx, dialect, stripe, created.map(|s| (Counted::of(&s.response), 1))).await?;
    let follow_up = if playbooks.is_empty() && webhooks_only.is_empty() {
        Vec::new()
    } else {
        let webhooks_only: Vec<&Response> =
            webhooks_only.iter().filter_map(|&i| results[i].as_ref().ok()).map(|s| &s.response).collect();
        follow_up_on(tx, dialect, &playbooks, &webhooks_only).await?
    };
    enqueue_playbooks_on(&mut *tx, dialect, &follow_up).await?;
    Ok(results)
}

/// Runs the playbooks of new live answers and queues the webhook deliveries about them, in
/// their own transaction; returns the answers left to the playbook job (a public door's case
/// budget, round robin), which queues their deliveries itself.
async fn follow_up_on(
    tx: &mut AnyConnection,
    dialect: Dialect,
    playbooks: &[(Response, Arc<Playbooks>)],
    webhooks_only: &[&Response],
) -> Result<Vec<String>> {
    let ran = crate::playbooks::run_on(&mut *tx, dialect, playbooks).await?;
    let hooks = active_webhooks_on(&mut *tx).await?;
    if hooks.is_empty() {
        return Ok(ran.left);
    }
    if hooks.iter().any(|h| h.wants("response.created")) {
        let answers =
            playbooks.iter().map(|(r, _)| r).chain(webhooks_only.iter().copied()).filter(|r| !ran.left.contains(&r.id));
        let answers: Vec<&Response> = answers.collect();
        let names = survey_names_on(&mut *tx, dialect, &answers).await?;
        for r in answers {
            // An anonymous answer has no contact page to open.
            let link = r.contact_id.as_ref().map_or_else(String::new, |c| format!("/admin/contacts/{c}"));
            let payload = response_payload(r, names.get(&r.survey_id).map_or("", String::as_str), &link);
            queue_deliveries_on(&mut *tx, &hooks, "response.created", &format!("response:{}", r.id), &payload).await?;
        }
    }
    for case in &ran.opened {
        let response = playbooks.iter().map(|(r, _)| r).find(|r| r.id == case.response_id);
        let payload = case_payload(case, response, &format!("/admin/cases/{}", case.id));
        queue_deliveries_on(&mut *tx, &hooks, "case.opened", &format!("case-opened:{}", case.id), &payload).await?;
    }
    Ok(ran.left)
}

/// The names of the surveys these answers belong to, by id.
async fn survey_names_on(
    conn: &mut AnyConnection,
    dialect: Dialect,
    answers: &[&Response],
) -> Result<HashMap<String, String>> {
    let ids: std::collections::BTreeSet<&str> = answers.iter().map(|r| r.survey_id.as_str()).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new("SELECT id, name FROM surveys WHERE id");
    let rows = sql.in_texts(ids).query(dialect).fetch_all(&mut *conn).await?;
    rows.iter().map(|row| Ok((row.try_get("id")?, row.try_get("name")?))).collect()
}

/// The answer as the INSERT above stored it.
fn as_stored(
    item: &Item,
    id: String,
    contact_id: Option<String>,
    team_id: Option<String>,
    received_at: i64,
) -> Response {
    let r = &item.response;
    let mut stored = Response {
        id,
        survey_id: r.survey_id.clone(),
        invitation_id: r.invitation_id.clone(),
        contact_id,
        score: r.score,
        segment: r.segment,
        comment: r.comment.clone(),
        answers: r.answers.clone(),
        agent_score: r.agent_score,
        language: r.language.clone(),
        channel: r.channel.clone(),
        agent_id: r.agent_id.clone(),
        team_id,
        context: r.context.clone(),
        idempotency_key: r.idempotency_key.clone(),
        created_at: r.created_at,
        received_at,
        themes: Vec::new(),
        sentiment: None,
        sentiment_score: None,
    };
    if let Some(tags) = &item.tags {
        tags.apply(&mut stored);
    }
    stored
}

fn insert_statement(items: &[&Item], ids: &[String], contact_ids: &[Option<String>], received_at: i64) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO responses (id, survey_id, invitation_id, contact_id, score, segment, comment, answers, \
           agent_score, language, channel, agent_id, team_id, context, idempotency_key, request_hash, created_at, received_at, \
           search_text, themes, sentiment, sentiment_milli) VALUES ",
    );
    for (i, ((item, id), contact_id)) in items.iter().zip(ids).zip(contact_ids).enumerate() {
        let (r, tags) = (&item.response, item.tags.as_ref());
        sql.push(if i == 0 { "(" } else { ", (" });
        let text = |s: Option<&str>| Bind::Text(s.map(str::to_string));
        sql.bind(text(Some(id))).push(", ");
        sql.bind(text(Some(&r.survey_id))).push(", ");
        sql.bind(text(r.invitation_id.as_deref())).push(", ");
        sql.bind(Bind::Text(contact_id.clone())).push(", ");
        sql.bind(Bind::Int(Some(r.score))).push(", ");
        sql.bind(text(Some(r.segment.as_str()))).push(", ");
        sql.bind(text(r.comment.as_deref())).push(", ");
        sql.bind(text(Some(&Value::Object(r.answers.clone()).to_string()))).push(", ");
        sql.bind(Bind::Int(r.agent_score)).push(", ");
        sql.bind(text(r.language.as_deref())).push(", ");
        sql.bind(text(Some(&r.channel))).push(", ");
        sql.bind(text(r.agent_id.as_deref())).push(", COALESCE(");
        // The team defaults to the agent's team at the time of the answer.
        sql.bind(text(r.team_id.as_deref())).push(", (SELECT a.team_id FROM agents a WHERE a.id = ");
        sql.bind(text(r.agent_id.as_deref())).push(")), ");
        sql.bind(text(Some(&Value::Object(r.context.clone()).to_string()))).push(", ");
        sql.bind(text(Some(&r.idempotency_key))).push(", ");
        sql.bind(text(Some(&r.request_hash))).push(", ");
        sql.bind(Bind::Int(Some(r.created_at))).push(", ");
        sql.bind(Bind::Int(Some(received_at))).push(", ");
        sql.bind(Bind::Text(r.comment.as_deref().map(fold_for_search))).push(", ");
        sql.bind(Bind::Text(tags.map(|t| t.themes.clone()))).push(", ");
        sql.bind(text(tags.map(|t| t.sentiment))).push(", ");
        sql.bind(Bind::Int(tags.map(|t| t.sentiment_milli))).push(")");
    }
    sql.push(" ON CONFLICT (survey_id, idempotency_key) DO NOTHING RETURNING id, team_id");
    sql
}

static EXISTING: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.survey_id = $1 AND r.idempotency_key = $2")
});

/// The response an earlier request with this key stored, if it was the same request.
async fn existing(conn: &mut AnyConnection, r: &NewResponse) -> Result<Result<Submitted>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Backend, TestDatabase};
    use crate::{NewJob, Store, SurveyStatus};

    /// A batch that fails as a whole (one answer names an agent that does not exist) is written
    /// again entry by entry: the bad answer fails alone, and the good answer and the job claim
    /// that shared its batch are kept.
    #[tokio::test]
    async fn a_failed_batch_is_written_again_entry_by_entry_books_too() {
        let db = TestDatabase::new(Backend::Sqlite).await.unwrap();
        let store = Store::open(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let definition = serde_json::from_value(serde_json::json!({"name": "NPS", "kind": "nps", "brand": "Acme"}));
        let survey = store.create_survey(&definition.unwrap(), SurveyStatus::Active).await.unwrap().id;
        store.enqueue(&NewJob::new(crate::WEBHOOK_JOB, serde_json::json!({}), 0)).await.unwrap();
        let queue = &store.writer.queue;
        let answer = |key: &str, agent: Option<&str>| {
            let response =
                NewResponse { agent_id: agent.map(str::to_owned), ..crate::testing::answer(&survey, key, 3) };
            let (reply, answered) = oneshot::channel();
            (Work::Answer(Item { response, tags: None }, reply), answered)
        };
        // While the turn to write is held here, the writer waits with its first entry, and the
        // next ones queue behind it: they reach it together, as one batch.
        let turn = store.begin_write().await.unwrap();
        let (first, first_answered) = answer("first", None);
        queue.send(first).await.unwrap();
        while queue.capacity() != queue.max_capacity() {
            tokio::task::yield_now().await;
        }
        let (bad, bad_answered) = answer("bad", Some("no-such-agent"));
        let (good, good_answered) = answer("good", None);
        let (reply, claimed) = oneshot::channel();
        let claim = Work::Books(Bookkeeping::Claim { worker: "w".into(), lease_ms: 60_000, limit: 10 }, reply);
        for work in [bad, good, claim] {
            queue.send(work).await.unwrap();
        }
        drop(turn);
        assert!(first_answered.await.unwrap().is_ok());
        assert!(matches!(bad_answered.await.unwrap(), Err(StoreError::Database(_))));
        assert!(good_answered.await.unwrap().is_ok());
        assert_eq!(claimed.await.unwrap().unwrap().claimed.len(), 1);
        assert_eq!(store.count_responses(&Default::default()).await.unwrap(), 2);
    }
}
