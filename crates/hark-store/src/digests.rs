//! Digests by mail: each person's digest of a period is queued once, in the same transaction
//! that records it, so that neither a restart nor a second process sends it twice.

use crate::jobs::{NewJob, enqueue_on};
use crate::{Result, Store, StoreError, now_ms};

/// The job that writes and mails one person's digest.
pub const DIGEST_JOB: &str = "digest";

impl Store {
    /// Records `user_id`'s digest of `[period_start, period_end)` and queues `job` for it;
    /// `false` (and nothing queued) if that digest was queued before.
    pub async fn queue_digest(&self, user_id: &str, period_start: i64, period_end: i64, job: &NewJob) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let recorded = sqlx::query(
            "INSERT INTO digests (user_id, period_end, period_start, queued_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, period_end) DO NOTHING",
        )
        .bind(user_id)
        .bind(period_end)
        .bind(period_start)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if recorded == 0 {
            return Ok(false);
        }
        enqueue_on(&mut *tx, job).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Who has had the digest of the period that ends at `period_end` queued already: read
    /// once a sweep, so that only the others cost a write.
    pub async fn digested(&self, period_end: i64) -> Result<std::collections::HashSet<String>> {
        Ok(sqlx::query_scalar("SELECT user_id FROM digests WHERE period_end = $1")
            .bind(period_end)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect())
    }

    /// Whether the person gets digests.
    pub async fn set_digest_opt_out(&self, user_id: &str, opt_out: bool) -> Result<()> {
        let done = sqlx::query("UPDATE users SET digest_opt_out = $2 WHERE id = $1")
            .bind(user_id)
            .bind(i64::from(opt_out))
            .execute(&mut *self.write_one().await?)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }
}
