//! MySQL / MariaDB driver. Inspection sessions are `READ ONLY` with statement and lock-wait
//! timeouts. DDL commits implicitly, so the sandbox is never the target: it is a scratch
//! database (on `sandbox_url`'s server, or on the target's server when allowed) holding the
//! target's schema and a bounded sample of its rows, dropped when the sandbox closes.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlparser::ast::{AlterTableOperation, Statement};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{Column as _, ConnectOptions, Connection, Row, TypeInfo, ValueRef};

use super::{connection_error, AlterAlgorithm, Driver, Execution, QueryResult, Sandbox, SandboxOptions, StatementError};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::{CheckConstraint, Column, ForeignKey, Index, SchemaSnapshot, Table};
use crate::sql::ParsedStatement;
use crate::url::redact_url;

/// Prefix of scratch databases, so stale ones from killed runs can be found and dropped.
const SCRATCH_PREFIX: &str = "dbconsultant_sandbox_";

/// Scratch databases that exist right now, so an interrupted run (Ctrl-C) can drop them
/// before the process exits.
static OPEN_SCRATCH: std::sync::Mutex<Vec<(MySqlConnectOptions, String)>> = std::sync::Mutex::new(Vec::new());

fn forget_scratch(name: &str) {
    if let Ok(mut open) = OPEN_SCRATCH.lock() {
        open.retain(|(_, n)| n != name);
    }
}

