//! MySQL / MariaDB driver. Inspection sessions are `READ ONLY` with statement and lock-wait
//! timeouts. DDL commits implicitly, so the sandbox is never the target: it is a scratch
//! database (on `sandbox_url`'s server, or on the target's server when allowed) holding the
//! target's schema and a bounded sample of its rows, dropped when the sandbox closes.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{Column as _, ConnectOptions, Connection, Row, TypeInfo, ValueRef};

use super::{connection_error, AlterAlgorithm, Driver, Execution, QueryResult, Sandbox, SandboxOptions, StatementError};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::SchemaSnapshot;
use crate::url::redact_url;

mod introspect;
use introspect::*;
mod ephemeral;
pub(crate) mod sandbox;
mod subset;
use sandbox::*;
pub mod etl_sql;
pub mod plan;

pub struct MysqlDriver {
    options: MySqlConnectOptions,
    database: String,
    pool: MySqlPool,
    redacted: String,
}

/// The server's message with data values scrubbed: MySQL quotes offending values
/// (`Duplicate entry 'ann@example.com' for key ...`), which must not reach reports.
fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => scrub_values(d.message()),
        other => redact_url(&other.to_string()),
    }
}

fn scrub_values(message: &str) -> String {
    let mut out = message.to_string();
    for marker in ["entry '", "value: '", "value '"] {
        if let Some(start) = out.find(marker).map(|i| i + marker.len()) {
            if let Some(len) = out[start..].find("' for ").or_else(|| out[start..].rfind('\'')) {
                out.replace_range(start..start + len, "<masked>");
            }
        }
    }
    out
}

fn error_number(e: &sqlx::Error) -> u16 {
    match e {
        sqlx::Error::Database(d) => d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>().map(|m| m.number()).unwrap_or(0),
        _ => 0,
    }
}

/// Errors raised by rows already in the table (duplicates, NULLs, orphans, checks,
/// values that do not fit the new type).
fn on_existing_data(number: u16) -> bool {
    matches!(number, 1062 | 1048 | 1138 | 1265 | 1264 | 1406 | 1366 | 1452 | 1216 | 1217 | 3819 | 4025 | 1292)
}

impl MysqlDriver {
    pub async fn open(raw: &str, redacted: String, session: super::SessionOptions) -> Result<Self> {
        let url = crate::driver::tls::mysql_url(raw);
        let options = MySqlConnectOptions::from_str(&url)
            .map_err(|e| Error::invalid(format!("malformed database URL '{redacted}': {}", redact_url(&e.to_string()))))?
            .disable_statement_logging();
        let options = crate::driver::credentials::mysql_defaults(options, &url);
        let database = options
            .get_database()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| Error::invalid(format!("database URL '{redacted}' names no database (mysql://user@host/DATABASE)")))?
            .to_string();
        // One direct connection first: a pool would hide "connection refused" or "access
        // denied" behind its own timeout.
        // Retried through a restart or failover (transient failures only).
        crate::driver::retry::connect_retrying(crate::driver::retry::retry_budget(), || options.connect())
            .await
            .map_err(|gave_up| connection_error(&redacted, crate::driver::tls::mysql_refusal(&url, gave_up.reason())))?
            .close()
            .await
            .ok();
        let pool = MySqlPoolOptions::new()
            .max_connections(session.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(15))
            .after_connect(move |conn, _| Box::pin(async move { read_only_session(conn, session).await }))
            .connect_with(options.clone())
            .await
            .map_err(|e| connection_error(&redacted, e))?;
        Ok(MysqlDriver { options, database, pool, redacted })
    }

    /// A throwaway server of the target's version (MariaDB only), when neither a sandbox
    /// server nor the target's own server may be used.
    async fn local_sandbox_server(&self, bindir: Option<&str>) -> Result<ephemeral::EphemeralMariadb> {
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let version: String =
            sqlx::query_scalar("SELECT VERSION()").fetch_one(&mut *conn).await.map_err(|e| Error::Sandbox(db_message(&e)))?;
        let why = if version.to_ascii_lowercase().contains("mariadb") {
            let major_minor: String = version.split(|c: char| !c.is_ascii_digit()).take(2).collect::<Vec<_>>().join(".");
            match ephemeral::find_binaries(&major_minor, bindir) {
                Ok(bins) => {
                    return tokio::task::spawn_blocking(move || ephemeral::EphemeralMariadb::start(&bins))
                        .await
                        .map_err(|e| Error::Internal(format!("sandbox server task: {e}")))?
                }
                Err(why) => why,
            }
        } else {
            "no throwaway server is started for MySQL targets".to_string()
        };
        Err(Error::Sandbox(format!(
            "no sandbox for this target: {why}. MySQL/MariaDB commit DDL implicitly, so the migration cannot run in a rolled-back \
             transaction: give a sandbox server (--sandbox-url mysql://...), install the MariaDB server of the target's version so a \
             throwaway local server is started, or allow a scratch database on the target's server (--sandbox-on-target)"
        )))
    }

    async fn server_connection(&self, options: &MySqlConnectOptions, target: &str) -> Result<MySqlConnection> {
        options
            .clone()
            .connect()
            .await
            .map_err(|e| Error::Sandbox(format!("cannot connect to sandbox server {target}: {}", redact_url(&e.to_string()))))
    }
}

