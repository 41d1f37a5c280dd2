//! The themes comments are read for: the built-in taxonomy until an organisation changes it,
//! then its own (the `themes` table). Every process reads with the themes of the generation it
//! last saw; a change bumps the generation and starts a walk that reads every stored comment
//! again, a batch per transaction, resumable from the place kept in `theme_tagging`.

use std::sync::{Arc, RwLock};

use hark_text::{Analyzer, Theme, Themes};
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};

use crate::reports::{Counted, Stripe, adjust_rollups};
use crate::responses::{RESPONSE_COLUMNS, response_from};
use crate::tagging::{CommentTags, tag};
use crate::{Dialect, Result, Store, StoreError, now_ms};

/// After a change, how long other processes may still tag new answers with the themes they
/// had (they look every few seconds): the walk does not end before, so it reads those too.
const RELOAD_GRACE_MS: i64 = 15_000;

/// The themes a process reads comments with, and where they come from.
pub struct Reading {
    pub analyzer: Analyzer,
    /// The generation of `theme_tagging` they were loaded at.
    pub generation: i64,
    /// Whether these are the organisation's own themes (else the built-in ones).
    pub own: bool,
    /// What tags read with them are stamped with: the rules and the themes' keys and terms.
    digest: String,
}

/// The current [`Reading`] of a store, shared by its clones and its writer.
pub(crate) struct CommentReader(RwLock<Arc<Reading>>);

impl CommentReader {
    pub fn builtin() -> Self {
        CommentReader(RwLock::new(Arc::new(reading(Themes::builtin().list().to_vec(), false, 0))))
    }

    pub fn current(&self) -> Arc<Reading> {
        self.0.read().expect("no writer panics while holding it").clone()
    }

    fn set(&self, reading: Reading) {
        *self.0.write().expect("no writer panics while holding it") = Arc::new(reading);
    }
}

fn reading(list: Vec<Theme>, own: bool, generation: i64) -> Reading {
    Reading { digest: digest(&list), analyzer: Analyzer::new(Themes::new(list)), generation, own }
}

/// The digest of the rules and of the themes' keys and terms (names change no tag).
fn digest(list: &[Theme]) -> String {
    let mut hash = Sha256::new();
    hash.update(hark_text::rules_digest());
    for theme in list {
        hash.update(serde_json::json!([theme.key, theme.terms]).to_string());
    }
    hash.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// How far reading the stored comments with the current themes has come.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct TaggingStatus {
    /// Bumped by every change of the themes; give it back when saving them.
    pub generation: i64,
    /// A walk reading every comment again is under way: comments read so far, of how many.
    pub rereading: Option<Progress>,
    /// When the last walk ended (epoch ms).
    pub finished_at: Option<i64>,
    /// Comments stored before tagging existed, still to be read.
    pub untagged: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub done: i64,
    pub total: i64,
    pub started_at: i64,
}

struct WalkState {
    generation: i64,
    tagged_with: Option<String>,
    digest: Option<String>,
    table: Option<String>,
    cursor: Option<String>,
    started_at: Option<i64>,
}

impl Store {
    /// What comments are read with in this process now.
    pub fn reading(&self) -> Arc<Reading> {
        self.reader.current()
    }