/// Drop every scratch database this process still holds. Call on interrupt; sandboxes that
/// close normally drop their own.
pub async fn drop_open_scratch_databases() {
    let open: Vec<(MySqlConnectOptions, String)> = OPEN_SCRATCH.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default();
    for (options, name) in open {
        if let Ok(mut conn) = options.connect().await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {}", Dialect::Mysql.quote_ident(&name))))
                .execute(&mut conn)
                .await;
            conn.close().await.ok();
        }
    }
}

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
        let options = MySqlConnectOptions::from_str(raw)
            .map_err(|e| Error::invalid(format!("malformed database URL '{redacted}': {}", redact_url(&e.to_string()))))?
            .disable_statement_logging();
        let database = options
            .get_database()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| Error::invalid(format!("database URL '{redacted}' names no database (mysql://user@host/DATABASE)")))?
            .to_string();
        // One direct connection first: a pool would hide "connection refused" or "access
        // denied" behind its own timeout.
        options.connect().await.map_err(|e| connection_error(&redacted, e))?.close().await.ok();
        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(15))
            .after_connect(move |conn, _| Box::pin(async move { read_only_session(conn, session).await }))
            .connect_with(options.clone())
            .await
            .map_err(|e| connection_error(&redacted, e))?;
        Ok(MysqlDriver { options, database, pool, redacted })
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
    let as_select = super::explain::write_as_select(sql, Dialect::Mysql);
    let body = as_select.as_deref().unwrap_or(sql).trim().trim_end_matches(';').to_string();
    if super::explain::placeholder_count(&body, Dialect::Mysql) > 0 {
        return super::explain::with_placeholder_values(&body, Dialect::Mysql).unwrap_or(body);
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

#[async_trait]
impl Driver for MysqlDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn target(&self) -> String {
        self.redacted.clone()
    }

    async fn introspect(&self) -> Result<SchemaSnapshot> {
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        introspect(&mut conn, None).await
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
        introspect(&mut conn, Some(schema)).await
    }

    async fn default_schema(&self) -> Result<String> {
        Ok(self.database.clone())
    }

    async fn explain(&self, sql: &str, analyze: bool) -> Result<crate::model::Plan> {
        super::explain::check_explainable(sql, Dialect::Mysql, analyze)?;
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
        super::explain::mysql_plan(raw, analyzed)
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
        let (server, server_label, same_server) = match &options.sandbox_url {
            Some(url) => {
                let o = MySqlConnectOptions::from_str(url).map_err(|e| Error::invalid(format!("malformed sandbox URL '{}': {e}", redact_url(url))))?;
                let same = o.get_host() == self.options.get_host() && o.get_port() == self.options.get_port();
                (o, redact_url(url), same)
            }
            None if options.allow_scratch_on_target => (self.options.clone(), self.redacted.clone(), true),
            None => {
                return Err(Error::Sandbox(
                    "MySQL/MariaDB commit DDL implicitly, so the migration cannot run in a rolled-back transaction: \
                     give a sandbox server (--sandbox-url mysql://...) or allow a scratch database on the target's server (--sandbox-on-target)"
                        .into(),
                ))
            }
        };
        let scratch =
            format!("{SCRATCH_PREFIX}{}_{}", chrono::Utc::now().format("%Y%m%d%H%M%S"), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let mut admin = self.server_connection(&server, &server_label).await?;
        drop_stale_scratch_databases(&mut admin).await;
        let mut target = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let (charset, collation): (String, String) = sqlx::query_as(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
        )
        .fetch_one(&mut *target)
        .await
        .map_err(|e| Error::Sandbox(db_message(&e)))?;
        let q = |s: &str| Dialect::Mysql.quote_ident(s);
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {} CHARACTER SET {charset} COLLATE {collation}", q(&scratch))))
            .execute(&mut admin)
            .await
            .map_err(|e| {
                Error::Sandbox(format!(
                    "cannot create the scratch database on {server_label}: {} (the sandbox needs CREATE and DROP rights there)",
                    db_message(&e)
                ))
            })?;
        if let Ok(mut open) = OPEN_SCRATCH.lock() {
            open.push((server.clone(), scratch.clone()));
        }
        let mut sandbox = MysqlSandbox {
            admin: Some(admin),
            conn: None,
            scratch: scratch.clone(),
            description: format!("scratch database {scratch} on {server_label} (dropped afterwards)"),
            sampled: Vec::new(),
            other_databases: Vec::new(),
        };
        // From here on, any failure drops the scratch database before returning.
        match sandbox.populate(&server, &mut target, &self.database, same_server, options.sample_rows).await {
            Ok(()) => Ok(Box::new(sandbox)),
            Err(e) => {
                Box::new(sandbox).close().await.ok();
                Err(e)
            }
        }
    }
}

/// Scratch databases older than six hours belong to runs that were killed: drop them.
async fn drop_stale_scratch_databases(admin: &mut MySqlConnection) {
    let pattern = format!("{SCRATCH_PREFIX}%");
    let Ok(names) = sqlx::query_scalar::<_, String>("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?")
        .bind(pattern)
        .fetch_all(&mut *admin)
        .await
    else {
        return;
    };
    let cutoff = (chrono::Utc::now() - chrono::Duration::hours(6)).format("%Y%m%d%H%M%S").to_string();
    for name in names {
        let stamp = name.trim_start_matches(SCRATCH_PREFIX).split('_').next().unwrap_or("");
        if stamp.len() == 14 && stamp < cutoff.as_str() {
            tracing::info!(database = %name, "dropping stale scratch database");
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {}", Dialect::Mysql.quote_ident(&name))))
                .execute(&mut *admin)
                .await;
        }
    }
}

pub struct MysqlSandbox {
    admin: Option<MySqlConnection>,
    conn: Option<MySqlConnection>,
    scratch: String,
    description: String,
    /// Tables copied only in part (more rows than the sample size).
    sampled: Vec<String>,
    /// Every other database on the sandbox server (lower case): a statement that names one
    /// of them is refused, since it would leave the scratch database.
    other_databases: Vec<String>,
}

impl MysqlSandbox {
    /// Recreate the target's tables and views in the scratch database and copy a bounded
    /// sample of rows per table.
    async fn populate(
        &mut self,
        server: &MySqlConnectOptions,
        target: &mut MySqlConnection,
        target_db: &str,
        same_server: bool,
        sample_rows: u64,
    ) -> Result<()> {
        let sandbox_err = |e: sqlx::Error| Error::Sandbox(db_message(&e));
        let mut conn = server.clone().database(&self.scratch).connect().await.map_err(|e| Error::Sandbox(redact_url(&e.to_string())))?;
        sqlx::query("SET FOREIGN_KEY_CHECKS = 0").execute(&mut conn).await.map_err(sandbox_err)?;
        let mut databases: Vec<String> =
            sqlx::query_scalar("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA").fetch_all(&mut conn).await.map_err(sandbox_err)?;
        databases.push(target_db.to_string());
        self.other_databases =
            databases.into_iter().map(|d| d.to_ascii_lowercase()).filter(|d| *d != self.scratch.to_ascii_lowercase()).collect();
        let q = |s: &str| Dialect::Mysql.quote_ident(s);
        let objects: Vec<(String, String, Option<u64>)> = sqlx::query_as(
            "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_TYPE, TABLE_NAME",
        )
        .fetch_all(&mut *target)
        .await
        .map_err(sandbox_err)?;
        for (name, _, _) in objects.iter().filter(|(_, k, _)| k == "BASE TABLE") {
            let (_, ddl): (String, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SHOW CREATE TABLE {}", q(name))))
                .fetch_one(&mut *target)
                .await
                .map_err(sandbox_err)?;
            sqlx::query(sqlx::AssertSqlSafe(&*ddl))
                .execute(&mut conn)
                .await
                .map_err(|e| Error::Sandbox(format!("cannot recreate table {name}: {}", db_message(&e))))?;
            let columns: Vec<String> = sqlx::query_scalar(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
                 AND EXTRA NOT LIKE '%GENERATED%' AND EXTRA NOT LIKE '%VIRTUAL%' AND EXTRA NOT LIKE '%STORED%' ORDER BY ORDINAL_POSITION",
            )
            .bind(name)
            .fetch_all(&mut *target)
            .await
            .map_err(sandbox_err)?;
            let list = columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {}", q(name))))
                .fetch_one(&mut *target)
                .await
                .map_err(sandbox_err)?;
            if total as u64 > sample_rows {
                self.sampled.push(name.clone());
            }
            if same_server {
                let copy = format!("INSERT INTO {} ({list}) SELECT {list} FROM {}.{} LIMIT {sample_rows}", q(name), q(target_db), q(name));
                sqlx::query(sqlx::AssertSqlSafe(&*copy))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| Error::Sandbox(format!("cannot copy rows of {name}: {}", db_message(&e))))?;
            } else {
                let rows = query(target, &format!("SELECT {list} FROM {} LIMIT {sample_rows}", q(name)), sample_rows as usize).await?;
                let placeholders = vec!["?"; columns.len()].join(", ");
                let insert = format!("INSERT INTO {} ({list}) VALUES ({placeholders})", q(name));
                for row in rows.rows {
                    let mut statement = sqlx::query(sqlx::AssertSqlSafe(&*insert));
                    for c in &columns {
                        statement = match row.get(c).cloned().unwrap_or(serde_json::Value::Null) {
                            serde_json::Value::Null => statement.bind(None::<String>),
                            serde_json::Value::Bool(b) => statement.bind(b),
                            serde_json::Value::Number(n) if n.is_i64() => statement.bind(n.as_i64()),
                            serde_json::Value::Number(n) if n.is_u64() => statement.bind(n.as_u64()),
                            serde_json::Value::Number(n) => statement.bind(n.as_f64()),
                            serde_json::Value::String(s) => statement.bind(s),
                            other => statement.bind(other.to_string()),
                        };
                    }
                    statement
                        .execute(&mut conn)
                        .await
                        .map_err(|e| Error::Sandbox(format!("cannot copy rows of {name}: {}", db_message(&e))))?;
                }
            }
        }
        for (name, _, _) in objects.iter().filter(|(_, k, _)| k == "VIEW") {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!("SHOW CREATE VIEW {}", q(name))))
                .fetch_one(&mut *target)
                .await
                .map_err(sandbox_err)?;
            let ddl: String = row.try_get(1).map_err(sandbox_err)?;
            let ddl = portable_view(&ddl, target_db);
            sqlx::query(sqlx::AssertSqlSafe(&*ddl))
                .execute(&mut conn)
                .await
                .map_err(|e| Error::Sandbox(format!("cannot recreate view {name}: {}", db_message(&e))))?;
        }
        // Foreign keys are checked while the migration runs, as in production, unless the
        // sample cut some tables short (a missing parent would then be an artefact).
        if self.sampled.is_empty() {
            sqlx::query("SET FOREIGN_KEY_CHECKS = 1").execute(&mut conn).await.map_err(sandbox_err)?;
        }
        self.conn = Some(conn);
        Ok(())
    }

    fn conn(&mut self) -> &mut MySqlConnection {
        self.conn.as_mut().expect("sandbox connection is open until close")
    }
}

