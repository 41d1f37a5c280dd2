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
