//! The durable job queue. Jobs live in the database, so they survive restarts and are
//! shared by every `hark serve` on one database. A job is claimed by one conditional UPDATE
//! (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), so it runs in one process at a time; a
//! claim is a lease, and a job whose worker died is claimed again when the lease runs out.

use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::filter::Sql;
use crate::{Dialect, Result, Store, StoreError, new_id, now_ms, parse_json};

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    pub run_at: i64,
    /// A second job with the same key is not added (e.g. `send:{invitation}`).
    pub dedupe_key: Option<String>,
    pub max_attempts: i64,
}

impl NewJob {
    pub fn new(kind: &str, payload: Value, run_at: i64) -> Self {
        NewJob { kind: kind.into(), payload, run_at, dedupe_key: None, max_attempts: 6 }
    }

    pub fn dedupe(mut self, key: String) -> Self {
        self.dedupe_key = Some(key);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Done, Self::Failed].into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: Value,
    pub status: JobStatus,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const JOB_COLUMNS: &str =
    "id, kind, payload, status, run_at, attempts, max_attempts, locked_by, last_error, created_at, updated_at";

fn job_from(row: &AnyRow) -> Result<Job> {
    let status: String = row.try_get("status")?;
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: parse_json("jobs.payload", &row.try_get::<String, _>("payload")?)?,
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("jobs.status {status}")))?,
        run_at: row.try_get("run_at")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        locked_by: row.try_get("locked_by")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Adds a job inside any executor, so that it commits with the change that asked for it;
/// false when a job with its dedupe key exists already.
pub(crate) async fn enqueue_on<'e, E>(exec: E, job: &NewJob) -> Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let now = now_ms();
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, dedupe_key, status, run_at, attempts, max_attempts, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, $7) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(job.dedupe_key.as_deref())
    .bind(job.run_at)
    .bind(job.max_attempts)
    .bind(now)
    .execute(exec)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Every kind of job there is.
pub const JOB_KINDS: &[&str] = &[
    crate::PLAYBOOK_JOB,
    crate::WEBHOOK_JOB,
    crate::CASE_MAIL_JOB,
    crate::SEND_INVITATION_JOB,
    crate::REMIND_INVITATION_JOB,
];

impl Store {
    /// False when a job with the same dedupe key exists already.
    pub async fn enqueue(&self, job: &NewJob) -> Result<bool> {
        enqueue_on(&mut *self.write_one().await?, job).await
    }

    /// Claims up to `limit` due jobs for `worker` for `lease_ms`; each is claimed by one
    /// worker only, however many run against this database.
    pub async fn claim_jobs(&self, worker: &str, lease_ms: i64, limit: i64) -> Result<Vec<Job>> {
        let claim = Bookkeeping::Claim { worker: worker.to_owned(), lease_ms, limit };
        Ok(self.keep_books(claim).await?.claimed)
    }

    /// Marks a claimed job done; false if the worker's lease was lost meanwhile.
    pub async fn finish_job(&self, id: &str, worker: &str) -> Result<bool> {
        Ok(self.finish_jobs(&[id.to_owned()], worker, &[]).await? == 1)
    }

