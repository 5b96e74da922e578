//! SQLite driver on sqlx with bundled SQLite. The target is opened `SQLITE_OPEN_READONLY`
//! with `PRAGMA query_only`; the sandbox is a `VACUUM INTO` copy in a temporary directory.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Column as _, ConnectOptions, Connection, Row, TypeInfo, ValueRef};

use super::{ConstraintViolation, Driver, Execution, QueryResult, Sandbox, SandboxOptions, StatementError};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::SchemaSnapshot;

mod introspect;
use introspect::*;
mod sandbox;
use sandbox::*;
pub mod etl_sql;
pub mod plan;
use plan::*;
mod functions;

pub struct SqliteDriver {
    path: PathBuf,
    pool: SqlitePool,
    /// SQLite has no server to enforce a statement timeout: [`Driver::query`] interrupts the
    /// connection itself when this passes (or when its caller gives up).
    statement_timeout: std::time::Duration,
}

impl SqliteDriver {
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, super::SessionOptions::default()).await
    }

    pub async fn open_with(path: &Path, session: super::SessionOptions) -> Result<Self> {
        let target = format!("sqlite://{}", path.display());
        let fail = |reason: String| Error::Connection { url: target.clone(), reason };
        match std::fs::metadata(path) {
            Err(e) => return Err(fail(format!("cannot open database file: {e}"))),
            Ok(m) if m.is_dir() => return Err(fail("is a directory, not a database file".into())),
            Ok(_) => {}
        }
        let options = read_only_options(path).pragma("query_only", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(session.max_connections.max(1))
            .after_connect(|conn, _| Box::pin(async move { register_functions(conn).await }))
            .connect_with(options)
            .await
            .map_err(|e| fail(e.to_string()))?;
        // Opening succeeds on any file; the first read tells whether it is a database.
        sqlx::query("SELECT count(*) FROM sqlite_schema")
            .fetch_one(&pool)
            .await
            .map_err(|e| fail(format!("not a readable SQLite database ({})", db_message(&e))))?;
        Ok(SqliteDriver {
            path: path.to_path_buf(),
            pool,
            statement_timeout: std::time::Duration::from_millis(session.statement_timeout_ms),
        })
    }
}

/// Interrupts the connection's running statement when dropped (`sqlite3_interrupt` is the one
/// SQLite call meant for other threads; with nothing running it does nothing).
struct InterruptOnDrop(usize);

impl InterruptOnDrop {
    async fn arm(conn: &mut SqliteConnection) -> Result<Self> {
        let mut handle = conn.lock_handle().await.map_err(internal)?;
        Ok(InterruptOnDrop(handle.as_raw_handle().as_ptr() as usize))
    }
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        // SAFETY: the pointer is the open connection we still hold (we are dropped before it).
        unsafe { libsqlite3_sys::sqlite3_interrupt(self.0 as *mut libsqlite3_sys::sqlite3) };
    }
}

/// The ETL hash functions (see [`functions`]) on one connection.
async fn register_functions(conn: &mut SqliteConnection) -> std::result::Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle is locked for us, open, and not used elsewhere during the call.
    let rc = unsafe { functions::register(handle.as_raw_handle().as_ptr()) };
    if rc != 0 {
        return Err(sqlx::Error::Protocol(format!("cannot register SQLite functions (code {rc})")));
    }
    Ok(())
}

fn read_only_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false)
        // The target's own setting is unknown; SQLite's default is off, and we report
        // foreign keys as unenforced unless the connection enforces them.
        .foreign_keys(false)
        .with_regexp()
        .disable_statement_logging()
}

fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

