//! Admin sessions and server settings. A session token lives only in the user's cookie;
//! the database keeps its SHA-256 and the session's CSRF token.

use hark_core::auth::{hash_secret, random_hex};
use sqlx::Row;

use crate::entities::user_from;
use crate::{Result, Store, User, now_ms};

/// A signed-in user as a request sees them.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: i64,
}

impl Store {
    /// Starts a session; returns the cookie token (shown once) and the session.
    pub async fn create_session(&self, user: &User, ttl_ms: i64) -> Result<(String, Session)> {
        let token = random_hex(32);
        let csrf_token = random_hex(32);
        let now = now_ms();
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *self.write_one().await?)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash_secret(&token))
        .bind(&user.id)
        .bind(&csrf_token)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&mut *self.write_one().await?)
        .await?;
        Ok((token, Session { user: user.clone(), csrf_token, expires_at: now + ttl_ms }))
    }

    /// The live session of a cookie token, if any.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {}, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.deactivated_at IS NULL",
            crate::entities::user_columns("u")
        )))
        .bind(hash_secret(token))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Session {
                user: user_from(&r)?,
                csrf_token: r.try_get("csrf_token")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Sets a user's password and ends their other sessions (a changed password locks out
    /// whoever else was signed in as them); the session of `keep_token` stays.
    pub async fn change_password(&self, user_id: &str, password_hash: &str, keep_token: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(hash_secret(keep_token))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash_secret(token))
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    /// The server's secret for signing public links, made on first use and shared by every
    /// process on this database.
    pub async fn link_secret(&self) -> Result<String> {
        self.secret_setting("link_secret").await
    }

    /// The secret a website signs its visitors' ids with, so that the widget may attach an
    /// answer to a known contact (see `hark_core::auth::visitor_signature`).
    pub async fn widget_identity_secret(&self) -> Result<String> {
        self.secret_setting("widget_identity_secret").await
    }

    /// A random secret made on first use and kept in the settings table.
    async fn secret_setting(&self, key: &str) -> Result<String> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(random_hex(32))
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_one(&self.pool).await?)
    }
}