    /// Marks many jobs done at once, and the webhook deliveries they made (delivery id, the
    /// receiver's status code) delivered, in one commit; returns how many jobs were still this
    /// worker's to finish. A crash before it loses both marks, so the job runs again, as it
    /// would had its call not been recorded.
    pub async fn finish_jobs(&self, ids: &[String], worker: &str, delivered: &[(String, i64)]) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let finish =
            Bookkeeping::Finish { ids: ids.to_vec(), worker: worker.to_owned(), delivered: delivered.to_vec() };
        Ok(self.keep_books(finish).await?.marked)
    }

    /// On SQLite, where one connection writes at a time, the answer writer does the queue's
    /// bookkeeping in its next group commit: a claim on its own waited for its turn behind the
    /// writer's batches (7 ms on average under 64 clients) and paid a commit of its own. On
    /// PostgreSQL, which locks rows, a transaction of its own.
    async fn keep_books(&self, books: Bookkeeping) -> Result<Kept> {
        if self.dialect == Dialect::Sqlite {
            return self.writer.keep_books(books).await;
        }
        let mut tx = self.begin_write().await?;
        let kept = books.keep_on(&mut tx, self.dialect).await?;
        tx.commit().await?;
        Ok(kept)
    }

    /// Deletes jobs done before `before_ms`, so that the queue stays small; failed ones stay
    /// for people to see.
    pub async fn purge_done_jobs(&self, before_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM jobs WHERE status = 'done' AND updated_at < $1")
            .bind(before_ms)
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(done.rows_affected())
    }

    /// Records a failed attempt: queued again at `retry_at`, or failed for good when `None`.
    pub async fn fail_job(&self, id: &str, worker: &str, error: &str, retry_at: Option<i64>) -> Result<()> {
        let status = if retry_at.is_some() { "queued" } else { "failed" };
        sqlx::query(
            "UPDATE jobs SET status = $3, run_at = COALESCE($4, run_at), last_error = $5, locked_by = NULL, \
             locked_until = NULL, updated_at = $6 WHERE id = $1 AND locked_by = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(worker)
        .bind(status)
        .bind(retry_at)
        .bind(error)
        .bind(now_ms())
        .execute(&mut *self.write_one().await?)
        .await?;
        Ok(())
    }

    /// Hands claimed jobs back untried, due again at `run_at`: their target was busy, so the
    /// claim does not count as an attempt. Returns how many were still this worker's.
    pub async fn postpone_jobs(&self, ids: &[String], worker: &str, run_at: i64) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let postpone = Bookkeeping::Postpone { ids: ids.to_vec(), worker: worker.to_owned(), run_at };
        Ok(self.keep_books(postpone).await?.marked)
    }

    /// Makes a queued job due now (the admin's "run now"); false if it is not queued.
    pub async fn run_job_now(&self, id: &str) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query("UPDATE jobs SET run_at = $2, updated_at = $2 WHERE id = $1 AND status = 'queued'")
            .bind(id)
            .bind(now)
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// When the next queued job is due, if any.
    pub async fn next_job_at(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE status = 'queued'").fetch_one(&self.pool).await?)
    }

    /// Most recently changed first.
    pub async fn list_jobs(&self, status: Option<JobStatus>, limit: i64) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 IS NULL OR status = $1) ORDER BY updated_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(status.map(JobStatus::as_str))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from).collect()
    }

    /// Work not done yet, by kind: (kind, jobs queued or running, when the oldest was made).
    pub async fn job_backlog(&self) -> Result<Vec<(String, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT kind, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs WHERE status IN ('queued', 'running') \
             GROUP BY kind ORDER BY kind",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("kind")?, r.try_get("n")?, r.try_get("oldest")?))).collect()
    }

    /// Number of jobs per status.
    pub async fn count_jobs(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status ORDER BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("status")?, r.try_get("n")?))).collect()
    }
}

/// Work on the job queue that the answer writer may do in its group commit (see
/// `Store::keep_books`).
pub(crate) enum Bookkeeping {
    Claim { worker: String, lease_ms: i64, limit: i64 },
    Finish { ids: Vec<String>, worker: String, delivered: Vec<(String, i64)> },
    Postpone { ids: Vec<String>, worker: String, run_at: i64 },
}

/// What a piece of bookkeeping returns: the jobs a claim took, or how many of the jobs
/// finished or postponed were still the worker's.
#[derive(Default)]
pub(crate) struct Kept {
    pub(crate) claimed: Vec<Job>,
    pub(crate) marked: u64,
}