/// `SHOW CREATE VIEW` names the target database and a definer; the scratch copy needs
/// neither.
fn portable_view(ddl: &str, target_db: &str) -> String {
    let mut out = ddl.replace(&format!("{}.", Dialect::Mysql.quote_ident(target_db)), "");
    if let Some(start) = out.find(" DEFINER=") {
        if let Some(end) = out[start + 1..].find(" SQL SECURITY").or_else(|| out[start + 1..].find(" VIEW")) {
            out.replace_range(start..start + 1 + end, "");
        }
    }
    out
}

/// Why a statement is refused in the scratch database: it would reach beyond it.
fn refusal(stmt: &ParsedStatement, other_databases: &[String]) -> Option<String> {
    let first: Vec<String> = stmt.sql.split_whitespace().take(2).map(|w| w.to_ascii_uppercase()).collect();
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    match first.as_slice() {
        ["USE", ..] => return Some("USE would leave the scratch database".into()),
        ["CREATE" | "DROP" | "ALTER", "DATABASE" | "SCHEMA"] => {
            return Some("statements on whole databases are not run in the sandbox".into())
        }
        ["GRANT" | "REVOKE", ..] | ["CREATE" | "DROP" | "ALTER" | "RENAME", "USER"] | ["SET", "GLOBAL" | "PERSIST"] => {
            return Some("server-wide statements are not run in the sandbox".into())
        }
        ["LOAD", ..] => return Some("LOAD DATA reads files".into()),
        _ => {}
    }
    if stmt.sql.to_ascii_uppercase().contains("INTO OUTFILE") || stmt.sql.to_ascii_uppercase().contains("INTO DUMPFILE") {
        return Some("SELECT ... INTO OUTFILE writes files".into());
    }
    // `other_db.table` anywhere in the statement (DROP, ALTER, INSERT ... SELECT, views,
    // triggers): found on tokens, so statements the parser cannot read are covered too.
    let dialect = sqlparser::dialect::MySqlDialect {};
    let tokens = match sqlparser::tokenizer::Tokenizer::new(&dialect, &stmt.sql).tokenize() {
        Ok(tokens) => tokens,
        Err(_) => return Some("the statement cannot be tokenized, so it cannot be proven to stay in the scratch database".into()),
    };
    let significant: Vec<&sqlparser::tokenizer::Token> =
        tokens.iter().filter(|t| !matches!(t, sqlparser::tokenizer::Token::Whitespace(_))).collect();
    for window in significant.windows(2) {
        if let (sqlparser::tokenizer::Token::Word(w), sqlparser::tokenizer::Token::Period) = (window[0], window[1]) {
            if other_databases.iter().any(|d| *d == w.value.to_ascii_lowercase()) {
                return Some(format!("it names database {}; the sandbox only runs statements on the scratch copy", w.value));
            }
        }
    }
    None
}