/// What MySQL can EXPLAIN for a statement: a read-only session refuses EXPLAIN of a write, so
/// the SELECT of the rows it would touch; a performance_schema digest keeps `?`, so stand-in
/// values (the statement is planned, never run).
fn explainable_body(sql: &str) -> String {
    let as_select = crate::driver::explain::write_as_select(sql, Dialect::Mysql);
    let body = as_select.as_deref().unwrap_or(sql).trim().trim_end_matches(';').to_string();
    if crate::driver::explain::placeholder_count(&body, Dialect::Mysql) > 0 {
        return crate::driver::explain::with_placeholder_values(&body, Dialect::Mysql).unwrap_or(body);
    }
    body
}

async fn is_mariadb(conn: &mut MySqlConnection) -> std::result::Result<bool, sqlx::Error> {
    let version: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&mut *conn).await?;
    Ok(version.to_ascii_lowercase().contains("mariadb"))
}

/// Every inspection session: read-only transactions, bounded statements and lock waits.
async fn read_only_session(conn: &mut MySqlConnection, session: super::SessionOptions) -> std::result::Result<(), sqlx::Error> {
    sqlx::query("SET SESSION TRANSACTION READ ONLY").execute(&mut *conn).await?;
    sqlx::query("SET SESSION lock_wait_timeout = 5").execute(&mut *conn).await?;
    let ms = session.statement_timeout_ms;
    let timeout = if is_mariadb(conn).await? {
        format!("SET SESSION max_statement_time = {}.{:03}", ms / 1000, ms % 1000)
    } else {
        format!("SET SESSION max_execution_time = {ms}")
    };
    sqlx::query(sqlx::AssertSqlSafe(&*timeout)).execute(&mut *conn).await?;
    if session.utc {
        sqlx::query("SET SESSION time_zone = '+00:00'").execute(&mut *conn).await?;
    }
    Ok(())
}

impl MysqlDriver {
    /// Introspection on two of the pool's connections at once, when a second one comes
    /// quickly; on one otherwise (concurrent callers each holding one never wait on each other
    /// for long).
    async fn introspect_pooled(&self, schema: Option<&str>) -> Result<SchemaSnapshot> {
        let mut first = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        match tokio::time::timeout(Duration::from_secs(1), self.pool.acquire()).await {
            Ok(Ok(mut second)) => introspect_on_two(&mut first, &mut second, schema).await,
            _ => introspect(&mut first, schema).await,
        }
    }
}

