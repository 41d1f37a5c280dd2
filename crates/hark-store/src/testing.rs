//! Fresh, isolated databases for tests in every crate: a SQLite file in a new temporary
//! folder, or a new schema on the PostgreSQL server named by `HARK_TEST_POSTGRES_URL`.

use sqlx::{AssertSqlSafe, Connection, Executor};

/// The backends a test can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const POSTGRES_ENV: &str = "HARK_TEST_POSTGRES_URL";

/// A database that disappears with this value: the temporary folder is removed, the schema
/// dropped.
pub struct TestDatabase {
    pub url: String,
    dir: Option<std::path::PathBuf>,
    schema: Option<(String, String)>,
}

impl TestDatabase {
    /// `None` for PostgreSQL when `HARK_TEST_POSTGRES_URL` is unset; the skip is printed so
    /// that a run without PostgreSQL says what it did not test.
    pub async fn new(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("hark-test-{}", uuid::Uuid::now_v7()));
                std::fs::create_dir_all(&dir).expect("temporary folder");
                let url = crate::database_url(dir.join("hark.db").to_str().expect("utf-8 temp path"));
                Some(TestDatabase { url, dir: Some(dir), schema: None })
            }
            Backend::Postgres => {
                let Ok(base) = std::env::var(POSTGRES_ENV) else {
                    eprintln!("SKIPPED on PostgreSQL: {POSTGRES_ENV} is not set");
                    return None;
                };
                let schema = format!("hark_t_{}", uuid::Uuid::now_v7().simple());
                sqlx::any::install_default_drivers();
                let mut conn = sqlx::AnyConnection::connect(&base).await.expect("connect to HARK_TEST_POSTGRES_URL");
                conn.execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).await.expect("create test schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                Some(TestDatabase { url, dir: None, schema: Some((base, schema)) })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((base, schema)) = self.schema.take() {
            // Drop runs outside async code (often after the test's runtime is gone), so the
            // schema is dropped on a small runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let mut conn = sqlx::AnyConnection::connect(&base).await.ok()?;
                    conn.execute(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).await.ok()
                })
            })
            .join();
        }
    }
}

