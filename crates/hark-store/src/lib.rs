//! Hark's storage: one interface, [`Store`], over SQLite (embedded default) and PostgreSQL.
//!
//! There is one implementation written in portable SQL (text ids, epoch-ms integers, `$n`
//! placeholders, `ON CONFLICT`, `RETURNING`) through sqlx's `Any` driver; [`Dialect`] covers
//! the few places where the two engines differ. Responses are written through a
//! group-commit writer ([`writer`]) so that many concurrent submits share one fsync.

mod cases;
mod digests;
mod entities;
mod feedback;
mod filter;
mod invitations;
mod jobs;
mod monitoring;
mod playbooks;
mod reports;
mod responses;
mod sessions;
mod shared;
mod tagging;
pub mod testing;
mod themes;
mod writer;
mod writing;

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyConnection, AnyPool, Connection, Executor, SqlSafeStr};

pub use cases::*;
pub use digests::DIGEST_JOB;
pub use entities::*;
pub use feedback::{Feedback, FeedbackCounts, FeedbackFilter, NewFeedback, SentimentCounts};
pub use filter::{ResponseFilter, fold_for_search};
pub use invitations::*;
pub use jobs::*;
pub use monitoring::*;
pub use playbooks::{MAIL_AUTO, MAIL_CASE_OPENED, case_mail_job};
pub use reports::{ChannelRate, Dimension, Rollup, ScoreColumn, ScoreCounts, Source};
pub use responses::*;
pub use sessions::*;
pub use shared::{NewSharedLink, SharedLink};
pub use tagging::{Mentions, RecentComment, ThemeCounts};
pub use themes::{Progress, Reading, TaggingStatus};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] hark_core::ValidationErrors),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the storage writer has stopped")]
    WriterGone,
    /// Other writes held the database for longer than a write may wait.
    #[error("the database is busy with other writes; try again in a moment")]
    Busy,
    /// This database engine does not do this (e.g. `hark backup` on PostgreSQL).
    #[error("{0}")]
    Unsupported(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The SQL engine behind a store; only consulted where the engines differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    writer: writer::Handle,
    turns: writing::WriteTurns,
    surveys: std::sync::Arc<entities::SurveyCache>,
    /// The themes comments are read with in this process.
    reader: std::sync::Arc<themes::CommentReader>,
}

/// Turns what a user passes (`postgres://…`, `sqlite://…` or a plain file path) into a URL.
pub fn database_url(spec: &str) -> String {
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") || spec.starts_with("sqlite:") {
        spec.to_string()
    } else {
        format!("sqlite://{spec}?mode=rwc")
    }
}

/// What a connection is for: the readers' pool, or the answer writer's own connection.
#[derive(Clone, Copy, PartialEq)]
enum ConnectionFor {
    Readers,
    Writer,
}

/// The readers' pool.
fn reader_pool(dialect: Dialect) -> AnyPoolOptions {
    let connections = match dialect {
        Dialect::Sqlite => 8,
        Dialect::Postgres => 16,
    };
    AnyPoolOptions::new()
        .max_connections(connections)
        .after_connect(move |conn, _| Box::pin(prepare(conn, dialect, ConnectionFor::Readers)))
}

/// How every connection is made: on SQLite, WAL lets readers run beside the writer, and
/// synchronous=FULL makes every commit durable before it is acknowledged (group commit keeps
/// that cheap). The writer keeps its statement journals in memory: each multi-row INSERT of a
/// batch may be undone alone, and a journal past SQLite's spill size went to a temporary file,
/// written page by page (about 8 % of the SQLite thread's time under load). Readers keep their
/// temporary files, as a sort over millions of answers would hold them in memory. Readers map
/// the database into memory: with SQLite's 2 MB page cache per connection, a report over
/// millions of answers copied each page it read from the kernel's cache (a third of a team's
/// Themes request's CPU samples were the kernel copying for `pread`); mapped, a page is read
/// where the kernel keeps it, shared by every connection. The writer reads few pages and keeps
/// its own cache: mapped pages count in the process's resident memory.
async fn prepare(conn: &mut AnyConnection, dialect: Dialect, role: ConnectionFor) -> sqlx::Result<()> {
    match dialect {
        Dialect::Sqlite => {
            conn.execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
            )
            .await?;
            match role {
                ConnectionFor::Writer => conn.execute("PRAGMA temp_store = MEMORY;").await?,
                // Up to SQLITE_MAX_MMAP_SIZE (.cargo/config.toml), 64 GiB of address space.
                ConnectionFor::Readers => conn.execute("PRAGMA mmap_size = 68719476736;").await?,
            };
        }
        // JIT compiles a query the planner guesses to be costly, and for Hark's short queries
        // the guess is often wrong: counting the untagged comments (none, in a partial index)
        // was guessed at 1.6 million rows of 10 million, and compiled for 300–500 ms.
        Dialect::Postgres => {
            conn.execute("SET jit = off").await?;
        }
    }
    Ok(())
}