#[async_trait]
impl Driver for MysqlDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }
    fn etl_sql(&self) -> &'static dyn crate::driver::etl_sql::EtlSql {
        &etl_sql::MysqlEtl
    }

    fn target(&self) -> String {
        self.redacted.clone()
    }

    async fn introspect(&self) -> Result<SchemaSnapshot> {
        self.introspect_pooled(None).await
    }

    async fn query(&self, sql: &str, max_rows: usize) -> Result<QueryResult> {
        super::read_statement(sql, Dialect::Mysql)?;
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        // An explicit READ ONLY transaction, always rolled back, on top of the read-only session.
        sqlx::query("START TRANSACTION READ ONLY")
            .execute(&mut *conn)
            .await
            .map_err(|e| Error::InvalidInput(format!("query failed: {}", db_message(&e))))?;
        let result = query(&mut conn, sql, max_rows).await;
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        result
    }

    async fn schemas(&self) -> Result<Vec<crate::model::schema::SchemaSummary>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT s.SCHEMA_NAME, CAST(COUNT(CASE WHEN t.TABLE_TYPE = 'BASE TABLE' THEN 1 END) AS SIGNED),
                    CAST(COUNT(CASE WHEN t.TABLE_TYPE = 'VIEW' THEN 1 END) AS SIGNED)
             FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME
             WHERE s.SCHEMA_NAME NOT IN ('mysql', 'sys', 'performance_schema', 'information_schema')
             GROUP BY s.SCHEMA_NAME ORDER BY s.SCHEMA_NAME",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| connection_error(&self.redacted, e))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn introspect_schema(&self, schema: &str) -> Result<SchemaSnapshot> {
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let exists: Option<String> = sqlx::query_scalar("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
            .bind(schema)
            .fetch_optional(&mut *conn)
            .await
            .map_err(internal)?;
        if exists.is_none() {
            return Err(Error::NotFound(format!("no schema named '{schema}'")));
        }
        drop(conn);
        self.introspect_pooled(Some(schema)).await
    }

    async fn default_schema(&self) -> Result<String> {
        Ok(self.database.clone())
    }

    async fn explain(&self, sql: &str, analyze: bool) -> Result<crate::model::Plan> {
        crate::driver::explain::check_explainable(sql, Dialect::Mysql, analyze)?;
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let failed = |e: sqlx::Error| Error::InvalidInput(format!("explain failed: {}", db_message(&e)));
        // MariaDB's ANALYZE FORMAT=JSON runs the query and reports r_rows / r_total_time_ms;
        // MySQL's EXPLAIN ANALYZE prints a text tree only, so MySQL plans are estimates.
        let analyzed = analyze && is_mariadb(&mut conn).await.map_err(failed)?;
        let body = explainable_body(sql);
        let statement = if analyzed { format!("ANALYZE FORMAT=JSON {body}") } else { format!("EXPLAIN FORMAT=JSON {body}") };
        sqlx::query("START TRANSACTION READ ONLY").execute(&mut *conn).await.map_err(failed)?;
        let result = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(&*statement)).fetch_one(&mut *conn).await;
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        let text = result.map_err(failed)?;
        let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Internal(format!("MySQL plan is not JSON: {e}")))?;
        plan::mysql_plan(raw, analyzed)
    }

    async fn top_statements(&self, limit: usize) -> Result<Vec<super::StatementStats>> {
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let enabled: Option<i64> = sqlx::query_scalar("SELECT @@performance_schema + 0")
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| Error::InvalidInput(db_message(&e)))?;
        if enabled != Some(1) {
            return Err(Error::invalid(
                "performance_schema is off on this server: start it with performance_schema=ON to read statement digests",
            ));
        }
        // Timers are in picoseconds.
        let rows: Vec<(String, u64, f64, f64)> = sqlx::query_as(
            "SELECT DIGEST_TEXT, COUNT_STAR, CAST(SUM_TIMER_WAIT / 1e9 AS DOUBLE), CAST(AVG_TIMER_WAIT / 1e9 AS DOUBLE) \
             FROM performance_schema.events_statements_summary_by_digest WHERE SCHEMA_NAME = DATABASE() AND DIGEST_TEXT IS NOT NULL \
             AND DIGEST_TEXT REGEXP '^(SELECT|WITH|INSERT|UPDATE|DELETE) ' ORDER BY SUM_TIMER_WAIT DESC LIMIT ?",
        )
        .bind(limit as u64)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::InvalidInput(format!("performance_schema: {}", db_message(&e))))?;
        Ok(rows
            .into_iter()
            .map(|(query, calls, total, mean)| super::StatementStats { query, calls, total_ms: total, mean_ms: mean })
            .collect())
    }

    async fn time_query(&self, sql: &str) -> Result<f64> {
        super::require_select(sql, Dialect::Mysql)?;
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        sqlx::query("START TRANSACTION READ ONLY").execute(&mut *conn).await.map_err(|e| Error::InvalidInput(db_message(&e)))?;
        let started = std::time::Instant::now();
        let drained = super::drain(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn), db_message).await;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        drained.map(|_| elapsed)
    }

    async fn open_sandbox(&self, options: &SandboxOptions) -> Result<Box<dyn Sandbox>> {
        let mut local = None;
        let (server, server_label, same_server) = match &options.sandbox_url {
            Some(url) => {
                let url = crate::driver::tls::mysql_url(url);
                let o = MySqlConnectOptions::from_str(&url)
                    .map_err(|e| Error::invalid(format!("malformed sandbox URL '{}': {e}", redact_url(&url))))?;
                let o = crate::driver::credentials::mysql_defaults(o, &url);
                let same = o.get_host() == self.options.get_host() && o.get_port() == self.options.get_port();
                (o, redact_url(&url), same)
            }
            None if options.allow_scratch_on_target => (self.options.clone(), self.redacted.clone(), true),
            None => {
                let clock = std::time::Instant::now();
                let started = self.local_sandbox_server(options.server_bindir.as_deref()).await?;
                tracing::info!(ms = clock.elapsed().as_millis() as u64, "throwaway MariaDB server started");
                let options = started.connect_options();
                local = Some(started);
                (options, "a throwaway MariaDB server".to_string(), false)
            }
        };
        let scratch =
            format!("{SCRATCH_PREFIX}{}_{}", chrono::Utc::now().format("%Y%m%d%H%M%S"), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let mut admin = self.server_connection(&server, &server_label).await?;
        drop_stale_scratch_databases(&mut admin).await;
        let mut target = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let clock = std::time::Instant::now();
        let only = match &options.focus {
            Some(names) => subset::select(&mut target, names, options.known.as_deref()).await?,
            None => None,
        };
        tracing::info!(ms = clock.elapsed().as_millis() as u64, tables = only.as_ref().map(|o| o.len()), "sandbox subset selected");
        let (charset, collation): (String, String) = sqlx::query_as(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
        )
        .fetch_one(&mut *target)
        .await
        .map_err(|e| Error::Sandbox(db_message(&e)))?;
        let q = |s: &str| Dialect::Mysql.quote_ident(s);
        sandbox::take_lease(&mut admin, &scratch).await?;
        // Known before it exists: an interrupt during CREATE DATABASE must still drop it (the
        // drop waits for this session's lease to come free, so for the creation to finish).
        if let Ok(mut open) = OPEN_SCRATCH.lock() {
            open.push((server.clone(), scratch.clone()));
        }
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {} CHARACTER SET {charset} COLLATE {collation}", q(&scratch))))
            .execute(&mut admin)
            .await
            .map_err(|e| {
                sandbox::forget_scratch(&scratch);
                Error::Sandbox(format!(
                    "cannot create the scratch database on {server_label}: {} (the sandbox needs CREATE and DROP rights there)",
                    db_message(&e)
                ))
            })?;
        let mut sandbox = MysqlSandbox {
            admin: Some(admin),
            conn: None,
            scratch: scratch.clone(),
            description: format!("scratch database {scratch} on {server_label} (dropped afterwards)"),
            sampled: Vec::new(),
            other_databases: Vec::new(),
            local,
            only,
        };
        // From here on, any failure drops the scratch database before returning.
        let clock = std::time::Instant::now();
        match sandbox.populate(&server, &mut target, &self.database, same_server, options.sample_rows).await {
            Ok(()) => {
                tracing::info!(ms = clock.elapsed().as_millis() as u64, "scratch database populated");
                Ok(Box::new(sandbox))
            }
            Err(e) => {
                Box::new(sandbox).close().await.ok();
                Err(e)
            }
        }
    }
}