/// Writes `n` synthetic NPS answers to `survey_id` straight into the tables, for benchmarks:
/// scores skewed high with a different lean per agent, four channels, agents (with their
/// teams) taken in turn, handle time, wait time and transfers on each, times spread over the
/// 395 days before `now_ms`. Four answers in five carry one of `comments` (text, language
/// tag), in turn, with the themes and sentiment the store's analyzer reads in it. The rollups
/// are then rebuilt from the rows, as a migration builds them. Not for real data: no
/// contacts, no playbooks, no idempotency beyond the generated keys.
pub async fn bulk_load(
    store: &crate::Store,
    survey_id: &str,
    agents: &[(String, String)],
    comments: &[(String, String)],
    n: u64,
    now_ms: i64,
) -> crate::Result<()> {
    const CHUNK: u64 = 500_000;
    // The comments, read once here, are joined to the answers by number.
    sqlx::query(
        "CREATE TABLE bench_comments (k BIGINT PRIMARY KEY, comment TEXT NOT NULL, language TEXT NOT NULL, \
         search_text TEXT NOT NULL, themes TEXT NOT NULL, sentiment TEXT NOT NULL, sentiment_milli BIGINT NOT NULL)",
    )
    .execute(&store.pool)
    .await?;
    let reading = store.reading();
    let mut tx = store.pool.begin().await?;
    for (k, (comment, language)) in comments.iter().enumerate() {
        let Some(tags) = crate::tagging::tag(&reading.analyzer, Some(comment), Some(language)) else { continue };
        sqlx::query("INSERT INTO bench_comments VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(k as i64)
            .bind(comment)
            .bind(language)
            .bind(crate::fold_for_search(comment))
            .bind(&tags.themes)
            .bind(tags.sentiment)
            .bind(tags.sentiment_milli)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let pick = agents
        .iter()
        .enumerate()
        .map(|(k, (agent, team))| format!("({k}, '{}', '{}')", agent.replace('\'', "''"), team.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH RECURSIVE seq(i) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $2), \
         pick(k, agent_id, team_id) AS (VALUES {pick}), \
         x AS (SELECT i, (i * 7919 + i / 97 + (i % {count}) * 3) % 100 AS h, \
               CASE i % 4 WHEN 0 THEN 'email' WHEN 1 THEN 'link' WHEN 2 THEN 'widget' ELSE 'api' END AS channel, \
               $3 - (i * 2654435761) % 34128000000 AS t FROM seq), \
         y AS (SELECT x.*, CASE WHEN h < 30 THEN 10 WHEN h < 50 THEN 9 WHEN h < 65 THEN 8 WHEN h < 75 THEN 7 \
               WHEN h < 83 THEN 6 WHEN h < 89 THEN 5 WHEN h < 93 THEN 4 WHEN h < 96 THEN 3 WHEN h < 98 THEN 2 \
               WHEN h < 99 THEN 1 ELSE 0 END AS score FROM x) \
         INSERT INTO responses (id, survey_id, score, segment, answers, agent_score, channel, agent_id, team_id, context, \
           idempotency_key, request_hash, created_at, received_at, comment, language, search_text, themes, sentiment, \
           sentiment_milli) \
         SELECT 'bench-' || CAST(i AS TEXT), $4, score, \
           CASE WHEN score >= 9 THEN 'promoter' WHEN score >= 7 THEN 'passive' ELSE 'detractor' END, '{{}}', \
           (score + i % 3) % 11, channel, pick.agent_id, pick.team_id, \
           '{{\"handle_time_s\": ' || CAST((i * 37) % 1500 AS TEXT) || ', \"wait_time_s\": ' || \
           CAST((i * 13) % 700 AS TEXT) || ', \"transfers\": ' || CAST(i % 4 AS TEXT) || '}}', \
           'bench-' || CAST(i AS TEXT), 'bench', t, t, \
           bc.comment, bc.language, bc.search_text, bc.themes, bc.sentiment, bc.sentiment_milli \
         FROM y JOIN pick ON pick.k = y.i % {count} \
         LEFT JOIN bench_comments bc ON y.i % 5 < 4 AND bc.k = (y.i / 5 * 4 + y.i % 5) % {comments}",
        count = agents.len().max(1),
        comments = comments.len().max(1),
    );
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK).min(n);
        sqlx::query(AssertSqlSafe(sql.clone()))
            .bind(start as i64)
            .bind(end as i64)
            .bind(now_ms)
            .bind(survey_id)
            .execute(&store.pool)
            .await?;
        start = end;
    }
    sqlx::query("DROP TABLE bench_comments").execute(&store.pool).await?;
    store.rebuild_rollups(Some(survey_id)).await?;
    // PostgreSQL plans by its statistics, which autovacuum would bring up to date some time
    // after a load this size; without them a 5,000-row LIMIT over an index became a sort of
    // every answer in the window (0.7 s at a million answers instead of 15 ms).
    if store.dialect == crate::Dialect::Postgres {
        sqlx::query("ANALYZE").execute(&store.pool).await?;
    }
    Ok(())
}

/// One answer's columns as the dashboards group them, for in-memory baselines.
#[derive(Default)]
pub struct AnswerColumns {
    pub created_at: Vec<i64>,
    pub team: Vec<u16>,
    pub channel: Vec<u8>,
    pub agent: Vec<u16>,
    pub score: Vec<u8>,
    /// `u8::MAX` where the agent question was not answered.
    pub agent_score: Vec<u8>,
    /// Each of `insight::INTERACTION_FIGURES` in turn; NaN where the answer has none.
    pub figures: [Vec<f64>; 3],
    /// The team ids, channels and agent ids ('' for none) the indexes above stand for.
    pub teams: Vec<String>,
    pub channels: Vec<String>,
    pub agents: Vec<String>,
}