#[async_trait]
impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn etl_sql(&self) -> &'static dyn crate::driver::etl_sql::EtlSql {
        &etl_sql::SqliteEtl
    }

    fn target(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    async fn introspect(&self) -> Result<SchemaSnapshot> {
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        introspect(&mut conn).await
    }

    async fn query(&self, sql: &str, max_rows: usize) -> Result<QueryResult> {
        super::read_statement(sql, Dialect::Sqlite)?;
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        // Declared after `conn`, so dropped before it: a query abandoned by a timeout here or
        // by the caller (a dropped future) is interrupted while the connection is still ours,
        // instead of running on in sqlx's worker thread and holding the connection.
        let _interrupt = InterruptOnDrop::arm(&mut conn).await?;
        // 0 means no timeout, as PostgreSQL's statement_timeout = 0.
        let limit = if self.statement_timeout.is_zero() { std::time::Duration::MAX } else { self.statement_timeout };
        match tokio::time::timeout(limit, query(&mut conn, sql, max_rows)).await {
            Ok(result) => result,
            Err(_) => Err(Error::InvalidInput(format!(
                "query failed: statement timeout ({} ms) reached, query interrupted",
                self.statement_timeout.as_millis()
            ))),
        }
    }

    async fn default_schema(&self) -> Result<String> {
        Ok("main".into())
    }

    async fn explain(&self, sql: &str, analyze: bool) -> Result<crate::model::Plan> {
        // SQLite has no EXPLAIN ANALYZE: its plans are never executed (analyzed is false).
        crate::driver::explain::check_explainable(sql, Dialect::Sqlite, analyze)?;
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        explain_query_plan(&mut conn, sql).await
    }

    async fn time_query(&self, sql: &str) -> Result<f64> {
        super::require_select(sql, Dialect::Sqlite)?;
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        let started = std::time::Instant::now();
        super::drain(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn), db_message).await?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    }

    async fn open_sandbox(&self, _options: &SandboxOptions) -> Result<Box<dyn Sandbox>> {
        let dir = crate::driver::local_server::owned_temp_dir("sandbox")
            .map_err(|e| Error::Sandbox(format!("cannot create a temporary directory: {e}")))?;
        let copy = dir.path().join("sandbox.db");
        // VACUUM INTO reads through a read-only connection and writes a consistent snapshot
        // (including WAL content) to the copy; the target file is never opened for writing.
        let mut source = read_only_options(&self.path)
            .connect()
            .await
            .map_err(|e| Error::Sandbox(format!("cannot open the target to copy it: {}", db_message(&e))))?;
        sqlx::query("VACUUM INTO ?")
            .bind(copy.to_string_lossy().to_string())
            .execute(&mut source)
            .await
            .map_err(|e| Error::Sandbox(format!("cannot copy the database into the sandbox: {}", db_message(&e))))?;
        source.close().await.ok();
        let conn = SqliteConnectOptions::new()
            .filename(&copy)
            .foreign_keys(false)
            .disable_statement_logging()
            .connect()
            .await
            .map_err(|e| Error::Sandbox(format!("cannot open the sandbox copy: {}", db_message(&e))))?;
        tracing::debug!(copy = %copy.display(), "sqlite sandbox ready");
        let description = format!("copy of {} in {}", self.path.display(), dir.path().display());
        Ok(Box::new(SqliteSandbox { conn, _dir: dir, description }))
    }
}

fn internal(e: sqlx::Error) -> Error {
    Error::Internal(format!("sqlite: {}", db_message(&e)))
}

async fn query(conn: &mut SqliteConnection, sql: &str, max_rows: usize) -> Result<QueryResult> {
    super::collect_rows(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn), max_rows, db_message, row_to_json).await
}

fn row_to_json(row: &SqliteRow) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut out = serde_json::Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i).ok();
        let value = match raw {
            None => Value::Null,
            Some(v) if v.is_null() => Value::Null,
            Some(v) => match v.type_info().name() {
                "INTEGER" => row.try_get::<i64, _>(i).map(Value::from).unwrap_or(Value::Null),
                "REAL" => row.try_get::<f64, _>(i).map(Value::from).unwrap_or(Value::Null),
                "BLOB" => row
                    .try_get::<Vec<u8>, _>(i)
                    .map(|b| Value::String(format!("\\x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())))
                    .unwrap_or(Value::Null),
                _ => row.try_get::<String, _>(i).map(Value::String).unwrap_or(Value::Null),
            },
        };
        out.insert(col.name().to_string(), value);
    }
    out
}