async fn query(conn: &mut MySqlConnection, sql: &str, max_rows: usize) -> Result<QueryResult> {
    super::collect_rows(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn), max_rows, db_message, row_to_json).await
}

/// Decode by the column's declared type: exact numbers stay exact (DECIMAL as text),
/// temporal values in ISO form, binary as hex.
fn row_to_json(row: &MySqlRow) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut out = serde_json::Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let Ok(raw) = row.try_get_raw(i) else { continue };
        let value = if raw.is_null() {
            Value::Null
        } else {
            let ty = col.type_info().name().to_ascii_uppercase();
            let text = || row.try_get_unchecked::<String, _>(i).ok();
            match ty.as_str() {
                t if t.ends_with("UNSIGNED") && !t.starts_with("DECIMAL") => {
                    row.try_get::<u64, _>(i).map(Value::from).unwrap_or(Value::Null)
                }
                "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
                    row.try_get_unchecked::<i64, _>(i).map(Value::from).unwrap_or(Value::Null)
                }
                "BOOLEAN" => row.try_get::<bool, _>(i).map(Value::from).unwrap_or(Value::Null),
                "FLOAT" => row.try_get::<f32, _>(i).map(|f| Value::from(f as f64)).unwrap_or(Value::Null),
                "DOUBLE" => row.try_get::<f64, _>(i).map(Value::from).unwrap_or(Value::Null),
                "DATETIME" | "TIMESTAMP" => row
                    .try_get::<chrono::NaiveDateTime, _>(i)
                    .map(|d| Value::String(d.format("%Y-%m-%d %H:%M:%S%.f").to_string()))
                    .unwrap_or(Value::Null),
                "DATE" => row.try_get::<chrono::NaiveDate, _>(i).map(|d| Value::String(d.to_string())).unwrap_or(Value::Null),
                "TIME" => row.try_get::<chrono::NaiveTime, _>(i).map(|d| Value::String(d.to_string())).unwrap_or(Value::Null),
                "JSON" => row.try_get::<serde_json::Value, _>(i).unwrap_or(Value::Null),
                "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BIT" | "GEOMETRY" => row
                    .try_get_unchecked::<Vec<u8>, _>(i)
                    .map(|b| match String::from_utf8(b.clone()) {
                        Ok(s) if ty != "BIT" => Value::String(s),
                        _ => Value::String(format!("\\x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())),
                    })
                    .unwrap_or(Value::Null),
                _ => text().map(Value::String).unwrap_or(Value::Null),
            }
        };
        out.insert(col.name().to_string(), value);
    }
    out
}

fn internal(e: sqlx::Error) -> Error {
    Error::Internal(format!("mysql introspection: {}", db_message(&e)))
}