/// Every answer's time, team, channel, agent, both scores and figures, read into plain columns.
pub async fn answer_columns(store: &crate::Store) -> crate::Result<AnswerColumns> {
    use futures_util::TryStreamExt;
    use sqlx::Row;
    let mut cols = AnswerColumns::default();
    let mut rows = sqlx::query(
        "SELECT created_at, COALESCE(team_id, '') AS team_id, channel, COALESCE(agent_id, '') AS agent_id, score, \
         agent_score, context FROM responses",
    )
    .fetch(&store.pool);
    let index = |list: &mut Vec<String>, v: String| match list.iter().position(|x| *x == v) {
        Some(i) => i,
        None => {
            list.push(v);
            list.len() - 1
        }
    };
    while let Some(row) = rows.try_next().await? {
        cols.created_at.push(row.try_get("created_at")?);
        cols.team.push(index(&mut cols.teams, row.try_get("team_id")?) as u16);
        cols.channel.push(index(&mut cols.channels, row.try_get("channel")?) as u8);
        cols.agent.push(index(&mut cols.agents, row.try_get("agent_id")?) as u16);
        cols.score.push(row.try_get::<i64, _>("score")? as u8);
        cols.agent_score.push(row.try_get::<Option<i64>, _>("agent_score")?.map_or(u8::MAX, |s| s as u8));
        let context: serde_json::Value =
            serde_json::from_str(&row.try_get::<String, _>("context")?).unwrap_or_default();
        for (column, (property, ..)) in cols.figures.iter_mut().zip(hark_core::insight::INTERACTION_FIGURES) {
            column.push(context.get(property).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN));
        }
    }
    Ok(cols)
}

/// An unassigned, high-priority, overdue case about one answer, as a test opens it by hand.
pub fn case_for(response_id: &str, survey_id: &str, contact_id: Option<&str>) -> crate::NewCase {
    crate::NewCase {
        response_id: response_id.to_owned(),
        survey_id: survey_id.to_owned(),
        contact_id: contact_id.map(str::to_owned),
        team_id: None,
        owner_id: None,
        priority: hark_core::playbook::Priority::High,
        due_at: 0,
        reason: "test".into(),
        public_budget: None,
    }
}

/// Forgets every comment's themes and sentiment, as a database from before tagging had none
/// (its rollups counted with them).
pub async fn forget_comment_tags(store: &crate::Store) -> crate::Result<()> {
    sqlx::query("UPDATE responses SET themes = NULL, sentiment = NULL, sentiment_milli = NULL")
        .execute(&store.pool)
        .await?;
    store.rebuild_rollups(None).await
}

/// Lets a walk that reads the comments again end at once, without waiting for other processes
/// to load the new themes.
pub async fn end_reload_grace(store: &crate::Store) -> crate::Result<()> {
    sqlx::query("UPDATE theme_tagging SET walk_started_at = 0 WHERE walk_started_at IS NOT NULL")
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// The stripes of the daily rollup of scores that hold rows (see `reports::Stripe`).
pub async fn rollup_stripes(store: &crate::Store) -> crate::Result<Vec<i64>> {
    let stripes =
        sqlx::query_scalar("SELECT DISTINCT stripe FROM score_rollup ORDER BY stripe").fetch_all(&store.pool).await?;
    Ok(stripes)
}

/// A live NPS answer to `survey_id` with an English comment, stored without follow-up.
pub fn answer(survey_id: &str, key: &str, score: i64) -> crate::NewResponse {
    crate::NewResponse {
        follow_up: crate::FollowUp::None,
        survey_id: survey_id.to_owned(),
        idempotency_key: key.into(),
        request_hash: format!("hash-{key}-{score}"),
        contact: None,
        invitation_id: None,
        score,
        segment: hark_core::SurveyKind::Nps.segment(score),
        comment: Some(format!("comment {key}")),
        answers: Default::default(),
        agent_score: None,
        language: Some("en".into()),
        channel: "api".into(),
        agent_id: None,
        team_id: None,
        context: Default::default(),
        created_at: 1_700_000_000_000,
    }
}