impl Bookkeeping {
    pub(crate) async fn keep_on(&self, conn: &mut AnyConnection, dialect: Dialect) -> Result<Kept> {
        match self {
            Bookkeeping::Claim { worker, lease_ms, limit } => {
                let claimed = claim_on(conn, dialect, worker, *lease_ms, *limit).await?;
                Ok(Kept { claimed, ..Kept::default() })
            }
            Bookkeeping::Finish { ids, worker, delivered } => {
                let marked = finish_on(conn, dialect, ids, worker, delivered).await?;
                Ok(Kept { marked, ..Kept::default() })
            }
            Bookkeeping::Postpone { ids, worker, run_at } => {
                let marked = postpone_on(conn, dialect, ids, worker, *run_at).await?;
                Ok(Kept { marked, ..Kept::default() })
            }
        }
    }
}

async fn claim_on(
    conn: &mut AnyConnection,
    dialect: Dialect,
    worker: &str,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Job>> {
    let now = now_ms();
    // A job whose lease ran out (its process died) goes back to the queue first, so that the
    // claim reads only the head of the queue, in the order of its index, however long the
    // queue is: with `OR status = 'running'` it read and sorted every due job each time.
    sqlx::query(
        "UPDATE jobs SET status = 'queued', locked_by = NULL, locked_until = NULL \
             WHERE status = 'running' AND locked_until < $1",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let due = "status = 'queued' AND run_at <= $3";
    // PostgreSQL: pick the rows once (a materialized CTE) and skip rows another worker
    // holds; a plain `IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` may be re-evaluated
    // and claim more than n.
    // There the outer condition repeats `due`, so that a row another worker claimed
    // meanwhile is skipped. SQLite runs one write at a time, and given `due` again it would
    // walk the whole queue in its index instead of finding the picked rows by key.
    let (pick, lock, recheck) = match dialect {
        Dialect::Postgres => ("AS MATERIALIZED", " FOR UPDATE SKIP LOCKED", format!(" AND {due}")),
        Dialect::Sqlite => ("AS", "", String::new()),
    };
    let sql = format!(
        "WITH picked {pick} (SELECT id FROM jobs WHERE {due} ORDER BY run_at LIMIT $4{lock}) \
             UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM picked){recheck} RETURNING {JOB_COLUMNS}"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(worker)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(job_from).collect()
}

async fn finish_on(
    conn: &mut AnyConnection,
    dialect: Dialect,
    ids: &[String],
    worker: &str,
    delivered: &[(String, i64)],
) -> Result<u64> {
    let mut codes: Vec<i64> = delivered.iter().map(|(_, code)| *code).collect();
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        let mut sql = Sql::new(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, status = 'delivered', last_error = NULL, \
                 last_status_code = ",
        );
        sql.int(code).push(", delivered_at = ").int(now_ms()).push(" WHERE id");
        sql.in_texts(delivered.iter().filter(|(_, c)| *c == code).map(|(id, _)| id.as_str()));
        sql.query(dialect).execute(&mut *conn).await?;
    }
    let mut sql = Sql::new(
        "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, last_error = NULL, updated_at = ",
    );
    sql.int(now_ms()).push(" WHERE status = 'running' AND locked_by = ").text(worker).push(" AND id");
    sql.in_texts(ids.iter().map(String::as_str));
    let marked = sql.query(dialect).execute(&mut *conn).await?.rows_affected();
    Ok(marked)
}

async fn postpone_on(
    conn: &mut AnyConnection,
    dialect: Dialect,
    ids: &[String],
    worker: &str,
    run_at: i64,
) -> Result<u64> {
    let mut sql = Sql::new(
        "UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = NULL, locked_until = NULL, run_at = ",
    );
    sql.int(run_at).push(", updated_at = ").int(now_ms());
    sql.push(" WHERE status = 'running' AND locked_by = ").text(worker).push(" AND id");
    sql.in_texts(ids.iter().map(String::as_str));
    Ok(sql.query(dialect).execute(&mut *conn).await?.rows_affected())
}