    /// The themes in use: the organisation's own, else the built-in taxonomy.
    pub async fn list_themes(&self) -> Result<(Vec<Theme>, bool)> {
        let rows = sqlx::query("SELECT key, names, terms FROM themes ORDER BY position").fetch_all(&self.pool).await?;
        if rows.is_empty() {
            return Ok((Themes::builtin().list().to_vec(), false));
        }
        fn json<T: serde::de::DeserializeOwned>(row: &sqlx::any::AnyRow, column: &str) -> Result<T> {
            let text: String = row.try_get(column)?;
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("themes.{column}: {e}")))
        }
        let list = rows
            .iter()
            .map(|row| Ok(Theme { key: row.try_get("key")?, names: json(row, "names")?, terms: json(row, "terms")? }))
            .collect::<Result<_>>()?;
        Ok((list, true))
    }

    /// Replaces the themes (`None`: back to the built-in ones) if nobody changed them since
    /// `generation`, and starts reading every comment again. Returns the new generation.
    pub async fn save_themes(&self, list: Option<Vec<Theme>>, generation: i64) -> Result<i64> {
        let own = list.is_some();
        let list = match list {
            Some(list) => {
                let list: Vec<Theme> = list.into_iter().map(Theme::tidy).collect();
                hark_text::check_list(&list)?;
                list
            }
            None => Themes::builtin().list().to_vec(),
        };
        let next = reading(list.clone(), own, generation + 1);
        let mut tx = self.begin_write().await?;
        let bumped =
            sqlx::query("UPDATE theme_tagging SET generation = generation + 1 WHERE id = 1 AND generation = $1")
                .bind(generation)
                .execute(&mut *tx)
                .await?;
        if bumped.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the themes were changed by someone else meanwhile; load them again and redo the change".into(),
            ));
        }
        sqlx::query("DELETE FROM themes").execute(&mut *tx).await?;
        if own {
            for (position, theme) in list.iter().enumerate() {
                sqlx::query("INSERT INTO themes (key, position, names, terms) VALUES ($1, $2, $3, $4)")
                    .bind(&theme.key)
                    .bind(position as i64)
                    .bind(serde_json::to_string(&theme.names).expect("a map of strings"))
                    .bind(serde_json::to_string(&theme.terms).expect("a map of lists"))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // A rename changes no tag: the comments are read again only for other keys or terms.
        let state = self.walk_state(&mut *tx).await?;
        if state.digest.as_ref().or(state.tagged_with.as_ref()) != Some(&next.digest) {
            start_walk(&mut tx, &next.digest).await?;
        }
        tx.commit().await?;
        self.reader.set(next);
        Ok(generation + 1)
    }

    /// Loads the themes again if another process changed them; then, if the stored tags were
    /// read with other rules or themes and no walk is under way, starts one. Called on start
    /// and every few seconds; returns whether a walk is under way.
    pub async fn sync_themes(&self) -> Result<bool> {
        let state = self.walk_state(&self.pool).await?;
        if state.generation != self.reading().generation {
            let (list, own) = self.list_themes().await?;
            self.reader.set(reading(list, own, state.generation));
        }
        let current = self.reading();
        let stale = state.tagged_with.as_deref() != Some(current.digest.as_str());
        if stale && state.digest.is_none() {
            let mut tx = self.begin_write().await?;
            // Another process may have started it meanwhile: only start from the same state.
            let state = self.walk_state(&mut *tx).await?;
            if state.digest.is_none() && state.generation == current.generation {
                start_walk(&mut tx, &current.digest).await?;
            }
            tx.commit().await?;
            return Ok(true);
        }
        Ok(state.digest.is_some())
    }

    /// Reads the next `limit` comments of the walk again, in one transaction; returns whether
    /// more are left. Any process may call it: the walk's row is locked for the step.
    pub async fn reread_comments(&self, limit: i64) -> Result<bool> {
        // Most of the time there is no walk: a read says so, without the write lock.
        if !self.sync_themes().await? {
            return Ok(false);
        }
        let reading = self.reading();
        let mut tx = self.begin_write().await?;
        let state = self.walk_state(&mut *tx).await?;
        // Only a process reading with the walk's themes takes its steps (one of another version
        // of Hark, during a rolling upgrade, leaves them to the others).
        let (Some(digest), Some(table)) = (state.digest, state.table) else { return Ok(false) };
        if state.generation != reading.generation || digest != reading.digest {
            return Ok(false);
        }
        let cursor = state.cursor.unwrap_or_default();
        let read = match table.as_str() {
            "responses" => reread_responses(&mut tx, self.dialect, &reading.analyzer, &cursor, limit).await?,
            _ => reread_feedback(&mut tx, &reading.analyzer, &cursor, limit).await?,
        };
        match (read.last(), table.as_str()) {
            (None, _) if now_ms() - state.started_at.unwrap_or_default() < RELOAD_GRACE_MS => {
                tx.commit().await?;
                return Ok(false);
            }
            (Some(last), _) => {
                sqlx::query("UPDATE theme_tagging SET walk_cursor = $1, walk_done = walk_done + $2 WHERE id = 1")
                    .bind(last)
                    .bind(read.len() as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            (None, "responses") => {
                sqlx::query("UPDATE theme_tagging SET walk_table = 'feedback', walk_cursor = NULL WHERE id = 1")
                    .execute(&mut *tx)
                    .await?;
            }
            (None, _) => {
                sqlx::query(
                    "UPDATE theme_tagging SET tagged_with = walk_digest, walk_digest = NULL, walk_table = NULL, \
                     walk_cursor = NULL, walk_finished_at = $1 WHERE id = 1",
                )
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn tagging_status(&self) -> Result<TaggingStatus> {
        let row = sqlx::query(
            "SELECT generation, walk_digest, walk_done, walk_total, walk_started_at, walk_finished_at \
             FROM theme_tagging WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        let walking: Option<String> = row.try_get("walk_digest")?;
        let rereading = match walking {
            Some(_) => Some(Progress {
                done: row.try_get("walk_done")?,
                total: row.try_get("walk_total")?,
                started_at: row.try_get::<Option<i64>, _>("walk_started_at")?.unwrap_or_default(),
            }),
            None => None,
        };
        Ok(TaggingStatus {
            generation: row.try_get("generation")?,
            rereading,
            finished_at: row.try_get("walk_finished_at")?,
            untagged: self.untagged_comments().await?,
        })
    }

    async fn walk_state<'c>(&self, conn: impl sqlx::Executor<'c, Database = sqlx::Any>) -> Result<WalkState> {
        let lock = if self.dialect == Dialect::Postgres { " FOR UPDATE" } else { "" };
        let sql = format!(
            "SELECT generation, tagged_with, walk_digest, walk_table, walk_cursor, walk_started_at \
             FROM theme_tagging WHERE id = 1{lock}"
        );
        let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(conn).await?;
        Ok(WalkState {
            generation: row.try_get("generation")?,
            tagged_with: row.try_get("tagged_with")?,
            digest: row.try_get("walk_digest")?,
            table: row.try_get("walk_table")?,
            cursor: row.try_get("walk_cursor")?,
            started_at: row.try_get("walk_started_at")?,
        })
    }
}

/// Starts a walk to `digest` from the first comment, counting what it will read.
async fn start_walk(tx: &mut sqlx::AnyConnection, digest: &str) -> Result<()> {
    let total: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM responses WHERE comment IS NOT NULL) + (SELECT COUNT(*) FROM feedback)",
    )
    .fetch_one(&mut *tx)
    .await?;
    if total == 0 {
        // Nothing stored to read again (a new database): the tags are the new ones already.
        sqlx::query("UPDATE theme_tagging SET tagged_with = $1 WHERE id = 1").bind(digest).execute(&mut *tx).await?;
        return Ok(());
    }
    sqlx::query(
        "UPDATE theme_tagging SET walk_digest = $1, walk_table = 'responses', walk_cursor = NULL, walk_done = 0, \
         walk_total = $2, walk_started_at = $3 WHERE id = 1",
    )
    .bind(digest)
    .bind(total)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Reads the answers with a comment after `cursor` again; writes those whose tags change and
/// moves them in the theme rollups. Returns the ids read.
async fn reread_responses(
    tx: &mut sqlx::AnyConnection,
    dialect: crate::Dialect,
    analyzer: &Analyzer,
    cursor: &str,
    limit: i64,
) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.comment IS NOT NULL AND r.id > $1 ORDER BY r.id LIMIT $2"
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(cursor).bind(limit).fetch_all(&mut *tx).await?;
    let mut moved = Vec::new();
    let mut ids = Vec::with_capacity(rows.len());
    for row in &rows {
        let before = response_from(row)?;
        ids.push(before.id.clone());
        let tags =
            tag(analyzer, before.comment.as_deref(), before.language.as_deref()).unwrap_or_else(CommentTags::none);
        let after = tags.applied_to(&before);
        if (&after.themes, &after.sentiment, &after.sentiment_score)
            == (&before.themes, &before.sentiment, &before.sentiment_score)
        {
            continue;
        }
        tags.write(&mut *tx, "responses", &before.id).await?;
        moved.push((Counted::of(&before), -1));
        moved.push((Counted::of(&after), 1));
    }
    adjust_rollups(tx, dialect, Stripe::SHARED, moved).await?;
    Ok(ids)
}

/// Reads the feedback after `cursor` again; writes what changes. Returns the ids read.
async fn reread_feedback(
    tx: &mut sqlx::AnyConnection,
    analyzer: &Analyzer,
    cursor: &str,
    limit: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id, body, language, themes, sentiment, sentiment_milli FROM feedback WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(cursor)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let mut ids = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("id")?;
        let body: String = row.try_get("body")?;
        let language: Option<String> = row.try_get("language")?;
        let tags = tag(analyzer, Some(&body), language.as_deref()).unwrap_or_else(CommentTags::none);
        let stored: (Option<String>, Option<String>, Option<i64>) =
            (row.try_get("themes")?, row.try_get("sentiment")?, row.try_get("sentiment_milli")?);
        if stored != (Some(tags.themes.clone()), Some(tags.sentiment.to_owned()), Some(tags.sentiment_milli)) {
            tags.write(&mut *tx, "feedback", &id).await?;
        }
        ids.push(id);
    }
    Ok(ids)
}
