//! Shared links: a dashboard view or a wallboard shown without signing in, read-only, as its
//! maker may see it, until it expires or is revoked.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, new_id, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedLink {
    pub id: String,
    /// `view` or `wallboard`.
    pub kind: String,
    /// The dashboard page and its filters (an address's query, without `?`).
    pub page: String,
    pub query: String,
    /// The user whose scope the link shows.
    pub created_by: String,
    /// Whether customers' names and comments may be shown.
    pub personal_data: bool,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
}

impl SharedLink {
    /// Neither revoked nor expired at `now`.
    pub fn live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

pub struct NewSharedLink<'a> {
    pub kind: &'a str,
    pub page: &'a str,
    pub query: &'a str,
    pub created_by: &'a str,
    pub personal_data: bool,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, kind, page, query, created_by, personal_data, expires_at, revoked_at, created_at";

fn link_from(row: &AnyRow) -> Result<SharedLink> {
    Ok(SharedLink {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        page: row.try_get("page")?,
        query: row.try_get("query")?,
        created_by: row.try_get("created_by")?,
        personal_data: row.try_get::<i64, _>("personal_data")? != 0,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    pub async fn create_shared_link(&self, new: &NewSharedLink<'_>) -> Result<SharedLink> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO shared_links ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8) RETURNING {COLUMNS}"
        )))
        .bind(new_id())
        .bind(new.kind)
        .bind(new.page)
        .bind(new.query)
        .bind(new.created_by)
        .bind(i64::from(new.personal_data))
        .bind(new.expires_at)
        .bind(now_ms())
        .fetch_one(&mut *self.write_one().await?)
        .await?;
        link_from(&row)
    }

    /// Newest first.
    pub async fn list_shared_links(&self) -> Result<Vec<SharedLink>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM shared_links ORDER BY created_at DESC, id DESC"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(link_from).collect()
    }

    pub async fn get_shared_link(&self, id: &str) -> Result<Option<SharedLink>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM shared_links WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(link_from).transpose()
    }

    /// Ends a link for good (a second revocation keeps the first time).
    pub async fn revoke_shared_link(&self, id: &str) -> Result<()> {
        let done = sqlx::query("UPDATE shared_links SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
            .bind(id)
            .bind(now_ms())
            .execute(&mut *self.write_one().await?)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("shared link"));
        }
        Ok(())
    }
}