/// `ALTER TABLE` statements whose algorithm is worth probing (none given explicitly).
fn probe_algorithm(stmt: &ParsedStatement) -> bool {
    match stmt.statement() {
        Some(Statement::AlterTable(alter)) => {
            !alter.operations.iter().any(|op| matches!(op, AlterTableOperation::Algorithm { .. } | AlterTableOperation::Lock { .. }))
        }
        _ => false,
    }
}

#[async_trait]
impl Sandbox for MysqlSandbox {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn description(&self) -> String {
        self.description.clone()
    }

    async fn execute(&mut self, stmt: &ParsedStatement) -> std::result::Result<Execution, StatementError> {
        if let Some(reason) = refusal(stmt, &self.other_databases) {
            return Err(StatementError::refused(format!("refused in the sandbox: {reason}")));
        }
        let mut execution = Execution::default();
        let conn = self.conn();
        if probe_algorithm(stmt) {
            // Ask the server for the cheapest algorithm first; an unsupported one fails
            // before changing anything, so the next attempt starts from the same state.
            for (algorithm, clause) in
                [(AlterAlgorithm::Instant, ", ALGORITHM=INSTANT"), (AlterAlgorithm::Inplace, ", ALGORITHM=INPLACE, LOCK=NONE")]
            {
                if sqlx::query(sqlx::AssertSqlSafe(format!("{}{clause}", stmt.sql))).persistent(false).execute(&mut *conn).await.is_ok() {
                    execution.algorithm = Some(algorithm);
                    return Ok(execution);
                }
            }
            execution.algorithm = Some(AlterAlgorithm::Copy);
        }
        match sqlx::query(sqlx::AssertSqlSafe(&*stmt.sql)).persistent(false).execute(&mut *conn).await {
            Ok(_) => Ok(execution),
            Err(e) => {
                Err(StatementError { message: db_message(&e), on_existing_data: on_existing_data(error_number(&e)), violation: None })
            }
        }
    }