/// The answer writer's connection, made as every connection is, and given up on as a pool
/// gives up waiting for one (an unreachable server may otherwise hold a connect for minutes).
async fn connect_writer(url: &str, dialect: Dialect) -> sqlx::Result<AnyConnection> {
    connect_within(url, dialect, std::time::Duration::from_secs(30)).await
}

async fn connect_within(url: &str, dialect: Dialect, wait: std::time::Duration) -> sqlx::Result<AnyConnection> {
    let connect = async {
        let mut conn = AnyConnection::connect(url).await?;
        prepare(&mut conn, dialect, ConnectionFor::Writer).await?;
        Ok(conn)
    };
    tokio::time::timeout(wait, connect).await.unwrap_or_else(|_| {
        let message = format!("connecting to the database took over {} s", wait.as_secs_f64());
        Err(sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, message)))
    })
}

impl Store {
    /// Connects (creating a SQLite file if needed) and starts the response writer. Call
    /// [`Store::migrate`] before use.
    pub async fn open(spec: &str) -> Result<Store> {
        install_default_drivers();
        let url = database_url(spec);
        let dialect = if url.starts_with("sqlite:") { Dialect::Sqlite } else { Dialect::Postgres };
        let pool = reader_pool(dialect).connect(&url).await?;
        let reader = std::sync::Arc::new(themes::CommentReader::builtin());
        let turns = writing::WriteTurns::new(dialect);
        let writer = writer::spawn(url, turns.clone(), reader.clone()).await?;
        Ok(Store { pool, dialect, writer, turns, surveys: Default::default(), reader })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Applies pending migrations; safe to call on every start.
    pub async fn migrate(&self) -> Result<()> {
        migrator().run(&self.pool).await?;
        self.run_pending_rebuilds().await?;
        self.sync_themes().await.map(|_| ())
    }

    /// Runs what the migrations left to Rust in `pending_rebuilds`, where SQL would not do it
    /// the way the code that keeps the data up to date does: the rollups (bins and themes
    /// worked out in Rust) and the comments' search text (SQLite's `lower()` folds only ASCII).
    async fn run_pending_rebuilds(&self) -> Result<()> {
        let pending: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pending_rebuilds ORDER BY name").fetch_all(&self.pool).await?;
        for name in pending {
            match name.as_str() {
                "blocks" => self.rebuild_blocks().await?,
                "rollups" => self.rebuild_rollups(None).await?,
                "theme_hours" => self.rebuild_theme_hours().await?,
                "search_text" => self.refold_comments().await?,
                other => return Err(StoreError::Corrupt(format!("unknown pending rebuild {other:?}"))),
            }
        }
        Ok(())
    }

    /// Cheap round trip for health checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Writes a consistent copy of a SQLite database to `path` while it is in use (`VACUUM
    /// INTO`: one read transaction, so the copy is the database at one instant). The file must
    /// not exist yet. PostgreSQL is backed up with its own tools (`pg_dump`).
    pub async fn backup_to(&self, path: &str) -> Result<()> {
        if self.dialect == Dialect::Postgres {
            return Err(StoreError::Unsupported("back up PostgreSQL with pg_dump (see the README)".into()));
        }
        if std::path::Path::new(path).exists() {
            return Err(StoreError::Conflict(format!("{path} exists already; choose a new file")));
        }
        sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await?;
        Ok(())
    }

    /// Starts a transaction that will write (see [`writing`]).
    pub(crate) async fn begin_write(&self) -> Result<writing::WriteTx> {
        self.turns.begin(&self.pool).await
    }

    /// A connection for one writing statement (see [`writing`]).
    pub(crate) async fn write_one(&self) -> Result<writing::OneWrite> {
        self.turns.one(&self.pool).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn migrator() -> Migrator {
    let migrations = [
        (1, "initial", include_str!("../migrations/0001_initial.sql")),
        (2, "channels", include_str!("../migrations/0002_channels.sql")),
        (3, "loop", include_str!("../migrations/0003_loop.sql")),
        (4, "insights", include_str!("../migrations/0004_insights.sql")),
        (5, "facets", include_str!("../migrations/0005_facets.sql")),
        (6, "search_text", include_str!("../migrations/0006_search_text.sql")),
        (7, "facet_blocks", include_str!("../migrations/0007_facet_blocks.sql")),
        (8, "loop_for_everyone", include_str!("../migrations/0008_loop_for_everyone.sql")),
        (9, "staff_preferences", include_str!("../migrations/0009_staff_preferences.sql")),
        (10, "shared_links", include_str!("../migrations/0010_shared_links.sql")),
        (11, "digests", include_str!("../migrations/0011_digests.sql")),
        (12, "seen_language", include_str!("../migrations/0012_seen_language.sql")),
        (13, "comment_tags", include_str!("../migrations/0013_comment_tags.sql")),
        (14, "feedback", include_str!("../migrations/0014_feedback.sql")),
        (15, "own_themes", include_str!("../migrations/0015_own_themes.sql")),
        (16, "hour_rollup", include_str!("../migrations/0016_hour_rollup.sql")),
        (17, "rollup_stripes", include_str!("../migrations/0017_rollup_stripes.sql")),
        (18, "score_blocks", include_str!("../migrations/0018_score_blocks.sql")),
        (19, "theme_hour_rollup", include_str!("../migrations/0019_theme_hour_rollup.sql")),
        (20, "team_and_agent_by_time", include_str!("../migrations/0020_team_and_agent_by_time.sql")),
        (21, "month_blocks", include_str!("../migrations/0021_month_blocks.sql")),
        (22, "team_hours", include_str!("../migrations/0022_team_hours.sql")),
        (23, "contact_phone", include_str!("../migrations/0023_contact_phone.sql")),
        (24, "cases_opened", include_str!("../migrations/0024_cases_opened.sql")),
        (25, "contact_email_any_case", include_str!("../migrations/0025_contact_email_any_case.sql")),
    ]
    .into_iter()
    .map(|(version, name, sql)| {
        Migration::new(version, Cow::Borrowed(name), MigrationType::Simple, sql.into_sql_str(), false)
    })
    .collect();
    Migrator::with_migrations(migrations)
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as i64
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) fn parse_json(field: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{field}: {e}")))
}

/// Maps a unique-constraint violation to a conflict that names what collided.
pub(crate) fn conflict_on_unique(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(format!("{what} already exists")),
        _ => StoreError::Database(e),
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{Backend, TestDatabase};

    /// A server that takes the connection and never answers fails the connect in time.
    #[tokio::test]
    async fn a_silent_server_fails_the_writer_connect_in_time() {
        sqlx::any::install_default_drivers();
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("postgres://postgres@{}/test", silent.local_addr().unwrap());
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                open.push(socket);
            }
        });
        let wait = std::time::Duration::from_millis(300);
        let err = crate::connect_within(&url, crate::Dialect::Postgres, wait).await.expect_err("no connection");
        assert!(err.to_string().contains("took over 0.3 s"), "{err}");
        held.abort();
    }

    /// PostgreSQL's JIT is off on every connection (see `prepare`).
    #[tokio::test]
    async fn postgres_connections_do_not_compile_queries() {
        let Some(db) = TestDatabase::new(Backend::Postgres).await else { return };
        let store = crate::Store::open(&db.url).await.unwrap();
        let jit: String = sqlx::query_scalar("SHOW jit").fetch_one(&store.pool).await.unwrap();
        assert_eq!(jit, "off");
    }

    /// SQLite's readers map the database, the whole of a large one (see `prepare`): without
    /// SQLITE_MAX_MMAP_SIZE raised, SQLite keeps the mapping to 2 GiB.
    #[tokio::test]
    async fn sqlite_readers_map_the_database() {
        let db = TestDatabase::new(Backend::Sqlite).await.expect("a SQLite file");
        let store = crate::Store::open(&db.url).await.unwrap();
        let mapped: i64 = sqlx::query_scalar("PRAGMA mmap_size").fetch_one(&store.pool).await.unwrap();
        assert_eq!(mapped, 64 << 30);
    }
}