    async fn introspect(&mut self) -> Result<SchemaSnapshot> {
        introspect(self.conn(), None).await
    }

    async fn query(&mut self, sql: &str, max_rows: usize) -> Result<QueryResult> {
        query(self.conn(), sql, max_rows).await
    }

    async fn explain(&mut self, sql: &str) -> Result<crate::model::Plan> {
        super::explain::check_explainable(sql, Dialect::Mysql, false)?;
        let body = explainable_body(sql);
        let text = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("EXPLAIN FORMAT=JSON {body}")))
            .fetch_one(self.conn())
            .await
            .map_err(|e| Error::InvalidInput(format!("explain failed: {}", db_message(&e))))?;
        let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Internal(format!("MySQL plan is not JSON: {e}")))?;
        super::explain::mysql_plan(raw, false)
    }

    fn sampled_tables(&self) -> Vec<String> {
        self.sampled.clone()
    }

    async fn close(mut self: Box<Self>) -> Result<()> {
        if let Some(conn) = self.conn.take() {
            conn.close().await.ok();
        }
        if let Some(mut admin) = self.admin.take() {
            let dropped =
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {}", Dialect::Mysql.quote_ident(&self.scratch))))
                    .execute(&mut admin)
                    .await;
            admin.close().await.ok();
            if dropped.is_ok() {
                forget_scratch(&self.scratch);
            }
            dropped.map_err(|e| Error::Sandbox(format!("cannot drop scratch database {}: {}", self.scratch, db_message(&e))))?;
        }
        Ok(())
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

/// (table, constraint, column, referenced table, referenced column) from KEY_COLUMN_USAGE.
type KeyColumn = (String, String, String, Option<String>, Option<String>);

/// The current database's schema from information_schema into the normalized model.
/// The tables and views of one database: `schema`, or the connection's.
async fn introspect(conn: &mut MySqlConnection, schema: Option<&str>) -> Result<SchemaSnapshot> {
    let mariadb = is_mariadb(conn).await.map_err(internal)?;
    let mut snapshot = SchemaSnapshot::default();
    let tables: Vec<(String, String, Option<u64>)> = sqlx::query_as(
        "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for (name, kind, rows) in tables {
        if kind == "VIEW" {
            snapshot.views.push(name);
        } else {
            snapshot.tables.insert(name.clone(), Table { name, row_estimate: rows, ..Default::default() });
        }
    }
    let columns: Vec<(String, String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for (table, name, data_type, nullable, default, extra) in columns {
        let Some(t) = snapshot.tables.get_mut(&table) else { continue };
        // MariaDB reports "no default" on nullable columns as the text NULL.
        let default = default.filter(|d| !(mariadb && d == "NULL"));
        t.columns.push(Column {
            name,
            data_type,
            nullable: nullable == "YES",
            default,
            auto_increment: extra.to_ascii_lowercase().contains("auto_increment"),
        });
    }
    let constraints: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS
         WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, CONSTRAINT_NAME",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let key_columns: Vec<KeyColumn> = sqlx::query_as(
        "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
         FROM information_schema.KEY_COLUMN_USAGE WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let rules: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE())",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    // MariaDB names column-level checks after their column, so the same name can appear in
    // several tables: match on the table too (MySQL 8's view has no TABLE_NAME; its names are
    // unique in a schema).
    let checks: Vec<(Option<String>, String, String)> = if mariadb {
        sqlx::query_as("SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE())")
            .bind(schema)
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default()
    } else {
        sqlx::query_as("SELECT NULL, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE())")
            .bind(schema)
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default()
    };
    // MariaDB shows TABLE_CONSTRAINTS only to users with more than SELECT; a SELECT-only login
    // (the least-privilege setup we recommend) still sees KEY_COLUMN_USAGE and
    // CHECK_CONSTRAINTS, so the constraints missing from the first are derived from those.
    let mut constraints = constraints;
    let listed = |c: &[(String, String, String)], table: &str, name: &str| c.iter().any(|(t, n, _)| t == table && n == name);
    for k in &key_columns {
        if !listed(&constraints, &k.0, &k.1) {
            let kind = if k.1 == "PRIMARY" {
                "PRIMARY KEY"
            } else if k.3.is_some() {
                "FOREIGN KEY"
            } else {
                "UNIQUE"
            };
            constraints.push((k.0.clone(), k.1.clone(), kind.to_string()));
        }
    }
    for (table, name, _) in &checks {
        if let Some(table) = table {
            if !listed(&constraints, table, name) {
                constraints.push((table.clone(), name.clone(), "CHECK".to_string()));
            }
        }
    }
    constraints.sort();
    let action = |a: &str| (a != "NO ACTION" && a != "RESTRICT").then(|| a.to_string());
    for (table, name, kind) in &constraints {
        let Some(t) = snapshot.tables.get_mut(table) else { continue };
        let cols: Vec<&KeyColumn> = key_columns.iter().filter(|k| &k.0 == table && &k.1 == name).collect();
        match kind.as_str() {
            "PRIMARY KEY" => t.primary_key = cols.iter().map(|k| k.2.clone()).collect(),
            "FOREIGN KEY" => {
                let (on_update, on_delete) =
                    rules.iter().find(|r| &r.0 == name).map(|r| (action(&r.1), action(&r.2))).unwrap_or((None, None));
                t.foreign_keys.push(ForeignKey {
                    name: Some(name.clone()),
                    columns: cols.iter().map(|k| k.2.clone()).collect(),
                    referenced_table: cols.first().and_then(|k| k.3.clone()).unwrap_or_default(),
                    referenced_columns: cols.iter().map(|k| k.4.clone().unwrap_or_default()).collect(),
                    on_delete,
                    on_update,
                    // InnoDB enforces foreign keys, but rows loaded with FOREIGN_KEY_CHECKS=0
                    // were never checked: treat existing rows as unverified.
                    enforced: false,
                    deferrable: false,
                });
            }
            "CHECK" => {
                if let Some((_, _, clause)) = checks.iter().find(|c| &c.1 == name && c.0.as_ref().is_none_or(|t| t == table)) {
                    // MariaDB adds json_valid() checks for JSON columns itself.
                    if !(mariadb && clause.starts_with("json_valid(")) {
                        t.check_constraints.push(CheckConstraint { name: Some(name.clone()), expression: clause.clone(), enforced: true });
                    }
                }
            }
            _ => {} // UNIQUE: read from the unique index below
        }
    }
    let statistics: Vec<(String, String, i64, Option<String>, String)> = sqlx::query_as(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, INDEX_TYPE FROM information_schema.STATISTICS
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for (table, index, non_unique, column, method) in statistics {
        let Some(t) = snapshot.tables.get_mut(&table) else { continue };
        let fk_backing = t.foreign_keys.iter().any(|f| f.name.as_deref() == Some(index.as_str()));
        let column = column.unwrap_or_else(|| "<expression>".into());
        match t.indexes.iter_mut().find(|i| i.name == index) {
            Some(existing) => existing.columns.push(column),
            None => t.indexes.push(Index {
                name: index.clone(),
                columns: vec![column],
                unique: non_unique == 0,
                predicate: None,
                method: Some(method.to_ascii_lowercase()),
                implicit: index == "PRIMARY" || fk_backing,
            }),
        }
    }
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_values_from_server_messages() {
        assert_eq!(scrub_values("Duplicate entry 'ann@example.com' for key 'ux_email'"), "Duplicate entry '<masked>' for key 'ux_email'");
        assert_eq!(
            scrub_values("Incorrect integer value: 'abc' for column `x`.`t`.`n` at row 1"),
            "Incorrect integer value: '<masked>' for column `x`.`t`.`n` at row 1"
        );
        assert_eq!(scrub_values("Table 't' already exists"), "Table 't' already exists");
    }

    #[test]
    fn views_lose_database_and_definer() {
        let ddl = "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select `shop`.`orders`.`id` AS `id` from `shop`.`orders`";
        assert_eq!(
            portable_view(ddl, "shop"),
            "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select `orders`.`id` AS `id` from `orders`"
        );
    }
}
